/* SPDX-License-Identifier: MIT */
/* cmd/lock.c - `flatctl lock` and the `locksmithctl` link: the cluster reboot semaphore;
 * spec: docs/reboot-lock.md 6 (backends 2, etcd 3, file 5, errors 9). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "args/args.h"
#include "bus/bus.h"
#include "cmd.h"
#include "etcd/etcd.h"
#include "fs/fs.h"
#include "conf/conf.h"
#include "lock/lock.h"
#include "lock/reboot.h"
#include "lock/settings.h"
#include "lock-opts.h"
#include "log/log.h"

enum {
	OPT_LOCK_FIRST_ = ARG_LONG_BASE - 1,
	LOCK_BACKEND_OPT_IDS,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_RESET,
	OPT_TTL,
};

static const struct flat_option lock_opts[] = {
	LOCK_BACKEND_OPT_ROWS,
	{ "wait", OPT_WAIT, ARG_OPT, "DUR", "lock: block until acquired (at most DUR)" },
	{ "timeout", OPT_TIMEOUT, ARG_REQ, "DUR", "overall deadline of the command (default 30s)" },
	{ "request-timeout", OPT_REQUEST_TIMEOUT, ARG_REQ, "DUR", "one etcd request (default 5s)" },
	{ "ttl", OPT_TTL, ARG_REQ, "DUR", "lock, etcd v3: the lock expires unless renewed (off: 0)" },
	{ "reset", OPT_RESET, ARG_NONE, NULL, "set-max: overwrite a corrupt value" },
	{},
};

struct lock_cmd {
	struct flat_ctx *ctx;
	struct args *a;
	bool classic;             /* invoked as locksmithctl */
	int root_fd;
	struct lock_settings s;
	char **eps;
	size_t n_eps;
	bool eps_given;
	bool wait;
	uint64_t wait_usec;
	uint64_t timeout_usec;
	bool timeout_given;
	bool reset;
	uint64_t ttl_usec;
	bool ttl_given;
	struct conf conf;
	struct lock_handle h;
};

static int usage(struct lock_cmd *c, const char *fmt, ...) _printf_(2, 3);
static int usage(struct lock_cmd *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->a)
		return args_usage_error(c->a, "%s", msg);
	fprintf(stderr, "%s: %s\nTry 'locksmithctl help'.\n", log_get_prefix(), msg);
	return -EINVAL;
}

static int parse_dur(struct lock_cmd *c, const char *opt, const char *v, uint64_t *ret)
{
	if (lock_parse_duration(v, ret) < 0) {
		char buf[300];
		snprintf(buf, sizeof(buf), "%s: '%s' is not a duration (like 500ms, 90s, 5m, 1h30m)",
			 opt, v);
		return usage(c, "%s", buf);
	}
	return 0;
}

