/* SPDX-License-Identifier: MIT */
/* include/update/schedule.h - when the daemon checks next and how long it leaves a failed payload
 * alone (docs/update.md 8.2). Pure functions of their inputs and a random number in [0, 1): the
 * caller draws it, so tests can pin it. All times in seconds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define UPDATE_FIRST_CHECK_SEC (7ULL * 60)     /* first check after 7 min ... */
#define UPDATE_INTERVAL_SEC (45ULL * 60)       /* then every 45 min ... */
#define UPDATE_FUZZ_SEC (5ULL * 60)            /* ... each +- 5 min (update_engine's values) */
#define UPDATE_BACKOFF_MAX_SEC (4ULL * 3600)   /* server trouble doubles the interval up to 4 h */
#define UPDATE_POLL_MIN_SEC 60ULL              /* a server's PollInterval is bounded to 60 s .. 24 h */
#define UPDATE_POLL_MAX_SEC 86400ULL
#define UPDATE_PAYLOAD_BACKOFF_MAX_DAYS 16ULL

struct update_schedule {
	uint64_t initial_sec, interval_sec, fuzz_sec; /* --initial-delay, --interval, --fuzz */
	uint64_t current_sec;                         /* the interval in force now */
	bool backing_off;                             /* after 5xx/429/connection failures */
};

void update_schedule_init(struct update_schedule *s, uint64_t initial_sec, uint64_t interval_sec,
			  uint64_t fuzz_sec);
/* base +- fuzz, uniformly (never below 1 s unless base and fuzz are 0). */
uint64_t update_schedule_jitter(uint64_t base, uint64_t fuzz, double r01);
/* Delay of the first check after start. */
uint64_t update_schedule_first(const struct update_schedule *s, double r01);
/* After a check: the delay to the next one. server_trouble: HTTP 500/503/429 or no connection
 * (the interval doubles, from the base, up to 4 h, with jitter of half of it; retry_after_sec, when
 * given, is honoured within those bounds); otherwise the base interval again, or the server's
 * poll_interval_sec (bounded), with the normal fuzz. */
uint64_t update_schedule_next(struct update_schedule *s, bool server_trouble,
			      uint64_t retry_after_sec, unsigned poll_interval_sec, double r01);
/* 8.2 payload backoff after the n-th failed attempt of one payload: 2^(n-1) days, at most 16,
 * +- 6 h. */
uint64_t update_payload_backoff_sec(uint64_t attempts, double r01);
