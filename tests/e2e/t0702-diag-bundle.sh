#!/bin/bash
# t0702-diag-bundle: `flatctl diag` on the planted machine: the members of docs/diag.md §3.1
# read back with GNU tar and Python's tarfile, the journal of two boots through sd-journal,
# pstore records, the GPT sectors, the manifest's records and counts, the excluded paths.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-diag.sh"

R=$T/root
make_diag_root "$R" "$T/disk.img"
B=$T/b.tgz

test_expect 'a bundle is written 0600 and its path printed' '
	SOURCE_DATE_EPOCH=1760644600 flatctl --root "$R" --disk "$T/disk.img" diag --offline -o "$B" >"$T/out" 2>"$T/err" &&
	test "$(cat "$T/out")" = "$B" &&
	test "$(stat -c %a "$B")" = 600 &&
	test ! -e "$B.partial" &&
	test_grep "^flatctl diag: [0-9]* items: .* redactions; [0-9]* bytes before compression$" "$T/err"
'

test_expect 'GNU tar and Python read the same members, in the order of the layout' '
	tar -tzf "$B" >"$T/list" &&
	python3 - "$B" "$T/list" <<-PY
	import sys, tarfile
	t = tarfile.open(sys.argv[1])
	names = t.getnames()
	assert names == [n.rstrip("/") for n in open(sys.argv[2]).read().split()], "tar and tarfile disagree"
	top = names[0]
	assert top.startswith("flatctl-diag-node-006-") and all(n == top or n.startswith(top + "/") for n in names)
	rel = [n[len(top) + 1:] for n in names[1:]]
	for m in ["summary.txt", "summary.json", "manifest.json", "files/etc/os-release",
	          "files/usr/share/flatcar/release", "files/etc/flatcar/update.conf",
	          "files/etc/systemd/network/wg0.netdev", "files/etc/systemd/system/app.service",
	          "files/etc/.ignition-result.json", "files/oem/grub.cfg", "files/proc/cmdline",
	          "files/var/lib/flatctl/update/state.json", "files/sys/fs/pstore/dmesg-ramoops-0",
	          "files/sys/fs/pstore/dmesg-efi-176060000001001.enc.z",
	          "files/var/lib/systemd/pstore/1760600000/001/dmesg.txt",
	          "disk/partitions.json", "disk/cgpt-show.txt", "disk/gpt-primary.bin",
	          "disk/gpt-backup.bin", "journal/boot-0.txt", "journal/boot-1.txt",
	          "journal/errors-7d.txt", "journal/flatcar-7d.txt", "coredumps.txt"]:
	    assert m in rel, m
	order = ["summary.txt", "files/etc/os-release", "disk/partitions.json", "journal/boot-0.txt",
	         "coredumps.txt", "manifest.json"]
	assert [rel.index(m) for m in order] == sorted(rel.index(m) for m in order), rel
	for m in t.getmembers():
	    assert m.uid == 0 and m.gid == 0 and m.mtime == 1760644600, m.name
	    assert m.type in (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE), m.name
	    assert m.mode == (0o755 if m.isdir() else 0o644), (m.name, oct(m.mode))
	PY
'

mkdir "$T/x"
tar -xzf "$B" -C "$T/x"
# shellcheck disable=SC2034 # read by the test bodies
X=$(echo "$T"/x/flatctl-diag-*)

test_expect 'never-collected paths are absent and listed as excluded' '
	test ! -e "$X/files/etc/shadow" && test ! -e "$X/files/home" &&
	test ! -e "$X/files/etc/systemd/system/app.service.d/tls.conf" &&
	test ! -e "$X/files/etc/systemd/system/multi-user.target.wants" &&
	python3 - "$X/manifest.json" <<-PY
	import json, sys
	m = json.load(open(sys.argv[1]))
	by = {i["path"]: i for i in m["items"]}
	r = by["files/etc/systemd/system/app.service.d/tls.conf"]
	assert (r["status"], r["reason"]) == ("skipped", "excluded: may contain secrets"), r
	for p in ["files/usr/share/oem/grub.cfg", "files/run/systemd/network"]:
	    assert (by[p]["status"], by[p]["reason"]) == ("skipped", "not present"), by[p]
	PY
'

test_expect 'the journal of this boot and the previous one, errors and Flatcar units' '
	test_grep "^2025-10-16T19:55:35.000000+00:00 node-006 kernel\[115\]: Linux version 6.6.1-flatcar$" "$X/journal/boot-0.txt" &&
	test "$(wc -l <"$X/journal/boot-0.txt")" = 4 &&
	test_grep "^2025-10-16T07:33:20.000000+00:00 node-006 kernel\[100\]: Linux version 6.6.0-flatcar$" "$X/journal/boot-1.txt" &&
	test_grep "app\[113\]: \[16 bytes of binary data\]$" "$X/journal/boot-1.txt" &&
	test_grep "locksmithd\[114\]: line one$" "$X/journal/boot-1.txt" &&
	test_grep "^    line two of a multi-line message$" "$X/journal/boot-1.txt" &&
	test_grep "app\[107\]: \[REDACTED private key\]$" "$X/journal/boot-1.txt" &&
	! grep -q "app\[108\]" "$X/journal/boot-1.txt" &&
	test_grep "web\[119\]: GET / 200 (between the lines of app.s key)$" "$X/journal/boot-1.txt" &&
	test_grep "EXT4-fs error" "$X/journal/errors-7d.txt" &&
	! grep -q "Linux version" "$X/journal/errors-7d.txt" &&
	test_grep "update_engine\[117\]: Update succeeded" "$X/journal/flatcar-7d.txt" &&
	test_grep "ignition\[101\]: GET https://cfg.example/node.ign?token=\[REDACTED\]" "$X/journal/flatcar-7d.txt" &&
	! grep -q "kernel\[" "$X/journal/flatcar-7d.txt"
