/* SPDX-License-Identifier: MIT */
/* lib/provision/files.c - the files stage after users (docs/provision.md §5.2 steps 3-6):
 * directories, files and symlinks by path depth, then hard links; units, drop-ins, masks and
 * the preset file; the first-boot flag; the result file. Each entry is checked against what is
 * in the root (Ignition's overwrite rules, internal/exec/stages/files/filesystemEntries.go),
 * its data fetched and staged, and its change added to the journal as steps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"
#include "ignition/ignition.h"
#include "internal.h"
#include "util/cleanup.h"
#include "util/problem.h"
#include "json/fjson.h"

/* A failed entry: a "!" item in the plan and a problem at the entry. */
static int entry_fail(struct prov_plan *p, int err, const char *kind, const char *where,
		      const char *path, const char *fmt, ...) _printf_(6, 7);
static int entry_fail(struct prov_plan *p, int err, const char *kind, const char *where,
		      const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	plan_item(p, '!', kind, path, "%s", msg);
	return plan_fail(p, err, where, path, "%s", msg);
}

/* Go's filepath.Clean, for comparing symlink targets as Ignition does. */
static char *path_clean(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 2), *o = out;
	bool abs = in[0] == '/';
	if (!out)
		return NULL;
	if (abs)
		*o++ = '/';
	char *start = o;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);
		if (l == 1 && p[0] == '.') {
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = o > start ? memrchr(start, '/', (size_t)(o - start)) : NULL;
			bool last_dotdot = o - start >= 2 && o[-1] == '.' && o[-2] == '.' &&
					   (o - start == 2 || o[-3] == '/');
			if (o > start && !last_dotdot)
				o = slash ? slash : start;
			else if (!abs) {
				if (o > start)
					*o++ = '/';
				*o++ = '.';
				*o++ = '.';
			}
		} else {
			if (o > start)
				*o++ = '/';
			memcpy(o, p, l);
			o += l;
		}
		p = e;
	}
	if (o == out)
		*o++ = '.';
	*o = 0;
	return out;
}

static unsigned path_depth(const char *path)
{
	unsigned d = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			d++;
	return d;
}

static void owner_text(json_t *e, uid_t uid, gid_t gid, char *buf, size_t size)
{
	json_t *u = json_object_get(e, "user"), *g = json_object_get(e, "group");
	const char *un = json_string_value(json_object_get(u, "name"));
	const char *gn = json_string_value(json_object_get(g, "name"));
	char a[64], b[64];
	if (un)
		snprintf(a, sizeof(a), "%s", un);
	else if (uid == 0)
		snprintf(a, sizeof(a), "root");
	else
		snprintf(a, sizeof(a), "%u", (unsigned)uid);
	if (gn)
		snprintf(b, sizeof(b), "%s", gn);
	else if (gid == 0)
		snprintf(b, sizeof(b), "root");
	else
		snprintf(b, sizeof(b), "%u", (unsigned)gid);
	snprintf(buf, size, "%s:%s", a, b);
}

/* The owner an entry asks for: id as given, name looked up in the root; unset: the default. */
static int entry_owner(struct prov_plan *p, json_t *e, const char *kind, const char *where,
		       const char *path, uid_t def_uid, gid_t def_gid, uid_t *ret_uid,
		       gid_t *ret_gid)
{
	json_t *u = json_object_get(e, "user"), *g = json_object_get(e, "group");
	json_t *uid = json_object_get(u, "id"), *gid = json_object_get(g, "id");
	const char *un = json_string_value(json_object_get(u, "name"));
	const char *gn = json_string_value(json_object_get(g, "name"));
	*ret_uid = def_uid;
	*ret_gid = def_gid;
	if (((un && un[0]) || (gn && gn[0])) && plan_pw_db(p, where) < 0) {
		plan_item(p, '!', kind, path, "cannot read the root's passwd and group files");
		return -EINVAL;
	}
	if (json_is_integer(uid))
		*ret_uid = (uid_t)json_integer_value(uid);
	else if (un && un[0] && pw_db_user_id(p->db, un, ret_uid, NULL, NULL) < 0)
		return entry_fail(p, -ENOENT, kind, where, path,
				  "user '%s' is not in the root's /etc/passwd or "
				  "/usr/share/baselayout/passwd",
				  un);
	if (json_is_integer(gid))
		*ret_gid = (gid_t)json_integer_value(gid);
	else if (gn && gn[0] && pw_db_group_id(p->db, gn, ret_gid) < 0)
		return entry_fail(p, -ENOENT, kind, where, path,
				  "group '%s' is not in the root's /etc/group or "
				  "/usr/share/baselayout/group",
				  gn);
	return 0;
}

/* Record a staged node (for hard links to it). */
static void note_staged(struct prov_plan *p, const char *canon, unsigned sdir, const char *name)
{
	json_t *n = json_object_get(p->nodes, canon);
	if (n) {
		(void)json_object_set_new(n, "s", json_integer(sdir));
		(void)json_object_set_new(n, "n", json_string(name));
	}
}

