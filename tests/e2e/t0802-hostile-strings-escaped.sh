#!/bin/bash
# t0802-hostile-strings-escaped: strings from an Omaha server, a lock value or a config reach the
# terminal escaped (docs/coding-style.md §2): a newline (&#10;) or a C1 NEL (U+0085) in an answer
# cannot forge an "update available" line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((64 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
check() { flatctl --root "$R" --disk "$D" "$@" update check; }
NEL=$(printf '\302\205')
H=$(openssl dgst -sha256 -binary "$T/p.gz" | base64)
SIZE=$(stat -c %s "$T/p.gz")

# answer APP-STATUS UC-STATUS CODEBASE: the server sends this Nebraska answer verbatim
answer() {
	printf '<response protocol="3.0" server="nebraska"><daystart elapsed_seconds="0"></daystart><app appid="{e96281a6-d1af-4bde-9a0a-97b76e56dc57}" status="%s"><ping status="ok"></ping><updatecheck status="%s"><urls><url codebase="%s"></url></urls><manifest version="4081.2.0"><packages><package name="p.gz" hash="x" hash_sha256="%s" size="%s" required="true"></package></packages><actions><action event="postinstall" sha256="%s" needsadmin="false" IsDeltaPayload="false" DisablePayloadBackoff="true"></action></actions></manifest></updatecheck><event status="ok"></event></app></response>' \
		"$1" "$2" "$3" "$H" "$SIZE" "$H" >"$T/answer.xml" &&
	echo "{\"response_file\": \"$T/answer.xml\"}" >"$T/omaha.json"
}
# one_line FILE: FILE holds exactly one line, and no raw control or NEL
one_line() {
	test "$(wc -l <"$1")" = 1 &&
	! grep -q "$NEL" "$1" &&
	! grep -q "^update available" "$1" &&
	! LC_ALL=C grep -q "[[:cntrl:]]" "$1"
}
# shellcheck disable=SC2034 # used inside test_expect bodies (eval)
FORGE='update available: 9999.0.0 (1 B) from http://evil/'
# shellcheck disable=SC2034 # used inside test_expect bodies (eval)
OK_URL=http://127.0.0.1:$PORT/payloads/

test_expect 'updatecheck status with a newline: one escaped line, nothing forged' '
	answer ok "error-x&#10;$FORGE" "$OK_URL" &&
	test_exit 1 check >"$T/out" 2>"$T/err" &&
	test ! -s "$T/out" &&
	one_line "$T/err" &&
	test_grep "server refused: error-x\\\\x0aupdate available: 9999" "$T/err"
'
test_expect 'updatecheck status with a C1 NEL: escaped as \xc2\x85' '
	answer ok "noupdate${NEL}$FORGE" "$OK_URL" &&
	test_exit 1 check >"$T/out" 2>"$T/err" &&
	test ! -s "$T/out" &&
	one_line "$T/err" &&
	test_grep "noupdate\\\\xc2\\\\x85update available: 9999" "$T/err"
'
test_expect 'app status (a refusal) with newline and NEL' '
	answer "x&#10;$FORGE${NEL}y" ok "$OK_URL" &&
	test_exit 1 check >"$T/out" 2>"$T/err" &&
	test ! -s "$T/out" &&
	one_line "$T/err" &&
	test_grep "x\\\\x0aupdate available: 9999.*\\\\xc2\\\\x85y" "$T/err"
'
test_expect 'codebase with newline and NEL: refused in one escaped line' '
	answer ok ok "http://127.0.0.1:$PORT/payloads/&#10;$FORGE${NEL}/" &&
	test_exit 1 check >"$T/out" 2>"$T/err" &&
	test ! -s "$T/out" &&
	one_line "$T/err" &&
	test_grep "codebase .*payloads/\\\\x0aupdate available: 9999.*\\\\xc2\\\\x85/" "$T/err" &&
	test_exit 1 flatctl --root "$R" --disk "$D" update apply --dry-run >"$T/out" 2>"$T/err" &&
	test ! -s "$T/out" &&
	one_line "$T/err"
