#!/bin/bash
# t0604-cgpt-find: `cgpt find` through the cgpt link against Debian's cgpt
# (docs/partitions.md 9.4).
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"
filter() { sed -E -e '/^ {34}(Type|Attr): /d' "$1"; }

"$MKDISK" -q --layout compact "$T/disk.img"
"$MKDISK" -q --layout compact "$T/disk1"

# same ARGS...: same output and exit status as Debian's cgpt
same() {
	set +e &&
	$DEB find "$@" >"$T/deb" 2>/dev/null
	d=$? &&
	ours find "$@" >"$T/our" 2>"$T/our.err"
	o=$? &&
	set -e &&
	test "$d" = "$o" || { echo "exit: Debian $d, ours $o: $*" >&2; return 1; }
	test_cmp "$T/deb" "$T/our"
}

test_expect 'find -t/-u/-l prints the same paths as Debian cgpt' '
	for d in "$T/disk.img" "$T/disk1"; do
		same -t $USR "$d" &&
		same -t 5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6 "$d" &&
		same -t efi "$d" &&
		same -t data "$d" &&
		same -u 7130C94A-213A-4E5A-8E26-6CCE9662F132 "$d" &&
		same -u e03dd35c-7c2d-4a47-b3fe-27f15780a57c "$d" &&
		same -l USR-A "$d" &&
		same -l ROOT "$d" &&
		same -t $USR -l USR-B "$d" &&
		same -t efi -u 1D7E3C56-0001-4C0B-9F00-000000000001 "$d" || return 1
	done &&
	test "$(ours find -l ROOT "$T/disk1")" = "$T/disk1p9" &&
	test "$(ours find -l ROOT "$T/disk.img")" = "$T/disk.img9"
'

test_expect 'find -n prints slot numbers like Debian cgpt' '
	same -n -t $USR "$T/disk.img" &&
	same -n -l OEM "$T/disk.img" &&
	same -n -u 1D7E3C56-0009-4C0B-9F00-000000000009 "$T/disk1"
'

test_expect 'find -1 fails on more than one match like Debian cgpt' '
	same -1 -t $USR "$T/disk.img" &&
	test_exit 1 ours find -1 -t $USR "$T/disk.img" >/dev/null 2>&1 &&
	same -1 -l USR-A "$T/disk.img" &&
	same -1 -n -l USR-B "$T/disk.img"
'

test_expect 'find with no match: exit 1, no output' '
	same -l USR-C "$T/disk.img" &&
	same -u 00000000-1111-2222-3333-444444444444 "$T/disk.img" &&
	same -t kernel "$T/disk.img" &&
	test ! -s "$T/our" &&
	test_exit 1 ours find -l usr-a "$T/disk.img" >"$T/our" &&
	test ! -s "$T/our"
'

test_expect 'find -t takes Flatcar type names' '
	test "$(ours find -n -t flatcar-usr "$T/disk.img" | tr "\n" " ")" = "3 4 " &&
	test "$(ours find -n -t coreos-rootfs "$T/disk.img" | tr "\n" " ")" = "3 4 " &&
	test "$(ours find -n -t flatcar-resize "$T/disk.img")" = 9 &&
	test "$(ours find -n -t coreos-reserved "$T/disk.img")" = 7 &&
	test "$(ours find -n -t bios "$T/disk.img")" = 2
'

test_expect 'find -v prints the path and the entry' '
	ours find -v -l USR-A "$T/disk.img" >"$T/our" &&
	$DEB find -v -l USR-A "$T/disk.img" >"$T/deb" &&
	filter "$T/deb" >"$T/deb.f" && filter "$T/our" >"$T/our.f" &&
	test_cmp "$T/deb.f" "$T/our.f" &&
	test_grep "Attr: priority=1 tries=0 successful=1" "$T/our"
'

test_expect 'find usage errors exit 1' '
	test_exit 1 ours find "$T/disk.img" 2>"$T/e" &&
	test_grep "^cgpt find: " "$T/e" &&
	test_exit 1 ours find -t bogus "$T/disk.img" 2>"$T/e" &&
	test_grep "^cgpt find: " "$T/e" &&
	test_exit 1 ours find -u zz "$T/disk.img" 2>"$T/e" &&
	test_exit 1 ours find -l USR-A "$T/nothing.img" 2>"$T/e"
'

test_expect 'find without DRIVE scans the whole disks of proc/partitions under --root' '
	r=$T/root &&
	mkdir -p "$r/proc" "$r/dev" &&
	cp "$T/disk.img" "$r/dev/vda" &&
	"$MKDISK" -q --layout compact --usr-a 0:0:0 "$r/dev/nvme0n1" &&
	sgdisk -c 3:OTHER "$r/dev/nvme0n1" >/dev/null &&
	truncate -s 1M "$r/dev/vdb" &&
	cat >"$r/proc/partitions" <<-EOF &&
	major minor  #blocks  name

	 254        0     131072 vda
	 254        1      16384 vda1
	 254        3      32768 vda3
	 254       16       1024 vdb
	 259        0     131072 nvme0n1
	 259        1      16384 nvme0n1p1
	EOF
	ours find --root "$r" -l USR-A >"$T/our" &&
	printf "/dev/vda3\n" >"$T/exp" &&
	test_cmp "$T/exp" "$T/our" &&
	ours find --root="$r" -t flatcar-usr >"$T/our" &&
	printf "/dev/vda3\n/dev/vda4\n/dev/nvme0n1p3\n/dev/nvme0n1p4\n" >"$T/exp" &&
	test_cmp "$T/exp" "$T/our" &&
	test_exit 1 ours find --root "$r" -l NONE >"$T/our" &&
	test ! -s "$T/our"
'

test_done
