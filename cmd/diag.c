/* SPDX-License-Identifier: MIT */
/* cmd/diag.c - `flatctl diag` and the `mayday` link: a support bundle (tar.gz) with secrets
 * redacted; see flatctl-diag(1), docs/diag.md §3-§8. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "diag/bundle.h"
#include "diag/config.h"
#include "diag/status.h"
#include "fs/fs.h"
#include "log/log.h"
#include "util/escape.h"
#include "util/problem.h"

int diag_cmd_open_root(struct flat_ctx *ctx, int *ret_fd);

enum {
	OPT_OUTPUT = 'o',
	OPT_CONFIG = 'c',
	OPT_PROFILE = 'p',
	OPT_DANGER = 'd',
	OPT_MAX_SIZE = ARG_LONG_BASE,
	OPT_OFFLINE,
	OPT_FORCE,
};

static const struct flat_option diag_opts[] = {
	{ "output", OPT_OUTPUT, ARG_REQ, "FILE", "write the bundle here ('-': stdout)" },
	{ "config", OPT_CONFIG, ARG_REQ, "FILE", "mayday-format config file (host path)" },
	{ "profile", OPT_PROFILE, ARG_REQ, "NAME", "config NAME.json from the profile directories" },
	{ "max-size", OPT_MAX_SIZE, ARG_REQ, "SIZE", "bundle size limit, uncompressed (default 64M)" },
	{ "offline", OPT_OFFLINE, ARG_NONE, NULL, "do not ask etcd for the reboot lock" },
	{ "force", OPT_FORCE, ARG_NONE, NULL, "replace an existing output file" },
	{ "danger", OPT_DANGER, ARG_NONE, NULL, "accepted for mayday; changes nothing" },
	{},
};

struct diag_cmd {
	const char *output, *config, *profile;
	uint64_t max_size;
	bool offline, force, danger;
	int verbosity;
};

static int parse_size(const struct args *a, const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end == 'i' && shift)
		end++;
	if (*end == 'B' && shift)
		end++;
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > (1ull << 40) >> shift)
		return args_usage_error(a, "--max-size: '%s' is not a size (like 512K, 64M, 1G)", s);
	*ret = (uint64_t)v << shift;
	return 0;
}

static void host_name(int root_fd, bool slash, char *buf, size_t size)
{
	_cleanup_free_ char *h = NULL;
	size_t n;
	buf[0] = 0;
	if (fs_read_file(root_fd, "/etc/hostname", 4096, &h, &n) >= 0) {
		h[strcspn(h, "\r\n")] = 0;
		snprintf(buf, size, "%s", h);
	}
	if (!buf[0] && slash) {
		struct utsname u;
		if (uname(&u) == 0)
			snprintf(buf, size, "%s", u.nodename);
	}
	if (!buf[0])
		snprintf(buf, size, "localhost");
	for (char *c = buf; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
			*c = '_';
}

static void print_config_problems(const char *file, const struct problem_list *p, bool errors)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct problem *q = &p->item[i];
		bool err = q->severity == PROBLEM_ERROR;
		if (err != errors)
			continue;
		_cleanup_free_ char *e = str_escape(q->message);
		if (q->line)
			log_full(err ? LOG_ERR : LOG_WARNING, 0, "config '%s':%u:%u: %s%s", file,
				 q->line, q->column, err ? "" : "warning: ", e ? e : "");
		else
			log_full(err ? LOG_ERR : LOG_WARNING, 0, "config '%s': %s%s: %s", file,
				 err ? "" : "warning: ", q->where && *q->where ? q->where : "/",
				 e ? e : "");
	}
}

static void note_item(void *userdata, const json_t *rec)
{
	struct diag_cmd *d = userdata;
	const char *st = json_string_value(json_object_get(rec, "status"));
	const char *reason = json_string_value(json_object_get(rec, "reason"));
	if (d->verbosity < 1 || (strcmp(st, "ok") == 0 && !reason))
		return;
	_cleanup_free_ char *p = str_escape(json_string_value(json_object_get(rec, "path")));
	_cleanup_free_ char *w = reason ? str_escape(reason) : NULL;
	log_notice("%s %s%s%s", st, p ? p : "?", w ? ": " : "", w ? w : "");
}

int cmd_diag(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	_cleanup_(diag_config_release) struct diag_config cfg = { .builtin = true };
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_close_ int root_fd = -1, out_fd = -1;
	_cleanup_free_ char *out_path = NULL, *partial = NULL;
	bool mayday = ctx->invoked_as && strcmp(ctx->invoked_as, "mayday") == 0;
	struct diag_cmd d = { .max_size = 64ull << 20 };
	int r, c;

	r = args_init(&a, argc, argv, diag_opts, "[OPTIONS]", ctx, 0);
	if (r < 0)
		return log_fail(r, "out of memory");
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case OPT_OUTPUT:
			d.output = a.optarg;
			break;
		case OPT_CONFIG:
			d.config = a.optarg;
			break;
		case OPT_PROFILE:
			d.profile = a.optarg;
			break;
		case OPT_MAX_SIZE:
			if ((r = parse_size(&a, a.optarg, &d.max_size)) < 0)
				return r;
			break;
		case OPT_OFFLINE:
			d.offline = true;
			break;
		case OPT_FORCE:
			d.force = true;
			break;
		case OPT_DANGER:
			d.danger = true;
			break;
		}
	}
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) > 0)
		return args_usage_error(&a, "unexpected argument '%s'", args_rest(&a)[0]);
	if (d.config && d.profile)
		return args_usage_error(&a, "--profile cannot be used with --config (point --config "
					    "at the profile's file)");
	d.verbosity = ctx->verbosity;
	r = diag_cmd_open_root(ctx, &root_fd);
	if (r < 0)
		return r;
	if (d.danger)
		log_warning("warning: --danger changes nothing: flatctl never puts secrets into a "
			    "bundle");

	r = diag_config_load(root_fd, d.config, d.profile, &cfg, &p);
	if (r < 0) {
		const char *name = d.config ? d.config : d.profile ? d.profile : "?";
		if (r == -EINVAL && p.n) {
			print_config_problems(p.item[0].where && p.item[0].line ? p.item[0].where : name,
					      &p, true);
			return -EINVAL;
		}
		if (r == -ENOENT || r == -EINVAL)
			return log_fail(-EINVAL, "%s", p.n ? p.item[0].message : "config not found");
		return log_error_errno(r, "reading config '%s'", name);
	}
	print_config_problems(cfg.source ? cfg.source : "?", &p, false);

	char host[128], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	host_name(root_fd, strcmp(ctx->root, "/") == 0, host, sizeof(host));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	_cleanup_free_ char *top = NULL;
	if (asprintf(&top, "flatctl-diag-%s-%s", host, stamp) < 0)
		return log_fail(-ENOMEM, "out of memory");

	bool to_stdout = d.output && strcmp(d.output, "-") == 0;
	if (to_stdout) {
		if (isatty(STDOUT_FILENO))
			return log_fail(-EINVAL, "refusing to write a tar.gz to a terminal; "
						 "redirect stdout or use --output FILE");
		out_fd = dup(STDOUT_FILENO);
		if (out_fd < 0)
			return log_error_errno(-errno, "stdout");
	} else {
		if (d.output)
			out_path = strdup(d.output);
		else if (asprintf(&out_path, "/var/tmp/%s-%s-%s.tar.gz",
				  mayday ? "mayday" : "flatctl-diag", host, stamp) < 0)
			out_path = NULL;
		if (!out_path || asprintf(&partial, "%s.partial", out_path) < 0)
			return log_fail(-ENOMEM, "out of memory");
		struct stat st;
		if (lstat(out_path, &st) == 0 && !d.force)
			return log_fail(-EINVAL, "'%s' exists; use --force to replace it", out_path);
		out_fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out_fd < 0 && errno == EEXIST && unlink(partial) == 0)
			out_fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      0600);
		if (out_fd < 0)
			return log_error_errno(-errno, "creating '%s'", partial);
	}

	char self[PATH_MAX];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = 0;
	struct diag_bundle_opts o = {
		.root_fd = root_fd,
		.root = ctx->root,
		.root_is_slash = strcmp(ctx->root, "/") == 0,
		.disk = ctx->disk,
		.config = &cfg,
		.offline = d.offline,
		.start_time = (uint64_t)now,
		.mtime = now,
		.top = top,
		.self_exe = sl > 0 ? self : NULL,
		.version = flatctl_version(),
		.note = note_item,
		.userdata = &d,
	};
	diag_bundle_opts_defaults(&o);
	o.max_size = d.max_size;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde)
		o.mtime = strtoll(sde, NULL, 10);
	const char *tms = getenv("FLATCTL_TEST_DIAG_TIMEOUT_MS");
	if (tms && *tms)
		o.cmd_timeout_usec = strtoull(tms, NULL, 10) * 1000;

	struct diag_bundle_summary sum = {};
	char err[256] = "";
	r = diag_bundle_write(&o, out_fd, &sum, err, sizeof(err));
	if (r >= 0 && !to_stdout && fsync(out_fd) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(out_fd)) < 0)
		r = -errno;
	if (r < 0) {
		if (partial)
			(void)unlink(partial);
		return log_fail(r == -EINVAL ? -EIO : r, "writing '%s': %s",
				partial ? partial : "stdout", err[0] ? err : strerror(-r));
	}
	if (partial) {
		if (rename(partial, out_path) < 0) {
			r = -errno;
			(void)unlink(partial);
			return log_error_errno(r, "renaming '%s' to '%s'", partial, out_path);
		}
		_cleanup_free_ char *dir = strdup(out_path);
		if (dir) {
			char *sl2 = strrchr(dir, '/');
			_cleanup_close_ int dfd =
				open(sl2 ? (sl2 == dir ? "/" : (*sl2 = 0, dir)) : ".",
				     O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0)
				(void)fsync(dfd);
		}
	}
	if (ctx->verbosity >= 0)
		log_notice("%u items: %u ok, %u skipped, %u failed, %u timed out, %u truncated; %u "
			   "redactions; %" PRIu64 " bytes before compression",
			   sum.items, sum.ok, sum.skipped, sum.failed, sum.timeouts, sum.truncated,
			   sum.redactions, sum.bytes);
	if (!to_stdout)
		(void)flat_print_line(stdout, "%s", out_path);
	return 0;
}
