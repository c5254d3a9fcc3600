/* SPDX-License-Identifier: MIT */
/* cmd/update-daemon.c - `flatctl update daemon` and the `update_engine` link: post-boot
 * bookkeeping, the health-checked mark-good, the check schedule, com.coreos.update1 on D-Bus;
 * see flatctl-update(1), docs/update.md 8, docs/update-daemon.md.
 *
 * One sd-event loop in the main thread owns every timer, the signals, the bus and the state
 * directory watch; nothing wakes up between them. An update cycle (lib/update/engine.c) runs in a
 * thread of its own so that the bus keeps answering while a payload downloads; the thread only
 * reports through the engine's hooks, which copy the news under a mutex and wake the loop
 * through an eventfd. The loop then writes the journal line, sd_notify's STATUS and the
 * StatusUpdate signal. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "args/args.h"
#include "bus/bus.h"
#include "bus/systemd.h"
#include "bus/update1.h"
#include "cmd.h"
#include "conf/conf.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "lock/sem.h"
#include "log/log.h"
#include "omaha/response.h"
#include "partition.h"
#include "update.h"
#include "update/client.h"
#include "update/engine.h"
#include "update/install.h"
#include "update/schedule.h"
#include "update/state.h"
#include "util/escape.h"
#include "util/problem.h"
#include "util/progress.h"

#define HEALTH_TIMEOUT_DEFAULT_USEC (300ULL * 1000000) /* MARK_GOOD_TIMEOUT */
#define STOP_GRACE_USEC (9ULL * 1000000)               /* 8.3: exit within 10 s */
#define SIGNAL_EVERY_USEC (10ULL * 1000000)            /* 8.4: at most every 10 s or 1 % */
#define MAX_UNITS 64

enum mark {
	MARK_NONE,     /* nothing to mark (already good, unknown partition, staged update) */
	MARK_PENDING,  /* the delay runs */
	MARK_CHECKING, /* waiting for MARK_GOOD_UNITS */
	MARK_DONE,
	MARK_FAILED,   /* the health check failed: no update cycles in this boot */
};

/* What the cycle thread hands the loop, under the mutex. Status changes queue up, so that a
 * reader of the signal sees every one of them even when they come faster than the loop runs;
 * progress coalesces. */
#define NEWS_QUEUE 16
struct news {
	bool progress_changed, finished;
	struct update_snapshot queue[NEWS_QUEUE];
	unsigned n_queued;
	uint64_t done, total;
	/* finished: */
	enum update_outcome outcome;
	int exit;
	bool reported, server_trouble;
	int message_level;
	uint64_t retry_after;
	unsigned poll_interval;
	char message[2048];
	char version[UPDATE_VERSION_MAX], partition[GPT_LABEL_MAX];
};

struct daemon {
	struct update_cmd *uc;
	struct flat_ctx *ctx;
	int root_fd;
	sd_event *event;
	sd_bus *bus;
	sd_bus_slot *update1_slot;
	bool once, exiting;
	int exit_code;

	/* update.conf, read at start and on SIGHUP */
	char *units[MAX_UNITS];
	size_t n_units;
	uint64_t health_timeout_usec;
	bool rollback_on_failed_health;

	struct update_schedule sched;
	uint64_t mark_good_delay_usec;
	sd_event_source *check_timer, *mark_timer, *health_timer, *stop_timer, *wake, *watch;

	enum mark mark;
	bool subscribed;
	sd_bus_slot *unit_slots[MAX_UNITS];
	bool cycle_wanted, wanted_interactive;

	/* the cycle thread */
	pthread_t thread;
	bool running, interactive;
	volatile int cancel;
	int wake_fd;
	pthread_mutex_t lock;
	struct news news;
	uint64_t last_wake_usec;

	/* what others see */
	struct update_snapshot snap;
	uint64_t done, total;
	uint64_t signal_usec;
	double signal_progress;
	unsigned logged_decile;
};

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static bool root_is_slash(const struct flat_ctx *ctx)
{
	return !ctx->root || strcmp(ctx->root, "/") == 0;
}

static double random01(void)
{
	return (double)random() / ((double)RAND_MAX + 1.0);
}

/* ---- what others see: journal, sd_notify, StatusUpdate ---- */

static void bus_status(const struct update_snapshot *s, struct bus_update1_status *ret)
{
	*ret = (struct bus_update1_status){ .last_checked_time = (int64_t)s->last_checked_time,
					    .progress = s->progress,
					    .new_size = (int64_t)s->new_size };
	snprintf(ret->current_operation, sizeof(ret->current_operation), "%s",
		 update_status_to_string(s->status));
	/* 8.4: 0.0.0 and 0 when there is none */
	snprintf(ret->new_version, sizeof(ret->new_version), "%s",
		 *s->new_version ? s->new_version : "0.0.0");
}

