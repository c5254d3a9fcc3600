/* SPDX-License-Identifier: MIT */
/* include/util/spawn.h - run a program: a fixed argv, no shell, a new process group, stdin
 * /dev/null, stdout and stderr into one pipe, a time limit (diag's collection commands,
 * docs/diag.md §4.2, §4.3; provision's mkfs tools). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbuf;

struct spawn_result {
	int exit_status;   /* 0-255, 128+signal, or -1 when it did not run */
	bool timed_out;    /* killed after the limit (SIGTERM, then SIGKILL 2 s later) */
	bool truncated;    /* more than cap bytes: the rest was read and dropped */
	uint64_t dropped;  /* bytes dropped */
};

/* Run argv (argv[0] looked up in PATH unless it holds a '/'; exe, when non-NULL, is run
 * instead with this argv) in directory cwd, keeping at most cap bytes of output in out.
 * Returns 0 when it ran (see res), -ENOENT when not found, other -errno. */
int spawn_run(const char *exe, char *const *argv, const char *cwd, uint64_t timeout_usec,
	     size_t cap, struct dbuf *out, struct spawn_result *res);
