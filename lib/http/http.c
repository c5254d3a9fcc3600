/* SPDX-License-Identifier: MIT */
/* lib/http/http.c - HTTP(S) client on libcurl: keep-alive client, memory or streamed bodies,
 * Range resume, size caps, our own redirect following, opt-in retries; docs/update.md 4.1.
 *
 * Redirects are followed here, not by libcurl, so that every hop is checked (http/https only,
 * never https -> http), counted against our limit and reported in words, and so credentials are
 * dropped when the host changes. Each hop is one curl_easy_perform() on the client's single easy
 * handle; curl_easy_reset() between requests keeps its connection cache, so keep-alive works. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http/http.h"
#include "util/host.h"

#define DEFAULT_CONNECT_TIMEOUT_USEC (30ULL * 1000000)
#define DEFAULT_MAX_REDIRECTS 10
#define DEFAULT_MAX_RESPONSE (64ULL * 1024 * 1024)
#define ERROR_BODY_MAX (64 * 1024)
#define USEC_PER_SEC 1000000ULL

struct http_client {
	CURL *curl;
	char *ca_file, *ca_pem, *cert_file, *key_file, *cert_pem, *key_pem;
	size_t ca_pem_size, cert_pem_size, key_pem_size;
	char *proxy;
	char *user_agent;
	char **headers;
	size_t n_headers;
	uint64_t connect_timeout_usec, timeout_usec, low_speed_limit, low_speed_time_usec;
	unsigned max_redirects;
	uint64_t max_response_size;
	struct http_retry_policy retry;
	bool performed;        /* the easy handle has run once (see cloexec_new_sockets) */
	uint64_t deadline_usec; /* http_client_set_deadline(), 0: none */
};

static const char *const method_names[_HTTP_METHOD_MAX] = {
	[HTTP_GET] = "GET", [HTTP_POST] = "POST", [HTTP_PUT] = "PUT",
	[HTTP_DELETE] = "DELETE", [HTTP_HEAD] = "HEAD",
};

const char *http_method_to_string(enum http_method m)
{
	return m >= 0 && m < _HTTP_METHOD_MAX ? method_names[m] : NULL;
}

static const char *const kind_names[_HTTP_ERROR_KIND_MAX] = {
	[HTTP_ERROR_NONE] = "none",
	[HTTP_ERROR_CONNECT] = "connect",
	[HTTP_ERROR_TIMEOUT] = "timeout",
	[HTTP_ERROR_TRUNCATED] = "truncated",
	[HTTP_ERROR_TLS] = "tls",
	[HTTP_ERROR_STATUS] = "status",
	[HTTP_ERROR_TOO_MANY_REDIRECTS] = "too-many-redirects",
	[HTTP_ERROR_REDIRECT_REFUSED] = "redirect-refused",
	[HTTP_ERROR_TOO_LARGE] = "too-large",
	[HTTP_ERROR_RANGE] = "range",
	[HTTP_ERROR_ABORTED] = "aborted",
	[HTTP_ERROR_CREDENTIALS] = "credentials",
	[HTTP_ERROR_OTHER] = "other",
};

