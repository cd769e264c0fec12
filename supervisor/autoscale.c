/* SPDX-License-Identifier: MIT */
/*
 * Pool sizing policy. The thresholds are the original system's: grow by
 * 1.25x when latency passes 55 ms or utilisation passes 0.8 after a 1.2
 * safety margin; shrink by 0.8x when latency is under 30 ms and
 * utilisation under 0.3. Its flaws are fixed here:
 *   - no data means hold, never shrink;
 *   - a factor that rounds to no change still moves by one worker, and the
 *     target is a whole number within the bounds;
 *   - shrinking needs `shrink_patience` calm windows in a row and never
 *     follows a grow directly (hysteresis against flapping);
 *   - growing above the minimum needs `grow_patience` windows of pressure
 *     in a row: the original grew on any one busy window and never shrank
 *     on the calm one after it, so load that came and went in turns
 *     ratcheted the pool up to its maximum;
 *   - the memory budget caps any growth, and past it the pool shrinks;
 *   - latency counts for growth only when requests waited for it (a
 *     queue wait p95 of a tenth of the threshold or more): the scripts'
 *     own run time does not shrink with more workers.
 */
#include "supervisor/autoscale.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

void
autoscale_config_defaults(struct autoscale_config *cfg)
{
	*cfg = (struct autoscale_config){
		.min_workers = 5,
		.max_workers = 100,
		.grow_latency_us = AUTOSCALE_GROW_LATENCY_US_DEFAULT,
		.grow_utilisation = 0.8,
		.safety_margin = 1.2,
		.grow_factor = 1.25,
		.grow_patience = 2,
		.shrink_latency_us = AUTOSCALE_SHRINK_LATENCY_US_DEFAULT,
		.shrink_utilisation = 0.3,
		.shrink_factor = 0.8,
		.shrink_patience = 2,
	};
}

const char *
autoscale_action_name(enum autoscale_action a)
{
	switch (a) {
	case AUTOSCALE_GROW:
		return "grow";
	case AUTOSCALE_SHRINK:
		return "shrink";
	default:
		return "hold";
	}
}

/* Counts one more window in a run; a run that lasts longer than an
 * unsigned can count stays at the top rather than starting over. */
static void
count_window(unsigned *n)
{
	if (*n < UINT_MAX)
		(*n)++;
}

