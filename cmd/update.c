/* SPDX-License-Identifier: MIT */
/* cmd/update.c - Omaha update client: the payload verbs `pack` and `verify`; see docs/update.md
 * 2.5, 2.6, 5, 10. */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args/args.h"
#include "cmd.h"
#include "crypto/crypto.h"
#include "flatctl.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "http/server.h"
#include "log/log.h"
#include "payload/payload.h"
#include "update.h"
#include "update/engine.h"
#include "update/serve.h"
#include "util/escape.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define TRUSTED_KEY "/usr/share/update_engine/update-payload-key.pub.pem"
#define TRUSTED_KEY_DIR "/etc/flatctl/update-keys.d/"
#define KEY_FILE_MAX (64u << 10)

enum {
	OPT_KEY = ARG_LONG_BASE,
	OPT_IMAGE,
	OPT_OUT,
	OPT_KERNEL,
	OPT_COMPRESS,
	OPT_CHUNK_SIZE,
	OPT_BLOCK_SIZE,
	OPT_OMAHA_RESPONSE,
	OPT_URL_BASE,
	OPT_VERSION,
	OPT_APPID,
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_LOG,
	OPT_MAX_REQUESTS,
};

static const struct flat_option update_opts[] = {
	{ "key", OPT_KEY, ARG_REQ, "PEM",
	  "verify: trust this public key (repeatable); pack: sign with this private key" },
	{ "image", OPT_IMAGE, ARG_REQ, "FILE", "pack: the raw USR image" },
	{ "out", OPT_OUT, ARG_REQ, "FILE", "pack: where to write the payload" },
	{ "kernel", OPT_KERNEL, ARG_REQ, "FILE", "pack: add a KERNEL procedure with this kernel" },
	{ "compress", OPT_COMPRESS, ARG_REQ, "bzip2|xz|none", "pack: blob compression (bzip2)" },
	{ "chunk-size", OPT_CHUNK_SIZE, ARG_REQ, "BYTES", "pack: bytes per operation (1048576)" },
	{ "block-size", OPT_BLOCK_SIZE, ARG_REQ, "BYTES", "pack: block size (4096)" },
	{ "omaha-response", OPT_OMAHA_RESPONSE, ARG_REQ, "FILE",
	  "pack: also write an Omaha response offering the payload" },
	{ "url-base", OPT_URL_BASE, ARG_REQ, "URL",
	  "pack: where the payload will be served; serve: the URL the answers name" },
	{ "version", OPT_VERSION, ARG_REQ, "V",
	  "pack: the version the response offers; apply --payload: the version to record" },
	{ "appid", OPT_APPID, ARG_REQ, "ID", "pack: the response's appid (Flatcar's)" },
	{ "listen", OPT_LISTEN, ARG_REQ, "ADDR:PORT", "serve: listen here (127.0.0.1:8080)" },
	{ "config", OPT_CONFIG, ARG_REQ, "FILE", "serve: groups and payloads (DIR/serve.json)" },
	{ "log", OPT_LOG, ARG_REQ, "FILE", "serve: append the request log here (stdout)" },
	{ "max-requests", OPT_MAX_REQUESTS, ARG_REQ, "N", "serve: stop after N connections" },
	UPDATE_PIPELINE_OPTIONS,
	{},
};

#define MAX_KEYS 64

struct update_args {
	struct update_cmd pipe; /* first: the check/apply/status/reset verbs take it (cmd/update.h) */
	struct args *a;
	struct flat_ctx *ctx;
	const char *keys[MAX_KEYS];
	size_t n_keys;
	const char *image, *out, *kernel;
	const char *omaha_response, *url_base, *version, *appid;
	enum payload_compress compress;
	bool compress_given;
	unsigned long long chunk_size, block_size;
	const char *listen, *config, *log;
	unsigned long long max_requests;
};
_Static_assert(offsetof(struct update_args, pipe) == 0, "verbs of cmd/update.h take &u as struct update_cmd");

