#!/bin/bash
# t0365-update-daemon-schedule: the daemon's own schedule (docs/update.md 8.2, 8.3): checks on
# the interval given, the interval doubled (with jitter of half of it) after server errors and
# back after a good answer, a server's PollInterval; SIGTERM in the middle of a download stops
# it within the grace time with exit 0 and the next start resumes; SIGHUP re-reads update.conf,
# and a bad edit keeps what was in force. The tests read what the daemon decided from its
# journal lines, so no check depends on timing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
. "$(dirname "$0")/lib-bus.sh"
setup_update
make_payload "$T/p.gz" $((4 * 1024 * 1024))
SIZE=$(stat -c %s "$T/p.gz")
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
mkdir -p "$R/proc" && echo "mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline"
checks() { grep -c "status CHECKING_FOR_UPDATE" "$T/daemon.log"; }
# next_delays: the delays the daemon chose, one per line
next_delays() { sed -n "s/.*next check in \([0-9]*\) s.*/\1/p" "$T/daemon.log"; }
between() { [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
delays_at_least() { [ "$(next_delays | wc -l)" -ge "$1" ]; }

echo '{"http_status": 503}' >"$T/omaha.json"
start_daemon -v --root "$R" --disk "$D" update daemon --bus none --initial-delay 0 --interval 1 \
	--fuzz 0 --mark-good-delay 3600
test_expect 'server errors double the interval (1 s -> 2 s -> 4 s, +- half); a good answer resets it' '
	wait_for delays_at_least 2 &&
	echo "{\"status\": \"noupdate\", \"poll_interval\": 60}" >"$T/omaha.json" &&
	wait_for delays_at_least 3 &&
	next_delays >"$T/d" &&
	between "$(sed -n 1p "$T/d")" 1 3 && between "$(sed -n 2p "$T/d")" 2 6 &&
	test_grep "interval 2 s, backing off after server trouble" "$T/daemon.log" &&
	test_grep "interval 4 s, backing off after server trouble" "$T/daemon.log" &&
	test "$(sed -n 3p "$T/d")" = 60 && test_grep "next check in 60 s (interval 60 s)$" "$T/daemon.log" &&
	test_grep "server error: HTTP 503" "$T/daemon.log"
'
stop_daemon
test_expect 'the daemon stopped with exit 0' 'test "$DAEMON_RC" = 0'

: >"$T/daemon.log"
echo "{\"stall_after\": $((SIZE / 2))}" >"$T/omaha.json"
start_daemon --root "$R" --disk "$D" update daemon --bus none --initial-delay 0 --fuzz 0 \
	--mark-good-delay 3600
test_expect 'SIGTERM in the middle of a download: the daemon stops it and exits 0' '
	wait_for grep -q "status DOWNLOADING 4081.2.0 50%" "$T/daemon.log" &&
	kill -TERM $DAEMON_PID && wait_for sh -c "! kill -0 $DAEMON_PID 2>/dev/null" &&
	test_grep "stopping (Terminated)" "$T/daemon.log" &&
	test "$(json_get "$S" "d[\"status\"], d[\"pending\"][\"version\"]")" = "UPDATE_STATUS_IDLE 4081.2.0" &&
	test "$(stat -c %s "$PART")" -ge $((SIZE / 2)) && test "$(attrs 4)" = "0 0 0"
'
stop_daemon
test_expect '... with exit 0, and the next start resumes the download and installs' '
	test "$DAEMON_RC" = 0 && have=$(stat -c %s "$PART") &&
	echo "{}" >"$T/omaha.json" &&
	flatctl --root "$R" --disk "$D" update daemon --bus none --once 2>"$T/err" &&
	test_grep "fetched $((SIZE - have)) bytes (resumed at $have)" "$T/err" &&
	test "$(attrs 4)" = "2 1 0"
'

: >"$T/daemon.log"
start_daemon --root "$R" --disk "$D" update daemon --bus none --initial-delay 3600
test_expect 'SIGHUP re-reads update.conf; a bad edit is reported and changes nothing' '
	wait_for grep -q "status UPDATED_NEED_REBOOT" "$T/daemon.log" &&
	echo "MARK_GOOD_UNITS=a.service" >>"$R/etc/flatcar/update.conf" &&
	kill -HUP $DAEMON_PID && wait_for grep -q "configuration reloaded" "$T/daemon.log" &&
	echo "MARK_GOOD_TIMEOUT=later" >>"$R/etc/flatcar/update.conf" &&
	kill -HUP $DAEMON_PID &&
	wait_for grep -q "MARK_GOOD_TIMEOUT: .later. is not a duration" "$T/daemon.log" &&
	kill -0 $DAEMON_PID
'
stop_daemon
test_done
