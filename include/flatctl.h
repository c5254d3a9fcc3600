/* SPDX-License-Identifier: MIT */
/* include/flatctl.h - the global options every applet receives (cli.md "Global options"). */
#pragma once

#include <stdbool.h>

struct flat_ctx {
	const char *root;       /* --root, default "/" */
	bool root_given;        /* --root was on the command line */
	const char *disk;       /* --disk or NULL */
	bool json;              /* --json */
	int verbosity;          /* -q: -1, default 0, -v: 1, -vv: 2 */
	const char *applet;     /* applet name, e.g. "update" */
	const char *summary;    /* its one-line help from cmd/applets.h */
	const char *invoked_as; /* basename of argv[0] */
};
