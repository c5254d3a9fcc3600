/* SPDX-License-Identifier: MIT */
/* lib/update/sysext.c - extension payloads (docs/update.md 6.7): the wanted set, checking and
 * staging one image, placing them all before the flip. See include/update/sysext.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "crypto/crypto.h"
#include "fs/fs.h"
#include "payload/payload.h"
#include "update/engine.h"
#include "update/install.h"
#include "update/sysext.h"
#include "util/escape.h"
#include "util/cleanup.h"
#include "util/problem.h"

DEFINE_CLEANUP(struct payload_stream, payload_stream_free)
DEFINE_CLEANUP(struct payload_manifest, payload_manifest_free)

static void ext_release(struct update_ext *e)
{
	free(e->name);
	free(e->package);
	free(e->dir);
	free(e->tmp);
	free(e->final);
	if (e->dir_fd >= 0)
		(void)close(e->dir_fd);
	e->dir_fd = -1;
}

void update_ext_unstage(struct update_ext_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct update_ext *e = &set->item[i];
		if (e->dir_fd >= 0 && e->tmp && !e->placed)
			(void)unlinkat(e->dir_fd, e->tmp, 0);
		free(e->tmp);
		e->tmp = NULL;
	}
}

void update_ext_set_release(struct update_ext_set *s)
{
	update_ext_unstage(s);
	for (size_t i = 0; i < s->n; i++)
		ext_release(&s->item[i]);
	free(s->item);
	free(s->oem_id);
	free(s->oem_dir);
	*s = (struct update_ext_set){};
}

/* Names go into file names and URLs: Flatcar's are like "docker", "nvidia-drivers-570-open". */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == n;
}

