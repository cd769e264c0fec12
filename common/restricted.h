/* SPDX-License-Identifier: MIT */
/*
 * The functions a security profile may take away from scripts, as bits
 * of a mask. The supervisor reads their names from profile files and
 * requests; the worker turns each bit into a gate that ends the execution
 * with security_violation (worker/js.c). Pure lookups, any process.
 */
#ifndef BEDDEL_COMMON_RESTRICTED_H
#define BEDDEL_COMMON_RESTRICTED_H

#include <stddef.h>

enum restricted_fn {
	RESTRICTED_EVAL = 1u << 0,
	RESTRICTED_FUNCTION = 1u << 1, /* the Function constructor */
	RESTRICTED_REQUIRE = 1u << 2,
	RESTRICTED_PROCESS = 1u << 3,
};

#define RESTRICTED_COUNT 4
#define RESTRICTED_ALL ((1u << RESTRICTED_COUNT) - 1)

/* The script-visible name of bit number i (0 to RESTRICTED_COUNT - 1):
 * "eval", "Function", "require", "process". */
const char *restricted_name(unsigned i);

/* The bit of the name of len bytes. Returns 0, or -EINVAL for a name
 * that is not restrictable (ret_bit untouched). */
int restricted_parse(const char *name, size_t len, unsigned *ret_bit);

#endif
