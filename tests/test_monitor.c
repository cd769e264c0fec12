/* SPDX-License-Identifier: MIT */
/*
 * Tests of the monitor (supervisor/monitor.c), driven with synthetic
 * records on a synthetic clock: statistics add up against a known
 * workload, alerts fire at their thresholds and not below, repeats are
 * held back and counted, the series table stays bounded, and the
 * recommendations and metrics say what the records hold.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor/monitor.h"

#define SECOND_US 1000000u

static struct monitor_alert said[64];
static char said_scope[64][160];
static size_t n_said;

static void
on_alert(const struct monitor_alert *a, void *arg)
{
	(void)arg;
	if (n_said < 64) {
		said[n_said] = *a;
		(void)snprintf(said_scope[n_said], sizeof(said_scope[0]), "%s",
			       a->scope);
		said[n_said].scope = said_scope[n_said];
		n_said++;
	}
}

static struct monitor *
new_monitor(size_t history)
{
	struct monitor_config cfg;

	monitor_config_defaults(&cfg);
	cfg.history_max = history;
	n_said = 0;
	struct monitor *m = monitor_new(&cfg, on_alert, NULL);
	ck_assert_ptr_nonnull(m);
	return m;
}

static struct monitor_record
record(uint64_t id, const char *tenant, enum outcome o, uint64_t exec_us,
       uint64_t end_us)
{
	struct monitor_record r = {
		.id = id,
		.end_us = end_us,
		.outcome = o,
		.queue_us = 10 * id,
		.exec_us = exec_us,
		.cpu_us = exec_us,
		.total_us = exec_us + 10 * id,
		.heap_peak_bytes = 1000,
		.script_key = 42,
	};
	(void)snprintf(r.tenant, sizeof(r.tenant), "%s", tenant);
	(void)snprintf(r.profile, sizeof(r.profile), "ultra-secure");
	return r;
}

/* 100 runs: exec_us 1..100, three runtime errors and one crash. */
START_TEST(test_monitor_statistics_add_up)
{
	struct monitor *m = new_monitor(1000);
	struct monitor_stats st;

	for (uint64_t i = 1; i <= 100; i++) {
		enum outcome o = i <= 3 ? OUTCOME_RUNTIME_ERROR :
				 i == 4 ? OUTCOME_WORKER_CRASHED :
					  OUTCOME_OK;
		struct monitor_record r = record(i, i % 2 ? "a" : "b", o, i,
						 i * 1000);
		monitor_add(m, &r);
	}
	ck_assert_int_eq(monitor_stats(m, &(struct monitor_filter){ 0 }, 100000,
				       0, &st),
			 0);
	ck_assert_uint_eq(st.count, 100);
	ck_assert_uint_eq(st.ok, 96);
	ck_assert_uint_eq(st.by_outcome[OUTCOME_RUNTIME_ERROR], 3);
	ck_assert_uint_eq(st.service_failures, 1);
	ck_assert_uint_eq(st.exec_us.p50, 50);
	ck_assert_uint_eq(st.exec_us.p90, 90);
	ck_assert_uint_eq(st.exec_us.p99, 99);
	ck_assert_uint_eq(st.exec_us.max, 100);
	ck_assert_uint_eq(st.queue_us.max, 1000);
	ck_assert(st.is_window_covered);
	/* One tenant: the odd ids. */
	ck_assert_int_eq(monitor_stats(m, &(struct monitor_filter){ "a", NULL },
				       100000, 0, &st),
			 0);
	ck_assert_uint_eq(st.count, 50);
	ck_assert_uint_eq(st.exec_us.max, 99);
	/* A window: the last 10 ms hold ids 91..100. */
	ck_assert_int_eq(monitor_stats(m, &(struct monitor_filter){ 0 }, 100000,
				       9999, &st),
			 0);
	ck_assert_uint_eq(st.count, 10);
	ck_assert_uint_eq(st.exec_us.p50, 95);
	monitor_free(m);
}
END_TEST

