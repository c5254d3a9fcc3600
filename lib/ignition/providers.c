/* SPDX-License-Identifier: MIT */
/* lib/ignition/providers.c - the cloud providers' user data: aws, azure, digitalocean,
 * equinixmetal, gcp, hetzner, openstack (docs/provision-platforms.md).
 *
 * Each provider is one HTTP GET (aws adds its token, azure and openstack add a config drive)
 * against the provider's link-local or well-known metadata endpoint. Requests are retried with
 * Ignition's backoff (200 ms doubling to 5 s) on connection errors and 5xx answers, and on the
 * provider's own extra codes (azure: 404, 410, 429), until one deadline for the whole fetch
 * runs out; then the result is -EAGAIN (docs/provision.md §8: exit 75 for the initial config).
 * What counts as "no user data" differs per provider and follows coreos/ignition v2.20
 * internal/providers/<name>/: it is -ENOENT here and an empty config for the caller. No proxy
 * is used for these requests (Ignition passes an empty proxy) and the TLS peer is verified
 * against the system store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "version.h"

#include "crypto/crypto.h"
#include "http/http.h"
#include "ignition/ignition.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define USEC_PER_MSEC 1000ull
#define USEC_PER_SEC 1000000ull
#define BACKOFF_FIRST_USEC (200 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (5 * USEC_PER_SEC)
#define ATTEMPT_CONNECT_USEC (10 * USEC_PER_SEC)

enum not_found {
	NOT_FOUND_EMPTY, /* 404: no user data (aws, gcp, hetzner, openstack) */
	NOT_FOUND_FAIL,	 /* 404: a failure (digitalocean, equinixmetal) */
	NOT_FOUND_RETRY, /* 404, 410, 429: retried until the deadline (azure IMDS) */
};

struct md_service {
	const char *base;   /* the real endpoint */
	const char *path;   /* path and query */
	const char *header; /* a request header the service requires, or NULL */
	enum not_found not_found;
	const char *what; /* for the origin and messages */
};

/* coreos/ignition v2.20 internal/providers/{digitalocean,packet,gcp,hetzner,azure,openstack} */
static const struct md_service svc_digitalocean = {
	.base = "http://169.254.169.254",
	.path = "/metadata/v1/user-data",
	.not_found = NOT_FOUND_FAIL,
	.what = "digitalocean user-data",
};
/* The Equinix Metal (formerly Packet) service answers 406 to Go's default Accept header. */
static const struct md_service svc_equinixmetal = {
	.base = "https://metadata.packet.net",
	.path = "/userdata",
	.header = "Accept: */*",
	.not_found = NOT_FOUND_FAIL,
	.what = "equinixmetal userdata",
};
/* metadata.google.internal is this address; Ignition uses the literal, so no DNS is needed. */
static const struct md_service svc_gcp = {
	.base = "http://169.254.169.254",
	.path = "/computeMetadata/v1/instance/attributes/user-data",
	.header = "Metadata-Flavor: Google",
	.not_found = NOT_FOUND_EMPTY,
	.what = "gcp user-data attribute",
};
static const struct md_service svc_hetzner = {
	.base = "http://169.254.169.254",
	.path = "/hetzner/v1/userdata",
	.not_found = NOT_FOUND_EMPTY,
	.what = "hetzner userdata",
};
static const struct md_service svc_azure_imds = {
	.base = "http://169.254.169.254",
	.path = "/metadata/instance/compute/userData?api-version=2021-01-01&format=text",
	.header = "Metadata: true",
	.not_found = NOT_FOUND_RETRY,
	.what = "azure IMDS userData",
};
static const struct md_service svc_openstack = {
	.base = "http://169.254.169.254",
	.path = "/openstack/latest/user_data",
	.not_found = NOT_FOUND_EMPTY,
	.what = "openstack metadata service user_data",
};
static const struct md_service svc_aws = {
	.base = "http://169.254.169.254",
	.path = "/2019-10-01/user-data",
	.not_found = NOT_FOUND_EMPTY,
	.what = "aws user-data",
};

