/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-omaha.c - fuzz target for the Omaha response parser (lib/omaha/response.c) and
 * the request parser of `update serve` (lib/omaha/request-parse.c), on the same inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omaha/request-parse.h"
#include "omaha/response.h"
#include "util/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal always says why, sets no result, and its errno is one of the documented ones. */
static void refused(int rr, bool has_result, const struct problem_list *p)
{
	if (has_result || !problem_has_errors(p))
		__builtin_trap();
	if (rr != -EFBIG && rr != -EBADMSG && rr != -EINVAL && rr != -ENOMEM)
		__builtin_trap();
}

static void check(const uint8_t *data, size_t size, bool expect_updatecheck)
{
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};

	int rr = omaha_response_parse(data, size, "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}",
				      expect_updatecheck, &r, &p);
	if (rr < 0) {
		refused(rr, r != NULL, &p);
		return;
	}
	if (!r || problem_has_errors(&p))
		__builtin_trap();
	switch (r->outcome) {
	case OMAHA_OUTCOME_UPDATE:
		if (!r->version || !r->n_urls || !r->n_packages || !r->packages[0].size)
			__builtin_trap();
		for (size_t u = 0; u < r->n_urls; u++)
			for (size_t k = 0; k < r->n_packages; k++) {
				char *url = omaha_response_payload_url(r, u, k);
				if (!url || strncasecmp(url, "http", 4) != 0)
					__builtin_trap();
				free(url);
			}
		break;
	case OMAHA_OUTCOME_REFUSED:
		if (!r->refusal)
			__builtin_trap();
		break;
	case OMAHA_OUTCOME_NO_CHECK:
		if (expect_updatecheck)
			__builtin_trap();
		break;
	default:
		break;
	}
}

static void check_request(const uint8_t *data, size_t size)
{
	_cleanup_(omaha_request_freep) struct omaha_request *r = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};

	int rr = omaha_request_parse(data, size, &r, &p);
	if (rr < 0) {
		refused(rr, r != NULL, &p);
		return;
	}
	/* an accepted request has 1..16 apps, each with an appid and at most 64 events */
	if (!r || !r->n_apps || r->n_apps > OMAHA_REQUEST_APPS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < r->n_apps; i++)
		if (!r->apps[i].appid || !*r->apps[i].appid ||
		    r->apps[i].n_events > OMAHA_REQUEST_EVENTS_MAX)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_request(data, size);
	check(data, size, true);
	check(data, size, false);
	return 0;
}