static void emit(struct daemon *d)
{
	struct bus_update1_status st;
	if (!d->bus || !d->update1_slot)
		return;
	bus_status(&d->snap, &st);
	int r = bus_update1_emit(d->bus, &st);
	if (r < 0)
		log_warning_errno(r, "warning: emitting StatusUpdate");
	d->signal_usec = now_usec();
	d->signal_progress = d->snap.progress;
}

/* "status DOWNLOADING 4081.2.0 37% (176.9/478.2 MiB)" (8.3), into the journal and STATUS=. */
static void status_line(struct daemon *d)
{
	char line[512], esc[UPDATE_VERSION_MAX * 4], a[32], b[32];
	int n = snprintf(line, sizeof(line), "status %s", update_status_short_name(d->snap.status));
	if (*d->snap.new_version)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s",
			      str_escape_buf(d->snap.new_version, esc, sizeof(esc)));
	if (d->snap.status == UPDATE_STATUS_DOWNLOADING && d->total) {
		progress_format_bytes(a, sizeof(a), d->done);
		progress_format_bytes(b, sizeof(b), d->total);
		snprintf(line + n, sizeof(line) - (size_t)n, " %.0f%% (%s/%s)",
			 d->snap.progress * 100.0, a, b);
	}
	log_notice("%s", line);
	(void)sd_notifyf(0, "STATUS=%s", line);
}

/* A new snapshot: a line and a signal on every status change; while downloading, a line every
 * 10 % and a signal every 1 % or 10 s. */
static void publish(struct daemon *d, const struct update_snapshot *s, bool force)
{
	struct update_snapshot old = d->snap;
	d->snap = *s;
	bool status_changed =
		old.status != s->status || strcmp(old.new_version, s->new_version) != 0;
	if (status_changed) {
		d->logged_decile = (unsigned)(s->progress * 10);
		status_line(d);
		emit(d);
		return;
	}
	if (s->status == UPDATE_STATUS_DOWNLOADING) {
		unsigned decile = (unsigned)(s->progress * 10);
		if (decile > d->logged_decile) {
			d->logged_decile = decile;
			status_line(d);
		}
		if (s->progress - d->signal_progress >= 0.01 || s->progress >= 1.0 ||
		    now_usec() - d->signal_usec >= SIGNAL_EVERY_USEC)
			emit(d);
		return;
	}
	if (force || !update_snapshot_equal(&old, s))
		emit(d);
}

/* The state file says something new (a CLI call between cycles, a reset, the post-boot
 * decision): republish. */
static void republish_state(struct daemon *d, bool quiet)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	struct update_snapshot snap;
	if (update_state_load(d->root_fd, 0, &s, NULL, NULL) < 0)
		return;
	update_snapshot_from_state(s, &snap);
	d->done = d->total = 0;
	if (quiet)
		d->snap = snap;
	else if (!update_snapshot_equal(&snap, &d->snap))
		publish(d, &snap, false);
}

/* ---- configuration (update.conf; docs/update-daemon.md) ---- */

static void free_units(struct daemon *d)
{
	for (size_t i = 0; i < d->n_units; i++)
		free(d->units[i]);
	d->n_units = 0;
}

/* MARK_GOOD_UNITS, MARK_GOOD_TIMEOUT, ROLLBACK_ON_FAILED_HEALTH; on an error nothing changes
 * (a bad edit followed by SIGHUP keeps the configuration in force). */
static int load_daemon_config(struct daemon *d)
{
	_cleanup_(conf_release) struct conf c = {};
	const struct conf_entry *e;
	char *units[MAX_UNITS] = { NULL };
	size_t n = 0;
	uint64_t timeout = HEALTH_TIMEOUT_DEFAULT_USEC;
	bool rollback = false;
	int r;

	r = conf_load_update(&c, d->root_fd, NULL);
	if (r < 0)
		return log_error_errno(r, "reading update.conf");
	if ((e = conf_get_entry(&c, "MARK_GOOD_TIMEOUT")) && *e->value &&
	    lock_parse_duration(e->value, &timeout) < 0)
		return log_fail(-EINVAL, "%s:%u: MARK_GOOD_TIMEOUT: '%s' is not a duration", e->file,
				e->line, e->value);
	if ((e = conf_get_entry(&c, "ROLLBACK_ON_FAILED_HEALTH")) && *e->value) {
		if (strcmp(e->value, "true") == 0 || strcmp(e->value, "yes") == 0 ||
		    strcmp(e->value, "1") == 0)
			rollback = true;
		else if (strcmp(e->value, "false") != 0 && strcmp(e->value, "no") != 0 &&
			 strcmp(e->value, "0") != 0)
			return log_fail(-EINVAL, "%s:%u: ROLLBACK_ON_FAILED_HEALTH: '%s' is not true or "
						 "false", e->file, e->line, e->value);
	}
	if ((e = conf_get_entry(&c, "MARK_GOOD_UNITS")) && *e->value) {
		_cleanup_free_ char *list = strdup(e->value);
		if (!list)
			return log_fail(-ENOMEM, "out of memory");
		for (char *save = NULL, *t = strtok_r(list, " \t,", &save); t;
		     t = strtok_r(NULL, " \t,", &save)) {
			if (n >= MAX_UNITS || !(units[n] = strdup(t))) {
				while (n > 0)
					free(units[--n]);
				return log_fail(-EINVAL, "%s:%u: MARK_GOOD_UNITS: more than %d units",
						e->file, e->line, MAX_UNITS);
			}
			n++;
		}
	}
	free_units(d);
	memcpy(d->units, units, n * sizeof(units[0]));
	d->n_units = n;
	d->health_timeout_usec = timeout;
	d->rollback_on_failed_health = rollback;
	return 0;
}

