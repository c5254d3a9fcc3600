/* SPDX-License-Identifier: MIT */
/* cmd/update-frontends.c - the update_engine_client link name with its gflags syntax;
 * spec: spec/update.md 2.8. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args/args.h"
#include "log/log.h"
#include "update.h"

enum ue_action {
	UE_NONE,
	UE_STATUS,
	UE_RESET_STATUS,
	UE_CHECK_FOR_UPDATE,
	UE_UPDATE,
	UE_WATCH,
};

static const struct {
	const char *name;
	enum ue_action action;
} ue_flags[] = {
	{ "status", UE_STATUS },
	{ "reset_status", UE_RESET_STATUS },
	{ "check_for_update", UE_CHECK_FOR_UPDATE },
	{ "update", UE_UPDATE },
	{ "watch_for_updates", UE_WATCH },
};

static void ue_help(void)
{
	printf("Usage: update_engine_client -FLAG\n"
	       "Compatible front end of 'flatctl update' (gflags syntax: -flag, --flag, -flag=true).\n\n"
	       "  -status          print LAST_CHECKED_TIME, PROGRESS, CURRENT_OP, NEW_VERSION, NEW_SIZE\n"
	       "  -reset_status    discard a staged or pending update (flatctl update reset)\n"
	       "\nSee flatctl-update(1).\n");
}

/* gflags: "-name", "--name", "-name=VALUE". Returns 0 and the name (and VALUE or NULL), or
 * -EINVAL when the argument is not a flag. */
static int parse_flag(const char *arg, char *name, size_t size, const char **ret_value)
{
	const char *p = arg;
	if (*p != '-')
		return -EINVAL;
	p++;
	if (*p == '-')
		p++;
	const char *eq = strchr(p, '=');
	size_t n = eq ? (size_t)(eq - p) : strlen(p);
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = 0;
	*ret_value = eq ? eq + 1 : NULL;
	return 0;
}

/* A boolean flag's value: 1 on, 0 off, -EINVAL anything else. */
static int flag_bool(const char *value)
{
	if (!value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
		return 1;
	if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
		return 0;
	return -EINVAL;
}

static int engine_client(int argc, char **argv, struct flat_ctx *ctx)
{
	enum ue_action action = UE_NONE;
	const char *action_arg = NULL;
	char name[64];

	log_set_prefix("flatctl update_engine_client");
	for (int i = 1; i < argc; i++) {
		const char *value = NULL;
		int on = parse_flag(argv[i], name, sizeof(name), &value);
		if (on >= 0 && (strcmp(name, "root") == 0 || strcmp(name, "disk") == 0)) {
			/* flatctl's global options with a value, for tests and chroots (cli.md). */
			const char *val = value ? value : i + 1 < argc ? argv[++i] : NULL;
			if (!val) {
				fprintf(stderr, "flatctl update_engine_client: flag %s needs a value\n",
					argv[i]);
				return -EINVAL;
			}
			(void)args_apply_global(ctx, strcmp(name, "root") == 0 ? ARG_GLOBAL_ROOT
									: ARG_GLOBAL_DISK, val);
			continue;
		}
		if (on >= 0)
			on = flag_bool(value);
		if (on >= 0 && (strcmp(name, "help") == 0 || strcmp(name, "h") == 0)) {
			ue_help();
			return 0;
		}
		enum ue_action found = UE_NONE;
		if (on >= 0)
			for (size_t k = 0; k < sizeof(ue_flags) / sizeof(ue_flags[0]); k++)
				if (strcmp(ue_flags[k].name, name) == 0)
					found = ue_flags[k].action;
		if (found == UE_NONE) {
			fprintf(stderr, "flatctl update_engine_client: unknown flag %s\n", argv[i]);
			return -EINVAL;
		}
		if (on > 0 && action == UE_NONE) {
			action = found;
			action_arg = argv[i];
		}
	}

	switch (action) {
	case UE_STATUS:
		return update_print_engine_status(ctx);
	case UE_RESET_STATUS: {
		int r = update_do_reset(ctx, 0);
		return r == 3 ? 0 : r;
	}
	case UE_CHECK_FOR_UPDATE:
	case UE_UPDATE:
	case UE_WATCH:
		/* TODO(update): wire to the check/apply pipeline once lib/omaha and lib/payload are
		 * merged; until then say so rather than pretend. */
		return log_fail(-EOPNOTSUPP, "%s: not supported by this build yet", action_arg);
	case UE_NONE:
	default:
		fprintf(stderr, "flatctl update_engine_client: no action given\n"
				"Try 'update_engine_client -help'.\n");
		return -EINVAL;
	}
}

int update_frontend_run(int argc, char **argv, struct flat_ctx *ctx)
{
	if (ctx->invoked_as && strcmp(ctx->invoked_as, "update_engine_client") == 0)
		return engine_client(argc, argv, ctx);
	return -ENOENT;
}
