/* SPDX-License-Identifier: MIT */
/* tests/unit/test-http.c - lib/http against real loopback HTTP and HTTPS servers
 * (tests/servers/httpd.py) with a throw-away CA, server and client certificates made by openssl. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "tap.h"

static char tmpdir[64];
static pid_t pids[4];
static unsigned n_pids;
static int port_http, port_https, port_mtls, port_wrong_name;

static void teardown(void)
{
	for (unsigned i = 0; i < n_pids; i++) {
		(void)kill(pids[i], SIGTERM);
		(void)waitpid(pids[i], NULL, 0);
	}
	if (tmpdir[0]) {
		char cmd[128];
		(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "# cleanup of %s failed\n", tmpdir);
	}
}

static const char *src_dir(void)
{
	const char *s = getenv("FLATCTL_SRC");
	return s && *s ? s : ".";
}

static char *path(const char *name)
{
	static char buf[8][256];
	static unsigned i;
	char *p = buf[i++ % 8];
	(void)snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

/* Starts httpd.py with extra args, waits for its port file, returns the port or -1. */
static int start_server(const char *name, const char *const *extra)
{
	char portfile[256], script[1024];
	const char *argv[16];
	unsigned n = 0;

	(void)snprintf(portfile, sizeof(portfile), "%.64s/%.32s.port", tmpdir, name);
	(void)snprintf(script, sizeof(script), "%.900s/tests/servers/httpd.py", src_dir());
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	for (unsigned i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* the server dies with us, even when a test crashes */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	pids[n_pids++] = pid;
	/* wait for readiness (not a timing assertion: gives up only after 20 s) */
	for (int i = 0; i < 2000; i++) {
		FILE *f = fopen(portfile, "re");
		if (f) {
			int port = -1;
			if (fscanf(f, "%d", &port) != 1)
				port = -1;
			fclose(f);
			return port;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	return -1;
}

static bool setup(void)
{
	static int state; /* 0 not yet, 1 ok, -1 failed */
	char cmd[4096];

	if (state)
		return state > 0;
	state = -1;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/flatctl-http-XXXXXX");
	if (!mkdtemp(tmpdir))
		return false;
	atexit(teardown);
	(void)snprintf(cmd, sizeof(cmd),
		"set -e; cd '%s'; exec 2>openssl.log\n"
		"EC='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
		"openssl req -x509 $EC -keyout ca.key -out ca.pem -days 2 -subj /CN=flatctl-test-ca\n"
		"openssl req -x509 $EC -keyout other.key -out other.pem -days 2 -subj /CN=other-ca\n"
		"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > srv.ext\n"
		"printf 'extendedKeyUsage=clientAuth\\n' > cli.ext\n"
		"openssl req $EC -keyout srv.key -out srv.csr -subj /CN=localhost\n"
		"openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		"-extfile srv.ext -out srv.pem\n"
		"openssl req $EC -keyout cli.key -out cli.csr -subj /CN=flatctl-client\n"
		"openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		"-extfile cli.ext -out cli.pem\n"
		/* the right CA, another name: a server on 127.0.0.1 that is not 127.0.0.1 */
		"printf 'subjectAltName=DNS:other.example,IP:127.0.0.9\\n' > wrong.ext\n"
		"openssl req $EC -keyout wrong.key -out wrong.csr -subj /CN=other.example\n"
		"openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		"-extfile wrong.ext -out wrong.pem\n",
		tmpdir);
	if (system(cmd) != 0)
		return false;
	port_http = start_server("http", NULL);
	const char *tls[] = { "--cert", path("srv.pem"), "--key", path("srv.key"), NULL };
	port_https = start_server("https", tls);
	const char *mtls[] = { "--cert", path("srv.pem"), "--key", path("srv.key"), "--client-ca",
			       path("ca.pem"), NULL };
	port_mtls = start_server("mtls", mtls);
	const char *wrong[] = { "--cert", path("wrong.pem"), "--key", path("wrong.key"), NULL };
	port_wrong_name = start_server("wrong-name", wrong);
	if (port_http <= 0 || port_https <= 0 || port_mtls <= 0 || port_wrong_name <= 0)
		return false;
	state = 1;
	return true;
}

static char *url(const char *scheme, int port, const char *p)
{
	static char buf[8][512];
	static unsigned i;
	char *u = buf[i++ % 8];
	(void)snprintf(u, 512, "%.8s://127.0.0.1:%d%.400s", scheme, port, p);
	return u;
}
#define HURL(p) url("http", port_http, p)
#define SURL(p) url("https", port_https, p)

static unsigned char pat(uint64_t i)
{
	return (unsigned char)((i * 7 + 3) & 0xFF);
}

static bool file_is_pattern(const char *file, uint64_t n)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return false;
	uint64_t i = 0;
	int ch;
	bool ok = true;
	while ((ch = fgetc(f)) != EOF) {
		if (i >= n || ch != pat(i)) {
			ok = false;
			break;
		}
		i++;
	}
	fclose(f);
	return ok && i == n;
}

static char *read_text(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	if (buf && fread(buf, 1, 65535, f) == 0 && ferror(f)) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

#define SETUP() ASSERT_TRUE(setup())
#define CLIENT(var, ...)                                                            \
	_cleanup_(http_client_freep) struct http_client *var = NULL;                \
	do {                                                                         \
		const struct http_client_options o_ = { __VA_ARGS__ };               \
		ASSERT_OK(http_client_new(&o_, &var));                               \
	} while (0)

TEST(get_into_memory_with_headers)
{
	SETUP();
	CLIENT(c, .user_agent = "flatctl/test");
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_OK(http_get(c, HURL("/hello"), &r));
	ASSERT_EQ(r.status, 200);
	ASSERT_STREQ(r.body, "hello\n");
	ASSERT_EQ(r.body_size, 6);
	ASSERT_STREQ(http_response_header(&r, "x-test"), "yes");
	ASSERT_STREQ(http_response_header(&r, "Content-Type"), "text/plain");
	ASSERT_NULL(http_response_header(&r, "X-Missing"));
	ASSERT_EQ(r.kind, HTTP_ERROR_NONE);
	ASSERT_STREQ(r.error, "");
}

TEST(keepalive_reuses_connection)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response a = {}, b = {};
	ASSERT_OK(http_get(c, HURL("/hello"), &a));
	ASSERT_EQ(a.new_connections, 1);
	ASSERT_OK(http_get(c, HURL("/data/100"), &b));
	ASSERT_EQ(b.new_connections, 0);
	ASSERT_EQ(b.body_size, 100);
}

TEST(kept_connections_are_cloexec)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_OK(http_get(c, HURL("/hello"), &r));
	/* the connection stays open in the client: every socket we hold must be close-on-exec */
	unsigned sockets = 0;
	for (int fd = 0; fd < 1024; fd++) {
		struct stat st;
		if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
			continue;
		sockets++;
		ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	ASSERT_TRUE(sockets >= 1);
}

TEST(post_put_delete_send_body_and_headers)
{
	SETUP();
	static const char *const client_headers[] = { "X-Client: one", NULL };
	static const char *const req_headers[] = { "X-Request: two", NULL };
	CLIENT(c, .headers = client_headers, .user_agent = "flatctl/9");
	static const enum http_method methods[] = { HTTP_POST, HTTP_PUT, HTTP_DELETE };
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		_cleanup_(http_response_release) struct http_response r = {};
		const struct http_request req = {
			.method = methods[i], .url = HURL("/echo"), .body = "<xml/>", .body_size = 6,
			.content_type = "text/xml", .headers = req_headers,
		};
		ASSERT_OK(http_request_perform(c, &req, &r));
		char want[64];
		snprintf(want, sizeof(want), "\"method\": \"%s\"", http_method_to_string(methods[i]));
		ASSERT_NOT_NULL(strstr(r.body, want));
		ASSERT_NOT_NULL(strstr(r.body, "\"body\": \"<xml/>\""));
		ASSERT_NOT_NULL(strstr(r.body, "\"content-type\": \"text/xml\""));
		ASSERT_NOT_NULL(strstr(r.body, "\"x-client\": \"one\""));
		ASSERT_NOT_NULL(strstr(r.body, "\"x-request\": \"two\""));
		ASSERT_NOT_NULL(strstr(r.body, "\"user-agent\": \"flatctl/9\""));
		ASSERT_NULL(strstr(r.body, "\"expect\""));
	}
}

TEST(head_has_no_body)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .method = HTTP_HEAD, .url = HURL("/data/500") };
	ASSERT_OK(http_request_perform(c, &req, &r));
	ASSERT_EQ(r.status, 200);
	ASSERT_EQ(r.body_size, 0);
	ASSERT_STREQ(http_response_header(&r, "Content-Length"), "500");
}

