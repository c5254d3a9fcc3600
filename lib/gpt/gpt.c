/* SPDX-License-Identifier: MIT */
/* lib/gpt/gpt.c - read and check both GPT copies, choose one, write crash-safely;
 * docs/partitions.md §5-§7.
 *
 * A disk is reached through a tiny reader (an fd or a memory buffer) so the same code serves
 * real disks, image files, unit tests and the fuzzer. gpt_read() also records the current bytes
 * at the four places a write would go (§7.2 order), so "would this write change anything" is a
 * plain comparison and a write that changes nothing never opens the disk for writing. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fs/fs.h"
#include "gpt/gpt.h"
#include "internal.h"
#include "log/log.h"
#include "util/problem.h"

const char gpt_signature[8] = { 'E', 'F', 'I', ' ', 'P', 'A', 'R', 'T' };

struct dev {
	int fd;
	uint8_t *buf;  /* memory image instead of fd */
	uint64_t size; /* bytes */
};

static int dev_read(const struct dev *d, void *p, size_t n, uint64_t off)
{
	if (off > d->size || n > d->size - off)
		return -ENXIO;
	if (d->buf) {
		memcpy(p, d->buf + off, n);
		return 0;
	}
	return fs_pread_all(d->fd, p, n, off);
}

static int dev_write(const struct dev *d, const void *p, size_t n, uint64_t off)
{
	if (off > d->size || n > d->size - off)
		return -ENXIO;
	if (d->buf) {
		memcpy(d->buf + off, p, n);
		return 0;
	}
	ssize_t k;
	do
		k = pwrite(d->fd, p, n, (off_t)off);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if ((size_t)k != n)
		return -EIO; /* a short write is an error (§7.2) */
	return 0;
}

static int dev_sync(const struct dev *d)
{
	if (d->buf)
		return 0;
	return fsync(d->fd) < 0 ? -errno : 0;
}

uint32_t gpt_crc32(const void *data, size_t size)
{
	uLong c = crc32(0L, Z_NULL, 0);
	const uint8_t *p = data;

	while (size > 0) {
		uInt chunk = size > (1u << 30) ? (1u << 30) : (uInt)size;
		c = crc32(c, p, chunk);
		p += chunk;
		size -= chunk;
	}
	return (uint32_t)c;
}

const char *gpt_copy_state_to_string(enum gpt_copy_state s)
{
	static const char *const names[] = { "ok", "stale", "invalid" };
	return s >= 0 && s < _GPT_COPY_STATE_MAX ? names[s] : NULL;
}

const char *gpt_source_to_string(enum gpt_source s)
{
	static const char *const names[] = { "primary", "backup", "primary-header",
					     "backup-header" };
	return s >= 0 && s < _GPT_SOURCE_MAX ? names[s] : NULL;
}

static void decode_header(const uint8_t *s, struct gpt_header *h)
{
	memcpy(h->signature, s, 8);
	h->revision = gpt_rd32(s + 8);
	h->header_size = gpt_rd32(s + 12);
	h->header_crc = gpt_rd32(s + 16);
	h->reserved = gpt_rd32(s + 20);
	h->my_lba = gpt_rd64(s + 24);
	h->alternate_lba = gpt_rd64(s + 32);
	h->first_usable_lba = gpt_rd64(s + 40);
	h->last_usable_lba = gpt_rd64(s + 48);
	memcpy(h->disk_guid.bytes, s + 56, 16);
	h->entries_lba = gpt_rd64(s + 72);
	h->num_entries = gpt_rd32(s + 80);
	h->entry_size = gpt_rd32(s + 84);
	h->entries_crc = gpt_rd32(s + 88);
}

static uint32_t header_crc(const uint8_t *s, uint32_t size)
{
	uint8_t tmp[4096];

	memcpy(tmp, s, size);
	memset(tmp + 16, 0, 4);
	return gpt_crc32(tmp, size);
}

/* Validation result of one header. unsupported: a rule we refuse (exit 2) rather than a damage. */
struct check {
	char *problem;
	bool unsupported;
};

_printf_(3, 4) static bool fail(struct check *c, bool unsupported, const char *fmt, ...)
{
	va_list ap;

	if (c->problem)
		return false;
	va_start(ap, fmt);
	if (vasprintf(&c->problem, fmt, ap) < 0)
		c->problem = NULL;
	va_end(ap);
	c->unsupported = unsupported;
	return false;
}

