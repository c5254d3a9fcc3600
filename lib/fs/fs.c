/* SPDX-License-Identifier: MIT */
/* lib/fs/fs.c - root-relative file operations through openat2(RESOLVE_IN_ROOT). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/fs.h"
#include "util/cleanup.h"

int fs_root_open(const char *dir)
{
	int fd = open(dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/* Userspace RESOLVE_IN_ROOT for when openat2() is missing (kernels before 5.6, valgrind 3.19,
 * which `make valgrind` uses): walk the path one component at a time, ".." stops at the root,
 * symlinks are read and resolved inside the root (at most 40). Not race-free against a
 * concurrent rename inside the root, which openat2() is; used only on ENOSYS. */
static int open_in_root_fallback(int root_fd, const char *path, int flags, mode_t mode)
{
	_cleanup_free_ char *todo = strdup(path);
	_cleanup_free_ char *done = calloc(1, 1);
	unsigned links = 0;

	if (!todo || !done)
		return -ENOMEM;
	for (;;) {
		char *p = todo, *rest;
		const char *name;
		_cleanup_close_ int dfd = -1;
		struct stat st;

		while (*p == '/')
			p++;
		name = p;
		rest = strchr(p, '/');
		if (rest)
			*rest++ = 0;
		while (rest && *rest == '/')
			rest++;
		bool last = !rest || !*rest;

		if (strcmp(name, "..") == 0) {
			char *slash = strrchr(done, '/');
			if (slash)
				*slash = 0;
			else
				done[0] = 0;
			name = ".";
		}
		dfd = openat(root_fd, *done ? done : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
		if (!*name || strcmp(name, ".") == 0) {
			if (last) {
				int fd = openat(dfd, ".", flags | O_CLOEXEC, mode);
				return fd < 0 ? -errno : fd;
			}
			memmove(todo, rest, strlen(rest) + 1);
			continue;
		}
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT && last && (flags & O_CREAT)) {
				int fd = openat(dfd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
				return fd < 0 ? -errno : fd;
			}
			return -errno;
		}
		/* O_PATH follows a final symlink too: only O_NOFOLLOW keeps it unresolved */
		if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			char target[4096];
			ssize_t n;

			if (++links > 40)
				return -ELOOP;
			n = readlinkat(dfd, name, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = 0;
			if (target[0] == '/')
				done[0] = 0;
			char *nt;
			if (asprintf(&nt, "%s/%s", target, rest ? rest : "") < 0)
				return -ENOMEM;
			free(todo);
			todo = nt;
			continue;
		}
		if (last) {
			/* never let the kernel follow a symlink outside the root */
			int fd = openat(dfd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
			return fd < 0 ? -errno : fd;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		char *nd;
		if (asprintf(&nd, "%s%s%s", done, *done ? "/" : "", name) < 0)
			return -ENOMEM;
		free(done);
		done = nd;
		memmove(todo, rest, strlen(rest) + 1);
	}
}

int fs_open(int root_fd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root_fd, relative(path), &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		return open_in_root_fallback(root_fd, relative(path), flags, mode);
	return fd < 0 ? -errno : (int)fd;
}

int fs_read_fd(int fd, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;

	for (;;) {
		if (n + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 4096;
			if (nc > max + 2)
				nc = max + 2;
			char *p = realloc(buf, nc);
			if (!p)
				return -ENOMEM;
			buf = p;
			cap = nc;
		}
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max)
			return -EFBIG;
	}
	buf[n] = 0;
	if (ret_size)
		*ret_size = n;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* pread or pwrite all of [buf, buf + n) at off; no progress (end of file) is -EIO. */
static int pio_all(int fd, uint8_t *p, size_t n, uint64_t off, bool write)
{
	while (n > 0) {
		ssize_t k = write ? pwrite(fd, p, n, (off_t)off) : pread(fd, p, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

int fs_pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	return pio_all(fd, buf, n, off, false);
}

int fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	return pio_all(fd, (uint8_t *)buf, n, off, true); /* only read through when writing */
}

int fs_read_file(int root_fd, const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = fs_open(root_fd, path, O_RDONLY | O_NOCTTY, 0);

	if (fd < 0)
		return fd;
	return fs_read_fd(fd, max, ret, ret_size);
}

static int split(const char *path, char **ret_dir, const char **ret_base)
{
	const char *rel = relative(path);
	const char *slash = strrchr(rel, '/');

	*ret_dir = slash ? strndup(rel, (size_t)(slash - rel)) : strdup(".");
	if (!*ret_dir)
		return -ENOMEM;
	*ret_base = slash ? slash + 1 : rel;
	return **ret_base ? 0 : -EINVAL;
}

int fs_write_all(int fd, const void *data, size_t size)
{
	const char *p = data;
	while (size) {
		ssize_t k = write(fd, p, size);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		size -= (size_t)k;
	}
	return 0;
}

int fs_write_atomic(int root_fd, const char *path, const void *data, size_t size, mode_t mode)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_close_ int dfd = -1, fd = -1;
	const char *base;
	char tmp[300];
	int r;

	r = split(path, &dir, &base);
	if (r < 0)
		return r;
	if (strlen(base) > 200)
		return -ENAMETOOLONG;
	dfd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd;
	for (int attempt = 0;; attempt++) {
		snprintf(tmp, sizeof(tmp), ".#%s.%x%04x", base, (unsigned)getpid(),
			 (unsigned)(random() & 0xffff));
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fd >= 0)
			break;
		if (errno != EEXIST || attempt > 100)
			return -errno;
	}
	r = fs_write_all(fd, data, size);
	if (r >= 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

int fs_mkdir_p(int root_fd, const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(relative(path));
	if (!p)
		return -ENOMEM;
	for (char *s = p;; s++) {
		if (*s == '/' || *s == 0) {
			char saved = *s;
			*s = 0;
			if (strcmp(p, ".") != 0) {
				_cleanup_free_ char *dir = NULL;
				const char *base;
				int r = split(p, &dir, &base);
				if (r < 0)
					return r;
				_cleanup_close_ int dfd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
				if (dfd < 0)
					return dfd;
				if (mkdirat(dfd, base, mode) < 0 && errno != EEXIST)
					return -errno;
			}
			if (!saved)
				break;
			*s = saved;
		}
	}
	return 0;
}

int fs_exists(int root_fd, const char *path)
{
	_cleanup_close_ int fd = fs_open(root_fd, path, O_PATH, 0);
	if (fd >= 0)
		return 1;
	return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
}

int fs_unlink(int root_fd, const char *path)
{
	_cleanup_free_ char *dir = NULL;
	const char *base;
	int r = split(path, &dir, &base);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return dfd == -ENOENT ? 0 : dfd;
	if (unlinkat(dfd, base, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

void fs_resolved_release(struct fs_resolved *r)
{
	free(r->canon);
	r->canon = NULL;
}

/* Append component name to the canonical path in *canon (length *len). */
static int canon_push(char **canon, size_t *len, const char *name, size_t n)
{
	char *c = realloc(*canon, *len + n + 2);
	if (!c)
		return -ENOMEM;
	if (*len)
		c[(*len)++] = '/';
	memcpy(c + *len, name, n);
	*len += n;
	c[*len] = 0;
	*canon = c;
	return 0;
}

static void canon_pop(char *canon, size_t *len)
{
	char *slash = memrchr(canon, '/', *len);
	*len = slash ? (size_t)(slash - canon) : 0;
	canon[*len] = 0;
}

/* Reopen dfd as the directory at canonical prefix canon ("" = the root) and stat it. */
static int reopen_prefix(int root_fd, const char *canon, int *dfd, struct stat *st)
{
	int nfd = canon[0] ? openat(root_fd, canon, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
			   : fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -errno;
	if (*dfd >= 0)
		close(*dfd);
	*dfd = nfd;
	return fstat(nfd, st) < 0 ? -errno : 0;
}

/* The walk of fs_resolve: todo holds what is left to resolve; components are looked at with
 * fstatat(AT_SYMLINK_NOFOLLOW) relative to the directory reached so far, symlinks are read and
 * their target put in front of the rest. Once a component is missing, the rest is lexical. */
int fs_resolve(int root_fd, const char *path, struct fs_resolved *ret)
{
	_cleanup_free_ char *todo = strdup(path), *canon = calloc(1, 1);
	_cleanup_close_ int dfd = -1;
	size_t len = 0, exist_len = 0;
	bool in_missing = false;
	unsigned hops = 0;
	struct stat st = {};
	int r;

	if (!todo || !canon)
		return -ENOMEM;
	r = reopen_prefix(root_fd, "", &dfd, &st);
	if (r < 0)
		return r;
	char *p = todo;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		bool last = true;
		for (const char *q = end; *q; q++)
			if (*q != '/') {
				last = false;
				break;
			}
		if (n == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			canon_pop(canon, &len);
			if (!in_missing || len <= exist_len) {
				/* an existing directory: up inside the root, never above it */
				in_missing = false;
				r = reopen_prefix(root_fd, canon, &dfd, &st);
				if (r < 0)
					return r;
			}
			p = end;
			continue;
		}
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		if (in_missing) {
			r = canon_push(&canon, &len, p, n);
			if (r < 0)
				return r;
			p = end;
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		char name[NAME_MAX + 1];
		memcpy(name, p, n);
		name[n] = 0;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -errno;
			in_missing = true;
			exist_len = len;
			r = canon_push(&canon, &len, p, n);
			if (r < 0)
				return r;
			p = end;
			continue;
		}
		if (S_ISLNK(st.st_mode) && !last) {
			char target[PATH_MAX];
			if (++hops > 40)
				return -ELOOP;
			ssize_t k = readlinkat(dfd, name, target, sizeof(target) - 1);
			if (k < 0)
				return -errno;
			target[k] = 0;
			char *nt;
			if (asprintf(&nt, "%s/%s", target, end) < 0)
				return -ENOMEM;
			free(todo);
			todo = p = nt;
			if (target[0] == '/') {
				len = 0;
				canon[0] = 0;
				r = reopen_prefix(root_fd, "", &dfd, &st);
			} else
				r = fstat(dfd, &st) < 0 ? -errno : 0;
			if (r < 0)
				return r;
			continue;
		}
		r = canon_push(&canon, &len, p, n);
		if (r < 0)
			return r;
		if (!last) {
			int nfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (nfd < 0)
				return -errno;
			close(dfd);
			dfd = nfd;
		}
		p = end;
	}
	ret->missing = in_missing ? exist_len + (exist_len ? 1 : 0) : len;
	ret->exists = !in_missing;
	ret->st = st;
	ret->canon = TAKE_PTR(canon);
	return 0;
}

int fs_open_canon_dir(int root_fd, const char *canon, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_DIRECTORY | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, root_fd, canon[0] ? canon : ".", &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	/* no openat2: one component at a time, never following a symlink */
	_cleanup_free_ char *copy = strdup(canon);
	_cleanup_close_ int dfd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
	if (!copy)
		return -ENOMEM;
	if (dfd < 0)
		return -errno;
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "..") || !strcmp(c, "."))
			return -EINVAL;
		int nfd = openat(dfd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			/* a symlink is ENOTDIR here; openat2's RESOLVE_NO_SYMLINKS says ELOOP */
			struct stat st;
			int e = errno;
			if (e == ENOTDIR && fstatat(dfd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode))
				e = ELOOP;
			return -e;
		}
		close(dfd);
		dfd = nfd;
	}
	int r = openat(dfd, ".", flags | O_DIRECTORY | O_CLOEXEC);
	return r < 0 ? -errno : r;
}

int fs_copy_xattrs(int src_fd, int dst_fd)
{
	_cleanup_free_ char *names = NULL, *val = NULL;
	ssize_t n = flistxattr(src_fd, NULL, 0);
	size_t vcap = 0;

	if (n < 0)
		return errno == ENOTSUP ? 0 : -errno;
	if (n == 0)
		return 0;
	names = malloc((size_t)n);
	if (!names)
		return -ENOMEM;
	n = flistxattr(src_fd, names, (size_t)n);
	if (n < 0)
		return -errno;
	for (char *k = names; k < names + n; k += strlen(k) + 1) {
		ssize_t vn = fgetxattr(src_fd, k, NULL, 0);
		if (vn < 0)
			return -errno;
		if ((size_t)vn + 1 > vcap) {
			char *v = realloc(val, (size_t)vn + 1);
			if (!v)
				return -ENOMEM;
			val = v;
			vcap = (size_t)vn + 1;
		}
		vn = fgetxattr(src_fd, k, val, vcap);
		if (vn < 0)
			return -errno;
		if (fsetxattr(dst_fd, k, val, (size_t)vn, 0) < 0)
			return -errno;
	}
	return 0;
}

DIR *fs_opendir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int fs_remove_tree(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	DIR *d = fs_opendir_at(dfd, name);
	if (!d)
		return -errno;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (fs_dot(de->d_name))
			continue;
		int k = fs_remove_tree(dirfd(d), de->d_name);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