/* ---- post-boot bookkeeping (6.6, 8.1) ---- */

static void post_boot(struct daemon *d)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(update_config_release) struct update_config cfg = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_close_ int lock_fd = -1;
	_cleanup_free_ char *moved = NULL;
	struct update_report rep;
	char bootid[64];
	int r;

	/* a CLI apply in progress decides it itself with its check */
	if (update_lock_take(d->root_fd, 0, &lock_fd, NULL) < 0)
		return;
	r = update_state_load(d->root_fd, UPDATE_STATE_MOVE_BAD, &s, &moved, NULL);
	if (r < 0) {
		log_warning_errno(r, "warning: reading '%s'", UPDATE_STATE_FILE);
		return;
	}
	if (r == UPDATE_STATE_CORRUPT)
		log_warning("warning: state.json unreadable, moved to %s; starting from IDLE",
			    moved ? moved : UPDATE_STATE_FILE);
	if (update_config_load(d->root_fd, NULL, NULL, &cfg, &p) < 0)
		return;
	update_boot_id(bootid);
	r = update_post_reboot(&cfg, s, bootid);
	if (r <= 0)
		return;
	if (update_state_get_report(s, &rep) && rep.errorcode)
		log_notice("rolled back: running %s again; the update did not come up (reported as "
			   "3/0 error %d with the next check)", cfg.version, rep.errorcode);
	else
		log_notice("rebooted into %s (from %s); reported as 3/2 with the next check",
			   cfg.version, rep.previousversion ? rep.previousversion : "?");
	r = update_state_save(d->root_fd, s);
	if (r < 0)
		log_warning_errno(r, "warning: saving '%s'", UPDATE_STATE_FILE);
}

/* ---- mark good, with the health check of MARK_GOOD_UNITS (6.6, 11) ---- */

static void start_cycle(struct daemon *d, bool interactive);
static void once_done(struct daemon *d, int code);

static void drop_unit_watches(struct daemon *d)
{
	for (size_t i = 0; i < MAX_UNITS; i++)
		d->unit_slots[i] = sd_bus_slot_unref(d->unit_slots[i]);
	d->health_timer = sd_event_source_disable_unref(d->health_timer);
}

/* The mark-good step is over (marked, nothing to do, or failed): a cycle that waited for it
 * starts now. */
static void mark_over(struct daemon *d, enum mark m)
{
	d->mark = m;
	drop_unit_watches(d);
	d->mark_timer = sd_event_source_disable_unref(d->mark_timer);
	if (!d->cycle_wanted)
		return;
	d->cycle_wanted = false;
	if (m == MARK_FAILED) {
		log_error("no update cycle in this boot: its health check failed");
		republish_state(d, false);
		if (d->once)
			once_done(d, -EIO);
		return;
	}
	start_cycle(d, d->wanted_interactive);
}

static void mark_now(struct daemon *d)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *disk = NULL;
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	char name[GPT_LABEL_MAX];
	unsigned nr;
	bool good;
	int r;

	/* 8.1: never while an update installed in this boot waits for its reboot */
	if (update_state_load(d->root_fd, 0, &s, NULL, NULL) >= 0 &&
	    update_state_status(s) == UPDATE_STATUS_UPDATED_NEED_REBOOT)
		return mark_over(d, MARK_NONE);
	r = update_disk_open_quiet(d->ctx, true, &disk);
	if (r >= 0)
		r = update_booted_partition(d->root_fd, root_is_slash(d->ctx), disk, &nr, &good);
	if (r < 0) {
		log_warning_errno(r, "warning: not marking the booted partition good: cannot find it");
		return mark_over(d, MARK_NONE);
	}
	if (!good) {
		r = gpt_mark_successful(disk->gpt, nr);
		if (r >= 0)
			r = gpt_disk_commit(disk, &p);
		if (r < 0) {
			log_error_errno(r, "marking %s good on '%s'", gpt_entry_name(disk->gpt, nr, name),
					disk->path);
			return mark_over(d, MARK_NONE);
		}
		log_notice("marked %s good (successful, highest priority)",
			   gpt_entry_name(disk->gpt, nr, name));
	}
	mark_over(d, MARK_DONE);
}

