/* SPDX-License-Identifier: MIT */
/* include/util/cleanup.h - scope-bound cleanup attributes and ownership transfer. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Take ownership of a pointer: returns it and leaves NULL behind. */
#define TAKE_PTR(p)                              \
	({                                       \
		__typeof__(p) _ptr_ = (p);       \
		(p) = NULL;                      \
		_ptr_;                           \
	})

/* Take ownership of a file descriptor: returns it and leaves -1 behind. */
#define TAKE_FD(fd)                              \
	({                                       \
		int _fd_ = (fd);                 \
		(fd) = -1;                       \
		_fd_;                            \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		(void)close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		(void)fclose(*f);
}

/* Makes fnp(type **) that calls fn(*p) when *p is not NULL. */
#define DEFINE_CLEANUP(type, fn)                 \
	static inline void fn##p(type **p)       \
	{                                        \
		if (*p)                          \
			(void)fn(*p);            \
	}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Zero then free a buffer that held a secret. */
static inline void erase_and_freep(void *p)
{
	void *q = *(void **)p;
	if (q) {
		explicit_bzero(q, malloc_usable_size(q));
		free(q);
	}
}
#define _cleanup_erase_ _cleanup_(erase_and_freep)
