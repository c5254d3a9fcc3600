#!/bin/bash
# t0704-diag-limits: a root where nothing is present, the bundle size limit (the manifest says
# what was cut), per-file caps, and the output rules of docs/diag.md §3 and §8.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-diag.sh"

R=$T/root
make_diag_root "$R" "$T/disk.img"

test_expect 'an empty root: a bundle of skipped items, exit 0' '
	mkdir "$T/empty" &&
	flatctl --root "$T/empty" --disk "$T/nodisk.img" diag -o "$T/e.tgz" >/dev/null 2>&1 &&
	tar -xzOf "$T/e.tgz" --wildcards "*/manifest.json" >"$T/m.json" &&
	python3 - "$T/m.json" <<-PY
	import json, sys
	m = json.load(open(sys.argv[1]))
	by = {i["path"]: i for i in m["items"]}
	assert by["summary.txt"]["status"] == "ok" and by["summary.json"]["status"] == "ok"
	assert all(i["status"] == "skipped" for p, i in by.items() if not p.startswith("summary")), \
	    [p for p, i in by.items() if i["status"] != "skipped"]
	assert by["journal/boot-0.txt"]["reason"] == "no journal", by["journal/boot-0.txt"]
	assert by["disk/gpt-primary.bin"]["reason"].startswith("no GPT disk found"), by["disk/gpt-primary.bin"]
	assert by["files/etc/os-release"]["reason"] == "not present"
	assert by["systemd/units.txt"]["reason"] == "no system bus under --root"
	PY
'

test_expect 'the bundle size limit: items in order until the cap, the rest skipped and said' '
	flatctl --root "$R" --disk "$T/disk.img" diag --offline --max-size 20K -o "$T/small.tgz" >/dev/null 2>&1 &&
	mkdir "$T/s" && tar -xzf "$T/small.tgz" -C "$T/s" && X=$(echo "$T"/s/flatctl-diag-*) &&
	python3 - "$X" <<-PY
	import json, os, sys
	x = sys.argv[1]
	m = json.load(open(os.path.join(x, "manifest.json")))
	assert m["cut"] == "bundle size limit" and m["limits"]["max_size"] == 20480, (m["cut"], m["limits"])
	items = [i for i in m["items"] if not i["path"].startswith("summary")]
	cut = [n for n, i in enumerate(items) if i["truncated"] and i["reason"] == "bundle size limit"]
	assert len(cut) == 1, cut
	c = items[cut[0]]
	assert open(os.path.join(x, c["path"]), "rb").read().endswith(b"bytes not collected: bundle size limit]\n"), c
	after = items[cut[0] + 1:]
	assert after and all(i["status"] == "skipped" and i["reason"] == "bundle size limit"
	                     for i in after if i["via"] != "link"), after
	used = sum(i["bytes"] for i in items if i["status"] != "skipped")
	assert used <= 20480, used
	assert os.path.exists(os.path.join(x, "manifest.json")) and os.path.exists(os.path.join(x, "summary.txt"))
	PY
'

test_expect 'a file over the 4 MiB cap: the first 4 MiB and a marker line' '
	mkdir -p "$R/var/log" && head -c 5000000 /dev/zero | tr "\0" "a" | fold -w 99 >"$R/var/log/big.log" &&
	echo "{\"files\": [{\"name\": \"/var/log/big.log\"}], \"builtin\": false}" >"$T/big.json" &&
	flatctl --root "$R" diag -c "$T/big.json" --offline -o "$T/big.tgz" >/dev/null 2>&1 &&
	tar -xzOf "$T/big.tgz" --wildcards "*/files/var/log/big.log" >"$T/big.out" &&
	total=$(stat -c %s "$R/var/log/big.log") &&
	test_grep "^\[flatctl diag: truncated, $(( total - 4194304 )) bytes not collected\]$" "$T/big.out" &&
	test "$(head -c 4194304 "$T/big.out" | cmp - <(head -c 4194304 "$R/var/log/big.log") && echo same)" = same
'

test_expect 'output: an existing file is refused (exit 2) unless --force' '
	echo old >"$T/exists.tgz" &&
	test_exit 2 flatctl --root "$T/empty" diag -o "$T/exists.tgz" 2>"$T/err" &&
	test_grep "exists; use --force" "$T/err" && test "$(cat "$T/exists.tgz")" = old &&
	flatctl --root "$T/empty" diag -o "$T/exists.tgz" --force >/dev/null 2>&1 &&
	gzip -t "$T/exists.tgz"
'

test_expect 'output in a missing directory: exit 1, nothing left behind' '
	test_exit 1 flatctl --root "$T/empty" diag -o "$T/nodir/b.tgz" 2>"$T/err" &&
	test_grep "^flatctl diag: creating .*nodir/b.tgz.partial.: No such file or directory$" "$T/err" &&
	test ! -e "$T/nodir"
'

test_expect 'a full disk: exit 1 and the partial file removed' '
	mkdir "$T/full" && mount -t tmpfs -o size=16k tmpfs "$T/full" && cleanup_mount "$T/full" &&
	head -c 300000 /dev/urandom | base64 >"$R/var/log/random.log" &&
	echo "{\"files\": [{\"name\": \"/var/log/random.log\"}], \"builtin\": false}" >"$T/rnd.json" &&
	test_exit 1 flatctl --root "$R" diag -c "$T/rnd.json" --offline -o "$T/full/b.tgz" 2>"$T/err" &&
	test_grep "^flatctl diag: writing .*full/b.tgz.partial.: " "$T/err" &&
	test -z "$(ls -A "$T/full")"
'

test_expect '-o - streams to stdout; --root that is not a directory is exit 2' '
	flatctl --root "$R" --disk "$T/disk.img" diag --offline -o - >"$T/stdout.tgz" 2>/dev/null &&
	tar -tzf "$T/stdout.tgz" | grep -q "/manifest.json$" &&
	test_exit 2 flatctl --root "$T/nope" diag -o "$T/x.tgz" 2>"$T/err" &&
	test_grep "^flatctl diag: root .*nope.: not a directory$" "$T/err" &&
	test_exit 2 flatctl --root "$R" diag --max-size 12Q -o "$T/x.tgz" 2>"$T/err" &&
	test ! -e "$T/x.tgz"
'

test_expect 'SOURCE_DATE_EPOCH sets the time of every member' '
	SOURCE_DATE_EPOCH=1700000000 flatctl --root "$R" --disk "$T/disk.img" diag --offline -o "$T/r1.tgz" >/dev/null 2>&1 &&
	python3 -c "import tarfile,sys; assert {m.mtime for m in tarfile.open(sys.argv[1])} == {1700000000}" "$T/r1.tgz"
'

test_done