struct keyring {
	struct crypto_key *k[MAX_KEYS];
	size_t n;
};

static void keyring_release(struct keyring *r)
{
	for (size_t i = 0; i < r->n; i++)
		crypto_key_free(r->k[i]);
	r->n = 0;
}

static int print_problems(const struct problem_list *p, const char *prefix, int r)
{
	if (p->n == 0)
		return log_error_errno(r, "%s", prefix);
	for (size_t i = 0; i < p->n; i++)
		log_error("%s%s", prefix, p->item[i].message);
	return r;
}

static int read_plain_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(max + 1);
	if (!buf)
		return -ENOMEM;
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		return -EIO;
	if (n > max)
		return -EFBIG;
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

/* Load one key file; `root` >= 0 resolves path inside --root. Errors are reported. */
static int load_key(int root, const char *path, bool private, struct keyring *ring)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *pem = NULL;
	size_t n = 0;
	int r;

	if (ring->n >= MAX_KEYS)
		return log_fail(-E2BIG, "%s: too many keys (at most %d)", path, MAX_KEYS);
	/* --key paths are ordinary command-line paths; the trusted keys live inside --root. */
	if (root >= 0)
		r = fs_read_file(root, path, KEY_FILE_MAX, &pem, &n);
	else
		r = read_plain_file(path, KEY_FILE_MAX, &pem, &n);
	if (r < 0)
		return log_error_errno(r, "reading key '%s'", path);
	r = (private ? crypto_privkey_load_pem : crypto_pubkey_load_pem)(pem, n, path,
									&ring->k[ring->n], &p);
	explicit_bzero(pem, n);
	if (r < 0) {
		char prefix[512];
		snprintf(prefix, sizeof(prefix), "key '%s': ", path);
		return print_problems(&p, prefix, r);
	}
	ring->n++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* spec 3.3: the image's key and every *.pem in /etc/flatctl/update-keys.d/, inside --root. */
static int load_trusted_keys(struct flat_ctx *ctx, struct keyring *ring)
{
	_cleanup_close_ int root = fs_root_open(ctx->root);
	int r;

	if (root < 0)
		return log_error_errno(root, "opening root '%s'", ctx->root);
	r = fs_exists(root, TRUSTED_KEY);
	if (r < 0)
		return log_error_errno(r, "reading key '%s'", TRUSTED_KEY);
	if (r > 0) {
		r = load_key(root, TRUSTED_KEY, false, ring);
		if (r < 0)
			return r;
	}
	int dfd = fs_open(root, TRUSTED_KEY_DIR, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0 && dfd != -ENOENT)
		return log_error_errno(dfd, "reading '%s'", TRUSTED_KEY_DIR);
	if (dfd >= 0) {
		DIR *d = fdopendir(dfd);
		char *names[MAX_KEYS];
		size_t n = 0;
		struct dirent *de;

		if (!d) {
			r = -errno;
			close(dfd);
			return log_error_errno(r, "reading '%s'", TRUSTED_KEY_DIR);
		}
		while ((de = readdir(d)) && n < MAX_KEYS) {
			size_t l = strlen(de->d_name);
			if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".pem") != 0)
				continue;
			if (asprintf(&names[n], "%s%s", TRUSTED_KEY_DIR, de->d_name) < 0)
				break;
			n++;
		}
		closedir(d);
		qsort(names, n, sizeof(*names), name_cmp);
		r = 0;
		for (size_t i = 0; i < n; i++) {
			if (r >= 0)
				r = load_key(root, names[i], false, ring);
			free(names[i]);
		}
		if (r < 0)
			return r;
	}
	if (ring->n == 0)
		return log_fail(-ENOKEY, "no trusted update key in %s, %s", TRUSTED_KEY,
				TRUSTED_KEY_DIR);
	return 0;
}

