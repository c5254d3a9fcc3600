/* SPDX-License-Identifier: MIT */
/* tests/unit/test-cgpt-args.c - lib/gpt/cgpt-args.c: the cgpt link's command lines into structs
 * (every command, ranges, usage errors, unsupported commands) and `cgpt add` on a table;
 * docs/partitions.md §9. */
#include "tap.h"

#include "gpt/cgpt-args.h"
#include "gpt/gpt.h"
#include "util/problem.h"

/* Parse words (a NULL-terminated list, the first the command) as a command line; the strings
 * the result points to stay valid until the next call. */
static char *arena[64];
static size_t arena_n;

static void arena_release(void)
{
	while (arena_n > 0)
		free(arena[--arena_n]);
}

__attribute__((destructor)) static void arena_at_exit(void)
{
	arena_release();
}

static int parse(struct gpt_cgpt_args *ret, struct problem_list *pl, const char *const *words)
{
	char *argv[64];
	int argc = 0;

	arena_release();
	while (words[argc] && argc < 63) {
		argv[argc] = arena[arena_n++] = strdup(words[argc]);
		argc++;
	}
	argv[argc] = NULL;
	return gpt_cgpt_parse(argc, argv, ret, pl);
}
#define PARSE(ret, pl, ...) parse((ret), (pl), (const char *const[]){ __VA_ARGS__, NULL })

TEST(create_options)
{
	struct gpt_cgpt_args a;

	ASSERT_OK(PARSE(&a, NULL, "create", "disk.img"));
	ASSERT_EQ(a.cmd, GPT_CGPT_CREATE);
	ASSERT_STREQ(a.drive, "disk.img");
	ASSERT_FALSE(a.create.flatcar);
	ASSERT_OK(PARSE(&a, NULL, "create", "-z", "-p", "0x10", "disk.img"));
	ASSERT_TRUE(a.create.zap);
	ASSERT_EQ(a.create.padding, 16);
	ASSERT_FALSE(a.create.flatcar);
	/* Flatcar's image builder: cgpt create -c -s BLOCKS -g GUID */
	ASSERT_OK(PARSE(&a, NULL, "create", "-c", "-s", "16515072", "-g",
			"00000000-0000-0000-0000-000000000001", "img"));
	ASSERT_TRUE(a.create.create_file && a.create.set_guid && a.create.flatcar);
	ASSERT_EQ(a.create.min_size, 16515072);
	char buf[GPT_GUID_STRING_MAX];
	ASSERT_STREQ(gpt_guid_to_string(&a.create.guid, true, buf),
		     "00000000-0000-0000-0000-000000000001");
	ASSERT_OK(PARSE(&a, NULL, "create", "-g", "5B2A0C8E-6C6F-4D55-9D1B-2F3E4A5B6C7D", "x"));
	ASSERT_TRUE(a.create.flatcar && !a.create.create_file);
}

