#!/bin/bash
# t0013-valgrind-harness: `make valgrind` can fail (docs/testing.md §7). Small C programs with a
# definite leak, a jump on an uninitialised value, or a clean run go through the two wrappers
# it uses: under_valgrind of tests/e2e/lib.sh (every flatctl call of the e2e suite) and
# mk/emu-run.sh with mk/valgrind-run.sh (unit tests and fuzz replays, with
# tests/e2e/valgrind-gaps).
. "$(dirname "$0")/lib.sh"
# valgrind comes with `make deps`: missing is a failure, not a skip
command -v valgrind >/dev/null || { echo "Bail out! valgrind not installed: run make deps"; exit 1; }
CC=${CC:-cc}
EMU_RUN=$FLATCTL_SRC/mk/emu-run.sh
VG_RUN=$FLATCTL_SRC/mk/valgrind-run.sh
unset VALGRIND # mk/valgrind-run.sh's default is what `make valgrind` passes

# prog NAME TAP EXIT [leak|uninit]: a program printing TAP (\n-escaped) and exiting EXIT
prog() {
	{
		echo '#include <stdio.h>' &&
		echo '#include <stdlib.h>' &&
		echo 'int main(void) {' &&
		case ${4:-} in
		leak) echo '	char *p = malloc(64); p[0] = 1; p = NULL;' ;;
		uninit) echo '	int *p = malloc(sizeof(*p)); if (*p == 42) puts("# 42"); free(p);' ;;
		*) true ;;
		esac &&
		printf '\tfputs("%s", stdout);\n\treturn %s;\n}\n' "$2" "$3"
	} >"$T/$1.c" &&
	"$CC" -O0 -g -o "$T/$1" "$T/$1.c"
}
prog clean '1..1\nok 1 - fine\n' 0 &&
prog leak '1..1\nok 1 - fine\n' 0 leak &&
prog uninit '1..1\nok 1 - fine\n' 0 uninit &&
prog gapfail '1..2\nok 1 - fine\nnot ok 2 - listed\n' 1 &&
prog gapleak '1..2\nok 1 - fine\nnot ok 2 - listed\n' 1 leak &&
prog gapother '1..2\nnot ok 1 - unlisted\nnot ok 2 - listed\n' 1 &&
prog gapexit '1..2\nok 1 - fine\nok 2 - listed\n' 1 || exit 1
cat >"$T/gaps" <<EOF
# NAME | TEST | REASON
gapfail | listed | a reason
gapleak | listed | a reason
gapother | listed | a reason
gapexit | listed | a reason
EOF

test_expect 'under_valgrind: a clean program keeps its exit status, valgrind says nothing' '
	under_valgrind "$T/clean" >"$T/out" 2>"$T/err" &&
	test_grep "^ok 1 - fine$" "$T/out" &&
	test ! -s "$T/err" &&
	test_exit 1 under_valgrind "$T/gapfail" >/dev/null 2>"$T/err" &&
	test ! -s "$T/err"
'
test_expect 'under_valgrind: a definite leak is exit 99 with the report on stderr' '
	test_exit 99 under_valgrind "$T/leak" >"$T/out" 2>"$T/err" &&
	test_grep "^ok 1 - fine$" "$T/out" &&
	test_grep "64 bytes in 1 blocks are definitely lost" "$T/err" &&
	test_grep "by 0x[0-9A-F]*: main (leak.c:4)" "$T/err"
'
test_expect 'under_valgrind: a jump on an uninitialised value is exit 99' '
	test_exit 99 under_valgrind "$T/uninit" >/dev/null 2>"$T/err" &&
	test_grep "Conditional jump or move depends on uninitialised value" "$T/err" &&
	test_grep "at 0x[0-9A-F]*: main (uninit.c:4)" "$T/err"
'
test_expect 'mk/emu-run.sh with valgrind: clean passes, a leak or uninitialised read fails' '
	sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/clean" >"$T/out" 2>"$T/err" &&
	test_grep "^ok 1 - fine$" "$T/out" &&
	test_exit 99 sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/leak" >/dev/null 2>"$T/err" &&
	test_grep "definitely lost" "$T/err" &&
	test_exit 99 sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/uninit" >/dev/null 2>"$T/err" &&
	test_grep "uninitialised value" "$T/err"
'
test_expect 'mk/emu-run.sh with valgrind: a listed failure is a TODO with its reason' '
	sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/gapfail" >"$T/out" 2>"$T/err" &&
	test_grep "^ok 1 - fine$" "$T/out" &&
	test_grep "^not ok 2 - listed # TODO under valgrind: a reason$" "$T/out"
'
test_expect 'mk/emu-run.sh with valgrind: a listed failure does not hide a leak' '
	test_exit 1 sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/gapleak" >"$T/out" 2>"$T/err" &&
	test_grep "^not ok 2 - listed # TODO under valgrind: a reason$" "$T/out" &&
	test_grep "^# valgrind found memory errors or a definite leak (exit 99)$" "$T/out" &&
	test_grep "definitely lost" "$T/err"
'
test_expect 'mk/emu-run.sh: an unlisted failure, or a failing exit without any failure, fails' '
	test_exit 1 sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/gapother" >"$T/out" 2>/dev/null &&
	test_grep "^not ok 1 - unlisted$" "$T/out" &&
	test_grep "^not ok 2 - listed # TODO" "$T/out" &&
	test_exit 1 sh "$EMU_RUN" "$VG_RUN" "$T/gaps" "$T/gapexit" >/dev/null 2>&1 &&
	test_exit 1 sh "$EMU_RUN" env "$T/gaps" "$T/gapexit" >/dev/null 2>&1 &&
	sh "$EMU_RUN" env "$T/gaps" "$T/gapfail" >"$T/out" &&
	test_grep "^not ok 2 - listed # TODO under emulation: a reason$" "$T/out"
'
# a test script that starts a program in the background the way start_daemon does
bg_child() {
	cat >"$T/bg-$1.sh" <<-EOF &&
	. "$FLATCTL_SRC/tests/e2e/lib.sh"
	test_expect 'start it in the background' '
		valgrind_bg &&
		{ "\${VG_BG[@]}" "$T/$1" >/dev/null & } &&
		{ wait \$! || test \$? = 99; }
	'
	test_done
	EOF
	FLATCTL_VALGRIND=1 bash "$T/bg-$1.sh" >"$T/bg-$1.tap" 2>/dev/null
}
test_expect 'valgrind_bg: test_done fails a script whose background program leaked' '
	test_exit 1 bg_child leak &&
	test_grep "^ok 1 - start it in the background$" "$T/bg-leak.tap" &&
	test_grep "^not ok 2 - no memory error or leak in a background flatctl under valgrind$" "$T/bg-leak.tap" &&
	test_grep "^# ==[0-9]*== .*definitely lost" "$T/bg-leak.tap" &&
	test_grep "^1..2$" "$T/bg-leak.tap" &&
	bg_child clean &&
	test_grep "^ok 2 - no memory error or leak in a background flatctl under valgrind$" "$T/bg-clean.tap"
'
test_done
