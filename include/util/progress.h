/* SPDX-License-Identifier: MIT */
/* include/util/progress.h - progress lines for long transfers (docs/update.md 9, cli.md).
 * lib/ only formats into a buffer and decides; cmd/ prints, e.g.
 *
 *     downloading 4081.2.0  37% [#######.............]  176.9/478.2 MiB  12.4 MiB/s  ETA 0:24 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_MIN_INTERVAL_USEC 100000ULL /* redraw at most 10 times a second */

struct progress {
	uint64_t start_usec;      /* when the transfer started (CLOCK_MONOTONIC) */
	uint64_t start_bytes;     /* bytes already there at the start (resume): not in the rate */
	uint64_t last_draw_usec;  /* 0: never drawn */
	unsigned last_decile;     /* for the one-line-per-10 % log when not on a terminal */
};

/* Whether to draw bars on fd (normally STDERR_FILENO): a terminal and not -q (verbosity >= 0). */
bool progress_wanted(int fd, int verbosity);

uint64_t progress_now_usec(void);
void progress_init(struct progress *p, uint64_t now_usec, uint64_t start_bytes);
/* True when a redraw is due at now_usec (first call, PROGRESS_MIN_INTERVAL_USEC since the last
 * true, or done == total); records the draw. */
bool progress_due(struct progress *p, uint64_t now_usec, uint64_t done, uint64_t total);
/* True once each time done/total crosses another 10 % (for "-v" logs off a terminal);
 * *ret_percent gets the multiple of 10 reached. */
bool progress_decile(struct progress *p, uint64_t done, uint64_t total, unsigned *ret_percent);

/* Formats one line (no newline) into buf, always NUL-terminated; returns its length.
 * what: "downloading", "verifying", "writing"; name: version or partition label.
 * total 0: unknown (no percentage or bar, no ETA). show_bytes false: the bar only (verify,
 * write lines). Rate and ETA need elapsed time > 0 since p->start_usec. */
size_t progress_format(char *buf, size_t size, const struct progress *p, uint64_t now_usec,
		       const char *what, const char *name, uint64_t done, uint64_t total,
		       bool show_bytes);

/* "176.9 MiB", "512 B", "1.0 GiB" (binary units, one decimal above bytes). */
size_t progress_format_bytes(char *buf, size_t size, uint64_t bytes);
