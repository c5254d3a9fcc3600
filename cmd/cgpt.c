/* SPDX-License-Identifier: MIT */
/* cmd/cgpt.c - the `cgpt` link: cgpt's command line and output over lib/gpt; see
 * flatctl-partition(1) (CGPT COMPATIBILITY), docs/partitions.md §9 (semantics in §4, §6, §7,
 * §8.5, §8.8), docs/cli.md.
 *
 * Thin layer: lib/gpt/cgpt-args.c parses the command line into a struct, each command opens the
 * disk through gpt_disk_open(), calls lib/gpt and prints in cgpt's format. Exit status is 0 or 1
 * only, and messages read `cgpt COMMAND: what failed: why`, because scripts written for Flatcar
 * test cgpt's status and nothing else. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args/args.h"
#include "cgpt.h"
#include "fs/fs.h"
#include "gpt/cgpt-args.h"
#include "gpt/cgpt-find.h"
#include "gpt/cgpt-show.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "util/escape.h"
#include "util/problem.h"

/* cgpt's column layout (start, size, slot, then contents; continuation rows indented 34). */
#define ROW_FMT "%12" PRIu64 "%12" PRIu64 "%8s  %s\n"
#define PART_FMT "%12" PRIu64 "%12" PRIu64 "%8u  %s\n"
#define MORE_FMT "%34s%s%s\n"

/* Options print as cgpt prints them: "  -i NUM       Show ...". */
static void cmd_usage(const struct gpt_cgpt_command *c, FILE *f)
{
	fprintf(f, "\nUsage: cgpt %s %s\n\n%s\n\nOptions:\n", c->name, c->synopsis, c->summary);
	for (const struct flat_option *o = c->opts; o->name || o->id; o++) {
		char left[32];
		if (o->id > 0 && o->id < ARG_LONG_BASE)
			snprintf(left, sizeof(left), "-%c%s%s", o->id, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		else
			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
				 o->metavar ? o->metavar : "");
		fprintf(f, "  %-13s%s\n", left, o->help);
	}
	if (c->epilog)
		fprintf(f, "\n%s", c->epilog);
	fprintf(f, "\n");
}

/* The errors of a problem list joined with "; ", into buf. */
static const char *problems_text(const struct problem_list *p, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; p && i < p->n && n < size; i++) {
		const struct problem *it = &p->item[i];
		if (it->severity != PROBLEM_ERROR)
			continue;
		n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "; " : "", it->message);
	}
	return buf;
}

/* Report a failed lib/gpt call: "what: the problems", else "what: strerror". Returns 1. */
static int report(int r, const char *what, const struct problem_list *p)
{
	char msg[1024];

	if (*problems_text(p, msg, sizeof(msg))) {
		if (what)
			(void)log_fail(r, "%s: %s", what, msg);
		else
			(void)log_fail(r, "%s", msg);
	} else
		(void)log_error_errno(r, "%s", what ? what : "failed");
	return 1;
}

/* Open DRIVE (gpt_disk_open_sized's flags), reporting failures. 0 or 1. */
static int open_drive(const char *path, unsigned flags, uint64_t min_bytes, struct gpt_disk **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char what[PATH_MAX + 32];
	int r;

	r = gpt_disk_open_sized(path, flags, min_bytes, ret, &p);
	if (r == -EBUSY)
		snprintf(what, sizeof(what), "locking '%s'", path);
	else
		snprintf(what, sizeof(what), "reading '%s'", path);
	if (r < 0)
		return report(r, what, &p);
	return 0;
}

/* Write what d holds (nothing is opened for writing when nothing changes). 0 or 1. */
static int commit_drive(struct gpt_disk *d)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char what[PATH_MAX + 32];
	int r;

	r = gpt_disk_commit(d, &p);
	if (r == -EROFS) {
		(void)log_fail(r, "opening '%s' for writing: read-only device", d->path);
		return 1;
	}
	if (r < 0) {
		snprintf(what, sizeof(what), "writing '%s'", d->path);
		return report(r, what, &p);
	}
	return 0;
}

