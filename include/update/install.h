/* SPDX-License-Identifier: MIT */
/* include/update/install.h - the updater's use of the partition core: which USR partition is the
 * target, the postinstall flip and its undo (spec/update.md 6.1, 6.5, 2.4). */
#pragma once

struct gpt;
struct problem_list;

/* The two USR partitions of 6.1: exactly one "USR-A" and one "USR-B". Given the label of one of
 * them (the booted one, or the target), *ret_other is the other. Returns 0, or -ENOENT /
 * -ENOTUNIQ with a problem naming the label. */
int update_usr_pair(const struct gpt *g, const char *label, unsigned *ret_nr, unsigned *ret_other,
		    struct problem_list *reterr);

/* 2.4: undo the flip of 6.5 in memory: `booted` becomes the highest-priority boot target again,
 * `target` gets priority 0 and tries 0 (its data and successful bit stay). The caller commits. */
int update_gpt_revert(struct gpt *g, unsigned booted, unsigned target);
