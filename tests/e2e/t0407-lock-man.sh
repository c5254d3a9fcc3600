#!/bin/bash
# t0407-lock-man: every long option in the --help of lock and reboot-manager is documented in its
# man page, and the pages render (docs/coding-style.md §6).
. "$(dirname "$0")/lib.sh"

for applet in lock reboot-manager; do
	page="$FLATCTL_SRC/man/flatctl-$applet.1.scd"
	test_expect "$applet: --help options all in $(basename "$page")" '
		flatctl $applet --help >"$T/h" &&
		for o in $(grep -o -- "--[a-z][a-z-]*" "$T/h" | sort -u); do
			grep -q -- "\*$o\*" "$page" || { echo "undocumented: $o"; exit 1; }
		done
	'
	test_expect "$applet: page renders with scdoc" 'scdoc <"$page" >"$T/page" && test -s "$T/page"'
done
test_expect 'locksmithctl help lists its commands' '
	ln -s "$FLATCTL" "$T/locksmithctl" && "$T/locksmithctl" help >"$T/h" &&
	for c in status lock unlock set-max send-need-reboot; do test_grep "^  $c" "$T/h" || return 1; done
'
test_done
