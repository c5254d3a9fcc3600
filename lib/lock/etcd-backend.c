/* SPDX-License-Identifier: MIT */
/* lib/lock/etcd-backend.c - the semaphore in etcd (docs/reboot-lock.md 1.4, 3): v3 key read with
 * one range over K and its sidecars, written with a txn comparing mod_revision (or "absent");
 * v2 keys API with prevIndex / prevExist=false for clusters shared with a real locksmith. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <string.h>
#include <time.h>

#include "etcd/etcd.h"
#include "lock/lock.h"

struct sidecar {
	char *key;
	char *value;
	uint64_t mod_revision;
};

struct etcd_backend {
	struct lock_backend b;
	bool v2;
	char *range_end;
	char *ttl_prefix;   /* K/ttl/ */
	char *alive_prefix; /* K/alive/ */
	/* sidecars seen by the last read (section 4) */
	struct sidecar *side;
	size_t n_side;
	/* planned by prepare() for the next cas(): keys to delete, guarded */
	struct sidecar *plan; /* key, mod_revision of K/ttl/H (or alive key); value: alive key */
	size_t n_plan;
	uint64_t held_lease; /* lease of our last successful lock with a TTL */
};

static void sidecars_clear(struct sidecar **v, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free((*v)[i].key);
		free((*v)[i].value);
	}
	free(*v);
	*v = NULL;
	*n = 0;
}

static const struct sidecar *find_side(const struct etcd_backend *e, const char *key)
{
	for (size_t i = 0; i < e->n_side; i++)
		if (strcmp(e->side[i].key, key) == 0)
			return &e->side[i];
	return NULL;
}

static int side_key(const struct etcd_backend *e, bool alive, const char *id, char **ret)
{
	_cleanup_free_ char *esc = NULL;
	int r = lock_query_escape(id, &esc);
	if (r < 0)
		return r;
	return asprintf(ret, "%s%s", alive ? e->alive_prefix : e->ttl_prefix, esc) < 0 ? -ENOMEM : 0;
}

/* The lease id and ttl stored in a K/ttl/H marker; 0 when unreadable. */
static uint64_t marker_lease(const char *value, uint64_t *ret_ttl)
{
	json_auto_t *j = json_loads(value, 0, NULL);
	json_t *l = j ? json_object_get(j, "lease") : NULL, *t = j ? json_object_get(j, "ttl") : NULL;
	if (ret_ttl)
		*ret_ttl = json_is_integer(t) ? (uint64_t)json_integer_value(t) : 0;
	return json_is_string(l) ? strtoull(json_string_value(l), NULL, 10) : 0;
}

static int failed(struct lock_backend *b, int r)
{
	snprintf(b->error, sizeof(b->error), "%s", etcd_client_error(b->etcd));
	b->hopeless = r == -EAGAIN && etcd_client_all_refused(b->etcd);
	return r;
}

static int etcd_read(struct lock_backend *b, char **ret_value, size_t *ret_size, uint64_t *ret_rev)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	int r;

	*ret_value = NULL;
	*ret_size = 0;
	*ret_rev = 0;
	if (e->v2) {
		char *v = NULL;
		uint64_t idx = 0;
		r = etcd_v2_get(b->etcd, b->where, &v, &idx);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return failed(b, r);
		*ret_value = v;
		*ret_size = strlen(v);
		*ret_rev = idx;
		return 0;
	}
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	r = etcd_v3_range(b->etcd, b->where, e->range_end, &kvs, &n, NULL);
	if (r < 0)
		return failed(b, r);
	sidecars_clear(&e->side, &e->n_side);
	e->side = calloc(n ? n : 1, sizeof(*e->side));
	if (!e->side) {
		etcd_kvs_free(kvs, n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(kvs[i].key, b->where) == 0) {
			*ret_value = TAKE_PTR(kvs[i].value);
			*ret_size = kvs[i].value_size;
			*ret_rev = kvs[i].mod_revision;
		} else if (strncmp(kvs[i].key, e->ttl_prefix, strlen(e->ttl_prefix)) == 0 ||
			   strncmp(kvs[i].key, e->alive_prefix, strlen(e->alive_prefix)) == 0) {
			/* K/ttl/H and K/alive/H; anything else under K/ is not ours: ignored */
			e->side[e->n_side++] = (struct sidecar){ TAKE_PTR(kvs[i].key),
								 TAKE_PTR(kvs[i].value),
								 kvs[i].mod_revision };
		}
	}
	etcd_kvs_free(kvs, n);
	return 0;
}

