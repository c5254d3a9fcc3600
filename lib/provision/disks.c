/* SPDX-License-Identifier: MIT */
/* lib/provision/disks.c - the disks stage (docs/provision.md §5.1, docs/provision-apply.md §7).
 *
 * Planning reads every disk's GPT and computes the new table in memory the way Ignition's
 * sgdisk run would (coreos/ignition internal/exec/stages/disks/partitions.go, and the reuse
 * rules of its docs/operator-notes.md): the partitions the config names are deleted and
 * recreated on a scratch copy to find the real start and size of every "0" or unset value,
 * then each existing partition is matched (number, start, size, GUID, type GUID, label) and
 * kept, created, deleted, resized, recreated or refused. The result is checked by the GPT core
 * (bounds, overlaps, alignment). Every filesystem is then probed with libblkid where it will be
 * (a partition's bytes do not move when only its table entry changes) and reused, made or
 * refused. Nothing is written until all of it is known to be good.
 *
 * Carrying it out: each table is written with the GPT core's crash-safe writer (a cut leaves
 * the old or the new table), then every filesystem to make gets `wipefs -a` and its mkfs tool.
 * A partition is reached through a loop device over its byte range (LOOP_CONFIGURE with offset
 * and size limit, auto-clearing), so neither partition scanning nor udev is needed; on a block
 * device the kernel's own partitions are updated as well (BLKPG), best effort. */
#include <blkid.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/spawn.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "internal.h"
#include "storage.h"
#include "util/cleanup.h"
#include "util/problem.h"

#define MIB (UINT64_C(1) << 20)
/* sgdisk's default type for a new partition: Linux filesystem data */
#define DEFAULT_TYPE "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

struct prov_storage *storage_free(struct prov_storage *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->nd; i++) {
		if (s->d[i].fd >= 0)
			close(s->d[i].fd);
		gpt_free(s->d[i].gpt);
		gpt_free(s->d[i].plan);
		free(s->d[i].cfg);
		free(s->d[i].shown);
	}
	for (size_t i = 0; i < s->nf; i++) {
		storage_fs_detach(&s->f[i]);
		if (s->f[i].fd >= 0)
			close(s->f[i].fd);
		free(s->f[i].hostpath);
		free(s->f[i].mcanon);
	}
	for (size_t i = 0; i < s->nmkdirs; i++)
		free(s->mkdirs[i]);
	free(s->mkdirs);
	free(s->d);
	free(s->f);
	json_decref(s->done);
	free(s);
	return NULL;
}

struct prov_storage *storage_get(struct prov_plan *p)
{
	if (!p->st) {
		p->st = calloc(1, sizeof(*p->st));
		if (p->st && !(p->st->done = json_array()))
			p->st = storage_free(p->st);
	}
	return p->st;
}

static void done_add(struct prov_storage *s, const char *kind, const char *dev, const char *fmt,
		     ...) _printf_(4, 5);
