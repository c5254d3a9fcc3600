/* SPDX-License-Identifier: MIT */
/* lib/omaha/response.c - Omaha v3 response parser; docs/update.md 4.3 (rules 1-10), 4.3.1
 * (refusals), 10 (what bad input gets).
 *
 * Parsing itself, with its hardening (size, DOCTYPE, NUL bytes, no network, no entities), is
 * omaha_xml_read() in lib/omaha/xml.c, shared with the request parser of `update serve`. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "internal.h"
#include "omaha/response.h"
#include "util/problem.h"


static const char *const outcome_names[_OMAHA_OUTCOME_MAX] = {
	[OMAHA_OUTCOME_UPDATE] = "update",
	[OMAHA_OUTCOME_NOUPDATE] = "noupdate",
	[OMAHA_OUTCOME_REFUSED] = "refused",
	[OMAHA_OUTCOME_NO_CHECK] = "no-check",
};

const char *omaha_outcome_to_string(enum omaha_outcome o)
{
	return o >= 0 && o < _OMAHA_OUTCOME_MAX ? outcome_names[o] : NULL;
}

enum omaha_refusal omaha_refusal_classify(const char *status)
{
	static const char *const later[] = {
		"error-maxUpdatesPerPeriodLimitReached",
		"error-maxConcurrentUpdatesLimitReached",
		"error-maxTimedOutUpdatesLimitReached",
		"error-updateInProgressOnInstance",
		"error-couldNotCheckUpdatesStats",
	};
	if (!status)
		return OMAHA_REFUSAL_ERROR;
	if (strcmp(status, "noupdate") == 0)
		return OMAHA_REFUSAL_NOUPDATE;
	if (strcmp(status, "error-updatesDisabled") == 0)
		return OMAHA_REFUSAL_DISABLED;
	for (size_t i = 0; i < ARRAY_SIZE(later); i++)
		if (strcmp(status, later[i]) == 0)
			return OMAHA_REFUSAL_LATER;
	return OMAHA_REFUSAL_ERROR;
}

enum omaha_error_code omaha_response_error_code(int parse_result)
{
	if (parse_result == -EBADMSG)
		return OMAHA_ERROR_REQUEST_XML_PARSE;
	if (parse_result == -EINVAL)
		return OMAHA_ERROR_RESPONSE_INVALID;
	return OMAHA_ERROR_GENERIC;
}

struct omaha_response *omaha_response_free(struct omaha_response *r)
{
	if (!r)
		return NULL;
	free(r->server);
	free(r->appid);
	free(r->app_status);
	free(r->updatecheck_status);
	free(r->refusal);
	free(r->version);
	for (size_t i = 0; i < r->n_urls; i++)
		free(r->urls[i]);
	free(r->urls);
	for (size_t i = 0; i < r->n_packages; i++)
		free(r->packages[i].name);
	free(r->packages);
	free(r);
	return NULL;
}

char *omaha_response_payload_url(const struct omaha_response *r, size_t url_index,
				 size_t package_index)
{
	char *s;
	if (url_index >= r->n_urls || package_index >= r->n_packages)
		return NULL;
	const char *base = r->urls[url_index];
	size_t n = strlen(base);
	if (asprintf(&s, "%s%s%s", base, n && base[n - 1] == '/' ? "" : "/",
		     r->packages[package_index].name) < 0)
		return NULL;
	return s;
}

/* ---- tree helpers ----------------------------------------------------------------------------- */

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, (const xmlChar *)name);
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_elem(n, name))
			return n;
	return NULL;
}

