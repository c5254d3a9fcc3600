/* SPDX-License-Identifier: MIT */
/* include/crypto/crypto.h - digests (SHA-1, SHA-256, SHA-512), base64 and hex, RSA PKCS#1 v1.5 signatures
 * over a SHA-256 digest (docs/update.md 3.3, 5.4), on OpenSSL. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct problem_list;

#define CRYPTO_SHA1_SIZE 20
#define CRYPTO_SHA256_SIZE 32
#define CRYPTO_SHA512_SIZE 64
#define CRYPTO_MAX_DIGEST_SIZE 64

enum crypto_hash_alg {
	CRYPTO_SHA1,
	CRYPTO_SHA256,
	CRYPTO_SHA512,                /* Ignition's verification.hash "sha512-..." */
	_CRYPTO_HASH_ALG_MAX,
	_CRYPTO_HASH_ALG_INVALID = -EINVAL,
};

const char *crypto_hash_alg_to_string(enum crypto_hash_alg a);  /* "sha1", "sha256", "sha512" */
enum crypto_hash_alg crypto_hash_alg_from_string(const char *s);
size_t crypto_hash_size(enum crypto_hash_alg a);                 /* 20, 32, 64; 0 if invalid */

/* ---- streaming digests ---- */
struct crypto_hash;

int crypto_hash_new(enum crypto_hash_alg alg, struct crypto_hash **ret);
struct crypto_hash *crypto_hash_free(struct crypto_hash *h);
DEFINE_CLEANUP(struct crypto_hash, crypto_hash_free)
int crypto_hash_update(struct crypto_hash *h, const void *data, size_t size);
/* Writes the digest (out_size >= crypto_hash_size()) and starts over, so h can be reused.
 * Returns the digest length. */
int crypto_hash_final(struct crypto_hash *h, uint8_t *out, size_t out_size);
/* The digest of the bytes so far, without ending: h goes on as if not asked. */
int crypto_hash_peek(const struct crypto_hash *h, uint8_t *out, size_t out_size);
/* Total bytes fed since creation or the last final. */
uint64_t crypto_hash_bytes(const struct crypto_hash *h);

/* One-shot digests. Return 0 or -errno. */
int crypto_sha256(const void *data, size_t size, uint8_t out[CRYPTO_SHA256_SIZE]);
int crypto_sha1(const void *data, size_t size, uint8_t out[CRYPTO_SHA1_SIZE]);
/* Digest of `length` bytes of fd from `offset` (pread; the file position is not used).
 * length UINT64_MAX: to the end of the file. -EIO when the file ends before `length`. */
int crypto_hash_fd(enum crypto_hash_alg alg, int fd, uint64_t offset, uint64_t length,
		   uint8_t *out, size_t out_size);

/* ---- encodings ---- */
/* Standard base64 with padding, NUL-terminated. NULL: out of memory. */
char *crypto_base64_encode(const void *data, size_t size);
/* Strict standard base64 (padding required, no whitespace). *ret is NUL-terminated too.
 * -EINVAL for anything else. */
int crypto_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_size);
/* Decode s (NUL-terminated) into exactly `size` bytes; -EINVAL when it is not that. */
int crypto_base64_decode_exact(const char *s, void *out, size_t size);
/* Lowercase hex, NUL-terminated. NULL: out of memory. */
char *crypto_hex_encode(const void *data, size_t size);
/* Hex (either case) of exactly `size` bytes; -EINVAL otherwise. */
int crypto_hex_decode_exact(const char *s, void *out, size_t size);

/* ---- RSA keys ---- */
#define CRYPTO_RSA_MIN_BITS 2048
#define CRYPTO_RSA_MAX_BITS 8192

struct crypto_key;

/* Loads one PEM public key (SubjectPublicKeyInfo, "BEGIN PUBLIC KEY"; a PKCS#1 "BEGIN RSA PUBLIC
 * KEY" is accepted too). RSA only, 2048..8192 bits. `name` (file name, copied) is kept for
 * messages. On failure appends one problem located at `name` and returns -EKEYREJECTED (not a
 * public key, not RSA, wrong size). */
int crypto_pubkey_load_pem(const void *pem, size_t size, const char *name,
			   struct crypto_key **ret, struct problem_list *reterr);
/* Same from a file (a host path; under --root, read with lib/fs and use _load_pem). Read errors
 * are -errno with a problem "cannot read: ...". */
int crypto_pubkey_load_file(const char *path, struct crypto_key **ret,
			    struct problem_list *reterr);
/* A PEM private RSA key (PKCS#8 or PKCS#1, unencrypted), for signing (update pack, tests). */
int crypto_privkey_load_pem(const void *pem, size_t size, const char *name,
			    struct crypto_key **ret, struct problem_list *reterr);
int crypto_privkey_load_file(const char *path, struct crypto_key **ret,
			     struct problem_list *reterr);
struct crypto_key *crypto_key_free(struct crypto_key *k);
DEFINE_CLEANUP(struct crypto_key, crypto_key_free)

const char *crypto_key_name(const struct crypto_key *k);
unsigned crypto_key_bits(const struct crypto_key *k);
/* Modulus length in bytes = signature length. */
size_t crypto_key_size(const struct crypto_key *k);
bool crypto_key_is_private(const struct crypto_key *k);
/* The public half as PEM SubjectPublicKeyInfo (malloc'd, NUL-terminated). */
int crypto_key_public_pem(const struct crypto_key *k, char **ret);

/* ---- signatures (RSA PKCS#1 v1.5, DigestInfo-wrapped SHA-256) ---- */

/* Signs a 32-byte SHA-256 digest with a private key; *ret_sig has crypto_key_size() bytes. */
int crypto_rsa_sign_digest(const struct crypto_key *k, const uint8_t digest[CRYPTO_SHA256_SIZE],
			   uint8_t **ret_sig, size_t *ret_size);
/* 0 when sig is a valid signature of digest under k, -EKEYREJECTED when not (also for a
 * signature of the wrong length), other -errno on internal failure. */
int crypto_rsa_verify_digest(const struct crypto_key *k, const uint8_t digest[CRYPTO_SHA256_SIZE],
			     const void *sig, size_t size);

struct crypto_signature {
	uint32_t version;             /* a label only (docs/update.md 5.4): never checked */
	const uint8_t *data;
	size_t size;
};

/* Tries every signature against every key (signatures outer, keys inner) and stops at the
 * first match: 0 and *ret_sig / *ret_key set to its indexes (either may be NULL).
 * -ENOKEY: no keys; -ENODATA: no signatures; -EKEYREJECTED: none matches. */
int crypto_verify_any(const struct crypto_key *const *keys, size_t n_keys,
		      const struct crypto_signature *sigs, size_t n_sigs,
		      const uint8_t digest[CRYPTO_SHA256_SIZE], size_t *ret_sig, size_t *ret_key);

/* Version label of the i-th (0-based) of n signatures as Flatcar's generator numbers them:
 * 3-n .. 2, the last always 2. -ERANGE when n is 0 or more than 3 or i >= n. */
int crypto_signature_version(size_t n, size_t i);
