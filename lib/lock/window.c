/* SPDX-License-Identifier: MIT */
/* lib/lock/window.c - reboot window grammar and arithmetic (docs/reboot-lock.md 7.4).
 * Starts are computed with mktime() in the local zone for each candidate day, so a start inside
 * a daylight-saving gap moves forward by the gap (glibc normalises it that way) and the window
 * length is real elapsed time. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lock/sem.h"
#include "lock/window.h"

static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int parse_num(const char **p, int max, int *ret)
{
	int v = 0, n = 0;
	while (isdigit((unsigned char)**p) && n < 3) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n < 1 || n > 2)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int reboot_window_parse(const char *start, const char *length, struct reboot_window *ret,
			struct problem_list *reterr)
{
	struct reboot_window w = { .wday = -1 };
	char buf[64];
	const char *p;
	size_t n;
	int r;

	bool have_s = start && start[strspn(start, " \t")];
	bool have_l = length && length[strspn(length, " \t")];
	if (!have_s && !have_l)
		return -ENOENT;
	if (!have_s)
		return problem_add(reterr, -EINVAL, "start", "window length set without a start: set both or neither");
	if (!have_l)
		return problem_add(reterr, -EINVAL, "length", "window start set without a length: set both or neither");

	p = start + strspn(start, " \t");
	if (isalpha((unsigned char)*p)) {
		n = 0;
		while (isalpha((unsigned char)p[n]))
			n++;
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, p, n);
		buf[n] = 0;
		for (int i = 0; i < 7; i++)
			if (strcasecmp(buf, days[i]) == 0)
				w.wday = i;
		if (w.wday < 0)
			return problem_add(reterr, -EINVAL, "start",
					   "invalid day \"%s\" (use sun mon tue wed thu fri sat)", buf);
		p += strlen(buf);
		if (*p != ' ' && *p != '\t')
			return problem_add(reterr, -EINVAL, "start", "start must look like [day] hh:mm");
		p += strspn(p, " \t");
	}
	r = parse_num(&p, 23, &w.hour);
	if (r == -ERANGE)
		return problem_add(reterr, -EINVAL, "start", "hour must be 0-23");
	if (r < 0 || *p != ':')
		return problem_add(reterr, -EINVAL, "start", "start must look like [day] hh:mm");
	p++;
	r = parse_num(&p, 59, &w.minute);
	if (r == -ERANGE)
		return problem_add(reterr, -EINVAL, "start", "minute must be 0-59");
	if (r < 0)
		return problem_add(reterr, -EINVAL, "start", "start must look like [day] hh:mm");
	p += strspn(p, " \t");
	if (*p)
		return problem_add(reterr, -EINVAL, "start", "start must look like [day] hh:mm");

	p = length + strspn(length, " \t");
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= sizeof(buf))
		return problem_add(reterr, -EINVAL, "length", "not a duration");
	memcpy(buf, p, n);
	buf[n] = 0;
	if (lock_parse_duration(buf, &w.length_usec) < 0)
		return problem_add(reterr, -EINVAL, "length",
				   "length is not a duration (like 1h30m, 90m or seconds)");
	if (w.length_usec == 0)
		return problem_add(reterr, -EINVAL, "length", "length must be longer than 0");
	uint64_t period = (w.wday < 0 ? 24ULL : 168ULL) * 3600 * 1000000;
	if (w.length_usec >= period)
		return problem_add(reterr, -EINVAL, "length", "length must be shorter than a %s",
				   w.wday < 0 ? "day" : "week");
	*ret = w;
	return 0;
}

/* The start on the local day `days_off` days from now's date. */
static time_t start_on(const struct reboot_window *w, const struct tm *today, int days_off,
		       bool *ret_match)
{
	struct tm t = *today;
	t.tm_mday += days_off;
	t.tm_hour = 12; /* normalise the date first, away from any DST edge */
	t.tm_min = t.tm_sec = 0;
	t.tm_isdst = -1;
	(void)mktime(&t);
	*ret_match = w->wday < 0 || t.tm_wday == w->wday;
	t.tm_hour = w->hour;
	t.tm_min = w->minute;
	t.tm_sec = 0;
	t.tm_isdst = -1;
	return mktime(&t);
}

int reboot_window_check(const struct reboot_window *w, time_t now, bool *ret_inside,
			time_t *ret_start, time_t *ret_end)
{
	struct tm today;
	/* whole seconds, rounded up: a sub-second length must not become an empty window */
	time_t len = (time_t)((w->length_usec + 999999) / 1000000);
	time_t best = (time_t)-1;
	bool m;

	if (!localtime_r(&now, &today))
		return -EINVAL;
	/* the latest start <= now: at most 8 days back covers weekly windows */
	for (int d = 0; d >= -8; d--) {
		time_t s = start_on(w, &today, d, &m);
		if (m && s != (time_t)-1 && s <= now) {
			best = s;
			break;
		}
	}
	if (best != (time_t)-1 && now < best + len) {
		*ret_inside = true;
		*ret_start = best;
		*ret_end = best + len;
		return 0;
	}
	*ret_inside = false;
	for (int d = 0; d <= 8; d++) {
		time_t s = start_on(w, &today, d, &m);
		if (m && s != (time_t)-1 && s > now) {
			*ret_start = s;
			*ret_end = s + len;
			return 0;
		}
	}
	return -EINVAL;
}
