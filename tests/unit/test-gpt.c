/* SPDX-License-Identifier: MIT */
/* tests/unit/test-gpt.c - lib/gpt: CRC, parsing of real tables and damaged variants, GUIDs, labels,
 * prioritize, GRUB's next-boot rule, writing, growing; docs/partitions.md §11. */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

#include "gpt/gpt.h"
#include "util/problem.h"

#define DISK_SECTORS 262144u /* mkdisk --layout compact */
#define BIN_BYTES (67u * 512u)

/* A sparse in-memory disk of `sectors` sectors rebuilt from a tests/data/gpt/ .bin file (first 34
 * and last 33 sectors), or -1. */
static int load_disk(const char *state, uint64_t sectors)
{
	char path[512];
	const char *src = getenv("FLATCTL_SRC");
	static uint8_t bin[BIN_BYTES];

	snprintf(path, sizeof(path), "%s/tests/data/gpt/%s.bin", src ? src : ".", state);
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	ssize_t n = read(in, bin, sizeof(bin));
	close(in);
	if (n != (ssize_t)sizeof(bin))
		return -1;
	int fd = memfd_create("disk", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)(sectors * 512)) < 0)
		return -1;
	if (pwrite(fd, bin, 34 * 512, 0) != 34 * 512 ||
	    pwrite(fd, bin + 34 * 512, 33 * 512, (off_t)((DISK_SECTORS - 33) * 512)) != 33 * 512)
		return -1;
	return fd;
}

static void poke(int fd, uint64_t off, uint8_t v)
{
	(void)!pwrite(fd, &v, 1, (off_t)off);
}

static void read_bytes(int fd, uint64_t off, void *buf, size_t n)
{
	(void)!pread(fd, buf, n, (off_t)off);
}

static unsigned pts(const struct gpt *g, unsigned nr)
{
	const struct gpt_entry *e = gpt_entry_get_const(g, nr);
	return gpt_entry_priority(e) * 100 + gpt_entry_tries(e) * 10 + gpt_entry_is_successful(e);
}

TEST(crc32_check_value)
{
	ASSERT_U64_EQ(gpt_crc32("123456789", 9), 0xCBF43926u);
}

TEST(parse_fresh_fields_and_crcs)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	char buf[GPT_GUID_STRING_MAX], label[GPT_LABEL_MAX];
	uint8_t hdr[512], arr[16384];

	ASSERT_TRUE(fd >= 0);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_EQ(g->sector_size, 512);
	ASSERT_EQ(g->sectors, DISK_SECTORS);
	ASSERT_EQ(g->source, GPT_SOURCE_PRIMARY);
	ASSERT_EQ(g->primary.state, GPT_COPY_OK);
	ASSERT_EQ(g->backup.state, GPT_COPY_OK);
	ASSERT_FALSE(g->grown);
	ASSERT_EQ(g->mbr, GPT_MBR_PROTECTIVE);
	ASSERT_EQ(g->hdr.num_entries, 128);
	ASSERT_EQ(g->hdr.first_usable_lba, 34);
	ASSERT_EQ(g->hdr.last_usable_lba, DISK_SECTORS - 34);
	ASSERT_EQ(g->backup.header_lba, DISK_SECTORS - 1);
	ASSERT_STREQ(gpt_guid_to_string(&g->hdr.disk_guid, false, buf),
		     "00000000-0000-0000-0000-000000000001");
	/* the CRCs of a real header and array */
	read_bytes(fd, 512, hdr, sizeof(hdr));
	read_bytes(fd, 1024, arr, sizeof(arr));
	ASSERT_U64_EQ(gpt_crc32(arr, sizeof(arr)), g->hdr.entries_crc);
	uint32_t stored = g->hdr.header_crc;
	memset(hdr + 16, 0, 4);
	ASSERT_U64_EQ(gpt_crc32(hdr, 92), stored);

	ASSERT_EQ(gpt_find_label(g, "USR-A"), 3);
	ASSERT_EQ(gpt_find_label(g, "USR-B"), 4);
	ASSERT_EQ(gpt_find_label(g, "ROOT"), 9);
	ASSERT_EQ(gpt_find_label(g, "usr-a"), -ENOENT);
	ASSERT_TRUE(gpt_guid_equal(&gpt_entry_get(g, 3)->unique, &gpt_usr_a_uuid));
	ASSERT_TRUE(gpt_guid_equal(&gpt_entry_get(g, 4)->unique, &gpt_usr_b_uuid));
	ASSERT_U64_EQ(gpt_entry_attributes(gpt_entry_get(g, 3)), 0x0101000000000000ull);
	gpt_entry_label(gpt_entry_get(g, 1), label);
	ASSERT_STREQ(label, "EFI-SYSTEM");
	ASSERT_FALSE(gpt_entry_is_used(gpt_entry_get(g, 5)));
	ASSERT_EQ(gpt_usr_entries(g, NULL, 0), 2);
	ASSERT_STREQ(gpt_type_description(&gpt_entry_get(g, 3)->type), "Alias for coreos-rootfs");
	ASSERT_STREQ(gpt_type_description(&gpt_entry_get(g, 1)->type), "EFI System Partition");
	ASSERT_STREQ(gpt_type_description(&gpt_entry_get(g, 9)->type), "CoreOS auto-resize");
	uint64_t off, size;
	ASSERT_OK(gpt_entry_extent(g, 4, &off, &size));
	ASSERT_U64_EQ(off, 106496ull * 512);
	ASSERT_U64_EQ(size, 32ull << 20);
	ASSERT_FALSE(gpt_needs_write(g));
}

