/* SPDX-License-Identifier: MIT */
/*
 * The monitor's history is a ring of records; its counter series are a
 * fixed table found by a hash of (tenant, profile). Statistics are worked
 * out on demand from the ring (a status request is rare; an execution is
 * not), so adding a record costs a copy, a table lookup and a few
 * additions.
 */
#include "supervisor/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Histogram bucket bounds, in microseconds: Duktape runs small scripts in
 * tens of microseconds, and the profiles allow seconds. */
static const uint64_t bucket_us[] = {
	50,	100,	250,	 500,	  1000,	   2500,    5000,
	10000,	25000,	50000,	 100000,  250000,  1000000, 5000000,
};

#define BUCKET_COUNT UTIL_ARRAY_SIZE(bucket_us)

struct histogram {
	uint64_t buckets[BUCKET_COUNT]; /* not cumulative; +Inf is count */
	uint64_t sum_us;
	uint64_t count;
};

struct series {
	uint64_t key;
	char tenant[MONITOR_NAME_MAX_BYTES + 1];
	char profile[MONITOR_NAME_MAX_BYTES + 1];
	uint64_t by_outcome[OUTCOME_COUNT];
	struct histogram queue, exec, total;
};

/* Series past MONITOR_SERIES_MAX: one per profile, under the tenant
 * MONITOR_OTHER_TENANT; profiles past this share the last one. */
#define MONITOR_OVERFLOW_SERIES 16

enum alert_metric {
	ALERT_EXEC_TIME,
	ALERT_HEAP,
	ALERT_SUCCESS,
	ALERT_UTILISATION,
	ALERT_SPAWN,
	ALERT_METRIC_COUNT,
};

static const char *const metric_names[ALERT_METRIC_COUNT] = {
	[ALERT_EXEC_TIME] = "execution_time",
	[ALERT_HEAP] = "execution_memory",
	[ALERT_SUCCESS] = "success_rate",
	[ALERT_UTILISATION] = "pool_utilisation",
	[ALERT_SPAWN] = "worker_creation_time",
};

struct alert_state {
	uint64_t last_us;
	bool has_fired;
	uint64_t suppressed;
};

struct monitor {
	struct monitor_config cfg;
	monitor_alert_fn alert;
	void *alert_arg;
	struct monitor_record *history;
	size_t n_history;
	size_t next; /* where the next record goes */
	struct series series[MONITOR_SERIES_MAX + MONITOR_OVERFLOW_SERIES];
	size_t n_series;
	size_t n_overflow;
	struct alert_state alerts[ALERT_METRIC_COUNT][2];
	uint64_t alerts_total[2];
	uint64_t now_us; /* latest time seen */
};

void
monitor_config_defaults(struct monitor_config *cfg)
{
	*cfg = (struct monitor_config){
		.history_max = MONITOR_HISTORY_DEFAULT,
		.thresholds = {
			.exec_warn_us = 50000,
			.exec_crit_us = 75000,
			.heap_warn_bytes = 2000000,
			.heap_crit_bytes = 3000000,
			.success_warn = 0.999,
			.success_crit = 0.995,
			.utilisation_warn = 0.7,
			.utilisation_crit = 0.9,
			.spawn_warn_us = 100000,
			.spawn_crit_us = 200000,
		},
		.alert_repeat_ms = 60000,
	};
}

struct monitor *
monitor_new(const struct monitor_config *cfg, monitor_alert_fn alert,
	    void *arg)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (m->cfg.history_max == 0)
		m->cfg.history_max = 1;
	m->history = calloc(m->cfg.history_max, sizeof(*m->history));
	if (!m->history) {
		free(m);
		return NULL;
	}
	m->alert = alert;
	m->alert_arg = arg;
	return m;
}

void
monitor_free(struct monitor *m)
{
	if (!m)
		return;
	free(m->history);
	free(m);
}

/* ---- Alerts --------------------------------------------------------- */