/* One option, from either surface. */
static int apply_opt(struct lock_cmd *c, int id, const char *v)
{
	switch (id) {
	case OPT_BACKEND:
		if (strcmp(v, "etcd") != 0 && strcmp(v, "file") != 0)
			return usage(c, "--backend: '%s' is not etcd or file", v);
		c->s.backend = v;
		return 0;
	case OPT_ENDPOINTS:
	case OPT_ENDPOINT:
		if (c->classic && c->eps_given) {
			/* locksmithctl: a repeat replaces the list */
			lock_endpoints_free(c->eps, c->n_eps);
			c->eps = NULL;
			c->n_eps = 0;
		}
		c->eps_given = true;
		return lock_endpoints_add(&c->eps, &c->n_eps, v);
	case OPT_API:
		if (strcmp(v, "v3") != 0 && strcmp(v, "v2") != 0)
			return usage(c, "--etcd-api: '%s' is not v3 or v2", v);
		c->s.api = v;
		return 0;
	case OPT_CAFILE:
		c->s.cafile = v;
		return 0;
	case OPT_CERTFILE:
		c->s.certfile = v;
		return 0;
	case OPT_KEYFILE:
		c->s.keyfile = v;
		return 0;
	case OPT_USERNAME:
		c->s.username = v;
		return 0;
	case OPT_PASSWORD_FILE:
		c->s.password_file = v;
		return 0;
	case OPT_PASSWORD:
		c->s.password = v;
		return 0;
	case OPT_GROUP:
		if (!lock_group_is_valid(v))
			return usage(c, "--group: '%s' is not valid UTF-8 of at most 255 bytes", v);
		c->s.group = v;
		return 0;
	case OPT_WAIT:
		c->wait = true;
		c->wait_usec = 0;
		if (v && *v) {
			int r = parse_dur(c, "--wait", v, &c->wait_usec);
			if (r < 0)
				return r;
		}
		return 0;
	case OPT_TIMEOUT:
		c->timeout_given = true;
		return parse_dur(c, "--timeout", v, &c->timeout_usec);
	case OPT_REQUEST_TIMEOUT:
		return parse_dur(c, "--request-timeout", v, &c->s.request_timeout_usec);
	case OPT_RESET:
		c->reset = true;
		return 0;
	case OPT_TTL:
		c->ttl_given = true;
		return parse_dur(c, "--ttl", v, &c->ttl_usec);
	}
	return -EINVAL;
}

/* Fallbacks: LOCKSMITHCTL_* environment, then the LOCKSMITHD_* keys of update.conf (7.1). */
static int apply_defaults(struct lock_cmd *c)
{
	static const struct {
		const char *env, *conf;
		int id;
	} map[] = {
		{ "LOCKSMITHCTL_ENDPOINT", "LOCKSMITHD_ENDPOINT", OPT_ENDPOINTS },
		{ "LOCKSMITHCTL_ETCD_CAFILE", "LOCKSMITHD_ETCD_CAFILE", OPT_CAFILE },
		{ "LOCKSMITHCTL_ETCD_CERTFILE", "LOCKSMITHD_ETCD_CERTFILE", OPT_CERTFILE },
		{ "LOCKSMITHCTL_ETCD_KEYFILE", "LOCKSMITHD_ETCD_KEYFILE", OPT_KEYFILE },
		{ "LOCKSMITHCTL_ETCD_USERNAME", "LOCKSMITHD_ETCD_USERNAME", OPT_USERNAME },
		{ "LOCKSMITHCTL_ETCD_PASSWORD", "LOCKSMITHD_ETCD_PASSWORD", OPT_PASSWORD },
		{ "LOCKSMITHCTL_GROUP", "LOCKSMITHD_GROUP", OPT_GROUP },
		{ "REBOOT_LOCK_BACKEND", "REBOOT_LOCK_BACKEND", OPT_BACKEND },
		{ "REBOOT_LOCK_ETCD_API", "REBOOT_LOCK_ETCD_API", OPT_API },
	};
	_cleanup_(problem_list_release) struct problem_list warn = {};
	int r;

	(void)conf_load_update(&c->conf, c->root_fd, &warn);
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		bool given;
		switch (map[i].id) {
		case OPT_ENDPOINTS:
			given = c->eps_given;
			break;
		case OPT_CAFILE:
			given = c->s.cafile;
			break;
		case OPT_CERTFILE:
			given = c->s.certfile;
			break;
		case OPT_KEYFILE:
			given = c->s.keyfile;
			break;
		case OPT_USERNAME:
			given = c->s.username;
			break;
		case OPT_PASSWORD:
			given = c->s.password || c->s.password_file;
			break;
		case OPT_GROUP:
			given = c->s.group;
			break;
		case OPT_BACKEND:
			given = c->s.backend;
			break;
		default:
			given = c->s.api;
			break;
		}
		if (given)
			continue;
		const char *v = getenv(map[i].env);
		if (!v || !*v)
			v = conf_get(&c->conf, map[i].conf);
		if (!v || !*v)
			continue;
		r = apply_opt(c, map[i].id, v);
		if (r < 0)
			return r;
	}
	if (!c->ttl_given) {
		const char *v = getenv("REBOOT_LOCK_TTL");
		if (!v || !*v)
			v = conf_get(&c->conf, "REBOOT_LOCK_TTL");
		if (v && *v && (r = apply_opt(c, OPT_TTL, v)) < 0)
			return r;
		c->ttl_given = false; /* a default, not an explicit flag */
	}
	c->s.endpoints = c->eps;
	c->s.n_endpoints = c->n_eps;
	c->s.locksmith_defaults = c->classic;
	return 0;
}

