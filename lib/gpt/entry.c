/* SPDX-License-Identifier: MIT */
/* lib/gpt/entry.c - GUIDs, type names, entry fields, labels, prioritize and GRUB's next-boot rule;
 * docs/partitions.md §2-§5. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "gpt/gpt.h"
#include "util/problem.h"

/* Stored mixed-endian (§5.3): the first three fields little-endian. */
#define GUID(a, b, c, d0, d1, e0, e1, e2, e3, e4, e5)                                             \
	{                                                                                         \
		{                                                                                 \
			(a) & 0xff, ((a) >> 8) & 0xff, ((a) >> 16) & 0xff, ((a) >> 24) & 0xff,    \
				(b)&0xff, ((b) >> 8) & 0xff, (c)&0xff, ((c) >> 8) & 0xff, d0, d1, \
				e0, e1, e2, e3, e4, e5                                            \
		}                                                                                 \
	}

const struct gpt_guid gpt_type_usr =
	GUID(0x5DFBF5F4, 0x2848, 0x4BAC, 0xAA, 0x5E, 0x0D, 0x9A, 0x20, 0xB7, 0x45, 0xA6);
const struct gpt_guid gpt_type_resize =
	GUID(0x3884DD41, 0x8582, 0x4404, 0xB9, 0xA8, 0xE9, 0xB8, 0x4F, 0x2D, 0xF5, 0x0E);
const struct gpt_guid gpt_type_kernel =
	GUID(0xFE3A2A5D, 0x4F32, 0x41A7, 0xB7, 0x25, 0xAC, 0xCC, 0x32, 0x85, 0xA3, 0x09);
const struct gpt_guid gpt_usr_a_uuid =
	GUID(0x7130C94A, 0x213A, 0x4E5A, 0x8E, 0x26, 0x6C, 0xCE, 0x96, 0x62, 0xF1, 0x32);
const struct gpt_guid gpt_usr_b_uuid =
	GUID(0xE03DD35C, 0x7C2D, 0x4A47, 0xB3, 0xFE, 0x27, 0xF1, 0x57, 0x80, 0xA5, 0x7C);

static const struct gpt_guid type_efi =
	GUID(0xC12A7328, 0xF81F, 0x11D2, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B);
static const struct gpt_guid type_bios =
	GUID(0x21686148, 0x6449, 0x6E6F, 0x74, 0x4E, 0x65, 0x65, 0x64, 0x45, 0x46, 0x49);
static const struct gpt_guid type_linux_data =
	GUID(0x0FC63DAF, 0x8483, 0x4772, 0x8E, 0x79, 0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4);
static const struct gpt_guid type_reserved =
	GUID(0xC95DC21A, 0xDF0E, 0x4340, 0x8D, 0x7B, 0x26, 0xCB, 0xFA, 0x9A, 0x03, 0xE0);
static const struct gpt_guid type_root_raid =
	GUID(0xBE9067B9, 0xEA49, 0x4F15, 0xB4, 0xF6, 0xF3, 0x6F, 0x8C, 0x9E, 0x18, 0x18);

/* Names accepted for a type, the first of each GUID being its preferred short name, and the
 * description Flatcar's cgpt prints for it (§1, §9.1, §9.2). */
static const struct type_name {
	const char *name;
	const struct gpt_guid *guid;
	const char *description;
} type_names[] = {
	{ "efi", &type_efi, "EFI System Partition" },
	{ "bios", &type_bios, "BIOS Boot Partition" },
	{ "flatcar-usr", &gpt_type_usr, "Alias for coreos-rootfs" },
	{ "flatcar-rootfs", &gpt_type_usr, NULL },
	{ "coreos-usr", &gpt_type_usr, NULL },
	{ "coreos-rootfs", &gpt_type_usr, NULL },
	{ "data", &type_linux_data, "Alias for linux-data" },
	{ "linux-data", &type_linux_data, NULL },
	{ "flatcar-reserved", &type_reserved, "CoreOS reserved" },
	{ "coreos-reserved", &type_reserved, NULL },
	{ "flatcar-resize", &gpt_type_resize, "CoreOS auto-resize" },
	{ "coreos-resize", &gpt_type_resize, NULL },
	{ "flatcar-root-raid", &type_root_raid, "CoreOS RAID containing root" },
	{ "coreos-root-raid", &type_root_raid, NULL },
	{ "kernel", &gpt_type_kernel, "ChromeOS kernel" },
};

