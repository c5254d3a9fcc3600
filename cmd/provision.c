/* SPDX-License-Identifier: MIT */
/* cmd/provision.c - Ignition configs: validate, plan (--dry-run) and apply to a root all or
 * nothing; see flatctl-provision(1), docs/provision.md, docs/provision-apply.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "fs/fs.h"
#include "http/http.h"
#include "ignition/ignition.h"
#include "log/log.h"
#include "provision.h"
#include "provision/provision.h"
#include "util/cleanup.h"
#include "util/escape.h"
#include "util/problem.h"
#include "json/fjson.h"

enum {
	OPT_STRICT = ARG_LONG_BASE,
	OPT_CONFIG,
	OPT_PLATFORM,
	OPT_DRY_RUN,
	OPT_FETCH_TIMEOUT,
	OPT_STAGE,
	OPT_FORCE,
	OPT_REPORT,
	OPT_DEVICES,
	OPT_DEVICE,
};

static const struct flat_option provision_opts[] = {
	{ "config", OPT_CONFIG, ARG_REQ, "SRC",
	  "take the user config from FILE, URL or - (stdin)" },
	{ "platform", OPT_PLATFORM, ARG_REQ, "NAME", "ask this provider: " IGN_PLATFORM_NAMES },
	{ "stage", OPT_STAGE, ARG_REQ, "LIST",
	  "run only these stages: fetch-offline,fetch,kargs,disks,mount,files,umount" },
	{ "dry-run", OPT_DRY_RUN, ARG_NONE, NULL,
	  "fetch, merge and check; print the config and the plan; change nothing" },
	{ "force", OPT_FORCE, ARG_NONE, NULL, "provision a root that was provisioned before" },
	{ "device", OPT_DEVICE, ARG_REQ, "CFG=PATH",
	  "use host device or image PATH for the device CFG of the config (PATH alone: CFG=PATH)" },
	{ "devices", OPT_DEVICES, ARG_REQ, "strict|skip",
	  "a device the config names is missing: fail, or skip its entries" },
	{ "report", OPT_REPORT, ARG_REQ, "FILE",
	  "also write the result, success or failure, to FILE" },
	{ "fetch-timeout", OPT_FETCH_TIMEOUT, ARG_REQ, "SECS",
	  "give up a fetch after SECS seconds" },
	{ "strict", OPT_STRICT, ARG_NONE, NULL, "validate: treat warnings as errors" },
	{},
};

struct provision_args {
	struct flat_ctx *ctx;
	struct args *a;
	bool strict;
	bool dry_run;
	bool force;
	const char *config;
	const char *platform;
	const char *stage;
	const char *report;
	enum prov_devices devices;
	int devices_given;
	struct prov_device_map device_map[32];
	size_t n_device_map;
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
			_cleanup_free_ char *disp =
				fjson_pointer_to_display(raw, p->where ? p->where : "");
			json_t *e =
				json_pack("{s:s, s:s, s:I, s:I, s:s}", "severity",
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
		(void)json_dumpf(out, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
		return;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct problem *p = &pl->item[i];
		_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
		char loc[32] = "";

		if (p->line)
			snprintf(loc, sizeof(loc), ":%u:%u", p->line, p->column);
		/* messages, values and paths quote the config: the line is escaped as a whole */
		(void)flat_print_line(stdout, "%s%s: %s: %s: %s%s%s%s%s%s", name, loc,
				      problem_severity_to_string(p->severity), disp ? disp : "$",
				      p->message, p->value ? ": " : "", p->value ? p->value : "",
				      p->hint ? " (" : "", p->hint ? p->hint : "", p->hint ? ")" : "");
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
		log_full(valid && !nw ? LOG_INFO : LOG_NOTICE, 0,
			 "%s: %s: %zu error%s, %zu warning%s", name, valid ? "valid" : "invalid",
			 ne, ne == 1 ? "" : "s", nw, nw == 1 ? "" : "s");
	return valid ? 0 : 2;
}

