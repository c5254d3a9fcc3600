/* SPDX-License-Identifier: MIT */
/* lib/gpt/internal.h - helpers shared by the files of lib/gpt (not part of the API): little-endian
 * field access, array geometry, the entry rules of docs/partitions.md §5.3 and the crash-safe
 * writer of §7.2 as the creating and editing code uses it. */
#pragma once

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gpt/gpt.h"

struct problem_list;

extern const char gpt_signature[8];

static inline uint32_t gpt_rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline uint64_t gpt_rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return le64toh(v);
}

static inline void gpt_wr32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static inline void gpt_wr64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* Whole sectors an array of n 128-byte entries takes. */
static inline uint64_t gpt_array_sectors(uint32_t n, uint32_t sector_size)
{
	return ((uint64_t)n * GPT_ENTRY_SIZE + sector_size - 1) / sector_size;
}

/* §5.3 on an entry array: used entries inside [first_usable, last_usable], no two overlapping,
 * unique GUIDs distinct. Every finding goes to reterr (only the first when first_only), each
 * naming the partitions. Returns 0 or -EINVAL. */
int gpt_entries_check(const struct gpt_entry *ents, uint32_t n, uint64_t first_usable,
		      uint64_t last_usable, bool first_only, struct problem_list *reterr);

/* Fill g->region_lba/region_bytes for the table the next write produces (§7.2 order). */
void gpt_plan_regions(struct gpt *g, uint64_t backup_array_lba);
