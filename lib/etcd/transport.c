/* SPDX-License-Identifier: MIT */
/* lib/etcd/transport.c - libcurl under lib/etcd: one easy handle reused for every request, so the
 * connection stays open (keep-alive) and a lock costs two round trips, not two TCP handshakes.
 * TODO(lock): move onto lib/http once it is merged; the interface is transport.h only. */
#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/etcd.h"
#include "etcd/transport.h"
#include "util/cleanup.h"

struct etcd_transport {
	CURL *curl;
	long timeout_ms, connect_ms;
};

struct buf {
	char *p;
	size_t n, cap;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	size_t n = size * nmemb;
	if (b->n + n + 1 > 4 << 20)
		return 0; /* refuse absurd replies */
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *q = realloc(b->p, cap);
		if (!q)
			return 0;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, ptr, n);
	b->n += n;
	b->p[b->n] = 0;
	return n;
}

int etcd_transport_new(const struct etcd_options *o, struct etcd_transport **ret)
{
	static bool inited;
	struct etcd_transport *t;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
			return -EIO;
		inited = true;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->curl = curl_easy_init();
	if (!t->curl) {
		free(t);
		return -ENOMEM;
	}
	t->timeout_ms = (long)((o->request_timeout_usec ? o->request_timeout_usec : 5000000) / 1000);
	t->connect_ms = (long)((o->connect_timeout_usec ? o->connect_timeout_usec : 2000000) / 1000);
	CURL *c = t->curl;
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t->connect_ms);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(c, CURLOPT_PROXY, ""); /* etcd is never reached through a proxy */
	if (o->cafile)
		(void)curl_easy_setopt(c, CURLOPT_CAINFO, o->cafile);
	if (o->certfile)
		(void)curl_easy_setopt(c, CURLOPT_SSLCERT, o->certfile);
	if (o->keyfile)
		(void)curl_easy_setopt(c, CURLOPT_SSLKEY, o->keyfile);
	*ret = t;
	return 0;
}

struct etcd_transport *etcd_transport_free(struct etcd_transport *t)
{
	if (!t)
		return NULL;
	curl_easy_cleanup(t->curl);
	free(t);
	return NULL;
}

static int map_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return -ENOKEY;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return -EPROTO;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return -ECONNRESET;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int etcd_transport_request(struct etcd_transport *t, const char *method, const char *url,
			   const char *content_type, const char *body, size_t body_len,
			   const char *auth_header, char **ret_body, size_t *ret_len, char *errbuf,
			   size_t errlen)
{
	CURL *c = t->curl;
	struct buf b = {};
	struct curl_slist *h = NULL;
	char ctype[128], auth[1024], cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode cc;

	if (content_type) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", content_type);
		h = curl_slist_append(h, ctype);
	}
	if (auth_header) {
		snprintf(auth, sizeof(auth), "Authorization: %s", auth_header);
		h = curl_slist_append(h, auth);
	}
	h = curl_slist_append(h, "Expect:");
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	if (strcmp(method, "GET") == 0) {
		(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
		(void)curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		(void)curl_easy_setopt(c, CURLOPT_POST, 1L);
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
				       strcmp(method, "POST") == 0 ? NULL : method);
	}
	cc = curl_easy_perform(c);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		free(b.p);
		if (cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(errbuf, errlen, "timed out after %.3gs", (double)t->timeout_ms / 1000);
		else if (cc == CURLE_COULDNT_CONNECT)
			snprintf(errbuf, errlen, "connection refused");
		else
			snprintf(errbuf, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
		/* a TLS alert (e.g. "certificate required") arrives as a receive error */
		if ((cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR) && strstr(cerr, "SSL") &&
		    strstr(cerr, "alert"))
			return -EPROTO;
		return map_curl(cc);
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (!b.p) {
		b.p = strdup("");
		if (!b.p)
			return -ENOMEM;
	}
	*ret_body = b.p;
	*ret_len = b.n;
	return status > 0 ? (int)status : -EPROTO;
}

struct stream {
	struct buf b;
	int (*cb)(const char *all, size_t n, void *userdata);
	void *userdata;
	bool found;
};

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct stream *st = userdata;
	size_t n = size * nmemb;
	if (on_data(ptr, size, nmemb, &st->b) != n)
		return 0;
	if (st->cb(st->b.p, st->b.n, st->userdata) > 0) {
		st->found = true;
		return 0; /* enough: abort the transfer */
	}
	return n;
}

int etcd_transport_stream(struct etcd_transport *t, const char *url, const char *body,
			  const char *auth_header, uint64_t timeout_usec,
			  int (*cb)(const char *all, size_t n, void *userdata), void *userdata)
{
	CURL *c = t->curl;
	struct stream st = { .cb = cb, .userdata = userdata };
	struct curl_slist *h = NULL;
	char auth[1024];
	CURLcode cc;

	h = curl_slist_append(h, "Content-Type: application/json");
	if (auth_header) {
		snprintf(auth, sizeof(auth), "Authorization: %s", auth_header);
		h = curl_slist_append(h, auth);
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
	(void)curl_easy_setopt(c, CURLOPT_POST, 1L);
	(void)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout_usec / 1000) + 1);
	(void)curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	cc = curl_easy_perform(c);
	(void)curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 0L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	free(st.b.p);
	if (st.found)
		return 1;
	if (cc == CURLE_OK || cc == CURLE_OPERATION_TIMEDOUT)
		return 0;
	return map_curl(cc);
}
