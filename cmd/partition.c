/* SPDX-License-Identifier: MIT */
/* cmd/partition.c - show and change the USR-A/USR-B boot attributes, repair and grow the GPT;
 * see flatctl-partition(1), docs/partitions.md §8, docs/cli.md. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args/args.h"
#include "cgpt.h"
#include "cmd.h"
#include "fs/fs.h"
#include "gpt/gpt.h"
#include "log/log.h"
#include "partition.h"
#include "util/escape.h"
#include "util/problem.h"

/* Until cmd/cgpt.c is linked in, the cgpt link name has no implementation. */
int cmd_cgpt_link(int argc, char **argv, struct flat_ctx *ctx) __attribute__((weak));

/* Exit-code conversion of lib/gpt's errors (§10): unusable input is a usage-class error (2). */
static int input_error(int r)
{
	switch (-r) {
	case ENOMSG:
	case EBADMSG:
	case EINVAL:
	case ENOENT:
	case EISDIR:
	case ENODEV:
	case ENOTBLK:
	case ENOTUNIQ:
		return -EINVAL;
	default:
		return r;
	}
}

static const char *first_error(const struct problem_list *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->item[i].severity == PROBLEM_ERROR)
			return p->item[i].message;
	return NULL;
}

static void print_read_error(const char *path, int r, const struct problem_list *p)
{
	if (r == -EBADMSG) {
		char buf[1024] = "";
		size_t o = 0;
		for (size_t i = 0; i < p->n && o < sizeof(buf); i++)
			if (p->item[i].severity == PROBLEM_ERROR)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
						      o ? "; " : "", p->item[i].message);
		(void)log_fail(r, "reading '%s': both GPT copies are damaged: %s", path, buf);
		return;
	}
	const char *why = first_error(p);
	if (r == -EINVAL && why && strncmp(why, "laid out for", 12) == 0) {
		(void)log_fail(r, "reading '%s': the GPT on '%s' is %s", path, path, why);
		return;
	}
	if (why) {
		const struct problem *q = NULL;
		for (size_t i = 0; i < p->n; i++)
			if (p->item[i].severity == PROBLEM_ERROR) {
				q = &p->item[i];
				break;
			}
		if (q && q->where && r == -EINVAL && strcmp(q->where, path) != 0)
			(void)log_fail(r, "reading '%s': %s: %s", path, q->where, why);
		else
			(void)log_fail(r, "reading '%s': %s", path, why);
	} else
		(void)log_error_errno(r, "reading '%s'", path);
}

/* What to do about a damaged or stale copy: `partition repair`, unless no write can work on this
 * disk (it shrank below a partition, docs/partitions.md §6.5): then repair exits 2 as well, and
 * only restoring the disk's size helps (issue 14, D6). */
static const char *repair_advice(const struct gpt *g, char *buf, size_t size)
{
	_cleanup_(problem_list_release) struct problem_list p = {};

	if (gpt_check_writable(g, &p) >= 0 || !first_error(&p))
		snprintf(buf, size, "run 'flatctl partition repair'");
	else
		snprintf(buf, size,
			 "'flatctl partition repair' cannot fix this: %s; restore the disk's size "
			 "first",
			 first_error(&p));
	return buf;
}

static void print_copy_warning(const struct gpt_disk *d)
{
	const struct gpt *g = d->gpt;
	char msg[512], advice[512];
	size_t o = 0;

	if (g->primary.state != GPT_COPY_OK)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "primary GPT %s (%s)",
				      gpt_copy_state_to_string(g->primary.state),
				      g->primary.problem ? g->primary.problem : "damaged");
	if (g->backup.state != GPT_COPY_OK)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%sbackup GPT %s (%s)",
				      o ? ", " : "", gpt_copy_state_to_string(g->backup.state),
				      g->backup.problem ? g->backup.problem : "damaged");
	if (o)
		log_warning("warning: '%s': %s; %s", d->path, msg,
			    repair_advice(g, advice, sizeof(advice)));
	if (g->mbr == GPT_MBR_NO_EE || g->mbr == GPT_MBR_UNKNOWN)
		log_warning("warning: '%s': the MBR has no protective 0xEE record", d->path);
	else if (g->mbr_size_mismatch)
		log_warning("warning: '%s': the protective MBR record does not match the disk size",
			    d->path);
}

