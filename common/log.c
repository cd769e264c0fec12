/* SPDX-License-Identifier: MIT */
/*
 * Line logger for the supervisor and beddel-run. It owns nothing but the
 * program name and the level threshold. Each line is formatted into one
 * buffer and written with a single write(2), so that lines from several
 * processes sharing a stderr do not interleave.
 */
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/sys.h"
#include "common/util.h"

#define LOG_LINE_MAX 1024

static const char *log_ident = "beddel";
static enum log_level log_max_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_init(const char *ident, enum log_level max_level)
{
	log_ident = ident;
	log_max_level = max_level;
}

int
log_level_parse(const char *name, enum log_level *ret_level)
{
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(level_names); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*ret_level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static size_t
format_time(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;

	(void)gettimeofday(&tv, NULL);
	(void)gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	int m = snprintf(buf + n, size - n, ".%03ldZ", (long)tv.tv_usec / 1000);
	return n + (m > 0 ? (size_t)m : 0);
}

int
log_emit(enum log_level level, int err, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (level > log_max_level)
		return err;

	size_t n = format_time(line, sizeof(line));
	int m = snprintf(line + n, sizeof(line) - n, " %s[%ld] %s: ",
			 log_ident, (long)getpid(), level_names[level]);
	if (m > 0)
		n += (size_t)m;

	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m > 0)
		n += (size_t)m;

	if (err < 0 && n < sizeof(line)) {
		m = snprintf(line + n, sizeof(line) - n, ": %s", strerror(-err));
		if (m > 0)
			n += (size_t)m;
	}

	/* A cut line still ends with a newline. */
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)sys_write_all(STDERR_FILENO, line, n);
	return err;
}
