/* SPDX-License-Identifier: MIT */
/* lib/diag/config.c - the diag configuration (mayday's format; docs/diag.md §3.3). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag/config.h"
#include "fs/fs.h"
#include "util/problem.h"

void diag_config_release(struct diag_config *c)
{
	for (size_t i = 0; i < c->n_files; i++) {
		free(c->files[i].name);
		free(c->files[i].link);
	}
	for (size_t i = 0; i < c->n_dirs; i++) {
		free(c->dirs[i].name);
		free(c->dirs[i].link);
	}
	for (size_t i = 0; i < c->n_cmds; i++) {
		for (size_t j = 0; j < c->cmds[i].n_args; j++)
			free(c->cmds[i].args[j]);
		free(c->cmds[i].args);
		free(c->cmds[i].link);
	}
	free(c->files);
	free(c->dirs);
	free(c->cmds);
	free(c->source);
	*c = (struct diag_config){ .builtin = true };
}

bool diag_link_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DIAG_LINK_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int parse_link(json_t *item, const char *where, char **ret, struct problem_list *reterr)
{
	json_t *l = json_object_get(item, "link");
	char ptr[96];

	if (!l || json_is_null(l))
		return 0;
	snprintf(ptr, sizeof(ptr), "%s/link", where);
	if (!json_is_string(l))
		return problem_add(reterr, -EINVAL, ptr, "must be a string");
	if (!diag_link_name_valid(json_string_value(l)))
		return problem_add(reterr, -EINVAL, ptr,
				   "not a usable link name (no '/', not '.' or '..', 1-%u bytes)",
				   DIAG_LINK_MAX);
	*ret = strdup(json_string_value(l));
	return *ret ? 0 : -ENOMEM;
}

static void unknown_keys(json_t *obj, const char *where, const char *const *known,
			 struct problem_list *reterr)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			if (strcmp(k, known[i]) == 0)
				ok = true;
		if (!ok)
			(void)problem_warn(reterr, where, "unknown key '%s' ignored", k);
	}
}

static int parse_paths(json_t *arr, const char *key, struct diag_path_spec **ret, size_t *ret_n,
		       struct problem_list *reterr)
{
	static const char *const known[] = { "name", "link", NULL };
	char where[96];
	size_t i;
	json_t *item;
	int r = 0;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		snprintf(where, sizeof(where), "/%s", key);
		return problem_add(reterr, -EINVAL, where, "must be an array");
	}
	*ret = calloc(json_array_size(arr) + 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	json_array_foreach(arr, i, item) {
		snprintf(where, sizeof(where), "/%s/%zu", key, i);
		if (!json_is_object(item)) {
			r = problem_add(reterr, -EINVAL, where, "must be an object");
			continue;
		}
		unknown_keys(item, where, known, reterr);
		json_t *name = json_object_get(item, "name");
		char nptr[128];
		snprintf(nptr, sizeof(nptr), "%s/name", where);
		if (!json_is_string(name) || !*json_string_value(name)) {
			r = problem_add(reterr, -EINVAL, nptr, "must be a non-empty string");
			continue;
		}
		if (memchr(json_string_value(name), 0, json_string_length(name))) {
			r = problem_add(reterr, -EINVAL, nptr, "must not contain NUL");
			continue;
		}
		struct diag_path_spec *p = &(*ret)[*ret_n];
		int k = parse_link(item, where, &p->link, reterr);
		if (k < 0) {
			r = k;
			continue;
		}
		p->name = strdup(json_string_value(name));
		(*ret_n)++;
		if (!p->name)
			return -ENOMEM;
	}
	return r;
}

static int parse_commands(json_t *arr, struct diag_config *c, struct problem_list *reterr)
{
	static const char *const known[] = { "args", "link", NULL };
	char where[96];
	size_t i;
	json_t *item;
	int r = 0;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return problem_add(reterr, -EINVAL, "/commands", "must be an array");
	c->cmds = calloc(json_array_size(arr) + 1, sizeof(*c->cmds));
	if (!c->cmds)
		return -ENOMEM;
	json_array_foreach(arr, i, item) {
		snprintf(where, sizeof(where), "/commands/%zu", i);
		if (!json_is_object(item)) {
			r = problem_add(reterr, -EINVAL, where, "must be an object");
			continue;
		}
		unknown_keys(item, where, known, reterr);
		json_t *args = json_object_get(item, "args");
		char aptr[128];
		snprintf(aptr, sizeof(aptr), "%s/args", where);
		if (!json_is_array(args) || json_array_size(args) == 0) {
			r = problem_add(reterr, -EINVAL, aptr, "must be a non-empty array of strings");
			continue;
		}
		bool bad = false;
		size_t j;
		json_t *a;
		json_array_foreach(args, j, a) {
			if (!json_is_string(a) || memchr(json_string_value(a), 0, json_string_length(a)) ||
			    (j == 0 && !*json_string_value(a))) {
				char ptr[160];
				snprintf(ptr, sizeof(ptr), "%s/%zu", aptr, j);
				r = problem_add(reterr, -EINVAL, ptr,
						j == 0 ? "must be a non-empty string (the program)"
						       : "must be a string");
				bad = true;
				break;
			}
		}
		if (bad)
			continue;
		struct diag_command_spec *cs = &c->cmds[c->n_cmds];
		int k = parse_link(item, where, &cs->link, reterr);
		if (k < 0) {
			r = k;
			continue;
		}
		c->n_cmds++;
		cs->args = calloc(json_array_size(args) + 1, sizeof(char *));
		if (!cs->args)
			return -ENOMEM;
		json_array_foreach(args, j, a) {
			cs->args[j] = strdup(json_string_value(a));
			if (!cs->args[j])
				return -ENOMEM;
			cs->n_args++;
		}
	}
	return r;
}

static int add_at(struct problem_list *reterr, const char *where, unsigned line,
		  unsigned column, const char *fmt, ...) _printf_(5, 6);
static int add_at(struct problem_list *reterr, const char *where, unsigned line,
		  unsigned column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = problem_addv(reterr, PROBLEM_ERROR, -EINVAL, where, line, column, NULL, fmt, ap);
	va_end(ap);
	return r;
}

int diag_config_parse(const char *data, size_t size, const char *name, struct diag_config *ret,
		      struct problem_list *reterr)
{
	static const char *const known[] = { "files", "directories", "commands", "builtin", NULL };
	_cleanup_(diag_config_release) struct diag_config c = { .builtin = true };
	json_error_t err;
	int r = 0, k;

	json_auto_t *doc = json_loadb(data, size, 0, &err);
	if (!doc)
		return add_at(reterr, name, (unsigned)(err.line > 0 ? err.line : 0),
			      (unsigned)(err.column > 0 ? err.column : 0), "invalid JSON: %s",
			      err.text);
	if (!json_is_object(doc))
		return problem_add(reterr, -EINVAL, "", "must be an object");
	unknown_keys(doc, "", known, reterr);
	if ((k = parse_paths(json_object_get(doc, "files"), "files", &c.files, &c.n_files,
			     reterr)) < 0)
		r = k;
	if ((k = parse_paths(json_object_get(doc, "directories"), "directories", &c.dirs,
			     &c.n_dirs, reterr)) < 0)
		r = k;
	if ((k = parse_commands(json_object_get(doc, "commands"), &c, reterr)) < 0)
		r = k;
	json_t *b = json_object_get(doc, "builtin");
	if (b && !json_is_null(b)) {
		if (!json_is_boolean(b))
			r = problem_add(reterr, -EINVAL, "/builtin", "must be true or false");
		else
			c.builtin = json_is_true(b);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EINVAL;
	*ret = c;
	c = (struct diag_config){};
	return 0;
}

static int load_one(int root_fd, const char *path, bool in_root, struct diag_config *ret,
		    struct problem_list *reterr)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r;

	if (in_root)
		r = fs_read_file(root_fd, path, DIAG_CONFIG_MAX_SIZE, &data, &n);
	else {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		r = fd < 0 ? -errno : fs_read_fd(fd, DIAG_CONFIG_MAX_SIZE, &data, &n);
	}
	if (r < 0)
		return r;
	r = diag_config_parse(data, n, path, ret, reterr);
	if (r < 0)
		return r;
	ret->source = strdup(path);
	return ret->source ? 1 : -ENOMEM;
}

int diag_config_load(int root_fd, const char *file, const char *profile, struct diag_config *ret,
		     struct problem_list *reterr)
{
	static const char *const defaults[] = { "etc/flatctl/diag.json", "etc/mayday/default.json",
						"usr/share/mayday/default.json" };
	static const char *const profile_dirs[] = { "etc/flatctl/diag.d", "etc/mayday",
						    "usr/share/mayday" };
	int r;

	*ret = (struct diag_config){ .builtin = true };
	if (file) {
		r = load_one(root_fd, file, false, ret, reterr);
		if (r < 0 && r != -EINVAL && r != -ENOMEM)
			(void)problem_add(reterr, r, file, "cannot read the config file");
		return r;
	}
	if (profile) {
		if (!*profile || strchr(profile, '/') || profile[0] == '.')
			return problem_add(reterr, -EINVAL, profile, "not a profile name");
		for (size_t i = 0; i < ARRAY_SIZE(profile_dirs); i++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/%s.json", profile_dirs[i], profile);
			r = load_one(root_fd, path, true, ret, reterr);
			if (r != -ENOENT)
				return r;
		}
		return problem_add(reterr, -ENOENT, profile,
				   "no profile '%s' (looked for %s.json in etc/flatctl/diag.d, "
				   "etc/mayday and usr/share/mayday)",
				   profile, profile);
	}
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		r = load_one(root_fd, defaults[i], true, ret, reterr);
		if (r != -ENOENT)
			return r;
	}
	return 0;
}
