#!/bin/bash
# t0505-partition-grow: `partition grow` on grown disks (what Flatcar's first boot does with cgpt
# resize), cross-checked with sgdisk -e plus a re-created ROOT, and its crash matrix
# (docs/partitions.md §6.5, §7.1, §8.8).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

mk "$T/base.img" --state booted-b
# shellcheck disable=SC2034 # used inside test_expect bodies (eval)
GROWN=$((2 * 262144))   # sectors after growing to 256 MiB
# shellcheck disable=SC2034
ROOT_START=221184

test_expect 'a grown disk: show reports grown, the backup in the middle, no change' '
	cp --sparse=always "$T/base.img" "$T/g.img" && truncate -s 256M "$T/g.img" && cp "$T/g.img" "$T/g-o.img" &&
	flatctl --disk "$T/g.img" --json partition show >"$T/j" &&
	test "$(jq -r .gpt.grown "$T/j")" = true && test "$(jq -r .gpt.backup "$T/j")" = ok &&
	test "$(jq -r .sectors "$T/j")" = $GROWN && same "$T/g.img" "$T/g-o.img"
'
test_expect 'grow --dry-run writes nothing' '
	flatctl --disk "$T/g.img" partition grow --dry-run >"$T/out" &&
	test_grep "^ROOT would grow from LBA $ROOT_START-253951" "$T/out" && same "$T/g.img" "$T/g-o.img"
'
test_expect 'grow: ROOT ends at the new last usable LBA, same GPT bytes as sgdisk -e + re-created ROOT' '
	flatctl --disk "$T/g.img" --json partition grow >"$T/j" &&
	test "$(jq -r .old_last_lba "$T/j")" = 253951 &&
	test "$(jq -r .new_last_lba "$T/j")" = $((GROWN - 34)) &&
	test "$(jq -r .new_size "$T/j")" = $(((GROWN - 34 - ROOT_START + 1) * 512)) &&
	test "$(jq -r .changed "$T/j")" = true &&
	sgdisk_clean "$T/g.img" &&
	test "$(cgpt show -i 9 -b "$T/g.img")" = $ROOT_START &&
	test "$(cgpt show -i 9 -s "$T/g.img")" = $((GROWN - 34 - ROOT_START + 1)) &&
	test "$(cgpt show -i 9 -l "$T/g.img")" = ROOT &&
	test "$(cgpt show -i 9 -u "$T/g.img")" = 1D7E3C56-0009-4C0B-9F00-000000000009 &&
	cp "$T/g-o.img" "$T/s.img" &&
	sgdisk -e -d 9 -n 9:$ROOT_START:0 -t 9:3884DD41-8582-4404-B9A8-E9B84F2DF50E -c 9:ROOT \
		-u 9:1D7E3C56-0009-4C0B-9F00-000000000009 "$T/s.img" >/dev/null &&
	ends "$T/g.img" | tail -c +513 >"$T/ours" && ends "$T/s.img" | tail -c +513 >"$T/theirs" &&
	cmp "$T/ours" "$T/theirs" && expect_state "$T/g.img" "1/0/1 2/0/1"
'
test_expect 'grow again: "ROOT already fills the disk", exit 0, no write' '
	cp "$T/g.img" "$T/g2.img" &&
	flatctl --disk "$T/g.img" partition grow >"$T/out" &&
	test_grep "^ROOT already fills the disk$" "$T/out" && same "$T/g.img" "$T/g2.img"
'
test_expect 'repair on a grown disk only relocates the backup (as sgdisk -e)' '
	cp "$T/g-o.img" "$T/r.img" && cp "$T/g-o.img" "$T/s.img" &&
	flatctl --disk "$T/r.img" partition repair >"$T/out" && test_grep "backup moved" "$T/out" &&
	sgdisk -e "$T/s.img" >/dev/null &&
	ends "$T/r.img" | tail -c +513 >"$T/ours" && ends "$T/s.img" | tail -c +513 >"$T/theirs" &&
	cmp "$T/ours" "$T/theirs" && sgdisk_clean "$T/r.img"
'
test_expect 'grow a partition boxed in by the next one: nothing to do; by number' '
	cp --sparse=always "$T/base.img" "$T/b.img" &&
	flatctl --disk "$T/b.img" partition grow 4 >"$T/out" && test_grep "^USR-B already fills the disk$" "$T/out" &&
	test_exit 2 flatctl --disk "$T/b.img" partition grow NOPE 2>"$T/e" && test_grep "no partition .NOPE." "$T/e"
'
test_expect 'grow on an ungrown disk: ROOT takes the free tail' '
	cp --sparse=always "$T/base.img" "$T/u.img" &&
	flatctl --disk "$T/u.img" partition grow >/dev/null &&
	test "$(cgpt show -i 9 -s "$T/u.img")" = $((262144 - 34 - ROOT_START + 1)) && sgdisk_clean "$T/u.img"
'
# A grow on a grown disk writes twice (lib/gpt gpt_write): first the table as read with the backup
# moved to the end (region writes 1-4), then the grown entry (5-8), each pass backup array, backup
# header, primary header, primary array (docs/partitions.md §7.2). Once the second pass has written
# the primary header, a torn primary array no longer matches it and every tool reads the backup.
test_expect 'grow crash matrix: every K in 0-7, S in 0-3 and the last sector; old or new, never broken' '
	cp --sparse=always "$T/base.img" "$T/c0.img" && truncate -s 256M "$T/c0.img" &&
	for k in 0 1 2 3 4 5 6 7; do
		case $k in 0|3|4|7) ss="0 1 2 3 31" ;; 2|6) ss="0 1" ;; *) ss=0 ;; esac &&
		for s in $ss; do
			cp --sparse=always "$T/c0.img" "$T/c.img" &&
			FLATCTL_TEST_CRASH_AFTER=$k:$s test_exit 99 flatctl --disk "$T/c.img" partition grow >/dev/null &&
			cgpt show "$T/c.img" >/dev/null 2>&1 && sgdisk -p "$T/c.img" >/dev/null 2>&1 &&
			size=$(cgpt show -i 9 -s "$T/c.img") &&
			if [ $k -lt 6 ] || { [ $k = 6 ] && [ $s = 0 ]; }; then want=32768; else want=$((GROWN - 34 - ROOT_START + 1)); fi &&
			{ [ "$size" = "$want" ] || { echo "K=$k S=$s: size $size, expected $want"; return 1; }; } &&
			sgsize=$(sgdisk -i 9 "$T/c.img" 2>/dev/null | sed -n "s/^Partition size: \([0-9]*\) sectors.*/\1/p") &&
			{ [ "$sgsize" = "$want" ] || { echo "K=$k S=$s: sgdisk size $sgsize, expected $want"; return 1; }; } &&
			flatctl --disk "$T/c.img" --json partition grow --dry-run 2>/dev/null >"$T/j" &&
			test "$(jq -r .old_last_lba "$T/j")" = $((ROOT_START + want - 1)) &&
			test "$(flatctl --disk "$T/c.img" --json partition show 2>/dev/null | jq -r .next)" = USR-B &&
			flatctl --disk "$T/c.img" partition repair >/dev/null && sgdisk_clean "$T/c.img" &&
			test "$(cgpt show -i 9 -s "$T/c.img")" = "$want" || return 1
		done
	done
'
test_done
