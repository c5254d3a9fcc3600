/* SPDX-License-Identifier: MIT */
/* tests/unit/test-byteorder.c - the on-disk byte order is the format's, never the host's
 * (docs/build.md 10): GPT's little-endian fields, mixed-endian GUIDs, UTF-16LE labels and
 * CRC32, and CrAU's big-endian header, each against bytes written down by hand. `make
 * check-s390x` runs this on a big-endian machine under qemu. */
#include <string.h>

#include "tap.h"

#include "gpt/gpt.h"
#include "payload/payload.h"
#include "util/problem.h"

static bool host_is_big_endian(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 0;
}

TEST(host)
{
	/* not a check: says which byte order this run proves */
	printf("# host byte order: %s-endian\n", host_is_big_endian() ? "big" : "little");
}

TEST(guid_mixed_endian)
{
	/* EFI System Partition: the first three fields are stored little-endian */
	static const uint8_t disk[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
					  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
	struct gpt_guid g;
	char buf[37];

	ASSERT_OK(gpt_guid_from_string("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", &g));
	ASSERT_TRUE(memcmp(g.bytes, disk, 16) == 0);
	memcpy(g.bytes, disk, 16);
	ASSERT_STREQ(gpt_guid_to_string(&g, true, buf), "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
}

TEST(entry_fields_little_endian)
{
	struct gpt_entry e;
	const uint8_t *raw = (const uint8_t *)&e;

	ASSERT_EQ(sizeof(e), 128u);
	memset(&e, 0, sizeof(e));
	gpt_entry_set_first_lba(&e, 0x0102030405060708ull);
	gpt_entry_set_last_lba(&e, 0x1112131415161718ull);
	gpt_entry_set_attributes(&e, 0x00ff000000000004ull);
	/* first LBA at byte 32, last at 40, attributes at 48: least significant byte first */
	static const uint8_t want[24] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
					  0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
					  0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00 };
	ASSERT_TRUE(memcmp(raw + 32, want, sizeof(want)) == 0);
	ASSERT_U64_EQ(gpt_entry_first_lba(&e), 0x0102030405060708ull);
	ASSERT_U64_EQ(gpt_entry_last_lba(&e), 0x1112131415161718ull);
	ASSERT_U64_EQ(gpt_entry_attributes(&e), 0x00ff000000000004ull);
	/* Flatcar's priority is attribute bits 48-51, read from byte 54 of the entry */
	gpt_entry_set_attributes(&e, 0);
	ASSERT_OK(gpt_entry_set_priority(&e, 2));
	ASSERT_EQ(raw[54], 0x02);
	ASSERT_EQ(gpt_entry_priority(&e), 2u);
}

TEST(label_utf16le)
{
	struct gpt_entry e;
	const uint8_t *raw = (const uint8_t *)&e;
	char buf[GPT_LABEL_UNITS * 4 + 1];

	memset(&e, 0, sizeof(e));
	ASSERT_OK(gpt_entry_set_label(&e, "USR-A\xc3\xa9")); /* "USR-Aé" */
	static const uint8_t want[14] = { 'U', 0, 'S', 0, 'R', 0, '-', 0, 'A', 0, 0xe9, 0, 0, 0 };
	ASSERT_TRUE(memcmp(raw + 56, want, sizeof(want)) == 0);
	gpt_entry_label(&e, buf);
	ASSERT_STREQ(buf, "USR-A\xc3\xa9");
}

TEST(crc32_check_value)
{
	/* the CRC-32 check value of the nine ASCII digits */
	ASSERT_EQ(gpt_crc32("123456789", 9), 0xcbf43926u);
}

TEST(crau_header_big_endian)
{
	struct problem_list pl = { 0 };
	uint64_t m = 0;
	uint8_t h[20];

	/* magic, version 1 and manifest size 0x010203 as big-endian 64-bit numbers */
	memcpy(h, "CrAU\0\0\0\0\0\0\0\1\0\0\0\0\0\1\2\3", sizeof(h));

	ASSERT_OK(payload_header_parse(h, sizeof(h), &m, &pl));
	ASSERT_U64_EQ(m, 0x010203u);
	/* version 1 stored little-endian is version 2^56 to a correct reader */
	h[4] = 1;
	h[11] = 0;
	ASSERT_ERR(payload_header_parse(h, sizeof(h), &m, &pl), EBADMSG);
	problem_list_release(&pl);
}
