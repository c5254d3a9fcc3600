#!/bin/bash
# t0609-cgpt-create-crash: the crash matrix (FLATCTL_TEST_CRASH_AFTER, docs/partitions.md §7.4)
# over the writes that create: `cgpt create` over an existing table (four regions, then LBA 0),
# `cgpt add` of a new partition, `cgpt create -z` (two header regions) and `cgpt boot -p` (LBA 0),
# at 512-byte sectors on image files and 4096-byte sectors on loop devices. After every cut at
# every region and every torn sector count: Debian's cgpt show and sgdisk -p read the disk, they
# and flatctl list the same partitions, which are wholly the old or wholly the new table as §7.2
# says, and after `cgpt repair` sgdisk -v is clean with that same table.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cgpt-lib.sh"
[ "$(id -u)" = 0 ] || skip_all "4096-byte sectors need loop devices, and those need root"

GUID=00000000-0000-0000-0000-0000000000AA
: >"$T/cases" # one line per cut disk checked

# parts DISK: the partitions as "slot:first:size" words, from Debian's cgpt; checks that sgdisk
# and flatctl's cgpt see the same ones. Empty for an empty table; fails when a tool cannot read.
parts() {
	local deb sg our &&
	deb=$($DEB show -q -n "$1" 2>/dev/null | awk '{ printf "%s:%s:%s ", $3, $1, $2 }') &&
		$DEB show "$1" >/dev/null 2>&1 || { echo "Debian's cgpt cannot read $1" >&2; return 1; }
	sgdisk -p "$1" >"$T/sg" 2>&1 || { echo "sgdisk cannot read $1" >&2; cat "$T/sg" >&2; return 1; }
	sg=$(awk '/^Number/ { p = 1; next } p && NF { printf "%s:%s:%s ", $1, $2, $3 - $2 + 1 }' \
		"$T/sg") &&
	our=$(ours show -q -n "$1" 2>/dev/null | awk '{ printf "%s:%s:%s ", $3, $1, $2 }') &&
	if [ "$deb" != "$sg" ] || [ "$deb" != "$our" ]; then
		echo "tools disagree on $1: cgpt '$deb', sgdisk '$sg', flatctl '$our'" >&2
		return 1
	fi &&
	echo "$deb"
}

# restore DISK BASE: put back the first and the last MiB of BASE (every GPT region and LBA 0)
restore() {
	local mib &&
	mib=$(($(blockdev --getsize64 "$1" 2>/dev/null || stat -c %s "$1") / 1048576)) &&
	dd if="$2" of="$1" bs=1M count=1 conv=notrunc status=none &&
		dd if="$2" of="$1" bs=1M skip=$((mib - 1)) seek=$((mib - 1)) count=1 conv=notrunc \
			status=none
}
# cut_at DISK BASE K S OLD NEW WANT CMD...: restore BASE onto DISK, run CMD cut after K regions and
# S sectors of the next (exit 99), then the properties; WANT (old|new) is what must be left
cut_at() {
	local disk=$1 base=$2 k=$3 s=$4 old=$5 new=$6 want=$7 got &&
	shift 7 &&
	restore "$disk" "$base" || return 1
	FLATCTL_TEST_CRASH_AFTER=$k:$s "$@" >/dev/null 2>&1
	[ $? = 99 ] || { echo "K=$k S=$s: $* did not stop with exit 99" >&2; return 1; }
	echo "$k:$s $*" >>"$T/cases" &&
	got=$(parts "$disk") || { echo "K=$k S=$s: unreadable" >&2; return 1; }
	if [ "$want" = old ]; then want=$old; else want=$new; fi &&
	[ "$got" = "$want" ] || { echo "K=$k S=$s: '$got', expected '$want'" >&2; return 1; }
	ours repair "$disk" >/dev/null || { echo "K=$k S=$s: repair failed" >&2; return 1; }
	sgdisk_ok "$disk" || { echo "K=$k S=$s: sgdisk -v after repair" >&2; return 1; }
	got=$(parts "$disk") && [ "$got" = "$want" ] ||
		{ echo "K=$k S=$s: after repair '$got', expected '$want'" >&2; return 1; }
}
# side K S: old when the cut leaves the primary copy untouched (§7.2), else new
side() {
	if [ "$1" -lt 2 ] || { [ "$1" = 2 ] && [ "$2" = 0 ]; }; then echo old; else echo new; fi
}
# matrix DISK BASE ARRAY OLD NEW CMD...: every K in 0-3 and every S in 0 .. region - 1 (ARRAY:
# the entry array's sectors)
matrix() {
	local disk=$1 base=$2 array=$3 old=$4 new=$5 k s n &&
	shift 5 &&
	for k in 0 1 2 3; do
		case $k in 0 | 3) n=$array ;; *) n=1 ;; esac &&
		for s in $(seq 0 $((n - 1))); do
			cut_at "$disk" "$base" $k "$s" "$old" "$new" "$(side $k "$s")" "$@" || return 1
		done
	done
}

# bases: the compact layout with LBA 0 as `cgpt boot -p` leaves it, so that create's fresh MBR
# differs from it
"$MKDISK" -q --layout compact "$T/base512.img"
"$MKDISK" -q --layout compact --sector-size 4096 "$T/base4k.img"
ours boot -p "$T/base512.img" >/dev/null
cp "$T/base512.img" "$T/d512.img"
cp "$T/base4k.img" "$T/d4k.img"
L4=$(losetup --find --show --sector-size 4096 "$T/d4k.img") || { echo "Bail out! losetup"; exit 1; }
cleanup_loop "$L4"
ours boot -p "$L4" >/dev/null
dd if="$L4" of="$T/base4k.img" bs=4096 count=1 conv=notrunc status=none
OLD512=$(parts "$T/base512.img")
OLD4K=$(parts "$L4")

