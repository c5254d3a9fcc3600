#!/bin/bash
# t0720-update-metrics: `update status --prometheus` and `--textfile DIR` (docs/update.md 9.1)
# after real cycles through the loopback Omaha server: versions, bytes downloaded = payload size,
# failure counts by code after failing checks and a failing download, the same figures for a
# user who is not root; every output passes `promtool check metrics` (Debian's prometheus
# package); the textfile is replaced atomically, with mode 0644 and no temporary file left.
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((2 * 1024 * 1024)) 100000
SIZE=$(stat -c %s "$T/p.gz")
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo "{}" >"$T/omaha.json"
STATUS=$R/var/lib/flatctl/update/status.json
chmod 711 "$T"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
prom() { flatctl --root "$R" update status --prometheus; }
# metric NAME [LABELS]: the value of the sample NAME{LABELS} (LABELS exactly as printed) in $T/m
metric() {
	local want=$1 &&
	if [ -n "${2:-}" ]; then want="$1{$2}"; fi &&
	want=$want awk '$1 == ENVIRON["want"] { print $2; n++ } END { exit n == 1 ? 0 : 1 }' "$T/m"
}
# promtool prints lint findings and exits non-zero on any; nothing may be printed
lint() { promtool check metrics <"$1" >"$T/lint" 2>&1 && test ! -s "$T/lint"; }

test_expect 'no state yet: every family present, zeros, IDLE, promtool clean' '
	prom >"$T/m" && lint "$T/m" &&
	test "$(metric flatctl_update_info "current_version=\"3975.2.1\",new_version=\"\"")" = 1 &&
	test "$(metric flatctl_update_state "state=\"UPDATE_STATUS_IDLE\"")" = 1 &&
	test "$(metric flatctl_update_state "state=\"UPDATE_STATUS_DOWNLOADING\"")" = 0 &&
	test "$(metric flatctl_update_reboot_pending)" = 0 &&
	test "$(metric flatctl_update_downloaded_bytes_total)" = 0 &&
	test "$(metric flatctl_update_last_check_timestamp_seconds)" = 0 &&
	test "$(grep -c "^# TYPE flatctl_update_" "$T/m")" = 10 &&
	! grep -q "^flatctl_update_failures_total" "$T/m" && test ! -e "$R/var"
'

test_expect 'after an install: versions, bytes = payload size, reboot pending, times' '
	flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	prom >"$T/m" && lint "$T/m" &&
	test "$(metric flatctl_update_info "current_version=\"3975.2.1\",new_version=\"4081.2.0\"")" = 1 &&
	test "$(metric flatctl_update_downloaded_bytes_total)" = "$SIZE" &&
	test "$(metric flatctl_update_new_size_bytes)" = "$SIZE" &&
	test "$(metric flatctl_update_reboot_pending)" = 1 &&
	test "$(metric flatctl_update_state "state=\"UPDATE_STATUS_UPDATED_NEED_REBOOT\"")" = 1 &&
	test "$(metric flatctl_update_state "state=\"UPDATE_STATUS_IDLE\"")" = 0 &&
	test "$(metric flatctl_update_last_successful_update_timestamp_seconds)" = "$(json_get "$S" "d[\"staged\"][\"installed_time\"]")" &&
	test "$(metric flatctl_update_last_check_timestamp_seconds)" = "$(json_get "$S" "d[\"last_checked_time\"]")" &&
	test "$(metric flatctl_update_last_successful_check_timestamp_seconds)" = "$(json_get "$S" "d[\"last_checked_time\"]")" &&
	test "$(metric flatctl_update_progress_ratio)" = 1 &&
	! grep -q "^flatctl_update_failures_total" "$T/m" &&
	test "$(json_get "$S" "d[\"metrics\"][\"downloaded_bytes\"]")" = "$SIZE"
'

test_expect 'failing checks are counted by code; the last successful check stays' '
	OK_CHECK=$(metric flatctl_update_last_successful_check_timestamp_seconds) &&
	echo "$OK_CHECK" >"$T/ok_check" &&
	echo "{\"http_status\": 500}" >"$T/omaha.json" &&
	sleep 1 && { flatctl --root "$R" update check >/dev/null 2>&1 || test $? = 75; } &&
	{ flatctl --root "$R" update check >/dev/null 2>&1 || test $? = 75; } &&
	printf "<response protocol=\"3.0\"><app" >"$T/bad.xml" &&
	echo "{\"response_file\": \"$T/bad.xml\"}" >"$T/omaha.json" &&
	test_exit 1 flatctl --root "$R" update check >/dev/null 2>&1 &&
	prom >"$T/m" && lint "$T/m" &&
	test "$(metric flatctl_update_failures_total "code=\"37\",error=\"OmahaErrorInHTTPResponse\"")" = 2 &&
	test "$(metric flatctl_update_failures_total "code=\"31\",error=\"OmahaRequestXMLParseError\"")" = 1 &&
	test "$(grep -c "^flatctl_update_failures_total" "$T/m")" = 2 &&
	test "$(metric flatctl_update_last_successful_check_timestamp_seconds)" = "$OK_CHECK" &&
	test "$(metric flatctl_update_last_check_timestamp_seconds)" -gt "$OK_CHECK" &&
	test "$(metric flatctl_update_downloaded_bytes_total)" = "$SIZE"
