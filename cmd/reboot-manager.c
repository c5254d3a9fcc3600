/* SPDX-License-Identifier: MIT */
/* cmd/reboot-manager.c - `flatctl reboot-manager` and the `locksmithd` link: waits for an
 * installed update, takes the reboot lock inside the reboot window, runs the hooks, reboots
 * through logind, releases its lock after the boot; see docs/reboot-lock.md 7. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "args/args.h"
#include "bus/bus.h"
#include "bus/update1.h"
#include "cmd.h"
#include "fs/fs.h"
#include "conf/conf.h"
#include "lock/lock.h"
#include "util/host.h"
#include "lock/reboot.h"
#include "lock/settings.h"
#include "lock/window.h"
#include "lock-opts.h"
#include "log/log.h"

enum {
	OPT_DRY_RUN = ARG_LONG_BASE,
	OPT_ONCE,
	OPT_STRATEGY,
	OPT_WINDOW_START,
	OPT_WINDOW_LENGTH,
	OPT_NOW,
	OPT_BUS,
	LOCK_BACKEND_OPT_IDS,
};

static const struct flat_option rm_opts[] = {
	{ "dry-run", OPT_DRY_RUN, ARG_NONE, NULL, "record the reboot instead of rebooting" },
	{ "once", OPT_ONCE, ARG_NONE, NULL, "one pass, then exit (0 rebooted, 3 nothing to do, 75 later)" },
	{ "strategy", OPT_STRATEGY, ARG_REQ, "S", "reboot, etcd-lock or off (REBOOT_STRATEGY)" },
	{ "window-start", OPT_WINDOW_START, ARG_REQ, "[DAY] HH:MM", "reboot window start" },
	{ "window-length", OPT_WINDOW_LENGTH, ARG_REQ, "DUR", "reboot window length" },
	{ "now", OPT_NOW, ARG_REQ, "YYYY-MM-DD HH:MM", "check-window: pretend it is this local time" },
	{ "bus", OPT_BUS, ARG_REQ, "system|user|none|ADDRESS",
	  "where update_engine's StatusUpdate is heard (system; none with --root)" },
	LOCK_BACKEND_OPT_ROWS,
	{},
};

enum strategy { STRATEGY_REBOOT, STRATEGY_ETCD_LOCK, STRATEGY_OFF };

struct rm {
	struct flat_ctx *ctx;
	struct args *a;
	int root_fd;
	bool dry_run, once;
	const char *flag[OPT_GROUP - ARG_LONG_BASE + 1];
	char **eps;
	size_t n_eps;
	struct conf conf;
	enum strategy strategy;
	const char *strategy_name;
	bool have_window;
	struct reboot_window window;
	bool lock_configured;
	struct lock_settings s;
	struct lock_handle h;
	char *id;
	char *new_version;
	uint64_t pre_hook_timeout, login_delay;
	uint64_t ttl_usec, next_refresh; /* holder TTL (section 4); when to renew it next */
	int coord_fd;
	/* 7.2 source 2: update_engine on D-Bus (NULL: no bus) */
	sd_bus *bus;
	sd_bus_slot *watch;
	bool bus_need, bus_asked;
	char *bus_version;
};

static volatile sig_atomic_t stop_signal;
static volatile int stop_flag;

static void on_signal(int sig)
{
	stop_signal = sig;
	stop_flag = 1;
}

/* A value by precedence flag > environment > update.conf; *ret_src says where it came from. */
static const char *get(struct rm *m, int flag_id, const char *key, const char *fallback_key,
		       char *src, size_t srclen)
{
	const struct conf_entry *e;
	const char *v;

	if (flag_id && (v = m->flag[flag_id - ARG_LONG_BASE])) {
		snprintf(src, srclen, "--%s", rm_opts[flag_id - ARG_LONG_BASE].name);
		return v;
	}
	for (int pass = 0; pass < 2; pass++) {
		const char *k = pass ? fallback_key : key;
		if (!k)
			continue;
		if ((v = getenv(k)) && *v) {
			snprintf(src, srclen, "%s=\"%s\" in the environment", k, v);
			return v;
		}
		if ((e = conf_get_entry(&m->conf, k)) && *e->value) {
			snprintf(src, srclen, "%s=\"%s\" in %s", k, e->value, e->file);
			return e->value;
		}
	}
	snprintf(src, srclen, "%s", key ? key : "");
	return NULL;
}

