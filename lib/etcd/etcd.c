/* SPDX-License-Identifier: MIT */
/* lib/etcd/etcd.c - etcd client over the JSON gateway (v3) and the keys API (v2)
 * (docs/reboot-lock.md 3.2, 3.3). Facts it respects: keys and values are base64, 64-bit numbers
 * arrive as JSON strings, members with default values are omitted (no "succeeded" = compare
 * failed, no "kvs" = no key). Requests go to the endpoint that answered last; a transport failure
 * or a 5xx marks it failed and moves on to the next one. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/etcd.h"
#include "etcd/transport.h"

struct etcd_client {
	struct etcd_transport *t;
	char **endpoints;
	size_t n;
	size_t current;
	char *username, *password;
	char *token;        /* v3 auth token */
	const char *v3;     /* "/v3/" or "/v3beta/" */
	unsigned round_trips;
	bool all_refused;
	char error[2048];
};

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

int etcd_client_new(const struct etcd_options *o, struct etcd_client **ret)
{
	struct etcd_client *c;
	int r;

	if (!o->n_endpoints)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->v3 = "/v3/";
	c->endpoints = calloc(o->n_endpoints, sizeof(char *));
	if (!c->endpoints)
		goto oom;
	for (size_t i = 0; i < o->n_endpoints; i++) {
		size_t l = strlen(o->endpoints[i]);
		while (l > 0 && o->endpoints[i][l - 1] == '/')
			l--;
		c->endpoints[i] = strndup(o->endpoints[i], l);
		if (!c->endpoints[i])
			goto oom;
		c->n++;
	}
	if (o->username && !(c->username = strdup(o->username)))
		goto oom;
	if (o->password && !(c->password = strdup(o->password)))
		goto oom;
	r = etcd_transport_new(o, &c->t);
	if (r < 0) {
		etcd_client_free(c);
		return r;
	}
	*ret = c;
	return 0;
oom:
	etcd_client_free(c);
	return -ENOMEM;
}

struct etcd_client *etcd_client_free(struct etcd_client *c)
{
	if (!c)
		return NULL;
	etcd_transport_free(c->t);
	for (size_t i = 0; i < c->n; i++)
		free(c->endpoints[i]);
	free(c->endpoints);
	free(c->username);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	free(c->token);
	free(c);
	return NULL;
}

void etcd_client_set_deadline(struct etcd_client *c, uint64_t deadline_usec)
{
	etcd_transport_set_deadline(c->t, deadline_usec);
}

unsigned etcd_client_round_trips(const struct etcd_client *c)
{
	return c->round_trips;
}

const char *etcd_client_error(const struct etcd_client *c)
{
	return c->error;
}

bool etcd_client_all_refused(const struct etcd_client *c)
{
	return c->all_refused;
}

const char *etcd_client_endpoint(const struct etcd_client *c)
{
	return c->endpoints[c->current];
}

/* --- base64 ----------------------------------------------------------------------------------- */

