/* SPDX-License-Identifier: MIT */
/*
 * Security profiles: named sets of limits and restricted functions that a
 * request picks by name. They are read from a YAML file at start-up
 * (policies/profiles.yaml ships the three built-in ones); a request may
 * lower any limit of its profile and restrict more functions, never the
 * reverse. Supervisor and beddel-run, event loop thread; not
 * async-signal-safe.
 */
#ifndef BEDDEL_SUPERVISOR_PROFILE_H
#define BEDDEL_SUPERVISOR_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILE_NAME_MAX_BYTES 32
#define PROFILE_MAX 16
/* The largest heap cap a profile may give: a quarter of a worker's
 * address space at most (policies/worker_limits.c), leaving the rest to
 * the engine, its garbage and the result's encoding. */
#define PROFILE_HEAP_LIMIT_BYTES_CEILING (64u * 1024u * 1024u)

struct profile {
	char name[PROFILE_NAME_MAX_BYTES + 1];
	uint64_t heap_limit_bytes;
	uint64_t timeout_ms; /* wall clock */
	uint64_t cpu_ms;
	/* Bytecode instructions the script may run, counted in steps of
	 * JS_INTERRUPT_STEP_INSTRUCTIONS (worker/js.h). */
	uint64_t instructions_max;
	uint64_t result_max_bytes;
	uint64_t log_max_bytes;
	uint64_t input_max_bytes;
	/* A worker is replaced once its resident memory passes this after
	 * one of this profile's requests. */
	uint64_t worker_rss_max_bytes;
	unsigned restricted; /* RESTRICTED_* bits */
	/* "worker: once": the worker is discarded after one execution;
	 * "shared": it serves the same tenant's next executions. */
	bool is_single_use;
};

struct profile_set {
	struct profile items[PROFILE_MAX];
	size_t count;
	size_t default_index;
};

/* Reads the profiles file at path. Returns 0 with ret_set filled, or
 * -errno / -EINVAL with err naming the file, line and field. */
int profile_set_load(const char *path, struct profile_set *ret_set,
		     char *err, size_t err_size);

/* The profile named by len bytes at name, or NULL. */
const struct profile *profile_set_find(const struct profile_set *s,
				       const char *name, size_t len);

/* The largest heap cap and result limit of any profile. */
uint64_t profile_set_max_heap(const struct profile_set *s);
uint64_t profile_set_max_frame(const struct profile_set *s);

/* Writes "name key=value ..." for a log line (the limits as the pool
 * applies them). */
void profile_describe(const struct profile *p, char *buf, size_t size);

/* Lowers every profile's limits to the given ceilings (0: leave as it
 * is), for operators who tighten them all at once from the command
 * line. */
void profile_set_cap(struct profile_set *s, uint64_t timeout_ms,
		     uint64_t heap_limit_bytes, uint64_t result_max_bytes);

#endif
