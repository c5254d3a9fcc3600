/* SPDX-License-Identifier: MIT */
/* include/omaha/response-build.h - the server side of docs/update.md 4.3: Omaha v3 answers in
 * Nebraska's shape (the shape omaha_response_parse() reads). Pure function: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct omaha_answer_package {
	const char *name;              /* [A-Za-z0-9._+-]{1,255} */
	uint64_t size;
	uint8_t sha1[20], sha256[32];  /* of the whole file */
	bool required;
};

enum omaha_answer_check {
	OMAHA_ANSWER_NO_CHECK,         /* the request had no <updatecheck>: none in the answer */
	OMAHA_ANSWER_NOUPDATE,         /* <updatecheck status="noupdate"> */
	OMAHA_ANSWER_UPDATE,           /* <updatecheck status="ok"> with urls, manifest, actions */
	OMAHA_ANSWER_ERROR,            /* app status `status`, <updatecheck status="error-internal"> */
	_OMAHA_ANSWER_CHECK_MAX,
	_OMAHA_ANSWER_CHECK_INVALID = -EINVAL,
};

struct omaha_answer_app {
	const char *appid;             /* echoed as the client sent it */
	enum omaha_answer_check check;
	const char *status;            /* OMAHA_ANSWER_ERROR: the app status, e.g. error-... */
	bool ping;                     /* answer <ping status="ok"> */
	size_t n_events;               /* one <event status="ok"> each */
	unsigned poll_interval;        /* 0: no PollInterval attribute */
	/* OMAHA_ANSWER_UPDATE: */
	const char *codebase;          /* absolute http(s) URL, ends with '/' */
	const char *version;           /* manifest version */
	const struct omaha_answer_package *packages;  /* [0]: the OS payload */
	size_t n_packages;
};

/* The response document for the apps, in order, with server="<server>" (NULL: "flatctl").
 * String values are XML-escaped. -EINVAL when an update answer lacks codebase, version or
 * packages, or a status is missing. *ret is NUL-terminated; *ret_size without the NUL. */
int omaha_response_build(const char *server, const struct omaha_answer_app *apps, size_t n_apps,
			 char **ret, size_t *ret_size);
