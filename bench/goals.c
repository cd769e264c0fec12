/* SPDX-License-Identifier: MIT */
/*
 * Beddel's goals, as ratios measured in one run. The limits are the
 * project's targets for a two-core machine; README.md quotes them.
 */
#include "bench/goals.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"
#include "bench/load.h"
#include "common/util.h"

#define GOALS_CONNECTIONS 8
#define GOALS_PIPELINE 4
#define GOALS_WARMUP_MS 1000u
#define GOALS_SAMPLE_MS 250u
/* Isolates kept alive at once to measure what one more adds. */
#define GOALS_ISOLATES 20u
/* The multi-tenant runs: room for one worker per tenant, and a budget
 * the workers of 200 tenants must stay within. */
#define GOALS_TENANTS_MAX 200u
#define GOALS_TENANT_WORKERS_MAX "250"
#define GOALS_MEMORY_BUDGET_BYTES (1024ull * 1024u * 1024u)
#define GOALS_MEMORY_BUDGET_TEXT "1073741824"
/* Until every tenant has a warm worker, a request may wait for one to
 * start; the warm-up covers those starts (about 30 ms each, two at a
 * time). */
#define GOALS_WARMUP_MS_PER_TENANT 40u

static size_t
mode_index(const struct report *r, const char *name)
{
	for (size_t i = 0; i < r->n_modes; i++) {
		if (strcmp(r->modes[i]->name, name) == 0)
			return i;
	}
	return r->n_modes;
}

/* The goal case's median in mode name, or why there is none. */
static int
median_of(struct report *r, const struct goals_options *o, const char *name,
	  double *ret_us, char *why, size_t why_size)
{
	size_t mi = mode_index(r, name);
	if (mi == r->n_modes) {
		(void)snprintf(why, why_size, "mode %s was not run", name);
		return -ENOENT;
	}
	const struct report_cell *c = report_cell(r, o->case_index, mi);
	if (c->is_failed || c->is_unavailable || c->n == 0) {
		(void)snprintf(why, why_size, "%s: %.400s", name,
			       c->why[0] ? c->why : "no runs");
		return -ENOENT;
	}
	*ret_us = c->median_us;
	return 0;
}

/* A goal that is the ratio of two modes' medians for the goal case. */
static void
ratio_goal(struct report *r, const struct goals_options *o, const char *name,
	   const char *rule, double limit, const char *top,
	   const char *bottom)
{
	struct report_goal *g = report_add_goal(r, name, rule, true, limit);
	char detail[REPORT_WHY_MAX];
	double a, b;

	if (median_of(r, o, top, &a, g->detail, sizeof(g->detail)) < 0 ||
	    median_of(r, o, bottom, &b, g->detail, sizeof(g->detail)) < 0)
		return;
	(void)snprintf(detail, sizeof(detail),
		       "case %s: %s median %.1f us, %s median %.1f us",
		       r->cases->items[o->case_index].name, top, a, bottom, b);
	report_goal_measure(g, a / b, detail);
}

void
goals_from_latency(struct report *r, const struct goals_options *o)
{
	ratio_goal(r, o, "latency",
		   "socket median at most 0.2x isolated-vm's new context per execution",
		   0.2, "socket", "ivm-context");
	ratio_goal(r, o, "supervisor hop", "socket over pipe at most 1.5x",
		   1.5, "socket", "pipe");
	ratio_goal(r, o, "one-shot", "oneshot at most 0.05x `node -e`", 0.05,
		   "oneshot", "node-e");
}

/* ---- throughput ------------------------------------------------------- */

