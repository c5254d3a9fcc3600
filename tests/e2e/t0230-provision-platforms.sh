#!/bin/bash
# t0230-provision-platforms: the cloud providers' user data (docs/provision-platforms.md) from
# loopback servers that speak each provider's protocol (tests/servers/metadata.py): headers the
# services require, retries, what "no user data" is for each, exit 75 when a service stays
# unreachable, and the test switch that may only point at loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-platforms.sh"
for p in aws azure digitalocean equinixmetal gcp hetzner openstack; do start_metadata $p; done

# a user config that makes one file, named after the provider
user_data() { # provider
	printf '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/from-%s","contents":{"source":"data:,%s"}}]}}' "$1" "$1" >"$T/$1/user-data"
}
last_request() { tail -n 1 "$T/$1/requests.log"; }

for p in aws azure digitalocean equinixmetal gcp hetzner openstack; do
	test_expect "$p: the user data becomes the config" "
		user_data $p &&
		dry $p --fetch-timeout 30 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep '^+ file /etc/from-$p 0644 root:root' \"\$T/out\"
	"
	# azure: without userData in IMDS the OVF medium is asked (t0231)
	[ $p = azure ] || test_expect "$p: no user data is an empty config (exit 0)" "
		rm -f \"\$T/$p/user-data\" &&
		dry $p --fetch-timeout 30 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'no user config found (platform $p): an empty config' \"\$T/err\" &&
		! grep -q '^+ file' \"\$T/out\"
	"
	test_expect "$p: 503 twice, then the data (retried with backoff)" "
		user_data $p && : >\"\$T/$p/requests.log\" && echo 2 >\"\$T/$p/fail\" &&
		dry $p --fetch-timeout 30 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep '^+ file /etc/from-$p ' \"\$T/out\" &&
		test \$(wc -l <\"\$T/$p/requests.log\") -ge 3
	"
	test_expect "$p: a server that stays at 503 gives exit 75 naming the URL" "
		echo 1000 >\"\$T/$p/fail\" &&
		test_exit 75 dry $p --fetch-timeout 1 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'fetching http://127.0.0.1:[0-9]*/.*: HTTP 503 (gave up after [0-9]* attempts\\?)' \"\$T/err\" &&
		echo 0 >\"\$T/$p/fail\"
	"
	test_expect "$p: nothing listening gives exit 75" "
		FLATCTL_TEST_PLATFORM_URL=http://127.0.0.1:1 test_exit 75 flatctl provision \
			--root \"\$T/root\" --dry-run --platform $p --fetch-timeout 1 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'fetching http://127.0.0.1:1/' \"\$T/err\"
	"
done

test_expect 'aws: the token is asked with a TTL and sent with the GET (IMDSv2)' '
	user_data aws && : >"$T/aws/requests.log" &&
	dry aws --fetch-timeout 30 -v >"$T/out" 2>"$T/err" &&
	test_grep "user config from aws user-data (IMDSv2)" "$T/err" &&
	head -n 1 "$T/aws/requests.log" | jq -e ".method == \"PUT\" and .path == \"/latest/api/token\" and .headers[\"X-aws-ec2-metadata-token-ttl-seconds\"] == \"21600\"" >/dev/null &&
	last_request aws | jq -e ".path == \"/2019-10-01/user-data\" and (.headers[\"X-aws-ec2-metadata-token\"] | length) > 10" >/dev/null
'
test_expect 'aws: token endpoint 404 falls back to IMDSv1, as Ignition does' '
	: >"$T/aws/imdsv1" && : >"$T/aws/requests.log" &&
	dry aws --fetch-timeout 30 -v >"$T/out" 2>"$T/err" &&
	test_grep "user config from aws user-data (IMDSv1)" "$T/err" &&
	test_grep "^+ file /etc/from-aws " "$T/out" &&
	! last_request aws | grep -q X-Aws-Ec2-Metadata-Token\" &&
	rm "$T/aws/imdsv1"
'
test_expect 'gcp: Metadata-Flavor: Google is sent (the service refuses without it)' '
	user_data gcp &&
	dry gcp --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	last_request gcp | jq -e ".headers[\"Metadata-Flavor\"] == \"Google\" and (.headers | has(\"X-Forwarded-For\") | not)" >/dev/null
'
test_expect 'azure: IMDS with Metadata: true, api-version and format=text; base64 decoded' '
	user_data azure &&
	dry azure --fetch-timeout 30 -v >"$T/out" 2>"$T/err" &&
	test_grep "user config from azure IMDS userData" "$T/err" &&
	test_grep "^+ file /etc/from-azure " "$T/out" &&
	last_request azure | jq -e ".headers.Metadata == \"true\" and .path == \"/metadata/instance/compute/userData?api-version=2021-01-01&format=text\"" >/dev/null
'
test_expect 'azure: 404, 410 and 429 from IMDS are retried (Azure answers them while starting)' '
	user_data azure && : >"$T/azure/requests.log" &&
	for st in 404 410 429; do
		echo $st >"$T/azure/fail-status" && echo 2 >"$T/azure/fail" &&
		dry azure --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
		test_grep "^+ file /etc/from-azure " "$T/out" || exit 1
	done &&
	test $(wc -l <"$T/azure/requests.log") = 9 &&
	rm "$T/azure/fail-status"
'
test_expect 'azure: IMDS answering 404 until the deadline: exit 75' '
	echo 404 >"$T/azure/status" &&
	test_exit 75 dry azure --fetch-timeout 1 >"$T/out" 2>"$T/err" &&
	test_grep "userData?api-version=\*\*\*&format=\*\*\*: HTTP 404 (gave up after [0-9]* attempts\?)" "$T/err" &&
	rm "$T/azure/status"
'
test_expect 'other providers do not retry a 429 (exit 1 after one request)' '
	user_data gcp && : >"$T/gcp/requests.log" &&
	echo 429 >"$T/gcp/fail-status" && echo 1 >"$T/gcp/fail" &&
	test_exit 1 dry gcp --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "user-data: HTTP 429" "$T/err" &&
	test $(wc -l <"$T/gcp/requests.log") = 1 &&
	rm "$T/gcp/fail-status"
'
test_expect 'azure: an IMDS answer that is not base64 fails (exit 1)' '
	printf "%s" "not base64!" >"$T/azure/raw-body" &&
	test_exit 1 dry azure --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "userData: the answer is not base64" "$T/err" &&
	rm "$T/azure/raw-body"
'
test_expect 'equinixmetal: Accept: */* is sent (the service answers 406 to Go'"'"'s default)' '
	user_data equinixmetal &&
	dry equinixmetal --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	last_request equinixmetal | jq -e ".headers.Accept == \"*/*\" and .path == \"/userdata\"" >/dev/null
'
for p in digitalocean equinixmetal; do
	test_expect "$p: 404 is a failure here, not an empty config (exit 1)" "
		echo 404 >\"\$T/$p/status\" &&
		test_exit 1 dry $p --fetch-timeout 30 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'fetching.*not found (HTTP 404)\|: not found (HTTP 404)' \"\$T/err\" &&
		rm \"\$T/$p/status\"
	"
done
for p in gcp hetzner openstack aws; do
	test_expect "$p: 404 means no user data (exit 0, empty config)" "
		echo 404 >\"\$T/$p/status\" &&
		dry $p --fetch-timeout 30 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'no user config found (platform $p)' \"\$T/err\" &&
		rm \"\$T/$p/status\"
	"
done
test_expect 'a 403 is final, not retried (exit 1)' '
	echo 403 >"$T/hetzner/status" && : >"$T/hetzner/requests.log" &&
	test_exit 1 dry hetzner --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "hetzner/v1/userdata: HTTP 403" "$T/err" &&
	test $(wc -l <"$T/hetzner/requests.log") = 1 &&
	rm "$T/hetzner/status"
'
test_expect 'a redirect is not followed (exit 1)' '
	user_data gcp && echo 302 >"$T/gcp/status" && echo /redirected >"$T/gcp/location" &&
	test_exit 1 dry gcp --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "user-data: HTTP 302" "$T/err" &&
	! grep -q "\"/redirected\"" "$T/gcp/requests.log" &&
	rm "$T/gcp/status" "$T/gcp/location"
'
test_expect 'user data over 16 MiB: exit 1, named' '
	head -c 17000000 /dev/zero >"$T/hetzner/user-data" &&
	test_exit 1 dry hetzner --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "the hetzner user data is larger than 16 MiB" "$T/err" &&
	rm "$T/hetzner/user-data"
'
test_expect 'invalid user data: exit 2 with the problem' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"rel\"}]}}" >"$T/gcp/user-data" &&
	test_exit 2 dry gcp --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "path must be absolute" "$T/out"
'
test_expect 'cloud-config user data: a notice and an empty config (Flatcar)' '
	printf "#cloud-config\nhostname: x\n" >"$T/hetzner/user-data" &&
	dry hetzner --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "continuing with an empty config" "$T/err"
'
test_expect 'the platform comes from flatcar.oem.id (packet is equinixmetal)' '
	user_data equinixmetal &&
	printf "BOOT_IMAGE=/vmlinuz flatcar.oem.id=packet\n" >"$T/root/proc/cmdline" &&
	FLATCTL_TEST_PLATFORM_URL=$URL_equinixmetal flatctl provision --root "$R" --dry-run \
		--fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-equinixmetal " "$T/out" &&
	printf "flatcar.oem.id=gce\n" >"$T/root/proc/cmdline" && user_data gcp &&
	FLATCTL_TEST_PLATFORM_URL=$URL_gcp flatctl provision --root "$R" --dry-run \
		--fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-gcp " "$T/out" &&
	: >"$T/root/proc/cmdline"
'
test_expect 'base.platform.d uses Ignition'"'"'s platform id (packet)' '
	mkdir -p "$T/root/usr/lib/ignition/base.platform.d/packet" &&
	printf "{\"ignition\":{\"version\":\"3.0.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/packet-base\"}]}}" >"$T/root/usr/lib/ignition/base.platform.d/packet/10-oem.ign" &&
	dry equinixmetal --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/packet-base" "$T/out" &&
	rm -r "$T/root/usr"
'
for bad in http://10.0.0.1 http://169.254.169.254 http://localhost:80 http://127.0.0.1.example.com \
	http://127.0.0.1:80/x http://user@127.0.0.1 ftp://127.0.0.1 http://127.1; do
	test_expect "the test switch refuses $bad (exit 1, nothing asked)" "
		FLATCTL_TEST_PLATFORM_URL=$bad test_exit 1 flatctl provision --root \"\$T/root\" \
			--dry-run --platform gcp --fetch-timeout 1 >\"\$T/out\" 2>\"\$T/err\" &&
		test_grep 'FLATCTL_TEST_PLATFORM_URL must be http(s)://127.x.y.z' \"\$T/err\"
	"
done
test_expect 'the test switch takes [::1] too' '
	FLATCTL_TEST_PLATFORM_URL=http://[::1]:1 test_exit 75 flatctl provision --root "$R" \
		--dry-run --platform gcp --fetch-timeout 1 >"$T/out" 2>"$T/err" &&
	test_grep "fetching http://\\[::1\\]:1/computeMetadata" "$T/err"
'
test_done