TEST(status_errors_map_to_errno)
{
	SETUP();
	CLIENT(c);
	static const struct { const char *p; int err; const char *msg; } cases[] = {
		{ "/status/404", ENOENT, "HTTP 404" },
		{ "/status/410", ENOENT, "HTTP 410" },
		{ "/status/403", EACCES, "HTTP 403" },
		{ "/status/400", EPROTO, "HTTP 400" },
		{ "/status/503", EAGAIN, "server error: HTTP 503" },
		{ "/status/500", EAGAIN, "server error: HTTP 500" },
		{ "/status/429", EAGAIN, "server error: HTTP 429" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(http_response_release) struct http_response r = {};
		ASSERT_ERR(http_get(c, HURL(cases[i].p), &r), cases[i].err);
		ASSERT_EQ(r.kind, HTTP_ERROR_STATUS);
		ASSERT_STREQ(r.error, cases[i].msg);
		ASSERT_EQ(r.attempts, 1);
		/* the error body stays available (etcd puts its error JSON there) */
		ASSERT_TRUE(strncmp(r.body, "status ", 7) == 0);
	}
}

TEST(redirects_followed_and_counted)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_OK(http_get(c, HURL("/redirect/3"), &r));
	ASSERT_EQ(r.redirects, 4);
	ASSERT_STREQ(r.body, "hello\n");
	ASSERT_STREQ(r.effective_url, HURL("/hello"));
}

