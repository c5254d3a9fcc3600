/* SPDX-License-Identifier: MIT */
/* lib/update/schedule.c - the daemon's check schedule and payload backoff (docs/update.md 8.2;
 * the values are update_engine's update_check_scheduler.cc and payload_state.cc). */
#include "update/schedule.h"

void update_schedule_init(struct update_schedule *s, uint64_t initial_sec, uint64_t interval_sec,
			  uint64_t fuzz_sec)
{
	*s = (struct update_schedule){ .initial_sec = initial_sec, .interval_sec = interval_sec,
				       .fuzz_sec = fuzz_sec, .current_sec = interval_sec };
}

uint64_t update_schedule_jitter(uint64_t base, uint64_t fuzz, double r01)
{
	if (r01 < 0.0 || r01 >= 1.0)
		r01 = 0.5;
	if (fuzz > base)
		fuzz = base;
	uint64_t d = base - fuzz + (uint64_t)(r01 * (double)(2 * fuzz + 1));
	return d == 0 && base > 0 ? 1 : d;
}

uint64_t update_schedule_first(const struct update_schedule *s, double r01)
{
	return update_schedule_jitter(s->initial_sec, s->fuzz_sec, r01);
}

uint64_t update_schedule_next(struct update_schedule *s, bool server_trouble,
			      uint64_t retry_after_sec, unsigned poll_interval_sec, double r01)
{
	if (!server_trouble) {
		s->backing_off = false;
		s->current_sec = s->interval_sec;
		if (poll_interval_sec) {
			uint64_t p = poll_interval_sec;
			s->current_sec = p < UPDATE_POLL_MIN_SEC   ? UPDATE_POLL_MIN_SEC
					 : p > UPDATE_POLL_MAX_SEC ? UPDATE_POLL_MAX_SEC
								   : p;
		}
		return update_schedule_jitter(s->current_sec, s->fuzz_sec, r01);
	}
	uint64_t from = s->backing_off ? s->current_sec : s->interval_sec;
	uint64_t cur = from * 2 > UPDATE_BACKOFF_MAX_SEC ? UPDATE_BACKOFF_MAX_SEC : from * 2;
	if (cur < from) /* an interval above 4 h stays */
		cur = from;
	s->current_sec = cur;
	s->backing_off = true;
	if (retry_after_sec) {
		uint64_t lo = cur / 2, hi = cur + cur / 2;
		if (hi > UPDATE_BACKOFF_MAX_SEC && cur <= UPDATE_BACKOFF_MAX_SEC)
			hi = UPDATE_BACKOFF_MAX_SEC;
		return retry_after_sec < lo ? lo : retry_after_sec > hi ? hi : retry_after_sec;
	}
	return update_schedule_jitter(cur, cur / 2, r01);
}

uint64_t update_payload_backoff_sec(uint64_t attempts, double r01)
{
	uint64_t days = 1;
	for (uint64_t i = 1; i < attempts && days < UPDATE_PAYLOAD_BACKOFF_MAX_DAYS; i++)
		days *= 2;
	if (days > UPDATE_PAYLOAD_BACKOFF_MAX_DAYS)
		days = UPDATE_PAYLOAD_BACKOFF_MAX_DAYS;
	return update_schedule_jitter(days * 86400ULL, 6ULL * 3600, r01);
}
