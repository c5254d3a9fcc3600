/* SPDX-License-Identifier: MIT */
/* include/bus/systemd.h - unit states from systemd's org.freedesktop.systemd1 D-Bus API, for
 * the health check before a boot is marked good (docs/update.md 11, docs/update-daemon.md). */
#pragma once

#include <stddef.h>

#include <systemd/sd-bus.h>

struct bus_unit_state {
	char path[256];         /* /org/freedesktop/systemd1/unit/... */
	char load_state[32];    /* "loaded", "not-found", ... */
	char active_state[32];  /* "active", "failed", "inactive", "activating", ... */
	char sub_state[32];     /* "running", "exited", "dead", ... */
};

/* The unit's object (Manager.GetUnit, or LoadUnit when it is not loaded) and its Unit
 * properties LoadState, ActiveState and SubState. */
int bus_unit_state(sd_bus *bus, const char *name, struct bus_unit_state *ret);

/* Manager.Subscribe: systemd then sends PropertiesChanged for its units to this connection. */
int bus_systemd_subscribe(sd_bus *bus);

/* Call cb (asynchronously installed) whenever the properties of the unit at path change. */
int bus_unit_watch(sd_bus *bus, const char *path,
		   int (*cb)(sd_bus_message *m, void *userdata, sd_bus_error *e), void *userdata,
		   sd_bus_slot **ret_slot);