static int open_backend(struct lock_cmd *c, const char *what)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = lock_settings_open(&c->s, c->root_fd, &c->h, &p);
	if (r < 0) {
		const char *msg = p.n ? p.item[0].message : strerror(-r);
		if (r == -EINVAL)
			return usage(c, "%s", msg);
		if (p.n)
			return log_fail(r, "%s: %s: %s", what, msg, strerror(-r));
		return log_error_errno(r, "%s", what);
	}
	return 0;
}

static const char *where_kind(const struct lock_backend *b)
{
	return strcmp(b->kind, "file") == 0 ? "file" : "etcd key";
}

/* Report a failure of lock_read()/lock_execute() the spec's way (6.1, 9). */
static int report(struct lock_cmd *c, int r, const char *what, struct problem_list *p)
{
	struct lock_backend *b = c->h.b;

	if (r == -EAGAIN)
		return log_fail(r, "%s: cannot reach etcd: %s", what, b->error);
	if (r == -EUCLEAN) {
		char detail[1024] = "";
		size_t l = 0;
		bool syntax = false;
		for (size_t i = 0; i < p->n && l < sizeof(detail) - 1; i++) {
			struct problem *q = &p->item[i];
			if (q->severity != PROBLEM_ERROR)
				continue;
			if (!q->where) {
				syntax = true;
				l += (size_t)snprintf(detail + l, sizeof(detail) - l,
						      "%s%s at line %u, column %u", l ? "; " : "",
						      q->message, q->line, q->column);
			} else
				l += (size_t)snprintf(detail + l, sizeof(detail) - l, "%s%s: %s",
						      l ? "; " : "", *q->where ? q->where : "/",
						      q->message);
		}
		return log_fail(r,
				"%s: invalid semaphore%s in %s %s: %s; the value was left unchanged; "
				"inspect it with %s, or rewrite it with: flatctl lock set-max N --reset",
				what, syntax ? " JSON" : "", where_kind(b), b->where, detail,
				strcmp(b->kind, "file") == 0 ? "cat" : "etcdctl get");
	}
	if (r == -EFBIG && strcmp(b->kind, "etcd") == 0)
		return log_fail(r,
				"%s: semaphore in etcd key %s is too large: %s; the value was left "
				"unchanged; inspect it with etcdctl get, or remove it with etcdctl del",
				what, b->where, b->error);
	if (r == -ENOPROTOOPT)
		return log_fail(r, "%s: etcd at %s", what, b->error);
	if (r == -EKEYREJECTED)
		return log_fail(r, "%s: etcd authentication as '%s' failed: %s", what,
				c->s.username ? c->s.username : "", b->error);
	if (r == -EPROTO && strncmp(b->error, "https://", 8) == 0)
		return log_fail(r, "%s: TLS with etcd failed: %s", what, b->error);
	if (r == -EACCES)
		return log_fail(r, "%s: permission denied on %s: %s", what, b->where, b->error);
	if (b->error[0])
		return log_fail(r, "%s: %s", what, b->error);
	return log_error_errno(r, "%s", what);
}

