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
 * (a) minus (c) is what the process boundary, the protocol and the pool
 * cost; (c) minus (b) is what the per-execution isolation of the engine
 * costs. Every path's result is compared with NAME.expected, and a wrong
 * one fails the run (exit 1). The figures are printed, never asserted.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
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
#include "supervisor/pool.h"
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
/* Largest script or expected-result file read; a bigger script would not
 * fit in a request frame of the supervisor's default size anyway. */
#define BENCH_EXEC_FILE_MAX_BYTES IPC_FRAME_MAX_DEFAULT
#define BENCH_EXEC_EXIT_USAGE 2

struct example {
	char *name;
	char *code; /* NUL-terminated; code_len is its strlen() */
	size_t code_len;
	char *expected; /* JSON, trailing white space removed */
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
typedef int (*check_fn)(struct bench *b, const struct example *ex);
typedef int (*run_fn)(struct bench *b, const struct example *ex,
		      uint64_t *ret_ns);

struct path {
	const char *label;
	check_fn check;
	run_fn run;
};

static int
compare_json(const struct example *ex, const char *path, const char *json)
{
	if (strcmp(json, ex->expected) == 0)
		return 0;
	fprintf(stderr, "bench_exec: %s: %s returned %s, expected %s\n",
		ex->name, path, json, ex->expected);
	return -EBADMSG;
}

/* ---- (a) the supervisor --------------------------------------------- */

static int
check_reply(const struct example *ex, const struct proto_result *res,
	    uint64_t id)
{
	if (!res->has_id || res->id != id) {
		fprintf(stderr, "bench_exec: %s: (a) reply does not carry request id %llu\n",
			ex->name, (unsigned long long)id);
		return -EBADMSG;
	}
	if (res->outcome != OUTCOME_OK) {
		fprintf(stderr, "bench_exec: %s: (a) failed: %s: %.*s\n",
			ex->name, outcome_name(res->outcome),
			(int)res->message_len,
			res->message ? res->message : "");
		return -EBADMSG;
	}

	char *json = harness_value_json(res->value);
	if (!json)
		return -ENOMEM;
	int r = compare_json(ex, "(a)", json);
	free(json);
	return r;
}

/* Every reply is checked, outside the timed span. */
static int
round_trip(struct bench *b, int fd, const struct example *ex, uint64_t *ret_ns)
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
run_supervisor(struct bench *b, const struct example *ex, uint64_t *ret_ns)
{
	return round_trip(b, b->fd, ex, ret_ns);
}

static int
check_supervisor(struct bench *b, const struct example *ex)
{
	uint64_t ns;

	return run_supervisor(b, ex, &ns);
}

/* The same through a supervisor that records nothing (--no-monitor): (a)
 * over (d) is what the monitor costs a round trip. */
static int
run_quiet(struct bench *b, const struct example *ex, uint64_t *ret_ns)
{
	return round_trip(b, b->quiet_fd, ex, ret_ns);
}

static int
check_quiet(struct bench *b, const struct example *ex)
{
	uint64_t ns;

	return run_quiet(b, ex, &ns);
}

/* ---- (b) the plain heap --------------------------------------------- */

static int
check_plain(struct bench *b, const struct example *ex)
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
run_plain(struct bench *b, const struct example *ex, uint64_t *ret_ns)
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
engine_request(const struct example *ex)
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
report_engine_failure(const struct example *ex, const struct js_result *res)
{
	fprintf(stderr, "bench_exec: %s: (c) failed: %s: %s\n", ex->name,
		outcome_name(res->outcome), res->message ? res->message : "");
	return -EBADMSG;
}

static int
check_engine(struct bench *b, const struct example *ex)
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
run_engine(struct bench *b, const struct example *ex, uint64_t *ret_ns)
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

/* Checks the example's result by path p, warms p up, then times
 * b->iterations runs into b->samples_ns. */
static int
measure(struct bench *b, const struct example *ex, const struct path *p)
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
print_row(const struct example *ex, const struct summary *s)
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
bench_example(struct bench *b, const struct example *ex)
{
	struct summary s[UTIL_ARRAY_SIZE(paths)];
	int r;

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(paths); i++) {
		r = measure(b, ex, &paths[i]);
		if (r < 0)
			return r;
		s[i] = summarize(b->samples_ns, b->iterations);
	}
	/* The supervisors' stderr is a pipe that only the harness empties. */
	harness_drain_log(&b->h);
	harness_drain_log(&b->quiet);
	print_row(ex, s);
	(void)fflush(stdout);
	return 0;
}

/* True when s can be pasted into a shell as it is. */
static bool
is_plain_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isalnum((unsigned char)*s) && !strchr("_./=-", *s))
			return false;
	}
	return true;
}

static void
print_command(int argc, char **argv)
{
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(is_plain_word(argv[i]) ? " %s" : " '%s'", argv[i]);
	printf("\n");
}

static void
print_header(const struct bench *b, int argc, char **argv)
{
	const char *worker = getenv("BEDDEL_WORKER");

	print_command(argc, argv);
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

/* Reads a whole regular file into a new NUL-terminated buffer. */
static int
read_text(const char *path, char **ret_text)
{
	struct stat st;
	char *text = NULL;
	int r;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > BENCH_EXEC_FILE_MAX_BYTES) {
		r = -EFBIG;
		goto out_close;
	}

	size_t len = (size_t)st.st_size;
	text = malloc(len + 1);
	if (!text) {
		r = -ENOMEM;
		goto out_close;
	}
	r = len ? sys_read_exact(fd, text, len, -1) : 0;
	if (r >= 0 && (size_t)r != len)
		r = -EPIPE; /* the file shrank while being read */
	if (r < 0)
		goto out_close;

	text[len] = '\0';
	*ret_text = text;
	text = NULL;
	r = 0;

out_close:
	free(text);
	(void)close(fd);
	return r;
}