static int root_booted(struct flat_ctx *ctx, struct gpt_disk *d, bool *ret_inferred);

int partition_open(struct flat_ctx *ctx, bool lock, bool warn_repair, struct gpt_disk **ret)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	_cleanup_free_ char *found = NULL;
	const char *path = ctx->disk;
	int r;

	if (!path) {
		r = gpt_find_disk(&p, &found);
		if (r == -ENOTUNIQ) {
			/* §8.6: several Flatcar disks; take the one holding the booted /usr. */
			const char *pick = NULL;
			unsigned hits = 0;
			for (size_t i = 0; i < p.n; i++) {
				_cleanup_(gpt_disk_freep) struct gpt_disk *c = NULL;
				bool inferred = false;
				if (!p.item[i].where ||
				    gpt_disk_open(p.item[i].where, 0, &c, NULL) < 0)
					continue;
				if (root_booted(ctx, c, &inferred) > 0 && !inferred) {
					pick = p.item[i].where;
					hits++;
				}
			}
			if (hits == 1) {
				found = strdup(pick);
				if (!found)
					return log_fail(-ENOMEM, "out of memory");
				r = 0;
			}
		}
		if (r == -ENOTUNIQ) {
			char buf[512] = "";
			size_t o = 0;
			for (size_t i = 0; i < p.n && o < sizeof(buf); i++)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s'%s'",
						      o ? ", " : "",
						      p.item[i].where ? p.item[i].where : "?");
			return log_fail(-EINVAL,
					"several disks carry a USR-A partition (%s); use --disk",
					buf);
		}
		if (r < 0)
			return log_fail(-EINVAL,
					"no disk with a USR-A partition found; use --disk");
		path = found;
	}
	r = gpt_disk_open(path, lock ? GPT_DISK_LOCK : 0, ret, &p);
	if (r == -EBUSY)
		return log_fail(r, "locking '%s': held by another process", path);
	if (r == -ENOENT || r == -EISDIR || r == -ENODEV)
		return log_fail(-EINVAL, "opening '%s': %s", path,
				first_error(&p) ? first_error(&p) : strerror(-r));
	if (r < 0) {
		print_read_error(path, r, &p);
		return input_error(r);
	}
	if (warn_repair)
		print_copy_warning(*ret);
	else if ((*ret)->gpt->primary.state != GPT_COPY_OK ||
		 (*ret)->gpt->backup.state != GPT_COPY_OK)
		log_info("'%s': the damaged or stale GPT copy is rebuilt by this write", path);
	return 0;
}

int partition_commit(struct flat_ctx *ctx, struct gpt_disk *d)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int r = gpt_disk_commit(d, &p);

	if (r == -EROFS)
		return log_fail(-EROFS, "opening '%s' for writing: read-only device", d->path);
	if (r < 0) {
		const char *why = first_error(&p);
		if (r == -EINVAL)
			return log_fail(r, "writing '%s': %s", d->path, why ? why : "refused");
		return log_fail(r, "writing '%s': %s", d->path, why ? why : strerror(-r));
	}
	return r;
}

const char *partition_describe(const struct gpt *g, int nr, char *buf, size_t size)
{
	char name[GPT_LABEL_MAX];

	if (nr <= 0) {
		snprintf(buf, size, "none (no USR partition qualifies)");
		return buf;
	}
	const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)nr);
	unsigned t = gpt_entry_tries(e);
	if (gpt_entry_is_successful(e))
		snprintf(buf, size, "%s (partition %d, successful)",
			 gpt_entry_name(g, (unsigned)nr, name), nr);
	else
		snprintf(buf, size, "%s (partition %d, %u %s left)",
			 gpt_entry_name(g, (unsigned)nr, name), nr, t, t == 1 ? "try" : "tries");
	return buf;
}