static void done_add(struct prov_storage *s, const char *kind, const char *dev, const char *fmt,
		     ...)
{
	char d[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	(void)json_array_append_new(
		s->done, json_pack("{s:s, s:s, s:s}", "kind", kind, "device", dev, "detail", d));
}

/* --- devices ------------------------------------------------------------------------------ */

/* Device paths of the config are host paths with --root / and under the name `ignition` (the
 * initramfs, where Ignition takes them so); otherwise they are taken inside the root, unless
 * --device maps them (docs/provision.md §6). */
static bool host_devices(const struct prov_plan *p)
{
	struct stat host;
	if (p->o->ignition_mode)
		return true;
	return stat("/", &host) == 0 && host.st_dev == p->root_st.st_dev &&
	       host.st_ino == p->root_st.st_ino;
}

static const char *mapped(const struct prov_plan *p, const char *cfg)
{
	for (size_t i = 0; i < p->o->n_device_map; i++)
		if (!strcmp(p->o->device_map[i].cfg, cfg))
			return p->o->device_map[i].path;
	return NULL;
}

/* Open a device the config names: a block device or an image file. *ret_shown names it for
 * messages; *ret_host is set to the host path when it is one (NULL inside the root). Returns
 * the fd, -ENOENT when it does not exist, -ENODEV when it is something else, other -errno. */
static int device_open(const struct prov_plan *p, const char *cfg, int flags, char **ret_shown,
		       char **ret_host)
{
	const char *m = mapped(p, cfg);
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* openat2() takes nothing but O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC with O_PATH */
	if (!(flags & O_PATH))
		flags |= O_NOCTTY;
	if (m || host_devices(p))
		fd = open(m ? m : cfg, flags | O_CLOEXEC);
	else
		fd = fs_open(p->root_fd, cfg, flags, 0);
	if (fd < 0)
		return fd == -1 ? -errno : fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return -ENODEV;
	if (ret_shown) {
		int k = m && strcmp(m, cfg) != 0 ? asprintf(ret_shown, "%s (%s)", cfg, m)
						 : asprintf(ret_shown, "%s", cfg);
		if (k < 0)
			return -ENOMEM;
	}
	if (ret_host) {
		*ret_host = NULL;
		if (S_ISBLK(st.st_mode) && (m || host_devices(p)) &&
		    !(*ret_host = strdup(m ? m : cfg)))
			return -ENOMEM;
	}
	return TAKE_FD(fd);
}

/* Whether a device the config names can be found (for --devices skip). */
bool storage_device_exists(const struct prov_plan *p, const char *cfg)
{
	_cleanup_close_ int fd = device_open(p, cfg, O_PATH, NULL, NULL);
	return fd >= 0 || fd == -ENODEV;
}

static int dev_size(int fd, bool blockdev, uint64_t *ret_size, uint32_t *ret_sector)
{
	struct stat st;
	*ret_sector = 512;
	if (blockdev) {
		int ss = 0;
		if (ioctl(fd, BLKGETSIZE64, ret_size) < 0 || ioctl(fd, BLKSSZGET, &ss) < 0)
			return -errno;
		*ret_sector = (uint32_t)ss;
		return 0;
	}
	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_size = (uint64_t)st.st_size;
	return 0;
}

/* The disk named cfg, opened and read (once). Returns its index or -errno (reported). */
static int disk_get(struct prov_plan *p, const char *cfg, const char *where)
{
	struct prov_storage *s = p->st;
	for (size_t i = 0; i < s->nd; i++)
		if (!strcmp(s->d[i].cfg, cfg))
			return (int)i;
	struct st_disk *d = reallocarray(s->d, s->nd + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	s->d = d;
	d = &s->d[s->nd];
	*d = (struct st_disk){ .fd = -1 };
	snprintf(d->where, sizeof(d->where), "%s", where ? where : "");
	if (!(d->cfg = strdup(cfg)))
		return -ENOMEM;
	s->nd++;
	int fd = device_open(p, cfg, p->storage_exec ? O_RDWR : O_RDONLY, &d->shown, NULL);
	if (fd == -EROFS || fd == -EACCES)
		return plan_fail(p, fd, where, cfg, "read-only device");
	if (fd == -ENODEV)
		return plan_fail(p, fd, where, cfg, "not a block device or image file");
	if (fd < 0)
		return plan_fail(p, fd, where, cfg, "cannot open: %s", strerror(-fd));
	d->fd = fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return plan_fail(p, -errno, where, cfg, "%s", strerror(errno));
	d->blockdev = S_ISBLK(st.st_mode);
	d->rdev = st.st_rdev;
	d->fdev = st.st_dev;
	d->fino = st.st_ino;
	int r = dev_size(fd, d->blockdev, &d->size, &d->sector);
	if (r < 0)
		return plan_fail(p, r, where, cfg, "reading its size: %s", strerror(-r));
	if (d->blockdev && p->storage_exec) {
		int ro = 0;
		if (ioctl(fd, BLKROGET, &ro) == 0 && ro)
			return plan_fail(p, -EROFS, where, cfg, "read-only device");
	}
	/* the whole read-plan-write cycle holds the disk, as the GPT core's tools do; this also
	 * keeps udev from probing in the middle */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i >= 50)
			return plan_fail(p, -EBUSY, where, cfg, "locked by another process");
		struct timespec ts = { 0, 100L * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	_cleanup_(problem_list_release) struct problem_list pl = {};
	r = gpt_read(fd, d->sector, &d->gpt, &pl);
	if (r == -ENOMSG)
		return (int)(s->nd - 1);
	if (r == -ENOMEM)
		return r;
	/* a table that cannot be read counts as none here: plan_one_disk() refuses to replace
	 * it without wipeTable */
	if (r < 0)
		d->gpt = NULL;
	return (int)(s->nd - 1);
}

/* --- the partition plan -------------------------------------------------------------------- */

struct part {
	json_t *e;
	size_t idx; /* in the config list, for messages */
	unsigned nr;
	bool exist; /* shouldExist */
	bool wipe;  /* wipePartitionEntry */
	bool resize;
	const char *label;
	const char *guid, *type;
	bool has_start, has_size;
	uint64_t start, size; /* sectors */
	enum { PART_KEEP, PART_CREATE, PART_RESIZE } act;
	struct gpt_entry old; /* PART_RESIZE: the entry, made again with the new size */
};

static bool str_set(const char *s)
{
	return s && s[0];
}

static int table_fresh(const struct st_disk *d, struct gpt **ret, struct problem_list *l)
{
	struct gpt_create_params cp = { .sector_size = d->sector, .sectors = d->size / d->sector };
	return gpt_create(&cp, ret, l);
}

/* A working copy of the disk's table: the one read, or a new empty one. */
static int table_copy(const struct st_disk *d, bool fresh, struct gpt **ret, struct problem_list *l)
{
	if (fresh || !d->gpt)
		return table_fresh(d, ret, l);
	return gpt_read(d->fd, d->sector, ret, l);
}

static void entry_guid(const struct gpt_entry *e, bool type, char *buf)
{
	(void)gpt_guid_to_string(type ? &e->type : &e->unique, true, buf);
}

/* Whether the existing entry matches the partition's attributes (size only when with_size);
 * *why says what differs. */
static bool part_matches(const struct gpt *g, const struct part *pt, bool with_size, char *why,
			 size_t n)
{
	const struct gpt_entry *e = gpt_entry_get_const(g, pt->nr);
	char lb[GPT_LABEL_MAX], gb[GPT_GUID_STRING_MAX];
	uint64_t f = gpt_entry_first_lba(e), sz = gpt_entry_last_lba(e) - f + 1;
	if (pt->has_start && pt->start != f) {
		snprintf(why, n,
			 "start did not match (wanted sector %" PRIu64 ", found %" PRIu64 ")",
			 pt->start, f);
		return false;
	}
	entry_guid(e, false, gb);
	if (str_set(pt->guid) && strcasecmp(pt->guid, gb) != 0) {
		snprintf(why, n, "GUID did not match (wanted %s, found %s)", pt->guid, gb);
		return false;
	}
	entry_guid(e, true, gb);
	if (str_set(pt->type) && strcasecmp(pt->type, gb) != 0) {
		snprintf(why, n, "type GUID did not match (wanted %s, found %s)", pt->type, gb);
		return false;
	}
	(void)gpt_entry_label(e, lb);
	if (pt->label && strcmp(pt->label, lb) != 0) {
		snprintf(why, n, "label did not match (wanted \"%s\", found \"%s\")", pt->label,
			 lb);
		return false;
	}
	if (with_size && pt->has_size && pt->size != sz) {
		snprintf(why, n,
			 "size did not match (wanted %" PRIu64 " sectors, found %" PRIu64 ")",
			 pt->size, sz);
		return false;
	}
	return true;
}

static int part_add(struct gpt *g, const struct part *pt, uint64_t align, struct problem_list *l)
{
	struct gpt_partition np = {
		.nr = pt->nr,
		.first_lba = pt->start,
		.size = pt->size,
		.label = pt->label,
		.align = align,
	};
	int r = gpt_guid_from_string(str_set(pt->type) ? pt->type : DEFAULT_TYPE, &np.type);
	if (r >= 0 && str_set(pt->guid))
		r = gpt_guid_from_string(pt->guid, &np.unique);
	if (r < 0)
		return problem_add(l, r, NULL, "invalid GUID");
	return gpt_entry_add(g, &np, l);
}

/* Where a partition of start/size "0 or unset" goes on the scratch table: start 0 is the start
 * of the largest free block (aligned), size 0 the rest of the largest free block, which must
 * then hold the start (docs/operator-notes.md of coreos/ignition). */
static int part_place(struct gpt *g, struct part *pt, uint64_t align, struct problem_list *l,
		      const char *where)
{
	uint64_t lf = 0, ll = 0;
	int r = gpt_free_extent(g, 0, align, true, &lf, &ll);
	if ((!pt->has_start || !pt->start || !pt->has_size || !pt->size) && r < 0)
		return problem_add(l, -ENOSPC, where, "no free space left on the disk");
	if (!pt->has_start || !pt->start)
		pt->start = lf;
	if (!pt->has_size || !pt->size) {
		if (pt->start < lf || pt->start > ll)
			return problem_add(l, -ENOSPC, where,
					   "size 0 fills the largest free block (sectors %" PRIu64
					   "-%" PRIu64 "), which does not hold the start %" PRIu64,
					   lf, ll, pt->start);
		pt->size = ll - pt->start + 1;
	}
	pt->has_start = pt->has_size = true;
	return 0;
}

static int cmp_part(const void *a, const void *b)
{
	const struct part *x = a, *y = b;
	/* numbered partitions first, number 0 last, otherwise config order (stable) */
	if ((x->nr == 0) != (y->nr == 0))
		return x->nr == 0 ? 1 : -1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void fmt_extent(char *buf, size_t n, const struct st_disk *d, uint64_t start, uint64_t size)
{
	uint64_t spm = MIB / d->sector;
	if (start % spm == 0 && size % spm == 0)
		snprintf(buf, n, "start %" PRIu64 " MiB, size %" PRIu64 " MiB", start / spm,
			 size / spm);
	else
		snprintf(buf, n, "sectors %" PRIu64 "+%" PRIu64, start, size);
}

static void mark_changed(struct st_disk *d, unsigned nr)
{
	for (unsigned i = 0; i < d->nchanged; i++)
		if (d->changed[i] == nr)
			return;
	if (d->nchanged < ARRAY_SIZE(d->changed))
		d->changed[d->nchanged++] = nr;
}

/* Every problem the GPT core found with partition nr, reported at its entry. */
static void part_failed(struct prov_plan *p, const struct problem_list *pl, const char *where,
			const struct st_disk *d, unsigned nr)
{
	for (size_t k = 0; k < pl->n; k++)
		(void)plan_fail(p, pl->item[k].error, where, d->cfg, "partition %u: %s", nr,
				pl->item[k].message);
	plan_item(p, '!', "partition", d->shown, "%u: does not fit", nr);
}

static int plan_one_disk(struct prov_plan *p, json_t *disk, const char *where)
{
	const char *dev = json_string_value(json_object_get(disk, "device"));
	bool wipe_table = json_is_true(json_object_get(disk, "wipeTable"));
	json_t *parts = json_object_get(disk, "partitions");
	size_t n = json_array_size(parts);
	_cleanup_(problem_list_release) struct problem_list l = {};
	_cleanup_free_ struct part *pt = calloc(n ? n : 1, sizeof(*pt));
	_cleanup_(gpt_freep) struct gpt *sim = NULL, *fin = NULL;
	int r;

	if (!pt)
		return -ENOMEM;
	int di = disk_get(p, dev, where);
	if (di < 0)
		return di == -ENOMEM ? di : 0;
	struct st_disk *d = &p->st->d[di];
	snprintf(d->where, sizeof(d->where), "%s", where);
	uint64_t spm = MIB / d->sector;
	if (!d->gpt && !wipe_table && n) {
		/* no table, or one that cannot be read: sgdisk would make one only in the first
		 * case; flatctl tells them apart */
		_cleanup_(problem_list_release) struct problem_list rl = {};
		struct gpt *g = NULL;
		r = gpt_read(d->fd, d->sector, &g, &rl);
		gpt_free(g);
		if (r != -ENOMSG && r < 0)
			return plan_fail(
				p, r, where, dev,
				"its partition table cannot be read (%s); wipeTable replaces "
				"it",
				rl.n ? rl.item[0].message : strerror(-r));
	}
	if (wipe_table && !n) {
		d->zap = true;
		plan_item(p, '-', "table", d->shown, "wipeTable: the partition table is removed");
		return 0;
	}
	if (!n)
		return 0;

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(parts, i);
		json_t *v;
		pt[i] = (struct part){
			.e = e,
			.idx = i,
			.nr = (unsigned)json_integer_value(json_object_get(e, "number")),
			.exist = !json_is_false(json_object_get(e, "shouldExist")),
			.wipe = json_is_true(json_object_get(e, "wipePartitionEntry")),
			.resize = json_is_true(json_object_get(e, "resize")),
			.label = json_string_value(json_object_get(e, "label")),
			.guid = json_string_value(json_object_get(e, "guid")),
			.type = json_string_value(json_object_get(e, "typeGuid")),
		};
		if ((v = json_object_get(e, "startMiB")) && json_is_integer(v)) {
			pt[i].has_start = true;
			pt[i].start = (uint64_t)json_integer_value(v) * spm;
		}
		if ((v = json_object_get(e, "sizeMiB")) && json_is_integer(v)) {
			pt[i].has_size = true;
			pt[i].size = (uint64_t)json_integer_value(v) * spm;
		}
	}
	qsort(pt, n, sizeof(*pt), cmp_part);

	/* the existing table, as the config will see it */
	const struct gpt *old = wipe_table ? NULL : d->gpt;
	r = table_copy(d, wipe_table, &sim, &l);
	if (r >= 0)
		r = table_copy(d, wipe_table, &fin, &l);
	if (r < 0)
		return r == -ENOMEM ? r
				    : plan_fail(p, r, where, dev, "%s",
						l.n ? l.item[0].message : strerror(-r));
	if (wipe_table) {
		d->new_table = true;
		plan_item(p, '~', "table", d->shown, "wipeTable: a new partition table%s",
			  d->gpt ? " replaces the old one" : "");
	} else if (!d->gpt) {
		d->new_table = true;
		plan_item(p, '+', "table", d->shown, "a new partition table");
	}

	/* 1. the scratch run: every named partition deleted, then all that should exist made,
	 *    in order, to learn the real start and size of "0" and unset */
	bool used[GPT_MAX_ENTRIES + 1] = {};
	for (unsigned k = 1; old && k <= gpt_num_entries(old) && k <= GPT_MAX_ENTRIES; k++)
		used[k] = gpt_entry_is_used(gpt_entry_get_const(old, k));
	for (size_t i = 0; i < n; i++) {
		struct part *x = &pt[i];
		const struct gpt_entry *e = old && x->nr ? gpt_entry_get_const(old, x->nr) : NULL;
		if (e && gpt_entry_is_used(e)) {
			(void)gpt_entry_delete(sim, x->nr, NULL);
			if (!x->has_start && !x->wipe) {
				x->has_start = true;
				x->start = gpt_entry_first_lba(e);
			}
			if (!x->has_size && !x->wipe) {
				x->has_size = true;
				x->size = gpt_entry_last_lba(e) - gpt_entry_first_lba(e) + 1;
			}
		}
		if (x->nr && x->nr <= GPT_MAX_ENTRIES)
			used[x->nr] = x->exist;
	}
	unsigned next = 1;
	bool bad = false;
	for (size_t i = 0; i < n; i++) {
		struct part *x = &pt[i];
		char w[96];
		snprintf(w, sizeof(w), "%s/partitions/%zu", where, x->idx);
		if (!x->exist)
			continue;
		if (x->nr == 0) {
			while (next <= GPT_MAX_ENTRIES && used[next])
				next++;
			x->nr = next++;
		}
		if (x->nr > gpt_num_entries(sim)) {
			plan_fail(p, -ERANGE, w, dev,
				  "partition number %u: the table has %u entries", x->nr,
				  gpt_num_entries(sim));
			bad = true;
			continue;
		}
		_cleanup_(problem_list_release) struct problem_list pl = {};
		r = part_place(sim, x, spm, &pl, w);
		if (r >= 0)
			r = part_add(sim, x, spm, &pl);
		if (r < 0) {
			if (r == -ENOMEM)
				return r;
			part_failed(p, &pl, w, d, x->nr);
			bad = true;
		}
	}
	if (bad)
		return 0;

	/* 2. each partition against what is there (the matrix of Ignition's operator notes) */
	for (size_t i = 0; i < n; i++) {
		struct part *x = &pt[i];
		char w[96], why[256], ext[96];
		snprintf(w, sizeof(w), "%s/partitions/%zu", where, x->idx);
		if (!x->exist) {
			bool twin = false;
			for (size_t k = 0; k < n; k++)
				twin |= k != i && pt[k].exist && pt[k].nr == x->nr;
			if (twin)
				continue;
		}
		const struct gpt_entry *e = old && x->nr ? gpt_entry_get_const(old, x->nr) : NULL;
		bool exists = e && gpt_entry_is_used(e);
		bool match = exists && part_matches(old, x, true, why, sizeof(why));
		fmt_extent(ext, sizeof(ext), d, x->start, x->size);
		if (!exists && !x->exist) {
			plan_item(p, '=', "partition", d->shown, "%u: absent, as wanted", x->nr);
		} else if (!exists) {
			plan_item(p, '+', "partition", d->shown, "%u%s%s: %s", x->nr,
				  x->label ? " " : "", x->label ? x->label : "", ext);
		} else if (!x->exist && !x->wipe) {
			plan_fail(p, -EEXIST, w, dev,
				  "partition %u exists but shouldExist is false and "
				  "wipePartitionEntry is not set",
				  x->nr);
			plan_item(p, '!', "partition", d->shown, "%u: exists", x->nr);
			continue;
		} else if (!x->exist) {
			(void)gpt_entry_delete(fin, x->nr, NULL);
			mark_changed(d, x->nr);
			plan_item(p, '-', "partition", d->shown, "%u: deleted", x->nr);
			continue;
		} else if (match) {
			plan_item(p, '=', "partition", d->shown, "%u: matches, kept", x->nr);
			continue;
		} else if (!x->wipe) {
			char why2[256];
			if (!x->resize || !part_matches(old, x, false, why2, sizeof(why2))) {
				plan_fail(p, -EEXIST, w, dev,
					  "partition %u did not match: %s (wipePartitionEntry "
					  "recreates it%s)",
					  x->nr, why, x->resize ? "" : ", resize grows it");
				plan_item(p, '!', "partition", d->shown, "%u: does not match",
					  x->nr);
				continue;
			}
			/* resize: the same number, GUID, type, label, attributes and start, the
			 * new size, once every deletion is done (as sgdisk deletes first) */
			uint64_t f = gpt_entry_first_lba(e);
			x->act = PART_RESIZE;
			x->old = *e;
			gpt_entry_set_last_lba(&x->old, f + x->size - 1);
			(void)gpt_entry_delete(fin, x->nr, NULL);
			plan_item(p, '~', "partition", d->shown,
				  "%u: resized from %" PRIu64 " to %" PRIu64 " sectors", x->nr,
				  gpt_entry_last_lba(e) - f + 1, x->size);
			continue;
		} else {
			(void)gpt_entry_delete(fin, x->nr, NULL);
			plan_item(p, '~', "partition", d->shown, "%u: recreated (%s): %s", x->nr,
				  why, ext);
		}
		/* created or recreated: placed later, after every deletion */
		x->act = PART_CREATE;
	}
	for (size_t i = 0; i < n; i++) {
		struct part *x = &pt[i];
		if (x->act == PART_KEEP || !x->exist)
			continue;
		char w[96];
		snprintf(w, sizeof(w), "%s/partitions/%zu", where, x->idx);
		_cleanup_(problem_list_release) struct problem_list pl = {};
		r = x->act == PART_RESIZE ? gpt_entry_replace(fin, x->nr, &x->old, spm, &pl)
					  : part_add(fin, x, spm, &pl);
		if (r < 0) {
			if (r == -ENOMEM)
				return r;
			part_failed(p, &pl, w, d, x->nr);
			continue;
		}
		mark_changed(d, x->nr);
	}
	if (p->failed)
		return 0;
	r = gpt_check_entries(fin, &l);
	if (r < 0) {
		for (size_t k = 0; k < l.n; k++)
			plan_fail(p, l.item[k].error, where, dev, "%s", l.item[k].message);
		return 0;
	}
	if (d->new_table || gpt_needs_write(fin))
		d->plan = TAKE_PTR(fin);
	return 0;
}

/* --- which device a filesystem is on ------------------------------------------------------- */

/* "/dev/vdb3" -> disk "/dev/vdb", 3; "/dev/nvme0n1p2", "/dev/loop5p1" -> "...n1"/"loop5", 2. */
static int split_partition_name(const char *dev, char **ret_disk, unsigned *ret_nr)
{
	size_t n = strlen(dev), k = n;
	while (k > 0 && isdigit((unsigned char)dev[k - 1]))
		k--;
	if (k == n || k == 0 || n - k > 4)
		return -EINVAL;
	unsigned nr = (unsigned)strtoul(dev + k, NULL, 10);
	size_t base = k;
	if (dev[k - 1] == 'p' && k >= 2 && isdigit((unsigned char)dev[k - 2]))
		base = k - 1;
	else if (isdigit((unsigned char)dev[k - 1]))
		return -EINVAL;
	if (nr == 0 || !(*ret_disk = strndup(dev, base)))
		return nr == 0 ? -EINVAL : -ENOMEM;
	*ret_nr = nr;
	return 0;
}

/* The table a filesystem sees: the planned one when the disks stage changes the disk. */
static const struct gpt *table_of(const struct st_disk *d)
{
	return d->plan ? d->plan : d->zap ? NULL : d->gpt;
}

static int fs_on_partition(struct prov_plan *p, struct st_fs *f, int di, unsigned nr)
{
	struct st_disk *d = &p->st->d[di];
	const struct gpt *g = table_of(d);
	const struct gpt_entry *e = g ? gpt_entry_get_const(g, nr) : NULL;
	if (!e || !gpt_entry_is_used(e))
		return plan_fail(p, -ENODEV, f->where, f->device,
				 "partition %u of %s does not exist%s", nr, d->cfg,
				 d->plan || d->zap ? " after the disks stage" : "");
	f->disk = di;
	f->nr = nr;
	f->off = gpt_entry_first_lba(e) * d->sector;
	f->size = (gpt_entry_last_lba(e) - gpt_entry_first_lba(e) + 1) * d->sector;
	return 1;
}

/* /dev/disk/by-partlabel/L and by-partuuid/U on every disk the run knows. */
static int fs_by_part(struct prov_plan *p, struct st_fs *f, const char *key, bool uuid)
{
	int found_d = -1;
	unsigned found_nr = 0, count = 0;
	for (size_t i = 0; i < p->st->nd; i++) {
		const struct gpt *g = table_of(&p->st->d[i]);
		for (unsigned k = 1; g && k <= gpt_num_entries(g); k++) {
			const struct gpt_entry *e = gpt_entry_get_const(g, k);
			char b[GPT_LABEL_MAX];
			if (!gpt_entry_is_used(e))
				continue;
			if (uuid)
				entry_guid(e, false, b);
			else
				(void)gpt_entry_label(e, b);
			if ((uuid ? strcasecmp(b, key) : strcmp(b, key)) != 0)
				continue;
			count++;
			found_d = (int)i;
			found_nr = k;
		}
	}
	if (count > 1)
		return plan_fail(p, -ENOTUNIQ, f->where, f->device,
				 "%u partitions have this %s on the disks of this run", count,
				 uuid ? "GUID" : "label");
	if (count == 0)
		return 0;
	return fs_on_partition(p, f, found_d, found_nr);
}

/* Resolve f->device: a partition of a disk the run knows (also the disks of --device), or a
 * device of its own. 1 resolved, 0 not found, -errno reported. */
static int fs_locate(struct prov_plan *p, struct st_fs *f)
{
	static const char by_label[] = "/dev/disk/by-partlabel/",
			  by_uuid[] = "/dev/disk/by-partuuid/";
	bool host = host_devices(p);
	f->disk = -1;
	if (!f->device)
		return 0;

	/* the disks --device maps are disks of this run too */
	for (size_t i = 0; i < p->o->n_device_map; i++) {
		int k = disk_get(p, p->o->device_map[i].cfg, NULL);
		if (k == -ENOMEM)
			return k;
	}
	if (!strncmp(f->device, by_label, strlen(by_label)) ||
	    !strncmp(f->device, by_uuid, strlen(by_uuid))) {
		bool uuid = f->device[strlen("/dev/disk/by-part")] == 'u';
		int k = fs_by_part(p, f, f->device + strlen(uuid ? by_uuid : by_label), uuid);
		if (k != 0)
			return k;
	}
	_cleanup_free_ char *base = NULL;
	unsigned nr = 0;
	if (!mapped(p, f->device) && split_partition_name(f->device, &base, &nr) == 0) {
		for (size_t i = 0; i < p->st->nd; i++)
			if (!strcmp(p->st->d[i].cfg, base))
				return fs_on_partition(p, f, (int)i, nr);
	}
	/* a device of its own */
	_cleanup_free_ char *shown = NULL;
	int fd = device_open(p, f->device, p->storage_exec ? O_RDWR : O_RDONLY, &shown,
			     &f->hostpath);
	if (fd == -ENOENT && base && host) {
		/* a host partition node that is not there (no udev): its disk's table */
		struct stat st;
		if (stat(base, &st) == 0 && S_ISBLK(st.st_mode)) {
			int di = disk_get(p, base, NULL);
			if (di < 0)
				return di;
			return fs_on_partition(p, f, di, nr);
		}
	}
	if (fd == -ENOENT)
		return 0;
	if (fd == -ENODEV)
		return plan_fail(p, fd, f->where, f->device, "not a block device or image file");
	if (fd < 0)
		return plan_fail(p, fd, f->where, f->device, "cannot open: %s", strerror(-fd));
	f->fd = fd;
	struct stat st;
	uint32_t ss;
	if (fstat(fd, &st) < 0)
		return -errno;
	int r = dev_size(fd, S_ISBLK(st.st_mode), &f->size, &ss);
	if (r < 0)
		return plan_fail(p, r, f->where, f->device, "reading its size: %s", strerror(-r));
	f->off = 0;
	return 1;
}

/* --- filesystems --------------------------------------------------------------------------- */

/* What libblkid finds in [off, off + size) of fd: type ("" for nothing), label, UUID.
 * Returns 0, or 1 when several signatures were found (the first one is reported). */
static int probe(int fd, uint64_t off, uint64_t size, struct st_fs *f)
{
	blkid_probe pr = blkid_new_probe();
	int r, amb = 0;
	const char *v;

	f->found[0] = f->flabel[0] = f->fuuid[0] = 0;
	if (!pr)
		return -ENOMEM;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)off, (blkid_loff_t)size) < 0) {
		blkid_free_probe(pr);
		return -EIO;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL |
						      BLKID_SUBLKS_UUID);
	blkid_probe_enable_partitions(pr, 0);
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		/* ambivalent: as Ignition, take the first one, with a warning */
		amb = 1;
		blkid_reset_probe(pr);
		r = blkid_do_probe(pr);
	}
	if (r == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(f->found, sizeof(f->found), "%s", v);
		if (blkid_probe_lookup_value(pr, "LABEL", &v, NULL) == 0)
			snprintf(f->flabel, sizeof(f->flabel), "%s", v);
		if (blkid_probe_lookup_value(pr, "UUID", &v, NULL) == 0)
			snprintf(f->fuuid, sizeof(f->fuuid), "%s", v);
	}
	blkid_free_probe(pr);
	return r < 0 ? -EIO : amb;
}

