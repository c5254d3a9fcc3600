/* SPDX-License-Identifier: MIT */
/* include/lock/sem.h - the reboot semaphore value (docs/reboot-lock.md 1). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/problem.h"

struct json_t;

/* The decoded semaphore. holders are sorted by strcmp() and unique after lock_sem_parse(). */
struct lock_sem {
	long long semaphore;  /* as stored (locksmith's "free slots"), may be negative */
	long long max;
	char **holders;
	size_t n_holders;
	struct json_t *extra; /* the parsed object (unknown members kept on rewrite), or NULL */
};

enum lock_op {
	LOCK_OP_LOCK,
	LOCK_OP_UNLOCK,
	LOCK_OP_SET_MAX,
	_LOCK_OP_MAX,
	_LOCK_OP_INVALID = -EINVAL,
};

/* What a decision did to the value. */
enum lock_decision {
	LOCK_DO_WRITE,        /* the value was changed: write it (CAS) */
	LOCK_ALREADY_HELD, /* lock: the id is already a holder; nothing to write */
	LOCK_NOT_HOLDER,   /* unlock: the id is not a holder; nothing to write */
	LOCK_FULL,         /* lock: no free slot */
};

/* The value of a semaphore key that does not exist (1.2): {"semaphore":1,"max":1,"holders":[]}. */
void lock_sem_init_default(struct lock_sem *s);
void lock_sem_release(struct lock_sem *s);

/* Parse and validate a stored value (1.1). Corrupt values give -EUCLEAN with one problem per
 * finding in reterr (location: JSON pointer, line and column for syntax errors). Tolerated
 * oddities (unsorted or null holders, inconsistent semaphore) are added as warnings. On success
 * *ret holds the normalised value (sorted holders); on failure *ret is untouched. */
int lock_sem_parse(const char *data, size_t size, struct lock_sem *ret, struct problem_list *reterr);

/* Compact JSON in the order semaphore, max, holders (plus unknown members kept from the parsed
 * value); semaphore is recomputed as max - holders. *ret is malloc()ed and NUL-terminated. */
int lock_sem_format(const struct lock_sem *s, char **ret);

bool lock_sem_has(const struct lock_sem *s, const char *id);

/* Apply the admission rule of 1.2 (lock), unlock or set-max to s in place. Returns the decision
 * (>= 0) or -ENOMEM. max is used by LOCK_OP_SET_MAX only. */
int lock_sem_decide(struct lock_sem *s, enum lock_op op, const char *id, long long max);

/* Holder id rules of 1.3: 1..255 bytes of 0x21..0x7e. */
bool lock_id_is_valid(const char *id);
/* Group rules of 1.3: up to 255 bytes of valid UTF-8 (empty = default group). */
bool lock_group_is_valid(const char *group);

/* Go's url.QueryEscape, byte for byte (1.4). *ret is malloc()ed. */
int lock_query_escape(const char *s, char **ret);

/* Go duration syntax ("1h30m", "500ms", "1.5h") or bare seconds; negative or malformed: -EINVAL. */
int lock_parse_duration(const char *s, uint64_t *ret_usec);
