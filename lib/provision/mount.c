/* SPDX-License-Identifier: MIT */
/* lib/provision/mount.c - the mount and umount stages (docs/provision.md §5, §6;
 * docs/provision-apply.md §7): every filesystem with a path is mounted at ROOT/path, shallowest
 * first, and unmounted deepest first, as Ignition's mount and umount stages do
 * (coreos/ignition internal/exec/stages/{mount,umount}). A mount path holds nothing but
 * directories and no symlink; missing directories are made (0755 root:root) and recorded, so
 * that a failed run removes them again. The mount is made with the new mount API on a directory
 * opened without following any symlink, and lands exactly there. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs/fs.h"
#include "internal.h"
#include "storage.h"
#include "util/cleanup.h"
#include "util/problem.h"

static unsigned depth(const char *path)
{
	unsigned n = 0;
	for (const char *c = path; *c; c++)
		n += *c == '/' && c[1];
	return n;
}

/* Filesystems to mount, in mount order (shallowest first, config order within a depth):
 * *ret_idx (allocated, may be empty) holds their indexes; returns their number. */
static size_t mount_order(struct prov_storage *s, size_t **ret_idx)
{
	size_t n = 0, *idx = *ret_idx = calloc(s->nf + 1, sizeof(*idx));
	if (!idx)
		return 0;
	for (size_t i = 0; i < s->nf; i++) {
		const struct st_fs *f = &s->f[i];
		if (!f->path || !f->format || !strcmp(f->format, "swap") ||
		    !strcmp(f->format, "none") || f->act == FS_ACT_SKIP)
			continue;
		size_t k = n++;
		while (k > 0 && depth(s->f[idx[k - 1]].path) > depth(f->path)) {
			idx[k] = idx[k - 1];
			k--;
		}
		idx[k] = i;
	}
	return n;
}

bool storage_mounts(const struct prov_storage *s)
{
	for (size_t i = 0; s && i < s->nf; i++)
		if (s->f[i].mcanon)
			return true;
	return false;
}

/* The mount path: clean, no symlink, nothing but directories where it exists. */
static int check_path(struct prov_plan *p, struct st_fs *f)
{
	struct fs_resolved r = {};
	int k = fs_resolve(p->root_fd, f->path, &r);
	if (k == -ENOMEM)
		return k;
	if (k < 0) {
		plan_item(p, '!', "mount", f->path, "not a path of directories");
		return plan_fail(p, k, f->where, f->path, "the mount path %s: %s",
				 k == -ENOTDIR ? "has a component that is not a directory"
					       : "cannot be resolved",
				 k == -ENOTDIR ? "only directories may lead to a mount point"
					       : strerror(-k));
	}
	_cleanup_free_ char *canon = r.canon;
	bool isdir = !r.exists || S_ISDIR(r.st.st_mode);
	if (strcmp(canon, f->path + 1) != 0 || !isdir) {
		plan_item(p, '!', "mount", f->path, "not a path of directories");
		return plan_fail(
			p, -ENOTDIR, f->where, f->path,
			"the mount path contains a non-directory or a symlink (it lands at "
			"/%s)",
			canon);
	}
	free(f->mcanon);
	f->mcanon = TAKE_PTR(canon);
	return 0;
}

/* In a dry run, and while the whole plan is made before the disks are touched, the files
 * stage sees each mount point as the empty top of a new filesystem: the nodes below it are not
 * the root's. */
static int mark_mount_point(struct prov_plan *p, const struct st_fs *f)
{
	_cleanup_free_ char *c = strdup(f->mcanon);
	if (!c)
		return -ENOMEM;
	size_t len = strlen(c);
	for (size_t i = 0; i <= len; i++) {
		if (c[i] != '/' && c[i] != 0)
			continue;
		char saved = c[i];
		c[i] = 0;
		json_t *n = json_object_get(p->nodes, c);
		if (saved == 0) {
			json_t *v = json_pack("{s:s, s:s, s:b, s:b}", "k", "d", "w", f->where,
					      "new", 1, "mount", 1);
			if (!v || json_object_set_new(p->nodes, c, v) < 0)
				return -ENOMEM;
		} else if (!n) {
			struct stat st;
			_cleanup_close_ int fd = fs_open_canon_dir(p->root_fd, c, O_PATH);
			if (fd < 0) {
				json_t *v = json_pack("{s:s, s:s, s:b}", "k", "d", "w", f->where,
						      "new", 1);
				if (!v || json_object_set_new(p->nodes, c, v) < 0)
					return -ENOMEM;
			}
			(void)st;
		}
		c[i] = saved;
	}
	return 0;
}

