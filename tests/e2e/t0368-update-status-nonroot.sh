#!/bin/bash
# t0368-update-status-nonroot: `update status` and `update_engine_client -status` work for a user
# who is not root (docs/update.md 2.3, 7.2): state.json stays private (0600, with the download
# URLs that may carry credentials), the public status.json beside it has the fields a reader
# needs and nothing else, and the state directory can be traversed but not listed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo "{\"url_base\": \"http://user:hunter2@127.0.0.1:$PORT/payloads/\"}" >"$T/omaha.json"
STATE_DIR=$R/var/lib/flatctl/update
chmod 711 "$T"
ln -s "$FLATCTL" "$T/update_engine_client"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

test_expect 'an interrupted download: state.json private, status.json public without URLs' '
	FLATCTL_TEST_UPDATE_KILL=download:1000 test_exit 137 flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	grep -q hunter2 "$S" &&
	test "$(stat -c %a "$S")" = 600 && test "$(stat -c %a "$STATE_DIR/status.json")" = 644 &&
	test "$(stat -c %a "$STATE_DIR")" = 711 && test "$(stat -c %a "$R/var/lib/flatctl")" = 711 &&
	! grep -q -e hunter2 -e payloads -e sha256 "$STATE_DIR/status.json"
'

test_expect 'nobody: update status shows the download, -status the five lines' '
	as_nobody "$FLATCTL" --root "$R" update status >"$T/out" 2>"$T/err" &&
	test_grep "^status:          UPDATE_STATUS_DOWNLOADING$" "$T/out" &&
	test_grep "^new version:     4081.2.0 (" "$T/out" && test ! -s "$T/err" &&
	as_nobody "$T/update_engine_client" -root "$R" -bus=none -status >"$T/out" &&
	test_grep "^CURRENT_OP=UPDATE_STATUS_DOWNLOADING$" "$T/out" &&
	test_grep "^NEW_VERSION=4081.2.0$" "$T/out"
'

test_expect 'nobody: installed and failed states, --json; the private file stays closed' '
	flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	as_nobody "$FLATCTL" --root "$R" --json update status >"$T/out" &&
	test "$(json_get "$T/out" "d[\"status\"], d[\"new_version\"]")" = "UPDATE_STATUS_UPDATED_NEED_REBOOT 4081.2.0" &&
	test_exit 1 as_nobody cat "$S" 2>/dev/null &&
	test_exit 2 as_nobody ls "$STATE_DIR" >/dev/null 2>&1 &&
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	echo "{\"payload_status\": 404}" >"$T/omaha.json" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	as_nobody "$FLATCTL" --root "$R" update status >"$T/out" &&
	test_grep "^last error:      DownloadTransferError (9): payload http://127.0.0.1:$PORT/payloads/p.gz: download failed: HTTP 404$" "$T/out"
'

test_expect 'a state directory of an older version (0700) is opened up at the next write' '
	chmod 700 "$STATE_DIR" "$R/var/lib/flatctl" &&
	test_exit 1 as_nobody "$FLATCTL" --root "$R" update status 2>"$T/err" &&
	test_grep "Permission denied" "$T/err" &&
	echo "{}" >"$T/omaha.json" && flatctl --root "$R" update check >/dev/null &&
	test "$(stat -c %a "$STATE_DIR")" = 711 && test "$(stat -c %a "$R/var/lib/flatctl")" = 711 &&
	as_nobody "$FLATCTL" --root "$R" update status >"$T/out" &&
	test_grep "^status:          UPDATE_STATUS_IDLE$" "$T/out"
'
test_done
