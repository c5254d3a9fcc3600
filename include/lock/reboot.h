/* SPDX-License-Identifier: MIT */
/* include/lock/reboot.h - what the reboot manager reads and runs (docs/reboot-lock.md 7):
 * the update state file, the trigger file, logged-in users, hooks, the logind call. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-bus.h>

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

struct bus_update1_status;
/* Ask com.coreos.update1.Manager.GetStatus on bus (7.2 source 2). A negative errno when there is
 * no update engine or its answer has a wrong body: callers skip this source silently. */
int lock_update_engine_status(sd_bus *bus, bool *ret_need_reboot, char **ret_version);
/* The same from a StatusUpdate signal's body; *ret_version NULL for "0.0.0" or "". */
int lock_update_engine_parse(const struct bus_update1_status *st, bool *ret_need_reboot,
			     char **ret_version);
/* send-need-reboot (7.2 source 3): create the trigger file under the root, and when bus is not
 * NULL emit StatusUpdate(UPDATE_STATUS_UPDATED_NEED_REBOOT) as locksmithctl does. Returns 1 when
 * the signal went out, 0 when only the file was made, -ENOTCONN when the file was made but the
 * signal failed, other -errno when the file could not be made. */
int lock_send_need_reboot(int root_fd, sd_bus *bus);

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
