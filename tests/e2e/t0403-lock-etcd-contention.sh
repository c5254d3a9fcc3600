#!/bin/bash
# t0403-lock-etcd-contention: 40 concurrent contenders against max=3 on a real etcd: the whole
# stored history never shows more than 3 holders, and every contender gets the lock
# (docs/reboot-lock.md 1.2, 3.2).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"

etcd_start_cluster 1 || exit 1
K=coreos.com/updateengine/rebootlock/semaphore
L="flatctl --root $T lock --endpoints $ETCD_ENDPOINTS"

test_expect 'set-max 3' '$L set-max 3 >/dev/null'
test_expect '40 contenders, max 3, 200 ms each: all get it, none fails' '
	contenders 40 0.2 --endpoints "$ETCD_ENDPOINTS" &&
	test "$(sort -u "$T/got" | wc -l)" = 40 && test ! -s "$T/fail"
'
test_expect 'no stored revision ever had more than 3 holders' '
	test "$(etcd_history_max $K)" = 3 && test "$(etcd_history_count)" -ge 80
'
test_expect 'the semaphore ends empty and consistent' '
	test "$(etcd_get_raw $K)" = "{\"semaphore\":3,\"max\":3,\"holders\":[]}"
'
test_expect 'a sampler polling status during a second run never sees more than 3' '
	{ ( while [ ! -e "$T/stop" ]; do $L --json status | jq ".holders|length" || return 1; done >"$T/samples" ) & } &&
	{ CONTENDERS_GATE=$T/gate contenders 40 0.05 --endpoints "$ETCD_ENDPOINTS" & } && cpid=$! &&
	test_wait_for 300 "test \"\$(wc -l <\"\$T/got\" 2>/dev/null)\" = 3" &&
	n=$(wc -l <"$T/samples") &&
	test_wait_for 300 "test \"\$(wc -l <\"\$T/samples\")\" -ge $((n + 5))" &&
	touch "$T/gate" && wait "$cpid" && touch "$T/stop" && wait &&
	test "$(sort -u "$T/got" | wc -l)" = 40 && test ! -s "$T/fail" &&
	test "$(sort -n "$T/samples" | tail -1)" -le 3
'
test_done