/* Ignition's canonical form of a filesystem UUID: lower case; vfat's volume id without the
 * dash (mkfs.fat refuses it). */
static void canon_uuid(const char *format, const char *in, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; in[i] && k + 1 < n; i++) {
		if (format && !strcmp(format, "vfat") && i == 4 && in[i] == '-')
			continue;
		out[k++] = (char)tolower((unsigned char)in[i]);
	}
	out[k] = 0;
}

static int fs_fd_range(const struct prov_plan *p, const struct st_fs *f, int *ret_fd)
{
	*ret_fd = f->disk >= 0 ? p->st->d[f->disk].fd : f->fd;
	return 0;
}

/* Decide one filesystem (disks stage): reuse, make, or refuse. */
static int plan_one_fs(struct prov_plan *p, struct st_fs *f)
{
	const char *fmt = f->format;
	int fd;
	(void)fs_fd_range(p, f, &fd);
	int r = probe(fd, f->off, f->size, f);
	if (r < 0)
		return plan_fail(p, r, f->where, f->device, "cannot probe for a filesystem: %s",
				 strerror(-r));
	if (r == 1)
		(void)problem_warn(p->l, f->where, "%s: several signatures found, taking %s",
				   f->device, f->found);
	if (!fmt)
		return 0;
	bool none = !strcmp(fmt, "none");
	if (!f->wipe) {
		char a[64], b[64];
		canon_uuid(f->found, f->fuuid, a, sizeof(a));
		canon_uuid(fmt, f->uuid ? f->uuid : "", b, sizeof(b));
		bool same = !strcmp(f->found, none ? "" : fmt) &&
			    (!f->label || !strcmp(f->label, f->flabel)) &&
			    (!f->uuid || !strcmp(a, b));
		/* Flatcar: an existing OEM filesystem is kept whatever its type */
		bool oem = f->found[0] && !strcmp(f->flabel, "OEM") &&
			   (!f->label || !strcmp(f->label, "OEM"));
		if (same || oem) {
			f->act = none ? FS_ACT_SKIP : FS_ACT_REUSE;
			plan_item(p, '=', "filesystem", f->device, "%s%s%s: %s",
				  f->found[0] ? f->found : "none", f->flabel[0] ? " label " : "",
				  f->flabel,
				  none ? "nothing there, as wanted" : "reused, nothing to do");
			return 0;
		}
		if (f->found[0]) {
			plan_item(p, '!', "filesystem", f->device, "holds %s, not wiped", f->found);
			return plan_fail(
				p, -EEXIST, f->where, f->device,
				"holds a %s filesystem (label \"%s\", UUID %s), not the %s "
				"wanted%s, and wipeFilesystem is not set",
				f->found, f->flabel, f->fuuid[0] ? f->fuuid : "none", fmt,
				f->label || f->uuid ? " with that label and UUID" : "");
		}
	}
	if (none) {
		f->act = FS_ACT_SKIP;
		plan_item(p, '-', "filesystem", f->device, "%s wiped (format none)",
			  f->found[0] ? f->found : "nothing");
		if (f->found[0]) {
			f->act = FS_ACT_MKFS;
		}
		return 0;
	}
	f->act = FS_ACT_MKFS;
	plan_item(p, '+', "mkfs", f->device, "%s%s%s%s%s%s%s", fmt, f->label ? " label " : "",
		  f->label ? f->label : "", f->uuid ? " uuid " : "", f->uuid ? f->uuid : "",
		  f->found[0] ? ", replacing " : "", f->found);
	return 0;
}

