/* SPDX-License-Identifier: MIT */
/*
 * The goals bench_suite measures Beddel against, each a ratio taken in
 * the same run: latency against isolated-vm, the supervisor's hop, the
 * one-shot CLI against `node -e`, throughput, the memory of an idle
 * worker, and latency and memory with 200 tenants. A goal that cannot be
 * measured here (a peer missing) says why; none is ever asserted.
 */
#ifndef BEDDEL_BENCH_GOALS_H
#define BEDDEL_BENCH_GOALS_H

#include <stddef.h>
#include <stdint.h>

#include "bench/modes.h"
#include "bench/report.h"

/* The memory figures taken before any case runs: the worker of the pipe
 * mode just warmed, and what one more isolate adds to a Node.js process
 * that has run nothing else. */
struct goals_memory {
	uint64_t fresh_dirty_bytes; /* 0: not read */
	uint64_t isolate_bytes;	    /* 0: not measured, why says why */
	char why[REPORT_WHY_MAX];
};

/* Tenant counts --tenants may list. */
#define GOALS_TENANT_COUNTS_MAX 16

struct goals_options {
	size_t case_index; /* the case the latency goals compare */
	uint64_t load_ms;  /* each load run's counted length */
	const char *tenants; /* comma-separated tenant counts; NULL: none */
	const struct goals_memory *memory; /* NULL: no memory goal */
};

/* The goals taken from the latency table (report_summarize() first). */
void goals_from_latency(struct report *r, const struct goals_options *o);

/* Takes the memory figures of a fresh worker and a fresh Node.js
 * driver, before anything else runs in them. */
void goals_memory_start(struct modes_env *env, struct goals_memory *m);

/* The goals that take runs of their own: the memory of the worker after
 * every case ran in it, throughput and tenants. Returns 0, or -errno
 * when Beddel failed a run (a wrong value, a lost request, a worker
 * left behind); a peer that fails only leaves its goal unmeasured. */
int goals_measure(struct report *r, struct modes_env *env,
		  const struct goals_options *o);

#endif