START_TEST(test_monitor_history_is_bounded)
{
	struct monitor *m = new_monitor(10);
	struct monitor_stats st;

	for (uint64_t i = 1; i <= 25; i++) {
		struct monitor_record r = record(i, "a", OUTCOME_OK, i, i);
		monitor_add(m, &r);
	}
	ck_assert_int_eq(monitor_stats(m, &(struct monitor_filter){ 0 }, 25, 0,
				       &st),
			 0);
	ck_assert_uint_eq(st.count, 10);
	ck_assert_uint_eq(st.exec_us.max, 25);
	ck_assert_uint_eq(st.exec_us.p50, 20);
	/* The ring no longer reaches back a whole minute. */
	ck_assert_int_eq(monitor_stats(m, &(struct monitor_filter){ 0 }, 25,
				       60 * SECOND_US, &st),
			 0);
	ck_assert(!st.is_window_covered);
	monitor_free(m);
}
END_TEST

/* Just at a threshold is not past it; each band is reached. */
START_TEST(test_monitor_alerts_fire_past_their_thresholds_only)
{
	struct monitor *m = new_monitor(100);
	struct monitor_record r;

	r = record(1, "a", OUTCOME_OK, 50000, 1 * SECOND_US);
	monitor_add(m, &r);
	ck_assert_uint_eq(n_said, 0);
	r = record(2, "a", OUTCOME_OK, 50001, 2 * SECOND_US);
	monitor_add(m, &r);
	ck_assert_uint_eq(n_said, 1);
	ck_assert_int_eq(said[0].level, MONITOR_WARNING);
	ck_assert_str_eq(said[0].metric, "execution_time");
	ck_assert_str_eq(said[0].unit, "ms");
	ck_assert(said[0].target == 50.0);
	ck_assert_ptr_nonnull(strstr(said[0].scope, "req=2 tenant='a'"));
	r = record(3, "a", OUTCOME_OK, 75001, 3 * SECOND_US);
	monitor_add(m, &r);
	ck_assert_uint_eq(n_said, 2);
	ck_assert_int_eq(said[1].level, MONITOR_CRITICAL);
	/* Memory: 2 MB and 3 MB. */
	r = record(4, "a", OUTCOME_OK, 10, 4 * SECOND_US);
	r.heap_peak_bytes = 2000001;
	monitor_add(m, &r);
	ck_assert_uint_eq(n_said, 3);
	ck_assert_str_eq(said[2].metric, "execution_memory");
	/* Worker creation: 100 ms and 200 ms. */
	monitor_note_spawn(m, 100000, 7, 5 * SECOND_US);
	ck_assert_uint_eq(n_said, 3);
	monitor_note_spawn(m, 200001, 7, 5 * SECOND_US);
	ck_assert_uint_eq(n_said, 4);
	ck_assert_int_eq(said[3].level, MONITOR_CRITICAL);
	ck_assert_str_eq(said[3].metric, "worker_creation_time");
	/* Utilisation: 70 % and 90 %. */
	monitor_tick(m, 6 * SECOND_US, 0.70);
	ck_assert_uint_eq(n_said, 4);
	monitor_tick(m, 6 * SECOND_US, 0.71);
	ck_assert_uint_eq(n_said, 5);
	ck_assert_str_eq(said[4].metric, "pool_utilisation");
	ck_assert_int_eq(said[4].level, MONITOR_WARNING);
	monitor_free(m);
}
END_TEST

/* How a band's value reaches the monitor: an execution's time or peak
 * heap, a worker's start-up time, the count of service failures among
 * BAND_RUNS runs of the last minute, or the pool's utilisation. */
#define BAND_RUNS 10000

static void
band_exec_us(struct monitor *m, double v)
{
	struct monitor_record r =
		record(1, "a", OUTCOME_OK, (uint64_t)v, SECOND_US);
	monitor_add(m, &r);
}

