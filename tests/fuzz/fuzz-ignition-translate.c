/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-ignition-translate.c - the spec 2.x -> 3.x translation (lib/ignition/translate.c,
 * docs/provision.md): any JSON object, declared as one of the 2.x versions chosen by the first
 * byte, goes through parse, 2.x rules and translation. When the config is valid, translating
 * again gives the same document, and the translation read back as a 3.1 config is that document
 * again and passes the 3.1 rules. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../lib/ignition/translate.h"
#include "ignition/ignition.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *text, size_t n, struct ign_config **ret)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	int r = ign_config_parse(text, n, ret, &pl);

	/* an invalid config always says why */
	if (r < 0 && r != -ENOMEM && !problem_has_errors(&pl))
		__builtin_trap();
	if (r >= 0 && problem_has_errors(&pl))
		__builtin_trap();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { "2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0" };
	_cleanup_(ign_config_freep) struct ign_config *c = NULL, *again = NULL, *back = NULL;

	if (size < 1 || size > (256u << 10))
		return 0;
	json_t *j = json_loadb((const char *)data + 1, size - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	json_t *ign = json_object_get(j, "ignition");
	if (!json_is_object(ign)) {
		ign = json_object();
		(void)json_object_set_new(j, "ignition", ign);
	}
	(void)json_object_set_new(ign, "version", json_string(versions[data[0] % 5]));
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return 0;

	int r = parse(text, strlen(text), &c);
	if (r >= 0 && (!c || !c->doc || c->translated_from < 20 || c->translated_from > 24))
		__builtin_trap();
	if (r >= 0) {
		/* the same input translates to the same document */
		if (parse(text, strlen(text), &again) < 0 || !json_equal(c->doc, again->doc))
			__builtin_trap();
		/* what it translates to, read back as a 3.1 config, is the same document, and valid
		 * by the 3.1 rules (those 2.x lacks aside: they are left to the 2.x checks) */
		_cleanup_(problem_list_release) struct problem_list pl = {};
		char *out = json_dumps(c->doc, JSON_COMPACT);
		if (!out)
			__builtin_trap();
		(void)parse(out, strlen(out), &back);
		if (!back || !back->doc || back->translated_from != 0 || back->version != 31 ||
		    !json_equal(back->doc, c->doc) ||
		    ign_config_validate_full(back->doc, 31, true, &pl) < 0)
			__builtin_trap();
		free(out);
	}
	free(text);
	return 0;
}
