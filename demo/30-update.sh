# shellcheck shell=bash
# demo/30-update.sh - a real update from `flatctl update serve` onto the demo image: check,
# download with progress, verify, install, the partition flip (docs/update.md).
U=$DEMO_DIR/update
R=$U/root
mkdir -p "$R/usr/share/flatcar" "$R/usr/share/update_engine" "$R/etc/flatcar"
echo FLATCAR_RELEASE_VERSION=3975.2.1 >"$R/usr/share/flatcar/release"
echo FLATCAR_RELEASE_BOARD=amd64-usr >>"$R/usr/share/flatcar/release"
demo_note "A machine running 3975.2.1 from USR-A, its disk an image file, its update key trusted:"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$U/key.pem" 2>/dev/null
openssl pkey -in "$U/key.pem" -pubout -out "$R/usr/share/update_engine/update-payload-key.pub.pem"
"$MKDISK" -q --layout compact "$U/disk.img"
demo_run flatctl --disk "$U/disk.img" partition show

demo_note "The release 4081.2.0: a 24 MiB USR image and a kernel, packed and signed:"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$U/usr.img"
head -c 500000 /dev/urandom >"$U/vmlinuz"
mkdir -p "$U/srv/stable"
demo_run flatctl update pack --image "$U/usr.img" --kernel "$U/vmlinuz" --key "$U/key.pem" \
	--compress none --out "$U/srv/stable/flatcar_production_update.gz"

demo_note "flatctl update serve offers it to the group 'stable' (Nebraska's answer format):"
echo '{ "groups": { "stable": { "version": "4081.2.0", "payload": "stable/flatcar_production_update.gz" } } }' \
	>"$U/srv/serve.json"
demo_run cat "$U/srv/serve.json"
"$FLATCTL" update serve "$U/srv" --listen 127.0.0.1:0 --log "$U/requests.log" 2>"$U/serve.err" &
demo_cleanup_pid $!
while ! grep -q " on http://" "$U/serve.err"; do sleep 0.05; done
cat "$U/serve.err"
echo "SERVER=$(sed -n 's|^flatctl update: serving .* on \(http://[^ ]*\)$|\1|p' "$U/serve.err")" \
	>"$R/etc/flatcar/update.conf"
demo_run cat "$R/etc/flatcar/update.conf"
demo_run flatctl --root "$R" --disk "$U/disk.img" update check

demo_note "Apply: download (progress bar on a terminal), verify everything, write USR-B and its"
demo_note "kernel, read back, then flip the GPT as the last write:"
demo_run flatctl --root "$R" --disk "$U/disk.img" update apply
demo_run flatctl --root "$R" --disk "$U/disk.img" update status
demo_run flatctl --disk "$U/disk.img" partition show
demo_note "USR-B now holds the new image byte for byte:"
start=$(cgpt show -i 4 -b "$U/disk.img")
demo_run sh -c "dd if='$U/disk.img' bs=512 skip=$start count=$((24 * 2048)) 2>/dev/null | cmp - '$U/usr.img' && echo identical"
demo_note "What the server logged (3/2 check, 13/1 download started, 14/1 finished, 3/1 installed):"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d["kind"] == "download":
        print("  download %s: HTTP %d, %d bytes" % (d["path"], d["status"], d["bytes"]))
    for e in d.get("events") or []:
        print("  event %s/%s" % (e["eventtype"], e["eventresult"]))' "$U/requests.log"
ln -s "$FLATCTL" "$U/update_engine_client"
demo_note "Scripts that ask update_engine_client still get their answer:"
demo_run "$U/update_engine_client" -root "$R" -status
demo_note "And the staged update can be undone in one step:"
demo_run flatctl --root "$R" --disk "$U/disk.img" update reset
demo_run flatctl --disk "$U/disk.img" partition show
