/* SPDX-License-Identifier: MIT */
/*
 * Status and metrics, built from pool_get_figures() and the monitor.
 * Statistics are worked out from the history when asked, so a status
 * request costs a pass over the history per window and group: the
 * overall figures and each profile's, and one tenant's when the request
 * names it (the tenant table lists names and counts only).
 */
#include "supervisor/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/util.h"
#include "config.h"
#include "supervisor/inspect.h"
#include "supervisor/monitor.h"
#include "supervisor/pool.h"

/* The windows statistics are given for, by name. */
static const struct {
	const char *name;
	uint64_t us;
} windows[] = {
	{ "1m", 60000000u },
	{ "5m", 300000000u },
	{ "1h", 3600000000u },
};

static void
put_uint(struct proto_writer *w, const char *key, uint64_t v)
{
	proto_write_key(w, key);
	(void)proto_write_uint(w, v);
}

static void
put_double(struct proto_writer *w, const char *key, double v)
{
	proto_write_key(w, key);
	(void)proto_write_double(w, v);
}

static void
put_bool(struct proto_writer *w, const char *key, bool v)
{
	proto_write_key(w, key);
	(void)proto_write_bool(w, v);
}

static void
put_str(struct proto_writer *w, const char *key, const char *s)
{
	proto_write_key(w, key);
	(void)proto_write_str(w, s, strlen(s));
}

static void
put_spread(struct proto_writer *w, const char *key,
	   const struct monitor_spread *s)
{
	proto_write_key(w, key);
	(void)proto_write_map(w, 4);
	put_uint(w, "p50", s->p50);
	put_uint(w, "p90", s->p90);
	put_uint(w, "p99", s->p99);
	put_uint(w, "max", s->max);
}

static void
put_outcomes(struct proto_writer *w, const uint64_t *counts)
{
	size_t n = 0;

	for (int o = 0; o < OUTCOME_COUNT; o++)
		n += counts[o] > 0;
	(void)proto_write_map(w, n);
	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (counts[o] > 0)
			put_uint(w, outcome_name((enum outcome)o), counts[o]);
	}
}

static void
put_stats(struct proto_writer *w, const struct monitor_stats *st)
{
	double rate = st->count ? 1.0 - (double)st->service_failures /
						(double)st->count :
				  1.0;

	(void)proto_write_map(w, 12);
	put_uint(w, "count", st->count);
	put_uint(w, "ok", st->ok);
	put_uint(w, "service_failures", st->service_failures);
	put_double(w, "success_rate", rate);
	proto_write_key(w, "outcomes");
	put_outcomes(w, st->by_outcome);
	put_spread(w, "queue_us", &st->queue_us);
	put_spread(w, "exec_us", &st->exec_us);
	put_spread(w, "cpu_us", &st->cpu_us);
	put_spread(w, "total_us", &st->total_us);
	put_spread(w, "heap_peak_bytes", &st->heap_peak_bytes);
	put_spread(w, "rss_bytes", &st->rss_bytes);
	put_bool(w, "is_window_covered", st->is_window_covered);
}

/* { "1m": stats, "5m": stats, "1h": stats } for the records f selects. */
static int
put_windows(struct proto_writer *w, const struct monitor *m,
	    const struct monitor_filter *f, uint64_t now_us)
{
	(void)proto_write_map(w, UTIL_ARRAY_SIZE(windows));
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(windows); i++) {
		struct monitor_stats st;
		int r = monitor_stats(m, f, now_us, windows[i].us, &st);
		if (r < 0)
			return r;
		proto_write_key(w, windows[i].name);
		put_stats(w, &st);
	}
	return 0;
}

static void
put_pool(struct proto_writer *w, const struct pool_figures *f)
{
	size_t reasons = 0;

	for (unsigned i = 0; i < f->n_retire_reasons; i++)
		reasons += f->retired[i] > 0;
	(void)proto_write_map(w, 12 + UTIL_ARRAY_SIZE(f->by_state));
	put_uint(w, "workers", f->workers);
	for (unsigned i = 0; i < UTIL_ARRAY_SIZE(f->by_state); i++)
		put_uint(w, pool_state_name(i), f->by_state[i]);
	put_uint(w, "target", f->target);
	put_uint(w, "min_workers", f->min_workers);
	put_uint(w, "max_workers", f->max_workers);
	put_uint(w, "queued", f->queued);
	put_double(w, "utilisation", f->utilisation);
	put_uint(w, "rss_bytes", f->rss_bytes);
	put_uint(w, "memory_budget_bytes", f->memory_budget_bytes);
	put_uint(w, "spawned", f->spawned);
	proto_write_key(w, "retired");
	(void)proto_write_map(w, reasons);
	for (unsigned i = 0; i < f->n_retire_reasons; i++) {
		if (f->retired[i] > 0)
			put_uint(w, pool_retire_reason(i), f->retired[i]);
	}
	proto_write_key(w, "deaths");
	put_outcomes(w, f->deaths);
	put_uint(w, "tainted", f->tainted);
}