'
test_expect 'update status shows the recorded error escaped, on its own line' '
	flatctl --root "$R" --disk "$D" update status >"$T/out" &&
	test "$(wc -l <"$T/out")" = 5 &&
	! grep -q "$NEL" "$T/out" &&
	! grep -q "^update available" "$T/out" &&
	test_grep "^last error:      OmahaResponseInvalid (34): .*payloads/\\\\x0aupdate available" "$T/out" &&
	flatctl --root "$R" --disk "$D" update status --json >"$T/out.json" &&
	! grep -q "$NEL" "$T/out.json" &&
	test_grep "\\\\u0085" "$T/out.json"
'
test_expect 'an honest answer is still offered on one line' '
	answer ok ok "$OK_URL" &&
	check >"$T/out" &&
	test "$(cat "$T/out")" = "update available: 4081.2.0 (64.4 KiB) from ${OK_URL}p.gz"
'
test_expect 'a corrupt lock value is shown escaped when set-max --reset replaces it' '
	mkdir -p "$R/var/lib/flatctl/rebootlock" "$R/etc" &&
	printf "{\"semaphore\":1,\"max\":1,\"holders\":[]}\n%s\n" "$FORGE${NEL}" >"$R/var/lib/flatctl/rebootlock/semaphore" &&
	flatctl --root "$R" lock set-max 2 --reset >"$T/out" 2>"$T/err" &&
	test_grep "^Max: 2$" "$T/out" &&
	one_line "$T/err" &&
	test_grep "replaced corrupt value .*\\\\x0aupdate available: 9999.*\\\\xc2\\\\x85\\\\x0a" "$T/err"
'
test_expect 'a config string in a provision problem is escaped' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/a\\\\n$FORGE\\\\u0085\",\"mode\":-1}]}}" >"$T/c.ign" &&
	test_exit 2 flatctl provision validate "$T/c.ign" >"$T/out" 2>"$T/err" &&
	! grep -q "$NEL" "$T/out" "$T/err" &&
	! grep -q "^update available" "$T/out" "$T/err" &&
	test_grep "\\\\x0aupdate available" "$T/out"
'
test_expect 'provision --dry-run: a path with newline and NEL is planned escaped, JSON in ASCII' '
	mkdir -p "$T/proot" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/a\\\\nupdate available: 9999\\\\u0085b\",\"contents\":{\"source\":\"data:,x\"}}]}}" >"$T/p.ign" &&
	flatctl provision --root "$T/proot" --dry-run --config "$T/p.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/a\\\\x0aupdate available: 9999.*\\\\xc2\\\\x85b 0644" "$T/out" &&
	! grep -q "$NEL" "$T/out" "$T/err" &&
	! grep -q "^update available" "$T/out" "$T/err" &&
	flatctl provision --root "$T/proot" --dry-run --config "$T/p.ign" --json >"$T/out.json" &&
	! grep -q "$NEL" "$T/out.json" &&
	test_grep "\\\\u0085b" "$T/out.json" &&
	test ! -e "$T/proot/etc"
'
test_expect 'a partition label from the disk (newline, ESC) is escaped by partition show and cgpt show' '
	"$MKDISK" -q --layout compact "$T/lbl.img" &&
	sgdisk -c 6:"$(printf "OEM\nPART  9  forged\033[2J")" "$T/lbl.img" >/dev/null &&
	ln -s "$FLATCTL" "$T/cgpt" &&
	cp "$T/lbl.img" "$T/usr.img" &&
	sgdisk -c 4:"$(printf "USR-B\nforged")" "$T/usr.img" >/dev/null &&
	flatctl --disk "$T/usr.img" partition show >"$T/out" &&
	test_grep "^   4  USR-B\\\\x0aforged  " "$T/out" &&
	! grep -q "^forged" "$T/out" &&
	"$T/cgpt" show -i 6 -l "$T/lbl.img" >"$T/out" &&
	test "$(cat "$T/out")" = "OEM\x0aPART  9  forged\x1b[2J" &&
	"$T/cgpt" show "$T/lbl.img" >"$T/out" &&
	test_grep "Label: \"OEM\\\\x0aPART  9  forged\\\\x1b\\[2J\"" "$T/out" &&
	! grep -q "^PART" "$T/out" &&
	! LC_ALL=C grep -q "[[:cntrl:]]" "$T/out"
'
stop_omaha
test_done