static void b64(const uint8_t *d, size_t n, char *out)
{
	_cleanup_free_ char *e = crypto_base64_encode(d, n);
	strcpy(out, e ? e : "");
}

static void hexs(const uint8_t *d, size_t n, char *out)
{
	_cleanup_free_ char *e = crypto_hex_encode(d, n);
	strcpy(out, e ? e : "");
}

static int verify_json(const char *path, const struct payload_manifest *m,
		       const struct payload_stream_result *res, int r, const char *msg)
{
	json_auto_t *j = json_object();
	char s256[64], hex[72], nh[64], kh[64];

	if (!j)
		return -ENOMEM;
	json_object_set_new(j, "payload", json_string(path));
	json_object_set_new(j, "valid", json_boolean(r >= 0));
	if (r < 0) {
		json_object_set_new(j, "error",
				    json_pack("{s:i, s:s}", "code", (int)payload_error_code(r),
					      "message", msg ? msg : strerror(-r)));
	} else {
		b64(res->sha256, PAYLOAD_SHA256_SIZE, s256);
		hexs(res->sha256, PAYLOAD_SHA256_SIZE, hex);
		b64(m->new_hash, PAYLOAD_SHA256_SIZE, nh);
		json_object_set_new(j, "size", json_integer((json_int_t)res->size));
		json_object_set_new(j, "sha256", json_string(s256));
		json_object_set_new(j, "sha256_hex", json_string(hex));
		json_object_set_new(j, "block_size", json_integer(m->block_size));
		json_object_set_new(j, "operations",
				    json_pack("{s:i, s:i, s:i}", "REPLACE", m->n_by_type[0],
					      "REPLACE_BZ", m->n_by_type[1], "REPLACE_XZ",
					      m->n_by_type[2]));
		json_object_set_new(j, "new_partition",
				    json_pack("{s:I, s:s}", "size", (json_int_t)m->new_size,
					      "sha256", nh));
		if (m->has_kernel) {
			b64(m->kernel_hash, PAYLOAD_SHA256_SIZE, kh);
			json_object_set_new(j, "kernel",
					    json_pack("{s:I, s:s, s:i}", "size",
						      (json_int_t)m->kernel_size, "sha256", kh,
						      "operations", m->n_kernel_ops));
		} else {
			json_object_set_new(j, "kernel", json_null());
		}
		json_t *sigs = json_array();
		for (size_t i = 0; i < res->n_signatures && i < ARRAY_SIZE(res->versions); i++)
			json_array_append_new(sigs, json_pack("{s:i}", "version",
							      (int)res->versions[i]));
		json_object_set_new(j, "signatures", sigs);
		json_object_set_new(j, "verified_by",
				    json_pack("{s:i, s:s}", "version", (int)res->matched_version,
					      "key", res->matched_key ? res->matched_key : ""));
	}
	if (json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0)
		return -EIO;
	putchar('\n');
	return 0;
}

static void verify_text(const char *path, const struct payload_manifest *m,
			const struct payload_stream_result *res)
{
	char s256[64], hex[72], nh[64], kh[64];

	b64(res->sha256, PAYLOAD_SHA256_SIZE, s256);
	hexs(res->sha256, PAYLOAD_SHA256_SIZE, hex);
	b64(m->new_hash, PAYLOAD_SHA256_SIZE, nh);
	printf("payload:        %s (%llu bytes)\n", path, (unsigned long long)res->size);
	printf("sha256:         %s (%s)\n", s256, hex);
	printf("block size:     %u\n", m->block_size);
	printf("operations:     %u REPLACE, %u REPLACE_BZ, %u REPLACE_XZ\n", m->n_by_type[0],
	       m->n_by_type[1], m->n_by_type[2]);
	printf("new partition:  %llu bytes, SHA-256 %s\n", (unsigned long long)m->new_size, nh);
	if (m->has_kernel) {
		b64(m->kernel_hash, PAYLOAD_SHA256_SIZE, kh);
		printf("kernel:         %llu bytes, SHA-256 %s (%u operations)\n",
		       (unsigned long long)m->kernel_size, kh, m->n_kernel_ops);
	} else {
		printf("kernel:         none\n");
	}
	printf("signatures:     %zu (version", res->n_signatures);
	for (size_t i = 0; i < res->n_signatures && i < ARRAY_SIZE(res->versions); i++)
		printf("%s %u", i ? "," : "", res->versions[i]);
	printf(")\n");
	printf("verified by:    version %u, key %s\n", res->matched_version,
	       res->matched_key ? res->matched_key : "");
}

