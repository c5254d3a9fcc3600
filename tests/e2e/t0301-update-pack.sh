#!/bin/bash
# t0301-update-pack: `update pack` builds signed CrAU payloads that `update verify` accepts, and
# payloads from an independent generator verify too (docs/update.md 2.5, 2.6, 5).
. "$(dirname "$0")/lib.sh"
GEN="$FLATCTL_SRC/tests/e2e/crau-gen.py"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k1.pem" 2>/dev/null
openssl pkey -in "$T/k1.pem" -pubout -out "$T/k1.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$T/k2.pem" 2>/dev/null
openssl pkey -in "$T/k2.pem" -pubout -out "$T/k2.pub"
# an image made of real files: compressible text, binaries and zeros
{ cat /usr/bin/ls /etc/services 2>/dev/null; head -c 1000000 /dev/urandom; } >"$T/img"
truncate -s 3M "$T/img"
head -c 1234567 /usr/bin/bash >"$T/kernel" 2>/dev/null || head -c 1234567 /dev/urandom >"$T/kernel"

test_expect 'pack writes a payload and prints size and hashes' '
	flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p1" >"$T/out" &&
	size=$(stat -c %s "$T/p1") &&
	test_grep "^size: *$size\$" "$T/out" &&
	hex=$(sha256sum "$T/p1" | cut -d" " -f1) &&
	test_grep "^sha256 (hex): *$hex\$" "$T/out" &&
	b64=$(openssl dgst -sha256 -binary "$T/p1" | base64) &&
	test_grep "^sha256: *$b64\$" "$T/out" &&
	sha1=$(openssl dgst -sha1 -binary "$T/p1" | base64) &&
	test_grep "^sha1: *$sha1\$" "$T/out" &&
	test "$(head -c 4 "$T/p1")" = CrAU &&
	! ls "$T" | grep -q "p1.tmp"
'
test_expect 'verify accepts it with the matching public key' '
	flatctl update verify "$T/p1" --key "$T/k1.pub" >"$T/out" &&
	test_grep "^new partition: *3145728 bytes" "$T/out" &&
	test_grep "^kernel: *none" "$T/out" &&
	test_grep "^signatures: *1 (version 2)" "$T/out" &&
	test_grep "^verified by: *version 2, key .*k1.pub" "$T/out"
'
test_expect 'pack --json, xz, kernel and two keys' '
	flatctl --json update pack --image "$T/img" --kernel "$T/kernel" --compress xz \
		--key "$T/k2.pem" --key "$T/k1.pem" --out "$T/p2" >"$T/pack.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"size\"] > 0 and d[\"operations\"][\"REPLACE_XZ\"] >= 1, d" "$T/pack.json" &&
	flatctl update verify "$T/p2" --key "$T/k2.pub" --json >"$T/v.json" &&
	python3 - "$T/v.json" <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["valid"] is True, d
	assert [s["version"] for s in d["signatures"]] == [1, 2], d
	assert d["verified_by"]["version"] == 1, d
	assert d["kernel"]["size"] == 1234567, d
	assert d["new_partition"]["size"] == 3145728, d
	PY
'
test_expect 'the last key signs as version 2' '
	flatctl update verify "$T/p2" --key "$T/k1.pub" >"$T/out" &&
	test_grep "^verified by: *version 2" "$T/out"
'
test_expect 'compress none stores REPLACE only' '
	flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p3" --compress none \
		--chunk-size 524288 >"$T/out" &&
	test_grep "^operations: *6 REPLACE, 0 REPLACE_BZ, 0 REPLACE_XZ" "$T/out" &&
	flatctl update verify "$T/p3" --key "$T/k1.pub" >/dev/null
'
test_expect 'a payload from the independent generator verifies' '
	python3 "$GEN" --image "$T/img" --kernel "$T/kernel" --key "$T/k1.pem" --out "$T/g1" &&
	flatctl update verify "$T/g1" --key "$T/k1.pub" >"$T/out" &&
	test_grep "^kernel: *1234567 bytes" "$T/out"
