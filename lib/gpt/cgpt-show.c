/* SPDX-License-Identifier: MIT */
/* lib/gpt/cgpt-show.c - per-copy raw views for `cgpt show -v/-d`: docs/partitions.md §9.1.
 * Only reads: what the bytes of each copy say, beside the choice gpt_read() made. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"
#include "gpt/cgpt-show.h"
#include "gpt/gpt.h"

uint64_t gpt_cgpt_array_sectors(const struct gpt_header *h, uint32_t sector_size)
{
	if (!sector_size)
		return 0;
	uint64_t bytes = (uint64_t)h->num_entries * h->entry_size;
	return (bytes + sector_size - 1) / sector_size;
}

int gpt_cgpt_read_array(int fd, const struct gpt *g, const struct gpt_header *h,
			struct gpt_entry **ret, size_t *ret_n)
{
	if (h->entry_size != GPT_ENTRY_SIZE || h->num_entries < 1 ||
	    h->num_entries > GPT_MAX_ENTRIES)
		return -EINVAL;
	uint64_t sectors = gpt_cgpt_array_sectors(h, g->sector_size);
	if (h->entries_lba < 1 || h->entries_lba >= g->sectors ||
	    sectors > g->sectors - h->entries_lba)
		return -EINVAL;

	size_t bytes = (size_t)h->num_entries * GPT_ENTRY_SIZE;
	_cleanup_free_ struct gpt_entry *e = malloc(bytes);
	if (!e)
		return -ENOMEM;
	int r = fs_pread_all(fd, e, bytes, h->entries_lba * g->sector_size);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(e);
	*ret_n = h->num_entries;
	return 0;
}

int gpt_cgpt_header_crc_ok(int fd, const struct gpt *g, const struct gpt_copy *c, bool *ret)
{
	uint32_t size = c->hdr.header_size;

	if (c->header_lba >= g->sectors || g->sector_size < GPT_HEADER_MIN_SIZE) {
		*ret = false;
		return 0;
	}
	if (size < GPT_HEADER_MIN_SIZE || size > g->sector_size) {
		*ret = false;
		return 0;
	}
	_cleanup_free_ uint8_t *s = malloc(g->sector_size);
	if (!s)
		return -ENOMEM;
	int r = fs_pread_all(fd, s, g->sector_size, c->header_lba * g->sector_size);
	if (r < 0)
		return r;
	uint32_t stored;
	memcpy(&stored, s + 16, 4);
	memset(s + 16, 0, 4);
	*ret = gpt_crc32(s, size) == le32toh(stored);
	return 0;
}
