/* SPDX-License-Identifier: MIT */
/* include/log/log.h - logging to stderr, or the journal when stderr is the journal. */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "util/cleanup.h"

/* The prefix every message starts with, e.g. "flatctl partition" or "cgpt show". Copied. */
void log_set_prefix(const char *prefix);
const char *log_get_prefix(void);
/* LOG_ERR .. LOG_DEBUG; the default is LOG_NOTICE. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Force or prevent journal output (tests); by default detected from $JOURNAL_STREAM. */
void log_set_journal(int on);

/* Print "PREFIX: MESSAGE" at LEVEL (with ": strerror" appended when err != 0). Returns err. */
int log_fullv(int level, int err, const char *fmt, va_list ap) _printf_(3, 0);
int log_full(int level, int err, const char *fmt, ...) _printf_(3, 4);

/* "PREFIX: what failed: strerror(-r)"; returns r. */
#define log_error_errno(r, ...) log_full(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_full(LOG_WARNING, (r), __VA_ARGS__)
/* "PREFIX: message" where the message already says why; returns r. */
int log_fail(int r, const char *fmt, ...) _printf_(2, 3);
#define log_error(...) (void)log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) (void)log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...) (void)log_full(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...) (void)log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...) (void)log_full(LOG_DEBUG, 0, __VA_ARGS__)
