/* SPDX-License-Identifier: MIT */
/* lib/diag/status.c - the facts of `flatctl status` (docs/diag.md §2).
 *
 * Every fact is read once, into the JSON document and the text lines at the same time; a fact
 * that cannot be read becomes null in the document with its reason under "unknown", and
 * "unknown (reason)" on screen. Reads are local and read-only; the only network access is the
 * etcd lock query, bounded by one budget. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "util/buf.h"
#include "diag/redact.h"
#include "diag/status.h"
#include "diag/units.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "lock/lock.h"
#include "lock/settings.h"
#include "update/client.h"
#include "update/state.h"
#include "util/escape.h"
#include "util/problem.h"

#define COL "%-15s"

struct st {
	const struct diag_status_opts *o;
	json_t *doc, *unknown;
	struct dbuf text;
	struct dbuf denied; /* what permission hid, for the last line */
	struct conf upd;
	bool upd_ok;
	char *disk;
};

const char *diag_time_rfc3339(uint64_t sec, char *buf, size_t size)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%" PRIu64, sec);
	return buf;
}

static const char *time_text(uint64_t sec, char *buf, size_t size)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, size, "%" PRIu64, sec);
	return buf;
}

static void line(struct st *s, const char *label, const char *fmt, ...) _printf_(3, 4);
static void line(struct st *s, const char *label, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	_cleanup_free_ char *e = str_escape(buf);
	dbuf_printf(&s->text, COL "%s\n", label, e ? e : "?");
}

static const char *why_errno(int r)
{
	switch (-r) {
	case EACCES:
	case EPERM:
		return "permission denied";
	case ENOENT:
		return "not present";
	default:
		return strerror(-r);
	}
}

/* Record a reason for a null key; "permission denied" also goes to the last line. */
static void unknown(struct st *s, const char *key, const char *fmt, ...) _printf_(3, 4);
static void unknown(struct st *s, const char *key, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_set_new(s->unknown, key, json_string(buf));
	if (strstr(buf, "permission denied"))
		dbuf_printf(&s->denied, "%s%s", s->denied.n ? ", " : "", key);
}

static json_t *str_or_null(const char *v)
{
	return v ? json_string(v) : json_null();
}

/* ---- OS and host ---- */

static void collect_os(struct st *s, char *host, size_t hsize)
{
	_cleanup_(conf_release) struct conf os = {}, rel = { .syntax = CONF_SIMPLE };
	int ro = conf_load_os_release(&os, s->o->root_fd, NULL);
	int rr = conf_load(&rel, s->o->root_fd, "/usr/share/flatcar/release", NULL);
	const char *name = ro >= 0 ? conf_get(&os, "NAME") : NULL;
	const char *version = rr >= 0 ? conf_get(&rel, "FLATCAR_RELEASE_VERSION") : NULL;
	const char *board = rr >= 0 ? conf_get(&rel, "FLATCAR_RELEASE_BOARD") : NULL;
	const char *channel = NULL;

	if (!version && ro >= 0)
		version = conf_get(&os, "VERSION");
	if (s->upd_ok)
		channel = conf_get(&s->upd, "GROUP") ? conf_get(&s->upd, "GROUP") : "stable";
	json_t *o = json_pack("{s:o,s:o,s:o,s:o}", "name", str_or_null(name), "version",
			      str_or_null(version), "board", str_or_null(board), "channel",
			      str_or_null(channel));
	if (rr >= 0 && conf_get(&rel, "FLATCAR_RELEASE_APPID"))
		json_object_set_new(o, "appid", json_string(conf_get(&rel, "FLATCAR_RELEASE_APPID")));
	if (ro >= 0 && conf_get(&os, "ID"))
		json_object_set_new(o, "id", json_string(conf_get(&os, "ID")));
	json_object_set_new(s->doc, "os", o);
	if (!name && !version)
		unknown(s, "os", "etc/os-release: %s, usr/share/flatcar/release: %s",
			why_errno(ro), why_errno(rr));
	else if (!channel)
		unknown(s, "os", "update.conf unreadable: channel unknown");

	/* host */
	_cleanup_free_ char *h = NULL;
	size_t n;
	host[0] = 0;
	if (fs_read_file(s->o->root_fd, "/etc/hostname", 4096, &h, &n) >= 0) {
		h[strcspn(h, "\r\n")] = 0;
		snprintf(host, hsize, "%s", h);
	}
	if (!host[0] && s->o->root_is_slash) {
		struct utsname u;
		if (uname(&u) == 0)
			snprintf(host, hsize, "%s", u.nodename);
	}
	json_object_set_new(s->doc, "host", host[0] ? json_string(host) : json_null());
	if (!host[0])
		unknown(s, "host", "no etc/hostname");

	char first[512];
	if (name || version)
		snprintf(first, sizeof(first), "%s %s (%s, %s)", name ? name : "Flatcar",
			 version ? version : "unknown version", channel ? channel : "channel unknown",
			 board ? board : "board unknown");
	else
		snprintf(first, sizeof(first), "OS unknown (%s)",
			 json_string_value(json_object_get(s->unknown, "os")));
	_cleanup_free_ char *ef = str_escape(first), *eh = str_escape(host[0] ? host : "unknown");
	dbuf_printf(&s->text, "%-56s  host %s\n", ef ? ef : "?", eh ? eh : "?");
}