static uint64_t now_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_usec(uint64_t usec)
{
	struct timespec ts = { .tv_sec = (time_t)(usec / USEC_PER_SEC),
			       .tv_nsec = (long)(usec % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One fetch with its deadline and backoff state, shared by the attempts. */
struct md_fetch {
	uint64_t deadline;
	uint64_t backoff;
	unsigned attempts;
	char last_error[300]; /* why the last attempt failed, URL included (redacted) */
};

static void md_fetch_init(struct md_fetch *m, const struct ign_fetcher *f)
{
	uint64_t t = f->timeout_usec ? f->timeout_usec : IGN_PLATFORM_FETCH_TIMEOUT_USEC;
	*m = (struct md_fetch){ .deadline = now_usec() + t, .backoff = BACKOFF_FIRST_USEC };
}

/* Wait before the next attempt; false when the deadline has passed (or would pass). */
static bool md_fetch_wait(struct md_fetch *m, uint64_t at_most)
{
	uint64_t now = now_usec();
	if (now >= m->deadline)
		return false;
	uint64_t d = m->backoff < at_most ? m->backoff : at_most;
	if (d > m->deadline - now)
		d = m->deadline - now;
	sleep_usec(d);
	m->backoff = m->backoff * 2 > BACKOFF_MAX_USEC ? BACKOFF_MAX_USEC : m->backoff * 2;
	return now_usec() < m->deadline;
}

enum attempt {
	ATTEMPT_DONE,  /* 200/204: *ret is the body */
	ATTEMPT_NONE,  /* 404 where that means "no user data" */
	ATTEMPT_RETRY, /* try again after the backoff */
	ATTEMPT_FAIL,  /* final; the errno is returned */
};

/* One request. Returns the outcome; for ATTEMPT_FAIL *ret_err is the -errno. The message of a
 * failed or retried attempt is kept in m->last_error. */
static enum attempt md_attempt(struct md_fetch *m, enum http_method method, const char *url,
			       const char *const *headers, enum not_found nf, char **ret,
			       size_t *ret_size, int *ret_err)
{
	_cleanup_(http_client_freep) struct http_client *c = NULL;
	_cleanup_free_ char *safe = http_url_redact(url);
	char ua[96];
	uint64_t now = now_usec(), left = m->deadline > now ? m->deadline - now : 1;
	int r;

	snprintf(ua, sizeof(ua), "flatctl/%s (Ignition compatible)", FLATCTL_VERSION);
	struct http_client_options o = {
		.proxy = "",
		.user_agent = ua,
		.connect_timeout_usec = left < ATTEMPT_CONNECT_USEC ? left : ATTEMPT_CONNECT_USEC,
		.timeout_usec = left,
		.max_response_size = IGN_MAX_CONFIG_SIZE * 2ull,
		/* a metadata service does not redirect; following one could carry the AWS token
		 * or the request off the link-local (or, in tests, loopback) address */
		.max_redirects = HTTP_NO_REDIRECTS,
	};
	m->attempts++;
	r = http_client_new(&o, &c);
	if (r < 0) {
		*ret_err = r;
		snprintf(m->last_error, sizeof(m->last_error), "cannot set up HTTP for %s: %s",
			 safe ? safe : "URL", strerror(-r));
		return ATTEMPT_FAIL;
	}
	struct http_request req = { .method = method, .url = url, .headers = headers };
	_cleanup_(http_response_release) struct http_response resp = {};
	r = http_request_perform(c, &req, &resp);
	if (r >= 0 && (resp.status == 200 || resp.status == 204)) {
		*ret = TAKE_PTR(resp.body);
		*ret_size = resp.body_size;
		if (!*ret) {
			*ret = strdup("");
			*ret_size = 0;
			if (!*ret) {
				*ret_err = -ENOMEM;
				return ATTEMPT_FAIL;
			}
		}
		return ATTEMPT_DONE;
	}
	long st = resp.status;
	if (nf == NOT_FOUND_RETRY && (st == 404 || st == 410 || st == 429)) {
		snprintf(m->last_error, sizeof(m->last_error), "%s: HTTP %ld", safe ? safe : "URL",
			 st);
		return ATTEMPT_RETRY;
	}
	if (st == 404 && nf == NOT_FOUND_EMPTY)
		return ATTEMPT_NONE;
	if (st == 404) {
		snprintf(m->last_error, sizeof(m->last_error), "%s: not found (HTTP 404)",
			 safe ? safe : "URL");
		*ret_err = -ENOENT;
		return ATTEMPT_FAIL;
	}
	/* Ignition retries connection errors and status >= 500 only: a 408 or 429 (which
	 * lib/http calls "try later") is final here unless the provider lists it */
	if (r == -EAGAIN && (st < 400 || st >= 500)) {
		snprintf(m->last_error, sizeof(m->last_error), "fetching %s: %s",
			 safe ? safe : "URL", resp.error[0] ? resp.error : strerror(-r));
		return ATTEMPT_RETRY;
	}
	if (st)
		snprintf(m->last_error, sizeof(m->last_error), "fetching %s: HTTP %ld",
			 safe ? safe : "URL", st);
	else
		snprintf(m->last_error, sizeof(m->last_error), "fetching %s: %s",
			 safe ? safe : "URL",
			 resp.error[0] ? resp.error : strerror(r < 0 ? -r : EIO));
	*ret_err = r < 0 && r != -EAGAIN ? r : -EPROTO;
	return ATTEMPT_FAIL;
}

/* GET (or PUT) base+path until it answers or the deadline passes. Returns 0 (*ret set),
 * -ENOENT (no user data), -EAGAIN (deadline) or the final error; problems name the URL. */
static int md_get(struct md_fetch *m, enum http_method method, const char *base, const char *path,
		  const char *const *headers, enum not_found nf, char **ret, size_t *ret_size,
		  struct problem_list *l)
{
	_cleanup_free_ char *url = NULL;
	int err = 0;

	if (asprintf(&url, "%s%s", base, path) < 0)
		return -ENOMEM;
	for (;;) {
		switch (md_attempt(m, method, url, headers, nf, ret, ret_size, &err)) {
		case ATTEMPT_DONE:
			return 0;
		case ATTEMPT_NONE:
			return -ENOENT;
		case ATTEMPT_FAIL:
			return problem_add(l, err, "", "%s", m->last_error);
		case ATTEMPT_RETRY:
			break;
		}
		if (!md_fetch_wait(m, BACKOFF_MAX_USEC))
			return problem_add(l, -EAGAIN, "", "%s (gave up after %u attempt%s)",
					   m->last_error, m->attempts, m->attempts == 1 ? "" : "s");
	}
}

static int md_simple(const struct ign_fetcher *f, const struct md_service *s, const char *base,
		     char **ret, size_t *ret_size, char **ret_origin, struct problem_list *l)
{
	struct md_fetch m;
	const char *const hdrs[] = { s->header, NULL };
	_cleanup_free_ char *data = NULL;
	size_t n = 0;

	md_fetch_init(&m, f);
	int r = md_get(&m, HTTP_GET, base ? base : s->base, s->path, hdrs, s->not_found, &data, &n,
		       l);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT; /* an empty answer: no user data (Ignition's "not a config (empty)")
				 */
	*ret_origin = strdup(s->what);
	*ret = TAKE_PTR(data);
	*ret_size = n;
	return 0;
}

int ign_base64_decode(const char *in, size_t n, char **ret, size_t *ret_size)
{
	_cleanup_free_ char *clean = malloc(n + 1);
	size_t k = 0;
	uint8_t *out = NULL;

	if (!clean)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (in[i] != '\r' && in[i] != '\n')
			clean[k++] = in[i];
	clean[k] = 0;
	int r = crypto_base64_decode(clean, k, &out, ret_size);
	if (r == -EINVAL)
		return -EBADMSG;
	if (r < 0)
		return r;
	*ret = (char *)out;
	return 0;
}

int ign_aws_user_data(const struct ign_fetcher *f, const char *base_url, char **ret,
		      size_t *ret_size, char **ret_origin, struct problem_list *reterr)
{
	const char *base = base_url ? base_url : svc_aws.base;
	static const char *const ttl[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
	_cleanup_free_ char *token = NULL, *hdr = NULL, *data = NULL;
	size_t tn = 0, n = 0;
	struct md_fetch m;
	int r;

	md_fetch_init(&m, f);
	r = md_get(&m, HTTP_PUT, base, "/latest/api/token", ttl, NOT_FOUND_EMPTY, &token, &tn,
		   reterr);
	if (r < 0 && r != -ENOENT)
		return r;
	const char *auth[] = { NULL, NULL };
	if (r == 0) {
		while (tn && (token[tn - 1] == '\n' || token[tn - 1] == '\r'))
			token[--tn] = 0;
		if (asprintf(&hdr, "X-aws-ec2-metadata-token: %s", token) < 0)
			return -ENOMEM;
		auth[0] = hdr;
	}
	/* a 404 for the token: IMDSv2 is unavailable, Ignition falls back to IMDSv1 */
	r = md_get(&m, HTTP_GET, base, svc_aws.path, auth, NOT_FOUND_EMPTY, &data, &n, reterr);
	if (hdr)
		explicit_bzero(hdr, strlen(hdr));
	if (token)
		explicit_bzero(token, tn);
	if (r < 0)
		return r;
	if (n == 0)
		return -ENOENT;
	*ret_origin = strdup(hdr ? "aws user-data (IMDSv2)" : "aws user-data (IMDSv1)");
	*ret = TAKE_PTR(data);
	*ret_size = n;
	return 0;
}

/* Azure: IMDS userData first (base64); when it is empty, the OVF provisioning medium (a UDF
 * CD-ROM with ovf-env.xml; the config is CustomData.bin, absent: no config). */
static int azure_user_data(const struct ign_fetcher *f, const char *base, int root_fd, char **ret,
			   size_t *ret_size, char **ret_origin, struct problem_list *l)
{
	const struct md_service *s = &svc_azure_imds;
	const char *const hdrs[] = { s->header, NULL };
	_cleanup_free_ char *body = NULL;
	size_t n = 0;
	struct md_fetch m;
	int r;

	md_fetch_init(&m, f);
	r = md_get(&m, HTTP_GET, base ? base : s->base, s->path, hdrs, s->not_found, &body, &n, l);
	if (r < 0)
		return r;
	if (n > 0) {
		r = ign_base64_decode(body, n, ret, ret_size);
		if (r == -EBADMSG)
			return problem_add(l, r, "", "%s%s: the answer is not base64",
					   base ? base : s->base,
					   "/metadata/instance/compute/userData");
		if (r < 0)
			return r;
		*ret_origin = strdup(s->what);
		return 0;
	}
	/* no userData: wait for the provisioning medium, as Ignition does (it waits forever;
	 * flatctl until the fetch deadline) */
	for (;;) {
		_cleanup_free_ char *dev = NULL;
		r = ign_drive_read_azure_ovf(root_fd, ret, ret_size, &dev, l);
		if (r >= 0 || r == -ENOENT) {
			if (r >= 0 && asprintf(ret_origin, "azure custom data on %s", dev) < 0)
				*ret_origin = NULL;
			return r;
		}
		if (r != -ENODEV)
			return r;
		if (!md_fetch_wait(&m, USEC_PER_SEC))
			return problem_add(
				l, -ENODEV, "",
				"azure: IMDS has no userData and no provisioning medium (a "
				"UDF CD-ROM with ovf-env.xml) appeared");
	}
}

/* OpenStack: the config drive (labels config-2 and CONFIG-2) and the metadata service, the
 * first that answers wins. Ignition races them in parallel; flatctl looks at the drive first
 * in every round (it is local and cannot be spoofed on the network), then asks the service
 * once, then waits. A drive without openstack/latest/user_data, or a 404 from the service,
 * means no user data. */
static int openstack_user_data(const struct ign_fetcher *f, const char *base, int root_fd,
			       char **ret, size_t *ret_size, char **ret_origin,
			       struct problem_list *l)
{
	static const char *const labels[] = { "config-2", "CONFIG-2" };
	static const char *const fstypes[] = { "iso9660", "vfat", NULL };
	const struct md_service *s = &svc_openstack;
	_cleanup_free_ char *url = NULL;
	struct md_fetch m;
	bool service_failed = false;
	int service_err = 0;

	if (asprintf(&url, "%s%s", base ? base : s->base, s->path) < 0)
		return -ENOMEM;
	md_fetch_init(&m, f);
	for (;;) {
		for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
			_cleanup_free_ char *dev = NULL;
			int r = ign_drive_read_by_label(root_fd, labels[i], fstypes,
							"openstack/latest/user_data", ret, ret_size,
							&dev, l);
			if (r == -ENOENT)
				return -ENOENT;
			if (r >= 0) {
				if (asprintf(ret_origin, "openstack config drive %s", dev) < 0)
					*ret_origin = NULL;
				if (*ret_size == 0) {
					free(*ret);
					*ret = NULL;
					return -ENOENT;
				}
				return 0;
			}
			if (r != -ENODEV)
				return r;
		}
		if (!service_failed) {
			_cleanup_free_ char *data = NULL;
			size_t n = 0;
			int err = 0;
			switch (md_attempt(&m, HTTP_GET, url, NULL, s->not_found, &data, &n,
					   &err)) {
			case ATTEMPT_DONE:
				if (n == 0)
					return -ENOENT;
				*ret = TAKE_PTR(data);
				*ret_size = n;
				*ret_origin = strdup(s->what);
				return 0;
			case ATTEMPT_NONE:
				return -ENOENT;
			case ATTEMPT_FAIL:
				/* as in Ignition, the drive may still come */
				service_failed = true;
				service_err = err;
				break;
			case ATTEMPT_RETRY:
				break;
			}
		}
		if (!md_fetch_wait(&m, USEC_PER_SEC)) {
			if (service_failed)
				return problem_add(l, service_err, "",
						   "%s; no config drive (config-2) appeared",
						   m.last_error);
			return problem_add(
				l, -EAGAIN, "",
				"%s (gave up after %u attempt%s); no config drive (config-2) "
				"appeared",
				m.last_error[0] ? m.last_error : url, m.attempts,
				m.attempts == 1 ? "" : "s");
		}
	}
}

int ign_provider_user_data(const struct ign_fetcher *f, enum ign_platform p, const char *base_url,
			   int root_fd, char **ret, size_t *ret_size, char **ret_origin,
			   struct problem_list *reterr)
{
	if (f->offline && ign_platform_needs_network(p))
		return problem_add(reterr, -ENETDOWN, "", "platform %s needs the network",
				   ign_platform_to_string(p));
	switch (p) {
	case IGN_PLATFORM_AWS:
		return ign_aws_user_data(f, base_url, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_AZURE:
		return azure_user_data(f, base_url, root_fd, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_DIGITALOCEAN:
		return md_simple(f, &svc_digitalocean, base_url, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_EQUINIXMETAL:
		return md_simple(f, &svc_equinixmetal, base_url, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_GCP:
		return md_simple(f, &svc_gcp, base_url, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_HETZNER:
		return md_simple(f, &svc_hetzner, base_url, ret, ret_size, ret_origin, reterr);
	case IGN_PLATFORM_OPENSTACK:
		return openstack_user_data(f, base_url, root_fd, ret, ret_size, ret_origin, reterr);
	default:
		return problem_add(reterr, -EINVAL, "", "platform %s has no metadata service",
				   ign_platform_to_string(p) ? ign_platform_to_string(p) : "?");
	}
}
