#!/bin/bash
# t0352-update-engine-client: the update_engine_client link name, gflags syntax, the frozen
# -status block and -reset_status (docs/update.md 2.8).
. "$(dirname "$0")/lib.sh"

R=$T/root
D=$T/disk.img
S=$R/var/lib/flatctl/update/state.json
mkdir -p "$R/usr/share/flatcar" "$R/var/lib/flatctl/update" "$R/run"
echo 'FLATCAR_RELEASE_VERSION=3975.2.1' >"$R/usr/share/flatcar/release"
ln -s "$FLATCTL" "$T/update_engine_client"
uec() { "$T/update_engine_client" "$@"; }

test_expect 'the link name is listed' '
	flatctl --list-links >"$T/links" && test_grep "^update_engine_client$" "$T/links"
'

test_expect '-status without state: five lines, idle, exit 0' '
	uec --root="$R" -status >"$T/out" &&
	printf "LAST_CHECKED_TIME=0\nPROGRESS=0.000000\nCURRENT_OP=UPDATE_STATUS_IDLE\nNEW_VERSION=0.0.0\nNEW_SIZE=0\n" >"$T/want" &&
	test_cmp "$T/want" "$T/out"
'

cat >"$S" <<'JSON'
{"schema": 1, "status": "UPDATE_STATUS_UPDATED_NEED_REBOOT", "last_checked_time": 1732550412,
 "progress": 1.0, "pending": null,
 "staged": {"version": "4081.2.0", "previous_version": "3975.2.1", "partition": "USR-B",
  "size": 478150731, "installed_time": 1732550990},
 "report": null, "last_error": null, "bad_payloads": []}
JSON

test_expect '-status, --status and -status=true with a staged update' '
	printf "LAST_CHECKED_TIME=1732550412\nPROGRESS=1.000000\nCURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT\nNEW_VERSION=4081.2.0\nNEW_SIZE=478150731\n" >"$T/want" &&
	for f in -status --status -status=true; do
		uec -root "$R" $f >"$T/out" && test_cmp "$T/want" "$T/out" || exit 1
	done &&
	uec --root "$R" -status | grep -q "^CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT$"
'

test_expect '-reset_status undoes the staged update; again when idle: exit 0' '
	"$MKDISK" -q --layout compact --state updated "$D" &&
	uec --root "$R" --disk "$D" -reset_status >/dev/null &&
	test "$(cgpt show -i 4 -P "$D") $(cgpt show -i 4 -T "$D")" = "0 0" &&
	uec --root "$R" -status | grep -q "^CURRENT_OP=UPDATE_STATUS_IDLE$" &&
	uec --root "$R" --disk "$D" -reset_status >/dev/null
'

test_expect 'unknown flag: exit 2 with the message of 2.8' '
	test_exit 2 uec --root "$R" -frobnicate 2>"$T/err" &&
	test_grep "^flatctl update_engine_client: unknown flag -frobnicate$" "$T/err" &&
	test_exit 2 uec --root "$R" status 2>"$T/err" &&
	test_grep "unknown flag status" "$T/err"
'

test_expect 'no flag at all: usage error' '
	test_exit 2 uec 2>"$T/err"
'
test_done