static int rehearse_fs(struct prov_plan *p, struct st_fs *f);

/* RAID and LUKS entries: refused on these machines, before anything is touched. */
static int refuse_raid_luks(struct prov_plan *p, json_t *st)
{
	static const struct {
		const char *list, *key, *kind, *item, *why;
	} kinds[] = {
		{ "raid", "name", "raid", "RAID needs the md driver: not on these machines",
		  "RAID is not supported: these machines have no md driver" },
		{ "luks", "device", "luks", "LUKS needs device-mapper: not on these machines",
		  "LUKS is not supported: these machines have no device-mapper" },
	};
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(st, kinds[k].list), i, e)
		{
			char where[48];
			const char *id = json_string_value(json_object_get(e, kinds[k].key));
			snprintf(where, sizeof(where), "/storage/%s/%zu", kinds[k].list, i);
			plan_item(p, '!', kinds[k].kind, id, "%s", kinds[k].item);
			(void)plan_fail(p, -EOPNOTSUPP, where, id, "%s", kinds[k].why);
		}
	}
	return 0;
}

/* A device that is not there: fail (--devices strict) or leave the entry out (skip). */
static bool missing_device(struct prov_plan *p, const char *kind, const char *list,
			   const char *where, const char *dev)
{
	if (p->o->devices == PROV_DEVICES_STRICT) {
		plan_item(p, '!', kind, dev, "no such device");
		(void)plan_fail(p, -ENODEV, where, dev,
				"no such device (--device maps it; --devices skip leaves such "
				"entries out)");
		return false;
	}
	plan_item(p, '!', "skip", dev, "%s (no device)", kind);
	(void)problem_warn(p->l, where, "%s (%s): skipped: no such device%s; pass --device", list,
			   dev, host_devices(p) ? "" : " under --root");
	(void)json_array_append_new(p->skipped,
				    json_pack("{s:s, s:s}", "path", where, "why", "no device"));
	return true;
}

