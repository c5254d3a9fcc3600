/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-payload-manifest-big.c - the CrAU manifest decoder (lib/payload/manifest.c) on
 * manifests of up to 16 MiB, where size is the attack: millions of repeated operations, extents,
 * procedures or unknown fields once cost protobuf-c 1.5 GB before any limit was looked at.
 * tests/fuzz/fuzz-payload-manifest-big.options gives libFuzzer a max_len and an RSS limit to match.
 *
 * An input starting with "REP" is a recipe, so that small inputs reach such sizes:
 *   "REP", count (4 bytes, little-endian), wrap (1 byte), unit length U (1 byte), U bytes of unit,
 *   then the tail; the manifest is the unit repeated count times, then the tail. With wrap & 1 the
 *   repetition is the body of one InstallOperation (field 1, its length prefixed), so
 *   the repeated unit lands inside an operation (extents). Anything else is the manifest as it is.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "payload/payload.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

static void check(const uint8_t *m, size_t size)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct payload_manifest *pm = NULL;
	int r = payload_manifest_parse(m, size, 0, &pm, &p);

	if (r < 0) {
		if (pm || !problem_has_errors(&p) ||
		    !(payload_error_is_invalid(r) || r == -ENOMEM || r == -ENOSPC))
			__builtin_trap();
		return;
	}
	if (!pm || pm->n_ops > PAYLOAD_OPS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < pm->n_ops; i++)
		if (pm->ops[i].n_extents > PAYLOAD_EXTENTS_MAX)
			__builtin_trap();
	payload_manifest_free(pm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t max = PAYLOAD_MANIFEST_MAX + 64;

	if (size < 9 || memcmp(data, "REP", 3) != 0) {
		if (size <= max)
			check(data, size);
		return 0;
	}
	uint32_t count = (uint32_t)data[3] | (uint32_t)data[4] << 8 | (uint32_t)data[5] << 16 |
			 (uint32_t)data[6] << 24;
	bool wrap = data[7] & 1;
	size_t ulen = data[8];
	if (ulen == 0 || size < 9 + ulen)
		return 0;
	const uint8_t *unit = data + 9, *tail = data + 9 + ulen;
	size_t tlen = size - 9 - ulen;
	if (count > (max - tlen - 16) / ulen)
		count = (uint32_t)((max - tlen - 16) / ulen);

	size_t body = (size_t)count * ulen, n = 0;
	uint8_t *m = malloc(body + tlen + 16);
	if (!m)
		return 0;
	if (wrap) {
		m[n++] = 0x0a;
		n += put_varint(m + n, body);
	}
	for (uint32_t i = 0; i < count; i++, n += ulen)
		memcpy(m + n, unit, ulen);
	memcpy(m + n, tail, tlen);
	n += tlen;
	check(m, n);
	free(m);
	return 0;
}
