/* SPDX-License-Identifier: MIT */
/* cmd/update-verbs.c - `update status` and `update reset`; spec: spec/update.md 2.3, 2.4, 7, 9. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "args/args.h"
#include "cmd.h"
#include "conf/conf.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "partition.h"
#include "update.h"
#include "update/install.h"
#include "update/state.h"
#include "util/problem.h"

static const char *first_problem(const struct problem_list *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->item[i].severity == PROBLEM_ERROR)
			return p->item[i].message;
	return NULL;
}

static const char *first_where(const struct problem_list *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->item[i].severity == PROBLEM_ERROR)
			return p->item[i].where ? p->item[i].where : "";
	return "";
}

static int open_root(struct flat_ctx *ctx)
{
	int fd = fs_root_open(ctx->root ? ctx->root : "/");
	if (fd < 0)
		return log_error_errno(fd, "opening root '%s'", ctx->root);
	return fd;
}

/* Read-only load for status: a corrupt file is a warning and shows as IDLE (2.3). */
static int load_state_ro(int root_fd, struct update_state **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = update_state_load(root_fd, 0, ret, NULL, &p);
	if (r < 0)
		return log_error_errno(r, "reading '%s'", UPDATE_STATE_FILE);
	if (r == UPDATE_STATE_CORRUPT)
		log_warning("warning: '%s' unreadable (%s%s%s); showing %s", UPDATE_STATE_FILE,
			    first_where(&p), *first_where(&p) ? ": " : "",
			    first_problem(&p) ? first_problem(&p) : "invalid",
			    update_status_to_string(UPDATE_STATUS_IDLE));
	return 0;
}

/* Writers: a corrupt file is moved aside with a warning (7.2, 10). */
static int load_state_rw(int root_fd, struct update_state **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *moved = NULL;
	int r = update_state_load(root_fd, UPDATE_STATE_MOVE_BAD, ret, &moved, &p);
	if (r < 0)
		return log_error_errno(r, "reading '%s'", UPDATE_STATE_FILE);
	if (r == UPDATE_STATE_CORRUPT)
		log_warning("warning: state.json unreadable, moved to %s; starting from IDLE",
			    moved ? moved : UPDATE_STATE_FILE);
	return 0;
}

int update_cmd_lock(struct flat_ctx *ctx, int root_fd, uint64_t wait_usec, int *ret_fd)
{
	pid_t holder = 0;
	int r = update_lock_take(root_fd, wait_usec, ret_fd, &holder);

	if (r == -EBUSY) {
		_cleanup_(update_state_freep) struct update_state *s = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		const char *st = "unknown status";
		if (update_state_load(root_fd, 0, &s, NULL, &p) >= 0)
			st = update_status_to_string(update_state_status(s));
		if (holder > 0)
			return log_fail(r, "another update operation is running (pid %ld, %s)",
					(long)holder, st);
		return log_fail(r, "another update operation is running (%s)", st);
	}
	if (r < 0)
		return log_error_errno(r, "taking the lock '%s'", UPDATE_LOCK_FILE);
	return 0;
}

/* "456.0 MiB" */
static const char *fmt_size(uint64_t n, char *buf, size_t size)
{
	if (n >= (UINT64_C(1) << 30))
		snprintf(buf, size, "%.1f GiB", (double)n / (double)(UINT64_C(1) << 30));
	else if (n >= (UINT64_C(1) << 20))
		snprintf(buf, size, "%.1f MiB", (double)n / (double)(UINT64_C(1) << 20));
	else if (n >= 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, size, "%" PRIu64 " bytes", n);
	return buf;
}

static const char *fmt_time(uint64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t || !gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "never");
	return buf;
}

/* FLATCAR_RELEASE_VERSION, or COREOS_RELEASE_VERSION from the legacy file (3.1); NULL unknown. */
static char *release_version(int root_fd)
{
	_cleanup_(conf_release) struct conf c = {};
	const char *v;

	if (conf_load(&c, root_fd, "/usr/share/flatcar/release", NULL) >= 0) {
		v = conf_get(&c, "FLATCAR_RELEASE_VERSION");
		return v && *v ? strdup(v) : NULL;
	}
	if (conf_load(&c, root_fd, "/usr/share/coreos/release", NULL) >= 0) {
		v = conf_get(&c, "COREOS_RELEASE_VERSION");
		return v && *v ? strdup(v) : NULL;
	}
	return NULL;
}

