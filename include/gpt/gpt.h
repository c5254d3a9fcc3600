/* SPDX-License-Identifier: MIT */
/* include/gpt/gpt.h - GUID partition tables: read and check both copies, choose one, create a
 * table, edit entries, write crash-safely; docs/partitions.md.
 *
 * Model. A `struct gpt` is one table in memory: a primary-form header and the working entry array
 * (`entries`), kept as raw on-disk bytes. It comes from one of two places:
 *
 *   - READING (gpt_read, gpt_disk_open): the protective MBR, both headers and both entry arrays
 *     are loaded, each part is validated on its own (§6.2) and the copy to trust is chosen (§6.3);
 *     everything the caller does not change (reserved header tail, unused entries, unknown
 *     attribute bits) is carried through unchanged.
 *   - CREATING (gpt_create): a new, empty table for a disk of a given size, laid out as
 *     `cgpt create` lays it out (§9.7).
 *
 * Callers then EDIT the working table: the field accessors (gpt_entry_set_*), the boot-attribute
 * operations (gpt_prioritize, gpt_mark_successful, ...) and the checked edits that create, move,
 * resize and delete partitions (gpt_entry_add, gpt_entry_resize, gpt_entry_delete,
 * gpt_entry_replace; they validate bounds, alignment, overlaps and unique GUIDs and change
 * nothing on error). WRITING (gpt_write, gpt_disk_commit) builds both copies from the working
 * table (repairing a bad or stale copy, relocating a grown disk's backup, §7.1) and writes them
 * in the order of §7.2; LBA 0 (the MBR, §5.1) is written only when a caller asks for it, after
 * the table. Slot numbers are 1-based everywhere, as cgpt prints them. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/cleanup.h"

struct problem_list;

#define GPT_ENTRY_SIZE 128u
#define GPT_HEADER_MIN_SIZE 92u
#define GPT_MAX_ENTRIES 1024u
#define GPT_LABEL_UNITS 36u	/* UTF-16 code units in an entry name */
#define GPT_LABEL_MAX 148u	/* bytes for a label as UTF-8, NUL included */
#define GPT_GUID_STRING_MAX 37u /* 36 characters and the NUL */

/* ==== ON-DISK STRUCTURES (§2, §5) and the model ========================================== */

/* Attribute bits (§2). */
#define GPT_ATTR_REQUIRED (UINT64_C(1) << 0)
#define GPT_ATTR_NO_BLOCK_IO (UINT64_C(1) << 1)
#define GPT_ATTR_LEGACY_BOOT (UINT64_C(1) << 2)
#define GPT_ATTR_PRIORITY_SHIFT 48
#define GPT_ATTR_PRIORITY_MASK (UINT64_C(0xf) << 48)
#define GPT_ATTR_TRIES_SHIFT 52
#define GPT_ATTR_TRIES_MASK (UINT64_C(0xf) << 52)
#define GPT_ATTR_SUCCESSFUL_SHIFT 56
#define GPT_ATTR_SUCCESSFUL (UINT64_C(1) << 56)

/* A GUID as stored on disk (mixed-endian: first three fields little-endian, §5.3). */
struct gpt_guid {
	uint8_t bytes[16];
};

/* One 128-byte partition entry exactly as on disk (little-endian fields); use the accessors. */
struct gpt_entry {
	struct gpt_guid type;
	struct gpt_guid unique;
	uint64_t first_lba_le;
	uint64_t last_lba_le;
	uint64_t attributes_le;
	uint16_t name_le[GPT_LABEL_UNITS];
} __attribute__((packed));

_Static_assert(sizeof(struct gpt_entry) == GPT_ENTRY_SIZE, "GPT entry must be 128 bytes");

/* Decoded header fields of one copy (§5.2). */
struct gpt_header {
	char signature[8];
	uint32_t revision;
	uint32_t header_size;
	uint32_t header_crc;
	uint32_t reserved;
	uint64_t my_lba;
	uint64_t alternate_lba;
	uint64_t first_usable_lba;
	uint64_t last_usable_lba;
	struct gpt_guid disk_guid;
	uint64_t entries_lba;
	uint32_t num_entries;
	uint32_t entry_size;
	uint32_t entries_crc;
};

