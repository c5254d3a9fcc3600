/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-passwd.c - fuzz target for the passwd/shadow/group/gshadow parser
 * (lib/provision/passwd.c): whatever the input, formatting it back gives the same bytes, and
 * an entry added, changed and removed leaves a file that parses again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provision/passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *in, size_t size, unsigned nf)
{
	struct pw_file f = {};
	if (pw_file_parse(in, size, nf, &f) < 0)
		return;
	size_t n = 0;
	char *out = pw_file_format(&f, &n);
	if (!out || n != size || memcmp(out, in, size) != 0)
		__builtin_trap();
	free(out);
	const char *fields[9] = { "fz", "x", "1", "1", "", "/", "/bin/sh", "", "" };
	long i = pw_file_add(&f, fields);
	if (i >= 0) {
		(void)pw_file_set(&f, (size_t)i, nf - 1, "y");
		(void)pw_list_add(&f, (size_t)i, nf - 1, "m");
		if (f.n > 1 && f.l[0].f)
			(void)pw_list_remove(&f, 0, nf - 1, "m");
		pw_file_remove(&f, 0);
	}
	out = pw_file_format(&f, &n);
	struct pw_file g = {};
	if (!out || pw_file_parse(out, n, nf, &g) < 0 || g.n != f.n)
		__builtin_trap();
	free(out);
	pw_file_release(&g);
	pw_file_release(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned nf[] = { 7, 9, 4 };
	for (size_t k = 0; k < 3; k++)
		one((const char *)data, size, nf[k]);
	return 0;
}
