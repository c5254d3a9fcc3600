#!/bin/bash
# t0605-cgpt-repair: `cgpt repair` through the cgpt link restores damaged copies byte for byte,
# as Debian's cgpt does, and relocates a grown disk's backup (docs/partitions.md 7.1, 8.5, 9.5).
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"
damage() { printf "$2" | dd of="$1" bs=1 seek="$3" conv=notrunc status=none; }

"$MKDISK" -q --layout compact --state updated "$T/orig.img"
last=$((128 * 2048 - 1))

# Each case: a name, the bytes written and the offset.
CASES="prihdr-crc:\377:$((512 + 16))
prihdr-sig:X:512
prihdr-lba:\005:$((512 + 24))
pritab:\377:$((2 * 512 + 2 * 128 + 56))
pritab-end:\001:$((34 * 512 - 1))
sechdr-crc:\377:$((last * 512 + 16))
sechdr-sig:X:$((last * 512))
sectab:\377:$(((last - 32) * 512 + 3 * 128 + 48))"

test_expect 'repair restores a damaged copy byte for byte, like Debian cgpt' '
	echo "$CASES" | while IFS=: read -r name bytes off; do
		cp "$T/orig.img" "$T/our.img" &&
		damage "$T/our.img" "$bytes" "$off" &&
		cp "$T/our.img" "$T/deb.img" &&
		! cmp -s "$T/orig.img" "$T/our.img" &&
		$DEB repair "$T/deb.img" >/dev/null 2>&1 &&
		cmp "$T/orig.img" "$T/deb.img" &&
		ours repair "$T/our.img" >"$T/out" 2>"$T/err" || { echo "$name failed"; cat "$T/err"; exit 1; }
		cmp "$T/orig.img" "$T/our.img" || { echo "$name differs"; exit 1; }
		sgdisk_ok "$T/our.img" &&
		$DEB show "$T/our.img" >/dev/null 2>"$T/deb.err" &&
		test ! -s "$T/deb.err"
	done
'

test_expect 'repair of a whole lost copy (zeroed) restores it' '
	cp "$T/orig.img" "$T/our.img" &&
	dd if=/dev/zero of="$T/our.img" bs=512 seek=1 count=33 conv=notrunc status=none &&
	ours repair "$T/our.img" &&
	cmp "$T/orig.img" "$T/our.img" &&
	cp "$T/orig.img" "$T/our.img" &&
	dd if=/dev/zero of="$T/our.img" bs=512 seek=$((last - 32)) count=33 conv=notrunc status=none &&
	ours repair "$T/our.img" &&
	cmp "$T/orig.img" "$T/our.img"
'

test_expect 'repair on a consistent GPT writes nothing, exit 0' '
	cp "$T/orig.img" "$T/our.img" &&
	if [ "$(id -u)" = 0 ]; then
		dev=$(losetup --find --show --read-only "$T/our.img") &&
		cleanup_loop "$dev"
	else
		chmod 0444 "$T/our.img" &&
		dev=$T/our.img
	fi &&
	ours repair "$dev" >"$T/out" 2>"$T/err" &&
	test ! -s "$T/err" &&
	cmp "$T/orig.img" "$T/our.img"
'

test_expect 'repair on a grown image moves the backup to the end (sgdisk -v clean)' '
	cp "$T/orig.img" "$T/our.img" &&
	truncate -s 192M "$T/our.img" &&
	cp "$T/our.img" "$T/sg.img" &&
	ours repair "$T/our.img" &&
	sgdisk_ok "$T/our.img" &&
	sgdisk -e "$T/sg.img" >/dev/null &&
	newlast=$((192 * 2048 - 1)) &&
	# the new backup: same as what sgdisk -e writes, the old backup sectors left alone
	cmp <(dd if="$T/our.img" bs=512 skip=$((newlast - 32)) count=33 status=none) \
	    <(dd if="$T/sg.img" bs=512 skip=$((newlast - 32)) count=33 status=none) &&
	cmp <(dd if="$T/our.img" bs=512 skip=1 count=33 status=none) \
	    <(dd if="$T/sg.img" bs=512 skip=1 count=33 status=none) &&
	$DEB show "$T/our.img" >/dev/null 2>"$T/deb.err" &&
	test ! -s "$T/deb.err" &&
	test "$($DEB show -i 4 -P "$T/our.img")" = 2
'

test_expect 'repair fails with exit 1 when no copy is usable, unchanged' '
	cp "$T/orig.img" "$T/our.img" &&
	damage "$T/our.img" "\377" $((512 + 16)) &&
	damage "$T/our.img" "\377" $((last * 512 + 16)) &&
	cp "$T/our.img" "$T/bad.img" &&
	test_exit 1 ours repair "$T/our.img" 2>"$T/e" &&
	test_grep "^cgpt repair: " "$T/e" &&
	cmp "$T/bad.img" "$T/our.img" &&
	truncate -s 1M "$T/zero.img" &&
	test_exit 1 ours repair "$T/zero.img" 2>"$T/e" &&
	test_exit 1 ours repair 2>"$T/e" &&
	test_grep "^cgpt repair: " "$T/e"
'

test_done
