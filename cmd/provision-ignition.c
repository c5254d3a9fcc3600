/* SPDX-License-Identifier: MIT */
/* cmd/provision-ignition.c - the `ignition` link: Ignition's own flags, one stage per process
 * as Flatcar's initramfs units call it (flatcar/bootengine dracut/30ignition/ignition-*.service:
 * `ignition --root=/sysroot --platform=${PLATFORM_ID} --stage=files --log-to-stdout`), the
 * rendered config cached between the stages; see flatctl-provision(1), docs/provision.md §1.3,
 * docs/provision-apply.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "fs/fs.h"
#include "log/log.h"
#include "provision.h"
#include "util/cleanup.h"
#include "util/problem.h"

enum {
	OPT_PLATFORM = ARG_LONG_BASE,
	OPT_STAGE,
	OPT_CONFIG_CACHE,
	OPT_STATE_FILE,
	OPT_NEEDNET,
	OPT_FETCH_TIMEOUT,
	OPT_LOG_TO_STDOUT,
};

static const struct flat_option ignition_opts[] = {
	{ "platform", OPT_PLATFORM, ARG_REQ, "NAME", "current platform (required)" },
	{ "stage", OPT_STAGE, ARG_REQ, "STAGE",
	  "fetch-offline, fetch, kargs, disks, mount, files or umount (required)" },
	{ "config-cache", OPT_CONFIG_CACHE, ARG_REQ, "FILE",
	  "where the fetch stages cache the config (/run/ignition.json)" },
	{ "state-file", OPT_STATE_FILE, ARG_REQ, "FILE",
	  "where state is kept between stages (/run/ignition/state)" },
	{ "neednet", OPT_NEEDNET, ARG_REQ, "FILE",
	  "flag fetch-offline writes when the network is needed (/run/ignition/neednet)" },
	{ "fetch-timeout", OPT_FETCH_TIMEOUT, ARG_REQ, "DURATION",
	  "how long to retry the initial fetch (Go duration: 2m0s)" },
	{ "log-to-stdout", OPT_LOG_TO_STDOUT, ARG_NONE, NULL, "log to stdout, not the journal" },
	{},
};

/* A Go duration ("2m0s", "90s", "1h", "500ms") or plain seconds, in µs. */
static int parse_duration(const char *s, uint64_t *ret)
{
	uint64_t total = 0;
	char *end;
	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p;) {
		errno = 0;
		double v = strtod(p, &end);
		if (errno || end == p || v < 0)
			return -EINVAL;
		p = end;
		double mul;
		if (!*p && p == end && total == 0 && !strpbrk(s, "hmsuµn"))
			mul = 1e6;
		else if (!strncmp(p, "ms", 2))
			mul = 1e3, p += 2;
		else if (!strncmp(p, "us", 2))
			mul = 1, p += 2;
		else if (!strncmp(p, "ns", 2))
			mul = 1e-3, p += 2;
		else if (*p == 'h')
			mul = 3600e6, p++;
		else if (*p == 'm')
			mul = 60e6, p++;
		else if (*p == 's')
			mul = 1e6, p++;
		else
			return -EINVAL;
		total += (uint64_t)(v * mul);
	}
	*ret = total;
	return 0;
}

/* Write a host file atomically (outside the root: cache, state, neednet), parents made. */
static int write_host(const char *path, const char *data, size_t n, mode_t mode)
{
	_cleanup_free_ char *dir = strdup(path), *tmp = NULL;
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		for (char *p = dir + 1;; p++) {
			if (*p == '/' || !*p) {
				char c = *p;
				*p = 0;
				if (mkdir(dir, 0755) < 0 && errno != EEXIST)
					return -errno;
				if (!c)
					break;
				*p = c;
			}
		}
	}
	if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	_cleanup_close_ int fd =
		open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int r = fs_write_all(fd, data, n);
	if (r >= 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}

static json_t *read_json(const char *path, int *ret_err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	*ret_err = 0;
	if (fd < 0) {
		*ret_err = -errno;
		return NULL;
	}
	int r = fs_read_fd(fd, 64u << 20, &text, NULL);
	if (r < 0) {
		*ret_err = r;
		return NULL;
	}
	json_t *j = json_loads(text, 0, NULL);
	if (!j)
		*ret_err = -EBADMSG;
	return j;
}

static int save_json(const char *path, json_t *doc)
{
	_cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	return write_host(path, text, strlen(text), 0600);
}

struct ignition_args {
	const char *platform, *stage, *cache, *state, *neednet;
	uint64_t timeout_usec;
	bool log_to_stdout;
};

