# mk/third-party/curl.sh - libcurl, HTTP(S), FILE and TFTP only (docs/build.md 3.1), against the
# OpenSSL of mk/third-party/openssl.sh. Sourced by mk/third-party.sh in the unpacked source; its
# hash and openssl's cache key are part of its cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=curl
TP_DEPENDS=openssl
tp_build() {
	host=
	[ -z "$TP_HOST" ] || host=--host=$TP_HOST
	# shellcheck disable=SC2086,SC2154 # $host is options; TP_DEP_openssl comes from mk/third-party.sh
	CFLAGS="$TP_CFLAGS" ./configure $host --prefix="$1" \
		--disable-shared --enable-static --with-pic --disable-maintainer-mode \
		--with-openssl="$TP_DEP_openssl" --with-zlib --disable-openssl-auto-load-config \
		--without-brotli --without-zstd --without-libpsl --without-libidn2 \
		--without-librtmp --without-libssh2 --without-libssh --without-nghttp2 \
		--without-ngtcp2 --without-nghttp3 --without-quiche --without-msh3 --without-hyper \
		--without-libgsasl --without-gssapi \
		--disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet \
		--disable-pop3 --disable-imap --disable-smb --disable-smtp \
		--disable-gopher --disable-mqtt --disable-ftp --disable-manual --disable-ntlm-wb \
		--disable-netrc \
		--disable-cookies --disable-mime --disable-alt-svc --disable-hsts --disable-doh \
		--disable-ntlm --disable-kerberos-auth --disable-negotiate-auth --disable-aws \
		--disable-progress-meter --disable-get-easy-options \
		--enable-threaded-resolver --enable-ipv6 \
		--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs
	make -j"$2" -C lib
	make -C lib install
	make -C include install
}
