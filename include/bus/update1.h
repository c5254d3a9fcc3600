/* SPDX-License-Identifier: MIT */
/* include/bus/update1.h - update_engine's D-Bus interface com.coreos.update1 (docs/update.md
 * 8.4): bus name com.coreos.update1, object /com/coreos/update1, interface
 * com.coreos.update1.Manager with AttemptUpdate(), ResetStatus(), GetStatus() -> (xdssx) and
 * the StatusUpdate (xdssx) signal; the field order is update_engine's. Serving and calling. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#define BUS_UPDATE1_NAME "com.coreos.update1"
#define BUS_UPDATE1_PATH "/com/coreos/update1"
#define BUS_UPDATE1_INTERFACE "com.coreos.update1.Manager"

/* The body of GetStatus and StatusUpdate. */
struct bus_update1_status {
	int64_t last_checked_time;
	double progress;
	char current_operation[64];  /* "UPDATE_STATUS_IDLE" ... */
	char new_version[128];       /* "0.0.0" when none */
	int64_t new_size;
};

/* What the service does; each returns 0 or a negative errno with *error set (may be left empty:
 * a generic error is sent). */
struct bus_update1_ops {
	int (*get_status)(void *userdata, struct bus_update1_status *ret);
	int (*attempt_update)(void *userdata, sd_bus_error *error);
	int (*reset_status)(void *userdata, sd_bus_error *error);
};

/* Register the object and take the name (no queueing: -EEXIST when another owner has it). */
int bus_update1_serve(sd_bus *bus, const struct bus_update1_ops *ops, void *userdata,
		      sd_bus_slot **ret_slot);
/* Emit StatusUpdate from the object path. */
int bus_update1_emit(sd_bus *bus, const struct bus_update1_status *s);

/* Read an xdssx body (a GetStatus reply or a StatusUpdate signal). -EBADMSG for any other body. */
int bus_update1_read(sd_bus_message *m, struct bus_update1_status *ret);

/* Calls on the service; without an owner of the name -ENXIO/-EHOSTUNREACH (see
 * bus_error_is_no_service()); the service is never auto-started. *message (may be NULL) gets
 * the D-Bus error message of a failed call. */
int bus_update1_get_status(sd_bus *bus, struct bus_update1_status *ret);
int bus_update1_call(sd_bus *bus, const char *method, char *message, size_t size);

/* Call cb for every StatusUpdate on the bus, from any sender (as locksmithd does: it matches
 * interface and member only). */
int bus_update1_watch(sd_bus *bus, int (*cb)(sd_bus_message *m, void *userdata, sd_bus_error *e),
		      void *userdata, sd_bus_slot **ret_slot);
