/* SPDX-License-Identifier: MIT */
/* lib/update/client.c - configuration inputs, the Omaha update check and events, and the payload
 * download with resume (docs/update.md 3, 4, 6.6, 7.3). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "args/args.h"
#include "conf/conf.h"
#include "fs/fs.h"
#include "http/http.h"
#include "omaha/request.h"
#include "omaha/response.h"
#include "update/client.h"
#include "update/install.h"
#include "update/state.h"
#include "util/problem.h"

static int dup_or_null(const char *s, char **ret)
{
	if (!s) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

void update_config_release(struct update_config *c)
{
	char **f[] = { &c->version, &c->board, &c->appid, &c->release_file, &c->server, &c->group,
		       &c->machine_alias, &c->proxy, &c->ca_file, &c->server_file, &c->machine_id,
		       &c->oem, &c->oemversion, &c->prefs_aleph, &c->download_user, &c->download_password };
	if (c->download_password)
		explicit_bzero(c->download_password, strlen(c->download_password));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		free(*f[i]);
		*f[i] = NULL;
	}
}

static bool is_http_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int update_config_load(int root_fd, const char *server, const char *group,
		       struct update_config *ret, struct problem_list *reterr)
{
	_cleanup_(conf_release) struct conf rel = { .syntax = CONF_SIMPLE }, upd = {};
	const char *prefix = "FLATCAR_RELEASE_", *file = "/usr/share/flatcar/release";
	char key[64];
	int r;

	*ret = (struct update_config){};
	/* 3.1: the release file, legacy name when the first is absent. */
	r = conf_load(&rel, root_fd, file, reterr);
	if (r == -ENOENT) {
		file = "/usr/share/coreos/release";
		prefix = "COREOS_RELEASE_";
		r = conf_load(&rel, root_fd, file, reterr);
		if (r == -ENOENT) {
			file = "/usr/share/flatcar/release";
			return problem_add(reterr, -EINVAL, file, "missing");
		}
	}
	if (r < 0)
		return problem_add(reterr, r == -EFBIG ? -EINVAL : r, file, "%s", strerror(-r));
	snprintf(key, sizeof(key), "%sVERSION", prefix);
	const char *v = conf_get(&rel, key);
	if (!v || !*v)
		return problem_add(reterr, -EINVAL, file, "%s missing", key);
	if (dup_or_null(v, &ret->version) < 0 || dup_or_null(file, &ret->release_file) < 0)
		return -ENOMEM;
	snprintf(key, sizeof(key), "%sBOARD", prefix);
	if (dup_or_null(conf_get(&rel, key), &ret->board) < 0)
		return -ENOMEM;
	snprintf(key, sizeof(key), "%sAPPID", prefix);
	v = conf_get(&rel, key);
	if (dup_or_null(v && *v ? v : UPDATE_DEFAULT_APPID, &ret->appid) < 0)
		return -ENOMEM;

	/* 3.2: update.conf, /etc over /usr/share; the release file is the last fallback. */
	r = conf_load_update(&upd, root_fd, reterr);
	if (r < 0)
		return problem_add(reterr, r, "update.conf", "%s", strerror(-r));
	const struct conf_entry *e = conf_get_entry(&upd, "SERVER");
	const char *srv = server ? server : e ? e->value : UPDATE_DEFAULT_SERVER;
	if (dup_or_null(srv, &ret->server) < 0 ||
	    dup_or_null(server ? "--server" : e ? e->file : NULL, &ret->server_file) < 0)
		return -ENOMEM;
	ret->disabled = !is_http_url(ret->server);
	v = conf_get(&upd, "GROUP");
	if (dup_or_null(group ? group : v && *v ? v : UPDATE_DEFAULT_GROUP, &ret->group) < 0 ||
	    dup_or_null(conf_get(&upd, "MACHINE_ALIAS"), &ret->machine_alias) < 0 ||
	    dup_or_null(conf_get(&upd, "PROXY"), &ret->proxy) < 0 ||
	    dup_or_null(conf_get(&upd, "CA_FILE"), &ret->ca_file) < 0)
		return -ENOMEM;
	if (dup_or_null(conf_get(&upd, "DOWNLOAD_USER"), &ret->download_user) < 0 ||
	    dup_or_null(conf_get(&upd, "DOWNLOAD_PASSWORD"), &ret->download_password) < 0)
		return -ENOMEM;
	if (conf_get(&upd, "PCR_POLICY_SERVER"))
		(void)problem_warn(reterr, "update.conf", "PCR_POLICY_SERVER is obsolete and ignored");

	/* machine-id: 32 hex digits, else a warning and an empty attribute. */
	_cleanup_free_ char *mid = NULL;
	size_t n = 0;
	if (fs_read_file(root_fd, "/etc/machine-id", 128, &mid, &n) >= 0) {
		mid[strcspn(mid, "\n")] = 0;
		bool ok = strlen(mid) == 32;
		for (size_t i = 0; ok && i < 32; i++)
			ok = isxdigit((unsigned char)mid[i]);
		if (ok)
			ret->machine_id = TAKE_PTR(mid);
		else
			(void)problem_warn(reterr, "/etc/machine-id", "malformed; sent empty");
	} else
		(void)problem_warn(reterr, "/etc/machine-id", "missing; sent empty");

	/* 3.1: update_engine's first version, migrated once (4.2 alephversion) */
	_cleanup_free_ char *aleph = NULL;
	if (fs_read_file(root_fd, "/var/lib/update_engine/prefs/aleph-version", 256, &aleph, &n) >= 0) {
		aleph[strcspn(aleph, "\r\n")] = 0;
		bool ok = *aleph != 0;
		for (const char *c = aleph; ok && *c; c++)
			ok = *c > ' ' && *c < 0x7f;
		if (ok)
			ret->prefs_aleph = TAKE_PTR(aleph);
	}

	static const char *const oem_files[] = { "/etc/oem-release", "/oem/oem-release",
						 "/usr/share/oem/oem-release" };
	for (size_t i = 0; i < 3; i++) {
		_cleanup_(conf_release) struct conf oem = {};
		if (conf_load(&oem, root_fd, oem_files[i], NULL) < 0)
			continue;
		if (dup_or_null(conf_get(&oem, "ID"), &ret->oem) < 0 ||
		    dup_or_null(conf_get(&oem, "VERSION_ID"), &ret->oemversion) < 0)
			return -ENOMEM;
		break;
	}
	return 0;
}

