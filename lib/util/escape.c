/* SPDX-License-Identifier: MIT */
/* lib/util/escape.c - escaping of untrusted strings for terminals and logs (include/util/escape.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"

size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t l;

	if (n == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		l = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4;
	else
		return 0;
	if (l > n)
		return 0;
	for (size_t i = 1; i < l; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (l == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
		return 0;
	if (l == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
		return 0;
	return l;
}

static uint32_t utf8_decode(const unsigned char *s, size_t l)
{
	static const unsigned char lead_mask[5] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t c = s[0] & lead_mask[l];

	for (size_t i = 1; i < l; i++)
		c = c << 6 | (s[i] & 0x3f);
	return c;
}

static bool code_point_is_unsafe(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x200e || c == 0x200f || c == 0x2028 ||
	       c == 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* How many bytes at s pass unchanged (0: escape the next byte, or a whole unsafe character). */
static size_t safe_len(const unsigned char *s, size_t n, size_t *ret_unsafe)
{
	size_t l = utf8_len(s, n);

	*ret_unsafe = 1;
	if (l == 0)
		return 0;
	if (code_point_is_unsafe(utf8_decode(s, l))) {
		*ret_unsafe = l;
		return 0;
	}
	return l;
}

bool str_needs_escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), u;

	for (size_t i = 0; i < n;) {
		size_t l = safe_len(p + i, n - i, &u);
		if (l == 0)
			return true;
		i += l;
	}
	return false;
}

/* Write the escape of s into out (when out is non-NULL: size >= 1, at most size-1 bytes and the
 * NUL, cut before the first piece that does not fit); returns the length the whole escape needs. */
static size_t escape_into(const char *s, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), o = 0, u;
	bool cut = false;

	for (size_t i = 0; i < n;) {
		size_t l = safe_len(p + i, n - i, &u);
		size_t need = l ? l : 4 * u;

		if (out && !cut && o + need >= size) {
			cut = true;
			out[o] = 0;
		} else if (out && !cut) {
			if (l)
				memcpy(out + o, p + i, l);
			for (size_t k = 0; !l && k < u; k++)
				snprintf(out + o + 4 * k, 5, "\\x%02x", p[i + k]);
		}
		o += need;
		i += l ? l : u;
	}
	if (out && !cut)
		out[o] = 0;
	return o;
}

char *str_escape(const char *s)
{
	size_t n = escape_into(s, NULL, 0);
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	escape_into(s, out, n + 1);
	return out;
}

const char *str_escape_buf(const char *s, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = 0;
	escape_into(s, buf, size);
	return buf;
}

bool str_printable_ascii(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}