enum gpt_copy_state {
	GPT_COPY_OK,	  /* valid and equal to the chosen copy (apart from location fields) */
	GPT_COPY_STALE,	  /* valid on its own but different from the chosen copy */
	GPT_COPY_INVALID, /* header or array broken (see `problem`) */
	_GPT_COPY_STATE_MAX,
	_GPT_COPY_STATE_INVALID = -EINVAL,
};
const char *gpt_copy_state_to_string(enum gpt_copy_state s);

/* Where the chosen table came from (§6.3). */
enum gpt_source {
	GPT_SOURCE_PRIMARY,	   /* rule 1 */
	GPT_SOURCE_BACKUP,	   /* rule 2 */
	GPT_SOURCE_PRIMARY_HEADER, /* rule 3: primary header with the backup array */
	GPT_SOURCE_BACKUP_HEADER,  /* rule 3: backup header with the primary array */
	_GPT_SOURCE_MAX,
	_GPT_SOURCE_INVALID = -EINVAL,
};
const char *gpt_source_to_string(enum gpt_source s);

/* What LBA 0 holds (§5.1, cgpt show's first row). */
enum gpt_mbr_kind {
	GPT_MBR_PROTECTIVE, /* 0x55AA and one 0xEE record */
	GPT_MBR_HYBRID,	    /* 0xEE plus other records */
	GPT_MBR_NO_EE,	    /* 0x55AA but no 0xEE record */
	GPT_MBR_UNKNOWN,    /* no 0x55AA signature */
	_GPT_MBR_KIND_MAX,
	_GPT_MBR_KIND_INVALID = -EINVAL,
};

/* One of the two copies as read. */
struct gpt_copy {
	enum gpt_copy_state state;
	bool header_valid;     /* header passes every rule of §5.2 / §6.2 */
	bool entries_valid;    /* its array matches its header's CRC and the entry rules */
	uint64_t header_lba;   /* where the header was read */
	struct gpt_header hdr; /* decoded (meaningful when header_valid, best effort otherwise) */
	char *problem;	       /* first problem, e.g. "header CRC mismatch", or NULL */
	char *detail;	       /* the same with its place and values (§6.2), e.g. "backup header at
				* LBA 262143: header CRC 0x1f2e3d4c, computed 0x9a8b7c6d", or NULL */
};

struct gpt {
	uint32_t sector_size; /* 512 or 4096 */
	uint64_t sectors;     /* disk size in logical sectors */
	bool grown;	      /* the backup is not at the last LBA: disk grew (§6.5) */
	bool shrunk;	      /* the primary's alternate LBA lies beyond the end */
	enum gpt_mbr_kind mbr;
	bool mbr_size_mismatch; /* the 0xEE record no longer covers the disk */

	struct gpt_copy primary, backup;
	enum gpt_source source;

	/* The chosen table: a primary-form header and the working entry array. */
	struct gpt_header hdr;
	struct gpt_entry *entries; /* hdr.num_entries entries; change through accessors */

	/* Private to lib/gpt. */
	uint8_t *hdr_sector;	  /* chosen header sector as read (tail kept) */
	uint8_t *backup_sector;	  /* backup header sector as read, when valid */
	size_t array_bytes;	  /* whole sectors of the entry array */
	uint8_t *orig_regions[4]; /* current bytes at the 4 target regions, order of §7.2; NULL
				   * for a created table until it is written */
	uint64_t region_lba[4];
	size_t region_bytes[4];
	uint8_t *orig_entries; /* the chosen entry array as read (array_bytes) */
};

/* ==== READING (§6) ========================================================================== */

/* Read and choose (§6). sector_size: 512 or 4096, or 0 to detect (block device: BLKSSZGET;
 * regular file: 512, then 4096). Never writes. Problems of both copies go to reterr (errors
 * only when no copy is usable). Returns 0 and sets *ret, or -errno: -ENOMSG no GPT at all,
 * -EBADMSG both copies damaged, -EINVAL unsupported (entry size, count, size not a multiple of
 * the sector, sector-size mismatch on a block device), -EIO. */
