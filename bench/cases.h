/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks' scripts: each NAME.js of a directory with its
 * NAME.expected, the compact JSON of the value it must give. A script
 * whose first line is "// profiles: A B..." is as many cases, NAME@A,
 * NAME@B..., each run under that security profile; any other runs under
 * the default one.
 */
#ifndef BEDDEL_BENCH_CASES_H
#define BEDDEL_BENCH_CASES_H

#include <stdbool.h>
#include <stddef.h>

struct cases_case {
	char *suite; /* the directory's name; NULL for a plain directory */
	char *name;
	char *profile; /* NULL: the default */
	char *code; /* NUL-terminated; code_len is its strlen() */
	size_t code_len;
	char *expected; /* JSON, trailing white space removed */
};

struct cases_set {
	struct cases_case *items;
	size_t count;
};

/* Adds every NAME.js of dir, in name order, with its NAME.expected, to
 * set, each under suite (may be NULL) and once per profile it names.
 * Returns 0 or -errno (-ENOENT for a directory without scripts), with
 * what went wrong printed; on failure the set may hold some of the
 * directory's cases, which cases_free() frees with the rest. */
int cases_load_dir(struct cases_set *set, const char *dir, const char *suite);

/* Frees every case and empties the set. */
void cases_free(struct cases_set *set);

/* Whether json is the value the case expects: equal JSON values, numbers
 * compared by value (so 2 and 2.0 match). Either text failing to parse is
 * a mismatch. */
bool cases_matches(const struct cases_case *c, const char *json);

/* Reads a whole regular file of at most max_bytes into a new
 * NUL-terminated buffer. Returns 0 or -errno (-EFBIG past max_bytes). */
int cases_read_text(const char *path, size_t max_bytes, char **ret_text);

#endif
