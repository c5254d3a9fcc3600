#!/bin/bash
# t0740-update-extensions: extension payloads (docs/update.md 6.7): real sysext images
# (squashfs with an extension-release file) packed as signed payloads, served next to the OS
# payload by the loopback Omaha server, placed where Flatcar's post-install step puts them before
# the GPT flip, and mounted to check; failures before the flip leave the GPT as it was.
# shellcheck disable=SC2034 # the variables are used inside test_expect bodies (eval)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-update.sh"
. "$(dirname "$0")/lib-sysext.sh"
setup_update
make_payload "$T/p.gz" $((2 * 1024 * 1024))
A0=$(part_sum 3)
apply() { flatctl --root "$R" --disk "$D" update apply "$@"; }
fresh() {
	"$MKDISK" -q --force --layout compact --state fresh "$D" && rm -rf "${R:?}/var" "${R:?}/run" "${R:?}/boot" &&
	G0=$(gpt_bytes) && B0=$(part_sum 4) && next_boot >"$T/next0"
}
# next_boot: which partition boots next and the USR priorities, from `partition show --json`
next_boot() {
	flatctl --disk "$D" partition show --json >"$T/show.json" &&
	json_get "$T/show.json" "d[\"next\"], [(p[\"label\"], p[\"priority\"], p[\"tries\"]) for p in d[\"partitions\"] if p[\"label\"].startswith(\"USR\")]"
}
for n in oem-qemu flatcar-docker flatcar-zfs; do sysext $n; done
cp "$T/ext/flatcar-docker.gz" "$T/docker.orig"
start_omaha --payload "$T/p.gz" --extension "$T/ext/oem-qemu.gz" --extension "$T/ext/flatcar-docker.gz" \
	--extension "$T/ext/flatcar-zfs.gz" --version 4081.2.0 --config "$T/omaha.json" --get-log "$T/get.log"
echo "{}" >"$T/omaha.json"

test_expect 'OEM and an enabled extension are placed before the flip; old versions go, zfs is not fetched' '
	fresh && machine && : >"$T/get.log" && echo killed >"$R/etc/flatcar/sysext/.flatcar-docker-4000.0.0.raw.tmp" &&
	apply >"$T/out" 2>"$T/err" &&
	test_grep "^installed 4081.2.0 to USR-B" "$T/out" &&
	test "$(attrs 4)" = "2 1 0" && test "$(part_sum 3)" = "$A0" &&
	cmp "$T/ext/oem-qemu.raw" "$R/oem/sysext/oem-qemu-4081.2.0.raw" &&
	cmp "$T/ext/flatcar-docker.raw" "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	release "$R/oem/sysext/oem-qemu-4081.2.0.raw" oem-qemu >"$T/rel" &&
	printf "ID=flatcar\nSYSEXT_LEVEL=1.0\n" >"$T/want" && test_cmp "$T/want" "$T/rel" &&
	release "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" flatcar-docker >"$T/rel" &&
	test_cmp "$T/want" "$T/rel" &&
	(cd "$R/oem/sysext" && ls) >"$T/ls" &&
	printf "active-oem-qemu\nmigrate-oem-qemu\noem-qemu-3975.2.1.raw\noem-qemu-4081.2.0.raw\n" >"$T/want" &&
	test_cmp "$T/want" "$T/ls" &&
	(cd "$R/etc/flatcar/sysext" && ls -A) >"$T/ls" &&
	printf "flatcar-docker-3975.2.1.raw\nflatcar-docker-4081.2.0.raw\n" >"$T/want" && test_cmp "$T/want" "$T/ls" &&
	python3 -c "import json,sys; print(*sorted(set(json.loads(l)[\"name\"] for l in open(sys.argv[1]))))" "$T/get.log" >"$T/names" &&
	echo "flatcar-docker.gz oem-qemu.gz p.gz" >"$T/want" && test_cmp "$T/want" "$T/names" &&
	test ! -e "$R/var/lib/flatctl/update/extension.part"
'

test_expect 'the daemon (--once) installs the extensions with the OS payload' '
	fresh && machine && mkdir -p "$R/proc" &&
	echo "root=LABEL=ROOT mount.usr=PARTLABEL=USR-A" >"$R/proc/cmdline" &&
	flatctl --root "$R" --disk "$D" update daemon --bus none --once 2>"$T/err" &&
	test_grep "installed 4081.2.0 to USR-B" "$T/err" && test "$(attrs 4)" = "2 1 0" &&
	cmp "$T/ext/oem-qemu.raw" "$R/oem/sysext/oem-qemu-4081.2.0.raw" &&
	cmp "$T/ext/flatcar-docker.raw" "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	rm -r "$R/proc"
'

