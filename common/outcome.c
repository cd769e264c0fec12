/* SPDX-License-Identifier: MIT */
/*
 * Table of outcomes: protocol name and beddel-run exit code. Pure data
 * and lookups, used by every binary.
 */
#include "common/outcome.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	int exit_code;
} outcomes[OUTCOME_COUNT] = {
	[OUTCOME_OK] = { "ok", 0 },
	[OUTCOME_SYNTAX_ERROR] = { "syntax_error", 10 },
	[OUTCOME_RUNTIME_ERROR] = { "runtime_error", 11 },
	[OUTCOME_TIMEOUT] = { "timeout", 12 },
	[OUTCOME_MEMORY_LIMIT] = { "memory_limit", 13 },
	[OUTCOME_SECURITY_VIOLATION] = { "security_violation", 14 },
	[OUTCOME_WORKER_CRASHED] = { "worker_crashed", 15 },
	[OUTCOME_BAD_REQUEST] = { "bad_request", 16 },
	[OUTCOME_TOO_LARGE] = { "too_large", 17 },
	[OUTCOME_OVERLOADED] = { "overloaded", 18 },
	[OUTCOME_INTERNAL] = { "internal", 19 },
	[OUTCOME_QUARANTINED] = { "quarantined", 20 },
	[OUTCOME_SCRIPT_ERROR] = { "script_error", 21 },
	[OUTCOME_NO_RESULT] = { "no_result", 22 },
};

const char *
outcome_name(enum outcome o)
{
	if ((unsigned)o >= OUTCOME_COUNT)
		return "internal";
	return outcomes[o].name;
}

int
outcome_parse(const char *name, size_t len, enum outcome *ret_outcome)
{
	for (int i = 0; i < OUTCOME_COUNT; i++) {
		if (strlen(outcomes[i].name) == len &&
		    memcmp(outcomes[i].name, name, len) == 0) {
			*ret_outcome = (enum outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
outcome_exit_code(enum outcome o)
{
	if ((unsigned)o >= OUTCOME_COUNT)
		return outcomes[OUTCOME_INTERNAL].exit_code;
	return outcomes[o].exit_code;
}
