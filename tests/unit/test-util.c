/* SPDX-License-Identifier: MIT */
/* tests/unit/test-util.c - problem lists, logging prefix, root-relative files, spawn_run,
 * escaping. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "util/buf.h"
#include "util/escape.h"
#include "util/host.h"
#include "util/problem.h"
#include "util/spawn.h"

TEST(problem_add_returns_errno_and_keeps_location)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(problem_add(&p, -EINVAL, "/storage/files/0/path", "must be absolute"), EINVAL);
	ASSERT_EQ(problem_warn(&p, "/x", "unused key '%s'", "y"), 0);
	ASSERT_EQ(p.n, 2);
	ASSERT_STREQ(p.item[0].where, "/storage/files/0/path");
	ASSERT_STREQ(p.item[1].message, "unused key 'y'");
	ASSERT_EQ(problem_count(&p, PROBLEM_ERROR), 1);
	ASSERT_TRUE(problem_has_errors(&p));
}

TEST(host_argv_has_root)
{
	const char *a1[] = { "flatctl", "--root", "/r", "status", NULL };
	const char *a2[] = { "flatctl", "lock", "--root=/r", "status", NULL };
	const char *a3[] = { "locksmithctl", "-root", "/r", "status", NULL };
	const char *a4[] = { "flatctl", "status", "--", "--root", NULL };
	const char *a5[] = { "flatctl", "--rooted", "root", "-r", NULL };
	ASSERT_TRUE(host_argv_has_root(4, (char *const *)a1));
	ASSERT_TRUE(host_argv_has_root(4, (char *const *)a2));
	ASSERT_TRUE(host_argv_has_root(4, (char *const *)a3));
	ASSERT_FALSE(host_argv_has_root(4, (char *const *)a4));
	ASSERT_FALSE(host_argv_has_root(4, (char *const *)a5));
}

TEST(host_isolate_sets_utc_once)
{
	(void)unsetenv("TZ");
	ASSERT_FALSE(host_tz_was_set());
	host_isolate();
	ASSERT_STREQ(getenv("TZ"), ":");
	ASSERT_FALSE(host_tz_was_set());
	time_t t = 86400 * 365;
	struct tm tm;
	ASSERT_TRUE(localtime_r(&t, &tm) != NULL);
	ASSERT_EQ(tm.tm_hour, 0);
	ASSERT_EQ(tm.tm_gmtoff, 0);
	/* a second call changes nothing */
	(void)setenv("TZ", "Europe/Berlin", 1);
	host_isolate();
	ASSERT_STREQ(getenv("TZ"), "Europe/Berlin");
}

TEST(problem_add_null_list)
{
	ASSERT_ERR(problem_add(NULL, -EIO, NULL, "x"), EIO);
}

TEST(escape_controls_c1_bidi_and_bad_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "ok-1.2 /usr/x ü€😀", "ok-1.2 /usr/x ü€😀" },
		{ "a\033[2Jb\n", "a\\x1b[2Jb\\x0a" },
		{ "t\tr\r", "t\\x09r\\x0d" },
		{ "del\x7f", "del\\x7f" },
		{ "nel\xc2\x85x", "nel\\xc2\\x85x" },          /* U+0085 NEL */
		{ "csi\xc2\x9b", "csi\\xc2\\x9b" },            /* U+009B CSI */
		{ "nbsp\xc2\xa0", "nbsp\xc2\xa0" },             /* U+00A0 is text */
		{ "ls\xe2\x80\xa8ps\xe2\x80\xa9", "ls\\xe2\\x80\\xa8ps\\xe2\\x80\\xa9" },
		{ "rlo\xe2\x80\xae", "rlo\\xe2\\x80\\xae" },    /* U+202E */
		{ "fsi\xe2\x81\xa8", "fsi\\xe2\\x81\\xa8" },    /* U+2068 */
		{ "raw\x85\x9b", "raw\\x85\\x9b" },             /* C1 as bare bytes: not UTF-8 */
		{ "over\xc0\x8a", "over\\xc0\\x8a" },           /* overlong newline */
		{ "sur\xed\xa0\x80", "sur\\xed\\xa0\\x80" },    /* a surrogate */
		{ "cut\xe2\x82", "cut\\xe2\\x82" },
		{ "back\\x0a", "back\\x0a" },                   /* backslashes pass: idempotent */
		{ "", "" },
	};
	char buf[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *e = str_escape(cases[i].in);
		ASSERT_STREQ(e, cases[i].out);
		ASSERT_STREQ(str_escape_buf(cases[i].in, buf, sizeof(buf)), cases[i].out);
		ASSERT_EQ(str_needs_escape(cases[i].in), strcmp(cases[i].in, cases[i].out) != 0);
		_cleanup_free_ char *twice = str_escape(e);
		ASSERT_STREQ(twice, e);
	}
	_cleanup_free_ char *n = str_escape(NULL);
	ASSERT_STREQ(n, "");
	ASSERT_STREQ(str_escape_buf(NULL, buf, sizeof(buf)), "");
	/* a short buffer ends before the first piece that does not fit */
	ASSERT_STREQ(str_escape_buf("\xff", buf, 4), "");
	ASSERT_STREQ(str_escape_buf("ab\ncd", buf, 6), "ab");
	ASSERT_STREQ(str_escape_buf("ab\ncd", buf, 7), "ab\\x0a");
	ASSERT_STREQ(str_escape_buf("a€", buf, 4), "a");
	ASSERT_STREQ(str_escape_buf("a€", buf, 5), "a€");
}

