/* SPDX-License-Identifier: MIT */
/* lib/ignition/schema.c - the fields of every spec version and the type-checking walk.
 *
 * One table describes 2.0-2.4 and 3.0-3.6 together: each field carries the set of versions
 * that have it (a field whose type changed, like 2.x `append: bool` against 3.x `append: []`,
 * appears twice). The walk mirrors Go's encoding/json as Ignition uses it: keys match fields
 * case-insensitively (the last matching key wins), null leaves a field unset, a wrong type is
 * an error, and a key no field takes is an unknown-key warning, with a hint when the key
 * belongs to another version or is a likely typo. Sources: config/v3_N/schema/ignition.json and
 * config/v3_N/types (coreos/ignition), schema/ignition.json (flatcar/ignition, spec 2.x). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json/fjson.h"
#include "schema.h"
#include "util/problem.h"

#define F(n, k, s, v) { n, k, s, v }
#define END { NULL, 0, NULL, 0 }

static const struct schema s_verification = { "verification", (const struct field[]){
	F("hash", FK_STR, NULL, VALL), END } };
static const struct schema s_header = { "httpHeader", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("value", FK_STR, NULL, VALL), END } };
/* file contents and append entries */
static const struct schema s_res_file = { "resource", (const struct field[]){
	F("compression", FK_STR, NULL, VALL), F("source", FK_STR, NULL, VALL),
	F("httpHeaders", FK_ARR_OBJ, &s_header, V2F(2) | V3F(1)),
	F("verification", FK_OBJ, &s_verification, VALL), END } };
/* config merge/replace, CAs, LUKS key files */
static const struct schema s_res_ref = { "resource", (const struct field[]){
	F("source", FK_STR, NULL, VALL), F("compression", FK_STR, NULL, V3F(1)),
	F("httpHeaders", FK_ARR_OBJ, &s_header, V2F(2) | V3F(1)),
	F("verification", FK_OBJ, &s_verification, VALL), END } };

static const struct schema s_config = { "config", (const struct field[]){
	F("merge", FK_ARR_OBJ, &s_res_ref, V3), F("append", FK_ARR_OBJ, &s_res_ref, V2),
	F("replace", FK_OBJ, &s_res_ref, VALL), END } };
static const struct schema s_timeouts = { "timeouts", (const struct field[]){
	F("httpResponseHeaders", FK_INT, NULL, VALL), F("httpTotal", FK_INT, NULL, VALL), END } };
static const struct schema s_tls = { "tls", (const struct field[]){
	F("certificateAuthorities", FK_ARR_OBJ, &s_res_ref, VALL), END } };
static const struct schema s_security = { "security", (const struct field[]){
	F("tls", FK_OBJ, &s_tls, VALL), END } };
static const struct schema s_proxy = { "proxy", (const struct field[]){
	F("httpProxy", FK_STR, NULL, VALL), F("httpsProxy", FK_STR, NULL, VALL),
	F("noProxy", FK_ARR_STR, NULL, VALL), END } };
static const struct schema s_ignition = { "ignition", (const struct field[]){
	F("version", FK_STR, NULL, VALL), F("config", FK_OBJ, &s_config, VALL),
	F("timeouts", FK_OBJ, &s_timeouts, VALL), F("security", FK_OBJ, &s_security, V2F(1) | V3),
	F("proxy", FK_OBJ, &s_proxy, V2F(1) | V3F(1)), END } };

static const struct schema s_partition = { "partition", (const struct field[]){
	F("label", FK_STR, NULL, VALL), F("number", FK_INT, NULL, VALL),
	F("size", FK_INT, NULL, V2), F("start", FK_INT, NULL, V2),
	F("sizeMiB", FK_INT, NULL, V2F(3) | V3), F("startMiB", FK_INT, NULL, V2F(3) | V3),
	F("typeGuid", FK_STR, NULL, VALL), F("guid", FK_STR, NULL, V2F(1) | V3),
	F("wipePartitionEntry", FK_BOOL, NULL, V2F(3) | V3),
	F("shouldExist", FK_BOOL, NULL, V2F(3) | V3), F("resize", FK_BOOL, NULL, V3F(2)), END } };
static const struct schema s_disk = { "disk", (const struct field[]){
	F("device", FK_STR, NULL, VALL), F("wipeTable", FK_BOOL, NULL, VALL),
	F("partitions", FK_ARR_OBJ, &s_partition, VALL), END } };
