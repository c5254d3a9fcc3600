/* SPDX-License-Identifier: MIT */
/* lib/provision/stages.c - the stage runner (docs/provision.md §5, docs/provision-apply.md):
 * every stage of the run plans first, against the root as it is and what the earlier stages
 * plan; only when the whole plan is good is anything staged and committed, in one journal. A
 * stage is a plan function in the table below.
 *
 * Storage (disks, mount, umount) cannot go through the journal: a partition table or a new
 * filesystem cannot be staged out of sight. A run with storage work therefore plans everything
 * first as a dry run (every partition change, every filesystem decision, every file entry with
 * each mount point taken as the empty top of its filesystem, every fetch and hash), and only
 * when all of that is good writes the tables, makes the filesystems and mounts them, then plans
 * the files stage again against the mounted filesystems and commits it through the journal,
 * and unmounts (docs/provision-apply.md §7). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs.h"
#include "internal.h"
#include "storage.h"
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

static int plan_disks(struct prov_plan *p, json_t *config)
{
	return storage_plan_disks(p, config);
}

static int plan_mount(struct prov_plan *p, json_t *config)
{
	return storage_plan_mount(p, config);
}

static int plan_umount(struct prov_plan *p, json_t *config)
{
	return storage_plan_umount(p, config);
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

/* Whether the stages of this run have storage work in config (which then runs in two passes). */
static bool has_storage(json_t *config, unsigned stages)
{
	json_t *st = json_object_get(config, "storage");
	if ((stages & (1u << PROV_STAGE_DISKS)) &&
	    (json_array_size(json_object_get(st, "disks")) ||
	     json_array_size(json_object_get(st, "raid")) ||
	     json_array_size(json_object_get(st, "luks")) ||
	     json_array_size(json_object_get(st, "filesystems"))))
		return true;
	if (!(stages & ((1u << PROV_STAGE_MOUNT) | (1u << PROV_STAGE_UMOUNT))))
		return false;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(st, "filesystems"), i, f)
	{
		const char *fmt = json_string_value(json_object_get(f, "format"));
		if (json_is_string(json_object_get(f, "path")) && fmt && strcmp(fmt, "swap") != 0 &&
		    strcmp(fmt, "none") != 0)
			return true;
	}
	return false;
}

static int plan_init(struct prov_plan *p, const struct prov_options *o, struct problem_list *reterr)
{
	*p = (struct prov_plan){
		.o = o,
		.root_fd = o->root_fd,
		.l = reterr,
		.items = json_array(),
		.nodes = json_object(),
		.skipped = json_array(),
		.jfd = -1,
	};
	if (!p->items || !p->nodes || !p->skipped)
		return -ENOMEM;
	if (fstat(o->root_fd, &p->root_st) < 0)
		return -errno;
	return 0;
}

static void plan_release(struct prov_plan *p)
{
	plan_discard(p);
	json_decref(p->items);
	json_decref(p->nodes);
	json_decref(p->skipped);
	pw_db_free(p->db);
	p->st = storage_free(p->st);
	*p = (struct prov_plan){ .jfd = -1 };
}

/* Plan every stage of mask in order. -ENOMEM, or 0 (p->failed or errors tell the verdict). */
static int plan_stages(struct prov_plan *p, json_t *config, unsigned mask)
{
	int r = 0;
	for (size_t i = 0; i < ARRAY_SIZE(stage_table) && r >= 0; i++)
		if (mask & (1u << stage_table[i].stage))
			r = stage_table[i].plan(p, config);
	return r == -ENOMEM ? r : 0;
}

static bool plan_bad(const struct prov_plan *p, struct problem_list *l)
{
	return p->failed || problem_has_errors(l);
}

static void commit_outcome(struct prov_plan *p, struct prov_outcome *out, int r)
{
	out->committed |= r >= 0 && out->steps > 0;
	if (r == -ENOTRECOVERABLE) {
		/* the journal and staging stay for the next run to roll back */
		for (size_t i = 0; i < p->ndirs; i++)
			if (p->dirs[i].fd >= 0)
				close(p->dirs[i].fd);
		free(p->dirs);
		p->dirs = NULL;
		p->ndirs = 0;
	}
}

