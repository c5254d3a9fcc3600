#!/bin/bash
# t0811-deadlines: a peer that accepts TCP and never answers cannot stretch a deadline
# (docs/security.md §3, issue 14 D3): lock --timeout and --wait, provision --fetch-timeout end on time,
# every request's limit cut to the time left. The bound checked is generous (deadline + 1 s) so
# a loaded machine cannot make it flaky; the elapsed times are printed as TAP comments.
. "$(dirname "$0")/lib.sh"

python3 "$FLATCTL_SRC/tests/servers/sink.py" "$T/port" &
cleanup_pid $!
test_wait_for 60 'test -s "$T/port"' || exit 1
SINK=http://127.0.0.1:$(cat "$T/port")
mkdir -p "$T/etc" && echo "m0000000000000000000000000000001" >"$T/etc/machine-id"

# elapsed DEADLINE_MS NAME CMD...: runs CMD (its exit code kept in $T/rc), notes the time it
# took in $T/times, and fails when it took DEADLINE_MS + 1000 ms or more, or less than the deadline
elapsed() {
	local max=$1 name=$2 t0 t1 ms && shift 2 &&
	t0=$(date +%s%N) &&
	{ "$@"; echo $? >"$T/rc"; } &&
	t1=$(date +%s%N) &&
	ms=$(( (t1 - t0) / 1000000 )) &&
	echo "$name: $ms ms (deadline $max ms)" >>"$T/times" &&
	test "$ms" -ge "$max" && test "$ms" -lt $((max + 1000))
}

test_expect 'lock --timeout 3s status: exit 75 after 3 s, not the 5 s request timeout' '
	elapsed 3000 "lock status" flatctl --root "$T" lock --endpoints "$SINK" --timeout 3s status 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75 &&
	test_grep "cannot reach etcd: $SINK: timed out after [0-9.]*s$" "$T/err"
'
test_expect 'lock --timeout 1s lock and unlock, two silent endpoints: 1 s in all' '
	elapsed 1000 "lock lock" flatctl --root "$T" lock --endpoints "$SINK,$SINK/" --timeout 1s lock 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75 &&
	elapsed 1000 "lock unlock" flatctl --root "$T" lock --endpoints "$SINK" --timeout 1s unlock 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75
'
test_expect 'lock --timeout 1s set-max with a 10 s request timeout' '
	elapsed 1000 "lock set-max" flatctl --root "$T" lock --endpoints "$SINK" --request-timeout 10s --timeout 1s set-max 2 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75
'
test_expect 'lock --wait=2s on a full semaphore (file backend) gives up after 2 s' '
	flatctl --root "$T" lock --backend file lock holder &&
	elapsed 2000 "lock --wait" flatctl --root "$T" lock --backend file --wait=2s lock waiter 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75 &&
	test_grep "gave up waiting" "$T/err"
'
test_expect 'provision --fetch-timeout 2: the whole fetch, retries included, ends after 2 s' '
	mkdir -p "$T/root" &&
	elapsed 2000 "provision fetch" flatctl --root "$T/root" provision --config "$SINK/c.ign" --fetch-timeout 2 --dry-run 2>"$T/err" &&
	test "$(cat "$T/rc")" = 75 &&
	test_grep "fetching $SINK/c.ign: cannot reach server" "$T/err"
'
# the measured figures, as TAP comments
sed "s/^/# /" "$T/times" 2>/dev/null
test_done