char *update_release_version(int root_fd)
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

int update_http_new(const struct update_config *cfg, int root_fd, bool download,
		    struct http_client **ret)
{
	_cleanup_free_ char *ca = NULL, *ua = NULL;
	size_t ca_size = 0;
	int r;

	if (cfg->ca_file && *cfg->ca_file) {
		r = fs_read_file(root_fd, cfg->ca_file, 4u << 20, &ca, &ca_size);
		if (r < 0)
			return r;
	}
	if (asprintf(&ua, "flatctl/%s", flatctl_version()) < 0)
		return -ENOMEM;
	struct http_client_options o = {
		.ca_pem = ca,
		.ca_pem_size = ca_size,
		.proxy = cfg->proxy && *cfg->proxy ? cfg->proxy : NULL,
		.user_agent = ua,
		.connect_timeout_usec = 30ULL * 1000000,
		.max_redirects = 10,
	};
	if (download) {
		o.low_speed_limit = 10;
		o.low_speed_time_usec = 90ULL * 1000000;
		o.retry = (struct http_retry_policy){ .max_retries = 4,
						      .initial_delay_usec = 1000000,
						      .max_delay_usec = 8000000,
						      .retry_on_status = true };
	} else {
		o.timeout_usec = 120ULL * 1000000;
		o.max_response_size = OMAHA_RESPONSE_MAX;
		o.retry = (struct http_retry_policy){ .max_retries = 1,
						      .initial_delay_usec = 2000000,
						      .max_delay_usec = 2000000 };
	}
	return http_client_new(&o, ret);
}

void update_check_result_release(struct update_check_result *r)
{
	r->response = omaha_response_free(r->response);
}

void update_boot_id(char buf[64])
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	buf[0] = 0;
	if (f && fgets(buf, 64, f))
		buf[strcspn(buf, "\n")] = 0;
	else
		buf[0] = 0;
}

static void request_params(const struct update_config *cfg, const struct update_state *state,
			   const char *bootid, struct utsname *u, struct omaha_request_params *p)
{
	*p = (struct omaha_request_params){
		.updater_version = flatctl_version(),
		.source = cfg->scheduled ? OMAHA_SOURCE_SCHEDULER : OMAHA_SOURCE_ONDEMAND,
		.arch = uname(u) == 0 ? u->machine : "",
		.appid = cfg->appid,
		.version = cfg->version,
		.track = cfg->group,
		.bootid = bootid,
		.oem = cfg->oem,
		.oemversion = cfg->oemversion,
		.alephversion = update_state_aleph_version(state),
		.machineid = cfg->machine_id,
		.machinealias = cfg->machine_alias,
		.board = cfg->board,
	};
}

