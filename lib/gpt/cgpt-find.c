/* SPDX-License-Identifier: MIT */
/* lib/gpt/cgpt-find.c - the disks `cgpt find` scans when no DRIVE is given: the whole disks of
 * /proc/partitions: docs/partitions.md §9.4. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpt/cgpt-find.h"
#include "util/cleanup.h"

#define NAME_MAX_LEN 127

char **gpt_cgpt_names_free(char **names)
{
	for (size_t i = 0; names && names[i]; i++)
		free(names[i]);
	free(names);
	return NULL;
}

static void names_freep(char ***p)
{
	*p = gpt_cgpt_names_free(*p);
}

/* The NAME of one "MAJOR MINOR BLOCKS NAME" line into name, or false. */
static bool parse_line(const char *line, size_t len, char name[NAME_MAX_LEN + 1])
{
	size_t i = 0;

	for (int field = 0; field < 3; field++) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		size_t start = i;
		while (i < len && line[i] >= '0' && line[i] <= '9')
			i++;
		if (i == start || i == len || (line[i] != ' ' && line[i] != '\t'))
			return false;
	}
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	size_t start = i;
	while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
		i++;
	size_t n = i - start;
	if (n == 0 || n > NAME_MAX_LEN || memchr(line + start, '/', n) ||
	    memchr(line + start, 0, n))
		return false;
	if (n == 1 && line[start] == '.')
		return false;
	if (n == 2 && line[start] == '.' && line[start + 1] == '.')
		return false;
	memcpy(name, line + start, n);
	name[n] = 0;
	return true;
}

int gpt_cgpt_whole_disks(const char *text, size_t size, char ***ret)
{
	_cleanup_(names_freep) char **out = calloc(1, sizeof(char *));
	char prev[NAME_MAX_LEN + 1] = "", name[NAME_MAX_LEN + 1];
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (size_t pos = 0; pos < size;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - line) : size - pos;
		pos += len + (nl ? 1 : 0);
		if (!parse_line(line, len, name))
			continue;
		size_t pl = strlen(prev);
		if (pl && strncmp(prev, name, pl) == 0 && name[pl] &&
		    (n == 0 || strcmp(out[n - 1], prev) != 0)) {
			char **grown = realloc(out, (n + 2) * sizeof(char *));
			if (!grown)
				return -ENOMEM;
			out = grown;
			out[n] = strdup(prev);
			out[n + 1] = NULL;
			if (!out[n])
				return -ENOMEM;
			n++;
		}
		memcpy(prev, name, strlen(name) + 1);
	}
	*ret = TAKE_PTR(out);
	return 0;
}
