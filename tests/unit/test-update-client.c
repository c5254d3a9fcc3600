/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-client.c - configuration inputs and trusted keys of the update pipeline
 * (lib/update/client.c, lib/update/keys.c; docs/update.md 3). */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "tap.h"
#include "tree.h"
#include "update/client.h"
#include "update/keys.h"
#include "util/problem.h"

TEST(config_defaults_and_overrides)
{
	_cleanup_free_ char *dir = unit_mktree("uclient");
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_config_release) struct update_config c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_OK(root);
	ASSERT_OK(unit_put(root, "/usr/share/flatcar/release",
		      "FLATCAR_RELEASE_VERSION=3975.2.1\nFLATCAR_RELEASE_BOARD=amd64-usr\n"));
	ASSERT_OK(unit_put(root, "/usr/share/flatcar/update.conf", "SERVER=https://a.example/\nGROUP=beta\n"));
	ASSERT_OK(unit_put(root, "/etc/flatcar/update.conf", "GROUP = \"alpha\"\nbroken line\n"));
	ASSERT_OK(unit_put(root, "/etc/machine-id", "4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7\n"));
	ASSERT_OK(unit_put(root, "/usr/share/oem/oem-release", "ID=qemu\nVERSION_ID=1.2\n"));
	ASSERT_OK(update_config_load(root, NULL, NULL, &c, &p));
	ASSERT_STREQ(c.version, "3975.2.1");
	ASSERT_STREQ(c.board, "amd64-usr");
	ASSERT_STREQ(c.appid, UPDATE_DEFAULT_APPID);
	ASSERT_STREQ(c.server, "https://a.example/");
	ASSERT_STREQ(c.group, "alpha");
	ASSERT_FALSE(c.disabled);
	ASSERT_STREQ(c.machine_id, "4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7");
	ASSERT_STREQ(c.oem, "qemu");
	ASSERT_STREQ(c.oemversion, "1.2");
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 1); /* the broken line, with its line */
	ASSERT_EQ(p.item[0].line, 2);
	update_config_release(&c);

	/* command line wins; a non-URL SERVER disables */
	ASSERT_OK(update_config_load(root, "disabled", "stable", &c, NULL));
	ASSERT_TRUE(c.disabled);
	ASSERT_STREQ(c.server_file, "--server");
	ASSERT_STREQ(c.group, "stable");
	unit_rmtree(dir);
}

TEST(config_release_fallbacks_and_errors)
{
	_cleanup_free_ char *dir = unit_mktree("uclient");
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_config_release) struct update_config c = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(update_config_load(root, NULL, NULL, &c, &p), EINVAL);
	ASSERT_STREQ(p.item[p.n - 1].where, "/usr/share/flatcar/release");
	ASSERT_OK(unit_put(root, "/usr/share/coreos/release", "COREOS_RELEASE_VERSION=1.0\n"));
	update_config_release(&c);
	ASSERT_OK(update_config_load(root, NULL, NULL, &c, NULL));
	ASSERT_STREQ(c.version, "1.0");
	ASSERT_STREQ(c.server, UPDATE_DEFAULT_SERVER);
	ASSERT_STREQ(c.group, UPDATE_DEFAULT_GROUP);
	ASSERT_NULL(c.machine_id); /* missing: empty attribute */
	update_config_release(&c);
	problem_list_release(&p);
	ASSERT_OK(unit_put(root, "/usr/share/flatcar/release", "FLATCAR_RELEASE_BOARD=x\n"));
	ASSERT_ERR(update_config_load(root, NULL, NULL, &c, &p), EINVAL);
	ASSERT_STREQ(p.item[p.n - 1].message, "FLATCAR_RELEASE_VERSION missing");
	unit_rmtree(dir);
}

TEST(keys_none_unreadable_and_found)
{
	_cleanup_free_ char *dir = unit_mktree("uclient");
	_cleanup_close_ int root = fs_root_open(dir);
	_cleanup_(update_keys_release) struct update_keys k = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(update_keys_load(root, NULL, 0, &k, &p), ENOKEY);
	ASSERT_NOT_NULL(strstr(p.item[0].message, "no trusted update key in "));

	ASSERT_OK(fs_mkdir_p(root, UPDATE_KEY_DIR, 0755));
	ASSERT_OK(unit_put(root, UPDATE_KEY_DIR "/bad.pem", "not a key\n"));
	problem_list_release(&p);
	ASSERT_TRUE(update_keys_load(root, NULL, 0, &k, &p) < 0);
	ASSERT_STREQ(p.item[p.n - 1].where, UPDATE_KEY_DIR "/bad.pem");
	update_keys_release(&k);

	char cmd[4400];
	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | "
		 "openssl pkey -pubout -out '%s%s/good.pem'", dir, UPDATE_KEY_DIR);
	ASSERT_EQ(system(cmd), 0);
	ASSERT_OK(fs_unlink(root, UPDATE_KEY_DIR "/bad.pem"));
	ASSERT_OK(unit_put(root, UPDATE_KEY_DIR "/ignored.txt", "x"));
	ASSERT_OK(update_keys_load(root, NULL, 0, &k, NULL));
	ASSERT_EQ(k.n, 1);
	unit_rmtree(dir);
}
