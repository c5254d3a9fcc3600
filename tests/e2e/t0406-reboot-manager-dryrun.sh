#!/bin/bash
# t0406-reboot-manager-dryrun: the reboot manager end to end with --dry-run --once on a real etcd
# and on the file backend (docs/reboot-lock.md 7): needs, strategies, lock turns between two
# machines, hooks, window, release after boot.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"
export TZ=UTC

etcd_start_cluster 1 || exit 1
for m in a b; do
	mkdir -p "$T/$m/etc/flatcar" "$T/$m/var/lib/flatctl/update"
	echo "machine-$m" >"$T/$m/etc/machine-id"
	printf "REBOOT_STRATEGY=etcd-lock\nLOCKSMITHD_ENDPOINT=%s\n" "$ETCD_ENDPOINTS" >"$T/$m/etc/flatcar/update.conf"
done
need() { echo '{"schema":1,"status":"UPDATE_STATUS_UPDATED_NEED_REBOOT","staged":{"version":"4081.2.0"}}' >"$T/$1/var/lib/flatctl/update/state.json"; }
idle() { echo '{"schema":1,"status":"UPDATE_STATUS_IDLE"}' >"$T/$1/var/lib/flatctl/update/state.json"; }
rm_() { m=$1 && shift && flatctl --root "$T/$m" reboot-manager --once --dry-run "$@"; }
L="flatctl --root $T/a lock --endpoints $ETCD_ENDPOINTS"
LOG=var/lib/flatctl/reboot-manager/dry-run-reboots

test_expect 'no update pending: exit 3, coordinator file written' '
	idle a && test_exit 3 rm_ a &&
	test_grep "^NAME=locksmithd$" "$T/a/run/update-engine/coordinator.conf" &&
	test_grep "^STRATEGY=etcd-lock$" "$T/a/run/update-engine/coordinator.conf"
'
test_expect 'update installed: machine a takes the lock and records the reboot' '
	need a && rm_ a &&
	jq -e "select(.id == \"machine-a\" and .strategy == \"etcd-lock\" and .new_version == \"4081.2.0\" and .group == \"\")" "$T/a/$LOG" >/dev/null &&
	$L status | test_grep "^machine-a$" /dev/stdin &&
	test_grep "^STATE=rebooting$" "$T/a/run/update-engine/coordinator.conf"
'
test_expect 'machine b must wait its turn: exit 75, nothing recorded' '
	need b && test_exit 75 rm_ b 2>/dev/null && test ! -e "$T/b/$LOG"
'
test_expect 'a comes back: post hook, then release; b takes its turn' '
	echo "REBOOT_POST_HOOK=echo \$FLATCTL_MACHINE_ID >\"$T/post\"" >>"$T/a/etc/flatcar/update.conf" &&
	idle a && test_exit 3 rm_ a && test "$(cat "$T/post")" = machine-a &&
	! $L status | grep -q machine-a &&
	rm_ b && $L status | test_grep "^machine-b$" /dev/stdin
'
test_expect 'a failing post hook keeps the lock (exit 1)' '
	echo "REBOOT_POST_HOOK=false" >>"$T/b/etc/flatcar/update.conf" && idle b &&
	test_exit 1 rm_ b 2>"$T/err" && test_grep "REBOOT_POST_HOOK failed" "$T/err" &&
	$L status | test_grep "^machine-b$" /dev/stdin &&
	sed -i "/REBOOT_POST_HOOK/d" "$T/b/etc/flatcar/update.conf" && test_exit 3 rm_ b
'
test_expect 'a failing pre hook: no reboot, lock given back, exit 1' '
	need a && rm -f "$T/a/$LOG" &&
	echo "REBOOT_PRE_HOOK=echo drain-\$FLATCTL_NEW_VERSION >\"$T/pre\"; exit 4" >>"$T/a/etc/flatcar/update.conf" &&
	test_exit 1 rm_ a 2>"$T/err" && test_grep "REBOOT_PRE_HOOK failed with exit status 4" "$T/err" &&
	test "$(cat "$T/pre")" = drain-4081.2.0 && test ! -e "$T/a/$LOG" &&
	! $L status | grep -q machine-a
