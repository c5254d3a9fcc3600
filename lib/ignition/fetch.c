/* SPDX-License-Identifier: MIT */
/* lib/ignition/fetch.c - resources: data: URLs, oem:, file:, http(s); gzip, size limits,
 * hashes (provision.md section 3 "Fetching any resource"). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "fs/fs.h"
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
		return problem_add(reterr, -EOPNOTSUPP, where,
				   "%s URLs are not supported by this build yet", s);
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

int ign_aws_user_data(const struct ign_fetcher *f, const char *base_url, char **ret,
		      size_t *ret_size, char **ret_origin, struct problem_list *reterr)
{
	return problem_add(reterr, -EOPNOTSUPP, "", "the aws platform is not supported by this build yet");
}
