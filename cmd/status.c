/* SPDX-License-Identifier: MIT */
/* cmd/status.c - `flatctl status`: one screen (or --json) with the version, the booted and next
 * USR partition, the update, reboot lock and provisioning state and the failed units; see
 * flatctl-status(1), docs/diag.md §2. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "args/args.h"
#include "cmd.h"
#include "diag/status.h"
#include "fs/fs.h"
#include "log/log.h"

enum {
	OPT_OFFLINE = ARG_LONG_BASE,
};

static const struct flat_option status_opts[] = {
	{ "offline", OPT_OFFLINE, ARG_NONE, NULL, "do not ask etcd for the reboot lock" },
	{},
};

/* The --root of status and diag: a directory, else a usage error (docs/diag.md §8). */
int diag_cmd_open_root(struct flat_ctx *ctx, int *ret_fd);
int diag_cmd_open_root(struct flat_ctx *ctx, int *ret_fd)
{
	int fd = fs_root_open(ctx->root);
	if (fd < 0)
		return log_fail(-EINVAL, "root '%s': %s", ctx->root,
				fd == -ENOENT || fd == -ENOTDIR ? "not a directory" : strerror(-fd));
	*ret_fd = fd;
	return 0;
}

int cmd_status(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	_cleanup_(diag_status_release) struct diag_status st = {};
	_cleanup_close_ int root_fd = -1;
	bool offline = false;
	int r, c;

	r = args_init(&a, argc, argv, status_opts, "[OPTIONS]", ctx, 0);
	if (r < 0)
		return log_fail(r, "out of memory");
	while ((c = args_next(&a)) > 0)
		if (c == OPT_OFFLINE)
			offline = true;
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) > 0)
		return args_usage_error(&a, "unexpected argument '%s'", args_rest(&a)[0]);
	r = diag_cmd_open_root(ctx, &root_fd);
	if (r < 0)
		return r;

	struct diag_status_opts o = {
		.root_fd = root_fd,
		.root_is_slash = strcmp(ctx->root, "/") == 0,
		.disk = ctx->disk,
		.offline = offline,
		.lock_budget_usec = 2000000,
		.bus_timeout_usec = 1000000,
	};
	r = diag_status_collect(&o, &st);
	if (r < 0)
		return log_error_errno(r, "collecting the status");
	if (ctx->json) {
		if (json_dumpf(st.doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
			return log_fail(-EIO, "writing the JSON document failed");
		fputc('\n', stdout);
	} else
		fputs(st.text, stdout);
	return 0;
}
