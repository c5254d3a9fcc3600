/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-engine.c - the update engine (lib/update/engine.c) against the real
 * loopback Omaha server (tests/servers/omaha.py), a GPT image made with sgdisk, payloads made
 * by lib/payload and keys made by openssl: whole cycles, the order of status changes, events,
 * cancel and resume, reset, and the daemon's known-bad payloads and payload backoff. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "payload/payload.h"
#include "tap.h"
#include "update/engine.h"
#include "update/state.h"
#include "util/problem.h"

#define IMG_SIZE (2u << 20)

static char tmpdir[128];
static char root_dir[256];
static int root_fd = -1;
static pid_t servers[8];
static unsigned n_servers;

static void teardown(void)
{
	for (unsigned i = 0; i < n_servers; i++) {
		(void)kill(servers[i], SIGTERM);
		(void)waitpid(servers[i], NULL, 0);
	}
	if (*tmpdir) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "# cleanup of %s failed\n", tmpdir);
	}
}

static const char *path(const char *name)
{
	static char buf[8][512];
	static unsigned i;
	char *p = buf[i++ % 8];
	snprintf(p, 512, "%s/%s", tmpdir, name);
	return p;
}

static int sh(const char *fmt, ...) _printf_(1, 2);
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A payload of image (size bytes of pattern `seed`, 0: zeros) signed with keyfile. */
static int make_payload(const char *out, uint64_t size, int seed, const char *keyfile)
{
	_cleanup_close_ int img = -1, o = -1, spool = -1;
	_cleanup_(crypto_key_freep) struct crypto_key *k = NULL;
	_cleanup_free_ char *pem = NULL;
	size_t n = 0;
	int r;

	if (seed)
		r = sh("head -c %llu /dev/urandom >'%s.img'", (unsigned long long)size, out);
	else
		r = sh("truncate -s %llu '%s.img'", (unsigned long long)size, out);
	if (r != 0)
		return -EIO;
	FILE *f = fopen(keyfile, "re");
	if (!f)
		return -errno;
	pem = malloc(1 << 16);
	n = pem ? fread(pem, 1, 1 << 16, f) : 0;
	fclose(f);
	if (!n)
		return -EIO;
	r = crypto_privkey_load_pem(pem, n, keyfile, &k, NULL);
	if (r < 0)
		return r;
	char name[600];
	snprintf(name, sizeof(name), "%s.img", out);
	img = open(name, O_RDONLY | O_CLOEXEC);
	o = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	spool = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (img < 0 || o < 0 || spool < 0)
		return -errno;
	const struct crypto_key *keys[] = { k };
	struct payload_pack_opts po = { .compress = seed ? PAYLOAD_COMPRESS_NONE : PAYLOAD_COMPRESS_BZIP2,
					.keys = keys, .n_keys = 1, .chunk_size = 256 << 10 };
	struct payload_pack_result res;
	return payload_pack(img, -1, o, spool, &po, &res, NULL);
}

/* omaha.py serving payload as version V; returns the port. */
static int start_omaha(const char *name, const char *payload, const char *config)
{
	char portfile[512], script[1024], log[512], getlog[512];
	const char *src = getenv("FLATCTL_SRC");

	snprintf(portfile, sizeof(portfile), "%s/%s.port", tmpdir, name);
	snprintf(log, sizeof(log), "%s/%s.log", tmpdir, name);
	snprintf(getlog, sizeof(getlog), "%s/%s.get", tmpdir, name);
	snprintf(script, sizeof(script), "%s/tests/servers/omaha.py", src && *src ? src : ".");
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3", script, "--port-file", portfile, "--payload", payload,
		       "--version", "4081.2.0", "--config", config, "--log", log, "--get-log",
		       getlog, (char *)NULL);
		_exit(127);
	}
	servers[n_servers++] = pid;
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(portfile, "re");
		if (f) {
			int port = -1;
			if (fscanf(f, "%d", &port) != 1)
				port = -1;
			fclose(f);
			return port;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "we");
	if (!f)
		return -errno;
	bool ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

