#!/bin/bash
# t0608-cgpt-create: `cgpt create`, `cgpt add` on unused slots and moves, and `cgpt boot` give the
# bytes, output and exit status of Debian's cgpt for the same commands (docs/partitions.md §9.2,
# §9.7, §9.8), at 512-byte sectors on image files and 4096-byte sectors on loop devices. Each
# sequence runs on two empty disks, ours and Debian's, and after every command the whole disks
# are compared. Debian's create takes no disk GUID: ours is given the one Debian's made (-g,
# Flatcar's option, which also writes a fresh protective MBR, so LBA 0 is compared from the first
# `boot -p` on); one test compares a create without -g with the GUID and header CRCs masked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cgpt-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "4096-byte sectors need loop devices, and those need root"

EFI=C12A7328-F81F-11D2-BA4B-00A0C93EC93B BIOS=21686148-6449-6E6F-744E-656564454649
DATA=0FC63DAF-8483-4772-8E79-3D69D8477DE4 RESV=C95DC21A-DF0E-4340-8D7B-26CBFA9A03E0
RESIZE=3884DD41-8582-4404-B9A8-E9B84F2DF50E
# G N: a fixed unique GUID for slot N
G() { printf '1D7E3C56-%04X-4C0B-9F00-%012X' "$1" "$1"; }
head -c 300 /dev/urandom >"$T/short.bin"
head -c 2000 /dev/urandom >"$T/long.bin"

# pair SS SIZE: two empty disks of SIZE with SS-byte sectors: $O (ours) and $D (Debian's)
pair() {
	rm -f "$T/o.img" "$T/d.img" && truncate -s "$2" "$T/o.img" "$T/d.img" || return 1
	if [ "$1" = 512 ]; then
		O=$T/o.img D=$T/d.img
	else
		O=$(losetup --find --show --sector-size 4096 "$T/o.img") && cleanup_loop "$O" &&
			D=$(losetup --find --show --sector-size 4096 "$T/d.img") && cleanup_loop "$D" ||
			return 1
	fi &&
	MBR_SAME=0
}
# detach: let go of the loop devices of the last pair
detach() {
	if [ "$O" != "$T/o.img" ]; then losetup -d "$O" "$D" || return 1; fi
}
# compare: both disks byte for byte (from LBA 0's end until a boot -p wrote both MBRs)
compare() {
	if [ "$MBR_SAME" = 1 ]; then
		cmp "$O" "$D" || return 1
	else
		cmp -i 512 "$O" "$D" || return 1
	fi
}
# both WANT ARGS...: `cgpt ARGS DISK` on both disks: exit status WANT from each, the same stdout,
# the same bytes afterwards
both() {
	local want=$1 ro rd &&
	shift &&
	ours "$@" "$O" >"$T/oo" 2>"$T/oe"
	ro=$? &&
	$DEB "$@" "$D" >"$T/do" 2>"$T/de"
	rd=$? &&
	if [ "$ro" != "$want" ] || [ "$rd" != "$want" ]; then
		echo "cgpt $*: exit $ro, Debian's cgpt $rd, expected $want" >&2
		cat "$T/oe" "$T/de" >&2
		return 1
	fi &&
	test_cmp "$T/do" "$T/oo" &&
	if [ "$1" = boot ] && [ "$ro" = 0 ]; then
		for x; do [ "$x" != -p ] || MBR_SAME=1 || return 1; done
	fi &&
	compare || { echo "cgpt $*: the disks differ" >&2; return 1; }
}
run() { both 0 "$@"; }
refuse() { both 1 "$@"; }
# create [OPTIONS]: Debian's create, then ours with the disk GUID Debian's made
create() {
	local guid &&
	$DEB create "$@" "$D" 2>/dev/null || return 1
	guid=$($DEB show -v "$D" | sed -n 's/^ *Disk UUID: //p' | head -n 1) &&
	[ -n "$guid" ] || return 1
	ours create "$@" -g "$guid" "$O" || return 1
	MBR_SAME=0 && # Flatcar's create (-g) writes a fresh protective MBR, Debian's leaves LBA 0
	compare || { echo "create $*: the disks differ" >&2; return 1; }
}
# clean: the final table passes sgdisk -v and Debian's cgpt show on both disks
clean() {
	sgdisk_ok "$O" && sgdisk_ok "$D" && $DEB show "$O" >/dev/null && $DEB show "$D" >/dev/null
}

