/* SPDX-License-Identifier: MIT */
/* lib/gpt/disk.c - opening (creating, extending) and locking a disk, committing a table and LBA 0,
 * finding the disk (libblkid), and which USR partition is booted; docs/partitions.md §7.3,
 * §8.6, §8.7, §9.7. */
#include <blkid/blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "fs/fs.h"
#include "gpt/gpt.h"
#include "util/problem.h"

struct gpt_disk *gpt_disk_free(struct gpt_disk *d)
{
	if (!d)
		return NULL;
	if (d->fd >= 0)
		(void)close(d->fd); /* drops the flock */
	gpt_free(d->gpt);
	free(d->new_mbr);
	free(d->path);
	free(d);
	return NULL;
}

/* Read /sys/dev/block/MAJ:MIN/partition; 0 when not a partition. */
static unsigned sys_partition_nr(dev_t devno)
{
	char p[96];
	unsigned nr = 0;

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/partition", major(devno), minor(devno));
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	if (!f || fscanf(f, "%u", &nr) != 1)
		return 0;
	return nr;
}

int gpt_partition_device(const char *path, char **ret_disk, unsigned *ret_nr)
{
	struct stat st;
	dev_t disk = 0;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	unsigned nr = sys_partition_nr(st.st_rdev);
	if (!nr)
		return -ENOTBLK;
	if (blkid_devno_to_wholedisk(st.st_rdev, NULL, 0, &disk) < 0 || disk == st.st_rdev)
		return -ENOTBLK;
	char *name = blkid_devno_to_devname(disk);
	if (!name)
		return -ENODEV;
	if (ret_disk)
		*ret_disk = name;
	else
		free(name);
	if (ret_nr)
		*ret_nr = nr;
	return 0;
}

static int lock_fd(int fd)
{
	/* §7.3: every 100 ms for 5 s. */
	for (int i = 0; i < 50; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		(void)nanosleep(&ts, NULL);
	}
	return -EBUSY;
}

/* cgpt create -c / -s: create a missing image file, extend a short one (sparse), refuse a short
 * block device. Runs before the disk is opened for the read-modify-write cycle. */
static int prepare_size(const char *path, unsigned flags, uint64_t min_bytes,
			struct problem_list *reterr)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !(flags & GPT_DISK_CREATE))
			return problem_add(reterr, errno == ENOENT ? -ENOENT : -errno, path, "%s",
					   errno == ENOENT ? "no such file or device"
							   : strerror(errno));
		_cleanup_close_ int fd =
			open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0666);
		if (fd < 0)
			return problem_add(reterr, -errno, path, "creating: %s", strerror(errno));
		if (fstat(fd, &st) < 0)
			return -errno;
	}
	if (S_ISREG(st.st_mode) && min_bytes > (uint64_t)st.st_size) {
		_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || ftruncate(fd, (off_t)min_bytes) < 0)
			return problem_add(
				reterr, errno == EACCES || errno == EROFS ? -EROFS : -errno, path,
				"extending to %" PRIu64 " bytes: %s", min_bytes, strerror(errno));
	}
	return 0;
}

int gpt_disk_open_sized(const char *path, unsigned flags, uint64_t min_bytes, struct gpt_disk **ret,
			struct problem_list *reterr)
{
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	struct stat st;
	int r;

