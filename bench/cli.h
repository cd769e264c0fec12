/* SPDX-License-Identifier: MIT */
/*
 * What the benchmark programs share on their command lines: number
 * options read from a table, and the command echoed into their reports.
 */
#ifndef BEDDEL_BENCH_CLI_H
#define BEDDEL_BENCH_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A --name N option stored as a uint64_t at offset in the options
 * struct. */
struct cli_number {
	const char *name;
	size_t offset;
	uint64_t min;
	uint64_t max;
};

#define CLI_OPT_HELP 'h'
/* The val of number option i is CLI_OPT_NUMBER + i; other options use
 * values below it. */
#define CLI_OPT_NUMBER 1024

/* A program's command line. */
struct cli_spec {
	const char *prog;
	const struct option *options; /* besides --help and the numbers */
	size_t n_options;
	const struct cli_number *numbers;
	size_t n_numbers;
	/* Takes each option: one of options (arg NULL when it has none), or
	 * CLI_OPT_NUMBER + i once number i is stored. Returns 0 or -EINVAL
	 * with a message. */
	int (*take)(int opt, const char *arg, void *opts);
	void (*usage)(FILE *out);
};

/* The spec of a program whose option and number tables are arrays. */
#define CLI_SPEC(prog_, options_, numbers_, take_, usage_)                  \
	{                                                                   \
		.prog = (prog_), .options = (options_),                     \
		.n_options = sizeof(options_) / sizeof((options_)[0]),      \
		.numbers = (numbers_),                                      \
		.n_numbers = sizeof(numbers_) / sizeof((numbers_)[0]),      \
		.take = (take_), .usage = (usage_),                         \
	}

/* Parses argv into opts. --help prints the usage on stdout and exits 0;
 * an unknown option, a bad number or an argument left over prints why
 * and returns -EINVAL. */
int cli_parse(const struct cli_spec *spec, int argc, char **argv,
	      void *opts);

/* Parses arg into the option no of opts. Returns 0, or -EINVAL with a
 * message naming prog. */
int cli_parse_number(const char *prog, const struct cli_number *no,
		     const char *arg, void *opts);

/* Whether the comma-separated list holds word. */
bool cli_list_contains(const char *list, const char *word);

/* The command line, quoted where a shell would need it, into buf. */
void cli_format_command(int argc, char **argv, char *buf, size_t size);

/* Prints "command: " and the command line on stdout. */
void cli_print_command(int argc, char **argv);

/* Parses a comma-separated list of counts from 1 to max into counts (at
 * most max_count of them), strictly: an empty or unreadable item is an
 * error. Returns how many, or -EINVAL with a message naming prog and
 * option. */
int cli_parse_counts(const char *prog, const char *option, const char *list,
		     uint64_t max, unsigned *counts, size_t max_count);

#endif
