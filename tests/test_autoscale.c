/* SPDX-License-Identifier: MIT */
/*
 * The pool sizing policy (supervisor/autoscale.c) driven with synthetic
 * traces: steady load, a burst, a slow decline, memory pressure, load
 * that oscillates, and empty windows. Each asserts the sizes over time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/autoscale.h"

#define MIB (1024u * 1024u)

static struct autoscale_config cfg;
static struct autoscale_state state;

static void
setup(void)
{
	autoscale_config_defaults(&cfg);
	memset(&state, 0, sizeof(state));
}

static struct autoscale_window
window(unsigned size, double utilisation, uint64_t p95_us)
{
	return (struct autoscale_window){
		.executions = 1000,
		.latency_p50_us = p95_us / 2,
		.latency_p95_us = p95_us,
		.utilisation = utilisation,
		.rss_bytes = (uint64_t)size * 3 * MIB,
		.rss_per_worker_bytes = 3 * MIB,
		.cores = 2,
		.size = size,
	};
}

/* Feeds one window and returns the size the decision asks for, checking
 * the decision's own invariants. */
static unsigned
step_window(const struct autoscale_window *w)
{
	struct autoscale_decision d;

	autoscale_decide(&cfg, w, &state, &d);
	ck_assert_uint_ge(d.target, cfg.min_workers);
	ck_assert_uint_le(d.target, cfg.max_workers);
	ck_assert(strlen(d.reason) > 0);
	switch (d.action) {
	case AUTOSCALE_HOLD:
		ck_assert_uint_eq(d.target, w->size);
		break;
	case AUTOSCALE_GROW:
		ck_assert_uint_gt(d.target, w->size);
		break;
	case AUTOSCALE_SHRINK:
		ck_assert_uint_lt(d.target, w->size);
		break;
	}
	return d.target;
}

/* One window at the given size, with nothing waiting. */
static unsigned
step(unsigned size, double utilisation, uint64_t p95_us)
{
	struct autoscale_window w = window(size, utilisation, p95_us);

	return step_window(&w);
}

START_TEST(test_autoscale_holds_under_steady_load)
{
	unsigned size = 8;

	for (int i = 0; i < 20; i++)
		size = step(size, 0.5, 20000);
	ck_assert_uint_eq(size, 8);
}
END_TEST

START_TEST(test_autoscale_grows_by_a_quarter_in_a_burst)
{
	unsigned sizes[6], size = 5;

	/* From the minimum the first busy window is enough; above it each
	 * step needs the pressure to have lasted, which it has.
	 * ceil(5 * 1.25) = 7, ceil(7 * 1.25) = 9, then 12, 15, 19, 24. */
	for (int i = 0; i < 6; i++)
		sizes[i] = size = step(size, 0.95, 20000);
	ck_assert_uint_eq(sizes[0], 7);
	ck_assert_uint_eq(sizes[1], 9);
	ck_assert_uint_eq(sizes[2], 12);
	ck_assert_uint_eq(sizes[3], 15);
	ck_assert_uint_eq(sizes[4], 19);
	ck_assert_uint_eq(sizes[5], 24);
}
END_TEST

START_TEST(test_autoscale_grows_on_latency_when_requests_wait)
{
	struct autoscale_window w = window(10, 0.1, 60000);

	/* Above the minimum: the second such window grows. */
	w.queue_wait_p95_us = 20000;
	ck_assert_uint_eq(step_window(&w), 10);
	ck_assert_uint_eq(step_window(&w), 13);
}
END_TEST

START_TEST(test_autoscale_ignores_latency_that_is_run_time)
{
	/* Slow scripts, nothing waiting, little use: hold, however long
	 * it lasts. */
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(step(10, 0.1, 60000), 10);
}
END_TEST

START_TEST(test_autoscale_uses_the_safety_margin)
{
	/* 0.7 * 1.2 = 0.84 > 0.8: grow (on the second window, above the
	 * minimum); 0.6 * 1.2 = 0.72: hold. */
	ck_assert_uint_eq(step(10, 0.7, 1000), 10);
	ck_assert_uint_eq(step(10, 0.7, 1000), 13);
	setup();
	ck_assert_uint_eq(step(10, 0.6, 1000), 10);
	ck_assert_uint_eq(step(10, 0.6, 1000), 10);
}
END_TEST

