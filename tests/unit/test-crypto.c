/* SPDX-License-Identifier: MIT */
/* tests/unit/test-crypto.c - digests against published vectors, base64 (RFC 4648 vectors), hex,
 * RSA key loading and PKCS#1 v1.5 signatures cross-checked with the openssl command line tool
 * (throw-away keys made at test time). */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "tap.h"
#include "util/problem.h"

static char tmpdir[64];

static void teardown(void)
{
	char cmd[128];
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", tmpdir);
}

static char *path(const char *name)
{
	static char buf[8][256];
	static unsigned i;
	char *p = buf[i++ % 8];
	(void)snprintf(p, 256, "%.64s/%.64s", tmpdir, name);
	return p;
}

static bool setup(void)
{
	static int state;
	char cmd[2048];
	if (state)
		return state > 0;
	state = -1;
	(void)snprintf(tmpdir, sizeof(tmpdir), "/tmp/flatctl-crypto-XXXXXX");
	if (!mkdtemp(tmpdir))
		return false;
	atexit(teardown);
	(void)snprintf(cmd, sizeof(cmd),
		"set -e; cd '%s'; exec 2>openssl.log\n"
		"for k in a b; do\n"
		"  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $k.key\n"
		"  openssl pkey -in $k.key -pubout -out $k.pub\n"
		"done\n"
		"openssl rsa -in a.key -RSAPublicKey_out -out a.pkcs1.pub\n"
		"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out small.key\n"
		"openssl pkey -in small.key -pubout -out small.pub\n"
		"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out ec.key\n"
		"openssl pkey -in ec.key -pubout -out ec.pub\n"
		"head -c 100000 /dev/zero | tr '\\0' 'x' > data\n"
		"printf 'signed payload bytes' >> data\n"
		"openssl dgst -sha256 -sign a.key -out data.sig.a data\n"
		"openssl dgst -sha256 -sign b.key -out data.sig.b data\n"
		"printf 'not a key\\n' > garbage.pem\n",
		tmpdir);
	if (system(cmd) != 0)
		return false;
	state = 1;
	return true;
}

static int read_all(const char *file, uint8_t **ret, size_t *ret_size)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return -errno;
	uint8_t *buf = malloc(1 << 20);
	size_t n = buf ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	*ret = buf;
	*ret_size = n;
	return 0;
}

static bool hex_is(const uint8_t *d, size_t n, const char *want)
{
	_cleanup_free_ char *h = crypto_hex_encode(d, n);
	return h && strcmp(h, want) == 0;
}

