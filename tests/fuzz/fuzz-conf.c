/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-conf.c - fuzz target for the env-style config parser (lib/conf). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/conf.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, enum conf_syntax syntax)
{
	_cleanup_(conf_release) struct conf c = { .syntax = syntax };
	_cleanup_(problem_list_release) struct problem_list p = {};

	int r = conf_parse(&c, (const char *)data, size, "fuzz.conf", &p);
	if (r < 0)
		return;
	/* every key must be found again and every problem must carry a line */
	for (size_t i = 0; i < c.n; i++)
		if (conf_get(&c, c.item[i].key) != c.item[i].value)
			__builtin_trap();
	for (size_t i = 0; i < p.n; i++)
		if (p.item[i].line == 0 || !p.item[i].where)
			__builtin_trap();
	if ((size_t)r != p.n)
		__builtin_trap();
}

/* both syntaxes: os-release quoting and update.conf's simple rule */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CONF_MAX_SIZE)
		return 0;
	one(data, size, CONF_SHELL);
	one(data, size, CONF_SIMPLE);
	return 0;
}