static int
throughput_goal(struct report *r, struct modes_env *env,
		const struct goals_options *o)
{
	struct report_goal *g = report_add_goal(
		r, "throughput",
		"8 pipelined connections through a supervisor: at least 3x the executions per second of one Node.js process running isolated-vm with a new context per execution",
		false, 3.0);
	const struct cases_case *c = &r->cases->items[o->case_index];
	const struct load_config lc = {
		.socket_path = env->supervisor.socket,
		.supervisor_pid = env->supervisor.pid,
		.connections = GOALS_CONNECTIONS,
		.pipeline = GOALS_PIPELINE,
		.tenants = 1,
		.warmup_ms = GOALS_WARMUP_MS,
		.duration_ms = o->load_ms,
		.sample_ms = GOALS_SAMPLE_MS,
		.code = c->code,
		.expected_json = c->expected,
		.seed = 1,
		.harness = &env->supervisor,
	};
	struct load_report lr = { 0 };
	char detail[REPORT_WHY_MAX];
	double peer_rate;

	int rc = load_run(&lc, &lr);
	if (rc < 0) {
		(void)snprintf(g->detail, sizeof(g->detail),
			       "the load run failed: %s", strerror(-rc));
		return rc;
	}
	double rate = lr.throughput_per_s;
	uint64_t bad = lr.wrong + lr.errors + lr.lost + lr.cut;
	load_report_fini(&lr);
	if (bad > 0) {
		(void)snprintf(g->detail, sizeof(g->detail),
			       "%llu requests of the load run failed",
			       (unsigned long long)bad);
		return -EBADMSG;
	}
	if (!peers_has_mode(&env->peers, "ivm-context")) {
		(void)snprintf(g->detail, sizeof(g->detail),
			       "Beddel: %.0f requests/s; isolated-vm: %s", rate,
			       modes_unavailable(env, modes_find("ivm-context")));
		return 0;
	}
	/* A peer that fails leaves the goal unmeasured, saying why. */
	if (peers_throughput(&env->peers, "ivm-context", c->code, o->load_ms,
			     &peer_rate, g->detail, sizeof(g->detail)) < 0)
		return 0;
	(void)snprintf(detail, sizeof(detail),
		       "case %s: Beddel %.0f requests/s (%u connections, %u in flight each, the supervisor's default pool); isolated-vm %.0f executions/s",
		       c->name, rate, GOALS_CONNECTIONS, GOALS_PIPELINE,
		       peer_rate);
	report_goal_measure(g, rate / peer_rate, detail);
	return 0;
}

/* ---- memory ------------------------------------------------------------ */

void
goals_memory_start(struct modes_env *env, struct goals_memory *m)
{
	*m = (struct goals_memory){
		.fresh_dirty_bytes = modes_private_dirty_bytes(env->worker.pid),
	};
	if (!peers_has_mode(&env->peers, "ivm-isolate")) {
		(void)snprintf(m->why, sizeof(m->why), "%.400s",
			       modes_unavailable(env, modes_find("ivm-isolate")));
		return;
	}
	if (peers_isolate_rss(&env->peers, GOALS_ISOLATES, &m->isolate_bytes,
			      m->why, sizeof(m->why)) < 0)
		m->isolate_bytes = 0;
}

/* The steady state is what a tenant's worker holds once it has served:
 * the worker after every case of the run, idle. */
static int
memory_goal(struct report *r, struct modes_env *env,
	    const struct goals_memory *m)
{
	struct report_goal *g = report_add_goal(
		r, "memory",
		"an idle warm worker's private memory (Private_Dirty), after every case ran in it, at most 0.4x the resident memory one more live isolated-vm isolate adds",
		true, 0.4);
	char detail[REPORT_WHY_MAX];

	uint64_t dirty = modes_private_dirty_bytes(env->worker.pid);
	if (dirty == 0 || m->fresh_dirty_bytes == 0) {
		(void)snprintf(g->detail, sizeof(g->detail),
			       "cannot read the worker's smaps_rollup");
		return -EIO;
	}
	/* The cases reach the worker through the pipe mode only. */
	if (mode_index(r, "pipe") == r->n_modes) {
		(void)snprintf(g->detail, sizeof(g->detail),
			       "the pipe mode was not run, so the worker ran no case");
		return 0;
	}
	(void)snprintf(detail, sizeof(detail),
		       "worker: %llu KiB private dirty after every case, %llu KiB fresh; one more isolate (mean of %u, in a fresh Node.js process): ",
		       (unsigned long long)dirty / 1024u,
		       (unsigned long long)m->fresh_dirty_bytes / 1024u,
		       GOALS_ISOLATES);
	if (m->isolate_bytes == 0) {
		(void)snprintf(g->detail, sizeof(g->detail), "%.300s%.200s",
			       detail, m->why);
		return 0;
	}
	char text[REPORT_WHY_MAX];
	(void)snprintf(text, sizeof(text),
		       "%.400s%llu KiB (the fresh worker over it: %.3f)", detail,
		       (unsigned long long)m->isolate_bytes / 1024u,
		       (double)m->fresh_dirty_bytes / (double)m->isolate_bytes);
	report_goal_measure(g, (double)dirty / (double)m->isolate_bytes,
			    text);
	return 0;
}

/* ---- tenants ----------------------------------------------------------- */

static const struct load_row *
row_for(const struct report *r, unsigned tenants)
{
	for (size_t i = 0; i < r->n_tenants; i++) {
		if (r->tenants[i].tenants == tenants)
			return &r->tenants[i];
	}
	return NULL;
}

/* One fresh supervisor per count, each with room for a worker per
 * tenant: uniform load from 8 connections. */