# The sequences; sizes in sectors scale with the sector size (a = 256 KiB, set by each test).
seq_empty() {
	create && run boot -p && clean
}
# shellcheck disable=SC2154 # a is set by each test
seq_padding() {
	create -p 16 && run boot -p && run add -i 1 -b $((a * 2)) -s $a -t data -u "$(G 1)" &&
		clean
}
# Flatcar's base layout as build_library/disk_util adds it, compact sizes, then USR-A marked
seq_builder() {
	create && run add -i 1 -b $a -s $((8 * a)) -t $EFI -l EFI-SYSTEM -u "$(G 1)" &&
		run add -i 2 -b $((9 * a)) -s $a -t $BIOS -l BIOS-BOOT -u "$(G 2)" &&
		run add -i 3 -b $((10 * a)) -s $((16 * a)) -t "$USR" -l USR-A \
			-u 7130C94A-213A-4E5A-8E26-6CCE9662F132 &&
		run add -i 4 -b $((26 * a)) -s $((16 * a)) -t "$USR" -l USR-B \
			-u E03DD35C-7C2D-4A47-B3FE-27F15780A57C &&
		run add -i 6 -b $((42 * a)) -s $((8 * a)) -t data -l OEM -u "$(G 6)" &&
		run add -i 7 -b $((50 * a)) -s $((4 * a)) -t $RESV -l OEM-CONFIG -u "$(G 7)" &&
		run add -i 9 -b $((54 * a)) -s $((8 * a)) -t $RESIZE -l ROOT -u "$(G 9)" &&
		run add -i 3 -S1 -P 1 && run boot -p && clean
}
# the updater's states on it, the legacy bit, a SYSLINUX boot GUID and boot code
seq_attrs() {
	seq_builder && run add -i 4 -S 0 -T 1 -P 2 && run add -i 3 -P 1 -T 0 -S 1 &&
		run add -i 1 -B 1 && run add -i 9 -R 1 && run boot -i 3 && run boot &&
		run boot -b "$T/short.bin" && run boot -p -b "$T/long.bin" -i 4 && clean
}
# add without -i (the next unused slot), labels of every length, moves and resizes
seq_edit() {
	create && run boot -p && run add -b $a -s $a -t data -u "$(G 1)" &&
		run add -b $((3 * a)) -s $a -t efi -l "$(printf 'L%.0s' $(seq 35))" -u "$(G 2)" &&
		run add -b $((5 * a)) -s 1 -t $BIOS -l "é-ünïcödé" -u "$(G 3)" &&
		run add -i 1 -b $((2 * a)) -s $a && run add -i 2 -s $((2 * a)) &&
		run add -i 3 -b $((7 * a)) -s $((3 * a)) -l moved-partition && run add -i 20 -b $((12 * a)) \
		-s $a -t data -u "$(G 20)" -S 1 -T 5 -P 9 && clean
}
# what both refuse: exit 1, nothing written
seq_refused() {
	create && run boot -p && run add -i 1 -b $a -s $((4 * a)) -t data -u "$(G 1)" &&
		refuse add -i 2 -b $((2 * a)) -s $a -t data -u "$(G 2)" &&
		refuse add -i 2 -b $((8 * a)) -s $a -t data -u "$(G 1)" &&
		refuse add -i 2 -b 1 -s $a -t data -u "$(G 2)" &&
		refuse add -i 2 -b $((8 * a)) -s 0 -t data -u "$(G 2)" &&
		refuse add -i 2 -b $((8 * a)) -s 999999999 -t data -u "$(G 2)" &&
		refuse add -i 2 -b $((8 * a)) -t data && refuse add -i 2 -s $a -t data &&
		refuse add -i 129 -b $((8 * a)) -s $a -t data && refuse add -i 1 -b $((60 * a)) &&
		refuse boot -i 129 && clean
}
# create over a table (an empty one replaces it), -z zeroes both headers
seq_recreate() {
	seq_builder && create && run add -i 1 -b $a -s $a -t data -u "$(G 1)" && create -p 3 &&
		run boot -p && run create -z && run create -z &&
		! $DEB show "$D" >/dev/null 2>&1 && ! ours show "$O" >/dev/null 2>&1
}

SEQS="empty padding builder attrs edit refused recreate"
for ss in 512 4096; do
	for s in $SEQS; do
		test_expect "$s at $ss-byte sectors: same bytes, output and exit status as Debian's cgpt" '
			pair '$ss' 16M && a=$((256 * 1024 / '$ss')) && seq_'$s' && detach
		'
	done
done
echo "# $(echo $SEQS | wc -w) sequences x 2 sector sizes compared with Debian's cgpt"

test_expect 'create without -g: a random disk GUID, else the bytes of Debian create' '
	pair 512 8M &&
	$DEB create "$D" 2>/dev/null && ours create "$O" &&
	cmp -n 512 "$O" "$D" &&
	/usr/bin/python3 - "$O" "$D" <<-PY &&
	import sys
	a, b = (bytearray(open(p, "rb").read()) for p in sys.argv[1:3])
	for h in (512, len(a) - 512):          # both headers: mask the header CRC and the disk GUID
	    for img in (a, b):
	        img[h + 16:h + 20] = bytes(4)
	        img[h + 56:h + 72] = bytes(16)
	    assert a[h + 56:h + 72] == b[h + 56:h + 72]
	assert a == b, "differs outside the disk GUID and header CRCs"
	PY
	test "$(ours show -v "$O" | grep -c "Disk UUID: ")" = 2 &&
	test "$(ours show -v "$O" | sed -n "s/^ *Disk UUID: //p" | sort -u | wc -l)" = 1 &&
	$DEB show "$O" >/dev/null && sgdisk_ok "$O"
