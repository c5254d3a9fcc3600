/* SPDX-License-Identifier: MIT */
/* include/util/buf.h - a growable byte buffer (bundle items of lib/diag, tool output). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

/* p is NUL-terminated whenever it is non-NULL; an allocation failure sets oom and leaves the
 * content as it was (callers check oom once at the end). */
struct dbuf {
	char *p;
	size_t n;
	size_t cap;
	bool oom;
};

void dbuf_append(struct dbuf *b, const void *data, size_t n);
void dbuf_puts(struct dbuf *b, const char *s);
void dbuf_putc(struct dbuf *b, char c);
void dbuf_printf(struct dbuf *b, const char *fmt, ...) _printf_(2, 3);
/* Drop the first n bytes. */
void dbuf_consume(struct dbuf *b, size_t n);
void dbuf_reset(struct dbuf *b);
void dbuf_release(struct dbuf *b);
/* Take the content (NULL when empty); b is empty afterwards. */
char *dbuf_take(struct dbuf *b, size_t *ret_n);
