/* SPDX-License-Identifier: MIT */
/* lib/http/server.c - a small hardened HTTP/1.1 server (include/http/server.h), written for
 * `update serve` (docs/update.md "update serve"): no HTTP server library is linked, and libcurl
 * is a client only.
 *
 * Model: the main thread polls the listening socket and a signalfd; each accepted connection gets
 * a detached thread, counted under a mutex so that the end of http_server_run() can wait for all
 * of them. A connection carries exactly one request. Reading is bounded in bytes (headers, body)
 * and in time (one deadline for the whole request, applied to every recv() through
 * SO_RCVTIMEO), so a slow or hostile client costs one thread for at most request_timeout;
 * sending is bounded by SO_SNDTIMEO. SIGPIPE is blocked, and every send uses MSG_NOSIGNAL. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/server.h"
#include "util/cleanup.h"

#define DEFAULT_MAX_HEADER (16u << 10)
#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_REQUEST_TIMEOUT_USEC (30ULL * 1000000)
#define DEFAULT_IO_TIMEOUT_USEC (60ULL * 1000000)
#define DEFAULT_MAX_CONNECTIONS 64
#define MAX_HEADER_LINES 100
#define SENDFILE_CHUNK (1u << 20)
#define USEC_PER_SEC 1000000ULL

struct http_exchange {
	int fd;
	const struct http_server_opts *o;
	enum http_method method;
	const char *range;
	int status;
	uint64_t bytes;
};

struct server {
	const struct http_server_opts *o;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned active;
};

struct conn {
	struct server *s;
	int fd;
	char peer[64];
};

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 206: return "Partial Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static int set_timeout(int fd, int opt, uint64_t usec)
{
	struct timeval tv = { .tv_sec = (time_t)(usec / USEC_PER_SEC),
			      .tv_usec = (suseconds_t)(usec % USEC_PER_SEC) };
	if (tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1000; /* 0 would mean "no timeout" */
	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* ---- ranges ---- */

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int parse_digits(const char **pp, uint64_t *ret)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*pp = p;
	*ret = v;
	return 0;
}

int http_range_parse(const char *header, uint64_t size, uint64_t *start, uint64_t *end)
{
	uint64_t a, b;

	*start = 0;
	*end = size ? size - 1 : 0;
	if (!header)
		return 0;
	const char *p = skip_ows(header);
	if (strncasecmp(p, "bytes", 5) != 0)
		return 0; /* another unit: ignored (RFC 9110 14.2) */
	p = skip_ows(p + 5);
	if (*p != '=')
		return -ERANGE;
	p = skip_ows(p + 1);
	if (strchr(p, ','))
		return 0; /* several ranges: the whole resource instead (RFC 9110 14.2) */
	if (*p == '-') {
		p++;
		if (parse_digits(&p, &b) < 0 || *skip_ows(p) || b == 0 || size == 0)
			return -ERANGE;
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return 1;
	}
	if (parse_digits(&p, &a) < 0 || *p != '-')
		return -ERANGE;
	p++;
	if (isdigit((unsigned char)*p)) {
		if (parse_digits(&p, &b) < 0 || b < a)
			return -ERANGE;
	} else
		b = UINT64_MAX;
	if (*skip_ows(p) || a >= size)
		return -ERANGE;
	*start = a;
	*end = b < size ? b : size - 1;
	return 1;
}

/* ---- answers ---- */

static int send_head(struct http_exchange *x, int status, const char *content_type,
		     uint64_t length, const char *extra)
{
	char date[64] = "", head[1024];
	struct tm tm;
	time_t t = time(NULL);
	if (gmtime_r(&t, &tm))
		(void)strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\n%s%s%sDate: %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %" PRIu64 "\r\n%sConnection: close\r\n\r\n",
			 status, http_status_reason(status),
			 x->o->server_name ? "Server: " : "",
			 x->o->server_name ? x->o->server_name : "",
			 x->o->server_name ? "\r\n" : "", date,
			 content_type ? content_type : "text/plain; charset=utf-8", length,
			 extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -EINVAL;
	x->status = status;
	return send_all(x->fd, head, (size_t)n);
}

