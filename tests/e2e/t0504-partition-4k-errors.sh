#!/bin/bash
# t0504-partition-4k-errors: 4096-byte sectors on loop devices (cross-checked with cgpt and sgdisk,
# crash matrix included), read-only devices, the disk lock, and the
# bad-input table of spec/partitions.md §10 (exit codes, messages, files left byte-identical).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

[ "$(id -u)" = 0 ] || skip_all "loop devices need root"
# attach VAR IMG [losetup options]: at top level, so cleanup_loop reaches the EXIT trap
attach() {
	local dev
	dev=$(losetup --find --show "${@:3}" "$2") || { echo "Bail out! losetup $2 failed"; exit 1; }
	cleanup_loop "$dev"
	eval "$1=\$dev"
}

mk "$T/4k.img" --sector-size 4096 --state booted-b
cp --sparse=always "$T/4k.img" "$T/4k-c.img"
mk "$T/4k-base.img" --sector-size 4096 --state booted-b
cp --sparse=always "$T/4k-base.img" "$T/4k-base.img.work"
mk "$T/512.img" --state updated
cp "$T/512.img" "$T/512-o.img"
mk "$T/4k2.img" --sector-size 4096
mk "$T/ro.img" --state booted-b
cp "$T/ro.img" "$T/ro-o.img"
attach L4 "$T/4k.img" --sector-size 4096
attach Lc "$T/4k-c.img" --sector-size 4096
attach Lw "$T/4k-base.img.work" --sector-size 4096
attach L512 "$T/512.img" --sector-size 4096
attach L2 "$T/4k2.img"
attach Lro "$T/ro.img" -r
# a 2 MiB tmpfs that fills up: writes into holes of a sparse image fail with ENOSPC
mkdir "$T/small" && mount -t tmpfs -o size=2m tmpfs "$T/small" && cleanup_mount "$T/small" ||
	{ echo "Bail out! cannot mount a tmpfs"; exit 1; }

test_expect '4096-byte loop device: show agrees with cgpt and sgdisk' '
	test "$(blockdev --getss "$L4")" = 4096 &&
	expect_state "$L4" "1/0/1 2/0/1" &&
	flatctl --disk "$L4" --json partition show >"$T/j" &&
	test "$(jq -r .sector_size "$T/j")" = 4096 && test "$(jq -r .booted "$T/j")" = null
'
test_expect '4096-byte loop device: prioritize gives the bytes cgpt gives' '
	flatctl --disk "$L4" partition prioritize USR-A >/dev/null &&
	as_kernel "$Lc" cgpt prioritize -i 3 "$Lc" && sync &&
	same "$T/4k.img" "$T/4k-c.img" && sgdisk_clean "$L4" && expect_state "$L4" "2/0/1 1/0/1"
'
test_expect '4096-byte crash matrix: every K and S (arrays are 4 sectors)' '
	for k in 0 1 2 3; do
		case $k in 0|2) n=4 ;; *) n=1 ;; esac
		for s in $(seq 0 $((n - 1))); do
			crash_case "$Lw" "$T/4k-base.img" $k $s "1/0/1 2/0/1" "2/0/1 1/0/1" || return 1
		done
	done
'
test_expect 'a 512-byte GPT on a 4096-byte device (and back): exit 2, unchanged' '
	test_exit 2 flatctl --disk "$L512" partition show 2>"$T/e" &&
	test_grep "the GPT on .$L512. is laid out for 512-byte sectors, the device uses 4096-byte sectors" "$T/e" &&
	test_exit 2 flatctl --disk "$L512" rollback 2>/dev/null &&
	test_exit 2 flatctl --disk "$L2" partition show 2>"$T/e" &&
	test_grep "laid out for 4096-byte sectors, the device uses 512-byte sectors" "$T/e" &&
	same "$T/512.img" "$T/512-o.img"
'
test_expect 'read-only device: show works, changes exit 1 "read-only device", unchanged' '
	flatctl --disk "$Lro" partition show >/dev/null &&
	test_exit 1 flatctl --disk "$Lro" rollback 2>"$T/e" &&
	test_grep "^flatctl rollback: opening .$Lro. for writing: read-only device$" "$T/e" &&
	same "$T/ro.img" "$T/ro-o.img"
'
test_expect 'file without write permission: changes exit 1, unchanged' '
	mk "$T/ro2.img" --state booted-b && chmod 0444 "$T/ro2.img" && cp "$T/ro2.img" "$T/ro2-o.img" &&
	test_exit 1 flatctl --disk "$T/ro2.img" partition prioritize USR-A 2>"$T/e" &&
	test_grep "read-only device" "$T/e" && same "$T/ro2.img" "$T/ro2-o.img"
'
test_expect 'lock held by another process: exit 75 after 5 s, unchanged; reads do not lock' '
	mk "$T/l.img" --state booted-b && cp "$T/l.img" "$T/l-o.img" &&
	flock "$T/l.img" sleep 30 & pid=$!; cleanup_pid $pid;
	for i in $(seq 50); do flock -n "$T/l.img" true || break; sleep 0.1; done &&
	flatctl --disk "$T/l.img" partition show >/dev/null &&
	test_exit 75 flatctl --disk "$T/l.img" rollback 2>"$T/e" &&
	test_grep "locking .$T/l.img.: held by another process" "$T/e" &&
	kill $pid && same "$T/l.img" "$T/l-o.img"
'