TEST(redirect_307_keeps_post)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_OK(http_post(c, HURL("/redirect307"), "text/plain", "abc", 3, &r));
	ASSERT_NOT_NULL(strstr(r.body, "\"method\": \"POST\""));
	ASSERT_NOT_NULL(strstr(r.body, "\"body\": \"abc\""));
}

TEST(redirect_loop_and_limit)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, HURL("/loop"), &r), ELOOP);
	ASSERT_EQ(r.kind, HTTP_ERROR_TOO_MANY_REDIRECTS);
	ASSERT_STREQ(r.error, "too many redirects (10)");
	ASSERT_EQ(r.redirects, 10);

	CLIENT(c2, .max_redirects = 2);
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_ERR(http_get(c2, HURL("/redirect/3"), &r2), ELOOP);
	ASSERT_STREQ(r2.error, "too many redirects (2)");

	CLIENT(c3, .max_redirects = HTTP_NO_REDIRECTS);
	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_ERR(http_get(c3, HURL("/redirect/0"), &r3), ELOOP);
}

TEST(redirect_to_other_scheme_refused)
{
	SETUP();
	CLIENT(c, .ca_file = path("ca.pem"));
	char p[512];
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, HURL("/location?to=file:///etc/passwd"), &r), EPROTONOSUPPORT);
	ASSERT_EQ(r.kind, HTTP_ERROR_REDIRECT_REFUSED);
	ASSERT_STREQ(r.error, "redirect to file refused");

	snprintf(p, sizeof(p), "/location?to=%s", HURL("/hello"));
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_ERR(http_get(c, SURL(p), &r2), EPROTONOSUPPORT);
	ASSERT_STREQ(r2.error, "redirect to http refused");

	/* http -> https is fine */
	snprintf(p, sizeof(p), "/location?to=%s", SURL("/hello"));
	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_OK(http_get(c, HURL(p), &r3));
	ASSERT_STREQ(r3.body, "hello\n");

	_cleanup_(http_response_release) struct http_response r4 = {};
	ASSERT_ERR(http_get(c, "ftp://127.0.0.1/x", &r4), EPROTONOSUPPORT);
}

TEST(refused_and_unresolvable_are_try_later)
{
	SETUP();
	/* a port nobody listens on: bind, read the port, close */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	ASSERT_OK(bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_OK(getsockname(s, (struct sockaddr *)&sa, &sl));
	close(s);
	CLIENT(c, .connect_timeout_usec = 5000000);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, url("http", ntohs(sa.sin_port), "/"), &r), EAGAIN);
	ASSERT_EQ(r.kind, HTTP_ERROR_CONNECT);
	ASSERT_TRUE(strncmp(r.error, "cannot reach server: ", 21) == 0);

	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_ERR(http_get(c, "http://flatctl-test.invalid/", &r2), EAGAIN);
	ASSERT_TRUE(strncmp(r2.error, "cannot reach server: ", 21) == 0);
}

TEST(memory_size_cap)
{
	SETUP();
	CLIENT(c, .max_response_size = 1000);
	_cleanup_(http_response_release) struct http_response r = {}, r2 = {}, r3 = {};
	ASSERT_OK(http_get(c, HURL("/data/1000"), &r));
	ASSERT_EQ(r.body_size, 1000);
	/* announced too large: refused before reading */
	ASSERT_ERR(http_get(c, HURL("/data/5000"), &r2), EFBIG);
	ASSERT_EQ(r2.kind, HTTP_ERROR_TOO_LARGE);
	ASSERT_STREQ(r2.error, "response too large (more than 1000 bytes)");
	ASSERT_EQ(r2.bytes_received, 0);
	/* no Content-Length: reading stops at the limit */
	ASSERT_ERR(http_get(c, HURL("/big/5000"), &r3), EFBIG);
	ASSERT_STREQ(r3.error, "response too large (more than 1000 bytes)");
	ASSERT_TRUE(r3.bytes_received <= 1000);
}