test_expect 'the old tables: seven partitions, the same at both sector sizes in bytes' '
	test "$(echo $OLD512 | wc -w)" = 7 && test "$(echo $OLD4K | wc -w)" = 7 &&
	test "$(echo $OLD512 | cut -d" " -f1)" = 1:4096:32768 &&
	test "$(echo $OLD4K | cut -d" " -f1)" = 1:512:4096
'

for ss in 512 4096; do
	if [ $ss = 512 ]; then disk=$T/d512.img base=$T/base512.img array=32 old=$OLD512
	else disk=$L4 base=$T/base4k.img array=4 old=$OLD4K; fi
	test_expect "create over a table, $ss-byte sectors: every cut leaves the old or the new table" '
		matrix "'$disk'" "'$base'" '$array' "'"$old"'" "" ours create -g $GUID "'$disk'" &&
		cut_at "'$disk'" "'$base'" 4 0 "'"$old"'" "" new ours create -g $GUID "'$disk'" &&
		cmp -n 512 "'$disk'" "'$base'" &&
		FLATCTL_TEST_CRASH_AFTER=5 ours create -g $GUID "'$disk'" &&
		test "$(od -An -tx1 -j 444 -N 2 "'$disk'" | tr -d " ")" = 0000 &&
		ours show "'$disk'" | grep -q "^ *0 *1 *Protective MBR$" && test -z "$(parts "'$disk'")"
	'
	test_expect "add of a new partition, $ss-byte sectors: every cut leaves the old or the new table" '
		blocks=$((2 * 1024 * 1024 / '$ss')) first=$((124 * 1024 * 1024 / '$ss')) &&
		new=$(echo "'"$old"'" | sed "s/ 6:/ 5:$first:$blocks 6:/") &&
		test "$(echo $new | wc -w)" = 8 &&
		matrix "'$disk'" "'$base'" '$array' "'"$old"'" "$new" \
			ours add -i 5 -b $first -s $blocks -t data -l NEW "'$disk'" &&
		restore "'$disk'" "'$base'" &&
		FLATCTL_TEST_CRASH_AFTER=4 ours add -i 5 -b $first -s $blocks -t data -l NEW "'$disk'" &&
		test "$(parts "'$disk'")" = "$new"
	'
done

test_expect 'create -z: a cut between the headers leaves the old table, repair restores it' '
	cut_at "$T/d512.img" "$T/base512.img" 0 0 "$OLD512" "" old ours create -z "$T/d512.img" &&
	cut_at "$T/d512.img" "$T/base512.img" 1 0 "$OLD512" "" old ours create -z "$T/d512.img" &&
	restore "$T/d512.img" "$T/base512.img" &&
	FLATCTL_TEST_CRASH_AFTER=2 ours create -z "$T/d512.img" &&
	test_exit 1 $DEB show "$T/d512.img" >/dev/null 2>&1 &&
	test_exit 1 ours show "$T/d512.img" >/dev/null 2>&1 &&
	sgdisk -p "$T/d512.img" >"$T/p" 2>&1 && test_grep "Creating new GPT entries" "$T/p"
'

test_expect 'boot -p: a cut before LBA 0 leaves it, the table is never touched' '
	cp "$T/base512.img" "$T/b.img" && dd if=/dev/zero of="$T/b.img" bs=512 count=1 conv=notrunc status=none &&
	cp "$T/b.img" "$T/b0.img" &&
	FLATCTL_TEST_CRASH_AFTER=0 test_exit 99 ours boot -p "$T/b.img" >/dev/null &&
	cmp "$T/b.img" "$T/b0.img" && echo 0:0 boot >>"$T/cases" &&
	FLATCTL_TEST_CRASH_AFTER=0:1 test_exit 99 ours boot -p "$T/b.img" >/dev/null &&
	cmp -i 512 "$T/b.img" "$T/b0.img" && ! cmp -s -n 512 "$T/b.img" "$T/b0.img" &&
	echo 0:1 boot >>"$T/cases" && test "$(parts "$T/b.img")" = "$OLD512" &&
	FLATCTL_TEST_CRASH_AFTER=1 ours boot -p "$T/b.img" >/dev/null && sgdisk_ok "$T/b.img"
'

test_expect 'a malformed FLATCTL_TEST_CRASH_AFTER: exit 1 before any write' '
	cp "$T/base512.img" "$T/m.img" &&
	dd if=/dev/zero of="$T/m.img" bs=512 count=1 conv=notrunc status=none && cp "$T/m.img" "$T/m0.img" &&
	FLATCTL_TEST_CRASH_AFTER=x test_exit 1 ours create -g $GUID "$T/m.img" 2>"$T/e" &&
	test_grep "^cgpt create: .*malformed value" "$T/e" &&
	FLATCTL_TEST_CRASH_AFTER=1:y test_exit 1 ours boot -p "$T/m.img" >/dev/null 2>"$T/e" &&
	test_grep "^cgpt boot: .*malformed value" "$T/e" &&
	FLATCTL_TEST_CRASH_AFTER= test_exit 1 ours create -z "$T/m.img" 2>"$T/e" &&
	test_grep "^cgpt create: .*malformed value" "$T/e" &&
	cmp "$T/m.img" "$T/m0.img"
'
echo "# $(wc -l <"$T/cases") cut disks checked"
test_done