test_expect 'I/O error while writing: exit 1 naming the step, the other copy intact' '
	cp --sparse=always "$T/ro-o.img" "$T/small/g.img" && truncate -s 256M "$T/small/g.img" &&
	cp --sparse=always "$T/small/g.img" "$T/g-o.img" &&
	{ dd if=/dev/zero of="$T/small/fill" bs=4k status=none 2>/dev/null || true; } &&
	test_exit 1 flatctl --disk "$T/small/g.img" partition repair 2>"$T/e" &&
	test_grep "^flatctl partition: writing .$T/small/g.img.: the backup entry array at LBA 524255: No space left on device; the primary copy is intact$" "$T/e" &&
	flatctl --disk "$T/small/g.img" --json partition show 2>/dev/null | jq -e ".gpt.primary == \"ok\"" >/dev/null &&
	expect_state "$T/small/g.img" "1/0/1 2/0/1" && same "$T/small/g.img" "$T/g-o.img"
'

# §10: each bad input, for a reading and a changing command
bad() { # bad NAME FILE MESSAGE: both commands exit 2 with MESSAGE, the file stays byte-identical
	cp --sparse=always "$2" "$2.orig" &&
	test_exit 2 flatctl --disk "$2" partition show 2>"$T/e" && test_grep "$3" "$T/e" &&
	test_exit 2 flatctl --disk "$2" partition prioritize USR-B 2>"$T/e" && test_grep "$3" "$T/e" &&
	test_exit 2 flatctl --disk "$2" partition repair 2>/dev/null &&
	same "$2" "$2.orig"
}
# shellcheck disable=SC2034 # used inside test_expect bodies (eval)
NOGPT="reading .*: no GPT found (no valid header at LBA 1 or at the last LBA, 512 or 4096-byte sectors)"
test_expect 'no GPT: zeroes' 'truncate -s 1M "$T/z.img" && bad zeroes "$T/z.img" "$NOGPT"'
test_expect 'no GPT: MBR only' '
	truncate -s 8M "$T/m.img" &&
	printf "\000\040\041\000\203\000\000\000\000\010\000\000\000\070\000\000" |
		dd of="$T/m.img" bs=1 seek=446 conv=notrunc status=none &&
	printf "\125\252" | dd of="$T/m.img" bs=1 seek=510 conv=notrunc status=none &&
	bad mbr "$T/m.img" "$NOGPT"
'
test_expect 'no GPT: a random file' 'head -c 1048576 /dev/urandom >"$T/r.img" && bad random "$T/r.img" "$NOGPT"'
test_expect 'size not a multiple of 512' '
	head -c 1000001 /dev/zero >"$T/s.img" && bad size "$T/s.img" "size 1000001 is not a multiple of 512"
'
test_expect 'both copies damaged: exit 2, each copy named' '
	mk "$T/b.img" &&
	printf X | dd of="$T/b.img" bs=1 seek=532 conv=notrunc status=none &&
	printf X | dd of="$T/b.img" bs=1 seek=$((262143 * 512 + 20)) conv=notrunc status=none &&
	bad both "$T/b.img" "both GPT copies are damaged: primary header at LBA 1: header CRC .*; backup header at LBA 262143: header CRC"
'
test_expect 'overlapping entries: exit 2' '
	mk "$T/o.img" && sgdisk -n 5:40960:41000 "$T/o.img" >/dev/null 2>&1;
	cgpt show "$T/o.img" >/dev/null 2>&1; bad overlap "$T/o.img" "overlap" || {
		# sgdisk refuses to create the overlap; make it by editing the entry and its CRCs
		/usr/bin/python3 - "$T/o.img" <<-PY && bad overlap "$T/o.img" "overlap"
		import struct, sys, zlib
		f = open(sys.argv[1], "r+b")
		def fix(hlba, alba):
		    f.seek(alba * 512); arr = bytearray(f.read(16384))
		    arr[3*128+32:3*128+40] = struct.pack("<Q", 36864)  # USR-B starts inside BIOS-BOOT
		    f.seek(alba * 512); f.write(arr)
		    f.seek(hlba * 512); h = bytearray(f.read(92))
		    h[88:92] = struct.pack("<I", zlib.crc32(arr)); h[16:20] = b"\0" * 4
		    h[16:20] = struct.pack("<I", zlib.crc32(h)); f.seek(hlba * 512); f.write(h)
		fix(1, 2); fix(262143, 262111)
		PY
	}
'
test_expect '--disk missing, a directory, a character device: exit 2 naming the path' '
	test_exit 2 flatctl --disk "$T/nope.img" partition show 2>"$T/e" && test_grep "$T/nope.img" "$T/e" &&
	test_exit 2 flatctl --disk "$T" partition show 2>"$T/e" && test_grep "is a directory" "$T/e" &&
	test_exit 2 flatctl --disk /dev/null rollback 2>"$T/e" && test_grep "/dev/null.: not a block device" "$T/e"
'
test_expect 'a shrunk disk: show works with the backup invalid, changes exit 2 unchanged' '
	mk "$T/sh.img" --state booted-b && truncate -s $((240000 * 512)) "$T/sh.img" &&
	cp "$T/sh.img" "$T/sh-o.img" &&
	flatctl --disk "$T/sh.img" --json partition show 2>/dev/null >"$T/j" &&
	test "$(jq -r .gpt.backup "$T/j")" = invalid &&
	test_exit 2 flatctl --disk "$T/sh.img" rollback 2>"$T/e" && test_grep "beyond the last usable LBA" "$T/e" &&
	same "$T/sh.img" "$T/sh-o.img"
'
test_expect 'usage errors: exit 2 with one line and a hint' '
	test_exit 2 flatctl partition frobnicate 2>"$T/e" && test_grep "unknown command .frobnicate." "$T/e" &&
	test_grep "Try .flatctl partition --help." "$T/e" &&
	test_exit 2 flatctl rollback --bogus 2>/dev/null && test_exit 2 flatctl rollback extra 2>/dev/null
'
test_done
