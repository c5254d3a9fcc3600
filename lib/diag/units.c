/* SPDX-License-Identifier: MIT */
/* lib/diag/units.c - unit lists and properties from systemd over sd-bus (docs/diag.md §6). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "util/buf.h"
#include "diag/status.h"
#include "diag/units.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

int diag_bus_open(uint64_t timeout_usec, sd_bus **ret, const char **ret_why)
{
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		*ret_why = r == -ENOENT || r == -ECONNREFUSED ? "no system bus"
			   : r == -EACCES || r == -EPERM	 ? "system bus: permission denied"
								 : "system bus unavailable";
		return r;
	}
	(void)sd_bus_set_method_call_timeout(bus, timeout_usec);
	*ret = bus;
	return 0;
}

void diag_units_free(struct diag_unit *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++) {
		free(u[i].name);
		free(u[i].description);
		free(u[i].load);
		free(u[i].active);
		free(u[i].sub);
	}
	free(u);
}

int diag_units_list(sd_bus *bus, const char *state, struct diag_unit **ret, size_t *ret_n)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	struct diag_unit *v = NULL;
	size_t n = 0;
	int r;

	if (state) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
		r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
						   "ListUnitsFiltered");
		if (r >= 0)
			r = sd_bus_message_append(m, "as", 1, state);
		if (r >= 0)
			r = sd_bus_call(bus, m, 0, &error, &reply);
	} else
		r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ListUnits", &error,
				       &reply, NULL);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
	if (r < 0)
		return r;
	for (;;) {
		const char *name, *desc, *load, *active, *sub;
		r = sd_bus_message_read(reply, "(ssssssouso)", &name, &desc, &load, &active, &sub,
					NULL, NULL, NULL, NULL, NULL);
		if (r < 0) {
			diag_units_free(v, n);
			return r;
		}
		if (r == 0)
			break;
		struct diag_unit *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			diag_units_free(v, n);
			return -ENOMEM;
		}
		v = nv;
		v[n] = (struct diag_unit){ strdup(name), strdup(desc), strdup(load), strdup(active),
					   strdup(sub) };
		n++;
		if (!v[n - 1].name || !v[n - 1].description || !v[n - 1].load ||
		    !v[n - 1].active || !v[n - 1].sub) {
			diag_units_free(v, n);
			return -ENOMEM;
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static void prop_string(sd_bus *bus, const char *path, const char *iface, const char *name,
			struct dbuf *out)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	char *v = NULL;
	if (sd_bus_get_property_string(bus, SD_DEST, path, iface, name, &error, &v) >= 0)
		dbuf_printf(out, "%s=%s\n", name, v);
	sd_bus_error_free(&error);
	free(v);
}

static void prop_time(sd_bus *bus, const char *path, const char *name, struct dbuf *out)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t usec = 0;
	char t[32];
	if (sd_bus_get_property_trivial(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit", name,
					&error, 't', &usec) >= 0)
		dbuf_printf(out, "%s=%s\n", name,
			    usec ? diag_time_rfc3339(usec / 1000000, t, sizeof(t)) : "never");
	sd_bus_error_free(&error);
}

int diag_unit_describe(sd_bus *bus, const char *unit, struct dbuf *out)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *path;
	int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &error, &reply,
				   "s", unit);
	sd_bus_error_free(&error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return r;
	dbuf_printf(out, "Unit=%s\n", unit);
	prop_string(bus, path, "org.freedesktop.systemd1.Unit", "ActiveState", out);
	prop_string(bus, path, "org.freedesktop.systemd1.Unit", "SubState", out);
	prop_string(bus, path, "org.freedesktop.systemd1.Unit", "FragmentPath", out);
	if (strlen(unit) > 8 && strcmp(unit + strlen(unit) - 8, ".service") == 0) {
		int32_t st = 0;
		prop_string(bus, path, "org.freedesktop.systemd1.Service", "Result", out);
		if (sd_bus_get_property_trivial(bus, SD_DEST, path,
						"org.freedesktop.systemd1.Service",
						"ExecMainStatus", &error, 'i', &st) >= 0)
			dbuf_printf(out, "ExecMainStatus=%" PRId32 "\n", st);
		sd_bus_error_free(&error);
	}
	prop_time(bus, path, "StateChangeTimestamp", out);
	prop_time(bus, path, "ActiveEnterTimestamp", out);
	prop_time(bus, path, "ActiveExitTimestamp", out);
	prop_time(bus, path, "InactiveEnterTimestamp", out);
	return 0;
}
