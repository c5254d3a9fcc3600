#!/bin/bash
# t0503-partition-crash: the crash matrix of docs/partitions.md §7.4 at 512-byte sectors: a
# rollback stopped after every K region writes and every S sectors of the next; every state must
# stay readable by cgpt and sgdisk, show the complete old or new table, and repair cleanly.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

mk "$T/base.img" --state booted-b
# shellcheck disable=SC2034 # used inside test_expect bodies (eval)
OLD="1/0/1 2/0/1" NEW="2/0/1 1/0/1"

test_expect 'no crash (K=4): the new state' '
	cp --sparse=always "$T/base.img" "$T/a.img" &&
	FLATCTL_TEST_CRASH_AFTER=4 flatctl --disk "$T/a.img" rollback >/dev/null &&
	expect_state "$T/a.img" "$NEW" && sgdisk_clean "$T/a.img"
'
test_expect 'malformed FLATCTL_TEST_CRASH_AFTER: exit 2, nothing written' '
	cp --sparse=always "$T/base.img" "$T/a.img" &&
	FLATCTL_TEST_CRASH_AFTER=x test_exit 2 flatctl --disk "$T/a.img" rollback 2>/dev/null &&
	FLATCTL_TEST_CRASH_AFTER=1:-2 test_exit 2 flatctl --disk "$T/a.img" rollback 2>/dev/null &&
	same "$T/a.img" "$T/base.img"
'
# regions: 1 backup array (32 sectors), 2 backup header (1), 3 primary header (1), 4 primary array (32)
for k in 0 1 2 3; do
	case $k in 0|3) n=32 ;; *) n=1 ;; esac
	test_expect "crash after $k region writes, every S in 0-$((n - 1))" '
		for s in $(seq 0 '$((n - 1))'); do
			crash_case "$T/base.img" "$T/base.img" '$k' $s "$OLD" "$NEW" || return 1
		done
	'
done

# A change on a disk with a damaged copy writes twice: the repair (regions 1-4), then the change
# (5-8); a cut anywhere leaves one complete copy and all tools on the same values.
mk "$T/dmg.img" --state booted-b
printf "\377" | dd of="$T/dmg.img" bs=1 seek=600 conv=notrunc status=none   # primary array
test_expect 'repair-then-change crash matrix on a damaged primary: K in 0-7' '
	for k in 0 1 2 3 4 5 6 7; do
		case $k in 0|3|4|7) ss="0 1 31" ;; 2|6) ss="0 1" ;; *) ss=0 ;; esac &&
		for s in $ss; do
			cp --sparse=always "$T/dmg.img" "$T/d.img" &&
			FLATCTL_TEST_CRASH_AFTER=$k:$s test_exit 99 flatctl --disk "$T/d.img" rollback >/dev/null 2>&1 &&
			cgpt show "$T/d.img" >/dev/null 2>&1 &&
			[ "$(sgdisk -p "$T/d.img" 2>/dev/null | grep -c "^ *[0-9]")" = 7 ] &&
			got=$(state "$T/d.img") &&
			if [ $k -lt 6 ] || { [ $k = 6 ] && [ $s = 0 ]; }; then want=$OLD; else want=$NEW; fi &&
			{ [ "$got" = "$want" ] || { echo "K=$k S=$s: got $got, expected $want"; return 1; }; } &&
			flatctl --disk "$T/d.img" partition repair >/dev/null && sgdisk_clean "$T/d.img" &&
			test "$(state "$T/d.img")" = "$want" || return 1
		done
	done
'
test_done