/* Collect the filesystem entries (all, or only those with a mountable path). */
int storage_collect_fs(struct prov_plan *p, json_t *config, bool mount_only)
{
	struct prov_storage *s = p->st;
	json_t *list = json_object_get(json_object_get(config, "storage"), "filesystems");
	size_t i;
	json_t *e;
	if (s->f)
		return 0;
	s->f = calloc(json_array_size(list) + 1, sizeof(*s->f));
	if (!s->f)
		return -ENOMEM;
	json_array_foreach(list, i, e)
	{
		struct st_fs *f = &s->f[s->nf];
		*f = (struct st_fs){
			.e = e,
			.device = json_string_value(json_object_get(e, "device")),
			.format = json_string_value(json_object_get(e, "format")),
			.path = json_string_value(json_object_get(e, "path")),
			.label = json_string_value(json_object_get(e, "label")),
			.uuid = json_string_value(json_object_get(e, "uuid")),
			.wipe = json_is_true(json_object_get(e, "wipeFilesystem")),
			.disk = -1,
			.fd = -1,
			.loop_fd = -1,
			.act = FS_ACT_SKIP,
		};
		snprintf(f->where, sizeof(f->where), "/storage/filesystems/%zu", i);
		if (mount_only && (!f->path || !f->format || !strcmp(f->format, "swap") ||
				   !strcmp(f->format, "none")))
			continue;
		s->nf++;
	}
	return 0;
}

bool storage_disks_done(const struct prov_storage *s)
{
	for (size_t i = 0; s && i < s->nd; i++)
		if (s->d[i].written)
			return true;
	for (size_t i = 0; s && i < s->nf; i++)
		if (s->f[i].made)
			return true;
	return false;
}

bool storage_disks_change(const struct prov_storage *s)
{
	for (size_t i = 0; s && i < s->nd; i++)
		if (s->d[i].plan || s->d[i].zap)
			return true;
	for (size_t i = 0; s && i < s->nf; i++)
		if (s->f[i].act == FS_ACT_MKFS)
			return true;
	return false;
}

/* Mounted or swapped-on users of a disk's bytes, through partitions and loop devices: each
 * range [off, off + size) of the disk that must not change under them. */
struct busy {
	uint64_t off, size;
	char what[64];
};

