/* SPDX-License-Identifier: MIT */
/* include/lock/conf.h - update.conf (KEY=VALUE, spec/update.md 3.1) as read by lock and
 * reboot-manager (spec/reboot-lock.md 7.1).
 * TODO(lock): fold into the shared update.conf parser once spec/update.md's lands. */
#pragma once

#include <stddef.h>

#include "util/problem.h"

struct lock_conf_item {
	char *key, *value;
	const char *file; /* static: which file it came from */
};

struct lock_conf {
	struct lock_conf_item *item;
	size_t n;
};

/* Parse one file's text; later keys replace earlier ones. Malformed lines become warnings
 * ("FILE:LINE"); never fails except -ENOMEM. */
int lock_conf_parse(struct lock_conf *c, const char *data, size_t size, const char *file,
		    struct problem_list *reterr);
/* /usr/share/flatcar/update.conf, then /etc/flatcar/update.conf (or /etc/coreos/update.conf). */
int lock_conf_load(struct lock_conf *c, int root_fd, struct problem_list *reterr);
const char *lock_conf_get(const struct lock_conf *c, const char *key, const char **ret_file);
void lock_conf_release(struct lock_conf *c);
