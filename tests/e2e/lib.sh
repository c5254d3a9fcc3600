# tests/e2e/lib.sh - shared helpers for end-to-end tests (git t/ style, TAP output).
# Source it first: it makes a temp dir $T, removes it (and detaches loop devices, unmounts,
# kills recorded PIDs) on exit, whatever happens.
set -u
: "${FLATCTL:?FLATCTL must point at the binary under test}"
FLATCTL_SRC=${FLATCTL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MKDISK=${MKDISK:-$FLATCTL_SRC/tools/mkdisk}
T=$(mktemp -d "${TMPDIR:-/tmp}/flatctl-e2e.XXXXXX")
test_count=0
test_failed=0
_cleanup_pids=
_cleanup_loops=
_cleanup_mounts=

_test_cleanup() {
	for m in $_cleanup_mounts; do umount -l "$m" 2>/dev/null; done
	for l in $_cleanup_loops; do losetup -d "$l" 2>/dev/null; done
	# Tests that attach inside a test_expect subshell cannot record the device here; anything
	# still mounted under $T or backed by a file under $T is ours, so let go of it too.
	findmnt -rn -o TARGET 2>/dev/null | grep -F "$T/" | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	losetup -n -l -O NAME,BACK-FILE 2>/dev/null |
		while read -r l f; do case "$f" in "$T"/*) losetup -d "$l" 2>/dev/null;; esac; done
	for p in $_cleanup_pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap _test_cleanup EXIT
trap 'exit 130' INT TERM

# Remember a PID, loop device or mount point to clean up at exit.
cleanup_pid() { _cleanup_pids="$_cleanup_pids $1"; }
cleanup_loop() { _cleanup_loops="$_cleanup_loops $1"; }
cleanup_mount() { _cleanup_mounts="$1 $_cleanup_mounts"; }

# valgrind as `make valgrind` runs it (mk/valgrind-run.sh): a memory error or a definite leak is
# exit status 99
_VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite)

# under_valgrind PROGRAM ARGS...: PROGRAM under valgrind. valgrind's own messages go to a log,
# not into the stderr the tests read (valgrind 3.19 warns there about every syscall it does not
# know, openat2 and fsopen among them); a memory error or a definite leak is exit status 99,
# which no check accepts, and its report is copied to stderr.
under_valgrind() {
	_vg_log=$(mktemp "$T/.valgrind.XXXXXX") || return 1
	"${_VG[@]}" --log-file="$_vg_log" "$@"
	_vg_rc=$?
	[ "$_vg_rc" != 99 ] || grep -v "^--[0-9]*-- " "$_vg_log" >&2
	rm -f "$_vg_log"
	return "$_vg_rc"
}

# valgrind_bg: for a flatctl started in the background (a daemon, a server), sets the array VG_BG
# to what to put before it: with FLATCTL_VALGRIND=1 the valgrind command (so that $! is valgrind
# itself, which a signal reaches), else nothing. valgrind's report goes to a log of its own,
# $T/.valgrind-bg.*, which test_done reads: a memory error or a definite leak there fails the
# script.
valgrind_bg() {
	VG_BG=()
	[ "${FLATCTL_VALGRIND:-0}" = 1 ] || return 0
	_vg_log=$(mktemp "$T/.valgrind-bg.XXXXXX") || return 1
	# shellcheck disable=SC2034 # used by lib-bus.sh and lib-update.sh
	VG_BG=("${_VG[@]}" --log-file="$_vg_log")
}

# flatctl: run the binary under test (under valgrind when FLATCTL_VALGRIND=1).
flatctl() {
	if [ "${FLATCTL_VALGRIND:-0}" = 1 ]; then
		under_valgrind "$FLATCTL" "$@"
	else
		"$FLATCTL" "$@"
	fi
}

# Under `make check-arm64` (FLATCTL_EMU: flatctl runs under qemu-user), a check listed in
# tests/e2e/emu-gaps ("SCRIPT | DESCRIPTION | REASON", DESCRIPTION * for the whole script) runs as
# a TAP TODO with its reason: named, not skipped (docs/build.md 10.1).
_emu_gap() {
	[ -n "${FLATCTL_EMU:-}" ] || return 1
	_emu_reason=$(awk -F ' [|] ' -v s="${0##*/}" -v d="$1" \
		'!/^#/ && $1 == s && ($2 == d || $2 == "*") { print $3; exit }' \
		"$FLATCTL_SRC/tests/e2e/emu-gaps" 2>/dev/null)
	[ -n "$_emu_reason" ]
}

# test_todo 'description' 'todo text' 'passed text' 'shell code': an expected failure, reported
# as a TAP TODO (never fatal); the passed text says which list to take it off.
# A body whose && chain is broken is a real failure here too, not a TODO.
test_todo() {
	test_count=$((test_count + 1))
	if ! test_chainlint "$4" >"$T/.out" 2>&1; then
		_test_not_ok "$1"
		return
	fi
	_test_run "$4" >"$T/.out" 2>&1 # not inside `if`: see _test_run
	if [ $? = 0 ]; then
		echo "ok $test_count - $1 # TODO $3"
	else
		echo "not ok $test_count - $1 # TODO $2"
		sed 's/^/# /' "$T/.out"
	fi
}

