/* SPDX-License-Identifier: MIT */
/* tests/unit/test-payload.c - lib/payload: header and manifest rules, pack -> verify -> write round
 * trips (bzip2, xz, none, kernel), byte-at-a-time feeding, bounded memory, and the order of
 * verification faults (docs/update.md 5). */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "omaha/response.h"
#include "payload/payload.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/problem.h"

struct keys {
	struct crypto_key *priv, *pub;
};

/* A fresh RSA key pair as PEM, loaded through lib/crypto. */
static void gen_key(const char *name, struct crypto_key **ret_priv, struct crypto_key **ret_pub)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	BIO *b = BIO_new(BIO_s_mem());
	_cleanup_free_ char *pub = NULL;
	char *p;

	if (!pkey || !b || PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	long n = BIO_get_mem_data(b, &p);
	struct crypto_key *priv = NULL;
	if (crypto_privkey_load_pem(p, (size_t)n, name, &priv, NULL) < 0 ||
	    crypto_key_public_pem(priv, &pub) < 0 ||
	    crypto_pubkey_load_pem(pub, strlen(pub), name, ret_pub, NULL) < 0)
		abort();
	if (ret_priv)
		*ret_priv = priv;
	else
		crypto_key_free(priv);
	BIO_free(b);
	EVP_PKEY_free(pkey);
}

static struct keys *test_keys(void)
{
	static struct keys k;
	if (!k.priv)
		gen_key("pub.pem", &k.priv, &k.pub);
	return &k;
}

static struct crypto_key *other_pub(void)
{
	static struct crypto_key *k;
	if (!k)
		gen_key("other.pem", NULL, &k);
	return k;
}

static int memfd_with(const void *data, size_t n)
{
	int fd = memfd_create("payload-test", MFD_CLOEXEC);
	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n))
		abort();
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static uint8_t *read_all(int fd, size_t *ret_n)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		abort();
	uint8_t *p = malloc((size_t)st.st_size + 1);
	if (pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		abort();
	*ret_n = (size_t)st.st_size;
	return p;
}

/* Image of n bytes: pseudo-random blocks mixed with zero and text blocks. */
static uint8_t *make_image(size_t n, unsigned seed)
{
	uint8_t *p = calloc(1, n);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		size_t blk = i / 4096;
		if (blk % 3 == 0) {
			x = x * 1103515245u + 12345u;
			p[i] = (uint8_t)(x >> 16);
		} else if (blk % 3 == 1) {
			p[i] = (uint8_t)("flatctl payload test "[i % 21]);
		}
	}
	return p;
}

static int pack_buf(const uint8_t *img, size_t n, const uint8_t *kern, size_t kn,
		    enum payload_compress c, uint64_t chunk, uint8_t **ret, size_t *ret_n)
{
	_cleanup_close_ int ifd = memfd_with(img, n);
	_cleanup_close_ int kfd = kern ? memfd_with(kern, kn) : -1;
	_cleanup_close_ int ofd = memfd_with(NULL, 0);
	_cleanup_close_ int sfd = memfd_with(NULL, 0);
	const struct crypto_key *keys[] = { test_keys()->priv };
	struct payload_pack_opts o = { .chunk_size = chunk, .compress = c, .keys = keys, .n_keys = 1 };
	struct payload_pack_result res;
	int r = payload_pack(ifd, kfd, ofd, sfd, &o, &res, NULL);
	if (r < 0)
		return r;
	*ret = read_all(ofd, ret_n);
	return 0;
}

/* Verify buf with key, feeding step bytes at a time. Returns the result, *ret_m the manifest. */
static int verify_buf(const uint8_t *buf, size_t n, const struct crypto_key *key, size_t step,
		      struct problem_list *p, struct payload_manifest **ret_m,
		      struct payload_stream_result *ret_res)
{
	const struct crypto_key *keys[] = { key };
	struct payload_stream_opts o = { .keys = keys, .n_keys = 1, .usr_fd = -1, .kernel_fd = -1,
					 .workers = 2 };
	struct payload_stream *s = NULL;
	int r = payload_stream_new(&o, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i += step)
		r = payload_stream_feed(s, buf + i, n - i < step ? n - i : step, p);
	if (r >= 0)
		r = payload_stream_finish(s, p);
	if (r >= 0 && ret_res)
		payload_stream_result(s, ret_res);
	if (r >= 0 && ret_m)
		*ret_m = payload_stream_take_manifest(s);
	payload_stream_free(s);
	return r;
}

