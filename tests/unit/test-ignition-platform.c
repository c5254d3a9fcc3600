/* SPDX-License-Identifier: MIT */
/* tests/unit/test-ignition-platform.c - platform names, the loopback-only test switch, the
 * base64 of Azure's IMDS, and config drives read through a real read-only detached mount of
 * an ext4 image on a loop device, found by label through libblkid (docs/provision-platforms.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "ignition/ignition.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/problem.h"

TEST(platform_names_and_aliases)
{
	static const struct {
		const char *in;
		const char *name;
		const char *ign;
	} t[] = {
		{ "file", "file", "file" },
		{ "metal", "metal", "metal" },
		{ "pxe", "metal", "metal" },
		{ "qemu", "qemu", "qemu" },
		{ "aws", "aws", "aws" },
		{ "ec2", "aws", "aws" },
		{ "azure", "azure", "azure" },
		{ "digitalocean", "digitalocean", "digitalocean" },
		{ "equinixmetal", "equinixmetal", "packet" },
		{ "packet", "equinixmetal", "packet" },
		{ "gcp", "gcp", "gcp" },
		{ "gce", "gcp", "gcp" },
		{ "hetzner", "hetzner", "hetzner" },
		{ "openstack", "openstack", "openstack" },
		{ "brightbox", "openstack", "openstack" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		enum ign_platform p = ign_platform_from_string(t[i].in);
		ASSERT_TRUE(p >= 0);
		ASSERT_STREQ(ign_platform_to_string(p), t[i].name);
		ASSERT_STREQ(ign_platform_ignition_name(p), t[i].ign);
		ASSERT_TRUE(strstr(IGN_PLATFORM_NAMES, t[i].name) != NULL);
	}
	ASSERT_EQ(ign_platform_from_string("vmware"), _IGN_PLATFORM_INVALID);
	ASSERT_EQ(ign_platform_from_string(""), _IGN_PLATFORM_INVALID);
	ASSERT_EQ(ign_platform_from_string(NULL), _IGN_PLATFORM_INVALID);
	ASSERT_TRUE(ign_platform_needs_network(IGN_PLATFORM_GCP));
	ASSERT_TRUE(ign_platform_needs_network(IGN_PLATFORM_OPENSTACK));
	ASSERT_FALSE(ign_platform_needs_network(IGN_PLATFORM_QEMU));
	ASSERT_FALSE(ign_platform_needs_network(IGN_PLATFORM_METAL));
}

TEST(test_switch_only_loopback)
{
	static const char *const good[] = { "http://127.0.0.1", "http://127.0.0.1:8080",
					    "https://127.1.2.3:1", "http://[::1]:99",
					    "http://[::1]" };
	static const char *const bad[] = {
		"http://10.0.0.1",
		"http://169.254.169.254",
		"http://localhost",
		"http://127.0.0.1.nip.io",
		"http://127.1",
		"http://0x7f000001",
		"http://127.0.0.1/x",
		"http://127.0.0.1:80/",
		"http://u@127.0.0.1",
		"http://127.0.0.1:",
		"http://127.0.0.1:123456",
		"ftp://127.0.0.1",
		"127.0.0.1",
		"http://[::2]",
		"http://[::ffff:127.0.0.1]x",
		"http://[::1",
		"",
		NULL,
	};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		ASSERT_OK(ign_platform_test_url_check(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ASSERT_ERR(ign_platform_test_url_check(bad[i]), EPERM);
}

TEST(test_switch_refused_before_any_request)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_free_ char *text = NULL, *origin = NULL;
	size_t n = 0;
	struct ign_source_opts o = { .root_fd = -1,
				     .platform = IGN_PLATFORM_GCP,
				     .platform_url = "http://192.0.2.1" };
	struct ign_fetcher f = { .root_fd = -1, .timeout_usec = 1000 };
	ASSERT_ERR(ign_user_config_fetch(&o, &f, &text, &n, &origin, &pl), EPERM);
	ASSERT_TRUE(pl.n == 1 && strstr(pl.item[0].message, "FLATCTL_TEST_PLATFORM_URL"));
}

TEST(offline_fetch_asks_for_the_network)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	char *text = NULL, *origin = NULL;
	size_t n = 0;
	struct ign_fetcher f = { .root_fd = -1, .offline = true };
	for (int p = IGN_PLATFORM_AWS; p < _IGN_PLATFORM_MAX; p++)
		ASSERT_ERR(ign_provider_user_data(&f, (enum ign_platform)p, "http://127.0.0.1:1",
						  -1, &text, &n, &origin, &pl),
			   ENETDOWN);
}

TEST(azure_base64)
{
	static const struct {
		const char *in;
		const char *out;
	} ok[] = {
		{ "", "" },
		{ "eyJpZ25pdGlvbiI6e319", "{\"ignition\":{}}" },
		{ "eyJp\r\nZ25p\ndGlvbiI6e319\n", "{\"ignition\":{}}" },
		{ "YQ==", "a" },
		{ "YWI=", "ab" },
	};
	static const char *const bad[] = {
		"YQ", "YQ=", "Y===", "not base64!", "YWJj ZGVm", "=YWI"
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		_cleanup_free_ char *out = NULL;
		size_t n = 0;
		ASSERT_OK(ign_base64_decode(ok[i].in, strlen(ok[i].in), &out, &n));
		ASSERT_EQ(n, strlen(ok[i].out));
		ASSERT_TRUE(memcmp(out, ok[i].out, n) == 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *out = NULL;
		size_t n = 0;
		ASSERT_ERR(ign_base64_decode(bad[i], strlen(bad[i]), &out, &n), EBADMSG);
	}
}

TEST(drive_standin_under_a_root)
{
	char dir[] = "/tmp/flatctl-drive.XXXXXX";
	char path[256], cmd[600];
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/dev/disk/by-label/config-2/openstack/latest", dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && printf hello >%s/user_data", path, path);
	ASSERT_EQ(system(cmd), 0);
	_cleanup_close_ int root = fs_root_open(dir);
	ASSERT_OK(root);
	static const char *const fst[] = { "iso9660", NULL };
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_free_ char *data = NULL, *dev = NULL;
	size_t n = 0;
	ASSERT_OK(ign_drive_read_by_label(root, "config-2", fst, "openstack/latest/user_data",
					  &data, &n, &dev, &pl));
	ASSERT_STREQ(data, "hello");
	ASSERT_STREQ(dev, "/dev/disk/by-label/config-2");
	char *d2 = NULL;
	ASSERT_ERR(ign_drive_read_by_label(root, "CONFIG-2", fst, "openstack/latest/user_data", &d2,
					   &n, NULL, &pl),
		   ENODEV);
	ASSERT_ERR(ign_drive_read_by_label(root, "config-2", fst, "openstack/latest/nope", &d2, &n,
					   NULL, &pl),
		   ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* A real block device: an ext4 image with the drive's files (mkfs.ext4 -d), on a loop device,
 * found by its label through libblkid and read through a detached read-only mount. */