	if (!path || !*path)
		return problem_add(reterr, -EINVAL, NULL, "no disk given");
	if ((flags & GPT_DISK_CREATE) || min_bytes) {
		r = prepare_size(path, flags, min_bytes, reterr);
		if (r < 0)
			return r;
	}
	if (stat(path, &st) < 0)
		return problem_add(reterr, errno == ENOENT ? -ENOENT : -errno, path, "%s",
				   errno == ENOENT ? "no such file or device" : strerror(errno));
	if (S_ISDIR(st.st_mode))
		return problem_add(reterr, -EISDIR, path, "is a directory");
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return problem_add(reterr, -ENODEV, path, "not a block device or regular file");

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	if (S_ISBLK(st.st_mode)) {
		char *disk = NULL;
		unsigned nr = 0;
		d->is_blockdev = true;
		if (gpt_partition_device(path, &disk, &nr) == 0) {
			d->path = disk;
			d->partition_nr = nr;
		}
	}
	if (!d->path) {
		d->path = strdup(path);
		if (!d->path)
			return -ENOMEM;
	}
	d->fd = open(d->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (d->fd < 0)
		return problem_add(reterr, -errno, d->path, "opening: %s", strerror(errno));
	if (flags & GPT_DISK_LOCK) {
		r = lock_fd(d->fd);
		if (r == -EBUSY)
			return problem_add(reterr, -EBUSY, d->path, "held by another process");
		if (r < 0)
			return problem_add(reterr, r, d->path, "locking: %s", strerror(-r));
		d->locked = true;
	}
	d->sector_size = 512;
	if (d->is_blockdev) {
		int ssz = 0;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size_bytes) < 0 ||
		    ioctl(d->fd, BLKSSZGET, &ssz) < 0)
			return problem_add(reterr, -errno, d->path, "reading the size: %s",
					   strerror(errno));
		d->sector_size = (uint32_t)ssz;
	} else {
		if (fstat(d->fd, &st) < 0)
			return -errno;
		d->size_bytes = (uint64_t)st.st_size;
	}
	if (min_bytes && d->size_bytes < min_bytes)
		return problem_add(reterr, -ENOSPC, d->path,
				   "the device has %" PRIu64 " bytes, fewer than the %" PRIu64
				   " asked for",
				   d->size_bytes, min_bytes);
	if (d->size_bytes >= GPT_MBR_SIZE) {
		r = fs_pread_all(d->fd, d->mbr, GPT_MBR_SIZE, 0);
		if (r < 0)
			return problem_add(reterr, r, d->path, "reading LBA 0: %s", strerror(-r));
	}
	if (!(flags & GPT_DISK_NO_READ)) {
		r = gpt_read(d->fd, 0, &d->gpt, reterr);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(d);
	return 0;
}

int gpt_disk_read(struct gpt_disk *d, uint32_t sector_size, struct problem_list *reterr)
{
	struct gpt *g = NULL;
	int r = gpt_read(d->fd, sector_size, &g, reterr);

	if (r < 0)
		return r;
	gpt_free(d->gpt);
	d->gpt = g;
	return 0;
}

/* Whether committing d would change a byte on the disk. */
static bool disk_needs_write(const struct gpt_disk *d)
{
	if (d->zap)
		return true; /* gpt_write_zap() itself skips headers that are already zero */
	if (d->gpt && gpt_needs_write(d->gpt))
		return true;
	return d->new_mbr && memcmp(d->new_mbr, d->mbr, GPT_MBR_SIZE) != 0;
}

int gpt_disk_commit(struct gpt_disk *d, struct problem_list *reterr)
{
	int r;

	if (d->gpt && !d->zap) {
		r = gpt_check_writable(d->gpt, reterr);
		if (r < 0)
			return r;
	}
	if (!disk_needs_write(d))
		return 0;

	struct stat st;
	if (fstat(d->fd, &st) < 0)
		return -errno;
	/* As root, open() ignores permission bits; a file nobody may write is read-only to us too.
	 */
	if (S_ISREG(st.st_mode) && !(st.st_mode & 0222))
		return problem_add(reterr, -EROFS, d->path, "read-only device");
	if (S_ISBLK(st.st_mode)) {
		int ro = 0;
		if (ioctl(d->fd, BLKROGET, &ro) == 0 && ro)
			return problem_add(reterr, -EROFS, d->path, "read-only device");
	}
	_cleanup_close_ int fd = open(d->path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == EROFS || errno == EACCES || errno == EPERM)
			return problem_add(reterr, -EROFS, d->path, "read-only device");
		return problem_add(reterr, -errno, d->path, "opening for writing: %s",
				   strerror(errno));
	}
	if (d->zap)
		r = gpt_write_zap(fd, d->sector_size, reterr);
	else
		r = gpt_write_with_mbr(fd, d->gpt, d->new_mbr, reterr);
	if (r == -EROFS || r == -EACCES || r == -EPERM)
		return problem_add(reterr, -EROFS, d->path, "read-only device");
	if (r < 0)
		return r;
	if (d->new_mbr && r > 0)
		memcpy(d->mbr, d->new_mbr, GPT_MBR_SIZE);
	if (close(TAKE_FD(fd)) < 0)
		return problem_add(reterr, -EIO, d->path, "closing after writing: %s",
				   strerror(errno));
	return r;
}