int gpt_read(int fd, uint32_t sector_size, struct gpt **ret, struct problem_list *reterr);
/* The same on a memory buffer (a disk image of `size` bytes); used by tests and the fuzzer. */
int gpt_read_buffer(const void *data, size_t size, uint32_t sector_size, struct gpt **ret,
		    struct problem_list *reterr);
struct gpt *gpt_free(struct gpt *g);
DEFINE_CLEANUP(struct gpt, gpt_free)

/* CRC-32 of §5.4 (zlib's crc32). */
uint32_t gpt_crc32(const void *data, size_t size);

/* ==== CREATING a table and an MBR (§9.7, §9.8) ============================================== */

/* What `cgpt create` takes (§9.7). */
struct gpt_create_params {
	uint32_t sector_size;		  /* 512 or 4096 */
	uint64_t sectors;		  /* disk size in logical sectors */
	const struct gpt_guid *disk_guid; /* NULL: a random one */
	uint64_t padding;     /* sectors between the primary header and its array (cgpt -p) */
	uint32_t num_entries; /* 0: 128, the only count cgpt and Flatcar use */
};
/* A new, empty table for the disk p describes, laid out as Debian's cgpt lays it out: header size
 * 92 with a zero tail, primary array at LBA 2 + padding, first usable LBA right after it, backup
 * array and header at the end, last usable LBA right before the backup array, every entry zero.
 * Nothing is read or written; gpt_write()/gpt_disk_commit() put it on a disk, where it replaces
 * whatever was there. -EINVAL (with a problem) for a sector size, entry count or padding that
 * does not fit, or a disk too small to hold both copies and one usable sector. */
int gpt_create(const struct gpt_create_params *p, struct gpt **ret, struct problem_list *reterr);

#define GPT_MBR_SIZE 512u
#define GPT_MBR_BOOT_CODE_SIZE 424u /* cgpt boot -b: the code before the boot GUID at 424 */

/* LBA 0 as `cgpt boot -p` (Debian's cgpt) leaves it: boot code, boot GUID and disk signature
 * kept, bytes 444-445 set to 0x1D 0x9A (the SYSLINUX gptmbr.bin mark cgpt writes), the four
 * records cleared and record 0 made the 0xEE record from LBA 1 over the disk (capped at
 * 0xFFFFFFFF sectors), CHS 00 02 00 / FF FF FF, and the 0x55AA signature. sectors: the disk's
 * size in logical sectors. */
void gpt_mbr_make_protective(uint8_t mbr[GPT_MBR_SIZE], uint64_t sectors);
/* LBA 0 as Flatcar's `cgpt create` writes it: all 512 bytes zeroed, then the 0xEE record as
 * above (size capped at 0xFFFFFFFF, sectors - 1 below it) and 0x55AA, no 0x1D 0x9A mark. */
void gpt_mbr_make_fresh(uint8_t mbr[GPT_MBR_SIZE], uint64_t sectors);
/* The hybrid MBR of older Flatcar installs (Flatcar's cgpt, §5.1): record 0 the first used entry
 * of g with the legacy-BIOS-bootable bit (status 0x80, type 0x0C, LBA CHS), record 1 an 0xEE
 * record over LBA 1 up to that partition's start, records 2-3 cleared; boot code and signature
 * kept, 0x55AA set. -ENOENT (with a problem) when no entry has the bit or none ends below
 * 0xFFFFFFFF. */
int gpt_mbr_make_hybrid(uint8_t mbr[GPT_MBR_SIZE], const struct gpt *g,
			struct problem_list *reterr);
/* The SYSLINUX boot GUID at bytes 424-439 (`cgpt boot -i`). */
void gpt_mbr_set_boot_guid(uint8_t mbr[GPT_MBR_SIZE], const struct gpt_guid *guid);
void gpt_mbr_boot_guid(const uint8_t mbr[GPT_MBR_SIZE], struct gpt_guid *ret);
/* What LBA 0 holds (§5.1) for a disk of `sectors` sectors; *ret_mismatch when the 0xEE record of
 * a protective MBR no longer covers the disk. */
enum gpt_mbr_kind gpt_mbr_kind(const uint8_t mbr[GPT_MBR_SIZE], uint64_t sectors,
			       bool *ret_mismatch);