TEST(parse_every_state)
{
	static const struct {
		const char *state;
		unsigned a, b;
		int next;
	} cases[] = {
		{ "fresh", 101, 0, 3 },	      { "updated", 101, 210, 4 },
		{ "trying-b", 101, 200, 3 },  { "booted-b", 101, 201, 4 },
		{ "fell-back", 201, 100, 3 }, { "updated-a", 210, 101, 3 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_close_ int fd = load_disk(cases[i].state, DISK_SECTORS);
		_cleanup_(gpt_freep) struct gpt *g = NULL;
		ASSERT_TRUE(fd >= 0);
		ASSERT_OK(gpt_read(fd, 0, &g, NULL));
		ASSERT_EQ(pts(g, 3), cases[i].a);
		ASSERT_EQ(pts(g, 4), cases[i].b);
		ASSERT_EQ(gpt_next_boot(g), cases[i].next);
	}
}

TEST(damaged_primary_header_uses_backup)
{
	_cleanup_close_ int fd = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};

	poke(fd, 512 + 20, 0x5a); /* reserved field: header CRC no longer matches */
	ASSERT_OK(gpt_read(fd, 0, &g, &p));
	ASSERT_EQ(g->source, GPT_SOURCE_BACKUP);
	ASSERT_EQ(g->primary.state, GPT_COPY_INVALID);
	ASSERT_STREQ(g->primary.problem, "header CRC mismatch");
	ASSERT_EQ(g->backup.state, GPT_COPY_OK);
	ASSERT_EQ(pts(g, 4), 210);
	ASSERT_EQ(g->hdr.my_lba, 1);
	ASSERT_EQ(g->hdr.entries_lba, 2);
	ASSERT_TRUE(gpt_needs_write(g));
	ASSERT_EQ(problem_count(&p, PROBLEM_WARNING), 1);
	ASSERT_TRUE(strstr(p.item[0].message, "primary header at LBA 1: header CRC 0x") != NULL);
}

TEST(damaged_primary_array_uses_backup)
{
	_cleanup_close_ int fd = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	poke(fd, 1024 + 128 * 20, 0x77); /* an unused entry: array CRC mismatch */
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_EQ(g->source, GPT_SOURCE_BACKUP);
	ASSERT_STREQ(g->primary.problem, "entry array CRC mismatch");
}

