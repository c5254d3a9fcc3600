/* SPDX-License-Identifier: MIT */
/* include/update/engine.h - the update engine: one update cycle (check, events, download with
 * resume, verify, write, flip, state and failure recording; docs/update.md 4, 6, 7), driven step
 * by step by `update check/apply`, `update_engine_client`, `flatcar-update` and the daemon.
 *
 * Model. update_cycle_new() takes the parameters of one attempt; each update_cycle_step() runs
 * one phase (begin, update check, download, verify, write, flip) and returns > 0 while there is
 * more to do, 0 when the cycle ended. What happened is then in update_cycle_result(). Every
 * status change is saved to state.json first and then reported to hooks.status, so a reader of
 * the file, a D-Bus client and the progress bar all see the same sequence. The engine never
 * prints: lines meant for the log go to hooks.message (already worded, without the applet
 * prefix), the final outcome and its message are in the result, and the caller prints them.
 * Nothing here keeps global state: a daemon runs a cycle in a thread of its own and only the
 * hooks are called from it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "update/state.h"
#include "util/cleanup.h"

struct gpt_disk;
struct omaha_response;
struct update_cycle;

/* What status readers see (update_engine's GetStatus and StatusUpdate fields, docs/update.md
 * 8.4), plus the last error. Plain data: it can be copied between threads. */
#define UPDATE_VERSION_MAX 80
struct update_snapshot {
	enum update_status status;
	double progress;                 /* 0.0 .. 1.0 */
	uint64_t last_checked_time;      /* Unix seconds, 0: never */
	char new_version[UPDATE_VERSION_MAX]; /* "": none (D-Bus sends 0.0.0) */
	uint64_t new_size;
	int last_error_code;             /* 0: none */
	uint64_t last_error_time;
};
/* The snapshot a state describes: the staged version (or the pending one) is the new version. */
void update_snapshot_from_state(const struct update_state *s, struct update_snapshot *ret);
/* update_engine_client's frozen five-line block (docs/update.md 2.8) into buf. */
void update_snapshot_format(const struct update_snapshot *snap, char *buf, size_t size);
bool update_snapshot_equal(const struct update_snapshot *a, const struct update_snapshot *b);

struct update_engine_hooks {
	/* The status, progress or new version changed (already saved). */
	void (*status)(const struct update_snapshot *snap, void *userdata);
	/* Payload bytes held of total (0: unknown) while downloading; often: rate-limit drawing. */
	void (*progress)(const char *version, uint64_t done, uint64_t total, void *userdata);
	/* The server offered an update (apply: before the download starts). */
	void (*offer)(const struct omaha_response *resp, const char *payload_url, void *userdata);
	/* A line for the log, worded without the applet prefix: LOG_WARNING (always shown),
	 * LOG_NOTICE, LOG_INFO (-v). Strings from the network in it are escaped. */
	void (*message)(int level, const char *text, void *userdata);
	/* Open (and lock) the disk holding USR-A/USR-B; the hook reports its own errors and returns
	 * them converted for the exit code. Required for apply and reset. */
	int (*open_disk)(void *userdata, struct gpt_disk **ret);
	void *userdata;
};

enum update_mode {
	UPDATE_MODE_CHECK, /* `update check`: one update check, nothing downloaded */
	UPDATE_MODE_APPLY, /* check (or --payload), download, verify, write, flip */
	UPDATE_MODE_PING,  /* ping-only request (daemon while an update waits for its reboot) */
	_UPDATE_MODE_MAX,
	_UPDATE_MODE_INVALID = -EINVAL,
};

/* An extension payload given by the caller (with --payload: flatcar-update -E, or the release
 * server's file for flatcar-update -V): a FILE or an http(s) URL whose base name, without
 * Flatcar's "flatcar_test_update-" prefix, is the package name (oem-<ID>.gz, flatcar-<NAME>.gz). */
struct update_ext_source {
	const char *path;
	const uint8_t *sha256;        /* expected SHA-256 of the file (32 bytes), NULL: none */
};

struct update_cycle_params {
	enum update_mode mode;
	int root_fd;                  /* --root; borrowed */
	bool root_is_slash;           /* --root is "/" (the booted partition may come from mounts) */
	const char *server, *group;   /* --server, --group; NULL: update.conf */
	const char *const *keys;      /* --key files replacing the trusted keys; n_keys 0: none */
	size_t n_keys;
	const char *payload;          /* apply: a FILE or an http(s) URL, no Omaha server */
	const char *version;          /* with payload: the version to record (NULL: "unknown") */
	const uint8_t *sha256;        /* with payload: the file's expected SHA-256 (32 bytes) */
	bool dry_run;                 /* apply: stop before the disk */
	/* with payload: the extension payloads (6.7); the wanted ones must be among them */
	const struct update_ext_source *extensions;
	size_t n_extensions;
	bool no_oem;                  /* flatcar-update -O no: the OEM extension is not wanted */
	bool scheduled;               /* a daemon's periodic check: installsource="scheduler" and the
				       * payload backoff of 8.2 applies */
	bool daemon;                  /* daemon rules (8.2): known-bad payloads are never fetched,
				       * URL rotation; otherwise an apply clears the known-bad list */
	uint64_t lock_wait_usec;      /* apply: wait this long for the lock of 7.4 */
	const volatile int *cancel;   /* may be NULL; when it becomes non-zero the cycle stops at the
				       * next safe point (state kept for a resume) */
	struct update_engine_hooks hooks;
};