/* ==== EDITING the working table ============================================================= */

/* -- entry fields: no checks beyond the field's own range -- */
/* Entry `nr` (1-based) or NULL when out of range. */
struct gpt_entry *gpt_entry_get(struct gpt *g, unsigned nr);
const struct gpt_entry *gpt_entry_get_const(const struct gpt *g, unsigned nr);
unsigned gpt_num_entries(const struct gpt *g);

bool gpt_entry_is_used(const struct gpt_entry *e);
bool gpt_entry_is_usr(const struct gpt_entry *e);
uint64_t gpt_entry_first_lba(const struct gpt_entry *e);
uint64_t gpt_entry_last_lba(const struct gpt_entry *e);
void gpt_entry_set_first_lba(struct gpt_entry *e, uint64_t lba);
void gpt_entry_set_last_lba(struct gpt_entry *e, uint64_t lba);
uint64_t gpt_entry_attributes(const struct gpt_entry *e);
void gpt_entry_set_attributes(struct gpt_entry *e, uint64_t attr);
unsigned gpt_entry_priority(const struct gpt_entry *e);
unsigned gpt_entry_tries(const struct gpt_entry *e);
bool gpt_entry_is_successful(const struct gpt_entry *e);
bool gpt_entry_is_legacy_bootable(const struct gpt_entry *e);
/* 0, or -ERANGE when out of range (priority/tries 0-15). */
int gpt_entry_set_priority(struct gpt_entry *e, unsigned priority);
int gpt_entry_set_tries(struct gpt_entry *e, unsigned tries);
void gpt_entry_set_successful(struct gpt_entry *e, bool successful);
/* Label as UTF-8 into buf (GPT_LABEL_MAX bytes); returns the length. Invalid UTF-16 becomes
 * U+FFFD. */
size_t gpt_entry_label(const struct gpt_entry *e, char *buf);
/* 0, -EINVAL not valid UTF-8, -ERANGE more than 36 UTF-16 units. Pads with zeros. */
int gpt_entry_set_label(struct gpt_entry *e, const char *utf8);
/* Byte offset and size of a partition on the disk (for the updater's passive partition). */
int gpt_entry_extent(const struct gpt *g, unsigned nr, uint64_t *ret_offset, uint64_t *ret_size);

/* -- checked edits: create, move, resize, delete partitions (§5.3). Each validates the result
 * against the whole table and changes nothing when it fails; every problem found goes to reterr
 * with the partition it concerns, so a caller can list them all. -- */

/* The usable area a partition may occupy after the next write: first usable LBA, and the last
 * usable LBA (after relocation on a grown disk, §6.5). */
void gpt_usable_range(const struct gpt *g, uint64_t *ret_first, uint64_t *ret_last);
/* Every §5.3 rule on the working table: inside the usable area, no overlaps, distinct unique
 * GUIDs. 0, or -EINVAL with one problem per finding. */
int gpt_check_entries(const struct gpt *g, struct problem_list *reterr);
/* Put *e into slot nr (a new partition, a moved or resized one, or changed names) when the
 * table stays valid: e inside the usable area, not overlapping another used entry, its unique GUID
 * not used by another; when align > 1, its first LBA a multiple of align. An unused e (type all
 * zero) is always accepted. Returns 0, -ERANGE for a slot out of range, -EINVAL otherwise; on
 * error the slot keeps its bytes. */
int gpt_entry_replace(struct gpt *g, unsigned nr, const struct gpt_entry *e, uint64_t align,
		      struct problem_list *reterr);

/* A new partition for gpt_entry_add(). */
struct gpt_partition {
	unsigned nr;		/* slot; 0: the first unused one */
	uint64_t first_lba;	/* 0: the start of the first free extent big enough (aligned) */
	uint64_t size;		/* sectors; 0: the rest of the free extent that starts there */
	struct gpt_guid type;	/* must not be zero */
	struct gpt_guid unique; /* all zero: a random one */
	const char *label;	/* UTF-8, at most 36 UTF-16 units; NULL: empty */
	uint64_t attributes;
	uint64_t align; /* sectors; 0 or 1: no alignment */
};
/* Add a partition in an unused slot: the slot is zeroed and filled from p. Returns the slot
 * number, or -EEXIST (slot in use), -ENOSPC (no unused slot, or no free space for first_lba 0),
 * -ERANGE (slot out of range), -EINVAL (invalid type or label, out of bounds, misaligned,
 * overlapping, duplicate unique GUID), each with a problem. */