/* Booted and target partition names, quietly: status works without a disk (9: null). */
static void find_partitions(struct flat_ctx *ctx, int root_fd, char *booted, char *target)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *found = NULL;
	const char *path = ctx->disk;
	bool inferred = false;
	unsigned nr, other;

	booted[0] = target[0] = 0;
	if (!path) {
		if (gpt_find_disk(&p, &found) < 0)
			return;
		path = found;
	}
	if (gpt_disk_open(path, 0, &d, &p) < 0)
		return;
	int b = gpt_find_booted(root_fd, !ctx->root || strcmp(ctx->root, "/") == 0, d, &inferred);
	if (b <= 0)
		return;
	(void)gpt_entry_name(d->gpt, (unsigned)b, booted);
	if (update_usr_pair(d->gpt, booted, &nr, &other, &p) == 0)
		(void)gpt_entry_name(d->gpt, other, target);
}

struct status_view {
	enum update_status status;
	const char *new_version;
	uint64_t new_size;
	bool staged, pending;
	struct update_staged st;
	struct update_pending pe;
};

static void status_view(const struct update_state *s, struct status_view *v)
{
	*v = (struct status_view){ .status = update_state_status(s) };
	v->staged = update_state_get_staged(s, &v->st);
	v->pending = update_state_get_pending(s, &v->pe);
	if (v->staged) {
		v->new_version = v->st.version;
		v->new_size = v->st.size;
	} else if (v->pending) {
		v->new_version = v->pe.version;
		v->new_size = v->pe.size;
	}
}

int update_print_engine_status(struct flat_ctx *ctx)
{
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	struct status_view v;
	int r;

	if (root_fd < 0)
		return root_fd;
	r = load_state_ro(root_fd, &s);
	if (r < 0)
		return r;
	status_view(s, &v);
	/* Frozen format (2.8): scripts grep these lines. */
	printf("LAST_CHECKED_TIME=%" PRIu64 "\nPROGRESS=%f\nCURRENT_OP=%s\nNEW_VERSION=%s\n"
	       "NEW_SIZE=%" PRIu64 "\n",
	       update_state_last_checked(s), update_state_progress(s),
	       update_status_to_string(v.status), v.new_version ? v.new_version : "0.0.0", v.new_size);
	return 0;
}

int update_verb_status(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	struct flat_ctx *ctx = uc->ctx;
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_free_ char *current = NULL;
	char booted[GPT_LABEL_MAX], target[GPT_LABEL_MAX], sz[32], tm[64];
	struct update_error err;
	struct status_view v;
	int r;

	if (root_fd < 0)
		return root_fd;
	r = load_state_ro(root_fd, &s);
	if (r < 0)
		return r;
	status_view(s, &v);
	current = release_version(root_fd);
	find_partitions(ctx, root_fd, booted, target);
	bool has_err = update_state_get_last_error(s, &err);

	if (ctx->json) {
		json_auto_t *doc = json_pack(
			"{s:s,s:o,s:o,s:I,s:f,s:I,s:o,s:o,s:o}", "status",
			update_status_to_string(v.status), "current_version",
			current ? json_string(current) : json_null(), "new_version",
			v.new_version ? json_string(v.new_version) : json_null(), "new_size",
			(json_int_t)v.new_size, "progress", update_state_progress(s),
			"last_checked_time", (json_int_t)update_state_last_checked(s),
			"booted_partition", *booted ? json_string(booted) : json_null(),
			"target_partition", *target ? json_string(target) : json_null(), "last_error",
			has_err ? json_pack("{s:i,s:s,s:s}", "code", err.code, "name",
					    err.name ? err.name : update_error_code_to_string(err.code),
					    "message", err.message ? err.message : "")
				: json_null());
		if (!doc)
			return log_fail(-ENOMEM, "out of memory");
		if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
			return log_error_errno(-EIO, "writing to stdout");
		putchar('\n');
		return 0;
	}

	printf("status:          %s\n", update_status_to_string(v.status));
	printf("current version: %s", current ? current : "unknown");
	if (*booted)
		printf(" (booted from %s)", booted);
	printf("\n");
	if (v.staged) {
		printf("new version:     %s on %s (%s), installed %s\n", v.st.version, v.st.partition,
		       fmt_size(v.st.size, sz, sizeof(sz)),
		       fmt_time(v.st.installed_time, tm, sizeof(tm)));
	} else if (v.pending) {
		printf("new version:     %s (%s, %.0f%% downloaded)\n",
		       v.pe.version ? v.pe.version : "unknown", fmt_size(v.pe.size, sz, sizeof(sz)),
		       update_state_progress(s) * 100.0);
	} else
		printf("new version:     none\n");
	printf("last check:      %s\n", fmt_time(update_state_last_checked(s), tm, sizeof(tm)));
	if (has_err)
		printf("last error:      %s (%d): %s\n",
		       err.name ? err.name : update_error_code_to_string(err.code), err.code,
		       err.message ? err.message : "");
	else
		printf("last error:      none\n");
	return 0;
}

