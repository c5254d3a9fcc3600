#!/bin/bash
# t0011-tls-servers: the TLS client (curl + the OpenSSL the static build carries, built with only
# what flatctl uses: docs/build.md 3.4) talks to the kinds of server real sites run: TLS 1.3 and
# 1.2, RSA, RSA-PSS, ECDSA P-256/P-384 and Ed25519 certificates, X25519 and NIST key shares,
# AES-GCM, ChaCha20-Poly1305 and CBC suites, a chain through an intermediate CA; and it refuses
# what it must (unknown CA, wrong name, TLS 1.0). The servers are Debian's `openssl s_server` on
# loopback; flatctl fetches through `provision --dry-run` with the CA from the config.
. "$(dirname "$0")/lib.sh"
D=$T # s_server -WWW serves the current directory, where the keys are too
mkdir -p "$T/root/proc" "$T/root/etc"
: >"$T/root/proc/cmdline"
cd "$T" || exit 1

# CAs and server certificates for 127.0.0.1, made here: cert NAME KEYALG [CA]
ext='subjectAltName=IP:127.0.0.1'
key() { # NAME ALG
	case $2 in
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
	p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
	p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$1.key" ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
	esac 2>/dev/null
}
ca() { # NAME ALG
	key "$1" "$2" &&
	openssl req -x509 -new -key "$1.key" -out "$1.pem" -days 2 -subj "/CN=flatctl $1" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>/dev/null 2>&1
}
cert() { # NAME ALG CA [EXT]
	key "$1" "$2" &&
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=${4:-127.0.0.1}" >/dev/null 2>&1 &&
	printf '%s\n' "${5:-$ext}" >"$1.ext" &&
	openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -CAcreateserial -out "$1.pem" \
		-days 2 -extfile "$1.ext" >/dev/null 2>&1
}
ca rootrsa rsa
ca rootec p384
cert rsa rsa rootrsa
cert p256 p256 rootec
cert p384 p384 rootec
cert ed ed25519 rootec
cert inter p256 rootrsa "flatctl intermediate" \
	'basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign'
cert leaf p256 inter
cert wrongname rsa rootrsa 127.0.0.1 'subjectAltName=IP:127.0.0.2'
ca other rsa

# serve NAME ARGS...: openssl s_server -WWW over $D on a free loopback port; the port in $T/NAME.port
serve() {
	local name=$1 pid &&
	shift &&
	{ (cd "$D" && exec openssl s_server -accept 127.0.0.1:0 -WWW "$@") >"$T/$name.log" 2>&1 & } &&
	pid=$! &&
	cleanup_pid $pid &&
	for _ in $(seq 1 600); do
		grep -q '^ACCEPT' "$T/$name.log" 2>/dev/null && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05 || return 1
	done &&
	sed -n 's/^ACCEPT .*:\([0-9][0-9]*\)$/\1/p' "$T/$name.log" >"$T/$name.port" &&
	{ test -s "$T/$name.port" || { cat "$T/$name.log" >&2; false; }; }
}

# fetch NAME CA: provision --dry-run merges https://127.0.0.1:PORT/NAME.ign, trusting CA
fetch() {
	local port &&
	port=$(cat "$T/$1.port") &&
	printf '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/from-%s","contents":{"source":"data:,%s"}}]}}' \
		"$1" "$1" >"$D/$1.ign" &&
	cat >"$T/$1-user.ign" <<EOT &&
{"ignition": {"version": "3.4.0",
  "security": {"tls": {"certificateAuthorities": [{"source": "data:;base64,$(base64 -w0 "$2.pem")"}]}},
  "config": {"merge": [{"source": "https://127.0.0.1:$port/$1.ign"}]}}}
EOT
	flatctl provision --root "$T/root" --dry-run --fetch-timeout 20 --config "$T/$1-user.ign" \
		>"$T/$1.out" 2>"$T/$1.err" || { cat "$T/$1.err" >&2; return 1; }
	test_grep "^+ file /etc/from-$1 " "$T/$1.out"
}

# every server starts here, outside the tests' subshells, so that cleanup_pid records it
serve t13rsa -cert rsa.pem -key rsa.key -tls1_3 -groups X25519 -ciphersuites TLS_AES_128_GCM_SHA256
serve t13p256 -cert p256.pem -key p256.key -tls1_3 -groups P-256 \
	-ciphersuites TLS_CHACHA20_POLY1305_SHA256
serve t13p384 -cert p384.pem -key p384.key -tls1_3 -groups P-384 -ciphersuites TLS_AES_256_GCM_SHA384
serve t13ed -cert ed.pem -key ed.key -tls1_3
serve t12rsa -cert rsa.pem -key rsa.key -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
serve t12ec -cert p256.pem -key p256.key -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305
serve t12cbc -cert rsa.pem -key rsa.key -tls1_2 -cipher ECDHE-RSA-AES256-SHA384
serve chain -cert leaf.pem -key leaf.key -cert_chain inter.pem
serve unknown -cert rsa.pem -key rsa.key
serve wrongname -cert wrongname.pem -key wrongname.key
serve t10 -cert rsa.pem -key rsa.key -tls1 -cipher "DEFAULT:@SECLEVEL=0"

test_expect 'TLS 1.3: RSA certificate (RSA-PSS), X25519, AES-128-GCM' '
	fetch t13rsa rootrsa
'
test_expect 'TLS 1.3: ECDSA P-256 certificate, P-256 key share, ChaCha20-Poly1305' '
	fetch t13p256 rootec
'
test_expect 'TLS 1.3: ECDSA P-384 certificate, P-384 key share, AES-256-GCM' '
	fetch t13p384 rootec
'
test_expect 'TLS 1.3: Ed25519 certificate' '
	fetch t13ed rootec
'
test_expect 'TLS 1.2: ECDHE-RSA-AES128-GCM-SHA256' '
	fetch t12rsa rootrsa
'
test_expect 'TLS 1.2: ECDHE-ECDSA-CHACHA20-POLY1305 on P-256' '
	fetch t12ec rootec
'
test_expect 'TLS 1.2: ECDHE-RSA-AES256-SHA384 (CBC)' '
	fetch t12cbc rootrsa
'
test_expect 'a chain through an intermediate CA sent by the server' '
	fetch chain rootrsa
'
test_expect 'an unknown CA is refused, with the certificate problem in the message' '
	test -s "$T/unknown.port" && ! fetch unknown other 2>"$T/e" && test_grep "unknown.ign" "$T/e" &&
	test_grep "[Cc]ertificate" "$T/e"
'
test_expect 'a certificate for another address is refused' '
	test -s "$T/wrongname.port" && ! fetch wrongname rootrsa 2>"$T/e" && test_grep "wrongname.ign" "$T/e"
'
test_expect 'a TLS 1.0-only server is refused' '
	test -s "$T/t10.port" && ! fetch t10 rootrsa 2>"$T/e" && test_grep "t10.ign" "$T/e"
'
test_done
