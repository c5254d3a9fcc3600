/* SPDX-License-Identifier: MIT */
/* cmd/update-frontends.c - the update_engine_client and flatcar-update link names;
 * see docs/update.md 2.8. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <sys/inotify.h>
#include <time.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args/args.h"
#include "bus/bus.h"
#include "bus/update1.h"
#include "conf/conf.h"
#include "crypto/crypto.h"
#include "fs/fs.h"
#include "http/http.h"
#include "update/client.h"
#include "update/engine.h"
#include "update/state.h"
#include "update/sysext.h"
#include "util/problem.h"
#include "log/log.h"
#include "update.h"
#include "util/escape.h"

#define UPDATE_KEYS_MAX_CLI 64

enum ue_action {
	UE_NONE,
	UE_STATUS,
	UE_RESET_STATUS,
	UE_CHECK_FOR_UPDATE,
	UE_UPDATE,
	UE_WATCH,
};

static const struct {
	const char *name;
	enum ue_action action;
} ue_flags[] = {
	{ "status", UE_STATUS },
	{ "reset_status", UE_RESET_STATUS },
	{ "check_for_update", UE_CHECK_FOR_UPDATE },
	{ "update", UE_UPDATE },
	{ "watch_for_updates", UE_WATCH },
};

static void ue_help(void)
{
	printf("Usage: update_engine_client -FLAG\n"
	       "Compatible front end of 'flatctl update' (gflags syntax: -flag, --flag, -flag=true).\n\n"
	       "  -status          print LAST_CHECKED_TIME, PROGRESS, CURRENT_OP, NEW_VERSION, NEW_SIZE\n"
	       "  -reset_status    discard a staged or pending update (flatctl update reset)\n"
	       "  -update          start an update attempt and wait for it, printing -status every 5 s\n"
	       "  -check_for_update  start an update attempt and return at once\n"
	       "  -watch_for_updates print the status block whenever it changes, until killed\n"
	       "  -bus=system|user|none|ADDRESS  where the daemon is asked (system)\n"
	       "With a running 'flatctl update daemon' (or update_engine) the flags go to it over\n"
	       "D-Bus (com.coreos.update1); without one the work is done in this process.\n"
	       "\nSee flatctl-update(1).\n");
}

/* gflags: "-name", "--name", "-name=VALUE". Returns 0 and the name (and VALUE or NULL), or
 * -EINVAL when the argument is not a flag. */
static int parse_flag(const char *arg, char *name, size_t size, const char **ret_value)
{
	const char *p = arg;
	if (*p != '-')
		return -EINVAL;
	p++;
	if (*p == '-')
		p++;
	const char *eq = strchr(p, '=');
	size_t n = eq ? (size_t)(eq - p) : strlen(p);
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(name, p, n);
	name[n] = 0;
	*ret_value = eq ? eq + 1 : NULL;
	return 0;
}

