/* SPDX-License-Identifier: MIT */
/* lib/diag/bundle.c - the support bundle (docs/diag.md §3-§6).
 *
 * Items are produced one at a time, each into a buffer no larger than its cap, redacted, and
 * appended to the tar.gz stream at once, so the bundle itself is never held in memory. Each item
 * leaves a record (path, source, bytes, truncated, redactions, status, reason) for
 * manifest.json, which is the last member because it describes all the others. The size budget
 * and the time limit are checked before each item; once one is hit, the rest are recorded as
 * skipped with that reason. */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "diag/bundle.h"
#include "diag/config.h"
#include "diag/journal.h"
#include "diag/redact.h"
#include "util/spawn.h"
#include "diag/status.h"
#include "diag/tar.h"
#include "diag/units.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "gpt/cgpt-show.h"

#define MIB ((size_t)1 << 20)
#define SNIFF 4096u

void diag_bundle_opts_defaults(struct diag_bundle_opts *o)
{
	o->max_size = 64 * MIB;
	o->file_cap = 4 * MIB;
	o->dir_cap = 16 * MIB;
	o->dir_files = 1000;
	o->journal_cap = 16 * MIB;
	o->cmd_cap = 4 * MIB;
	o->cmd_timeout_usec = 30000000;
	o->journal_timeout_usec = 20000000;
	o->total_timeout_usec = 300000000;
}

struct bundle {
	const struct diag_bundle_opts *o;
	struct diag_tar *tar;
	json_t *items;
	json_t *written; /* member paths already in the stream */
	json_t *links;   /* link name -> target, in order */
	uint64_t used;
	uint64_t deadline;
	const char *stop; /* "bundle size limit" or "time limit" once hit */
	bool uncounted;   /* summary.*: always written, outside the budget */
	char *root_real;
	struct diag_bundle_summary sum;
	int fatal;
};

static uint64_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- records ---- */

static void note(struct bundle *b, json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "status"));
	b->sum.items++;
	if (strcmp(st, "ok") == 0)
		b->sum.ok++;
	else if (strcmp(st, "skipped") == 0)
		b->sum.skipped++;
	else if (strcmp(st, "timeout") == 0)
		b->sum.timeouts++;
	else
		b->sum.failed++;
	if (json_is_true(json_object_get(rec, "truncated")))
		b->sum.truncated++;
	b->sum.redactions += (unsigned)json_integer_value(json_object_get(rec, "redactions"));
	if (b->o->note)
		b->o->note(b->o->userdata, rec);
	json_array_append_new(b->items, rec);
}

static json_t *record(const char *path, const char *source, const char *via)
{
	return json_pack("{s:s?,s:s?,s:s,s:I,s:b,s:I,s:s,s:n}", "path", path, "source", source,
			 "via", via, "bytes", (json_int_t)0, "truncated", 0, "redactions",
			 (json_int_t)0, "status", "ok", "reason");
}

static void skip(struct bundle *b, const char *path, const char *source, const char *via,
		 const char *status, const char *reason)
{
	json_t *r = record(path, source, via);
	json_object_set_new(r, "status", json_string(status));
	json_object_set_new(r, "reason", json_string(reason));
	note(b, r);
}

/* Before each item: the time limit. Returns false (and records a skip) when it is over. */
static bool may_start(struct bundle *b, const char *path, const char *source, const char *via)
{
	if (!b->stop && mono_usec() > b->deadline)
		b->stop = "time limit";
	if (b->stop) {
		skip(b, path, source, via, "skipped", b->stop);
		return false;
	}
	return true;
}

/* Append a member; data is final (redacted, with any truncation marker). Applies the bundle
 * budget: an item that does not fit is cut to what is left, and everything after it skipped. */
static int emit(struct bundle *b, json_t *rec, const char *path, const char *data, size_t n,
		bool counted)
{
	char marker[128];
	_cleanup_free_ char *cut = NULL;

	counted = counted && !b->uncounted;
	if (json_object_get(b->written, path)) {
		json_object_set_new(rec, "status", json_string("skipped"));
		json_object_set_new(rec, "reason", json_string("duplicate of an earlier item"));
		note(b, rec);
		return 0;
	}
	if (counted && b->stop) {
		json_object_set_new(rec, "status", json_string("skipped"));
		json_object_set_new(rec, "reason", json_string(b->stop));
		note(b, rec);
		return 0;
	}
	if (counted && b->used + n > b->o->max_size) {
		size_t left = (size_t)(b->o->max_size - b->used);
		int ml = snprintf(marker, sizeof(marker),
				  "\n[flatctl diag: truncated, %zu bytes not collected: bundle size limit]\n",
				  n - left);
		size_t keep = left > (size_t)ml ? left - (size_t)ml : 0;
		const char *nl = keep ? memrchr(data, '\n', keep) : NULL;
		keep = nl ? (size_t)(nl - data) : keep;
		cut = malloc(keep + (size_t)ml + 1);
		if (!cut)
			return -ENOMEM;
		memcpy(cut, data, keep);
		memcpy(cut + keep, marker, (size_t)ml + 1);
		data = cut;
		n = keep + (size_t)ml;
		json_object_set_new(rec, "truncated", json_true());
		json_object_set_new(rec, "reason", json_string("bundle size limit"));
		b->stop = "bundle size limit";
	}
	int r = diag_tar_add_file(b->tar, path, data, n);
	if (r < 0) {
		b->fatal = r;
		json_decref(rec);
		return r;
	}
	json_object_set_new(b->written, path, json_true());
	b->used += n;
	b->sum.bytes += n;
	json_object_set_new(rec, "bytes", json_integer((json_int_t)n));
	note(b, rec);
	return 0;
}

