#!/bin/bash
# t0354-update-check: `update check` against the loopback Omaha server (docs/update.md §2.1, §4,
# §9, §10): offers, no update, refusals, disabled updates, malformed and invalid answers, HTTP
# errors, oversized answers, the request and its neutral event.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
setconf() { echo "$1" >"$T/omaha.json"; }
check() { flatctl --root "$R" --disk "$D" "$@" update check; }

test_expect 'update offered: exit 0, the line of section 9' '
	check >"$T/out" &&
	test_grep "^update available: 4081.2.0 (1.0 MiB) from http://127.0.0.1:$PORT/payloads/p.gz$" "$T/out"
'

test_expect 'the request carries our attributes and the neutral 3/2 event' '
	python3 - "$T/requests.log" <<-PY
	import json, sys
	r = json.loads(open(sys.argv[1]).readlines()[-1])
	a = r["app"]
	assert r["installsource"] == "ondemandupdate", r
	assert a["appid"] == "{e96281a6-d1af-4bde-9a0a-97b76e56dc57}", a
	assert a["version"] == "3975.2.1" and a["track"] == "stable" and a["board"] == "amd64-usr", a
	assert a["machineid"] == "4f2a9c0d1e8b47c6a5d3b2e1f0a9c8d7" and a["alephversion"] == "3975.2.1", a
	assert r["updatecheck"] and r["events"] == [{"eventtype": "3", "eventresult": "2", "previousversion": ""}], r
	PY
'

test_expect 'check records last_checked_time and the aleph version, nothing else' '
	test "$(json_get "$S" "d[\"status\"], d[\"aleph_version\"], d[\"last_checked_time\"] > 0")" = "UPDATE_STATUS_IDLE 3975.2.1 True" &&
	test ! -e "$PART"
'

test_expect 'check --json: the fields of section 9' '
	check --json >"$T/out.json" &&
	python3 - "$T/out.json" "$PORT" "$(openssl dgst -sha256 -binary "$T/p.gz" | base64)" <<-PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["update_available"] is True and d["version"] == "4081.2.0", d
	assert d["size"] == $(stat -c %s "$T/p.gz") and d["sha256"] == sys.argv[3], d
	assert d["urls"] == ["http://127.0.0.1:%s/payloads/p.gz" % sys.argv[2]], d
	assert d["current_version"] == "3975.2.1" and d["group"] == "stable", d
	assert d["server"] == "http://127.0.0.1:%s/v1/update/" % sys.argv[2], d
	PY
'

test_expect 'no update: exit 3, reason noupdate' '
	setconf "{\"status\": \"noupdate\"}" &&
	test_exit 3 check >"$T/out" &&
	test_grep "^no update: 3975.2.1 is current (group stable, http://127.0.0.1:$PORT/v1/update/)$" "$T/out" &&
	test_exit 3 check --json >"$T/out.json" &&
	test "$(json_get "$T/out.json" "d[\"update_available\"], d[\"reason\"]")" = "False noupdate"
'