static int plan_add(struct etcd_backend *e, const char *key, uint64_t rev, const char *alive)
{
	struct sidecar *n = realloc(e->plan, (e->n_plan + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	e->plan = n;
	n[e->n_plan] = (struct sidecar){ strdup(key), alive ? strdup(alive) : NULL, rev };
	if (!n[e->n_plan].key || (alive && !n[e->n_plan].value))
		return -ENOMEM;
	e->n_plan++;
	return 0;
}

static bool planned(const struct etcd_backend *e, const char *key)
{
	for (size_t i = 0; i < e->n_plan; i++)
		if (strcmp(e->plan[i].key, key) == 0)
			return true;
	return false;
}

/* Section 4 reaping: a holder H is stale when K/ttl/H exists and K/alive/H does not. Such holders
 * (never the id of this request) leave s; the write deletes K/ttl/H, guarded by its revision and
 * by K/alive/H still being absent. Markers of ids that hold nothing are deleted too (guarded by
 * their revision). Holders without a marker are never touched. */
static int etcd_prepare(struct lock_backend *b, struct lock_sem *s, const struct lock_request *req,
			struct problem_list *notes)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	int r;

	sidecars_clear(&e->plan, &e->n_plan);
	if (e->v2 || !e->n_side)
		return 0;
	for (size_t h = 0; h < s->n_holders;) {
		const char *holder = s->holders[h];
		_cleanup_free_ char *tk = NULL, *ak = NULL;
		if ((r = side_key(e, false, holder, &tk)) < 0 || (r = side_key(e, true, holder, &ak)) < 0)
			return r;
		const struct sidecar *m = find_side(e, tk);
		if (!m || find_side(e, ak) || (req->id && strcmp(holder, req->id) == 0)) {
			h++;
			continue;
		}
		uint64_t ttl = 0;
		(void)marker_lease(m->value, &ttl);
		(void)problem_warn(notes, "reaped", "reaped stale holder %s (ttl %" PRIu64 " s expired)",
				   holder, ttl);
		if ((r = plan_add(e, tk, m->mod_revision, ak)) < 0)
			return r;
		r = lock_sem_decide(s, LOCK_OP_UNLOCK, holder, 0); /* s->holders[h] is freed here */
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < e->n_side; i++) {
		const struct sidecar *sc = &e->side[i];
		bool mine = false, held = false;
		if (planned(e, sc->key))
			continue;
		for (size_t h = 0; h < s->n_holders && !held; h++) {
			_cleanup_free_ char *tk = NULL, *ak = NULL;
			if ((r = side_key(e, false, s->holders[h], &tk)) < 0 ||
			    (r = side_key(e, true, s->holders[h], &ak)) < 0)
				return r;
			held = strcmp(tk, sc->key) == 0 || strcmp(ak, sc->key) == 0;
		}
		if (req->id) {
			_cleanup_free_ char *tk = NULL, *ak = NULL;
			if ((r = side_key(e, false, req->id, &tk)) < 0 ||
			    (r = side_key(e, true, req->id, &ak)) < 0)
				return r;
			mine = strcmp(tk, sc->key) == 0 || strcmp(ak, sc->key) == 0;
		}
		if (held || mine)
			continue;
		if ((r = plan_add(e, sc->key, sc->mod_revision, NULL)) < 0)
			return r;
	}
	return 0;
}

static int etcd_cas(struct lock_backend *b, bool exists, uint64_t rev, const char *value,
		    const struct lock_request *req)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	int r;

	if (e->v2) {
		r = etcd_v2_cas(b->etcd, b->where, !exists, rev, value);
		return r < 0 ? failed(b, r) : r;
	}
	bool with_ttl = req && req->op == LOCK_OP_LOCK && req->ttl_usec;
	if (!e->n_plan && !with_ttl && !(req && req->op == LOCK_OP_UNLOCK && e->n_side)) {
		/* the common case: one compare, one put */
		r = etcd_v3_txn_put(b->etcd, b->where, exists ? ETCD_CMP_MOD : ETCD_CMP_ABSENT, rev,
				    value);
		return r < 0 ? failed(b, r) : r;
	}
	struct etcd_txn *t = etcd_txn_new();
	uint64_t lease = 0, revoke = 0;
	if (!t)
		return -ENOMEM;
	r = etcd_txn_compare(t, b->where, exists ? ETCD_CMP_MOD : ETCD_CMP_ABSENT, rev);
	if (r >= 0)
		r = etcd_txn_put(t, b->where, value, 0);
	for (size_t i = 0; r >= 0 && i < e->n_plan; i++) {
		r = etcd_txn_compare(t, e->plan[i].key, ETCD_CMP_MOD, e->plan[i].mod_revision);
		if (r >= 0 && e->plan[i].value)
			r = etcd_txn_compare(t, e->plan[i].value, ETCD_CMP_ABSENT, 0);
		if (r >= 0)
			r = etcd_txn_delete(t, e->plan[i].key);
	}
	if (r >= 0 && req && req->op == LOCK_OP_UNLOCK) {
		_cleanup_free_ char *tk = NULL, *ak = NULL;
		r = side_key(e, false, req->id, &tk);
		if (r >= 0)
			r = side_key(e, true, req->id, &ak);
		const struct sidecar *m = r >= 0 ? find_side(e, tk) : NULL;
		if (m)
			revoke = marker_lease(m->value, NULL);
		if (r >= 0 && m)
			r = etcd_txn_delete(t, tk);
		if (r >= 0 && find_side(e, ak))
			r = etcd_txn_delete(t, ak);
	}
	if (r >= 0 && with_ttl) {
		uint64_t sec = (req->ttl_usec + 999999) / 1000000;
		_cleanup_free_ char *tk = NULL, *ak = NULL, *marker = NULL;
		r = etcd_v3_lease_grant(b->etcd, sec, &lease);
		if (r < 0) {
			etcd_txn_free(t);
			return failed(b, r);
		}
		json_auto_t *mv = json_pack("{s:s, s:I, s:s, s:I}", "id", req->id, "ttl", (json_int_t)sec,
					    "lease", "", "since", (json_int_t)time(NULL));
		char ls[32];
		snprintf(ls, sizeof(ls), "%" PRIu64, lease);
		if (!mv || json_object_set_new(mv, "lease", json_string(ls)) < 0 ||
		    !(marker = json_dumps(mv, JSON_COMPACT | JSON_PRESERVE_ORDER)))
			r = -ENOMEM;
		if (r >= 0)
			r = side_key(e, false, req->id, &tk);
		if (r >= 0)
			r = side_key(e, true, req->id, &ak);
		if (r >= 0)
			r = etcd_txn_put(t, tk, marker, 0);
		if (r >= 0)
			r = etcd_txn_put(t, ak, "{}", lease);
	}
	if (r >= 0)
		r = etcd_v3_txn(b->etcd, t);
	etcd_txn_free(t);
	if (r == -ENOENT)
		r = 0; /* the lease vanished between grant and txn: re-read, new lease */
	if (r <= 0 && lease)
		(void)etcd_v3_lease_revoke(b->etcd, lease);
	if (r > 0 && revoke)
		(void)etcd_v3_lease_revoke(b->etcd, revoke);
	if (r > 0 && lease)
		e->held_lease = lease;
	return r < 0 ? failed(b, r) : r;
}