static const struct schema s_raid = { "raid", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("level", FK_STR, NULL, VALL),
	F("devices", FK_ARR_STR, NULL, VALL), F("spares", FK_INT, NULL, VALL),
	F("options", FK_ARR_STR, NULL, VALL), END } };
static const struct schema s_tang = { "tang", (const struct field[]){
	F("url", FK_STR, NULL, V3), F("thumbprint", FK_STR, NULL, V3),
	F("advertisement", FK_STR, NULL, V3F(4)), END } };
static const struct schema s_custom = { "custom", (const struct field[]){
	F("pin", FK_STR, NULL, V3), F("config", FK_STR, NULL, V3),
	F("needsNetwork", FK_BOOL, NULL, V3), END } };
static const struct schema s_clevis = { "clevis", (const struct field[]){
	F("custom", FK_OBJ, &s_custom, V3), F("tpm2", FK_BOOL, NULL, V3),
	F("tang", FK_ARR_OBJ, &s_tang, V3), F("threshold", FK_INT, NULL, V3), END } };
static const struct schema s_cex = { "cex", (const struct field[]){
	F("enabled", FK_BOOL, NULL, V3), END } };
static const struct schema s_luks = { "luks", (const struct field[]){
	F("name", FK_STR, NULL, V3), F("label", FK_STR, NULL, V3), F("uuid", FK_STR, NULL, V3),
	F("device", FK_STR, NULL, V3), F("keyFile", FK_OBJ, &s_res_ref, V3),
	F("wipeVolume", FK_BOOL, NULL, V3), F("clevis", FK_OBJ, &s_clevis, V3),
	F("cex", FK_OBJ, &s_cex, V3F(5)), F("options", FK_ARR_STR, NULL, V3),
	F("discard", FK_BOOL, NULL, V3F(4)), F("openOptions", FK_ARR_STR, NULL, V3F(4)), END } };
static const struct schema s_create2 = { "create", (const struct field[]){
	F("force", FK_BOOL, NULL, V2), F("options", FK_ARR_STR, NULL, V2), END } };
static const struct schema s_mount2 = { "mount", (const struct field[]){
	F("device", FK_STR, NULL, V2), F("format", FK_STR, NULL, V2),
	F("options", FK_ARR_STR, NULL, V2F(1)), F("wipeFilesystem", FK_BOOL, NULL, V2F(1)),
	F("label", FK_STR, NULL, V2F(1)), F("uuid", FK_STR, NULL, V2F(1)),
	F("create", FK_OBJ, &s_create2, V2), END } };
static const struct schema s_filesystem = { "filesystem", (const struct field[]){
	F("name", FK_STR, NULL, V2), F("mount", FK_OBJ, &s_mount2, V2),
	F("path", FK_STR, NULL, VALL), F("device", FK_STR, NULL, V3),
	F("format", FK_STR, NULL, V3), F("options", FK_ARR_STR, NULL, V3),
	F("mountOptions", FK_ARR_STR, NULL, V3F(1)), F("wipeFilesystem", FK_BOOL, NULL, V3),
	F("label", FK_STR, NULL, V3), F("uuid", FK_STR, NULL, V3), END } };
static const struct schema s_owner = { "owner", (const struct field[]){
	F("id", FK_INT, NULL, VALL), F("name", FK_STR, NULL, V2F(1) | V3), END } };
#define NODE_FIELDS                                                                         \
	F("filesystem", FK_STR, NULL, V2), F("path", FK_STR, NULL, VALL),                  \
	F("overwrite", FK_BOOL, NULL, V2F(2) | V3), F("user", FK_OBJ, &s_owner, VALL),     \
	F("group", FK_OBJ, &s_owner, VALL)
static const struct schema s_file = { "file", (const struct field[]){
	NODE_FIELDS, F("mode", FK_INT, NULL, VALL), F("contents", FK_OBJ, &s_res_file, VALL),
	F("append", FK_BOOL, NULL, V2F(2)), F("append", FK_ARR_OBJ, &s_res_file, V3), END } };
static const struct schema s_directory = { "directory", (const struct field[]){
	NODE_FIELDS, F("mode", FK_INT, NULL, VALL), END } };
static const struct schema s_link = { "link", (const struct field[]){
	NODE_FIELDS, F("target", FK_STR, NULL, VALL), F("hard", FK_BOOL, NULL, VALL), END } };
