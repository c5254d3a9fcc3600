/* SPDX-License-Identifier: MIT */
/* lib/update/serve.c - `update serve DIR`: an Omaha server for a fleet without Nebraska;
 * docs/update.md "update serve" (configuration, answers, log), 4.2-4.4 (the protocol).
 *
 * Model: everything an answer needs is computed once by update_serve_new(): the configuration is
 * parsed, every payload is opened inside DIR (it cannot escape it) and hashed, and the open fds
 * are what downloads are served from, so an answer and the bytes behind it always agree. After
 * that the object is read-only, except for the log, written one line per write() under a mutex;
 * the HTTP server calls update_serve_handle() from one thread per connection. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "fs/fs.h"
#include "json/fjson.h"
#include "omaha/request-parse.h"
#include "omaha/response-build.h"
#include "omaha/response.h"
#include "update/engine.h"
#include "update/serve.h"
#include "util/escape.h"
#include "util/problem.h"

#define DEFAULT_APPID "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"
#define MAX_EXTENSIONS 16

struct served_file {
	char *rel;        /* path inside DIR as configured */
	char *name;       /* its last component: the package name */
	char *url_path;   /* "/payloads/" + rel */
	int fd;
	uint64_t size;
	uint8_t sha1[20], sha256[32];
};

struct group {
	char *name, *version;
	bool paused;
	struct served_file *payload;
	struct served_file *extensions[MAX_EXTENSIONS];
	size_t n_extensions;
	char *dir;        /* "payloads/<dir of rel>/" relative to the URL base */
};

struct update_serve {
	char *appid_norm;
	char *url_base;   /* ends with '/', or NULL */
	char *listen;
	unsigned poll_interval;
	struct served_file *files;
	size_t n_files;
	struct group *groups;
	size_t n_groups;
	int log_fd;
	pthread_mutex_t log_lock;
};

struct update_serve *update_serve_free(struct update_serve *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_files; i++) {
		free(s->files[i].rel);
		free(s->files[i].name);
		free(s->files[i].url_path);
		if (s->files[i].fd >= 0)
			close(s->files[i].fd);
	}
	free(s->files);
	for (size_t i = 0; i < s->n_groups; i++) {
		free(s->groups[i].name);
		free(s->groups[i].version);
		free(s->groups[i].dir);
	}
	free(s->groups);
	free(s->appid_norm);
	free(s->url_base);
	free(s->listen);
	pthread_mutex_destroy(&s->log_lock);
	free(s);
	return NULL;
}

/* ---- versions ---- */