enum update_outcome {
	UPDATE_OUTCOME_NONE,      /* not ended yet */
	UPDATE_OUTCOME_OFFERED,   /* check: an update is offered */
	UPDATE_OUTCOME_NOUPDATE,  /* the server has nothing (or said noupdate as a refusal) */
	UPDATE_OUTCOME_DISABLED,  /* SERVER is not a URL, or the group is paused on the server */
	UPDATE_OUTCOME_STAGED,    /* an update already waits for its reboot */
	UPDATE_OUTCOME_DEFERRED,  /* daemon: payload backoff or a known-bad payload (8.2) */
	UPDATE_OUTCOME_VERIFIED,  /* apply --dry-run: the payload would install */
	UPDATE_OUTCOME_INSTALLED, /* written, read back, flipped */
	UPDATE_OUTCOME_PINGED,    /* ping-only request answered */
	UPDATE_OUTCOME_CANCELLED, /* stopped through params.cancel; state kept for a resume */
	UPDATE_OUTCOME_FAILED,
	_UPDATE_OUTCOME_MAX,
	_UPDATE_OUTCOME_INVALID = -EINVAL,
};
const char *update_outcome_to_string(enum update_outcome o);

/* The end of a cycle. Strings are owned by the cycle. */
struct update_cycle_result {
	enum update_outcome outcome;
	/* FAILED (and refusals): -EAGAIN / -EBUSY (exit 75), -EINVAL (2), else -EIO (1). */
	int error;
	int code;                     /* the Omaha error code recorded as last_error, 0: none */
	bool reported;                /* the failure was already reported by a hook (open_disk) */
	int message_level;            /* LOG_ERR or LOG_NOTICE */
	char message[2048];           /* what to tell the user, without the applet prefix; "" none */
	/* FAILED at or after the update check: the phase ("check", "download", "verify", "write",
	 * "flip") and the error as --json reports it (the recorded last_error message, or the
	 * check's failure without the URL); NULL otherwise ("extensions": an extension payload
	 * of 6.7 was missing or failed, before the flip) */
	const char *failed_step;
	const char *detail;
	/* for the caller's output */
	const char *server;           /* redacted Omaha URL (NULL with --payload) */
	const char *group;
	const char *current_version;
	const char *version;          /* offered, installed or staged version */
	const char *partition;        /* target or staged partition label */
	const char *payload_what;     /* "payload URL|FILE" */
	uint64_t size;                /* payload size when known */
	const char *reason;           /* JSON reason of 9: "noupdate", "disabled", "staged" */
	const struct omaha_response *response; /* check: the parsed answer (OFFERED, NOUPDATE) */
	/* for a scheduler (8.2) */
	bool server_trouble;          /* 5xx, 429 or connection failure on the update check */
	uint64_t retry_after_sec;     /* Retry-After of that answer, 0: none */
	unsigned poll_interval;       /* updatecheck/@PollInterval, 0: none */
};

int update_cycle_new(const struct update_cycle_params *p, struct update_cycle **ret);
struct update_cycle *update_cycle_free(struct update_cycle *c);
DEFINE_CLEANUP(struct update_cycle, update_cycle_free)

/* Run the next phase: > 0 more phases follow, 0 the cycle ended (see the result). Never fails
 * by itself: failures end the cycle with UPDATE_OUTCOME_FAILED. */
int update_cycle_step(struct update_cycle *c);
/* Run every phase. */
int update_cycle_run(struct update_cycle *c);
const struct update_cycle_result *update_cycle_result(const struct update_cycle *c);
/* The exit status of cli.md for a result: 0, 3, or the negative error. */
int update_cycle_exit(const struct update_cycle_result *r);

/* `update reset` (2.4), the whole of it: lock, undo the GPT flip of a staged update through
 * hooks.open_disk, discard pending, partial download, error, backoff, known-bad payloads and the
 * reboot marker. Fills res (message: what was reset) and returns the reset flags of
 * update/state.h (0: nothing to do), or a negative error (res says why). Uses root_fd,
 * lock_wait_usec and hooks of p. */
int update_reset(const struct update_cycle_params *p, struct update_cycle_result *res);