static int reply_extra(struct http_exchange *x, int status, const char *content_type,
		       const void *body, size_t size, const char *extra)
{
	if (x->status)
		return -EALREADY;
	int r = send_head(x, status, content_type, size, extra);
	if (r < 0 || x->method == HTTP_HEAD || size == 0)
		return r;
	r = send_all(x->fd, body, size);
	if (r == 0)
		x->bytes += size;
	return r;
}

int http_reply(struct http_exchange *x, int status, const char *content_type, const void *body,
	       size_t size)
{
	return reply_extra(x, status, content_type, body, size, NULL);
}

int http_reply_file(struct http_exchange *x, int fd, uint64_t size, const char *content_type)
{
	uint64_t start, end;
	char extra[160];
	int r;

	if (x->status)
		return -EALREADY;
	r = http_range_parse(x->range, size, &start, &end);
	if (r < 0) {
		static const char msg[] = "range not satisfiable\n";
		(void)snprintf(extra, sizeof(extra), "Content-Range: bytes */%" PRIu64 "\r\n", size);
		return reply_extra(x, 416, NULL, msg, sizeof(msg) - 1, extra);
	}
	uint64_t length = size ? end - start + 1 : 0;
	if (r > 0)
		(void)snprintf(extra, sizeof(extra),
			       "Accept-Ranges: bytes\r\nContent-Range: bytes %" PRIu64 "-%" PRIu64
			       "/%" PRIu64 "\r\n", start, end, size);
	else
		(void)snprintf(extra, sizeof(extra), "Accept-Ranges: bytes\r\n");
	r = send_head(x, r > 0 ? 206 : 200, content_type ? content_type : "application/octet-stream",
		      length, extra);
	if (r < 0 || x->method == HTTP_HEAD)
		return r;
	off_t off = (off_t)start;
	while (length > 0) {
		ssize_t k = sendfile(x->fd, fd, &off, length < SENDFILE_CHUNK ? length : SENDFILE_CHUNK);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (k == 0)
			return -EIO; /* the file shrank under us */
		x->bytes += (uint64_t)k;
		length -= (uint64_t)k;
	}
	return 0;
}

int http_exchange_status(const struct http_exchange *x)
{
	return x->status;
}

uint64_t http_exchange_bytes(const struct http_exchange *x)
{
	return x->bytes;
}

/* ---- reading one request ---- */

struct parsed {
	struct http_server_request req;
	char *target;
	const char *expect;
	bool has_length, chunked;
	uint64_t length;
};

