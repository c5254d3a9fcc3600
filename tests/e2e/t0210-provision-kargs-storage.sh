#!/bin/bash
# t0210-provision-kargs-storage: the kargs stage as Flatcar's ignition-kargs-helper edits
# oem/grub.cfg (rebootRequired, never a reboot), and the storage entries refused before anything
# is touched: RAID and LUKS (no md, no device-mapper on these machines), a disk that cannot hold a
# GPT; missing devices skipped (docs/provision.md §5, docs/provision-apply.md). The disks stage
# itself: t0250-t0259.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
V='"ignition":{"version":"3.4.0"}'

test_expect 'kargs: added and removed in the linux_append lines, rebootRequired' '
	mkroot "$T/r1" && mkdir "$T/r1/oem" &&
	printf "set oem_id=\"qemu\"\nset linux_append=\"\$linux_append console=ttyS0 a=1\"\nset linux_append=\"\$linux_append b=2\"\n" >"$T/r1/oem/grub.cfg" &&
	chmod 600 "$T/r1/oem/grub.cfg" &&
	cfg c1 "{$V,\"kernelArguments\":{\"shouldExist\":[\"quiet\",\"a=1\"],\"shouldNotExist\":[\"console=ttyS0\"]}}" &&
	prov "$T/r1" --config "$T/c1.ign" 2>"$T/err" &&
	# the helper joins the lines with a space after each value: two spaces, as it writes them
	printf "set oem_id=\"qemu\"\n\n\nset linux_append=\"\$linux_append a=1  b=2 quiet\"\n" >"$T/exp" &&
	test_cmp "$T/exp" "$T/r1/oem/grub.cfg" && test "$(stat -c %a "$T/r1/oem/grub.cfg")" = 600 &&
	test_grep "reboot to use them" "$T/err" &&
	jq -e ".flatctl.rebootRequired == true" "$T/r1/etc/.ignition-result.json" >/dev/null
'
test_expect 'kargs already right: nothing written, no reboot' '
	mkroot "$T/r2" && mkdir "$T/r2/oem" &&
	printf "set linux_append=\"\$linux_append quiet\"\n" >"$T/r2/oem/grub.cfg" &&
	cfg c2 "{$V,\"kernelArguments\":{\"shouldExist\":[\"quiet\"],\"shouldNotExist\":[\"splash\"]}}" &&
	prov "$T/r2" --config "$T/c2.ign" 2>"$T/err" &&
	jq -e ".flatctl.rebootRequired == false" "$T/r2/etc/.ignition-result.json" >/dev/null
'
test_expect 'kargs: immutable mode adds rootflags=ro; no OEM directory: exit 1, unchanged' '
	mkroot "$T/r3" && mkdir "$T/r3/oem" &&
	cfg c3 "{$V,\"kernelArguments\":{\"shouldExist\":[\"flatcar.immutable=1\"]}}" &&
	prov "$T/r3" --config "$T/c3.ign" 2>"$T/err" &&
	test_grep "^set linux_append=\"\$linux_append flatcar.immutable=1 rootflags=ro\"$" "$T/r3/oem/grub.cfg" &&
	mkroot "$T/r4" && snap "$T/r4" r4 &&
	test_exit 1 prov "$T/r4" --config "$T/c1.ign" 2>"$T/err" &&
	test_grep "the root has no /oem" "$T/err" && same "$T/r4" r4
'
test_expect 'RAID and LUKS are refused before anything is touched, entries named' '
	mkroot "$T/r5" && snap "$T/r5" r5 &&
	cfg c5 "{$V,\"storage\":{\"files\":[{\"path\":\"/etc/f\"}],\"raid\":[{\"name\":\"md0\",\"level\":\"raid1\",\"devices\":[\"/dev/vdb\",\"/dev/vdc\"]}],\"luks\":[{\"name\":\"data\",\"device\":\"/dev/vdd\",\"keyFile\":{\"source\":\"data:,k\"}}]}}" &&
	test_exit 1 prov "$T/r5" --config "$T/c5.ign" 2>"$T/err" &&
	test_grep "storage.raid\[0\]: md0: RAID is not supported: these machines have no md driver" "$T/err" &&
	test_grep "storage.luks\[0\]: /dev/vdd: LUKS is not supported: these machines have no device-mapper" "$T/err" &&
	test_exit 1 prov "$T/r5" --config "$T/c5.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^! raid md0" "$T/out" && same "$T/r5" r5
'
test_expect 'disks and filesystems: an empty image in the root is refused, a missing device skipped (recorded)' '
	mkroot "$T/r6" && mkdir -p "$T/r6/dev" && : >"$T/r6/dev/vdb" && snap "$T/r6" r6 &&
	cfg c6 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":[{\"label\":\"DATA\"}]}],\"filesystems\":[{\"device\":\"/dev/vdc\",\"format\":\"ext4\",\"path\":\"/var/data\"}]}}" &&
	test_exit 1 prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	test_grep "storage.disks\[0\]: /dev/vdb: a disk of 0 sectors of 512 bytes is too small for a GPT" "$T/err" && same "$T/r6" r6 &&
	rm "$T/r6/dev/vdb" &&
	prov "$T/r6" --config "$T/c6.ign" 2>"$T/err" &&
	test_grep "skipped: no such device" "$T/err" &&
	jq -e ".flatctl.skipped | length == 2" "$T/r6/etc/.ignition-result.json" >/dev/null &&
	mkroot "$T/r7" && snap "$T/r7" r7 &&
	test_exit 1 prov "$T/r7" --devices strict --config "$T/c6.ign" 2>"$T/err" && same "$T/r7" r7
'
test_done