struct progress_rec {
	uint64_t last_done, last_total;
	unsigned calls;
	bool monotonic;
};

static int progress_rec_cb(uint64_t done, uint64_t total, void *userdata)
{
	struct progress_rec *p = userdata;
	if (done < p->last_done)
		p->monotonic = false;
	p->last_done = done;
	p->last_total = total;
	p->calls++;
	return 0;
}

TEST(stream_to_fd_with_progress)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = open(path("out1"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_OK(fd);
	struct progress_rec p = { .monotonic = true };
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/data/300000"), .use_out_fd = true,
					  .out_fd = fd, .progress_cb = progress_rec_cb,
					  .userdata = &p };
	ASSERT_OK(http_request_perform(c, &req, &r));
	ASSERT_EQ(r.bytes_received, 300000);
	ASSERT_EQ(r.total_size, 300000);
	ASSERT_EQ(r.body_size, 0);
	ASSERT_TRUE(file_is_pattern(path("out1"), 300000));
	ASSERT_TRUE(p.calls > 0);
	ASSERT_TRUE(p.monotonic);
	ASSERT_EQ(p.last_done, 300000);
	ASSERT_EQ(p.last_total, 300000);
}

static int write_prefix(const char *file, uint64_t n, bool garbage_tail)
{
	int fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	for (uint64_t i = 0; i < n; i++) {
		unsigned char b = pat(i);
		if (write(fd, &b, 1) != 1)
			return -EIO;
	}
	if (garbage_tail && write(fd, "garbage", 7) != 7)
		return -EIO;
	return fd;
}

TEST(range_resume)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = write_prefix(path("out2"), 40000, true);
	ASSERT_OK(fd);
	struct progress_rec p = { .monotonic = true };
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/data/100000"), .use_out_fd = true,
					  .out_fd = fd, .resume_from = 40000,
					  .progress_cb = progress_rec_cb, .userdata = &p };
	ASSERT_OK(http_request_perform(c, &req, &r));
	ASSERT_EQ(r.status, 206);
	ASSERT_EQ(r.offset, 40000);
	ASSERT_EQ(r.bytes_received, 60000);
	ASSERT_EQ(r.total_size, 100000);
	ASSERT_FALSE(r.range_ignored);
	ASSERT_TRUE(file_is_pattern(path("out2"), 100000));
	ASSERT_EQ(p.last_done, 100000);
	ASSERT_EQ(p.last_total, 100000);
}

TEST(range_at_end_is_complete)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = write_prefix(path("out8"), 5000, false);
	ASSERT_OK(fd);
	_cleanup_(http_response_release) struct http_response r = {}, r2 = {};
	const struct http_request req = { .url = HURL("/data/5000"), .use_out_fd = true,
					  .out_fd = fd, .resume_from = 5000 };
	ASSERT_OK(http_request_perform(c, &req, &r));
	ASSERT_EQ(r.status, 416);
	ASSERT_EQ(r.offset, 5000);
	ASSERT_EQ(r.bytes_received, 0);
	ASSERT_TRUE(file_is_pattern(path("out8"), 5000));
	/* past the end is an error */
	const struct http_request past = { .url = HURL("/data/5000"), .use_out_fd = true,
					   .out_fd = fd, .resume_from = 6000 };
	ASSERT_ERR(http_request_perform(c, &past, &r2), EPROTO);
	ASSERT_STREQ(r2.error, "HTTP 416");
}

TEST(range_ignored_starts_over)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = write_prefix(path("out3"), 100, true);
	ASSERT_OK(fd);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/norange/5000"), .use_out_fd = true,
					  .out_fd = fd, .resume_from = 100 };
	ASSERT_OK(http_request_perform(c, &req, &r));
	ASSERT_EQ(r.status, 200);
	ASSERT_TRUE(r.range_ignored);
	ASSERT_EQ(r.offset, 0);
	ASSERT_TRUE(file_is_pattern(path("out3"), 5000));
}

TEST(range_wrong_start_refused)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = write_prefix(path("out4"), 100, false);
	ASSERT_OK(fd);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/badrange/5000"), .use_out_fd = true,
					  .out_fd = fd, .resume_from = 100 };
	ASSERT_ERR(http_request_perform(c, &req, &r), EPROTO);
	ASSERT_EQ(r.kind, HTTP_ERROR_RANGE);
	ASSERT_TRUE(file_is_pattern(path("out4"), 100));
}

