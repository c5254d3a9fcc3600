/* SPDX-License-Identifier: MIT */
/* lib/provision/plan.c - the plan: printed items, problems, and where config paths land inside
 * the root, seen through what the plan itself creates (docs/provision.md §6-7). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "internal.h"
#include "util/problem.h"

void plan_item(struct prov_plan *p, char op, const char *kind, const char *path, const char *fmt,
	       ...)
{
	char detail[512] = "", o[2] = { op, 0 };
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (op == '!' && strcmp(kind, "skip") != 0)
		p->failed = true;
	(void)json_array_append_new(p->items,
				    json_pack("{s:s, s:s, s:s, s:s}", "op", o, "kind", kind, "path",
					      path ? path : "", "detail", detail));
}

int plan_fail(struct prov_plan *p, int err, const char *where, const char *path, const char *fmt,
	      ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->failed = true;
	if (path)
		return problem_add(p->l, err, where, "%s: %s", path, msg);
	return problem_add(p->l, err, where, "%s", msg);
}

void prov_target_release(struct prov_target *t)
{
	free(t->canon);
	t->canon = NULL;
}

static const char *resolve_error(int r)
{
	switch (-r) {
	case ELOOP:
		return "too many levels of symbolic links (a symlink loop?)";
	case ENOTDIR:
		return "a parent component is not a directory";
	default:
		return strerror(-r);
	}
}

int plan_resolve(struct prov_plan *p, const char *path, const char *where, struct prov_target *ret)
{
	struct fs_resolved r = {};
	int k = fs_resolve(p->root_fd, path, &r);
	if (k == -ENOMEM)
		return k;
	if (k < 0)
		return plan_fail(p, k, where, path, "%s", resolve_error(k));
	*ret = (struct prov_target){
		.canon = r.canon, .missing = r.missing, .exists = r.exists, .st = r.st
	};
	/* what this plan does wins over what the root has now: a directory it makes counts as
	 * there (and hides what the root had below it, when it replaced something), a node it
	 * removes as gone, and a file or link it makes cannot be a parent */
	size_t len = strlen(ret->canon), start = 0;
	char *c = ret->canon;
	bool below_new = false, gone = false;
	for (size_t i = 0; i <= len; i++) {
		if (c[i] != '/' && c[i] != 0)
			continue;
		bool final = c[i] == 0;
		char saved = c[i];
		c[i] = 0;
		json_t *n = len ? json_object_get(p->nodes, c) : NULL;
		c[i] = saved;
		const char *kind = n ? json_string_value(json_object_get(n, "k")) : NULL;
		if (final) {
			if (kind && kind[0] != NODE_GONE) {
				ret->planned = true;
				ret->exists = true;
				ret->missing = len;
				memset(&ret->st, 0, sizeof(ret->st));
				ret->st.st_mode = kind[0] == NODE_DIR	 ? S_IFDIR | 0755
						  : kind[0] == NODE_LINK ? S_IFLNK | 0777
									 : S_IFREG | 0644;
				json_t *m = json_object_get(n, "mode");
				if (json_is_integer(m))
					ret->st.st_mode = (ret->st.st_mode & S_IFMT) |
							  (mode_t)json_integer_value(m);
			} else if (kind || below_new) {
				ret->exists = false;
				ret->missing = start;
			}
			break;
		}
		if (kind && (kind[0] == NODE_FILE || kind[0] == NODE_LINK)) {
			_cleanup_free_ char *w = strdup(json_string_value(json_object_get(n, "w")));
			prov_target_release(ret);
			return plan_fail(p, -ENOTDIR, where, path,
					 "a parent is a %s this config creates (%s)",
					 kind[0] == NODE_FILE ? "file" : "link", w ? w : "?");
		}
		if (kind && kind[0] == NODE_GONE)
			gone = true;
		else if (kind)
			below_new |= json_is_true(json_object_get(n, "new")) ||
				     json_is_true(json_object_get(n, "mount"));
		else if (below_new || start >= ret->missing)
			gone = true;
		if (gone) {
			ret->exists = false;
			ret->missing = start;
			break;
		}
		start = i + 1;
	}
	return 0;
}

int plan_claim(struct prov_plan *p, const struct prov_target *t, char kind, const char *where,
	       const char *path)
{
	json_t *n = json_object_get(p->nodes, t->canon);
	/* the mount point of a filesystem the plan mounts: a directory entry there sets the
	 * owner and mode of the filesystem's top */
	if (n && json_is_true(json_object_get(n, "mount"))) {
		if (kind == NODE_DIR)
			return 0;
		return plan_fail(p, -EEXIST, where, path,
				 "is the mount point of %s: only a directory can be there",
				 json_string_value(json_object_get(n, "w")));
	}
	if (n && json_string_value(json_object_get(n, "k"))[0] != NODE_GONE)
		return plan_fail(p, -EEXIST, where, path,
				 "resolves to /%s, as does %s: two entries cannot write one place",
				 t->canon, json_string_value(json_object_get(n, "w")));
	char k[2] = { kind, 0 };
	json_t *v = json_pack("{s:s, s:s, s:b}", "k", k, "w", where ? where : path, "new", 1);
	if (!v || json_object_set_new(p->nodes, t->canon, v) < 0)
		return -ENOMEM;
	return 0;
}

int plan_parents(struct prov_plan *p, const struct prov_target *t, const char *where)
{
	size_t len = strlen(t->canon);
	if (t->missing >= len)
		return 0;
	_cleanup_free_ char *c = strdup(t->canon);
	if (!c)
		return -ENOMEM;
	for (size_t i = t->missing; i < len; i++) {
		if (c[i] != '/')
			continue;
		c[i] = 0;
		json_t *n = json_object_get(p->nodes, c);
		if (!n || json_string_value(json_object_get(n, "k"))[0] == NODE_GONE) {
			unsigned sdir;
			char name[24];
			/* the first missing one hangs off an existing directory; the rest off it */
			int r = stage_dir_for(p, c, t->missing, &sdir);
			if (r >= 0)
				r = stage_dir(p, sdir, 0755, 0, 0, name);
			if (r >= 0)
				r = step_place(p, sdir, name, c, where);
			if (r < 0)
				return plan_fail(p, r, where, c, "creating the directory: %s",
						 strerror(-r));
			json_t *v = json_pack("{s:s, s:s, s:b}", "k", "d", "w", where, "new", 1);
			if (!v || json_object_set_new(p->nodes, c, v) < 0)
				return -ENOMEM;
		}
		c[i] = '/';
	}
	return 0;
}
