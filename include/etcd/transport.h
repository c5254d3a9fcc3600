/* SPDX-License-Identifier: MIT */
/* include/etcd/transport.h - the HTTP exchange under lib/etcd, kept behind this interface so it
 * can move onto lib/http. One keep-alive connection (pool) per transport. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The largest answer read from etcd, in bytes: a semaphore with its sidecars is a few KiB. */
#define ETCD_MAX_ANSWER (4 << 20)

struct etcd_options;
struct etcd_transport;

int etcd_transport_new(const struct etcd_options *o, struct etcd_transport **ret);
struct etcd_transport *etcd_transport_free(struct etcd_transport *t);
/* Every request after this ends by deadline_usec (CLOCK_MONOTONIC µs; 0: only the request
 * timeout): the request timeout is cut to the time left. */
void etcd_transport_set_deadline(struct etcd_transport *t, uint64_t deadline_usec);

/* One request. Returns the HTTP status (> 0) with the body in *ret_body (NUL-terminated), or a
 * transport failure: -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, -ECONNRESET, -EPROTO (TLS),
 * -ENOENT (unreadable TLS file), -EFBIG (an answer over ETCD_MAX_ANSWER: bad data, not to be
 * retried) ... with a short text in errbuf. */
int etcd_transport_request(struct etcd_transport *t, const char *method, const char *url,
			   const char *content_type, const char *body, size_t body_len,
			   const char *auth_header, char **ret_body, size_t *ret_len, char *errbuf,
			   size_t errlen);

/* POST body to url and read the streamed answer; after each chunk on_data(all bytes so far,
 * NUL-terminated, userdata) decides: 1 stop (returns 1), 0 go on. Returns 0 when the answer ends
 * or timeout_usec passes, -errno when the transport fails. The connection is not reused after. */
int etcd_transport_stream(struct etcd_transport *t, const char *url, const char *body,
			  const char *auth_header, uint64_t timeout_usec,
			  int (*on_data)(const char *all, size_t n, void *userdata), void *userdata);