static void
trim_end(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
}

static int
load_example(const char *dir, const char *file, struct example *ex)
{
	char path[4096];
	int r;

	ex->name = strndup(file, strlen(file) - strlen(".js"));
	if (!ex->name)
		return -ENOMEM;
	(void)snprintf(path, sizeof(path), "%s/%s", dir, file);
	r = read_text(path, &ex->code);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot read '%s': %s\n", path,
			strerror(-r));
		return r;
	}
	ex->code_len = strlen(ex->code);

	(void)snprintf(path, sizeof(path), "%s/%s.expected", dir, ex->name);
	r = read_text(path, &ex->expected);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot read '%s': %s\n", path,
			strerror(-r));
		return r;
	}
	trim_end(ex->expected);
	return 0;
}

static int
is_script(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > strlen(".js") && strcmp(e->d_name + n - 3, ".js") == 0;
}

static void
free_examples(struct example *examples, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(examples[i].name);
		free(examples[i].code);
		free(examples[i].expected);
	}
	free(examples);
}

/* Loads every NAME.js of dir, in name order, with its NAME.expected. */
static int
load_examples(const char *dir, struct example **ret, size_t *ret_count)
{
	struct dirent **files;
	int r = 0;

	int n = scandir(dir, &files, is_script, alphasort);
	if (n < 0)
		return -errno;
	struct example *examples = calloc((size_t)n + 1, sizeof(*examples));
	for (int i = 0; i < n; i++) {
		if (examples && r == 0)
			r = load_example(dir, files[i]->d_name, &examples[i]);
		free(files[i]);
	}
	free(files);
	if (!examples)
		return -ENOMEM;
	if (r == 0 && n == 0)
		r = -ENOENT;
	if (r < 0) {
		free_examples(examples, (size_t)n);
		return r;
	}
	*ret = examples;
	*ret_count = (size_t)n;
	return 0;
}

/* ---- Set-up and tear-down ------------------------------------------- */

static int
bench_setup(struct bench *b)
{
	int r;

	b->samples_ns = calloc(b->iterations, sizeof(*b->samples_ns));
	b->plain = js_plain_new();
	b->engine = js_engine_new();
	if (!b->samples_ns || !b->plain || !b->engine)
		return -ENOMEM;

	/* The supervisor's default pool, as a user would run it. */
	r = harness_start(&b->h, POOL_MIN_WORKERS_DEFAULT, NULL);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot start '%s': %s\n",
			harness_supervisor_path(), strerror(-r));
		return r;
	}
	b->is_started = true;

	b->fd = harness_connect(&b->h);
	if (b->fd < 0) {
		fprintf(stderr, "bench_exec: cannot connect to '%s': %s\n",
			b->h.socket, strerror(-b->fd));
		return b->fd;
	}

	static const char *const quiet[] = { "--no-monitor", NULL };
	r = harness_start(&b->quiet, POOL_MIN_WORKERS_DEFAULT, quiet);
	if (r < 0) {
		fprintf(stderr, "bench_exec: cannot start a second supervisor: %s\n",
			strerror(-r));
		return r;
	}
	b->is_quiet_started = true;
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

/* ---- Arguments ------------------------------------------------------ */

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: bench_exec [--iterations N]\n"
		"Times each example of examples/ (or $BEDDEL_EXAMPLES) through a supervisor\n"
		"($BEDDEL_SUPERVISOR), a plain Duktape heap and the engine.\n"
		"\n"
		"  --iterations N   timed runs per example and path\n"
		"                   (default: %d)\n"
		"  --help           show this help\n",
		BENCH_EXEC_ITERATIONS_DEFAULT);
}

static int
parse_args(int argc, char **argv, uint64_t *iterations)
{
	static const struct option options[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			r = util_parse_u64(optarg, 1, BENCH_EXEC_ITERATIONS_MAX,
					   iterations);
			if (r < 0) {
				fprintf(stderr, "bench_exec: --iterations wants a count from 1 to %d, not '%s'\n",
					BENCH_EXEC_ITERATIONS_MAX, optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bench_exec: unexpected argument '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct bench b = {
		.iterations = BENCH_EXEC_ITERATIONS_DEFAULT,
		.fd = -1,
		.quiet_fd = -1,
		.next_id = 1,
	};
	struct example *examples = NULL;
	size_t count = 0;
	int r;

	if (parse_args(argc, argv, &b.iterations) < 0)
		return BENCH_EXEC_EXIT_USAGE;
	b.examples_dir = harness_examples_dir();
	r = load_examples(b.examples_dir, &examples, &count);
	if (r < 0) {
		fprintf(stderr,
			"bench_exec: no examples loaded from '%s': %s\n",
			b.examples_dir, strerror(-r));
		return EXIT_FAILURE;
	}
	/* A supervisor that dies mid-run must fail the write with EPIPE, not
	 * kill the bench before it stops what it started. */
	(void)signal(SIGPIPE, SIG_IGN);

	print_header(&b, argc, argv);
	r = bench_setup(&b);
	for (size_t i = 0; r == 0 && i < count; i++)
		r = bench_example(&b, &examples[i]);
	int stop_r = bench_teardown(&b);
	free_examples(examples, count);
	return r < 0 || stop_r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
