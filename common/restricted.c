/* SPDX-License-Identifier: MIT */
/*
 * Names of the restrictable functions. Pure data and lookups.
 */
#include "common/restricted.h"

#include <errno.h>
#include <string.h>

static const char *const names[RESTRICTED_COUNT] = {
	"eval", "Function", "require", "process",
};

const char *
restricted_name(unsigned i)
{
	return i < RESTRICTED_COUNT ? names[i] : "";
}

int
restricted_parse(const char *name, size_t len, unsigned *ret_bit)
{
	for (unsigned i = 0; i < RESTRICTED_COUNT; i++) {
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
			*ret_bit = 1u << i;
			return 0;
		}
	}
	return -EINVAL;
}
