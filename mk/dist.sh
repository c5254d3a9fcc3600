#!/bin/sh
# mk/dist.sh - pack one architecture's release artifacts from a `make install` tree
# (docs/build.md 11): flatctl-VERSION-ARCH.tar.gz and the systemd-sysext image
# flatctl-VERSION-ARCH.raw (squashfs). Byte-reproducible: every file, directory and link gets
# SOURCE_DATE_EPOCH as its time and root as its owner, entries are sorted, gzip stores no name
# or time, mksquashfs runs with fixed times and without xattrs.
#
# Usage: mk/dist.sh STAGE OUT_DIR VERSION ARCH   (STAGE: the DESTDIR of install-files, PREFIX=/usr;
#        ARCH: systemd's name, x86-64 or arm64; env SOURCE_DATE_EPOCH, README)
set -eu
stage=${1:?usage: mk/dist.sh STAGE OUT_DIR VERSION ARCH}
out=${2:?}
version=${3:?}
arch=${4:?}
sde=${SOURCE_DATE_EPOCH:?SOURCE_DATE_EPOCH must be set}
readme=${README:-README.md}
name=flatctl-$version-$arch
[ -x "$stage/usr/bin/flatctl" ] || { echo "dist: $stage/usr/bin/flatctl missing" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/flatctl-dist.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
umask 022

# normalize TREE: permissions without group/other write, one time for everything
normalize() {
	chmod -R u+rw,go-w,a+rX "$1"
	find "$1" -exec touch -h -d "@$sde" {} +
}

# --- tarball: flatctl-VERSION-ARCH/{usr/...,README.md} --------------------------------------
mkdir "$tmp/$name"
cp -a "$stage/usr" "$tmp/$name/"
cp "$readme" "$tmp/$name/README.md"
normalize "$tmp/$name"
tar --sort=name --format=gnu --owner=0 --group=0 --numeric-owner --mtime="@$sde" \
	-C "$tmp" -cf - "$name" | gzip -9n >"$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"

# --- systemd-sysext image: /usr only, plus the extension-release file -----------------------
# ID=flatcar and SYSEXT_LEVEL=1.0 match Flatcar's os-release; ARCHITECTURE= uses systemd's names.
mkdir -p "$tmp/sysext"
cp -a "$stage/usr" "$tmp/sysext/"
mkdir -p "$tmp/sysext/usr/lib/extension-release.d"
printf 'ID=flatcar\nSYSEXT_LEVEL=1.0\nARCHITECTURE=%s\n' "$arch" \
	>"$tmp/sysext/usr/lib/extension-release.d/extension-release.flatctl"
normalize "$tmp/sysext"
rm -f "$out/$name.raw.tmp"
# (mksquashfs takes the image and file times from SOURCE_DATE_EPOCH itself)
SOURCE_DATE_EPOCH=$sde mksquashfs "$tmp/sysext" "$out/$name.raw.tmp" -quiet -no-progress \
	-noappend -comp gzip -all-root -no-xattrs >/dev/null
mv "$out/$name.raw.tmp" "$out/$name.raw"
echo "dist: $out/$name.tar.gz $out/$name.raw"
