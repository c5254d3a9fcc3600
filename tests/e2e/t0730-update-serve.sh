#!/bin/bash
# t0730-update-serve: `flatctl update serve DIR` (docs/update.md "update serve") with the real
# client against it: check and apply from a packed payload, noupdate for a current client, group
# selection by track (paused and unknown groups), Range requests and resumed downloads, 416,
# malformed requests answered with 400 while the server goes on, the JSON-lines log, bad
# configurations.
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
SRV=$T/srv
mkdir -p "$SRV/stable" "$SRV/beta"
make_payload "$SRV/stable/flatcar_production_update.gz" $((2 * 1024 * 1024)) 100000
make_payload "$SRV/beta/flatcar_production_update.gz" $((1024 * 1024))
P=$SRV/stable/flatcar_production_update.gz
SIZE=$(stat -c %s "$P")
A0=$(part_sum 3)
cat >"$SRV/serve.json" <<'JSON'
{
  "groups": {
    "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update.gz" },
    "beta": { "version": "4100.0.0", "payload": "beta/flatcar_production_update.gz" },
    "lts": { "version": "3975.2.1", "payload": "stable/flatcar_production_update.gz" },
    "alpha": { "paused": true }
  }
}
JSON
start_serve "$SRV"
U=$SERVE_URL/payloads/stable/flatcar_production_update.gz
fresh() { "$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot"; }
# lastlog EXPR: python expression on d, the last line of the log
lastlog() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).readlines()[-1]); print($1)" "$T/serve.log"; }

test_expect 'serve names its address and groups' '
	test_grep "^flatctl update: serving .*/srv. on http://127.0.0.1:$SERVE_PORT/v1/update/$" "$T/serve.err" &&
	test_grep "^flatctl update: group .stable.: 4081.2.0 from .stable/flatcar_production_update.gz. ($SIZE bytes, 0 extensions)$" "$T/serve.err" &&
	test_grep "^flatctl update: group .alpha.: paused$" "$T/serve.err"
'

test_expect 'check: the stable group is offered 4081.2.0 with the served URL' '
	flatctl --root "$R" update check >"$T/out" 2>"$T/err" &&
	test_grep "^update available: 4081.2.0 (.*) from $U\$" "$T/out" &&
	test "$(lastlog "d[\"kind\"], d[\"track\"], d[\"version\"], d[\"answer\"], d[\"offered\"], d[\"status\"]")" = "omaha stable 3975.2.1 update 4081.2.0 200"
'

