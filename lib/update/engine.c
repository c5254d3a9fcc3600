/* SPDX-License-Identifier: MIT */
/* lib/update/engine.c - one update cycle, step by step (docs/update.md 2.1, 2.2, 4.4, 6, 7.3,
 * 8.2, 10): begin (lock, state, configuration, keys, disk), update check, download with resume,
 * verify, write and read back, GPT flip. Failures are recorded in the state (last_error, status
 * IDLE) and reported to the server as 3/0 where section 4.4 says so; the message for the user
 * is in the result. See include/update/engine.h for the model. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "http/http.h"
#include "omaha/request.h"
#include "omaha/response.h"
#include "update/client.h"
#include "update/engine.h"
#include "update/install.h"
#include "update/keys.h"
#include "update/schedule.h"
#include "update/state.h"
#include "update/sysext.h"
#include "util/escape.h"
#include "util/problem.h"
#include "util/progress.h"

enum step {
	STEP_BEGIN,
	STEP_CHECK,
	STEP_DOWNLOAD,
	STEP_VERIFY,
	STEP_EXTENSIONS,
	STEP_WRITE,
	STEP_FLIP,
	STEP_DONE,
};

struct update_cycle {
	struct update_cycle_params p;
	struct update_cycle_result res;
	enum step step;
	int lock_fd;
	struct update_state *state;
	struct update_config cfg;
	struct http_client *http;       /* Omaha requests and events; NULL: no events (--payload) */
	struct omaha_response *resp;
	char bootid[64];
	char *current_version;
	char *server;                   /* redacted cfg.server */
	/* install */
	struct update_keys keys;
	struct gpt_disk *disk;
	struct update_target target;
	char booted_label[GPT_LABEL_MAX], target_label[GPT_LABEL_MAX];
	/* the payload */
	const char *source;             /* "omaha" or "local" */
	char **urls;
	size_t n_urls, url_first;
	char *version;
	uint64_t size;                  /* announced size, 0: unknown */
	bool has_sha, has_sha_alt;
	uint8_t sha[32], sha_alt[32];
	char sha_b64[64];
	int part_fd;                    /* payload.part, or the --payload FILE */
	char what[1100];                /* "payload URL|FILE" for messages */
	struct update_early *early;
	struct update_verified verified;
	unsigned saved_decile;
	char detail[1024];
	/* extension payloads (6.7): the wanted ones, and where each comes from (parallel to
	 * ext.item): an Omaha package index (> 0), or 1 + the index of a caller's source (> 0) */
	struct update_ext_set ext;
	size_t *ext_pkg;
	size_t *ext_src;
};

static const char *const outcome_names[_UPDATE_OUTCOME_MAX] = {
	[UPDATE_OUTCOME_NONE] = "none",         [UPDATE_OUTCOME_OFFERED] = "offered",
	[UPDATE_OUTCOME_NOUPDATE] = "noupdate", [UPDATE_OUTCOME_DISABLED] = "disabled",
	[UPDATE_OUTCOME_STAGED] = "staged",     [UPDATE_OUTCOME_DEFERRED] = "deferred",
	[UPDATE_OUTCOME_VERIFIED] = "verified", [UPDATE_OUTCOME_INSTALLED] = "installed",
	[UPDATE_OUTCOME_PINGED] = "pinged",     [UPDATE_OUTCOME_CANCELLED] = "cancelled",
	[UPDATE_OUTCOME_FAILED] = "failed",
};

const char *update_outcome_to_string(enum update_outcome o)
{
	return o >= 0 && o < _UPDATE_OUTCOME_MAX ? outcome_names[o] : NULL;
}

/* ---- snapshots (what status readers see) ---- */

void update_snapshot_from_state(const struct update_state *s, struct update_snapshot *ret)
{
	struct update_staged st;
	struct update_pending pe;
	struct update_error e;
	const char *v = NULL;

	*ret = (struct update_snapshot){
		.status = update_state_status(s),
		.progress = update_state_progress(s),
		.last_checked_time = update_state_last_checked(s),
	};
	if (update_state_get_staged(s, &st)) {
		v = st.version;
		ret->new_size = st.size;
	} else if (update_state_get_pending(s, &pe)) {
		v = pe.version;
		ret->new_size = pe.size;
	}
	if (v)
		snprintf(ret->new_version, sizeof(ret->new_version), "%s", v);
	if (update_state_get_last_error(s, &e)) {
		ret->last_error_code = e.code;
		ret->last_error_time = e.time;
	}
}

void update_snapshot_format(const struct update_snapshot *snap, char *buf, size_t size)
{
	char esc[4 * sizeof(snap->new_version)];

	/* Frozen format (2.8): scripts grep these lines, so the version (a server's string, kept
	 * in state.json) is escaped: a newline in it could add a line. */
	snprintf(buf, size,
		 "LAST_CHECKED_TIME=%" PRIu64 "\nPROGRESS=%f\nCURRENT_OP=%s\nNEW_VERSION=%s\n"
		 "NEW_SIZE=%" PRIu64 "\n",
		 snap->last_checked_time, snap->progress, update_status_to_string(snap->status),
		 str_escape_buf(*snap->new_version ? snap->new_version : "0.0.0", esc, sizeof(esc)),
		 snap->new_size);
}

bool update_snapshot_equal(const struct update_snapshot *a, const struct update_snapshot *b)
{
	return a->status == b->status && a->progress == b->progress &&
	       a->last_checked_time == b->last_checked_time && a->new_size == b->new_size &&
	       strcmp(a->new_version, b->new_version) == 0 &&
	       a->last_error_code == b->last_error_code && a->last_error_time == b->last_error_time;
}

/* ---- reporting ---- */

static void msg(struct update_cycle *c, int level, const char *fmt, ...) _printf_(3, 4);
static void msg(struct update_cycle *c, int level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	if (!c->p.hooks.message)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	c->p.hooks.message(level, text, c->p.hooks.userdata);
}

/* End the cycle with an outcome and (when fmt) a message at level. */
static int finish(struct update_cycle *c, enum update_outcome o, int error, int level,
		  const char *fmt, ...) _printf_(5, 6);
static int finish(struct update_cycle *c, enum update_outcome o, int error, int level,
		  const char *fmt, ...)
{
	c->res.outcome = o;
	c->res.error = error;
	c->res.message_level = level;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->res.message, sizeof(c->res.message), fmt, ap);
		va_end(ap);
	}
	c->step = STEP_DONE;
	return 0;
}

#define fail(c, error, ...) finish((c), UPDATE_OUTCOME_FAILED, (error), LOG_ERR, __VA_ARGS__)

static const char *first_error(const struct problem_list *p, const char **ret_where)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->item[i].severity == PROBLEM_ERROR) {
			if (ret_where)
				*ret_where = p->item[i].where ? p->item[i].where : "";
			return p->item[i].message;
		}
	if (ret_where)
		*ret_where = "";
	return NULL;
}

static const char *problems_text(const struct problem_list *p, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < p->n && o < size; i++)
		if (p->item[i].severity == PROBLEM_ERROR)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "; " : "",
					      p->item[i].message);
	if (!buf[0])
		snprintf(buf, size, "failed");
	return buf;
}

static void notify_status(struct update_cycle *c)
{
	struct update_snapshot snap;
	if (!c->p.hooks.status)
		return;
	update_snapshot_from_state(c->state, &snap);
	c->p.hooks.status(&snap, c->p.hooks.userdata);
}

static int save(struct update_cycle *c)
{
	int r = update_state_save(c->p.root_fd, c->state);
	if (r >= 0)
		notify_status(c);
	return r;
}

static void save_or_warn(struct update_cycle *c)
{
	int r = save(c);
	if (r < 0)
		msg(c, LOG_WARNING, "warning: saving '%s': %s", UPDATE_STATE_FILE, strerror(-r));
}

/* A new status (and progress >= 0), saved. Errors end the cycle. */
static int set_status(struct update_cycle *c, enum update_status st, double progress)
{
	int r = update_state_set_status(c->state, st);
	if (r >= 0 && progress >= 0)
		r = update_state_set_progress(c->state, progress);
	if (r >= 0)
		r = save(c);
	if (r < 0)
		return fail(c, r, "writing '%s': %s", UPDATE_STATE_FILE, strerror(-r)), r;
	return 0;
}