TEST(usage_errors_are_problems)
{
	struct {
		const char *argv[6];
		int err;
		const char *message;
	} cases[] = {
		{ { "create", "-c", "x" },
		  EINVAL,
		  "minimum size (-s) is required with create (-c)" },
		{ { "create", "-p", "1x", "x" }, EINVAL, "invalid argument to -p: '1x'" },
		{ { "create", "-g", "nope", "x" }, EINVAL, "invalid argument to -g: 'nope'" },
		{ { "create", "-q", "x" }, EINVAL, "unknown option '-q'" },
		{ { "create", "-p" }, EINVAL, "missing argument to '-p'" },
		{ { "create" }, EINVAL, "missing drive argument" },
		{ { "create", "a", "b" }, EINVAL, "too many arguments" },
		{ { "create", "-D", "100", "x" }, EOPNOTSUPP, NULL },
		{ { "add", "-P", "16", "x" }, EINVAL, "value for -P must be between 0 and 15" },
		{ { "add", "-S", "-1", "x" }, EINVAL, "invalid argument to -S: '-1'" },
		{ { "add", "-t", "unused", "x" }, EINVAL, "invalid argument to -t: 'unused'" },
		{ { "add", "-u", "00000000-0000-0000-0000-000000000000", "x" }, EINVAL, NULL },
		{ { "add", "-l", "0123456789012345678901234567890123456", "x" },
		  EINVAL,
		  "label '0123456789012345678901234567890123456' is longer than 36 UTF-16 code units" },
		{ { "add", "-l", "\xff", "x" }, EINVAL, "label '\xff' is not valid UTF-8" },
		{ { "add", "-b", "", "x" }, EINVAL, "invalid argument to -b: ''" },
		{ { "show", "-i", "0", "x" },
		  EINVAL,
		  "value for -i must be between 1 and 4294967295" },
		{ { "show", "-i", "1025", "x" },
		  EINVAL,
		  "value for -i must be between 1 and 1024" },
		{ { "boot", "-H", "x" }, EINVAL, "-H goes with -p" },
		{ { "find", "x" }, EINVAL, "you must specify at least one of -t, -u, or -l" },
		{ { "prioritize", "-P", "0", "x" },
		  EINVAL,
		  "value for -P must be between 1 and 15" },
		{ { "legacy", "x" }, EOPNOTSUPP, "'legacy' is not supported by flatctl" },
		{ { "edit", "-u", "x" }, EOPNOTSUPP, "'edit' is not supported by flatctl" },
		{ { "bogus" }, ENOENT, "unknown command 'bogus'" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_(problem_list_release) struct problem_list pl = {};
		struct gpt_cgpt_args a;
		int r = parse(&a, &pl, cases[i].argv);
		if (r != -cases[i].err)
			printf("# case %zu (%s): %d\n", i, cases[i].argv[0], r);
		ASSERT_ERR(r, cases[i].err);
		ASSERT_EQ(pl.n, 1);
		if (cases[i].message)
			ASSERT_STREQ(pl.item[0].message, cases[i].message);
	}
}

TEST(help_stops_parsing)
{
	struct gpt_cgpt_args a;

	ASSERT_OK(PARSE(&a, NULL, "add", "-h", "-P", "99"));
	ASSERT_TRUE(a.help);
	ASSERT_OK(PARSE(&a, NULL, "boot", "-h"));
	ASSERT_TRUE(a.help);
	ASSERT_EQ(a.cmd, GPT_CGPT_BOOT);
	ASSERT_NOT_NULL(gpt_cgpt_command_find("resize"));
	ASSERT_NULL(gpt_cgpt_command_find("legacy"));
}

TEST(add_show_boot_find_prioritize)
{
	struct gpt_cgpt_args a;

	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "5", "-b", "0x1000", "-s", "2048", "-t", "data",
			"-l", "OEM", "-u", "1D7E3C56-0006-4C0B-9F00-000000000006", "-S", "1", "-T",
			"15", "-P", "0", "-R", "1", "-B", "0", "-A", "0x0101000000000004", "d"));
	ASSERT_EQ(a.add.nr, 5);
	ASSERT_TRUE(a.add.set_first && a.add.set_size && a.add.set_type && a.add.set_unique &&
		    a.add.set_label && a.add.set_attr);
	ASSERT_EQ(a.add.first, 4096);
	ASSERT_EQ(a.add.size, 2048);
	ASSERT_STREQ(a.add.label, "OEM");
	ASSERT_EQ(a.add.successful, 1);
	ASSERT_EQ(a.add.tries, 15);
	ASSERT_EQ(a.add.priority, 0);
	ASSERT_EQ(a.add.required, 1);
	ASSERT_EQ(a.add.legacy_boot, 0);
	ASSERT_U64_EQ(a.add.attr, UINT64_C(0x0101000000000004));
	ASSERT_OK(PARSE(&a, NULL, "add", "-P", "2", "d"));
	ASSERT_EQ(a.add.nr, 0);
	ASSERT_EQ(a.add.tries, -1);
	ASSERT_FALSE(a.add.set_first);

	ASSERT_OK(PARSE(&a, NULL, "show", "-i", "3", "-P", "-n", "d"));
	ASSERT_EQ(a.nr, 3);
	ASSERT_EQ(a.show.field, 'P');
	ASSERT_TRUE(a.show.numeric);
	ASSERT_OK(PARSE(&a, NULL, "boot", "-p", "-H", "-b", "mbr.bin", "-i", "2", "d"));
	ASSERT_TRUE(a.boot.pmbr && a.boot.hybrid);
	ASSERT_STREQ(a.boot.bootfile, "mbr.bin");
	ASSERT_EQ(a.nr, 2);
	ASSERT_OK(PARSE(&a, NULL, "find", "-t", "flatcar-usr", "-1", "-vv", "--root", "/r"));
	ASSERT_NULL(a.drive);
	ASSERT_TRUE(a.find.set_type && a.find.one);
	ASSERT_EQ(a.find.verbose, 2);
	ASSERT_STREQ(a.find.root, "/r");
	ASSERT_OK(PARSE(&a, NULL, "prioritize", "-i", "4", "-P", "3", "-f", "d"));
	ASSERT_EQ(a.prioritize.top, 3);
	ASSERT_TRUE(a.prioritize.friends);
	ASSERT_OK(PARSE(&a, NULL, "repair", "-v", "d"));
	ASSERT_TRUE(a.verbose);
	ASSERT_OK(PARSE(&a, NULL, "resize", "-i", "9", "d"));
	ASSERT_EQ(a.nr, 9);
}

/* ---- cgpt add on a table ---- */

