# shellcheck shell=bash
# demo/35-update-daemon.sh - a machine that looks after itself (docs/update.md 2.7, 2.9, 8;
# docs/update-daemon.md): `update daemon --once` updates it from `flatctl update serve`, the
# daemon's StatusUpdate on a private D-Bus tells `reboot-manager --dry-run` that a reboot is due,
# the reboot is played on the image (GRUB spends the try, the cmdline names USR-B), the next
# start marks USR-B good; a later release whose boot fails its health check is rolled back.
M=$DEMO_DIR/daemon
R=$M/root
D=$M/disk.img
mkdir -p "$R/usr/share/flatcar" "$R/usr/share/update_engine" "$R/etc/flatcar" "$R/proc" \
	"$M/srv/stable"
printf 'FLATCAR_RELEASE_VERSION=3975.2.1\nFLATCAR_RELEASE_BOARD=amd64-usr\n' >"$R/usr/share/flatcar/release"
echo 4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7 >"$R/etc/machine-id"
echo "root=LABEL=ROOT mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$M/key.pem" 2>/dev/null
openssl pkey -in "$M/key.pem" -pubout -out "$R/usr/share/update_engine/update-payload-key.pub.pem"
"$MKDISK" -q --layout compact "$D"
# boot_into N VERSION: what a reboot does to the image: GRUB picks partition N and spends its try,
# the kernel command line names it, the release file is the new one
boot_into() {
	local label=USR-A
	[ "$1" = 4 ] && label=USR-B
	cgpt add -i "$1" -T 0 "$D" &&
	echo "root=LABEL=ROOT mount.usr=PARTLABEL=$label" >"$R/proc/cmdline" &&
	sed -i "s/^FLATCAR_RELEASE_VERSION=.*/FLATCAR_RELEASE_VERSION=$2/" "$R/usr/share/flatcar/release"
}
# until PID CMD...: wait for CMD to succeed while PID lives (a process that died ends the part)
until_up() {
	local pid=$1
	shift
	until "$@"; do
		kill -0 "$pid" 2>/dev/null || { echo "demo: process $pid ended early" >&2; return 1; }
		sleep 0.05
	done
}
start_serve() {
	rm -f "$M/serve.err" # not the last server's words
	"$FLATCTL" update serve "$M/srv" --listen 127.0.0.1:0 --log "$M/serve.log" 2>"$M/serve.err" &
	serve_pid=$!
	demo_cleanup_pid $serve_pid
	until_up $serve_pid grep -q " on http://" "$M/serve.err" || { cat "$M/serve.err"; return 1; }
	SERVE_URL=$(sed -n 's|^flatctl update: serving .* on \(http://[^ ]*\)$|\1|p' "$M/serve.err")
}
# pack VERSION GROUP: a payload of VERSION under srv/GROUP/
pack() {
	mkdir -p "$M/srv/$2"
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$M/usr-$1.img"
	"$FLATCTL" update pack --image "$M/usr-$1.img" --key "$M/key.pem" --compress none \
		--out "$M/srv/$2/flatcar_production_update-$1.gz" >/dev/null
}

demo_note "The fleet's update server: flatctl update serve, group 'stable' at 4081.2.0:"
pack 4081.2.0 stable
cat >"$M/srv/serve.json" <<'JSON'
{ "groups": { "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update-4081.2.0.gz" } } }
JSON
start_serve
printf 'SERVER=%s\nGROUP=stable\nMARK_GOOD_UNITS=containerd.service\n' "$SERVE_URL" \
	>"$R/etc/flatcar/update.conf"
demo_run cat "$R/etc/flatcar/update.conf"

demo_note "A systemd of its own (a user manager in a private mount namespace, with its private"
demo_note "D-Bus): it runs the machine's services, which the daemon's health check asks about:"
mkdir -p "$M/xdg" "$M/config/systemd/user" && chmod 700 "$M/xdg"
printf '[Service]\nExecStart=/bin/sleep 1000\n' >"$M/config/systemd/user/containerd.service"
printf '[Service]\nExecStart=/bin/false\n' >"$M/config/systemd/user/kubelet.service"
XDG_RUNTIME_DIR=$M/xdg XDG_CONFIG_HOME=$M/config unshare -m sh -c 'mount --make-rprivate / &&
	mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec /lib/systemd/systemd --user' \
	>"$M/systemd.log" 2>&1 &
