/* SPDX-License-Identifier: MIT */
/* include/diag/journal.h - journal sections of a support bundle through sd-journal
 * (docs/diag.md §3.1, §6): a boot, errors and Flatcar units of the last 7 days, a unit's tail. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dbuf;
struct diag_journal;

/* Open the system journal (root_is_slash) or ROOT's var/log/journal and run/log/journal.
 * -ENOENT and *ret_why when there are no journal files. */
int diag_journal_open(int root_fd, const char *root, bool root_is_slash, struct diag_journal **ret,
		      const char **ret_why);
struct diag_journal *diag_journal_free(struct diag_journal *j);

/* The boot ids, oldest first, as journalctl --list-boots orders them (by their first entry). */
size_t diag_journal_n_boots(const struct diag_journal *j);
/* Index of this boot: ROOT/proc/sys/kernel/random/boot_id when the journal has it, else the
 * newest boot; -ENOENT when the journal has no boots. *ret_from_file says which. */
int diag_journal_current_boot(struct diag_journal *j, int root_fd, bool *ret_from_file);
const char *diag_journal_boot_id(const struct diag_journal *j, size_t i);

enum diag_journal_section {
	DIAG_JOURNAL_BOOT,    /* arg: boot id */
	DIAG_JOURNAL_ERRORS,  /* priority 0-3 of the last 7 days */
	DIAG_JOURNAL_FLATCAR, /* update, reboot, provisioning and GPT units of the last 7 days */
	DIAG_JOURNAL_UNIT,    /* arg: unit name; its last 200 lines */
};

struct diag_journal_result {
	uint64_t lines;
	uint64_t dropped_bytes; /* older lines left out for the cap */
	bool timed_out;
	unsigned redactions;
};

/* Format a section as text lines "TIME HOST IDENT[PID]: MESSAGE" (realtime in UTC), each
 * message redacted, keeping the newest lines within cap bytes (a marker at the top says what was
 * cut). "7 days" count back from now for the running system, from the newest entry otherwise. */
int diag_journal_section(struct diag_journal *j, enum diag_journal_section what, const char *arg,
			 size_t cap, uint64_t deadline_usec, struct dbuf *out,
			 struct diag_journal_result *res);
