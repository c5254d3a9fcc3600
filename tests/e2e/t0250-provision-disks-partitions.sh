#!/bin/bash
# t0250-provision-disks-partitions: the disks stage's partitions on image files behind loop
# devices, as Ignition's blackbox tests do them: a config, a starting disk, the table expected
# after (sgdisk -p/-v, cgpt show). Placement (start 0, size 0, number 0), reuse (match, resize,
# recreate, delete, refuse), wipeTable, bad plans refused with the disk untouched, and a cut in
# the middle of the table write; the kernel's partitions follow only where it scans them
# (docs/provision.md §5.1, docs/provision-apply.md §7).
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
. "$FLATCTL_SRC/tests/e2e/lib-disks.sh"
V='"ignition":{"version":"3.4.0"}'
BOOT_T=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
DATA_G=6A1B0C4E-8F3D-4A2B-9C1D-0E2F3A4B5C6D

newdisk D1 256M || exit 1
newdisk D2 512M --layout compact || exit 1
newdisk D3 512M --layout compact || exit 1
newdisk D4 128M || exit 1
truncate -s 64M "$T/D5.img" && D5=$(losetup -f --show -P "$T/D5.img") && cleanup_loop "$D5" || exit 1
# the kernel's partitions of the loop devices without scanning (none, unless left by others)
kparts() { for d in "$D1" "$D2" "$D3" "$D4"; do find "/sys/class/block/${d##*/}/" -maxdepth 1 -name "${d##*/}p*" || return 1; done; }
kparts >"$T/kparts.before"
mkroot "$T/r"

disks() { printf '{%s,"storage":{"disks":[{"device":"%s"%s}]}}' "$V" "$1" "$2"; }

test_expect 'a blank disk: numbers, labels, types, GUIDs; start 0 and size 0 as Ignition places them' '
	cfg c1 "$(disks "$D1" ",\"partitions\":[{\"number\":1,\"label\":\"BOOT\",\"sizeMiB\":32,\"typeGuid\":\"$BOOT_T\"},{\"label\":\"DATA\",\"sizeMiB\":64,\"guid\":\"$DATA_G\"},{\"number\":3,\"label\":\"REST\",\"startMiB\":200,\"sizeMiB\":0}]")" &&
	before=$(imgsum "$T/D1.img") &&
	prov "$T/r" --device "$D1" --config "$T/c1.ign" --dry-run >"$T/out" &&
	test_grep "^+ table $D1 a new partition table" "$T/out" &&
	test_grep "^+ partition $D1 2 DATA: start 33 MiB, size 64 MiB$" "$T/out" &&
	test "$(imgsum "$T/D1.img")" = "$before" &&
	prov "$T/r" --device "$D1" --config "$T/c1.ign" 2>"$T/err" &&
	cat >"$T/exp" <<-\EOT &&
	Number  Start (sector)    End (sector)  Size       Code  Name
	   1            2048           67583   32.0 MiB    EF00  BOOT
	   2           67584          198655   64.0 MiB    8300  DATA
	   3          409600          524254   56.0 MiB    8300  REST
	EOT
	ptable "$T/D1.img" >"$T/got" && test_cmp "$T/exp" "$T/got" &&
	sgdisk -v "$T/D1.img" >"$T/v" && test_grep "^No problems found" "$T/v" &&
	test "$(cgpt show -i 2 -u "$T/D1.img")" = "$DATA_G" &&
	test "$(cgpt show -i 1 -t "$T/D1.img")" = "$BOOT_T" &&
	jq -e ".flatctl.storage[0] == {\"kind\":\"table\",\"device\":\"$D1\",\"detail\":\"written\"}" "$T/r/etc/.ignition-result.json" >/dev/null
'

test_expect 'a Flatcar disk: a data partition in the largest free block, every other entry kept' '
	cgpt show "$T/D2.img" >"$T/before" &&
	cfg c2 "$(disks /dev/vdb ",\"partitions\":[{\"label\":\"DATA\",\"number\":10}]")" &&
	prov "$T/r" --force --device /dev/vdb="$D2" --config "$T/c2.ign" 2>"$T/err" &&
	ptable "$T/D2.img" >"$T/got" &&
	test_grep "^  10          253952         1048542   388.0 MiB   8300  DATA$" "$T/got" &&
	cgpt show "$T/D2.img" >"$T/after" &&
	# the three lines of the new entry are all that differ
	grep -v -e "^ *253952 *794591 *10 *Label: \"DATA\"$" -e "^ *Type: Linux data$" -e "^ *UUID: " "$T/after" >"$T/a" &&
	grep -v -e "^ *Type: Linux data$" -e "^ *UUID: " "$T/before" >"$T/b" && test_cmp "$T/b" "$T/a" &&
	test "$(grep -c "UUID: " "$T/after")" = 8 && test "$(grep -c "UUID: " "$T/before")" = 7 &&
	grep "UUID: " "$T/before" >"$T/ub" && grep "UUID: " "$T/after" | grep -v -x -F -f "$T/ub" >"$T/new" &&
	test "$(wc -l <"$T/new")" = 1 &&
	sgdisk -v "$T/D2.img" >"$T/v" && test_grep "^No problems found" "$T/v"
