/* SPDX-License-Identifier: MIT */
/* include/util/problem.h - a list of problems found by a parser or validator, each with a location. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

enum problem_severity {
	PROBLEM_ERROR,
	PROBLEM_WARNING,
	PROBLEM_INFO,
	_PROBLEM_SEVERITY_MAX,
	_PROBLEM_SEVERITY_INVALID = -EINVAL,
};

struct problem {
	int error;                      /* negative errno, 0 for warnings and notes */
	enum problem_severity severity;
	char *where;                    /* JSON pointer, XML path, "LBA 1", file name ... or NULL */
	char *message;                  /* lowercase, no final full stop */
	char *hint;                     /* "did you mean ..." or NULL */
	unsigned line, column;          /* 1-based source position, 0 if unknown */
	char *value;                    /* the offending value as JSON text, or NULL */
};

struct problem_list {
	struct problem *item;
	size_t n;
	size_t allocated;
};

/* Append an error; returns `error` (negative errno) so it can end a return. NULL list: just returns. */
int problem_add(struct problem_list *l, int error, const char *where, const char *fmt, ...)
	_printf_(4, 5);
/* Append a warning; returns 0. */
int problem_warn(struct problem_list *l, const char *where, const char *fmt, ...) _printf_(3, 4);
/* Full form. Returns `error` for errors, 0 for others. The new entry is *ret_item if non-NULL. */
int problem_addv(struct problem_list *l, enum problem_severity sev, int error, const char *where,
		 unsigned line, unsigned column, const char *hint, const char *fmt, va_list ap)
	_printf_(8, 0);
/* The last entry added, or NULL. */
struct problem *problem_last(struct problem_list *l);
/* Set the hint of the last entry (copied). Returns 0 or -ENOMEM. */
int problem_set_hint(struct problem_list *l, const char *fmt, ...) _printf_(2, 3);

/* Set the offending value (JSON text, copied) of the last entry. Returns 0 or -ENOMEM. */
int problem_set_value(struct problem_list *l, const char *json_text);

size_t problem_count(const struct problem_list *l, enum problem_severity sev);
bool problem_has_errors(const struct problem_list *l);
void problem_list_release(struct problem_list *l);

const char *problem_severity_to_string(enum problem_severity s);