static void note_mode(struct prov_plan *p, const char *canon, mode_t mode)
{
	json_t *n = json_object_get(p->nodes, canon);
	if (n)
		(void)json_object_set_new(n, "mode", json_integer(mode & 07777));
}

static int open_existing(struct prov_plan *p, const char *canon, int flags)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(canon, '/'), *base = slash ? slash + 1 : canon;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - canon) : 0, canon);
	_cleanup_close_ int pfd = fs_open_canon_dir(p->root_fd, dir, O_PATH);
	if (pfd < 0)
		return pfd;
	int fd = openat(pfd, base, flags | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The start of every directory, file and link entry: resolve, claim the place, and with
 * overwrite move whatever is there out of the way. *ret_replaced: it did. */
static int entry_begin(struct prov_plan *p, const char *path, const char *where, const char *kind,
		       char node, bool overwrite, struct prov_target *t, bool *ret_replaced)
{
	*ret_replaced = false;
	int r = plan_resolve(p, path, where, t);
	if (r < 0) {
		plan_item(p, '!', kind, path, "cannot resolve the path");
		return r;
	}
	r = plan_claim(p, t, node, where, path);
	if (r >= 0 && overwrite && t->exists) {
		r = step_backup(p, t->canon, t->missing, where);
		t->exists = false;
		*ret_replaced = true;
		/* a staging failure (the journal's write) fails the run like any entry's: the
		 * planning loop goes on after errors that were recorded, so record it */
		if (r < 0 && r != -ENOMEM && !p->failed)
			r = entry_fail(p, r, kind, where, path, "staging: %s", strerror(-r));
	}
	return r;
}

/* The staging directory for a new node at t, its missing parents planned first. */
static int new_node(struct prov_plan *p, const struct prov_target *t, const char *where,
		    unsigned *ret_sdir)
{
	int r = plan_parents(p, t, where);
	return r < 0 ? r : stage_dir_for(p, t->canon, t->missing, ret_sdir);
}

/* The target of an existing symlink at a canonical path; -errno. */
static ssize_t read_canon_link(struct prov_plan *p, const char *canon, char *buf, size_t size)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(canon, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - canon) : 0, canon);
	_cleanup_close_ int pfd = fs_open_canon_dir(p->root_fd, dir, O_PATH);
	if (pfd < 0)
		return pfd;
	ssize_t k = readlinkat(pfd, slash ? slash + 1 : canon, buf, size - 1);
	if (k < 0)
		return -errno;
	buf[k] = 0;
	return k;
}

int plan_put_file(struct prov_plan *p, const char *path, const char *where, const void *data,
		  size_t n, mode_t mode, uid_t uid, gid_t gid, bool keep_meta, const char *kind,
		  bool replace)
{
	struct prov_target t = {};
	unsigned sdir;
	char name[24];
	int r = plan_resolve(p, path, where, &t);
	if (r < 0)
		return r;
	_cleanup_close_ int old = -1;
	r = plan_claim(p, &t, NODE_FILE, where, path);
	if (r < 0)
		goto out;
	if (t.exists) {
		if (S_ISDIR(t.st.st_mode)) {
			r = entry_fail(p, -EISDIR, kind, where, path, "a directory is in the way");
			goto out;
		}
		if (!replace) {
			r = entry_fail(p, -EEXIST, kind, where, path, "exists");
			goto out;
		}
		if (keep_meta && S_ISREG(t.st.st_mode)) {
			mode = t.st.st_mode & 07777;
			uid = t.st.st_uid;
			gid = t.st.st_gid;
			old = open_existing(p, t.canon, O_RDONLY);
		}
		r = step_backup(p, t.canon, t.missing, where);
		if (r < 0)
			goto out;
	}
	r = new_node(p, &t, where, &sdir);
	if (r >= 0)
		r = stage_file(p, sdir, data, n, mode, uid, gid, old, name);
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
	if (r < 0) {
		if (r != -ENOMEM)
			r = entry_fail(p, r, kind, where, path, "staging: %s", strerror(-r));
		goto out;
	}
	note_staged(p, t.canon, sdir, name);
	note_mode(p, t.canon, mode);
	char dg[160] = "";
	(void)ign_digest("sha256", data, n, dg, sizeof(dg));
	char own[64];
	owner_text(NULL, uid, gid, own, sizeof(own));
	plan_item(p, t.exists ? '~' : '+', kind, path, "%04o %s %zu B %s", mode, own, n, dg);
out:
	prov_target_release(&t);
	return r;
}

/* Fetch a resource (contents or an append fragment); problems at where. */
static int fetch(struct prov_plan *p, json_t *res, const char *where, char **ret, size_t *ret_n)
{
	int r = ign_resource_fetch(p->o->fetcher, res, where, ret, ret_n, p->l);
	if (r < 0)
		p->failed = true;
	return r;
}

