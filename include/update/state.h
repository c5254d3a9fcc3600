/* SPDX-License-Identifier: MIT */
/* include/update/state.h - the updater's persistent state (state.json), its status names and
 * error codes, the crash/resume decision and the operation lock; see docs/update.md 7.
 *
 * Model. The state is a JSON document kept whole (struct update_state wraps a jansson object),
 * so fields this version does not know survive a rewrite (7.2). Typed accessors read and change
 * the fields of 7.2; update_state_save() replaces /var/lib/flatctl/update/state.json atomically.
 * A file that does not parse or has fields of the wrong type is "corrupt": readers show IDLE,
 * writers move it aside to state.json.bad-<time> first. Nothing here prints. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cleanup.h"

struct problem_list;

#define UPDATE_STATE_DIR "/var/lib/flatctl/update"
#define UPDATE_STATE_FILE UPDATE_STATE_DIR "/state.json"
/* The public view (mode 0644, no URLs or hashes) for readers without root. */
#define UPDATE_STATUS_FILE UPDATE_STATE_DIR "/status.json"
#define UPDATE_PART_FILE UPDATE_STATE_DIR "/payload.part"
#define UPDATE_LOCK_FILE UPDATE_STATE_DIR "/lock"
#define UPDATE_REBOOT_MARKER "/run/reboot-required"
#define UPDATE_STATE_MAX_SIZE (1024u * 1024u)
#define UPDATE_BAD_PAYLOADS_MAX 16u

/* 7.1: update_engine's names, compared as strings by other tools. */
enum update_status {
	UPDATE_STATUS_IDLE,
	UPDATE_STATUS_CHECKING_FOR_UPDATE,
	UPDATE_STATUS_UPDATE_AVAILABLE,
	UPDATE_STATUS_DOWNLOADING,
	UPDATE_STATUS_VERIFYING,
	UPDATE_STATUS_FINALIZING,
	UPDATE_STATUS_UPDATED_NEED_REBOOT,
	UPDATE_STATUS_REPORTING_ERROR_EVENT,
	_UPDATE_STATUS_MAX,
	_UPDATE_STATUS_INVALID = -EINVAL,
};
/* "UPDATE_STATUS_IDLE" ...; NULL out of range. */
const char *update_status_to_string(enum update_status s);
/* Exact full name; _UPDATE_STATUS_INVALID otherwise. */
enum update_status update_status_from_string(const char *s);
/* The name without "UPDATE_STATUS_" (log lines: "status DOWNLOADING ..."). */
const char *update_status_short_name(enum update_status s);

/* 4.4: Omaha error codes (update_engine's numbering); never exit codes. */
enum update_error_code {
	UPDATE_ERROR_GENERIC = 1,
	UPDATE_ERROR_OMAHA_REQUEST = 2,
	UPDATE_ERROR_POSTINSTALL_RUNNER = 5,
	UPDATE_ERROR_INSTALL_DEVICE_OPEN = 7,
	UPDATE_ERROR_DOWNLOAD_TRANSFER = 9,
	UPDATE_ERROR_PAYLOAD_HASH_MISMATCH = 10,
	UPDATE_ERROR_PAYLOAD_SIZE_MISMATCH = 11,
	UPDATE_ERROR_DOWNLOAD_WRITE = 14,
	UPDATE_ERROR_NEW_ROOTFS_VERIFICATION = 15,
	UPDATE_ERROR_NEW_KERNEL_VERIFICATION = 16,
	UPDATE_ERROR_SIGNED_PAYLOAD_EXPECTED = 17,
	UPDATE_ERROR_PUBKEY_VERIFICATION = 18,
	UPDATE_ERROR_INVALID_METADATA_MAGIC = 21,
	UPDATE_ERROR_MANIFEST_PARSE = 23,
	UPDATE_ERROR_OPERATION_EXECUTION = 28,
	UPDATE_ERROR_OPERATION_HASH_MISMATCH = 29,
	UPDATE_ERROR_OMAHA_XML_PARSE = 31,
	UPDATE_ERROR_OMAHA_RESPONSE_INVALID = 34,
	UPDATE_ERROR_OMAHA_HTTP_RESPONSE = 37,
	UPDATE_ERROR_DEFERRED_FOR_BACKOFF = 40,
	UPDATE_ERROR_ROLLBACK = 44,
};
/* "DownloadPayloadPubKeyVerificationError" ...; "Error" for codes not in the table. */
const char *update_error_code_to_string(int code);

struct update_state;

/* A fresh IDLE state (schema 1, nothing pending or staged). NULL only for out-of-memory. */
struct update_state *update_state_new(void);
struct update_state *update_state_free(struct update_state *s);
DEFINE_CLEANUP(struct update_state, update_state_free)