'

test_expect 'reuse: a matching partition is kept as it is; a mismatch is refused (disk untouched) unless wipePartitionEntry recreates it' '
	before=$(imgsum "$T/D1.img") &&
	cfg c3 "$(disks "$D1" ",\"partitions\":[{\"number\":2,\"label\":\"DATA\",\"sizeMiB\":64,\"guid\":\"${DATA_G,,}\"},{\"number\":1}]")" &&
	prov "$T/r" --force --device "$D1" --config "$T/c3.ign" -v >"$T/out" 2>"$T/err" &&
	test_grep "^= partition $D1 2: matches, kept$" "$T/out" && test_grep "^= partition $D1 1: matches, kept$" "$T/out" &&
	test "$(imgsum "$T/D1.img")" = "$before" &&
	cfg c4 "$(disks "$D1" ",\"partitions\":[{\"number\":2,\"label\":\"LOGS\"}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c4.ign" 2>"$T/err" &&
	test_grep "storage.disks\[0\].partitions\[0\]: $D1: partition 2 did not match: label did not match (wanted \"LOGS\", found \"DATA\")" "$T/err" &&
	test "$(imgsum "$T/D1.img")" = "$before" &&
	cfg c5 "$(disks "$D1" ",\"partitions\":[{\"number\":2,\"label\":\"LOGS\",\"wipePartitionEntry\":true}]")" &&
	prov "$T/r" --force --device "$D1" --config "$T/c5.ign" 2>"$T/err" &&
	ptable "$T/D1.img" >"$T/got" &&
	test_grep "^   2           67584          409599   167.0 MiB   8300  LOGS$" "$T/got" &&
	test "$(cgpt show -i 2 -u "$T/D1.img")" != "$DATA_G"
'

test_expect 'resize grows a partition in place (GUID, type, label kept); shouldExist false deletes only with wipePartitionEntry' '
	guid=$(cgpt show -i 2 -u "$T/D1.img") &&
	before=$(imgsum "$T/D1.img") &&
	cfg c6 "$(disks "$D1" ",\"partitions\":[{\"number\":3,\"shouldExist\":false}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c6.ign" 2>"$T/err" &&
	test_grep "partitions\[0\]: $D1: partition 3 exists but shouldExist is false and wipePartitionEntry is not set" "$T/err" &&
	cfg c6b "$(disks "$D1" ",\"partitions\":[{\"number\":1,\"sizeMiB\":40,\"resize\":true}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c6b.ign" 2>"$T/err" &&
	test_grep "partitions\[0\]: $D1: partition 1: partition 1 (LBA 2048-83967) would overlap partition 2 (LBA 67584-409599)" "$T/err" &&
	test "$(imgsum "$T/D1.img")" = "$before" &&
	cfg c7 "$(disks "$D1" ",\"partitions\":[{\"number\":2,\"sizeMiB\":200,\"resize\":true},{\"number\":3,\"shouldExist\":false,\"wipePartitionEntry\":true}]")" &&
	prov "$T/r" --force --device "$D1" --config "$T/c7.ign" 2>"$T/err" &&
	cat >"$T/exp" <<-\EOT &&
	Number  Start (sector)    End (sector)  Size       Code  Name
	   1            2048           67583   32.0 MiB    EF00  BOOT
	   2           67584          477183   200.0 MiB   8300  LOGS
	EOT
	ptable "$T/D1.img" >"$T/got" && test_cmp "$T/exp" "$T/got" &&
	test "$(cgpt show -i 2 -u "$T/D1.img")" = "$guid" &&
	sgdisk -v "$T/D1.img" >"$T/v" && test_grep "^No problems found" "$T/v"
'

