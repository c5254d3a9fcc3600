#!/bin/sh
# mk/third-party.sh - build openssl, curl, libxml2 and libsystemd from Debian source packages
# into a cache outside the checkout and link build/third_party/ARCH/<name> to it
# (docs/build.md 3 and 4).
#
# Cache key per library: PKG_VERSION (the .dsc name, epoch dropped) from apt's lists, the Debian
# architecture, and a short hash of its recipe mk/third-party/<name>.sh (which holds the flags)
# plus the keys of the libraries it is built against (curl: openssl). A security update, a flag
# change or a new openssl rebuilds exactly what changed. A build runs in a temporary directory
# beside the final one; the stamp is written last, then the directory is renamed into place, so a
# killed build is never taken as done.
#
# The newest source version apt knows is used. When the archive no longer (or not yet) serves
# it, the next older one is taken with a warning, and that version is not tried again for a day.
#
# TP_ARCH=arm64 (any Debian architecture) cross-builds with gcc-<triplet> and the :ARCH -dev
# packages (make deps-arm64); the recipes see TP_HOST, TP_CROSS_PREFIX, TP_CPU and TP_ENDIAN.
#
# Usage: mk/third-party.sh BUILD_DIR [NAME...]   (env: THIRD_PARTY_CACHE, JOBS, TP_ARCH)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: mk/third-party.sh BUILD_DIR [NAME...]}
shift
names=${*:-openssl curl libxml2 libsystemd libarchive}  # make passes $(TP_NAMES) of mk/static.mk
cache=${THIRD_PARTY_CACHE:-/var/cache/flatctl/third-party}
jobs=${JOBS:-$(nproc)}
native=$(dpkg --print-architecture)
TP_ARCH=${TP_ARCH:-$native}
TP_HOST=
TP_CROSS_PREFIX=
if [ "$TP_ARCH" != "$native" ]; then
	qa() { dpkg-architecture -a"$TP_ARCH" -q"$1" 2>/dev/null; }
	TP_HOST=$(qa DEB_HOST_GNU_TYPE)
	TP_CROSS_PREFIX=$TP_HOST-
	TP_CPU=$(qa DEB_HOST_GNU_CPU)
	TP_ENDIAN=$(qa DEB_HOST_ARCH_ENDIAN)
	command -v "${TP_CROSS_PREFIX}gcc" >/dev/null ||
		{ echo "third-party: ${TP_CROSS_PREFIX}gcc missing (make deps-$TP_ARCH)" >&2; exit 1; }
	# pkg-config sees the target's .pc files only
	PKG_CONFIG_LIBDIR=/usr/lib/$TP_HOST/pkgconfig:/usr/share/pkgconfig
	export PKG_CONFIG_LIBDIR TP_CPU TP_ENDIAN
	unset PKG_CONFIG_PATH
fi
export TP_ARCH TP_HOST TP_CROSS_PREFIX
mkdir -p "$cache" "$build/third_party/$TP_ARCH"
# leftovers of builds killed a day ago or more (a running build's temp dir is younger), and
# day-old "not downloadable" marks
find "$cache" -mindepth 1 -maxdepth 1 \( -name '.tmp-*' -o -name '.unavailable-*' \) -mmin +1440 \
	-exec rm -rf {} + 2>/dev/null || true
build=$(cd "$build" && pwd)

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

recipe_load() { # NAME: sets TP_SOURCE, TP_DEPENDS, tp_build
	recipe=$here/third-party/$1.sh
	[ -f "$recipe" ] || { echo "third-party: no recipe $recipe" >&2; exit 1; }
	TP_SOURCE=
	TP_DEPENDS=
	# shellcheck source=/dev/null
	. "$recipe"
}

# one apt query for all source packages (apt loads its lists once: most of a warm run's time):
# "PKG VERSION" lines, newest first per package
sources=
for name in $names; do
	recipe_load "$name"
	sources="$sources $TP_SOURCE"
