#!/bin/bash
# t0701-status: `flatctl status` on a planted root and an empty one, --json, non-root, the lock
# query budget (docs/diag.md §2, §8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-diag.sh"

R=$T/root
make_diag_root "$R" "$T/disk.img"
# status asks etcd when an endpoint is configured; this root's endpoint is a closed local port
sed -i '/^LOCKSMITHD_ENDPOINT=/d' "$R/etc/flatcar/update.conf"

test_expect 'the screen of a machine with a staged update' '
	flatctl --root "$R" --disk "$T/disk.img" status >"$T/out" &&
	cat >"$T/want" <<-EOT &&
	Flatcar Container Linux by Kinvolk 4230.2.4 (beta, amd64-usr)  host node-006
	Booted:        USR-B (partition 4), not yet successful, 1 try left
	Next boot:     USR-B (1 try left, then USR-A)
	Other:         USR-A priority 1, successful (rollback possible)
	GPT:           ok ($T/disk.img, 512-byte sectors)
	Update:        updated to 4230.2.5, reboot needed, last check 2025-10-16 19:46 UTC
	Reboot:        strategy reboot, window Mon 04:00 for 1h, lock held by this machine (1/1)
	Provisioning:  Ignition ran 2025-10-01 12:00 UTC, user config provided
	Failed units:  unknown (no system bus under --root)
	EOT
	test_cmp "$T/want" "$T/out" &&
	test "$(wc -l <"$T/out")" -le 24
'

test_expect 'status --json: every key, the same facts, reasons under unknown' '
	flatctl --root "$R" --disk "$T/disk.img" --json status >"$T/out.json" &&
	python3 - "$T/out.json" "$T/disk.img" <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert sorted(d) == sorted(["os", "host", "partitions", "update", "reboot", "provisioning",
	                            "failed_units", "unknown"]), sorted(d)
	assert d["os"]["version"] == "4230.2.4" and d["os"]["channel"] == "beta", d["os"]
	assert d["os"]["board"] == "amd64-usr", d["os"]
	assert d["host"] == "node-006"
	p = d["partitions"]
	assert (p["disk"], p["gpt"], p["booted"], p["next"]) == (sys.argv[2], "ok", "USR-B", "USR-B"), p
	assert [(u["label"], u["priority"], u["tries"], u["successful"]) for u in p["usr"]] == \
	       [("USR-A", 1, 0, True), ("USR-B", 2, 1, False)], p["usr"]
	u = d["update"]
	assert u["status"] == "UPDATE_STATUS_UPDATED_NEED_REBOOT" and u["new_version"] == "4230.2.5", u
	assert u["reboot_needed"] is True and u["last_check"] == "2025-10-16T19:46:40Z", u
	assert u["server"] == "https://[REDACTED]@updates.example/v1/update/", u
	r = d["reboot"]
	assert r["strategy"] == "reboot" and r["window"] == "Mon 04:00 1h", r
	assert r["lock"] == {"backend": "file", "holders": ["0123456789abcdef0123456789abcdef"], "max": 1}, r
	assert d["provisioning"] == {"ran": "2025-10-01T12:00:00Z", "user_config": True,
	                             "first_boot_pending": False, "result": "ok"}, d["provisioning"]
	assert d["failed_units"] is None
	assert d["unknown"] == {"failed_units": "no system bus under --root"}, d["unknown"]
	PY
'

test_expect 'an empty root: every line says unknown and why, exit 0' '
	mkdir "$T/empty" &&
	flatctl --root "$T/empty" --disk "$T/nodisk.img" status >"$T/out" &&
	test_grep "^OS unknown (etc/os-release: not present" "$T/out" &&
	test_grep "^Booted:        unknown (.*nodisk.img: No such file or directory)$" "$T/out" &&
	test_grep "^Update:        idle, last check never, server public$" "$T/out" &&
	test_grep "^Provisioning:  no record (etc/.ignition-result.json missing)$" "$T/out" &&
	flatctl --root "$T/empty" --disk "$T/nodisk.img" --json status >"$T/out.json" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"partitions\"] is None and \"partitions\" in d[\"unknown\"] and d[\"host\"] is None, d" "$T/out.json"
'

test_expect 'a first boot not yet provisioned' '
	mkdir -p "$T/fb/boot/flatcar" && touch "$T/fb/boot/flatcar/first_boot" &&
	flatctl --root "$T/fb" --disk "$T/disk.img" status >"$T/out" &&
	test_grep "^Provisioning:  first boot pending (Ignition has not run yet)$" "$T/out"
'

test_expect '--root that is not a directory: exit 2' '
	test_exit 2 flatctl --root "$T/missing" status 2>"$T/err" &&
	test_grep "^flatctl status: root .*missing.: not a directory$" "$T/err" &&
	test_exit 2 flatctl status --bogus 2>"$T/err"
'

test_expect 'etcd-lock with an endpoint that does not answer: lock unknown within the budget' '
	cp -r "$R" "$T/etcdroot" &&
	sed -i "/^LOCKSMITHD_ETCD_KEYFILE=/d" "$T/etcdroot/etc/flatcar/update.conf" &&
	printf "REBOOT_STRATEGY=etcd-lock\nLOCKSMITHD_ENDPOINT=http://127.0.0.1:9\n" >>"$T/etcdroot/etc/flatcar/update.conf" &&
	start=$(date +%s%N) &&
	flatctl --root "$T/etcdroot" --disk "$T/disk.img" status >"$T/out" &&
	test $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 &&
	test_grep "^Reboot:        strategy etcd-lock, .*lock unknown (etcd not reachable within 2000 ms)$" "$T/out" &&
	flatctl --root "$T/etcdroot" --disk "$T/disk.img" status --offline >"$T/out" &&
	test_grep "lock unknown (--offline: etcd not asked)$" "$T/out"
'

test_expect 'a user who may not read everything sees the rest and what was left out' '
	chmod 755 "$T" &&
	chmod 700 "$R/var/lib/flatctl/update" "$R/var/lib/flatctl/rebootlock" &&
	chmod 600 "$R/etc/.ignition-result.json" "$T/disk.img" &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FLATCTL" --root "$R" --disk "$T/disk.img" status >"$T/out" &&
	test_grep "^Flatcar Container Linux by Kinvolk 4230.2.4 (beta, amd64-usr)  host node-006$" "$T/out" &&
	test_grep "^Booted:        unknown (.*disk.img: permission denied)$" "$T/out" &&
	test_grep "^Update:        unknown (state.json: permission denied)" "$T/out" &&
	test_grep "^Provisioning:  unknown (etc/.ignition-result.json: permission denied)$" "$T/out" &&
	test_grep "^Not shown (permission denied as uid 65534): partitions, update, reboot.lock, provisioning$" "$T/out" &&
	chmod 755 "$R/var/lib/flatctl/update" "$R/var/lib/flatctl/rebootlock" && chmod 644 "$T/disk.img"
'

test_done