/* A boolean flag's value: 1 on, 0 off, -EINVAL anything else. */
static int flag_bool(const char *value)
{
	if (!value || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
		return 1;
	if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
		return 0;
	return -EINVAL;
}

/* The daemon's answer to GetStatus as the five-line block; its strings are escaped, since the
 * version is a server's and the daemon on the bus may not be ours. */
static void format_bus_status(const struct bus_update1_status *st, char *buf, size_t size)
{
	char op[128], version[256];

	snprintf(buf, size,
		 "LAST_CHECKED_TIME=%" PRIi64 "\nPROGRESS=%f\nCURRENT_OP=%s\nNEW_VERSION=%s\n"
		 "NEW_SIZE=%" PRIi64 "\n",
		 st->last_checked_time, st->progress,
		 str_escape_buf(st->current_operation, op, sizeof(op)),
		 str_escape_buf(st->new_version, version, sizeof(version)), st->new_size);
}

/* -watch_for_updates without a daemon: the block again whenever the state says something else,
 * until killed; woken by inotify on the state directory, or once a second where that cannot be
 * watched (a reader without root). */
static int watch_status_file(struct flat_ctx *ctx)
{
	_cleanup_close_ int root_fd = fs_root_open(ctx->root ? ctx->root : "/");
	_cleanup_close_ int in = -1;
	char last[1024] = "", now[1024];

	if (root_fd >= 0) {
		_cleanup_close_ int dir = fs_open(root_fd, UPDATE_STATE_DIR, O_RDONLY | O_DIRECTORY, 0);
		char path[64];
		in = inotify_init1(IN_CLOEXEC);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", dir);
		if (in >= 0 && (dir < 0 || inotify_add_watch(in, path, IN_MOVED_TO | IN_CLOSE_WRITE) < 0)) {
			close(in);
			in = -1;
		}
	}
	for (;;) {
		int r = update_engine_status_text(ctx, now, sizeof(now));
		if (r < 0)
			return r;
		if (strcmp(now, last) != 0) {
			fputs(now, stdout);
			fflush(stdout);
			memcpy(last, now, sizeof(last));
		}
		if (in >= 0) {
			char ev[4096];
			if (read(in, ev, sizeof(ev)) < 0 && errno != EINTR)
				return -errno;
		} else
			(void)sleep(1);
	}
}

/* The bus update_engine_client talks on: -bus=, else the system bus. NULL: none reachable.
 * Under -root the system bus is only used when $DBUS_SYSTEM_BUS_ADDRESS names one (a test or a
 * chroot): the daemon on the host's bus serves another root. */
static sd_bus *client_bus(const struct flat_ctx *ctx, const char *which)
{
	enum bus_kind kind = BUS_SYSTEM;
	const char *address = NULL;
	sd_bus *bus = NULL;

	if (which && bus_parse(which, &kind, &address) < 0)
		return NULL;
	if (!which && ctx->root_given && !getenv("DBUS_SYSTEM_BUS_ADDRESS"))
		return NULL;
	if (kind == BUS_NONE || bus_open(kind, address, &bus) < 0)
		return NULL;
	return bus;
}

static int on_signal_print(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct bus_update1_status st;
	char buf[1024];
	if (bus_update1_read(m, &st) < 0)
		return 0;
	format_bus_status(&st, buf, sizeof(buf));
	fputs(buf, stdout);
	fflush(stdout);
	return 0;
}

/* -watch_for_updates with a daemon: the block now, then on every StatusUpdate. */
static int watch_bus(sd_bus *bus, const struct bus_update1_status *first)
{
	_cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
	char buf[1024];
	int r = bus_update1_watch(bus, on_signal_print, NULL, &slot);
	if (r < 0)
		return log_error_errno(r, "watching StatusUpdate");
	format_bus_status(first, buf, sizeof(buf));
	fputs(buf, stdout);
	fflush(stdout);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return log_error_errno(r, "reading the bus");
		if (r > 0)
			continue;
		r = sd_bus_wait(bus, UINT64_MAX);
		if (r < 0 && r != -EINTR)
			return log_error_errno(r, "waiting on the bus");
	}
}

/* -update with a daemon (2.8): AttemptUpdate, then the status block every 5 s until the attempt
 * is over; exit 1 when it recorded an error. */
static int update_bus(struct flat_ctx *ctx, sd_bus *bus)
{
	struct bus_update1_status st;
	char buf[1024], msg[512];
	uint64_t started = (uint64_t)time(NULL);
	bool busy = false;
	int r;

	r = bus_update1_call(bus, "AttemptUpdate", msg, sizeof(msg));
	if (r < 0)
		return log_fail(-EIO, "AttemptUpdate: %s", msg);
	for (;;) {
		r = bus_update1_get_status(bus, &st);
		if (r < 0)
			return log_error_errno(r, "GetStatus");
		format_bus_status(&st, buf, sizeof(buf));
		fputs(buf, stdout);
		fflush(stdout);
		bool idle = strcmp(st.current_operation, "UPDATE_STATUS_IDLE") == 0;
		bool staged = strcmp(st.current_operation, "UPDATE_STATUS_UPDATED_NEED_REBOOT") == 0;
		if (staged)
			return 0;
		if (idle && (busy || (uint64_t)st.last_checked_time >= started))
			break;
		busy = busy || !idle;
		(void)sleep(5);
	}
	/* an error recorded since we asked (the public status file: no root needed) */
	_cleanup_close_ int root_fd = fs_root_open(ctx->root ? ctx->root : "/");
	_cleanup_(update_state_freep) struct update_state *s = NULL;
	struct update_error e;
	if (root_fd >= 0 && update_state_load(root_fd, UPDATE_STATE_PUBLIC_OK, &s, NULL, NULL) >= 0 &&
	    update_state_get_last_error(s, &e) && e.time >= started) {
		log_fail(-EIO, "the update attempt failed: %s (%d): %s",
			 e.name ? e.name : update_error_code_to_string(e.code), e.code,
			 e.message ? e.message : "");
		return -EIO;
	}
	return 0;
}