const char *gpt_type_description(const struct gpt_guid *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (type_names[i].description && gpt_guid_equal(type, type_names[i].guid))
			return type_names[i].description;
	return NULL;
}

const char *gpt_type_short_name(const struct gpt_guid *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (gpt_guid_equal(type, type_names[i].guid))
			return type_names[i].name;
	return NULL;
}

int gpt_type_from_name(const char *name, struct gpt_guid *ret)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(type_names); i++)
		if (strcmp(name, type_names[i].name) == 0) {
			*ret = *type_names[i].guid;
			return 0;
		}
	struct gpt_guid g;
	if (gpt_guid_from_string(name, &g) < 0)
		return -EINVAL;
	*ret = g;
	return 0;
}

/* ---- GUIDs ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Text byte i (0..15, in printed order) is stored at this index. */
static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

int gpt_guid_from_string(const char *s, struct gpt_guid *ret)
{
	struct gpt_guid g;
	size_t k = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		g.bytes[guid_order[k++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*ret = g;
	return 0;
}

char *gpt_guid_to_string(const struct gpt_guid *g, bool upper, char *buf)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	for (size_t k = 0; k < 16; k++) {
		if (k == 4 || k == 6 || k == 8 || k == 10)
			buf[o++] = '-';
		uint8_t b = g->bytes[guid_order[k]];
		buf[o++] = digits[b >> 4];
		buf[o++] = digits[b & 15];
	}
	buf[o] = 0;
	return buf;
}

bool gpt_guid_equal(const struct gpt_guid *a, const struct gpt_guid *b)
{
	return memcmp(a->bytes, b->bytes, 16) == 0;
}

bool gpt_guid_is_zero(const struct gpt_guid *g)
{
	static const struct gpt_guid zero;
	return gpt_guid_equal(g, &zero);
}

int gpt_guid_random(struct gpt_guid *ret)
{
	struct gpt_guid g;
	size_t n = 0;

	while (n < sizeof(g.bytes)) {
		ssize_t k = getrandom(g.bytes + n, sizeof(g.bytes) - n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		n += (size_t)k;
	}
	/* RFC 4122 version 4: the version nibble tops the third field (stored little-endian, so
	 * byte 7), the variant bits top the fourth (byte 8). */
	g.bytes[7] = (uint8_t)((g.bytes[7] & 0x0f) | 0x40);
	g.bytes[8] = (uint8_t)((g.bytes[8] & 0x3f) | 0x80);
	*ret = g;
	return 0;
}

/* ---- entries ---- */

unsigned gpt_num_entries(const struct gpt *g)
{
	return g ? g->hdr.num_entries : 0;
}

struct gpt_entry *gpt_entry_get(struct gpt *g, unsigned nr)
{
	if (!g || nr < 1 || nr > g->hdr.num_entries)
		return NULL;
	return &g->entries[nr - 1];
}

const struct gpt_entry *gpt_entry_get_const(const struct gpt *g, unsigned nr)
{
	if (!g || nr < 1 || nr > g->hdr.num_entries)
		return NULL;
	return &g->entries[nr - 1];
}

bool gpt_entry_is_used(const struct gpt_entry *e)
{
	return !gpt_guid_is_zero(&e->type);
}

bool gpt_entry_is_usr(const struct gpt_entry *e)
{
	return gpt_guid_equal(&e->type, &gpt_type_usr);
}

uint64_t gpt_entry_first_lba(const struct gpt_entry *e)
{
	return le64toh(e->first_lba_le);
}

uint64_t gpt_entry_last_lba(const struct gpt_entry *e)
{
	return le64toh(e->last_lba_le);
}

void gpt_entry_set_first_lba(struct gpt_entry *e, uint64_t lba)
{
	e->first_lba_le = htole64(lba);
}

void gpt_entry_set_last_lba(struct gpt_entry *e, uint64_t lba)
{
	e->last_lba_le = htole64(lba);
}

uint64_t gpt_entry_attributes(const struct gpt_entry *e)
{
	return le64toh(e->attributes_le);
}

void gpt_entry_set_attributes(struct gpt_entry *e, uint64_t attr)
{
	e->attributes_le = htole64(attr);
}

unsigned gpt_entry_priority(const struct gpt_entry *e)
{
	return (unsigned)((gpt_entry_attributes(e) & GPT_ATTR_PRIORITY_MASK) >>
			  GPT_ATTR_PRIORITY_SHIFT);
}

unsigned gpt_entry_tries(const struct gpt_entry *e)
{
	return (unsigned)((gpt_entry_attributes(e) & GPT_ATTR_TRIES_MASK) >> GPT_ATTR_TRIES_SHIFT);
}

bool gpt_entry_is_successful(const struct gpt_entry *e)
{
	return gpt_entry_attributes(e) & GPT_ATTR_SUCCESSFUL;
}

bool gpt_entry_is_legacy_bootable(const struct gpt_entry *e)
{
	return gpt_entry_attributes(e) & GPT_ATTR_LEGACY_BOOT;
}

int gpt_entry_set_priority(struct gpt_entry *e, unsigned priority)
{
	if (priority > 15)
		return -ERANGE;
	uint64_t a = gpt_entry_attributes(e) & ~GPT_ATTR_PRIORITY_MASK;
	gpt_entry_set_attributes(e, a | (uint64_t)priority << GPT_ATTR_PRIORITY_SHIFT);
	return 0;
}

int gpt_entry_set_tries(struct gpt_entry *e, unsigned tries)
{
	if (tries > 15)
		return -ERANGE;
	uint64_t a = gpt_entry_attributes(e) & ~GPT_ATTR_TRIES_MASK;
	gpt_entry_set_attributes(e, a | (uint64_t)tries << GPT_ATTR_TRIES_SHIFT);
	return 0;
}

void gpt_entry_set_successful(struct gpt_entry *e, bool successful)
{
	uint64_t a = gpt_entry_attributes(e) & ~GPT_ATTR_SUCCESSFUL;
	gpt_entry_set_attributes(e, a | (successful ? GPT_ATTR_SUCCESSFUL : 0));
}

static size_t put_utf8(char *buf, uint32_t c)
{
	if (c < 0x80) {
		buf[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		buf[0] = (char)(0xc0 | c >> 6);
		buf[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		buf[0] = (char)(0xe0 | c >> 12);
		buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | c >> 18);
	buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

size_t gpt_entry_label(const struct gpt_entry *e, char *buf)
{
	size_t o = 0;

	for (size_t i = 0; i < GPT_LABEL_UNITS; i++) {
		uint32_t u = le16toh(e->name_le[i]);
		if (u == 0)
			break;
		if (u >= 0xd800 && u < 0xdc00 && i + 1 < GPT_LABEL_UNITS) {
			uint32_t l = le16toh(e->name_le[i + 1]);
			if (l >= 0xdc00 && l < 0xe000) {
				u = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
				i++;
			} else
				u = 0xfffd;
		} else if (u >= 0xd800 && u < 0xe000)
			u = 0xfffd;
		o += put_utf8(buf + o, u);
	}
	buf[o] = 0;
	return o;
}

/* Decode one UTF-8 sequence; returns its length or -EINVAL. */
static int get_utf8(const unsigned char *s, uint32_t *ret)
{
	uint32_t c;
	int n;

	if (s[0] < 0x80) {
		*ret = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		c = s[0] & 0x1f;
		n = 2;
	} else if ((s[0] & 0xf0) == 0xe0) {
		c = s[0] & 0x0f;
		n = 3;
	} else if ((s[0] & 0xf8) == 0xf0) {
		c = s[0] & 0x07;
		n = 4;
	} else
		return -EINVAL;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -EINVAL;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return -EINVAL;
	*ret = c;
	return n;
}

int gpt_entry_set_label(struct gpt_entry *e, const char *utf8)
{
	uint16_t units[GPT_LABEL_UNITS] = {};
	size_t n = 0;
	const unsigned char *s = (const unsigned char *)utf8;

	while (*s) {
		uint32_t c;
		int k = get_utf8(s, &c);
		if (k < 0)
			return k;
		s += k;
		if (c >= 0x10000) {
			if (n + 2 > GPT_LABEL_UNITS)
				return -ERANGE;
			c -= 0x10000;
			units[n++] = (uint16_t)(0xd800 + (c >> 10));
			units[n++] = (uint16_t)(0xdc00 + (c & 0x3ff));
		} else {
			if (n + 1 > GPT_LABEL_UNITS)
				return -ERANGE;
			units[n++] = (uint16_t)c;
		}
	}
	for (size_t i = 0; i < GPT_LABEL_UNITS; i++)
		e->name_le[i] = htole16(units[i]);
	return 0;
}

int gpt_entry_extent(const struct gpt *g, unsigned nr, uint64_t *ret_offset, uint64_t *ret_size)
{
	const struct gpt_entry *e = gpt_entry_get_const(g, nr);

	if (!e || !gpt_entry_is_used(e))
		return -ENOENT;
	uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
	if (last < first)
		return -EINVAL;
	if (ret_offset)
		*ret_offset = first * g->sector_size;
	if (ret_size)
		*ret_size = (last - first + 1) * g->sector_size;
	return 0;
}

/* ---- lookup ---- */

int gpt_find_label(const struct gpt *g, const char *label)
{
	char buf[GPT_LABEL_MAX];

	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e))
			continue;
		gpt_entry_label(e, buf);
		if (strcmp(buf, label) == 0)
			return (int)nr;
	}
	return -ENOENT;
}

int gpt_find_unique(const struct gpt *g, const struct gpt_guid *uuid)
{
	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (gpt_entry_is_used(e) && gpt_guid_equal(&e->unique, uuid))
			return (int)nr;
	}
	return -ENOENT;
}

int gpt_find_usr_target(const struct gpt *g, const char *target, struct problem_list *reterr)
{
	int nr = -ENOENT;
	bool numeric = target && *target && strspn(target, "0123456789") == strlen(target);

	if (!target || !*target)
		return problem_add(reterr, -ENOENT, NULL, "empty partition name");
	if (numeric) {
		unsigned long v = strtoul(target, NULL, 10);
		const struct gpt_entry *e =
			v <= GPT_MAX_ENTRIES ? gpt_entry_get_const(g, (unsigned)v) : NULL;
		if (e && gpt_entry_is_used(e) && gpt_entry_is_usr(e))
			return (int)v;
		return problem_add(reterr, -ENOENT, target, "no partition %s of type flatcar-usr",
				   target);
	}
	nr = gpt_find_label(g, target);
	if (nr > 0 && gpt_entry_is_usr(gpt_entry_get_const(g, (unsigned)nr)))
		return nr;
	/* A later entry with the same label may be the USR one. */
	for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
		char buf[GPT_LABEL_MAX];
		const struct gpt_entry *e = gpt_entry_get_const(g, i);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
			continue;
		gpt_entry_label(e, buf);
		if (strcmp(buf, target) == 0)
			return (int)i;
	}
	return problem_add(reterr, -ENOENT, target,
			   "no partition labelled '%s' of type flatcar-usr", target);
}

