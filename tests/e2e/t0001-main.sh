#!/bin/bash
# t0001-main: multicall dispatch, global options, help and exit codes (docs/cli.md).
. "$(dirname "$0")/lib.sh"

test_expect 'flatctl --version prints the version' '
	flatctl --version >"$T/v" && test_grep "^flatctl " "$T/v"
'
test_expect 'flatctl --help lists applets, exit 0' '
	flatctl --help >"$T/h" && test_grep "^Usage: flatctl" "$T/h"
'
test_expect 'unknown applet is a usage error (2)' '
	test_exit 2 flatctl no-such-applet 2>"$T/e" && test_grep "unknown applet .no-such-applet." "$T/e"
'
test_expect 'no applet is a usage error (2)' '
	test_exit 2 flatctl 2>"$T/e" && test_grep "Try .flatctl --help." "$T/e"
'
test_expect 'unknown global option is a usage error (2)' '
	test_exit 2 flatctl --bogus 2>"$T/e" && test_grep "unknown option" "$T/e"
'
test_expect 'unknown link name is a usage error (2)' '
	ln -s "$FLATCTL" "$T/not-a-tool" && test_exit 2 "$T/not-a-tool" 2>"$T/e"
'
test_expect '--list-links prints one name per line' '
	flatctl --list-links >"$T/l" && ! grep -q " " "$T/l"
'
test_done