int gpt_find_disk(struct problem_list *reterr, char **ret)
{
	blkid_cache cache = NULL;
	dev_t found[16];
	size_t n = 0;

	/* "/dev/null": no cache file, so the host's /run/blkid/blkid.tab is neither read nor
	 * rewritten and its /etc/blkid.conf is not consulted for the file's name (under --root
	 * nothing of the host but its devices is read: docs/security.md) */
	if (blkid_get_cache(&cache, "/dev/null") < 0)
		return -ENOMEM;
	(void)blkid_probe_all(cache);
	blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
	if (it && blkid_dev_set_search(it, "PARTLABEL", "USR-A") == 0) {
		blkid_dev dev;
		while (blkid_dev_next(it, &dev) == 0) {
			const char *name = blkid_dev_devname(dev);
			struct stat st;
			dev_t disk = 0;
			if (!name || stat(name, &st) < 0 || !S_ISBLK(st.st_mode))
				continue;
			if (blkid_devno_to_wholedisk(st.st_rdev, NULL, 0, &disk) < 0)
				continue;
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				dup = dup || found[i] == disk;
			if (!dup && n < ARRAY_SIZE(found))
				found[n++] = disk;
		}
	}
	blkid_dev_iterate_end(it);
	blkid_put_cache(cache);
	if (n == 0)
		return problem_add(reterr, -ENOENT, NULL,
				   "no disk with a USR-A partition found; use --disk");
	if (n > 1) {
		for (size_t i = 0; i < n; i++) {
			_cleanup_(freep) char *name = blkid_devno_to_devname(found[i]);
			(void)problem_add(reterr, -ENOTUNIQ, name, "carries a USR-A partition");
		}
		return -ENOTUNIQ;
	}
	char *name = blkid_devno_to_devname(found[0]);
	if (!name)
		return -ENODEV;
	*ret = name;
	return 0;
}

/* The value of the last `key=` word on a kernel command line, or NULL (allocated). */
static char *cmdline_value(const char *cmdline, const char *key)
{
	size_t kl = strlen(key);
	char *val = NULL;
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if ((size_t)(p - w) > kl && strncmp(w, key, kl) == 0 && w[kl] == '=') {
			free(val);
			val = strndup(w + kl + 1, (size_t)(p - w) - kl - 1);
		}
	}
	return val;
}

/* Match a cmdline value against the GPT: PARTUUID=, PARTLABEL=, or a path (partition device). */
static int match_value(const struct gpt_disk *d, const char *v, bool offline)
{
	const struct gpt *g = d->gpt;
	int nr = -ENOENT;

	if (strncasecmp(v, "PARTUUID=", 9) == 0) {
		struct gpt_guid u;
		if (gpt_guid_from_string(v + 9, &u) < 0)
			return -ENOENT;
		nr = gpt_find_unique(g, &u);
	} else if (strncmp(v, "PARTLABEL=", 10) == 0)
		nr = gpt_find_label(g, v + 10);
	else if (v[0] == '/' && offline) {
		/* An offline machine's device path (/dev/vda4, /dev/nvme0n1p4): its slot number. */
		size_t l = strlen(v), k = l;
		while (k > 0 && v[k - 1] >= '0' && v[k - 1] <= '9')
			k--;
		if (k == l || l - k > 4 || strncmp(v, "/dev/mapper/", 12) == 0)
			return -ENOENT;
		nr = atoi(v + k);
	} else if (v[0] == '/' && !offline) {
		/* A live system: the path must be a partition of this very disk. */
		char *disk = NULL;
		unsigned pn = 0;
		if (gpt_partition_device(v, &disk, &pn) == 0) {
			struct stat a, b;
			if (stat(disk, &a) == 0 && fstat(d->fd, &b) == 0 && a.st_rdev == b.st_rdev)
				nr = (int)pn;
			free(disk);
		}
		const struct gpt_entry *pe = nr > 0 ? gpt_entry_get_const(g, (unsigned)nr) : NULL;
		return pe && gpt_entry_is_used(pe) && gpt_entry_is_usr(pe) ? nr : -ENOENT;
	} else
		return -ENOENT;
	const struct gpt_entry *e = nr > 0 ? gpt_entry_get_const(g, (unsigned)nr) : NULL;
	if (!e || !gpt_entry_is_used(e) || !gpt_entry_is_usr(e))
		return -ENOENT;
	if (offline)
		return nr;
	/* Live system: the named partition must really be on this block device. */
	if (!d->is_blockdev)
		return -ENOENT;
	_cleanup_(freep) char *dev = blkid_evaluate_spec(v, NULL);
	char *disk = NULL;
	unsigned pn = 0;
	if (!dev || gpt_partition_device(dev, &disk, &pn) < 0)
		return -ENOENT;
	struct stat a, b;
	bool same = stat(disk, &a) == 0 && fstat(d->fd, &b) == 0 && a.st_rdev == b.st_rdev;
	free(disk);
	return same && pn == (unsigned)nr ? nr : -ENOENT;
}

