/* SPDX-License-Identifier: MIT */
/* include/diag/bundle.h - a whole support bundle (docs/diag.md §3-§6): collectors in the order
 * of §3.1 streamed into one tar.gz, every text redacted, each item recorded in manifest.json. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag_config;
struct json_t;

struct diag_bundle_opts {
	int root_fd;
	const char *root;
	bool root_is_slash;
	const char *disk;                  /* --disk, or NULL: as `partition show` finds it */
	const struct diag_config *config;  /* NULL or no source: the built-in default (§3.2) */
	bool offline;
	uint64_t max_size;                 /* whole bundle, uncompressed (§4.1) */
	size_t file_cap, dir_cap, journal_cap, cmd_cap;
	unsigned dir_files;
	uint64_t cmd_timeout_usec, journal_timeout_usec, total_timeout_usec;
	int64_t mtime;                     /* of every member */
	uint64_t start_time;               /* seconds, for the manifest */
	const char *top;                   /* top directory name */
	const char *self_exe;              /* flatctl itself for disk/partitions.json and
					    * disk/cgpt-show.txt (`partition show`, `cgpt show`) */
	const char *version;
	/* called after each record is final (cmd prints skipped ones at -v) */
	void (*note)(void *userdata, const struct json_t *record);
	void *userdata;
};

/* The defaults of §4 (caps and time limits). */
void diag_bundle_opts_defaults(struct diag_bundle_opts *o);

struct diag_bundle_summary {
	unsigned items, ok, skipped, failed, timeouts, truncated, redactions;
	uint64_t bytes; /* uncompressed member bytes */
};

/* Collect and write the bundle to out_fd. Returns 0 when the stream was completed, or -errno
 * when writing failed (then *errtext says why; the stream is incomplete). */
int diag_bundle_write(const struct diag_bundle_opts *o, int out_fd,
		      struct diag_bundle_summary *ret_sum, char *errtext, size_t errlen);

/* Bundle member name of a command (mayday's): argv joined by '_', '/' turned into '-', other
 * unsafe bytes into '_', at most 100 bytes, plus ".txt". */
char *diag_command_member(char *const *argv);

/* True when a root-relative path ("/etc/shadow") is on the never-collected list (§3.2). */
bool diag_path_excluded(const char *rel);
