/* SPDX-License-Identifier: MIT */
/*
 * Files built into beddel-worker (worker/embed.py writes the table at
 * build time): the prelude pieces scripts may need, the transform driver
 * and TypeScript's compiler. A worker reads no file after its sandbox is
 * on, and not even before it: everything it runs besides the request
 * comes from here. Any process; read-only data.
 */
#ifndef BEDDEL_WORKER_EMBEDDED_H
#define BEDDEL_WORKER_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;
	const char *start;
	const char *end; /* one past the last byte; a NUL byte sits there */
};

/* Ends with an entry whose name is NULL. */
extern const struct embedded_file embedded_files[];

/* The bytes of the file called name, or NULL (*ret_len untouched). */
const char *embedded_get(const char *name, size_t *ret_len);

#endif
