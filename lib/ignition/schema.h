/* SPDX-License-Identifier: MIT */
/* lib/ignition/schema.h - private: field tables of every spec version, shared by lib/ignition. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct problem_list;
struct fjson_path;

/* Version masks: bit 0..4 = 2.0..2.4, bit 5..11 = 3.0..3.6. */
#define VBIT(v) ((v) >= 30 ? 1u << (5 + (v) - 30) : 1u << ((v) - 20))
#define V2 0x1fu
#define V3 (0x7fu << 5)
#define V2F(n) (V2 & ~((1u << (n)) - 1))
#define V3F(n) (V3 & ~((1u << (5 + (n))) - 1))
#define VALL (V2 | V3)

enum field_kind {
	FK_STR,
	FK_INT,
	FK_BOOL,
	FK_OBJ,
	FK_ARR_STR,
	FK_ARR_OBJ,
};

struct schema;

struct field {
	const char *name;
	enum field_kind kind;
	const struct schema *sub;
	uint32_t versions;
};

struct schema {
	const char *name;
	const struct field *fields;
};

extern const struct schema schema_root;

/* Type-check raw against the schema of `version`, report wrong types (errors) and unknown keys
 * (warnings, with hints), and make it canonical in place (exact key spelling, no nulls, no
 * unknown keys, no values of the wrong type); *ret is raw with a new reference. Problems are
 * reported at pointers under path (the keys as written). Returns 0, -EINVAL or -ENOMEM. */
int schema_normalize(json_t *raw, int version, struct fjson_path *path, json_t **ret,
		     struct problem_list *reterr);

/* A problem at path + "/" + key (key may be NULL) with an optional hint and JSON value. */
int report(struct problem_list *l, int sev, struct fjson_path *path, const char *key,
	   const json_t *value, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Helpers over the canonical document. */
const char *jstr(json_t *o, const char *key);      /* NULL when unset */
bool jbool(json_t *o, const char *key, bool dflt);
bool jint(json_t *o, const char *key, long long *ret);
