/* SPDX-License-Identifier: MIT */
/* lib/ignition/translate.c - spec 2.x: its own rules, then the translation to 3.x that Flatcar
 * performs (provision.md 2.3; flatcar/scripts ignition patches, config/v24tov31).
 *
 * The 2.x document is checked first with the 2.x rules, then translated entry by entry; a
 * translation refusal is an error at the 2.x pointer of the entry that causes it. The 3.x
 * result is then validated by the caller with the 3.1 rules. */
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

struct t {
	int ver;
	struct problem_list *l;
	struct fjson_path path;
	int errors;
	json_t *fs_paths; /* filesystem name -> mount path ("" for root) */
};

#define ERR(t, key, val, hint, ...)                                                            \
	((t)->errors++, (void)report((t)->l, PROBLEM_ERROR, &(t)->path, key, val, hint, __VA_ARGS__))
#define WARN(t, key, val, hint, ...)                                                           \
	((void)report((t)->l, PROBLEM_WARNING, &(t)->path, key, val, hint, __VA_ARGS__))

char *ign_data_url_encode(const char *data, size_t n)
{
	char *out = malloc(6 + 3 * n + 1), *o;
	if (!out)
		return NULL;
	o = out + sprintf(out, "data:,");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];
		if (isalnum(c) || strchr("-._~", c))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = 0;
	return out;
}

/* Go's path.Join + Clean for two absolute-ish parts. */
static char *join_clean(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 3;
	char *buf = malloc(n), *out = malloc(n);
	if (!buf || !out) {
		free(buf);
		free(out);
		return NULL;
	}
	snprintf(buf, n, "%s/%s", a, b);
	/* clean: drop empty and "." components, resolve ".." */
	size_t w = 0;
	const char *p = buf;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == 0)
			break;
		if (len == 1 && p[0] == '.') {
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			while (w > 0 && out[w - 1] != '/')
				w--;
			if (w > 0)
				w--;
		} else {
			out[w++] = '/';
			memcpy(out + w, p, len);
			w += len;
		}
		p += len;
	}
	if (w == 0)
		out[w++] = '/';
	out[w] = 0;
	free(buf);
	return out;
}

static size_t pk(struct t *t, const char *k)
{
	return fjson_path_push_key(&t->path, k);
}
static size_t pi(struct t *t, size_t i)
{
	return fjson_path_push_index(&t->path, i);
}
static void pp(struct t *t, size_t o)
{
	fjson_path_pop(&t->path, o);
}

static void copy_keys(json_t *dst, json_t *src, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(src, *keys);
		if (v)
			(void)json_object_set(dst, *keys, v);
	}
}

/* 2.x resource checks: sha512 only, known schemes, data URLs decode. */
static void check_resource2(struct t *t, json_t *res)
{
	const char *src = jstr(res, "source"), *comp = jstr(res, "compression");
	const char *hash = jstr(json_object_get(res, "verification"), "hash");

	if (comp && comp[0] && strcmp(comp, "gzip"))
		ERR(t, "compression", json_object_get(res, "compression"), NULL,
		    "invalid compression method");
	if (src && src[0]) {
		static const char *const ok[] = { "http:", "https:", "tftp:", "s3:", "data:", "oem:",
						  NULL };
		bool good = false;
		for (int i = 0; ok[i]; i++)
			good |= !strncasecmp(src, ok[i], strlen(ok[i]));
		if (!good)
			ERR(t, "source", strncmp(src, "data:", 5) ? json_object_get(res, "source") : NULL,
			    NULL, "invalid URL scheme");
		else if (!strncasecmp(src, "data:", 5)) {
			char *d = NULL;
			if (ign_data_url_decode(src, &d, NULL) == -EINVAL)
				ERR(t, "source", NULL, NULL, "invalid data URL");
			free(d);
		}
	}
	if (hash) {
		size_t o = pk(t, "verification");
		if (strncmp(hash, "sha512-", 7) != 0)
			ERR(t, "hash", json_object_get(json_object_get(res, "verification"), "hash"),
			    "spec 2.x knows only sha512", "unrecognized hash function");
		else if (strlen(hash + 7) != 128)
			ERR(t, "hash", NULL, NULL, "incorrect size for hash sum");
		pp(t, o);
	}
}