static bool tchar(char c)
{
	return isalnum((unsigned char)c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* Refusal: status and reason, 0 on success. `head` is NUL-terminated and modified in place. */
static int parse_head(char *head, struct parsed *p, const char **reason)
{
	char *save = NULL, *line = strtok_r(head, "\n", &save);
	if (!line)
		return *reason = "empty request", 400;
	size_t n = strlen(line);
	if (n && line[n - 1] == '\r')
		line[--n] = 0;

	char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' '))
		return *reason = "malformed request line", 400;
	*sp1 = *sp2 = 0;
	const char *method = line, *target = sp1 + 1, *version = sp2 + 1;
	for (const char *c = method; *c; c++)
		if (!tchar(*c))
			return *reason = "malformed request line", 400;
	if (!*method || !*target)
		return *reason = "malformed request line", 400;
	if (strncmp(version, "HTTP/", 5) != 0)
		return *reason = "malformed request line", 400;
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return *reason = "only HTTP/1.0 and HTTP/1.1 are spoken", 505;
	if (target[0] != '/')
		return *reason = "request target is not an absolute path", 400;
	for (const char *c = target; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			return *reason = "bad character in request target", 400;
	if (strcmp(method, "GET") == 0)
		p->req.method = HTTP_GET;
	else if (strcmp(method, "HEAD") == 0)
		p->req.method = HTTP_HEAD;
	else if (strcmp(method, "POST") == 0)
		p->req.method = HTTP_POST;
	else
		return *reason = "only GET, HEAD and POST are allowed", 405;
	p->target = (char *)target;
	p->target[strcspn(p->target, "?#")] = 0;
	p->req.path = p->target;

	unsigned lines = 0;
	bool http11 = strcmp(version, "HTTP/1.1") == 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (n == 0)
			break;
		if (++lines > MAX_HEADER_LINES)
			return *reason = "too many header lines", 431;
		if (line[0] == ' ' || line[0] == '\t')
			return *reason = "obsolete header line folding", 400;
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			return *reason = "malformed header line", 400;
		for (const char *c = line; c < colon; c++)
			if (!tchar(*c))
				return *reason = "malformed header line", 400;
		*colon = 0;
		char *v = (char *)skip_ows(colon + 1);
		size_t vn = strlen(v);
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			v[--vn] = 0;
		for (const char *c = v; *c; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return *reason = "control character in a header value", 400;
		if (strcasecmp(line, "Host") == 0) {
			if (p->req.host)
				return *reason = "more than one Host header", 400;
			p->req.host = v;
		} else if (strcasecmp(line, "Content-Length") == 0) {
			uint64_t len;
			const char *q = v;
			if (parse_digits(&q, &len) < 0 || *q)
				return *reason = "bad Content-Length", 400;
			if (p->has_length && len != p->length)
				return *reason = "conflicting Content-Length headers", 400;
			p->has_length = true;
			p->length = len;
		} else if (strcasecmp(line, "Transfer-Encoding") == 0)
			p->chunked = true;
		else if (strcasecmp(line, "Range") == 0) {
			if (p->req.range)
				return *reason = "more than one Range header", 400;
			p->req.range = v;
		} else if (strcasecmp(line, "Content-Type") == 0)
			p->req.content_type = v;
		else if (strcasecmp(line, "User-Agent") == 0)
			p->req.user_agent = v;
		else if (strcasecmp(line, "Expect") == 0)
			p->expect = v;
	}
	if (http11 && !p->req.host)
		return *reason = "HTTP/1.1 request without Host", 400;
	if (p->chunked)
		return *reason = "Transfer-Encoding is not supported", 501;
	if (p->expect && strcasecmp(p->expect, "100-continue") != 0)
		return *reason = "unsupported Expect", 417;
	if (p->req.method == HTTP_POST && !p->has_length)
		return *reason = "POST without Content-Length", 411;
	if (p->req.method != HTTP_POST && p->has_length && p->length > 0)
		return *reason = "body on a GET or HEAD request", 400;
	return 0;
}

/* recv() with the time left until `deadline`: bytes read, 0 at EOF, -ETIMEDOUT, -errno. */
static ssize_t recv_until(int fd, void *buf, size_t n, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		int r = set_timeout(fd, SO_RCVTIMEO, deadline - now);
		if (r < 0)
			return r;
		ssize_t k = recv(fd, buf, n, 0);
		if (k >= 0)
			return k;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	}
}

static int reject(struct http_exchange *x, const char *peer, int status, const char *reason)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "%s\n", reason);
	const char *extra = status == 405 ? "Allow: GET, HEAD, POST\r\n" : NULL;
	(void)reply_extra(x, status, NULL, body, (size_t)n, extra);
	if (x->o->reject)
		x->o->reject(peer, status, reason, x->o->userdata);
	return 0;
}