static char *b64_encode(const char *s, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static int b64_decode(const char *s, char **ret, size_t *ret_n)
{
	size_t n = strlen(s);
	if (n % 4 != 0)
		return -EBADMSG;
	char *out = malloc(n / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	int k = n ? EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n) : 0;
	if (k < 0) {
		free(out);
		return -EBADMSG;
	}
	if (n >= 1 && s[n - 1] == '=')
		k--;
	if (n >= 2 && s[n - 2] == '=')
		k--;
	out[k] = 0;
	*ret = out;
	*ret_n = (size_t)k;
	return 0;
}

/* --- reply parsing ----------------------------------------------------------------------------- */

/* A 64-bit number sent as a string or an integer; absent = 0. */
static int get_u64(json_t *o, const char *name, uint64_t *ret)
{
	json_t *v = json_object_get(o, name);
	if (!v) {
		*ret = 0;
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*ret = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (!*s || *s == '-' || *s == '+')
			return -EBADMSG;
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (errno || *end)
			return -EBADMSG;
		*ret = x;
		return 0;
	}
	return -EBADMSG;
}

static json_t *load(const char *body, size_t size, struct problem_list *reterr)
{
	json_error_t err;
	json_t *j = json_loadb(body, size, 0, &err);
	if (!j) {
		(void)problem_add(reterr, -EBADMSG, NULL, "invalid JSON: %s", err.text);
		struct problem *p = reterr ? problem_last(reterr) : NULL;
		if (p) {
			p->line = err.line > 0 ? (unsigned)err.line : 0;
			p->column = err.column > 0 ? (unsigned)err.column : 0;
		}
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		(void)problem_add(reterr, -EBADMSG, "", "not a JSON object");
		return NULL;
	}
	return j;
}

int etcd_v3_parse_range(const char *body, size_t size, struct etcd_kv **ret_kvs, size_t *ret_n,
			uint64_t *ret_revision, struct problem_list *reterr)
{
	json_auto_t *j = load(body, size, reterr);
	json_t *kvs, *h, *kv;
	struct etcd_kv *out = NULL;
	size_t n = 0, i;
	uint64_t rev = 0;

	if (!j)
		return -EBADMSG;
	h = json_object_get(j, "header");
	if (h && (!json_is_object(h) || get_u64(h, "revision", &rev) < 0))
		return problem_add(reterr, -EBADMSG, "/header/revision", "not a number");
	kvs = json_object_get(j, "kvs");
	if (kvs && !json_is_array(kvs))
		return problem_add(reterr, -EBADMSG, "/kvs", "not an array");
	if (kvs && json_array_size(kvs) > 0) {
		out = calloc(json_array_size(kvs), sizeof(*out));
		if (!out)
			return -ENOMEM;
		json_array_foreach(kvs, i, kv) {
			struct etcd_kv *e = &out[n];
			char where[64];
			size_t klen;
			json_t *k = json_object_get(kv, "key"), *v = json_object_get(kv, "value");

			snprintf(where, sizeof(where), "/kvs/%zu", i);
			if (!json_is_object(kv) || !json_is_string(k) || (v && !json_is_string(v)) ||
			    b64_decode(json_string_value(k), &e->key, &klen) < 0 ||
			    strlen(e->key) != klen) {
				free(e->key);
				e->key = NULL;
				etcd_kvs_free(out, n);
				return problem_add(reterr, -EBADMSG, where, "bad key or value");
			}
			n++;
			if (b64_decode(v ? json_string_value(v) : "", &e->value, &e->value_size) < 0 ||
			    get_u64(kv, "mod_revision", &e->mod_revision) < 0 ||
			    get_u64(kv, "create_revision", &e->create_revision) < 0) {
				etcd_kvs_free(out, n);
				return problem_add(reterr, -EBADMSG, where, "bad value or revision");
			}
		}
	}
	*ret_kvs = out;
	*ret_n = n;
	if (ret_revision)
		*ret_revision = rev;
	return 0;
}

int etcd_v3_parse_txn(const char *body, size_t size, bool *ret_succeeded,
		      struct problem_list *reterr)
{
	json_auto_t *j = load(body, size, reterr);
	json_t *s;

	if (!j)
		return -EBADMSG;
	s = json_object_get(j, "succeeded");
	if (s && !json_is_boolean(s))
		return problem_add(reterr, -EBADMSG, "/succeeded", "not a boolean");
	if (!json_object_get(j, "header"))
		return problem_add(reterr, -EBADMSG, "/header", "missing");
	*ret_succeeded = s && json_is_true(s);
	return 0;
}

int etcd_parse_error(const char *body, size_t size, int *ret_code, char **ret_message)
{
	json_auto_t *j = load(body, size, NULL);
	json_t *c, *m;

	if (!j)
		return -EBADMSG;
	c = json_object_get(j, "code");
	if (!c)
		c = json_object_get(j, "errorCode");
	m = json_object_get(j, "message");
	if (!json_is_integer(c))
		return -EBADMSG;
	*ret_code = (int)json_integer_value(c);
	if (ret_message) {
		*ret_message = strdup(json_is_string(m) ? json_string_value(m) : "");
		if (!*ret_message)
			return -ENOMEM;
	}
	return 0;
}

int etcd_v2_parse_node(const char *body, size_t size, char **ret_value, uint64_t *ret_index,
		       struct problem_list *reterr)
{
	json_auto_t *j = load(body, size, reterr);
	json_t *node, *v;
	uint64_t idx;

	if (!j)
		return -EBADMSG;
	node = json_object_get(j, "node");
	if (!json_is_object(node))
		return problem_add(reterr, -EBADMSG, "/node", "missing");
	v = json_object_get(node, "value");
	if (!json_is_string(v))
		return problem_add(reterr, -EBADMSG, "/node/value", "not a string");
	if (get_u64(node, "modifiedIndex", &idx) < 0 || idx == 0)
		return problem_add(reterr, -EBADMSG, "/node/modifiedIndex", "not a number");
	*ret_value = strndup(json_string_value(v), json_string_length(v));
	if (!*ret_value)
		return -ENOMEM;
	*ret_index = idx;
	return 0;
}

/* --- requests ---------------------------------------------------------------------------------- */

static void add_error(struct etcd_client *c, const char *ep, const char *why)
{
	size_t l = strlen(c->error);
	snprintf(c->error + l, sizeof(c->error) - l, "%s%s: %s", l ? "; " : "", ep, why);
}

/* Send to the current endpoint; on transport failure or 5xx go on to the next one if all is true.
 * Returns the HTTP status (< 500) with the body, -EAGAIN when no endpoint answered, or at once
 * -ENOKEY, -EPROTO (TLS) or -EFBIG (answer too large), which no other member would change. */
static int request(struct etcd_client *c, const char *method, const char *path, const char *query,
		   const char *ctype, const char *body, const char *auth, bool all, char **ret_body,
		   size_t *ret_len)
{
	size_t tried = 0, refused = 0, start = c->current;

	c->error[0] = 0;
	c->all_refused = false;
	for (size_t k = 0; k < c->n; k++) {
		size_t idx = (start + k) % c->n;
		const char *ep = c->endpoints[idx];
		_cleanup_free_ char *url = NULL;
		char why[512] = "";
		char *rb = NULL;
		size_t rl = 0;

		if (asprintf(&url, "%s%s%s", ep, path, query ? query : "") < 0)
			return -ENOMEM;
		c->round_trips++;
		tried++;
		int st = etcd_transport_request(c->t, method, url, ctype, body, body ? strlen(body) : 0,
						auth, &rb, &rl, why, sizeof(why));
		if (st == -ENOMEM)
			return st;
		if (st == -ENOKEY || st == -EPROTO || st == -EFBIG) {
			/* TLS setup or verification, or an answer too large for any semaphore: the
			 * same on every member */
			add_error(c, ep, why);
			return st;
		}
		if (st < 0) {
			if (st == -ECONNREFUSED)
				refused++;
			add_error(c, ep, why);
		} else if (st >= 500) {
			_cleanup_free_ char *msg = NULL;
			int code;
			if (etcd_parse_error(rb, rl, &code, &msg) >= 0 && *msg)
				snprintf(why, sizeof(why), "HTTP %d: %s", st, msg);
			else
				snprintf(why, sizeof(why), "HTTP %d", st);
			add_error(c, ep, why);
			free(rb);
		} else {
			c->current = idx;
			*ret_body = rb;
			*ret_len = rl;
			return st;
		}
		c->current = (idx + 1) % c->n;
		if (!all)
			break;
	}
	c->all_refused = tried == c->n && refused == tried;
	return -EAGAIN;
}

static int map_status(struct etcd_client *c, int st, const char *rb, size_t rl)
{
	_cleanup_free_ char *msg = NULL;
	int code = 0;
	char why[600];

	(void)etcd_parse_error(rb, rl, &code, &msg);
	snprintf(why, sizeof(why), "HTTP %d%s%s", st, msg && *msg ? ": " : "", msg ? msg : "");
	c->error[0] = 0;
	add_error(c, c->endpoints[c->current], why);
	switch (st) {
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	default:
		return -EPROTO;
	}
}

static int v3_login(struct etcd_client *c)
{
	json_auto_t *req = json_pack("{s:s, s:s}", "name", c->username, "password",
				     c->password ? c->password : "");
	_cleanup_erase_ char *body = NULL;
	_cleanup_free_ char *rb = NULL;
	size_t rl;
	int st;

	if (!req || !(body = json_dumps(req, JSON_COMPACT)))
		return -ENOMEM;
	st = request(c, "POST", "/v3/auth/authenticate", NULL, "application/json", body, NULL, true,
		     &rb, &rl);
	if (st < 0)
		return st;
	if (st != 200) {
		(void)map_status(c, st, rb, rl);
		return -EKEYREJECTED; /* 400/3: wrong name or password */
	}
	json_auto_t *j = load(rb, rl, NULL);
	json_t *tok = j ? json_object_get(j, "token") : NULL;
	if (!json_is_string(tok))
		return -EBADMSG;
	free(c->token);
	c->token = strdup(json_string_value(tok));
	return c->token ? 0 : -ENOMEM;
}

/* POST a v3 call; handles login, re-login on 401 and the /v3beta/ fallback (etcd 3.3). */
static int v3_call(struct etcd_client *c, const char *what, json_t *req, bool all, char **ret_body,
		   size_t *ret_len)
{
	_cleanup_free_ char *body = json_dumps(req, JSON_COMPACT);
	bool relogged = false, beta_tried = false;
	int r;

	if (!body)
		return -ENOMEM;
	if (c->username && !c->token) {
		r = v3_login(c);
		if (r < 0)
			return r;
	}
	for (;;) {
		char path[64];
		char *rb = NULL;
		size_t rl = 0;

		snprintf(path, sizeof(path), "%s%s", c->v3, what);
		int st = request(c, "POST", path, NULL, "application/json", body, c->token, all, &rb,
				 &rl);
		if (st < 0)
			return st;
		if (st == 200) {
			*ret_body = rb;
			*ret_len = rl;
			return 0;
		}
		int code = 0;
		(void)etcd_parse_error(rb, rl, &code, NULL);
		if (st == 401 && c->username && !relogged) {
			free(rb);
			relogged = true;
			r = v3_login(c);
			if (r < 0)
				return r;
			continue;
		}
		if (st == 404 && !beta_tried && code == 0 && strcmp(c->v3, "/v3/") == 0) {
			free(rb);
			beta_tried = true;
			c->v3 = "/v3beta/";
			continue;
		}
		r = map_status(c, st, rb, rl);
		free(rb);
		return r;
	}
}

int etcd_v3_range(struct etcd_client *c, const char *key, const char *range_end,
		  struct etcd_kv **ret_kvs, size_t *ret_n, uint64_t *ret_revision)
{
	_cleanup_free_ char *k = b64_encode(key, strlen(key));
	_cleanup_free_ char *e = range_end ? b64_encode(range_end, strlen(range_end)) : NULL;
	_cleanup_free_ char *rb = NULL;
	size_t rl;
	int r;

	if (!k || (range_end && !e))
		return -ENOMEM;
	json_auto_t *req = range_end ? json_pack("{s:s, s:s}", "key", k, "range_end", e)
				     : json_pack("{s:s}", "key", k);
	if (!req)
		return -ENOMEM;
	r = v3_call(c, "kv/range", req, true, &rb, &rl);
	if (r < 0)
		return r;
	r = etcd_v3_parse_range(rb, rl, ret_kvs, ret_n, ret_revision, NULL);
	if (r == -EBADMSG) {
		c->error[0] = 0;
		add_error(c, c->endpoints[c->current], "invalid range reply");
	}
	return r;
}

struct etcd_txn {
	json_t *compare;
	json_t *success;
};

struct etcd_txn *etcd_txn_new(void)
{
	struct etcd_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->compare = json_array();
	t->success = json_array();
	if (!t->compare || !t->success)
		return etcd_txn_free(t);
	return t;
}

struct etcd_txn *etcd_txn_free(struct etcd_txn *t)
{
	if (!t)
		return NULL;
	json_decref(t->compare);
	json_decref(t->success);
	free(t);
	return NULL;
}

int etcd_txn_compare(struct etcd_txn *t, const char *key, enum etcd_compare cmp, uint64_t rev)
{
	_cleanup_free_ char *k = b64_encode(key, strlen(key));
	char revs[32];
	if (!k)
		return -ENOMEM;
	snprintf(revs, sizeof(revs), "%" PRIu64, cmp == ETCD_CMP_MOD ? rev : 0);
	json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "target", cmp == ETCD_CMP_MOD ? "MOD" : "CREATE",
			      "key", k, "result", "EQUAL",
			      cmp == ETCD_CMP_MOD ? "mod_revision" : "create_revision", revs);
	return c && json_array_append_new(t->compare, c) == 0 ? 0 : -ENOMEM;
}