/* What an alert concerns: a fixed text, or an execution's record, which
 * is put in words only when the alert is said (most executions raise
 * none, and formatting costs more than the rest of recording one). */
struct scope {
	const char *text;
	const struct monitor_record *r;
};

/* Says an alert, or holds it back when the same one was said within the
 * repeat window. */
static void
fire(struct monitor *m, enum alert_metric metric, enum monitor_level level,
     double value, const char *unit, double target, struct scope scope,
     uint64_t now_us)
{
	struct alert_state *a = &m->alerts[metric][level];
	char text[160];

	m->alerts_total[level]++;
	if (a->has_fired &&
	    now_us - a->last_us < m->cfg.alert_repeat_ms * 1000u) {
		a->suppressed++;
		return;
	}
	if (scope.r) {
		(void)snprintf(text, sizeof(text),
			       "req=%llu tenant='%s' profile='%s'",
			       (unsigned long long)scope.r->id, scope.r->tenant,
			       scope.r->profile);
		scope.text = text;
	}
	struct monitor_alert out = {
		.level = level,
		.metric = metric_names[metric],
		.value = value,
		.unit = unit,
		.target = target,
		.scope = scope.text,
		.suppressed = a->suppressed,
	};
	a->has_fired = true;
	a->last_us = now_us;
	a->suppressed = 0;
	if (m->alert)
		m->alert(&out, m->alert_arg);
}

/* Fires the band a value above its targets falls in, if any. */
static void
check_above(struct monitor *m, enum alert_metric metric, double value,
	    double warn, double crit, const char *unit, struct scope scope,
	    uint64_t now_us)
{
	if (value > crit)
		fire(m, metric, MONITOR_CRITICAL, value, unit, crit, scope,
		     now_us);
	else if (value > warn)
		fire(m, metric, MONITOR_WARNING, value, unit, warn, scope,
		     now_us);
}

uint64_t
monitor_alerts_total(const struct monitor *m, enum monitor_level l)
{
	return m->alerts_total[l];
}

/* ---- Records -------------------------------------------------------- */

static void
histogram_add(struct histogram *h, uint64_t us)
{
	for (size_t i = 0; i < BUCKET_COUNT; i++) {
		if (us <= bucket_us[i]) {
			h->buckets[i]++;
			break;
		}
	}
	h->sum_us += us;
	h->count++;
}

static struct series *
new_series(struct monitor *m, const char *tenant, const char *profile,
	   uint64_t key)
{
	struct series *s = &m->series[m->n_series + m->n_overflow];

	memset(s, 0, sizeof(*s));
	s->key = key;
	(void)snprintf(s->tenant, sizeof(s->tenant), "%s", tenant);
	(void)snprintf(s->profile, sizeof(s->profile), "%s", profile);
	return s;
}

static uint64_t
series_key(const char *tenant, const char *profile)
{
	uint64_t key = util_hash64(tenant, strlen(tenant), UTIL_HASH_SEED);

	key = util_hash64("", 1, key);
	return util_hash64(profile, strlen(profile), key);
}

static struct series *
find_series(struct monitor *m, const char *tenant, const char *profile)
{
	uint64_t key = series_key(tenant, profile);
	size_t all = m->n_series + m->n_overflow;

	for (size_t i = 0; i < all; i++) {
		struct series *s = &m->series[i];
		if (s->key == key && strcmp(s->tenant, tenant) == 0 &&
		    strcmp(s->profile, profile) == 0)
			return s;
	}
	if (m->n_series < MONITOR_SERIES_MAX && m->n_overflow == 0) {
		struct series *s = new_series(m, tenant, profile, key);
		m->n_series++;
		return s;
	}
	/* Full: the tenant's executions count under MONITOR_OTHER_TENANT. */
	if (strcmp(tenant, MONITOR_OTHER_TENANT) != 0)
		return find_series(m, MONITOR_OTHER_TENANT, profile);
	if (m->n_overflow == MONITOR_OVERFLOW_SERIES)
		return &m->series[all - 1];
	struct series *s = new_series(m, tenant, profile, key);
	m->n_overflow++;
	return s;
}

