/* SPDX-License-Identifier: MIT */
/* tests/unit/test-provision-disks.c - the disks stage's partition plan (docs/provision-apply.md
 * §7.1) as a dry run on sparse image files: where Ignition's "0" and unset values put a
 * partition, and what is refused. No root, no loop device, nothing written. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "gpt/gpt.h"
#include "provision/provision.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/problem.h"

struct fixture {
	char dir[64];
	char img[96];
	int root_fd;
};

static int fixture_init(struct fixture *f, uint64_t size)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/flatctl-disks.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->img, sizeof(f->img), "%s/disk.img", f->dir);
	int fd = open(f->img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		return -1;
	close(fd);
	f->root_fd = fs_root_open(f->dir);
	return f->root_fd < 0 ? -1 : 0;
}

static void fixture_release(struct fixture *f)
{
	char cmd[160];
	if (f->root_fd >= 0)
		close(f->root_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		printf("# cleanup failed: %s\n", cmd);
}

/* A dry run of the disks stage with partitions (JSON text) on /dev/vdb = the image. The plan
 * as lines "OP KIND DETAIL" into buf; returns prov_run()'s result. */
static int plan(struct fixture *f, const char *partitions, char *buf, size_t n,
		struct problem_list *pl)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "{\"storage\":{\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":%s}]}}",
		 partitions);
	json_auto_t *config = json_loads(text, 0, NULL);
	struct prov_device_map map = { "/dev/vdb", f->img };
	struct prov_options o = {
		.root_fd = f->root_fd,
		.stages = 1u << PROV_STAGE_DISKS,
		.dry_run = true,
		.devices = PROV_DEVICES_STRICT,
		.device_map = &map,
		.n_device_map = 1,
	};
	struct prov_outcome out;
	int r = prov_run(&o, config, &out, pl);
	size_t k = 0, i;
	json_t *it;
	buf[0] = 0;
	json_array_foreach(out.items, i, it)
	{
		if (k < n)
			k += (size_t)snprintf(buf + k, n - k, "%s %s %s\n",
					      json_string_value(json_object_get(it, "op")),
					      json_string_value(json_object_get(it, "kind")),
					      json_string_value(json_object_get(it, "detail")));
	}
	prov_outcome_release(&out);
	return r;
}

static void show(const char *plan)
{
	for (const char *l = plan; *l;) {
		size_t len = strcspn(l, "\n");
		printf("# %.*s\n", (int)len, l);
		l += len + (l[len] == '\n');
	}
}

TEST(zero_and_unset_values_placed_as_ignition_does)
{
	struct fixture f = { .root_fd = -1 };
	char buf[2048];
	_cleanup_(problem_list_release) struct problem_list pl = {};
	ASSERT_OK(fixture_init(&f, 64u << 20));
	/* numbered first (2, then 1), number 0 last: 2 at the start of the (only) free block; 1
	 * from 40 MiB filling the largest block, which holds it; the label-only one gets number
	 * 3 and the largest block left, 9-40 MiB */
	int r = plan(&f,
		     "[{\"label\":\"Z\"},{\"number\":2,\"sizeMiB\":8},"
		     "{\"number\":1,\"startMiB\":40,\"sizeMiB\":0}]",
		     buf, sizeof(buf), &pl);
	show(buf);
	ASSERT_OK(r);
	ASSERT_TRUE(strstr(buf, "+ table a new partition table\n") != NULL);
	ASSERT_TRUE(strstr(buf, "+ partition 2: start 1 MiB, size 8 MiB\n") != NULL);
	ASSERT_TRUE(strstr(buf, "+ partition 1: sectors 81920+49119\n") != NULL);
	ASSERT_TRUE(strstr(buf, "+ partition 3 Z: start 9 MiB, size 31 MiB\n") != NULL);
	fixture_release(&f);
}

TEST(size_zero_needs_its_start_in_the_largest_block)
{
	struct fixture f = { .root_fd = -1 };
	char buf[2048];
	_cleanup_(problem_list_release) struct problem_list pl = {};
	ASSERT_OK(fixture_init(&f, 64u << 20));
	/* 2 takes 1-41 MiB; the largest free block is then 41 MiB to the end, not 0-1 */
	int r = plan(
		&f,
		"[{\"number\":2,\"startMiB\":1,\"sizeMiB\":40},{\"number\":1,\"startMiB\":50,\"sizeMiB\":1},"
		"{\"number\":3,\"startMiB\":42,\"sizeMiB\":0}]",
		buf, sizeof(buf), &pl);
	show(buf);
	ASSERT_ERR(r, EINVAL);
	bool found = false;
	for (size_t i = 0; i < pl.n; i++) {
		printf("# %s: %s\n", pl.item[i].where, pl.item[i].message);
		found |=
			strstr(pl.item[i].message, "which does not hold the start 86016") != NULL &&
			!strcmp(pl.item[i].where, "/storage/disks/0/partitions/2");
	}
	ASSERT_TRUE(found);
	fixture_release(&f);
}

TEST(a_partition_too_large_is_refused_and_named)
{
	struct fixture f = { .root_fd = -1 };
	char buf[2048];
	_cleanup_(problem_list_release) struct problem_list pl = {};
	ASSERT_OK(fixture_init(&f, 16u << 20));
	int r = plan(&f, "[{\"number\":1,\"label\":\"BIG\",\"sizeMiB\":100}]", buf, sizeof(buf),
		     &pl);
	ASSERT_ERR(r, EINVAL);
	ASSERT_TRUE(pl.n >= 1 && strstr(pl.item[0].message, "would lie outside the usable area"));
	ASSERT_STREQ(pl.item[0].where, "/storage/disks/0/partitions/0");
	ASSERT_TRUE(strstr(buf, "! partition 1: does not fit\n") != NULL);
	/* nothing written: still no table */
	_cleanup_close_ int fd = open(f.img, O_RDONLY | O_CLOEXEC);
	struct gpt *g = NULL;
	ASSERT_ERR(gpt_read(fd, 512, &g, NULL), ENOMSG);
	fixture_release(&f);
}