static void
band_heap_bytes(struct monitor *m, double v)
{
	struct monitor_record r = record(1, "a", OUTCOME_OK, 10, SECOND_US);

	r.heap_peak_bytes = (uint64_t)v;
	monitor_add(m, &r);
}

static void
band_failures(struct monitor *m, double v)
{
	for (uint64_t i = 1; i <= BAND_RUNS; i++) {
		enum outcome o =
			i <= (uint64_t)v ? OUTCOME_WORKER_CRASHED : OUTCOME_OK;
		struct monitor_record r = record(i, "a", o, 10, SECOND_US + i);
		monitor_add(m, &r);
	}
	monitor_tick(m, 2 * SECOND_US, 0.1);
}

static void
band_utilisation(struct monitor *m, double v)
{
	monitor_tick(m, 2 * SECOND_US, v);
}

static void
band_spawn_us(struct monitor *m, double v)
{
	monitor_note_spawn(m, (uint64_t)v, 7, SECOND_US);
}

static size_t
count_said(enum monitor_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < n_said; i++)
		n += said[i].level == level;
	return n;
}

/* Every band, warning and critical, with the defaults: the value at the
 * threshold raises nothing of that level; the smallest step past it
 * (1 us, 1 byte, one more failure in BAND_RUNS, 1 us of busy time in a
 * second of worker time) raises that level alone. At the critical
 * threshold the warning still fires: the value is past the warning's. */
START_TEST(test_monitor_every_band_fires_just_past_its_threshold_only)
{
	static const struct {
		const char *metric;
		enum monitor_level level;
		void (*feed)(struct monitor *m, double v);
		double at, past;
		double target; /* as the alert says it */
	} bands[] = {
		{"execution_time", MONITOR_WARNING, band_exec_us, 50000, 50001,
		 50.0},
		{"execution_time", MONITOR_CRITICAL, band_exec_us, 75000, 75001,
		 75.0},
		{"execution_memory", MONITOR_WARNING, band_heap_bytes, 2000000,
		 2000001, 2000000.0},
		{"execution_memory", MONITOR_CRITICAL, band_heap_bytes, 3000000,
		 3000001, 3000000.0},
		{"success_rate", MONITOR_WARNING, band_failures, 10, 11, 99.9},
		{"success_rate", MONITOR_CRITICAL, band_failures, 50, 51, 99.5},
		{"pool_utilisation", MONITOR_WARNING, band_utilisation, 0.7,
		 0.700001, 70.0},
		{"pool_utilisation", MONITOR_CRITICAL, band_utilisation, 0.9,
		 0.900001, 90.0},
		{"worker_creation_time", MONITOR_WARNING, band_spawn_us, 100000,
		 100001, 100.0},
		{"worker_creation_time", MONITOR_CRITICAL, band_spawn_us,
		 200000, 200001, 200.0},
	};

	for (size_t i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
		const char *level = bands[i].level == MONITOR_WARNING
					    ? "warning"
					    : "critical";
		struct monitor *m = new_monitor(2 * BAND_RUNS);
		bands[i].feed(m, bands[i].at);
		ck_assert_msg(count_said(bands[i].level) == 0,
			      "%s at its %s threshold raised %zu %s alert(s)",
			      bands[i].metric, level,
			      count_said(bands[i].level), level);
		ck_assert_uint_eq(monitor_alerts_total(m, bands[i].level), 0);
		monitor_free(m);

		m = new_monitor(2 * BAND_RUNS);
		bands[i].feed(m, bands[i].past);
		ck_assert_msg(
			n_said == 1 && said[0].level == bands[i].level,
			"%s just past its %s threshold raised %zu alert(s), the first of level %d",
			bands[i].metric, level, n_said,
			n_said ? (int)said[0].level : -1);
		ck_assert_str_eq(said[0].metric, bands[i].metric);
		double off = said[0].target - bands[i].target;
		ck_assert_msg(off > -1e-9 && off < 1e-9,
			      "%s %s: target %f, not %f", bands[i].metric,
			      level, said[0].target, bands[i].target);
		ck_assert_uint_eq(monitor_alerts_total(m, bands[i].level), 1);
		monitor_free(m);
	}
}
END_TEST

