/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-ignition.c - the Ignition config parser, translator, validator and position
 * scanner on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem_list pl = {};
	struct ign_config *c = NULL;

	if (size > (1u << 20))
		return 0;
	(void)ign_config_parse((const char *)data, size, &c, &pl);
	(void)ign_problems_locate((const char *)data, size, &pl);
	for (size_t i = 0; c && i < pl.n; i++)
		free(fjson_pointer_to_display(c->raw, pl.item[i].where ? pl.item[i].where : ""));
	if (c && c->doc) {
		/* render over data: URLs only (offline), and merge the document with itself */
		struct ign_fetcher f = { .root_fd = -1, .offline = true };
		json_t *out = NULL, *m = NULL;
		if (ign_config_render(&f, c->doc, &out, &pl) == 0)
			json_decref(out);
		if (ign_config_merge(c->doc, c->doc, &m) == 0)
			json_decref(m);
	}
	ign_config_free(c);
	problem_list_release(&pl);
	return 0;
}