static int fetch_stage(struct flat_ctx *ctx, struct ignition_args *ia, int root_fd, bool offline,
		       json_t *state)
{
	_cleanup_(prov_config_release) struct prov_config c = {};
	if (!offline && access(ia->cache, F_OK) == 0) {
		log_info("config cached in %s already", ia->cache);
		return 0;
	}
	struct prov_acquire a = { .root_fd = root_fd,
				  .platform = ia->platform,
				  .timeout_usec = ia->timeout_usec,
				  .offline = offline };
	int r = prov_config_acquire(ctx, &a, &c);
	if (r == -EREMOTE) {
		/* Flatcar brings the network up when this flag exists, then runs the fetch stage */
		r = write_host(ia->neednet, "", 0, 0644);
		if (r < 0)
			return log_error_errno(r, "writing '%s'", ia->neednet), 1;
		log_notice("the config needs the network: wrote %s", ia->neednet);
		return 0;
	}
	if (r != 0)
		return 1;
	r = save_json(ia->cache, c.merged);
	if (r < 0)
		return log_error_errno(r, "writing the config cache '%s'", ia->cache), 1;
	json_t *fetched = json_pack("[{s:s, s:s?}]", "kind", c.user_provided ? "user" : "base",
				    "source", c.origin);
	(void)json_object_set_new(state, "fetchedConfigs", fetched);
	(void)json_object_set_new(
		state, "flatctl",
		json_pack("{s:s?, s:s?, s:s?, s:b}", "spec", c.version[0] ? c.version : NULL,
			  "translatedFrom", c.translated[0] ? c.translated : NULL, "configSHA512",
			  c.sha512[0] ? c.sha512 : NULL, "userConfigProvided", c.user_provided));
	log_info("config cached in %s", ia->cache);
	return 0;
}

static int run_stage(struct flat_ctx *ctx, struct ignition_args *ia, int root_fd,
		     enum prov_stage stage, json_t *state)
{
	int err;
	json_auto_t *config = read_json(ia->cache, &err);
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_(prov_outcome_release) struct prov_outcome out = {};
	_cleanup_close_ int lock = -1;
	if (!config) {
		log_error("no config in the cache '%s' (%s): the fetch stages run first", ia->cache,
			  strerror(-err));
		return 1;
	}
	lock = prov_lock(root_fd);
	if (lock < 0)
		return log_error_errno(lock, "locking the root '%s'", ctx->root), 1;
	int r = prov_recover(root_fd, false, &pl);
	if (r < 0) {
		prov_log_problems(&pl, NULL);
		log_error("an interrupted run cannot be rolled back: its journal is kept");
		return 1;
	}
	if (r > 0)
		log_notice("rolled back an interrupted run");
	problem_list_release(&pl);
	json_t *fl = json_object_get(state, "flatctl");
	struct prov_config c = { .user_provided =
					 json_is_true(json_object_get(fl, "userConfigProvided")) };
	snprintf(c.version, sizeof(c.version), "%s",
		 json_string_value(json_object_get(fl, "spec")) ?: "");
	snprintf(c.translated, sizeof(c.translated), "%s",
		 json_string_value(json_object_get(fl, "translatedFrom")) ?: "");
	snprintf(c.sha512, sizeof(c.sha512), "%s",
		 json_string_value(json_object_get(fl, "configSHA512")) ?: "");
	json_auto_t *info = prov_config_result_info(&c, 1u << stage);
	struct ign_fetcher f;
	prov_fetcher_init(&f, root_fd, ia->timeout_usec);
	f.ignition = json_object_get(config, "ignition");
	struct prov_options o = {
		.root_fd = root_fd,
		.stages = 1u << stage,
		.ignition_mode = true,
		.devices = PROV_DEVICES_STRICT,
		.fetcher = &f,
		.result = info,
		.user_config_provided = c.user_provided,
		.reboot_required_before = json_is_true(json_object_get(fl, "rebootRequired")),
	};
	if (stage == PROV_STAGE_FILES && json_is_array(json_object_get(fl, "storage")))
		(void)json_object_set(info, "storage", json_object_get(fl, "storage"));
	if (stage == PROV_STAGE_FILES && fs_exists(root_fd, PROV_RESULT_PATH) > 0)
		log_warning("Ignition has run on this system before: running again");
	r = prov_run(&o, config, &out, &pl);
	prov_log_problems(&pl, config);
	if (r < 0) {
		log_error("Ignition failed: stage %s: %s", prov_stage_to_string(stage),
			  r == -ENOTRECOVERABLE ? "the rollback failed too: the journal is kept"
			  : out.disks_changed	? "the disk changes listed above stay"
						: "nothing was changed");
		return 1;
	}
	/* what the disks and mount processes did goes into the files process's result file */
	json_t *done = json_object_get(info, "storage");
	if (json_array_size(done) && stage != PROV_STAGE_FILES) {
		if (!fl)
			(void)json_object_set_new(state, "flatctl", fl = json_object());
		json_t *acc = json_object_get(fl, "storage");
		if (!json_is_array(acc))
			(void)json_object_set_new(fl, "storage", acc = json_array());
		(void)json_array_extend(acc, done);
	}
	if (out.reboot_required) {
		if (!fl)
			(void)json_object_set_new(state, "flatctl", fl = json_object());
		(void)json_object_set_new(fl, "rebootRequired", json_true());
		log_notice(
			"kernel arguments changed: a reboot is required (flatctl never reboots)");
	}
	if (ctx->verbosity > 0) {
		size_t i;
		json_t *it;
		json_array_foreach(out.items, i, it)
			log_info("%s %s %s", json_string_value(json_object_get(it, "op")),
				 json_string_value(json_object_get(it, "kind")),
				 json_string_value(json_object_get(it, "path")));
	}
	return 0;
}

