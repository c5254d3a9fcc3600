/* SPDX-License-Identifier: MIT */
/* lib/ignition/validate.c - the rules of docs/provision.md §4 over a 3.x document.
 *
 * The document is the canonical one schema_normalize() built (exact keys, no nulls), so the
 * rules read it with plain jansson getters. Each rule reports at the JSON pointer of the
 * offending value; every rule runs, nothing stops at the first problem. The few rules where
 * flatctl is stricter than Ignition on purpose (4.1) say so in their hint. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ignition/ignition.h"
#include "json/fjson.h"
#include "schema.h"
#include "translate.h"
#include "util/problem.h"

#define BOOT_HINT "Ignition accepts this but fails at boot"

struct v {
	int ver;
	bool from2; /* translated from 2.x: rules 2.x lacks are left to the 2.x checks */
	struct problem_list *l;
	struct fjson_path path;
	int errors;
};

#define ERR(v, key, val, hint, ...)                                                            \
	((v)->errors++, (void)report((v)->l, PROBLEM_ERROR, &(v)->path, key, val, hint, __VA_ARGS__))
#define WARN(v, key, val, hint, ...)                                                           \
	((void)report((v)->l, PROBLEM_WARNING, &(v)->path, key, val, hint, __VA_ARGS__))

static size_t push_key(struct v *v, const char *k)
{
	return fjson_path_push_key(&v->path, k);
}
static size_t push_idx(struct v *v, size_t i)
{
	return fjson_path_push_index(&v->path, i);
}
static void pop(struct v *v, size_t old)
{
	fjson_path_pop(&v->path, old);
}

/* Go's path.Clean. */
static char *path_clean(const char *p)
{
	size_t n = strlen(p);
	char *out = malloc(n + 2);
	size_t w = 0;
	bool rooted = p[0] == '/';
	size_t dotdot = 0;

	if (!out)
		return NULL;
	if (n == 0) {
		strcpy(out, ".");
		return out;
	}
	size_t r = 0;
	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/')
			r++;
		else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/'))
			r++;
		else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && p[r] != '/'; r++)
				out[w++] = p[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = 0;
	return out;
}

/* A clean absolute path j (a string); reports at key (NULL: at the current path). */
static bool check_path_value(struct v *v, const char *key, json_t *j)
{
	const char *p = json_string_value(j);
	if (p[0] != '/') {
		char hint[4200] = "";
		if (p[0])
			snprintf(hint, sizeof(hint), "did you mean \"/%s\"?", p);
		ERR(v, key, j, hint[0] ? hint : NULL, "path must be absolute");
		return false;
	}
	char *c = path_clean(p);
	if (!c)
		return false;
	bool ok = strcmp(c, p) == 0;
	if (!ok) {
		char hint[4200];
		snprintf(hint, sizeof(hint), "did you mean \"%s\"?", c);
		ERR(v, key, j, hint, "path is not clean (no \"//\", \".\", \"..\" or trailing \"/\")");
	}
	free(c);
	return ok;
}

/* A clean absolute path at o.key; reports at key. */
static bool check_path(struct v *v, json_t *o, const char *key, bool required)
{
	json_t *j = json_object_get(o, key);

	if (!json_string_value(j)) {
		if (required) {
			ERR(v, key, NULL, NULL, "path is required");
			return false;
		}
		return true;
	}
	return check_path_value(v, key, j);
}

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

enum res_kind { RES_FILE, RES_MERGE, RES_REPLACE, RES_CA, RES_KEYFILE };

static const char *scheme_of(const char *url, char *buf, size_t size)
{
	size_t i = 0;
	if (!isalpha((unsigned char)url[0]))
		return NULL;
	while (url[i] && (isalnum((unsigned char)url[i]) || strchr("+-.", url[i])))
		i++;
	if (url[i] != ':' || i >= size)
		return NULL;
	for (size_t k = 0; k < i; k++)
		buf[k] = (char)tolower((unsigned char)url[k]);
	buf[i] = 0;
	return buf;
}

static bool valid_arn(const char *s)
{
	/* arn:PARTITION:s3:::BUCKET/KEY or arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY */
	char part[6][256];
	const char *p = s;
	int i = 0;
	for (; i < 6; i++) {
		const char *c = i < 5 ? strchr(p, ':') : p + strlen(p);
		if (!c || (size_t)(c - p) >= sizeof(part[i]))
			return false;
		memcpy(part[i], p, (size_t)(c - p));
		part[i][c - p] = 0;
		p = *c ? c + 1 : c;
	}
	if (strcmp(part[0], "arn") != 0 || strcmp(part[2], "s3") != 0 || !part[1][0])
		return false;
	if (!part[3][0] && !part[4][0]) {
		const char *slash = strchr(part[5], '/');
		return slash && slash != part[5] && slash[1];
	}
	if (strncmp(part[5], "accesspoint/", 12) != 0)
		return false;
	const char *obj = strstr(part[5] + 12, "/object/");
	return obj && obj != part[5] + 12 && obj[8];
}

static void check_data_url(struct v *v, json_t *res, const char *src)
{
	char *data = NULL;
	size_t n = 0;
	int r = ign_data_url_decode(src, &data, &n);
	if (r == -ENOMEM)
		return;
	if (r < 0) {
		ERR(v, "source", NULL, NULL, "invalid data URL (bad base64 or percent escape)");
		return;
	}
	const char *comp = jstr(res, "compression");
	if (comp && strcmp(comp, "gzip") == 0) {
		char *out = NULL;
		size_t on = 0;
		r = ign_gunzip(data, n, IGN_MAX_CONFIG_SIZE * 4, &out, &on);
		if (r == -EFBIG)
			ERR(v, "source", NULL, NULL, "gzip data decompresses to more than %u MiB",
			    IGN_MAX_CONFIG_SIZE * 4 >> 20);
		else if (r < 0 && r != -ENOMEM)
			ERR(v, "source", NULL, NULL, "invalid gzip data in data URL");
		if (r >= 0) {
			free(data);
			data = out;
			n = on;
		} else {
			free(data);
			return;
		}
	}
	json_t *ver = json_object_get(res, "verification");
	const char *hash = jstr(ver, "hash");
	if (hash) {
		char got[160];
		r = ign_hash_check(hash, data, n, got, sizeof(got));
		if (r == -EBADMSG) {
			size_t o = push_key(v, "verification");
			ERR(v, "hash", NULL, NULL, "hash mismatch: the data has %s", got);
			pop(v, o);
		}
	}
	free(data);
}