int storage_plan_mount(struct prov_plan *p, json_t *config)
{
	if (!p->st || !p->st->planned_disks) {
		int r = storage_plan_fs_for_mount(p, config);
		if (r < 0)
			return r;
	}
	struct prov_storage *s = p->st;
	_cleanup_free_ size_t *idx = NULL;
	size_t n = mount_order(s, &idx);
	if (!idx)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		struct st_fs *f = &s->f[idx[k]];
		int r = check_path(p, f);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		if (f->act == FS_ACT_MKFS && !strcmp(f->format, "vfat")) {
			plan_item(p, '!', "mount", f->path, "vfat cannot be mounted here");
			(void)plan_fail(
				p, -EOPNOTSUPP, f->where, f->path,
				"vfat filesystems cannot be mounted on these machines (the "
				"kernel has no vfat driver); leave out path to only make it");
			continue;
		}
		plan_item(p, '+', "mount", f->path, "%s %s", f->device, f->format);
		if (p->mark_mounts) {
			r = mark_mount_point(p, f);
			if (r < 0)
				return r;
		}
	}
	s->planned_mount = true;
	return 0;
}

int storage_plan_umount(struct prov_plan *p, json_t *config)
{
	/* after the mount stage of this run: what it mounts */
	if (p->st && p->st->planned_mount) {
		for (size_t i = 0; i < p->st->nf; i++)
			if (p->st->f[i].mcanon)
				plan_item(p, '-', "umount", p->st->f[i].path, NULL);
		return 0;
	}
	/* alone (the ignition link's umount process): what is mounted at the paths */
	if (!storage_get(p))
		return -ENOMEM;
	int r = storage_collect_fs(p, config, true);
	if (r < 0)
		return r;
	struct prov_storage *s = p->st;
	for (size_t i = 0; i < s->nf; i++) {
		struct st_fs *f = &s->f[i];
		struct stat st, up;
		r = check_path(p, f);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		char *slash = strrchr(f->mcanon, '/');
		_cleanup_free_ char *parent =
			strndup(f->mcanon, slash ? (size_t)(slash - f->mcanon) : 0);
		_cleanup_close_ int fd = fs_open_canon_dir(p->root_fd, f->mcanon, O_PATH);
		_cleanup_close_ int pfd =
			parent ? fs_open_canon_dir(p->root_fd, parent, O_PATH) : -1;
		if (fd < 0 || pfd < 0 || fstat(fd, &st) < 0 || fstat(pfd, &up) < 0 ||
		    st.st_dev == up.st_dev) {
			plan_item(p, '!', "umount", f->path, "not mounted");
			(void)plan_fail(p, -EINVAL, f->where, f->path, "not mounted");
			continue;
		}
		f->act = FS_ACT_MOUNT;
		f->mounted = true;
		plan_item(p, '-', "umount", f->path, NULL);
	}
	s->planned_mount = true;
	return 0;
}

/* Mount options: the per-mount flags of mount(8) as mount attributes (or mount(2) flags), the
 * fstab words that say nothing to the kernel ignored, the rest for the filesystem. */
static const struct {
	const char *name;
	uint64_t attr;
	unsigned long ms;
} mount_flags[] = {
	{ "nosuid", MOUNT_ATTR_NOSUID, MS_NOSUID },
	{ "nodev", MOUNT_ATTR_NODEV, MS_NODEV },
	{ "noexec", MOUNT_ATTR_NOEXEC, MS_NOEXEC },
	{ "noatime", MOUNT_ATTR_NOATIME, MS_NOATIME },
	{ "nodiratime", MOUNT_ATTR_NODIRATIME, MS_NODIRATIME },
	{ "relatime", MOUNT_ATTR_RELATIME, MS_RELATIME },
	{ "strictatime", MOUNT_ATTR_STRICTATIME, MS_STRICTATIME },
};
static const char *const mount_ignored[] = { "defaults", "rw",	  "suid",   "dev",
					     "exec",	 "auto",  "noauto", "nofail",
					     "_netdev",	 "atime", "user",   "nouser" };

/* true when s is a mount flag (its bits added) or an ignored word; "ro" is both a flag and,
 * for the mount API, a filesystem parameter, so it is left to the caller */
static bool mount_word(const char *s, uint64_t *attrs, unsigned long *ms)
{
	for (size_t k = 0; k < ARRAY_SIZE(mount_flags); k++)
		if (!strcmp(s, mount_flags[k].name)) {
			*attrs |= mount_flags[k].attr;
			*ms |= mount_flags[k].ms;
			return true;
		}
	for (size_t k = 0; k < ARRAY_SIZE(mount_ignored); k++)
		if (!strcmp(s, mount_ignored[k]))
			return true;
	return !strncmp(s, "x-", 2);
}

