/* SPDX-License-Identifier: MIT */
/* cmd/cgpt.c - the `cgpt` link: cgpt's command line and output over lib/gpt;
 * spec: spec/partitions.md §9 (semantics in §4, §6, §8.5, §8.8), cli.md.
 *
 * Thin layer: each command parses cgpt's options from its table, opens the disk through
 * gpt_disk_open(), calls lib/gpt and prints in cgpt's format. Exit status is 0 or 1 only, and
 * messages read `cgpt COMMAND: what failed: why`, because scripts written for Flatcar test
 * cgpt's status and nothing else. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args/args.h"
#include "cgpt.h"
#include "fs/fs.h"
#include "gpt/cgpt-find.h"
#include "gpt/cgpt-show.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "util/problem.h"

/* cgpt's column layout (start, size, slot, then contents; continuation rows indented 34). */
#define ROW_FMT "%12" PRIu64 "%12" PRIu64 "%8s  %s\n"
#define PART_FMT "%12" PRIu64 "%12" PRIu64 "%8u  %s\n"
#define MORE_FMT "%34s%s%s\n"

/* Options metavar "NUM" etc. print as cgpt does: "  -i NUM       Show ...". */
struct cgpt_cmd {
	const char *name;
	const char *synopsis;     /* after "Usage: cgpt NAME " */
	const char *summary;
	const struct flat_option *opts;
	const char *epilog;       /* printed after the options, or NULL */
	int (*fn)(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx);
};

static void cmd_usage(const struct cgpt_cmd *c, FILE *f)
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

/* A usage error: one line, then where to find help. Always exit status 1 (cgpt's). */
_printf_(2, 3) static int usage_error(const struct cgpt_cmd *c, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	fprintf(stderr, "Try 'cgpt %s -h'.\n", c->name);
	return 1;
}

/* Report a failed lib/gpt call: the errors of the problem list (not the warnings), else errno. */
static int report(int r, const char *what, const struct problem_list *p)
{
	char msg[1024] = "";
	size_t n = 0;

	for (size_t i = 0; p && i < p->n; i++) {
		const struct problem *it = &p->item[i];
		if (it->severity != PROBLEM_ERROR)
			continue;
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "%s%s", n ? "; " : "", it->message);
		if (n >= sizeof(msg))
			break;
	}
	if (n)
		(void)log_fail(r, "%s: %s", what, msg);
	else
		(void)log_error_errno(r, "%s", what);
	return 1;
}

/* Open DRIVE for reading (lock false) or for a read-modify-write cycle (lock true). */
static int open_drive(const char *path, bool lock, struct gpt_disk **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	char what[PATH_MAX + 32];
	int r;

	r = gpt_disk_open(path, lock ? GPT_DISK_LOCK : 0, ret, &p);
	if (r == -EBUSY)
		snprintf(what, sizeof(what), "locking '%s'", path);
	else
		snprintf(what, sizeof(what), "reading '%s'", path);
	if (r < 0)
		return report(r, what, &p);
	return 0;
}

/* Write the changed table back (nothing is opened for writing when nothing changes). */
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

/* A number option, as cgpt takes it (decimal, 0x hex or 0 octal), within [min, max]. */
static int parse_num(const struct cgpt_cmd *c, int opt, const char *s, unsigned long long min,
		     unsigned long long max, unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return usage_error(c, "invalid argument to -%c: '%s'", opt, s ? s : "");
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return usage_error(c, "invalid argument to -%c: '%s'", opt, s);
	if (v < min || v > max)
		return usage_error(c, "value for -%c must be between %llu and %llu", opt, min, max);
	*ret = v;
	return 0;
}

/* getopt over a command's table; returns the option, -1 at the end, or '?' after reporting. */
struct opt_iter {
	struct args a;
	bool ready;
};

static int opt_begin(struct opt_iter *it, const struct cgpt_cmd *c, int argc, char **argv)
{
	int r = args_init(&it->a, argc, argv, c->opts, NULL, NULL, ARGS_NO_GLOBALS);
	if (r < 0)
		return r;
	optind = 0;
	opterr = 0;
	it->ready = true;
	return 0;
}