test_expect 'a bad SHA-256 of a required extension fails before anything is written' '
	fresh && machine && : >"$T/requests.log" &&
	printf "XXXX" | dd of="$T/ext/flatcar-docker.gz" bs=1 seek=500 conv=notrunc 2>/dev/null &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "^flatctl update: extension payload http://127.0.0.1:$PORT/payloads/flatcar-docker.gz: SHA-256 mismatch: expected " "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test "$(part_sum 4)" = "$B0" && test "$(attrs 4)" = "0 0 0" &&
	next_boot >"$T/next" && test_cmp "$T/next0" "$T/next" && test_grep "^USR-A" "$T/next" &&
	test "$(json_get "$S" "d[\"status\"], d[\"last_error\"][\"code\"]")" = "UPDATE_STATUS_IDLE 10" &&
	test ! -e "$R/oem/sysext/oem-qemu-4081.2.0.raw" && test ! -e "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	test -z "$(find "$R/oem" "$R/etc/flatcar" -name "*.tmp")" && test ! -e "$R/run/reboot-required" &&
	events >"$T/ev" && test "$(tail -n 1 "$T/ev")" = 3/0/10 &&
	cp "$T/docker.orig" "$T/ext/flatcar-docker.gz"
'

test_expect 'the next attempt keeps the verified OS payload: only the extensions are fetched again' '
	test -e "$PART" && : >"$T/get.log" &&
	apply >"$T/out" 2>"$T/err" && test "$(attrs 4)" = "2 1 0" &&
	python3 -c "import json,sys; print(*sorted(json.loads(l)[\"name\"] for l in open(sys.argv[1])))" "$T/get.log" >"$T/names" &&
	echo "flatcar-docker.gz oem-qemu.gz" >"$T/want" && test_cmp "$T/want" "$T/names"
'

test_expect 'a required extension missing from the answer fails before the download (code 34)' '
	fresh && machine && echo kubernetes >>"$R/etc/flatcar/enabled-sysext.conf" &&
	: >"$T/requests.log" && : >"$T/get.log" &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "invalid Omaha response: no package flatcar-kubernetes.gz, which is required here (kubernetes enabled in enabled-sysext.conf)" "$T/err" &&
	next_boot >"$T/next" && test_cmp "$T/next0" "$T/next" && test "$(gpt_bytes)" = "$G0" && test "$(part_sum 4)" = "$B0" && test ! -s "$T/get.log" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 34 &&
	events >"$T/ev" && printf "3/2\n3/0/34\n" >"$T/want" && test_cmp "$T/want" "$T/ev"
'

test_expect 'an image that cannot be renamed into place fails before the flip; staged images go' '
	fresh && machine && mkdir -p "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw/x" &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "placing the extension images: .*cannot rename .flatcar-docker-4081.2.0.raw.tmp to flatcar-docker-4081.2.0.raw" "$T/err" &&
	next_boot >"$T/next" && test_cmp "$T/next0" "$T/next" && test ! -e "$R/run/reboot-required" &&
	test -z "$(find "$R/oem" "$R/etc/flatcar" -name "*.tmp")" &&
	test "$(json_get "$S" "d[\"status\"], d[\"last_error\"][\"code\"]")" = "UPDATE_STATUS_IDLE 1" &&
	rm -r "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw"
'

# the server reads its files when it starts: restart it with a docker payload signed by another key
sysext flatcar-docker "$T/other.pem"
stop_omaha
start_omaha --payload "$T/p.gz" --extension "$T/ext/oem-qemu.gz" --extension "$T/ext/flatcar-docker.gz" \
	--version 4081.2.0 --config "$T/omaha.json"

test_expect 'an extension signed by an untrusted key fails before the flip (code 18)' '
	fresh && machine &&
	test_exit 1 apply 2>"$T/err" &&
	test_grep "flatcar-docker.gz: signature verification failed" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" && test "$(part_sum 4)" = "$B0" &&
	test "$(json_get "$S" "d[\"last_error\"][\"code\"]")" = 18 &&
	test ! -e "$R/oem/sysext/oem-qemu-4081.2.0.raw"
'

stop_omaha
sysext flatcar-docker

test_expect 'flatcar-update -P needs every required extension as -E; -O no leaves the OEM out' '
	ln -sf "$FLATCTL" "$T/flatcar-update" && fresh && machine &&
	test_exit 1 "$T/flatcar-update" --root "$R" --disk "$D" -V 4081.2.0 -P "$T/p.gz" \
		-E "$T/ext/oem-qemu.gz" 2>"$T/err" &&
	test_grep "extension payload flatcar-docker.gz is required here (docker enabled in enabled-sysext.conf) but was not given" "$T/err" &&
	test "$(gpt_bytes)" = "$G0" &&
	cp "$T/ext/flatcar-docker.gz" "$T/flatcar_test_update-flatcar-docker.gz" &&
	"$T/flatcar-update" --root "$R" --disk "$D" -V 4081.2.0 -P "$T/p.gz" -O no \
		-E "$T/flatcar_test_update-flatcar-docker.gz" -E "$T/ext/flatcar-zfs.gz" >"$T/out" 2>"$T/err" &&
	test_grep "flatcar-zfs.gz is not required here; ignored" "$T/err" &&
	test "$(attrs 4)" = "2 1 0" &&
	cmp "$T/ext/flatcar-docker.raw" "$R/etc/flatcar/sysext/flatcar-docker-4081.2.0.raw" &&
	test ! -e "$R/oem/sysext/oem-qemu-4081.2.0.raw" && test -e "$R/oem/sysext/oem-qemu-3000.0.0.raw"
'

test_done
