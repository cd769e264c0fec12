/* SPDX-License-Identifier: MIT */
/*
 * What bench_suite measured, summarised and written out: tables on
 * stdout, report.json, report.md, and the data files bench/plot.gp draws.
 */
#ifndef BEDDEL_BENCH_REPORT_H
#define BEDDEL_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/cases.h"
#include "bench/load.h"
#include "bench/modes.h"

#define REPORT_WHY_MAX 512
#define REPORT_GOALS_MAX 8

/* One case in one mode. */
struct report_cell {
	uint64_t *ns; /* the timed runs, cap entries */
	size_t n;
	size_t cap;
	uint64_t heap_peak_bytes; /* the largest of the runs; 0: unknown */
	uint64_t rss_bytes;
	bool is_failed;	     /* a run failed or gave a wrong value */
	bool is_unavailable; /* the mode cannot run here */
	char why[REPORT_WHY_MAX];
	/* Filled by report_summarize(), in microseconds. */
	double median_us;
	double p90_us;
	double p99_us;
	double max_us;
};

/* A goal of the form "value at most (or at least) limit". */
struct report_goal {
	const char *name;
	const char *rule; /* the goal, in words */
	bool is_at_most;
	double limit;
	bool is_measured;
	double value;
	char detail[REPORT_WHY_MAX]; /* the figures behind value, or why not */
};

struct report {
	const struct cases_set *cases;
	const struct modes_mode *const *modes;
	size_t n_modes;
	struct report_cell *cells; /* cases->count * n_modes */
	size_t plot_case; /* the case whose percentiles latency.dat holds */
	struct report_goal goals[REPORT_GOALS_MAX];
	size_t n_goals;
	struct load_row *tenants; /* the multi-tenant table */
	size_t n_tenants;
	uint64_t memory_budget_bytes; /* of the multi-tenant runs */
	char command[1024];
	char machine[256];
	char date[64];
	char peers[REPORT_WHY_MAX]; /* the peers' versions, or why missing */
};

/* Allocates room for cap runs per cell. Returns 0 or -ENOMEM. */
int report_init(struct report *r, const struct cases_set *cases,
		const struct modes_mode *const *modes, size_t n_modes,
		size_t cap);
void report_fini(struct report *r);

struct report_cell *report_cell(struct report *r, size_t case_index,
				size_t mode_index);

/* The median, p90, p99 and max of every cell. */
void report_summarize(struct report *r);

/* Adds a goal; value is set with report_goal_measure(). */
struct report_goal *report_add_goal(struct report *r, const char *name,
				    const char *rule, bool is_at_most,
				    double limit);
void report_goal_measure(struct report_goal *g, double value,
			 const char *detail);

/* The latency table, the goals and the multi-tenant table, as text. */
void report_print(const struct report *r, FILE *out);

/* Writes report.json, report.md, latency.dat and tenants.dat into dir.
 * Returns 0 or -errno. */
int report_write(const struct report *r, const char *dir);

#endif