static int sys_u64(const char *dir, const char *name, uint64_t *ret)
{
	char path[PATH_MAX], buf[64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	*ret = strtoull(buf, NULL, 10);
	return 0;
}

/* Where a block device's bytes live in the end: a partition is its disk at an offset, a loop
 * device its backing file or device at an offset (followed down); anything else is itself. */
struct base {
	bool file;
	dev_t dev; /* file: st_dev, else the block device */
	ino_t ino;
	uint64_t off, size; /* size 0: to the end */
};

static void base_of(dev_t dev, struct base *b, int depth)
{
	char dir[96], lf[128], bf[PATH_MAX];
	uint64_t v;
	if (depth == 0)
		*b = (struct base){ 0 };
	b->dev = dev;
	if (depth > 8)
		return;
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (sys_u64(dir, "partition", &v) == 0) {
		uint64_t start = 0, sz = 0;
		char parent[PATH_MAX], buf[32];
		snprintf(parent, sizeof(parent), "%s/../dev", dir);
		_cleanup_close_ int fd = open(parent, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		char *colon;
		if (n <= 0 || sys_u64(dir, "start", &start) < 0 || sys_u64(dir, "size", &sz) < 0)
			return;
		buf[n] = 0;
		unsigned long ma = strtoul(buf, &colon, 10), mi = 0;
		if (*colon != ':')
			return;
		mi = strtoul(colon + 1, NULL, 10);
		b->off += start * 512;
		if (!b->size || b->size > sz * 512)
			b->size = sz * 512;
		base_of(makedev(ma, mi), b, depth + 1);
		return;
	}
	snprintf(lf, sizeof(lf), "%s/loop/backing_file", dir);
	_cleanup_close_ int fd = open(lf, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, bf, sizeof(bf) - 1);
	if (n <= 0)
		return;
	bf[n] = 0;
	bf[strcspn(bf, "\n")] = 0;
	uint64_t lo = 0, ls = 0;
	snprintf(lf, sizeof(lf), "%s/loop", dir);
	(void)sys_u64(lf, "offset", &lo);
	(void)sys_u64(lf, "sizelimit", &ls);
	struct stat st;
	if (stat(bf, &st) < 0)
		return;
	b->off += lo;
	if (ls && (!b->size || b->size > ls))
		b->size = ls;
	if (S_ISBLK(st.st_mode)) {
		base_of(st.st_rdev, b, depth + 1);
		return;
	}
	b->file = true;
	b->dev = st.st_dev;
	b->ino = st.st_ino;
}

/* The range of block device dev on disk d (same base, inside d's own range): 1, else 0. */
static int busy_chain(const struct st_disk *d, dev_t dev, uint64_t *off, uint64_t *size)
{
	struct base db, mb;
	if (d->blockdev)
		base_of(d->rdev, &db, 0);
	else
		db = (struct base){ .file = true, .dev = d->fdev, .ino = d->fino };
	base_of(dev, &mb, 0);
	if (db.file != mb.file || db.dev != mb.dev || (db.file && db.ino != mb.ino))
		return 0;
	uint64_t dend = db.size ? db.off + db.size : UINT64_MAX;
	uint64_t mend = mb.size ? mb.off + mb.size : UINT64_MAX;
	if (mend <= db.off || mb.off >= dend)
		return 0;
	*off = mb.off > db.off ? mb.off - db.off : 0;
	*size = (mend < dend ? mend : dend) - db.off - *off;
	return 1;
}

static size_t busy_ranges(const struct st_disk *d, struct busy *out, size_t max)
{
	size_t k = 0;
	char line[4096];
	_cleanup_fclose_ FILE *m = fopen("/proc/self/mountinfo", "re");
	while (m && k < max && fgets(line, sizeof(line), m)) {
		char mp[1024], src[1024], *f[5], *save = NULL, *c;
		struct stat st;
		size_t nf = 0;
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - TYPE SOURCE ... */
		for (char *t = strtok_r(line, " ", &save); t && nf < 5;
		     t = strtok_r(NULL, " ", &save))
			f[nf++] = t;
		if (nf < 5)
			continue;
		unsigned long ma = strtoul(f[2], &c, 10),
			      mi = *c == ':' ? strtoul(c + 1, NULL, 10) : 0;
		snprintf(mp, sizeof(mp), "%s", f[4]);
		/* btrfs (and others) show an anonymous device number there: the source is the
		 * block device */
		/* after the optional fields (none: the separator is the next field) */
		const char *sep = !save				? NULL
				  : strncmp(save, "- ", 2) == 0 ? save - 1
								: strstr(save, " - ");
		size_t tl = sep ? strcspn(sep + 3, " ") : 0;
		size_t sl = sep ? strcspn(sep + 3 + tl + 1, " \n") : 0;
		if (sep && sep[3 + tl] == ' ' &&
		    snprintf(src, sizeof(src), "%.*s", (int)sl, sep + 3 + tl + 1) > 0 &&
		    stat(src, &st) == 0 && S_ISBLK(st.st_mode)) {
			ma = major(st.st_rdev);
			mi = minor(st.st_rdev);
		}
		if (ma == 0)
			continue;
		uint64_t off = 0, size = 0;
		if (busy_chain(d, makedev(ma, mi), &off, &size) == 1) {
			out[k] = (struct busy){ .off = off, .size = size ? size : UINT64_MAX };
			snprintf(out[k].what, sizeof(out[k].what), "mounted at %.40s", mp);
			k++;
		}
	}
	_cleanup_fclose_ FILE *sw = fopen("/proc/swaps", "re");
	if (sw && fgets(line, sizeof(line), sw))
		while (k < max && fgets(line, sizeof(line), sw)) {
			char name[1024];
			struct stat st;
			if (sscanf(line, "%1023s", name) != 1 || stat(name, &st) < 0 ||
			    !S_ISBLK(st.st_mode))
				continue;
			uint64_t off = 0, size = 0;
			if (busy_chain(d, st.st_rdev, &off, &size) == 1) {
				out[k] = (struct busy){ .off = off,
							.size = size ? size : UINT64_MAX };
				snprintf(out[k].what, sizeof(out[k].what), "used as swap");
				k++;
			}
		}
	return k;
}

static bool overlaps(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as && as && bs;
}

/* Refuse to change what is in use: a partition entry that changes, or a filesystem to make,
 * over a mounted or swapped-on range (as Ignition refuses an active partition). */
static void check_busy(struct prov_plan *p)
{
	struct prov_storage *s = p->st;
	for (size_t i = 0; i < s->nd; i++) {
		struct st_disk *d = &s->d[i];
		struct busy b[32];
		size_t nb = busy_ranges(d, b, ARRAY_SIZE(b));
		for (size_t k = 0; k < nb; k++) {
			if (d->new_table || d->zap) {
				(void)plan_fail(p, -EBUSY, d->where, d->cfg,
						"refusing to replace the partition table of a disk "
						"in use (%s)",
						b[k].what);
				break;
			}
			for (unsigned c = 0; c < d->nchanged; c++) {
				unsigned nr = d->changed[c];
				const struct gpt_entry *e =
					d->gpt ? gpt_entry_get_const(d->gpt, nr) : NULL;
				const struct gpt_entry *n =
					d->plan ? gpt_entry_get_const(d->plan, nr) : NULL;
				for (int w = 0; w < 2; w++) {
					const struct gpt_entry *x = w ? n : e;
					if (!x || !gpt_entry_is_used(x))
						continue;
					uint64_t f = gpt_entry_first_lba(x) * d->sector;
					uint64_t sz = (gpt_entry_last_lba(x) + 1) * d->sector - f;
					if (overlaps(f, sz, b[k].off, b[k].size)) {
						(void)plan_fail(p, -EBUSY, d->where, d->cfg,
								"refusing to change partition %u, "
								"which is in use (%s)",
								nr, b[k].what);
						w = 2;
					}
				}
			}
		}
	}
	for (size_t i = 0; i < s->nf; i++) {
		struct st_fs *f = &s->f[i];
		if (f->act != FS_ACT_MKFS)
			continue;
		struct st_disk tmp = { 0 };
		const struct st_disk *d = f->disk >= 0 ? &s->d[f->disk] : &tmp;
		struct stat st;
		if (f->disk < 0) {
			if (fstat(f->fd, &st) < 0)
				continue;
			tmp.blockdev = S_ISBLK(st.st_mode);
			tmp.rdev = st.st_rdev;
			tmp.fdev = st.st_dev;
			tmp.fino = st.st_ino;
		}
		struct busy b[32];
		size_t nb = busy_ranges(d, b, ARRAY_SIZE(b));
		for (size_t k = 0; k < nb; k++)
			if (overlaps(f->off, f->size, b[k].off, b[k].size)) {
				(void)plan_fail(
					p, -EBUSY, f->where, f->device,
					"refusing to make a filesystem on a device in use (%s)",
					b[k].what);
				break;
			}
	}
}

/* Locate every collected filesystem (a missing device fails or is skipped, by --devices) and
 * decide each one found. -ENOMEM, else 0 (problems reported). */
static int locate_each(struct prov_plan *p, int (*decide)(struct prov_plan *, struct st_fs *))
{
	for (size_t k = 0; k < p->st->nf; k++) {
		struct st_fs *f = &p->st->f[k];
		int r = fs_locate(p, f);
		if (r == 0 && missing_device(p, "filesystem", "filesystems", f->where, f->device))
			f->act = FS_ACT_SKIP;
		if (r > 0)
			r = decide(p, f);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

/* Mount stage without the disks stage: the filesystem must be there already. */
static int check_mountable(struct prov_plan *p, struct st_fs *f)
{
	int fd;
	(void)fs_fd_range(p, f, &fd);
	int r = probe(fd, f->off, f->size, f);
	if (r < 0 || strcmp(f->found, f->format) != 0) {
		plan_item(p, '!', "mount", f->path, "%s holds %s, not %s", f->device,
			  f->found[0] ? f->found : "no filesystem", f->format);
		return plan_fail(p, -EMEDIUMTYPE, f->where, f->device,
				 "holds %s, not a %s filesystem: the disks stage makes it",
				 f->found[0] ? f->found : "no filesystem", f->format);
	}
	f->act = FS_ACT_MOUNT;
	return 0;
}

int storage_plan_disks(struct prov_plan *p, json_t *config)
{
	json_t *st = json_object_get(config, "storage");
	size_t i;
	json_t *e;
	if (!storage_get(p))
		return -ENOMEM;
	(void)refuse_raid_luks(p, st);
	json_array_foreach(json_object_get(st, "disks"), i, e)
	{
		char where[48];
		const char *dev = json_string_value(json_object_get(e, "device"));
		snprintf(where, sizeof(where), "/storage/disks/%zu", i);
		if (!storage_device_exists(p, dev)) {
			(void)missing_device(p, "disk", "disks", where, dev);
			continue;
		}
		int r = plan_one_disk(p, e, where);
		if (r == -ENOMEM)
			return r;
	}
	int r = storage_collect_fs(p, config, false);
	if (r < 0)
		return r;
	r = locate_each(p, plan_one_fs);
	if (r < 0)
		return r;
	bool failed = p->failed;
	for (size_t k = 0; k < p->st->nf && !failed; k++)
		if (p->st->f[k].act == FS_ACT_MKFS) {
			r = rehearse_fs(p, &p->st->f[k]);
			if (r == -ENOMEM)
				return r;
		}
	if (!p->failed)
		check_busy(p);
	p->st->planned_disks = true;
	return 0;
}

int storage_plan_fs_for_mount(struct prov_plan *p, json_t *config)
{
	if (!storage_get(p))
		return -ENOMEM;
	int r = storage_collect_fs(p, config, true);
	if (r < 0)
		return r;
	/* the disks the config names hold the partitions it names by label or number */
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(json_object_get(config, "storage"), "disks"), i, e)
	{
		char where[48];
		const char *dev = json_string_value(json_object_get(e, "device"));
		snprintf(where, sizeof(where), "/storage/disks/%zu", i);
		if (storage_device_exists(p, dev) && disk_get(p, dev, where) == -ENOMEM)
			return -ENOMEM;
	}
	return locate_each(p, check_mountable);
}

/* --- carrying it out ----------------------------------------------------------------------- */

int storage_fs_attach(struct prov_plan *p, struct st_fs *f)
{
	struct prov_storage *s = p->st;
	if (f->loop || (f->hostpath && f->disk < 0))
		return 0;
	int backing = f->disk >= 0 ? s->d[f->disk].fd : f->fd;
	uint32_t bs = f->disk >= 0 ? s->d[f->disk].sector : 0;
	if (f->disk < 0) {
		struct stat st;
		int ss = 0;
		if (fstat(backing, &st) == 0 && S_ISBLK(st.st_mode) &&
		    ioctl(backing, BLKSSZGET, &ss) == 0)
			bs = (uint32_t)ss;
	}
	_cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	for (int attempt = 0; attempt < 64; attempt++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			return -errno;
		char path[32];
		snprintf(path, sizeof(path), "/dev/loop%d", n);
		_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENXIO)
				continue;
			return -errno;
		}
		struct loop_config c = {
			.fd = (uint32_t)backing,
			.block_size = bs == 512 ? 0 : bs,
			.info = { .lo_offset = f->off,
				  .lo_sizelimit = f->size,
				  .lo_flags = LO_FLAGS_AUTOCLEAR },
		};
		snprintf((char *)c.info.lo_file_name, sizeof(c.info.lo_file_name), "flatctl:%s",
			 f->device);
		if (ioctl(fd, LOOP_CONFIGURE, &c) < 0) {
			if (errno == EBUSY)
				continue;
			return -errno;
		}
		if (!(f->loop = strdup(path)))
			return -ENOMEM;
		f->loop_fd = TAKE_FD(fd);
		return 0;
	}
	return -EBUSY;
}

void storage_fs_detach(struct st_fs *f)
{
	/* auto-clearing: the loop goes with the last user (this fd, or the mount) */
	if (f->loop_fd >= 0)
		close(f->loop_fd);
	f->loop_fd = -1;
	free(f->loop);
	f->loop = NULL;
}

/* Run a tool (looked up in PATH, then the sbin directories); *ret_out gets its output's last
 * line for messages. Returns its exit status, or -errno when it could not run. */
static int run_tool(char **argv, char *last, size_t n)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	_cleanup_free_ char *exe = NULL;
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path ? path : "");
	char *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *d = strtok_r(copy, ":", &save); d && !exe; d = strtok_r(NULL, ":", &save)) {
		char buf[PATH_MAX];
		snprintf(buf, sizeof(buf), "%s/%s", d, argv[0]);
		if (access(buf, X_OK) == 0 && !(exe = strdup(buf)))
			return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !exe; i++) {
		char buf[PATH_MAX];
		snprintf(buf, sizeof(buf), "%s/%s", dirs[i], argv[0]);
		if (access(buf, X_OK) == 0 && !(exe = strdup(buf)))
			return -ENOMEM;
	}
	if (!exe)
		return -ENOENT;
	_cleanup_(dbuf_release) struct dbuf out = {};
	struct spawn_result res;
	int r = spawn_run(exe, argv, NULL, UINT64_C(30) * 60 * 1000000, 65536, &out, &res);
	if (r < 0)
		return r;
	/* the message: the first line that is not a version banner */
	last[0] = 0;
	for (const char *l = out.p; l && *l && !last[0];) {
		size_t len = strcspn(l, "\n");
		if (len && strncmp(l, "mke2fs ", 7) != 0 && strncmp(l, "mkfs.fat ", 9) != 0 &&
		    strncmp(l, "btrfs-progs ", 12) != 0 &&
		    strncmp(l, "Setting up swapspace", 20) != 0)
			snprintf(last, n, "%.*s", (int)len, l);
		l += len + (l[len] == '\n');
	}
	if (res.exit_status != 0 && !last[0])
		snprintf(last, n, "exit status %d", res.exit_status);
	return res.exit_status;
}