const char *http_error_kind_to_string(enum http_error_kind k)
{
	return k >= 0 && k < _HTTP_ERROR_KIND_MAX ? kind_names[k] : NULL;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- client ---------------------------------------------------------------------------------- */

static int dup_str(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int dup_mem(const char *s, size_t n, char **ret, size_t *ret_size)
{
	*ret = NULL;
	*ret_size = 0;
	if (!s)
		return 0;
	if (n == 0)
		n = strlen(s);
	*ret = malloc(n + 1);
	if (!*ret)
		return -ENOMEM;
	memcpy(*ret, s, n);
	(*ret)[n] = 0;
	*ret_size = n;
	return 0;
}

static int check_readable(const char *path)
{
	if (path && access(path, R_OK) < 0)
		return -errno;
	return 0;
}

struct http_client *http_client_free(struct http_client *c)
{
	if (!c)
		return NULL;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	if (c->cert_pem)
		explicit_bzero(c->cert_pem, c->cert_pem_size);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, c->key_pem_size);
	free(c->key_pem);
	free(c->proxy);
	free(c->user_agent);
	for (size_t i = 0; i < c->n_headers; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c);
	return NULL;
}

int http_client_new(const struct http_client_options *opts, struct http_client **ret)
{
	static const struct http_client_options defaults = {};
	int r;

	if (!opts)
		opts = &defaults;
	if ((opts->client_cert_file || opts->client_cert_pem) !=
	    (opts->client_key_file || opts->client_key_pem))
		return -EINVAL;
	if ((opts->ca_file && opts->ca_pem) || (opts->client_cert_file && opts->client_cert_pem) ||
	    (opts->client_key_file && opts->client_key_pem))
		return -EINVAL;
	if (opts->retry.jitter < 0.0 || opts->retry.jitter > 1.0)
		return -EINVAL;
	r = check_readable(opts->ca_file);
	if (r < 0)
		return r;
	r = check_readable(opts->client_cert_file);
	if (r < 0)
		return r;
	r = check_readable(opts->client_key_file);
	if (r < 0)
		return r;

	(void)pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return -ENOMEM;

	_cleanup_(http_client_freep) struct http_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (dup_str(opts->ca_file, &c->ca_file) < 0 ||
	    dup_mem(opts->ca_pem, opts->ca_pem_size, &c->ca_pem, &c->ca_pem_size) < 0 ||
	    dup_str(opts->client_cert_file, &c->cert_file) < 0 ||
	    dup_str(opts->client_key_file, &c->key_file) < 0 ||
	    dup_mem(opts->client_cert_pem, opts->client_cert_pem_size, &c->cert_pem,
		    &c->cert_pem_size) < 0 ||
	    dup_mem(opts->client_key_pem, opts->client_key_pem_size, &c->key_pem,
		    &c->key_pem_size) < 0 ||
	    dup_str(opts->proxy, &c->proxy) < 0 ||
	    dup_str(opts->user_agent ? opts->user_agent : "flatctl", &c->user_agent) < 0)
		return -ENOMEM;
	for (size_t n = 0; opts->headers && opts->headers[n]; n++) {
		if (!strchr(opts->headers[n], ':') || strpbrk(opts->headers[n], "\r\n"))
			return -EINVAL;
		char **h = reallocarray(c->headers, c->n_headers + 1, sizeof(char *));
		if (!h)
			return -ENOMEM;
		c->headers = h;
		c->headers[c->n_headers] = strdup(opts->headers[n]);
		if (!c->headers[c->n_headers])
			return -ENOMEM;
		c->n_headers++;
	}
	c->connect_timeout_usec = opts->connect_timeout_usec ?: DEFAULT_CONNECT_TIMEOUT_USEC;
	c->timeout_usec = opts->timeout_usec;
	c->low_speed_limit = opts->low_speed_limit;
	c->low_speed_time_usec = opts->low_speed_time_usec;
	c->max_redirects = opts->max_redirects == 0 ? DEFAULT_MAX_REDIRECTS
			 : opts->max_redirects == HTTP_NO_REDIRECTS ? 0 : opts->max_redirects;
	c->max_response_size = opts->max_response_size ?: DEFAULT_MAX_RESPONSE;
	c->retry = opts->retry;

	c->curl = curl_easy_init();
	if (!c->curl)
		return -ENOMEM;
	*ret = TAKE_PTR(c);
	return 0;
}

/* ---- response -------------------------------------------------------------------------------- */

static void headers_clear(struct http_response *r)
{
	for (size_t i = 0; i < r->n_headers; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->n_headers = 0;
}

void http_response_release(struct http_response *r)
{
	if (!r)
		return;
	headers_clear(r);
	free(r->body);
	free(r->effective_url);
	*r = (struct http_response){};
}

const char *http_response_header(const struct http_response *r, const char *name)
{
	for (size_t i = 0; i < r->n_headers; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

_printf_(3, 4) static int fail(struct http_response *resp, enum http_error_kind kind,
			       const char *fmt, ...)
{
	va_list ap;
	resp->kind = kind;
	va_start(ap, fmt);
	(void)vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
	va_end(ap);
	return 0;
}

/* ---- URL helpers ----------------------------------------------------------------------------- */

char *http_url_redact(const char *url)
{
	if (!url)
		return NULL;
	size_t n = strlen(url);
	char *out = malloc(n * 2 + 8), *o = out;
	if (!out)
		return NULL;
	const char *p = url;
	const char *scheme_end = strstr(url, "://");
	if (scheme_end) {
		const char *auth = scheme_end + 3;
		const char *auth_end = auth + strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', (size_t)(auth_end - auth));
		memcpy(o, url, (size_t)(auth - url));
		o += auth - url;
		p = at ? at + 1 : auth;
	}
	/* copy up to the query, then keep query keys and hide values */
	while (*p && *p != '?' && *p != '#')
		*o++ = *p++;
	if (*p == '?') {
		*o++ = *p++;
		while (*p && *p != '#') {
			size_t k = strcspn(p, "=&#");
			memcpy(o, p, k);
			o += k;
			p += k;
			if (*p == '=') {
				memcpy(o, "=***", 4);
				o += 4;
				p += strcspn(p, "&#");
			}
			if (*p == '&')
				*o++ = *p++;
		}
	}
	/* fragments never reach the server; drop them */
	*o = 0;
	return out;
}

/* "http", "https" or other scheme of an absolute URL, lowercased into buf. */
static const char *url_scheme(const char *url, char *buf, size_t size)
{
	size_t i = 0;
	for (; url[i] && url[i] != ':' && i + 1 < size; i++)
		buf[i] = (char)tolower((unsigned char)url[i]);
	buf[i] = 0;
	if (url[i] != ':')
		buf[0] = 0;
	return buf;
}

static bool url_same_origin(const char *a, const char *b)
{
	CURLU *ua = curl_url(), *ub = curl_url();
	bool same = false;
	char *ha = NULL, *hb = NULL, *pa = NULL, *pb = NULL, *sa = NULL, *sb = NULL;

	if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_HOST, &ha, 0) == CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_HOST, &hb, 0) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_PORT, &pa, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_PORT, &pb, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(ua, CURLUPART_SCHEME, &sa, 0) == CURLUE_OK &&
	    curl_url_get(ub, CURLUPART_SCHEME, &sb, 0) == CURLUE_OK)
		same = strcasecmp(ha, hb) == 0 && strcmp(pa, pb) == 0 && strcmp(sa, sb) == 0;
	curl_free(ha);
	curl_free(hb);
	curl_free(pa);
	curl_free(pb);
	curl_free(sa);
	curl_free(sb);
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* ---- transfer -------------------------------------------------------------------------------- */

struct xfer {
	struct http_client *c;
	const struct http_request *req;
	struct http_response *resp;
	bool streaming;
	uint64_t resume_from;  /* this hop's Range start, 0: none */
	uint64_t limit;        /* max resource end, 0: none */
	bool started;          /* body of a 2xx answer began */
	bool is_2xx;
	uint64_t deadline;     /* this attempt ends by then (CLOCK_MONOTONIC µs), 0: no limit */
	int cb_error;          /* our abort reason (< 0) */
	size_t body_alloc;
};

static int64_t parse_u64(const char *s, const char **end)
{
	uint64_t v = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX - 9) / 10 || v > INT64_MAX / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*end = s;
	return v > INT64_MAX ? -1 : (int64_t)v;
}

static size_t header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct http_response *resp = x->resp;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100-continue or on the next hop): forget earlier headers */
		headers_clear(resp);
		return n;
	}
	const char *colon = memchr(data, ':', n);
	if (!colon)
		return n;
	const char *v = colon + 1, *e = data + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	struct http_header *h = reallocarray(resp->headers, resp->n_headers + 1, sizeof(*h));
	if (!h)
		return 0;
	resp->headers = h;
	h[resp->n_headers].name = strndup(data, (size_t)(colon - data));
	h[resp->n_headers].value = strndup(v, (size_t)(e - v));
	if (!h[resp->n_headers].name || !h[resp->n_headers].value) {
		free(h[resp->n_headers].name);
		free(h[resp->n_headers].value);
		return 0;
	}
	resp->n_headers++;
	return n;
}

