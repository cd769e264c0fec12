/* SPDX-License-Identifier: MIT */
/*
 * Summaries and reports of bench_suite. Every figure written here comes
 * from the runs of the same invocation; nothing is carried over.
 */
#include "bench/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/util.h"

#define REPORT_MiB (1024.0 * 1024.0)

int
report_init(struct report *r, const struct cases_set *cases,
	    const struct modes_mode *const *modes, size_t n_modes, size_t cap)
{
	*r = (struct report){ .cases = cases, .modes = modes,
			      .n_modes = n_modes };
	r->cells = calloc(cases->count * n_modes, sizeof(*r->cells));
	if (!r->cells)
		return -ENOMEM;
	for (size_t i = 0; i < cases->count * n_modes; i++) {
		r->cells[i].ns = calloc(cap, sizeof(uint64_t));
		if (!r->cells[i].ns)
			return -ENOMEM;
		r->cells[i].cap = cap;
	}
	return 0;
}

void
report_fini(struct report *r)
{
	for (size_t i = 0; r->cells && i < r->cases->count * r->n_modes; i++)
		free(r->cells[i].ns);
	free(r->cells);
	free(r->tenants);
	r->cells = NULL;
	r->tenants = NULL;
}

struct report_cell *
report_cell(struct report *r, size_t case_index, size_t mode_index)
{
	return &r->cells[case_index * r->n_modes + mode_index];
}

static const struct report_cell *
cell_of(const struct report *r, size_t case_index, size_t mode_index)
{
	return &r->cells[case_index * r->n_modes + mode_index];
}

static void
summarize_cell(struct report_cell *c)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 1.0 };
	uint64_t q[UTIL_ARRAY_SIZE(qs)];

	if (c->n == 0)
		return;
	uint64_t *copy = malloc(c->n * sizeof(*copy));
	if (!copy)
		return;
	memcpy(copy, c->ns, c->n * sizeof(*copy));
	util_quantiles(copy, c->n, qs, UTIL_ARRAY_SIZE(qs), q);
	free(copy);
	c->median_us = (double)q[0] / 1e3;
	c->p90_us = (double)q[1] / 1e3;
	c->p99_us = (double)q[2] / 1e3;
	c->max_us = (double)q[3] / 1e3;
}

void
report_summarize(struct report *r)
{
	for (size_t i = 0; i < r->cases->count * r->n_modes; i++)
		summarize_cell(&r->cells[i]);
}

struct report_goal *
report_add_goal(struct report *r, const char *name, const char *rule,
		bool is_at_most, double limit)
{
	/* The goals are a fixed list in goals.c: more is a mistake here. */
	if (r->n_goals == REPORT_GOALS_MAX) {
		fprintf(stderr, "bench: more than %d goals\n", REPORT_GOALS_MAX);
		abort();
	}
	struct report_goal *g = &r->goals[r->n_goals++];
	*g = (struct report_goal){ .name = name, .rule = rule,
				   .is_at_most = is_at_most, .limit = limit };
	return g;
}

void
report_goal_measure(struct report_goal *g, double value, const char *detail)
{
	g->is_measured = true;
	g->value = value;
	(void)snprintf(g->detail, sizeof(g->detail), "%s", detail);
}

static bool
is_good(const struct report_cell *c)
{
	return c->n > 0 && !c->is_failed && !c->is_unavailable;
}

/* The cell's median over the same case's baseline median, or NAN. */
static double
ratio_to_baseline(const struct report *r, size_t ci, size_t mi)
{
	const struct report_cell *c = cell_of(r, ci, mi);
	const struct report_cell *base = cell_of(r, ci, 0);

	if (!is_good(c) || !is_good(base) || base->median_us <= 0)
		return NAN;
	return c->median_us / base->median_us;
}

/* What a goal's line says: met, or missed and by how much. */
static void
describe_verdict(const struct report_goal *g, char *buf, size_t size)
{
	if (!g->is_measured) {
		(void)snprintf(buf, size, "not measured");
		return;
	}
	bool is_met = g->is_at_most ? g->value <= g->limit :
				      g->value >= g->limit;
	if (is_met) {
		(void)snprintf(buf, size, "met");
		return;
	}
	double by = g->is_at_most ? g->value / g->limit :
				    g->limit / g->value;
	(void)snprintf(buf, size, "MISSED by a factor of %.2f", by);
}

/* ---- text ------------------------------------------------------------- */

static void
format_cell(const struct report_cell *c, char *buf, size_t size)
{
	if (c->is_unavailable)
		(void)snprintf(buf, size, "-");
	else if (c->is_failed)
		(void)snprintf(buf, size, "FAIL");
	else if (c->n == 0)
		buf[0] = '\0';
	else
		(void)snprintf(buf, size, "%.1f", c->median_us);
}