static int add_ext(struct update_ext_set *s, bool oem, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->item[i].oem == oem && strcmp(s->item[i].name, name) == 0)
			return 0;
	struct update_ext *n = realloc(s->item, (s->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->item = n;
	struct update_ext *e = &n[s->n];
	*e = (struct update_ext){ .oem = oem, .dir_fd = -1, .name = strdup(name) };
	if (!e->name || asprintf(&e->package, "%s-%s.gz", oem ? "oem" : "flatcar", name) < 0) {
		free(e->name);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

/* The OEM (6.7): Flatcar's post-install step reads ID= of /usr/share/oem/oem-release, which is a
 * link to /oem on current images; in a root without the link /oem is looked at first. */
static int find_oem(int root_fd, struct update_ext_set *s)
{
	static const char *const dirs[] = { "/oem", "/usr/share/oem" };

	for (size_t i = 0; i < 2; i++) {
		_cleanup_(conf_release) struct conf c = {};
		char path[64];
		snprintf(path, sizeof(path), "%s/oem-release", dirs[i]);
		if (conf_load(&c, root_fd, path, NULL) < 0)
			continue;
		const char *id = conf_get(&c, "ID");
		if (!id || !*id)
			return 0;
		if (!(s->oem_id = strdup(id)) || !(s->oem_dir = strdup(dirs[i])))
			return -ENOMEM;
		return 0;
	}
	return 0;
}

void update_ext_names_release(struct update_ext_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	*l = (struct update_ext_names){};
}

static int names_add(struct update_ext_names *l, const char *name)
{
	char **grown = realloc(l->name, (l->n + 1) * sizeof(char *));
	if (!grown)
		return -ENOMEM;
	l->name = grown;
	if (!(grown[l->n] = strdup(name)))
		return -ENOMEM;
	l->n++;
	return 0;
}

int update_ext_parse_enabled(const char *text, size_t size, const char *where, bool etc,
			     struct update_ext_names *add, struct update_ext_names *del,
			     struct problem_list *reterr)
{
	_cleanup_free_ char *buf = malloc(size + 1);
	unsigned line = 0;
	char *save = NULL;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, text, size);
	buf[size] = 0;
	for (char *p = buf, *end = buf; end < buf + size; p = end) {
		char *nl = memchr(p, '\n', (size_t)(buf + size - p));
		end = nl ? nl + 1 : buf + size;
		if (nl)
			*nl = 0;
		line++;
		p[strcspn(p, "#")] = 0;
		for (char *tok = strtok_r(p, " \t\r", &save); tok;
		     tok = strtok_r(NULL, " \t\r", &save)) {
			bool minus = *tok == '-';
			const char *name = minus ? tok + 1 : tok;
			if (minus && !etc)
				continue;
			if (!valid_name(name)) {
				char esc[160];
				(void)problem_warn(
					reterr, where,
					"line %u: ignored: '%s' is not an extension name", line,
					str_escape_buf(tok, esc, sizeof(esc)));
				continue;
			}
			if (names_add(minus ? del : add, name) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* One enabled-sysext.conf file; a missing one is no error. */
static int read_enabled(int root_fd, const char *path, bool etc, struct update_ext_names *add,
			struct update_ext_names *del, struct problem_list *reterr)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;
	int r = fs_read_file(root_fd, path, 1u << 20, &text, &size);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return problem_add(reterr, -EIO, path, "cannot read: %s", strerror(-r));
	return update_ext_parse_enabled(text, size, path, etc, add, del, reterr);
}

int update_ext_wanted(int root_fd, bool use_oem, struct update_ext_set *ret,
		      struct problem_list *reterr)
{
	struct update_ext_set s = {};
	struct update_ext_names add = {}, del = {};
	int r;

	*ret = s;
	r = find_oem(root_fd, &s);
	if (r >= 0 && s.oem_id && !valid_name(s.oem_id)) {
		char esc[160], where[64];
		snprintf(where, sizeof(where), "%s/oem-release", s.oem_dir);
		(void)problem_warn(reterr, where, "ignored: ID '%s' is not an OEM id",
				   str_escape_buf(s.oem_id, esc, sizeof(esc)));
	}
	if (r >= 0 && s.oem_id && valid_name(s.oem_id)) {
		char path[256];
		snprintf(path, sizeof(path), "/usr/share/flatcar/oems/%s", s.oem_id);
		s.oem_listed = fs_exists(root_fd, path) > 0;
		snprintf(path, sizeof(path), "%s/sysext/active-oem-%s", s.oem_dir, s.oem_id);
		s.oem_wanted = use_oem && (s.oem_listed || fs_exists(root_fd, path) > 0);
		if (s.oem_wanted)
			r = add_ext(&s, true, s.oem_id);
	}
	if (r >= 0)
		r = read_enabled(root_fd, UPDATE_ENABLED_SYSEXT_ETC, true, &add, &del, reterr);
	if (r >= 0)
		r = read_enabled(root_fd, UPDATE_ENABLED_SYSEXT_USR, false, &add, &del, reterr);
	for (size_t i = 0; r >= 0 && i < add.n; i++) {
		bool disabled = false;
		for (size_t k = 0; k < del.n; k++)
			disabled = disabled || strcmp(add.name[i], del.name[k]) == 0;
		if (!disabled)
			r = add_ext(&s, false, add.name[i]);
	}
	update_ext_names_release(&add);
	update_ext_names_release(&del);
	if (r < 0) {
		update_ext_set_release(&s);
		return r;
	}
	*ret = s;
	return 0;
}

const char *update_ext_basename(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	if (strncmp(b, UPDATE_EXT_TEST_PREFIX, strlen(UPDATE_EXT_TEST_PREFIX)) == 0)
		b += strlen(UPDATE_EXT_TEST_PREFIX);
	return b;
}

bool update_ext_matches(const struct update_ext *e, const char *name)
{
	return strcmp(update_ext_basename(name), e->package) == 0 && !strchr(name, '/');
}

/* ---- checking and staging one image ---- */

static int code_of(int r)
{
	return payload_error_is_invalid(r) ? (int)payload_error_code(r) : 1;
}

/* One pass of the payload reader over the whole of fd (o says what it checks and where it
 * writes): *ret set when the pass succeeded; else the error code of docs/update.md 4.4 in
 * *ret_code and a problem (naming where, when given) in reterr. */
static int stream_file(const struct payload_stream_opts *o, int fd, const char *where,
		       struct payload_stream **ret, int *ret_code, struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	int r = payload_stream_new(o, &s);

	if (r < 0)
		return problem_add(reterr, r, where, "%s", strerror(-r));
	if (lseek(fd, 0, SEEK_SET) < 0)
		return problem_add(reterr, -errno, where, "cannot seek: %s", strerror(errno));
	r = payload_stream_feed_fd(s, fd, reterr);
	if (r >= 0)
		r = payload_stream_finish(s, reterr);
	if (r < 0) {
		*ret_code = code_of(r);
		if (!problem_has_errors(reterr))
			(void)problem_add(reterr, r, where, "%s", strerror(-r));
		return r;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

/* 5.5 steps 3-7 on fd, keeping the manifest and the signed digest for the write pass. */
static int verify(int fd, const struct crypto_key *const *keys, size_t n_keys,
		  struct payload_manifest **ret_m, uint8_t digest[32], int *ret_code,
		  struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	struct payload_stream_opts o = {
		.keys = keys, .n_keys = n_keys, .usr_fd = -1, .kernel_fd = -1
	};
	struct payload_stream_result res;
	int r = stream_file(&o, fd, NULL, &s, ret_code, reterr);

	if (r < 0)
		return r;
	payload_stream_result(s, &res);
	memcpy(digest, res.signed_sha256, 32);
	*ret_m = payload_stream_take_manifest(s);
	if (!*ret_m) {
		(void)problem_add(reterr, -EIO, NULL, "no manifest after verification");
		return -EIO;
	}
	if ((*ret_m)->has_kernel) {
		*ret_code = 23;
		return problem_add(reterr, -EBADMSG, NULL,
				   "an extension payload carries no kernel, this one does");
	}
	return 0;
}

/* The write pass into a new temporary file in dir_fd, fsynced and read back. */
static int extract(int dir_fd, const char *tmp, int fd, const struct crypto_key *const *keys,
		   size_t n_keys, const struct payload_manifest *m, const uint8_t digest[32],
		   int *ret_code, struct problem_list *reterr)
{
	_cleanup_(payload_stream_freep) struct payload_stream *s = NULL;
	_cleanup_close_ int out = -1;
	uint8_t actual[32];
	int r;

	(void)unlinkat(dir_fd, tmp, 0);
	out = openat(dir_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0)
		return problem_add(reterr, -errno, tmp, "cannot create: %s", strerror(errno));
	if (ftruncate(out, (off_t)m->new_size) < 0)
		return problem_add(reterr, -errno, tmp, "cannot size: %s", strerror(errno));
	struct payload_stream_opts o = { .keys = keys,
					 .n_keys = n_keys,
					 .verified = m,
					 .verified_digest = digest,
					 .usr_fd = out,
					 .kernel_fd = -1 };
	r = stream_file(&o, fd, tmp, &s, ret_code, reterr);
	if (r < 0)
		return r;
	if (fsync(out) < 0)
		return problem_add(reterr, -errno, tmp, "fsync: %s", strerror(errno));
	r = payload_check_image(out, 0, m->new_size, m->new_hash, actual);
	if (r == -EILSEQ) {
		*ret_code = 15;
		return problem_add(reterr, r, tmp,
				   "written image does not match new_partition_info");
	}
	if (r < 0)
		return problem_add(reterr, r, tmp, "cannot read back: %s", strerror(-r));
	return 0;
}

/* Stage into dir (made when missing): 0, or -errno with *ret_code and a problem. */
static int stage_in(int root_fd, struct update_ext *e, const char *dir, int fd,
		    const struct crypto_key *const *keys, size_t n_keys,
		    const struct payload_manifest *m, const uint8_t digest[32], int *ret_code,
		    struct problem_list *reterr)
{
	_cleanup_close_ int dfd = -1;
	_cleanup_free_ char *tmp = NULL;
	int r = fs_mkdir_p(root_fd, dir, 0755);

	if (r >= 0)
		r = dfd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (r < 0)
		return problem_add(reterr, r, dir, "cannot open: %s", strerror(-r));
	if (asprintf(&tmp, ".%s.tmp", e->final) < 0)
		return problem_add(reterr, -ENOMEM, NULL, "out of memory");
	r = extract(dfd, tmp, fd, keys, n_keys, m, digest, ret_code, reterr);
	if (r < 0) {
		(void)unlinkat(dfd, tmp, 0);
		return r;
	}
	if (!(e->dir = strdup(dir)))
		return (void)unlinkat(dfd, tmp, 0),
		       problem_add(reterr, -ENOMEM, NULL, "out of memory");
	e->tmp = TAKE_PTR(tmp);
	e->dir_fd = TAKE_FD(dfd);
	e->image_size = m->new_size;
	return 0;
}

int update_ext_stage(int root_fd, const struct update_ext_set *set, struct update_ext *e,
		     const char *next_version, const struct crypto_key *const *keys, size_t n_keys,
		     int fd, uint64_t expect_size, const uint8_t *expect_sha256, int *ret_code,
		     struct problem_list *reterr)
{
	_cleanup_(payload_manifest_freep) struct payload_manifest *m = NULL;
	uint8_t digest[32];
	struct stat st;
	int r;

	*ret_code = 1;
	free(e->final);
	if (asprintf(&e->final, "%s-%s-%s.raw", e->oem ? "oem" : "flatcar", e->name, next_version) <
	    0)
		return e->final = NULL, problem_add(reterr, -ENOMEM, NULL, "out of memory");
	if (fstat(fd, &st) < 0)
		return problem_add(reterr, -errno, NULL, "cannot stat: %s", strerror(errno));
	/* 5.5 step 1 and 2: size, then the SHA-256 of the file */
	if (expect_size > 0 && (uint64_t)st.st_size != expect_size) {
		*ret_code = 11;
		return problem_add(reterr, -EMSGSIZE, NULL, "size %llu, expected %llu bytes",
				   (unsigned long long)st.st_size, (unsigned long long)expect_size);
	}
	if (expect_sha256) {
		uint8_t got[32];
		r = crypto_hash_fd(CRYPTO_SHA256, fd, 0, (uint64_t)st.st_size, got, sizeof(got));
		if (r < 0)
			return problem_add(reterr, r, NULL, "cannot read: %s", strerror(-r));
		if (memcmp(got, expect_sha256, 32) != 0) {
			char w[64], g[64];
			update_base64_32(expect_sha256, w);
			update_base64_32(got, g);
			*ret_code = 10;
			return problem_add(reterr, -EILSEQ, NULL,
					   "SHA-256 mismatch: expected %s, got %s", w, g);
		}
	}
	r = verify(fd, keys, n_keys, &m, digest, ret_code, reterr);
	if (r < 0)
		return r;
	if (!m)
		return -EIO;

	char dir[128];
	if (e->oem)
		snprintf(dir, sizeof(dir), "%s/sysext", set->oem_dir ? set->oem_dir : "/oem");
	else
		snprintf(dir, sizeof(dir), "%s", UPDATE_FLATCAR_SYSEXT_DIR);
	_cleanup_(problem_list_release) struct problem_list first = {};
	r = stage_in(root_fd, e, dir, fd, keys, n_keys, m, digest, ret_code,
		     e->oem ? &first : reterr);
	if (r >= 0 || !e->oem)
		return r;
	/* 6.7: the OEM partition may be full; Flatcar then keeps the image on the root. */
	if (payload_error_is_invalid(r))
		return problem_add(reterr, r, first.n ? first.item[0].where : NULL, "%s",
				   first.n ? first.item[0].message : strerror(-r));
	(void)problem_warn(reterr, dir, "%s; using %s",
			   first.n ? first.item[0].message : strerror(-r),
			   UPDATE_OEM_SYSEXT_FALLBACK_DIR);
	*ret_code = 1;
	return stage_in(root_fd, e, UPDATE_OEM_SYSEXT_FALLBACK_DIR, fd, keys, n_keys, m, digest,
			ret_code, reterr);
}

/* ---- placing ---- */

static bool has_prefix_suffix(const char *s, const char *prefix, const char *suffix)
{
	size_t n = strlen(s), p = strlen(prefix), x = strlen(suffix);
	return n >= p + x && strncmp(s, prefix, p) == 0 && strcmp(s + n - x, suffix) == 0;
}

/* Remove regular files "<prefix>*raw" of dir other than those keep() accepts, and stale
 * ".<prefix>*.raw.tmp". */
static void prune(int root_fd, const char *dir, const char *prefix,
		  bool (*keep)(const char *dir, const char *name, const void *data),
		  const void *data, struct problem_list *reterr)
{
	_cleanup_close_ int dfd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	DIR *d = dfd >= 0 ? fs_opendir_at(dfd, ".") : NULL;
	struct dirent *de;
	char dot[32];

	if (!d)
		return;
	snprintf(dot, sizeof(dot), ".%s", prefix);
	while ((de = readdir(d))) {
		struct stat st;
		/* left by a killed attempt: every staged one is placed by now */
		bool stale = has_prefix_suffix(de->d_name, dot, ".raw.tmp");
		if (!stale &&
		    (!has_prefix_suffix(de->d_name, prefix, "raw") || keep(dir, de->d_name, data)))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0)
			(void)problem_warn(reterr, dir, "cannot remove %s: %s", de->d_name,
					   strerror(errno));
	}
	closedir(d);
	(void)fsync(dfd);
}

struct keep_ctx {
	const struct update_ext_set *set;
	const char *keep_dir, *keep_name; /* the OEM image of the running version */
	const char *version;
};

static bool keep_oem(const char *dir, const char *name, const void *data)
{
	const struct keep_ctx *k = data;
	for (size_t i = 0; i < k->set->n; i++) {
		const struct update_ext *e = &k->set->item[i];
		if (e->oem && e->placed && strcmp(e->dir, dir) == 0 && strcmp(e->final, name) == 0)
			return true;
	}
	return k->keep_name && strcmp(k->keep_dir, dir) == 0 && strcmp(k->keep_name, name) == 0;
}

static bool keep_flatcar(const char *dir, const char *name, const void *data)
{
	const struct keep_ctx *k = data;
	(void)dir;
	for (size_t i = 0; i < k->set->n; i++) {
		const struct update_ext *e = &k->set->item[i];
		char cur[256];
		if (e->oem)
			continue;
		if (e->placed && strcmp(e->final, name) == 0)
			return true;
		snprintf(cur, sizeof(cur), "flatcar-%s-%s.raw", e->name, k->version);
		if (strcmp(cur, name) == 0)
			return true;
	}
	return false;
}

static int touch(int root_fd, const char *path)
{
	int fd = fs_open(root_fd, path, O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
	if (fd < 0)
		return fd;
	(void)close(fd);
	return 0;
}

int update_ext_place(int root_fd, struct update_ext_set *set, const char *current_version,
		     struct problem_list *reterr)
{
	const char *cur = current_version ? current_version : "";
	char oem_sysext[128], keep_dir[128] = "", keep_name[256] = "", path[512];
	bool had_keep = false;

	/* The OEM image of the running version, which stays (Flatcar: the current one on the OEM
	 * partition, else on the root, else the "initial" one). Looked up before anything moves. */
	if (set->oem_wanted) {
		snprintf(oem_sysext, sizeof(oem_sysext), "%s/sysext", set->oem_dir);
		const char *dirs[] = { oem_sysext, UPDATE_OEM_SYSEXT_FALLBACK_DIR, oem_sysext };
		for (size_t i = 0; i < 3 && !had_keep; i++) {
			snprintf(keep_dir, sizeof(keep_dir), "%s", dirs[i]);
			snprintf(keep_name, sizeof(keep_name), "oem-%s-%s.raw", set->oem_id,
				 i < 2 ? cur : "initial");
			snprintf(path, sizeof(path), "%s/%s", keep_dir, keep_name);
			had_keep = fs_exists(root_fd, path) > 0;
		}
		if (!had_keep) /* Flatcar keeps the name "initial" even when it does not exist */
			snprintf(keep_dir, sizeof(keep_dir), "%s", oem_sysext);
	}

	for (size_t i = 0; i < set->n; i++) {
		struct update_ext *e = &set->item[i];
		if (e->dir_fd < 0 || !e->tmp || e->placed)
			continue;
		if (renameat(e->dir_fd, e->tmp, e->dir_fd, e->final) < 0)
			return problem_add(reterr, -errno, e->dir, "cannot rename %s to %s: %s",
					   e->tmp, e->final, strerror(errno));
		if (fsync(e->dir_fd) < 0)
			return problem_add(reterr, -errno, e->dir, "fsync: %s", strerror(errno));
		e->placed = true;
	}

	struct keep_ctx k = {
		.set = set, .keep_dir = keep_dir, .keep_name = keep_name, .version = cur
	};
	if (set->oem_wanted) {
		prune(root_fd, oem_sysext, "oem", keep_oem, &k, reterr);
		prune(root_fd, UPDATE_OEM_SYSEXT_FALLBACK_DIR, "oem", keep_oem, &k, reterr);
		/* An OEM that had its image for this version but no marker yet is being migrated
		 * to sysexts: mark it active (and to be migrated, for a Flatcar OEM). */
		snprintf(path, sizeof(path), "%s/active-oem-%s", oem_sysext, set->oem_id);
		bool placed = false;
		for (size_t i = 0; i < set->n; i++)
			placed = placed || (set->item[i].oem && set->item[i].placed);
		if (had_keep && placed && fs_exists(root_fd, path) == 0) {
			char mig[512];
			snprintf(mig, sizeof(mig), "%s/migrate-oem-%s", oem_sysext, set->oem_id);
			if ((set->oem_listed && touch(root_fd, mig) < 0) ||
			    touch(root_fd, path) < 0)
				(void)problem_warn(reterr, oem_sysext,
						   "cannot create the markers of %s", set->oem_id);
		}
	}
	prune(root_fd, UPDATE_FLATCAR_SYSEXT_DIR, "flatcar", keep_flatcar, &k, reterr);
	return 0;
}
