#!/bin/bash
# t0408-lock-etcd-tls-auth: TLS to etcd with a CA alone, with a client certificate, and etcd
# authentication (docs/reboot-lock.md 3.2 "TLS", "Authentication"; 9).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/lock/etcd.sh"
command -v openssl >/dev/null || { echo "Bail out! openssl not installed: run make deps"; exit 1; }

# a throw-away CA, a server certificate for 127.0.0.1, a client certificate
mk() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=flatctl test CA" \
		-keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null &&
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$T/$who.key" \
			-out "$T/$who.csr" 2>/dev/null &&
		printf "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n" >"$T/$who.ext" &&
		openssl x509 -req -in "$T/$who.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
			-days 2 -extfile "$T/$who.ext" -out "$T/$who.pem" 2>/dev/null || return 1
	done
}
mk
mkdir -p "$T/etc" && echo tlsmachine >"$T/etc/machine-id"

# server-authenticated TLS only (no client certificates)
# (etcd_start_cluster retries on other ports when a member cannot bind)
ETCD_PREFIX=tls ETCD_SCHEME=https ETCD_CURL_OPTS="--cacert $T/ca.pem" \
	etcd_start_cluster 1 --cert-file "$T/server.pem" --key-file "$T/server.key" || exit 1
U1=$ETCD_URL_1

test_expect 'https with --etcd-cafile alone (no client certificate) works' '
	flatctl --root "$T" lock --endpoints "$U1" --etcd-cafile "$T/ca.pem" lock &&
	flatctl --root "$T" lock --endpoints "$U1" --etcd-cafile "$T/ca.pem" status | test_grep "^tlsmachine$" /dev/stdin
'
test_expect 'https with an unknown CA fails with exit 1, not 75' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout "$T/other.key" -out "$T/other.pem" 2>/dev/null &&
	test_exit 1 flatctl --root "$T" lock --endpoints "$U1" --etcd-cafile "$T/other.pem" status 2>"$T/err" &&
	test_grep "status: TLS with etcd failed: $U1: " "$T/err"
'
test_expect 'unreadable CA file: exit 1 naming it; certificate without key: exit 2' '
	test_exit 1 flatctl --root "$T" lock --endpoints "$U1" --etcd-cafile "$T/nope.pem" status 2>"$T/err" &&
	test_grep "nope.pem" "$T/err" &&
	test_exit 2 flatctl --root "$T" lock --endpoints "$U1" --etcd-certfile "$T/client.pem" status 2>/dev/null &&
	test_exit 2 flatctl --root "$T" lock --endpoints "$U1" --etcd-keyfile "$T/client.key" status 2>/dev/null
'

# mutual TLS
ETCD_PREFIX=mtls ETCD_SCHEME=https \
	ETCD_CURL_OPTS="--cacert $T/ca.pem --cert $T/client.pem --key $T/client.key" \
	etcd_start_cluster 1 --cert-file "$T/server.pem" --key-file "$T/server.key" \
	--client-cert-auth --trusted-ca-file "$T/ca.pem" || exit 1
U2=$ETCD_URL_1

test_expect 'client certificate and key: lock, status, unlock' '
	o="--endpoints $U2 --etcd-cafile $T/ca.pem --etcd-certfile $T/client.pem --etcd-keyfile $T/client.key" &&
	flatctl --root "$T" lock $o lock && flatctl --root "$T" lock $o status | test_grep "^tlsmachine$" /dev/stdin &&
	flatctl --root "$T" lock $o unlock
'
test_expect 'without the client certificate the server refuses: exit 1' '
	test_exit 1 flatctl --root "$T" lock --endpoints "$U2" --etcd-cafile "$T/ca.pem" --timeout 3s status 2>"$T/err" &&
	test_grep "TLS with etcd failed" "$T/err"
'
test_expect 'the locksmithctl link takes TLS from LOCKSMITHCTL_* variables' '
	ln -s "$FLATCTL" "$T/locksmithctl" &&
	LOCKSMITHCTL_ENDPOINT=$U2 LOCKSMITHCTL_ETCD_CAFILE=$T/ca.pem LOCKSMITHCTL_ETCD_CERTFILE=$T/client.pem \
	LOCKSMITHCTL_ETCD_KEYFILE=$T/client.key "$T/locksmithctl" -root "$T" status | test_grep "^Max: 1" /dev/stdin
'

# authentication (plain http member)
etcd_start_cluster 1 || exit 1
test_expect 'etcd auth: user with the right password locks; wrong password is exit 1 naming the user' '
	etcdctl --endpoints "$ETCD_ENDPOINTS" user add root:rootpw >/dev/null &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" user grant-role root root >/dev/null &&
	etcdctl --endpoints "$ETCD_ENDPOINTS" auth enable >/dev/null &&
	printf "rootpw\n" >"$T/pw" &&
	flatctl --root "$T" lock --endpoints "$ETCD_ENDPOINTS" --etcd-username root --etcd-password-file "$T/pw" lock &&
	flatctl --root "$T" lock --endpoints "$ETCD_ENDPOINTS" --etcd-username root --etcd-password rootpw status |
		test_grep "^tlsmachine$" /dev/stdin &&
	test_exit 1 flatctl --root "$T" lock --endpoints "$ETCD_ENDPOINTS" --etcd-username root --etcd-password bad status 2>"$T/err" &&
	test_grep "etcd authentication as .root. failed" "$T/err" && ! grep -q "bad" "$T/err" &&
	test_exit 1 flatctl --root "$T" lock --endpoints "$ETCD_ENDPOINTS" status 2>"$T/err" &&
	test_grep "user name is empty" "$T/err"
'
test_done
