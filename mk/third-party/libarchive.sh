# mk/third-party/libarchive.sh - libarchive for the static binary's support bundles (docs/diag.md
# §3.1): the tar writers and the gzip filter over zlib, nothing else. Debian's libarchive.a would
# do, but its objects are not split per function: the pax writer refers to a helper in the object
# that holds the table of every writer format, so the link pulled in iso9660, xar, 7zip, zip,
# mtree, cpio and shar, and through them zstd, lz4 and lzma compressors (+613 KiB, the binary
# over its 8 MiB budget). Built here with -ffunction-sections, --gc-sections drops them all, and
# without iconv it never reaches glibc's gconv (docs/build.md §6.3).
# Sourced by mk/third-party.sh in the unpacked source; its hash is part of the cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=libarchive
tp_build() {
	CFLAGS="-O2 -ffunction-sections -fdata-sections" ./configure --prefix="$1" \
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