int gpt_entry_add(struct gpt *g, const struct gpt_partition *p, struct problem_list *reterr);
/* Move and/or resize used partition nr to [first_lba, first_lba + size - 1]; first_lba 0 keeps
 * its start, size 0 grows it to the next used entry or the end of the usable area. Type, GUIDs,
 * label and attributes stay. 0 or -errno as gpt_entry_replace(); -ENOENT for an unused slot. */
int gpt_entry_resize(struct gpt *g, unsigned nr, uint64_t first_lba, uint64_t size, uint64_t align,
		     struct problem_list *reterr);
/* Delete partition nr: all 128 bytes of its slot become zero (as sgdisk -d does). 0, or -ENOENT
 * (unused) / -ERANGE (out of range) with a problem. */
int gpt_entry_delete(struct gpt *g, unsigned nr, struct problem_list *reterr);
/* The free extent [*ret_first, *ret_last] that starts at or after `from` (first usable LBA when
 * 0), aligned up to align, and the largest one if `largest`. 0, or -ENOSPC. */
int gpt_free_extent(const struct gpt *g, uint64_t from, uint64_t align, bool largest,
		    uint64_t *ret_first, uint64_t *ret_last);

/* -- boot attributes (§3, §4) -- */
/* GRUB gptprio.next's choice (§3.1) without the decrement: its number, or -ENOENT. */
int gpt_next_boot(const struct gpt *g);
/* cgpt prioritize (§4). target: 0 for none, else a USR-type entry; top: 0 for automatic, else
 * 1-15; friends: -f. Only priorities change. 0 or -EINVAL (target not USR type, top range). */
int gpt_prioritize(struct gpt *g, unsigned target, unsigned top, bool friends);
/* flatcar-setgoodroot (§3.3): successful=1, tries=0, prioritize. */
int gpt_mark_successful(struct gpt *g, unsigned nr);
/* flatcar-postinst (§3.2): successful=0, tries=1, prioritize. */
int gpt_prepare_for_boot(struct gpt *g, unsigned nr);
/* The last usable LBA a partition may grow to (§8.8): the last usable LBA after relocation, or
 * the sector before the next partition starting after it. */
uint64_t gpt_grow_limit(const struct gpt *g, unsigned nr);
/* Grow entry nr to gpt_grow_limit(). 0 when changed, 1 when it already fills the space. */
int gpt_grow(struct gpt *g, unsigned nr, uint64_t *ret_old_last, uint64_t *ret_new_last);

/* ==== WRITING (§7) ========================================================================== */

/* True when writing would change any byte on the disk (a change, a stale or invalid copy, a
 * grown disk's backup to relocate, a created table). */
bool gpt_needs_write(const struct gpt *g);
/* Refuse-to-write checks (entries beyond a shrunk disk's end): 0 or -EINVAL with a problem. A
 * disk that fails this cannot be repaired either (§6.5): only restoring its size helps. */
int gpt_check_writable(const struct gpt *g, struct problem_list *reterr);
/* Write both copies (§7): backup array, backup header, fsync, primary header, primary array,
 * fsync, then read back and compare. fd must be open O_RDWR. When a copy must be rebuilt or a
 * grown disk's backup relocated *and* entries changed, this takes two such passes: first the
 * table as read (repaired/relocated), then the change, so that no cut ever leaves two complete
 * copies with different entries where tools disagree on which to trust (cgpt reads the backup at
 * the end, sgdisk where the primary points) and no cut leaves no complete copy. Honours
 * FLATCTL_TEST_CRASH_AFTER (§7.4; K counts the region writes of the whole operation: 4, or 8
 * with two passes; malformed: -EINVAL before any write). Returns 0 when nothing needed writing, 1
 * when written, -errno otherwise (the problem list names the step). On success g describes the new
 * disk (both copies ok). */