unsigned gpt_usr_entries(const struct gpt *g, unsigned *nrs, unsigned max)
{
	unsigned n = 0;

	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
			continue;
		if (nrs && n < max)
			nrs[n] = nr;
		n++;
	}
	return n;
}

int gpt_other_usr(const struct gpt *g, unsigned nr)
{
	unsigned nrs[3];
	unsigned n = gpt_usr_entries(g, nrs, 3);

	if (n != 2)
		return n < 2 ? -ENOENT : -ENOTUNIQ;
	if (nrs[0] == nr)
		return (int)nrs[1];
	if (nrs[1] == nr)
		return (int)nrs[0];
	return -ENOENT;
}

int gpt_rollback(struct gpt *g, unsigned from)
{
	int other = gpt_other_usr(g, from);
	if (other < 0)
		return other;
	struct gpt_entry *t = gpt_entry_get(g, (unsigned)other);
	/* a partition that never booted well gets one try */
	if (!gpt_entry_is_successful(t)) {
		int r = gpt_entry_set_tries(t, 1);
		if (r < 0)
			return r;
	}
	int r = gpt_prioritize(g, (unsigned)other, 0, false);
	return r < 0 ? r : other;
}

const char *gpt_entry_name(const struct gpt *g, unsigned nr, char *buf)
{
	const struct gpt_entry *e = gpt_entry_get_const(g, nr);

	if (!e || gpt_entry_label(e, buf) == 0)
		snprintf(buf, GPT_LABEL_MAX, "%u", nr);
	return buf;
}

