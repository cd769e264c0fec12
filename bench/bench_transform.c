/* SPDX-License-Identifier: MIT */
/*
 * What ES2015+ support costs, printed, never asserted:
 *   1. lowering in-process: a transform engine's time and heap per script;
 *   2. through a supervisor: an ES2015+ script's round trip when it must
 *      be lowered (each source new: a cache miss) and when it is cached;
 *   3. the round trip of an ES5 script with the transform on and off,
 *      two supervisors measured in alternating rounds;
 *   4. the prelude: a script that names Map against one that names
 *      nothing, in-process;
 *   5. large sources: the time and heap of lowering 1 000 and 3 000
 *      `let` declarations, for the size the transform's heap allows.
 * Medians, in microseconds. Usage: bench_transform [--iterations N]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "tests/helpers/harness.h"
#include "worker/js.h"

#define BENCH_ROUNDS 10
#define BENCH_TENANT "bench"
/* A tenant of its own for section 3, so that both supervisors serve it
 * with workers that have run nothing else: a worker that ran big scripts
 * takes longer to clear its heap between requests. */
#define BENCH_ES5_TENANT "es5"

static const struct modern_case {
	const char *name;
	const char *code;
} cases[] = {
	{ "arrow-map-reduce",
	  "[1,2,3,4,5].map(x => x * 2).reduce((a, b) => a + b, 0)" },
	{ "let-loop", "let sum = 0; for (let i = 0; i < 1000; i++) { sum += i; } sum" },
	{ "class-template",
	  "class P { constructor(n) { this.n = n; } get hi() { return `hi ${this.n}`; } } new P('x').hi" },
	{ "destructure-spread",
	  "const { a, ...rest } = { a: 1, b: 2, c: 3 }; [...Object.keys(rest), a]" },
	{ "async-await",
	  "async function f(x) { return (await Promise.resolve(x)) * 2; } f(21)" },
};

static uint64_t
median_us(uint64_t *ns, size_t n)
{
	util_sort_u64(ns, n);
	return util_quantile_sorted(ns, n, 0.5) / 1000;
}

/* One request's round trip on fd, in ns; 0 when it failed. */
static uint64_t
round_trip(int fd, const char *tenant, const char *code,
	   enum outcome *ret_kind)
{
	struct proto_msg *m;
	struct proto_result res;
	uint64_t start = sys_now_ns();

	if (harness_exec_for(fd, 1, tenant, code, &m, &res) < 0)
		return 0;
	uint64_t ns = sys_now_ns() - start;
	*ret_kind = res.outcome;
	proto_msg_free(m);
	return ns;
}

static int
lower_in_process(size_t iterations)
{
	struct js_engine *e = js_engine_new_transform();
	uint64_t *ns = calloc(iterations, sizeof(*ns));

	if (!e || !ns)
		return -ENOMEM;
	printf("1. lowering in a transform engine, in-process\n");
	printf("%-20s %10s %14s\n", "script", "median us", "heap peak B");
	for (size_t c = 0; c < UTIL_ARRAY_SIZE(cases); c++) {
		uint64_t peak = 0;
		for (size_t i = 0; i < iterations; i++) {
			const struct js_request req = {
				.code = cases[c].code,
				.code_len = strlen(cases[c].code),
				.timeout_ms = 10000,
				.heap_limit_bytes = 64u << 20,
				.result_max_bytes = IPC_FRAME_MAX_DEFAULT,
			};
			struct js_result res;
			uint64_t start = sys_now_ns();
			if (js_engine_run(e, &req, &res) < 0 ||
			    res.outcome != OUTCOME_OK) {
				fprintf(stderr, "bench_transform: %s: not lowered\n",
					cases[c].name);
				return -EINVAL;
			}
			ns[i] = sys_now_ns() - start;
			peak = res.heap_peak_bytes;
			js_result_fini(&res);
			(void)js_engine_idle(e);
		}
		printf("%-20s %10llu %14llu\n", cases[c].name,
		       (unsigned long long)median_us(ns, iterations),
		       (unsigned long long)peak);
	}
	free(ns);
	js_engine_free(e);
	return 0;
}

