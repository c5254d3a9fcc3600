#!/bin/bash
# t0402-lock-etcd: the semaphore in a real single-member etcd (docs/reboot-lock.md 3, 6, 9):
# v3 through the JSON gateway, v2 keys API interop, locksmithctl surface, corruption, etcd down.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"

etcd_start_cluster 1 --enable-v2=true || exit 1
mkdir -p "$T/etc" && echo "m0000000000000000000000000000001" >"$T/etc/machine-id"
L="flatctl --root $T lock --endpoints $ETCD_ENDPOINTS"
K=coreos.com/updateengine/rebootlock/semaphore

test_expect 'status without a key: default, nothing written' '
	$L status >"$T/out" && printf "Available: 1\nMax: 1\n" >"$T/exp" && test_cmp "$T/exp" "$T/out" &&
	test -z "$(etcdctl --endpoints "$ETCD_ENDPOINTS" get --prefix coreos.com)"
'
test_expect 'lock creates the v3 key with locksmith JSON (no leading slash)' '
	$L lock && test "$(etcd_get_raw $K)" = "{\"semaphore\":0,\"max\":1,\"holders\":[\"m0000000000000000000000000000001\"]}"
'
test_expect 'lock and unlock take at most 2 round trips each' '
	$L unlock && flatctl --root "$T" -vv lock --endpoints "$ETCD_ENDPOINTS" lock 2>"$T/err" &&
	test_grep "etcd round trips: 2" "$T/err" &&
	flatctl --root "$T" -vv lock --endpoints "$ETCD_ENDPOINTS" unlock 2>"$T/err" &&
	test_grep "etcd round trips: 2" "$T/err"
'
test_expect 'full: exit 75 with the key; already held: 0' '
	$L lock && $L lock 2>"$T/err" && test_grep "already held" "$T/err" &&
	test_exit 75 $L lock other 2>"$T/err" && test_grep "semaphore $K is full (1 of 1 held)" "$T/err"
'
test_expect 'set-max below the current holders keeps them and warns' '
	$L set-max 3 >/dev/null && $L lock b && $L lock c &&
	$L set-max 1 >"$T/out" 2>"$T/err" && printf "Old-Max: 3\nMax: 1\n" >"$T/exp" && test_cmp "$T/exp" "$T/out" &&
	test_grep "3 machines hold the lock" "$T/err" &&
	test "$(etcd_get_raw $K | jq -c "[.semaphore,.max,(.holders|length)]")" = "[-2,1,3]" &&
	test_exit 75 $L lock d 2>/dev/null && $L unlock b && $L unlock c && $L unlock && $L lock d && $L unlock d
'
test_expect 'json status: key, revision, available' '
	$L set-max 2 >/dev/null && $L lock &&
	flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status >"$T/j" &&
	test "$(jq -r "[.backend,.api,.key,.max,.available,.semaphore]|join(\" \")" "$T/j")" = "etcd v3 $K 2 1 1" &&
	test "$(jq ".revision > 0" "$T/j")" = true && $L unlock
'
test_expect 'a corrupt value: exit 1 for every command, value byte-identical' '
	printf "{\"semaphore\":1,\"max\":\"2\",\"holders\":[]}" >"$T/bad" &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" put $K -- "$(cat "$T/bad")" >/dev/null &&
	test_exit 1 $L status 2>"$T/err" && test_grep "/max: not an integer" "$T/err" &&
	test_grep "etcd key $K" "$T/err" &&
	test_exit 1 $L lock 2>/dev/null && test_exit 1 $L unlock x 2>/dev/null &&
	test_exit 1 $L set-max 5 2>/dev/null &&
	etcd_get_raw $K >"$T/now" && cmp "$T/bad" "$T/now" &&
	printf "{\"semaphore\":1,\"max\":2,\"hol" >"$T/bad" &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" put $K -- "$(cat "$T/bad")" >/dev/null &&
	test_exit 1 $L lock 2>"$T/err" && test_grep "invalid semaphore JSON in etcd key $K: .* at line 1, column" "$T/err" &&
	etcd_get_raw $K >"$T/now" && cmp "$T/bad" "$T/now" &&
	$L set-max 2 --reset >/dev/null 2>&1 && test "$(etcd_get_raw $K)" = "{\"semaphore\":2,\"max\":2,\"holders\":[]}"
'
test_expect 'groups use Go query escaping in the key' '
	$L --group "lb pool/1" lock &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" get --keys-only --prefix coreos.com | grep -q "groups/lb+pool%2F1/semaphore" &&
	$L --group "lb pool/1" unlock
