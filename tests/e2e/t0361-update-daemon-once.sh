#!/bin/bash
# t0361-update-daemon-once: `update daemon --once` (docs/update.md 2.7, 8.1): one cycle with the
# exit code apply gives, one journal line per state change, the ping-only request while an
# update waits for its reboot, the post-reboot reports (3/2 with the version we came from; 3/0
# code 44 after a rollback), and the update_engine link (-foreground, -logtostderr ignored).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo '{}' >"$T/omaha.json"
echo "root=LABEL=ROOT mount.usr=PARTLABEL=USR-A" >"$R/proc-cmdline"
mkdir -p "$R/proc" && mv "$R/proc-cmdline" "$R/proc/cmdline"
daemon() { flatctl --root "$R" --disk "$D" update daemon --bus none "$@"; }

test_expect '--once installs like apply: exit 0, one line per state, events 3/2 13/1 14/1 3/1' '
	daemon --once 2>"$T/err" &&
	grep "status " "$T/err" | sed "s/^flatctl update: //; s/ [0-9]*% .*//" | uniq >"$T/lines" &&
	printf "%s\n" "status IDLE" "status CHECKING_FOR_UPDATE" "status UPDATE_AVAILABLE 4081.2.0" \
		"status DOWNLOADING 4081.2.0" "status VERIFYING 4081.2.0" "status FINALIZING 4081.2.0" \
		"status UPDATED_NEED_REBOOT 4081.2.0" >"$T/want" &&
	test_cmp "$T/want" "$T/lines" &&
	test_grep "^flatctl update: installed 4081.2.0 to USR-B; reboot to use it$" "$T/err" &&
	events >"$T/ev" && printf "3/2\n13/1\n14/1\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev" &&
	test "$(attrs 4)" = "2 1 0" && test "$(attrs 3)" = "1 0 1" &&
	test "$(part_sum 4 $((1024 * 1024)))" = "$(file_sum "$T/p.gz.img")" &&
	python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert all(x[\"installsource\"] == \"scheduler\" for x in r), r" "$T/requests.log"
'

test_expect 'waiting for the reboot: a ping-only request, exit 3, nothing installed again' '
	: >"$T/requests.log" && cp "$D" "$T/before.img" &&
	test_exit 3 daemon --once 2>"$T/err" &&
	python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; assert len(r) == 1 and r[0][\"ping\"] and not r[0][\"updatecheck\"] and not r[0][\"events\"], r" "$T/requests.log" &&
	cmp "$D" "$T/before.img"
'

test_expect 'after the reboot into 4081.2.0: 3/2 with the old version, USR-B marked good' '
	cgpt add -i 4 -T 0 "$D" &&
	echo "root=LABEL=ROOT mount.usr=PARTLABEL=USR-B" >"$R/proc/cmdline" &&
	sed -i s/3975.2.1/4081.2.0/ "$R/usr/share/flatcar/release" &&
	echo "{\"status\": \"noupdate\"}" >"$T/omaha.json" && : >"$T/requests.log" &&
	test_exit 3 daemon --once 2>"$T/err" &&
	test_grep "rebooted into 4081.2.0 (from 3975.2.1)" "$T/err" &&
	test_grep "marked USR-B good (successful, highest priority)" "$T/err" &&
	test "$(attrs 4)" = "2 0 1" &&
	python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); assert r[\"events\"] == [{\"eventtype\": \"3\", \"eventresult\": \"2\", \"previousversion\": \"3975.2.1\"}], r" "$T/requests.log" &&
	test "$(json_get "$S" "d[\"status\"], d[\"staged\"], d[\"report\"]")" = "UPDATE_STATUS_IDLE None None"
'

test_expect 'already good: nothing marked again; no bus needed' '
	cp "$D" "$T/before.img" &&
	test_exit 3 daemon --once 2>"$T/err" && ! grep -q "marked" "$T/err" && cmp "$D" "$T/before.img"
'

test_expect 'a rollback (another boot, old version): 3/0 code 44 reported with the next check' '
	sed -i s/4081.2.0/3975.2.1/ "$R/usr/share/flatcar/release" &&
	echo "root=LABEL=ROOT mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline" &&
	python3 - "$S" <<-PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["status"] = "UPDATE_STATUS_UPDATED_NEED_REBOOT"
	d["staged"] = {"version": "4081.2.0", "previous_version": "3975.2.1", "partition": "USR-B",
	               "partuuid": None, "boot_id": "00000000-0000-0000-0000-000000000000",
	               "size": 1, "installed_time": 1}
	json.dump(d, open(sys.argv[1], "w"))
	PY
	: >"$T/requests.log" &&
	test_exit 3 daemon --once 2>"$T/err" &&
	test_grep "rolled back: running 3975.2.1 again" "$T/err" &&
	events >"$T/ev" && test "$(cat "$T/ev")" = "3/0/44"
'

test_expect 'update_engine link: the daemon, -foreground and -logtostderr ignored' '
	ln -s "$FLATCTL" "$T/update_engine" &&
	test_exit 3 "$T/update_engine" -foreground -logtostderr --root "$R" --disk "$D" --bus none --once 2>"$T/err" &&
	test_grep "^flatctl update: status IDLE$" "$T/err" &&
	test_exit 2 "$T/update_engine" --frobnicate 2>"$T/err" && test_grep "unknown option" "$T/err"
'
test_done
