#!/bin/bash
# t0610-mkdisk: tools/mkdisk, the disk tool of the tests and the demo, builds every layout and
# state with flatctl's own cgpt link (never sgdisk), and each table passes Debian's cgpt show and
# sgdisk -v with the partitions of docs/partitions.md §1 and the attributes of §3.6. The compact
# images at 512-byte sectors are byte-identical to the fixtures tests/data/gpt/<state>.bin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cgpt-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "4096-byte sectors need loop devices, and those need root"

STATES="fresh updated trying-b booted-b fell-back updated-a"
# P/T/S of USR-A and USR-B per state (docs/partitions.md §3.6)
pts_of() {
	case $1 in
	fresh) echo "101 000" ;; updated) echo "101 210" ;; trying-b) echo "101 200" ;;
	booted-b) echo "101 201" ;; fell-back) echo "201 100" ;; updated-a) echo "210 101" ;;
	esac
}
# slot type label unique-GUID: the same in both layouts
TABLE="1 C12A7328-F81F-11D2-BA4B-00A0C93EC93B EFI-SYSTEM 1D7E3C56-0001-4C0B-9F00-000000000001
2 21686148-6449-6E6F-744E-656564454649 BIOS-BOOT 1D7E3C56-0002-4C0B-9F00-000000000002
3 $USR USR-A 7130C94A-213A-4E5A-8E26-6CCE9662F132
4 $USR USR-B E03DD35C-7C2D-4A47-B3FE-27F15780A57C
6 0FC63DAF-8483-4772-8E79-3D69D8477DE4 OEM 1D7E3C56-0006-4C0B-9F00-000000000006
7 C95DC21A-DF0E-4340-8D7B-26CBFA9A03E0 OEM-CONFIG 1D7E3C56-0007-4C0B-9F00-000000000007
9 3884DD41-8582-4404-B9A8-E9B84F2DF50E ROOT 1D7E3C56-0009-4C0B-9F00-000000000009"
# start/size in 512-byte sectors: the flatcar layout is disk_layout.json's (docs/partitions.md §1)
FLATCAR="4096:2097152 2101248:4096 2105344:4194304 6299648:4194304 10493952:2097152 12591104:131072 12722176:3653632"
COMPACT="4096:32768 36864:4096 40960:65536 106496:65536 172032:32768 204800:16384 221184:32768"

# check DISK SS LAYOUT STATE: Debian's cgpt and sgdisk read it cleanly, with the expected table
check() {
	local disk=$1 ss=$2 layout=$3 state=$4 want got n type label guid i=1 geo &&
	$DEB show "$disk" >/dev/null 2>"$T/err" && [ ! -s "$T/err" ] ||
		{ echo "cgpt show: $(cat "$T/err")" >&2; return 1; }
	sgdisk_ok "$disk" || return 1
	if [ "$layout" = flatcar ]; then geo=$FLATCAR; else geo=$COMPACT; fi &&
	while read -r n type label guid; do
		want=$(echo "$geo" | cut -d" " -f$i) i=$((i + 1)) &&
		want="$((${want%:*} * 512 / ss)):$((${want#*:} * 512 / ss))" &&
		got="$($DEB show -i "$n" -b "$disk"):$($DEB show -i "$n" -s "$disk")" &&
		[ "$got" = "$want" ] || { echo "partition $n at $got, expected $want" >&2; return 1; }
		[ "$($DEB show -i "$n" -t "$disk")" = "$type" ] &&
			[ "$($DEB show -i "$n" -l "$disk")" = "$label" ] &&
			[ "$($DEB show -i "$n" -u "$disk")" = "$guid" ] ||
			{ echo "partition $n: type, label or GUID" >&2; return 1; }
	done <<<"$TABLE" &&
	[ "$($DEB show -q "$disk" | wc -l)" = 7 ] || { echo "not 7 partitions" >&2; return 1; }
	got=$(for n in 3 4; do
		for f in P T S; do printf %s "$($DEB show -i $n -$f "$disk")" || return 1; done &&
		[ $n = 4 ] || printf " " || return 1
	done) &&
	[ "$got" = "$(pts_of "$state")" ] || { echo "$state: P/T/S $got" >&2; return 1; }
}