/* "USR-B, 1 try left, then USR-A" when the choice depends on tries (§8.1). */
static void describe_next(const struct gpt *g, char *buf, size_t size)
{
	char name[GPT_LABEL_MAX], name2[GPT_LABEL_MAX];
	int nr = gpt_next_boot(g);

	if (nr < 0) {
		snprintf(buf, size, "none (no USR partition qualifies)");
		return;
	}
	const struct gpt_entry *e = gpt_entry_get_const(g, (unsigned)nr);
	if (gpt_entry_is_successful(e) || gpt_entry_tries(e) == 0) {
		snprintf(buf, size, "%s (partition %d)", gpt_entry_name(g, (unsigned)nr, name), nr);
		return;
	}
	/* After the tries are spent (and no successful mark), GRUB picks again. */
	struct gpt tmp = *g;
	_cleanup_free_ struct gpt_entry *ents = malloc((size_t)g->hdr.num_entries * sizeof(*ents));
	int after = -ENOENT;
	if (ents) {
		memcpy(ents, g->entries, (size_t)g->hdr.num_entries * sizeof(*ents));
		tmp.entries = ents;
		(void)gpt_entry_set_tries(&ents[nr - 1], 0);
		after = gpt_next_boot(&tmp);
	}
	unsigned t = gpt_entry_tries(e);
	snprintf(buf, size, "%s, %u %s left, then %s", gpt_entry_name(g, (unsigned)nr, name), t,
		 t == 1 ? "try" : "tries",
		 after > 0 ? gpt_entry_name(g, (unsigned)after, name2) : "none");
}

static json_t *name_or_null(const struct gpt *g, int nr)
{
	char name[GPT_LABEL_MAX];

	if (nr <= 0)
		return json_null();
	return json_string(gpt_entry_name(g, (unsigned)nr, name));
}

static int root_booted(struct flat_ctx *ctx, struct gpt_disk *d, bool *ret_inferred)
{
	_cleanup_close_ int root_fd = fs_root_open(ctx->root);
	bool slash = !ctx->root || strcmp(ctx->root, "/") == 0;

	*ret_inferred = false;
	if (root_fd < 0)
		return -ENOENT;
	return gpt_find_booted(root_fd, slash, d, ret_inferred);
}

static const char *copy_status(const struct gpt_copy *c, char *buf, size_t size)
{
	if (c->state == GPT_COPY_OK)
		snprintf(buf, size, "ok");
	else
		snprintf(buf, size, "%s: %s", gpt_copy_state_to_string(c->state),
			 c->problem ? c->problem : "damaged");
	return buf;
}

