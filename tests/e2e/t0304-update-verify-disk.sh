#!/bin/bash
# t0304-update-verify-disk: with --disk, `update verify` checks the payload against the USR
# partition an install would write (docs/update.md 2.5, 10).
. "$(dirname "$0")/lib.sh"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
"$MKDISK" --layout compact -q "$T/disk.img"
head -c 1048576 /dev/urandom >"$T/small.img"
truncate -s 40M "$T/big.img"
flatctl update pack --image "$T/small.img" --key "$T/k.pem" --out "$T/small" >/dev/null
flatctl update pack --image "$T/big.img" --key "$T/k.pem" --out "$T/big" >/dev/null
usrb=$(python3 - "$T/disk.img" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb")
d.seek(512); h = d.read(92)
lba, n, sz = struct.unpack("<QII", h[72:88])
for i in range(n):
    d.seek(lba * 512 + i * sz); e = d.read(sz)
    if e[56:56 + 10].decode("utf-16-le") == "USR-B":
        first, last = struct.unpack("<QQ", e[32:48]); print((last - first + 1) * 512)
PY
)

test_expect 'a payload that fits: checked against the passive USR-B' '
	flatctl --disk "$T/disk.img" update verify "$T/small" --key "$T/k.pub" >"$T/out" &&
	test_grep "^checked against: USR-B on $T/disk.img ($usrb bytes)" "$T/out"
'
test_expect 'an image larger than the partition: exit 1' '
	test_exit 1 flatctl --disk "$T/disk.img" update verify "$T/big" --key "$T/k.pub" 2>"$T/err" &&
	test_grep "payload $T/big: new image is 41943040 bytes but the partition holds $usrb" "$T/err"
'
test_expect 'without --disk the same payload verifies (bounded by its own size)' '
	flatctl update verify "$T/big" --key "$T/k.pub" >/dev/null
'
test_expect 'a disk without a GPT is invalid input: exit 2' '
	truncate -s 10M "$T/plain.img" &&
	test_exit 2 flatctl --disk "$T/plain.img" update verify "$T/small" --key "$T/k.pub" 2>"$T/err" &&
	test_grep "plain.img: no GPT found" "$T/err" &&
	test_exit 2 flatctl --disk "$T/none.img" update verify "$T/small" --key "$T/k.pub"
'
test_done