static int serve_connection(struct conn *c)
{
	const struct http_server_opts *o = c->s->o;
	size_t max_header = o->max_header ? o->max_header : DEFAULT_MAX_HEADER;
	size_t max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	uint64_t deadline = now_usec() + (o->request_timeout_usec ? o->request_timeout_usec
								   : DEFAULT_REQUEST_TIMEOUT_USEC);
	struct http_exchange x = { .fd = c->fd, .o = o, .method = HTTP_GET };
	struct parsed p = { .req.peer = c->peer };
	_cleanup_free_ char *head = malloc(max_header + 1), *body = NULL;
	size_t n = 0, end = 0;
	const char *reason = NULL;
	int status;

	(void)set_timeout(c->fd, SO_SNDTIMEO,
			  o->io_timeout_usec ? o->io_timeout_usec : DEFAULT_IO_TIMEOUT_USEC);
	if (!head)
		return reject(&x, c->peer, 503, "out of memory");
	while (!end) {
		if (n == max_header)
			return reject(&x, c->peer, 431, "request header too large");
		ssize_t k = recv_until(c->fd, head + n, max_header - n, deadline);
		if (k == -ETIMEDOUT)
			return reject(&x, c->peer, 408, "request not received in time");
		if (k < 0)
			return 0;
		if (k == 0) {
			if (n > 0)
				reject(&x, c->peer, 400, "connection closed within the request");
			return 0;
		}
		size_t from = n > 3 ? n - 3 : 0;
		n += (size_t)k;
		for (size_t i = from; i < n && !end; i++) {
			if (i + 1 < n && head[i] == '\n' && head[i + 1] == '\n')
				end = i + 2;
			else if (i + 3 < n && memcmp(head + i, "\r\n\r\n", 4) == 0)
				end = i + 4;
		}
	}
	if (memchr(head, 0, end))
		return reject(&x, c->peer, 400, "NUL byte in request header");
	size_t extra = n - end;
	head[n] = 0;
	/* the body's first bytes follow the header in `head`; keep them before parsing in place */
	if (extra) {
		body = malloc(extra);
		if (!body)
			return reject(&x, c->peer, 503, "out of memory");
		memcpy(body, head + end, extra);
	}
	head[end] = 0;
	status = parse_head(head, &p, &reason);
	if (p.req.method == HTTP_HEAD)
		x.method = HTTP_HEAD;
	if (status)
		return reject(&x, c->peer, status, reason);
	x.method = p.req.method;
	x.range = p.req.range;

	if (p.req.method == HTTP_POST) {
		if (p.length > max_body)
			return reject(&x, c->peer, 413, "request body too large");
		if (extra > p.length)
			return reject(&x, c->peer, 400, "more data than Content-Length");
		char *b = realloc(body, p.length + 1);
		if (!b)
			return reject(&x, c->peer, 503, "out of memory");
		body = b;
		if (p.expect && extra < p.length) {
			static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
			if (send_all(c->fd, cont, sizeof(cont) - 1) < 0)
				return 0;
		}
		size_t got = extra;
		while (got < p.length) {
			ssize_t k = recv_until(c->fd, body + got, p.length - got, deadline);
			if (k == -ETIMEDOUT)
				return reject(&x, c->peer, 408, "request body not received in time");
			if (k < 0)
				return 0;
			if (k == 0)
				return reject(&x, c->peer, 400, "connection closed within the body");
			got += (size_t)k;
		}
		body[p.length] = 0;
		p.req.body = body;
		p.req.body_size = p.length;
	} else if (extra)
		return reject(&x, c->peer, 400, "data after a GET or HEAD request");

	o->handler(&x, &p.req, o->userdata);
	if (!x.status)
		(void)http_reply(&x, 500, NULL, "no answer\n", 10);
	return 0;
}

/* Close without losing the answer: a close() with unread input sends a reset, which can destroy
 * the last bytes in flight, so shut down our side and read what is left for a moment. */
static void linger_close(int fd)
{
	char sink[4096];
	(void)shutdown(fd, SHUT_WR);
	(void)set_timeout(fd, SO_RCVTIMEO, USEC_PER_SEC);
	for (int i = 0; i < 64; i++)
		if (recv(fd, sink, sizeof(sink), 0) <= 0)
			break;
	close(fd);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;
	struct server *s = c->s;
	(void)serve_connection(c);
	linger_close(c->fd);
	free(c);
	pthread_mutex_lock(&s->lock);
	if (--s->active == 0)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- listening ---- */

static void format_addr(const struct sockaddr_storage *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->ss_family == AF_INET6) {
		struct sockaddr_in6 s6 = {};
		memcpy(&s6, sa, sizeof(s6));
		(void)inet_ntop(AF_INET6, &s6.sin6_addr, host, sizeof(host));
		(void)snprintf(buf, size, "[%s]:%u", host, (unsigned)ntohs(s6.sin6_port));
	} else {
		struct sockaddr_in s4 = {};
		memcpy(&s4, sa, sizeof(s4));
		(void)inet_ntop(AF_INET, &s4.sin_addr, host, sizeof(host));
		(void)snprintf(buf, size, "%s:%u", host, (unsigned)ntohs(s4.sin_port));
	}
}