int partition_print_state(struct flat_ctx *ctx, struct gpt_disk *d, int changed)
{
	const struct gpt *g = d->gpt;
	unsigned nrs[GPT_MAX_ENTRIES];
	unsigned n = gpt_usr_entries(g, nrs, GPT_MAX_ENTRIES);
	bool inferred = false;
	int booted = root_booted(ctx, d, &inferred);
	int next = gpt_next_boot(g);
	char name[GPT_LABEL_MAX], guid[GPT_GUID_STRING_MAX];

	if (ctx->json) {
		json_auto_t *doc = json_object();
		json_t *parts = json_array(), *problems = json_array();
		if (!doc || !parts || !problems) {
			json_decref(parts);
			json_decref(problems);
			return log_fail(-ENOMEM, "out of memory");
		}
		const struct gpt_copy *copies[2] = { &g->primary, &g->backup };
		for (size_t i = 0; i < 2; i++)
			if (copies[i]->state != GPT_COPY_OK && copies[i]->detail)
				json_array_append_new(problems, json_string(copies[i]->detail));
		for (unsigned i = 0; i < n; i++) {
			const struct gpt_entry *e = gpt_entry_get_const(g, nrs[i]);
			char attr[32];
			snprintf(attr, sizeof(attr), "0x%016" PRIx64, gpt_entry_attributes(e));
			gpt_entry_label(e, name);
			json_array_append_new(
				parts,
				json_pack("{s:I, s:s, s:s, s:I, s:I, s:b, s:s, s:b, s:b}", "number",
					  (json_int_t)nrs[i], "label", name, "uuid",
					  gpt_guid_to_string(&e->unique, false, guid), "priority",
					  (json_int_t)gpt_entry_priority(e), "tries",
					  (json_int_t)gpt_entry_tries(e), "successful",
					  gpt_entry_is_successful(e), "attributes", attr, "booted",
					  booted == (int)nrs[i], "next", next == (int)nrs[i]));
		}
		json_object_set_new(doc, "disk", json_string(d->path));
		json_object_set_new(doc, "sector_size", json_integer(g->sector_size));
		json_object_set_new(doc, "sectors", json_integer((json_int_t)g->sectors));
		json_object_set_new(
			doc, "disk_guid",
			json_string(gpt_guid_to_string(&g->hdr.disk_guid, false, guid)));
		json_object_set_new(doc, "gpt",
				    json_pack("{s:s, s:s, s:s, s:b, s:o}", "source",
					      gpt_source_to_string(g->source)
						      ? gpt_source_to_string(g->source)
						      : "primary",
					      "primary", gpt_copy_state_to_string(g->primary.state),
					      "backup", gpt_copy_state_to_string(g->backup.state),
					      "grown", g->grown, "problems", problems));
		json_object_set_new(doc, "booted", name_or_null(g, booted));
		if (booted > 0 && inferred)
			json_object_set_new(doc, "booted_inferred", json_true());
		json_object_set_new(doc, "next", name_or_null(g, next));
		json_object_set_new(doc, "partitions", parts);
		if (changed >= 0)
			json_object_set_new(doc, "changed", json_boolean(changed > 0));
		if (json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
			return log_fail(-EIO, "writing the JSON document failed");
		fputc('\n', stdout);
		return 0;
	}

	char pbuf[256], bbuf[256], nbuf[256], advice[512];
	bool ok = g->primary.state == GPT_COPY_OK && g->backup.state == GPT_COPY_OK;
	printf("Disk:       %s  GPT %s (primary %s, backup %s)%s%s, %" PRIu32 "-byte sectors%s\n",
	       d->path, ok ? "ok" : "usable", copy_status(&g->primary, pbuf, sizeof(pbuf)),
	       copy_status(&g->backup, bbuf, sizeof(bbuf)), ok ? "" : "; ",
	       ok ? "" : repair_advice(g, advice, sizeof(advice)), g->sector_size,
	       g->grown ? ", disk grew" : "");
	if (booted > 0)
		printf("Booted:     %s (partition %d)%s\n",
		       gpt_entry_name(g, (unsigned)booted, name), booted,
		       inferred ? " (inferred from the attributes)" : "");
	else
		printf("Booted:     unknown\n");
	describe_next(g, nbuf, sizeof(nbuf));
	printf("Next boot:  %s\n\n", nbuf);

	/* labels come from the disk: escaped before they reach the terminal (docs/cli.md) */
	char esc[GPT_LABEL_MAX * 4];
	int w = 5;
	for (unsigned i = 0; i < n; i++) {
		gpt_entry_label(gpt_entry_get_const(g, nrs[i]), name);
		int l = (int)strlen(str_escape_buf(name, esc, sizeof(esc)));
		if (l > w)
			w = l;
	}
	printf("PART  %-*s  PRIORITY  TRIES  SUCCESSFUL  UUID\n", w, "LABEL");
	for (unsigned i = 0; i < n; i++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nrs[i]);
		gpt_entry_label(e, name);
		printf("%4u  %-*s  %8u  %5u  %-10s  %s\n", nrs[i], w,
		       str_escape_buf(name, esc, sizeof(esc)), gpt_entry_priority(e),
		       gpt_entry_tries(e), gpt_entry_is_successful(e) ? "yes" : "no",
		       gpt_guid_to_string(&e->unique, false, guid));
	}
	return 0;
}

