#!/bin/bash
# t0012-dist: `make dist-pack` (mk/dist.mk, docs/build.md 11) packs the binary under test as
# flatctl-VERSION-ARCH.tar.gz and the systemd-sysext image flatctl-VERSION-ARCH.raw: the tree of
# `make install` (binary, a symlink per link name, man pages), root-owned, dated
# SOURCE_DATE_EPOCH, byte-identical when packed twice; the image mounts read-only with /usr and
# the extension-release file only, and systemd-dissect takes it as a system extension.
. "$(dirname "$0")/lib.sh"
bin=${FLATCTL_BIN:-$FLATCTL}
case $(readelf -h "$bin" | sed -n 's/^ *Machine: *//p') in
*X86-64) arch=amd64 sysext=x86-64 ;;
*AArch64) arch=arm64 sysext=arm64 ;;
*S/390*) arch=s390x sysext=s390x ;;
*) skip_all "no dist for this machine: $(readelf -h "$bin" | grep Machine)" ;;
esac
export SOURCE_DATE_EPOCH=1700000000
pack() { # DIR: dist-pack of the binary under test into DIR
	make -C "$FLATCTL_SRC" --no-print-directory -s dist-pack B="$FLATCTL_BUILD" ARCH=$arch \
		DIST_BIN="$bin" DIST_DIR="$1" >"$T/pack.out" 2>&1 || { cat "$T/pack.out" >&2; return 1; }
}
flatctl --list-links | sort >"$T/links"
ls "$FLATCTL_SRC"/man/*.scd | sed 's|.*/||; s|\.scd$||' | sort >"$T/mans"

test_expect 'dist-pack writes the tarball and the sysext image' '
	pack "$T/d1" &&
	ls "$T/d1" >"$T/files" && test "$(wc -l <"$T/files")" = 2 &&
	tgz=$(ls "$T"/d1/flatctl-*-$sysext.tar.gz) && raw=$(ls "$T"/d1/flatctl-*-$sysext.raw) &&
	test "${tgz%.tar.gz}" = "${raw%.raw}"
'
name=$(basename "$(ls "$T"/d1/flatctl-*.raw 2>/dev/null)" .raw)
test_expect 'the tarball: binary, a symlink per link name, man pages, README; root-owned, one date' '
	tar -tvzf "$T/d1/$name.tar.gz" >"$T/tv" &&
	! grep -v " 0/0 " "$T/tv" && ! grep -v " 2023-11-14 22:13 " "$T/tv" &&
	mkdir "$T/x" && tar -C "$T/x" -xzf "$T/d1/$name.tar.gz" &&
	cmp "$bin" "$T/x/$name/usr/bin/flatctl" &&
	for l in $(cat "$T/links"); do test "$(readlink "$T/x/$name/usr/bin/$l")" = flatctl || exit 1; done &&
	(cd "$T/x/$name/usr/bin" && ls | grep -vx flatctl) >"$T/got-links" &&
	test_cmp "$T/links" "$T/got-links" &&
	ls "$T/x/$name/usr/share/man/man1" >"$T/got-mans" && test_cmp "$T/mans" "$T/got-mans" &&
	cmp "$FLATCTL_SRC/README.md" "$T/x/$name/README.md"
'
test_expect 'packing twice gives the same bytes; another SOURCE_DATE_EPOCH changes them' '
	pack "$T/d2" &&
	cmp "$T/d1/$name.tar.gz" "$T/d2/$name.tar.gz" && cmp "$T/d1/$name.raw" "$T/d2/$name.raw" &&
	SOURCE_DATE_EPOCH=1700000001 pack "$T/d3" &&
	! cmp -s "$T/d1/$name.tar.gz" "$T/d3/$name.tar.gz" && ! cmp -s "$T/d1/$name.raw" "$T/d3/$name.raw"
'
test_expect 'the sysext image mounts read-only: /usr only, binary, links, extension-release' '
	mkdir "$T/mnt" && mount -t squashfs -o loop,ro "$T/d1/$name.raw" "$T/mnt" &&
	ls -A "$T/mnt" >"$T/top" && test "$(cat "$T/top")" = usr &&
	cmp "$bin" "$T/mnt/usr/bin/flatctl" &&
	for l in $(cat "$T/links"); do test "$(readlink "$T/mnt/usr/bin/$l")" = flatctl || exit 1; done &&
	printf "ID=flatcar\nSYSEXT_LEVEL=1.0\nARCHITECTURE=%s\n" $sysext >"$T/want-rel" &&
	test_cmp "$T/want-rel" "$T/mnt/usr/lib/extension-release.d/extension-release.flatctl" &&
	test "$(stat -c %u:%g "$T/mnt/usr/bin/flatctl")" = 0:0 &&
	! touch "$T/mnt/usr/x" 2>/dev/null &&
	umount "$T/mnt"
'
if command -v systemd-dissect >/dev/null; then
	test_expect 'systemd-dissect: a system extension for flatcar (installed as flatctl.raw)' '
		cp "$T/d1/$name.raw" "$T/flatctl.raw" &&
		systemd-dissect --json=short "$T/flatctl.raw" >"$T/dissect" &&
		python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"useSystemExtension\"] is True, d
assert d[\"extensionRelease\"] == [\"ID=flatcar\", \"SYSEXT_LEVEL=1.0\", \"ARCHITECTURE=$sysext\"], d
assert [m[\"fstype\"] for m in d[\"mounts\"]] == [\"squashfs\"], d
" "$T/dissect"
	'
fi
test_done
