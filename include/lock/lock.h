/* SPDX-License-Identifier: MIT */
/* include/lock/lock.h - lock backends and the read-decide-CAS loop (docs/reboot-lock.md 2, 3.2, 5). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lock/sem.h"
#include "util/problem.h"

struct lock_backend;
struct lock_request;
struct etcd_client;

struct lock_backend_ops {
	/* Exclusion around one read-decide-write cycle (file backend: flock); may be NULL. */
	int (*begin)(struct lock_backend *b, bool write);
	void (*end)(struct lock_backend *b);
	/* Read the value: *ret_value NULL when absent; *ret_rev is what cas() compares against.
	 * -EAGAIN: no endpoint answered (details in b->error). */
	int (*read)(struct lock_backend *b, char **ret_value, size_t *ret_size, uint64_t *ret_rev);
	/* Before deciding: drop holders whose TTL expired from s (section 4), remember what the
	 * write must also check and delete; notes get "reaped ..." warnings. May be NULL. */
	int (*prepare)(struct lock_backend *b, struct lock_sem *s, const struct lock_request *req,
		       struct problem_list *notes);
	/* Write value if the key is still at rev (exists) or still absent (!exists), with what
	 * prepare() planned and req asks for (TTL sidecars). 1 written, 0 compare failed,
	 * -EAGAIN outcome unknown, other -errno: failed. */
	int (*cas)(struct lock_backend *b, bool exists, uint64_t rev, const char *value,
		   const struct lock_request *req);
	/* Block up to usec or until the value may have changed since rev; NULL: just sleep. */
	int (*wait_change)(struct lock_backend *b, uint64_t rev, uint64_t usec);
	void (*free)(struct lock_backend *b);
};

struct lock_backend {
	const struct lock_backend_ops *ops;
	const char *kind;  /* "etcd" or "file" */
	const char *api;   /* "v3", "v2", or NULL for file */
	char *where;       /* key or path, for messages */
	char error[1024];  /* the last failure, e.g. every endpoint's error */
	bool hopeless;     /* the last -EAGAIN was definite (all refused): no point retrying */
	struct etcd_client *etcd;
};

/* File backend (5) for group ("" = default) under root_fd. */
int lock_file_backend_new(int root_fd, const char *group, struct lock_backend **ret);
/* etcd backend (3.2, 3.3) on a client; api "v3" or "v2". The client is borrowed. */
int lock_etcd_backend_new(struct etcd_client *c, const char *api, const char *group,
			  struct lock_backend **ret);
struct lock_backend *lock_backend_free(struct lock_backend *b);
/* Renew the lease of the last lock with a TTL taken through b (section 4). 0 without one. */
int lock_backend_refresh(struct lock_backend *b);
/* Section 4 status of the value last read by b (etcd v3 only): *ret_ttl {"ID":{"ttl":S,
 * "remaining":R}}, *ret_stale ["ID"...]. Both empty for other backends. */
int lock_backend_ttl_info(struct lock_backend *b, const struct lock_sem *s, struct json_t **ret_ttl,
			  struct json_t **ret_stale);

struct lock_request {
	enum lock_op op;
	const char *id;          /* LOCK, UNLOCK */
	long long max;           /* SET_MAX */
	bool reset;              /* SET_MAX: overwrite a corrupt value */
	bool wait;               /* LOCK: wait for a free slot */
	uint64_t timeout_usec;   /* overall deadline; 0: none */
	uint64_t ttl_usec;       /* LOCK on etcd v3: holder expiry (section 4); 0: none */
};

struct lock_outcome {
	enum lock_decision decision;
	struct lock_sem before;  /* the value the decision was made on */
	struct lock_sem after;   /* what was written (decision LOCK_DO_WRITE) */
	char *raw;               /* the stored raw value when it was corrupt (set-max --reset) */
	bool existed;
	bool uncertain;          /* an earlier write of this command had an unknown outcome */
	unsigned conflicts;      /* CAS compare failures retried */
};
void lock_outcome_release(struct lock_outcome *o);

/* Run one command to its end: read, validate, decide (1.2), CAS, retry on conflict, re-read
 * after an unknown outcome, wait if asked. Returns 0 (see out->decision), -EBUSY (full),
 * -EAGAIN (unreachable until the deadline; b->error says why), -EUCLEAN (corrupt value;
 * problems in reterr, nothing written) or another -errno. */
int lock_execute(struct lock_backend *b, const struct lock_request *req, struct lock_outcome *out,
		 struct problem_list *reterr);

/* Read and validate once (retrying transient failures until timeout). *ret_raw is the raw value
 * (NULL when absent); *ret set only on success. */
int lock_read(struct lock_backend *b, uint64_t timeout_usec, struct lock_sem *ret, char **ret_raw,
	      uint64_t *ret_rev, struct problem_list *reterr);

uint64_t lock_now_usec(void);
/* Sleep usec with +-20 % jitter. */
void lock_sleep_jitter(uint64_t usec);