START_TEST(test_autoscale_stops_at_the_maximum)
{
	unsigned size = 90;

	for (int i = 0; i < 5; i++)
		size = step(size, 0.99, 90000);
	ck_assert_uint_eq(size, 100);
}
END_TEST

START_TEST(test_autoscale_shrinks_slowly_to_the_minimum)
{
	unsigned size = 20;
	unsigned seen[40];

	for (int i = 0; i < 40; i++)
		seen[i] = size = step(size, 0.1, 2000);
	/* Patience: the first calm window only holds. */
	ck_assert_uint_eq(seen[0], 20);
	ck_assert_uint_eq(seen[1], 16);
	ck_assert_uint_eq(size, 5);
	for (int i = 1; i < 40; i++)
		ck_assert_uint_le(seen[i], seen[i - 1]);
}
END_TEST

START_TEST(test_autoscale_holds_without_data)
{
	struct autoscale_window w = window(20, 0, 0);
	struct autoscale_decision d;

	w.executions = 0;
	for (int i = 0; i < 10; i++) {
		autoscale_decide(&cfg, &w, &state, &d);
		ck_assert_int_eq(d.action, AUTOSCALE_HOLD);
		ck_assert_uint_eq(d.target, 20);
	}
	ck_assert_ptr_nonnull(strstr(d.reason, "no data"));
}
END_TEST

START_TEST(test_autoscale_budget_wins_over_growth)
{
	/* 3 MiB a worker, 30 MiB in all: 10 workers at most. */
	cfg.memory_budget_bytes = 30 * MIB;
	ck_assert_uint_eq(step(8, 0.95, 90000), 8);
	ck_assert_uint_eq(step(8, 0.95, 90000), 10);
	ck_assert_uint_eq(step(10, 0.95, 90000), 10);
	/* Over it, whatever the load: back to what it allows. */
	ck_assert_uint_eq(step(14, 0.95, 90000), 10);
}
END_TEST

/* A window in which every grow trigger fires: latency while requests
 * wait, utilisation over the threshold, requests still queued. */
static struct autoscale_window
busy_window(unsigned size)
{
	struct autoscale_window w = window(size, 0.9, 60000);

	w.queue_wait_p95_us = 20000;
	w.queue_depth = 3;
	return w;
}

/* What follows each busy window in the oscillation traces. */
enum rest {
	REST_CALM,     /* under both shrink thresholds */
	REST_MODERATE, /* between the thresholds */
	REST_EMPTY,    /* no executions */
};

static struct autoscale_window
rest_window(unsigned size, enum rest rest)
{
	struct autoscale_window w;

	switch (rest) {
	case REST_CALM:
		return window(size, 0.1, 1000);
	case REST_MODERATE:
		return window(size, 0.5, 20000);
	default:
		w = window(size, 0, 0);
		w.executions = 0;
		return w;
	}
}

/* Drives 40 windows, busy and rest in turn, from size start, and fails
 * if the size ever leaves start..highest. */
static void
oscillate(unsigned start, unsigned highest, enum rest rest)
{
	unsigned size = start;

	setup();
	for (int i = 0; i < 40; i++) {
		struct autoscale_window w = i % 2 == 0 ?
			busy_window(size) : rest_window(size, rest);
		size = step_window(&w);
		ck_assert_msg(size >= start && size <= highest,
			      "from %u, rest %d, window %d: size %u", start,
			      (int)rest, i, size);
	}
}

/* Busy and quiet windows in turn, whatever the quiet ones look like: the
 * pool stays within one grow step of where it started. Each busy window
 * used to grow it and no quiet one shrank it, so it climbed 10, 13, 17,
 * ... to the maximum. */
START_TEST(test_autoscale_stays_in_a_band_on_oscillating_load)
{
	for (enum rest r = REST_CALM; r <= REST_EMPTY; r++) {
		oscillate(10, 13, r); /* above the minimum */
		oscillate(5, 7, r);   /* at it: one busy window may grow */
	}
}
END_TEST

