/* SPDX-License-Identifier: MIT */
/* lib/etcd/transport.c - the HTTP exchange under lib/etcd, on lib/http: one client (one libcurl
 * handle, keep-alive) per etcd client, so a lock costs two round trips, not two handshakes. etcd's
 * error answers (4xx/5xx with a JSON body) are returned as statuses for lib/etcd to judge. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/etcd.h"
#include "etcd/transport.h"
#include "http/http.h"

struct etcd_transport {
	struct http_client *http;
	uint64_t timeout_usec;
	uint64_t deadline_usec;
	uint64_t limit_usec; /* the time the last request had: timeout, or less near the deadline */
};

void etcd_transport_set_deadline(struct etcd_transport *t, uint64_t deadline_usec)
{
	t->deadline_usec = deadline_usec;
	http_client_set_deadline(t->http, deadline_usec);
}

/* Before a request: how long it may take, for the "timed out after" message. */
static void start_clock(struct etcd_transport *t, uint64_t timeout_usec)
{
	uint64_t now = http_now_usec();
	t->limit_usec = timeout_usec;
	if (t->deadline_usec) {
		uint64_t left = t->deadline_usec > now ? t->deadline_usec - now : 0;
		if (!t->limit_usec || left < t->limit_usec)
			t->limit_usec = left;
	}
}