/* Verify with a spool in directory dir_fd: *ret_spool is the spool or -1, *ret_why why not. */
static int verify_spool(const uint8_t *buf, size_t n, int dir_fd, struct problem_list *p,
			struct payload_manifest **ret_m, struct payload_stream_result *ret_res,
			int *ret_spool, int *ret_why)
{
	const struct crypto_key *keys[] = { test_keys()->pub };
	struct payload_stream_opts o = { .keys = keys, .n_keys = 1, .usr_fd = -1, .kernel_fd = -1,
					 .workers = 2, .spool = true, .spool_fd = dir_fd };
	struct payload_stream *s = NULL;
	int r = payload_stream_new(&o, &s);
	if (r < 0)
		return r;
	r = payload_stream_feed(s, buf, n, p);
	if (r >= 0)
		r = payload_stream_finish(s, p);
	if (r >= 0) {
		payload_stream_result(s, ret_res);
		*ret_m = payload_stream_take_manifest(s);
		*ret_spool = payload_stream_take_spool(s, ret_why);
	}
	payload_stream_free(s);
	return r;
}

static int write_buf_spool(const uint8_t *buf, size_t n, const struct payload_manifest *m,
			   const uint8_t *digest, int usr_fd, uint64_t usr_off, int kfd,
			   unsigned workers, int spool_fd, struct problem_list *p)
{
	struct payload_stream_opts o = { .verified = m, .verified_digest = digest, .usr_fd = usr_fd,
					 .usr_offset = usr_off, .kernel_fd = kfd,
					 .workers = workers, .partition_size = m->new_size,
					 .spool = spool_fd >= 0, .spool_fd = spool_fd };
	struct payload_stream *s = NULL;
	int r = payload_stream_new(&o, &s);
	if (r < 0)
		return r;
	r = payload_stream_feed(s, buf, n, p);
	if (r >= 0)
		r = payload_stream_finish(s, p);
	payload_stream_free(s);
	return r;
}

TEST(header_rules)
{
	uint8_t h[20] = "CrAU";
	uint64_t m;
	ASSERT_ERR(payload_header_parse(h, 20, &m, NULL), EBADMSG); /* version 0 */
	h[11] = 1;
	ASSERT_OK(payload_header_parse(h, 20, &m, NULL));
	ASSERT_EQ(m, 0);
	h[11] = 2;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(payload_header_parse(h, 20, &m, &p), EBADMSG);
	ASSERT_STREQ(p.item[0].message, "unsupported CrAU version 2");
	h[11] = 1;
	h[16] = 2; /* M = 2 << 24 = 32 MiB, over the limit */
	ASSERT_ERR(payload_header_parse(h, 20, &m, NULL), EBADMSG);
	h[0] = 'X';
	ASSERT_ERR(payload_header_parse(h, 20, &m, NULL), EPROTO);
	ASSERT_EQ(payload_error_code(-EPROTO), 21);
	ASSERT_EQ(payload_error_code(-EILSEQ), 29);
	ASSERT_EQ(payload_error_code(-EKEYREJECTED), 18);
	ASSERT_EQ(payload_error_code(-EIO), 1);
}

TEST(manifest_garbage_is_a_parse_error)
{
	static const uint8_t bad[] = { 0x0b, 0x01, 0x02 }; /* group start: unsupported */
	struct payload_manifest *m = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(payload_manifest_parse(bad, sizeof(bad), 0, &m, &p), EBADMSG);
	ASSERT_NULL(m);
	ASSERT_STREQ(p.item[0].message, "manifest: DeltaArchiveManifest at bytes 20-23: does not decode");
	/* empty manifest: required fields missing */
	ASSERT_ERR(payload_manifest_parse(bad, 0, 0, &m, NULL), EBADMSG);
}

/* A manifest of `n` copies of the two bytes rep, then block_size, signatures offset and size,
 * and new_partition_info (the audit's D1 shape). */
