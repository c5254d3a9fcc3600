/* SPDX-License-Identifier: MIT */
/* include/diag/config.h - mayday's configuration format for `flatctl diag` (docs/diag.md §3.3):
 * {"files": [{"name", "link"}], "directories": [...], "commands": [{"args", "link"}],
 * "builtin": bool}. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct problem_list;

#define DIAG_CONFIG_MAX_SIZE ((size_t)1 << 20)
#define DIAG_LINK_MAX 128u

struct diag_path_spec {
	char *name; /* a path, taken inside the root */
	char *link; /* a top-level symlink name, or NULL */
};

struct diag_command_spec {
	char **args; /* n_args strings, NULL-terminated */
	size_t n_args;
	char *link;
};

struct diag_config {
	struct diag_path_spec *files;
	size_t n_files;
	struct diag_path_spec *dirs;
	size_t n_dirs;
	struct diag_command_spec *cmds;
	size_t n_cmds;
	bool builtin; /* the built-in collectors run as well (default true) */
	char *source; /* where it came from ("etc/mayday/default.json"), NULL: built in */
};

/* Parse a config document. NAME labels the problems. Invalid JSON: -EINVAL with one problem
 * carrying jansson's line, column and text; an item of the wrong shape: -EINVAL with its JSON
 * pointer (/commands/3/args); unknown keys: warnings. On success *ret is filled (release it). */
int diag_config_parse(const char *data, size_t size, const char *name, struct diag_config *ret,
		      struct problem_list *reterr);

/* Find and parse the configuration in the order of docs/diag.md §3.3: file (a host path taken as
 * given) or profile NAME (etc/flatctl/diag.d/NAME.json, etc/mayday/NAME.json,
 * usr/share/mayday/NAME.json), else etc/flatctl/diag.json, etc/mayday/default.json,
 * usr/share/mayday/default.json. Returns 1 when a file was used, 0 when none exists (*ret is
 * then empty with builtin set: the default collection applies), -ENOENT for a missing --config
 * file or profile, -EINVAL for an invalid one, other -errno. */
int diag_config_load(int root_fd, const char *file, const char *profile, struct diag_config *ret,
		     struct problem_list *reterr);

void diag_config_release(struct diag_config *c);

/* A link name mayday could create at the top of the bundle: no '/', not "." or "..", no control
 * characters, at most DIAG_LINK_MAX bytes. */
bool diag_link_name_valid(const char *s);
