/* SPDX-License-Identifier: MIT */
/* include/http/http.h - HTTP/1.1 and HTTPS client on libcurl (docs/update.md 4.1).
 *
 * A client holds the TLS material, proxy, timeouts and limits, and one libcurl handle whose
 * connection cache is reused across requests (keep-alive). A request is one method + URL + body;
 * the answer goes into memory (struct http_response.body) or is streamed to an fd or a callback,
 * optionally resuming with "Range: bytes=N-". Peers are always verified. Only http and https are
 * spoken, for requests and for redirects, and a redirect from https to http is refused.
 *
 * Errors are -errno (docs/coding-style.md §2). "Try later" is -EAGAIN: DNS failure, refused or reset
 * connection, timeout, truncated transfer, HTTP 408/429/5xx. The response then says what
 * happened in words (response.error, URL-free, safe to print after a redacted URL) and as a kind
 * (response.kind). Not thread-safe per client; use one client per thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct http_client;

enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_HEAD,
	_HTTP_METHOD_MAX,
	_HTTP_METHOD_INVALID = -EINVAL,
};

/* What went wrong, beyond the errno. */
enum http_error_kind {
	HTTP_ERROR_NONE,
	HTTP_ERROR_CONNECT,       /* DNS, refused, reset, proxy: "cannot reach server: ..." (-EAGAIN) */
	HTTP_ERROR_TIMEOUT,       /* connect/overall timeout or low-speed abort (-EAGAIN) */
	HTTP_ERROR_TRUNCATED,     /* connection closed before Content-Length bytes (-EAGAIN) */
	HTTP_ERROR_TLS,           /* verification or handshake failure: "TLS: ..." (-EPERM) */
	HTTP_ERROR_STATUS,        /* non-2xx status: "HTTP 404" / "server error: HTTP 503" */
	HTTP_ERROR_TOO_MANY_REDIRECTS, /* "too many redirects (N)" (-ELOOP) */
	HTTP_ERROR_REDIRECT_REFUSED,   /* "redirect to http refused" (-EPROTONOSUPPORT) */
	HTTP_ERROR_TOO_LARGE,     /* body over the size limit: "response too large ..." (-EFBIG) */
	HTTP_ERROR_RANGE,         /* 206 whose Content-Range does not start where asked (-EPROTO) */
	HTTP_ERROR_ABORTED,       /* a callback returned an error: that error is returned */
	HTTP_ERROR_CREDENTIALS,   /* user/password refused over plain http (-EPERM) */
	HTTP_ERROR_OTHER,         /* anything else libcurl reports (-EIO, -EINVAL for a bad URL) */
	_HTTP_ERROR_KIND_MAX,
	_HTTP_ERROR_KIND_INVALID = -EINVAL,
};

const char *http_error_kind_to_string(enum http_error_kind k);
const char *http_method_to_string(enum http_method m);

/* Opt-in retry policy for -EAGAIN failures. Attempt n (1-based) waits
 * min(initial_delay * 2^(n-1), max_delay), then subtracts up to jitter * that (0.0 .. 1.0)
 * chosen at random. A Retry-After of up to max_delay seconds on 429/503 replaces the wait.
 * Streaming requests resume from the bytes already delivered. */
struct http_retry_policy {
	unsigned max_retries;         /* 0: no retries */
	uint64_t initial_delay_usec;  /* 0: 1 s */
	uint64_t max_delay_usec;      /* 0: 60 s */
	double jitter;                /* 0.0 .. 1.0 */
	bool retry_on_status;         /* also retry 408/429/5xx (default: connection failures only) */
};

struct http_client_options {
	/* TLS trust: a PEM bundle file, or a PEM bundle in memory; neither: the system store. */
	const char *ca_file;
	const char *ca_pem;
	size_t ca_pem_size;
	/* TLS client authentication (etcd): files or PEM in memory; cert and key go together. */
	const char *client_cert_file;
	const char *client_key_file;
	const char *client_cert_pem;
	size_t client_cert_pem_size;
	const char *client_key_pem;
	size_t client_key_pem_size;
	/* NULL: libcurl's environment rules (http_proxy, https_proxy, ALL_PROXY, NO_PROXY);
	 * "" : no proxy at all; otherwise this proxy URL for every request. */
	const char *proxy;
	const char *user_agent;       /* NULL: "flatctl" */
	/* "Name: value" headers sent with every request; NULL-terminated array, copied. */
	const char *const *headers;
	uint64_t connect_timeout_usec; /* 0: 30 s; each connection, cut to the time left */
	uint64_t timeout_usec;         /* one attempt, redirects included; 0: none */
	uint64_t low_speed_limit;      /* bytes/s; abort when below it for low_speed_time_usec */
	uint64_t low_speed_time_usec;  /* 0: no low-speed abort */
	unsigned max_redirects;        /* 0: 10; HTTP_NO_REDIRECTS: do not follow */
	uint64_t max_response_size;    /* in-memory bodies; 0: 64 MiB */
	struct http_retry_policy retry;
};
#define HTTP_NO_REDIRECTS ((unsigned)-1)
#define HTTP_NO_TIMEOUT UINT64_MAX

/* The body sink of a streaming request: called for each piece in order. offset is the position of
 * data[0] in the resource (it starts at the resume offset for a 206, at 0 for a 200). Return < 0 to
 * abort; that value is returned by http_request_perform(). */
