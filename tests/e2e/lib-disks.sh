# shellcheck shell=bash
# tests/e2e/lib-disks.sh - helpers of the disks-stage tests (sourced after lib.sh and
# lib-provision.sh): image files on loop devices, as Ignition's blackbox tests use them, and
# their partitions reached through loop devices over the partition's bytes.
#   newdisk VAR SIZE [MKDISK-ARGS...]  $T/VAR.img (blank, or made by "$MKDISK" with the args)
#                                      on a loop device, its name in VAR; detached at exit
#                                      (call it outside test bodies, so that the loop is
#                                      registered with cleanup_loop)
#   ptable IMG                         the partition rows of sgdisk -p
#   part_loop VAR IMG N                a loop device over partition N of IMG, in VAR (its
#                                      backing file is under $T: lib.sh detaches it at exit)
#   inside IMG N CMD...                CMD run with partition N of IMG mounted at $T/mnt
#                                      (unmounted and detached after, CMD's status returned)
#   mounted_none                       nothing is mounted below $T
#   imgsum IMG                         sha256 of the image (a disk compared byte for byte)
newdisk() {
	local name=$1 size=$2 l &&
	shift 2 &&
	if [ "$#" -gt 0 ]; then
		"$MKDISK" -q --force --size "$size" "$@" "$T/$name.img"
	else
		truncate -s "$size" "$T/$name.img"
	fi &&
	l=$(losetup -f --show "$T/$name.img") &&
	cleanup_loop "$l" &&
	printf -v "$name" %s "$l"
}
ptable() { sgdisk -p "$1" | sed -n '/^Number/,$p'; }
part_loop() {
	local range dev &&
	range=$(sgdisk -i "$3" "$2" | awk '/^First sector:/ { f = $3 } /^Last sector:/ { l = $3 }
		END { if (f == "") exit 1; print f * 512, (l - f + 1) * 512 }') &&
	dev=$(losetup -f --show -o "${range% *}" --sizelimit "${range#* }" "$2") &&
	printf -v "$1" %s "$dev"
}
inside() {
	local p img=$1 n=$2 rc &&
	shift 2 &&
	part_loop p "$img" "$n" &&
	mkdir -p "$T/mnt" &&
	mount "$p" "$T/mnt" &&
	{ "$@"; rc=$?; } &&
	umount "$T/mnt" &&
	losetup -d "$p" &&
	return "$rc"
}
mounted_none() { ! findmnt -rn -o TARGET | grep -qF "$T/"; }
imgsum() { sha256sum <"$1" | cut -d' ' -f1; }
