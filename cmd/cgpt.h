/* SPDX-License-Identifier: MIT */
/* cmd/cgpt.h - the `cgpt` link name (docs/partitions.md §9), provided by cmd/cgpt.c. */
#pragma once

#include "flatctl.h"

/* Entry point when flatctl runs as `cgpt`: cmd_partition() hands over to it. */
int cmd_cgpt_link(int argc, char **argv, struct flat_ctx *ctx);
