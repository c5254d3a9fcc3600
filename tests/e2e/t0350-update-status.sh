#!/bin/bash
# t0350-update-status: `update status` and `--json` from state.json (docs/update.md 2.3, 7.2, 9).
. "$(dirname "$0")/lib.sh"

R=$T/root
mkdir -p "$R/usr/share/flatcar" "$R/var/lib/flatctl/update"
echo 'FLATCAR_RELEASE_VERSION=3975.2.1' >"$R/usr/share/flatcar/release"
"$MKDISK" -q --layout compact --state updated "$T/disk.img"
S=$R/var/lib/flatctl/update/state.json

test_expect 'no state file: IDLE, exit 0, nothing written' '
	flatctl --root "$R" --disk "$T/disk.img" update status >"$T/out" &&
	test_grep "^status:          UPDATE_STATUS_IDLE$" "$T/out" &&
	test_grep "^current version: 3975.2.1 (booted from USR-A)$" "$T/out" &&
	test_grep "^new version:     none$" "$T/out" &&
	test_grep "^last check:      never$" "$T/out" &&
	test_grep "^last error:      none$" "$T/out" &&
	test ! -e "$S"
'

cat >"$S" <<'JSON'
{"schema": 1, "status": "UPDATE_STATUS_UPDATED_NEED_REBOOT", "last_checked_time": 1732550412,
 "aleph_version": "3815.2.0", "progress": 1.0, "pending": null,
 "staged": {"version": "4081.2.0", "previous_version": "3975.2.1", "partition": "USR-B",
  "partuuid": "e03dd35c-7c2d-4a47-b3fe-27f15780a57c", "boot_id": "8d3c1a4e-52b0-4f7e-9a61-2c7f0e5b9d13",
  "size": 478150731, "installed_time": 1732550990},
 "report": null, "last_error": null,
 "backoff": {"payload_attempts": 0, "until": 0, "url_index": 0, "url_failures": 0}, "bad_payloads": []}
JSON

test_expect 'staged update: the lines of section 9' '
	flatctl --root "$R" --disk "$T/disk.img" update status >"$T/out" &&
	cat >"$T/want" <<-EOT &&
	status:          UPDATE_STATUS_UPDATED_NEED_REBOOT
	current version: 3975.2.1 (booted from USR-A)
	new version:     4081.2.0 on USR-B (456.0 MiB), installed 2024-11-25 16:09:50 UTC
	last check:      2024-11-25 16:00:12 UTC
	last error:      none
	EOT
	test_cmp "$T/want" "$T/out"
'

test_expect 'status --json: the fields of section 9' '
	flatctl --root "$R" --disk "$T/disk.img" --json update status >"$T/out.json" &&
	python3 - "$T/out.json" <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	want = {"status": "UPDATE_STATUS_UPDATED_NEED_REBOOT", "current_version": "3975.2.1",
	        "new_version": "4081.2.0", "new_size": 478150731, "progress": 1.0,
	        "last_checked_time": 1732550412, "booted_partition": "USR-A",
	        "target_partition": "USR-B", "last_error": None}
	assert d == want, d
	PY
'

test_expect 'booted partition from proc/cmdline inside the root' '
	mkdir -p "$R/proc" &&
	echo "BOOT_IMAGE=/flatcar/vmlinuz-b mount.usr=PARTUUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c" >"$R/proc/cmdline" &&
	flatctl --root "$R" --disk "$T/disk.img" --json update status >"$T/out.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert (d[\"booted_partition\"], d[\"target_partition\"]) == (\"USR-B\", \"USR-A\"), d" "$T/out.json" &&
	rm -r "$R/proc"
'

test_expect 'no disk: partitions are null' '
	flatctl --root "$R" --disk "$T/nonexistent.img" --json update status >"$T/out.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"booted_partition\"] is None and d[\"target_partition\"] is None, d" "$T/out.json"
'

test_expect 'last error shown with its name and code' '
	python3 - "$S" <<-PY &&
	import json, sys
	d = json.load(open(sys.argv[1]))
	d["status"] = "UPDATE_STATUS_IDLE"; d["staged"] = None
	d["last_error"] = {"code": 18, "name": "DownloadPayloadPubKeyVerificationError", "message": "payload x: signature verification failed", "time": 5}
	json.dump(d, open(sys.argv[1], "w"))
	PY
	flatctl --root "$R" --disk "$T/disk.img" update status >"$T/out" &&
	test_grep "^last error:      DownloadPayloadPubKeyVerificationError (18): payload x: signature verification failed$" "$T/out" &&
	flatctl --root "$R" --disk "$T/disk.img" --json update status >"$T/out.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"last_error\"] == {\"code\": 18, \"name\": \"DownloadPayloadPubKeyVerificationError\", \"message\": \"payload x: signature verification failed\"}, d" "$T/out.json"
'

test_expect 'corrupt state: warning, shown as IDLE, file left alone (status never writes)' '
	echo "{ not json" >"$S" && cp "$S" "$T/corrupt" &&
	flatctl --root "$R" --disk "$T/disk.img" update status >"$T/out" 2>"$T/err" &&
	test_grep "^status:          UPDATE_STATUS_IDLE$" "$T/out" &&
	test_grep "^flatctl update: warning: ./var/lib/flatctl/update/state.json. unreadable" "$T/err" &&
	cmp "$S" "$T/corrupt" && test -z "$(ls "$R/var/lib/flatctl/update" | grep bad)"
'

test_expect 'unreadable state file: exit 1 naming it' '
	rm -f "$S" && mkdir "$S" &&
	test_exit 1 flatctl --root "$R" --disk "$T/disk.img" update status 2>"$T/err" &&
	test_grep "state.json" "$T/err" && rmdir "$S"
'

test_expect 'usage: missing and unknown verbs exit 2' '
	test_exit 2 flatctl --root "$R" update 2>"$T/err" && test_grep "Try .flatctl update --help." "$T/err" &&
	test_exit 2 flatctl --root "$R" update frobnicate 2>"$T/err" &&
	test_exit 2 flatctl --root "$R" update status extra 2>"$T/err"
'
test_done
