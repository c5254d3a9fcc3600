#!/bin/bash
# t0000-harness: the e2e harness itself (docs/testing.md). Small test scripts run test_expect of
# tests/e2e/lib.sh in a child bash; their TAP says whether a check can fail and whether the chain
# lint refuses a broken body, naming its line, before running any of it.
. "$(dirname "$0")/lib.sh"
HARNESS=$(cd "$(dirname "$0")" && pwd)
export HARNESS
LINT=$HARNESS/chainlint.pl
export MARK=$T/ran # a body that is refused must not have run: it would create this file

# child NAME: a test script (its test_expect calls on stdin) that uses the harness under test
child() {
	{
		echo ". \"$HARNESS/lib.sh\"" &&
		cat &&
		echo "test_done"
	} >"$T/$1.sh"
}
# run_child NAME: run it; its TAP in $T/NAME.tap, its stderr in $T/NAME.err
run_child() {
	rm -f "$MARK" &&
	bash "$T/$1.sh" >"$T/$1.tap" 2>"$T/$1.err"
}

child false-in-middle <<'EOF'
test_expect 'a false check in the middle' '
	true &&
	false &&
	true
'
test_expect 'a false check in the middle of a chain that breaks after it' '
	true &&
	false &&
	true
	true
'
EOF
child passes <<'EOF'
test_expect 'an intact chain of true checks' '
	x=$(echo 1) &&
	test "$x" = 1 &&
	{ test -e /nonexistent || echo "fallback" >/dev/null; } &&
	if test "$x" = 1; then
		echo one >/dev/null &&
		echo two >/dev/null
	fi
'
EOF
child broken <<'EOF'
test_expect 'a broken chain' '
	touch "$MARK" &&
	false
	true
'
EOF
child broken-semicolon <<'EOF'
test_expect 'a broken chain: ;' 'touch "$MARK"; false; true'
EOF
child broken-nested <<'EOF'
test_expect 'a broken chain inside a group' '
	touch "$MARK" &&
	{ false; true; } &&
	true
'
EOF
child loop-good <<'EOF'
test_expect 'a loop with || return 1, all iterations true' '
	for i in 1 2 3; do
		test "$i" -le 3 || return 1
	done
'
EOF
child loop-fails <<'EOF'
test_expect 'a loop with || return 1, the first iteration false' '
	for i in 1 2 3; do
		test "$i" -ge 2 || return 1
	done
'
EOF
child loop-no-return <<'EOF'
test_expect 'a loop without || return 1' '
	touch "$MARK" &&
	for i in 1 2 3; do
		test "$i" -ge 2
	done
'
EOF
child toplevel-or <<'EOF'
test_expect 'an || in the top-level chain' '
	touch "$MARK" &&
	false || true
'
EOF
child background <<'EOF'
test_expect 'a & in the top-level chain' '
	touch "$MARK" &&
	sleep 0 &
	true
'
EOF
child gap <<'EOF'
GAPS_FILE=$T/known-gaps
echo "link listed" >"$GAPS_FILE"
. "$HARNESS/gaps.sh"
test_expect_gap link listed 'a broken chain in a known gap' '
	touch "$MARK"
	true
'
test_expect_gap link listed 'an intact chain that fails in a known gap' '
	true &&
	false
'
EOF
# the second check, `(exit 117) && BODY`, on its own: an empty program as the static lint
child dynamic <<'EOF'
test_expect 'the (exit 117) check catches a broken chain' '
	true
	true
'
test_expect 'and passes an intact one' '
	true &&
	true
'
EOF

test_expect 'a body with a false check in the middle fails' '
	test_exit 1 run_child false-in-middle &&
	test_grep "^not ok 1 - a false check in the middle$" "$T/false-in-middle.tap" &&
	test_grep "^not ok 2 - a false check in the middle of a chain that breaks after it$" \
		"$T/false-in-middle.tap" &&
	test_grep "^1\.\.2$" "$T/false-in-middle.tap"
'
test_expect 'an intact chain of true checks passes' '
	run_child passes &&
	test_grep "^ok 1 - an intact chain of true checks$" "$T/passes.tap"
'
test_expect 'a broken chain is refused, not run, and the message names the line' '
	test_exit 1 run_child broken &&
	test ! -e "$MARK" &&
	test_grep "^not ok 1 - a broken chain$" "$T/broken.tap" &&
	test_grep "^# broken.sh line 4 (body line 3): broken && chain (no && after the command): false$" \
		"$T/broken.tap"
'
test_expect 'a ; between checks and a broken chain inside a group are refused' '
	test_exit 1 run_child broken-semicolon && test ! -e "$MARK" &&
	test_grep "^# broken-semicolon.sh line 2 (body line 1): broken && chain" "$T/broken-semicolon.tap" &&
	test_exit 1 run_child broken-nested && test ! -e "$MARK" &&
	test_grep "^# broken-nested.sh line 4 (body line 3): broken && chain" "$T/broken-nested.tap"