/* ---- partitions ---- */

static void usr_desc(const struct gpt *g, int nr, char *buf, size_t size)
{
	char name[GPT_LABEL_MAX];
	const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)nr);
	unsigned t = gpt_entry_tries(e);
	if (gpt_entry_is_successful(e))
		snprintf(buf, size, "%s (partition %d), successful", gpt_entry_name(g, (unsigned)nr, name),
			 nr);
	else
		snprintf(buf, size, "%s (partition %d), not yet successful, %u %s left",
			 gpt_entry_name(g, (unsigned)nr, name), nr, t, t == 1 ? "try" : "tries");
}

static void collect_partitions(struct st *s)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_free_ char *found = NULL;
	const char *path = s->o->disk;
	int r = 0;
	char why[300] = "";

	if (!path) {
		r = gpt_find_disk(&p, &found);
		if (r == -ENOTUNIQ)
			snprintf(why, sizeof(why), "several disks carry USR-A; use --disk");
		else if (r < 0)
			snprintf(why, sizeof(why), "no disk with a USR-A partition found");
		path = found;
	}
	if (r >= 0) {
		r = gpt_disk_open(path, 0, &d, &p);
		if (r < 0)
			snprintf(why, sizeof(why), "%s: %s", path,
				 r == -EACCES || r == -EPERM ? "permission denied"
				 : r == -EBADMSG	       ? "both GPT copies are damaged"
				 : r == -ENOMSG		       ? "no GPT"
							       : strerror(-r));
	}
	if (r < 0) {
		json_object_set_new(s->doc, "partitions", json_null());
		unknown(s, "partitions", "%s", why);
		line(s, "Booted:", "unknown (%s)", why);
		line(s, "Next boot:", "unknown");
		line(s, "GPT:", "unknown");
		return;
	}
	s->disk = strdup(d->path);
	const struct gpt *g = d->gpt;
	unsigned nrs[8];
	unsigned n = gpt_usr_entries(g, nrs, 8);
	bool inferred = false;
	int booted = gpt_find_booted(s->o->root_fd, s->o->root_is_slash, d, &inferred);
	int next = gpt_next_boot(g);
	char name[GPT_LABEL_MAX], buf[256];

	json_t *usr = json_array();
	for (unsigned i = 0; i < n && i < 8; i++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nrs[i]);
		gpt_entry_label(e, name);
		json_array_append_new(usr, json_pack("{s:s,s:I,s:I,s:I,s:b}", "label", name, "number",
						     (json_int_t)nrs[i], "priority",
						     (json_int_t)gpt_entry_priority(e), "tries",
						     (json_int_t)gpt_entry_tries(e), "successful",
						     gpt_entry_is_successful(e)));
	}
	bool ok = g->primary.state == GPT_COPY_OK && g->backup.state == GPT_COPY_OK;
	char gpt_state[256];
	if (ok)
		snprintf(gpt_state, sizeof(gpt_state), "ok");
	else
		snprintf(gpt_state, sizeof(gpt_state), "%s%s%s%s%s",
			 g->primary.state != GPT_COPY_OK ? "primary " : "",
			 g->primary.state != GPT_COPY_OK ? gpt_copy_state_to_string(g->primary.state) : "",
			 g->primary.state != GPT_COPY_OK && g->backup.state != GPT_COPY_OK ? ", " : "",
			 g->backup.state != GPT_COPY_OK ? "backup " : "",
			 g->backup.state != GPT_COPY_OK ? gpt_copy_state_to_string(g->backup.state) : "");
	json_t *pj = json_pack("{s:s,s:s,s:o,s:o,s:o}", "disk", d->path, "gpt", gpt_state, "booted",
			       booted > 0 ? json_string(gpt_entry_name(g, (unsigned)booted, name))
					  : json_null(),
			       "next",
			       next > 0 ? json_string(gpt_entry_name(g, (unsigned)next, name))
					: json_null(),
			       "usr", usr);
	if (booted > 0 && inferred)
		json_object_set_new(pj, "booted_inferred", json_true());
	json_object_set_new(s->doc, "partitions", pj);

	if (booted > 0) {
		usr_desc(g, booted, buf, sizeof(buf));
		line(s, "Booted:", "%s%s", buf, inferred ? " (inferred from the attributes)" : "");
	} else {
		unknown(s, "partitions.booted", "the kernel command line names no USR partition");
		line(s, "Booted:", "unknown (no usr= on the kernel command line)");
	}
	if (next <= 0)
		line(s, "Next boot:", "none (no USR partition qualifies)");
	else {
		const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)next);
		unsigned t = gpt_entry_tries(e);
		gpt_entry_name(g, (unsigned)next, name);
		if (!gpt_entry_is_successful(e) && t > 0) {
			int other = gpt_other_usr(g, (unsigned)next);
			char oname[GPT_LABEL_MAX];
			line(s, "Next boot:", "%s (%u %s left, then %s)", name, t,
			     t == 1 ? "try" : "tries",
			     other > 0 ? gpt_entry_name(g, (unsigned)other, oname) : "none");
		} else
			line(s, "Next boot:", "%s", name);
	}
	int ref = booted > 0 ? booted : next;
	int other = ref > 0 ? gpt_other_usr(g, (unsigned)ref) : -ENOENT;
	if (other > 0) {
		const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)other);
		bool installed = gpt_entry_priority(e) > 0 || gpt_entry_is_successful(e) ||
				 gpt_entry_tries(e) > 0;
		line(s, "Other:", "%s priority %u, %s%s", gpt_entry_name(g, (unsigned)other, name),
		     gpt_entry_priority(e),
		     gpt_entry_is_successful(e) ? "successful" : "not successful",
		     installed ? " (rollback possible)" : " (holds no installed version)");
	}
	if (ok)
		line(s, "GPT:", "ok (%s, %" PRIu32 "-byte sectors)", d->path, g->sector_size);
	else
		line(s, "GPT:", "%s (%s); run 'flatctl partition repair'", gpt_state, d->path);
}