static void names_freep(char ***p)
{
	*p = gpt_cgpt_names_free(*p);
}

/* ---- formatting ------------------------------------------------------------------------ */

static void print_guid(const char *indent_label, const struct gpt_guid *g)
{
	char buf[GPT_GUID_STRING_MAX];
	printf(MORE_FMT, "", indent_label, gpt_guid_to_string(g, true, buf));
}

/* One entry as cgpt lists it: the row, Type, UUID and (§9.1) the Attr line. */
static void print_entry(const struct gpt_entry *e, unsigned nr, bool numeric)
{
	char label[GPT_LABEL_MAX], esc[GPT_LABEL_MAX * 4], contents[sizeof(esc) + 16];
	char buf[GPT_GUID_STRING_MAX];
	uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
	uint64_t attr = gpt_entry_attributes(e);
	const char *type = numeric ? NULL : gpt_type_description(&e->type);

	(void)gpt_entry_label(e, label);
	/* a label from the disk is escaped before it reaches the terminal (docs/cli.md) */
	snprintf(contents, sizeof(contents), "Label: \"%s\"", str_escape_buf(label, esc, sizeof(esc)));
	printf(PART_FMT, first, last - first + 1, nr, contents);
	printf(MORE_FMT, "", "Type: ", type ? type : gpt_guid_to_string(&e->type, true, buf));
	print_guid("UUID: ", &e->unique);
	if (numeric) {
		snprintf(contents, sizeof(contents), "0x%016" PRIx64, attr);
		printf(MORE_FMT, "", "Attr: ", contents);
	} else if (gpt_entry_is_usr(e) || gpt_guid_equal(&e->type, &gpt_type_kernel)) {
		snprintf(contents, sizeof(contents), "priority=%u tries=%u successful=%d",
			 gpt_entry_priority(e), gpt_entry_tries(e), gpt_entry_is_successful(e));
		printf(MORE_FMT, "", "Attr: ", contents);
	} else if (gpt_entry_is_legacy_bootable(e))
		printf(MORE_FMT, "", "Attr: ", "Legacy BIOS Bootable");
}

static void print_entries(const struct gpt_entry *ents, size_t n, bool numeric)
{
	for (size_t i = 0; i < n; i++)
		if (gpt_entry_is_used(&ents[i]))
			print_entry(&ents[i], (unsigned)i + 1, numeric);
}

/* The header fields of one copy (-v, -d), in cgpt's words. */
static void print_header(int fd, const struct gpt *g, const struct gpt_copy *c, bool numeric)
{
	const struct gpt_header *h = &c->hdr;
	char buf[GPT_GUID_STRING_MAX];
	bool crc_ok = false;
	bool array_ok = false;

	(void)gpt_cgpt_header_crc_ok(fd, g, c, &crc_ok);
	_cleanup_free_ struct gpt_entry *ents = NULL;
	size_t n = 0;
	/* Like cgpt, an array is only looked at through a valid header. */
	if (c->header_valid && gpt_cgpt_read_array(fd, g, h, &ents, &n) == 0)
		array_ok = gpt_crc32(ents, n * GPT_ENTRY_SIZE) == h->entries_crc;

	printf("%34sSig: ", "");
	if (numeric) {
		printf("[");
		for (size_t i = 0; i < sizeof(h->signature); i++)
			printf("%s%02X", i ? "-" : "", (unsigned char)h->signature[i]);
		printf("]\n");
	} else {
		printf("[");
		for (size_t i = 0; i < sizeof(h->signature); i++)
			putchar(h->signature[i]);
		printf("]\n");
	}
	printf("%34sRev: 0x%08" PRIx32 "\n", "", h->revision);
	printf("%34sSize: %" PRIu32 " (blocks)\n", "", h->header_size);
	printf("%34sHeader CRC: 0x%08" PRIx32 " %s\n", "", h->header_crc,
	       crc_ok ? "" : "(INVALID)");
	printf("%34sMy LBA: %" PRIu64 "\n", "", h->my_lba);
	printf("%34sAlternate LBA: %" PRIu64 "\n", "", h->alternate_lba);
	printf("%34sFirst LBA: %" PRIu64 "\n", "", h->first_usable_lba);
	printf("%34sLast LBA: %" PRIu64 "\n", "", h->last_usable_lba);
	printf("%34sDisk UUID: %s\n", "", gpt_guid_to_string(&h->disk_guid, true, buf));
	printf("%34sEntries LBA: %" PRIu64 "\n", "", h->entries_lba);
	printf("%34sNumber of entries: %" PRIu32 "\n", "", h->num_entries);
	printf("%34sSize of entry: %" PRIu32 "\n", "", h->entry_size);
	printf("%34sEntries CRC: 0x%08" PRIx32 " %s\n", "", h->entries_crc,
	       array_ok ? "" : "INVALID");
}

