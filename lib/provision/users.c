/* SPDX-License-Identifier: MIT */
/* lib/provision/users.c - users and groups (docs/provision.md §5.2 steps 1-2): what Ignition
 * does with groupadd/groupmod/groupdel and useradd/usermod/userdel --root, done by editing the
 * root's /etc/passwd, /etc/shadow, /etc/group and /etc/gshadow (lines and order kept, each
 * file replaced whole through the journal), and the SSH keys written where Flatcar's
 * update-ssh-keys reads them. Names that only /usr/share/baselayout knows (Flatcar's system
 * users, "core") are found there, read only; changing one copies its line to /etc first, as
 * the baselayout NSS module gives /etc the first word. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"
#include "internal.h"
#include "util/cleanup.h"
#include "util/problem.h"
#include "json/fjson.h"

enum { F_PASSWD, F_SHADOW, F_GROUP, F_GSHADOW, _F_MAX };
static const char *const etc_path[_F_MAX] = { "/etc/passwd", "/etc/shadow", "/etc/group",
					      "/etc/gshadow" };
static const unsigned nfields[_F_MAX] = { 7, 9, 4, 4 };
static const mode_t new_mode[_F_MAX] = { 0644, 0640, 0644, 0640 };

struct pw_db {
	struct pw_file f[_F_MAX];
	bool dirty[_F_MAX];
	bool existed[_F_MAX];
	struct pw_file base_pw, base_gr, base_sh;
	unsigned long uid_min, uid_max, sys_uid_min, sys_uid_max;
	unsigned long gid_min, gid_max, sys_gid_min, sys_gid_max;
	unsigned long pass_min, pass_max, pass_warn;
	mode_t home_mode;
	char home_base[256], shell[256];
	unsigned long default_gid;
};

struct pw_db *pw_db_free(struct pw_db *db)
{
	if (!db)
		return NULL;
	for (int i = 0; i < _F_MAX; i++)
		pw_file_release(&db->f[i]);
	pw_file_release(&db->base_pw);
	pw_file_release(&db->base_gr);
	pw_file_release(&db->base_sh);
	free(db);
	return NULL;
}

DEFINE_CLEANUP(struct pw_db, pw_db_free)

static int load_file(int root_fd, const char *path, unsigned nf, struct pw_file *f, bool *existed)
{
	_cleanup_free_ char *text = NULL;
	size_t n = 0;
	int r = fs_read_file(root_fd, path, 16u << 20, &text, &n);
	if (r == -ENOENT) {
		*f = (struct pw_file){ .nfields = nf, .final_newline = true };
		if (existed)
			*existed = false;
		return 0;
	}
	if (r < 0)
		return r;
	if (existed)
		*existed = true;
	return pw_file_parse(text, n, nf, f);
}

/* login.defs (KEY VALUE) and default/useradd (KEY=VALUE): the value of key, or NULL. */
static char *conf_value(const char *text, const char *key, char sep)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p;) {
		const char *e = strchrnul(p, '\n');
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (e - p > (long)kl && !strncmp(p, key, kl) &&
		    (sep == '=' ? p[kl] == '=' : (p[kl] == ' ' || p[kl] == '\t'))) {
			const char *v = p + kl + 1;
			while (v < e && (*v == ' ' || *v == '\t' || *v == '='))
				v++;
			const char *ve = e;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r'))
				ve--;
			if (ve > v && (*v == '"' || *v == '\'') && ve[-1] == *v && ve - v >= 2) {
				v++;
				ve--;
			}
			return strndup(v, (size_t)(ve - v));
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

static unsigned long conf_num(const char *text, const char *key, char sep, unsigned long def,
			      int base)
{
	_cleanup_free_ char *v = text ? conf_value(text, key, sep) : NULL;
	char *end;
	if (!v || !*v)
		return def;
	unsigned long n = strtoul(v, &end, base);
	return *end ? def : n;
}

static int pw_db_load(int root_fd, struct pw_db **ret)
{
	_cleanup_(pw_db_freep) struct pw_db *db = calloc(1, sizeof(*db));
	_cleanup_free_ char *defs = NULL, *ua = NULL;
	int r;

	if (!db)
		return -ENOMEM;
	for (int i = 0; i < _F_MAX; i++) {
		r = load_file(root_fd, etc_path[i], nfields[i], &db->f[i], &db->existed[i]);
		if (r < 0)
			return r;
	}
	r = load_file(root_fd, "/usr/share/baselayout/passwd", 7, &db->base_pw, NULL);
	if (r >= 0)
		r = load_file(root_fd, "/usr/share/baselayout/group", 4, &db->base_gr, NULL);
	if (r >= 0)
		r = load_file(root_fd, "/usr/share/baselayout/shadow", 9, &db->base_sh, NULL);
	if (r < 0)
		return r;
	(void)fs_read_file(root_fd, "/etc/login.defs", 1u << 20, &defs, NULL);
	(void)fs_read_file(root_fd, "/etc/default/useradd", 1u << 20, &ua, NULL);
	/* shadow-utils' defaults where the root says nothing */
	db->uid_min = conf_num(defs, "UID_MIN", ' ', 1000, 10);
	db->uid_max = conf_num(defs, "UID_MAX", ' ', 60000, 10);
	db->sys_uid_min = conf_num(defs, "SYS_UID_MIN", ' ', 101, 10);
	db->sys_uid_max = conf_num(defs, "SYS_UID_MAX", ' ', db->uid_min - 1, 10);
	db->gid_min = conf_num(defs, "GID_MIN", ' ', 1000, 10);
	db->gid_max = conf_num(defs, "GID_MAX", ' ', 60000, 10);
	db->sys_gid_min = conf_num(defs, "SYS_GID_MIN", ' ', 101, 10);
	db->sys_gid_max = conf_num(defs, "SYS_GID_MAX", ' ', db->gid_min - 1, 10);
	db->pass_min = conf_num(defs, "PASS_MIN_DAYS", ' ', 0, 10);
	db->pass_max = conf_num(defs, "PASS_MAX_DAYS", ' ', 99999, 10);
	db->pass_warn = conf_num(defs, "PASS_WARN_AGE", ' ', 7, 10);
	unsigned long umask_v = conf_num(defs, "UMASK", ' ', 022, 8);
	db->home_mode = (mode_t)conf_num(defs, "HOME_MODE", ' ', 0777 & ~umask_v, 8) & 07777;
	_cleanup_free_ char *home = ua ? conf_value(ua, "HOME", '=') : NULL;
	_cleanup_free_ char *shell = ua ? conf_value(ua, "SHELL", '=') : NULL;
	snprintf(db->home_base, sizeof(db->home_base), "%s",
		 home && home[0] == '/' ? home : "/home");
	snprintf(db->shell, sizeof(db->shell), "%s", shell ? shell : "/bin/sh");
	db->default_gid = conf_num(ua, "GROUP", '=', 100, 10);
	*ret = TAKE_PTR(db);
	return 0;
}

int plan_pw_db(struct prov_plan *p, const char *where)
{
	if (p->db)
		return 0;
	int r = pw_db_load(p->root_fd, &p->db);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return plan_fail(p, r, where, NULL, "reading the root's passwd and group files: %s",
				 strerror(-r));
	return 0;
}

/* --- lookups ------------------------------------------------------------------------------- */

/* name in /etc first, then in the baselayout file (*ret_base says which). */
static long find_in(const struct pw_file *etc, const struct pw_file *base, const char *name,
		    bool *ret_base)
{
	long i = pw_file_find(etc, name);
	*ret_base = false;
	if (i >= 0)
		return i;
	i = pw_file_find(base, name);
	*ret_base = i >= 0;
	return i;
}

static long find_user(struct pw_db *db, const char *name, bool *ret_base)
{
	return find_in(&db->f[F_PASSWD], &db->base_pw, name, ret_base);
}

static long find_group(struct pw_db *db, const char *name, bool *ret_base)
{
	return find_in(&db->f[F_GROUP], &db->base_gr, name, ret_base);
}

int pw_db_user_id(struct pw_db *db, const char *name, uid_t *ret_uid, gid_t *ret_gid,
		  char **ret_home)
{
	bool base;
	long i = find_user(db, name, &base);
	unsigned long u, g;
	if (i < 0)
		return -ENOENT;
	char **f = (base ? &db->base_pw : &db->f[F_PASSWD])->l[i].f;
	if (pw_parse_id(f[2], &u) < 0 || pw_parse_id(f[3], &g) < 0)
		return -EBADMSG;
	if (ret_uid)
		*ret_uid = (uid_t)u;
	if (ret_gid)
		*ret_gid = (gid_t)g;
	if (ret_home) {
		*ret_home = strdup(f[5]);
		if (!*ret_home)
			return -ENOMEM;
	}
	return 0;
}

int pw_db_group_id(struct pw_db *db, const char *name, gid_t *ret)
{
	bool base;
	long i = find_group(db, name, &base);
	unsigned long g;
	if (i < 0)
		return -ENOENT;
	char **f = (base ? &db->base_gr : &db->f[F_GROUP])->l[i].f;
	if (pw_parse_id(f[2], &g) < 0)
		return -EBADMSG;
	*ret = (gid_t)g;
	return 0;
}

static bool id_used(const struct pw_file *a, const struct pw_file *b, unsigned field,
		    unsigned long id, const char *except)
{
	const struct pw_file *fs[2] = { a, b };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < fs[k]->n; i++) {
			unsigned long v;
			char **f = fs[k]->l[i].f;
			if (f && pw_parse_id(f[field], &v) == 0 && v == id &&
			    (!except || strcmp(f[0], except)))
				return true;
		}
	return false;
}

/* useradd/groupadd: the lowest free id of [min, max], or for system ids the highest. */
static int next_id(const struct pw_file *a, const struct pw_file *b, unsigned long min,
		   unsigned long max, bool from_top, unsigned long *ret)
{
	if (min > max)
		return -ERANGE;
	for (unsigned long k = 0; k <= max - min; k++) {
		unsigned long id = from_top ? max - k : min + k;
		if (!id_used(a, b, 2, id, NULL)) {
			*ret = id;
			return 0;
		}
	}
	return -ENOSPC;
}

/* The id of a new user or group: the config's, which must be free, or the next free one of
 * the root's range (useradd, groupadd). */
static int pick_id(struct prov_plan *p, const struct pw_file *etc, const struct pw_file *base,
		   json_t *jid, bool system, bool user, const char *name, const char *where,
		   unsigned long *ret)
{
	struct pw_db *db = p->db;
	const char *what = user ? "uid" : "gid";
	if (json_is_integer(jid)) {
		*ret = (unsigned long)json_integer_value(jid);
		if (id_used(etc, base, 2, *ret, NULL))
			return plan_fail(p, -EEXIST, where, name, "%s %lu is already in use", what,
					 *ret);
		return 0;
	}
	unsigned long min = user ? (system ? db->sys_uid_min : db->uid_min)
				 : (system ? db->sys_gid_min : db->gid_min);
	unsigned long max = user ? (system ? db->sys_uid_max : db->uid_max)
				 : (system ? db->sys_gid_max : db->gid_max);
	int r = next_id(etc, base, min, max, system, ret);
	return r < 0 ? plan_fail(p, r, where, name, "no free %s left", what) : 0;
}

/* Copy a baselayout line to /etc (and its shadow line) so that it can be changed there. */
static long copy_base(struct pw_db *db, int fi, const struct pw_file *base, long bi)
{
	long i = pw_file_add(&db->f[fi], (const char *const *)base->l[bi].f);
	if (i >= 0)
		db->dirty[fi] = true;
	return i;
}

static long shadow_line(struct pw_db *db, const char *name, bool create)
{
	long i = pw_file_find(&db->f[F_SHADOW], name);
	if (i >= 0 || !create)
		return i;
	long b = pw_file_find(&db->base_sh, name);
	if (b >= 0)
		i = copy_base(db, F_SHADOW, &db->base_sh, b);
	else {
		char day[32];
		snprintf(day, sizeof(day), "%lld", (long long)(time(NULL) / 86400));
		const char *f[9] = { name, "*", day, "", "", "", "", "", "" };
		i = pw_file_add(&db->f[F_SHADOW], f);
	}
	db->dirty[F_SHADOW] = true;
	return i;
}

static long gshadow_line(struct pw_db *db, const char *name, bool create)
{
	long i = pw_file_find(&db->f[F_GSHADOW], name);
	if (i >= 0 || !create)
		return i;
	const char *f[4] = { name, "!", "", "" };
	i = pw_file_add(&db->f[F_GSHADOW], f);
	db->dirty[F_GSHADOW] = true;
	return i;
}

static int set_field(struct pw_db *db, int fi, long idx, unsigned field, const char *v)
{
	if (!strcmp(db->f[fi].l[idx].f[field], v))
		return 0;
	int r = pw_file_set(&db->f[fi], (size_t)idx, field, v);
	if (r < 0)
		return r;
	db->dirty[fi] = true;
	return 1;
}

/* --- groups ------------------------------------------------------------------------------ */

static int plan_group(struct prov_plan *p, json_t *g, const char *where)
{
	struct pw_db *db = p->db;
	const char *name = json_string_value(json_object_get(g, "name"));
	json_t *jgid = json_object_get(g, "gid");
	const char *hash = json_string_value(json_object_get(g, "passwordHash"));
	bool system = json_is_true(json_object_get(g, "system"));
	bool base;
	long i = find_group(db, name, &base);
	char num[32];
	int r;

	if (!name)
		return 0;
	if (strpbrk(name, ":\n,") || name[0] == '+' || name[0] == '-')
		return plan_fail(p, -EINVAL, where, name, "not a valid group name");
	if (json_is_false(json_object_get(g, "shouldExist"))) {
		if (i < 0)
			return 0;
		if (base)
			return plan_fail(
				p, -EPERM, where, name,
				"a group of /usr/share/baselayout/group cannot be removed");
		unsigned long gid = 0;
		(void)pw_parse_id(db->f[F_GROUP].l[i].f[2], &gid);
		for (size_t u = 0; u < db->f[F_PASSWD].n; u++) {
			unsigned long ug;
			char **f = db->f[F_PASSWD].l[u].f;
			if (f && pw_parse_id(f[3], &ug) == 0 && ug == gid)
				return plan_fail(p, -EBUSY, where, name,
						 "cannot remove the primary group of user '%s'",
						 f[0]);
		}
		pw_file_remove(&db->f[F_GROUP], (size_t)i);
		db->dirty[F_GROUP] = true;
		long s = gshadow_line(db, name, false);
		if (s >= 0) {
			pw_file_remove(&db->f[F_GSHADOW], (size_t)s);
			db->dirty[F_GSHADOW] = true;
		}
		plan_item(p, '-', "group", name, NULL);
		p->n_groups++;
		return 0;
	}
	if (i < 0) {
		unsigned long gid;
		r = pick_id(p, &db->f[F_GROUP], &db->base_gr, jgid, system, false, name, where,
			    &gid);
		if (r < 0)
			return r;
		snprintf(num, sizeof(num), "%lu", gid);
		const char *f[4] = { name, "x", num, "" };
		if (pw_file_add(&db->f[F_GROUP], f) < 0)
			return -ENOMEM;
		db->dirty[F_GROUP] = true;
		long s = gshadow_line(db, name, true);
		if (s < 0)
			return -ENOMEM;
		if (hash && hash[0] && set_field(db, F_GSHADOW, s, 1, hash) < 0)
			return plan_fail(p, -EINVAL, where, name,
					 "passwordHash cannot hold ':' or newlines");
		plan_item(p, '+', "group", name, "gid %lu", gid);
		p->n_groups++;
		return 0;
	}
	/* an existing group: groupmod */
	bool change = false;
	char **bf = (base ? &db->base_gr : &db->f[F_GROUP])->l[i].f;
	unsigned long old = 0;
	(void)pw_parse_id(bf[2], &old);
	if (json_is_integer(jgid) && (unsigned long)json_integer_value(jgid) != old) {
		unsigned long gid = (unsigned long)json_integer_value(jgid);
		if (id_used(&db->f[F_GROUP], &db->base_gr, 2, gid, name))
			return plan_fail(p, -EEXIST, where, name, "gid %lu is already in use", gid);
		if (base && (i = copy_base(db, F_GROUP, &db->base_gr, i)) < 0)
			return -ENOMEM;
		base = false;
		snprintf(num, sizeof(num), "%lu", gid);
		(void)set_field(db, F_GROUP, i, 2, num);
		/* groupmod -g moves the users whose primary group it is */
		char onum[32];
		snprintf(onum, sizeof(onum), "%lu", old);
		for (size_t u = 0; u < db->f[F_PASSWD].n; u++) {
			char **f = db->f[F_PASSWD].l[u].f;
			if (f && !strcmp(f[3], onum))
				(void)set_field(db, F_PASSWD, (long)u, 3, num);
		}
		change = true;
	}
	if (hash && hash[0]) {
		if (base && copy_base(db, F_GROUP, &db->base_gr, i) < 0)
			return -ENOMEM;
		long s = gshadow_line(db, name, true);
		if (s < 0)
			return -ENOMEM;
		r = set_field(db, F_GSHADOW, s, 1, hash);
		if (r < 0)
			return plan_fail(p, -EINVAL, where, name,
					 "passwordHash cannot hold ':' or newlines");
		change |= r > 0;
	}
	if (change) {
		plan_item(p, '~', "group", name, NULL);
		p->n_groups++;
	}
	return 0;
}

/* --- homes ------------------------------------------------------------------------------- */

/* Copy the root's /etc/skel (dfd) into the staged directory sfd/sname, owned by uid:gid. */
static int copy_skel(struct prov_plan *p, int dfd, int tfd, uid_t uid, gid_t gid, unsigned depth)
{
	if (depth > 32)
		return -ELOOP;
	DIR *d = fs_opendir_at(dfd, ".");
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		struct stat st;
		const char *n = de->d_name;
		if (fs_dot(n))
			continue;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (mkdirat(tfd, n, 0700) < 0) {
				r = -errno;
				break;
			}
			int a = openat(dirfd(d), n,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int b = openat(tfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (a < 0 || b < 0)
				r = -errno;
			else
				r = copy_skel(p, a, b, uid, gid, depth + 1);
			if (a >= 0)
				close(a);
			if (b >= 0)
				close(b);
		} else if (S_ISLNK(st.st_mode)) {
			char t[PATH_MAX];
			ssize_t k = readlinkat(dirfd(d), n, t, sizeof(t) - 1);
			if (k < 0) {
				r = -errno;
				break;
			}
			t[k] = 0;
			if (symlinkat(t, tfd, n) < 0)
				r = -errno;
		} else if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int in =
				openat(dirfd(d), n, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_free_ char *data = NULL;
			size_t len = 0;
			if (in < 0 || (r = fs_read_fd(in, 64u << 20, &data, &len)) < 0) {
				r = r < 0 ? r : -errno;
				break;
			}
			_cleanup_close_ int out = openat(
				tfd, n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (out < 0 || (r = fs_write_all(out, data, len)) < 0) {
				r = r < 0 ? r : -errno;
				break;
			}
		} else
			continue; /* useradd copies devices and fifos too; a skel has none */
		if (r >= 0 && fchownat(tfd, n, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			r = -errno;
		if (r >= 0 && !S_ISLNK(st.st_mode) && fchmodat(tfd, n, st.st_mode & 07777, 0) < 0)
			r = -errno;
	}
	closedir(d);
	return r;
}

static int plan_home_create(struct prov_plan *p, const char *home, uid_t uid, gid_t gid,
			    const char *where, const char *user)
{
	struct prov_target t = {};
	int r = plan_resolve(p, home, where, &t);
	if (r < 0)
		return r;
	if (t.exists) {
		/* useradd -m: "home directory already exists. Not copying any file from skel" */
		plan_item(p, '=', "home", home, "%s (exists, kept)", user);
		prov_target_release(&t);
		return 0;
	}
	unsigned sdir;
	char name[24];
	r = plan_claim(p, &t, NODE_DIR, where, home);
	if (r >= 0)
		r = plan_parents(p, &t, where);
	if (r >= 0)
		r = stage_dir_for(p, t.canon, t.missing, &sdir);
	if (r >= 0)
		r = stage_dir(p, sdir, p->db->home_mode, uid, gid, name);
	if (r >= 0 && !p->o->dry_run) {
		_cleanup_close_ int skel =
			fs_open(p->root_fd, "/etc/skel", O_RDONLY | O_DIRECTORY, 0);
		if (skel >= 0) {
			_cleanup_close_ int tfd =
				openat(p->dirs[sdir].fd, name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = tfd < 0 ? -errno : copy_skel(p, skel, tfd, uid, gid, 0);
		}
	}
	if (r >= 0)
		r = step_place(p, sdir, name, t.canon, where);
	if (r < 0 && r != -ENOMEM && !p->failed)
		r = plan_fail(p, r, where, home, "creating the home directory: %s", strerror(-r));
	if (r >= 0)
		plan_item(p, '+', "home", home, "%04o %s (from /etc/skel)", p->db->home_mode, user);
	prov_target_release(&t);
	return r;
}

/* usermod -u: what the user owned in the home now belongs to the new uid. */
static int chown_tree(struct prov_plan *p, const char *canon, int dfd, uid_t from, uid_t to,
		      const char *where, unsigned depth)
{
	if (depth > 64)
		return -ELOOP;
	DIR *d = fs_opendir_at(dfd, ".");
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		struct stat st;
		if (fs_dot(de->d_name))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		_cleanup_free_ char *c = NULL;
		if (asprintf(&c, "%s/%s", canon, de->d_name) < 0) {
			r = -ENOMEM;
			break;
		}
		if (st.st_uid == from)
			r = step_attr(p, c, &st, to, st.st_gid, true, 0, false, where);
		if (r >= 0 && S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				r = -errno;
			else {
				r = chown_tree(p, c, sub, from, to, where, depth + 1);
				close(sub);
			}
		}
	}
	closedir(d);
	return r;
}

/* --- users ------------------------------------------------------------------------------- */

static int user_groups(struct prov_plan *p, json_t *groups, const char *name, bool exact,
		       const char *where)
{
	struct pw_db *db = p->db;
	size_t k;
	json_t *g;
	/* usermod -G without -a: the list replaces the user's supplementary groups in /etc */
	if (exact)
		for (size_t i = 0; i < db->f[F_GROUP].n; i++) {
			char **f = db->f[F_GROUP].l[i].f;
			if (!f || !pw_list_has(f[3], name))
				continue;
			bool keep = false;
			json_array_foreach(groups, k, g) keep |=
				!strcmp(json_string_value(g) ?: "", f[0]);
			if (keep)
				continue;
			if (pw_list_remove(&db->f[F_GROUP], i, 3, name) > 0)
				db->dirty[F_GROUP] = true;
			long s = gshadow_line(db, f[0], false);
			if (s >= 0 && pw_list_remove(&db->f[F_GSHADOW], (size_t)s, 3, name) > 0)
				db->dirty[F_GSHADOW] = true;
		}
	json_array_foreach(groups, k, g)
	{
		const char *gn = json_string_value(g);
		bool base;
		if (!gn)
			continue;
		long i = find_group(db, gn, &base);
		if (i < 0)
			return plan_fail(p, -ENOENT, where, name,
					 "supplementary group '%s' does not exist", gn);
		if (base) {
			if (pw_list_has(db->base_gr.l[i].f[3], name))
				continue;
			i = copy_base(db, F_GROUP, &db->base_gr, i);
			if (i < 0)
				return -ENOMEM;
		}
		int r = pw_list_add(&db->f[F_GROUP], (size_t)i, 3, name);
		if (r < 0)
			return r;
		if (r > 0)
			db->dirty[F_GROUP] = true;
		long s = gshadow_line(db, gn, false);
		if (s >= 0 && pw_list_add(&db->f[F_GSHADOW], (size_t)s, 3, name) > 0)
			db->dirty[F_GSHADOW] = true;
	}
	return 0;
}

static int resolve_group_arg(struct pw_db *db, const char *g, unsigned long *ret)
{
	gid_t gid;
	/* useradd -g takes a name or a number */
	if (pw_db_group_id(db, g, &gid) == 0) {
		*ret = gid;
		return 0;
	}
	if (pw_parse_id(g, ret) == 0)
		return 0;
	return -ENOENT;
}

static bool field_bad(const char *v)
{
	return v && strpbrk(v, ":\n");
}

static int plan_user_delete(struct prov_plan *p, const char *name, long i, bool base,
			    const char *where)
{
	struct pw_db *db = p->db;
	if (i < 0)
		return 0;
	if (base)
		return plan_fail(p, -EPERM, where, name,
				 "a user of /usr/share/baselayout/passwd cannot be removed");
	_cleanup_free_ char *home = strdup(db->f[F_PASSWD].l[i].f[5]);
	char gidtxt[32];
	snprintf(gidtxt, sizeof(gidtxt), "%s", db->f[F_PASSWD].l[i].f[3]);
	if (!home)
		return -ENOMEM;
	pw_file_remove(&db->f[F_PASSWD], (size_t)i);
	db->dirty[F_PASSWD] = true;
	long s = shadow_line(db, name, false);
	if (s >= 0) {
		pw_file_remove(&db->f[F_SHADOW], (size_t)s);
		db->dirty[F_SHADOW] = true;
	}
	for (size_t g = 0; g < db->f[F_GROUP].n; g++)
		if (db->f[F_GROUP].l[g].f && pw_list_remove(&db->f[F_GROUP], g, 3, name) > 0)
			db->dirty[F_GROUP] = true;
	for (size_t g = 0; g < db->f[F_GSHADOW].n; g++)
		if (db->f[F_GSHADOW].l[g].f && pw_list_remove(&db->f[F_GSHADOW], g, 3, name) > 0)
			db->dirty[F_GSHADOW] = true;
	/* userdel: the user's own group goes too when nobody else is in it */
	long gi = pw_file_find(&db->f[F_GROUP], name);
	if (gi >= 0 && !strcmp(db->f[F_GROUP].l[gi].f[2], gidtxt) &&
	    !db->f[F_GROUP].l[gi].f[3][0]) {
		bool used = false;
		for (size_t u = 0; u < db->f[F_PASSWD].n; u++)
			used |= db->f[F_PASSWD].l[u].f &&
				!strcmp(db->f[F_PASSWD].l[u].f[3], gidtxt);
		if (!used) {
			pw_file_remove(&db->f[F_GROUP], (size_t)gi);
			long gs = gshadow_line(db, name, false);
			if (gs >= 0) {
				pw_file_remove(&db->f[F_GSHADOW], (size_t)gs);
				db->dirty[F_GSHADOW] = true;
			}
		}
	}
	plan_item(p, '-', "user", name, NULL);
	p->n_users++;
	/* userdel --remove */
	struct prov_target t = {};
	int r = plan_resolve(p, home, where, &t);
	if (r < 0)
		return r;
	if (t.exists && S_ISDIR(t.st.st_mode) && !t.planned && strcmp(t.canon, "")) {
		r = step_backup(p, t.canon, t.missing, where);
		json_t *v = json_pack("{s:s, s:s}", "k", "-", "w", where);
		if (r >= 0 && (!v || json_object_set_new(p->nodes, t.canon, v) < 0))
			r = -ENOMEM;
		if (r >= 0)
			plan_item(p, '-', "home", home, "%s", name);
	}
	prov_target_release(&t);
	return r;
}

static int plan_user(struct prov_plan *p, json_t *u, const char *where)
{
	struct pw_db *db = p->db;
	const char *name = json_string_value(json_object_get(u, "name"));
	const char *hash = json_string_value(json_object_get(u, "passwordHash"));
	const char *home = json_string_value(json_object_get(u, "homeDir"));
	const char *gecos = json_string_value(json_object_get(u, "gecos"));
	const char *shell = json_string_value(json_object_get(u, "shell"));
	const char *pgroup = json_string_value(json_object_get(u, "primaryGroup"));
	json_t *juid = json_object_get(u, "uid"), *groups = json_object_get(u, "groups");
	bool system = json_is_true(json_object_get(u, "system"));
	bool base;
	long i;
	char num[32], gnum[32];
	int r;

	if (!name)
		return 0;
	if (strpbrk(name, ":\n,") || name[0] == '+' || name[0] == '-')
		return plan_fail(p, -EINVAL, where, name, "not a valid user name");
	if (field_bad(hash) || field_bad(home) || field_bad(gecos) || field_bad(shell))
		return plan_fail(
			p, -EINVAL, where, name,
			"passwordHash, homeDir, gecos and shell cannot hold ':' or newlines");
	if (home && home[0] && home[0] != '/')
		return plan_fail(p, -EINVAL, where, name, "homeDir must be an absolute path");
	i = find_user(db, name, &base);
	if (json_is_false(json_object_get(u, "shouldExist")))
		return plan_user_delete(p, name, i, base, where);

	unsigned long gid;
	if (i < 0) {
		/* useradd */
		unsigned long uid;
		r = pick_id(p, &db->f[F_PASSWD], &db->base_pw, juid, system, true, name, where,
			    &uid);
		if (r < 0)
			return r;
		if (pgroup) {
			if (resolve_group_arg(db, pgroup, &gid) < 0)
				return plan_fail(p, -ENOENT, where, name,
						 "primary group '%s' does not exist", pgroup);
		} else if (json_is_true(json_object_get(u, "noUserGroup")))
			gid = db->default_gid;
		else {
			bool gb;
			if (find_group(db, name, &gb) >= 0)
				return plan_fail(
					p, -EEXIST, where, name,
					"group '%s' exists: set primaryGroup to use it (useradd "
					"refuses too)",
					name);
			/* the user's own group: gid = uid when free */
			gid = uid;
			if (id_used(&db->f[F_GROUP], &db->base_gr, 2, gid, NULL) &&
			    next_id(&db->f[F_GROUP], &db->base_gr,
				    system ? db->sys_gid_min : db->gid_min,
				    system ? db->sys_gid_max : db->gid_max, system, &gid) < 0)
				return plan_fail(p, -ENOSPC, where, name, "no free gid left");
			snprintf(gnum, sizeof(gnum), "%lu", gid);
			const char *gf[4] = { name, "x", gnum, "" };
			if (pw_file_add(&db->f[F_GROUP], gf) < 0 ||
			    gshadow_line(db, name, true) < 0)
				return -ENOMEM;
			db->dirty[F_GROUP] = true;
		}
		_cleanup_free_ char *h = NULL;
		if (home && home[0])
			h = strdup(home);
		else if (asprintf(&h, "%s/%s", db->home_base, name) < 0)
			h = NULL;
		if (!h)
			return -ENOMEM;
		snprintf(num, sizeof(num), "%lu", uid);
		snprintf(gnum, sizeof(gnum), "%lu", gid);
		const char *f[7] = { name,
				     "x",
				     num,
				     gnum,
				     gecos ? gecos : "",
				     h,
				     shell && shell[0] ? shell : db->shell };
		if (pw_file_add(&db->f[F_PASSWD], f) < 0)
			return -ENOMEM;
		db->dirty[F_PASSWD] = true;
		char d0[32], d1[32], d2[32], d3[32];
		snprintf(d0, sizeof(d0), "%lld", (long long)(time(NULL) / 86400));
		snprintf(d1, sizeof(d1), "%lu", db->pass_min);
		snprintf(d2, sizeof(d2), "%lu", db->pass_max);
		snprintf(d3, sizeof(d3), "%lu", db->pass_warn);
		const char *sf[9] = {
			name, hash && hash[0] ? hash : "*", d0, d1, d2, d3, "", "", ""
		};
		long s = pw_file_find(&db->f[F_SHADOW], name);
		if (s >= 0)
			pw_file_remove(&db->f[F_SHADOW], (size_t)s);
		if (pw_file_add(&db->f[F_SHADOW], sf) < 0)
			return -ENOMEM;
		db->dirty[F_SHADOW] = true;
		r = user_groups(p, groups, name, false, where);
		if (r < 0)
			return r;
		plan_item(p, '+', "user", name, "uid %lu gid %lu home %s", uid, gid, h);
		p->n_users++;
		if (!json_is_true(json_object_get(u, "noCreateHome")))
			return plan_home_create(p, h, (uid_t)uid, (gid_t)gid, where, name);
		return 0;
	}

	/* usermod: only what the config gives changes */
	if (base) {
		bool needed = (juid && json_is_integer(juid)) || hash || (home && home[0]) ||
			      gecos || shell || pgroup;
		if (!needed && !json_array_size(groups))
			return 0;
		if (needed && (i = copy_base(db, F_PASSWD, &db->base_pw, i)) < 0)
			return -ENOMEM;
		if (!needed) {
			r = user_groups(p, groups, name, true, where);
			if (r >= 0)
				plan_item(p, '~', "user", name, "groups");
			p->n_users++;
			return r;
		}
	}
	char **f = db->f[F_PASSWD].l[i].f;
	unsigned long old_uid = 0;
	(void)pw_parse_id(f[2], &old_uid);
	_cleanup_free_ char *old_home = strdup(f[5]);
	if (!old_home)
		return -ENOMEM;
	bool change = false;
	if (json_is_integer(juid) && (unsigned long)json_integer_value(juid) != old_uid) {
		unsigned long uid = (unsigned long)json_integer_value(juid);
		if (id_used(&db->f[F_PASSWD], &db->base_pw, 2, uid, name))
			return plan_fail(p, -EEXIST, where, name, "uid %lu is already in use", uid);
		snprintf(num, sizeof(num), "%lu", uid);
		change |= set_field(db, F_PASSWD, i, 2, num) > 0;
	}
	if (gecos)
		change |= set_field(db, F_PASSWD, i, 4, gecos) > 0;
	if (shell && shell[0])
		change |= set_field(db, F_PASSWD, i, 6, shell) > 0;
	if (pgroup) {
		if (resolve_group_arg(db, pgroup, &gid) < 0)
			return plan_fail(p, -ENOENT, where, name,
					 "primary group '%s' does not exist", pgroup);
		snprintf(gnum, sizeof(gnum), "%lu", gid);
		change |= set_field(db, F_PASSWD, i, 3, gnum) > 0;
	}
	bool move = home && home[0] && strcmp(home, old_home) != 0;
	if (move)
		change |= set_field(db, F_PASSWD, i, 5, home) > 0;
	if (hash) {
		long s = shadow_line(db, name, true);
		if (s < 0)
			return -ENOMEM;
		change |= set_field(db, F_SHADOW, s, 1, hash[0] ? hash : "*") > 0;
	}
	if (json_is_array(groups) && json_array_size(groups)) {
		r = user_groups(p, groups, name, true, where);
		if (r < 0)
			return r;
		change = true;
	}
	if (change) {
		plan_item(p, '~', "user", name, NULL);
		p->n_users++;
	}
	/* usermod -u: the home's files owned by the old uid follow */
	unsigned long new_uid = old_uid;
	(void)pw_parse_id(db->f[F_PASSWD].l[i].f[2], &new_uid);
	if (new_uid != old_uid) {
		struct prov_target t = {};
		r = plan_resolve(p, old_home, where, &t);
		if (r < 0)
			return r;
		if (t.exists && !t.planned && S_ISDIR(t.st.st_mode)) {
			_cleanup_close_ int hfd = fs_open_canon_dir(p->root_fd, t.canon, O_RDONLY);
			r = hfd < 0 ? hfd
				    : step_attr(p, t.canon, &t.st, (uid_t)new_uid, t.st.st_gid,
						t.st.st_uid == old_uid, 0, false, where);
			if (r >= 0)
				r = chown_tree(p, t.canon, hfd, (uid_t)old_uid, (uid_t)new_uid,
					       where, 0);
			if (r < 0 && r != -ENOMEM)
				r = plan_fail(p, r, where, old_home, "changing owners: %s",
					      strerror(-r));
		}
		prov_target_release(&t);
		if (r < 0)
			return r;
	}
	/* usermod --home --move-home */
	if (move) {
		struct prov_target from = {}, to = {};
		r = plan_resolve(p, old_home, where, &from);
		if (r >= 0)
			r = plan_resolve(p, home, where, &to);
		if (r >= 0 && from.exists && S_ISDIR(from.st.st_mode) && !from.planned) {
			if (to.exists)
				r = plan_fail(p, -EEXIST, where, home,
					      "cannot move the home of '%s' there: it exists",
					      name);
			else {
				r = plan_claim(p, &to, NODE_DIR, where, home);
				if (r >= 0)
					r = plan_parents(p, &to, where);
				if (r >= 0)
					r = step_move(p, from.canon, to.canon, where);
				json_t *v = json_pack("{s:s, s:s}", "k", "-", "w", where);
				if (r >= 0 &&
				    (!v || json_object_set_new(p->nodes, from.canon, v) < 0))
					r = -ENOMEM;
				if (r >= 0)
					plan_item(p, '~', "home", home, "moved from %s", old_home);
			}
		}
		prov_target_release(&from);
		prov_target_release(&to);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Could uid:gid create or replace a node in the directory st (as Ignition's as_user)? */
static bool user_may_write(const struct stat *st, uid_t uid, gid_t gid)
{
	if (uid == 0)
		return true;
	if (st->st_uid == uid)
		return (st->st_mode & 0300) == 0300;
	if (st->st_gid == gid)
		return (st->st_mode & 0030) == 0030;
	return (st->st_mode & 0003) == 0003;
}

/* <home>/.ssh/authorized_keys.d/ignition, written as Flatcar's Ignition writes it: the keys
 * joined by newlines with a final newline, 0600, directories 0700, all owned by the user, and
 * only where the user could write (so a symlink the user planted leads nowhere else). */
static int plan_ssh_keys(struct prov_plan *p, json_t *u, const char *where)
{
	const char *name = json_string_value(json_object_get(u, "name"));
	json_t *keys = json_object_get(u, "sshAuthorizedKeys");
	size_t k;
	json_t *key;
	uid_t uid;
	gid_t gid;
	_cleanup_free_ char *home = NULL, *path = NULL, *text = NULL;
	size_t tn = 0;
	int r;

	if (!name || json_array_size(keys) == 0 || json_is_false(json_object_get(u, "shouldExist")))
		return 0;
	r = pw_db_user_id(p->db, name, &uid, &gid, &home);
	if (r < 0)
		return plan_fail(p, r, where, name, "cannot find the user to add SSH keys to");
	if (home[0] != '/')
		return plan_fail(p, -EINVAL, where, name, "home '%s' is not an absolute path",
				 home);
	if (asprintf(&path, "%s/.ssh/authorized_keys.d/ignition", home) < 0)
		return -ENOMEM;
	json_array_foreach(keys, k, key)
	{
		const char *s = json_string_value(key);
		size_t n = strlen(s ? s : "");
		char *t = realloc(text, tn + n + 2);
		if (!t)
			return -ENOMEM;
		text = t;
		memcpy(text + tn, s ? s : "", n);
		tn += n;
		if (k + 1 < json_array_size(keys))
			text[tn++] = '\n';
	}
	if (!text || tn == 0 || text[tn - 1] != '\n') {
		char *t = realloc(text, tn + 1);
		if (!t)
			return -ENOMEM;
		text = t;
		text[tn++] = '\n';
	}

	/* the home first: missing, it is made for the user (Ignition needs it to exist) */
	struct prov_target h = {};
	r = plan_resolve(p, home, where, &h);
	if (r < 0)
		return r;
	if (!h.exists) {
		r = plan_home_create(p, home, uid, gid, where, name);
		prov_target_release(&h);
		if (r < 0)
			return r;
		r = plan_resolve(p, home, where, &h);
		if (r < 0)
			return r;
	}
	size_t home_len = strlen(h.canon);
	prov_target_release(&h);

	struct prov_target t = {};
	r = plan_resolve(p, path, where, &t);
	if (r < 0)
		return r;
	/* the directory the user's write lands in (the first missing one's parent, or the
	 * file's): check it as the user */
	{
		char dir[PATH_MAX];
		const char *slash = strrchr(t.canon, '/');
		if (t.missing < strlen(t.canon))
			snprintf(dir, sizeof(dir), "%.*s", t.missing ? (int)t.missing - 1 : 0,
				 t.canon);
		else
			snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - t.canon) : 0,
				 t.canon);
		struct stat st;
		json_t *pn = json_object_get(p->nodes, dir);
		_cleanup_close_ int dfd = pn ? -1 : fs_open_canon_dir(p->root_fd, dir, O_PATH);
		if (!pn && (dfd < 0 || fstat(dfd, &st) < 0 || !user_may_write(&st, uid, gid))) {
			prov_target_release(&t);
			return plan_fail(p, -EACCES, where, path,
					 "'/%s' is not writable by user '%s' (Ignition writes SSH "
					 "keys as the user)",
					 dir, name);
		}
	}
	if (t.missing < strlen(t.canon)) {
		/* the missing directories below the home: 0700, the user's */
		_cleanup_free_ char *c = strdup(t.canon);
		if (!c) {
			prov_target_release(&t);
			return -ENOMEM;
		}
		for (size_t i = t.missing; c[i]; i++) {
			if (c[i] != '/')
				continue;
			c[i] = 0;
			if (!json_object_get(p->nodes, c)) {
				bool mine = strlen(c) >= home_len;
				unsigned sdir;
				char nm[24];
				r = stage_dir_for(p, c, t.missing, &sdir);
				if (r >= 0)
					r = stage_dir(p, sdir, mine ? 0700 : 0755, mine ? uid : 0,
						      mine ? gid : 0, nm);
				if (r >= 0)
					r = step_place(p, sdir, nm, c, where);
				json_t *v = json_pack("{s:s, s:s, s:b}", "k", "d", "w", where,
						      "new", 1);
				if (r >= 0 && (!v || json_object_set_new(p->nodes, c, v) < 0))
					r = -ENOMEM;
				if (r < 0) {
					prov_target_release(&t);
					return r == -ENOMEM ? r
							    : plan_fail(p, r, where, c, "%s",
									strerror(-r));
				}
			}
			c[i] = '/';
		}
		t.missing = strlen(t.canon);
	}
	prov_target_release(&t);
	r = plan_put_file(p, path, where, text, tn, 0600, uid, gid, false, "ssh-keys", true);
	return r;
}

int plan_passwd(struct prov_plan *p, json_t *config)
{
	json_t *pw = json_object_get(config, "passwd");
	json_t *groups = json_object_get(pw, "groups"), *users = json_object_get(pw, "users");
	size_t i;
	json_t *e;
	char where[64];
	if (!json_array_size(groups) && !json_array_size(users))
		return 0;
	int r = plan_pw_db(p, "/passwd");
	if (r < 0)
		return r;
	json_array_foreach(groups, i, e)
	{
		snprintf(where, sizeof(where), "/passwd/groups/%zu", i);
		r = plan_group(p, e, where);
		if (r == -ENOMEM)
			return r;
	}
	json_array_foreach(users, i, e)
	{
		snprintf(where, sizeof(where), "/passwd/users/%zu", i);
		r = plan_user(p, e, where);
		if (r == -ENOMEM)
			return r;
	}
	/* the files, each replaced whole (lines and order kept; owner, mode, xattrs kept) */
	for (int k = 0; k < _F_MAX; k++) {
		if (!p->db->dirty[k])
			continue;
		size_t n = 0;
		_cleanup_free_ char *text = pw_file_format(&p->db->f[k], &n);
		if (!text)
			return -ENOMEM;
		r = plan_put_file(p, etc_path[k], "/passwd", text, n, new_mode[k], 0, 0, true,
				  "file", true);
		if (r == -ENOMEM)
			return r;
	}
	/* SSH keys after every user exists (Ignition: per user, after useradd) */
	json_array_foreach(users, i, e)
	{
		snprintf(where, sizeof(where), "/passwd/users/%zu", i);
		r = plan_ssh_keys(p, e, where);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}
