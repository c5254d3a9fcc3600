/* SPDX-License-Identifier: MIT */
/* cmd/provision.h - what cmd/provision.c shares with the `ignition` link
 * (cmd/provision-ignition.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "flatctl.h"
#include "ignition/ignition.h"
#include "provision/provision.h"

struct problem_list;

/* A config acquired, rendered, merged over the base configs and validated. */
struct prov_config {
	json_t *merged; /* newest 3.x structure */
	char *origin;	/* where the user config came from (redacted), or NULL */
	bool user_provided;
	char version[16];    /* of the user config, "" when none */
	char translated[16]; /* the 2.x version it was translated from, or "" */
	char sha512[160];    /* "sha512-..." of the user config text, or "" */
	enum ign_platform platform;
};
void prov_config_release(struct prov_config *c);

struct prov_acquire {
	int root_fd;
	const char *config;    /* --config */
	const char *platform;  /* --platform */
	uint64_t timeout_usec; /* --fetch-timeout */
	bool offline;	       /* fetch-offline: any remote resource is -EREMOTE */
};

/* Find, fetch, parse, render, merge and validate the config (docs/provision.md §2-4); every
 * problem is logged. Returns 0, -EREMOTE (offline and the config needs the network), or the
 * exit status to end with (1, 2, 75). */
int prov_config_acquire(struct flat_ctx *ctx, const struct prov_acquire *a,
			struct prov_config *ret);

/* The "flatctl" object of the result file for c. */
json_t *prov_config_result_info(const struct prov_config *c, unsigned stages);

/* Log every problem (warnings too) with its display path, strings escaped. */
void prov_log_problems(struct problem_list *pl, json_t *doc);


/* A file fetcher for resources of the config (file contents, appends): no size limit but
 * memory, the given fetch timeout. */
void prov_fetcher_init(struct ign_fetcher *f, int root_fd, uint64_t timeout_usec);

int cmd_provision_ignition(int argc, char **argv, struct flat_ctx *ctx);