static json_t *translate_resource(json_t *res)
{
	json_t *out = json_object();
	static const char *const keys[] = { "source", "compression", "verification", "httpHeaders",
					    NULL };
	if (out)
		copy_keys(out, res, keys);
	return out;
}

static const char *mount_path_of(struct t *t, json_t *node)
{
	const char *fs = jstr(node, "filesystem");
	if (!fs)
		return NULL;
	return json_string_value(json_object_get(t->fs_paths, fs));
}

/* Partition sizes in 512-byte sectors -> MiB (provision.md 10, decision 2). */
static void sectors_to_mib(struct t *t, json_t *p, json_t *out, const char *from, const char *to)
{
	long long v;
	if (!jint(p, from, &v))
		return;
	if (json_object_get(p, to)) {
		ERR(t, from, NULL, NULL, "cannot set both %s (sectors) and %s", from, to);
		return;
	}
	if (v % 2048) {
		char hint[96];
		snprintf(hint, sizeof(hint), "use %s in MiB (2048 sectors of 512 bytes each)", to);
		ERR(t, from, json_object_get(p, from), hint,
		    "%s in sectors is not a multiple of 1 MiB and cannot be translated", from);
		return;
	}
	(void)json_object_set_new(out, to, json_integer(v / 2048));
}

static void translate_storage(struct t *t, json_t *st, json_t *out3)
{
	json_t *st3 = json_object();
	size_t i;
	json_t *e;

	if (!st3)
		return;
	/* disks */
	json_t *disks = json_object_get(st, "disks");
	if (disks) {
		json_t *d3s = json_array();
		size_t o = pk(t, "disks");
		json_array_foreach(disks, i, e) {
			size_t o2 = pi(t, i);
			json_t *d3 = json_object();
			static const char *const dk[] = { "device", "wipeTable", NULL };
			copy_keys(d3, e, dk);
			json_t *parts = json_object_get(e, "partitions");
			if (parts) {
				json_t *p3s = json_array();
				size_t k;
				json_t *p;
				size_t o3 = pk(t, "partitions");
				json_array_foreach(parts, k, p) {
					size_t o4 = pi(t, k);
					json_t *p3 = json_object();
					static const char *const pkeys[] = {
						"label", "number", "sizeMiB", "startMiB", "typeGuid",
						"guid", "wipePartitionEntry", "shouldExist", NULL
					};
					copy_keys(p3, p, pkeys);
					sectors_to_mib(t, p, p3, "size", "sizeMiB");
					sectors_to_mib(t, p, p3, "start", "startMiB");
					(void)json_array_append_new(p3s, p3);
					pp(t, o4);
				}
				pp(t, o3);
				(void)json_object_set_new(d3, "partitions", p3s);
			}
			(void)json_array_append_new(d3s, d3);
			pp(t, o2);
		}
		pp(t, o);
		(void)json_object_set_new(st3, "disks", d3s);
	}
	json_t *raid = json_object_get(st, "raid");
	if (raid)
		(void)json_object_set(st3, "raid", raid);

	/* filesystems: names become mount paths */
	json_t *fss = json_object_get(st, "filesystems");
	json_t *fs3s = json_array();
	json_auto_t *names = json_object();
	(void)json_object_set_new(t->fs_paths, "root", json_string(""));
	size_t o = pk(t, "filesystems");
	json_array_foreach(fss, i, e) {
		size_t o2 = pi(t, i);
		const char *name = jstr(e, "name");
		char nb[64];
		if (!name) {
			snprintf(nb, sizeof(nb), "ignition%zu", i);
			name = nb;
		} else if (json_object_get(names, name))
			ERR(t, "name", json_object_get(e, "name"), NULL, "duplicate filesystem name");
		(void)json_object_set_new(names, name, json_true());
		json_t *m = json_object_get(e, "mount");
		const char *fpath = jstr(e, "path");
		if (m && fpath)
			ERR(t, NULL, NULL, NULL, "a filesystem takes mount or path, not both");
		else if (!m && !fpath)
			ERR(t, NULL, NULL, NULL, "a filesystem needs mount or path");
		if (!strcmp(name, "root")) {
			pp(t, o2);
			continue;
		}
		if (fpath) {
			if (fpath[0] != '/')
				ERR(t, "path", json_object_get(e, "path"), NULL, "path must be absolute");
			(void)json_object_set_new(t->fs_paths, name, json_string(fpath));
			pp(t, o2);
			continue;
		}
		if (!m) {
			pp(t, o2);
			continue;
		}
		char mp[300];
		bool oem = !strcmp(name, "oem") || !strcmp(name, "OEM");
		if (oem)
			snprintf(mp, sizeof(mp), "/oem");
		else
			snprintf(mp, sizeof(mp), "/tmp/%.200s-ign%zu", name, i);
		(void)json_object_set_new(t->fs_paths, name, json_string(mp));

		size_t om = pk(t, "mount");
		json_t *f3 = json_object();
		static const char *const mk[] = { "device", "format", "label", "uuid", NULL };
		copy_keys(f3, m, mk);
		json_t *create = json_object_get(m, "create");
		bool wipe = jbool(m, "wipeFilesystem", false);
		json_t *opts = json_array();
		size_t k;
		json_t *s;
		json_array_foreach(json_object_get(m, "options"), k, s)
			(void)json_array_append(opts, s);
		if (create) {
			if (!jbool(create, "force", false))
				ERR(t, "create", NULL, "set create.force: true, or use wipeFilesystem",
				    "mount.create without force: true cannot be translated to spec 3");
			wipe |= jbool(create, "force", false);
			json_array_foreach(json_object_get(create, "options"), k, s)
				(void)json_array_append(opts, s);
		}
		const char *dev = jstr(m, "device");
		if (!dev || dev[0] != '/')
			ERR(t, "device", json_object_get(m, "device"), NULL,
			    dev ? "path must be absolute" : "device is required");
		static const char *const fmts[] = { "ext4", "btrfs", "xfs", "swap", "vfat", NULL };
		const char *fmt = jstr(m, "format");
		bool fok = false;
		for (int f = 0; fmt && fmts[f]; f++)
			fok |= !strcmp(fmt, fmts[f]);
		if (!fok)
			ERR(t, "format", json_object_get(m, "format"), NULL, "invalid filesystem format");
		if (wipe)
			(void)json_object_set_new(f3, "wipeFilesystem", json_true());
		if (json_array_size(opts))
			(void)json_object_set_new(f3, "options", opts);
		else
			json_decref(opts);
		if (oem && !wipe)
			(void)json_object_set_new(f3, "format", json_string("btrfs"));
		(void)json_object_set_new(f3, "path", json_string(mp));
		(void)json_array_append_new(fs3s, f3);
		pp(t, om);
		pp(t, o2);
	}
	pp(t, o);
	if (json_array_size(fs3s))
		(void)json_object_set_new(st3, "filesystems", fs3s);
	else
		json_decref(fs3s);

	/* files, directories, links */
	static const char *const kinds[] = { "files", "directories", "links" };
	json_auto_t *seen = json_object();
	json_auto_t *linkset = json_object();
	/* links first, to refuse entries that go through them */
	json_array_foreach(json_object_get(st, "links"), i, e) {
		const char *mp = mount_path_of(t, e), *p = jstr(e, "path");
		if (mp && p) {
			char *full = join_clean(mp[0] ? mp : "/", p);
			if (full)
				(void)json_object_set_new(linkset, full, json_true());
			free(full);
		}
	}
	for (int k = 0; k < 3; k++) {
		json_t *arr = json_object_get(st, kinds[k]);
		if (!arr)
			continue;
		json_t *out = json_array();
		size_t ok = pk(t, kinds[k]);
		json_array_foreach(arr, i, e) {
			size_t o2 = pi(t, i);
			const char *fs = jstr(e, "filesystem"), *p = jstr(e, "path");
			const char *mp = NULL;
			if (!fs || !fs[0])
				ERR(t, "filesystem", NULL, "use \"root\" for the root filesystem",
				    "filesystem is required");
			else if (!(mp = mount_path_of(t, e)))
				ERR(t, "filesystem", json_object_get(e, "filesystem"), NULL,
				    "filesystem \"%s\" is not defined in this config", fs);
			if (!p || p[0] != '/') {
				char hint[4200] = "";
				if (p && p[0])
					snprintf(hint, sizeof(hint), "did you mean \"/%s\"?", p);
				ERR(t, "path", json_object_get(e, "path"), hint[0] ? hint : NULL,
				    p ? "path must be absolute" : "path is required");
				pp(t, o2);
				continue;
			}
			long long mode;
			if (jint(e, "mode", &mode) && (mode < 0 || mode > 07777))
				ERR(t, "mode", json_object_get(e, "mode"), NULL, "illegal file mode");
			json_t *owners[2] = { json_object_get(e, "user"), json_object_get(e, "group") };
			for (int w = 0; w < 2; w++)
				if (owners[w] && json_object_get(owners[w], "id") &&
				    json_object_get(owners[w], "name"))
					ERR(t, w ? "group" : "user", NULL, NULL,
					    "cannot set both id and name");
			if (!mp) {
				pp(t, o2);
				continue;
			}
			_cleanup_free_ char *full = join_clean(mp[0] ? mp : "/", p);
			if (!full) {
				pp(t, o2);
				continue;
			}
			if (json_object_get(seen, full))
				ERR(t, "path", json_object_get(e, "path"),
				    "merge the entries into one; spec 3 refuses duplicate paths",
				    "duplicate path %s (also %s): cannot be translated to spec 3", full,
				    json_string_value(json_object_get(seen, full)));
			else {
				char what[64];
				snprintf(what, sizeof(what), "storage.%s[%zu]", kinds[k], i);
				(void)json_object_set_new(seen, full, json_string(what));
			}
			char buf[4200];
			snprintf(buf, sizeof(buf), "%s", full);
			for (char *s = strrchr(buf, '/'); s && s > buf; s = strrchr(buf, '/')) {
				*s = 0;
				if (json_object_get(linkset, buf)) {
					ERR(t, "path", json_object_get(e, "path"), NULL,
					    "path goes through the link %s of this config: cannot be "
					    "translated to spec 3", buf);
					break;
				}
			}
			json_t *n3 = json_object();
			static const char *const nk[] = { "user", "group", "mode", NULL };
			copy_keys(n3, e, nk);
			(void)json_object_set_new(n3, "path", json_string(full));
			if (k == 0) {
				bool append = jbool(e, "append", false);
				json_t *ow = json_object_get(e, "overwrite");
				if (append && json_is_true(ow))
					ERR(t, "overwrite", NULL, NULL,
					    "overwrite and append cannot both be true");
				json_t *c = json_object_get(e, "contents");
				if (c) {
					size_t oc = pk(t, "contents");
					check_resource2(t, c);
					pp(t, oc);
				}
				/* 2.x wrote an empty file without a source; "" stays "" (empty) */
				json_t *c3 = c ? translate_resource(c) : json_object();
				if (!jstr(c3, "source"))
					(void)json_object_set_new(c3, "source", json_string(""));
				if (append) {
					json_t *a = json_array();
					(void)json_array_append_new(a, c3);
					(void)json_object_set_new(n3, "append", a);
					(void)json_object_set_new(n3, "overwrite", json_false());
				} else {
					(void)json_object_set_new(n3, "contents", c3);
					(void)json_object_set_new(
						n3, "overwrite",
						json_boolean(ow ? json_is_true(ow) : true));
				}
			} else {
				json_t *ow = json_object_get(e, "overwrite");
				if (ow)
					(void)json_object_set(n3, "overwrite", ow);
				if (k == 2) {
					static const char *const lk[] = { "target", "hard", NULL };
					copy_keys(n3, e, lk);
				}
			}
			(void)json_array_append_new(out, n3);
			pp(t, o2);
		}
		pp(t, ok);
		(void)json_object_set_new(st3, kinds[k], out);
	}
	(void)json_object_set_new(out3, "storage", st3);
}

