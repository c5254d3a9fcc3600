#!/bin/bash
# t0401-lock-file: the file backend (docs/reboot-lock.md 5, 6.1, 9): semantics, exit codes,
# corruption left untouched, groups, waiting, and the admission invariant under contention.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/etc"
echo "4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1" >"$T/etc/machine-id"
L="flatctl --root $T lock"
SEM="$T/var/lib/flatctl/rebootlock/semaphore"
# strace records every value the contenders read and write (the file backend keeps no history)
command -v strace >/dev/null || { echo "Bail out! strace not installed: run make deps"; exit 1; }

# traced PREFIX LOCK-ARGS...: flatctl lock under strace, its reads and writes in PREFIX.trace
# (LeakSanitizer cannot run under ptrace: an ASan build checks leaks in the other tests)
traced() {
	local out=$1 &&
	shift &&
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=read,pread64,write,pwrite64 -s 65536 -o "$out.trace" \
		"$FLATCTL" --root "$T" lock "$@"
}
# sem_history TRACE...: every semaphore value read (R) or written (W) in the traces, as
# "R|W COUNT HOLDER,...": the complete history of the file backend as its users saw it
sem_history() {
	python3 - "$@" <<-'PY'
	import json, re, sys
	call = re.compile(r'^\d+ +(p?(?:read|write)(?:64)?)\(\d+, "(.*)", \d+(?:, \d+)?\) += \d+$')
	for path in sys.argv[1:]:
	    for line in open(path):
	        m = call.match(line.rstrip("\n"))
	        if not m or not m.group(2).startswith('{\\"semaphore\\"'):
	            continue
	        holders = json.loads(m.group(2).encode().decode("unicode_escape"))["holders"]
	        print("W" if "write" in m.group(1) else "R", len(holders), ",".join(holders))
	PY
}

test_expect 'status of a missing semaphore is the default and writes nothing' '
	$L status >"$T/out" &&
	printf "Available: 1\nMax: 1\n" >"$T/exp" && test_cmp "$T/exp" "$T/out" &&
	test ! -e "$SEM"
'
test_expect 'lock takes the machine id; stored value is locksmith JSON' '
	$L lock >"$T/out" && test ! -s "$T/out" &&
	printf "%s" "{\"semaphore\":0,\"max\":1,\"holders\":[\"4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1\"]}" >"$T/exp" &&
	test_cmp "$T/exp" "$SEM"
'
test_expect 'lock again by the same id: exit 0, already held' '
	$L lock 2>"$T/err" && test_grep "already held" "$T/err"
'
test_expect 'a second id finds it full: exit 75 naming the file' '
	test_exit 75 $L lock other 2>"$T/err" &&
	test_grep "lock other: semaphore /var/lib/flatctl/rebootlock/semaphore is full (1 of 1 held)" "$T/err"
'
test_expect 'status lists the holder' '
	$L status >"$T/out" &&
	printf "Available: 0\nMax: 1\n\nMACHINE ID\n4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1\n" >"$T/exp" &&
	test_cmp "$T/exp" "$T/out"
'
test_expect 'set-max prints Old-Max and Max; holders sorted' '
	$L set-max 3 >"$T/out" && printf "Old-Max: 1\nMax: 3\n" >"$T/exp" && test_cmp "$T/exp" "$T/out" &&
	$L lock zz && $L lock aa &&
	test "$(jq -c .holders "$SEM")" = "[\"4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1\",\"aa\",\"zz\"]" &&
	test "$(jq .semaphore "$SEM")" = 0
'
test_expect 'set-max below the holders: allowed, warns, nobody new gets it' '
	$L set-max 1 >"$T/out" 2>"$T/err" &&
	test_grep "3 machines hold the lock, more than the new max 1; nobody new gets it until 3 have released" "$T/err" &&
	test "$(jq .semaphore "$SEM")" = -2 &&
	test_exit 75 $L lock newcomer 2>/dev/null &&
	$L unlock zz && $L unlock aa && test_exit 75 $L lock newcomer 2>/dev/null &&
	$L unlock && $L lock newcomer && $L unlock newcomer
'
test_expect 'unlock by a non-holder: exit 3 naming the id and holders' '
	$L lock && test_exit 3 $L unlock nobody 2>"$T/err" &&
	test_grep "unlock nobody: not a holder" "$T/err" && test_grep "4b1d0c63f4d54e7d9cb0b3c7e0d3a9e1" "$T/err"
'
test_expect 'json status has the spec fields' '
	flatctl --root "$T" --json lock status >"$T/j" &&
	test "$(jq -r ".backend, .path, .max, .available, (.holders|length)" "$T/j" | tr "\n" " ")" = \
		"file /var/lib/flatctl/rebootlock/semaphore 1 0 1 "
'
test_expect 'bad id, bad group, bad number and bad duration are usage errors (2)' '
	test_exit 2 $L lock "has space" 2>/dev/null &&
	test_exit 2 $L lock "" 2>/dev/null &&
	test_exit 2 $L --group "$(printf "\377")" status 2>/dev/null &&
	test_exit 2 $L set-max -1 2>/dev/null &&
	test_exit 2 $L set-max 1000001 2>/dev/null &&
	test_exit 2 $L --timeout 5x status 2>/dev/null &&
	test_exit 2 $L frobnicate 2>/dev/null &&
	test_exit 2 $L --etcd-certfile /dev/null status 2>/dev/null
