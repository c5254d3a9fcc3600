#!/bin/bash
# t0507-partition-truncated: a Flatcar image cut below its partitions (issue 14, D6). `partition
# show` and `cgpt show` still read it (the primary copy is whole) but advise only what works:
# `repair` cannot move the backup inside partitions that run past the end, so they say why and
# that the disk's size must come back; once it does, the repair they advise then works
# (docs/partitions.md §6.5, §10).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cgpt-lib.sh"

"$MKDISK" -q --state updated "$T/t.img"
truncate -s 64M "$T/t.img"
cp "$T/t.img" "$T/t0.img"

test_expect 'show reads the truncated image and does not advise a repair that fails' '
	flatctl --disk "$T/t.img" partition show >"$T/out" 2>"$T/err" &&
	test_grep "^Disk: .*GPT usable (primary ok, backup invalid: no header)" "$T/out" &&
	! grep -q "run .flatctl partition repair." "$T/out" "$T/err" &&
	test_grep "repair. cannot fix this: partition 1 ends at LBA 2101247 beyond the last usable LBA 131038" "$T/out" &&
	test_grep "restore the disk.s size first" "$T/err" &&
	flatctl --disk "$T/t.img" --json partition show 2>/dev/null | jq -e ".next == \"USR-B\"" >/dev/null
'

test_expect 'repair exits 2 with the same reason, nothing written' '
	test_exit 2 flatctl --disk "$T/t.img" partition repair 2>"$T/err" &&
	test_grep "^flatctl partition: repairing .*partition 1 ends at LBA 2101247 .*restore the disk.s size first$" "$T/err" &&
	cmp "$T/t.img" "$T/t0.img"
'

test_expect 'the cgpt link: show warns without advising cgpt repair, which fails alike' '
	ours show "$T/t.img" >/dev/null 2>"$T/err" &&
	! grep -q "run .cgpt repair." "$T/err" && test_grep "cgpt repair. cannot fix this" "$T/err" &&
	test_exit 1 ours repair "$T/t.img" 2>"$T/err" && test_grep "partition 1 ends at LBA" "$T/err" &&
	cmp "$T/t.img" "$T/t0.img"
'

test_expect 'with the size restored, the advice is repair, and the repair works' '
	truncate -s $((16515072 * 512)) "$T/t.img" &&
	flatctl --disk "$T/t.img" partition show >"$T/out" 2>"$T/err" &&
	test_grep "; run .flatctl partition repair.," "$T/out" &&
	flatctl --disk "$T/t.img" partition repair >/dev/null &&
	flatctl --disk "$T/t.img" partition show >"$T/out" 2>"$T/err" &&
	! grep -q "^flatctl partition: warning" "$T/err" &&
	test_grep "GPT ok (primary ok, backup ok)" "$T/out" && sgdisk_ok "$T/t.img" &&
	test "$($DEB show -i 4 -P "$T/t.img")$($DEB show -i 4 -T "$T/t.img")" = 21
'

test_done
