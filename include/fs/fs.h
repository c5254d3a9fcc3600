/* SPDX-License-Identifier: MIT */
/* include/fs/fs.h - file access relative to a root directory that cannot escape it. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Open DIR as the root for the other calls (O_PATH|O_DIRECTORY|O_CLOEXEC). Returns fd or -errno. */
int fs_root_open(const char *dir);

/* Open PATH (absolute or relative, both taken inside the root) with openat2(RESOLVE_IN_ROOT):
 * "..", absolute symlinks and magic links all stay inside. O_CLOEXEC is always added.
 * Returns fd or -errno. */
int fs_open(int root_fd, const char *path, int flags, mode_t mode);

/* Read a whole file of at most max bytes (-EFBIG beyond). *ret is NUL-terminated. */
int fs_read_file(int root_fd, const char *path, size_t max, char **ret, size_t *ret_size);
/* The same from an open descriptor (a pipe or stdin too), read to its end. */
int fs_read_fd(int fd, size_t max, char **ret, size_t *ret_size);

/* pread/pwrite all N bytes at OFF, retrying short transfers and EINTR. A read that meets the
 * end of the file, or a write that makes no progress, is -EIO; else 0 or -errno. */
int fs_pread_all(int fd, void *buf, size_t n, uint64_t off);
int fs_pwrite_all(int fd, const void *buf, size_t n, uint64_t off);

/* Replace PATH atomically: write a temporary file in the same directory, fsync, rename over,
 * fsync the directory. On any failure the old file is untouched and no temporary is left. */
int fs_write_atomic(int root_fd, const char *path, const void *data, size_t size, mode_t mode);

/* mkdir -p inside the root. */
int fs_mkdir_p(int root_fd, const char *path, mode_t mode);

/* 1 exists, 0 not, -errno on other errors. */
int fs_exists(int root_fd, const char *path);

/* Unlink inside the root; a missing file is not an error. */
int fs_unlink(int root_fd, const char *path);

/* --- resolving config paths inside a root (docs/provision.md §6) --- */

/* Where a path lands inside the root. canon is the root-relative path without a leading '/'
 * ("" for the root itself): every symlink among the parent components followed inside the root
 * (absolute targets restart at the root, ".." stops there, at most 40 hops, then -ELOOP), the
 * final component never followed. Components that do not exist are appended as written (after
 * lexical "." and ".." handling) from index `missing` of canon on (strlen(canon) when the
 * parent exists). exists and st describe the final component (lstat). */
struct fs_resolved {
	char *canon;
	size_t missing;
	bool exists;
	struct stat st;
};

/* Resolve path (absolute or relative, both taken inside the root) as above. A parent component
 * that is not a directory is -ENOTDIR; other errors are -errno. */
int fs_resolve(int root_fd, const char *path, struct fs_resolved *ret);
void fs_resolved_release(struct fs_resolved *r);

/* Open the directory at a canonical path (as fs_resolve gives) without following any symlink
 * on the way (openat2 RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS, or a walk with O_NOFOLLOW where
 * openat2 is missing): a symlink swapped in after fs_resolve is refused (-ELOOP/-ENOTDIR).
 * flags as for open(2) plus O_DIRECTORY; returns fd or -errno. */
int fs_open_canon_dir(int root_fd, const char *canon, int flags);

/* Copy every extended attribute of src to dst (both open fds, not O_PATH). */
int fs_copy_xattrs(int src_fd, int dst_fd);

/* write(2) all of data, retrying short writes and EINTR. */
int fs_write_all(int fd, const void *data, size_t size);

/* opendir(3) of name in dfd ("." for dfd itself), never following a symlink. NULL with errno
 * set on failure. */
DIR *fs_opendir_at(int dfd, const char *name);
/* "." or ".." */
static inline bool fs_dot(const char *name)
{
	return name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]));
}

/* rm -rf of name in dfd (never following a symlink; a missing name is not an error). */
int fs_remove_tree(int dfd, const char *name);
