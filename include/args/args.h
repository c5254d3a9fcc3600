/* SPDX-License-Identifier: MIT */
/* include/args/args.h - declarative option tables: getopt_long parsing, --help, verb dispatch. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/cleanup.h"

struct flat_ctx;

enum arg_kind {
	ARG_NONE,
	ARG_REQ,
	ARG_OPT,
};

/* Long-only option ids start here; ids below are also the short letter. */
#define ARG_LONG_BASE 0x100

struct flat_option {
	const char *name;      /* long name, or NULL for a short-only option */
	int id;                /* short letter, or ARG_LONG_BASE + n for long-only */
	enum arg_kind arg;
	const char *metavar;   /* "URL" */
	const char *help;      /* one line */
};

enum args_flags {
	ARGS_NO_GLOBALS = 1 << 0, /* the applet handles -q/-v/-h itself (classic link names) */
};

struct args {
	int argc;
	char **argv;
	const struct flat_option *opts;
	const char *usage;          /* after "Usage: flatctl APPLET ": "[OPTIONS] check|apply" */
	struct flat_ctx *ctx;
	unsigned flags;

	const char *optarg;         /* argument of the option just returned */
	int optind;                 /* after the loop: index of the first positional argument */
	bool exit_now;              /* --help or --version was printed: exit 0 */

	struct option *lopts;
	char *shortopts;
	bool started;
};

/* Prepare parsing argv (argv[0] is the applet name). Returns 0 or -ENOMEM. */
int args_init(struct args *a, int argc, char **argv, const struct flat_option *opts,
	      const char *usage, struct flat_ctx *ctx, unsigned flags);
/* Next applet option: its id (> 0); 0 when done (then check exit_now); < 0 after a usage error
 * was printed. Global options are handled here and never returned. */
int args_next(struct args *a);
void args_release(struct args *a);

/* Remaining positional arguments after the loop. */
static inline int args_rest_count(const struct args *a)
{
	return a->argc - a->optind;
}
static inline char **args_rest(const struct args *a)
{
	return a->argv + a->optind;
}

/* Print the applet's help to f. */
void args_print_help(const struct args *a, FILE *f);
/* "flatctl APPLET: MESSAGE" and "Try 'flatctl APPLET --help'." to stderr; returns -EINVAL. */
int args_usage_error(const struct args *a, const char *fmt, ...) _printf_(2, 3);
/* Convert a decimal number argument, with a usage error naming the option on failure. */
int args_parse_uint(const struct args *a, const char *what, const char *s, unsigned long long max,
		    unsigned long long *ret);

/* Subcommands. */
struct flat_verb {
	const char *name;
	int min_args;   /* positional arguments after the verb */
	int max_args;   /* -1: unlimited */
	int (*fn)(int argc, char **argv, void *userdata); /* argv[0] is the verb */
};
/* Look up argv[0] among verbs (default_verb when argc == 0, may be NULL), check the argument
 * count, and call it. Usage errors are printed and return -EINVAL. */
int args_dispatch_verb(const struct args *a, const struct flat_verb *verbs, const char *default_verb,
		       int argc, char **argv, void *userdata);

/* The global options (cli.md). Used by cmd/main.c before the applet name. */
extern const struct flat_option args_global_options[];
/* Apply one global option to ctx; returns 0, or 1 when help or version was printed. */
int args_apply_global(struct flat_ctx *ctx, int id, const char *optarg);

enum {
	ARG_GLOBAL_ROOT = 0x1000,
	ARG_GLOBAL_DISK,
	ARG_GLOBAL_JSON,
	ARG_GLOBAL_VERSION,
	ARG_GLOBAL_LIST_LINKS,
};

const char *flatctl_version(void);