void
monitor_add(struct monitor *m, const struct monitor_record *r)
{
	const struct scope scope = { NULL, r };

	m->history[m->next] = *r;
	m->next = (m->next + 1) % m->cfg.history_max;
	if (m->n_history < m->cfg.history_max)
		m->n_history++;
	if (r->end_us > m->now_us)
		m->now_us = r->end_us;

	struct series *s = find_series(m, r->tenant, r->profile);
	if ((unsigned)r->outcome < OUTCOME_COUNT)
		s->by_outcome[r->outcome]++;
	histogram_add(&s->queue, r->queue_us);
	histogram_add(&s->exec, r->exec_us);
	histogram_add(&s->total, r->total_us);

	const struct monitor_thresholds *t = &m->cfg.thresholds;
	check_above(m, ALERT_EXEC_TIME, (double)r->exec_us / 1000.0,
		    (double)t->exec_warn_us / 1000.0,
		    (double)t->exec_crit_us / 1000.0, "ms", scope, r->end_us);
	check_above(m, ALERT_HEAP, (double)r->heap_peak_bytes,
		    (double)t->heap_warn_bytes, (double)t->heap_crit_bytes,
		    "bytes", scope, r->end_us);
}

void
monitor_note_spawn(struct monitor *m, uint64_t startup_us, int pid,
		   uint64_t now_us)
{
	const struct monitor_thresholds *t = &m->cfg.thresholds;
	char text[32];

	(void)snprintf(text, sizeof(text), "pid=%d", pid);
	check_above(m, ALERT_SPAWN, (double)startup_us / 1000.0,
		    (double)t->spawn_warn_us / 1000.0,
		    (double)t->spawn_crit_us / 1000.0, "ms",
		    (struct scope){ text, NULL }, now_us);
}

static bool
is_service_failure(enum outcome o)
{
	return o == OUTCOME_WORKER_CRASHED || o == OUTCOME_INTERNAL ||
	       o == OUTCOME_OVERLOADED;
}

void
monitor_tick(struct monitor *m, uint64_t now_us, double utilisation)
{
	const struct monitor_thresholds *t = &m->cfg.thresholds;
	struct monitor_stats st;

	if (now_us > m->now_us)
		m->now_us = now_us;
	if (monitor_stats(m, &(struct monitor_filter){ NULL, NULL }, now_us,
			  60000000u, &st) == 0 &&
	    st.count > 0) {
		double rate = 1.0 - (double)st.service_failures /
					    (double)st.count;
		/* Below the targets: the same bands, read downwards. */
		if (rate < t->success_crit)
			fire(m, ALERT_SUCCESS, MONITOR_CRITICAL, rate * 100.0,
			     "%", t->success_crit * 100.0,
			     (struct scope){ "window_s=60", NULL }, now_us);
		else if (rate < t->success_warn)
			fire(m, ALERT_SUCCESS, MONITOR_WARNING, rate * 100.0,
			     "%", t->success_warn * 100.0,
			     (struct scope){ "window_s=60", NULL }, now_us);
	}
	check_above(m, ALERT_UTILISATION, utilisation * 100.0,
		    t->utilisation_warn * 100.0, t->utilisation_crit * 100.0,
		    "%", (struct scope){ "pool", NULL }, now_us);
}

/* ---- Statistics ----------------------------------------------------- */

static bool
matches(const struct monitor_record *r, const struct monitor_filter *f)
{
	return (!f->tenant || strcmp(r->tenant, f->tenant) == 0) &&
	       (!f->profile || strcmp(r->profile, f->profile) == 0);
}

/* By selection, not a sort: a status query computes a dozen spreads of
 * up to the whole history while every client waits. */