static struct gpt *empty_table(void)
{
	struct gpt_create_params p = { .sector_size = 512, .sectors = 262144 };
	struct gpt *g = NULL;
	return gpt_create(&p, &g, NULL) < 0 ? NULL : g;
}

TEST(cgpt_add_new_partition_as_debian)
{
	_cleanup_(gpt_freep) struct gpt *g = empty_table();
	_cleanup_(problem_list_release) struct problem_list pl = {};
	struct gpt_cgpt_args a;
	char label[GPT_LABEL_MAX];

	ASSERT_NOT_NULL(g);
	/* an unused slot needs -b, -s and -t */
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "2", "-b", "100", "-t", "data", "d"));
	ASSERT_ERR(gpt_cgpt_add(g, &a.add, &pl), EINVAL);
	ASSERT_TRUE(strstr(pl.item[0].message, "required for new partitions") != NULL);
	/* no -i: the first unused slot; no -u: a random unique GUID */
	ASSERT_OK(PARSE(&a, NULL, "add", "-b", "100", "-s", "50", "-t", "data", "-P", "3", "d"));
	ASSERT_EQ(gpt_cgpt_add(g, &a.add, NULL), 1);
	const struct gpt_entry *e = gpt_entry_get(g, 1);
	ASSERT_EQ(gpt_entry_first_lba(e), 100);
	ASSERT_EQ(gpt_entry_last_lba(e), 149);
	ASSERT_EQ(gpt_entry_priority(e), 3);
	ASSERT_FALSE(gpt_guid_is_zero(&e->unique));
	/* a slot a deleted entry left keeps its label and attributes, as cgpt does */
	struct gpt_entry *f = gpt_entry_get(g, 7);
	gpt_entry_set_label(f, "LEFTOVER");
	gpt_entry_set_attributes(f, GPT_ATTR_REQUIRED);
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "7", "-b", "200", "-s", "1", "-t", "efi", "d"));
	ASSERT_EQ(gpt_cgpt_add(g, &a.add, NULL), 7);
	gpt_entry_label(f, label);
	ASSERT_STREQ(label, "LEFTOVER");
	ASSERT_U64_EQ(gpt_entry_attributes(f), GPT_ATTR_REQUIRED);
	/* moving: -b alone keeps the end (cgpt's rule), -b and -s move the whole partition */
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "1", "-b", "120", "d"));
	ASSERT_EQ(gpt_cgpt_add(g, &a.add, NULL), 1);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 1)), 149);
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "1", "-b", "1000", "-s", "10", "d"));
	ASSERT_EQ(gpt_cgpt_add(g, &a.add, NULL), 1);
	ASSERT_EQ(gpt_entry_last_lba(gpt_entry_get(g, 1)), 1009);
}

TEST(cgpt_add_refusals_leave_the_table)
{
	_cleanup_(gpt_freep) struct gpt *g = empty_table();
	struct gpt_cgpt_args a;
	static uint8_t before[128 * 128];

	ASSERT_NOT_NULL(g);
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "1", "-b", "100", "-s", "100", "-t", "data", "d"));
	ASSERT_EQ(gpt_cgpt_add(g, &a.add, NULL), 1);
	memcpy(before, g->entries, sizeof(before));
	static const char *const bad[][12] = {
		{ "add", "-i", "2", "-b", "150", "-s", "10", "-t", "data", "d" }, /* overlap */
		{ "add", "-i", "2", "-b", "300", "-s", "0", "-t", "data", "d" },  /* size 0 */
		{ "add", "-i", "2", "-b", "10", "-s", "10", "-t", "data", "d" }, /* before LBA 34 */
		{ "add", "-i", "2", "-b", "262100", "-s", "20", "-t", "data",
		  "d" }, /* past the end */
		{ "add", "-i", "129", "-b", "300", "-s", "10", "-t", "data",
		  "d" },				/* no such slot */
		{ "add", "-i", "1", "-b", "300", "d" }, /* end before start */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct gpt_cgpt_args b;
		ASSERT_OK(parse(&b, NULL, bad[i]));
		ASSERT_TRUE(gpt_cgpt_add(g, &b.add, NULL) < 0);
		ASSERT_TRUE(memcmp(before, g->entries, sizeof(before)) == 0);
	}
	/* a unique GUID in use by another partition */
	ASSERT_OK(PARSE(&a, NULL, "add", "-i", "2", "-b", "300", "-s", "10", "-t", "data", "-u",
			"00000000-0000-0000-0000-000000000001", "d"));
	gpt_entry_get(g, 1)->unique = a.add.unique;
	memcpy(before, g->entries, sizeof(before));
	ASSERT_ERR(gpt_cgpt_add(g, &a.add, NULL), EINVAL);
	ASSERT_TRUE(memcmp(before, g->entries, sizeof(before)) == 0);
}
