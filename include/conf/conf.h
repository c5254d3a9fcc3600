/* SPDX-License-Identifier: MIT */
/* include/conf/conf.h - env-style KEY=value files: os-release, /usr/share/flatcar/release,
 * update.conf (os-release(5) quoting; docs/update.md 3.1). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/cleanup.h"

struct problem_list;

/* Largest file conf_load() reads; beyond it the file is refused with -EFBIG. */
#define CONF_MAX_SIZE ((size_t)64 * 1024)

struct conf_entry {
	char *key;
	char *value;
	char *file;    /* the file (or name) it came from, e.g. "/etc/flatcar/update.conf" */
	unsigned line; /* 1-based */
};

/* How values are unquoted. CONF_SHELL (the default): os-release(5) rules, described at
 * conf_parse(). CONF_SIMPLE: docs/update.md 3.1 for update.conf and the release file: the
 * trimmed value, with one pair of matching single or double quotes around it removed; quotes and
 * backslashes inside are plain characters (hooks such as `REBOOT_POST_HOOK=echo a >"f"`). */
enum conf_syntax {
	CONF_SHELL = 0,
	CONF_SIMPLE,
};

/* Keys in first-seen order; a later assignment of a key replaces the value in place. */
struct conf {
	struct conf_entry *item;
	size_t n;
	size_t allocated;
	enum conf_syntax syntax; /* set before the first parse */
};

/* Parse TEXT (SIZE bytes, need not be NUL-terminated) into c, adding to what is there (a key
 * already present is overridden). Syntax: one KEY=VALUE per line; blank lines and lines whose
 * first non-blank is '#' are skipped; whitespace around key and value is trimmed; a value may be
 * wholly in single quotes (taken literally) or double quotes (backslash escapes \\ \" \$ \`
 * and a backslash before any other character is kept); an unquoted value may use backslash to
 * escape the next character. KEY is [A-Za-z_][A-Za-z0-9_]*. A bad line (no '=', invalid key,
 * unterminated quote, text after the closing quote, NUL byte) is skipped and reported to reterr
 * as a warning with NAME as location and its line number. Returns the number of skipped lines
 * (>= 0) or -ENOMEM. */
int conf_parse(struct conf *c, const char *text, size_t size, const char *name,
	       struct problem_list *reterr);

/* Read PATH inside the root (lib/fs, at most CONF_MAX_SIZE bytes) and parse it as above.
 * Returns skipped lines (>= 0), -ENOENT when the file is missing, -EFBIG when too large (also
 * reported to reterr), other -errno. */
int conf_load(struct conf *c, int root_fd, const char *path, struct problem_list *reterr);

/* update.conf as update_engine and locksmithd read it (switches c to CONF_SIMPLE): /usr/share/flatcar/update.conf, then
 * /etc/flatcar/update.conf (or the legacy /etc/coreos/update.conf when that is absent)
 * overriding it key by key. Missing files are fine. Returns skipped lines or -errno. */
int conf_load_update(struct conf *c, int root_fd, struct problem_list *reterr);

/* os-release(5): /etc/os-release, or /usr/lib/os-release when the first is absent. Returns
 * skipped lines, -ENOENT when neither exists, other -errno. */
int conf_load_os_release(struct conf *c, int root_fd, struct problem_list *reterr);

/* The value of KEY, or NULL when unset. The entry variant also tells file and line. */
const char *conf_get(const struct conf *c, const char *key);
const struct conf_entry *conf_get_entry(const struct conf *c, const char *key);

/* Set KEY to VALUE (both copied), replacing an existing value. FILE may be NULL.
 * Returns 0 or -ENOMEM. */
int conf_set(struct conf *c, const char *key, const char *value, const char *file, unsigned line);

/* True when KEY is a valid variable name. */
bool conf_key_valid(const char *key, size_t len);

void conf_release(struct conf *c);
