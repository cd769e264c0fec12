/* SPDX-License-Identifier: MIT */
/*
 * The pool's sizing policy, as a pure function: figures of the last window
 * in, a decision out (grow, shrink or hold, the target size, and the
 * reason in words with the figures behind it). No I/O and no clock of its
 * own: the caller gathers the figures and keeps the state between calls,
 * so that tests can drive it with synthetic traces. Any process.
 */
#ifndef BEDDEL_SUPERVISOR_AUTOSCALE_H
#define BEDDEL_SUPERVISOR_AUTOSCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUTOSCALE_INTERVAL_MS_DEFAULT 30000
#define AUTOSCALE_GROW_LATENCY_US_DEFAULT 55000
#define AUTOSCALE_SHRINK_LATENCY_US_DEFAULT 30000
#define AUTOSCALE_REASON_MAX 256

struct autoscale_config {
	unsigned min_workers;
	unsigned max_workers;
	uint64_t memory_budget_bytes; /* 0: none */
	/* Grow when p95 end-to-end latency passes grow_latency_us while
	 * requests wait (queue wait p95 at least a tenth of it), when
	 * utilisation times safety_margin passes grow_utilisation, or when
	 * requests are still waiting; for grow_patience windows in a row,
	 * or for one while the pool is at or below min_workers. */
	uint64_t grow_latency_us;
	double grow_utilisation;
	double safety_margin;
	double grow_factor;
	unsigned grow_patience;
	/* Shrink when p95 latency is under shrink_latency_us and
	 * utilisation under shrink_utilisation, for shrink_patience windows
	 * in a row. */
	uint64_t shrink_latency_us;
	double shrink_utilisation;
	double shrink_factor;
	unsigned shrink_patience;
};

/* The original system's thresholds, with its flaws fixed. */
void autoscale_config_defaults(struct autoscale_config *cfg);

/* Figures of one window. */
struct autoscale_window {
	uint64_t executions;	  /* 0: no data */
	uint64_t latency_p50_us;  /* end to end: queue wait included */
	uint64_t latency_p95_us;
	uint64_t queue_wait_p95_us;
	double utilisation;	  /* busy worker time / worker time, 0..1 */
	unsigned queue_depth;	  /* at the end of the window */
	uint64_t rss_bytes;	  /* all workers */
	uint64_t rss_per_worker_bytes;
	uint64_t spawn_us;	  /* mean time to warm a worker */
	unsigned cores;
	unsigned size;		  /* live workers now */
};

/* What the policy remembers between windows. Zero it to start. */
struct autoscale_state {
	unsigned calm_windows;	   /* shrink signals in a row */
	unsigned pressure_windows; /* grow signals in a row */
	bool was_grown;		   /* the last decision grew the pool */
};

enum autoscale_action {
	AUTOSCALE_HOLD,
	AUTOSCALE_GROW,
	AUTOSCALE_SHRINK,
};

struct autoscale_decision {
	enum autoscale_action action;
	unsigned target;
	char reason[AUTOSCALE_REASON_MAX];
};

/* Decides on one window, at most one change per call (call it once per
 * interval). The target is always a whole number within the bounds, never
 * past what the memory budget allows, and equals the size on hold. */
void autoscale_decide(const struct autoscale_config *cfg,
		      const struct autoscale_window *win,
		      struct autoscale_state *state,
		      struct autoscale_decision *ret_decision);

/* "grow", "shrink" or "hold". */
const char *autoscale_action_name(enum autoscale_action a);

#endif