int update_serve_version_compare(const char *a, const char *b)
{
	while (*a || *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = strncmp(a, b, na);
			if (c)
				return c < 0 ? -1 : 1;
			a += na;
			b += nb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return 0;
}

/* ---- configuration ---- */

/* A relative path of [A-Za-z0-9._+-] components, none "." or "..": what can be both a file
 * inside DIR and, as its last component, an Omaha package name (docs/update.md 4.3 rule 7). */
static bool rel_path_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 1024 || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (const char *c = s; *c;) {
		size_t k = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				     "0123456789._+-");
		if (k == 0 || k > 255 || (k == 1 && c[0] == '.') ||
		    (k == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += k;
		if (*c == '/')
			c++;
		else if (*c)
			return false;
	}
	return true;
}

static bool http_url_ok(const char *u)
{
	const char *rest;
	if (strncmp(u, "http://", 7) == 0)
		rest = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		rest = u + 8;
	else
		return false;
	return *rest && *rest != '/' && str_printable_ascii(u, 9, 2048) && !strpbrk(u, "\"'<>\\");
}

/* Opens and hashes rel once; returns its index in s->files (which may still move: pointers are
 * taken when loading is over). */
static int add_file(struct update_serve *s, int dir_fd, const char *rel, const char *where,
		    struct problem_list *reterr)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].rel, rel) == 0)
			return (int)i;
	if (!rel_path_ok(rel))
		return problem_add(reterr, -EINVAL, where,
				   "'%s' is not a relative path of [A-Za-z0-9._+-] names", rel);
	_cleanup_close_ int fd = fs_open(dir_fd, rel, O_RDONLY, 0);
	if (fd < 0)
		return problem_add(reterr, fd, where, "cannot open '%s': %s", rel, strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0)
		return problem_add(reterr, -errno, where, "'%s': %s", rel, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return problem_add(reterr, -EINVAL, where, "'%s' is not a regular file", rel);
	if (st.st_size == 0)
		return problem_add(reterr, -EINVAL, where, "'%s' is empty", rel);

	struct served_file f = { .fd = -1, .size = (uint64_t)st.st_size };
	int r = crypto_hash_fd(CRYPTO_SHA1, fd, 0, f.size, f.sha1, sizeof(f.sha1));
	if (r >= 0)
		r = crypto_hash_fd(CRYPTO_SHA256, fd, 0, f.size, f.sha256, sizeof(f.sha256));
	if (r < 0)
		return problem_add(reterr, r, where, "reading '%s': %s", rel, strerror(-r));

	struct served_file *n = reallocarray(s->files, s->n_files + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->files = n;
	const char *slash = strrchr(rel, '/');
	f.rel = strdup(rel);
	f.name = strdup(slash ? slash + 1 : rel);
	if (asprintf(&f.url_path, UPDATE_SERVE_PAYLOAD_PATH "%s", rel) < 0)
		f.url_path = NULL;
	f.fd = TAKE_FD(fd);
	s->files[s->n_files++] = f;
	if (!f.rel || !f.name || !f.url_path)
		return -ENOMEM;
	return (int)(s->n_files - 1);
}

static const char *const group_keys[] = { "version", "payload", "extensions", "paused" };
static const char *const top_keys[] = { "appid", "url_base", "poll_interval", "groups" };

static bool known_key(const char *k, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

struct group_files {
	ssize_t payload;
	ssize_t ext[MAX_EXTENSIONS];
};

static int file_index(struct update_serve *s, int dir_fd, const char *rel, const char *where,
		      ssize_t *ret, struct problem_list *reterr)
{
	int r = add_file(s, dir_fd, rel, where, reterr);
	if (r < 0)
		return r;
	*ret = r;
	return 0;
}

static int parse_group(struct update_serve *s, int dir_fd, const char *name, json_t *g,
		       struct group *out, struct group_files *gf, struct problem_list *reterr)
{
	char where[300];
	const char *key;
	json_t *v;
	int r = 0;

	(void)snprintf(where, sizeof(where), "/groups/%s", name);
	if (!json_is_object(g))
		return problem_add(reterr, -EINVAL, where, "a group must be an object");
	json_object_foreach(g, key, v)
		if (!known_key(key, group_keys, ARRAY_SIZE(group_keys)))
			r = problem_add(reterr, -EINVAL, where, "unknown key '%s'", key);
	out->name = strdup(name);
	if (!out->name)
		return -ENOMEM;
	json_t *paused = json_object_get(g, "paused");
	if (paused && !json_is_boolean(paused))
		r = problem_add(reterr, -EINVAL, where, "paused must be true or false");
	out->paused = json_is_true(paused);

	json_t *ver = json_object_get(g, "version"), *pl = json_object_get(g, "payload");
	json_t *ext = json_object_get(g, "extensions");
	if (out->paused && !ver && !pl && !ext)
		return r;
	char w[340];
	(void)snprintf(w, sizeof(w), "%s/version", where);
	if (!json_is_string(ver) || !str_printable_ascii(json_string_value(ver), 1, 64))
		r = problem_add(reterr, -EINVAL, w, "version must be 1 to 64 printable characters");
	else if (!(out->version = strdup(json_string_value(ver))))
		return -ENOMEM;
	(void)snprintf(w, sizeof(w), "%s/payload", where);
	if (!json_is_string(pl))
		return problem_add(reterr, -EINVAL, w, "payload must be a file name inside the "
				   "directory");
	const char *rel = json_string_value(pl);
	int k = file_index(s, dir_fd, rel, w, &gf->payload, reterr);
	if (k < 0)
		return k;
	const char *slash = strrchr(rel, '/');
	size_t dirlen = slash ? (size_t)(slash - rel) + 1 : 0;
	if (asprintf(&out->dir, "%s%.*s", UPDATE_SERVE_PAYLOAD_PATH + 1, (int)dirlen, rel) < 0)
		return -ENOMEM;

	if (ext) {
		size_t i;
		(void)snprintf(w, sizeof(w), "%s/extensions", where);
		if (!json_is_array(ext))
			return problem_add(reterr, -EINVAL, w, "extensions must be a list of files");
		if (json_array_size(ext) > MAX_EXTENSIONS)
			return problem_add(reterr, -EINVAL, w, "at most %d extensions",
					   MAX_EXTENSIONS);
		json_array_foreach(ext, i, v) {
			(void)snprintf(w, sizeof(w), "%s/extensions/%zu", where, i);
			if (!json_is_string(v))
				return problem_add(reterr, -EINVAL, w, "must be a file name");
			const char *e = json_string_value(v), *es = strrchr(e, '/');
			size_t el = es ? (size_t)(es - e) + 1 : 0;
			/* one <url codebase> serves all packages of an answer */
			if (el != dirlen || strncmp(e, rel, dirlen) != 0)
				return problem_add(reterr, -EINVAL, w, "'%s' is not in the directory "
						   "of the payload '%s'", e, rel);
			k = file_index(s, dir_fd, e, w, &gf->ext[i], reterr);
			if (k < 0)
				return k;
			out->n_extensions++;
		}
	}
	return r;
}

static int parse_config(struct update_serve *s, int dir_fd, const char *buf, size_t size,
			const char *url_base, struct problem_list *reterr)
{
	json_auto_t *doc = NULL;
	const char *key;
	json_t *v;
	int r = 0;

	r = fjson_parse(buf, size, &doc, reterr);
	if (r < 0)
		return r;
	if (!json_is_object(doc))
		return problem_add(reterr, -EINVAL, "", "the configuration must be a JSON object");
	json_object_foreach(doc, key, v)
		if (!known_key(key, top_keys, ARRAY_SIZE(top_keys)))
			r = problem_add(reterr, -EINVAL, "", "unknown key '%s'", key);

	json_t *appid = json_object_get(doc, "appid");
	if (appid && (!json_is_string(appid) || !str_printable_ascii(json_string_value(appid), 1, 256)))
		r = problem_add(reterr, -EINVAL, "/appid", "appid must be 1 to 256 printable "
				"characters");
	s->appid_norm = omaha_appid_normalize(json_is_string(appid) ? json_string_value(appid)
							      : DEFAULT_APPID);
	if (!s->appid_norm)
		return -ENOMEM;

	json_t *ub = json_object_get(doc, "url_base");
	const char *base = url_base;
	if (!base && ub) {
		if (!json_is_string(ub))
			return problem_add(reterr, -EINVAL, "/url_base", "url_base must be a URL");
		base = json_string_value(ub);
	}
	if (base) {
		if (!http_url_ok(base))
			return problem_add(reterr, -EINVAL, url_base ? "--url-base" : "/url_base",
					   "'%s' is not an absolute http:// or https:// URL", base);
		size_t n = strlen(base);
		if (asprintf(&s->url_base, "%s%s", base, base[n - 1] == '/' ? "" : "/") < 0)
			return -ENOMEM;
	}

	json_t *pi = json_object_get(doc, "poll_interval");
	if (pi) {
		if (!json_is_integer(pi) || json_integer_value(pi) < 60 ||
		    json_integer_value(pi) > 86400)
			r = problem_add(reterr, -EINVAL, "/poll_interval",
					"poll_interval must be 60 to 86400 seconds");
		else
			s->poll_interval = (unsigned)json_integer_value(pi);
	}

	json_t *groups = json_object_get(doc, "groups");
	if (!json_is_object(groups) || json_object_size(groups) == 0)
		return problem_add(reterr, -EINVAL, "/groups",
				   "groups must be an object with at least one group");
	size_t ng = json_object_size(groups);
	s->groups = calloc(ng, sizeof(*s->groups));
	_cleanup_free_ struct group_files *gf = calloc(ng, sizeof(*gf));
	if (!s->groups || !gf)
		return -ENOMEM;
	json_object_foreach(groups, key, v) {
		struct group_files *f = &gf[s->n_groups];
		f->payload = -1;
		int k = parse_group(s, dir_fd, key, v, &s->groups[s->n_groups++], f, reterr);
		if (k == -ENOMEM)
			return k;
		if (k < 0)
			r = k;
	}
	if (r < 0)
		return r;
	/* s->files is final now: turn the indices into pointers */
	for (size_t i = 0; i < s->n_groups; i++) {
		struct group *g = &s->groups[i];
		if (gf[i].payload >= 0)
			g->payload = &s->files[gf[i].payload];
		for (size_t k = 0; k < g->n_extensions; k++)
			g->extensions[k] = &s->files[gf[i].ext[k]];
	}
	return 0;
}

int update_serve_new(const struct update_serve_opts *o, struct update_serve **ret,
		     struct problem_list *reterr)
{
	_cleanup_(update_serve_freep) struct update_serve *s = calloc(1, sizeof(*s));
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dir_fd = -EBADF;
	size_t size = 0;
	int r;

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->log_lock, NULL);
	s->log_fd = o->log_fd;
	if (o->listen && !(s->listen = strdup(o->listen)))
		return -ENOMEM;
	dir_fd = fs_root_open(o->dir);
	if (dir_fd < 0)
		return problem_add(reterr, dir_fd, o->dir, "cannot open the directory: %s",
				   strerror(-dir_fd));
	if (o->config) {
		_cleanup_close_ int cfd = open(o->config, O_RDONLY | O_CLOEXEC);
		if (cfd < 0)
			return problem_add(reterr, -errno, o->config, "%s", strerror(errno));
		r = fs_read_fd(cfd, UPDATE_SERVE_CONFIG_MAX, &buf, &size);
	} else
		r = fs_read_file(dir_fd, UPDATE_SERVE_CONFIG, UPDATE_SERVE_CONFIG_MAX, &buf, &size);
	if (r < 0)
		return problem_add(reterr, r, o->config ? o->config : UPDATE_SERVE_CONFIG, "%s",
				   r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
	r = parse_config(s, dir_fd, buf, size, o->url_base, reterr);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

void update_serve_set_log(struct update_serve *s, int log_fd)
{
	s->log_fd = log_fd;
}

int update_serve_group(const struct update_serve *s, size_t i, struct update_serve_group_info *ret)
{
	if (i >= s->n_groups)
		return -ENOENT;
	const struct group *g = &s->groups[i];
	*ret = (struct update_serve_group_info){
		.name = g->name, .version = g->payload ? g->version : NULL,
		.payload = g->payload ? g->payload->rel : NULL,
		.size = g->payload ? g->payload->size : 0,
		.n_extensions = g->n_extensions, .paused = g->paused,
	};
	return 0;
}

/* ---- the log ---- */

/* A client string for the log: JSON-escaped by jansson (control characters as \u00XX, and
 * everything beyond ASCII with JSON_ENSURE_ASCII); bytes that are not UTF-8 as \xNN first. */
static json_t *jstr(const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (j)
		return j;
	size_t n = strlen(s) * 4 + 1;
	_cleanup_free_ char *esc = malloc(n);
	return esc ? json_string(str_escape_buf(s, esc, n)) : NULL;
}

static void log_entry(struct update_serve *s, json_t *entry)
{
	char when[32] = "";
	struct tm tm;
	time_t t = time(NULL);
	if (gmtime_r(&t, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_auto_t *line = json_pack("{s:s}", "time", when);
	if (!line || json_object_update(line, entry) < 0)
		return;
	_cleanup_free_ char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII |
						      JSON_PRESERVE_ORDER);
	if (!text)
		return;
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: written with its length, never as a string again */
	pthread_mutex_lock(&s->log_lock);
	if (s->log_fd >= 0)
		(void)fs_write_all(s->log_fd, text, n + 1);
	pthread_mutex_unlock(&s->log_lock);
}

void update_serve_reject(const char *peer, int status, const char *reason, void *userdata)
{
	json_auto_t *e = json_pack("{s:s, s:o, s:i, s:s}", "kind", "rejected", "peer", jstr(peer),
				   "status", status, "reason", reason);
	if (e)
		log_entry(userdata, e);
}

/* ---- answers ---- */

static const struct group *find_group(const struct update_serve *s, const char *track)
{
	for (size_t i = 0; track && i < s->n_groups; i++)
		if (strcmp(s->groups[i].name, track) == 0)
			return &s->groups[i];
	return NULL;
}

/* A Host header fit to be echoed in a URL: a name or address and an optional port. */
static bool host_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;
	return n > 0 && n <= 255 &&
	       strspn(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]") == n;
}

static char *codebase(const struct update_serve *s, const struct http_server_request *req,
		      const struct group *g)
{
	char *r = NULL;
	if (s->url_base)
		return asprintf(&r, "%s%s", s->url_base, g->dir) < 0 ? NULL : r;
	const char *host = host_ok(req->host) ? req->host : s->listen;
	return asprintf(&r, "http://%s/%s", host ? host : "localhost", g->dir) < 0 ? NULL : r;
}

static json_t *app_json(const struct omaha_request *rq, const struct omaha_request_app *a)
{
	json_t *events = json_array();
	for (size_t i = 0; events && i < a->n_events; i++) {
		const struct omaha_request_event *e = &a->events[i];
		json_t *je = json_pack("{s:o, s:o}", "eventtype", jstr(e->eventtype),
				       "eventresult", jstr(e->eventresult));
		if (je && e->errorcode)
			(void)json_object_set_new(je, "errorcode", jstr(e->errorcode));
		if (je && e->previousversion)
			(void)json_object_set_new(je, "previousversion", jstr(e->previousversion));
		(void)json_array_append_new(events, je);
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o}",
			 "kind", "omaha", "installsource", jstr(rq->installsource),
			 "appid", jstr(a->appid), "version", jstr(a->version),
			 "track", jstr(a->track), "machineid", jstr(a->machineid),
			 "machinealias", jstr(a->machinealias), "bootid", jstr(a->bootid),
			 "oem", jstr(a->oem), "board", jstr(a->board), "ping", a->ping,
			 "updatecheck", a->updatecheck, "events", events);
}

static void handle_omaha(struct update_serve *s, struct http_exchange *x,
			 const struct http_server_request *req)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(omaha_request_freep) struct omaha_request *rq = NULL;
	int r = omaha_request_parse(req->body, req->body_size, &rq, &p);
	if (r < 0) {
		char msg[512];
		const struct problem *pr = p.n ? &p.item[0] : NULL;
		(void)snprintf(msg, sizeof(msg), "malformed Omaha request: %s%s%s",
			       pr && pr->where ? pr->where : "", pr && pr->where ? ": " : "",
			       pr ? pr->message : strerror(-r));
		size_t n = strlen(msg);
		int status = r == -EFBIG ? 413 : r == -ENOMEM ? 503 : 400;
		json_auto_t *e = json_pack("{s:s, s:o, s:i, s:o}", "kind", "omaha", "peer",
					   jstr(req->peer), "status", status, "error", jstr(msg));
		if (e)
			log_entry(s, e);
		msg[n] = '\n';
		(void)http_reply(x, status, NULL, msg, n + 1);
		return;
	}

	size_t na = rq->n_apps;
	struct omaha_answer_app ans[OMAHA_REQUEST_APPS_MAX] = {};
	struct omaha_answer_package pk[OMAHA_REQUEST_APPS_MAX][1 + MAX_EXTENSIONS] = {};
	char *bases[OMAHA_REQUEST_APPS_MAX] = {};
	json_t *logs[OMAHA_REQUEST_APPS_MAX] = {};
	for (size_t i = 0; i < na; i++) {
		const struct omaha_request_app *a = &rq->apps[i];
		struct omaha_answer_app *o = &ans[i];
		_cleanup_free_ char *norm = omaha_appid_normalize(a->appid);
		const struct group *g = find_group(s, a->track);
		*o = (struct omaha_answer_app){ .appid = a->appid, .ping = a->ping,
						.n_events = a->n_events,
						.poll_interval = s->poll_interval };
		if (!norm || strcmp(norm, s->appid_norm) != 0) {
			o->check = OMAHA_ANSWER_ERROR;
			o->status = "error-unknownApplication";
		} else if (!a->updatecheck)
			o->check = OMAHA_ANSWER_NO_CHECK;
		else if (!g) {
			o->check = OMAHA_ANSWER_ERROR;
			o->status = "error-unknownApplicationOrGroup";
		} else if (g->paused) {
			o->check = OMAHA_ANSWER_ERROR;
			o->status = "error-updatesDisabled";
		} else if (a->version && update_serve_version_compare(a->version, g->version) >= 0)
			o->check = OMAHA_ANSWER_NOUPDATE;
		else {
			o->check = OMAHA_ANSWER_UPDATE;
			o->version = g->version;
			o->codebase = bases[i] = codebase(s, req, g);
			const struct served_file *f = g->payload;
			pk[i][0] = (struct omaha_answer_package){ .name = f->name, .size = f->size,
								   .required = true };
			memcpy(pk[i][0].sha1, f->sha1, 20);
			memcpy(pk[i][0].sha256, f->sha256, 32);
			for (size_t k = 0; k < g->n_extensions; k++) {
				f = g->extensions[k];
				pk[i][k + 1] = (struct omaha_answer_package){ .name = f->name,
									       .size = f->size };
				memcpy(pk[i][k + 1].sha1, f->sha1, 20);
				memcpy(pk[i][k + 1].sha256, f->sha256, 32);
			}
			o->packages = pk[i];
			o->n_packages = 1 + g->n_extensions;
		}
		logs[i] = app_json(rq, a);
		if (logs[i]) {
			(void)json_object_set_new(logs[i], "peer", jstr(req->peer));
			(void)json_object_set_new(
				logs[i], "answer",
				json_string(o->check == OMAHA_ANSWER_ERROR ? o->status
					    : o->check == OMAHA_ANSWER_NOUPDATE ? "noupdate"
					    : o->check == OMAHA_ANSWER_UPDATE ? "update" : "ok"));
			if (o->check == OMAHA_ANSWER_UPDATE)
				(void)json_object_set_new(logs[i], "offered",
							  json_string(g->version));
		}
	}

	_cleanup_free_ char *doc = NULL;
	size_t size = 0;
	r = -ENOMEM;
	bool complete = true;
	for (size_t i = 0; i < na; i++)
		if (ans[i].check == OMAHA_ANSWER_UPDATE && !ans[i].codebase)
			complete = false;
	if (complete)
		r = omaha_response_build("flatctl", ans, na, &doc, &size);
	if (r < 0)
		(void)http_reply(x, 500, NULL, "cannot build the answer\n", 24);
	else
		(void)http_reply(x, 200, "text/xml; charset=utf-8", doc, size);
	for (size_t i = 0; i < na; i++) {
		if (logs[i]) {
			(void)json_object_set_new(logs[i], "status",
						  json_integer(http_exchange_status(x)));
			log_entry(s, logs[i]);
			json_decref(logs[i]);
		}
		free(bases[i]);
	}
}

static void handle_download(struct update_serve *s, struct http_exchange *x,
			    const struct http_server_request *req)
{
	const struct served_file *f = NULL;
	for (size_t i = 0; i < s->n_files && !f; i++)
		if (strcmp(req->path, s->files[i].url_path) == 0)
			f = &s->files[i];
	if (!f) {
		(void)http_reply(x, 404, NULL, "not found\n", 10);
		return;
	}
	int r = http_reply_file(x, f->fd, f->size, NULL);
	json_auto_t *e = json_pack("{s:s, s:o, s:s, s:s, s:o, s:i, s:I}", "kind", "download",
				   "peer", jstr(req->peer), "method",
				   req->method == HTTP_HEAD ? "HEAD" : "GET", "path", f->url_path,
				   "range", jstr(req->range), "status", http_exchange_status(x),
				   "bytes", (json_int_t)http_exchange_bytes(x));
	if (e && r < 0)
		(void)json_object_set_new(e, "error", json_string(strerror(-r)));
	if (e)
		log_entry(s, e);
}

void update_serve_handle(struct http_exchange *x, const struct http_server_request *req,
			 void *userdata)
{
	struct update_serve *s = userdata;

	if (strcmp(req->path, UPDATE_SERVE_OMAHA_PATH) == 0 || strcmp(req->path, "/v1/update") == 0) {
		if (req->method != HTTP_POST) {
			(void)http_reply(x, 405, NULL, "Omaha requests are POSTed\n", 26);
			return;
		}
		handle_omaha(s, x, req);
		return;
	}
	if (req->method == HTTP_POST) {
		(void)http_reply(x, 404, NULL, "not found\n", 10);
		return;
	}
	handle_download(s, x, req);
}
