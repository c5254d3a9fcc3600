# shellcheck shell=bash
# demo/10-partitions.sh - one A/B update lifecycle on a disk image with the partition applets:
# the updater's result, GRUB's pick, a simulated boot, mark-successful, rollback
# (docs/partitions.md §3.6). Sourced by demo/run.sh ($FLATCTL, $DEMO_DIR, $MKDISK, demo_*).
disk=$DEMO_DIR/disk.img
root=$DEMO_DIR/gpt-root
mkdir -p "$root/proc"

demo_note "A Flatcar disk image (compact layout) as the updater leaves it: the new version was"
demo_note "written to USR-B, which got priority 2 and one try; USR-A keeps priority 1, successful."
demo_run "$MKDISK" --layout compact --state updated -q "$disk"
demo_run flatctl --disk "$disk" partition show

demo_note "GRUB boots the USR partition with tries left or marked successful and the highest"
demo_note "priority: USR-B. Before booting it, GRUB spends the try (we do that with cgpt):"
demo_run cgpt add -i 4 -T 0 "$disk"
echo "BOOT_IMAGE=/flatcar/vmlinuz-b mount.usr=/dev/mapper/usr verity.usr=PARTUUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c" >"$root/proc/cmdline"
demo_note "The kernel command line of the booted system names USR-B (--root $root):"
demo_run cat "$root/proc/cmdline"
demo_run flatctl --root "$root" --disk "$disk" partition show
demo_note "Had this boot failed, the next GRUB run would fall back to USR-A (no tries left on USR-B)."

demo_note "The boot is good: mark the booted partition successful (what update_engine does after 45 s)."
demo_run flatctl --root "$root" --disk "$disk" partition mark-successful
demo_run flatctl --root "$root" --disk "$disk" partition show
demo_run flatctl --root "$root" --disk "$disk" partition mark-successful

demo_note "Roll back to the previous version; cgpt and sgdisk read the same table:"
demo_run flatctl --disk "$disk" rollback --dry-run
demo_run flatctl --disk "$disk" rollback
demo_run flatctl --disk "$disk" --json partition show
demo_run cgpt show -i 3 -P "$disk"
demo_run sgdisk -v "$disk"

demo_note "A damaged primary GPT still reads (from the backup) and is repaired in place:"
demo_run dd if=/dev/urandom of="$disk" bs=512 seek=1 count=1 conv=notrunc status=none
demo_run flatctl --disk "$disk" partition show
demo_run flatctl --disk "$disk" partition repair
demo_run flatctl --disk "$disk" partition repair