static const char *mbr_name(enum gpt_mbr_kind k)
{
	switch (k) {
	case GPT_MBR_PROTECTIVE:
		return "Protective MBR";
	case GPT_MBR_HYBRID:
		return "Hybrid MBR";
	default:
		return "Unknown";
	}
}

/* One stderr line per damaged or stale copy (§6.4, §9.1), advising `cgpt repair` only when a
 * repair can work: on a disk that shrank below its partitions it cannot (§6.5, §10). */
static void warn_copies(const struct gpt *g)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	const struct gpt_copy *copies[2] = { &g->primary, &g->backup };
	const char *names[2] = { "primary", "backup" };
	char advice[512] = "run 'cgpt repair'";

	if (gpt_check_writable(g, &p) < 0 && p.n)
		snprintf(advice, sizeof(advice),
			 "'cgpt repair' cannot fix this: %s; restore the disk's size first",
			 p.item[0].message);
	for (size_t i = 0; i < 2; i++) {
		const struct gpt_copy *c = copies[i];
		if (c->state == GPT_COPY_OK)
			continue;
		const char *part = !c->header_valid ? "header" : "table";
		const char *state = c->state == GPT_COPY_STALE ? "stale" : "invalid";
		if (c->state == GPT_COPY_STALE)
			log_warning("warning: %s GPT %s (%s); %s", names[i], state,
				    c->problem ? c->problem : "differs", advice);
		else
			log_warning("warning: %s GPT %s %s (%s); %s", names[i], part, state,
				    c->problem ? c->problem : "damaged", advice);
	}
}

static void show_field(const struct gpt_entry *e, int field)
{
	char buf[GPT_LABEL_MAX], esc[GPT_LABEL_MAX * 4];
	uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
	uint64_t attr = gpt_entry_attributes(e);

	switch (field) {
	case 'b':
		printf("%" PRIu64 "\n", first);
		break;
	case 's':
		printf("%" PRIu64 "\n", first || last ? last - first + 1 : 0);
		break;
	case 't':
		printf("%s\n", gpt_guid_to_string(&e->type, true, buf));
		break;
	case 'u':
		printf("%s\n", gpt_guid_to_string(&e->unique, true, buf));
		break;
	case 'l':
		(void)gpt_entry_label(e, buf);
		printf("%s\n", str_escape_buf(buf, esc, sizeof(esc)));
		break;
	case 'S':
		printf("%d\n", gpt_entry_is_successful(e));
		break;
	case 'T':
		printf("%u\n", gpt_entry_tries(e));
		break;
	case 'P':
		printf("%u\n", gpt_entry_priority(e));
		break;
	case 'R':
		printf("%d\n", (attr & GPT_ATTR_REQUIRED) != 0);
		break;
	case 'B':
		printf("%d\n", (attr & GPT_ATTR_LEGACY_BOOT) != 0);
		break;
	case 'A':
		printf("0x%" PRIx64 "\n", attr);
		break;
	}
}

