#!/bin/bash
# t0303-update-keys: trusted keys for `update verify` come from inside --root (docs/update.md 3.3).
. "$(dirname "$0")/lib.sh"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/o.pem" 2>/dev/null
openssl pkey -in "$T/o.pem" -pubout -out "$T/o.pub"
head -c 65536 /dev/urandom >"$T/img"
flatctl update pack --image "$T/img" --key "$T/k.pem" --out "$T/p" >/dev/null
R="$T/root"
mkdir -p "$R"

test_expect 'no trusted key at all is an error (exit 1)' '
	test_exit 1 flatctl --root "$R" update verify "$T/p" 2>"$T/err" &&
	test_grep "no trusted update key in /usr/share/update_engine/update-payload-key.pub.pem, /etc/flatctl/update-keys.d/" "$T/err"
'
test_expect 'the image key inside --root is trusted' '
	mkdir -p "$R/usr/share/update_engine" &&
	cp "$T/k.pub" "$R/usr/share/update_engine/update-payload-key.pub.pem" &&
	flatctl --root "$R" update verify "$T/p" >"$T/out" &&
	test_grep "key /usr/share/update_engine/update-payload-key.pub.pem" "$T/out"
'
test_expect 'keys in /etc/flatctl/update-keys.d/ are trusted too' '
	cp "$T/o.pub" "$R/usr/share/update_engine/update-payload-key.pub.pem" &&
	mkdir -p "$R/etc/flatctl/update-keys.d" &&
	cp "$T/k.pub" "$R/etc/flatctl/update-keys.d/local.pem" &&
	echo ignored >"$R/etc/flatctl/update-keys.d/README" &&
	flatctl update verify "$T/p" --root "$R" >"$T/out" &&
	test_grep "key /etc/flatctl/update-keys.d/local.pem" "$T/out"
'
test_expect '--key replaces the trusted keys' '
	test_exit 1 flatctl --root "$R" update verify "$T/p" --key "$T/o.pub" 2>"$T/err" &&
	test_grep "none of 1 signature matches the 1 trusted key" "$T/err"
'
test_expect 'a non-RSA or unreadable key file is an error naming it' '
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | openssl pkey -pubout >"$R/etc/flatctl/update-keys.d/ec.pem" &&
	test_exit 1 flatctl --root "$R" update verify "$T/p" 2>"$T/err" &&
	test_grep "key ./etc/flatctl/update-keys.d/ec.pem.: not an RSA key" "$T/err" &&
	rm "$R/etc/flatctl/update-keys.d/ec.pem" &&
	test_exit 1 flatctl update verify "$T/p" --key "$T/missing.pem" 2>"$T/err" &&
	test_grep "reading key .$T/missing.pem." "$T/err"
'
test_expect 'a small RSA key is refused' '
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 2>/dev/null | openssl pkey -pubout >"$T/small.pub" &&
	test_exit 1 flatctl update verify "$T/p" --key "$T/small.pub" 2>"$T/err" &&
	test_grep "RSA key of 1024 bits, need 2048 to 8192" "$T/err"
'
test_done