int etcd_txn_put(struct etcd_txn *t, const char *key, const char *value, uint64_t lease)
{
	_cleanup_free_ char *k = b64_encode(key, strlen(key));
	_cleanup_free_ char *v = b64_encode(value, strlen(value));
	char ls[32];
	if (!k || !v)
		return -ENOMEM;
	json_t *op = json_pack("{s:s, s:s}", "key", k, "value", v);
	if (op && lease) {
		snprintf(ls, sizeof(ls), "%" PRIu64, lease);
		if (json_object_set_new(op, "lease", json_string(ls)) < 0) {
			json_decref(op);
			op = NULL;
		}
	}
	json_t *o = op ? json_pack("{s:o}", "request_put", op) : NULL;
	return o && json_array_append_new(t->success, o) == 0 ? 0 : -ENOMEM;
}

int etcd_txn_delete(struct etcd_txn *t, const char *key)
{
	_cleanup_free_ char *k = b64_encode(key, strlen(key));
	if (!k)
		return -ENOMEM;
	json_t *o = json_pack("{s:{s:s}}", "request_delete_range", "key", k);
	return o && json_array_append_new(t->success, o) == 0 ? 0 : -ENOMEM;
}

int etcd_v3_txn(struct etcd_client *c, const struct etcd_txn *t)
{
	_cleanup_free_ char *rb = NULL;
	size_t rl;
	bool ok = false;
	int r;

	json_auto_t *req = json_pack("{s:O, s:O}", "compare", t->compare, "success", t->success);
	if (!req)
		return -ENOMEM;
	r = v3_call(c, "kv/txn", req, false, &rb, &rl);
	if (r < 0)
		return r;
	r = etcd_v3_parse_txn(rb, rl, &ok, NULL);
	if (r < 0) {
		c->error[0] = 0;
		add_error(c, c->endpoints[c->current], "invalid txn reply");
		return -EAGAIN; /* we cannot tell whether it was applied */
	}
	return ok ? 1 : 0;
}

