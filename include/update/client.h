/* SPDX-License-Identifier: MIT */
/* include/update/client.h - configuration inputs (docs/update.md 3), the Omaha exchange (4.2-4.4)
 * and the payload download with resume (4.1, 7.3) of the update pipeline. Nothing here prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "omaha/codes.h"

struct http_client;
struct omaha_event;
struct omaha_response;
struct problem_list;
struct update_state;

#define UPDATE_DEFAULT_SERVER "https://public.update.flatcar-linux.net/v1/update/"
#define UPDATE_DEFAULT_GROUP "stable"
#define UPDATE_DEFAULT_APPID "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"

/* 3.1, 3.2: what the files say, with the command line's overrides applied. */
struct update_config {
	char *version, *board, *appid;     /* release file */
	char *release_file;                /* which one was read */
	char *server, *group, *machine_alias, *proxy, *ca_file;
	char *server_file;                 /* where SERVER came from, NULL: default */
	bool disabled;                     /* SERVER is not an http(s) URL */
	char *machine_id, *oem, *oemversion;
	char *prefs_aleph;                 /* update_engine's prefs/aleph-version, NULL: none */
	/* DOWNLOAD_USER / DOWNLOAD_PASSWORD (3.2): HTTP basic auth for payload downloads over
	 * https only; never logged. The password is wiped on release. */
	char *download_user, *download_password;
	/* set by the caller, not read from a file: a daemon's periodic check sends
	 * installsource="scheduler" (4.2) */
	bool scheduled;
};
/* Read the release file (required: -EINVAL with a problem naming the file when it or the version
 * is missing), update.conf (bad lines are warnings), machine-id and oem-release. server/group:
 * --server/--group overrides or NULL. */
int update_config_load(int root_fd, const char *server, const char *group,
		       struct update_config *ret, struct problem_list *reterr);
void update_config_release(struct update_config *c);
/* FLATCAR_RELEASE_VERSION of the release file (or the legacy COREOS_ one); NULL when unknown. */
char *update_release_version(int root_fd);

/* One HTTP client for the Omaha requests (retry once after 2 s on connection failures, 1 MiB
 * response limit, 120 s overall) or for downloads (30 s connect, 10 bytes/s for 90 s, retries
 * after 1, 2, 4, 8 s on connection failures and 5xx). */
int update_http_new(const struct update_config *cfg, int root_fd, bool download,
		    struct http_client **ret);

/* The outcome of an update check. */
struct update_check_result {
	struct omaha_response *response;   /* NULL when the request failed */
	long http_status;
	int error;                         /* 0, or what failed (-errno) */
	enum omaha_error_code code;        /* Omaha code of a parse failure (31, 34), else 0 */
	uint64_t retry_after_sec;          /* Retry-After of a 429/503 answer, 0: none */
	char message[512];                 /* what failed, without the URL */
};
void update_check_result_release(struct update_check_result *r);

/* Ask cfg->server for an update (4.2) carrying the state's post-reboot report, or the neutral
 * event. Decides the post-reboot outcome first (6.6) and clears a delivered report; the state
 * is changed in memory only (the caller saves). Returns 0 when a parseable answer came (see
 * result->response->outcome), or the negative error also stored in result->error. */
int update_check(struct http_client *http, const struct update_config *cfg,
		 struct update_state *state, const char *bootid, struct update_check_result *result);

/* 6.6: with a staged record, decide from the running version and boot id whether the reboot
 * happened (report 3/2 with the version we came from) or rolled back (3/0 code 44), clear the
 * staged record and return to IDLE. Changes the state in memory only. Returns 1 when decided,
 * 0 when the update still waits for its reboot (or nothing is staged), -ENOMEM. */
int update_post_reboot(const struct update_config *cfg, struct update_state *state,
		       const char *bootid);

/* Ping-only request (8.1 step 5: while an update waits for its reboot). */
int update_send_ping(struct http_client *http, const struct update_config *cfg,
		     const struct update_state *state, const char *bootid);

/* Best-effort event-only request (4.4): failures are returned for a warning and change nothing. */
int update_send_event(struct http_client *http, const struct update_config *cfg,
		      const struct update_state *state, const char *bootid,
		      const struct omaha_event *ev);

/* Download url into part_fd from resume_from (Range) up to size bytes (0: unknown). progress
 * is called with the bytes held; return < 0 from it to abort. Every byte written is also fed to
 * early (may be NULL; see update/install.h). On failure *ret_kind_4xx tells a
 * 4xx answer (no retry, partial file not kept) and message says why. *ret_fetched counts the
 * bytes this call received. */
typedef int (*update_progress_fn)(uint64_t done, uint64_t total, void *userdata);
struct update_early;
int update_download(struct http_client *http, const char *url, const char *user,
		    const char *password, int part_fd, uint64_t resume_from, uint64_t size,
		    update_progress_fn progress, void *userdata, struct update_early *early,
		    uint64_t *ret_fetched,
		    bool *ret_4xx, bool *ret_oversize, char *message, size_t message_size);

/* The running kernel's boot id (no braces), "" when unknown. */
void update_boot_id(char buf[64]);