static int config_error(const char *src, const char *fmt, ...) _printf_(2, 3);
static int config_error(const char *src, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return log_fail(-EINVAL, "%s: %s", src, msg);
}

static int load_window(struct rm *m)
{
	char s1[512], s2[512];
	const char *start = get(m, OPT_WINDOW_START, "LOCKSMITHD_REBOOT_WINDOW_START",
				"REBOOT_WINDOW_START", s1, sizeof(s1));
	const char *len = get(m, OPT_WINDOW_LENGTH, "LOCKSMITHD_REBOOT_WINDOW_LENGTH",
			      "REBOOT_WINDOW_LENGTH", s2, sizeof(s2));
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = reboot_window_parse(start, len, &m->window, &p);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		bool is_len = p.n && p.item[0].where && strcmp(p.item[0].where, "length") == 0;
		return config_error(is_len ? s2 : s1, "%s", p.n ? p.item[0].message : "invalid");
	}
	m->have_window = true;
	return 0;
}

static int load_config(struct rm *m)
{
	_cleanup_(problem_list_release) struct problem_list warn = {};
	char src[512];
	const char *v;
	int r;

	(void)conf_load_update(&m->conf, m->root_fd, &warn);
	for (size_t i = 0; i < warn.n; i++)
		log_warning("%s", warn.item[i].message);

	v = get(m, OPT_STRATEGY, "REBOOT_STRATEGY", NULL, src, sizeof(src));
	m->strategy_name = v ? v : "reboot";
	bool explicit_ep = false;
	if (!v || strcmp(v, "reboot") == 0)
		m->strategy = STRATEGY_REBOOT;
	else if (strcmp(v, "etcd-lock") == 0)
		m->strategy = STRATEGY_ETCD_LOCK;
	else if (strcmp(v, "off") == 0)
		m->strategy = STRATEGY_OFF;
	else if (strcmp(v, "best-effort") == 0) {
		char s2[512];
		explicit_ep = get(m, OPT_ENDPOINTS, "LOCKSMITHD_ENDPOINT", NULL, s2, sizeof(s2)) ||
			      m->n_eps;
		m->strategy = explicit_ep ? STRATEGY_ETCD_LOCK : STRATEGY_REBOOT;
		m->strategy_name = explicit_ep ? "etcd-lock" : "reboot";
		log_warning("%s: best-effort was removed from locksmith; using %s", src,
			    m->strategy_name);
	} else
		return config_error(src, "unknown strategy (expected reboot, etcd-lock or off)");

	r = load_window(m);
	if (r < 0)
		return r;

	m->pre_hook_timeout = 600000000;
	if ((v = get(m, 0, "REBOOT_PRE_HOOK_TIMEOUT", NULL, src, sizeof(src))) &&
	    lock_parse_duration(v, &m->pre_hook_timeout) < 0)
		return config_error(src, "not a duration");
	m->login_delay = 300000000;
	if ((v = get(m, 0, "REBOOT_LOGIN_DELAY", NULL, src, sizeof(src))) &&
	    lock_parse_duration(v, &m->login_delay) < 0)
		return config_error(src, "not a duration");
	if ((v = get(m, 0, "REBOOT_LOCK_TTL", NULL, src, sizeof(src)))) {
		uint64_t ttl;
		if (lock_parse_duration(v, &ttl) < 0)
			return config_error(src, "not a duration");
		m->ttl_usec = ttl;
	}

	/* lock settings (7.1): flags, then LOCKSMITHD_* and REBOOT_LOCK_* from env or files */
	static const struct {
		int opt;
		const char *key;
	} map[] = {
		{ OPT_BACKEND, "REBOOT_LOCK_BACKEND" },
		{ OPT_API, "REBOOT_LOCK_ETCD_API" },
		{ OPT_CAFILE, "LOCKSMITHD_ETCD_CAFILE" },
		{ OPT_CERTFILE, "LOCKSMITHD_ETCD_CERTFILE" },
		{ OPT_KEYFILE, "LOCKSMITHD_ETCD_KEYFILE" },
		{ OPT_USERNAME, "LOCKSMITHD_ETCD_USERNAME" },
		{ OPT_PASSWORD, "LOCKSMITHD_ETCD_PASSWORD" },
		{ OPT_GROUP, "LOCKSMITHD_GROUP" },
	};
	const char *vals[ARRAY_SIZE(map)];
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		vals[i] = get(m, map[i].opt, map[i].key, NULL, src, sizeof(src));
	m->s.backend = vals[0];
	m->s.api = vals[1];
	m->s.cafile = vals[2];
	m->s.certfile = vals[3];
	m->s.keyfile = vals[4];
	m->s.username = vals[5];
	m->s.password = vals[6];
	m->s.group = vals[7];
	m->s.password_file = m->flag[OPT_PASSWORD_FILE - ARG_LONG_BASE];
	if (m->s.backend && strcmp(m->s.backend, "etcd") != 0 && strcmp(m->s.backend, "file") != 0)
		return config_error(src, "unknown backend (expected etcd or file)");
	if (m->s.group && !lock_group_is_valid(m->s.group))
		return config_error("lock group", "not valid UTF-8 of at most 255 bytes");
	if (!m->n_eps && (v = get(m, 0, "LOCKSMITHD_ENDPOINT", NULL, src, sizeof(src)))) {
		r = lock_endpoints_add(&m->eps, &m->n_eps, v);
		if (r < 0)
			return r;
	}
	m->s.endpoints = m->eps;
	m->s.n_endpoints = m->n_eps;
	m->s.prefer_etcd = m->strategy == STRATEGY_ETCD_LOCK;
	m->s.locksmith_defaults = m->strategy == STRATEGY_ETCD_LOCK && !m->s.backend;
	m->lock_configured = m->strategy == STRATEGY_ETCD_LOCK || m->s.backend || m->n_eps;
	if (m->ttl_usec && m->s.backend && strcmp(m->s.backend, "file") == 0)
		return config_error(src, "a holder TTL needs the etcd v3 backend");
	if (m->ttl_usec && m->s.api && strcmp(m->s.api, "v2") == 0)
		return config_error(src, "a holder TTL needs the etcd v3 backend");
	return 0;
}

