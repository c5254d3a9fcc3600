/* SPDX-License-Identifier: MIT */
/* cmd/update-verbs.c - `update status` and `update reset`; spec: spec/update.md 2.3, 2.4, 7, 9. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "conf/conf.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "partition.h"
#include "update.h"
#include "crypto/crypto.h"
#include "payload/payload.h"
#include "update/install.h"
#include "update/keys.h"
#include "update/client.h"
#include "http/http.h"
#include "omaha/request.h"
#include "omaha/response.h"
#include "util/progress.h"
#include <sys/statvfs.h>
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
	_cleanup_(conf_release) struct conf c = { .syntax = CONF_SIMPLE };
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

int update_engine_status_text(struct flat_ctx *ctx, char *buf, size_t size)
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
	snprintf(buf, size,
		 "LAST_CHECKED_TIME=%" PRIu64 "\nPROGRESS=%f\nCURRENT_OP=%s\nNEW_VERSION=%s\n"
		 "NEW_SIZE=%" PRIu64 "\n",
		 update_state_last_checked(s), update_state_progress(s),
		 update_status_to_string(v.status), v.new_version ? v.new_version : "0.0.0",
		 v.new_size);
	return 0;
}

int update_print_engine_status(struct flat_ctx *ctx)
{
	char buf[1024];
	int r = update_engine_status_text(ctx, buf, sizeof(buf));
	if (r < 0)
		return r;
	fputs(buf, stdout);
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

int update_cmd_option(struct update_cmd *uc, int id, const char *arg)
{
	unsigned long long n;
	int r;

	switch (id) {
	case UPDATE_OPT_SERVER:
		uc->server = arg;
		return 1;
	case UPDATE_OPT_GROUP:
		uc->group = arg;
		return 1;
	case UPDATE_OPT_PAYLOAD:
		uc->payload = arg;
		return 1;
	case UPDATE_OPT_SHA256:
		uc->sha256 = arg;
		return 1;
	case UPDATE_OPT_DRY_RUN:
		uc->dry_run = true;
		return 1;
	case UPDATE_OPT_WAIT:
		r = args_parse_uint(uc->args, "--wait", arg, 86400, &n);
		if (r < 0)
			return r;
		uc->wait_usec = (uint64_t)n * 1000000;
		return 1;
	default:
		return 0;
	}
}

/* base64 (44 characters) or hex (64) SHA-256 into out; -EINVAL otherwise. */
static int parse_sha256(const char *s, uint8_t out[32])
{
	if (strlen(s) == 64)
		return crypto_hex_decode_exact(s, out, 32);
	return crypto_base64_decode_exact(s, out, 32);
}

/* The last error of a failed attempt goes into the state, which returns to IDLE (10: "state.json
 * is left valid with last_error set"). Best effort: the failure itself is what gets reported. */
static void record_failure(int root_fd, struct update_state *s, int code, const char *fmt, ...)
	_printf_(4, 5);
static void record_failure(int root_fd, struct update_state *s, int code, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	(void)update_state_set_last_error(s, code ? code : 1, msg, (uint64_t)time(NULL));
	(void)update_state_set_status(s, UPDATE_STATUS_IDLE);
	int r = update_state_save(root_fd, s);
	if (r < 0)
		log_warning_errno(r, "warning: saving '%s'", UPDATE_STATE_FILE);
}

static const char *problems_text(const struct problem_list *p, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < p->n && o < size; i++)
		if (p->item[i].severity == PROBLEM_ERROR)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "; " : "", p->item[i].message);
	if (!buf[0])
		snprintf(buf, size, "failed");
	return buf;
}

static int set_status(int root_fd, struct update_state *s, enum update_status st, double progress)
{
	int r = update_state_set_status(s, st);
	if (r >= 0 && progress >= 0)
		r = update_state_set_progress(s, progress);
	if (r >= 0)
		r = update_state_save(root_fd, s);
	if (r < 0)
		return log_error_errno(r, "writing '%s'", UPDATE_STATE_FILE);
	return 0;
}

/* Everything an install needs that does not depend on where the payload comes from. */
struct install_ctx {
	struct flat_ctx *ctx;
	int root_fd;
	struct update_state *state;
	struct gpt_disk *disk;
	struct update_keys keys;
	struct update_target target;
	char booted_label[GPT_LABEL_MAX], target_label[GPT_LABEL_MAX];
	char *current_version;
};

static void install_ctx_release(struct install_ctx *ic)
{
	update_keys_release(&ic->keys);
	ic->disk = gpt_disk_free(ic->disk);
	free(ic->current_version);
	ic->current_version = NULL;
}