/* The full listing: the rows of cgpt show, with the same rules for what is listed where. */
static void show_table(const struct gpt_disk *d, bool numeric, bool verbose, bool debug)
{
	const struct gpt *g = d->gpt;
	const struct gpt_copy *p = &g->primary, *b = &g->backup;
	bool pri_tab = p->entries_valid || g->source == GPT_SOURCE_BACKUP_HEADER;
	bool sec_tab = b->entries_valid || g->source == GPT_SOURCE_PRIMARY_HEADER;
	_cleanup_free_ struct gpt_entry *pents = NULL, *sents = NULL;
	size_t pn = 0, sn = 0;

	/* Each copy's own array as stored (the chosen one is g->entries); like cgpt, only where
	 * a valid header says it is. */
	if (p->header_valid)
		(void)gpt_cgpt_read_array(d->fd, g, &p->hdr, &pents, &pn);
	if (b->header_valid)
		(void)gpt_cgpt_read_array(d->fd, g, &b->hdr, &sents, &sn);

	if (verbose || debug) {
		printf("Drive details:\n");
		printf("    Total Size (bytes): %" PRIu64 "\n", g->sectors * g->sector_size);
		printf("    LBA Size (bytes): %" PRIu32 "\n", g->sector_size);
		printf("    Drive Size (blocks): %" PRIu64 "\n\n", g->sectors);
	}
	printf("%12s%12s%8s  %s\n", "start", "size", "part", "contents");
	printf(ROW_FMT, (uint64_t)0, (uint64_t)1, "", mbr_name(g->mbr));

	printf(ROW_FMT, (uint64_t)1, (uint64_t)1, p->header_valid ? "" : "INVALID",
	       "Pri GPT header");
	if (debug || (p->header_valid && verbose))
		print_header(d->fd, g, p, numeric);
	printf(ROW_FMT, p->hdr.entries_lba, gpt_cgpt_array_sectors(&p->hdr, g->sector_size),
	       pri_tab ? "" : "INVALID", "Pri GPT table");
	if (pri_tab && g->source != GPT_SOURCE_BACKUP)
		print_entries(g->entries, gpt_num_entries(g), numeric);
	else if (debug && pents)
		print_entries(pents, pn, numeric);

	printf(ROW_FMT, b->hdr.entries_lba, gpt_cgpt_array_sectors(&b->hdr, g->sector_size),
	       sec_tab ? "" : "INVALID", "Sec GPT table");
	bool differ = pri_tab && sec_tab && pents && sents &&
		      (pn != sn || memcmp(pents, sents, pn * GPT_ENTRY_SIZE) != 0);
	if (sec_tab && !pri_tab)
		print_entries(g->entries, gpt_num_entries(g), numeric);
	else if ((debug || differ) && sents)
		print_entries(sents, sn, numeric);

	/* cgpt prints an invalid backup header's row at LBA 1; scripts compare these rows. */
	if (b->header_valid)
		printf(ROW_FMT, b->header_lba, (uint64_t)1, "", "Sec GPT header");
	else
		printf(ROW_FMT, (uint64_t)1, (uint64_t)1, "INVALID", "Sec GPT header");
	if (debug || (b->header_valid && verbose))
		print_header(d->fd, g, b, numeric);
}

/* ---- show -------------------------------------------------------------------------------- */

static int run_show(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	unsigned nr = a->nr;

	if (open_drive(a->drive, 0, 0, &d))
		return 1;
	const struct gpt *g = d->gpt;
	if (!nr && d->partition_nr)
		nr = d->partition_nr;
	if (a->show.field && !nr) {
		log_error("-%c needs -i", a->show.field);
		fprintf(stderr, "Try 'cgpt show -h'.\n");
		return 1;
	}

	if (nr) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!e) {
			(void)log_fail(-EINVAL, "invalid partition number: %u", nr);
			return 1;
		}
		if (a->show.field)
			show_field(e, a->show.field);
		else {
			printf("%12s%12s%8s  %s\n", "start", "size", "part", "contents");
			print_entry(e, nr, a->show.numeric);
		}
	} else if (a->show.quick) {
		char buf[GPT_GUID_STRING_MAX];
		for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
			const struct gpt_entry *e = gpt_entry_get_const(g, i);
			if (!gpt_entry_is_used(e))
				continue;
			const char *type = a->show.numeric ? NULL : gpt_type_description(&e->type);
			uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
			printf(PART_FMT, first, last - first + 1, i,
			       type ? type : gpt_guid_to_string(&e->type, true, buf));
		}
	} else
		show_table(d, a->show.numeric, a->verbose, a->show.debug);
	if (fflush(stdout) != 0)
		return log_error_errno(-EIO, "writing the output"), 1;
	warn_copies(g);
	return 0;
}

