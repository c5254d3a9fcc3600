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

TEST(rollback_to_the_other_usr)
{
	_cleanup_close_ int fd = load_disk("updated", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	/* never booted well: one try, and it becomes the next boot */
	set_pts(g, 3, 1, 0, false);
	set_pts(g, 4, 2, 0, true);
	ASSERT_EQ(gpt_rollback(g, 4), 3);
	ASSERT_EQ(pts(g, 3), 210);
	ASSERT_EQ(pts(g, 4), 101);
	ASSERT_EQ(gpt_next_boot(g), 3);
	/* marked successful: its tries stay 0 */
	ASSERT_EQ(gpt_rollback(g, 3), 4);
	ASSERT_EQ(pts(g, 4), 201);
	ASSERT_EQ(pts(g, 3), 110);
	ASSERT_ERR(gpt_rollback(g, 9), ENOENT);
	ASSERT_EQ(pts(g, 4), 201);
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

/* ---- creating and editing (docs/partitions.md §5.3, §9.2, §9.7) ---- */

static const struct gpt_guid disk_one = { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 } };

/* The compact layout of tools/mkdisk, added with gpt_entry_add(). */
static int add_compact_layout(struct gpt *g)
{
	static const struct {
		unsigned nr;
		uint64_t first, size;
		const char *type, *label, *uuid;
	} parts[] = {
		{ 1, 4096, 32768, "efi", "EFI-SYSTEM", "1D7E3C56-0001-4C0B-9F00-000000000001" },
		{ 2, 36864, 4096, "bios", "BIOS-BOOT", "1D7E3C56-0002-4C0B-9F00-000000000002" },
		{ 3, 40960, 65536, "flatcar-usr", "USR-A", "7130C94A-213A-4E5A-8E26-6CCE9662F132" },
		{ 4, 106496, 65536, "flatcar-usr", "USR-B",
		  "E03DD35C-7C2D-4A47-B3FE-27F15780A57C" },
		{ 6, 172032, 32768, "data", "OEM", "1D7E3C56-0006-4C0B-9F00-000000000006" },
		{ 7, 204800, 16384, "flatcar-reserved", "OEM-CONFIG",
		  "1D7E3C56-0007-4C0B-9F00-000000000007" },
		{ 9, 221184, 32768, "flatcar-resize", "ROOT",
		  "1D7E3C56-0009-4C0B-9F00-000000000009" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		struct gpt_partition p = { .nr = parts[i].nr,
					   .first_lba = parts[i].first,
					   .size = parts[i].size,
					   .label = parts[i].label,
					   .align = 4096 };
		if (gpt_type_from_name(parts[i].type, &p.type) < 0 ||
		    gpt_guid_from_string(parts[i].uuid, &p.unique) < 0)
			return -EINVAL;
		if (parts[i].nr == 3)
			p.attributes = UINT64_C(0x0101000000000000);
		int r = gpt_entry_add(g, &p, NULL);
		if (r != (int)parts[i].nr)
			return r < 0 ? r : -EIO;
	}
	return 0;
}

TEST(create_and_add_give_the_fixture_bytes)
{
	_cleanup_close_ int fd = memfd_create("disk", MFD_CLOEXEC);
	_cleanup_close_ int ref = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	struct gpt_create_params p = { .sector_size = 512,
				       .sectors = DISK_SECTORS,
				       .disk_guid = &disk_one };
	static uint8_t a[34 * 512], b[34 * 512];

	ASSERT_TRUE(fd >= 0 && ftruncate(fd, (off_t)DISK_SECTORS * 512) == 0);
	ASSERT_OK(gpt_create(&p, &g, NULL));
	ASSERT_EQ(g->hdr.first_usable_lba, 34);
	ASSERT_EQ(g->hdr.last_usable_lba, DISK_SECTORS - 34);
	ASSERT_EQ(g->hdr.entries_lba, 2);
	ASSERT_EQ(gpt_num_entries(g), 128);
	ASSERT_TRUE(gpt_needs_write(g));
	ASSERT_OK(add_compact_layout(g));
	ASSERT_EQ(gpt_write(fd, g, NULL), 1);
	ASSERT_EQ(gpt_write(fd, g, NULL), 0); /* nothing left to write */
	/* everything but LBA 0, which a table write never touches */
	read_bytes(fd, 512, a, sizeof(a) - 512);
	read_bytes(ref, 512, b, sizeof(b) - 512);
	ASSERT_TRUE(memcmp(a, b, sizeof(a) - 512) == 0);
	read_bytes(fd, (uint64_t)(DISK_SECTORS - 33) * 512, a, 33 * 512);
	read_bytes(ref, (uint64_t)(DISK_SECTORS - 33) * 512, b, 33 * 512);
	ASSERT_TRUE(memcmp(a, b, 33 * 512) == 0);
}

TEST(create_4096_layout_and_padding)
{
	_cleanup_(gpt_freep) struct gpt *g = NULL, *h = NULL;
	struct gpt_create_params p = { .sector_size = 4096, .sectors = 32768 };

	ASSERT_OK(gpt_create(&p, &g, NULL));
	ASSERT_EQ(g->hdr.entries_lba, 2);
	ASSERT_EQ(g->hdr.first_usable_lba, 6);
	ASSERT_EQ(g->hdr.last_usable_lba, 32768 - 6);
	ASSERT_EQ(g->backup.hdr.entries_lba, 32768 - 5);
	ASSERT_FALSE(gpt_guid_is_zero(&g->hdr.disk_guid));
	p.padding = 3;
	ASSERT_OK(gpt_create(&p, &h, NULL));
	ASSERT_EQ(h->hdr.entries_lba, 5);
	ASSERT_EQ(h->hdr.first_usable_lba, 9);
	/* two random disk GUIDs differ, both RFC 4122 version 4 */
	ASSERT_FALSE(gpt_guid_equal(&g->hdr.disk_guid, &h->hdr.disk_guid));
	char buf[GPT_GUID_STRING_MAX];
	ASSERT_EQ(gpt_guid_to_string(&g->hdr.disk_guid, true, buf)[14], '4');
	ASSERT_TRUE(strchr("89AB", buf[19]) != NULL);
}

TEST(create_refuses_what_does_not_fit)
{
	_cleanup_(problem_list_release) struct problem_list pl = {};
	struct gpt *g = NULL;
	struct gpt_create_params p = { .sector_size = 1024, .sectors = 100000 };

	ASSERT_ERR(gpt_create(&p, &g, &pl), EINVAL);
	p.sector_size = 512;
	p.sectors = 67; /* one sector short of LBA 0, 2 headers, 2 arrays, 1 usable */
	ASSERT_ERR(gpt_create(&p, &g, &pl), EINVAL);
	ASSERT_TRUE(strstr(pl.item[pl.n - 1].message, "too small") != NULL);
	p.sectors = 68;
	ASSERT_OK(gpt_create(&p, &g, NULL));
	ASSERT_EQ(g->hdr.first_usable_lba, g->hdr.last_usable_lba);
	g = gpt_free(g);
	p.padding = 1;
	ASSERT_ERR(gpt_create(&p, &g, NULL), EINVAL);
	p.sectors = 1000;
	p.num_entries = 2000;
	ASSERT_ERR(gpt_create(&p, &g, NULL), EINVAL);
	ASSERT_NULL(g);
}

/* A created 128 MiB table with partitions 1 [100, 199] and 2 [300, 399]. */
static struct gpt *two_partitions(void)
{
	struct gpt_create_params p = { .sector_size = 512, .sectors = 262144 };
	struct gpt *g = NULL;
	struct gpt_partition a = { .nr = 1, .first_lba = 100, .size = 100 };
	struct gpt_partition b = { .nr = 2, .first_lba = 300, .size = 100 };

	if (gpt_create(&p, &g, NULL) < 0)
		return NULL;
	a.type = b.type = gpt_type_usr;
	(void)gpt_guid_from_string("11111111-1111-4111-8111-111111111111", &a.unique);
	(void)gpt_guid_from_string("22222222-2222-4222-8222-222222222222", &b.unique);
	if (gpt_entry_add(g, &a, NULL) != 1 || gpt_entry_add(g, &b, NULL) != 2)
		return gpt_free(g);
	return g;
}

TEST(entry_add_refuses_and_changes_nothing)
{
	_cleanup_(gpt_freep) struct gpt *g = two_partitions();
	_cleanup_(problem_list_release) struct problem_list pl = {};
	struct gpt_partition p = { .nr = 3, .first_lba = 150, .size = 200, .type = gpt_type_usr };
	static uint8_t before[128 * 128];

	ASSERT_NOT_NULL(g);
	memcpy(before, g->entries, sizeof(before));
	/* overlaps both: one problem per partition it overlaps */
	ASSERT_ERR(gpt_entry_add(g, &p, &pl), EINVAL);
	ASSERT_EQ(pl.n, 2);
	ASSERT_TRUE(strstr(pl.item[0].message, "overlap partition 1") != NULL);
	ASSERT_TRUE(strstr(pl.item[1].message, "overlap partition 2") != NULL);
	ASSERT_STREQ(pl.item[0].where, "partition 3");
	/* outside the usable area, misaligned, a unique GUID in use, a slot in use or too big */
	p.first_lba = 10;
	p.size = 10;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	p.first_lba = 262110;
	p.size = 2;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	p.first_lba = 1001;
	p.size = 10;
	p.align = 8;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	p.align = 0;
	p.unique = gpt_entry_get(g, 1)->unique;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	p.nr = 2;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EEXIST);
	p.nr = 129;
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), ERANGE);
	p.nr = 3;
	p.unique = (struct gpt_guid){};
	p.type = (struct gpt_guid){};
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	p.type = gpt_type_usr;
	p.label = "0123456789012345678901234567890123456"; /* 37 units */
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), EINVAL);
	ASSERT_TRUE(memcmp(before, g->entries, sizeof(before)) == 0);
	/* the same request, fixed, goes in: a random unique GUID, the label */
	p.label = "NEW";
	char label[GPT_LABEL_MAX];
	ASSERT_EQ(gpt_entry_add(g, &p, NULL), 3);
	ASSERT_FALSE(gpt_guid_is_zero(&gpt_entry_get(g, 3)->unique));
	gpt_entry_label(gpt_entry_get(g, 3), label);
	ASSERT_STREQ(label, "NEW");
	ASSERT_OK(gpt_check_entries(g, NULL));
}

