#!/bin/bash
# t0202-provision-fetch: --dry-run fetching over real loopback HTTP and HTTPS (a CA made here),
# merge/replace, hashes, gzip bombs, size limits, loops, headers, and the config sources
# (--config, metal command line, qemu fw_cfg, file, aws IMDSv2) (docs/provision.md 3, 8).
. "$(dirname "$0")/lib.sh"
SERVER=$FLATCTL_SRC/tests/data/ignition/ignserver.py
D=$T/docroot
mkdir -p "$D" "$T/root/proc" "$T/root/etc"
: >"$T/root/proc/cmdline"

start_server() { # name [cert key]; the port ends up in $T/name.port
	local pf=$T/$1.port &&
	if [ $# -gt 1 ]; then
		python3 "$SERVER" --docroot "$D" --port-file "$pf" --cert "$2" --key "$3" \
			>"$T/$1.log" 2>&1 &
	else
		python3 "$SERVER" --docroot "$D" --port-file "$pf" >"$T/$1.log" 2>&1 &
	fi &&
	cleanup_pid $! &&
	for _ in $(seq 1 600); do [ -s "$pf" ] && break; sleep 0.05 || return 1; done
}
start_server http
P=$(cat "$T/http.port")
H=http://127.0.0.1:$P

# a CA and a server certificate for 127.0.0.1, made by the test
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 \
	-subj "/CN=flatctl test CA" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout "$T/srv.key" -out "$T/srv.csr" -subj "/CN=127.0.0.1" \
	>/dev/null 2>&1
printf "subjectAltName=IP:127.0.0.1\n" >"$T/ext"
openssl x509 -req -in "$T/srv.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-out "$T/srv.pem" -days 2 -extfile "$T/ext" >/dev/null 2>&1
start_server https "$T/srv.pem" "$T/srv.key"
PS=$(cat "$T/https.port")
HS=https://127.0.0.1:$PS
CA_URL="data:;base64,$(base64 -w0 "$T/ca.pem")"

sha512() { echo "sha512-$(sha512sum "$1" | cut -d' ' -f1)"; }
dry() { flatctl provision --root "$T/root" --dry-run --fetch-timeout 20 "$@"; }

printf '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/from-merge","contents":{"source":"data:,m"}}]}}' >"$D/child.ign"
printf 'hello from http\n' >"$D/motd"
cat >"$D/user.ign" <<EOT
{"ignition": {"version": "3.4.0", "config": {"merge": [{"source": "$H/f/child.ign"}]}},
 "storage": {"files": [{"path": "/etc/motd", "contents": {"source": "$H/f/motd",
   "verification": {"hash": "$(sha512 "$D/motd")"}}}]}}
EOT

test_expect 'http: --config URL, merge and a verified file' '
	dry --config "$H/f/user.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/motd 0644 root:root 16 B sha256-" "$T/out" &&
	test_grep "^+ file /etc/from-merge " "$T/out"
'
test_expect 'https with the CA from ignition.security.tls' '
	cat >"$T/tls.ign" <<EOT &&
{"ignition": {"version": "3.4.0", "security": {"tls": {"certificateAuthorities": [{"source": "$CA_URL"}]}},
  "config": {"merge": [{"source": "$HS/f/child.ign"}]}}}
EOT
	dry --config "$T/tls.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge " "$T/out"
'
test_expect 'https without the CA: TLS verification fails (exit 1)' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$HS/f/child.ign\"}]}}}" >"$T/notls.ign" &&
	test_exit 1 dry --config "$T/notls.ign" >"$T/out" 2>"$T/err" &&
	test_grep "merge\\[0\\]: fetching https://127.0.0.1:$PS/f/child.ign" "$T/err"
'
test_expect 'replace: the referenced config replaces this one' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"replace\":{\"source\":\"$H/f/child.ign\"}}},\"storage\":{\"files\":[{\"path\":\"/etc/gone\"}]}}" >"$T/rep.ign" &&
	dry --config "$T/rep.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	! grep -q /etc/gone "$T/out"
'
test_expect 'hash mismatch: exit 1 naming the entry' '
	cat >"$T/bad.ign" <<EOT &&
{"ignition": {"version": "3.4.0", "config": {"replace": {"source": "$H/f/child.ign",
  "verification": {"hash": "$(sha512 "$D/motd")"}}}}}
EOT
	test_exit 1 dry --config "$T/bad.ign" >"$T/out" 2>"$T/err" &&
	test_grep "ignition.config.replace: hash mismatch: expected sha512-" "$T/err"
'
test_expect 'gzip bomb: decompression stops at the 16 MiB config limit' '
	head -c 100000000 /dev/zero | gzip -9 >"$D/bomb.gz" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/f/bomb.gz\",\"compression\":\"gzip\"}]}}}" >"$T/bomb.ign" &&
	test_exit 1 dry --config "$T/bomb.ign" >"$T/out" 2>"$T/err" &&
	test_grep "merge\\[0\\]: decompressed data exceeds the limit of 16777216 bytes" "$T/err"
'
test_expect 'oversized resource: refused at the limit' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/zeros/17000000\"}]}}}" >"$T/big.ign" &&
	test_exit 1 dry --config "$T/big.ign" >"$T/out" 2>"$T/err" &&
	test_grep "merge\\[0\\]: .*larger than 16777216 bytes" "$T/err"
'
test_expect 'merge loop: stopped at depth 10 (exit 1)' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/f/loop.ign\"}]}}}" >"$D/loop.ign" &&
	test_exit 1 dry --config "$H/f/loop.ign" >"$T/out" 2>"$T/err" &&
	test_grep "nest deeper than 10 levels" "$T/err"
'
test_expect 'custom headers: sent for http(s) sources' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/hdr/child.ign\",\"httpHeaders\":[{\"name\":\"X-Secret\",\"value\":\"letmein\"}]}]}}}" >"$T/h.ign" &&
	dry --config "$T/h.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	! grep -q letmein "$T/out" "$T/err" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/hdr/child.ign\"}]}}}" >"$T/nh.ign" &&
	test_exit 1 dry --config "$T/nh.ign" >"$T/out" 2>"$T/err"
'
test_expect 'proxy: ignition.proxy.httpProxy carries http fetches, noProxy bypasses it' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"proxy\":{\"httpProxy\":\"$H\"},\"config\":{\"merge\":[{\"source\":\"http://config.example.invalid/f/child.ign\"}]}}}" >"$T/px.ign" &&
	dry --config "$T/px.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	test_grep "^config.example.invalid/f/child.ign$" "$D/proxy.log" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"proxy\":{\"httpProxy\":\"http://127.0.0.1:1\",\"noProxy\":[\"127.0.0.0/8\"]},\"config\":{\"merge\":[{\"source\":\"$H/f/child.ign\"}]}}}" >"$T/np.ign" &&
	dry --config "$T/np.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out"
'
test_expect 'initial config unreachable: exit 75 (try later)' '
	test_exit 75 dry --config "http://127.0.0.1:1/user.ign" >"$T/out" 2>"$T/err" &&
	test_grep "fetching http://127.0.0.1:1/user.ign" "$T/err"
'
test_expect 'oem:///path reads /oem inside the root; a 2.x file without source is empty' '
	mkdir -p "$T/root/oem" &&
	cp "$D/child.ign" "$T/root/oem/extra.ign" &&
	printf "{\"ignition\":{\"version\":\"2.2.0\",\"config\":{\"append\":[{\"source\":\"oem:///extra.ign\"}]}},\"storage\":{\"files\":[{\"filesystem\":\"root\",\"path\":\"/etc/empty\"}]}}" >"$T/oem.ign" &&
	dry --config "$T/oem.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	test_grep "^+ file /etc/empty 0644 root:root 0 B sha256-e3b0c442" "$T/out" &&
	rm -r "$T/root/oem"
'
test_expect 'custom headers are not forwarded on redirects' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/redirect/f/child.ign\",\"httpHeaders\":[{\"name\":\"X-Secret\",\"value\":\"letmein\"}]}]}}}" >"$T/r1.ign" &&
	dry --config "$T/r1.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/redirect/hdr/child.ign\",\"httpHeaders\":[{\"name\":\"X-Secret\",\"value\":\"letmein\"}]}]}}}" >"$T/r2.ign" &&
	test_exit 1 dry --config "$T/r2.ign" >"$T/out" 2>"$T/err" &&
	test_grep "merge\\[0\\]: fetching http://127.0.0.1:$P/hdr/child.ign" "$T/err"
'
test_expect 'not found: exit 1 with the URL' '
	test_exit 1 dry --config "$H/f/nope.ign" >"$T/out" 2>"$T/err" &&
	test_grep "nope.ign: not found" "$T/err"
'
test_expect 'unsupported schemes: a clear error' '
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"s3://bucket/key\"}]}}}" >"$T/s3.ign" &&
	test_exit 1 dry --config "$T/s3.ign" >"$T/out" 2>"$T/err" &&
	test_grep "s3 URLs are not supported by this build" "$T/err"
'
test_expect 'invalid referenced config: named at the merge entry' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"rel\"}]}}" >"$D/invalid.ign" &&
	printf "{\"ignition\":{\"version\":\"3.4.0\",\"config\":{\"merge\":[{\"source\":\"$H/f/invalid.ign\"}]}}}" >"$T/inv.ign" &&
	test_exit 2 dry --config "$T/inv.ign" >"$T/out" 2>"$T/err" &&
	test_grep "merge\\[0\\]: the referenced config is invalid: 1 error, first at .*storage.files\\[0\\].path" "$T/err"
'
test_expect 'metal: ignition.config.url on the kernel command line inside the root' '
	printf "BOOT_IMAGE=/vmlinuz ignition.config.url=$H/f/child.ign flatcar.oem.id=metal\n" >"$T/root/proc/cmdline" &&
	dry >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	: >"$T/root/proc/cmdline"
'
test_expect 'qemu: fw_cfg blob inside the root' '
	mkdir -p "$T/q/proc" "$T/q/sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config" &&
	: >"$T/q/proc/cmdline" &&
	cp "$D/child.ign" "$T/q/sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw" &&
	flatctl provision --root "$T/q" --dry-run >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out"
'
test_expect 'file platform: IGNITION_CONFIG_FILE' '
	IGNITION_CONFIG_FILE="$D/child.ign" dry --platform file >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out"
'
test_expect 'aws: IMDSv2 token then user-data from the loopback server' '
	cp "$D/child.ign" "$D/user-data" &&
	FLATCTL_AWS_IMDS_URL=$H dry --platform aws >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-merge" "$T/out" &&
	rm "$D/user-data" &&
	FLATCTL_AWS_IMDS_URL=$H dry --platform aws >"$T/out" 2>"$T/err" &&
	test_grep "no user config found (platform aws)" "$T/err"
'
test_expect 'base configs merge under the user config, in name order' '
	mkdir -p "$T/root/etc/ignition/base.d" "$T/root/usr/lib/ignition/base.d" &&
	printf "{\"ignition\":{\"version\":\"3.0.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/base-a\"}]}}" >"$T/root/usr/lib/ignition/base.d/10-a.ign" &&
	printf "{\"ignition\":{\"version\":\"3.0.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/hidden\"}]}}" >"$T/root/usr/lib/ignition/base.d/20-b.ign" &&
	printf "{\"ignition\":{\"version\":\"3.0.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/base-b\"}]}}" >"$T/root/etc/ignition/base.d/20-b.ign" &&
	dry --config "$D/child.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/base-a" "$T/out" &&
	test_grep "^+ file /etc/base-b" "$T/out" &&
	! grep -q /etc/hidden "$T/out" &&
	rm -r "$T/root/etc/ignition" "$T/root/usr"
'
test_expect 'existing file and overwrite false: the plan fails (exit 1), --json says so' '
	printf x >"$T/root/etc/from-merge" &&
	test_exit 1 dry --config "$D/child.ign" >"$T/out" 2>"$T/err" &&
	test_grep "^! file /etc/from-merge exists and overwrite is false" "$T/out" &&
	test_exit 1 dry --json --config "$D/child.ign" >"$T/j" 2>/dev/null &&
	jq -e ".wouldFail == true and .plan[0].op == \"!\"" "$T/j" >/dev/null &&
	rm "$T/root/etc/from-merge"
'
test_expect 'secrets are redacted from the printed config' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"passwd\":{\"users\":[{\"name\":\"core\",\"passwordHash\":\"\$6\$salt\$HASHSECRET\"}]},\"storage\":{\"files\":[{\"path\":\"/etc/k\",\"contents\":{\"source\":\"data:,PRIVATEKEY\"}}]}}" >"$T/sec.ign" &&
	dry --config "$T/sec.ign" >"$T/out" 2>"$T/err" &&
	! grep -q -e HASHSECRET -e PRIVATEKEY "$T/out" "$T/err"
'
test_expect 'invalid user config: exit 2 with the problems' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"rel\"}]}}" >"$T/i.ign" &&
	test_exit 2 dry --config "$T/i.ign" >"$T/out" 2>"$T/err" &&
	test_grep "path must be absolute" "$T/out"
'
test_expect 'cloud-config as user config: notice, empty config, exit 0' '
	printf "#cloud-config\n" >"$T/cc" &&
	dry --config "$T/cc" >"$T/out" 2>"$T/err" &&
	test_grep "continuing with an empty config" "$T/err"
'
test_expect 'unknown platform: usage error (2)' '
	test_exit 2 dry --platform nosuch 2>"$T/err"
'
test_expect 'provision without a config anywhere: an empty config is applied (result file only)' '
	mkdir -p "$T/empty/etc" "$T/empty/proc" && : >"$T/empty/proc/cmdline" &&
	flatctl provision --root "$T/empty" --platform metal 2>"$T/err" &&
	test_grep "no user config found (platform metal)" "$T/err" &&
	jq -e ".userConfigProvided == false" "$T/empty/etc/.ignition-result.json" >/dev/null
'
test_done
