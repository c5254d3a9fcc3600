#!/bin/bash
# t0201-provision-validate: verdicts on the configs of tests/data/ignition, output formats, exit
# codes and the ignition-validate link (docs/provision.md §1.2, §1.3, §2, §8).
. "$(dirname "$0")/lib.sh"
DATA=$FLATCTL_SRC/tests/data/ignition

while read -r f want; do
	case $f in '#'*|'') continue ;; esac
	test_expect "fixture $f exits $want" "
		test_exit $want flatctl provision validate '$DATA/$f' >'$T/out' 2>'$T/err'
	"
done <"$DATA/fixture-verdicts.txt"

cat >"$T/bad.ign" <<'EOT'
{
  "ignition": {"version": "3.4.0"},
  "storage": {
    "filez": [],
    "files": [
      {"path": "/etc/a", "mode": 420},
      {"path": "etc/hostname", "contents": {"source": "data:,x"}}
    ]
  }
}
EOT

test_expect 'invalid config: exit 2, errors first, line:col, path, hint' '
	test_exit 2 flatctl provision validate "$T/bad.ign" >"$T/out" 2>"$T/err" &&
	head -1 "$T/out" | grep -qF "bad.ign:7:8: error: \$.storage.files[1].path: path must be absolute: \"etc/hostname\" (did you mean \"/etc/hostname\"?)" &&
	sed -n 2p "$T/out" | grep -qF "bad.ign:4:5: warning: \$.storage.filez: unknown key \"filez\" (did you mean \"files\"?)" &&
	test_grep "^flatctl provision: .*bad.ign: invalid: 1 error, 1 warning$" "$T/err"
'
test_expect '--json: one document with the fields of provision.md 1.2' '
	test_exit 2 flatctl provision validate --json "$T/bad.ign" >"$T/j" 2>/dev/null &&
	jq -e ".valid == false and .version == \"3.4.0\" and .translatedFrom == null" "$T/j" >/dev/null &&
	jq -e ".problems[0] | .severity == \"error\" and .path == \"\$.storage.files[1].path\" and .line == 7 and .column == 8 and .message == \"path must be absolute\" and .value == \"etc/hostname\" and .hint == \"did you mean \\\"/etc/hostname\\\"?\"" "$T/j" >/dev/null
'
test_expect '--json on a 2.x config names the version it was translated from' '
	flatctl provision validate --json "$DATA/spec2/2.0-networkd-static.ign" >"$T/j" &&
	jq -e ".valid and .version == \"2.0.0\" and .translatedFrom == \"2.0.0\"" "$T/j" >/dev/null
'
test_expect 'warnings alone: exit 0; --strict makes them errors (2)' '
	printf "{\"ignition\":{\"version\":\"3.0.0\"},\"storag\":{}}" >"$T/w.ign" &&
	flatctl provision validate "$T/w.ign" >"$T/out" 2>"$T/err" &&
	test_grep "warning: \\\$.storag: unknown key" "$T/out" &&
	test_exit 2 flatctl provision validate --strict "$T/w.ign" >"$T/out" 2>&1 &&
	test_grep "error: \\\$.storag" "$T/out"
'
test_expect 'field of a later version: warning with the version it needs' '
	printf "{\"ignition\":{\"version\":\"3.2.0\"},\"kernelArguments\":{}}" >"$T/k.ign" &&
	flatctl provision validate "$T/k.ign" >"$T/out" 2>/dev/null &&
	test_grep "unknown key \"kernelArguments\" (requires spec 3.3.0)" "$T/out"
'
test_expect 'stdin with -' '
	printf "{\"ignition\":{\"version\":\"3.1.0\"}}" | flatctl provision validate - >"$T/out" 2>&1
'
test_expect 'not JSON: exit 2 with line and column at $' '
	printf "{\n\"ignition\": {\"version\": \"3.4.0\"}\n,}" >"$T/nj.ign" &&
	test_exit 2 flatctl provision validate "$T/nj.ign" >"$T/out" 2>/dev/null &&
	test_grep "nj.ign:3:2: error: \\\$: invalid JSON" "$T/out"
'
test_expect 'cloud-config given as config: exit 2 naming it' '
	printf "#cloud-config\nhostname: a\n" >"$T/cc" &&
	test_exit 2 flatctl provision validate "$T/cc" >"$T/out" 2>/dev/null &&
	test_grep "this is a cloud-config, not an Ignition config" "$T/out"
'
test_expect 'unsupported version lists the accepted ones' '
	printf "{\"ignition\":{\"version\":\"3.9.0\"}}" >"$T/v.ign" &&
	test_exit 2 flatctl provision validate "$T/v.ign" >"$T/out" 2>/dev/null &&
	test_grep "unsupported config version \"3.9.0\": this flatctl accepts 2.0.0-2.4.0 and 3.0.0-3.6.0" "$T/out"
'
test_expect 'spec 1: exit 2 at $.ignition.version naming the accepted versions' '
	printf "{\"ignitionVersion\": 1}" >"$T/v1.ign" &&
	test_exit 2 flatctl provision validate --json "$T/v1.ign" >"$T/j" 2>/dev/null &&
	jq -e ".problems[0].path == \"\$.ignition.version\" and (.problems[0].message | test(\"spec 1.*2.0.0-2.4.0 and 3.0.0-3.6.0\"))" "$T/j" >/dev/null
'
test_expect 'config over 16 MiB: invalid (2)' '
	head -c 17000000 /dev/zero | tr "\\0" " " >"$T/huge.ign" &&
	test_exit 2 flatctl provision validate "$T/huge.ign" >"$T/out" 2>/dev/null &&
	test_grep "error: \\$: config is larger than 16 MiB" "$T/out"
'
test_expect 'unreadable file: exit 1' '
	test_exit 1 flatctl provision validate "$T/nope.ign" 2>"$T/err" &&
	test_grep "nope.ign: cannot read" "$T/err"
'
test_expect 'missing argument: usage error (2)' '
	test_exit 2 flatctl provision validate 2>"$T/err" &&
	test_grep "Try .flatctl provision --help." "$T/err"
'
test_expect 'ignition-validate link: same verdicts and format' '
	ln -s "$FLATCTL" "$T/ignition-validate" &&
	test_exit 2 "$T/ignition-validate" "$T/bad.ign" >"$T/out" 2>/dev/null &&
	test_grep "error: \\\$.storage.files\\[1\\].path: path must be absolute" "$T/out" &&
	"$T/ignition-validate" "$DATA/spec3/3.0-unit-enabled.ign" >/dev/null 2>&1
'
test_expect 'every long option in --help is in the man page' '
	flatctl provision --help >"$T/help" &&
	for o in $(grep -o -e "--[a-z][a-z-]*" "$T/help" | sort -u); do
		grep -q -e "$o" "$FLATCTL_SRC/man/flatctl-provision.1.scd" || { echo "missing $o"; exit 1; }
	done
'
test_done
