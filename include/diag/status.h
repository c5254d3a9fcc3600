/* SPDX-License-Identifier: MIT */
/* include/diag/status.h - the facts of `flatctl status` (docs/diag.md §2): one JSON document and
 * the one-screen text made from the same reads; also the summary of a support bundle. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct json_t;

struct diag_status_opts {
	int root_fd;
	bool root_is_slash;       /* --root is / (the running system) */
	const char *disk;         /* --disk or NULL (libblkid, as `partition show`) */
	bool offline;             /* no etcd query */
	uint64_t lock_budget_usec; /* the whole etcd lock query (default 2 s) */
	uint64_t bus_timeout_usec; /* one D-Bus call (default 1 s) */
};

struct diag_status {
	struct json_t *doc; /* the --json document: every key present, reasons under "unknown" */
	char *text;         /* the screen, newline-terminated lines */
	char *disk;         /* the disk that was read, or NULL */
	bool permission_denied; /* something was left out because this user may not read it */
};

/* Collect. Never fails for missing facts (they become null with a reason); returns 0 or
 * -ENOMEM. */
int diag_status_collect(const struct diag_status_opts *o, struct diag_status *ret);
void diag_status_release(struct diag_status *s);

/* "2025-10-22T16:28:00Z" into buf (at least 21 bytes). */
const char *diag_time_rfc3339(uint64_t sec, char *buf, size_t size);