TEST(stream_size_cap)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = open(path("out5"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/big/5000"), .use_out_fd = true,
					  .out_fd = fd, .max_size = 3000 };
	ASSERT_ERR(http_request_perform(c, &req, &r), EFBIG);
	struct stat st;
	ASSERT_OK(fstat(fd, &st));
	ASSERT_TRUE(st.st_size <= 3000);
}

TEST(truncated_is_try_later_and_retry_resumes)
{
	SETUP();
	CLIENT(c);
	_cleanup_close_ int fd = open(path("out6"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/truncate/20000"), .use_out_fd = true,
					  .out_fd = fd };
	ASSERT_ERR(http_request_perform(c, &req, &r), EAGAIN);
	ASSERT_EQ(r.kind, HTTP_ERROR_TRUNCATED);
	ASSERT_EQ(r.bytes_received, 10000);

	CLIENT(cr, .retry = { .max_retries = 2, .initial_delay_usec = 1000, .jitter = 0.5 });
	_cleanup_close_ int fd2 = open(path("out7"), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	_cleanup_(http_response_release) struct http_response r2 = {};
	const struct http_request req2 = { .url = HURL("/truncate/20000"), .use_out_fd = true,
					   .out_fd = fd2 };
	ASSERT_OK(http_request_perform(cr, &req2, &r2));
	ASSERT_EQ(r2.attempts, 2);
	ASSERT_EQ(r2.status, 206);
	ASSERT_EQ(r2.offset, 10000);
	ASSERT_TRUE(file_is_pattern(path("out7"), 20000));
}

TEST(stall_times_out)
{
	SETUP();
	CLIENT(c, .timeout_usec = 300000);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, HURL("/stall/20000"), &r), EAGAIN);
	ASSERT_EQ(r.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_TRUE(strncmp(r.error, "transfer stalled: ", 18) == 0);
}

TEST(request_timeout_overrides_client)
{
	SETUP();
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/stall/20000"), .timeout_usec = 200000 };
	ASSERT_ERR(http_request_perform(c, &req, &r), EAGAIN);
	ASSERT_EQ(r.kind, HTTP_ERROR_TIMEOUT);
	CLIENT(c2, .timeout_usec = 1);
	_cleanup_(http_response_release) struct http_response r2 = {};
	const struct http_request req2 = { .url = HURL("/hello"), .timeout_usec = HTTP_NO_TIMEOUT };
	ASSERT_OK(http_request_perform(c2, &req2, &r2));
}

/* docs/security.md §3: a deadline is kept, whatever the peer does. The lower bounds allow
 * 10 ms for libcurl's clock (CLOCK_MONOTONIC_RAW) against ours; the upper ones leave a loaded
 * machine room and still lie below what the old behaviour took. */
TEST(timeout_spans_redirects)
{
	SETUP();
	/* 5 hops of 400 ms each: every hop is under the 1 s timeout, the whole is not */
	CLIENT(c, .timeout_usec = 1000000);
	_cleanup_(http_response_release) struct http_response r = {};
	uint64_t t0 = http_now_usec();
	ASSERT_ERR(http_get(c, HURL("/slowredirect/4"), &r), EAGAIN);
	uint64_t took = http_now_usec() - t0;
	ASSERT_EQ(r.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_TRUE(took >= 990000 && took < 1600000); /* not 2 s: margin for a loaded machine */
	CLIENT(c2, .timeout_usec = 3000000);
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_OK(http_get(c2, HURL("/slowredirect/1"), &r2));
	ASSERT_EQ(r2.redirects, 2);
}

TEST(deadline_bounds_attempts_and_waits)
{
	SETUP();
	/* each attempt may take 300 ms and 5 retries follow: the deadline at 500 ms ends it all */
	CLIENT(c, .timeout_usec = 300000,
	       .retry = { .max_retries = 5, .initial_delay_usec = 50000, .max_delay_usec = 50000 });
	_cleanup_(http_response_release) struct http_response r = {};
	uint64_t t0 = http_now_usec();
	const struct http_request req = { .url = HURL("/stall/20000"), .deadline_usec = t0 + 500000 };
	ASSERT_ERR(http_request_perform(c, &req, &r), EAGAIN);
	uint64_t took = http_now_usec() - t0;
	ASSERT_EQ(r.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_EQ(r.attempts, 2);
	ASSERT_TRUE(took >= 490000 && took < 1000000); /* 6 attempts would take 1.8 s */

	/* a retry wait that would end past the deadline is not made: the first error stands */
	CLIENT(c2, .timeout_usec = 300000,
	       .retry = { .max_retries = 5, .initial_delay_usec = 400000, .max_delay_usec = 400000 });
	_cleanup_(http_response_release) struct http_response r2 = {};
	t0 = http_now_usec();
	const struct http_request req2 = { .url = HURL("/stall/20000"),
					   .deadline_usec = t0 + 600000 };
	ASSERT_ERR(http_request_perform(c2, &req2, &r2), EAGAIN);
	took = http_now_usec() - t0;
	ASSERT_EQ(r2.attempts, 1);
	ASSERT_EQ(r2.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_TRUE(took >= 290000 && took < 900000); /* a retry would end after 1 s */

	/* the client's deadline (lock's --timeout) cuts a request with no timeout of its own */
	CLIENT(c3);
	_cleanup_(http_response_release) struct http_response r3 = {};
	t0 = http_now_usec();
	http_client_set_deadline(c3, t0 + 300000);
	ASSERT_ERR(http_get(c3, HURL("/stall/20000"), &r3), EAGAIN);
	took = http_now_usec() - t0;
	ASSERT_EQ(r3.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_TRUE(took >= 290000 && took < 1000000); /* /stall never ends by itself */

	/* past the deadline nothing is sent */
	http_client_set_deadline(c3, 1);
	_cleanup_(http_response_release) struct http_response r4 = {};
	ASSERT_ERR(http_get(c3, HURL("/hello"), &r4), EAGAIN);
	ASSERT_EQ(r4.kind, HTTP_ERROR_TIMEOUT);
	ASSERT_STREQ(r4.error, "deadline reached before the request");
	ASSERT_EQ(r4.status, 0);
	http_client_set_deadline(c3, 0);
	_cleanup_(http_response_release) struct http_response r5 = {};
	ASSERT_OK(http_get(c3, HURL("/hello"), &r5));
}

TEST(low_speed_abort)
{
	SETUP();
	CLIENT(c, .low_speed_limit = 1000000, .low_speed_time_usec = 1000000);
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, HURL("/stall/20"), &r), EAGAIN);
	ASSERT_EQ(r.kind, HTTP_ERROR_TIMEOUT);
}

TEST(retry_on_status_is_opt_in)
{
	SETUP();
	CLIENT(c, .retry = { .max_retries = 3, .initial_delay_usec = 1000 });
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, HURL("/flaky/a/2"), &r), EAGAIN);
	ASSERT_EQ(r.attempts, 1);

	CLIENT(c2, .retry = { .max_retries = 3, .initial_delay_usec = 1000, .jitter = 1.0,
			      .retry_on_status = true });
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_OK(http_get(c2, HURL("/flaky/b/2"), &r2));
	ASSERT_EQ(r2.attempts, 3);
	ASSERT_EQ(r2.body_size, 1000);

	/* the redirect limit counts per attempt */
	CLIENT(c3, .max_redirects = 1, .retry = { .max_retries = 3, .initial_delay_usec = 1000,
						   .retry_on_status = true });
	_cleanup_(http_response_release) struct http_response r4 = {};
	ASSERT_OK(http_get(c3, HURL("/location?to=/flaky/c/2"), &r4));
	ASSERT_EQ(r4.attempts, 3);
	ASSERT_EQ(r4.redirects, 1);

	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_ERR(http_get(c2, HURL("/retry-after"), &r3), EAGAIN);
	ASSERT_EQ(r3.attempts, 4);
	ASSERT_EQ(r3.status, 429);
}

TEST(retry_delay_backoff_and_jitter)
{
	const struct http_retry_policy p = { .initial_delay_usec = 1000000,
					     .max_delay_usec = 10000000, .jitter = 0.5 };
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 1, 0.0), 1000000);
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 2, 0.0), 2000000);
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 4, 0.0), 8000000);
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 5, 0.0), 10000000);
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 50, 0.0), 10000000);
	ASSERT_U64_EQ(http_retry_delay_usec(&p, 1, 0.5), 750000);
	ASSERT_TRUE(http_retry_delay_usec(&p, 3, 0.99) >= 2000000);
	const struct http_retry_policy d = {};
	ASSERT_U64_EQ(http_retry_delay_usec(&d, 1, 0.3), 1000000);
}

