/* SPDX-License-Identifier: MIT */
/* include/json/fjson.h - jansson helpers: strict parsing with positions, JSON pointers, paths. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct problem_list;

/* Parse one JSON document (object or array; UTF-8, no BOM, nothing after it) of len bytes.
 * Syntax errors are one problem at "" with line and column; duplicate keys are warnings at
 * the later key (the last one wins, as in Go's encoding/json). Sets *ret on success.
 * Returns 0, -EBADMSG (not JSON) or -ENOMEM. */
int fjson_parse(const char *buf, size_t len, json_t **ret, struct problem_list *reterr);

/* Where each of n JSON pointers starts in buf (an object member: its key). A pointer that
 * does not exist takes the position of its nearest existing ancestor. Keys are compared
 * ASCII-case-insensitively (Ignition matches keys that way). lines/cols are set to 0 where
 * nothing matched. buf must be valid JSON (fjson_parse accepted it). */
int fjson_locate(const char *buf, size_t len, const char *const *ptrs, size_t n, unsigned *lines,
		 unsigned *cols);

/* A growing JSON pointer ("/storage/files/2/path"). Push returns the previous length; pass it
 * to fjson_path_pop to go back. On allocation failure the path is marked and stays "". */
struct fjson_path {
	char *buf;
	size_t len, cap;
	bool oom;
};
size_t fjson_path_push_key(struct fjson_path *p, const char *key);
size_t fjson_path_push_index(struct fjson_path *p, size_t i);
void fjson_path_pop(struct fjson_path *p, size_t len);
static inline const char *fjson_path_str(const struct fjson_path *p)
{
	return p->buf && !p->oom ? p->buf : "";
}
void fjson_path_release(struct fjson_path *p);

/* The value at a JSON pointer, or NULL. Borrowed reference. */
json_t *fjson_pointer_get(json_t *root, const char *ptr);

/* JSON pointer -> "$.storage.files[2].path", choosing "[i]" where doc has an array on the way
 * (doc may be NULL: numeric segments are then shown as indices). Returns NULL on ENOMEM. */
char *fjson_pointer_to_display(json_t *doc, const char *ptr);

/* Object member by key, compared ASCII-case-insensitively when no exact match exists. */
json_t *fjson_object_get_ci(json_t *obj, const char *key);

/* Serialize any value compactly (strings quoted). NULL on ENOMEM. */
char *fjson_dump_value(const json_t *v);
