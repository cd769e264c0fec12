/* SPDX-License-Identifier: MIT */
/*
 * bench_load: drives a supervisor with many concurrent connections and
 * many tenants (bench/load.c) and prints what it measured: requests by
 * outcome, the client's round trip and the supervisor's own timings, and
 * the pool over time. It uses the supervisor at --socket, or starts its
 * own in a private temporary directory; with --tenants-table it starts a
 * fresh one for each tenant count and prints one row per count.
 *
 * A wrong value, a request left without an answer, a worker still alive
 * after its supervisor stopped, or an fd left open fails the run (exit
 * 1); the figures themselves are printed, never asserted.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "bench/cli.h"
#include "bench/load.h"
#include "common/util.h"
#include "supervisor/pool.h"
#include "tests/helpers/harness.h"

#define BENCH_LOAD_EXIT_USAGE 2
/* Tenant counts one --tenants-table may list. */
#define BENCH_LOAD_TABLE_MAX 32u
/* Longest run: its latencies are all kept, 32 bytes an answer. */
#define BENCH_LOAD_DURATION_MS_MAX 600000u
#define BENCH_LOAD_RATE_MAX 10000000u

/* The command line; the numbers are uint64_t for the option table. */
struct options {
	const char *socket;
	uint64_t workers;
	uint64_t max_workers; /* 0: default_max_workers() */
	uint64_t memory_budget_bytes;
	bool has_memory_budget; /* 0 is a budget too (none) */
	bool has_code;
	bool has_expected;
	uint64_t connections;
	uint64_t pipeline;
	uint64_t rate;
	uint64_t tenants;
	bool is_skewed;
	uint64_t warmup_ms;
	uint64_t duration_ms;
	uint64_t sample_ms;
	const char *code;
	const char *expected;
	uint64_t seed;
	unsigned table[BENCH_LOAD_TABLE_MAX];
	size_t n_table;
	const char *json_path;
};

/* The numeric options, each a field of struct options with its range. */
static const struct cli_number number_options[] = {
	{ "workers", offsetof(struct options, workers), 1, POOL_MAX_WORKERS_CEILING },
	{ "max-workers", offsetof(struct options, max_workers), 1, POOL_MAX_WORKERS_CEILING },
	{ "memory-budget-bytes", offsetof(struct options, memory_budget_bytes), 0, UINT64_MAX },
	{ "connections", offsetof(struct options, connections), 1, LOAD_CONNECTIONS_MAX },
	{ "pipeline", offsetof(struct options, pipeline), 1, LOAD_PIPELINE_MAX },
	{ "rate", offsetof(struct options, rate), 1, BENCH_LOAD_RATE_MAX },
	{ "tenants", offsetof(struct options, tenants), 1, LOAD_TENANTS_MAX },
	{ "warmup-ms", offsetof(struct options, warmup_ms), 0, BENCH_LOAD_DURATION_MS_MAX },
	{ "duration-ms", offsetof(struct options, duration_ms), 1, BENCH_LOAD_DURATION_MS_MAX },
	{ "sample-ms", offsetof(struct options, sample_ms), 10, BENCH_LOAD_DURATION_MS_MAX },
	{ "seed", offsetof(struct options, seed), 0, UINT64_MAX },
};

enum {
	OPT_SOCKET = 256,
	OPT_SKEWED,
	OPT_CODE,
	OPT_EXPECTED,
	OPT_TABLE,
	OPT_JSON,
};

static const struct option text_options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "skewed", no_argument, NULL, OPT_SKEWED },
	{ "code", required_argument, NULL, OPT_CODE },
	{ "expected", required_argument, NULL, OPT_EXPECTED },
	{ "tenants-table", required_argument, NULL, OPT_TABLE },
	{ "json", required_argument, NULL, OPT_JSON },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_load [OPTION]...\n"
		"Drives a supervisor with concurrent connections and tenants, and prints\n"
		"requests by outcome, latencies and the pool over time.\n"
		"\n"
		"  --socket PATH          a running supervisor (default: start one with the\n"
		"                         three options below)\n"
		"  --workers N            its --workers (default: the online cores)\n"
		"  --max-workers N        its --max-workers (default: %u, or 5/4 of the\n"
		"                         tenants plus --workers when that is more)\n"
		"  --memory-budget-bytes N  its --memory-budget-bytes (default: its own)\n"
		"  --connections N        concurrent connections, 1 to %u (default: 8)\n"
		"  --pipeline N           closed loop: requests in flight on each (default: 1)\n"
		"  --rate N               open loop instead: N requests per second in all,\n"
		"                         sent on schedule whatever the answers\n"
		"  --tenants N            tenants t0, t1..., 1 to %u (default: 1)\n"
		"  --skewed               draw tenants by a Zipf law (s = 1), not uniformly\n"
		"  --warmup-ms MS         run first without counting (default: 1000)\n"
		"  --duration-ms MS       then count for this long (default: 5000)\n"
		"  --sample-ms MS         sample the pool this often (default: 250)\n"
		"  --code TEXT            the script (default: '1 + 1'); needs --expected\n"
		"  --expected JSON        the value every answer must have (default: 2)\n"
		"  --seed N               seed of the tenant draws (default: 1)\n"
		"  --tenants-table LIST   one run per tenant count (e.g. 1,10,50), each on a\n"
		"                         fresh supervisor; prints a table\n"
		"  --json FILE            write the figures there as JSON\n"
		"  --help                 show this help\n",
		POOL_MAX_WORKERS_DEFAULT, LOAD_CONNECTIONS_MAX,
		LOAD_TENANTS_MAX);
}