/* 2.2 "update already staged": exit 3 with the message of section 10. */
static int refuse_staged(struct update_state *s)
{
	struct update_staged st;
	if (update_state_status(s) != UPDATE_STATUS_UPDATED_NEED_REBOOT ||
	    !update_state_get_staged(s, &st))
		return 0;
	log_notice("%s is already staged on %s; reboot, or run 'flatctl update reset'", st.version,
		   st.partition);
	return 3;
}

/* Keys, disk, booted and target partition (3.3, 6.1). Errors printed; exit-code ready. */
static int install_prepare(struct install_ctx *ic, struct update_cmd *uc)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	bool inferred = false;
	unsigned nr, other;
	int r;

	r = update_keys_load(ic->root_fd, uc->keys, uc->n_keys ? *uc->n_keys : 0, &ic->keys, &p);
	if (r < 0) {
		char buf[1024];
		if (r == -ENOKEY)
			return log_fail(-EIO, "%s", problems_text(&p, buf, sizeof(buf)));
		return log_fail(-EIO, "key '%s': %s", first_where(&p), first_problem(&p));
	}
	r = partition_open(ic->ctx, true, false, &ic->disk);
	if (r < 0)
		return r;
	/* 6.1: exactly one USR-A and one USR-B, before anything else is asked of the disk. */
	r = update_usr_pair(ic->disk->gpt, "USR-A", &nr, &other, &p);
	if (r < 0)
		return log_fail(-EINVAL, "%s: %s", ic->disk->path, first_problem(&p));
	int b = gpt_find_booted(ic->root_fd, !ic->ctx->root || strcmp(ic->ctx->root, "/") == 0,
				ic->disk, &inferred);
	if (b <= 0)
		return log_fail(-EINVAL, "%s: cannot tell which USR partition is booted; name it with "
					 "--root on a tree holding proc/cmdline (mount.usr=PARTUUID=...)",
				ic->disk->path);
	(void)gpt_entry_name(ic->disk->gpt, (unsigned)b, ic->booted_label);
	r = update_usr_pair(ic->disk->gpt, ic->booted_label, &nr, &other, &p);
	if (r < 0)
		return log_fail(-EINVAL, "%s: %s", ic->disk->path, first_problem(&p));
	(void)gpt_entry_name(ic->disk->gpt, other, ic->target_label);
	ic->target = (struct update_target){
		.root_fd = ic->root_fd,
		.disk = ic->disk,
		.booted = nr,
		.target = other,
		.target_label = ic->target_label,
		.keys = (const struct crypto_key *const *)ic->keys.k,
		.n_keys = ic->keys.n,
	};
	return 0;
}

/* Verify, write, read back, flip, record (5.5, 6, 7.3). `what` names the payload in messages
 * ("payload FILE"); early (may be NULL) what was verified while downloading it. Returns 0
 * installed (or verified with dry_run), exit-code ready otherwise. */