static int mem_append(struct xfer *x, const void *data, size_t n)
{
	struct http_response *resp = x->resp;
	if (resp->body_size + n + 1 > x->body_alloc) {
		size_t na = x->body_alloc ? x->body_alloc : 4096;
		while (na < resp->body_size + n + 1)
			na *= 2;
		char *b = realloc(resp->body, na);
		if (!b)
			return -ENOMEM;
		resp->body = b;
		x->body_alloc = na;
	}
	memcpy(resp->body + resp->body_size, data, n);
	resp->body_size += n;
	resp->body[resp->body_size] = 0;
	return 0;
}

static int fd_truncate_to(int fd, uint64_t offset)
{
	if (ftruncate(fd, (off_t)offset) < 0)
		return -errno;
	return 0;
}

static int fd_write_at(int fd, const void *data, size_t n, uint64_t offset)
{
	const char *p = data;
	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)offset);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
		offset += (uint64_t)k;
	}
	return 0;
}

/* First body byte of this hop: decide where the body sits in the resource. */
static int body_begin(struct xfer *x, CURL *curl)
{
	struct http_response *resp = x->resp;
	const struct http_request *req = x->req;
	curl_off_t cl = -1;
	int r;

	(void)curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
	resp->offset = 0;
	resp->range_ignored = false;
	resp->total_size = cl >= 0 ? (uint64_t)cl : 0;
	if (x->resume_from > 0) {
		if (resp->status == 206) {
			const char *cr = http_response_header(resp, "Content-Range"), *p;
			int64_t a, b = -1, t = -1;
			if (!cr || strncasecmp(cr, "bytes ", 6) != 0 ||
			    (a = parse_u64(cr + 6, &p)) < 0 || *p != '-' ||
			    (b = parse_u64(p + 1, &p)) < 0 || *p != '/' || b < a)
				return fail(resp, HTTP_ERROR_RANGE, "bad Content-Range '%s'",
					    cr ? cr : ""), -EPROTO;
			if ((uint64_t)a != x->resume_from)
				return fail(resp, HTTP_ERROR_RANGE,
					    "206 starts at byte %" PRId64 ", asked for %" PRIu64, a,
					    x->resume_from), -EPROTO;
			if (p[1] != '*' && (t = parse_u64(p + 1, &p)) < 0)
				return fail(resp, HTTP_ERROR_RANGE, "bad Content-Range '%s'", cr),
				       -EPROTO;
			resp->offset = (uint64_t)a;
			resp->total_size = t >= 0 ? (uint64_t)t : (uint64_t)b + 1;
		} else {
			/* 200 to a range request: the server ignored it; everything comes again */
			resp->range_ignored = true;
		}
	}
	if (x->limit && resp->total_size > x->limit)
		return fail(resp, HTTP_ERROR_TOO_LARGE,
			    "response too large (more than %" PRIu64 " bytes)", x->limit), -EFBIG;
	if (req->use_out_fd) {
		r = fd_truncate_to(req->out_fd, resp->offset);
		if (r < 0)
			return fail(resp, HTTP_ERROR_ABORTED, "cannot truncate output: %s",
				    strerror(-r)), r;
	}
	if (req->begin_cb) {
		r = req->begin_cb(resp->offset, resp->total_size, req->userdata);
		if (r < 0)
			return fail(resp, HTTP_ERROR_ABORTED, "aborted by the caller: %s",
				    strerror(-r)), r;
	}
	x->started = true;
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct http_response *resp = x->resp;
	const struct http_request *req = x->req;
	size_t n = size * nmemb;
	long status = 0;
	int r;

	(void)curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
	resp->status = status;
	if (status < 200 || status > 299) {
		/* error or redirect body: keep the start for the caller, never fail on it */
		size_t cap = x->streaming ? ERROR_BODY_MAX : (size_t)x->c->max_response_size;
		if (x->limit && !x->streaming)
			cap = (size_t)x->limit;
		if (resp->body_size < cap) {
			size_t k = n < cap - resp->body_size ? n : cap - resp->body_size;
			if (mem_append(x, data, k) < 0)
				goto oom;
		}
		return n;
	}
	x->is_2xx = true;
	if (!x->started) {
		r = body_begin(x, x->c->curl);
		if (r < 0) {
			x->cb_error = r;
			return CURL_WRITEFUNC_ERROR;
		}
	}
	uint64_t offset = resp->offset + resp->bytes_received;
	if (x->limit && offset + n > x->limit) {
		fail(resp, HTTP_ERROR_TOO_LARGE, "response too large (more than %" PRIu64 " bytes)",
		     x->limit);
		x->cb_error = -EFBIG;
		return CURL_WRITEFUNC_ERROR;
	}
	if (req->use_out_fd)
		r = fd_write_at(req->out_fd, data, n, offset);
	else if (req->write_cb)
		r = req->write_cb(data, n, offset, req->userdata);
	else
		r = mem_append(x, data, n);
	if (r < 0) {
		fail(resp, HTTP_ERROR_ABORTED, "cannot store the body: %s", strerror(-r));
		x->cb_error = r;
		return CURL_WRITEFUNC_ERROR;
	}
	resp->bytes_received += n;
	return n;

oom:
	x->cb_error = -ENOMEM;
	fail(resp, HTTP_ERROR_OTHER, "out of memory");
	return CURL_WRITEFUNC_ERROR;
}