static int
parse_table(const char *arg, struct options *o)
{
	int n = cli_parse_counts("bench_load", "tenants-table", arg,
				 LOAD_TENANTS_MAX, o->table,
				 BENCH_LOAD_TABLE_MAX);
	if (n < 0)
		return n;
	o->n_table = (size_t)n;
	return 0;
}

static int
take_option(int opt, const char *arg, void *opts)
{
	struct options *o = opts;

	if (opt >= CLI_OPT_NUMBER) {
		o->has_memory_budget |=
			strcmp(number_options[opt - CLI_OPT_NUMBER].name,
			       "memory-budget-bytes") == 0;
		return 0;
	}
	switch (opt) {
	case OPT_SOCKET:
		o->socket = arg;
		return 0;
	case OPT_SKEWED:
		o->is_skewed = true;
		return 0;
	case OPT_CODE:
		o->code = arg;
		o->has_code = true;
		return 0;
	case OPT_EXPECTED:
		o->expected = arg;
		o->has_expected = true;
		return 0;
	case OPT_TABLE:
		return parse_table(arg, o);
	case OPT_JSON:
		o->json_path = arg;
		return 0;
	}
	return 0;
}

/* Options that make no sense together, found after all are read. */
static int
check_options(const struct options *o)
{
	if (o->has_code && !o->has_expected) {
		fprintf(stderr, "bench_load: --code needs --expected, the JSON value of its result\n");
		return -EINVAL;
	}
	if (o->socket && o->n_table > 0) {
		fprintf(stderr, "bench_load: --tenants-table starts a fresh supervisor for each count; it cannot use --socket\n");
		return -EINVAL;
	}
	if (o->max_workers && o->workers > o->max_workers) {
		fprintf(stderr, "bench_load: --workers (%llu) is above --max-workers (%llu)\n",
			(unsigned long long)o->workers,
			(unsigned long long)o->max_workers);
		return -EINVAL;
	}
	return 0;
}

static const struct cli_spec cli = CLI_SPEC("bench_load", text_options,
						 number_options, take_option,
						 usage);

/* ---- Header --------------------------------------------------------- */

/* The arguments given to a supervisor this program starts, after the
 * harness's own --socket, --workers and --transform-workers-max 0. */
struct supervisor_args {
	char max_workers[24];
	char budget[24];
	const char *argv[8];
};

/* Room for every tenant of the largest run to keep a worker of its own,
 * a quarter of them a second one, and the warm ones besides, so that the
 * pool's ceiling is not what the table measures (the pool gives a busy
 * tenant more than one worker); never below the supervisor's default. */
static uint64_t
default_max_workers(const struct options *o)
{
	uint64_t tenants = o->tenants;

	for (size_t i = 0; i < o->n_table; i++) {
		if (o->table[i] > tenants)
			tenants = o->table[i];
	}
	uint64_t max = tenants + tenants / 4 + o->workers;
	return max > POOL_MAX_WORKERS_DEFAULT ? max : POOL_MAX_WORKERS_DEFAULT;
}

static void
build_supervisor_args(const struct options *o, struct supervisor_args *a)
{
	size_t n = 0;
	uint64_t max = o->max_workers ? o->max_workers : default_max_workers(o);

	(void)snprintf(a->max_workers, sizeof(a->max_workers), "%llu",
		       (unsigned long long)max);
	a->argv[n++] = "--max-workers";
	a->argv[n++] = a->max_workers;
	if (o->has_memory_budget) {
		(void)snprintf(a->budget, sizeof(a->budget), "%llu",
			       (unsigned long long)o->memory_budget_bytes);
		a->argv[n++] = "--memory-budget-bytes";
		a->argv[n++] = a->budget;
	}
	a->argv[n] = NULL;
}