static int engine_client(int argc, char **argv, struct flat_ctx *ctx)
{
	enum ue_action action = UE_NONE;
	const char *bus_flag = NULL;
	char name[64];

	log_set_prefix("flatctl update_engine_client");
	for (int i = 1; i < argc; i++) {
		const char *value = NULL;
		int on = parse_flag(argv[i], name, sizeof(name), &value);
		if (on >= 0 && strcmp(name, "bus") == 0) {
			enum bus_kind k;
			const char *addr;
			bus_flag = value ? value : i + 1 < argc ? argv[++i] : NULL;
			if (!bus_flag || bus_parse(bus_flag, &k, &addr) < 0) {
				fprintf(stderr, "flatctl update_engine_client: -bus takes system, user, "
						"none or an address\n");
				return -EINVAL;
			}
			continue;
		}
		if (on >= 0 && (strcmp(name, "root") == 0 || strcmp(name, "disk") == 0)) {
			/* flatctl's global options with a value, for tests and chroots (cli.md). */
			const char *val = value ? value : i + 1 < argc ? argv[++i] : NULL;
			if (!val) {
				fprintf(stderr, "flatctl update_engine_client: flag %s needs a value\n",
					argv[i]);
				return -EINVAL;
			}
			(void)args_apply_global(ctx, strcmp(name, "root") == 0 ? ARG_GLOBAL_ROOT
									: ARG_GLOBAL_DISK, val);
			continue;
		}
		if (on >= 0)
			on = flag_bool(value);
		if (on >= 0 && (strcmp(name, "help") == 0 || strcmp(name, "h") == 0)) {
			ue_help();
			return 0;
		}
		enum ue_action found = UE_NONE;
		if (on >= 0)
			for (size_t k = 0; k < sizeof(ue_flags) / sizeof(ue_flags[0]); k++)
				if (strcmp(ue_flags[k].name, name) == 0)
					found = ue_flags[k].action;
		if (found == UE_NONE) {
			fprintf(stderr, "flatctl update_engine_client: unknown flag %s\n", argv[i]);
			return -EINVAL;
		}
		if (on > 0 && action == UE_NONE)
			action = found;
	}

	/* a running daemon does the work (8.4); without one (no bus, nobody owns the name) it
	 * happens here */
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = action == UE_NONE ? NULL : client_bus(ctx, bus_flag);
	struct bus_update1_status st;
	char buf[1024], msg[512];
	bool daemon = bus && bus_update1_get_status(bus, &st) >= 0;

	switch (action) {
	case UE_STATUS:
		if (daemon) {
			format_bus_status(&st, buf, sizeof(buf));
			fputs(buf, stdout);
			return 0;
		}
		return update_print_engine_status(ctx);
	case UE_RESET_STATUS: {
		if (daemon) {
			int r = bus_update1_call(bus, "ResetStatus", msg, sizeof(msg));
			return r < 0 ? log_fail(-EIO, "ResetStatus: %s", msg) : 0;
		}
		int r = update_do_reset(ctx, 0);
		return r == 3 ? 0 : r;
	}
	case UE_CHECK_FOR_UPDATE:
		if (daemon) {
			/* as the real tool: start the attempt and return */
			int r = bus_update1_call(bus, "AttemptUpdate", msg, sizeof(msg));
			return r < 0 ? log_fail(-EIO, "AttemptUpdate: %s", msg) : 0;
		}
		__attribute__((fallthrough));
	case UE_UPDATE: {
		if (daemon)
			return update_bus(ctx, bus);
		/* No daemon answers: the in-process fallback is `update apply`, with the status
		 * block printed when it ends. Exit 0 when it ends staged or idle without an error, 1
		 * when the attempt recorded one (unlike the original, a failure is never "No update
		 * available"). */
		struct update_cmd uc = { .ctx = ctx };
		log_set_prefix("flatctl update");
		int r = update_verb_apply(0, NULL, &uc);
		(void)update_print_engine_status(ctx);
		if (r == 3)
			return 0;
		return r < 0 ? -EIO : r;
	}
	case UE_WATCH:
		if (daemon)
			return watch_bus(bus, &st);
		return watch_status_file(ctx);
	case UE_NONE:
	default:
		fprintf(stderr, "flatctl update_engine_client: no action given\n"
				"Try 'update_engine_client -help'.\n");
		return -EINVAL;
	}
}

