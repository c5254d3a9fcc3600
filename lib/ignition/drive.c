/* SPDX-License-Identifier: MIT */
/* lib/ignition/drive.c - config drives: OpenStack's config-2 drive and Azure's OVF
 * provisioning medium (docs/provision-platforms.md §3).
 *
 * On the host root (--root /) a drive is found with libblkid (by label, or for Azure by
 * filesystem type udf on a CD-ROM with a disc), mounted read-only with the new mount API as a
 * detached mount that never appears in the mount table, read through openat2(RESOLVE_IN_ROOT)
 * relative to that mount, and unmounted by closing its descriptor. Under any other --root no
 * host device is touched (docs/provision.md §6): the drive is dev/disk/by-label/LABEL (Azure:
 * dev/srN) inside the root, a directory standing in for the mounted filesystem. */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/cdrom.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/fs.h"
#include "ignition/ignition.h"
#include "util/cleanup.h"
#include "util/problem.h"

static bool is_host_root(int root_fd)
{
	struct stat a, b;
	return fstat(root_fd, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* A read-only, nosuid, nodev, noexec detached mount of device with the first fstype the
 * kernel takes. Returns the mount's fd or -errno (of the last type tried). */
static int mount_detached(const char *device, const char *const *fstypes)
{
	int r = -EINVAL;

	for (size_t i = 0; fstypes && fstypes[i]; i++) {
		_cleanup_close_ int fs = (int)syscall(SYS_fsopen, fstypes[i], FSOPEN_CLOEXEC);
		if (fs < 0) {
			r = -errno;
			continue;
		}
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", device, 0) < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) < 0 ||
		    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
			r = -errno;
			continue;
		}
		int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC);
		if (m < 0) {
			r = -errno;
			continue;
		}
		return m;
	}
	return r;
}

/* Read path inside the directory dir_fd (which acts as the root: nothing on the drive leads
 * outside it). */
static int read_in(int dir_fd, const char *what, const char *path, char **ret, size_t *ret_size,
		   struct problem_list *l)
{
	int r = fs_read_file(dir_fd, path, IGN_MAX_CONFIG_SIZE, ret, ret_size);
	if (r == -ENOENT)
		return -ENOENT;
	if (r == -EFBIG)
		return problem_add(l, r, "", "%s: %s is larger than %u MiB", what, path,
				   IGN_MAX_CONFIG_SIZE >> 20);
	if (r < 0)
		return problem_add(l, r, "", "%s: cannot read %s: %s", what, path, strerror(-r));
	return 0;
}

int ign_drive_read_device(const char *device, const char *const *fstypes, const char *path,
			  char **ret, size_t *ret_size, struct problem_list *reterr)
{
	_cleanup_close_ int m = mount_detached(device, fstypes);
	if (m < 0)
		return problem_add(reterr, m, "", "cannot mount %s read-only (%s%s): %s", device,
				   fstypes && fstypes[0] ? fstypes[0] : "?",
				   fstypes && fstypes[0] && fstypes[1] ? ", ..." : "",
				   strerror(-m));
	return read_in(m, device, path, ret, ret_size, reterr);
}

/* The stand-in directory dir inside a non-host root: -ENODEV when absent. */
static int standin_open(int root_fd, const char *dir, struct problem_list *l)
{
	int fd = fs_open(root_fd, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT)
		return -ENODEV;
	if (fd == -ENOTDIR)
		return problem_add(
			l, -EOPNOTSUPP, "",
			"%s is not a directory: under a --root other than / a config drive "
			"is a directory standing in for its mounted filesystem",
			dir);
	if (fd < 0)
		return problem_add(l, fd, "", "cannot open %s: %s", dir, strerror(-fd));
	return fd;
}