static struct monitor_spread
spread_of(uint64_t *v, size_t n)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 1.0 };
	uint64_t q[UTIL_ARRAY_SIZE(qs)];

	util_quantiles(v, n, qs, UTIL_ARRAY_SIZE(qs), q);
	return (struct monitor_spread){
		.p50 = q[0], .p90 = q[1], .p99 = q[2], .max = q[3],
	};
}

/* The figures stats spreads are made of, in order. */
#define FIGURE_COUNT 6

static void
take_figures(const struct monitor_record *r, uint64_t *cols[FIGURE_COUNT],
	     size_t i)
{
	cols[0][i] = r->queue_us;
	cols[1][i] = r->exec_us;
	cols[2][i] = r->cpu_us;
	cols[3][i] = r->total_us;
	cols[4][i] = r->heap_peak_bytes;
	cols[5][i] = r->rss_bytes;
}

int
monitor_stats(const struct monitor *m, const struct monitor_filter *f,
	      uint64_t now_us, uint64_t window_us, struct monitor_stats *ret)
{
	struct monitor_stats st = { .oldest_us = 0 };
	uint64_t *cols[FIGURE_COUNT];
	uint64_t *all = malloc(FIGURE_COUNT * (m->n_history + 1) * sizeof(*all));
	size_t n = 0;

	if (!all)
		return -ENOMEM;
	for (size_t c = 0; c < FIGURE_COUNT; c++)
		cols[c] = all + c * (m->n_history + 1);
	uint64_t since = window_us && now_us > window_us ? now_us - window_us : 0;
	uint64_t oldest = UINT64_MAX;
	for (size_t i = 0; i < m->n_history; i++) {
		const struct monitor_record *r = &m->history[i];
		if (r->end_us < oldest)
			oldest = r->end_us;
		if (r->end_us < since || (window_us && r->end_us > now_us) ||
		    !matches(r, f))
			continue;
		take_figures(r, cols, n++);
		if ((unsigned)r->outcome < OUTCOME_COUNT)
			st.by_outcome[r->outcome]++;
		st.service_failures += is_service_failure(r->outcome);
		if (st.oldest_us == 0 || r->end_us < st.oldest_us)
			st.oldest_us = r->end_us;
	}
	st.count = n;
	st.ok = st.by_outcome[OUTCOME_OK];
	/* The ring dropped nothing from the window if it is not full, or
	 * its oldest record is older than the window. */
	st.is_window_covered = m->n_history < m->cfg.history_max ||
			       (window_us > 0 && oldest < since);
	struct monitor_spread *out[FIGURE_COUNT] = {
		&st.queue_us, &st.exec_us, &st.cpu_us, &st.total_us,
		&st.heap_peak_bytes, &st.rss_bytes,
	};
	for (size_t c = 0; c < FIGURE_COUNT; c++)
		*out[c] = spread_of(cols[c], n);
	free(all);
	*ret = st;
	return 0;
}

void
monitor_each_tenant(const struct monitor *m,
		    void (*fn)(const char *tenant, void *arg), void *arg)
{
	size_t all = m->n_series + m->n_overflow;

	for (size_t i = 0; i < all; i++) {
		bool is_seen = false;
		for (size_t j = 0; j < i && !is_seen; j++)
			is_seen = strcmp(m->series[j].tenant,
					 m->series[i].tenant) == 0;
		if (!is_seen)
			fn(m->series[i].tenant, arg);
	}
}

void
monitor_each_profile(const struct monitor *m,
		     void (*fn)(const char *profile, void *arg), void *arg)
{
	size_t all = m->n_series + m->n_overflow;

	for (size_t i = 0; i < all; i++) {
		bool is_seen = false;
		for (size_t j = 0; j < i && !is_seen; j++)
			is_seen = strcmp(m->series[j].profile,
					 m->series[i].profile) == 0;
		if (!is_seen)
			fn(m->series[i].profile, arg);
	}
}

/* ---- Recommendations ------------------------------------------------ */

