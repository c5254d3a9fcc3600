/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-proc-partitions.c - gpt_cgpt_whole_disks() on arbitrary bytes (a
 * /proc/partitions text, not NUL-terminated) must never crash or read outside the input, and
 * every name it returns must be a non-empty path component. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/cgpt-find.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so reading past it is caught by the sanitizers. */
	char *text = malloc(size ? size : 1);
	char **names = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	if (gpt_cgpt_whole_disks(text, size, &names) == 0) {
		for (size_t i = 0; names[i]; i++)
			if (!names[i][0] || strchr(names[i], '/') || strlen(names[i]) > 127)
				abort();
		gpt_cgpt_names_free(names);
	}
	free(text);
	return 0;
}