static void
print_medians(const struct report *r, FILE *out)
{
	char buf[32];

	fprintf(out, "median microseconds per execution (FAIL: a wrong value or a failure; -: not available)\n");
	fprintf(out, "%-32s", "case");
	for (size_t m = 0; m < r->n_modes; m++)
		fprintf(out, " %11s", r->modes[m]->name);
	fprintf(out, "\n");
	for (size_t ci = 0; ci < r->cases->count; ci++) {
		fprintf(out, "%-32.32s", r->cases->items[ci].name);
		for (size_t m = 0; m < r->n_modes; m++) {
			format_cell(cell_of(r, ci, m), buf, sizeof(buf));
			fprintf(out, " %11s", buf);
		}
		fprintf(out, "\n");
	}
}

/* Per mode: the median, smallest and largest ratio of its medians to
 * baseline's, over the cases, and how many runs succeeded. */
static void
print_ratios(const struct report *r, FILE *out)
{
	double *ratios = calloc(r->cases->count, sizeof(*ratios));
	if (!ratios)
		return;

	fprintf(out, "\n%-12s %9s %9s %9s %10s %7s\n", "mode",
		"x median", "x min", "x max", "runs ok", "cases");
	for (size_t m = 0; m < r->n_modes; m++) {
		size_t n = 0, runs = 0, ok_cases = 0;
		for (size_t ci = 0; ci < r->cases->count; ci++) {
			const struct report_cell *c = cell_of(r, ci, m);
			double x = ratio_to_baseline(r, ci, m);
			if (!isnan(x))
				ratios[n++] = x;
			runs += c->n;
			ok_cases += is_good(c);
		}
		fprintf(out, "%-12s", r->modes[m]->name);
		if (n == 0) {
			fprintf(out, " %9s %9s %9s", "-", "-", "-");
		} else {
			util_sort_double(ratios, n);
			fprintf(out, " %9.2f %9.2f %9.2f", ratios[n / 2],
				ratios[0], ratios[n - 1]);
		}
		fprintf(out, " %10zu %3zu/%zu\n", runs, ok_cases,
			r->cases->count);
	}
	fprintf(out, "(x: median per case over baseline's median for that case)\n");
	free(ratios);
}

static void
print_goals(const struct report *r, FILE *out)
{
	char verdict[64];

	if (r->n_goals == 0)
		return;
	fprintf(out, "\ngoals\n");
	for (size_t i = 0; i < r->n_goals; i++) {
		const struct report_goal *g = &r->goals[i];
		describe_verdict(g, verdict, sizeof(verdict));
		fprintf(out, "  %s: %s\n", g->name, g->rule);
		if (g->is_measured)
			fprintf(out, "    measured %.3f, %s %.3f: %s\n",
				g->value, g->is_at_most ? "at most" : "at least",
				g->limit, verdict);
		fprintf(out, "    %s\n", g->detail);
	}
}

static void
print_tenants(const struct report *r, FILE *out)
{
	if (r->n_tenants == 0)
		return;
	fprintf(out, "\nmulti-tenant load (memory budget %.0f MiB)\n",
		(double)r->memory_budget_bytes / REPORT_MiB);
	load_table_print(r->tenants, r->n_tenants, out);
}

void
report_print(const struct report *r, FILE *out)
{
	print_medians(r, out);
	print_ratios(r, out);
	print_goals(r, out);
	print_tenants(r, out);
}

/* ---- JSON ------------------------------------------------------------- */

static json_t *
cell_json(const struct report *r, size_t ci, size_t mi)
{
	const struct report_cell *c = cell_of(r, ci, mi);
	double x = ratio_to_baseline(r, ci, mi);
	json_t *o = json_pack("{s:s, s:I, s:b, s:b}", "mode",
			      r->modes[mi]->name, "runs_ok", (json_int_t)c->n,
			      "failed", c->is_failed, "unavailable",
			      c->is_unavailable);

	if (c->why[0])
		(void)json_object_set_new(o, "why", json_string(c->why));
	if (!is_good(c))
		return o;
	(void)json_object_set_new(o, "median_us", json_real(c->median_us));
	(void)json_object_set_new(o, "p90_us", json_real(c->p90_us));
	(void)json_object_set_new(o, "p99_us", json_real(c->p99_us));
	(void)json_object_set_new(o, "max_us", json_real(c->max_us));
	if (c->heap_peak_bytes)
		(void)json_object_set_new(
			o, "heap_peak_bytes",
			json_integer((json_int_t)c->heap_peak_bytes));
	if (c->rss_bytes)
		(void)json_object_set_new(
			o, "rss_bytes", json_integer((json_int_t)c->rss_bytes));
	if (!isnan(x))
		(void)json_object_set_new(o, "x_baseline", json_real(x));
	return o;
}