static int put(const char *p, const char *text)
{
	return fs_write_atomic(root_fd, p, text, strlen(text), 0644);
}

static int use_server(int port)
{
	char conf[128];
	snprintf(conf, sizeof(conf), "SERVER=http://127.0.0.1:%d/v1/update/\n", port);
	return put("/etc/flatcar/update.conf", conf);
}

static int fresh_disk(void)
{
	/* USR-A (3) booted and good, USR-B (4) empty, as a fresh Flatcar disk */
	return sh("set -e; D='%s'; rm -f \"$D\"; truncate -s 40M \"$D\"; "
		  "sgdisk -o -n 3:2048:+16M -t 3:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 -c 3:USR-A "
		  "-A 3:set:48 -A 3:set:56 -n 4:0:+16M -t 4:5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 "
		  "-c 4:USR-B \"$D\" >/dev/null; rm -rf '%s/var' '%s/run'",
		  path("disk.img"), root_dir, root_dir) == 0
		       ? 0
		       : -EIO;
}

static bool setup(void)
{
	static int state;
	if (state)
		return state > 0;
	state = -1;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/flatctl-engine-XXXXXX");
	if (!mkdtemp(tmpdir))
		return false;
	atexit(teardown);
	snprintf(root_dir, sizeof(root_dir), "%s/root", tmpdir);
	if (sh("set -e; cd '%s'; exec 2>openssl.log; mkdir -p root/usr/share/flatcar "
	       "root/usr/share/update_engine root/etc/flatcar root/proc; "
	       "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem; "
	       "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.pem; "
	       "openssl pkey -in key.pem -pubout "
	       "-out root/usr/share/update_engine/update-payload-key.pub.pem",
	       tmpdir) != 0)
		return false;
	root_fd = fs_root_open(root_dir);
	if (root_fd < 0 ||
	    put("/usr/share/flatcar/release",
		"FLATCAR_RELEASE_VERSION=3975.2.1\nFLATCAR_RELEASE_BOARD=amd64-usr\n") < 0 ||
	    put("/etc/machine-id", "4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7\n") < 0 ||
	    put("/proc/cmdline", "root=LABEL=ROOT mount.usr=PARTLABEL=USR-A\n") < 0)
		return false;
	if (make_payload(path("good.gz"), IMG_SIZE, 1, path("key.pem")) < 0 ||
	    make_payload(path("untrusted.gz"), IMG_SIZE, 1, path("other.pem")) < 0 ||
	    make_payload(path("big.gz"), 20u << 20, 0, path("key.pem")) < 0)
		return false;
	state = 1;
	return true;
}

/* ---- a cycle with recording hooks ---- */

struct rec {
	enum update_status seen[64];
	unsigned n_seen;
	char messages[8192];
	uint64_t progress_calls;
	volatile int cancel;
	uint64_t cancel_at;         /* set cancel once this many bytes are held */
};

static void on_status(const struct update_snapshot *s, void *userdata)
{
	struct rec *r = userdata;
	if (r->n_seen < 64 && (r->n_seen == 0 || r->seen[r->n_seen - 1] != s->status))
		r->seen[r->n_seen++] = s->status;
}

static void on_progress(const char *v, uint64_t done, uint64_t total, void *userdata)
{
	struct rec *r = userdata;
	r->progress_calls++;
	if (r->cancel_at && done >= r->cancel_at)
		r->cancel = 1;
}

static void on_message(int level, const char *text, void *userdata)
{
	struct rec *r = userdata;
	size_t n = strlen(r->messages);
	snprintf(r->messages + n, sizeof(r->messages) - n, "%s\n", text);
}

static int open_disk(void *userdata, struct gpt_disk **ret)
{
	return gpt_disk_open(path("disk.img"), GPT_DISK_LOCK, ret, NULL);
}

