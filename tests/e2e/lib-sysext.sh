# shellcheck shell=bash
# tests/e2e/lib-sysext.sh - helpers for the extension payload tests (t074x, docs/update.md 6.7);
# source after lib.sh and lib-update.sh. Real sysext images (squashfs with an extension-release
# file) packed into signed payloads by `flatctl update pack`, a machine with an OEM and enabled
# extensions, and a read-only mount of a placed image.
command -v mksquashfs >/dev/null || skip_all "mksquashfs missing"
mkdir -p "$T/ext" "$T/mnt"
cleanup_mount "$T/mnt"

# sysext NAME [KEY]: $T/ext/NAME.raw (squashfs) packed into $T/ext/NAME.gz
sysext() {
	rm -rf "$T/tree-$1" && mkdir -p "$T/tree-$1/usr/lib/extension-release.d" "$T/tree-$1/usr/bin" &&
	printf "ID=flatcar\nSYSEXT_LEVEL=1.0\n" >"$T/tree-$1/usr/lib/extension-release.d/extension-release.$1" &&
	echo "$1" >"$T/tree-$1/usr/bin/$1-marker" &&
	mksquashfs "$T/tree-$1" "$T/ext/$1.raw" -noappend -all-root -quiet >/dev/null &&
	flatctl update pack --image "$T/ext/$1.raw" --key "${2:-$T/key.pem}" --out "$T/ext/$1.gz" >/dev/null
}
# release FILE NAME: mount the placed image read-only and print its extension-release
release() {
	mount -t squashfs -o ro,loop "$1" "$T/mnt" || return 1
	cat "$T/mnt/usr/lib/extension-release.d/extension-release.$2"
	local rc=$?
	umount "$T/mnt"
	return $rc
}
# the machine: OEM qemu with its image for the running version, docker enabled, old images
machine() {
	rm -rf "$R/oem" "$R/etc/flatcar/sysext" "$R/etc/flatcar/oem-sysext" "$R/usr/share/flatcar/oems" &&
	mkdir -p "$R/oem/sysext" "$R/etc/flatcar/sysext" "$R/usr/share/flatcar/oems" &&
	printf "ID=qemu\nVERSION_ID=3975.2.1\n" >"$R/oem/oem-release" &&
	touch "$R/usr/share/flatcar/oems/qemu" &&
	echo old >"$R/oem/sysext/oem-qemu-3975.2.1.raw" && echo older >"$R/oem/sysext/oem-qemu-3000.0.0.raw" &&
	printf "# extensions\ndocker # the container runtime\n-podman\n" >"$R/etc/flatcar/enabled-sysext.conf" &&
	printf "podman\n" >"$R/usr/share/flatcar/enabled-sysext.conf" &&
	echo cur >"$R/etc/flatcar/sysext/flatcar-docker-3975.2.1.raw" &&
	echo old >"$R/etc/flatcar/sysext/flatcar-docker-3000.0.0.raw" &&
	echo off >"$R/etc/flatcar/sysext/flatcar-podman-3975.2.1.raw"
}
