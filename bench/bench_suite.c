/* SPDX-License-Identifier: MIT */
/*
 * bench_suite: the benchmark cases of bench/cases/ in every mode of
 * bench/modes.h, side by side in one run, then the goals that compare
 * Beddel with its peers, the throughput, the memory of an idle worker
 * and the multi-tenant load, and the reports.
 *
 * Each case's runs in each mode are split into rounds; within a round the
 * modes take their turns in an order that rotates from round to round and
 * from case to case, so that a burst of other load on the machine falls
 * on every mode alike. Every value is checked: a wrong one is a failure,
 * never a time (exit 1 when it is Beddel's; a peer's is reported). The
 * figures are printed, never asserted.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/cases.h"
#include "bench/cli.h"
#include "bench/goals.h"
#include "bench/load.h"
#include "bench/modes.h"
#include "bench/report.h"
#include "common/sys.h"
#include "common/util.h"

#define SUITE_ITERATIONS_DEFAULT 200
#define SUITE_PROCESS_ITERATIONS_DEFAULT 10
#define SUITE_ROUNDS_DEFAULT 5
#define SUITE_WARMUP_DEFAULT 10
#define SUITE_RUNS_MAX 1000000

static const char *const suite_dirs[] = { "standard", "profiles", "targets",
					  "memory" };

struct options {
	uint64_t iterations;
	uint64_t process_iterations;
	uint64_t rounds;
	uint64_t warmup;
	uint64_t load_ms;
	const char *modes;
	const char *out_dir;
	const char *cases_dir;
	const char *goal_case;
	const char *tenants;
	bool is_peers;
	bool is_load;
};

static const struct cli_number number_options[] = {
	{ "iterations", offsetof(struct options, iterations), 1,
	  SUITE_RUNS_MAX },
	{ "process-iterations", offsetof(struct options, process_iterations),
	  1, SUITE_RUNS_MAX },
	{ "rounds", offsetof(struct options, rounds), 1, 1000 },
	{ "warmup", offsetof(struct options, warmup), 0, SUITE_RUNS_MAX },
	{ "load-ms", offsetof(struct options, load_ms), 100, 3600000 },
};

struct suite {
	const struct options *o;
	struct cases_set cases;
	const struct modes_mode *modes[16];
	size_t n_modes;
	struct modes_env env;
	struct report report;
	struct goals_memory memory; /* taken before the first case */
	struct modes_sample *scratch; /* one round's samples */
	size_t scratch_cap;
	bool is_failed;
};

/* ---- the runs ---------------------------------------------------------- */

static uint64_t
runs_of(const struct suite *s, const struct modes_mode *m)
{
	return m->is_process_per_run ? s->o->process_iterations :
				       s->o->iterations;
}

/* Round `round` of `rounds` takes its share of total, the first rounds
 * one more when it does not divide. */
static size_t
share_of(uint64_t total, uint64_t rounds, uint64_t round)
{
	return (size_t)(total / rounds + (round < total % rounds ? 1 : 0));
}

static void
record_failure(struct suite *s, struct report_cell *cell,
	       const struct cases_case *c, const struct modes_mode *m, int r,
	       const char *why)
{
	(void)snprintf(cell->why, sizeof(cell->why), "%.400s", why);
	if (r == -ENOTSUP) {
		cell->is_unavailable = true;
		return;
	}
	/* A peer that fails is reported, in its cells and the goals that
	 * need it; only Beddel failing a case fails the run. */
	cell->is_failed = true;
	s->is_failed |= !m->is_peer;
	fprintf(stderr, "bench_suite: %s in %s: %s\n", c->name, m->name, why);
}

/* n runs of case ci in mode mi; timed ones are kept in the report. */
static void
run_cell(struct suite *s, size_t ci, size_t mi, size_t n, bool is_timed)
{
	struct report_cell *cell = report_cell(&s->report, ci, mi);
	const struct cases_case *c = &s->cases.items[ci];
	const struct modes_mode *m = s->modes[mi];
	char why[MODES_WHY_MAX];

	if (n == 0 || cell->is_failed || cell->is_unavailable)
		return;
	int r = modes_run(&s->env, m, c, n, s->scratch, why, sizeof(why));
	if (r < 0) {
		record_failure(s, cell, c, m, r, why);
		return;
	}
	if (!is_timed)
		return;
	for (size_t i = 0; i < n && cell->n < cell->cap; i++) {
		cell->ns[cell->n++] = s->scratch[i].ns;
		if (s->scratch[i].heap_peak_bytes > cell->heap_peak_bytes)
			cell->heap_peak_bytes = s->scratch[i].heap_peak_bytes;
		if (s->scratch[i].rss_bytes > cell->rss_bytes)
			cell->rss_bytes = s->scratch[i].rss_bytes;
	}
}