/* ---- verbs ---- */

struct partition_args {
	struct flat_ctx *ctx;
	const struct args *args;
	bool force;
	bool dry_run;
};

static int verb_show(int argc, char **argv, void *userdata)
{
	struct partition_args *pa = userdata;
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	int r = partition_open(pa->ctx, false, true, &d);

	if (r < 0)
		return r;
	return partition_print_state(pa->ctx, d, -1);
}

static int find_target(struct partition_args *pa, struct gpt_disk *d, const char *target)
{
	_cleanup_(problem_list_release) struct problem_list p = {};
	int nr = gpt_find_usr_target(d->gpt, target, &p);

	if (nr < 0) {
		if (target[strspn(target, "0123456789")] == 0)
			return log_fail(-EINVAL, "no partition %s of type flatcar-usr on '%s'",
					target, d->path);
		return log_fail(-EINVAL, "no partition labelled '%s' of type flatcar-usr on '%s'",
				target, d->path);
	}
	return nr;
}

static int finish(struct partition_args *pa, struct gpt_disk *d, int changed)
{
	char buf[256];

	if (pa->ctx->json)
		return partition_print_state(pa->ctx, d, changed);
	if (pa->ctx->verbosity >= 0)
		printf("next boot: %s\n",
		       partition_describe(d->gpt, gpt_next_boot(d->gpt), buf, sizeof(buf)));
	return 0;
}

static int verb_prioritize(int argc, char **argv, void *userdata)
{
	struct partition_args *pa = userdata;
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	char name[GPT_LABEL_MAX];
	int r = partition_open(pa->ctx, true, false, &d);

	if (r < 0)
		return r;
	int nr = find_target(pa, d, argv[1]);
	if (nr < 0)
		return nr;
	r = gpt_prioritize(d->gpt, (unsigned)nr, 0, false);
	if (r < 0)
		return log_error_errno(r, "prioritizing '%s'", argv[1]);
	const struct gpt_entry *e = gpt_entry_get_const(d->gpt, (unsigned)nr);
	if (gpt_entry_tries(e) == 0 && !gpt_entry_is_successful(e))
		log_warning(
			"warning: %s has no tries left and is not marked successful, so GRUB will "
			"skip it; use 'flatctl rollback' or 'cgpt add -T 1' to give it a try",
			gpt_entry_name(d->gpt, (unsigned)nr, name));
	r = partition_commit(pa->ctx, d);
	if (r < 0)
		return r;
	return finish(pa, d, r);
}

