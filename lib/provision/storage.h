/* SPDX-License-Identifier: MIT */
/* lib/provision/storage.h - the disks, mount and umount stages (docs/provision.md §5.1,
 * docs/provision-apply.md §7): what the storage part of a plan holds between planning and
 * carrying it out. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct gpt;
struct prov_plan;

/* A whole disk the run knows: named by storage.disks, or the disk of a partition a filesystem
 * names (docs/provision.md §1.1 --device). */
struct st_disk {
	char *cfg;   /* the name in the config (/dev/vdb, /dev/loop3) */
	char *shown; /* for messages: the name, and what it maps to when mapped */
	int fd;	     /* O_RDWR (O_RDONLY in a dry run), flock()ed */
	bool blockdev;
	dev_t rdev;	       /* blockdev: the device number */
	dev_t fdev, fino;      /* image file: its device and inode */
	uint64_t size;	       /* bytes */
	uint32_t sector;       /* logical sector size */
	struct gpt *gpt;       /* the table as read, NULL when the disk has none */
	struct gpt *plan;      /* the table after this run (a copy), NULL: unchanged */
	bool new_table;	       /* plan is a new table (wipeTable, or none before): LBA 0 too */
	bool zap;	       /* wipeTable and no partitions: both headers zeroed */
	bool written;	       /* carried out */
	char where[48];	       /* storage.disks entry, or "" */
	unsigned changed[128]; /* slots whose entry changes (for the kernel's view) */
	unsigned nchanged;
};

enum st_fs_action {
	FS_ACT_SKIP,  /* left out (--devices skip), or format none with nothing there */
	FS_ACT_REUSE, /* the right filesystem is there: nothing to do */
	FS_ACT_MKFS,  /* wipefs and mkfs */
	FS_ACT_MOUNT, /* mount stage only: mount what is there */
};

/* One storage.filesystems entry. */
struct st_fs {
	json_t *e;
	char where[48];
	const char *device, *format, *path, *label, *uuid;
	bool wipe;
	enum st_fs_action act;
	/* where it lives: a partition of a known disk (disk >= 0, nr, byte range), or a device of
	 * its own (disk -1): fd open on it, hostpath set when it is a host block device */
	int disk;
	unsigned nr;
	uint64_t off, size;
	int fd;
	char *hostpath;
	char found[32], flabel[300], fuuid[64]; /* what libblkid found there */
	/* carried out */
	char *loop; /* /dev/loopN attached over the range, or NULL */
	int loop_fd;
	bool made;    /* mkfs ran */
	bool mounted; /* mounted by this run */
	char *mcanon; /* mount point, root-relative canonical */
};

struct prov_storage {
	struct st_disk *d;
	size_t nd;
	struct st_fs *f;
	size_t nf;
	bool planned_disks; /* the disks stage planned (filesystem decisions made) */
	bool planned_mount; /* the mount stage planned */
	char **mkdirs;	    /* mount points made by this run, root-relative, in order made */
	size_t nmkdirs;
	json_t *done; /* what was carried out: [{"kind", "device", "detail"}] */
};

struct prov_storage *storage_free(struct prov_storage *s);
/* The plan's storage part, made on first use (NULL: out of memory). */
struct prov_storage *storage_get(struct prov_plan *p);
/* Whether a device the config names can be found (for --devices skip). */
bool storage_device_exists(const struct prov_plan *p, const char *cfg);
/* Collect the filesystem entries once (mount_only: those with a path to mount). */
int storage_collect_fs(struct prov_plan *p, json_t *config, bool mount_only);

/* disks.c */
/* The disks stage: every partition change computed on the table in memory and checked, every
 * filesystem probed and decided (reuse, make, refuse); RAID and LUKS refused. Nothing written. */
int storage_plan_disks(struct prov_plan *p, json_t *config);
/* Filesystem entries with a path, resolved for the mount stage when the disks stage does not
 * run in this process (the device must hold the filesystem). */
int storage_plan_fs_for_mount(struct prov_plan *p, json_t *config);
/* True when the plan changes a disk or makes a filesystem. */
bool storage_disks_change(const struct prov_storage *s);
/* True when a table was written or a filesystem made (by storage_exec_disks()). */
bool storage_disks_done(const struct prov_storage *s);
/* Carry the disks stage out: the tables (crash-safe GPT writes), then wipefs and mkfs. On
 * failure the problem says what failed and what was done before; s->done lists it. */
int storage_exec_disks(struct prov_plan *p);
/* Attach a loop device over a filesystem's range (for mkfs and mount). */
int storage_fs_attach(struct prov_plan *p, struct st_fs *f);
void storage_fs_detach(struct st_fs *f);

/* mount.c */
int storage_plan_mount(struct prov_plan *p, json_t *config);
int storage_plan_umount(struct prov_plan *p, json_t *config);
bool storage_mounts(const struct prov_storage *s);
/* Make the mount points and mount, shallowest first. */
int storage_exec_mount(struct prov_plan *p);
/* Unmount what storage_exec_mount() mounted (or, in an umount-only run, what is mounted at the
 * filesystems' paths), deepest first. rmdirs: also remove the mount points this run made (after
 * a failure: the root as before). */
int storage_exec_umount(struct prov_plan *p, bool rmdirs);
