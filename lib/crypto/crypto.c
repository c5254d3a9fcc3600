/* SPDX-License-Identifier: MIT */
/* lib/crypto/crypto.c - SHA-1/SHA-256/SHA-512, base64/hex, RSA PKCS#1 v1.5 over SHA-256 on OpenSSL 3;
 * docs/update.md 3.3 (keys), 4.3 (hash encodings), 5.4 (signatures). */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "crypto/crypto.h"
#include "util/problem.h"

DEFINE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
DEFINE_CLEANUP(BIO, BIO_free)
DEFINE_CLEANUP(OSSL_DECODER_CTX, OSSL_DECODER_CTX_free)

static const char *const alg_names[_CRYPTO_HASH_ALG_MAX] = {
	[CRYPTO_SHA1] = "sha1",
	[CRYPTO_SHA256] = "sha256",
	[CRYPTO_SHA512] = "sha512",
};

const char *crypto_hash_alg_to_string(enum crypto_hash_alg a)
{
	return a >= 0 && a < _CRYPTO_HASH_ALG_MAX ? alg_names[a] : NULL;
}

enum crypto_hash_alg crypto_hash_alg_from_string(const char *s)
{
	for (int i = 0; s && i < _CRYPTO_HASH_ALG_MAX; i++)
		if (strcmp(alg_names[i], s) == 0)
			return (enum crypto_hash_alg)i;
	return _CRYPTO_HASH_ALG_INVALID;
}

size_t crypto_hash_size(enum crypto_hash_alg a)
{
	switch (a) {
	case CRYPTO_SHA1:
		return CRYPTO_SHA1_SIZE;
	case CRYPTO_SHA256:
		return CRYPTO_SHA256_SIZE;
	case CRYPTO_SHA512:
		return CRYPTO_SHA512_SIZE;
	default:
		return 0;
	}
}

static const EVP_MD *alg_md(enum crypto_hash_alg a)
{
	switch (a) {
	case CRYPTO_SHA1:
		return EVP_sha1();
	case CRYPTO_SHA256:
		return EVP_sha256();
	case CRYPTO_SHA512:
		return EVP_sha512();
	default:
		return NULL;
	}
}

/* ---- digests ---------------------------------------------------------------------------------- */

struct crypto_hash {
	EVP_MD_CTX *ctx;
	enum crypto_hash_alg alg;
	uint64_t bytes;
};

struct crypto_hash *crypto_hash_free(struct crypto_hash *h)
{
	if (h) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
	return NULL;
}

int crypto_hash_new(enum crypto_hash_alg alg, struct crypto_hash **ret)
{
	const EVP_MD *md = alg_md(alg);
	if (!md)
		return -EINVAL;
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(h->ctx, md, NULL) != 1)
		return -EIO;
	*ret = TAKE_PTR(h);
	return 0;
}

int crypto_hash_update(struct crypto_hash *h, const void *data, size_t size)
{
	if (size == 0)
		return 0;
	if (EVP_DigestUpdate(h->ctx, data, size) != 1)
		return -EIO;
	h->bytes += size;
	return 0;
}

int crypto_hash_final(struct crypto_hash *h, uint8_t *out, size_t out_size)
{
	unsigned n = 0;
	size_t want = crypto_hash_size(h->alg);
	if (out_size < want)
		return -ENOBUFS;
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != want)
		return -EIO;
	if (EVP_DigestInit_ex(h->ctx, alg_md(h->alg), NULL) != 1)
		return -EIO;
	h->bytes = 0;
	return (int)n;
}

int crypto_hash_peek(const struct crypto_hash *h, uint8_t *out, size_t out_size)
{
	unsigned n = 0;
	size_t want = crypto_hash_size(h->alg);
	if (out_size < want)
		return -ENOBUFS;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c)
		return -ENOMEM;
	int ok = EVP_MD_CTX_copy_ex(c, h->ctx) == 1 && EVP_DigestFinal_ex(c, out, &n) == 1 &&
		 n == want;
	EVP_MD_CTX_free(c);
	return ok ? (int)n : -EIO;
}

uint64_t crypto_hash_bytes(const struct crypto_hash *h)
{
	return h->bytes;
}