static void
warm_up(struct suite *s)
{
	for (size_t ci = 0; ci < s->cases.count; ci++) {
		for (size_t mi = 0; mi < s->n_modes; mi++) {
			uint64_t n = s->modes[mi]->is_process_per_run ?
					     1 :
					     s->o->warmup;
			run_cell(s, ci, mi, (size_t)n, false);
		}
	}
}

static void
run_rounds(struct suite *s)
{
	const uint64_t rounds = s->o->rounds;

	for (uint64_t round = 0; round < rounds; round++) {
		uint64_t start_us = sys_now_us();
		for (size_t ci = 0; ci < s->cases.count; ci++) {
			for (size_t k = 0; k < s->n_modes; k++) {
				size_t mi = (k + ci + round) % s->n_modes;
				size_t n = share_of(runs_of(s, s->modes[mi]),
						    rounds, round);
				run_cell(s, ci, mi, n, true);
			}
		}
		fprintf(stderr, "bench_suite: round %llu of %llu took %.1f s\n",
			(unsigned long long)round + 1,
			(unsigned long long)rounds,
			(double)(sys_now_us() - start_us) / 1e6);
	}
}

/* ---- set-up ------------------------------------------------------------ */

/* The tenant counts, read now so that a bad list stops the run before
 * its minutes of cases rather than after. */
static int
check_tenants(const struct options *o)
{
	unsigned counts[GOALS_TENANT_COUNTS_MAX];

	if (!o->is_load || !o->tenants)
		return 0;
	int n = cli_parse_counts("bench_suite", "tenants", o->tenants,
				 LOAD_TENANTS_MAX, counts,
				 UTIL_ARRAY_SIZE(counts));
	return n < 0 ? n : 0;
}

static int
load_cases(struct suite *s)
{
	char dir[4096];

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(suite_dirs); i++) {
		(void)snprintf(dir, sizeof(dir), "%s/%s", s->o->cases_dir,
			       suite_dirs[i]);
		int r = cases_load_dir(&s->cases, dir, suite_dirs[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Checks that every name of the list is a mode, and a peer's only
 * with the peers on. */
static int
check_mode_names(const struct options *o)
{
	char copy[256], *save;

	(void)snprintf(copy, sizeof(copy), "%s", o->modes);
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		const struct modes_mode *m = modes_find(t);
		if (m && (!m->is_peer || o->is_peers))
			continue;
		fprintf(stderr, m ? "bench_suite: --modes names %s, a peer, with --no-peers\n" :
				    "bench_suite: --modes names %s, which is no mode; the modes:",
			t);
		for (size_t i = 0; !m && i < modes_count; i++)
			fprintf(stderr, " %s", modes_all[i].name);
		if (!m)
			fprintf(stderr, "\n");
		return -EINVAL;
	}
	return 0;
}

/* The modes of the comma-separated list (NULL: all; without peers, the
 * Beddel ones). baseline is always first: every ratio is to it. */
static int
choose_modes(struct suite *s)
{
	const char *list = s->o->modes;

	if (list && check_mode_names(s->o) < 0)
		return -EINVAL;
	s->modes[s->n_modes++] = modes_find("baseline");
	for (size_t i = 0; i < modes_count; i++) {
		const struct modes_mode *m = &modes_all[i];
		if (m == s->modes[0] || (m->is_peer && !s->o->is_peers))
			continue;
		if (list && !cli_list_contains(list, m->name))
			continue;
		s->modes[s->n_modes++] = m;
	}
	return 0;
}

static const char *
cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];

	(void)snprintf(buf, size, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			line[strcspn(line, "\n")] = '\0';
			(void)snprintf(buf, size, "%s", colon + 2);
			break;
		}
	}
	if (f)
		(void)fclose(f);
	return buf;
}

static void
describe_machine(struct report *r)
{
	struct utsname u;
	char cpu[128];
	time_t now = time(NULL);

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	(void)snprintf(r->machine, sizeof(r->machine),
		       "%ld cores online (%.80s), %.1f GiB of memory, Linux %.60s %.20s",
		       sysconf(_SC_NPROCESSORS_ONLN),
		       cpu_model(cpu, sizeof(cpu)),
		       (double)sysconf(_SC_PHYS_PAGES) *
			       (double)sysconf(_SC_PAGESIZE) / 1073741824.0,
		       u.release, u.machine);
	(void)strftime(r->date, sizeof(r->date), "%Y-%m-%d %H:%M UTC",
		       gmtime(&now));
}