/* ---- create ------------------------------------------------------------------------------ */

/* create and boot write a whole disk's table or LBA 0: a partition device, which every other
 * command takes for its disk plus -i, would silently mean the whole disk here. */
static int refuse_partition_device(const struct gpt_disk *d, const char *given)
{
	if (!d->partition_nr)
		return 0;
	(void)log_fail(-EINVAL, "'%s' is partition %u of '%s'; name the whole disk", given,
		       d->partition_nr, d->path);
	return 1;
}

static int run_create(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	unsigned flags = GPT_DISK_LOCK | GPT_DISK_NO_READ;

	if (a->create.create_file)
		flags |= GPT_DISK_CREATE;
	/* -s counts 512-byte sectors for an image file, as Flatcar's cgpt does */
	if (open_drive(a->drive, flags, a->create.min_size * 512, &d))
		return 1;
	if (refuse_partition_device(d, a->drive))
		return 1;
	uint32_t ss = d->sector_size;
	if (d->size_bytes % ss != 0) {
		(void)log_fail(-EINVAL,
			       "reading '%s': size %" PRIu64 " is not a multiple of %" PRIu32,
			       d->path, d->size_bytes, ss);
		return 1;
	}
	uint64_t sectors = d->size_bytes / ss;
	if (a->create.min_size && sectors < a->create.min_size) {
		(void)log_fail(-ENOSPC,
			       "'%s' has %" PRIu64 " sectors, fewer than the %" PRIu64 " asked for",
			       d->path, sectors, a->create.min_size);
		return 1;
	}
	if (a->create.zap) {
		d->zap = true;
		return commit_drive(d);
	}
	struct gpt_create_params cp = {
		.sector_size = ss,
		.sectors = sectors,
		.disk_guid = a->create.set_guid ? &a->create.guid : NULL,
		.padding = a->create.padding,
	};
	int r = gpt_create(&cp, &d->gpt, &p);
	if (r < 0)
		return report(r, NULL, &p);
	if (a->create.flatcar) {
		/* Flatcar's cgpt create also writes a fresh protective MBR (§9.7). */
		d->new_mbr = malloc(GPT_MBR_SIZE);
		if (!d->new_mbr)
			return log_error_errno(-ENOMEM, "out of memory"), 1;
		gpt_mbr_make_fresh(d->new_mbr, sectors);
	}
	return commit_drive(d);
}

/* ---- add --------------------------------------------------------------------------------- */

static int run_add(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct gpt_cgpt_add_args add = a->add;

	if (open_drive(a->drive, GPT_DISK_LOCK, 0, &d))
		return 1;
	if (!add.nr)
		add.nr = d->partition_nr;
	int r = gpt_cgpt_add(d->gpt, &add, &p);
	if (r < 0)
		return report(r, NULL, &p);
	bool names = add.set_type || add.set_label || add.set_unique;
	bool changed = gpt_needs_write(d->gpt);
	if (commit_drive(d))
		return 1;
	if (changed && names && d->is_blockdev)
		log_notice("note: udev's links follow on the next 'udevadm trigger' or reboot");
	return 0;
}

/* ---- boot -------------------------------------------------------------------------------- */