TEST(damaged_backup_header_keeps_primary)
{
	_cleanup_close_ int fd = load_disk("booted-b", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	poke(fd, (uint64_t)(DISK_SECTORS - 1) * 512 + 3, 0);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_EQ(g->source, GPT_SOURCE_PRIMARY);
	ASSERT_EQ(g->backup.state, GPT_COPY_INVALID);
	ASSERT_EQ(pts(g, 4), 201);
}

TEST(stale_backup)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_close_ int fd2 = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint8_t buf[33 * 512];

	/* the backup of another state: valid, different (a write cut between the copies) */
	read_bytes(fd2, (uint64_t)(DISK_SECTORS - 33) * 512, buf, sizeof(buf));
	(void)!pwrite(fd, buf, sizeof(buf), (off_t)(DISK_SECTORS - 33) * 512);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_EQ(g->source, GPT_SOURCE_PRIMARY);
	ASSERT_EQ(g->backup.state, GPT_COPY_STALE);
	ASSERT_EQ(pts(g, 4), 0);
}

TEST(both_damaged_is_ebadmsg)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};

	poke(fd, 512 + 20, 1);
	poke(fd, (uint64_t)(DISK_SECTORS - 1) * 512 + 20, 1);
	ASSERT_ERR(gpt_read(fd, 0, &g, &p), EBADMSG);
	ASSERT_NULL(g);
	ASSERT_EQ(problem_count(&p, PROBLEM_ERROR), 2);
	ASSERT_STREQ(p.item[0].where, "primary");
	ASSERT_STREQ(p.item[1].where, "backup");
}

TEST(mixed_copy_rule_3)
{
	_cleanup_close_ int fd = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	poke(fd, 1024 + 128 * 20, 0x77);		      /* primary array broken */
	poke(fd, (uint64_t)(DISK_SECTORS - 1) * 512 + 20, 1); /* backup header broken */
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_EQ(g->source, GPT_SOURCE_PRIMARY_HEADER);
	ASSERT_EQ(pts(g, 4), 210);
}

TEST(no_gpt)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	static uint8_t zero[34 * 512];

	(void)!pwrite(fd, zero, sizeof(zero), 0);
	(void)!pwrite(fd, zero, 33 * 512, (off_t)(DISK_SECTORS - 33) * 512);
	ASSERT_ERR(gpt_read(fd, 0, &g, NULL), ENOMSG);
}

TEST(size_not_multiple_of_512)
{
	static uint8_t buf[1001];
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};

	ASSERT_ERR(gpt_read_buffer(buf, sizeof(buf), 0, &g, &p), EINVAL);
	ASSERT_STREQ(p.item[0].message, "size 1001 is not a multiple of 512");
}

TEST(entry_size_256_refused)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	uint8_t hdr[512];

	for (int copy = 0; copy < 2; copy++) {
		uint64_t off = copy ? (uint64_t)(DISK_SECTORS - 1) * 512 : 512;
		read_bytes(fd, off, hdr, sizeof(hdr));
		uint32_t v = 256;
		memcpy(hdr + 84, &v, 4);
		memset(hdr + 16, 0, 4);
		uint32_t crc = gpt_crc32(hdr, 92);
		memcpy(hdr + 16, &crc, 4);
		(void)!pwrite(fd, hdr, sizeof(hdr), (off_t)off);
	}
	ASSERT_ERR(gpt_read(fd, 0, &g, &p), EINVAL);
	ASSERT_TRUE(strstr(p.item[0].message, "entry size 256") != NULL);
}

