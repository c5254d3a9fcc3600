/* SPDX-License-Identifier: MIT */
/* include/etcd/etcd.h - a small etcd client: v3 through the JSON gateway, v2 keys API
 * (docs/reboot-lock.md 3). One connection per process, endpoints tried in order with fail-over. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/problem.h"

struct etcd_options {
	char **endpoints;               /* "http://127.0.0.1:2379" ... */
	size_t n_endpoints;
	const char *cafile, *certfile, *keyfile;
	const char *username, *password;
	uint64_t request_timeout_usec;  /* default 5 s */
	uint64_t connect_timeout_usec;  /* default 2 s */
};

struct etcd_client;

struct etcd_kv {
	char *key;
	char *value;       /* NUL-terminated, value_size bytes before the NUL */
	size_t value_size;
	uint64_t mod_revision;
	uint64_t create_revision;
};
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

int etcd_client_new(const struct etcd_options *o, struct etcd_client **ret);
struct etcd_client *etcd_client_free(struct etcd_client *c);
/* Every request after this ends by deadline_usec (CLOCK_MONOTONIC µs, as lib/http's
 * http_now_usec()); 0 lifts it. The per-request timeout is cut to the time left. */
void etcd_client_set_deadline(struct etcd_client *c, uint64_t deadline_usec);
/* HTTP requests sent (round trips), for measurements. */
unsigned etcd_client_round_trips(const struct etcd_client *c);
/* Every endpoint's error of the last failed call: "URL: why; URL: why". */
const char *etcd_client_error(const struct etcd_client *c);
/* The last -EAGAIN was "every endpoint refused the connection" (nothing is listening). */
bool etcd_client_all_refused(const struct etcd_client *c);
/* The endpoint that answered last. */
const char *etcd_client_endpoint(const struct etcd_client *c);

/* v3 range [key, range_end) (range_end NULL: the key alone). *ret_kvs/ret_n may be empty. */
int etcd_v3_range(struct etcd_client *c, const char *key, const char *range_end,
		  struct etcd_kv **ret_kvs, size_t *ret_n, uint64_t *ret_revision);

enum etcd_compare {
	ETCD_CMP_MOD,    /* mod_revision == rev */
	ETCD_CMP_ABSENT, /* create_revision == 0 */
};
/* txn {compare:[cmp key], success:[put key value]}. 1 succeeded, 0 compare failed, -EAGAIN
 * outcome unknown (transport error, 5xx, timeout), other -errno (4xx: -EACCES, -EPERM, ...). */
int etcd_v3_txn_put(struct etcd_client *c, const char *key, enum etcd_compare cmp, uint64_t rev,
		    const char *value);

/* A general txn: compares (all must hold) and success operations. */
struct etcd_txn;
struct etcd_txn *etcd_txn_new(void);
struct etcd_txn *etcd_txn_free(struct etcd_txn *t);
int etcd_txn_compare(struct etcd_txn *t, const char *key, enum etcd_compare cmp, uint64_t rev);
/* lease 0: none */
int etcd_txn_put(struct etcd_txn *t, const char *key, const char *value, uint64_t lease);
int etcd_txn_delete(struct etcd_txn *t, const char *key);
/* 1 succeeded, 0 a compare failed, -ENOENT a lease in it is gone, -EAGAIN unknown outcome. */
int etcd_v3_txn(struct etcd_client *c, const struct etcd_txn *t);

/* Leases (section 4): grant for ttl seconds; revoke; remaining seconds (-1: gone). */
int etcd_v3_lease_grant(struct etcd_client *c, uint64_t ttl_sec, uint64_t *ret_id);
int etcd_v3_lease_revoke(struct etcd_client *c, uint64_t id);
int etcd_v3_lease_remaining(struct etcd_client *c, uint64_t id, int64_t *ret_sec);
/* One keep-alive (one POST per refresh works with the gateway). -ENOENT: the lease is gone. */
int etcd_v3_lease_keepalive(struct etcd_client *c, uint64_t id);

/* Watch key from start_revision for up to timeout_usec; each put value (and a delete, as NULL)
 * goes to want(): the first for which it returns true ends the wait with 1. 0: nothing wanted
 * seen; -errno on failure (callers fall back to polling). */
int etcd_v3_watch_until(struct etcd_client *c, const char *key, uint64_t start_revision,
			uint64_t timeout_usec, bool (*want)(const char *value, size_t n, void *ud),
			void *ud);

/* v2: GET path?quorum=true. -ENOENT: no key; -ENOPROTOOPT: the server does not serve v2. */
int etcd_v2_get(struct etcd_client *c, const char *path, char **ret_value, uint64_t *ret_index);
/* v2 compare-and-swap: create (prevExist=false) or update (prevIndex). 1/0/-errno as txn. */
int etcd_v2_cas(struct etcd_client *c, const char *path, bool create, uint64_t index,
		const char *value);

/* Reply parsers (exported for tests and fuzzing). */
int etcd_v3_parse_range(const char *body, size_t size, struct etcd_kv **ret_kvs, size_t *ret_n,
			uint64_t *ret_revision, struct problem_list *reterr);
int etcd_v3_parse_txn(const char *body, size_t size, bool *ret_succeeded,
		      struct problem_list *reterr);
/* {"error":..,"message":..,"code":N} (v3) or {"errorCode":N,"message":..} (v2). */
int etcd_parse_error(const char *body, size_t size, int *ret_code, char **ret_message);
int etcd_v2_parse_node(const char *body, size_t size, char **ret_value, uint64_t *ret_index,
		       struct problem_list *reterr);
