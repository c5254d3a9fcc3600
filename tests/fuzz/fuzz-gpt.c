/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-gpt.c - gpt_read() on arbitrary bytes as a 64 KiB disk must never crash or read
 * outside the buffer (docs/partitions.md §11). The input's first 34 sectors go to the start of
 * the disk, the rest (up to 33 sectors) to its end, so seeds look like tests/data/gpt/ files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/gpt.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DISK (64u * 1024u)
#define HEAD (34u * 512u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *disk = calloc(1, DISK);
	if (!disk)
		return 0;
	size_t head = size < HEAD ? size : HEAD;
	memcpy(disk, data, head);
	size_t tail = size - head;
	if (tail > DISK - HEAD)
		tail = DISK - HEAD;
	memcpy(disk + DISK - tail, data + head, tail);

	static const uint32_t sizes[] = { 0, 512, 4096 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct problem_list p = {};
		struct gpt *g = NULL;
		if (gpt_read_buffer(disk, DISK, sizes[i], &g, &p) == 0) {
			char label[GPT_LABEL_MAX];
			(void)gpt_next_boot(g);
			(void)gpt_needs_write(g);
			for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++)
				(void)gpt_entry_label(gpt_entry_get(g, nr), label);
			(void)gpt_prioritize(g, 0, 0, false);
			int nr = gpt_next_boot(g);
			if (nr > 0)
				(void)gpt_mark_successful(g, (unsigned)nr);
			uint64_t a, b;
			for (unsigned k = 1; k <= gpt_num_entries(g); k++)
				if (gpt_entry_is_used(gpt_entry_get(g, k))) {
					(void)gpt_grow(g, k, &a, &b);
					break;
				}
			/* the checked edits and the MBR builders on whatever table came out */
			uint64_t f, l;
			uint8_t mbr[GPT_MBR_SIZE] = {};
			struct gpt_partition np = { .type = gpt_type_usr, .align = 8 };
			bool valid = gpt_check_entries(g, &p) >= 0; /* a shrunk disk's is not */
			(void)gpt_free_extent(g, 0, 8, true, &f, &l);
			(void)gpt_mbr_make_hybrid(mbr, g, &p);
			if (gpt_entry_add(g, &np, &p) > 0 && valid &&
			    gpt_check_entries(g, NULL) < 0)
				abort();
			for (unsigned k = 1; k <= gpt_num_entries(g); k++)
				if (gpt_entry_is_used(gpt_entry_get(g, k))) {
					(void)gpt_entry_resize(g, k, 0, 0, 0, &p);
					(void)gpt_entry_delete(g, k, &p);
					break;
				}
			(void)gpt_write_buffer(disk, DISK, g, &p);
		}
		gpt_free(g);
		problem_list_release(&p);
	}
	free(disk);
	return 0;
}