static void show_warnings(const struct problem_list *p, bool status)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->item[i].severity == PROBLEM_ERROR)
			continue;
		if (p->item[i].where && strcmp(p->item[i].where, "reaped") == 0) {
			log_notice("%s", p->item[i].message);
			continue;
		}
		bool loud = status && p->item[i].where && strcmp(p->item[i].where, "/semaphore") == 0;
		log_full(loud ? LOG_WARNING : LOG_INFO, 0, "warning: stored value %s: %s",
			 p->item[i].where ? p->item[i].where : "", p->item[i].message);
	}
}

static void debug_round_trips(struct lock_cmd *c)
{
	if (c->h.etcd)
		log_debug("etcd round trips: %u", etcd_client_round_trips(c->h.etcd));
}

/* 3.1: v2 and v3 are separate stores. In v3 mode, look at the v2 key too (when the server
 * serves v2) and warn if real locksmith machines hold a lock there. */
static void v2_holders_warning(struct lock_cmd *c, struct problem_list *p)
{
	_cleanup_free_ char *v = NULL;
	uint64_t idx;
	struct lock_sem s;

	if (!c->h.etcd || !c->h.b->api || strcmp(c->h.b->api, "v3") != 0)
		return;
	if (etcd_v2_get(c->h.etcd, c->h.b->where, &v, &idx) < 0)
		return;
	if (lock_sem_parse(v, strlen(v), &s, NULL) < 0)
		return;
	if (s.n_holders > 0) {
		(void)problem_warn(p, "v2",
				   "the v2 semaphore at the same path (real locksmith) has %zu "
				   "holder(s); v2 and v3 are separate, so both groups may reboot at once",
				   s.n_holders);
		log_warning("warning: %s", problem_last(p)->message);
	}
	lock_sem_release(&s);
}

static int verb_status(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *raw = NULL;
	struct lock_sem s = {};
	uint64_t rev = 0;
	int r;
	if (((struct lock_cmd *)userdata)->ttl_given)
		return usage(userdata, "--ttl only applies to 'lock'");

	r = open_backend(c, "status");
	if (r < 0)
		return r;
	r = lock_read(c->h.b, c->timeout_usec, &s, &raw, &rev, &p);
	debug_round_trips(c);
	if (r < 0) {
		if (c->classic && r == -EUCLEAN)
			fprintf(stderr, "Error setting value: semaphore value is not valid\n");
		return report(c, r, "status", &p);
	}
	show_warnings(&p, true);
	v2_holders_warning(c, &p);
	if (c->ctx->json) {
		json_auto_t *o = json_object(), *h = json_array(), *w = json_array();
		if (!o || !h || !w)
			goto oom;
		for (size_t i = 0; i < s.n_holders; i++)
			json_array_append_new(h, json_string(s.holders[i]));
		for (size_t i = 0; i < p.n; i++)
			json_array_append_new(w, json_string(p.item[i].message));
		json_object_set_new(o, "backend", json_string(c->h.b->kind));
		if (c->h.b->api)
			json_object_set_new(o, "api", json_string(c->h.b->api));
		json_object_set_new(o, "group", json_string(c->s.group ? c->s.group : ""));
		if (strcmp(c->h.b->kind, "file") == 0)
			json_object_set_new(o, "path", json_string(c->h.b->where));
		else {
			json_object_set_new(o, "key", json_string(c->h.b->where));
			json_object_set_new(o, "revision", json_integer((json_int_t)rev));
		}
		json_object_set_new(o, "semaphore", json_integer(s.semaphore));
		json_object_set_new(o, "max", json_integer(s.max));
		json_object_set_new(o, "available", json_integer(s.max - (long long)s.n_holders));
		json_object_set(o, "holders", h);
		json_t *ttl = NULL, *stale = NULL;
		if (lock_backend_ttl_info(c->h.b, &s, &ttl, &stale) < 0)
			goto oom;
		json_object_set_new(o, "ttl", ttl);
		json_object_set_new(o, "stale", stale);
		json_object_set(o, "warnings", w);
		if (json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
			goto oom;
		putchar('\n');
	} else {
		printf("Available: %lld\nMax: %lld\n", s.semaphore, s.max);
		if (s.n_holders) {
			printf("\nMACHINE ID\n");
			for (size_t i = 0; i < s.n_holders; i++)
				printf("%s\n", s.holders[i]);
		}
	}
	lock_sem_release(&s);
	return 0;
oom:
	lock_sem_release(&s);
	return log_error_errno(-ENOMEM, "status");
}

static int get_id(struct lock_cmd *c, int argc, char **argv, char **ret)
{
	if (argc > 1) {
		if (!lock_id_is_valid(argv[1]))
			return usage(c, "invalid id '%s' (1-255 printable ASCII characters, no spaces)",
				     argv[1]);
		*ret = strdup(argv[1]);
		return *ret ? 0 : -ENOMEM;
	}
	int r = lock_read_machine_id(c->root_fd, ret);
	if (r == -ENODATA || r == -EBADMSG)
		return log_fail(-ENODATA, "reading '/etc/machine-id': %s",
				r == -ENODATA ? "empty" : "not a valid id");
	if (r < 0)
		return log_error_errno(r, "reading '/etc/machine-id'");
	return 0;
}

static int run(struct lock_cmd *c, struct lock_request *req, const char *what,
	       struct lock_outcome *out)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = lock_execute(c->h.b, req, out, &p);
	debug_round_trips(c);
	show_warnings(&p, false);
	if (r < 0 && r != -EBUSY)
		return report(c, r, what, &p);
	return r;
}

