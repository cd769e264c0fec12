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
#include <stdbool.h>
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
static bool log_is_json;

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

void
log_set_json(bool is_json)
{
	log_is_json = is_json;
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

/* The human line: "TIME IDENT[PID] LEVEL: MESSAGE". */
static size_t
format_human(char *line, size_t size, enum log_level level, const char *msg)
{
	size_t n = format_time(line, size);
	int m = snprintf(line + n, size - n, " %s[%ld] %s: %s", log_ident,
			 (long)getpid(), level_names[level], msg);

	return m > 0 ? n + (size_t)m : n;
}

/* Appends s (len bytes) to line as a JSON string, as far as it fits. */
static size_t
put_json_string(char *line, size_t size, size_t n, const char *s, size_t len)
{
	char esc[8];

	if (n + 1 < size)
		line[n++] = '"';
	for (size_t i = 0; i < len; i++) {
		size_t e = util_json_escape_byte((unsigned char)s[i], esc);
		if (n + e + 2 >= size)
			break;
		memcpy(line + n, esc, e);
		n += e;
	}
	if (n + 1 < size)
		line[n++] = '"';
	return n;
}

static size_t
put_text(char *line, size_t size, size_t n, const char *text)
{
	size_t len = strlen(text);

	if (n + len >= size)
		return n;
	memcpy(line + n, text, len);
	return n + len;
}

/* Where the message's " key=value" fields start: at the first blank
 * followed by a lower-case key and '='. */
static const char *
find_fields(const char *msg)
{
	for (const char *p = strchr(msg, ' '); p; p = strchr(p + 1, ' ')) {
		size_t k = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (k > 0 && p[1 + k] == '=')
			return p;
	}
	return NULL;
}

/* Appends "key":"value" pairs of the message's fields; a quoted value
 * ('...', as util_quote_for_log() makes it) loses its quotes. */
static size_t
put_fields(char *line, size_t size, size_t n, const char *p)
{
	bool is_first = true;

	while (p && *p == ' ') {
		const char *key = p + 1;
		const char *eq = strchr(key, '=');
		if (!eq)
			break;
		const char *value = eq + 1, *end;
		if (*value == '\'') {
			value++;
			end = strchr(value, '\'');
			if (!end)
				end = value + strlen(value);
			p = *end ? end + 1 : end;
		} else {
			end = value + strcspn(value, " ");
			p = end;
		}
		n = put_text(line, size, n, is_first ? "" : ",");
		n = put_json_string(line, size, n, key, (size_t)(eq - key));
		n = put_text(line, size, n, ":");
		n = put_json_string(line, size, n, value, (size_t)(end - value));
		is_first = false;
	}
	return n;
}

/* The JSON line: {"time", "program", "pid", "level", "module", "event",
 * "fields": {...}, "message"}; module and event split the message's text
 * at its first ": ". */
static size_t
format_json(char *line, size_t size, enum log_level level, const char *msg)
{
	char when[40], pid[24];
	const char *fields = find_fields(msg);
	size_t text_len = fields ? (size_t)(fields - msg) : strlen(msg);
	const char *colon = memmem(msg, text_len, ": ", 2);

	(void)format_time(when, sizeof(when));
	(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	size_t n = put_text(line, size, 0, "{\"time\":");
	n = put_json_string(line, size, n, when, strlen(when));
	n = put_text(line, size, n, ",\"program\":");
	n = put_json_string(line, size, n, log_ident, strlen(log_ident));
	n = put_text(line, size, n, ",\"pid\":");
	n = put_text(line, size, n, pid);
	n = put_text(line, size, n, ",\"level\":");
	n = put_json_string(line, size, n, level_names[level],
			    strlen(level_names[level]));
	n = put_text(line, size, n, ",\"module\":");
	n = put_json_string(line, size, n, msg,
			    colon ? (size_t)(colon - msg) : 0);
	n = put_text(line, size, n, ",\"event\":");
	const char *event = colon ? colon + 2 : msg;
	n = put_json_string(line, size, n, event,
			    text_len - (size_t)(event - msg));
	n = put_text(line, size, n, ",\"fields\":{");
	n = put_fields(line, size, n, fields);
	n = put_text(line, size, n, "},\"message\":");
	n = put_json_string(line, size, n, msg, strlen(msg));
	return put_text(line, size, n, "}");
}

int
log_emit(enum log_level level, int err, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX], line[2 * LOG_LINE_MAX];
	va_list ap;

	if (level > log_max_level)
		return err;

	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	size_t n = m > 0 ? (size_t)m : 0;
	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (err < 0)
		(void)snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(-err));

	n = log_is_json ? format_json(line, sizeof(line), level, msg) :
			  format_human(line, sizeof(line), level, msg);
	/* A cut line still ends with a newline. */
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)sys_write_all(STDERR_FILENO, line, n);
	return err;
}