static int abort_cb(const void *data, size_t size, uint64_t offset, void *userdata)
{
	unsigned *n = userdata;
	return ++*n > 1 ? -ECANCELED : 0;
}

TEST(callback_abort_returns_its_error)
{
	SETUP();
	CLIENT(c);
	unsigned n = 0;
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request req = { .url = HURL("/data/1000000"), .write_cb = abort_cb,
					  .userdata = &n };
	ASSERT_ERR(http_request_perform(c, &req, &r), ECANCELED);
	ASSERT_EQ(r.kind, HTTP_ERROR_ABORTED);
}

TEST(https_with_ca_file_and_pem)
{
	SETUP();
	CLIENT(c, .ca_file = path("ca.pem"));
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_OK(http_get(c, SURL("/hello"), &r));
	ASSERT_STREQ(r.body, "hello\n");

	_cleanup_free_ char *pem = read_text(path("ca.pem"));
	ASSERT_NOT_NULL(pem);
	CLIENT(c2, .ca_pem = pem, .ca_pem_size = strlen(pem));
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_OK(http_get(c2, SURL("/hello"), &r2));
	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_OK(http_get(c2, SURL("/data/10"), &r3));
	ASSERT_EQ(r3.new_connections, 0);
}

TEST(https_verification_failures)
{
	SETUP();
	CLIENT(c, .ca_file = path("other.pem"));
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_ERR(http_get(c, SURL("/hello"), &r), EPERM);
	ASSERT_EQ(r.kind, HTTP_ERROR_TLS);
	ASSERT_TRUE(strncmp(r.error, "TLS: ", 5) == 0);

	/* the right CA, the wrong name: the server at 127.0.0.1 presents a certificate of our CA
	 * for other.example and 127.0.0.9 only. Refused by the name check of the TLS handshake,
	 * not for want of an answer. */
	CLIENT(c2, .ca_file = path("ca.pem"));
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_ERR(http_get(c2, url("https", port_wrong_name, "/hello"), &r2), EPERM);
	ASSERT_EQ(r2.kind, HTTP_ERROR_TLS);
	ASSERT_TRUE(strstr(r2.error, "target host name '127.0.0.1'") != NULL);

	ASSERT_ERR(http_client_new(&(struct http_client_options){ .ca_file = path("nope.pem") },
				   &(struct http_client *){ NULL }), ENOENT);
}