/* update.md 2.5: with --disk, extents are checked against the partition an install would write:
 * the USR partition that is not booted (partitions.md 8.7), or the smaller of the two when the
 * booted one is unknown. Returns the size (> 0), or an error already reported. */
static int disk_target(struct flat_ctx *ctx, uint64_t *ret_size, char *ret_label)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_close_ int root_fd = -1;
	uint64_t off, size[2];
	int nr[2], r;
	bool inferred = false;

	r = gpt_disk_open(ctx->disk, 0, &d, &p);
	if (r < 0) {
		const char *why = p.n ? p.item[0].message : strerror(-r);
		(void)log_fail(r, "%s: %s", ctx->disk, why);
		/* partitions.md 10: an I/O error is 1, anything else about the disk 2 */
		return r == -EIO ? -EIO : -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		const char *label = i ? "USR-B" : "USR-A";
		nr[i] = gpt_find_label(d->gpt, label);
		if (nr[i] < 0)
			return log_fail(-EINVAL, "%s: no partition labelled %s", ctx->disk, label);
		r = gpt_entry_extent(d->gpt, (unsigned)nr[i], &off, &size[i]);
		if (r < 0)
			return log_error_errno(r, "%s: %s", ctx->disk, label);
	}
	root_fd = fs_root_open(ctx->root);
	int booted = root_fd < 0 ? -ENOENT
				 : gpt_find_booted(root_fd, strcmp(ctx->root, "/") == 0, d, &inferred);
	int t = booted == nr[0] ? 1 : booted == nr[1] ? 0 : size[0] <= size[1] ? 0 : 1;
	if (booted != nr[0] && booted != nr[1])
		log_info("%s: booted partition unknown, checking against the smaller USR partition",
			 ctx->disk);
	strcpy(ret_label, t ? "USR-B" : "USR-A");
	*ret_size = size[t];
	return 0;
}

static int verb_verify(int argc, char **argv, void *userdata)
{
	struct update_args *u = userdata;
	_cleanup_(keyring_release) struct keyring ring = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_close_ int fd = -1;
	const char *path = argv[1];
	struct payload_stream *s = NULL;
	struct payload_stream_result res = {};
	int r;

	if (u->image || u->out || u->kernel || u->chunk_size || u->block_size || u->compress_given ||
	    u->omaha_response || u->url_base || u->version || u->appid)
		return args_usage_error(u->a, "only --key is an option of 'verify'");
	for (size_t i = 0; i < u->n_keys; i++) {
		r = load_key(-1, u->keys[i], false, &ring);
		if (r < 0)
			return -EIO;
	}
	if (u->n_keys == 0) {
		r = load_trusted_keys(u->ctx, &ring);
		if (r < 0)
			return -EIO;
	}

	uint64_t part_size = 0;
	char part_label[8] = "";
	if (u->ctx->disk) {
		r = disk_target(u->ctx, &part_size, part_label);
		if (r < 0)
			return r;
	}

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return log_error_errno(-errno, "payload %s: cannot open", path), -EIO;

	struct payload_stream_opts o = { .keys = (const struct crypto_key *const *)ring.k,
					 .n_keys = ring.n, .usr_fd = -1, .kernel_fd = -1,
					 .partition_size = part_size };
	r = payload_stream_new(&o, &s);
	if (r < 0)
		return log_error_errno(r, "payload %s", path);
	r = payload_stream_feed_fd(s, fd, &p);
	if (r >= 0)
		r = payload_stream_finish(s, &p);
	if (r >= 0)
		payload_stream_result(s, &res);

	const char *msg = p.n ? p.item[p.n - 1].message : NULL;
	if (r < 0) {
		char prefix[512];
		snprintf(prefix, sizeof(prefix), "payload %s: ", path);
		if (p.n)
			(void)print_problems(&p, prefix, r);
		else
			(void)log_error_errno(r, "payload %s", path);
	}
	if (u->ctx->json)
		(void)verify_json(path, payload_stream_manifest(s), &res, r, msg);
	else if (r >= 0) {
		verify_text(path, payload_stream_manifest(s), &res);
		if (part_size)
			printf("checked against: %s on %s (%llu bytes)\n", part_label, u->ctx->disk,
			       (unsigned long long)part_size);
	}
	payload_stream_free(s);
	/* spec 2.5: exit 1 for any invalid payload (not 2) */
	return r < 0 ? -EIO : 0;
}

