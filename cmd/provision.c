/* SPDX-License-Identifier: MIT */
/* cmd/provision.c - Ignition configs: validate, and the dry-run plan; spec: spec/provision.md
 * sections 1-4 and 8-10. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "fs/fs.h"
#include "http/http.h"
#include "ignition/ignition.h"
#include "json/fjson.h"
#include "log/log.h"
#include "util/cleanup.h"
#include "util/problem.h"

enum {
	OPT_STRICT = ARG_LONG_BASE,
	OPT_CONFIG,
	OPT_PLATFORM,
	OPT_DRY_RUN,
	OPT_FETCH_TIMEOUT,
};

static const struct flat_option provision_opts[] = {
	{ "config", OPT_CONFIG, ARG_REQ, "SRC", "take the user config from FILE, URL or - (stdin)" },
	{ "platform", OPT_PLATFORM, ARG_REQ, "NAME", "ask this provider: file, metal, qemu, aws" },
	{ "dry-run", OPT_DRY_RUN, ARG_NONE, NULL,
	  "fetch, merge and check; print the config and the plan; change nothing" },
	{ "fetch-timeout", OPT_FETCH_TIMEOUT, ARG_REQ, "SECS", "give up a fetch after SECS seconds" },
	{ "strict", OPT_STRICT, ARG_NONE, NULL, "validate: treat warnings as errors" },
	{},
};

struct provision_args {
	struct flat_ctx *ctx;
	struct args *a;
	bool strict;
	bool dry_run;
	const char *config;
	const char *platform;
	unsigned long long fetch_timeout;
};

/* Read a whole file or stdin, at most max bytes (-EFBIG beyond). */
static int read_input(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = -1;

	if (strcmp(path, "-") == 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return fs_read_fd(fd, max, ret, ret_size);
}

static int cmp_problem(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int sx = x->severity == PROBLEM_ERROR ? 0 : 1, sy = y->severity == PROBLEM_ERROR ? 0 : 1;
	if (sx != sy)
		return sx - sy;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Print problems as provision.md 1.2 shows (text or one JSON document). */
static void print_problems(const char *name, struct ign_config *c, struct problem_list *pl,
			   bool json, bool valid)
{
	json_t *raw = c ? c->raw : NULL;

	if (json) {
		json_auto_t *out = json_object();
		json_t *arr = json_array();
		char vb[16];
		(void)json_object_set_new(out, "file", json_string(name));
		(void)json_object_set_new(out, "version",
					  c && c->version ? json_string(ign_version_to_string(
								    c->version, vb, sizeof(vb)))
							  : json_null());
		(void)json_object_set_new(out, "translatedFrom",
					  c && c->translated_from
						  ? json_string(ign_version_to_string(
							    c->translated_from, vb, sizeof(vb)))
						  : json_null());
		(void)json_object_set_new(out, "valid", json_boolean(valid));
		for (size_t i = 0; i < pl->n; i++) {
			struct problem *p = &pl->item[i];
			_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
			json_t *e = json_pack("{s:s, s:s, s:I, s:I, s:s}", "severity",
					      problem_severity_to_string(p->severity), "path",
					      disp ? disp : "$", "line", (json_int_t)p->line, "column",
					      (json_int_t)p->column, "message", p->message);
			if (!e)
				continue;
			if (p->value) {
				json_t *v = json_loads(p->value, JSON_DECODE_ANY, NULL);
				if (v)
					(void)json_object_set_new(e, "value", v);
			}
			if (p->hint)
				(void)json_object_set_new(e, "hint", json_string(p->hint));
			(void)json_array_append_new(arr, e);
		}
		(void)json_object_set_new(out, "problems", arr);
		(void)json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		return;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct problem *p = &pl->item[i];
		_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
		if (p->line)
			printf("%s:%u:%u: ", name, p->line, p->column);
		else
			printf("%s: ", name);
		printf("%s: %s: %s", problem_severity_to_string(p->severity), disp ? disp : "$",
		       p->message);
		if (p->value)
			printf(": %s", p->value);
		if (p->hint)
			printf(" (%s)", p->hint);
		putchar('\n');
	}
}

/* Parse and validate text; problems located and sorted. Returns the parse result. */
static int check_text(const char *text, size_t n, struct ign_config **ret, struct problem_list *pl,
		      bool strict)
{
	int r = ign_config_parse(text, n, ret, pl);
	if (r == -ENOMEM)
		return r;
	(void)ign_problems_locate(text, n, pl);
	if (strict)
		for (size_t i = 0; i < pl->n; i++)
			if (pl->item[i].severity == PROBLEM_WARNING) {
				pl->item[i].severity = PROBLEM_ERROR;
				if (r >= 0)
					r = -EINVAL;
			}
	if (pl->n)
		qsort(pl->item, pl->n, sizeof(pl->item[0]), cmp_problem);
	return r;
}

static int do_validate(int argc, char **argv, void *userdata)
{
	struct provision_args *pa = userdata;
	const char *path = argv[1];
	const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
	_cleanup_free_ char *text = NULL;
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *c = NULL;
	size_t n = 0;
	int r;

	r = read_input(path, IGN_MAX_CONFIG_SIZE, &text, &n);
	if (r == -EFBIG) {
		/* a limit known at parse time: an invalid config (provision.md 8) */
		(void)problem_add(&pl, -EFBIG, "", "config is larger than %u MiB",
				  IGN_MAX_CONFIG_SIZE >> 20);
		print_problems(name, NULL, &pl, pa->ctx->json, false);
		log_notice("%s: invalid: 1 error, 0 warnings", name);
		return 2;
	}
	if (r < 0) {
		log_error_errno(r, "%s: cannot read", name);
		return 1;
	}
	r = check_text(text, n, &c, &pl, pa->strict);
	if (r == -ENOMEM)
		return log_error_errno(r, "%s: validating", name);
	bool valid = r >= 0;
	print_problems(name, c, &pl, pa->ctx->json, valid);
	size_t ne = problem_count(&pl, PROBLEM_ERROR), nw = problem_count(&pl, PROBLEM_WARNING);
	if (!pa->ctx->json || !valid)
		log_full(valid && !nw ? LOG_INFO : LOG_NOTICE, 0, "%s: %s: %zu error%s, %zu warning%s",
			 name, valid ? "valid" : "invalid", ne, ne == 1 ? "" : "s", nw,
			 nw == 1 ? "" : "s");
	return valid ? 0 : 2;
}

/* --- dry run ------------------------------------------------------------------------------ */

/* A copy of a rendered config safe to print: password hashes, header values, data: payloads,
 * clevis configs and URL userinfo/queries replaced (cli.md: nothing that can hold a secret). */
static void redact(json_t *v, const char *key)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, c) {
			if (json_is_string(c) && (!strcmp(k, "passwordHash") || !strcmp(k, "config") ||
						  (!strcmp(k, "value") && key && !strcmp(key, "httpHeaders"))))
				(void)json_object_set_new(v, k, json_string("<redacted>"));
			else if (json_is_string(c) && !strcmp(k, "source")) {
				const char *s = json_string_value(c);
				char buf[200];
				if (!strncmp(s, "data:", 5)) {
					_cleanup_free_ char *d = NULL;
					size_t n = 0;
					if (ign_data_url_decode(s, &d, &n) >= 0)
						snprintf(buf, sizeof(buf), "data:<redacted: %zu bytes>", n);
					else
						snprintf(buf, sizeof(buf), "data:<redacted>");
					(void)json_object_set_new(v, k, json_string(buf));
				} else {
					_cleanup_free_ char *r = http_url_redact(s);
					if (r)
						(void)json_object_set_new(v, k, json_string(r));
				}
			} else
				redact(c, k);
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c)
			redact(c, key);
	}
}