/* Wake a waiter only for a value that could admit someone new (or one we cannot judge). */
static bool may_admit(const char *value, size_t n, void *ud)
{
	struct lock_sem s;
	if (!value)
		return true;
	if (lock_sem_parse(value, n, &s, NULL) < 0)
		return true;
	bool free_slot = (long long)s.n_holders < s.max && s.semaphore > 0;
	lock_sem_release(&s);
	return free_slot;
}

static int etcd_wait_change(struct lock_backend *b, uint64_t rev, uint64_t usec)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	if (e->v2 || rev == 0)
		return -EOPNOTSUPP;
	return etcd_v3_watch_until(b->etcd, b->where, rev + 1, usec, may_admit, NULL);
}

static void etcd_free(struct lock_backend *b)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	sidecars_clear(&e->side, &e->n_side);
	sidecars_clear(&e->plan, &e->n_plan);
	free(e->ttl_prefix);
	free(e->alive_prefix);
	free(e->range_end);
	free(b->where);
	free(e);
}

static const struct lock_backend_ops etcd_ops = {
	.read = etcd_read,
	.prepare = etcd_prepare,
	.cas = etcd_cas,
	.wait_change = etcd_wait_change,
	.free = etcd_free,
};

int lock_etcd_backend_new(struct etcd_client *c, const char *api, const char *group,
			  struct lock_backend **ret)
{
	_cleanup_free_ char *esc = NULL;
	struct etcd_backend *e;
	const char *prefix;
	int r;

