/* SPDX-License-Identifier: MIT */
/* lib/diag/journal.c - journal sections through sd-journal (include/diag/journal.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "util/buf.h"
#include "diag/journal.h"
#include "diag/redact.h"
#include "fs/fs.h"

#define WEEK_USEC (7ull * 24 * 3600 * 1000000)
#define UNIT_TAIL_LINES 200

struct boot {
	char id[33];
	uint64_t first, last;
};

struct diag_journal {
	sd_journal *j;
	bool live;
	struct boot *boots;
	size_t n_boots;
	uint64_t newest; /* realtime of the newest entry */
};

static uint64_t mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_boot(const void *a, const void *b)
{
	const struct boot *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

static int list_boots(struct diag_journal *dj)
{
	const void *data;
	size_t l;
	int r = sd_journal_query_unique(dj->j, "_BOOT_ID");
	if (r < 0)
		return r;
	SD_JOURNAL_FOREACH_UNIQUE(dj->j, data, l)
	{
		if (l != 9 + 32)
			continue;
		struct boot *nb = realloc(dj->boots, (dj->n_boots + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		dj->boots = nb;
		memcpy(nb[dj->n_boots].id, (const char *)data + 9, 32);
		nb[dj->n_boots].id[32] = 0;
		dj->n_boots++;
	}
	sd_journal_restart_unique(dj->j);
	for (size_t i = 0; i < dj->n_boots; i++) {
		char m[64];
		snprintf(m, sizeof(m), "_BOOT_ID=%s", dj->boots[i].id);
		sd_journal_flush_matches(dj->j);
		if (sd_journal_add_match(dj->j, m, 0) < 0)
			continue;
		if (sd_journal_seek_head(dj->j) >= 0 && sd_journal_next(dj->j) > 0)
			(void)sd_journal_get_realtime_usec(dj->j, &dj->boots[i].first);
		if (sd_journal_seek_tail(dj->j) >= 0 && sd_journal_previous(dj->j) > 0)
			(void)sd_journal_get_realtime_usec(dj->j, &dj->boots[i].last);
		if (dj->boots[i].last > dj->newest)
			dj->newest = dj->boots[i].last;
	}
	sd_journal_flush_matches(dj->j);
	if (dj->n_boots > 1)
		qsort(dj->boots, dj->n_boots, sizeof(*dj->boots), cmp_boot);
	return 0;
}

int diag_journal_open(int root_fd, const char *root, bool root_is_slash, struct diag_journal **ret,
		      const char **ret_why)
{
	struct diag_journal *dj = calloc(1, sizeof(*dj));
	int r;

	if (!dj)
		return -ENOMEM;
	dj->live = root_is_slash;
	if (root_is_slash)
		r = sd_journal_open(&dj->j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	else
		r = sd_journal_open_directory(&dj->j, root, SD_JOURNAL_OS_ROOT);
	if (r < 0) {
		*ret_why = r == -EACCES || r == -EPERM ? "journal: permission denied"
						       : "journal cannot be opened";
		free(dj);
		return r;
	}
	r = list_boots(dj);
	if (r < 0 || dj->n_boots == 0) {
		*ret_why = r == -EACCES ? "journal: permission denied" : "no journal";
		diag_journal_free(dj);
		return r < 0 ? r : -ENOENT;
	}
	*ret = dj;
	return 0;
}

struct diag_journal *diag_journal_free(struct diag_journal *dj)
{
	if (!dj)
		return NULL;
	if (dj->j)
		sd_journal_close(dj->j);
	free(dj->boots);
	free(dj);
	return NULL;
}

size_t diag_journal_n_boots(const struct diag_journal *dj)
{
	return dj->n_boots;
}

const char *diag_journal_boot_id(const struct diag_journal *dj, size_t i)
{
	return i < dj->n_boots ? dj->boots[i].id : NULL;
}

int diag_journal_current_boot(struct diag_journal *dj, int root_fd, bool *ret_from_file)
{
	_cleanup_free_ char *s = NULL;
	size_t n;

	*ret_from_file = false;
	if (dj->n_boots == 0)
		return -ENOENT;
	if (fs_read_file(root_fd, "/proc/sys/kernel/random/boot_id", 128, &s, &n) >= 0) {
		char id[33];
		size_t k = 0;
		for (size_t i = 0; s[i] && k < 32; i++)
			if (s[i] != '-' && s[i] != '\n')
				id[k++] = s[i];
		id[k] = 0;
		for (size_t i = 0; i < dj->n_boots; i++)
			if (strcmp(dj->boots[i].id, id) == 0) {
				*ret_from_file = true;
				return (int)i;
			}
	}
	return (int)dj->n_boots - 1;
}

/* ---- formatting ---- */

static bool field(sd_journal *j, const char *name, const char **ret, size_t *ret_n)
{
	const void *d;
	size_t l, nl = strlen(name);
	if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= nl + 1)
		return false;
	*ret = (const char *)d + nl + 1;
	*ret_n = l - nl - 1;
	return true;
}

/* Valid UTF-8 without control characters other than tab and newline. */
static bool printable_text(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t l = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (l == 0 || i + l > n)
			return false;
		for (size_t k = 1; k < l; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
		if ((l == 3 && ((c == 0xe0 && p[i + 1] < 0xa0) || (c == 0xed && p[i + 1] >= 0xa0))) ||
		    (l == 4 && ((c == 0xf0 && p[i + 1] < 0x90) || (c == 0xf4 && p[i + 1] >= 0x90))))
			return false;
		i += l;
	}
	return true;
}

/* Redaction state per source (the identifier): a key block written line by line by one program
 * is recognised even when other programs' lines come between its lines. */
struct sources {
	struct {
		char key[80];
		struct diag_redact st;
	} s[32];
	unsigned next;
	unsigned count; /* replacements of states already recycled */
};

static struct diag_redact *source_state(struct sources *src, const char *ident, size_t il)
{
	char key[80];
	snprintf(key, sizeof(key), "%.*s", (int)(il < 79 ? il : 79), ident);
	for (size_t i = 0; i < ARRAY_SIZE(src->s); i++)
		if (strcmp(src->s[i].key, key) == 0)
			return &src->s[i].st;
	/* a free slot, else one that is not inside a key block */
	for (size_t k = 0; k < ARRAY_SIZE(src->s); k++) {
		size_t i = (src->next + k) % ARRAY_SIZE(src->s);
		if (!src->s[i].key[0] || !src->s[i].st.in_pem) {
			src->count += src->s[i].st.count;
			snprintf(src->s[i].key, sizeof(src->s[i].key), "%s", key);
			src->s[i].st = (struct diag_redact){};
			src->next = (unsigned)(i + 1);
			return &src->s[i].st;
		}
	}
	return &src->s[src->next++ % ARRAY_SIZE(src->s)].st;
}

static unsigned sources_count(const struct sources *src)
{
	unsigned c = src->count;
	for (size_t i = 0; i < ARRAY_SIZE(src->s); i++)
		c += src->s[i].st.count;
	return c;
}

/* One entry as lines into out; false when everything was dropped (inside a key block). */
static void format_entry(sd_journal *j, struct sources *src, struct dbuf *out, uint64_t *lines)
{
	const char *host = "", *ident = NULL, *pid = NULL, *msg = "";
	size_t hl = 0, il = 0, pl = 0, ml = 0;
	uint64_t t = 0;
	char ts[64];

	(void)sd_journal_get_realtime_usec(j, &t);
	time_t sec = (time_t)(t / 1000000);
	struct tm tm;
	if (gmtime_r(&sec, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	else
		snprintf(ts, sizeof(ts), "%" PRIu64, t);
	(void)field(j, "_HOSTNAME", &host, &hl);
	if (!field(j, "SYSLOG_IDENTIFIER", &ident, &il) && !field(j, "_COMM", &ident, &il)) {
		ident = "unknown";
		il = 7;
	}
	if (!field(j, "_PID", &pid, &pl))
		(void)field(j, "SYSLOG_PID", &pid, &pl);
	(void)field(j, "MESSAGE", &msg, &ml);

	struct dbuf prefix = {};
	dbuf_printf(&prefix, "%s.%06u+00:00 ", ts, (unsigned)(t % 1000000));
	struct diag_redact hs = {};
	(void)diag_redact_line(&hs, host, hl, &prefix);
	dbuf_putc(&prefix, ' ');
	(void)diag_redact_line(&hs, ident, il, &prefix);
	if (pid)
		dbuf_printf(&prefix, "[%.*s]", (int)pl, pid);
	dbuf_puts(&prefix, ": ");
	struct diag_redact *rs = source_state(src, ident, il);
	rs->count += hs.count;

	if (!printable_text(msg, ml)) {
		dbuf_append(out, prefix.p, prefix.n);
		dbuf_printf(out, "[%zu bytes of binary data]\n", ml);
		(*lines)++;
		dbuf_release(&prefix);
		return;
	}
	/* a message of several lines: the first after the prefix, the rest indented */
	bool first = true;
	for (size_t i = 0; i <= ml;) {
		const char *nl = memchr(msg + i, '\n', ml - i);
		size_t e = nl ? (size_t)(nl - msg) : ml;
		size_t mark = out->n;
		if (first)
			dbuf_append(out, prefix.p, prefix.n);
		else
			dbuf_puts(out, "    ");
		if (diag_redact_line(rs, msg + i, e - i, out)) {
			dbuf_putc(out, '\n');
			(*lines)++;
		} else {
			out->n = mark; /* inside a private key already replaced */
			if (out->p)
				out->p[mark] = 0;
		}
		first = false;
		if (!nl)
			break;
		i = e + 1;
	}
	dbuf_release(&prefix);
}

/* Keep the newest text: drop whole lines from the front until out fits in cap. */
static void trim_front(struct dbuf *out, size_t cap, uint64_t *dropped)
{
	if (out->n <= cap)
		return;
	size_t cut = out->n - cap;
	const char *nl = memchr(out->p + cut, '\n', out->n - cut);
	cut = nl ? (size_t)(nl - out->p) + 1 : out->n;
	*dropped += cut;
	dbuf_consume(out, cut);
}

static int add_matches(sd_journal *j, enum diag_journal_section what, const char *arg)
{
	static const char *const units[] = {
		"update-engine.service",	 "update-engine-stub.service",
		"locksmithd.service",		 "flatcar-update.service",
		"ignition-setup.service",	 "ignition-fetch.service",
		"ignition-fetch-offline.service", "ignition-kargs.service",
		"ignition-disks.service",	 "ignition-mount.service",
		"ignition-files.service",	 "ignition-quench.service",
		"ignition-umount.service",	 "ignition-delete-config.service",
		"ignition-remount-sysroot.service", "extend-filesystems.service",
		"flatcar-setgoodroot.service",	 "update-engine-reboot.service",
	};
	static const char *const idents[] = { "update_engine", "locksmithd", "flatctl", "ignition",
					      "cgpt", "flatcar-setgoodroot", "flatcar-postinst",
					      "flatcar-update", "update_engine_client", "locksmithctl" };
	char m[512];
	int r = 0;

	switch (what) {
	case DIAG_JOURNAL_BOOT:
		snprintf(m, sizeof(m), "_BOOT_ID=%s", arg);
		return sd_journal_add_match(j, m, 0);
	case DIAG_JOURNAL_ERRORS:
		for (int p = 0; p <= 3 && r >= 0; p++) {
			snprintf(m, sizeof(m), "PRIORITY=%d", p);
			r = sd_journal_add_match(j, m, 0);
		}
		return r;
	case DIAG_JOURNAL_FLATCAR:
		for (size_t i = 0; i < ARRAY_SIZE(units) && r >= 0; i++) {
			snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", units[i]);
			r = sd_journal_add_match(j, m, 0);
		}
		if (r >= 0)
			r = sd_journal_add_disjunction(j);
		for (size_t i = 0; i < ARRAY_SIZE(idents) && r >= 0; i++) {
			snprintf(m, sizeof(m), "SYSLOG_IDENTIFIER=%s", idents[i]);
			r = sd_journal_add_match(j, m, 0);
		}
		if (r >= 0)
			r = sd_journal_add_disjunction(j);
		for (size_t i = 0; i < ARRAY_SIZE(units) && r >= 0; i++) {
			snprintf(m, sizeof(m), "UNIT=%s", units[i]);
			r = sd_journal_add_match(j, m, 0);
		}
		return r;
	case DIAG_JOURNAL_UNIT:
		snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", arg);
		r = sd_journal_add_match(j, m, 0);
		if (r >= 0)
			r = sd_journal_add_disjunction(j);
		snprintf(m, sizeof(m), "UNIT=%s", arg);
		if (r >= 0)
			r = sd_journal_add_match(j, m, 0);
		return r;
	}
	return -EINVAL;
}

int diag_journal_section(struct diag_journal *dj, enum diag_journal_section what, const char *arg,
			 size_t cap, uint64_t deadline_usec, struct dbuf *out,
			 struct diag_journal_result *res)
{
	sd_journal *j = dj->j;
	_cleanup_free_ struct sources *src = calloc(1, sizeof(*src));
	int r;

	if (!src)
		return -ENOMEM;

	*res = (struct diag_journal_result){};
	sd_journal_flush_matches(j);
	r = add_matches(j, what, arg);
	if (r < 0)
		return r;
	if (what == DIAG_JOURNAL_ERRORS || what == DIAG_JOURNAL_FLATCAR) {
		uint64_t ref = dj->newest;
		if (dj->live) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ref = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		}
		r = sd_journal_seek_realtime_usec(j, ref > WEEK_USEC ? ref - WEEK_USEC : 0);
	} else if (what == DIAG_JOURNAL_UNIT) {
		r = sd_journal_seek_tail(j);
		if (r >= 0)
			r = sd_journal_previous_skip(j, UNIT_TAIL_LINES + 1);
		if (r >= 0 && (unsigned)r <= UNIT_TAIL_LINES)
			r = sd_journal_seek_head(j);
	} else
		r = sd_journal_seek_head(j);
	if (r < 0)
		return r;
	unsigned n = 0;
	while ((r = sd_journal_next(j)) > 0) {
		format_entry(j, src, out, &res->lines);
		if (out->n > 2 * cap + 65536)
			trim_front(out, cap, &res->dropped_bytes);
		if ((++n & 255) == 0 && mono_usec() > deadline_usec) {
			res->timed_out = true;
			break;
		}
	}
	sd_journal_flush_matches(j);
	trim_front(out, cap, &res->dropped_bytes);
	res->redactions = sources_count(src);
	if (out->oom)
		return -ENOMEM;
	return r < 0 ? r : 0;
}
