#!/bin/bash
# t0506-partition-errors: the bad-input table of docs/partitions.md §10 on image files: exit codes,
# messages, and every file left byte-identical.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

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
	mk "$T/o.img" && { sgdisk -n 5:40960:41000 "$T/o.img" >/dev/null 2>&1 || true; } &&
	{ cgpt show "$T/o.img" >/dev/null 2>&1 || true; } && { bad overlap "$T/o.img" "overlap" || {
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
	}; }
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
