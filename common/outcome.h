/* SPDX-License-Identifier: MIT */
/*
 * The outcome of an execution: ok, or one error kind. The names are the
 * stable strings of the protocol (docs/PROTOCOL.md) and the exit codes are
 * beddel-run's; both are part of the public interface and never change
 * meaning.
 */
#ifndef BEDDEL_COMMON_OUTCOME_H
#define BEDDEL_COMMON_OUTCOME_H

#include <stddef.h>

enum outcome {
	OUTCOME_OK,
	OUTCOME_SYNTAX_ERROR,
	OUTCOME_RUNTIME_ERROR,
	OUTCOME_TIMEOUT,
	OUTCOME_MEMORY_LIMIT,
	OUTCOME_SECURITY_VIOLATION,
	OUTCOME_WORKER_CRASHED,
	OUTCOME_BAD_REQUEST,
	OUTCOME_TOO_LARGE,
	OUTCOME_OVERLOADED,
	OUTCOME_INTERNAL,
	OUTCOME_QUARANTINED,
	OUTCOME_SCRIPT_ERROR, /* function mode: context.setError() */
	OUTCOME_NO_RESULT,    /* function mode: neither output nor error */
	OUTCOME_COUNT,
};

/* beddel-run exit codes that are not an outcome. */
#define OUTCOME_EXIT_USAGE 2
#define OUTCOME_EXIT_UNREACHABLE 3

/* The protocol name of an outcome ("ok", "syntax_error", ...). */
const char *outcome_name(enum outcome o);

/* Looks up a protocol name of len bytes. Returns 0, or -EINVAL when the
 * name is unknown (ret_outcome untouched). */
int outcome_parse(const char *name, size_t len, enum outcome *ret_outcome);

/* The exit code beddel-run uses for o: 0 for ok, 10 and up for errors. */
int outcome_exit_code(enum outcome o);

#endif
