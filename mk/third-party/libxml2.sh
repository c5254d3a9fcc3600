# mk/third-party/libxml2.sh - libxml2's tree parser only: no ICU, iconv, network, modules, HTML,
# XPath, schemas or writer (docs/build.md 3.2). Sourced by mk/third-party.sh in the unpacked
# source; its hash is part of the cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=libxml2
tp_build() {
	# threads.c declares the pthread functions weak (glibc before 2.34 had them in libpthread)
	# and calls pthread_mutex_init before it has checked they exist: in a static link that
	# pulls in no mutex code otherwise, that is a call to address 0. glibc 2.34+ has them in
	# libc, so reference them normally.
	grep -q '^#pragma weak pthread_mutex_init' threads.c
	sed -i -e '/^#pragma weak pthread_/d' \
		-e 's/^static int libxml_is_threaded = -1;/static int libxml_is_threaded = 1;/' threads.c
	host=
	[ -z "$TP_HOST" ] || host=--host=$TP_HOST
	# shellcheck disable=SC2086
	CFLAGS="$TP_CFLAGS" ./configure $host --prefix="$1" \
		--disable-shared --enable-static --with-pic --disable-maintainer-mode \
		--without-icu --without-iconv --without-python --without-lzma --without-zlib \
		--without-http --without-ftp --without-modules --without-catalog --without-docbook \
		--without-legacy --without-debug --without-history --without-readline \
		--without-html --without-xpath --without-xptr --without-xinclude --without-c14n \
		--without-schemas --without-schematron --without-pattern --without-reader \
		--without-writer --without-regexps --without-valid --without-push --without-sax1
	make -j"$2" libxml2.la
	mkdir -p "$1/lib"
	cp .libs/libxml2.a "$1/lib/"
	make -C include install
}
