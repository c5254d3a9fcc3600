/* SPDX-License-Identifier: MIT */
/* lib/provision/stages.c - the stage runner (docs/provision.md §5, docs/provision-apply.md):
 * every stage of the run plans first, against the root as it is and what the earlier stages
 * plan; only when the whole plan is good is anything staged and committed, in one journal. A
 * stage is a plan function in the table below; the disks, mount and umount stages of this
 * build only check that the config needs none of them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "internal.h"
#include "util/problem.h"

static const char *const stage_names[_PROV_STAGE_MAX] = {
	[PROV_STAGE_FETCH_OFFLINE] = "fetch-offline",
	[PROV_STAGE_FETCH] = "fetch",
	[PROV_STAGE_KARGS] = "kargs",
	[PROV_STAGE_DISKS] = "disks",
	[PROV_STAGE_MOUNT] = "mount",
	[PROV_STAGE_FILES] = "files",
	[PROV_STAGE_UMOUNT] = "umount",
};

const char *prov_stage_to_string(enum prov_stage s)
{
	return s >= 0 && s < _PROV_STAGE_MAX ? stage_names[s] : NULL;
}

enum prov_stage prov_stage_from_string(const char *s)
{
	for (int i = 0; i < _PROV_STAGE_MAX; i++)
		if (s && !strcmp(s, stage_names[i]))
			return (enum prov_stage)i;
	return _PROV_STAGE_INVALID;
}

void prov_outcome_release(struct prov_outcome *o)
{
	json_decref(o->items);
	o->items = NULL;
}

/* A device the config names, as this run would find it: a host path when the root is the
 * host's /, otherwise inside the root. */
static bool device_exists(struct prov_plan *p, const char *dev)
{
	struct stat host;
	if (!dev)
		return false;
	if (stat("/", &host) == 0 && host.st_dev == p->root_st.st_dev &&
	    host.st_ino == p->root_st.st_ino)
		return access(dev, F_OK) == 0;
	_cleanup_close_ int fd = fs_open(p->root_fd, dev, O_PATH, 0);
	return fd >= 0;
}

/* Storage entries in this build: RAID and LUKS can never be done here (no md, no
 * device-mapper in these kernels); disks and filesystems need the disks stage, which this
 * build does not have. Each is refused before anything is touched, or, with --devices skip and
 * no such device, left out and recorded. */
static int check_storage(struct prov_plan *p, json_t *config, bool disks, bool mounts)
{
	json_t *st = json_object_get(config, "storage");
	static const struct {
		const char *list, *key, *kind;
	} kinds[] = {
		{ "raid", "name", "raid" },
		{ "luks", "device", "luks" },
		{ "disks", "device", "disk" },
		{ "filesystems", "device", "filesystem" },
	};
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(st, kinds[k].list), i, e)
		{
			const char *id = json_string_value(json_object_get(e, kinds[k].key));
			char where[64];
			snprintf(where, sizeof(where), "/storage/%s/%zu", kinds[k].list, i);
			bool fs_mount = k == 3 && json_is_string(json_object_get(e, "path"));
			if (!disks && !(mounts && fs_mount))
				continue;
			if (k == 0) {
				plan_item(p, '!', "raid", id,
					  "RAID needs the md driver: not on these machines");
				(void)plan_fail(
					p, -EOPNOTSUPP, where, id,
					"RAID is not supported: these machines have no md driver");
				continue;
			}
			if (k == 1) {
				plan_item(p, '!', "luks", id,
					  "LUKS needs device-mapper: not on these machines");
				(void)plan_fail(
					p, -EOPNOTSUPP, where, id,
					"LUKS is not supported: these machines have no device-mapper");
				continue;
			}
			bool exists = device_exists(p, id);
			if (!exists && p->o->devices == PROV_DEVICES_STRICT) {
				plan_item(p, '!', kinds[k].kind, id, "no such device");
				(void)plan_fail(
					p, -ENODEV, where, id,
					"no such device (--devices skip leaves such entries out)");
				continue;
			}
			if (!exists) {
				plan_item(p, '!', "skip", id, "%s (no device)", kinds[k].kind);
				(void)problem_warn(p->l, where,
						   "%s (%s): skipped: no such device under --root",
						   kinds[k].list, id);
				(void)json_array_append_new(
					p->skipped,
					json_pack("{s:s, s:s}", "path", where, "why", "no device"));
				continue;
			}
			plan_item(p, '!', kinds[k].kind, id,
				  "needs the disks stage, not in this build");
			(void)plan_fail(
				p, -EOPNOTSUPP, where, id,
				"%s entries need the disks stage, which this build does not have",
				kinds[k].list);
		}
	}
	return 0;
}

