/* SPDX-License-Identifier: MIT */
/* cmd/update-verbs.c - `update check`, `apply`, `status` and `reset`: options and output around
 * the update engine (lib/update/engine.c); see flatctl-update(1), docs/update.md 2.1-2.4, 9. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "crypto/crypto.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "omaha/response.h"
#include "partition.h"
#include "update.h"
#include "update/client.h"
#include "update/engine.h"
#include "update/install.h"
#include "update/metrics.h"
#include "update/state.h"
#include "util/escape.h"
#include "util/problem.h"
#include "util/progress.h"

static int open_root(struct flat_ctx *ctx)
{
	int fd = fs_root_open(ctx->root ? ctx->root : "/");
	if (fd < 0)
		return log_error_errno(fd, "opening root '%s'", ctx->root);
	return fd;
}

static bool root_is_slash(const struct flat_ctx *ctx)
{
	return !ctx->root || strcmp(ctx->root, "/") == 0;
}

/* Read-only load for status: a corrupt file is a warning and shows as IDLE (2.3); without root,
 * the public status.json. */
static int load_state_ro(int root_fd, struct update_state **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = update_state_load(root_fd, UPDATE_STATE_PUBLIC_OK, ret, NULL, &p);
	if (r < 0)
		return log_error_errno(r, "reading '%s'", UPDATE_STATE_FILE);
	if (r == UPDATE_STATE_CORRUPT) {
		const char *where = "", *what = "invalid";
		for (size_t i = 0; i < p.n; i++)
			if (p.item[i].severity == PROBLEM_ERROR) {
				where = p.item[i].where ? p.item[i].where : "";
				what = p.item[i].message;
				break;
			}
		log_warning("warning: '%s' unreadable (%s%s%s); showing %s", UPDATE_STATE_FILE, where,
			    *where ? ": " : "", what, update_status_to_string(UPDATE_STATUS_IDLE));
	}
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

int update_disk_open_quiet(struct flat_ctx *ctx, bool lock, struct gpt_disk **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *found = NULL;
	const char *path = ctx->disk;
	int r;

	if (!path) {
		r = gpt_find_disk(&p, &found);
		if (r < 0)
			return r;
		path = found;
	}
	return gpt_disk_open(path, lock ? GPT_DISK_LOCK : 0, ret, &p);
}

/* Booted and target partition names, quietly: status works without a disk (9: null). */
static void find_partitions(struct flat_ctx *ctx, int root_fd, char *booted, char *target)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	bool inferred = false;
	unsigned nr, other;

	booted[0] = target[0] = 0;
	if (update_disk_open_quiet(ctx, false, &d) < 0)
		return;
	int b = gpt_find_booted(root_fd, root_is_slash(ctx), d, &inferred);
	if (b <= 0)
		return;
	(void)gpt_entry_name(d->gpt, (unsigned)b, booted);
	if (update_usr_pair(d->gpt, booted, &nr, &other, &p) == 0)
		(void)gpt_entry_name(d->gpt, other, target);
}