test_expect 'apply installs from serve; the log holds 3/2 13/1 14/1 3/1 and the download' '
	fresh && : >"$T/serve.log" &&
	flatctl --root "$R" --disk "$D" update apply >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B; reboot to use it$" "$T/out" &&
	test "$(part_sum 4 $((2 * 1024 * 1024)))" = "$(file_sum "$P.img")" &&
	cmp "$P.kernel" "$R/boot/flatcar/vmlinuz-b" &&
	test "$(attrs 4)" = "2 1 0" && test "$(part_sum 3)" = "$A0" &&
	serve_events >"$T/ev" && printf "3/2\n13/1\n14/1\n3/1\n" >"$T/want" && test_cmp "$T/want" "$T/ev" &&
	python3 -c "
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)[\"kind\"] == \"download\"]
assert [(x[\"path\"], x[\"status\"], x[\"bytes\"]) for x in d] == [(\"/payloads/stable/flatcar_production_update.gz\", 200, int(sys.argv[2]))], d
" "$T/serve.log" "$SIZE"
'

test_expect 'a client at the offered version or newer gets noupdate (exit 3)' '
	fresh && rm -rf "$R/var" &&
	sed -i s/3975.2.1/4081.2.0/ "$R/usr/share/flatcar/release" &&
	test_exit 3 flatctl --root "$R" update check >"$T/out" 2>&1 &&
	test "$(lastlog "d[\"answer\"]")" = noupdate &&
	sed -i s/4081.2.0/4081.10.0/ "$R/usr/share/flatcar/release" &&
	test_exit 3 flatctl --root "$R" update check >/dev/null 2>&1 &&
	test "$(lastlog "d[\"version\"], d[\"answer\"]")" = "4081.10.0 noupdate" &&
	sed -i s/4081.10.0/3975.2.1/ "$R/usr/share/flatcar/release" &&
	test_exit 3 flatctl --root "$R" update check --group lts >/dev/null 2>&1 &&
	test "$(lastlog "d[\"track\"], d[\"answer\"]")" = "lts noupdate"
'

test_expect 'the track picks the group: beta, paused alpha, unknown' '
	flatctl --root "$R" update check --group beta >"$T/out" 2>&1 &&
	test_grep "^update available: 4100.0.0 (.*) from $SERVE_URL/payloads/beta/flatcar_production_update.gz\$" "$T/out" &&
	test_exit 3 flatctl --root "$R" update check --group alpha >"$T/out" 2>&1 &&
	test "$(lastlog "d[\"answer\"]")" = error-updatesDisabled &&
	test_exit 1 flatctl --root "$R" update check --group stabel >"$T/out" 2>&1 &&
	test_grep "server refused: error-unknownApplicationOrGroup (track \"stabel\")" "$T/out"
'

test_expect 'Range: bytes=N- and N-M give 206 and the right bytes; HEAD; 416' '
	curl -s -o "$T/a" -r 0-999 -w "%{http_code}\n" "$U" >"$T/code" &&
	curl -s -o "$T/b" -r 1000- -w "%{http_code}\n" "$U" >>"$T/code" &&
	printf "206\n206\n" >"$T/want" && test_cmp "$T/want" "$T/code" &&
	test "$(stat -c %s "$T/a")" = 1000 && cat "$T/a" "$T/b" | cmp - "$P" &&
	curl -s -o "$T/c" -r -100 "$U" && tail -c 100 "$P" | cmp - "$T/c" &&
	curl -s -D "$T/h" -o /dev/null -r 100-199 "$U" &&
	test_grep "^Content-Range: bytes 100-199/$SIZE" "$T/h" &&
	curl -s -I "$U" >"$T/h" && test_grep "^Content-Length: $SIZE" "$T/h" &&
	test_grep "^Accept-Ranges: bytes" "$T/h" &&
	curl -s -D "$T/h" -o /dev/null -r "$SIZE-" "$U" &&
	test_grep "^HTTP/1.1 416 " "$T/h" && test_grep "^Content-Range: bytes \*/$SIZE" "$T/h" &&
	curl -s -D "$T/h" -o /dev/null -H "Range: bytes=abc" "$U" && test_grep "^HTTP/1.1 416 " "$T/h" &&
	curl -s -D "$T/h" -o /dev/null -H "Range: bytes=9-5" "$U" && test_grep "^HTTP/1.1 416 " "$T/h" &&
	curl -s -o "$T/d" -w "%{http_code}" -H "Range: bytes=0-1,5-9" "$U" >"$T/code" &&
	test "$(cat "$T/code")" = 200 && cmp "$T/d" "$P" &&
	test "$(lastlog "d[\"kind\"], d[\"range\"], d[\"status\"], d[\"bytes\"]")" = "download bytes=0-1,5-9 200 $SIZE" &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$SERVE_URL/payloads/stable/../serve.json")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$SERVE_URL/payloads/stable/p.gz.img")" = 404
'

test_expect 'an interrupted apply resumes with a Range request answered 206' '
	fresh && : >"$T/serve.log" &&
	FLATCTL_TEST_UPDATE_KILL=download:$((SIZE / 2)) test_exit 137 flatctl --root "$R" --disk "$D" update apply >/dev/null 2>&1 &&
	have=$(stat -c %s "$PART") && test "$have" -lt "$SIZE" &&
	flatctl --root "$R" --disk "$D" update apply >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	test "$(part_sum 4 $((2 * 1024 * 1024)))" = "$(file_sum "$P.img")" &&
	python3 -c "
import json, sys
d = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)[\"kind\"] == \"download\"]
last = d[-1]
assert last[\"status\"] == 206 and last[\"range\"] == \"bytes=%s-\" % sys.argv[2], d
assert last[\"bytes\"] == int(sys.argv[3]) - int(sys.argv[2]), d
" "$T/serve.log" "$have" "$SIZE"
'

post() { curl -s -o "$T/body" -w "%{http_code}" -H "Content-Type: text/xml" --data-binary "$@" "$SERVE_URL/v1/update/"; }
test_expect 'malformed requests get 400 with the reason; the server goes on' '
	test "$(post "garbage<")" = 400 &&
	test_grep "^malformed Omaha request: line 1: " "$T/body" &&
	test "$(post "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x \"y\">]><request protocol=\"3.0\"/>")" = 400 &&
	test_grep "^malformed Omaha request: DOCTYPE not allowed$" "$T/body" &&
	test "$(post "<response protocol=\"3.0\"/>")" = 400 &&
	test_grep "^malformed Omaha request: /: root element is <response>, not <request>$" "$T/body" &&
	test "$(post "<request protocol=\"3.0\"><app version=\"1\"/></request>")" = 400 &&
	test_grep "^malformed Omaha request: /request/app\[1\]: app has no appid$" "$T/body" &&
	test "$(post "<request protocol=\"2.0\"><app appid=\"x\"/></request>")" = 400 &&
	test "$(lastlog "d[\"kind\"], d[\"status\"], d[\"error\"]")" = "omaha 400 malformed Omaha request: /request: protocol is not 3.x" &&
	test "$(curl -s -o "$T/body" -w "%{http_code}" "$SERVE_URL/v1/update/")" = 405 &&
	test "$(curl -s -o "$T/body" -w "%{http_code}" -X PUT "$SERVE_URL/v1/update/")" = 405 &&
	test "$(curl -s -o "$T/body" -w "%{http_code}" -X POST "$SERVE_URL/v1/update/")" = 411 &&
	test "$(curl -s -o "$T/body" -w "%{http_code}" -H "Host:" "$U")" = 400 &&
	test_grep "^HTTP/1.1 request without Host$" "$T/body" &&
	test "$(curl -s -o "$T/body" -w "%{http_code}" -H "X-Big: $(head -c 20000 /dev/zero | tr "\0" a)" "$U")" = 431 &&
	test "$(lastlog "d[\"kind\"], d[\"status\"], d[\"reason\"]")" = "rejected 431 request header too large" &&
	head -c $((1024 * 1024 + 1)) /dev/zero | tr "\0" " " >"$T/big" &&
	test "$(post "@$T/big")" = 413 &&
	fresh && flatctl --root "$R" update check >"$T/out" 2>&1 && test_grep "^update available: 4081.2.0" "$T/out"
'

test_expect 'a client that sent half a request does not hold up the others' '
	{ python3 -c "
import socket, sys, time
s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))
s.sendall(b\"GET / HTTP/1.1\r\n\")
time.sleep(3)
" "$SERVE_PORT" & } &&
	slow=$! &&
	curl -s -o /dev/null -r 0-9 "$U" && wait $slow
'

test_expect 'the log escapes client strings and holds printable ASCII only' '
	printf "%s" "<request protocol=\"3.0\" installsource=\"ondemandupdate\"><app appid=\"{e96281a6-d1af-4bde-9a0a-97b76e56dc57}\" version=\"3975.2.1\" track=\"stable\" machinealias=\"a&#x9b;31mred&#x9;&quot;q é&#xA;\"><updatecheck/><event eventtype=\"3\" eventresult=\"2\" previousversion=\"&#xD;&lt;\"/></app></request>" >"$T/req.xml" &&
	test "$(post "@$T/req.xml")" = 200 &&
	test_grep "<updatecheck status=\"ok\">" "$T/body" &&
	! LC_ALL=C grep -q "[^ -~]" "$T/serve.log" &&
	tail -n 1 "$T/serve.log" | grep -F "\"machinealias\":\"a\\u009B31mred\\t\\\"q \\u00E9\\n\"" &&
	python3 -c "
import json, sys
d = json.loads(open(sys.argv[1]).readlines()[-1])
assert d[\"machinealias\"] == \"a\x9b31mred\t\\\"q \xe9\n\", repr(d[\"machinealias\"])
assert d[\"events\"] == [{\"eventtype\": \"3\", \"eventresult\": \"2\", \"previousversion\": \"\r<\"}], d
" "$T/serve.log"
'

test_expect 'bad configurations: exit 2 naming the file and the JSON path' '
	mkdir -p "$T/bad" &&
	echo "{\"groups\": {\"s\": {\"version\": \"1\", \"payload\": \"missing.gz\"}}, \"color\": 1}" >"$T/bad/serve.json" &&
	test_exit 2 flatctl update serve "$T/bad" --listen 127.0.0.1:0 --log "$T/bad/log" 2>"$T/err" &&
	test_grep "^flatctl update: serve.json: unknown key .color.$" "$T/err" && test ! -e "$T/bad/log" &&
	test_grep "^flatctl update: serve.json: /groups/s/payload: cannot open .missing.gz.: No such file or directory$" "$T/err" &&
	echo "{\"groups\": {\"s\": {\"version\": \"1\", \"payload\": \"../srv/stable/flatcar_production_update.gz\"}}}" >"$T/bad/c.json" &&
	test_exit 2 flatctl update serve "$T/bad" --config "$T/bad/c.json" --listen 127.0.0.1:0 2>"$T/err" &&
	test_grep "c.json: /groups/s/payload: .\.\./srv/stable/flatcar_production_update.gz. is not a relative path" "$T/err" &&
	echo "{\"groups\": {" >"$T/bad/serve.json" &&
	test_exit 2 flatctl update serve "$T/bad" --listen 127.0.0.1:0 2>"$T/err" &&
	test_grep "^flatctl update: serve.json: " "$T/err" &&
	test_exit 2 flatctl update serve "$SRV" --listen 127.0.0.1 2>"$T/err" &&
	test_grep "listen: .127.0.0.1. is not ADDR:PORT" "$T/err"
'

test_expect 'SIGTERM stops the server with exit 0; --max-requests N stops after N' '
	mkdir -p "$T/one" && cp "$SRV/serve.json" "$T/one/" && cp -r "$SRV/stable" "$SRV/beta" "$T/one/" &&
	valgrind_bg && { "${VG_BG[@]}" "$FLATCTL" update serve "$T/one" --listen 127.0.0.1:0 2>"$T/one.err" >"$T/one.log" & } &&
	pid=$! &&
	test_wait_for 30 "grep -q \" on http://\" \"$T/one.err\"" &&
	port=$(sed -n "s|^flatctl update: serving .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p" "$T/one.err") &&
	curl -s -o /dev/null "http://127.0.0.1:$port/" &&
	kill -TERM $pid && wait $pid && rm "$T/one.err" &&
	valgrind_bg && { "${VG_BG[@]}" "$FLATCTL" update serve "$T/one" --listen 127.0.0.1:0 --max-requests 2 2>"$T/one.err" >"$T/one.log" & } &&
	pid=$! &&
	test_wait_for 30 "grep -q \" on http://\" \"$T/one.err\"" &&
	port=$(sed -n "s|^flatctl update: serving .* on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p" "$T/one.err") &&
	curl -s -o /dev/null -r 0-9 "http://127.0.0.1:$port/payloads/stable/flatcar_production_update.gz" &&
	curl -s -o /dev/null "http://127.0.0.1:$port/nothing" &&
	wait $pid &&
	test "$(wc -l <"$T/one.log")" = 1 && test_grep "\"status\":206" "$T/one.log"
'
test_done
