/* SPDX-License-Identifier: MIT */
/*
 * The worker pool: warm workers, a bounded queue of requests, dispatch,
 * deadlines, and the handling of worker deaths. It runs on a libevent
 * base owned by the caller (the supervisor's server, or beddel-run when it
 * runs a script alone). Every function here is for that process's event
 * loop thread only; none is async-signal-safe. The pool owns the SIGCHLD
 * handling of its base.
 *
 * SECURITY: a worker serves one tenant. The first request it runs binds
 * it to that request's tenant, and from then on it runs that tenant's
 * requests only, until it exits.
 */
#ifndef BEDDEL_SUPERVISOR_POOL_H
#define BEDDEL_SUPERVISOR_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/outcome.h"
#include "supervisor/autoscale.h"
#include "supervisor/events.h"
#include "supervisor/inspect.h"
#include "supervisor/profile.h"
#include "supervisor/transform.h"

struct event_base;
struct monitor;
struct proto_exec;
struct proto_result;
struct pool;

#define POOL_MIN_WORKERS_DEFAULT 5
#define POOL_MAX_WORKERS_DEFAULT 100
#define POOL_MAX_WORKERS_CEILING 4096
#define POOL_QUEUE_MAX_DEFAULT 1024
#define POOL_TENANT_DEFAULT "default"
#define POOL_TENANT_MAX_BYTES 64
/* A worker is replaced after this many executions, ... */
#define POOL_WORKER_MAX_EXECS_DEFAULT 10000
/* ...when its resident memory passes this after a request... */
#define POOL_WORKER_RSS_MAX_BYTES_DEFAULT (64u * 1024u * 1024u)
/* ...or when it has been idle this long while the pool is above its
 * minimum. */
#define POOL_IDLE_TIMEOUT_MS_DEFAULT (5u * 60u * 1000u)
/* A script that takes down (times out, exhausts, crashes) this many
 * workers of its tenant within the window is refused with `quarantined`
 * for the rest of the window. */
#define POOL_QUARANTINE_STRIKES_DEFAULT 3
#define POOL_QUARANTINE_WINDOW_MS_DEFAULT 60000
/* Executions still running after this are logged with their stack. */
#define POOL_SLOW_MS_DEFAULT 50
/* The longest a request waits in the queue before `overloaded`. */
#define POOL_QUEUE_MAX_WAIT_MS_DEFAULT 10000

struct pool_config {
	const char *worker_path;
	unsigned min_workers;
	unsigned max_workers;
	unsigned queue_max;
	/* The profiles requests choose from, and ceilings over all of them
	 * (0: none) that pool_config_load_profiles() applies. */
	struct profile_set profiles;
	uint64_t cap_timeout_ms;
	uint64_t cap_heap_limit_bytes;
	uint64_t cap_result_max_bytes;
	/* When a worker is replaced (the lower of this and its profile's
	 * ceiling for resident memory). */
	uint64_t worker_max_execs;
	uint64_t worker_rss_max_bytes;
	uint64_t idle_timeout_ms;
	/* Admission: how long a request may wait for a worker, and how many
	 * of the waiting requests one tenant may hold (0: no limit of its
	 * own; a full queue still makes room for a tenant under its fair
	 * share). */
	uint64_t queue_max_wait_ms;
	unsigned queue_max_per_tenant;
	/* Crash storms: see POOL_QUARANTINE_STRIKES_DEFAULT. */
	unsigned quarantine_strikes;
	uint64_t quarantine_window_ms;
	/* Resident memory all workers together may use; no worker beyond the
	 * first is started past it. 0: no budget. */
	uint64_t memory_budget_bytes;
	/* Sizing between min_workers and max_workers: the policy's
	 * thresholds (its bounds and budget are taken from above), how often
	 * it runs, and whether its decisions are only logged. */
	struct autoscale_config scale;
	uint64_t scale_interval_ms;
	bool is_scale_advise_only;
	/* Start workers without namespaces even where the host allows
	 * them (the other layers stay). */
	bool is_namespaces_off;
	/* Start transform workers, which lower ES2015+ source to ES5
	 * rather than run it (supervisor/transform.c runs such a pool). */
	bool is_transform;
	/* Where a script that is not ES5.1 is lowered before it runs
	 * (NULL: nowhere; it answers syntax_error). Not owned. */
	struct transform *transform;
	/* Where each execution's record goes (NULL: nowhere). Not owned. */
	struct monitor *monitor;
	/* Executions running this long are reported, with their stack at
	 * that moment, in the log and as events (0: never). */
	uint64_t slow_ms;
	/* Told of sizing decisions, worker deaths and slow executions
	 * (NULL: nobody). */
	events_fn on_event;
	void *event_arg;
};

