/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-lock-window.c - reboot window grammar (start NUL length) and arithmetic. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lock/window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem_list p = {};
	struct reboot_window w;
	char *buf = malloc(size + 2);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = 0;
	buf[size + 1] = 0;
	const char *start = buf, *length = buf + strlen(buf) + (strlen(buf) < size ? 1 : 0);
	if (reboot_window_parse(start, length, &w, &p) >= 0) {
		bool in;
		time_t s, e;
		if (reboot_window_check(&w, 1795600000, &in, &s, &e) >= 0 && (e <= s || (in && s > 1795600000)))
			abort();
	}
	problem_list_release(&p);
	free(buf);
	return 0;
}
