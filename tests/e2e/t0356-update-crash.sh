#!/bin/bash
# t0356-update-crash: kill -9 in every phase, then a rerun (docs/update.md 7.3): during the
# download (the rerun fetches only the missing part), during the write, just before the GPT
# change, and inside the GPT write itself. Every rerun ends installed and verified; the booted
# partition is never written; nothing becomes a boot target before it verified.
# The kill is SIGKILL sent by the process to itself at a named point (FLATCTL_TEST_UPDATE_KILL),
# so no test depends on timing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
crash_setup
apply() { flatctl --root "$R" --disk "$D" update apply "$@"; }
serve_payload "$T/p.gz" 4081.2.0

test_expect 'kill -9 at 50% of the download: the rerun fetches only the missing half' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=download:$((SIZE / 2)) test_exit 137 apply >/dev/null 2>&1 &&
	have=$(stat -c %s "$PART") && test "$have" -ge $((SIZE / 2)) && test "$have" -lt "$SIZE" &&
	test "$(json_get "$S" "d[\"status\"], d[\"pending\"][\"size\"]")" = "UPDATE_STATUS_DOWNLOADING $SIZE" &&
	test "$(part_sum 3)" = "$A0" && test "$(gpt_bytes)" = "$G0" &&
	apply >/dev/null 2>"$T/err" &&
	test_grep "fetched $((SIZE - have)) bytes (resumed at $have), payload $SIZE bytes" "$T/err" &&
	installed
'

test_expect 'kill -9 during the write: target not a boot target; the rerun rewrites and flips' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=write:$((3 * 1024 * 1024)) test_exit 137 apply >/dev/null 2>&1 &&
	test "$(json_get "$S" "d[\"status\"]")" = UPDATE_STATUS_FINALIZING &&
	test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" && test "$(part_sum 3)" = "$A0" &&
	test "$(stat -c %s "$PART")" = "$SIZE" && : >"$T/serve.log" &&
	apply >/dev/null 2>"$T/err" && ! grep -q "fetched" "$T/err" &&
	installed &&
	serve_events >"$T/ev" && printf "3/2\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev"
'

test_expect 'kill -9 just before the GPT change: nothing flipped; the rerun ends installed' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=flip test_exit 137 apply >/dev/null 2>&1 &&
	test "$(part_sum 4 $IMG)" = "$(file_sum "$T/p.gz.img")" &&
	test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" && test ! -e "$R/run/reboot-required" &&
	flatctl --root "$R" --disk "$D" update status >"$T/st" && test_grep "UPDATE_STATUS_FINALIZING" "$T/st" &&
	apply >/dev/null 2>&1 && installed
'

test_expect 'crash inside the GPT write (after the backup copy): the rerun ends installed' '
	fresh &&
	FLATCTL_TEST_CRASH_AFTER=2 test_exit 99 apply >/dev/null 2>&1 &&
	test "$(part_sum 3)" = "$A0" &&
	apply >/dev/null 2>&1 && installed
'

test_expect 'kill -9 during a --payload FILE write: the rerun installs' '
	fresh &&
	FLATCTL_TEST_UPDATE_KILL=write:$((2 * 1024 * 1024)) test_exit 137 apply --payload "$T/p.gz" --version 4081.2.0 >/dev/null 2>&1 &&
	test "$(gpt_bytes)" = "$G0" &&
	apply --payload "$T/p.gz" --version 4081.2.0 >/dev/null 2>&1 && installed
'
test_done