static void check_resource(struct v *v, json_t *res, enum res_kind kind)
{
	const char *src = jstr(res, "source");
	char sb[32];
	const char *scheme = NULL;

	const char *comp = jstr(res, "compression");
	if (comp && comp[0] && strcmp(comp, "gzip") != 0)
		ERR(v, "compression", json_object_get(res, "compression"), "use \"gzip\" or leave it unset",
		    "invalid compression method");

	if (!src) {
		if (kind == RES_CA || (kind == RES_MERGE && v->ver >= 31))
			ERR(v, NULL, NULL, NULL, "source is required");
		else if (kind == RES_MERGE)
			ERR(v, NULL, NULL, BOOT_HINT, "source is required");
	} else if (!src[0] && kind == RES_FILE) {
		/* an empty source: an empty file */
	} else {
		scheme = scheme_of(src, sb, sizeof(sb));
		bool ok = false;
		if (scheme) {
			if (!strcmp(scheme, "http") || !strcmp(scheme, "https") ||
			    !strcmp(scheme, "tftp") || !strcmp(scheme, "s3") ||
			    !strcmp(scheme, "data") || !strcmp(scheme, "oem"))
				ok = true;
			else if (!strcmp(scheme, "gs"))
				ok = v->ver >= 32;
			else if (!strcmp(scheme, "arn"))
				ok = v->ver >= 34;
		}
		if (!ok) {
			char hint[96] = "";
			if (scheme && !strcmp(scheme, "gs"))
				snprintf(hint, sizeof(hint), "gs:// URLs require spec 3.2.0");
			else if (scheme && !strcmp(scheme, "arn"))
				snprintf(hint, sizeof(hint), "arn: URLs require spec 3.4.0");
			else if (scheme && !strcmp(scheme, "file"))
				snprintf(hint, sizeof(hint), "Ignition cannot read file: URLs; inline "
							     "the data as a data: URL");
			ERR(v, "source", NULL, hint[0] ? hint : NULL,
			    "invalid URL scheme%s%s%s", scheme ? " \"" : "", scheme ? scheme : "",
			    scheme ? "\"" : "");
			scheme = NULL;
		} else if (!strcmp(scheme, "data"))
			check_data_url(v, res, src);
		else if (!strcmp(scheme, "s3")) {
			const char *q = strstr(src, "versionId=");
			if (q && (q[10] == 0 || q[10] == '&'))
				ERR(v, "source", NULL, NULL, "s3 versionId must not be empty");
		} else if (!strcmp(scheme, "arn")) {
			if (!valid_arn(src))
				ERR(v, "source", NULL, NULL,
				    "arn: must name an S3 object or access point object");
		} else if (!strcmp(scheme, "oem")) {
			if (strncmp(src, "oem:///", 7) != 0)
				ERR(v, "source", NULL, "write oem:///path", "oem: URLs need an absolute path");
		}
	}

	json_t *hdrs = json_object_get(res, "httpHeaders");
	if (json_array_size(hdrs) > 0) {
		size_t o = push_key(v, "httpHeaders");
		char hb[32];
		const char *hs = src && src[0] ? scheme_of(src, hb, sizeof(hb)) : NULL;
		if (!hs)
			ERR(v, NULL, NULL, "set an http:// or https:// source, or drop the headers",
			    "HTTP headers need a source");
		else if (strcmp(hs, "http") && strcmp(hs, "https"))
			ERR(v, NULL, NULL, NULL, "HTTP headers can only be used with http(s) sources");
		json_auto_t *seen = json_object();
		size_t i;
		json_t *h;
		json_array_foreach(hdrs, i, h) {
			size_t o2 = push_idx(v, i);
			const char *name = jstr(h, "name");
			const char *val = jstr(h, "value");
			if (!name || !name[0])
				ERR(v, "name", NULL, NULL, "HTTP header name must not be empty");
			else if (seen && json_object_get(seen, name))
				ERR(v, "name", json_object_get(h, "name"), NULL,
				    "duplicate HTTP header name");
			else if (seen)
				(void)json_object_set_new(seen, name, json_true());
			if (val && !val[0])
				ERR(v, "value", NULL, NULL, "HTTP header value must not be empty");
			pop(v, o2);
		}
		pop(v, o);
	}

	json_t *ver = json_object_get(res, "verification");
	json_t *jh = json_object_get(ver, "hash");
	const char *hash = json_string_value(jh);
	if (hash) {
		size_t o = push_key(v, "verification");
		const char *dash = strchr(hash, '-');
		if (!dash)
			ERR(v, "hash", jh, "write sha512-<hex digest>", "malformed hash specifier");
		else {
			size_t fl = (size_t)(dash - hash), dl = strlen(dash + 1), want = 0;
			if (fl == 6 && !strncmp(hash, "sha512", 6))
				want = 128;
			else if (fl == 6 && !strncmp(hash, "sha256", 6) && v->ver != 30)
				want = 64;
			if (!want)
				ERR(v, "hash", jh, v->ver == 30 ? "spec 3.0.0 knows only sha512" : NULL,
				    "unrecognized hash function");
			else if (dl != want)
				ERR(v, "hash", jh, NULL, "incorrect size for hash sum: %zu, expected %zu",
				    dl, want);
			else if (!is_hex(dash + 1, dl))
				ERR(v, "hash", jh, BOOT_HINT, "hash digest is not hexadecimal");
		}
		/* Ignition reports it at verification.hash; 3.0 checks it for file contents only */
		if (!src && (kind == RES_FILE || v->ver >= 31))
			ERR(v, "hash", NULL, NULL, "verification requires a source");
		pop(v, o);
	}
}