static const struct schema s_storage = { "storage", (const struct field[]){
	F("disks", FK_ARR_OBJ, &s_disk, VALL), F("raid", FK_ARR_OBJ, &s_raid, VALL),
	F("luks", FK_ARR_OBJ, &s_luks, V3F(2)),
	F("filesystems", FK_ARR_OBJ, &s_filesystem, VALL),
	F("files", FK_ARR_OBJ, &s_file, VALL),
	F("directories", FK_ARR_OBJ, &s_directory, V2F(1) | V3),
	F("links", FK_ARR_OBJ, &s_link, V2F(1) | V3), END } };

static const struct schema s_dropin = { "dropin", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("contents", FK_STR, NULL, VALL), END } };
static const struct schema s_unit = { "unit", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("enable", FK_BOOL, NULL, V2),
	F("enabled", FK_BOOL, NULL, VALL), F("mask", FK_BOOL, NULL, VALL),
	F("contents", FK_STR, NULL, VALL), F("dropins", FK_ARR_OBJ, &s_dropin, VALL), END } };
static const struct schema s_systemd = { "systemd", (const struct field[]){
	F("units", FK_ARR_OBJ, &s_unit, VALL), END } };
static const struct schema s_nunit = { "networkdUnit", (const struct field[]){
	F("name", FK_STR, NULL, V2), F("contents", FK_STR, NULL, V2),
	F("dropins", FK_ARR_OBJ, &s_dropin, V2F(2)), END } };
static const struct schema s_networkd = { "networkd", (const struct field[]){
	F("units", FK_ARR_OBJ, &s_nunit, V2), END } };

static const struct schema s_usercreate = { "create", (const struct field[]){
	F("uid", FK_INT, NULL, V2), F("gecos", FK_STR, NULL, V2), F("homeDir", FK_STR, NULL, V2),
	F("noCreateHome", FK_BOOL, NULL, V2), F("primaryGroup", FK_STR, NULL, V2),
	F("groups", FK_ARR_STR, NULL, V2), F("noUserGroup", FK_BOOL, NULL, V2),
	F("system", FK_BOOL, NULL, V2), F("noLogInit", FK_BOOL, NULL, V2),
	F("shell", FK_STR, NULL, V2), END } };
static const struct schema s_user = { "user", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("passwordHash", FK_STR, NULL, VALL),
	F("sshAuthorizedKeys", FK_ARR_STR, NULL, VALL), F("uid", FK_INT, NULL, VALL),
	F("gecos", FK_STR, NULL, VALL), F("homeDir", FK_STR, NULL, VALL),
	F("noCreateHome", FK_BOOL, NULL, VALL), F("primaryGroup", FK_STR, NULL, VALL),
	F("groups", FK_ARR_STR, NULL, VALL), F("noUserGroup", FK_BOOL, NULL, VALL),
	F("system", FK_BOOL, NULL, VALL), F("noLogInit", FK_BOOL, NULL, VALL),
	F("shell", FK_STR, NULL, VALL), F("shouldExist", FK_BOOL, NULL, V3F(2)),
	F("create", FK_OBJ, &s_usercreate, V2), END } };
static const struct schema s_group = { "group", (const struct field[]){
	F("name", FK_STR, NULL, VALL), F("gid", FK_INT, NULL, VALL),
	F("passwordHash", FK_STR, NULL, VALL), F("system", FK_BOOL, NULL, VALL),
	F("shouldExist", FK_BOOL, NULL, V3F(2)), END } };
static const struct schema s_passwd = { "passwd", (const struct field[]){
	F("users", FK_ARR_OBJ, &s_user, VALL), F("groups", FK_ARR_OBJ, &s_group, VALL), END } };
static const struct schema s_kargs = { "kernelArguments", (const struct field[]){
	F("shouldExist", FK_ARR_STR, NULL, V3F(3)), F("shouldNotExist", FK_ARR_STR, NULL, V3F(3)),
	END } };

const struct schema schema_root = { "config", (const struct field[]){
	F("ignition", FK_OBJ, &s_ignition, VALL), F("storage", FK_OBJ, &s_storage, VALL),
	F("systemd", FK_OBJ, &s_systemd, VALL), F("networkd", FK_OBJ, &s_networkd, V2),
	F("passwd", FK_OBJ, &s_passwd, VALL), F("kernelArguments", FK_OBJ, &s_kargs, V3F(3)),
	END } };

/* --- helpers ------------------------------------------------------------------------------- */

