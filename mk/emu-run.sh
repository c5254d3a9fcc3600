#!/bin/sh
# mk/emu-run.sh - run a cross-built TAP test program under the emulator (make check-arm64,
# docs/build.md 10.1). A test the gaps file lists for this program ("NAME | DESCRIPTION |
# REASON") becomes a TAP TODO with the reason: named, never skipped.
# Usage: mk/emu-run.sh EMULATOR GAPS_FILE PROGRAM [ARGS...]
set -u
emu=$1 gaps=$2 prog=$3
shift 3
name=${prog##*/}
if ! grep -q "^$name | " "$gaps" 2>/dev/null; then
	exec "$emu" "$prog" "$@"
fi
# the program's TAP, with listed failures marked; the exit status stays the program's unless
# every failure was listed
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$emu" "$prog" "$@" >"$out"
st=$?
case $emu in *valgrind*) under=valgrind ;; *) under=emulation ;; esac
awk -F ' [|] ' -v n="$name" -v st="$st" -v under="$under" '
	FILENAME != "-" && !/^#/ && $1 == n { reason[$2] = $3; next }
	FILENAME == "-" {
		if (match($0, /^not ok [0-9]+ - /)) {
			d = substr($0, RLENGTH + 1)
			if (d in reason) { print $0 " # TODO under " under ": " reason[d]; next }
			bad = 1
		}
		print
	}
	END { exit (st != 0 && bad) ? 1 : 0 }' "$gaps" - <"$out"
