/* SPDX-License-Identifier: MIT */
/*
 * bench_exec: the latency of one execution of each example script in
 * $BEDDEL_EXAMPLES, by three paths.
 *
 *   (a) Through a real beddel-supervisor, started on a socket in a private
 *       temporary directory: the client's round trip on one connection,
 *       requests one after another.
 *   (b) In this process, in a plain Duktape heap (worker/js_plain.c): the
 *       unisolated baseline, one shared global environment.
 *   (c) In this process, through js_engine_run(), the engine every worker
 *       runs: a fresh global environment, a heap cap and a converted
 *       result for each execution.
 *
 *   (d) As (a), through a second supervisor started with --no-monitor.
 *
 * (a) minus (c) is what the process boundary, the protocol and the pool
 * cost; (c) minus (b) is what the per-execution isolation of the engine
 * costs. Every path's result is compared with NAME.expected, and a wrong
 * one fails the run (exit 1). The figures are printed, never asserted.
 *
 * With --throughput it measures instead what the monitor costs in
 * requests per second: the same two supervisors, with the same fixed
 * number of workers, each driven in turn by a closed loop of concurrent
 * connections that keep a few requests in flight, in short alternating
 * rounds. One request at a time, as in (a) against (d), mostly measures
 * wake-ups, and its noise is many times the monitor's cost.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/outcome.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "supervisor/monitor.h"
#include "supervisor/pool.h"
#include "bench/cases.h"
#include "bench/cli.h"
#include "tests/helpers/harness.h"
#include "worker/js.h"
#include "worker/js_plain.h"

#define BENCH_EXEC_ITERATIONS_DEFAULT 2000
#define BENCH_EXEC_ITERATIONS_MAX 10000000
/* Untimed runs per example and path before the timed ones, so that caches,
 * branch predictors and the allocator have settled. */
#define BENCH_EXEC_WARMUP_RUNS 100u
#define BENCH_EXEC_REPLY_TIMEOUT_MS 30000
#define BENCH_EXEC_STOP_TIMEOUT_MS 5000
/* Timed runs between two reads of the supervisors' logs: a few hundred
 * lines, far under the harness's 1 MiB pipe. */
#define BENCH_EXEC_LOG_DRAIN_RUNS 256u
/* Largest script or expected-result file read; a bigger script would not
 * fit in a request frame of the supervisor's default size anyway. */
#define BENCH_EXEC_FILE_MAX_BYTES IPC_FRAME_MAX_DEFAULT
#define BENCH_EXEC_EXIT_USAGE 2

/* --throughput: short rounds, alternated between the two supervisors, so
 * that a burst of load from elsewhere on the machine lands in one round
 * of each rather than in the whole run of one. */
#define BENCH_TP_ROUNDS_DEFAULT 10
#define BENCH_TP_ROUNDS_MAX 1000
#define BENCH_TP_ROUND_MS_DEFAULT 1000
#define BENCH_TP_ROUND_MS_MAX 600000
/* Enough requests in flight to keep every worker busy while the client
 * and the supervisor take their turns on the cores. */
#define BENCH_TP_CONNECTIONS_DEFAULT 8
#define BENCH_TP_CONNECTIONS_MAX 256
#define BENCH_TP_PIPELINE_DEFAULT 4
/* Under the supervisor's CLIENT_IN_FLIGHT_MAX; past its output budget it
 * only stops reading the connection, which a closed loop survives. */
#define BENCH_TP_PIPELINE_MAX 64
#define BENCH_TP_WORKERS_MAX 64

/* The command line; iterations is for the latency table, the rest for
 * --throughput. */
struct options {
	uint64_t iterations;
	bool is_throughput;
	uint64_t rounds;
	uint64_t round_ms;
	uint64_t connections;
	uint64_t pipeline;
	uint64_t workers;
};

struct bench {
	uint64_t iterations;
	const char *examples_dir;
	struct harness h;
	bool is_started;
	int fd;
	struct harness quiet; /* --no-monitor */
	bool is_quiet_started;
	int quiet_fd;
	uint64_t next_id;
	struct js_plain *plain;
	struct js_engine *engine;
	uint64_t *samples_ns; /* iterations entries, reused by every path */
};

struct summary {
	uint64_t median_ns;
	uint64_t p99_ns;
};

/* check_fn runs an example once and compares its result with the expected
 * one; run_fn runs it once and measures it. Both return 0 or -errno and
 * print what went wrong. */
typedef int (*check_fn)(struct bench *b, const struct cases_case *ex);
typedef int (*run_fn)(struct bench *b, const struct cases_case *ex,
		      uint64_t *ret_ns);

struct path {
	const char *label;
	check_fn check;
	run_fn run;
};

static int
compare_json(const struct cases_case *ex, const char *path, const char *json)
{
	if (cases_matches(ex, json))
		return 0;
	fprintf(stderr, "bench_exec: %s: %s returned %s, expected %s\n",
		ex->name, path, json, ex->expected);
	return -EBADMSG;
}

/* ---- (a) the supervisor --------------------------------------------- */

/* A reply from a supervisor, by path `path`, against the example's
 * expected outcome and value. The request id is checked by the caller. */