static int opt_next(struct opt_iter *it, const struct cgpt_cmd *c)
{
	int ch = getopt_long(it->a.argc, it->a.argv, it->a.shortopts, it->a.lopts, NULL);
	if (ch == '?') {
		if (optopt && optopt < ARG_LONG_BASE)
			(void)usage_error(c, "unknown option '-%c'", optopt);
		else
			(void)usage_error(c, "unknown option '%s'", it->a.argv[optind - 1]);
		return '?';
	}
	if (ch == ':') {
		if (optopt && optopt < ARG_LONG_BASE)
			(void)usage_error(c, "option '-%c' needs an argument", optopt);
		else
			(void)usage_error(c, "option '%s' needs an argument", it->a.argv[optind - 1]);
		return '?';
	}
	return ch;
}

static void opt_end(struct opt_iter *it)
{
	if (it->ready)
		args_release(&it->a);
	it->ready = false;
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
	char label[GPT_LABEL_MAX], contents[GPT_LABEL_MAX + 16], buf[GPT_GUID_STRING_MAX];
	uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
	uint64_t attr = gpt_entry_attributes(e);
	const char *type = numeric ? NULL : gpt_type_description(&e->type);

	(void)gpt_entry_label(e, label);
	snprintf(contents, sizeof(contents), "Label: \"%s\"", label);
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
	printf("%34sHeader CRC: 0x%08" PRIx32 " %s\n", "", h->header_crc, crc_ok ? "" : "(INVALID)");
	printf("%34sMy LBA: %" PRIu64 "\n", "", h->my_lba);
	printf("%34sAlternate LBA: %" PRIu64 "\n", "", h->alternate_lba);
	printf("%34sFirst LBA: %" PRIu64 "\n", "", h->first_usable_lba);
	printf("%34sLast LBA: %" PRIu64 "\n", "", h->last_usable_lba);
	printf("%34sDisk UUID: %s\n", "", gpt_guid_to_string(&h->disk_guid, true, buf));
	printf("%34sEntries LBA: %" PRIu64 "\n", "", h->entries_lba);
	printf("%34sNumber of entries: %" PRIu32 "\n", "", h->num_entries);
	printf("%34sSize of entry: %" PRIu32 "\n", "", h->entry_size);
	printf("%34sEntries CRC: 0x%08" PRIx32 " %s\n", "", h->entries_crc, array_ok ? "" : "INVALID");
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

/* One stderr line per damaged or stale copy (§6.4, §9.1). */
static void warn_copies(const struct gpt *g)
{
	const struct gpt_copy *copies[2] = { &g->primary, &g->backup };
	const char *names[2] = { "primary", "backup" };

	for (size_t i = 0; i < 2; i++) {
		const struct gpt_copy *c = copies[i];
		if (c->state == GPT_COPY_OK)
			continue;
		const char *part = !c->header_valid ? "header" : "table";
		const char *state = c->state == GPT_COPY_STALE ? "stale" : "invalid";
		if (c->state == GPT_COPY_STALE)
			log_warning("warning: %s GPT %s (%s); run 'cgpt repair'", names[i], state,
				    c->problem ? c->problem : "differs");
		else
			log_warning("warning: %s GPT %s %s (%s); run 'cgpt repair'", names[i], part,
				    state, c->problem ? c->problem : "damaged");
	}
}

/* ---- show -------------------------------------------------------------------------------- */

static const struct flat_option show_opts[] = {
	{ NULL, 'n', ARG_NONE, NULL, "Numeric output only" },
	{ NULL, 'v', ARG_NONE, NULL, "Verbose output (the header fields of both copies)" },
	{ NULL, 'q', ARG_NONE, NULL, "Quick output" },
	{ NULL, 'i', ARG_REQ, "NUM", "Show specified partition only" },
	{ NULL, 'd', ARG_NONE, NULL, "Debug output (including invalid headers)" },
	{ NULL, 'b', ARG_NONE, NULL, "with -i: first block (a.k.a. start of partition)" },
	{ NULL, 's', ARG_NONE, NULL, "with -i: partition size (in blocks)" },
	{ NULL, 't', ARG_NONE, NULL, "with -i: type guid" },
	{ NULL, 'u', ARG_NONE, NULL, "with -i: unique guid" },
	{ NULL, 'l', ARG_NONE, NULL, "with -i: label" },
	{ NULL, 'S', ARG_NONE, NULL, "with -i: Successful flag" },
	{ NULL, 'T', ARG_NONE, NULL, "with -i: Tries flag" },
	{ NULL, 'P', ARG_NONE, NULL, "with -i: Priority flag" },
	{ NULL, 'R', ARG_NONE, NULL, "with -i: Required flag" },
	{ NULL, 'B', ARG_NONE, NULL, "with -i: Legacy Boot flag" },
	{ NULL, 'A', ARG_NONE, NULL, "with -i: the whole 64-bit attribute word" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static void show_field(const struct gpt_entry *e, int field)
{
	char buf[GPT_LABEL_MAX];
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
		printf("%s\n", buf);
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

	printf(ROW_FMT, (uint64_t)1, (uint64_t)1, p->header_valid ? "" : "INVALID", "Pri GPT header");
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

static int cgpt_show(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	bool numeric = false, verbose = false, quick = false, debug = false;
	unsigned long long nr = 0;
	int field = 0, ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 'n':
			numeric = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'q':
			quick = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'i':
			if (parse_num(c, 'i', optarg, 1, GPT_MAX_ENTRIES, &nr))
				return 1;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		case '?':
			return 1;
		default:
			field = ch;
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing drive argument");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");
	const char *path = argv[optind];

	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	if (open_drive(path, false, &d))
		return 1;
	const struct gpt *g = d->gpt;
	if (!nr && d->partition_nr)
		nr = d->partition_nr;
	if (field && !nr)
		return usage_error(c, "-%c needs -i", field);

	if (nr) {
		const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)nr);
		if (!e) {
			(void)log_fail(-EINVAL, "invalid partition number: %llu", nr);
			return 1;
		}
		if (field)
			show_field(e, field);
		else {
			printf("%12s%12s%8s  %s\n", "start", "size", "part", "contents");
			print_entry(e, (unsigned)nr, numeric);
		}
	} else if (quick) {
		char buf[GPT_GUID_STRING_MAX];
		for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
			const struct gpt_entry *e = gpt_entry_get_const(g, i);
			if (!gpt_entry_is_used(e))
				continue;
			const char *type = numeric ? NULL : gpt_type_description(&e->type);
			uint64_t first = gpt_entry_first_lba(e), last = gpt_entry_last_lba(e);
			printf(PART_FMT, first, last - first + 1, i,
			       type ? type : gpt_guid_to_string(&e->type, true, buf));
		}
	} else
		show_table(d, numeric, verbose, debug);
	if (fflush(stdout) != 0)
		return log_error_errno(-EIO, "writing the output"), 1;
	warn_copies(g);
	return 0;
}

