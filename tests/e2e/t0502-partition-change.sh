#!/bin/bash
# t0502-partition-change: prioritize, mark-successful, rollback and repair on mkdisk images,
# byte-compared with Debian's cgpt and checked with sgdisk -v after every write
# (docs/partitions.md §3, §4, §8.2-8.5).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

test_expect 'prioritize USR-B on fresh: same bytes as cgpt prioritize' '
	mk "$T/a.img" && cp "$T/a.img" "$T/c.img" &&
	flatctl --disk "$T/a.img" partition prioritize USR-B 2>"$T/e" &&
	test_grep "GRUB will skip it" "$T/e" &&
	as_kernel "$T/c.img" cgpt prioritize -i 4 "$T/c.img" &&
	same "$T/a.img" "$T/c.img" && sgdisk_clean "$T/a.img" &&
	expect_state "$T/a.img" "1/0/1 2/0/0"
'

for st in fresh updated trying-b booted-b fell-back updated-a; do
	for n in 3 4; do
		test_expect "prioritize $n in state $st: same bytes as cgpt" '
			mk "$T/a.img" --state '$st' && cp "$T/a.img" "$T/c.img" &&
			flatctl --disk "$T/a.img" partition prioritize '$n' 2>/dev/null >/dev/null &&
			as_kernel "$T/c.img" cgpt prioritize -i '$n' "$T/c.img" &&
			same "$T/a.img" "$T/c.img" && sgdisk_clean "$T/a.img"
		'
	done
done

test_expect 'prioritize: unknown target and wrong type are exit 2, nothing written' '
	mk "$T/a.img" && cp "$T/a.img" "$T/o.img" &&
	test_exit 2 flatctl --disk "$T/a.img" partition prioritize USR-C 2>"$T/e" &&
	test_grep "no partition labelled .USR-C. of type flatcar-usr on" "$T/e" &&
	test_exit 2 flatctl --disk "$T/a.img" partition prioritize 9 2>"$T/e" &&
	test_grep "no partition 9 of type flatcar-usr" "$T/e" &&
	test_exit 2 flatctl --disk "$T/a.img" partition prioritize ROOT 2>/dev/null &&
	test_exit 2 flatctl --disk "$T/a.img" partition prioritize 2>/dev/null &&
	same "$T/a.img" "$T/o.img"
'

test_expect 'mark-successful on the booted partition = cgpt add -S1 -T0 + prioritize' '
	mk "$T/a.img" --state trying-b && cp "$T/a.img" "$T/c.img" &&
	mkdir -p "$T/root/proc" && echo "mount.usr=PARTLABEL=USR-B" >"$T/root/proc/cmdline" &&
	flatctl --root "$T/root" --disk "$T/a.img" partition mark-successful &&
	cgpt add -i 4 -S 1 -T 0 "$T/c.img" && as_kernel "$T/c.img" cgpt prioritize -i 4 "$T/c.img" &&
	same "$T/a.img" "$T/c.img" && sgdisk_clean "$T/a.img" &&
	expect_state "$T/a.img" "1/0/1 2/0/1"
'

test_expect 'mark-successful twice: no write, says so' '
	cp "$T/a.img" "$T/o.img" && touch -d @0 "$T/a.img" &&
	flatctl --root "$T/root" --disk "$T/a.img" partition mark-successful >"$T/out" &&
	test_grep "^USR-B is already marked successful$" "$T/out" &&
	same "$T/a.img" "$T/o.img" && test "$(stat -c %Y "$T/a.img")" = 0
'

test_expect 'mark-successful: other than booted needs --force; unknown booted needs a target' '
	mk "$T/a.img" --state updated && cp "$T/a.img" "$T/o.img" &&
	echo "verity.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132" >"$T/root/proc/cmdline" &&
	test_exit 2 flatctl --root "$T/root" --disk "$T/a.img" partition mark-successful USR-B 2>"$T/e" &&
	test_grep "USR-B is not the booted partition (USR-A is)" "$T/e" && same "$T/a.img" "$T/o.img" &&
	flatctl --root "$T/root" --disk "$T/a.img" partition mark-successful --force USR-B >/dev/null &&
	expect_state "$T/a.img" "1/0/1 2/0/1" &&
	rm "$T/root/proc/cmdline" && cp "$T/o.img" "$T/a.img" &&
	test_exit 2 flatctl --root "$T/root" --disk "$T/a.img" partition mark-successful 2>"$T/e" &&
	test_grep "cannot tell which USR partition is booted: no mount.usr= or verity.usr= on the kernel command line; name the partition" "$T/e" &&
	same "$T/a.img" "$T/o.img"
'

