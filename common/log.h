/* SPDX-License-Identifier: MIT */
/*
 * One line per event on stderr, for the supervisor and beddel-run. A
 * sandboxed worker never calls these: its stderr is closed and its records
 * travel as frames. Lines look like
 *   2026-12-04T02:16:00.123Z beddel-supervisor[42] info: pool: worker spawned worker=3 pid=4242
 */
#ifndef BEDDEL_COMMON_LOG_H
#define BEDDEL_COMMON_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* Sets the program name shown on every line and the most verbose level
 * printed. Call once at start, before any other thread or child exists. */
void log_init(const char *ident, enum log_level max_level);

/* Writes each line as one JSON object (with fixed keys: time, program,
 * pid, level, module, event, fields, message) instead of text. */
void log_set_json(bool is_json);

/* Parses "error", "warn", "notice", "info" or "debug". Returns 0, or
 * -EINVAL for anything else (ret_level untouched). */
int log_level_parse(const char *name, enum log_level *ret_level);

/* Writes one line if level is enabled. When err is negative, appends
 * ": <strerror(-err)>". Returns err, so that callers can write
 * `return log_error_errno(r, "...")`. Not async-signal-safe. */
int log_emit(enum log_level level, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_error(...) log_emit(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn(...) log_emit(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_notice(...) log_emit(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_emit(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_emit(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_emit(LOG_LEVEL_WARN, (err), __VA_ARGS__)
#define log_notice_errno(err, ...) log_emit(LOG_LEVEL_NOTICE, (err), __VA_ARGS__)
#define log_info_errno(err, ...) log_emit(LOG_LEVEL_INFO, (err), __VA_ARGS__)

#endif
