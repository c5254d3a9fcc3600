#!/bin/bash
# t0606-cgpt-resize: `cgpt resize` through the cgpt link grows ROOT on a grown image
# (docs/partitions.md 8.8, 9.6), checked with sgdisk -v and Debian's cgpt.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"
# every entry but N, as Debian's cgpt shows them
others() { $DEB show -q -n "$1" | grep -v "^ *[0-9]* *[0-9]* *$2  "; }

"$MKDISK" -q --layout compact --state booted-b "$T/orig.img"

test_expect 'resize -i 9 on a grown image: ROOT ends at the last usable LBA' '
	cp "$T/orig.img" "$T/our.img" &&
	truncate -s 256M "$T/our.img" &&
	ours resize -i 9 "$T/our.img" &&
	sgdisk_ok "$T/our.img" &&
	lastusable=$((256 * 2048 - 34)) &&
	start=$($DEB show -i 9 -b "$T/our.img") &&
	test "$start" = 221184 &&
	test "$($DEB show -i 9 -s "$T/our.img")" = $((lastusable - start + 1)) &&
	test "$($DEB show -i 9 -l "$T/our.img")" = ROOT &&
	test "$($DEB show -i 9 -u "$T/our.img")" = "$($DEB show -i 9 -u "$T/orig.img")" &&
	test "$($DEB show -i 9 -A "$T/our.img")" = "$($DEB show -i 9 -A "$T/orig.img")" &&
	test_cmp <(others "$T/orig.img" 9) <(others "$T/our.img" 9) &&
	test_cmp <($DEB show -i 4 -A "$T/orig.img") <($DEB show -i 4 -A "$T/our.img") &&
	$DEB show "$T/our.img" >/dev/null 2>"$T/deb.err" &&
	test ! -s "$T/deb.err"
'

test_expect 'resize on an image that did not grow: ROOT to the last usable LBA' '
	cp "$T/orig.img" "$T/our.img" &&
	ours resize -i 9 "$T/our.img" &&
	sgdisk_ok "$T/our.img" &&
	test "$($DEB show -i 9 -s "$T/our.img")" = $((262110 - 221184 + 1)) &&
	test_cmp <(others "$T/orig.img" 9) <(others "$T/our.img" 9)
'

test_expect 'resize when ROOT already fills the disk: exit 0, nothing written' '
	"$MKDISK" -q --layout compact --grow-root "$T/full.img" &&
	cp "$T/full.img" "$T/our.img" &&
	ours resize -i 9 "$T/our.img" >"$T/out" &&
	test_grep "ROOT already fills the disk" "$T/out" &&
	cmp "$T/full.img" "$T/our.img"
'

test_expect 'resize of a partition followed by another stops before it' '
	"$MKDISK" -q --layout compact --size 192M "$T/gap.img" &&
	sgdisk -d 9 "$T/gap.img" >/dev/null &&
	sgdisk -n 9:245760:+16M -t 9:3884DD41-8582-4404-B9A8-E9B84F2DF50E -c 9:ROOT "$T/gap.img" >/dev/null &&
	cp "$T/gap.img" "$T/our.img" &&
	ours resize -i 7 "$T/our.img" &&
	sgdisk_ok "$T/our.img" &&
	test "$($DEB show -i 7 -s "$T/our.img")" = $((245760 - 204800)) &&
	test_cmp <(others "$T/gap.img" 7) <(others "$T/our.img" 7)
'

test_expect 'resize refuses bad input with exit 1' '
	cp "$T/orig.img" "$T/our.img" &&
	test_exit 1 ours resize "$T/our.img" 2>"$T/e" &&
	test_grep "^cgpt resize: " "$T/e" &&
	test_exit 1 ours resize -i 5 "$T/our.img" 2>"$T/e" &&
	test_exit 1 ours resize -i 0 "$T/our.img" 2>"$T/e" &&
	test_exit 1 ours resize 2>"$T/e" &&
	cmp "$T/orig.img" "$T/our.img"
'

test_done