int etcd_v3_txn_put(struct etcd_client *c, const char *key, enum etcd_compare cmp, uint64_t rev,
		    const char *value)
{
	struct etcd_txn *t = etcd_txn_new();
	int r;
	if (!t)
		return -ENOMEM;
	r = etcd_txn_compare(t, key, cmp, rev);
	if (r >= 0)
		r = etcd_txn_put(t, key, value, 0);
	if (r >= 0)
		r = etcd_v3_txn(c, t);
	etcd_txn_free(t);
	return r;
}

static int lease_call(struct etcd_client *c, const char *what, json_t *req, json_t **ret)
{
	_cleanup_free_ char *rb = NULL;
	size_t rl;
	int r = v3_call(c, what, req, true, &rb, &rl);
	if (r < 0)
		return r;
	*ret = load(rb, rl, NULL);
	return *ret ? 0 : -EBADMSG;
}

int etcd_v3_lease_grant(struct etcd_client *c, uint64_t ttl_sec, uint64_t *ret_id)
{
	char ttl[32];
	json_t *reply = NULL;
	snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_sec);
	json_auto_t *req = json_pack("{s:s}", "TTL", ttl);
	if (!req)
		return -ENOMEM;
	int r = lease_call(c, "lease/grant", req, &reply);
	if (r < 0)
		return r;
	uint64_t id = 0;
	r = get_u64(reply, "ID", &id);
	json_decref(reply);
	if (r < 0 || id == 0)
		return -EBADMSG;
	*ret_id = id;
	return 0;
}

