/* SPDX-License-Identifier: MIT */
/* cmd/update.h - the update applet's verbs and link-name front ends; spec: spec/update.md 2. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "flatctl.h"

struct args;

/* What cmd_update() hands every verb as the verb table's userdata. */
struct update_cmd {
	struct flat_ctx *ctx;
	const struct args *args;
	uint64_t wait_usec; /* --wait SEC */
};

/* update status [--json] (2.3, 9): reads state.json only; never writes. */
int update_verb_status(int argc, char **argv, void *userdata);
/* update reset (2.4): 0 something was reset, 3 nothing to do, 75 lock busy. */
int update_verb_reset(int argc, char **argv, void *userdata);

/* Link names of 2.8 (cmd/update-frontends.c). cmd_update() calls this first: it returns
 * -ENOENT when ctx->invoked_as is not a front-end name, else the front end's result. */
int update_frontend_run(int argc, char **argv, struct flat_ctx *ctx);

/* Shared by the verbs and front ends (cmd/update-verbs.c). */
/* Take the lock of 7.4, printing "another update operation is running (pid N, STATUS)" and
 * returning -EBUSY when busy. *ret_fd holds the lock. */
int update_cmd_lock(struct flat_ctx *ctx, int root_fd, uint64_t wait_usec, int *ret_fd);
/* The -status block of update_engine_client (2.8), five lines, to stdout. */
int update_print_engine_status(struct flat_ctx *ctx);
/* reset, the whole of 2.4 (lock, GPT undo, state). 0 something reset, 3 nothing. */
int update_do_reset(struct flat_ctx *ctx, uint64_t wait_usec);