for layout in compact flatcar; do
	for ss in 512 4096; do
		test_expect "$layout layout, $ss-byte sectors: every state reads cleanly with its attributes" '
			for state in $STATES; do
				rm -f "$T/d.img" && "$MKDISK" -q --layout '$layout' --sector-size '$ss' \
					--state $state "$T/d.img" || return 1
				if [ '$ss' = 512 ]; then disk=$T/d.img; else
					disk=$(losetup --find --show --sector-size 4096 "$T/d.img") || return 1
				fi &&
				{ check "$disk" '$ss' '$layout' $state; rc=$?; } &&
				{ [ "$disk" = "$T/d.img" ] || losetup -d "$disk"; } || return 1
				[ $rc = 0 ] || { echo "state $state" >&2; return 1; }
			done
		'
	done
done

# ends IMG: the first 34 and the last 33 sectors, as the fixtures hold them
ends() {
	dd if="$1" bs=512 count=34 status=none &&
		dd if="$1" bs=512 skip=$(($(stat -c %s "$1") / 512 - 33)) status=none
}
test_expect 'compact images at 512-byte sectors equal the fixtures tests/data/gpt/*.bin' '
	for state in $STATES; do
		"$MKDISK" -q --force --layout compact --state $state "$T/d.img" &&
		ends "$T/d.img" >"$T/ends" && cmp "$T/ends" "$FLATCTL_SRC/tests/data/gpt/$state.bin" ||
			return 1
	done
'

test_expect 'the protective MBR is the one Flatcar'"'"'s cgpt create writes' '
	"$MKDISK" -q --force --layout compact "$T/d.img" &&
	printf "\0\0\2\0\356\377\377\377\1\0\0\0\377\377\3\0\0" >"$T/rec" &&
	cmp -i 446:0 -n 17 "$T/d.img" "$T/rec" &&
	test "$(od -An -v -tx1 -j 463 -N 47 "$T/d.img" | tr -d " \n" | tr -d 0)" = "" &&
	test "$(od -An -tx1 -j 510 -N 2 "$T/d.img" | tr -d " ")" = 55aa &&
	test "$(od -An -v -tx1 -N 446 "$T/d.img" | tr -d " \n" | tr -d 0)" = ""
'

test_expect 'it runs flatctl as cgpt, and never sgdisk' '
	mkdir -p "$T/bin" "$T/fake" "$T/links" && ln -s "$FLATCTL" "$T/links/cgpt" &&
	printf "#!/bin/bash\necho \"\$(basename \"\$0\") \$*\" >>\"%s\"\nexec \"%s/\$(basename \"\$0\")\" \"\$@\"\n" \
		"$T/calls" "$T/links" >"$T/fake/flatctl" && chmod +x "$T/fake/flatctl" &&
	printf "#!/bin/sh\necho sgdisk >>\"%s\"\nexit 1\n" "$T/calls" >"$T/bin/sgdisk" &&
	chmod +x "$T/bin/sgdisk" &&
	PATH=$T/bin:$PATH FLATCTL=$T/fake/flatctl "$MKDISK" -q --force --layout compact --hybrid-mbr \
		"$T/d.img" &&
	test "$(cut -d" " -f1 "$T/calls" | sort -u)" = cgpt &&
	test "$(grep -c "^cgpt create -g 00000000-0000-0000-0000-000000000001 " "$T/calls")" = 1 &&
	test "$(grep -c "^cgpt add -i [0-9] -b " "$T/calls")" = 7 &&
	grep -q "^cgpt boot -p -H " "$T/calls"
'

test_expect '--grow-root, --size, --usr-a/--usr-b, --disk-guid' '
	"$MKDISK" -q --force --layout compact --grow-root --size 192M --usr-a 5:0:1 --usr-b 3:2:0 \
		--disk-guid 12345678-9ABC-DEF0-1234-56789ABCDEF0 "$T/d.img" &&
	test "$(stat -c %s "$T/d.img")" = $((192 * 1024 * 1024)) &&
	test "$($DEB show -i 9 -b "$T/d.img"):$($DEB show -i 9 -s "$T/d.img")" = \
		"221184:$((192 * 2048 - 34 - 221184 + 1))" &&
	test "$($DEB show -i 3 -P "$T/d.img")$($DEB show -i 4 -P "$T/d.img")$($DEB show -i 4 -T "$T/d.img")" = 532 &&
	$DEB show -v "$T/d.img" | grep -q "Disk UUID: 12345678-9ABC-DEF0-1234-56789ABCDEF0" &&
	sgdisk_ok "$T/d.img"
