/* SPDX-License-Identifier: MIT */
/* lib/ignition/merge.c - Ignition's merge rules over two documents in the newest 3.x structure
 * (provision.md section 3 "Rendering"; coreos/ignition config/merge).
 *
 * Objects merge field by field, child scalars winning. A list is either keyed (entries with the
 * same identity merge in place, new child entries are appended in child order), or concatenated
 * (append fragments, mkfs/mount/raid/luks options). Files, directories and links share one key
 * space: a child entry replaces a parent entry of another kind at the same path. A child HTTP
 * header without a value deletes the parent's header of that name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "schema.h"

enum list_kind { L_KEY_FIELD, L_KEY_VALUE, L_CONCAT, L_PARTITION };

struct list_rule {
	const char *path; /* dotted, without indices */
	enum list_kind kind;
	const char *key;
};

static const struct list_rule rules[] = {
	{ "ignition.config.merge", L_KEY_FIELD, "source" },
	{ "ignition.security.tls.certificateAuthorities", L_KEY_FIELD, "source" },
	{ "ignition.proxy.noProxy", L_KEY_VALUE, NULL },
	{ "storage.disks", L_KEY_FIELD, "device" },
	{ "storage.disks.partitions", L_PARTITION, NULL },
	{ "storage.raid", L_KEY_FIELD, "name" },
	{ "storage.raid.devices", L_KEY_VALUE, NULL },
	{ "storage.raid.options", L_CONCAT, NULL },
	{ "storage.luks", L_KEY_FIELD, "name" },
	{ "storage.luks.options", L_CONCAT, NULL },
	{ "storage.luks.openOptions", L_CONCAT, NULL },
	{ "storage.luks.clevis.tang", L_KEY_FIELD, "url" },
	{ "storage.filesystems", L_KEY_FIELD, "device" },
	{ "storage.filesystems.options", L_CONCAT, NULL },
	{ "storage.filesystems.mountOptions", L_CONCAT, NULL },
	{ "storage.files", L_KEY_FIELD, "path" },
	{ "storage.directories", L_KEY_FIELD, "path" },
	{ "storage.links", L_KEY_FIELD, "path" },
	{ "storage.files.append", L_CONCAT, NULL },
	{ "systemd.units", L_KEY_FIELD, "name" },
	{ "systemd.units.dropins", L_KEY_FIELD, "name" },
	{ "passwd.users", L_KEY_FIELD, "name" },
	{ "passwd.users.sshAuthorizedKeys", L_KEY_VALUE, NULL },
	{ "passwd.users.groups", L_KEY_VALUE, NULL },
	{ "passwd.groups", L_KEY_FIELD, "name" },
	{ "kernelArguments.shouldExist", L_KEY_VALUE, NULL },
	{ "kernelArguments.shouldNotExist", L_KEY_VALUE, NULL },
};

static const struct list_rule *rule_for(const char *path)
{
	const char *tail = strrchr(path, '.');
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!strcmp(rules[i].path, path))
			return &rules[i];
	/* httpHeaders of any resource */
	if (tail && !strcmp(tail + 1, "httpHeaders")) {
		static const struct list_rule h = { "", L_KEY_FIELD, "name" };
		return &h;
	}
	return NULL;
}

static json_t *merge_value(json_t *p, json_t *c, const char *path);

/* The identity of a list entry as a string; NULL if it has none (then it is appended). */
static char *entry_key(const struct list_rule *r, json_t *e)
{
	char *k = NULL;
	switch (r->kind) {
	case L_KEY_VALUE:
		if (json_is_string(e))
			k = strdup(json_string_value(e));
		break;
	case L_KEY_FIELD:
		if (jstr(e, r->key))
			k = strdup(jstr(e, r->key));
		break;
	case L_PARTITION: {
		long long n = 0;
		if (jint(e, "number", &n) && n != 0) {
			if (asprintf(&k, "#%lld", n) < 0)
				k = NULL;
		} else if (jstr(e, "label") && asprintf(&k, "L%s", jstr(e, "label")) < 0)
			k = NULL;
		break;
	}
	case L_CONCAT:
		break;
	}
	return k;
}