static void check_resource_list(struct v *v, json_t *o, const char *key, enum res_kind kind)
{
	json_t *a = json_object_get(o, key);
	size_t i;
	json_t *e;

	if (!a)
		return;
	size_t old = push_key(v, key);
	json_array_foreach(a, i, e) {
		size_t o2 = push_idx(v, i);
		check_resource(v, e, kind);
		pop(v, o2);
	}
	pop(v, old);
}

/* Ignition's duplicate rule for a list of objects: the key is the string member keyfield ("" when
 * unset); every later entry with a key seen before is an error at the entry. */
static void check_key_dups(struct v *v, json_t *o, const char *key, const char *keyfield,
			   const char *what)
{
	json_auto_t *seen = json_object();
	size_t i;
	json_t *e;

	if (!seen || !json_array_size(json_object_get(o, key)))
		return;
	size_t old = push_key(v, key);
	json_array_foreach(json_object_get(o, key), i, e) {
		const char *k = jstr(e, keyfield);
		if (!k)
			k = "";
		if (json_object_get(seen, k)) {
			size_t o2 = push_idx(v, i);
			ERR(v, NULL, NULL, NULL, "duplicate %s%s%s%s", what, k[0] ? " \"" : "", k,
			    k[0] ? "\"" : " (both without one)");
			pop(v, o2);
		} else
			(void)json_object_set_new(seen, k, json_true());
	}
	pop(v, old);
}

static void check_string_dups(struct v *v, json_t *o, const char *key, const char *what);

static bool url_is_http(const char *s)
{
	return s && (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8));
}

static void check_ignition(struct v *v, json_t *ign)
{
	size_t o = push_key(v, "ignition");
	json_t *cfg = json_object_get(ign, "config");
	if (cfg) {
		size_t o2 = push_key(v, "config");
		check_resource_list(v, cfg, "merge", RES_MERGE);
		check_key_dups(v, cfg, "merge", "source", "merge source");
		json_t *rep = json_object_get(cfg, "replace");
		if (rep) {
			size_t o3 = push_key(v, "replace");
			check_resource(v, rep, RES_REPLACE);
			pop(v, o3);
		}
		pop(v, o2);
	}
	json_t *tls = json_object_get(json_object_get(ign, "security"), "tls");
	if (tls) {
		size_t o2 = push_key(v, "security");
		size_t o3 = push_key(v, "tls");
		if (v->ver == 30) {
			/* 3.0 CAs are {source: string}: a missing source is an empty URL */
			json_t *a = json_object_get(tls, "certificateAuthorities");
			size_t i;
			json_t *e;
			size_t o4 = push_key(v, "certificateAuthorities");
			json_array_foreach(a, i, e) {
				size_t o5 = push_idx(v, i);
				if (!jstr(e, "source"))
					ERR(v, "source", NULL, NULL, "invalid URL scheme (empty URL)");
				else
					check_resource(v, e, RES_CA);
				pop(v, o5);
			}
			pop(v, o4);
		} else
			check_resource_list(v, tls, "certificateAuthorities", RES_CA);
		check_key_dups(v, tls, "certificateAuthorities", "source", "certificate authority");
		pop(v, o3);
		pop(v, o2);
	}
	json_t *proxy = json_object_get(ign, "proxy");
	if (proxy) {
		size_t o2 = push_key(v, "proxy");
		const char *hp = jstr(proxy, "httpProxy"), *hsp = jstr(proxy, "httpsProxy");
		if (hp && !url_is_http(hp))
			ERR(v, "httpProxy", json_object_get(proxy, "httpProxy"), NULL,
			    "proxies must be http:// or https:// URLs");
		if (hsp && !url_is_http(hsp))
			ERR(v, "httpsProxy", json_object_get(proxy, "httpsProxy"), NULL,
			    "proxies must be http:// or https:// URLs");
		else if (hsp && !strncasecmp(hsp, "http://", 7))
			WARN(v, "httpsProxy", NULL, NULL,
			     "insecure plain-text HTTP proxy for HTTPS resources");
		check_string_dups(v, proxy, "noProxy", "noProxy entry");
		pop(v, o2);
	}
	pop(v, o);
}

/* --- storage -------------------------------------------------------------------------------- */

static void check_owner(struct v *v, json_t *node, const char *key)
{
	json_t *o = json_object_get(node, key);
	if (o && json_object_get(o, "id") && json_object_get(o, "name"))
		ERR(v, key, NULL, NULL, "cannot set both id and name");
}

/* Decimal modes that are octal digits written as if JSON took octal: 644 means 01204. */
static long octal_lookalike(long long mode)
{
	static const int common[] = { 400, 440, 444, 555, 600, 640, 644, 660, 664,
				      700, 750, 755, 770, 775, 777 };
	for (size_t i = 0; i < ARRAY_SIZE(common); i++)
		if (mode == common[i])
			return (mode / 100) * 64 + ((mode / 10) % 10) * 8 + mode % 10;
	return -1;
}

static void check_mode(struct v *v, json_t *node)
{
	json_t *jm = json_object_get(node, "mode");
	long long mode;
	char hint[128] = "";

	if (!jint(node, "mode", &mode))
		return;
	long oct = octal_lookalike(mode);
	if (oct >= 0)
		snprintf(hint, sizeof(hint), "modes are decimal in JSON: 0%lld is %ld", mode, oct);
	if (mode < 0 || mode > 07777) {
		ERR(v, "mode", jm, hint[0] ? hint : NULL,
		    "illegal file mode (must be 0 to 4095, i.e. 0-07777)");
		return;
	}
	if (mode > 0777 && v->ver < 36) {
		if (!hint[0])
			snprintf(hint, sizeof(hint),
				 "setuid/setgid/sticky bits require spec 3.6.0; 0%llo is used",
				 mode & 0777);
		WARN(v, "mode", jm, hint, "mode bits 07000 are ignored before spec 3.6.0");
		(void)json_object_set_new(node, "mode", json_integer(mode & 0777));
	} else if (oct >= 0)
		WARN(v, "mode", jm, hint, "mode %lld is 0%llo in octal", mode, mode);
}