/* Every unit of MARK_GOOD_UNITS active? Otherwise a description of the others into why. */
static bool units_healthy(struct daemon *d, char *why, size_t size)
{
	size_t o = 0;
	bool ok = true;

	why[0] = 0;
	for (size_t i = 0; i < d->n_units; i++) {
		struct bus_unit_state st;
		char esc[256];
		int r = bus_unit_state(d->bus, d->units[i], &st);
		if (r >= 0 && strcmp(st.active_state, "active") == 0)
			continue;
		ok = false;
		if (o >= size)
			continue;
		str_escape_buf(d->units[i], esc, sizeof(esc));
		if (r < 0)
			o += (size_t)snprintf(why + o, size - o, "%s%s: %s", o ? ", " : "", esc,
					      strerror(-r));
		else if (strcmp(st.load_state, "loaded") != 0)
			o += (size_t)snprintf(why + o, size - o, "%s%s is %s", o ? ", " : "", esc,
					      st.load_state);
		else
			o += (size_t)snprintf(why + o, size - o, "%s%s is %s (%s)", o ? ", " : "", esc,
					      st.active_state, st.sub_state);
	}
	return ok;
}

static void health_failed(struct daemon *d, const char *why)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *disk = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	char name[GPT_LABEL_MAX], other[GPT_LABEL_MAX];
	unsigned nr;
	bool good;
	int r;

	r = update_disk_open_quiet(d->ctx, true, &disk);
	if (r >= 0)
		r = update_booted_partition(d->root_fd, root_is_slash(d->ctx), disk, &nr, &good);
	log_error("health check failed: %s; %s not marked good", why,
		  r >= 0 ? gpt_entry_name(disk->gpt, nr, name) : "the booted partition");
	(void)sd_notifyf(0, "STATUS=health check failed: %s", why);
	if (r >= 0 && d->rollback_on_failed_health) {
		int o = gpt_rollback(disk->gpt, nr);
		r = o < 0 ? o : gpt_disk_commit(disk, &p);
		if (r < 0)
			log_error_errno(r, "rolling back on '%s'", disk->path);
		else
			log_notice("rolled back: %s is the next boot target (ROLLBACK_ON_FAILED_HEALTH)",
				   gpt_entry_name(disk->gpt, (unsigned)o, other));
	}
	mark_over(d, MARK_FAILED);
}

static int on_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct daemon *d = userdata;
	char why[1024];
	if (d->mark == MARK_CHECKING && units_healthy(d, why, sizeof(why)))
		mark_now(d);
	return 0;
}

static int on_health_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	char why[1024];
	if (d->mark != MARK_CHECKING)
		return 0;
	if (units_healthy(d, why, sizeof(why)))
		mark_now(d);
	else
		health_failed(d, why);
	return 0;
}

static void mark_start(struct daemon *d)
{
	char why[1024];
	int r;

	if (d->mark != MARK_PENDING)
		return;
	d->mark_timer = sd_event_source_disable_unref(d->mark_timer);
	if (d->n_units == 0)
		return mark_now(d);
	if (!d->bus)
		return health_failed(d, "MARK_GOOD_UNITS is set but there is no bus to ask systemd");
	/* watch first, then read, so that no change falls in between */
	if (!d->subscribed) {
		r = bus_systemd_subscribe(d->bus);
		if (r < 0)
			log_warning_errno(r, "warning: subscribing to systemd's unit changes");
		d->subscribed = r >= 0;
	}
	for (size_t i = 0; i < d->n_units; i++) {
		struct bus_unit_state st;
		if (bus_unit_state(d->bus, d->units[i], &st) >= 0)
			(void)bus_unit_watch(d->bus, st.path, on_unit_changed, d, &d->unit_slots[i]);
	}
	if (units_healthy(d, why, sizeof(why)))
		return mark_now(d);
	log_notice("not healthy yet (%s): waiting up to %" PRIu64 " s before marking this boot good",
		   why, d->health_timeout_usec / 1000000);
	d->mark = MARK_CHECKING;
	r = sd_event_add_time_relative(d->event, &d->health_timer, CLOCK_MONOTONIC,
				       d->health_timeout_usec, 0, on_health_timeout, d);
	if (r < 0)
		health_failed(d, "cannot arm the health check's timer");
}

static int on_mark_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	mark_start(userdata);
	return 0;
}