TEST(entry_add_finds_slot_and_space)
{
	_cleanup_(gpt_freep) struct gpt *g = two_partitions();
	struct gpt_partition p = { .type = gpt_type_usr, .size = 100, .align = 64 };

	ASSERT_NOT_NULL(g);
	/* the first free extent that holds 100 aligned sectors: [200, 299] holds only 36 from 256
	 */
	ASSERT_EQ(gpt_entry_add(g, &p, NULL), 3);
	ASSERT_EQ(gpt_entry_first_lba(gpt_entry_get(g, 3)), 448);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 3)), 547);
	/* size 0: the rest of the first free extent */
	p.size = 0;
	p.align = 0;
	ASSERT_EQ(gpt_entry_add(g, &p, NULL), 4);
	ASSERT_EQ(gpt_entry_first_lba(gpt_entry_get(g, 4)), 34);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 4)), 99);
	/* a given start with size 0: up to the next partition */
	p.first_lba = 200;
	ASSERT_EQ(gpt_entry_add(g, &p, NULL), 5);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 5)), 299);
	p.first_lba = 350; /* inside partition 2 */
	ASSERT_ERR(gpt_entry_add(g, &p, NULL), ENOSPC);
	uint64_t f, l;
	ASSERT_OK(gpt_free_extent(g, 0, 1, true, &f, &l));
	ASSERT_EQ(f, 548);
	ASSERT_EQ(l, 262110);
	ASSERT_OK(gpt_check_entries(g, NULL));
}