static void set_state(struct rm *m, const char *state)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "NAME=locksmithd\nSTRATEGY=%s\nSTATE=%s\n",
			 m->strategy_name, state);
	int r = fs_mkdir_p(m->root_fd, "/run/update-engine", 0755);
	if (r >= 0)
		r = fs_write_atomic(m->root_fd, LOCK_COORDINATOR, buf, (size_t)n, 0644);
	if (r < 0)
		log_warning_errno(r, "writing '%s'", LOCK_COORDINATOR);
	log_info("state %s", state);
}

/* While we hold a lock with a TTL and have not rebooted yet: renew it every TTL/3 (section 4). */
static void refresh_tick(void *userdata)
{
	struct rm *m = userdata;
	if (!m || !m->next_refresh || lock_now_usec() < m->next_refresh)
		return;
	int r = lock_backend_refresh(m->h.b);
	if (r < 0)
		log_warning("renewing the lock's TTL: %s", m->h.b->error);
	m->next_refresh = lock_now_usec() + m->ttl_usec / 3;
}

/* Sleep, waking early on SIGTERM/SIGINT. Returns false when asked to stop. */
static bool rest(struct rm *m, uint64_t usec)
{
	uint64_t end = lock_now_usec() + usec;
	while (!stop_flag) {
		refresh_tick(m);
		uint64_t now = lock_now_usec();
		if (now >= end)
			return true;
		uint64_t d = end - now > 200000 ? 200000 : end - now;
		struct timespec ts = { (time_t)(d / 1000000), (long)(d % 1000000) * 1000 };
		(void)nanosleep(&ts, NULL);
	}
	return false;
}

static uint64_t next_backoff(uint64_t *b)
{
	uint64_t cur = *b ? *b : 5000000;
	*b = cur * 2 > 300000000 ? 300000000 : cur * 2;
	uint64_t jitter = cur / 5;
	uint32_t x = (uint32_t)lock_now_usec() * 2654435761u;
	return cur - jitter + (jitter ? (uint64_t)x % (2 * jitter) : 0);
}

