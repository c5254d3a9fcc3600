#!/bin/bash
# t0353-update-apply-payload: `update apply --payload FILE` (docs/update.md 2.2, 5.5, 6, 10):
# the install with kernel and GPT flip, and every bad-payload row of section 10 that a local
# file can carry: nothing written, GPT unchanged, state valid with last_error.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update

make_payload "$T/good.gz" $((4 * 1024 * 1024)) 300000
A0=$(part_sum 3)

# expect_untouched: USR-A, USR-B and the GPT as before, no staged update, last_error = CODE
expect_untouched() {
	test "$(part_sum 3)" = "$A0" &&
	test "$(part_sum 4)" = "$B0" &&
	test "$(gpt_bytes)" = "$G0" &&
	test ! -e "$R/run/reboot-required" &&
	test "$(json_get "$S" 'd["status"]')" = UPDATE_STATUS_IDLE &&
	test "$(json_get "$S" 'd["last_error"]["code"]')" = "$1"
}
snapshot() { B0=$(part_sum 4) && G0=$(gpt_bytes); }

test_expect 'dry run verifies and writes nothing' '
	snapshot &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --version 4081.2.0 --dry-run >"$T/out" &&
	test_grep "^verified: payload .*good.gz would install 4081.2.0 to USR-B$" "$T/out" &&
	test "$(part_sum 4)" = "$B0" && test "$(gpt_bytes)" = "$G0" && test ! -e "$R/boot"
'

test_expect 'install: USR-B holds the image, kernel in place, B is next with one try' '
	flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --version 4081.2.0 >"$T/out" &&
	test_grep "^installed 4081.2.0 to USR-B; reboot to use it$" "$T/out" &&
	test "$(part_sum 4 $((4 * 1024 * 1024)))" = "$(file_sum "$T/good.gz.img")" &&
	test "$(part_sum 3)" = "$A0" &&
	cmp "$T/good.gz.kernel" "$R/boot/flatcar/vmlinuz-b" && test ! -e "$R/boot/flatcar/vmlinuz-a" &&
	test "$(attrs 4)" = "2 1 0" && test "$(attrs 3)" = "1 0 1" &&
	test -e "$R/run/reboot-required" &&
	test "$(json_get "$S" "d[\"status\"], d[\"staged\"][\"version\"], d[\"staged\"][\"partition\"], d[\"staged\"][\"previous_version\"]")" = \
		"UPDATE_STATUS_UPDATED_NEED_REBOOT 4081.2.0 USR-B 3975.2.1"
'

test_expect 'already staged: exit 3 with the message of section 10' '
	test_exit 3 flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" 2>"$T/err" &&
	test_grep "^flatctl update: 4081.2.0 is already staged on USR-B; reboot, or run .flatctl update reset.$" "$T/err"
'

test_expect 'apply --json after reset: result installed' '
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	flatctl --root "$R" --disk "$D" --json update apply --payload "$T/good.gz" --version 4081.2.0 >"$T/out.json" &&
	test "$(json_get "$T/out.json" "d[\"result\"], d[\"version\"], d[\"partition\"], d[\"error\"]")" = \
		"installed 4081.2.0 USR-B None" &&
	flatctl --root "$R" --disk "$D" update reset >/dev/null
'

# From here on a fresh disk for every case; A0 stays the same (mkdisk is deterministic).
fresh() { "$MKDISK" -q --force --layout compact --state fresh "$D" && snapshot; }

test_expect 'payload signed with an untrusted key: exit 1, code 18, nothing written' '
	fresh && head -c $((1024 * 1024)) /dev/urandom >"$T/o.img" &&
	flatctl update pack --image "$T/o.img" --key "$T/other.pem" --out "$T/other.gz" >/dev/null &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/other.gz" 2>"$T/err" &&
	test_grep "^flatctl update: payload .*other.gz: signature verification failed" "$T/err" &&
	expect_untouched 18
'

test_expect '--key replaces the trusted keys for this call' '
	pub=$T/other.pub && openssl pkey -in "$T/other.pem" -pubout -out "$pub" &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/other.gz" --key "$pub" --dry-run >/dev/null &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --key "$pub" --dry-run 2>/dev/null
'

test_expect 'garbled signature: exit 1, code 18' '
	fresh && cp "$T/good.gz" "$T/badsig.gz" &&
	size=$(stat -c %s "$T/badsig.gz") &&
	printf "\xff\x00\xff" | dd of="$T/badsig.gz" bs=1 seek=$((size - 8)) conv=notrunc 2>/dev/null &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/badsig.gz" 2>"$T/err" &&
	test_grep "signature verification failed" "$T/err" && expect_untouched 18
