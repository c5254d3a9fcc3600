/* SPDX-License-Identifier: MIT */
/* lib/gpt/mbr.c - building LBA 0: the protective MBR of `cgpt boot -p` and of Flatcar's
 * `cgpt create`, the hybrid MBR of older Flatcar installs, the SYSLINUX boot GUID;
 * docs/partitions.md §5.1, §9.7, §9.8.
 *
 * Layout of the 512 bytes (the classic MBR, as cgpt sees it): boot code 0-423, the boot GUID
 * SYSLINUX's gptmbr.bin reads at 424-439, disk signature 440-443, a two-byte mark at 444 (cgpt
 * writes 0x1D 0x9A there), four 16-byte records at 446 (status, CHS of the first sector, type,
 * CHS of the last sector, first LBA and sector count, little-endian), 0x55 0xAA at 510. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "gpt/gpt.h"
#include "internal.h"
#include "util/problem.h"

#define BOOT_GUID_OFF 424
#define MARK_OFF 444
#define RECORDS_OFF 446
#define RECORD_SIZE 16
#define SIG_OFF 510

/* The classic BIOS geometry of 255 heads and 63 sectors per track; addresses past cylinder 1023
 * are written as the largest one (as fdisk, gdisk and Flatcar's cgpt do). */
static void lba_to_chs(uint8_t chs[3], uint64_t lba)
{
	const uint64_t heads = 255, secs = 63, cyls = 1024;
	uint64_t c, h, s;

	if (lba == 0) {
		c = h = s = 0;
	} else if (lba >= cyls * heads * secs) {
		c = cyls - 1;
		h = heads - 1;
		s = secs;
	} else {
		c = lba / (heads * secs);
		h = lba % (heads * secs) / secs;
		s = lba % secs + 1;
	}
	chs[0] = (uint8_t)h;
	chs[1] = (uint8_t)(((c >> 2) & 0xc0) | s);
	chs[2] = (uint8_t)(c & 0xff);
}

static void set_record(uint8_t *rec, uint8_t status, uint8_t type, const uint8_t first_chs[3],
		       const uint8_t last_chs[3], uint32_t first_lba, uint32_t count)
{
	rec[0] = status;
	memcpy(rec + 1, first_chs, 3);
	rec[4] = type;
	memcpy(rec + 5, last_chs, 3);
	gpt_wr32(rec + 8, first_lba);
	gpt_wr32(rec + 12, count);
}

/* The 0xEE record over the whole disk with the fixed CHS values protective MBRs carry. */
static void set_protective_record(uint8_t mbr[GPT_MBR_SIZE], uint32_t count)
{
	static const uint8_t first[3] = { 0x00, 0x02, 0x00 }, last[3] = { 0xff, 0xff, 0xff };

	memset(mbr + RECORDS_OFF, 0, 4 * RECORD_SIZE);
	set_record(mbr + RECORDS_OFF, 0x00, 0xee, first, last, 1, count);
	mbr[SIG_OFF] = 0x55;
	mbr[SIG_OFF + 1] = 0xaa;
}

void gpt_mbr_make_protective(uint8_t mbr[GPT_MBR_SIZE], uint64_t sectors)
{
	/* Debian's cgpt: sectors - 1 while that stays below 0xFFFFFFFF. */
	uint32_t count =
		sectors < 0xffffffffu ? (uint32_t)(sectors ? sectors - 1 : 0) : 0xffffffffu;

	mbr[MARK_OFF] = 0x1d;
	mbr[MARK_OFF + 1] = 0x9a;
	set_protective_record(mbr, count);
}

void gpt_mbr_make_fresh(uint8_t mbr[GPT_MBR_SIZE], uint64_t sectors)
{
	/* Flatcar's cgpt: sectors - 1 up to and including 0xFFFFFFFF sectors. */
	uint32_t count =
		sectors <= 0xffffffffu ? (uint32_t)(sectors ? sectors - 1 : 0) : 0xffffffffu;

	memset(mbr, 0, GPT_MBR_SIZE);
	set_protective_record(mbr, count);
}

int gpt_mbr_make_hybrid(uint8_t mbr[GPT_MBR_SIZE], const struct gpt *g, struct problem_list *reterr)
{
	uint64_t max = g->sectors - 1 < 0xffffffffu ? g->sectors - 1 : 0xffffffffu;

	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_legacy_bootable(e))
			continue;
		uint64_t f = gpt_entry_first_lba(e), l = gpt_entry_last_lba(e);
		if (l >= max || f < 2 || l < f)
			continue; /* an MBR record cannot describe it */
		uint8_t fc[3], lc[3];
		memset(mbr + RECORDS_OFF, 0, 4 * RECORD_SIZE);
		/* Record 0 is the bootable partition: Xen's pvgrub reads only the first record, and
		 * type 0x0C (FAT32 LBA) rather than 0xEF, which old GRUBs do not recognise. */
		lba_to_chs(fc, f);
		lba_to_chs(lc, l);
		set_record(mbr + RECORDS_OFF, 0x80, 0x0c, fc, lc, (uint32_t)f,
			   (uint32_t)(l - f + 1));
		/* Record 1 protects the GPT's own sectors before it. */
		lba_to_chs(fc, 1);
		lba_to_chs(lc, f - 1);
		set_record(mbr + RECORDS_OFF + RECORD_SIZE, 0x00, 0xee, fc, lc, 1,
			   (uint32_t)(f - 1));
		mbr[SIG_OFF] = 0x55;
		mbr[SIG_OFF + 1] = 0xaa;
		return 0;
	}
	return problem_add(reterr, -ENOENT, NULL,
			   "no partition with the legacy BIOS bootable bit fits an MBR record "
			   "(set it with 'cgpt add -i N -B 1')");
}

void gpt_mbr_set_boot_guid(uint8_t mbr[GPT_MBR_SIZE], const struct gpt_guid *guid)
{
	memcpy(mbr + BOOT_GUID_OFF, guid->bytes, 16);
}

void gpt_mbr_boot_guid(const uint8_t mbr[GPT_MBR_SIZE], struct gpt_guid *ret)
{
	memcpy(ret->bytes, mbr + BOOT_GUID_OFF, 16);
}