static int lock_op(struct rm *m, enum lock_op op, uint64_t timeout, const char *what)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct lock_outcome out = {};
	struct lock_request req = { .op = op, .id = m->id, .timeout_usec = timeout,
				    .ttl_usec = op == LOCK_OP_LOCK ? m->ttl_usec : 0 };
	int r = lock_execute(m->h.b, &req, &out, &p);

	if (r == -EBUSY)
		log_notice("%s: semaphore %s is full (%zu of %lld held)", what, m->h.b->where,
			   out.before.n_holders, out.before.max);
	else if (r == -EAGAIN)
		log_error("%s: cannot reach etcd: %s", what, m->h.b->error);
	else if (r == -EUCLEAN)
		log_error("%s: invalid semaphore in %s; left unchanged, repair it with: flatctl lock "
			  "set-max N --reset",
			  what, m->h.b->where);
	else if (r < 0)
		log_error("%s: %s", what, m->h.b->error[0] ? m->h.b->error : strerror(-r));
	lock_outcome_release(&out);
	return r;
}

static char **hook_env(struct rm *m, char *buf, size_t len)
{
	static char *env[4];
	int a = snprintf(buf, len, "FLATCTL_LOCK_GROUP=%s", m->s.group ? m->s.group : "") + 1;
	int b = snprintf(buf + a, len - (size_t)a, "FLATCTL_MACHINE_ID=%s", m->id) + 1;
	(void)snprintf(buf + a + b, len - (size_t)(a + b), "FLATCTL_NEW_VERSION=%s",
		       m->new_version ? m->new_version : "");
	env[0] = buf;
	env[1] = buf + a;
	env[2] = buf + a + b;
	env[3] = NULL;
	return env;
}

static int run_hook(struct rm *m, const char *key, uint64_t timeout)
{
	char src[512], envbuf[1024];
	const char *cmd = get(m, 0, key, NULL, src, sizeof(src));
	if (!cmd)
		return 0;
	log_info("running %s", key);
	int r = lock_run_hook(cmd, hook_env(m, envbuf, sizeof(envbuf)), timeout, &stop_flag,
			      refresh_tick, m);
	if (r == -ETIMEDOUT)
		return log_fail(-ETIMEDOUT, "%s timed out or was stopped", key);
	if (r < 0)
		return log_error_errno(r, "running %s", key);
	if (r > 0)
		return log_fail(-ECHILD, "%s failed with exit status %d", key, r);
	return 0;
}

/* 7.6: after the boot, release our own lock (post hook first). 1 released or nothing to do,
 * negative when it has to be retried. */
static int release_after_boot(struct rm *m)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct lock_sem s = {};
	int r = lock_read(m->h.b, 30000000, &s, NULL, NULL, &p);
	if (r < 0) {
		if (r == -EAGAIN)
			log_error("release after boot: cannot reach etcd: %s", m->h.b->error);
		else
			log_error("release after boot: reading %s: %s", m->h.b->where,
				  r == -EUCLEAN ? "invalid semaphore" : strerror(-r));
		return r;
	}
	bool held = lock_sem_has(&s, m->id);
	lock_sem_release(&s);
	if (!held)
		return 1;
	r = run_hook(m, "REBOOT_POST_HOOK", 0);
	if (r < 0)
		return r;
	r = lock_op(m, LOCK_OP_UNLOCK, 30000000, "release after boot");
	if (r < 0)
		return r;
	log_notice("released the reboot lock of %s after boot", m->id);
	return 1;
}

/* 7.2 source 2, as locksmithd: every StatusUpdate on the bus, from any sender; a wrong body
 * is ignored. */
static int on_status_update(sd_bus_message *msg, void *userdata, sd_bus_error *e)
{
	struct rm *m = userdata;
	struct bus_update1_status st;
	_cleanup_free_ char *ver = NULL;
	bool need = false;

	if (bus_update1_read(msg, &st) < 0 || lock_update_engine_parse(&st, &need, &ver) < 0)
		return 0;
	log_info("StatusUpdate: %s", st.current_operation);
	if (need) {
		m->bus_need = true;
		free(m->bus_version);
		m->bus_version = TAKE_PTR(ver);
	}
	return 0;
}

