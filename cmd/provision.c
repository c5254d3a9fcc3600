/* SPDX-License-Identifier: MIT */
/* cmd/provision.c - Ignition configs: validate, and the dry-run plan; spec: spec/provision.md
 * sections 1-4 and 8-10. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "ignition/ignition.h"
#include "json/fjson.h"
#include "log/log.h"
#include "util/cleanup.h"
#include "util/problem.h"

enum {
	OPT_STRICT = ARG_LONG_BASE,
	OPT_CONFIG,
	OPT_PLATFORM,
	OPT_DRY_RUN,
};

static const struct flat_option provision_opts[] = {
	{ "strict", OPT_STRICT, ARG_NONE, NULL, "validate: treat warnings as errors" },
	{},
};

struct provision_args {
	struct flat_ctx *ctx;
	struct args *a;
	bool strict;
	bool dry_run;
	const char *config;
	const char *platform;
};

/* Read a whole file or stdin, at most max bytes (-EFBIG beyond). */
static int read_input(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;

	if (strcmp(path, "-") == 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (n + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *p = realloc(buf, nc);
			if (!p)
				return -ENOMEM;
			buf = p;
			cap = nc;
		}
		ssize_t k = read(fd, buf + n, cap - n - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max)
			return -EFBIG;
	}
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int sx = x->severity == PROBLEM_ERROR ? 0 : 1, sy = y->severity == PROBLEM_ERROR ? 0 : 1;
	if (sx != sy)
		return sx - sy;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Print problems as provision.md 1.2 shows (text or one JSON document). */
static void print_problems(const char *name, struct ign_config *c, struct problem_list *pl,
			   bool json, bool valid)
{
	json_t *raw = c ? c->raw : NULL;

	if (json) {
		json_auto_t *out = json_object();
		json_t *arr = json_array();
		char vb[16];
		(void)json_object_set_new(out, "file", json_string(name));
		(void)json_object_set_new(out, "version",
					  c && c->version ? json_string(ign_version_to_string(
								    c->version, vb, sizeof(vb)))
							  : json_null());
		(void)json_object_set_new(out, "translatedFrom",
					  c && c->translated_from
						  ? json_string(ign_version_to_string(
							    c->translated_from, vb, sizeof(vb)))
						  : json_null());
		(void)json_object_set_new(out, "valid", json_boolean(valid));
		for (size_t i = 0; i < pl->n; i++) {
			struct problem *p = &pl->item[i];
			_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
			json_t *e = json_pack("{s:s, s:s, s:I, s:I, s:s}", "severity",
					      problem_severity_to_string(p->severity), "path",
					      disp ? disp : "$", "line", (json_int_t)p->line, "column",
					      (json_int_t)p->column, "message", p->message);
			if (!e)
				continue;
			if (p->value) {
				json_t *v = json_loads(p->value, JSON_DECODE_ANY, NULL);
				if (v)
					(void)json_object_set_new(e, "value", v);
			}
			if (p->hint)
				(void)json_object_set_new(e, "hint", json_string(p->hint));
			(void)json_array_append_new(arr, e);
		}
		(void)json_object_set_new(out, "problems", arr);
		(void)json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		return;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct problem *p = &pl->item[i];
		_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
		if (p->line)
			printf("%s:%u:%u: ", name, p->line, p->column);
		else
			printf("%s: ", name);
		printf("%s: %s: %s", problem_severity_to_string(p->severity), disp ? disp : "$",
		       p->message);
		if (p->value)
			printf(": %s", p->value);
		if (p->hint)
			printf(" (%s)", p->hint);
		putchar('\n');
	}
}

/* Parse and validate text; problems located and sorted. Returns the parse result. */
static int check_text(const char *text, size_t n, struct ign_config **ret, struct problem_list *pl,
		      bool strict)
{
	int r = ign_config_parse(text, n, ret, pl);
	if (r == -ENOMEM)
		return r;
	(void)ign_problems_locate(text, n, pl);
	if (strict)
		for (size_t i = 0; i < pl->n; i++)
			if (pl->item[i].severity == PROBLEM_WARNING) {
				pl->item[i].severity = PROBLEM_ERROR;
				if (r >= 0)
					r = -EINVAL;
			}
	if (pl->n)
		qsort(pl->item, pl->n, sizeof(pl->item[0]), cmp_problem);
	return r;
}

static int do_validate(int argc, char **argv, void *userdata)
{
	struct provision_args *pa = userdata;
	const char *path = argv[1];
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	_cleanup_free_ char *text = NULL;
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	size_t n = 0;
	int r;

	r = read_input(path, IGN_MAX_CONFIG_SIZE, &text, &n);
	if (r == -EFBIG) {
		log_error("%s: cannot read: larger than %u MiB", name, IGN_MAX_CONFIG_SIZE >> 20);
		return 1;
	}
	if (r < 0) {
		log_error_errno(r, "%s: cannot read", name);
		return 1;
	}
	r = check_text(text, n, &c, &pl, pa->strict);
	if (r == -ENOMEM)
		return log_error_errno(r, "%s: validating", name);
	bool valid = r >= 0;
	print_problems(name, c, &pl, pa->ctx->json, valid);
	size_t ne = problem_count(&pl, PROBLEM_ERROR), nw = problem_count(&pl, PROBLEM_WARNING);
	if (!pa->ctx->json || !valid)
		log_full(valid && !nw ? LOG_INFO : LOG_NOTICE, 0, "%s: %s: %zu error%s, %zu warning%s",
			 name, valid ? "valid" : "invalid", ne, ne == 1 ? "" : "s", nw,
			 nw == 1 ? "" : "s");
	return valid ? 0 : 2;
}

static const struct flat_verb provision_verbs[] = {
	{ "validate", 1, 1, do_validate },
	{},
};

int cmd_provision(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	struct provision_args pa = { .ctx = ctx, .a = &a };
	int r;

	r = args_init(&a, argc, argv, provision_opts, "[OPTIONS] validate FILE|-", ctx, 0);
	if (r < 0)
		return log_error_errno(r, "parsing options");
	while ((r = args_next(&a)) > 0) {
		switch (r) {
		case OPT_STRICT:
			pa.strict = true;
			break;
		case OPT_CONFIG:
			pa.config = a.optarg;
			break;
		case OPT_PLATFORM:
			pa.platform = a.optarg;
			break;
		case OPT_DRY_RUN:
			pa.dry_run = true;
			break;
		}
	}
	if (r < 0)
		return r;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) == 0)
		return args_usage_error(&a, "missing command: this build implements 'validate' only");
	return args_dispatch_verb(&a, provision_verbs, NULL, args_rest_count(&a), args_rest(&a),
				  &pa);
}
