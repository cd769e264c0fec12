/* SPDX-License-Identifier: MIT */
/*
 * The monitor: a bounded history of execution records, the statistics
 * and alerts drawn from it, and the counters behind the metrics. It does
 * no I/O and reads no clock: the caller passes the time, and alerts go to
 * a callback. Supervisor event loop only; not async-signal-safe.
 *
 * Memory is bounded whatever the traffic: the history holds at most
 * history_max records, and counters are kept for at most
 * MONITOR_SERIES_MAX (tenant, profile) pairs; executions of pairs past
 * that are counted under the tenant MONITOR_OTHER_TENANT.
 */
#ifndef BEDDEL_SUPERVISOR_MONITOR_H
#define BEDDEL_SUPERVISOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/outcome.h"

#define MONITOR_HISTORY_DEFAULT 10000
#define MONITOR_HISTORY_CEILING 1000000
#define MONITOR_SERIES_MAX 256
#define MONITOR_OTHER_TENANT "_other"
#define MONITOR_NAME_MAX_BYTES 64

/* One execution, as its response's stats give it. */
struct monitor_record {
	uint64_t id;
	uint64_t end_us; /* when it was answered, on the caller's clock */
	char tenant[MONITOR_NAME_MAX_BYTES + 1];
	char profile[MONITOR_NAME_MAX_BYTES + 1];
	uint64_t script_key; /* tenant and code, hashed */
	enum outcome outcome;
	uint64_t queue_us;
	uint64_t spawn_us;
	uint64_t exec_us;
	uint64_t cpu_us;
	uint64_t total_us;
	uint64_t heap_peak_bytes;
	uint64_t rss_bytes;
	uint64_t result_bytes;
	uint64_t log_bytes;
	uint64_t worker_pid;
	uint64_t worker_execs;
};

/* Thresholds of the alerts; a value past warn is a warning, past crit a
 * critical alert. Rates are fractions (0.999 is 99.9 %). */
struct monitor_thresholds {
	uint64_t exec_warn_us;
	uint64_t exec_crit_us;
	uint64_t heap_warn_bytes;
	uint64_t heap_crit_bytes;
	double success_warn; /* below */
	double success_crit; /* below */
	double utilisation_warn;
	double utilisation_crit;
	uint64_t spawn_warn_us;
	uint64_t spawn_crit_us;
};

struct monitor_config {
	size_t history_max;
	struct monitor_thresholds thresholds;
	/* The same alert (metric and level) is logged at most once per
	 * this, with the count of those held back. */
	uint64_t alert_repeat_ms;
};

void monitor_config_defaults(struct monitor_config *cfg);

enum monitor_level {
	MONITOR_WARNING,
	MONITOR_CRITICAL,
};

/* One alert: metric's value passed target; scope says what it concerns
 * ("req=12 tenant='a'" or "window_s=60"). suppressed counts the same
 * alerts held back since the last one said. */
struct monitor_alert {
	enum monitor_level level;
	const char *metric;
	double value;
	const char *unit;
	double target;
	const char *scope;
	uint64_t suppressed;
};

typedef void (*monitor_alert_fn)(const struct monitor_alert *a, void *arg);

struct monitor;

/* Returns NULL when out of memory. alert may be NULL. */
struct monitor *monitor_new(const struct monitor_config *cfg,
			    monitor_alert_fn alert, void *arg);
void monitor_free(struct monitor *m);

/* Adds one execution: history, counters, and its per-execution alerts
 * (execution time, peak heap). */
void monitor_add(struct monitor *m, const struct monitor_record *r);

/* A worker took startup_us to become ready: alerts past the spawn
 * thresholds. */
void monitor_note_spawn(struct monitor *m, uint64_t startup_us, int pid,
			uint64_t now_us);

/* The window alerts: the service's success rate over the last minute,
 * and utilisation (busy worker time over worker time, as the pool
 * measured it). Call every few seconds. */
void monitor_tick(struct monitor *m, uint64_t now_us, double utilisation);

/* Percentiles of one figure. */
struct monitor_spread {
	uint64_t p50;
	uint64_t p90;
	uint64_t p99;
	uint64_t max;
};

/* Statistics over the records of a window. Services failures are the
 * outcomes the service, not the script, is to blame for: worker_crashed,
 * internal, overloaded. */
struct monitor_stats {
	uint64_t count;
	uint64_t ok;
	uint64_t service_failures;
	uint64_t by_outcome[OUTCOME_COUNT];
	struct monitor_spread queue_us, exec_us, cpu_us, total_us;
	struct monitor_spread heap_peak_bytes, rss_bytes;
	uint64_t oldest_us; /* end of the oldest record counted */
	bool is_window_covered; /* the history reaches back the whole window */
};

/* Which records: all, or one tenant's, or one profile's. */
struct monitor_filter {
	const char *tenant;
	const char *profile;
};

/* Statistics of the records matching f that ended within window_us
 * before now_us (window 0: the whole history). Returns 0 or -ENOMEM. */
int monitor_stats(const struct monitor *m, const struct monitor_filter *f,
		  uint64_t now_us, uint64_t window_us,
		  struct monitor_stats *ret);

/* The tenants and profiles of the counter series, in first-seen order:
 * calls fn for each distinct name. */
void monitor_each_tenant(const struct monitor *m,
			 void (*fn)(const char *tenant, void *arg), void *arg);
void monitor_each_profile(const struct monitor *m,
			  void (*fn)(const char *profile, void *arg),
			  void *arg);

/* Recommendations drawn from the history: each with the figures behind it
 * and the action to take, deduplicated. pool_at_max says the pool is at
 * its maximum size. Calls fn once per recommendation. */
void monitor_recommend(const struct monitor *m, uint64_t now_us,
		       bool pool_at_max,
		       void (*fn)(const char *key, const char *text, void *arg),
		       void *arg);

/* Writes the counters and histograms in the Prometheus text exposition
 * format (version 0.0.4). */
void monitor_write_metrics(const struct monitor *m, FILE *out);

/* Alerts said and held back since the start, by level. */
uint64_t monitor_alerts_total(const struct monitor *m, enum monitor_level l);

#endif