/* 8.1 step 3. */
static void mark_setup(struct daemon *d)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *disk = NULL;
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	unsigned nr;
	bool good;
	int r;

	d->mark = MARK_NONE;
	if (update_state_load(d->root_fd, 0, &s, NULL, NULL) >= 0 &&
	    update_state_status(s) == UPDATE_STATUS_UPDATED_NEED_REBOOT)
		return;
	r = update_disk_open_quiet(d->ctx, false, &disk);
	if (r >= 0)
		r = update_booted_partition(d->root_fd, root_is_slash(d->ctx), disk, &nr, &good);
	if (r < 0) {
		log_info("booted USR partition unknown or only inferred: nothing to mark good");
		return;
	}
	if (good)
		return;
	d->mark = MARK_PENDING;
	if (d->once)
		return; /* marked before the cycle */
	r = sd_event_add_time_relative(d->event, &d->mark_timer, CLOCK_MONOTONIC,
				       d->mark_good_delay_usec, 0, on_mark_timer, d);
	if (r < 0)
		log_warning_errno(r, "warning: arming the mark-good timer");
}

/* ---- the cycle thread ---- */

static void wake_loop(struct daemon *d)
{
	uint64_t one = 1;
	(void)!write(d->wake_fd, &one, sizeof(one));
}

static void thread_status(const struct update_snapshot *snap, void *userdata)
{
	struct daemon *d = userdata;
	pthread_mutex_lock(&d->lock);
	struct news *n = &d->news;
	/* a full queue keeps the newest: only ever a burst of progress saves fills it */
	if (n->n_queued == NEWS_QUEUE) {
		memmove(n->queue, n->queue + 1, (NEWS_QUEUE - 1) * sizeof(n->queue[0]));
		n->n_queued--;
	}
	n->queue[n->n_queued++] = *snap;
	pthread_mutex_unlock(&d->lock);
	wake_loop(d);
}

static void thread_progress(const char *version, uint64_t done, uint64_t total, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t now = now_usec();
	pthread_mutex_lock(&d->lock);
	d->news.done = done;
	d->news.total = total;
	d->news.progress_changed = true;
	/* the loop needs no more than a few wake-ups a second for 1 % steps */
	bool wake = now - d->last_wake_usec >= 200000 || (total && done >= total);
	if (wake)
		d->last_wake_usec = now;
	pthread_mutex_unlock(&d->lock);
	if (wake)
		wake_loop(d);
}

static void thread_message(int level, const char *text, void *userdata)
{
	(void)log_full(level, 0, "%s", text);
}

static void thread_offer(const struct omaha_response *resp, const char *url, void *userdata)
{
	char esc[UPDATE_VERSION_MAX * 4], sz[32];
	progress_format_bytes(sz, sizeof(sz), resp->packages[0].size);
	log_notice("update available: %s (%s)", str_escape_buf(resp->version, esc, sizeof(esc)), sz);
}

static int thread_open_disk(void *userdata, struct gpt_disk **ret)
{
	struct daemon *d = userdata;
	return partition_open(d->ctx, true, false, ret);
}

static void *cycle_thread(void *arg)
{
	struct daemon *d = arg;
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(update_cycle_freep) struct update_cycle *c = NULL;
	struct update_cli_run run;
	enum update_mode mode = UPDATE_MODE_APPLY;

	/* 8.1 step 5: while an update waits for its reboot, only ping */
	if (update_state_load(d->root_fd, 0, &s, NULL, NULL) >= 0 &&
	    update_state_status(s) == UPDATE_STATUS_UPDATED_NEED_REBOOT)
		mode = UPDATE_MODE_PING;
	struct update_cycle_params p = update_cmd_params(d->uc, d->root_fd, mode, &run);
	p.daemon = true;
	p.scheduled = !d->interactive;
	p.cancel = &d->cancel;
	p.hooks = (struct update_engine_hooks){ .status = thread_status, .progress = thread_progress,
						.message = thread_message, .offer = thread_offer,
						.open_disk = thread_open_disk, .userdata = d };
	struct news out = { .finished = true, .outcome = UPDATE_OUTCOME_FAILED, .exit = -ENOMEM };
	if (update_cycle_new(&p, &c) >= 0) {
		(void)update_cycle_run(c);
		const struct update_cycle_result *res = update_cycle_result(c);
		out.outcome = res->outcome;
		out.exit = mode == UPDATE_MODE_PING && res->outcome == UPDATE_OUTCOME_PINGED
				   ? 3
				   : update_cycle_exit(res);
		out.reported = res->reported;
		out.server_trouble = res->server_trouble;
		out.retry_after = res->retry_after_sec;
		out.poll_interval = res->poll_interval;
		out.message_level = res->message_level;
		snprintf(out.message, sizeof(out.message), "%s", res->message);
		snprintf(out.version, sizeof(out.version), "%s", res->version ? res->version : "");
		snprintf(out.partition, sizeof(out.partition), "%s", res->partition ? res->partition : "");
		if (res->outcome == UPDATE_OUTCOME_NOUPDATE && !res->message[0])
			snprintf(out.message, sizeof(out.message), "no update: %s is current (group %s, %s)",
				 res->current_version, res->group, res->server);
	}
	pthread_mutex_lock(&d->lock);
	memcpy(out.queue, d->news.queue, sizeof(out.queue));
	out.n_queued = d->news.n_queued;
	out.done = d->news.done;
	out.total = d->news.total;
	out.progress_changed = d->news.progress_changed;
	d->news = out;
	pthread_mutex_unlock(&d->lock);
	wake_loop(d);
	return NULL;
}