int http_server_listen(const char *addr, char **ret_bound)
{
	struct sockaddr_storage ss = {};
	socklen_t len;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port;
	uint64_t pnum;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');
		if (!close || close[1] != ':' || (size_t)(close - addr - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr + 1, (size_t)(close - addr - 1));
		host[close - addr - 1] = 0;
		port = close + 2;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || (size_t)(colon - addr) >= sizeof(host))
			return -EINVAL;
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = 0;
		port = colon + 1;
	}
	const char *q = port;
	if (parse_digits(&q, &pnum) < 0 || *q || pnum > 65535)
		return -EINVAL;
	if (addr[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pnum);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pnum);
		if (strcmp(host, "*") == 0)
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*s4);
	}

	_cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return -errno;
	if (listen(fd, 128) < 0)
		return -errno;
	if (ret_bound) {
		char buf[INET6_ADDRSTRLEN + 16];
		struct sockaddr_storage got = {};
		socklen_t gl = sizeof(got);
		if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0)
			return -errno;
		format_addr(&got, buf, sizeof(buf));
		*ret_bound = strdup(buf);
		if (!*ret_bound)
			return -ENOMEM;
	}
	return TAKE_FD(fd);
}

int http_server_run(int listen_fd, const struct http_server_opts *o)
{
	struct server s = { .o = o };
	sigset_t mask, old, stop;
	uint64_t accepted = 0;
	unsigned max_conn = o->max_connections ? o->max_connections : DEFAULT_MAX_CONNECTIONS;
	int r = 0;

	if (!o->handler)
		return -EINVAL;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	mask = stop;
	sigaddset(&mask, SIGPIPE);
	r = -pthread_sigmask(SIG_BLOCK, &mask, &old);
	if (r < 0)
		return r;
	_cleanup_close_ int sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		r = -errno;
		(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
		return r;
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.idle, NULL);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

	while (!o->max_requests || accepted < o->max_requests) {
		struct pollfd pfd[2] = { { .fd = listen_fd, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;
			(void)!read(sfd, &si, sizeof(si));
			break;
		}
		if (!pfd[0].revents)
			continue;
		struct sockaddr_storage sa = {};
		socklen_t sl = sizeof(sa);
		int cfd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				(void)poll(NULL, 0, 100); /* out of resources: let connections end */
				continue;
			}
			r = -errno;
			break;
		}
		accepted++;
		struct conn *c = calloc(1, sizeof(*c));
		pthread_mutex_lock(&s.lock);
		bool full = s.active >= max_conn || !c;
		if (!full)
			s.active++;
		pthread_mutex_unlock(&s.lock);
		if (full) {
			struct http_exchange x = { .fd = cfd, .o = o };
			(void)set_timeout(cfd, SO_SNDTIMEO, USEC_PER_SEC);
			(void)http_reply(&x, 503, NULL, "too many connections\n", 21);
			close(cfd);
			free(c);
			continue;
		}
		c->s = &s;
		c->fd = cfd;
		format_addr(&sa, c->peer, sizeof(c->peer));
		pthread_t t;
		if (pthread_create(&t, &attr, conn_thread, c) != 0) {
			close(cfd);
			free(c);
			pthread_mutex_lock(&s.lock);
			s.active--;
			pthread_mutex_unlock(&s.lock);
		}
	}

	pthread_mutex_lock(&s.lock);
	while (s.active > 0)
		pthread_cond_wait(&s.idle, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_attr_destroy(&attr);
	pthread_cond_destroy(&s.idle);
	pthread_mutex_destroy(&s.lock);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}