int update_engine_status_text(struct flat_ctx *ctx, char *buf, size_t size)
{
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	struct update_snapshot snap;
	int r;

	if (root_fd < 0)
		return root_fd;
	r = load_state_ro(root_fd, &s);
	if (r < 0)
		return r;
	update_snapshot_from_state(s, &snap);
	update_snapshot_format(&snap, buf, size);
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

/* --prometheus on stdout, --textfile into DIR (9.1); both when both are given. */
static int print_metrics(struct update_cmd *uc, const struct update_state *s, const char *current)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	int r = update_metrics_render(s, current, &text, &size);

	if (r < 0)
		return log_fail(r, "out of memory");
	if (uc->prometheus && (fwrite(text, 1, size, stdout) != size || fflush(stdout) != 0))
		return log_error_errno(-EIO, "writing to stdout");
	if (!uc->textfile)
		return 0;
	r = update_metrics_write_textfile(uc->textfile, text, size);
	if (r == -ENOENT || r == -ENOTDIR)
		return args_usage_error(uc->args, "--textfile: '%s' is not a directory", uc->textfile);
	if (r < 0)
		return log_error_errno(r, "writing '%s/%s'", uc->textfile, UPDATE_METRICS_TEXTFILE);
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
	struct update_snapshot snap;
	struct update_staged st;
	struct update_pending pe;
	struct update_error err;
	int r;

	if (root_fd < 0)
		return root_fd;
	if ((uc->prometheus || uc->textfile) && ctx->json)
		return args_usage_error(uc->args, "--json cannot be combined with --%s",
					uc->prometheus ? "prometheus" : "textfile");
	r = load_state_ro(root_fd, &s);
	if (r < 0)
		return r;
	update_snapshot_from_state(s, &snap);
	current = update_release_version(root_fd);
	if (uc->prometheus || uc->textfile)
		return print_metrics(uc, s, current);
	find_partitions(ctx, root_fd, booted, target);
	bool has_err = update_state_get_last_error(s, &err);
	const char *nv = *snap.new_version ? snap.new_version : NULL;

	if (ctx->json) {
		json_auto_t *doc = json_pack(
			"{s:s,s:o,s:o,s:I,s:f,s:I,s:o,s:o,s:o}", "status",
			update_status_to_string(snap.status), "current_version",
			current ? json_string(current) : json_null(), "new_version",
			nv ? json_string(nv) : json_null(), "new_size", (json_int_t)snap.new_size,
			"progress", snap.progress, "last_checked_time",
			(json_int_t)snap.last_checked_time, "booted_partition",
			*booted ? json_string(booted) : json_null(), "target_partition",
			*target ? json_string(target) : json_null(), "last_error",
			has_err ? json_pack("{s:i,s:s,s:s}", "code", err.code, "name",
					    err.name ? err.name : update_error_code_to_string(err.code),
					    "message", err.message ? err.message : "")
				: json_null());
		if (!doc)
			return log_fail(-ENOMEM, "out of memory");
		if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
			return log_error_errno(-EIO, "writing to stdout");
		putchar('\n');
		return 0;
	}

	/* versions, partition names and error messages come from state.json, the release file and
	 * the Omaha server: every line goes through flat_print_line */
	printf("status:          %s\n", update_status_to_string(snap.status));
	(void)flat_print_line(stdout, "current version: %s%s%s%s", current ? current : "unknown",
			      *booted ? " (booted from " : "", booted, *booted ? ")" : "");
	if (update_state_get_staged(s, &st)) {
		(void)flat_print_line(stdout, "new version:     %s on %s (%s), installed %s",
				      st.version, st.partition, fmt_size(st.size, sz, sizeof(sz)),
				      fmt_time(st.installed_time, tm, sizeof(tm)));
	} else if (update_state_get_pending(s, &pe)) {
		(void)flat_print_line(stdout, "new version:     %s (%s, %.0f%% downloaded)",
				      pe.version ? pe.version : "unknown",
				      fmt_size(pe.size, sz, sizeof(sz)), snap.progress * 100.0);
	} else
		printf("new version:     none\n");
	printf("last check:      %s\n", fmt_time(snap.last_checked_time, tm, sizeof(tm)));
	if (has_err)
		(void)flat_print_line(stdout, "last error:      %s (%d): %s",
				      err.name ? err.name : update_error_code_to_string(err.code),
				      err.code, err.message ? err.message : "");
	else
		printf("last error:      none\n");
	return 0;
}

/* ---- the engine's hooks: what the command line shows while a cycle runs ---- */

static void hook_message(int level, const char *text, void *userdata)
{
	(void)log_full(level, 0, "%s", text);
}

static void hook_progress(const char *version, uint64_t done, uint64_t total, void *userdata)
{
	struct update_cli_run *run = userdata;
	uint64_t now = progress_now_usec();
	unsigned pct;
	char line[256];

	if (!run->started) {
		progress_init(&run->p, now, done);
		run->started = true;
	}
	if (run->draw && progress_due(&run->p, now, done, total)) {
		char esc[128];
		(void)progress_format(line, sizeof(line), &run->p, now, "downloading",
				      str_escape_buf(version, esc, sizeof(esc)), done, total, true);
		fprintf(stderr, "\r%s\033[K", line);
		if (total && done >= total)
			fputc('\n', stderr);
	} else if (!run->draw && run->ctx->verbosity > 0 &&
		   progress_decile(&run->p, done, total, &pct))
		log_info("downloading %s %u%%", version, pct);
}

static void hook_offer(const struct omaha_response *resp, const char *url, void *userdata)
{
	struct update_cli_run *run = userdata;
	char sz[32];

	if (run->ctx->json || run->ctx->verbosity < 0)
		return;
	/* the version and the URL are the server's: escaped, so that no answer can forge a line */
	if (run->apply) {
		(void)flat_print_line(stdout, "update available: %s (%s)", resp->version,
				      fmt_size(resp->packages[0].size, sz, sizeof(sz)));
		fflush(stdout);
	} else
		(void)flat_print_line(stdout, "update available: %s (%s) from %s", resp->version,
				      fmt_size(resp->packages[0].size, sz, sizeof(sz)),
				      url ? url : "?");
}

static int hook_open_disk(void *userdata, struct gpt_disk **ret)
{
	struct update_cli_run *run = userdata;
	return partition_open(run->ctx, true, false, ret);
}

