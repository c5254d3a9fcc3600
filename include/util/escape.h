/* SPDX-License-Identifier: MIT */
/* include/util/escape.h - the one escaping of strings from the network or a config before they
 * reach a terminal or a log (docs/coding-style.md §2). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What is escaped, each byte as \xNN: C0 controls (tab and newline included) and DEL; bytes that
 * are not part of valid UTF-8 (overlong forms and surrogates included); the C1 controls U+0080 to
 * U+009F (NEL among them), which arrive as UTF-8 0xc2 0x80-0x9f; the line and paragraph separators
 * U+2028/U+2029; and the bidirectional marks and overrides U+200E/U+200F, U+202A-U+202E and
 * U+2066-U+2069, which can make a line read as another. Everything else, backslashes included,
 * passes unchanged, so escaping twice changes nothing. */

/* A new string (NULL s: ""); NULL only when memory runs out. */
char *str_escape(const char *s);
/* Into buf (at most size-1 bytes, never half an escape or half a character); returns buf. NULL s:
 * "". */
const char *str_escape_buf(const char *s, char *buf, size_t size);
/* Length of the valid UTF-8 sequence at s (n bytes left: 1 to 4), or 0 for a byte that does
 * not start one (RFC 3629 §4: no overlong forms, no surrogates, nothing past U+10FFFF). */
size_t utf8_len(const unsigned char *s, size_t n);
/* Whether str_escape(s) would change s. */
bool str_needs_escape(const char *s);

/* Whether s is min to max bytes of printable ASCII without spaces (0x21-0x7e): what a version,
 * an appid or a URL taken from a server or a config may be before it is used at all. */
bool str_printable_ascii(const char *s, size_t min, size_t max);