static void check_storage_nodes(struct v *v, json_t *st, json_t *doc)
{
	/* paths written by units: /etc/systemd/system/<unit> and <unit>.d/<dropin> with contents */
	json_auto_t *unit_paths = json_object();
	json_auto_t *seen = json_object();
	json_auto_t *links = json_object();
	json_auto_t *dirs = json_object();
	size_t i;
	json_t *e;

	if (!unit_paths || !seen || !links || !dirs)
		return;
	json_array_foreach(json_object_get(json_object_get(doc, "systemd"), "units"), i, e) {
		const char *n = jstr(e, "name");
		char buf[4200];
		if (!n)
			continue;
		if (jstr(e, "contents") && jstr(e, "contents")[0]) {
			snprintf(buf, sizeof(buf), "/etc/systemd/system/%s", n);
			(void)json_object_set_new(unit_paths, buf, json_true());
		}
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(e, "dropins"), k, d) {
			const char *dn = jstr(d, "name");
			if (dn && jstr(d, "contents") && jstr(d, "contents")[0]) {
				snprintf(buf, sizeof(buf), "/etc/systemd/system/%s.d/%s", n, dn);
				(void)json_object_set_new(unit_paths, buf, json_true());
			}
		}
	}
	json_array_foreach(json_object_get(st, "links"), i, e) {
		const char *p = jstr(e, "path");
		if (p)
			(void)json_object_set_new(links, p, json_true());
	}
	json_array_foreach(json_object_get(st, "directories"), i, e) {
		const char *p = jstr(e, "path");
		if (p)
			(void)json_object_set_new(dirs, p, json_true());
	}

	static const char *const kinds[] = { "directories", "files", "links" };
	for (size_t k = 0; k < 3; k++) {
		json_t *arr = json_object_get(st, kinds[k]);
		if (!arr)
			continue;
		size_t o = push_key(v, kinds[k]);
		json_array_foreach(arr, i, e) {
			size_t o2 = push_idx(v, i);
			bool ok = check_path(v, e, "path", true);
			const char *p = jstr(e, "path");
			check_owner(v, e, "user");
			check_owner(v, e, "group");
			if (k < 2)
				check_mode(v, e);
			if (p && ok) {
				if (json_object_get(seen, p))
					ERR(v, "path", json_object_get(e, "path"), NULL,
					    "duplicate path: already used by %s",
					    json_string_value(json_object_get(seen, p)));
				else {
					char what[64];
					snprintf(what, sizeof(what), "storage.%s[%zu]", kinds[k], i);
					(void)json_object_set_new(seen, p, json_string(what));
				}
				/* goes through a link of this config? */
				char buf[4200];
				snprintf(buf, sizeof(buf), "%s", p);
				for (char *s = strrchr(buf, '/'); s && s > buf; s = strrchr(buf, '/')) {
					*s = 0;
					if (json_object_get(links, buf)) {
						ERR(v, "path", json_object_get(e, "path"), NULL,
						    "path goes through the link \"%s\" of this config",
						    buf);
						break;
					}
				}
				if (json_object_get(unit_paths, p))
					ERR(v, "path", json_object_get(e, "path"),
					    "write the unit through systemd.units instead",
					    "path conflicts with a systemd unit or dropin of this config");
			}
			if (k == 1) {
				json_t *c = json_object_get(e, "contents");
				if (jbool(e, "overwrite", false) && !jstr(c, "source"))
					ERR(v, "overwrite", NULL, "set contents.source, or drop overwrite",
					    "overwrite must be false if contents.source is unset");
				if (c) {
					size_t o3 = push_key(v, "contents");
					check_resource(v, c, RES_FILE);
					pop(v, o3);
				}
				check_resource_list(v, e, "append", RES_FILE);
			}
			if (k == 2) {
				const char *t = jstr(e, "target");
				bool hard = jbool(e, "hard", false);
				if (!t) {
					if (v->ver >= 33)
						ERR(v, "target", NULL, NULL, "link target is required");
					else
						ERR(v, "target", NULL, BOOT_HINT,
						    "link target is required");
				} else if (hard) {
					char buf[8400];
					if (t[0] == '/')
						snprintf(buf, sizeof(buf), "%s", t);
					else {
						const char *slash = p ? strrchr(p, '/') : NULL;
						int dl = slash ? (int)(slash - p) : 0;
						snprintf(buf, sizeof(buf), "%.*s/%s", dl, p ? p : "", t);
					}
					char *c = path_clean(buf);
					if (c && json_object_get(dirs, c))
						ERR(v, "target", json_object_get(e, "target"), NULL,
						    "hard link target is a directory of this config");
					free(c);
				}
				if (hard && (json_object_get(e, "user") || json_object_get(e, "group")))
					WARN(v, NULL, NULL, NULL,
					     "user and group are ignored for hard links");
			}
			pop(v, o2);
		}
		pop(v, o);
	}
}

static bool valid_guid(const char *g)
{
	static const char pat[] = "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX";
	if (!g[0])
		return true;
	if (strlen(g) != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; pat[i]; i++)
		if (pat[i] == '-' ? g[i] != '-' : !isxdigit((unsigned char)g[i]))
			return false;
	return true;
}

