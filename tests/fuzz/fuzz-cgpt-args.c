/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-cgpt-args.c - the cgpt link's command-line parser (lib/gpt/cgpt-args.c) on
 * arbitrary argv: the input is split at newlines into words, the first the command. Parsing must
 * never crash or read outside the words, a failure must leave exactly one problem, and a parsed
 * `cgpt add` applied to an empty and to a populated table must keep the table valid
 * (docs/partitions.md §5.3, §9). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/cgpt-args.h"
#include "gpt/gpt.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 64

/* A small table: 34 .. 4062 usable, partitions 1 [100, 199] and 2 [300, 399]. */
static struct gpt *table(bool populated)
{
	struct gpt_create_params p = { .sector_size = 512, .sectors = 4096 };
	struct gpt *g = NULL;

	if (gpt_create(&p, &g, NULL) < 0)
		return NULL;
	for (unsigned nr = 1; populated && nr <= 2; nr++) {
		struct gpt_partition a = {
			.nr = nr, .first_lba = nr * 200 - 100, .size = 100, .type = gpt_type_usr
		};
		a.unique.bytes[0] = (uint8_t)nr;
		if (gpt_entry_add(g, &a, NULL) < 0)
			abort();
	}
	return g;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *argv[MAX_WORDS + 1];
	int argc = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	/* words: the pieces between newlines (a NUL inside a word ends it, as in a real argv) */
	for (char *p = copy; argc < MAX_WORDS;) {
		argv[argc++] = p;
		char *nl = memchr(p, '\n', size - (size_t)(p - copy));
		if (!nl)
			break;
		*nl = 0;
		p = nl + 1;
	}
	argv[argc] = NULL;

	struct problem_list pl = {};
	struct gpt_cgpt_args a;
	int r = gpt_cgpt_parse(argc, argv, &a, &pl);
	if (r < 0 && r != -ENOMEM && pl.n != 1)
		abort();
	if (r == 0 && a.cmd == GPT_CGPT_ADD && !a.help) {
		for (int populated = 0; populated < 2; populated++) {
			struct gpt *g = table(populated);
			if (!g)
				break;
			struct problem_list ap = {};
			if (gpt_cgpt_add(g, &a.add, &ap) > 0 && gpt_check_entries(g, NULL) < 0)
				abort();
			problem_list_release(&ap);
			gpt_free(g);
		}
	}
	problem_list_release(&pl);
	free(copy);
	return 0;
}
