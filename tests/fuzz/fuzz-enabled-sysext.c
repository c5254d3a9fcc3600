/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-enabled-sysext.c - fuzz target for the enabled-sysext.conf parser
 * (lib/update/sysext.c, docs/update.md 6.7): the names it keeps become file names and URLs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "update/sysext.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_names(const struct update_ext_names *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *n = l->name[i];
		size_t len = strlen(n);
		if (len == 0 || len > 64 || n[0] == '-' || n[0] == '.' || strchr(n, '/') ||
		    strspn(n,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") !=
			    len)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	for (int etc = 0; etc < 2; etc++) {
		_cleanup_(update_ext_names_release) struct update_ext_names add = {}, del = {};
		_cleanup_(problem_list_release) struct problem_list p = {};
		if (update_ext_parse_enabled((const char *)data, size, "fuzz.conf", etc, &add, &del,
					     &p) < 0)
			continue;
		check_names(&add);
		check_names(&del);
		if (!etc && del.n)
			__builtin_trap();
		for (size_t i = 0; i < p.n; i++)
			if (!p.item[i].where || p.item[i].severity != PROBLEM_WARNING)
				__builtin_trap();
	}
	return 0;
}