struct update_cycle_params update_cmd_params(struct update_cmd *uc, int root_fd,
					     enum update_mode mode, struct update_cli_run *run)
{
	*run = (struct update_cli_run){ .ctx = uc->ctx, .apply = mode == UPDATE_MODE_APPLY,
				 .draw = progress_wanted(STDERR_FILENO, uc->ctx->verbosity) };
	return (struct update_cycle_params){
		.mode = mode,
		.root_fd = root_fd,
		.root_is_slash = root_is_slash(uc->ctx),
		.server = uc->server,
		.group = uc->group,
		.keys = uc->keys,
		.n_keys = uc->n_keys ? *uc->n_keys : 0,
		.payload = uc->payload,
		.version = uc->version,
		.dry_run = uc->dry_run,
		.extensions = uc->extensions,
		.n_extensions = uc->n_extensions,
		.no_oem = uc->no_oem,
		.lock_wait_usec = uc->wait_usec,
		.hooks = { .progress = hook_progress, .offer = hook_offer, .message = hook_message,
			   .open_disk = hook_open_disk, .userdata = run },
	};
}

/* The message of a result, printed as update_engine's users expect it: a failure (or refusal)
 * as "flatctl update: ...", a notice likewise at notice level. Returns the exit status. */
static int print_message(const struct update_cycle_result *res)
{
	int r = update_cycle_exit(res);
	if (res->reported || !res->message[0])
		return r;
	if (res->message_level <= LOG_ERR)
		return log_fail(r < 0 ? r : -EIO, "%s", res->message), r;
	log_full(res->message_level, 0, "%s", res->message);
	return r;
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
	if (doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) >= 0)
		putchar('\n');
}

static void print_check_json(const struct update_cycle_result *res)
{
	const struct omaha_response *resp = res->response;
	json_auto_t *doc = json_object();
	const char *reason = res->outcome == UPDATE_OUTCOME_OFFERED ? NULL : res->reason;
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
	(void)json_object_set_new(doc, "current_version", json_string(res->current_version));
	(void)json_object_set_new(doc, "group", json_string(res->group));
	(void)json_object_set_new(doc, "server", json_string(res->server));
	if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) >= 0)
		putchar('\n');
}

/* "no update: 3975.2.1 is current (group stable, URL)" (9). */
static void print_noupdate(struct flat_ctx *ctx, const struct update_cycle_result *res)
{
	if (!ctx->json && ctx->verbosity >= 0 && res->outcome == UPDATE_OUTCOME_NOUPDATE &&
	    !res->message[0])
		(void)flat_print_line(stdout, "no update: %s is current (group %s, %s)",
				      res->current_version, res->group, res->server);
}

int update_verb_check(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	struct flat_ctx *ctx = uc->ctx;
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_cycle_freep) struct update_cycle *c = NULL;
	struct update_cli_run run;
	int r;

	if (root_fd < 0)
		return root_fd;
	if (uc->payload || uc->version || uc->sha256 || uc->dry_run)
		return args_usage_error(uc->args, "--payload, --version, --sha256 and --dry-run are "
						  "options of 'apply'");
	struct update_cycle_params p = update_cmd_params(uc, root_fd, UPDATE_MODE_CHECK, &run);
	r = update_cycle_new(&p, &c);
	if (r < 0)
		return log_fail(r, "out of memory");
	(void)update_cycle_run(c);
	const struct update_cycle_result *res = update_cycle_result(c);
	print_noupdate(ctx, res);
	r = print_message(res);
	if (ctx->json) {
		if (r == 0 || r == 3)
			print_check_json(res);
		else if (res->failed_step && strcmp(res->failed_step, "check") == 0)
			print_apply_result(ctx, "failed", NULL, NULL, res->code ? res->code : 1,
					   res->detail);
	}
	return r;
}

/* base64 (44 characters) or hex (64) SHA-256 into out; -EINVAL otherwise. */
static int parse_sha256(const char *s, uint8_t out[32])
{
	if (strlen(s) == 64)
		return crypto_hex_decode_exact(s, out, 32);
	return crypto_base64_decode_exact(s, out, 32);
}

