/* SPDX-License-Identifier: MIT */
/*
 * The ways bench_suite runs a case, each timed per execution and each
 * result checked against the case's expected value:
 *
 *   baseline     in this process, a plain Duktape heap, a fresh global
 *                environment per run, no sandbox (worker/js_plain.c)
 *   pipe         a pre-warmed sandboxed beddel-worker, driven directly
 *                over its pipes as the supervisor would
 *   socket       a live beddel-supervisor, from one persistent client
 *   oneshot      beddel-run without a supervisor: a process per run
 *   ivm-context, ivm-isolate, vm-context
 *                the Node.js peers of bench/peers/peer.js
 *   node-e       `node -e` per run
 */
#ifndef BEDDEL_BENCH_MODES_H
#define BEDDEL_BENCH_MODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/cases.h"
#include "bench/peers.h"
#include "supervisor/profile.h"
#include "supervisor/spawn.h"
#include "tests/helpers/harness.h"

#define MODES_WHY_MAX 1024

struct modes_sample {
	uint64_t ns;
	uint64_t heap_peak_bytes; /* 0: not known in this mode */
	uint64_t rss_bytes;	  /* the executing process's; 0: not known */
};

struct modes_env {
	struct js_plain *plain;
	struct profile_set profiles;
	struct spawn_child worker; /* pid 0: none */
	struct harness supervisor;
	bool has_supervisor;
	int fd; /* the persistent client's connection */
	uint64_t next_id;
	const char *run_path;
	const char *node_path;
	struct peers peers;
};

struct modes_mode;

/* One run of c, timed into *sample; *ret_json gets its value as JSON
 * (free() it). Returns 0, or -errno with why filled. */
typedef int (*modes_once_fn)(struct modes_env *env, const struct cases_case *c,
			     struct modes_sample *sample, char **ret_json,
			     char *why, size_t why_size);

/* n runs of c at once, for a mode that runs in another program which
 * times them itself; each value is checked. */
typedef int (*modes_batch_fn)(struct modes_env *env,
			      const struct modes_mode *m,
			      const struct cases_case *c, size_t n,
			      struct modes_sample *samples, char *why,
			      size_t why_size);

struct modes_mode {
	const char *name;
	const char *what; /* one line for the report */
	bool is_peer;	   /* not Beddel */
	bool is_process_per_run;
	modes_once_fn once; /* one of the two */
	modes_batch_fn batch;
};

extern const struct modes_mode modes_all[];
extern const size_t modes_count;

/* The mode called name, or NULL. */
const struct modes_mode *modes_find(const char *name);

/* Runs c n times in mode m, filling n samples, and checks every value
 * against the case's. Returns 0, or -errno with why filled: a wrong
 * value, a failure, the mode is not available here. */
int modes_run(struct modes_env *env, const struct modes_mode *m,
	      const struct cases_case *c, size_t n,
	      struct modes_sample *samples, char *why, size_t why_size);

struct modes_options {
	const char *profiles_path;
	const char *node_path;	 /* NULL: no Node.js peers */
	const char *peer_script; /* bench/peers/peer.js */
};

/* Starts what the modes need: the plain heap, one worker, a supervisor,
 * the Node.js driver. Only the Beddel modes must start (-errno and a
 * message otherwise); a peer that cannot start is left out, and
 * modes_unavailable() says why. */
int modes_env_start(struct modes_env *env, const struct modes_options *o);

/* Why mode m cannot run here, or NULL when it can. */
const char *modes_unavailable(const struct modes_env *env,
			      const struct modes_mode *m);

/* Stops and frees everything modes_env_start() started. */
void modes_env_stop(struct modes_env *env);

/* VmRSS of pid, in bytes; 0 when unknown. */
uint64_t modes_rss_bytes(int pid);

/* The Private_Dirty of /proc/PID/smaps_rollup, in bytes: the memory only
 * this process holds. 0 when unknown. */
uint64_t modes_private_dirty_bytes(int pid);

#endif
