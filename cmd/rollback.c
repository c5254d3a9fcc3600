/* SPDX-License-Identifier: MIT */
/* cmd/rollback.c - make the other USR partition the next boot target; see flatctl-rollback(1),
 * docs/partitions.md §3.5, §8.4. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args/args.h"
#include "cmd.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "partition.h"

enum {
	OPT_FORCE = ARG_LONG_BASE,
	OPT_DRY_RUN,
};

static const struct flat_option rollback_opts[] = {
	{ "force", OPT_FORCE, ARG_NONE, NULL,
	  "roll back even to a partition that holds no installed version" },
	{ "dry-run", OPT_DRY_RUN, ARG_NONE, NULL, "print what would change, write nothing" },
	{},
};

static void print_change(const struct gpt *g, unsigned nr, uint64_t old)
{
	char name[GPT_LABEL_MAX];
	const struct gpt_entry *e = gpt_entry_get_const(g, nr);
	uint64_t now = gpt_entry_attributes(e);

	if (now == old)
		return;
	printf("%s: priority %u -> %u, tries %u -> %u, successful %s\n",
	       gpt_entry_name(g, nr, name),
	       (unsigned)((old & GPT_ATTR_PRIORITY_MASK) >> GPT_ATTR_PRIORITY_SHIFT),
	       gpt_entry_priority(e),
	       (unsigned)((old & GPT_ATTR_TRIES_MASK) >> GPT_ATTR_TRIES_SHIFT), gpt_entry_tries(e),
	       gpt_entry_is_successful(e) ? "yes" : "no");
}

int cmd_rollback(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	bool force = false, dry_run = false;
	char name[GPT_LABEL_MAX], buf[256];
	unsigned nrs[3];
	int r, c;

	r = args_init(&a, argc, argv, rollback_opts, "[OPTIONS]", ctx, 0);
	if (r < 0)
		return log_fail(r, "out of memory");
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case OPT_FORCE:
			force = true;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		}
	}
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) > 0)
		return args_usage_error(&a, "unexpected argument '%s'", args_rest(&a)[0]);

	r = partition_open(ctx, !dry_run, false, &d);
	if (r < 0)
		return r;
	struct gpt *g = d->gpt;
	unsigned n = gpt_usr_entries(g, nrs, 3);
	if (n != 2)
		return log_fail(-EINVAL, "'%s' has %u USR partitions; rollback needs exactly two",
				d->path, n);
	int next = gpt_next_boot(g);
	if (next < 0)
		return log_fail(-EIO,
				"'%s': no USR partition is bootable now; name one with "
				"'flatctl partition prioritize'",
				d->path);
	unsigned other = (unsigned)next;
	unsigned target = other == nrs[0] ? nrs[1] : nrs[0];
	const struct gpt_entry *t = gpt_entry_get_const(g, target);
	gpt_entry_name(g, target, name);
	if (gpt_entry_priority(t) == 0 && gpt_entry_tries(t) == 0 && !gpt_entry_is_successful(t) &&
	    !force)
		return log_fail(-EPERM,
				"%s holds no installed version (priority 0, never booted); "
				"nothing to roll back to",
				name);
	uint64_t old_t = gpt_entry_attributes(t);
	uint64_t old_o = gpt_entry_attributes(gpt_entry_get_const(g, other));
	r = gpt_rollback(g, other);
	if (r < 0)
		return log_error_errno(r, "prioritizing '%s'", name);

	if (dry_run) {
		if (ctx->json)
			return partition_print_state(ctx, d, 0);
		print_change(g, target, old_t);
		print_change(g, other, old_o);
		printf("next boot would be: %s\n",
		       partition_describe(g, gpt_next_boot(g), buf, sizeof(buf)));
		return 0;
	}
	r = partition_commit(ctx, d);
	if (r < 0)
		return r;
	if (ctx->json)
		return partition_print_state(ctx, d, r);
	if (ctx->verbosity >= 0)
		printf("next boot: %s\n",
		       partition_describe(d->gpt, gpt_next_boot(d->gpt), buf, sizeof(buf)));
	return 0;
}
