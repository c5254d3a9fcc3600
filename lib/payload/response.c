/* SPDX-License-Identifier: MIT */
/* lib/payload/response.c - the Omaha response `update pack --omaha-response` writes: Nebraska's
 * shape (docs/update.md 4.3), one app, one package, the postinstall action with the payload's
 * SHA-256. Values are checked against the rules the response parser applies, then XML-escaped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "payload/payload.h"
#include "util/escape.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define DEFAULT_APPID "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			fputc(*s, f);
		}
}

static bool package_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") == n;
}

int payload_omaha_response(const struct payload_omaha_response_params *p, char **ret,
			   struct problem_list *reterr)
{
	const char *appid = p->appid ? p->appid : DEFAULT_APPID;
	_cleanup_free_ char *sha1 = NULL, *sha256 = NULL, *hex = NULL, *buf = NULL;
	size_t size = 0;

	if (!p->version || !str_printable_ascii(p->version, 1, 64))
		return problem_add(reterr, -EINVAL, "--version",
				   "version must be 1 to 64 printable characters");
	if (!p->url_base || (strncmp(p->url_base, "http://", 7) != 0 &&
			     strncmp(p->url_base, "https://", 8) != 0) ||
	    !str_printable_ascii(p->url_base, 9, 4096))
		return problem_add(reterr, -EINVAL, "--url-base",
				   "'%s' is not an absolute http:// or https:// URL",
				   p->url_base ? p->url_base : "");
	if (!p->name || !package_name_ok(p->name))
		return problem_add(reterr, -EINVAL, "--out",
				   "package name '%s' is not [A-Za-z0-9._+-]{1,255}",
				   p->name ? p->name : "");
	if (!str_printable_ascii(appid, 1, 256))
		return problem_add(reterr, -EINVAL, "--appid", "appid must be printable");

	sha1 = crypto_base64_encode(p->payload->sha1, PAYLOAD_SHA1_SIZE);
	sha256 = crypto_base64_encode(p->payload->sha256, PAYLOAD_SHA256_SIZE);
	hex = crypto_hex_encode(p->payload->sha256, PAYLOAD_SHA256_SIZE);
	if (!sha1 || !sha256 || !hex)
		return -ENOMEM;

	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<response protocol=\"3.0\" server=\"flatctl\"><daystart elapsed_seconds=\"0\">"
	      "</daystart><app appid=\"", f);
	put_escaped(f, appid);
	fputs("\" status=\"ok\"><ping status=\"ok\"></ping><updatecheck status=\"ok\"><urls>"
	      "<url codebase=\"", f);
	put_escaped(f, p->url_base);
	fputs("\"></url></urls><manifest version=\"", f);
	put_escaped(f, p->version);
	fputs("\"><packages><package name=\"", f);
	put_escaped(f, p->name);
	fprintf(f,
		"\" hash=\"%s\" hash_sha256=\"%s\" size=\"%llu\" required=\"true\"></package>"
		"</packages><actions><action event=\"postinstall\" sha256=\"%s\" "
		"needsadmin=\"false\" IsDeltaPayload=\"false\" DisablePayloadBackoff=\"true\">"
		"</action></actions></manifest></updatecheck><event status=\"ok\"></event></app>"
		"</response>\n",
		sha1, hex, (unsigned long long)p->payload->size, sha256);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}