'

test_expect 'pstore records: text redacted, binary kept byte for byte' '
	test_grep "Kernel panic - not syncing: VFS" "$X/files/sys/fs/pstore/dmesg-ramoops-0" &&
	test_grep "password=\[REDACTED\]" "$X/files/sys/fs/pstore/dmesg-ramoops-0" &&
	cmp "$R/sys/fs/pstore/dmesg-efi-176060000001001.enc.z" "$X/files/sys/fs/pstore/dmesg-efi-176060000001001.enc.z" &&
	cmp "$R/var/lib/systemd/pstore/1760600000/001/dmesg.txt" "$X/files/var/lib/systemd/pstore/1760600000/001/dmesg.txt"
'

test_expect 'the GPT: partition show, cgpt show and the raw sectors of both copies' '
	flatctl --root "$R" --disk "$T/disk.img" --json partition show >"$T/ps.json" &&
	test_cmp "$T/ps.json" "$X/disk/partitions.json" &&
	test_grep "USR-B" "$X/disk/cgpt-show.txt" &&
	test "$(stat -c %s "$X/disk/gpt-primary.bin")" = $(( 34 * 512 )) &&
	test "$(stat -c %s "$X/disk/gpt-backup.bin")" = $(( 33 * 512 )) &&
	cmp -n $(( 34 * 512 )) "$T/disk.img" "$X/disk/gpt-primary.bin" &&
	size=$(stat -c %s "$T/disk.img") &&
	tail -c $(( 33 * 512 )) "$T/disk.img" | cmp - "$X/disk/gpt-backup.bin"
'

test_expect 'manifest: one record per item, counts that match the members' '
	python3 - "$X" <<-PY
	import json, os, sys
	x = sys.argv[1]
	m = json.load(open(os.path.join(x, "manifest.json")))
	assert m["root"] and m["start"] and m["end"] and m["flatctl"], m
	assert m["limits"]["max_size"] == 64 << 20 and m["cut"] is None, m["limits"]
	by = {i["path"]: i for i in m["items"]}
	for i in m["items"]:
	    assert set(i) >= {"path", "source", "bytes", "truncated", "redactions", "status", "reason"}, i
	    assert i["status"] in ("ok", "skipped", "failed", "timeout"), i
	    f = os.path.join(x, i["path"])
	    if i["status"] in ("ok", "failed", "timeout") and i.get("via") != "directory":
	        assert os.path.getsize(f) == i["bytes"], (i, os.path.getsize(f))
	    if i["status"] == "skipped":
	        assert not os.path.exists(f) and i["reason"], i
	assert by["files/etc/flatcar/update.conf"]["redactions"] == 4, by["files/etc/flatcar/update.conf"]
	assert by["files/etc/systemd/network/wg0.netdev"]["redactions"] == 2
	assert by["files/etc/systemd/system/app.service"]["redactions"] == 3
	assert by["files/oem/grub.cfg"]["redactions"] == 1
	assert by["journal/boot-1.txt"]["redactions"] >= 9, by["journal/boot-1.txt"]
	assert by["journal/boot-0.txt"]["lines"] == 4
	assert by["systemd/units.txt"]["reason"] == "no system bus under --root"
	assert by["disk/block-devices.txt"]["status"] == "skipped"
	PY
'

test_expect 'summary.txt and summary.json are the status of the same root' '
	flatctl --root "$R" --disk "$T/disk.img" status --offline >"$T/st.txt" &&
	test_cmp "$T/st.txt" "$X/summary.txt" &&
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"partitions\"][\"booted\"] == \"USR-B\" and d[\"os\"][\"version\"] == \"4230.2.4\", d" "$X/summary.json"
'

test_expect 'coredumps: names, sizes and times, never the cores' '
	test_grep "^core.app.0.bbbb.1234.1760644600000000.zst 4 " "$X/coredumps.txt" &&
	! grep -rq "^core$" "$X"
'

test_expect 'the same machine as a mayday bundle (the link name)' '
	ln -s "$FLATCTL" "$T/mayday" &&
	"$T/mayday" --root "$R" --disk "$T/disk.img" --offline -o "$T/m.tgz" -d 2>"$T/err" >/dev/null &&
	test_grep "warning: --danger changes nothing" "$T/err" &&
	tar -tzf "$T/m.tgz" | grep -q "/journal/boot-1.txt$" &&
	test_exit 2 "$T/mayday" --root "$R" -c "$T/a.json" -p x 2>"$T/err" &&
	test_grep "cannot be used with --config" "$T/err"
'

test_done