/* Up to GPT_MBR_BOOT_CODE_SIZE bytes of FILE into code; the count, or -errno. */
static ssize_t read_boot_code(const char *path, uint8_t *code)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t n = 0;

	if (fd < 0)
		return -errno;
	while (n < GPT_MBR_BOOT_CODE_SIZE) {
		ssize_t k = read(fd, code + n, GPT_MBR_BOOT_CODE_SIZE - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	return (ssize_t)n;
}

static int run_boot(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_(gpt_freep) struct gpt *g = NULL;
	bool write = a->boot.pmbr || a->nr || a->boot.bootfile;
	uint8_t mbr[GPT_MBR_SIZE];
	char buf[GPT_GUID_STRING_MAX];

	if (open_drive(a->drive, GPT_DISK_NO_READ | (write ? GPT_DISK_LOCK : 0), 0, &d))
		return 1;
	if (refuse_partition_device(d, a->drive))
		return 1;
	if (d->size_bytes < 2 * GPT_MBR_SIZE) {
		(void)log_fail(-EINVAL, "reading '%s': too small for an MBR", d->path);
		return 1;
	}
	/* The table is read, never written: for -i, -H, and the sector size of an image file
	 * that holds a 4096-byte GPT. */
	int r = gpt_read(d->fd, 0, &g, &p);
	if (r < 0 && (a->nr || a->boot.hybrid)) {
		char what[PATH_MAX + 32];
		snprintf(what, sizeof(what), "reading '%s'", d->path);
		return report(r, what, &p);
	}
	uint32_t ss = g ? g->sector_size : d->sector_size;
	memcpy(mbr, d->mbr, sizeof(mbr));
	if (a->boot.pmbr) {
		gpt_mbr_make_protective(mbr, d->size_bytes / ss);
		if (a->boot.hybrid) {
			problem_list_release(&p);
			r = gpt_mbr_make_hybrid(mbr, g, &p);
			if (r < 0)
				return report(r, NULL, &p);
		}
	}
	if (a->nr) {
		const struct gpt_entry *e = gpt_entry_get_const(g, a->nr);
		if (!e) {
			(void)log_fail(-EINVAL, "invalid partition number: %u", a->nr);
			return 1;
		}
		gpt_mbr_set_boot_guid(mbr, &e->unique);
	}
	if (a->boot.bootfile) {
		ssize_t n = read_boot_code(a->boot.bootfile, mbr);
		if (n < 1) {
			(void)log_fail(n < 0 ? (int)n : -EINVAL, "reading '%s': %s",
				       a->boot.bootfile, n < 0 ? strerror((int)-n) : "empty file");
			return 1;
		}
	}
	struct gpt_guid boot_guid;
	gpt_mbr_boot_guid(mbr, &boot_guid);
	printf("%s\n", gpt_guid_to_string(&boot_guid, true, buf));
	if (fflush(stdout) != 0)
		return log_error_errno(-EIO, "writing the output"), 1;
	if (!write)
		return 0;
	d->new_mbr = malloc(GPT_MBR_SIZE);
	if (!d->new_mbr)
		return log_error_errno(-ENOMEM, "out of memory"), 1;
	memcpy(d->new_mbr, mbr, GPT_MBR_SIZE);
	return commit_drive(d);
}

/* ---- prioritize -------------------------------------------------------------------------- */

static int run_prioritize(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	unsigned nr = a->nr;

	if (open_drive(a->drive, GPT_DISK_LOCK, 0, &d))
		return 1;
	if (!nr)
		nr = d->partition_nr;
	if (a->prioritize.friends && !nr) {
		log_error("the -f option is only useful with the -i option");
		fprintf(stderr, "Try 'cgpt prioritize -h'.\n");
		return 1;
	}
	if (nr) {
		const struct gpt_entry *e = gpt_entry_get_const(d->gpt, nr);
		if (!e) {
			(void)log_fail(-EINVAL,
				       "invalid partition number: %u (must be between 1 and %u)",
				       nr, gpt_num_entries(d->gpt));
			return 1;
		}
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e)) {
			(void)log_fail(-EINVAL, "partition %u is not of type flatcar-usr", nr);
			return 1;
		}
	}
	int r = gpt_prioritize(d->gpt, nr, a->prioritize.top, a->prioritize.friends);
	if (r < 0)
		return log_error_errno(r, "prioritizing partition %u", nr), 1;
	return commit_drive(d);
}