/* Round trips of each case through h: sources made new by a comment
 * (every one a cache miss), then the same source again (hits). */
static int
through_supervisor(struct harness *h, size_t iterations)
{
	uint64_t *miss = calloc(iterations, sizeof(*miss));
	uint64_t *hit = calloc(iterations, sizeof(*hit));
	int fd = harness_connect(h);
	enum outcome kind = OUTCOME_INTERNAL;

	if (!miss || !hit || fd < 0)
		return -ENOMEM;
	printf("\n2. an ES2015+ script through a supervisor (--transform-workers-max 1)\n");
	printf("%-20s %12s %12s\n", "script", "lowered us", "cached us");
	for (size_t c = 0; c < UTIL_ARRAY_SIZE(cases); c++) {
		char code[512];
		for (size_t i = 0; i < iterations; i++) {
			(void)snprintf(code, sizeof(code), "%s\n// %zu",
				       cases[c].code, i);
			miss[i] = round_trip(fd, BENCH_TENANT, code, &kind);
			if (!miss[i] || kind != OUTCOME_OK)
				return -EIO;
		}
		for (size_t i = 0; i < iterations; i++) {
			hit[i] = round_trip(fd, BENCH_TENANT, code, &kind);
			if (!hit[i] || kind != OUTCOME_OK)
				return -EIO;
		}
		printf("%-20s %12llu %12llu\n", cases[c].name,
		       (unsigned long long)median_us(miss, iterations),
		       (unsigned long long)median_us(hit, iterations));
	}
	(void)close(fd);
	free(miss);
	free(hit);
	return 0;
}

/* ES5 round trips on two supervisors, in alternating rounds. */
static int
es5_on_and_off(struct harness *on, struct harness *off, size_t iterations)
{
	struct harness *sides[2] = { on, off };
	size_t per_round = iterations / BENCH_ROUNDS + 1;
	size_t n = per_round * BENCH_ROUNDS;
	uint64_t *ns[2] = { calloc(n, sizeof(uint64_t)),
			    calloc(n, sizeof(uint64_t)) };
	int fds[2] = { harness_connect(on), harness_connect(off) };
	enum outcome kind = OUTCOME_INTERNAL;

	if (!ns[0] || !ns[1] || fds[0] < 0 || fds[1] < 0)
		return -ENOMEM;
	for (size_t r = 0; r < BENCH_ROUNDS; r++) {
		for (int s = 0; s < 2; s++) {
			for (size_t i = 0; i < per_round; i++) {
				uint64_t t = round_trip(fds[s], BENCH_ES5_TENANT,
							"1 + 1", &kind);
				if (!t || kind != OUTCOME_OK)
					return -EIO;
				ns[s][r * per_round + i] = t;
			}
		}
	}
	uint64_t m_on = median_us(ns[0], n), m_off = median_us(ns[1], n);
	printf("\n3. an ES5 script ('1 + 1') with the transform on and off, %d alternating rounds\n",
	       BENCH_ROUNDS);
	printf("transform on: %llu us, off: %llu us, on/off: %.3f\n",
	       (unsigned long long)m_on, (unsigned long long)m_off,
	       m_off ? (double)m_on / (double)m_off : 0.0);
	(void)sides;
	for (int s = 0; s < 2; s++) {
		(void)close(fds[s]);
		free(ns[s]);
	}
	return 0;
}