/* §5.2 and §6.2 rules for one header sector read at lba. */
static bool check_header(const uint8_t *s, uint32_t ss, uint64_t lba, uint64_t sectors,
			 bool primary, struct gpt_header *h, struct check *c)
{
	decode_header(s, h);
	if (memcmp(h->signature, gpt_signature, 8) != 0)
		return fail(c, false, "no signature");
	if (h->revision != 0x00010000)
		return fail(c, false, "revision 0x%08" PRIx32 " is not 0x00010000", h->revision);
	if (h->header_size < GPT_HEADER_MIN_SIZE || h->header_size > ss)
		return fail(c, false, "header size %" PRIu32 " out of range", h->header_size);
	uint32_t crc = header_crc(s, h->header_size);
	if (crc != h->header_crc)
		return fail(c, false, "header CRC 0x%08" PRIx32 ", computed 0x%08" PRIx32,
			    h->header_crc, crc);
	if (h->reserved != 0)
		return fail(c, false, "reserved field is not zero");
	if (h->my_lba != lba)
		return fail(c, false, "my LBA %" PRIu64 " is not %" PRIu64, h->my_lba, lba);
	if (h->entry_size != GPT_ENTRY_SIZE)
		return fail(c, true, "entry size %" PRIu32 " is not supported (only 128)",
			    h->entry_size);
	if (h->num_entries < 1 || h->num_entries > GPT_MAX_ENTRIES)
		return fail(c, true, "number of entries %" PRIu32 " out of range (1-1024)",
			    h->num_entries);
	if (h->first_usable_lba > h->last_usable_lba)
		return fail(c, false, "first usable LBA %" PRIu64 " after last usable LBA %" PRIu64,
			    h->first_usable_lba, h->last_usable_lba);
	uint64_t as = gpt_array_sectors(h->num_entries, ss);
	if (primary) {
		if (h->entries_lba < 2 || h->entries_lba > UINT64_MAX - as ||
		    h->entries_lba + as > h->first_usable_lba)
			return fail(c, false, "entry array LBA %" PRIu64 " out of range",
				    h->entries_lba);
		if (h->alternate_lba <= h->last_usable_lba)
			return fail(c, false, "alternate LBA %" PRIu64 " inside the usable area",
				    h->alternate_lba);
	} else {
		if (h->alternate_lba != 1)
			return fail(c, false, "alternate LBA %" PRIu64 " is not 1",
				    h->alternate_lba);
		if (h->entries_lba <= h->last_usable_lba || h->entries_lba > UINT64_MAX - as ||
		    h->entries_lba + as > lba)
			return fail(c, false, "entry array LBA %" PRIu64 " out of range",
				    h->entries_lba);
		if (h->first_usable_lba < 2 + as)
			return fail(c, false, "first usable LBA %" PRIu64 " overlaps the primary",
				    h->first_usable_lba);
	}
	if (h->entries_lba + as > sectors)
		return fail(c, false, "entry array beyond the end of the disk");
	return true;
}

int gpt_entries_check(const struct gpt_entry *ents, uint32_t n, uint64_t first_usable,
		      uint64_t last_usable, bool first_only, struct problem_list *reterr)
{
	int r = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct gpt_entry *e = &ents[i];
		char where[32];
		if (!gpt_entry_is_used(e))
			continue;
		snprintf(where, sizeof(where), "partition %" PRIu32, i + 1);
		uint64_t f = gpt_entry_first_lba(e), l = gpt_entry_last_lba(e);
		if (f < first_usable || f > l || l > last_usable) {
			r = problem_add(reterr, -EINVAL, where,
					"partition %" PRIu32 " (LBA %" PRIu64 "-%" PRIu64
					") outside the usable area (LBA %" PRIu64 "-%" PRIu64 ")",
					i + 1, f, l, first_usable, last_usable);
			if (first_only)
				return r;
		}
		for (uint32_t j = i + 1; j < n; j++) {
			const struct gpt_entry *o = &ents[j];
			if (!gpt_entry_is_used(o))
				continue;
			uint64_t of = gpt_entry_first_lba(o), ol = gpt_entry_last_lba(o);
			if (of <= l && f <= ol && f <= l && of <= ol) {
				r = problem_add(reterr, -EINVAL, where,
						"partitions %" PRIu32 " and %" PRIu32
						" overlap (LBA %" PRIu64 "-%" PRIu64 " and %" PRIu64
						"-%" PRIu64 ")",
						i + 1, j + 1, f, l, of, ol);
				if (first_only)
					return r;
			}
			if (gpt_guid_equal(&e->unique, &o->unique)) {
				r = problem_add(reterr, -EINVAL, where,
						"partitions %" PRIu32 " and %" PRIu32
						" share a unique GUID",
						i + 1, j + 1);
				if (first_only)
					return r;
			}
		}
	}
	return r;
}

/* §5.3 rules on an array that matched its CRC; the first problem goes to c. */
static bool check_entries(const struct gpt_entry *ents, const struct gpt_header *h, struct check *c)
{
	_cleanup_(problem_list_release) struct problem_list p = {};

	if (gpt_entries_check(ents, h->num_entries, h->first_usable_lba, h->last_usable_lba, true,
			      &p) >= 0)
		return true;
	return fail(c, false, "%s", p.n ? p.item[0].message : "invalid partition entries");
}

static void release_internals(struct gpt *g)
{
	free(g->primary.problem);
	free(g->backup.problem);
	free(g->primary.detail);
	free(g->backup.detail);
	free(g->entries);
	free(g->hdr_sector);
	free(g->backup_sector);
	free(g->orig_entries);
	for (size_t i = 0; i < 4; i++)
		free(g->orig_regions[i]);
}

struct gpt *gpt_free(struct gpt *g)
{
	if (g) {
		release_internals(g);
		free(g);
	}
	return NULL;
}

/* Both copies as read for one sector size. */
struct side {
	uint8_t *hsec; /* header sector */
	uint8_t *arr;  /* entry array, whole sectors, or NULL */
	size_t arr_bytes;
	struct gpt_header h;
	bool hvalid, avalid, crc_ok;
	uint64_t lba;
	struct check hc, ac;
};

static void side_release(struct side *s)
{
	free(s->hsec);
	free(s->arr);
	free(s->hc.problem);
	free(s->ac.problem);
}

/* Read the array a header describes; sets crc_ok and avalid. */
static int read_array(const struct dev *d, uint32_t ss, const struct gpt_header *h, struct side *s)
{
	uint64_t as = gpt_array_sectors(h->num_entries, ss);
	s->arr_bytes = (size_t)(as * ss);
	s->arr = calloc(1, s->arr_bytes);
	if (!s->arr)
		return -ENOMEM;
	int r = dev_read(d, s->arr, s->arr_bytes, h->entries_lba * ss);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		fail(&s->ac, false, "entry array at LBA %" PRIu64 " unreadable", h->entries_lba);
		free(s->arr);
		s->arr = NULL;
		return 0;
	}
	return 0;
}