TEST(guid_round_trip)
{
	struct gpt_guid g;
	char buf[GPT_GUID_STRING_MAX];
	static const uint8_t want[16] = { 0x4A, 0xC9, 0x30, 0x71, 0x3A, 0x21, 0x5A, 0x4E,
					  0x8E, 0x26, 0x6C, 0xCE, 0x96, 0x62, 0xF1, 0x32 };

	ASSERT_OK(gpt_guid_from_string("7130c94a-213A-4e5a-8E26-6cce9662f132", &g));
	ASSERT_TRUE(memcmp(g.bytes, want, 16) == 0);
	ASSERT_STREQ(gpt_guid_to_string(&g, true, buf), "7130C94A-213A-4E5A-8E26-6CCE9662F132");
	ASSERT_STREQ(gpt_guid_to_string(&g, false, buf), "7130c94a-213a-4e5a-8e26-6cce9662f132");
	ASSERT_ERR(gpt_guid_from_string("7130c94a-213A-4e5a-8E26-6cce9662f13", &g), EINVAL);
	ASSERT_ERR(gpt_guid_from_string("7130c94a+213A-4e5a-8E26-6cce9662f132", &g), EINVAL);
	ASSERT_ERR(gpt_guid_from_string("7130c94a-213A-4e5a-8E26-6cce9662f13g", &g), EINVAL);
	struct gpt_guid t;
	ASSERT_OK(gpt_type_from_name("coreos-rootfs", &t));
	ASSERT_TRUE(gpt_guid_equal(&t, &gpt_type_usr));
	ASSERT_OK(gpt_type_from_name("kernel", &t));
	ASSERT_TRUE(gpt_guid_equal(&t, &gpt_type_kernel));
	ASSERT_ERR(gpt_type_from_name("unused", &t), EINVAL);
	ASSERT_ERR(gpt_type_from_name("nonsense", &t), EINVAL);
}

TEST(label_round_trip)
{
	struct gpt_entry e = {};
	char buf[GPT_LABEL_MAX];

	ASSERT_OK(gpt_entry_set_label(&e, "USR-A"));
	ASSERT_EQ(gpt_entry_label(&e, buf), 5);
	ASSERT_STREQ(buf, "USR-A");
	ASSERT_EQ(e.name_le[0], 'U');
	ASSERT_EQ(e.name_le[5], 0);
	/* non-ASCII, including a character outside the BMP (a surrogate pair) */
	ASSERT_OK(gpt_entry_set_label(&e, "Grüße-\xf0\x9f\x92\xbe"));
	gpt_entry_label(&e, buf);
	ASSERT_STREQ(buf, "Grüße-\xf0\x9f\x92\xbe");
	ASSERT_EQ(e.name_le[6], 0xd83d);
	ASSERT_EQ(e.name_le[7], 0xdcbe);
	ASSERT_OK(gpt_entry_set_label(&e, "123456789012345678901234567890123456"));
	ASSERT_EQ(gpt_entry_label(&e, buf), 36);
	ASSERT_ERR(gpt_entry_set_label(&e, "1234567890123456789012345678901234567"), ERANGE);
	ASSERT_ERR(gpt_entry_set_label(&e, "bad \xff utf8"), EINVAL);
	ASSERT_STREQ((gpt_entry_label(&e, buf), buf), "123456789012345678901234567890123456");
}

/* A synthetic table of n USR entries with the given priorities, other bits set to check that
 * they are kept. */
static struct gpt *synthetic(unsigned n, const unsigned *prio)
{
	struct gpt *g = calloc(1, sizeof(*g));
	g->hdr.num_entries = 128;
	g->entries = calloc(128, sizeof(struct gpt_entry));
	for (unsigned i = 0; i < n; i++) {
		struct gpt_entry *e = &g->entries[i];
		e->type = gpt_type_usr;
		e->unique.bytes[0] = (uint8_t)(i + 1);
		gpt_entry_set_first_lba(e, 100 + i * 10);
		gpt_entry_set_last_lba(e, 109 + i * 10);
		gpt_entry_set_attributes(e, 0x8000000000000004ull | (1ull << 56) | (3ull << 52));
		(void)gpt_entry_set_priority(e, prio[i]);
	}
	return g;
}

static bool prios_are(const struct gpt *g, unsigned n, const unsigned *want)
{
	for (unsigned i = 0; i < n; i++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, i + 1);
		if (gpt_entry_priority(e) != want[i])
			return false;
		if ((gpt_entry_attributes(e) & ~GPT_ATTR_PRIORITY_MASK) !=
		    (0x8000000000000004ull | (1ull << 56) | (3ull << 52)))
			return false;
	}
	return true;
}

