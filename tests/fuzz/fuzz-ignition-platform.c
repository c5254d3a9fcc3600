/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-ignition-platform.c - what the platform providers parse from outside: the
 * base64 body of Azure's IMDS userData, the test switch's base URL, and platform names (from
 * the kernel command line). The first byte picks the parser; the rest is its input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	const char *in = (const char *)data + 1;
	size_t n = size - 1;
	char *s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, in, n);
	s[n] = 0;
	switch (data[0] % 3) {
	case 0: {
		char *out = NULL;
		size_t on = 0;
		if (ign_base64_decode(in, n, &out, &on) == 0) {
			/* the decoded size never exceeds 3/4 of the input */
			if (on > n / 4 * 3 + 3 || out[on] != 0)
				abort();
			free(out);
		}
		break;
	}
	case 1:
		/* accepted URLs are loopback only: never one with userinfo, a path or a query */
		if (ign_platform_test_url_check(s) == 0 && strpbrk(s, "@/?#") != strstr(s, "//"))
			abort();
		break;
	case 2: {
		enum ign_platform p = ign_platform_from_string(s);
		if (p >= 0 && (!ign_platform_to_string(p) || !ign_platform_ignition_name(p)))
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