static int
run_tenants(struct report *r, const struct cases_case *c,
	    const struct goals_options *o, const unsigned *counts, size_t n)
{
	static const char *const args[] = {
		"--max-workers", GOALS_TENANT_WORKERS_MAX,
		"--memory-budget-bytes", GOALS_MEMORY_BUDGET_TEXT, NULL,
	};

	r->tenants = calloc(n, sizeof(*r->tenants));
	if (!r->tenants)
		return -ENOMEM;
	r->memory_budget_bytes = GOALS_MEMORY_BUDGET_BYTES;
	for (size_t i = 0; i < n; i++) {
		const struct load_config base = {
			.connections = GOALS_CONNECTIONS,
			.pipeline = 1,
			.warmup_ms = GOALS_WARMUP_MS +
				     GOALS_WARMUP_MS_PER_TENANT * counts[i],
			.duration_ms = o->load_ms,
			.sample_ms = GOALS_SAMPLE_MS,
			.code = c->code,
			.expected_json = c->expected,
			.seed = 1,
		};
		struct load_row *row;
		int rc = load_table(&base, 2, args, &counts[i], 1, NULL, &row);
		if (rc < 0)
			return rc;
		r->tenants[r->n_tenants++] = *row;
		free(row);
		fprintf(stderr, "bench_suite: %u tenants done\n", counts[i]);
	}
	return 0;
}

/* Every request of every row answered with its value, and no worker
 * left behind: anything else is Beddel failing, not a figure. */
static int
check_rows(const struct report *r)
{
	int rc = 0;

	for (size_t i = 0; i < r->n_tenants; i++) {
		const struct load_row *t = &r->tenants[i];
		if (t->errors + t->wrong + t->lost + t->survivors == 0)
			continue;
		fprintf(stderr, "bench_suite: %u tenants: %llu errors, %llu wrong, %llu lost, %u workers left\n",
			t->tenants, (unsigned long long)t->errors,
			(unsigned long long)t->wrong,
			(unsigned long long)t->lost, t->survivors);
		rc = -EBADMSG;
	}
	return rc;
}

static void
tenants_goals(struct report *r)
{
	struct report_goal *lat = report_add_goal(
		r, "200 tenants: latency",
		"median latency with 200 tenants under uniform load at most 2x that of one tenant",
		true, 2.0);
	struct report_goal *mem = report_add_goal(
		r, "200 tenants: memory",
		"total worker memory with 200 tenants within the configured budget (ratio to it)",
		true, 1.0);
	const struct load_row *one = row_for(r, 1);
	const struct load_row *many = row_for(r, GOALS_TENANTS_MAX);
	char detail[REPORT_WHY_MAX];

	if (!one || !many) {
		(void)snprintf(lat->detail, sizeof(lat->detail),
			       "the tenant counts did not include 1 and %u",
			       GOALS_TENANTS_MAX);
		(void)snprintf(mem->detail, sizeof(mem->detail), "%s",
			       lat->detail);
		return;
	}
	uint64_t failed = many->errors + many->wrong + many->lost;
	if (failed > 0) {
		(void)snprintf(lat->detail, sizeof(lat->detail),
			       "%llu requests of the %u-tenant run failed",
			       (unsigned long long)failed, GOALS_TENANTS_MAX);
		(void)snprintf(mem->detail, sizeof(mem->detail), "%s",
			       lat->detail);
		return;
	}
	(void)snprintf(detail, sizeof(detail),
		       "median %llu us with %u tenants, %llu us with one",
		       (unsigned long long)many->median_us, GOALS_TENANTS_MAX,
		       (unsigned long long)one->median_us);
	double one_us = one->median_us ? (double)one->median_us : 1.0;
	report_goal_measure(lat, (double)many->median_us / one_us, detail);
	(void)snprintf(detail, sizeof(detail),
		       "largest total worker RSS %.1f MiB over %u workers, budget %.0f MiB",
		       (double)many->rss_max_bytes / 1048576.0,
		       many->workers_max,
		       (double)r->memory_budget_bytes / 1048576.0);
	report_goal_measure(mem, (double)many->rss_max_bytes /
					 (double)r->memory_budget_bytes,
			    detail);
}

int
goals_measure(struct report *r, struct modes_env *env,
	      const struct goals_options *o)
{
	unsigned counts[GOALS_TENANT_COUNTS_MAX];
	int first = 0;

	int rc = o->memory ? memory_goal(r, env, o->memory) : 0;
	if (rc < 0)
		first = rc;
	rc = throughput_goal(r, env, o);
	if (rc < 0 && first == 0)
		first = rc;
	if (!o->tenants)
		return first;

	int n = cli_parse_counts("bench_suite", "tenants", o->tenants,
				 LOAD_TENANTS_MAX, counts,
				 UTIL_ARRAY_SIZE(counts));
	if (n < 0)
		return n;
	rc = run_tenants(r, &r->cases->items[o->case_index], o, counts,
			 (size_t)n);
	if (rc == 0)
		rc = check_rows(r);
	if (rc < 0 && first == 0)
		first = rc;
	tenants_goals(r);
	return first;
}