/* The bus of --bus (default: the system bus, none with --root): listen from now on. */
static void bus_setup(struct rm *m)
{
	const char *v = m->flag[OPT_BUS - ARG_LONG_BASE];
	enum bus_kind kind = m->ctx->root_given ? BUS_NONE : BUS_SYSTEM;
	const char *address = NULL;

	if (v && bus_parse(v, &kind, &address) < 0)
		kind = BUS_NONE; /* checked when parsing the options */
	if (kind == BUS_NONE || bus_open(kind, address, &m->bus) < 0) {
		m->bus = NULL; /* no bus: this source is skipped silently (7.2) */
		return;
	}
	if (bus_update1_watch(m->bus, on_status_update, m, &m->watch) < 0)
		m->bus = sd_bus_flush_close_unref(m->bus);
}

/* Handle what arrived on the bus, without waiting. */
static void bus_drain(struct rm *m)
{
	while (m->bus && sd_bus_process(m->bus, NULL) > 0)
		;
}

static int reboot_needed(struct rm *m, bool *ret)
{
	bool need = false;
	_cleanup_free_ char *ver = NULL;
	int r = lock_update_state_read(m->root_fd, &need, &ver);
	if (r < 0)
		log_warning_errno(r, "reading '%s'", LOCK_UPDATE_STATE);
	if (m->bus && !m->bus_asked) {
		/* GetStatus once at start, then the signal (as locksmithd) */
		bool bneed = false;
		_cleanup_free_ char *bver = NULL;
		m->bus_asked = true;
		if (lock_update_engine_status(m->bus, &bneed, &bver) >= 0 && bneed) {
			m->bus_need = true;
			free(m->bus_version);
			m->bus_version = TAKE_PTR(bver);
		}
	}
	bus_drain(m);
	if (!need && m->bus_need) {
		need = true;
		free(ver);
		ver = m->bus_version ? strdup(m->bus_version) : NULL;
	}
	if (!need && fs_exists(m->root_fd, LOCK_TRIGGER_FILE) > 0)
		need = true;
	if (need && ver) {
		free(m->new_version);
		m->new_version = TAKE_PTR(ver);
	}
	*ret = need;
	return 0;
}

/* Wait for a reboot to become needed: on the bus when there is one (woken by its traffic or by
 * SIGTERM), re-reading the state and the trigger file every 10 s (7.2). */
static void wait_for_need(struct rm *m)
{
	if (!m->bus) {
		(void)rest(m, 10000000);
		return;
	}
	uint64_t end = lock_now_usec() + 10000000;
	while (!stop_flag && !m->bus_need) {
		uint64_t now = lock_now_usec();
		if (now >= end)
			break;
		refresh_tick(m);
		if (sd_bus_wait(m->bus, end - now) < 0 && errno != EINTR)
			break;
		bus_drain(m);
	}
}

static bool in_window(struct rm *m, time_t *ret_next)
{
	bool inside = true;
	time_t s = 0, e = 0;
	if (!m->have_window)
		return true;
	if (reboot_window_check(&m->window, time(NULL), &inside, &s, &e) < 0)
		return true;
	*ret_next = s;
	return inside;
}