static int verb_mark_successful(int argc, char **argv, void *userdata)
{
	struct partition_args *pa = userdata;
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	char name[GPT_LABEL_MAX], bname[GPT_LABEL_MAX];
	bool inferred = false;
	int r = partition_open(pa->ctx, true, false, &d);

	if (r < 0)
		return r;
	int booted = root_booted(pa->ctx, d, &inferred);
	if (inferred)
		booted = -ENOENT; /* §8.7 step 3 does not count here */
	int nr;
	if (argc < 2) {
		if (booted < 0)
			return log_fail(
				-EINVAL,
				"cannot tell which USR partition is booted: no mount.usr= "
				"or verity.usr= on the kernel command line; name the partition");
		nr = booted;
	} else {
		nr = find_target(pa, d, argv[1]);
		if (nr < 0)
			return nr;
		if (booted > 0 && nr != booted && !pa->force)
			return log_fail(
				-EINVAL,
				"%s is not the booted partition (%s is); marking an unbooted "
				"image good makes GRUB boot it for ever; use --force to do it anyway",
				gpt_entry_name(d->gpt, (unsigned)nr, name),
				gpt_entry_name(d->gpt, (unsigned)booted, bname));
	}
	uint64_t before = gpt_entry_attributes(gpt_entry_get_const(d->gpt, (unsigned)nr));
	_cleanup_free_ uint64_t *old = calloc(gpt_num_entries(d->gpt), sizeof(uint64_t));
	if (!old)
		return log_fail(-ENOMEM, "out of memory");
	for (unsigned i = 1; i <= gpt_num_entries(d->gpt); i++)
		old[i - 1] = gpt_entry_attributes(gpt_entry_get_const(d->gpt, i));
	r = gpt_mark_successful(d->gpt, (unsigned)nr);
	if (r < 0)
		return log_error_errno(r, "marking '%s' successful",
				       gpt_entry_name(d->gpt, (unsigned)nr, name));
	bool attrs_changed = false;
	for (unsigned i = 1; i <= gpt_num_entries(d->gpt); i++)
		attrs_changed |= old[i - 1] != gpt_entry_attributes(gpt_entry_get_const(d->gpt, i));
	(void)before;
	r = partition_commit(pa->ctx, d);
	if (r < 0)
		return r;
	if (!attrs_changed && !pa->ctx->json) {
		if (pa->ctx->verbosity >= 0)
			printf("%s is already marked successful\n",
			       gpt_entry_name(d->gpt, (unsigned)nr, name));
		return 0;
	}
	return finish(pa, d, r);
}

static int verb_repair(int argc, char **argv, void *userdata)
{
	struct partition_args *pa = userdata;
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	int r = partition_open(pa->ctx, true, false, &d);

	if (r < 0)
		return r;
	enum gpt_copy_state ps = d->gpt->primary.state, bs = d->gpt->backup.state;
	bool grown = d->gpt->grown;
	_cleanup_(problem_list_release) struct problem_list p = {};
	if (gpt_check_writable(d->gpt, &p) < 0)
		return log_fail(
			-EINVAL, "repairing '%s': %s; restore the disk's size first", d->path,
			first_error(&p) ? first_error(&p) : "the table does not fit the disk");
	r = partition_commit(pa->ctx, d);
	if (r < 0)
		return r;
	if (pa->ctx->json)
		return partition_print_state(pa->ctx, d, r);
	if (pa->ctx->verbosity < 0)
		return 0;
	if (r == 0)
		printf("GPT on '%s' is consistent\n", d->path);
	else
		printf("repaired GPT on '%s':%s%s%s\n", d->path,
		       ps != GPT_COPY_OK ? " primary rebuilt from the backup" : "",
		       bs != GPT_COPY_OK ? " backup rebuilt from the primary" : "",
		       grown ? " backup moved to the end of the disk" : "");
	return 0;
}