static uint8_t *hostile_manifest(const uint8_t rep[2], size_t n, size_t *ret_size)
{
	static const uint8_t tail[] = { 0x18, 0x80, 0x20, 0x20, 0x00, 0x28, 0x02, 0x4a, 0x25,
					0x08, 0x80, 0x20, 0x12, 0x20 };
	size_t size = 2 * n + sizeof(tail) + 32;
	uint8_t *m = calloc(1, size);

	if (!m)
		abort();
	for (size_t i = 0; i < n; i++)
		memcpy(m + 2 * i, rep, 2);
	memcpy(m + 2 * n, tail, sizeof(tail));
	*ret_size = size;
	return m;
}

/* Peak RSS of this process in KiB since the last reset_peak_rss(), from /proc/self/status. */
static long peak_rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Writing 5 to clear_refs resets the peak RSS (proc(5)). */
static void reset_peak_rss(void)
{
	int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "5", 1) != 1)
		abort();
	close(fd);
}

/* Parse in a child and return how far its peak RSS rose, in KiB; ret_msg gets the first
 * problem. */
static long parse_rss_kib(const uint8_t *m, size_t size, char *ret_msg, size_t msg_size)
{
	int pfd[2];
	int status;
	long rise = -1;
	pid_t pid;

	if (pipe(pfd) < 0)
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		struct payload_manifest *pm = NULL;
		struct problem_list p = {};
		long before, after;
		int r;

		reset_peak_rss();
		before = peak_rss_kib();
		r = payload_manifest_parse(m, size, 0, &pm, &p);
		after = peak_rss_kib();
		rise = after - before;
		if (write(pfd[1], &rise, sizeof(rise)) != sizeof(rise))
			_exit(1);
		if (p.n && write(pfd[1], p.item[0].message, strlen(p.item[0].message)) < 0)
			_exit(1);
		_exit(r == -EBADMSG && before > 0 ? 0 : 1);
	}
	close(pfd[1]);
	ssize_t n = read(pfd[0], &rise, sizeof(rise));
	if (n != sizeof(rise))
		rise = -1;
	n = read(pfd[0], ret_msg, msg_size - 1);
	ret_msg[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return rise;
}

TEST(manifest_counts_checked_before_decoding)
{
	static const uint8_t empty_op[2] = { 0x0a, 0x00 }, noop[2] = { 0x12, 0x00 },
			     unknown[2] = { 0x78, 0x00 }, proc[2] = { 0x52, 0x00 };
	size_t size;
	char msg[512];
	long rss;

	/* 8,000,000 empty operations (16 MB): protobuf-c alone took 1.47 GB */
	_cleanup_free_ uint8_t *m = hostile_manifest(empty_op, 8000000, &size);
	rss = parse_rss_kib(m, size, msg, sizeof(msg));
	ASSERT_STREQ(msg, "manifest: partition_operations at byte 20: 8000000 operations, more "
			  "than the 65536 allowed");
	ASSERT_TRUE(rss > 0 && rss < 32 * 1024);
	/* a wire error after them does not hide the count */
	m[2 * 8000000] = 0x0b; /* a group start where block_size was: protobuf-c refuses it */
	rss = parse_rss_kib(m, size, msg, sizeof(msg));
	ASSERT_STREQ(msg, "manifest: partition_operations at byte 20: 8000000 operations, more "
			  "than the 65536 allowed");
	ASSERT_TRUE(rss > 0 && rss < 32 * 1024);
	free(m);
	m = hostile_manifest(noop, 8000000, &size);
	rss = parse_rss_kib(m, size, msg, sizeof(msg));
	ASSERT_STREQ(msg, "manifest: noop_operations at byte 20: 8000000 operations, more than the "
			  "65536 allowed");
	ASSERT_TRUE(rss > 0 && rss < 32 * 1024);
	free(m);
	m = hostile_manifest(proc, 8000000, &size);
	rss = parse_rss_kib(m, size, msg, sizeof(msg));
	ASSERT_STREQ(msg, "manifest: procedures at byte 20: 8000000 procedures, more than the "
			  "65536 allowed");
	ASSERT_TRUE(rss > 0 && rss < 32 * 1024);
	free(m);
	/* unknown fields are kept by protobuf-c: the budget stops them */
	m = hostile_manifest(unknown, 8000000, &size);
	rss = parse_rss_kib(m, size, msg, sizeof(msg));
	ASSERT_TRUE(strstr(msg, "decoding needs more than the 144777584 bytes of memory allowed") !=
		    NULL);
	ASSERT_TRUE(rss > 0 && rss < 400 * 1024);
	free(m);

	/* 5,000,000 empty extents in one operation (10 MB): 532 MB before */
	size_t n = 5000000, len = 2 + 2 * n;
	m = calloc(1, 2 * n + 64);
	ASSERT_NOT_NULL(m);
	uint8_t *p = m;
	*p++ = 0x0a;
	for (size_t v = len; v; v >>= 7)
		*p++ = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
	*p++ = 0x08;
	*p++ = 0x00;
	for (size_t i = 0; i < n; i++) {
		*p++ = 0x32;
		*p++ = 0x00;
	}
	rss = parse_rss_kib(m, (size_t)(p - m), msg, sizeof(msg));
	ASSERT_STREQ(msg, "manifest: partition_operations[0] at byte 25: 5000000 dst_extents, more "
			  "than the 256 allowed");
	ASSERT_TRUE(rss > 0 && rss < 32 * 1024);
	/* 257 src_extents: the same limit */
	static const uint8_t src[] = { 0x0a, 0x06, 0x22, 0x00, 0x22, 0x00, 0x08, 0x00 };
	uint8_t big[2 + 2 + 2 * 257 + 16];
	size_t k = 0;
	big[k++] = 0x0a;
	big[k++] = 0x84; /* 2 + 2 * 257 = 516 */
	big[k++] = 0x04;
	big[k++] = 0x08;
	big[k++] = 0x00;
	for (int i = 0; i < 257; i++) {
		big[k++] = 0x22;
		big[k++] = 0x00;
	}
	_cleanup_(problem_list_release) struct problem_list pl = {};
	struct payload_manifest *pm = NULL;
	ASSERT_ERR(payload_manifest_parse(big, k, 0, &pm, &pl), EBADMSG);
	ASSERT_STREQ(pl.item[0].message, "manifest: partition_operations[0] at byte 23: 257 "
					 "src_extents, more than the 256 allowed");
	/* under the limits, decoding goes on to the usual rules */
	ASSERT_ERR(payload_manifest_parse(src, sizeof(src), 0, &pm, NULL), EBADMSG);
	ASSERT_NULL(pm);
}