TEST(entry_resize_and_delete)
{
	_cleanup_(gpt_freep) struct gpt *g = two_partitions();
	_cleanup_(problem_list_release) struct problem_list pl = {};

	ASSERT_NOT_NULL(g);
	uint64_t attr = UINT64_C(0x0102000000000000);
	gpt_entry_set_attributes(gpt_entry_get(g, 1), attr);
	ASSERT_OK(gpt_entry_resize(g, 1, 0, 0, 0, NULL)); /* grow up to partition 2 */
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 1)), 299);
	ASSERT_U64_EQ(gpt_entry_attributes(gpt_entry_get(g, 1)), attr);
	ASSERT_ERR(gpt_entry_resize(g, 1, 0, 201, 0, &pl), EINVAL); /* into partition 2 */
	ASSERT_TRUE(strstr(pl.item[0].message, "overlap partition 2") != NULL);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 1)), 299);
	ASSERT_OK(gpt_entry_resize(g, 2, 1000, 50, 0, NULL)); /* moved */
	ASSERT_EQ(gpt_entry_first_lba(gpt_entry_get(g, 2)), 1000);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 2)), 1049);
	ASSERT_ERR(gpt_entry_resize(g, 5, 0, 10, 0, NULL), ENOENT);
	ASSERT_OK(gpt_entry_delete(g, 2, NULL));
	ASSERT_FALSE(gpt_entry_is_used(gpt_entry_get(g, 2)));
	static const uint8_t zero[128];
	ASSERT_TRUE(memcmp(gpt_entry_get(g, 2), zero, 128) == 0);
	ASSERT_ERR(gpt_entry_delete(g, 2, NULL), ENOENT);
	ASSERT_ERR(gpt_entry_delete(g, 200, NULL), ERANGE);
	ASSERT_OK(gpt_entry_resize(g, 1, 0, 0, 0, NULL)); /* now to the end */
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 1)), 262110);
}