done
# shellcheck disable=SC2086
versions=$(apt-cache showsrc $sources 2>/dev/null | awk '
	/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' | sort -u)
newest_first() { # PKG: its versions, newest first
	printf '%s\n' "$versions" | awk -v p="$1" '$1 == p { print $2 }' | while read -r v; do
		n=0
		for w in $(printf '%s\n' "$versions" | awk -v p="$1" '$1 == p { print $2 }'); do
			dpkg --compare-versions "$w" gt "$v" && n=$((n + 1))
		done
		echo "$n $v"
	done | sort -n | cut -d' ' -f2
}

keys=
for name in $names; do
	recipe_load "$name"
	hash_in=$(cat "$recipe")
	for dep in $TP_DEPENDS; do
		depkey=$(printf '%s\n' "$keys" | awk -v n="$dep" '$1 == n { print $2 }')
		[ -n "$depkey" ] || { echo "third-party: $name needs $dep first" >&2; exit 1; }
		hash_in="$hash_in
$depkey"
		eval "TP_DEP_$dep=\$cache/\$depkey"
		export "TP_DEP_$dep"
	done
	hash=$(printf '%s\n' "$hash_in" | sha256sum | cut -c1-8)
	cand=$(newest_first "$TP_SOURCE")
	if [ -z "$cand" ]; then
		echo "third-party: 'apt-cache showsrc $TP_SOURCE' found no source (run make deps)" >&2
		exit 1
	fi
	key=
	for v in $cand; do
		k=${TP_SOURCE}_${v#*:}-$TP_ARCH-$hash
		if [ -f "$cache/$k/.stamp" ]; then
			key=$k
			echo "third-party: $name: cached ($k)"
			break
		fi
		[ ! -e "$cache/.unavailable-${TP_SOURCE}_${v#*:}" ] || continue
		echo "third-party: $name: building $k"
		start=$(date +%s)
		tmp=$(mktemp -d "$cache/.tmp-$k.XXXXXX")
		mkdir "$tmp/src" "$tmp/prefix"
		if ! (cd "$tmp/src" && apt-get source -qq "$TP_SOURCE=$v" >"$tmp/apt-source.log" 2>&1); then
			echo "third-party: warning: cannot download source $TP_SOURCE $v, trying an older one:" >&2
			grep -m2 -e '^E:' "$tmp/apt-source.log" >&2 || true
			: >"$cache/.unavailable-${TP_SOURCE}_${v#*:}"
			rm -rf "$tmp"
			tmp=
			continue
		fi
		srcdir=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
		# sections per function and object, so that --gc-sections drops what is never called;
		# no build path in the objects (reproducible archives)
		TP_CFLAGS="-O2 -ffunction-sections -fdata-sections -ffile-prefix-map=$srcdir=."
		export TP_CFLAGS
		(cd "$srcdir" && tp_build "$tmp/prefix" "$jobs") >"$tmp/build.log" 2>&1 || {
			tail -n 60 "$tmp/build.log" >&2
			echo "third-party: $name: build failed (log above)" >&2
			exit 1
		}
		rm -rf "$tmp/src" "$tmp/build.log" "$tmp/apt-source.log"
		# keep only lib/ (archives) and include/
		find "$tmp/prefix" -mindepth 1 -maxdepth 1 ! -name lib ! -name include -exec rm -rf {} +
		find "$tmp/prefix/lib" -mindepth 1 ! -name '*.a' ! -type d -exec rm -f {} +
		find "$tmp/prefix/lib" -mindepth 1 -type d -empty -delete
		printf '%s\n' "$k" >"$tmp/prefix/.stamp"
		if ! mv -T "$tmp/prefix" "$cache/$k" 2>/dev/null; then
			[ -f "$cache/$k/.stamp" ] || { echo "third-party: cannot install $cache/$k" >&2; exit 1; }
		fi
		rm -rf "$tmp"
		tmp=
		key=$k
		echo "third-party: $name: built in $(($(date +%s) - start)) s"
		break
	done
	[ -n "$key" ] || { echo "third-party: $name: no source version could be downloaded" >&2; exit 1; }
	keys="$keys
$name $key"
	ln -sfn "$cache/$key" "$build/third_party/$TP_ARCH/$name"
done
