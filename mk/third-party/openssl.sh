# mk/third-party/openssl.sh - libcrypto and libssl with only what flatctl and curl use
# (docs/build.md 3.4). Sourced by mk/third-party.sh in the unpacked source; its hash is part of
# the cache key (and of curl's, which is built against it).
#
# Why rebuild: a static PIE relocates every pointer in its tables at each start. Debian's
# libcrypto.a brings 341 KiB of pointer tables (error strings, engines, ciphers we never use) and
# is built without -ffunction-sections/-fdata-sections, so --gc-sections cannot drop any of it.
# Kept: TLS 1.2 and 1.3 (AES-GCM, ChaCha20-Poly1305, ECDHE on X25519/P-256/P-384/P-521, RSA,
# RSA-PSS, ECDSA, Ed25519 certificates), X.509 verification, PEM/DER keys, SHA-1/2/3, HMAC, HKDF.
# Dropped: engines and modules (nothing is ever dlopen()ed), the config file loaded on init,
# deprecated APIs, SSLv3/TLS 1.0/1.1/DTLS, finite-field DH and DSA, and the legacy or regional
# ciphers. Error strings stay (no-err would save 6 pages): lib/etcd tells a TLS alert from a lost
# connection by curl's message ("sslv3 alert bad certificate" vs "reason(1042)"), and users
# read them.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=openssl
tp_build() {
	# debian-<arch>: Debian's own target (TLS security level 2, its hardening flags)
	cross=
	[ -z "$TP_CROSS_PREFIX" ] || cross=--cross-compile-prefix=$TP_CROSS_PREFIX
	# shellcheck disable=SC2086
	CC=gcc ./Configure "debian-$TP_ARCH" $cross --prefix="$1" --libdir=lib \
		--openssldir=/usr/lib/ssl \
		no-shared no-module no-dso no-engine no-filenames no-deprecated no-legacy \
		no-autoload-config no-ui-console no-async no-tests no-unit-test no-capieng no-rdrand \
		no-ssl3 no-ssl3-method no-tls1 no-tls1-method no-tls1_1 no-tls1_1-method \
		no-dtls no-dgram no-sctp no-srtp no-srp no-psk no-nextprotoneg no-ssl-trace \
		no-cms no-ts no-comp no-ocsp no-ct no-cmp no-rfc3779 \
		no-dh no-dsa no-ec2m no-sm2 no-gost \
		no-des no-idea no-mdc2 no-rc2 no-rc4 no-rc5 no-bf no-cast no-seed no-camellia \
		no-aria no-sm3 no-sm4 no-md4 no-rmd160 no-whirlpool no-blake2 no-siphash no-siv \
		no-ocb no-cmac no-scrypt no-multiblock \
		$TP_CFLAGS
	make -j"$2" build_libs
	make install_dev
}
