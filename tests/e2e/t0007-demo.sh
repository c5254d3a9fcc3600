#!/bin/bash
# t0007-demo: demo/run.sh (`make demo`, the README's first command) runs every part against the
# binary under test, with a banner per part, and leaves no temporary directory behind.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/tmp"

test_expect 'demo/run.sh runs every part and succeeds' '
	TMPDIR=$T/tmp FLATCTL=$FLATCTL MKDISK=$MKDISK bash "$FLATCTL_SRC/demo/run.sh" </dev/null >"$T/demo.out" 2>&1 ||
		{ cat "$T/demo.out"; false; }
'
test_expect 'one banner per part, in order' '
	(cd "$FLATCTL_SRC/demo" && ls [0-9][0-9]-*.sh | sed "s/\.sh\$//; s/^/==== /; s/\$/ ====/") >"$T/want" &&
	grep "^==== " "$T/demo.out" >"$T/got" && test_cmp "$T/want" "$T/got"
'
test_expect 'the intro shows the version and the applet list' '
	test_grep "^flatctl " "$T/demo.out" && test_grep "^Applets:" "$T/demo.out" &&
	test_grep "parts done" "$T/demo.out"
'
test_expect 'DEMO_DIR removed on exit' '
	[ -z "$(ls -A "$T/tmp")" ] || { ls -la "$T/tmp"; false; }
'
test_done
