/* SPDX-License-Identifier: MIT */
/* tests/unit/test-cgpt-show.c - per-copy raw views of lib/gpt/cgpt-show.c on mkdisk fixtures. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpt/cgpt-show.h"
#include "gpt/gpt.h"
#include "tap.h"
#include "util/problem.h"

#define SECTORS 262144u

/* A sparse 128 MiB image file rebuilt from tests/data/gpt/STATE.bin (first 34 and last 33
 * sectors of a compact mkdisk image); returns an O_RDWR fd on an unlinked file, or -1. */
static int image_fd(const char *state)
{
	const char *src = getenv("FLATCTL_SRC");
	char path[4096], tmpl[] = "/tmp/test-cgpt-show.XXXXXX";
	uint8_t buf[67 * 512];

	snprintf(path, sizeof(path), "%s/tests/data/gpt/%s.bin", src ? src : ".", state);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	ssize_t n = read(in, buf, sizeof(buf));
	close(in);
	if (n != (ssize_t)sizeof(buf))
		return -1;
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return -1;
	unlink(tmpl);
	if (ftruncate(fd, (off_t)SECTORS * 512) < 0 ||
	    pwrite(fd, buf, 34 * 512, 0) != 34 * 512 ||
	    pwrite(fd, buf + 34 * 512, 33 * 512, (off_t)(SECTORS - 33) * 512) != 33 * 512) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(array_sectors_from_header_fields)
{
	struct gpt_header h = { .num_entries = 128, .entry_size = 128 };
	ASSERT_U64_EQ(gpt_cgpt_array_sectors(&h, 512), 32);
	ASSERT_U64_EQ(gpt_cgpt_array_sectors(&h, 4096), 4);
	h.num_entries = 129;
	ASSERT_U64_EQ(gpt_cgpt_array_sectors(&h, 512), 33);
	h.num_entries = 0;
	ASSERT_U64_EQ(gpt_cgpt_array_sectors(&h, 512), 0);
	ASSERT_U64_EQ(gpt_cgpt_array_sectors(&h, 0), 0);
}

TEST(both_copies_read_back_equal_to_the_chosen_table)
{
	_cleanup_close_ int fd = image_fd("updated");
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_free_ struct gpt_entry *p = NULL, *b = NULL;
	size_t pn = 0, bn = 0;
	bool ok = false;

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_OK(gpt_cgpt_read_array(fd, g, &g->primary.hdr, &p, &pn));
	ASSERT_OK(gpt_cgpt_read_array(fd, g, &g->backup.hdr, &b, &bn));
	ASSERT_EQ(pn, 128);
	ASSERT_EQ(bn, 128);
	ASSERT_TRUE(memcmp(p, g->entries, 128 * GPT_ENTRY_SIZE) == 0);
	ASSERT_TRUE(memcmp(b, g->entries, 128 * GPT_ENTRY_SIZE) == 0);
	ASSERT_OK(gpt_cgpt_header_crc_ok(fd, g, &g->primary, &ok));
	ASSERT_TRUE(ok);
	ASSERT_OK(gpt_cgpt_header_crc_ok(fd, g, &g->backup, &ok));
	ASSERT_TRUE(ok);
	ASSERT_U64_EQ(g->backup.header_lba, SECTORS - 1);
}

TEST(damaged_header_crc_is_seen)
{
	_cleanup_close_ int fd = image_fd("fresh");
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint8_t x = 0xff;
	bool ok = true;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pwrite(fd, &x, 1, 512 + 16), 1);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_FALSE(g->primary.header_valid);
	ASSERT_OK(gpt_cgpt_header_crc_ok(fd, g, &g->primary, &ok));
	ASSERT_FALSE(ok);
	ASSERT_OK(gpt_cgpt_header_crc_ok(fd, g, &g->backup, &ok));
	ASSERT_TRUE(ok);
}

TEST(damaged_array_reads_as_stored)
{
	_cleanup_close_ int fd = image_fd("fresh");
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_free_ struct gpt_entry *p = NULL;
	size_t pn = 0;
	uint8_t x = 0xff;

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(pwrite(fd, &x, 1, 2 * 512 + 200), 1);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_FALSE(g->primary.entries_valid);
	ASSERT_OK(gpt_cgpt_read_array(fd, g, &g->primary.hdr, &p, &pn));
	ASSERT_EQ(((const uint8_t *)p)[200], 0xff);
	ASSERT_TRUE(memcmp(p, g->entries, 128 * GPT_ENTRY_SIZE) != 0);
}

TEST(array_outside_the_disk_or_odd_entry_size_refused)
{
	_cleanup_close_ int fd = image_fd("fresh");
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	struct gpt_entry *e = NULL;
	size_t n = 0;

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	struct gpt_header h = g->primary.hdr;
	h.entries_lba = SECTORS - 1;
	ASSERT_ERR(gpt_cgpt_read_array(fd, g, &h, &e, &n), EINVAL);
	h = g->primary.hdr;
	h.entries_lba = UINT64_MAX;
	ASSERT_ERR(gpt_cgpt_read_array(fd, g, &h, &e, &n), EINVAL);
	h = g->primary.hdr;
	h.entry_size = 256;
	ASSERT_ERR(gpt_cgpt_read_array(fd, g, &h, &e, &n), EINVAL);
	h = g->primary.hdr;
	h.num_entries = 0;
	ASSERT_ERR(gpt_cgpt_read_array(fd, g, &h, &e, &n), EINVAL);
	ASSERT_NULL(e);
}
