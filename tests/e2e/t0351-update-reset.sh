#!/bin/bash
# t0351-update-reset: `update reset` undoes a staged update on the GPT and in the state, clears a
# pending download, errors and backoff; lock busy is 75 (docs/update.md 2.4, 7.4).
. "$(dirname "$0")/lib.sh"

R=$T/root
D=$T/disk.img
S=$R/var/lib/flatctl/update/state.json
mkdir -p "$R/usr/share/flatcar" "$R/var/lib/flatctl/update" "$R/run"
echo 'FLATCAR_RELEASE_VERSION=3975.2.1' >"$R/usr/share/flatcar/release"

# attrs N: "priority tries successful" of partition N
attrs() { echo "$(cgpt show -i "$1" -P "$D") $(cgpt show -i "$1" -T "$D") $(cgpt show -i "$1" -S "$D")"; }

staged_state() {
	cat >"$S" <<-JSON &&
	{"schema": 1, "status": "UPDATE_STATUS_UPDATED_NEED_REBOOT", "last_checked_time": 7,
	 "progress": 1.0, "pending": null,
	 "staged": {"version": "4081.2.0", "previous_version": "3975.2.1", "partition": "$1",
	  "size": 4096, "installed_time": 8},
	 "report": null, "last_error": null, "bad_payloads": [], "keep_me": 42}
	JSON
	: >"$R/run/reboot-required"
}

test_expect 'nothing to reset: exit 3, no state written' '
	"$MKDISK" -q --layout compact --state fresh "$D" &&
	test_exit 3 flatctl --root "$R" --disk "$D" update reset >"$T/out" &&
	test_grep "nothing to reset" "$T/out" && test ! -e "$S"
'

test_expect 'staged on USR-B: USR-A first again, USR-B priority 0 tries 0, marker gone' '
	"$MKDISK" -q --force --layout compact --state updated "$D" &&
	test "$(attrs 4)" = "2 1 0" &&
	dd if=/dev/urandom of="$T/usrb" bs=4096 count=4 2>/dev/null &&
	off=$(( $(cgpt show -i 4 -b "$D") * 512 )) &&
	dd if="$T/usrb" of="$D" bs=4096 seek=$((off / 4096)) conv=notrunc 2>/dev/null &&
	staged_state USR-B &&
	flatctl --root "$R" --disk "$D" update reset >"$T/out" &&
	test_grep "staged update 4081.2.0 discarded" "$T/out" &&
	set -- $(attrs 3) && test "$2 $3" = "0 1" && test "$1" -ge 1 &&
	test "$(attrs 4)" = "0 0 0" &&
	flatctl --disk "$D" --json partition show >"$T/p.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"next\"] == \"USR-A\", d" "$T/p.json" &&
	test ! -e "$R/run/reboot-required" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"status\"] == \"UPDATE_STATUS_IDLE\" and d[\"staged\"] is None and d[\"keep_me\"] == 42, d" "$S" &&
	dd if="$D" bs=4096 skip=$((off / 4096)) count=4 2>/dev/null | cmp - "$T/usrb"
'

test_expect 'second reset has nothing left: exit 3' '
	test_exit 3 flatctl --root "$R" --disk "$D" update reset >/dev/null
'

test_expect 'mirror case: staged on USR-A while B runs' '
	"$MKDISK" -q --force --layout compact --state updated-a "$D" &&
	staged_state USR-A &&
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	test "$(attrs 3)" = "0 0 0" &&
	set -- $(attrs 4) && test "$1" -ge 1 && test "$3" = 1
'

test_expect 'pending download, partial file, error and backoff are discarded' '
	cat >"$S" <<-JSON &&
	{"schema": 1, "status": "UPDATE_STATUS_DOWNLOADING", "last_checked_time": 7, "progress": 0.5,
	 "pending": {"version": "4081.2.0", "urls": ["http://127.0.0.1:9/x.gz"], "name": "x.gz",
	  "size": 100, "sha256": "abc", "sha256_hex": null, "source": "omaha", "started_time": 1},
	 "staged": null, "report": null,
	 "last_error": {"code": 9, "name": "DownloadTransferError", "message": "m", "time": 1},
	 "backoff": {"payload_attempts": 2, "until": 99, "url_index": 0, "url_failures": 0},
	 "bad_payloads": ["abc"]}
	JSON
	head -c 50 /dev/zero >"$R/var/lib/flatctl/update/payload.part" &&
	cp "$D" "$T/before.img" &&
	flatctl --root "$R" --disk "$D" update reset >"$T/out" &&
	test_grep "pending download removed" "$T/out" &&
	test ! -e "$R/var/lib/flatctl/update/payload.part" &&
	cmp "$D" "$T/before.img" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"pending\"] is None and d[\"last_error\"] is None and d[\"bad_payloads\"] == [] and d[\"backoff\"][\"payload_attempts\"] == 0, d" "$S"
'

test_expect 'corrupt state is moved aside with a warning' '
	echo "garbage" >"$S" &&
	rc=0 && { flatctl --root "$R" --disk "$D" update reset >/dev/null 2>"$T/err" || rc=$?; } &&
	test "$rc" = 3 &&
	test_grep "warning: state.json unreadable, moved to /var/lib/flatctl/update/state.json.bad-" "$T/err" &&
	ls "$R"/var/lib/flatctl/update/state.json.bad-* >/dev/null
'

test_expect 'lock busy: exit 75 naming the holder, nothing changed' '
	"$MKDISK" -q --force --layout compact --state updated "$D" && staged_state USR-B &&
	cp "$D" "$T/before.img" && cp "$S" "$T/before.json" &&
	L=$R/var/lib/flatctl/update/lock &&
	rm -f "$L" &&
	{ flock -o "$L" sh -c "echo \$\$ >\"$L\"; exec sleep 30 >/dev/null 2>&1" & } && holder=$! &&
	trap "kill \$(cat \"$L\") $holder 2>/dev/null || true" EXIT &&
	test_wait_for 60 "grep -q . \"\$L\" 2>/dev/null" &&
	test_exit 75 flatctl --root "$R" --disk "$D" update reset 2>"$T/err" &&
	test_grep "^flatctl update: another update operation is running (pid [0-9]*, UPDATE_STATUS_UPDATED_NEED_REBOOT)$" "$T/err" &&
	cmp "$D" "$T/before.img" && cmp "$S" "$T/before.json" &&
	{ kill "$(cat "$L")" $holder && wait $holder 2>/dev/null || true; } &&
	flatctl --root "$R" --disk "$D" update reset >/dev/null
'
test_done