int gpt_write(int fd, struct gpt *g, struct problem_list *reterr);
/* gpt_write() of g (NULL: the table is left alone), then, when mbr is not NULL and differs from
 * LBA 0's first 512 bytes, that one region (fsync, read back). The MBR region counts in
 * FLATCTL_TEST_CRASH_AFTER after the table's. 0 nothing written, 1 written, -errno. */
int gpt_write_with_mbr(int fd, struct gpt *g, const uint8_t *mbr, struct problem_list *reterr);
/* `cgpt create -z`: zero the header sectors, the backup's (last LBA) first, fsync, then LBA 1,
 * fsync; the arrays stay. Regions already zero are skipped; each counts in
 * FLATCTL_TEST_CRASH_AFTER. 0 nothing written, 1 written, -errno. */
int gpt_write_zap(int fd, uint32_t sector_size, struct problem_list *reterr);
/* Build the four regions gpt_write() would write into a disk image in memory (tests). */
int gpt_write_buffer(void *data, size_t size, struct gpt *g, struct problem_list *reterr);

/* ==== GUIDs, type names, lookup ============================================================= */

/* Parse "7130C94A-213A-4E5A-8E26-6CCE9662F132" in either case. 0 or -EINVAL. */
int gpt_guid_from_string(const char *s, struct gpt_guid *ret);
/* Format into buf (GPT_GUID_STRING_MAX bytes), uppercase or lowercase; returns buf. */
char *gpt_guid_to_string(const struct gpt_guid *g, bool upper, char *buf);
bool gpt_guid_equal(const struct gpt_guid *a, const struct gpt_guid *b);
bool gpt_guid_is_zero(const struct gpt_guid *g);
/* A random (RFC 4122 version 4) GUID from getrandom(). 0 or -errno. */
int gpt_guid_random(struct gpt_guid *ret);

extern const struct gpt_guid gpt_type_usr;    /* 5DFBF5F4-2848-4BAC-AA5E-0D9A20B745A6 */
extern const struct gpt_guid gpt_type_resize; /* 3884DD41-... flatcar-resize (ROOT) */
extern const struct gpt_guid gpt_type_kernel; /* FE3A2A5D-... ChromeOS kernel */
extern const struct gpt_guid gpt_usr_a_uuid;  /* 7130C94A-213A-4E5A-8E26-6CCE9662F132 */
extern const struct gpt_guid gpt_usr_b_uuid;  /* E03DD35C-7C2D-4A47-B3FE-27F15780A57C */

/* The name `cgpt show` prints for a type ("EFI System Partition", "Alias for coreos-rootfs"),
 * or NULL when unknown (print the GUID). */
const char *gpt_type_description(const struct gpt_guid *type);
/* A short name (efi, bios, flatcar-usr, coreos-rootfs, data, linux-data, kernel, ...) or a GUID
 * string to a type GUID. 0, or -EINVAL unknown. "unused" is refused. */
int gpt_type_from_name(const char *name, struct gpt_guid *ret);
/* The preferred short name of a type (flatcar-usr, efi, ...), or NULL. */
const char *gpt_type_short_name(const struct gpt_guid *type);

/* The first used entry with exactly this label: its number, or -ENOENT. */
int gpt_find_label(const struct gpt *g, const char *label);
/* First used entry with this unique GUID: its number, or -ENOENT. */
int gpt_find_unique(const struct gpt *g, const struct gpt_guid *uuid);
/* A target as the applets take it: a label ("USR-B") or a slot number ("4"), which must be a
 * used USR-type entry. Returns its number, -ENOENT (not there or not USR type, with a problem
 * naming it). */
int gpt_find_usr_target(const struct gpt *g, const char *target, struct problem_list *reterr);
/* Number of used USR-type entries; fills up to `max` numbers into nrs when non-NULL. */
unsigned gpt_usr_entries(const struct gpt *g, unsigned *nrs, unsigned max);
/* With exactly two USR entries, the one that is not nr (the updater's passive partition when nr
 * is the booted one; its extent via gpt_entry_extent()). -ENOENT fewer than two or nr not one of
 * them, -ENOTUNIQ more than two. */
