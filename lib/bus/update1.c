/* SPDX-License-Identifier: MIT */
/* lib/bus/update1.c - com.coreos.update1 on sd-bus: the object the update daemon serves, the
 * calls update_engine_client makes and the signal reboot managers listen to (docs/update.md
 * 8.4; the interface is update_engine's src/update_engine/update_engine.xml). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "bus/bus.h"
#include "bus/update1.h"
#include "util/cleanup.h"

struct server {
	const struct bus_update1_ops *ops;
	void *userdata;
};

static int reply_error(sd_bus_message *m, int r, sd_bus_error *error)
{
	if (sd_bus_error_is_set(error))
		return r < 0 ? r : -EIO;
	return sd_bus_error_set_errno(error, r < 0 ? r : -EIO);
}

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct server *s = userdata;
	struct bus_update1_status st = {};
	int r = s->ops->get_status(s->userdata, &st);
	if (r < 0)
		return reply_error(m, r, error);
	return sd_bus_reply_method_return(m, "xdssx", st.last_checked_time, st.progress,
					  st.current_operation, st.new_version, st.new_size);
}

static int method_attempt_update(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct server *s = userdata;
	int r = s->ops->attempt_update(s->userdata, error);
	if (r < 0)
		return reply_error(m, r, error);
	return sd_bus_reply_method_return(m, NULL);
}

static int method_reset_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct server *s = userdata;
	int r = s->ops->reset_status(s->userdata, error);
	if (r < 0)
		return reply_error(m, r, error);
	return sd_bus_reply_method_return(m, NULL);
}

static const sd_bus_vtable update1_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("AttemptUpdate", "", "", method_attempt_update, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("ResetStatus", "", "", method_reset_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetStatus", "", , "xdssx",
				 SD_BUS_PARAM(last_checked_time) SD_BUS_PARAM(progress)
					 SD_BUS_PARAM(current_operation) SD_BUS_PARAM(new_version)
						 SD_BUS_PARAM(new_size),
				 method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("StatusUpdate", "xdssx",
				 SD_BUS_PARAM(last_checked_time) SD_BUS_PARAM(progress)
					 SD_BUS_PARAM(current_operation) SD_BUS_PARAM(new_version)
						 SD_BUS_PARAM(new_size),
				 0),
	SD_BUS_VTABLE_END,
};

static void server_free(void *p)
{
	free(p);
}

int bus_update1_serve(sd_bus *bus, const struct bus_update1_ops *ops, void *userdata,
		      sd_bus_slot **ret_slot)
{
	sd_bus_slot *slot = NULL;
	struct server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ops = ops;
	s->userdata = userdata;
	r = sd_bus_add_object_vtable(bus, &slot, BUS_UPDATE1_PATH, BUS_UPDATE1_INTERFACE,
				     update1_vtable, s);
	if (r < 0) {
		free(s);
		return r;
	}
	(void)sd_bus_slot_set_destroy_callback(slot, server_free);
	r = sd_bus_request_name(bus, BUS_UPDATE1_NAME, 0);
	if (r < 0) {
		sd_bus_slot_unref(slot);
		return r;
	}
	*ret_slot = slot;
	return 0;
}

int bus_update1_emit(sd_bus *bus, const struct bus_update1_status *s)
{
	return sd_bus_emit_signal(bus, BUS_UPDATE1_PATH, BUS_UPDATE1_INTERFACE, "StatusUpdate",
				  "xdssx", s->last_checked_time, s->progress, s->current_operation,
				  s->new_version, s->new_size);
}

int bus_update1_read(sd_bus_message *m, struct bus_update1_status *ret)
{
	const char *op = NULL, *version = NULL;
	int64_t t = 0, size = 0;
	double progress = 0;
	int r;

	if (!sd_bus_message_has_signature(m, "xdssx"))
		return -EBADMSG;
	r = sd_bus_message_read(m, "xdssx", &t, &progress, &op, &version, &size);
	if (r < 0)
		return r;
	*ret = (struct bus_update1_status){ .last_checked_time = t, .progress = progress,
					    .new_size = size };
	snprintf(ret->current_operation, sizeof(ret->current_operation), "%s", op);
	snprintf(ret->new_version, sizeof(ret->new_version), "%s", version);
	return 0;
}

static int call(sd_bus *bus, const char *method, sd_bus_message **ret_reply, char *message,
		size_t size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BUS_UPDATE1_NAME, BUS_UPDATE1_PATH,
					   BUS_UPDATE1_INTERFACE, method);
	if (r < 0)
		return r;
	/* a client asks the running daemon; it never starts one */
	r = sd_bus_message_set_auto_start(m, 0);
	if (r < 0)
		return r;
	r = sd_bus_call(bus, m, 0, &error, ret_reply);
	if (r < 0 && message && size)
		snprintf(message, size, "%s", error.message ? error.message : strerror(-r));
	sd_bus_error_free(&error);
	return r;
}

int bus_update1_get_status(sd_bus *bus, struct bus_update1_status *ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r = call(bus, "GetStatus", &reply, NULL, 0);
	if (r < 0)
		return r;
	return bus_update1_read(reply, ret);
}

int bus_update1_call(sd_bus *bus, const char *method, char *message, size_t size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	return call(bus, method, &reply, message, size);
}

int bus_update1_watch(sd_bus *bus, int (*cb)(sd_bus_message *m, void *userdata, sd_bus_error *e),
		      void *userdata, sd_bus_slot **ret_slot)
{
	return sd_bus_match_signal(bus, ret_slot, NULL, NULL, BUS_UPDATE1_INTERFACE, "StatusUpdate",
				   cb, userdata);
}