'

test_expect '--random-guids: random unique GUIDs but for USR-A and USR-B' '
	"$MKDISK" -q --force --layout compact --random-guids "$T/r1.img" &&
	"$MKDISK" -q --force --layout compact --random-guids "$T/r2.img" &&
	test "$($DEB show -i 3 -u "$T/r1.img")" = 7130C94A-213A-4E5A-8E26-6CCE9662F132 &&
	test "$($DEB show -i 4 -u "$T/r2.img")" = E03DD35C-7C2D-4A47-B3FE-27F15780A57C &&
	for n in 1 2 6 7 9; do
		a=$($DEB show -i $n -u "$T/r1.img") && b=$($DEB show -i $n -u "$T/r2.img") &&
		[ "$a" != "$b" ] && [ "$a" != 1D7E3C56-000$n-4C0B-9F00-00000000000$n ] || return 1
	done &&
	sgdisk_ok "$T/r1.img" && sgdisk_ok "$T/r2.img"
'

test_expect '--hybrid-mbr: the legacy bit on EFI-SYSTEM and a hybrid MBR, as older installs' '
	"$MKDISK" -q --force --layout compact --hybrid-mbr --state booted-b "$T/h.img" &&
	test "$($DEB show -i 1 -B "$T/h.img")" = 1 &&
	ours show "$T/h.img" | grep -q "^ \{11\}0 \{11\}1 \{10\}Hybrid MBR$" &&
	sgdisk -O "$T/h.img" >"$T/o" 2>&1 && grep -q "^ *1 *\* *4096 *36863 *primary *0x0C$" "$T/o" &&
	sgdisk_ok "$T/h.img" && check "$T/h.img" 512 compact booted-b
'

test_expect 'usage: --help, --dry-run, bad options exit 2 and leave nothing; --force' '
	"$MKDISK" --help >"$T/h" && test_grep "^Usage: mkdisk \[OPTIONS\] PATH" "$T/h" &&
	"$MKDISK" --dry-run --layout compact "$T/dry.img" >"$T/dry" && test ! -e "$T/dry.img" &&
	test_grep "^cgpt create -g " "$T/dry" && test "$(grep -c "^cgpt add " "$T/dry")" = 9 &&
	! grep -q sgdisk "$T/dry" &&
	for bad in "--layout nope" "--state nope" "--usr-a 16:0:0" "--usr-b 1:1" "--sector-size 1024" \
		"--size 12Q" "--size 4M" "--disk-guid xyz" "--bogus" "--layout"; do
		test_exit 2 "$MKDISK" -q $bad "$T/bad.img" 2>"$T/e" && test_grep "^mkdisk: " "$T/e" &&
		test_grep "^Try .mkdisk --help.\.$" "$T/e" && test ! -e "$T/bad.img" || return 1
	done &&
	test_exit 2 "$MKDISK" -q "$T/a" "$T/b" 2>/dev/null && test_exit 2 "$MKDISK" -q 2>/dev/null &&
	"$MKDISK" -q --layout compact "$T/f.img" && test_exit 2 "$MKDISK" -q "$T/f.img" 2>"$T/e" &&
	test_grep "exists" "$T/e" && "$MKDISK" -q --force --layout compact --state updated "$T/f.img" &&
	test "$($DEB show -i 4 -P "$T/f.img")" = 2 &&
	"$MKDISK" --force --layout compact "$T/f.img" >"$T/out" &&
	test "$(cat "$T/out")" = "$T/f.img: compact layout, 134217728 bytes, 512-byte sectors, USR-A 1:0:1, USR-B 0:0:0 (P:T:S)"
'

test_expect 'no flatctl: exit 1, nothing left behind' '
	FLATCTL=$T/nothing test_exit 1 "$MKDISK" -q --layout compact "$T/n.img" 2>"$T/e" &&
	test_grep "flatctl not found" "$T/e" && test ! -e "$T/n.img"
'

test_done