static const struct mkfs_tool {
	const char *format, *tool, *force, *uuid, *label, *check;
} mkfs_tools[] = {
	{ "ext4", "mkfs.ext4", "-F", "-U", "-L", "-n" },
	{ "btrfs", "mkfs.btrfs", "--force", "-U", "-L", NULL },
	{ "xfs", "mkfs.xfs", "-f", "-m", "-L", "-N" },
	{ "swap", "mkswap", "-f", "-U", "-L", NULL },
	{ "vfat", "mkfs.vfat", NULL, "-i", "-n", NULL },
};

/* The mkfs command line of Ignition's disks stage: the config's options first, then the
 * force flag, UUID and label (canonical), then the device. With check, the tool's no-write
 * mode when it has one (mke2fs -n, mkfs.xfs -N). argv has room for 80; strings point into f
 * and buf. */
static const struct mkfs_tool *mkfs_argv(const struct st_fs *f, const char *dev, bool check,
					 char **argv, char *buf, size_t nbuf)
{
	size_t t = 0, k = 0, j;
	json_t *o;
	while (t < ARRAY_SIZE(mkfs_tools) && strcmp(mkfs_tools[t].format, f->format) != 0)
		t++;
	if (t == ARRAY_SIZE(mkfs_tools))
		return NULL;
	const struct mkfs_tool *m = &mkfs_tools[t];
	argv[k++] = (char *)m->tool;
	if (check && m->check)
		argv[k++] = (char *)m->check;
	json_array_foreach(json_object_get(f->e, "options"), j, o)
	{
		if (k < 70 && json_is_string(o))
			argv[k++] = (char *)json_string_value(o);
	}
	if (m->force)
		argv[k++] = (char *)m->force;
	if (f->uuid) {
		char u[64];
		canon_uuid(f->format, f->uuid, u, sizeof(u));
		argv[k++] = (char *)m->uuid;
		snprintf(buf, nbuf, "%s%s", !strcmp(f->format, "xfs") ? "uuid=" : "", u);
		argv[k++] = buf;
	}
	if (f->label) {
		argv[k++] = (char *)m->label;
		argv[k++] = (char *)f->label;
	}
	argv[k++] = (char *)dev;
	argv[k] = NULL;
	return m;
}

