/* SPDX-License-Identifier: MIT */
/* lib/util/progress.c - progress line formatting and redraw decisions; docs/update.md 9. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/progress.h"

#define BAR_WIDTH 20

bool progress_wanted(int fd, int verbosity)
{
	return verbosity >= 0 && isatty(fd) == 1;
}

uint64_t progress_now_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

void progress_init(struct progress *p, uint64_t now_usec, uint64_t start_bytes)
{
	*p = (struct progress){ .start_usec = now_usec, .start_bytes = start_bytes };
}

bool progress_due(struct progress *p, uint64_t now_usec, uint64_t done, uint64_t total)
{
	if (p->last_draw_usec && !(total && done >= total) &&
	    now_usec - p->last_draw_usec < PROGRESS_MIN_INTERVAL_USEC)
		return false;
	p->last_draw_usec = now_usec ? now_usec : 1;
	return true;
}

bool progress_decile(struct progress *p, uint64_t done, uint64_t total, unsigned *ret_percent)
{
	if (!total)
		return false;
	unsigned decile = done >= total ? 10 : (unsigned)((double)done / (double)total * 10.0);
	if (decile <= p->last_decile)
		return false;
	p->last_decile = decile;
	if (ret_percent)
		*ret_percent = decile * 10;
	return true;
}

static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };

static unsigned unit_for(uint64_t bytes)
{
	unsigned u = 0;
	double v = (double)bytes;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	return u;
}

static double scaled(uint64_t bytes, unsigned u)
{
	double v = (double)bytes;
	for (unsigned i = 0; i < u; i++)
		v /= 1024.0;
	return v;
}

static size_t clamp(int n, size_t size)
{
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

size_t progress_format_bytes(char *buf, size_t size, uint64_t bytes)
{
	unsigned u = unit_for(bytes);
	if (u == 0)
		return clamp(snprintf(buf, size, "%llu B", (unsigned long long)bytes), size);
	return clamp(snprintf(buf, size, "%.1f %s", scaled(bytes, u), units[u]), size);
}

size_t progress_format(char *buf, size_t size, const struct progress *p, uint64_t now_usec,
		       const char *what, const char *name, uint64_t done, uint64_t total,
		       bool show_bytes)
{
	size_t n = 0;
	if (!size)
		return 0;
	buf[0] = 0;
#define PUT(...) (n += clamp(snprintf(buf + n, size - n, __VA_ARGS__), size - n))
	PUT("%-11s %-8s", what, name ? name : "");
	if (total) {
		/* rounded, but 100 % only when really done */
		unsigned pct = done >= total ? 100
				: (unsigned)((double)done * 100.0 / (double)total + 0.5);
		if (done < total && pct > 99)
			pct = 99;
		unsigned fill = done >= total ? BAR_WIDTH
					      : (unsigned)((double)done * BAR_WIDTH / (double)total);
		char bar[BAR_WIDTH + 1];
		memset(bar, '#', fill);
		memset(bar + fill, '.', BAR_WIDTH - fill);
		bar[BAR_WIDTH] = 0;
		PUT(" %3u%% [%s]", pct, bar);
	}
	if (!show_bytes)
		return n;
	unsigned u = unit_for(total ? total : done);
	if (total && u > 0)
		PUT("  %.1f/%.1f %s", scaled(done, u), scaled(total, u), units[u]);
	else if (total)
		PUT("  %llu/%llu B", (unsigned long long)done, (unsigned long long)total);
	else {
		char b[32];
		progress_format_bytes(b, sizeof(b), done);
		PUT("  %s", b);
	}
	uint64_t elapsed = p && now_usec > p->start_usec ? now_usec - p->start_usec : 0;
	uint64_t moved = p && done > p->start_bytes ? done - p->start_bytes : 0;
	if (elapsed > 0 && moved > 0) {
		double rate = (double)moved * 1e6 / (double)elapsed;
		char r[32];
		progress_format_bytes(r, sizeof(r), (uint64_t)rate);
		PUT("  %s/s", r);
		if (total && done < total) {
			uint64_t eta = (uint64_t)((double)(total - done) / rate + 0.5);
			if (eta >= 3600)
				PUT("  ETA %llu:%02llu:%02llu", (unsigned long long)(eta / 3600),
				    (unsigned long long)(eta / 60 % 60), (unsigned long long)(eta % 60));
			else
				PUT("  ETA %llu:%02llu", (unsigned long long)(eta / 60),
				    (unsigned long long)(eta % 60));
		}
	}
#undef PUT
	return n;
}
