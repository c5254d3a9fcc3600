/* SPDX-License-Identifier: MIT */
/* lib/update/keys.c - load the trusted payload keys (docs/update.md 3.3). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "crypto/crypto.h"
#include "update/keys.h"
#include "util/problem.h"

#define KEY_FILE_MAX (64u * 1024u)

void update_keys_release(struct update_keys *keys)
{
	for (size_t i = 0; i < keys->n; i++)
		keys->k[i] = crypto_key_free(keys->k[i]);
	keys->n = 0;
}

static int read_plain(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;

	if (!f)
		return -errno;
	buf = malloc(KEY_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	size_t n = fread(buf, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f))
		return -EIO;
	if (n > KEY_FILE_MAX)
		return -EFBIG;
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

static int add_key(struct update_keys *keys, int root_fd, const char *path,
		   struct problem_list *reterr)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *pem = NULL;
	size_t n = 0;
	int r;

	if (keys->n >= UPDATE_KEYS_MAX)
		return problem_add(reterr, -E2BIG, path, "too many keys (at most %u)", UPDATE_KEYS_MAX);
	r = root_fd >= 0 ? fs_read_file(root_fd, path, KEY_FILE_MAX, &pem, &n) : read_plain(path, &pem, &n);
	if (r < 0)
		return problem_add(reterr, r, path, "cannot read key: %s", strerror(-r));
	r = crypto_pubkey_load_pem(pem, n, path, &keys->k[keys->n], &p);
	if (r < 0)
		return problem_add(reterr, r, path, "%s",
				   p.n ? p.item[0].message : "not a usable RSA public key");
	keys->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int update_keys_load(int root_fd, const char *const *cli_paths, size_t n_cli,
		     struct update_keys *ret, struct problem_list *reterr)
{
	int r;

	if (n_cli > 0) {
		for (size_t i = 0; i < n_cli; i++) {
			r = add_key(ret, -1, cli_paths[i], reterr);
			if (r < 0)
				return r;
		}
		return 0;
	}
	r = fs_exists(root_fd, UPDATE_KEY_FILE);
	if (r < 0)
		return problem_add(reterr, r, UPDATE_KEY_FILE, "cannot read key: %s", strerror(-r));
	if (r > 0) {
		r = add_key(ret, root_fd, UPDATE_KEY_FILE, reterr);
		if (r < 0)
			return r;
	}

	int dfd = fs_open(root_fd, UPDATE_KEY_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		char *names[UPDATE_KEYS_MAX];
		size_t n = 0;
		struct dirent *de;

		if (!d) {
			r = -errno;
			(void)close(dfd);
			return problem_add(reterr, r, UPDATE_KEY_DIR, "%s", strerror(-r));
		}
		while ((de = readdir(d)) && n < UPDATE_KEYS_MAX) {
			size_t l = strlen(de->d_name);
			if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0)
				continue;
			if (asprintf(&names[n], "%s/%s", UPDATE_KEY_DIR, de->d_name) < 0)
				break;
			n++;
		}
		(void)closedir(d);
		qsort(names, n, sizeof(names[0]), name_cmp);
		r = 0;
		for (size_t i = 0; i < n; i++) {
			if (r >= 0)
				r = add_key(ret, root_fd, names[i], reterr);
			free(names[i]);
		}
		if (r < 0)
			return r;
	} else if (dfd != -ENOENT)
		return problem_add(reterr, dfd, UPDATE_KEY_DIR, "%s", strerror(-dfd));

	if (ret->n == 0)
		return problem_add(reterr, -ENOKEY, NULL, "no trusted update key in %s, %s/",
				   UPDATE_KEY_FILE, UPDATE_KEY_DIR);
	return 0;
}
