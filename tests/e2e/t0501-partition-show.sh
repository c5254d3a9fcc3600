#!/bin/bash
# t0501-partition-show: `partition show` in every state, text and JSON, booted partition from
# ROOT/proc/cmdline, cross-checked with cgpt and sgdisk (docs/partitions.md §3.6, §8.1, §8.7).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/data/gpt/e2e.sh"

for st in fresh:1/0/1_0/0/0:USR-A updated:1/0/1_2/1/0:USR-B trying-b:1/0/1_2/0/0:USR-A \
	booted-b:1/0/1_2/0/1:USR-B fell-back:2/0/1_1/0/0:USR-A updated-a:2/1/0_1/0/1:USR-A; do
	name=${st%%:*} rest=${st#*:} want=${rest%%:*} next=${rest#*:}
	test_expect "show: state $name agrees with cgpt and sgdisk, next $next" '
		mk "$T/$name.img" --state '"$name"' &&
		expect_state "$T/$name.img" "'"${want/_/ }"'" &&
		flatctl --disk "$T/$name.img" --json partition show >"$T/j" &&
		test "$(jq -r .next "$T/j")" = '"$next"' &&
		test "$(jq -r "[.partitions[] | select(.next)] | length" "$T/j")" = 1
	'
done

test_expect 'show: text layout' '
	mk "$T/d.img" --state booted-b &&
	mkdir -p "$T/root/proc" &&
	echo "BOOT_IMAGE=/flatcar/vmlinuz-b mount.usr=/dev/mapper/usr verity.usr=PARTUUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c rootflags=rw" >"$T/root/proc/cmdline" &&
	flatctl --root "$T/root" --disk "$T/d.img" partition show >"$T/out" &&
	cat >"$T/want" <<-EOT &&
	Disk:       $T/d.img  GPT ok (primary ok, backup ok), 512-byte sectors
	Booted:     USR-B (partition 4)
	Next boot:  USR-B (partition 4)

	PART  LABEL  PRIORITY  TRIES  SUCCESSFUL  UUID
	   3  USR-A         1      0  yes         7130c94a-213a-4e5a-8e26-6cce9662f132
	   4  USR-B         2      0  yes         e03dd35c-7c2d-4a47-b3fe-27f15780a57c
	EOT
	test_cmp "$T/want" "$T/out"
'

test_expect 'show: next boot that depends on a try' '
	mk "$T/u.img" --state updated &&
	flatctl --disk "$T/u.img" partition show >"$T/out" &&
	test_grep "^Next boot:  USR-B, 1 try left, then USR-A$" "$T/out"
'

test_expect 'show --json: fields of spec §8.1' '
	mk "$T/d.img" --state booted-b &&
	flatctl --root "$T/root" --disk "$T/d.img" --json partition show >"$T/j" &&
	test "$(jq -r .disk "$T/j")" = "$T/d.img" &&
	test "$(jq -r .sector_size "$T/j")" = 512 &&
	test "$(jq -r .sectors "$T/j")" = 262144 &&
	test "$(jq -r .disk_guid "$T/j")" = 00000000-0000-0000-0000-000000000001 &&
	test "$(jq -c .gpt "$T/j")" = "{\"source\":\"primary\",\"primary\":\"ok\",\"backup\":\"ok\",\"grown\":false,\"problems\":[]}" &&
	test "$(jq -r .booted "$T/j")" = USR-B &&
	test "$(jq -r .next "$T/j")" = USR-B &&
	test "$(jq -r "has(\"booted_inferred\")" "$T/j")" = false &&
	test "$(jq -c ".partitions[1]" "$T/j")" = "{\"number\":4,\"label\":\"USR-B\",\"uuid\":\"e03dd35c-7c2d-4a47-b3fe-27f15780a57c\",\"priority\":2,\"tries\":0,\"successful\":true,\"attributes\":\"0x0102000000000000\",\"booted\":true,\"next\":true}"
'

test_expect 'booted: PARTLABEL=, PARTUUID= in any case, a device path, usr=, mount.usr=/dev/mapper ignored' '
	mk "$T/d.img" --state booted-b &&
	for c in "mount.usr=PARTLABEL=USR-A:USR-A" "verity.usr=PARTUUID=7130C94A-213A-4E5A-8E26-6CCE9662F132:USR-A" \
		"usr=PARTLABEL=USR-B:USR-B" "mount.usr=PARTLABEL=USR-A verity.usr=PARTLABEL=USR-B:USR-B" \
		"mount.usr=/dev/mapper/usr usr=PARTLABEL=USR-A:USR-A" "mount.usr=/dev/vda4:USR-B" \
		"usr=/dev/nvme0n1p3:USR-A"; do
		echo "${c%:*}" >"$T/root/proc/cmdline" &&
		test "$(flatctl --root "$T/root" --disk "$T/d.img" --json partition show | jq -r .booted)" = "${c##*:}" || return 1
	done
'

test_expect 'booted: inferred on an image file with no command line' '
	mk "$T/d.img" --state fell-back &&
	rm -f "$T/root/proc/cmdline" &&
	flatctl --root "$T/root" --disk "$T/d.img" --json partition show >"$T/j" &&
	test "$(jq -r .booted "$T/j")" = USR-A &&
	test "$(jq -r .booted_inferred "$T/j")" = true
'

test_expect 'booted: a command line naming no partition of this disk falls back to inference' '
	mk "$T/d.img" --state fresh &&
	for c in mount.usr=PARTLABEL=USR-C mount.usr=/dev/vda77 usr=/dev/vda9 verity.usr=PARTUUID=bogus; do
		echo "$c" >"$T/root/proc/cmdline" &&
		flatctl --root "$T/root" --disk "$T/d.img" --json partition show >"$T/j" &&
		test "$(jq -r .booted_inferred "$T/j")" = true || return 1
	done
'

test_expect 'show: reading never writes' '
	mk "$T/d.img" --state updated && cp "$T/d.img" "$T/o.img" &&
	flatctl --disk "$T/d.img" partition show >/dev/null && same "$T/o.img" "$T/d.img"
'

test_expect 'show: 4096-byte GPT in a plain file (a loop device built it)' '
	mk "$T/4k.img" --sector-size 4096 --state updated &&
	flatctl --disk "$T/4k.img" --json partition show >"$T/j" &&
	test "$(jq -r .sector_size "$T/j")" = 4096 &&
	test "$(jq -r .sectors "$T/j")" = 32768 &&
	test "$(jq -r "[.partitions[] | \"\(.priority)\(.tries)\"] | join(\" \")" "$T/j")" = "10 21"
'

test_expect 'a damaged copy: exit 0, one warning naming it, problems in JSON as in §6.2' '
	mk "$T/d.img" --state updated &&
	printf X | dd of="$T/d.img" bs=1 seek=$((262143 * 512 + 20)) conv=notrunc status=none &&
	flatctl --disk "$T/d.img" --json partition show >"$T/j" 2>"$T/e" &&
	test "$(wc -l <"$T/e")" = 1 &&
	test_grep "backup GPT invalid (header CRC mismatch); run .flatctl partition repair." "$T/e" &&
	test "$(jq -r .gpt.backup "$T/j")" = invalid && test "$(jq -r .gpt.source "$T/j")" = primary &&
	jq -r ".gpt.problems[0]" "$T/j" | grep -q "^backup header at LBA 262143: header CRC 0x[0-9a-f]\{8\}, computed 0x[0-9a-f]\{8\}$" &&
	flatctl --disk "$T/d.img" partition show 2>/dev/null | head -1 >"$T/out" &&
	test_grep "GPT usable (primary ok, backup invalid: header CRC mismatch); run .flatctl partition repair." "$T/out"
'

test_expect 'both copies valid but different: the primary, backup stale' '
	mk "$T/d.img" --state booted-b && mk "$T/f.img" &&
	dd if="$T/f.img" of="$T/d.img" bs=512 skip=262111 seek=262111 count=33 conv=notrunc status=none &&
	flatctl --disk "$T/d.img" --json partition show >"$T/j" 2>/dev/null &&
	test "$(jq -r .gpt.backup "$T/j")" = stale && test "$(jq -r .next "$T/j")" = USR-B &&
	flatctl --disk "$T/d.img" partition repair >/dev/null && sgdisk_clean "$T/d.img" &&
	expect_state "$T/d.img" "1/0/1 2/0/1"
'

for applet in partition rollback; do
	test_expect "$applet --help: every long option is in man/flatctl-$applet.1.scd" '
		flatctl '$applet' --help >"$T/h" && test_grep "^Usage: flatctl '$applet'" "$T/h" &&
		for o in $(grep -o -- "--[a-z-]*" "$T/h" | sort -u); do
			grep -q -- "$o" "$FLATCTL_SRC/man/flatctl-'$applet'.1.scd" || { echo "$o missing"; return 1; }
		done
	'
done
test_done