/* --- shared with the ignition link ----------------------------------------------------- */

void prov_log_problems(struct problem_list *pl, json_t *raw)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct problem *p = &pl->item[i];
		_cleanup_free_ char *disp = fjson_pointer_to_display(raw, p->where ? p->where : "");
		_cleanup_free_ char *msg = str_escape(p->message);
		_cleanup_free_ char *hint = p->hint ? str_escape(p->hint) : NULL;
		log_full(p->severity == PROBLEM_ERROR ? LOG_ERR : LOG_WARNING, 0, "%s%s%s%s%s%s",
			 p->where && p->where[0] ? disp : "", p->where && p->where[0] ? ": " : "",
			 msg ? msg : p->message, hint ? " (" : "", hint ? hint : "",
			 hint ? ")" : "");
	}
}

void prov_config_release(struct prov_config *c)
{
	json_decref(c->merged);
	c->merged = NULL;
	free(c->origin);
	c->origin = NULL;
}

void prov_fetcher_init(struct ign_fetcher *f, int root_fd, uint64_t timeout_usec)
{
	*f = (struct ign_fetcher){
		.root_fd = root_fd,
		.max_size = (size_t)1 << 40,
		.retries = 3,
		.timeout_usec = timeout_usec,
	};
}

static json_t *empty_config(void)
{
	return json_pack("{s:{s:s}}", "ignition", "version", "3.6.0");
}

