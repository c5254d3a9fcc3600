/* SPDX-License-Identifier: MIT */
/* tests/unit/test-cgpt-find.c - the whole disks `cgpt find` scans, from /proc/partitions text. */
#include <string.h>

#include "gpt/cgpt-find.h"
#include "tap.h"

static size_t count(char **v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

TEST(disks_followed_by_their_partitions)
{
	static const char t[] = "major minor  #blocks  name\n"
				"\n"
				" 254        0   41943040 vda\n"
				" 254        1     131072 vda1\n"
				" 254        2       2048 vda2\n"
				" 254       16       1024 vdb\n"
				" 259        0  500107608 nvme0n1\n"
				" 259        1     524288 nvme0n1p1\n"
				"   7        0     131072 loop0\n"
				"   8        0  976762584 sda\n"
				"   8        1  976761560 sda1\n";
	char **v = NULL;

	ASSERT_OK(gpt_cgpt_whole_disks(t, sizeof(t) - 1, &v));
	ASSERT_EQ(count(v), 3);
	ASSERT_STREQ(v[0], "vda");
	ASSERT_STREQ(v[1], "nvme0n1");
	ASSERT_STREQ(v[2], "sda");
	v = gpt_cgpt_names_free(v);
	ASSERT_NULL(v);
}

TEST(no_trailing_newline_and_no_nul)
{
	static const char t[] = " 8 0 10 sdb\n 8 16 5 sdb1";
	char **v = NULL;

	ASSERT_OK(gpt_cgpt_whole_disks(t, sizeof(t) - 1, &v));
	ASSERT_EQ(count(v), 1);
	ASSERT_STREQ(v[0], "sdb");
	gpt_cgpt_names_free(v);
	/* Cut inside the last name: "sdb" then "sd" does not extend it. */
	ASSERT_OK(gpt_cgpt_whole_disks(t, sizeof(t) - 3, &v));
	ASSERT_EQ(count(v), 0);
	gpt_cgpt_names_free(v);
}

TEST(malformed_lines_and_names_skipped)
{
	static const char t[] = "garbage\n"
				" 8 0 x sdc\n"
				" 8 0 10\n"
				" 8 0 10 ..\n"
				" 8 1 10 ../x\n"
				" 8 0 10 sdd\r\n"
				" 8 1 10 sdd1\n";
	char **v = NULL;

	ASSERT_OK(gpt_cgpt_whole_disks(t, sizeof(t) - 1, &v));
	ASSERT_EQ(count(v), 1);
	ASSERT_STREQ(v[0], "sdd");
	gpt_cgpt_names_free(v);
}

TEST(empty_input)
{
	char **v = NULL;

	ASSERT_OK(gpt_cgpt_whole_disks("", 0, &v));
	ASSERT_EQ(count(v), 0);
	gpt_cgpt_names_free(v);
}
