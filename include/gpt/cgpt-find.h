/* SPDX-License-Identifier: MIT */
/* include/gpt/cgpt-find.h - which disks `cgpt find` without a DRIVE searches
 * (docs/partitions.md §9.4). */
#pragma once

#include <stddef.h>

/* The whole disks named in a /proc/partitions text, picked as cgpt does: a name directly followed
 * by one that extends it ("sda" then "sda1", "nvme0n1" then "nvme0n1p1"), so disks without
 * partitions and the partitions themselves are left out. Lines that are not
 * "MAJOR MINOR BLOCKS NAME" are skipped; names longer than 127 bytes or holding '/' are ignored.
 * On success *ret is a NULL-terminated array (free with gpt_cgpt_names_free()), possibly empty.
 * -ENOMEM otherwise. text need not be NUL-terminated. */
int gpt_cgpt_whole_disks(const char *text, size_t size, char ***ret);
char **gpt_cgpt_names_free(char **names);
