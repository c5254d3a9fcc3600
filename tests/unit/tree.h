/* SPDX-License-Identifier: MIT */
/* tests/unit/tree.h - scratch roots for unit tests: a new directory under /tmp, files put into it
 * through lib/fs (so inside the root, parents made), and removed at the end. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"

/* A new directory /tmp/flatctl-unit-NAME-XXXXXX (malloc'd path), or NULL. */
static inline char *unit_mktree(const char *name)
{
	char tmpl[256];
	snprintf(tmpl, sizeof(tmpl), "/tmp/flatctl-unit-%s-XXXXXX", name);
	char *d = mkdtemp(tmpl);
	return d ? strdup(d) : NULL;
}

static inline void unit_rmtree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

/* text into path (absolute, inside root), its directories made 0755. */
static inline int unit_put(int root, const char *path, const char *text)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = 0;
	int r = fs_mkdir_p(root, dir, 0755);
	return r < 0 ? r : fs_write_atomic(root, path, text, strlen(text), 0644);
}