static int record_dry_run(struct rm *m)
{
	_cleanup_free_ char *old = NULL, *line = NULL;
	size_t n = 0;
	json_auto_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "time", (json_int_t)time(NULL), "id",
				   m->id, "group", m->s.group ? m->s.group : "", "strategy",
				   m->strategy_name, "new_version", m->new_version);
	if (!o || !(line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		return -ENOMEM;
	int r = fs_mkdir_p(m->root_fd, "/var/lib/flatctl/reboot-manager", 0755);
	if (r < 0)
		return r;
	r = fs_read_file(m->root_fd, LOCK_DRY_RUN_LOG, 16 << 20, &old, &n);
	if (r < 0 && r != -ENOENT)
		return r;
	_cleanup_free_ char *all = NULL;
	if (asprintf(&all, "%s%s\n", old ? old : "", line) < 0)
		return -ENOMEM;
	return fs_write_atomic(m->root_fd, LOCK_DRY_RUN_LOG, all, strlen(all), 0644);
}

static void warn_logins(struct rm *m, uint64_t delay)
{
	size_t users = 0;
	if (lock_count_logins(m->root_fd, "/run/utmp", &users) < 0 || users == 0 || delay == 0)
		return;
	unsigned minutes = (unsigned)((delay + 59999999) / 60000000);
	log_notice("%zu user(s) logged in: System reboot in %u minutes!", users, minutes);
	if (!m->ctx->root_given) {
		_cleanup_free_ char *msg = NULL;
		if (asprintf(&msg, "wall 'System reboot in %u minutes!' 2>/dev/null", minutes) >= 0)
			(void)lock_run_hook(msg, NULL, 10000000, NULL, refresh_tick, m);
	}
	(void)rest(m, delay);
}

/* One attempt from "reboot needed" to the reboot. 0 rebooted (or recorded), 75-like -EAGAIN /
 * -EBUSY: try later, other negatives: failure this round. */
static int attempt(struct rm *m, bool *ret_locked)
{
	time_t next = 0;
	int r;

	*ret_locked = false;
	if (!in_window(m, &next)) {
		log_info("outside the reboot window; next start at %lld", (long long)next);
		return -EAGAIN;
	}
	if (m->strategy == STRATEGY_ETCD_LOCK) {
		r = lock_op(m, LOCK_OP_LOCK, 30000000, "lock");
		if (r < 0)
			return r == -EUCLEAN ? -EAGAIN : r;
		*ret_locked = true;
		if (m->ttl_usec)
			m->next_refresh = lock_now_usec() + m->ttl_usec / 3;
	}
	r = run_hook(m, "REBOOT_PRE_HOOK", m->pre_hook_timeout);
	if (r < 0)
		return r;
	if (!in_window(m, &next)) {
		log_notice("the reboot window closed before the reboot; waiting for the next one");
		return -EAGAIN;
	}
	warn_logins(m, m->login_delay);
	if (stop_flag)
		return -EINTR;
	if (!in_window(m, &next))
		return -EAGAIN;
	set_state(m, "rebooting");
	m->next_refresh = 0; /* nobody refreshes during the reboot itself (section 4) */
	if (m->dry_run) {
		r = record_dry_run(m);
		if (r < 0)
			return log_error_errno(r, "writing '%s'", LOCK_DRY_RUN_LOG);
		(void)fs_unlink(m->root_fd, LOCK_TRIGGER_FILE);
		log_notice("dry run: reboot of %s recorded in %s", m->id, LOCK_DRY_RUN_LOG);
		return 0;
	}
	char why[512];
	r = lock_logind_reboot(why, sizeof(why));
	if (r < 0)
		return log_fail(-ECHILD, "asking logind to reboot: %s", why);
	(void)fs_unlink(m->root_fd, LOCK_TRIGGER_FILE);
	return 0;
}

static int verb_run(int argc, char **argv, void *userdata)
{
	struct rm *m = userdata;
	int r;
	bool release_pending = false;

	set_state(m, "starting");
	if (m->lock_configured) {
		_cleanup_(problem_list_release) struct problem_list p = {};
		r = lock_settings_open(&m->s, m->root_fd, &m->h, &p);
		if (r < 0)
			return log_fail(r, "lock backend: %s", p.n ? p.item[0].message : strerror(-r));
		r = release_after_boot(m);
		if (r < 0) {
			if (m->once && r != -EAGAIN)
				return r == -EUCLEAN ? -EIO : r;
			release_pending = true;
		}
	}
	if (m->strategy == STRATEGY_OFF) {
		set_state(m, "disabled");
		if (release_pending && m->once)
			return -EAGAIN;
		return m->once ? 3 : 0;
	}
	set_state(m, "running");

	uint64_t backoff = 0, release_backoff = 0, next_release = 0;
	bool planned = false;
	for (;;) {
		if (stop_flag)
			return 0;
		if (release_pending && lock_now_usec() >= next_release) {
			r = release_after_boot(m);
			if (r >= 0)
				release_pending = false;
			else
				next_release = lock_now_usec() + next_backoff(&release_backoff);
		}
		bool need = false;
		(void)reboot_needed(m, &need);
		if (!need) {
			if (m->once)
				return release_pending ? -EAGAIN : 3;
			wait_for_need(m);
			continue;
		}
		if (!planned) {
			set_state(m, "reboot-planned");
			planned = true;
		}
		if (release_pending && m->strategy == STRATEGY_ETCD_LOCK) {
			if (m->once)
				return -EAGAIN;
			(void)rest(m, 5000000);
			continue;
		}
		bool locked = false;
		r = attempt(m, &locked);
		if (r == 0) {
			if (m->dry_run || m->once)
				return 0;
			/* wait for the shutdown; ask again every 15 minutes */
			while (rest(m, 900000000)) {
				char why[512];
				log_error("no shutdown 15 minutes after the reboot request; asking again");
				(void)lock_logind_reboot(why, sizeof(why));
			}
			return 0;
		}
		if (locked) {
			/* taken but no reboot followed: give it back (best effort, 5 s) */
			(void)lock_op(m, LOCK_OP_UNLOCK, 5000000, "unlock");
		}
		if (stop_flag)
			return 0;
		if (m->once)
			return r == -EAGAIN || r == -EBUSY ? -EAGAIN : -EIO;
		time_t next = 0;
		if (r == -EAGAIN && !in_window(m, &next)) {
			time_t now = time(NULL);
			uint64_t d = next > now ? (uint64_t)(next - now) * 1000000 : 1000000;
			(void)rest(m, d > 600000000 ? 600000000 : d);
			continue;
		}
		(void)rest(m, next_backoff(&backoff));
	}
}

static int parse_now(const char *s, time_t *ret)
{
	struct tm tm = {};
	const char *e = strptime(s, "%Y-%m-%d %H:%M", &tm);
	if (!e || *e)
		return -EINVAL;
	tm.tm_isdst = -1;
	*ret = mktime(&tm);
	return 0;
}

static int verb_check_window(int argc, char **argv, void *userdata)
{
	struct rm *m = userdata;
	time_t now = time(NULL), s, e;
	bool inside;
	char bs[64], be[64];
	const char *nv = m->flag[OPT_NOW - ARG_LONG_BASE];

	if (nv && parse_now(nv, &now) < 0)
		return args_usage_error(m->a, "--now: '%s' is not YYYY-MM-DD HH:MM", nv);
	if (!m->have_window) {
		if (m->ctx->json)
			printf("{\"window\":false,\"inside\":true}\n");
		else
			printf("window: none (reboots allowed at any time)\ninside: yes\n");
		return 0;
	}
	int r = reboot_window_check(&m->window, now, &inside, &s, &e);
	if (r < 0)
		return log_error_errno(r, "computing the window");
	struct tm t;
	strftime(bs, sizeof(bs), "%Y-%m-%d %H:%M %a", localtime_r(&s, &t));
	strftime(be, sizeof(be), "%Y-%m-%d %H:%M %a", localtime_r(&e, &t));
	if (m->ctx->json)
		printf("{\"window\":true,\"inside\":%s,\"next_start\":\"%s\",\"next_end\":\"%s\","
		       "\"next_start_unix\":%lld,\"next_end_unix\":%lld}\n",
		       inside ? "true" : "false", bs, be, (long long)s, (long long)e);
	else
		printf("inside: %s\nnext-start: %s\nnext-end: %s\n", inside ? "yes" : "no", bs, be);
	return 0;
}

static int verb_send_need_reboot(int argc, char **argv, void *userdata)
{
	struct rm *m = userdata;
	bus_setup(m);
	int r = lock_send_need_reboot(m->root_fd, m->bus);
	if (r == -ENOTCONN)
		log_warning("warning: StatusUpdate not sent on the bus; '%s' was created",
			    LOCK_TRIGGER_FILE);
	else if (r < 0)
		return log_error_errno(r, "creating '%s'", LOCK_TRIGGER_FILE);
	return 0;
}

static const struct flat_verb rm_verbs[] = {
	{ "run", 0, 0, verb_run },
	{ "check-window", 0, 0, verb_check_window },
	{ "send-need-reboot", 0, 0, verb_send_need_reboot },
	{},
};

/* The time zone of the machine: TZ, else /etc/localtime inside the root, else UTC. The file is
 * resolved inside the root (its usual symlink into /usr/share/zoneinfo may be absolute) and TZ
 * names where it ended up, a path without symlinks, so neither glibc nor a hook that inherits
 * TZ reads a zone of the host (docs/security.md §4). */
static void setup_tz(struct flat_ctx *ctx, int root_fd)
{
	if (host_tz_was_set() || !ctx->root_given)
		return;
	_cleanup_free_ char *tz = NULL;
	_cleanup_close_ int fd = fs_open(root_fd, "/etc/localtime", O_RDONLY, 0);
	char link[64], path[4096];
	ssize_t n = -1;
	if (fd >= 0) {
		(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, path, sizeof(path) - 1);
	}
	if (n > 0 && (size_t)n < sizeof(path) - 1) {
		path[n] = 0;
		if (asprintf(&tz, ":%s", path) < 0)
			tz = NULL;
	}
	(void)setenv("TZ", tz ? tz : ":", 1); /* ":" is UTC, no zone file (util/host.h) */
	tzset();
}

int cmd_reboot_manager(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	_cleanup_close_ int root_fd = -1, lock_fd = -1;
	struct rm m = { .ctx = ctx, .root_fd = -1, .coord_fd = -1 };
	int r;

	r = args_init(&a, argc, argv, rm_opts, "[OPTIONS] [run|check-window|send-need-reboot]", ctx,
		      0);
	if (r < 0)
		return r;
	m.a = &a;
	while ((r = args_next(&a)) > 0) {
		switch (r) {
		case OPT_DRY_RUN:
			m.dry_run = true;
			break;
		case OPT_ONCE:
			m.once = true;
			break;
		case OPT_ENDPOINTS:
		case OPT_ENDPOINT:
			r = lock_endpoints_add(&m.eps, &m.n_eps, a.optarg);
			if (r < 0)
				goto done;
			break;
		case OPT_BUS: {
			enum bus_kind k;
			const char *addr;
			if (bus_parse(a.optarg, &k, &addr) < 0) {
				r = args_usage_error(&a, "--bus: '%s' is not system, user, none or an "
							 "address", a.optarg);
				goto done;
			}
			m.flag[r - ARG_LONG_BASE] = a.optarg;
			break;
		}
		case OPT_API:
			if (strcmp(a.optarg, "v3") != 0 && strcmp(a.optarg, "v2") != 0) {
				r = args_usage_error(&a, "--etcd-api: '%s' is not v3 or v2", a.optarg);
				goto done;
			}
			m.flag[r - ARG_LONG_BASE] = a.optarg;
			break;
		default:
			m.flag[r - ARG_LONG_BASE] = a.optarg;
		}
	}
	if (r < 0 || a.exit_now)
		goto done;
	root_fd = fs_root_open(ctx->root);
	if (root_fd < 0) {
		r = log_error_errno(root_fd, "opening root '%s'", ctx->root);
		goto done;
	}
	m.root_fd = root_fd;
	setup_tz(ctx, root_fd);
	const char *verb = args_rest_count(&a) ? args_rest(&a)[0] : "run";
	if (strcmp(verb, "send-need-reboot") == 0) {
		r = args_dispatch_verb(&a, rm_verbs, "run", args_rest_count(&a), args_rest(&a), &m);
		goto done;
	}
	r = load_config(&m);
	if (r < 0)
		goto done;
	if (strcmp(verb, "run") == 0) {
		if (args_rest_count(&a) > 1) {
			r = args_usage_error(&a, "too many arguments for 'run'");
			goto done;
		}
		r = lock_read_machine_id(root_fd, &m.id);
		if (r < 0) {
			r = log_fail(r == -ENOENT ? -ENOENT : -ENODATA,
				     "reading '/etc/machine-id': %s",
				     r == -ENOENT ? "no such file" : "empty or not a valid id");
			goto done;
		}
		r = fs_mkdir_p(root_fd, "/run/flatctl", 0755);
		if (r >= 0) {
			lock_fd = fs_open(root_fd, "/run/flatctl/reboot-manager.lock", O_RDWR | O_CREAT,
					  0644);
			r = lock_fd;
		}
		if (r < 0) {
			r = log_error_errno(r, "opening '/run/flatctl/reboot-manager.lock'");
			goto done;
		}
		if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
			r = log_fail(-EEXIST, "another reboot manager is running");
			goto done;
		}
		struct sigaction sa = { .sa_handler = on_signal };
		sigemptyset(&sa.sa_mask);
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
	}
	if (strcmp(verb, "run") == 0)
		bus_setup(&m);
	r = args_dispatch_verb(&a, rm_verbs, "run", args_rest_count(&a), args_rest(&a), &m);
done:
	m.watch = sd_bus_slot_unref(m.watch);
	m.bus = sd_bus_flush_close_unref(m.bus);
	free(m.bus_version);
	lock_handle_release(&m.h);
	conf_release(&m.conf);
	lock_endpoints_free(m.eps, m.n_eps);
	free(m.id);
	free(m.new_version);
	return r;
}
