/* SPDX-License-Identifier: MIT */
#include "bench/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The getopt table: the spec's options, its numbers and --help. */
static struct option *
build_table(const struct cli_spec *spec)
{
	size_t n = spec->n_options + spec->n_numbers;
	struct option *t = calloc(n + 2, sizeof(*t));
	if (!t)
		return NULL;

	memcpy(t, spec->options, spec->n_options * sizeof(*t));
	for (size_t i = 0; i < spec->n_numbers; i++)
		t[spec->n_options + i] = (struct option){
			spec->numbers[i].name, required_argument, NULL,
			CLI_OPT_NUMBER + (int)i
		};
	t[n] = (struct option){ "help", no_argument, NULL, CLI_OPT_HELP };
	return t;
}

static int
take_option(const struct cli_spec *spec, int opt, void *opts)
{
	if (opt == CLI_OPT_HELP) {
		spec->usage(stdout);
		exit(0);
	}
	if (opt == '?' || opt < 0 ||
	    opt >= CLI_OPT_NUMBER + (int)spec->n_numbers) {
		spec->usage(stderr);
		return -EINVAL;
	}
	if (opt >= CLI_OPT_NUMBER &&
	    cli_parse_number(spec->prog, &spec->numbers[opt - CLI_OPT_NUMBER],
			     optarg, opts) < 0)
		return -EINVAL;
	return spec->take(opt, optarg, opts);
}

int
cli_parse(const struct cli_spec *spec, int argc, char **argv, void *opts)
{
	struct option *table = build_table(spec);
	int opt, r = 0;

	if (!table)
		return -ENOMEM;
	while (r == 0 && (opt = getopt_long(argc, argv, "", table, NULL)) != -1)
		r = take_option(spec, opt, opts);
	free(table);
	if (r == 0 && optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", spec->prog,
			argv[optind]);
		r = -EINVAL;
	}
	return r;
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