/* ---- find -------------------------------------------------------------------------------- */

/* cgpt's rule: a type or unique GUID match, else a label match (the criteria are alternatives). */
static bool find_matches(const struct gpt_cgpt_args *a, const struct gpt_entry *e)
{
	char label[GPT_LABEL_MAX];

	if ((a->find.set_unique && gpt_guid_equal(&a->find.unique, &e->unique)) ||
	    (a->find.set_type && gpt_guid_equal(&a->find.type, &e->type)))
		return true;
	if (a->find.set_label) {
		(void)gpt_entry_label(e, label);
		return strcmp(label, a->find.label) == 0;
	}
	return false;
}

/* Search one drive; `shown` is the name printed (the path, or /dev/NAME when scanning). */
static void find_in(const struct gpt_cgpt_args *a, unsigned *hits, const struct gpt *g,
		    const char *shown)
{
	size_t len = strlen(shown);
	bool digit = len && isdigit((unsigned char)shown[len - 1]);

	for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, i);
		if (!gpt_entry_is_used(e) || !find_matches(a, e))
			continue;
		(*hits)++;
		if (a->find.numeric)
			printf("%u\n", i);
		else
			printf("%s%s%u\n", shown, digit ? "p" : "", i);
		if (a->find.verbose > 0)
			print_entry(e, i, a->find.numeric);
	}
}

/* No DRIVE: every whole disk of proc/partitions (as cgpt picks them), opened as /dev/NAME inside
 * the root; with the real root only block devices count. */
static int find_scan(const struct gpt_cgpt_args *a, unsigned *hits, const char *root)
{
	_cleanup_close_ int root_fd = fs_root_open(root);
	_cleanup_free_ char *text = NULL;
	_cleanup_(names_freep) char **disks = NULL;
	size_t size = 0;
	int r;

	if (root_fd < 0)
		return log_error_errno(root_fd, "opening the root '%s'", root), 1;
	r = fs_read_file(root_fd, "/proc/partitions", 1 << 20, &text, &size);
	if (r < 0)
		return log_error_errno(r, "reading '/proc/partitions'"), 1;
	r = gpt_cgpt_whole_disks(text, size, &disks);
	if (r < 0)
		return log_error_errno(r, "reading '/proc/partitions'"), 1;

	for (char **name = disks; *name; name++) {
		char dev[160];
		snprintf(dev, sizeof(dev), "/dev/%s", *name);
		_cleanup_close_ int fd = fs_open(root_fd, dev, O_RDONLY | O_NOCTTY, 0);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0)
			continue;
		if (!S_ISBLK(st.st_mode) && !(S_ISREG(st.st_mode) && strcmp(root, "/") != 0))
			continue;
		/* The fd was resolved inside the root; reopen that very file. */
		char fdpath[64];
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
		_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
		if (gpt_disk_open(fdpath, 0, &d, NULL) == 0)
			find_in(a, hits, d->gpt, dev);
	}
	return 0;
}

static int run_find(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	const char *root = a->find.root ? a->find.root : ctx && ctx->root ? ctx->root : "/";
	unsigned hits = 0;

	if (a->drive) {
		_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
		if (open_drive(a->drive, 0, 0, &d))
			return 1;
		find_in(a, &hits, d->gpt, a->drive);
	} else if (find_scan(a, &hits, root))
		return 1;
	if (fflush(stdout) != 0)
		return log_error_errno(-EIO, "writing the output"), 1;
	if (a->find.one && hits > 1)
		return 1;
	return hits ? 0 : 1;
}

/* ---- repair ------------------------------------------------------------------------------ */