static int
check_result(const struct cases_case *ex, const char *path,
	     const struct proto_result *res)
{
	if (res->outcome != OUTCOME_OK) {
		fprintf(stderr, "bench_exec: %s: %s failed: %s: %.*s\n",
			ex->name, path, outcome_name(res->outcome),
			(int)res->message_len,
			res->message ? res->message : "");
		return -EBADMSG;
	}

	char *json = harness_value_json(res->value);
	if (!json)
		return -ENOMEM;
	int r = compare_json(ex, path, json);
	free(json);
	return r;
}

static int
check_reply(const struct cases_case *ex, const struct proto_result *res,
	    uint64_t id)
{
	if (!res->has_id || res->id != id) {
		fprintf(stderr, "bench_exec: %s: (a) reply does not carry request id %llu\n",
			ex->name, (unsigned long long)id);
		return -EBADMSG;
	}
	return check_result(ex, "(a)", res);
}

/* Every reply is checked, outside the timed span. */
static int
round_trip(struct bench *b, int fd, const struct cases_case *ex,
	   uint64_t *ret_ns)
{
	uint64_t id = b->next_id++;
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result res;

	int r = harness_exec_frame(id, ex->code, NULL, 0, &f);
	if (r < 0)
		return r;

	/* The clock spans the write of the request and the read of the reply,
	 * its decoding included: every client pays for both. */
	uint64_t start_ns = sys_now_ns();
	r = sys_write_all(fd, f.data, f.len);
	if (r == 0)
		r = harness_read_result(fd, BENCH_EXEC_REPLY_TIMEOUT_MS, &m,
					&res);
	uint64_t end_ns = sys_now_ns();
	proto_frame_fini(&f);
	if (r < 0) {
		fprintf(stderr, "bench_exec: %s: (a) round trip failed: %s\n",
			ex->name, strerror(-r));
		return r;
	}

	r = check_reply(ex, &res, id);
	proto_msg_free(m);
	if (r == 0)
		*ret_ns = end_ns - start_ns;
	return r;
}

static int
run_supervisor(struct bench *b, const struct cases_case *ex, uint64_t *ret_ns)
{
	return round_trip(b, b->fd, ex, ret_ns);
}

static int
check_supervisor(struct bench *b, const struct cases_case *ex)
{
	uint64_t ns;

	return run_supervisor(b, ex, &ns);
}

/* The same through a supervisor that records nothing (--no-monitor): (a)
 * over (d) is what the monitor costs a round trip. */
static int
run_quiet(struct bench *b, const struct cases_case *ex, uint64_t *ret_ns)
{
	return round_trip(b, b->quiet_fd, ex, ret_ns);
}

static int
check_quiet(struct bench *b, const struct cases_case *ex)
{
	uint64_t ns;

	return run_quiet(b, ex, &ns);
}

/* ---- (b) the plain heap --------------------------------------------- */

static int
check_plain(struct bench *b, const struct cases_case *ex)
{
	char *json;

	int r = js_plain_eval_json(b->plain, ex->code, ex->code_len, &json);
	if (r == -EINVAL) {
		fprintf(stderr, "bench_exec: %s: (b) the script failed, or its value has no JSON form\n",
			ex->name);
		return r;
	}
	if (r < 0)
		return r;
	r = compare_json(ex, "(b)", json);
	free(json);
	return r;
}

static int
run_plain(struct bench *b, const struct cases_case *ex, uint64_t *ret_ns)
{
	uint64_t start_ns = sys_now_ns();
	int r = js_plain_eval(b->plain, ex->code, ex->code_len);
	uint64_t end_ns = sys_now_ns();
	if (r < 0) {
		fprintf(stderr, "bench_exec: %s: (b) the script failed\n",
			ex->name);
		return r;
	}
	*ret_ns = end_ns - start_ns;
	return 0;
}

/* ---- (c) the Beddel engine ------------------------------------------ */

/* The limits of the default profile (policies/profiles.yaml), so that (c)
 * does the work that (a) asks of a worker. */
#define BENCH_HEAP_LIMIT_BYTES (2u * 1024u * 1024u)

static struct js_request
engine_request(const struct cases_case *ex)
{
	return (struct js_request){
		.code = ex->code,
		.code_len = ex->code_len,
		.heap_limit_bytes = BENCH_HEAP_LIMIT_BYTES,
		.result_max_bytes = IPC_FRAME_MAX_DEFAULT,
	};
}

/* The engine's result is msgpack with no reader of its own: wrap it in a
 * result frame as a worker does, decode that as a client does, and print
 * the value as (a) is printed. */
static int
engine_value_json(const struct js_result *res, char **ret_json)
{
	struct proto_result wrap = {
		.outcome = OUTCOME_OK,
		.value_raw = res->value,
		.value_raw_len = res->value_len,
	};
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result view;
	const char *why;

	int r = proto_encode_result(&wrap, &f);
	if (r < 0)
		return r;
	size_t len = f.len - IPC_HEADER_BYTES;
	uint8_t *payload = malloc(len);
	if (payload)
		memcpy(payload, f.data + IPC_HEADER_BYTES, len);
	proto_frame_fini(&f);
	if (!payload)
		return -ENOMEM;

	/* proto_msg_decode() owns payload from here on, whatever happens. */
	r = proto_msg_decode(payload, len, &m, &why);
	if (r < 0)
		return r;
	r = proto_msg_result(m, &view, &why);
	char *json = r < 0 ? NULL : harness_value_json(view.value);
	proto_msg_free(m);
	if (r < 0)
		return r;
	if (!json)
		return -ENOMEM;
	*ret_json = json;
	return 0;
}