/* The transform of ES2015+ scripts and its cache. */
static void
put_transform(struct proto_writer *w, const struct transform_figures *t)
{
	(void)proto_write_map(w, 8);
	put_uint(w, "workers", t->workers);
	put_uint(w, "transforms", t->transforms);
	put_uint(w, "failures", t->failures);
	put_uint(w, "cache_hits", t->cache_hits);
	put_uint(w, "cache_misses", t->cache_misses);
	put_uint(w, "cache_evictions", t->cache_evictions);
	put_uint(w, "cache_entries", t->cache_entries);
	put_uint(w, "cache_bytes", t->cache_bytes);
}

/* The names of the namespace bits set in mask, as an array. */
static void
put_ns_names(struct proto_writer *w, const char *key, unsigned mask)
{
	size_t n = 0;

	for (unsigned i = 0; i < INSPECT_NS_COUNT; i++)
		n += (mask >> i) & 1u;
	proto_write_key(w, key);
	(void)proto_write_array(w, n);
	for (unsigned i = 0; i < INSPECT_NS_COUNT; i++) {
		const char *name = inspect_ns_name(i);
		if ((mask >> i) & 1u)
			(void)proto_write_str(w, name, strlen(name));
	}
}

/* Every layer beddel-run --check prints, so that --status can print the
 * same table: a namespace in neither list is not used, one the
 * supervisor could not compare is unknown, not guessed. */
static void
put_sandbox(struct proto_writer *w, const struct pool_figures *f)
{
	const struct inspect_layers *l = &f->sandbox;
	unsigned all_ns = (1u << INSPECT_NS_COUNT) - 1u;

	if (!f->has_sandbox) {
		(void)proto_write_nil(w);
		return;
	}
	(void)proto_write_map(w, 13);
	put_bool(w, "complete", inspect_is_complete(l));
	put_bool(w, "seccomp", l->has_seccomp);
	put_uint(w, "seccomp_filters", l->seccomp_filters);
	put_bool(w, "no_new_privs", l->has_no_new_privs);
	put_bool(w, "capabilities_dropped", l->has_no_capabilities);
	put_uint(w, "uid", l->uid);
	put_bool(w, "rlimits", l->has_rlimits);
	put_uint(w, "address_space_bytes", l->address_space_bytes);
	put_uint(w, "max_fds", l->max_fds);
	put_bool(w, "empty_root", l->has_empty_root);
	put_bool(w, "root_unknown", !l->is_root_known);
	put_ns_names(w, "namespaces", l->namespaces);
	put_ns_names(w, "namespaces_unknown", all_ns & ~l->namespaces_known);
}

/* Names gathered from the monitor's series. */
struct names {
	const char *items[300];
	size_t n;
};

static void
add_name(const char *name, void *arg)
{
	struct names *ns = arg;

	if (ns->n < UTIL_ARRAY_SIZE(ns->items))
		ns->items[ns->n++] = name;
}

static int
put_profiles(struct proto_writer *w, const struct monitor *m, uint64_t now_us)
{
	struct names ns = { .n = 0 };

	monitor_each_profile(m, add_name, &ns);
	(void)proto_write_map(w, ns.n);
	for (size_t i = 0; i < ns.n; i++) {
		proto_write_key(w, ns.items[i]);
		int r = put_windows(w, m,
				    &(struct monitor_filter){ NULL, ns.items[i] },
				    now_us);
		if (r < 0)
			return r;
	}
	return 0;
}

static void
put_tenant_names(struct proto_writer *w, const struct monitor *m)
{
	struct names ns = { .n = 0 };

	monitor_each_tenant(m, add_name, &ns);
	(void)proto_write_array(w, ns.n);
	for (size_t i = 0; i < ns.n; i++)
		(void)proto_write_str(w, ns.items[i], strlen(ns.items[i]));
}

