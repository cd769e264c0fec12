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

struct goals_options {
	size_t case_index; /* the case the latency goals compare */
	uint64_t load_ms;  /* each load run's counted length */
	const char *tenants; /* comma-separated tenant counts; NULL: none */
};

/* The goals taken from the latency table (report_summarize() first). */
void goals_from_latency(struct report *r, const struct goals_options *o);

/* The memory goal: the worker of env and a fresh Node.js driver, both
 * before they run anything else, so that neither counts what earlier
 * runs left behind. Returns 0, or -errno when it cannot be read. */
int goals_measure_memory(struct report *r, struct modes_env *env);

/* The goals that take load runs of their own: throughput and tenants.
 * Returns 0, or -errno when a run broke (the goal then says so). */
int goals_measure(struct report *r, struct modes_env *env,
		  const struct goals_options *o);

#endif