/* ---- flatcar-update (2.8) ---- */

static void fu_help(void)
{
	printf("Usage: flatcar-update -V VERSION [-P PAYLOAD [-E EXTENSION]...] [-O yes|no] [--key FILE] [-A]\n"
	       "Install a Flatcar release now (flatctl update apply --payload).\n\n"
	       "  -V, --to-version V         required: the version to install\n"
	       "  -P, --to-payload FILE      install this local payload; otherwise download\n"
	       "                             RELEASE_SERVER/BOARD/V/flatcar_production_update.gz,\n"
	       "                             checked against the .sha256 file next to it\n"
	       "      --key FILE             trust this public key for this run\n"
	       "  -A, --disable-afterwards   after success set SERVER=disabled in /etc/flatcar/update.conf\n"
	       "  -E, --extension FILE       with -P: an extension payload (oem-ID.gz, flatcar-NAME.gz);\n"
	       "                             every extension this machine needs must be given\n"
	       "  -O, --oem-payloads yes|no  whether the OEM's extension is installed (default yes)\n"
	       "  -L, -M, --listen-port-1/2  accepted and ignored (no local server is needed)\n"
	       "  -D, -F, --force-dev-key, --force-flatcar-key   refused: use --key FILE\n"
	       "      --root DIR, --disk PATH  flatctl's global options\n"
	       "\nSee flatctl-update(1).\n");
}

/* 2.8 -A: SERVER=disabled in /etc/flatcar/update.conf, other lines kept, replaced atomically. */
static int disable_afterwards(struct flat_ctx *ctx)
{
	_cleanup_close_ int root_fd = fs_root_open(ctx->root ? ctx->root : "/");
	_cleanup_free_ char *old = NULL, *out = NULL;
	size_t n = 0, o = 0;
	int r;

	if (root_fd < 0)
		return log_error_errno(root_fd, "opening root '%s'", ctx->root);
	r = fs_read_file(root_fd, "/etc/flatcar/update.conf", 1u << 20, &old, &n);
	if (r < 0 && r != -ENOENT)
		return log_error_errno(r, "reading '/etc/flatcar/update.conf'");
	out = malloc(n + 32);
	if (!out)
		return log_fail(-ENOMEM, "out of memory");
	for (const char *line = old; line && *line;) {
		const char *end = strchrnul(line, '\n');
		const char *k = line;
		while (k < end && (*k == ' ' || *k == '\t'))
			k++;
		bool server = strncmp(k, "SERVER", 6) == 0 && (k[6] == '=' || k[6] == ' ' || k[6] == '\t');
		if (!server) {
			memcpy(out + o, line, (size_t)(end - line));
			o += (size_t)(end - line);
			out[o++] = '\n';
		}
		line = *end ? end + 1 : end;
	}
	o += (size_t)sprintf(out + o, "SERVER=disabled\n");
	r = fs_mkdir_p(root_fd, "/etc/flatcar", 0755);
	if (r >= 0)
		r = fs_write_atomic(root_fd, "/etc/flatcar/update.conf", out, o, 0644);
	if (r < 0)
		return log_error_errno(r, "writing '/etc/flatcar/update.conf'");
	return 0;
}

