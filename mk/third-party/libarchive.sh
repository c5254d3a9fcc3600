# mk/third-party/libarchive.sh - libarchive for the static binary's support bundles (docs/diag.md
# §3.1): the tar writers and the gzip filter over zlib, nothing else. Debian's libarchive.a links
# statically with -lz alone for our calls (pax writer, gzip filter; 86 KiB after --gc-sections),
# but it is built with iconv: the pax writer calls iconv_open() and the static binary then reads
# glibc's gconv-modules.cache, the gconv path docs/build.md §6.3 keeps out of the binary. Without
# iconv (and with -ffunction-sections) it needs neither; pathnames stay the bytes we give.
# Sourced by mk/third-party.sh in the unpacked source; its hash is part of the cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=libarchive
tp_build() {
	host=
	[ -z "$TP_HOST" ] || host=--host=$TP_HOST
	# shellcheck disable=SC2086
	CFLAGS="$TP_CFLAGS" ./configure $host --prefix="$1" \
		--disable-shared --enable-static --with-pic --disable-maintainer-mode \
		--disable-bsdtar --disable-bsdcpio --disable-bsdcat --disable-rpath \
		--disable-acl --disable-xattr --without-iconv --without-libiconv-prefix \
		--with-zlib --without-bz2lib --without-libb2 --without-lz4 --without-zstd \
		--without-lzma --without-lzo2 --without-cng --without-mbedtls --without-nettle \
		--without-openssl --without-xml2 --without-expat
	make -j"$2" libarchive.la
	mkdir -p "$1/lib" "$1/include"
	cp .libs/libarchive.a "$1/lib/"
	cp libarchive/archive.h libarchive/archive_entry.h "$1/include/"
}
