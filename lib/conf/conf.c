/* SPDX-License-Identifier: MIT */
/* lib/conf/conf.c - env-style KEY=value parser (os-release(5) quoting) and the update.conf
 * override rule and simple syntax of docs/update.md 3.1. A bad line never aborts: it is skipped and reported. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "fs/fs.h"
#include "util/problem.h"

bool conf_key_valid(const char *key, size_t len)
{
	if (len == 0 || !((key[0] >= 'A' && key[0] <= 'Z') || (key[0] >= 'a' && key[0] <= 'z') ||
			  key[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		char ch = key[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

static struct conf_entry *find(const struct conf *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->item[i].key, key) == 0)
			return &c->item[i];
	return NULL;
}

const struct conf_entry *conf_get_entry(const struct conf *c, const char *key)
{
	return c && key ? find(c, key) : NULL;
}

const char *conf_get(const struct conf *c, const char *key)
{
	const struct conf_entry *e = conf_get_entry(c, key);
	return e ? e->value : NULL;
}

int conf_set(struct conf *c, const char *key, const char *value, const char *file, unsigned line)
{
	_cleanup_free_ char *v = strdup(value);
	_cleanup_free_ char *f = file ? strdup(file) : NULL;
	struct conf_entry *e;

	if (!v || (file && !f))
		return -ENOMEM;
	e = find(c, key);
	if (!e) {
		if (c->n == c->allocated) {
			size_t na = c->allocated ? c->allocated * 2 : 16;
			struct conf_entry *p = realloc(c->item, na * sizeof(*p));
			if (!p)
				return -ENOMEM;
			c->item = p;
			c->allocated = na;
		}
		char *k = strdup(key);
		if (!k)
			return -ENOMEM;
		e = &c->item[c->n++];
		*e = (struct conf_entry){ .key = k };
	}
	free(e->value);
	free(e->file);
	e->value = TAKE_PTR(v);
	e->file = TAKE_PTR(f);
	e->line = line;
	return 0;
}

void conf_release(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->item[i].key);
		free(c->item[i].value);
		free(c->item[i].file);
	}
	free(c->item);
	*c = (struct conf){};
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

_printf_(4, 5) static void bad_line(struct problem_list *reterr, const char *name, unsigned line,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)problem_addv(reterr, PROBLEM_WARNING, 0, name, line, 0, NULL, fmt, ap);
	va_end(ap);
}

/* Decode the value in [p, end) (already trimmed) into out (at least end - p + 1 bytes).
 * Returns NULL on success or the reason the quoting is bad. */
static const char *unquote(const char *p, const char *end, char *out)
{
	char *o = out;

	if (p < end && *p == '\'') {
		const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
		if (!q)
			return "unterminated single quote";
		if (q + 1 != end)
			return "text after the closing quote";
		memcpy(o, p + 1, (size_t)(q - p - 1));
		o += q - p - 1;
	} else if (p < end && *p == '"') {
		p++;
		for (;;) {
			if (p >= end)
				return "unterminated double quote";
			if (*p == '"')
				break;
			if (*p == '\\' && p + 1 < end) {
				/* in double quotes only these lose their backslash (sh(1)) */
				if (strchr("\\\"$`", p[1]))
					p++;
				else
					*o++ = *p++;
			}
			*o++ = *p++;
		}
		if (p + 1 != end)
			return "text after the closing quote";
	} else {
		for (; p < end; p++) {
			if (*p == '\\') {
				if (p + 1 >= end)
					return "backslash at the end of the value";
				p++;
			} else if (*p == '"' || *p == '\'') {
				return "quote inside an unquoted value";
			}
			*o++ = *p;
		}
	}
	*o = 0;
	return NULL;
}

int conf_parse(struct conf *c, const char *text, size_t size, const char *name,
	       struct problem_list *reterr)
{
	unsigned line = 0;
	int skipped = 0;
	const char *p = text, *end = text + size;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol ? eol + 1 : end;
		const char *b = p, *e = eol ? eol : end, *eq, *ke, *vb;

		line++;
		p = next;
		while (b < e && is_blank(*b))
			b++;
		while (e > b && is_blank(e[-1]))
			e--;
		if (b == e || *b == '#')
			continue;
		if (memchr(b, 0, (size_t)(e - b))) {
			bad_line(reterr, name, line, "ignored: NUL byte in line");
			skipped++;
			continue;
		}
		eq = memchr(b, '=', (size_t)(e - b));
		if (!eq) {
			bad_line(reterr, name, line, "ignored: no '=' in line");
			skipped++;
			continue;
		}
		ke = eq;
		while (ke > b && is_blank(ke[-1]))
			ke--;
		if (!conf_key_valid(b, (size_t)(ke - b))) {
			bad_line(reterr, name, line, "ignored: invalid key '%.*s'",
				 (int)(ke - b > 64 ? 64 : ke - b), b);
			skipped++;
			continue;
		}
		vb = eq + 1;
		while (vb < e && is_blank(*vb))
			vb++;

		_cleanup_free_ char *key = strndup(b, (size_t)(ke - b));
		_cleanup_free_ char *value = malloc((size_t)(e - vb) + 1);
		if (!key || !value)
			return -ENOMEM;
		const char *why = NULL;
		if (c->syntax == CONF_SIMPLE) {
			if (e - vb >= 2 && (*vb == '"' || *vb == '\'') && e[-1] == *vb) {
				vb++;
				e--;
			}
			memcpy(value, vb, (size_t)(e - vb));
			value[e - vb] = 0;
		} else {
			why = unquote(vb, e, value);
		}
		if (why) {
			bad_line(reterr, name, line, "ignored: %s: %s", key, why);
			skipped++;
			continue;
		}
		int r = conf_set(c, key, value, name, line);
		if (r < 0)
			return r;
	}
	return skipped;
}

int conf_load(struct conf *c, int root_fd, const char *path, struct problem_list *reterr)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	int r;

	r = fs_read_file(root_fd, path, CONF_MAX_SIZE, &text, &size);
	if (r == -EFBIG)
		return problem_add(reterr, r, path, "larger than %zu bytes", CONF_MAX_SIZE);
	if (r < 0)
		return r;
	return conf_parse(c, text, size, path, reterr);
}

static int load_optional(struct conf *c, int root_fd, const char *path, struct problem_list *reterr,
			 bool *found)
{
	int r = conf_load(c, root_fd, path, reterr);
	if (found)
		*found = r != -ENOENT;
	return r == -ENOENT ? 0 : r;
}

int conf_load_update(struct conf *c, int root_fd, struct problem_list *reterr)
{
	bool found = false;
	int r, skipped;

	c->syntax = CONF_SIMPLE;
	r = load_optional(c, root_fd, "/usr/share/flatcar/update.conf", reterr, NULL);
	if (r < 0)
		return r;
	skipped = r;
	r = load_optional(c, root_fd, "/etc/flatcar/update.conf", reterr, &found);
	if (r < 0)
		return r;
	skipped += r;
	if (!found) {
		r = load_optional(c, root_fd, "/etc/coreos/update.conf", reterr, NULL);
		if (r < 0)
			return r;
		skipped += r;
	}
	return skipped;
}

int conf_load_os_release(struct conf *c, int root_fd, struct problem_list *reterr)
{
	int r = conf_load(c, root_fd, "/etc/os-release", reterr);
	if (r == -ENOENT)
		r = conf_load(c, root_fd, "/usr/lib/os-release", reterr);
	return r;
}
