#!/bin/bash
# t0208-provision-crash: a run killed at any point of its commit is rolled back by the next run
# (docs/provision.md §7, docs/provision-apply.md): the rich run of t0207 crashes before each of
# its steps, after the last one, and after the journal says done (FLATCTL_TEST_CRASH_AFTER);
# a run stopped mid-commit is killed with SIGKILL for real. The next run must leave the root
# exactly as before (or, once the journal said done, exactly as a good run), then provision it.
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision-rich.sh"

rich_setup
# recovery alone: a run that only fetches rolls back whatever an interrupted one left
recover() { prov "$1" --stage fetch --force --config "$T/c.ign"; }

test_expect 'a crash at every point, then the next run: rolled back, then provisioned' '
	k=0 && bad="" &&
	while [ "$k" -le $((N + 1)) ]; do
		rm -rf "$T/w" && cp -a "$T/start" "$T/w" &&
		{ FLATCTL_TEST_CRASH_AFTER=$k prov "$T/w" --config "$T/c.ign" 2>/dev/null; rc=$?; } &&
		{ [ "$rc" = 99 ] || bad="$bad $k(rc=$rc)"; } &&
		{ ls -a "$T/w" | grep -q "^.flatctl-stage" || bad="$bad $k(nojournal)"; } &&
		{ recover "$T/w" 2>"$T/rec.$k" || bad="$bad $k(recover)"; } &&
		{ grep -q "rolled back an interrupted run" "$T/rec.$k" || bad="$bad $k(msg)"; } &&
		if [ "$k" -le "$N" ]; then
			{ same "$T/w" start >"$T/diff.$k" || bad="$bad $k(tree)"; }
		else
			{ python3 "$TREEDUMP" "$T/w" --exclude .ignition-result.json >"$T/w.tree" &&
			  test_cmp "$T/good.tree" "$T/w.tree" >"$T/diff.$k" || bad="$bad $k(done-tree)"; }
		fi &&
		{ ! ls -a "$T/w" | grep -q "^.flatctl-stage" || bad="$bad $k(left)"; } &&
		k=$((k + 1))
	done &&
	echo "crashed at $((N + 2)) points, bad:$bad" && test -z "$bad"
'
test_expect 'after a rolled-back crash the same command provisions the root as a good run does' '
	rm -rf "$T/w" && cp -a "$T/start" "$T/w" &&
	test_exit 99 env FLATCTL_TEST_CRASH_AFTER=$((N / 2)) "$FLATCTL" --root "$T/w" provision --config "$T/c.ign" 2>/dev/null &&
	prov "$T/w" --config "$T/c.ign" 2>"$T/err" && test_grep "rolled back an interrupted run" "$T/err" &&
	python3 "$TREEDUMP" "$T/w" --exclude .ignition-result.json >"$T/w.tree" && test_cmp "$T/good.tree" "$T/w.tree"
'
test_expect 'kill -9 of a run stopped in the middle of its commit' '
	rm -rf "$T/w" && cp -a "$T/start" "$T/w" &&
	{ FLATCTL_TEST_STOP_AFTER=$((N / 3)) "$FLATCTL" --root "$T/w" provision --config "$T/c.ign" 2>/dev/null & pid=$!; } &&
	for _ in $(seq 1 600); do
		[ "$(ps -o stat= -p "$pid" | cut -c1)" = T ] && break
		sleep 0.05 || return 1
	done &&
	test "$(ps -o stat= -p "$pid" | cut -c1)" = T &&
	kill -9 "$pid" && { wait "$pid"; test $? = 137; } &&
	! same "$T/w" start >/dev/null &&
	recover "$T/w" 2>"$T/err" && same "$T/w" start &&
	prov "$T/w" --config "$T/c.ign" 2>"$T/err" &&
	python3 "$TREEDUMP" "$T/w" --exclude .ignition-result.json >"$T/w.tree" && test_cmp "$T/good.tree" "$T/w.tree"
'
test_expect 'a dry run over an interrupted run changes nothing and says so' '
	rm -rf "$T/w" && cp -a "$T/start" "$T/w" &&
	test_exit 99 env FLATCTL_TEST_CRASH_AFTER=3 "$FLATCTL" --root "$T/w" provision --config "$T/c.ign" 2>/dev/null &&
	snap "$T/w" crashed &&
	{ prov "$T/w" --config "$T/c.ign" --dry-run >/dev/null 2>"$T/err" || true; } &&
	test_grep "the next run rolls it back" "$T/err" && same "$T/w" crashed
'
test_done
