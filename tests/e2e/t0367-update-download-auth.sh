#!/bin/bash
# t0367-update-download-auth: DOWNLOAD_USER and DOWNLOAD_PASSWORD of update.conf (docs/update.md
# 3.2) are HTTP basic auth for the payload download, sent to https:// URLs only (a warning for
# http://, which gets none), and the password is never printed, logged or stored. The server is
# the loopback Omaha server over TLS with a throw-away CA, asking for the credentials.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
PASS='s3cr3t-Pa55word'
(
	cd "$T" && exec 2>openssl.log &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
		-out ca.pem -days 2 -subj /CN=flatctl-test-ca &&
	printf 'subjectAltName=IP:127.0.0.1\n' >srv.ext &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key \
		-out srv.csr -subj /CN=127.0.0.1 &&
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
		-extfile srv.ext -out srv.pem
) || { echo "openssl failed"; cat "$T/openssl.log"; exit 1; }
mkdir -p "$R/etc/ssl" && cp "$T/ca.pem" "$R/etc/ssl/test-ca.pem"
# a plain http server of the same payload (no credentials asked), then the https one
start_omaha --payload "$T/p.gz" --version 4081.2.0 --get-log "$T/plain-gets.log"
PLAIN_PORT=$PORT
mv "$T/requests.log" "$T/plain-requests.log" 2>/dev/null
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json" --cert "$T/srv.pem" \
	--key "$T/srv.key" --get-log "$T/gets.log"
HTTPS=https://127.0.0.1:$PORT
echo "{\"payload_auth\": \"core:$PASS\", \"url_base\": \"$HTTPS/payloads/\"}" >"$T/omaha.json"
conf() {
	{ echo "SERVER=$HTTPS/v1/update/" && echo "CA_FILE=/etc/ssl/test-ca.pem" && printf '%s\n' "$@"; } \
		>"$R/etc/flatcar/update.conf"
}
apply() { flatctl --root "$R" --disk "$D" update apply "$@"; }
last_auth() { tail -n 1 "$T/gets.log" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"auth\"])"; }
no_secret() { ! grep -rqF -- "$PASS" "$@"; }

test_expect 'the server wants credentials: without them HTTP 401, exit 1' '
	conf &&
	test_exit 1 apply >"$T/out" 2>"$T/err" &&
	test_grep "payload $HTTPS/payloads/p.gz: download failed: HTTP 401" "$T/err" &&
	test "$(last_auth)" = none
'

test_expect 'DOWNLOAD_USER and DOWNLOAD_PASSWORD: sent as basic auth over https; installed' '
	conf "DOWNLOAD_USER=core" "DOWNLOAD_PASSWORD=$PASS" &&
	flatctl -v --root "$R" --disk "$D" update apply >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" && test "$(last_auth)" = ok &&
	test "$(attrs 4)" = "2 1 0"
'

test_expect 'the password is in no output, state file or log' '
	no_secret "$T/out" "$T/err" "$R/var" "$R/run" "$T/requests.log" &&
	flatctl --root "$R" update status --json >"$T/st" && no_secret "$T/st"
'

test_expect 'a wrong password: HTTP 401, and the password is not printed either' '
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	conf "DOWNLOAD_USER=core" "DOWNLOAD_PASSWORD=wrong-$PASS" &&
	test_exit 1 apply >"$T/out" 2>"$T/err" && test "$(last_auth)" = wrong &&
	test_grep "HTTP 401" "$T/err" && no_secret "$T/out" "$T/err" "$R/var"
'

test_expect 'an http:// payload URL gets no credentials, with a warning' '
	flatctl --root "$R" --disk "$D" update reset >/dev/null &&
	echo "{\"url_base\": \"http://127.0.0.1:$PLAIN_PORT/payloads/\"}" >"$T/omaha.json" &&
	conf "DOWNLOAD_USER=core" "DOWNLOAD_PASSWORD=$PASS" &&
	apply >"$T/out" 2>"$T/err" && test_grep "^installed 4081.2.0" "$T/out" &&
	test_grep "^flatctl update: warning: DOWNLOAD_USER is not sent to http://127.0.0.1:$PLAIN_PORT/payloads/p.gz (not https)$" "$T/err" &&
	tail -n 1 "$T/plain-gets.log" | grep -q "\"auth\": \"none\"" && no_secret "$T/err" "$T/out"
'
test_done