static int on_check_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int arm_check(struct daemon *d, uint64_t delay_sec)
{
	d->check_timer = sd_event_source_disable_unref(d->check_timer);
	if (d->once || d->exiting)
		return 0;
	/* a second of slack lets the kernel batch the wake-up with others */
	int r = sd_event_add_time_relative(d->event, &d->check_timer, CLOCK_MONOTONIC,
					   delay_sec * 1000000, 1000000, on_check_timer, d);
	if (r < 0)
		return log_error_errno(r, "arming the check timer");
	return 0;
}

static void once_done(struct daemon *d, int code)
{
	d->exit_code = code;
	(void)sd_event_exit(d->event, 0);
}

static void cycle_finished(struct daemon *d, const struct news *n)
{
	(void)pthread_join(d->thread, NULL);
	d->running = false;
	/* hand the cycle's buffers (HTTP, XML, payload pieces) back to the system: idle between
	 * checks is most of the daemon's life */
	(void)malloc_trim(0);
	switch (n->outcome) {
	case UPDATE_OUTCOME_INSTALLED:
		log_notice("installed %s to %s; reboot to use it", n->version, n->partition);
		break;
	case UPDATE_OUTCOME_FAILED:
		if (!n->reported && n->message[0])
			log_error("%s", n->message);
		break;
	default:
		if (n->message[0])
			log_full(n->message_level > LOG_ERR ? n->message_level : LOG_NOTICE, 0, "%s",
				 n->message);
	}
	republish_state(d, false);
	if (d->exiting) {
		(void)sd_event_exit(d->event, 0);
		return;
	}
	if (d->once)
		return once_done(d, n->exit);
	uint64_t next = update_schedule_next(&d->sched, n->server_trouble, n->retry_after,
					     n->poll_interval, random01());
	log_info("next check in %" PRIu64 " s (interval %" PRIu64 " s%s)", next, d->sched.current_sec,
		 d->sched.backing_off ? ", backing off after server trouble" : "");
	(void)arm_check(d, next);
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t v;
	struct news n;

	(void)!read(fd, &v, sizeof(v));
	pthread_mutex_lock(&d->lock);
	n = d->news;
	d->news.n_queued = 0;
	d->news.progress_changed = d->news.finished = false;
	pthread_mutex_unlock(&d->lock);

	d->done = n.done;
	d->total = n.total;
	for (unsigned i = 0; i < n.n_queued; i++) {
		struct update_snapshot snap = n.queue[i];
		if (snap.status == UPDATE_STATUS_DOWNLOADING && n.total)
			snap.progress = (double)n.done / (double)n.total;
		publish(d, &snap, false);
	}
	if (!n.n_queued && n.progress_changed && d->snap.status == UPDATE_STATUS_DOWNLOADING &&
	    n.total) {
		struct update_snapshot snap = d->snap;
		snap.progress = (double)n.done / (double)n.total;
		publish(d, &snap, false);
	}
	if (n.finished)
		cycle_finished(d, &n);
	return 0;
}

static void start_cycle(struct daemon *d, bool interactive)
{
	if (d->running || d->exiting)
		return;
	if (d->mark == MARK_FAILED) {
		log_error("no update cycle in this boot: its health check failed");
		if (d->once)
			once_done(d, -EIO);
		return;
	}
	/* 8.1: the mark-good step runs first when a cycle starts before its timer */
	if (d->mark == MARK_PENDING || d->mark == MARK_CHECKING) {
		d->cycle_wanted = true;
		d->wanted_interactive = d->wanted_interactive || interactive;
		if (d->mark == MARK_PENDING)
			mark_start(d);
		return;
	}
	d->check_timer = sd_event_source_disable_unref(d->check_timer);
	d->interactive = interactive;
	d->cancel = 0;
	d->news = (struct news){};
	d->running = true;
	int r = pthread_create(&d->thread, NULL, cycle_thread, d);
	if (r != 0) {
		d->running = false;
		log_error_errno(-r, "starting the update cycle");
		if (d->once)
			once_done(d, -r);
		else
			(void)arm_check(d, d->sched.interval_sec);
	}
}