TEST(sha256_and_sha1_vectors)
{
	uint8_t d[CRYPTO_SHA256_SIZE], s[CRYPTO_SHA1_SIZE];
	ASSERT_OK(crypto_sha256("abc", 3, d));
	ASSERT_TRUE(hex_is(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ASSERT_OK(crypto_sha256("", 0, d));
	ASSERT_TRUE(hex_is(d, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	ASSERT_OK(crypto_sha1("abc", 3, s));
	ASSERT_TRUE(hex_is(s, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"));
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	uint8_t l[CRYPTO_SHA512_SIZE];
	ASSERT_OK(crypto_hash_new(crypto_hash_alg_from_string("sha512"), &h));
	ASSERT_OK(crypto_hash_update(h, "abc", 3));
	ASSERT_EQ(crypto_hash_final(h, l, sizeof(l)), 64);
	ASSERT_TRUE(hex_is(l, 64, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
				  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"));
}

TEST(streaming_digest_matches_and_resets)
{
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	uint8_t d[CRYPTO_SHA256_SIZE];
	char chunk[1000];
	memset(chunk, 'a', sizeof(chunk));
	ASSERT_OK(crypto_hash_new(CRYPTO_SHA256, &h));
	for (int i = 0; i < 1000; i++)
		ASSERT_OK(crypto_hash_update(h, chunk, sizeof(chunk)));
	ASSERT_U64_EQ(crypto_hash_bytes(h), 1000000);
	ASSERT_EQ(crypto_hash_final(h, d, sizeof(d)), 32);
	/* FIPS 180-2 "one million a" */
	ASSERT_TRUE(hex_is(d, 32, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
	ASSERT_OK(crypto_hash_update(h, "ab", 2));
	ASSERT_OK(crypto_hash_update(h, "c", 1));
	ASSERT_EQ(crypto_hash_final(h, d, sizeof(d)), 32);
	ASSERT_TRUE(hex_is(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ASSERT_ERR(crypto_hash_final(h, d, 31), ENOBUFS);
	ASSERT_ERR(crypto_hash_new(_CRYPTO_HASH_ALG_MAX, &(struct crypto_hash *){ NULL }), EINVAL);
	ASSERT_EQ(crypto_hash_alg_from_string("sha1"), CRYPTO_SHA1);
	ASSERT_STREQ(crypto_hash_alg_to_string(CRYPTO_SHA256), "sha256");
	ASSERT_EQ(crypto_hash_alg_from_string("md5"), -EINVAL);
}

TEST(peek_gives_the_digest_so_far_and_goes_on)
{
	_cleanup_(crypto_hash_freep) struct crypto_hash *h = NULL;
	uint8_t d[CRYPTO_SHA256_SIZE];
	ASSERT_OK(crypto_hash_new(CRYPTO_SHA256, &h));
	ASSERT_OK(crypto_hash_update(h, "ab", 2));
	ASSERT_OK(crypto_hash_update(h, "c", 1));
	ASSERT_EQ(crypto_hash_peek(h, d, sizeof(d)), 32);
	ASSERT_TRUE(hex_is(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ASSERT_ERR(crypto_hash_peek(h, d, 31), ENOBUFS);
	/* "abc" + "def": the peek did not end or reset the running hash */
	ASSERT_OK(crypto_hash_update(h, "def", 3));
	ASSERT_U64_EQ(crypto_hash_bytes(h), 6);
	ASSERT_EQ(crypto_hash_final(h, d, sizeof(d)), 32);
	ASSERT_TRUE(hex_is(d, 32, "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721"));
}

TEST(hash_fd_ranges)
{
	char tmpl[] = "/tmp/flatctl-hashfd-XXXXXX";
	_cleanup_close_ int fd = mkostemp(tmpl, O_CLOEXEC);
	ASSERT_OK(fd);
	(void)unlink(tmpl);
	ASSERT_EQ(write(fd, "xxabcyy", 7), 7);
	uint8_t d[CRYPTO_SHA256_SIZE], e[CRYPTO_SHA256_SIZE];
	ASSERT_OK(crypto_hash_fd(CRYPTO_SHA256, fd, 2, 3, d, sizeof(d)));
	ASSERT_TRUE(hex_is(d, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	ASSERT_OK(crypto_hash_fd(CRYPTO_SHA256, fd, 0, UINT64_MAX, d, sizeof(d)));
	ASSERT_OK(crypto_sha256("xxabcyy", 7, e));
	ASSERT_EQ(memcmp(d, e, 32), 0);
	ASSERT_ERR(crypto_hash_fd(CRYPTO_SHA256, fd, 5, 3, d, sizeof(d)), EIO);
}

TEST(base64_rfc4648_vectors)
{
	static const struct { const char *raw, *enc; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		_cleanup_free_ char *e = crypto_base64_encode(v[i].raw, strlen(v[i].raw));
		ASSERT_STREQ(e, v[i].enc);
		_cleanup_free_ uint8_t *d = NULL;
		size_t n;
		ASSERT_OK(crypto_base64_decode(v[i].enc, strlen(v[i].enc), &d, &n));
		ASSERT_EQ(n, strlen(v[i].raw));
		ASSERT_STREQ((char *)d, v[i].raw);
	}
	static const char *const bad[] = { "Zg=", "Zm9v!A==", "Zh==", "Z===", "====", "Zm 9v",
					   "Zm9v\n", "Zg==Zg==", "=Zg=" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_free_ uint8_t *d = NULL;
		size_t n;
		ASSERT_ERR(crypto_base64_decode(bad[i], strlen(bad[i]), &d, &n), EINVAL);
	}
	/* the postinstall sha256 of docs/update.md 4.3 */
	uint8_t h[32];
	ASSERT_OK(crypto_base64_decode_exact("21kfKpahDBov9sOLW7kjTy8uRLDL8ysUh/ykWP/a13A=", h, 32));
	ASSERT_EQ(h[0], 0xdb);
	ASSERT_ERR(crypto_base64_decode_exact("nHDzPIl/VWtP3NJj0aazBbRG3mE=", h, 32), EINVAL);
}

TEST(hex_round_trip)
{
	static const char *hx = "1b434c8348e61e32b29f0e5e6c58a609e5db6bae128a726bd73b2a24028a4be9";
	uint8_t d[32];
	ASSERT_OK(crypto_hex_decode_exact(hx, d, 32));
	_cleanup_free_ char *back = crypto_hex_encode(d, 32);
	ASSERT_STREQ(back, hx);
	ASSERT_OK(crypto_hex_decode_exact("ABcd", d, 2));
	ASSERT_EQ(d[0], 0xab);
	ASSERT_ERR(crypto_hex_decode_exact("abc", d, 2), EINVAL);
	ASSERT_ERR(crypto_hex_decode_exact("zz", d, 1), EINVAL);
}

TEST(public_keys_load_with_clear_errors)
{
	ASSERT_TRUE(setup());
	_cleanup_(crypto_key_freep) struct crypto_key *k = NULL, *k1 = NULL;
	ASSERT_OK(crypto_pubkey_load_file(path("a.pub"), &k, NULL));
	ASSERT_EQ(crypto_key_bits(k), 2048);
	ASSERT_EQ(crypto_key_size(k), 256);
	ASSERT_STREQ(crypto_key_name(k), path("a.pub"));
	ASSERT_FALSE(crypto_key_is_private(k));
	ASSERT_OK(crypto_pubkey_load_file(path("a.pkcs1.pub"), &k1, NULL));
	ASSERT_EQ(crypto_key_bits(k1), 2048);

	static const struct { const char *file; int err; const char *msg; } bad[] = {
		{ "ec.pub", EKEYREJECTED, "not an RSA key (EC)" },
		{ "small.pub", EKEYREJECTED, "RSA key of 1024 bits, need 2048 to 8192" },
		{ "garbage.pem", EKEYREJECTED, "not a PEM file (no '-----BEGIN' line)" },
		{ "a.key", EKEYREJECTED, "holds a private key; a public key is needed" },
		{ "missing.pub", ENOENT, "cannot read: No such file or directory" },
		{ "data.sig.a", EKEYREJECTED, "not a PEM file (no '-----BEGIN' line)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_(problem_list_release) struct problem_list p = {};
		_cleanup_(crypto_key_freep) struct crypto_key *x = NULL;
		ASSERT_ERR(crypto_pubkey_load_file(path(bad[i].file), &x, &p), bad[i].err);
		ASSERT_NULL(x);
		ASSERT_EQ(p.n, 1);
		ASSERT_STREQ(p.item[0].where, path(bad[i].file));
		ASSERT_STREQ(p.item[0].message, bad[i].msg);
	}
	/* a PEM block that is not a key */
	static const char fake[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(crypto_key_freep) struct crypto_key *x = NULL;
	ASSERT_ERR(crypto_pubkey_load_pem(fake, sizeof(fake) - 1, "mem", &x, &p), EKEYREJECTED);
	ASSERT_TRUE(strncmp(p.item[0].message, "cannot decode public key: ", 26) == 0);
}

TEST(verify_openssl_signatures)
{
	ASSERT_TRUE(setup());
	_cleanup_(crypto_key_freep) struct crypto_key *a = NULL, *b = NULL;
	ASSERT_OK(crypto_pubkey_load_file(path("a.pub"), &a, NULL));
	ASSERT_OK(crypto_pubkey_load_file(path("b.pub"), &b, NULL));
	_cleanup_free_ uint8_t *data = NULL, *sa = NULL, *sb = NULL;
	size_t nd, na, nb;
	ASSERT_OK(read_all(path("data"), &data, &nd));
	ASSERT_OK(read_all(path("data.sig.a"), &sa, &na));
	ASSERT_OK(read_all(path("data.sig.b"), &sb, &nb));
	ASSERT_EQ(na, 256);
	uint8_t d[32];
	ASSERT_OK(crypto_sha256(data, nd, d));
	ASSERT_OK(crypto_rsa_verify_digest(a, d, sa, na));
	ASSERT_ERR(crypto_rsa_verify_digest(b, d, sa, na), EKEYREJECTED);
	ASSERT_ERR(crypto_rsa_verify_digest(a, d, sa, na - 1), EKEYREJECTED);
	sa[100] ^= 1;
	ASSERT_ERR(crypto_rsa_verify_digest(a, d, sa, na), EKEYREJECTED);
	sa[100] ^= 1;
	d[0] ^= 1;
	ASSERT_ERR(crypto_rsa_verify_digest(a, d, sa, na), EKEYREJECTED);
	d[0] ^= 1;

	/* production layout: version 1 from a throw-away key, version 2 from the real one */
	const struct crypto_signature sigs[] = { { 1, sb, nb }, { 2, sa, na } };
	const struct crypto_key *trusted[] = { a };
	size_t si = 9, ki = 9;
	ASSERT_OK(crypto_verify_any(trusted, 1, sigs, 2, d, &si, &ki));
	ASSERT_EQ(si, 1);
	ASSERT_EQ(ki, 0);
	const struct crypto_key *both[] = { b, a };
	ASSERT_OK(crypto_verify_any(both, 2, sigs, 2, d, &si, &ki));
	ASSERT_EQ(si, 0);
	ASSERT_EQ(ki, 0);
	const struct crypto_key *only_b[] = { b };
	ASSERT_ERR(crypto_verify_any(only_b, 1, sigs + 1, 1, d, NULL, NULL), EKEYREJECTED);
	ASSERT_ERR(crypto_verify_any(only_b, 0, sigs, 2, d, NULL, NULL), ENOKEY);
	ASSERT_ERR(crypto_verify_any(only_b, 1, sigs, 0, d, NULL, NULL), ENODATA);
}

TEST(sign_verified_by_openssl)
{
	ASSERT_TRUE(setup());
	_cleanup_(crypto_key_freep) struct crypto_key *priv = NULL, *pub = NULL;
	ASSERT_OK(crypto_privkey_load_file(path("a.key"), &priv, NULL));
	ASSERT_TRUE(crypto_key_is_private(priv));
	ASSERT_OK(crypto_pubkey_load_file(path("a.pub"), &pub, NULL));
	_cleanup_free_ uint8_t *data = NULL, *sig = NULL;
	size_t nd, ns;
	ASSERT_OK(read_all(path("data"), &data, &nd));
	uint8_t d[32];
	ASSERT_OK(crypto_sha256(data, nd, d));
	ASSERT_OK(crypto_rsa_sign_digest(priv, d, &sig, &ns));
	ASSERT_EQ(ns, 256);
	ASSERT_OK(crypto_rsa_verify_digest(pub, d, sig, ns));
	ASSERT_ERR(crypto_rsa_sign_digest(pub, d, &(uint8_t *){ NULL }, &ns), EINVAL);

	FILE *f = fopen(path("our.sig"), "we");
	ASSERT_NOT_NULL(f);
	ASSERT_EQ(fwrite(sig, 1, ns, f), ns);
	fclose(f);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -verify '%s' -signature '%s' '%s' >/dev/null",
		 path("a.pub"), path("our.sig"), path("data"));
	ASSERT_EQ(system(cmd), 0);

	/* the public half round-trips */
	_cleanup_free_ char *pem = NULL;
	ASSERT_OK(crypto_key_public_pem(priv, &pem));
	_cleanup_(crypto_key_freep) struct crypto_key *again = NULL;
	ASSERT_OK(crypto_pubkey_load_pem(pem, strlen(pem), "derived", &again, NULL));
	ASSERT_OK(crypto_rsa_verify_digest(again, d, sig, ns));

	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(crypto_key_freep) struct crypto_key *x = NULL;
	ASSERT_ERR(crypto_privkey_load_file(path("a.pub"), &x, &p), EKEYREJECTED);
	ASSERT_STREQ(p.item[0].message, "no 'BEGIN PRIVATE KEY' block");
}

TEST(signature_version_labels)
{
	ASSERT_EQ(crypto_signature_version(1, 0), 2);
	ASSERT_EQ(crypto_signature_version(2, 0), 1);
	ASSERT_EQ(crypto_signature_version(2, 1), 2);
	ASSERT_EQ(crypto_signature_version(3, 0), 0);
	ASSERT_EQ(crypto_signature_version(3, 2), 2);
	ASSERT_ERR(crypto_signature_version(4, 0), ERANGE);
	ASSERT_ERR(crypto_signature_version(0, 0), ERANGE);
	ASSERT_ERR(crypto_signature_version(2, 2), ERANGE);
}