/* After a failure that came after a disk was written: say what cannot be undone. */
static void report_done(struct prov_plan *p, struct problem_list *l)
{
	json_t *done = p->st ? p->st->done : NULL;
	char text[1024] = "";
	size_t i, n = 0;
	json_t *d;
	json_array_foreach(done, i, d)
	{
		const char *k = json_string_value(json_object_get(d, "kind"));
		if (!strcmp(k, "mount"))
			continue;
		n += (size_t)snprintf(text + n, n < sizeof(text) ? sizeof(text) - n : 0,
				      "%s%s %s %s", n ? ", " : "", k,
				      json_string_value(json_object_get(d, "device")),
				      json_string_value(json_object_get(d, "detail")));
	}
	if (text[0])
		(void)problem_add(l, -EIO, "",
				  "changed on disk before the failure, and not undone (a partition "
				  "table or a new filesystem cannot be): %s",
				  text);
}

/* The storage run: plan all (dry), write the disks, mount, plan and commit the files, unmount. */
static int run_storage(const struct prov_options *o, json_t *config, struct prov_outcome *out,
		       struct problem_list *reterr)
{
	struct prov_options dry = *o;
	struct prov_plan p1, p2;
	bool mounted = false;
	int r;

	dry.dry_run = true;
	r = plan_init(&p1, &dry, reterr);
	p1.storage_exec = true;
	p1.mark_mounts = true;
	if (r >= 0)
		r = plan_stages(&p1, config, o->stages);
	out->items = json_incref(p1.items);
	if (r < 0)
		goto done1;
	if (plan_bad(&p1, reterr)) {
		out->would_fail = true;
		r = -EINVAL;
		goto done1;
	}
	if (o->stages & (1u << PROV_STAGE_DISKS)) {
		r = storage_exec_disks(&p1);
		if (r < 0)
			goto failed;
	}
	if (o->stages & (1u << PROV_STAGE_MOUNT)) {
		r = storage_exec_mount(&p1);
		mounted = true;
		if (r < 0)
			goto failed;
	}
	if (p1.st && json_array_size(p1.st->done) && o->result)
		(void)json_object_set(o->result, "storage", p1.st->done);
	unsigned rest = o->stages & ((1u << PROV_STAGE_KARGS) | (1u << PROV_STAGE_FILES));
	if (rest) {
		r = plan_init(&p2, o, reterr);
		if (r >= 0) {
			(void)json_array_extend(p2.skipped, p1.skipped);
			r = plan_stages(&p2, config, rest);
		}
		if (r >= 0 && plan_bad(&p2, reterr))
			r = -EINVAL;
		if (r >= 0)
			r = plan_commit(&p2, &out->steps);
		out->reboot_required = p2.reboot_required;
		commit_outcome(&p2, out, r);
		plan_release(&p2);
		if (r < 0)
			goto failed;
	}
	out->steps += (unsigned)json_array_size(p1.st ? p1.st->done : NULL);
	out->committed = out->steps > 0;
	if (o->stages & (1u << PROV_STAGE_UMOUNT)) {
		r = storage_exec_umount(&p1, false);
		if (r < 0)
			goto done1;
	}
	/* what went through the filesystems' loop devices reaches the disks and images */
	for (size_t i = 0; p1.st && i < p1.st->nd; i++)
		(void)fsync(p1.st->d[i].fd);
	r = 0;
	goto done1;
failed:
	/* what this run wrote to the disks reaches them even when it failed */
	for (size_t i = 0; p1.st && i < p1.st->nd; i++)
		if (p1.st->d[i].written)
			(void)fsync(p1.st->d[i].fd);
	/* the root as it was: what this run mounted goes, and the mount points it made */
	if (mounted)
		(void)storage_exec_umount(&p1, true);
	report_done(&p1, reterr);
	out->disks_changed = storage_disks_done(p1.st);
	if (r != -ENOTRECOVERABLE && r != -ENOMEM)
		r = -EIO;
done1:
	plan_release(&p1);
	return r;
}

int prov_run(const struct prov_options *o, json_t *config, struct prov_outcome *out,
	     struct problem_list *reterr)
{
	struct prov_plan p;
	int r;

	*out = (struct prov_outcome){};
	if (!o->dry_run && has_storage(config, o->stages))
		return run_storage(o, config, out, reterr);
	r = plan_init(&p, o, reterr);
	p.mark_mounts = o->dry_run;
	if (r >= 0)
		r = plan_stages(&p, config, o->stages);
	out->items = json_incref(p.items);
	if (r < 0)
		goto done;
	out->reboot_required = p.reboot_required;
	if (plan_bad(&p, reterr)) {
		out->would_fail = true;
		r = -EINVAL;
		goto done;
	}
	if (o->dry_run) {
		r = 0;
		goto done;
	}
	r = plan_commit(&p, &out->steps);
	commit_outcome(&p, out, r);
done:
	plan_release(&p);
	return r;
}