static int install_file(struct install_ctx *ic, int fd, const char *what, const char *version,
			uint64_t expect_size, const uint8_t *sha, const uint8_t *sha_alt,
			struct update_early *early, bool dry_run, bool *ret_bad_payload)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(update_verified_release) struct update_verified v = {};
	char buf[1024];
	int code = 0, r;

	*ret_bad_payload = false;
	r = set_status(ic->root_fd, ic->state, UPDATE_STATUS_VERIFYING, -1);
	if (r < 0)
		return r;
	r = update_payload_verify(&ic->target, fd, expect_size, sha, sha_alt, early, &v, &code, &p);
	if (r < 0) {
		*ret_bad_payload = code != 1 && code != 7;
		record_failure(ic->root_fd, ic->state, code, "%s: %s", what,
			       problems_text(&p, buf, sizeof(buf)));
		return log_fail(-EIO, "%s: %s", what, problems_text(&p, buf, sizeof(buf)));
	}
	log_info("%s: signature version %u verified with '%s'", what, v.matched_version,
		 v.matched_key ? v.matched_key : "?");
	if (dry_run) {
		(void)set_status(ic->root_fd, ic->state, UPDATE_STATUS_IDLE, -1);
		return 0;
	}

	r = set_status(ic->root_fd, ic->state, UPDATE_STATUS_FINALIZING, -1);
	if (r < 0)
		return r;
	r = update_payload_write(&ic->target, fd, &v, &code, &p);
	if (r < 0) {
		const char *w = first_where(&p);
		record_failure(ic->root_fd, ic->state, code, "%s: %s", what,
			       problems_text(&p, buf, sizeof(buf)));
		if (code == 15)
			return log_fail(-EIO, "%s on %s: %s", ic->target_label, ic->disk->path,
					problems_text(&p, buf, sizeof(buf)));
		if (code == 7 && r == -EBUSY) /* the target is mounted: the message names it */
			return log_fail(-EIO, "%s", problems_text(&p, buf, sizeof(buf)));
		return log_fail(-EIO, "%s%s%s: %s", what, *w ? ": " : "", w,
				problems_text(&p, buf, sizeof(buf)));
	}
	r = update_flip(&ic->target, &code, &p);
	if (r < 0) {
		record_failure(ic->root_fd, ic->state, code, "%s on %s: %s", ic->target_label,
			       ic->disk->path, problems_text(&p, buf, sizeof(buf)));
		return log_fail(-EIO, "making %s the next boot on '%s': %s", ic->target_label,
				ic->disk->path, problems_text(&p, buf, sizeof(buf)));
	}

	/* 6.5: the flip is on disk; now the state, the staging file, the reboot marker. */
	char uuid[GPT_GUID_STRING_MAX];
	const struct gpt_entry *e = gpt_entry_get_const(ic->disk->gpt, ic->target.target);
	struct update_staged st = {
		.version = version,
		.previous_version = ic->current_version,
		.partition = ic->target_label,
		.partuuid = gpt_guid_to_string(&e->unique, false, uuid),
		.size = v.size,
		.installed_time = (uint64_t)time(NULL),
	};
	/* The running kernel's boot id, never the root's (3). */
	char boot_id[64] = "";
	_cleanup_fclose_ FILE *bf = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (bf && fgets(boot_id, sizeof(boot_id), bf))
		boot_id[strcspn(boot_id, "\n")] = 0;
	st.boot_id = *boot_id ? boot_id : NULL;
	if ((r = update_state_set_staged(ic->state, &st)) < 0 ||
	    (r = update_state_set_pending(ic->state, NULL, NULL, 0)) < 0 ||
	    (r = update_state_clear_last_error(ic->state)) < 0 ||
	    (r = update_state_set_progress(ic->state, 1.0)) < 0)
		return log_error_errno(r, "updating the state");
	r = set_status(ic->root_fd, ic->state, UPDATE_STATUS_UPDATED_NEED_REBOOT, -1);
	if (r < 0)
		return r;
	r = fs_unlink(ic->root_fd, UPDATE_PART_FILE);
	if (r < 0)
		log_warning_errno(r, "warning: removing '%s'", UPDATE_PART_FILE);
	r = fs_mkdir_p(ic->root_fd, "/run", 0755);
	if (r >= 0)
		r = fs_write_atomic(ic->root_fd, UPDATE_REBOOT_MARKER, "", 0, 0644);
	if (r < 0)
		log_warning_errno(r, "warning: creating '%s'", UPDATE_REBOOT_MARKER);
	return 0;
}

static void print_apply_result(struct flat_ctx *ctx, const char *result, const char *version,
			       const char *partition, int code, const char *message)
{
	if (!ctx->json)
		return;
	json_auto_t *doc = json_pack(
		"{s:s,s:o,s:o,s:o}", "result", result, "version",
		version ? json_string(version) : json_null(), "partition",
		partition ? json_string(partition) : json_null(), "error",
		code ? json_pack("{s:i,s:s,s:s}", "code", code, "name",
				 update_error_code_to_string(code), "message", message ? message : "")
		     : json_null());
	if (doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) >= 0)
		putchar('\n');
}

