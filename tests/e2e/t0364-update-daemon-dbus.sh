#!/bin/bash
# t0364-update-daemon-dbus: com.coreos.update1 on a private dbus-daemon that applies the policy
# file `make install` ships (docs/update.md 8.4): the interface as update_engine has it, GetStatus
# over busctl and dbus-send, update_engine_client -check_for_update returning at once through
# AttemptUpdate, -watch_for_updates following StatusUpdate, -status and -reset_status through
# the daemon, the policy turning away other users (whose -status falls back to the public
# status file), a second daemon refused the name, and our reboot-manager and
# locksmithctl send-need-reboot talking over the bus as locksmithd and locksmithctl do.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
. "$(dirname "$0")/lib-bus.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo '{}' >"$T/omaha.json"
start_bus
mkdir -p "$R/proc" && echo "mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline"
ln -s "$FLATCTL" "$T/update_engine_client"
ln -s "$FLATCTL" "$T/locksmithctl"
uec() { "$T/update_engine_client" -root "$R" -disk "$D" "$@"; }
GS="com.coreos.update1 /com/coreos/update1 com.coreos.update1.Manager GetStatus"
status_is() { [ "$(busctl --system call $GS | cut -d" " -f4)" = "\"$1\"" ]; }

start_daemon --root "$R" --disk "$D" update daemon --initial-delay 3600 --mark-good-delay 3600
test_expect 'the daemon owns com.coreos.update1 on the system bus and says READY' '
	wait_for has_owner com.coreos.update1 &&
	test_grep "^flatctl update: status IDLE$" "$T/daemon.log"
'

test_expect 'the interface is update_engine'"'"'s: methods, GetStatus xdssx, StatusUpdate xdssx' '
	busctl --system introspect --no-pager com.coreos.update1 /com/coreos/update1 \
		com.coreos.update1.Manager >"$T/intro" &&
	grep -E "^\.(AttemptUpdate|ResetStatus|GetStatus|StatusUpdate) " "$T/intro" |
		awk "{ print \$1, \$2, \$3, \$4 }" >"$T/got" &&
	printf "%s\n" ".AttemptUpdate method - -" ".GetStatus method - xdssx" \
		".ResetStatus method - -" ".StatusUpdate signal xdssx -" >"$T/want" &&
	test_cmp "$T/want" "$T/got"
'

test_expect 'GetStatus: (x last_checked_time, d progress, s current_operation, s new_version, x new_size)' '
	busctl --system call $GS >"$T/out" &&
	test "$(cat "$T/out")" = "xdssx 0 0 \"UPDATE_STATUS_IDLE\" \"0.0.0\" 0" &&
	dbus-send --system --print-reply --dest=com.coreos.update1 /com/coreos/update1 \
		com.coreos.update1.Manager.GetStatus >"$T/out" &&
	grep -E "^ +(int64|double|string)" "$T/out" | awk "{ print \$1, \$2 }" >"$T/got" &&
	printf "%s\n" "int64 0" "double 0" "string \"UPDATE_STATUS_IDLE\"" "string \"0.0.0\"" "int64 0" >"$T/want" &&
	test_cmp "$T/want" "$T/got"
'

test_expect '-check_for_update returns at once; -watch_for_updates follows to NEED_REBOOT' '
	{ uec -watch_for_updates >"$T/watch" 2>&1 & } && WPID=$! &&
	wait_for test -s "$T/watch" &&
	uec -check_for_update &&
	wait_for status_is UPDATE_STATUS_UPDATED_NEED_REBOOT &&
	wait_for grep -q "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT" "$T/watch" &&
	kill $WPID && { wait $WPID 2>/dev/null || :; } &&
	grep "^CURRENT_OP=" "$T/watch" | uniq >"$T/ops" &&
	printf "CURRENT_OP=UPDATE_STATUS_%s\n" IDLE CHECKING_FOR_UPDATE UPDATE_AVAILABLE DOWNLOADING \
		VERIFYING FINALIZING UPDATED_NEED_REBOOT >"$T/want" &&
	test_cmp "$T/want" "$T/ops" &&
	test "$(attrs 4)" = "2 1 0" &&
	events >"$T/ev" && printf "3/2\n13/1\n14/1\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev" &&
	python3 -c "import json,sys; r=[json.loads(l)[\"installsource\"] for l in open(sys.argv[1])]; assert set(r) == {\"ondemandupdate\"}, r" "$T/requests.log"
'

test_expect '-status asks the daemon: the frozen five lines' '
	uec -status >"$T/out" &&
	printf "%s\n" "PROGRESS=1.000000" "CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT" \
		"NEW_VERSION=4081.2.0" "NEW_SIZE=$(stat -c %s "$T/p.gz")" >"$T/want" &&
	tail -n 4 "$T/out" | test_cmp "$T/want" - &&
	checked=$(json_get "$S" "d[\"last_checked_time\"]") && test "$checked" -gt 0 &&
	test_grep "^LAST_CHECKED_TIME=$checked$" "$T/out" &&
	busctl --system call $GS >"$T/gs" &&
	test "$(cat "$T/gs")" = "xdssx $checked 1 \"UPDATE_STATUS_UPDATED_NEED_REBOOT\" \"4081.2.0\" $(stat -c %s "$T/p.gz")"
