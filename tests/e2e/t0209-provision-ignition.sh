#!/bin/bash
# t0209-provision-ignition: the `ignition` link with Ignition's flags, one stage per process as
# Flatcar's initramfs units call it (flatcar/bootengine dracut/30ignition/ignition-*.service),
# the config cached between stages (docs/provision.md §1.3, docs/provision-apply.md).
. "$(dirname "$0")/lib.sh"
. "$FLATCTL_SRC/tests/e2e/lib-provision.sh"
ln -s "$FLATCTL" "$T/ignition"
ign() { "$T/ignition" "$@"; }
R=$T/sysroot
mkroot "$R" && mkdir -p "$R/oem" "$R/boot/flatcar" && echo >"$R/boot/flatcar/first_boot"
cat >"$T/user.ign" <<'JSON'
{"ignition": {"version": "3.4.0"},
 "kernelArguments": {"shouldExist": ["quiet"]},
 "storage": {"files": [{"path": "/etc/hostname", "overwrite": true, "contents": {"source": "data:,node%0A"}}]},
 "systemd": {"units": [{"name": "a.service", "enabled": true, "contents": "[Install]\nWantedBy=multi-user.target\n"}]}}
JSON
A="--root=$R --platform=file --config-cache=$T/run/ignition.json --state-file=$T/run/ignition/state --neednet=$T/run/ignition/neednet"
export IGNITION_CONFIG_FILE=$T/user.ign

test_expect '--platform and --stage are required (exit 2)' '
	test_exit 2 ign --root="$R" --stage=files 2>"$T/err" && test_grep "--platform. must be provided" "$T/err" &&
	test_exit 2 ign --root="$R" --platform=file 2>"$T/err" && test_grep "--stage. must be provided" "$T/err" &&
	test_exit 2 ign --root="$R" --platform=file --stage=bogus 2>"$T/err"
'
test_expect 'a stage before the fetch stages: no cache, exit 1, root unchanged' '
	snap "$R" r0 && test_exit 1 ign $A --stage=files 2>"$T/err" &&
	test_grep "no config in the cache" "$T/err" && same "$R" r0
'
test_expect 'fetch-offline caches the rendered config 0600 and needs no network' '
	ign $A --stage=fetch-offline 2>"$T/err" &&
	test "$(stat -c %a "$T/run/ignition.json")" = 600 && ! test -e "$T/run/ignition/neednet" &&
	jq -e ".storage.files[0].path == \"/etc/hostname\"" "$T/run/ignition.json" >/dev/null &&
	test "$(stat -c %a "$T/run/ignition/state")" = 600 &&
	ign $A --stage=fetch 2>"$T/err" && test_grep "cached in .* already" "$T/err"
'
test_expect 'kargs: grub.cfg edited, first-boot flag set as the helper does, no reboot' '
	rm "$R/boot/flatcar/first_boot" &&
	ign $A --stage=kargs 2>"$T/err" &&
	test_grep "^set linux_append=\"\$linux_append quiet\"$" "$R/oem/grub.cfg" &&
	test -f "$R/boot/flatcar/first_boot" && test_grep "reboot is required" "$T/err" &&
	jq -e ".flatctl.rebootRequired == true" "$T/run/ignition/state" >/dev/null
'
test_expect 'disks and mount with no storage entries; files writes the result; umount' '
	ign $A --stage=disks 2>"$T/err" && ign $A --stage=mount 2>"$T/err" &&
	ign $A --stage=files --log-to-stdout >"$T/out" 2>"$T/err" &&
	test_grep "Ignition finished successfully" "$T/out" && test_grep "stage files" "$T/out" && ! test -s "$T/err" &&
	test "$(cat "$R/etc/hostname")" = node &&
	test_grep "^enable a.service$" "$R/etc/systemd/system-preset/20-ignition.preset" &&
	jq -e ".flatctl.rebootRequired == true and .userConfigProvided == true and .flatctl.stages == [\"files\"]" "$R/etc/.ignition-result.json" >/dev/null &&
	test -f "$R/boot/flatcar/first_boot" &&
	ign $A --stage=umount 2>"$T/err"
'
test_expect 'files again (Ignition reruns under this name): a warning, previousReport kept' '
	ign $A --stage=files 2>"$T/err" &&
	test_grep "Ignition has run on this system before" "$T/err" &&
	jq -e ".previousReport.provisioningDate != null" "$R/etc/.ignition-result.json" >/dev/null
'
test_expect 'fetch-offline with a remote config: the neednet flag, no cache' '
	rm -f "$T/run/ignition.json" &&
	printf "BOOT_IMAGE=x ignition.config.url=http://127.0.0.1:1/c.ign\n" >"$R/proc/cmdline" &&
	ign --root="$R" --platform=metal --config-cache="$T/run/ignition.json" --state-file="$T/run/ignition/state" --neednet="$T/run/ignition/neednet" --stage=fetch-offline 2>"$T/err" &&
	test -e "$T/run/ignition/neednet" && ! test -e "$T/run/ignition.json" &&
	test_exit 1 ign --root="$R" --platform=metal --config-cache="$T/run/ignition.json" --state-file="$T/run/ignition/state" --stage=fetch --fetch-timeout=1s 2>"$T/err" &&
	! test -e "$T/run/ignition.json" && : >"$R/proc/cmdline"
'
test_expect 'a failing stage exits 1 and leaves the root unchanged' '
	printf "{\"ignition\":{\"version\":\"3.4.0\"},\"storage\":{\"files\":[{\"path\":\"/etc/hostname\",\"contents\":{\"source\":\"data:,other\"}}]}}" >"$T/run/ignition.json" &&
	snap "$R" r1 && test_exit 1 ign $A --stage=files 2>"$T/err" &&
	test_grep "exists and overwrite is false" "$T/err" && same "$R" r1
'
test_done