int update_post_reboot(const struct update_config *cfg, struct update_state *state,
		       const char *bootid)
{
	struct update_staged st;
	struct update_report rep = { .eventtype = OMAHA_EVENT_UPDATE_COMPLETE };
	int r;

	if (!update_state_get_staged(state, &st))
		return 0;
	if (strcmp(cfg->version, st.version) == 0) {
		rep.eventresult = OMAHA_RESULT_SUCCESS_REBOOT;
		rep.previousversion = st.previous_version ? st.previous_version : "";
	} else if (st.boot_id && bootid && *bootid && strcmp(st.boot_id, bootid) != 0 &&
		   st.previous_version && strcmp(cfg->version, st.previous_version) == 0) {
		rep.eventresult = OMAHA_RESULT_ERROR;
		rep.errorcode = OMAHA_ERROR_ROLLBACK;
	} else
		return 0; /* still waiting for its reboot */
	/* set_report copies previousversion before set_staged frees it */
	if ((r = update_state_set_report(state, &rep)) < 0 ||
	    (r = update_state_set_staged(state, NULL)) < 0)
		return r;
	if (update_state_status(state) == UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	    (r = update_state_set_status(state, UPDATE_STATUS_IDLE)) < 0)
		return r;
	return 1;
}

/* 4.2 alephversion: from the state, else migrated once from update_engine's prefs, else the
 * running version. */
static int set_aleph(const struct update_config *cfg, struct update_state *state)
{
	if (update_state_aleph_version(state))
		return 0;
	return update_state_set_aleph_version(state, cfg->prefs_aleph ? cfg->prefs_aleph
								       : cfg->version);
}

int update_check(struct http_client *http, const struct update_config *cfg,
		 struct update_state *state, const char *bootid, struct update_check_result *res)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(http_response_release) struct http_response resp = {};
	_cleanup_free_ char *body = NULL;
	struct omaha_request_params rp;
	struct update_report rep;
	struct omaha_event ev;
	struct utsname u;
	size_t size;
	int r;

	*res = (struct update_check_result){};
	r = update_post_reboot(cfg, state, bootid);
	if (r < 0)
		return res->error = r;
	r = set_aleph(cfg, state);
	if (r < 0)
		return res->error = r;

	if (update_state_get_report(state, &rep)) {
		ev = omaha_event_simple(rep.eventtype, rep.eventresult);
		ev.error_code = rep.errorcode;
		ev.previous_version = rep.previousversion;
	} else
		ev = omaha_event_neutral();
	request_params(cfg, state, bootid, &u, &rp);
	rp.ping = rp.updatecheck = true;
	rp.events = &ev;
	rp.n_events = 1;
	r = omaha_request_build(&rp, &body, &size);
	if (r < 0)
		return res->error = r;
	r = http_post(http, cfg->server, "text/xml", body, size, &resp);
	res->http_status = resp.status;
	if (r < 0) {
		const char *ra = http_response_header(&resp, "Retry-After");
		if (ra && (resp.status == 429 || resp.status == 503))
			res->retry_after_sec = strtoull(ra, NULL, 10);
		if (resp.kind == HTTP_ERROR_TOO_LARGE)
			snprintf(res->message, sizeof(res->message),
				 "Omaha response too large (more than %u bytes)", OMAHA_RESPONSE_MAX);
		else
			snprintf(res->message, sizeof(res->message), "%s",
				 *resp.error ? resp.error : strerror(-r));
		return res->error = r;
	}
	r = omaha_response_parse(resp.body, resp.body_size, cfg->appid, true, &res->response, &p);
	if (r < 0) {
		const char *what = NULL;
		for (size_t i = 0; i < p.n && !what; i++)
			if (p.item[i].severity == PROBLEM_ERROR)
				what = p.item[i].message;
		res->code = omaha_response_error_code(r);
		if (r == -EFBIG)
			snprintf(res->message, sizeof(res->message),
				 "Omaha response too large (more than %u bytes)", OMAHA_RESPONSE_MAX);
		else
			snprintf(res->message, sizeof(res->message), "%s Omaha response: %s",
				 r == -EBADMSG ? "malformed" : "invalid", what ? what : "unusable");
		return res->error = r;
	}
	/* 4.4: a 2xx answer with a parseable body delivered the report. */
	(void)update_state_clear_report(state);
	return 0;
}

