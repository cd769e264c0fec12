/* SPDX-License-Identifier: MIT */
/*
 * ES2015+ scripts: the transform workers that lower them to ES5.1, and
 * the cache of what they made. A script reaches here only after an engine
 * worker refused it with a syntax error; the pool (pool.c) then runs the
 * transform's output in its place. Supervisor's (or beddel-run's) event
 * loop only.
 *
 * SECURITY: transform workers are sandboxed like engine workers (the
 * same binary, seccomp policy, rlimits but a larger address space for a
 * larger heap cap, capabilities and namespaces) and bound to one
 * tenant for life, as engine workers are: one tenant's source never
 * reaches a process that handles another's. The cache is keyed by tenant
 * too, so that a tenant cannot learn, from how fast its script is
 * answered, whether another tenant sent the same source.
 */
#ifndef BEDDEL_SUPERVISOR_TRANSFORM_H
#define BEDDEL_SUPERVISOR_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct proto_result;
struct transform;

#define TRANSFORM_WORKERS_MAX_DEFAULT 2
#define TRANSFORM_CACHE_MAX_BYTES_DEFAULT (16u * 1024u * 1024u)

struct transform_config {
	const char *worker_path;
	/* Transform workers at most (at least one is kept warm). */
	unsigned max_workers;
	/* Bytes of transformed source the cache holds at most; past them
	 * the least recently used entries go. 0: no cache. */
	uint64_t cache_max_bytes;
	bool is_namespaces_off;
	/* As the engine workers' pool: a source that takes down this many
	 * transform workers within the window is refused (0: the
	 * defaults). */
	unsigned quarantine_strikes;
	uint64_t quarantine_window_ms;
};

/* The figures of the transform, for status and metrics. */
struct transform_figures {
	uint64_t transforms;	/* run by a transform worker */
	uint64_t failures;	/* of those, not lowered (syntax and others) */
	uint64_t cache_hits;
	uint64_t cache_misses;	/* a script needed the transform, uncached */
	uint64_t cache_evictions;
	uint64_t cache_entries;
	uint64_t cache_bytes;
	unsigned workers;
};

/* Creates the transform pool on base. Its warm worker starts with
 * transform_start(); without that call the first script that needs the
 * transform starts one. Returns NULL when out of memory. */
struct transform *transform_new(struct event_base *base,
				const struct transform_config *cfg);

/* Starts the warm transform worker. Returns 0 or -errno (retried). */
int transform_start(struct transform *t);

/* The cached ES5 form of a tenant's script, if any: points into the cache
 * and stays valid until the next call into this module. Counts a hit.
 * quick_key is a cheap hash of the tenant and the code (the pool's
 * script key): the digest that decides is computed only when an entry
 * has the same quick_key, so that ES5 scripts, never cached, pay no
 * digest at all. */
bool transform_cache_get(struct transform *t, uint64_t quick_key,
			 const char *tenant, size_t tenant_len,
			 bool is_function, const char *code, size_t code_len,
			 const char **ret_code, size_t *ret_len);

/* Called once per submitted script, unless cancelled: res is OUTCOME_OK
 * with the ES5 source as a string value, or the error the client should
 * get (a syntax_error with line and column in the source as sent, or a
 * limit the transform reached). Valid only during the call. */
typedef void (*transform_done_fn)(void *owner, const struct proto_result *res);

/* Lowers code for tenant; the result is cached, under quick_key and its
 * digest (see transform_cache_get()), when it succeeds. Returns
 * 0 (done will be called), or pool_submit()'s errors with why filled. */
int transform_submit(struct transform *t, uint64_t quick_key,
		     const char *tenant, size_t tenant_len, bool is_function,
		     const char *code, size_t code_len,
		     transform_done_fn done, void *owner, char *why,
		     size_t why_size);

/* Forgets owner's submissions: done is not called for them. */
void transform_cancel(struct transform *t, void *owner);

void transform_get_figures(const struct transform *t,
			   struct transform_figures *ret);

/* Kills and reaps the transform workers, drops the cache and frees t.
 * Call once nothing is submitted any more. Accepts NULL. */
void transform_free(struct transform *t);

#endif
