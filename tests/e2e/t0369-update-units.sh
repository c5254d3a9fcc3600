#!/bin/bash
# t0369-update-units: `make install DESTDIR=` installs the daemon's and the reboot manager's
# systemd units (update-engine.service, locksmithd.service) and the D-Bus policy
# (com.coreos.update1.conf), and systemd-analyze verify accepts the units as installed: a root
# made of the host's own unit directory (for the targets and dbus.socket they refer to) and the
# installed tree, so that ExecStart= must name the installed binary.
. "$(dirname "$0")/lib.sh"
DEST=$T/dest
BUILD=${FLATCTL_BUILD:-$FLATCTL_SRC/build}
SYSTEM_UNITS=/lib/systemd/system

install_run() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		make -s -C "$FLATCTL_SRC" install DESTDIR="$DEST" PREFIX=/usr \
		B="$BUILD" INSTALL_BIN="$FLATCTL" "$@"
}
# verify_root: the verification root: the host's units, the installed units and binaries
verify_root() {
	rm -rf "$T/v" && mkdir -p "$T/v/usr/lib/systemd" "$T/v/bin" &&
	cp -a "$SYSTEM_UNITS" "$T/v/usr/lib/systemd/system" &&
	cp "$DEST"/usr/lib/systemd/system/*.service "$T/v/usr/lib/systemd/system/" &&
	cp -a "$DEST/usr/bin" "$T/v/usr/" && cp /bin/kill "$T/v/bin/kill"
}
verify() {
	systemd-analyze --root="$T/v" --man=no --generators=no verify "$@" 2>"$T/verify.err"
}

test_expect 'make install puts the units and the D-Bus policy in place' '
	{ install_run >"$T/install.log" 2>&1 || { cat "$T/install.log"; false; }; } &&
	U=$DEST/usr/lib/systemd/system &&
	test "$(stat -c %a "$U/update-engine.service")" = 644 &&
	test "$(stat -c %a "$U/locksmithd.service")" = 644 &&
	cmp "$FLATCTL_SRC/dist/dbus/com.coreos.update1.conf" \
		"$DEST/usr/share/dbus-1/system.d/com.coreos.update1.conf" &&
	test_grep "^ExecStart=/usr/bin/flatctl update daemon$" "$U/update-engine.service" &&
	test_grep "^Type=notify$" "$U/update-engine.service" &&
	test_grep "^WatchdogSec=" "$U/update-engine.service" &&
	test_grep "^ExecStart=/usr/bin/flatctl reboot-manager$" "$U/locksmithd.service" &&
	! grep -q @BINDIR@ "$U"/*.service
'

test_expect 'systemd-analyze verify: both units clean (no warning at all)' '
	test -d "$SYSTEM_UNITS" && verify_root &&
	verify update-engine.service locksmithd.service && test ! -s "$T/verify.err"
'

test_expect 'the check catches a broken unit: unknown Type=, a missing binary' '
	sed -i "s/^Type=notify/Type=notifie/" "$T/v/usr/lib/systemd/system/update-engine.service" &&
	verify update-engine.service && test_grep "Failed to parse service type" "$T/verify.err" &&
	verify_root && rm "$T/v/usr/bin/flatctl" &&
	test_exit 1 verify locksmithd.service && test_grep "is not executable" "$T/verify.err"
'

test_expect 'the installed policy parses: a dbus-daemon starts with it (only a machine without the core user is told so)' '
	mkdir -p "$T/bus" && cat >"$T/bus/bus.conf" <<-CONF &&
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <listen>unix:path=$T/bus/socket</listen>
	  <auth>EXTERNAL</auth>
	  <includedir>$DEST/usr/share/dbus-1/system.d</includedir>
	</busconfig>
	CONF
	pid=$(dbus-daemon --config-file="$T/bus/bus.conf" --fork --nopidfile --print-pid=1 2>"$T/bus/err") &&
	kill "$pid" &&
	{ grep -v "Unknown username \"core\"" "$T/bus/err" || :; } >"$T/bus/other" &&
	test ! -s "$T/bus/other"
'
test_done