/* The last error of a failed attempt goes into the state, which returns to IDLE (10: "state.json
 * is left valid with last_error set"). Best effort: the failure itself is what gets reported. */
static void record_failure(struct update_cycle *c, int code, const char *fmt, ...) _printf_(3, 4);
static void record_failure(struct update_cycle *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	c->res.detail = c->detail;
	c->res.code = code ? code : 1;
	(void)update_state_set_last_error(c->state, c->res.code, c->detail, (uint64_t)time(NULL));
	(void)update_state_count_failure(c->state, c->res.code);
	(void)update_state_set_status(c->state, UPDATE_STATUS_IDLE);
	save_or_warn(c);
}

/* Best-effort event-only request (4.4); never with --payload. */
static void send_event(struct update_cycle *c, struct omaha_event ev)
{
	if (!c->http)
		return;
	int r = update_send_event(c->http, &c->cfg, c->state, c->bootid, &ev);
	if (r < 0)
		msg(c, LOG_WARNING, "warning: %s: event %d/%d not delivered: %s", c->server, ev.type,
		    ev.result, strerror(-r));
}

static bool cancelled(const struct update_cycle *c)
{
	return c->p.cancel && *c->p.cancel;
}

/* Stopped on request: the state keeps what a rerun needs (pending download, a verified staged
 * file in FINALIZING) and says IDLE unless the target was being written. */
static int stop_here(struct update_cycle *c)
{
	if (update_state_status(c->state) != UPDATE_STATUS_FINALIZING)
		(void)update_state_set_status(c->state, UPDATE_STATUS_IDLE);
	save_or_warn(c);
	return finish(c, UPDATE_OUTCOME_CANCELLED, 0, LOG_NOTICE, "stopped; the next cycle resumes");
}

/* ---- begin ---- */

static int load_state_rw(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *moved = NULL;
	int r = update_state_load(c->p.root_fd, UPDATE_STATE_MOVE_BAD, &c->state, &moved, &p);
	if (r < 0)
		return fail(c, r, "reading '%s': %s", UPDATE_STATE_FILE, strerror(-r)), r;
	if (r == UPDATE_STATE_CORRUPT)
		msg(c, LOG_WARNING, "warning: state.json unreadable, moved to %s; starting from IDLE",
		    moved ? moved : UPDATE_STATE_FILE);
	return 0;
}

static int load_config(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = update_config_load(c->p.root_fd, c->p.server, c->p.group, &c->cfg, &p);

	for (size_t i = 0; i < p.n; i++) {
		const struct problem *it = &p.item[i];
		const char *where = it->where ? it->where : "?";
		if (it->severity != PROBLEM_WARNING)
			continue;
		if (it->line)
			msg(c, LOG_WARNING, "warning: %s:%u: ignored: %s", where, it->line, it->message);
		else
			msg(c, strcmp(where, "update.conf") == 0 ? LOG_WARNING : LOG_INFO,
			    "warning: %s: %s", where, it->message);
	}
	if (r < 0) {
		const char *where, *m = first_error(&p, &where);
		if (r == -ENOMEM)
			return fail(c, r, "out of memory"), r;
		return fail(c, r == -EINVAL ? -EINVAL : -EIO, "%s: %s", where, m ? m : strerror(-r)),
		       r;
	}
	c->cfg.scheduled = c->p.scheduled;
	c->server = http_url_redact(c->cfg.server);
	if (!c->server)
		return fail(c, -ENOMEM, "out of memory"), -ENOMEM;
	c->res.server = c->server;
	c->res.group = c->cfg.group;
	c->res.current_version = c->cfg.version;
	return 0;
}

/* SERVER=disabled (3.2): exit 3, and only --payload still works. */
static bool disabled(struct update_cycle *c)
{
	if (!c->cfg.disabled)
		return false;
	c->res.reason = "disabled";
	finish(c, UPDATE_OUTCOME_DISABLED, 0, LOG_NOTICE, "updates are disabled (SERVER=%s in %s)",
	       c->cfg.server, c->cfg.server_file ? c->cfg.server_file : "the defaults");
	return true;
}

static int omaha_setup(struct update_cycle *c)
{
	int r = update_http_new(&c->cfg, c->p.root_fd, false, &c->http);
	if (r < 0)
		return fail(c, r, "setting up HTTP for '%s': %s", c->server, strerror(-r)), r;
	update_boot_id(c->bootid);
	return 0;
}

static int take_lock(struct update_cycle *c)
{
	pid_t holder = 0;
	int r = update_lock_take(c->p.root_fd, c->p.lock_wait_usec, &c->lock_fd, &holder);

	if (r == -EBUSY) {
		_cleanup_(update_state_freep) struct update_state *s = NULL;
		const char *st = "unknown status";
		if (update_state_load(c->p.root_fd, 0, &s, NULL, NULL) >= 0)
			st = update_status_to_string(update_state_status(s));
		if (holder > 0)
			return fail(c, r, "another update operation is running (pid %ld, %s)",
				    (long)holder, st), r;
		return fail(c, r, "another update operation is running (%s)", st), r;
	}
	if (r < 0)
		return fail(c, r, "taking the lock '%s': %s", UPDATE_LOCK_FILE, strerror(-r)), r;
	return 0;
}

/* 2.2 "update already staged": exit 3 with the message of section 10. */
static bool refuse_staged(struct update_cycle *c)
{
	struct update_staged st;
	if (update_state_status(c->state) != UPDATE_STATUS_UPDATED_NEED_REBOOT ||
	    !update_state_get_staged(c->state, &st))
		return false;
	c->res.version = st.version;
	c->res.partition = st.partition;
	c->res.reason = "staged";
	finish(c, UPDATE_OUTCOME_STAGED, 0, LOG_NOTICE,
	       "%s is already staged on %s; reboot, or run 'flatctl update reset'", st.version,
	       st.partition);
	return true;
}

/* Keys, disk, booted and target partition (3.3, 6.1). */
static int install_prepare(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	bool inferred = false;
	unsigned nr, other;
	char buf[1024];
	const char *where;
	int r;

	r = update_keys_load(c->p.root_fd, c->p.keys, c->p.n_keys, &c->keys, &p);
	if (r < 0) {
		if (r == -ENOKEY)
			return fail(c, -EIO, "%s", problems_text(&p, buf, sizeof(buf))), r;
		const char *m = first_error(&p, &where);
		return fail(c, -EIO, "key '%s': %s", where, m ? m : strerror(-r)), r;
	}
	if (!c->p.hooks.open_disk)
		return fail(c, -EINVAL, "no disk"), -EINVAL;
	r = c->p.hooks.open_disk(c->p.hooks.userdata, &c->disk);
	if (r < 0) {
		c->res.reported = true;
		return fail(c, r, NULL), r;
	}
	/* 6.1: exactly one USR-A and one USR-B, before anything else is asked of the disk. */
	r = update_usr_pair(c->disk->gpt, "USR-A", &nr, &other, &p);
	if (r < 0)
		return fail(c, -EINVAL, "%s: %s", c->disk->path, first_error(&p, NULL)), r;
	int b = gpt_find_booted(c->p.root_fd, c->p.root_is_slash, c->disk, &inferred);
	if (b <= 0)
		return fail(c, -EINVAL,
			    "%s: cannot tell which USR partition is booted; name it with --root on a "
			    "tree holding proc/cmdline (mount.usr=PARTUUID=...)",
			    c->disk->path), -EINVAL;
	(void)gpt_entry_name(c->disk->gpt, (unsigned)b, c->booted_label);
	r = update_usr_pair(c->disk->gpt, c->booted_label, &nr, &other, &p);
	if (r < 0)
		return fail(c, -EINVAL, "%s: %s", c->disk->path, first_error(&p, NULL)), r;
	(void)gpt_entry_name(c->disk->gpt, other, c->target_label);
	c->target = (struct update_target){
		.root_fd = c->p.root_fd,
		.disk = c->disk,
		.booted = nr,
		.target = other,
		.target_label = c->target_label,
		.keys = (const struct crypto_key *const *)c->keys.k,
		.n_keys = c->keys.n,
		.cancel = c->p.cancel,
	};
	c->res.partition = c->target_label;
	return 0;
}