/* Parse a state document. Every known field must have its type of 7.2 (unknown fields are
 * kept). Returns 0 and sets *ret, -EBADMSG (with problems naming the JSON pointer) or -ENOMEM. */
int update_state_parse(const char *data, size_t size, struct update_state **ret,
		       struct problem_list *reterr);
/* The document as text (owned by the caller), NULL for out-of-memory. */
char *update_state_format(const struct update_state *s);

enum update_state_load_flags {
	UPDATE_STATE_MOVE_BAD = 1 << 0,  /* writers: rename a corrupt file to state.json.bad-<time> */
	UPDATE_STATE_PUBLIC_OK = 1 << 1, /* readers: when state.json is not readable (not root),
					  * read the public status.json instead */
};
enum update_state_origin {
	UPDATE_STATE_LOADED,  /* read from state.json */
	UPDATE_STATE_FRESH,   /* no state.json: a fresh IDLE state */
	UPDATE_STATE_CORRUPT, /* state.json did not parse: a fresh IDLE state (problems say why) */
	UPDATE_STATE_PUBLIC,  /* read from status.json (UPDATE_STATE_PUBLIC_OK) */
};
/* Load state.json from inside the root. Always gives a state unless the file exists but cannot be
 * read (-EACCES, -EIO ...: *ret untouched). For a corrupt file with UPDATE_STATE_MOVE_BAD, the
 * file is renamed and *ret_moved_to (if non-NULL) gets the new path inside the root. Returns
 * the origin (>= 0) or -errno. */
int update_state_load(int root_fd, unsigned flags, struct update_state **ret, char **ret_moved_to,
		      struct problem_list *reterr);
/* Create the state directory if missing and replace state.json (0600) atomically, then the
 * public status.json (0644). The directory and its parent are made traversable (0711) but not
 * listable, so that status.json can be read by name without root. */
int update_state_save(int root_fd, const struct update_state *s);

enum update_status update_state_status(const struct update_state *s);
int update_state_set_status(struct update_state *s, enum update_status st);
uint64_t update_state_last_checked(const struct update_state *s);
int update_state_set_last_checked(struct update_state *s, uint64_t t);
double update_state_progress(const struct update_state *s);
int update_state_set_progress(struct update_state *s, double p);
/* NULL when none is recorded. Owned by the state. */
const char *update_state_aleph_version(const struct update_state *s);
int update_state_set_aleph_version(struct update_state *s, const char *v);

/* An install waiting for its reboot (7.2 "staged"). Strings point into the state. */
struct update_staged {
	const char *version;
	const char *previous_version;
	const char *partition; /* "USR-B" */
	const char *partuuid;
	const char *boot_id;
	uint64_t size;
	uint64_t installed_time;
};
/* true and *ret filled when a staged record is present. */
bool update_state_get_staged(const struct update_state *s, struct update_staged *ret);
/* NULL clears. */
int update_state_set_staged(struct update_state *s, const struct update_staged *st);

/* A download in flight or interrupted (7.2 "pending"). Strings point into the state. */
struct update_pending {
	const char *version;
	const char *name;
	const char *sha256;     /* base64, from the response (or --sha256) */
	const char *sha256_hex; /* NULL when not given */
	const char *source;     /* "omaha" or "local" */
	const char *url;        /* first URL (urls[0]), NULL when none */
	uint64_t size;
	uint64_t started_time;
};
bool update_state_get_pending(const struct update_state *s, struct update_pending *ret);
/* urls: n_urls entries (copied); NULL clears the record. */
int update_state_set_pending(struct update_state *s, const struct update_pending *p,
			     const char *const *urls, size_t n_urls);

struct update_error {
	int code;
	const char *name;
	const char *message;
	uint64_t time;
};
bool update_state_get_last_error(const struct update_state *s, struct update_error *ret);
/* Records code, its name, message and time. */
int update_state_set_last_error(struct update_state *s, int code, const char *message, uint64_t t);
int update_state_clear_last_error(struct update_state *s);

/* Post-reboot report (4.4): 3/2 with previousversion, or 3/0 with errorcode 44. */
struct update_report {
	int eventtype, eventresult, errorcode; /* errorcode 0: none */
	const char *previousversion;           /* NULL: none */
};
bool update_state_get_report(const struct update_state *s, struct update_report *ret);
/* NULL clears. */
int update_state_set_report(struct update_state *s, const struct update_report *rep);
bool update_state_has_report(const struct update_state *s);
int update_state_clear_report(struct update_state *s);