int prov_config_acquire(struct flat_ctx *ctx, const struct prov_acquire *a, struct prov_config *ret)
{
	_cleanup_free_ char *text = NULL, *origin = NULL;
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(ign_config_freep) struct ign_config *user = NULL;
	json_auto_t *doc = NULL, *rendered = NULL, *merged = NULL, *bases = NULL;
	size_t n = 0;
	int r;

	*ret = (struct prov_config){};
	struct ign_source_opts o = {
		.root_fd = a->root_fd,
		.config = a->config,
		.aws_base_url = getenv("FLATCTL_AWS_IMDS_URL"),
		.file_path = getenv("IGNITION_CONFIG_FILE"),
	};
	if (a->platform) {
		o.platform = ign_platform_from_string(a->platform);
		if (o.platform < 0) {
			log_error("unknown platform '%s' (one of " IGN_PLATFORM_NAMES ")", a->platform);
			return 2;
		}
	} else
		o.platform = a->config ? IGN_PLATFORM_FILE : ign_platform_detect(a->root_fd);
	if (o.platform < 0) {
		log_error("the platform on the kernel command line is not supported by this build");
		return 2;
	}
	ret->platform = o.platform;
	struct ign_fetcher f = {
		.root_fd = a->root_fd,
		.max_size = IGN_MAX_CONFIG_SIZE,
		.retries = 3,
		.timeout_usec = a->timeout_usec,
		.offline = a->offline,
	};
	/* platforms that fetch over the network need it before anything can be read */
	if (a->offline && o.platform != IGN_PLATFORM_FILE && o.platform != IGN_PLATFORM_METAL &&
	    o.platform != IGN_PLATFORM_QEMU && !a->config)
		return -EREMOTE;

	r = ign_user_config_fetch(&o, &f, &text, &n, &origin, &pl);
	if (a->offline && r == -EOPNOTSUPP)
		return -EREMOTE;
	if (r == -ENOENT && !pl.n) {
		log_notice("no user config found (platform %s): an empty config",
			   ign_platform_to_string(o.platform));
		doc = empty_config();
	} else if (r < 0) {
		prov_log_problems(&pl, NULL);
		return r == -EAGAIN ? 75 : 1;
	} else {
		_cleanup_free_ char *eo = str_escape(origin ? origin : "?");
		log_info("user config from %s", eo ? eo : "?");
		r = check_text(text, n, &user, &pl, false);
		if (r == -ENOMEM)
			return log_error_errno(r, "parsing the config"), 1;
		if (r == -ENODATA || r == -EMEDIUMTYPE) {
			log_notice("%s: %s: continuing with an empty config", eo ? eo : "config",
				   pl.n ? pl.item[0].message : "not an Ignition config");
			problem_list_release(&pl);
			doc = empty_config();
		} else if (r < 0) {
			print_problems(origin ? origin : "config", user, &pl, false, false);
			log_error("%s: invalid config", eo ? eo : "config");
			return 2;
		} else {
			prov_log_problems(&pl, user->raw);
			problem_list_release(&pl);
			doc = json_incref(user->doc);
			ret->user_provided = true;
			(void)ign_version_to_string(user->version, ret->version,
						    sizeof(ret->version));
			if (user->translated_from)
				(void)ign_version_to_string(user->translated_from, ret->translated,
							    sizeof(ret->translated));
			(void)ign_digest("sha512", text, n, ret->sha512, sizeof(ret->sha512));
		}
	}

	r = ign_config_render(&f, doc, &rendered, &pl);
	if (r < 0) {
		bool remote = a->offline && r == -EOPNOTSUPP;
		if (remote)
			return -EREMOTE;
		prov_log_problems(&pl, user ? user->raw : NULL);
		return r == -ENOMEM ? 1 : r == -EINVAL ? 2 : r == -EAGAIN ? 75 : 1;
	}
	prov_log_problems(&pl, NULL);
	problem_list_release(&pl);

	/* base configs under the user config */
	r = ign_base_configs_list(a->root_fd, ign_platform_to_string(o.platform), &bases);
	if (r < 0)
		return log_error_errno(r, "reading base configs"), 1;
	merged = empty_config();
	size_t i;
	json_t *b;
	json_array_foreach(bases, i, b)
	{
		const char *bp = json_string_value(json_object_get(b, "path"));
		const char *bt = json_string_value(json_object_get(b, "text"));
		_cleanup_(ign_config_freep) struct ign_config *bc = NULL;
		_cleanup_(problem_list_release) struct problem_list bpl = {};
		json_t *br = NULL, *m = NULL;
		if (check_text(bt, json_string_length(json_object_get(b, "text")), &bc, &bpl,
			       false) < 0) {
			print_problems(bp, bc, &bpl, false, false);
			log_error("base config %s: invalid", bp);
			return 2;
		}
		r = ign_config_render(&f, bc->doc, &br, &bpl);
		if (r < 0) {
			if (a->offline && r == -EOPNOTSUPP)
				return -EREMOTE;
			prov_log_problems(&bpl, bc->raw);
			return r == -EINVAL ? 2 : 1;
		}
		r = ign_config_merge(merged, br, &m);
		json_decref(br);
		if (r < 0)
			return log_error_errno(r, "merging %s", bp), 1;
		json_decref(merged);
		merged = m;
		log_info("base config %s merged", bp);
	}
	json_t *final = NULL;
	r = ign_config_merge(merged, rendered, &final);
	if (r < 0)
		return log_error_errno(r, "merging the user config"), 1;
	json_decref(merged);
	merged = final;
	(void)json_object_set_new(json_object_get(merged, "ignition"), "version",
				  json_string("3.6.0"));
	r = ign_config_validate(merged, IGN_V3_LAST, &pl);
	if (r < 0 && r != -ENOMEM) {
		prov_log_problems(&pl, NULL);
		log_error("the merged config is invalid");
		return 2;
	}
	ret->merged = TAKE_PTR(merged);
	ret->origin = TAKE_PTR(origin);
	(void)ctx;
	return 0;
}