int gpt_other_usr(const struct gpt *g, unsigned nr);
/* Roll back in memory (docs/partitions.md §3.5): the USR partition other than `from` becomes the
 * next boot target with the highest priority and one try unless it is marked successful.
 * Returns its number, or gpt_other_usr()'s error; the caller commits. */
int gpt_rollback(struct gpt *g, unsigned from);
/* "USR-A", or the number as a string when the label is empty, into buf (GPT_LABEL_MAX). */
const char *gpt_entry_name(const struct gpt *g, unsigned nr, char *buf);

/* ==== DISKS: open, lock, commit (§7.3, §8.6, §8.7) ========================================== */

struct gpt_disk {
	char *path; /* as given */
	int fd;	    /* O_RDONLY; the lock lives on it */
	bool is_blockdev;
	bool locked;
	uint64_t size_bytes;
	uint32_t sector_size;  /* the device's logical sector size (BLKSSZGET); 512 for a file */
	unsigned partition_nr; /* when opened through a partition device: its slot, else 0 */
	uint8_t mbr[GPT_MBR_SIZE]; /* LBA 0's first 512 bytes as read (zeros when too small) */
	struct gpt *gpt;	   /* the table read, or NULL with GPT_DISK_NO_READ; commit writes
				    * whatever is here (a created table too) */
	uint8_t *new_mbr;	   /* NULL, or 512 bytes commit writes to LBA 0 after the table */
	bool zap;		   /* commit zeroes both headers instead (cgpt create -z) */
};
enum gpt_disk_flags {
	GPT_DISK_LOCK = 1 << 0,	   /* flock LOCK_EX, retry 100 ms for 5 s, then -EBUSY */
	GPT_DISK_NO_READ = 1 << 1, /* do not read the GPT (create, boot): d->gpt stays NULL */
	GPT_DISK_CREATE = 1 << 2,  /* a missing regular file is created (cgpt create -c) */
};
/* Open a disk or image (a partition device opens its whole disk and sets partition_nr), lock if
 * asked, and read the GPT. min_bytes > 0: a regular file shorter than that is extended to it
 * (sparse), a block device shorter is refused with -ENOSPC (cgpt create -s). Errors: -ENOENT,
 * -EISDIR/-ENODEV (directory, char device, with a problem), -EBUSY lock held, and gpt_read's. */
int gpt_disk_open_sized(const char *path, unsigned flags, uint64_t min_bytes, struct gpt_disk **ret,
			struct problem_list *reterr);
static inline int gpt_disk_open(const char *path, unsigned flags, struct gpt_disk **ret,
				struct problem_list *reterr)
{
	return gpt_disk_open_sized(path, flags, 0, ret, reterr);
}
/* Read the GPT of a disk opened with GPT_DISK_NO_READ (sector_size 0: detect). */
int gpt_disk_read(struct gpt_disk *d, uint32_t sector_size, struct problem_list *reterr);
/* Write back what d holds, opening the disk O_RDWR only when a byte changes: d->zap, or d->gpt
 * (repair, change, created table) then d->new_mbr. 0 unchanged, 1 written, -EROFS for a
 * read-only device or file (problem "read-only device"), other -errno. */
int gpt_disk_commit(struct gpt_disk *d, struct problem_list *reterr);
struct gpt_disk *gpt_disk_free(struct gpt_disk *d);
DEFINE_CLEANUP(struct gpt_disk, gpt_disk_free)

/* §8.6 step 2: the whole disk holding a partition labelled USR-A (libblkid). *ret is a device
 * path. -ENOENT none found; -ENOTUNIQ several (each listed as a problem). */
int gpt_find_disk(struct problem_list *reterr, char **ret);
/* §8.6 step 3: a partition device to its whole-disk node and slot. -ENOTBLK not a partition. */
int gpt_partition_device(const char *path, char **ret_disk, unsigned *ret_nr);

/* §8.7: which USR entry is booted. root_fd: the --root; root_is_slash: --root is "/". Returns
 * the number, or -ENOENT unknown. *ret_inferred is set when the answer came from the
 * attributes (image files only). */
int gpt_find_booted(int root_fd, bool root_is_slash, const struct gpt_disk *d, bool *ret_inferred);