static int write_buf(const uint8_t *buf, size_t n, const struct payload_manifest *m,
		     const uint8_t *digest, int usr_fd, uint64_t usr_off, int kfd, unsigned workers,
		     struct problem_list *p)
{
	return write_buf_spool(buf, n, m, digest, usr_fd, usr_off, kfd, workers, -1, p);
}

static void roundtrip(bool *tap_failed_, enum payload_compress c, bool kernel, size_t step)
{
	const size_t n = 3 * 1048576 + 5 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 1);
	_cleanup_free_ uint8_t *kern = kernel ? make_image(1500000, 2) : NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_OK(pack_buf(img, n, kern, 1500000, c, 1048576, &buf, &bn));
	ASSERT_OK(verify_buf(buf, bn, test_keys()->pub, step, &p, &m, &res));
	ASSERT_EQ(p.n, 0);
	ASSERT_TRUE(res.verified);
	ASSERT_EQ(res.matched_version, 2);
	ASSERT_EQ(res.size, bn);
	ASSERT_EQ(m->new_size, n);
	ASSERT_EQ(m->n_by_type[0] + m->n_by_type[1] + m->n_by_type[2], 4);
	if (c == PAYLOAD_COMPRESS_NONE)
		ASSERT_EQ(m->n_by_type[0], 4);
	ASSERT_EQ(m->has_kernel, kernel);

	/* write pass into the middle of a "disk" that has other data around the partition */
	const uint64_t off = 65536;
	_cleanup_free_ uint8_t *disk = calloc(1, n + 2 * off);
	memset(disk, 0xAA, n + 2 * off);
	_cleanup_close_ int dfd = memfd_with(disk, n + 2 * off);
	_cleanup_close_ int kfd = kernel ? memfd_with("old kernel", 10) : -1;
	ASSERT_OK(write_buf(buf, bn, m, res.signed_sha256, dfd, off, kfd, 3, &p));
	size_t dn;
	_cleanup_free_ uint8_t *after = read_all(dfd, &dn);
	ASSERT_EQ(dn, n + 2 * off);
	ASSERT_TRUE(memcmp(after + off, img, n) == 0);
	ASSERT_EQ(after[off - 1], 0xAA);
	ASSERT_EQ(after[off + n], 0xAA);
	ASSERT_OK(payload_check_image(dfd, off, m->new_size, m->new_hash, NULL));
	if (kernel) {
		size_t kn;
		_cleanup_free_ uint8_t *k = read_all(kfd, &kn);
		ASSERT_EQ(kn, 1500000);
		ASSERT_TRUE(memcmp(k, kern, kn) == 0);
		ASSERT_OK(payload_check_image(kfd, 0, m->kernel_size, m->kernel_hash, NULL));
	}
	payload_manifest_free(m);
}

