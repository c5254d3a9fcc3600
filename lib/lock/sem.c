/* SPDX-License-Identifier: MIT */
/* lib/lock/sem.c - the reboot semaphore value and its admission rule (docs/reboot-lock.md 1).
 *
 * Design: one JSON object {"semaphore":S,"max":M,"holders":[...]} per group, shared with a real
 * locksmith. We parse strictly (anything locksmith could misread is "corrupt" and never
 * overwritten), normalise what is merely untidy (unsorted or null holders, stale S), and decide
 * every change on the value as read, so the caller can make the write conditional on the exact
 * revision that was checked. A new holder needs both a free slot by count (holders < max) and a
 * positive stored S: trusting either alone could admit one machine too many. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lock/sem.h"

void lock_sem_init_default(struct lock_sem *s)
{
	*s = (struct lock_sem){ .semaphore = 1, .max = 1 };
}

void lock_sem_release(struct lock_sem *s)
{
	for (size_t i = 0; i < s->n_holders; i++)
		free(s->holders[i]);
	free(s->holders);
	if (s->extra)
		json_decref(s->extra);
	*s = (struct lock_sem){};
}

bool lock_id_is_valid(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n < 1 || n > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return false;
	return true;
}

bool lock_group_is_valid(const char *g)
{
	const unsigned char *p = (const unsigned char *)g;
	size_t n = strlen(g);

	if (n > 255)
		return false;
	while (*p) {
		size_t len;
		unsigned cp;
		if (*p < 0x80) {
			p++;
			continue;
		} else if ((*p & 0xe0) == 0xc0) {
			len = 2;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			len = 3;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			len = 4;
			cp = *p & 0x07;
		} else
			return false;
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += len;
	}
	return true;
}

int lock_query_escape(const char *s, char **ret)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(s) * 3 + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			*o++ = (char)*p;
		else if (*p == ' ')
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = 0;
	*ret = out;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lock_sem_parse(const char *data, size_t size, struct lock_sem *ret, struct problem_list *reterr)
{
	json_error_t err;
	json_auto_t *root = NULL;
	json_t *v;
	struct lock_sem s = {};
	int r = 0;

	root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		if (reterr) {
			(void)problem_add(reterr, -EUCLEAN, NULL, "%s", err.text);
			struct problem *p = problem_last(reterr);
			if (p) {
				p->line = (unsigned)(err.line > 0 ? err.line : 0);
				p->column = (unsigned)(err.column > 0 ? err.column : 0);
			}
		}
		return -EUCLEAN;
	}
	if (!json_is_object(root))
		return problem_add(reterr, -EUCLEAN, "", "not a JSON object");

	v = json_object_get(root, "max");
	if (!v)
		r = problem_add(reterr, -EUCLEAN, "/max", "missing");
	else if (!json_is_integer(v))
		r = problem_add(reterr, -EUCLEAN, "/max", "not an integer");
	else if (json_integer_value(v) < 0)
		r = problem_add(reterr, -EUCLEAN, "/max", "negative (%" JSON_INTEGER_FORMAT ")",
				json_integer_value(v));
	else
		s.max = json_integer_value(v);

	v = json_object_get(root, "semaphore");
	if (!v)
		r = problem_add(reterr, -EUCLEAN, "/semaphore", "missing");
	else if (!json_is_integer(v))
		r = problem_add(reterr, -EUCLEAN, "/semaphore", "not an integer");
	else
		s.semaphore = json_integer_value(v);

	v = json_object_get(root, "holders");
	if (!v)
		r = problem_add(reterr, -EUCLEAN, "/holders", "missing");
	else if (json_is_null(v))
		(void)problem_warn(reterr, "/holders", "null (normalised to [] on the next write)");
	else if (!json_is_array(v))
		r = problem_add(reterr, -EUCLEAN, "/holders", "neither null nor an array");
	else if (json_array_size(v) > 0) {
		size_t n = json_array_size(v), i;
		json_t *h;
		s.holders = calloc(n, sizeof(char *));
		if (!s.holders) {
			lock_sem_release(&s);
			return -ENOMEM;
		}
		json_array_foreach(v, i, h) {
			char where[64];
			snprintf(where, sizeof(where), "/holders/%zu", i);
			if (!json_is_string(h)) {
				r = problem_add(reterr, -EUCLEAN, where, "not a string");
				continue;
			}
			const char *id = json_string_value(h);
			if (strlen(id) != json_string_length(h) || !lock_id_is_valid(id)) {
				r = problem_add(reterr, -EUCLEAN, where,
						"invalid holder id (1-255 printable ASCII bytes)");
				continue;
			}
			s.holders[s.n_holders] = strdup(id);
			if (!s.holders[s.n_holders]) {
				lock_sem_release(&s);
				return -ENOMEM;
			}
			s.n_holders++;
		}
		bool sorted = true;
		for (i = 1; i < s.n_holders; i++)
			if (strcmp(s.holders[i - 1], s.holders[i]) > 0)
				sorted = false;
		if (!sorted) {
			qsort(s.holders, s.n_holders, sizeof(char *), cmp_str);
			(void)problem_warn(reterr, "/holders", "not sorted (sorted on the next write)");
		}
		for (i = 1; i < s.n_holders; i++)
			if (strcmp(s.holders[i - 1], s.holders[i]) == 0)
				r = problem_add(reterr, -EUCLEAN, "/holders", "'%s' listed twice",
						s.holders[i]);
	}
	if (r < 0) {
		lock_sem_release(&s);
		return -EUCLEAN;
	}
	if (s.semaphore != s.max - (long long)s.n_holders)
		(void)problem_warn(reterr, "/semaphore",
				   "stored %lld differs from max - holders = %lld (fixed on the next write)",
				   s.semaphore, s.max - (long long)s.n_holders);
	s.extra = TAKE_PTR(root);
	*ret = s;
	return 0;
}

int lock_sem_format(const struct lock_sem *s, char **ret)
{
	json_auto_t *o = json_object(), *h = json_array();
	const char *k;
	json_t *v;

	if (!o || !h)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_holders; i++)
		if (json_array_append_new(h, json_string(s->holders[i])) < 0)
			return -ENOMEM;
	if (json_object_set_new(o, "semaphore", json_integer(s->max - (long long)s->n_holders)) < 0 ||
	    json_object_set_new(o, "max", json_integer(s->max)) < 0 ||
	    json_object_set(o, "holders", h) < 0)
		return -ENOMEM;
	if (s->extra && json_is_object(s->extra))
		json_object_foreach(s->extra, k, v) {
			if (strcmp(k, "semaphore") == 0 || strcmp(k, "max") == 0 ||
			    strcmp(k, "holders") == 0)
				continue;
			if (json_object_set(o, k, v) < 0)
				return -ENOMEM;
		}
	char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

static ssize_t find(const struct lock_sem *s, const char *id, size_t *ret_pos)
{
	size_t lo = 0, hi = s->n_holders;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->holders[mid], id);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (ret_pos)
		*ret_pos = lo;
	return -1;
}

bool lock_sem_has(const struct lock_sem *s, const char *id)
{
	return find(s, id, NULL) >= 0;
}

int lock_sem_decide(struct lock_sem *s, enum lock_op op, const char *id, long long max)
{
	size_t pos = 0;
	ssize_t at;

	switch (op) {
	case LOCK_OP_LOCK:
		at = find(s, id, &pos);
		if (at >= 0)
			return LOCK_ALREADY_HELD;
		if ((long long)s->n_holders >= s->max || s->semaphore <= 0)
			return LOCK_FULL;
		char *dup = strdup(id);
		char **n = realloc(s->holders, (s->n_holders + 1) * sizeof(char *));
		if (!dup || !n) {
			free(dup);
			if (n)
				s->holders = n;
			return -ENOMEM;
		}
		s->holders = n;
		memmove(s->holders + pos + 1, s->holders + pos, (s->n_holders - pos) * sizeof(char *));
		s->holders[pos] = dup;
		s->n_holders++;
		break;
	case LOCK_OP_UNLOCK:
		at = find(s, id, NULL);
		if (at < 0)
			return LOCK_NOT_HOLDER;
		free(s->holders[at]);
		memmove(s->holders + at, s->holders + at + 1,
			(s->n_holders - (size_t)at - 1) * sizeof(char *));
		s->n_holders--;
		break;
	case LOCK_OP_SET_MAX:
		s->max = max;
		break;
	default:
		return -EINVAL;
	}
	s->semaphore = s->max - (long long)s->n_holders;
	return LOCK_DO_WRITE;
}

int lock_parse_duration(const char *s, uint64_t *ret_usec)
{
	static const struct {
		const char *unit;
		double usec;
	} units[] = {
		{ "ns", 1e-3 }, { "us", 1 }, { "\xc2\xb5s", 1 }, { "\xce\xbcs", 1 }, { "ms", 1e3 },
		{ "s", 1e6 },   { "m", 60e6 }, { "h", 3600e6 },
	};
	double total = 0;
	const char *p = s;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	if (*p == '+')
		p++;
	if (*p == '-')
		return -EINVAL;
	/* bare integer: seconds */
	if (*p >= '0' && *p <= '9') {
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (!*end) {
			if (errno || v > UINT64_MAX / 1000000)
				return -EINVAL;
			*ret_usec = v * 1000000ULL;
			return 0;
		}
	}
	if (strcmp(p, "0") == 0) {
		*ret_usec = 0;
		return 0;
	}
	while (*p) {
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return -EINVAL;
		const char *num = p;
		while ((*p >= '0' && *p <= '9') || *p == '.')
			p++;
		if (p == num || (p - num == 1 && *num == '.'))
			return -EINVAL;
		char buf[64];
		if ((size_t)(p - num) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, num, (size_t)(p - num));
		buf[p - num] = 0;
		if (strchr(buf, '.') != strrchr(buf, '.'))
			return -EINVAL;
		double v = strtod(buf, &end);
		if (*end)
			return -EINVAL;
		size_t best = 0, bestlen = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, l) == 0 && l > bestlen) {
				best = i;
				bestlen = l;
			}
		}
		if (!bestlen)
			return -EINVAL;
		p += bestlen;
		total += v * units[best].usec;
		if (total > 1e18)
			return -EINVAL;
	}
	*ret_usec = (uint64_t)llround(total);
	return 0;
}
