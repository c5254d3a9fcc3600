/* SPDX-License-Identifier: MIT */
/* lib/lock/lock.c - the retry loop every write command runs (docs/reboot-lock.md 3.2).
 *
 * Read, validate, decide, then write conditional on exactly what was read. A failed compare means
 * someone else wrote in between: re-read and decide again. A write whose outcome is unknown (the
 * connection broke, a 5xx) is resolved by re-reading too: the id already holding (lock) or no
 * longer holding (unlock) is success. Because every write names the revision it was computed
 * from, a late duplicate can never apply on top of a newer value. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sys/random.h>
#include <time.h>

#include "etcd/etcd.h"
#include "lock/lock.h"

uint64_t lock_now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

static uint32_t rnd(void)
{
	uint32_t x = 0;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
		x = (uint32_t)lock_now_usec() * 2654435761u;
	return x;
}

void lock_sleep_jitter(uint64_t usec)
{
	uint64_t lo = usec * 8 / 10, span = usec * 4 / 10;
	uint64_t d = lo + (span ? rnd() % span : 0);
	struct timespec ts = { .tv_sec = (time_t)(d / 1000000), .tv_nsec = (long)(d % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void sleep_usec(uint64_t d)
{
	struct timespec ts = { .tv_sec = (time_t)(d / 1000000), .tv_nsec = (long)(d % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct lock_backend *lock_backend_free(struct lock_backend *b)
{
	if (b && b->ops->free)
		b->ops->free(b);
	return NULL;
}

void lock_outcome_release(struct lock_outcome *o)
{
	lock_sem_release(&o->before);
	lock_sem_release(&o->after);
	free(o->raw);
	*o = (struct lock_outcome){};
}

static bool past(uint64_t deadline)
{
	return deadline && lock_now_usec() >= deadline;
}

/* Transient failure: pause before the next round unless the deadline passed or it is hopeless. */
static int transient(struct lock_backend *b, uint64_t deadline, unsigned *rounds)
{
	if (b->hopeless || past(deadline))
		return -EAGAIN;
	uint64_t d = 100000ULL << (*rounds < 4 ? *rounds : 4);
	if (d > 1000000)
		d = 1000000;
	(*rounds)++;
	uint64_t now = lock_now_usec();
	if (deadline && now + d * 12 / 10 >= deadline)
		sleep_usec(deadline - now); /* the pause may not carry the command past its deadline */
	else
		lock_sleep_jitter(d);
	return past(deadline) ? -EAGAIN : 0;
}

/* The command's deadline also bounds each etcd request (a peer that accepts and never answers
 * must not stretch --timeout by its request timeout); lifted after, for callers like the reboot
 * manager that go on using the client. */
static void set_deadline(struct lock_backend *b, uint64_t deadline)
{
	if (b->etcd)
		etcd_client_set_deadline(b->etcd, deadline);
}

