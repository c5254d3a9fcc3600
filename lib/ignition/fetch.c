/* SPDX-License-Identifier: MIT */
/* lib/ignition/fetch.c - resources: data: URLs, oem:, file:, http(s); gzip, size limits,
 * hashes (docs/provision.md §3 "Fetching any resource"). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "version.h"

#include "fs/fs.h"
#include "http/http.h"
#include "ignition/ignition.h"
#include "json/fjson.h"
#include "util/cleanup.h"
#include "util/problem.h"

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int ign_data_url_decode(const char *url, char **ret, size_t *ret_size)
{
	const char *comma, *meta;
	bool b64 = false;

	if (strncasecmp(url, "data:", 5) != 0)
		return -EINVAL;
	meta = url + 5;
	comma = strchr(meta, ',');
	if (!comma)
		return -EINVAL;
	/* media type parameters: the last one may be ";base64" */
	if (comma - meta >= 7 && strncasecmp(comma - 7, ";base64", 7) == 0)
		b64 = true;

	size_t n = strlen(comma + 1);
	_cleanup_free_ char *raw = malloc(n + 1);
	size_t rn = 0;
	if (!raw)
		return -ENOMEM;
	for (const char *p = comma + 1; *p; p++) {
		if (*p == '%') {
			int h = unhex(p[1]), l = h >= 0 ? unhex(p[2]) : -1;
			if (h < 0 || l < 0)
				return -EINVAL;
			raw[rn++] = (char)(h << 4 | l);
			p += 2;
		} else
			raw[rn++] = *p;
	}
	raw[rn] = 0;
	if (!b64) {
		*ret = TAKE_PTR(raw);
		if (ret_size)
			*ret_size = rn;
		return 0;
	}

	_cleanup_free_ char *out = malloc(rn / 4 * 3 + 4);
	size_t on = 0, q = 0, pad = 0;
	uint32_t acc = 0;
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < rn; i++) {
		char c = raw[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (c == '\n' || c == '\r')
			continue;
		int v = b64val(c);
		if (v < 0 || pad)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			out[on++] = (char)(acc >> 16);
			out[on++] = (char)(acc >> 8);
			out[on++] = (char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q == 1 || pad > 2 || (pad && (q + pad) != 4))
		return -EINVAL;
	if (q == 2)
		out[on++] = (char)(acc >> 4);
	else if (q == 3) {
		out[on++] = (char)(acc >> 10);
		out[on++] = (char)(acc >> 2);
	}
	out[on] = 0;
	*ret = TAKE_PTR(out);
	if (ret_size)
		*ret_size = on;
	return 0;
}

int ign_gunzip(const void *in, size_t n, size_t max, char **ret, size_t *ret_size)
{
	z_stream z = {};
	_cleanup_free_ char *out = NULL;
	size_t cap = 0, len = 0;
	int zr;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	for (;;) {
		if (len + 1 >= cap) {
			size_t nc = cap ? cap * 2 : 65536;
			if (nc > max + 2)
				nc = max + 2;
			if (nc <= len + 1) {
				inflateEnd(&z);
				return -EFBIG;
			}
			char *p = realloc(out, nc);
			if (!p) {
				inflateEnd(&z);
				return -ENOMEM;
			}
			out = p;
			cap = nc;
		}
		z.next_out = (Bytef *)out + len;
		z.avail_out = (uInt)(cap - len - 1);
		zr = inflate(&z, Z_NO_FLUSH);
		len = cap - 1 - z.avail_out;
		if (len > max) {
			inflateEnd(&z);
			return -EFBIG;
		}
		if (zr == Z_STREAM_END) {
			/* concatenated members, as Go's gzip reader accepts */
			if (z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
				if (inflateReset(&z) != Z_OK)
					break;
				continue;
			}
			if (z.avail_in > 0) {
				inflateEnd(&z);
				return -EBADMSG;
			}
			break;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			inflateEnd(&z);
			return -EBADMSG; /* truncated */
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			inflateEnd(&z);
			return zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
		}
	}
	inflateEnd(&z);
	out[len] = 0;
	*ret = TAKE_PTR(out);
	if (ret_size)
		*ret_size = len;
	return 0;
}

int ign_digest(const char *fn, const void *data, size_t n, char *out, size_t size)
{
	const EVP_MD *md = !strcmp(fn, "sha512") ? EVP_sha512() : !strcmp(fn, "sha256") ? EVP_sha256() : NULL;
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	int w;

	if (!md)
		return -EINVAL;
	if (!EVP_Digest(data, n, dg, &dl, md, NULL))
		return -ENOMEM;
	w = snprintf(out, size, "%s-", fn);
	for (unsigned i = 0; i < dl && w > 0 && (size_t)w + 3 <= size; i++)
		w += snprintf(out + w, size - (size_t)w, "%02x", dg[i]);
	return 0;
}

int ign_hash_check(const char *spec, const void *data, size_t n, char *got, size_t gotsize)
{
	const EVP_MD *md;
	const char *dash = strchr(spec, '-');
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	if (!dash)
		return -EINVAL;
	if ((size_t)(dash - spec) == 6 && !strncmp(spec, "sha512", 6))
		md = EVP_sha512();
	else if ((size_t)(dash - spec) == 6 && !strncmp(spec, "sha256", 6))
		md = EVP_sha256();
	else
		return -EINVAL;
	if (!EVP_Digest(data, n, dg, &dl, md, NULL))
		return -ENOMEM;
	for (unsigned i = 0; i < dl; i++)
		snprintf(hex + 2 * i, 3, "%02x", dg[i]);
	if (strlen(dash + 1) != 2 * dl)
		return -EINVAL;
	if (strcasecmp(hex, dash + 1) == 0)
		return 0;
	if (got)
		snprintf(got, gotsize, "%.*s-%s", (int)(dash - spec), spec, hex);
	return -EBADMSG;
}

static const char *scheme(const char *url, char *buf, size_t size)
{
	size_t i = 0;
	while (url[i] && url[i] != ':' && i + 1 < size) {
		buf[i] = (char)tolower((unsigned char)url[i]);
		i++;
	}
	if (url[i] != ':')
		return "";
	buf[i] = 0;
	return buf;
}

/* Does host match a noProxy entry: "*", a domain (and its subdomains), ".domain" (subdomains
 * only), an IP prefix or CIDR, each with an optional ":port"? */
static bool no_proxy_match(json_t *list, const char *host, const char *port)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		char ent[256];
		const char *v = json_string_value(e);
		if (!v || snprintf(ent, sizeof(ent), "%s", v) >= (int)sizeof(ent))
			continue;
		if (!strcmp(ent, "*"))
			return true;
		char *colon = strrchr(ent, ':');
		if (colon && !strchr(ent, ']') && strchr(ent, '.') && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
			*colon = 0;
			if (strcmp(colon + 1, port ? port : ""))
				continue;
		}
		char *slash = strchr(ent, '/');
		if (slash) { /* CIDR over IPv4 */
			unsigned a[4], b[4], bits = (unsigned)atoi(slash + 1);
			*slash = 0;
			if (sscanf(ent, "%u.%u.%u.%u", &a[0], &a[1], &a[2], &a[3]) == 4 &&
			    sscanf(host, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) == 4 && bits <= 32) {
				uint32_t x = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
				uint32_t y = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
				uint32_t m = bits ? ~0u << (32 - bits) : 0;
				if ((x & m) == (y & m))
					return true;
			}
			continue;
		}
		size_t hl = strlen(host), el = strlen(ent);
		if (ent[0] == '.') {
			if (hl > el && !strcasecmp(host + hl - el, ent))
				return true;
			continue;
		}
		if (!strcasecmp(host, ent))
			return true;
		if (hl > el && host[hl - el - 1] == '.' && !strcasecmp(host + hl - el, ent))
			return true;
		/* IP prefix such as 10.0. */
		if (ent[el - 1] == '.' && !strncmp(host, ent, el))
			return true;
	}
	return false;
}

