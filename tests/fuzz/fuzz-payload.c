/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-payload.c - fuzz target for the CrAU reader (lib/payload): header, manifest and
 * Signatures decoding, the structural rules, and the bounded bzip2/xz decompression of the
 * streaming verify pass (docs/update.md 5, 12). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "payload/payload.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool documented(int r)
{
	return payload_error_is_invalid(r) || r == -ENOMEM || r == -ENOSPC;
}

static void stream(const uint8_t *data, size_t size, size_t step)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct payload_stream_opts o = { .usr_fd = -1, .kernel_fd = -1, .workers = 1,
					 .mem_budget = 1 << 20 };
	struct payload_stream *s = NULL;
	int r = payload_stream_new(&o, &s);

	if (r < 0)
		return;
	for (size_t i = 0; i < size && r >= 0; i += step)
		r = payload_stream_feed(s, data + i, size - i < step ? size - i : step, &p);
	if (r >= 0)
		r = payload_stream_finish(s, &p);
	/* no key is trusted, so nothing can pass; every failure says why */
	if (r >= 0 || !documented(r) || !problem_has_errors(&p))
		__builtin_trap();
	payload_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;

	stream(data, size, size ? size : 1);
	stream(data, size, 7);

	/* the input as a bare manifest and as a bare Signatures message */
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct payload_manifest *m = NULL;
	int r = payload_manifest_parse(data, size, 0, &m, &p);
	if (r < 0 && (m || !documented(r) || !problem_has_errors(&p)))
		__builtin_trap();
	if (r >= 0 && (!m || m->n_ops > PAYLOAD_OPS_MAX))
		__builtin_trap();
	payload_manifest_free(m);

	struct payload_signatures sigs = {};
	r = payload_signatures_parse(data, size, 0, &sigs, NULL);
	if (r >= 0 && sigs.n == 0)
		__builtin_trap();
	payload_signatures_release(&sigs);
	return 0;
}
