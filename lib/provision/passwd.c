/* SPDX-License-Identifier: MIT */
/* lib/provision/passwd.c - a line-preserving parser and writer for passwd(5), shadow(5),
 * group(5) and gshadow(5): entries are split into fields, anything else (comments, NIS "+"
 * lines, short or long lines) is kept byte for byte, so an unchanged file formats back to the
 * same bytes and a changed one differs only in the lines that changed (docs/provision.md §5.2). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "provision/passwd.h"

static void line_release(struct pw_line *l, unsigned nfields)
{
	free(l->text);
	if (l->f)
		for (unsigned i = 0; i < nfields; i++)
			free(l->f[i]);
	free(l->f);
	*l = (struct pw_line){};
}

void pw_file_release(struct pw_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		line_release(&f->l[i], f->nfields);
	free(f->l);
	*f = (struct pw_file){ .nfields = f->nfields };
}

static int grow(struct pw_file *f)
{
	if (f->n < f->allocated)
		return 0;
	size_t na = f->allocated ? f->allocated * 2 : 64;
	struct pw_line *l = reallocarray(f->l, na, sizeof(*l));
	if (!l)
		return -ENOMEM;
	f->l = l;
	f->allocated = na;
	return 0;
}

/* Split text into exactly nfields fields, or leave f NULL when it is not an entry. */
static int split_entry(struct pw_line *l, unsigned nfields)
{
	const char *t = l->text;
	unsigned colons = 0;

	if (!t[0] || t[0] == '+' || t[0] == '-' || t[0] == '#' || t[0] == ':')
		return 0;
	for (const char *p = t; *p; p++)
		colons += *p == ':';
	if (colons + 1 != nfields)
		return 0;
	char **f = calloc(nfields, sizeof(char *));
	if (!f)
		return -ENOMEM;
	const char *p = t;
	for (unsigned i = 0; i < nfields; i++) {
		const char *e = strchrnul(p, ':');
		f[i] = strndup(p, (size_t)(e - p));
		if (!f[i]) {
			for (unsigned j = 0; j < i; j++)
				free(f[j]);
			free(f);
			return -ENOMEM;
		}
		p = *e ? e + 1 : e;
	}
	l->f = f;
	return 0;
}

int pw_file_parse(const char *buf, size_t len, unsigned nfields, struct pw_file *ret)
{
	struct pw_file f = { .nfields = nfields, .final_newline = true };
	int r;

	if (nfields < 2 || memchr(buf, 0, len))
		return -EINVAL;
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - buf) - pos : len - pos;
		r = grow(&f);
		if (r < 0)
			goto fail;
		struct pw_line *l = &f.l[f.n];
		*l = (struct pw_line){ .text = strndup(buf + pos, n) };
		if (!l->text) {
			r = -ENOMEM;
			goto fail;
		}
		f.n++;
		r = split_entry(l, nfields);
		if (r < 0)
			goto fail;
		pos += n + 1;
		if (!nl)
			f.final_newline = false;
	}
	*ret = f;
	return 0;
fail:
	pw_file_release(&f);
	return r;
}

static size_t line_len(const struct pw_line *l, unsigned nfields)
{
	if (l->text)
		return strlen(l->text);
	size_t n = nfields - 1;
	for (unsigned i = 0; i < nfields; i++)
		n += strlen(l->f[i]);
	return n;
}

char *pw_file_format(const struct pw_file *f, size_t *ret_len)
{
	size_t total = 1;
	for (size_t i = 0; i < f->n; i++)
		total += line_len(&f->l[i], f->nfields) + 1;
	char *out = malloc(total), *p = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < f->n; i++) {
		const struct pw_line *l = &f->l[i];
		if (l->text)
			p = stpcpy(p, l->text);
		else
			for (unsigned k = 0; k < f->nfields; k++) {
				if (k)
					*p++ = ':';
				p = stpcpy(p, l->f[k]);
			}
		if (i + 1 < f->n || f->final_newline)
			*p++ = '\n';
	}
	*p = 0;
	if (ret_len)
		*ret_len = (size_t)(p - out);
	return out;
}

long pw_file_find(const struct pw_file *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->l[i].f && strcmp(f->l[i].f[0], name) == 0)
			return (long)i;
	return -1;
}

static bool field_ok(const char *v)
{
	return !strpbrk(v, ":\n");
}

long pw_file_add(struct pw_file *f, const char *const *fields)
{
	for (unsigned i = 0; i < f->nfields; i++)
		if (!fields[i] || !field_ok(fields[i]))
			return -EINVAL;
	if (!fields[0][0])
		return -EINVAL;
	int r = grow(f);
	if (r < 0)
		return r;
	char **v = calloc(f->nfields, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < f->nfields; i++) {
		v[i] = strdup(fields[i]);
		if (!v[i]) {
			for (unsigned j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return -ENOMEM;
		}
	}
	/* a file without a final newline gets one before the new line */
	f->final_newline = true;
	f->l[f->n] = (struct pw_line){ .f = v };
	return (long)f->n++;
}

int pw_file_set(struct pw_file *f, size_t idx, unsigned i, const char *value)
{
	struct pw_line *l = &f->l[idx];
	if (!l->f || i >= f->nfields || !field_ok(value))
		return -EINVAL;
	if (strcmp(l->f[i], value) == 0)
		return 0;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(l->f[i]);
	l->f[i] = v;
	free(l->text);
	l->text = NULL;
	return 0;
}

void pw_file_remove(struct pw_file *f, size_t idx)
{
	line_release(&f->l[idx], f->nfields);
	memmove(&f->l[idx], &f->l[idx + 1], (f->n - idx - 1) * sizeof(f->l[0]));
	f->n--;
}

bool pw_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

int pw_list_add(struct pw_file *f, size_t idx, unsigned field, const char *name)
{
	const char *cur = f->l[idx].f ? f->l[idx].f[field] : NULL;
	if (!cur)
		return -EINVAL;
	if (pw_list_has(cur, name))
		return 0;
	_cleanup_free_ char *v = NULL;
	if (asprintf(&v, "%s%s%s", cur, cur[0] ? "," : "", name) < 0)
		return -ENOMEM;
	int r = pw_file_set(f, idx, field, v);
	return r < 0 ? r : 1;
}

int pw_list_remove(struct pw_file *f, size_t idx, unsigned field, const char *name)
{
	const char *cur = f->l[idx].f ? f->l[idx].f[field] : NULL;
	if (!cur)
		return -EINVAL;
	if (!pw_list_has(cur, name))
		return 0;
	_cleanup_free_ char *v = calloc(1, strlen(cur) + 1);
	if (!v)
		return -ENOMEM;
	size_t n = strlen(name);
	for (const char *p = cur; *p;) {
		const char *e = strchrnul(p, ',');
		if (!((size_t)(e - p) == n && strncmp(p, name, n) == 0) && e > p) {
			if (v[0])
				strcat(v, ",");
			strncat(v, p, (size_t)(e - p));
		}
		p = *e ? e + 1 : e;
	}
	int r = pw_file_set(f, idx, field, v);
	return r < 0 ? r : 1;
}

int pw_parse_id(const char *s, unsigned long *ret)
{
	char *end;
	if (!s[0] || s[0] == '-' || s[0] == '+' || s[0] == ' ')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffffffffUL)
		return -EINVAL;
	*ret = v;
	return 0;
}