/* ---- update ---- */

static void collect_update(struct st *s)
{
	_cleanup_(update_state_freep) struct update_state *us = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	char t[64], t2[64];
	const char *server = "public";
	_cleanup_free_ char *server_red = NULL;

	if (s->upd_ok) {
		const char *srv = conf_get(&s->upd, "SERVER");
		if (srv && *srv && strcmp(srv, UPDATE_DEFAULT_SERVER) != 0) {
			struct diag_redact rs = {};
			struct dbuf b = {};
			diag_redact_line(&rs, srv, strlen(srv), &b);
			server = server_red = dbuf_take(&b, NULL);
			if (!server)
				server = "?";
		}
	}
	int r = update_state_load(s->o->root_fd, 0, &us, NULL, &p);
	if (r < 0) {
		json_object_set_new(s->doc, "update",
				    json_pack("{s:n,s:n,s:n,s:s,s:n,s:n}", "status", "last_check",
					      "new_version", "server", server, "reboot_needed",
					      "last_error"));
		unknown(s, "update", "var/lib/flatctl/update/state.json: %s", why_errno(r));
		line(s, "Update:", "unknown (state.json: %s), server %s", why_errno(r), server);
		return;
	}
	enum update_status st = update_state_status(us);
	uint64_t last = update_state_last_checked(us);
	struct update_staged staged;
	bool have_staged = update_state_get_staged(us, &staged);
	struct update_error err;
	bool have_err = update_state_get_last_error(us, &err);
	bool reboot = st == UPDATE_STATUS_UPDATED_NEED_REBOOT ||
		      fs_exists(s->o->root_fd, UPDATE_REBOOT_MARKER) > 0;
	const char *newv = have_staged ? staged.version : NULL;

	json_t *u = json_pack("{s:s,s:o,s:o,s:s,s:b}", "status", update_status_to_string(st),
			      "last_check",
			      last ? json_string(diag_time_rfc3339(last, t, sizeof(t))) : json_null(),
			      "new_version", str_or_null(newv), "server", server, "reboot_needed",
			      reboot);
	json_object_set_new(u, "last_error",
			    have_err ? json_pack("{s:i,s:s?,s:s?}", "code", err.code, "name", err.name,
						 "message", err.message)
				     : json_null());
	json_object_set_new(s->doc, "update", u);

	char shortname[64];
	snprintf(shortname, sizeof(shortname), "%s", update_status_short_name(st));
	for (char *c = shortname; *c; c++)
		*c = *c == '_' ? ' ' : (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	if (reboot && newv)
		line(s, "Update:", "updated to %s, reboot needed%s%s", newv,
		     last ? ", last check " : "", last ? time_text(last, t2, sizeof(t2)) : "");
	else
		line(s, "Update:", "%s, last check %s, server %s", shortname,
		     last ? time_text(last, t2, sizeof(t2)) : "never", server);
	if (have_err)
		line(s, "Last error:", "%s (%d): %s", err.name ? err.name : "Error", err.code,
		     err.message ? err.message : "");
}

/* ---- reboot strategy, window, lock ---- */

static const char *upd_get(struct st *s, const char *k1, const char *k2)
{
	const char *v = s->upd_ok ? conf_get(&s->upd, k1) : NULL;
	if ((!v || !*v) && k2 && s->upd_ok)
		v = conf_get(&s->upd, k2);
	return v && *v ? v : NULL;
}

static int read_lock(struct st *s, bool etcd, struct lock_sem *sem, char *why, size_t wsize)
{
	struct lock_settings ls = { .group = upd_get(s, "LOCKSMITHD_GROUP", NULL) };
	_cleanup_(lock_handle_release) struct lock_handle h = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *raw = NULL;
	char **eps = NULL;
	size_t n_eps = 0;
	uint64_t rev;
	int r;

	if (etcd) {
		const char *ep = upd_get(s, "LOCKSMITHD_ENDPOINT", NULL);
		if (ep && lock_endpoints_add(&eps, &n_eps, ep) < 0) {
			lock_endpoints_free(eps, n_eps);
			return -ENOMEM;
		}
		ls.backend = "etcd";
		ls.endpoints = eps;
		ls.n_endpoints = n_eps;
		ls.api = upd_get(s, "REBOOT_LOCK_ETCD_API", NULL);
		ls.cafile = upd_get(s, "LOCKSMITHD_ETCD_CAFILE", NULL);
		ls.certfile = upd_get(s, "LOCKSMITHD_ETCD_CERTFILE", NULL);
		ls.keyfile = upd_get(s, "LOCKSMITHD_ETCD_KEYFILE", NULL);
		ls.username = upd_get(s, "LOCKSMITHD_ETCD_USERNAME", NULL);
		ls.password = upd_get(s, "LOCKSMITHD_ETCD_PASSWORD", NULL);
		ls.request_timeout_usec = s->o->lock_budget_usec;
	} else
		ls.backend = "file";
	r = lock_settings_open(&ls, s->o->root_fd, &h, &p);
	lock_endpoints_free(eps, n_eps);
	if (r < 0) {
		snprintf(why, wsize, "%s", p.n ? p.item[0].message : strerror(-r));
		return r;
	}
	r = lock_read(h.b, s->o->lock_budget_usec, sem, &raw, &rev, &p);
	if (r < 0) {
		if (r == -EAGAIN)
			snprintf(why, wsize, "etcd not reachable within %" PRIu64 " ms",
				 s->o->lock_budget_usec / 1000);
		else if (r == -EUCLEAN)
			snprintf(why, wsize, "invalid semaphore in %s", h.b->where);
		else
			snprintf(why, wsize, "%s: %s", h.b->where, why_errno(r));
	}
	return r;
}

static void collect_reboot(struct st *s)
{
	const char *strategy = upd_get(s, "REBOOT_STRATEGY", NULL);
	const char *wstart = upd_get(s, "LOCKSMITHD_REBOOT_WINDOW_START", "REBOOT_WINDOW_START");
	const char *wlen = upd_get(s, "LOCKSMITHD_REBOOT_WINDOW_LENGTH", "REBOOT_WINDOW_LENGTH");
	const char *backend = upd_get(s, "REBOOT_LOCK_BACKEND", NULL);
	char window[128] = "", wtext[160], locktext[300], why[256] = "";
	bool etcd;

	if (!strategy)
		strategy = s->upd_ok ? "reboot" : NULL;
	if (wstart && wlen)
		snprintf(window, sizeof(window), "%s %s", wstart, wlen);
	snprintf(wtext, sizeof(wtext), "%s%s%s", wstart && wlen ? "window " : "no window",
		 wstart && wlen ? wstart : "", "");
	if (wstart && wlen)
		snprintf(wtext, sizeof(wtext), "window %s for %s", wstart, wlen);
	etcd = backend ? strcmp(backend, "etcd") == 0
		       : (strategy && strcmp(strategy, "etcd-lock") == 0) ||
				 upd_get(s, "LOCKSMITHD_ENDPOINT", NULL);

	json_t *lock = json_null();
	if (etcd && s->o->offline) {
		snprintf(why, sizeof(why), "--offline: etcd not asked");
		unknown(s, "reboot.lock", "%s", why);
		snprintf(locktext, sizeof(locktext), "lock unknown (%s)", why);
	} else {
		struct lock_sem sem = {};
		int r = read_lock(s, etcd, &sem, why, sizeof(why));
		if (r < 0) {
			unknown(s, "reboot.lock", "%s", why);
			snprintf(locktext, sizeof(locktext), "lock unknown (%s)", why);
		} else {
			json_t *h = json_array();
			_cleanup_free_ char *mid = NULL;
			(void)lock_read_machine_id(s->o->root_fd, &mid);
			for (size_t i = 0; i < sem.n_holders; i++)
				json_array_append_new(h, json_string(sem.holders[i]));
			lock = json_pack("{s:s,s:o,s:I}", "backend", etcd ? "etcd" : "file", "holders",
					 h, "max", (json_int_t)sem.max);
			if (sem.n_holders == 0)
				snprintf(locktext, sizeof(locktext), "lock free (0/%lld)", sem.max);
			else
				snprintf(locktext, sizeof(locktext), "lock held by %s%s (%zu/%lld)",
					 mid && lock_sem_has(&sem, mid) ? "this machine" : sem.holders[0],
					 sem.n_holders > 1 ? " and others" : "", sem.n_holders, sem.max);
			lock_sem_release(&sem);
		}
	}
	json_object_set_new(s->doc, "reboot",
			    json_pack("{s:o,s:o,s:o}", "strategy", str_or_null(strategy), "window",
				      window[0] ? json_string(window) : json_null(), "lock", lock));
	if (!strategy)
		unknown(s, "reboot.strategy", "update.conf unreadable");
	line(s, "Reboot:", "strategy %s, %s, %s", strategy ? strategy : "unknown", wtext, locktext);
}

/* ---- provisioning ---- */

static void collect_provisioning(struct st *s)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	char t[64], t2[64];
	int first = fs_exists(s->o->root_fd, "/boot/flatcar/first_boot");
	int r = fs_read_file(s->o->root_fd, "/etc/.ignition-result.json", 1 << 20, &data, &n);
	json_auto_t *doc = NULL;

	if (r >= 0) {
		json_error_t e;
		doc = json_loadb(data, n, 0, &e);
		if (!json_is_object(doc))
			r = -EBADMSG;
	}
	if (r < 0) {
		json_object_set_new(s->doc, "provisioning",
				    json_pack("{s:n,s:n,s:b,s:n}", "ran", "user_config",
					      "first_boot_pending", first > 0, "result"));
		if (r == -ENOENT) {
			unknown(s, "provisioning", "no etc/.ignition-result.json");
			line(s, "Provisioning:", "%s",
			     first > 0 ? "first boot pending (Ignition has not run yet)"
				       : "no record (etc/.ignition-result.json missing)");
		} else {
			unknown(s, "provisioning", "etc/.ignition-result.json: %s",
				r == -EBADMSG ? "not a JSON object" : why_errno(r));
			line(s, "Provisioning:", "unknown (etc/.ignition-result.json: %s)",
			     r == -EBADMSG ? "not a JSON object" : why_errno(r));
		}
		return;
	}
	const char *date = json_string_value(json_object_get(doc, "provisioningDate"));
	json_t *uc = json_object_get(doc, "userConfigProvided");
	json_t *fl = json_object_get(doc, "flatctl");
	json_t *succ = json_object_get(fl ? fl : doc, "success");
	const char *result = json_is_false(succ) ? "failed" : "ok";
	struct tm tm = {};
	char *end = date ? strptime(date, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	uint64_t ts = end ? (uint64_t)timegm(&tm) : 0;
	json_object_set_new(s->doc, "provisioning",
			    json_pack("{s:o,s:o,s:b,s:s}", "ran",
				      ts ? json_string(diag_time_rfc3339(ts, t, sizeof(t)))
					 : str_or_null(date),
				      "user_config", json_is_boolean(uc) ? json_copy(uc) : json_null(),
				      "first_boot_pending", first > 0, "result", result));
	line(s, "Provisioning:", "Ignition ran %s, %s%s", ts ? time_text(ts, t2, sizeof(t2)) : date ? date : "(no date)",
	     json_is_true(uc) ? "user config provided" : json_is_false(uc) ? "no user config" : "user config unknown",
	     strcmp(result, "ok") == 0 ? "" : ", FAILED");
}

/* ---- failed units ---- */

static void collect_units(struct st *s)
{
	if (!s->o->root_is_slash) {
		json_object_set_new(s->doc, "failed_units", json_null());
		unknown(s, "failed_units", "no system bus under --root");
		line(s, "Failed units:", "unknown (no system bus under --root)");
		return;
	}
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const char *why = NULL;
	struct diag_unit *u = NULL;
	size_t n = 0;
	int r = diag_bus_open(s->o->bus_timeout_usec, &bus, &why);
	if (r >= 0) {
		r = diag_units_list(bus, "failed", &u, &n);
		if (r < 0)
			why = r == -ETIMEDOUT ? "systemd did not answer in time"
			      : r == -EACCES  ? "permission denied"
					      : "ListUnitsFiltered failed";
	}
	if (r < 0) {
		json_object_set_new(s->doc, "failed_units", json_null());
		unknown(s, "failed_units", "%s", why);
		line(s, "Failed units:", "unknown (%s)", why);
		return;
	}
	json_t *a = json_array();
	struct dbuf names = {};
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_string(u[i].name));
		dbuf_printf(&names, "%s%s", i ? ", " : "", u[i].name);
	}
	json_object_set_new(s->doc, "failed_units", a);
	line(s, "Failed units:", "%s", n ? names.p : "none");
	dbuf_release(&names);
	diag_units_free(u, n);
}

