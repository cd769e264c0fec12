/* SPDX-License-Identifier: MIT */
/*
 * Lookup in the table of files built into the worker (embedded.h). The
 * table itself is generated at build time by worker/embed.py.
 */
#include "worker/embedded.h"

#include <string.h>

const char *
embedded_get(const char *name, size_t *ret_len)
{
	for (const struct embedded_file *f = embedded_files; f->name; f++) {
		if (strcmp(f->name, name) == 0) {
			*ret_len = (size_t)(f->end - f->start);
			return f->start;
		}
	}
	return NULL;
}
