/* SPDX-License-Identifier: MIT */
/*
 * The JavaScript engine of a worker: one Duktape heap, created and warmed
 * once, in which every execution gets a fresh global environment of its
 * own. Runs in the worker, before the sandbox (js_engine_new) and after it
 * (js_engine_run); also in-process in tests and benchmarks.
 */
#ifndef BEDDEL_WORKER_JS_H
#define BEDDEL_WORKER_JS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/outcome.h"

struct proto_value;
struct js_engine;

/* The globals through which a script sees its request: the input value
 * (a frozen copy) and, frozen too, { id, tenant, profile }, where id is
 * the client's id for the request (null if it gave none). In function
 * mode the same values come as the function's arguments instead. */
#define JS_INPUT_GLOBAL "input"
#define JS_EXECUTION_GLOBAL "execution"

/* One execution's request. input and props may be NULL (undefined to
 * the script). A zero limit means none. */
struct js_request {
	const char *code;
	size_t code_len;
	bool is_function; /* code is a function expression, called as
			   * (params, props, context) */
	bool is_transformed; /* code is the transform's output: in function
			      * mode a program whose value is the function */
	const struct proto_value *input;
	const struct proto_value *props;
	bool has_id;
	uint64_t id; /* the client's id for the request, if it gave one */
	const char *tenant; /* UTF-8, tenant_len bytes; NULL: none */
	size_t tenant_len;
	const char *profile;
	size_t profile_len;
	unsigned restricted; /* RESTRICTED_* bits: functions gated */
	uint64_t timeout_ms; /* wall clock, from the start of js_engine_run */
	uint64_t cpu_ms;     /* CPU time of the execution */
	/* Bytecode instructions, counted in steps of
	 * JS_INTERRUPT_STEP_INSTRUCTIONS: the engine checks its bounds once
	 * per step, so a budget is rounded up to whole steps. */
	uint64_t instructions_max;
	uint64_t slow_ms;    /* report where it is once it runs this long */
	uint64_t heap_limit_bytes;
	size_t result_max_bytes;
	size_t log_max_bytes; /* text the console may capture */
};

/* One execution's outcome. On OUTCOME_OK, value holds the result encoded as
 * msgpack (value_len bytes); otherwise message, and maybe stack and line,
 * describe the error. logs holds log_count [level, text] pairs encoded as
 * msgpack, whatever the outcome. Strings are UTF-8, NUL-terminated and
 * counted, owned by the struct; release with js_result_fini(). */
struct js_result {
	enum outcome outcome;
	uint8_t *value;
	size_t value_len;
	char *message; /* may hold NUL bytes: use the lengths */
	size_t message_len;
	char *stack;
	size_t stack_len;
	uint64_t line;
	uint64_t column; /* a syntax error's, from the transform; 0: none */
	uint8_t *logs;
	size_t logs_len;
	size_t log_count;
	bool is_logs_truncated;
	uint64_t heap_peak_bytes;
	uint64_t exec_us;
	uint64_t cpu_us;
};

/* Creates and warms a heap, and sets the process's time zone to UTC (see
 * js.c). Returns NULL when out of memory. When the
 * engine hits a fatal error later, the process exits with IPC_EXIT_OOM
 * or IPC_EXIT_FATAL (this never returns to a caller). */
struct js_engine *js_engine_new(void);

/* Creates a transform engine: a heap in which the prelude, TypeScript's
 * compiler and the transform driver (worker/transpiler/driver.js) are
 * loaded once. js_engine_run() on it does not run req->code: it lowers
 * it to ES5.1 and answers the ES5 source as the result (a string), or a
 * syntax_error with the line and column in the source given. The
 * request's limits (time, CPU, instructions, heap over the loaded
 * compiler, result size) apply as to a script. Returns NULL when out of
 * memory or when the built-in files fail to load. */
struct js_engine *js_engine_new_transform(void);

/* Destroys the heap and everything in it. Accepts NULL. */
void js_engine_free(struct js_engine *e);

/* Called once when a running script calls a function its request
 * restricts, with that function's name, before the script is stopped.
 * The worker tells the supervisor at once (worker.c). */
typedef void (*js_restricted_fn)(const char *name);

/* Sets the hook above (NULL: none). */
void js_engine_on_restricted(struct js_engine *e, js_restricted_fn fn);

/* Called once when a running script passes its request's slow_ms, with
 * its stack at that moment ("at f (script:3)" lines, innermost first,
 * UTF-8) and how long it has run. The script goes on. */
typedef void (*js_slow_fn)(const char *stack, uint64_t elapsed_us);

void js_engine_on_slow(struct js_engine *e, js_slow_fn fn);

/* Bytes the warm heap holds between executions. */
uint64_t js_engine_heap_bytes(const struct js_engine *e);

/* Runs one script in a fresh global environment. Returns 0 with
 * ret_result filled (the outcome may be any kind), or -ENOMEM when the
 * result itself could not be built (ret_result untouched). The
 * environment is discarded by the next js_engine_idle() or
 * js_engine_run(), whichever comes first. Worker, before or after the
 * sandbox; tests and benchmarks in-process. */
int js_engine_run(struct js_engine *e, const struct js_request *req,
		  struct js_result *ret_result);

/* Frees the strings and value r holds and clears them; r itself is the
 * caller's. Safe to call twice. */
void js_result_fini(struct js_result *r);

/* Work done between requests, off the request's critical path: discards
 * the last execution's environment (nothing it made survives this call),
 * collects the garbage, and builds the next fresh environment. Returns
 * false when the heap did not come back to within JS_DIRTY_SLACK_BYTES
 * (or half the largest heap cap served, if more) of its warm size:
 * something outlived its execution, and the worker should not serve
 * again. */
bool js_engine_idle(struct js_engine *e);

/* Instructions between two of the engine's interrupt checks (Duktape's
 * DUK_HTHREAD_INTCTR_DEFAULT, which its configuration cannot change). */
#define JS_INTERRUPT_STEP_INSTRUCTIONS (256u * 1024u)

#define JS_DIRTY_SLACK_BYTES (1024u * 1024u)

/* An execution whose heap peaked this far above the warm size has the
 * memory it freed handed back to the kernel (malloc_trim) before the
 * worker serves again. */
#define JS_TRIM_AFTER_BYTES (256u * 1024u)

#endif
