/* SPDX-License-Identifier: MIT */
/* tests/unit/test-progress.c - progress line format (docs/update.md 9) and redraw decisions. */
#include <fcntl.h>
#include <unistd.h>

#include "tap.h"
#include "util/progress.h"

#define MIB 1048576ULL

TEST(download_line_matches_spec)
{
	struct progress p;
	char buf[160];
	progress_init(&p, 1000000, 0);
	uint64_t total = 501429043; /* 478.2 MiB */
	uint64_t done = 185494323;  /* 176.9 MiB */
	/* 176.9 MiB at 12.4 MiB/s: 14.266 s */
	uint64_t now = 1000000 + (uint64_t)(176.9 / 12.4 * 1e6);
	progress_format(buf, sizeof(buf), &p, now, "downloading", "4081.2.0", done, total, true);
	ASSERT_STREQ(buf, "downloading 4081.2.0  37% [#######.............]  176.9/478.2 MiB  "
			  "12.4 MiB/s  ETA 0:24");
}

TEST(verify_and_write_lines_have_no_bytes)
{
	char buf[160];
	progress_format(buf, sizeof(buf), NULL, 0, "verifying", "4081.2.0", 81, 100, false);
	ASSERT_STREQ(buf, "verifying   4081.2.0  81% [################....]");
	progress_format(buf, sizeof(buf), NULL, 0, "writing", "USR-B", 52, 100, false);
	ASSERT_STREQ(buf, "writing     USR-B     52% [##########..........]");
	progress_format(buf, sizeof(buf), NULL, 0, "writing", "USR-B", 100, 100, false);
	ASSERT_STREQ(buf, "writing     USR-B    100% [####################]");
}

TEST(unknown_total_resume_and_truncation)
{
	struct progress p;
	char buf[160];
	progress_init(&p, 0, 0);
	progress_format(buf, sizeof(buf), &p, 2000000, "downloading", "x", 3 * MIB, 0, true);
	ASSERT_STREQ(buf, "downloading x         3.0 MiB  1.5 MiB/s");
	/* resumed: only the new bytes count for the rate */
	progress_init(&p, 0, 100 * MIB);
	progress_format(buf, sizeof(buf), &p, 1000000, "downloading", "v", 101 * MIB, 200 * MIB, true);
	ASSERT_STREQ(buf, "downloading v         51% [##########..........]  101.0/200.0 MiB  "
			  "1.0 MiB/s  ETA 1:39");
	progress_format(buf, sizeof(buf), &p, 1000000, "downloading", "v", 101 * MIB, 10000 * MIB, true);
	ASSERT_TRUE(strstr(buf, "ETA 2:44:59") != NULL);
	char small[10];
	ASSERT_EQ(progress_format(small, sizeof(small), &p, 0, "downloading", "v", 1, 2, true), 9);
	ASSERT_EQ(strlen(small), 9);
	ASSERT_EQ(progress_format_bytes(buf, sizeof(buf), 512), 5);
	ASSERT_STREQ(buf, "512 B");
	progress_format_bytes(buf, sizeof(buf), 3 * 1024 * MIB / 2);
	ASSERT_STREQ(buf, "1.5 GiB");
}

TEST(redraw_rate_limit_and_deciles)
{
	struct progress p;
	progress_init(&p, 0, 0);
	ASSERT_TRUE(progress_due(&p, 10, 1, 100));
	ASSERT_FALSE(progress_due(&p, 50000, 2, 100));
	ASSERT_TRUE(progress_due(&p, 200000, 3, 100));
	ASSERT_TRUE(progress_due(&p, 200001, 100, 100)); /* the final state is always drawn */
	char buf[160];
	progress_format(buf, sizeof(buf), NULL, 0, "verifying", "v", 999, 1000, false);
	ASSERT_TRUE(strstr(buf, " 99% [###################.]") != NULL);
	unsigned pct = 0;
	progress_init(&p, 0, 0);
	ASSERT_FALSE(progress_decile(&p, 5, 100, &pct));
	ASSERT_TRUE(progress_decile(&p, 10, 100, &pct));
	ASSERT_EQ(pct, 10);
	ASSERT_FALSE(progress_decile(&p, 19, 100, &pct));
	ASSERT_TRUE(progress_decile(&p, 55, 100, &pct));
	ASSERT_EQ(pct, 50);
	ASSERT_TRUE(progress_decile(&p, 100, 100, &pct));
	ASSERT_EQ(pct, 100);
	ASSERT_FALSE(progress_decile(&p, 100, 100, &pct));
}

TEST(wanted_only_on_a_terminal)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	ASSERT_OK(fd);
	ASSERT_FALSE(progress_wanted(fd, 0));
	close(fd);
	ASSERT_FALSE(progress_wanted(-1, 1));
}
