/* SPDX-License-Identifier: MIT */
/* cmd/partition.h - helpers shared by the partition and rollback applets (cmd/partition.c). */
#pragma once

#include <stdbool.h>

#include "flatctl.h"
#include "gpt/gpt.h"

/* Find (--disk or libblkid), open, optionally lock, and read the disk; errors are printed and
 * returned as -errno already converted for the exit code (2 for unusable input). Warnings about a
 * damaged copy are printed when `warn_repair` (read-only commands). */
int partition_open(struct flat_ctx *ctx, bool lock, bool warn_repair, struct gpt_disk **ret);
/* Write the table back if anything changed; prints errors. 0 unchanged, 1 written. */
int partition_commit(struct flat_ctx *ctx, struct gpt_disk *d);
/* Print the state (partition show, §8.1); changed < 0 leaves "changed" out of the JSON. */
int partition_print_state(struct flat_ctx *ctx, struct gpt_disk *d, int changed);
/* "USR-A (partition 3, successful)" style description of an entry into buf (256 bytes). */
const char *partition_describe(const struct gpt *g, int nr, char *buf, size_t size);
