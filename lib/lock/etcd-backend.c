/* SPDX-License-Identifier: MIT */
/* lib/lock/etcd-backend.c - the semaphore in etcd (spec/reboot-lock.md 1.4, 3): v3 key read with
 * one range over K and its sidecars, written with a txn comparing mod_revision (or "absent");
 * v2 keys API with prevIndex / prevExist=false for clusters shared with a real locksmith. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd/etcd.h"
#include "lock/lock.h"

struct etcd_backend {
	struct lock_backend b;
	bool v2;
	char *range_end;
};

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
	for (size_t i = 0; i < n; i++)
		if (strcmp(kvs[i].key, b->where) == 0) {
			*ret_value = TAKE_PTR(kvs[i].value);
			*ret_size = kvs[i].value_size;
			*ret_rev = kvs[i].mod_revision;
		}
	etcd_kvs_free(kvs, n);
	return 0;
}

static int etcd_cas(struct lock_backend *b, bool exists, uint64_t rev, const char *value)
{
	struct etcd_backend *e = (struct etcd_backend *)b;
	int r;

	if (e->v2)
		r = etcd_v2_cas(b->etcd, b->where, !exists, rev, value);
	else
		r = etcd_v3_txn_put(b->etcd, b->where, exists ? ETCD_CMP_MOD : ETCD_CMP_ABSENT, rev,
				    value);
	if (r < 0)
		return failed(b, r);
	return r;
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
	free(e->range_end);
	free(b->where);
	free(e);
}

static const struct lock_backend_ops etcd_ops = {
	.read = etcd_read,
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
	if (r < 0 || asprintf(&e->range_end, "%s0", e->b.where) < 0) {
		free(e->b.where);
		free(e);
		return -ENOMEM;
	}
	*ret = &e->b;
	return 0;
}