systemd_pid=$!
demo_cleanup_pid $systemd_pid
BUS=unix:path=$M/xdg/bus
SD=(org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager)
sd_running() {
	[ -S "$M/xdg/bus" ] &&
		busctl --address="$BUS" get-property "${SD[@]}" SystemState 2>/dev/null | grep -q running
}
until_up $systemd_pid sd_running || { cat "$M/systemd.log"; return 1; }
busctl --address="$BUS" call "${SD[@]}" StartUnit ss containerd.service replace >/dev/null
busctl --address="$BUS" call "${SD[@]}" StartUnit ss kubelet.service replace >/dev/null
for u in containerd kubelet; do
	demo_note "  $u.service: $(busctl --address="$BUS" get-property org.freedesktop.systemd1 \
		"/org/freedesktop/systemd1/unit/${u}_2eservice" org.freedesktop.systemd1.Unit ActiveState)"
done
demo_note "reboot-manager --dry-run listens on that bus, with a root of its own, so that it can only"
demo_note "learn of the reboot from the daemon's StatusUpdate signal:"
RM=$M/rm-root
mkdir -p "$RM/etc" && cp "$R/etc/machine-id" "$RM/etc/"
"$FLATCTL" --root "$RM" reboot-manager --bus "$BUS" --dry-run >"$M/rm.out" 2>&1 &
rm_pid=$!
demo_cleanup_pid $rm_pid
until_up $rm_pid grep -qs "STATE=running" "$RM/run/update-engine/coordinator.conf" ||
	{ cat "$M/rm.out"; return 1; }
demo_note "  reboot-manager $rm_pid is waiting"

demo_note "The daemon's cycle (what update-engine.service runs on a schedule; --once does one now):"
demo_run flatctl --root "$R" --disk "$D" update daemon --once --bus "$BUS"
demo_note "reboot-manager heard StatusUpdate(UPDATE_STATUS_UPDATED_NEED_REBOOT) and \"rebooted\":"
wait "$rm_pid"
demo_run cat "$RM/var/lib/flatctl/reboot-manager/dry-run-reboots"

demo_note "The reboot, played on the image: GRUB boots USR-B and spends its one try:"
boot_into 4 4081.2.0
demo_run flatctl --disk "$D" partition show
demo_note "The daemon starts in the new system: reports the reboot to the server, checks that"
demo_note "containerd.service is active, marks USR-B good:"
demo_run flatctl --root "$R" --disk "$D" update daemon --once --bus "$BUS"
demo_run flatctl --disk "$D" partition show

demo_note "The machine moves to the group 'beta', where 4116.0.0 waits (one more group in serve.json;"
demo_note "the server reads its configuration at start, so it is restarted):"
pack 4116.0.0 beta
kill "$serve_pid" && wait "$serve_pid" 2>/dev/null
cat >"$M/srv/serve.json" <<'JSON'
{ "groups": {
    "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update-4081.2.0.gz" },
    "beta": { "version": "4116.0.0", "payload": "beta/flatcar_production_update-4116.0.0.gz" } } }
JSON
start_serve
printf 'SERVER=%s\nGROUP=beta\nMARK_GOOD_UNITS=containerd.service kubelet.service\nMARK_GOOD_TIMEOUT=2\nROLLBACK_ON_FAILED_HEALTH=true\n' \
	"$SERVE_URL" >"$R/etc/flatcar/update.conf"
demo_note "From now on a boot counts as good only with kubelet.service active as well:"
demo_run cat "$R/etc/flatcar/update.conf"
demo_note "The daemon installs 4116.0.0 to USR-A (-q: only what goes wrong is printed):"
demo_run flatctl --root "$R" --disk "$D" -q update daemon --once --bus "$BUS"
demo_note "The reboot into USR-A with 4116.0.0, but kubelet.service fails: the boot is not marked"
demo_note "good and USR-B, the last good system, becomes the next boot target:"
boot_into 3 4116.0.0
demo_run flatctl --root "$R" --disk "$D" update daemon --once --bus "$BUS"
demo_run flatctl --disk "$D" partition show
demo_note "What the server saw of this machine (its JSON-lines log):"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["kind"] == "omaha":
        ev = " ".join("%s/%s" % (e["eventtype"], e["eventresult"]) + ("/" + e["errorcode"] if e.get("errorcode") else "") for e in d["events"])
        print("  %s %s track=%s: %s  events: %s" % (d["installsource"], d["version"], d["track"], d["answer"], ev or "-"))
    elif d["kind"] == "download":
        print("  download %s HTTP %d, %d bytes" % (d["path"], d["status"], d["bytes"]))' "$M/serve.log"
