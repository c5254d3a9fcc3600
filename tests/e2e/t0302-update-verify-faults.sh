#!/bin/bash
# t0302-update-verify-faults: what `update verify` says about bad payloads: exit 1 and the
# messages of docs/update.md 10, in the check order of 5.5.
. "$(dirname "$0")/lib.sh"
GEN="$FLATCTL_SRC/tests/e2e/crau-gen.py"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/other.pem" 2>/dev/null
openssl pkey -in "$T/other.pem" -pubout -out "$T/other.pub"
{ head -c 1500000 /dev/urandom; cat /etc/services /usr/bin/ls 2>/dev/null; } >"$T/img"
truncate -s 3M "$T/img"
flatctl update pack --image "$T/img" --key "$T/k.pem" --out "$T/good" >/dev/null
size=$(stat -c %s "$T/good")

# expect_fail FILE PATTERN: verify exits 1 and stderr has "flatctl update: payload FILE: PATTERN"
expect_fail() {
	test_exit 1 flatctl update verify "$1" --key "$T/k.pub" >"$T/out" 2>"$T/err" &&
	test_grep "^flatctl update: payload $1: $2" "$T/err" &&
	test ! -s "$T/out"
}
gen() { python3 "$GEN" --image "$T/img" --key "$T/k.pem" --out "$T/$1" --fault "$1" "${@:2}"; }

test_expect 'wrong key: signature verification failed' '
	test_exit 1 flatctl update verify "$T/good" --key "$T/other.pub" 2>"$T/err" &&
	test_grep "payload $T/good: signature verification failed: none of 1 signature matches the 1 trusted key ($T/other.pub)" "$T/err"
'
test_expect 'tampered blob byte: the signature check fails first' '
	cp "$T/good" "$T/tampered" &&
	printf "\xff" | dd of="$T/tampered" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null &&
	expect_fail "$T/tampered" "signature verification failed"
'
test_expect 'bad signature bytes' '
	cp "$T/good" "$T/badsig" &&
	printf "\x00\x00\x00\x00" | dd of="$T/badsig" bs=1 seek=$((size - 10)) conv=notrunc 2>/dev/null &&
	expect_fail "$T/badsig" "signature verification failed"
'
test_expect 'truncated payload' '
	head -c $((size - 100)) "$T/good" >"$T/short" &&
	expect_fail "$T/short" "truncated: have $((size - 100)) of $size bytes"
'
test_expect 'trailing bytes after the signatures' '
	gen trailing && expect_fail "$T/trailing" "file is [0-9]* bytes, but the payload ends at byte"
'
test_expect 'missing signature' '
	python3 "$GEN" --image "$T/img" --out "$T/unsigned" --fault unsigned &&
	expect_fail "$T/unsigned" "payload is not signed"
'
test_expect 'not a CrAU payload' '
	gen magic && expect_fail "$T/magic" "not a CrAU payload" &&
	printf "xy" >"$T/tiny" && expect_fail "$T/tiny" "not a CrAU payload"
'
test_expect 'CrAU version 2' '
	gen version2 && expect_fail "$T/version2" "unsupported CrAU version 2"
'
test_expect 'oversized operation' '
	gen oversized && expect_fail "$T/oversized" "operation 3: oversized operation: 34603008 bytes of data, more than the 33554432 allowed (offset [0-9]*)"
'
test_expect 'operation data hash mismatch (signed, so found in step 7)' '
	gen op-hash && expect_fail "$T/op-hash" "operation 1: data SHA-256 mismatch at offset [0-9]*"
'
test_expect 'corrupt bzip2 stream' '
	gen bz-corrupt && expect_fail "$T/bz-corrupt" "operation 1: bzip2 data error at offset [0-9]*"
'
test_expect 'decompressed data larger than its extents' '
	gen too-big-for-extents && expect_fail "$T/too-big-for-extents" "operation 0: decompressed data larger than its extents" &&
	gen xz-bomb && expect_fail "$T/xz-bomb" "operation 0: decompressed data larger than its extents"
'
test_expect 'blob gap' '
	gen gap && expect_fail "$T/gap" "operation 1: blob at data_offset [0-9]* does not start where the previous one ends"
'
test_expect 'extent outside the partition, sparse hole' '
	gen extent-out && expect_fail "$T/extent-out" "operation 0: extent 0 (blocks 768+256) lies outside the partition" &&
	gen sparse-hole && expect_fail "$T/sparse-hole" "operation 0: extent 0 is a sparse hole"
'
test_expect 'delta payloads are rejected' '
	gen move && expect_fail "$T/move" "operation 0: delta operation MOVE is not supported" &&
	gen src-extents && expect_fail "$T/src-extents" "operation 0: delta operation (src_extents) is not supported" &&
	gen old-info && expect_fail "$T/old-info" "manifest: old_partition_info at byte 20: delta payloads are not supported"
'
test_expect 'missing new_partition_info' '
	gen no-new-info && expect_fail "$T/no-new-info" "manifest: new_partition_info at byte 20: missing"
'
test_expect 'signature is checked before the operations (5.5 order)' '
	test_exit 1 flatctl update verify "$T/op-hash" --key "$T/other.pub" 2>"$T/err" &&
	test_grep "signature verification failed" "$T/err"
'
test_expect '--json gives the error kind' '
	test_exit 1 flatctl --json update verify "$T/op-hash" --key "$T/k.pub" >"$T/j" 2>/dev/null &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"valid\"] is False and d[\"error\"][\"code\"] == 29, d" "$T/j"
'
test_expect 'missing payload file: exit 1' '
	test_exit 1 flatctl update verify "$T/nope" --key "$T/k.pub" 2>"$T/err" &&
	test_grep "payload $T/nope: cannot open" "$T/err"
'
test_done