/* The .sha256 file published next to a release payload: its first word, 64 hex digits. */
static int fetch_sha256(struct flat_ctx *ctx, const char *url, char *ret, size_t size)
{
	_cleanup_(update_config_release) struct update_config cfg = {};
	_cleanup_(http_client_freep) struct http_client *http = NULL;
	_cleanup_(http_response_release) struct http_response resp = {};
	_cleanup_close_ int root_fd = fs_root_open(ctx->root ? ctx->root : "/");
	_cleanup_free_ char *su = NULL;
	int r;

	if (root_fd < 0)
		return log_error_errno(root_fd, "opening root '%s'", ctx->root);
	if (asprintf(&su, "%s.sha256", url) < 0)
		return log_fail(-ENOMEM, "out of memory");
	(void)update_config_load(root_fd, NULL, NULL, &cfg, NULL);
	r = update_http_new(&cfg, root_fd, false, &http);
	if (r < 0)
		return log_error_errno(r, "setting up HTTP");
	r = http_get(http, su, &resp);
	if (r < 0)
		return log_fail(r == -EAGAIN ? -EAGAIN : -EIO, "%s: %s", su,
				*resp.error ? resp.error : strerror(-r));
	size_t len = strspn(resp.body ? resp.body : "", "0123456789abcdefABCDEF");
	if (len != 64 || size < 65 || !resp.body)
		return log_fail(-EIO, "%s: no SHA-256 found", su);
	memcpy(ret, resp.body, 64);
	ret[64] = 0;
	return 0;
}

static void free_urls(char *(*urls)[32])
{
	for (size_t i = 0; i < 32; i++)
		free((*urls)[i]);
}

