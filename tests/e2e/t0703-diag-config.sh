#!/bin/bash
# t0703-diag-config: mayday configuration files, profiles and commands (docs/diag.md §3.3, §4.2,
# §4.3, §7) and the configuration errors of §8.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-diag.sh"

R=$T/root
make_diag_root "$R" "$T/disk.img"
mkdir -p "$R/etc/mayday" "$R/usr/share/mayday" "$R/etc/flatctl/diag.d"
cat >"$T/cmds.json" <<'E'
{
  "files": [ { "name": "/etc/os-release", "link": "os-release" },
             { "name": "/etc/shadow" },
             { "name": "../../../etc/../etc/gshadow" },
             { "name": "/etc/hosts", "link": "hosts" } ],
  "directories": [ { "name": "/sys/fs/pstore", "link": "pstore" } ],
  "commands": [
    { "args": ["printf", "%s\n", "hello from printf", "password=hunter2pl4nted"], "link": "hello" },
    { "args": ["sleep", "100"] },
    { "args": ["no-such-program-flatctl"] },
    { "args": ["sh", "-c", "echo out; echo err >&2; exit 3"] },
    { "args": ["pwd"] }
  ],
  "builtin": false,
  "compress": true
}
E

test_expect 'a config with commands: output, exit status, timeout, missing program, links' '
	start=$(date +%s) &&
	FLATCTL_TEST_DIAG_TIMEOUT_MS=300 flatctl --root "$R" diag --offline -c "$T/cmds.json" -o "$T/c.tgz" 2>"$T/err" >/dev/null &&
	test $(( $(date +%s) - start )) -lt 20 &&
	test_grep "config .*cmds.json.: warning: /: unknown key .compress. ignored" "$T/err" &&
	mkdir "$T/c" && tar -xzf "$T/c.tgz" -C "$T/c" && X=$(echo "$T"/c/flatctl-diag-*) &&
	test "$(cat "$X/commands/printf_%s\n_hello_from_printf_password=hunter2pl4nted.txt" 2>/dev/null || cat "$X"/commands/printf_*)" = "hello from printf
password=[REDACTED]" &&
	test_grep "^out$" "$X/commands/sh_-c_echo_out;_echo_err_>&2;_exit_3.txt" &&
	test_grep "^err$" "$X/commands/sh_-c_echo_out;_echo_err_>&2;_exit_3.txt" &&
	test "$(cat "$X/commands/pwd.txt")" = "$R" &&
	test "$(readlink "$X/hello")" = "$(cd "$X" && ls commands/printf_*)" &&
	test "$(readlink "$X/os-release")" = files/etc/os-release &&
	test "$(readlink "$X/pstore")" = files/sys/fs/pstore &&
	cmp "$X/os-release" "$R/etc/os-release" &&
	test ! -e "$X/journal" && test ! -e "$X/disk" && test -e "$X/summary.txt" &&
	python3 - "$X/manifest.json" <<-PY
	import json, sys
	m = json.load(open(sys.argv[1]))
	assert m["config"].endswith("cmds.json"), m["config"]
	by = {i["path"]: i for i in m["items"]}
	s = by["commands/sleep_100.txt"]
	assert s["status"] == "timeout" and s["exit_status"] == 128 + 15, s
	n = by["commands/no-such-program-flatctl.txt"]
	assert (n["status"], n["reason"]) == ("skipped", "not found in PATH"), n
	f = by["commands/sh_-c_echo_out;_echo_err_>&2;_exit_3.txt"]
	assert (f["status"], f["exit_status"], f["reason"]) == ("failed", 3, "exit status 3"), f
	for p in ["files/etc/shadow", "files/etc/gshadow"]:
	    assert (by[p]["status"], by[p]["reason"]) == ("skipped", "excluded: may contain secrets"), by[p]
	assert by["hello"]["via"] == "link"
	PY
'

