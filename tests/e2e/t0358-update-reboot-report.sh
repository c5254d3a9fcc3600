#!/bin/bash
# t0358-update-reboot-report: after a staged install, the next update check decides what the
# reboot did (docs/update.md 4.4, 6.6): still waiting, rolled back (3/0 code 44); and two rows
# of section 10: a disk without a USR-B partition (exit 2), a staging directory too small.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo '{"status": "noupdate"}' >"$T/omaha.json"

test_expect 'same boot, same version: still waiting, neutral event, staged kept' '
	flatctl --root "$R" --disk "$D" update apply --payload "$T/p.gz" --version 4081.2.0 >/dev/null &&
	: >"$T/requests.log" &&
	test_exit 3 flatctl --root "$R" update check >/dev/null &&
	events >"$T/ev" && test "$(cat "$T/ev")" = "3/2" &&
	test "$(json_get "$S" "d[\"status\"], d[\"staged\"][\"version\"]")" = "UPDATE_STATUS_UPDATED_NEED_REBOOT 4081.2.0"
'

test_expect 'another boot still on the old version: rollback report 3/0/44 until delivered' '
	python3 - "$S" <<-PY &&
	import json, sys
	d = json.load(open(sys.argv[1])); d["staged"]["boot_id"] = "00000000-0000-0000-0000-000000000000"
	json.dump(d, open(sys.argv[1], "w"))
	PY
	echo "{\"http_status\": 503}" >"$T/omaha.json" &&
	test_exit 75 flatctl --root "$R" update check 2>/dev/null &&
	test "$(json_get "$S" "d[\"report\"][\"errorcode\"], d[\"staged\"], d[\"status\"]")" = "44 None UPDATE_STATUS_IDLE" &&
	echo "{\"status\": \"noupdate\"}" >"$T/omaha.json" && : >"$T/requests.log" &&
	test_exit 3 flatctl --root "$R" update check >/dev/null &&
	events >"$T/ev" && test "$(cat "$T/ev")" = "3/0/44" &&
	test "$(json_get "$S" "d[\"report\"]")" = None &&
	: >"$T/requests.log" && test_exit 3 flatctl --root "$R" update check >/dev/null &&
	events >"$T/ev" && test "$(cat "$T/ev")" = "3/2"
'

test_expect 'disk without a USR-B partition: exit 2 naming it, nothing written' '
	"$MKDISK" -q --force --layout compact "$D" && sgdisk -c 4:DATA "$D" >/dev/null &&
	cp "$D" "$T/before.img" && rm -rf "$R/var" "$R/run" &&
	test_exit 2 flatctl --root "$R" --disk "$D" update apply --payload "$T/p.gz" 2>"$T/err" &&
	test_grep "no partition labelled USR-B" "$T/err" && cmp "$D" "$T/before.img"
'
test_expect 'staging directory too small: exit 1, code 14, both numbers, nothing written' '
	"$MKDISK" -q --force --layout compact "$D" && rm -rf "$R/var" "$R/run" &&
	cp "$D" "$T/before.img" && echo "{}" >"$T/omaha.json" &&
	mkdir -p "$R/var/lib/flatctl/update" &&
	mount -t tmpfs -o size=4m tmpfs "$R/var/lib/flatctl/update" &&
	trap "umount -l \"$R/var/lib/flatctl/update\" || true" EXIT &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply 2>"$T/err" &&
	test_grep "^flatctl update: /var/lib/flatctl/update: not enough space: need [0-9]*, have [0-9]*$" "$T/err" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 14 && cmp "$D" "$T/before.img"
'
test_done
