/* SPDX-License-Identifier: MIT */
/* include/provision/provision.h - applying a rendered Ignition config to a root: the stage
 * runner, the plan, and the journalled all-or-nothing commit (docs/provision.md §5-7,
 * docs/provision-apply.md). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/cleanup.h"

struct ign_fetcher;
struct problem_list;
struct prov_plan;

enum prov_stage {
	PROV_STAGE_FETCH_OFFLINE,
	PROV_STAGE_FETCH,
	PROV_STAGE_KARGS,
	PROV_STAGE_DISKS,
	PROV_STAGE_MOUNT,
	PROV_STAGE_FILES,
	PROV_STAGE_UMOUNT,
	_PROV_STAGE_MAX,
	_PROV_STAGE_INVALID = -EINVAL,
};
const char *prov_stage_to_string(enum prov_stage s);
enum prov_stage prov_stage_from_string(const char *s);
#define PROV_STAGES_ALL                                                                   \
	((1u << PROV_STAGE_FETCH) | (1u << PROV_STAGE_KARGS) | (1u << PROV_STAGE_DISKS) | \
	 (1u << PROV_STAGE_MOUNT) | (1u << PROV_STAGE_FILES) | (1u << PROV_STAGE_UMOUNT))

enum prov_devices {
	PROV_DEVICES_STRICT, /* a device the config names and the root lacks fails the run */
	PROV_DEVICES_SKIP,   /* such entries are left out with a warning and recorded */
};

/* A stage's plan function: look at the config and the root, add plan items and journal
 * steps, add a problem (an error) for everything that would fail. Nothing visible changes.
 * A disks/mount/umount implementation plugs in here (lib/provision/stages.c). */
typedef int (*prov_stage_plan_fn)(struct prov_plan *p, json_t *config);

/* --device CFG=PATH: a device the config names, used at a host path (docs/provision.md §1.1). */
struct prov_device_map {
	const char *cfg;
	const char *path;
};

struct prov_options {
	int root_fd;	    /* the root, O_PATH directory */
	unsigned stages;    /* 1 << enum prov_stage of each stage to run */
	bool dry_run;	    /* plan only: nothing is staged or written */
	bool ignition_mode; /* called as `ignition`: one stage per process */
	enum prov_devices devices;
	const struct prov_device_map *device_map; /* --device */
	size_t n_device_map;
	const struct ign_fetcher *fetcher; /* for file contents and appends */
	json_t *result;			   /* the "flatctl" object of the result file, extended
					    * here (counts, stages, skipped, rebootRequired) */
	bool user_config_provided;
	bool reboot_required_before; /* an earlier stage process (ignition mode) set it */
};

/* The outcome of prov_run(). */
struct prov_outcome {
	json_t *items;	      /* [{"op", "kind", "path", "detail"}]: the plan as printed */
	bool would_fail;      /* an item is "!" (dry run) */
	bool reboot_required; /* kargs changed */
	bool committed;	      /* the root was changed */
	unsigned steps;	      /* journal steps committed */
	bool disks_changed;   /* a failed run had written a partition table or made a
			       * filesystem before it failed (not undone: problems say what) */
};
void prov_outcome_release(struct prov_outcome *o);

/* Plan the stages of o->stages for config (rendered, merged, valid, newest 3.x structure) and,
 * unless o->dry_run, stage and commit them all or nothing. Every problem goes to reterr with the
 * JSON pointer of its entry. Returns 0 (done, or planned in a dry run), -EINVAL (the plan
 * failed: nothing was changed), -EIO and others (the commit failed and was rolled back),
 * -ENOTRECOVERABLE (the rollback failed too: the journal is kept for the next run). */
int prov_run(const struct prov_options *o, json_t *config, struct prov_outcome *out,
	     struct problem_list *reterr);

/* An interrupted run leaves <root>/.flatctl-stage.*: roll its journal back (or finish its
 * cleanup when it had committed). Returns the number of staging directories dealt with (0:
 * none), or -errno (-ENOTRECOVERABLE: a step could not be undone; problems say which). With
 * dry_run only counts them. */
int prov_recover(int root_fd, bool dry_run, struct problem_list *reterr);

/* Take the provisioning lock of the root (flock on the root directory) for the life of the
 * returned fd. -EBUSY when another run holds it. */
int prov_lock(int root_fd);

#define PROV_RESULT_PATH "/etc/.ignition-result.json"

/* The kargs edit of Flatcar's ignition-kargs-helper (flatcar/bootengine
 * dracut/30ignition/ignition-kargs-helper) on the text of oem/grub.cfg: the arguments are
 * those of the unconditional `set linux_append="..."` lines; add[] are appended when missing,
 * del[] removed; with flatcar.immutable=1 among them rootflags=ro is added. When that changes
 * the arguments, every such line is blanked and one new line appended. *ret is the new text
 * (set only when *ret_changed). Returns 0 or -ENOMEM. */
int prov_kargs_edit(const char *text, const char *const *add, size_t nadd, const char *const *del,
		    size_t ndel, char **ret, bool *ret_changed, bool *ret_immutable);