/* A request without an update check: a ping (ev NULL) or one event. The answer only has to be
 * a 2xx. */
static int send_plain(struct http_client *http, const struct update_config *cfg,
		      const struct update_state *state, const char *bootid,
		      const struct omaha_event *ev)
{
	_cleanup_(http_response_release) struct http_response resp = {};
	_cleanup_free_ char *body = NULL;
	struct omaha_request_params rp;
	struct utsname u;
	size_t size;
	int r;

	request_params(cfg, state, bootid, &u, &rp);
	rp.ping = !ev;
	rp.events = ev;
	rp.n_events = ev ? 1 : 0;
	r = omaha_request_build(&rp, &body, &size);
	if (r < 0)
		return r;
	return http_post(http, cfg->server, "text/xml", body, size, &resp);
}

int update_send_ping(struct http_client *http, const struct update_config *cfg,
		     const struct update_state *state, const char *bootid)
{
	return send_plain(http, cfg, state, bootid, NULL);
}

int update_send_event(struct http_client *http, const struct update_config *cfg,
		      const struct update_state *state, const char *bootid,
		      const struct omaha_event *ev)
{
	return send_plain(http, cfg, state, bootid, ev);
}

#define FSYNC_EVERY (64ULL << 20)

struct dl {
	update_progress_fn progress;
	void *userdata;
	struct update_early *early;
	int fd;
	uint64_t unsynced;
};

/* 4.1: a 200 answer to a range request starts over at 0; 206 at the resume offset. */
static int dl_begin(uint64_t offset, uint64_t total, void *userdata)
{
	struct dl *d = userdata;
	if (ftruncate(d->fd, (off_t)offset) < 0)
		return -errno;
	return 0;
}

/* 7.3: plain writes, fsync every 64 MiB (and at the end, by the caller). */
static int dl_write(const void *data, size_t size, uint64_t offset, void *userdata)
{
	struct dl *d = userdata;
	const uint8_t *p = data;
	size_t total = size;
	uint64_t at = offset;

	while (size > 0) {
		ssize_t n = pwrite(d->fd, p, size, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		size -= (size_t)n;
		offset += (uint64_t)n;
		d->unsynced += (uint64_t)n;
	}
	/* staged: now the verify pass may see them */
	update_early_feed(d->early, data, total, at);
	if (d->unsynced >= FSYNC_EVERY) {
		if (fsync(d->fd) < 0)
			return -errno;
		d->unsynced = 0;
	}
	return 0;
}

static int dl_progress(uint64_t done, uint64_t total, void *userdata)
{
	struct dl *d = userdata;
	update_test_kill_point_download(done);
	return d->progress ? d->progress(done, total, d->userdata) : 0;
}

int update_download(struct http_client *http, const char *url, const char *user,
		    const char *password, int part_fd, uint64_t resume_from, uint64_t size,
		    update_progress_fn progress, void *userdata, struct update_early *early,
		    uint64_t *ret_fetched,
		    bool *ret_4xx, bool *ret_oversize, char *message, size_t message_size)
{
	_cleanup_(http_response_release) struct http_response resp = {};
	struct dl d = { progress, userdata, early, part_fd, 0 };
	struct http_request req = {
		.method = HTTP_GET,
		.url = url,
		.username = user && *user ? user : NULL,
		.password = user && *user ? password : NULL,
		.write_cb = dl_write,
		.begin_cb = dl_begin,
		.progress_cb = dl_progress,
		.userdata = &d,
		.resume_from = resume_from,
		.max_size = size,
	};
	int r;

	*ret_4xx = *ret_oversize = false;
	r = http_request_perform(http, &req, &resp);
	/* Bytes this call fetched: the file now ends at offset + received (retries resume). */
	uint64_t end = resp.offset + resp.bytes_received;
	*ret_fetched = resp.range_ignored || end < resume_from ? end : end - resume_from;
	if (r < 0) {
		*ret_4xx = resp.kind == HTTP_ERROR_STATUS && resp.status >= 400 && resp.status < 500;
		*ret_oversize = resp.kind == HTTP_ERROR_TOO_LARGE;
		snprintf(message, message_size, "%s", *resp.error ? resp.error : strerror(-r));
		return r;
	}
	return 0;
}