/* Attribute value (entity references are not expanded: no entities can be declared), or NULL. */
static char *prop(const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return NULL;
	char *s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

static bool prop_eq(const xmlNode *n, const char *name, const char *value, bool icase)
{
	_cleanup_free_ char *v = prop(n, name);
	return v && (icase ? strcasecmp(v, value) == 0 : strcmp(v, value) == 0);
}

char *omaha_appid_normalize(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
		s++;
		n -= 2;
	}
	char *r = strndup(s, n);
	for (char *p = r; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return r;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

static bool http_url_ok(const char *u)
{
	const char *rest;
	if (strncasecmp(u, "http://", 7) == 0)
		rest = u + 7;
	else if (strncasecmp(u, "https://", 8) == 0)
		rest = u + 8;
	else
		return false;
	if (!*rest || *rest == '/' || *rest == '?' || *rest == '#')
		return false;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

static bool package_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._+-", *s))
			return false;
	return true;
}

static bool version_ok(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* hash_sha256: Nebraska writes hex, go-omaha's server base64. */
static int decode_sha256_any(const char *s, uint8_t out[32])
{
	size_t n = strlen(s);
	if (n == 64)
		return crypto_hex_decode_exact(s, out, 32);
	if (n == 44)
		return crypto_base64_decode_exact(s, out, 32);
	return -EINVAL;
}

/* An error (-EINVAL) or warning at an element: its path and its line in the document. */
_printf_(4, 5) static int bad(struct problem_list *l, const xmlNode *n, const char *where,
			      const char *fmt, ...)
{
	va_list ap;
	long line = n ? xmlGetLineNo(n) : 0;
	va_start(ap, fmt);
	int r = problem_addv(l, PROBLEM_ERROR, -EINVAL, where, line > 0 ? (unsigned)line : 0, 0,
			     NULL, fmt, ap);
	va_end(ap);
	return r;
}

_printf_(4, 5) static int warn(struct problem_list *l, const xmlNode *n, const char *where,
			       const char *fmt, ...)
{
	va_list ap;
	long line = n ? xmlGetLineNo(n) : 0;
	va_start(ap, fmt);
	(void)problem_addv(l, PROBLEM_WARNING, 0, where, line > 0 ? (unsigned)line : 0, 0, NULL,
			   fmt, ap);
	va_end(ap);
	return 0;
}

#define P_APP "/response/app"
#define P_UC P_APP "/updatecheck"
#define P_MANIFEST P_UC "/manifest"

static int parse_package(const xmlNode *n, size_t idx, bool first, struct omaha_package *pkg,
			 struct problem_list *reterr)
{
	char where[96];
	int r = 0;
	(void)snprintf(where, sizeof(where), P_MANIFEST "/packages/package[%zu]", idx + 1);

	_cleanup_free_ char *name = prop(n, "name"), *size = prop(n, "size");
	_cleanup_free_ char *sha1 = prop(n, "hash"), *sha256 = prop(n, "hash_sha256");
	/* the OS payload must be right; extension payloads only get warnings (phase 1 lists them) */
#define BAD(...) (first ? bad(reterr, n, where, __VA_ARGS__) : warn(reterr, n, where, __VA_ARGS__))
	if (!name)
		r = BAD("package has no name");
	else if (!package_name_ok(name))
		r = BAD("bad package name '%s'", name);
	if (!size)
		r = BAD("package has no size");
	else if (parse_uint(size, OMAHA_PACKAGE_SIZE_MAX, &pkg->size) < 0 || pkg->size == 0)
		r = BAD("package size '%s' is not an integer from 1 to 2^40", size);
	if (sha1) {
		if (crypto_base64_decode_exact(sha1, pkg->sha1, sizeof(pkg->sha1)) == 0)
			pkg->has_sha1 = true;
		else
			(void)warn(reterr, n, where, "hash '%s' is not a base64 SHA-1; ignored",
					   sha1);
	}
	if (sha256) {
		if (decode_sha256_any(sha256, pkg->sha256) == 0)
			pkg->has_sha256 = true;
		else
			r = BAD("hash_sha256 '%s' is neither hex nor base64 of 32 bytes", sha256);
	}
#undef BAD
	if (r < 0 || (!first && (!name || !package_name_ok(name) || !pkg->size)))
		return r < 0 ? r : 1; /* 1: skip this extension */
	pkg->name = TAKE_PTR(name);
	return pkg->name ? 0 : -ENOMEM;
}

static int parse_update(const xmlNode *uc, struct omaha_response *resp, struct problem_list *reterr)
{
	int r = 0, k;

	/* 5. urls */
	const xmlNode *urls = child(uc, "urls");
	size_t idx = 0;
	for (const xmlNode *n = urls ? urls->children : NULL; n; n = n->next) {
		if (!is_elem(n, "url"))
			continue;
		idx++;
		char where[64];
		(void)snprintf(where, sizeof(where), P_UC "/urls/url[%zu]", idx);
		_cleanup_free_ char *cb = prop(n, "codebase");
		if (!cb) {
			r = bad(reterr, n, where, "url has no codebase");
			continue;
		}
		if (!http_url_ok(cb)) {
			r = bad(reterr, n, where, "codebase '%s' is not an http:// or https:// URL", cb);
			continue;
		}
		char **u = reallocarray(resp->urls, resp->n_urls + 1, sizeof(char *));
		if (!u)
			return -ENOMEM;
		resp->urls = u;
		resp->urls[resp->n_urls++] = TAKE_PTR(cb);
	}
	if (idx == 0)
		r = bad(reterr, urls ? urls : uc, P_UC "/urls", "response has no url");

	/* 6. the first manifest */
	const xmlNode *m = child(uc, "manifest");
	if (!m)
		return bad(reterr, uc, P_MANIFEST, "updatecheck has no manifest");
	_cleanup_free_ char *version = prop(m, "version");
	if (!version || !*version)
		r = bad(reterr, m, P_MANIFEST, "manifest has no version");
	else if (!version_ok(version))
		r = bad(reterr, m, P_MANIFEST, "manifest version is not 1 to 64 printable characters");
	else
		resp->version = TAKE_PTR(version);

	/* 7. packages: the first is the OS payload */
	const xmlNode *pkgs = child(m, "packages");
	idx = 0;
	for (const xmlNode *n = pkgs ? pkgs->children : NULL; n; n = n->next) {
		if (!is_elem(n, "package"))
			continue;
		struct omaha_package pkg = {};
		k = parse_package(n, idx, idx == 0, &pkg, reterr);
		idx++;
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			r = k;
			continue;
		}
		if (k > 0)
			continue;
		struct omaha_package *p = reallocarray(resp->packages, resp->n_packages + 1,
						       sizeof(*p));
		if (!p) {
			free(pkg.name);
			return -ENOMEM;
		}
		resp->packages = p;
		resp->packages[resp->n_packages++] = pkg;
	}
	if (idx == 0)
		r = bad(reterr, pkgs ? pkgs : m, P_MANIFEST "/packages", "manifest has no package");

	/* 8. the postinstall action */
	const xmlNode *acts = child(m, "actions"), *post = NULL;
	for (const xmlNode *n = acts ? acts->children : NULL; n && !post; n = n->next)
		if (is_elem(n, "action") && prop_eq(n, "event", "postinstall", false))
			post = n;
	if (!post)
		return bad(reterr, acts ? acts : m, P_MANIFEST "/actions",
			   "manifest has no postinstall action");
	const char *pw = P_MANIFEST "/actions/action";
	_cleanup_free_ char *sha = prop(post, "sha256");
	if (!sha)
		r = bad(reterr, post, pw, "action postinstall has no sha256");
	else if (crypto_base64_decode_exact(sha, resp->sha256, sizeof(resp->sha256)) < 0)
		r = bad(reterr, post, pw, "action postinstall sha256 '%s' is not base64 of 32 bytes", sha);
	if (prop_eq(post, "IsDeltaPayload", "true", true))
		r = bad(reterr, post, pw, "delta payloads are not supported");
	_cleanup_free_ char *dpb = prop(post, "DisablePayloadBackoff");
	if (dpb) {
		if (strcasecmp(dpb, "true") == 0)
			resp->disable_payload_backoff = true;
		else if (strcasecmp(dpb, "false") != 0)
			(void)warn(reterr, post, pw, "DisablePayloadBackoff '%s' is not true or false; "
					   "taken as false", dpb);
	}
	_cleanup_free_ char *mf = prop(post, "MaxFailureCountPerUrl");
	uint64_t v;
	if (mf) {
		if (parse_uint(mf, INT32_MAX, &v) == 0)
			resp->max_failure_count_per_url = (int)v;
		else
			(void)warn(reterr, post, pw, "MaxFailureCountPerUrl '%s' ignored", mf);
	}
	return r;
}

int omaha_response_parse(const void *buf, size_t size, const char *appid, bool expect_updatecheck,
			 struct omaha_response **ret, struct problem_list *reterr)
{
	int r;

	_cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
	r = omaha_xml_read(buf, size, OMAHA_RESPONSE_MAX, "Omaha response", &doc, reterr);
	if (r < 0)
		return r;

	/* 1. root */
	const xmlNode *root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "response"))
		return bad(reterr, root, "/", "root element is <%s>, not <response>",
				   root ? (const char *)root->name : "");
	_cleanup_free_ char *protocol = prop(root, "protocol");
	if (protocol && strncmp(protocol, "3.", 2) != 0)
		return bad(reterr, root, "/response", "unsupported protocol '%s'",
				   protocol);

	_cleanup_(omaha_response_freep) struct omaha_response *resp = calloc(1, sizeof(*resp));
	if (!resp)
		return -ENOMEM;
	resp->max_failure_count_per_url = -1;
	resp->server = prop(root, "server");

	/* 2. our app */
	_cleanup_free_ char *ours = omaha_appid_normalize(appid ? appid : "");
	if (!ours)
		return -ENOMEM;
	const xmlNode *app = NULL, *only = NULL;
	size_t n_apps = 0;
	for (const xmlNode *n = root->children; n; n = n->next) {
		if (!is_elem(n, "app"))
			continue;
		n_apps++;
		only = n;
		_cleanup_free_ char *id = prop(n, "appid");
		_cleanup_free_ char *norm = id ? omaha_appid_normalize(id) : NULL;
		if (!app && norm && strcmp(norm, ours) == 0)
			app = n;
	}
	if (!app && n_apps == 1) {
		app = only;
		_cleanup_free_ char *id = prop(app, "appid");
		(void)warn(reterr, app, P_APP, "response app '%s' is not '%s'; using it anyway",
				   id ? id : "", appid ? appid : "");
	}
	if (!app)
		return bad(reterr, root, "/response", "response has no app for %s",
				   appid ? appid : "(none)");
	resp->appid = prop(app, "appid");

	/* 3. app status */
	resp->app_status = prop(app, "status");
	if (resp->app_status && strcmp(resp->app_status, "ok") != 0) {
		resp->outcome = OMAHA_OUTCOME_REFUSED;
		resp->refusal = strdup(resp->app_status);
		if (!resp->refusal)
			return -ENOMEM;
		*ret = TAKE_PTR(resp);
		return 0;
	}

	/* 4. updatecheck */
	const xmlNode *uc = child(app, "updatecheck");
	if (!uc) {
		if (expect_updatecheck)
			return bad(reterr, app, P_APP, "response has no updatecheck");
		resp->outcome = OMAHA_OUTCOME_NO_CHECK;
		*ret = TAKE_PTR(resp);
		return 0;
	}
	resp->updatecheck_status = prop(uc, "status");
	if (!resp->updatecheck_status)
		return bad(reterr, uc, P_UC, "updatecheck has no status");
	_cleanup_free_ char *poll = prop(uc, "PollInterval");
	uint64_t pi;
	if (poll && parse_uint(poll, UINT32_MAX, &pi) == 0 && pi >= OMAHA_POLL_INTERVAL_MIN &&
	    pi <= OMAHA_POLL_INTERVAL_MAX)
		resp->poll_interval = (unsigned)pi;
	if (strcmp(resp->updatecheck_status, "noupdate") == 0) {
		resp->outcome = OMAHA_OUTCOME_NOUPDATE;
	} else if (strcmp(resp->updatecheck_status, "ok") != 0) {
		resp->outcome = OMAHA_OUTCOME_REFUSED;
		resp->refusal = strdup(resp->updatecheck_status);
		if (!resp->refusal)
			return -ENOMEM;
	} else {
		resp->outcome = OMAHA_OUTCOME_UPDATE;
		r = parse_update(uc, resp, reterr);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(resp);
	return 0;
}
