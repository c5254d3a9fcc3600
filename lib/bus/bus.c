/* SPDX-License-Identifier: MIT */
/* lib/bus/bus.c - opening a D-Bus connection of the kind --bus names (docs/update.md 8.4). */
#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus/bus.h"

static const char *const kind_names[_BUS_KIND_MAX] = {
	[BUS_NONE] = "none",
	[BUS_SYSTEM] = "system",
	[BUS_USER] = "user",
	[BUS_ADDRESS] = "address",
};

const char *bus_kind_to_string(enum bus_kind k)
{
	return k >= 0 && k < _BUS_KIND_MAX ? kind_names[k] : NULL;
}

int bus_parse(const char *s, enum bus_kind *ret_kind, const char **ret_address)
{
	*ret_address = NULL;
	if (!s || !*s)
		return -EINVAL;
	for (int k = BUS_NONE; k <= BUS_USER; k++)
		if (strcmp(s, kind_names[k]) == 0) {
			*ret_kind = (enum bus_kind)k;
			return 0;
		}
	if (!strchr(s, ':'))
		return -EINVAL;
	*ret_kind = BUS_ADDRESS;
	*ret_address = s;
	return 0;
}

int bus_open(enum bus_kind kind, const char *address, sd_bus **ret)
{
	sd_bus *b = NULL;
	int r;

	switch (kind) {
	case BUS_SYSTEM:
		return sd_bus_open_system(ret);
	case BUS_USER:
		return sd_bus_open_user(ret);
	case BUS_ADDRESS:
		r = sd_bus_new(&b);
		if (r < 0)
			return r;
		if ((r = sd_bus_set_address(b, address)) < 0 || (r = sd_bus_set_bus_client(b, 1)) < 0 ||
		    (r = sd_bus_start(b)) < 0) {
			sd_bus_unref(b);
			return r;
		}
		*ret = b;
		return 0;
	case BUS_NONE:
		return -ENOMEDIUM;
	default:
		return -EINVAL;
	}
}

bool bus_error_is_no_service(int r)
{
	/* sd-bus maps org.freedesktop.DBus.Error.ServiceUnknown to -EHOSTUNREACH and
	 * NameHasNoOwner to -ENXIO */
	return r == -EHOSTUNREACH || r == -ENXIO || r == -ESRCH;
}