TEST(roundtrip_bzip2)
{
	roundtrip(tap_failed_, PAYLOAD_COMPRESS_BZIP2, false, 1 << 20);
}

TEST(roundtrip_xz_with_kernel)
{
	roundtrip(tap_failed_, PAYLOAD_COMPRESS_XZ, true, 65536);
}

TEST(roundtrip_none_odd_feeds)
{
	roundtrip(tap_failed_, PAYLOAD_COMPRESS_NONE, true, 4093);
}

/* What `written` promises: every byte below upto is already written. */
struct written_log {
	pthread_mutex_t lock;
	int fd;
	uint64_t off;
	const uint8_t *img;
	size_t n;
	unsigned calls;
	uint64_t max;
	bool broken;
};

static void on_written(uint64_t upto, void *userdata)
{
	struct written_log *w = userdata;
	size_t k = upto < w->n ? (size_t)upto : w->n;
	uint8_t *got = malloc(k ? k : 1);
	bool ok = got && pread(w->fd, got, k, (off_t)w->off) == (ssize_t)k &&
		  memcmp(got, w->img, k) == 0;
	free(got);
	pthread_mutex_lock(&w->lock);
	w->calls++;
	w->broken |= !ok;
	if (upto > w->max)
		w->max = upto;
	pthread_mutex_unlock(&w->lock);
}

TEST(written_prefix_is_on_disk)
{
	const size_t n = 6 * 262144 + 3 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 4);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 262144, &buf, &bn));
	ASSERT_OK(verify_buf(buf, bn, test_keys()->pub, 1 << 20, NULL, &m, &res));
	const uint64_t off = 8192;
	_cleanup_free_ uint8_t *disk = calloc(1, n + 2 * off);
	_cleanup_close_ int dfd = memfd_with(disk, n + 2 * off);
	struct written_log w = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = dfd, .off = off,
				 .img = img, .n = n };
	struct payload_stream_opts o = { .verified = m, .verified_digest = res.signed_sha256,
					 .usr_fd = dfd, .usr_offset = off, .kernel_fd = -1,
					 .workers = 3, .partition_size = m->new_size,
					 .written = on_written, .written_data = &w };
	struct payload_stream *s = NULL;
	ASSERT_OK(payload_stream_new(&o, &s));
	for (size_t i = 0; i < bn; i += 65536)
		ASSERT_OK(payload_stream_feed(s, buf + i, bn - i < 65536 ? bn - i : 65536, NULL));
	ASSERT_OK(payload_stream_finish(s, NULL));
	payload_stream_free(s);
	ASSERT_FALSE(w.broken);
	ASSERT_TRUE(w.calls >= 1 && w.calls <= 7);
	ASSERT_U64_EQ(w.max, (n + 4095) / 4096 * 4096); /* the last block, zero-filled */
	payload_manifest_free(m);
}

TEST(byte_at_a_time)
{
	const size_t n = 16 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 3);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4 * 4096, &buf, &bn));
	ASSERT_OK(verify_buf(buf, bn, test_keys()->pub, 1, NULL, NULL, NULL));
}