TEST(tls_client_certificate)
{
	SETUP();
	CLIENT(none, .ca_file = path("ca.pem"));
	_cleanup_(http_response_release) struct http_response r = {};
	ASSERT_TRUE(http_get(none, url("https", port_mtls, "/hello"), &r) < 0);

	CLIENT(files, .ca_file = path("ca.pem"), .client_cert_file = path("cli.pem"),
	       .client_key_file = path("cli.key"));
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_OK(http_get(files, url("https", port_mtls, "/hello"), &r2));
	ASSERT_STREQ(r2.body, "hello\n");

	_cleanup_free_ char *cert = read_text(path("cli.pem"));
	_cleanup_free_ char *key = read_text(path("cli.key"));
	ASSERT_NOT_NULL(cert);
	ASSERT_NOT_NULL(key);
	CLIENT(mem, .ca_file = path("ca.pem"), .client_cert_pem = cert,
	       .client_cert_pem_size = strlen(cert), .client_key_pem = key);
	_cleanup_(http_response_release) struct http_response r3 = {};
	ASSERT_OK(http_get(mem, url("https", port_mtls, "/hello"), &r3));

	ASSERT_ERR(http_client_new(&(struct http_client_options){ .client_cert_file = path("cli.pem") },
				   &(struct http_client *){ NULL }), EINVAL);
}

TEST(proxy_from_environment_and_options)
{
	SETUP();
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port_http);
	ASSERT_OK(setenv("http_proxy", proxy, 1));
	CLIENT(c);
	_cleanup_(http_response_release) struct http_response r = {};
	int rr = http_get(c, "http://flatctl-test.invalid/x", &r);
	ASSERT_OK(unsetenv("http_proxy"));
	ASSERT_OK(rr);
	ASSERT_STREQ(r.body, "proxied http://flatctl-test.invalid/x\n");
	ASSERT_STREQ(http_response_header(&r, "X-Proxied"), "1");

	CLIENT(c2, .proxy = proxy);
	_cleanup_(http_response_release) struct http_response r2 = {};
	ASSERT_OK(http_get(c2, "http://flatctl-test.invalid/y", &r2));
	ASSERT_STREQ(r2.body, "proxied http://flatctl-test.invalid/y\n");

	/* "" turns the environment's proxy off */
	ASSERT_OK(setenv("http_proxy", proxy, 1));
	CLIENT(c3, .proxy = "");
	_cleanup_(http_response_release) struct http_response r3 = {};
	rr = http_get(c3, "http://flatctl-test.invalid/z", &r3);
	ASSERT_OK(unsetenv("http_proxy"));
	ASSERT_ERR(rr, EAGAIN);
}

