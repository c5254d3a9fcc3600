/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-update-state.c - fuzz target for the state.json loader (lib/update/state.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "update/metrics.h"
#include "update/state.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	_cleanup_(update_state_freep) struct update_state *s2 = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct update_staged st;
	struct update_pending pe;
	struct update_error e;

	if (size > UPDATE_STATE_MAX_SIZE)
		return 0;
	int r = update_state_parse((const char *)data, size, &s, &p);
	if (r < 0) {
		if (p.n == 0)
			__builtin_trap(); /* every rejection says why */
		return 0;
	}
	/* Every accessor works on whatever passed validation, and a rewrite parses again. */
	(void)update_state_status(s);
	(void)update_state_progress(s);
	(void)update_state_get_staged(s, &st);
	(void)update_state_get_pending(s, &pe);
	(void)update_state_get_last_error(s, &e);
	struct update_offer o = { .source = "omaha", .sha256 = "x", .size = 1 };
	(void)update_resume_decide(s, &o, 1);
	/* the metrics of docs/update.md 9.1 render from anything that loads */
	_cleanup_free_ char *prom = NULL;
	size_t prom_size = 0;
	if (update_metrics_render(s, "1.0", &prom, &prom_size) == 0 && strlen(prom) != prom_size)
		__builtin_trap();
	(void)update_state_count_failure(s, 9);
	(void)update_state_add_downloaded(s, 1);
	_cleanup_free_ char *text = update_state_format(s);
	if (!text)
		return 0;
	if (update_state_parse(text, strlen(text), &s2, NULL) < 0)
		__builtin_trap();
	return 0;
}