static int oneshot(enum crypto_hash_alg alg, const void *data, size_t size, uint8_t *out)
{
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	int r = crypto_hash_new(alg, &h);
	if (r < 0)
		return r;
	r = crypto_hash_update(h, data, size);
	if (r < 0)
		return r;
	r = crypto_hash_final(h, out, crypto_hash_size(alg));
	return r < 0 ? r : 0;
}

int crypto_sha256(const void *data, size_t size, uint8_t out[CRYPTO_SHA256_SIZE])
{
	return oneshot(CRYPTO_SHA256, data, size, out);
}

int crypto_sha1(const void *data, size_t size, uint8_t out[CRYPTO_SHA1_SIZE])
{
	return oneshot(CRYPTO_SHA1, data, size, out);
}

int crypto_hash_fd(enum crypto_hash_alg alg, int fd, uint64_t offset, uint64_t length,
		   uint8_t *out, size_t out_size)
{
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	_cleanup_free_ uint8_t *buf = malloc(1 << 16);
	int r;

	if (!buf)
		return -ENOMEM;
	if (out_size < crypto_hash_size(alg))
		return -ENOBUFS;
	r = crypto_hash_new(alg, &h);
	if (r < 0)
		return r;
	while (length > 0) {
		size_t want = length < (1 << 16) ? (size_t)length : (1 << 16);
		ssize_t n = pread(fd, buf, want, (off_t)offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) {
			if (length == UINT64_MAX)
				break;
			return -EIO;
		}
		r = crypto_hash_update(h, buf, (size_t)n);
		if (r < 0)
			return r;
		offset += (uint64_t)n;
		if (length != UINT64_MAX)
			length -= (uint64_t)n;
	}
	r = crypto_hash_final(h, out, out_size);
	return r < 0 ? r : 0;
}

/* ---- encodings -------------------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *crypto_base64_encode(const void *data, size_t size)
{
	const uint8_t *p = data;
	char *out = malloc((size + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < size; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < size)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < size)
			v |= p[i + 2];
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < size ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < size ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

int crypto_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_size)
{
	if (len % 4 != 0)
		return -EINVAL;
	size_t pad = 0;
	if (len >= 1 && s[len - 1] == '=')
		pad++;
	if (len >= 2 && s[len - 2] == '=')
		pad++;
	size_t n = len / 4 * 3 - pad;
	_cleanup_free_ uint8_t *out = malloc(n + 1);
	if (!out)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		bool last = i + 4 == len;
		for (size_t j = 0; j < 4; j++) {
			int d;
			if (last && j >= 4 - pad) {
				if (s[i + j] != '=')
					return -EINVAL;
				d = 0;
			} else if ((d = b64_value(s[i + j])) < 0)
				return -EINVAL;
			v = v << 6 | (uint32_t)d;
		}
		/* canonical form: the bits under the padding are zero */
		if (last && ((pad == 1 && (v & 0xFF)) || (pad == 2 && (v & 0xFFFF))))
			return -EINVAL;
		out[o++] = (uint8_t)(v >> 16);
		if (o < n)
			out[o++] = (uint8_t)(v >> 8);
		if (o < n)
			out[o++] = (uint8_t)v;
	}
	out[n] = 0;
	*ret = TAKE_PTR(out);
	*ret_size = n;
	return 0;
}

int crypto_base64_decode_exact(const char *s, void *out, size_t size)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n;
	int r = crypto_base64_decode(s, strlen(s), &buf, &n);
	if (r < 0)
		return r;
	if (n != size)
		return -EINVAL;
	memcpy(out, buf, n);
	return 0;
}