/* ---- boot selection ---- */

int gpt_next_boot(const struct gpt *g)
{
	int best = -ENOENT;
	unsigned best_prio = 0;

	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
			continue;
		if (gpt_entry_tries(e) == 0 && !gpt_entry_is_successful(e))
			continue;
		/* strictly higher: a tie keeps the lower slot; priority 0 never wins */
		if (gpt_entry_priority(e) > best_prio) {
			best_prio = gpt_entry_priority(e);
			best = (int)nr;
		}
	}
	return best;
}

int gpt_prioritize(struct gpt *g, unsigned target, unsigned top, bool friends)
{
	unsigned n = gpt_num_entries(g);
	_cleanup_free_ unsigned *prio = NULL;
	unsigned groups[17] = {}; /* count of candidates per (virtual) priority 0..16 */

	if (top > 15)
		return -EINVAL;
	if (target) {
		const struct gpt_entry *t = gpt_entry_get_const(g, target);
		if (!t || !gpt_entry_is_used(t) || !gpt_entry_is_usr(t))
			return -EINVAL;
	}
	prio = calloc(n ? n : 1, sizeof(*prio));
	if (!prio)
		return -ENOMEM;

	unsigned tprio = target ? gpt_entry_priority(gpt_entry_get_const(g, target)) : 0;
	for (unsigned nr = 1; nr <= n; nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
			continue;
		unsigned p = gpt_entry_priority(e);
		if (target && (nr == target || (friends && p == tprio)))
			p = 16;
		prio[nr - 1] = p;
		groups[p]++;
	}

	/* Number the groups from the highest; priority 0 stays 0. */
	unsigned ngroups = 0;
	for (unsigned p = 1; p <= 16; p++)
		ngroups += groups[p] > 0;
	unsigned newtop = top ? top : (ngroups > 15 ? 15 : ngroups);
	unsigned map[17] = {};
	unsigned rank = 0;
	for (unsigned p = 16; p >= 1; p--) {
		if (!groups[p])
			continue;
		map[p] = newtop > rank + 1 ? newtop - rank : 1;
		rank++;
	}
	for (unsigned nr = 1; nr <= n; nr++) {
		struct gpt_entry *e = gpt_entry_get(g, nr);
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
			continue;
		(void)gpt_entry_set_priority(e, map[prio[nr - 1]]);
	}
	return 0;
}

int gpt_mark_successful(struct gpt *g, unsigned nr)
{
	struct gpt_entry *e = gpt_entry_get(g, nr);

	if (!e || !gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
		return -EINVAL;
	gpt_entry_set_successful(e, true);
	(void)gpt_entry_set_tries(e, 0);
	return gpt_prioritize(g, nr, 0, false);
}

int gpt_prepare_for_boot(struct gpt *g, unsigned nr)
{
	struct gpt_entry *e = gpt_entry_get(g, nr);

	if (!e || !gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
		return -EINVAL;
	gpt_entry_set_successful(e, false);
	(void)gpt_entry_set_tries(e, 1);
	return gpt_prioritize(g, nr, 0, false);
}