/* The success rate is the service's, over the last minute: 1 crash in
 * 1000 is 99.9 % (no alert), 2 in 1000 a warning, 6 critical. */
START_TEST(test_monitor_success_rate_bands_are_all_reachable)
{
	static const struct {
		unsigned crashes;
		int level; /* -1: none */
	} cases[] = { { 1, -1 }, { 2, MONITOR_WARNING }, { 6, MONITOR_CRITICAL } };

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct monitor *m = new_monitor(2000);
		for (uint64_t i = 1; i <= 1000; i++) {
			enum outcome o = i <= cases[c].crashes ?
						 OUTCOME_WORKER_CRASHED :
					 i <= 100 ? OUTCOME_RUNTIME_ERROR :
						    OUTCOME_OK;
			struct monitor_record r = record(i, "a", o, 10,
							 SECOND_US + i);
			monitor_add(m, &r);
		}
		monitor_tick(m, 2 * SECOND_US, 0.1);
		if (cases[c].level < 0) {
			ck_assert_uint_eq(n_said, 0);
		} else {
			ck_assert_uint_eq(n_said, 1);
			ck_assert_str_eq(said[0].metric, "success_rate");
			ck_assert_int_eq(said[0].level, cases[c].level);
		}
		monitor_free(m);
	}
}
END_TEST

START_TEST(test_monitor_holds_back_and_counts_repeated_alerts)
{
	struct monitor *m = new_monitor(100);

	for (uint64_t i = 1; i <= 5; i++) {
		struct monitor_record r = record(i, "a", OUTCOME_OK, 60000,
						 i * SECOND_US);
		monitor_add(m, &r);
	}
	ck_assert_uint_eq(n_said, 1);
	ck_assert_uint_eq(monitor_alerts_total(m, MONITOR_WARNING), 5);
	/* A minute after the first, the next says how many were held. */
	struct monitor_record r = record(6, "a", OUTCOME_OK, 60000,
					 62 * SECOND_US);
	monitor_add(m, &r);
	ck_assert_uint_eq(n_said, 2);
	ck_assert_uint_eq(said[1].suppressed, 4);
	monitor_free(m);
}
END_TEST

static void
count_name(const char *name, void *arg)
{
	(void)name;
	(*(unsigned *)arg)++;
}

START_TEST(test_monitor_series_stay_bounded)
{
	struct monitor *m = new_monitor(100);
	unsigned tenants = 0;
	char *text = NULL;
	size_t len = 0;

	for (uint64_t i = 0; i < 3 * MONITOR_SERIES_MAX; i++) {
		char tenant[32];
		(void)snprintf(tenant, sizeof(tenant), "t%llu",
			       (unsigned long long)i);
		struct monitor_record r = record(i + 1, tenant, OUTCOME_OK, 10, i);
		monitor_add(m, &r);
	}
	monitor_each_tenant(m, count_name, &tenants);
	ck_assert_uint_eq(tenants, MONITOR_SERIES_MAX + 1);
	FILE *out = open_memstream(&text, &len);
	monitor_write_metrics(m, out);
	ck_assert_int_eq(fclose(out), 0);
	char want[160];
	(void)snprintf(want, sizeof(want),
		       "beddel_executions_total{tenant=\"_other\",profile=\"ultra-secure\",outcome=\"ok\"} %d\n",
		       2 * MONITOR_SERIES_MAX);
	ck_assert_ptr_nonnull(strstr(text, want));
	free(text);
	monitor_free(m);
}
END_TEST

/* Every sample line is NAME{LABELS} VALUE, histogram buckets never
 * decrease, and +Inf is the count. */
