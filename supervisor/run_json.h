/* SPDX-License-Identifier: MIT */
/*
 * JSON for beddel-run: --input parsed into msgpack, results printed as
 * JSON. beddel-run only.
 */
#ifndef BEDDEL_SUPERVISOR_RUN_JSON_H
#define BEDDEL_SUPERVISOR_RUN_JSON_H

#include <stddef.h>
#include <stdio.h>

struct proto_value;
struct proto_writer;

/* Parses one JSON text (any value at the top) and writes it to w as
 * msgpack. Returns 0, or -EINVAL with why filled in. */
int run_json_to_msgpack(const char *text, struct proto_writer *w, char *why,
			size_t why_size);

/* Prints v as compact JSON followed by a newline. undefined, NaN and the
 * infinities print as null, as JSON.stringify does inside arrays. Returns
 * 0 or -EIO. */
int run_json_print(FILE *out, const struct proto_value *v);

#endif