test_expect 'the search order: --profile, etc/flatctl/diag.json, etc/mayday, usr/share/mayday' '
	echo "{\"files\": [{\"name\": \"/etc/hostname\", \"link\": \"from-usr-share\"}], \"builtin\": false}" >"$R/usr/share/mayday/default.json" &&
	flatctl --root "$R" diag --offline -o "$T/o1.tgz" >/dev/null 2>&1 &&
	tar -tzf "$T/o1.tgz" | grep -q "/from-usr-share$" &&
	echo "{\"files\": [{\"name\": \"/etc/hostname\", \"link\": \"from-etc-mayday\"}], \"builtin\": false}" >"$R/etc/mayday/default.json" &&
	flatctl --root "$R" diag --offline -o "$T/o2.tgz" >/dev/null 2>&1 &&
	tar -tzf "$T/o2.tgz" | grep -q "/from-etc-mayday$" &&
	echo "{\"files\": [{\"name\": \"/etc/hostname\", \"link\": \"from-flatctl\"}], \"builtin\": false}" >"$R/etc/flatctl/diag.json" &&
	flatctl --root "$R" diag --offline -o "$T/o3.tgz" >/dev/null 2>&1 &&
	tar -tzf "$T/o3.tgz" | grep -q "/from-flatctl$" &&
	echo "{\"files\": [{\"name\": \"/etc/hosts\", \"link\": \"net\"}], \"builtin\": false}" >"$R/usr/share/mayday/net.json" &&
	ln -s "$FLATCTL" "$T/mayday" &&
	"$T/mayday" --root "$R" -p net --offline -o "$T/o4.tgz" >/dev/null 2>&1 &&
	tar -tzf "$T/o4.tgz" | grep -q "/net$" &&
	test_exit 2 flatctl --root "$R" diag -p nosuch -o "$T/o5.tgz" 2>"$T/err" &&
	test_grep "no profile .nosuch." "$T/err" && test ! -e "$T/o5.tgz" &&
	rm "$R/etc/flatctl/diag.json" "$R/etc/mayday/default.json" "$R/usr/share/mayday/default.json"
'

test_expect 'invalid JSON: exit 2 with the file, line and column' '
	printf "{\n  \"files\": [\n    {\"name\": }\n  ]\n}\n" >"$T/bad.json" &&
	test_exit 2 flatctl --root "$R" diag -c "$T/bad.json" -o "$T/bad.tgz" 2>"$T/err" &&
	test_grep "^flatctl diag: config .*bad.json.:3:14: invalid JSON: " "$T/err" &&
	test ! -e "$T/bad.tgz" && test ! -e "$T/bad.tgz.partial"
'

test_expect 'items of the wrong shape: exit 2 with the JSON pointer' '
	echo "{\"commands\": [{\"args\": [\"ls\"]}, {\"args\": []}, {\"args\": [\"ls\", 3]}], \"files\": [{\"name\": 5}]}" >"$T/shape.json" &&
	test_exit 2 flatctl --root "$R" diag -c "$T/shape.json" -o "$T/s.tgz" 2>"$T/err" &&
	test_grep ": /commands/1/args: must be a non-empty array of strings$" "$T/err" &&
	test_grep ": /commands/2/args/1: must be a string$" "$T/err" &&
	test_grep ": /files/0/name: must be a non-empty string$" "$T/err" &&
	echo "{\"files\": [{\"name\": \"/x\", \"link\": \"../up\"}]}" >"$T/link.json" &&
	test_exit 2 flatctl --root "$R" diag -c "$T/link.json" -o "$T/s.tgz" 2>"$T/err" &&
	test_grep ": /files/0/link: not a usable link name" "$T/err" &&
	test_exit 2 flatctl --root "$R" diag -c "$T/missing.json" -o "$T/s.tgz" 2>"$T/err" &&
	test ! -e "$T/s.tgz"
'

test_expect 'symlinks out of the root resolve inside it; FIFOs and devices are never opened' '
	ln -s /etc/shadow "$R/etc/evil-link" &&
	mkfifo "$R/etc/fifo" && mknod "$R/etc/null" c 1 3 &&
	echo "{\"files\": [{\"name\": \"/etc/evil-link\"}, {\"name\": \"/etc/fifo\"}, {\"name\": \"/etc/null\"}], \"builtin\": false}" >"$T/odd.json" &&
	timeout 20 "$FLATCTL" --root "$R" diag --offline -c "$T/odd.json" -o "$T/odd.tgz" >/dev/null 2>&1 &&
	tar -xzOf "$T/odd.tgz" --wildcards "*/manifest.json" >"$T/m.json" &&
	python3 - "$T/m.json" <<-PY
	import json, sys
	by = {i["path"]: i for i in json.load(open(sys.argv[1]))["items"]}
	e = by["files/etc/evil-link"]
	assert (e["status"], e["reason"], e["source"]) == ("skipped", "excluded: may contain secrets", "/etc/shadow"), e
	for p in ["files/etc/fifo", "files/etc/null"]:
	    assert (by[p]["status"], by[p]["reason"]) == ("skipped", "not a regular file or directory"), by[p]
	PY
'

test_done