'
test_expect 'a pre hook that hangs is stopped at REBOOT_PRE_HOOK_TIMEOUT' '
	sed -i "/REBOOT_PRE_HOOK/d" "$T/a/etc/flatcar/update.conf" &&
	printf "REBOOT_PRE_HOOK=sleep 30\nREBOOT_PRE_HOOK_TIMEOUT=1s\n" >>"$T/a/etc/flatcar/update.conf" &&
	test_exit 1 rm_ a 2>"$T/err" && test_grep "timed out" "$T/err" && ! $L status | grep -q machine-a &&
	sed -i "/REBOOT_PRE_HOOK/d" "$T/a/etc/flatcar/update.conf"
'
test_expect 'outside the reboot window: exit 75, no lock taken' '
	h=$(( (10#$(date -u +%H) + 3) % 24 )) &&
	test_exit 75 rm_ a --window-start "$h:00" --window-length 1h 2>/dev/null &&
	! $L status | grep -q machine-a
'
test_expect 'strategy reboot takes no lock; the trigger file is a reboot need and is removed' '
	idle a && rm -f "$T/a/$LOG" && flatctl --root "$T/a" reboot-manager send-need-reboot &&
	test -e "$T/a/run/flatctl/reboot-needed" &&
	rm_ a --strategy reboot && test ! -e "$T/a/run/flatctl/reboot-needed" &&
	jq -e "select(.strategy == \"reboot\")" "$T/a/$LOG" >/dev/null && ! $L status | grep -q machine-a
'
test_expect 'strategy off releases a lock left from before the boot, exit 3' '
	$L lock machine-a && test_exit 3 rm_ a --strategy off && ! $L status | grep -q machine-a
'
test_expect 'file backend works the same without etcd' '
	mkdir -p "$T/c/etc" "$T/c/var/lib/flatctl/update" && echo machine-c >"$T/c/etc/machine-id" && need c &&
	REBOOT_STRATEGY=etcd-lock REBOOT_LOCK_BACKEND=file rm_ c &&
	flatctl --root "$T/c" lock status | test_grep "^machine-c$" /dev/stdin &&
	idle c && REBOOT_STRATEGY=etcd-lock REBOOT_LOCK_BACKEND=file test_exit 3 rm_ c &&
	flatctl --root "$T/c" lock status | test_grep "^Available: 1$" /dev/stdin
'
test_expect 'unknown strategy: exit 2 naming key, value and file' '
	mkdir -p "$T/c/etc/flatcar" &&
	printf "REBOOT_STRATEGY=rebot\n" >"$T/c/etc/flatcar/update.conf" &&
	test_exit 2 rm_ c 2>"$T/err" &&
	test_grep "REBOOT_STRATEGY=\"rebot\" in /etc/flatcar/update.conf: unknown strategy (expected reboot, etcd-lock or off)" "$T/err"
'
test_expect 'a second manager on the same machine: exit 1' '
	rm -f "$T/c/etc/flatcar/update.conf" && mkdir -p "$T/c/run/flatctl" &&
	{ python3 -c "import fcntl, sys, time
f = open(sys.argv[1], \"w\"); fcntl.flock(f, fcntl.LOCK_EX); open(sys.argv[2], \"w\").close(); time.sleep(60)" \
		"$T/c/run/flatctl/reboot-manager.lock" "$T/held" >/dev/null 2>&1 & } &&
	holder=$! &&
	test_wait_for 60 "test -e \"\$T/held\"" &&
	if test_exit 1 rm_ c 2>"$T/err"; then r=0; else r=1; fi &&
	{ kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null || :; } &&
	[ $r = 0 ] && test_grep "another reboot manager is running" "$T/err"
'
test_expect 'etcd unreachable with etcd-lock: exit 75, never a reboot' '
	need c && rm -f "$T/c/$LOG" &&
	REBOOT_STRATEGY=etcd-lock LOCKSMITHD_ENDPOINT=http://127.0.0.1:1 test_exit 75 rm_ c 2>"$T/err" &&
	test_grep "cannot reach etcd" "$T/err" && test ! -e "$T/c/$LOG"
'
test_expect 'the locksmithd link runs the same manager' '
	ln -s "$FLATCTL" "$T/locksmithd" && idle a &&
	test_exit 3 "$T/locksmithd" --root "$T/a" --once --dry-run
'
test_done