/* O_TMPFILE in dir, or a named temporary removed at once. */
static int open_spool(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
		return fd < 0 ? -errno : fd;
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/.flatctl-spool-XXXXXX", dir);
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	(void)unlink(tmpl);
	return fd;
}

static int pack_print(const struct update_args *u, const struct payload_pack_result *res)
{
	char s256[64], hex[72], s1[40];

	b64(res->sha256, PAYLOAD_SHA256_SIZE, s256);
	hexs(res->sha256, PAYLOAD_SHA256_SIZE, hex);
	b64(res->sha1, PAYLOAD_SHA1_SIZE, s1);
	if (u->ctx->json) {
		json_auto_t *j = json_pack(
			"{s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:{s:i, s:i, s:i}}", "payload", u->out,
			"size", (json_int_t)res->size, "sha256", s256, "sha256_hex", hex, "sha1", s1,
			"image_size", (json_int_t)res->image_size, "kernel_size",
			(json_int_t)res->kernel_size, "operations", "REPLACE", res->n_by_type[0],
			"REPLACE_BZ", res->n_by_type[1], "REPLACE_XZ", res->n_by_type[2]);
		if (!j || json_dumpf(j, stdout, JSON_COMPACT | JSON_ENSURE_ASCII) < 0)
			return -EIO;
		putchar('\n');
		return 0;
	}
	printf("payload:      %s\n", u->out);
	printf("size:         %llu\n", (unsigned long long)res->size);
	printf("sha256:       %s\n", s256);
	printf("sha256 (hex): %s\n", hex);
	printf("sha1:         %s\n", s1);
	printf("operations:   %u REPLACE, %u REPLACE_BZ, %u REPLACE_XZ\n", res->n_by_type[0],
	       res->n_by_type[1], res->n_by_type[2]);
	return 0;
}