static int on_check_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	start_cycle(userdata, false);
	return 0;
}

/* ---- D-Bus: com.coreos.update1 (8.4) ---- */

static int get_status(void *userdata, struct bus_update1_status *ret)
{
	struct daemon *d = userdata;
	bus_status(&d->snap, ret);
	return 0;
}

static int attempt_update(void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	log_info("AttemptUpdate: interactive update check requested");
	if (d->mark == MARK_FAILED)
		return sd_bus_error_set(error, SD_BUS_ERROR_FAILED,
					"no update in this boot: its health check failed");
	if (d->running || d->snap.status == UPDATE_STATUS_UPDATED_NEED_REBOOT) {
		/* as update_engine: nothing new while busy or waiting for the reboot */
		log_info("AttemptUpdate: status is %s; nothing started",
			 update_status_to_string(d->snap.status));
		return 0;
	}
	/* the status says so before the reply, so that a caller that polls sees the attempt */
	struct update_snapshot s = d->snap;
	s.status = UPDATE_STATUS_CHECKING_FOR_UPDATE;
	publish(d, &s, false);
	start_cycle(d, true);
	return 0;
}

static int hook_open_disk(void *userdata, struct gpt_disk **ret)
{
	struct daemon *d = userdata;
	return partition_open(d->ctx, true, false, ret);
}

static int reset_status(void *userdata, sd_bus_error *error)
{
	struct daemon *d = userdata;
	struct update_cycle_result res;
	struct update_cli_run run;

	if (d->running)
		return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "reset not allowed while %s",
					 update_status_to_string(d->snap.status));
	struct update_cycle_params p = update_cmd_params(d->uc, d->root_fd, UPDATE_MODE_APPLY, &run);
	p.hooks = (struct update_engine_hooks){ .message = thread_message,
						.open_disk = hook_open_disk, .userdata = d };
	int r = update_reset(&p, &res);
	if (r < 0)
		return sd_bus_error_set(error, SD_BUS_ERROR_FAILED,
					res.message[0] ? res.message : strerror(-r));
	log_notice("ResetStatus: %s", res.message);
	republish_state(d, false);
	return 0;
}

static const struct bus_update1_ops update1_ops = {
	.get_status = get_status,
	.attempt_update = attempt_update,
	.reset_status = reset_status,
};

static int bus_setup(struct daemon *d)
{
	enum bus_kind kind = BUS_SYSTEM;
	const char *address = NULL;
	int r;

	if (d->uc->bus && bus_parse(d->uc->bus, &kind, &address) < 0)
		return args_usage_error(d->uc->args, "--bus: '%s' is not system, user, none or an "
						     "address", d->uc->bus);
	/* a daemon for another --root never takes the name on the host's system bus */
	if (!d->uc->bus && d->ctx->root_given && !getenv("DBUS_SYSTEM_BUS_ADDRESS"))
		kind = BUS_NONE;
	if (kind == BUS_NONE)
		return 0;
	r = bus_open(kind, address, &d->bus);
	if (r < 0) {
		/* 8.4: run without it */
		log_warning_errno(r, "warning: cannot connect to the %s bus; running without D-Bus",
				  address ? address : bus_kind_to_string(kind));
		d->bus = NULL;
		return 0;
	}
	r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "attaching the bus to the event loop");
	r = bus_update1_serve(d->bus, &update1_ops, d, &d->update1_slot);
	if (r == -EEXIST)
		return log_fail(-EEXIST, "%s is owned by another process on the %s bus",
				BUS_UPDATE1_NAME, address ? address : bus_kind_to_string(kind));
	if (r < 0)
		return log_error_errno(r, "registering %s", BUS_UPDATE1_NAME);
	return 0;
}

/* ---- signals and the state directory ---- */

static int on_stop_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	/* everything on disk is crash-safe (7.3): leaving now is like a crash, and as safe */
	log_warning("the cycle did not stop in time; exiting anyway");
	(void)sd_event_exit(d->event, 0);
	return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;

	if (si->ssi_signo == SIGHUP) {
		if (load_daemon_config(d) >= 0)
			log_notice("configuration reloaded");
		return 0;
	}
	log_notice("stopping (%s)", strsignal((int)si->ssi_signo));
	(void)sd_notify(0, "STOPPING=1");
	d->exiting = true;
	d->exit_code = 0;
	d->cancel = 1;
	d->check_timer = sd_event_source_disable_unref(d->check_timer);
	if (!d->running)
		return sd_event_exit(d->event, 0);
	(void)sd_event_add_time_relative(d->event, &d->stop_timer, CLOCK_MONOTONIC,
					 STOP_GRACE_USEC, 0, on_stop_grace, d);
	return 0;
}