static void check_disks(struct v *v, json_t *st)
{
	json_auto_t *devs = json_object();
	size_t i;
	json_t *d;

	if (!devs)
		return;
	size_t o = push_key(v, "disks");
	json_array_foreach(json_object_get(st, "disks"), i, d) {
		size_t o2 = push_idx(v, i);
		const char *dev = jstr(d, "device");
		if (!dev || !dev[0])
			ERR(v, "device", NULL, NULL, "disk device is required");
		else if (check_path(v, d, "device", true)) {
			if (json_object_get(devs, dev))
				ERR(v, "device", json_object_get(d, "device"), NULL, "duplicate disk device");
			(void)json_object_set_new(devs, dev, json_true());
		}
		json_auto_t *nums = json_object(), *labels = json_object();
		size_t k;
		json_t *p;
		json_t *parts = json_object_get(d, "partitions");
		/* "next free number" cannot be combined with deleting partitions (Ignition's
		 * ErrZeroesWithShouldNotExist) */
		bool zero = false, gone = false;
		json_array_foreach(parts, k, p) {
			long long num = 0;
			(void)jint(p, "number", &num);
			zero |= num == 0;
			gone |= !jbool(p, "shouldExist", true);
		}
		if (zero && gone)
			ERR(v, "partitions", NULL, "give every partition a number",
			    "a partition without a number cannot be combined with shouldExist: false");
		size_t o3 = push_key(v, "partitions");
		json_array_foreach(parts, k, p) {
			size_t o4 = push_idx(v, k);
			long long num = 0, start = 0, size = 0;
			(void)jint(p, "number", &num);
			const char *label = jstr(p, "label");
			if (num < 0)
				ERR(v, "number", json_object_get(p, "number"), NULL,
				    "partition number must not be negative");
			if (num == 0 && !label && !v->from2)
				ERR(v, NULL, NULL, NULL, "a partition number >= 1 or a label must be given");
			if (num > 0) {
				char nb[32];
				snprintf(nb, sizeof(nb), "%lld", num);
				if (nums && json_object_get(nums, nb))
					ERR(v, "number", json_object_get(p, "number"), NULL,
					    "duplicate partition number");
				else if (nums)
					(void)json_object_set_new(nums, nb, json_true());
			}
			if (label) {
				if (labels && json_object_get(labels, label))
					ERR(v, "label", json_object_get(p, "label"), NULL,
					    "duplicate partition label");
				else if (labels)
					(void)json_object_set_new(labels, label, json_true());
				/* GPT holds 36 UTF-16 code units; Ignition counts bytes (Go's len()),
				 * so a label of 19 two-byte characters is already refused */
				if (strlen(label) > 36)
					ERR(v, "label", json_object_get(p, "label"), NULL,
					    "partition labels may not exceed 36 bytes");
				if (strchr(label, ':'))
					ERR(v, "label", json_object_get(p, "label"), NULL,
					    "partition labels may not contain \":\"");
			}
			static const char *const guids[] = { "guid", "typeGuid" };
			for (int g = 0; g < 2; g++) {
				const char *s = jstr(p, guids[g]);
				if (s && !valid_guid(s))
					ERR(v, guids[g], json_object_get(p, guids[g]), NULL,
					    "must have the form 01234567-89AB-CDEF-EDCB-A98765432101");
			}
			if (!jbool(p, "shouldExist", true)) {
				static const char *const excl[] = { "label", "guid", "typeGuid",
								    "startMiB", "sizeMiB" };
				for (int x = 0; x < 5; x++)
					if (json_object_get(p, excl[x]))
						ERR(v, excl[x], NULL, NULL,
						    "cannot be set when shouldExist is false");
			}
			if (jint(p, "startMiB", &start) && jint(p, "sizeMiB", &size) && start > 0 &&
			    size > 0) {
				size_t q;
				json_t *p2;
				json_array_foreach(parts, q, p2) {
					long long s2, z2;
					if (q >= k)
						break;
					if (jint(p2, "startMiB", &s2) && jint(p2, "sizeMiB", &z2) &&
					    s2 > 0 && z2 > 0 && start < s2 + z2 && s2 < start + size) {
						ERR(v, NULL, NULL, NULL,
						    "partition overlaps storage.disks[%zu].partitions[%zu]",
						    i, q);
						break;
					}
				}
			}
			pop(v, o4);
		}
		pop(v, o3);
		pop(v, o2);
	}
	pop(v, o);
}

static void check_raid(struct v *v, json_t *st)
{
	static const char *const levels[] = { "linear", "raid0", "0", "stripe", "raid1", "1",
					      "mirror", "raid4", "4", "raid5", "5", "raid6", "6",
					      "raid10", "10", NULL };
	json_auto_t *names = json_object();
	size_t i;
	json_t *r;

	if (!names)
		return;
	size_t o = push_key(v, "raid");
	json_array_foreach(json_object_get(st, "raid"), i, r) {
		size_t o2 = push_idx(v, i);
		const char *name = jstr(r, "name"), *level = jstr(r, "level");
		if (!name || !name[0])
			ERR(v, "name", NULL, NULL, "raid name is required");
		else if (json_object_get(names, name))
			ERR(v, "name", json_object_get(r, "name"), NULL, "duplicate raid name");
		else
			(void)json_object_set_new(names, name, json_true());
		if (!level)
			ERR(v, "level", NULL, NULL, "raid level is required");
		else {
			bool ok = false;
			for (int k = 0; levels[k]; k++)
				ok |= !strcmp(levels[k], level);
			if (!ok)
				ERR(v, "level", json_object_get(r, "level"), NULL,
				    "unrecognized raid level");
			long long spares;
			if (ok && jint(r, "spares", &spares) && spares > 0 &&
			    (!strcmp(level, "linear") || !strcmp(level, "raid0") ||
			     !strcmp(level, "0") || !strcmp(level, "stripe")))
				ERR(v, "spares", json_object_get(r, "spares"), NULL,
				    "spares are not supported for level \"%s\"", level);
		}
		if (json_array_size(json_object_get(r, "devices")) == 0)
			ERR(v, "devices", NULL, NULL, "raid needs at least one device");
		size_t k;
		json_t *d;
		size_t o3 = push_key(v, "devices");
		json_array_foreach(json_object_get(r, "devices"), k, d) {
			size_t o4 = push_idx(v, k);
			const char *dp = json_string_value(d);
			if (dp && !dp[0])
				ERR(v, NULL, NULL, NULL, "raid device must not be empty or null");
			else if (dp)
				(void)check_path_value(v, NULL, d);
			pop(v, o4);
		}
		pop(v, o3);
		check_string_dups(v, r, "devices", "raid device");
		pop(v, o2);
	}
	pop(v, o);
}

