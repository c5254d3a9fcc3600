/* SPDX-License-Identifier: MIT */
/* lib/provision/internal.h - the plan shared by the stages, the staging area and the journal. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "provision/passwd.h"
#include "provision/provision.h"

/* One reversible change, done in order at commit and undone in reverse order on failure or by
 * the next run after a crash. Each undo looks at what is there, so undoing a step that never
 * happened does nothing. */
struct prov_step {
	char op;	 /* 'P' place a staged node, 'B' back up (move away) a node, 'A' owner and
			  * mode, 'W' append in place, 'M' move a node */
	unsigned sdir;	 /* staging directory of the staged node ('P', 'B', 'W') */
	char name[24];	 /* the staged node's name in it */
	char *path;	 /* canonical destination ('M': source) */
	char *path2;	 /* 'M': canonical destination */
	uid_t uid, ouid; /* 'A': new and old owner */
	gid_t gid, ogid;
	mode_t mode, omode;
	bool chown, chmod;
	uint64_t old_size; /* 'W': the size to truncate back to */
	uint64_t ino;	   /* 'A', 'W': the node they apply to */
	char *where;	   /* JSON pointer of the config entry, for messages */
};

struct prov_stagedir {
	dev_t dev;
	char *canon; /* root-relative path of the staging directory */
	int fd;
	int pfd; /* O_PATH, its parent: the cleanup removes it without resolving a path (which
		  * may allocate, in the userspace fallback of fs_open_canon_dir) */
	unsigned next;
};

enum prov_node_kind {
	NODE_DIR = 'd',
	NODE_FILE = 'f',
	NODE_LINK = 'l',
	NODE_GONE = '-',
};

/* The owners a name resolves to in the root after this plan's passwd changes. */
struct pw_db;

struct prov_plan {
	const struct prov_options *o;
	int root_fd;
	struct stat root_st;
	struct problem_list *l;
	json_t *items;
	json_t *nodes; /* canonical path -> {"k": kind, "w": entry, "new": created here} */
	struct prov_stagedir *dirs;
	size_t ndirs;
	struct prov_step *steps;
	size_t nsteps, asteps;
	int jfd;
	bool failed;
	bool reboot_required;
	unsigned n_files, n_dirs, n_links, n_units, n_users, n_groups;
	struct pw_db *db;
	json_t *skipped;
	struct prov_storage *st; /* the disks, mount and umount stages (storage.h) */
	bool storage_exec; /* the storage plan will be carried out: disks opened for writing */
	bool mark_mounts;  /* files are planned before the mounts exist: a mount point is
			    * the empty top of a new filesystem */
};

/* plan.c: items and problems */
void plan_item(struct prov_plan *p, char op, const char *kind, const char *path, const char *fmt,
	       ...) _printf_(5, 6);
int plan_fail(struct prov_plan *p, int err, const char *where, const char *path, const char *fmt,
	      ...) _printf_(5, 6);

/* Where a config path lands (docs/provision.md §6), seen through what this plan already
 * creates or removes: exists/st tell the final node now (or as planned). Returns 0 or a
 * -errno already reported at where. */
struct prov_target {
	char *canon;
	size_t missing; /* canon[missing..] does not exist (yet) */
	bool exists;
	struct stat st;
	bool planned; /* the node is one this plan creates */
};
void prov_target_release(struct prov_target *t);
int plan_resolve(struct prov_plan *p, const char *path, const char *where, struct prov_target *ret);
/* Record the final node of t as planned (kind, entry). -EEXIST (reported) if another entry of
 * this plan already resolves there. */
int plan_claim(struct prov_plan *p, const struct prov_target *t, char kind, const char *where,
	       const char *path);
/* Create the missing parents of t (0755 root:root, as Ignition's MkdirAll). */
int plan_parents(struct prov_plan *p, const struct prov_target *t, const char *where);

/* journal.c: staging and steps */
int stage_dir_for(struct prov_plan *p, const char *canon, size_t missing, unsigned *ret);
/* Staged nodes (nothing in dry-run mode: *ret_name is still filled). */
int stage_file(struct prov_plan *p, unsigned sdir, const void *data, size_t n, mode_t mode,
	       uid_t uid, gid_t gid, int xattr_src_fd, char *ret_name);
int stage_dir(struct prov_plan *p, unsigned sdir, mode_t mode, uid_t uid, gid_t gid,
	      char *ret_name);
int stage_symlink(struct prov_plan *p, unsigned sdir, const char *target, uid_t uid, gid_t gid,
		  char *ret_name);
int stage_hardlink(struct prov_plan *p, unsigned sdir, int target_dfd, const char *target_name,
		   char *ret_name);
/* Steps. */
struct prov_step *step_add(struct prov_plan *p, char op, const char *path, const char *where);
int step_place(struct prov_plan *p, unsigned sdir, const char *name, const char *canon,
	       const char *where);
int step_backup(struct prov_plan *p, const char *canon, size_t missing, const char *where);
int step_attr(struct prov_plan *p, const char *canon, const struct stat *st, uid_t uid, gid_t gid,
	      bool chown, mode_t mode, bool chmod, const char *where);
int step_append(struct prov_plan *p, const char *canon, const struct stat *st, const void *data,
		size_t n, const char *where);
int step_move(struct prov_plan *p, const char *from, const char *to, const char *where);

int plan_commit(struct prov_plan *p, unsigned *ret_done);
void plan_discard(struct prov_plan *p);

/* users.c: passwd, shadow, group, gshadow (docs/provision.md §5.2 step 1-2) */
int plan_passwd(struct prov_plan *p, json_t *config);
/* Load the root's passwd, shadow, group, gshadow (once; failures reported at where). */
int plan_pw_db(struct prov_plan *p, const char *where);
/* uid/gid of a user or group name in the root (after this plan's changes), -ENOENT if none. */
int pw_db_user_id(struct pw_db *db, const char *name, uid_t *ret_uid, gid_t *ret_gid,
		  char **ret_home);
int pw_db_group_id(struct pw_db *db, const char *name, gid_t *ret);
struct pw_db *pw_db_free(struct pw_db *db);

/* files.c */
int plan_files(struct prov_plan *p, json_t *config);
int plan_units(struct prov_plan *p, json_t *config);
int plan_result(struct prov_plan *p, json_t *config);
int plan_first_boot_done(struct prov_plan *p);
/* Write a whole new file at path: replaced if it exists (backup first), metadata (owner, mode,
 * xattrs) kept from the old file when keep_meta, else mode/uid/gid. */
int plan_put_file(struct prov_plan *p, const char *path, const char *where, const void *data,
		  size_t n, mode_t mode, uid_t uid, gid_t gid, bool keep_meta, const char *kind,
		  bool replace);

/* kargs.c */
int plan_kargs(struct prov_plan *p, json_t *config);
