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
# the program's TAP, with listed failures marked. A failing exit status is forgiven only when
# listed failures explain it: not with an unlisted failure, not without any failure (a crash
# after the last test), and never for valgrind's own error status, 99 (mk/valgrind-run.sh).
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
			if (d in reason) { print $0 " # TODO under " under ": " reason[d]; todo = 1; next }
			bad = 1
		}
		print
	}
	END {
		if (st == 0)
			exit 0
		if (under == "valgrind" && st == 99) {
			print "# valgrind found memory errors or a definite leak (exit 99)"
			exit 1
		}
		exit (bad || !todo) ? 1 : 0
	}' "$gaps" - <"$out"