static void check_filesystems(struct v *v, json_t *st)
{
	static const struct {
		const char *name;
		size_t maxlabel;
	} formats[] = { { "ext4", 16 }, { "btrfs", 256 }, { "xfs", 12 },
			{ "swap", 15 }, { "vfat", 11 }, { "none", 0 } };
	json_auto_t *devs = json_object();
	size_t i;
	json_t *f;

	if (!devs)
		return;
	size_t o = push_key(v, "filesystems");
	json_array_foreach(json_object_get(st, "filesystems"), i, f) {
		size_t o2 = push_idx(v, i);
		const char *dev = jstr(f, "device"), *fmt = jstr(f, "format");
		if (!dev || !dev[0])
			ERR(v, "device", NULL, NULL, "filesystem device is required");
		else if (check_path(v, f, "device", true)) {
			if (json_object_get(devs, dev))
				ERR(v, "device", json_object_get(f, "device"), NULL,
				    "duplicate filesystem device");
			(void)json_object_set_new(devs, dev, json_true());
		}
		int fi = -1;
		if (fmt && fmt[0]) {
			for (int k = 0; k < 6; k++)
				if (!strcmp(formats[k].name, fmt) && (k < 5 || v->ver >= 33))
					fi = k;
			if (fi < 0)
				ERR(v, "format", json_object_get(f, "format"),
				    !strcmp(fmt, "none") ? "format \"none\" requires spec 3.3.0" : NULL,
				    "invalid filesystem format (ext4, btrfs, xfs, swap, vfat%s)",
				    v->ver >= 33 ? ", none" : "");
		} else {
			static const char *const needs[] = { "path", "label", "uuid", "wipeFilesystem",
							     "options", "mountOptions" };
			for (int k = 0; k < 6; k++) {
				json_t *x = json_object_get(f, needs[k]);
				if (x && !(json_is_array(x) && json_array_size(x) == 0) &&
				    !(json_is_false(x))) {
					ERR(v, "format", NULL, NULL,
					    "format is required when %s is set", needs[k]);
					break;
				}
			}
		}
		const char *label = jstr(f, "label");
		if (label && fi >= 0 && fi < 5 && strlen(label) > formats[fi].maxlabel)
			ERR(v, "label", json_object_get(f, "label"), NULL,
			    "filesystem label is too long for %s (at most %zu)", fmt,
			    formats[fi].maxlabel);
		if (jstr(f, "path"))
			(void)check_path(v, f, "path", false);
		/* warnings against the disks of this config */
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(st, "disks"), k, d) {
			if (!dev || !jstr(d, "device") || strcmp(jstr(d, "device"), dev))
				continue;
			if (json_array_size(json_object_get(d, "partitions")) > 0)
				WARN(v, "device", NULL, NULL,
				     "filesystem on storage.disks[%zu], which has partitions in this config",
				     k);
			else if (jbool(d, "wipeTable", false) && !jbool(f, "wipeFilesystem", false))
				WARN(v, "device", NULL, "set wipeFilesystem: true",
				     "filesystem on storage.disks[%zu], whose table is wiped", k);
		}
		pop(v, o2);
	}
	pop(v, o);
}

static void check_luks(struct v *v, json_t *st)
{
	json_auto_t *names = json_object();
	size_t i;
	json_t *l;

	if (!names)
		return;
	size_t o = push_key(v, "luks");
	json_array_foreach(json_object_get(st, "luks"), i, l) {
		size_t o2 = push_idx(v, i);
		const char *name = jstr(l, "name"), *label = jstr(l, "label");
		if (!name || !name[0])
			ERR(v, "name", NULL, NULL, "luks name is required");
		else {
			if (strchr(name, '/'))
				ERR(v, "name", json_object_get(l, "name"), NULL,
				    "luks name must not contain \"/\"");
			if (json_object_get(names, name))
				ERR(v, "name", json_object_get(l, "name"), NULL, "duplicate luks name");
			(void)json_object_set_new(names, name, json_true());
		}
		if (!jstr(l, "device") || !jstr(l, "device")[0])
			ERR(v, "device", NULL, NULL, "luks device is required");
		else
			(void)check_path(v, l, "device", true);
		if (label && strlen(label) > 47)
			ERR(v, "label", json_object_get(l, "label"), NULL,
			    "luks label is too long (at most 47)");
		check_string_dups(v, l, "openOptions", "open option");
		json_t *kf = json_object_get(l, "keyFile");
		if (kf) {
			size_t o3 = push_key(v, "keyFile");
			check_resource(v, kf, RES_KEYFILE);
			pop(v, o3);
		}
		json_t *cl = json_object_get(l, "clevis");
		if (cl) {
			size_t o3 = push_key(v, "clevis");
			json_t *cu = json_object_get(cl, "custom");
			bool has_custom = cu && (jstr(cu, "pin") || jstr(cu, "config") ||
						 jbool(cu, "needsNetwork", false));
			if (has_custom) {
				if (jbool(cl, "tpm2", false) || json_array_size(json_object_get(cl, "tang")) ||
				    json_object_get(cl, "threshold"))
					ERR(v, "custom", NULL, NULL,
					    "a custom clevis config cannot be combined with tpm2, tang or threshold");
				const char *pin = jstr(cu, "pin");
				size_t o4 = push_key(v, "custom");
				if (v->ver < 36 && (!pin || (strcmp(pin, "tpm2") && strcmp(pin, "tang") &&
							     strcmp(pin, "sss"))))
					ERR(v, "pin", json_object_get(cu, "pin"),
					    v->ver >= 32 ? "any pin name requires spec 3.6.0" : NULL,
					    "clevis pin must be one of tpm2, tang, sss");
				else if (!pin || !pin[0])
					ERR(v, "pin", NULL, NULL, "clevis pin is required");
				if (!jstr(cu, "config") || !jstr(cu, "config")[0])
					ERR(v, "config", NULL, NULL, "clevis config is required");
				pop(v, o4);
			}
			size_t k;
			json_t *t;
			size_t o4 = push_key(v, "tang");
			json_array_foreach(json_object_get(cl, "tang"), k, t) {
				size_t o5 = push_idx(v, k);
				if (!url_is_http(jstr(t, "url")))
					ERR(v, "url", json_object_get(t, "url"), NULL,
					    "tang url must be http:// or https://");
				if (!jstr(t, "thumbprint") || !jstr(t, "thumbprint")[0])
					ERR(v, "thumbprint", NULL, NULL, "tang thumbprint is required");
				const char *adv = jstr(t, "advertisement");
				if (adv) {
					json_error_t je;
					json_t *a = json_loads(adv, JSON_DECODE_ANY, &je);
					if (!a)
						ERR(v, "advertisement", NULL, NULL,
						    "tang advertisement is not valid JSON: %s", je.text);
					json_decref(a);
				}
				pop(v, o5);
			}
			pop(v, o4);
			check_key_dups(v, cl, "tang", "url", "tang server");
			pop(v, o3);
		}
		if (jbool(json_object_get(l, "cex"), "enabled", false)) {
			if (cl && (jbool(cl, "tpm2", false) || json_array_size(json_object_get(cl, "tang")) ||
				   json_object_get(cl, "custom")))
				ERR(v, "cex", NULL, NULL, "cex cannot be combined with clevis");
			if (kf && jstr(kf, "source"))
				ERR(v, "cex", NULL, NULL, "cex cannot be combined with a key file");
		}
		pop(v, o2);
	}
	pop(v, o);
}

