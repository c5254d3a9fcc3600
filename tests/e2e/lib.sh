# tests/e2e/lib.sh - shared helpers for end-to-end tests (git t/ style, TAP output).
# Source it first: it makes a temp dir $T, removes it (and detaches loop devices, unmounts,
# kills recorded PIDs) on exit, whatever happens.
set -u
: "${FLATCTL:?FLATCTL must point at the binary under test}"
FLATCTL_SRC=${FLATCTL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
SHARED=${SHARED:-$FLATCTL_SRC/../shared}
MKDISK=${MKDISK:-$SHARED/tools/mkdisk}
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

# flatctl: run the binary under test (under valgrind when FLATCTL_VALGRIND=1).
flatctl() {
	if [ "${FLATCTL_VALGRIND:-0}" = 1 ]; then
		valgrind -q --error-exitcode=1 --leak-check=full "$FLATCTL" "$@"
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
test_todo() {
	test_count=$((test_count + 1))
	(set -e; eval "$4") >"$T/.out" 2>&1 # not inside `if`: see test_expect
	if [ $? = 0 ]; then
		echo "ok $test_count - $1 # TODO $3"
	else
		echo "not ok $test_count - $1 # TODO $2"
		sed 's/^/# /' "$T/.out"
	fi
}

# test_expect 'description' 'shell code': runs the code in a subshell; ok when it exits 0.
test_expect() {
	if _emu_gap "$1"; then
		test_todo "$1" "under emulation: $_emu_reason" \
			"under emulation ($_emu_reason), but passed: remove it from emu-gaps" "$2"
		return 0
	fi
	test_count=$((test_count + 1))
	# Not inside `if`: there bash ignores `set -e` in the subshell and only the last command
	# of the test would count.
	(set -e; eval "$2") >"$T/.out" 2>&1
	_rc=$?
	if [ "$_rc" = 0 ]; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		# diagnostics on stderr as well, so that prove shows them without -v
		sed 's/^/# /' "$T/.out" | tee /dev/stderr
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
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}
