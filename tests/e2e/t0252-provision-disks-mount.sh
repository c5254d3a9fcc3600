#!/bin/bash
# t0252-provision-disks-mount: the mount and umount stages and files written into mounted
# filesystems: mounted shallowest first at ROOT/path, the files stage writes under them, all is
# unmounted after and found again by mounting; a failure after the disks stage says what stays
# changed and leaves the root and mounts as before; mount paths through symlinks refused; the
# ignition link's disks/mount/files/umount processes; RAID and LUKS refused with the disks
# untouched; a partition in use is not changed; a disk of 4096-byte sectors (docs/provision.md §5,
# docs/provision-apply.md §7).
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
. "$FLATCTL_SRC/tests/e2e/lib-disks.sh"
V='"ignition":{"version":"3.4.0"}'

newdisk D1 256M || exit 1
newdisk D2 128M || exit 1
newdisk D3 128M || exit 1
newdisk D4 512M --layout compact || exit 1
truncate -s 256M "$T/D5.img" && D5=$(losetup -f --show --sector-size 4096 "$T/D5.img") && cleanup_loop "$D5" || exit 1
ln -s "$FLATCTL" "$T/ignition"


DATA="{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":[{\"number\":1,\"label\":\"VAR\",\"sizeMiB\":64},{\"number\":2,\"label\":\"DATA\"}]}],
	\"filesystems\":[{\"device\":\"/dev/vdb2\",\"format\":\"ext4\",\"label\":\"data\",\"path\":\"/var/lib/data\",\"mountOptions\":[\"noatime\",\"nodev\"]},
		{\"device\":\"/dev/disk/by-partlabel/VAR\",\"format\":\"ext4\",\"path\":\"/var\"}],
	\"directories\":[{\"path\":\"/var/lib/data/db\",\"mode\":448,\"user\":{\"id\":1000}}],
	\"files\":[{\"path\":\"/var/lib/data/db/hello\",\"mode\":384,\"contents\":{\"source\":\"data:,hello%0A\"}},
		{\"path\":\"/var/log/first\",\"contents\":{\"source\":\"data:,var%0A\"}},
		{\"path\":\"/etc/hostname\",\"contents\":{\"source\":\"data:,node%0A\"}}]}}"

test_expect 'files land in the mounted filesystems (shallowest mounted first) and are there after umount' '
	mkroot "$T/r1" &&
	cfg c1 "$DATA" &&
	prov "$T/r1" --device /dev/vdb="$D1" --config "$T/c1.ign" --dry-run >"$T/out" &&
	sed -n "/^# plan/,\$p" "$T/out" | grep -e "^+ mount" -e "^- umount" >"$T/mounts" &&
	printf "%s\n" "+ mount /var /dev/disk/by-partlabel/VAR ext4" "+ mount /var/lib/data /dev/vdb2 ext4" "- umount /var/lib/data" "- umount /var" >"$T/exp" &&
	test_cmp "$T/exp" "$T/mounts" &&
	prov "$T/r1" --device /dev/vdb="$D1" --config "$T/c1.ign" 2>"$T/err" &&
	mounted_none &&
	test "$(cat "$T/r1/etc/hostname")" = node &&
	test -d "$T/r1/var" && test -z "$(ls -A "$T/r1/var")" &&
	inside "$T/D1.img" 2 sh -c "test \"\$(cat \$0/db/hello)\" = hello && test \"\$(stat -c %a:%u \$0/db/hello)\" = 600:0 && test \"\$(stat -c %a:%u \$0/db)\" = 700:1000 && test -d \$0/lost+found && ! test -e \$0/.flatctl-stage.*" "$T/mnt" &&
	inside "$T/D1.img" 1 sh -c "test \"\$(cat \$0/log/first)\" = var && test -d \$0/lib/data && test -z \"\$(ls -A \$0/lib/data)\"" "$T/mnt" &&
	jq -e "[.flatctl.storage[].kind] == [\"table\",\"mkfs\",\"mkfs\",\"mount\",\"mount\"]" "$T/r1/etc/.ignition-result.json" >/dev/null
'

test_expect 'the same config again: partitions and filesystems reused, files written into them' '
	mkroot "$T/r2" &&
	cfg c2 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":[{\"number\":2,\"label\":\"DATA\"}]}],
		\"filesystems\":[{\"device\":\"/dev/vdb2\",\"format\":\"ext4\",\"label\":\"data\",\"path\":\"/srv\"}],
		\"files\":[{\"path\":\"/srv/db/second\",\"contents\":{\"source\":\"data:,2\"}}]}}" &&
	before=$(sgdisk -p "$T/D1.img" | sed -n "/^Number/,\$p") &&
	prov "$T/r2" -v --device /dev/vdb="$D1" --config "$T/c2.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^= partition /dev/vdb ($D1) 2: matches, kept$" "$T/out" && test_grep "^= filesystem /dev/vdb2 ext4 label data: reused" "$T/out" &&
	test "$(sgdisk -p "$T/D1.img" | sed -n "/^Number/,\$p")" = "$before" &&
	inside "$T/D1.img" 2 sh -c "test \"\$(cat \$0/db/hello)\" = hello && test \"\$(cat \$0/db/second)\" = 2" "$T/mnt" &&
	mounted_none
'

test_expect 'a failure after the disks stage: what stays changed is said, the root and mounts are as before' '
	mkroot "$T/r3" && snap "$T/r3" r3 &&
	inside "$T/D1.img" 2 sh -c "echo old >\$0/taken" "$T/mnt" &&
	cfg c3 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdc\",\"partitions\":[{\"label\":\"NEW\"}]}],
		\"filesystems\":[{\"device\":\"/dev/vdc1\",\"format\":\"ext4\",\"path\":\"/new\"},
			{\"device\":\"/dev/vdb2\",\"format\":\"ext4\",\"path\":\"/var/lib/data\"}],
		\"files\":[{\"path\":\"/new/f\",\"contents\":{\"source\":\"data:,f\"}},
			{\"path\":\"/var/lib/data/taken\",\"contents\":{\"source\":\"data:,new\"}}]}}" &&
	test_exit 1 prov "$T/r3" --device /dev/vdb="$D1" --device /dev/vdc="$D2" --config "$T/c3.ign" --report "$T/rep.json" 2>"$T/err" &&
	test_grep "files\[1\]: /var/lib/data/taken: exists and overwrite is false" "$T/err" &&
	test_grep "changed on disk before the failure, and not undone (a partition table or a new filesystem cannot be): table /dev/vdc written, mkfs /dev/vdc1 ext4" "$T/err" &&
	test_grep "the run failed after the disks stage had changed a disk: those changes (listed above) stay" "$T/err" &&
	jq -e ".success == false" "$T/rep.json" >/dev/null &&
	same "$T/r3" r3 && mounted_none &&
	test "$(sgdisk -p "$T/D2.img" | grep -c NEW)" = 1 &&
	part_loop p "$T/D2.img" 1 && blkid -p -o value -s TYPE "$p" >"$T/type" && losetup -d "$p" && test "$(cat "$T/type")" = ext4 &&
	inside "$T/D1.img" 2 grep -qx old "$T/mnt/taken"
'

test_expect 'mount paths: through a symlink or a file, refused before anything is touched' '
	mkroot "$T/r4" && mkdir -p "$T/r4/real" && ln -s real "$T/r4/link" && : >"$T/r4/file" && snap "$T/r4" r4 &&
	before=$(imgsum "$T/D3.img") &&
	cfg c4 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdd\",\"partitions\":[{\"label\":\"A\",\"sizeMiB\":16},{\"label\":\"B\",\"sizeMiB\":16}]}],
		\"filesystems\":[{\"device\":\"/dev/vdd1\",\"format\":\"ext4\",\"path\":\"/link/data\"},{\"device\":\"/dev/vdd2\",\"format\":\"ext4\",\"path\":\"/file/data\"}]}}" &&
	test_exit 1 prov "$T/r4" --device /dev/vdd="$D3" --config "$T/c4.ign" 2>"$T/err" &&
	test_grep "filesystems\[0\]: /link/data: the mount path contains a non-directory or a symlink (it lands at /real/data)" "$T/err" &&
	test_grep "filesystems\[1\]: /file/data: the mount path has a component that is not a directory" "$T/err" &&
	same "$T/r4" r4 && test "$(imgsum "$T/D3.img")" = "$before" &&
	cfg c5 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdd\",\"partitions\":[{\"label\":\"ESP\",\"sizeMiB\":34}]}],
		\"filesystems\":[{\"device\":\"/dev/vdd1\",\"format\":\"vfat\",\"path\":\"/boot\"}]}}" &&
	test_exit 1 prov "$T/r4" --device /dev/vdd="$D3" --config "$T/c5.ign" 2>"$T/err" &&
	test_grep "filesystems\[0\]: /boot: vfat filesystems cannot be mounted on these machines" "$T/err" &&
	same "$T/r4" r4 && test "$(imgsum "$T/D3.img")" = "$before"
'

test_expect 'the ignition link: disks, mount, files and umount as separate processes (device paths are host paths)' '
	R=$T/sysroot && mkroot "$R" &&
	cfg c6 "{$V,\"storage\":{\"disks\":[{\"device\":\"$D4\",\"partitions\":[{\"number\":10,\"label\":\"DATA\"}]}],
		\"filesystems\":[{\"device\":\"/dev/disk/by-partlabel/DATA\",\"format\":\"btrfs\",\"label\":\"data\",\"path\":\"/var/lib/docker\"}],
		\"files\":[{\"path\":\"/var/lib/docker/marker\",\"contents\":{\"source\":\"data:,m\"}}]}}" &&
	A="--root=$R --platform=file --config-cache=$T/run/ignition.json --state-file=$T/run/ignition/state --neednet=$T/run/ignition/neednet" &&
	IGNITION_CONFIG_FILE=$T/c6.ign "$T/ignition" $A --stage=fetch 2>"$T/err" &&
	"$T/ignition" $A --stage=disks 2>"$T/err" && mounted_none &&
	"$T/ignition" $A --stage=mount 2>"$T/err" &&
	findmnt -rn -o FSTYPE "$R/var/lib/docker" >"$T/fstype" && test "$(cat "$T/fstype")" = btrfs &&
	"$T/ignition" $A --stage=files 2>"$T/err" &&
	test "$(cat "$R/var/lib/docker/marker")" = m &&
	jq -e "[.flatctl.storage[].kind] == [\"table\",\"mkfs\",\"mount\"]" "$R/etc/.ignition-result.json" >/dev/null &&
	"$T/ignition" $A --stage=umount 2>"$T/err" && mounted_none && ! test -e "$R/var/lib/docker/marker" &&
	test_exit 1 "$T/ignition" $A --stage=umount 2>"$T/err" && test_grep "/var/lib/docker: not mounted" "$T/err" &&
	inside "$T/D4.img" 10 test -f "$T/mnt/marker"
'

test_expect 'RAID and LUKS are refused with every disk untouched, byte for byte, and listed by the dry run' '
	mkroot "$T/r7" && snap "$T/r7" r7 &&
	b3=$(imgsum "$T/D3.img") && b4=$(imgsum "$T/D4.img") &&
	cfg c7 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdd\",\"wipeTable\":true,\"partitions\":[{\"label\":\"M1\",\"sizeMiB\":32}]},
			{\"device\":\"/dev/vde\",\"partitions\":[{\"label\":\"M2\",\"sizeMiB\":32}]}],
		\"raid\":[{\"name\":\"md0\",\"level\":\"raid1\",\"devices\":[\"/dev/vdd1\",\"/dev/vde11\"]}],
		\"luks\":[{\"name\":\"secret\",\"device\":\"/dev/md/md0\",\"keyFile\":{\"source\":\"data:,key\"}}],
		\"filesystems\":[{\"device\":\"/dev/mapper/secret\",\"format\":\"ext4\",\"path\":\"/srv\"}]}}" &&
	test_exit 1 prov "$T/r7" --device /dev/vdd="$D3" --device /dev/vde="$D4" --config "$T/c7.ign" 2>"$T/err" &&
	test_grep "storage.raid\[0\]: md0: RAID is not supported: these machines have no md driver" "$T/err" &&
	test_grep "storage.luks\[0\]: /dev/md/md0: LUKS is not supported: these machines have no device-mapper" "$T/err" &&
	test "$(imgsum "$T/D3.img")" = "$b3" && test "$(imgsum "$T/D4.img")" = "$b4" && same "$T/r7" r7 &&
	test_exit 1 prov "$T/r7" --device /dev/vdd="$D3" --device /dev/vde="$D4" --config "$T/c7.ign" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^! raid md0 RAID needs the md driver" "$T/out" && test_grep "^! luks /dev/md/md0 LUKS needs device-mapper" "$T/out"
'

test_expect 'a partition in use is not changed, and no filesystem is made on it' '
	mkroot "$T/r8" &&
	part_loop p "$T/D4.img" 10 && mkdir -p "$T/busy" && mount "$p" "$T/busy" &&
	before=$(imgsum "$T/D4.img") &&
	cfg c8 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vde\",\"partitions\":[{\"number\":10,\"label\":\"OTHER\",\"wipePartitionEntry\":true}]}]}}" &&
	cfg c9 "{$V,\"storage\":{\"filesystems\":[{\"device\":\"/dev/vde10\",\"format\":\"ext4\",\"wipeFilesystem\":true}]}}" &&
	{ { test_exit 1 prov "$T/r8" --device /dev/vde="$D4" --config "$T/c8.ign" 2>"$T/err" || { cat "$T/err"; false; }; } &&
	  test_grep "refusing to change partition 10, which is in use (mounted at $T/busy)" "$T/err" &&
	  test_exit 1 prov "$T/r8" --device /dev/vde="$D4" --config "$T/c9.ign" 2>"$T/err2" &&
	  test_grep "refusing to make a filesystem on a device in use (mounted at $T/busy)" "$T/err2"; rc=$?; } &&
	umount "$T/busy" && losetup -d "$p" && test "$rc" = 0 &&
	test "$(imgsum "$T/D4.img")" = "$before"
'

test_expect 'a disk of 4096-byte sectors: MiB in its sectors, the filesystem on the right bytes' '
	mkroot "$T/r9" &&
	cfg c10 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdf\",\"partitions\":[{\"number\":1,\"label\":\"A\",\"sizeMiB\":32},{\"number\":2,\"label\":\"B\"}]}],
		\"filesystems\":[{\"device\":\"/dev/vdf2\",\"format\":\"ext4\",\"path\":\"/data\"}],
		\"files\":[{\"path\":\"/data/x\",\"contents\":{\"source\":\"data:,4k\"}}]}}" &&
	prov "$T/r9" --device /dev/vdf="$D5" --config "$T/c10.ign" 2>"$T/err" &&
	sgdisk -p "$D5" | sed -n "/^Number/,\$p" >"$T/got" &&
	test_grep "^   1             256            8447   32.0 MiB    8300  A$" "$T/got" &&
	test_grep "^   2            8448           65530   223.0 MiB   8300  B$" "$T/got" &&
	p=$(losetup -f --show --sector-size 4096 -o $((8448 * 4096)) "$T/D5.img") &&
	blkid -p -o value -s TYPE "$p" >"$T/type" && mkdir -p "$T/m9" && mount "$p" "$T/m9" &&
	{ test "$(cat "$T/m9/x")" = 4k; rc=$?; } &&
	umount "$T/m9" && losetup -d "$p" && test "$rc" = 0 && test "$(cat "$T/type")" = ext4
'
test_done
