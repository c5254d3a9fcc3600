/* SPDX-License-Identifier: MIT */
/* lib/provision/journal.c - the staging area and the undo journal of a commit
 * (docs/provision.md §7, docs/provision-apply.md).
 *
 * Everything new is first built in a staging directory, .flatctl-stage.XXXXXX, on the same
 * filesystem as its destination (the root's top, or the top of another filesystem mounted
 * inside the root), where it is invisible. The commit is then a list of steps that are each
 * one system call: rename a staged node into place, rename an old node away into the staging
 * directory, chown/chmod, append in place, move. Before the first step the whole list is
 * written to journal.json in the root's staging directory and fsynced; after the last, the
 * filesystems are synced and the journal marked done. Every step has an undo that looks at
 * what is there (a staged node still in staging was never placed; a backup still in staging
 * was never restored), so the undo of the whole list, in reverse, is right whether the run
 * failed at a step or was killed anywhere: the next run finds the journal and rolls it back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "internal.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define STAGE_PREFIX ".flatctl-stage."
#define JOURNAL "journal.json"

static void split_canon(const char *canon, char *dir, size_t dsize, const char **base)
{
	const char *slash = strrchr(canon, '/');
	if (slash) {
		snprintf(dir, dsize, "%.*s", (int)(slash - canon), canon);
		*base = slash + 1;
	} else {
		dir[0] = 0;
		*base = canon;
	}
}

/* The parent directory of a canonical path, opened without following symlinks. */
static int open_parent(int root_fd, const char *canon, const char **ret_base)
{
	char dir[PATH_MAX];
	split_canon(canon, dir, sizeof(dir), ret_base);
	return fs_open_canon_dir(root_fd, dir, O_PATH);
}

/* --- the journal file ------------------------------------------------------------------- */

static json_t *step_to_json(const struct prov_step *s)
{
	switch (s->op) {
	case 'P':
	case 'B':
		return json_pack("[s#, I, s, s, s]", &s->op, 1, (json_int_t)s->sdir, s->name,
				 s->path, s->where ? s->where : "");
	case 'A':
		return json_pack("[s#, s, I, I, I, I, I, I, b, b, I, s]", &s->op, 1, s->path,
				 (json_int_t)s->uid, (json_int_t)s->gid, (json_int_t)s->mode,
				 (json_int_t)s->ouid, (json_int_t)s->ogid, (json_int_t)s->omode,
				 s->chown, s->chmod, (json_int_t)s->ino, s->where ? s->where : "");
	case 'W':
		return json_pack("[s#, I, s, s, I, I, s]", &s->op, 1, (json_int_t)s->sdir, s->name,
				 s->path, (json_int_t)s->old_size, (json_int_t)s->ino,
				 s->where ? s->where : "");
	case 'M':
		return json_pack("[s#, s, s, s]", &s->op, 1, s->path, s->path2,
				 s->where ? s->where : "");
	}
	return NULL;
}

static int step_from_json(json_t *j, size_t ndirs, struct prov_step *s)
{
	const char *op = json_string_value(json_array_get(j, 0));
	json_int_t a[8] = {};
	const char *n = NULL, *path = NULL, *path2 = NULL, *where = NULL;
	int ch = 0, cm = 0;

	if (!op || strlen(op) != 1)
		return -EBADMSG;
	*s = (struct prov_step){ .op = op[0] };
	switch (op[0]) {
	case 'P':
	case 'B':
		if (json_unpack(j, "[s, I, s, s, s]", &op, &a[0], &n, &path, &where) < 0)
			return -EBADMSG;
		break;
	case 'A':
		if (json_unpack(j, "[s, s, I, I, I, I, I, I, b, b, I, s]", &op, &path, &a[0], &a[1],
				&a[2], &a[3], &a[4], &a[5], &ch, &cm, &a[6], &where) < 0)
			return -EBADMSG;
		s->uid = (uid_t)a[0];
		s->gid = (gid_t)a[1];
		s->mode = (mode_t)a[2];
		s->ouid = (uid_t)a[3];
		s->ogid = (gid_t)a[4];
		s->omode = (mode_t)a[5];
		s->chown = ch;
		s->chmod = cm;
		s->ino = (uint64_t)a[6];
		break;
	case 'W':
		if (json_unpack(j, "[s, I, s, s, I, I, s]", &op, &a[0], &n, &path, &a[1], &a[2],
				&where) < 0)
			return -EBADMSG;
		s->old_size = (uint64_t)a[1];
		s->ino = (uint64_t)a[2];
		break;
	case 'M':
		if (json_unpack(j, "[s, s, s, s]", &op, &path, &path2, &where) < 0)
			return -EBADMSG;
		break;
	default:
		return -EBADMSG;
	}
	if (op[0] == 'P' || op[0] == 'B' || op[0] == 'W') {
		if (a[0] < 0 || (size_t)a[0] >= ndirs || strlen(n) >= sizeof(s->name) ||
		    strchr(n, '/') || !strcmp(n, ".") || !strcmp(n, ".."))
			return -EBADMSG;
		s->sdir = (unsigned)a[0];
		strcpy(s->name, n);
	}
	s->path = strdup(path);
	s->path2 = path2 ? strdup(path2) : NULL;
	s->where = strdup(where);
	if (!s->path || (path2 && !s->path2) || !s->where)
		return -ENOMEM;
	return 0;
}

