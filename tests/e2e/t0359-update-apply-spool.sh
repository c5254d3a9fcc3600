#!/bin/bash
# t0359-update-apply-spool: the verify pass keeps the decompressed image in an unlinked O_TMPFILE
# in the state directory and the write pass copies it (docs/update.md 5.5, 6.2, 6.3): the
# installed partition is byte-identical to the image, nothing is left in the state directory,
# and when the state directory has no room for the image the install falls back to decompressing
# twice (logged at -v) with the same result. A block-device target that is mounted is refused
# (6.2: exit 1, code 7) before anything is written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update

make_bz_payload "$T/p.gz"
cp "$T/p.gz.pack.out" "$T/pack.out"
IMG_SUM=$(file_sum "$T/p.gz.img")
IMG_SIZE=$(stat -c %s "$T/p.gz.img")
A0=$(part_sum 3)
STATE_DIR=$R/var/lib/flatctl/update

test_expect 'the payload really is REPLACE_BZ' '
	flatctl update verify --key "$R/usr/share/update_engine/update-payload-key.pub.pem" "$T/p.gz" >"$T/v.out" &&
	test_grep "REPLACE_BZ" "$T/v.out"
'

test_expect 'install with the spool: USR-B is the image byte for byte, USR-A untouched' '
	flatctl -v --root "$R" --disk "$D" update apply --payload "$T/p.gz" --version 4081.2.0 \
		>"$T/out" 2>"$T/err" &&
	test_grep "decompressed image kept in an unlinked spool file" "$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	test "$(part_sum 4 "$IMG_SIZE")" = "$IMG_SUM" &&
	test "$(part_sum 3)" = "$A0" &&
	test "$(attrs 4)" = "2 1 0"
'

test_expect 'the spool left nothing behind in the state directory' '
	ls -A "$STATE_DIR" >"$T/ls" &&
	! grep -v -x -e state.json -e status.json -e lock "$T/ls"
'

test_expect 'no room for the spool in the state directory: decompress twice, same bytes' '
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	"$MKDISK" -q --force --layout compact --state fresh "$D" &&
	cp "$STATE_DIR/state.json" "$T/state.json" &&
	mount -t tmpfs -o size=1m,mode=0700 tmpfs "$STATE_DIR" &&
	cp "$T/state.json" "$STATE_DIR/state.json" &&
	flatctl -v --root "$R" --disk "$D" update apply --payload "$T/p.gz" --version 4081.2.0 \
		>"$T/out" 2>"$T/err" &&
	test_grep "not spooling the decompressed image (not enough free space); decompressing twice" "$T/err" &&
	! grep -q "kept in an unlinked spool" "$T/err" &&
	test "$(part_sum 4 "$IMG_SIZE")" = "$IMG_SUM" &&
	test "$(part_sum 3)" = "$A0"
'
cleanup_mount "$STATE_DIR"
umount "$STATE_DIR" 2>/dev/null

# 6.2: a mounted target on a block device. A loop device with partition devices (losetup -P),
# an ext4 file system on USR-B's partition device, mounted; attached and mounted at the top
# level so that the EXIT trap detaches and unmounts whatever happens.
"$MKDISK" -q --force --layout compact --state fresh "$T/blk.img"
LOOP=$(losetup --find --show -P "$T/blk.img") || { echo "Bail out! losetup failed"; exit 1; }
cleanup_loop "$LOOP"
# where the kernel does not scan the table itself, partx adds the partitions (BLKPG)
for i in $(seq 20); do [ -b "${LOOP}p4" ] && break; sleep 0.1; done
[ -b "${LOOP}p4" ] || partx -a "$LOOP" || { echo "Bail out! partx -a $LOOP failed"; exit 1; }
mkfs.ext4 -q -F "${LOOP}p4" || { echo "Bail out! mkfs.ext4 ${LOOP}p4 failed"; exit 1; }
mkdir -p "$T/mnt"
cleanup_mount "$T/mnt"
mount "${LOOP}p4" "$T/mnt" || { echo "Bail out! mount ${LOOP}p4 failed"; exit 1; }
USR_A_UUID=$(sgdisk -i 3 "$T/blk.img" | sed -n 's/^Partition unique GUID: //p' | tr A-F a-f)
mkdir -p "$R/proc"
echo "BOOT_IMAGE=/flatcar/vmlinuz-a mount.usr=PARTUUID=$USR_A_UUID" >"$R/proc/cmdline"
flatctl --root "$R" --disk "$D" update reset >/dev/null 2>&1 || true

test_expect 'target partition mounted: exit 1, code 7, nothing written, GPT unchanged' '
	G0=$(sha256sum <"$LOOP") &&
	test_exit 1 flatctl --root "$R" --disk "$LOOP" update apply --payload "$T/p.gz" --version 4081.2.0 2>"$T/err" &&
	test_grep "^flatctl update: USR-B (${LOOP}p4) is mounted at $T/mnt; refusing to write$" "$T/err" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"], d[\"status\"]")" = "7 UPDATE_STATUS_IDLE" &&
	test "$(sha256sum <"$LOOP")" = "$G0"
'

umount "$T/mnt"
test_expect 'unmounted: the same block device installs, USR-B byte-exact' '
	flatctl --root "$R" --disk "$LOOP" update apply --payload "$T/p.gz" --version 4081.2.0 >"$T/out" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	start=$(sgdisk -i 4 "$T/blk.img" | sed -n "s/^First sector: \([0-9]*\).*/\1/p") &&
	test "$(dd if="$LOOP" bs=512 skip="$start" 2>/dev/null | head -c "$IMG_SIZE" | sha256sum | cut -d" " -f1)" = "$IMG_SUM"
'

test_done
