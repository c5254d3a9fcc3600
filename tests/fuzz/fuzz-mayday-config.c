/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-mayday-config.c - fuzz target for the diag/mayday configuration parser
 * (lib/diag/config.c) and, on what it accepts, the redaction filter over the same bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"
#include "diag/config.h"
#include "diag/redact.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(diag_config_release) struct diag_config c = { .builtin = true };
	_cleanup_(problem_list_release) struct problem_list p = {};

	if (size > DIAG_CONFIG_MAX_SIZE)
		return 0;
	int r = diag_config_parse((const char *)data, size, "fuzz.json", &c, &p);
	if (r < 0) {
		/* a refusal always says why */
		if (!problem_has_errors(&p))
			__builtin_trap();
	} else {
		for (size_t i = 0; i < c.n_files; i++)
			if (!c.files[i].name || (c.files[i].link && !diag_link_name_valid(c.files[i].link)))
				__builtin_trap();
		for (size_t i = 0; i < c.n_cmds; i++)
			if (c.cmds[i].n_args == 0 || !c.cmds[i].args[0][0] ||
			    c.cmds[i].args[c.cmds[i].n_args])
				__builtin_trap();
	}
	/* the filter lets no line through that starts a private key block */
	struct diag_redact st = {};
	struct dbuf out = {};
	(void)diag_redact_text(&st, (const char *)data, size, &out);
	for (size_t o = 0; out.p && o < out.n;) {
		const char *nl = memchr(out.p + o, '\n', out.n - o);
		size_t e = nl ? (size_t)(nl - out.p) : out.n;
		const char *b = memmem(out.p + o, e - o, "-----BEGIN", 10);
		if (b && memmem(b, (size_t)(out.p + e - b), "PRIVATE KEY", 11))
			__builtin_trap();
		o = e + 1;
	}
	dbuf_release(&out);
	return 0;
}