int report(struct problem_list *l, int sev, struct fjson_path *path, const char *key,
	   const json_t *value, const char *hint, const char *fmt, ...)
{
	size_t old = path->len;
	va_list ap;
	int r;

	if (!l)
		return sev == PROBLEM_ERROR ? -EINVAL : 0;
	if (key)
		old = fjson_path_push_key(path, key);
	va_start(ap, fmt);
	r = problem_addv(l, (enum problem_severity)sev, -EINVAL, fjson_path_str(path), 0, 0, hint,
			 fmt, ap);
	va_end(ap);
	if (key)
		fjson_path_pop(path, old);
	if (value) {
		char *t = fjson_dump_value(value);
		if (t)
			(void)problem_set_value(l, t);
		free(t);
	}
	return r;
}

const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

bool jbool(json_t *o, const char *key, bool dflt)
{
	json_t *v = json_object_get(o, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

bool jint(json_t *o, const char *key, long long *ret)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

static const char *kind_name(enum field_kind k)
{
	switch (k) {
	case FK_STR: return "string";
	case FK_INT: return "integer";
	case FK_BOOL: return "boolean";
	case FK_OBJ: return "object";
	default: return "array";
	}
}

static const char *json_kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number with a fraction or exponent";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char ca = a[i - 1] | 0x20, cb = b[j - 1] | 0x20;
			size_t d = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			cur[j] = d;
		}
		memcpy(prev, cur, sizeof(size_t) * (lb + 1));
	}
	return prev[lb];
}

static const char *version_text(uint32_t mask, int *ret_v)
{
	static const char *const names[] = { "2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0",
					     "3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0",
					     "3.5.0", "3.6.0" };
	for (int b = 0; b < 12; b++)
		if (mask & (1u << b)) {
			*ret_v = b < 5 ? 20 + b : 30 + b - 5;
			return names[b];
		}
	return NULL;
}

static void unknown_key(struct problem_list *l, struct fjson_path *path, const struct schema *s,
			const char *key, int version)
{
	uint32_t vb = VBIT(version);
	char hint[160] = "";
	size_t best = 99;
	const char *best_name = NULL;

	for (const struct field *f = s->fields; f->name; f++) {
		if (strcmp(f->name, key) != 0)
			continue;
		int v;
		/* a field of a later version of the same family, or of the other family */
		uint32_t family = version >= 30 ? V3 : V2;
		uint32_t later = f->versions & family & ~((vb << 1) - 1);
		const char *vt = version_text(later, &v);
		if (vt)
			snprintf(hint, sizeof(hint), "requires spec %s", vt);
		else if (f->versions & (version >= 30 ? V2 : V3))
			snprintf(hint, sizeof(hint), "a spec %s field", version >= 30 ? "2.x" : "3.x");
	}
	if (!hint[0]) {
		for (const struct field *f = s->fields; f->name; f++) {
			if (!(f->versions & vb))
				continue;
			size_t d = edit_distance(key, f->name);
			if (d < best) {
				best = d;
				best_name = f->name;
			}
		}
		if (best_name && best <= (strlen(key) > 4 ? 2u : 1u))
			snprintf(hint, sizeof(hint), "did you mean \"%s\"?", best_name);
	}
	(void)report(l, PROBLEM_WARNING, path, key, NULL, hint[0] ? hint : NULL,
		     "unknown key \"%s\"", key);
}

static int walk(json_t *obj, const struct schema *s, int version, struct fjson_path *path,
		struct problem_list *l);

/* Check v against f. Returns 0, -EINVAL (reported; *drop tells the caller to remove v) or
 * -ENOMEM. Objects and arrays are normalized in place. */