/* --- systemd --------------------------------------------------------------------------------- */

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* Parse unit file text as systemd does (sections, key=value, continuation lines). Returns NULL
 * when fine, else a static description. *ret_install tells whether [Install] exists,
 * *ret_preamble whether text comes before the first [Section]: systemd and Ignition's parser
 * (go-systemd's unit lexer, which skips everything before the first '[' and a comment after
 * '#' or ';') ignore it, so it is only a warning (docs/provision.md §4.1). */
static const char *unit_parse(const char *c, bool *ret_install, bool *ret_preamble)
{
	bool in_section = false;
	*ret_install = false;
	*ret_preamble = false;

	while (*c) {
		const char *eol = strchr(c, '\n');
		size_t n = eol ? (size_t)(eol - c) : strlen(c);
		const char *l = c;
		c = eol ? eol + 1 : c + n;
		while (n && (*l == ' ' || *l == '\t')) {
			l++;
			n--;
		}
		while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
			n--;
		if (n > 2048)
			return "a line is longer than 2048 bytes (systemd's LINE_MAX)";
		if (!n || *l == '#' || *l == ';')
			continue;
		if (!in_section && *l != '[') {
			/* before any section: skipped up to a '[' that starts a header; a comment
			 * character ends the line */
			size_t k = strcspn(l, "[#;\n");
			if (k < n && l[k] == '[') {
				*ret_preamble = true;
				l += k;
				n -= k;
			} else {
				*ret_preamble = true;
				continue;
			}
		}
		if (*l == '[') {
			if (l[n - 1] != ']' || n < 3)
				return "a section header must look like [Name]";
			in_section = true;
			if (n == 9 && !strncmp(l, "[Install]", 9))
				*ret_install = true;
			continue;
		}
		const char *eq = memchr(l, '=', n);
		if (!eq || eq == l)
			return "a line is neither a [Section], a Key=value setting nor a comment";
		/* continuation lines */
		while (l[n - 1] == '\\' && *c) {
			eol = strchr(c, '\n');
			l = c;
			n = eol ? (size_t)(eol - c) : strlen(c);
			c = eol ? eol + 1 : c + n;
			while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
				n--;
			if (!n)
				break;
		}
	}
	return NULL;
}

#define PREAMBLE_WARNING "text before the first [Section] is ignored (by systemd too)"

static void check_units(struct v *v, json_t *sd)
{
	static const char *const exts[] = { ".service", ".socket", ".device", ".mount", ".automount",
					    ".swap", ".target", ".path", ".timer", ".snapshot",
					    ".slice", ".scope", NULL };
	json_auto_t *names = json_object();
	json_t *units = json_object_get(sd, "units");
	size_t i;
	json_t *u;

	if (!names)
		return;
	size_t o = push_key(v, "units");
	json_array_foreach(units, i, u) {
		size_t o2 = push_idx(v, i);
		const char *name = jstr(u, "name");
		bool ext_ok = false;
		for (int k = 0; name && exts[k]; k++)
			ext_ok |= has_suffix(name, exts[k]); /* Go's path.Ext: ".service" alone passes */
		if (!name || !ext_ok)
			ERR(v, "name", json_object_get(u, "name"), NULL,
			    name ? "invalid systemd unit extension" : "unit name is required");
		if (name) {
			if (json_object_get(names, name))
				ERR(v, "name", json_object_get(u, "name"), NULL, "duplicate unit name");
			(void)json_object_set_new(names, name, json_true());
		}
		const char *c = jstr(u, "contents");
		bool install = false;
		if (c) {
			bool pre = false;
			const char *why = unit_parse(c, &install, &pre);
			if (why)
				ERR(v, "contents", NULL, NULL, "invalid unit contents: %s", why);
			else if (pre)
				WARN(v, "contents", NULL, NULL, PREAMBLE_WARNING);
			else if (c[0] && jbool(u, "enabled", false) && !install)
				WARN(v, "contents", NULL, "add an [Install] section, e.g. WantedBy=multi-user.target",
				     "unit is enabled but has no [Install] section, so enabling does nothing");
		}
		if (name && !c && jbool(u, "enabled", false)) {
			const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
			if (at && dot && dot > at + 1) {
				char tmpl[512];
				snprintf(tmpl, sizeof(tmpl), "%.*s%s", (int)(at - name + 1), name, dot);
				size_t k;
				json_t *t;
				json_array_foreach(units, k, t) {
					const char *tn = jstr(t, "name"), *tc = jstr(t, "contents");
					bool ti = false, tp = false;
					if (tn && tc && !strcmp(tn, tmpl) && !unit_parse(tc, &ti, &tp) &&
					    !ti)
						WARN(v, "enabled", NULL, NULL,
						     "template %s of this config has no [Install] section", tmpl);
				}
			}
		}
		json_auto_t *dn = json_object();
		size_t k;
		json_t *d;
		size_t o3 = push_key(v, "dropins");
		json_array_foreach(json_object_get(u, "dropins"), k, d) {
			size_t o4 = push_idx(v, k);
			const char *n = jstr(d, "name");
			if (!n || !has_suffix(n, ".conf"))
				ERR(v, "name", json_object_get(d, "name"), NULL,
				    "invalid systemd drop-in extension (must end in .conf)");
			if (n && dn) {
				if (json_object_get(dn, n))
					ERR(v, "name", json_object_get(d, "name"), NULL,
					    "duplicate drop-in name");
				(void)json_object_set_new(dn, n, json_true());
			}
			const char *dc = jstr(d, "contents");
			bool di, dp = false;
			const char *why = dc ? unit_parse(dc, &di, &dp) : NULL;
			if (why)
				ERR(v, "contents", NULL, NULL, "invalid drop-in contents: %s", why);
			else if (dp)
				WARN(v, "contents", NULL, NULL, PREAMBLE_WARNING);
			pop(v, o4);
		}
		pop(v, o3);
		pop(v, o2);
	}
	pop(v, o);
}

/* --- passwd, kernel arguments -------------------------------------------------------------------- */

static void check_string_dups(struct v *v, json_t *o, const char *key, const char *what)
{
	json_auto_t *seen = json_object();
	size_t i;
	json_t *s;

	if (!seen)
		return;
	size_t old = push_key(v, key);
	json_array_foreach(json_object_get(o, key), i, s) {
		const char *t = json_string_value(s);
		if (!t)
			continue;
		if (json_object_get(seen, t)) {
			size_t o2 = push_idx(v, i);
			ERR(v, NULL, NULL, NULL, "duplicate %s", what);
			pop(v, o2);
		}
		(void)json_object_set_new(seen, t, json_true());
	}
	pop(v, old);
}

static bool useradd_name_ok(const char *n)
{
	/* shadow's default: [a-z_][a-z0-9_-]*[$]?, at most 32 */
	size_t len = strlen(n);
	if (!len || len > 32)
		return false;
	if (!(islower((unsigned char)n[0]) || n[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)n[i];
		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' || (c == '$' && i == len - 1)))
			return false;
	}
	return true;
}

static void check_passwd(struct v *v, json_t *pw)
{
	static const char *const lists[] = { "users", "groups" };
	size_t o = push_key(v, "passwd");
	for (int g = 0; g < 2; g++) {
		json_auto_t *names = json_object();
		size_t i;
		json_t *e;
		size_t o2 = push_key(v, lists[g]);
		json_array_foreach(json_object_get(pw, lists[g]), i, e) {
			size_t o3 = push_idx(v, i);
			const char *name = jstr(e, "name");
			if (!name || !name[0])
				ERR(v, "name", NULL, BOOT_HINT, "%s name must not be empty",
				    g ? "group" : "user");
			else {
				if (names && json_object_get(names, name))
					ERR(v, "name", json_object_get(e, "name"), NULL,
					    "duplicate %s name", g ? "group" : "user");
				else if (names)
					(void)json_object_set_new(names, name, json_true());
				if (!useradd_name_ok(name))
					WARN(v, "name", json_object_get(e, "name"), NULL,
					     "%s would refuse this name", g ? "groupadd" : "useradd");
			}
			long long id;
			if (jint(e, g ? "gid" : "uid", &id) && id < 0)
				WARN(v, g ? "gid" : "uid", json_object_get(e, g ? "gid" : "uid"), NULL,
				     "negative %s", g ? "gid" : "uid");
			if (!g) {
				check_string_dups(v, e, "sshAuthorizedKeys", "SSH key");
				check_string_dups(v, e, "groups", "group");
			}
			pop(v, o3);
		}
		pop(v, o2);
	}
	pop(v, o);
}

static void check_kargs(struct v *v, json_t *ka)
{
	static const char *const lists[] = { "shouldExist", "shouldNotExist" };
	json_auto_t *seen = json_object();

	if (!seen)
		return;
	size_t o = push_key(v, "kernelArguments");
	for (int k = 0; k < 2; k++) {
		size_t i;
		json_t *s;
		size_t o2 = push_key(v, lists[k]);
		json_array_foreach(json_object_get(ka, lists[k]), i, s) {
			const char *t = json_string_value(s);
			if (!t)
				continue;
			if (json_object_get(seen, t)) {
				size_t o3 = push_idx(v, i);
				ERR(v, NULL, s, NULL, "kernel argument listed twice (shouldExist and "
						      "shouldNotExist share one list)");
				pop(v, o3);
			}
			(void)json_object_set_new(seen, t, json_true());
		}
		pop(v, o2);
	}
	pop(v, o);
}

int ign_config_validate(json_t *doc, int version, struct problem_list *reterr)
{
	return ign_config_validate_full(doc, version, false, reterr);
}

int ign_config_validate_full(json_t *doc, int version, bool from2, struct problem_list *reterr)
{
	struct v v = { .ver = version, .l = reterr, .from2 = from2 };

	json_t *ign = json_object_get(doc, "ignition");
	if (ign)
		check_ignition(&v, ign);
	json_t *st = json_object_get(doc, "storage");
	if (st) {
		size_t o = push_key(&v, "storage");
		check_disks(&v, st);
		check_raid(&v, st);
		check_filesystems(&v, st);
		check_luks(&v, st);
		check_storage_nodes(&v, st, doc);
		pop(&v, o);
	}
	json_t *sd = json_object_get(doc, "systemd");
	if (sd) {
		size_t o = push_key(&v, "systemd");
		check_units(&v, sd);
		pop(&v, o);
	}
	json_t *pw = json_object_get(doc, "passwd");
	if (pw)
		check_passwd(&v, pw);
	json_t *ka = json_object_get(doc, "kernelArguments");
	if (ka)
		check_kargs(&v, ka);
	bool oom = v.path.oom;
	fjson_path_release(&v.path);
	if (oom)
		return -ENOMEM;
	return v.errors ? -EINVAL : 0;
}
