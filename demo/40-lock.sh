# shellcheck shell=bash
# demo/40-lock.sh - two simulated machines take turns on the cluster reboot lock (issue #5).
# Sourced by the demo runner with $FLATCTL and $DEMO_DIR. Uses a real etcd on 127.0.0.1 when
# etcd is installed (started here, stopped by PID), else the local file backend.

lock_demo() {
	local d="$DEMO_DIR/lock" lockopts="" etcd_pid="" port peer m
	rm -rf "$d" && mkdir -p "$d"
	if command -v etcd >/dev/null 2>&1; then
		port=$(( 30000 + $$ % 10000 )); peer=$((port + 1))
		etcd --name demo --data-dir "$d/etcd" --listen-client-urls "http://127.0.0.1:$port" \
			--advertise-client-urls "http://127.0.0.1:$port" \
			--listen-peer-urls "http://127.0.0.1:$peer" \
			--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
			--initial-cluster "demo=http://127.0.0.1:$peer" \
			--logger zap --log-outputs "$d/etcd.log" 2>"$d/etcd.stderr" &
		etcd_pid=$!
		for _ in $(seq 1 100); do
			curl -s -m 1 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q true && break
			sleep 0.1
		done
		lockopts="--backend etcd --endpoints http://127.0.0.1:$port"
		echo "== reboot lock demo: etcd at 127.0.0.1:$port (v3 API) =="
	else
		echo "== reboot lock demo: etcd not installed, both machines share the file backend =="
		lockopts="--backend file"
	fi

	# Two machines: their own root (machine-id, update state), one shared semaphore.
	for m in alpha beta; do
		mkdir -p "$d/$m/etc" "$d/$m/var/lib/flatctl/update"
		printf '%s\n' "$m-$(printf %s "$m" | md5sum | cut -c1-26)" >"$d/$m/etc/machine-id"
		echo '{"schema":1,"status":"UPDATE_STATUS_UPDATED_NEED_REBOOT","staged":{"version":"4081.2.0"}}' \
			>"$d/$m/var/lib/flatctl/update/state.json"
	done
	# With etcd each machine has its own root. The file backend is local to one root, so there
	# one host plays both machines in turn: its machine-id and update state are swapped in.
	root_of() { if [ -n "$etcd_pid" ]; then echo "$d/$1"; else echo "$d/host"; fi; }
	boot_as() {
		[ -n "$etcd_pid" ] && return 0
		mkdir -p "$d/host/etc" "$d/host/var/lib/flatctl/update"
		cp "$d/$1/etc/machine-id" "$d/host/etc/machine-id"
		cp "$d/$1/var/lib/flatctl/update/state.json" "$d/host/var/lib/flatctl/update/state.json"
	}
	rm_() {
		boot_as "$1"
		"$FLATCTL" --root "$(root_of "$1")" reboot-manager --once --dry-run --strategy etcd-lock $lockopts
	}
	st() { "$FLATCTL" --root "$(root_of alpha)" lock $lockopts status; }

	echo "-- max 1: only one machine may reboot at a time"
	boot_as alpha
	"$FLATCTL" --root "$(root_of alpha)" lock $lockopts set-max 1
	echo "-- alpha has an update installed and reboots (dry run):"
	rm_ alpha; echo "   exit $?"
	st
	echo "-- beta has one too, but must wait its turn:"
	rm_ beta; echo "   exit $? (75 = try later)"
	echo "-- alpha comes back up: it releases its lock after boot"
	echo '{"schema":1,"status":"UPDATE_STATUS_IDLE"}' >"$d/alpha/var/lib/flatctl/update/state.json"
	rm_ alpha; echo "   exit $? (3 = nothing to do)"
	echo "-- now beta takes its turn:"
	rm_ beta; echo "   exit $?"
	st
	echo "-- recorded reboots:"
	cat "$(root_of alpha)/var/lib/flatctl/reboot-manager/dry-run-reboots"
	[ -z "$etcd_pid" ] || cat "$(root_of beta)/var/lib/flatctl/reboot-manager/dry-run-reboots"
	if [ -n "$etcd_pid" ]; then
		kill "$etcd_pid" 2>/dev/null; wait "$etcd_pid" 2>/dev/null
	fi
	return 0
}
lock_demo