static int verb_lock(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	_cleanup_free_ char *id = NULL;
	struct lock_outcome out = {};
	char what[300];
	int r;

	r = get_id(c, argc, argv, &id);
	if (r < 0)
		return r;
	r = open_backend(c, "lock");
	if (r < 0)
		return r;
	if (c->ttl_usec && (strcmp(c->h.b->kind, "etcd") != 0 || strcmp(c->h.b->api, "v3") != 0))
		return usage(c, "--ttl needs the etcd v3 backend (not %s%s%s)", c->h.b->kind,
			     c->h.b->api ? " " : "", c->h.b->api ? c->h.b->api : "");
	snprintf(what, sizeof(what), "lock %s", id);
	struct lock_request req = {
		.ttl_usec = c->ttl_usec,
		.op = LOCK_OP_LOCK,
		.id = id,
		.wait = c->wait,
		.timeout_usec = c->wait ? (c->wait_usec ? c->wait_usec : 0) : c->timeout_usec,
	};
	r = run(c, &req, what, &out);
	if (r == -EBUSY) {
		if (c->classic)
			fprintf(stderr, "Error locking: semaphore is at %lld\n", out.before.semaphore);
		else
			log_fail(r, "%s: semaphore %s is full (%zu of %lld held)%s", what,
				 c->h.b->where, out.before.n_holders, out.before.max,
				 c->wait ? "; gave up waiting" : "");
	} else if (r >= 0 && out.decision == LOCK_ALREADY_HELD && !out.uncertain)
		log_notice("%s: already held", what);
	lock_outcome_release(&out);
	return r < 0 ? r : 0;
}

static int verb_unlock(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	_cleanup_free_ char *id = NULL;
	struct lock_outcome out = {};
	char what[300];
	int r;
	if (((struct lock_cmd *)userdata)->ttl_given)
		return usage(userdata, "--ttl only applies to 'lock'");

	r = get_id(c, argc, argv, &id);
	if (r < 0)
		return r;
	r = open_backend(c, "unlock");
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "unlock %s", id);
	struct lock_request req = { .op = LOCK_OP_UNLOCK, .id = id, .timeout_usec = c->timeout_usec };
	r = run(c, &req, what, &out);
	if (r >= 0 && out.decision == LOCK_NOT_HOLDER && !out.uncertain) {
		if (c->classic)
			fprintf(stderr, "Error unlocking: holder does not exist\n");
		else {
			char hs[2048] = "";
			size_t l = 0;
			for (size_t i = 0; i < out.before.n_holders && l < sizeof(hs) - 1; i++)
				l += (size_t)snprintf(hs + l, sizeof(hs) - l, "%s%s", i ? ", " : "",
						      out.before.holders[i]);
			log_fail(3, "%s: not a holder of %s (holders: %s)", what, c->h.b->where,
				 l ? hs : "none");
		}
		r = 3;
	}
	lock_outcome_release(&out);
	return r < 0 ? r : r == 3 ? 3 : 0;
}

