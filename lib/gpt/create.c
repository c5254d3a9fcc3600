/* SPDX-License-Identifier: MIT */
/* lib/gpt/create.c - creating an empty table and the checked edits that create, move, resize and
 * delete partitions; docs/partitions.md §5.3, §9.2, §9.7.
 *
 * Every checked edit works the same way: build the new 128-byte entry on the side, test it against
 * the usable area and every other used entry (the table was valid before, so only the new entry
 * can break a rule), and copy it into its slot only when no rule fails. The problem list gets one
 * entry per broken rule, naming the partitions, so callers such as the provisioning stage can
 * list everything wrong with a request at once. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/gpt.h"
#include "internal.h"
#include "util/problem.h"

void gpt_usable_range(const struct gpt *g, uint64_t *ret_first, uint64_t *ret_last)
{
	uint64_t as = gpt_array_sectors(g->hdr.num_entries, g->sector_size);

	*ret_first = g->hdr.first_usable_lba;
	/* On a grown (or shrunk) disk the next write moves the backup to the end (§6.5, §7.1). */
	if ((g->grown || g->shrunk) && g->sectors > as + 2)
		*ret_last = g->sectors - 1 - as - 1;
	else
		*ret_last = g->hdr.last_usable_lba;
}

int gpt_create(const struct gpt_create_params *p, struct gpt **ret, struct problem_list *reterr)
{
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint32_t ss = p->sector_size, n = p->num_entries ? p->num_entries : 128;

	if (ss != 512 && ss != 4096)
		return problem_add(reterr, -EINVAL, NULL,
				   "sector size %" PRIu32 " is not supported", ss);
	if (n > GPT_MAX_ENTRIES)
		return problem_add(reterr, -EINVAL, NULL,
				   "number of entries %" PRIu32 " out of range (1-1024)", n);
	uint64_t as = gpt_array_sectors(n, ss);
	/* LBA 0, the primary header, padding, both arrays, the backup header, one usable sector. */
	if (p->padding > p->sectors || p->sectors < 2 + p->padding + 2 * as + 2)
		return problem_add(reterr, -EINVAL, NULL,
				   "a disk of %" PRIu64 " sectors of %" PRIu32
				   " bytes is too small for a GPT with %" PRIu64
				   " sectors of padding (at least %" PRIu64 " sectors needed)",
				   p->sectors, ss, p->padding,
				   p->padding > p->sectors ? p->padding
							   : 2 + p->padding + 2 * as + 2);

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->sector_size = ss;
	g->sectors = p->sectors;
	g->mbr = GPT_MBR_UNKNOWN; /* LBA 0 is not known here: the caller decides about it */
	g->source = GPT_SOURCE_PRIMARY;
	g->primary.state = g->backup.state = GPT_COPY_OK;
	g->primary.header_valid = g->backup.header_valid = true;
	g->primary.entries_valid = g->backup.entries_valid = true;

	uint64_t last = p->sectors - 1;
	struct gpt_guid guid = {};
	if (p->disk_guid)
		guid = *p->disk_guid;
	else {
		int r = gpt_guid_random(&guid);
		if (r < 0)
			return problem_add(reterr, r, NULL, "generating a disk GUID: %s",
					   strerror(-r));
	}

	/* The header sector: 92 bytes of fields, the rest of the sector zero (§5.2). The location
	 * fields and CRCs are filled in by the writer for each copy. */
	g->hdr_sector = calloc(1, ss);
	if (!g->hdr_sector)
		return -ENOMEM;
	uint8_t *h = g->hdr_sector;
	memcpy(h, gpt_signature, 8);
	gpt_wr32(h + 8, 0x00010000);
	gpt_wr32(h + 12, GPT_HEADER_MIN_SIZE);
	gpt_wr64(h + 24, 1);
	gpt_wr64(h + 32, last);
	gpt_wr64(h + 40, 2 + p->padding + as);
	gpt_wr64(h + 48, last - as - 1);
	memcpy(h + 56, guid.bytes, 16);
	gpt_wr64(h + 72, 2 + p->padding);
	gpt_wr32(h + 80, n);
	gpt_wr32(h + 84, GPT_ENTRY_SIZE);

	g->array_bytes = (size_t)(as * ss);
	g->entries = calloc(1, g->array_bytes);
	g->orig_entries = calloc(1, g->array_bytes);
	if (!g->entries || !g->orig_entries)
		return -ENOMEM;
	gpt_wr32(h + 88, gpt_crc32(g->entries, (size_t)n * GPT_ENTRY_SIZE));
	gpt_wr32(h + 16, gpt_crc32(h, GPT_HEADER_MIN_SIZE));

	g->hdr = (struct gpt_header){
		.revision = 0x00010000,
		.header_size = GPT_HEADER_MIN_SIZE,
		.header_crc = gpt_rd32(h + 16),
		.my_lba = 1,
		.alternate_lba = last,
		.first_usable_lba = 2 + p->padding + as,
		.last_usable_lba = last - as - 1,
		.disk_guid = guid,
		.entries_lba = 2 + p->padding,
		.num_entries = n,
		.entry_size = GPT_ENTRY_SIZE,
		.entries_crc = gpt_rd32(h + 88),
	};
	memcpy(g->hdr.signature, gpt_signature, 8);
	g->primary.hdr = g->hdr;
	g->primary.header_lba = 1;
	g->backup.hdr = g->hdr;
	g->backup.hdr.my_lba = last;
	g->backup.hdr.alternate_lba = 1;
	g->backup.hdr.entries_lba = last - as;
	g->backup.header_lba = last;
	gpt_plan_regions(g, last - as);
	*ret = TAKE_PTR(g);
	return 0;
}