static int
prelude_cost(size_t iterations)
{
	static const char *const scripts[] = { "var m = {}; m.a = 1; 1",
					       "var m = new Map(); m.set('a', 1); 1" };
	struct js_engine *e = js_engine_new();
	uint64_t *ns = calloc(iterations, sizeof(*ns));

	if (!e || !ns)
		return -ENOMEM;
	printf("\n4. the prelude, in-process (engine time of one execution)\n");
	for (size_t s = 0; s < UTIL_ARRAY_SIZE(scripts); s++) {
		for (size_t i = 0; i < iterations; i++) {
			const struct js_request req = {
				.code = scripts[s],
				.code_len = strlen(scripts[s]),
				.timeout_ms = 10000,
				.heap_limit_bytes = 2u << 20,
				.result_max_bytes = 4096,
			};
			struct js_result res;
			uint64_t start = sys_now_ns();
			if (js_engine_run(e, &req, &res) < 0 ||
			    res.outcome != OUTCOME_OK)
				return -EINVAL;
			ns[i] = sys_now_ns() - start;
			js_result_fini(&res);
			(void)js_engine_idle(e);
		}
		printf("%-40s %6llu us\n", scripts[s],
		       (unsigned long long)median_us(ns, iterations));
	}
	free(ns);
	js_engine_free(e);
	return 0;
}

/* Lowers n `let` declarations once; prints the time and the heap. */
static int
lower_large(struct js_engine *e, unsigned n)
{
	size_t size = (size_t)n * 32u + 1;
	char *code = malloc(size);
	size_t len = 0;

	if (!code)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(code + len, size - len,
					"let v%u = %u;\n", i, i);
	const struct js_request req = {
		.code = code,
		.code_len = len,
		.timeout_ms = 60000,
		.heap_limit_bytes = 1u << 30,
		.result_max_bytes = 16u << 20,
	};
	struct js_result res;
	uint64_t start = sys_now_ns();
	int r = js_engine_run(e, &req, &res);
	if (r == 0) {
		printf("%5u lets, %7zu bytes: %s, %llu ms, heap peak %llu bytes\n",
		       n, len, outcome_name(res.outcome),
		       (unsigned long long)((sys_now_ns() - start) / 1000000u),
		       (unsigned long long)res.heap_peak_bytes);
		js_result_fini(&res);
		(void)js_engine_idle(e);
	}
	free(code);
	return r;
}

static int
large_sources(void)
{
	struct js_engine *e = js_engine_new_transform();
	int r = e ? 0 : -ENOMEM;

	printf("\n5. large sources, lowered in-process without a heap cap\n");
	if (r == 0)
		r = lower_large(e, 1000);
	if (r == 0)
		r = lower_large(e, 3000);
	js_engine_free(e);
	return r;
}

int
main(int argc, char **argv)
{
	static const char *const on_args[] = { "--transform-workers-max", "1",
					       NULL };
	struct harness on, off;
	uint64_t iterations = 200;

	if (argc == 3 && strcmp(argv[1], "--iterations") == 0) {
		if (util_parse_u64(argv[2], 1, 1000000, &iterations) < 0)
			return 2;
	} else if (argc != 1) {
		fprintf(stderr, "usage: bench_transform [--iterations N]\n");
		return 2;
	}
	printf("command: %s%s%s, %ld cores\n\n", argv[0],
	       argc == 3 ? " --iterations " : "", argc == 3 ? argv[2] : "",
	       sysconf(_SC_NPROCESSORS_ONLN));
	int r = lower_in_process(iterations);
	if (r == 0 && (harness_start(&on, 1, on_args) < 0 ||
		       harness_start(&off, 1, NULL) < 0))
		r = -EIO;
	if (r == 0)
		r = through_supervisor(&on, iterations);
	if (r == 0)
		r = es5_on_and_off(&on, &off, iterations);
	(void)harness_stop(&on, 15000);
	(void)harness_stop(&off, 15000);
	if (r == 0)
		r = prelude_cost(iterations);
	if (r == 0)
		r = large_sources();
	if (r < 0)
		fprintf(stderr, "bench_transform: failed: %s\n", strerror(-r));
	return r < 0 ? 1 : 0;
}