static bool array_matches(const struct side *s, const struct gpt_header *h, uint32_t ss)
{
	if (!s->arr || s->arr_bytes < (size_t)h->num_entries * GPT_ENTRY_SIZE)
		return false;
	return gpt_crc32(s->arr, (size_t)h->num_entries * GPT_ENTRY_SIZE) == h->entries_crc;
}

static int read_side(const struct dev *d, uint32_t ss, uint64_t sectors, uint64_t lba, bool primary,
		     struct side *s)
{
	int r;

	s->lba = lba;
	s->hsec = calloc(1, ss);
	if (!s->hsec)
		return -ENOMEM;
	r = dev_read(d, s->hsec, ss, lba * ss);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		fail(&s->hc, false, "unreadable");
		return 0;
	}
	s->hvalid = check_header(s->hsec, ss, lba, sectors, primary, &s->h, &s->hc);
	if (!s->hvalid)
		return 0;
	r = read_array(d, ss, &s->h, s);
	if (r < 0)
		return r;
	if (!s->arr)
		return 0;
	s->crc_ok = array_matches(s, &s->h, ss);
	if (!s->crc_ok) {
		fail(&s->ac, false, "entry array CRC 0x%08" PRIx32 ", computed 0x%08" PRIx32,
		     s->h.entries_crc,
		     gpt_crc32(s->arr, (size_t)s->h.num_entries * GPT_ENTRY_SIZE));
		return 0;
	}
	s->avalid = check_entries((const struct gpt_entry *)s->arr, &s->h, &s->ac);
	return 0;
}

/* Same table apart from location fields (§6.3 rule 1 "ok"). */
static bool same_table(const struct side *p, const struct side *b)
{
	struct gpt_header x = p->h, y = b->h;

	x.my_lba = y.my_lba = 0;
	x.alternate_lba = y.alternate_lba = 0;
	x.entries_lba = y.entries_lba = 0;
	x.header_crc = y.header_crc = 0;
	if (memcmp(&x, &y, sizeof(x)) != 0)
		return false;
	return memcmp(p->arr, b->arr, (size_t)p->h.num_entries * GPT_ENTRY_SIZE) == 0;
}

/* "primary header at LBA 1: ..." or "backup entry array at LBA 262111: ...", or NULL. */
static char *copy_problem(const char *copy, const struct side *s)
{
	char *p = NULL;
	int r;

	if (s->hc.problem)
		r = asprintf(&p, "%s header at LBA %" PRIu64 ": %s", copy, s->lba, s->hc.problem);
	else if (s->ac.problem)
		r = asprintf(&p, "%s entry array at LBA %" PRIu64 ": %s", copy, s->h.entries_lba,
			     s->ac.problem);
	else
		return NULL;
	return r < 0 ? NULL : p;
}

static const char *short_problem(const struct side *s)
{
	if (s->hc.problem) {
		if (strncmp(s->hc.problem, "header CRC", 10) == 0)
			return "header CRC mismatch";
		if (strcmp(s->hc.problem, "no signature") == 0)
			return "no header";
		return s->hc.problem;
	}
	if (s->ac.problem) {
		if (strncmp(s->ac.problem, "entry array CRC", 15) == 0)
			return "entry array CRC mismatch";
		return s->ac.problem;
	}
	return NULL;
}

enum gpt_mbr_kind gpt_mbr_kind(const uint8_t m[GPT_MBR_SIZE], uint64_t sectors, bool *ret_mismatch)
{
	bool ee = false;
	unsigned others = 0;

	*ret_mismatch = false;
	if (m[510] != 0x55 || m[511] != 0xaa)
		return GPT_MBR_UNKNOWN;
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *r = m + 446 + 16 * i;
		if (r[4] == 0xee) {
			uint32_t start = gpt_rd32(r + 8), size = gpt_rd32(r + 12);
			uint64_t want = sectors - 1 > 0xffffffffu ? 0xffffffffu : sectors - 1;
			ee = true;
			if (start != 1 || size != want)
				*ret_mismatch = true;
		} else if (r[4] != 0)
			others++;
	}
	if (!ee)
		return GPT_MBR_NO_EE;
	if (others) {
		*ret_mismatch =
			false; /* a hybrid MBR's 0xEE record covers only the GPT's own part */
		return GPT_MBR_HYBRID;
	}
	return GPT_MBR_PROTECTIVE;
}

void gpt_plan_regions(struct gpt *g, uint64_t backup_array_lba)
{
	uint32_t ss = g->sector_size;
	uint64_t as = gpt_array_sectors(g->hdr.num_entries, ss);

	g->region_lba[0] = backup_array_lba;
	g->region_bytes[0] = (size_t)(as * ss);
	g->region_lba[1] = g->sectors - 1;
	g->region_bytes[1] = ss;
	g->region_lba[2] = 1;
	g->region_bytes[2] = ss;
	g->region_lba[3] = g->hdr.entries_lba;
	g->region_bytes[3] = (size_t)(as * ss);
}

