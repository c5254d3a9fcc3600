/* SPDX-License-Identifier: MIT */
/* lib/util/problem.c - problem lists for parsers and validators. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/problem.h"

int problem_addv(struct problem_list *l, enum problem_severity sev, int error, const char *where,
		 unsigned line, unsigned column, const char *hint, const char *fmt, va_list ap)
{
	int ret = sev == PROBLEM_ERROR ? error : 0;

	if (!l)
		return ret;
	if (l->n == l->allocated) {
		size_t na = l->allocated ? l->allocated * 2 : 8;
		struct problem *p = reallocarray(l->item, na, sizeof(*p));
		if (!p)
			return ret;
		l->item = p;
		l->allocated = na;
	}
	struct problem *p = &l->item[l->n];
	*p = (struct problem){ .error = sev == PROBLEM_ERROR ? error : 0, .severity = sev,
			       .line = line, .column = column };
	if (vasprintf(&p->message, fmt, ap) < 0)
		return ret;
	p->where = where ? strdup(where) : NULL;
	p->hint = hint ? strdup(hint) : NULL;
	l->n++;
	return ret;
}

int problem_add(struct problem_list *l, int error, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = problem_addv(l, PROBLEM_ERROR, error, where, 0, 0, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int problem_warn(struct problem_list *l, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)problem_addv(l, PROBLEM_WARNING, 0, where, 0, 0, NULL, fmt, ap);
	va_end(ap);
	return 0;
}

struct problem *problem_last(struct problem_list *l)
{
	return l && l->n ? &l->item[l->n - 1] : NULL;
}

int problem_set_hint(struct problem_list *l, const char *fmt, ...)
{
	struct problem *p = problem_last(l);
	char *h;
	va_list ap;

	if (!p)
		return 0;
	va_start(ap, fmt);
	int r = vasprintf(&h, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(p->hint);
	p->hint = h;
	return 0;
}

int problem_set_value(struct problem_list *l, const char *json_text)
{
	struct problem *p = problem_last(l);
	char *v;

	if (!p || !json_text)
		return 0;
	v = strdup(json_text);
	if (!v)
		return -ENOMEM;
	free(p->value);
	p->value = v;
	return 0;
}

size_t problem_count(const struct problem_list *l, enum problem_severity sev)
{
	size_t n = 0;
	for (size_t i = 0; l && i < l->n; i++)
		n += l->item[i].severity == sev;
	return n;
}

bool problem_has_errors(const struct problem_list *l)
{
	return problem_count(l, PROBLEM_ERROR) > 0;
}

void problem_list_release(struct problem_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->item[i].where);
		free(l->item[i].message);
		free(l->item[i].hint);
		free(l->item[i].value);
	}
	free(l->item);
	*l = (struct problem_list){};
}

const char *problem_severity_to_string(enum problem_severity s)
{
	static const char *const names[_PROBLEM_SEVERITY_MAX] = {
		[PROBLEM_ERROR] = "error", [PROBLEM_WARNING] = "warning", [PROBLEM_INFO] = "info",
	};
	return s >= 0 && s < _PROBLEM_SEVERITY_MAX ? names[s] : NULL;
}
