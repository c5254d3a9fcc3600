/* SPDX-License-Identifier: MIT */
/* cmd/main.c - multicall dispatch by argv[0] or first word, global options, exit codes;
 * spec: docs/cli.md. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args/args.h"
#include "cmd.h"
#include "log/log.h"
#include "util/escape.h"
#include "util/host.h"

int flat_exit_status(int r)
{
	if (r >= 0)
		return r > 255 ? 1 : r;
	switch (-r) {
	case EBUSY:
	case EAGAIN:
		return 75;
	case EINVAL:
	case EBADMSG:
		return 2;
	default:
		return 1;
	}
}

int flat_print_line(FILE *f, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL, *esc = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	esc = str_escape(line);
	if (!esc)
		return -ENOMEM;
	if (fprintf(f, "%s\n", esc) < 0)
		return -EIO;
	return 0;
}

static const struct applet *find_applet(const char *name)
{
	for (const struct applet *a = applets; a->name; a++)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static const struct alias *find_alias(const char *name)
{
	for (const struct alias *a = aliases; a->link; a++)
		if (strcmp(a->link, name) == 0)
			return a;
	return NULL;
}

static void main_help(FILE *f)
{
	fprintf(f, "Usage: flatctl [GLOBAL OPTIONS] APPLET [ARGS...]\n"
		   "       LINK-NAME [ARGS...]\n"
		   "One binary for the Flatcar host lifecycle.\n\n"
		   "Applets:\n");
	for (const struct applet *a = applets; a->name; a++)
		fprintf(f, "  %-16s %s\n", a->name, a->help);
	if (aliases[0].link) {
		fprintf(f, "\nLink names:\n");
		for (const struct alias *l = aliases; l->link; l++)
			fprintf(f, "  %-22s flatctl %s%s%s\n", l->link, l->applet,
				l->implied ? " " : "", l->implied ? l->implied : "");
	}
	fprintf(f, "\nGlobal options (before or after the applet name):\n"
		   "      --root=DIR          treat DIR as / for every system path\n"
		   "      --disk=PATH         the disk or image holding USR-A/USR-B\n"
		   "      --json              machine-readable output on stdout\n"
		   "  -q, --quiet             print less\n"
		   "  -v, --verbose           print more (twice: debug)\n"
		   "  -h, --help              show this help\n"
		   "      --version           show the version\n"
		   "      --list-links        print the classic link names, one per line\n"
		   "\nSee flatctl(1).\n");
}

static int run_applet(const struct applet *ap, const char *implied, int argc, char **argv,
		      struct flat_ctx *ctx)
{
	char prefix[128];
	char **nargv;
	int nargc = 0;

	ctx->applet = ap->name;
	ctx->summary = ap->help;
	snprintf(prefix, sizeof(prefix), "flatctl %s", ap->name);
	log_set_prefix(prefix);

	nargv = calloc(argc + 2, sizeof(char *));
	if (!nargv) {
		fprintf(stderr, "flatctl: out of memory\n");
		return 1;
	}
	nargv[nargc++] = (char *)ap->name;
	if (implied)
		nargv[nargc++] = (char *)implied;
	for (int i = 1; i < argc; i++)
		nargv[nargc++] = argv[i];
	int r = ap->fn(nargc, nargv, ctx);
	free(nargv);
	fflush(stdout);
	return flat_exit_status(r);
}

int main(int argc, char **argv)
{
	struct flat_ctx ctx = { .root = "/" };
	const char *self;

	/* docs/build.md: a stray lookup must never dlopen() an NSS module. Configuring that reads
	 * the host's /etc/nsswitch.conf, which a run under --root leaves alone until it resolves a
	 * host name (lib/http does it then; docs/security.md §4). */
	if (!host_argv_has_root(argc, argv))
		host_nss_setup();

	self = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
	self = self ? self + 1 : argc > 0 && argv[0] ? argv[0] : "flatctl";
	ctx.invoked_as = self;

	const struct applet *ap = find_applet(self);
	if (ap)
		return run_applet(ap, NULL, argc, argv, &ctx);
	const struct alias *al = find_alias(self);
	if (al) {
		ap = find_applet(al->applet);
		if (ap)
			return run_applet(ap, al->implied, argc, argv, &ctx);
	}
	if (strncmp(self, "flatctl", 7) != 0) {
		fprintf(stderr, "flatctl: unknown applet name '%s'\nTry 'flatctl --help'.\n", self);
		return 2;
	}

	/* Global options before the applet name; stop at the first non-option. */
	static const struct option lopts[] = {
		{ "root", required_argument, NULL, ARG_GLOBAL_ROOT },
		{ "disk", required_argument, NULL, ARG_GLOBAL_DISK },
		{ "json", no_argument, NULL, ARG_GLOBAL_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_GLOBAL_VERSION },
		{ "list-links", no_argument, NULL, ARG_GLOBAL_LIST_LINKS },
		{},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:qvh", lopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			main_help(stdout);
			return 0;
		case ARG_GLOBAL_LIST_LINKS:
			for (const struct alias *l = aliases; l->link; l++)
				printf("%s\n", l->link);
			return 0;
		case ':':
			fprintf(stderr, "flatctl: option '%s' needs an argument\n"
					"Try 'flatctl --help'.\n", argv[optind - 1]);
			return 2;
		case '?':
			fprintf(stderr, "flatctl: unknown option '%s'\nTry 'flatctl --help'.\n",
				argv[optind - 1]);
			return 2;
		default:
			if (args_apply_global(&ctx, c, optarg) > 0)
				return 0;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "flatctl: missing applet name\nTry 'flatctl --help'.\n");
		return 2;
	}
	ap = find_applet(argv[optind]);
	if (!ap) {
		fprintf(stderr, "flatctl: unknown applet '%s'\nTry 'flatctl --help'.\n", argv[optind]);
		return 2;
	}
	return run_applet(ap, NULL, argc - optind, argv + optind, &ctx);
}