static int flatcar_update(int argc, char **argv, struct flat_ctx *ctx)
{
	enum { OPT_KEY = 0x100, OPT_ROOT, OPT_DISK };
	static const struct option opts[] = {
		{ "to-version", required_argument, NULL, 'V' },
		{ "to-payload", required_argument, NULL, 'P' },
		{ "extension", required_argument, NULL, 'E' },
		{ "oem-payloads", required_argument, NULL, 'O' },
		{ "listen-port-1", required_argument, NULL, 'L' },
		{ "listen-port-2", required_argument, NULL, 'M' },
		{ "force-dev-key", no_argument, NULL, 'D' },
		{ "force-flatcar-key", no_argument, NULL, 'F' },
		{ "disable-afterwards", no_argument, NULL, 'A' },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *version = NULL, *payload = NULL;
	const char *keys[UPDATE_KEYS_MAX_CLI];
	size_t n_keys = 0;
	struct update_ext_source ext[32];
	size_t n_ext = 0;
	bool disable = false, no_oem = false;
	int c;

	log_set_prefix("flatctl flatcar-update");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":V:P:E:O:L:M:DFAh", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			version = optarg;
			break;
		case 'P':
			payload = optarg;
			break;
		case 'E': {
			/* the Flatcar script's rule: the name says which extension it is */
			const char *b = strrchr(optarg, '/');
			b = b ? b + 1 : optarg;
			size_t n = strlen(b);
			if ((strncmp(b, "oem", 3) != 0 && strncmp(b, "flatcar", 7) != 0) || n < 2 ||
			    strcmp(b + n - 2, "gz") != 0) {
				fprintf(stderr, "flatctl flatcar-update: --extension expects files named "
						"oem-OEMID.gz or flatcar-NAME.gz (with possible "
						"'flatcar_test_update-' prefix), found: %s\n", optarg);
				return -EINVAL;
			}
			if (n_ext >= 32)
				return log_fail(-EINVAL, "too many --extension options");
			ext[n_ext++] = (struct update_ext_source){ .path = optarg };
			break;
		}
		case 'O':
			if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
				fprintf(stderr, "flatctl flatcar-update: -O takes yes or no\n");
				return -EINVAL;
			}
			no_oem = strcmp(optarg, "no") == 0;
			break;
		case 'L':
		case 'M':
			break;
		case 'D':
		case 'F':
			return log_fail(-EINVAL, "use --key FILE to trust an extra key for this run");
		case 'A':
			disable = true;
			break;
		case OPT_KEY:
			if (n_keys >= UPDATE_KEYS_MAX_CLI)
				return log_fail(-EINVAL, "too many --key options");
			keys[n_keys++] = optarg;
			break;
		case OPT_ROOT:
			ctx->root = optarg;
			break;
		case OPT_DISK:
			ctx->disk = optarg;
			break;
		case 'h':
			fu_help();
			return 0;
		case ':':
			fprintf(stderr, "flatctl flatcar-update: option '%s' needs an argument\n"
					"Try 'flatcar-update --help'.\n", argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr, "flatctl flatcar-update: unknown option '%s'\n"
					"Try 'flatcar-update --help'.\n", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flatctl flatcar-update: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!version) {
		fprintf(stderr, "flatctl flatcar-update: -V/--to-version is required\n"
				"Try 'flatcar-update --help'.\n");
		return -EINVAL;
	}
	if (n_ext && !payload) {
		fprintf(stderr, "flatctl flatcar-update: local extensions are only supported with "
				"--to-payload\n");
		return -EINVAL;
	}

	_cleanup_free_ char *url = NULL;
	_cleanup_(update_ext_set_release) struct update_ext_set want = {};
	_cleanup_(free_urls) char *ext_urls[32] = {};
	uint8_t ext_sha[32][32];
	char sha[65] = "";
	if (!payload) {
		_cleanup_(update_config_release) struct update_config cfg = {};
		_cleanup_close_ int root_fd = fs_root_open(ctx->root ? ctx->root : "/");
		_cleanup_(conf_release) struct conf upd = {};
		if (root_fd < 0)
			return log_error_errno(root_fd, "opening root '%s'", ctx->root);
		_cleanup_(problem_list_release) struct problem_list p = {};
		int r = update_config_load(root_fd, NULL, NULL, &cfg, &p);
		if (r < 0)
			return log_fail(r == -EINVAL ? -EINVAL : -EIO, "%s: %s",
					p.n && p.item[p.n - 1].where ? p.item[p.n - 1].where : "release",
					p.n ? p.item[p.n - 1].message : strerror(-r));
		(void)conf_load_update(&upd, root_fd, NULL);
		const char *base = conf_get(&upd, "RELEASE_SERVER");
		if (!base || !*base)
			base = "https://update.release.flatcar-linux.net";
		if (asprintf(&url, "%s%s%s/%s/flatcar_production_update.gz", base,
			     base[strlen(base) - 1] == '/' ? "" : "/",
			     cfg.board && *cfg.board ? cfg.board : "amd64-usr", version) < 0)
			return log_fail(-ENOMEM, "out of memory");
		r = fetch_sha256(ctx, url, sha, sizeof(sha));
		if (r < 0)
			return r;
		payload = url;
		/* docs/update.md 6.7: the extensions this machine needs, from the same directory,
		 * each checked against its .sha256 file too */
		_cleanup_(problem_list_release) struct problem_list pw = {};
		r = update_ext_wanted(root_fd, !no_oem, &want, &pw);
		if (r < 0)
			return log_fail(r == -ENOMEM ? r : -EIO, "%s: %s",
					pw.n && pw.item[pw.n - 1].where ? pw.item[pw.n - 1].where : "?",
					pw.n ? pw.item[pw.n - 1].message : strerror(-r));
		for (size_t i = 0; i < want.n && n_ext < 32; i++) {
			char hex[65];
			if (asprintf(&ext_urls[i], "%.*s%s", (int)(strrchr(url, '/') + 1 - url), url,
				     want.item[i].package) < 0)
				return log_fail(-ENOMEM, "out of memory");
			r = fetch_sha256(ctx, ext_urls[i], hex, sizeof(hex));
			if (r < 0)
				return r;
			if (crypto_hex_decode_exact(hex, ext_sha[i], 32) < 0)
				return log_fail(-EIO, "%s.sha256: no SHA-256 found", ext_urls[i]);
			ext[n_ext++] = (struct update_ext_source){ .path = ext_urls[i],
								   .sha256 = ext_sha[i] };
		}
	}

	log_set_prefix("flatctl update");
	struct update_cmd uc = { .ctx = ctx, .payload = payload, .version = version,
				 .sha256 = *sha ? sha : NULL, .keys = keys, .n_keys = &n_keys,
				 .extensions = ext, .n_extensions = n_ext, .no_oem = no_oem };
	int r = update_verb_apply(0, NULL, &uc);
	if (r == 0 && disable)
		r = disable_afterwards(ctx);
	return r;
}

int update_frontend_run(int argc, char **argv, struct flat_ctx *ctx)
{
	if (ctx->invoked_as && strcmp(ctx->invoked_as, "update_engine_client") == 0)
		return engine_client(argc, argv, ctx);
	if (ctx->invoked_as && strcmp(ctx->invoked_as, "flatcar-update") == 0)
		return flatcar_update(argc, argv, ctx);
	return -ENOENT;
}