static void
print_supervisor(const struct options *o, const struct supervisor_args *a)
{
	if (o->socket) {
		printf("supervisor: the one at %s\n", o->socket);
		return;
	}
	printf("supervisor: %s --workers %llu", harness_supervisor_path(),
	       (unsigned long long)o->workers);
	for (size_t i = 0; a->argv[i]; i++)
		printf(" %s", a->argv[i]);
	printf(" --transform-workers-max 0, %s\n",
	       o->n_table ? "a fresh one for each tenant count" :
			    "started for the run");
}

static void
print_header(const struct options *o, const struct supervisor_args *a,
	     int argc, char **argv)
{
	cli_print_command(argc, argv);
	printf("cores: %ld online, %ld configured\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
	print_supervisor(o, a);
	if (o->rate)
		printf("load: open loop; %llu requests per second in all, connections %llu; latency from each request's scheduled time\n",
		       (unsigned long long)o->rate,
		       (unsigned long long)o->connections);
	else
		printf("load: closed loop; connections %llu, requests in flight on each %llu\n",
		       (unsigned long long)o->connections,
		       (unsigned long long)o->pipeline);
	printf("script: '%s', expected %s\n", o->code, o->expected);
	if (o->n_table == 0)
		printf("tenants: %llu", (unsigned long long)o->tenants);
	else
		printf("tenants: as each row says");
	printf(", drawn %s, seed %llu\n",
	       o->is_skewed ? "by a Zipf law (s = 1)" : "uniformly",
	       (unsigned long long)o->seed);
	printf("time: %llu ms warm-up, %llu ms counted, pool sampled every %llu ms; answers get %u ms more before they count as lost\n",
	       (unsigned long long)o->warmup_ms,
	       (unsigned long long)o->duration_ms,
	       (unsigned long long)o->sample_ms, LOAD_GRACE_MS);
	printf("pool figures: the supervisor's status answer, and VmRSS of its children from /proc when its pid is known\n\n");
	(void)fflush(stdout);
}

/* ---- Runs ----------------------------------------------------------- */

static struct load_config
config_of(const struct options *o)
{
	return (struct load_config){
		.connections = (unsigned)o->connections,
		.pipeline = (unsigned)o->pipeline,
		.rate_per_s = (double)o->rate,
		.tenants = (unsigned)o->tenants,
		.is_skewed = o->is_skewed,
		.warmup_ms = o->warmup_ms,
		.duration_ms = o->duration_ms,
		.sample_ms = o->sample_ms,
		.code = o->code,
		.expected_json = o->expected,
		.seed = o->seed,
	};
}

/* Writes obj to the --json file under key, with the command line
 * beside it. Takes obj's reference. */
static int
write_json(const struct options *o, int argc, char **argv, const char *key,
	   json_t *obj)
{
	json_t *root = json_object();
	json_t *cmd = json_array();
	bool is_ok = root && cmd;

	for (int i = 0; is_ok && i < argc; i++)
		is_ok = json_array_append_new(cmd, json_string(argv[i])) == 0;
	/* json_object_set_new() takes the value's reference even when it
	 * fails, so both are set or released here. */
	if (root) {
		is_ok &= json_object_set_new(root, "command", cmd) == 0;
		is_ok &= json_object_set_new(root, key, obj) == 0;
	} else {
		json_decref(cmd);
		json_decref(obj);
	}
	int r = is_ok ? 0 : -ENOMEM;
	if (r == 0 && json_dump_file(root, o->json_path, JSON_INDENT(2)) < 0)
		r = -EIO;
	if (r < 0)
		fprintf(stderr, "bench_load: cannot write '%s': %s\n",
			o->json_path, strerror(-r));
	json_decref(root);
	return r;
}

/* A run passes when every counted request got the expected value or an
 * error answer: a wrong value, or a request with no answer at all, is a
 * defect of the service, whatever the load. */
static bool
is_report_sound(const struct load_report *r)
{
	/* A load whose every request fails measures nothing: error answers
	 * (a script that throws, a timeout) count against the run too. */
	return r->ok > 0 && r->errors == 0 && r->wrong == 0 && r->lost == 0 &&
	       r->cut == 0;
}

static int
report_run(const struct options *o, const struct load_report *rep,
	   int argc, char **argv)
{
	json_t *obj;
	int r = 0;

	load_report_print(rep, stdout);
	(void)fflush(stdout);
	if (o->json_path) {
		r = load_report_json(rep, &obj);
		if (r == 0)
			r = write_json(o, argc, argv, "report", obj);
	}
	if (r == 0 && !is_report_sound(rep)) {
		fprintf(stderr, "bench_load: %llu wrong values, %llu requests cut off and %llu lost\n",
			(unsigned long long)rep->wrong,
			(unsigned long long)rep->cut,
			(unsigned long long)rep->lost);
		r = -EBADMSG;
	}
	return r;
}

/* Against the supervisor at --socket: its pid comes from the socket. */
static int
run_remote(const struct options *o, int argc, char **argv)
{
	struct load_config c = config_of(o);
	struct load_report rep;

	c.socket_path = o->socket;
	c.supervisor_pid = load_supervisor_pid(o->socket);
	int r = load_run(&c, &rep);
	if (r < 0) {
		fprintf(stderr, "bench_load: the run against '%s' failed: %s\n",
			o->socket, strerror(-r));
		return r;
	}
	r = report_run(o, &rep, argc, argv);
	load_report_fini(&rep);
	return r;
}

/* Against a supervisor started for the run; fails when it did not exit
 * cleanly or left a worker alive. */
static int
run_local(const struct options *o, const struct supervisor_args *a,
	  int argc, char **argv)
{
	struct load_config c = config_of(o);
	struct load_report rep;
	unsigned survivors;

	int r = load_run_fresh(&c, (unsigned)o->workers, a->argv, &rep,
			       &survivors);
	if (r < 0)
		return r;
	r = report_run(o, &rep, argc, argv);
	load_report_fini(&rep);
	printf("after the stop: %u of its workers still alive\n", survivors);
	return r < 0 ? r : survivors ? -ECHILD : 0;
}

static bool
are_rows_sound(const struct load_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].wrong || rows[i].lost || rows[i].survivors)
			return false;
	}
	return true;
}