/* apply --payload FILE (2.2): no Omaha, no events. */
static int apply_local_file(struct install_ctx *ic, struct update_cmd *uc)
{
	_cleanup_close_ int fd = -1;
	uint8_t sha[32];
	char what[600];
	bool bad;
	int r;

	if (uc->sha256 && parse_sha256(uc->sha256, sha) < 0)
		return args_usage_error(uc->args, "--sha256: '%s' is not a hex or base64 SHA-256",
					uc->sha256);
	snprintf(what, sizeof(what), "payload %s", uc->payload);
	fd = open(uc->payload, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_fail(-EIO, "%s: cannot open: %s", what, strerror(errno));
	r = install_file(ic, fd, what, uc->version ? uc->version : "unknown", 0, NULL,
			 uc->sha256 ? sha : NULL, NULL, uc->dry_run, &bad);
	if (r < 0) {
		struct update_error e;
		bool has = update_state_get_last_error(ic->state, &e);
		print_apply_result(ic->ctx, "failed", uc->version, ic->target_label, has ? e.code : 1,
				   has ? e.message : NULL);
		return r;
	}
	const char *v = uc->version ? uc->version : "unknown";
	if (uc->dry_run) {
		if (!ic->ctx->json && ic->ctx->verbosity >= 0)
			printf("verified: %s would install %s to %s\n", what, v, ic->target_label);
		print_apply_result(ic->ctx, "verified", v, ic->target_label, 0, NULL);
		return 0;
	}
	if (!ic->ctx->json && ic->ctx->verbosity >= 0)
		printf("installed %s to %s; reboot to use it\n", v, ic->target_label);
	print_apply_result(ic->ctx, "installed", v, ic->target_label, 0, NULL);
	return 0;
}

/* ---- Omaha: configuration, check, download (2.1, 2.2, 4, 7.3) ---- */

static int load_config(int root_fd, struct update_cmd *uc, struct update_config *cfg)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = update_config_load(root_fd, uc->server, uc->group, cfg, &p);

	for (size_t i = 0; i < p.n; i++) {
		const struct problem *it = &p.item[i];
		if (it->severity != PROBLEM_WARNING)
			continue;
		if (it->line)
			log_warning("warning: %s:%u: ignored: %s", it->where ? it->where : "?", it->line,
				    it->message);
		else if (uc->ctx->verbosity > 0 || strcmp(it->where ? it->where : "", "update.conf") == 0)
			log_warning("warning: %s: %s", it->where ? it->where : "?", it->message);
	}
	if (r == -ENOMEM)
		return log_fail(r, "out of memory");
	if (r < 0)
		return log_fail(r == -EINVAL ? -EINVAL : -EIO, "%s: %s", first_where(&p),
				first_problem(&p) ? first_problem(&p) : strerror(-r));
	return 0;
}

static int refuse_disabled(struct flat_ctx *ctx, const struct update_config *cfg)
{
	if (!cfg->disabled)
		return 0;
	log_notice("updates are disabled (SERVER=%s in %s)", cfg->server,
		   cfg->server_file ? cfg->server_file : "the defaults");
	return 3;
}

static void send_event(struct http_client *http, const struct update_config *cfg,
		       const struct update_state *s, const char *bootid, struct omaha_event ev)
{
	if (!http)
		return;
	int r = update_send_event(http, cfg, s, bootid, &ev);
	if (r < 0)
		log_warning("warning: %s: event %d/%d not delivered: %s", cfg->server, ev.type,
			    ev.result, strerror(-r));
}

static void print_check_json(const struct update_config *cfg, const struct omaha_response *resp,
			     const char *reason)
{
	json_auto_t *doc = json_object();
	if (!doc)
		return;
	(void)json_object_set_new(doc, "update_available", json_boolean(!reason));
	if (reason)
		(void)json_object_set_new(doc, "reason", json_string(reason));
	if (resp && resp->outcome == OMAHA_OUTCOME_UPDATE && resp->n_packages > 0) {
		char b64[64];
		json_t *urls = json_array(), *ext = json_array();
		update_base64_32(resp->sha256, b64);
		(void)json_object_set_new(doc, "version", json_string(resp->version));
		(void)json_object_set_new(doc, "size", json_integer((json_int_t)resp->packages[0].size));
		(void)json_object_set_new(doc, "sha256", json_string(b64));
		for (size_t i = 0; i < resp->n_urls; i++) {
			_cleanup_free_ char *u = omaha_response_payload_url(resp, i, 0);
			if (u)
				(void)json_array_append_new(urls, json_string(u));
		}
		for (size_t i = 1; i < resp->n_packages; i++)
			(void)json_array_append_new(
				ext, json_pack("{s:s,s:I}", "name", resp->packages[i].name, "size",
					       (json_int_t)resp->packages[i].size));
		(void)json_object_set_new(doc, "urls", urls);
		(void)json_object_set_new(doc, "extensions", ext);
	}
	(void)json_object_set_new(doc, "current_version", json_string(cfg->version));
	(void)json_object_set_new(doc, "group", json_string(cfg->group));
	(void)json_object_set_new(doc, "server", json_string(cfg->server));
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) >= 0)
		putchar('\n');
}

/* One update check with the messages and exit codes of 2.1, 4.3.1 and 10. Returns 0 when an
 * update is offered (*ret_resp set), 3 for nothing to do, or a negative exit-code-ready error.
 * The state (last check, report) is saved. */