'

test_expect 'Flatcar create -c -s -g makes the file, its GPT and a fresh protective MBR' '
	ours create -c -s 131072 -g 00000000-0000-0000-0000-000000000001 "$T/new.img" &&
	test "$(stat -c %s "$T/new.img")" = $((131072 * 512)) &&
	test "$(ours show -v "$T/new.img" | sed -n "s/^ *Disk UUID: //p" | sort -u)" = \
		00000000-0000-0000-0000-000000000001 &&
	ours show "$T/new.img" | grep -q "^ \{11\}0 \{11\}1 \{10\}Protective MBR$" &&
	printf "\0\0\2\0\356\377\377\377\1\0\0\0\377\377\1\0" >"$T/rec" &&
	cmp -i 446:0 -n 16 "$T/new.img" "$T/rec" &&
	test "$(od -An -tx1 -j 510 -N 2 "$T/new.img" | tr -d " ")" = 55aa &&
	test "$(od -An -v -tx1 -N 446 "$T/new.img" | tr -d " \n" | tr -d 0)" = "" &&
	sgdisk_ok "$T/new.img" &&
	ours create -s 262144 "$T/new.img" && test "$(stat -c %s "$T/new.img")" = $((262144 * 512)) &&
	sgdisk_ok "$T/new.img"
'

test_expect 'create refuses what it cannot lay out: exit 1, nothing written' '
	truncate -s 20480 "$T/tiny.img" && cp "$T/tiny.img" "$T/tiny0.img" &&
	test_exit 1 ours create "$T/tiny.img" 2>"$T/e" &&
	test_grep "^cgpt create: .*too small for a GPT" "$T/e" && cmp "$T/tiny.img" "$T/tiny0.img" &&
	truncate -s 1000 "$T/odd.img" && test_exit 1 ours create "$T/odd.img" 2>"$T/e" &&
	test_grep "not a multiple of 512" "$T/e" &&
	test_exit 1 ours create "$T/missing.img" 2>"$T/e" && test_grep "no such file" "$T/e" &&
	test ! -e "$T/missing.img" &&
	test_exit 1 ours create -c "$T/missing.img" 2>"$T/e" && test_grep "(-s) is required" "$T/e" &&
	test_exit 1 ours create -p x "$T/tiny.img" 2>"$T/e" && test_grep "invalid argument to -p" "$T/e" &&
	test_exit 1 ours create -g nope "$T/tiny.img" 2>"$T/e" && test_grep "invalid argument to -g" "$T/e" &&
	test_exit 1 ours create -D 100 "$T/tiny.img" 2>"$T/e" && test_grep "not supported" "$T/e" &&
	test_exit 1 ours create -q "$T/tiny.img" 2>"$T/e" && test_grep "unknown option" "$T/e" &&
	test_exit 1 ours create 2>"$T/e" && test_grep "missing drive argument" "$T/e" &&
	cmp "$T/tiny.img" "$T/tiny0.img"
'

test_expect 'boot refuses a missing boot file, -H without a legacy-bootable partition' '
	"$MKDISK" -q --layout compact "$T/b.img" && cp "$T/b.img" "$T/b0.img" &&
	test_exit 1 ours boot -p -b "$T/nothing" "$T/b.img" 2>"$T/e" && test_grep "nothing" "$T/e" &&
	: >"$T/empty.bin" && test_exit 1 ours boot -b "$T/empty.bin" "$T/b.img" 2>"$T/e" &&
	test_exit 1 ours boot -p -H "$T/b.img" 2>"$T/e" && test_grep "legacy BIOS bootable" "$T/e" &&
	test_exit 1 ours boot -H "$T/b.img" 2>"$T/e" && test_grep "goes with -p" "$T/e" &&
	cmp "$T/b.img" "$T/b0.img"
'

test_expect 'boot -p -H: the hybrid MBR of older Flatcar installs' '
	"$MKDISK" -q --layout compact "$T/h.img" && ours add -i 1 -B 1 "$T/h.img" &&
	ours boot -p -H "$T/h.img" >/dev/null &&
	ours show "$T/h.img" | grep -q "^ \{11\}0 \{11\}1 \{10\}Hybrid MBR$" &&
	sgdisk -O "$T/h.img" >"$T/o" 2>&1 &&
	grep -q "^ *1 *\* *4096 *36863 *primary *0x0C$" "$T/o" &&
	grep -q "^ *2 *1 *4095 *primary *0xEE$" "$T/o" && sgdisk_ok "$T/h.img"
'

test_done