'

test_expect 'corrupt data blob: exit 1, nothing written' '
	fresh && cp "$T/good.gz" "$T/badblob.gz" &&
	printf "\x00\x01\x02\x03" | dd of="$T/badblob.gz" bs=1 seek=100000 conv=notrunc 2>/dev/null &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/badblob.gz" 2>"$T/err" &&
	test_grep "^flatctl update: payload .*badblob.gz: " "$T/err" &&
	code=$(json_get "$S" "d[\"last_error\"][\"code\"]") && { test "$code" = 18 || test "$code" = 29; } &&
	expect_untouched "$code"
'

test_expect 'truncated payload file: exit 1, nothing written' '
	fresh && head -c -5000 "$T/good.gz" >"$T/short.gz" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/short.gz" 2>"$T/err" &&
	test_grep "^flatctl update: payload .*short.gz: " "$T/err" &&
	code=$(json_get "$S" "d[\"last_error\"][\"code\"]") && test "$code" != 0 && expect_untouched "$code"
'

test_expect 'not a CrAU file: exit 1, code 21' '
	fresh && head -c 100000 /dev/urandom >"$T/junk.gz" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/junk.gz" 2>"$T/err" &&
	test_grep "payload .*junk.gz: " "$T/err" && expect_untouched 21
'

test_expect '--sha256 mismatch: exit 1, code 10' '
	fresh &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" \
		--sha256 0000000000000000000000000000000000000000000000000000000000000000 2>"$T/err" &&
	test_grep "SHA-256 mismatch: expected AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=, got " "$T/err" &&
	expect_untouched 10
'

test_expect '--sha256 matching (hex and base64) installs' '
	fresh &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --dry-run \
		--sha256 "$(file_sum "$T/good.gz")" >/dev/null &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --dry-run \
		--sha256 "$(openssl dgst -sha256 -binary "$T/good.gz" | base64)" >/dev/null
'

test_expect 'image bigger than the partition: exit 1, code 7, message of section 10' '
	fresh && head -c $((40 * 1024 * 1024)) /dev/zero >"$T/big.img" &&
	flatctl update pack --image "$T/big.img" --key "$T/key.pem" --out "$T/big.gz" >/dev/null &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/big.gz" 2>"$T/err" &&
	test_grep "^flatctl update: payload .*big.gz: new image is 40.0 MiB but USR-B holds 32.0 MiB$" "$T/err" &&
	expect_untouched 7
'

test_expect 'no trusted key at all: exit 1 naming the places' '
	fresh && mv "$R/usr/share/update_engine/update-payload-key.pub.pem" "$T/saved.pem" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" 2>"$T/err" &&
	mv "$T/saved.pem" "$R/usr/share/update_engine/update-payload-key.pub.pem" &&
	test_grep "^flatctl update: no trusted update key in /usr/share/update_engine/update-payload-key.pub.pem, /etc/flatctl/update-keys.d/$" "$T/err" &&
	test "$(part_sum 4)" = "$B0" && test "$(gpt_bytes)" = "$G0"
'

test_expect 'keys in /etc/flatctl/update-keys.d are trusted' '
	mkdir -p "$R/etc/flatctl/update-keys.d" &&
	openssl pkey -in "$T/other.pem" -pubout -out "$R/etc/flatctl/update-keys.d/self-built.pem" &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/other.gz" --dry-run >/dev/null &&
	rm -r "$R/etc/flatctl"
'

test_expect 'USR-B booted (proc/cmdline): the update goes to USR-A, B untouched' '
	"$MKDISK" -q --force --layout compact --state booted-b "$D" && snapshot &&
	mkdir -p "$R/proc" &&
	echo "mount.usr=PARTUUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c" >"$R/proc/cmdline" &&
	flatctl --root "$R" --disk "$D" update apply --payload "$T/good.gz" --version 4081.2.0 >"$T/out" &&
	test_grep "to USR-A;" "$T/out" && test "$(part_sum 4)" = "$B0" &&
	test "$(part_sum 3 $((4 * 1024 * 1024)))" = "$(file_sum "$T/good.gz.img")" &&
	cmp "$T/good.gz.kernel" "$R/boot/flatcar/vmlinuz-a" &&
	set -- $(attrs 3) $(attrs 4) && test "$2 $3 $6" = "1 0 1" && test "$1" -gt "$4" &&
	rm -r "$R/proc"
'
test_done