static int plan_disks(struct prov_plan *p, json_t *config)
{
	return check_storage(p, config, true, false);
}

static int plan_mount(struct prov_plan *p, json_t *config)
{
	/* checked with the disks stage when both run */
	if (p->o->stages & (1u << PROV_STAGE_DISKS))
		return 0;
	return check_storage(p, config, false, true);
}

static int plan_umount(struct prov_plan *p, json_t *config)
{
	if (p->o->stages & ((1u << PROV_STAGE_DISKS) | (1u << PROV_STAGE_MOUNT)))
		return 0;
	return check_storage(p, config, false, true);
}

static int plan_files_stage(struct prov_plan *p, json_t *config)
{
	int r = plan_passwd(p, config);
	if (r >= 0)
		r = plan_files(p, config);
	if (r >= 0)
		r = plan_units(p, config);
	/* Flatcar's ignition-quench.service does this after the files stage; in one process
	 * flatctl does it itself */
	if (r >= 0 && !p->o->ignition_mode)
		r = plan_first_boot_done(p);
	if (r >= 0)
		r = plan_result(p, config);
	return r;
}

static const struct {
	enum prov_stage stage;
	prov_stage_plan_fn plan;
} stage_table[] = {
	{ PROV_STAGE_KARGS, plan_kargs },   { PROV_STAGE_DISKS, plan_disks },
	{ PROV_STAGE_MOUNT, plan_mount },   { PROV_STAGE_FILES, plan_files_stage },
	{ PROV_STAGE_UMOUNT, plan_umount },
};

int prov_run(const struct prov_options *o, json_t *config, struct prov_outcome *out,
	     struct problem_list *reterr)
{
	struct prov_plan p = {
		.o = o,
		.root_fd = o->root_fd,
		.l = reterr,
		.items = json_array(),
		.nodes = json_object(),
		.skipped = json_array(),
		.jfd = -1,
	};
	int r = 0;

	*out = (struct prov_outcome){};
	if (!p.items || !p.nodes || !p.skipped) {
		r = -ENOMEM;
		goto done;
	}
	if (fstat(o->root_fd, &p.root_st) < 0) {
		r = -errno;
		goto done;
	}
	for (size_t i = 0; i < ARRAY_SIZE(stage_table) && r >= 0; i++)
		if (o->stages & (1u << stage_table[i].stage))
			r = stage_table[i].plan(&p, config);
	if (r == -ENOMEM)
		goto done;
	out->reboot_required = p.reboot_required;
	if (p.failed || problem_has_errors(reterr)) {
		out->would_fail = true;
		r = -EINVAL;
		goto done;
	}
	if (o->dry_run) {
		r = 0;
		goto done;
	}
	r = plan_commit(&p, &out->steps);
	out->committed = r >= 0 && out->steps > 0;
	if (r == -ENOTRECOVERABLE) {
		/* the journal and staging stay for the next run to roll back */
		for (size_t i = 0; i < p.ndirs; i++)
			if (p.dirs[i].fd >= 0)
				close(p.dirs[i].fd);
		free(p.dirs);
		p.dirs = NULL;
		p.ndirs = 0;
	}
done:
	plan_discard(&p);
	out->items = p.items;
	json_decref(p.nodes);
	json_decref(p.skipped);
	pw_db_free(p.db);
	return r;
}
