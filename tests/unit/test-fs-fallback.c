/* SPDX-License-Identifier: MIT */
/* tests/unit/test-fs-fallback.c - lib/fs without openat2(): a seccomp filter makes the syscall
 * fail with ENOSYS (as on kernels before 5.6 and under valgrind 3.19), so fs_open() takes its
 * userspace fallback, which must keep every path inside the root just the same. */
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "util/cleanup.h"

static int deny_openat2(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = ARRAY_SIZE(f), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -errno;
	return 0;
}

static int put(const char *dir, const char *rel, const char *text)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "we");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -errno;
}

static int link_in(const char *dir, const char *target, const char *rel)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return symlink(target, p) < 0 ? -errno : 0;
}

static int read_in(int root, const char *path, char **ret)
{
	free(*ret);
	*ret = NULL;
	return fs_read_file(root, path, 1024, ret, NULL);
}

TEST(fallback_keeps_paths_inside_the_root)
{
	char tmpl[] = "/tmp/flatctl-fsfb-XXXXXX";
	const char *dir = mkdtemp(tmpl);
	ASSERT_NOT_NULL(dir);
	/* a file outside the root that escapes would reach */
	char outside[4200];
	snprintf(outside, sizeof(outside), "%s-outside", dir);
	FILE *f = fopen(outside, "we");
	ASSERT_NOT_NULL(f);
	fputs("outside\n", f);
	fclose(f);

	ASSERT_OK(deny_openat2());
	ASSERT_TRUE(syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) < 0 && errno == ENOSYS);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	ASSERT_OK(fs_mkdir_p(root, "/etc/flatcar", 0755));
	ASSERT_OK(fs_write_atomic(root, "/etc/flatcar/update.conf", "GROUP=beta\n", 11, 0644));
	ASSERT_OK(put(dir, "etc/inside", "inside\n"));
	char rel_escape[4300];
	snprintf(rel_escape, sizeof(rel_escape), "../../../../../../%s", outside);
	ASSERT_OK(link_in(dir, "/etc/flatcar/update.conf", "abs"));
	ASSERT_OK(link_in(dir, "../../../../etc/inside", "etc/rel"));
	ASSERT_OK(link_in(dir, rel_escape, "escape"));
	ASSERT_OK(link_in(dir, outside, "escape-abs"));
	ASSERT_OK(link_in(dir, "/etc", "etcdir"));
	ASSERT_OK(link_in(dir, "loop", "loop"));

	_cleanup_free_ char *data = NULL;
	ASSERT_OK(read_in(root, "etc/flatcar/update.conf", &data));
	ASSERT_STREQ(data, "GROUP=beta\n");
	ASSERT_OK(read_in(root, "/../../../etc/flatcar/./update.conf", &data));
	ASSERT_STREQ(data, "GROUP=beta\n");
	ASSERT_OK(read_in(root, "abs", &data));
	ASSERT_STREQ(data, "GROUP=beta\n");
	ASSERT_OK(read_in(root, "/etc/rel", &data));
	ASSERT_STREQ(data, "inside\n");
	ASSERT_OK(read_in(root, "etcdir/flatcar//update.conf", &data));
	ASSERT_STREQ(data, "GROUP=beta\n");
	/* both escapes resolve inside the root, where the target does not exist */
	ASSERT_ERR(read_in(root, "escape", &data), ENOENT);
	ASSERT_ERR(read_in(root, "escape-abs", &data), ENOENT);
	ASSERT_ERR(read_in(root, "loop", &data), ELOOP);
	ASSERT_ERR(read_in(root, "etc/inside/x", &data), ENOTDIR);
	ASSERT_ERR(fs_open(root, "abs", O_RDONLY | O_NOFOLLOW, 0), ELOOP);
	/* a canonical directory path through a symlink: ELOOP, as openat2 says it */
	ASSERT_ERR(fs_open_canon_dir(root, "etcdir", O_PATH), ELOOP);
	ASSERT_ERR(fs_open_canon_dir(root, "etcdir/flatcar", O_PATH), ELOOP);
	int cfd = fs_open_canon_dir(root, "etc/flatcar", O_PATH);
	ASSERT_OK(cfd);
	close(cfd);
	/* O_PATH follows a final symlink too, inside the root */
	ASSERT_EQ(fs_exists(root, "escape-abs"), 0);
	ASSERT_EQ(fs_exists(root, "escape"), 0);
	ASSERT_EQ(fs_exists(root, "abs"), 1);
	ASSERT_EQ(fs_exists(root, "/etc/flatcar"), 1);
	ASSERT_EQ(fs_exists(root, "/nope"), 0);
	ASSERT_OK(fs_unlink(root, "/etc/flatcar/update.conf"));
	ASSERT_EQ(fs_exists(root, "/etc/flatcar/update.conf"), 0);

	char cmd[8600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, outside);
	ASSERT_EQ(system(cmd), 0);
}
