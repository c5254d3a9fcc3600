/* SPDX-License-Identifier: MIT */
/* lib/lock/settings.c - backend selection (docs/reboot-lock.md 2) and etcd client setup. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etcd/etcd.h"
#include "fs/fs.h"
#include "lock/lock.h"
#include "lock/settings.h"

int lock_endpoints_add(char ***v, size_t *n, const char *list)
{
	const char *p = list;
	while (p && *p) {
		size_t l = strcspn(p, ",");
		while (l > 0 && isspace((unsigned char)*p)) {
			p++;
			l--;
		}
		size_t k = l;
		while (k > 0 && isspace((unsigned char)p[k - 1]))
			k--;
		if (k > 0) {
			char **nv = realloc(*v, (*n + 1) * sizeof(char *));
			if (!nv)
				return -ENOMEM;
			*v = nv;
			if (!(nv[*n] = strndup(p, k)))
				return -ENOMEM;
			(*n)++;
		}
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

void lock_endpoints_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void lock_handle_release(struct lock_handle *h)
{
	h->b = lock_backend_free(h->b);
	h->etcd = etcd_client_free(h->etcd);
}

int lock_read_machine_id(int root_fd, char **ret)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r = fs_read_file(root_fd, "/etc/machine-id", 4096, &data, &n);
	if (r < 0)
		return r;
	char *s = data;
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l > 0 && isspace((unsigned char)s[l - 1]))
		l--;
	if (l == 0)
		return -ENODATA;
	s[l] = 0;
	if (!lock_id_is_valid(s))
		return -EBADMSG;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

static int check_readable(const char *path, const char *what, struct problem_list *reterr)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return problem_add(reterr, -errno, path, "cannot read %s '%s'", what, path);
	close(fd);
	return 0;
}

int lock_settings_open(const struct lock_settings *s, int root_fd, struct lock_handle *ret,
		       struct problem_list *reterr)
{
	static char *locksmith_eps[] = { (char *)"http://127.0.0.1:2379",
					 (char *)"http://127.0.0.1:4001" };
	static char *default_eps[] = { (char *)"http://127.0.0.1:2379" };
	struct lock_handle h = {};
	const char *backend = s->backend;
	const char *api = s->api ? s->api : "v3";
	int r;

	if (!!s->certfile != !!s->keyfile)
		return problem_add(reterr, -EINVAL, s->certfile ? "etcd-certfile" : "etcd-keyfile",
				   "a client certificate needs its key (--etcd-certfile and "
				   "--etcd-keyfile go together)");
	if (!backend)
		backend = s->n_endpoints || s->prefer_etcd || s->locksmith_defaults ? "etcd" : "file";
	if (strcmp(backend, "file") == 0) {
		r = lock_file_backend_new(root_fd, s->group ? s->group : "", &h.b);
		if (r < 0)
			return r;
		*ret = h;
		return 0;
	}
	if (strcmp(backend, "etcd") != 0)
		return problem_add(reterr, -EINVAL, "backend",
				   "unknown backend '%s' (expected etcd or file)", backend);
	if (strcmp(api, "v3") != 0 && strcmp(api, "v2") != 0)
		return problem_add(reterr, -EINVAL, "etcd-api", "unknown API '%s' (expected v3 or v2)",
				   api);
	if (s->cafile && (r = check_readable(s->cafile, "CA file", reterr)) < 0)
		return r;
	if (s->certfile && (r = check_readable(s->certfile, "certificate", reterr)) < 0)
		return r;
	if (s->keyfile && (r = check_readable(s->keyfile, "key", reterr)) < 0)
		return r;

	_cleanup_erase_ char *pw = NULL;
	if (s->password_file) {
		_cleanup_close_ int fd = open(s->password_file, O_RDONLY | O_CLOEXEC);
		char buf[1024];
		ssize_t k;
		if (fd < 0 || (k = read(fd, buf, sizeof(buf) - 1)) < 0)
			return problem_add(reterr, -errno, s->password_file,
					   "cannot read password file '%s'", s->password_file);
		buf[k] = 0;
		buf[strcspn(buf, "\r\n")] = 0;
		pw = strdup(buf);
		explicit_bzero(buf, sizeof(buf));
		if (!pw)
			return -ENOMEM;
	}
	struct etcd_options o = {
		.endpoints = s->endpoints,
		.n_endpoints = s->n_endpoints,
		.cafile = s->cafile,
		.certfile = s->certfile,
		.keyfile = s->keyfile,
		.username = s->username,
		.password = pw ? pw : s->password,
		.request_timeout_usec = s->request_timeout_usec,
	};
	if (!o.n_endpoints) {
		o.endpoints = s->locksmith_defaults ? locksmith_eps : default_eps;
		o.n_endpoints = s->locksmith_defaults ? 2 : 1;
	}
	for (size_t i = 0; i < o.n_endpoints; i++)
		if (strncmp(o.endpoints[i], "http://", 7) != 0 &&
		    strncmp(o.endpoints[i], "https://", 8) != 0)
			return problem_add(reterr, -EINVAL, "endpoints",
					   "'%s' is not an http:// or https:// URL", o.endpoints[i]);
	r = etcd_client_new(&o, &h.etcd);
	if (r < 0)
		return r;
	r = lock_etcd_backend_new(h.etcd, api, s->group ? s->group : "", &h.b);
	if (r < 0) {
		lock_handle_release(&h);
		return r;
	}
	*ret = h;
	return 0;
}
