/* SPDX-License-Identifier: MIT */
/* include/omaha/request.h - Omaha v3 request XML as Flatcar's update_engine sends it
 * (docs/update.md 4.2, 4.4). Pure function over its parameters: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "omaha/codes.h"

enum omaha_install_source {
	OMAHA_SOURCE_ONDEMAND,   /* "ondemandupdate": the CLI */
	OMAHA_SOURCE_SCHEDULER,  /* "scheduler": the daemon's periodic checks */
	_OMAHA_SOURCE_MAX,
	_OMAHA_SOURCE_INVALID = -EINVAL,
};

const char *omaha_install_source_to_string(enum omaha_install_source s);

struct omaha_event {
	enum omaha_event_type type;
	enum omaha_event_result result;
	enum omaha_error_code error_code;  /* sent as errorcode= when not OMAHA_ERROR_NONE */
	const char *previous_version;      /* NULL: no attribute; "" : previousversion="" */
};

/* The neutral report every update check carries (3/2, previousversion=""), and the post-reboot
 * reports (3/2 with the version we came from; 3/0 code 44 after a rollback). */
struct omaha_event omaha_event_neutral(void);
struct omaha_event omaha_event_rebooted(const char *previous_version);
struct omaha_event omaha_event_rollback(void);
struct omaha_event omaha_event_simple(enum omaha_event_type type, enum omaha_event_result result);
struct omaha_event omaha_event_error(enum omaha_error_code code);

struct omaha_request_params {
	const char *updater_version;  /* ours, e.g. "0.1.0": sent as "flatctl-0.1.0" */
	enum omaha_install_source source;
	const char *arch;             /* uname -m, for sp="<version>_<arch>" */
	/* <app> attributes, NULL sends "" */
	const char *appid;            /* as written in the release file (braces kept) */
	const char *version;          /* FLATCAR_RELEASE_VERSION */
	const char *track;            /* GROUP */
	const char *bootid;           /* with or without braces; sent braced */
	const char *oem, *oemversion;
	const char *alephversion;
	const char *machineid;        /* sent without braces */
	const char *machinealias;
	const char *board;
	/* body: <ping active="1"> and <updatecheck> when set, then the events in order */
	bool ping;
	bool updatecheck;
	const struct omaha_event *events;
	size_t n_events;
};

/* Builds the request document (UTF-8, XML-escaped values, 4-space indentation, trailing
 * newline), byte-identical to tests/data/omaha/request-updatecheck.xml for its values.
 * -EINVAL when a required value (updater_version, appid, version) is missing, the body is empty,
 * or an update check does not carry exactly one event (spec 4.2). *ret is NUL-terminated. */
int omaha_request_build(const struct omaha_request_params *p, char **ret, size_t *ret_size);