int etcd_v3_lease_revoke(struct etcd_client *c, uint64_t id)
{
	char ids[32];
	json_t *reply = NULL;
	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	json_auto_t *req = json_pack("{s:s}", "ID", ids);
	if (!req)
		return -ENOMEM;
	int r = lease_call(c, "lease/revoke", req, &reply);
	json_decref(reply);
	return r;
}

int etcd_v3_lease_remaining(struct etcd_client *c, uint64_t id, int64_t *ret_sec)
{
	char ids[32];
	json_t *reply = NULL;
	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	json_auto_t *req = json_pack("{s:s}", "ID", ids);
	if (!req)
		return -ENOMEM;
	int r = lease_call(c, "lease/timetolive", req, &reply);
	if (r < 0)
		return r;
	json_t *t = json_object_get(reply, "TTL");
	long long v = -1;
	if (json_is_string(t))
		v = strtoll(json_string_value(t), NULL, 10);
	else if (json_is_integer(t))
		v = json_integer_value(t);
	json_decref(reply);
	*ret_sec = v;
	return 0;
}

int etcd_v3_lease_keepalive(struct etcd_client *c, uint64_t id)
{
	char ids[32];
	json_t *reply = NULL;
	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	json_auto_t *req = json_pack("{s:s}", "ID", ids);
	if (!req)
		return -ENOMEM;
	int r = lease_call(c, "lease/keepalive", req, &reply);
	if (r < 0)
		return r;
	json_t *res = json_object_get(reply, "result");
	bool alive = json_is_object(res) && json_object_get(res, "TTL"); /* no TTL: lease gone */
	json_decref(reply);
	return alive ? 0 : -ENOENT;
}