static int verb_set_max(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	struct lock_outcome out = {};
	unsigned long long n;
	char what[64];
	int r;
	if (((struct lock_cmd *)userdata)->ttl_given)
		return usage(userdata, "--ttl only applies to 'lock'");

	if (c->a)
		r = args_parse_uint(c->a, "set-max", argv[1], 1000000, &n);
	else {
		char *end;
		n = strtoull(argv[1], &end, 10);
		r = *argv[1] < '0' || *argv[1] > '9' || *end || n > 1000000
			    ? usage(c, "set-max: '%s' is not a number in 0..1000000", argv[1])
			    : 0;
	}
	if (r < 0)
		return r;
	r = open_backend(c, "set-max");
	if (r < 0)
		return r;
	snprintf(what, sizeof(what), "set-max %llu", n);
	struct lock_request req = { .op = LOCK_OP_SET_MAX,
				    .max = (long long)n,
				    .reset = c->reset,
				    .timeout_usec = c->timeout_usec };
	r = run(c, &req, what, &out);
	if (r >= 0) {
		if (out.raw) {
			/* the corrupt value is whatever was in etcd or the file: escaped */
			(void)flat_print_line(stderr, "%s: replaced corrupt value of %s %s: %s",
					      log_get_prefix(), where_kind(c->h.b), c->h.b->where,
					      out.raw);
			printf("Old-Max: invalid\nMax: %llu\n", n);
		} else
			printf("Old-Max: %lld\nMax: %llu\n", out.before.max, n);
		if ((long long)out.after.n_holders > (long long)n)
			log_warning("%zu machines hold the lock, more than the new max %llu; nobody "
				    "new gets it until %llu have released",
				    out.after.n_holders, n,
				    (unsigned long long)out.after.n_holders - n + 1);
	}
	lock_outcome_release(&out);
	return r < 0 ? r : 0;
}

/* send-need-reboot (reboot-lock.md 7.2): the trigger file, and StatusUpdate on the system bus
 * as locksmithctl sends it. Under --root only when $DBUS_SYSTEM_BUS_ADDRESS names a bus (a test
 * or chroot), so that a test never tells the host's reboot manager to reboot. */
static int verb_send_need_reboot(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	if (!c->ctx->root_given || getenv("DBUS_SYSTEM_BUS_ADDRESS")) {
		if (bus_open(BUS_SYSTEM, NULL, &bus) < 0)
			bus = NULL;
	}
	int r = lock_send_need_reboot(c->root_fd, bus);
	if (r == -ENOTCONN)
		log_warning("warning: send-need-reboot: StatusUpdate not sent on the bus; "
			    "'/run/flatctl/reboot-needed' was created");
	else if (r < 0)
		return log_error_errno(r, "send-need-reboot: creating '/run/flatctl/reboot-needed'");
	return 0;
}

/* locksmithctl reboot: take the lock for this machine, then ask logind to reboot (7.7). */
static int verb_reboot(int argc, char **argv, void *userdata)
{
	struct lock_cmd *c = userdata;
	char *fake[] = { (char *)"lock", NULL };
	char why[512];
	int r;

	if (geteuid() != 0)
		return log_fail(-EPERM, "reboot: must be root");
	r = verb_lock(1, fake, c);
	if (r < 0)
		return r;
	r = lock_logind_reboot(why, sizeof(why));
	if (r >= 0)
		return 0;
	log_fail(r, "reboot: asking logind to reboot: %s; releasing the lock", why);
	fake[0] = (char *)"unlock";
	(void)verb_unlock(1, fake, c);
	return -EIO;
}