char *crypto_hex_encode(const void *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = data;
	char *out = malloc(size * 2 + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < size; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[size * 2] = 0;
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int crypto_hex_decode_exact(const char *s, void *out, size_t size)
{
	uint8_t *o = out;
	if (strlen(s) != size * 2)
		return -EINVAL;
	for (size_t i = 0; i < size; i++) {
		int a = hex_value(s[2 * i]), b = hex_value(s[2 * i + 1]);
		if (a < 0 || b < 0)
			return -EINVAL;
		o[i] = (uint8_t)(a << 4 | b);
	}
	return 0;
}

/* ---- keys ------------------------------------------------------------------------------------- */

struct crypto_key {
	EVP_PKEY *pkey;
	char *name;
	bool private;
};

struct crypto_key *crypto_key_free(struct crypto_key *k)
{
	if (k) {
		EVP_PKEY_free(k->pkey);
		free(k->name);
		free(k);
	}
	return NULL;
}

const char *crypto_key_name(const struct crypto_key *k)
{
	return k->name;
}

unsigned crypto_key_bits(const struct crypto_key *k)
{
	int b = EVP_PKEY_get_bits(k->pkey);
	return b > 0 ? (unsigned)b : 0;
}

size_t crypto_key_size(const struct crypto_key *k)
{
	int n = EVP_PKEY_get_size(k->pkey);
	return n > 0 ? (size_t)n : 0;
}

bool crypto_key_is_private(const struct crypto_key *k)
{
	return k->private;
}

/* OpenSSL's first queued reason, for messages; clears the queue. */
static const char *ssl_reason(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;
	(void)snprintf(buf, size, "%s", why ? why : "unknown OpenSSL error");
	ERR_clear_error();
	return buf;
}

static bool mem_contains(const void *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	return -1; /* never prompt: an encrypted key is an error */
}

static int key_finish(EVP_PKEY **pkey, const char *name, bool private, struct crypto_key **ret,
		      struct problem_list *reterr)
{
	const char *where = name ? name : "key";

	if (!EVP_PKEY_is_a(*pkey, "RSA"))
		return problem_add(reterr, -EKEYREJECTED, where, "not an RSA key (%s)",
				   EVP_PKEY_get0_type_name(*pkey) ?: "unknown type");
	int bits = EVP_PKEY_get_bits(*pkey);
	if (bits < CRYPTO_RSA_MIN_BITS || bits > CRYPTO_RSA_MAX_BITS)
		return problem_add(reterr, -EKEYREJECTED, where,
				   "RSA key of %d bits, need %d to %d", bits, CRYPTO_RSA_MIN_BITS,
				   CRYPTO_RSA_MAX_BITS);
	_cleanup_(crypto_key_freep) struct crypto_key *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	if (name && !(k->name = strdup(name)))
		return -ENOMEM;
	k->private = private;
	k->pkey = TAKE_PTR(*pkey);
	*ret = TAKE_PTR(k);
	return 0;
}

int crypto_pubkey_load_pem(const void *pem, size_t size, const char *name,
			   struct crypto_key **ret, struct problem_list *reterr)
{
	const char *where = name ? name : "key";
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = NULL;
	char why[128];

	if (!mem_contains(pem, size, "-----BEGIN "))
		return problem_add(reterr, -EKEYREJECTED, where,
				   "not a PEM file (no '-----BEGIN' line)");
	if (mem_contains(pem, size, "PRIVATE KEY-----"))
		return problem_add(reterr, -EKEYREJECTED, where,
				   "holds a private key; a public key is needed");
	if (!mem_contains(pem, size, "-----BEGIN PUBLIC KEY-----") &&
	    !mem_contains(pem, size, "-----BEGIN RSA PUBLIC KEY-----"))
		return problem_add(reterr, -EKEYREJECTED, where,
				   "no 'BEGIN PUBLIC KEY' block");
	_cleanup_(OSSL_DECODER_CTX_freep) OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(
		&pkey, "PEM", NULL, NULL, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, NULL, NULL);
	if (!dctx)
		return -ENOMEM;
	const unsigned char *p = pem;
	size_t left = size;
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || !pkey)
		return problem_add(reterr, -EKEYREJECTED, where, "cannot decode public key: %s",
				   ssl_reason(why, sizeof(why)));
	return key_finish(&pkey, name, false, ret, reterr);
}

int crypto_privkey_load_pem(const void *pem, size_t size, const char *name,
			    struct crypto_key **ret, struct problem_list *reterr)
{
	const char *where = name ? name : "key";
	char why[128];

	if (size > INT32_MAX)
		return problem_add(reterr, -EKEYREJECTED, where, "too large");
	if (!mem_contains(pem, size, "PRIVATE KEY-----"))
		return problem_add(reterr, -EKEYREJECTED, where, "no 'BEGIN PRIVATE KEY' block");
	_cleanup_(BIO_freep) BIO *bio = BIO_new_mem_buf(pem, (int)size);
	if (!bio)
		return -ENOMEM;
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	if (!pkey)
		return problem_add(reterr, -EKEYREJECTED, where, "cannot decode private key: %s",
				   ssl_reason(why, sizeof(why)));
	return key_finish(&pkey, name, true, ret, reterr);
}

static int read_small_file(const char *path, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	size_t n = 0, cap = 4096;
	_cleanup_free_ char *buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= 1 << 20)
				return -EFBIG;
			char *b = realloc(buf, cap * 2 + 1);
			if (!b)
				return -ENOMEM;
			buf = b;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	buf[n] = 0;
	*ret = TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

int crypto_pubkey_load_file(const char *path, struct crypto_key **ret,
			    struct problem_list *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r = read_small_file(path, &data, &n);
	if (r < 0)
		return problem_add(reterr, r, path, "cannot read: %s", strerror(-r));
	return crypto_pubkey_load_pem(data, n, path, ret, reterr);
}

int crypto_privkey_load_file(const char *path, struct crypto_key **ret,
			     struct problem_list *reterr)
{
	_cleanup_erase_ char *data = NULL;
	size_t n;
	int r = read_small_file(path, &data, &n);
	if (r < 0)
		return problem_add(reterr, r, path, "cannot read: %s", strerror(-r));
	return crypto_privkey_load_pem(data, n, path, ret, reterr);
}

int crypto_key_public_pem(const struct crypto_key *k, char **ret)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_PUBKEY(bio, k->pkey) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	long n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		return -EIO;
	char *s = strndup(p, (size_t)n);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* ---- signatures ------------------------------------------------------------------------------- */

static int pkey_ctx(const struct crypto_key *k, bool sign, EVP_PKEY_CTX **ret)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k->pkey, NULL);
	if (!ctx)
		return -ENOMEM;
	if ((sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	*ret = TAKE_PTR(ctx);
	return 0;
}

int crypto_rsa_sign_digest(const struct crypto_key *k, const uint8_t digest[CRYPTO_SHA256_SIZE],
			   uint8_t **ret_sig, size_t *ret_size)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	if (!k->private)
		return -EINVAL;
	int r = pkey_ctx(k, true, &ctx);
	if (r < 0)
		return r;
	size_t n = 0;
	if (EVP_PKEY_sign(ctx, NULL, &n, digest, CRYPTO_SHA256_SIZE) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	_cleanup_free_ uint8_t *sig = malloc(n);
	if (!sig)
		return -ENOMEM;
	if (EVP_PKEY_sign(ctx, sig, &n, digest, CRYPTO_SHA256_SIZE) != 1) {
		ERR_clear_error();
		return -EIO;
	}
	*ret_sig = TAKE_PTR(sig);
	*ret_size = n;
	return 0;
}

int crypto_rsa_verify_digest(const struct crypto_key *k, const uint8_t digest[CRYPTO_SHA256_SIZE],
			     const void *sig, size_t size)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	if (size != crypto_key_size(k))
		return -EKEYREJECTED;
	int r = pkey_ctx(k, false, &ctx);
	if (r < 0)
		return r;
	r = EVP_PKEY_verify(ctx, sig, size, digest, CRYPTO_SHA256_SIZE);
	ERR_clear_error();
	return r == 1 ? 0 : -EKEYREJECTED;
}

int crypto_verify_any(const struct crypto_key *const *keys, size_t n_keys,
		      const struct crypto_signature *sigs, size_t n_sigs,
		      const uint8_t digest[CRYPTO_SHA256_SIZE], size_t *ret_sig, size_t *ret_key)
{
	if (n_keys == 0)
		return -ENOKEY;
	if (n_sigs == 0)
		return -ENODATA;
	for (size_t s = 0; s < n_sigs; s++)
		for (size_t k = 0; k < n_keys; k++) {
			int r = crypto_rsa_verify_digest(keys[k], digest, sigs[s].data, sigs[s].size);
			if (r == -EKEYREJECTED)
				continue;
			if (r < 0)
				return r;
			if (ret_sig)
				*ret_sig = s;
			if (ret_key)
				*ret_key = k;
			return 0;
		}
	return -EKEYREJECTED;
}

int crypto_signature_version(size_t n, size_t i)
{
	if (n == 0 || n > 3 || i >= n)
		return -ERANGE;
	return (int)(3 - n + i);
}