/* contents (when given) and every append fragment, concatenated */
static int fetch_all(struct prov_plan *p, json_t *e, const char *where, bool with_contents,
		     char **ret, size_t *ret_n, size_t *ret_appended)
{
	json_t *c = json_object_get(e, "contents");
	char w[128];
	_cleanup_free_ char *data = NULL;
	size_t n = 0, appended = 0;
	int r;
	if (with_contents && json_is_string(json_object_get(c, "source"))) {
		snprintf(w, sizeof(w), "%s/contents", where);
		r = fetch(p, c, w, &data, &n);
		if (r < 0)
			return r;
	}
	size_t k;
	json_t *a;
	json_array_foreach(json_object_get(e, "append"), k, a)
	{
		_cleanup_free_ char *d = NULL;
		size_t dn = 0;
		snprintf(w, sizeof(w), "%s/append/%zu", where, k);
		r = fetch(p, a, w, &d, &dn);
		if (r < 0)
			return r;
		char *nd = realloc(data, n + dn + 1);
		if (!nd)
			return -ENOMEM;
		data = nd;
		memcpy(data + n, d, dn);
		n += dn;
		appended += dn;
	}
	if (!data && !(data = calloc(1, 1)))
		return -ENOMEM;
	*ret = TAKE_PTR(data);
	*ret_n = n;
	*ret_appended = appended;
	return 0;
}

static int plan_file(struct prov_plan *p, json_t *e, const char *where)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	json_t *c = json_object_get(e, "contents"), *jm = json_object_get(e, "mode");
	bool overwrite = json_is_true(json_object_get(e, "overwrite"));
	bool source = json_is_string(json_object_get(c, "source"));
	struct prov_target t = {};
	char own[160];
	uid_t uid;
	gid_t gid;
	_cleanup_free_ char *data = NULL;
	size_t n = 0, appended = 0;
	bool replaced;
	int r = entry_begin(p, path, where, "file", NODE_FILE, overwrite, &t, &replaced);
	if (r < 0)
		goto out;
	if (t.exists) {
		if (!S_ISREG(t.st.st_mode)) {
			r = entry_fail(p, -EEXIST, "file", where, path,
				       "a non-regular file exists there and overwrite is false");
			goto out;
		}
		if (source) {
			r = entry_fail(p, -EEXIST, "file", where, path,
				       "exists and overwrite is false");
			goto out;
		}
		/* kept: appends in place, then owner and mode */
		r = fetch_all(p, e, where, false, &data, &n, &appended);
		if (r < 0) {
			plan_item(p, '!', "file", path, "cannot fetch its data");
			goto out;
		}
		r = entry_owner(p, e, "file", where, path, t.st.st_uid, t.st.st_gid, &uid, &gid);
		if (r < 0)
			goto out;
		mode_t mode =
			json_is_integer(jm) ? (mode_t)json_integer_value(jm) : t.st.st_mode & 07777;
		if (n)
			r = step_append(p, t.canon, &t.st, data, n, where);
		if (r >= 0)
			r = step_attr(p, t.canon, &t.st, uid, gid, true, mode, json_is_integer(jm),
				      where);
		if (r < 0) {
			if (r != -ENOMEM)
				r = entry_fail(p, r, "file", where, path, "%s", strerror(-r));
			goto out;
		}
		owner_text(e, uid, gid, own, sizeof(own));
		plan_item(p, '=', "file", path, "%04o %s (contents kept)", mode, own);
		if (n)
			plan_item(p, '+', "append", path, "%zu B", n);
		p->n_files++;
		goto out;
	}
	r = fetch_all(p, e, where, true, &data, &n, &appended);
	if (r < 0) {
		plan_item(p, '!', "file", path, "cannot fetch its data");
		goto out;
	}
	r = entry_owner(p, e, "file", where, path, 0, 0, &uid, &gid);
	if (r < 0)
		goto out;
	mode_t mode = json_is_integer(jm) ? (mode_t)json_integer_value(jm) : 0644;
	unsigned sdir;
	char name[24];
	r = new_node(p, &t, where, &sdir);
	if (r >= 0)
		r = stage_file(p, sdir, data, n, mode, uid, gid, -1, name);
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
	if (r < 0) {
		if (r != -ENOMEM && !p->failed)
			r = entry_fail(p, r, "file", where, path, "staging: %s", strerror(-r));
		goto out;
	}
	note_staged(p, t.canon, sdir, name);
	note_mode(p, t.canon, mode);
	char dg[160] = "";
	(void)ign_digest("sha256", data, n - appended, dg, sizeof(dg));
	owner_text(e, uid, gid, own, sizeof(own));
	plan_item(p, replaced ? '~' : '+', "file", path, "%04o %s %zu B %s", mode, own,
		  n - appended, dg);
	if (appended)
		plan_item(p, '+', "append", path, "%zu B", appended);
	p->n_files++;