/* Recommendations, collected first: the array's length comes first. */
struct advice {
	char text[16][320];
	size_t n;
};

static void
add_advice(const char *key, const char *text, void *arg)
{
	struct advice *a = arg;

	(void)key;
	if (a->n < UTIL_ARRAY_SIZE(a->text))
		(void)snprintf(a->text[a->n++], sizeof(a->text[0]), "%s", text);
}

static int
put_status(struct proto_writer *w, const struct pool *pool,
	   const struct monitor *m, const struct proto_query *q,
	   uint64_t now_us, uint64_t started_us)
{
	struct pool_figures f;
	static struct advice advice;
	char tenant[POOL_TENANT_MAX_BYTES + 1] = "";
	int r;

	pool_get_figures(pool, &f);
	advice.n = 0;
	monitor_recommend(m, now_us, f.workers >= f.max_workers, add_advice,
			  &advice);
	if (q->tenant)
		(void)snprintf(tenant, sizeof(tenant), "%.*s",
			       (int)q->tenant_len, q->tenant);
	(void)proto_write_map(w, 9 + (q->tenant != NULL) + f.has_transform);
	put_str(w, "version", BEDDEL_VERSION);
	put_uint(w, "uptime_s", (now_us - started_us) / 1000000u);
	proto_write_key(w, "pool");
	put_pool(w, &f);
	proto_write_key(w, "sandbox");
	put_sandbox(w, &f);
	if (f.has_transform) {
		proto_write_key(w, "transform");
		put_transform(w, &f.transform);
	}
	proto_write_key(w, "executions");
	r = put_windows(w, m, &(struct monitor_filter){ NULL, NULL }, now_us);
	if (r < 0)
		return r;
	proto_write_key(w, "profiles");
	r = put_profiles(w, m, now_us);
	if (r < 0)
		return r;
	proto_write_key(w, "tenants");
	put_tenant_names(w, m);
	if (q->tenant) {
		proto_write_key(w, "tenant");
		(void)proto_write_map(w, 2);
		put_str(w, "name", tenant);
		proto_write_key(w, "windows");
		r = put_windows(w, m, &(struct monitor_filter){ tenant, NULL },
				now_us);
		if (r < 0)
			return r;
	}
	proto_write_key(w, "alerts");
	(void)proto_write_map(w, 2);
	put_uint(w, "warning", monitor_alerts_total(m, MONITOR_WARNING));
	put_uint(w, "critical", monitor_alerts_total(m, MONITOR_CRITICAL));
	proto_write_key(w, "recommendations");
	(void)proto_write_array(w, advice.n);
	for (size_t i = 0; i < advice.n; i++)
		(void)proto_write_str(w, advice.text[i], strlen(advice.text[i]));
	return proto_writer_status(w);
}

int
status_encode(const struct pool *pool, const struct monitor *monitor,
	      const struct proto_query *q, uint64_t now_us,
	      uint64_t started_us, struct proto_frame *ret_frame)
{
	struct proto_writer *w = proto_writer_new(IPC_FRAME_MAX_CEILING / 2);
	size_t len;

	if (!w)
		return -ENOMEM;
	int r = put_status(w, pool, monitor, q, now_us, started_us);
	if (r == 0) {
		const uint8_t *data = proto_writer_data(w, &len);
		r = proto_encode_report(PROTO_MSG_STATUS, q->has_id, q->id,
					"status", data, len, ret_frame);
	}
	proto_writer_free(w);
	return r;
}

