#!/bin/bash
# t0801-payload-hostile-manifest: manifests whose repeated fields would make protobuf-c allocate
# gigabytes are refused from their counts, with the limit named, in little memory (docs/update.md).
. "$(dirname "$0")/lib.sh"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"

# crau FILE PYTHON-EXPR: a CrAU v1 file whose manifest is the bytes of the expression, followed
# by block_size, signatures offset/size and new_partition_info, and a 2-byte blob area.
crau() {
	python3 - "$1" "$2" <<-'PY'
	import struct, sys
	def varint(n):
	    out = b""
	    while True:
	        b, n = n & 0x7f, n >> 7
	        if not n:
	            return out + bytes([b])
	        out += bytes([b | 0x80])
	m = eval(sys.argv[2]) + b"\x18\x80\x20\x20\x00\x28\x02\x4a\x25\x08\x80\x20\x12\x20" + bytes(32)
	with open(sys.argv[1], "wb") as f:
	    f.write(b"CrAU" + struct.pack(">QQ", 1, len(m)) + m + b"\x78\x00")
	PY
}

# peak_rss_kib CMD...: run CMD (the binary itself, not a wrapper), print its exit code and its
# peak RSS in KiB.
peak_rss_kib() {
	python3 -c '
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[0] + ".err", "w"))
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
}

test_expect '8,000,000 empty operations (16 MB): refused from the count, small RSS' '
	crau "$T/ops.bin" "b\"\\x0a\\x00\" * 8000000" &&
	test "$(stat -c %s "$T/ops.bin")" -gt 16000000 &&
	set -- $(cd "$T" && peak_rss_kib "$FLATCTL" update verify ops.bin --key k.pub) &&
	mv "$T/-c.err" "$T/err" &&
	test "$1" = 1 &&
	test_grep "^flatctl update: payload ops.bin: manifest: partition_operations at byte 20: 8000000 operations, more than the 65536 allowed$" "$T/err" &&
	echo "# peak RSS $2 KiB" &&
	test "$2" -lt 204800
'
test_expect '5,000,000 extents in one operation: refused, small RSS' '
	crau "$T/ext.bin" "b\"\\x0a\" + varint(2 + 10000000) + b\"\\x08\\x00\" + b\"\\x32\\x00\" * 5000000" &&
	set -- $(cd "$T" && peak_rss_kib "$FLATCTL" update verify ext.bin --key k.pub) &&
	mv "$T/-c.err" "$T/err" &&
	test "$1" = 1 &&
	test_grep "^flatctl update: payload ext.bin: manifest: partition_operations\[0\] at byte 25: 5000000 dst_extents, more than the 256 allowed$" "$T/err" &&
	echo "# peak RSS $2 KiB" &&
	test "$2" -lt 204800
'
test_expect '8,000,000 unknown fields: decoding stops at its memory budget' '
	crau "$T/unk.bin" "b\"\\x78\\x00\" * 8000000" &&
	set -- $(cd "$T" && peak_rss_kib "$FLATCTL" update verify unk.bin --key k.pub) &&
	mv "$T/-c.err" "$T/err" &&
	test "$1" = 1 &&
	test_grep "^flatctl update: payload unk.bin: manifest: DeltaArchiveManifest at bytes 20-16000066: decoding needs more than the 144777584 bytes of memory allowed for its size$" "$T/err" &&
	echo "# peak RSS $2 KiB" &&
	test "$2" -lt 409600
'
test_expect '65,536 operations are still decoded (the limit itself is allowed)' '
	crau "$T/max.bin" "b\"\\x0a\\x00\" * 65536" &&
	test_exit 1 flatctl update verify "$T/max.bin" --key "$T/k.pub" 2>"$T/err" &&
	test_grep "operation 0: no type" "$T/err"
'
test_done