struct watch {
	size_t done; /* bytes of complete lines already looked at */
	bool (*want)(const char *value, size_t n, void *ud);
	void *ud;
};

/* The gateway streams one JSON object per line: {"result":{"events":[{"type":..,"kv":{..}}]}}. */
static int watch_chunk(const char *all, size_t n, void *userdata)
{
	struct watch *w = userdata;
	for (;;) {
		const char *nl = memchr(all + w->done, '\n', n - w->done);
		if (!nl)
			return 0;
		json_auto_t *j = json_loadb(all + w->done, (size_t)(nl - all - (ptrdiff_t)w->done), 0,
					    NULL);
		w->done = (size_t)(nl - all) + 1;
		json_t *res = j ? json_object_get(j, "result") : NULL;
		json_t *evs = res ? json_object_get(res, "events") : NULL, *ev;
		size_t i;
		if (j && !res)
			return 1; /* an error object: let the caller re-read */
		json_array_foreach(evs, i, ev) {
			json_t *type = json_object_get(ev, "type");
			json_t *kv = json_object_get(ev, "kv");
			json_t *v = kv ? json_object_get(kv, "value") : NULL;
			_cleanup_free_ char *val = NULL;
			size_t vl = 0;
			if (json_is_string(type) && strcmp(json_string_value(type), "DELETE") == 0)
				return w->want(NULL, 0, w->ud) ? 1 : 0;
			if (!json_is_string(v) || b64_decode(json_string_value(v), &val, &vl) < 0)
				return 1;
			if (w->want(val, vl, w->ud))
				return 1;
		}
	}
}

int etcd_v3_watch_until(struct etcd_client *c, const char *key, uint64_t start_revision,
			uint64_t timeout_usec, bool (*want)(const char *value, size_t n, void *ud),
			void *ud)
{
	_cleanup_free_ char *k = b64_encode(key, strlen(key)), *body = NULL, *url = NULL;
	struct watch w = { .want = want, .ud = ud };
	char rev[32];

	if (!k)
		return -ENOMEM;
	snprintf(rev, sizeof(rev), "%" PRIu64, start_revision);
	json_auto_t *req = json_pack("{s:{s:s, s:s}}", "create_request", "key", k, "start_revision",
				     rev);
	if (!req || !(body = json_dumps(req, JSON_COMPACT)))
		return -ENOMEM;
	if (asprintf(&url, "%s%swatch", c->endpoints[c->current], c->v3) < 0)
		return -ENOMEM;
	c->round_trips++;
	return etcd_transport_stream(c->t, url, body, c->token, timeout_usec, watch_chunk, &w);
}