static void
describe_peers(struct suite *s)
{
	const struct peers *p = &s->env.peers;
	struct report *r = &s->report;

	if (!s->o->is_peers)
		(void)snprintf(r->peers, sizeof(r->peers), "not run (--no-peers)");
	else if (!p->node_version[0])
		(void)snprintf(r->peers, sizeof(r->peers),
			       "Node.js driver not running: %.400s", p->why);
	else if (!p->ivm_version[0])
		(void)snprintf(r->peers, sizeof(r->peers),
			       "Node.js %s; isolated-vm NOT AVAILABLE: %.400s",
			       p->node_version, p->why);
	else
		(void)snprintf(r->peers, sizeof(r->peers),
			       "Node.js %s, isolated-vm %s", p->node_version,
			       p->ivm_version);
}

static int
find_goal_case(const struct suite *s, size_t *ret)
{
	for (size_t i = 0; i < s->cases.count; i++) {
		if (strcmp(s->cases.items[i].name, s->o->goal_case) == 0) {
			*ret = i;
			return 0;
		}
	}
	fprintf(stderr, "bench_suite: there is no case '%s'\n",
		s->o->goal_case);
	return -ENOENT;
}

static int
suite_setup(struct suite *s, int argc, char **argv)
{
	char peer_script[4096];
	int r;

	r = check_tenants(s->o);
	if (r == 0)
		r = load_cases(s);
	if (r == 0)
		r = choose_modes(s);
	if (r == 0)
		r = find_goal_case(s, &s->report.plot_case);
	if (r < 0)
		return r;
	uint64_t most = s->o->iterations > s->o->process_iterations ?
				s->o->iterations :
				s->o->process_iterations;
	s->scratch_cap = (size_t)(most > s->o->warmup ? most : s->o->warmup);
	s->scratch = calloc(s->scratch_cap, sizeof(*s->scratch));
	size_t plot_case = s->report.plot_case;
	r = s->scratch ? report_init(&s->report, &s->cases, s->modes,
				     s->n_modes, (size_t)most) :
			 -ENOMEM;
	if (r < 0)
		return r;
	s->report.plot_case = plot_case;
	cli_format_command(argc, argv, s->report.command,
			   sizeof(s->report.command));
	describe_machine(&s->report);

	(void)snprintf(peer_script, sizeof(peer_script), "%s/peers/peer.js",
		       BENCH_SOURCE_DIR);
	const struct modes_options mo = {
		.profiles_path = BENCH_SOURCE_DIR "/../policies/profiles.yaml",
		.node_path = s->o->is_peers ? "node" : NULL,
		.peer_script = peer_script,
	};
	r = modes_env_start(&s->env, &mo);
	describe_peers(s);
	return r;
}

/* ---- the command line ------------------------------------------------- */

enum {
	OPT_MODES = 256,
	OPT_OUT,
	OPT_CASES,
	OPT_CASE,
	OPT_TENANTS,
	OPT_NO_PEERS,
	OPT_NO_LOAD,
	OPT_QUICK,
};

static const struct option text_options[] = {
	{ "modes", required_argument, NULL, OPT_MODES },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "cases", required_argument, NULL, OPT_CASES },
	{ "case", required_argument, NULL, OPT_CASE },
	{ "tenants", required_argument, NULL, OPT_TENANTS },
	{ "no-peers", no_argument, NULL, OPT_NO_PEERS },
	{ "no-load", no_argument, NULL, OPT_NO_LOAD },
	{ "quick", no_argument, NULL, OPT_QUICK },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_suite [--iterations N] [--process-iterations N] [--rounds N]\n"
		"                   [--warmup N] [--modes LIST] [--cases DIR] [--case NAME]\n"
		"                   [--no-peers]\n"
		"                   [--no-load] [--load-ms MS] [--tenants LIST] [--out DIR]\n"
		"                   [--quick]\n"
		"Runs every case of bench/cases/ in every mode, side by side, checks every\n"
		"value, measures the goals, prints the tables and writes report.json,\n"
		"report.md, latency.dat and tenants.dat into DIR.\n"
		"\n"
		"  --iterations N          timed runs per case in each in-process, pipe,\n"
		"                          socket and peer mode (default: %d)\n"
		"  --process-iterations N  timed runs per case of oneshot and node-e,\n"
		"                          a process each (default: %d)\n"
		"  --rounds N              rounds the runs are split into (default: %d)\n"
		"  --warmup N              untimed runs per case and mode first (default: %d)\n"
		"  --modes LIST            comma-separated modes (default: all; baseline\n"
		"                          always runs)\n"
		"  --cases DIR             the cases: DIR/standard, profiles, targets and\n"
		"                          memory (default: bench/cases of the sources)\n"
		"  --case NAME             the case of the latency goals and the plot\n"
		"                          (default: simple-math)\n"
		"  --no-peers              no Node.js peers\n"
		"  --no-load               no throughput, memory or multi-tenant runs\n"
		"  --load-ms MS            length of each load run (default: 5000)\n"
		"  --tenants LIST          tenant counts of the multi-tenant table\n"
		"                          (default: 1,10,50,100,200)\n"
		"  --out DIR               where the reports go (default: bench-report)\n"
		"  --quick                 3 runs of everything, 1 round, no load: checks\n"
		"                          every value quickly\n",
		SUITE_ITERATIONS_DEFAULT, SUITE_PROCESS_ITERATIONS_DEFAULT,
		SUITE_ROUNDS_DEFAULT, SUITE_WARMUP_DEFAULT);
}