# rollback from each state of §3.6 (spec §8.4)
for c in booted-b:2/0/1_1/0/1 updated:2/0/1_1/1/0 trying-b:1/0/1_2/1/0 fell-back:1/0/1_2/1/0 \
	updated-a:1/1/0_2/0/1; do
	st=${c%%:*} want=${c#*:}
	test_expect "rollback in state $st" '
		mk "$T/a.img" --state '$st' &&
		flatctl --disk "$T/a.img" rollback >"$T/out" &&
		test_grep "^next boot: " "$T/out" &&
		expect_state "$T/a.img" "'"${want/_/ }"'" && sgdisk_clean "$T/a.img"
	'
done

test_expect 'rollback twice in booted-b restores the original bytes' '
	mk "$T/a.img" --state booted-b && cp "$T/a.img" "$T/o.img" &&
	flatctl --disk "$T/a.img" rollback >"$T/out" &&
	test_grep "^next boot: USR-A (partition 3, successful)$" "$T/out" &&
	flatctl --disk "$T/a.img" rollback >/dev/null && same "$T/a.img" "$T/o.img"
'

test_expect 'rollback to a never-installed partition: exit 1 unless --force' '
	mk "$T/a.img" && cp "$T/a.img" "$T/o.img" &&
	test_exit 1 flatctl --disk "$T/a.img" rollback 2>"$T/e" &&
	test_grep "^flatctl rollback: USR-B holds no installed version (priority 0, never booted); nothing to roll back to$" "$T/e" &&
	same "$T/a.img" "$T/o.img" &&
	flatctl --disk "$T/a.img" rollback --force >/dev/null && expect_state "$T/a.img" "1/0/1 2/1/0"
'

test_expect 'rollback --dry-run writes nothing; --json reports the new state' '
	mk "$T/a.img" --state booted-b && cp "$T/a.img" "$T/o.img" &&
	flatctl --disk "$T/a.img" rollback --dry-run >"$T/out" &&
	test_grep "USR-A: priority 1 -> 2" "$T/out" && same "$T/a.img" "$T/o.img" &&
	flatctl --disk "$T/a.img" --json rollback >"$T/j" &&
	test "$(jq -r .changed "$T/j")" = true && test "$(jq -r .next "$T/j")" = USR-A
'

test_expect 'rollback with one USR partition: exit 2' '
	mk "$T/a.img" && cgpt add -i 4 -t data "$T/a.img" &&
	flatctl --disk "$T/a.img" partition show >"$T/out" && test_grep "^   3  USR-A" "$T/out" &&
	test_exit 2 flatctl --disk "$T/a.img" rollback 2>"$T/e" && test_grep "needs exactly two" "$T/e"
'

for which in primary-header:1 primary-array:5 backup-array:262120 backup-header:262143; do
	name=${which%%:*} sec=${which#*:}
	test_expect "repair after damaging the $name restores the bytes (as cgpt repair does)" '
		mk "$T/a.img" --state updated && cp "$T/a.img" "$T/o.img" &&
		printf "\377\377\377\377" | dd of="$T/a.img" bs=1 seek=$(('$sec' * 512 + 40)) conv=notrunc status=none &&
		cp "$T/a.img" "$T/c.img" &&
		flatctl --disk "$T/a.img" partition show >/dev/null 2>"$T/e" &&
		test_grep "run .flatctl partition repair." "$T/e" &&
		expect_state "$T/a.img" "1/0/1 2/1/0" &&
		flatctl --disk "$T/a.img" partition repair >"$T/out" && test_grep "^repaired GPT on" "$T/out" &&
		same "$T/a.img" "$T/o.img" &&
		cgpt repair "$T/c.img" 2>/dev/null && same "$T/c.img" "$T/o.img" &&
		flatctl --disk "$T/a.img" partition repair >"$T/out" &&
		test_grep "^GPT on .$T/a.img. is consistent$" "$T/out"
	'
done

test_expect 'a change with a damaged primary repairs it on the way' '
	mk "$T/a.img" --state updated &&
	printf "\377" | dd of="$T/a.img" bs=1 seek=600 conv=notrunc status=none &&
	flatctl --disk "$T/a.img" rollback >/dev/null && sgdisk_clean "$T/a.img" &&
	expect_state "$T/a.img" "2/0/1 1/1/0" &&
	flatctl --disk "$T/a.img" --json partition show | jq -e ".gpt.primary == \"ok\" and .gpt.backup == \"ok\"" >/dev/null
'

test_expect '--json on changes: the show document plus changed' '
	mk "$T/a.img" --state updated &&
	flatctl --disk "$T/a.img" --json partition prioritize USR-A >"$T/j" &&
	test "$(jq -r .changed "$T/j")" = true && test "$(jq -r .next "$T/j")" = USR-A &&
	flatctl --disk "$T/a.img" --json partition prioritize USR-A >"$T/j" &&
	test "$(jq -r .changed "$T/j")" = false
'
test_expect 'the real Flatcar layout (8 GiB sparse): rollback = cgpt bytes, repair = original' '
	"$MKDISK" -q --state updated "$T/fl.img" && cp --sparse=always "$T/fl.img" "$T/flc.img" &&
	cp --sparse=always "$T/fl.img" "$T/flo.img" &&
	flatctl --disk "$T/fl.img" rollback >/dev/null &&
	as_kernel "$T/flc.img" cgpt prioritize -i 3 "$T/flc.img" &&
	same "$T/fl.img" "$T/flc.img" && sgdisk_clean "$T/fl.img" && expect_state "$T/fl.img" "2/0/1 1/1/0" &&
	test "$(cgpt show -i 4 -b "$T/fl.img")" = 6299648 &&
	printf X | dd of="$T/flo.img" bs=1 seek=532 conv=notrunc status=none &&
	flatctl --disk "$T/flo.img" partition repair >/dev/null && "$MKDISK" -q --state updated --force "$T/fl.img" &&
	same "$T/flo.img" "$T/fl.img"
'
test_expect 'older install with a hybrid MBR: no warning, LBA 0 kept, same bytes as cgpt' '
	mk "$T/h.img" --hybrid-mbr --state booted-b && cp "$T/h.img" "$T/c.img" &&
	flatctl --disk "$T/h.img" partition show >/dev/null 2>"$T/e" && ! test -s "$T/e" &&
	flatctl --disk "$T/h.img" rollback >/dev/null &&
	as_kernel "$T/c.img" cgpt prioritize -i 3 "$T/c.img" &&
	same "$T/h.img" "$T/c.img" && sgdisk_clean "$T/h.img" && expect_state "$T/h.img" "2/0/1 1/0/1"
'
test_done