#define PRIO_CASE(n, target, top, friends, in, out)                      \
	do {                                                             \
		static const unsigned in_[] = { __VA_ARGS_IN in };       \
		static const unsigned out_[] = { __VA_ARGS_IN out };     \
		_cleanup_(gpt_freep) struct gpt *g_ = synthetic(n, in_); \
		ASSERT_OK(gpt_prioritize(g_, target, top, friends));     \
		ASSERT_TRUE(prios_are(g_, n, out_));                     \
	} while (0)
#define __VA_ARGS_IN(...) __VA_ARGS__

TEST(prioritize_two)
{
	PRIO_CASE(2, 1, 0, false, (5, 3), (2, 1)); /* already highest: renumbered */
	PRIO_CASE(2, 2, 0, false, (1, 0), (1, 2)); /* fresh disk, B */
	PRIO_CASE(2, 2, 0, false, (0, 4), (0, 1)); /* the other at 0 stays 0 */
	PRIO_CASE(2, 1, 0, false, (1, 2), (2, 1)); /* rollback-like */
	PRIO_CASE(2, 0, 0, false, (7, 3), (2, 1)); /* no target: renumber */
	PRIO_CASE(2, 2, 0, false, (2, 2), (1, 2)); /* tie broken by the target */
	PRIO_CASE(1, 1, 0, false, (0), (1));
	PRIO_CASE(1, 1, 0, false, (9), (1));
}

TEST(prioritize_top_and_friends)
{
	PRIO_CASE(4, 4, 3, false, (4, 3, 2, 1), (2, 1, 1, 3)); /* -P 3, never below 1 */
	PRIO_CASE(3, 2, 0, true, (2, 2, 1), (2, 2, 1));	       /* -f keeps the group */
	PRIO_CASE(4, 3, 0, true, (3, 2, 1, 1), (2, 1, 3, 3));  /* -f lifts the whole group */
	PRIO_CASE(4, 3, 0, false, (3, 2, 1, 1), (3, 2, 4, 1));
	PRIO_CASE(3, 1, 15, false, (1, 2, 3), (15, 13, 14)); /* -P 15 */
	PRIO_CASE(3, 3, 1, false, (1, 2, 0), (1, 1, 1));     /* -P 1 */
}

