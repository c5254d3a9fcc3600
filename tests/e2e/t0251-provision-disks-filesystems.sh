#!/bin/bash
# t0251-provision-disks-filesystems: filesystems made by the real mkfs tools on partitions of a
# loop device (ext4, xfs, btrfs, vfat, swap) with label, UUID and options, checked with blkid,
# fsck and by mounting (vfat: blkid and fsck.vfat only, this kernel has no vfat driver; swap:
# blkid); Ignition's reuse and wipe rules: a filesystem kept with its data, another refused
# without wipeFilesystem, format none; mkfs refusals found before anything is written
# (docs/provision.md §5.1, docs/provision-apply.md §7).
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
. "$FLATCTL_SRC/tests/e2e/lib-disks.sh"
V='"ignition":{"version":"3.4.0"}'
U_EXT=1b4e28ba-2fa1-11d2-883f-0016d3cca427
U_XFS=2c5f39cb-3fb2-42e3-994f-1127e4ddb538
U_BTR=3d6a4adc-40c3-43f4-8a5f-2238f5eec649

newdisk D1 1G || exit 1
newdisk D2 128M || exit 1
mkroot "$T/r"

# fscheck IMG N TYPE: blkid -p of partition N says TYPE; the type's fsck finds nothing wrong
fscheck() {
	local p &&
	part_loop p "$1" "$2" &&
	blkid -p -o export "$p" >"$T/blkid.$2" &&
	case $3 in
	ext4) fsck.ext4 -n "$p" >/dev/null 2>&1 ;;
	xfs) xfs_repair -n "$p" >/dev/null 2>&1 ;;
	btrfs) btrfs check --readonly "$p" >/dev/null 2>&1 ;;
	vfat) fsck.vfat -n "$p" >/dev/null ;;
	swap) true ;;
	esac &&
	losetup -d "$p" &&
	grep -qx "TYPE=$3" "$T/blkid.$2"
}