'
test_expect 'a loop with || return 1 passes when every iteration passes, fails when one fails' '
	run_child loop-good &&
	test_grep "^ok 1 - " "$T/loop-good.tap" &&
	test_exit 1 run_child loop-fails &&
	test_grep "^not ok 1 - " "$T/loop-fails.tap" &&
	! grep -q "broken && chain\|loop without" "$T/loop-fails.tap"
'
test_expect 'a loop without || return 1 is refused' '
	test_exit 1 run_child loop-no-return && test ! -e "$MARK" &&
	test_grep "^# loop-no-return.sh line 4 (body line 3): loop without .|| return 1." "$T/loop-no-return.tap"
'
test_expect 'an || or a & in the top-level chain is refused' '
	test_exit 1 run_child toplevel-or && test ! -e "$MARK" &&
	test_grep "^# toplevel-or.sh line 4 (body line 3): .||. in the top-level chain" "$T/toplevel-or.tap" &&
	test_exit 1 run_child background && test ! -e "$MARK" &&
	test_grep "^# background.sh line 4 (body line 3): broken && chain (.&. ends the command)" \
		"$T/background.tap"
'
test_expect 'a broken chain in a known gap fails, not as a TODO' '
	test_exit 1 run_child gap && test ! -e "$MARK" &&
	test_grep "^not ok 1 - a broken chain in a known gap$" "$T/gap.tap" &&
	test_grep "^not ok 2 - an intact chain that fails in a known gap # TODO known gap .link listed.$" \
		"$T/gap.tap"
'
test_expect 'the (exit 117) check alone refuses a broken chain and passes an intact one' '
	TEST_CHAINLINT_PL=/dev/null test_exit 1 run_child dynamic &&
	test_grep "^not ok 1 - " "$T/dynamic.tap" &&
	test_grep "^# dynamic.sh near line 2: broken && chain or run-away here-document: (exit 117) && BODY gave 0, not 117$" \
		"$T/dynamic.tap" &&
	test_grep "^ok 2 - and passes an intact one$" "$T/dynamic.tap"
'

# lint BODY: the problems chainlint.pl finds in BODY, as "LINE MESSAGE" lines
lint() { printf "%s\n" "$1" | perl "$LINT" - | cut -f1 | tr "\n" " "; }
test_expect 'chainlint: here-documents, $(...), case, functions, nested loops, guards' '
	test "$(lint "cat >f <<EOF &&
a; b
EOF
x=\$(a && b) &&
case \$x in a) y && z ;; *) w ;; esac &&
f() { a || return 1; b; } &&
for i in 1; do for j in 2; do t \$i \$j || return 1; done; done")" = "" &&
	test "$(lint "x=\$(a; b) &&
case \$x in a) y; z ;; esac &&
f() { if a; then return 1; fi; b; } &&
g() { a; b; } &&
true")" = "1 2 4 " &&
	test "$(lint "cat <<EOF &&
unterminated")" = "1 "
'
test_expect 'chainlint --fix adds the missing && and || return 1' '
	printf "%s\n" "a; b" "for i in 1; do c" "done" "d" >"$T/body" &&
	perl "$LINT" --fix "$T/body" >"$T/fixed" &&
	printf "%s\n" "a && b &&" "for i in 1; do c || return 1" "done &&" "d" >"$T/want" &&
	test_cmp "$T/want" "$T/fixed" && perl "$LINT" "$T/fixed"
'
test_expect 'every test script and helper: functions and literal bodies pass the chain lint' '
	cd "$HARNESS/../.." &&
	perl "$LINT" --scripts $(ls tests/e2e/*.sh | grep -v "/lib\.sh$") tests/lock/*.sh tests/data/gpt/e2e.sh
'
test_expect 'every test script is executable, as prove runs it (a file mode, checked in git)' '
	cd "$HARNESS/../.." &&
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -s "tests/e2e/t[0-9]*.sh" >"$T/modes"
	else
		for f in tests/e2e/t[0-9]*.sh; do
			{ test -x "$f" && echo "100755 - 0	$f" || echo "100644 - 0	$f"; } || return 1
		done >"$T/modes"
	fi &&
	test -s "$T/modes" &&
	! grep -v "^100755 " "$T/modes"
'
test_expect 'test_wait_for: true once the condition holds, a failure naming it at the deadline' '
	{ (sleep 0.3 && touch "$T/later") & } &&
	test_wait_for 60 "test -e \"\$T/later\"" &&
	test_exit 1 test_wait_for 1 "test -e \"\$T/never\"" 2>"$T/err" &&
	test_grep "test_wait_for: still not true after 1 s: test -e \"\$T/never\"" "$T/err"
'
test_done