'
test_expect 'missing machine-id: exit 1 naming the file' '
	mkdir -p "$T/r2" && test_exit 1 flatctl --root "$T/r2" lock lock 2>"$T/err" &&
	test_grep "/etc/machine-id" "$T/err"
'
test_expect 'corrupt value: every command exits 1 and the file stays byte-identical' '
	cp "$SEM" "$T/good" &&
	printf "{\"semaphore\":1,\"max\":2,\"holders\":[\"a\",\"a\"]}" >"$SEM" && cp "$SEM" "$T/bad" &&
	test_exit 1 $L status 2>"$T/err" && test_grep "listed twice" "$T/err" &&
	test_exit 1 $L lock 2>/dev/null && test_exit 1 $L unlock a 2>/dev/null &&
	test_exit 1 $L set-max 4 2>/dev/null && cmp "$T/bad" "$SEM" &&
	printf "{\"semaphore\":1,\"max\":2,\"holders\":[" >"$SEM" && cp "$SEM" "$T/bad" &&
	test_exit 1 $L lock 2>"$T/err" &&
	test_grep "invalid semaphore JSON in file /var/lib/flatctl/rebootlock/semaphore: .* at line 1, column" "$T/err" &&
	test_grep "left unchanged" "$T/err" && cmp "$T/bad" "$SEM"
'
test_expect 'set-max --reset overwrites a corrupt value and shows the old one' '
	$L set-max 2 --reset >"$T/out" 2>"$T/err" && test_grep "holders\":\[" "$T/err" &&
	test "$(cat "$SEM")" = "{\"semaphore\":2,\"max\":2,\"holders\":[]}"
'
test_expect 'untidy but valid values are normalised on the next write, extras kept' '
	printf "{\"semaphore\":7,\"max\":3,\"holders\":[\"c\",\"a\"],\"note\":\"x\"}" >"$SEM" &&
	$L status >/dev/null 2>"$T/err" && test_grep "differs from max - holders" "$T/err" &&
	$L lock b && test "$(cat "$SEM")" = "{\"semaphore\":0,\"max\":3,\"holders\":[\"a\",\"b\",\"c\"],\"note\":\"x\"}" &&
	printf "{\"semaphore\":1,\"max\":1,\"holders\":null}" >"$SEM" && $L lock q &&
	test "$(cat "$SEM")" = "{\"semaphore\":0,\"max\":1,\"holders\":[\"q\"]}"
'
test_expect 'groups live under groups/ESC(G)' '
	$L --group "lb pool/1" lock &&
	test -f "$T/var/lib/flatctl/rebootlock/groups/lb+pool%2F1/semaphore" &&
	$L --group "lb pool/1" unlock
'
test_expect 'lock --wait waits while the semaphore is full and gets it once the holder releases' '
	$L set-max 1 >/dev/null && $L unlock q &&
	$L lock holder &&
	{ traced "$T/waiter" lock --wait=300s waiter 2>"$T/err" & } && wpid=$! &&
	test_wait_for 300 "grep -q holder \"\$T/waiter.trace\" 2>/dev/null" &&
	kill -0 "$wpid" && ! $L status | grep -q "^waiter$" &&
	$L unlock holder && wait "$wpid" &&
	$L status | grep -q "^waiter$" && $L unlock waiter &&
	sem_history "$T/waiter.trace" >"$T/hist" &&
	grep -q "^R 1 holder$" "$T/hist" && test "$(grep "^W" "$T/hist")" = "W 1 waiter"
'
test_expect 'lock --wait=DUR gives up with 75' '
	$L lock holder && test_exit 75 $L lock --wait=300ms waiter 2>"$T/err" &&
	test_grep "gave up waiting" "$T/err" && $L unlock holder
'
test_expect '20 contenders wait on a full semaphore, max 2: no value ever stored has more than 2 holders, all get it' '
	$L set-max 2 >/dev/null && $L lock keep-1 && $L lock keep-2 &&
	for i in $(seq 1 20); do
		{ ( traced "$T/c$i" lock --wait=600s "c$i" && sleep 0.05 &&
		    traced "$T/u$i" unlock "c$i" && echo "c$i" >>"$T/done" ) & } || return 1
	done &&
	test_wait_for 300 "test \"\$(grep -l keep-2 \"\$T\"/c*.trace 2>/dev/null | wc -l)\" = 20" &&
	$L unlock keep-1 && $L unlock keep-2 &&
	test_wait_for 600 "test \"\$(sort -u \"\$T/done\" 2>/dev/null | wc -l)\" = 20" && wait &&
	sem_history "$T"/c*.trace "$T"/u*.trace >"$T/hist" &&
	test "$(grep -c "^W" "$T/hist")" = 40 &&
	test "$(grep "^W" "$T/hist" | cut -d" " -f2 | sort -n | tail -1)" -le 2 &&
	test "$(jq ".holders|length" "$SEM")" = 0
'
test_done
