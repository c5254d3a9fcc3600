/* SPDX-License-Identifier: MIT */
/* lib/payload/sign.c - every OpenSSL call of lib/payload: RSA keys, PKCS#1 v1.5 signing and
 * verification over a SHA-256 digest (spec/update.md 5.4), SHA-256/SHA-1, base64.
 * TODO(payload): move hashing and verification onto lib/crypto once it is merged. */
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "payload/payload.h"
#include "util/cleanup.h"
#include "util/problem.h"

DEFINE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
DEFINE_CLEANUP(BIO, BIO_free)

struct payload_key {
	EVP_PKEY *pkey;
	char *label;
};

struct payload_hash {
	EVP_MD_CTX *ctx;
	enum payload_hash_alg alg;
};

struct payload_key *payload_key_free(struct payload_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey);
	free(k->label);
	free(k);
	return NULL;
}
DEFINE_CLEANUP(struct payload_key, payload_key_free)

const char *payload_key_label(const struct payload_key *k)
{
	return k->label;
}

size_t payload_key_modulus_size(const struct payload_key *k)
{
	return (size_t)EVP_PKEY_get_size(k->pkey);
}

static int key_load(const void *pem, size_t size, const char *label, bool private,
		    struct payload_key **ret, struct problem_list *reterr)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	_cleanup_(payload_key_freep) struct payload_key *k = NULL;
	const char *what = private ? "private" : "public";

	if (size > INT32_MAX)
		return problem_add(reterr, -EINVAL, label, "not a PEM %s key", what);
	bio = BIO_new_mem_buf(pem, (int)size);
	k = calloc(1, sizeof(*k));
	if (!bio || !k)
		return -ENOMEM;
	k->label = strdup(label ? label : "key");
	if (!k->label)
		return -ENOMEM;
	k->pkey = private ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
			  : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (!k->pkey)
		return problem_add(reterr, -EINVAL, label, "not a PEM %s key%s", what,
				   private ? "" : " (expected BEGIN PUBLIC KEY)");
	if (EVP_PKEY_get_base_id(k->pkey) != EVP_PKEY_RSA)
		return problem_add(reterr, -EINVAL, label, "not an RSA key");
	int bits = EVP_PKEY_get_bits(k->pkey);
	if (bits < 2048 || bits > 8192)
		return problem_add(reterr, -EINVAL, label,
				   "RSA key of %d bits (2048 to 8192 allowed)", bits);
	*ret = TAKE_PTR(k);
	return 0;
}

int payload_key_load_public(const void *pem, size_t size, const char *label,
			    struct payload_key **ret, struct problem_list *reterr)
{
	return key_load(pem, size, label, false, ret, reterr);
}

int payload_key_load_private(const void *pem, size_t size, const char *label,
			     struct payload_key **ret, struct problem_list *reterr)
{
	return key_load(pem, size, label, true, ret, reterr);
}

static int pkey_ctx(EVP_PKEY *pkey, bool sign, EVP_PKEY_CTX **ret)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pkey, NULL);

	if (!c)
		return -ENOMEM;
	if ((sign ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) <= 0)
		return -EINVAL;
	*ret = TAKE_PTR(c);
	return 0;
}

int payload_key_sign(const struct payload_key *k, const uint8_t digest[PAYLOAD_SHA256_SIZE],
		     uint8_t **ret, size_t *ret_size)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *c = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	size_t n = 0;
	int r;

	r = pkey_ctx(k->pkey, true, &c);
	if (r < 0)
		return r;
	if (EVP_PKEY_sign(c, NULL, &n, digest, PAYLOAD_SHA256_SIZE) <= 0)
		return -EINVAL;
	sig = malloc(n);
	if (!sig)
		return -ENOMEM;
	if (EVP_PKEY_sign(c, sig, &n, digest, PAYLOAD_SHA256_SIZE) <= 0)
		return -EINVAL;
	*ret = TAKE_PTR(sig);
	*ret_size = n;
	return 0;
}

int payload_key_verify(const struct payload_key *k, const uint8_t digest[PAYLOAD_SHA256_SIZE],
		       const uint8_t *sig, size_t sig_size)
{
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *c = NULL;
	int r;

	if (sig_size != payload_key_modulus_size(k))
		return 0;
	r = pkey_ctx(k->pkey, false, &c);
	if (r < 0)
		return r;
	return EVP_PKEY_verify(c, sig, sig_size, digest, PAYLOAD_SHA256_SIZE) == 1;
}

struct payload_hash *payload_hash_new(enum payload_hash_alg alg)
{
	struct payload_hash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx ||
	    EVP_DigestInit_ex(h->ctx, alg == PAYLOAD_HASH_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) != 1)
		return payload_hash_free(h);
	return h;
}

int payload_hash_update(struct payload_hash *h, const void *data, size_t n)
{
	return EVP_DigestUpdate(h->ctx, data, n) == 1 ? 0 : -EIO;
}

int payload_hash_peek(const struct payload_hash *h, uint8_t *out)
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned len = 0;
	int r = -ENOMEM;

	if (copy && EVP_MD_CTX_copy_ex(copy, h->ctx) == 1)
		r = EVP_DigestFinal_ex(copy, out, &len) == 1 ? 0 : -EIO;
	EVP_MD_CTX_free(copy);
	return r;
}

struct payload_hash *payload_hash_free(struct payload_hash *h)
{
	if (h) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
	}
	return NULL;
}

int payload_sha256(const void *data, size_t n, uint8_t out[PAYLOAD_SHA256_SIZE])
{
	return EVP_Digest(data, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

void payload_base64(const uint8_t *in, size_t n, char *out)
{
	(void)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

void payload_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}
