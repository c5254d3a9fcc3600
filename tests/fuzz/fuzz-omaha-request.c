/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-omaha-request.c - Omaha request round trip (lib/omaha/request.c): a request
 * built from fuzzed field values must be well-formed XML whatever the values hold, and parsing
 * it back must give every clean value (valid UTF-8, no control characters) unchanged.
 *
 * Input: one byte of flags (ping, updatecheck, install source, number of events), three bytes
 * per event (type, result, error code), then the string fields separated by NUL bytes. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "omaha/request.h"
#include "util/cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	F_APPID,
	F_VERSION,
	F_TRACK,
	F_BOOTID,
	F_OEM,
	F_OEMVERSION,
	F_ALEPH,
	F_MACHINEID,
	F_ALIAS,
	F_BOARD,
	F_UPDATER,
	F_ARCH,
	F_PREVIOUS,
	F_MAX
};

/* What XML 1.0 can carry in an attribute and gives back as it was: valid UTF-8 without C0
 * controls other than tab, newline and carriage return, without U+FFFE/U+FFFF. */
static bool clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned l = *p < 0x80			? 1
			     : *p >= 0xc2 && *p <= 0xdf ? 2
			     : *p >= 0xe0 && *p <= 0xef ? 3
			     : *p >= 0xf0 && *p <= 0xf4 ? 4
							: 0;
		if (l == 0 || (l == 1 && *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') ||
		    *p == 0x7f)
			return false;
		for (unsigned i = 1; i < l; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		if ((l == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
				(p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe))) ||
		    (l == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))))
			return false;
		p += l;
	}
	return true;
}

static void expect_attr(xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);

	if (!v)
		__builtin_trap();
	if (want && clean(want) && strcmp((const char *)v, want) != 0)
		__builtin_trap();
	xmlFree(v);
}

static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct omaha_event ev[4];
	const char *f[F_MAX] = {};
	size_t n_events, k = 0;

	if (size < 1 || size > 65536)
		return 0;
	uint8_t flags = data[0];
	n_events = (flags >> 4) & 3;
	if (size < 1 + 3 * n_events)
		return 0;
	for (size_t i = 0; i < n_events; i++) {
		const uint8_t *e = data + 1 + 3 * i;
		ev[i] = (struct omaha_event){ .type = e[0], .result = e[1], .error_code = e[2] };
	}
	size_t off = 1 + 3 * n_events;
	_cleanup_free_ char *strings = malloc(size - off + 1);
	if (!strings)
		return 0;
	memcpy(strings, data + off, size - off);
	strings[size - off] = 0;
	for (char *p = strings; k < F_MAX && p <= strings + (size - off); p += strlen(p) + 1)
		f[k++] = p;
	if (f[F_PREVIOUS] && n_events)
		ev[0].previous_version = f[F_PREVIOUS];

	struct omaha_request_params rp = {
		.updater_version = f[F_UPDATER] ? f[F_UPDATER] : "0.1",
		.source = (enum omaha_install_source)(flags & 1),
		.arch = f[F_ARCH],
		.appid = f[F_APPID],
		.version = f[F_VERSION],
		.track = f[F_TRACK],
		.bootid = f[F_BOOTID],
		.oem = f[F_OEM],
		.oemversion = f[F_OEMVERSION],
		.alephversion = f[F_ALEPH],
		.machineid = f[F_MACHINEID],
		.machinealias = f[F_ALIAS],
		.board = f[F_BOARD],
		.ping = flags & 2,
		.updatecheck = flags & 4,
		.events = ev,
		.n_events = n_events,
	};
	_cleanup_free_ char *xml = NULL;
	size_t xml_size = 0;
	int r = omaha_request_build(&rp, &xml, &xml_size);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			__builtin_trap();
		return 0;
	}
	if (!xml || strlen(xml) != xml_size)
		__builtin_trap();

	xmlDoc *doc = xmlReadMemory(xml, (int)xml_size, NULL, NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		__builtin_trap(); /* what we send must be well-formed, whatever the values hold */
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *app = child(root, "app");
	if (!root || strcmp((const char *)root->name, "request") != 0 || !app)
		__builtin_trap();
	expect_attr(app, "appid", rp.appid);
	expect_attr(app, "version", rp.version);
	expect_attr(app, "track", rp.track);
	expect_attr(app, "oem", rp.oem);
	expect_attr(app, "oemversion", rp.oemversion);
	expect_attr(app, "alephversion", rp.alephversion);
	expect_attr(app, "machinealias", rp.machinealias);
	expect_attr(app, "board", rp.board);
	expect_attr(app, "bootid", NULL);
	expect_attr(app, "machineid", NULL);
	size_t seen = 0;
	for (xmlNode *c = app->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "event") == 0) {
			if (seen == 0 && ev[0].previous_version)
				expect_attr(c, "previousversion", ev[0].previous_version);
			seen++;
		}
	if (seen != n_events || !child(app, "ping") != !rp.ping ||
	    !child(app, "updatecheck") != !rp.updatecheck)
		__builtin_trap();
	xmlFreeDoc(doc);
	return 0;
}
