#!/bin/bash
# t0405-reboot-manager-window: reboot window grammar and arithmetic through check-window
# (docs/reboot-lock.md 7.4): daily and weekly windows, midnight wrap, day names, bad input.
. "$(dirname "$0")/lib.sh"
export TZ=UTC
mkdir -p "$T/etc"
cw() { flatctl --root "$T" reboot-manager check-window "$@"; }

# 2026-11-26 is a Thursday.
test_expect 'daily 04:00 for 1h: inside at 04:30, outside at 05:00' '
	cw --window-start 04:00 --window-length 1h --now "2026-11-26 04:30" >"$T/o" &&
	printf "inside: yes\nnext-start: 2026-11-26 04:00 Thu\nnext-end: 2026-11-26 05:00 Thu\n" >"$T/e" &&
	test_cmp "$T/e" "$T/o" &&
	cw --window-start 04:00 --window-length 1h --now "2026-11-26 05:00" >"$T/o" &&
	printf "inside: no\nnext-start: 2026-11-27 04:00 Fri\nnext-end: 2026-11-27 05:00 Fri\n" >"$T/e" &&
	test_cmp "$T/e" "$T/o"
'
test_expect 'one-digit hour and 30m' '
	cw --window-start 4:00 --window-length 30m --now "2026-11-26 04:29" | test_grep "inside: yes" /dev/stdin &&
	cw --window-start 4:00 --window-length 30m --now "2026-11-26 04:30" | test_grep "inside: no" /dev/stdin
'
test_expect 'midnight wrap: 23:30 for 2h covers 01:00 of the next day' '
	cw --window-start 23:30 --window-length 2h --now "2026-11-27 01:00" >"$T/o" &&
	printf "inside: yes\nnext-start: 2026-11-26 23:30 Thu\nnext-end: 2026-11-27 01:30 Fri\n" >"$T/e" &&
	test_cmp "$T/e" "$T/o" &&
	cw --window-start 23:30 --window-length 2h --now "2026-11-27 01:30" | test_grep "inside: no" /dev/stdin
'
test_expect 'weekly, case-insensitive day: thu 23:00 for 1h30m runs into Friday' '
	cw --window-start "thu 23:00" --window-length 1h30m --now "2026-11-27 00:10" | test_grep "inside: yes" /dev/stdin &&
	cw --window-start "THU 23:00" --window-length 1h30m --now "2026-11-27 00:30" >"$T/o" &&
	printf "inside: no\nnext-start: 2026-12-03 23:00 Thu\nnext-end: 2026-12-04 00:30 Fri\n" >"$T/e" &&
	test_cmp "$T/e" "$T/o"
'
test_expect 'Sun 22:00 for 6h reaches Monday 04:00; other days are outside' '
	cw --window-start "Sun 22:00" --window-length 6h --now "2026-11-30 03:59" | test_grep "inside: yes" /dev/stdin &&
	cw --window-start "Sun 22:00" --window-length 6h --now "2026-11-30 04:00" | test_grep "inside: no" /dev/stdin &&
	cw --window-start "  sun   22:00 " --window-length " 6h " --now "2026-11-28 23:00" | test_grep "next-start: 2026-11-29 22:00 Sun" /dev/stdin
'
test_expect 'json output' '
	flatctl --root "$T" --json reboot-manager check-window --window-start "Thu 04:00" --window-length 1h \
		--now "2026-11-26 04:10" | jq -e ".inside == true and .next_end == \"2026-11-26 05:00 Thu\"" >/dev/null
'
test_expect 'errors exit 2 with the reason' '
	test_exit 2 cw --window-start "Thursday 04:00" --window-length 1h 2>"$T/err" &&
	test_grep "invalid day \"Thursday\" (use sun mon tue wed thu fri sat)" "$T/err" &&
	test_exit 2 cw --window-start 24:00 --window-length 1h 2>"$T/err" && test_grep "hour must be 0-23" "$T/err" &&
	test_exit 2 cw --window-start 12:60 --window-length 1h 2>"$T/err" && test_grep "minute must be 0-59" "$T/err" &&
	test_exit 2 cw --window-start "Thu 04:00" --window-length 168h 2>"$T/err" &&
	test_grep "length must be shorter than a week" "$T/err" &&
	test_exit 2 cw --window-start 04:00 --window-length 24h 2>"$T/err" && test_grep "shorter than a day" "$T/err" &&
	test_exit 2 cw --window-start 04:00 --window-length 0 2>/dev/null &&
	test_exit 2 cw --window-start 04:00 --window-length -1h 2>/dev/null &&
	test_exit 2 cw --window-start 04:00 --window-length "1 hour" 2>/dev/null &&
	test_exit 2 cw --window-start 04:00 2>"$T/err" && test_grep "set both or neither" "$T/err" &&
	test_exit 2 cw --window-start 4 --window-length 1h 2>/dev/null &&
	test_exit 2 cw --window-start 04:00 --window-length 1h --now "tomorrow" 2>/dev/null
'
test_expect 'window from update.conf, message names key and file' '
	mkdir -p "$T/etc/flatcar" &&
	printf "REBOOT_WINDOW_START=Thu 04:00\nREBOOT_WINDOW_LENGTH=1h\n" >"$T/etc/flatcar/update.conf" &&
	cw --now "2026-11-26 04:10" | test_grep "inside: yes" /dev/stdin &&
	printf "LOCKSMITHD_REBOOT_WINDOW_START=\"Thursday 04:00\"\nREBOOT_WINDOW_LENGTH=1h\n" >"$T/etc/flatcar/update.conf" &&
	test_exit 2 cw 2>"$T/err" &&
	test_grep "LOCKSMITHD_REBOOT_WINDOW_START=\"Thursday 04:00\" in /etc/flatcar/update.conf: invalid day" "$T/err"
'
test_done