TEST(fs_stays_inside_root)
{
	_cleanup_free_ char *dir = unit_mktree("util");
	ASSERT_NOT_NULL(dir);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	ASSERT_OK(fs_mkdir_p(root, "/etc/flatcar", 0755));
	ASSERT_OK(fs_write_atomic(root, "/etc/flatcar/update.conf", "GROUP=beta\n", 11, 0644));
	_cleanup_free_ char *data = NULL;
	size_t n;
	ASSERT_OK(fs_read_file(root, "etc/flatcar/update.conf", 1024, &data, &n));
	ASSERT_EQ(n, 11);
	ASSERT_STREQ(data, "GROUP=beta\n");
	/* ".." and absolute symlinks resolve inside the root */
	free(data);
	data = NULL;
	ASSERT_OK(fs_read_file(root, "/../../../etc/flatcar/update.conf", 1024, &data, &n));
	char link[4096];
	snprintf(link, sizeof(link), "%s/escape", dir);
	ASSERT_OK(symlink("/etc/flatcar/update.conf", link));
	free(data);
	data = NULL;
	ASSERT_OK(fs_read_file(root, "escape", 1024, &data, &n));
	ASSERT_STREQ(data, "GROUP=beta\n");
	ASSERT_ERR(fs_read_file(root, "etc/flatcar/update.conf", 4, &data, &n), EFBIG);
	ASSERT_EQ(fs_exists(root, "/nope"), 0);
	ASSERT_OK(fs_unlink(root, "/escape"));
	ASSERT_OK(fs_unlink(root, "/etc/flatcar/update.conf"));
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

TEST(fs_pread_pwrite_all)
{
	char path[] = "/tmp/flatctl-test-fsio.XXXXXX";
	_cleanup_close_ int fd = mkstemp(path);
	ASSERT_OK(fd);
	unlink(path);
	char buf[64] = "0123456789", back[10];
	ASSERT_OK(fs_pwrite_all(fd, buf, 10, 4096));
	ASSERT_OK(fs_pread_all(fd, back, 10, 4096));
	ASSERT_TRUE(memcmp(back, buf, 10) == 0);
	ASSERT_OK(fs_pread_all(fd, back, 0, 1 << 20)); /* nothing asked, nothing read */
	ASSERT_ERR(fs_pread_all(fd, back, 10, 4100), EIO); /* meets the end of the file */
	ASSERT_ERR(fs_pwrite_all(-1, buf, 1, 0), EBADF);
}

/* A missing program is -ENOENT before anything starts, whatever emulates vfork. */
TEST(spawn_finds_programs_in_path)
{
	char dir[] = "/tmp/flatctl-test-spawn.XXXXXX";
	ASSERT_NOT_NULL(mkdtemp(dir));
	char noexec[64], path[128];
	snprintf(noexec, sizeof(noexec), "%s/tool", dir);
	_cleanup_close_ int fd = open(noexec, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	ASSERT_OK(fd);
	struct dbuf out = {};
	struct spawn_result res;
	char *missing[] = { (char *)"no-such-program-flatctl", NULL };
	char *tool[] = { (char *)"tool", NULL };
	char *echo[] = { (char *)"echo", (char *)"hi", NULL };
	snprintf(path, sizeof(path), "%s:/usr/bin:/bin", dir);
	ASSERT_OK(setenv("PATH", path, 1));
	ASSERT_ERR(spawn_run(NULL, missing, NULL, 0, 64, &out, &res), ENOENT);
	ASSERT_EQ(res.exit_status, -1);
	/* a file without x in an earlier directory is passed over, as execvp does */
	ASSERT_ERR(spawn_run(NULL, tool, NULL, 0, 64, &out, &res), ENOENT);
	ASSERT_ERR(spawn_run(noexec, tool, NULL, 0, 64, &out, &res), EACCES);
	ASSERT_ERR(spawn_run(dir, tool, NULL, 0, 64, &out, &res), EACCES);
	ASSERT_OK(spawn_run(NULL, echo, NULL, 0, 64, &out, &res));
	ASSERT_EQ(res.exit_status, 0);
	ASSERT_EQ(out.n, 3);
	ASSERT_TRUE(memcmp(out.p, "hi\n", 3) == 0);
	dbuf_release(&out);
	unlink(noexec);
	rmdir(dir);
}