/* Write the journal atomically in the root's staging directory; fsync it when durable. */
static int journal_write(struct prov_plan *p, const char *state, bool durable)
{
	json_auto_t *dirs = json_array(), *steps = json_array();
	if (!dirs || !steps)
		return -ENOMEM;
	for (size_t i = 0; i < p->ndirs; i++)
		if (json_array_append_new(dirs, json_string(p->dirs[i].canon)) < 0)
			return -ENOMEM;
	if (strcmp(state, "staging") != 0)
		for (size_t i = 0; i < p->nsteps; i++)
			if (json_array_append_new(steps, step_to_json(&p->steps[i])) < 0)
				return -ENOMEM;
	json_auto_t *doc = json_pack("{s:i, s:s, s:O, s:O}", "version", 1, "state", state, "dirs",
				     dirs, "steps", steps);
	if (!doc)
		return -ENOMEM;
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	int dfd = p->dirs[0].fd;
	_cleanup_close_ int fd = openat(
		dfd, JOURNAL ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fs_write_all(fd, text, strlen(text));
	if (r < 0)
		return r;
	if (durable && fsync(fd) < 0)
		return -errno;
	if (renameat(dfd, JOURNAL ".tmp", dfd, JOURNAL) < 0)
		return -errno;
	if (durable && fsync(dfd) < 0)
		return -errno;
	return 0;
}

/* --- staging ---------------------------------------------------------------------------- */

static int mkstage(int parent_fd, char *name, size_t size)
{
	for (int attempt = 0; attempt < 100; attempt++) {
		snprintf(name, size, STAGE_PREFIX "%06lx", (unsigned long)(random() & 0xffffff));
		if (mkdirat(parent_fd, name, 0700) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

static int add_stagedir(struct prov_plan *p, const char *at, dev_t dev, unsigned *ret)
{
	char name[64];
	_cleanup_close_ int pfd = fs_open_canon_dir(p->root_fd, at, O_PATH);
	if (pfd < 0)
		return pfd;
	struct prov_stagedir *d = reallocarray(p->dirs, p->ndirs + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	p->dirs = d;
	int r = mkstage(pfd, name, sizeof(name));
	if (r < 0)
		return r;
	struct prov_stagedir *n = &p->dirs[p->ndirs];
	*n = (struct prov_stagedir){ .dev = dev, .fd = -1, .pfd = -1 };
	if (asprintf(&n->canon, "%s%s%s", at, at[0] ? "/" : "", name) < 0) {
		(void)unlinkat(pfd, name, AT_REMOVEDIR);
		return -ENOMEM;
	}
	n->fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (n->fd < 0) {
		r = -errno;
		(void)unlinkat(pfd, name, AT_REMOVEDIR);
		free(n->canon);
		return r;
	}
	n->pfd = TAKE_FD(pfd);
	p->ndirs++;
	*ret = (unsigned)(p->ndirs - 1);
	/* the list of staging directories is known before anything is staged in a new one */
	return journal_write(p, "staging", false);
}

int stage_dir_for(struct prov_plan *p, const char *canon, size_t missing, unsigned *ret)
{
	char dir[PATH_MAX];
	const char *base;
	struct stat st;
	int r;

	*ret = 0;
	if (p->o->dry_run)
		return 0;
	if (p->ndirs == 0) {
		r = add_stagedir(p, "", p->root_st.st_dev, ret);
		if (r < 0)
			return r;
	}
	/* the existing directory that will hold the node or its first missing parent */
	if (missing < strlen(canon))
		snprintf(dir, sizeof(dir), "%.*s", missing ? (int)missing - 1 : 0, canon);
	else
		split_canon(canon, dir, sizeof(dir), &base);
	/* planned directories are not there yet: they will be on their real ancestor's device */
	_cleanup_close_ int fd = -1;
	for (;;) {
		fd = fs_open_canon_dir(p->root_fd, dir, O_PATH);
		if (fd != -ENOENT || !dir[0])
			break;
		char up[PATH_MAX];
		split_canon(dir, up, sizeof(up), &base);
		strcpy(dir, up);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	for (size_t i = 0; i < p->ndirs; i++)
		if (p->dirs[i].dev == st.st_dev) {
			*ret = (unsigned)i;
			return 0;
		}
	/* another filesystem inside the root: stage at its top, found by walking up */
	for (;;) {
		char up[PATH_MAX];
		struct stat ust;
		if (!dir[0])
			break;
		split_canon(dir, up, sizeof(up), &base);
		_cleanup_close_ int ufd = fs_open_canon_dir(p->root_fd, up, O_PATH);
		if (ufd < 0 || fstat(ufd, &ust) < 0 || ust.st_dev != st.st_dev)
			break;
		strcpy(dir, up);
	}
	return add_stagedir(p, dir, st.st_dev, ret);
}

static void next_name(struct prov_plan *p, unsigned sdir, char kind, char *ret)
{
	unsigned k = p->ndirs ? p->dirs[sdir].next++ : 0;
	snprintf(ret, 24, "%c%x", kind, k);
}

int stage_file(struct prov_plan *p, unsigned sdir, const void *data, size_t n, mode_t mode,
	       uid_t uid, gid_t gid, int xattr_src_fd, char *ret_name)
{
	next_name(p, sdir, 'n', ret_name);
	if (p->o->dry_run)
		return 0;
	int dfd = p->dirs[sdir].fd;
	_cleanup_close_ int fd =
		openat(dfd, ret_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int r = fs_write_all(fd, data, n);
	if (r < 0)
		return r;
	if (xattr_src_fd >= 0) {
		r = fs_copy_xattrs(xattr_src_fd, fd);
		if (r < 0)
			return r;
	}
	/* owner first: a chown clears setuid/setgid, the chmod after it sets them */
	if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
		return -errno;
	return 0;
}

int stage_dir(struct prov_plan *p, unsigned sdir, mode_t mode, uid_t uid, gid_t gid, char *ret_name)
{
	next_name(p, sdir, 'n', ret_name);
	if (p->o->dry_run)
		return 0;
	int dfd = p->dirs[sdir].fd;
	if (mkdirat(dfd, ret_name, 0700) < 0)
		return -errno;
	if (fchownat(dfd, ret_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dfd, ret_name, mode, 0) < 0)
		return -errno;
	return 0;
}

int stage_symlink(struct prov_plan *p, unsigned sdir, const char *target, uid_t uid, gid_t gid,
		  char *ret_name)
{
	next_name(p, sdir, 'n', ret_name);
	if (p->o->dry_run)
		return 0;
	int dfd = p->dirs[sdir].fd;
	if (symlinkat(target, dfd, ret_name) < 0)
		return -errno;
	if (fchownat(dfd, ret_name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int stage_hardlink(struct prov_plan *p, unsigned sdir, int target_dfd, const char *target_name,
		   char *ret_name)
{
	next_name(p, sdir, 'n', ret_name);
	if (p->o->dry_run)
		return 0;
	if (linkat(target_dfd, target_name, p->dirs[sdir].fd, ret_name, 0) < 0)
		return -errno;
	return 0;
}

/* --- steps ------------------------------------------------------------------------------ */

struct prov_step *step_add(struct prov_plan *p, char op, const char *path, const char *where)
{
	if (p->nsteps == p->asteps) {
		size_t na = p->asteps ? p->asteps * 2 : 256;
		struct prov_step *s = reallocarray(p->steps, na, sizeof(*s));
		if (!s)
			return NULL;
		p->steps = s;
		p->asteps = na;
	}
	struct prov_step *s = &p->steps[p->nsteps];
	*s = (struct prov_step){ .op = op,
				 .path = strdup(path),
				 .where = where ? strdup(where) : NULL };
	if (!s->path || (where && !s->where)) {
		free(s->path);
		free(s->where);
		return NULL;
	}
	p->nsteps++;
	return s;
}

int step_place(struct prov_plan *p, unsigned sdir, const char *name, const char *canon,
	       const char *where)
{
	struct prov_step *s = step_add(p, 'P', canon, where);
	if (!s)
		return -ENOMEM;
	s->sdir = sdir;
	snprintf(s->name, sizeof(s->name), "%s", name);
	return 0;
}

int step_backup(struct prov_plan *p, const char *canon, size_t missing, const char *where)
{
	unsigned sdir;
	int r = stage_dir_for(p, canon, missing, &sdir);
	if (r < 0)
		return r;
	struct prov_step *s = step_add(p, 'B', canon, where);
	if (!s)
		return -ENOMEM;
	s->sdir = sdir;
	next_name(p, sdir, 'b', s->name);
	return 0;
}

int step_attr(struct prov_plan *p, const char *canon, const struct stat *st, uid_t uid, gid_t gid,
	      bool chown, mode_t mode, bool chmod, const char *where)
{
	if (chown && st->st_uid == uid && st->st_gid == gid)
		chown = false;
	if (chmod && (st->st_mode & 07777) == (mode & 07777))
		chmod = false;
	if (S_ISLNK(st->st_mode))
		chmod = false;
	/* a chown clears setuid/setgid: set the mode again after it */
	if (chown && (st->st_mode & 06000) && !chmod && !S_ISLNK(st->st_mode)) {
		chmod = true;
		mode = st->st_mode & 07777;
	}
	if (!chown && !chmod)
		return 0;
	struct prov_step *s = step_add(p, 'A', canon, where);
	if (!s)
		return -ENOMEM;
	s->uid = uid;
	s->gid = gid;
	s->mode = mode & 07777;
	s->ouid = st->st_uid;
	s->ogid = st->st_gid;
	s->omode = st->st_mode & 07777;
	s->chown = chown;
	s->chmod = chmod;
	s->ino = st->st_ino;
	return 0;
}

int step_append(struct prov_plan *p, const char *canon, const struct stat *st, const void *data,
		size_t n, const char *where)
{
	unsigned sdir;
	int r = stage_dir_for(p, canon, strlen(canon), &sdir);
	if (r < 0)
		return r;
	char name[24];
	next_name(p, sdir, 'a', name);
	if (!p->o->dry_run) {
		_cleanup_close_ int fd =
			openat(p->dirs[sdir].fd, name,
			       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		r = fs_write_all(fd, data, n);
		if (r < 0)
			return r;
	}
	struct prov_step *s = step_add(p, 'W', canon, where);
	if (!s)
		return -ENOMEM;
	s->sdir = sdir;
	memcpy(s->name, name, sizeof(name));
	s->old_size = (uint64_t)st->st_size;
	s->ino = st->st_ino;
	return 0;
}

int step_move(struct prov_plan *p, const char *from, const char *to, const char *where)
{
	struct prov_step *s = step_add(p, 'M', from, where);
	if (!s)
		return -ENOMEM;
	s->path2 = strdup(to);
	return s->path2 ? 0 : -ENOMEM;
}

/* --- doing and undoing ------------------------------------------------------------------ */

static int copy_fd(int in, int out)
{
	char buf[65536];
	for (;;) {
		ssize_t k = read(in, buf, sizeof(buf));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return 0;
		int r = fs_write_all(out, buf, (size_t)k);
		if (r < 0)
			return r;
	}
}

static int step_do(int root_fd, const struct prov_stagedir *dirs, const struct prov_step *s)
{
	const char *base;
	_cleanup_close_ int pfd = open_parent(root_fd, s->path, &base);
	if (pfd < 0)
		return pfd;
	int sfd = s->op == 'P' || s->op == 'B' || s->op == 'W' ? dirs[s->sdir].fd : -1;
	switch (s->op) {
	case 'P':
		return renameat2(sfd, s->name, pfd, base, RENAME_NOREPLACE) < 0 ? -errno : 0;
	case 'B':
		return renameat2(pfd, base, sfd, s->name, RENAME_NOREPLACE) < 0 ? -errno : 0;
	case 'A': {
		struct stat st;
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (st.st_ino != s->ino)
			return -ESTALE;
		if (s->chown && fchownat(pfd, base, s->uid, s->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (s->chmod && fchmodat(pfd, base, s->mode, 0) < 0)
			return -errno;
		return 0;
	}
	case 'W': {
		struct stat st;
		_cleanup_close_ int fd =
			openat(pfd, base, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (st.st_ino != s->ino || !S_ISREG(st.st_mode))
			return -ESTALE;
		_cleanup_close_ int in = openat(sfd, s->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return -errno;
		return copy_fd(in, fd);
	}
	case 'M': {
		const char *base2;
		_cleanup_close_ int pfd2 = open_parent(root_fd, s->path2, &base2);
		if (pfd2 < 0)
			return pfd2;
		return renameat2(pfd, base, pfd2, base2, RENAME_NOREPLACE) < 0 ? -errno : 0;
	}
	}
	return -EINVAL;
}

static bool present(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int step_undo(int root_fd, const struct prov_stagedir *dirs, const struct prov_step *s)
{
	const char *base;
	_cleanup_close_ int pfd = open_parent(root_fd, s->path, &base);
	int sfd = s->op == 'P' || s->op == 'B' || s->op == 'W' ? dirs[s->sdir].fd : -1;
	struct stat st;

	if (pfd == -ENOENT && s->op != 'B' && s->op != 'M')
		return 0; /* its directory is not there: neither is the node */
	if (pfd < 0 && s->op != 'M')
		return pfd;
	switch (s->op) {
	case 'P':
		if (present(sfd, s->name))
			return 0; /* never placed */
		if (renameat2(pfd, base, sfd, s->name, RENAME_NOREPLACE) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	case 'B':
		if (!present(sfd, s->name))
			return 0; /* never moved away, or already back */
		return renameat2(sfd, s->name, pfd, base, RENAME_NOREPLACE) < 0 ? -errno : 0;
	case 'A':
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT ? 0 : -errno;
		if (st.st_ino != s->ino)
			return 0;
		if (s->chown && fchownat(pfd, base, s->ouid, s->ogid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (s->chmod && fchmodat(pfd, base, s->omode, 0) < 0)
			return -errno;
		return 0;
	case 'W': {
		_cleanup_close_ int fd = openat(pfd, base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT ? 0 : -errno;
		if (fstat(fd, &st) < 0)
			return -errno;
		if (st.st_ino != s->ino)
			return 0;
		return ftruncate(fd, (off_t)s->old_size) < 0 ? -errno : 0;
	}
	case 'M': {
		const char *base2;
		_cleanup_close_ int pfd2 = open_parent(root_fd, s->path2, &base2);
		if (pfd2 == -ENOENT)
			return 0;
		if (pfd2 < 0)
			return pfd2;
		if (pfd >= 0 && present(pfd, base))
			return 0; /* never moved */
		if (!present(pfd2, base2))
			return 0;
		if (pfd < 0)
			return pfd;
		return renameat2(pfd2, base2, pfd, base, RENAME_NOREPLACE) < 0 ? -errno : 0;
	}
	}
	return -EINVAL;
}

/* Undo steps [0, n) in reverse; every failure is reported. Returns 0 or the first error. */
static int undo_all(int root_fd, const struct prov_stagedir *dirs, const struct prov_step *steps,
		    size_t n, struct problem_list *l)
{
	int first = 0;
	for (size_t i = n; i-- > 0;) {
		int r = step_undo(root_fd, dirs, &steps[i]);
		if (r < 0) {
			(void)problem_add(l, r, steps[i].where,
					  "rollback: cannot undo step %zu ('%c' %s): %s", i,
					  steps[i].op, steps[i].path, strerror(-r));
			if (!first)
				first = r;
		}
	}
	return first;
}

static void remove_stagedirs(struct prov_stagedir *dirs, size_t n)
{
	/* the root's own staging directory (with the journal) last; one whose parent could not be
	 * opened is left for the next run */
	for (size_t i = n; i-- > 0;) {
		if (dirs[i].pfd < 0)
			continue;
		const char *slash = strrchr(dirs[i].canon, '/');
		(void)fs_remove_tree(dirs[i].pfd, slash ? slash + 1 : dirs[i].canon);
	}
}

static void stagedirs_release(struct prov_stagedir *dirs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (dirs[i].fd >= 0)
			close(dirs[i].fd);
		if (dirs[i].pfd >= 0)
			close(dirs[i].pfd);
		free(dirs[i].canon);
	}
	free(dirs);
}

static void steps_release(struct prov_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(steps[i].path);
		free(steps[i].path2);
		free(steps[i].where);
	}
	free(steps);
}

void plan_discard(struct prov_plan *p)
{
	if (p->ndirs)
		remove_stagedirs(p->dirs, p->ndirs);
	stagedirs_release(p->dirs, p->ndirs);
	p->dirs = NULL;
	p->ndirs = 0;
	steps_release(p->steps, p->nsteps);
	p->steps = NULL;
	p->nsteps = p->asteps = 0;
}

/* FLATCTL_TEST_CRASH_AFTER=K: die (exit 99, no cleanup, as a kill -9 would leave things)
 * before step K; K = steps: after the last step, before the journal says done; K = steps + 1:
 * after it says done, before the cleanup. FLATCTL_TEST_STOP_AFTER=K: stop (SIGSTOP) there, for
 * a test to kill -9. FLATCTL_TEST_FAIL_AFTER=K: step K fails with EIO. */
static long test_env(const char *name)
{
	const char *v = getenv(name);
	char *end;
	if (!v || !*v)
		return -1;
	long k = strtol(v, &end, 10);
	return *end || k < 0 ? -1 : k;
}

static void crash_point(long crash, size_t at)
{
	static long stop = -2;
	if (stop == -2)
		stop = test_env("FLATCTL_TEST_STOP_AFTER");
	if (stop >= 0 && (size_t)stop == at) {
		fflush(NULL);
		(void)raise(SIGSTOP);
	}
	if (crash >= 0 && (size_t)crash == at) {
		fflush(NULL);
		_exit(99);
	}
}

int plan_commit(struct prov_plan *p, unsigned *ret_done)
{
	long crash = test_env("FLATCTL_TEST_CRASH_AFTER"),
	     fail = test_env("FLATCTL_TEST_FAIL_AFTER");
	int r;

	*ret_done = 0;
	if (p->nsteps == 0) {
		plan_discard(p);
		return 0;
	}
	r = journal_write(p, "commit", true);
	if (r < 0) {
		(void)problem_add(p->l, r, "", "writing the journal: %s", strerror(-r));
		plan_discard(p);
		return r;
	}
	for (size_t i = 0; i < p->nsteps; i++) {
		crash_point(crash, i);
		r = fail >= 0 && (size_t)fail == i ? -EIO
						   : step_do(p->root_fd, p->dirs, &p->steps[i]);
		if (r < 0) {
			(void)problem_add(p->l, r, p->steps[i].where, "/%s: %s", p->steps[i].path,
					  strerror(-r));
			if (undo_all(p->root_fd, p->dirs, p->steps, i + 1, p->l) < 0)
				return -ENOTRECOVERABLE; /* the journal stays for the next run */
			plan_discard(p);
			return r;
		}
	}
	crash_point(crash, p->nsteps);
	/* what the steps did reaches the disks before the journal says it is done */
	for (size_t i = 0; i < p->ndirs; i++)
		if (syncfs(p->dirs[i].fd) < 0) {
			r = -errno;
			(void)problem_add(p->l, r, "", "syncing the filesystem: %s", strerror(-r));
			if (undo_all(p->root_fd, p->dirs, p->steps, p->nsteps, p->l) < 0)
				return -ENOTRECOVERABLE;
			plan_discard(p);
			return r;
		}
	r = journal_write(p, "done", true);
	if (r < 0) {
		(void)problem_add(p->l, r, "", "writing the journal: %s", strerror(-r));
		if (undo_all(p->root_fd, p->dirs, p->steps, p->nsteps, p->l) < 0)
			return -ENOTRECOVERABLE;
		plan_discard(p);
		return r;
	}
	crash_point(crash, p->nsteps + 1);
	*ret_done = (unsigned)p->nsteps;
	plan_discard(p);
	return 0;
}

/* --- the next run ----------------------------------------------------------------------- */

static int recover_one(int root_fd, const char *name, struct problem_list *l)
{
	_cleanup_close_ int sfd =
		openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return -errno;
	_cleanup_close_ int jfd = openat(sfd, JOURNAL, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (jfd < 0) {
		if (errno != ENOENT)
			return -errno;
		return fs_remove_tree(root_fd, name); /* staged, nothing more */
	}
	_cleanup_free_ char *text = NULL;
	int r = fs_read_fd(jfd, 1u << 30, &text, NULL);
	if (r < 0)
		return r;
	json_auto_t *doc = json_loads(text, 0, NULL);
	const char *state = json_string_value(json_object_get(doc, "state"));
	json_t *jd = json_object_get(doc, "dirs"), *js = json_object_get(doc, "steps");
	if (!state || !json_is_array(jd) || !json_is_array(js) || json_array_size(jd) == 0 ||
	    strcmp(json_string_value(json_array_get(jd, 0)) ?: "", name) != 0)
		return problem_add(l, -EBADMSG, "",
				   "/%s/" JOURNAL ": not a journal this version reads", name);
	size_t nd = json_array_size(jd), ns = json_array_size(js);
	struct prov_stagedir *dirs = calloc(nd, sizeof(*dirs));
	struct prov_step *steps = calloc(ns ? ns : 1, sizeof(*steps));
	if (!dirs || !steps) {
		free(dirs);
		free(steps);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nd; i++) {
		dirs[i].fd = dirs[i].pfd = -1;
		dirs[i].canon = strdup(json_string_value(json_array_get(jd, i)) ?: "");
		if (dirs[i].canon && dirs[i].canon[0]) {
			const char *base;
			_cleanup_close_ int pfd = open_parent(root_fd, dirs[i].canon, &base);
			if (pfd >= 0) {
				dirs[i].fd = openat(
					pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				dirs[i].pfd = TAKE_FD(pfd);
			}
		}
	}
	r = 0;
	size_t nsteps = 0;
	if (!strcmp(state, "commit")) {
		for (; nsteps < ns && r >= 0; nsteps++)
			r = step_from_json(json_array_get(js, nsteps), nd, &steps[nsteps]);
		if (r < 0)
			r = problem_add(l, r, "", "/%s/" JOURNAL ": step %zu cannot be read", name,
					nsteps - 1);
		else {
			for (size_t i = 0; i < nsteps && r >= 0; i++) {
				const struct prov_step *s = &steps[i];
				if ((s->op == 'P' || s->op == 'B' || s->op == 'W') &&
				    dirs[s->sdir].fd < 0)
					r = problem_add(l, -ENOENT, "",
							"staging directory /%s is missing",
							dirs[s->sdir].canon);
			}
			if (r >= 0 && undo_all(root_fd, dirs, steps, nsteps, l) < 0)
				r = -ENOTRECOVERABLE;
		}
	}
	if (r >= 0)
		remove_stagedirs(dirs, nd);
	stagedirs_release(dirs, nd);
	steps_release(steps, nsteps);
	return r < 0 ? r : 1;
}

int prov_recover(int root_fd, bool dry_run, struct problem_list *reterr)
{
	DIR *d = fs_opendir_at(root_fd, ".");
	if (!d)
		return -errno;
	json_auto_t *names = json_array();
	struct dirent *de;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, STAGE_PREFIX, strlen(STAGE_PREFIX)))
			(void)json_array_append_new(names, json_string(de->d_name));
	closedir(d);
	int count = 0, first = 0;
	size_t i;
	json_t *n;
	json_array_foreach(names, i, n)
	{
		count++;
		if (dry_run)
			continue;
		int r = recover_one(root_fd, json_string_value(n), reterr);
		if (r < 0 && !first)
			first = r;
	}
	return first < 0 ? first : count;
}

int prov_lock(int root_fd)
{
	int fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return r;
	}
	return fd;
}