/* The transform's counters and its cache's gauges. */
static void
write_transform_metrics(const struct transform_figures *t, FILE *out)
{
	fprintf(out, "# HELP beddel_transforms_total ES2015+ scripts lowered to ES5.1 by a transform worker, by result.\n"
		     "# TYPE beddel_transforms_total counter\n"
		     "beddel_transforms_total{result=\"ok\"} %llu\n"
		     "beddel_transforms_total{result=\"failed\"} %llu\n"
		     "# HELP beddel_transform_cache_hits_total Scripts run from the transform cache.\n"
		     "# TYPE beddel_transform_cache_hits_total counter\n"
		     "beddel_transform_cache_hits_total %llu\n"
		     "# HELP beddel_transform_cache_misses_total Scripts that needed the transform and were not cached.\n"
		     "# TYPE beddel_transform_cache_misses_total counter\n"
		     "beddel_transform_cache_misses_total %llu\n"
		     "# HELP beddel_transform_cache_evictions_total Cache entries dropped to make room.\n"
		     "# TYPE beddel_transform_cache_evictions_total counter\n"
		     "beddel_transform_cache_evictions_total %llu\n"
		     "# HELP beddel_transform_cache_bytes Bytes the transform cache holds.\n"
		     "# TYPE beddel_transform_cache_bytes gauge\n"
		     "beddel_transform_cache_bytes %llu\n",
		(unsigned long long)(t->transforms - t->failures),
		(unsigned long long)t->failures,
		(unsigned long long)t->cache_hits,
		(unsigned long long)t->cache_misses,
		(unsigned long long)t->cache_evictions,
		(unsigned long long)t->cache_bytes);
}

/* The pool's gauges and counters, after the monitor's. */
static void
write_pool_metrics(const struct pool *pool, FILE *out)
{
	struct pool_figures f;

	pool_get_figures(pool, &f);
	fprintf(out, "# HELP beddel_workers Workers by state.\n"
		     "# TYPE beddel_workers gauge\n");
	for (unsigned i = 0; i < UTIL_ARRAY_SIZE(f.by_state); i++)
		fprintf(out, "beddel_workers{state=\"%s\"} %u\n",
			pool_state_name(i), f.by_state[i]);
	fprintf(out, "# HELP beddel_queue_depth Requests waiting for a worker.\n"
		     "# TYPE beddel_queue_depth gauge\n"
		     "beddel_queue_depth %u\n"
		     "# HELP beddel_pool_utilisation Busy worker time over worker time in the current sizing window.\n"
		     "# TYPE beddel_pool_utilisation gauge\n"
		     "beddel_pool_utilisation %.4f\n"
		     "# HELP beddel_workers_rss_bytes Resident memory of all workers.\n"
		     "# TYPE beddel_workers_rss_bytes gauge\n"
		     "beddel_workers_rss_bytes %llu\n"
		     "# HELP beddel_workers_spawned_total Workers started.\n"
		     "# TYPE beddel_workers_spawned_total counter\n"
		     "beddel_workers_spawned_total %llu\n"
		     "# HELP beddel_workers_retired_total Workers asked to stop, by reason.\n"
		     "# TYPE beddel_workers_retired_total counter\n",
		f.queued, f.utilisation, (unsigned long long)f.rss_bytes,
		(unsigned long long)f.spawned);
	for (unsigned i = 0; i < f.n_retire_reasons; i++)
		fprintf(out, "beddel_workers_retired_total{reason=\"%s\"} %llu\n",
			pool_retire_reason(i), (unsigned long long)f.retired[i]);
	fprintf(out, "# HELP beddel_worker_deaths_total Workers that died unplanned, by the kind their request got.\n"
		     "# TYPE beddel_worker_deaths_total counter\n");
	for (int o = 0; o < OUTCOME_COUNT; o++) {
		if (f.deaths[o] > 0)
			fprintf(out, "beddel_worker_deaths_total{kind=\"%s\"} %llu\n",
				outcome_name((enum outcome)o),
				(unsigned long long)f.deaths[o]);
	}
	if (f.has_transform)
		write_transform_metrics(&f.transform, out);
}

int
status_encode_metrics(const struct pool *pool, const struct monitor *monitor,
		      const struct proto_query *q, struct proto_frame *ret_frame)
{
	struct proto_writer *w = NULL;
	char *text = NULL;
	size_t len = 0, n;
	int r = -ENOMEM;

	FILE *out = open_memstream(&text, &len);
	if (!out)
		return -ENOMEM;
	monitor_write_metrics(monitor, out);
	write_pool_metrics(pool, out);
	if (fclose(out) != 0)
		goto out;
	w = proto_writer_new(IPC_FRAME_MAX_CEILING / 2);
	if (!w || proto_write_str(w, text, len) < 0)
		goto out;
	const uint8_t *data = proto_writer_data(w, &n);
	r = proto_encode_report(PROTO_MSG_METRICS, q->has_id, q->id, "text",
				data, n, ret_frame);
out:
	proto_writer_free(w);
	free(text);
	return r;
}