/* --- v2 ---------------------------------------------------------------------------------------- */

static char *v2_basic(struct etcd_client *c)
{
	_cleanup_erase_ char *up = NULL;
	if (!c->username)
		return NULL;
	if (asprintf(&up, "%s:%s", c->username, c->password ? c->password : "") < 0)
		return NULL;
	_cleanup_erase_ char *b = b64_encode(up, strlen(up));
	char *out = NULL;
	if (b && asprintf(&out, "Basic %s", b) < 0)
		out = NULL;
	return out;
}

/* Our key paths hold Go query escapes ("%2F"); in a URL path the '%' itself must be escaped. */
static char *v2_url_path(const char *path)
{
	char *out = malloc(strlen(path) * 3 + 16), *o = out;
	if (!out)
		return NULL;
	o += sprintf(o, "/v2/keys/");
	for (const char *p = path; *p; p++) {
		if (*p == '%') {
			memcpy(o, "%25", 3);
			o += 3;
		} else
			*o++ = *p;
	}
	*o = 0;
	return out;
}

static char *form_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = 0;
	return out;
}

static int v2_status(struct etcd_client *c, int st, const char *rb, size_t rl)
{
	int code = 0;
	if (etcd_parse_error(rb, rl, &code, NULL) < 0 && st == 404) {
		c->error[0] = 0;
		add_error(c, c->endpoints[c->current],
			  "does not serve the v2 API (needs --enable-v2=true, etcd <= 3.5)");
		return -ENOPROTOOPT;
	}
	if (st == 404 && code == 100)
		return -ENOENT;
	return map_status(c, st, rb, rl);
}

int etcd_v2_get(struct etcd_client *c, const char *path, char **ret_value, uint64_t *ret_index)
{
	_cleanup_free_ char *p = v2_url_path(path), *auth = v2_basic(c), *rb = NULL;
	size_t rl;
	int st;

	if (!p)
		return -ENOMEM;
	st = request(c, "GET", p, "?quorum=true", NULL, NULL, auth, true, &rb, &rl);
	if (st < 0)
		return st;
	if (st != 200)
		return v2_status(c, st, rb, rl);
	st = etcd_v2_parse_node(rb, rl, ret_value, ret_index, NULL);
	if (st == -EBADMSG) {
		c->error[0] = 0;
		add_error(c, c->endpoints[c->current], "response is not a v2 node");
	}
	return st;
}

int etcd_v2_cas(struct etcd_client *c, const char *path, bool create, uint64_t index,
		const char *value)
{
	_cleanup_free_ char *p = v2_url_path(path), *auth = v2_basic(c), *rb = NULL;
	_cleanup_free_ char *v = form_escape(value), *body = NULL;
	char q[48];
	size_t rl;
	int st;

	if (!p || !v)
		return -ENOMEM;
	if (asprintf(&body, "%svalue=%s", create ? "prevExist=false&" : "", v) < 0)
		return -ENOMEM;
	snprintf(q, sizeof(q), "?prevIndex=%" PRIu64, index);
	st = request(c, "PUT", p, create ? NULL : q, "application/x-www-form-urlencoded", body, auth,
		     false, &rb, &rl);
	if (st < 0)
		return st;
	if (st == 200 || st == 201)
		return 1;
	if (st == 412)
		return 0;
	int code = 0;
	if (st == 404 || st == 403) {
		/* 105 "key already exists" comes as 412; anything else is an error */
		(void)etcd_parse_error(rb, rl, &code, NULL);
		if (code == 105 || code == 101)
			return 0;
	}
	return v2_status(c, st, rb, rl);
}