out:
	prov_target_release(&t);
	return r;
}

static int plan_directory(struct prov_plan *p, json_t *e, const char *where)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	json_t *jm = json_object_get(e, "mode");
	bool overwrite = json_is_true(json_object_get(e, "overwrite"));
	struct prov_target t = {};
	char own[160];
	uid_t uid;
	gid_t gid;
	bool replaced;
	int r = entry_begin(p, path, where, "dir", NODE_DIR, overwrite, &t, &replaced);
	if (r < 0)
		goto out;
	if (t.exists) {
		if (!S_ISDIR(t.st.st_mode)) {
			r = entry_fail(p, -EEXIST, "dir", where, path,
				       "a non-directory exists there and overwrite is false");
			goto out;
		}
		r = entry_owner(p, e, "dir", where, path, t.st.st_uid, t.st.st_gid, &uid, &gid);
		if (r < 0)
			goto out;
		mode_t mode =
			json_is_integer(jm) ? (mode_t)json_integer_value(jm) : t.st.st_mode & 07777;
		r = step_attr(p, t.canon, &t.st, uid, gid, true, mode, json_is_integer(jm), where);
		if (r < 0)
			goto out;
		/* an existing directory stays what it was below */
		json_object_set_new(json_object_get(p->nodes, t.canon), "new", json_false());
		owner_text(e, uid, gid, own, sizeof(own));
		plan_item(p, '~', "dir", path, "%04o %s", mode, own);
		p->n_dirs++;
		goto out;
	}
	r = entry_owner(p, e, "dir", where, path, 0, 0, &uid, &gid);
	if (r < 0)
		goto out;
	mode_t mode = json_is_integer(jm) ? (mode_t)json_integer_value(jm) : 0755;
	unsigned sdir;
	char name[24];
	r = new_node(p, &t, where, &sdir);
	if (r >= 0)
		r = stage_dir(p, sdir, mode, uid, gid, name);
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
	if (r < 0) {
		if (r != -ENOMEM)
			r = entry_fail(p, r, "dir", where, path, "staging: %s", strerror(-r));
		goto out;
	}
	owner_text(e, uid, gid, own, sizeof(own));
	plan_item(p, replaced ? '~' : '+', "dir", path, "%04o %s", mode, own);
	p->n_dirs++;
out:
	prov_target_release(&t);
	return r;
}

static int plan_symlink(struct prov_plan *p, json_t *e, const char *where)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *target = json_string_value(json_object_get(e, "target"));
	bool overwrite = json_is_true(json_object_get(e, "overwrite"));
	struct prov_target t = {};
	uid_t uid;
	gid_t gid;
	if (!target)
		return entry_fail(p, -EINVAL, "link", where, path, "a link needs a target");
	bool replaced;
	int r = entry_begin(p, path, where, "link", NODE_LINK, overwrite, &t, &replaced);
	if (r < 0)
		goto out;
	if (t.exists) {
		char cur[PATH_MAX];
		ssize_t k = S_ISLNK(t.st.st_mode) && !t.planned
				    ? read_canon_link(p, t.canon, cur, sizeof(cur))
				    : -EINVAL;
		if (k < 0) {
			r = entry_fail(p, -EEXIST, "link", where, path,
				       "a non-symlink exists there and overwrite is false");
			goto out;
		}
		_cleanup_free_ char *a = path_clean(cur), *b = path_clean(target);
		if (!a || !b) {
			r = -ENOMEM;
			goto out;
		}
		if (strcmp(a, b) != 0) {
			r = entry_fail(
				p, -EEXIST, "link", where, path,
				"a symlink exists there but points to %s, not %s, and overwrite "
				"is false",
				cur, target);
			goto out;
		}
		plan_item(p, '=', "link", path, "-> %s (exists)", target);
		p->n_links++;
		goto out;
	}
	r = entry_owner(p, e, "link", where, path, 0, 0, &uid, &gid);
	if (r < 0)
		goto out;
	unsigned sdir;
	char name[24];
	r = new_node(p, &t, where, &sdir);
	if (r >= 0)
		r = stage_symlink(p, sdir, target, uid, gid, name);
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
	if (r < 0) {
		if (r != -ENOMEM)
			r = entry_fail(p, r, "link", where, path, "staging: %s", strerror(-r));
		goto out;
	}
	plan_item(p, replaced ? '~' : '+', "link", path, "-> %s", target);
	p->n_links++;
out:
	prov_target_release(&t);
	return r;
}