/* The current bytes at the four regions of the next write (so an unchanged write is skipped). */
static int read_regions(const struct dev *d, struct gpt *g)
{
	for (size_t i = 0; i < 4; i++) {
		free(g->orig_regions[i]);
		g->orig_regions[i] = calloc(1, g->region_bytes[i]);
		if (!g->orig_regions[i])
			return -ENOMEM;
		int r = dev_read(d, g->orig_regions[i], g->region_bytes[i],
				 g->region_lba[i] * g->sector_size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Fill g->region_* for the table the next write produces, and read the current bytes there. */
static int plan_regions(const struct dev *d, struct gpt *g, const struct side *b)
{
	uint64_t last = g->sectors - 1;
	uint64_t bent = last - gpt_array_sectors(g->hdr.num_entries, g->sector_size);

	if (!g->grown && !g->shrunk && b->hvalid && b->lba == last &&
	    g->backup.state == GPT_COPY_OK)
		bent = b->h.entries_lba;
	gpt_plan_regions(g, bent);
	return read_regions(d, g);
}

/* One attempt at one sector size. -ENOMSG: no valid header at all with this size. */
static int read_at(const struct dev *d, uint32_t ss, struct gpt **ret, struct problem_list *reterr)
{
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	struct side p = {}, b = {};
	uint64_t sectors = d->size / ss;
	int r;

	if (sectors < 6) {
		r = -ENOMSG;
		goto out;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		r = -ENOMEM;
		goto out;
	}
	g->sector_size = ss;
	g->sectors = sectors;
	uint64_t last = sectors - 1;

	uint8_t mbr[512];
	r = dev_read(d, mbr, sizeof(mbr), 0);
	if (r < 0)
		goto out;
	g->mbr = gpt_mbr_kind(mbr, sectors, &g->mbr_size_mismatch);

	r = read_side(d, ss, sectors, 1, true, &p);
	if (r < 0)
		goto out;
	uint64_t blba = last;
	if (p.hvalid) {
		if (p.h.alternate_lba > last)
			g->shrunk = true;
		else
			blba = p.h.alternate_lba;
	}
	r = read_side(d, ss, sectors, blba, false, &b);
	if (r < 0)
		goto out;
	if ((!b.hvalid || !(p.hvalid && p.avalid)) && blba != last) {
		/* The primary may point at an old backup; try the end too. When the primary itself
		 * is broken, a complete backup at the end wins over the one it points at: only a
		 * write that relocates a grown disk's backup (§7.1) puts one there, and it was cut
		 * while writing the primary. cgpt always reads the backup at the end. */
		struct side b2 = {};
		r = read_side(d, ss, sectors, last, false, &b2);
		if (r < 0) {
			side_release(&b2);
			goto out;
		}
		if (b2.hvalid && (!b.hvalid || b2.avalid)) {
			side_release(&b);
			b = b2;
		} else
			side_release(&b2);
	}

	if (!p.hvalid && !b.hvalid) {
		if (p.hc.unsupported || b.hc.unsupported) {
			struct side *s = p.hc.unsupported ? &p : &b;
			r = problem_add(reterr, -EINVAL,
					p.hc.unsupported ? "primary header" : "backup header", "%s",
					s->hc.problem);
			goto out;
		}
		if (memcmp(p.hsec, gpt_signature, 8) == 0 ||
		    (b.hsec && memcmp(b.hsec, gpt_signature, 8) == 0)) {
			/* A GPT was there: both copies damaged (§10), not "no GPT". */
			_cleanup_free_ char *pp = copy_problem("primary", &p);
			_cleanup_free_ char *bp = copy_problem("backup", &b);
			(void)problem_add(reterr, -EBADMSG, "primary", "%s",
					  pp ? pp : "primary invalid");
			r = problem_add(reterr, -EBADMSG, "backup", "%s",
					bp ? bp : "backup invalid");
			goto out;
		}
		r = -ENOMSG;
		goto out;
	}

	const struct side *chosen_h = NULL;
	const uint8_t *chosen_arr = NULL;
	if (p.hvalid && p.avalid) {
		g->source = GPT_SOURCE_PRIMARY;
		chosen_h = &p;
		chosen_arr = p.arr;
	} else if (b.hvalid && b.avalid) {
		g->source = GPT_SOURCE_BACKUP;
		chosen_h = &b;
		chosen_arr = b.arr;
	} else {
		/* §6.3 rule 3: a header whose CRC matches the other copy's array. An array behind a
		 * broken header is read where it normally lies. */
		struct check c = {};
		if (p.hvalid && !b.arr && b.lba > gpt_array_sectors(p.h.num_entries, ss)) {
			struct gpt_header h = p.h;
			h.entries_lba = b.lba - gpt_array_sectors(p.h.num_entries, ss);
			r = read_array(d, ss, &h, &b);
			if (r < 0)
				goto out;
		}
		if (b.hvalid && !p.arr) {
			struct gpt_header h = b.h;
			h.entries_lba = 2;
			r = read_array(d, ss, &h, &p);
			if (r < 0)
				goto out;
		}
		if (p.hvalid && b.arr && b.arr_bytes >= p.h.num_entries * GPT_ENTRY_SIZE &&
		    array_matches(&b, &p.h, ss) &&
		    check_entries((const struct gpt_entry *)b.arr, &p.h, &c)) {
			g->source = GPT_SOURCE_PRIMARY_HEADER;
			chosen_h = &p;
			chosen_arr = b.arr;
		} else if (b.hvalid && p.arr && p.arr_bytes >= b.h.num_entries * GPT_ENTRY_SIZE &&
			   array_matches(&p, &b.h, ss) &&
			   (free(c.problem), c.problem = NULL,
			    check_entries((const struct gpt_entry *)p.arr, &b.h, &c))) {
			g->source = GPT_SOURCE_BACKUP_HEADER;
			chosen_h = &b;
			chosen_arr = p.arr;
		}
		free(c.problem);
	}
	if (!chosen_h) {
		_cleanup_free_ char *pp = copy_problem("primary", &p);
		_cleanup_free_ char *bp = copy_problem("backup", &b);
		if (p.hc.unsupported || b.hc.unsupported)
			r = -EINVAL;
		else
			r = -EBADMSG;
		(void)problem_add(reterr, r, "primary", "%s", pp ? pp : "primary invalid");
		(void)problem_add(reterr, r, "backup", "%s", bp ? bp : "backup invalid");
		goto out;
	}

	/* The chosen table in primary form. */
	g->hdr = chosen_h->h;
	g->hdr_sector = malloc(ss);
	if (!g->hdr_sector) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(g->hdr_sector, chosen_h->hsec, ss);
	if (chosen_h == &b) {
		g->hdr.my_lba = 1;
		g->hdr.alternate_lba = b.lba;
		g->hdr.entries_lba = p.hvalid ? p.h.entries_lba : 2;
		if (g->hdr.entries_lba + gpt_array_sectors(g->hdr.num_entries, ss) >
		    g->hdr.first_usable_lba)
			g->hdr.entries_lba = 2;
	}
	g->array_bytes = (size_t)(gpt_array_sectors(g->hdr.num_entries, ss) * ss);
	g->entries = calloc(1, g->array_bytes);
	if (!g->entries) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(g->entries, chosen_arr, g->array_bytes);
	g->orig_entries = malloc(g->array_bytes);
	if (!g->orig_entries) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(g->orig_entries, chosen_arr, g->array_bytes);

	/* Copy states. */
	g->primary.header_lba = 1;
	g->primary.hdr = p.h;
	g->primary.header_valid = p.hvalid;
	g->primary.entries_valid = p.hvalid && p.avalid;
	g->backup.header_lba = b.lba;
	g->backup.hdr = b.h;
	g->backup.header_valid = b.hvalid;
	g->backup.entries_valid = b.hvalid && b.avalid;
	if (g->source == GPT_SOURCE_PRIMARY) {
		g->primary.state = GPT_COPY_OK;
		if (b.hvalid && b.avalid)
			g->backup.state = same_table(&p, &b) ? GPT_COPY_OK : GPT_COPY_STALE;
		else
			g->backup.state = GPT_COPY_INVALID;
	} else if (g->source == GPT_SOURCE_BACKUP) {
		g->backup.state = GPT_COPY_OK;
		g->primary.state = GPT_COPY_INVALID;
	} else {
		g->primary.state =
			g->source == GPT_SOURCE_PRIMARY_HEADER ? GPT_COPY_OK : GPT_COPY_INVALID;
		g->backup.state =
			g->source == GPT_SOURCE_BACKUP_HEADER ? GPT_COPY_OK : GPT_COPY_INVALID;
		/* Whichever array did not match its own header is the broken part. */
	}
	if (g->primary.state != GPT_COPY_OK) {
		const char *why = short_problem(&p);
		if (!why)
			why = g->source == GPT_SOURCE_BACKUP_HEADER
				      ? "header does not match its array"
				      : "entry array does not match";
		g->primary.problem = strdup(why);
	}
	if (g->backup.state == GPT_COPY_STALE)
		g->backup.problem = strdup("differs from the primary");
	else if (g->backup.state != GPT_COPY_OK) {
		const char *why = short_problem(&b);
		if (!why)
			why = "header does not match its array";
		g->backup.problem = strdup(why);
	}
	if (g->shrunk && !g->backup.problem)
		g->backup.problem = strdup("beyond the end of the disk");

	g->grown = !g->shrunk && g->hdr.alternate_lba < last;

	/* Details, and warnings for a usable table with a damaged copy (§6.4). */
	if (g->primary.state != GPT_COPY_OK) {
		g->primary.detail = copy_problem("primary", &p);
		if (!g->primary.detail &&
		    asprintf(&g->primary.detail, "primary header at LBA 1: %s",
			     g->primary.problem ? g->primary.problem : "invalid") < 0)
			g->primary.detail = NULL;
		(void)problem_warn(reterr, "primary", "%s",
				   g->primary.detail ? g->primary.detail : "primary copy invalid");
	}
	if (g->backup.state != GPT_COPY_OK) {
		g->backup.detail =
			g->backup.state == GPT_COPY_INVALID ? copy_problem("backup", &b) : NULL;
		if (!g->backup.detail &&
		    asprintf(&g->backup.detail, "backup header at LBA %" PRIu64 ": %s", b.lba,
			     g->backup.problem ? g->backup.problem : "invalid") < 0)
			g->backup.detail = NULL;
		(void)problem_warn(reterr, "backup", "%s",
				   g->backup.detail ? g->backup.detail : "backup copy invalid");
	}

	if (g->backup.state == GPT_COPY_OK && b.hsec) {
		g->backup_sector = malloc(ss);
		if (!g->backup_sector) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(g->backup_sector, b.hsec, ss);
	}
	r = plan_regions(d, g, &b);
	if (r < 0)
		goto out;
	*ret = TAKE_PTR(g);
	r = 0;
out:
	side_release(&p);
	side_release(&b);
	return r;
}

static int read_dev(const struct dev *d, uint32_t sector_size, bool blockdev, struct gpt **ret,
		    struct problem_list *reterr)
{
	static const uint32_t sizes[] = { 512, 4096 };
	bool tried = false;
	int r;

	if (sector_size && sector_size != 512 && sector_size != 4096)
		return problem_add(reterr, -EINVAL, NULL,
				   "sector size %" PRIu32 " is not supported", sector_size);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint32_t ss = sizes[i];
		if (sector_size && ss != sector_size)
			continue;
		if (d->size % ss != 0)
			continue;
		tried = true;
		r = read_at(d, ss, ret, reterr);
		if (r != -ENOMSG)
			return r;
	}
	if (!tried)
		return problem_add(reterr, -EINVAL, NULL,
				   "size %" PRIu64 " is not a multiple of %" PRIu32, d->size,
				   sector_size ? sector_size : 512);
	if (blockdev && sector_size) {
		/* An image copied onto a disk of the other sector size (§10). */
		uint32_t other = sector_size == 512 ? 4096 : 512;
		_cleanup_(gpt_freep) struct gpt *tmp = NULL;
		if (d->size % other == 0 && read_at(d, other, &tmp, NULL) == 0)
			return problem_add(reterr, -EINVAL, NULL,
					   "laid out for %" PRIu32
					   "-byte sectors, the device uses %" PRIu32
					   "-byte sectors",
					   other, sector_size);
	}
	return problem_add(
		reterr, -ENOMSG, NULL,
		"no GPT found (no valid header at LBA 1 or at the last LBA, 512 or 4096-byte sectors)");
}

int gpt_read(int fd, uint32_t sector_size, struct gpt **ret, struct problem_list *reterr)
{
	struct stat st;
	struct dev d = { .fd = fd };
	bool blockdev = false;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		int ssz = 0;
		uint64_t bytes = 0;
		if (ioctl(fd, BLKSSZGET, &ssz) < 0 || ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		if (!sector_size)
			sector_size = (uint32_t)ssz;
		d.size = bytes;
		blockdev = true;
	} else if (S_ISREG(st.st_mode))
		d.size = (uint64_t)st.st_size;
	else
		return -ENODEV;
	return read_dev(&d, sector_size, blockdev, ret, reterr);
}

int gpt_read_buffer(const void *data, size_t size, uint32_t sector_size, struct gpt **ret,
		    struct problem_list *reterr)
{
	struct dev d = { .fd = -1, .buf = (uint8_t *)data, .size = size };
	return read_dev(&d, sector_size, false, ret, reterr);
}

/* ---- writing ---- */

static void patch_header(uint8_t *s, const struct gpt_header *base, uint64_t my, uint64_t alt,
			 uint64_t entries_lba, uint64_t last_usable, uint32_t entries_crc)
{
	gpt_wr64(s + 24, my);
	gpt_wr64(s + 32, alt);
	gpt_wr64(s + 48, last_usable);
	gpt_wr64(s + 72, entries_lba);
	gpt_wr32(s + 88, entries_crc);
	gpt_wr32(s + 16, 0);
	gpt_wr32(s + 16, gpt_crc32(s, base->header_size));
}

/* Build the four regions of §7.2 order into out[] (allocated, region_bytes each). */
static int build_regions(const struct gpt *g, uint8_t *out[4])
{
	uint32_t ss = g->sector_size;
	uint64_t last = g->sectors - 1;
	uint64_t first_usable, last_usable;
	uint32_t crc = gpt_crc32(g->entries, (size_t)g->hdr.num_entries * GPT_ENTRY_SIZE);

	gpt_usable_range(g, &first_usable, &last_usable);
	for (size_t i = 0; i < 4; i++) {
		out[i] = calloc(1, g->region_bytes[i]);
		if (!out[i])
			return -ENOMEM;
	}
	memcpy(out[0], g->entries, g->region_bytes[0]);
	memcpy(out[3], g->entries, g->region_bytes[3]);
	memcpy(out[1], g->backup_sector ? g->backup_sector : g->hdr_sector, ss);
	patch_header(out[1], &g->hdr, last, 1, g->region_lba[0], last_usable, crc);
	memcpy(out[2], g->hdr_sector, ss);
	patch_header(out[2], &g->hdr, 1, last, g->region_lba[3], last_usable, crc);
	return 0;
}

static void free_regions(uint8_t *r[4])
{
	for (size_t i = 0; i < 4; i++) {
		free(r[i]);
		r[i] = NULL;
	}
}

bool gpt_needs_write(const struct gpt *g)
{
	uint8_t *out[4] = {};
	bool changed = true;

	for (size_t i = 0; i < 4; i++)
		if (!g->orig_regions[i])
			return true; /* a created table: what the disk holds is not known yet */
	if (build_regions(g, out) == 0) {
		changed = false;
		for (size_t i = 0; i < 4; i++)
			if (memcmp(out[i], g->orig_regions[i], g->region_bytes[i]) != 0)
				changed = true;
	}
	free_regions(out);
	return changed;
}

int gpt_check_writable(const struct gpt *g, struct problem_list *reterr)
{
	uint64_t last = g->sectors - 1;
	uint64_t as = gpt_array_sectors(g->hdr.num_entries, g->sector_size);
	uint64_t first_usable, limit;

	gpt_usable_range(g, &first_usable, &limit);
	if (last < 2 * as + 3 || limit < first_usable)
		return problem_add(reterr, -EINVAL, NULL, "the disk is too small for its GPT");
	for (unsigned nr = 1; nr <= g->hdr.num_entries; nr++) {
		const struct gpt_entry *e = &g->entries[nr - 1];
		if (gpt_entry_is_used(e) && gpt_entry_last_lba(e) > limit)
			return problem_add(reterr, -EINVAL, NULL,
					   "partition %u ends at LBA %" PRIu64
					   " beyond the last usable LBA %" PRIu64
					   " of the shrunk disk",
					   nr, gpt_entry_last_lba(e), limit);
	}
	return 0;
}

/* FLATCTL_TEST_CRASH_AFTER=K[:S] (§7.4). Returns 0 unset, 1 set, -EINVAL malformed. */
static int crash_spec(unsigned *ret_k, unsigned long long *ret_s)
{
	const char *v = getenv("FLATCTL_TEST_CRASH_AFTER");
	char *end;

	if (!v)
		return 0;
	if (!*v || *v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long k = strtoull(v, &end, 10), s = 0;
	if (errno || k > 1000000)
		return -EINVAL;
	if (*end == ':') {
		const char *sv = end + 1;
		if (!*sv || *sv < '0' || *sv > '9')
			return -EINVAL;
		s = strtoull(sv, &end, 10);
		if (errno)
			return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	*ret_k = (unsigned)k;
	*ret_s = s;
	return 1;
}

/* §7.2: the backup copy array first, the primary copy header first. While the primary array is
 * being written its header already carries the new array's CRC, the same as the backup header's,
 * so sgdisk takes the backup array instead of the torn primary one: it only falls back to the
 * backup array when that array's CRC matches both headers (gptfdisk GPTData::CheckTable). */
static const char *const region_names[4] = { "backup entry array", "backup header",
					     "primary header", "primary entry array" };

/* Fault injection of §7.4, counted over every region write of one operation (the table's passes,
 * then LBA 0). */
struct crash {
	bool armed;
	unsigned k;	      /* crash before region write number k (0-based, whole operation) */
	unsigned long long s; /* after writing s sectors of it */
	unsigned done;	      /* region writes so far */
};

static int crash_init(struct crash *c, struct problem_list *reterr)
{
	int r = crash_spec(&c->k, &c->s);

	if (r < 0)
		return problem_add(reterr, -EINVAL, "FLATCTL_TEST_CRASH_AFTER",
				   "malformed value (K or K:S expected)");
	c->armed = r > 0;
	if (r > 0)
		log_debug(
			"FLATCTL_TEST_CRASH_AFTER set: crash after %u region writes and %llu sectors",
			c->k, c->s);
	return 0;
}

/* One region write of §7.2 (one pwrite of whole sectors), or the simulated crash in its place. */
static int write_region(const struct dev *d, struct crash *c, const void *buf, size_t n,
			uint64_t off, uint32_t sector_size)
{
	if (c->armed && c->done == c->k) {
		size_t torn = (size_t)(c->s * sector_size);
		if (torn > n)
			torn = n;
		if (torn)
			(void)dev_write(d, buf, torn, off);
		_exit(99);
	}
	c->done++;
	return dev_write(d, buf, n, off);
}

/* Read back what was written; a difference is an I/O error (§7.2). */
static int verify_region(const struct dev *d, const void *buf, size_t n, uint64_t off)
{
	_cleanup_free_ uint8_t *chk = malloc(n ? n : 1);
	if (!chk)
		return -ENOMEM;
	int r = dev_read(d, chk, n, off);
	if (r >= 0 && memcmp(chk, buf, n) != 0)
		r = -EIO;
	return r;
}

/* One pass of §7.2 for the table in g, then read back, then re-read g from the disk. */
static int write_pass(const struct dev *d, struct gpt *g, struct crash *c,
		      struct problem_list *reterr)
{
	uint8_t *out[4] = {};
	int r;

	r = build_regions(g, out);
	if (r < 0)
		goto out;
	for (unsigned i = 0; i < 4; i++) {
		r = write_region(d, c, out[i], g->region_bytes[i],
				 g->region_lba[i] * g->sector_size, g->sector_size);
		if (r < 0) {
			(void)problem_add(reterr, r, region_names[i],
					  "the %s at LBA %" PRIu64 ": %s; the %s copy is intact",
					  region_names[i], g->region_lba[i], strerror(-r),
					  i < 2 ? "primary" : "backup");
			goto out;
		}
		if (i == 1 || i == 3) {
			r = dev_sync(d);
			if (r < 0) {
				(void)problem_add(reterr, r, region_names[i],
						  "flushing the %s copy: %s; the %s copy is intact",
						  i == 1 ? "backup" : "primary", strerror(-r),
						  i == 1 ? "primary" : "backup");
				goto out;
			}
		}
	}
	for (unsigned i = 0; i < 4; i++) {
		r = verify_region(d, out[i], g->region_bytes[i], g->region_lba[i] * g->sector_size);
		if (r < 0) {
			(void)problem_add(reterr, r, region_names[i],
					  "verifying the %s at LBA %" PRIu64
					  ": what was read back differs",
					  region_names[i], g->region_lba[i]);
			goto out;
		}
	}

	/* g now describes the disk: read it again. */
	struct gpt *n = NULL;
	r = read_at(d, g->sector_size, &n, NULL);
	if (r < 0) {
		(void)problem_add(reterr, -EIO, NULL, "re-reading the GPT after writing failed");
		r = -EIO;
		goto out;
	}
	release_internals(g);
	*g = *n;
	free(n);
	r = 1;
out:
	free_regions(out);
	return r;
}

static int write_table(const struct dev *d, struct gpt *g, struct crash *c,
		       struct problem_list *reterr)
{
	int r;

	r = gpt_check_writable(g, reterr);
	if (r < 0)
		return r;
	if (!g->orig_regions[0]) {
		/* A created table: learn what the disk holds there, so an identical one is not
		 * written again. */
		r = read_regions(d, g);
		if (r < 0)
			return problem_add(reterr, r, NULL, "reading the disk: %s", strerror(-r));
	}
	if (!gpt_needs_write(g))
		return 0;

	bool fixup = g->primary.state != GPT_COPY_OK || g->backup.state != GPT_COPY_OK ||
		     g->grown || g->shrunk;
	if (fixup && memcmp(g->entries, g->orig_entries, g->array_bytes) != 0) {
		/* Pass 1: the table as read, repaired and relocated. */
		_cleanup_free_ uint8_t *changed = malloc(g->array_bytes);
		if (!changed)
			return -ENOMEM;
		memcpy(changed, g->entries, g->array_bytes);
		size_t bytes = g->array_bytes;
		memcpy(g->entries, g->orig_entries, g->array_bytes);
		r = write_pass(d, g, c, reterr);
		if (r < 0) {
			memcpy(g->entries, changed, g->array_bytes);
			return r;
		}
		if (g->array_bytes != bytes)
			return problem_add(reterr, -EIO, NULL, "the table changed while writing");
		memcpy(g->entries, changed, g->array_bytes);
		if (!gpt_needs_write(g))
			return 1;
	}
	return write_pass(d, g, c, reterr);
}

/* LBA 0's first 512 bytes (§5.1), after the table: one region, flushed and read back. */
static int write_mbr(const struct dev *d, const uint8_t *mbr, uint32_t sector_size, struct crash *c,
		     struct problem_list *reterr)
{
	uint8_t cur[GPT_MBR_SIZE];
	int r;

	r = dev_read(d, cur, sizeof(cur), 0);
	if (r < 0)
		return problem_add(reterr, r, "MBR", "reading LBA 0: %s", strerror(-r));
	if (memcmp(cur, mbr, sizeof(cur)) == 0)
		return 0;
	r = write_region(d, c, mbr, GPT_MBR_SIZE, 0, sector_size);
	if (r >= 0)
		r = dev_sync(d);
	if (r < 0)
		return problem_add(reterr, r, "MBR", "writing LBA 0: %s; the GPT is intact",
				   strerror(-r));
	r = verify_region(d, mbr, GPT_MBR_SIZE, 0);
	if (r < 0)
		return problem_add(reterr, r, "MBR", "verifying LBA 0: what was read back differs");
	return 1;
}

static int dev_from_fd(int fd, struct dev *d)
{
	struct stat st;

	*d = (struct dev){ .fd = fd };
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
		d->size = bytes;
	} else
		d->size = (uint64_t)st.st_size;
	return 0;
}

static int write_dev(const struct dev *d, struct gpt *g, const uint8_t *mbr,
		     struct problem_list *reterr)
{
	struct crash c = {};
	int r, written = 0;

	r = crash_init(&c, reterr);
	if (r < 0)
		return r;
	if (g) {
		if (d->size / g->sector_size != g->sectors)
			return problem_add(reterr, -EIO, NULL,
					   "the disk changed size since it was read");
		r = write_table(d, g, &c, reterr);
		if (r < 0)
			return r;
		written |= r;
	}
	if (mbr) {
		r = write_mbr(d, mbr, g ? g->sector_size : GPT_MBR_SIZE, &c, reterr);
		if (r < 0)
			return r;
		written |= r;
	}
	return written;
}

int gpt_write(int fd, struct gpt *g, struct problem_list *reterr)
{
	return gpt_write_with_mbr(fd, g, NULL, reterr);
}

int gpt_write_with_mbr(int fd, struct gpt *g, const uint8_t *mbr, struct problem_list *reterr)
{
	struct dev d;
	int r = dev_from_fd(fd, &d);

	if (r < 0)
		return r;
	return write_dev(&d, g, mbr, reterr);
}

int gpt_write_buffer(void *data, size_t size, struct gpt *g, struct problem_list *reterr)
{
	struct dev d = { .fd = -1, .buf = data, .size = size };

	return write_dev(&d, g, NULL, reterr);
}

int gpt_write_zap(int fd, uint32_t sector_size, struct problem_list *reterr)
{
	static const char *const names[2] = { "backup header", "primary header" };
	struct crash c = {};
	struct dev d;
	int r, written = 0;

	if (sector_size != 512 && sector_size != 4096)
		return problem_add(reterr, -EINVAL, NULL,
				   "sector size %" PRIu32 " is not supported", sector_size);
	r = dev_from_fd(fd, &d);
	if (r < 0)
		return r;
	if (d.size % sector_size != 0 || d.size / sector_size < 3)
		return problem_add(reterr, -EINVAL, NULL,
				   "size %" PRIu64 " is not a disk of %" PRIu32 "-byte sectors",
				   d.size, sector_size);
	r = crash_init(&c, reterr);
	if (r < 0)
		return r;
	_cleanup_free_ uint8_t *zero = calloc(1, sector_size), *cur = malloc(sector_size);
	if (!zero || !cur)
		return -ENOMEM;
	/* Backup first, as every write (§7.2): a cut in between leaves the primary readable. */
	uint64_t lba[2] = { d.size / sector_size - 1, 1 };
	for (size_t i = 0; i < 2; i++) {
		r = dev_read(&d, cur, sector_size, lba[i] * sector_size);
		if (r < 0)
			return problem_add(reterr, r, names[i],
					   "reading the %s at LBA %" PRIu64 ": %s", names[i],
					   lba[i], strerror(-r));
		if (memcmp(cur, zero, sector_size) == 0)
			continue;
		r = write_region(&d, &c, zero, sector_size, lba[i] * sector_size, sector_size);
		if (r >= 0)
			r = dev_sync(&d);
		if (r >= 0)
			r = verify_region(&d, zero, sector_size, lba[i] * sector_size);
		if (r < 0)
			return problem_add(reterr, r, names[i],
					   "zeroing the %s at LBA %" PRIu64 ": %s", names[i],
					   lba[i], strerror(-r));
		written = 1;
	}
	return written;
}

/* ---- grow (§8.8) ---- */

uint64_t gpt_grow_limit(const struct gpt *g, unsigned nr)
{
	const struct gpt_entry *e = gpt_entry_get_const(g, nr);
	uint64_t first_usable, limit;

	if (!e)
		return 0;
	gpt_usable_range(g, &first_usable, &limit);
	uint64_t first = gpt_entry_first_lba(e);
	for (unsigned i = 1; i <= g->hdr.num_entries; i++) {
		const struct gpt_entry *o = &g->entries[i - 1];
		if (i == nr || !gpt_entry_is_used(o))
			continue;
		uint64_t of = gpt_entry_first_lba(o);
		if (of > first && of - 1 < limit)
			limit = of - 1;
	}
	return limit;
}

int gpt_grow(struct gpt *g, unsigned nr, uint64_t *ret_old_last, uint64_t *ret_new_last)
{
	struct gpt_entry *e = gpt_entry_get(g, nr);

	if (!e || !gpt_entry_is_used(e))
		return -ENOENT;
	uint64_t old = gpt_entry_last_lba(e), lim = gpt_grow_limit(g, nr);
	if (ret_old_last)
		*ret_old_last = old;
	if (lim <= old) {
		if (ret_new_last)
			*ret_new_last = old;
		return 1;
	}
	gpt_entry_set_last_lba(e, lim);
	if (ret_new_last)
		*ret_new_last = lim;
	return 0;
}