static int run_check(struct flat_ctx *ctx, int root_fd, struct update_state *s,
		     const struct update_config *cfg, struct http_client *http, const char *bootid,
		     bool print_offer, struct omaha_response **ret_resp)
{
	_cleanup_(update_check_result_release) struct update_check_result res = {};
	_cleanup_free_ char *url = http_url_redact(cfg->server);
	int r;

	r = update_check(http, cfg, s, bootid, &res);
	(void)update_state_set_last_checked(s, (uint64_t)time(NULL));
	int sr = update_state_save(root_fd, s);
	if (sr < 0)
		log_warning_errno(sr, "warning: saving '%s'", UPDATE_STATE_FILE);
	if (r < 0) {
		if (res.code) {
			/* 4.4: a failure after a 2xx answer is reported as 3/0. */
			send_event(http, cfg, s, bootid, omaha_event_error(res.code));
			record_failure(root_fd, s, res.code, "%s: %s", url ? url : "", res.message);
		}
		if (ctx->json)
			print_apply_result(ctx, "failed", NULL, NULL, res.code ? (int)res.code : 1,
					   res.message);
		return log_fail(r == -EAGAIN ? -EAGAIN : -EIO, "%s: %s", url ? url : "", res.message);
	}
	struct omaha_response *resp = res.response;
	struct update_staged st;
	const char *reason = NULL;
	int ret = 0;

	switch (resp->outcome) {
	case OMAHA_OUTCOME_NOUPDATE:
		reason = "noupdate";
		if (!ctx->json && ctx->verbosity >= 0)
			printf("no update: %s is current (group %s, %s)\n", cfg->version, cfg->group,
			       url ? url : "");
		ret = 3;
		break;
	case OMAHA_OUTCOME_REFUSED:
		switch (omaha_refusal_classify(resp->refusal)) {
		case OMAHA_REFUSAL_NOUPDATE:
			reason = "noupdate";
			ret = 3;
			break;
		case OMAHA_REFUSAL_DISABLED:
			reason = "disabled";
			ret = 3;
			break;
		case OMAHA_REFUSAL_LATER:
			ret = -EAGAIN;
			break;
		default:
			ret = -EIO;
		}
		(void)log_fail(ret, "%s: server refused: %s (track \"%s\")", url ? url : "",
			       resp->refusal ? resp->refusal : "?", cfg->group);
		break;
	case OMAHA_OUTCOME_UPDATE:
		if (update_state_status(s) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
		    update_state_get_staged(s, &st) && strcmp(st.version, resp->version) == 0) {
			reason = "staged";
			log_notice("%s is already staged on %s; reboot, or run 'flatctl update reset'",
				   st.version, st.partition);
			ret = 3;
			break;
		}
		if (print_offer && !ctx->json && ctx->verbosity >= 0) {
			_cleanup_free_ char *purl = omaha_response_payload_url(resp, 0, 0);
			char sz[32];
			printf("update available: %s (%s) from %s\n", resp->version,
			       fmt_size(resp->packages[0].size, sz, sizeof(sz)), purl ? purl : "?");
		}
		break;
	default:
		ret = log_fail(-EIO, "%s: invalid Omaha response: no updatecheck", url ? url : "");
	}
	if (ctx->json && print_offer && (ret == 0 || ret == 3))
		print_check_json(cfg, resp, reason);
	if (ret == 0)
		*ret_resp = TAKE_PTR(res.response);
	return ret;
}

int update_verb_check(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	struct flat_ctx *ctx = uc->ctx;
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(update_config_release) struct update_config cfg = {};
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	_cleanup_(omaha_response_freep) struct omaha_response *resp = NULL;
	char bootid[64];
	int r;

	if (root_fd < 0)
		return root_fd;
	if (uc->payload || uc->version || uc->sha256 || uc->dry_run)
		return args_usage_error(uc->args, "--payload, --version, --sha256 and --dry-run are "
						  "options of 'apply'");
	r = load_state_rw(root_fd, &s);
	if (r < 0)
		return r;
	r = load_config(root_fd, uc, &cfg);
	if (r < 0)
		return r;
	r = refuse_disabled(ctx, &cfg);
	if (r) {
		if (ctx->json)
			print_check_json(&cfg, NULL, "disabled");
		return r;
	}
	r = update_http_new(&cfg, root_fd, false, &http);
	if (r < 0)
		return log_error_errno(r, "setting up HTTP for '%s'", cfg.server);
	update_boot_id(bootid);
	return run_check(ctx, root_fd, s, &cfg, http, bootid, true, &resp);
}

struct dl_progress {
	struct flat_ctx *ctx;
	struct progress p;
	bool draw;
	const char *version;
	int root_fd;
	struct update_state *state;
	unsigned saved_decile;
};