START_TEST(test_monitor_metrics_are_well_formed)
{
	struct monitor *m = new_monitor(100);
	char *text = NULL;
	size_t len = 0;

	for (uint64_t i = 1; i <= 30; i++) {
		struct monitor_record r = record(i, "a", OUTCOME_OK, i * 1000, i);
		monitor_add(m, &r);
	}
	FILE *out = open_memstream(&text, &len);
	monitor_write_metrics(m, out);
	ck_assert_int_eq(fclose(out), 0);
	unsigned long long last = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128], labels[256];
		double value;
		if (line[0] == '#') {
			ck_assert(strncmp(line, "# HELP ", 7) == 0 ||
				  strncmp(line, "# TYPE ", 7) == 0);
			continue;
		}
		ck_assert_msg(sscanf(line, "%127[a-z_]{%255[^}]} %lf", name,
				     labels, &value) == 3,
			      "bad line '%s'", line);
		if (strstr(name, "_bucket")) {
			/* Each histogram starts again at its first bucket. */
			if (strstr(labels, "le=\"5e-05\""))
				last = 0;
			ck_assert_uint_ge((unsigned long long)value, last);
			last = (unsigned long long)value;
		}
		if (strcmp(name, "beddel_execution_seconds_count") == 0)
			ck_assert(value == 30);
	}
	free(text);
	monitor_free(m);
}
END_TEST

static char recommended[8][320];
static char recommended_key[8][96];
static size_t n_recommended;

static void
on_recommend(const char *key, const char *text, void *arg)
{
	(void)arg;
	if (n_recommended < 8) {
		(void)snprintf(recommended_key[n_recommended],
			       sizeof(recommended_key[0]), "%s", key);
		(void)snprintf(recommended[n_recommended++], sizeof(recommended[0]),
			       "%s", text);
	}
}

START_TEST(test_monitor_recommends_from_the_history)
{
	struct monitor *m = new_monitor(1000);

	n_recommended = 0;
	/* Tenant a: 10 % of 40 runs at the cap; b: 1 of 40. */
	for (uint64_t i = 1; i <= 80; i++) {
		const char *tenant = i % 2 ? "a" : "b";
		enum outcome o = (i % 2 && i <= 8) || i == 2 ?
					 OUTCOME_MEMORY_LIMIT :
					 OUTCOME_OK;
		struct monitor_record r = record(i, tenant, o, 10, i);
		r.script_key = i;
		monitor_add(m, &r);
	}
	/* One script timing out four times. */
	for (uint64_t i = 81; i <= 84; i++) {
		struct monitor_record r = record(i, "c", OUTCOME_TIMEOUT, 10, i);
		r.script_key = 0xabc;
		monitor_add(m, &r);
	}
	monitor_recommend(m, 100, false, on_recommend, NULL);
	ck_assert_uint_eq(n_recommended, 2);
	ck_assert_ptr_nonnull(strstr(recommended[0], "tenant 'a': 4 of 40 runs (10.0 %) hit the heap cap"));
	ck_assert_ptr_nonnull(strstr(recommended[1], "script 0000000000000abc of tenant 'c' timed out 4 times"));
	monitor_free(m);
}
END_TEST

/* A pool at its maximum whose queue wait grows: queue p90 was 100 us over
 * the two minutes, 20 ms over the last one. Not said when the pool can
 * still grow. */
START_TEST(test_monitor_recommends_a_larger_pool_when_waits_grow)
{
	struct monitor *m = new_monitor(1000);
	uint64_t now = 200 * SECOND_US;

	for (uint64_t i = 0; i < 100; i++) {
		bool is_recent = i >= 50;
		struct monitor_record r = record(i + 1, "a", OUTCOME_OK, 10,
						 now - (is_recent ? 30 : 90) * SECOND_US + i);
		r.queue_us = is_recent ? 20000 : 100;
		monitor_add(m, &r);
	}
	n_recommended = 0;
	monitor_recommend(m, now, false, on_recommend, NULL);
	ck_assert_uint_eq(n_recommended, 0);
	monitor_recommend(m, now, true, on_recommend, NULL);
	ck_assert_uint_eq(n_recommended, 1);
	ck_assert_ptr_nonnull(strstr(recommended[0], "the pool is at its maximum size and queue wait grows"));
	ck_assert_ptr_nonnull(strstr(recommended[0], "20000 us over the last one"));
	monitor_free(m);
}
END_TEST