static int read_loop(struct lock_backend *b, uint64_t deadline, struct lock_sem *ret,
		     char **ret_raw, uint64_t *ret_rev, struct problem_list *reterr)
{
	unsigned rounds = 0;

	for (;;) {
		_cleanup_free_ char *raw = NULL;
		size_t size = 0;
		uint64_t rev = 0;
		int r;

		if (b->ops->begin) {
			r = b->ops->begin(b, false);
			if (r < 0)
				return r;
		}
		r = b->ops->read(b, &raw, &size, &rev);
		if (b->ops->end)
			b->ops->end(b);
		if (r == -EAGAIN) {
			r = transient(b, deadline, &rounds);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		struct lock_sem s;
		if (raw) {
			r = lock_sem_parse(raw, size, &s, reterr);
			if (r < 0) {
				if (ret_raw)
					*ret_raw = TAKE_PTR(raw);
				return r;
			}
		} else
			lock_sem_init_default(&s);
		*ret = s;
		if (ret_raw)
			*ret_raw = TAKE_PTR(raw);
		if (ret_rev)
			*ret_rev = rev;
		return raw || !ret_raw ? 1 : 0;
	}
}

int lock_read(struct lock_backend *b, uint64_t timeout_usec, struct lock_sem *ret, char **ret_raw,
	      uint64_t *ret_rev, struct problem_list *reterr)
{
	uint64_t deadline = timeout_usec ? lock_now_usec() + timeout_usec : 0;
	set_deadline(b, deadline);
	int r = read_loop(b, deadline, ret, ret_raw, ret_rev, reterr);
	set_deadline(b, 0);
	return r;
}

static int execute_loop(struct lock_backend *b, const struct lock_request *req, uint64_t deadline,
			struct lock_outcome *out, struct problem_list *reterr)
{
	uint64_t wait_delay = 200000;
	unsigned rounds = 0;
	int r;

	*out = (struct lock_outcome){};
	for (;;) {
		_cleanup_free_ char *raw = NULL, *value = NULL;
		size_t size = 0;
		uint64_t rev = 0;
		bool corrupt = false;

		lock_sem_release(&out->before);
		lock_sem_release(&out->after);
		if (b->ops->begin) {
			r = b->ops->begin(b, true);
			if (r < 0)
				return r;
		}
		r = b->ops->read(b, &raw, &size, &rev);
		if (r < 0)
			goto retry_or_fail;

		out->existed = raw != NULL;
		if (raw) {
			struct problem_list tmp = {};
			r = lock_sem_parse(raw, size, &out->before, &tmp);
			if (r == -EUCLEAN && req->op == LOCK_OP_SET_MAX && req->reset) {
				corrupt = true;
				free(out->raw);
				out->raw = strndup(raw, size);
				lock_sem_init_default(&out->before);
				problem_list_release(&tmp);
			} else if (r < 0) {
				if (b->ops->end)
					b->ops->end(b);
				for (size_t i = 0; reterr && i < tmp.n; i++) {
					struct problem *p = &tmp.item[i];
					if (p->severity != PROBLEM_ERROR)
						continue;
					(void)problem_add(reterr, p->error, p->where, "%s", p->message);
					struct problem *q = problem_last(reterr);
					if (q) {
						q->line = p->line;
						q->column = p->column;
					}
				}
				problem_list_release(&tmp);
				free(out->raw);
				out->raw = TAKE_PTR(raw);
				return r;
			} else {
				/* warnings only once, on the first read */
				if (reterr && rounds == 0 && out->conflicts == 0)
					for (size_t i = 0; i < tmp.n; i++)
						(void)problem_warn(reterr, tmp.item[i].where, "%s",
								   tmp.item[i].message);
				problem_list_release(&tmp);
			}
		} else
			lock_sem_init_default(&out->before);

		/* decide on a copy: before stays as read */
		struct lock_sem *a = &out->after;
		a->max = out->before.max;
		a->semaphore = out->before.semaphore;
		a->extra = corrupt || !out->before.extra ? NULL : json_incref(out->before.extra);
		a->n_holders = 0;
		if (out->before.n_holders) {
			a->holders = calloc(out->before.n_holders, sizeof(char *));
			if (!a->holders) {
				r = -ENOMEM;
				goto fail;
			}
			for (size_t i = 0; i < out->before.n_holders; i++) {
				a->holders[i] = strdup(out->before.holders[i]);
				if (!a->holders[i]) {
					r = -ENOMEM;
					goto fail;
				}
				a->n_holders++;
			}
		}
		if (b->ops->prepare && !corrupt) {
			r = b->ops->prepare(b, a, req, reterr);
			if (r < 0)
				goto fail;
		}
		r = lock_sem_decide(a, req->op, req->id, req->max);
		if (r < 0)
			goto fail;
		out->decision = r;
		if (r == LOCK_ALREADY_HELD || r == LOCK_NOT_HOLDER) {
			if (b->ops->end)
				b->ops->end(b);
			return 0;
		}
		if (r == LOCK_FULL) {
			if (b->ops->end)
				b->ops->end(b);
			if (!req->wait || past(deadline))
				return -EBUSY;
			uint64_t d = wait_delay;
			bool cut = false; /* the wait ends at the deadline: no jitter beyond it */
			if (deadline) {
				uint64_t left = deadline - lock_now_usec();
				if (d * 12 / 10 >= left) {
					d = left;
					cut = true;
				}
			}
			/* a watch wakes us on the next write; the poll delay stays the upper bound */
			uint64_t t0 = lock_now_usec();
			if (!b->ops->wait_change || b->ops->wait_change(b, rev, d) < 0) {
				uint64_t rest = d > lock_now_usec() - t0 ? d - (lock_now_usec() - t0) : 0;
				if (cut)
					sleep_usec(rest);
				else
					lock_sleep_jitter(rest);
			} else {
				/* spread the herd: first reader wins, few CAS misses */
				uint64_t s = rnd() % 100001, now = lock_now_usec();
				if (deadline && now + s > deadline)
					s = deadline > now ? deadline - now : 0;
				sleep_usec(s);
			}
			wait_delay = wait_delay * 2 > 1000000 ? 1000000 : wait_delay * 2;
			if (past(deadline))
				return -EBUSY;
			continue;
		}
		r = lock_sem_format(a, &value);
		if (r < 0)
			goto fail;
		r = b->ops->cas(b, out->existed, rev, value, req);
		if (b->ops->end)
			b->ops->end(b);
		if (r > 0)
			return 0;
		if (r == 0) {
			out->conflicts++;
			sleep_usec(rnd() % 20001);
			continue;
		}
		if (r == -EAGAIN)
			out->uncertain = true;
		else
			return r;
		r = transient(b, deadline, &rounds);
		if (r < 0)
			return r;
		continue;

	retry_or_fail:
		if (b->ops->end)
			b->ops->end(b);
		if (r != -EAGAIN)
			return r;
		r = transient(b, deadline, &rounds);
		if (r < 0)
			return r;
		continue;
	fail:
		if (b->ops->end)
			b->ops->end(b);
		return r;
	}
}

int lock_execute(struct lock_backend *b, const struct lock_request *req, struct lock_outcome *out,
		 struct problem_list *reterr)
{
	uint64_t deadline = req->timeout_usec ? lock_now_usec() + req->timeout_usec : 0;
	set_deadline(b, deadline);
	int r = execute_loop(b, req, deadline, out, reterr);
	set_deadline(b, 0);
	return r;
}