/* A text item: redacted, and marked when it was cut at its own cap. */
static int emit_text(struct bundle *b, json_t *rec, const char *path, const char *text, size_t n,
		     bool truncated, uint64_t dropped, bool marker_on_top)
{
	struct diag_redact st = {};
	struct dbuf out = {};
	char marker[128];

	snprintf(marker, sizeof(marker), "[flatctl diag: truncated, %" PRIu64 " bytes not collected]\n",
		 dropped);
	if (truncated && marker_on_top)
		dbuf_puts(&out, marker);
	(void)diag_redact_text(&st, text, n, &out);
	if (truncated && !marker_on_top) {
		if (out.n && out.p[out.n - 1] != '\n')
			dbuf_putc(&out, '\n');
		dbuf_puts(&out, marker);
	}
	if (out.oom) {
		dbuf_release(&out);
		json_decref(rec);
		return -ENOMEM;
	}
	json_object_set_new(rec, "redactions",
			    json_integer(json_integer_value(json_object_get(rec, "redactions")) +
					 st.count));
	if (truncated)
		json_object_set_new(rec, "truncated", json_true());
	int r = emit(b, rec, path, out.p ? out.p : "", out.n, true);
	dbuf_release(&out);
	return r;
}

/* ---- the never-collected list (§3.2) ---- */

bool diag_path_excluded(const char *rel)
{
	static const char *const exact[] = {
		"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-",
		"/usr/share/oem/config.ign", "/oem/config.ign", "/run/ignition.json",
		"/etc/.ignition-user-data", "/var/lib/kubelet/kubeconfig",
	};
	static const char *const trees[] = {
		"/root", "/home", "/etc/ssl/etcd", "/etc/etcd", "/var/lib/etcd", "/etc/kubernetes",
		"/var/lib/kubelet/pki", "/var/lib/flatctl/update/payload", "/var/lib/coreos-install",
	};
	static const char *const globs[] = {
		"/etc/ssh/ssh_host_*_key", "/var/lib/flatcar-oem-*", "/var/lib/flatcar-oem-*/*",
	};
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;

	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (strcmp(rel, exact[i]) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
		size_t l = strlen(trees[i]);
		if (strncmp(rel, trees[i], l) == 0 && (rel[l] == 0 || rel[l] == '/'))
			return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(globs); i++)
		if (fnmatch(globs[i], rel, FNM_PATHNAME) == 0)
			return true;
	if (strstr(rel, "/.ssh/") || (strlen(rel) >= 5 && strcmp(rel + strlen(rel) - 5, "/.ssh") == 0))
		return true;
	if (fnmatch("*.key", base, 0) == 0 || fnmatch("*.ign", base, 0) == 0 ||
	    strcmp(base, "user-data") == 0 || strcmp(base, "user_data") == 0 ||
	    strncmp(base, "payload.part", 12) == 0)
		return true;
	return false;
}

/* The root-relative path an O_PATH descriptor ended up at ("/etc/os-release"). */
static char *resolved(struct bundle *b, int fd)
{
	char proc[64], buf[PATH_MAX];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t l = readlink(proc, buf, sizeof(buf) - 1);
	if (l < 0)
		return NULL;
	buf[l] = 0;
	size_t rl = strlen(b->root_real);
	if (strcmp(b->root_real, "/") == 0)
		return strdup(buf);
	if (strncmp(buf, b->root_real, rl) != 0 || (buf[rl] != 0 && buf[rl] != '/'))
		return NULL;
	return strdup(buf[rl] ? buf + rl : "/");
}

/* ---- files and directories ---- */

/* "/etc//x/./y" -> "etc/x/y"; NULL when it climbs (".."). */
static char *normalize(const char *p)
{
	struct dbuf o = {};
	while (*p) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (l == 0)
			break;
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			dbuf_release(&o);
			return NULL;
		}
		if (!(l == 1 && p[0] == '.')) {
			if (o.n)
				dbuf_putc(&o, '/');
			dbuf_append(&o, p, l);
		}
		p += l;
	}
	if (!o.n)
		dbuf_append(&o, "", 0);
	return dbuf_take(&o, NULL);
}

/* Read at most cap bytes; count the rest without keeping it. */
static int read_capped(int fd, uint64_t st_size, size_t cap, struct dbuf *out, bool *ret_trunc,
		       uint64_t *ret_dropped)
{
	char buf[65536];
	uint64_t total = 0;

	*ret_trunc = false;
	*ret_dropped = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (total > 0) {
				*ret_trunc = true; /* what was read so far */
				return 0;
			}
			return -errno;
		}
		if (n == 0)
			break;
		size_t keep = out->n < cap ? cap - out->n : 0;
		dbuf_append(out, buf, (size_t)n < keep ? (size_t)n : keep);
		total += (uint64_t)n;
		if ((size_t)n > keep) {
			*ret_trunc = true;
			if (st_size > total) {
				*ret_dropped = st_size - out->n;
				return 0;
			}
			*ret_dropped += (uint64_t)n - keep;
			if (*ret_dropped > 64 * MIB)
				return 0;
		}
	}
	if (st_size > 0 && total < st_size)
		*ret_trunc = true; /* shrank while read */
	return out->oom ? -ENOMEM : 0;
}

static const char *errno_reason(int r, char *buf, size_t size)
{
	if (r == -EACCES || r == -EPERM)
		return "permission denied";
	if (r == -ENOENT)
		return "not present";
	snprintf(buf, size, "%s", strerror(-r));
	return buf;
}