TEST(prioritize_sixteen)
{
	/* 16 entries in 15 groups; target the 16th (priority 1): 16 groups capped at 15 */
	PRIO_CASE(16, 16, 0, false, (15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1),
		  (14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1, 15));
	PRIO_CASE(16, 1, 0, false, (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
		  (2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
	PRIO_CASE(16, 1, 0, true, (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
		  (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
}

TEST(prioritize_rejects)
{
	static const unsigned in[] = { 1, 2 };
	_cleanup_(gpt_freep) struct gpt *g = synthetic(2, in);

	ASSERT_ERR(gpt_prioritize(g, 3, 0, false), EINVAL); /* unused slot */
	ASSERT_ERR(gpt_prioritize(g, 1, 16, false), EINVAL);
	g->entries[1].type = gpt_type_kernel;
	ASSERT_ERR(gpt_prioritize(g, 2, 0, false), EINVAL); /* not USR type */
}

static void set_pts(struct gpt *g, unsigned nr, unsigned p, unsigned t, bool s)
{
	struct gpt_entry *e = gpt_entry_get(g, nr);
	(void)gpt_entry_set_priority(e, p);
	(void)gpt_entry_set_tries(e, t);
	gpt_entry_set_successful(e, s);
}

TEST(next_boot_rule)
{
	static const unsigned in[] = { 0, 0, 0 };
	_cleanup_(gpt_freep) struct gpt *g = synthetic(3, in);

	set_pts(g, 1, 1, 0, true);
	set_pts(g, 2, 2, 1, false);
	set_pts(g, 3, 0, 0, false);
	ASSERT_EQ(gpt_next_boot(g), 2); /* tries qualify */
	set_pts(g, 2, 2, 0, false);
	ASSERT_EQ(gpt_next_boot(g), 1); /* no tries, not successful: skipped */
	set_pts(g, 2, 1, 0, true);
	ASSERT_EQ(gpt_next_boot(g), 1); /* tie: lower slot */
	set_pts(g, 3, 2, 0, true);
	ASSERT_EQ(gpt_next_boot(g), 3); /* strictly higher wins */
	set_pts(g, 1, 0, 5, true);
	set_pts(g, 2, 0, 0, true);
	set_pts(g, 3, 0, 1, false);
	ASSERT_ERR(gpt_next_boot(g), ENOENT); /* priority 0 never wins */
	g->entries[0].type = gpt_type_kernel;
	set_pts(g, 1, 9, 1, true);
	ASSERT_ERR(gpt_next_boot(g), ENOENT); /* only the USR type counts */
}

TEST(mark_successful_and_prepare_for_boot)
{
	_cleanup_close_ int fd = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_OK(gpt_mark_successful(g, 4));
	ASSERT_EQ(pts(g, 3), 101);
	ASSERT_EQ(pts(g, 4), 201);
	ASSERT_OK(gpt_prepare_for_boot(g, 3));
	ASSERT_EQ(pts(g, 3), 210);
	ASSERT_EQ(pts(g, 4), 101);
	ASSERT_ERR(gpt_mark_successful(g, 9), EINVAL);
	ASSERT_EQ(gpt_other_usr(g, 3), 4);
	ASSERT_EQ(gpt_other_usr(g, 4), 3);
	ASSERT_ERR(gpt_other_usr(g, 9), ENOENT);
}

TEST(write_changes_only_attributes_and_crcs)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_close_ int ref = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	static uint8_t a[34 * 512], b[34 * 512];

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_OK(gpt_prepare_for_boot(g, 4));
	ASSERT_TRUE(gpt_needs_write(g));
	ASSERT_EQ(gpt_write(fd, g, NULL), 1);
	ASSERT_FALSE(gpt_needs_write(g));
	ASSERT_EQ(gpt_write(fd, g, NULL), 0);
	/* postinstall on fresh gives exactly mkdisk's "updated" bytes */
	read_bytes(fd, 0, a, sizeof(a));
	read_bytes(ref, 0, b, sizeof(b));
	ASSERT_TRUE(memcmp(a, b, sizeof(a)) == 0);
	read_bytes(fd, (uint64_t)(DISK_SECTORS - 33) * 512, a, 33 * 512);
	read_bytes(ref, (uint64_t)(DISK_SECTORS - 33) * 512, b, 33 * 512);
	ASSERT_TRUE(memcmp(a, b, 33 * 512) == 0);
}

TEST(repair_restores_bytes)
{
	_cleanup_close_ int fd = load_disk("booted-b", DISK_SECTORS);
	_cleanup_close_ int ref = load_disk("booted-b", DISK_SECTORS);
	static uint8_t a[34 * 512], b[34 * 512];

	for (int which = 0; which < 2; which++) {
		_cleanup_(gpt_freep) struct gpt *g = NULL;
		poke(fd, which ? (uint64_t)(DISK_SECTORS - 1) * 512 + 40 : 512 + 40, 0xee);
		ASSERT_OK(gpt_read(fd, 0, &g, NULL));
		ASSERT_EQ(gpt_write(fd, g, NULL), 1);
		read_bytes(fd, 0, a, sizeof(a));
		read_bytes(ref, 0, b, sizeof(b));
		ASSERT_TRUE(memcmp(a, b, sizeof(a)) == 0);
		read_bytes(fd, (uint64_t)(DISK_SECTORS - 33) * 512, a, 33 * 512);
		read_bytes(ref, (uint64_t)(DISK_SECTORS - 33) * 512, b, 33 * 512);
		ASSERT_TRUE(memcmp(a, b, 33 * 512) == 0);
	}
}

TEST(grown_disk_relocates_and_grows)
{
	/* the same image on a disk twice as big: the backup sits in the middle */
	_cleanup_close_ int fd = load_disk("fresh", 2 * DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint64_t old_last, new_last;

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_TRUE(g->grown);
	ASSERT_EQ(g->backup.state, GPT_COPY_OK);
	ASSERT_EQ(g->backup.header_lba, DISK_SECTORS - 1);
	ASSERT_TRUE(gpt_needs_write(g));
	ASSERT_EQ(gpt_grow(g, 9, &old_last, &new_last), 0);
	ASSERT_EQ(new_last, 2 * DISK_SECTORS - 34);
	ASSERT_EQ(gpt_grow(g, 4, &old_last, &new_last), 1); /* boxed in by OEM */
	ASSERT_EQ(gpt_write(fd, g, NULL), 1);
	ASSERT_FALSE(g->grown);
	ASSERT_EQ(g->backup.header_lba, 2 * DISK_SECTORS - 1);
	ASSERT_EQ(g->hdr.last_usable_lba, 2 * DISK_SECTORS - 34);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 9)), 2 * DISK_SECTORS - 34);
	ASSERT_EQ(gpt_grow(g, 9, &old_last, &new_last), 1);
}

TEST(shrunk_disk_refuses_writes)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	ASSERT_TRUE(ftruncate(fd, (off_t)(DISK_SECTORS - 16384) * 512) == 0);
	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_TRUE(g->shrunk);
	ASSERT_EQ(g->backup.state, GPT_COPY_INVALID);
	ASSERT_ERR(gpt_check_writable(g, NULL), EINVAL);
	ASSERT_ERR(gpt_write(fd, g, NULL), EINVAL);
}

TEST(crash_variable_malformed)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_OK(gpt_prepare_for_boot(g, 4));
	setenv("FLATCTL_TEST_CRASH_AFTER", "2:x", 1);
	ASSERT_ERR(gpt_write(fd, g, NULL), EINVAL);
	setenv("FLATCTL_TEST_CRASH_AFTER", "4", 1); /* K >= 4: no crash */
	ASSERT_EQ(gpt_write(fd, g, NULL), 1);
	unsetenv("FLATCTL_TEST_CRASH_AFTER");
}

TEST(booted_from_cmdline_offline)
{
	_cleanup_close_ int fd = load_disk("booted-b", DISK_SECTORS);
	char root[] = "/tmp/test-gpt-root.XXXXXX", path[64], file[256];
	static const struct {
		const char *cmdline;
		int nr;
		bool inferred;
	} cases[] = {
		{ "mount.usr=/dev/mapper/usr verity.usr=PARTUUID=7130C94A-213A-4E5A-8E26-6CCE9662F132",
		  3, false },
		{ "mount.usr=PARTLABEL=USR-A usr=PARTLABEL=USR-B", 3, false },
		{ "mount.usr=/dev/mapper/usr usr=PARTLABEL=USR-A", 3, false },
		{ "root=LABEL=ROOT mount.usr=/dev/sda3\n", 3, false },
		{ "mount.usr=PARTLABEL=ROOT", 4, true }, /* not a USR partition: inferred */
		{ "mount.usr=/dev/sda300", 4, true },
		{ "quiet", 4, true },
	};

	ASSERT_TRUE(fd >= 0);
	ASSERT_NOT_NULL(mkdtemp(root));
	snprintf(file, sizeof(file), "%s/proc", root);
	ASSERT_TRUE(mkdir(file, 0755) == 0);
	snprintf(file, sizeof(file), "%s/proc/cmdline", root);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	ASSERT_OK(gpt_disk_open(path, 0, &d, NULL));
	_cleanup_close_ int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(root_fd >= 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		FILE *f = fopen(file, "we");
		ASSERT_NOT_NULL(f);
		fputs(cases[i].cmdline, f);
		fclose(f);
		bool inferred = !cases[i].inferred;
		ASSERT_EQ(gpt_find_booted(root_fd, false, d, &inferred), cases[i].nr);
		ASSERT_EQ(inferred, cases[i].inferred);
	}
	/* with --root / an image file never matches the command line */
	bool inferred = false;
	ASSERT_EQ(gpt_find_booted(root_fd, true, d, &inferred), 4);
	ASSERT_TRUE(inferred);
	unlink(file);
	snprintf(file, sizeof(file), "%s/proc", root);
	rmdir(file);
	rmdir(root);
}
