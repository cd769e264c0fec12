/* SPDX-License-Identifier: MIT */
/*
 * What a worker's death means for the request it was running. This is
 * the only place that maps a wait status to an error kind.
 */
#ifndef BEDDEL_SUPERVISOR_REAPER_H
#define BEDDEL_SUPERVISOR_REAPER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/outcome.h"

/* Why the supervisor itself ended a worker, if it did. */
enum reaper_cause {
	REAPER_CAUSE_NONE,     /* the worker died on its own */
	REAPER_CAUSE_DEADLINE, /* killed at its request's deadline */
	REAPER_CAUSE_PROTOCOL, /* killed for a frame it should not send */
	REAPER_CAUSE_RETIRED,  /* asked to stop: after its cap, or shutdown */
	REAPER_CAUSE_SHUTDOWN, /* killed busy at the stop's drain deadline */
};

/* The kind and a sentence for a request whose worker ended with wait
 * status `status`. syscall is the name of the forbidden call the worker
 * reported before it died of SIGSYS, or NULL. */
enum outcome reaper_classify(int status, enum reaper_cause cause,
			     const char *syscall, char *why, size_t why_size);

/* Describes a wait status for a log line: "exit=70", "sig=31" or
 * "sig=31 syscall=socket". */
void reaper_describe(int status, const char *syscall, char *buf, size_t size);

#endif