static int apply_options(int fsfd, json_t *opts, uint64_t *attrs, char *bad, size_t nbad)
{
	unsigned long ms = 0;
	size_t i;
	json_t *o;
	json_array_foreach(opts, i, o)
	{
		const char *s = json_string_value(o);
		if (!s || mount_word(s, attrs, &ms))
			continue;
		if (!strcmp(s, "ro"))
			*attrs |= MOUNT_ATTR_RDONLY;
		const char *eq = strchr(s, '=');
		int r;
		if (eq) {
			_cleanup_free_ char *key = strndup(s, (size_t)(eq - s));
			if (!key)
				return -ENOMEM;
			r = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
		} else
			r = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, s, NULL, 0);
		if (r < 0) {
			snprintf(bad, nbad, "%s", s);
			return -errno;
		}
	}
	return 0;
}

/* Kernels and emulators without the mount API (fsopen: ENOSYS; qemu-user is one): the same
 * options through mount(2), flags for the per-mount ones, the rest as the data string, the
 * target named through its O_PATH descriptor so that no path is resolved twice. */
static int mount_legacy(const char *dev, const char *format, json_t *opts, int target,
			char *bad, size_t nbad)
{
	char data[4096] = "", where[64];
	size_t dl = 0, i;
	unsigned long ms = 0;
	uint64_t attrs = 0;
	json_t *o;
	json_array_foreach(opts, i, o)
	{
		const char *s = json_string_value(o);
		if (!s || mount_word(s, &attrs, &ms))
			continue;
		if (!strcmp(s, "ro")) {
			ms |= MS_RDONLY;
			continue;
		}
		size_t l = strlen(s);
		if (strchr(s, ',') || dl + l + 2 > sizeof(data)) {
			snprintf(bad, nbad, "%s", s);
			return -EINVAL;
		}
		if (dl)
			data[dl++] = ',';
		memcpy(data + dl, s, l + 1);
		dl += l;
	}
	snprintf(where, sizeof(where), "/proc/self/fd/%d", target);
	if (mount(dev, where, format, ms, dl ? data : NULL) < 0)
		return -errno;
	return 0;
}