static int on_progress(uint64_t done, uint64_t total, void *userdata)
{
	struct dl_progress *d = userdata;
	uint64_t now = progress_now_usec();
	unsigned pct;
	char line[256];

	if (d->draw && progress_due(&d->p, now, done, total)) {
		(void)progress_format(line, sizeof(line), &d->p, now, "downloading", d->version, done,
				      total, true);
		fprintf(stderr, "\r%s\033[K", line);
		if (total && done >= total)
			fputc('\n', stderr);
	} else if (!d->draw && d->ctx->verbosity > 0 && progress_decile(&d->p, done, total, &pct))
		log_info("downloading %s %u%%", d->version, pct);
	/* state.json's progress for status readers, every 10 % (an atomic rewrite each) */
	if (total > 0 && done * 10 / total > d->saved_decile) {
		d->saved_decile = (unsigned)(done * 10 / total);
		if (update_state_set_progress(d->state, (double)done / (double)total) >= 0)
			(void)update_state_save(d->root_fd, d->state);
	}
	return 0;
}

/* Download (with resume) into payload.part, then install_file(). source "omaha" sends events
 * through ev_http; "local" (--payload URL) sends none. */
static int download_and_install(struct install_ctx *ic, struct update_cmd *uc,
				const struct update_config *cfg, struct http_client *ev_http,
				const char *bootid, const char *source, char **urls, size_t n_urls,
				const char *version, uint64_t size, const uint8_t *sha,
				const uint8_t *sha_alt)
{
	_cleanup_close_ int part_fd = -1;
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	_cleanup_(update_early_freep) struct update_early *early = NULL;
	char sha_b64[64] = "", what[1100], buf[512];
	struct stat stt;
	int r;

	if (sha)
		update_base64_32(sha, sha_b64);
	r = fs_mkdir_p(ic->root_fd, UPDATE_STATE_DIR, 0700);
	if (r >= 0)
		r = fs_exists(ic->root_fd, UPDATE_PART_FILE);
	if (r < 0)
		return log_error_errno(r, "opening '%s'", UPDATE_PART_FILE);
	bool existed = r > 0;
	part_fd = fs_open(ic->root_fd, UPDATE_PART_FILE, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (part_fd < 0 || fstat(part_fd, &stt) < 0)
		return log_error_errno(part_fd < 0 ? part_fd : -errno, "opening '%s'", UPDATE_PART_FILE);
	struct update_offer offer = { .source = source, .sha256 = sha ? sha_b64 : NULL,
				      .url = urls[0], .size = size };
	enum update_resume how = update_resume_decide(ic->state, &offer, existed ? stt.st_size : -1);
	uint64_t have = (uint64_t)stt.st_size;
	if (how == UPDATE_RESUME_START_OVER) {
		if (ftruncate(part_fd, 0) < 0)
			return log_error_errno(-errno, "truncating '%s'", UPDATE_PART_FILE);
		have = 0;
		struct update_pending pe = { .version = version, .name = NULL, .sha256 = sha ? sha_b64 : NULL,
					     .source = source, .size = size,
					     .started_time = (uint64_t)time(NULL) };
		r = update_state_set_pending(ic->state, &pe, (const char *const *)urls, n_urls);
		if (r < 0)
			return log_error_errno(r, "updating the state");
	}
	r = set_status(ic->root_fd, ic->state, UPDATE_STATUS_UPDATE_AVAILABLE, -1);
	if (r < 0)
		return r;

	if (how != UPDATE_RESUME_REVERIFY && !(size > 0 && have == size)) {
		/* 7.3: room for the rest plus 64 MiB. */
		struct statvfs sv;
		if (size > 0 && fstatvfs(part_fd, &sv) == 0) {
			uint64_t free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
			uint64_t need = size - have + (64ULL << 20);
			if (free_b < need) {
				record_failure(ic->root_fd, ic->state, 14, "not enough space");
				send_event(ev_http, cfg, ic->state, bootid, omaha_event_error(14));
				return log_fail(-EIO, "%s: not enough space: need %llu, have %llu",
						UPDATE_STATE_DIR, (unsigned long long)need,
						(unsigned long long)free_b);
			}
		}
		send_event(ev_http, cfg, ic->state, bootid,
			   omaha_event_simple(OMAHA_EVENT_DOWNLOAD_STARTED, OMAHA_RESULT_SUCCESS));
		r = set_status(ic->root_fd, ic->state, UPDATE_STATUS_DOWNLOADING, -1);
		if (r < 0)
			return r;
		r = update_http_new(cfg, ic->root_fd, true, &http);
		if (r < 0)
			return log_error_errno(r, "setting up HTTP");
		struct dl_progress dp = { .ctx = ic->ctx, .version = version, .root_fd = ic->root_fd,
					  .state = ic->state,
					  .saved_decile = size ? (unsigned)(have * 10 / size) : 0,
					  .draw = progress_wanted(STDERR_FILENO, ic->ctx->verbosity) };
		progress_init(&dp.p, progress_now_usec(), have);
		/* 5.5's checks run on the bytes as they are staged (update/install.h); without it,
		 * on the whole file afterwards */
		if (update_early_new(&ic->target, (size > have ? size - have : 0) + (64ULL << 20),
				     &early) < 0)
			early = NULL;
		uint64_t fetched = 0;
		bool is4xx = false, oversize = false;
		_cleanup_free_ char *rurl = NULL;
		for (size_t i = 0; i < n_urls; i++) {
			free(rurl);
			rurl = http_url_redact(urls[i]);
			(void)update_early_catch_up(early, part_fd, have);
			r = update_download(http, urls[i], NULL, NULL, part_fd, have, size, on_progress,
					    &dp, early, &fetched, &is4xx, &oversize, buf, sizeof(buf));
			if (r >= 0 || oversize)
				break;
			if (fstat(part_fd, &stt) == 0)
				have = (uint64_t)stt.st_size;
		}
		if (r < 0) {
			/* 4.4: 14 when the staging file could not be written (the write callback's
			 * errno comes back as is), 11 over the announced size, else 9. */
			int code = oversize ? 11 : (r == -ENOSPC || r == -EDQUOT || r == -EIO) ? 14 : 9;
			snprintf(what, sizeof(what), "payload %s", rurl ? rurl : "?");
			if (oversize || r != -EAGAIN) {
				if (ftruncate(part_fd, 0) < 0)
					log_warning_errno(-errno, "warning: truncating %s", UPDATE_PART_FILE);
				(void)fs_unlink(ic->root_fd, UPDATE_PART_FILE);
				(void)update_state_set_pending(ic->state, NULL, NULL, 0);
			}
			record_failure(ic->root_fd, ic->state, code, "%s: download failed: %s", what, buf);
			send_event(ev_http, cfg, ic->state, bootid, omaha_event_error(code));
			if (oversize)
				return log_fail(-EIO, "%s: larger than the announced %llu bytes", what,
						(unsigned long long)size);
			return log_fail(r == -EAGAIN ? -EAGAIN : -EIO, "%s: download failed: %s", what, buf);
		}
		if (fsync(part_fd) < 0)
			return log_error_errno(-errno, "fsync '%s'", UPDATE_PART_FILE);
		if (fstat(part_fd, &stt) < 0)
			return log_error_errno(-errno, "stat '%s'", UPDATE_PART_FILE);
		if (ic->ctx->verbosity >= 0)
			log_notice("fetched %llu bytes (resumed at %llu), payload %llu bytes",
				   (unsigned long long)fetched, (unsigned long long)(have),
				   (unsigned long long)stt.st_size);
		if (size > 0 && (uint64_t)stt.st_size == size)
			send_event(ev_http, cfg, ic->state, bootid,
				   omaha_event_simple(OMAHA_EVENT_DOWNLOAD_FINISHED,
						      OMAHA_RESULT_SUCCESS));
	}
	_cleanup_free_ char *rurl0 = http_url_redact(urls[0]);
	snprintf(what, sizeof(what), "payload %s", rurl0 ? rurl0 : "?");
	bool bad = false;
	r = install_file(ic, part_fd, what, version, size, sha, sha_alt, early, uc->dry_run, &bad);
	if (r < 0) {
		struct update_error e;
		bool has = update_state_get_last_error(ic->state, &e);
		if (bad) {
			/* 7.3: bad bytes are never resumed; 8.2: remember the payload. */
			(void)fs_unlink(ic->root_fd, UPDATE_PART_FILE);
			(void)update_state_set_pending(ic->state, NULL, NULL, 0);
			if (sha)
				(void)update_state_add_bad_payload(ic->state, sha_b64);
			(void)update_state_save(ic->root_fd, ic->state);
		}
		send_event(ev_http, cfg, ic->state, bootid, omaha_event_error(has ? e.code : 1));
		print_apply_result(ic->ctx, "failed", version, ic->target_label, has ? e.code : 1,
				   has ? e.message : NULL);
		return r;
	}
	if (uc->dry_run) {
		if (!ic->ctx->json && ic->ctx->verbosity >= 0)
			printf("verified: %s would install %s to %s\n", what, version, ic->target_label);
		print_apply_result(ic->ctx, "verified", version, ic->target_label, 0, NULL);
		return 0;
	}
	send_event(ev_http, cfg, ic->state, bootid,
		   omaha_event_simple(OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_SUCCESS));
	if (!ic->ctx->json && ic->ctx->verbosity >= 0)
		printf("installed %s to %s; reboot to use it\n", version, ic->target_label);
	print_apply_result(ic->ctx, "installed", version, ic->target_label, 0, NULL);
	return 0;
}

static int apply_omaha(struct install_ctx *ic, struct update_cmd *uc)
{
	_cleanup_(update_config_release) struct update_config cfg = {};
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	_cleanup_(omaha_response_freep) struct omaha_response *resp = NULL;
	char bootid[64];
	int r;

	r = load_config(ic->root_fd, uc, &cfg);
	if (r < 0)
		return r;
	if (uc->payload) {
		/* --payload URL: no server, no events (2.2). */
		uint8_t sha[32];
		char *urls[1] = { (char *)uc->payload };
		if (uc->sha256 && parse_sha256(uc->sha256, sha) < 0)
			return args_usage_error(uc->args, "--sha256: '%s' is not a hex or base64 SHA-256",
						uc->sha256);
		return download_and_install(ic, uc, &cfg, NULL, NULL, "local", urls, 1,
					    uc->version ? uc->version : "unknown", 0,
					    uc->sha256 ? sha : NULL, NULL);
	}
	r = refuse_disabled(ic->ctx, &cfg);
	if (r) {
		print_apply_result(ic->ctx, "noupdate", NULL, NULL, 0, NULL);
		return r;
	}
	r = update_http_new(&cfg, ic->root_fd, false, &http);
	if (r < 0)
		return log_error_errno(r, "setting up HTTP for '%s'", cfg.server);
	update_boot_id(bootid);
	(void)set_status(ic->root_fd, ic->state, UPDATE_STATUS_CHECKING_FOR_UPDATE, -1);
	r = run_check(ic->ctx, ic->root_fd, ic->state, &cfg, http, bootid, false, &resp);
	if (r != 0) {
		if (update_state_status(ic->state) == UPDATE_STATUS_CHECKING_FOR_UPDATE)
			(void)set_status(ic->root_fd, ic->state, UPDATE_STATUS_IDLE, -1);
		if (r == 3)
			print_apply_result(ic->ctx, "noupdate", NULL, NULL, 0, NULL);
		return r;
	}
	if (!ic->ctx->json && ic->ctx->verbosity >= 0) {
		char sz[32];
		printf("update available: %s (%s)\n", resp->version,
		       fmt_size(resp->packages[0].size, sz, sizeof(sz)));
		fflush(stdout);
	}
	char **urls = calloc(resp->n_urls + 1, sizeof(char *));
	if (!urls)
		return log_fail(-ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < resp->n_urls; i++) {
		urls[n] = omaha_response_payload_url(resp, i, 0);
		if (urls[n])
			n++;
	}
	r = n ? download_and_install(ic, uc, &cfg, http, bootid, "omaha", urls, n, resp->version,
				     resp->packages[0].size, resp->sha256,
				     resp->packages[0].has_sha256 ? resp->packages[0].sha256 : NULL)
	      : log_fail(-ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	return r;
}

int update_verb_apply(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	struct flat_ctx *ctx = uc->ctx;
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_close_ int lock_fd = -1;
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(install_ctx_release) struct install_ctx ic = { .ctx = ctx };
	int r;

	if (root_fd < 0)
		return root_fd;
	if ((uc->version || uc->sha256) && !uc->payload)
		return args_usage_error(uc->args, "--version and --sha256 go with --payload");
	r = update_cmd_lock(ctx, root_fd, uc->wait_usec, &lock_fd);
	if (r < 0)
		return r;
	r = load_state_rw(root_fd, &s);
	if (r < 0)
		return r;
	r = refuse_staged(s);
	if (r != 0) {
		struct update_staged st;
		(void)update_state_get_staged(s, &st);
		print_apply_result(ctx, "staged", st.version, st.partition, 0, NULL);
		return r;
	}
	/* 8.2: an interactive apply clears the known-bad list. */
	(void)update_state_clear_bad_payloads(s);
	ic.root_fd = root_fd;
	ic.state = s;
	ic.current_version = release_version(root_fd);
	r = install_prepare(&ic, uc);
	if (r < 0)
		return r;
	if (uc->payload && !strstr(uc->payload, "://"))
		return apply_local_file(&ic, uc);
	return apply_omaha(&ic, uc);
}