/* What the pool is doing now, for status and metrics. */
struct pool_figures {
	unsigned workers; /* not yet reaped, stopping ones included */
	unsigned by_state[5]; /* starting, idle, busy, clearing, stopping */
	unsigned target;
	unsigned min_workers;
	unsigned max_workers;
	unsigned queued;
	uint64_t rss_bytes;
	uint64_t memory_budget_bytes;
	double utilisation; /* busy worker time / worker time, this window */
	uint64_t spawned;
	uint64_t retired[16]; /* by reason; see pool_retire_reason() */
	unsigned n_retire_reasons;
	uint64_t deaths[OUTCOME_COUNT]; /* unplanned, by the kind reported */
	/* Workers that never served again after a request: died, or
	 * retired for their cap, a restricted call or an internal error. */
	uint64_t tainted;
	bool has_sandbox; /* a worker's layers have been read */
	struct inspect_layers sandbox;
	bool has_transform; /* ES2015+ scripts are lowered (transform) */
	struct transform_figures transform;
};

/* The name of worker state i (0 to 4): "starting", "idle", ... */
const char *pool_state_name(unsigned i);

/* The short name of retire reason i ("memory_limit", "idle", ...), or
 * NULL past the last. */
const char *pool_retire_reason(unsigned i);

void pool_get_figures(const struct pool *p, struct pool_figures *ret);

/* The default memory budget: half the host's memory (MemTotal of
 * /proc/meminfo), or 0 when that cannot be read. */
uint64_t pool_default_memory_budget(void);

/* Fills cfg with the built-in defaults (worker_path and profiles
 * excepted: the caller loads those). */
void pool_config_defaults(struct pool_config *cfg);

/* Loads the profiles file at path (NULL: the one Beddel ships) into
 * cfg->profiles, lowered to cfg's cap_* ceilings. Returns 0, or -errno /
 * -EINVAL with err naming the file, line and field. */
int pool_config_load_profiles(struct pool_config *cfg, const char *path,
			      char *err, size_t err_size);

/* Called exactly once for each accepted request, from the event loop,
 * unless its owner was cancelled first. res (and everything it points to)
 * is valid only during the call; it carries the request's own id. */
typedef void (*pool_done_fn)(void *owner, const struct proto_result *res);

/* Creates a pool on base. Returns NULL when out of memory. */
struct pool *pool_new(struct event_base *base, const struct pool_config *cfg);

/* Spawns the minimum number of workers. Returns 0 or -errno from the
 * first spawn (the pool retries later). */
int pool_start(struct pool *p);

/* Whether len bytes at s make a tenant name: 1 to POOL_TENANT_MAX_BYTES
 * letters, digits or ._:@- (no NUL, no byte that would need escaping in
 * a log line or a metric label). Pure. */
bool pool_is_valid_tenant(const char *s, size_t len);

/* Why a tenant name is refused, for a bad_request. */
#define POOL_STRINGIFY_(x) #x
#define POOL_STRINGIFY(x) POOL_STRINGIFY_(x)
#define POOL_TENANT_RULE                                                  \
	"'tenant' must be 1 to " POOL_STRINGIFY(POOL_TENANT_MAX_BYTES)      \
	" letters, digits or ._:@-"

/* Checks a request, applies its profile and queues it. Returns 0 (done
 * will be called); -EINVAL with why filled in for a bad request; -E2BIG
 * for an input over its profile's limit; -EAGAIN when the queue is full;
 * -EPERM when the script is quarantined; -ESHUTDOWN while the pool
 * drains; -ENOMEM. */
int pool_submit(struct pool *p, const struct proto_exec *req,
		pool_done_fn done, void *owner, char *why, size_t why_size);

/* The error kind a client gets for pool_submit()'s return value r. */
enum outcome pool_submit_error_kind(int r);

/* Forgets every request of owner: queued ones are dropped, running ones
 * finish but their results are discarded. done is not called for them. */
void pool_cancel_owner(struct pool *p, void *owner);

/* Stops taking requests, lets queued and running ones finish, then stops
 * every worker; calls drained(arg) once no worker is left. */
void pool_drain(struct pool *p, void (*drained)(void *arg), void *arg);

/* Replaces the profiles requests choose from (already loaded and capped,
 * pool_config_load_profiles()): new requests get them at once, requests
 * queued or running keep the ones they were admitted with. When the
 * largest heap cap grows, workers started before (whose address space
 * derives from it) are replaced, the idle ones now and the busy ones
 * when they finish. */
void pool_set_profiles(struct pool *p, const struct profile_set *set);

/* Takes the settings of next that may change while the pool runs (its
 * size, queue, recycling, quarantine, budget, sizing policy and slow
 * threshold) and its profiles (pool_set_profiles()). The others (worker
 * binary, namespaces, transform, monitor, events) stay. */
void pool_set_config(struct pool *p, const struct pool_config *next);

/* The end of a drain that ran out of time: queued requests and those
 * waiting for the transform are answered `overloaded` with why, busy
 * workers are killed and their requests answered `overloaded` as they
 * are reaped; drained (pool_drain()) is then called once no worker is
 * left. Call after pool_drain(). */
void pool_drain_now(struct pool *p, const char *why);

/* Kills and reaps any worker left, drops queued requests without calling
 * them back, and frees the pool. Accepts NULL. */
void pool_free(struct pool *p);

#endif
