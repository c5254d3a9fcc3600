/* SPDX-License-Identifier: MIT */
/* include/gpt/cgpt-args.h - the `cgpt` link's command lines parsed into plain structs, and
 * `cgpt add` applied to a table; docs/partitions.md §9, flatctl-partition(1).
 *
 * The parser never touches a disk and never prints: cmd/cgpt.c prints its problems as usage
 * errors and runs the command; tests/fuzz/fuzz-cgpt-args.c feeds it arbitrary argv. Option
 * letters, ranges and defaults are cgpt's: Debian's cgpt (R106) for create, add, show, repair,
 * boot, find and prioritize, Flatcar's for resize and for create's -c, -s and -g (the image
 * builder's `cgpt create -c -s BLOCKS -g GUID`). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "gpt/gpt.h"

struct flat_option;
struct problem_list;

enum gpt_cgpt_cmd {
	GPT_CGPT_CREATE,
	GPT_CGPT_ADD,
	GPT_CGPT_SHOW,
	GPT_CGPT_REPAIR,
	GPT_CGPT_BOOT,
	GPT_CGPT_FIND,
	GPT_CGPT_PRIORITIZE,
	GPT_CGPT_RESIZE,
	_GPT_CGPT_CMD_MAX,
	_GPT_CGPT_CMD_INVALID = -EINVAL,
};

/* One command as `cgpt COMMAND -h` describes it. */
struct gpt_cgpt_command {
	const char *name;
	const char *synopsis;  /* after "Usage: cgpt NAME " */
	const char *summary;   /* one paragraph */
	const char *list_help; /* the line in `cgpt --help`'s command list */
	const struct flat_option *opts;
	const char *epilog; /* after the options, or NULL */
};
extern const struct gpt_cgpt_command gpt_cgpt_commands[_GPT_CGPT_CMD_MAX];

/* `cgpt add` (§9.2): what to set; everything not set keeps the slot's bytes, as cgpt does (a
 * reused slot keeps the label and attributes a deleted entry left there). */
struct gpt_cgpt_add_args {
	unsigned nr; /* -i; 0: the first unused slot */
	bool set_first, set_size, set_type, set_unique, set_label, set_attr;
	uint64_t first, size;
	struct gpt_guid type, unique;
	const char *label;
	uint64_t attr;						/* -A: the whole 64-bit word */
	int successful, tries, priority, required, legacy_boot; /* -1: keep */
};

struct gpt_cgpt_args {
	enum gpt_cgpt_cmd cmd;
	bool help;	   /* -h: print the command's help and exit 0 */
	const char *drive; /* DRIVE; NULL only for find without one */

	unsigned nr;  /* show, prioritize, resize, boot: -i (0: none) */
	bool verbose; /* show, repair: -v */
	struct {
		bool numeric, quick, debug;
		int field; /* -b -s -t -u -l -S -T -P -R -B -A with -i, or 0 */
	} show;
	struct gpt_cgpt_add_args add;
	struct {
		unsigned top; /* -P; 0: automatic */
		bool friends; /* -f */
	} prioritize;
	struct {
		bool set_type, set_unique, set_label;
		struct gpt_guid type, unique;
		const char *label;
		bool numeric, one;
		int verbose;
		const char *root; /* --root, or NULL */
	} find;
	struct {
		bool zap;	   /* -z */
		uint64_t padding;  /* -p, sectors */
		bool create_file;  /* -c (Flatcar) */
		uint64_t min_size; /* -s (Flatcar): sectors of 512 bytes, 0: none */
		bool set_guid;	   /* -g (Flatcar) */
		struct gpt_guid guid;
		bool flatcar; /* any of -c, -s, -g: Flatcar's create, which also writes LBA 0 */
	} create;
	struct {
		bool pmbr;	      /* -p */
		bool hybrid;	      /* -H (flatctl): with -p, the hybrid MBR of older installs */
		const char *bootfile; /* -b FILE */
	} boot;
};

/* Parse argv (argv[0] is the command name: "create", "add", ...) into *ret. Returns 0, or
 * -EINVAL for a usage error, -EOPNOTSUPP for a command or option flatctl does not support,
 * -ENOENT for an unknown command, each with one problem whose message reads as cgpt's usage
 * error ("invalid argument to -i: 'x'"). Strings in *ret point into argv. getopt's state is
 * reset before and left behind. */
int gpt_cgpt_parse(int argc, char **argv, struct gpt_cgpt_args *ret, struct problem_list *reterr);
/* The command table entry of a name, or NULL. */
const struct gpt_cgpt_command *gpt_cgpt_command_find(const char *name);

/* `cgpt add` on the working table (§9.2), in cgpt's order: attributes, first LBA, size (the
 * end is first + size - 1, with the new first when both are given), unique GUID (a random one
 * for a slot that was unused and no -u), type, label. A slot that was unused needs -b, -s and
 * -t. The result must keep the table valid (gpt_entry_replace). Returns the slot changed, or
 * -errno with a problem (-ENOSPC no unused slot, -ERANGE slot out of range, -EINVAL). */
int gpt_cgpt_add(struct gpt *g, const struct gpt_cgpt_add_args *a, struct problem_list *reterr);