struct plan {
	json_t *items; /* [{"op": "+", "kind": "file", "path": ..., "detail": ...}] */
	bool fail;
};

static void plan_add(struct plan *p, const char *op, const char *kind, const char *path,
		     const char *fmt, ...) _printf_(5, 6);
static void plan_add(struct plan *p, const char *op, const char *kind, const char *path,
		     const char *fmt, ...)
{
	char detail[512] = "";
	va_list ap;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	if (op[0] == '!')
		p->fail = true;
	(void)json_array_append_new(p->items, json_pack("{s:s, s:s, s:s, s:s}", "op", op, "kind",
							 kind, "path", path ? path : "", "detail",
							 detail));
}

static void owner_text(json_t *node, char *buf, size_t size)
{
	char u[64] = "root", g[64] = "root";
	static const char *const k[] = { "user", "group" };
	char *out[2] = { u, g };
	for (int i = 0; i < 2; i++) {
		json_t *o = json_object_get(node, k[i]);
		const char *name = json_string_value(json_object_get(o, "name"));
		json_t *id = json_object_get(o, "id");
		if (name)
			snprintf(out[i], 64, "%s", name);
		else if (json_is_integer(id))
			snprintf(out[i], 64, "%lld", (long long)json_integer_value(id));
	}
	snprintf(buf, size, "%s:%s", u, g);
}