int etcd_transport_new(const struct etcd_options *o, struct etcd_transport **ret)
{
	struct etcd_transport *t = calloc(1, sizeof(*t));
	int r;

	if (!t)
		return -ENOMEM;
	t->timeout_usec = o->request_timeout_usec ? o->request_timeout_usec : 5000000;
	struct http_client_options ho = {
		.ca_file = o->cafile,
		.client_cert_file = o->certfile,
		.client_key_file = o->keyfile,
		.proxy = "", /* etcd is never reached through a proxy */
		.connect_timeout_usec = o->connect_timeout_usec ? o->connect_timeout_usec : 2000000,
		.timeout_usec = t->timeout_usec,
		.max_redirects = HTTP_NO_REDIRECTS,
		.max_response_size = ETCD_MAX_ANSWER,
	};
	r = http_client_new(&ho, &t->http);
	if (r < 0) {
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

struct etcd_transport *etcd_transport_free(struct etcd_transport *t)
{
	if (!t)
		return NULL;
	http_client_free(t->http);
	free(t);
	return NULL;
}

/* A failed exchange as -errno with a short reason; etcd answers (any status) are not failures. */
static int classify(const struct etcd_transport *t, int r, const struct http_response *resp,
		    char *errbuf, size_t errlen)
{
	if (resp->kind == HTTP_ERROR_TIMEOUT) {
		snprintf(errbuf, errlen, "timed out after %.3gs", (double)t->limit_usec / 1e6);
		return -ETIMEDOUT;
	}
	if (resp->kind == HTTP_ERROR_TOO_LARGE) {
		/* a value no semaphore needs: bad data, the same on every member, not a transport
		 * failure to retry (docs/security.md) */
		snprintf(errbuf, errlen, "answer over the %d MiB limit", ETCD_MAX_ANSWER >> 20);
		return -EFBIG;
	}
	if (resp->kind == HTTP_ERROR_TLS || (strstr(resp->error, "SSL") && strstr(resp->error, "alert"))) {
		/* verification, handshake, or an alert like "certificate required" */
		snprintf(errbuf, errlen, "%s", resp->error);
		return -EPROTO;
	}
	if (resp->kind == HTTP_ERROR_CONNECT && resp->status == 0 &&
	    (strstr(resp->error, "Couldn't connect") || strstr(resp->error, "refused"))) {
		snprintf(errbuf, errlen, "connection refused");
		return -ECONNREFUSED;
	}
	snprintf(errbuf, errlen, "%s", resp->error[0] ? resp->error : strerror(-r));
	if (resp->kind == HTTP_ERROR_CONNECT)
		return resp->status ? -ECONNRESET : -EHOSTUNREACH;
	return r == -ENOMEM ? r : -EIO;
}

int etcd_transport_request(struct etcd_transport *t, const char *method, const char *url,
			   const char *content_type, const char *body, size_t body_len,
			   const char *auth_header, char **ret_body, size_t *ret_len, char *errbuf,
			   size_t errlen)
{
	_cleanup_free_ char *auth = NULL;
	const char *headers[2] = {};
	struct http_response resp = {};
	int r;

	if (auth_header) {
		if (asprintf(&auth, "Authorization: %s", auth_header) < 0)
			return -ENOMEM;
		headers[0] = auth;
	}
	struct http_request req = {
		.method = strcmp(method, "GET") == 0   ? HTTP_GET
			  : strcmp(method, "PUT") == 0 ? HTTP_PUT
						       : HTTP_POST,
		.url = url,
		.body = body,
		.body_size = body_len,
		.content_type = content_type,
		.headers = headers,
	};
	start_clock(t, t->timeout_usec);
	r = http_request_perform(t->http, &req, &resp);
	if (resp.status > 0 && resp.kind != HTTP_ERROR_CONNECT && resp.kind != HTTP_ERROR_TIMEOUT &&
	    resp.kind != HTTP_ERROR_TRUNCATED && (r == 0 || resp.kind == HTTP_ERROR_STATUS)) {
		int st = (int)resp.status;
		*ret_body = resp.body ? resp.body : strdup("");
		*ret_len = resp.body ? resp.body_size : 0;
		resp.body = NULL;
		http_response_release(&resp);
		return *ret_body ? st : -ENOMEM;
	}
	r = classify(t, r, &resp, errbuf, errlen);
	http_response_release(&resp);
	return r;
}

struct stream {
	char *p;
	size_t n, cap;
	int (*cb)(const char *all, size_t n, void *userdata);
	void *userdata;
	bool found;
};

static int on_stream(const void *data, size_t size, uint64_t offset, void *userdata)
{
	struct stream *st = userdata;
	if (st->n + size + 1 > ETCD_MAX_ANSWER)
		return -EFBIG;
	if (st->n + size + 1 > st->cap) {
		size_t cap = (st->n + size + 1) * 2;
		char *q = realloc(st->p, cap);
		if (!q)
			return -ENOMEM;
		st->p = q;
		st->cap = cap;
	}
	memcpy(st->p + st->n, data, size);
	st->n += size;
	st->p[st->n] = 0;
	if (st->cb(st->p, st->n, st->userdata) > 0) {
		st->found = true;
		return -ECANCELED; /* enough: abort the transfer */
	}
	return 0;
}

int etcd_transport_stream(struct etcd_transport *t, const char *url, const char *body,
			  const char *auth_header, uint64_t timeout_usec,
			  int (*cb)(const char *all, size_t n, void *userdata), void *userdata)
{
	_cleanup_free_ char *auth = NULL;
	const char *headers[2] = {};
	struct http_response resp = {};
	struct stream st = { .cb = cb, .userdata = userdata };
	int r;

	if (auth_header) {
		if (asprintf(&auth, "Authorization: %s", auth_header) < 0)
			return -ENOMEM;
		headers[0] = auth;
	}
	struct http_request req = {
		.method = HTTP_POST,
		.url = url,
		.body = body,
		.body_size = strlen(body),
		.content_type = "application/json",
		.headers = headers,
		.write_cb = on_stream,
		.userdata = &st,
		.timeout_usec = timeout_usec ? timeout_usec : HTTP_NO_TIMEOUT,
	};
	start_clock(t, timeout_usec);
	r = http_request_perform(t->http, &req, &resp);
	free(st.p);
	if (st.found) {
		http_response_release(&resp);
		return 1;
	}
	if (r == 0 || resp.kind == HTTP_ERROR_TIMEOUT) {
		http_response_release(&resp);
		return 0;
	}
	char why[256];
	r = classify(t, r, &resp, why, sizeof(why));
	http_response_release(&resp);
	return r;
}