/* Runs at least this many for a share of them to mean something. */
#define RECOMMEND_MIN_RUNS 20
#define RECOMMEND_MEMORY_SHARE 0.05
#define RECOMMEND_TIMEOUTS 3

struct recommend_ctx {
	const struct monitor *m;
	void (*fn)(const char *key, const char *text, void *arg);
	void *arg;
};

static void
recommend_memory(const char *tenant, void *arg)
{
	struct recommend_ctx *c = arg;
	struct monitor_stats st;
	char key[96], text[320];

	if (monitor_stats(c->m, &(struct monitor_filter){ tenant, NULL }, 0, 0,
			  &st) < 0 ||
	    st.count < RECOMMEND_MIN_RUNS)
		return;
	uint64_t hit = st.by_outcome[OUTCOME_MEMORY_LIMIT];
	double share = (double)hit / (double)st.count;
	if (share <= RECOMMEND_MEMORY_SHARE)
		return;
	(void)snprintf(key, sizeof(key), "memory_limit:%s", tenant);
	(void)snprintf(text, sizeof(text),
		       "tenant '%s': %llu of %llu runs (%.1f %%) hit the heap cap; give it a profile with a larger heap_limit_bytes, or fix its scripts",
		       tenant, (unsigned long long)hit,
		       (unsigned long long)st.count, share * 100.0);
	c->fn(key, text, c->arg);
}

struct timeout_key {
	uint64_t key;
	size_t index; /* a record of it, for its tenant */
};

static int
compare_timeout_key(const void *a, const void *b)
{
	const struct timeout_key *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static void
recommend_timeouts(struct recommend_ctx *c)
{
	const struct monitor *m = c->m;
	struct timeout_key *keys = malloc((m->n_history + 1) * sizeof(*keys));
	size_t n = 0;

	if (!keys)
		return;
	for (size_t i = 0; i < m->n_history; i++) {
		if (m->history[i].outcome == OUTCOME_TIMEOUT)
			keys[n++] = (struct timeout_key){ m->history[i].script_key,
							  i };
	}
	qsort(keys, n, sizeof(*keys), compare_timeout_key);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && keys[j].key == keys[i].key)
			j++;
		if (j - i >= RECOMMEND_TIMEOUTS) {
			const struct monitor_record *r = &m->history[keys[i].index];
			char key[48], text[320];
			(void)snprintf(key, sizeof(key), "timeouts:%016llx",
				       (unsigned long long)r->script_key);
			(void)snprintf(text, sizeof(text),
				       "script %016llx of tenant '%s' timed out %zu times in the history; fix it, or send it with a lower timeout_ms so that it holds a worker for less",
				       (unsigned long long)r->script_key,
				       r->tenant, j - i);
			c->fn(key, text, c->arg);
		}
		i = j;
	}
	free(keys);
}

/* The queue wait of the last minute against the minute before. */
static void
recommend_pool_size(struct recommend_ctx *c, uint64_t now_us)
{
	const struct monitor_filter all = { NULL, NULL };
	const uint64_t minute = 60000000u;
	struct monitor_stats recent, before;
	char text[320];

	if (now_us < 2 * minute ||
	    monitor_stats(c->m, &all, now_us, minute, &recent) < 0 ||
	    monitor_stats(c->m, &all, now_us - minute, minute, &before) < 0 ||
	    recent.count < RECOMMEND_MIN_RUNS || before.count == 0)
		return;
	uint64_t now_p90 = recent.queue_us.p90;
	uint64_t then_p90 = before.queue_us.p90;
	if (now_p90 < 1000 || now_p90 <= 2 * then_p90)
		return;
	(void)snprintf(text, sizeof(text),
		       "the pool is at its maximum size and queue wait grows: p90 %llu us over the minute before, %llu us over the last one; raise --max-workers or --memory-budget-bytes, or add a host",
		       (unsigned long long)then_p90,
		       (unsigned long long)now_p90);
	c->fn("pool_at_max", text, c->arg);
}

