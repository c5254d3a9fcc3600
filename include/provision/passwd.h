/* SPDX-License-Identifier: MIT */
/* include/provision/passwd.h - the root's passwd, shadow, group and gshadow files, parsed and
 * rewritten by flatctl itself (docs/provision.md §5.2): never NSS, never useradd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/cleanup.h"

/* One line. A line with exactly the file's field count and a non-empty first field that does
 * not start with '+', '-' or '#' is an entry (f[] set); any other line is kept as written. */
struct pw_line {
	char *text; /* the line as written (without '\n'), or NULL once the fields changed */
	char **f;   /* fields (NULL for a line kept as written) */
};

struct pw_file {
	struct pw_line *l;
	size_t n, allocated;
	unsigned nfields;   /* passwd 7, shadow 9, group 4, gshadow 4 */
	bool final_newline; /* the text ended in '\n' (or was empty) */
};

/* Parse buf (len bytes; a NUL byte is -EINVAL). Every line is kept: formatting an unchanged
 * file gives back the same bytes. Returns 0, -EINVAL or -ENOMEM. */
int pw_file_parse(const char *buf, size_t len, unsigned nfields, struct pw_file *ret);
void pw_file_release(struct pw_file *f);
/* The file as text (NUL-terminated, *ret_len bytes). NULL on out of memory. */
char *pw_file_format(const struct pw_file *f, size_t *ret_len);

/* Index of the entry named name, or -1. */
long pw_file_find(const struct pw_file *f, const char *name);
/* Append an entry with nfields fields (copied). Returns its index or -ENOMEM. A field may not
 * hold ':' or '\n' (-EINVAL). */
long pw_file_add(struct pw_file *f, const char *const *fields);
/* Set field i of entry idx (copied); -EINVAL for ':' or '\n' in value. */
int pw_file_set(struct pw_file *f, size_t idx, unsigned i, const char *value);
void pw_file_remove(struct pw_file *f, size_t idx);

/* A comma-separated member list (group field 3, gshadow fields 2 and 3): add or remove name.
 * Return 1 when changed, 0 when not, -errno. */
int pw_list_add(struct pw_file *f, size_t idx, unsigned field, const char *name);
int pw_list_remove(struct pw_file *f, size_t idx, unsigned field, const char *name);
bool pw_list_has(const char *list, const char *name);

/* Parse a decimal id field ("" or junk: -EINVAL). */
int pw_parse_id(const char *s, unsigned long *ret);