static int verb_pack(int argc, char **argv, void *userdata)
{
	struct update_args *u = userdata;
	_cleanup_(keyring_release) struct keyring ring = {};
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_close_ int image = -1, kernel = -1, out = -1, spool = -1;
	_cleanup_free_ char *outdir_buf = NULL, *tmp = NULL, *rtmp = NULL;
	struct payload_pack_result res = {};
	int r;

	if (!u->image)
		return args_usage_error(u->a, "'pack' needs --image FILE");
	if (!u->out)
		return args_usage_error(u->a, "'pack' needs --out FILE");
	if (u->n_keys == 0)
		return args_usage_error(u->a, "'pack' needs --key PRIVKEY.pem");
	if (u->n_keys > 3)
		return args_usage_error(u->a, "'pack' signs with at most 3 keys");
	if (u->omaha_response && (!u->url_base || !u->version))
		return args_usage_error(u->a, "--omaha-response needs --url-base URL and --version V");
	if (!u->omaha_response && (u->url_base || u->version || u->appid))
		return args_usage_error(u->a, "--url-base, --version and --appid go with "
					      "--omaha-response FILE");
	for (size_t i = 0; i < u->n_keys; i++) {
		r = load_key(-1, u->keys[i], true, &ring);
		if (r < 0)
			return -EIO;
	}
	image = open(u->image, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (image < 0)
		return log_error_errno(-errno, "opening image '%s'", u->image);
	if (u->kernel) {
		kernel = open(u->kernel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (kernel < 0)
			return log_error_errno(-errno, "opening kernel '%s'", u->kernel);
	}
	outdir_buf = strdup(u->out);
	if (!outdir_buf)
		return log_error_errno(-ENOMEM, "packing");
	const char *outdir = dirname(outdir_buf);
	if (asprintf(&tmp, "%s.tmp-XXXXXX", u->out) < 0) {
		tmp = NULL;
		return log_error_errno(-ENOMEM, "packing");
	}
	out = mkostemp(tmp, O_CLOEXEC);
	if (out < 0) {
		r = -errno;
		free(TAKE_PTR(tmp));
		return log_error_errno(r, "creating '%s'", u->out);
	}
	spool = open_spool(outdir);
	if (spool < 0) {
		r = spool;
		goto fail;
	}

	struct payload_pack_opts o = {
		.block_size = (uint32_t)u->block_size,
		.chunk_size = u->chunk_size,
		.compress = u->compress,
		.keys = (const struct crypto_key *const *)ring.k,
		.n_keys = ring.n,
	};
	r = payload_pack(image, kernel, out, spool, &o, &res, &p);
	if (r < 0)
		goto fail;
	if (u->omaha_response) {
		_cleanup_free_ char *xml = NULL, *name_buf = strdup(u->out);
		if (!name_buf) {
			r = -ENOMEM;
			goto fail;
		}
		struct payload_omaha_response_params rp = {
			.appid = u->appid, .version = u->version, .url_base = u->url_base,
			.name = basename(name_buf), .payload = &res,
		};
		r = payload_omaha_response(&rp, &xml, &p);
		if (r < 0)
			goto fail;
		if (asprintf(&rtmp, "%s.tmp-XXXXXX", u->omaha_response) < 0) {
			rtmp = NULL;
			r = -ENOMEM;
			goto fail;
		}
		_cleanup_close_ int rfd = mkostemp(rtmp, O_CLOEXEC);
		size_t len = strlen(xml);
		if (rfd < 0 || write(rfd, xml, len) != (ssize_t)len || fchmod(rfd, 0644) < 0 ||
		    fsync(rfd) < 0) {
			r = errno ? -errno : -EIO;
			goto fail;
		}
	}
	if (fchmod(out, 0644) < 0 || rename(tmp, u->out) < 0) {
		r = -errno;
		goto fail;
	}
	if (rtmp && rename(rtmp, u->omaha_response) < 0) {
		r = log_error_errno(-errno, "writing '%s'", u->omaha_response);
		(void)unlink(rtmp);
		return r;
	}
	return pack_print(u, &res);

fail:
	(void)unlink(tmp);
	if (rtmp)
		(void)unlink(rtmp);
	if (p.n) {
		char prefix[512];
		snprintf(prefix, sizeof(prefix), "packing '%s': ", u->out);
		return print_problems(&p, prefix, r);
	}
	return log_error_errno(r, "packing '%s'", u->out);
}

static void serve_print_groups(const struct update_serve *s)
{
	struct update_serve_group_info g;
	for (size_t i = 0; update_serve_group(s, i, &g) == 0; i++) {
		char name[256];
		if (g.paused)
			log_notice("group '%s': paused", str_escape_buf(g.name, name, sizeof(name)));
		else
			log_notice("group '%s': %s from '%s' (%llu bytes, %zu extension%s)",
				   str_escape_buf(g.name, name, sizeof(name)), g.version, g.payload,
				   (unsigned long long)g.size, g.n_extensions,
				   g.n_extensions == 1 ? "" : "s");
	}
}

static int verb_serve(int argc, char **argv, void *userdata)
{
	struct update_args *u = userdata;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(update_serve_freep) struct update_serve *s = NULL;
	_cleanup_free_ char *bound = NULL;
	_cleanup_close_ int log_fd = -EBADF;
	int r;

	_cleanup_close_ int lfd = http_server_listen(u->listen ? u->listen : "127.0.0.1:8080",
						     &bound);
	if (lfd == -EINVAL)
		return args_usage_error(u->a, "--listen: '%s' is not ADDR:PORT",
					u->listen ? u->listen : "");
	if (lfd < 0)
		return log_error_errno(lfd, "listening on '%s'",
				       u->listen ? u->listen : "127.0.0.1:8080");
	struct update_serve_opts o = { .dir = argv[1], .config = u->config, .url_base = u->url_base,
				       .listen = bound, .log_fd = -1 };
	r = update_serve_new(&o, &s, &p);
	if (r < 0) {
		const char *file = u->config ? u->config : UPDATE_SERVE_CONFIG;
		if (p.n == 0)
			return log_error_errno(r, "serving '%s'", argv[1]);
		for (size_t i = 0; i < p.n; i++) {
			const struct problem *e = &p.item[i];
			if (e->severity != PROBLEM_ERROR)
				continue;
			if (e->where && e->where[0] == '/')
				log_error("%s: %s: %s", file, e->where, e->message);
			else if (e->where && *e->where)
				log_error("%s: %s", e->where, e->message);
			else
				log_error("%s: %s", file, e->message);
		}
		return r == -ENOMEM ? r : -EINVAL;
	}
	/* the log is opened once the configuration is good: a refused start leaves no file */
	if (u->log) {
		log_fd = open(u->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
		if (log_fd < 0)
			return log_error_errno(-errno, "opening log '%s'", u->log);
	}
	update_serve_set_log(s, u->log ? log_fd : STDOUT_FILENO);
	log_notice("serving '%s' on http://%s%s", argv[1], bound, UPDATE_SERVE_OMAHA_PATH);
	serve_print_groups(s);
	char server_name[96];
	(void)snprintf(server_name, sizeof(server_name), "flatctl/%s", flatctl_version());
	struct http_server_opts ho = {
		.max_requests = u->max_requests,
		.server_name = server_name,
		.handler = update_serve_handle,
		.reject = update_serve_reject,
		.userdata = s,
	};
	r = http_server_run(lfd, &ho);
	if (r < 0)
		return log_error_errno(r, "serving on %s", bound);
	return 0;
}

static const struct flat_verb update_verbs[] = {
	{ "verify", 1, 1, verb_verify },
	{ "pack", 0, 0, verb_pack },
	{ "check", 0, 0, update_verb_check },
	{ "apply", 0, 0, update_verb_apply },
	{ "status", 0, 0, update_verb_status },
	{ "reset", 0, 0, update_verb_reset },
	{ "daemon", 0, 0, update_verb_daemon },
	{ "serve", 1, 1, verb_serve },
	{},
};

int cmd_update(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(args_release) struct args a = {};
	struct update_args u = { .a = &a, .ctx = ctx, .compress = PAYLOAD_COMPRESS_BZIP2 };
	int r, c;

	r = update_frontend_run(argc, argv, ctx);
	if (r != -ENOENT)
		return r;
	/* 2.8: the update_engine link ignores update_engine's -foreground and -logtostderr */
	_cleanup_free_ char **filtered = NULL;
	if (ctx->invoked_as && strcmp(ctx->invoked_as, "update_engine") == 0) {
		filtered = calloc((size_t)argc + 1, sizeof(char *));
		if (!filtered)
			return log_fail(-ENOMEM, "out of memory");
		int n = 0;
		for (int i = 0; i < argc; i++) {
			const char *f = argv[i];
			if (i > 0 && f[0] == '-') {
				f += f[1] == '-' ? 2 : 1;
				size_t l = strcspn(f, "=");
				if ((l == 10 && strncmp(f, "foreground", 10) == 0) ||
				    (l == 11 && strncmp(f, "logtostderr", 11) == 0))
					continue;
			}
			filtered[n++] = argv[i];
		}
		argc = n;
		argv = filtered;
	}
	u.pipe = (struct update_cmd){ .ctx = ctx, .args = &a, .keys = u.keys, .n_keys = &u.n_keys,
				      .initial_delay = UINT64_MAX, .interval = UINT64_MAX,
				      .fuzz = UINT64_MAX, .mark_good_delay = UINT64_MAX };
	r = args_init(&a, argc, argv, update_opts,
		      "[OPTIONS] check|apply|status|reset|daemon\n"
		      "       flatctl update [OPTIONS] verify PAYLOAD [--key PUBKEY.pem]...\n"
		      "       flatctl update [OPTIONS] pack --image FILE --key PRIVKEY.pem --out FILE\n"
		      "                                     [--omaha-response FILE --url-base URL "
		      "--version V]\n"
		      "       flatctl update [OPTIONS] serve DIR [--listen ADDR:PORT] [--config FILE] "
		      "[--log FILE]",
		      ctx, 0);
	if (r < 0)
		return log_error_errno(r, "parsing arguments");
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case OPT_KEY:
			if (u.n_keys >= MAX_KEYS)
				return args_usage_error(&a, "too many --key options");
			u.keys[u.n_keys++] = a.optarg;
			break;
		case OPT_IMAGE:
			u.image = a.optarg;
			break;
		case OPT_OUT:
			u.out = a.optarg;
			break;
		case OPT_KERNEL:
			u.kernel = a.optarg;
			break;
		case OPT_COMPRESS:
			u.compress = payload_compress_from_string(a.optarg);
			if ((int)u.compress < 0)
				return args_usage_error(&a, "--compress: '%s' is not bzip2, xz or none",
							a.optarg);
			u.compress_given = true;
			break;
		case OPT_CHUNK_SIZE:
			r = args_parse_uint(&a, "--chunk-size", a.optarg, PAYLOAD_OP_DATA_MAX,
					    &u.chunk_size);
			if (r < 0)
				return r;
			if (u.chunk_size == 0)
				return args_usage_error(&a, "--chunk-size: must not be 0");
			break;
		case OPT_BLOCK_SIZE:
			r = args_parse_uint(&a, "--block-size", a.optarg, 65536, &u.block_size);
			if (r < 0)
				return r;
			if (u.block_size == 0)
				return args_usage_error(&a, "--block-size: must not be 0");
			break;
		case OPT_OMAHA_RESPONSE:
			u.omaha_response = a.optarg;
			break;
		case OPT_URL_BASE:
			u.url_base = a.optarg;
			break;
		case OPT_VERSION:
			u.version = a.optarg;
			u.pipe.version = a.optarg;
			break;
		case OPT_APPID:
			u.appid = a.optarg;
			break;
		case OPT_LISTEN:
			u.listen = a.optarg;
			break;
		case OPT_CONFIG:
			u.config = a.optarg;
			break;
		case OPT_LOG:
			u.log = a.optarg;
			break;
		case OPT_MAX_REQUESTS:
			r = args_parse_uint(&a, "--max-requests", a.optarg, UINT32_MAX,
					    &u.max_requests);
			if (r < 0)
				return r;
			break;
		default:
			r = update_cmd_option(&u.pipe, c, a.optarg);
			if (r < 0)
				return r;
			if (r == 0)
				return args_usage_error(&a, "unexpected option");
		}
	}
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	return args_dispatch_verb(&a, update_verbs, NULL, args_rest_count(&a), args_rest(&a), &u);
}
