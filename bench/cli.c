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

void
cli_print_command(int argc, char **argv)
{
	char command[2048];

	cli_format_command(argc, argv, command, sizeof(command));
	printf("command: %s\n", command);
}

int
cli_parse_counts(const char *prog, const char *option, const char *list,
		 uint64_t max, unsigned *counts, size_t max_count)
{
	const char *p = list;
	char item[24];
	uint64_t count;
	size_t n = 0;
	int r = 0;

	for (;;) {
		size_t len = strcspn(p, ",");

		if (n == max_count || len >= sizeof(item))
			r = -EINVAL;
		if (r == 0) {
			memcpy(item, p, len);
			item[len] = '\0';
			r = util_parse_u64(item, 1, max, &count);
		}
		if (r < 0)
			break;
		counts[n++] = (unsigned)count;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (r < 0) {
		fprintf(stderr, "%s: --%s wants up to %zu counts from 1 to %llu separated by commas, not '%s'\n",
			prog, option, max_count, (unsigned long long)max, list);
		return -EINVAL;
	}
	return (int)n;
}
