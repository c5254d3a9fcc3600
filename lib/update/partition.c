/* SPDX-License-Identifier: MIT */
/* lib/update/partition.c - USR-A/USR-B lookup and the undo of the postinstall flip
 * (docs/update.md 6.1, 2.4). */
#include <string.h>

#include "gpt/gpt.h"
#include "update/install.h"
#include "util/problem.h"

static int find_unique_label(const struct gpt *g, const char *label, struct problem_list *reterr)
{
	char name[GPT_LABEL_MAX];
	int found = -ENOENT;

	for (unsigned nr = 1; nr <= gpt_num_entries(g); nr++) {
		const struct gpt_entry *e = gpt_entry_get_const(g, nr);
		if (!gpt_entry_is_used(e))
			continue;
		(void)gpt_entry_label(e, name);
		if (strcmp(name, label) != 0)
			continue;
		if (found > 0)
			return problem_add(reterr, -ENOTUNIQ, label, "more than one partition labelled %s",
					   label);
		found = (int)nr;
	}
	if (found < 0)
		return problem_add(reterr, -ENOENT, label, "no partition labelled %s", label);
	return found;
}

int update_usr_pair(const struct gpt *g, const char *label, unsigned *ret_nr, unsigned *ret_other,
		    struct problem_list *reterr)
{
	const char *other;

	if (strcmp(label, "USR-A") == 0)
		other = "USR-B";
	else if (strcmp(label, "USR-B") == 0)
		other = "USR-A";
	else
		return problem_add(reterr, -ENOENT, label, "'%s' is not USR-A or USR-B", label);
	int a = find_unique_label(g, label, reterr);
	if (a < 0)
		return a;
	int b = find_unique_label(g, other, reterr);
	if (b < 0)
		return b;
	*ret_nr = (unsigned)a;
	*ret_other = (unsigned)b;
	return 0;
}

int update_gpt_revert(struct gpt *g, unsigned booted, unsigned target)
{
	struct gpt_entry *t = gpt_entry_get(g, target);
	int r;

	if (!t || !gpt_entry_get(g, booted) || booted == target)
		return -EINVAL;
	r = gpt_prioritize(g, booted, 0, false);
	if (r < 0)
		return r;
	r = gpt_entry_set_priority(t, 0);
	if (r < 0)
		return r;
	return gpt_entry_set_tries(t, 0);
}

int update_booted_partition(int root_fd, bool root_is_slash, const struct gpt_disk *d,
			    unsigned *ret_nr, bool *ret_good)
{
	bool inferred = false;
	int b = gpt_find_booted(root_fd, root_is_slash, d, &inferred);

	/* partitions.md 8.7: an answer inferred from the attributes counts as unknown here */
	if (b <= 0 || inferred)
		return -ENOENT;
	const struct gpt_entry *e = gpt_entry_get_const(d->gpt, (unsigned)b);
	*ret_nr = (unsigned)b;
	*ret_good = gpt_entry_is_successful(e) && gpt_entry_tries(e) == 0;
	return 0;
}