int update_verb_apply(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	struct flat_ctx *ctx = uc->ctx;
	_cleanup_close_ int root_fd = open_root(ctx);
	_cleanup_(update_cycle_freep) struct update_cycle *c = NULL;
	struct update_cli_run run;
	uint8_t sha[32];
	int r;

	if (root_fd < 0)
		return root_fd;
	if ((uc->version || uc->sha256 || uc->n_extensions) && !uc->payload)
		return args_usage_error(uc->args, "--version, --sha256 and --extension go with --payload");
	if (uc->sha256 && parse_sha256(uc->sha256, sha) < 0)
		return args_usage_error(uc->args, "--sha256: '%s' is not a hex or base64 SHA-256",
					uc->sha256);
	struct update_cycle_params p = update_cmd_params(uc, root_fd, UPDATE_MODE_APPLY, &run);
	p.sha256 = uc->sha256 ? sha : NULL;
	r = update_cycle_new(&p, &c);
	if (r < 0)
		return log_fail(r, "out of memory");
	(void)update_cycle_run(c);
	const struct update_cycle_result *res = update_cycle_result(c);
	print_noupdate(ctx, res);
	r = print_message(res);

	const char *v = res->version, *part = res->partition;
	switch (res->outcome) {
	case UPDATE_OUTCOME_INSTALLED:
		if (!ctx->json && ctx->verbosity >= 0)
			(void)flat_print_line(stdout, "installed %s to %s; reboot to use it", v, part);
		print_apply_result(ctx, "installed", v, part, 0, NULL);
		break;
	case UPDATE_OUTCOME_VERIFIED:
		if (!ctx->json && ctx->verbosity >= 0)
			(void)flat_print_line(stdout, "verified: %s would install %s to %s",
					      res->payload_what, v, part);
		print_apply_result(ctx, "verified", v, part, 0, NULL);
		break;
	case UPDATE_OUTCOME_STAGED:
		print_apply_result(ctx, "staged", v, part, 0, NULL);
		break;
	case UPDATE_OUTCOME_NOUPDATE:
	case UPDATE_OUTCOME_DISABLED:
		if (r == 3)
			print_apply_result(ctx, "noupdate", NULL, NULL, 0, NULL);
		break;
	case UPDATE_OUTCOME_FAILED:
		if (!res->failed_step || strcmp(res->failed_step, "download") == 0)
			break;
		if (strcmp(res->failed_step, "check") == 0)
			v = part = NULL;
		print_apply_result(ctx, "failed", v, part, res->code ? res->code : 1, res->detail);
		break;
	default:
		break;
	}
	return r;
}

int update_do_reset(struct flat_ctx *ctx, uint64_t wait_usec)
{
	_cleanup_close_ int root_fd = open_root(ctx);
	struct update_cmd uc = { .ctx = ctx, .wait_usec = wait_usec };
	struct update_cycle_result res;
	struct update_cli_run run;

	if (root_fd < 0)
		return root_fd;
	struct update_cycle_params p = update_cmd_params(&uc, root_fd, UPDATE_MODE_APPLY, &run);
	int r = update_reset(&p, &res);
	if (r < 0)
		return print_message(&res);
	if (ctx->verbosity >= 0)
		(void)flat_print_line(stdout, "%s", res.message);
	return r == 0 ? 3 : 0;
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
	case UPDATE_OPT_EXTENSION:
		if (uc->n_extensions >= sizeof(uc->ext_buf) / sizeof(uc->ext_buf[0]))
			return args_usage_error(uc->args, "too many --extension options");
		uc->ext_buf[uc->n_extensions++] = (struct update_ext_source){ .path = arg };
		uc->extensions = uc->ext_buf;
		return 1;
	case UPDATE_OPT_WAIT:
		r = args_parse_uint(uc->args, "--wait", arg, 86400, &n);
		if (r < 0)
			return r;
		uc->wait_usec = (uint64_t)n * 1000000;
		return 1;
	case UPDATE_OPT_ONCE:
		uc->once = true;
		return 1;
	case UPDATE_OPT_BUS:
		uc->bus = arg;
		return 1;
	case UPDATE_OPT_PROMETHEUS:
		uc->prometheus = true;
		return 1;
	case UPDATE_OPT_TEXTFILE:
		if (!*arg)
			return args_usage_error(uc->args, "--textfile: empty directory name");
		uc->textfile = arg;
		return 1;
	case UPDATE_OPT_INITIAL_DELAY:
	case UPDATE_OPT_INTERVAL:
	case UPDATE_OPT_FUZZ:
	case UPDATE_OPT_MARK_GOOD_DELAY: {
		static const char *const names[] = { "--initial-delay", "--interval", "--fuzz",
						     "--mark-good-delay" };
		uint64_t *dst[] = { &uc->initial_delay, &uc->interval, &uc->fuzz,
				    &uc->mark_good_delay };
		unsigned i = (unsigned)(id - UPDATE_OPT_INITIAL_DELAY);
		r = args_parse_uint(uc->args, names[i], arg, 30ULL * 86400, &n);
		if (r < 0)
			return r;
		*dst[i] = n;
		return 1;
	}
	default:
		return 0;
	}
}
