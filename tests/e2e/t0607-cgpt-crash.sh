#!/bin/bash
# t0607-cgpt-crash: a write through the cgpt link cut at every region and sector
# (FLATCTL_TEST_CRASH_AFTER, docs/partitions.md 7.4) leaves a disk that Debian's cgpt and sgdisk
# read as wholly old or wholly new, and `cgpt repair` keeps that answer.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/cgpt-lib.sh"
# P/T/S of USR-A and USR-B as Debian's cgpt reads them
state() {
	for n in 3 4; do
		for f in P T S; do printf "%s" "$($DEB show -i $n -$f "$1")" || return 1; done &&
		printf " " || return 1
	done
}

"$MKDISK" -q --layout compact "$T/old.img"
cp "$T/old.img" "$T/new.img"
ours add -i 4 -P 2 -T 1 -S 0 "$T/new.img"
ours prioritize -i 4 "$T/new.img"
OLD=$(state "$T/old.img")
NEW=$(state "$T/new.img")

# run K S: the postinst sequence's first write (add) cut after K regions and S sectors
run() {
	cp "$T/old.img" "$T/c.img" &&
	FLATCTL_TEST_CRASH_AFTER=$1:$2 test_exit 99 ours add -i 4 -P 2 -T 1 -S 0 "$T/c.img" &&
	got=$(state "$T/c.img") &&
	# the add alone: B gets 2/1/0, A unchanged
	[ "$got" = "$OLD" ] || [ "$got" = "101 210 " ] || { echo "K=$1 S=$2: $got"; return 1; }
	$DEB show "$T/c.img" >/dev/null 2>&1 &&
	sgdisk -p "$T/c.img" >/dev/null 2>&1 &&
	ours show -q "$T/c.img" >/dev/null 2>&1 &&
	ours repair "$T/c.img" >/dev/null &&
	sgdisk -v "$T/c.img" >"$T/v" 2>&1 &&
	test_grep "No problems found" "$T/v" &&
	test "$(state "$T/c.img")" = "$got"
}

test_expect 'the expected old and new states' '
	test "$OLD" = "101 000 " &&
	test "$NEW" = "101 210 "
'

test_expect 'cut in the backup array (K=0), torn at several sectors: old or new, repair keeps it' '
	for s in 0 1 2 15 16 31; do run 0 $s || return 1; done
'

test_expect 'cut around the headers and the primary array (K=1..3)' '
	run 1 0 &&
	for s in 0 1 16 31; do run 2 $s || return 1; done &&
	run 3 0
'

test_expect 'K=4 means no crash: the write completes' '
	cp "$T/old.img" "$T/c.img" &&
	FLATCTL_TEST_CRASH_AFTER=4 ours add -i 4 -P 2 -T 1 -S 0 "$T/c.img" &&
	test "$(state "$T/c.img")" = "101 210 "
'

test_expect 'a malformed FLATCTL_TEST_CRASH_AFTER fails with exit 1, unchanged' '
	cp "$T/old.img" "$T/c.img" &&
	FLATCTL_TEST_CRASH_AFTER=x test_exit 1 ours add -i 4 -P 2 "$T/c.img" 2>"$T/e" &&
	test_grep "^cgpt add: " "$T/e" &&
	cmp "$T/old.img" "$T/c.img"
'

test_done
