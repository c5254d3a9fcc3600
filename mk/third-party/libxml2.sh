# mk/third-party/libxml2.sh - libxml2 without ICU, iconv, network or modules (spec/build.md 3.2).
# Sourced by mk/third-party.sh in the unpacked source; its hash is part of the cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=libxml2
tp_build() {
	CFLAGS=-O2 ./configure --prefix="$1" \
		--disable-shared --enable-static --with-pic --disable-maintainer-mode \
		--without-icu --without-iconv --without-python --without-lzma --without-zlib \
		--without-http --without-ftp --without-modules --without-catalog --without-docbook \
		--without-legacy --without-debug --without-history --without-readline
	make -j"$2" libxml2.la
	mkdir -p "$1/lib"
	cp .libs/libxml2.a "$1/lib/"
	make -C include install
}