int ign_drive_read_by_label(int root_fd, const char *label, const char *const *fstypes,
			    const char *path, char **ret, size_t *ret_size, char **ret_device,
			    struct problem_list *reterr)
{
	if (!is_host_root(root_fd)) {
		char dir[300];
		snprintf(dir, sizeof(dir), "/dev/disk/by-label/%s", label);
		_cleanup_close_ int fd = standin_open(root_fd, dir, reterr);
		if (fd < 0)
			return fd;
		int r = read_in(fd, dir, path, ret, ret_size, reterr);
		if (r >= 0 && ret_device)
			*ret_device = strdup(dir);
		return r;
	}
	_cleanup_free_ char *dev = blkid_evaluate_tag("LABEL", label, NULL);
	if (!dev)
		return -ENODEV;
	int r = ign_drive_read_device(dev, fstypes, path, ret, ret_size, reterr);
	if (r >= 0 && ret_device)
		*ret_device = TAKE_PTR(dev);
	return r;
}

/* Is device a CD-ROM drive with a disc in it? Azure's medium is one; checking keeps flatctl
 * (like Ignition) from reading an arbitrary UDF disk a user attached. */
static bool cdrom_has_disc(const char *device)
{
	_cleanup_close_ int fd = open(device, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	return ioctl(fd, CDROM_DRIVE_STATUS, CDSL_CURRENT) == CDS_DISC_OK;
}

static int azure_read_medium(int dir_fd, const char *what, char **ret, size_t *ret_size,
			     struct problem_list *l)
{
	/* ovf-env.xml is always on the medium: without it this is not the provisioning medium */
	int r = fs_exists(dir_fd, "ovf-env.xml");
	if (r <= 0)
		return -ENODEV;
	/* no CustomData.bin: the VM was created without custom data, an empty config */
	return read_in(dir_fd, what, "CustomData.bin", ret, ret_size, l);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ign_drive_read_azure_ovf(int root_fd, char **ret, size_t *ret_size, char **ret_device,
			     struct problem_list *reterr)
{
	static const char *const udf[] = { "udf", NULL };
	int r = -ENODEV;

	if (!is_host_root(root_fd)) {
		_cleanup_close_ int dfd = fs_open(root_fd, "/dev", O_RDONLY | O_DIRECTORY, 0);
		if (dfd < 0)
			return dfd == -ENOENT || dfd == -ENOTDIR ? -ENODEV : dfd;
		DIR *d = fdopendir(dfd);
		if (!d)
			return -errno;
		dfd = -1;
		char *names[16];
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(d)) && n < ARRAY_SIZE(names))
			if (!strncmp(de->d_name, "sr", 2) && de->d_name[2] &&
			    strspn(de->d_name + 2, "0123456789") == strlen(de->d_name + 2))
				names[n++] = strdup(de->d_name);
		closedir(d);
		qsort(names, n, sizeof(names[0]), cmp_str);
		for (size_t i = 0; i < n; i++) {
			char dir[64];
			if (!names[i] || r != -ENODEV)
				continue;
			snprintf(dir, sizeof(dir), "/dev/%s", names[i]);
			_cleanup_close_ int fd = standin_open(root_fd, dir, reterr);
			if (fd < 0) {
				r = fd;
				continue;
			}
			r = azure_read_medium(fd, dir, ret, ret_size, reterr);
			if (r >= 0 && ret_device)
				*ret_device = strdup(dir);
		}
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		return r;
	}

	blkid_cache cache = NULL;
	if (blkid_get_cache(&cache, NULL) < 0)
		return -ENOMEM;
	(void)blkid_probe_all_new(cache);
	blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
	if (it && blkid_dev_set_search(it, "TYPE", "udf") == 0) {
		blkid_dev dev;
		while (r == -ENODEV && blkid_dev_next(it, &dev) == 0) {
			const char *name = blkid_dev_devname(dev);
			if (!name || !cdrom_has_disc(name))
				continue;
			_cleanup_close_ int m = mount_detached(name, udf);
			if (m < 0)
				continue; /* Ignition skips a device it cannot read and keeps
					     looking */
			r = azure_read_medium(m, name, ret, ret_size, reterr);
			if (r >= 0 && ret_device)
				*ret_device = strdup(name);
		}
	}
	blkid_dev_iterate_end(it);
	blkid_put_cache(cache);
	return r;
}
