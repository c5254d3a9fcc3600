/* SPDX-License-Identifier: MIT */
/* lib/lock/file.c - the single-machine file backend (docs/reboot-lock.md 5): the same JSON as in
 * etcd, replaced by rename, with flock(2) on a separate ".lock" file that is never renamed, so a
 * waiter never ends up holding a lock on a replaced inode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fs/fs.h"
#include "lock/lock.h"

struct file_backend {
	struct lock_backend b;
	int root_fd;
	char *dir;
	char *lockpath;
	int lock_fd;
};

static int file_begin(struct lock_backend *b, bool write)
{
	struct file_backend *f = (struct file_backend *)b;
	int r;

	if (write) {
		r = fs_mkdir_p(f->root_fd, f->dir, 0755);
		if (r < 0) {
			snprintf(b->error, sizeof(b->error), "creating '%s': %s", f->dir, strerror(-r));
			return r;
		}
		f->lock_fd = fs_open(f->root_fd, f->lockpath, O_RDWR | O_CREAT, 0644);
	} else {
		f->lock_fd = fs_open(f->root_fd, f->lockpath, O_RDONLY, 0);
		if (f->lock_fd == -ENOENT)
			return 0; /* nothing was ever written: read the default */
	}
	if (f->lock_fd < 0) {
		r = f->lock_fd;
		f->lock_fd = -1;
		snprintf(b->error, sizeof(b->error), "opening '%s': %s", f->lockpath, strerror(-r));
		return r;
	}
	while (flock(f->lock_fd, write ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		r = -errno;
		close(f->lock_fd);
		f->lock_fd = -1;
		return r;
	}
	return 0;
}

static void file_end(struct lock_backend *b)
{
	struct file_backend *f = (struct file_backend *)b;
	if (f->lock_fd >= 0)
		close(f->lock_fd); /* drops the flock */
	f->lock_fd = -1;
}

static int file_read(struct lock_backend *b, char **ret_value, size_t *ret_size, uint64_t *ret_rev)
{
	struct file_backend *f = (struct file_backend *)b;
	char *data = NULL;
	size_t n = 0;
	int r = fs_read_file(f->root_fd, b->where, 1 << 20, &data, &n);

	if (r == -ENOENT) {
		*ret_value = NULL;
		*ret_size = 0;
		*ret_rev = 0;
		return 0;
	}
	if (r < 0) {
		snprintf(b->error, sizeof(b->error), "reading '%s': %s", b->where, strerror(-r));
		return r;
	}
	*ret_value = data;
	*ret_size = n;
	*ret_rev = 1;
	return 0;
}

static int file_cas(struct lock_backend *b, bool exists, uint64_t rev, const char *value,
		    const struct lock_request *req)
{
	struct file_backend *f = (struct file_backend *)b;
	int r = fs_write_atomic(f->root_fd, b->where, value, strlen(value), 0644);
	if (r < 0) {
		snprintf(b->error, sizeof(b->error), "writing '%s': %s", b->where, strerror(-r));
		return r;
	}
	return 1; /* we hold the flock: nobody else wrote since the read */
}

static void file_free(struct lock_backend *b)
{
	struct file_backend *f = (struct file_backend *)b;
	file_end(b);
	free(f->dir);
	free(f->lockpath);
	free(b->where);
	free(f);
}

static const struct lock_backend_ops file_ops = {
	.begin = file_begin,
	.end = file_end,
	.read = file_read,
	.cas = file_cas,
	.free = file_free,
};

int lock_file_backend_new(int root_fd, const char *group, struct lock_backend **ret)
{
	_cleanup_free_ char *esc = NULL;
	struct file_backend *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->b.ops = &file_ops;
	f->b.kind = "file";
	f->root_fd = root_fd;
	f->lock_fd = -1;
	if (group && *group) {
		r = lock_query_escape(group, &esc);
		if (r < 0) {
			free(f);
			return r;
		}
		r = asprintf(&f->dir, "/var/lib/flatctl/rebootlock/groups/%s", esc);
	} else
		r = asprintf(&f->dir, "/var/lib/flatctl/rebootlock");
	if (r < 0 || asprintf(&f->b.where, "%s/semaphore", f->dir) < 0 ||
	    asprintf(&f->lockpath, "%s/.lock", f->dir) < 0) {
		file_free(&f->b);
		return -ENOMEM;
	}
	*ret = &f->b;
	return 0;
}