/* ---- add --------------------------------------------------------------------------------- */

static const struct flat_option add_opts[] = {
	{ NULL, 'i', ARG_REQ, "NUM", "Specify partition (an existing entry)" },
	{ NULL, 'b', ARG_REQ, "NUM", "First block (refused: partitions are not moved)" },
	{ NULL, 's', ARG_REQ, "NUM", "Size in blocks (refused: partitions are not resized)" },
	{ NULL, 't', ARG_REQ, "GUID", "Partition Type GUID or name" },
	{ NULL, 'u', ARG_REQ, "GUID", "Partition Unique ID" },
	{ NULL, 'l', ARG_REQ, "LABEL", "Label" },
	{ NULL, 'S', ARG_REQ, "NUM", "set Successful flag (0|1)" },
	{ NULL, 'T', ARG_REQ, "NUM", "set Tries flag (0-15)" },
	{ NULL, 'P', ARG_REQ, "NUM", "set Priority flag (0-15)" },
	{ NULL, 'R', ARG_REQ, "NUM", "set Required flag (0|1)" },
	{ NULL, 'B', ARG_REQ, "NUM", "set Legacy Boot flag (0|1)" },
	{ NULL, 'A', ARG_REQ, "NUM", "set the whole 64-bit attribute word" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

#define TYPE_NAMES                                                                               \
	"The partition type may also be given as one of these names:\n\n"                        \
	"    efi                EFI System Partition\n"                                          \
	"    bios               BIOS Boot Partition\n"                                           \
	"    flatcar-usr        Flatcar /usr (also flatcar-rootfs, coreos-usr, coreos-rootfs)\n" \
	"    data               Linux data (also linux-data)\n"                                  \
	"    flatcar-reserved   CoreOS reserved (also coreos-reserved)\n"                        \
	"    flatcar-resize     CoreOS auto-resize (also coreos-resize)\n"                       \
	"    flatcar-root-raid  CoreOS RAID containing root (also coreos-root-raid)\n"          \
	"    kernel             ChromeOS kernel\n"

struct add_args {
	unsigned long long nr;
	bool set_type, set_unique, set_label, set_attr;
	struct gpt_guid type, unique;
	const char *label;
	unsigned long long attr;
	long long successful, tries, priority, required, legacy; /* -1: keep */
};

static int cgpt_add(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	struct add_args a = { .successful = -1, .tries = -1, .priority = -1, .required = -1,
			      .legacy = -1 };
	bool move = false;
	unsigned long long v;
	int ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 'i':
			if (parse_num(c, 'i', optarg, 0, UINT_MAX, &a.nr))
				return 1;
			break;
		case 'b':
		case 's':
			if (parse_num(c, (char)ch, optarg, 0, UINT64_MAX, &v))
				return 1;
			move = true;
			break;
		case 't':
			if (gpt_type_from_name(optarg, &a.type) < 0 || gpt_guid_is_zero(&a.type))
				return usage_error(c, "invalid argument to -t: '%s'", optarg);
			a.set_type = true;
			break;
		case 'u':
			if (gpt_guid_from_string(optarg, &a.unique) < 0 || gpt_guid_is_zero(&a.unique))
				return usage_error(c, "invalid argument to -u: '%s'", optarg);
			a.set_unique = true;
			break;
		case 'l':
			a.label = optarg;
			a.set_label = true;
			break;
		case 'S':
			if (parse_num(c, 'S', optarg, 0, 1, &v))
				return 1;
			a.successful = (long long)v;
			break;
		case 'T':
			if (parse_num(c, 'T', optarg, 0, 15, &v))
				return 1;
			a.tries = (long long)v;
			break;
		case 'P':
			if (parse_num(c, 'P', optarg, 0, 15, &v))
				return 1;
			a.priority = (long long)v;
			break;
		case 'R':
			if (parse_num(c, 'R', optarg, 0, 1, &v))
				return 1;
			a.required = (long long)v;
			break;
		case 'B':
			if (parse_num(c, 'B', optarg, 0, 1, &v))
				return 1;
			a.legacy = (long long)v;
			break;
		case 'A':
			if (parse_num(c, 'A', optarg, 0, UINT64_MAX, &a.attr))
				return 1;
			a.set_attr = true;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing drive argument");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");
	if (move) {
		(void)log_fail(-EOPNOTSUPP, "creating or moving partitions is not supported");
		return 1;
	}
	if (a.set_label) {
		struct gpt_entry probe = {};
		int r = gpt_entry_set_label(&probe, a.label);
		if (r == -ERANGE)
			return usage_error(c, "label '%s' is longer than %u UTF-16 code units", a.label,
					   GPT_LABEL_UNITS);
		if (r < 0)
			return usage_error(c, "label '%s' is not valid UTF-8", a.label);
	}

	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	const char *path = argv[optind];
	if (open_drive(path, true, &d))
		return 1;
	struct gpt *g = d->gpt;
	if (!a.nr)
		a.nr = d->partition_nr;
	if (!a.nr) {
		(void)log_fail(-EOPNOTSUPP, "creating or moving partitions is not supported "
					    "(no existing partition given with -i)");
		return 1;
	}
	struct gpt_entry *e = gpt_entry_get(g, (unsigned)a.nr);
	if (!e) {
		(void)log_fail(-EINVAL, "invalid partition number: %llu", a.nr);
		return 1;
	}
	if (!gpt_entry_is_used(e)) {
		(void)log_fail(-EOPNOTSUPP,
			       "creating or moving partitions is not supported (partition %llu is unused)",
			       a.nr);
		return 1;
	}
	if (a.set_unique) {
		int other = gpt_find_unique(g, &a.unique);
		if (other > 0 && (unsigned long long)other != a.nr) {
			char buf[GPT_GUID_STRING_MAX];
			(void)log_fail(-EEXIST, "unique GUID %s is already used by partition %d",
				       gpt_guid_to_string(&a.unique, true, buf), other);
			return 1;
		}
		e->unique = a.unique;
	}
	if (a.set_type)
		e->type = a.type;
	if (a.set_label)
		(void)gpt_entry_set_label(e, a.label);

	uint64_t attr = a.set_attr ? a.attr : gpt_entry_attributes(e);
	if (a.required >= 0)
		attr = a.required ? attr | GPT_ATTR_REQUIRED : attr & ~GPT_ATTR_REQUIRED;
	if (a.legacy >= 0)
		attr = a.legacy ? attr | GPT_ATTR_LEGACY_BOOT : attr & ~GPT_ATTR_LEGACY_BOOT;
	gpt_entry_set_attributes(e, attr);
	if (a.priority >= 0)
		(void)gpt_entry_set_priority(e, (unsigned)a.priority);
	if (a.tries >= 0)
		(void)gpt_entry_set_tries(e, (unsigned)a.tries);
	if (a.successful >= 0)
		gpt_entry_set_successful(e, a.successful != 0);

	bool names = a.set_type || a.set_label || a.set_unique;
	bool changed = gpt_needs_write(g);
	if (commit_drive(d))
		return 1;
	if (changed && names && d->is_blockdev)
		log_notice("note: udev's links follow on the next 'udevadm trigger' or reboot");
	return 0;
}

/* ---- prioritize -------------------------------------------------------------------------- */

static const struct flat_option prioritize_opts[] = {
	{ NULL, 'P', ARG_REQ, "NUM",
	  "Highest priority to use in the new ordering (1-15); the others\n"
	  "               keep their order below it, lowest ranks coalesced, never 0" },
	{ NULL, 'i', ARG_REQ, "NUM", "Specify the partition to make the highest in the new order" },
	{ NULL, 'f', ARG_NONE, NULL,
	  "Friends of the given partition (same starting priority) are\n"
	  "               also updated to the new highest priority" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static int cgpt_prioritize(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	unsigned long long nr = 0, top = 0;
	bool friends = false;
	int ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 'P':
			if (parse_num(c, 'P', optarg, 1, 15, &top))
				return 1;
			break;
		case 'i':
			if (parse_num(c, 'i', optarg, 1, UINT_MAX, &nr))
				return 1;
			break;
		case 'f':
			friends = true;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing drive argument");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");

	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	if (open_drive(argv[optind], true, &d))
		return 1;
	if (!nr)
		nr = d->partition_nr;
	if (friends && !nr)
		return usage_error(c, "the -f option is only useful with the -i option");
	if (nr) {
		const struct gpt_entry *e = gpt_entry_get_const(d->gpt, (unsigned)nr);
		if (!e) {
			(void)log_fail(-EINVAL, "invalid partition number: %llu (must be between 1 and %u)",
				       nr, gpt_num_entries(d->gpt));
			return 1;
		}
		if (!gpt_entry_is_used(e) || !gpt_entry_is_usr(e)) {
			(void)log_fail(-EINVAL, "partition %llu is not of type flatcar-usr", nr);
			return 1;
		}
	}
	int r = gpt_prioritize(d->gpt, (unsigned)nr, (unsigned)top, friends);
	if (r < 0)
		return log_error_errno(r, "prioritizing partition %llu", nr), 1;
	return commit_drive(d);
}

/* ---- find -------------------------------------------------------------------------------- */

static const struct flat_option find_opts[] = {
	{ NULL, 't', ARG_REQ, "GUID", "Search for Partition Type GUID or name" },
	{ NULL, 'u', ARG_REQ, "GUID", "Search for Partition Unique ID" },
	{ NULL, 'l', ARG_REQ, "LABEL", "Search for Label" },
	{ NULL, 'v', ARG_NONE, NULL, "Be verbose in displaying matches (repeatable)" },
	{ NULL, 'n', ARG_NONE, NULL, "Numeric output only" },
	{ NULL, '1', ARG_NONE, NULL, "Fail if more than one match is found" },
	{ "root", ARG_GLOBAL_ROOT, ARG_REQ, "DIR", "Scan DIR/proc/partitions and DIR/dev" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

struct find_args {
	bool set_type, set_unique, set_label;
	struct gpt_guid type, unique;
	const char *label;
	bool numeric, one;
	int verbose;
	unsigned hits;
};

/* cgpt's rule: a type or unique GUID match, else a label match (the criteria are alternatives). */
static bool find_matches(const struct find_args *f, const struct gpt_entry *e)
{
	char label[GPT_LABEL_MAX];

	if ((f->set_unique && gpt_guid_equal(&f->unique, &e->unique)) ||
	    (f->set_type && gpt_guid_equal(&f->type, &e->type)))
		return true;
	if (f->set_label) {
		(void)gpt_entry_label(e, label);
		return strcmp(label, f->label) == 0;
	}
	return false;
}

/* Search one drive; `shown` is the name printed (the path, or /dev/NAME when scanning). */
static void find_in(struct find_args *f, const struct gpt *g, const char *shown)
{
	size_t len = strlen(shown);
	bool digit = len && isdigit((unsigned char)shown[len - 1]);

	for (unsigned i = 1; i <= gpt_num_entries(g); i++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, i);
		if (!gpt_entry_is_used(e) || !find_matches(f, e))
			continue;
		f->hits++;
		if (f->numeric)
			printf("%u\n", i);
		else
			printf("%s%s%u\n", shown, digit ? "p" : "", i);
		if (f->verbose > 0)
			print_entry(e, i, f->numeric);
	}
}

/* No DRIVE: every whole disk of proc/partitions (as cgpt picks them), opened as /dev/NAME inside
 * the root; with the real root only block devices count. */
static int find_scan(struct find_args *f, const char *root)
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
			find_in(f, d->gpt, dev);
	}
	return 0;
}

static int cgpt_find(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	struct find_args f = {};
	const char *root = ctx && ctx->root ? ctx->root : "/";
	int ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 't':
			if (gpt_type_from_name(optarg, &f.type) < 0)
				return usage_error(c, "invalid argument to -t: '%s'", optarg);
			f.set_type = true;
			break;
		case 'u':
			if (gpt_guid_from_string(optarg, &f.unique) < 0)
				return usage_error(c, "invalid argument to -u: '%s'", optarg);
			f.set_unique = true;
			break;
		case 'l':
			f.label = optarg;
			f.set_label = true;
			break;
		case 'v':
			f.verbose++;
			break;
		case 'n':
			f.numeric = true;
			break;
		case '1':
			f.one = true;
			break;
		case ARG_GLOBAL_ROOT:
			root = optarg;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (!f.set_type && !f.set_unique && !f.set_label)
		return usage_error(c, "you must specify at least one of -t, -u, or -l");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");

	if (optind < argc) {
		_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
		if (open_drive(argv[optind], false, &d))
			return 1;
		find_in(&f, d->gpt, argv[optind]);
	} else if (find_scan(&f, root))
		return 1;
	if (fflush(stdout) != 0)
		return log_error_errno(-EIO, "writing the output"), 1;
	if (f.one && f.hits > 1)
		return 1;
	return f.hits ? 0 : 1;
}

/* ---- repair ------------------------------------------------------------------------------ */

static const struct flat_option repair_opts[] = {
	{ NULL, 'v', ARG_NONE, NULL, "Verbose" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static int cgpt_repair(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	bool verbose = false;
	int ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 'v':
			verbose = true;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing drive argument");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");

	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	if (open_drive(argv[optind], true, &d))
		return 1;
	const struct gpt *g = d->gpt;
	bool pri = g->primary.state != GPT_COPY_OK;
	bool sec = g->backup.state != GPT_COPY_OK || g->grown;
	if (commit_drive(d))
		return 1;
	if (verbose || pri || sec) {
		/* cgpt's own report of what it rewrote. */
		if (pri)
			printf("Primary Header is updated.\nPrimary Entries is updated.\n");
		if (sec)
			printf("Secondary Entries is updated.\nSecondary Header is updated.\n");
	}
	return 0;
}

/* ---- resize ------------------------------------------------------------------------------ */

static const struct flat_option resize_opts[] = {
	{ NULL, 'i', ARG_REQ, "NUM", "The partition to grow (implied by a partition device)" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static int cgpt_resize(const struct cgpt_cmd *c, int argc, char **argv, struct flat_ctx *ctx)
{
	_cleanup_(opt_end) struct opt_iter it = {};
	unsigned long long nr = 0;
	int ch;

	if (opt_begin(&it, c, argc, argv) < 0)
		return log_error_errno(-ENOMEM, "parsing options"), 1;
	while ((ch = opt_next(&it, c)) != -1) {
		switch (ch) {
		case 'i':
			if (parse_num(c, 'i', optarg, 1, UINT_MAX, &nr))
				return 1;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return 0;
		default:
			return 1;
		}
	}
	if (optind >= argc)
		return usage_error(c, "missing drive argument");
	if (argc - optind > 1)
		return usage_error(c, "too many arguments");

	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	if (open_drive(argv[optind], true, &d))
		return 1;
	if (!nr)
		nr = d->partition_nr;
	if (!nr)
		return usage_error(c, "'%s' is not a partition; name one with -i", argv[optind]);
	const struct gpt_entry *e = gpt_entry_get_const(d->gpt, (unsigned)nr);
	if (!e || !gpt_entry_is_used(e)) {
		(void)log_fail(-EINVAL, "partition %llu does not exist on '%s'", nr, d->path);
		return 1;
	}
	uint64_t old_last = 0, new_last = 0;
	int r = gpt_grow(d->gpt, (unsigned)nr, &old_last, &new_last);
	if (r < 0)
		return log_error_errno(r, "growing partition %llu", nr), 1;
	if (commit_drive(d))
		return 1;
	if (r == 1) {
		char name[GPT_LABEL_MAX];
		printf("%s already fills the disk\n", gpt_entry_name(d->gpt, (unsigned)nr, name));
	}
	return 0;
}

/* ---- dispatch ---------------------------------------------------------------------------- */

static const struct cgpt_cmd cmds[] = {
	{ "show", "[OPTIONS] DRIVE", "Display the GPT table.\n\nUnits are blocks by default.",
	  show_opts, NULL, cgpt_show },
	{ "add", "[OPTIONS] DRIVE", "Edit an existing partition entry.", add_opts,
	  "Use the -i option to name the partition; a partition device implies it.\n"
	  "Creating or moving partitions (-b, -s, unused slots) is not supported.\n\n" TYPE_NAMES,
	  cgpt_add },
	{ "prioritize", "[OPTIONS] DRIVE",
	  "Reorder the priority of all active Flatcar USR partitions.", prioritize_opts,
	  "With no options this will set the lowest active USR partition to\n"
	  "priority 1 while maintaining the original order.\n",
	  cgpt_prioritize },
	{ "find", "[OPTIONS] [DRIVE]",
	  "Find a partition by its UUID or label. With no specified DRIVE\n"
	  "it scans all physical drives.",
	  find_opts, TYPE_NAMES, cgpt_find },
	{ "repair", "[OPTIONS] DRIVE", "Repair damaged GPT headers and tables.", repair_opts, NULL,
	  cgpt_repair },
	{ "resize", "[OPTIONS] DRIVE_PARTITION",
	  "Grow a partition to the end of the disk, or up to the next partition.", resize_opts,
	  NULL, cgpt_resize },
	{},
};

static const char *const unsupported[] = { "create", "boot", "legacy", "edit", "next" };

static void main_usage(FILE *f)
{
	fprintf(f, "\nUsage: cgpt COMMAND [OPTIONS] DRIVE\n\nSupported COMMANDs:\n\n");
	fprintf(f, "    %-16s %s\n", "add", "Edit a partition entry");
	fprintf(f, "    %-16s %s\n", "show", "Show partition table and entries");
	fprintf(f, "    %-16s %s\n", "repair", "Repair damaged GPT headers and tables");
	fprintf(f, "    %-16s %s\n", "find", "Locate a partition by its GUID");
	fprintf(f, "    %-16s %s\n", "prioritize", "Reorder the priority of all USR partitions");
	fprintf(f, "    %-16s %s\n", "resize", "Grow a partition to fill the disk");
	fprintf(f, "\nFor more detailed usage, use cgpt COMMAND -h\n\n");
}

int cmd_cgpt_link(int argc, char **argv, struct flat_ctx *ctx)
{
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
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (strcmp(name, unsupported[i]) == 0) {
			log_error("'%s' is not supported by flatctl", name);
			return 1;
		}
	for (const struct cgpt_cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "cgpt %s", c->name);
		log_set_prefix(prefix);
		int r = c->fn(c, argc - 1, argv + 1, ctx);
		return r == 0 ? 0 : 1;
	}
	log_error("unknown command '%s'", name);
	fprintf(stderr, "Try 'cgpt --help'.\n");
	return 1;
}