static void
set_quick(struct options *o)
{
	o->iterations = 3;
	o->process_iterations = 1;
	o->rounds = 1;
	o->warmup = 1;
	o->is_load = false;
}

static int
take_option(int opt, const char *arg, void *opts)
{
	struct options *o = opts;

	switch (opt) {
	case OPT_MODES: o->modes = arg; break;
	case OPT_OUT: o->out_dir = arg; break;
	case OPT_CASES: o->cases_dir = arg; break;
	case OPT_CASE: o->goal_case = arg; break;
	case OPT_TENANTS: o->tenants = arg; break;
	case OPT_NO_PEERS: o->is_peers = false; break;
	case OPT_NO_LOAD: o->is_load = false; break;
	case OPT_QUICK: set_quick(o); break;
	}
	return 0;
}

static const struct cli_spec cli = CLI_SPEC("bench_suite", text_options,
						 number_options, take_option,
						 usage);

/* ---- main -------------------------------------------------------------- */

static void
print_header(const struct suite *s)
{
	const struct report *r = &s->report;

	printf("command: %s\nmachine: %s\ndate: %s\npeers: %s\n", r->command,
	       r->machine, r->date, r->peers);
	printf("cases: %zu from %s; runs per case: %llu (oneshot, node-e: %llu) in %llu rounds after %llu warm-up runs\n",
	       s->cases.count, s->o->cases_dir,
	       (unsigned long long)s->o->iterations,
	       (unsigned long long)s->o->process_iterations,
	       (unsigned long long)s->o->rounds,
	       (unsigned long long)s->o->warmup);
	for (size_t i = 0; i < s->n_modes; i++)
		printf("  %-12s %s\n", s->modes[i]->name, s->modes[i]->what);
	printf("\n");
	(void)fflush(stdout);
}

static int
finish(struct suite *s)
{
	const struct goals_options go = {
		.case_index = s->report.plot_case,
		.load_ms = s->o->load_ms,
		.tenants = s->o->tenants,
		.memory = &s->memory,
	};

	report_summarize(&s->report);
	goals_from_latency(&s->report, &go);
	if (s->o->is_load && goals_measure(&s->report, &s->env, &go) < 0)
		s->is_failed = true;
	report_print(&s->report, stdout);

	if (mkdir(s->o->out_dir, 0755) < 0 && errno != EEXIST) {
		int r = -errno;
		fprintf(stderr, "bench_suite: cannot make '%s': %s\n",
			s->o->out_dir, strerror(-r));
		return r;
	}
	int r = report_write(&s->report, s->o->out_dir);
	if (r == 0)
		printf("\nreports: %s/report.md, %s/report.json\n",
		       s->o->out_dir, s->o->out_dir);
	return r;
}

int
main(int argc, char **argv)
{
	struct options o = {
		.iterations = SUITE_ITERATIONS_DEFAULT,
		.process_iterations = SUITE_PROCESS_ITERATIONS_DEFAULT,
		.rounds = SUITE_ROUNDS_DEFAULT,
		.warmup = SUITE_WARMUP_DEFAULT,
		.load_ms = 5000,
		.out_dir = "bench-report",
		.cases_dir = BENCH_SOURCE_DIR "/cases",
		.goal_case = "simple-math",
		.tenants = "1,10,50,100,200",
		.is_peers = true,
		.is_load = true,
	};
	struct suite s = { .o = &o };

	/* A peer or a worker that dies must not kill the bench with it. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (cli_parse(&cli, argc, argv, &o) < 0)
		return 2;
	int r = suite_setup(&s, argc, argv);
	if (r == 0) {
		print_header(&s);
		if (o.is_load)
			goals_memory_start(&s.env, &s.memory);
		warm_up(&s);
		run_rounds(&s);
		r = finish(&s);
	}
	modes_env_stop(&s.env);
	report_fini(&s.report);
	cases_free(&s.cases);
	free(s.scratch);
	if (r < 0)
		return 1;
	if (s.is_failed)
		fprintf(stderr, "bench_suite: some runs failed; see above\n");
	return s.is_failed ? 1 : 0;
}