json_t *prov_config_result_info(const struct prov_config *c, unsigned stages)
{
	struct timespec ts;
	json_t *st = json_array();
	for (int i = 0; i < _PROV_STAGE_MAX; i++)
		if (stages & (1u << i))
			(void)json_array_append_new(st, json_string(prov_stage_to_string(i)));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return json_pack(
		"{s:s, s:s?, s:s?, s:s?, s:o, s:I}", "version", flatctl_version(), "spec",
		c->version[0] ? c->version : NULL, "translatedFrom",
		c->translated[0] ? c->translated : NULL, "configSHA512",
		c->sha512[0] ? c->sha512 : NULL, "stages", st, "startedUsec",
		(json_int_t)((uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u));
}

/* --- plan and apply ------------------------------------------------------------------------ */

/* A copy of a rendered config safe to print: password hashes, header values, data: payloads,
 * clevis configs and URL userinfo/queries replaced (cli.md: nothing that can hold a secret). */
static void redact(json_t *v, const char *key)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		void *tmp;
		json_object_foreach_safe(v, tmp, k, c)
		{
			if (json_is_string(c) &&
			    (!strcmp(k, "passwordHash") || !strcmp(k, "config") ||
			     (!strcmp(k, "value") && key && !strcmp(key, "httpHeaders"))))
				(void)json_object_set_new(v, k, json_string("<redacted>"));
			else if (json_is_string(c) && !strcmp(k, "source")) {
				const char *s = json_string_value(c);
				char buf[200];
				if (!strncmp(s, "data:", 5)) {
					_cleanup_free_ char *d = NULL;
					size_t n = 0;
					if (ign_data_url_decode(s, &d, &n) >= 0)
						snprintf(buf, sizeof(buf),
							 "data:<redacted: %zu bytes>", n);
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
		json_array_foreach(v, i, c) redact(c, key);
	}
}

static void print_items(FILE *f, json_t *items)
{
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		const char *d = json_string_value(json_object_get(it, "detail"));
		_cleanup_free_ char *path =
			str_escape(json_string_value(json_object_get(it, "path")));
		_cleanup_free_ char *det = str_escape(d ? d : "");
		fprintf(f, "%s %s %s%s%s\n", json_string_value(json_object_get(it, "op")),
			json_string_value(json_object_get(it, "kind")), path ? path : "",
			det && det[0] ? " " : "", det ? det : "");
	}
}

static unsigned parse_stages(struct provision_args *pa, int *ret_err)
{
	unsigned mask = 0;
	*ret_err = 0;
	if (!pa->stage)
		return PROV_STAGES_ALL;
	_cleanup_free_ char *copy = strdup(pa->stage);
	char *save = NULL;
	if (!copy) {
		*ret_err = -ENOMEM;
		return 0;
	}
	for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		enum prov_stage st = prov_stage_from_string(s);
		if (st < 0) {
			*ret_err =
				args_usage_error(pa->a,
						 "unknown stage '%s' (fetch-offline, fetch, kargs, "
						 "disks, mount, files, umount)",
						 s);
			return 0;
		}
		mask |= 1u << st;
	}
	return mask;
}

static int write_report(const char *path, bool success, const struct prov_config *c, json_t *items,
			struct problem_list *pl)
{
	json_auto_t *errs = json_array();
	for (size_t i = 0; pl && i < pl->n; i++)
		if (pl->item[i].severity == PROBLEM_ERROR) {
			_cleanup_free_ char *disp = fjson_pointer_to_display(
				c ? c->merged : NULL, pl->item[i].where ? pl->item[i].where : "");
			(void)json_array_append_new(errs, json_pack("{s:s, s:s}", "path",
								    disp ? disp : "$", "message",
								    pl->item[i].message));
		}
	json_auto_t *doc =
		json_pack("{s:b, s:s, s:s?, s:s?, s:O, s:O?}", "success", success, "version",
			  flatctl_version(), "source", c ? c->origin : NULL, "configSHA512",
			  c && c->sha512[0] ? c->sha512 : NULL, "errors", errs, "plan", items);
	if (!doc)
		return -ENOMEM;
	_cleanup_free_ char *text = json_dumps(doc, JSON_INDENT(2));
	if (!text)
		return -ENOMEM;
	_cleanup_close_ int fd =
		open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return -errno;
	int r = fs_write_all(fd, text, strlen(text));
	return r < 0 ? r : fs_write_all(fd, "\n", 1);
}