int update_do_reset(struct flat_ctx *ctx, uint64_t wait_usec)
{
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_close_ int lock_fd = -1;
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_free_ char *staged_version = NULL;
	struct update_staged st;
	int r;

	if (root_fd < 0)
		return root_fd;
	r = update_cmd_lock(ctx, root_fd, wait_usec, &lock_fd);
	if (r < 0)
		return r;
	r = load_state_rw(root_fd, &s);
	if (r < 0)
		return r;

	/* The GPT first: if the undo fails, the state still says what is staged and a rerun can
	 * try again. */
	if (update_state_status(s) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	    update_state_get_staged(s, &st)) {
		_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
		_cleanup_(problem_list_release) struct problem_list p = {};
		unsigned target, booted;

		r = partition_open(ctx, true, false, &d);
		if (r < 0)
			return r;
		r = update_usr_pair(d->gpt, st.partition, &target, &booted, &p);
		if (r < 0)
			return log_fail(-EINVAL, "%s: %s", d->path,
					first_problem(&p) ? first_problem(&p) : strerror(-r));
		r = update_gpt_revert(d->gpt, booted, target);
		if (r < 0)
			return log_error_errno(r, "reverting the boot order on '%s'", d->path);
		r = partition_commit(ctx, d);
		if (r < 0)
			return r;
		char bn[GPT_LABEL_MAX];
		log_info("%s is the next boot again; %s %s discarded", gpt_entry_name(d->gpt, booted, bn),
			 st.version, st.partition);
	}

	/* The state's strings go away with the reset; keep the version for the message. */
	if (update_state_get_staged(s, &st) && !(staged_version = strdup(st.version)))
		return log_fail(-ENOMEM, "out of memory");
	r = update_state_reset(root_fd, s);
	if (r < 0)
		return log_error_errno(r, "resetting '%s'", UPDATE_STATE_FILE);
	if (r == 0) {
		if (ctx->verbosity >= 0)
			printf("nothing to reset: %s\n", update_status_to_string(UPDATE_STATUS_IDLE));
		return 3;
	}
	if (ctx->verbosity >= 0) {
		printf("reset:");
		if (r & UPDATE_RESET_STAGED)
			printf(" staged update %s discarded;", staged_version);
		if (r & UPDATE_RESET_PENDING)
			printf(" pending download removed;");
		if (r & UPDATE_RESET_ERROR)
			printf(" last error cleared;");
		if (r & UPDATE_RESET_BACKOFF)
			printf(" backoff cleared;");
		if (r & UPDATE_RESET_MARKER)
			printf(" %s removed;", UPDATE_REBOOT_MARKER);
		printf(" status %s\n", update_status_to_string(UPDATE_STATUS_IDLE));
	}
	return 0;
}

int update_verb_reset(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	return update_do_reset(uc->ctx, uc->wait_usec);
}

/* The applet's entry point until the payload area's cmd/update.c (verbs pack and verify) is
 * merged; that file defines the real cmd_update() with these verbs in its table. */
enum {
	OPT_WAIT = ARG_LONG_BASE,
};

static const struct flat_option update_opts[] = {
	{ "wait", OPT_WAIT, ARG_REQ, "SEC", "wait up to SEC seconds for another update operation" },
	{},
};

static const struct flat_verb update_verbs[] = {
	{ "status", 0, 0, update_verb_status },
	{ "reset", 0, 0, update_verb_reset },
	{},
};

__attribute__((weak)) int cmd_update(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	struct update_cmd uc = { .ctx = ctx, .args = &a };
	unsigned long long n;
	int r, c;

	r = update_frontend_run(argc, argv, ctx);
	if (r != -ENOENT)
		return r;
	r = args_init(&a, argc, argv, update_opts, "[OPTIONS] status|reset", ctx, 0);
	if (r < 0)
		return log_fail(r, "out of memory");
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case OPT_WAIT:
			r = args_parse_uint(&a, "--wait", a.optarg, 86400, &n);
			if (r < 0)
				return r;
			uc.wait_usec = (uint64_t)n * 1000000;
			break;
		}
	}
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) == 0)
		return args_usage_error(&a, "missing command (status, reset)");
	return args_dispatch_verb(&a, update_verbs, NULL, args_rest_count(&a), args_rest(&a), &uc);
}