/* Payload backoff and URL rotation (8.2). */
struct update_backoff {
	uint64_t payload_attempts; /* failed attempts of the payload `sha256` */
	uint64_t until;            /* Unix seconds: offers of it are skipped before then */
	uint64_t url_index;        /* the URL downloads start with */
	uint64_t url_failures;     /* consecutive transfer failures on it */
	const char *sha256;        /* base64; NULL: none (points into the state) */
};
/* true when any counter is set. */
bool update_state_has_backoff(const struct update_state *s);
int update_state_clear_backoff(struct update_state *s);
void update_state_get_backoff(const struct update_state *s, struct update_backoff *ret);
int update_state_set_backoff(struct update_state *s, const struct update_backoff *b);
size_t update_state_bad_payload_count(const struct update_state *s);
/* Remember a payload's SHA-256 (base64); keeps the last UPDATE_BAD_PAYLOADS_MAX. */
int update_state_add_bad_payload(struct update_state *s, const char *sha256);
bool update_state_is_bad_payload(const struct update_state *s, const char *sha256);
/* Clears the list and its details. */
int update_state_clear_bad_payloads(struct update_state *s);
/* A known-bad payload's original Omaha code and when its 3/0 event was last sent (8.2). */
bool update_state_bad_payload_info(const struct update_state *s, const char *sha256,
				   int *ret_code, uint64_t *ret_reported);
int update_state_set_bad_payload_info(struct update_state *s, const char *sha256, int code,
				      uint64_t reported);

/* Counters and times for `update status --prometheus` (docs/update.md 7.2, 9.1): kept across
 * cycles, reboots and `update reset`, so they only grow (Prometheus counters). */
struct update_metrics {
	uint64_t last_successful_check_time; /* Unix seconds of the last check the server answered */
	uint64_t last_successful_update_time; /* of the last install (the GPT flip) */
	uint64_t downloaded_bytes;            /* payload bytes fetched over HTTP, all attempts */
};
void update_state_get_metrics(const struct update_state *s, struct update_metrics *ret);
int update_state_set_last_successful_check(struct update_state *s, uint64_t t);
int update_state_set_last_successful_update(struct update_state *s, uint64_t t);
int update_state_add_downloaded(struct update_state *s, uint64_t bytes);
/* One more failed attempt with Omaha error code `code` (> 0). */
int update_state_count_failure(struct update_state *s, int code);
/* The failure counts, lowest code first: fn is called once per code with a count > 0. */
void update_state_foreach_failure(const struct update_state *s,
				  void (*fn)(int code, uint64_t count, void *userdata),
				  void *userdata);

/* ---- crash and resume (7.3) ---- */
/* What a new download attempt has to go on. For an Omaha offer: sha256 (base64) of the response;
 * for `--payload URL`: url and the --sha256 value (NULL when not given: never resumed). */
struct update_offer {
	const char *source; /* "omaha" or "local" */
	const char *sha256;
	const char *url;
	uint64_t size;
};
enum update_resume {
	UPDATE_RESUME_START_OVER, /* discard pending and payload.part, download from 0 */
	UPDATE_RESUME_CONTINUE,   /* keep payload.part, ask for the rest with a Range request */
	UPDATE_RESUME_REVERIFY,   /* FINALIZING with a complete staged file: check it again, rewrite */
	_UPDATE_RESUME_MAX,
	_UPDATE_RESUME_INVALID = -EINVAL,
};
const char *update_resume_to_string(enum update_resume r);
/* The rule of 7.3. part_size: current size of payload.part, or -1 when it does not exist. */
enum update_resume update_resume_decide(const struct update_state *s,
					const struct update_offer *offer, int64_t part_size);

/* ---- the operation lock (7.4) ---- */
/* Take the exclusive flock on UPDATE_LOCK_FILE (created 0600, directory 0700 as needed), waiting
 * up to wait_usec. On success *ret_fd holds it (close to release) and our pid is written into
 * the file. -EBUSY when still held afterwards; then *ret_holder is the holder's pid (0 unknown). */
int update_lock_take(int root_fd, uint64_t wait_usec, int *ret_fd, pid_t *ret_holder);

/* ---- reset (2.4) ---- */
enum update_reset_flags {
	UPDATE_RESET_STAGED = 1 << 0,  /* a staged update was discarded (GPT reverted) */
	UPDATE_RESET_PENDING = 1 << 1, /* a pending or partial download */
	UPDATE_RESET_ERROR = 1 << 2,   /* a recorded error */
	UPDATE_RESET_BACKOFF = 1 << 3, /* payload backoff or known-bad payloads */
	UPDATE_RESET_MARKER = 1 << 4,  /* /run/reboot-required */
	UPDATE_RESET_STATUS = 1 << 5,  /* a status other than IDLE */
};
/* Everything of 2.4 except the GPT: clears pending, the partial download, the error, backoff,
 * bad payloads and the staged record, removes the reboot marker, status IDLE; saves when anything
 * changed. Returns the flags of what was there (0: nothing) or -errno. */
int update_state_reset(int root_fd, struct update_state *s);