static json_t *
cases_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t ci = 0; ci < r->cases->count; ci++) {
		const struct cases_case *c = &r->cases->items[ci];
		json_t *modes = json_array();
		for (size_t mi = 0; mi < r->n_modes; mi++)
			(void)json_array_append_new(modes,
						    cell_json(r, ci, mi));
		(void)json_array_append_new(
			a, json_pack("{s:s?, s:s, s:s?, s:s, s:o}", "suite",
				     c->suite, "name", c->name, "profile",
				     c->profile, "expected", c->expected,
				     "modes", modes));
	}
	return a;
}

static json_t *
goals_json(const struct report *r)
{
	json_t *a = json_array();
	char verdict[64];

	for (size_t i = 0; i < r->n_goals; i++) {
		const struct report_goal *g = &r->goals[i];
		describe_verdict(g, verdict, sizeof(verdict));
		json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:s, s:s}", "name",
				      g->name, "rule", g->rule, "bound",
				      g->is_at_most ? "at_most" : "at_least",
				      "limit", g->limit, "verdict", verdict,
				      "detail", g->detail);
		if (g->is_measured)
			(void)json_object_set_new(o, "value",
						  json_real(g->value));
		(void)json_array_append_new(a, o);
	}
	return a;
}

static json_t *
tenants_json(const struct report *r)
{
	json_t *rows = NULL;

	if (load_table_json(r->tenants, r->n_tenants, &rows) < 0)
		return json_null();
	return rows;
}

static json_t *
modes_json(const struct report *r)
{
	json_t *a = json_array();

	for (size_t mi = 0; mi < r->n_modes; mi++)
		(void)json_array_append_new(
			a, json_pack("{s:s, s:s, s:b}", "name",
				     r->modes[mi]->name, "what",
				     r->modes[mi]->what, "beddel",
				     !r->modes[mi]->is_peer));
	return a;
}

static int
write_json(const struct report *r, const char *path)
{
	json_t *root = json_pack(
		"{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I}", "command",
		r->command, "machine", r->machine, "date", r->date, "peers",
		r->peers, "modes", modes_json(r), "cases", cases_json(r),
		"goals", goals_json(r), "tenants", tenants_json(r),
		"memory_budget_bytes", (json_int_t)r->memory_budget_bytes);
	if (!root)
		return -ENOMEM;
	int rc = json_dump_file(root, path, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	return rc == 0 ? 0 : -EIO;
}

/* ---- Markdown --------------------------------------------------------- */

static void
md_goals(const struct report *r, FILE *f)
{
	char verdict[64];

	fprintf(f, "## Goals\n\n| goal | rule | measured | limit | verdict | figures |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < r->n_goals; i++) {
		const struct report_goal *g = &r->goals[i];
		describe_verdict(g, verdict, sizeof(verdict));
		fprintf(f, "| %s | %s | ", g->name, g->rule);
		if (g->is_measured)
			fprintf(f, "%.3f", g->value);
		else
			fprintf(f, "-");
		fprintf(f, " | %s %.3f | %s | %s |\n",
			g->is_at_most ? "at most" : "at least", g->limit,
			verdict, g->detail);
	}
}

static void
md_medians(const struct report *r, FILE *f)
{
	char buf[32];

	fprintf(f, "\n## Median microseconds per execution\n\nFAIL: a wrong value or a failure; -: the mode is not available here.\n\n| suite | case |");
	for (size_t m = 0; m < r->n_modes; m++)
		fprintf(f, " %s |", r->modes[m]->name);
	fprintf(f, "\n|---|---|");
	for (size_t m = 0; m < r->n_modes; m++)
		fprintf(f, "---:|");
	fprintf(f, "\n");
	for (size_t ci = 0; ci < r->cases->count; ci++) {
		const struct cases_case *c = &r->cases->items[ci];
		fprintf(f, "| %s | %s |", c->suite ? c->suite : "", c->name);
		for (size_t m = 0; m < r->n_modes; m++) {
			format_cell(cell_of(r, ci, m), buf, sizeof(buf));
			fprintf(f, " %s |", buf);
		}
		fprintf(f, "\n");
	}
}

/* A byte count, or "-" for one the mode does not measure. */
static void
format_bytes(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == 0)
		(void)snprintf(buf, size, "-");
	else
		(void)snprintf(buf, size, "%llu", (unsigned long long)bytes);
}