/* Provisioning is a first-boot act: a root with a result file is refused without --force. */
static int check_provisioned(int root_fd, bool force)
{
	struct fs_resolved r = {};
	int k = fs_resolve(root_fd, PROV_RESULT_PATH, &r);
	bool exists = k >= 0 && r.exists;
	fs_resolved_release(&r);
	if (k < 0 && k != -ENOENT && k != -ENOTDIR)
		return log_error_errno(k, "checking '%s'", PROV_RESULT_PATH), 1;
	if (!exists)
		return 0;
	if (!force) {
		log_error(
			"this root was provisioned already (%s exists): provisioning is a first-boot "
			"act; pass --force to run again",
			PROV_RESULT_PATH);
		return 2;
	}
	log_warning("provisioning ran on this root before; running again (--force): unexpected "
		    "results are possible");
	return 0;
}

static int do_apply(struct provision_args *pa)
{
	_cleanup_close_ int root_fd = -1, lock = -1;
	_cleanup_(prov_config_release) struct prov_config c = {};
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(prov_outcome_release) struct prov_outcome out = {};
	int r, err;

	unsigned stages = parse_stages(pa, &err);
	if (err < 0)
		return err;
	/* the running system is only provisioned when asked by name, never by a bare command */
	if (!pa->dry_run && !pa->ctx->root_given && !pa->config && !pa->platform)
		return args_usage_error(pa->a, "provisioning the running system (no --root): name the "
					       "config (--config) or the platform (--platform)");
	root_fd = fs_root_open(pa->ctx->root);
	if (root_fd < 0)
		return log_error_errno(root_fd, "opening the root '%s'", pa->ctx->root);
	if (pa->devices_given < 0)
		return args_usage_error(pa->a, "--devices takes strict or skip");

	if (!pa->dry_run) {
		lock = prov_lock(root_fd);
		if (lock == -EBUSY) {
			log_error("another run is provisioning '%s'", pa->ctx->root);
			return 75;
		}
		if (lock < 0)
			return log_error_errno(lock, "locking the root '%s'", pa->ctx->root);
	}
	/* an interrupted run is rolled back first */
	r = prov_recover(root_fd, pa->dry_run, &pl);
	if (r < 0) {
		prov_log_problems(&pl, NULL);
		log_error("an interrupted run cannot be rolled back: its journal is kept");
		return 1;
	}
	if (r > 0)
		log_notice(pa->dry_run
				   ? "an interrupted run left a journal: the next run rolls it back"
				   : "rolled back an interrupted run");
	problem_list_release(&pl);

	r = check_provisioned(root_fd, pa->force);
	if (r)
		return r;

	struct prov_acquire a = { .root_fd = root_fd,
				  .config = pa->config,
				  .platform = pa->platform,
				  .timeout_usec = pa->fetch_timeout * 1000000ULL };
	r = prov_config_acquire(pa->ctx, &a, &c);
	if (r != 0) {
		if (pa->report)
			(void)write_report(pa->report, false, NULL, NULL, NULL);
		return r == -EREMOTE ? 1 : r;
	}

	struct ign_fetcher f;
	prov_fetcher_init(&f, root_fd, pa->fetch_timeout * 1000000ULL);
	f.ignition = json_object_get(c.merged, "ignition");
	json_auto_t *info = prov_config_result_info(&c, stages);
	struct prov_options o = {
		.root_fd = root_fd,
		.stages = stages,
		.dry_run = pa->dry_run,
		.devices = pa->devices_given ? pa->devices : PROV_DEVICES_SKIP,
		.fetcher = &f,
		.result = info,
		.user_config_provided = c.user_provided,
		.device_map = pa->device_map,
		.n_device_map = pa->n_device_map,
	};
	/* the root of the running system is strict: its devices are real */
	if (!pa->devices_given && !pa->ctx->root_given)
		o.devices = PROV_DEVICES_STRICT;
	r = prov_run(&o, c.merged, &out, &pl);

	if (pa->dry_run) {
		json_auto_t *shown = json_deep_copy(c.merged);
		redact(shown, NULL);
		prov_log_problems(&pl, c.merged);
		if (pa->ctx->json) {
			json_auto_t *doc =
				json_pack("{s:s?, s:s?, s:O, s:O, s:b, s:b}", "source", c.origin,
					  "platform", ign_platform_to_string(c.platform), "config",
					  shown, "plan", out.items, "wouldFail", r < 0,
					  "rebootRequired", out.reboot_required);
			(void)json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
			fputc('\n', stdout);
		} else {
			printf("# config (rendered, merged, secrets redacted)\n");
			(void)json_dumpf(shown, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
			printf("\n# plan\n");
			print_items(stdout, out.items);
		}
		return r == -ENOMEM ? 1 : r < 0 ? 1 : 0;
	}
	prov_log_problems(&pl, c.merged);
	if (pa->report) {
		int k = write_report(pa->report, r >= 0, &c, out.items, &pl);
		if (k < 0)
			log_warning_errno(k, "writing the report '%s'", pa->report);
	}
	if (r == -ENOTRECOVERABLE) {
		log_error(
			"the failed run could not be rolled back: the journal is kept, the next run "
			"rolls it back");
		return 1;
	}
	if (r < 0 && out.disks_changed) {
		log_error("the run failed after the disks stage had changed a disk: those changes "
			  "(listed above) stay; the root is as it was and nothing stays mounted");
		return 1;
	}
	if (r < 0) {
		log_error("nothing was changed%s",
			  r == -EINVAL ? ": the plan failed" : ": rolled back");
		return 1;
	}
	if (pa->ctx->verbosity > 0)
		print_items(stdout, out.items);
	log_notice("provisioned '%s': %u change%s%s", pa->ctx->root, out.steps,
		   out.steps == 1 ? "" : "s",
		   out.reboot_required ? "; kernel arguments changed: reboot to use them" : "");
	return 0;
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

	if (ctx->invoked_as && !strcmp(ctx->invoked_as, "ignition"))
		return cmd_provision_ignition(argc, argv, ctx);
	r = args_init(&a, argc, argv, provision_opts, "[OPTIONS] [validate FILE|-]", ctx, 0);
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
		case OPT_FORCE:
			pa.force = true;
			break;
		case OPT_STAGE:
			pa.stage = a.optarg;
			break;
		case OPT_REPORT:
			pa.report = a.optarg;
			break;
		case OPT_DEVICES:
			if (!strcmp(a.optarg, "strict"))
				pa.devices = PROV_DEVICES_STRICT, pa.devices_given = 1;
			else if (!strcmp(a.optarg, "skip"))
				pa.devices = PROV_DEVICES_SKIP, pa.devices_given = 1;
			else
				return args_usage_error(
					&a, "--devices takes strict or skip, not '%s'", a.optarg);
			break;
		case OPT_DEVICE: {
			char *eq = strchr(a.optarg, '=');
			struct prov_device_map *m = &pa.device_map[pa.n_device_map];
			if (pa.n_device_map == ARRAY_SIZE(pa.device_map))
				return args_usage_error(&a, "--device: at most %zu devices",
							ARRAY_SIZE(pa.device_map));
			if (eq)
				*eq = 0;
			m->cfg = a.optarg;
			m->path = eq ? eq + 1 : a.optarg;
			if (m->cfg[0] != '/' || !m->path[0])
				return args_usage_error(&a,
							"--device takes CFG=PATH or PATH, CFG an "
							"absolute device path of the config");
			pa.n_device_map++;
			break;
		}
		case OPT_FETCH_TIMEOUT:
			r = args_parse_uint(&a, "--fetch-timeout", a.optarg, 86400,
					    &pa.fetch_timeout);
			if (r < 0)
				return r;
			break;
		}
	}
	if (r < 0)
		return r;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) == 0)
		return do_apply(&pa);
	return args_dispatch_verb(&a, provision_verbs, NULL, args_rest_count(&a), args_rest(&a),
				  &pa);
}