int diag_status_collect(const struct diag_status_opts *o, struct diag_status *ret)
{
	struct st s = { .o = o, .upd = { .syntax = CONF_SIMPLE } };
	char host[256];

	s.doc = json_object();
	s.unknown = json_object();
	if (!s.doc || !s.unknown) {
		json_decref(s.doc);
		json_decref(s.unknown);
		return -ENOMEM;
	}
	int r = conf_load_update(&s.upd, o->root_fd, NULL);
	s.upd_ok = r >= 0 || r == -ENOENT;

	collect_os(&s, host, sizeof(host));
	collect_partitions(&s);
	collect_update(&s);
	collect_reboot(&s);
	collect_provisioning(&s);
	collect_units(&s);
	if (!s.upd_ok)
		unknown(&s, "update_conf", "etc/flatcar/update.conf: %s", why_errno(r));
	if (s.denied.n)
		dbuf_printf(&s.text, "Not shown (permission denied as uid %u): %s\n",
			    (unsigned)geteuid(), s.denied.p);
	json_object_set_new(s.doc, "unknown", s.unknown);
	bool denied = s.denied.n > 0;
	conf_release(&s.upd);
	dbuf_release(&s.denied);
	if (s.text.oom) {
		json_decref(s.doc);
		dbuf_release(&s.text);
		free(s.disk);
		return -ENOMEM;
	}
	*ret = (struct diag_status){ .doc = s.doc, .text = dbuf_take(&s.text, NULL), .disk = s.disk,
				     .permission_denied = denied };
	return 0;
}

void diag_status_release(struct diag_status *s)
{
	json_decref(s->doc);
	free(s->text);
	free(s->disk);
	*s = (struct diag_status){};
}