int gpt_check_entries(const struct gpt *g, struct problem_list *reterr)
{
	uint64_t first, last;

	gpt_usable_range(g, &first, &last);
	return gpt_entries_check(g->entries, g->hdr.num_entries, first, last, false, reterr);
}

/* The rules of §5.3 for candidate e in slot nr against the rest of the table. */
static int check_candidate(const struct gpt *g, unsigned nr, const struct gpt_entry *e,
			   uint64_t align, struct problem_list *reterr)
{
	char where[32];
	uint64_t first, last;
	int r = 0;

	if (!gpt_entry_is_used(e))
		return 0;
	snprintf(where, sizeof(where), "partition %u", nr);
	gpt_usable_range(g, &first, &last);
	uint64_t f = gpt_entry_first_lba(e), l = gpt_entry_last_lba(e);
	if (l < f)
		r = problem_add(reterr, -EINVAL, where,
				"partition %u would end (LBA %" PRIu64
				") before it starts (LBA %" PRIu64 ")",
				nr, l, f);
	else if (f < first || l > last)
		r = problem_add(reterr, -EINVAL, where,
				"partition %u (LBA %" PRIu64 "-%" PRIu64
				") would lie outside the usable area (LBA %" PRIu64 "-%" PRIu64 ")",
				nr, f, l, first, last);
	if (align > 1 && f % align != 0)
		r = problem_add(reterr, -EINVAL, where,
				"partition %u starts at LBA %" PRIu64
				", not a multiple of the alignment %" PRIu64,
				nr, f, align);
	for (unsigned i = 1; i <= g->hdr.num_entries; i++) {
		const struct gpt_entry *o = &g->entries[i - 1];
		if (i == nr || !gpt_entry_is_used(o))
			continue;
		uint64_t of = gpt_entry_first_lba(o), ol = gpt_entry_last_lba(o);
		if (f <= l && of <= l && f <= ol)
			r = problem_add(reterr, -EINVAL, where,
					"partition %u (LBA %" PRIu64 "-%" PRIu64
					") would overlap partition %u (LBA %" PRIu64 "-%" PRIu64
					")",
					nr, f, l, i, of, ol);
		if (gpt_guid_equal(&e->unique, &o->unique)) {
			char buf[GPT_GUID_STRING_MAX];
			r = problem_add(reterr, -EINVAL, where,
					"unique GUID %s is already used by partition %u",
					gpt_guid_to_string(&e->unique, true, buf), i);
		}
	}
	return r;
}

int gpt_entry_replace(struct gpt *g, unsigned nr, const struct gpt_entry *e, uint64_t align,
		      struct problem_list *reterr)
{
	struct gpt_entry *slot = gpt_entry_get(g, nr);

	if (!slot)
		return problem_add(reterr, -ERANGE, NULL, "partition number %u out of range (1-%u)",
				   nr, gpt_num_entries(g));
	int r = check_candidate(g, nr, e, align, reterr);
	if (r < 0)
		return r;
	memcpy(slot, e, sizeof(*slot));
	return 0;
}

int gpt_free_extent(const struct gpt *g, uint64_t from, uint64_t align, bool largest,
		    uint64_t *ret_first, uint64_t *ret_last)
{
	uint64_t first, last, best_f = 0, best_l = 0;
	bool found = false;

	gpt_usable_range(g, &first, &last);
	uint64_t pos = from > first ? from : first;
	for (;;) {
		if (align > 1 && pos % align)
			pos += align - pos % align;
		if (pos > last)
			break;
		/* The used entry covering pos pushes it past its end; else the extent runs up to
		 * the nearest start above pos. */
		uint64_t end = last;
		bool covered = false;
		for (unsigned i = 1; i <= g->hdr.num_entries; i++) {
			const struct gpt_entry *o = &g->entries[i - 1];
			if (!gpt_entry_is_used(o))
				continue;
			uint64_t of = gpt_entry_first_lba(o), ol = gpt_entry_last_lba(o);
			if (of <= pos && pos <= ol) {
				pos = ol + 1;
				covered = true;
				break;
			}
			if (of > pos && of - 1 < end)
				end = of - 1;
		}
		if (covered)
			continue;
		if (!found || end - pos > best_l - best_f) {
			best_f = pos;
			best_l = end;
			found = true;
		}
		if (!largest || end == last)
			break;
		pos = end + 1;
	}
	if (!found)
		return -ENOSPC;
	*ret_first = best_f;
	*ret_last = best_l;
	return 0;
}