static void append_file(json_t *st3, const char *path, const char *contents)
{
	json_t *files = json_object_get(st3, "files");
	if (!files) {
		files = json_array();
		(void)json_object_set_new(st3, "files", files);
	}
	char *url = ign_data_url_encode(contents, strlen(contents));
	json_t *f = json_pack("{s:s, s:i, s:b, s:{s:s}}", "path", path, "mode", 0644, "overwrite",
			      1, "contents", "source", url ? url : "data:,");
	free(url);
	if (f)
		(void)json_array_append_new(files, f);
}

static void translate_networkd(struct t *t, json_t *nd, json_t *out3)
{
	json_t *st3 = json_object_get(out3, "storage");
	size_t i;
	json_t *u;

	if (!st3) {
		st3 = json_object();
		(void)json_object_set_new(out3, "storage", st3);
	}
	size_t o = pk(t, "networkd");
	size_t o1 = pk(t, "units");
	json_array_foreach(json_object_get(nd, "units"), i, u) {
		size_t o2 = pi(t, i);
		const char *name = jstr(u, "name");
		static const char *const exts[] = { ".link", ".netdev", ".network", NULL };
		bool ok = false;
		for (int k = 0; name && exts[k]; k++) {
			size_t a = strlen(name), b = strlen(exts[k]);
			ok |= a > b && !strcmp(name + a - b, exts[k]);
		}
		if (!ok) {
			ERR(t, "name", json_object_get(u, "name"), NULL,
			    "invalid networkd unit extension (.link, .netdev, .network)");
			pp(t, o2);
			continue;
		}
		char path[600];
		if (jstr(u, "contents")) {
			snprintf(path, sizeof(path), "/etc/systemd/network/%.500s", name);
			append_file(st3, path, jstr(u, "contents"));
		}
		size_t k;
		json_t *d;
		json_auto_t *dn = json_object();
		size_t od = pk(t, "dropins");
		json_array_foreach(json_object_get(u, "dropins"), k, d) {
			size_t o3 = pi(t, k);
			const char *n = jstr(d, "name");
			size_t nl = n ? strlen(n) : 0;
			if (!n || nl <= 5 || strcmp(n + nl - 5, ".conf"))
				ERR(t, "name", json_object_get(d, "name"), NULL,
				    "invalid drop-in extension (must end in .conf)");
			else if (json_object_get(dn, n))
				ERR(t, "name", json_object_get(d, "name"), NULL, "duplicate drop-in name");
			else if (jstr(d, "contents")) {
				(void)json_object_set_new(dn, n, json_true());
				snprintf(path, sizeof(path), "/etc/systemd/network/%.250s.d/%.250s", name, n);
				append_file(st3, path, jstr(d, "contents"));
			}
			pp(t, o3);
		}
		pp(t, od);
		pp(t, o2);
	}
	pp(t, o1);
	pp(t, o);
}

