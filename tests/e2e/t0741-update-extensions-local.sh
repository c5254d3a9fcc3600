#!/bin/bash
# t0741-update-extensions-local: extension payloads without an Omaha server (docs/update.md 2.2,
# 2.8, 6.7): `update apply --payload --extension`, `--dry-run`, the OEM image kept on the root
# when the OEM partition cannot take it, and `flatcar-update -V` fetching the extensions and
# their .sha256 files from RELEASE_SERVER.
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
. "$(dirname "$0")/lib-sysext.sh"
setup_update
make_payload "$T/p.gz" $((1024 * 1024))
apply() { flatctl --root "$R" --disk "$D" update apply "$@"; }
fresh() {
	"$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot" &&
	G0=$(gpt_bytes)
}
no_tmp() { test -z "$(find "$R/oem" "$R/etc/flatcar" -name "*.tmp")"; }
for n in oem-qemu flatcar-docker; do sysext $n; done
echo "SERVER=disabled" >"$R/etc/flatcar/update.conf"

# RELEASE_SERVER: a static directory server, as the release server is
www=$T/www/amd64-usr/4081.2.0
mkdir -p "$www"
cp "$T/p.gz" "$www/flatcar_production_update.gz"
cp "$T/ext/oem-qemu.gz" "$T/ext/flatcar-docker.gz" "$www/"
(cd "$www" && for f in *.gz; do sha256sum "$f" >"$f.sha256"; done)
python3 -u -m http.server --bind 127.0.0.1 --directory "$T/www" 0 >"$T/www.log" 2>&1 &
cleanup_pid $!
test_wait_for 60 'grep -q "port [0-9]" "$T/www.log"' || exit 1
WWW_PORT=$(sed -n "s/.*port \([0-9]*\).*/\1/p" "$T/www.log")

test_expect '--extension goes with --payload: exit 2' '
	test_exit 2 apply --extension "$T/ext/oem-qemu.gz" 2>"$T/err" &&
	test_grep "extension go with --payload" "$T/err"
'

test_expect 'apply --payload without a required extension: exit 1, nothing written' '
	fresh && machine &&
	test_exit 1 apply --payload "$T/p.gz" --version 4081.2.0 --extension "$T/ext/oem-qemu.gz" 2>"$T/err" &&
	test_grep "extension payload flatcar-docker.gz is required here (docker enabled in enabled-sysext.conf) but was not given" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 1
'

test_expect 'apply --dry-run checks the extensions and leaves nothing behind' '
	fresh && machine &&
	apply --dry-run --payload "$T/p.gz" --version 4081.2.0 --extension "$T/ext/oem-qemu.gz" \
		--extension "$T/ext/flatcar-docker.gz" >"$T/out" 2>"$T/err" &&
	test_grep "flatcar-docker.gz: verified, staged as /etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test ! -e "$R/oem/sysext/oem-qemu-4081.2.0.raw" &&
	test ! -e "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" && no_tmp &&
	test -e "$R/oem/sysext/oem-qemu-3000.0.0.raw"
'

test_expect 'apply --payload --extension: installed; podman disabled in /etc is neither wanted nor kept' '
	fresh && machine &&
	apply --payload "$T/p.gz" --version 4081.2.0 --extension "$T/ext/oem-qemu.gz" \
		--extension "$T/ext/flatcar-docker.gz" >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" && test "$(attrs 4)" = "2 1 0" &&
	release "$R/oem/sysext/oem-qemu-4081.2.0.raw" oem-qemu >"$T/rel" &&
	test_grep "^SYSEXT_LEVEL=1.0$" "$T/rel" &&
	cmp "$T/ext/flatcar-docker.raw" "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	test ! -e "$R/etc/flatcar/sysext/flatcar-podman-3975.2.1.raw" && no_tmp
'

test_expect 'the OEM partition cannot take the image: it goes to /etc/flatcar/oem-sysext' '
	fresh && machine && mkdir -p "$R/oem/sysext/.oem-qemu-4081.2.0.raw.tmp/x" &&
	apply --payload "$T/p.gz" --version 4081.2.0 --extension "$T/ext/oem-qemu.gz" \
		--extension "$T/ext/flatcar-docker.gz" >/dev/null 2>"$T/err" &&
	test_grep "warning: /oem/sysext: .*using /etc/flatcar/oem-sysext" "$T/err" &&
	cmp "$T/ext/oem-qemu.raw" "$R/etc/flatcar/oem-sysext/oem-qemu-4081.2.0.raw" &&
	test ! -e "$R/oem/sysext/oem-qemu-4081.2.0.raw" && test -e "$R/oem/sysext/oem-qemu-3975.2.1.raw" &&
	test "$(attrs 4)" = "2 1 0" && rm -r "$R/oem/sysext/.oem-qemu-4081.2.0.raw.tmp"
'

test_expect 'flatcar-update -V fetches the required extensions and their .sha256 from RELEASE_SERVER' '
	fresh && machine && ln -sf "$FLATCTL" "$T/flatcar-update" &&
	echo "RELEASE_SERVER=http://127.0.0.1:$WWW_PORT" >"$R/etc/flatcar/update.conf" &&
	"$T/flatcar-update" --root "$R" --disk "$D" -V 4081.2.0 >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	cmp "$T/ext/oem-qemu.raw" "$R/oem/sysext/oem-qemu-4081.2.0.raw" &&
	cmp "$T/ext/flatcar-docker.raw" "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	grep -c "GET /amd64-usr/4081.2.0/flatcar-docker.gz.sha256 " "$T/www.log" >/dev/null
'

test_expect 'flatcar-update -V: an extension whose .sha256 differs fails before the flip' '
	fresh && machine &&
	echo "0000000000000000000000000000000000000000000000000000000000000000  x" >"$www/flatcar-docker.gz.sha256" &&
	test_exit 1 "$T/flatcar-update" --root "$R" --disk "$D" -V 4081.2.0 2>"$T/err" &&
	test_grep "flatcar-docker.gz: SHA-256 mismatch" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test "$(attrs 4)" = "0 0 0" && no_tmp
'

test_done