test_expect 'bad plans are refused with the disk untouched: overlap, too large, beyond the entries' '
	before=$(imgsum "$T/D1.img") &&
	cfg c8 "$(disks "$D1" ",\"partitions\":[{\"number\":4,\"startMiB\":100,\"sizeMiB\":10}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c8.ign" 2>"$T/err" &&
	test_grep "partitions\[0\]: $D1: partition 4: partition 4 (LBA 204800-225279) would overlap partition 2 (LBA 67584-477183)" "$T/err" &&
	cfg c9 "$(disks "$D1" ",\"partitions\":[{\"number\":4,\"sizeMiB\":100}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c9.ign" 2>"$T/err" &&
	test_grep "partitions\[0\]: $D1: partition 4: partition 4 (LBA 477184-681983) would lie outside the usable area (LBA 34-524254)" "$T/err" &&
	cfg c10 "$(disks "$D1" ",\"partitions\":[{\"number\":200,\"sizeMiB\":1}]")" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c10.ign" 2>"$T/err" &&
	test_grep "partition number 200: the table has 128 entries" "$T/err" &&
	test "$(imgsum "$T/D1.img")" = "$before" &&
	test_exit 1 prov "$T/r" --force --device "$D1" --config "$T/c8.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^! partition $D1 4: does not fit" "$T/out"
'

test_expect 'wipeTable: a new table replaces the old one; wipeTable alone removes it' '
	cfg c11 "$(disks "$D3" ",\"wipeTable\":true,\"partitions\":[{\"label\":\"ONLY\",\"sizeMiB\":8}]")" &&
	prov "$T/r" --force --device "$D3" --config "$T/c11.ign" 2>"$T/err" &&
	cat >"$T/exp" <<-\EOT &&
	Number  Start (sector)    End (sector)  Size       Code  Name
	   1            2048           18431   8.0 MiB     8300  ONLY
	EOT
	ptable "$T/D3.img" >"$T/got" && test_cmp "$T/exp" "$T/got" &&
	test "$(cgpt show -d "$T/D3.img" | grep -c "PMBR")" -ge 0 &&
	sgdisk -v "$T/D3.img" >"$T/v" && test_grep "^No problems found" "$T/v" &&
	cfg c12 "$(disks "$D3" ",\"wipeTable\":true")" &&
	prov "$T/r" --force --device "$D3" --config "$T/c12.ign" 2>"$T/err" &&
	test_exit 2 blkid -p "$T/D3.img"
'

test_expect 'a cut during the table write leaves the old table or the new one, never a mix' '
	"$MKDISK" -q --size 128M --layout compact "$T/D4.src" &&
	for k in 1 2 3; do
		# the same inode under the loop device, whose cache then forgets what it read
		cp --sparse=always "$T/D4.src" "$T/D4.img" && blockdev --flushbufs "$D4" &&
		ptable "$T/D4.img" >"$T/old" &&
		cfg c13 "$(disks "$D4" ",\"partitions\":[{\"number\":9,\"label\":\"ROOT\",\"resize\":true,\"sizeMiB\":0}]")" &&
		test_exit 99 env FLATCTL_TEST_CRASH_AFTER=$k "$FLATCTL" --root "$T/r" provision --force --device "$D4" --config "$T/c13.ign" 2>/dev/null &&
		ptable "$T/D4.img" >"$T/now" &&
		cgpt show -i 9 -s "$T/D4.img" >"$T/cg" 2>/dev/null &&
		{ { test_cmp "$T/old" "$T/now" >/dev/null && test "$(cat "$T/cg")" = 32768; } ||
			{ grep -q "^   9          221184          262110 " "$T/now" && test "$(cat "$T/cg")" = $((262110 - 221184 + 1)); }; } &&
		prov "$T/r" --force --device "$D4" --config "$T/c13.ign" 2>/dev/null &&
		grep -q "^   9          221184          262110 " <(ptable "$T/D4.img") &&
		sgdisk -v "$T/D4.img" >"$T/v" && test_grep "^No problems found" "$T/v" || return 1
	done
'

test_expect 'the kernel is told (BLKPG) on a loop device that scans partitions, never on one that does not' '
	cfg c14 "$(disks "$D5" ",\"partitions\":[{\"number\":1,\"label\":\"K\",\"sizeMiB\":8},{\"number\":2,\"label\":\"L\",\"sizeMiB\":8}]")" &&
	prov "$T/r" --force --device "$D5" --config "$T/c14.ign" 2>"$T/err" &&
	n=${D5##*/} && test "$(cat "/sys/class/block/${n}p1/start"):$(cat "/sys/class/block/${n}p1/size")" = 2048:16384 &&
	test "$(cat "/sys/class/block/${n}p2/start")" = 18432 &&
	cfg c15 "$(disks "$D5" ",\"partitions\":[{\"number\":2,\"shouldExist\":false,\"wipePartitionEntry\":true}]")" &&
	prov "$T/r" --force --device "$D5" --config "$T/c15.ign" 2>"$T/err" &&
	test -e "/sys/class/block/${n}p1" && ! test -e "/sys/class/block/${n}p2" &&
	kparts >"$T/kparts.after" && test_cmp "$T/kparts.before" "$T/kparts.after"
'
test_done