static json_t *merge_list(json_t *p, json_t *c, const char *path)
{
	const struct list_rule *r = rule_for(path);
	json_t *out = json_array();
	size_t i;
	json_t *e;

	if (!out)
		return NULL;
	if (!r || r->kind == L_CONCAT) {
		json_array_foreach(p, i, e)
			(void)json_array_append(out, e);
		json_array_foreach(c, i, e)
			(void)json_array_append(out, e);
		return out;
	}
	bool headers = r->path[0] == 0;
	json_array_foreach(p, i, e)
		(void)json_array_append(out, e);
	json_array_foreach(c, i, e) {
		_cleanup_free_ char *k = entry_key(r, e);
		bool done = false;
		for (size_t j = 0; k && j < json_array_size(out); j++) {
			_cleanup_free_ char *pk = entry_key(r, json_array_get(out, j));
			if (!pk || strcmp(pk, k))
				continue;
			if (headers && !jstr(e, "value")) {
				(void)json_array_remove(out, j);
			} else if (r->kind == L_KEY_VALUE) {
				/* the same value: nothing to merge */
			} else {
				json_t *m = merge_value(json_array_get(out, j), e, path);
				if (m)
					(void)json_array_set_new(out, j, m);
			}
			done = true;
			break;
		}
		if (!done && !(headers && !jstr(e, "value")))
			(void)json_array_append(out, e);
	}
	return out;
}

static json_t *merge_value(json_t *p, json_t *c, const char *path)
{
	if (!json_is_object(p) || !json_is_object(c)) {
		if (json_is_array(p) && json_is_array(c))
			return merge_list(p, c, path);
		return json_incref(c);
	}
	json_t *out = json_copy(p);
	const char *k;
	json_t *v;
	if (!out)
		return NULL;
	json_object_foreach(c, k, v) {
		char sub[512];
		json_t *pv = json_object_get(out, k);
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
		json_t *m = pv ? merge_value(pv, v, sub) : json_incref(v);
		if (!m || json_object_set_new(out, k, m) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Files, directories and links share paths: drop parent entries of another kind that the child
 * redefines. */
static void drop_other_kinds(json_t *st, json_t *child_st)
{
	static const char *const kinds[] = { "files", "directories", "links" };
	for (int ck = 0; ck < 3; ck++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(child_st, kinds[ck]), i, e) {
			const char *p = jstr(e, "path");
			if (!p)
				continue;
			for (int pk = 0; pk < 3; pk++) {
				if (pk == ck)
					continue;
				json_t *arr = json_object_get(st, kinds[pk]);
				for (size_t j = 0; j < json_array_size(arr);) {
					const char *q = jstr(json_array_get(arr, j), "path");
					if (q && !strcmp(p, q))
						(void)json_array_remove(arr, j);
					else
						j++;
				}
			}
		}
	}
}

int ign_config_merge(json_t *parent, json_t *child, json_t **ret)
{
	json_auto_t *p = json_deep_copy(parent);
	if (!p)
		return -ENOMEM;
	json_t *pst = json_object_get(p, "storage"), *cst = json_object_get(child, "storage");
	if (pst && cst)
		drop_other_kinds(pst, cst);
	/* kernel arguments: one key space, the child's list wins for a value */
	json_t *pka = json_object_get(p, "kernelArguments"), *cka = json_object_get(child, "kernelArguments");
	if (pka && cka) {
		static const char *const l[] = { "shouldExist", "shouldNotExist" };
		for (int k = 0; k < 2; k++) {
			size_t i;
			json_t *e;
			json_array_foreach(json_object_get(cka, l[k]), i, e) {
				json_t *other = json_object_get(pka, l[1 - k]);
				for (size_t j = 0; j < json_array_size(other);) {
					if (json_equal(json_array_get(other, j), e))
						(void)json_array_remove(other, j);
					else
						j++;
				}
			}
		}
	}
	json_t *m = merge_value(p, child, "");
	if (!m)
		return -ENOMEM;
	*ret = m;
	return 0;
}