TEST(wrong_key_truncated_trailing_tampered)
{
	const size_t n = 8 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 4);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4096, &buf, &bn));
	{
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_ERR(verify_buf(buf, bn, other_pub(), 4096, &p, NULL, NULL), EKEYREJECTED);
		ASSERT_STREQ(p.item[0].message, "signature verification failed: none of 1 signature "
						"matches the 1 trusted key (other.pem)");
	}
	{
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_ERR(verify_buf(buf, bn - 7, test_keys()->pub, 4096, &p, NULL, NULL), EMSGSIZE);
		char want[128];
		snprintf(want, sizeof(want), "truncated: have %zu of %zu bytes", bn - 7, bn);
		ASSERT_STREQ(p.item[0].message, want);
	}
	{
		_cleanup_(problem_list_release) struct problem_list p = {};
		ASSERT_ERR(verify_buf(buf, 3, test_keys()->pub, 1, &p, NULL, NULL), EPROTO);
		ASSERT_ERR(verify_buf(buf, 10, test_keys()->pub, 1, NULL, NULL, NULL), EMSGSIZE);
	}
	{
		/* a flipped blob byte: the signature check comes first (5.5 step 6 before 7) */
		_cleanup_(problem_list_release) struct problem_list p = {};
		buf[bn - 300] ^= 1;
		ASSERT_ERR(verify_buf(buf, bn, test_keys()->pub, 4096, &p, NULL, NULL), EKEYREJECTED);
		buf[bn - 300] ^= 1;
	}
	{
		uint8_t *longer = malloc(bn + 1);
		memcpy(longer, buf, bn);
		longer[bn] = 0;
		ASSERT_ERR(verify_buf(longer, bn + 1, test_keys()->pub, 4096, NULL, NULL, NULL),
			   EMSGSIZE);
		free(longer);
	}
}

TEST(write_pass_refuses_changed_file)
{
	const size_t n = 8 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 5);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_NONE, 4096, &buf, &bn));
	ASSERT_OK(verify_buf(buf, bn, test_keys()->pub, 4096, NULL, &m, &res));
	/* a blob changed after the verify pass: its hash fails before it is written */
	size_t at = (size_t)m->blobs_offset + 4096 * 3 + 5;
	buf[at] ^= 0x40;
	_cleanup_free_ uint8_t *zero = calloc(1, n);
	_cleanup_close_ int dfd = memfd_with(zero, n);
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(write_buf(buf, bn, m, res.signed_sha256, dfd, 0, -1, 1, &p), EILSEQ);
	char want[128];
	snprintf(want, sizeof(want), "operation 3: data SHA-256 mismatch at offset %llu",
		 (unsigned long long)(m->blobs_offset + 4096 * 3));
	ASSERT_STREQ(p.item[0].message, want);
	size_t dn;
	_cleanup_free_ uint8_t *after = read_all(dfd, &dn);
	for (size_t i = 3 * 4096; i < 4 * 4096; i++)
		ASSERT_EQ(after[i], 0);
	payload_manifest_free(m);
}

/* The verify pass keeps the decompressed image in an O_TMPFILE; the write pass copies it and the
 * partition ends up byte-identical to a write pass that decompresses again. */
