/* SPDX-License-Identifier: MIT */
/* lib/log/log.c - the one piece of global state: where and how much to log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log/log.h"
#include "util/escape.h"

static char log_prefix[128] = "flatctl";
static int log_max_level = LOG_NOTICE;
static int log_journal = -1; /* -1: not yet detected */

void log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix ? prefix : "flatctl");
}

const char *log_get_prefix(void)
{
	return log_prefix;
}

void log_set_max_level(int level)
{
	log_max_level = level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : level;
}

int log_get_max_level(void)
{
	return log_max_level;
}

void log_set_journal(int on)
{
	log_journal = on;
}

/* systemd sets JOURNAL_STREAM=dev:ino for services whose stderr is a journal stream. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_fullv(int level, int err, const char *fmt, va_list ap)
{
	char msg[2048], esc[sizeof(msg)];
	const char *out = msg;
	int saved = errno;

	if (level > log_max_level)
		return err;
	if (log_journal < 0)
		log_journal = stderr_is_journal();
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* The last line of defence for docs/coding-style.md §2: whatever a caller forgot to escape,
	 * no control character, C1 control or bidi override of a server's or a config's string
	 * reaches the terminal or the journal (escaping twice changes nothing). */
	if (str_needs_escape(msg))
		out = str_escape_buf(msg, esc, sizeof(esc));
	if (log_journal) {
		if (err)
			sd_journal_print(level, "%s: %s", out, strerror(err < 0 ? -err : err));
		else
			sd_journal_print(level, "%s", out);
	} else {
		if (err)
			fprintf(stderr, "%s: %s: %s\n", log_prefix, out, strerror(err < 0 ? -err : err));
		else
			fprintf(stderr, "%s: %s\n", log_prefix, out);
	}
	errno = saved;
	return err;
}

int log_full(int level, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = log_fullv(level, err, fmt, ap);
	va_end(ap);
	return r;
}

int log_fail(int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	(void)log_fullv(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	return r;
}