TEST(drive_real_mount_by_label)
{
	if (geteuid() != 0 || access("/dev/loop-control", W_OK) != 0 ||
	    system("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null") != 0) {
		printf("# skipped: needs root, loop devices, mkfs.ext4\n");
		return;
	}
	char dir[] = "/tmp/flatctl-drive.XXXXXX";
	char cmd[1200], label[32], loop[64] = "";
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(label, sizeof(label), "fct%d", (int)getpid() % 100000);
	snprintf(cmd, sizeof(cmd),
		 "set -e; cd %s; mkdir -p tree/openstack/latest; printf drive-data "
		 ">tree/openstack/latest/user_data; ln -s /openstack/latest/user_data tree/abs; "
		 "ln -s ../../../../../../etc/hostname tree/up; "
		 "truncate -s 8M img; mkfs.ext4 -q -L %s -d tree img; losetup -f --show img >loop",
		 dir, label);
	ASSERT_EQ(system(cmd), 0);
	{
		char lp[300];
		snprintf(lp, sizeof(lp), "%s/loop", dir);
		FILE *fl = fopen(lp, "re");
		ASSERT_TRUE(fl != NULL);
		ASSERT_TRUE(fgets(loop, sizeof(loop), fl) != NULL);
		fclose(fl);
		loop[strcspn(loop, "\n")] = 0;
	}
	static const char *const ext4[] = { "iso9660", "ext4", NULL };
	_cleanup_(problem_list_release) struct problem_list pl = {};
	_cleanup_free_ char *a = NULL, *b = NULL, *dev = NULL;
	char *c = NULL;
	size_t n = 0;
	bool failed_here = true;
	do {
		if (ign_drive_read_device(loop, ext4, "openstack/latest/user_data", &a, &n, &pl) <
		    0)
			break;
		if (strcmp(a, "drive-data") != 0)
			break;
		/* an absolute symlink on the drive resolves on the drive */
		if (ign_drive_read_device(loop, ext4, "abs", &b, &n, &pl) < 0 ||
		    strcmp(b, "drive-data"))
			break;
		/* .. stops at the drive's root: /etc/hostname of the drive does not exist */
		if (ign_drive_read_device(loop, ext4, "up", &c, &n, &pl) != -ENOENT)
			break;
		/* the host root: found by label through libblkid */
		_cleanup_close_ int host = fs_root_open("/");
		_cleanup_free_ char *d = NULL;
		if (ign_drive_read_by_label(host, label, ext4, "openstack/latest/user_data", &d, &n,
					    &dev, &pl) < 0 ||
		    strcmp(d, "drive-data") || strcmp(dev, loop))
			break;
		/* nothing stays mounted */
		snprintf(cmd, sizeof(cmd), "! grep -q '^%s ' /proc/self/mounts", loop);
		if (system(cmd) != 0)
			break;
		failed_here = false;
	} while (0);
	snprintf(cmd, sizeof(cmd), "losetup -d %s; rm -rf %s", loop, dir);
	if (system(cmd) != 0)
		printf("# cleanup failed: %s\n", cmd);
	for (size_t i = 0; i < pl.n; i++)
		printf("# %s\n", pl.item[i].message);
	ASSERT_FALSE(failed_here);
}

TEST(drive_mount_failure_names_the_device)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	char *d = NULL;
	size_t n = 0;
	static const char *const t[] = { "iso9660", "vfat", NULL };
	ASSERT_TRUE(ign_drive_read_device("/nonexistent/flatctl-dev", t, "x", &d, &n, &pl) < 0);
	ASSERT_TRUE(pl.n == 1 && strstr(pl.item[0].message, "/nonexistent/flatctl-dev"));
}