int gpt_entry_add(struct gpt *g, const struct gpt_partition *p, struct problem_list *reterr)
{
	unsigned nr = p->nr;
	struct gpt_entry e = {};
	int r;

	if (nr == 0) {
		for (unsigned i = 1; i <= gpt_num_entries(g) && !nr; i++)
			if (!gpt_entry_is_used(gpt_entry_get_const(g, i)))
				nr = i;
		if (!nr)
			return problem_add(reterr, -ENOSPC, NULL, "no unused partition entry left");
	}
	const struct gpt_entry *slot = gpt_entry_get_const(g, nr);
	if (!slot)
		return problem_add(reterr, -ERANGE, NULL, "partition number %u out of range (1-%u)",
				   nr, gpt_num_entries(g));
	if (gpt_entry_is_used(slot))
		return problem_add(reterr, -EEXIST, NULL, "partition %u is in use", nr);
	if (gpt_guid_is_zero(&p->type))
		return problem_add(reterr, -EINVAL, NULL,
				   "partition %u needs a type other than unused", nr);
	if (p->label) {
		r = gpt_entry_set_label(&e, p->label);
		if (r < 0)
			return problem_add(reterr, -EINVAL, NULL, "label '%s' %s", p->label,
					   r == -ERANGE ? "is longer than 36 UTF-16 code units"
							: "is not valid UTF-8");
	}
	e.type = p->type;
	e.unique = p->unique;
	if (gpt_guid_is_zero(&e.unique)) {
		r = gpt_guid_random(&e.unique);
		if (r < 0)
			return problem_add(reterr, r, NULL, "generating a unique GUID: %s",
					   strerror(-r));
	}
	uint64_t first = p->first_lba, ext_f = 0, ext_l = 0;
	if (first == 0) {
		/* The first free extent (aligned) that holds size, or the first one for size 0. */
		r = gpt_free_extent(g, 0, p->align, false, &ext_f, &ext_l);
		while (r == 0 && p->size && ext_l - ext_f + 1 < p->size)
			r = gpt_free_extent(g, ext_l + 1, p->align, false, &ext_f, &ext_l);
		if (r < 0)
			return problem_add(reterr, -ENOSPC, NULL,
					   "no free space for partition %u%s", nr,
					   p->size ? " of the requested size" : "");
		first = ext_f;
	} else if (p->size == 0) {
		/* From first to the end of the free extent it starts. */
		r = gpt_free_extent(g, first, 0, false, &ext_f, &ext_l);
		if (r < 0 || ext_f != first)
			return problem_add(reterr, -ENOSPC, NULL,
					   "no free space for partition %u at LBA %" PRIu64, nr,
					   first);
	}
	gpt_entry_set_first_lba(&e, first);
	gpt_entry_set_last_lba(&e, p->size ? first + p->size - 1 : ext_l);
	gpt_entry_set_attributes(&e, p->attributes);
	r = gpt_entry_replace(g, nr, &e, p->align, reterr);
	return r < 0 ? r : (int)nr;
}

int gpt_entry_resize(struct gpt *g, unsigned nr, uint64_t first_lba, uint64_t size, uint64_t align,
		     struct problem_list *reterr)
{
	const struct gpt_entry *slot = gpt_entry_get_const(g, nr);

	if (!slot)
		return problem_add(reterr, -ERANGE, NULL, "partition number %u out of range (1-%u)",
				   nr, gpt_num_entries(g));
	if (!gpt_entry_is_used(slot))
		return problem_add(reterr, -ENOENT, NULL, "partition %u does not exist", nr);
	struct gpt_entry e = *slot;
	uint64_t first = first_lba ? first_lba : gpt_entry_first_lba(slot);
	gpt_entry_set_first_lba(&e, first);
	if (size)
		gpt_entry_set_last_lba(&e, first + size - 1);
	else {
		/* To the next used entry that starts after it, or the end of the usable area. */
		uint64_t f, limit;
		gpt_usable_range(g, &f, &limit);
		for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
			const struct gpt_entry *o = gpt_entry_get_const(g, i);
			if (i != nr && gpt_entry_is_used(o) && gpt_entry_first_lba(o) > first &&
			    gpt_entry_first_lba(o) - 1 < limit)
				limit = gpt_entry_first_lba(o) - 1;
		}
		gpt_entry_set_last_lba(&e, limit);
	}
	return gpt_entry_replace(g, nr, &e, align, reterr);
}

int gpt_entry_delete(struct gpt *g, unsigned nr, struct problem_list *reterr)
{
	struct gpt_entry *slot = gpt_entry_get(g, nr);

	if (!slot)
		return problem_add(reterr, -ERANGE, NULL, "partition number %u out of range (1-%u)",
				   nr, gpt_num_entries(g));
	if (!gpt_entry_is_used(slot))
		return problem_add(reterr, -ENOENT, NULL, "partition %u does not exist", nr);
	memset(slot, 0, sizeof(*slot));
	return 0;
}