void
monitor_recommend(const struct monitor *m, uint64_t now_us, bool pool_at_max,
		  void (*fn)(const char *key, const char *text, void *arg),
		  void *arg)
{
	struct recommend_ctx c = { .m = m, .fn = fn, .arg = arg };

	monitor_each_tenant(m, recommend_memory, &c);
	recommend_timeouts(&c);
	if (pool_at_max)
		recommend_pool_size(&c, now_us);
}

/* ---- Metrics -------------------------------------------------------- */

static void
write_histogram(FILE *out, const char *name, const struct series *s,
		const struct histogram *h)
{
	uint64_t cumulative = 0;

	for (size_t i = 0; i < BUCKET_COUNT; i++) {
		cumulative += h->buckets[i];
		fprintf(out, "%s_bucket{tenant=\"%s\",profile=\"%s\",le=\"%g\"} %llu\n",
			name, s->tenant, s->profile,
			(double)bucket_us[i] / 1e6,
			(unsigned long long)cumulative);
	}
	fprintf(out, "%s_bucket{tenant=\"%s\",profile=\"%s\",le=\"+Inf\"} %llu\n",
		name, s->tenant, s->profile, (unsigned long long)h->count);
	fprintf(out, "%s_sum{tenant=\"%s\",profile=\"%s\"} %.6f\n", name,
		s->tenant, s->profile, (double)h->sum_us / 1e6);
	fprintf(out, "%s_count{tenant=\"%s\",profile=\"%s\"} %llu\n", name,
		s->tenant, s->profile, (unsigned long long)h->count);
}

static const struct {
	const char *name;
	const char *help;
	size_t offset;
} histograms[] = {
	{ "beddel_queue_seconds", "Time requests waited for a worker.",
	  offsetof(struct series, queue) },
	{ "beddel_execution_seconds",
	  "Time in the engine: compile, run, convert the result.",
	  offsetof(struct series, exec) },
	{ "beddel_request_seconds",
	  "Time from a request's arrival to its answer.",
	  offsetof(struct series, total) },
};

/* SECURITY: label values are tenant and profile names, which the pool
 * and the profile loader restrict to letters, digits and ._:@-, so they
 * need no escaping. */
void
monitor_write_metrics(const struct monitor *m, FILE *out)
{
	size_t all = m->n_series + m->n_overflow;

	fprintf(out, "# HELP beddel_executions_total Executions answered, by tenant, profile and outcome.\n"
		     "# TYPE beddel_executions_total counter\n");
	for (size_t i = 0; i < all; i++) {
		const struct series *s = &m->series[i];
		for (int o = 0; o < OUTCOME_COUNT; o++) {
			if (s->by_outcome[o] == 0)
				continue;
			fprintf(out, "beddel_executions_total{tenant=\"%s\",profile=\"%s\",outcome=\"%s\"} %llu\n",
				s->tenant, s->profile,
				outcome_name((enum outcome)o),
				(unsigned long long)s->by_outcome[o]);
		}
	}
	for (size_t h = 0; h < UTIL_ARRAY_SIZE(histograms); h++) {
		fprintf(out, "# HELP %s %s\n# TYPE %s histogram\n",
			histograms[h].name, histograms[h].help,
			histograms[h].name);
		for (size_t i = 0; i < all; i++) {
			const struct series *s = &m->series[i];
			const struct histogram *hist =
				(const struct histogram *)((const char *)s +
							   histograms[h].offset);
			write_histogram(out, histograms[h].name, s, hist);
		}
	}
	fprintf(out, "# HELP beddel_alerts_total Alerts raised, said or held back as repeats.\n"
		     "# TYPE beddel_alerts_total counter\n"
		     "beddel_alerts_total{level=\"warning\"} %llu\n"
		     "beddel_alerts_total{level=\"critical\"} %llu\n",
		(unsigned long long)m->alerts_total[MONITOR_WARNING],
		(unsigned long long)m->alerts_total[MONITOR_CRITICAL]);
}