static struct update_cycle_params params(enum update_mode mode, struct rec *r)
{
	*r = (struct rec){};
	return (struct update_cycle_params){
		.mode = mode, .root_fd = root_fd, .cancel = &r->cancel,
		.hooks = { .status = on_status, .progress = on_progress, .message = on_message,
			   .open_disk = open_disk, .userdata = r },
	};
}

static enum update_outcome run(const struct update_cycle_params *p, struct update_cycle_result *ret)
{
	_cleanup_(update_cycle_freep) struct update_cycle *c = NULL;
	if (update_cycle_new(p, &c) < 0)
		return UPDATE_OUTCOME_NONE;
	(void)update_cycle_run(c);
	*ret = *update_cycle_result(c);
	/* the strings die with the cycle */
	ret->server = ret->group = ret->current_version = ret->version = ret->partition = NULL;
	ret->payload_what = ret->reason = ret->failed_step = ret->detail = NULL;
	ret->response = NULL;
	return ret->outcome;
}

/* "3/2 13/1 ..." of the events the server logged, from line `from` on */
static void events(const char *log, unsigned from, char *buf, size_t size)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys\n"
		 "out=[]\n"
		 "for l in open(sys.argv[1]).readlines()[%u:]:\n"
		 "  for e in json.loads(l)[\"events\"]:\n"
		 "    out.append(e[\"eventtype\"]+\"/\"+e[\"eventresult\"]+(\"/\"+e[\"errorcode\"] if e.get(\"errorcode\") else \"\"))\n"
		 "print(\" \".join(out))' '%s'",
		 from, log);
	FILE *f = popen(cmd, "r");
	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		pclose(f);
	}
}

static unsigned lines(const char *file)
{
	FILE *f = fopen(file, "re");
	unsigned n = 0;
	int ch;
	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static struct update_state *load(void)
{
	struct update_state *s = NULL;
	return update_state_load(root_fd, 0, &s, NULL, NULL) >= 0 ? s : NULL;
}

TEST(check_then_apply_reports_every_status_and_event)
{
	struct update_cycle_result res;
	struct rec r;
	char ev[256];

	ASSERT_TRUE(setup());
	ASSERT_OK(fresh_disk());
	ASSERT_OK(write_file(path("good.json"), "{}"));
	int port = start_omaha("good", path("good.gz"), path("good.json"));
	ASSERT_TRUE(port > 0);
	ASSERT_OK(use_server(port));

	struct update_cycle_params p = params(UPDATE_MODE_CHECK, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_OFFERED);
	ASSERT_EQ(update_cycle_exit(&res), 0);
	events(path("good.log"), 0, ev, sizeof(ev));
	ASSERT_STREQ(ev, "3/2");

	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_INSTALLED);
	enum update_status want[] = { UPDATE_STATUS_CHECKING_FOR_UPDATE,
				      UPDATE_STATUS_UPDATE_AVAILABLE, UPDATE_STATUS_DOWNLOADING,
				      UPDATE_STATUS_VERIFYING, UPDATE_STATUS_FINALIZING,
				      UPDATE_STATUS_UPDATED_NEED_REBOOT };
	ASSERT_EQ(r.n_seen, ARRAY_SIZE(want));
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		ASSERT_EQ(r.seen[i], want[i]);
	ASSERT_TRUE(r.progress_calls > 0);
	ASSERT_NOT_NULL(strstr(r.messages, "fetched 2"));
	events(path("good.log"), 1, ev, sizeof(ev));
	ASSERT_STREQ(ev, "3/2 13/1 14/1 3/1");
	ASSERT_EQ(sh("set -e; D='%s'; s=$(sgdisk -i 4 \"$D\" | sed -n 's/^First sector: \\([0-9]*\\).*/\\1/p'); "
		     "dd if=\"$D\" of='%s' bs=512 skip=$s count=%u 2>/dev/null; cmp '%s.img' '%s'",
		     path("disk.img"), path("b.bin"), IMG_SIZE / 512, path("good.gz"), path("b.bin")),
		  0);

	_cleanup_(update_state_freep) struct update_state *s = load();
	struct update_staged st;
	struct update_snapshot snap;
	ASSERT_NOT_NULL(s);
	ASSERT_TRUE(update_state_get_staged(s, &st));
	ASSERT_STREQ(st.version, "4081.2.0");
	ASSERT_STREQ(st.partition, "USR-B");
	update_snapshot_from_state(s, &snap);
	ASSERT_STREQ(snap.new_version, "4081.2.0");
	char block[512];
	update_snapshot_format(&snap, block, sizeof(block));
	ASSERT_NOT_NULL(strstr(block, "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=4081.2.0\n"));

	/* staged: nothing to do */
	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_STAGED);
	ASSERT_EQ(update_cycle_exit(&res), 3);
	ASSERT_NOT_NULL(strstr(res.message, "already staged on USR-B"));

	/* reset undoes it, the second time there is nothing */
	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_TRUE(update_reset(&p, &res) & UPDATE_RESET_STAGED);
	ASSERT_NOT_NULL(strstr(res.message, "staged update 4081.2.0 discarded"));
	ASSERT_EQ(r.seen[r.n_seen - 1], UPDATE_STATUS_IDLE);
	ASSERT_EQ(update_reset(&p, &res), 0);
	ASSERT_STREQ(res.message, "nothing to reset: UPDATE_STATUS_IDLE");
}

