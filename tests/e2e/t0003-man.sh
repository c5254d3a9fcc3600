#!/bin/bash
# t0003-man: every long option an applet's --help shows is documented in its man page
# (docs/coding-style.md §6): `flatctl APPLET --help` "Options:" -> man/flatctl-APPLET.1.scd, and the global
# options of `flatctl --help` -> man/flatctl.1.scd. Also: every page renders with scdoc.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gaps.sh"
MAN=$FLATCTL_SRC/man

# long_options: the option names in the left column of one help section (stdin)
long_options() {
	sed -n 's/^ \{1,\}\(-[A-Za-z0-9], \)\{0,1\}--\([A-Za-z0-9][A-Za-z0-9-]*\).*/\2/p' | sort -u
}
# section NAME: the lines of help (stdin) from "NAME:" up to the next blank line
section() {
	awk -v h="$1:" '$0 == h { on = 1; next } on && /^$/ { exit } on { print }'
}
# documented OPT PAGE: the page mentions --OPT as a whole word
documented() {
	grep -Eq -- "--$1([^A-Za-z0-9-]|\$)" "$2"
}

flatctl --help >"$T/help"
section 'Global options (before or after the applet name)' <"$T/help" | long_options >"$T/global"
test_expect 'flatctl --help lists global options' '
	test -s "$T/global" && test_grep "^root\$" "$T/global" && test_grep "^list-links\$" "$T/global"
'
test_expect 'man/flatctl.1.scd documents every global option' '
	missing= &&
	while read -r o; do documented "$o" "$MAN/flatctl.1.scd" || missing="$missing --$o" || return 1; done <"$T/global" &&
	{ [ -z "$missing" ] || { echo "missing in man/flatctl.1.scd:$missing"; false; }; }
'
test_expect 'man/flatctl.1.scd names every link name of the binary' '
	flatctl --list-links >"$T/links" &&
	missing= &&
	while read -r l; do grep -qw -- "$l" "$MAN/flatctl.1.scd" || missing="$missing $l" || return 1; done <"$T/links" &&
	{ [ -z "$missing" ] || { echo "missing in man/flatctl.1.scd:$missing"; false; }; }
'

section Applets <"$T/help" | awk '{ print $1 }' >"$T/applets"
while read -r applet; do
	page=$MAN/flatctl-$applet.1.scd
	test_expect_gap man "$applet" "$applet: man page exists" 'test -f "$page"'
	test_expect_gap man "$applet" "$applet: every long option of --help is in $(basename "$page")" '
		flatctl "$applet" --help >"$T/ah" &&
		section Options <"$T/ah" | long_options >"$T/opts" &&
		missing= &&
		while read -r o; do documented "$o" "$page" || missing="$missing --$o" || return 1; done <"$T/opts" &&
		{ [ -z "$missing" ] || { echo "missing in $page:$missing"; false; }; }
	'
done <"$T/applets"

for scd in "$MAN"/*.scd; do
	test_expect "$(basename "$scd") renders with scdoc" 'scdoc <"$scd" >"$T/page" && test -s "$T/page"'
done
test_done
