/* SPDX-License-Identifier: MIT */
/* tests/unit/test-provision.c - lib/provision without a root: the passwd-file parser and writer,
 * the kargs edit of Flatcar's helper, and fs_resolve() keeping paths inside a root. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "provision/passwd.h"
#include "provision/provision.h"
#include "tap.h"
#include "util/cleanup.h"

static const char PASSWD[] = "# comment\nroot:x:0:0:root:/root:/bin/bash\n+::::::\n"
			     "short:x:1\ncore:x:500:500:Flatcar Admin:/home/core:/bin/bash\n";

TEST(passwd_round_trip_keeps_every_byte)
{
	struct pw_file f = {};
	ASSERT_OK(pw_file_parse(PASSWD, strlen(PASSWD), 7, &f));
	ASSERT_EQ(f.n, 5);
	_cleanup_free_ char *out = pw_file_format(&f, NULL);
	ASSERT_STREQ(out, PASSWD);
	ASSERT_EQ(pw_file_find(&f, "core"), 4);
	ASSERT_EQ(pw_file_find(&f, "short"), -1); /* not an entry: kept as written */
	ASSERT_EQ(pw_file_find(&f, "+"), -1);
	pw_file_release(&f);
}

TEST(passwd_no_final_newline_and_empty)
{
	struct pw_file f = {};
	ASSERT_OK(pw_file_parse("a:x:1:1::/:/bin/sh", 18, 7, &f));
	_cleanup_free_ char *same = pw_file_format(&f, NULL);
	ASSERT_STREQ(same, "a:x:1:1::/:/bin/sh");
	const char *n[7] = { "b", "x", "2", "2", "", "/", "/bin/sh" };
	ASSERT_EQ(pw_file_add(&f, n), 1);
	_cleanup_free_ char *out = pw_file_format(&f, NULL);
	ASSERT_STREQ(out, "a:x:1:1::/:/bin/sh\nb:x:2:2::/:/bin/sh\n");
	pw_file_release(&f);
	ASSERT_OK(pw_file_parse("", 0, 4, &f));
	ASSERT_EQ(f.n, 0);
	pw_file_release(&f);
	ASSERT_ERR(pw_file_parse("a\0b", 3, 4, &f), EINVAL);
}

TEST(passwd_set_remove_only_touch_their_lines)
{
	struct pw_file f = {};
	ASSERT_OK(pw_file_parse(PASSWD, strlen(PASSWD), 7, &f));
	ASSERT_OK(pw_file_set(&f, 4, 6, "/bin/zsh"));
	ASSERT_ERR(pw_file_set(&f, 4, 4, "a:b"), EINVAL);
	ASSERT_ERR(pw_file_set(&f, 4, 4, "a\nb"), EINVAL);
	ASSERT_ERR(pw_file_set(&f, 2, 0, "x"), EINVAL); /* a kept line has no fields */
	pw_file_remove(&f, 1);
	_cleanup_free_ char *out = pw_file_format(&f, NULL);
	ASSERT_STREQ(
		out,
		"# comment\n+::::::\nshort:x:1\ncore:x:500:500:Flatcar Admin:/home/core:/bin/zsh\n");
	const char *bad[7] = { "x", "x", "1", "1", "", "/", "/bin/sh:" };
	ASSERT_ERR(pw_file_add(&f, bad), EINVAL);
	pw_file_release(&f);
}

TEST(group_member_lists)
{
	static const char G[] = "wheel:x:10:root,core\ndocker:x:233:\n";
	struct pw_file f = {};
	ASSERT_OK(pw_file_parse(G, strlen(G), 4, &f));
	ASSERT_EQ(pw_list_add(&f, 0, 3, "core"), 0);
	ASSERT_EQ(pw_list_add(&f, 1, 3, "core"), 1);
	ASSERT_EQ(pw_list_add(&f, 1, 3, "alice"), 1);
	ASSERT_EQ(pw_list_remove(&f, 0, 3, "root"), 1);
	ASSERT_EQ(pw_list_remove(&f, 0, 3, "nobody"), 0);
	ASSERT_TRUE(pw_list_has("a,bb,c", "bb"));
	ASSERT_FALSE(pw_list_has("a,bb,c", "b"));
	_cleanup_free_ char *out = pw_file_format(&f, NULL);
	ASSERT_STREQ(out, "wheel:x:10:core\ndocker:x:233:core,alice\n");
	pw_file_release(&f);
	unsigned long id;
	ASSERT_OK(pw_parse_id("65534", &id));
	ASSERT_EQ(id, 65534);
	ASSERT_ERR(pw_parse_id("", &id), EINVAL);
	ASSERT_ERR(pw_parse_id("-1", &id), EINVAL);
	ASSERT_ERR(pw_parse_id("12a", &id), EINVAL);
	ASSERT_ERR(pw_parse_id("99999999999", &id), EINVAL);
}

