#!/bin/bash
# t0504-partition-4k-errors: what needs root (docs/partitions.md §11): 4096-byte sectors on loop
# devices (cross-checked with cgpt and sgdisk, crash matrix included), a GPT for the other sector
# size, read-only devices, a write failing on a full filesystem; also the disk lock and a file
# without write permission (§10).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

[ "$(id -u)" = 0 ] || { echo "Bail out! loop devices need root (tests run as root)"; exit 1; }
# attach VAR IMG [losetup options]: at top level, so cleanup_loop reaches the EXIT trap
attach() {
	local dev &&
	dev=$(losetup --find --show "${@:3}" "$2") || { echo "Bail out! losetup $2 failed"; exit 1; }
	cleanup_loop "$dev" &&
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
mk "$T/4kf.img" --sector-size 4096 --state updated
attach Lf "$T/4kf.img" --sector-size 4096
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
		case $k in 0|3) n=4 ;; *) n=1 ;; esac &&
		for s in $(seq 0 $((n - 1))); do
			crash_case "$Lw" "$T/4k-base.img" $k $s "1/0/1 2/0/1" "2/0/1 1/0/1" || return 1
		done
	done
'
test_expect 'a 4096-byte GPT in a plain file: rollback writes it, cgpt and sgdisk read it back' '
	flatctl --disk "$T/4kf.img" rollback >"$T/out" &&
	test_grep "^next boot: USR-A (partition 3, successful)$" "$T/out" &&
	blockdev --flushbufs "$Lf" && expect_state "$Lf" "2/0/1 1/1/0" && sgdisk_clean "$Lf"
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
	{ flock "$T/l.img" sleep 30 & } && pid=$! && cleanup_pid $pid &&
	test_wait_for 60 "! flock -n \"\$T/l.img\" true" &&
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

test_done