static int plan_hardlink(struct prov_plan *p, json_t *e, const char *where)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *target = json_string_value(json_object_get(e, "target"));
	bool overwrite = json_is_true(json_object_get(e, "overwrite"));
	struct prov_target t = {}, tt = {};
	_cleanup_free_ char *tpath = NULL;
	if (!target)
		return entry_fail(p, -EINVAL, "hardlink", where, path, "a link needs a target");
	/* a relative target is taken against the link's directory */
	if (target[0] != '/') {
		const char *slash = strrchr(path, '/');
		if (asprintf(&tpath, "%.*s/%s", slash ? (int)(slash - path) : 0, path, target) < 0)
			return -ENOMEM;
	} else if (!(tpath = strdup(target)))
		return -ENOMEM;
	int r = plan_resolve(p, tpath, where, &tt);
	if (r < 0) {
		plan_item(p, '!', "hardlink", path, "cannot resolve the target");
		return r;
	}
	r = plan_resolve(p, path, where, &t);
	if (r < 0) {
		plan_item(p, '!', "hardlink", path, "cannot resolve the path");
		goto out;
	}
	if (!tt.exists) {
		r = entry_fail(p, -ENOENT, "hardlink", where, path, "the target %s does not exist",
			       target);
		goto out;
	}
	if (S_ISDIR(tt.st.st_mode)) {
		r = entry_fail(p, -EPERM, "hardlink", where, path, "the target %s is a directory",
			       target);
		goto out;
	}
	r = plan_claim(p, &t, NODE_FILE, where, path);
	if (r < 0)
		goto out;
	bool replaced = false;
	if (overwrite && t.exists) {
		r = step_backup(p, t.canon, t.missing, where);
		if (r < 0)
			goto out;
		t.exists = false;
		replaced = true;
	}
	if (t.exists) {
		if (t.planned || tt.planned || t.st.st_dev != tt.st.st_dev ||
		    t.st.st_ino != tt.st.st_ino) {
			r = entry_fail(
				p, -EEXIST, "hardlink", where, path,
				"a file that is not the target exists there and overwrite is false");
			goto out;
		}
		plan_item(p, '=', "hardlink", path, "-> %s (exists)", target);
		p->n_links++;
		goto out;
	}
	unsigned sdir;
	char name[24];
	r = new_node(p, &t, where, &sdir);
	if (r < 0)
		goto fail;
	if (tt.planned) {
		json_t *n = json_object_get(p->nodes, tt.canon);
		json_t *s = json_object_get(n, "s");
		if (!json_is_integer(s)) {
			if (!p->o->dry_run) {
				r = -EPERM;
				goto fail;
			}
			stage_hardlink(p, sdir, -1, NULL, name);
		} else if (!p->o->dry_run) {
			unsigned tsd = (unsigned)json_integer_value(s);
			r = stage_hardlink(p, sdir, p->dirs[tsd].fd,
					   json_string_value(json_object_get(n, "n")), name);
		} else
			r = stage_hardlink(p, sdir, -1, NULL, name);
	} else {
		char dir[PATH_MAX];
		const char *slash = strrchr(tt.canon, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - tt.canon) : 0, tt.canon);
		_cleanup_close_ int pfd = fs_open_canon_dir(p->root_fd, dir, O_PATH);
		r = pfd < 0 ? pfd
			    : stage_hardlink(p, sdir, pfd, slash ? slash + 1 : tt.canon, name);
	}
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
fail:
	if (r < 0) {
		if (r != -ENOMEM)
			r = entry_fail(p, r, "hardlink", where, path, "%s",
				       r == -EXDEV ? "the target is on another filesystem"
						   : strerror(-r));
		goto out;
	}
	plan_item(p, replaced ? '~' : '+', "hardlink", path, "-> %s", target);
	p->n_links++;
out:
	prov_target_release(&t);
	prov_target_release(&tt);
	return r;
}

