/* SPDX-License-Identifier: MIT */
/* lib/diag/tar.c - the bundle writer over libarchive (include/diag/tar.h). */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag/tar.h"
#include "util/cleanup.h"

struct diag_tar {
	struct archive *a;
	char *top;
	int64_t mtime;
	char **dirs; /* directories already written (relative, no trailing '/') */
	size_t n_dirs;
	int err;
	char errtext[256];
};

const char *diag_tar_error(const struct diag_tar *t)
{
	return t->errtext;
}

static int fail(struct diag_tar *t)
{
	int e = archive_errno(t->a);
	const char *s = archive_error_string(t->a);
	snprintf(t->errtext, sizeof(t->errtext), "%s", s ? s : "archive error");
	t->err = e > 0 ? -e : -EIO;
	return t->err;
}

int diag_tar_open(int fd, const char *top, int64_t mtime, struct diag_tar **ret)
{
	struct diag_tar *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->mtime = mtime;
	t->top = strdup(top);
	t->a = archive_write_new();
	if (!t->top || !t->a) {
		diag_tar_free(t);
		return -ENOMEM;
	}
	/* the gzip header carries no time of its own: SOURCE_DATE_EPOCH gives equal bytes */
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(t->a) != ARCHIVE_OK ||
	    archive_write_set_filter_option(t->a, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(t->a, fd) != ARCHIVE_OK) {
		int r = fail(t);
		diag_tar_free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static int header(struct diag_tar *t, const char *rel, mode_t type, mode_t perm, int64_t size,
		  const char *target)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return -ENOMEM;
	size_t l = strlen(t->top) + 1 + strlen(rel) + 1;
	_cleanup_free_ char *path = malloc(l);
	if (!path) {
		archive_entry_free(e);
		return -ENOMEM;
	}
	snprintf(path, l, "%s%s%s", t->top, *rel ? "/" : "", rel);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "root");
	archive_entry_set_gname(e, "root");
	archive_entry_set_mtime(e, t->mtime, 0);
	archive_entry_set_size(e, size);
	if (target)
		archive_entry_set_symlink(e, target);
	int r = archive_write_header(t->a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : fail(t);
}

/* Write every directory above rel (and the top) not written yet. */
static int parents(struct diag_tar *t, const char *rel)
{
	if (t->n_dirs == 0) {
		t->dirs = calloc(1, sizeof(char *));
		if (!t->dirs || !(t->dirs[0] = strdup("")))
			return -ENOMEM;
		t->n_dirs = 1;
		int r = header(t, "", AE_IFDIR, 0755, 0, NULL);
		if (r < 0)
			return r;
	}
	for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
		size_t l = (size_t)(p - rel);
		bool seen = false;
		for (size_t i = t->n_dirs; i-- > 0;)
			if (strlen(t->dirs[i]) == l && memcmp(t->dirs[i], rel, l) == 0) {
				seen = true;
				break;
			}
		if (seen)
			continue;
		char **nd = realloc(t->dirs, (t->n_dirs + 1) * sizeof(char *));
		if (!nd)
			return -ENOMEM;
		t->dirs = nd;
		if (!(t->dirs[t->n_dirs] = strndup(rel, l)))
			return -ENOMEM;
		t->n_dirs++;
		int r = header(t, t->dirs[t->n_dirs - 1], AE_IFDIR, 0755, 0, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

int diag_tar_add_file(struct diag_tar *t, const char *rel, const void *data, size_t n)
{
	if (t->err)
		return t->err;
	int r = parents(t, rel);
	if (r >= 0)
		r = header(t, rel, AE_IFREG, 0644, (int64_t)n, NULL);
	if (r < 0)
		return r;
	const char *p = data;
	while (n > 0) {
		la_ssize_t w = archive_write_data(t->a, p, n);
		if (w <= 0)
			return fail(t);
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int diag_tar_add_symlink(struct diag_tar *t, const char *rel, const char *target)
{
	if (t->err)
		return t->err;
	int r = parents(t, rel);
	return r < 0 ? r : header(t, rel, AE_IFLNK, 0755, 0, target);
}

int diag_tar_close(struct diag_tar *t)
{
	if (t->err)
		return t->err;
	if (t->n_dirs == 0) {
		int r = parents(t, "");
		if (r < 0)
			return r;
	}
	return archive_write_close(t->a) == ARCHIVE_OK ? 0 : fail(t);
}

struct diag_tar *diag_tar_free(struct diag_tar *t)
{
	if (!t)
		return NULL;
	if (t->a)
		archive_write_free(t->a);
	for (size_t i = 0; i < t->n_dirs; i++)
		free(t->dirs[i]);
	free(t->dirs);
	free(t->top);
	free(t);
	return NULL;
}