typedef int (*http_write_fn)(const void *data, size_t size, uint64_t offset, void *userdata);
/* Called once per attempt before the first body byte of a 2xx answer, with the offset where the
 * body starts (0 when the server ignored the Range and sends everything). Return < 0 to abort. */
typedef int (*http_begin_fn)(uint64_t offset, uint64_t total, void *userdata);
/* Progress: bytes of the resource now held (resume offset included) and its total size, 0 when
 * unknown. Called often; rate-limit drawing. Return < 0 to abort. */
typedef int (*http_progress_fn)(uint64_t done, uint64_t total, void *userdata);

struct http_request {
	enum http_method method;
	const char *url;
	const void *body;             /* POST/PUT/DELETE body, may be NULL */
	size_t body_size;
	const char *content_type;     /* e.g. "text/xml"; NULL: none sent */
	/* extra "Name: value" lines, NULL-terminated; after a redirect to another scheme, host or
	 * port, Authorization and Cookie lines (here and the client's) are no longer sent */
	const char *const *headers;
	/* HTTP basic auth; refused (-EPERM, HTTP_ERROR_CREDENTIALS) unless the URL is https.
	 * not sent after a redirect to another scheme, host or port. */
	const char *username;
	const char *password;
	/* Streaming: out_fd >= 0 (with use_out_fd) writes with pwrite() at the resource offset and
	 * truncates the file to the body's start offset first; or write_cb. Neither: memory. */
	bool use_out_fd;
	int out_fd;
	http_write_fn write_cb;
	http_begin_fn begin_cb;
	http_progress_fn progress_cb;
	void *userdata;
	/* > 0: send "Range: bytes=N-"; a 206 must start at N. A 416 whose Content-Range says the
	 * resource is exactly N bytes long counts as success (status 416, nothing received). */
	uint64_t resume_from;
	uint64_t timeout_usec;        /* one attempt, redirects included; 0: the client's;
					 HTTP_NO_TIMEOUT: none */
	/* > 0: the CLOCK_MONOTONIC time (http_now_usec()) by which the request ends, every attempt,
	 * redirect and retry wait included: each transfer's limits are cut to the time left, and
	 * no retry starts that could not end in time. Also the client's, the earlier wins. */
	uint64_t deadline_usec;
	/* Upper bound on the resource end (offset + body): for payloads, the announced size.
	 * 0: the client's max_response_size for memory bodies, unlimited for streams. */
	uint64_t max_size;
};

struct http_header {
	char *name;
	char *value;
};

struct http_response {
	long status;                  /* last HTTP status, 0 when none was received */
	char *body;                   /* memory body (NUL-terminated), or the error body of a
					 non-2xx answer to a streaming request (first 64 KiB) */
	size_t body_size;
	struct http_header *headers;  /* headers of the final response */
	size_t n_headers;
	char *effective_url;          /* after redirects; may hold secrets: print http_url_redact() */
	uint64_t offset;              /* where the body started in the resource (206: resume offset) */
	uint64_t bytes_received;      /* body bytes of the last attempt */
	uint64_t total_size;          /* resource size if known (Content-Length/Content-Range), 0 */
	bool range_ignored;           /* resume asked, server answered 200 */
	unsigned attempts;            /* 1 + retries made */
	unsigned redirects;
	long new_connections;         /* connections opened by this request (0: all reused) */
	enum http_error_kind kind;
	char error[256];              /* human-readable reason, no URL, no secrets; "" on success */
};

void http_response_release(struct http_response *r);
/* Case-insensitive lookup in the final response's headers; NULL if absent. */
const char *http_response_header(const struct http_response *r, const char *name);

/* Creates a client; options are copied (strings and PEM buffers duplicated). Returns 0, -ENOMEM,
 * -EINVAL (cert without key, bad values) or -ENOENT when ca_file/cert files do not exist. */
int http_client_new(const struct http_client_options *opts, struct http_client **ret);
struct http_client *http_client_free(struct http_client *c);
DEFINE_CLEANUP(struct http_client, http_client_free)

/* Performs the request (with the client's retry policy). *resp is initialised here, always
 * filled as far as the transfer got, and must be released by the caller, also on failure.
 * Returns 0 for a 2xx answer; otherwise -EAGAIN (try later), -ENOENT (404/410),
 * -EACCES (401/403), -EPROTO (other non-2xx, bad Content-Range), -ELOOP (redirects),
 * -EPROTONOSUPPORT (scheme or redirect scheme refused), -EPERM (TLS, credentials over http),
 * -EFBIG (size limit), -EINVAL (bad URL or request), a callback's own error, -EIO otherwise. */
int http_request_perform(struct http_client *c, const struct http_request *req,
			 struct http_response *resp);

/* Shorthands for in-memory requests. */
int http_get(struct http_client *c, const char *url, struct http_response *resp);
int http_post(struct http_client *c, const char *url, const char *content_type, const void *body,
	      size_t size, struct http_response *resp);

/* The client's deadline for every request that follows (CLOCK_MONOTONIC µs, 0: none), as
 * http_request.deadline_usec: for a caller whose own deadline spans many requests (lock). */
void http_client_set_deadline(struct http_client *c, uint64_t deadline_usec);
/* CLOCK_MONOTONIC in µs, the clock of deadlines. */
uint64_t http_now_usec(void);

/* A copy of url safe to print: userinfo removed, query values replaced by "***". NULL: OOM. */
char *http_url_redact(const char *url);

/* The delay before retry number n (1-based) under policy p, given a random value in [0,1). */
uint64_t http_retry_delay_usec(const struct http_retry_policy *p, unsigned n, double random01);