/* ---- extension payloads (6.7) ---- */

static void install_failed(struct update_cycle *c, bool bad);

static void ext_warnings(struct update_cycle *c, const struct problem_list *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->item[i].severity == PROBLEM_WARNING)
			msg(c, LOG_WARNING, "warning: %s: %s", p->item[i].where ? p->item[i].where : "?",
			    p->item[i].message);
}

/* Which extension payloads this machine wants. */
static int ext_prepare(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = update_ext_wanted(c->p.root_fd, !c->p.no_oem, &c->ext, &p);

	ext_warnings(c, &p);
	if (r < 0) {
		const char *where, *m = first_error(&p, &where);
		return fail(c, r == -ENOMEM ? r : -EIO, "%s: %s", where, m ? m : strerror(-r)), r;
	}
	c->ext_pkg = calloc(c->ext.n + 1, sizeof(*c->ext_pkg));
	c->ext_src = calloc(c->ext.n + 1, sizeof(*c->ext_src));
	if (!c->ext_pkg || !c->ext_src)
		return fail(c, -ENOMEM, "out of memory"), -ENOMEM;
	for (size_t i = 0; i < c->ext.n; i++)
		msg(c, LOG_INFO, "extension payload %s is required here (%s)", c->ext.item[i].package,
		    c->ext.item[i].oem ? "the OEM's" : "enabled-sysext.conf");
	return 0;
}

static const char *ext_why(const struct update_cycle *c, const struct update_ext *e, char *buf,
			   size_t size)
{
	if (e->oem)
		snprintf(buf, size, "OEM %s of %s/oem-release", e->name, c->ext.oem_dir);
	else
		snprintf(buf, size, "%s enabled in enabled-sysext.conf", e->name);
	return buf;
}

