/* SPDX-License-Identifier: MIT */
/* lib/gpt/cgpt-args.c - the `cgpt` link's option tables and command-line parser, and `cgpt add`
 * applied to a table; docs/partitions.md §9, flatctl-partition(1). Never prints, never touches
 * a disk. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args/args.h"
#include "gpt/cgpt-args.h"
#include "gpt/gpt.h"
#include "util/problem.h"

#define TYPE_NAMES                                                                               \
	"The partition type may also be given as one of these names:\n\n"                        \
	"    efi                EFI System Partition\n"                                          \
	"    bios               BIOS Boot Partition\n"                                           \
	"    flatcar-usr        Flatcar /usr (also flatcar-rootfs, coreos-usr, coreos-rootfs)\n" \
	"    data               Linux data (also linux-data)\n"                                  \
	"    flatcar-reserved   CoreOS reserved (also coreos-reserved)\n"                        \
	"    flatcar-resize     CoreOS auto-resize (also coreos-resize)\n"                       \
	"    flatcar-root-raid  CoreOS RAID containing root (also coreos-root-raid)\n"           \
	"    kernel             ChromeOS kernel\n"

/* -D (Debian's cgpt: the GPT kept on another device than the partitions) is recognised only to
 * say that it is not supported. */
#define OPT_D                                                                          \
	{                                                                              \
		NULL, 'D', ARG_REQ, "NUM", "(not supported: GPT on a separate device)" \
	}