static int verb_grow(int argc, char **argv, void *userdata)
{
	struct partition_args *pa = userdata;
	_cleanup_(gpt_disk_freep) struct gpt_disk *d = NULL;
	_cleanup_(problem_list_release) struct problem_list p = {};
	char name[GPT_LABEL_MAX];
	const char *target = argc > 1 ? argv[1] : "ROOT";
	int nr;
	int r = partition_open(pa->ctx, !pa->dry_run, false, &d);

	if (r < 0)
		return r;
	if (target[0] == '/') {
		_cleanup_free_ char *disk = NULL;
		unsigned pn = 0;
		struct stat a, b;
		if (gpt_partition_device(target, &disk, &pn) < 0 || stat(disk, &a) < 0 ||
		    fstat(d->fd, &b) < 0 || a.st_rdev != b.st_rdev)
			return log_fail(-EINVAL, "'%s' is not a partition of '%s'", target,
					d->path);
		nr = (int)pn;
	} else if (target[strspn(target, "0123456789")] == 0)
		nr = atoi(target);
	else
		nr = gpt_find_label(d->gpt, target);
	const struct gpt_entry *e = nr > 0 ? gpt_entry_get_const(d->gpt, (unsigned)nr) : NULL;
	if (!e || !gpt_entry_is_used(e))
		return log_fail(-EINVAL, "no partition '%s' on '%s'", target, d->path);
	r = gpt_check_writable(d->gpt, &p);
	if (r < 0)
		return log_fail(-EINVAL, "growing '%s': %s", target, first_error(&p));

	uint64_t old_last = 0, new_last = 0;
	uint64_t first = gpt_entry_first_lba(e);
	int already = gpt_grow(d->gpt, (unsigned)nr, &old_last, &new_last);
	gpt_entry_name(d->gpt, (unsigned)nr, name);
	int changed = 0;
	if (!pa->dry_run && already == 0) {
		r = partition_commit(pa->ctx, d);
		if (r < 0)
			return r;
		changed = r;
	}
	uint32_t ss = d->gpt->sector_size;
	if (pa->ctx->json) {
		json_auto_t *doc =
			json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:b, s:b}", "disk", d->path,
				  "partition", (json_int_t)nr, "label", name, "old_last_lba",
				  (json_int_t)old_last, "new_last_lba", (json_int_t)new_last,
				  "old_size", (json_int_t)((old_last - first + 1) * ss), "new_size",
				  (json_int_t)((new_last - first + 1) * ss), "dry_run", pa->dry_run,
				  "changed", changed > 0);
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) < 0)
			return log_fail(-EIO, "writing the JSON document failed");
		fputc('\n', stdout);
		return 0;
	}
	if (pa->ctx->verbosity < 0)
		return 0;
	if (already == 1)
		printf("%s already fills the disk\n", name);
	else
		printf("%s %s from LBA %" PRIu64 "-%" PRIu64 " (%" PRIu64 " bytes) to LBA %" PRIu64
		       "-%" PRIu64 " (%" PRIu64 " bytes)\n",
		       name, pa->dry_run ? "would grow" : "grown", first, old_last,
		       (old_last - first + 1) * ss, first, new_last, (new_last - first + 1) * ss);
	return 0;
}

enum {
	OPT_FORCE = ARG_LONG_BASE,
	OPT_DRY_RUN,
};

static const struct flat_option partition_opts[] = {
	{ "force", OPT_FORCE, ARG_NONE, NULL,
	  "mark-successful: allow a partition that is not booted" },
	{ "dry-run", OPT_DRY_RUN, ARG_NONE, NULL, "grow: print what would change, write nothing" },
	{},
};

static const struct flat_verb partition_verbs[] = {
	{ "show", 0, 0, verb_show },
	{ "mark-successful", 0, 1, verb_mark_successful },
	{ "prioritize", 1, 1, verb_prioritize },
	{ "repair", 0, 0, verb_repair },
	{ "grow", 0, 1, verb_grow },
	{},
};

int cmd_partition(int argc, char **argv, struct flat_ctx *ctx)
{
	if (ctx->invoked_as && strcmp(ctx->invoked_as, "cgpt") == 0 && cmd_cgpt_link)
		return cmd_cgpt_link(argc, argv, ctx);

	_cleanup_(args_release) struct args a = {};
	struct partition_args pa = { .ctx = ctx, .args = &a };
	int r, c;

	r = args_init(
		&a, argc, argv, partition_opts,
		"[OPTIONS] show|mark-successful [TARGET]|prioritize TARGET|repair|grow [TARGET]",
		ctx, 0);
	if (r < 0)
		return log_fail(r, "out of memory");
	while ((c = args_next(&a)) > 0) {
		switch (c) {
		case OPT_FORCE:
			pa.force = true;
			break;
		case OPT_DRY_RUN:
			pa.dry_run = true;
			break;
		}
	}
	if (c < 0)
		return c;
	if (a.exit_now)
		return 0;
	return args_dispatch_verb(&a, partition_verbs, "show", args_rest_count(&a), args_rest(&a),
				  &pa);
}
