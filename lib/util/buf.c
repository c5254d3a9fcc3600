/* SPDX-License-Identifier: MIT */
/* lib/util/buf.c - growable byte buffer (include/util/buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static bool grow(struct dbuf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->n + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->n + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void dbuf_append(struct dbuf *b, const void *data, size_t n)
{
	if (!grow(b, n))
		return;
	if (n)
		memcpy(b->p + b->n, data, n);
	b->n += n;
	b->p[b->n] = 0;
}

void dbuf_puts(struct dbuf *b, const char *s)
{
	dbuf_append(b, s, strlen(s));
}

void dbuf_putc(struct dbuf *b, char c)
{
	dbuf_append(b, &c, 1);
}

void dbuf_printf(struct dbuf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int l = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (l < 0)
		return;
	if ((size_t)l < sizeof(small)) {
		dbuf_append(b, small, (size_t)l);
		return;
	}
	if (!grow(b, (size_t)l))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)l + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)l;
}

void dbuf_consume(struct dbuf *b, size_t n)
{
	if (n >= b->n) {
		b->n = 0;
		if (b->p)
			b->p[0] = 0;
		return;
	}
	memmove(b->p, b->p + n, b->n - n);
	b->n -= n;
	b->p[b->n] = 0;
}

void dbuf_reset(struct dbuf *b)
{
	b->n = 0;
	b->oom = false;
	if (b->p)
		b->p[0] = 0;
}

void dbuf_release(struct dbuf *b)
{
	free(b->p);
	*b = (struct dbuf){};
}

char *dbuf_take(struct dbuf *b, size_t *ret_n)
{
	char *p = b->p;
	if (ret_n)
		*ret_n = b->n;
	*b = (struct dbuf){};
	return p;
}
