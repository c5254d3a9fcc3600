/* SPDX-License-Identifier: MIT */
/* lib/args/args.c - one option table per applet drives getopt_long and --help (docs/coding-style.md §6). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "args/args.h"
#include "flatctl.h"
#include "log/log.h"
#include "util/host.h"
#include "version.h"

const struct flat_option args_global_options[] = {
	{ "root", ARG_GLOBAL_ROOT, ARG_REQ, "DIR", "treat DIR as / for every system path" },
	{ "disk", ARG_GLOBAL_DISK, ARG_REQ, "PATH", "the disk or image holding USR-A/USR-B" },
	{ "json", ARG_GLOBAL_JSON, ARG_NONE, NULL, "machine-readable output on stdout" },
	{ "quiet", 'q', ARG_NONE, NULL, "print less" },
	{ "verbose", 'v', ARG_NONE, NULL, "print more (twice: debug)" },
	{ "help", 'h', ARG_NONE, NULL, "show this help" },
	{ "version", ARG_GLOBAL_VERSION, ARG_NONE, NULL, "show the version" },
	{},
};

const char *flatctl_version(void)
{
	return FLATCTL_VERSION;
}

static size_t count_opts(const struct flat_option *o)
{
	size_t n = 0;
	while (o && (o[n].name || o[n].id))
		n++;
	return n;
}

static int add_opts(const struct flat_option *o, struct option *lo, size_t *nl, char *so, size_t *ns)
{
	for (; o && (o->name || o->id); o++) {
		if (o->name)
			lo[(*nl)++] = (struct option){ o->name,
						       o->arg == ARG_REQ   ? required_argument
						       : o->arg == ARG_OPT ? optional_argument
									   : no_argument,
						       NULL, o->id };
		if (o->id > 0 && o->id < ARG_LONG_BASE) {
			so[(*ns)++] = (char)o->id;
			if (o->arg == ARG_REQ)
				so[(*ns)++] = ':';
			else if (o->arg == ARG_OPT) {
				so[(*ns)++] = ':';
				so[(*ns)++] = ':';
			}
		}
	}
	return 0;
}

int args_init(struct args *a, int argc, char **argv, const struct flat_option *opts,
	      const char *usage, struct flat_ctx *ctx, unsigned flags)
{
	size_t n = count_opts(opts) + (flags & ARGS_NO_GLOBALS ? 0 : count_opts(args_global_options));

	*a = (struct args){ .argc = argc, .argv = argv, .opts = opts, .usage = usage, .ctx = ctx,
			    .flags = flags, .optind = 1 };
	a->lopts = calloc(n + 1, sizeof(*a->lopts));
	a->shortopts = calloc(3 * n + 3, 1);
	if (!a->lopts || !a->shortopts) {
		args_release(a);
		return -ENOMEM;
	}
	size_t nl = 0, ns = 0;
	a->shortopts[ns++] = ':'; /* report a missing argument as ':' */
	add_opts(opts, a->lopts, &nl, a->shortopts, &ns);
	if (!(flags & ARGS_NO_GLOBALS))
		add_opts(args_global_options, a->lopts, &nl, a->shortopts, &ns);
	return 0;
}

void args_release(struct args *a)
{
	free(a->lopts);
	free(a->shortopts);
	a->lopts = NULL;
	a->shortopts = NULL;
}

static const char *applet_name(const struct args *a)
{
	return a->ctx && a->ctx->applet ? a->ctx->applet : "flatctl";
}

int args_usage_error(const struct args *a, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", log_get_prefix(), msg);
	if (a->ctx && a->ctx->applet && strcmp(a->ctx->applet, "flatctl") != 0)
		fprintf(stderr, "Try 'flatctl %s --help'.\n", applet_name(a));
	else
		fprintf(stderr, "Try 'flatctl --help'.\n");
	return -EINVAL;
}

