/* SPDX-License-Identifier: MIT */
/* include/lock/reboot.h - what the reboot manager reads and runs (spec/reboot-lock.md 7):
 * the update state file, the trigger file, logged-in users, hooks, the logind call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/problem.h"

#define LOCK_UPDATE_STATE "/var/lib/flatctl/update/state.json"
#define LOCK_TRIGGER_FILE "/run/flatctl/reboot-needed"
#define LOCK_DRY_RUN_LOG "/var/lib/flatctl/reboot-manager/dry-run-reboots"
#define LOCK_COORDINATOR "/run/update-engine/coordinator.conf"

/* Parse state.json text (update.md 7.2): *ret_need_reboot when status is
 * UPDATE_STATUS_UPDATED_NEED_REBOOT; *ret_version the staged version or NULL. */
int lock_update_state_parse(const char *data, size_t size, bool *ret_need_reboot,
			    char **ret_version, struct problem_list *reterr);
/* Read it under the root; a missing file is "no reboot needed" (0). */
int lock_update_state_read(int root_fd, bool *ret_need_reboot, char **ret_version);

/* Ask com.coreos.update1.Manager.GetStatus on the system bus. -ENOENT/-ECONNREFUSED etc. when
 * there is no bus or no update engine: callers skip this source silently. */
int lock_update_engine_status(bool *ret_need_reboot, char **ret_version);

/* Number of USER_PROCESS entries in the utmp file at path under the root (0 if missing). */
int lock_count_logins(int root_fd, const char *path, size_t *ret);

/* Run `sh -c cmd` with extra environment (NULL-terminated "K=V" list); stdout goes to stderr.
 * After timeout_usec (0 = none) SIGTERM, 10 s later SIGKILL. Returns the exit status (>= 0),
 * -ETIMEDOUT, or -errno. *stop is polled: when it becomes true the hook is terminated. tick (may
 * be NULL) is called about every 20 ms while the hook runs (lease refreshes). */
int lock_run_hook(const char *cmd, char *const *env, uint64_t timeout_usec,
		  volatile const int *stop, void (*tick)(void *), void *userdata);

/* org.freedesktop.login1.Manager.Reboot(false) on the system bus. */
int lock_logind_reboot(char *errbuf, size_t errlen);