/* Before anything is written: the same mkfs command on a sparse scratch file of the
 * filesystem's size (memfd), in the tool's no-write mode where it has one. Bad options, a
 * label or UUID the tool refuses, a size too small for the format fail the plan here. */
static int rehearse_fs(struct prov_plan *p, struct st_fs *f)
{
	char *argv[80], buf[96], dev[64], last[512];
	if (!strcmp(f->format, "none"))
		return 0;
	_cleanup_close_ int fd = memfd_create("flatctl-mkfs-check", 0);
	if (fd < 0)
		return plan_fail(p, -errno, f->where, f->device, "checking the mkfs options: %s",
				 strerror(errno));
	if (ftruncate(fd, (off_t)f->size) < 0)
		return plan_fail(p, -errno, f->where, f->device, "checking the mkfs options: %s",
				 strerror(errno));
	snprintf(dev, sizeof(dev), "/proc/self/fd/%d", fd);
	const struct mkfs_tool *m = mkfs_argv(f, dev, true, argv, buf, sizeof(buf));
	if (!m)
		return plan_fail(p, -EOPNOTSUPP, f->where, f->device, "unsupported format %s",
				 f->format);
	int r = run_tool(argv, last, sizeof(last));
	if (r == -ENOENT)
		return plan_fail(p, r, f->where, f->device, "%s is not installed", m->tool);
	if (r != 0) {
		plan_item(p, '!', "mkfs", f->device, "%s refuses: %s", m->tool, last);
		return plan_fail(p, r < 0 ? r : -EINVAL, f->where, f->device,
				 "%s refuses this filesystem: %s", m->tool,
				 r < 0 ? strerror(-r) : last);
	}
	return 0;
}

/* wipefs -a, then mkfs with Ignition's flags. */
static int make_fs(struct prov_plan *p, struct st_fs *f)
{
	const char *dev = f->loop ? f->loop : f->hostpath;
	char *argv[80], buf[96], last[512];
	char *wipe[] = { (char *)"wipefs", (char *)"-a", (char *)dev, NULL };
	int r = run_tool(wipe, last, sizeof(last));
	if (r != 0)
		return plan_fail(p, r < 0 ? r : -EIO, f->where, f->device, "wipefs -a %s: %s", dev,
				 r < 0 ? strerror(-r) : last);
	if (!strcmp(f->format, "none"))
		return 0;
	const struct mkfs_tool *m = mkfs_argv(f, dev, false, argv, buf, sizeof(buf));
	if (!m)
		return plan_fail(p, -EOPNOTSUPP, f->where, f->device, "unsupported format %s",
				 f->format);
	r = run_tool(argv, last, sizeof(last));
	if (r != 0)
		return plan_fail(p, r < 0 ? r : -EIO, f->where, f->device, "%s failed: %s", m->tool,
				 r < 0 ? strerror(-r) : last);
	return 0;
}

/* Tell the kernel about the new table of a block device (BLKPG, as Ignition's partx runs):
 * best effort; a loop device without partition scanning has no partitions to tell. */
static void kernel_update(struct st_disk *d)
{
	char dir[96];
	uint64_t scan = 0;
	if (!d->blockdev)
		return;
	/* a loop device's partitions are the kernel's only with partition scanning: only then
	 * does detaching it drop them again (BLKPG would succeed without it and leave partitions
	 * behind on the unbound device, where the next user of the number meets them) */
	snprintf(dir, sizeof(dir), "/sys/dev/block/%u:%u/loop", major(d->rdev), minor(d->rdev));
	if (access(dir, F_OK) == 0 && (sys_u64(dir, "partscan", &scan) < 0 || scan != 1))
		return;
	for (unsigned c = 0; c < d->nchanged; c++) {
		unsigned nr = d->changed[c];
		struct blkpg_partition bp = { .pno = (int)nr };
		struct blkpg_ioctl_arg a = { .op = BLKPG_DEL_PARTITION,
					     .datalen = sizeof(bp),
					     .data = &bp };
		(void)ioctl(d->fd, BLKPG, &a);
		const struct gpt_entry *e = d->plan ? gpt_entry_get_const(d->plan, nr) : NULL;
		if (!e || !gpt_entry_is_used(e))
			continue;
		bp.start = (long long)gpt_entry_first_lba(e) * (long long)d->sector;
		bp.length =
			((long long)gpt_entry_last_lba(e) + 1) * (long long)d->sector - bp.start;
		a.op = BLKPG_ADD_PARTITION;
		(void)ioctl(d->fd, BLKPG, &a);
	}
}

int storage_exec_disks(struct prov_plan *p)
{
	struct prov_storage *s = p->st;
	int r;
	if (!s)
		return 0;
	/* 1. the tables, each written crash-safely (old or new table after a cut) */
	for (size_t i = 0; i < s->nd; i++) {
		struct st_disk *d = &s->d[i];
		_cleanup_(problem_list_release) struct problem_list l = {};
		if (d->zap) {
			r = gpt_write_zap(d->fd, d->sector, &l);
			if (r >= 0) {
				static const uint8_t zero[GPT_MBR_SIZE];
				r = fs_pwrite_all(d->fd, zero, sizeof(zero), 0);
				if (r >= 0 && fsync(d->fd) < 0)
					r = -errno;
			}
		} else if (d->plan) {
			uint8_t mbr[GPT_MBR_SIZE];
			if (d->new_table)
				gpt_mbr_make_fresh(mbr, d->size / d->sector);
			r = gpt_write_with_mbr(d->fd, d->plan, d->new_table ? mbr : NULL, &l);
		} else
			continue;
		if (r < 0)
			return plan_fail(p, r, d->where, d->cfg, "writing the partition table: %s",
					 l.n ? l.item[0].message : strerror(-r));
		d->written = true;
		done_add(s, "table", d->cfg, "%s", d->zap ? "removed" : "written");
		kernel_update(d);
	}
	/* 2. the filesystems */
	for (size_t i = 0; i < s->nf; i++) {
		struct st_fs *f = &s->f[i];
		if (f->act != FS_ACT_MKFS)
			continue;
		r = storage_fs_attach(p, f);
		if (r < 0)
			return plan_fail(p, r, f->where, f->device,
					 "attaching a loop device over it: %s", strerror(-r));
		r = make_fs(p, f);
		int fd = f->disk >= 0 ? s->d[f->disk].fd : f->fd;
		/* what went through the loop device reaches the disk or image now */
		if (f->loop_fd >= 0)
			(void)fsync(f->loop_fd);
		(void)fsync(fd);
		if (r < 0)
			return r;
		f->made = true;
		done_add(s, "mkfs", f->device, "%s", f->format);
		/* keep the loop for the mount stage, which uses the same device */
	}
	return 0;
}
