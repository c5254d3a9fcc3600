# shellcheck shell=bash
# demo/21-provision-apply.sh - provisioning a machine from one config, all or nothing: a user
# with an SSH key, files, a unit enabled, and a data partition made and formatted on the
# machine's disk image, mounted while its files are written; then a config that fails half-way
# leaves the root exactly as it was (docs/provision-apply.md). Sourced by demo/run.sh.
root=$DEMO_DIR/machine
mkdir -p "$root/etc" "$root/proc" "$root/usr/share/baselayout" "$root/home/core" "$root/boot/flatcar"
: >"$root/proc/cmdline"
echo >"$root/boot/flatcar/first_boot"
printf 'root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Flatcar Admin:/home/core:/bin/bash\n' \
	>"$root/usr/share/baselayout/passwd"
printf 'root:x:0:root\nwheel:x:10:root,core\ncore:x:500:\n' >"$root/usr/share/baselayout/group"
chown 500:500 "$root/home/core"
# the machine's disk: Flatcar's partitions with free space after ROOT, on a loop device
"$MKDISK" -q --layout compact --size 512M "$DEMO_DIR/machine-disk.img"
disk=$(losetup -f --show "$DEMO_DIR/machine-disk.img")
demo_cleanup_loop "$disk"
cat >"$DEMO_DIR/machine.ign" <<'JSON'
{
  "ignition": { "version": "3.4.0" },
  "passwd": {
    "users": [
      { "name": "core", "sshAuthorizedKeys": [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDemoKey demo@laptop" ] },
      { "name": "deploy", "groups": [ "wheel" ] }
    ]
  },
  "storage": {
    "disks": [
      { "device": "/dev/vda", "partitions": [ { "number": 10, "label": "DATA" } ] }
    ],
    "filesystems": [
      { "device": "/dev/disk/by-partlabel/DATA", "format": "ext4", "label": "data",
        "path": "/var/lib/data" }
    ],
    "files": [
      { "path": "/var/lib/data/app/state.json", "mode": 384, "user": { "name": "deploy" },
        "contents": { "source": "data:,%7B%22ready%22%3Atrue%7D%0A" } },
      { "path": "/etc/hostname", "mode": 420, "contents": { "source": "data:,node-1%0A" } },
      { "path": "/opt/app/config.yaml", "mode": 384, "user": { "name": "deploy" },
        "contents": { "source": "data:,listen%3A%20%3A8080%0A" } }
    ]
  },
  "systemd": {
    "units": [
      { "name": "app.service", "enabled": true,
        "contents": "[Unit]\nDescription=demo app\n\n[Service]\nExecStart=/usr/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n" }
    ]
  }
}
JSON
demo_note "A Flatcar-like root (core in /usr/share/baselayout, the first-boot flag), its disk"
demo_note "image on $disk (the config calls it /dev/vda), and one config:"
demo_run flatctl --root "$root" provision --device /dev/vda="$disk" --config "$DEMO_DIR/machine.ign" --dry-run | sed -n '/^# plan/,$p'
demo_note "Applied for real: planned first (every mkfs tried on a scratch file), then the partition"
demo_note "table, mkfs.ext4, the mount, the files through an undo journal, the umount:"
demo_run flatctl --root "$root" provision --device /dev/vda="$disk" --config "$DEMO_DIR/machine.ign"
demo_run sgdisk -p "$DEMO_DIR/machine-disk.img" | sed -n '/^Number/,$p'
first=$(sgdisk -i 10 "$DEMO_DIR/machine-disk.img" | awk '/^First sector:/ { print $3 }')
part=$(losetup -f --show -o $((first * 512)) "$DEMO_DIR/machine-disk.img")
demo_cleanup_loop "$part"
mkdir -p "$DEMO_DIR/check"
demo_note "Nothing stays mounted; the data partition, mounted again, holds the file:"
demo_run blkid -p -o export "$part" | grep -e '^TYPE=' -e '^LABEL='
mount -o ro "$part" "$DEMO_DIR/check" && demo_cleanup_mount "$DEMO_DIR/check"
demo_run ls -ln "$DEMO_DIR/check/app/state.json"
demo_run cat "$DEMO_DIR/check/app/state.json"
umount "$DEMO_DIR/check"
losetup -d "$part"
demo_run cat "$root/home/core/.ssh/authorized_keys.d/ignition"
demo_run grep -h -e '^deploy:' -e '^wheel:' "$root/etc/passwd" "$root/etc/group"
demo_run ls -l "$root/opt/app/config.yaml"
demo_run cat "$root/etc/systemd/system-preset/20-ignition.preset"
demo_run jq -c '{userConfigProvided, flatctl: (.flatctl | {counts, storage: [.storage[] | "\(.kind) \(.device) \(.detail)"], rebootRequired})}' "$root/etc/.ignition-result.json"
[ ! -e "$root/boot/flatcar/first_boot" ] && demo_note "The first-boot flag is gone, as after Flatcar's ignition-quench."

demo_note ""
demo_note "A second config fails at its last entry (a file that exists, overwrite false). The root"
demo_note "is compared before and after, every owner, mode and byte:"
cat >"$DEMO_DIR/bad.ign" <<'JSON'
{
  "ignition": { "version": "3.4.0" },
  "passwd": { "users": [ { "name": "eve", "uid": 3000 } ] },
  "storage": { "files": [
    { "path": "/etc/motd", "contents": { "source": "data:,hello" } },
    { "path": "/etc/hostname", "contents": { "source": "data:,other" } } ] }
}
JSON
before=$(cd "$root" && find . -printf '%p %m %u %g %s\n' | sort | sha256sum)
demo_run flatctl --root "$root" provision --force --config "$DEMO_DIR/bad.ign"
echo "   exit $? (1 = failed, nothing changed)"
after=$(cd "$root" && find . -printf '%p %m %u %g %s\n' | sort | sha256sum)
[ "$before" = "$after" ] && demo_note "Root untouched: no user eve, no /etc/motd, the same tree."
[ "$before" = "$after" ]
