#!/bin/bash
# t0363-update-daemon-health: the health-checked mark-good (docs/update.md 11,
# docs/update-daemon.md): MARK_GOOD_UNITS must be active (asked of a real systemd over its D-Bus
# API, org.freedesktop.systemd1) before the booted partition is marked good; a unit that comes up
# while the daemon waits is noticed from systemd's PropertiesChanged signal; when they do not
# come up within MARK_GOOD_TIMEOUT the boot is not marked, the daemon says why and runs no update
# cycle, and with ROLLBACK_ON_FAILED_HEALTH=true the other partition becomes the next boot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
. "$(dirname "$0")/lib-bus.sh"
setup_update
start_omaha --status noupdate
start_user_systemd
sed -i s/3975.2.1/4081.2.0/ "$R/usr/share/flatcar/release"
mkdir -p "$R/proc" && echo "mount.usr=PARTLABEL=USR-B" >"$R/proc/cmdline"
# the first boot of a new USR-B: GRUB spent its try; USR-A is the old, good one
rebooted() { "$MKDISK" -q --force --layout compact --usr-a 1:0:1 --usr-b 2:0:0 "$D"; }
conf() { { echo "SERVER=$OMAHA_URL" && printf '%s\n' "$@"; } >"$R/etc/flatcar/update.conf"; }
once() { flatctl --root "$R" --disk "$D" update daemon --bus user --once; }
export DBUS_SESSION_BUS_ADDRESS=$USER_BUS
user_unit good.service "[Service]
ExecStart=/bin/sleep 1000"
user_unit bad.service "[Service]
ExecStart=/bin/false"
user_unit slow.service "[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sleep 2"
user_systemctl start good.service
user_systemctl start bad.service || true

test_expect 'the test systemd is real: good active, bad failed' '
	test "$(user_systemctl is-active good.service)" = active &&
	test "$(user_systemctl is-active bad.service || :)" = failed
'

test_expect 'units active: the booted USR-B is marked good, then the update check runs' '
	rebooted && conf "MARK_GOOD_UNITS=good.service" &&
	test_exit 3 once 2>"$T/err" &&
	test_grep "marked USR-B good" "$T/err" &&
	test "$(attrs 4)" = "2 0 1" && test -s "$T/requests.log"
'

test_expect 'a failed unit: not marked, the reason given, no update cycle, exit 1' '
	rebooted && cp "$D" "$T/before.img" && : >"$T/requests.log" &&
	conf "MARK_GOOD_UNITS=good.service bad.service missing.service" "MARK_GOOD_TIMEOUT=1" &&
	test_exit 1 once 2>"$T/err" &&
	test_grep "^flatctl update: health check failed: bad.service is failed (failed), missing.service is not-found; USR-B not marked good$" "$T/err" &&
	test_grep "no update cycle in this boot" "$T/err" &&
	cmp "$D" "$T/before.img" && test ! -s "$T/requests.log"
'

test_expect 'ROLLBACK_ON_FAILED_HEALTH=true: USR-A becomes the next boot target' '
	rebooted && : >"$T/requests.log" &&
	conf "MARK_GOOD_UNITS=bad.service" "MARK_GOOD_TIMEOUT=1" "ROLLBACK_ON_FAILED_HEALTH=true" &&
	test_exit 1 once 2>"$T/err" &&
	test_grep "rolled back: USR-A is the next boot target" "$T/err" &&
	test "$(attrs 3)" = "2 0 1" && test "$(attrs 4)" = "1 0 0" &&
	flatctl --root "$R" --disk "$D" partition show --json >"$T/show" &&
	test "$(json_get "$T/show" "d[\"next\"]")" = USR-A && test ! -s "$T/requests.log"
'

test_expect 'a unit that comes up while the daemon waits: marked as soon as systemd says active' '
	rebooted && user_systemctl stop slow.service &&
	conf "MARK_GOOD_UNITS=good.service slow.service" "MARK_GOOD_TIMEOUT=10m" &&
	user_systemctl start --no-block slow.service &&
	test_exit 3 once 2>"$T/err" &&
	test_grep "not healthy yet (slow.service is activating (start)): waiting up to 600 s" "$T/err" &&
	test_grep "marked USR-B good" "$T/err" && test "$(attrs 4)" = "2 0 1"
'

test_expect 'bad configuration: exit 2 naming the file and line' '
	conf "MARK_GOOD_TIMEOUT=soon" &&
	test_exit 2 once 2>"$T/err" &&
	test_grep "^flatctl update: /etc/flatcar/update.conf:2: MARK_GOOD_TIMEOUT: .soon. is not a duration$" "$T/err" &&
	conf "ROLLBACK_ON_FAILED_HEALTH=maybe" && test_exit 2 once 2>/dev/null
'
test_done