TEST(https_through_proxy_from_environment)
{
	SETUP();
	char proxy[64];
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port_http);
	ASSERT_OK(setenv("https_proxy", proxy, 1));
	CLIENT(c, .ca_file = path("ca.pem"));
	_cleanup_(http_response_release) struct http_response r = {}, r2 = {};
	int rr = http_get(c, SURL("/hello"), &r);
	ASSERT_OK(unsetenv("https_proxy"));
	ASSERT_OK(rr);
	ASSERT_STREQ(r.body, "hello\n");
	/* the answer came from the https server (which opens no tunnels), through a tunnel that
	 * the proxy (the plain http server) opened */
	ASSERT_STREQ(http_response_header(&r, "X-Tunnels"), "0");
	ASSERT_OK(http_get(c, HURL("/hello"), &r2));
	ASSERT_NOT_NULL(http_response_header(&r2, "X-Tunnels"));
	ASSERT_TRUE(atoi(http_response_header(&r2, "X-Tunnels")) >= 1);
}

TEST(credentials_only_over_https)
{
	SETUP();
	CLIENT(c, .ca_file = path("ca.pem"));
	_cleanup_(http_response_release) struct http_response r = {}, r2 = {};
	const struct http_request plain = { .url = HURL("/echo"), .username = "u",
					    .password = "p" };
	ASSERT_ERR(http_request_perform(c, &plain, &r), EPERM);
	ASSERT_EQ(r.kind, HTTP_ERROR_CREDENTIALS);
	const struct http_request tls = { .url = SURL("/echo"), .username = "u", .password = "p" };
	ASSERT_OK(http_request_perform(c, &tls, &r2));
	ASSERT_NOT_NULL(strstr(r2.body, "\"authorization\": \"Basic dTpw\""));
}

TEST(secrets_stay_with_their_origin)
{
	SETUP();
	static const char *const hdrs[] = { "Authorization: Bearer t0ken", "Cookie: a=b",
					    "X-Other: kept", NULL };
	CLIENT(c, .ca_file = path("ca.pem"));
	char p[512];
	/* same origin: everything is sent */
	_cleanup_(http_response_release) struct http_response r = {};
	const struct http_request same = { .url = SURL("/location?to=/echo"), .headers = hdrs,
					   .username = "u", .password = "p" };
	ASSERT_OK(http_request_perform(c, &same, &r));
	ASSERT_NOT_NULL(strstr(r.body, "\"authorization\": \"Bearer t0ken\""));
	ASSERT_NOT_NULL(strstr(r.body, "\"cookie\": \"a=b\""));
	_cleanup_(http_response_release) struct http_response r1 = {};
	const struct http_request basic = { .url = SURL("/location?to=/echo"), .username = "u",
					    .password = "p" };
	ASSERT_OK(http_request_perform(c, &basic, &r1));
	ASSERT_NOT_NULL(strstr(r1.body, "\"authorization\": \"Basic dTpw\""));
	/* another port is another origin */
	/* another host name (same address) is another origin */
	snprintf(p, sizeof(p), "/location?to=https://localhost:%d/echo", port_https);
	_cleanup_(http_response_release) struct http_response r2 = {};
	const struct http_request cross = { .url = SURL(p), .headers = hdrs, .username = "u",
					    .password = "p" };
	ASSERT_OK(http_request_perform(c, &cross, &r2));
	ASSERT_NULL(strstr(r2.body, "authorization"));
	ASSERT_NULL(strstr(r2.body, "cookie"));
	ASSERT_NOT_NULL(strstr(r2.body, "\"x-other\": \"kept\""));
}

TEST(url_redaction)
{
	_cleanup_free_ char *a = http_url_redact("https://user:secret@host:8443/p/q?token=abc&x=1#frag");
	ASSERT_STREQ(a, "https://host:8443/p/q?token=***&x=***");
	_cleanup_free_ char *b = http_url_redact("http://example.com/v1/update/");
	ASSERT_STREQ(b, "http://example.com/v1/update/");
	_cleanup_free_ char *d = http_url_redact("http://h/p?flag&k=v");
	ASSERT_STREQ(d, "http://h/p?flag&k=***");
	_cleanup_free_ char *e = http_url_redact("http://a@b@h/");
	ASSERT_STREQ(e, "http://h/");
}

TEST(names)
{
	ASSERT_STREQ(http_method_to_string(HTTP_DELETE), "DELETE");
	ASSERT_NULL(http_method_to_string(_HTTP_METHOD_MAX));
	ASSERT_STREQ(http_error_kind_to_string(HTTP_ERROR_TLS), "tls");
}