static const struct flat_option create_opts[] = {
	{ NULL, 'z', ARG_NONE, NULL, "Zero the blocks of the GPT table and entries" },
	{ NULL, 'p', ARG_REQ, "NUM",
	  "Size (in blocks) of the disk to pad between the\n"
	  "               primary GPT header and its entries, default 0" },
	{ NULL, 'c', ARG_NONE, NULL, "Create the disk image file if needed (Flatcar); needs -s" },
	{ NULL, 's', ARG_REQ, "NUM",
	  "Minimum disk sectors of 512 bytes, extends image files (Flatcar)" },
	{ NULL, 'g', ARG_REQ, "GUID", "The disk GUID (Flatcar); default: a random one" },
	OPT_D,
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static const struct flat_option add_opts[] = {
	{ NULL, 'i', ARG_REQ, "NUM", "Specify partition (default is next available)" },
	{ NULL, 'b', ARG_REQ, "NUM", "First block (a.k.a. start of partition)" },
	{ NULL, 's', ARG_REQ, "NUM", "Size (in blocks)" },
	{ NULL, 't', ARG_REQ, "GUID", "Partition Type GUID or name" },
	{ NULL, 'u', ARG_REQ, "GUID", "Partition Unique ID" },
	{ NULL, 'l', ARG_REQ, "LABEL", "Label" },
	{ NULL, 'S', ARG_REQ, "NUM", "set Successful flag (0|1)" },
	{ NULL, 'T', ARG_REQ, "NUM", "set Tries flag (0-15)" },
	{ NULL, 'P', ARG_REQ, "NUM", "set Priority flag (0-15)" },
	{ NULL, 'R', ARG_REQ, "NUM", "set Required flag (0|1)" },
	{ NULL, 'B', ARG_REQ, "NUM", "set Legacy Boot flag (0|1)" },
	{ NULL, 'A', ARG_REQ, "NUM", "set the whole 64-bit attribute word" },
	OPT_D,
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

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

static const struct flat_option repair_opts[] = {
	{ NULL, 'v', ARG_NONE, NULL, "Verbose" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

static const struct flat_option boot_opts[] = {
	{ NULL, 'i', ARG_REQ, "NUM", "Set bootable partition" },
	{ NULL, 'b', ARG_REQ, "FILE", "Install bootloader code in the PMBR" },
	{ NULL, 'p', ARG_NONE, NULL, "Create legacy PMBR partition table" },
	{ NULL, 'H', ARG_NONE, NULL,
	  "With -p: a hybrid MBR for the first legacy-BIOS-bootable\n"
	  "               partition, as Flatcar's cgpt made them (flatctl)" },
	OPT_D,
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

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

static const struct flat_option resize_opts[] = {
	{ NULL, 'i', ARG_REQ, "NUM", "The partition to grow (implied by a partition device)" },
	{ NULL, 'h', ARG_NONE, NULL, "Show this help" },
	{},
};

const struct gpt_cgpt_command gpt_cgpt_commands[_GPT_CGPT_CMD_MAX] = {
	[GPT_CGPT_CREATE] = { "create", "[OPTIONS] DRIVE", "Create or reset an empty GPT.",
			      "Create or reset GPT headers and tables", create_opts,
			      "With -c, -s or -g (Flatcar's options) LBA 0 also gets a fresh\n"
			      "protective MBR, as Flatcar's cgpt writes it; without them LBA 0 is\n"
			      "left alone, as Debian's cgpt does (use 'cgpt boot -p').\n" },
	[GPT_CGPT_ADD] = { "add", "[OPTIONS] DRIVE", "Add, edit, or move a partition entry.",
			   "Add, edit or move a partition entry", add_opts,
			   "Use the -i option to modify an existing partition; a partition\n"
			   "device implies it. The -b, -s, and -t options must be given for new\n"
			   "partitions.\n\n" TYPE_NAMES },
	[GPT_CGPT_SHOW] = { "show", "[OPTIONS] DRIVE",
			    "Display the GPT table.\n\nUnits are blocks by default.",
			    "Show partition table and entries", show_opts, NULL },
	[GPT_CGPT_REPAIR] = { "repair", "[OPTIONS] DRIVE", "Repair damaged GPT headers and tables.",
			      "Repair damaged GPT headers and tables", repair_opts, NULL },
	[GPT_CGPT_BOOT] = { "boot", "[OPTIONS] DRIVE", "Edit the PMBR sector for legacy BIOSes",
			    "Edit the PMBR sector for legacy BIOSes", boot_opts,
			    "With no options, it will just print the PMBR boot guid\n" },
	[GPT_CGPT_FIND] = { "find", "[OPTIONS] [DRIVE]",
			    "Find a partition by its UUID or label. With no specified DRIVE\n"
			    "it scans all physical drives.",
			    "Locate a partition by its GUID", find_opts, TYPE_NAMES },
	[GPT_CGPT_PRIORITIZE] = { "prioritize", "[OPTIONS] DRIVE",
				  "Reorder the priority of all active Flatcar USR partitions.",
				  "Reorder the priority of all USR partitions", prioritize_opts,
				  "With no options this will set the lowest active USR partition to\n"
				  "priority 1 while maintaining the original order.\n" },
	[GPT_CGPT_RESIZE] = { "resize", "[OPTIONS] DRIVE_PARTITION",
			      "Grow a partition to the end of the disk, or up to the next partition.",
			      "Grow a partition to fill the disk", resize_opts, NULL },
};

/* cgpt's commands flatctl does not provide (docs/partitions.md §9). */
static const char *const unsupported[] = { "legacy", "edit", "next" };

const struct gpt_cgpt_command *gpt_cgpt_command_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(gpt_cgpt_commands); i++)
		if (name && strcmp(gpt_cgpt_commands[i].name, name) == 0)
			return &gpt_cgpt_commands[i];
	return NULL;
}

_printf_(2, 3) static int usage(struct problem_list *reterr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = problem_addv(reterr, PROBLEM_ERROR, -EINVAL, NULL, 0, 0, NULL, fmt, ap);
	va_end(ap);
	return r;
}

/* A number as cgpt takes it (decimal, 0x hex or 0 octal) within [min, max]. */
static int parse_num(int opt, const char *s, unsigned long long min, unsigned long long max,
		     unsigned long long *ret, struct problem_list *reterr)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return usage(reterr, "invalid argument to -%c: '%s'", opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return usage(reterr, "invalid argument to -%c: '%s'", opt, s);
	if (v < min || v > max)
		return usage(reterr, "value for -%c must be between %llu and %llu", opt, min, max);
	*ret = v;
	return 0;
}

static int parse_int(int opt, const char *s, unsigned long long max, int *ret,
		     struct problem_list *reterr)
{
	unsigned long long v;
	int r = parse_num(opt, s, 0, max, &v, reterr);

	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

static int parse_slot(int opt, const char *s, unsigned long long min, unsigned *ret,
		      struct problem_list *reterr)
{
	unsigned long long v;
	int r = parse_num(opt, s, min, UINT_MAX, &v, reterr);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

static int parse_type(int opt, const char *s, struct gpt_guid *ret, struct problem_list *reterr)
{
	if (gpt_type_from_name(s, ret) < 0 || gpt_guid_is_zero(ret))
		return usage(reterr, "invalid argument to -%c: '%s'", opt, s);
	return 0;
}

static int parse_guid(int opt, const char *s, bool zero_ok, struct gpt_guid *ret,
		      struct problem_list *reterr)
{
	if (gpt_guid_from_string(s, ret) < 0 || (!zero_ok && gpt_guid_is_zero(ret)))
		return usage(reterr, "invalid argument to -%c: '%s'", opt, s);
	return 0;
}

static int parse_label(const char *s, struct problem_list *reterr)
{
	struct gpt_entry probe = {};
	int r = gpt_entry_set_label(&probe, s);

	if (r == -ERANGE)
		return usage(reterr, "label '%s' is longer than %u UTF-16 code units", s,
			     GPT_LABEL_UNITS);
	if (r < 0)
		return usage(reterr, "label '%s' is not valid UTF-8", s);
	return 0;
}

/* One option of a command; 0 or -errno with a problem. */
static int parse_opt(struct gpt_cgpt_args *a, int ch, const char *arg, struct problem_list *reterr)
{
	unsigned long long v = 0;
	int r = 0;

	if (ch == 'h') {
		a->help = true;
		return 0;
	}
	if (ch == 'D')
		return problem_add(reterr, -EOPNOTSUPP, NULL,
				   "-D (a GPT kept on another device than its partitions) is not "
				   "supported by flatctl");
	switch (a->cmd) {
	case GPT_CGPT_CREATE:
		switch (ch) {
		case 'z':
			a->create.zap = true;
			break;
		case 'p':
			r = parse_num('p', arg, 0, UINT32_MAX, &v, reterr);
			a->create.padding = v;
			break;
		case 'c':
			a->create.create_file = a->create.flatcar = true;
			break;
		case 's':
			r = parse_num('s', arg, 1, UINT64_MAX / 4096, &v, reterr);
			a->create.min_size = v;
			a->create.flatcar = true;
			break;
		case 'g':
			r = parse_guid('g', arg, true, &a->create.guid, reterr);
			a->create.set_guid = a->create.flatcar = true;
			break;
		}
		break;
	case GPT_CGPT_ADD:
		switch (ch) {
		case 'i':
			r = parse_slot('i', arg, 0, &a->add.nr, reterr);
			break;
		case 'b':
			r = parse_num('b', arg, 0, UINT64_MAX, &v, reterr);
			a->add.first = v;
			a->add.set_first = true;
			break;
		case 's':
			r = parse_num('s', arg, 0, UINT64_MAX, &v, reterr);
			a->add.size = v;
			a->add.set_size = true;
			break;
		case 't':
			r = parse_type('t', arg, &a->add.type, reterr);
			a->add.set_type = true;
			break;
		case 'u':
			r = parse_guid('u', arg, false, &a->add.unique, reterr);
			a->add.set_unique = true;
			break;
		case 'l':
			r = parse_label(arg, reterr);
			a->add.label = arg;
			a->add.set_label = true;
			break;
		case 'S':
			r = parse_int('S', arg, 1, &a->add.successful, reterr);
			break;
		case 'T':
			r = parse_int('T', arg, 15, &a->add.tries, reterr);
			break;
		case 'P':
			r = parse_int('P', arg, 15, &a->add.priority, reterr);
			break;
		case 'R':
			r = parse_int('R', arg, 1, &a->add.required, reterr);
			break;
		case 'B':
			r = parse_int('B', arg, 1, &a->add.legacy_boot, reterr);
			break;
		case 'A':
			r = parse_num('A', arg, 0, UINT64_MAX, &v, reterr);
			a->add.attr = v;
			a->add.set_attr = true;
			break;
		}
		break;
	case GPT_CGPT_SHOW:
		switch (ch) {
		case 'n':
			a->show.numeric = true;
			break;
		case 'v':
			a->verbose = true;
			break;
		case 'q':
			a->show.quick = true;
			break;
		case 'd':
			a->show.debug = true;
			break;
		case 'i':
			r = parse_slot('i', arg, 1, &a->nr, reterr);
			if (r == 0 && a->nr > GPT_MAX_ENTRIES)
				r = usage(reterr, "value for -i must be between 1 and %u",
					  GPT_MAX_ENTRIES);
			break;
		default:
			a->show.field = ch;
		}
		break;
	case GPT_CGPT_REPAIR:
		a->verbose = true; /* -v, the only other option */
		break;
	case GPT_CGPT_BOOT:
		switch (ch) {
		case 'i':
			r = parse_slot('i', arg, 1, &a->nr, reterr);
			break;
		case 'b':
			a->boot.bootfile = arg;
			break;
		case 'p':
			a->boot.pmbr = true;
			break;
		case 'H':
			a->boot.hybrid = true;
			break;
		}
		break;
	case GPT_CGPT_FIND:
		switch (ch) {
		case 't':
			r = gpt_type_from_name(arg, &a->find.type) < 0
				    ? usage(reterr, "invalid argument to -t: '%s'", arg)
				    : 0;
			a->find.set_type = true;
			break;
		case 'u':
			r = parse_guid('u', arg, true, &a->find.unique, reterr);
			a->find.set_unique = true;
			break;
		case 'l':
			a->find.label = arg;
			a->find.set_label = true;
			break;
		case 'v':
			a->find.verbose++;
			break;
		case 'n':
			a->find.numeric = true;
			break;
		case '1':
			a->find.one = true;
			break;
		case ARG_GLOBAL_ROOT:
			a->find.root = arg;
			break;
		}
		break;
	case GPT_CGPT_PRIORITIZE:
		switch (ch) {
		case 'P':
			r = parse_num('P', arg, 1, 15, &v, reterr);
			a->prioritize.top = (unsigned)v;
			break;
		case 'i':
			r = parse_slot('i', arg, 1, &a->nr, reterr);
			break;
		case 'f':
			a->prioritize.friends = true;
			break;
		}
		break;
	case GPT_CGPT_RESIZE:
		r = parse_slot('i', arg, 1, &a->nr, reterr); /* -i, the only option */
		break;
	default:
		break;
	}
	return r;
}

/* What each command needs beyond its options. */
static int check_args(struct gpt_cgpt_args *a, int npos, struct problem_list *reterr)
{
	if (a->help)
		return 0;
	if (npos > 1)
		return usage(reterr, "too many arguments");
	if (npos < 1 && a->cmd != GPT_CGPT_FIND)
		return usage(reterr, "missing drive argument");
	switch (a->cmd) {
	case GPT_CGPT_CREATE:
		if (a->create.create_file && !a->create.min_size)
			return usage(reterr, "minimum size (-s) is required with create (-c)");
		break;
	case GPT_CGPT_SHOW:
		/* -i may also come from a partition device: checked when the disk is open */
		break;
	case GPT_CGPT_BOOT:
		if (a->boot.hybrid && !a->boot.pmbr)
			return usage(reterr, "-H goes with -p");
		break;
	case GPT_CGPT_FIND:
		if (!a->find.set_type && !a->find.set_unique && !a->find.set_label)
			return usage(reterr, "you must specify at least one of -t, -u, or -l");
		break;
	default:
		break;
	}
	return 0;
}

int gpt_cgpt_parse(int argc, char **argv, struct gpt_cgpt_args *ret, struct problem_list *reterr)
{
	_cleanup_(args_release) struct args it = {};
	struct gpt_cgpt_args a = { .add = { .successful = -1,
					    .tries = -1,
					    .priority = -1,
					    .required = -1,
					    .legacy_boot = -1 } };
	int r, ch;

	if (argc < 1 || !argv[0])
		return usage(reterr, "missing command");
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (strcmp(argv[0], unsupported[i]) == 0)
			return problem_add(reterr, -EOPNOTSUPP, NULL,
					   "'%s' is not supported by flatctl", argv[0]);
	const struct gpt_cgpt_command *c = gpt_cgpt_command_find(argv[0]);
	if (!c)
		return problem_add(reterr, -ENOENT, NULL, "unknown command '%s'", argv[0]);
	a.cmd = (enum gpt_cgpt_cmd)(c - gpt_cgpt_commands);

	r = args_init(&it, argc, argv, c->opts, NULL, NULL, ARGS_NO_GLOBALS);
	if (r < 0)
		return r;
	optind = 0; /* GNU getopt: a full reset, argv differs from the last call's */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, it.shortopts, it.lopts, NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			const char *what = ch == '?' ? "unknown option" : "missing argument to";
			if (optopt > 0 && optopt < ARG_LONG_BASE)
				return usage(reterr, "%s '-%c'", what, optopt);
			return usage(reterr, "%s '%s'", what,
				     optind > 0 && optind <= argc && argv[optind - 1]
					     ? argv[optind - 1]
					     : "?");
		}
		r = parse_opt(&a, ch, optarg, reterr);
		if (r < 0)
			return r;
		if (a.help)
			break; /* cgpt prints the help at -h, whatever follows */
	}
	int first = optind;
	r = check_args(&a, argc - first, reterr);
	if (r < 0)
		return r;
	if (first < argc)
		a.drive = argv[first];
	*ret = a;
	return 0;
}

int gpt_cgpt_add(struct gpt *g, const struct gpt_cgpt_add_args *a, struct problem_list *reterr)
{
	unsigned n = gpt_num_entries(g), nr = a->nr;

	if (nr == 0) {
		for (unsigned i = 1; i <= n && !nr; i++)
			if (!gpt_entry_is_used(gpt_entry_get_const(g, i)))
				nr = i;
		if (!nr)
			return problem_add(reterr, -ENOSPC, NULL, "no unused partitions available");
	}
	if (nr > n)
		return problem_add(reterr, -ERANGE, NULL,
				   "invalid partition number: %u (the table has %u entries)", nr,
				   n);
	struct gpt_entry e = *gpt_entry_get_const(g, nr);
	bool was_unused = !gpt_entry_is_used(&e);

	uint64_t attr = a->set_attr ? a->attr : gpt_entry_attributes(&e);
	if (a->required >= 0)
		attr = a->required ? attr | GPT_ATTR_REQUIRED : attr & ~GPT_ATTR_REQUIRED;
	if (a->legacy_boot >= 0)
		attr = a->legacy_boot ? attr | GPT_ATTR_LEGACY_BOOT : attr & ~GPT_ATTR_LEGACY_BOOT;
	gpt_entry_set_attributes(&e, attr);
	if (a->priority >= 0)
		(void)gpt_entry_set_priority(&e, (unsigned)a->priority);
	if (a->tries >= 0)
		(void)gpt_entry_set_tries(&e, (unsigned)a->tries);
	if (a->successful >= 0)
		gpt_entry_set_successful(&e, a->successful != 0);

	if (was_unused && (!a->set_first || !a->set_size || !a->set_type))
		return problem_add(
			reterr, -EINVAL, NULL,
			"partition %u is unused: -t, -b, and -s options are required for "
			"new partitions",
			nr);
	if (a->set_first)
		gpt_entry_set_first_lba(&e, a->first);
	if (a->set_size)
		/* size 0 makes the end come before the start: refused below, as cgpt does */
		gpt_entry_set_last_lba(&e, gpt_entry_first_lba(&e) + a->size - 1);
	if (a->set_unique)
		e.unique = a->unique;
	else if (was_unused) {
		int r = gpt_guid_random(&e.unique);
		if (r < 0)
			return problem_add(reterr, r, NULL, "generating a unique GUID: %s",
					   strerror(-r));
	}
	if (a->set_type)
		e.type = a->type;
	if (a->set_label && gpt_entry_set_label(&e, a->label) < 0)
		return problem_add(reterr, -EINVAL, NULL, "label '%s' cannot be stored", a->label);
	int r = gpt_entry_replace(g, nr, &e, 0, reterr);
	return r < 0 ? r : (int)nr;
}