static int on_state_dir(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
	struct daemon *d = userdata;
	/* the cycle's own writes are reported through its hooks */
	if (!d->running && ev->len && strcmp(ev->name, "status.json") == 0)
		republish_state(d, false);
	return 0;
}

static int watch_state_dir(struct daemon *d)
{
	int r = fs_mkdir_p(d->root_fd, UPDATE_STATE_DIR, 0711);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = fs_open(d->root_fd, UPDATE_STATE_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	return sd_event_add_inotify_fd(d->event, &d->watch, fd, IN_MOVED_TO | IN_CLOSE_WRITE,
				       on_state_dir, d);
}

/* ---- the verb ---- */

static void daemon_release(struct daemon *d)
{
	drop_unit_watches(d);
	d->check_timer = sd_event_source_disable_unref(d->check_timer);
	d->mark_timer = sd_event_source_disable_unref(d->mark_timer);
	d->stop_timer = sd_event_source_disable_unref(d->stop_timer);
	d->wake = sd_event_source_disable_unref(d->wake);
	d->watch = sd_event_source_disable_unref(d->watch);
	d->update1_slot = sd_bus_slot_unref(d->update1_slot);
	d->bus = sd_bus_flush_close_unref(d->bus);
	d->event = sd_event_unref(d->event);
	free_units(d);
	if (d->wake_fd >= 0)
		(void)close(d->wake_fd);
	if (d->root_fd >= 0)
		(void)close(d->root_fd);
	(void)pthread_mutex_destroy(&d->lock);
}

static uint64_t or_default(uint64_t v, uint64_t def)
{
	return v == UINT64_MAX ? def : v;
}

int update_verb_daemon(int argc, char **argv, void *userdata)
{
	struct update_cmd *uc = userdata;
	_cleanup_(daemon_release) struct daemon d = { .uc = uc, .ctx = uc->ctx, .root_fd = -1,
						      .wake_fd = -1,
						      .lock = PTHREAD_MUTEX_INITIALIZER };
	sigset_t mask;
	int r;

	if (uc->payload || uc->version || uc->sha256 || uc->dry_run)
		return args_usage_error(uc->args, "--payload, --version, --sha256 and --dry-run are "
						  "options of 'apply'");
	d.once = uc->once;
	update_schedule_init(&d.sched, or_default(uc->initial_delay, UPDATE_FIRST_CHECK_SEC),
			     or_default(uc->interval, UPDATE_INTERVAL_SEC),
			     or_default(uc->fuzz, UPDATE_FUZZ_SEC));
	d.mark_good_delay_usec = or_default(uc->mark_good_delay, 45) * 1000000;
	srandom((unsigned)(now_usec() ^ (uint64_t)getpid()));

	d.root_fd = fs_root_open(uc->ctx->root ? uc->ctx->root : "/");
	if (d.root_fd < 0)
		return log_error_errno(d.root_fd, "opening root '%s'", uc->ctx->root);
	r = load_daemon_config(&d);
	if (r < 0)
		return r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, NULL) != 0)
		return log_fail(-EIO, "blocking signals");
	r = sd_event_default(&d.event);
	if (r < 0)
		return log_error_errno(r, "creating the event loop");
	if ((r = sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d)) < 0 ||
	    (r = sd_event_add_signal(d.event, NULL, SIGHUP, on_signal, &d)) < 0)
		return log_error_errno(r, "installing signal handlers");
	(void)sd_event_set_watchdog(d.event, true);
	d.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.wake_fd < 0)
		return log_error_errno(-errno, "creating an eventfd");
	r = sd_event_add_io(d.event, &d.wake, d.wake_fd, EPOLLIN, on_wake, &d);
	if (r < 0)
		return log_error_errno(r, "watching the eventfd");

	/* 8.1 */
	post_boot(&d);
	mark_setup(&d);
	r = bus_setup(&d);
	if (r < 0)
		return r;
	r = watch_state_dir(&d);
	if (r < 0)
		log_warning_errno(r, "warning: watching '%s'", UPDATE_STATE_DIR);
	republish_state(&d, true);
	status_line(&d);
	emit(&d); /* as update_engine: the status once at start */
	(void)sd_notify(0, "READY=1");

	if (d.once)
		start_cycle(&d, false);
	else {
		uint64_t first = update_schedule_first(&d.sched, random01());
		log_info("first check in %" PRIu64 " s", first);
		r = arm_check(&d, first);
		if (r < 0)
			return r;
	}
	r = sd_event_loop(d.event);
	if (r < 0)
		return log_error_errno(r, "event loop");
	if (d.running) {
		/* the grace period ran out: leave now, as a crash would (7.3 makes that safe); no
		 * cleanup the thread could still trip over */
		fflush(stdout);
		fflush(stderr);
		_exit(0);
	}
	return d.exit_code;
}
