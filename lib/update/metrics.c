/* SPDX-License-Identifier: MIT */
/* lib/update/metrics.c - the update state as Prometheus metrics (docs/update.md 9.1).
 *
 * Everything comes from the state the engine keeps (state.json, or status.json for a reader
 * without root): no network, no daemon. Names follow Prometheus' conventions: one prefix,
 * base units in the name (_seconds, _bytes), _total on counters, _timestamp_seconds for Unix
 * times, an _info gauge of value 1 carrying the versions as labels, and one 0/1 series per
 * status value (a "state set"), so a dashboard needs no string matching. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "update/metrics.h"
#include "update/state.h"
#include "util/cleanup.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 when there is none. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A label value as the text format wants it: \\, \" and \n escaped, valid UTF-8. */
static void put_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	while (n) {
		size_t l = utf8_len(p, n);
		if (l == 0) {
			fputs("\xef\xbf\xbd", f);
			p++, n--;
			continue;
		}
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fwrite(p, 1, l, f);
		p += l, n -= l;
	}
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u64(FILE *f, const char *name, const char *help, const char *type, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void failure_sample(int code, uint64_t count, void *userdata)
{
	FILE *f = userdata;
	fprintf(f, "flatctl_update_failures_total{code=\"%d\",error=\"", code);
	put_label_value(f, update_error_code_to_string(code));
	fprintf(f, "\"} %" PRIu64 "\n", count);
}

int update_metrics_render(const struct update_state *s, const char *current_version, char **ret,
			  size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	struct update_metrics m;
	struct update_staged st;
	struct update_pending pe;
	const char *nv = NULL;
	uint64_t new_size = 0;
	enum update_status status = update_state_status(s);
	FILE *f;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	update_state_get_metrics(s, &m);
	if (update_state_get_staged(s, &st))
		nv = st.version, new_size = st.size;
	else if (update_state_get_pending(s, &pe))
		nv = pe.version, new_size = pe.size;

	family(f, "flatctl_update_info", "gauge",
	       "Always 1; current_version is the running OS, new_version the update staged or being "
	       "downloaded (empty: none).");
	fputs("flatctl_update_info{current_version=\"", f);
	put_label_value(f, current_version);
	fputs("\",new_version=\"", f);
	put_label_value(f, nv);
	fputs("\"} 1\n", f);

	family(f, "flatctl_update_state", "gauge",
	       "1 for the update engine's current status, 0 for the others.");
	for (int i = 0; i < _UPDATE_STATUS_MAX; i++)
		fprintf(f, "flatctl_update_state{state=\"%s\"} %d\n",
			update_status_to_string((enum update_status)i), i == (int)status);

	sample_u64(f, "flatctl_update_reboot_pending",
		   "1 when an update is installed and waits for a reboot.", "gauge",
		   status == UPDATE_STATUS_UPDATED_NEED_REBOOT);
	family(f, "flatctl_update_progress_ratio", "gauge",
	       "Share of the current download done, 0 to 1.");
	fprintf(f, "flatctl_update_progress_ratio %.6g\n", update_state_progress(s));
	sample_u64(f, "flatctl_update_new_size_bytes",
		   "Size of the payload of new_version, 0 when there is none.", "gauge", new_size);
	sample_u64(f, "flatctl_update_last_check_timestamp_seconds",
		   "Unix time of the last update check, answered or not; 0: never.", "gauge",
		   update_state_last_checked(s));
	sample_u64(f, "flatctl_update_last_successful_check_timestamp_seconds",
		   "Unix time of the last update check the server answered; 0: never.", "gauge",
		   m.last_successful_check_time);
	sample_u64(f, "flatctl_update_last_successful_update_timestamp_seconds",
		   "Unix time of the last installed update; 0: never.", "gauge",
		   m.last_successful_update_time);
	sample_u64(f, "flatctl_update_downloaded_bytes_total",
		   "Payload bytes downloaded, over all attempts.", "counter", m.downloaded_bytes);
	family(f, "flatctl_update_failures_total", "counter",
	       "Failed update attempts by update_engine error code.");
	update_state_foreach_failure(s, failure_sample, f);

	bool bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

int update_metrics_write_textfile(const char *dir, const char *data, size_t size)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return -errno;
	return fs_write_atomic(dfd, UPDATE_METRICS_TEXTFILE, data, size, 0644);
}