test_expect '--group is sent as track' '
	test_exit 3 flatctl --root "$R" update check --group beta >/dev/null &&
	python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); assert r[\"app\"][\"track\"] == \"beta\", r" "$T/requests.log"
'

test_expect 'refusals: rollout limit 75, paused group 3, unknown group 1 with the status' '
	setconf "{\"status\": \"error-maxUpdatesPerPeriodLimitReached\"}" &&
	test_exit 75 check 2>"$T/err" && test_grep "server refused: error-maxUpdatesPerPeriodLimitReached" "$T/err" &&
	setconf "{\"status\": \"error-updatesDisabled\"}" && test_exit 3 check 2>/dev/null &&
	setconf "{\"status\": \"error-unknownApplicationOrGroup\"}" &&
	test_exit 1 check 2>"$T/err" &&
	test_grep "^flatctl update: http://127.0.0.1:$PORT/v1/update/: server refused: error-unknownApplicationOrGroup (track \"stable\")$" "$T/err"
'

test_expect 'malformed XML: exit 1, line number, event 3/0/31' '
	printf "<response protocol=\"3.0\"><app" >"$T/bad.xml" &&
	setconf "{\"response_file\": \"$T/bad.xml\"}" && : >"$T/requests.log" &&
	test_exit 1 check 2>"$T/err" &&
	test_grep "^flatctl update: http://127.0.0.1:$PORT/v1/update/: malformed Omaha response: line 1: " "$T/err" &&
	events >"$T/ev" && test "$(tail -n 1 "$T/ev")" = "3/0/31" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 31
'

test_expect 'well-formed but no sha256: invalid Omaha response, event 3/0/34' '
	sed "s/ sha256=\"[^\"]*\"//" "$FLATCTL_SRC/tests/data/omaha/response-nebraska-update.xml" >"$T/nosha.xml" &&
	setconf "{\"response_file\": \"$T/nosha.xml\"}" && : >"$T/requests.log" &&
	test_exit 1 check 2>"$T/err" &&
	test_grep "invalid Omaha response: .*sha256" "$T/err" &&
	events >"$T/ev" && test "$(tail -n 1 "$T/ev")" = "3/0/34"
'

test_expect 'DOCTYPE refused, nothing expanded' '
	printf "<!DOCTYPE r [<!ENTITY x \"y\">]><response protocol=\"3.0\"/>" >"$T/dt.xml" &&
	setconf "{\"response_file\": \"$T/dt.xml\"}" &&
	test_exit 1 check 2>"$T/err" && test_grep "DOCTYPE not allowed" "$T/err"
'

test_expect 'delta payload offered: invalid Omaha response' '
	setconf "{\"delta\": true}" &&
	test_exit 1 check 2>"$T/err" && test_grep "delta payloads are not supported" "$T/err"
'

test_expect 'response over 1 MiB: exit 1, message of section 10' '
	head -c $((1024 * 1024 + 10)) /dev/zero | tr "\0" " " >"$T/huge.xml" &&
	setconf "{\"response_file\": \"$T/huge.xml\"}" &&
	test_exit 1 check 2>"$T/err" &&
	test_grep "^flatctl update: http://127.0.0.1:$PORT/v1/update/: Omaha response too large (more than 1048576 bytes)$" "$T/err"
'

test_expect 'HTTP 503: exit 75, no event; HTTP 404: exit 1' '
	setconf "{\"http_status\": 503}" && : >"$T/requests.log" &&
	test_exit 75 check 2>"$T/err" &&
	test_grep "^flatctl update: http://127.0.0.1:$PORT/v1/update/: server error: HTTP 503$" "$T/err" &&
	test "$(events | grep -c "^3/0")" = 0 &&
	setconf "{\"http_status\": 404}" &&
	test_exit 1 check 2>"$T/err" && test_grep "v1/update/: HTTP 404$" "$T/err"
'

test_expect 'connection refused: exit 75 cannot reach server' '
	setconf "{}" && stop_omaha &&
	test_exit 75 check 2>"$T/err" && test_grep "cannot reach server" "$T/err"
'

test_expect 'SERVER=disabled: exit 3 naming the file; --json reason disabled' '
	echo "SERVER=disabled" >"$R/etc/flatcar/update.conf" &&
	test_exit 3 check 2>"$T/err" &&
	test_grep "^flatctl update: updates are disabled (SERVER=disabled in /etc/flatcar/update.conf)$" "$T/err" &&
	test_exit 3 check --json >"$T/out.json" 2>/dev/null &&
	test "$(json_get "$T/out.json" "d[\"reason\"]")" = disabled
'

test_expect 'malformed update.conf line: warning with file:line, never fatal' '
	printf "SERVER=disabled\nthis is not a pair\n" >"$R/etc/flatcar/update.conf" &&
	test_exit 3 check 2>"$T/err" &&
	test_grep "^flatctl update: warning: /etc/flatcar/update.conf:2: ignored: " "$T/err"
'

test_expect 'missing release version: exit 2' '
	mv "$R/usr/share/flatcar/release" "$T/release" && echo "FLATCAR_RELEASE_BOARD=x" >"$R/usr/share/flatcar/release" &&
	test_exit 2 check 2>"$T/err" &&
	test_grep "^flatctl update: /usr/share/flatcar/release: FLATCAR_RELEASE_VERSION missing$" "$T/err" &&
	mv "$T/release" "$R/usr/share/flatcar/release"
'
test_done
