/* SPDX-License-Identifier: MIT */
/* include/omaha/request-parse.h - the server side of docs/update.md 4.2: an Omaha v3 request as
 * Flatcar's update_engine (and flatctl) send it, parsed with the hardened libxml2 entry point of
 * the response parser. Pure function over a buffer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

struct problem_list;

#define OMAHA_REQUEST_MAX (1u << 20)  /* 1 MiB */
#define OMAHA_REQUEST_APPS_MAX 16
#define OMAHA_REQUEST_EVENTS_MAX 64
#define OMAHA_REQUEST_ATTR_MAX 1024   /* longer attribute values are refused */

/* Attribute values as sent (libxml2 gives UTF-8; entities are never expanded); NULL: absent.
 * They are client strings: escape them before they reach a terminal or a log. */
struct omaha_request_event {
	char *eventtype, *eventresult, *errorcode, *previousversion;
};

struct omaha_request_app {
	char *appid, *version, *track, *bootid, *machineid, *machinealias, *oem, *oemversion,
		*alephversion, *board;
	bool ping, updatecheck;
	struct omaha_request_event *events;
	size_t n_events;
};

struct omaha_request {
	char *protocol, *version, *installsource;     /* <request> attributes */
	char *os_platform, *os_version, *os_sp;       /* <os> attributes */
	struct omaha_request_app *apps;
	size_t n_apps;
};

/* Parses buf (size bytes, need not be NUL-terminated). Returns 0 with *ret set, or:
 *   -EFBIG   more than OMAHA_REQUEST_MAX bytes;
 *   -EBADMSG not well-formed XML ("line L: <libxml2 reason>");
 *   -EINVAL  a DOCTYPE, a root other than <request>, a protocol not 3.x, no <app>, an app
 *            without appid, more than OMAHA_REQUEST_APPS_MAX apps or OMAHA_REQUEST_EVENTS_MAX
 *            events in one app, an attribute longer than OMAHA_REQUEST_ATTR_MAX bytes: one
 *            problem each, `where` an element path such as "/request/app[1]". */
int omaha_request_parse(const void *buf, size_t size, struct omaha_request **ret,
			struct problem_list *reterr);
struct omaha_request *omaha_request_free(struct omaha_request *r);
DEFINE_CLEANUP(struct omaha_request, omaha_request_free)
