/* SPDX-License-Identifier: MIT */
/* lib/ignition/translate.h - private: spec 2.x rules and the 2.x -> 3.x translation. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

struct problem_list;

/* Check the canonical 2.x document doc2 with 2.x rules and translate it (provision.md 2.3) to
 * the newest 3.x structure, declared as 3.1.0 as Flatcar does. Problems are reported at 2.x
 * pointers. Returns 0 or -EINVAL (*ret may still be set), -ENOMEM. */
int ign_translate_v2(json_t *doc2, int version, json_t **ret, struct problem_list *reterr);

/* A data: URL holding data (percent-encoded). NULL on ENOMEM. */
char *ign_data_url_encode(const char *data, size_t n);

/* ign_config_validate(), for a document translated from 2.x when from2 is set. */
int ign_config_validate_full(json_t *doc, int version, bool from2, struct problem_list *reterr);
