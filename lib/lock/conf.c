/* SPDX-License-Identifier: MIT */
/* lib/lock/conf.c - update.conf reader: trimmed KEY=VALUE, one pair of quotes removed, '#'
 * comments; bad lines are warnings, never fatal (spec/update.md 3.1). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "lock/conf.h"

void lock_conf_release(struct lock_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->item[i].key);
		free(c->item[i].value);
	}
	free(c->item);
	*c = (struct lock_conf){};
}

const char *lock_conf_get(const struct lock_conf *c, const char *key, const char **ret_file)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->item[i].key, key) == 0) {
			if (ret_file)
				*ret_file = c->item[i].file;
			return c->item[i].value;
		}
	return NULL;
}

static int set(struct lock_conf *c, const char *k, size_t kl, const char *v, size_t vl,
	       const char *file)
{
	char *key = strndup(k, kl), *val = strndup(v, vl);
	if (!key || !val) {
		free(key);
		free(val);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->item[i].key, key) == 0) {
			free(c->item[i].key);
			free(c->item[i].value);
			c->item[i] = (struct lock_conf_item){ key, val, file };
			return 0;
		}
	struct lock_conf_item *n = realloc(c->item, (c->n + 1) * sizeof(*n));
	if (!n) {
		free(key);
		free(val);
		return -ENOMEM;
	}
	c->item = n;
	c->item[c->n++] = (struct lock_conf_item){ key, val, file };
	return 0;
}

int lock_conf_parse(struct lock_conf *c, const char *data, size_t size, const char *file,
		    struct problem_list *reterr)
{
	const char *p = data, *end = data + size;
	unsigned line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p, *e = le;
		line++;
		p = nl ? nl + 1 : end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq || memchr(s, 0, (size_t)(e - s))) {
			(void)problem_warn(reterr, file, "%s:%u: ignored: no '='", file, line);
			continue;
		}
		const char *ke = eq;
		while (ke > s && isspace((unsigned char)ke[-1]))
			ke--;
		bool ok = ke > s;
		for (const char *k = s; k < ke; k++)
			if (!(isalnum((unsigned char)*k) || *k == '_'))
				ok = false;
		if (!ok) {
			(void)problem_warn(reterr, file, "%s:%u: ignored: invalid key", file, line);
			continue;
		}
		const char *vs = eq + 1;
		while (vs < e && isspace((unsigned char)*vs))
			vs++;
		if (e - vs >= 2 && (*vs == '"' || *vs == '\'') && e[-1] == *vs) {
			vs++;
			e--;
		}
		int r = set(c, s, (size_t)(ke - s), vs, (size_t)(e - vs), file);
		if (r < 0)
			return r;
	}
	return 0;
}

static int load_one(struct lock_conf *c, int root_fd, const char *path, struct problem_list *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r = fs_read_file(root_fd, path, 1 << 20, &data, &n);
	if (r < 0)
		return r;
	return lock_conf_parse(c, data, n, path, reterr);
}

int lock_conf_load(struct lock_conf *c, int root_fd, struct problem_list *reterr)
{
	int r = load_one(c, root_fd, "/usr/share/flatcar/update.conf", reterr);
	if (r < 0 && r != -ENOENT)
		(void)problem_warn(reterr, "/usr/share/flatcar/update.conf", "unreadable: %s",
				   strerror(-r));
	if (r == -ENOMEM)
		return r;
	r = load_one(c, root_fd, "/etc/flatcar/update.conf", reterr);
	if (r == -ENOENT)
		r = load_one(c, root_fd, "/etc/coreos/update.conf", reterr);
	if (r < 0 && r != -ENOENT)
		(void)problem_warn(reterr, "/etc/flatcar/update.conf", "unreadable: %s", strerror(-r));
	return r == -ENOMEM ? r : 0;
}