TEST(cancel_during_download_keeps_the_part_and_resumes)
{
	struct update_cycle_result res;
	struct rec r;

	ASSERT_TRUE(setup());
	ASSERT_OK(fresh_disk());
	ASSERT_OK(write_file(path("stall.json"), "{\"stall_after\": 1048576}"));
	int port = start_omaha("stall", path("good.gz"), path("stall.json"));
	ASSERT_TRUE(port > 0);
	ASSERT_OK(use_server(port));

	struct update_cycle_params p = params(UPDATE_MODE_APPLY, &r);
	r.cancel_at = 1048576;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_CANCELLED);
	ASSERT_EQ(update_cycle_exit(&res), 0);
	_cleanup_(update_state_freep) struct update_state *s = load();
	struct update_pending pe;
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_IDLE);
	ASSERT_TRUE(update_state_get_pending(s, &pe));
	struct update_error e;
	ASSERT_FALSE(update_state_get_last_error(s, &e));
	struct stat st;
	char part[600];
	snprintf(part, sizeof(part), "%s%s", root_dir, UPDATE_PART_FILE);
	ASSERT_EQ(stat(part, &st), 0);
	ASSERT_EQ(st.st_size, 1048576);

	ASSERT_OK(write_file(path("stall.json"), "{}"));
	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_INSTALLED);
	ASSERT_NOT_NULL(strstr(r.messages, "(resumed at 1048576)"));
}

TEST(daemon_never_fetches_a_known_bad_payload_twice)
{
	struct update_cycle_result res;
	struct rec r;
	char ev[256];

	ASSERT_TRUE(setup());
	ASSERT_OK(fresh_disk());
	ASSERT_OK(write_file(path("bad.json"), "{}"));
	int port = start_omaha("bad", path("untrusted.gz"), path("bad.json"));
	ASSERT_TRUE(port > 0);
	ASSERT_OK(use_server(port));

	struct update_cycle_params p = params(UPDATE_MODE_APPLY, &r);
	p.daemon = true;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_FAILED);
	ASSERT_EQ(res.code, 18);
	ASSERT_EQ(update_cycle_exit(&res), -EIO);
	ASSERT_EQ(lines(path("bad.get")), 1);
	events(path("bad.log"), 0, ev, sizeof(ev));
	ASSERT_STREQ(ev, "3/2 13/1 14/1 3/0/18");

	/* offered again: no download, no event beyond the check's (the 3/0 went out today) */
	unsigned before = lines(path("bad.log"));
	p = params(UPDATE_MODE_APPLY, &r);
	p.daemon = true;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_DEFERRED);
	ASSERT_EQ(update_cycle_exit(&res), 3);
	ASSERT_EQ(lines(path("bad.get")), 1);
	events(path("bad.log"), before, ev, sizeof(ev));
	ASSERT_STREQ(ev, "3/2");
	_cleanup_(update_state_freep) struct update_state *s = load();
	ASSERT_NOT_NULL(s);
	ASSERT_EQ(update_state_status(s), UPDATE_STATUS_IDLE);
	ASSERT_EQ(update_state_bad_payload_count(s), 1);

	/* an interactive apply clears the list and tries again */
	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_FAILED);
	ASSERT_EQ(lines(path("bad.get")), 2);
}