# test_expect 'description' 'shell code': runs the code in a subshell; ok when it exits 0.
# The code must be one unbroken && chain (docs/testing.md): a body that the chain lint refuses
# is not run and fails.
test_expect() {
	if _emu_gap "$1"; then
		test_todo "$1" "under emulation: $_emu_reason" \
			"under emulation ($_emu_reason), but passed: remove it from emu-gaps" "$2"
		return 0
	fi
	test_count=$((test_count + 1))
	if ! test_chainlint "$2" >"$T/.out" 2>&1; then
		_test_not_ok "$1"
		return
	fi
	_test_run "$2" >"$T/.out" 2>&1
	_rc=$?
	if [ "$_rc" = 0 ]; then
		echo "ok $test_count - $1"
	else
		_test_not_ok "$1"
	fi
}

_test_not_ok() {
	test_failed=$((test_failed + 1))
	echo "not ok $test_count - $1"
	# diagnostics on stderr as well, so that prove shows them without -v
	sed 's/^/# /' "$T/.out" | tee /dev/stderr
}

# _test_run BODY: the body in a subshell, in a function (so that `return 1` works in it).
# Not inside `if`: there bash ignores `set -e` in the subshell. set -e is only a second line of
# defence: in a && chain bash ignores it, which is why the chain lint exists.
_test_eval() { eval "$1"; }
_test_run() { (set -e; _test_eval "$1"); }

# test_chainlint BODY: refuse a body whose && chain is broken, naming the line. Two checks, as
# git's t/test-lib.sh does: tests/e2e/chainlint.pl parses the body (nothing runs), then the body
# runs as `(exit 117) && BODY`, which runs nothing of an intact chain and must give 117.
# (TEST_CHAINLINT_PL replaces the first check, for t0000's test of the second one.)
_test_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
test_chainlint() {
	local i=0 file line out rc k msg text d at
	# where the test_expect call is: the first caller outside the harness. bash gives the line
	# where the call's first argument (the title) ends, normally the line the body starts on.
	while [ "$i" -lt $((${#FUNCNAME[@]} - 1)) ]; do
		case ${FUNCNAME[$i]} in
		test_chainlint | test_expect | test_expect_gap | test_todo) i=$((i + 1)) ;;
		*) break ;;
		esac
	done
	file=${BASH_SOURCE[$i]} line=${BASH_LINENO[$((i - 1))]}
	out=$(printf '%s\n' "$1" | perl "${TEST_CHAINLINT_PL:-$_test_lib_dir/chainlint.pl}" -)
	rc=$?
	if [ "$rc" != 0 ]; then
		while IFS=$'\t' read -r k msg; do
			[ -n "$k" ] || continue
			# body line k, found in the script (the body may start a line or two later)
			text=$(printf '%s\n' "$1" | sed -n "${k}{s/^[[:space:]]*//;p}")
			at="near line $line"
			for d in 0 1 2; do
				if sed -n "$((line + d + k - 1))p" "$file" 2>/dev/null | grep -qF -e "$text"; then
					at="line $((line + d + k - 1))"
					break
				fi
			done
			echo "${file##*/} $at (body line $k): $msg"
		done <<<"$out"
		[ -n "$out" ] || echo "${file##*/} near line $line: chain lint failed (exit $rc)"
		return 1
	fi
	(_test_eval "(exit 117) && $1
") </dev/null >/dev/null 2>&1
	rc=$?
	if [ "$rc" != 117 ]; then
		echo "${file##*/} near line $line: broken && chain or run-away here-document:" \
			"(exit 117) && BODY gave $rc, not 117"
		return 1
	fi
}

# test_exit CODE cmd...: run cmd, succeed when its exit status is CODE.
test_exit() {
	want=$1; shift
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "expected exit $want, got $got: $*" >&2
		return 1
	fi
}

# test_wait_for SECONDS 'condition': wait until the condition (shell code) holds, checking every
# 50 ms; after SECONDS it fails naming the condition. Wait for an observable state this way,
# never with a fixed sleep, and give a deadline that a loaded machine keeps easily.
test_wait_for() {
	local deadline=$((SECONDS + $1))
	until eval "$2"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "test_wait_for: still not true after $1 s: $2" >&2
			return 1
		fi
		sleep 0.05
	done
}

# test_cmp expected actual
test_cmp() { diff -u "$1" "$2"; }

# test_grep PATTERN FILE
test_grep() {
	if ! grep -q -e "$1" "$2"; then
		echo "pattern '$1' not found in $2:" >&2
		cat "$2" >&2
		return 1
	fi
}

# skip_all REASON: only for a tool that make deps cannot install (never for product features).
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

test_done() {
	# what valgrind found in the background flatctl runs (valgrind_bg): its error lines are
	# "==PID== ..."; its notes ("--PID-- ...", unknown syscalls) are not errors
	if ls "$T"/.valgrind-bg.* >/dev/null 2>&1; then
		test_count=$((test_count + 1))
		if grep -h "^==[0-9]*== " "$T"/.valgrind-bg.* >"$T/.out"; then
			_test_not_ok "no memory error or leak in a background flatctl under valgrind"
		else
			echo "ok $test_count - no memory error or leak in a background flatctl under valgrind"
		fi
	fi
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}
