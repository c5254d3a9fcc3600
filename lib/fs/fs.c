/* SPDX-License-Identifier: MIT */
/* lib/fs/fs.c - root-relative file operations through openat2(RESOLVE_IN_ROOT). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

static int write_all(int fd, const void *data, size_t size)
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
	r = write_all(fd, data, size);
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