static void plan_build(struct provision_args *pa, int root_fd, json_t *doc,
		       const struct ign_fetcher *base, struct plan *p,
		       struct problem_list *pl)
{
	struct ign_fetcher f = *base;
	json_t *st = json_object_get(doc, "storage");
	size_t i;
	json_t *e;
	char own[160];

	f.ignition = json_object_get(doc, "ignition");
	f.offline = false;
	json_array_foreach(json_object_get(st, "disks"), i, e)
		plan_add(p, "!", "skip", json_string_value(json_object_get(e, "device")),
			 "disk: partitioning is not done by this build");
	json_array_foreach(json_object_get(st, "raid"), i, e)
		plan_add(p, "!", "skip", json_string_value(json_object_get(e, "name")),
			 "raid: not done by this build");
	json_array_foreach(json_object_get(st, "luks"), i, e)
		plan_add(p, "!", "skip", json_string_value(json_object_get(e, "device")),
			 "luks: not done by this build");
	json_array_foreach(json_object_get(st, "filesystems"), i, e)
		plan_add(p, "!", "skip", json_string_value(json_object_get(e, "device")),
			 "filesystem: not done by this build");

	json_array_foreach(json_object_get(json_object_get(doc, "passwd"), "groups"), i, e)
		plan_add(p, json_is_false(json_object_get(e, "shouldExist")) ? "-" : "+", "group",
			 json_string_value(json_object_get(e, "name")), NULL);
	json_array_foreach(json_object_get(json_object_get(doc, "passwd"), "users"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		plan_add(p, json_is_false(json_object_get(e, "shouldExist")) ? "-" : "+", "user", name,
			 NULL);
		size_t nk = json_array_size(json_object_get(e, "sshAuthorizedKeys"));
		if (nk) {
			const char *home = json_string_value(json_object_get(e, "homeDir"));
			char path[1024];
			if (home)
				snprintf(path, sizeof(path), "%s/.ssh/authorized_keys.d/ignition", home);
			else
				snprintf(path, sizeof(path), "/home/%s/.ssh/authorized_keys.d/ignition", name);
			plan_add(p, "+", "file", path, "0600 %s %zu key%s", name, nk, nk == 1 ? "" : "s");
		}
	}
	json_array_foreach(json_object_get(st, "directories"), i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *m = json_object_get(e, "mode");
		owner_text(e, own, sizeof(own));
		int ex = fs_exists(root_fd, path);
		plan_add(p, ex > 0 ? "~" : "+", "dir", path, "%04llo %s",
			 m ? (unsigned long long)json_integer_value(m) : 0755ULL, own);
	}
	json_array_foreach(json_object_get(st, "files"), i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		json_t *c = json_object_get(e, "contents");
		json_t *m = json_object_get(e, "mode");
		bool overwrite = json_is_true(json_object_get(e, "overwrite"));
		char where[64];
		owner_text(e, own, sizeof(own));
		int ex = fs_exists(root_fd, path);
		snprintf(where, sizeof(where), "/storage/files/%zu/contents", i);
		if (ex > 0 && !overwrite && c && json_object_get(c, "source")) {
			plan_add(p, "!", "file", path, "exists and overwrite is false");
			continue;
		}
		if (c && json_object_get(c, "source")) {
			_cleanup_free_ char *data = NULL;
			size_t n = 0;
			char dg[160] = "";
			if (ign_resource_fetch(&f, c, where, &data, &n, pl) < 0) {
				plan_add(p, "!", "file", path, "cannot fetch its contents");
				continue;
			}
			(void)ign_digest("sha256", data, n, dg, sizeof(dg));
			plan_add(p, ex > 0 ? "~" : "+", "file", path, "%04llo %s %zu B %s",
				 m ? (unsigned long long)json_integer_value(m) : 0644ULL, own, n, dg);
		} else
			plan_add(p, ex > 0 ? "=" : "+", "file", path, "%04llo %s%s",
				 m ? (unsigned long long)json_integer_value(m) : 0644ULL, own,
				 ex > 0 ? " (contents kept)" : " 0 B");
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(e, "append"), k, a) {
			_cleanup_free_ char *data = NULL;
			size_t n = 0;
			snprintf(where, sizeof(where), "/storage/files/%zu/append/%zu", i, k);
			if (ign_resource_fetch(&f, a, where, &data, &n, pl) < 0)
				plan_add(p, "!", "append", path, "cannot fetch the fragment");
			else
				plan_add(p, "+", "append", path, "%zu B", n);
		}
	}
	json_array_foreach(json_object_get(st, "links"), i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		const char *target = json_string_value(json_object_get(e, "target"));
		bool hard = json_is_true(json_object_get(e, "hard"));
		int ex = fs_exists(root_fd, path);
		plan_add(p, ex > 0 ? "~" : "+", hard ? "hardlink" : "link", path, "-> %s",
			 target ? target : "");
	}
	json_array_foreach(json_object_get(json_object_get(doc, "systemd"), "units"), i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		char path[600];
		snprintf(path, sizeof(path), "/etc/systemd/system/%s", name);
		if (json_is_true(json_object_get(e, "mask")))
			plan_add(p, "+", "link", path, "-> /dev/null (mask)");
		else if (json_object_get(e, "contents"))
			plan_add(p, fs_exists(root_fd, path) > 0 ? "~" : "+", "unit", path, "0644");
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(e, "dropins"), k, d) {
			if (!json_object_get(d, "contents"))
				continue;
			snprintf(path, sizeof(path), "/etc/systemd/system/%s.d/%s", name,
				 json_string_value(json_object_get(d, "name")));
			plan_add(p, "+", "dropin", path, "0644");
		}
		json_t *en = json_object_get(e, "enabled");
		if (json_is_boolean(en))
			plan_add(p, "+", "preset", "/etc/systemd/system-preset/20-ignition.preset",
				 "%s %s", json_is_true(en) ? "enable" : "disable", name);
	}
	json_t *ka = json_object_get(doc, "kernelArguments");
	json_array_foreach(json_object_get(ka, "shouldExist"), i, e)
		plan_add(p, "+", "karg", json_string_value(e), NULL);
	json_array_foreach(json_object_get(ka, "shouldNotExist"), i, e)
		plan_add(p, "-", "karg", json_string_value(e), NULL);
	(void)pa;
}

