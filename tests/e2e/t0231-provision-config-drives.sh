#!/bin/bash
# t0231-provision-config-drives: OpenStack's config-2 drive and Azure's OVF provisioning medium
# under --root (docs/provision-platforms.md §3): a directory dev/disk/by-label/LABEL (Azure:
# dev/srN) inside the root stands in for the mounted drive; the drive against the metadata
# service, "no user data" on a drive, and a drive that never comes. The real mount path (host
# root, libblkid, detached read-only mount) is covered by test-ignition-platform.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-platforms.sh"
start_metadata openstack
start_metadata azure
config() { # file-name
	printf '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/%s"}]}}' "$1"
}
DRIVE=$R/dev/disk/by-label/config-2

test_expect 'openstack: the config drive is read, before the metadata service' '
	mkdir -p "$DRIVE/openstack/latest" &&
	config from-drive >"$DRIVE/openstack/latest/user_data" &&
	config from-service >"$T/openstack/user-data" && : >"$T/openstack/requests.log" &&
	dry openstack --fetch-timeout 30 -v >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-drive " "$T/out" &&
	test_grep "user config from openstack config drive /dev/disk/by-label/config-2" "$T/err" &&
	! test -s "$T/openstack/requests.log"
'
test_expect 'openstack: the label CONFIG-2 is read too' '
	mv "$R/dev/disk/by-label/config-2" "$R/dev/disk/by-label/CONFIG-2" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-drive " "$T/out" &&
	mv "$R/dev/disk/by-label/CONFIG-2" "$DRIVE"
'
test_expect 'openstack: a drive without openstack/latest/user_data means no user data' '
	rm "$DRIVE/openstack/latest/user_data" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "no user config found (platform openstack)" "$T/err" &&
	! grep -q "^+ file" "$T/out"
'
test_expect 'openstack: symlinks on the drive stay on the drive' '
	config inside-drive >"$DRIVE/inside.ign" &&
	mkdir -p "$R/outside" && config outside-drive >"$R/outside/x.ign" &&
	ln -s /inside.ign "$DRIVE/openstack/latest/user_data" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/inside-drive " "$T/out" &&
	rm "$DRIVE/openstack/latest/user_data" &&
	ln -s ../../../../../../outside/x.ign "$DRIVE/openstack/latest/user_data" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	! grep -q outside-drive "$T/out" &&
	rm -r "$DRIVE/openstack/latest/user_data" "$DRIVE/inside.ign" "$R/outside"
'
test_expect 'openstack: a drive that is not a directory under --root DIR: exit 1, named' '
	rm -r "$DRIVE" && printf x >"$DRIVE" &&
	test_exit 1 dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "/dev/disk/by-label/config-2 is not a directory: under a --root other than /" "$T/err" &&
	rm "$DRIVE"
'
test_expect 'openstack: no drive, the metadata service answers' '
	: >"$T/openstack/requests.log" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-service " "$T/out" &&
	grep -q "\"/openstack/latest/user_data\"" "$T/openstack/requests.log"
'
test_expect 'openstack: no drive and a 404 from the service: no user data' '
	rm "$T/openstack/user-data" &&
	dry openstack --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "no user config found (platform openstack)" "$T/err"
'
test_expect 'openstack: a drive that appears while the service fails is used' '
	echo 100000 >"$T/openstack/fail" &&
	{ ( sleep 1 && mkdir -p "$DRIVE.new/openstack/latest" &&
	  config late-drive >"$DRIVE.new/openstack/latest/user_data" && mv "$DRIVE.new" "$DRIVE" ) & } &&
	dry openstack --fetch-timeout 60 >"$T/out" 2>"$T/err" &&
	wait &&
	test_grep "^+ file /etc/late-drive " "$T/out" &&
	rm -r "$DRIVE"
'
test_expect 'openstack: no drive and a failing service: exit 75, both named' '
	test_exit 75 dry openstack --fetch-timeout 1 >"$T/out" 2>"$T/err" &&
	test_grep "openstack/latest/user_data: server error: HTTP 503 (gave up after [0-9]* attempts\\?); no config drive (config-2) appeared" "$T/err" &&
	echo 0 >"$T/openstack/fail"
'
test_expect 'openstack: no drive and a 403 from the service: the drive is still awaited, then exit 1' '
	echo 403 >"$T/openstack/status" &&
	test_exit 1 dry openstack --fetch-timeout 1 >"$T/out" 2>"$T/err" &&
	test_grep "HTTP 403; no config drive (config-2) appeared" "$T/err" &&
	rm "$T/openstack/status"
'

SR=$R/dev/sr0
test_expect 'azure: no userData in IMDS, then CustomData.bin of the OVF medium' '
	rm -f "$T/azure/user-data" &&
	mkdir -p "$SR" && printf "<Environment/>" >"$SR/ovf-env.xml" &&
	config from-ovf >"$SR/CustomData.bin" &&
	dry azure --fetch-timeout 30 -v >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-ovf " "$T/out" &&
	test_grep "user config from azure custom data on /dev/sr0" "$T/err"
'
test_expect 'azure: userData in IMDS wins over the medium' '
	config from-imds >"$T/azure/user-data" &&
	dry azure --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-imds " "$T/out" &&
	rm "$T/azure/user-data"
'
test_expect 'azure: a medium without CustomData.bin means no user data' '
	rm "$SR/CustomData.bin" &&
	dry azure --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "no user config found (platform azure)" "$T/err"
'
test_expect 'azure: a dev/srN without ovf-env.xml is not the medium; none appears: exit 1' '
	rm "$SR/ovf-env.xml" && config wrong-disk >"$SR/CustomData.bin" &&
	test_exit 1 dry azure --fetch-timeout 1 >"$T/out" 2>"$T/err" &&
	test_grep "azure: IMDS has no userData and no provisioning medium (a UDF CD-ROM with ovf-env.xml) appeared" "$T/err" &&
	! grep -q wrong-disk "$T/out"
'
test_expect 'azure: the medium on a later dev/srN is found' '
	rm -r "$SR" && mkdir -p "$R/dev/sr1" && printf "<Environment/>" >"$R/dev/sr1/ovf-env.xml" &&
	config from-sr1 >"$R/dev/sr1/CustomData.bin" &&
	dry azure --fetch-timeout 30 >"$T/out" 2>"$T/err" &&
	test_grep "^+ file /etc/from-sr1 " "$T/out"
'
test_done
