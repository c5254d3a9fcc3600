/* SPDX-License-Identifier: MIT */
/* lib/omaha/response-build.c - Omaha v3 answers in Nebraska's shape (docs/update.md 4.3): no XML
 * declaration, one line, explicit end tags; package/@hash is the base64 SHA-1, hash_sha256 the hex
 * SHA-256 (as Nebraska writes it), the postinstall action carries the base64 SHA-256 and
 * Nebraska's flags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "internal.h"
#include "omaha/response-build.h"
#include "util/cleanup.h"

static int put_update(FILE *f, const struct omaha_answer_app *a)
{
	_cleanup_free_ char *sha256 = crypto_base64_encode(a->packages[0].sha256, 32);
	if (!sha256)
		return -ENOMEM;
	fputs("<updatecheck status=\"ok\"", f);
	if (a->poll_interval)
		fprintf(f, " PollInterval=\"%u\"", a->poll_interval);
	fputs("><urls><url", f);
	omaha_xml_attr(f, "codebase", a->codebase);
	fputs("></url></urls><manifest", f);
	omaha_xml_attr(f, "version", a->version);
	fputs("><packages>", f);
	for (size_t i = 0; i < a->n_packages; i++) {
		const struct omaha_answer_package *p = &a->packages[i];
		_cleanup_free_ char *sha1 = crypto_base64_encode(p->sha1, 20);
		_cleanup_free_ char *hex = crypto_hex_encode(p->sha256, 32);
		if (!sha1 || !hex)
			return -ENOMEM;
		fputs("<package", f);
		omaha_xml_attr(f, "name", p->name);
		fprintf(f, " hash=\"%s\" hash_sha256=\"%s\" size=\"%llu\" required=\"%s\"></package>",
			sha1, hex, (unsigned long long)p->size, p->required ? "true" : "false");
	}
	fprintf(f, "</packages><actions><action event=\"postinstall\" sha256=\"%s\" "
		"needsadmin=\"false\" IsDeltaPayload=\"false\" DisablePayloadBackoff=\"true\">"
		"</action></actions></manifest></updatecheck>", sha256);
	return 0;
}

int omaha_response_build(const char *server, const struct omaha_answer_app *apps, size_t n_apps,
			 char **ret, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	int r = 0;

	for (size_t i = 0; i < n_apps; i++) {
		const struct omaha_answer_app *a = &apps[i];
		if (a->check < 0 || a->check >= _OMAHA_ANSWER_CHECK_MAX)
			return -EINVAL;
		if (a->check == OMAHA_ANSWER_UPDATE &&
		    (!a->codebase || !a->version || !a->packages || !a->n_packages))
			return -EINVAL;
		if (a->check == OMAHA_ANSWER_ERROR && (!a->status || !*a->status))
			return -EINVAL;
	}

	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fputs("<response protocol=\"3.0\"", f);
	omaha_xml_attr(f, "server", server ? server : "flatctl");
	fputs("><daystart elapsed_seconds=\"0\"></daystart>", f);
	for (size_t i = 0; i < n_apps && r == 0; i++) {
		const struct omaha_answer_app *a = &apps[i];
		fputs("<app", f);
		omaha_xml_attr(f, "appid", a->appid);
		omaha_xml_attr(f, "status", a->check == OMAHA_ANSWER_ERROR ? a->status : "ok");
		fputc('>', f);
		if (a->ping)
			fputs("<ping status=\"ok\"></ping>", f);
		switch (a->check) {
		case OMAHA_ANSWER_NOUPDATE:
			fputs("<updatecheck status=\"noupdate\"", f);
			if (a->poll_interval)
				fprintf(f, " PollInterval=\"%u\"", a->poll_interval);
			fputs("></updatecheck>", f);
			break;
		case OMAHA_ANSWER_UPDATE:
			r = put_update(f, a);
			break;
		case OMAHA_ANSWER_ERROR:
			/* Nebraska pairs an app-level error with this (docs/update.md 4.3.1) */
			fputs("<updatecheck status=\"error-internal\"></updatecheck>", f);
			break;
		default:
			break;
		}
		for (size_t k = 0; k < a->n_events; k++)
			fputs("<event status=\"ok\"></event>", f);
		fputs("</app>", f);
	}
	fputs("</response>\n", f);
	if (fclose(f) != 0)
		return -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(buf);
	if (ret_size)
		*ret_size = size;
	return 0;
}
