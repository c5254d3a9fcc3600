/* SPDX-License-Identifier: MIT */
/* tests/unit/test-util.c - problem lists, logging prefix, root-relative files, spawn_run. */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "util/buf.h"
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

static char *mktree(void)
{
	char tmpl[] = "/tmp/flatctl-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

TEST(fs_stays_inside_root)
{
	_cleanup_free_ char *dir = mktree();
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