TEST(check_entries_lists_every_problem)
{
	_cleanup_(gpt_freep) struct gpt *g = two_partitions();
	_cleanup_(problem_list_release) struct problem_list pl = {};

	ASSERT_NOT_NULL(g);
	/* break the table behind the checked edits' back */
	gpt_entry_set_last_lba(gpt_entry_get(g, 1), 350);
	gpt_entry_get(g, 2)->unique = gpt_entry_get(g, 1)->unique;
	ASSERT_ERR(gpt_check_entries(g, &pl), EINVAL);
	ASSERT_EQ(pl.n, 2);
	ASSERT_TRUE(strstr(pl.item[0].message, "overlap") != NULL);
	ASSERT_TRUE(strstr(pl.item[1].message, "share a unique GUID") != NULL);
}

TEST(mbr_builders)
{
	uint8_t m[GPT_MBR_SIZE];
	bool mismatch = true;

	memset(m, 0xab, sizeof(m));
	gpt_mbr_make_protective(m, 262144);
	ASSERT_EQ(m[0], 0xab);	 /* boot code kept */
	ASSERT_EQ(m[443], 0xab); /* disk signature kept */
	ASSERT_EQ(m[444], 0x1d);
	ASSERT_EQ(m[445], 0x9a);
	static const uint8_t rec[16] = { 0, 0, 2, 0, 0xee, 0xff, 0xff, 0xff,
					 1, 0, 0, 0, 0xff, 0xff, 3,    0 };
	ASSERT_TRUE(memcmp(m + 446, rec, 16) == 0);
	ASSERT_EQ(m[462], 0);
	ASSERT_EQ(m[510], 0x55);
	ASSERT_EQ(m[511], 0xaa);
	ASSERT_EQ(gpt_mbr_kind(m, 262144, &mismatch), GPT_MBR_PROTECTIVE);
	ASSERT_FALSE(mismatch);
	gpt_mbr_make_protective(m, UINT64_C(1) << 33); /* capped */
	ASSERT_EQ(m[458] & m[459] & m[460] & m[461], 0xff);
	gpt_mbr_make_fresh(m, 262144);
	ASSERT_EQ(m[0], 0);
	ASSERT_EQ(m[444], 0);
	ASSERT_TRUE(memcmp(m + 446, rec, 16) == 0);
	struct gpt_guid u;
	ASSERT_OK(gpt_guid_from_string("7130C94A-213A-4E5A-8E26-6CCE9662F132", &u));
	gpt_mbr_set_boot_guid(m, &u);
	struct gpt_guid back;
	gpt_mbr_boot_guid(m, &back);
	ASSERT_TRUE(gpt_guid_equal(&u, &back));
	ASSERT_EQ(m[424], 0x4a); /* stored as on disk */
}

