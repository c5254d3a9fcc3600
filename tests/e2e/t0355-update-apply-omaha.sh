#!/bin/bash
# t0355-update-apply-omaha: `update apply` through the loopback Omaha server (docs/update.md 2.2,
# 4.1, 4.4, 7.3, 10): the install and its events in order, resumed transfers, wrong hash,
# more bytes than announced, 404, truncated transfers, redirect loops, --payload URL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((2 * 1024 * 1024)) 100000
cp "$T/p.gz" "$T/orig.gz"
SIZE=$(stat -c %s "$T/p.gz")
A0=$(part_sum 3)
snapshot() { B0=$(part_sum 4) && G0=$(gpt_bytes); }
untouched() { test "$(part_sum 3)" = "$A0" && test "$(part_sum 4)" = "$B0" && test "$(gpt_bytes)" = "$G0"; }
fresh() {
	"$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot" && snapshot
}
apply() { flatctl --root "$R" --disk "$D" update apply "$@"; }

start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo "{}" >"$T/omaha.json"

test_expect 'apply installs; events 3/2, 13/1, 14/1, 3/1 in order' '
	fresh &&
	apply >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B; reboot to use it$" "$T/out" &&
	test_grep "fetched $SIZE bytes (resumed at 0)" "$T/err" &&
	test "$(part_sum 4 $((2 * 1024 * 1024)))" = "$(file_sum "$T/p.gz.img")" &&
	cmp "$T/p.gz.kernel" "$R/boot/flatcar/vmlinuz-b" &&
	test "$(attrs 4)" = "2 1 0" && test "$(part_sum 3)" = "$A0" &&
	test ! -e "$PART" && test -e "$R/run/reboot-required" &&
	events >"$T/ev" && printf "3/2\n13/1\n14/1\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev"
'

test_expect 'apply again: staged, exit 3, no download' '
	: >"$T/requests.log" &&
	test_exit 3 apply --json >"$T/out.json" 2>/dev/null &&
	test "$(json_get "$T/out.json" "d[\"result\"]")" = staged && test ! -s "$T/requests.log"
'

test_expect 'after the reboot into 4081.2.0 the next check reports 3/2 with previousversion' '
	echo "FLATCAR_RELEASE_VERSION=4081.2.0" >"$R/usr/share/flatcar/release" &&
	: >"$T/requests.log" && flatctl --root "$R" update check >/dev/null 2>&1 &&
	python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); assert r[\"events\"] == [{\"eventtype\": \"3\", \"eventresult\": \"2\", \"previousversion\": \"3975.2.1\"}], r" "$T/requests.log" &&
	test "$(json_get "$S" "d[\"status\"], d[\"staged\"], d[\"report\"]")" = "UPDATE_STATUS_IDLE None None" &&
	: >"$T/requests.log" && flatctl --root "$R" update check >/dev/null 2>&1 &&
	python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); assert r[\"events\"][0][\"previousversion\"] == \"\", r" "$T/requests.log" &&
	echo "FLATCAR_RELEASE_VERSION=3975.2.1" >"$R/usr/share/flatcar/release"
'

test_expect 'transfer cut every 1 MiB: resumed with Range and installed' '
	fresh && echo "{\"truncate_after\": 1048576}" >"$T/omaha.json" &&
	apply >/dev/null 2>"$T/err" &&
	test "$(part_sum 4 $((2 * 1024 * 1024)))" = "$(file_sum "$T/p.gz.img")" &&
	test "$(attrs 4)" = "2 1 0" && echo "{}" >"$T/omaha.json"
'

test_expect 'file differs from the response hash: exit 1, code 10, file deleted, nothing written' '
	fresh && : >"$T/requests.log" &&
	printf "XXXX" | dd of="$T/p.gz" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "^flatctl update: payload http://127.0.0.1:$PORT/payloads/p.gz: SHA-256 mismatch: expected " "$T/err" &&
	test ! -e "$PART" && untouched && test ! -e "$R/run/reboot-required" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"], d[\"pending\"], len(d[\"bad_payloads\"])")" = "10 None 1" &&
	events >"$T/ev" && printf "3/2\n13/1\n14/1\n3/0/10\n" >"$T/want" && test_cmp "$T/want" "$T/ev" &&
	cp "$T/orig.gz" "$T/p.gz"
'

test_expect 'server sends more bytes than announced: exit 1, code 11, partial deleted' '
	fresh && cat "$T/orig.gz" /dev/null >"$T/p.gz" && head -c 5000 /dev/zero >>"$T/p.gz" &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "payload http://127.0.0.1:$PORT/payloads/p.gz: larger than the announced $SIZE bytes" "$T/err" &&
	test ! -e "$PART" && untouched &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 11 &&
	cp "$T/orig.gz" "$T/p.gz"
'

test_expect 'payload 404: exit 1, code 9, nothing kept' '
	fresh && echo "{\"url_base\": \"http://127.0.0.1:$PORT/nothing-here/\"}" >"$T/omaha.json" &&
	: >"$T/requests.log" &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "download failed: HTTP 404" "$T/err" && test ! -e "$PART" && untouched &&
	events >"$T/ev" && test "$(tail -n 1 "$T/ev")" = "3/0/9" && echo "{}" >"$T/omaha.json"
'

test_expect 'connection keeps breaking: exit 75 after the retries, partial kept for resume' '
	fresh && echo "{\"truncate_after\": 100000}" >"$T/omaha.json" &&
	test_exit 75 apply 2>"$T/err" &&
	test_grep "download failed: " "$T/err" &&
	test -s "$PART" && test "$(stat -c %s "$PART")" -lt "$SIZE" && untouched &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"], d[\"pending\"][\"size\"]")" = "9 $SIZE" &&
	echo "{}" >"$T/omaha.json" &&
	have=$(stat -c %s "$PART") &&
	apply >/dev/null 2>"$T/err" &&
	test_grep "fetched $((SIZE - have)) bytes (resumed at $have)" "$T/err" &&
	test "$(attrs 4)" = "2 1 0"
'

test_expect 'apply --payload URL: installed without any Omaha request' '
	fresh && : >"$T/requests.log" &&
	apply --payload "http://127.0.0.1:$PORT/payloads/p.gz" --version 4081.2.0 >"$T/out" 2>/dev/null &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" && test ! -s "$T/requests.log" &&
	test "$(part_sum 4 $((2 * 1024 * 1024)))" = "$(file_sum "$T/p.gz.img")"
'

test_expect 'redirect loop on the payload URL: exit 1, too many redirects' '
	fresh &&
	{ python3 "$SERVERS/httpd.py" --port-file "$T/hport" >/dev/null 2>&1 & } && hp=$! &&
	trap "kill $hp 2>/dev/null || true" EXIT &&  # the body runs in a subshell: cleanup_pid would not last
	test_wait_for 60 "test -s \"\$T/hport\"" &&
	test_exit 1 apply --payload "http://127.0.0.1:$(cat "$T/hport")/loop" 2>"$T/err" &&
	test_grep "/loop: download failed: too many redirects (10)" "$T/err" && untouched
'
test_done
