/* SPDX-License-Identifier: MIT */
/* include/gpt/cgpt-show.h - per-copy raw views that `cgpt show -v/-d` prints beside the chosen
 * table (docs/partitions.md §9.1); gpt_read() keeps only the chosen copy's entries. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gpt;
struct gpt_copy;
struct gpt_entry;
struct gpt_header;

/* Number of sectors the entry array of header h occupies (cgpt's "Pri/Sec GPT table" row),
 * computed from its fields as they are, even for an invalid header. */
uint64_t gpt_cgpt_array_sectors(const struct gpt_header *h, uint32_t sector_size);

/* Read the entry array header h describes, on the disk behind fd, exactly as stored. On success
 * *ret (free() it) holds *ret_n entries. -EINVAL when h's entry size is not 128, its entry count
 * is out of range or the array does not lie inside the disk; -EIO and other -errno from pread. */
int gpt_cgpt_read_array(int fd, const struct gpt *g, const struct gpt_header *h,
			struct gpt_entry **ret, size_t *ret_n);

/* Whether the header sector of copy c (read again at c->header_lba) carries a matching CRC.
 * 0 and *ret set, or -errno. */
int gpt_cgpt_header_crc_ok(int fd, const struct gpt *g, const struct gpt_copy *c, bool *ret);
