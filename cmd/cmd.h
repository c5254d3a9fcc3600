/* SPDX-License-Identifier: MIT */
/* cmd/cmd.h - applet entry points and the tables built from cmd/applets.h. */
#pragma once

#include <stdio.h>

#include "flatctl.h"
#include "util/cleanup.h"

typedef int (*applet_fn)(int argc, char **argv, struct flat_ctx *ctx);

struct applet {
	const char *name;
	applet_fn fn;
	const char *help;
};

struct alias {
	const char *link;
	const char *applet;
	const char *implied;
};

extern const struct applet applets[];
extern const struct alias aliases[];

#define APPLET(n, f, h) int f(int argc, char **argv, struct flat_ctx *ctx);
#define ALIAS(l, a, i)
#include "applets.h"
#undef APPLET
#undef ALIAS

/* Exit status for an applet's result (cli.md "Exit codes"): >= 0 as is, -EBUSY/-EAGAIN 75,
 * -EINVAL/-EBADMSG 2, other negative 1. */
int flat_exit_status(int r);

/* Print one line to f: fmt (without its newline) formatted, the whole of it escaped with
 * str_escape() (docs/coding-style.md §2), then a newline. For lines that carry strings from the
 * network or a config; the fixed text of fmt has nothing to escape. Returns 0 or -errno. */
int flat_print_line(FILE *f, const char *fmt, ...) _printf_(2, 3);
