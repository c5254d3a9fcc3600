#!/bin/bash
# t0404-lock-etcd-cluster: a three-member etcd cluster; the leader is killed with SIGKILL while 40
# contenders fight over 3 free slots (3 of them holding, 37 waiting): no lock state is lost, no
# stored revision shows more holders than allowed, everyone gets the lock (docs/reboot-lock.md
# §3.2 retry loop, §8, §9).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"

etcd_start_cluster 3 || exit 1
K=coreos.com/updateengine/rebootlock/semaphore
L="flatctl --root $T lock --endpoints $ETCD_ENDPOINTS"

test_expect 'two long-term holders, max 5 (3 free slots)' '
	$L set-max 5 >/dev/null && $L lock keep-1 && $L lock keep-2
'
test_expect 'every member serves the same semaphore' '
	for u in "$ETCD_URL_1" "$ETCD_URL_2" "$ETCD_URL_3"; do
		flatctl --root "$T" lock --endpoints "$u" status | grep -q "^keep-2$" || return 1
	done
'
test_expect 'leader killed mid-run (3 holders in, 37 waiting): all 40 contenders get the lock, none fails' '
	leader=$(etcdctl --endpoints "$ETCD_ENDPOINTS" endpoint status -w json |
		jq -r ".[] | select(.Status.leader == .Status.header.member_id) | .Endpoint") &&
	victim= &&
	for i in 1 2 3; do
		eval "u=\$ETCD_URL_$i p=\$ETCD_PID_$i" && { [ "$u" != "$leader" ] || victim=$p; } || return 1
	done &&
	test -n "$victim" &&
	{ CONTENDERS_GATE=$T/gate contenders 40 0 --endpoints "$ETCD_ENDPOINTS" & } && cpid=$! &&
	test_wait_for 300 "test \"\$(wc -l <\"\$T/got\" 2>/dev/null)\" = 3" &&
	test "$(etcd_get_raw $K | jq ".holders | length")" = 5 &&
	etcd_stop "$victim" KILL && ! kill -0 "$victim" 2>/dev/null &&
	test "$(wc -l <"$T/got")" = 3 &&
	touch "$T/gate" && wait "$cpid" &&
	test "$(sort -u "$T/got" | wc -l)" = 40 && { test ! -s "$T/fail" || { cat "$T/fail"; false; }; }
'
test_expect 'no revision ever had more than 5 holders; the long-term holders were never lost' '
	test "$(etcd_history_max $K)" -le 5 && test "$(etcd_history_count)" -ge 80 &&
	! grep "^{" "$T/.hist" | jq -e "select((.holders | index(\"keep-1\")) == null)" >/dev/null &&
	! grep "^{" "$T/.hist" | jq -e "select((.holders | index(\"keep-2\")) == null)" >/dev/null
'
test_expect 'the surviving members agree: only the long-term holders remain' '
	$L status >"$T/out" &&
	printf "Available: 3\nMax: 5\n\nMACHINE ID\nkeep-1\nkeep-2\n" >"$T/exp" && test_cmp "$T/exp" "$T/out"
'
test_expect 'v2 mode against a cluster without v2: exit 1 with a clear message' '
	test_exit 1 $L --etcd-api v2 status 2>"$T/err" &&
	test_grep "does not serve the v2 API (needs --enable-v2=true, etcd <= 3.5)" "$T/err"
'
test_expect 'two of three members gone (no quorum): exit 75 at the deadline' '
	for i in 1 2 3; do
		eval "p=\$ETCD_PID_$i" &&
		if kill -0 "$p" 2>/dev/null; then etcd_stop "$p" KILL || return 1; break; fi || return 1
	done &&
	test_exit 75 $L --timeout 3s --request-timeout 1s lock nobody 2>"$T/err" &&
	test_grep "cannot reach etcd" "$T/err"
'
test_done
