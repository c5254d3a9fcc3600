/* SPDX-License-Identifier: MIT */
/* include/lock/window.h - the reboot window (docs/reboot-lock.md 7.4). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "util/problem.h"

struct reboot_window {
	int wday;              /* 0 = Sunday .. 6, or -1 for every day */
	int hour, minute;
	uint64_t length_usec;
};

/* Parse start ("[day] H:MM") and length (Go duration or seconds). Both NULL or empty: -ENOENT
 * (no window). One of them only, or any syntax or range error: -EINVAL with the reason in reterr
 * (where: "start" or "length"). */
int reboot_window_parse(const char *start, const char *length, struct reboot_window *ret,
			struct problem_list *reterr);

/* In local time: is now inside a window? *ret_start and *ret_end: the window now is in, else the next
 * one. */
int reboot_window_check(const struct reboot_window *w, time_t now, bool *ret_inside,
			time_t *ret_start, time_t *ret_end);
