/* SPDX-License-Identifier: MIT */
/* lib/util/spawn.c - run a program (include/util/spawn.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/spawn.h"

extern char **environ;

static uint64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The program to start: exe, argv[0] when it holds a '/', else the first executable regular
 * file named argv[0] in PATH. Looked up here rather than left to posix_spawnp, so that a
 * missing program is -ENOENT wherever flatctl runs: where vfork is emulated by fork (qemu-user),
 * a failed exec in the child only shows as exit status 127. */
static int find_program(const char *exe, const char *name, char *buf, size_t size,
			const char **ret)
{
	struct stat st;

	if (exe || strchr(name, '/')) {
		const char *p = exe ? exe : name;
		if (stat(p, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EACCES;
		if (access(p, X_OK) < 0)
			return -errno;
		*ret = p;
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	size_t nl = strlen(name);
	for (const char *d = path; *d;) {
		const char *e = strchrnul(d, ':');
		size_t dl = (size_t)(e - d);
		if (dl == 0) /* an empty element is the working directory */
			dl = 1, d = ".";
		if (dl + 1 + nl + 1 <= size) {
			memcpy(buf, d, dl);
			buf[dl] = '/';
			memcpy(buf + dl + 1, name, nl + 1);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
				*ret = buf;
				return 0;
			}
		}
		d = *e ? e + 1 : e;
	}
	return -ENOENT;
}

int spawn_run(const char *exe, char *const *argv, const char *cwd, uint64_t timeout_usec,
	     size_t cap, struct dbuf *out, struct spawn_result *res)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all_default;
	int pfd[2];
	pid_t pid;
	int r;

	*res = (struct spawn_result){ .exit_status = -1 };
	char found[PATH_MAX];
	const char *prog;
	r = find_program(exe, argv[0], found, sizeof(found), &prog);
	if (r < 0)
		return r;
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&all_default);
	sigaddset(&all_default, SIGPIPE);
	sigaddset(&all_default, SIGTERM);
	sigaddset(&all_default, SIGINT);
	sigaddset(&all_default, SIGCHLD);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all_default);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, prog, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return -r;
	}

	uint64_t start = now_usec(), killed_at = 0, exited_at = 0;
	bool open = true, exited = false;
	int status = 0;
	char buf[65536];
	while (open || !exited) {
		uint64_t now = now_usec();
		if (!killed_at && timeout_usec && now - start >= timeout_usec) {
			res->timed_out = true;
			(void)kill(-pid, SIGTERM);
			killed_at = now;
		} else if (killed_at && now - killed_at >= 2000000 && killed_at != (uint64_t)-1) {
			(void)kill(-pid, SIGKILL);
			killed_at = (uint64_t)-1;
		}
		if (!exited) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				exited = true;
				exited_at = now;
			}
		}
		/* the main process is gone but something it started still holds the pipe */
		if (exited && open && now - exited_at > 200000) {
			(void)kill(-pid, SIGKILL);
			break;
		}
		if (!open) {
			if (!exited)
				usleep(10000);
			continue;
		}
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int k = poll(&p, 1, 50);
		if (k <= 0)
			continue;
		ssize_t n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			open = false;
			continue;
		}
		size_t keep = out->n < cap ? cap - out->n : 0;
		if ((size_t)n > keep) {
			res->truncated = true;
			res->dropped += (uint64_t)n - keep;
		}
		dbuf_append(out, buf, (size_t)n < keep ? (size_t)n : keep);
	}
	close(pfd[0]);
	if (WIFEXITED(status))
		res->exit_status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->exit_status = 128 + WTERMSIG(status);
	return 0;
}