/* The load that arrives after a calm spell grows the pool from its second
 * window on, and then on every window while it lasts. */
START_TEST(test_autoscale_grows_when_a_burst_lasts_two_windows)
{
	unsigned size = 10;

	/* Two calm windows: 10 becomes 8. */
	for (int i = 0; i < 2; i++)
		size = step(size, 0.1, 1000);
	ck_assert_uint_eq(size, 8);
	ck_assert_uint_eq(size = step(size, 0.95, 20000), 8);
	ck_assert_uint_eq(size = step(size, 0.95, 20000), 10);
	ck_assert_uint_eq(size = step(size, 0.95, 20000), 13);
	ck_assert_uint_eq(size = step(size, 0.95, 20000), 17);
}
END_TEST

/* Load that falls a little every window, as a share of the pool: the pool
 * follows it down in steps of 0.8x, one calm pair of windows before each,
 * never grows on the way and stops at the minimum. */
START_TEST(test_autoscale_shrinks_in_steps_as_load_declines)
{
	unsigned size = 20, prev = 20, shrinks = 0;
	int last_change = -1;

	for (int i = 0; i < 60; i++) {
		/* Busy workers' worth of load: 12 down to 0.5, then flat. */
		double load = 12.0 - 0.25 * i;
		if (load < 0.5)
			load = 0.5;
		double u = load / size > 1 ? 1 : load / size;
		size = step(size, u, 5000);
		ck_assert_msg(size <= prev, "window %d: grew to %u", i, size);
		ck_assert_uint_ge(size, cfg.min_workers);
		if (size < prev) {
			/* Only on calm, one step at a time, and never two
			 * in a row. */
			ck_assert(u < cfg.shrink_utilisation);
			unsigned step_floor = (unsigned)(prev * 0.8);
			ck_assert_uint_ge(size, step_floor);
			ck_assert_int_ge(i - last_change,
					 (int)cfg.shrink_patience);
			last_change = i;
			shrinks++;
		}
		prev = size;
	}
	ck_assert_uint_eq(size, cfg.min_workers);
	ck_assert_uint_ge(shrinks, 3);
}
END_TEST

START_TEST(test_autoscale_targets_stay_whole_and_in_bounds)
{
	unsigned seed = 4242, size = 5;

	printf("test_autoscale_targets_stay_whole_and_in_bounds: seed %u\n", seed);
	srand(seed);
	cfg.min_workers = 2;
	cfg.max_workers = 37;
	for (int i = 0; i < 5000; i++) {
		double u = (double)(rand() % 101) / 100.0;
		uint64_t p95 = (uint64_t)(rand() % 120000);
		size = step(size, u, p95);
	}
}
END_TEST

Suite *autoscale_suite(void);

Suite *
autoscale_suite(void)
{
	Suite *s = suite_create("autoscale");
	TCase *tc = tcase_create("traces");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_autoscale_holds_under_steady_load);
	tcase_add_test(tc, test_autoscale_grows_by_a_quarter_in_a_burst);
	tcase_add_test(tc, test_autoscale_grows_on_latency_when_requests_wait);
	tcase_add_test(tc, test_autoscale_ignores_latency_that_is_run_time);
	tcase_add_test(tc, test_autoscale_uses_the_safety_margin);
	tcase_add_test(tc, test_autoscale_stops_at_the_maximum);
	tcase_add_test(tc, test_autoscale_shrinks_slowly_to_the_minimum);
	tcase_add_test(tc, test_autoscale_holds_without_data);
	tcase_add_test(tc, test_autoscale_budget_wins_over_growth);
	tcase_add_test(tc, test_autoscale_stays_in_a_band_on_oscillating_load);
	tcase_add_test(tc, test_autoscale_grows_when_a_burst_lasts_two_windows);
	tcase_add_test(tc, test_autoscale_shrinks_in_steps_as_load_declines);
	tcase_add_test(tc, test_autoscale_targets_stay_whole_and_in_bounds);
	suite_add_tcase(s, tc);
	return s;
}