/* One regular file behind an O_PATH descriptor. */
static int collect_file(struct bundle *b, int pfd, const struct stat *st, const char *member,
			const char *rel, bool binary_ok, size_t cap)
{
	char proc[64], eb[128];
	struct dbuf data = {};
	bool trunc;
	uint64_t dropped;

	if (!may_start(b, member, rel, "file"))
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	_cleanup_close_ int fd = open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		skip(b, member, rel, "file", "skipped", errno_reason(-errno, eb, sizeof(eb)));
		return 0;
	}
	int r = read_capped(fd, (uint64_t)st->st_size, cap, &data, &trunc, &dropped);
	if (r < 0) {
		dbuf_release(&data);
		if (r == -ENOMEM)
			return r;
		skip(b, member, rel, "file", "skipped", errno_reason(r, eb, sizeof(eb)));
		return 0;
	}
	size_t sniff = data.n < SNIFF ? data.n : SNIFF;
	json_t *rec = record(member, rel, "file");
	if (sniff && memmem(data.p, sniff, "PRIVATE KEY-----", 16)) {
		dbuf_release(&data);
		json_object_set_new(rec, "status", json_string("skipped"));
		json_object_set_new(rec, "reason", json_string("excluded: may contain secrets"));
		note(b, rec);
		return 0;
	}
	if (sniff && memchr(data.p, 0, sniff)) {
		if (!binary_ok) {
			dbuf_release(&data);
			json_object_set_new(rec, "status", json_string("skipped"));
			json_object_set_new(rec, "reason", json_string("binary file"));
			note(b, rec);
			return 0;
		}
		if (trunc)
			json_object_set_new(rec, "truncated", json_true());
		r = emit(b, rec, member, data.p, data.n, true);
	} else
		r = emit_text(b, rec, member, data.p ? data.p : "", data.n, trunc, dropped, false);
	dbuf_release(&data);
	return r;
}