static void translate_systemd(struct t *t, json_t *sd, json_t *out3)
{
	json_t *units3 = json_array();
	json_auto_t *byname = json_object();
	size_t i;
	json_t *u;

	size_t o = pk(t, "systemd");
	size_t o1 = pk(t, "units");
	json_array_foreach(json_object_get(sd, "units"), i, u) {
		size_t o2 = pi(t, i);
		const char *name = jstr(u, "name");
		if (!name) {
			ERR(t, "name", NULL, NULL, "unit name is required");
			pp(t, o2);
			continue;
		}
		json_t *u3 = json_object_get(byname, name);
		if (!u3) {
			u3 = json_object();
			(void)json_object_set_new(u3, "name", json_string(name));
			(void)json_array_append_new(units3, u3);
			(void)json_object_set(byname, name, u3);
		}
		json_t *en = json_object_get(u, "enabled");
		if (!en)
			en = json_object_get(u, "enable");
		if (en)
			(void)json_object_set(u3, "enabled", en);
		if (json_object_get(u, "mask"))
			(void)json_object_set(u3, "mask", json_object_get(u, "mask"));
		const char *c = jstr(u, "contents");
		if (c && c[0])
			(void)json_object_set_new(u3, "contents", json_string(c));
		json_t *dropins = json_object_get(u, "dropins");
		json_auto_t *local = json_object();
		size_t k;
		json_t *d;
		size_t od = pk(t, "dropins");
		json_array_foreach(dropins, k, d) {
			const char *n = jstr(d, "name");
			if (!n)
				continue;
			if (json_object_get(local, n)) {
				size_t o3 = pi(t, k);
				ERR(t, "name", json_object_get(d, "name"), NULL,
				    "duplicate drop-in name: cannot be translated to spec 3");
				pp(t, o3);
				continue;
			}
			(void)json_object_set_new(local, n, json_true());
			json_t *d3s = json_object_get(u3, "dropins");
			if (!d3s) {
				d3s = json_array();
				(void)json_object_set_new(u3, "dropins", d3s);
			}
			json_t *d3 = NULL;
			size_t q;
			json_t *x;
			json_array_foreach(d3s, q, x)
				if (!strcmp(jstr(x, "name"), n))
					d3 = x;
			if (!d3) {
				d3 = json_object();
				(void)json_object_set_new(d3, "name", json_string(n));
				(void)json_array_append_new(d3s, d3);
			}
			const char *dc = jstr(d, "contents");
			if (dc && dc[0])
				(void)json_object_set_new(d3, "contents", json_string(dc));
		}
		pp(t, od);
		pp(t, o2);
	}
	pp(t, o1);
	pp(t, o);
	json_t *sd3 = json_object();
	(void)json_object_set_new(sd3, "units", units3);
	(void)json_object_set_new(out3, "systemd", sd3);
}

