/* SPDX-License-Identifier: MIT */
/* tests/unit/test-update-schedule.c - the daemon's check schedule and payload backoff
 * (lib/update/schedule.c; docs/update.md 8.2). */
#include "tap.h"
#include "update/schedule.h"

TEST(first_check_and_interval_with_fuzz)
{
	struct update_schedule s;
	update_schedule_init(&s, UPDATE_FIRST_CHECK_SEC, UPDATE_INTERVAL_SEC, UPDATE_FUZZ_SEC);
	/* 7 min +- 5 min, 45 min +- 5 min */
	ASSERT_EQ(update_schedule_first(&s, 0.0), 2 * 60);
	ASSERT_EQ(update_schedule_first(&s, 0.999999), 12 * 60);
	ASSERT_EQ(update_schedule_first(&s, 0.5), 7 * 60);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 0, 0.0), 40 * 60);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 0, 0.999999), 50 * 60);
	/* no fuzz: exact (tests) */
	update_schedule_init(&s, 3, 10, 0);
	ASSERT_EQ(update_schedule_first(&s, 0.7), 3);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 0, 0.7), 10);
}

TEST(server_trouble_doubles_up_to_four_hours_and_resets)
{
	struct update_schedule s;
	update_schedule_init(&s, UPDATE_FIRST_CHECK_SEC, UPDATE_INTERVAL_SEC, UPDATE_FUZZ_SEC);
	/* 90 min +- 45 min, then 180, then capped at 240 */
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.5), 90 * 60);
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.0), 90 * 60);
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.5), 240 * 60);
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.5), 240 * 60);
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.0), 120 * 60);
	ASSERT_TRUE(s.backing_off);
	/* Retry-After honoured within the bounds */
	ASSERT_EQ(update_schedule_next(&s, true, 3600 * 3, 0, 0.5), 3 * 3600);
	ASSERT_EQ(update_schedule_next(&s, true, 5, 0, 0.5), 120 * 60);
	ASSERT_EQ(update_schedule_next(&s, true, 99999, 0, 0.5), 240 * 60);
	/* a good answer: back to 45 min */
	ASSERT_EQ(update_schedule_next(&s, false, 0, 0, 0.5), 45 * 60);
	ASSERT_FALSE(s.backing_off);
	ASSERT_EQ(update_schedule_next(&s, true, 0, 0, 0.5), 90 * 60);
}

TEST(poll_interval_replaces_the_interval_bounded)
{
	struct update_schedule s;
	update_schedule_init(&s, 1, UPDATE_INTERVAL_SEC, 0);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 600, 0.5), 600);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 5, 0.5), 60);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 999999, 0.5), 86400);
	ASSERT_EQ(update_schedule_next(&s, false, 0, 0, 0.5), UPDATE_INTERVAL_SEC);
}

TEST(payload_backoff_days)
{
	ASSERT_EQ(update_payload_backoff_sec(1, 0.5), 86400);
	ASSERT_EQ(update_payload_backoff_sec(2, 0.5), 2 * 86400);
	ASSERT_EQ(update_payload_backoff_sec(3, 0.5), 4 * 86400);
	ASSERT_EQ(update_payload_backoff_sec(5, 0.5), 16 * 86400);
	ASSERT_EQ(update_payload_backoff_sec(40, 0.5), 16 * 86400);
	ASSERT_EQ(update_payload_backoff_sec(1, 0.0), 86400 - 6 * 3600);
	ASSERT_EQ(update_payload_backoff_sec(1, 0.999999), 86400 + 6 * 3600);
}

TEST(jitter_edges)
{
	ASSERT_EQ(update_schedule_jitter(0, 0, 0.3), 0);
	ASSERT_EQ(update_schedule_jitter(10, 100, 0.0), 1);
	ASSERT_EQ(update_schedule_jitter(10, 0, 2.0), 10);
}
