#!/bin/bash
# t0357-update-frontends: the flatcar-update link name and update_engine_client's in-process
# -update (docs/update.md 2.8).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
ln -s "$FLATCTL" "$T/flatcar-update"
ln -s "$FLATCTL" "$T/update_engine_client"
fu() { "$T/flatcar-update" --root "$R" --disk "$D" "$@"; }
fresh() { "$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run"; }
start_omaha --payload "$T/p.gz" --version 4081.2.0 --config "$T/omaha.json"
echo "SERVER=disabled" >"$R/etc/flatcar/update.conf"

test_expect 'both link names are listed' '
	flatctl --list-links >"$T/links" && test_grep "^flatcar-update$" "$T/links" &&
	test_grep "^update_engine_client$" "$T/links"
'

test_expect 'flatcar-update -V V -P FILE installs; -A disables automatic updates, other lines kept' '
	printf "GROUP=beta\nSERVER=https://example.invalid/v1/update/\nMACHINE_ALIAS=x\n" >"$R/etc/flatcar/update.conf" &&
	fu -V 4081.2.0 -P "$T/p.gz" -A >"$T/out" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	test "$(part_sum 4 $((1024 * 1024)))" = "$(file_sum "$T/p.gz.img")" && test "$(attrs 4)" = "2 1 0" &&
	printf "GROUP=beta\nMACHINE_ALIAS=x\nSERVER=disabled\n" >"$T/want" && test_cmp "$T/want" "$R/etc/flatcar/update.conf"
'

test_expect 'flatcar-update when staged: exit 3, same message as apply' '
	test_exit 3 fu --to-version 4081.2.0 --to-payload "$T/p.gz" 2>"$T/err" &&
	test_grep "4081.2.0 is already staged on USR-B; reboot, or run .flatctl update reset." "$T/err"
'

test_expect 'flatcar-update usage: -V required, -E without -P, a misnamed -E, -D refused with exit 2, -L/-M/-O accepted' '
	test_exit 2 fu -P "$T/p.gz" 2>"$T/err" && test_grep "to-version is required" "$T/err" &&
	test_exit 2 fu -V 1 -E oem-qemu.gz 2>"$T/err" && test_grep "local extensions are only supported with --to-payload" "$T/err" &&
	test_exit 2 fu -V 1 -P "$T/p.gz" -E /x/docker.raw 2>"$T/err" && test_grep "expects files named oem-OEMID.gz or flatcar-NAME.gz" "$T/err" &&
	test_exit 2 fu -V 1 -O maybe 2>"$T/err" && test_grep "takes yes or no" "$T/err" &&
	test_exit 2 fu -V 1 -D 2>"$T/err" && test_grep "use --key FILE to trust an extra key for this run" "$T/err" &&
	test_exit 2 fu -V 1 --force-flatcar-key 2>/dev/null &&
	test_exit 3 fu -V 4081.2.0 -P "$T/p.gz" -L 9090 -M 9091 -O no 2>/dev/null
'

test_expect 'flatcar-update -V without -P: downloads from RELEASE_SERVER, checks the .sha256' '
	fresh && mkdir -p "$T/www/amd64-usr/4081.2.0" &&
	cp "$T/p.gz" "$T/www/amd64-usr/4081.2.0/flatcar_production_update.gz" &&
	(cd "$T/www/amd64-usr/4081.2.0" && sha256sum flatcar_production_update.gz >flatcar_production_update.gz.sha256) &&
	{ python3 -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 >"$T/www.log" 2>&1 & } && wp=$! &&
	trap "kill $wp 2>/dev/null || true" EXIT &&  # the body runs in a subshell: cleanup_pid would not last
	test_wait_for 60 "grep -q \"port [0-9]\" \"\$T/www.log\"" &&
	port=$(sed -n "s/.*port \([0-9]*\).*/\1/p" "$T/www.log") &&
	echo "RELEASE_SERVER=http://127.0.0.1:$port" >"$R/etc/flatcar/update.conf" &&
	fu -V 4081.2.0 >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	test "$(part_sum 4 $((1024 * 1024)))" = "$(file_sum "$T/p.gz.img")" &&
	fresh && echo "0000000000000000000000000000000000000000000000000000000000000000  x" \
		>"$T/www/amd64-usr/4081.2.0/flatcar_production_update.gz.sha256" &&
	test_exit 1 fu -V 4081.2.0 2>"$T/err" && test_grep "SHA-256 mismatch" "$T/err" &&
	test "$(attrs 4)" = "0 0 0"
'

test_expect 'update_engine_client -update: apply in-process, then the status block, exit 0' '
	echo "SERVER=$OMAHA_URL" >"$R/etc/flatcar/update.conf" &&
	fresh && echo "{}" >"$T/omaha.json" &&
	"$T/update_engine_client" -root "$R" -disk "$D" -update >"$T/out" 2>/dev/null &&
	test_grep "^CURRENT_OP=UPDATE_STATUS_UPDATED_NEED_REBOOT$" "$T/out" &&
	test_grep "^NEW_VERSION=4081.2.0$" "$T/out" && test "$(attrs 4)" = "2 1 0"
'

test_expect 'update_engine_client -update: nothing offered is exit 0, a server error exit 1' '
	fresh && echo "{\"status\": \"noupdate\"}" >"$T/omaha.json" &&
	"$T/update_engine_client" -root "$R" -disk "$D" -update >"$T/out" 2>/dev/null &&
	test_grep "^CURRENT_OP=UPDATE_STATUS_IDLE$" "$T/out" &&
	echo "{\"status\": \"error-internal\"}" >"$T/omaha.json" &&
	test_exit 1 "$T/update_engine_client" -root "$R" -disk "$D" -check_for_update >/dev/null 2>&1
'
test_done
