/* SPDX-License-Identifier: MIT */
/* lib/omaha/request.c - Omaha v3 request builder; docs/update.md 4.2 (envelope, attribute
 * order), 4.4 (events). Written by hand, not with xmlTextWriter, because servers and our tests
 * compare the exact bytes Flatcar's client sends (explicit end tags, attribute order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "omaha/request.h"
#include "util/cleanup.h"
#include "util/escape.h"

static const char *const source_names[_OMAHA_SOURCE_MAX] = {
	[OMAHA_SOURCE_ONDEMAND] = "ondemandupdate",
	[OMAHA_SOURCE_SCHEDULER] = "scheduler",
};

const char *omaha_install_source_to_string(enum omaha_install_source s)
{
	return s >= 0 && s < _OMAHA_SOURCE_MAX ? source_names[s] : NULL;
}

struct omaha_event omaha_event_neutral(void)
{
	return (struct omaha_event){ OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_SUCCESS_REBOOT,
				     OMAHA_ERROR_NONE, "" };
}

struct omaha_event omaha_event_rebooted(const char *previous_version)
{
	return (struct omaha_event){ OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_SUCCESS_REBOOT,
				     OMAHA_ERROR_NONE, previous_version ? previous_version : "" };
}

struct omaha_event omaha_event_rollback(void)
{
	return (struct omaha_event){ OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_ERROR,
				     OMAHA_ERROR_ROLLBACK, NULL };
}

struct omaha_event omaha_event_simple(enum omaha_event_type type, enum omaha_event_result result)
{
	return (struct omaha_event){ type, result, OMAHA_ERROR_NONE, NULL };
}

struct omaha_event omaha_event_error(enum omaha_error_code code)
{
	return (struct omaha_event){ OMAHA_EVENT_UPDATE_COMPLETE, OMAHA_RESULT_ERROR, code, NULL };
}

static void attr_braced(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	if (value && *value) {
		size_t n = strlen(value);
		bool braced = value[0] == '{' && value[n - 1] == '}';
		if (!braced)
			fputc('{', f);
		omaha_xml_escape(f, value);
		if (!braced)
			fputc('}', f);
	}
	fputc('"', f);
}

static void attr_unbraced(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	if (value) {
		size_t n = strlen(value);
		if (n >= 2 && value[0] == '{' && value[n - 1] == '}') {
			_cleanup_free_ char *inner = strndup(value + 1, n - 2);
			omaha_xml_escape(f, inner);
		} else
			omaha_xml_escape(f, value);
	}
	fputc('"', f);
}

int omaha_request_build(const struct omaha_request_params *p, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;

	if (!p->updater_version || !*p->updater_version || !p->appid || !*p->appid ||
	    !p->version || !*p->version)
		return -EINVAL;
	if (!omaha_install_source_to_string(p->source))
		return -EINVAL;
	if (!p->ping && !p->updatecheck && p->n_events == 0)
		return -EINVAL;
	if (p->updatecheck && p->n_events != 1)
		return -EINVAL;

	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	_cleanup_free_ char *uv = NULL, *sp = NULL;
	if (asprintf(&uv, "flatctl-%s", p->updater_version) < 0 ||
	    asprintf(&sp, "%s_%s", p->version, p->arch ? p->arch : "") < 0) {
		fclose(f);
		return -ENOMEM;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<request", f);
	omaha_xml_attr(f, "protocol", "3.0");
	omaha_xml_attr(f, "version", uv);
	omaha_xml_attr(f, "updaterversion", uv);
	omaha_xml_attr(f, "installsource", omaha_install_source_to_string(p->source));
	omaha_xml_attr(f, "ismachine", "1");
	fputs(">\n    <os", f);
	omaha_xml_attr(f, "version", "Chateau");
	omaha_xml_attr(f, "platform", "CoreOS");
	omaha_xml_attr(f, "sp", sp);
	fputs("></os>\n    <app", f);
	omaha_xml_attr(f, "appid", p->appid);
	omaha_xml_attr(f, "version", p->version);
	omaha_xml_attr(f, "track", p->track);
	attr_braced(f, "bootid", p->bootid);
	omaha_xml_attr(f, "oem", p->oem);
	omaha_xml_attr(f, "oemversion", p->oemversion);
	omaha_xml_attr(f, "alephversion", p->alephversion);
	attr_unbraced(f, "machineid", p->machineid);
	omaha_xml_attr(f, "machinealias", p->machinealias);
	omaha_xml_attr(f, "lang", "en-US");
	omaha_xml_attr(f, "board", p->board);
	omaha_xml_attr(f, "hardware_class", "");
	omaha_xml_attr(f, "delta_okay", "false");
	fputs(">\n", f);
	if (p->ping)
		fputs("        <ping active=\"1\"></ping>\n", f);
	if (p->updatecheck)
		fputs("        <updatecheck></updatecheck>\n", f);
	for (size_t i = 0; i < p->n_events; i++) {
		const struct omaha_event *e = &p->events[i];
		fprintf(f, "        <event eventtype=\"%d\" eventresult=\"%d\"", (int)e->type,
			(int)e->result);
		if (e->error_code != OMAHA_ERROR_NONE)
			fprintf(f, " errorcode=\"%d\"", (int)e->error_code);
		if (e->previous_version)
			omaha_xml_attr(f, "previousversion", e->previous_version);
		fputs("></event>\n", f);
	}
	fputs("    </app>\n</request>\n", f);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	if (ret_size)
		*ret_size = size;
	return 0;
}