static int
report_engine_failure(const struct cases_case *ex, const struct js_result *res)
{
	fprintf(stderr, "bench_exec: %s: (c) failed: %s: %s\n", ex->name,
		outcome_name(res->outcome), res->message ? res->message : "");
	return -EBADMSG;
}

static int
check_engine(struct bench *b, const struct cases_case *ex)
{
	const struct js_request req = engine_request(ex);
	struct js_result res;
	char *json;

	int r = js_engine_run(b->engine, &req, &res);
	if (r < 0) {
		fprintf(stderr, "bench_exec: %s: (c) failed: %s\n", ex->name,
			strerror(-r));
		return r;
	}
	if (res.outcome != OUTCOME_OK)
		r = report_engine_failure(ex, &res);
	else
		r = engine_value_json(&res, &json);
	js_result_fini(&res);
	if (r < 0)
		return r;

	r = compare_json(ex, "(c)", json);
	free(json);
	return r;
}

static int
run_engine(struct bench *b, const struct cases_case *ex, uint64_t *ret_ns)
{
	const struct js_request req = engine_request(ex);
	struct js_result res;

	uint64_t start_ns = sys_now_ns();
	int r = js_engine_run(b->engine, &req, &res);
	uint64_t end_ns = sys_now_ns();
	if (r < 0) {
		fprintf(stderr, "bench_exec: %s: (c) failed: %s\n", ex->name,
			strerror(-r));
		return r;
	}
	if (res.outcome != OUTCOME_OK)
		r = report_engine_failure(ex, &res);
	js_result_fini(&res);
	if (r == 0)
		*ret_ns = end_ns - start_ns;
	return r;
}

/* ---- Measuring and printing ----------------------------------------- */

static const struct path paths[] = {
	{ "(a) supervisor", check_supervisor, run_supervisor },
	{ "(b) plain heap", check_plain, run_plain },
	{ "(c) js_engine", check_engine, run_engine },
	{ "(d) no monitor", check_quiet, run_quiet },
};

/* The supervisors log a line per execution into a pipe that only the
 * harness empties; a full pipe would stop them part way through a run.
 * Emptied between timed runs, never inside one. */
static void
drain_logs(struct bench *b)
{
	if (b->is_started)
		harness_drain_log(&b->h);
	if (b->is_quiet_started)
		harness_drain_log(&b->quiet);
}

/* Checks the example's result by path p, warms p up, then times
 * b->iterations runs into b->samples_ns. */
static int
measure(struct bench *b, const struct cases_case *ex, const struct path *p)
{
	uint64_t ns;
	int r;

	r = p->check(b, ex);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < BENCH_EXEC_WARMUP_RUNS; i++) {
		r = p->run(b, ex, &ns);
		if (r < 0)
			return r;
	}
	for (uint64_t i = 0; i < b->iterations; i++) {
		r = p->run(b, ex, &b->samples_ns[i]);
		if (r < 0)
			return r;
		if (i % BENCH_EXEC_LOG_DRAIN_RUNS == 0)
			drain_logs(b);
	}
	return 0;
}

static struct summary
summarize(uint64_t *samples_ns, size_t n)
{
	util_sort_u64(samples_ns, n);
	return (struct summary){
		.median_ns = util_quantile_sorted(samples_ns, n, 0.5),
		.p99_ns = util_quantile_sorted(samples_ns, n, 0.99),
	};
}

static double
us_of(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void
print_row(const struct cases_case *ex, const struct summary *s)
{
	printf("%-20s", ex->name);
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++) {
		printf(" %7.1f %7.1f", us_of(s[i].median_ns),
		       us_of(s[i].p99_ns));
	}
	/* The ratio is (a) over (b). The clock has nanosecond resolution
	 * and an eval takes hundreds of them, so only a broken clock gives a
	 * zero median. */
	if (s[1].median_ns == 0 || s[3].median_ns == 0)
		printf(" %7s %7s\n", "-", "-");
	else
		printf(" %7.1f %7.3f\n",
		       (double)s[0].median_ns / (double)s[1].median_ns,
		       (double)s[0].median_ns / (double)s[3].median_ns);
}

static int
bench_example(struct bench *b, const struct cases_case *ex)
{
	struct summary s[UTIL_ARRAY_SIZE(paths)];
	int r;

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++) {
		r = measure(b, ex, &paths[i]);
		if (r < 0)
			return r;
		s[i] = summarize(b->samples_ns, b->iterations);
	}
	drain_logs(b);
	print_row(ex, s);
	(void)fflush(stdout);
	return 0;
}

