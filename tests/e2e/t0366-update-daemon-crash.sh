#!/bin/bash
# t0366-update-daemon-crash: kill -9 of the daemon in each phase of a cycle (download, verify,
# write, flip; FLATCTL_TEST_UPDATE_KILL, so that nothing depends on timing), then a fresh
# start: no update is lost (the download resumes, a verified staged file is checked again and
# rewritten), nothing unverified ever becomes a boot target, and the booted partition is never
# written (docs/update.md 7.3, 8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
crash_setup
mkdir -p "$R/proc" && echo "mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline"
once() { flatctl --root "$R" --disk "$D" update daemon --bus none --once; }
untouched() { test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" && test "$(part_sum 3)" = "$A0"; }
serve_payload "$T/p.gz" 4081.2.0

test_expect 'kill -9 during the download: the next start fetches only the rest' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=download:$((SIZE / 2)) test_exit 137 once 2>/dev/null &&
	have=$(stat -c %s "$PART") && test "$have" -lt "$SIZE" && untouched &&
	once 2>"$T/err" &&
	test_grep "fetched $((SIZE - have)) bytes (resumed at $have), payload $SIZE bytes" "$T/err" &&
	installed
'

test_expect 'kill -9 when verifying starts: nothing flipped; the next start verifies and installs' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=verify test_exit 137 once 2>/dev/null &&
	test "$(json_get "$S" "d[\"status\"]")" = UPDATE_STATUS_DOWNLOADING && untouched &&
	test "$(stat -c %s "$PART")" = "$SIZE" &&
	once 2>"$T/err" && ! grep -q "fetched" "$T/err" && installed
'

test_expect 'kill -9 during the write: not a boot target; the next start re-verifies and rewrites' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=write:$((3 * 1024 * 1024)) test_exit 137 once 2>/dev/null &&
	test "$(json_get "$S" "d[\"status\"]")" = UPDATE_STATUS_FINALIZING && untouched &&
	: >"$T/serve.log" && once 2>"$T/err" && ! grep -q "fetched" "$T/err" && installed &&
	serve_events >"$T/ev" && printf "3/2\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev"
'

test_expect 'kill -9 just before the flip: nothing flipped; the next start ends installed' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=flip test_exit 137 once 2>/dev/null &&
	untouched && test ! -e "$R/run/reboot-required" &&
	once 2>/dev/null && installed
'

test_expect 'a staged file changed behind the daemon'"'"'s back is never flipped to, nor fetched again' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=write:$((1024 * 1024)) test_exit 137 once 2>/dev/null &&
	printf "X" | dd of="$PART" bs=1 seek=$((SIZE - 300)) conv=notrunc 2>/dev/null &&
	test_exit 1 once 2>"$T/err" &&
	test_grep "SHA-256 mismatch" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" && test ! -e "$PART" &&
	test_exit 3 once 2>"$T/err" && test_grep "failed a check before" "$T/err" && test ! -e "$PART" &&
	flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 && installed
'
test_done