int cmd_provision_ignition(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	struct ignition_args ia = { .cache = "/run/ignition.json",
				    .state = "/run/ignition/state",
				    .neednet = "/run/ignition/neednet",
				    .timeout_usec = 120000000 };
	_cleanup_close_ int root_fd = -1;
	int r;

	r = args_init(&a, argc, argv, ignition_opts, "--platform NAME --stage STAGE [OPTIONS]", ctx,
		      0);
	if (r < 0)
		return log_error_errno(r, "parsing options");
	while ((r = args_next(&a)) > 0) {
		switch (r) {
		case OPT_PLATFORM:
			ia.platform = a.optarg;
			break;
		case OPT_STAGE:
			ia.stage = a.optarg;
			break;
		case OPT_CONFIG_CACHE:
			ia.cache = a.optarg;
			break;
		case OPT_STATE_FILE:
			ia.state = a.optarg;
			break;
		case OPT_NEEDNET:
			ia.neednet = a.optarg;
			break;
		case OPT_FETCH_TIMEOUT:
			if (parse_duration(a.optarg, &ia.timeout_usec) < 0)
				return args_usage_error(&a, "--fetch-timeout: not a duration: '%s'",
							a.optarg);
			break;
		case OPT_LOG_TO_STDOUT:
			ia.log_to_stdout = true;
			break;
		}
	}
	if (r < 0)
		return r;
	if (a.exit_now)
		return 0;
	if (args_rest_count(&a) > 0)
		return args_usage_error(&a, "unexpected argument '%s'", args_rest(&a)[0]);
	if (!ia.platform)
		return args_usage_error(&a, "'--platform' must be provided");
	if (!ia.stage)
		return args_usage_error(&a, "'--stage' must be provided");
	enum prov_stage stage = prov_stage_from_string(ia.stage);
	if (stage < 0)
		return args_usage_error(&a,
					"unknown stage '%s' (fetch-offline, fetch, kargs, disks, "
					"mount, files, umount)",
					ia.stage);
	if (ign_platform_from_string(ia.platform) < 0)
		return args_usage_error(&a, "unknown platform '%s' (one of " IGN_PLATFORM_NAMES ")", ia.platform);
	if (ia.log_to_stdout && dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
		return log_error_errno(-errno, "--log-to-stdout"), 1;
	log_set_prefix("ignition");
	/* Ignition logs what it does at info level */
	if (ctx->verbosity >= 0 && log_get_max_level() < LOG_INFO)
		log_set_max_level(LOG_INFO);
	log_info("flatctl %s (Ignition compatible), stage %s", flatctl_version(), ia.stage);

	root_fd = fs_root_open(ctx->root);
	if (root_fd < 0)
		return log_error_errno(root_fd, "opening the root '%s'", ctx->root), 1;
	int err;
	json_auto_t *state = read_json(ia.state, &err);
	if (!state && err != -ENOENT)
		return log_error_errno(err, "reading the state file '%s'", ia.state), 1;
	if (!state)
		state = json_object();
	if (stage == PROV_STAGE_FETCH_OFFLINE || stage == PROV_STAGE_FETCH)
		r = fetch_stage(ctx, &ia, root_fd, stage == PROV_STAGE_FETCH_OFFLINE, state);
	else
		r = run_stage(ctx, &ia, root_fd, stage, state);
	if (r != 0)
		return r;
	r = save_json(ia.state, state);
	if (r < 0)
		return log_error_errno(r, "writing the state file '%s'", ia.state), 1;
	log_info("Ignition finished successfully");
	return 0;
}