static void
print_header(const struct bench *b, int argc, char **argv)
{
	const char *worker = getenv("BEDDEL_WORKER");

	cli_print_command(argc, argv);
	printf("cores: %ld online, %ld configured\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
	printf("supervisor: %s, %d workers (the default), one connection, one request at a time\n",
	       harness_supervisor_path(), POOL_MIN_WORKERS_DEFAULT);
	printf("worker: %s\n", worker ? worker : "(found by the supervisor)");
	printf("examples: %s\n", b->examples_dir);
	printf("runs: %llu timed per example and path, after %u warm-up runs\n",
	       (unsigned long long)b->iterations, BENCH_EXEC_WARMUP_RUNS);
	printf("(a) supervisor: client round trip over its Unix socket\n");
	printf("(b) plain heap: in-process eval in one shared global environment, no isolation\n");
	printf("(c) js_engine: in-process js_engine_run, fresh global environment per run\n");
	printf("(d) no monitor: as (a), a supervisor with --no-monitor\n");
	printf("times in microseconds (CLOCK_MONOTONIC)\n\n");

	printf("%-20s", "");
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++)
		printf(" %15s", paths[i].label);
	printf(" %15s\n%-20s", "ratios", "example");
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++)
		printf(" %7s %7s", "median", "p99");
	printf(" %7s %7s\n", "a/b", "a/d");
	(void)fflush(stdout);
}

/* ---- Examples ------------------------------------------------------- */

/* ---- Set-up and tear-down ------------------------------------------- */

/* Starts the supervisor with the monitor (b->h) and the one with
 * --no-monitor (b->quiet), each with `workers` workers and the extra
 * arguments args (NULL-terminated, may be NULL; "--no-monitor" is added for
 * the second). */
static int
start_supervisors(struct bench *b, unsigned workers, const char *const *args)
{
	const char *quiet[8];
	size_t n = 0;
	int r;

	r = harness_start(&b->h, workers, args);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot start '%s': %s\n",
			harness_supervisor_path(), strerror(-r));
		return r;
	}
	b->is_started = true;

	for (; args && args[n] && n < UTIL_ARRAY_SIZE(quiet) - 2; n++)
		quiet[n] = args[n];
	quiet[n++] = "--no-monitor";
	quiet[n] = NULL;
	r = harness_start(&b->quiet, workers, quiet);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot start a second supervisor: %s\n",
			strerror(-r));
		return r;
	}
	b->is_quiet_started = true;
	return 0;
}

static int
bench_setup(struct bench *b)
{
	int r;

	b->samples_ns = calloc(b->iterations, sizeof(*b->samples_ns));
	b->plain = js_plain_new(false);
	b->engine = js_engine_new();
	if (!b->samples_ns || !b->plain || !b->engine)
		return -ENOMEM;

	/* The supervisor's default pool, as a user would run it. */
	r = start_supervisors(b, POOL_MIN_WORKERS_DEFAULT, NULL);
	if (r < 0)
		return r;

	b->fd = harness_connect(&b->h);
	if (b->fd < 0) {
		fprintf(stderr, "bench_exec: cannot connect to '%s': %s\n",
			b->h.socket, strerror(-b->fd));
		return b->fd;
	}
	b->quiet_fd = harness_connect(&b->quiet);
	return b->quiet_fd < 0 ? b->quiet_fd : 0;
}

/* Frees everything and stops the supervisor. Returns -ECHILD when the
 * supervisor did not stop cleanly. */
static int
bench_teardown(struct bench *b)
{
	int r = 0;

	if (b->fd >= 0)
		(void)close(b->fd);
	if (b->quiet_fd >= 0)
		(void)close(b->quiet_fd);
	if (b->is_quiet_started)
		(void)harness_stop(&b->quiet, BENCH_EXEC_STOP_TIMEOUT_MS);
	if (b->is_started) {
		int status = harness_stop(&b->h, BENCH_EXEC_STOP_TIMEOUT_MS);
		if (status < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_exec: the supervisor did not stop cleanly status=%d\n",
				status);
			r = -ECHILD;
		}
	}
	js_engine_free(b->engine);
	js_plain_free(b->plain);
	free(b->samples_ns);
	return r;
}

/* ---- Throughput (--throughput) -------------------------------------- */

/* The script of the throughput run: the smallest one that still runs the
 * whole path (request, worker, fresh environment, result). */
static char tp_name[] = "throughput";
static char tp_code[] = "1 + 1";
static char tp_expected[] = "2";
static const struct cases_case tp_example = {
	.name = tp_name,
	.code = tp_code,
	.code_len = sizeof(tp_code) - 1,
	.expected = tp_expected,
};

/* One connection of the closed loop, with the ids of its requests in
 * flight: replies on one connection may come back in any order, since its
 * requests run in different workers. */
struct tp_conn {
	int fd;
	unsigned in_flight;
	uint64_t ids[BENCH_TP_PIPELINE_MAX];
};

/* One supervisor under load, and what its timed rounds measured. */
struct tp_side {
	const char *label;
	struct harness *h;
	struct tp_conn *conns;
	struct pollfd *pfds;
	double *rates; /* requests per second, one per round */
	uint64_t requests;
	uint64_t wall_ns;
	uint64_t client_cpu_us;
	uint64_t supervisor_ticks; /* CPU of the supervisor process */
	uint64_t service_ticks;	   /* ...and of its workers */
};

struct throughput {
	const struct options *o;
	struct bench *b;
	struct tp_side sides[2]; /* [0] with the monitor, [1] without */
};