/* One cause seen many times, and through several series, is one
 * recommendation: tenant a hits its heap cap under two profiles (two
 * counter series), and one script of tenant c times out six times, under
 * both profiles; the pool's queue wait grows. Asked twice, each says the
 * same three, each once. */
START_TEST(test_monitor_recommendations_are_not_listed_twice)
{
	static const char *const profiles[] = {"ultra-secure", "standard"};
	struct monitor *m = new_monitor(1000);
	uint64_t now = 200 * SECOND_US;
	uint64_t id = 1;

	for (uint64_t i = 0; i < 100; i++) {
		bool is_recent = i >= 50;
		struct monitor_record r =
			record(id++, "a",
			       i % 4 == 0 ? OUTCOME_MEMORY_LIMIT : OUTCOME_OK,
			       10, now - (is_recent ? 30 : 90) * SECOND_US + i);
		(void)snprintf(r.profile, sizeof(r.profile), "%s",
			       profiles[i % 2]);
		r.queue_us = is_recent ? 20000 : 100;
		r.script_key = i;
		monitor_add(m, &r);
	}
	for (uint64_t i = 0; i < 6; i++) {
		struct monitor_record r = record(id++, "c", OUTCOME_TIMEOUT, 10,
						 now - 10 * SECOND_US + i);
		(void)snprintf(r.profile, sizeof(r.profile), "%s",
			       profiles[i % 2]);
		r.script_key = 0xabc;
		monitor_add(m, &r);
	}
	for (int round = 0; round < 2; round++) {
		n_recommended = 0;
		monitor_recommend(m, now, true, on_recommend, NULL);
		for (size_t i = 0; i < n_recommended; i++) {
			for (size_t j = i + 1; j < n_recommended; j++) {
				ck_assert_str_ne(recommended_key[i],
						 recommended_key[j]);
				ck_assert_str_ne(recommended[i],
						 recommended[j]);
			}
		}
		ck_assert_uint_eq(n_recommended, 3);
		ck_assert_str_eq(recommended_key[0], "memory_limit:a");
		ck_assert_ptr_nonnull(
			strstr(recommended[0], "tenant 'a': 25 of 100 runs"));
		ck_assert_str_eq(recommended_key[1],
				 "timeouts:0000000000000abc");
		ck_assert_ptr_nonnull(
			strstr(recommended[1], "timed out 6 times"));
		ck_assert_str_eq(recommended_key[2], "pool_at_max");
	}
	monitor_free(m);
}
END_TEST

Suite *monitor_suite(void);

Suite *
monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_add_test(tc, test_monitor_statistics_add_up);
	tcase_add_test(tc, test_monitor_history_is_bounded);
	tcase_add_test(tc, test_monitor_alerts_fire_past_their_thresholds_only);
	tcase_add_test(tc, test_monitor_success_rate_bands_are_all_reachable);
	tcase_add_test(
		tc, test_monitor_every_band_fires_just_past_its_threshold_only);
	tcase_add_test(tc, test_monitor_holds_back_and_counts_repeated_alerts);
	tcase_add_test(tc, test_monitor_series_stay_bounded);
	tcase_add_test(tc, test_monitor_metrics_are_well_formed);
	tcase_add_test(tc, test_monitor_recommends_from_the_history);
	tcase_add_test(tc, test_monitor_recommends_a_larger_pool_when_waits_grow);
	tcase_add_test(tc, test_monitor_recommendations_are_not_listed_twice);
	suite_add_tcase(s, tc);
	return s;
}
