#!/bin/bash
# t0002-install: `make install` into a temporary DESTDIR (docs/build.md §5) installs the binary
# under test, a relative symlink for exactly the link names the Applets table of docs/cli.md gives
# for the applets present in the binary, and the man pages; every link dispatches to its applet.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gaps.sh"
CLI_MD=${CLI_MD:-$FLATCTL_SRC/docs/cli.md}
DEST=$T/dest
BUILD=${FLATCTL_BUILD:-$FLATCTL_SRC/build}

# The nested make must not join the jobserver or variables of a make that runs this suite.
install_run() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -s -C "$FLATCTL_SRC" install DESTDIR="$DEST" PREFIX=/usr \
		B="$BUILD" INSTALL_BIN="$FLATCTL" "$@"
}

test_expect 'make install DESTDIR=... PREFIX=/usr succeeds' '
	{ install_run >"$T/install.log" 2>&1 || { cat "$T/install.log"; false; }; } &&
	test -x "$DEST/usr/bin/flatctl"
'
test_expect 'the installed binary is the one under test' '
	cmp "$FLATCTL" "$DEST/usr/bin/flatctl"
'
test_expect 'man pages installed, flatctl(1) among them' '
	test -s "$DEST/usr/share/man/man1/flatctl.1" &&
	for scd in "$FLATCTL_SRC"/man/*.scd; do
		n=$(basename "$scd" .scd) && test -s "$DEST/usr/share/man/man1/$n" || { echo "no $n"; exit 1; }
	done
'

# expected links: cli.md Applets table rows whose applet is in `flatctl --help`
flatctl --help | awk '$0 == "Applets:" { on = 1; next } on && /^$/ { exit } on { print $1 }' \
	| sort >"$T/applets"
test_expect "cli.md Applets table readable ($CLI_MD)" 'test -f "$CLI_MD"'
awk -F'|' '
	/^## / { on = ($0 == "## Applets") ; next }
	on && /^\| `/ {
		applet = $2; gsub(/`/, "", applet); split(applet, w, " ")
		links = $3
		while (match(links, /`[^`]+`/)) {
			print w[1], substr(links, RSTART + 1, RLENGTH - 2)
			links = substr(links, RSTART + RLENGTH)
		}
	}' "$CLI_MD" 2>/dev/null | sort >"$T/table"
join "$T/applets" "$T/table" | awk '{ print $2 }' | sort -u >"$T/expected"
installed_links() { find "$DEST/usr/bin" -mindepth 1 -maxdepth 1 ! -name flatctl -printf '%f\n' | sort; }
installed_links >"$T/installed"
flatctl --list-links | sort >"$T/listed"

test_expect 'cli.md table parsed (applet and link pairs)' '
	test_grep "^provision ignition$" "$T/table" && test_grep "^partition cgpt$" "$T/table"
'
while read -r l; do
	test_expect_gap link "$l" "link '$l' installed (cli.md, applet present)" 'grep -qx -- "$l" "$T/installed"'
done <"$T/expected"
test_expect 'no installed link that cli.md does not list for a present applet' '
	extra=$(comm -13 "$T/expected" "$T/installed") &&
	{ [ -z "$extra" ] || { echo "not in cli.md: $extra"; false; }; }
'
test_expect '--list-links = installed links' 'test_cmp "$T/listed" "$T/installed"'
test_expect 'every link is a relative symlink to flatctl' '
	for l in $(cat "$T/installed"); do
		[ "$(readlink "$DEST/usr/bin/$l")" = flatctl ] || { echo "$l -> $(readlink "$DEST/usr/bin/$l")"; exit 1; }
	done
'
test_expect 'every link dispatches to its applet' '
	for l in $(cat "$T/installed"); do
		"$DEST/usr/bin/$l" --help >"$T/o" 2>&1 || true &&
		if grep -q "unknown applet" "$T/o" || ! test -s "$T/o"; then
			echo "$l does not dispatch:"; cat "$T/o"; exit 1
		fi
	done
'
test_expect 'install again over an existing tree (idempotent)' '
	{ install_run >"$T/install2.log" 2>&1 || { cat "$T/install2.log"; false; }; } &&
	installed_links | test_cmp "$T/installed" -
'
test_done