static unsigned
clamp(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* The most workers the budget allows at the current per-worker RSS. */
static unsigned
budget_cap(const struct autoscale_config *cfg,
	   const struct autoscale_window *win)
{
	if (cfg->memory_budget_bytes == 0 || win->rss_per_worker_bytes == 0)
		return cfg->max_workers;
	uint64_t n = cfg->memory_budget_bytes / win->rss_per_worker_bytes;
	return n > cfg->max_workers ? cfg->max_workers : (unsigned)n;
}

static void
decide(struct autoscale_decision *d, enum autoscale_action action,
       unsigned target, const char *why, const struct autoscale_window *win)
{
	d->action = action;
	d->target = target;
	(void)snprintf(d->reason, sizeof(d->reason),
		       "%s (p95 %llu us, queue p95 %llu us, utilisation %.2f, queue %u, rss %llu bytes, %u workers)",
		       why, (unsigned long long)win->latency_p95_us,
		       (unsigned long long)win->queue_wait_p95_us,
		       win->utilisation, win->queue_depth,
		       (unsigned long long)win->rss_bytes, win->size);
}

/* Why more workers would help with this window's load, or NULL. */
static const char *
find_pressure(const struct autoscale_config *cfg,
	      const struct autoscale_window *win)
{
	/* Latency that is the scripts' own run time, with nothing waiting,
	 * is no reason to grow: more workers would not shorten it. */
	if (win->latency_p95_us > cfg->grow_latency_us &&
	    win->queue_wait_p95_us * 10 > cfg->grow_latency_us)
		return "latency over the grow threshold";
	if (win->utilisation * cfg->safety_margin > cfg->grow_utilisation)
		return "utilisation over the grow threshold";
	if (win->queue_depth > 0)
		return "requests waiting in the queue";
	return NULL;
}

static void
decide_grow(const struct autoscale_config *cfg,
	    const struct autoscale_window *win, struct autoscale_state *state,
	    unsigned floor_size, unsigned cap, const char *why,
	    struct autoscale_decision *d)
{
	unsigned size = win->size;

	state->calm_windows = 0;
	count_window(&state->pressure_windows);
	unsigned target = (unsigned)ceil(size * cfg->grow_factor);
	if (target <= size)
		target = size + 1;
	target = clamp(target, floor_size, cap);
	if (target <= size) {
		const char *bound = cap < cfg->max_workers ?
			"would grow, but the memory budget is reached" :
			"would grow, but the pool is at its maximum";
		decide(d, AUTOSCALE_HOLD, size, bound, win);
		return;
	}

	/* Above the minimum, one window of pressure is not enough: load that
	 * comes and goes in turns would get a grow from each busy window
	 * and, as a shrink needs calm windows in a row, never give it back.
	 * At or below the minimum one window is enough, so that an idle pool
	 * meets a new burst at once; that is one step, and the next needs
	 * the pressure to last. Requests that wait meanwhile still start
	 * workers on demand, up to the maximum (the pool does that). */
	if (size > cfg->min_workers &&
	    state->pressure_windows < cfg->grow_patience) {
		/* Room for the longest reason find_pressure() gives, and
		 * the words after it. */
		char waiting[96];
		(void)snprintf(waiting, sizeof(waiting),
			       "%s, waiting for it to last", why);
		decide(d, AUTOSCALE_HOLD, size, waiting, win);
		return;
	}
	state->was_grown = true;
	decide(d, AUTOSCALE_GROW, target, why, win);
}

static void
decide_calm(const struct autoscale_config *cfg,
	    const struct autoscale_window *win, struct autoscale_state *state,
	    unsigned floor_size, struct autoscale_decision *d)
{
	unsigned size = win->size;

	count_window(&state->calm_windows);
	if (state->was_grown || state->calm_windows < cfg->shrink_patience) {
		state->was_grown = false;
		decide(d, AUTOSCALE_HOLD, size, "calm, waiting for it to last",
		       win);
		return;
	}
	unsigned target = (unsigned)floor(size * cfg->shrink_factor);
	if (target >= size && size > 0)
		target = size - 1;
	target = clamp(target, floor_size, size);
	if (target >= size) {
		decide(d, AUTOSCALE_HOLD, size, "calm, at the minimum", win);
		return;
	}
	state->calm_windows = 0;
	decide(d, AUTOSCALE_SHRINK, target,
	       "latency and utilisation under the shrink thresholds", win);
}

void
autoscale_decide(const struct autoscale_config *cfg,
		 const struct autoscale_window *win,
		 struct autoscale_state *state,
		 struct autoscale_decision *ret_decision)
{
	unsigned size = win->size;
	unsigned cap = budget_cap(cfg, win);
	/* The budget may allow fewer than the minimum, never none. */
	unsigned floor_size = cfg->min_workers < cap ? cfg->min_workers : cap;
	if (floor_size == 0)
		floor_size = 1;
	if (cap == 0)
		cap = 1;

	/* The budget wins: past it, shrink to what it allows. */
	if (size > cap) {
		*state = (struct autoscale_state){ 0 };
		decide(ret_decision, AUTOSCALE_SHRINK,
		       clamp(cap, floor_size, size), "memory budget exceeded",
		       win);
		return;
	}

	/* An empty window breaks a run of either signal: it says nothing
	 * about the load, and a change needs the load to have lasted. */
	if (win->executions == 0) {
		state->calm_windows = 0;
		state->pressure_windows = 0;
		decide(ret_decision, AUTOSCALE_HOLD, size, "no data", win);
		return;
	}

	const char *why = find_pressure(cfg, win);
	if (why) {
		decide_grow(cfg, win, state, floor_size, cap, why,
			    ret_decision);
		return;
	}
	state->pressure_windows = 0;
	bool is_calm = win->latency_p95_us < cfg->shrink_latency_us &&
		       win->utilisation < cfg->shrink_utilisation;
	if (!is_calm) {
		state->calm_windows = 0;
		state->was_grown = false;
		decide(ret_decision, AUTOSCALE_HOLD, size,
		       "within the thresholds", win);
		return;
	}
	decide_calm(cfg, win, state, floor_size, ret_decision);
}
