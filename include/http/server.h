/* SPDX-License-Identifier: MIT */
/* include/http/server.h - a small hardened HTTP/1.1 server for `update serve`.
 *
 * One request per connection (answers carry "Connection: close"), one thread per connection up
 * to a limit, GET, HEAD and POST only, no chunked bodies. Limits: the request line and headers
 * together at most max_header bytes, a body at most max_body bytes with a Content-Length, the
 * whole request read within request_timeout, every send making progress within io_timeout.
 * Anything else is answered with a 4xx/5xx naming the problem and the server goes on. Files are
 * sent with sendfile(), with "Range: bytes=N-", "bytes=N-M" and "bytes=-N" (one range). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"

struct http_exchange;

struct http_server_request {
	enum http_method method;       /* HTTP_GET, HTTP_HEAD or HTTP_POST */
	const char *path;              /* the target without its query string */
	const char *host;              /* Host header or NULL */
	const char *content_type;      /* or NULL */
	const char *range;             /* Range header or NULL */
	const char *user_agent;        /* or NULL */
	const void *body;              /* POST: Content-Length bytes */
	size_t body_size;
	const char *peer;              /* "127.0.0.1:34567", "[::1]:34567" */
};

/* The handler answers once with http_reply() or http_reply_file(); a handler that does not
 * answer gives a 500. Called on the connection's thread: it must be thread-safe. Malformed
 * requests never reach it: they get their 4xx and are reported through `reject` (if set) with
 * the status and a short reason. */
typedef void (*http_handler_t)(struct http_exchange *x, const struct http_server_request *req,
			       void *userdata);
typedef void (*http_reject_t)(const char *peer, int status, const char *reason, void *userdata);

struct http_server_opts {
	size_t max_header;             /* 0: 16 KiB */
	size_t max_body;               /* 0: 1 MiB */
	uint64_t request_timeout_usec; /* 0: 30 s */
	uint64_t io_timeout_usec;      /* 0: 60 s */
	unsigned max_connections;      /* 0: 64; beyond: 503 at once */
	uint64_t max_requests;         /* 0: unlimited; else stop after accepting this many */
	const char *server_name;       /* Server header, NULL: none */
	http_handler_t handler;
	http_reject_t reject;
	void *userdata;
};

/* Binds and listens on "ADDR:PORT" (IPv4 "127.0.0.1:8080", IPv6 "[::1]:8080", "*:8080" for
 * all IPv4 addresses, "[::]:8080" for all). Port 0 picks a free one; *ret_bound is the address
 * actually bound, in the same notation. Returns the listening fd (O_CLOEXEC), -EINVAL for a bad
 * address, or the bind/listen error. */
int http_server_listen(const char *addr, char **ret_bound);

/* Accepts and serves until SIGTERM or SIGINT arrives (blocked and read with a signalfd for the
 * duration; SIGPIPE is blocked as well) or max_requests connections were accepted; then waits
 * for the connections in progress. Returns 0, or a negative errno when accepting fails. */
int http_server_run(int listen_fd, const struct http_server_opts *o);

/* Answer with status and body (HEAD: headers only). content_type NULL: text/plain. Returns 0 or
 * the send error; the status is recorded for http_exchange_status(). */
int http_reply(struct http_exchange *x, int status, const char *content_type, const void *body,
	       size_t size);
/* Answer with `size` bytes of fd, honouring the request's Range header: 200, 206 with
 * Content-Range, or 416 with "Content-Range: bytes * /SIZE". */
int http_reply_file(struct http_exchange *x, int fd, uint64_t size, const char *content_type);

/* What was answered so far: status (0: nothing yet) and body bytes sent. */
int http_exchange_status(const struct http_exchange *x);
uint64_t http_exchange_bytes(const struct http_exchange *x);

/* Range header against a resource of `size` bytes: 0 and the whole resource for NULL or a unit
 * other than "bytes" or several ranges (which RFC 9110 lets a server ignore); 1 and
 * [*start, *end] (inclusive) for one satisfiable range; -ERANGE for a malformed or unsatisfiable
 * byte range (416). */
int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *end);

const char *http_status_reason(int status);