/* A wanted extension payload is missing: the update fails before anything is written. */
static int ext_missing(struct update_cycle *c, int code, const char *fmt, ...) _printf_(3, 4);
static int ext_missing(struct update_cycle *c, int code, const char *fmt, ...)
{
	char m[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	record_failure(c, code, "%s", m);
	c->res.failed_step = "extensions";
	if (code != 1)
		send_event(c, omaha_event_error(code));
	return fail(c, -EIO, "%s", m), -EIO;
}

/* With --payload: each wanted extension among the caller's payloads; the others are ignored. */
static int ext_match_sources(struct update_cycle *c)
{
	char esc[512], why[256];

	for (size_t k = 0; k < c->p.n_extensions; k++) {
		const char *path = c->p.extensions[k].path;
		const char *base = strrchr(path, '/');
		bool used = false;
		base = base ? base + 1 : path;
		for (size_t i = 0; i < c->ext.n; i++)
			if (!c->ext_src[i] && update_ext_matches(&c->ext.item[i], base)) {
				c->ext_src[i] = k + 1;
				used = true;
			}
		if (!used)
			msg(c, LOG_NOTICE, "extension payload %s is not required here; ignored",
			    str_escape_buf(path, esc, sizeof(esc)));
	}
	for (size_t i = 0; i < c->ext.n; i++)
		if (!c->ext_src[i])
			return ext_missing(c, 1, "extension payload %s is required here (%s) but was "
					   "not given", c->ext.item[i].package,
					   ext_why(c, &c->ext.item[i], why, sizeof(why)));
	return 0;
}

/* From an Omaha answer: each wanted extension among its packages after the first; the others are
 * not downloaded. */
static int ext_match_packages(struct update_cycle *c, const struct omaha_response *resp)
{
	char esc[512], why[256];

	for (size_t k = 1; k < resp->n_packages; k++) {
		bool used = false;
		for (size_t i = 0; i < c->ext.n; i++)
			if (!c->ext_pkg[i] && update_ext_matches(&c->ext.item[i], resp->packages[k].name)) {
				c->ext_pkg[i] = k;
				used = true;
			}
		if (!used)
			msg(c, LOG_INFO, "extension payload %s is not required here; not downloaded",
			    str_escape_buf(resp->packages[k].name, esc, sizeof(esc)));
	}
	for (size_t i = 0; i < c->ext.n; i++)
		if (!c->ext_pkg[i])
			return ext_missing(c, 34, "%s: invalid Omaha response: no package %s, which "
					   "is required here (%s)", c->server, c->ext.item[i].package,
					   ext_why(c, &c->ext.item[i], why, sizeof(why)));
	return 0;
}

/* Fetch one extension payload into fd (truncated first) from url. */
static int ext_download(struct update_cycle *c, const char *url, int fd, uint64_t size,
			bool *ret_again, char *err, size_t errsize)
{
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	const char *user = NULL, *password = NULL;
	bool is4xx = false, oversize = false;
	uint64_t fetched = 0;
	int r;

	if (!c->server && load_config(c) < 0)
		return snprintf(err, errsize, "%.500s", c->res.message), -EIO;
	r = update_http_new(&c->cfg, c->p.root_fd, true, &http);
	if (r < 0)
		return snprintf(err, errsize, "setting up HTTP: %s", strerror(-r)), r;
	/* 3.2: credentials only over https */
	if (c->cfg.download_user && *c->cfg.download_user && strncmp(url, "https://", 8) == 0) {
		user = c->cfg.download_user;
		password = c->cfg.download_password ? c->cfg.download_password : "";
	}
	if (ftruncate(fd, 0) < 0)
		return snprintf(err, errsize, "%s", strerror(errno)), -errno;
	r = update_download(http, url, user, password, fd, 0, size, NULL, NULL, NULL, &fetched,
			    &is4xx, &oversize, err, errsize);
	*ret_again = r == -EAGAIN;
	if (r < 0 && oversize)
		snprintf(err, errsize, "larger than the announced %" PRIu64 " bytes", size);
	else if (r < 0) {
		char e2[512];
		snprintf(e2, sizeof(e2), "download failed: %.*s", (int)sizeof(e2) - 18, err);
		snprintf(err, errsize, "%s", e2);
	}
	return r;
}

#define UPDATE_EXT_PART_FILE UPDATE_STATE_DIR "/extension.part"

/* Fetch (or open), check and stage the i-th wanted extension payload. */
static int ext_one(struct update_cycle *c, size_t i)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct update_ext *e = &c->ext.item[i];
	const struct update_ext_source *src =
		c->ext_src[i] ? &c->p.extensions[c->ext_src[i] - 1] : NULL;
	_cleanup_close_ int fd = -1;
	const uint8_t *sha = NULL;
	char what[1100], buf[1024] = "", esc[1024];
	uint64_t size = 0;
	bool again = false, downloaded = false;
	int code = 1, r = 0;

	if (c->ext_pkg[i]) {
		const struct omaha_package *pk = &c->resp->packages[c->ext_pkg[i]];
		size = pk->size;
		sha = pk->has_sha256 ? pk->sha256 : NULL;
	} else if (src)
		sha = src->sha256;

	if (src && !strstr(src->path, "://")) {
		snprintf(what, sizeof(what), "extension payload %s",
			 str_escape_buf(src->path, esc, sizeof(esc)));
		fd = open(src->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			code = 1;
			snprintf(buf, sizeof(buf), "cannot open: %s", strerror(errno));
			r = -EIO;
		}
	} else {
		r = fs_mkdir_p(c->p.root_fd, UPDATE_STATE_DIR, 0711);
		if (r >= 0)
			r = fd = fs_open(c->p.root_fd, UPDATE_EXT_PART_FILE,
					 O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
		if (r < 0) {
			snprintf(what, sizeof(what), "%s", UPDATE_EXT_PART_FILE);
			snprintf(buf, sizeof(buf), "cannot open: %s", strerror(-r));
		}
		size_t n = c->ext_pkg[i] ? c->resp->n_urls : 1;
		for (size_t u = 0; r >= 0 && u < n; u++) {
			_cleanup_free_ char *url = c->ext_pkg[i]
				? omaha_response_payload_url(c->resp, u, c->ext_pkg[i])
				: src ? strdup(src->path) : NULL;
			_cleanup_free_ char *rurl = url ? http_url_redact(url) : NULL;
			if (!url || !rurl)
				return fail(c, -ENOMEM, "out of memory"), -ENOMEM;
			snprintf(what, sizeof(what), "extension payload %s", rurl);
			r = ext_download(c, url, fd, size, &again, buf, sizeof(buf));
			if (r >= 0 || !(again || r == -EIO))
				break;
			if (u + 1 < n)
				r = 0; /* the next URL */
		}
		if (r < 0)
			code = 9;
		downloaded = true;
	}
	if (r >= 0) {
		msg(c, LOG_INFO, "%s: checking", what);
		r = update_ext_stage(c->p.root_fd, &c->ext, e, c->version,
				     (const struct crypto_key *const *)c->keys.k, c->keys.n, fd, size,
				     sha, &code, &p);
		ext_warnings(c, &p);
		if (r < 0)
			problems_text(&p, buf, sizeof(buf));
	}
	if (downloaded)
		(void)fs_unlink(c->p.root_fd, UPDATE_EXT_PART_FILE);
	if (r < 0) {
		record_failure(c, code, "%s: %s", what, buf);
		c->res.failed_step = "extensions";
		update_ext_unstage(&c->ext);
		/* as a failed install (8.2): payload backoff, URL rotation, the 3/0 event */
		install_failed(c, false);
		return fail(c, again ? -EAGAIN : -EIO, "%s: %s", what, buf), r;
	}
	msg(c, LOG_NOTICE, "%s: verified, staged as %s/%s", what, e->dir, e->final);
	return 0;
}

static int step_extensions(struct update_cycle *c)
{
	if (cancelled(c))
		return stop_here(c);
	for (size_t i = 0; i < c->ext.n; i++)
		if (ext_one(c, i) < 0)
			return 0;
	if (c->p.dry_run) {
		update_ext_unstage(&c->ext);
		(void)set_status(c, UPDATE_STATUS_IDLE, -1);
		return finish(c, UPDATE_OUTCOME_VERIFIED, 0, LOG_INFO, NULL);
	}
	c->step = STEP_WRITE;
	return 1;
}

static int set_payload(struct update_cycle *c, const char *source, const char *version,
		       uint64_t size, const uint8_t *sha, const uint8_t *sha_alt)
{
	c->source = source;
	c->version = strdup(version ? version : "unknown");
	if (!c->version)
		return fail(c, -ENOMEM, "out of memory"), -ENOMEM;
	c->res.version = c->version;
	c->size = c->res.size = size;
	if ((c->has_sha = sha != NULL)) {
		memcpy(c->sha, sha, 32);
		update_base64_32(sha, c->sha_b64);
	}
	if ((c->has_sha_alt = sha_alt != NULL))
		memcpy(c->sha_alt, sha_alt, 32);
	return 0;
}

static int add_url(struct update_cycle *c, char *url)
{
	char **n = realloc(c->urls, (c->n_urls + 1) * sizeof(char *));
	if (!url || !n) {
		free(url);
		if (n)
			c->urls = n;
		return fail(c, -ENOMEM, "out of memory"), -ENOMEM;
	}
	c->urls = n;
	c->urls[c->n_urls++] = url;
	return 0;
}

static int step_begin(struct update_cycle *c)
{
	int r;

	if (c->p.mode != UPDATE_MODE_APPLY) {
		if (load_state_rw(c) < 0 || load_config(c) < 0 || disabled(c) || omaha_setup(c) < 0)
			return 0;
		c->step = STEP_CHECK;
		return 1;
	}
	if (take_lock(c) < 0 || load_state_rw(c) < 0 || refuse_staged(c))
		return 0;
	/* 8.2: an interactive apply clears the known-bad list. */
	if (!c->p.daemon)
		(void)update_state_clear_bad_payloads(c->state);
	c->current_version = update_release_version(c->p.root_fd);
	if (install_prepare(c) < 0 || ext_prepare(c) < 0)
		return 0;

	if (c->p.payload && !strstr(c->p.payload, "://")) {
		/* apply --payload FILE (2.2): no Omaha, no events. */
		snprintf(c->what, sizeof(c->what), "payload %s", c->p.payload);
		c->res.payload_what = c->what;
		c->part_fd = open(c->p.payload, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (c->part_fd < 0)
			return fail(c, -EIO, "%s: cannot open: %s", c->what, strerror(errno));
		if (set_payload(c, "local", c->p.version, 0, NULL, c->p.sha256) < 0 ||
		    ext_match_sources(c) < 0)
			return 0;
		c->step = STEP_VERIFY;
		return 1;
	}
	if (load_config(c) < 0)
		return 0;
	if (c->p.payload) {
		/* --payload URL: no server, no events (2.2). */
		if (set_payload(c, "local", c->p.version, 0, c->p.sha256, NULL) < 0 ||
		    add_url(c, strdup(c->p.payload)) < 0 || ext_match_sources(c) < 0)
			return 0;
		c->step = STEP_DOWNLOAD;
		return 1;
	}
	if (disabled(c) || omaha_setup(c) < 0)
		return 0;
	r = update_state_set_status(c->state, UPDATE_STATUS_CHECKING_FOR_UPDATE);
	if (r >= 0)
		(void)save(c);
	c->step = STEP_CHECK;
	return 1;
}

/* ---- the update check (2.1, 4.3.1) ---- */

/* Back to IDLE when the check ended the attempt (apply). */
static void check_over(struct update_cycle *c)
{
	if (update_state_status(c->state) == UPDATE_STATUS_CHECKING_FOR_UPDATE) {
		(void)update_state_set_status(c->state, UPDATE_STATUS_IDLE);
		save_or_warn(c);
	}
}

/* 8.2: a daemon does not fetch a payload that failed a check before, and waits out the payload
 * backoff. true: the offer is skipped (the cycle ended). */
static bool deferred(struct update_cycle *c, const struct omaha_response *resp)
{
	uint64_t now = (uint64_t)time(NULL), reported = 0;
	struct update_backoff b;
	int code = 1;

	if (!c->p.daemon)
		return false;
	if (update_state_is_bad_payload(c->state, c->sha_b64)) {
		(void)update_state_bad_payload_info(c->state, c->sha_b64, &code, &reported);
		if (now >= reported + 86400) {
			/* the original error, at most once a day */
			send_event(c, omaha_event_error(code ? code : 1));
			(void)update_state_set_bad_payload_info(c->state, c->sha_b64, code, now);
		}
		check_over(c);
		c->res.reason = "noupdate";
		finish(c, UPDATE_OUTCOME_DEFERRED, 0, LOG_NOTICE,
		       "%s failed a check before (%s, error %d); not downloading it again", c->version,
		       c->sha_b64, code ? code : 1);
		return true;
	}
	update_state_get_backoff(c->state, &b);
	if (c->p.scheduled && !resp->disable_payload_backoff && b.sha256 &&
	    strcmp(b.sha256, c->sha_b64) == 0 && now < b.until) {
		send_event(c, (struct omaha_event){ .type = OMAHA_EVENT_UPDATE_COMPLETE,
						    .result = OMAHA_RESULT_UPDATE_DEFERRED,
						    .error_code = OMAHA_ERROR_UPDATE_DEFERRED_FOR_BACKOFF });
		check_over(c);
		c->res.reason = "noupdate";
		finish(c, UPDATE_OUTCOME_DEFERRED, 0, LOG_NOTICE,
		       "%s failed %" PRIu64 " time(s); payload backoff until %" PRIu64, c->version,
		       b.payload_attempts, b.until);
		return true;
	}
	return false;
}

static int step_ping(struct update_cycle *c)
{
	int r = update_send_ping(c->http, &c->cfg, c->state, c->bootid);
	if (r < 0) {
		c->res.server_trouble = r == -EAGAIN;
		return fail(c, r == -EAGAIN ? -EAGAIN : -EIO, "%s: ping: %s", c->server, strerror(-r));
	}
	return finish(c, UPDATE_OUTCOME_PINGED, 0, LOG_INFO, NULL);
}

static int step_check(struct update_cycle *c)
{
	_cleanup_(update_check_result_release) struct update_check_result res = {};
	char esc[512];
	int r;

	if (c->p.mode == UPDATE_MODE_PING)
		return step_ping(c);
	r = update_check(c->http, &c->cfg, c->state, c->bootid, &res);
	(void)update_state_set_last_checked(c->state, (uint64_t)time(NULL));
	if (r >= 0)
		(void)update_state_set_last_successful_check(c->state, (uint64_t)time(NULL));
	else if (!res.code)
		/* No answer to parse (transport, HTTP status): counted for the metrics (9.1) as
		 * update_engine names it; the server is not told, it was not reached. */
		(void)update_state_count_failure(c->state, res.http_status >= 400
								  ? UPDATE_ERROR_OMAHA_HTTP_RESPONSE
								  : UPDATE_ERROR_OMAHA_REQUEST);
	save_or_warn(c);
	if (r < 0) {
		c->res.server_trouble = r == -EAGAIN;
		c->res.retry_after_sec = res.retry_after_sec;
		if (res.code) {
			/* 4.4: a failure after a 2xx answer is reported as 3/0. */
			send_event(c, omaha_event_error(res.code));
			record_failure(c, res.code, "%s: %s", c->server, res.message);
		}
		check_over(c);
		snprintf(c->detail, sizeof(c->detail), "%s", res.message);
		c->res.detail = c->detail;
		c->res.failed_step = "check";
		return fail(c, r == -EAGAIN ? -EAGAIN : -EIO, "%s: %s", c->server, res.message);
	}
	struct omaha_response *resp = c->resp = TAKE_PTR(res.response);
	struct update_staged st;
	c->res.response = resp;
	c->res.poll_interval = resp->poll_interval;

	switch (resp->outcome) {
	case OMAHA_OUTCOME_NOUPDATE:
		c->res.reason = "noupdate";
		check_over(c);
		return finish(c, UPDATE_OUTCOME_NOUPDATE, 0, LOG_INFO, NULL);
	case OMAHA_OUTCOME_REFUSED: {
		enum update_outcome o = UPDATE_OUTCOME_FAILED;
		int err = -EIO;
		switch (omaha_refusal_classify(resp->refusal)) {
		case OMAHA_REFUSAL_NOUPDATE:
			c->res.reason = "noupdate";
			o = UPDATE_OUTCOME_NOUPDATE;
			err = 0;
			break;
		case OMAHA_REFUSAL_DISABLED:
			c->res.reason = "disabled";
			o = UPDATE_OUTCOME_DISABLED;
			err = 0;
			break;
		case OMAHA_REFUSAL_LATER:
			err = -EAGAIN;
			break;
		default:
			break;
		}
		check_over(c);
		return finish(c, o, err, LOG_ERR, "%s: server refused: %s (track \"%s\")", c->server,
			      str_escape_buf(resp->refusal ? resp->refusal : "?", esc, sizeof(esc)),
			      c->cfg.group);
	}
	case OMAHA_OUTCOME_UPDATE:
		break;
	default:
		check_over(c);
		return fail(c, -EIO, "%s: invalid Omaha response: no updatecheck", c->server);
	}

	if (set_payload(c, "omaha", resp->version, resp->packages[0].size, resp->sha256,
			resp->packages[0].has_sha256 ? resp->packages[0].sha256 : NULL) < 0)
		return 0;
	if (update_state_status(c->state) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	    update_state_get_staged(c->state, &st) && strcmp(st.version, resp->version) == 0) {
		c->res.version = st.version;
		c->res.partition = st.partition;
		c->res.reason = "staged";
		return finish(c, UPDATE_OUTCOME_STAGED, 0, LOG_NOTICE,
			      "%s is already staged on %s; reboot, or run 'flatctl update reset'",
			      st.version, st.partition);
	}
	for (size_t i = 0; i < resp->n_urls; i++)
		if (add_url(c, omaha_response_payload_url(resp, i, 0)) < 0)
			return 0;
	if (c->p.hooks.offer)
		c->p.hooks.offer(resp, c->urls[0], c->p.hooks.userdata);
	if (c->p.mode == UPDATE_MODE_CHECK)
		return finish(c, UPDATE_OUTCOME_OFFERED, 0, LOG_INFO, NULL);
	if (deferred(c, resp) || ext_match_packages(c, resp) < 0)
		return 0;
	c->step = STEP_DOWNLOAD;
	return 1;
}

/* ---- download (4.1, 7.3) ---- */

static int on_progress(uint64_t done, uint64_t total, void *userdata)
{
	struct update_cycle *c = userdata;

	if (cancelled(c))
		return -ECANCELED;
	if (c->p.hooks.progress)
		c->p.hooks.progress(c->version, done, total, c->p.hooks.userdata);
	/* state.json's progress for status readers, every 10 % (an atomic rewrite each) */
	if (total > 0 && done * 10 / total > c->saved_decile) {
		c->saved_decile = (unsigned)(done * 10 / total);
		if (update_state_set_progress(c->state, (double)done / (double)total) >= 0)
			(void)save(c);
	}
	return 0;
}

/* 8.2: the daemon starts with the URL the rotation points at. */
static size_t first_url(struct update_cycle *c)
{
	struct update_backoff b;
	if (!c->p.daemon || c->n_urls < 2)
		return 0;
	update_state_get_backoff(c->state, &b);
	return (size_t)(b.url_index % c->n_urls);
}

/* 8.2: consecutive transfer failures move the daemon to the next URL after
 * MaxFailureCountPerUrl (default 10); a payload that failed verification at once. */
static void rotate_urls(struct update_cycle *c, bool transfer_failed, bool bad_payload)
{
	struct update_backoff b;
	int max = c->resp && c->resp->max_failure_count_per_url > 0
			  ? c->resp->max_failure_count_per_url
			  : 10;

	if (!c->p.daemon || !c->resp)
		return;
	update_state_get_backoff(c->state, &b);
	if (transfer_failed)
		b.url_failures++;
	else if (!bad_payload)
		b.url_failures = 0;
	if (bad_payload || b.url_failures >= (uint64_t)max) {
		b.url_index = c->n_urls ? (c->url_first + 1) % c->n_urls : 0;
		b.url_failures = 0;
	}
	(void)update_state_set_backoff(c->state, &b);
}

static int step_download(struct update_cycle *c)
{
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	char buf[512];
	struct stat stt;
	int r;

	r = fs_mkdir_p(c->p.root_fd, UPDATE_STATE_DIR, 0711);
	if (r >= 0)
		r = fs_exists(c->p.root_fd, UPDATE_PART_FILE);
	if (r < 0)
		return fail(c, r, "opening '%s': %s", UPDATE_PART_FILE, strerror(-r));
	bool existed = r > 0;
	c->part_fd = fs_open(c->p.root_fd, UPDATE_PART_FILE, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (c->part_fd < 0)
		return fail(c, c->part_fd, "opening '%s': %s", UPDATE_PART_FILE,
			    strerror(-c->part_fd));
	if (fstat(c->part_fd, &stt) < 0)
		return fail(c, -errno, "opening '%s': %s", UPDATE_PART_FILE, strerror(errno));
	struct update_offer offer = { .source = c->source, .sha256 = c->has_sha ? c->sha_b64 : NULL,
				      .url = c->urls[0], .size = c->size };
	enum update_resume how = update_resume_decide(c->state, &offer, existed ? stt.st_size : -1);
	uint64_t have = (uint64_t)stt.st_size;
	if (how == UPDATE_RESUME_START_OVER) {
		if (ftruncate(c->part_fd, 0) < 0)
			return fail(c, -errno, "truncating '%s': %s", UPDATE_PART_FILE, strerror(errno));
		have = 0;
		struct update_pending pe = { .version = c->version, .sha256 = c->has_sha ? c->sha_b64 : NULL,
					     .source = c->source, .size = c->size,
					     .started_time = (uint64_t)time(NULL) };
		r = update_state_set_pending(c->state, &pe, (const char *const *)c->urls, c->n_urls);
		if (r < 0)
			return fail(c, r, "updating the state: %s", strerror(-r));
	}
	if (set_status(c, UPDATE_STATUS_UPDATE_AVAILABLE, -1) < 0)
		return 0;
	c->step = STEP_VERIFY;
	_cleanup_free_ char *rurl0 = http_url_redact(c->urls[0]);
	snprintf(c->what, sizeof(c->what), "payload %s", rurl0 ? rurl0 : "?");
	c->res.payload_what = c->what;
	if (how == UPDATE_RESUME_REVERIFY || (c->size > 0 && have == c->size))
		return 1;

	/* 7.3: room for the rest plus 64 MiB. */
	struct statvfs sv;
	if (c->size > 0 && fstatvfs(c->part_fd, &sv) == 0) {
		uint64_t free_b = (uint64_t)sv.f_bavail * sv.f_frsize;
		uint64_t need = c->size - have + (64ULL << 20);
		if (free_b < need) {
			record_failure(c, 14, "not enough space");
			c->res.failed_step = "download";
			send_event(c, omaha_event_error(14));
			return fail(c, -EIO, "%s: not enough space: need %" PRIu64 ", have %" PRIu64,
				    UPDATE_STATE_DIR, need, free_b);
		}
	}
	send_event(c, omaha_event_simple(OMAHA_EVENT_DOWNLOAD_STARTED, OMAHA_RESULT_SUCCESS));
	if (set_status(c, UPDATE_STATUS_DOWNLOADING, -1) < 0)
		return 0;
	r = update_http_new(&c->cfg, c->p.root_fd, true, &http);
	if (r < 0)
		return fail(c, r, "setting up HTTP: %s", strerror(-r));
	c->saved_decile = c->size ? (unsigned)(have * 10 / c->size) : 0;
	/* 5.5's checks run on the bytes as they are staged (update/install.h); without it, on the
	 * whole file afterwards */
	if (update_early_new(&c->target, (c->size > have ? c->size - have : 0) + (64ULL << 20),
			     &c->early) < 0)
		c->early = NULL;
	uint64_t fetched = 0, fetched_all = 0;
	bool is4xx = false, oversize = false, warned = false;
	_cleanup_free_ char *rurl = NULL;
	c->url_first = first_url(c);
	for (size_t k = 0; k < c->n_urls; k++) {
		const char *url = c->urls[(c->url_first + k) % c->n_urls];
		const char *user = NULL, *password = NULL;
		free(rurl);
		rurl = http_url_redact(url);
		/* 3.2: credentials only over https, never logged */
		if (c->cfg.download_user && *c->cfg.download_user) {
			if (strncmp(url, "https://", 8) == 0) {
				user = c->cfg.download_user;
				password = c->cfg.download_password ? c->cfg.download_password : "";
			} else if (!warned) {
				msg(c, LOG_WARNING, "warning: DOWNLOAD_USER is not sent to %s (not https)",
				    rurl ? rurl : "?");
				warned = true;
			}
		}
		(void)update_early_catch_up(c->early, c->part_fd, have);
		r = update_download(http, url, user, password, c->part_fd, have, c->size, on_progress,
				    c, c->early, &fetched, &is4xx, &oversize, buf, sizeof(buf));
		fetched_all += fetched;
		if (r >= 0 || oversize || (r == -ECANCELED && cancelled(c)))
			break;
		if (fstat(c->part_fd, &stt) == 0)
			have = (uint64_t)stt.st_size;
	}
	(void)update_state_add_downloaded(c->state, fetched_all); /* saved by what follows */
	if (r == -ECANCELED && cancelled(c)) {
		(void)fsync(c->part_fd);
		return stop_here(c);
	}
	if (r < 0) {
		/* 4.4: 14 when the staging file could not be written (the write callback's errno
		 * comes back as is), 11 over the announced size, else 9. */
		int code = oversize ? 11 : (r == -ENOSPC || r == -EDQUOT || r == -EIO) ? 14 : 9;
		snprintf(c->what, sizeof(c->what), "payload %s", rurl ? rurl : "?");
		if (oversize || r != -EAGAIN) {
			if (ftruncate(c->part_fd, 0) < 0)
				msg(c, LOG_WARNING, "warning: truncating %s: %s", UPDATE_PART_FILE,
				    strerror(errno));
			(void)fs_unlink(c->p.root_fd, UPDATE_PART_FILE);
			(void)update_state_set_pending(c->state, NULL, NULL, 0);
		}
		rotate_urls(c, true, false);
		record_failure(c, code, "%s: download failed: %s", c->what, buf);
		c->res.failed_step = "download";
		send_event(c, omaha_event_error(code));
		if (oversize)
			return fail(c, -EIO, "%s: larger than the announced %" PRIu64 " bytes", c->what,
				    c->size);
		return fail(c, r == -EAGAIN ? -EAGAIN : -EIO, "%s: download failed: %s", c->what, buf);
	}
	if (fsync(c->part_fd) < 0)
		return fail(c, -errno, "fsync '%s': %s", UPDATE_PART_FILE, strerror(errno));
	if (fstat(c->part_fd, &stt) < 0)
		return fail(c, -errno, "stat '%s': %s", UPDATE_PART_FILE, strerror(errno));
	msg(c, LOG_NOTICE, "fetched %" PRIu64 " bytes (resumed at %" PRIu64 "), payload %" PRIu64
	    " bytes", fetched, have, (uint64_t)stt.st_size);
	if (c->size > 0 && (uint64_t)stt.st_size == c->size)
		send_event(c, omaha_event_simple(OMAHA_EVENT_DOWNLOAD_FINISHED, OMAHA_RESULT_SUCCESS));
	rotate_urls(c, false, false);
	return 1;
}

/* ---- verify, write, flip (5.5, 6) ---- */

/* 8.2: the daemon's payload backoff counts failed attempts of one payload. */
static void payload_backoff(struct update_cycle *c)
{
	struct update_backoff b;
	uint64_t now = (uint64_t)time(NULL);

	if (!c->p.daemon || !c->has_sha || strcmp(c->source, "omaha") != 0)
		return;
	update_state_get_backoff(c->state, &b);
	if (!b.sha256 || strcmp(b.sha256, c->sha_b64) != 0)
		b.payload_attempts = 0;
	b.payload_attempts++;
	b.sha256 = c->sha_b64;
	b.until = now + update_payload_backoff_sec(b.payload_attempts, (double)random() / RAND_MAX);
	(void)update_state_set_backoff(c->state, &b);
}

/* A failure after the download: for an Omaha payload, bad bytes are never resumed (7.3) and a
 * payload that failed a check of 5.5 is remembered (8.2); then the 3/0 event. */
static void install_failed(struct update_cycle *c, bool bad)
{
	bool omaha = strcmp(c->source, "omaha") == 0;

	if (c->p.mode != UPDATE_MODE_APPLY || !c->urls)
		return; /* --payload FILE: nothing staged, no events */
	if (bad) {
		(void)fs_unlink(c->p.root_fd, UPDATE_PART_FILE);
		(void)update_state_set_pending(c->state, NULL, NULL, 0);
		if (c->has_sha) {
			(void)update_state_add_bad_payload(c->state, c->sha_b64);
			(void)update_state_set_bad_payload_info(c->state, c->sha_b64, c->res.code,
								(uint64_t)time(NULL));
		}
	}
	if (omaha) {
		payload_backoff(c);
		rotate_urls(c, false, bad);
	}
	save_or_warn(c);
	send_event(c, omaha_event_error(c->res.code ? c->res.code : 1));
}

static int step_verify(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char buf[1024];
	int code = 0, r;

	if (cancelled(c))
		return stop_here(c);
	update_test_kill_point("verify", 0);
	if (set_status(c, UPDATE_STATUS_VERIFYING, -1) < 0)
		return 0;
	r = update_payload_verify(&c->target, c->part_fd, c->size, c->has_sha ? c->sha : NULL,
				  c->has_sha_alt ? c->sha_alt : NULL, c->early, &c->verified, &code,
				  &p);
	if (r == -ECANCELED && cancelled(c))
		return stop_here(c);
	if (r < 0) {
		bool bad = code != 1 && code != 7;
		problems_text(&p, buf, sizeof(buf));
		record_failure(c, code, "%s: %s", c->what, buf);
		c->res.failed_step = "verify";
		install_failed(c, bad);
		return fail(c, -EIO, "%s: %s", c->what, buf);
	}
	msg(c, LOG_INFO, "%s: signature version %u verified with '%s'", c->what,
	    c->verified.matched_version, c->verified.matched_key ? c->verified.matched_key : "?");
	c->step = STEP_EXTENSIONS;
	return 1;
}

static int step_write(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char buf[1024];
	int code = 0, r;

	if (cancelled(c))
		return stop_here(c);
	if (set_status(c, UPDATE_STATUS_FINALIZING, -1) < 0)
		return 0;
	r = update_payload_write(&c->target, c->part_fd, &c->verified, &code, &p);
	if (r == -ECANCELED && cancelled(c))
		return stop_here(c);
	if (r < 0) {
		const char *where;
		(void)first_error(&p, &where);
		problems_text(&p, buf, sizeof(buf));
		record_failure(c, code, "%s: %s", c->what, buf);
		c->res.failed_step = "write";
		install_failed(c, false);
		if (code == 15)
			return fail(c, -EIO, "%s on %s: %s", c->target_label, c->disk->path, buf);
		if (code == 7 && r == -EBUSY) /* the target is mounted: the message names it */
			return fail(c, -EIO, "%s", buf);
		return fail(c, -EIO, "%s%s%s: %s", c->what, *where ? ": " : "", where, buf);
	}
	c->step = STEP_FLIP;
	return 1;
}

/* The attribute words of every entry (a[0]: how many), to undo a GPT change whose state could
 * not be saved. */
static uint64_t *gpt_attrs_save(const struct gpt *g)
{
	unsigned n = gpt_num_entries(g);
	uint64_t *a = calloc((size_t)n + 1, sizeof(*a));

	if (!a)
		return NULL;
	a[0] = n;
	for (unsigned i = 1; i <= n; i++)
		a[i] = gpt_entry_attributes(gpt_entry_get_const(g, i));
	return a;
}

/* Put the saved attribute words back. The disk is opened again, so that the table is read as
 * it now is on disk (after a failed write: the copy that everyone reads, the other one perhaps
 * damaged, docs/partitions.md §7.2), then the words are set and written (repairing a damaged
 * copy on the way). */
static int gpt_attrs_restore(struct update_cycle *c, const uint64_t *a, struct problem_list *reterr)
{
	int r;

	c->disk = gpt_disk_free(c->disk);
	if (!c->p.hooks.open_disk)
		return -EINVAL;
	r = c->p.hooks.open_disk(c->p.hooks.userdata, &c->disk);
	c->target.disk = c->disk;
	if (r < 0)
		return r;
	if (gpt_num_entries(c->disk->gpt) != a[0])
		return problem_add(reterr, -EIO, c->disk->path, "the table changed while writing");
	for (unsigned i = 1; i <= a[0]; i++)
		gpt_entry_set_attributes(gpt_entry_get(c->disk->gpt, i), a[i]);
	return gpt_disk_commit(c->disk, reterr);
}

/* After the flip, the reboot marker or the state could not be written: the flip is undone, so
 * that the disk and the state agree on the old boot order (docs/update.md 6.5), and the failure
 * is recorded as a failed flip. */
static int flip_undo(struct update_cycle *c, const uint64_t *before, int err, const char *what)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char buf[512], booted[GPT_LABEL_MAX], path[512];

	(void)fs_unlink(c->p.root_fd, UPDATE_REBOOT_MARKER);
	gpt_entry_name(c->disk->gpt, c->target.booted, booted);
	snprintf(path, sizeof(path), "%s", c->disk->path); /* the disk is opened again */
	int r = gpt_attrs_restore(c, before, &p);
	(void)update_state_set_staged(c->state, NULL);
	record_failure(c, 0, "%s: %s", what, strerror(-err));
	c->res.failed_step = "flip";
	install_failed(c, false);
	if (r < 0) {
		problems_text(&p, buf, sizeof(buf));
		return fail(c, err, "%s: %s; undoing the flip on '%s' failed too (%s): %s stays the next boot",
			    what, strerror(-err), path, buf, c->target_label);
	}
	return fail(c, err, "%s: %s; the flip is undone, %s is the next boot again", what,
		    strerror(-err), booted);
}

static int step_flip(struct update_cycle *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ uint64_t *before = gpt_attrs_save(c->disk->gpt);
	char buf[1024];
	int code = 0, r;

	/* 6.7: the extension images go into place (and old ones away) before the flip, so a
	 * failure here leaves the boot order as it was. */
	r = update_ext_place(c->p.root_fd, &c->ext, c->current_version, &p);
	ext_warnings(c, &p);
	if (r < 0) {
		problems_text(&p, buf, sizeof(buf));
		record_failure(c, 1, "extensions: %s", buf);
		c->res.failed_step = "extensions";
		install_failed(c, false);
		return fail(c, -EIO, "placing the extension images: %s", buf);
	}
	problem_list_release(&p);
	r = before ? update_flip(&c->target, &code, &p) : problem_add(&p, -ENOMEM, "", "out of memory");
	if (r < 0) {
		/* A write that failed half way may have left the new table readable: the old
		 * attribute words are written back, so that the old partition stays the next boot. */
		_cleanup_(problem_list_release) struct problem_list pu = {};
		char path[512];
		snprintf(path, sizeof(path), "%s", c->disk->path); /* the disk is opened again */
		bool undone = before && gpt_attrs_restore(c, before, &pu) >= 0;
		problems_text(&p, buf, sizeof(buf));
		record_failure(c, code, "%s on %s: %s", c->target_label, path, buf);
		c->res.failed_step = "flip";
		install_failed(c, false);
		return fail(c, -EIO, "making %s the next boot on '%s': %s%s", c->target_label, path,
			    buf, undone ? "" : "; writing the old boot order back failed too");
	}

	/* 6.5: the flip is on disk; now the reboot marker and the state (both, or the flip is
	 * undone), then the staging file goes. */
	char uuid[GPT_GUID_STRING_MAX], boot_id[64];
	const struct gpt_entry *e = gpt_entry_get_const(c->disk->gpt, c->target.target);
	/* The running kernel's boot id, never the root's (3). */
	update_boot_id(boot_id);
	struct update_staged st = {
		.version = c->version,
		.previous_version = c->current_version,
		.partition = c->target_label,
		.partuuid = gpt_guid_to_string(&e->unique, false, uuid),
		.boot_id = *boot_id ? boot_id : NULL,
		.size = c->verified.size,
		.installed_time = (uint64_t)time(NULL),
	};
	struct update_backoff b = {};
	r = fs_mkdir_p(c->p.root_fd, "/run", 0755);
	if (r >= 0)
		r = fs_write_atomic(c->p.root_fd, UPDATE_REBOOT_MARKER, "", 0, 0644);
	if (r < 0) {
		snprintf(buf, sizeof(buf), "creating '%s'", UPDATE_REBOOT_MARKER);
		return flip_undo(c, before, r, buf);
	}
	if ((r = update_state_set_staged(c->state, &st)) < 0 ||
	    (r = update_state_set_pending(c->state, NULL, NULL, 0)) < 0 ||
	    (r = update_state_clear_last_error(c->state)) < 0 ||
	    (r = update_state_set_backoff(c->state, &b)) < 0 ||
	    (r = update_state_set_progress(c->state, 1.0)) < 0 ||
	    (r = update_state_set_last_successful_update(c->state, st.installed_time)) < 0 ||
	    (r = update_state_set_status(c->state, UPDATE_STATUS_UPDATED_NEED_REBOOT)) < 0 ||
	    (r = save(c)) < 0) {
		snprintf(buf, sizeof(buf), "writing '%s'", UPDATE_STATE_FILE);
		return flip_undo(c, before, r, buf);
	}
	r = fs_unlink(c->p.root_fd, UPDATE_PART_FILE);
	if (r < 0 && c->urls)
		msg(c, LOG_WARNING, "warning: removing '%s': %s", UPDATE_PART_FILE, strerror(-r));
	send_event(c, omaha_event_simple(OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_SUCCESS));
	return finish(c, UPDATE_OUTCOME_INSTALLED, 0, LOG_INFO, NULL);
}

/* ---- the cycle ---- */

int update_cycle_new(const struct update_cycle_params *p, struct update_cycle **ret)
{
	struct update_cycle *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	if (p->mode < 0 || p->mode >= _UPDATE_MODE_MAX) {
		free(c);
		return -EINVAL;
	}
	c->p = *p;
	c->lock_fd = c->part_fd = -1;
	c->verified.spool_fd = -1;
	*ret = c;
	return 0;
}

struct update_cycle *update_cycle_free(struct update_cycle *c)
{
	if (!c)
		return NULL;
	update_verified_release(&c->verified);
	update_ext_set_release(&c->ext);
	free(c->ext_pkg);
	free(c->ext_src);
	c->early = update_early_free(c->early);
	if (c->part_fd >= 0)
		(void)close(c->part_fd);
	for (size_t i = 0; i < c->n_urls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->version);
	c->disk = gpt_disk_free(c->disk);
	update_keys_release(&c->keys);
	free(c->server);
	free(c->current_version);
	omaha_response_free(c->resp);
	http_client_free(c->http);
	update_config_release(&c->cfg);
	update_state_free(c->state);
	if (c->lock_fd >= 0)
		(void)close(c->lock_fd);
	free(c);
	return NULL;
}

int update_cycle_step(struct update_cycle *c)
{
	switch (c->step) {
	case STEP_BEGIN:
		return step_begin(c);
	case STEP_CHECK:
		return step_check(c);
	case STEP_DOWNLOAD:
		return step_download(c);
	case STEP_VERIFY:
		return step_verify(c);
	case STEP_EXTENSIONS:
		return step_extensions(c);
	case STEP_WRITE:
		return step_write(c);
	case STEP_FLIP:
		return step_flip(c);
	case STEP_DONE:
	default:
		return 0;
	}
}

int update_cycle_run(struct update_cycle *c)
{
	while (update_cycle_step(c) > 0)
		;
	return 0;
}

const struct update_cycle_result *update_cycle_result(const struct update_cycle *c)
{
	return &c->res;
}

int update_cycle_exit(const struct update_cycle_result *r)
{
	switch (r->outcome) {
	case UPDATE_OUTCOME_OFFERED:
	case UPDATE_OUTCOME_VERIFIED:
	case UPDATE_OUTCOME_INSTALLED:
	case UPDATE_OUTCOME_PINGED:
	case UPDATE_OUTCOME_CANCELLED:
		return 0;
	case UPDATE_OUTCOME_FAILED:
		return r->error < 0 ? r->error : -EIO;
	default:
		return r->error < 0 ? r->error : 3;
	}
}

/* ---- reset (2.4) ---- */

int update_reset(const struct update_cycle_params *p, struct update_cycle_result *res)
{
	_cleanup_(update_cycle_freep) struct update_cycle *c = NULL;
	_cleanup_free_ char *staged_version = NULL;
	_cleanup_free_ uint64_t *before = NULL;
	struct update_staged st;
	int r;

	*res = (struct update_cycle_result){};
	r = update_cycle_new(p, &c);
	if (r < 0) {
		res->error = r;
		snprintf(res->message, sizeof(res->message), "out of memory");
		return r;
	}
	if (take_lock(c) < 0 || load_state_rw(c) < 0)
		goto failed;

	/* The GPT first: if the undo fails, the state still says what is staged and a rerun can
	 * try again. */
	if (update_state_status(c->state) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	    update_state_get_staged(c->state, &st)) {
		_cleanup_(problem_list_release) struct problem_list pl = {};
		char bn[GPT_LABEL_MAX], buf[512];
		unsigned target, booted;

		if (!p->hooks.open_disk) {
			fail(c, -EINVAL, "no disk");
			goto failed;
		}
		r = p->hooks.open_disk(p->hooks.userdata, &c->disk);
		if (r < 0) {
			c->res.reported = true;
			fail(c, r, NULL);
			goto failed;
		}
		r = update_usr_pair(c->disk->gpt, st.partition, &target, &booted, &pl);
		if (r < 0) {
			const char *m = first_error(&pl, NULL);
			fail(c, -EINVAL, "%s: %s", c->disk->path, m ? m : strerror(-r));
			goto failed;
		}
		before = gpt_attrs_save(c->disk->gpt);
		if (!before) {
			fail(c, -ENOMEM, "out of memory");
			goto failed;
		}
		r = update_gpt_revert(c->disk->gpt, booted, target);
		if (r < 0) {
			fail(c, r, "reverting the boot order on '%s': %s", c->disk->path, strerror(-r));
			goto failed;
		}
		r = gpt_disk_commit(c->disk, &pl);
		if (r < 0) {
			char path[512];
			snprintf(path, sizeof(path), "%s", c->disk->path);
			if (r != -EROFS) {
				/* half written: the boot order as it was, agreeing with the state */
				_cleanup_(problem_list_release) struct problem_list pu = {};
				(void)gpt_attrs_restore(c, before, &pu);
			}
			if (r == -EROFS)
				fail(c, r, "opening '%s' for writing: read-only device", path);
			else
				fail(c, r, "writing '%s': %s", path,
				     first_error(&pl, NULL) ? first_error(&pl, NULL) : strerror(-r));
			goto failed;
		}
		msg(c, LOG_INFO, "%s is the next boot again; %s %s discarded",
		    gpt_entry_name(c->disk->gpt, booted, bn), st.version,
		    str_escape_buf(st.partition, buf, sizeof(buf)));
	}

	/* The state's strings go away with the reset; keep the version for the message. */
	if (update_state_get_staged(c->state, &st) && !(staged_version = strdup(st.version))) {
		fail(c, -ENOMEM, "out of memory");
		goto failed;
	}
	r = update_state_reset(p->root_fd, c->state);
	if (r < 0) {
		/* The GPT is reverted but the state may still say NEED_REBOOT: then the revert is
		 * undone, so that disk and state agree (old or new, never a mix) and a rerun works. */
		_cleanup_(update_state_freep) struct update_state *now = NULL;
		_cleanup_(problem_list_release) struct problem_list pl = {};
		if (before &&
		    update_state_load(p->root_fd, 0, &now, NULL, &pl) == UPDATE_STATE_LOADED &&
		    update_state_status(now) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
		    gpt_attrs_restore(c, before, &pl) < 0) {
			fail(c, r, "resetting '%s': %s; restoring the boot order failed too: %s",
			     UPDATE_STATE_FILE, strerror(-r),
			     first_error(&pl, NULL) ? first_error(&pl, NULL) : "?");
			goto failed;
		}
		fail(c, r, "resetting '%s': %s", UPDATE_STATE_FILE, strerror(-r));
		goto failed;
	}
	notify_status(c);
	if (r == 0) {
		snprintf(res->message, sizeof(res->message), "nothing to reset: %s",
			 update_status_to_string(UPDATE_STATUS_IDLE));
		return 0;
	}
	size_t o = (size_t)snprintf(res->message, sizeof(res->message), "reset:");
#define ADD(...) o += (size_t)snprintf(res->message + o, o < sizeof(res->message) ? sizeof(res->message) - o : 0, __VA_ARGS__)
	if (r & UPDATE_RESET_STAGED)
		ADD(" staged update %s discarded;", staged_version ? staged_version : "?");
	if (r & UPDATE_RESET_PENDING)
		ADD(" pending download removed;");
	if (r & UPDATE_RESET_ERROR)
		ADD(" last error cleared;");
	if (r & UPDATE_RESET_BACKOFF)
		ADD(" backoff cleared;");
	if (r & UPDATE_RESET_MARKER)
		ADD(" %s removed;", UPDATE_REBOOT_MARKER);
	ADD(" status %s", update_status_to_string(UPDATE_STATUS_IDLE));
#undef ADD
	return r;

failed:
	*res = c->res;
	res->server = res->group = res->current_version = res->version = res->partition = NULL;
	res->payload_what = res->reason = res->failed_step = res->detail = NULL;
	res->response = NULL;
	return res->error < 0 ? res->error : -EIO;
}