static void translate_passwd(struct t *t, json_t *pw, json_t *out3)
{
	json_t *pw3 = json_object();
	json_t *users3 = json_array();
	size_t i;
	json_t *u;
	static const char *const fields[] = { "uid", "gecos", "homeDir", "noCreateHome",
					      "primaryGroup", "groups", "noUserGroup", "system",
					      "noLogInit", "shell", NULL };

	json_array_foreach(json_object_get(pw, "users"), i, u) {
		json_t *u3 = json_object();
		static const char *const base[] = { "name", "passwordHash", "sshAuthorizedKeys", NULL };
		copy_keys(u3, u, base);
		json_t *create = json_object_get(u, "create");
		for (int k = 0; fields[k]; k++) {
			json_t *v = json_object_get(u, fields[k]);
			if (!v && create)
				v = json_object_get(create, fields[k]);
			if (!v || (json_is_string(v) && !json_string_value(v)[0]))
				continue;
			(void)json_object_set(u3, fields[k], v);
		}
		(void)json_array_append_new(users3, u3);
	}
	(void)json_object_set_new(pw3, "users", users3);
	json_t *groups = json_object_get(pw, "groups");
	if (groups)
		(void)json_object_set(pw3, "groups", groups);
	(void)json_object_set_new(out3, "passwd", pw3);
	(void)t;
}