'
test_expect 'v2 mode: same JSON at the v2 path, CAS on prevIndex, separate from v3' '
	$L --etcd-api v2 lock v2a && $L --etcd-api v2 set-max 2 >/dev/null && $L --etcd-api v2 lock v2b &&
	curl -s "$ETCD_URL_1/v2/keys/$K" | jq -r .node.value >"$T/v2" &&
	test "$(cat "$T/v2")" = "{\"semaphore\":0,\"max\":2,\"holders\":[\"v2a\",\"v2b\"]}" &&
	test_exit 75 $L --etcd-api v2 lock v2c 2>/dev/null &&
	$L status | grep -vq v2a &&
	$L --etcd-api v2 --group "lb pool/1" lock g &&
	curl -s "$ETCD_URL_1/v2/keys/coreos.com/updateengine/rebootlock/groups/lb%2Bpool%252F1/semaphore" | jq -e .node.value >/dev/null
'
test_expect 'v3 status warns when the separate v2 semaphore has holders' '
	$L status >/dev/null 2>"$T/err" && test_grep "v2 semaphore at the same path (real locksmith) has 2 holder" "$T/err" &&
	flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status 2>/dev/null | jq -e ".warnings | length == 1" >/dev/null
'
test_expect 'locksmithctl reboot: lock, and with logind unreachable give it back (exit 1)' '
	{ test -e "$T/locksmithctl" || ln -s "$FLATCTL" "$T/locksmithctl"; } &&
	DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus" LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" \
		test_exit 1 "$T/locksmithctl" -root "$T" reboot 2>"$T/err" &&
	test_grep "asking logind to reboot" "$T/err" && ! $L status | grep -q "^m0000000000000000000000000000001$"
'
test_expect 'locksmithctl link: Go flags, env, messages, output' '
	"$T/locksmithctl" -endpoint=http://127.0.0.1:1 --endpoint "$ETCD_ENDPOINTS" -root "$T" status >"$T/out" &&
	test_grep "^Max: 2" "$T/out" &&
	LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" "$T/locksmithctl" -root="$T" lock x1 &&
	LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" "$T/locksmithctl" -root="$T" lock x2 &&
	test_exit 1 env LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" "$T/locksmithctl" -root="$T" lock x3 2>"$T/err" &&
	test_grep "Error locking: semaphore is at 0" "$T/err" &&
	test_exit 1 env LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" "$T/locksmithctl" -root="$T" unlock nope 2>"$T/err" &&
	test_grep "Error unlocking: holder does not exist" "$T/err" &&
	LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" "$T/locksmithctl" -root="$T" -group "lb pool/1" lock &&
	LOCKSMITHCTL_ENDPOINT="$ETCD_ENDPOINTS" LOCKSMITHCTL_GROUP="lb pool/1" "$T/locksmithctl" -root="$T" unlock &&
	test_exit 2 "$T/locksmithctl" -bogus status 2>/dev/null &&
	test_exit 1 "$T/locksmithctl" -endpoint http://127.0.0.1:1 -root "$T" status 2>"$T/err" &&
	test_grep "connection refused" "$T/err" &&
	"$T/locksmithctl" help | test_grep "send-need-reboot" /dev/stdin
'
test_expect 'endpoints from update.conf (LOCKSMITHD_ENDPOINT) select etcd' '
	mkdir -p "$T/etc/flatcar" && echo "LOCKSMITHD_ENDPOINT=\"$ETCD_ENDPOINTS\"" >"$T/etc/flatcar/update.conf" &&
	flatctl --root "$T" lock status | test_grep "^Max: 2" /dev/stdin &&
	rm "$T/etc/flatcar/update.conf"
'
test_expect 'a dead first endpoint fails over to the next' '
	$L unlock x1 && $L unlock x2 &&
	flatctl --root "$T" lock --endpoints "http://127.0.0.1:1,$ETCD_ENDPOINTS" lock y1 &&
	flatctl --root "$T" lock --endpoints "http://127.0.0.1:1" --endpoints "$ETCD_ENDPOINTS" unlock y1
'
test_expect 'etcd stopped: exit 75 naming every endpoint' '
	etcd_stop "$ETCD_PID_1" &&
	test_exit 75 $L --endpoints http://127.0.0.1:1 status 2>"$T/err" &&
	test_grep "status: cannot reach etcd: $ETCD_URL_1: connection refused; http://127.0.0.1:1: connection refused" "$T/err" &&
	test_exit 75 $L lock 2>"$T/err" && test_grep "lock m0000000000000000000000000000001: cannot reach etcd" "$T/err"
'
test_done
