#!/bin/bash
# demo/run.sh - the end-to-end demo (`make demo`): runs demo/[0-9][0-9]-*.sh in order, each in
# this shell (without errexit) with a banner, against $FLATCTL (make passes the static binary),
# in a temporary $DEMO_DIR that is removed on exit together with the loop devices, mounts and
# processes the parts registered. Builds nothing itself.
#
# Helpers for the parts:
#   demo_run CMD...        print "$ CMD" then run it (a failure ends the demo)
#   demo_note TEXT         print a line of explanation
#   demo_cleanup_pid PID   demo_cleanup_loop DEV   demo_cleanup_mount DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${FLATCTL:=$here/../build/static/flatctl}"
FLATCTL=$(realpath "$FLATCTL")
[ -x "$FLATCTL" ] || { echo "demo: $FLATCTL not built (run 'make demo')" >&2; exit 1; }
DEMO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/flatctl-demo.XXXXXX")
DEMO_SRC=$(cd "$here/.." && pwd)
MKDISK=${MKDISK:-$DEMO_SRC/tools/mkdisk}   # makes disks with $FLATCTL as cgpt
export FLATCTL DEMO_DIR DEMO_SRC MKDISK

_demo_pids=
_demo_loops=
_demo_mounts=
demo_cleanup_pid() { _demo_pids="$_demo_pids $1"; }
demo_cleanup_loop() { _demo_loops="$_demo_loops $1"; }
demo_cleanup_mount() { _demo_mounts="$1 $_demo_mounts"; }
_demo_cleanup() {
	local p l m
	for m in $_demo_mounts; do umount -l "$m" 2>/dev/null || true; done
	for l in $_demo_loops; do losetup -d "$l" 2>/dev/null || true; done
	for p in $_demo_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$DEMO_DIR"
}
trap _demo_cleanup EXIT
trap 'exit 130' INT TERM

if [ -t 1 ]; then _b=$'\e[1m' _n=$'\e[0m'; else _b='' _n=''; fi
demo_note() { printf '%s\n' "$*"; }
demo_run() {
	printf '%s$ %s%s\n' "$_b" "$*" "$_n"
	"$@"
}
flatctl() { "$FLATCTL" "$@"; }

parts=("$here"/[0-9][0-9]-*.sh)
for part in "${parts[@]}"; do
	[ -f "$part" ] || continue
	name=$(basename "$part" .sh)
	printf '\n%s==== %s ====%s\n' "$_b" "$name" "$_n"
	# Parts show failures on purpose ("exit 75 = try later"), so they run without errexit; a
	# part fails the demo through the status of its last command.
	set +e
	# shellcheck source=/dev/null
	. "$part"
	rc=$?
	set -e
	if [ "$rc" != 0 ]; then
		echo "demo: part $name failed (status $rc)" >&2
		exit "$rc"
	fi
done
printf '\n%sdemo: %d parts done%s\n' "$_b" "${#parts[@]}" "$_n"