'

test_expect 'a failed download (404) adds code 9; counters survive update reset' '
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	echo "{\"payload_status\": 404}" >"$T/omaha.json" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	prom >"$T/m" && lint "$T/m" &&
	test "$(metric flatctl_update_failures_total "code=\"9\",error=\"DownloadTransferError\"")" = 1 &&
	test "$(metric flatctl_update_failures_total "code=\"37\",error=\"OmahaErrorInHTTPResponse\"")" = 2 &&
	test "$(metric flatctl_update_reboot_pending)" = 0 &&
	test "$(metric flatctl_update_info "current_version=\"3975.2.1\",new_version=\"\"")" = 1 &&
	test "$(metric flatctl_update_downloaded_bytes_total)" = "$SIZE" &&
	test "$(metric flatctl_update_last_successful_check_timestamp_seconds)" -gt "$(cat "$T/ok_check")" &&
	echo "{}" >"$T/omaha.json"
'

test_expect 'nobody reads the same metrics from status.json' '
	test "$(stat -c %a "$S")" = 600 && grep -q "\"failures\"" "$STATUS" &&
	as_nobody "$FLATCTL" --root "$R" update status --prometheus >"$T/m.nobody" 2>"$T/err" &&
	test ! -s "$T/err" && test_cmp "$T/m" "$T/m.nobody"
'

test_expect '--textfile: DIR/flatctl_update.prom, 0644, same text, replaced by rename' '
	mkdir "$T/tf" && (umask 077 && flatctl --root "$R" update status --textfile "$T/tf") >"$T/out" &&
	test ! -s "$T/out" && test "$(ls -A "$T/tf")" = flatctl_update.prom &&
	test "$(stat -c %a "$T/tf/flatctl_update.prom")" = 644 &&
	test_cmp "$T/m" "$T/tf/flatctl_update.prom" &&
	INO=$(stat -c %i "$T/tf/flatctl_update.prom") &&
	flatctl --root "$R" update status --prometheus --textfile "$T/tf" >"$T/out" &&
	test_cmp "$T/m" "$T/out" && test_cmp "$T/m" "$T/tf/flatctl_update.prom" &&
	test "$(stat -c %i "$T/tf/flatctl_update.prom")" != "$INO" &&
	test "$(ls -A "$T/tf")" = flatctl_update.prom
'

test_expect '--textfile while a reader polls: never a partial file, no temporary file left' '
	{ for i in $(seq 40); do flatctl --root "$R" update status --textfile "$T/tf" || exit 1; done & } &&
	W=$! && bad=0 && n=0 &&
	while kill -0 $W 2>/dev/null; do
		{ cmp -s "$T/m" "$T/tf/flatctl_update.prom" || bad=$((bad + 1)); } &&
		n=$((n + 1)) || return 1
	done &&
	wait $W && test $bad = 0 && test $n -gt 0 && test "$(ls -A "$T/tf")" = flatctl_update.prom
'

test_expect 'bad DIR: missing or not a directory exit 2, unwritable exit 1, nothing left' '
	test_exit 2 flatctl --root "$R" update status --textfile "$T/nope" 2>"$T/err" &&
	test_grep "^flatctl update: --textfile: '\''$T/nope'\'' is not a directory" "$T/err" &&
	test ! -e "$T/nope" &&
	test_exit 2 flatctl --root "$R" update status --textfile "$T/tf/flatctl_update.prom" 2>"$T/err" &&
	test_grep "is not a directory" "$T/err" &&
	mkdir "$T/ro" && chmod 755 "$T/ro" &&
	test_exit 1 as_nobody "$FLATCTL" --root "$R" update status --textfile "$T/ro" 2>"$T/err" &&
	test_grep "^flatctl update: writing '\''$T/ro/flatctl_update.prom'\'': Permission denied$" "$T/err" &&
	test "$(ls -A "$T/ro")" = "" &&
	test_exit 2 flatctl --root "$R" --json update status --prometheus 2>"$T/err" &&
	test_grep "json cannot be combined with --prometheus" "$T/err" &&
	test_exit 2 flatctl --root "$R" update status --textfile "" 2>"$T/err" &&
	test_grep "empty directory name" "$T/err"
'

test_expect 'label values from the state are escaped (promtool reads them back)' '
	python3 - "$S" <<-'\''PY'\'' &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["staged"] = {"version": "9.9.9\"q\\b\nn", "partition": "USR-B", "size": 1, "installed_time": 1}
	json.dump(d, open(sys.argv[1], "w"))
	PY
	prom >"$T/m" && lint "$T/m" &&
	grep -qxF "flatctl_update_info{current_version=\"3975.2.1\",new_version=\"9.9.9\\\"q\\\\b\\nn\"} 1" "$T/m"
'
test_done
