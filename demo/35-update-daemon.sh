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
	"$M/srv/stable" "$M/bus"
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
	"$FLATCTL" update serve "$M/srv" --listen 127.0.0.1:0 --log "$M/serve.log" 2>"$M/serve.err" &
	serve_pid=$!
	demo_cleanup_pid $serve_pid
	until_up $serve_pid grep -q " on http://" "$M/serve.err" || { cat "$M/serve.err"; return 1; }
	SERVE_URL=$(sed -n 's|^flatctl update: serving .* on \(http://[^ ]*\)$|\1|p' "$M/serve.err")
}
pack() {
	head -c $((8 * 1024 * 1024)) /dev/urandom >"$M/usr-$1.img"
	"$FLATCTL" update pack --image "$M/usr-$1.img" --key "$M/key.pem" --compress none \
		--out "$M/srv/stable/flatcar_production_update-$1.gz" >/dev/null
}

demo_note "The fleet's update server: flatctl update serve, group 'stable' at 4081.2.0:"
pack 4081.2.0
cat >"$M/srv/serve.json" <<'JSON'
{ "groups": { "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update-4081.2.0.gz" } } }
JSON
start_serve
printf 'SERVER=%s\nGROUP=stable\n' "$SERVE_URL" >"$R/etc/flatcar/update.conf"
demo_run cat "$R/etc/flatcar/update.conf"

demo_note "A private D-Bus (the system bus's policy and ours), and reboot-manager --dry-run on it,"
demo_note "with a root of its own, so that it can only learn of the reboot from the bus:"
cat >"$M/bus/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$M/bus/socket</listen>
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
  </policy>
  <include>$DEMO_SRC/dist/dbus/com.coreos.update1.conf</include>
</busconfig>
CONF
dbus-daemon --config-file="$M/bus/bus.conf" --nofork --nopidfile --print-address=3 \
	3>"$M/bus/address" 2>"$M/bus/log" &
demo_cleanup_pid $!
until_up $! test -s "$M/bus/address" || { cat "$M/bus/log"; return 1; }
BUS=$(head -n1 "$M/bus/address")
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
demo_note "The daemon starts in the new system: reports the reboot to the server, marks USR-B good:"
demo_run flatctl --root "$R" --disk "$D" update daemon --once --bus "$BUS"
demo_run flatctl --disk "$D" partition show

demo_note "The machine moves to the group 'beta', where 4116.0.0 waits (one more group in serve.json;"
demo_note "the server reads its configuration at start, so it is restarted):"
pack 4116.0.0
kill "$serve_pid" && wait "$serve_pid" 2>/dev/null
cat >"$M/srv/serve.json" <<'JSON'
{ "groups": {
    "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update-4081.2.0.gz" },
    "beta": { "version": "4116.0.0", "payload": "stable/flatcar_production_update-4116.0.0.gz" } } }
JSON
start_serve
printf 'SERVER=%s\nGROUP=beta\nMARK_GOOD_UNITS=kubelet.service\nMARK_GOOD_TIMEOUT=2\nROLLBACK_ON_FAILED_HEALTH=true\n' \
	"$SERVE_URL" >"$R/etc/flatcar/update.conf"
demo_note "and asks for a health check before a boot counts as good: kubelet.service must be active"
demo_run cat "$R/etc/flatcar/update.conf"
demo_run flatctl --root "$R" --disk "$D" -q update daemon --once --bus "$BUS"
demo_note "The reboot into USR-A with 4116.0.0, but kubelet never comes up (there is no systemd on"
demo_note "this bus at all): the boot is not marked good and USR-B becomes the next boot target:"
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