static int booted_from_cmdline(int root_fd, bool root_is_slash, const struct gpt_disk *d)
{
	_cleanup_(freep) char *cmdline = NULL;
	int r = fs_read_file(root_fd, "proc/cmdline", 65536, &cmdline, NULL);
	if (r < 0)
		return -ENOENT;
	_cleanup_(freep) char *verity = cmdline_value(cmdline, "verity.usr");
	_cleanup_(freep) char *mount = cmdline_value(cmdline, "mount.usr");
	_cleanup_(freep) char *usr = cmdline_value(cmdline, "usr");
	const char *v = verity;
	if (!v && mount && strncmp(mount, "/dev/mapper/", 12) != 0)
		v = mount;
	if (!v)
		v = usr;
	if (!v)
		return -ENOENT;
	if (!root_is_slash)
		return match_value(d, v, true);
	return match_value(d, v, false);
}

static int booted_from_usr_mount(const struct gpt_disk *d)
{
	struct stat st, ds;
	char p[128];
	dev_t dev;

	if (!d->is_blockdev || stat("/usr", &st) < 0 || fstat(d->fd, &ds) < 0)
		return -ENOENT;
	dev = st.st_dev;
	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/dm", major(dev), minor(dev));
	if (access(p, F_OK) == 0) {
		/* device-mapper (dm-verity): follow its single slave */
		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/slaves", major(dev), minor(dev));
		DIR *dir = opendir(p);
		if (!dir)
			return -ENOENT;
		struct dirent *de;
		unsigned n = 0;
		char name[256] = "";
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.' && n++ == 0)
				snprintf(name, sizeof(name), "%s", de->d_name);
		closedir(dir);
		if (n != 1)
			return -ENOENT;
		char dp[300];
		snprintf(dp, sizeof(dp), "/sys/class/block/%s/dev", name);
		_cleanup_fclose_ FILE *f = fopen(dp, "re");
		unsigned ma, mi;
		if (!f || fscanf(f, "%u:%u", &ma, &mi) != 2)
			return -ENOENT;
		dev = makedev(ma, mi);
	}
	unsigned nr = sys_partition_nr(dev);
	dev_t disk = 0;
	if (!nr || blkid_devno_to_wholedisk(dev, NULL, 0, &disk) < 0 || disk != ds.st_rdev)
		return -ENOENT;
	const struct gpt_entry *e = gpt_entry_get_const(d->gpt, nr);
	return e && gpt_entry_is_usr(e) ? (int)nr : -ENOENT;
}

static int booted_inferred(const struct gpt *g)
{
	int a = gpt_find_label(g, "USR-A"), b = gpt_find_label(g, "USR-B");
	if (a < 0 || b < 0)
		return -ENOENT;
	const struct gpt_entry *ea = gpt_entry_get_const(g, (unsigned)a);
	const struct gpt_entry *eb = gpt_entry_get_const(g, (unsigned)b);
	if (!gpt_entry_is_usr(ea) || !gpt_entry_is_usr(eb))
		return -ENOENT;
	bool sa = gpt_entry_is_successful(ea), sb = gpt_entry_is_successful(eb);
	if (sa != sb)
		return sa ? a : b;
	return gpt_entry_priority(eb) > gpt_entry_priority(ea) ? b : a;
}

int gpt_find_booted(int root_fd, bool root_is_slash, const struct gpt_disk *d, bool *ret_inferred)
{
	int nr;

	if (ret_inferred)
		*ret_inferred = false;
	nr = booted_from_cmdline(root_fd, root_is_slash, d);
	if (nr > 0)
		return nr;
	if (root_is_slash) {
		nr = booted_from_usr_mount(d);
		if (nr > 0)
			return nr;
	}
	if (!d->is_blockdev) {
		nr = booted_inferred(d->gpt);
		if (nr > 0) {
			if (ret_inferred)
				*ret_inferred = true;
			return nr;
		}
	}
	return -ENOENT;
}
