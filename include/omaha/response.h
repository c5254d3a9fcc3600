/* SPDX-License-Identifier: MIT */
/* include/omaha/response.h - Omaha v3 response parser (docs/update.md 4.3): libxml2 from memory,
 * no network, no entity substitution, no DOCTYPE, at most 1 MiB. Pure function over a buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "omaha/codes.h"
#include "util/cleanup.h"

struct problem_list;

#define OMAHA_RESPONSE_MAX (1u << 20) /* 1 MiB */
#define OMAHA_PACKAGE_SIZE_MAX (1ULL << 40)
#define OMAHA_POLL_INTERVAL_MIN 60
#define OMAHA_POLL_INTERVAL_MAX 86400

enum omaha_outcome {
	OMAHA_OUTCOME_UPDATE,    /* updatecheck status ok: the fields below are valid */
	OMAHA_OUTCOME_NOUPDATE,  /* updatecheck status noupdate */
	OMAHA_OUTCOME_REFUSED,   /* app or updatecheck status other than ok: see refusal */
	OMAHA_OUTCOME_NO_CHECK,  /* no <updatecheck> in an answer to an event/ping-only request */
	_OMAHA_OUTCOME_MAX,
	_OMAHA_OUTCOME_INVALID = -EINVAL,
};

/* What a refusal means for the caller (docs/update.md 4.3.1). */
enum omaha_refusal {
	OMAHA_REFUSAL_NOUPDATE,  /* "noupdate" as an app status: exit 3 */
	OMAHA_REFUSAL_LATER,     /* Nebraska rollout limits: exit 75 */
	OMAHA_REFUSAL_DISABLED,  /* error-updatesDisabled: exit 3 */
	OMAHA_REFUSAL_ERROR,     /* anything else: exit 1 */
	_OMAHA_REFUSAL_MAX,
	_OMAHA_REFUSAL_INVALID = -EINVAL,
};

struct omaha_package {
	char *name;
	uint64_t size;
	bool has_sha1;                 /* package/@hash, base64 SHA-1: compare for a warning only */
	uint8_t sha1[20];
	bool has_sha256;               /* package/@hash_sha256, hex or base64: must match */
	uint8_t sha256[32];
};

struct omaha_response {
	char *server;                  /* response/@server or NULL */
	char *appid;                   /* the chosen app's appid as sent */
	char *app_status;              /* NULL when absent (taken as ok) */
	char *updatecheck_status;      /* NULL without <updatecheck> */
	enum omaha_outcome outcome;
	char *refusal;                 /* the refusing status string, verbatim (REFUSED) */
	unsigned poll_interval;        /* seconds, 0: absent or out of 60..86400 */

	/* OMAHA_OUTCOME_UPDATE only: */
	char *version;                 /* manifest/@version */
	char **urls;                   /* codebases, preference order */
	size_t n_urls;
	struct omaha_package *packages; /* [0] the OS payload, then extension payloads */
	size_t n_packages;
	uint8_t sha256[32];            /* action postinstall/@sha256: the whole payload file */
	bool disable_payload_backoff;
	int max_failure_count_per_url; /* -1: absent */
};

/* An appid as compared: without its braces, lower case ("e96281a6-..." for "{E96281A6-...}");
 * malloc'd, NULL when memory runs out. */
char *omaha_appid_normalize(const char *s);

/* Parses buf (size bytes, need not be NUL-terminated). appid is ours, compared without braces and
 * case. expect_updatecheck: the request carried <updatecheck> (its absence is then invalid).
 * Returns 0 with *ret set (check ->outcome), or:
 *   -EFBIG   more than OMAHA_RESPONSE_MAX bytes (nothing parsed);
 *   -EBADMSG not well-formed XML: one problem "line L: <libxml2 reason>" (error code 31);
 *   -EINVAL  well-formed but unusable: one problem per defect, `where` an element path such as
 *            "/response/app/updatecheck/manifest/actions/action" (error code 34).
 * Warnings (app picked despite another appid, garbled optional hash) go to reterr as well. */
int omaha_response_parse(const void *buf, size_t size, const char *appid, bool expect_updatecheck,
			 struct omaha_response **ret, struct problem_list *reterr);
struct omaha_response *omaha_response_free(struct omaha_response *r);
DEFINE_CLEANUP(struct omaha_response, omaha_response_free)

/* The Omaha error code for a parse failure: 31 for -EBADMSG, 34 for -EINVAL, else 1. */
enum omaha_error_code omaha_response_error_code(int parse_result);

enum omaha_refusal omaha_refusal_classify(const char *status);
const char *omaha_outcome_to_string(enum omaha_outcome o);

/* codebase + "/" (if missing) + package name; NULL: out of memory or index out of range. */
char *omaha_response_payload_url(const struct omaha_response *r, size_t url_index,
				 size_t package_index);
