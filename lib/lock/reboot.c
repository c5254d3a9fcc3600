/* SPDX-License-Identifier: MIT */
/* lib/lock/reboot.c - the reboot manager's contacts with the rest of the system
 * (docs/reboot-lock.md 7.2, 7.5, 7.7): update state, update_engine on D-Bus, utmp, hooks,
 * logind. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>
#include <utmp.h>

#include "bus/update1.h"
#include "fs/fs.h"
#include "lock/lock.h"
#include "lock/reboot.h"


int lock_update_state_parse(const char *data, size_t size, bool *ret_need_reboot,
			    char **ret_version, struct problem_list *reterr)
{
	json_error_t err;
	json_auto_t *j = json_loadb(data, size, 0, &err);
	json_t *st, *staged, *v;

	if (!j)
		return problem_add(reterr, -EBADMSG, NULL, "invalid JSON: %s", err.text);
	if (!json_is_object(j))
		return problem_add(reterr, -EBADMSG, "", "not a JSON object");
	st = json_object_get(j, "status");
	if (!json_is_string(st))
		return problem_add(reterr, -EBADMSG, "/status", "not a string");
	*ret_need_reboot = strcmp(json_string_value(st), "UPDATE_STATUS_UPDATED_NEED_REBOOT") == 0;
	*ret_version = NULL;
	staged = json_object_get(j, "staged");
	v = json_is_object(staged) ? json_object_get(staged, "version") : NULL;
	if (json_is_string(v) && !(*ret_version = strdup(json_string_value(v))))
		return -ENOMEM;
	return 0;
}

int lock_update_state_read(int root_fd, bool *ret_need_reboot, char **ret_version)
{
	_cleanup_free_ char *data = NULL;
	size_t n;
	int r = fs_read_file(root_fd, LOCK_UPDATE_STATE, 1 << 20, &data, &n);
	if (r == -ENOENT) {
		*ret_need_reboot = false;
		*ret_version = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	return lock_update_state_parse(data, n, ret_need_reboot, ret_version, NULL);
}

int lock_update_engine_status(sd_bus *bus, bool *ret_need_reboot, char **ret_version)
{
	struct bus_update1_status st;
	int r = bus_update1_get_status(bus, &st);
	if (r < 0)
		return r; /* no engine, or a wrong body: the caller skips this source */
	return lock_update_engine_parse(&st, ret_need_reboot, ret_version);
}

int lock_update_engine_parse(const struct bus_update1_status *st, bool *ret_need_reboot,
			     char **ret_version)
{
	*ret_need_reboot = strcmp(st->current_operation, "UPDATE_STATUS_UPDATED_NEED_REBOOT") == 0;
	*ret_version = NULL;
	/* update_engine says 0.0.0 for "none" */
	if (*st->new_version && strcmp(st->new_version, "0.0.0") != 0 &&
	    !(*ret_version = strdup(st->new_version)))
		return -ENOMEM;
	return 0;
}

int lock_send_need_reboot(int root_fd, sd_bus *bus)
{
	/* the signal locksmithctl sends (locksmithd listens for StatusUpdate from anyone) */
	struct bus_update1_status st = { .current_operation = "UPDATE_STATUS_UPDATED_NEED_REBOOT" };
	int r = fs_mkdir_p(root_fd, "/run/flatctl", 0755);
	if (r >= 0)
		r = fs_write_atomic(root_fd, LOCK_TRIGGER_FILE, "", 0, 0644);
	if (r < 0)
		return r;
	if (!bus)
		return 0;
	r = bus_update1_emit(bus, &st);
	if (r >= 0)
		r = sd_bus_flush(bus);
	return r < 0 ? -ENOTCONN : 1;
}

int lock_count_logins(int root_fd, const char *path, size_t *ret)
{
	_cleanup_free_ char *data = NULL;
	size_t n, count = 0;
	int r = fs_read_file(root_fd, path, 16 << 20, &data, &n);
	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	for (size_t off = 0; off + sizeof(struct utmp) <= n; off += sizeof(struct utmp)) {
		struct utmp u;
		memcpy(&u, data + off, sizeof(u));
		if (u.ut_type == USER_PROCESS && u.ut_user[0])
			count++;
	}
	*ret = count;
	return 0;
}

int lock_run_hook(const char *cmd, char *const *env, uint64_t timeout_usec,
		  volatile const int *stop, void (*tick)(void *), void *userdata)
{
	uint64_t start = lock_now_usec(), term_at = 0;
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (char *const *e = env; e && *e; e++)
			(void)putenv(*e);
		(void)dup2(STDERR_FILENO, STDOUT_FILENO);
		(void)setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		uint64_t now = lock_now_usec();
		if (!term_at && ((timeout_usec && now - start >= timeout_usec) || (stop && *stop))) {
			(void)kill(-pid, SIGTERM);
			(void)kill(pid, SIGTERM);
			term_at = now;
		} else if (term_at && now - term_at >= 10000000) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
		}
		if (tick)
			tick(userdata);
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		(void)nanosleep(&ts, NULL);
	}
	if (term_at)
		return -ETIMEDOUT;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int lock_logind_reboot(char *errbuf, size_t errlen)
{
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(errbuf, errlen, "connecting to the system bus: %s", strerror(-r));
		return r;
	}
	r = sd_bus_call_method(bus, "org.freedesktop.login1", "/org/freedesktop/login1",
			       "org.freedesktop.login1.Manager", "Reboot", &error, NULL, "b", 0);
	if (r < 0)
		snprintf(errbuf, errlen, "%s", error.message ? error.message : strerror(-r));
	sd_bus_error_free(&error);
	return r;
}