test_expect 'ext4, xfs, btrfs, vfat and swap made with label, UUID and options' '
	cfg c1 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdb\",\"partitions\":[
		{\"number\":1,\"label\":\"EXT\",\"sizeMiB\":64},{\"number\":2,\"label\":\"XFS\",\"sizeMiB\":320},
		{\"number\":3,\"label\":\"BTR\",\"sizeMiB\":128},{\"number\":4,\"label\":\"FAT\",\"sizeMiB\":32},
		{\"number\":5,\"label\":\"SWAP\",\"sizeMiB\":16}]}],
	\"filesystems\":[
		{\"device\":\"/dev/vdb1\",\"format\":\"ext4\",\"label\":\"data\",\"uuid\":\"$U_EXT\",\"options\":[\"-b\",\"4096\",\"-m\",\"0\"]},
		{\"device\":\"/dev/disk/by-partlabel/XFS\",\"format\":\"xfs\",\"label\":\"logs\",\"uuid\":\"$U_XFS\"},
		{\"device\":\"/dev/vdb3\",\"format\":\"btrfs\",\"label\":\"pool\",\"uuid\":\"$U_BTR\"},
		{\"device\":\"/dev/vdb4\",\"format\":\"vfat\",\"label\":\"EFI\",\"uuid\":\"abcd-1234\"},
		{\"device\":\"/dev/vdb5\",\"format\":\"swap\",\"label\":\"sw\"}]}}" &&
	prov "$T/r" --device /dev/vdb="$D1" --config "$T/c1.ign" 2>"$T/err" &&
	fscheck "$T/D1.img" 1 ext4 && test_grep "^LABEL=data$" "$T/blkid.1" && test_grep "^UUID=$U_EXT$" "$T/blkid.1" &&
	part_loop p "$T/D1.img" 1 && dumpe2fs -h "$p" >"$T/dump" 2>/dev/null && losetup -d "$p" &&
	test_grep "^Block size: *4096$" "$T/dump" && test_grep "^Reserved block count: *0$" "$T/dump" &&
	fscheck "$T/D1.img" 2 xfs && test_grep "^LABEL=logs$" "$T/blkid.2" && test_grep "^UUID=$U_XFS$" "$T/blkid.2" &&
	fscheck "$T/D1.img" 3 btrfs && test_grep "^LABEL=pool$" "$T/blkid.3" && test_grep "^UUID=$U_BTR$" "$T/blkid.3" &&
	fscheck "$T/D1.img" 4 vfat && test_grep "^LABEL=EFI$" "$T/blkid.4" && test_grep "^UUID=ABCD-1234$" "$T/blkid.4" &&
	fscheck "$T/D1.img" 5 swap && test_grep "^LABEL=sw$" "$T/blkid.5" &&
	inside "$T/D1.img" 1 test -d "$T/mnt/lost+found" &&
	inside "$T/D1.img" 2 test -z "$(ls -A "$T/mnt")" &&
	inside "$T/D1.img" 3 test -z "$(ls -A "$T/mnt")" &&
	jq -e "[.flatctl.storage[] | select(.kind == \"mkfs\")] | length == 5" "$T/r/etc/.ignition-result.json" >/dev/null &&
	mounted_none
'

test_expect 'reuse: the same filesystem is kept with its data; another is refused without wipeFilesystem, disk untouched' '
	inside "$T/D1.img" 1 sh -c "echo kept >\"\$0/mine\"" "$T/mnt" &&
	cfg c2 "{$V,\"storage\":{\"filesystems\":[{\"device\":\"/dev/vdb1\",\"format\":\"ext4\",\"label\":\"data\",\"uuid\":\"${U_EXT^^}\"},
		{\"device\":\"/dev/vdb4\",\"format\":\"vfat\",\"uuid\":\"ABCD1234\"}]}}" &&
	prov "$T/r" --force -v --device /dev/vdb="$D1" --config "$T/c2.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^= filesystem /dev/vdb1 ext4 label data: reused, nothing to do$" "$T/out" &&
	test_grep "^= filesystem /dev/vdb4 vfat label EFI: reused, nothing to do$" "$T/out" &&
	inside "$T/D1.img" 1 grep -qx kept "$T/mnt/mine" &&
	before=$(imgsum "$T/D1.img") &&
	cfg c3 "{$V,\"storage\":{\"filesystems\":[{\"device\":\"/dev/vdb1\",\"format\":\"xfs\"},
		{\"device\":\"/dev/vdb3\",\"format\":\"btrfs\",\"label\":\"other\"},{\"device\":\"/dev/vdb5\",\"format\":\"none\"}]}}" &&
	test_exit 1 prov "$T/r" --force --device /dev/vdb="$D1" --config "$T/c3.ign" 2>"$T/err" &&
	test_grep "filesystems\[0\]: /dev/vdb1: holds a ext4 filesystem (label \"data\", UUID $U_EXT), not the xfs wanted, and wipeFilesystem is not set" "$T/err" &&
	test_grep "filesystems\[1\]: /dev/vdb3: holds a btrfs filesystem (label \"pool\", UUID $U_BTR), not the btrfs wanted with that label and UUID" "$T/err" &&
	test_grep "filesystems\[2\]: /dev/vdb5: holds a swap filesystem" "$T/err" &&
	test "$(imgsum "$T/D1.img")" = "$before"
'

test_expect 'wipeFilesystem: made anew over the old one (data gone); format none wipes the signature' '
	cfg c4 "{$V,\"storage\":{\"filesystems\":[{\"device\":\"/dev/vdb1\",\"format\":\"ext4\",\"label\":\"fresh\",\"wipeFilesystem\":true},
		{\"device\":\"/dev/vdb5\",\"format\":\"none\",\"wipeFilesystem\":true}]}}" &&
	prov "$T/r" --force --device /dev/vdb="$D1" --config "$T/c4.ign" 2>"$T/err" &&
	fscheck "$T/D1.img" 1 ext4 && test_grep "^LABEL=fresh$" "$T/blkid.1" && ! grep -q "^UUID=$U_EXT$" "$T/blkid.1" &&
	inside "$T/D1.img" 1 test ! -e "$T/mnt/mine" &&
	part_loop p "$T/D1.img" 5 && test_exit 2 blkid -p "$p" && losetup -d "$p"
'

test_expect 'mkfs refusals are found before anything is written: the new partition is not made either' '
	before=$(imgsum "$T/D2.img") &&
	cfg c5 "{$V,\"storage\":{\"disks\":[{\"device\":\"/dev/vdc\",\"partitions\":[{\"label\":\"SMALL\",\"sizeMiB\":64},{\"label\":\"B\",\"sizeMiB\":8}]}],
		\"filesystems\":[{\"device\":\"/dev/disk/by-partlabel/SMALL\",\"format\":\"xfs\"},
		{\"device\":\"/dev/vdc2\",\"format\":\"ext4\",\"options\":[\"-E\",\"no_such_thing\"]}]}}" &&
	test_exit 1 prov "$T/r" --force --device /dev/vdc="$D2" --config "$T/c5.ign" 2>"$T/err" &&
	test_grep "filesystems\[0\]: /dev/disk/by-partlabel/SMALL: mkfs.xfs refuses this filesystem: Filesystem must be larger than 300MB" "$T/err" &&
	test_grep "filesystems\[1\]: /dev/vdc2: mkfs.ext4 refuses this filesystem: .*no_such_thing" "$T/err" &&
	test "$(imgsum "$T/D2.img")" = "$before" && test_exit 2 blkid -p "$T/D2.img"
'
test_done
