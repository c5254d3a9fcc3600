#!/bin/bash
# t0360-update-verify-while-downloading: `update apply` from an Omaha server runs the checks of
# docs/update.md 5.5 on the bytes as they are staged in payload.part, so the staged file is not
# read again before the write pass; nothing is written to the target before the whole file
# verified. The pass follows the file through a resume after kill -9 (the staged half is fed
# first), through retries on cut connections, and through a server that ignores Range (the file
# starts over, and so does the pass). A payload that fails any check is verified again from the
# start of the staged file, so the error and its Omaha code are those of 5.5's order.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update

make_bz_payload "$T/p.gz"   # REPLACE_BZ, so that the verify pass spools
SIZE=$(stat -c %s "$T/p.gz")
IMG_SUM=$(file_sum "$T/p.gz.img")
IMG_SIZE=$(stat -c %s "$T/p.gz.img")
A0=$(part_sum 3)
CONF=$T/omaha.json
echo '{}' >"$CONF"

fresh() {
	"$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" &&
	echo '{}' >"$CONF" && G0=$(gpt_bytes)
}
apply() { flatctl -v --root "$R" --disk "$D" update apply "$@"; }
installed() {
	test "$(part_sum 4 "$IMG_SIZE")" = "$IMG_SUM" && test "$(part_sum 3)" = "$A0" &&
	test "$(attrs 4)" = "2 1 0" && test ! -e "$PART" &&
	test -z "$(find "$R/var/lib/flatctl/update" -mindepth 1 -maxdepth 1 ! -name state.json ! -name status.json ! -name lock)"
}
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$CONF" --verbose

test_expect 'apply: verified while downloading, spooled, installed byte for byte' '
	fresh && apply >"$T/out" 2>"$T/err" &&
	test_grep "payload verified while it was downloaded" "$T/err" &&
	test_grep "decompressed image kept in an unlinked spool file" "$T/err" &&
	test_grep "fetched $SIZE bytes (resumed at 0)" "$T/err" && installed
'

test_expect 'kill -9 at 50% of the download: the rerun feeds the staged half first, then the rest' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=download:$((SIZE / 2)) test_exit 137 apply >/dev/null 2>&1 &&
	have=$(stat -c %s "$PART") && test "$have" -ge $((SIZE / 2)) && test "$have" -lt "$SIZE" &&
	test "$(part_sum 3)" = "$A0" && test "$(gpt_bytes)" = "$G0" &&
	apply >/dev/null 2>"$T/err" &&
	test_grep "fetched $((SIZE - have)) bytes (resumed at $have)" "$T/err" &&
	test_grep "payload verified while it was downloaded" "$T/err" && installed
'

test_expect 'connections cut every third of the payload: retries resume, the pass goes on' '
	fresh && echo "{\"truncate_after\": $((SIZE / 3 + 1))}" >"$CONF" && : >"$T/omaha.out" &&
	apply >/dev/null 2>"$T/err" &&
	test "$(grep -c "GET /payloads/.* 206 " "$T/omaha.out")" -ge 2 &&
	test_grep "payload verified while it was downloaded" "$T/err" && installed
'

test_expect 'a server that ignores Range on resume: the file and the pass start over' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=download:$((SIZE / 2)) test_exit 137 apply >/dev/null 2>&1 &&
	echo "{\"ignore_range\": true}" >"$CONF" &&
	apply >/dev/null 2>"$T/err" &&
	test_grep "fetched $SIZE bytes" "$T/err" &&
	test_grep "payload verified while it was downloaded" "$T/err" && installed
'

# One byte changed inside the blobs; the server announces the changed file's own size and hash,
# so 5.5 steps 1-2 pass and the signature (step 6) fails first.
python3 - "$T/p.gz" "$T/bad.gz" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0xff
open(sys.argv[2], "wb").write(b)
PY
# (the server is started here, not inside the test's subshell, so that cleanup knows its PID)
stop_omaha
start_omaha --payload "$T/bad.gz" --version 4081.2.0 --config "$CONF"
test_expect 'a bad payload: verified again from the start, 5.5 order, nothing written' '
	fresh && test_exit 1 apply >/dev/null 2>"$T/err" &&
	! grep -q "payload verified while it was downloaded" "$T/err" &&
	test_grep "signature verification failed" "$T/err" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 18 &&
	test "$(part_sum 3)" = "$A0" && test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" &&
	test ! -e "$PART" && test "$(part_sum 4 "$IMG_SIZE")" != "$IMG_SUM"
'

test_done