TEST(daemon_payload_backoff_for_scheduled_checks_only)
{
	struct update_cycle_result res;
	struct rec r;
	char ev[256];

	ASSERT_TRUE(setup());
	ASSERT_OK(fresh_disk());
	ASSERT_OK(write_file(path("big.json"), "{\"payload_backoff\": true}"));
	int port = start_omaha("big", path("big.gz"), path("big.json"));
	ASSERT_TRUE(port > 0);
	ASSERT_OK(use_server(port));

	/* an image larger than USR-B: code 7, not a bad payload, but a failed attempt */
	struct update_cycle_params p = params(UPDATE_MODE_APPLY, &r);
	p.daemon = p.scheduled = true;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_FAILED);
	ASSERT_EQ(res.code, 7);
	_cleanup_(update_state_freep) struct update_state *s = load();
	struct update_backoff b;
	ASSERT_NOT_NULL(s);
	update_state_get_backoff(s, &b);
	ASSERT_EQ(b.payload_attempts, 1);
	ASSERT_TRUE(b.until >= (uint64_t)time(NULL) + 86400 - 6 * 3600 - 5);
	ASSERT_EQ(update_state_bad_payload_count(s), 0);

	unsigned before = lines(path("big.log"));
	p = params(UPDATE_MODE_APPLY, &r);
	p.daemon = p.scheduled = true;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_DEFERRED);
	events(path("big.log"), before, ev, sizeof(ev));
	ASSERT_STREQ(ev, "3/2 3/9/40");
	ASSERT_EQ(lines(path("big.get")), 1);

	/* AttemptUpdate (not scheduled) ignores the backoff (8.2) */
	p = params(UPDATE_MODE_APPLY, &r);
	p.daemon = true;
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_FAILED);
	ASSERT_EQ(res.code, 7);
	s = update_state_free(s);
	s = load();
	ASSERT_NOT_NULL(s);
	update_state_get_backoff(s, &b);
	ASSERT_EQ(b.payload_attempts, 2);
	ASSERT_TRUE(b.until >= (uint64_t)time(NULL) + 2 * 86400 - 6 * 3600 - 5);
}

TEST(ping_and_disabled)
{
	struct update_cycle_result res;
	struct rec r;

	ASSERT_TRUE(setup());
	ASSERT_OK(write_file(path("ping.json"), "{}"));
	int port = start_omaha("ping", path("good.gz"), path("ping.json"));
	ASSERT_TRUE(port > 0);
	ASSERT_OK(use_server(port));
	struct update_cycle_params p = params(UPDATE_MODE_PING, &r);
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_PINGED);
	ASSERT_EQ(sh("python3 -c 'import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); "
		     "assert r[\"ping\"] and not r[\"updatecheck\"] and not r[\"events\"], r' '%s'",
		     path("ping.log")),
		  0);

	ASSERT_OK(put("/etc/flatcar/update.conf", "SERVER=disabled\n"));
	p = params(UPDATE_MODE_APPLY, &r);
	ASSERT_OK(fresh_disk());
	ASSERT_EQ(run(&p, &res), UPDATE_OUTCOME_DISABLED);
	ASSERT_EQ(update_cycle_exit(&res), 3);
	ASSERT_STREQ(res.message, "updates are disabled (SERVER=disabled in /etc/flatcar/update.conf)");
}

