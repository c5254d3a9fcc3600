#!/bin/bash
# t0359-update-apply-spool: the verify pass keeps the decompressed image in an unlinked O_TMPFILE
# in the state directory and the write pass copies it (spec/update.md 5.5, 6.2, 6.3): the
# installed partition is byte-identical to the image, nothing is left in the state directory,
# and when the state directory has no room for the image the install falls back to decompressing
# twice (logged at -v) with the same result.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update

# A compressible image: text, zeros and random blocks, packed as REPLACE_BZ in 256 KiB chunks.
python3 - "$T/img" <<'PY'
import os, sys
out = open(sys.argv[1], "wb")
for i in range(96):          # 96 x 64 KiB = 6 MiB
    k = i % 3
    if k == 0:
        out.write(((b"flatctl spool test line %d\n" % i) * 4096)[:65536])
    elif k == 1:
        out.write(b"\0" * 65536)
    else:
        out.write(os.urandom(65536))
PY
flatctl update pack --image "$T/img" --key "$T/key.pem" --compress bzip2 --chunk-size 262144 \
	--out "$T/p.gz" >"$T/pack.out"
IMG_SUM=$(file_sum "$T/img")
IMG_SIZE=$(stat -c %s "$T/img")
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
	! grep -v -x -e state.json -e lock "$T/ls"
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

test_done
