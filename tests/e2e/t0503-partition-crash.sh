#!/bin/bash
# t0503-partition-crash: the crash matrix of spec/partitions.md §7.4 at 512-byte sectors: a
# rollback stopped after every K region writes and every S sectors of the next; every state must
# stay readable by cgpt and sgdisk, show the complete old or new table, and repair cleanly.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

mk "$T/base.img" --state booted-b
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
# regions: 1 backup array (32 sectors), 2 backup header (1), 3 primary array (32), 4 primary header (1)
for k in 0 1 2 3; do
	case $k in 0|2) n=32 ;; *) n=1 ;; esac
	test_expect "crash after $k region writes, every S in 0-$((n - 1))" '
		for s in $(seq 0 '$((n - 1))'); do
			crash_case "$T/base.img" "$T/base.img" '$k' $s "$OLD" "$NEW" || return 1
		done
	'
done
test_done
