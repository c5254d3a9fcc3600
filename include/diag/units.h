/* SPDX-License-Identifier: MIT */
/* include/diag/units.h - systemd units over sd-bus for status and diag (docs/diag.md §6). */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct dbuf;
typedef struct sd_bus sd_bus;

struct diag_unit {
	char *name, *description, *load, *active, *sub;
};

/* Open the system bus with a method-call timeout. -errno and a reason in *ret_why (static
 * text) when there is none or it does not answer. */
int diag_bus_open(uint64_t timeout_usec, sd_bus **ret, const char **ret_why);

/* ListUnits (all loaded units) or ListUnitsFiltered([state]). *ret holds *ret_n units. */
int diag_units_list(sd_bus *bus, const char *state, struct diag_unit **ret, size_t *ret_n);
void diag_units_free(struct diag_unit *u, size_t n);

/* The Result, ExecMainStatus and timestamps of one unit as "Name=value" lines. */
int diag_unit_describe(sd_bus *bus, const char *unit, struct dbuf *out);