static int xferinfo_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = userdata;
	const struct http_request *req = x->req;
	struct http_response *resp = x->resp;

	if (!req->progress_cb || !x->started)
		return 0;
	uint64_t total = resp->total_size;
	if (!total && dltotal > 0)
		total = resp->offset + (uint64_t)dltotal;
	int r = req->progress_cb(resp->offset + (uint64_t)(dlnow > 0 ? dlnow : 0), total,
				 req->userdata);
	if (r < 0) {
		fail(resp, HTTP_ERROR_ABORTED, "aborted by the caller: %s", strerror(-r));
		x->cb_error = r;
		return 1;
	}
	return 0;
}

/* docs/coding-style.md §3: every fd gets O_CLOEXEC. libcurl 7.88 opens its sockets without it, and kept-alive
 * connections would leak into the hooks and helpers daemons start. */
static curl_socket_t open_socket_cb(void *userdata, curlsocktype purpose,
				    struct curl_sockaddr *addr)
{
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* libcurl < 8.8 also creates a socketpair without close-on-exec for the multi handle inside every
 * easy handle, on its first curl_easy_perform() (curl issue 13618), and keeps it until cleanup.
 * Around that first call, the sockets that appeared get FD_CLOEXEC. */
static int fd_list(int **ret, size_t *ret_n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int *fds = NULL;
	size_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd == dirfd(d) || fd < 0 || fd > INT_MAX)
			continue;
		int *f = reallocarray(fds, n + 1, sizeof(int));
		if (!f) {
			free(fds);
			closedir(d);
			return -ENOMEM;
		}
		fds = f;
		fds[n++] = (int)fd;
	}
	closedir(d);
	*ret = fds;
	*ret_n = n;
	return 0;
}

