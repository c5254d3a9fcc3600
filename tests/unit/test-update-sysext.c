/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-sysext.c - which extension payloads a machine requires and how names
 * match (lib/update/sysext.c; docs/update.md 6.7), on real trees in a temporary directory. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "update/sysext.h"
#include "util/problem.h"

/* "oem:qemu flatcar:docker ..." */
static void names(const struct update_ext_set *s, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < s->n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s:%s", i ? " " : "",
				      s->item[i].oem ? "oem" : "flatcar", s->item[i].name);
}

TEST(nothing_wanted_on_a_bare_root)
{
	_cleanup_free_ char *dir = unit_mktree("usysext");
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_ext_set_release) struct update_ext_set s = {};
	ASSERT_OK(root);
	ASSERT_OK(update_ext_wanted(root, true, &s, NULL));
	ASSERT_EQ(s.n, 0);
	ASSERT_NULL(s.oem_id);
	unit_rmtree(dir);
}

TEST(enabled_sysext_conf_comments_and_disables)
{
	_cleanup_free_ char *dir = unit_mktree("usysext");
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_ext_set_release) struct update_ext_set s = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	char buf[256];
	ASSERT_OK(root);
	ASSERT_OK(unit_put(root, UPDATE_ENABLED_SYSEXT_ETC,
		      "# mine\ndocker   # runtime\n-zfs\n  podman\tpython\nbad/name\ndocker\n"));
	/* "-" in the /usr file does not disable anything; /etc's -zfs removes the /usr entry */
	ASSERT_OK(unit_put(root, UPDATE_ENABLED_SYSEXT_USR, "zfs\n-podman\nincus#x\n"));
	ASSERT_OK(update_ext_wanted(root, true, &s, &p));
	names(&s, buf, sizeof(buf));
	ASSERT_STREQ(buf, "flatcar:docker flatcar:podman flatcar:python flatcar:incus");
	ASSERT_STREQ(s.item[0].package, "flatcar-docker.gz");
	ASSERT_EQ(p.n, 1);
	ASSERT_STREQ(p.item[0].where, UPDATE_ENABLED_SYSEXT_ETC);
	ASSERT_NOT_NULL(strstr(p.item[0].message, "line 5: ignored: 'bad/name'"));
	ASSERT_FALSE(problem_has_errors(&p));
	unit_rmtree(dir);
}

TEST(oem_wanted_when_listed_or_active)
{
	_cleanup_free_ char *dir = unit_mktree("usysext");
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	ASSERT_OK(unit_put(root, "/usr/share/oem/oem-release", "ID=azure\nVERSION_ID=2\n"));
	{
		/* an OEM without a sysext (neither listed nor active): not wanted */
		_cleanup_(update_ext_set_release) struct update_ext_set s = {};
		ASSERT_OK(update_ext_wanted(root, true, &s, NULL));
		ASSERT_STREQ(s.oem_id, "azure");
		ASSERT_STREQ(s.oem_dir, "/usr/share/oem");
		ASSERT_EQ(s.n, 0);
	}
	ASSERT_OK(unit_put(root, "/usr/share/oem/sysext/active-oem-azure", ""));
	{
		_cleanup_(update_ext_set_release) struct update_ext_set s = {};
		ASSERT_OK(update_ext_wanted(root, true, &s, NULL));
		ASSERT_EQ(s.n, 1);
		ASSERT_TRUE(s.item[0].oem);
		ASSERT_STREQ(s.item[0].package, "oem-azure.gz");
		ASSERT_FALSE(s.oem_listed);
	}
	{
		/* flatcar-update -O no */
		_cleanup_(update_ext_set_release) struct update_ext_set s = {};
		ASSERT_OK(update_ext_wanted(root, false, &s, NULL));
		ASSERT_EQ(s.n, 0);
	}
	/* /oem wins over /usr/share/oem, and a listed OEM needs no marker */
	ASSERT_OK(unit_put(root, "/oem/oem-release", "ID=qemu\n"));
	ASSERT_OK(unit_put(root, "/usr/share/flatcar/oems/qemu", ""));
	{
		_cleanup_(update_ext_set_release) struct update_ext_set s = {};
		ASSERT_OK(update_ext_wanted(root, true, &s, NULL));
		ASSERT_EQ(s.n, 1);
		ASSERT_STREQ(s.item[0].package, "oem-qemu.gz");
		ASSERT_STREQ(s.oem_dir, "/oem");
		ASSERT_TRUE(s.oem_listed);
	}
	/* an id that cannot be a file name: a warning, nothing wanted */
	ASSERT_OK(unit_put(root, "/oem/oem-release", "ID=../x\n"));
	{
		_cleanup_(update_ext_set_release) struct update_ext_set s = {};
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_OK(update_ext_wanted(root, true, &s, &p));
		ASSERT_EQ(s.n, 0);
		ASSERT_EQ(p.n, 1);
		ASSERT_STREQ(p.item[0].where, "/oem/oem-release");
	}
	unit_rmtree(dir);
}

TEST(names_match_with_the_test_prefix)
{
	struct update_ext e = { .package = (char *)"oem-qemu.gz", .dir_fd = -1 };
	ASSERT_TRUE(update_ext_matches(&e, "oem-qemu.gz"));
	ASSERT_TRUE(update_ext_matches(&e, "flatcar_test_update-oem-qemu.gz"));
	ASSERT_FALSE(update_ext_matches(&e, "myoem-qemu.gz"));
	ASSERT_FALSE(update_ext_matches(&e, "oem-qemu.gz.sig"));
	ASSERT_FALSE(update_ext_matches(&e, "x/oem-qemu.gz"));
	ASSERT_STREQ(update_ext_basename("/var/tmp/flatcar_test_update-flatcar-zfs.gz"),
		     "flatcar-zfs.gz");
}