static int
tp_send(struct bench *b, struct tp_conn *c)
{
	uint64_t id = b->next_id;
	struct proto_frame f;

	int r = harness_exec_frame(id, tp_example.code, NULL, 0, &f);
	if (r < 0)
		return r;
	r = sys_write_all(c->fd, f.data, f.len);
	proto_frame_fini(&f);
	if (r < 0) {
		fprintf(stderr, "bench_exec: throughput: write failed: %s\n",
			strerror(-r));
		return r;
	}
	b->next_id++;
	c->ids[c->in_flight++] = id;
	return 0;
}

/* Removes the reply's id from the connection's requests in flight. */
static int
take_reply_id(struct tp_conn *c, const struct proto_result *res)
{
	for (unsigned i = 0; res->has_id && i < c->in_flight; i++) {
		if (c->ids[i] == res->id) {
			c->ids[i] = c->ids[--c->in_flight];
			return 0;
		}
	}
	fprintf(stderr, "bench_exec: throughput: a reply carries no id in flight on its connection\n");
	return -EBADMSG;
}

/* Reads one reply and checks it like every reply of (a): a failed or
 * wrong reply stops the run rather than counting as served. */
static int
tp_receive(struct tp_conn *c)
{
	struct proto_msg *m;
	struct proto_result res;

	int r = harness_read_result(c->fd, BENCH_EXEC_REPLY_TIMEOUT_MS, &m,
				    &res);
	if (r < 0) {
		fprintf(stderr, "bench_exec: throughput: read failed: %s\n",
			strerror(-r));
		return r;
	}
	r = take_reply_id(c, &res);
	if (r == 0)
		r = check_result(&tp_example, "(t)", &res);
	proto_msg_free(m);
	return r;
}

/* Waits for replies on the connections with requests in flight, and for
 * the supervisor's log. Returns how many fds are readable (0 on a
 * timeout) or -errno. */