struct entry {
	json_t *e;
	char where[64];
	char kind; /* d f l h */
	unsigned depth;
	size_t order;
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	bool hx = x->kind == 'h', hy = y->kind == 'h';
	if (hx != hy)
		return hx ? 1 : -1;
	if (!hx && x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

int plan_files(struct prov_plan *p, json_t *config)
{
	json_t *st = json_object_get(config, "storage");
	json_t *lists[3] = { json_object_get(st, "directories"), json_object_get(st, "files"),
			     json_object_get(st, "links") };
	static const char *const names[3] = { "directories", "files", "links" };
	size_t total = 0, k = 0;
	for (int i = 0; i < 3; i++)
		total += json_array_size(lists[i]);
	if (!total)
		return 0;
	_cleanup_free_ struct entry *v = calloc(total, sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* Ignition's order: directories, files, links; stable by depth; hard links last */
	for (int i = 0; i < 3; i++) {
		size_t j;
		json_t *e;
		json_array_foreach(lists[i], j, e)
		{
			struct entry *x = &v[k];
			x->e = e;
			snprintf(x->where, sizeof(x->where), "/storage/%s/%zu", names[i], j);
			x->kind = i == 0				     ? 'd'
				  : i == 1				     ? 'f'
				  : json_is_true(json_object_get(e, "hard")) ? 'h'
									     : 'l';
			x->depth = path_depth(json_string_value(json_object_get(e, "path")) ?: "/");
			x->order = k++;
		}
	}
	qsort(v, total, sizeof(*v), cmp_entry);
	for (size_t i = 0; i < total; i++) {
		int r;
		switch (v[i].kind) {
		case 'd':
			r = plan_directory(p, v[i].e, v[i].where);
			break;
		case 'f':
			r = plan_file(p, v[i].e, v[i].where);
			break;
		case 'l':
			r = plan_symlink(p, v[i].e, v[i].where);
			break;
		default:
			r = plan_hardlink(p, v[i].e, v[i].where);
		}
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

/* --- units ------------------------------------------------------------------------------- */

#define UNIT_DIR "/etc/systemd/system"
#define PRESET_PATH "/etc/systemd/system-preset/20-ignition.preset"

/* "x@a.service" -> template "x@.service", instance "a" */
static int split_instance(const char *name, char **ret_template, char **ret_instance)
{
	const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
	if (!at || !dot || dot < at)
		return -EINVAL;
	if (asprintf(ret_template, "%.*s%s", (int)(at - name + 1), name, dot) < 0)
		return -ENOMEM;
	*ret_instance = strndup(at + 1, (size_t)(dot - at - 1));
	return *ret_instance ? 0 : -ENOMEM;
}

static int plan_mask(struct prov_plan *p, const char *name, bool mask, bool written,
		     const char *where)
{
	_cleanup_free_ char *path = NULL;
	struct prov_target t = {};
	int r;
	if (asprintf(&path, UNIT_DIR "/%s", name) < 0)
		return -ENOMEM;
	r = plan_resolve(p, path, where, &t);
	if (r < 0)
		return r;
	char cur[PATH_MAX] = "";
	if (t.exists && !t.planned && S_ISLNK(t.st.st_mode) &&
	    read_canon_link(p, t.canon, cur, sizeof(cur)) < 0)
		cur[0] = 0;
	bool masked = !strcmp(cur, "/dev/null");
	if (mask) {
		if (masked) {
			plan_item(p, '=', "mask", path, "-> /dev/null (masked already)");
			r = plan_claim(p, &t, NODE_LINK, where, path);
			goto out;
		}
		r = plan_claim(p, &t, NODE_LINK, where, path);
		if (r >= 0 && t.exists)
			r = step_backup(p, t.canon, t.missing, where);
		unsigned sdir;
		char nm[24];
		if (r >= 0)
			r = plan_parents(p, &t, where);
		if (r >= 0)
			r = stage_dir_for(p, t.canon, t.missing, &sdir);
		if (r >= 0)
			r = stage_symlink(p, sdir, "/dev/null", 0, 0, nm);
		if (r >= 0)
			r = step_place(p, sdir, nm, t.canon, where);
		if (r >= 0)
			plan_item(p, '+', "mask", path, "-> /dev/null");
		else if (r != -ENOMEM && !p->failed)
			r = entry_fail(p, r, "mask", where, path, "%s", strerror(-r));
	} else if (masked && !written) {
		r = plan_claim(p, &t, NODE_LINK, where, path);
		if (r >= 0)
			r = step_backup(p, t.canon, t.missing, where);
		json_object_set_new(json_object_get(p->nodes, t.canon), "k", json_string("-"));
		if (r >= 0)
			plan_item(p, '-', "mask", path, "-> /dev/null (unmasked)");
	}
out:
	prov_target_release(&t);
	return r;
}

/* systemctl disable: the unit's links in the .wants/.requires directories of /etc. */
static int plan_disable_links(struct prov_plan *p, const char *unit, const char *where)
{
	_cleanup_close_ int fd = fs_open(p->root_fd, UNIT_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return plan_fail(p, fd, where, UNIT_DIR, "%s", strerror(-fd));
	DIR *d = fs_opendir_at(fd, ".");
	if (!d)
		return -errno;
	json_auto_t *found = json_array();
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (!((l > 6 && !strcmp(de->d_name + l - 6, ".wants")) ||
		      (l > 9 && !strcmp(de->d_name + l - 9, ".requires"))))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && fstatat(dirfd(d), de->d_name, &st, 0) == 0) {
			char sub[NAME_MAX + 2];
			snprintf(sub, sizeof(sub), "%s", de->d_name);
			_cleanup_close_ int sfd = openat(
				dirfd(d), sub, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd >= 0 && fstatat(sfd, unit, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				(void)json_array_append_new(found, json_string(sub));
		}
	}
	closedir(d);
	size_t i;
	json_t *s;
	json_array_foreach(found, i, s)
	{
		_cleanup_free_ char *path = NULL;
		struct prov_target t = {};
		if (asprintf(&path, UNIT_DIR "/%s/%s", json_string_value(s), unit) < 0)
			return -ENOMEM;
		int r = plan_resolve(p, path, where, &t);
		if (r < 0)
			return r;
		if (t.exists && !t.planned) {
			r = plan_claim(p, &t, NODE_GONE, where, path);
			if (r >= 0)
				r = step_backup(p, t.canon, t.missing, where);
			if (r >= 0)
				plan_item(p, '-', "link", path, "(disable %s)", unit);
		}
		prov_target_release(&t);
		if (r < 0)
			return r;
	}
	return 0;
}

static int preset_add(json_t *presets, const char *name, bool enabled)
{
	_cleanup_free_ char *tmpl = NULL, *inst = NULL, *key = NULL;
	bool instance = strchr(name, '@') && split_instance(name, &tmpl, &inst) == 0;
	if (asprintf(&key, "%s-%s", instance ? tmpl : name, enabled ? "enabled" : "disabled") < 0)
		return -ENOMEM;
	json_t *e = json_object_get(presets, key);
	if (!e) {
		e = json_pack("{s:s, s:b, s:b, s:[]}", "unit", instance ? tmpl : name, "enabled",
			      enabled, "instance", instance, "instances");
		if (!e || json_object_set_new(presets, key, e) < 0)
			return -ENOMEM;
	}
	if (instance)
		(void)json_array_append_new(json_object_get(e, "instances"), json_string(inst));
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int plan_units(struct prov_plan *p, json_t *config)
{
	json_t *units = json_object_get(json_object_get(config, "systemd"), "units");
	json_auto_t *presets = json_object();
	size_t i;
	json_t *u;
	char where[64], dwhere[96];
	int r;
	if (!json_array_size(units))
		return 0;
	json_array_foreach(units, i, u)
	{
		const char *name = json_string_value(json_object_get(u, "name"));
		const char *contents = json_string_value(json_object_get(u, "contents"));
		json_t *mask = json_object_get(u, "mask"), *en = json_object_get(u, "enabled");
		size_t k;
		json_t *d;
		_cleanup_free_ char *path = NULL;
		snprintf(where, sizeof(where), "/systemd/units/%zu", i);
		if (!name)
			continue;
		p->n_units++;
		json_array_foreach(json_object_get(u, "dropins"), k, d)
		{
			const char *dn = json_string_value(json_object_get(d, "name"));
			const char *dc = json_string_value(json_object_get(d, "contents"));
			_cleanup_free_ char *dp = NULL;
			if (!dn || !dc)
				continue;
			snprintf(dwhere, sizeof(dwhere), "%s/dropins/%zu", where, k);
			if (asprintf(&dp, UNIT_DIR "/%s.d/%s", name, dn) < 0)
				return -ENOMEM;
			r = plan_put_file(p, dp, dwhere, dc, strlen(dc), 0644, 0, 0, false,
					  "dropin", true);
			if (r == -ENOMEM)
				return r;
		}
		bool masked = json_is_true(mask);
		bool written = contents && contents[0] && !masked;
		if (written) {
			if (asprintf(&path, UNIT_DIR "/%s", name) < 0)
				return -ENOMEM;
			r = plan_put_file(p, path, where, contents, strlen(contents), 0644, 0, 0,
					  false, "unit", true);
			if (r == -ENOMEM)
				return r;
		}
		if (json_is_boolean(mask)) {
			r = plan_mask(p, name, masked, written, where);
			if (r == -ENOMEM)
				return r;
		}
		if (json_is_boolean(en)) {
			r = preset_add(presets, name, json_is_true(en));
			if (r < 0)
				return r;
			if (!json_is_true(en)) {
				r = plan_disable_links(p, name, where);
				if (r == -ENOMEM)
					return r;
			}
		}
	}
	size_t n = json_object_size(presets), j = 0;
	if (!n)
		return 0;
	_cleanup_free_ const char **keys = calloc(n, sizeof(char *));
	if (!keys)
		return -ENOMEM;
	const char *key;
	json_t *val;
	json_object_foreach(presets, key, val) keys[j++] = key;
	qsort(keys, n, sizeof(char *), cmp_key);
	_cleanup_free_ char *text = NULL;
	size_t tn = 0;
	FILE *f = open_memstream(&text, &tn);
	if (!f)
		return -ENOMEM;
	for (j = 0; j < n; j++) {
		json_t *e = json_object_get(presets, keys[j]);
		fprintf(f, "%s %s",
			json_is_true(json_object_get(e, "enabled")) ? "enable" : "disable",
			json_string_value(json_object_get(e, "unit")));
		size_t k;
		json_t *in;
		json_array_foreach(json_object_get(e, "instances"), k, in)
			fprintf(f, " %s", json_string_value(in));
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	/* appended to the preset file, created when missing (Ignition's appendLineToPreset) */
	struct prov_target t = {};
	r = plan_resolve(p, PRESET_PATH, "/systemd/units", &t);
	if (r < 0)
		return r;
	if (t.exists && !t.planned && S_ISREG(t.st.st_mode)) {
		r = plan_claim(p, &t, NODE_FILE, "/systemd/units", PRESET_PATH);
		if (r >= 0)
			r = step_append(p, t.canon, &t.st, text, tn, "/systemd/units");
		if (r >= 0) {
			for (j = 0; j < n; j++) {
				json_t *e = json_object_get(presets, keys[j]);
				plan_item(p, '+', "preset", PRESET_PATH, "%s %s",
					  json_is_true(json_object_get(e, "enabled")) ? "enable"
										      : "disable",
					  json_string_value(json_object_get(e, "unit")));
			}
		}
		prov_target_release(&t);
		return r;
	}
	bool exists = t.exists;
	prov_target_release(&t);
	if (exists)
		return entry_fail(p, -EEXIST, "preset", "/systemd/units", PRESET_PATH,
				  "not a regular file");
	r = plan_put_file(p, PRESET_PATH, "/systemd/units", text, tn, 0644, 0, 0, false, "preset",
			  false);
	for (j = 0; r >= 0 && j < n; j++) {
		json_t *e = json_object_get(presets, keys[j]);
		plan_item(p, '+', "preset", PRESET_PATH, "%s %s",
			  json_is_true(json_object_get(e, "enabled")) ? "enable" : "disable",
			  json_string_value(json_object_get(e, "unit")));
	}
	return r;
}

/* --- first boot and the result ----------------------------------------------------------- */

/* What Flatcar's ignition-quench.service does once Ignition succeeded: remove the flag GRUB
 * looks for, so the next boot is not a first boot. */
int plan_first_boot_done(struct prov_plan *p)
{
	static const char *const flags[] = { "/boot/flatcar/first_boot",
					     "/boot/coreos/first_boot" };
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		struct fs_resolved fr = {};
		if (fs_resolve(p->root_fd, flags[i], &fr) < 0)
			continue; /* no flag to remove */
		struct prov_target t = {
			.canon = fr.canon, .missing = fr.missing, .exists = fr.exists, .st = fr.st
		};
		int r = 0;
		if (t.exists && !S_ISDIR(t.st.st_mode) && !json_object_get(p->nodes, t.canon)) {
			r = plan_claim(p, &t, NODE_GONE, "", flags[i]);
			if (r >= 0)
				r = step_backup(p, t.canon, t.missing, "");
			if (r >= 0)
				plan_item(p, '-', "file", flags[i], "(first boot done)");
		}
		prov_target_release(&t);
		if (r < 0)
			return r;
	}
	return 0;
}

int plan_result(struct prov_plan *p, json_t *config)
{
	_cleanup_free_ char *bootid = NULL, *old = NULL;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	int r;
	(void)config;
	/* the running kernel's boot id (a kernel interface, not a file of the root) */
	_cleanup_close_ int bfd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	r = bfd < 0 ? -errno : fs_read_fd(bfd, 256, &bootid, NULL);
	if (r < 0 && !(bootid = strdup("")))
		return -ENOMEM;
	bootid[strcspn(bootid, "\n")] = 0;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_auto_t *doc =
		json_pack("{s:s, s:s, s:b}", "provisioningBootID", bootid, "provisioningDate", date,
			  "userConfigProvided", p->o->user_config_provided);
	if (!doc)
		return -ENOMEM;
	r = fs_read_file(p->root_fd, PROV_RESULT_PATH, 16u << 20, &old, NULL);
	if (r >= 0) {
		json_t *prev = json_loads(old, 0, NULL);
		(void)json_object_set_new(doc, "previousReport", prev ? prev : json_string(old));
	}
	json_t *fl = p->o->result ? json_deep_copy(p->o->result) : json_object();
	if (!fl)
		return -ENOMEM;
	(void)json_object_set_new(fl, "counts",
				  json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "files",
					    (int)p->n_files, "directories", (int)p->n_dirs, "links",
					    (int)p->n_links, "units", (int)p->n_units, "users",
					    (int)p->n_users, "groups", (int)p->n_groups));
	(void)json_object_set_new(fl, "rebootRequired",
				  json_boolean(p->reboot_required || p->o->reboot_required_before));
	(void)json_object_set(fl, "skipped", p->skipped);
	json_t *dur = json_object_get(fl, "startedUsec");
	if (json_is_integer(dur)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		(void)json_object_set_new(
			fl, "durationMs",
			json_integer(
				(json_int_t)((us - (uint64_t)json_integer_value(dur)) / 1000)));
		(void)json_object_del(fl, "startedUsec");
	}
	(void)json_object_set_new(doc, "flatctl", fl);
	_cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	char *t2 = realloc(text, n + 2);
	if (!t2)
		return -ENOMEM;
	text = t2;
	text[n++] = '\n';
	text[n] = 0;
	return plan_put_file(p, PROV_RESULT_PATH, "", text, n, 0600, 0, 0, false, "result", true);
}