static void cloexec_new_sockets(const int *before, size_t n_before)
{
	_cleanup_free_ int *after = NULL;
	size_t n_after;
	if (fd_list(&after, &n_after) < 0)
		return;
	for (size_t i = 0; i < n_after; i++) {
		bool old = false;
		struct stat st;
		for (size_t j = 0; j < n_before && !old; j++)
			old = before[j] == after[i];
		if (old || fstat(after[i], &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		int fl = fcntl(after[i], F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			(void)fcntl(after[i], F_SETFD, fl | FD_CLOEXEC);
	}
}

static long usec_to_ms(uint64_t usec)
{
	uint64_t ms = (usec + 999) / 1000;
	return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

#define SETOPT(opt, val)                                                           \
	do {                                                                       \
		if (curl_easy_setopt(curl, opt, val) != CURLE_OK)                  \
			return fail(resp, HTTP_ERROR_OTHER, "libcurl refused %s", #opt), \
			       -EINVAL;                                            \
	} while (0)

static bool header_is_sensitive(const char *h)
{
	return strncasecmp(h, "Authorization:", 14) == 0 || strncasecmp(h, "Cookie:", 7) == 0;
}

/* same_origin: still on the scheme, host and port the request started with; otherwise
 * credentials and the Authorization and Cookie headers stay behind (as browsers and Go do). */
static int setup_hop(struct xfer *x, const char *url, enum http_method method, bool same_origin,
		     struct curl_slist **headers, char *range, size_t range_size)
{
	struct http_client *c = x->c;
	const struct http_request *req = x->req;
	struct http_response *resp = x->resp;
	CURL *curl = c->curl;
	struct curl_blob blob;
	struct curl_slist *l = NULL, *t;

	curl_easy_reset(curl);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
	/* connections are kept across requests (etcd, daemons): notice dead peers */
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_USERAGENT, c->user_agent);
	/* every hop gets the time left of the attempt, not the whole timeout again, so neither
	 * redirects nor a peer that never answers stretch a deadline (docs/security.md) */
	uint64_t connect = c->connect_timeout_usec;
	if (x->deadline) {
		uint64_t now = http_now_usec();
		uint64_t left = x->deadline > now ? x->deadline - now : 1000;
		if (connect > left)
			connect = left;
		SETOPT(CURLOPT_TIMEOUT_MS, usec_to_ms(left));
	}
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, usec_to_ms(connect));
	if (c->low_speed_time_usec) {
		long secs = (long)((c->low_speed_time_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
		SETOPT(CURLOPT_LOW_SPEED_LIMIT,
		       (long)(c->low_speed_limit ? (c->low_speed_limit > LONG_MAX ? LONG_MAX
						    : (long)c->low_speed_limit) : 1));
		SETOPT(CURLOPT_LOW_SPEED_TIME, secs);
	}
	if (c->ca_file)
		SETOPT(CURLOPT_CAINFO, c->ca_file);
	if (c->ca_pem) {
		blob = (struct curl_blob){ c->ca_pem, c->ca_pem_size, CURL_BLOB_NOCOPY };
		SETOPT(CURLOPT_CAINFO_BLOB, &blob);
	}
	if (c->cert_file)
		SETOPT(CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		SETOPT(CURLOPT_SSLKEY, c->key_file);
	if (c->cert_pem) {
		blob = (struct curl_blob){ c->cert_pem, c->cert_pem_size, CURL_BLOB_COPY };
		SETOPT(CURLOPT_SSLCERT_BLOB, &blob);
		SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (c->key_pem) {
		blob = (struct curl_blob){ c->key_pem, c->key_pem_size, CURL_BLOB_COPY };
		SETOPT(CURLOPT_SSLKEY_BLOB, &blob);
		SETOPT(CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (c->proxy)
		SETOPT(CURLOPT_PROXY, c->proxy);

	switch (method) {
	case HTTP_GET:
		SETOPT(CURLOPT_HTTPGET, 1L);
		break;
	case HTTP_HEAD:
		SETOPT(CURLOPT_NOBODY, 1L);
		break;
	case HTTP_POST:
	case HTTP_PUT:
	case HTTP_DELETE:
		if (method != HTTP_POST)
			SETOPT(CURLOPT_CUSTOMREQUEST, method_names[method]);
		if (method != HTTP_DELETE || req->body) {
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_size);
			SETOPT(CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
		}
		break;
	default:
		return fail(resp, HTTP_ERROR_OTHER, "unknown method"), -EINVAL;
	}

	if (same_origin && req->username) {
		SETOPT(CURLOPT_USERNAME, req->username);
		SETOPT(CURLOPT_PASSWORD, req->password ? req->password : "");
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	}

	/* no "Expect: 100-continue" round trip for bodies */
	t = curl_slist_append(l, "Expect:");
	if (!t)
		goto oom;
	l = t;
	if (req->content_type && method != HTTP_GET && method != HTTP_HEAD) {
		char ct[256];
		if (snprintf(ct, sizeof(ct), "Content-Type: %s", req->content_type) >= (int)sizeof(ct))
			return curl_slist_free_all(l), fail(resp, HTTP_ERROR_OTHER, "content type too long"),
			       -EINVAL;
		if (!(t = curl_slist_append(l, ct)))
			goto oom;
		l = t;
	}
	for (size_t i = 0; i < c->n_headers; i++) {
		if (!same_origin && header_is_sensitive(c->headers[i]))
			continue;
		if (!(t = curl_slist_append(l, c->headers[i])))
			goto oom;
		l = t;
	}
	for (size_t i = 0; req->headers && req->headers[i]; i++) {
		if (!strchr(req->headers[i], ':') || strpbrk(req->headers[i], "\r\n")) {
			curl_slist_free_all(l);
			return fail(resp, HTTP_ERROR_OTHER, "malformed request header"), -EINVAL;
		}
		if (!same_origin && header_is_sensitive(req->headers[i]))
			continue;
		if (!(t = curl_slist_append(l, req->headers[i])))
			goto oom;
		l = t;
	}
	*headers = l;
	if (curl_easy_setopt(curl, CURLOPT_HTTPHEADER, l) != CURLE_OK)
		return fail(resp, HTTP_ERROR_OTHER, "libcurl refused headers"), -EINVAL;
	if (x->resume_from > 0) {
		(void)snprintf(range, range_size, "%" PRIu64 "-", x->resume_from);
		SETOPT(CURLOPT_RANGE, range);
	}
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, x);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, x);
	SETOPT(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
	SETOPT(CURLOPT_XFERINFODATA, x);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	return 0;

oom:
	curl_slist_free_all(l);
	return fail(resp, HTTP_ERROR_OTHER, "out of memory"), -ENOMEM;
}

static int map_curl_error(struct xfer *x, CURLcode cc, const char *errbuf)
{
	struct http_response *resp = x->resp;
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (x->cb_error < 0)
		return x->cb_error;
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_PROXY:
		if (resp->status == 0)
			fail(resp, HTTP_ERROR_CONNECT, "cannot reach server: %s", why);
		else
			fail(resp, HTTP_ERROR_CONNECT, "connection lost: %s", why);
		return -EAGAIN;
	case CURLE_OPERATION_TIMEDOUT:
		if (resp->status == 0)
			fail(resp, HTTP_ERROR_TIMEOUT, "cannot reach server: %s", why);
		else
			fail(resp, HTTP_ERROR_TIMEOUT, "transfer stalled: %s", why);
		return -EAGAIN;
	case CURLE_PARTIAL_FILE:
		fail(resp, HTTP_ERROR_TRUNCATED, "truncated: %s", why);
		return -EAGAIN;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
		fail(resp, HTTP_ERROR_TLS, "TLS: %s", why);
		return -EPERM;
	case CURLE_UNSUPPORTED_PROTOCOL:
		fail(resp, HTTP_ERROR_OTHER, "unsupported URL scheme: %s", why);
		return -EPROTONOSUPPORT;
	case CURLE_URL_MALFORMAT:
		fail(resp, HTTP_ERROR_OTHER, "malformed URL: %s", why);
		return -EINVAL;
	case CURLE_FILESIZE_EXCEEDED:
		fail(resp, HTTP_ERROR_TOO_LARGE, "response too large: %s", why);
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		fail(resp, HTTP_ERROR_OTHER, "out of memory");
		return -ENOMEM;
	default:
		fail(resp, HTTP_ERROR_OTHER, "%s", why);
		return -EIO;
	}
}

static int map_status(struct http_response *resp)
{
	long s = resp->status;
	if (s >= 200 && s <= 299)
		return 0;
	if (s >= 500 || s == 429 || s == 408) {
		fail(resp, HTTP_ERROR_STATUS, "server error: HTTP %ld", s);
		return -EAGAIN;
	}
	fail(resp, HTTP_ERROR_STATUS, "HTTP %ld", s);
	if (s == 404 || s == 410)
		return -ENOENT;
	if (s == 401 || s == 403)
		return -EACCES;
	return -EPROTO;
}

/* A 416 to "Range: bytes=N-" whose Content-Range gives N as the complete length: the resource
 * ends exactly where we are, so the download is already complete. 0 when so, 1 when it is an ordinary 416. */
static int range_complete(struct xfer *x)
{
	struct http_response *resp = x->resp;
	const char *cr = http_response_header(resp, "Content-Range"), *e;
	int64_t t;
	if (!cr || strncasecmp(cr, "bytes */", 8) != 0 || (t = parse_u64(cr + 8, &e)) < 0 || *e ||
	    (uint64_t)t != x->resume_from)
		return 1;
	resp->offset = resp->total_size = (uint64_t)t;
	resp->bytes_received = 0;
	resp->body_size = 0;
	if (resp->body)
		resp->body[0] = 0;
	return 0;
}

static bool is_redirect(long s)
{
	return s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
}

/* One attempt: the request and the redirects it leads to. */
uint64_t http_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

void http_client_set_deadline(struct http_client *c, uint64_t deadline_usec)
{
	c->deadline_usec = deadline_usec;
}

/* The earlier of two deadlines, 0 meaning none. */
static uint64_t earlier(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

/* The URL names its host by an IP address (no name to resolve). */
static bool url_host_is_address(const char *url)
{
	const char *p = strstr(url, "://");
	char host[64];
	struct in_addr a4;

	if (!p)
		return false;
	p += 3;
	size_t n = strcspn(p, "/?#");
	const char *at = memrchr(p, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (*p == '[')
		return true; /* an IPv6 literal */
	n = strcspn(p, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return false;
	memcpy(host, p, n);
	host[n] = 0;
	return inet_pton(AF_INET, host, &a4) == 1;
}

/* A proxy may be used: the client's, or one from libcurl's environment variables. */
static bool proxy_possible(const struct http_client *c)
{
	static const char *const vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy",
					    "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
	if (c->proxy)
		return *c->proxy != 0;
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		if (getenv(vars[i]) && *getenv(vars[i]))
			return true;
	return false;
}

static int attempt(struct http_client *c, const struct http_request *req, struct http_response *resp,
		   uint64_t resume_from, uint64_t deadline)
{
	_cleanup_free_ char *url = strdup(req->url);
	enum http_method method = req->method;
	bool same_origin = true;
	struct xfer x = {
		.c = c, .req = req, .resp = resp,
		.streaming = req->use_out_fd || req->write_cb,
		.resume_from = resume_from,
	};
	char scheme[16], range[32], errbuf[CURL_ERROR_SIZE];
	uint64_t t = req->timeout_usec == HTTP_NO_TIMEOUT ? 0 : req->timeout_usec ?: c->timeout_usec;
	unsigned hops = 0;
	int r;

	if (!url)
		return fail(resp, HTTP_ERROR_OTHER, "out of memory"), -ENOMEM;
	x.deadline = earlier(deadline, t ? http_now_usec() + t : 0);
	x.limit = req->max_size ? req->max_size : x.streaming ? 0 : c->max_response_size;
	url_scheme(url, scheme, sizeof(scheme));
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		return fail(resp, HTTP_ERROR_OTHER, "unsupported URL scheme '%s'", scheme),
		       -EPROTONOSUPPORT;
	if (req->username && strcmp(scheme, "https") != 0)
		return fail(resp, HTTP_ERROR_CREDENTIALS, "credentials refused over plain http"),
		       -EPERM;

	for (;;) {
		struct curl_slist *headers = NULL;
		long conns = 0;
		char *loc = NULL;

		resp->status = 0;
		resp->bytes_received = 0;
		resp->body_size = 0;
		if (resp->body)
			resp->body[0] = 0;
		x.started = x.is_2xx = false;
		x.cb_error = 0;
		errbuf[0] = 0;
		/* a name to resolve: NSS set up now, not at the start of a run under --root */
		if (!url_host_is_address(url) || proxy_possible(c))
			host_nss_setup();
		r = setup_hop(&x, url, method, same_origin, &headers, range, sizeof(range));
		if (r >= 0 && curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK)
			r = -EINVAL;
		if (r < 0) {
			curl_slist_free_all(headers);
			return r;
		}
		_cleanup_free_ int *fds_before = NULL;
		size_t n_fds_before = 0;
		bool first = !c->performed;
		if (first && fd_list(&fds_before, &n_fds_before) < 0)
			first = false;
		CURLcode cc = curl_easy_perform(c->curl);
		if (first)
			cloexec_new_sockets(fds_before, n_fds_before);
		c->performed = true;
		(void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		(void)curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &conns);
		resp->new_connections += conns;
		free(resp->effective_url);
		resp->effective_url = strdup(url);
		if (cc == CURLE_OK && is_redirect(resp->status))
			(void)curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &loc);
		_cleanup_free_ char *next = loc ? strdup(loc) : NULL;
		/* the easy handle keeps pointers into these until the next reset */
		(void)curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
		(void)curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
		curl_slist_free_all(headers);
		if (cc != CURLE_OK)
			return map_curl_error(&x, cc, errbuf);
		if (!loc && resp->status == 416 && x.resume_from > 0) {
			r = range_complete(&x);
			if (r <= 0)
				return r;
		}
		if (!loc) {
			if (resp->status >= 200 && resp->status <= 299 && !x.started && x.streaming) {
				/* empty 2xx body: still tell the sink where the (empty) body starts */
				r = body_begin(&x, c->curl);
				if (r < 0)
					return r;
			}
			return map_status(resp);
		}
		if (!next)
			return fail(resp, HTTP_ERROR_OTHER, "out of memory"), -ENOMEM;

		char nscheme[16];
		url_scheme(next, nscheme, sizeof(nscheme));
		if ((strcmp(nscheme, "http") != 0 && strcmp(nscheme, "https") != 0) ||
		    (strcmp(scheme, "https") == 0 && strcmp(nscheme, "http") == 0))
			return fail(resp, HTTP_ERROR_REDIRECT_REFUSED, "redirect to %s refused",
				    nscheme[0] ? nscheme : "an unknown scheme"),
			       -EPROTONOSUPPORT;
		if (hops >= c->max_redirects)
			return fail(resp, HTTP_ERROR_TOO_MANY_REDIRECTS, "too many redirects (%u)",
				    c->max_redirects),
			       -ELOOP;
		resp->redirects = ++hops;
		/* RFC 9110 15.4: 301/302/303 turn a POST into a GET in practice; 307/308 keep it */
		if ((resp->status == 303 && method != HTTP_HEAD) ||
		    ((resp->status == 301 || resp->status == 302) && method == HTTP_POST))
			method = HTTP_GET;
		if (same_origin && !url_same_origin(url, next))
			same_origin = false;
		free(url);
		url = TAKE_PTR(next);
		memcpy(scheme, nscheme, sizeof(scheme));
	}
}

uint64_t http_retry_delay_usec(const struct http_retry_policy *p, unsigned n, double random01)
{
	uint64_t base = p->initial_delay_usec ?: USEC_PER_SEC;
	uint64_t max = p->max_delay_usec ?: 60 * USEC_PER_SEC;
	uint64_t d = base;
	for (unsigned i = 1; i < n && d < max; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (d > max)
		d = max;
	if (random01 < 0.0)
		random01 = 0.0;
	if (random01 >= 1.0)
		random01 = 0.999999;
	return d - (uint64_t)((double)d * p->jitter * random01);
}

static double random01(void)
{
	uint64_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != sizeof(v))
		v = (uint64_t)time(NULL) * 6364136223846793005ULL;
	return (double)(v >> 11) / (double)(1ULL << 53);
}

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / USEC_PER_SEC),
			       .tv_nsec = (long)(usec % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool retryable(const struct http_retry_policy *p, const struct http_response *resp, int r)
{
	if (r != -EAGAIN)
		return false;
	if (resp->kind == HTTP_ERROR_STATUS)
		return p->retry_on_status;
	return true;
}

int http_request_perform(struct http_client *c, const struct http_request *req,
			 struct http_response *resp)
{
	uint64_t resume = req->resume_from;
	uint64_t deadline = earlier(req->deadline_usec, c ? c->deadline_usec : 0);
	int r;

	*resp = (struct http_response){};
	if (!c || !req || !req->url)
		return -EINVAL;
	if (req->use_out_fd && (req->out_fd < 0 || req->write_cb))
		return -EINVAL;
	for (unsigned n = 0;; n++) {
		resp->attempts = n + 1;
		resp->redirects = 0;
		resp->kind = HTTP_ERROR_NONE;
		resp->error[0] = 0;
		if (deadline && http_now_usec() >= deadline) {
			fail(resp, HTTP_ERROR_TIMEOUT, "deadline reached before the request");
			r = -EAGAIN;
			break;
		}
		r = attempt(c, req, resp, resume, deadline);
		if (r >= 0 || n >= c->retry.max_retries || !retryable(&c->retry, resp, r))
			break;
		uint64_t delay = http_retry_delay_usec(&c->retry, n + 1, random01());
		const char *ra = http_response_header(resp, "Retry-After"), *e;
		int64_t secs;
		uint64_t max = c->retry.max_delay_usec ?: 60 * USEC_PER_SEC;
		if (ra && (resp->status == 429 || resp->status == 503) &&
		    (secs = parse_u64(ra, &e)) >= 0 && *e == 0 &&
		    (uint64_t)secs * USEC_PER_SEC <= max)
			delay = (uint64_t)secs * USEC_PER_SEC;
		/* a stream continues where the bytes delivered so far end */
		if ((req->use_out_fd || req->write_cb) && resp->bytes_received > 0)
			resume = resp->offset + resp->bytes_received;
		/* a retry that would start after the deadline is not made: the last error stands */
		if (deadline && http_now_usec() + delay >= deadline)
			break;
		sleep_usec(delay);
	}
	if (!resp->body) {
		resp->body = calloc(1, 1);
		if (!resp->body)
			return -ENOMEM;
	}
	return r;
}

int http_get(struct http_client *c, const char *url, struct http_response *resp)
{
	const struct http_request req = { .method = HTTP_GET, .url = url };
	return http_request_perform(c, &req, resp);
}

int http_post(struct http_client *c, const char *url, const char *content_type, const void *body,
	      size_t size, struct http_response *resp)
{
	const struct http_request req = { .method = HTTP_POST, .url = url, .body = body,
					  .body_size = size, .content_type = content_type };
	return http_request_perform(c, &req, resp);
}