static void spool_roundtrip(bool *tap_failed_, enum payload_compress c, bool kernel)
{
	const size_t n = 2 * 1048576 + 3 * 4096;
	const uint64_t off = 8192;
	_cleanup_free_ uint8_t *img = make_image(n, 7);
	_cleanup_free_ uint8_t *kern = kernel ? make_image(300000, 8) : NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	_cleanup_(problem_list_release) struct problem_list p = {};
	char dir[] = "/tmp/test-payload-spool.XXXXXX";
	int why = 1;
	_cleanup_close_ int spool = -1, dfd = -1;

	ASSERT_OK(pack_buf(img, n, kern, 300000, c, 65536, &buf, &bn));
	ASSERT_NOT_NULL(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(dfd >= 0);
	ASSERT_OK(verify_spool(buf, bn, dfd, &p, &m, &res, &spool, &why));
	ASSERT_EQ(why, 0);
	ASSERT_TRUE(spool >= 0);
	ASSERT_EQ(rmdir(dir), 0); /* the spool has no name: the directory is empty */
	for (size_t i = 0; i < m->n_ops; i++)
		ASSERT_EQ(m->ops[i].spooled > 0, m->ops[i].target == PAYLOAD_TARGET_USR);
	struct stat st;
	ASSERT_EQ(fstat(spool, &st), 0);
	ASSERT_EQ(st.st_mode & 07777, 0600);
	ASSERT_OK(payload_check_image(spool, 0, n, m->new_hash, NULL));

	_cleanup_free_ uint8_t *disk = malloc(n + 2 * off);
	memset(disk, 0xAA, n + 2 * off);
	_cleanup_close_ int a = memfd_with(disk, n + 2 * off);
	_cleanup_close_ int b = memfd_with(disk, n + 2 * off);
	_cleanup_close_ int ka = kernel ? memfd_with("old", 3) : -1;
	_cleanup_close_ int kb = kernel ? memfd_with("old", 3) : -1;
	ASSERT_OK(write_buf_spool(buf, bn, m, res.signed_sha256, a, off, ka, 2, spool, &p));
	ASSERT_OK(write_buf(buf, bn, m, res.signed_sha256, b, off, kb, 2, &p));
	size_t an, bn2;
	_cleanup_free_ uint8_t *ab = read_all(a, &an);
	_cleanup_free_ uint8_t *bb = read_all(b, &bn2);
	ASSERT_EQ(an, bn2);
	ASSERT_TRUE(memcmp(ab, bb, an) == 0);
	ASSERT_TRUE(memcmp(ab + off, img, n) == 0);
	ASSERT_EQ(ab[off - 1], 0xAA);
	ASSERT_EQ(ab[off + n], 0xAA);
	if (kernel) {
		size_t kn;
		_cleanup_free_ uint8_t *k = read_all(ka, &kn);
		ASSERT_EQ(kn, 300000);
		ASSERT_TRUE(memcmp(k, kern, kn) == 0);
	}

	/* The payload file changed after the verify pass: the blob's hash is checked before its
	 * spooled bytes are copied, so nothing of that operation reaches the target. */
	_cleanup_close_ int c2 = memfd_with(disk, n + 2 * off);
	size_t at = (size_t)(m->blobs_offset + m->ops[2].data_offset + 3);
	buf[at] ^= 0x10;
	_cleanup_(problem_list_release) struct problem_list p2 = {};
	ASSERT_ERR(write_buf_spool(buf, bn, m, res.signed_sha256, c2, off, -1, 1, spool, &p2),
		   EILSEQ);
	buf[at] ^= 0x10;
	size_t cn;
	_cleanup_free_ uint8_t *cb = read_all(c2, &cn);
	uint64_t e0 = m->ops[2].extents[0].start_block * m->block_size;
	for (uint64_t i = 0; i < m->ops[2].dst_bytes; i++)
		ASSERT_EQ(cb[off + e0 + i], 0xAA);

	/* A spool changed behind our back (it cannot be opened by name, but still): the read-back
	 * of 6.3 catches it, as it would catch a bad disk. */
	ASSERT_EQ(pwrite(spool, "X", 1, 4096 * 5), 1);
	_cleanup_close_ int d = memfd_with(disk, n + 2 * off);
	ASSERT_OK(write_buf_spool(buf, bn, m, res.signed_sha256, d, off, -1, 2, spool, &p));
	ASSERT_ERR(payload_check_image(d, off, m->new_size, m->new_hash, NULL), EILSEQ);
	payload_manifest_free(m);
}

TEST(spool_bzip2)
{
	spool_roundtrip(tap_failed_, PAYLOAD_COMPRESS_BZIP2, false);
}

TEST(spool_xz_with_kernel)
{
	spool_roundtrip(tap_failed_, PAYLOAD_COMPRESS_XZ, true);
}

TEST(spool_none)
{
	spool_roundtrip(tap_failed_, PAYLOAD_COMPRESS_NONE, false);
}

TEST(spool_unavailable_falls_back)
{
	const size_t n = 8 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 9);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	int spool = 5, why = 0;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4096, &buf, &bn));
	/* not a directory: no spool, verification unaffected, nothing marked spooled */
	_cleanup_close_ int notdir = memfd_with("x", 1);
	ASSERT_OK(verify_spool(buf, bn, notdir, NULL, &m, &res, &spool, &why));
	ASSERT_EQ(spool, -1);
	ASSERT_TRUE(why < 0);
	for (size_t i = 0; i < m->n_ops; i++)
		ASSERT_EQ(m->ops[i].spooled, 0);
	_cleanup_close_ int t = memfd_with(NULL, 0);
	ASSERT_EQ(ftruncate(t, (off_t)n), 0);
	ASSERT_OK(write_buf(buf, bn, m, res.signed_sha256, t, 0, -1, 2, NULL));
	ASSERT_OK(payload_check_image(t, 0, m->new_size, m->new_hash, NULL));
	payload_manifest_free(m);
}

TEST(pack_rejects_bad_input)
{
	_cleanup_free_ uint8_t *img = make_image(4096 + 100, 6);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	ASSERT_ERR(pack_buf(img, 4096 + 100, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4096, &buf, &bn),
		   EINVAL);
	ASSERT_ERR(pack_buf(img, 4096, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 1000, &buf, &bn), EINVAL);
	ASSERT_EQ(payload_compress_from_string("xz"), PAYLOAD_COMPRESS_XZ);
	ASSERT_EQ(payload_compress_from_string("gzip"), _PAYLOAD_COMPRESS_INVALID);
}

