# mk/provision.mk - provision area: Ignition config engine and stages (docs/provision.md).
DEPS_APT += jq python3 openssl
# the disks stage runs the real mkfs tools and wipefs; the tests check with blkid, fsck, sgdisk, cgpt
DEPS_APT += e2fsprogs xfsprogs btrfs-progs dosfstools util-linux gdisk cgpt
