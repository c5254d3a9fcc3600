/* SPDX-License-Identifier: MIT */
/* lib/update/lock.c - the exclusive operation lock of docs/update.md 7.4 (flock on a file that
 * also names its holder). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "fs/fs.h"
#include "update/state.h"

static pid_t read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	long v = strtol(buf, NULL, 10);
	return v > 0 ? (pid_t)v : 0;
}

int update_lock_take(int root_fd, uint64_t wait_usec, int *ret_fd, pid_t *ret_holder)
{
	_cleanup_close_ int fd = -1;
	uint64_t waited = 0;
	int r;

	r = fs_mkdir_p(root_fd, UPDATE_STATE_DIR, 0711);
	if (r < 0)
		return r;
	fd = fs_open(root_fd, UPDATE_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fd;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (waited >= wait_usec) {
			if (ret_holder)
				*ret_holder = read_holder(fd);
			return -EBUSY;
		}
		/* Poll: flock has no timed wait, and a 100 ms step is far below any --wait. */
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		(void)nanosleep(&ts, NULL);
		waited += 100 * 1000;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	*ret_fd = TAKE_FD(fd);
	return 0;
}