static int run_repair(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;

	if (open_drive(a->drive, GPT_DISK_LOCK, 0, &d))
		return 1;
	const struct gpt *g = d->gpt;
	bool pri = g->primary.state != GPT_COPY_OK;
	bool sec = g->backup.state != GPT_COPY_OK || g->grown;
	if (commit_drive(d))
		return 1;
	if (a->verbose || pri || sec) {
		/* cgpt's own report of what it rewrote. */
		if (pri)
			printf("Primary Header is updated.\nPrimary Entries is updated.\n");
		if (sec)
			printf("Secondary Entries is updated.\nSecondary Header is updated.\n");
	}
	return 0;
}

/* ---- resize ------------------------------------------------------------------------------ */

static int run_resize(const struct gpt_cgpt_args *a, struct flat_ctx *ctx)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	unsigned nr = a->nr;

	if (open_drive(a->drive, GPT_DISK_LOCK, 0, &d))
		return 1;
	if (!nr)
		nr = d->partition_nr;
	if (!nr) {
		log_error("'%s' is not a partition; name one with -i", a->drive);
		fprintf(stderr, "Try 'cgpt resize -h'.\n");
		return 1;
	}
	const struct gpt_entry *e = gpt_entry_get_const(d->gpt, nr);
	if (!e || !gpt_entry_is_used(e)) {
		(void)log_fail(-EINVAL, "partition %u does not exist on '%s'", nr, d->path);
		return 1;
	}
	uint64_t old_last = 0, new_last = 0;
	int r = gpt_grow(d->gpt, nr, &old_last, &new_last);
	if (r < 0)
		return log_error_errno(r, "growing partition %u", nr), 1;
	if (commit_drive(d))
		return 1;
	if (r == 1) {
		char name[GPT_LABEL_MAX];
		printf("%s already fills the disk\n", gpt_entry_name(d->gpt, nr, name));
	}
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static int (*const runs[_GPT_CGPT_CMD_MAX])(const struct gpt_cgpt_args *a, struct flat_ctx *ctx) = {
	[GPT_CGPT_CREATE] = run_create,
	[GPT_CGPT_ADD] = run_add,
	[GPT_CGPT_SHOW] = run_show,
	[GPT_CGPT_REPAIR] = run_repair,
	[GPT_CGPT_BOOT] = run_boot,
	[GPT_CGPT_FIND] = run_find,
	[GPT_CGPT_PRIORITIZE] = run_prioritize,
	[GPT_CGPT_RESIZE] = run_resize,
};

static void main_usage(FILE *f)
{
	fprintf(f, "\nUsage: cgpt COMMAND [OPTIONS] DRIVE\n\nSupported COMMANDs:\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(gpt_cgpt_commands); i++)
		fprintf(f, "    %-16s %s\n", gpt_cgpt_commands[i].name,
			gpt_cgpt_commands[i].list_help);
	fprintf(f, "\nFor more detailed usage, use cgpt COMMAND -h\n\n");
}

int cmd_cgpt_link(int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	struct gpt_cgpt_args a;
	char msg[1024];

	log_set_prefix("cgpt");
	if (argc < 2) {
		main_usage(stdout);
		return 1;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		main_usage(stdout);
		return 0;
	}
	const struct gpt_cgpt_command *c = gpt_cgpt_command_find(name);
	if (c) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "cgpt %s", c->name);
		log_set_prefix(prefix);
	}
	int r = gpt_cgpt_parse(argc - 1, argv + 1, &a, &p);
	if (r == -ENOMEM)
		return log_error_errno(r, "parsing the command line"), 1;
	if (r < 0) {
		log_error("%s", problems_text(&p, msg, sizeof(msg)));
		if (r == -ENOENT)
			fprintf(stderr, "Try 'cgpt --help'.\n");
		else if (r != -EOPNOTSUPP)
			fprintf(stderr, "Try 'cgpt %s -h'.\n", c ? c->name : "");
		return 1;
	}
	if (a.help) {
		cmd_usage(c, stdout);
		return 0;
	}
	return runs[a.cmd](&a, ctx) == 0 ? 0 : 1;
}
