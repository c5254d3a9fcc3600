#!/bin/bash
# t0810-lock-etcd-huge-value: a semaphore of a million holders (14.7 MB) in a real etcd is bad
# data, not an unreachable etcd (docs/security.md): every command exits 1 at once, naming the key
# and the limit, and the value stays as it was (issue 14, D2).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"

# etcd refuses requests over 1.5 MiB unless told otherwise: the value is put through the gateway
etcd_start_cluster 1 --max-request-bytes=33554432 || exit 1
mkdir -p "$T/etc" && echo "m0000000000000000000000000000001" >"$T/etc/machine-id"
L="flatctl --root $T lock --endpoints $ETCD_ENDPOINTS"
K=coreos.com/updateengine/rebootlock/semaphore

test_expect 'a 10^6-holder value is stored in etcd' '
	python3 -c "
import base64, json, sys
v = json.dumps({\"semaphore\": 1 - 10**6, \"max\": 1,
                \"holders\": [\"holder%06d\" % i for i in range(10**6)]}, separators=(\",\", \":\"))
sys.stdout.write(json.dumps({\"key\": base64.b64encode(b\"$K\").decode(),
                             \"value\": base64.b64encode(v.encode()).decode()}))
sys.stderr.write(str(len(v)))
" >"$T/put.json" 2>"$T/size" &&
	test "$(cat "$T/size")" -gt 14000000 &&
	curl -sf --data-binary @"$T/put.json" "${ETCD_ENDPOINTS%%,*}/v3/kv/put" >/dev/null &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" get "$K" -w json >"$T/before.json" &&
	test "$(jq -r ".kvs[0].value | @base64d | length" "$T/before.json")" = "$(cat "$T/size")"
'
# elapsed time of a command in ms into $T/ms
timed() {
	local t0 t1 &&
	t0=$(date +%s%N) && { "$@"; rc=$?; } && t1=$(date +%s%N) &&
	echo $(( (t1 - t0) / 1000000 )) >"$T/ms" &&
	return "$rc"
}
for verb in status "lock" "unlock" "set-max 3"; do
	test_expect "$verb: exit 1 at once, the key and the limit named, value kept" '
		test_exit 1 timed $L --timeout 30s $verb 2>"$T/err" &&
		echo "$verb: $(cat "$T/ms") ms" >>"$T/times" &&
		test "$(cat "$T/ms")" -lt 5000 &&
		test_grep "semaphore in etcd key $K is too large: .*answer over the 4 MiB limit" "$T/err" &&
		test_grep "the value was left unchanged" "$T/err" &&
		! grep -q "cannot reach etcd" "$T/err" &&
		etcdctl --endpoints "$ETCD_ENDPOINTS" get "$K" -w json >"$T/after.json" &&
		test "$(jq -c ".kvs[0] | [.mod_revision, .version]" "$T/after.json")" = \
			"$(jq -c ".kvs[0] | [.mod_revision, .version]" "$T/before.json")"
	'
done
test_expect 'the locksmithctl link exits 1 too' '
	ln -s "$FLATCTL" "$T/locksmithctl" &&
	test_exit 1 "$T/locksmithctl" -endpoint "$ETCD_ENDPOINTS" -root "$T" lock 2>"$T/err" &&
	test_grep "too large" "$T/err" &&
	cat "$T/times" >&2
'
test_done