int ign_translate_v2(json_t *doc2, int version, json_t **ret, struct problem_list *reterr)
{
	struct t t = { .ver = version, .l = reterr };
	json_auto_t *out = json_object();
	json_auto_t *fsp = json_object();

	if (!out || !fsp)
		return -ENOMEM;
	t.fs_paths = fsp;

	/* ignition */
	json_t *ign = json_object_get(doc2, "ignition");
	json_t *ign3 = json_object();
	(void)json_object_set_new(ign3, "version", json_string("3.1.0"));
	size_t o = pk(&t, "ignition");
	json_t *cfg = json_object_get(ign, "config");
	if (cfg) {
		json_t *cfg3 = json_object();
		json_t *app = json_object_get(cfg, "append");
		size_t oc = pk(&t, "config");
		if (app) {
			json_t *m = json_array();
			size_t i;
			json_t *e;
			size_t oa = pk(&t, "append");
			json_array_foreach(app, i, e) {
				size_t o2 = pi(&t, i);
				check_resource2(&t, e);
				(void)json_array_append_new(m, translate_resource(e));
				pp(&t, o2);
			}
			pp(&t, oa);
			(void)json_object_set_new(cfg3, "merge", m);
		}
		json_t *rep = json_object_get(cfg, "replace");
		if (rep) {
			size_t orp = pk(&t, "replace");
			check_resource2(&t, rep);
			pp(&t, orp);
			(void)json_object_set_new(cfg3, "replace", translate_resource(rep));
		}
		pp(&t, oc);
		(void)json_object_set_new(ign3, "config", cfg3);
	}
	static const char *const ik[] = { "timeouts", "security", "proxy", NULL };
	copy_keys(ign3, ign, ik);
	pp(&t, o);
	(void)json_object_set_new(out, "ignition", ign3);

	json_t *st = json_object_get(doc2, "storage");
	if (st) {
		size_t os = pk(&t, "storage");
		translate_storage(&t, st, out);
		pp(&t, os);
	}
	json_t *sd = json_object_get(doc2, "systemd");
	if (sd)
		translate_systemd(&t, sd, out);
	json_t *nd = json_object_get(doc2, "networkd");
	if (nd)
		translate_networkd(&t, nd, out);
	json_t *pw = json_object_get(doc2, "passwd");
	if (pw)
		translate_passwd(&t, pw, out);

	bool oom = t.path.oom;
	fjson_path_release(&t.path);
	if (oom)
		return -ENOMEM;
	*ret = json_incref(out);
	return t.errors ? -EINVAL : 0;
}
