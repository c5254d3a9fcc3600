# mk/third-party/libsystemd.sh - static libsystemd from the systemd source (docs/build.md 3.3).
# Sourced by mk/third-party.sh in the unpacked source; its hash is part of the cache key.
# shellcheck shell=sh
# shellcheck disable=SC2034 # read by mk/third-party.sh
TP_SOURCE=systemd
tp_build() {
	off=
	for o in gcrypt openssl gnutls p11kit libcurl libidn2 libidn libiptc pcre2 glib dbus \
		blkid kmod pam acl audit selinux apparmor seccomp tpm2 libcryptsetup \
		libcryptsetup-plugins libfido2 qrencode microhttpd elfutils zlib bzip2 xkbcommon \
		pwquality fdisk polkit gnu-efi bpf-framework homed remote importd repart sysupdate \
		nss-mymachines nss-resolve dns-over-tls log-message-verification man html \
		translations smack ima utmp; do
		off="$off -D$o=false"
	done
	cross=
	if [ -n "$TP_HOST" ]; then
		# a meson cross file for the target (the compiler and binutils of gcc-<triplet>)
		cat >cross.ini <<X
[binaries]
c = '${TP_CROSS_PREFIX}gcc'
ar = '${TP_CROSS_PREFIX}ar'
strip = '${TP_CROSS_PREFIX}strip'
pkgconfig = 'pkg-config'
[host_machine]
system = 'linux'
cpu_family = '$TP_CPU'
cpu = '$TP_CPU'
endian = '$TP_ENDIAN'
X
		cross="--cross-file cross.ini"
	fi
	# meson's python3 must import jinja2 (python3-jinja2 serves /usr/bin/python3)
	# shellcheck disable=SC2086
	CFLAGS="$TP_CFLAGS" PATH=/usr/bin:$PATH meson setup _build $cross -Dmode=release \
		-Dbuildtype=release -Dstatic-libsystemd=pic -Dtests=false -Dxz=true -Dlz4=true \
		-Dzstd=true $off
	PATH=/usr/bin:$PATH ninja -C _build -j"$2" version.h libsystemd.a
	mkdir -p "$1/lib" "$1/include/systemd"
	# libsystemd.a exports all of systemd's internal helpers (log_set_max_level, strv_*,
	# hashmap_* ...), which collide with our own names. Link it into one relocatable object and
	# keep only the public sd_* symbols global; --gc-sections still drops what we don't use
	# (systemd compiles with -ffunction-sections). --unique keeps every input section apart:
	# without it, same-named sections of different files (two static io_callback() in sd-bus
	# and sd-netlink, gperf's wordlist) are merged, and a call to one keeps all of them.
	"${TP_CROSS_PREFIX}ld" -r --unique -o _build/libsystemd-all.o --whole-archive _build/libsystemd.a
	"${TP_CROSS_PREFIX}nm" -g --defined-only _build/libsystemd-all.o |
		awk '$3 ~ /^_?sd_/ { print $3 }' >_build/public.syms
	"${TP_CROSS_PREFIX}objcopy" --keep-global-symbols=_build/public.syms \
		_build/libsystemd-all.o _build/libsystemd-public.o
	"${TP_CROSS_PREFIX}ar" rcsD "$1/lib/libsystemd.a" _build/libsystemd-public.o
	cp src/systemd/sd-*.h src/systemd/_sd-common.h "$1/include/systemd/"
}
