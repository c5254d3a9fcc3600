#!/bin/bash
# t0602-cgpt-add: `cgpt add` through the cgpt link gives the same bytes as Debian's cgpt for each
# flag, and refuses what docs/partitions.md 9.2 refuses without writing anything.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"

"$MKDISK" -q --layout compact "$T/fresh.img"
"$MKDISK" -q --layout compact --state updated --hybrid-mbr "$T/hybrid.img"

# same IMAGE DEB-ARGS -- OUR-ARGS: run both on copies of IMAGE, expect exit 0 and equal bytes.
same() {
	img=$1 && shift &&
	deb=() our=() &&
	while [ "$1" != -- ]; do deb+=("$1") && shift || return 1; done &&
	shift &&
	our=("$@") &&
	[ ${#our[@]} -gt 0 ] || our=("${deb[@]}") &&
	cp "$T/$img.img" "$T/deb.img" &&
	cp "$T/$img.img" "$T/our.img" &&
	$DEB add "${deb[@]}" "$T/deb.img" &&
	ours add "${our[@]}" "$T/our.img" &&
	cmp "$T/deb.img" "$T/our.img" &&
	sgdisk_ok "$T/our.img"
}

test_expect 'add -P, -T, -S each give the bytes Debian cgpt gives' '
	for img in fresh hybrid; do
		same $img -i 4 -P 5 -- &&
		same $img -i 4 -P 15 -- &&
		same $img -i 3 -P 0 -- &&
		same $img -i 4 -T 1 -- &&
		same $img -i 4 -T 15 -- &&
		same $img -i 4 -S 1 -- &&
		same $img -i 3 -S 0 -- &&
		same $img -i 4 -S 0 -T 1 -P 2 -- || return 1
	done
'

test_expect 'add -B and -R give the bytes Debian cgpt gives' '
	same fresh -i 1 -B 1 -- &&
	same hybrid -i 1 -B 0 -- &&
	same fresh -i 6 -R 1 -- &&
	same fresh -i 3 -B 1 -R 1 --
'

test_expect 'add -A sets the whole word (Debian: bits 48-63)' '
	same fresh -i 4 -A 0x123 -- -i 4 -A 0x0123000000000000 &&
	same hybrid -i 1 -A 0x1 -- -i 1 -A 0x0001000000000004 &&
	cp "$T/fresh.img" "$T/our.img" &&
	ours add -i 6 -A 0x8000000000000001 "$T/our.img" &&
	test "$(ours show -i 6 -A "$T/our.img")" = 0x8000000000000001 &&
	sgdisk -i 6 "$T/our.img" >"$T/s" &&
	test_grep "^Attribute flags: 8000000000000001$" "$T/s"
'

test_expect 'add -l, -t, -u give the bytes Debian cgpt gives' '
	same fresh -i 4 -l USR-X -- &&
	same fresh -i 4 -l "$(printf "y%.0s" $(seq 35))" -- &&
	same fresh -i 6 -l "Ünïcødé €" -- &&
	same fresh -i 4 -t efi -- &&
	same fresh -i 4 -t data -- &&
	same fresh -i 4 -t kernel -- &&
	same fresh -i 6 -t 5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6 -- &&
	same fresh -i 6 -t 5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 -- &&
	same fresh -i 6 -t 5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6 -- -i 6 -t flatcar-usr &&
	same fresh -i 6 -t 5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6 -- -i 6 -t coreos-rootfs &&
	same fresh -i 6 -t 3884DD41-8582-4404-B9A8-E9B84F2DF50E -- -i 6 -t flatcar-resize &&
	same fresh -i 6 -t C95DC21A-DF0E-4340-8D7B-26CBFA9A03E0 -- -i 6 -t coreos-reserved &&
	same fresh -i 6 -t BE9067B9-EA49-4F15-B4F6-F36F8C9E1818 -- -i 6 -t flatcar-root-raid &&
	same fresh -i 6 -t 21686148-6449-6E6F-744E-656564454649 -- -i 6 -t bios &&
	same fresh -i 1 -t data -- -i 1 -t linux-data &&
	same fresh -i 4 -u 01234567-89AB-CDEF-0123-456789ABCDEF -- &&
	same fresh -i 4 -u 01234567-89ab-cdef-0123-456789abcdef -- &&
	same fresh -i 4 -P 3 -T 2 -S 0 -l NEWER -u 11111111-2222-3333-4444-555555555555 --
'

# Debian's cgpt keeps 35 units and leaves old bytes after the terminator; we store up to 36
# units and zero the rest of the name field (docs/partitions.md 5.3, 9.2).
name_field() { dd if="$1" bs=1 skip=$((1024 + ($2 - 1) * 128 + 56)) count=72 status=none | od -An -v -tx1 | tr -d " \n"; }
test_expect 'add -l stores 36 units, zero-pads, and an empty label clears the field' '
	cp "$T/fresh.img" "$T/our.img" &&
	ours add -i 4 -l "$(printf "y%.0s" $(seq 36))" "$T/our.img" &&
	test "$(ours show -i 4 -l "$T/our.img")" = "$(printf "y%.0s" $(seq 36))" &&
	test "$(name_field "$T/our.img" 4)" = "$(printf "7900%.0s" $(seq 36))" &&
	ours add -i 7 -l "" "$T/our.img" &&
	test "$($DEB show -i 7 -l "$T/our.img")" = "" &&
	test "$(name_field "$T/our.img" 7)" = "$(printf "0000%.0s" $(seq 36))" &&
	ours add -i 9 -l R "$T/our.img" &&
	test "$($DEB show -i 9 -l "$T/our.img")" = R &&
	sgdisk_ok "$T/our.img"
'

test_expect 'add -t flatcar-usr then show -t gives the USR GUID' '
	cp "$T/fresh.img" "$T/our.img" &&
	ours add -i 6 -t coreos-usr "$T/our.img" &&
	test "$($DEB show -i 6 -t "$T/our.img")" = 5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6
'

# refused ARGS...: exit 1, one "cgpt add: " line, the image not changed.
refused() {
	cp "$T/fresh.img" "$T/our.img" &&
	test_exit 1 ours add "$@" "$T/our.img" 2>"$T/e" &&
	test_grep "^cgpt add: " "$T/e" &&
	cmp "$T/fresh.img" "$T/our.img"
}
test_expect 'add refuses out-of-range values, unchanged image' '
	refused -i 4 -P 16 &&
	refused -i 4 -T 16 &&
	refused -i 4 -S 2 &&
	refused -i 4 -B 2 &&
	refused -i 4 -R 2 &&
	refused -i 4 -P -1 &&
	refused -i 4 -P abc &&
	refused -i 4 -A zz
'

test_expect 'add refuses bad labels, types and GUIDs, unchanged image' '
	refused -i 4 -l "$(printf "x%.0s" $(seq 37))" &&
	refused -i 4 -t bogus &&
	refused -i 4 -t unused &&
	refused -i 4 -u zz &&
	refused -i 4 -u 7130C94A-213A-4E5A-8E26-6CCE9662F13 &&
	refused -i 4 -u 7130C94A-213A-4E5A-8E26-6CCE9662F132 &&
	refused -i 4 -u 7130c94a-213a-4e5a-8e26-6cce9662f132
'

test_expect 'add refuses overlaps, bounds, a new slot without -b -s -t; unchanged image' '
	refused -i 4 -b 5000 &&
	test_grep "would overlap partition 1 " "$T/e" &&
	refused -i 4 -s 100000 &&
	test_grep "would overlap partition 6 " "$T/e" &&
	refused -i 5 -P 1 &&
	test_grep "required for new partitions" "$T/e" &&
	refused -i 5 -t data -b 253952 -s 9000 &&
	test_grep "outside the usable area" "$T/e" &&
	refused -P 1 &&
	refused -i 0 -P 1 &&
	refused -i 129 -P 1
'

test_expect 'add with nothing to change does not open for writing' '
	cp "$T/fresh.img" "$T/our.img" &&
	if [ "$(id -u)" = 0 ]; then
		dev=$(losetup --find --show --read-only "$T/our.img") &&
		cleanup_loop "$dev"
	else
		chmod 0444 "$T/our.img" &&
		dev=$T/our.img
	fi &&
	ours add -i 3 -P 1 -S 1 "$dev" &&
	ours add -i 3 "$dev" &&
	cmp "$T/fresh.img" "$T/our.img"
'

test_expect 'add on a read-only image fails with exit 1, unchanged' '
	cp "$T/fresh.img" "$T/ro.img" &&
	chmod 0444 "$T/ro.img" &&
	if [ "$(id -u)" = 0 ]; then
		# root ignores file modes; a read-only bind mount is not needed, a loop device is
		dev=$(losetup --find --show --read-only "$T/ro.img") &&
		cleanup_loop "$dev" &&
		test_exit 1 ours add -i 4 -P 3 "$dev" 2>"$T/e"
	else
		test_exit 1 ours add -i 4 -P 3 "$T/ro.img" 2>"$T/e"
	fi &&
	test_grep "^cgpt add: .*read-only" "$T/e" &&
	cmp "$T/fresh.img" "$T/ro.img"
'

test_expect 'add on a damaged primary repairs and changes (Debian: repair, then add)' '
	cp "$T/fresh.img" "$T/deb.img" &&
	printf "\377" | dd of="$T/deb.img" bs=1 seek=$((512 + 16)) conv=notrunc status=none &&
	cp "$T/deb.img" "$T/our.img" &&
	$DEB repair "$T/deb.img" >/dev/null 2>&1 &&
	$DEB add -i 4 -P 2 -T 1 "$T/deb.img" &&
	ours add -i 4 -P 2 -T 1 "$T/our.img" &&
	cmp "$T/deb.img" "$T/our.img" &&
	sgdisk_ok "$T/our.img"
'

test_expect 'add on a file without a GPT fails with exit 1' '
	truncate -s 1M "$T/zero.img" &&
	test_exit 1 ours add -i 1 -P 1 "$T/zero.img" 2>"$T/e" &&
	test_grep "^cgpt add: " "$T/e" &&
	cmp "$T/zero.img" <(head -c 1M /dev/zero)
'

test_done