static void
md_details(const struct report *r, FILE *f)
{
	fprintf(f, "\n## Every case in every mode\n\nMicroseconds; heap peak in bytes (the engine's, per execution); RSS in bytes (the executing process after the runs: the worker, or the Node.js process); x baseline: median over baseline's median. Nearest-rank percentiles: with fewer than 100 runs, p99 is the max.\n\n");
	fprintf(f, "| case | mode | median | p90 | p99 | max | heap peak | RSS | runs ok | x baseline |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (size_t ci = 0; ci < r->cases->count; ci++) {
		for (size_t mi = 0; mi < r->n_modes; mi++) {
			const struct report_cell *c = cell_of(r, ci, mi);
			fprintf(f, "| %s | %s |", r->cases->items[ci].name,
				r->modes[mi]->name);
			if (!is_good(c)) {
				fprintf(f, " %s: %s | | | | | | | |\n",
					c->is_unavailable ? "not available" :
							    "FAIL",
					c->why);
				continue;
			}
			char heap[24], rss[24];
			format_bytes(c->heap_peak_bytes, heap, sizeof(heap));
			format_bytes(c->rss_bytes, rss, sizeof(rss));
			fprintf(f, " %.1f | %.1f | %.1f | %.1f | %s | %s | %zu | %.2f |\n",
				c->median_us, c->p90_us, c->p99_us, c->max_us,
				heap, rss, c->n, ratio_to_baseline(r, ci, mi));
		}
	}
}

static void
md_tenants(const struct report *r, FILE *f)
{
	if (r->n_tenants == 0)
		return;
	fprintf(f, "\n## Multi-tenant load\n\nMemory budget of the supervisor: %.0f MiB.\n\n| tenants | average execution time, client round trip (us) | in the engine (us) | median (us) | p99 (us) | throughput (req/s) | total worker memory (MiB) | pool utilisation | workers at most | errors |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
		(double)r->memory_budget_bytes / REPORT_MiB);
	for (size_t i = 0; i < r->n_tenants; i++) {
		const struct load_row *t = &r->tenants[i];
		fprintf(f, "| %u | %.1f | %.1f | %llu | %llu | %.0f | %.1f | %.0f %% | %u | %llu |\n",
			t->tenants, t->round_trip_mean_us, t->exec_mean_us,
			(unsigned long long)t->median_us,
			(unsigned long long)t->p99_us, t->throughput_per_s,
			(double)t->rss_max_bytes / REPORT_MiB,
			t->utilisation_mean * 100.0, t->workers_max,
			(unsigned long long)(t->errors + t->wrong + t->lost));
	}
}

static int
write_markdown(const struct report *r, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;

	fprintf(f, "# Beddel benchmark report\n\n- command: `%s`\n- machine: %s\n- date: %s\n- peers: %s\n\n",
		r->command, r->machine, r->date, r->peers);
	fprintf(f, "Modes:\n\n");
	for (size_t m = 0; m < r->n_modes; m++)
		fprintf(f, "- `%s`: %s\n", r->modes[m]->name,
			r->modes[m]->what);
	fprintf(f, "\n");
	md_goals(r, f);
	md_medians(r, f);
	md_tenants(r, f);
	md_details(r, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* ---- data for bench/plot.gp ------------------------------------------- */

/* Each mode's percentiles for the plot's case. */
static int
write_latency_dat(const struct report *r, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;

	fprintf(f, "# case %s: mode median_us p90_us p99_us\n",
		r->cases->items[r->plot_case].name);
	for (size_t mi = 0; mi < r->n_modes; mi++) {
		const struct report_cell *c = cell_of(r, r->plot_case, mi);
		if (is_good(c))
			fprintf(f, "%s %.2f %.2f %.2f\n", r->modes[mi]->name,
				c->median_us, c->p90_us, c->p99_us);
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

static int
write_tenants_dat(const struct report *r, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;

	fprintf(f, "# tenants median_us p99_us mean_us memory_mib utilisation_pct\n");
	for (size_t i = 0; i < r->n_tenants; i++) {
		const struct load_row *t = &r->tenants[i];
		fprintf(f, "%u %llu %llu %.2f %.2f %.1f\n", t->tenants,
			(unsigned long long)t->median_us,
			(unsigned long long)t->p99_us, t->round_trip_mean_us,
			(double)t->rss_max_bytes / REPORT_MiB,
			t->utilisation_mean * 100.0);
	}
	return fclose(f) == 0 ? 0 : -EIO;
}

int
report_write(const struct report *r, const char *dir)
{
	static const struct {
		const char *file;
		int (*write)(const struct report *r, const char *path);
	} outputs[] = {
		{ "report.json", write_json },
		{ "report.md", write_markdown },
		{ "latency.dat", write_latency_dat },
		{ "tenants.dat", write_tenants_dat },
	};
	char path[4096];

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(outputs); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", dir, outputs[i].file);
		int rc = outputs[i].write(r, path);
		if (rc < 0) {
			fprintf(stderr, "bench: cannot write '%s': %s\n", path,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}