static int mount_one(struct prov_plan *p, struct st_fs *f)
{
	struct prov_storage *s = p->st;
	char bad[128] = "";
	int r = storage_fs_attach(p, f);
	if (r < 0)
		return plan_fail(p, r, f->where, f->device, "attaching a loop device over it: %s",
				 strerror(-r));
	const char *dev = f->loop ? f->loop : f->hostpath;
	/* the mount point, made where missing, one directory at a time, never through a link */
	size_t len = strlen(f->mcanon);
	_cleanup_free_ char *c = strdup(f->mcanon);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i <= len && len; i++) {
		if (c[i] != '/' && c[i] != 0)
			continue;
		char saved = c[i];
		c[i] = 0;
		_cleanup_close_ int fd = fs_open_canon_dir(p->root_fd, c, O_PATH);
		if (fd == -ENOENT) {
			char *slash = strrchr(c, '/');
			_cleanup_free_ char *up = strndup(c, slash ? (size_t)(slash - c) : 0);
			if (!up)
				return -ENOMEM;
			_cleanup_close_ int pfd = fs_open_canon_dir(p->root_fd, up, O_PATH);
			const char *base = slash ? slash + 1 : c;
			if (pfd < 0 || mkdirat(pfd, base, 0755) < 0)
				return plan_fail(p, pfd < 0 ? pfd : -errno, f->where, f->path,
						 "making the mount point /%s: %s", c,
						 strerror(pfd < 0 ? -pfd : errno));
			char **m = reallocarray(s->mkdirs, s->nmkdirs + 1, sizeof(*m));
			if (!m)
				return -ENOMEM;
			s->mkdirs = m;
			if (!(m[s->nmkdirs] = strdup(c)))
				return -ENOMEM;
			s->nmkdirs++;
			/* 0755 whatever the umask, as Ignition's MkdirAll leaves it */
			if (fchmodat(pfd, base, 0755, 0) < 0)
				return plan_fail(p, -errno, f->where, f->path,
						 "making the mount point /%s: %s", c,
						 strerror(errno));
		} else if (fd < 0)
			return plan_fail(p, fd, f->where, f->path, "the mount point /%s: %s", c,
					 strerror(-fd));
		c[i] = saved;
	}
	_cleanup_close_ int target = fs_open_canon_dir(p->root_fd, f->mcanon, O_PATH);
	if (target < 0)
		return plan_fail(p, target, f->where, f->path, "the mount point: %s",
				 strerror(-target));
	_cleanup_close_ int fsfd = (int)syscall(SYS_fsopen, f->format, FSOPEN_CLOEXEC);
	if (fsfd < 0 && errno == ENOSYS) {
		r = mount_legacy(dev, f->format, json_object_get(f->e, "mountOptions"), target,
				 bad, sizeof(bad));
		if (r == -EINVAL && bad[0])
			return plan_fail(p, r, f->where, f->path, "mount option \"%s\": %s", bad,
					 strerror(-r));
		if (r < 0)
			return plan_fail(p, r, f->where, f->path, "mounting %s (%s) at %s: %s",
					 f->device, f->format, f->path, strerror(-r));
		f->mounted = true;
		storage_fs_detach(f);
		return 0;
	}
	if (fsfd < 0)
		return plan_fail(p, -errno, f->where, f->path,
				 "this kernel cannot mount %s filesystems: %s", f->format,
				 strerror(errno));
	uint64_t attrs = 0;
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, "source", dev, 0) < 0)
		return plan_fail(p, -errno, f->where, f->path, "mount source %s: %s", dev,
				 strerror(errno));
	r = apply_options(fsfd, json_object_get(f->e, "mountOptions"), &attrs, bad, sizeof(bad));
	if (r < 0)
		return plan_fail(p, r, f->where, f->path, "mount option \"%s\": %s", bad,
				 strerror(-r));
	if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return plan_fail(p, -errno, f->where, f->path, "mounting %s (%s) at %s: %s",
				 f->device, f->format, f->path, strerror(errno));
	_cleanup_close_ int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, attrs);
	if (mfd < 0)
		return plan_fail(p, -errno, f->where, f->path, "mounting %s at %s: %s", f->device,
				 f->path, strerror(errno));
	if (syscall(SYS_move_mount, mfd, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return plan_fail(p, -errno, f->where, f->path, "attaching the mount at %s: %s",
				 f->path, strerror(errno));
	f->mounted = true;
	/* the mount holds the loop device now; it goes when the filesystem is unmounted */
	storage_fs_detach(f);
	return 0;
}

int storage_exec_mount(struct prov_plan *p)
{
	struct prov_storage *s = p->st;
	if (!s)
		return 0;
	_cleanup_free_ size_t *idx = NULL;
	size_t n = mount_order(s, &idx);
	if (!idx)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		struct st_fs *f = &s->f[idx[k]];
		if (!f->mcanon)
			continue;
		int r = mount_one(p, f);
		if (r < 0)
			return r;
		json_t *d = json_pack("{s:s, s:s, s:s}", "kind", "mount", "device", f->device,
				      "detail", f->path);
		(void)json_array_append_new(s->done, d);
	}
	return 0;
}

/* Unmount the filesystem at canon (root-relative): its name looked up in the parent directory,
 * opened without following any symlink, and not followed itself (a descriptor of the mount
 * point itself would keep it busy). */
static int umount_canon(int root_fd, const char *canon)
{
	const char *slash = strrchr(canon, '/');
	_cleanup_free_ char *up = strndup(canon, slash ? (size_t)(slash - canon) : 0);
	if (!up)
		return -ENOMEM;
	_cleanup_close_ int pfd = fs_open_canon_dir(root_fd, up, O_PATH);
	if (pfd < 0)
		return pfd;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, slash ? slash + 1 : canon);
	if (umount2(path, UMOUNT_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int storage_exec_umount(struct prov_plan *p, bool rmdirs)
{
	struct prov_storage *s = p->st;
	int first = 0;
	if (s && s->planned_mount) {
		_cleanup_free_ size_t *idx = NULL;
		size_t n = mount_order(s, &idx);
		if (!idx)
			return -ENOMEM;
		for (size_t k = n; k-- > 0;) {
			struct st_fs *f = &s->f[idx[k]];
			if (!f->mounted)
				continue;
			int r = umount_canon(p->root_fd, f->mcanon);
			if (r < 0) {
				if (!first)
					first = plan_fail(p, r, f->where, f->path, "unmounting: %s",
							  strerror(-r));
				continue;
			}
			f->mounted = false;
		}
		/* what this run made, deepest first, only when empty */
		for (size_t k = rmdirs ? s->nmkdirs : 0; k-- > 0;) {
			char *slash = strrchr(s->mkdirs[k], '/');
			_cleanup_free_ char *up =
				strndup(s->mkdirs[k], slash ? (size_t)(slash - s->mkdirs[k]) : 0);
			_cleanup_close_ int pfd =
				up ? fs_open_canon_dir(p->root_fd, up, O_PATH) : -1;
			if (pfd >= 0)
				(void)unlinkat(pfd, slash ? slash + 1 : s->mkdirs[k], AT_REMOVEDIR);
		}
	}
	return first;
}
