/* SPDX-License-Identifier: MIT */
#include "bench/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

int
cli_parse_number(const char *prog, const struct cli_number *no,
		 const char *arg, void *opts)
{
	uint64_t *value = (uint64_t *)((char *)opts + no->offset);

	int r = util_parse_u64(arg, no->min, no->max, value);
	if (r < 0) {
		fprintf(stderr, "%s: --%s wants a number from %llu to %llu, not '%s'\n",
			prog, no->name, (unsigned long long)no->min,
			(unsigned long long)no->max, arg);
		return -EINVAL;
	}
	return 0;
}

bool
cli_list_contains(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* True when s can be pasted into a shell as it is. */
static bool
is_plain_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_./=,-", *s))
			return false;
	}
	return true;
}

void
cli_format_command(int argc, char **argv, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < argc && len < size; i++) {
		int n = snprintf(buf + len, size - len,
				 is_plain_word(argv[i]) ? "%s%s" : "%s'%s'",
				 i ? " " : "", argv[i]);
		if (n < 0)
			return;
		len += (size_t)n;
	}
}
