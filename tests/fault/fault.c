// SPDX-License-Identifier: MIT
/* tests/fault/fault.c - the fault-injection hook of the fault build (docs/testing.md, "Fault
 * injection"). Linked only into build/fault/flatctl (`make fault`, mk/fault.mk), with the linker's
 * --wrap for each function below: flatctl's own calls of write, pwrite, fsync, fdatasync, rename,
 * renameat, renameat2, malloc, calloc, realloc, strdup and strndup come here first. The release,
 * static and asan builds neither link this file nor wrap anything.
 *
 *   FLATCTL_FAULT=OP:K:ERRNO   the K-th call (from 1) of class OP fails with ERRNO, once
 *                              (OP: write, fsync, rename, alloc; ERRNO: ENOSPC, EIO, ENOMEM)
 *   FLATCTL_FAULT_COUNT=FILE   at exit, "OP N" per class into FILE (the calls made, or seen
 *                              up to and including the injected fault)
 *
 * A write counts only on a regular file or block device other than 0-2 (not a pipe, socket or
 * terminal, not the test's redirected stdout): the writes to storage. Both variables are read
 * once, before main. A malformed FLATCTL_FAULT ends the program with exit 2 before main. */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum fault_op { OP_WRITE, OP_FSYNC, OP_RENAME, OP_ALLOC, OP_N };
static const char *const op_names[OP_N] = { "write", "fsync", "rename", "alloc" };

static int fault_op = -1;
static unsigned long fault_k;
static int fault_errno;
static char count_path[4096];
static unsigned long counts[OP_N];

/* the real functions (--wrap gives the originals these names) */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_rename(const char *a, const char *b);
int __real_renameat(int da, const char *a, int db, const char *b);
int __real_renameat2(int da, const char *a, int db, const char *b, unsigned flags);
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_rename(const char *a, const char *b);
int __wrap_renameat(int da, const char *a, int db, const char *b);
int __wrap_renameat2(int da, const char *a, int db, const char *b, unsigned flags);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static void say(const char *s)
{
	(void)!__real_write(2, s, strlen(s));
}

static void count_report(void)
{
	char buf[256];
	int n = 0, fd;

	for (int i = 0; i < OP_N; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s %lu\n", op_names[i],
			      __atomic_load_n(&counts[i], __ATOMIC_RELAXED));
	fd = open(count_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	(void)!__real_write(fd, buf, (size_t)n);
	close(fd);
}

__attribute__((constructor)) static void fault_init(void)
{
	const char *c = getenv("FLATCTL_FAULT_COUNT"), *v = getenv("FLATCTL_FAULT");

	if (c && *c && strlen(c) < sizeof(count_path)) {
		memcpy(count_path, c, strlen(c) + 1);
		atexit(count_report);
	}
	if (!v || !*v)
		return;
	const char *p = strchr(v, ':'), *q = p ? strchr(p + 1, ':') : NULL;
	char *end;
	int op = -1;

	for (int i = 0; p && i < OP_N; i++)
		if ((size_t)(p - v) == strlen(op_names[i]) &&
		    !strncmp(v, op_names[i], (size_t)(p - v)))
			op = i;
	if (op < 0 || !q || p[1] < '1' || p[1] > '9')
		goto bad;
	errno = 0;
	fault_k = strtoul(p + 1, &end, 10);
	if (errno || end != q)
		goto bad;
	if (!strcmp(q + 1, "ENOSPC"))
		fault_errno = ENOSPC;
	else if (!strcmp(q + 1, "EIO"))
		fault_errno = EIO;
	else if (!strcmp(q + 1, "ENOMEM"))
		fault_errno = ENOMEM;
	else
		goto bad;
	fault_op = op;
	return;
bad:
	say("flatctl: FLATCTL_FAULT: expected OP:K:ERRNO (OP write, fsync, rename or alloc; "
	    "K from 1; ERRNO ENOSPC, EIO or ENOMEM)\n");
	_exit(2);
}

/* Count one call of class op; true when this one is to fail (errno set). */
static bool hit(enum fault_op op)
{
	unsigned long n = __atomic_add_fetch(&counts[op], 1, __ATOMIC_RELAXED);

	if ((int)op != fault_op || n != fault_k)
		return false;
	say(op == OP_WRITE    ? "flatctl: fault injection: write fails\n"
	    : op == OP_FSYNC  ? "flatctl: fault injection: fsync fails\n"
	    : op == OP_RENAME ? "flatctl: fault injection: rename fails\n"
			      : "flatctl: fault injection: allocation fails\n");
	errno = fault_errno;
	return true;
}

static bool storage_fd(int fd)
{
	struct stat st;
	return fd > 2 && fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
}

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (storage_fd(fd) && hit(OP_WRITE))
		return -1;
	return __real_write(fd, buf, n);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (storage_fd(fd) && hit(OP_WRITE))
		return -1;
	return __real_pwrite(fd, buf, n, off);
}

int __wrap_fsync(int fd)
{
	return hit(OP_FSYNC) ? -1 : __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
	return hit(OP_FSYNC) ? -1 : __real_fdatasync(fd);
}

int __wrap_rename(const char *a, const char *b)
{
	return hit(OP_RENAME) ? -1 : __real_rename(a, b);
}

int __wrap_renameat(int da, const char *a, int db, const char *b)
{
	return hit(OP_RENAME) ? -1 : __real_renameat(da, a, db, b);
}

int __wrap_renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
	return hit(OP_RENAME) ? -1 : __real_renameat2(da, a, db, b, flags);
}

void *__wrap_malloc(size_t n)
{
	return hit(OP_ALLOC) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	return hit(OP_ALLOC) ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	/* realloc(p, 0) frees: not an allocation that can fail */
	return n && hit(OP_ALLOC) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return hit(OP_ALLOC) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return hit(OP_ALLOC) ? NULL : __real_strndup(s, n);
}
