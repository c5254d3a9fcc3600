/* SPDX-License-Identifier: MIT */
/* cmd/update.h - the update applet's verbs and link-name front ends; see flatctl-update(1), docs/update.md 2. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "args/args.h"
#include "flatctl.h"
#include "update/engine.h"
#include "util/progress.h"

/* Options of check/apply/reset, appended to cmd/update.c's option table. --version is that
 * table's own (shared with pack): cmd/update.c copies it into struct update_cmd. */
enum {
	UPDATE_OPT_SERVER = ARG_LONG_BASE + 0x40,
	UPDATE_OPT_GROUP,
	UPDATE_OPT_PAYLOAD,
	UPDATE_OPT_SHA256,
	UPDATE_OPT_DRY_RUN,
	UPDATE_OPT_WAIT,
	UPDATE_OPT_ONCE,
	UPDATE_OPT_BUS,
	UPDATE_OPT_INITIAL_DELAY,
	UPDATE_OPT_INTERVAL,
	UPDATE_OPT_FUZZ,
	UPDATE_OPT_MARK_GOOD_DELAY,
	UPDATE_OPT_PROMETHEUS,
	UPDATE_OPT_TEXTFILE,
	UPDATE_OPT_EXTENSION,
};
#define UPDATE_PIPELINE_OPTIONS                                                                     \
	{ "server", UPDATE_OPT_SERVER, ARG_REQ, "URL", "check/apply: ask this Omaha server" },       \
	{ "group", UPDATE_OPT_GROUP, ARG_REQ, "NAME", "check/apply: use this group (track)" },       \
	{ "payload", UPDATE_OPT_PAYLOAD, ARG_REQ, "FILE|URL",                                       \
	  "apply: install this payload without an Omaha server" },                                  \
	{ "sha256", UPDATE_OPT_SHA256, ARG_REQ, "HASH",                                             \
	  "apply --payload: expected SHA-256 of the file (hex or base64)" },                        \
	{ "extension", UPDATE_OPT_EXTENSION, ARG_REQ, "FILE|URL",                                   \
	  "apply --payload: an extension payload (oem-ID.gz, flatcar-NAME.gz); repeatable" },      \
	{ "dry-run", UPDATE_OPT_DRY_RUN, ARG_NONE, NULL,                                            \
	  "apply: download and verify, then stop before the disk" },                                \
	{ "wait", UPDATE_OPT_WAIT, ARG_REQ, "SEC",                                                  \
	  "apply/reset: wait up to SEC seconds for another update operation" },                     \
	{ "once", UPDATE_OPT_ONCE, ARG_NONE, NULL,                                                  \
	  "daemon: post-boot bookkeeping and one cycle now, then exit as apply would" },            \
	{ "bus", UPDATE_OPT_BUS, ARG_REQ, "system|user|none|ADDRESS",                               \
	  "daemon: where to serve com.coreos.update1 (system)" },                                   \
	{ "initial-delay", UPDATE_OPT_INITIAL_DELAY, ARG_REQ, "SEC",                                \
	  "daemon: first check after SEC seconds (420)" },                                          \
	{ "interval", UPDATE_OPT_INTERVAL, ARG_REQ, "SEC", "daemon: check every SEC seconds (2700)" }, \
	{ "fuzz", UPDATE_OPT_FUZZ, ARG_REQ, "SEC",                                                  \
	  "daemon: each delay +- up to SEC seconds at random (300)" },                              \
	{ "mark-good-delay", UPDATE_OPT_MARK_GOOD_DELAY, ARG_REQ, "SEC",                            \
	  "daemon: mark the booted partition good after SEC seconds (45)" },                         \
	{ "prometheus", UPDATE_OPT_PROMETHEUS, ARG_NONE, NULL,                                      \
	  "status: print metrics in Prometheus' text format" },                                     \
	{ "textfile", UPDATE_OPT_TEXTFILE, ARG_REQ, "DIR",                                          \
	  "status: write the metrics to DIR/flatctl_update.prom (node_exporter)" }

/* What cmd_update() hands every verb as the verb table's userdata: cmd/update.c keeps it as the
 * first member of its own argument struct. */
struct update_cmd {
	struct flat_ctx *ctx;
	const struct args *args;
	uint64_t wait_usec;        /* --wait SEC */
	const char *server, *group;
	const char *payload, *version, *sha256;
	bool dry_run;
	const struct update_ext_source *extensions; /* flatcar-update -E, or its -V downloads */
	size_t n_extensions;
	struct update_ext_source ext_buf[32]; /* apply --extension */
	bool no_oem;               /* flatcar-update -O no */
	const char *const *keys;   /* --key files (cmd/update.c's list) */
	const size_t *n_keys;
	/* daemon (2.7): UINT64_MAX: not given */
	bool once;
	const char *bus;
	uint64_t initial_delay, interval, fuzz, mark_good_delay;
	/* status (9.1) */
	bool prometheus;
	const char *textfile;
};

/* Handle one of UPDATE_PIPELINE_OPTIONS: 1 taken, 0 not ours, < 0 usage error (printed). */
int update_cmd_option(struct update_cmd *uc, int id, const char *arg);
/* update check (2.1) and apply (2.2). */
int update_verb_check(int argc, char **argv, void *userdata);
int update_verb_apply(int argc, char **argv, void *userdata);

/* update status [--json|--prometheus] [--textfile DIR] (2.3, 9, 9.1): reads state.json only;
 * writes nothing but DIR/flatctl_update.prom. */
int update_verb_status(int argc, char **argv, void *userdata);
/* update reset (2.4): 0 something was reset, 3 nothing to do, 75 lock busy. */
int update_verb_reset(int argc, char **argv, void *userdata);
/* update daemon (2.7, 8; cmd/update-daemon.c). */
int update_verb_daemon(int argc, char **argv, void *userdata);

/* Link names of 2.8 (cmd/update-frontends.c). cmd_update() calls this first: it returns
 * -ENOENT when ctx->invoked_as is not a front-end name, else the front end's result. */
int update_frontend_run(int argc, char **argv, struct flat_ctx *ctx);

/* Shared by the verbs, the daemon and the front ends (cmd/update-verbs.c). */
struct gpt_disk;
/* The disk of --disk, or the one found, opened without messages (status, the daemon's
 * bookkeeping). */
int update_disk_open_quiet(struct flat_ctx *ctx, bool lock, struct gpt_disk **ret);
/* The parameters of a cycle from the options, with the command line's hooks (progress bar,
 * messages to stderr, partition_open()). userdata: a struct update_cli_run the caller keeps. */
struct update_cli_run {
	struct flat_ctx *ctx;
	struct progress p;
	bool draw, started;
	bool apply; /* print "update available: V (SIZE)" for apply */
};
struct update_cycle_params update_cmd_params(struct update_cmd *uc, int root_fd,
					     enum update_mode mode, struct update_cli_run *run);
/* The -status block of update_engine_client (2.8), five lines, to stdout or into buf. */
int update_print_engine_status(struct flat_ctx *ctx);
int update_engine_status_text(struct flat_ctx *ctx, char *buf, size_t size);
/* reset, the whole of 2.4 (lock, GPT undo, state). 0 something reset, 3 nothing. */
int update_do_reset(struct flat_ctx *ctx, uint64_t wait_usec);