'
test_expect 'image size not a multiple of the block size: exit 2, no output file' '
	head -c 5000 /dev/urandom >"$T/odd" &&
	test_exit 2 flatctl update pack --image "$T/odd" --key "$T/k1.pem" --out "$T/p4" 2>"$T/err" &&
	test_grep "image size 5000 is not a positive multiple of the block size 4096" "$T/err" &&
	test ! -e "$T/p4" && ! ls "$T" | grep -q "p4.tmp"
'
test_expect 'pack usage errors exit 2' '
	test_exit 2 flatctl update pack --key "$T/k1.pem" --out "$T/p5" 2>"$T/err" &&
	test_grep "needs --image" "$T/err" &&
	test_exit 2 flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p5" --compress gzip 2>"$T/err" &&
	test_grep "not bzip2, xz or none" "$T/err" &&
	test_exit 2 flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p5" --chunk-size 1000 2>"$T/err" &&
	test_exit 2 flatctl update verify 2>"$T/err" &&
	test_grep "Try .flatctl update --help." "$T/err"
'
test_expect 'a public key cannot sign: exit 1 naming the file' '
	test_exit 1 flatctl update pack --image "$T/img" --key "$T/k1.pub" --out "$T/p6" 2>"$T/err" &&
	test_grep "k1.pub" "$T/err"
'
test_expect 'pack --omaha-response writes a response matching the payload' '
	flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/flatcar_production_update.gz" \
		--omaha-response "$T/response.xml" --url-base "http://127.0.0.1:1/4081.2.0/" \
		--version 4081.2.0 >/dev/null &&
	python3 - "$T/response.xml" "$T/flatcar_production_update.gz" <<-PY &&
	import base64, hashlib, sys, xml.etree.ElementTree as ET
	r = ET.parse(sys.argv[1]).getroot()
	data = open(sys.argv[2], "rb").read()
	assert r.tag == "response" and r.get("protocol") == "3.0"
	app = r.find("app")
	assert app.get("appid") == "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}"
	assert r.find("app/updatecheck/urls/url").get("codebase") == "http://127.0.0.1:1/4081.2.0/"
	assert r.find("app/updatecheck/manifest").get("version") == "4081.2.0"
	pkg = r.find("app/updatecheck/manifest/packages/package")
	assert pkg.get("name") == "flatcar_production_update.gz"
	assert int(pkg.get("size")) == len(data)
	assert pkg.get("hash") == base64.b64encode(hashlib.sha1(data).digest()).decode()
	assert pkg.get("hash_sha256") == hashlib.sha256(data).hexdigest()
	act = r.find("app/updatecheck/manifest/actions/action")
	assert act.get("event") == "postinstall"
	assert act.get("sha256") == base64.b64encode(hashlib.sha256(data).digest()).decode()
	PY
	! ls "$T" | grep -q "response.xml.tmp"
'
test_expect '--omaha-response needs --url-base and --version' '
	test_exit 2 flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p7" \
		--omaha-response "$T/r7" --version 1.0 2>"$T/err" &&
	test_grep "needs --url-base URL and --version V" "$T/err" &&
	test_exit 2 flatctl update pack --image "$T/img" --key "$T/k1.pem" --out "$T/p7" \
		--omaha-response "$T/r7" --version 1.0 --url-base ftp://x/ 2>"$T/err" &&
	test_grep "not an absolute http:// or https:// URL" "$T/err" &&
	test ! -e "$T/p7" && test ! -e "$T/r7"
'
test_expect 'every long option of --help is in the man page' '
	flatctl update --help >"$T/help" &&
	for o in $(grep -o -- "--[a-z][a-z-]*" "$T/help" | sort -u); do
		grep -q -- "$o" "$FLATCTL_SRC/man/flatctl-update.1.scd" || { echo "missing $o"; exit 1; }
	done
'
test_done
