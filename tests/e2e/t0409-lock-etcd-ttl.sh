#!/bin/bash
# t0409-lock-etcd-ttl: optional holder expiry kept in sidecar keys next to the semaphore
# (docs/reboot-lock.md 4): leases, reaping in the same guarded txn, orphans, refusals.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"

etcd_start_cluster 1 --enable-v2=true || exit 1
mkdir -p "$T/etc" && echo me >"$T/etc/machine-id"
K=coreos.com/updateengine/rebootlock/semaphore
L="flatctl --root $T lock --endpoints $ETCD_ENDPOINTS"
keys() { etcdctl --endpoints "$ETCD_ENDPOINTS" get --keys-only --prefix coreos.com | grep . ; }
# wait (without a time assertion) until the json status lists $1 as stale
wait_stale() {
	for _ in $(seq 1 600); do
		flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status | jq -e ".stale | index(\"$1\")" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# renewed.sh, the pre hook below: returns once the lease of our TTL marker was renewed twice (the
# time it has left went up), which proves the manager renews while the hook runs; no fixed sleep,
# and the 30 s TTL leaves a loaded machine ample time for each renewal (every TTL/3).
cat >"$T/renewed.sh" <<'EOS'
end=$(($(date +%s) + 600)) prev= n=0
while [ "$n" -lt 2 ]; do
	[ "$(date +%s)" -lt "$end" ] || { echo "renewed.sh: $n renewals in 600 s" >&2; exit 1; }
	lease=$(etcdctl --endpoints "$ETCD_ENDPOINTS" get --print-value-only "$K/ttl/me" | jq -r .lease) &&
	left=$(etcdctl --endpoints "$ETCD_ENDPOINTS" lease timetolive "$(printf %x "$lease")" -w json | jq .ttl) ||
		exit 1
	[ "$left" -gt 0 ] || { echo "renewed.sh: the lease expired after $n renewals" >&2; exit 1; }
	if [ -n "$prev" ] && [ "$left" -gt "$prev" ]; then n=$((n + 1)); fi
	prev=$left
	sleep 0.2
done
echo "$n" >"$T/renewals"
EOS

test_expect 'lock --ttl writes the semaphore unchanged in form plus ttl and alive sidecars' '
	$L set-max 2 >/dev/null && $L lock keeper && $L lock --ttl 2s short &&
	test "$(etcd_get_raw $K)" = "{\"semaphore\":0,\"max\":2,\"holders\":[\"keeper\",\"short\"]}" &&
	keys >"$T/k" && test_grep "^$K/ttl/short$" "$T/k" && test_grep "^$K/alive/short$" "$T/k" &&
	etcd_get_raw $K/ttl/short | jq -e ".id == \"short\" and .ttl == 2 and (.lease|length) > 0" >/dev/null
'
test_expect 'status --json shows the ttl' '
	flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status >"$T/j" &&
	jq -e ".ttl.short.ttl == 2 and (.ttl|has(\"keeper\")|not)" "$T/j" >/dev/null
'
test_expect 'after expiry status marks it stale but never writes' '
	wait_stale short &&
	test "$(etcd_get_raw $K)" = "{\"semaphore\":0,\"max\":2,\"holders\":[\"keeper\",\"short\"]}"
'
test_expect 'the next lock reaps the stale holder and takes the freed slot in one write' '
	$L lock other 2>"$T/err" && test_grep "reaped stale holder short (ttl 2 s expired)" "$T/err" &&
	test "$(etcd_get_raw $K)" = "{\"semaphore\":0,\"max\":2,\"holders\":[\"keeper\",\"other\"]}" &&
	! keys | grep -q "/short$"
'
test_expect 'holders without a marker are never reaped, a live one is not stale' '
	$L unlock other && $L lock --ttl 1h longer &&
	$L status | grep -q "^keeper$" && $L status | grep -q "^longer$" &&
	flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status >"$T/j" &&
	jq -e ".ttl.longer.ttl == 3600 and (.stale|length) == 0" "$T/j" >/dev/null
'
test_expect 'unlock of a ttl holder deletes both sidecars' '
	$L unlock longer && ! keys | grep -q "longer"
'
test_expect 'orphan markers (holder gone, e.g. unlocked by real locksmith) go with the next write' '
	$L lock --ttl 1h orphan &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" put $K "{\"semaphore\":1,\"max\":2,\"holders\":[\"keeper\"]}" >/dev/null &&
	keys | grep -q "ttl/orphan" && $L lock x && ! keys | grep -q orphan && $L unlock x
'
test_expect 'REBOOT_LOCK_TTL gives lock a ttl' '
	REBOOT_LOCK_TTL=1h $L lock envttl && keys | grep -q "ttl/envttl" && $L unlock envttl
'
test_expect 'reboot manager with REBOOT_LOCK_TTL renews the lease while its pre hook runs' '
	mkdir -p "$T/var/lib/flatctl/update" &&
	echo "{\"status\":\"UPDATE_STATUS_UPDATED_NEED_REBOOT\"}" >"$T/var/lib/flatctl/update/state.json" &&
	REBOOT_STRATEGY=etcd-lock LOCKSMITHD_ENDPOINT="$ETCD_ENDPOINTS" REBOOT_LOCK_TTL=30s \
		REBOOT_PRE_HOOK="sh $T/renewed.sh" ETCD_ENDPOINTS="$ETCD_ENDPOINTS" K=$K T=$T \
		flatctl --root "$T" reboot-manager --once --dry-run &&
	test "$(cat "$T/renewals")" = 2 &&
	flatctl --root "$T" --json lock --endpoints "$ETCD_ENDPOINTS" status >"$T/j" &&
	jq -e "(.holders | index(\"me\")) != null and (.stale | length) == 0 and .ttl.me.ttl == 30" "$T/j" >/dev/null &&
	echo "{\"status\":\"UPDATE_STATUS_IDLE\"}" >"$T/var/lib/flatctl/update/state.json" &&
	REBOOT_STRATEGY=etcd-lock LOCKSMITHD_ENDPOINT="$ETCD_ENDPOINTS" test_exit 3 flatctl --root "$T" reboot-manager --once --dry-run &&
	! keys | grep -q "/me$"
'
test_expect '--ttl with v2, with the file backend, or on other commands: exit 2' '
	test_exit 2 $L --etcd-api v2 lock --ttl 1h a 2>/dev/null &&
	test_exit 2 flatctl --root "$T" lock --backend file lock --ttl 1h 2>/dev/null &&
	test_exit 2 $L unlock --ttl 1h keeper 2>/dev/null &&
	test_exit 2 $L lock --ttl soon a 2>/dev/null
'
test_done