/* The CA bundle: the system store plus the config's certificateAuthorities (each fetched with
 * the same rules, without CAs of its own). NULL when the config adds none. */
static int ca_bundle(const struct ign_fetcher *f, char **ret, size_t *ret_size,
		     struct problem_list *reterr)
{
	json_t *cas = json_object_get(json_object_get(json_object_get(f->ignition, "security"), "tls"),
				      "certificateAuthorities");
	char *buf = NULL;
	size_t n = 0;
	FILE *m;

	*ret = NULL;
	if (json_array_size(cas) == 0)
		return 0;
	m = open_memstream(&buf, &n);
	if (!m)
		return -ENOMEM;
	FILE *sys = fopen("/etc/ssl/certs/ca-certificates.crt", "re");
	if (sys) {
		char chunk[65536];
		size_t k;
		while ((k = fread(chunk, 1, sizeof(chunk), sys)) > 0)
			fwrite(chunk, 1, k, m);
		fclose(sys);
	}
	struct ign_fetcher sub = *f;
	sub.ignition = NULL;
	size_t i;
	json_t *ca;
	json_array_foreach(cas, i, ca) {
		char where[96];
		_cleanup_free_ char *pem = NULL;
		size_t pn = 0;
		snprintf(where, sizeof(where), "/ignition/security/tls/certificateAuthorities/%zu", i);
		int r = ign_resource_fetch(&sub, ca, where, &pem, &pn, reterr);
		if (r < 0) {
			fclose(m);
			free(buf);
			return r;
		}
		fputc('\n', m);
		fwrite(pem, 1, pn, m);
		fputc('\n', m);
	}
	if (fclose(m) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	*ret_size = n;
	return 0;
}

/* One HTTP(S) request through lib/http with the config's CAs, proxy, timeouts and headers.
 * deadline (CLOCK_MONOTONIC µs, 0: none) bounds the whole fetch: retries and the redirects
 * followed here included, so --fetch-timeout is kept (docs/provision.md). */
static int http_fetch_depth(const struct ign_fetcher *f, enum http_method method, const char *url,
			    json_t *headers, const char *const *extra, char **ret, size_t *ret_size,
			    const char *where, struct problem_list *reterr, unsigned depth,
			    uint64_t deadline)
{
	_cleanup_(http_client_freep) struct http_client *c = NULL;
	_cleanup_free_ char *pem = NULL, *safe = http_url_redact(url);
	size_t pem_size = 0, max = f->max_size ? f->max_size : IGN_MAX_CONFIG_SIZE;
	json_t *ign = f->ignition;
	json_t *proxy = json_object_get(ign, "proxy");
	json_t *timeouts = json_object_get(ign, "timeouts");
	char ua[96];
	int r;

	r = ca_bundle(f, &pem, &pem_size, reterr);
	if (r < 0)
		return r;

	/* proxy for this URL */
	const char *proxy_url = NULL;
	const char *hs = strstr(url, "://");
	char host[256] = "", port[16] = "";
	if (hs) {
		hs += 3;
		const char *at = strchr(hs, '@'), *end = hs + strcspn(hs, "/?#");
		if (at && at < end)
			hs = at + 1;
		size_t hl = (size_t)(end - hs);
		snprintf(host, sizeof(host), "%.*s", (int)hl, hs);
		char *pc = strrchr(host, ':');
		if (pc && !strchr(pc, ']')) {
			snprintf(port, sizeof(port), "%s", pc + 1);
			*pc = 0;
		}
	}
	if (proxy) {
		const char *hp = json_string_value(json_object_get(proxy, "httpProxy"));
		const char *hsp = json_string_value(json_object_get(proxy, "httpsProxy"));
		bool https = !strncasecmp(url, "https:", 6);
		proxy_url = https ? (hsp ? hsp : hp) : hp;
		if (!proxy_url || no_proxy_match(json_object_get(proxy, "noProxy"), host, port))
			proxy_url = "";
	} else
		proxy_url = "";

	snprintf(ua, sizeof(ua), "flatctl/%s (Ignition compatible)", FLATCTL_VERSION);
	long long hdr_s = 10, total_s = 0;
	if (json_is_integer(json_object_get(timeouts, "httpResponseHeaders")))
		hdr_s = json_integer_value(json_object_get(timeouts, "httpResponseHeaders"));
	if (json_is_integer(json_object_get(timeouts, "httpTotal")))
		total_s = json_integer_value(json_object_get(timeouts, "httpTotal"));
	struct http_client_options o = {
		.ca_pem = pem,
		.ca_pem_size = pem_size,
		.proxy = proxy_url,
		.user_agent = ua,
		.connect_timeout_usec = hdr_s > 0 ? (uint64_t)hdr_s * 1000000u : 0,
		.timeout_usec = total_s > 0 ? (uint64_t)total_s * 1000000u : f->timeout_usec,
		.max_response_size = max,
		.retry = { .max_retries = f->retries, .initial_delay_usec = 200000,
			   .max_delay_usec = 5000000, .retry_on_status = true },
		/* with custom headers, redirects are followed below, without the headers */
		.max_redirects = json_array_size(headers) ? HTTP_NO_REDIRECTS : 0,
	};
	r = http_client_new(&o, &c);
	if (r < 0)
		return problem_add(reterr, r, where, "cannot set up HTTP for %s: %s", safe ? safe : "URL",
				   strerror(-r));

	/* custom headers (values never reach messages) */
	size_t nh = json_array_size(headers), k = 0;
	_cleanup_free_ char **lines = calloc(nh + 8, sizeof(char *));
	if (!lines)
		return -ENOMEM;
	for (size_t i = 0; i < nh; i++) {
		json_t *h = json_array_get(headers, i);
		const char *name = json_string_value(json_object_get(h, "name"));
		const char *val = json_string_value(json_object_get(h, "value"));
		if (name && val && asprintf(&lines[k], "%s: %s", name, val) >= 0)
			k++;
	}
	for (size_t i = 0; extra && extra[i] && k < nh + 7; i++)
		lines[k++] = strdup(extra[i]);

	struct http_request req = { .method = method,
				    .url = url,
				    .headers = (const char *const *)lines,
				    .deadline_usec = deadline };
	struct http_response resp = {};
	r = http_request_perform(c, &req, &resp);
	for (size_t i = 0; i < k; i++)
		erase_and_freep(&lines[i]);
	if (r == -ELOOP && nh > 0 && resp.redirects == 0 && resp.status >= 300 && resp.status < 400 &&
	    depth < 10) {
		/* docs/provision.md §3: custom headers are not forwarded on redirects; follow it here,
		 * without them */
		const char *loc = http_response_header(&resp, "Location");
		_cleanup_free_ char *next = NULL;
		if (loc && loc[0] == '/') {
			const char *p = strstr(url, "://");
			size_t origin = p ? (size_t)(p + 3 - url) + strcspn(p + 3, "/?#") : 0;
			if (asprintf(&next, "%.*s%s", (int)origin, url, loc) < 0)
				next = NULL;
		} else if (loc)
			next = strdup(loc);
		http_response_release(&resp);
		if (!next)
			return problem_add(reterr, -EPROTO, where, "%s: redirect without a usable Location",
					   safe ? safe : "URL");
		return http_fetch_depth(f, method, next, NULL, extra, ret, ret_size, where, reterr,
					depth + 1, deadline);
	}
	if (r < 0) {
		if (r == -ENOENT)
			(void)problem_add(reterr, r, where, "%s: not found (HTTP %ld)", safe ? safe : "URL",
					  resp.status);
		else if (r == -EFBIG)
			(void)problem_add(reterr, r, where, "%s: larger than %zu bytes", safe ? safe : "URL",
					  max);
		else
			(void)problem_add(reterr, r, where, "fetching %s: %s", safe ? safe : "URL",
					  resp.error[0] ? resp.error : strerror(-r));
		http_response_release(&resp);
		return r;
	}
	if (!strncasecmp(url, "http:", 5) && where && where[0] &&
	    !json_object_get(json_object_get(f->resource, "verification"), "hash"))
		(void)problem_warn(reterr, where, "%s fetched over plain http without a hash", safe ? safe : "URL");
	*ret = TAKE_PTR(resp.body);
	if (ret_size)
		*ret_size = resp.body_size;
	http_response_release(&resp);
	return 0;
}

static int http_fetch(const struct ign_fetcher *f, enum http_method method, const char *url,
		      json_t *headers, const char *const *extra, char **ret, size_t *ret_size,
		      const char *where, struct problem_list *reterr)
{
	uint64_t deadline = f->timeout_usec ? http_now_usec() + f->timeout_usec : 0;
	return http_fetch_depth(f, method, url, headers, extra, ret, ret_size, where, reterr, 0,
				deadline);
}

/* Raw bytes of a URL, before decompression and verification. */
static int url_get(const struct ign_fetcher *f, const char *url, json_t *headers, char **ret,
		   size_t *ret_size, const char *where, struct problem_list *reterr)
{
	char sb[16];
	const char *s = scheme(url, sb, sizeof(sb));
	size_t max = f->max_size ? f->max_size : IGN_MAX_CONFIG_SIZE;

	if (!strcmp(s, "data"))
		return ign_data_url_decode(url, ret, ret_size) == -EINVAL
			       ? problem_add(reterr, -EBADMSG, where, "invalid data URL")
			       : 0;
	if (f->offline)
		return problem_add(reterr, -EOPNOTSUPP, where,
				   "remote resources are not fetched here (%s URL)", s);
	if (!strcmp(s, "oem") || !strcmp(s, "file")) {
		const char *p = url + strlen(s) + 1;
		if (strncmp(p, "//", 2) != 0 || p[2] != '/')
			return problem_add(reterr, -EINVAL, where, "%s: URLs need an absolute path", s);
		p += 2;
		_cleanup_free_ char *full = NULL;
		if (!strcmp(s, "oem") && asprintf(&full, "/oem%s", p) < 0)
			return -ENOMEM;
		if (f->root_fd < 0)
			return problem_add(reterr, -EOPNOTSUPP, where, "no root to read %s: URLs from", s);
		int r = fs_read_file(f->root_fd, full ? full : p, max, ret, ret_size);
		if (r == -EFBIG)
			return problem_add(reterr, r, where, "resource is larger than %zu bytes", max);
		if (r < 0)
			return problem_add(reterr, r, where, "cannot read %s: %s", full ? full : p,
					   strerror(-r));
		return 0;
	}
	if (!strcmp(s, "http") || !strcmp(s, "https"))
		return http_fetch(f, HTTP_GET, url, headers, NULL, ret, ret_size, where, reterr);
	return problem_add(reterr, -EOPNOTSUPP, where, "%s URLs are not supported by this build",
			   s[0] ? s : "scheme-less");
}

int ign_url_fetch(const struct ign_fetcher *f, const char *url, char **ret, size_t *ret_size,
		  struct problem_list *reterr)
{
	return url_get(f, url, NULL, ret, ret_size, "", reterr);
}

int ign_resource_fetch(const struct ign_fetcher *f, json_t *res, const char *where, char **ret,
		       size_t *ret_size, struct problem_list *reterr)
{
	const char *src = json_string_value(json_object_get(res, "source"));
	const char *comp = json_string_value(json_object_get(res, "compression"));
	const char *hash = json_string_value(
		json_object_get(json_object_get(res, "verification"), "hash"));
	size_t max = f->max_size ? f->max_size : IGN_MAX_CONFIG_SIZE;
	_cleanup_free_ char *data = NULL;
	size_t n = 0;
	int r;

	if (!src)
		return problem_add(reterr, -EINVAL, where, "resource has no source");
	if (!src[0]) { /* an empty source: empty contents (2.x translation) */
		*ret = strdup("");
		if (ret_size)
			*ret_size = 0;
		return *ret ? 0 : -ENOMEM;
	}
	struct ign_fetcher fr = *f;
	fr.resource = res;
	f = &fr;
	r = url_get(f, src, json_object_get(res, "httpHeaders"), &data, &n, where, reterr);
	if (r < 0)
		return r;
	if (comp && !strcmp(comp, "gzip")) {
		char *out;
		size_t on;
		r = ign_gunzip(data, n, max, &out, &on);
		if (r == -EFBIG)
			return problem_add(reterr, r, where,
					   "decompressed data exceeds the limit of %zu bytes", max);
		if (r < 0)
			return problem_add(reterr, r, where, "invalid gzip data");
		free(data);
		data = out;
		n = on;
	} else if (n > max)
		return problem_add(reterr, -EFBIG, where, "resource exceeds the limit of %zu bytes",
				   max);
	if (hash) {
		char got[160];
		r = ign_hash_check(hash, data, n, got, sizeof(got));
		if (r == -EBADMSG)
			return problem_add(reterr, r, where, "hash mismatch: expected %s, got %s", hash,
					   got);
		if (r < 0)
			return problem_add(reterr, r, where, "bad hash specifier");
	}
	*ret = TAKE_PTR(data);
	if (ret_size)
		*ret_size = n;
	return 0;
}
