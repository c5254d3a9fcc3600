# shellcheck shell=bash
# tests/e2e/lib-bus.sh - a private D-Bus for the daemon tests (t036x); source after lib.sh.
# start_bus: a dbus-daemon of its own under $T with the system bus's default policy (anyone may
# connect, nobody may own names or call methods unless a rule says so) plus the policy file that
# `make install` ships (dist/dbus/com.coreos.update1.conf). Exports DBUS_SYSTEM_BUS_ADDRESS, so
# that every "system bus" client of the test (flatctl, busctl, dbus-send) talks to it and never
# to the host's; BUS holds the address. Stopped by PID at exit.
start_bus() {
	mkdir -p "$T/bus" &&
	cat >"$T/bus/bus.conf" <<-CONF &&
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>system</type>
	  <listen>unix:path=$T/bus/socket</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow user="*"/>
	    <deny own="*"/>
	    <deny send_type="method_call"/>
	    <allow send_type="signal"/>
	    <allow send_requested_reply="true" send_type="method_return"/>
	    <allow send_requested_reply="true" send_type="error"/>
	    <allow receive_type="method_call"/>
	    <allow receive_type="method_return"/>
	    <allow receive_type="error"/>
	    <allow receive_type="signal"/>
	    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
	    <allow send_destination="org.freedesktop.DBus"
	           send_interface="org.freedesktop.DBus.Introspectable"/>
	    <allow send_destination="org.freedesktop.DBus"
	           send_interface="org.freedesktop.DBus.Peer"/>
	  </policy>
	  <include>$FLATCTL_SRC/dist/dbus/com.coreos.update1.conf</include>
	</busconfig>
	CONF
	{ dbus-daemon --config-file="$T/bus/bus.conf" --nofork --nopidfile --print-address=3 \
		3>"$T/bus/address" 2>"$T/bus/log" & } &&
	BUS_PID=$! &&
	cleanup_pid $BUS_PID &&
	while [ ! -s "$T/bus/address" ]; do
		kill -0 $BUS_PID 2>/dev/null || { cat "$T/bus/log" >&2; return 1; }
		sleep 0.05
	done &&
	BUS=$(head -n1 "$T/bus/address") &&
	export DBUS_SYSTEM_BUS_ADDRESS=$BUS
}

# has_owner NAME: the name is owned on the test bus
has_owner() {
	busctl --system status "$1" >/dev/null 2>&1
}

# wait_for CMD...: run CMD until it succeeds (each try is a real check; gives up after 60 s so a
# broken build fails instead of hanging)
wait_for() {
	local i=0 &&
	until "$@"; do
		i=$((i + 1)) &&
		[ $i -lt 1200 ] || { echo "gave up waiting for: $*" >&2; return 1; }
		sleep 0.05
	done
}

# start_daemon ARGS...: `flatctl ARGS` in the background, as itself (not under a subshell), so
# that a signal sent to DAEMON_PID reaches it; stderr (its journal) in $T/daemon.log.
start_daemon() {
	valgrind_bg &&
	{ "${VG_BG[@]}" "$FLATCTL" "$@" 2>>"$T/daemon.log" & } &&
	DAEMON_PID=$! &&
	cleanup_pid $DAEMON_PID
}

# stop_daemon: SIGTERM, then its exit status in DAEMON_RC
stop_daemon() {
	{ kill -TERM "$DAEMON_PID" 2>/dev/null || :; } &&
	DAEMON_RC=0 &&
	{ wait "$DAEMON_PID" || DAEMON_RC=$?; }
}

# log_has PATTERN: the daemon's journal has a line matching PATTERN (grep -E)
log_has() { grep -Eq -- "$1" "$T/daemon.log"; }

# start_user_systemd: a real systemd user manager of its own (the health-check tests ask
# org.freedesktop.systemd1 for unit states, as the daemon does on a host). It runs in a private
# mount namespace with a tmpfs on /run (systemd only starts where /run/systemd/system exists;
# nothing of the host's /run is touched), units in $XDG_CONFIG_HOME/systemd/user, its session
# bus (dbus-user-session's socket) at $XDG_RUNTIME_DIR/bus. Sets USER_BUS to that address.
start_user_systemd() {
	export XDG_RUNTIME_DIR=$T/xdg XDG_CONFIG_HOME=$T/config &&
	mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/systemd/user" &&
	chmod 700 "$XDG_RUNTIME_DIR" &&
	{ unshare -m sh -c 'mount --make-rprivate / && mount -t tmpfs tmpfs /run &&
		mkdir -p /run/systemd/system && exec /lib/systemd/systemd --user' \
		>"$T/systemd.log" 2>&1 & } &&
	SYSTEMD_PID=$! &&
	cleanup_pid $SYSTEMD_PID &&
	USER_BUS=unix:path=$XDG_RUNTIME_DIR/bus &&
	wait_for user_systemd_running
}
user_systemd_running() {
	kill -0 $SYSTEMD_PID 2>/dev/null || { cat "$T/systemd.log" >&2; return 2; }
	[ -S "$XDG_RUNTIME_DIR/bus" ] &&
	busctl --address="$USER_BUS" get-property org.freedesktop.systemd1 \
		/org/freedesktop/systemd1 org.freedesktop.systemd1.Manager SystemState 2>/dev/null |
		grep -q running
}
# user_unit NAME CONTENT: write a unit of the test's systemd and make it known
user_unit() {
	printf '%s\n' "$2" >"$XDG_CONFIG_HOME/systemd/user/$1" &&
	busctl --address="$USER_BUS" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
		org.freedesktop.systemd1.Manager Reload >/dev/null
}
# user_systemctl ARGS: systemctl against the test's systemd
user_systemctl() { systemctl --user "$@"; }