int args_parse_uint(const struct args *a, const char *what, const char *s, unsigned long long max,
		    unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		return args_usage_error(a, "%s: '%s' is not a number", what, s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return args_usage_error(a, "%s: '%s' is not a number", what, s);
	if (v > max)
		return args_usage_error(a, "%s: %s is out of range (at most %llu)", what, s, max);
	*ret = v;
	return 0;
}

static void print_opts(FILE *f, const struct flat_option *o)
{
	for (; o && (o->name || o->id); o++) {
		char left[96];
		int n = 0;

		if (o->id > 0 && o->id < ARG_LONG_BASE)
			n = snprintf(left, sizeof(left), "  -%c%s", o->id, o->name ? ", " : "");
		else
			n = snprintf(left, sizeof(left), "      ");
		if (o->name)
			n += snprintf(left + n, sizeof(left) - n, "--%s", o->name);
		if (o->metavar) {
			if (o->arg == ARG_OPT)
				snprintf(left + n, sizeof(left) - n, "[=%s]", o->metavar);
			else
				snprintf(left + n, sizeof(left) - n, "%s%s", o->name ? "=" : " ",
					 o->metavar);
		}
		if (strlen(left) >= 28)
			fprintf(f, "%s\n%-28s %s\n", left, "", o->help ? o->help : "");
		else
			fprintf(f, "%-28s %s\n", left, o->help ? o->help : "");
	}
}

void args_print_help(const struct args *a, FILE *f)
{
	const char *name = applet_name(a);

	fprintf(f, "Usage: flatctl %s %s\n", name, a->usage ? a->usage : "[OPTIONS]");
	if (a->ctx && a->ctx->summary)
		fprintf(f, "%c%s.\n", a->ctx->summary[0] >= 'a' && a->ctx->summary[0] <= 'z'
					      ? a->ctx->summary[0] - 'a' + 'A'
					      : a->ctx->summary[0],
			a->ctx->summary + 1);
	if (count_opts(a->opts)) {
		fprintf(f, "\nOptions:\n");
		print_opts(f, a->opts);
	}
	if (!(a->flags & ARGS_NO_GLOBALS)) {
		fprintf(f, "\nGlobal options:\n");
		print_opts(f, args_global_options);
	}
	fprintf(f, "\nSee flatctl-%s(1).\n", name);
}

int args_apply_global(struct flat_ctx *ctx, int id, const char *optarg)
{
	switch (id) {
	case ARG_GLOBAL_ROOT:
		ctx->root = optarg;
		ctx->root_given = true;
		host_isolate();
		return 0;
	case ARG_GLOBAL_DISK:
		ctx->disk = optarg;
		return 0;
	case ARG_GLOBAL_JSON:
		ctx->json = true;
		return 0;
	case 'q':
		ctx->verbosity = -1;
		log_set_max_level(LOG_ERR);
		return 0;
	case 'v':
		ctx->verbosity = ctx->verbosity < 0 ? 1 : ctx->verbosity + 1;
		log_set_max_level(ctx->verbosity >= 2 ? LOG_DEBUG : LOG_INFO);
		return 0;
	case ARG_GLOBAL_VERSION:
		printf("flatctl %s\n", FLATCTL_VERSION);
		return 1;
	default:
		return -EINVAL;
	}
}

static bool is_global(int id)
{
	for (const struct flat_option *o = args_global_options; o->name; o++)
		if (o->id == id)
			return true;
	return false;
}

static const char *option_text(const struct args *a, int id, char *buf, size_t n)
{
	if (id > 0 && id < ARG_LONG_BASE && id != '?')
		snprintf(buf, n, "-%c", id);
	else
		snprintf(buf, n, "%s", a->argv[optind - 1]);
	return buf;
}

int args_next(struct args *a)
{
	int c;
	char buf[64];

	if (!a->started) {
		optind = 0; /* full reinitialisation of GNU getopt */
		opterr = 0;
		a->started = true;
	}
	for (;;) {
		c = getopt_long(a->argc, a->argv, a->shortopts, a->lopts, NULL);
		if (c == -1) {
			a->optind = optind;
			return 0;
		}
		if (c == '?') {
			if (optopt)
				return args_usage_error(a, "unknown option '%s'",
							option_text(a, optopt, buf, sizeof(buf)));
			return args_usage_error(a, "unknown option '%s'", a->argv[optind - 1]);
		}
		if (c == ':')
			return args_usage_error(a, "option '%s' needs an argument",
						option_text(a, optopt, buf, sizeof(buf)));
		a->optarg = optarg;
		if (!(a->flags & ARGS_NO_GLOBALS) && is_global(c)) {
			bool own = false;
			for (const struct flat_option *o = a->opts; o && (o->name || o->id); o++)
				if (o->id == c)
					own = true;
			if (!own) {
				if (c == 'h') {
					args_print_help(a, stdout);
					a->exit_now = true;
					a->optind = optind;
					return 0;
				}
				int r = args_apply_global(a->ctx, c, optarg);
				if (r < 0)
					return args_usage_error(a, "bad option");
				if (r > 0) {
					a->exit_now = true;
					a->optind = optind;
					return 0;
				}
				continue;
			}
		}
		return c;
	}
}

int args_dispatch_verb(const struct args *a, const struct flat_verb *verbs, const char *default_verb,
		       int argc, char **argv, void *userdata)
{
	const char *name = argc > 0 ? argv[0] : default_verb;
	char *fake[2] = { (char *)default_verb, NULL };

	if (!name)
		return args_usage_error(a, "missing command");
	for (const struct flat_verb *v = verbs; v->name; v++) {
		if (strcmp(v->name, name) != 0)
			continue;
		int n = argc > 0 ? argc - 1 : 0;
		if (n < v->min_args)
			return args_usage_error(a, "'%s' needs %s argument%s", name,
						v->min_args == 1 ? "an" : "more",
						v->min_args == 1 ? "" : "s");
		if (v->max_args >= 0 && n > v->max_args)
			return args_usage_error(a, "too many arguments for '%s'", name);
		if (argc == 0)
			return v->fn(1, fake, userdata);
		return v->fn(argc, argv, userdata);
	}
	return args_usage_error(a, "unknown command '%s'", name);
}