TEST(small_budget_still_works)
{
	const size_t n = 64 * 4096;
	_cleanup_free_ uint8_t *img = make_image(n, 7);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t bn;
	ASSERT_OK(pack_buf(img, n, NULL, 0, PAYLOAD_COMPRESS_NONE, 8 * 4096, &buf, &bn));
	const struct crypto_key *keys[] = { test_keys()->pub };
	struct payload_stream_opts o = { .keys = keys, .n_keys = 1, .usr_fd = -1, .kernel_fd = -1,
					 .workers = 4, .mem_budget = 1000 };
	struct payload_stream *s = NULL;
	ASSERT_OK(payload_stream_new(&o, &s));
	ASSERT_OK(payload_stream_feed(s, buf, bn, NULL));
	ASSERT_OK(payload_stream_finish(s, NULL));
	payload_stream_free(s);
}

TEST(omaha_response_parses_back)
{
	struct payload_pack_result res = { .size = 12345 };
	for (size_t i = 0; i < sizeof(res.sha256); i++)
		res.sha256[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(res.sha1); i++)
		res.sha1[i] = (uint8_t)(100 + i);
	struct payload_omaha_response_params rp = {
		.version = "4081.2.0", .url_base = "https://example.test/a&b", .name = "update.gz",
		.payload = &res,
	};
	_cleanup_free_ char *xml = NULL;
	ASSERT_OK(payload_omaha_response(&rp, &xml, NULL));
	_cleanup_(omaha_response_freep) struct omaha_response *r = NULL;
	ASSERT_OK(omaha_response_parse(xml, strlen(xml), "{E96281A6-D1AF-4BDE-9A0A-97B76E56DC57}",
				       true, &r, NULL));
	ASSERT_EQ(r->outcome, OMAHA_OUTCOME_UPDATE);
	ASSERT_STREQ(r->version, "4081.2.0");
	ASSERT_STREQ(r->urls[0], "https://example.test/a&b");
	ASSERT_STREQ(r->packages[0].name, "update.gz");
	ASSERT_EQ(r->packages[0].size, 12345);
	ASSERT_TRUE(r->packages[0].has_sha256 && r->packages[0].has_sha1);
	ASSERT_TRUE(memcmp(r->packages[0].sha256, res.sha256, 32) == 0);
	ASSERT_TRUE(memcmp(r->packages[0].sha1, res.sha1, 20) == 0);
	ASSERT_TRUE(memcmp(r->sha256, res.sha256, 32) == 0);

	rp.url_base = "ftp://x/";
	ASSERT_ERR(payload_omaha_response(&rp, &xml, NULL), EINVAL);
	rp.url_base = "https://x/";
	rp.name = "..";
	ASSERT_ERR(payload_omaha_response(&rp, &xml, NULL), EINVAL);
}

TEST(write_pass_refuses_other_manifest)
{
	const size_t n = 8 * 4096;
	_cleanup_free_ uint8_t *a = make_image(n, 8), *b = make_image(n, 9);
	_cleanup_free_ uint8_t *pa = NULL, *pb = NULL;
	size_t na, nb;
	struct payload_manifest *m = NULL;
	struct payload_stream_result res;
	ASSERT_OK(pack_buf(a, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4096, &pa, &na));
	ASSERT_OK(pack_buf(b, n, NULL, 0, PAYLOAD_COMPRESS_BZIP2, 4096, &pb, &nb));
	ASSERT_OK(verify_buf(pa, na, test_keys()->pub, 4096, NULL, &m, &res));
	_cleanup_free_ uint8_t *zero = calloc(1, n);
	_cleanup_close_ int dfd = memfd_with(zero, n);
	_cleanup_(problem_list_release) struct problem_list p = {};
	ASSERT_ERR(write_buf(pb, nb, m, res.signed_sha256, dfd, 0, -1, 2, &p), EBADMSG);
	size_t dn;
	_cleanup_free_ uint8_t *after = read_all(dfd, &dn);
	ASSERT_TRUE(memcmp(after, zero, n) == 0);
	payload_manifest_free(m);
}
