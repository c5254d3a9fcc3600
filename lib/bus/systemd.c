/* SPDX-License-Identifier: MIT */
/* lib/bus/systemd.c - what systemd says about a unit, over its D-Bus API (org.freedesktop.systemd1,
 * object /org/freedesktop/systemd1, interfaces ...Manager and ...Unit; systemd's
 * org.freedesktop.systemd1(5)). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus/systemd.h"
#include "util/cleanup.h"

#define SD_NAME "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"

static int unit_path(sd_bus *bus, const char *method, const char *name, char *buf, size_t size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(bus, SD_NAME, SD_PATH, SD_MANAGER, method, &error, &reply, "s", name);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", path);
	return 0;
}

static int get_string(sd_bus *bus, const char *path, const char *prop, char *buf, size_t size)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *v = NULL;
	int r = sd_bus_get_property_string(bus, SD_NAME, path, SD_UNIT, prop, &error, &v);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", v);
	return 0;
}

int bus_unit_state(sd_bus *bus, const char *name, struct bus_unit_state *ret)
{
	int r;

	*ret = (struct bus_unit_state){};
	r = unit_path(bus, "GetUnit", name, ret->path, sizeof(ret->path));
	if (r == -ENOENT || r == -ENXIO) /* org.freedesktop.systemd1.NoSuchUnit: not loaded */
		r = unit_path(bus, "LoadUnit", name, ret->path, sizeof(ret->path));
	if (r < 0)
		return r;
	if ((r = get_string(bus, ret->path, "LoadState", ret->load_state,
			    sizeof(ret->load_state))) < 0 ||
	    (r = get_string(bus, ret->path, "ActiveState", ret->active_state,
			    sizeof(ret->active_state))) < 0 ||
	    (r = get_string(bus, ret->path, "SubState", ret->sub_state, sizeof(ret->sub_state))) < 0)
		return r;
	return 0;
}

int bus_systemd_subscribe(sd_bus *bus)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r = sd_bus_call_method(bus, SD_NAME, SD_PATH, SD_MANAGER, "Subscribe", &error, NULL, "");
	sd_bus_error_free(&error);
	return r;
}

int bus_unit_watch(sd_bus *bus, const char *path,
		   int (*cb)(sd_bus_message *m, void *userdata, sd_bus_error *e), void *userdata,
		   sd_bus_slot **ret_slot)
{
	return sd_bus_match_signal_async(bus, ret_slot, SD_NAME, path,
					 "org.freedesktop.DBus.Properties", "PropertiesChanged", cb,
					 NULL, userdata);
}