/* --tenants-table: one fresh supervisor and one run per tenant count. */
static int
run_table(const struct options *o, const struct supervisor_args *a,
	  int argc, char **argv)
{
	struct load_config c = config_of(o);
	struct load_row *rows;
	json_t *obj;

	int r = load_table(&c, (unsigned)o->workers, a->argv, o->table,
			   o->n_table, stdout, &rows);
	if (r < 0)
		return r;

	printf("\n");
	load_table_print(rows, o->n_table, stdout);
	(void)fflush(stdout);
	if (o->json_path) {
		r = load_table_json(rows, o->n_table, &obj);
		if (r == 0)
			r = write_json(o, argc, argv, "table", obj);
	}
	if (r == 0 && !are_rows_sound(rows, o->n_table)) {
		fprintf(stderr, "bench_load: a run had wrong values, unanswered requests or workers left alive\n");
		r = -EBADMSG;
	}
	free(rows);
	return r;
}

/* ---- Leaks ---------------------------------------------------------- */

/* Children of this process that are still there, zombies included: the
 * children file of its one thread (proc(5)). -1 when it cannot be read. */
static int
count_own_children(void)
{
	char path[64], buf[4096];
	int n = 0;

	(void)snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		       (int)getpid());
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%4095s", buf) == 1)
		n++;
	(void)fclose(f);
	return n;
}

/* Open fds and children are what they were before the run. */
static int
check_leaks(unsigned fds_before)
{
	unsigned fds = harness_count_fds();
	int children = count_own_children();

	printf("after the run: %u open fds (%u before), %d children of bench_load\n",
	       fds, fds_before, children);
	if (fds != fds_before || children != 0) {
		fprintf(stderr, "bench_load: fds or children were left behind\n");
		return -EBADF;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct options o = {
		.workers = cores > 0 ? (uint64_t)cores : 1,
		.connections = 8,
		.pipeline = 1,
		.tenants = 1,
		.warmup_ms = 1000,
		.duration_ms = 5000,
		.sample_ms = 250,
		.code = "1 + 1",
		.expected = "2",
		.seed = 1,
	};
	struct supervisor_args a;
	int r;

	if (cli_parse(&cli, argc, argv, &o) < 0 || check_options(&o) < 0)
		return BENCH_LOAD_EXIT_USAGE;
	/* The load's writes never raise it (MSG_NOSIGNAL); this covers the
	 * harness's own writes to a supervisor that has died. */
	(void)signal(SIGPIPE, SIG_IGN);
	unsigned fds_before = harness_count_fds();

	build_supervisor_args(&o, &a);
	print_header(&o, &a, argc, argv);
	if (o.n_table)
		r = run_table(&o, &a, argc, argv);
	else if (o.socket)
		r = run_remote(&o, argc, argv);
	else
		r = run_local(&o, &a, argc, argv);
	int leak_r = check_leaks(fds_before);
	return r < 0 || leak_r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
