/* SPDX-License-Identifier: MIT */
/* lib/omaha/request.c - Omaha v3 request builder; docs/update.md 4.2 (envelope, attribute
 * order), 4.4 (events). Written by hand, not with xmlTextWriter, because servers and our tests
 * compare the exact bytes Flatcar's client sends (explicit end tags, attribute order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* XML attribute value escaping; control characters other than tab/newline are dropped (XML 1.0
 * cannot carry them), tab and newline become character references so they survive
 * attribute-value normalisation. A byte that is not valid UTF-8, and the non-characters U+FFFE
 * and U+FFFF (not XML Chars either), become U+FFFD: the document stays well-formed whatever a
 * release file or update.conf holds (found by tests/fuzz/fuzz-omaha-request.c). */
static void put_escaped(FILE *f, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		unsigned char c = *u;
		if (c >= 0x80) {
			size_t l = utf8_len(u, n - i);
			if (l == 0 || (l == 3 && u[0] == 0xef && u[1] == 0xbf && u[2] >= 0xbe)) {
				fputs("\xef\xbf\xbd", f);
				i += l ? l - 1 : 0;
			} else {
				fwrite(u, 1, l, f);
				i += l - 1;
			}
			continue;
		}
		switch (c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '\t': fputs("&#x9;", f); break;
		case '\n': fputs("&#xA;", f); break;
		case '\r': fputs("&#xD;", f); break;
		default:
			if (c >= 0x20 && c != 0x7f)
				fputc(c, f);
		}
	}
}

static void attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	put_escaped(f, value);
	fputc('"', f);
}

static void attr_braced(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	if (value && *value) {
		size_t n = strlen(value);
		bool braced = value[0] == '{' && value[n - 1] == '}';
		if (!braced)
			fputc('{', f);
		put_escaped(f, value);
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
			put_escaped(f, inner);
		} else
			put_escaped(f, value);
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
	attr(f, "protocol", "3.0");
	attr(f, "version", uv);
	attr(f, "updaterversion", uv);
	attr(f, "installsource", omaha_install_source_to_string(p->source));
	attr(f, "ismachine", "1");
	fputs(">\n    <os", f);
	attr(f, "version", "Chateau");
	attr(f, "platform", "CoreOS");
	attr(f, "sp", sp);
	fputs("></os>\n    <app", f);
	attr(f, "appid", p->appid);
	attr(f, "version", p->version);
	attr(f, "track", p->track);
	attr_braced(f, "bootid", p->bootid);
	attr(f, "oem", p->oem);
	attr(f, "oemversion", p->oemversion);
	attr(f, "alephversion", p->alephversion);
	attr_unbraced(f, "machineid", p->machineid);
	attr(f, "machinealias", p->machinealias);
	attr(f, "lang", "en-US");
	attr(f, "board", p->board);
	attr(f, "hardware_class", "");
	attr(f, "delta_okay", "false");
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
			attr(f, "previousversion", e->previous_version);
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