static const char classic_help[] =
	"Usage: locksmithctl [FLAGS] COMMAND [ARGS]\n"
	"Manage the cluster reboot lock (flatctl lock under its classic name).\n\n"
	"Commands:\n"
	"  status              show the semaphore\n"
	"  lock [ID]           take the lock for ID (default: this machine)\n"
	"  unlock [ID]         release the lock of ID (default: this machine)\n"
	"  set-max N           allow N holders at once\n"
	"  reboot              take the lock for this machine, then reboot through logind\n"
	"  send-need-reboot    tell the reboot manager a reboot is needed\n"
	"  help [COMMAND]      show this help\n\n"
	"Flags (one or two dashes, -flag=value or -flag value):\n"
	"  -endpoint URL[,URL]   etcd endpoints (default http://127.0.0.1:2379,http://127.0.0.1:4001)\n"
	"  -etcd-cafile FILE     -etcd-certfile FILE   -etcd-keyfile FILE\n"
	"  -etcd-username USER   -etcd-password PASS   -group GROUP\n"
	"  -debug                -version\n"
	"  --backend etcd|file   --etcd-api v3|v2      --json   --root DIR\n"
	"Every flag can come from LOCKSMITHCTL_<FLAG> in the environment.\n"
	"See flatctl-lock(1).\n";

static int verb_help(int argc, char **argv, void *userdata)
{
	fputs(classic_help, stdout);
	return 0;
}

static const struct flat_verb verbs[] = {
	{ "status", 0, 0, verb_status },
	{ "lock", 0, 1, verb_lock },
	{ "unlock", 0, 1, verb_unlock },
	{ "set-max", 1, 1, verb_set_max },
	{},
};

static const struct flat_verb classic_verbs[] = {
	{ "status", 0, 0, verb_status },
	{ "lock", 0, 1, verb_lock },
	{ "unlock", 0, 1, verb_unlock },
	{ "set-max", 1, 1, verb_set_max },
	{ "send-need-reboot", 0, 0, verb_send_need_reboot },
	{ "reboot", 0, 0, verb_reboot },
	{ "help", 0, 1, verb_help },
	{},
};

/* locksmithctl's Go flag surface (6.2): flags before the command, one or two dashes. */
static int parse_classic(struct lock_cmd *c, int argc, char **argv, int *ret_ind)
{
	static const struct {
		const char *name;
		int id;
	} map[] = {
		{ "endpoint", OPT_ENDPOINT },	   { "endpoints", OPT_ENDPOINTS },
		{ "etcd-cafile", OPT_CAFILE },	   { "etcd-certfile", OPT_CERTFILE },
		{ "etcd-keyfile", OPT_KEYFILE },   { "etcd-username", OPT_USERNAME },
		{ "etcd-password", OPT_PASSWORD }, { "etcd-password-file", OPT_PASSWORD_FILE },
		{ "group", OPT_GROUP },		   { "backend", OPT_BACKEND },
		{ "etcd-api", OPT_API },	   { "timeout", OPT_TIMEOUT },
		{ "ttl", OPT_TTL },
		{ "request-timeout", OPT_REQUEST_TIMEOUT },
	};
	int i = 1;

	for (; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *val = NULL;
		if (a[0] != '-' || !a[1])
			break;
		a++;
		if (*a == '-')
			a++;
		if (!*a) {
			i++;
			break;
		}
		size_t nl = strcspn(a, "=");
		if (nl >= sizeof(name))
			return usage(c, "flag provided but not defined: -%s", a);
		memcpy(name, a, nl);
		name[nl] = 0;
		if (a[nl] == '=')
			val = a + nl + 1;
		if (strcmp(name, "debug") == 0 || strcmp(name, "version") == 0 ||
		    strcmp(name, "json") == 0 || strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
			bool on = !val || strcasecmp(val, "true") == 0 || strcmp(val, "1") == 0;
			if (!on)
				continue;
			if (name[0] == 'd') {
				c->ctx->verbosity = 2;
				log_set_max_level(LOG_DEBUG);
			} else if (name[0] == 'v') {
				printf("locksmithctl version %s (flatctl)\n", flatctl_version());
				return 0;
			} else if (name[0] == 'j')
				c->ctx->json = true;
			else {
				fputs(classic_help, stdout);
				return 0;
			}
			continue;
		}
		int id = 0;
		for (size_t k = 0; k < ARRAY_SIZE(map); k++)
			if (strcmp(map[k].name, name) == 0)
				id = map[k].id;
		if (!id && strcmp(name, "root") != 0)
			return usage(c, "flag provided but not defined: -%s", name);
		if (!val) {
			if (i + 1 >= argc)
				return usage(c, "flag needs an argument: -%s", name);
			val = argv[++i];
		}
		if (!id) {
			(void)args_apply_global(c->ctx, ARG_GLOBAL_ROOT, val);
			continue;
		}
		int r = apply_opt(c, id, val);
		if (r < 0)
			return r;
	}
	*ret_ind = i;
	return 1;
}

