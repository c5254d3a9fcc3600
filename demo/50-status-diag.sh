# shellcheck shell=bash
# demo/50-status-diag.sh - the demo machine at the end of the demo: `flatctl status`, then a
# support bundle (`flatctl diag`) whose manifest is printed (docs/diag.md). Sourced by
# demo/run.sh ($FLATCTL, $DEMO_DIR, $DEMO_SRC, $MKDISK, demo_*).
# The machine is the one 30-update.sh updated (its root and disk image) when that part ran.
M=$DEMO_DIR/update
R=$M/root
if [ ! -f "$M/disk.img" ]; then
	mkdir -p "$R/usr/share/flatcar"
	echo FLATCAR_RELEASE_VERSION=3975.2.1 >"$R/usr/share/flatcar/release"
	"$MKDISK" -q --layout compact --state updated "$M/disk.img"
fi
mkdir -p "$R/etc/flatcar" "$R/proc/sys/kernel/random" "$R/sys/fs/pstore" "$R/var/lib/flatctl/rebootlock"
printf 'NAME="Flatcar Container Linux by Kinvolk"\nID=flatcar\nVERSION=3975.2.1\n' >"$R/etc/os-release"
echo demo-node >"$R/etc/hostname"
echo 0123456789abcdef0123456789abcdef >"$R/etc/machine-id"
echo "BOOT_IMAGE=/flatcar/vmlinuz-a mount.usr=/dev/mapper/usr verity.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132 ignition.config.url=https://cfg.example/node.ign?token=s3cr3t-demo-token" \
	>"$R/proc/cmdline"
echo 22222222-2222-2222-2222-222222222222 >"$R/proc/sys/kernel/random/boot_id"
echo '{"provisioningDate":"2025-10-01T12:00:00Z","userConfigProvided":true}' >"$R/etc/.ignition-result.json"
printf 'Panic#1 Part1\n<0>[ 9.1] Kernel panic - not syncing: Attempted to kill init!\n' >"$R/sys/fs/pstore/dmesg-ramoops-0"
grep -q '^REBOOT_STRATEGY' "$R/etc/flatcar/update.conf" 2>/dev/null ||
	printf 'GROUP=stable\nREBOOT_STRATEGY=reboot\nLOCKSMITHD_REBOOT_WINDOW_START=Mon 04:00\nLOCKSMITHD_REBOOT_WINDOW_LENGTH=1h\nDOWNLOAD_PASSWORD=not-for-your-eyes\n' \
		>>"$R/etc/flatcar/update.conf"
# a journal of two boots, written by systemd-journal-remote from journal export format
jr=/lib/systemd/systemd-journal-remote
if [ -x "$jr" ]; then
	mkdir -p "$R/var/log/journal/0123456789abcdef0123456789abcdef"
	b1=11111111111111111111111111111111 b2=22222222222222222222222222222222
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$b1" 1760600000 6 kernel - "Linux version 6.6.0-flatcar" \
		"$b1" 1760600001 6 ignition ignition-fetch.service "GET https://cfg.example/node.ign?token=s3cr3t-demo-token: attempt #1" \
		"$b1" 1760600002 3 kernel - "Kernel panic - not syncing: Attempted to kill init!" \
		"$b2" 1760644535 6 kernel - "Linux version 6.6.0-flatcar" \
		"$b2" 1760644536 6 update_engine update-engine.service "Update succeeded, reboot needed" |
		python3 "$DEMO_SRC/tests/e2e/diag-journal.py" |
		"$jr" -o "$R/var/log/journal/0123456789abcdef0123456789abcdef/system.journal" - 2>/dev/null
fi

demo_note "What a maintainer asks first, on one screen (read only; unknown facts say why):"
demo_run flatctl --root "$R" --disk "$M/disk.img" status
demo_note "The same facts as JSON; here its update part:"
printf '%s$ flatctl --root %s --disk %s --json status | jq .update%s\n' "${_b:-}" "$R" "$M/disk.img" "${_n:-}"
flatctl --root "$R" --disk "$M/disk.img" --json status | python3 -c \
	'import json,sys; print(json.dumps(json.load(sys.stdin)["update"], indent=1))'

demo_note "A support bundle of the same machine: streamed tar.gz, secrets redacted, every item in"
demo_note "manifest.json (pass -v to see each skipped item):"
demo_run flatctl --root "$R" --disk "$M/disk.img" diag --offline -o "$DEMO_DIR/bundle.tgz"
demo_note "Its index (manifest.json):"
tar -xzOf "$DEMO_DIR/bundle.tgz" --wildcards '*/manifest.json' >"$DEMO_DIR/manifest.json"
python3 - "$DEMO_DIR/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"flatctl {m['flatctl']}, root {m['root']}, {m['start']} .. {m['end']}, cut: {m['cut']}")
print(f"  {'STATUS':<8} {'BYTES':>7} {'RED':>3}  PATH")
for i in m["items"]:
    why = f"  ({i['reason']})" if i["reason"] else ""
    print(f"  {i['status']:<8} {i['bytes']:>7} {i['redactions']:>3}  {i['path']}{why}")
PY
demo_note "The previous boot's journal, with the token on the kernel command line redacted:"
tar -xzOf "$DEMO_DIR/bundle.tgz" --wildcards '*/journal/boot-1.txt'
if tar -xzOf "$DEMO_DIR/bundle.tgz" | grep -a -q -e s3cr3t-demo-token -e not-for-your-eyes; then
	echo "demo: a planted secret is in the bundle" >&2
	false
fi