	if (strcmp(api, "v3") != 0 && strcmp(api, "v2") != 0)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->b.ops = &etcd_ops;
	e->b.kind = "etcd";
	e->b.api = strcmp(api, "v2") == 0 ? "v2" : "v3";
	e->b.etcd = c;
	e->v2 = strcmp(api, "v2") == 0;
	/* v2 paths are given without the leading slash; the URL adds /v2/keys/ */
	prefix = "coreos.com/updateengine/rebootlock";
	if (group && *group) {
		r = lock_query_escape(group, &esc);
		if (r >= 0)
			r = asprintf(&e->b.where, "%s/groups/%s/semaphore", prefix, esc);
	} else
		r = asprintf(&e->b.where, "%s/semaphore", prefix);
	if (r < 0 || asprintf(&e->range_end, "%s0", e->b.where) < 0 ||
	    asprintf(&e->ttl_prefix, "%s/ttl/", e->b.where) < 0 ||
	    asprintf(&e->alive_prefix, "%s/alive/", e->b.where) < 0) {
		free(e->b.where);
		free(e);
		return -ENOMEM;
	}
	*ret = &e->b;
	return 0;
}

int lock_backend_ttl_info(struct lock_backend *b, const struct lock_sem *s, json_t **ret_ttl,
			  json_t **ret_stale)
{
	json_auto_t *ttl = json_object(), *stale = json_array();
	int r;

	if (!ttl || !stale)
		return -ENOMEM;
	if (b->ops == &etcd_ops && !((struct etcd_backend *)b)->v2) {
		struct etcd_backend *e = (struct etcd_backend *)b;
		for (size_t h = 0; h < s->n_holders; h++) {
			_cleanup_free_ char *tk = NULL, *ak = NULL;
			if ((r = side_key(e, false, s->holders[h], &tk)) < 0 ||
			    (r = side_key(e, true, s->holders[h], &ak)) < 0)
				return r;
			const struct sidecar *m = find_side(e, tk);
			if (!m)
				continue;
			uint64_t secs = 0, lease = marker_lease(m->value, &secs);
			int64_t left = -1;
			bool alive = find_side(e, ak) != NULL;
			if (alive && lease && etcd_v3_lease_remaining(b->etcd, lease, &left) < 0)
				left = -1;
			json_t *o = json_pack("{s:I, s:I}", "ttl", (json_int_t)secs, "remaining",
					      (json_int_t)(alive ? left : -1));
			if (!o || json_object_set_new(ttl, s->holders[h], o) < 0)
				return -ENOMEM;
			if (!alive && json_array_append_new(stale, json_string(s->holders[h])) < 0)
				return -ENOMEM;
		}
	}
	*ret_ttl = TAKE_PTR(ttl);
	*ret_stale = TAKE_PTR(stale);
	return 0;
}

int lock_backend_refresh(struct lock_backend *b)
{
	if (b->ops != &etcd_ops || !((struct etcd_backend *)b)->held_lease)
		return 0;
	int r = etcd_v3_lease_keepalive(b->etcd, ((struct etcd_backend *)b)->held_lease);
	return r < 0 ? failed(b, r) : 0;
}