int cmd_lock(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	_cleanup_close_ int root_fd = -1;
	struct lock_cmd c = { .ctx = ctx, .timeout_usec = 30000000, .root_fd = -1 };
	int r, ind = 0;
	char **rest;
	int nrest;

	c.classic = ctx->invoked_as && strcmp(ctx->invoked_as, "locksmithctl") == 0;
	if (c.classic) {
		log_set_prefix("locksmithctl");
		r = parse_classic(&c, argc, argv, &ind);
		if (r <= 0)
			goto done;
		rest = argv + ind;
		nrest = argc - ind;
	} else {
		r = args_init(&a, argc, argv, lock_opts, "[OPTIONS] status|lock [ID]|unlock [ID]|set-max N",
			      ctx, 0);
		if (r < 0)
			return r;
		c.a = &a;
		while ((r = args_next(&a)) > 0) {
			r = apply_opt(&c, r, a.optarg);
			if (r < 0)
				goto done;
		}
		if (r < 0 || a.exit_now)
			goto done;
		rest = args_rest(&a);
		nrest = args_rest_count(&a);
	}
	root_fd = fs_root_open(ctx->root);
	if (root_fd < 0) {
		r = log_error_errno(root_fd, "opening root '%s'", ctx->root);
		goto done;
	}
	c.root_fd = root_fd;
	r = apply_defaults(&c);
	if (r < 0)
		goto done;
	if (c.classic) {
		if (nrest == 0) {
			fputs(classic_help, stderr);
			r = -EINVAL;
			goto done;
		}
		for (const struct flat_verb *v = classic_verbs; v->name; v++)
			if (strcmp(v->name, rest[0]) == 0) {
				if (nrest - 1 < v->min_args || nrest - 1 > v->max_args) {
					r = usage(&c, "wrong number of arguments for '%s'", rest[0]);
					goto done;
				}
				r = v->fn(nrest, rest, &c);
				goto done;
			}
		r = usage(&c, "unknown command '%s'", rest[0]);
		goto done;
	}
	r = args_dispatch_verb(&a, verbs, NULL, nrest, rest, &c);
done:
	lock_handle_release(&c.h);
	conf_release(&c.conf);
	lock_endpoints_free(c.eps, c.n_eps);
	/* Under its classic name the link keeps locksmithctl's exit codes (docs/cli.md, exit
	 * status): 0, 2 for usage, 1 for every other failure, so a full semaphore, an unreachable
	 * etcd and an unlock by a non-holder exit 1 rather than 75 or 3. */
	if (c.classic && (r == 3 || (r < 0 && flat_exit_status(r) != 2)))
		return -EIO;
	return r;
}