TEST(mbr_hybrid)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint8_t m[GPT_MBR_SIZE] = {};
	bool mismatch;

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	ASSERT_ERR(gpt_mbr_make_hybrid(m, g, NULL), ENOENT);
	struct gpt_entry *e = gpt_entry_get(g, 1);
	gpt_entry_set_attributes(e, gpt_entry_attributes(e) | GPT_ATTR_LEGACY_BOOT);
	ASSERT_OK(gpt_mbr_make_hybrid(m, g, NULL));
	/* record 0: EFI-SYSTEM at 4096-36863, bootable FAT32 LBA, CHS 0/65/2 to 2/75/9; record 1:
	 * the 0xEE record over 1-4095, CHS 0/0/2 to 0/65/1 (the values gdisk writes too) */
	static const uint8_t r0[16] = { 0x80, 0x41, 0x02, 0x00, 0x0c, 0x4b, 0x09, 0x02,
					0x00, 0x10, 0,	  0,	0x00, 0x80, 0,	  0 };
	static const uint8_t r1[16] = { 0x00, 0x00, 0x02, 0x00, 0xee, 0x41, 0x01, 0x00,
					1,    0,    0,	  0,	0xff, 0x0f, 0,	  0 };
	ASSERT_TRUE(memcmp(m + 446, r0, 16) == 0);
	ASSERT_TRUE(memcmp(m + 462, r1, 16) == 0);
	ASSERT_EQ(gpt_mbr_kind(m, DISK_SECTORS, &mismatch), GPT_MBR_HYBRID);
}

TEST(write_mbr_after_the_table_and_zap)
{
	_cleanup_close_ int fd = load_disk("fresh", DISK_SECTORS);
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	uint8_t m[GPT_MBR_SIZE], back[GPT_MBR_SIZE];

	ASSERT_OK(gpt_read(fd, 0, &g, NULL));
	read_bytes(fd, 0, m, sizeof(m));
	ASSERT_EQ(gpt_write_with_mbr(fd, g, m, NULL), 0); /* nothing differs */
	gpt_mbr_make_protective(m, DISK_SECTORS);
	ASSERT_EQ(gpt_write_with_mbr(fd, NULL, m, NULL), 1);
	read_bytes(fd, 0, back, sizeof(back));
	ASSERT_TRUE(memcmp(m, back, sizeof(m)) == 0);
	ASSERT_EQ(gpt_write_zap(fd, 512, NULL), 1);
	ASSERT_EQ(gpt_write_zap(fd, 512, NULL), 0);
	g = gpt_free(g);
	ASSERT_ERR(gpt_read(fd, 0, &g, NULL), ENOMSG);
	ASSERT_ERR(gpt_write_zap(fd, 1000, NULL), EINVAL);
}