static int
tp_poll(struct tp_side *s, unsigned n, int timeout_ms)
{
	int r;

	for (unsigned i = 0; i < n; i++) {
		s->pfds[i] = (struct pollfd){
			.fd = s->conns[i].in_flight ? s->conns[i].fd : -1,
			.events = POLLIN,
		};
	}
	/* The supervisor logs a line per execution; a full pipe would stop
	 * it in the middle of a round, with every request of the loop
	 * waiting on it. */
	s->pfds[n] = (struct pollfd){ .fd = s->h->log_fd, .events = POLLIN };
	do {
		r = poll(s->pfds, n + 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* Reads one reply on each connection that poll found readable and, when
 * is_refilled, sends a new request in its place: the closed loop. Empties
 * the log pipe when poll found it readable. Returns the replies read or
 * -errno. */
static int
tp_serve_ready(struct bench *b, struct tp_side *s, unsigned n,
	       bool is_refilled)
{
	int count = 0;
	int r;

	if (s->pfds[n].revents)
		harness_drain_log(s->h);
	for (unsigned i = 0; i < n; i++) {
		if (!(s->pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = tp_receive(&s->conns[i]);
		if (r < 0)
			return r;
		count++;
		if (!is_refilled)
			continue;
		r = tp_send(b, &s->conns[i]);
		if (r < 0)
			return r;
	}
	return count;
}

static bool
is_idle(const struct tp_side *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (s->conns[i].in_flight)
			return false;
	}
	return true;
}

/* Reads the replies still in flight after a round, uncounted, so that the
 * next round of either supervisor starts from an idle machine. */
static int
tp_drain(struct bench *b, struct tp_side *s, unsigned n)
{
	while (!is_idle(s, n)) {
		int r = tp_poll(s, n, BENCH_EXEC_REPLY_TIMEOUT_MS);
		if (r < 0)
			return r;
		if (r == 0) {
			fprintf(stderr, "bench_exec: throughput: no reply within %d ms\n",
				BENCH_EXEC_REPLY_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		r = tp_serve_ready(b, s, n, false);
		if (r < 0)
			return r;
	}
	return 0;
}

/* CPU time, in clock ticks, that pid has used and that its children it
 * has waited for used: fields 14 to 17 of /proc/PID/stat (proc(5)).
 * Returns 0 or -errno. */
static int
read_cpu_ticks(pid_t pid, uint64_t *ret_own, uint64_t *ret_reaped)
{
	char path[64], buf[1024];
	unsigned long long utime, stime;
	long long cutime, cstime;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';

	/* The command name may hold blanks and parentheses: skip past the
	 * last ')'. Then state, five ints, five unsigned, the four times. */
	const char *p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
		   &utime, &stime, &cutime, &cstime) != 4)
		return -EBADMSG;
	*ret_own = utime + stime;
	*ret_reaped = (uint64_t)(cutime + cstime);
	return 0;
}

/* The CPU time of a supervisor (ret_supervisor) and of the whole service
 * (ret_service): the supervisor, its live workers, and through its
 * children's times the workers it has reaped, so that a worker replaced
 * during a round is counted once. */
static void
read_service_ticks(const struct harness *h, uint64_t *ret_supervisor,
		   uint64_t *ret_service)
{
	pid_t pids[BENCH_TP_WORKERS_MAX * 2];
	uint64_t own = 0, reaped = 0, sum;

	(void)read_cpu_ticks(h->pid, &own, &reaped);
	sum = own + reaped;
	size_t n = harness_children(h, pids, UTIL_ARRAY_SIZE(pids));
	for (size_t i = 0; i < n; i++) {
		uint64_t child = 0, grandchildren = 0;

		(void)read_cpu_ticks(pids[i], &child, &grandchildren);
		sum += child + grandchildren;
	}
	*ret_supervisor = own;
	*ret_service = sum;
}

/* Runs one timed round of the closed loop against s: every connection
 * keeps o->pipeline requests in flight for o->round_ms. A reply that
 * arrives after the end is read but not counted. */
static int
tp_round(struct throughput *t, struct tp_side *s, double *ret_rate)
{
	const struct options *o = t->o;
	unsigned n = (unsigned)o->connections;
	uint64_t count = 0, sup_before, sup_after, svc_before, svc_after;
	int r = 0;

	read_service_ticks(s->h, &sup_before, &svc_before);
	uint64_t cpu_us = sys_cpu_us();
	uint64_t start_ns = sys_now_ns();
	uint64_t end_ns = start_ns + o->round_ms * 1000000u;
	for (unsigned i = 0; r == 0 && i < n; i++) {
		for (uint64_t k = 0; r == 0 && k < o->pipeline; k++)
			r = tp_send(t->b, &s->conns[i]);
	}

	uint64_t now_ns = sys_now_ns();
	while (r >= 0 && now_ns < end_ns) {
		int wait_ms = (int)((end_ns - now_ns + 999999u) / 1000000u);

		r = tp_poll(s, n, wait_ms);
		if (r > 0)
			r = tp_serve_ready(t->b, s, n, true);
		if (r > 0)
			count += (uint64_t)r;
		now_ns = sys_now_ns();
	}
	s->client_cpu_us += sys_cpu_us() - cpu_us;
	read_service_ticks(s->h, &sup_after, &svc_after);
	if (r >= 0)
		r = tp_drain(t->b, s, n);
	harness_drain_log(s->h);
	if (r < 0)
		return r;

	s->supervisor_ticks += sup_after - sup_before;
	s->service_ticks += svc_after - svc_before;
	s->requests += count;
	s->wall_ns += now_ns - start_ns;
	*ret_rate = (double)count * 1e9 / (double)(now_ns - start_ns);
	return 0;
}

/* The median of n values (the mean of the middle two when n is even);
 * sorts a copy, so values keeps its order. */
static double
median_of(const double *values, size_t n, double *scratch)
{
	memcpy(scratch, values, n * sizeof(*values));
	util_sort_double(scratch, n);
	if (n % 2)
		return scratch[n / 2];
	return (scratch[n / 2 - 1] + scratch[n / 2]) / 2.0;
}

static void
tp_side_reset(struct tp_side *s)
{
	s->requests = 0;
	s->wall_ns = 0;
	s->client_cpu_us = 0;
	s->supervisor_ticks = 0;
	s->service_ticks = 0;
}

/* Rounds that are not counted, both supervisors in turn, until (a) has
 * recorded a whole history (MONITOR_HISTORY_DEFAULT executions): its
 * statistics then cover as many records as those of a supervisor that
 * has served a while. */
static int
tp_warm_up(struct throughput *t)
{
	unsigned rounds = 0;
	double rate;
	int r;

	while (t->sides[0].requests < MONITOR_HISTORY_DEFAULT) {
		for (size_t k = 0; k < 2; k++) {
			r = tp_round(t, &t->sides[k], &rate);
			if (r < 0)
				return r;
		}
		rounds++;
	}
	printf("warm-up: %u rounds each, %llu requests through (a)\n\n",
	       rounds, (unsigned long long)t->sides[0].requests);
	tp_side_reset(&t->sides[0]);
	tp_side_reset(&t->sides[1]);
	return 0;
}

/* Round i runs both supervisors back to back, the one with the monitor
 * first in even rounds and second in odd ones (a d, d a...), so that
 * machine noise, and a drift of the machine's speed within a round, hit
 * both alike. */
static int
tp_run_rounds(struct throughput *t)
{
	int r;

	r = tp_warm_up(t);
	if (r < 0)
		return r;

	printf("%5s  %-5s %14s %14s %8s\n", "round", "order", "(a) monitor",
	       "(d) no monitor", "a/d");
	for (uint64_t i = 0; i < t->o->rounds; i++) {
		for (size_t k = 0; k < 2; k++) {
			struct tp_side *s = &t->sides[(i % 2) ^ k];

			r = tp_round(t, s, &s->rates[i]);
			if (r < 0)
				return r;
		}
		printf("%5llu  %-5s %14.0f %14.0f %8.4f\n",
		       (unsigned long long)i + 1, i % 2 ? "d a" : "a d",
		       t->sides[0].rates[i], t->sides[1].rates[i],
		       t->sides[0].rates[i] / t->sides[1].rates[i]);
		(void)fflush(stdout);
	}
	return 0;
}

/* Microseconds of CPU per request, from clock ticks. */
static double
cpu_us_per_request(uint64_t ticks, uint64_t requests)
{
	double tick_us = 1e6 / (double)sysconf(_SC_CLK_TCK);

	return (double)ticks * tick_us / (double)(requests ? requests : 1);
}

static void
tp_print_costs(const struct tp_side *s)
{
	printf("%s: %llu requests in %.1f s; CPU per request: supervisor %.1f us, with its workers %.1f us; client %.0f %% of a core\n",
	       s->label, (unsigned long long)s->requests,
	       (double)s->wall_ns / 1e9,
	       cpu_us_per_request(s->supervisor_ticks, s->requests),
	       cpu_us_per_request(s->service_ticks, s->requests),
	       100.0 * (double)s->client_cpu_us * 1000.0 / (double)s->wall_ns);
}

/* CPU per request of a over that of d, as a percentage more. */
static double
cpu_more_pct(uint64_t a_ticks, uint64_t a_requests, uint64_t d_ticks,
	     uint64_t d_requests)
{
	return 100.0 * (cpu_us_per_request(a_ticks, a_requests) /
				cpu_us_per_request(d_ticks, d_requests) -
			1.0);
}

static void
tp_print_summary(const struct throughput *t)
{
	size_t n = (size_t)t->o->rounds;
	double scratch[BENCH_TP_ROUNDS_MAX];
	double ratios[BENCH_TP_ROUNDS_MAX];

	double with = median_of(t->sides[0].rates, n, scratch);
	double without = median_of(t->sides[1].rates, n, scratch);
	for (size_t i = 0; i < n; i++)
		ratios[i] = t->sides[0].rates[i] / t->sides[1].rates[i];
	double paired = median_of(ratios, n, scratch);
	util_sort_double(ratios, n);

	printf("%-12s %14.0f %14.0f %8.4f\n\n", "median", with, without,
	       with / without);
	printf("monitor overhead on throughput: %.2f %% (1 - median a / median d)\n",
	       100.0 * (1.0 - with / without));
	printf("per-round ratio a/d: median %.4f (overhead %.2f %%), min %.4f, max %.4f (overhead %.2f %% to %.2f %%)\n",
	       paired, 100.0 * (1.0 - paired), ratios[0], ratios[n - 1],
	       100.0 * (1.0 - ratios[n - 1]), 100.0 * (1.0 - ratios[0]));
	tp_print_costs(&t->sides[0]);
	tp_print_costs(&t->sides[1]);

	/* What the monitor costs in CPU, which other load on the machine
	 * moves less than it moves requests per second: on a machine whose
	 * cores the service keeps busy, throughput falls by about the
	 * second share. */
	const struct tp_side *a = &t->sides[0], *d = &t->sides[1];
	printf("CPU per request, a over d: supervisor %+.1f %%, supervisor and workers %+.1f %%\n",
	       cpu_more_pct(a->supervisor_ticks, a->requests,
			    d->supervisor_ticks, d->requests),
	       cpu_more_pct(a->service_ticks, a->requests, d->service_ticks,
			    d->requests));
}

static void
tp_print_header(const struct options *o, int argc, char **argv)
{
	cli_print_command(argc, argv);
	printf("cores: %ld online, %ld configured\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
	printf("supervisor: %s --workers %llu --max-workers %llu\n",
	       harness_supervisor_path(), (unsigned long long)o->workers,
	       (unsigned long long)o->workers);
	printf("(a) monitor: as above; (d) no monitor: the same with --no-monitor\n");
	printf("load: closed loop of %llu connections from this process, %llu requests in flight on each, script '%s'\n",
	       (unsigned long long)o->connections,
	       (unsigned long long)o->pipeline, tp_example.code);
	printf("rounds: %llu of %llu ms per supervisor, order a d, d a, a d..., after warm-up rounds that fill the monitor's history (%u records)\n",
	       (unsigned long long)o->rounds, (unsigned long long)o->round_ms,
	       (unsigned)MONITOR_HISTORY_DEFAULT);
	printf("figures in requests per second; the client shares the cores\n");
	(void)fflush(stdout);
}

static int
tp_connect(struct throughput *t, struct tp_side *s)
{
	size_t n = (size_t)t->o->connections;

	s->conns = calloc(n, sizeof(*s->conns));
	s->pfds = calloc(n + 1, sizeof(*s->pfds)); /* and the log */
	s->rates = calloc((size_t)t->o->rounds, sizeof(*s->rates));
	if (!s->conns || !s->pfds || !s->rates)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->conns[i].fd = -1;
	for (size_t i = 0; i < n; i++) {
		s->conns[i].fd = harness_connect(s->h);
		if (s->conns[i].fd < 0) {
			fprintf(stderr, "bench_exec: cannot connect to '%s': %s\n",
				s->h->socket, strerror(-s->conns[i].fd));
			return s->conns[i].fd;
		}
	}
	return 0;
}

static void
tp_side_fini(struct tp_side *s, size_t n)
{
	for (size_t i = 0; s->conns && i < n; i++) {
		if (s->conns[i].fd >= 0)
			(void)close(s->conns[i].fd);
	}
	free(s->conns);
	free(s->pfds);
	free(s->rates);
}

/* --throughput: requests per second of a supervisor with the monitor and
 * one without, under the same closed-loop load, and the monitor's
 * overhead as the difference of their medians. */
static int
bench_throughput(struct bench *b, const struct options *o, int argc,
		 char **argv)
{
	char workers[24];
	struct throughput t = {
		.o = o,
		.b = b,
		.sides = { { .label = "(a) monitor", .h = &b->h },
			   { .label = "(d) no monitor", .h = &b->quiet } },
	};
	int r;

	/* The pool must not grow under the load: both keep o->workers. */
	(void)snprintf(workers, sizeof(workers), "%llu",
		       (unsigned long long)o->workers);
	const char *const args[] = { "--max-workers", workers, NULL };

	tp_print_header(o, argc, argv);
	r = start_supervisors(b, (unsigned)o->workers, args);
	for (size_t k = 0; r == 0 && k < 2; k++)
		r = tp_connect(&t, &t.sides[k]);
	if (r == 0)
		r = tp_run_rounds(&t);
	if (r == 0)
		tp_print_summary(&t);
	for (size_t k = 0; k < 2; k++)
		tp_side_fini(&t.sides[k], (size_t)o->connections);
	return r;
}

/* ---- Arguments ------------------------------------------------------ */

/* The numeric options, each a field of struct options with its range. */
static const struct cli_number number_options[] = {
	{ "iterations", offsetof(struct options, iterations), 1, BENCH_EXEC_ITERATIONS_MAX },
	{ "rounds", offsetof(struct options, rounds), 1, BENCH_TP_ROUNDS_MAX },
	{ "round-ms", offsetof(struct options, round_ms), 10, BENCH_TP_ROUND_MS_MAX },
	{ "connections", offsetof(struct options, connections), 1, BENCH_TP_CONNECTIONS_MAX },
	{ "pipeline", offsetof(struct options, pipeline), 1, BENCH_TP_PIPELINE_MAX },
	{ "workers", offsetof(struct options, workers), 1, BENCH_TP_WORKERS_MAX },
};

enum {
	OPT_THROUGHPUT = 't',
};

static const struct option text_options[] = {
	{ "throughput", no_argument, NULL, OPT_THROUGHPUT },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_exec [--iterations N]\n"
		"       bench_exec --throughput [--rounds N] [--round-ms MS] [--connections N]\n"
		"                  [--pipeline N] [--workers N]\n"
		"Times each example of examples/ (or $BEDDEL_EXAMPLES) through a supervisor\n"
		"($BEDDEL_SUPERVISOR), a plain Duktape heap and the engine; or, with\n"
		"--throughput, compares the requests per second of a supervisor with the\n"
		"monitor and one with --no-monitor under the same closed-loop load.\n"
		"\n"
		"  --iterations N   timed runs per example and path (default: %d)\n"
		"  --throughput     measure throughput instead, with these:\n"
		"  --rounds N       timed rounds per supervisor (default: %d)\n"
		"  --round-ms MS    length of a round (default: %d)\n"
		"  --connections N  concurrent client connections (default: %d)\n"
		"  --pipeline N     requests in flight on each connection (default: %d)\n"
		"  --workers N      workers of each supervisor, also its --max-workers\n"
		"                   (default: the online cores)\n"
		"  --help           show this help\n",
		BENCH_EXEC_ITERATIONS_DEFAULT, BENCH_TP_ROUNDS_DEFAULT,
		BENCH_TP_ROUND_MS_DEFAULT, BENCH_TP_CONNECTIONS_DEFAULT,
		BENCH_TP_PIPELINE_DEFAULT);
}

static int
take_option(int opt, const char *arg, void *opts)
{
	struct options *o = opts;

	(void)arg;
	if (opt == OPT_THROUGHPUT)
		o->is_throughput = true;
	return 0;
}

static const struct cli_spec cli = CLI_SPEC("bench_exec", text_options,
						 number_options, take_option,
						 usage);

/* The latency table: every example by every path. */
static int
bench_latency(struct bench *b, int argc, char **argv)
{
	struct cases_set examples = { 0 };
	int r;

	b->examples_dir = harness_examples_dir();
	r = cases_load_dir(&examples, b->examples_dir, NULL);
	if (r < 0) {
		fprintf(stderr,
			"bench_exec: no examples loaded from '%s': %s\n",
			b->examples_dir, strerror(-r));
		return r;
	}

	print_header(b, argc, argv);
	r = bench_setup(b);
	for (size_t i = 0; r == 0 && i < examples.count; i++)
		r = bench_example(b, &examples.items[i]);
	cases_free(&examples);
	return r;
}

int
main(int argc, char **argv)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct options o = {
		.iterations = BENCH_EXEC_ITERATIONS_DEFAULT,
		.rounds = BENCH_TP_ROUNDS_DEFAULT,
		.round_ms = BENCH_TP_ROUND_MS_DEFAULT,
		.connections = BENCH_TP_CONNECTIONS_DEFAULT,
		.pipeline = BENCH_TP_PIPELINE_DEFAULT,
		.workers = cores > 0 ? (uint64_t)cores : 1,
	};
	struct bench b = {
		.fd = -1,
		.quiet_fd = -1,
		.next_id = 1,
	};
	int r;

	if (cli_parse(&cli, argc, argv, &o) < 0)
		return BENCH_EXEC_EXIT_USAGE;
	b.iterations = o.iterations;
	/* A supervisor that dies mid-run must fail the write with EPIPE, not
	 * kill the bench before it stops what it started. */
	(void)signal(SIGPIPE, SIG_IGN);

	if (o.is_throughput)
		r = bench_throughput(&b, &o, argc, argv);
	else
		r = bench_latency(&b, argc, argv);
	int stop_r = bench_teardown(&b);
	return r < 0 || stop_r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