'

test_expect 'the policy: another user may not call the daemon; its -status reads status.json' '
	chmod 711 "$T" "$T/bus" "$R" && chmod 755 "$T/update_engine_client" &&
	test_exit 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		busctl --system call $GS 2>"$T/err" &&
	grep -qi "denied" "$T/err" &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$T/update_engine_client" -root "$R" -status >"$T/out" &&
	test_grep "^CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT$" "$T/out"
'

test_expect 'a second daemon is refused the name: exit 1, the first keeps serving' '
	test_exit 1 flatctl --root "$R" --disk "$D" update daemon 2>"$T/err" &&
	test_grep "com.coreos.update1 is owned by another process" "$T/err" &&
	status_is UPDATE_STATUS_UPDATED_NEED_REBOOT
'

test_expect 'AttemptUpdate while an update waits for its reboot starts nothing (as update_engine)' '
	: >"$T/requests.log" &&
	busctl --system call com.coreos.update1 /com/coreos/update1 com.coreos.update1.Manager AttemptUpdate &&
	status_is UPDATE_STATUS_UPDATED_NEED_REBOOT && test ! -s "$T/requests.log"
'

test_expect 'ResetStatus through the daemon undoes the flip (update reset)' '
	uec -reset_status &&
	wait_for status_is UPDATE_STATUS_IDLE &&
	test "$(attrs 3)" = "2 0 1" && test "$(attrs 4)" = "0 0 0" &&
	test "$(json_get "$S" "d[\"status\"], d[\"staged\"]")" = "UPDATE_STATUS_IDLE None"
'

test_expect 'reboot-manager hears the StatusUpdate of an install (no state file of its own)' '
	R2=$T/rm && mkdir -p "$R2/etc" && cp "$R/etc/machine-id" "$R2/etc/" &&
	{ flatctl --root "$R2" reboot-manager --bus "$BUS" --dry-run >"$T/rm.out" 2>&1 & } && RMPID=$! &&
	wait_for grep -q "STATE=running" "$R2/run/update-engine/coordinator.conf" &&
	uec -check_for_update &&
	wait_for test -s "$R2/var/lib/flatctl/reboot-manager/dry-run-reboots" &&
	wait $RMPID &&
	test "$(json_get "$R2/var/lib/flatctl/reboot-manager/dry-run-reboots" "d[\"new_version\"], d[\"strategy\"]")" = "4081.2.0 reboot"
'

test_expect '-update waits for the attempt: the block every 5 s, exit 0 when staged' '
	uec -reset_status && wait_for status_is UPDATE_STATUS_IDLE &&
	uec -update >"$T/out" 2>"$T/err" &&
	tail -n 5 "$T/out" | grep -q "^CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT$" &&
	test "$(attrs 4)" = "2 1 0"
'

test_expect '-update: an attempt that fails exits 1 and says why' '
	uec -reset_status && wait_for status_is UPDATE_STATUS_IDLE &&
	echo "{\"payload_status\": 404}" >"$T/omaha.json" &&
	test_exit 1 uec -update >"$T/out" 2>"$T/err" &&
	test_grep "the update attempt failed: DownloadTransferError (9): payload http://127.0.0.1:$PORT/payloads/p.gz: download failed: HTTP 404" "$T/err" &&
	tail -n 5 "$T/out" | grep -q "^CURRENT_OP=UPDATE_STATUS_IDLE$" && echo "{}" >"$T/omaha.json"
'

stop_daemon
test_expect 'SIGTERM: the daemon lets go of the name and exits 0' '
	test "$DAEMON_RC" = 0 && ! has_owner com.coreos.update1 &&
	test_grep "stopping (Terminated)" "$T/daemon.log"
'
test_expect 'locksmithctl send-need-reboot reaches a listening reboot-manager over the bus' '
	R3=$T/rm3 && mkdir -p "$R3/etc" "$T/other" && cp "$R/etc/machine-id" "$R3/etc/" &&
	{ flatctl --root "$R3" reboot-manager --bus "$BUS" --dry-run >"$T/rm3.out" 2>&1 & } && RMPID=$! &&
	wait_for grep -q "STATE=running" "$R3/run/update-engine/coordinator.conf" &&
	test ! -e "$R3/var/lib/flatctl/reboot-manager/dry-run-reboots" &&
	"$T/locksmithctl" --root "$T/other" send-need-reboot &&
	wait_for test -s "$R3/var/lib/flatctl/reboot-manager/dry-run-reboots" &&
	wait $RMPID && test ! -e "$R3/run/flatctl/reboot-needed" &&
	test -e "$T/other/run/flatctl/reboot-needed"
'

test_done
