/* SPDX-License-Identifier: MIT */
/* include/bus/bus.h - D-Bus connections on sd-bus for the update daemon, its clients and the
 * reboot manager (docs/update.md 8.4, docs/reboot-lock.md 7.2). */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "util/cleanup.h"

enum bus_kind {
	BUS_NONE,    /* no D-Bus at all */
	BUS_SYSTEM,  /* the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket) */
	BUS_USER,    /* the session bus ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus) */
	BUS_ADDRESS, /* an explicit address, e.g. unix:path=$T/bus of a test */
	_BUS_KIND_MAX,
	_BUS_KIND_INVALID = -EINVAL,
};

/* "system", "user", "none", or an address (anything with a ':' such as "unix:path=..."):
 * *ret_kind, and *ret_address pointing into s for BUS_ADDRESS. -EINVAL otherwise. */
int bus_parse(const char *s, enum bus_kind *ret_kind, const char **ret_address);
const char *bus_kind_to_string(enum bus_kind k);

/* Connect as a client (Hello done). -ENOENT, -ECONNREFUSED ... when there is no bus. BUS_NONE:
 * -ENOMEDIUM. */
int bus_open(enum bus_kind kind, const char *address, sd_bus **ret);

/* "Name has no owner" and friends: nobody serves the name we called (the caller falls back). */
bool bus_error_is_no_service(int r);