struct dir_state {
	size_t bytes;
	unsigned files;
	unsigned left_out;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct bundle *b, int dfd, const char *member, const char *rel, bool binary_ok,
		unsigned depth, struct dir_state *ds)
{
	int lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (lfd < 0)
		return -errno;
	DIR *d = fdopendir(lfd);
	if (!d) {
		close(lfd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(char *));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (r >= 0 && n > 1)
		qsort(names, n, sizeof(char *), name_cmp);
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *crel = NULL, *cmem = NULL;
		if (asprintf(&crel, "%s/%s", strcmp(rel, "/") ? rel : "", names[i]) < 0 ||
		    asprintf(&cmem, "%s/%s", member, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		_cleanup_close_ int cfd = openat(dfd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (cfd < 0 || fstat(cfd, &st) < 0 || S_ISLNK(st.st_mode))
			continue; /* symlinks are not followed inside a directory */
		if (diag_path_excluded(crel)) {
			skip(b, cmem, crel, "file", "skipped", "excluded: may contain secrets");
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth < 16)
				r = walk(b, cfd, cmem, crel, binary_ok, depth + 1, ds);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (ds->files >= b->o->dir_files || ds->bytes >= b->o->dir_cap) {
			ds->left_out++;
			continue;
		}
		size_t before = b->used;
		size_t cap = b->o->dir_cap - ds->bytes < b->o->file_cap ? b->o->dir_cap - ds->bytes
									 : b->o->file_cap;
		r = collect_file(b, cfd, &st, cmem, crel, binary_ok, cap);
		ds->files++;
		ds->bytes += b->used - before;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* A path from the default list or a config: file or directory, inside the root. Returns the
 * member it became through *ret_member (for links) when anything was written. */
static int collect_path(struct bundle *b, const char *req, bool binary_ok, char **ret_member)
{
	_cleanup_free_ char *norm = normalize(req), *rel = NULL, *member = NULL;
	char eb[128];
	struct stat st;

	_cleanup_close_ int fd = fs_open(b->o->root_fd, req, O_PATH, 0);
	if (fd < 0) {
		_cleanup_free_ char *m = NULL, *src = NULL;
		if (asprintf(&m, "files/%s", norm ? norm : req) < 0 ||
		    asprintf(&src, "/%s", norm ? norm : req) < 0)
			return -ENOMEM;
		if (may_start(b, m, src, "file"))
			skip(b, m, src, "file", "skipped", errno_reason(fd, eb, sizeof(eb)));
		return 0;
	}
	rel = resolved(b, fd);
	if (!rel)
		return -ENOMEM;
	if (asprintf(&member, "files/%s", norm && *norm ? norm : rel + 1) < 0)
		return -ENOMEM;
	if (!may_start(b, member, rel, "file"))
		return 0;
	if (diag_path_excluded(rel) || (norm && diag_path_excluded(req[0] == '/' ? req : rel))) {
		skip(b, member, rel, "file", "skipped", "excluded: may contain secrets");
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		struct dir_state ds = {};
		int r = walk(b, fd, member, rel, binary_ok, 0, &ds);
		if (r == -ENOMEM)
			return r;
		if (r < 0 && !b->fatal)
			skip(b, member, rel, "directory", "skipped", errno_reason(r, eb, sizeof(eb)));
		else if (ds.files == 0 && !ds.left_out) {
			json_t *rec = record(member, rel, "directory");
			json_object_set_new(rec, "reason", json_string("no regular files"));
			note(b, rec);
		} else if (ds.left_out) {
			char why[160];
			snprintf(why, sizeof(why),
				 "directory cap (%u files, %zu bytes): %u files not collected",
				 b->o->dir_files, b->o->dir_cap, ds.left_out);
			json_t *rec = record(member, rel, "directory");
			json_object_set_new(rec, "truncated", json_true());
			json_object_set_new(rec, "reason", json_string(why));
			note(b, rec);
		}
		if (ret_member)
			*ret_member = TAKE_PTR(member);
		return b->fatal;
	}
	if (!S_ISREG(st.st_mode)) {
		skip(b, member, rel, "file", "skipped", "not a regular file or directory");
		return 0;
	}
	int r = collect_file(b, fd, &st, member, rel, binary_ok, b->o->file_cap);
	if (r >= 0 && ret_member && json_object_get(b->written, member))
		*ret_member = TAKE_PTR(member);
	return r;
}

/* §3.2, in this order; a trailing '/' marks a directory, '*' a binary-capable one (pstore). */
static const char *const default_files[] = {
	"etc/os-release",
	"usr/lib/os-release",
	"usr/share/flatcar/release",
	"etc/flatcar/update.conf",
	"usr/share/flatcar/update.conf",
	"etc/hostname",
	"etc/machine-id",
	"etc/hosts",
	"etc/resolv.conf",
	"run/systemd/resolve/resolv.conf",
	"etc/systemd/network/",
	"run/systemd/network/",
	"etc/systemd/system/",
	"etc/.ignition-result.json",
	"boot/flatcar/first_boot",
	"boot/flatcar/grub/grub.cfg",
	"oem/grub.cfg",
	"usr/share/oem/grub.cfg",
	"var/lib/flatctl/update/state.json",
	"var/lib/flatctl/rebootlock/",
	"var/lib/flatctl/reboot-manager/",
	"proc/cmdline",
	"proc/meminfo",
	"proc/vmstat",
	"proc/loadavg",
	"proc/uptime",
	"proc/swaps",
	"proc/modules",
	"proc/mounts",
	"proc/partitions",
	"proc/cpuinfo",
	"proc/pressure/",
	"proc/net/dev",
	"proc/net/route",
	"proc/net/ipv6_route",
	"sys/fs/pstore/*",
	"var/lib/systemd/pstore/*",
};

static int collect_files(struct bundle *b)
{
	const struct diag_config *c = b->o->config;
	int r;

	if (c && c->source) {
		for (size_t i = 0; i < c->n_files; i++) {
			_cleanup_free_ char *m = NULL;
			if ((r = collect_path(b, c->files[i].name, false, &m)) < 0)
				return r;
			if (c->files[i].link && m)
				json_object_set_new(b->links, c->files[i].link, json_string(m));
		}
		for (size_t i = 0; i < c->n_dirs; i++) {
			_cleanup_free_ char *m = NULL;
			bool pstore = strstr(c->dirs[i].name, "pstore") != NULL;
			if ((r = collect_path(b, c->dirs[i].name, pstore, &m)) < 0)
				return r;
			if (c->dirs[i].link && m)
				json_object_set_new(b->links, c->dirs[i].link, json_string(m));
		}
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_files); i++) {
		char p[128];
		size_t l = strlen(default_files[i]);
		bool bin = default_files[i][l - 1] == '*';
		snprintf(p, sizeof(p), "%.*s", (int)(bin ? l - 1 : l), default_files[i]);
		if ((r = collect_path(b, p, bin, NULL)) < 0)
			return r;
	}
	return 0;
}

/* ---- disk ---- */

static int run_self(struct bundle *b, const char *member, char *const *argv, const char *source)
{
	struct dbuf out = {};
	struct spawn_result res;

	if (!may_start(b, member, source, "flatctl"))
		return 0;
	int r = spawn_run(b->o->self_exe, argv, "/", b->o->cmd_timeout_usec, b->o->cmd_cap, &out,
			 &res);
	if (r < 0) {
		dbuf_release(&out);
		char eb[128];
		skip(b, member, source, "flatctl", "failed", errno_reason(r, eb, sizeof(eb)));
		return 0;
	}
	json_t *rec = record(member, source, "flatctl");
	json_object_set_new(rec, "exit_status", json_integer(res.exit_status));
	if (res.timed_out)
		json_object_set_new(rec, "status", json_string("timeout"));
	else if (res.exit_status != 0)
		json_object_set_new(rec, "status", json_string("failed"));
	r = emit_text(b, rec, member, out.p ? out.p : "", out.n, res.truncated, res.dropped, false);
	dbuf_release(&out);
	return r;
}

static int raw_region(struct bundle *b, int fd, const char *member, uint64_t off, uint64_t len,
		      const char *source)
{
	if (!may_start(b, member, source, "lib/gpt"))
		return 0;
	if (len > MIB)
		len = MIB;
	_cleanup_free_ char *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOMEM;
	int r = fs_pread_all(fd, buf, len, off);
	if (r < 0) {
		char eb[128];
		skip(b, member, source, "lib/gpt", "failed", errno_reason(r, eb, sizeof(eb)));
		return 0;
	}
	return emit(b, record(member, source, "lib/gpt"), member, buf, len, true);
}

static int collect_disk(struct bundle *b, const char *disk)
{
	char eb[128];
	int r;

	if (!disk) {
		static const char *const m[] = { "disk/partitions.json", "disk/cgpt-show.txt",
						 "disk/gpt-primary.bin", "disk/gpt-backup.bin" };
		for (size_t i = 0; i < ARRAY_SIZE(m); i++)
			if (may_start(b, m[i], NULL, "lib/gpt"))
				skip(b, m[i], NULL, "lib/gpt", "skipped",
				     "no GPT disk found (see summary.json)");
	} else {
		if (b->o->self_exe) {
			char *pa[] = { (char *)"flatctl", (char *)"--root", (char *)b->o->root,
				       (char *)"--disk", (char *)disk, (char *)"--json",
				       (char *)"partition", (char *)"show", NULL };
			char *ca[] = { (char *)"cgpt", (char *)"show", (char *)disk, NULL };
			if ((r = run_self(b, "disk/partitions.json", pa, disk)) < 0 ||
			    (r = run_self(b, "disk/cgpt-show.txt", ca, disk)) < 0)
				return r;
		} else {
			skip(b, "disk/partitions.json", disk, "flatctl", "skipped", "no flatctl binary");
			skip(b, "disk/cgpt-show.txt", disk, "flatctl", "skipped", "no flatctl binary");
		}
		_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
		r = gpt_disk_open(disk, 0, &d, NULL);
		if (r < 0) {
			const char *why = errno_reason(r, eb, sizeof(eb));
			skip(b, "disk/gpt-primary.bin", disk, "lib/gpt", "skipped", why);
			skip(b, "disk/gpt-backup.bin", disk, "lib/gpt", "skipped", why);
		} else {
			const struct gpt *g = d->gpt;
			uint64_t ss = g->sector_size;
			uint64_t asec = gpt_cgpt_array_sectors(&g->hdr, g->sector_size);
			uint64_t pend = g->primary.header_valid
						? g->primary.hdr.entries_lba +
							  gpt_cgpt_array_sectors(&g->primary.hdr, g->sector_size)
						: 2 + asec;
			uint64_t bstart = g->backup.header_valid ? g->backup.hdr.entries_lba
								 : g->sectors - 1 - asec;
			if ((r = raw_region(b, d->fd, "disk/gpt-primary.bin", 0, pend * ss, disk)) < 0 ||
			    (r = raw_region(b, d->fd, "disk/gpt-backup.bin", bstart * ss,
					    (g->sectors - bstart) * ss, disk)) < 0)
				return r;
		}
	}

	/* block devices and mounts describe the running machine, not a tree under --root */
	if (!b->o->root_is_slash) {
		if (may_start(b, "disk/block-devices.txt", NULL, "libblkid"))
			skip(b, "disk/block-devices.txt", NULL, "libblkid", "skipped",
			     "host devices are not the --root tree's");
		if (may_start(b, "disk/df.txt", "proc/mounts", "statvfs"))
			skip(b, "disk/df.txt", "proc/mounts", "statvfs", "skipped",
			     "host mounts are not the --root tree's");
		return 0;
	}
	if (may_start(b, "disk/block-devices.txt", NULL, "libblkid")) {
		struct dbuf t = {};
		blkid_cache cache = NULL;
		if (blkid_get_cache(&cache, "/dev/null") == 0 && blkid_probe_all(cache) == 0) {
			blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
			blkid_dev dev;
			dbuf_puts(&t, "NAME SIZE TYPE LABEL UUID PARTLABEL PARTUUID\n");
			while (blkid_dev_next(it, &dev) == 0) {
				dev = blkid_verify(cache, dev);
				if (!dev)
					continue;
				const char *name = blkid_dev_devname(dev);
				uint64_t size = 0;
				int fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
				if (fd >= 0) {
					blkid_loff_t s = blkid_get_dev_size(fd);
					size = s > 0 ? (uint64_t)s : 0;
					close(fd);
				}
				dbuf_printf(&t, "%s %" PRIu64, name, size);
				static const char *const tags[] = { "TYPE", "LABEL", "UUID", "PARTLABEL",
								    "PARTUUID" };
				for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
					char *v = blkid_get_tag_value(cache, tags[i], name);
					dbuf_printf(&t, " %s=%s", tags[i], v ? v : "");
					free(v);
				}
				dbuf_putc(&t, '\n');
			}
			blkid_dev_iterate_end(it);
		}
		if (cache)
			blkid_put_cache(cache);
		r = emit_text(b, record("disk/block-devices.txt", NULL, "libblkid"),
			      "disk/block-devices.txt", t.p ? t.p : "", t.n, false, 0, false);
		dbuf_release(&t);
		if (r < 0)
			return r;
	}
	if (may_start(b, "disk/df.txt", "proc/mounts", "statvfs")) {
		_cleanup_free_ char *mounts = NULL;
		size_t n;
		struct dbuf t = {};
		if (fs_read_file(b->o->root_fd, "/proc/mounts", 4 * MIB, &mounts, &n) >= 0) {
			dbuf_puts(&t, "MOUNTPOINT FSTYPE SIZE USED AVAIL INODES IFREE\n");
			for (char *save = NULL, *l = strtok_r(mounts, "\n", &save); l;
			     l = strtok_r(NULL, "\n", &save)) {
				char dev[256], mnt[1024], type[64];
				struct statvfs sv;
				if (sscanf(l, "%255s %1023s %63s", dev, mnt, type) != 3 ||
				    statvfs(mnt, &sv) < 0)
					continue;
				dbuf_printf(&t, "%s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
						" %" PRIu64 "\n",
					    mnt, type, (uint64_t)sv.f_blocks * sv.f_frsize,
					    (uint64_t)(sv.f_blocks - sv.f_bfree) * sv.f_frsize,
					    (uint64_t)sv.f_bavail * sv.f_frsize, (uint64_t)sv.f_files,
					    (uint64_t)sv.f_ffree);
			}
		}
		r = emit_text(b, record("disk/df.txt", "proc/mounts", "statvfs"), "disk/df.txt",
			      t.p ? t.p : "", t.n, false, 0, false);
		dbuf_release(&t);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- systemd and the journal ---- */

static int journal_item(struct bundle *b, struct diag_journal *j, const char *member,
			enum diag_journal_section what, const char *arg, const char *source,
			const char *prefix)
{
	struct dbuf out = {};
	struct diag_journal_result res;

	if (!may_start(b, member, source, "sd-journal"))
		return 0;
	uint64_t dl = mono_usec() + b->o->journal_timeout_usec;
	if (dl > b->deadline)
		dl = b->deadline;
	if (prefix)
		dbuf_puts(&out, prefix);
	int r = diag_journal_section(j, what, arg, b->o->journal_cap, dl, &out, &res);
	if (r < 0 && r != -ENOMEM) {
		dbuf_release(&out);
		char eb[128];
		skip(b, member, source, "sd-journal", "failed", errno_reason(r, eb, sizeof(eb)));
		return 0;
	}
	if (r < 0) {
		dbuf_release(&out);
		return r;
	}
	json_t *rec = record(member, source, "sd-journal");
	json_object_set_new(rec, "lines", json_integer((json_int_t)res.lines));
	json_object_set_new(rec, "redactions", json_integer(res.redactions));
	if (res.timed_out) {
		json_object_set_new(rec, "status", json_string("timeout"));
		json_object_set_new(rec, "reason", json_string("journal section time limit"));
	}
	struct dbuf fin = {};
	if (res.dropped_bytes) {
		dbuf_printf(&fin, "[flatctl diag: truncated, %" PRIu64 " bytes not collected]\n",
			    res.dropped_bytes);
		json_object_set_new(rec, "truncated", json_true());
	}
	dbuf_append(&fin, out.p ? out.p : "", out.n);
	dbuf_release(&out);
	if (fin.oom) {
		dbuf_release(&fin);
		json_decref(rec);
		return -ENOMEM;
	}
	/* already redacted line by line by the journal reader */
	r = emit(b, rec, member, fin.p ? fin.p : "", fin.n, true);
	dbuf_release(&fin);
	return r;
}

static int collect_systemd(struct bundle *b, struct diag_journal *j)
{
	if (!b->o->root_is_slash) {
		if (may_start(b, "systemd/units.txt", NULL, "sd-bus"))
			skip(b, "systemd/units.txt", NULL, "sd-bus", "skipped",
			     "no system bus under --root");
		return 0;
	}
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const char *why = NULL;
	struct diag_unit *u = NULL;
	size_t n = 0;
	int r;

	if (!may_start(b, "systemd/units.txt", NULL, "sd-bus"))
		return 0;
	r = diag_bus_open(1000000, &bus, &why);
	if (r >= 0 && (r = diag_units_list(bus, NULL, &u, &n)) < 0)
		why = r == -ETIMEDOUT ? "systemd did not answer within 1 s"
		      : r == -EACCES  ? "permission denied"
				      : "ListUnits failed";
	if (r < 0) {
		skip(b, "systemd/units.txt", NULL, "sd-bus", "skipped", why);
		return 0;
	}
	struct dbuf t = {};
	dbuf_puts(&t, "UNIT LOAD ACTIVE SUB DESCRIPTION\n");
	for (size_t i = 0; i < n; i++)
		dbuf_printf(&t, "%s %s %s %s %s\n", u[i].name, u[i].load, u[i].active, u[i].sub,
			    u[i].description);
	r = emit_text(b, record("systemd/units.txt", NULL, "sd-bus"), "systemd/units.txt",
		      t.p ? t.p : "", t.n, false, 0, false);
	dbuf_release(&t);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (strcmp(u[i].active, "failed") != 0 || strchr(u[i].name, '/'))
			continue;
		_cleanup_free_ char *m = NULL;
		if (asprintf(&m, "systemd/failed/%s.txt", u[i].name) < 0) {
			r = -ENOMEM;
			break;
		}
		struct dbuf d = {};
		(void)diag_unit_describe(bus, u[i].name, &d);
		if (j) {
			dbuf_puts(&d, "\n-- last journal lines --\n");
			struct diag_redact rs = {};
			struct dbuf red = {};
			(void)diag_redact_text(&rs, d.p ? d.p : "", d.n, &red);
			dbuf_release(&d);
			r = journal_item(b, j, m, DIAG_JOURNAL_UNIT, u[i].name, u[i].name,
					 red.p ? red.p : "");
			dbuf_release(&red);
		} else {
			r = emit_text(b, record(m, u[i].name, "sd-bus"), m, d.p ? d.p : "", d.n, false,
				      0, false);
			dbuf_release(&d);
		}
	}
	diag_units_free(u, n);
	return r;
}

static int collect_journal(struct bundle *b, struct diag_journal *j, const char *jwhy)
{
	static const char *const m[] = { "journal/boot-0.txt", "journal/boot-1.txt",
					 "journal/errors-7d.txt", "journal/flatcar-7d.txt" };
	int r;

	if (!j) {
		for (size_t i = 0; i < ARRAY_SIZE(m); i++)
			if (may_start(b, m[i], NULL, "sd-journal"))
				skip(b, m[i], NULL, "sd-journal", "skipped", jwhy);
		return 0;
	}
	bool from_file;
	int cur = diag_journal_current_boot(j, b->o->root_fd, &from_file);
	char src[96];
	snprintf(src, sizeof(src), "_BOOT_ID=%s", diag_journal_boot_id(j, (size_t)cur));
	if ((r = journal_item(b, j, m[0], DIAG_JOURNAL_BOOT, diag_journal_boot_id(j, (size_t)cur),
			      src, NULL)) < 0)
		return r;
	if (cur > 0) {
		snprintf(src, sizeof(src), "_BOOT_ID=%s", diag_journal_boot_id(j, (size_t)cur - 1));
		if ((r = journal_item(b, j, m[1], DIAG_JOURNAL_BOOT,
				      diag_journal_boot_id(j, (size_t)cur - 1), src, NULL)) < 0)
			return r;
	} else if (may_start(b, m[1], NULL, "sd-journal"))
		skip(b, m[1], NULL, "sd-journal", "skipped", "the journal holds no earlier boot");
	if ((r = journal_item(b, j, m[2], DIAG_JOURNAL_ERRORS, NULL, "PRIORITY=0..3", NULL)) < 0)
		return r;
	return journal_item(b, j, m[3], DIAG_JOURNAL_FLATCAR, NULL,
			    "update, reboot, provisioning and GPT units", NULL);
}

/* ---- commands ---- */

char *diag_command_member(char *const *argv)
{
	struct dbuf o = {};
	dbuf_puts(&o, "commands/");
	size_t start = o.n;
	for (size_t i = 0; argv[i]; i++) {
		if (i)
			dbuf_putc(&o, '_');
		for (const char *p = argv[i]; *p && o.n - start < 100; p++) {
			unsigned char c = (unsigned char)*p;
			dbuf_putc(&o, c == '/' ? '-' : c <= ' ' || c == 0x7f || c == '\\' ? '_' : (char)c);
		}
	}
	if (o.n == start || (o.n - start <= 2 && o.p[start] == '.'))
		dbuf_puts(&o, "_");
	dbuf_puts(&o, ".txt");
	if (o.oom) {
		dbuf_release(&o);
		return NULL;
	}
	return dbuf_take(&o, NULL);
}

static int run_command(struct bundle *b, char *const *argv, const char *link)
{
	_cleanup_free_ char *member = diag_command_member(argv);
	struct dbuf out = {};
	struct spawn_result res;
	char src[512] = "";
	size_t o = 0;

	if (!member)
		return -ENOMEM;
	for (size_t i = 0; argv[i] && o < sizeof(src) - 1; i++)
		o += (size_t)snprintf(src + o, sizeof(src) - o, "%s%s", i ? " " : "", argv[i]);
	if (!may_start(b, member, src, "command"))
		return 0;
	uint64_t timeout = b->o->cmd_timeout_usec;
	int r = spawn_run(NULL, argv, b->o->root, timeout, b->o->cmd_cap, &out, &res);
	if (r < 0) {
		dbuf_release(&out);
		char eb[128];
		skip(b, member, src, "command", "skipped",
		     r == -ENOENT ? "not found in PATH" : errno_reason(r, eb, sizeof(eb)));
		return 0;
	}
	json_t *rec = record(member, src, "command");
	json_object_set_new(rec, "exit_status", json_integer(res.exit_status));
	if (res.timed_out) {
		json_object_set_new(rec, "status", json_string("timeout"));
		json_object_set_new(rec, "reason",
				    json_string("time limit: SIGTERM to its process group"));
	} else if (res.exit_status != 0) {
		char why[64];
		snprintf(why, sizeof(why), "exit status %d", res.exit_status);
		json_object_set_new(rec, "status", json_string("failed"));
		json_object_set_new(rec, "reason", json_string(why));
	}
	r = emit_text(b, rec, member, out.p ? out.p : "", out.n, res.truncated, res.dropped, false);
	dbuf_release(&out);
	if (r >= 0 && link && json_object_get(b->written, member))
		json_object_set_new(b->links, link, json_string(member));
	return r;
}

static int collect_commands(struct bundle *b)
{
	static const char *const defaults[][8] = {
		{ "ip", "-d", "address" },
		{ "ip", "route" },
		{ "ip", "-6", "route" },
		{ "ip", "rule" },
		{ "iptables-save" },
		{ "ip6tables-save" },
		{ "nft", "list", "ruleset" },
		{ "ps", "-eo", "pid,ppid,user,stat,lstart,rss,args" },
		{ "lsmod" },
		{ "lspci", "-nn" },
		{ "systemd-cgls", "--no-pager" },
		{ "btrfs", "filesystem", "show" },
		{ "coredumpctl", "list", "--no-pager" },
	};
	const struct diag_config *c = b->o->config;
	int r;

	if (c && c->source) {
		for (size_t i = 0; i < c->n_cmds; i++)
			if ((r = run_command(b, c->cmds[i].args, c->cmds[i].link)) < 0)
				return r;
		return 0;
	}
	if (!b->o->root_is_slash)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++)
		if ((r = run_command(b, (char *const *)defaults[i], NULL)) < 0)
			return r;
	return 0;
}

static int collect_coredumps(struct bundle *b)
{
	const char *m = "coredumps.txt", *src = "var/lib/systemd/coredump";
	char eb[128];

	if (!may_start(b, m, src, "directory"))
		return 0;
	_cleanup_close_ int fd = fs_open(b->o->root_fd, src, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		skip(b, m, src, "directory", "skipped", errno_reason(fd, eb, sizeof(eb)));
		return 0;
	}
	DIR *d = fdopendir(fd);
	if (!d)
		return -errno;
	fd = -1;
	struct dbuf t = {};
	struct dirent *de;
	dbuf_puts(&t, "NAME SIZE MTIME\n");
	while ((de = readdir(d))) {
		struct stat st;
		char tb[32];
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		dbuf_printf(&t, "%s %" PRIu64 " %s\n", de->d_name, (uint64_t)st.st_size,
			    diag_time_rfc3339((uint64_t)st.st_mtime, tb, sizeof(tb)));
	}
	closedir(d);
	int r = emit_text(b, record(m, src, "directory"), m, t.p, t.n, false, 0, false);
	dbuf_release(&t);
	return r;
}

/* ---- driver ---- */

static int write_manifest(struct bundle *b)
{
	char t1[32], t2[32];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	const struct diag_config *c = b->o->config;
	json_auto_t *m = json_pack(
		"{s:s,s:s,s:s,s:s,s:s?,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:O}", "flatctl",
		b->o->version ? b->o->version : "", "start",
		diag_time_rfc3339(b->o->start_time, t1, sizeof(t1)), "end",
		diag_time_rfc3339((uint64_t)now.tv_sec, t2, sizeof(t2)), "root", b->o->root,
		"config", c && c->source ? c->source : NULL, "limits", "max_size",
		(json_int_t)b->o->max_size, "file", (json_int_t)b->o->file_cap, "directory",
		(json_int_t)b->o->dir_cap, "directory_files", (json_int_t)b->o->dir_files, "journal",
		(json_int_t)b->o->journal_cap, "command", (json_int_t)b->o->cmd_cap, "command_ms",
		(json_int_t)(b->o->cmd_timeout_usec / 1000), "journal_ms",
		(json_int_t)(b->o->journal_timeout_usec / 1000), "total_ms",
		(json_int_t)(b->o->total_timeout_usec / 1000), "cut",
		b->stop ? json_string(b->stop) : json_null(), "items", b->items);
	if (!m)
		return -ENOMEM;
	_cleanup_free_ char *text = json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		return -ENOMEM;
	size_t l = strlen(text);
	text[l] = '\n';
	return diag_tar_add_file(b->tar, "manifest.json", text, l + 1);
}

static int collect_all(struct bundle *b)
{
	const struct diag_config *c = b->o->config;
	bool builtin = !c || !c->source || c->builtin;
	_cleanup_(diag_status_release) struct diag_status st = {};
	int r;

	struct diag_status_opts so = { .root_fd = b->o->root_fd, .root_is_slash = b->o->root_is_slash,
				       .disk = b->o->disk, .offline = b->o->offline,
				       .lock_budget_usec = 2000000, .bus_timeout_usec = 1000000 };
	r = diag_status_collect(&so, &st);
	if (r < 0)
		return r;
	_cleanup_free_ char *sj = json_dumps(st.doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!sj)
		return -ENOMEM;
	b->uncounted = true;
	if ((r = emit_text(b, record("summary.txt", NULL, "status"), "summary.txt", st.text,
			   strlen(st.text), false, 0, false)) < 0 ||
	    (r = emit_text(b, record("summary.json", NULL, "status"), "summary.json", sj, strlen(sj),
			   false, 0, false)) < 0)
		return r;
	/* summary.* are always there; the budget applies from here on */
	b->uncounted = false;

	if ((r = collect_files(b)) < 0)
		return r;
	if (builtin) {
		struct diag_journal *j = NULL;
		const char *jwhy = "no journal";
		(void)diag_journal_open(b->o->root_fd, b->root_real, b->o->root_is_slash, &j, &jwhy);
		r = collect_disk(b, st.disk);
		if (r >= 0)
			r = collect_systemd(b, j);
		if (r >= 0)
			r = collect_journal(b, j, jwhy);
		diag_journal_free(j);
		if (r < 0)
			return r;
	}
	if ((r = collect_commands(b)) < 0)
		return r;
	if (builtin && (r = collect_coredumps(b)) < 0)
		return r;
	const char *name;
	json_t *target;
	json_object_foreach(b->links, name, target) {
		if (json_object_get(b->written, name)) {
			skip(b, name, json_string_value(target), "link", "skipped",
			     "name taken by another member");
			continue;
		}
		r = diag_tar_add_symlink(b->tar, name, json_string_value(target));
		if (r < 0)
			return r;
		json_t *rec = record(name, json_string_value(target), "link");
		note(b, rec);
	}
	return write_manifest(b);
}

int diag_bundle_write(const struct diag_bundle_opts *o, int out_fd,
		      struct diag_bundle_summary *ret_sum, char *errtext, size_t errlen)
{
	struct bundle b = { .o = o };
	char proc[64], real[PATH_MAX];
	int r;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", o->root_fd);
	ssize_t l = readlink(proc, real, sizeof(real) - 1);
	if (l < 0)
		return -errno;
	real[l] = 0;
	b.root_real = real;
	b.deadline = mono_usec() + o->total_timeout_usec;
	b.items = json_array();
	b.written = json_object();
	b.links = json_object();
	if (!b.items || !b.written || !b.links)
		r = -ENOMEM;
	else
		r = diag_tar_open(out_fd, o->top, o->mtime, &b.tar);
	if (r >= 0)
		r = collect_all(&b);
	if (r >= 0)
		r = diag_tar_close(b.tar);
	if (r < 0 && errtext)
		snprintf(errtext, errlen, "%s",
			 b.tar && *diag_tar_error(b.tar) ? diag_tar_error(b.tar) : strerror(-r));
	if (ret_sum)
		*ret_sum = b.sum;
	diag_tar_free(b.tar);
	json_decref(b.items);
	json_decref(b.written);
	json_decref(b.links);
	return r;
}
