/* SPDX-License-Identifier: MIT */
/* include/update/metrics.h - the update state as Prometheus metrics (docs/update.md 9.1). */
#pragma once

#include <stddef.h>

struct update_state;

/* The name node_exporter's textfile collector reads in the directory of --textfile. */
#define UPDATE_METRICS_TEXTFILE "flatctl_update.prom"

/* The metrics of state s in Prometheus' text exposition format (version 0.0.4), every family
 * with HELP and TYPE, label values escaped. current_version: the running OS's version, NULL when
 * unknown. *ret is NUL-terminated and owned by the caller; set only on success. */
int update_metrics_render(const struct update_state *s, const char *current_version, char **ret,
			  size_t *ret_size);

/* Writes data to DIR/flatctl_update.prom atomically: a hidden temporary file in dir (a name the
 * collector's *.prom glob skips), fsync, mode 0644, rename, fsync of dir. dir is an ordinary
 * path, not resolved under --root. -ENOTDIR: dir is not a directory. */
int update_metrics_write_textfile(const char *dir, const char *data, size_t size);