static int convert(json_t *v, const struct field *f, int version, struct fjson_path *path,
		   bool *drop, struct problem_list *l)
{
	int r = 0;

	*drop = false;
	switch (f->kind) {
	case FK_STR:
		if (!json_is_string(v))
			goto wrong;
		return 0;
	case FK_INT:
		if (!json_is_integer(v)) {
			*drop = true;
			if (json_is_string(v) && strcmp(f->name, "mode") == 0)
				return report(l, PROBLEM_ERROR, path, NULL, v,
					      "modes are decimal in JSON: 0644 is 420",
					      "expected integer, got string");
			goto wrong;
		}
		return 0;
	case FK_BOOL:
		if (!json_is_boolean(v))
			goto wrong;
		return 0;
	case FK_OBJ:
		if (!json_is_object(v))
			goto wrong;
		return walk(v, f->sub, version, path, l);
	case FK_ARR_STR:
	case FK_ARR_OBJ: {
		size_t i;
		json_t *e;
		if (!json_is_array(v))
			goto wrong;
		json_array_foreach(v, i, e) {
			size_t old = fjson_path_push_index(path, i);
			int k = 0;
			if (json_is_null(e)) {
				/* Go decodes null into the zero value */
				k = json_array_set_new(v, i, f->kind == FK_ARR_STR ? json_string("")
										   : json_object());
				if (k < 0) {
					fjson_path_pop(path, old);
					return -ENOMEM;
				}
				e = json_array_get(v, i);
			}
			if (f->kind == FK_ARR_STR) {
				if (!json_is_string(e))
					k = report(l, PROBLEM_ERROR, path, NULL, NULL, NULL,
						   "expected string, got %s", json_kind_name(e));
			} else if (!json_is_object(e))
				k = report(l, PROBLEM_ERROR, path, NULL, NULL, NULL,
					   "expected object, got %s", json_kind_name(e));
			else
				k = walk(e, f->sub, version, path, l);
			fjson_path_pop(path, old);
			if (k == -ENOMEM)
				return k;
			if (k < 0)
				r = -EINVAL;
		}
		return r;
	}
	}
wrong:
	*drop = true;
	return report(l, PROBLEM_ERROR, path, NULL, NULL, NULL, "expected %s, got %s",
		      kind_name(f->kind), json_kind_name(v));
}

/* Normalize one object in place: unknown keys and nulls removed (with warnings for unknown
 * keys), keys matched case-insensitively renamed to the field's spelling (the last matching
 * key in document order wins, as in Go), values type-checked. */
static int walk(json_t *obj, const struct schema *s, int version, struct fjson_path *path,
		struct problem_list *l)
{
	uint32_t vb = VBIT(version);
	const char *key;
	json_t *v;
	void *tmp;
	int r = 0;
	bool renamed = false;

	/* pass 1: unknown keys, nulls, case mismatches */
	json_object_foreach_safe(obj, tmp, key, v) {
		const struct field *f = NULL;
		for (const struct field *c = s->fields; c->name; c++)
			if ((c->versions & vb) && strcmp(c->name, key) == 0) {
				f = c;
				break;
			}
		if (!f) {
			for (const struct field *c = s->fields; c->name; c++)
				if ((c->versions & vb) && strcasecmp(c->name, key) == 0)
					f = c;
			if (f) {
				char hint[128];
				snprintf(hint, sizeof(hint), "did you mean \"%s\"?", f->name);
				(void)report(l, PROBLEM_WARNING, path, key, NULL, hint,
					     "unknown key \"%s\" (used as \"%s\": keys match "
					     "case-insensitively)", key, f->name);
				renamed = true;
				continue;
			}
			unknown_key(l, path, s, key, version);
			(void)json_object_del(obj, key);
			continue;
		}
	}
	if (renamed) {
		/* the last key (document order) matching each field wins */
		json_auto_t *winner = json_object();
		if (!winner)
			return -ENOMEM;
		json_object_foreach(obj, key, v)
			for (const struct field *c = s->fields; c->name; c++)
				if ((c->versions & vb) && strcasecmp(c->name, key) == 0)
					(void)json_object_set(winner, c->name, v);
		json_object_foreach_safe(obj, tmp, key, v) {
			for (const struct field *c = s->fields; c->name; c++)
				if ((c->versions & vb) && strcasecmp(c->name, key) == 0 &&
				    strcmp(c->name, key) != 0) {
					(void)json_object_del(obj, key);
					break;
				}
		}
		json_object_foreach(winner, key, v)
			if (json_object_set(obj, key, v) < 0)
				return -ENOMEM;
	}
	/* pass 2: types */
	json_object_foreach_safe(obj, tmp, key, v) {
		const struct field *f = NULL;
		for (const struct field *c = s->fields; c->name; c++)
			if ((c->versions & vb) && strcmp(c->name, key) == 0) {
				f = c;
				break;
			}
		if (!f)
			continue;
		if (json_is_null(v)) {
			(void)json_object_del(obj, key);
			continue;
		}
		bool drop = false;
		size_t old = fjson_path_push_key(path, key);
		int k = convert(v, f, version, path, &drop, l);
		fjson_path_pop(path, old);
		if (k == -ENOMEM)
			return k;
		if (k < 0)
			r = -EINVAL;
		if (drop)
			(void)json_object_del(obj, key);
	}
	return r;
}

int schema_normalize(json_t *raw, int version, struct fjson_path *path, json_t **ret,
		     struct problem_list *reterr)
{
	int r = walk(raw, &schema_root, version, path, reterr);
	*ret = json_incref(raw);
	return r;
}