static void log_problems(struct problem_list *pl, json_t *raw)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct problem *p = &pl->item[i];
		_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
		log_full(p->severity == PROBLEM_ERROR ? LOG_ERR : LOG_WARNING, 0, "%s%s%s%s%s%s",
			 p->where && p->where[0] ? disp : "", p->where && p->where[0] ? ": " : "",
			 p->message, p->hint ? " (" : "", p->hint ? p->hint : "", p->hint ? ")" : "");
	}
}

static int do_dry_run(struct provision_args *pa)
{
	_cleanup_close_ int root_fd = -1;
	_cleanup_free_ char *text = NULL, *origin = NULL;
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *user = NULL;
	json_auto_t *doc = NULL, *rendered = NULL, *merged = NULL, *bases = NULL;
	size_t n = 0;
	int r;

	root_fd = fs_root_open(pa->ctx->root);
	if (root_fd < 0)
		return log_error_errno(root_fd, "opening the root '%s'", pa->ctx->root);

	struct ign_source_opts o = {
		.root_fd = root_fd,
		.config = pa->config,
		.aws_base_url = getenv("FLATCTL_AWS_IMDS_URL"),
		.file_path = getenv("IGNITION_CONFIG_FILE"),
	};
	if (pa->platform) {
		o.platform = ign_platform_from_string(pa->platform);
		if (o.platform < 0)
			return args_usage_error(pa->a, "unknown platform '%s' (file, metal, qemu, aws)",
						pa->platform);
	} else
		o.platform = pa->config ? IGN_PLATFORM_FILE : ign_platform_detect(root_fd);
	if (o.platform < 0) {
		log_error("the platform on the kernel command line is not supported by this build");
		return 2;
	}
	struct ign_fetcher f = {
		.root_fd = root_fd,
		.max_size = IGN_MAX_CONFIG_SIZE,
		.retries = 3,
		.timeout_usec = pa->fetch_timeout * 1000000ULL,
	};

	r = ign_user_config_fetch(&o, &f, &text, &n, &origin, &pl);
	if (r == -ENOENT && !pl.n) {
		log_notice("no user config found (platform %s): an empty config",
			   ign_platform_to_string(o.platform));
		doc = json_pack("{s:{s:s}}", "ignition", "version", "3.6.0");
	} else if (r < 0) {
		log_problems(&pl, NULL);
		return r == -EAGAIN ? -EAGAIN : 1;
	} else {
		log_info("user config from %s", origin ? origin : "?");
		r = check_text(text, n, &user, &pl, false);
		if (r == -ENOMEM)
			return log_error_errno(r, "parsing the config");
		if (r == -ENODATA || r == -EMEDIUMTYPE) {
			log_notice("%s: %s: continuing with an empty config", origin ? origin : "config",
				   pl.n ? pl.item[0].message : "not an Ignition config");
			problem_list_release(&pl);
			doc = json_pack("{s:{s:s}}", "ignition", "version", "3.6.0");
		} else if (r < 0) {
			print_problems(origin ? origin : "config", user, &pl, false, false);
			log_error("%s: invalid config", origin ? origin : "config");
			return 2;
		} else {
			log_problems(&pl, user->raw);
			problem_list_release(&pl);
			doc = json_incref(user->doc);
		}
	}

	r = ign_config_render(&f, doc, &rendered, &pl);
	if (r < 0) {
		log_problems(&pl, user ? user->raw : NULL);
		return r == -ENOMEM ? r : r == -EINVAL ? 2 : 1;
	}
	log_problems(&pl, NULL);
	problem_list_release(&pl);

	/* base configs under the user config */
	r = ign_base_configs_list(root_fd, ign_platform_to_string(o.platform), &bases);
	if (r < 0)
		return log_error_errno(r, "reading base configs");
	merged = json_pack("{s:{s:s}}", "ignition", "version", "3.6.0");
	size_t i;
	json_t *b;
	json_array_foreach(bases, i, b) {
		const char *bp = json_string_value(json_object_get(b, "path"));
		const char *bt = json_string_value(json_object_get(b, "text"));
		_cleanup_(ign_config_freep) struct ign_config *bc = NULL;
		_cleanup_(problem_list_release) struct problem_list bpl = {};
		json_t *br = NULL, *m = NULL;
		if (check_text(bt, json_string_length(json_object_get(b, "text")), &bc, &bpl, false) < 0) {
			print_problems(bp, bc, &bpl, false, false);
			log_error("base config %s: invalid", bp);
			return 2;
		}
		r = ign_config_render(&f, bc->doc, &br, &bpl);
		if (r < 0) {
			log_problems(&bpl, bc->raw);
			return r == -EINVAL ? 2 : 1;
		}
		r = ign_config_merge(merged, br, &m);
		json_decref(br);
		if (r < 0)
			return log_error_errno(r, "merging %s", bp);
		json_decref(merged);
		merged = m;
		log_info("base config %s merged", bp);
	}
	json_t *final = NULL;
	r = ign_config_merge(merged, rendered, &final);
	if (r < 0)
		return log_error_errno(r, "merging the user config");
	json_decref(merged);
	merged = final;
	(void)json_object_set_new(json_object_get(merged, "ignition"), "version", json_string("3.6.0"));
	r = ign_config_validate(merged, IGN_V3_LAST, &pl);
	if (r < 0 && r != -ENOMEM) {
		log_problems(&pl, NULL);
		log_error("the merged config is invalid");
		return 2;
	}
	problem_list_release(&pl);

	struct plan plan = { .items = json_array() };
	plan_build(pa, root_fd, merged, &f, &plan, &pl);
	json_auto_t *items = plan.items;
	log_problems(&pl, NULL);

	json_auto_t *shown = json_deep_copy(merged);
	redact(shown, NULL);
	if (pa->ctx->json) {
		json_auto_t *out = json_pack("{s:s?, s:s?, s:O, s:O, s:b}", "source", origin, "platform",
					     ign_platform_to_string(o.platform), "config", shown, "plan",
					     items, "wouldFail", plan.fail);
		(void)json_dumpf(out, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		printf("# config (rendered, merged, secrets redacted)\n");
		(void)json_dumpf(shown, stdout, JSON_INDENT(2));
		printf("\n# plan\n");
		json_t *it;
		json_array_foreach(items, i, it) {
			const char *d = json_string_value(json_object_get(it, "detail"));
			printf("%s %s %s%s%s\n", json_string_value(json_object_get(it, "op")),
			       json_string_value(json_object_get(it, "kind")),
			       json_string_value(json_object_get(it, "path")), d && d[0] ? " " : "",
			       d ? d : "");
		}
	}
	return plan.fail ? 1 : 0;
}

static const struct flat_verb provision_verbs[] = {
	{ "validate", 1, 1, do_validate },
	{},
};

int cmd_provision(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	struct provision_args pa = { .ctx = ctx, .a = &a };
	int r;

	r = args_init(&a, argc, argv, provision_opts, "[OPTIONS] validate FILE|- | --dry-run", ctx, 0);
	if (r < 0)
		return log_error_errno(r, "parsing options");
	while ((r = args_next(&a)) > 0) {
		switch (r) {
		case OPT_STRICT:
			pa.strict = true;
			break;
		case OPT_CONFIG:
			pa.config = a.optarg;
			break;
		case OPT_PLATFORM:
			pa.platform = a.optarg;
			break;
		case OPT_DRY_RUN:
			pa.dry_run = true;
			break;
		case OPT_FETCH_TIMEOUT:
			r = args_parse_uint(&a, "--fetch-timeout", a.optarg, 86400, &pa.fetch_timeout);
			if (r < 0)
				return r;
			break;
		}
	}
	if (r < 0)
		return r;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) == 0) {
		if (pa.dry_run)
			return do_dry_run(&pa);
		return args_usage_error(&a, "this build does not apply configs: use 'validate FILE' or "
					    "--dry-run");
	}
	return args_dispatch_verb(&a, provision_verbs, NULL, args_rest_count(&a), args_rest(&a),
				  &pa);
}