static int kargs(const char *text, const char *add, const char *del, char **ret, bool *changed)
{
	const char *a[1] = { add }, *d[1] = { del };
	bool imm;
	return prov_kargs_edit(text, a, add ? 1 : 0, d, del ? 1 : 0, ret, changed, &imm);
}

TEST(kargs_as_the_flatcar_helper)
{
	_cleanup_free_ char *out = NULL;
	bool changed;
	/* an empty grub.cfg gets one line */
	ASSERT_OK(kargs("", "quiet", NULL, &out, &changed));
	ASSERT_TRUE(changed);
	ASSERT_STREQ(out, "set linux_append=\"$linux_append quiet\"\n");
	free(out);
	out = NULL;
	/* present already: nothing */
	ASSERT_OK(
		kargs("set linux_append=\"$linux_append quiet\"\n", "quiet", NULL, &out, &changed));
	ASSERT_FALSE(changed);
	ASSERT_NULL(out);
	/* removed, other lines kept, a conditional line (indented) ignored */
	ASSERT_OK(kargs("if [ x ]; then\n  set linux_append=\"$linux_append keep=1\"\nfi\n"
			"set linux_append=\"$linux_append a b\" # tail\n",
			NULL, "a", &out, &changed));
	ASSERT_TRUE(changed);
	ASSERT_STREQ(out,
		     "if [ x ]; then\n  set linux_append=\"$linux_append keep=1\"\nfi\n # tail\n"
		     "set linux_append=\"$linux_append b\"\n");
	free(out);
	out = NULL;
	/* a file without a final newline still gets a line of its own */
	ASSERT_OK(kargs("set x=1", "y", NULL, &out, &changed));
	ASSERT_STREQ(out, "set x=1\nset linux_append=\"$linux_append y\"\n");
}

TEST(resolve_stays_in_the_root)
{
	char dir[] = "/tmp/test-provision.XXXXXX";
	ASSERT_NOT_NULL(mkdtemp(dir));
	_cleanup_close_ int root = -1;
	char p[256];
	snprintf(p, sizeof(p), "%s/etc", dir);
	ASSERT_OK(mkdir(p, 0755));
	snprintf(p, sizeof(p), "%s/etc/up", dir);
	ASSERT_OK(symlink("../../../../..", p));
	snprintf(p, sizeof(p), "%s/abs", dir);
	ASSERT_OK(symlink("/etc", p));
	snprintf(p, sizeof(p), "%s/loop", dir);
	ASSERT_OK(symlink("loop", p));
	root = fs_root_open(dir);
	ASSERT_OK(root);
	struct fs_resolved r = {};
	ASSERT_OK(fs_resolve(root, "/etc/up/etc/x/y", &r));
	ASSERT_STREQ(r.canon, "etc/x/y");
	ASSERT_EQ(r.missing, 4);
	ASSERT_FALSE(r.exists);
	fs_resolved_release(&r);
	ASSERT_OK(fs_resolve(root, "/abs/up", &r));
	ASSERT_STREQ(r.canon, "etc/up");
	ASSERT_TRUE(r.exists);
	ASSERT_TRUE(S_ISLNK(r.st.st_mode)); /* the final link is not followed */
	fs_resolved_release(&r);
	ASSERT_OK(fs_resolve(root, "/../../..", &r));
	ASSERT_STREQ(r.canon, "");
	fs_resolved_release(&r);
	ASSERT_ERR(fs_resolve(root, "/loop/x", &r), ELOOP);
	ASSERT_OK(fs_resolve(root, "/nope/../etc", &r));
	ASSERT_STREQ(r.canon, "etc");
	ASSERT_TRUE(r.exists);
	fs_resolved_release(&r);
	/* a canonical directory is opened without following a symlink */
	ASSERT_ERR(fs_open_canon_dir(root, "abs", O_PATH), ELOOP);
	int fd = fs_open_canon_dir(root, "etc", O_PATH);
	ASSERT_OK(fd);
	close(fd);
	_cleanup_close_ int top = open("/tmp", O_RDONLY | O_DIRECTORY);
	ASSERT_OK(fs_remove_tree(top, dir + 5));
	ASSERT_TRUE(access(dir, F_OK) < 0);
}
