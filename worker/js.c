/* SPDX-License-Identifier: MIT */
/*
 * The Duktape engine of a worker. One heap lives as long as the worker; it
 * is created and warmed before the sandbox is entered, so that the first
 * request pays no start-up cost. Each execution runs on a new Duktape
 * thread with a fresh global environment (a complete new set of
 * built-ins), which is dropped and garbage-collected afterwards: no
 * global, no change to a built-in prototype, nothing one execution makes
 * is reachable from the next.
 *
 * The heap cap is enforced by the allocator below: every block carries its
 * size, and an allocation that would take the execution past its cap
 * fails. Duktape answers a failed allocation with an error ("alloc
 * failed", after a garbage collection and a retry); the cap being hit is
 * remembered, so the execution reports memory_limit even if the script
 * caught that error.
 */
#include "worker/js.h"

#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <duktape.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/restricted.h"
#include "common/sys.h"
#include "common/util.h"
#include "worker/js_prelude.h"
#include "worker/js_value.h"

/* SECURITY: the build must use Beddel's engine configuration
 * (worker/duktape/duk_overrides.h): without the interrupt check no
 * deadline, CPU or instruction budget stops a script, and bytecode
 * loading or a debugger would hand scripts the engine's internals. A
 * stock duk_config.h (the override marker gone, or another header
 * found first) fails here rather than build an open engine. */
#if !defined(DUK_USE_EXEC_TIMEOUT_CHECK) || !defined(DUK_USE_INTERRUPT_COUNTER)
#error "the Duktape build lacks Beddel's interrupt check (duk_overrides.h)"
#endif
#if defined(DUK_USE_BYTECODE_DUMP_SUPPORT) || defined(DUK_USE_DEBUGGER_SUPPORT)
#error "the Duktape build allows bytecode loading or a debugger"
#endif

/* Every block is preceded by its size, in a header that keeps the
 * payload aligned as malloc() would. */
union block_header {
	size_t size;
	max_align_t align;
};

/* Why the running execution is being stopped; once set, it stays set
 * until the execution is over. */
enum stop {
	STOP_NONE,
	STOP_WALL,	 /* past its wall-clock deadline */
	STOP_CPU,	 /* past its CPU time budget */
	STOP_INSTRUCTIONS, /* past its instruction budget */
	STOP_MEMORY,	 /* reached its heap cap */
	STOP_RESTRICTED, /* called a function its profile restricts */
};

struct run;

struct js_engine {
	duk_context *ctx;
	bool is_transform; /* js_engine_new_transform(): lowers, never runs */
	bool has_env;	  /* a fresh environment waits on the stack */
	bool is_env_used; /* ...and a script has run in it */
	size_t warm_bytes; /* live bytes with a fresh environment, at start */
	size_t max_limit_bytes; /* largest heap cap served so far */
	size_t live_bytes;
	size_t peak_bytes;
	size_t limit_bytes; /* 0: no cap, between executions */
	unsigned refusals_in_a_row;
	bool is_limit_hit;
	/* The running execution's bounds, read by the interrupt check. */
	uint64_t deadline_us;	  /* monotonic; 0: none */
	uint64_t cpu_deadline_us; /* process CPU time; 0: none */
	uint64_t steps_left; /* interrupt checks before the instruction
			      * budget is spent; 0: no budget */
	enum stop stop;
	unsigned stopped_fn; /* RESTRICTED_* bit number, for STOP_RESTRICTED */
	struct run *run;     /* the execution in progress, for natives */
	js_restricted_fn on_restricted;
	js_slow_fn on_slow;
	uint64_t start_us;   /* of the running execution */
	uint64_t slow_at_us; /* when it becomes slow; 0: not (any more) */
};

/* Refusals in a row, with the engine's collections between them, after
 * which the heap is at its cap: its first attempt and two collections
 * (Duktape tries ten before it gives up). */
#define JS_CAP_REFUSALS 3

/* A block of size bytes fits when the heap stays at or under the cap. */
static bool
fits(struct js_engine *e, size_t grow)
{
	if (e->limit_bytes == 0)
		return true;
	if (grow > e->limit_bytes || e->live_bytes > e->limit_bytes - grow) {
		/* The engine answers a refusal with a garbage collection and
		 * tries again: the cap is reached only when collections do
		 * not make room. Then the check that stops the script comes
		 * at its next instruction (beddel_duk_interrupt_soon()). */
		if (++e->refusals_in_a_row >= JS_CAP_REFUSALS && !e->is_limit_hit) {
			e->is_limit_hit = true;
			if (e->ctx)
				beddel_duk_interrupt_soon(e->ctx);
		}
		return false;
	}
	return true;
}

static void
account(struct js_engine *e, size_t old_size, size_t new_size)
{
	e->live_bytes = e->live_bytes - old_size + new_size;
	if (e->live_bytes > e->peak_bytes)
		e->peak_bytes = e->live_bytes;
}

static void *
heap_alloc(void *udata, duk_size_t size)
{
	struct js_engine *e = udata;

	if (size == 0 || size > SIZE_MAX - sizeof(union block_header))
		return NULL;
	if (!fits(e, size))
		return NULL;
	union block_header *h = malloc(sizeof(*h) + size);
	if (!h)
		return NULL;
	h->size = size;
	account(e, 0, size);
	e->refusals_in_a_row = 0;
	return h + 1;
}

static void
heap_free(void *udata, void *ptr)
{
	struct js_engine *e = udata;

	if (!ptr)
		return;
	union block_header *h = (union block_header *)ptr - 1;
	account(e, h->size, 0);
	free(h);
}

static void *
heap_realloc(void *udata, void *ptr, duk_size_t size)
{
	struct js_engine *e = udata;

	if (!ptr)
		return heap_alloc(udata, size);
	if (size == 0) {
		heap_free(udata, ptr);
		return NULL;
	}
	if (size > SIZE_MAX - sizeof(union block_header))
		return NULL;

	union block_header *h = (union block_header *)ptr - 1;
	size_t old = h->size;
	if (size > old && !fits(e, size - old))
		return NULL;
	union block_header *n = realloc(h, sizeof(*n) + size);
	if (!n)
		return NULL;
	n->size = size;
	account(e, old, size);
	/* Only growth answers a refusal: the collector's own shrinking
	 * of tables comes between the attempts. */
	if (size > old)
		e->refusals_in_a_row = 0;
	return n + 1;
}

/* Duktape calls this when it cannot go on (an error outside any protected
 * call, or an internal assertion). It must not return. The exit code tells
 * the supervisor whether the cap was the cause. */
static void
heap_fatal(void *udata, const char *msg)
{
	struct js_engine *e = udata;

	(void)msg;
	_exit(e->is_limit_hit ? IPC_EXIT_OOM : IPC_EXIT_FATAL);
}

/* Frames a slow execution's stack shows at most. */
#define JS_SLOW_FRAMES_MAX 16

/* [ ... obj ] -> [ ... obj value ]: obj's own data property key, or
 * undefined. No getter runs and no prototype is read: script code must
 * not run inside the interrupt check, which calls this. */
static void
push_own_value(duk_context *t, const char *key)
{
	duk_push_string(t, key);
	duk_get_prop_desc(t, -2, 0);
	if (!duk_is_object(t, -1))
		return;
	/* The descriptor is a fresh object; without a prototype (undefined
	 * here means none), reading "value" cannot reach a getter on
	 * Object.prototype. */
	duk_push_undefined(t);
	duk_set_prototype(t, -2);
	(void)duk_get_prop_string(t, -1, "value");
	duk_remove(t, -2);
}

/* Appends "at NAME (script:LINE)" for the frame at level. Returns false
 * past the outermost frame. */
static bool
describe_frame(duk_context *t, duk_int_t level, char *buf, size_t size,
	       size_t *n)
{
	/* [ ... ] -> [ ... info ]; info is a bare object (no prototype). */
	duk_inspect_callstack_entry(t, level);
	if (!duk_is_object(t, -1)) {
		duk_pop(t);
		return false;
	}
	(void)duk_get_prop_string(t, -1, "lineNumber");
	duk_uint_t line = duk_get_uint(t, -1);
	duk_pop(t);
	(void)duk_get_prop_string(t, -1, "function");
	push_own_value(t, "name");
	duk_size_t len = 0;
	const char *name = duk_is_string(t, -1) ? duk_get_lstring(t, -1, &len) :
						  NULL;
	/* Natives (ours, the engine's) have no line: skipped. */
	if (line > 0 && *n < size) {
		int m = snprintf(buf + *n, size - *n, "%sat %.*s (script:%u)",
				 *n ? "\n" : "", len ? (int)(len > 64 ? 64 : len) : 6,
				 len ? name : "[anon]", (unsigned)line);
		if (m > 0)
			*n += (size_t)m < size - *n ? (size_t)m : size - *n - 1;
	}
	duk_pop_3(t);
	return true;
}

/* Reports where a slow execution is now, once. Runs inside the interrupt
 * check: it reads the call stack and plain properties only, and lifts
 * the heap cap meanwhile so that its few allocations cannot fail into
 * the script's catch clauses. */
static void
report_slow(struct js_engine *e, uint64_t now_us)
{
	char stack[2048];
	size_t n = 0;
	duk_context *t = duk_get_context(e->ctx, 0);
	size_t limit = e->limit_bytes;

	e->limit_bytes = 0;
	for (duk_int_t level = -1; level >= -JS_SLOW_FRAMES_MAX &&
				   describe_frame(t, level, stack, sizeof(stack), &n);
	     level--)
		;
	e->limit_bytes = limit;
	stack[n < sizeof(stack) ? n : sizeof(stack) - 1] = '\0';
	/* The engine's text is CESU-8; the report must be UTF-8. */
	char *utf8 = malloc(UTIL_UTF8_CAPACITY(n) + 1);
	if (!utf8)
		return;
	size_t m = util_engine_to_utf8(stack, n, utf8);
	utf8[m] = '\0';
	e->on_slow(utf8, now_us - e->start_us);
	free(utf8);
}

int
js_engine_interrupt_due(void *udata)
{
	struct js_engine *e = udata;

	/* A heap made by another module (js_plain.c) has no bounds. */
	if (!e)
		return 0;
	uint64_t now_us = sys_now_us();
	if (e->slow_at_us > 0 && now_us >= e->slow_at_us) {
		e->slow_at_us = 0;
		if (e->on_slow)
			report_slow(e, now_us);
	}
	/* SECURITY: a script that caught the error of its heap cap must not
	 * go on: at its cap every allocation runs the garbage collector, so
	 * it would crawl past every other check. */
	if (e->stop == STOP_NONE && e->is_limit_hit)
		e->stop = STOP_MEMORY;
	if (e->stop == STOP_NONE && e->deadline_us > 0 &&
	    now_us >= e->deadline_us)
		e->stop = STOP_WALL;
	if (e->stop == STOP_NONE && e->cpu_deadline_us > 0 &&
	    sys_cpu_us() >= e->cpu_deadline_us)
		e->stop = STOP_CPU;
	/* Each call comes JS_INTERRUPT_STEP_INSTRUCTIONS instructions after
	 * the last one. */
	if (e->stop == STOP_NONE && e->steps_left > 0 && --e->steps_left == 0)
		e->stop = STOP_INSTRUCTIONS;
	return e->stop != STOP_NONE;
}

static struct js_engine *
engine_of(duk_context *ctx)
{
	duk_memory_functions funcs;

	duk_get_memory_functions(ctx, &funcs);
	return funcs.udata;
}

/* Longest error message and stack trace sent back; longer ones are cut,
 * so that a script cannot turn an error into a huge frame. */
#define JS_MESSAGE_MAX_BYTES 4096
#define JS_STACK_MAX_BYTES 16384

/* Sets *dst to engine text as UTF-8, at most max bytes, cut at a
 * character boundary. Returns 0 or -ENOMEM. */
static int
set_text(char **dst, size_t *dst_len, const char *s, size_t len, size_t max)
{
	/* A character above U+FFFF takes 6 bytes in the engine and 4 in
	 * UTF-8: half as much again of the engine's text fills max. */
	if (len > max / 2 * 3) {
		len = max / 2 * 3;
		/* Not inside a character, nor between the halves of a pair
		 * (a high surrogate is ED A0..AF). */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
		if (len >= 3 && (unsigned char)s[len - 3] == 0xed &&
		    ((unsigned char)s[len - 2] & 0xf0) == 0xa0)
			len -= 3;
	}
	char *out = malloc(UTIL_UTF8_CAPACITY(len) + 1);
	if (!out)
		return -ENOMEM;
	size_t n = util_engine_to_utf8(s, len, out);
	n = util_utf8_cut(out, n, max);
	out[n] = '\0';
	*dst = out;
	*dst_len = n;
	return 0;
}

static int
set_error(struct js_result *ret, enum outcome kind, const char *message)
{
	ret->outcome = kind;
	return set_text(&ret->message, &ret->message_len, message,
			strlen(message), JS_MESSAGE_MAX_BYTES);
}

/* ---- One execution, step by step ---------------------------------- */

/* Each console entry costs its text plus this much, so that a flood of
 * empty lines meets the cap too. */
#define JS_LOG_ENTRY_COST_BYTES 16

struct run {
	struct js_engine *e;
	const struct js_request *req;
	struct js_result *ret;
	struct proto_writer *w;
	struct proto_writer *logs; /* [level, text] pairs, one after another */
	size_t log_used_bytes;
	char why[JS_VALUE_WHY_MAX];
	int conv_err;
	bool has_output; /* function mode: setOutput() or setError() called */
	bool is_output_error;
};

/* ---- What a script may call ----------------------------------------
 *
 * The native functions Beddel adds to a script's environment are listed
 * in `natives` below, each with its reason; the rest are the engine's
 * standard built-ins, less the removed_globals further down. */

/* Appends one console entry, cut to what the cap leaves. */
static void
capture_log(struct run *run, const char *level, const char *text, size_t len)
{
	struct js_result *ret = run->ret;
	size_t room = run->req->log_max_bytes > run->log_used_bytes ?
			      run->req->log_max_bytes - run->log_used_bytes :
			      0;

	if (ret->is_logs_truncated || room < JS_LOG_ENTRY_COST_BYTES) {
		ret->is_logs_truncated = true;
		return;
	}
	room -= JS_LOG_ENTRY_COST_BYTES;
	if (len > room) {
		len = util_utf8_cut(text, len, room);
		ret->is_logs_truncated = true;
	}
	(void)proto_write_array(run->logs, 2);
	(void)proto_write_str(run->logs, level, strlen(level));
	(void)proto_write_str(run->logs, text, len);
	run->log_used_bytes += len + JS_LOG_ENTRY_COST_BYTES;
	ret->log_count++;
}

/* Throws from a native as the engine would from script code: with no C
 * file and line of ours, so that the error's lineNumber and fileName are
 * the calling script's. */
#define throw_error(ctx, code, ...) \
	(duk_error_raw((ctx), (code), NULL, 0, __VA_ARGS__), (duk_ret_t)0)

/* [ value ] -> [ json ]. */
static duk_ret_t
encode_json(duk_context *ctx, void *udata)
{
	(void)udata;
	(void)duk_json_encode(ctx, -1);
	return 1;
}

/* [ ... value ] -> [ ... text ]. Strings as they are; other values as
 * JSON where they have a JSON form, else as String() gives them. */
static void
to_log_text(duk_context *ctx)
{
	if (duk_is_string(ctx, -1))
		return;
	duk_dup(ctx, -1);
	if (!duk_is_function(ctx, -1) &&
	    duk_safe_call(ctx, encode_json, NULL, 1, 1) == DUK_EXEC_SUCCESS &&
	    duk_is_string(ctx, -1)) {
		duk_remove(ctx, -2);
		return;
	}
	duk_pop(ctx);
	(void)duk_safe_to_string(ctx, -1);
}

/* The console levels; a console function's magic indexes this. */
static const char *const log_levels[] = { "log", "info", "warn", "error" };

/* console.log(...args) and friends; the magic is the level. Arguments are
 * joined by spaces, as a terminal console shows them. */
static duk_ret_t
console_call(duk_context *ctx)
{
	struct run *run = engine_of(ctx)->run;
	duk_idx_t n = duk_get_top(ctx);
	duk_int_t level = duk_get_current_magic(ctx);

	if (!run)
		return 0;
	for (duk_idx_t i = 0; i < n; i++) {
		duk_dup(ctx, i);
		to_log_text(ctx);
		duk_replace(ctx, i);
	}
	duk_push_string(ctx, " ");
	duk_insert(ctx, 0);
	duk_join(ctx, n);

	duk_size_t len;
	const char *s = duk_get_lstring(ctx, -1, &len);
	char *text = malloc(UTIL_UTF8_CAPACITY(len) + 1);
	if (!text)
		return throw_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	size_t n_text = util_engine_to_utf8(s, len, text);
	capture_log(run, log_levels[level], text, n_text);
	free(text);
	return 0;
}

/* context.setOutput(value) and context.setError(message); the magic says
 * which. The value waits in the thread's stash until the call returns. */
static duk_ret_t
context_set(duk_context *ctx)
{
	struct run *run = engine_of(ctx)->run;
	bool is_error = duk_get_current_magic(ctx) == 1;

	if (!run)
		return 0;
	if (run->has_output)
		return throw_error(ctx, DUK_ERR_TYPE_ERROR, "the output is already set");
	/* [ value ] -> [ value stash ] -> [ value ] */
	if (is_error)
		(void)duk_safe_to_string(ctx, 0);
	duk_push_thread_stash(ctx, ctx);
	duk_dup(ctx, 0);
	(void)duk_put_prop_string(ctx, -2, "output");
	duk_pop(ctx);
	run->has_output = true;
	run->is_output_error = is_error;
	return 0;
}

/* Stands in for a restricted function; the magic is its bit number. The
 * error it throws may be caught, but the execution is over all the same:
 * the interrupt check stops it, and its answer is security_violation. */
static duk_ret_t
gate_call(duk_context *ctx)
{
	struct js_engine *e = engine_of(ctx);
	duk_int_t fn = duk_get_current_magic(ctx);

	/* A restricted call outranks a stop already under way: the
	 * supervisor hears of it at once, so that even a worker it must
	 * kill later is reported for the call. */
	if (e->stop != STOP_RESTRICTED) {
		e->stop = STOP_RESTRICTED;
		e->stopped_fn = (unsigned)fn;
		if (e->on_restricted)
			e->on_restricted(restricted_name((unsigned)fn));
	}
	return throw_error(ctx, DUK_ERR_ERROR, "%s is restricted by this execution's profile",
			   restricted_name((unsigned)fn));
}

/* [ ... ] -> [ ... gate ] */
static void
push_gate(duk_context *ctx, unsigned fn)
{
	duk_push_c_function(ctx, gate_call, DUK_VARARGS);
	duk_set_magic(ctx, -1, (duk_int_t)fn);
	duk_push_string(ctx, "name");
	duk_push_string(ctx, restricted_name(fn));
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
}

/* [ ... global ] -> [ ... global ]. Sets global.name to a gate. */
static void
gate_global(duk_context *ctx, unsigned fn)
{
	push_gate(ctx, fn);
	(void)duk_put_prop_string(ctx, -2, restricted_name(fn));
}

/* [ ... global ] -> [ ... global ]. SECURITY: the Function constructor
 * is reachable as a global and as the constructor of every function
 * (Function.prototype.constructor: the engine has no other function kinds
 * with constructors of their own); both become the gate. The gate keeps
 * Function.prototype as its prototype, so `f instanceof Function` and
 * `f.constructor === Function` still hold. */
static void
gate_function(duk_context *ctx, unsigned fn)
{
	/* [ global ] -> [ global Function proto gate ] */
	(void)duk_get_prop_string(ctx, -1, "Function");
	(void)duk_get_prop_string(ctx, -1, "prototype");
	push_gate(ctx, fn);
	duk_dup(ctx, -1);
	(void)duk_put_prop_string(ctx, -3, "constructor");
	duk_dup(ctx, -2);
	(void)duk_put_prop_string(ctx, -2, "prototype");
	(void)duk_put_prop_string(ctx, -4, "Function");
	duk_pop_2(ctx);
}

/* [ ... global ] -> [ ... global ]. process is an object, not a function,
 * elsewhere: reading the global at all is the violation. */
static void
gate_accessor(duk_context *ctx, unsigned fn)
{
	duk_push_string(ctx, restricted_name(fn));
	push_gate(ctx, fn);
	push_gate(ctx, fn);
	duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
				      DUK_DEFPROP_SET_CONFIGURABLE);
}

static void (*const gate_installers[RESTRICTED_COUNT])(duk_context *, unsigned) = {
	gate_global,   /* eval: also indirect eval, which reads the global */
	gate_function, /* Function */
	gate_global,   /* require */
	gate_accessor, /* process */
};

/* SECURITY: every native function a script can reach. None does I/O,
 * keeps state between executions or hands out an engine object; each
 * reaches the execution only through its engine's `run`. Proved by
 * tests/test_js.c (test_js_natives_are_only_the_listed_ones). */
static const struct native {
	const char *object; /* "console" or "context" */
	const char *name;
	duk_c_function fn;
	duk_idx_t nargs;
	duk_int_t magic;
	const char *reason;
} natives[] = {
	{ "console", "log", console_call, DUK_VARARGS, 0,
	  "text into the answer's logs, bounded by log_max_bytes; never printed" },
	{ "console", "info", console_call, DUK_VARARGS, 1, "as console.log" },
	{ "console", "warn", console_call, DUK_VARARGS, 2, "as console.log" },
	{ "console", "error", console_call, DUK_VARARGS, 3, "as console.log" },
	{ "context", "log", console_call, DUK_VARARGS, 0,
	  "console.log for function mode" },
	{ "context", "setOutput", context_set, 1, 0,
	  "function mode's result: a value, converted as a script's is" },
	{ "context", "setError", context_set, 1, 1,
	  "function mode's error: a message, answered as script_error" },
	/* The restricted gates (gate_call) are installed by
	 * gate_installers, one per restricted function. */
};

/* [ ... obj ] -> [ ... obj ]. Defines the natives of object on obj. */
static void
put_natives(duk_context *ctx, const char *object)
{
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(natives); i++) {
		const struct native *n = &natives[i];
		if (strcmp(n->object, object) != 0)
			continue;
		duk_push_c_function(ctx, n->fn, n->nargs);
		duk_set_magic(ctx, -1, n->magic);
		(void)duk_put_prop_string(ctx, -2, n->name);
	}
}

/* [ ... ] -> [ ... ]. Defines name as a frozen object or value. */
static void
put_frozen_global(duk_context *ctx, const char *name)
{
	if (duk_is_object(ctx, -1))
		duk_freeze(ctx, -1);
	(void)duk_put_global_string(ctx, name);
}

/* [ ... ] -> [ ... value ]: a request value, or undefined. */
static int
push_request_value(struct run *run, duk_context *ctx,
		   const struct proto_value *v)
{
	if (!v) {
		duk_push_undefined(ctx);
		return 0;
	}
	run->conv_err = js_value_push(ctx, v, run->why);
	return run->conv_err;
}

/* [ ... ] -> [ ... info ]: { id, tenant, profile }, frozen. */
static void
push_execution_info(struct run *run, duk_context *ctx)
{
	const struct js_request *req = run->req;

	duk_push_object(ctx);
	if (req->has_id)
		duk_push_number(ctx, (duk_double_t)req->id);
	else
		duk_push_null(ctx);
	(void)duk_put_prop_string(ctx, -2, "id");
	if (req->tenant)
		(void)js_value_push_utf8(ctx, req->tenant, req->tenant_len);
	else
		duk_push_null(ctx);
	(void)duk_put_prop_string(ctx, -2, "tenant");
	if (req->profile)
		(void)js_value_push_utf8(ctx, req->profile, req->profile_len);
	else
		duk_push_null(ctx);
	(void)duk_put_prop_string(ctx, -2, "profile");
}

/* [ date regexp ] -> [ date regexp ]. Gates the restricted functions and
 * defines the request's globals. */
static duk_ret_t
set_globals(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	duk_push_global_object(ctx);
	for (unsigned i = 0; i < RESTRICTED_COUNT; i++) {
		if (run->req->restricted & (1u << i))
			gate_installers[i](ctx, i);
	}
	duk_pop(ctx);
	if (run->req->is_function)
		return 0;

	if (push_request_value(run, ctx, run->req->input) < 0)
		return 0;
	put_frozen_global(ctx, JS_INPUT_GLOBAL);
	push_execution_info(run, ctx);
	put_frozen_global(ctx, JS_EXECUTION_GLOBAL);
	return 0;
}

/* [ ... fn ] -> [ ... fn params props context ]. */
static duk_ret_t
push_function_args(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	if (push_request_value(run, ctx, run->req->input) < 0)
		return 0;
	if (push_request_value(run, ctx, run->req->props) < 0)
		return 0;
	push_execution_info(run, ctx);
	put_natives(ctx, "context");
	duk_freeze(ctx, -1);
	return 3;
}

/* [ ... result ] -> [ ... result ]. Encodes the completion value. */
static duk_ret_t
encode_result(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	run->conv_err = js_value_write(ctx, -1, run->w, run->why);
	return 0;
}

/* The flags Duktape appends to a stack line ("at f (script:3) strict
 * preventsyield"): engine detail, not the script's. */
static const char *const frame_flags[] = {
	" preventsyield", " strict", " native", " internal", " construct",
	" tailcall",
};

/* Length of a stack line once its trailing engine flags are cut. */
static size_t
trim_frame_flags(const char *line, size_t n)
{
	for (bool cut = true; cut;) {
		cut = false;
		for (size_t i = 0; i < UTIL_ARRAY_SIZE(frame_flags); i++) {
			size_t f = strlen(frame_flags[i]);
			if (n >= f && memcmp(line + n - f, frame_flags[i], f) == 0) {
				n -= f;
				cut = true;
			}
		}
	}
	return n;
}

/* Whether a stack line is a frame of C code: the engine's own ("(duk_")
 * or Beddel's natives, whose location is a C file ("(../worker/js.c:385)").
 * Scripts are named "script", never "*.c". */
static bool
is_native_frame(const char *line, size_t n)
{
	if (memmem(line, n, "(duk_", 5))
		return true;
	return n > 0 && line[n - 1] == ')' && memmem(line, n, ".c:", 3);
}

/* Drops the engine's own frames ("at [anon] (duk_js_compiler.c:6826)
 * internal") from a stack trace, and the flags of the others: they say
 * nothing about the script. */
static size_t
strip_engine_frames(char *stack, size_t len)
{
	char *out = stack;
	const char *end_of_text = stack + len;

	for (const char *line = stack; line < end_of_text;) {
		const char *end = memchr(line, '\n', (size_t)(end_of_text - line));
		size_t n = end ? (size_t)(end - line) : (size_t)(end_of_text - line);
		size_t keep = trim_frame_flags(line, n);
		if (!is_native_frame(line, keep)) {
			memmove(out, line, keep);
			out += keep;
			/* Only where the line had one: the last line ends at
			 * the text's end, and nothing may go past it. */
			if (end)
				*out++ = '\n';
		}
		line += end ? n + 1 : n;
	}
	if (out > stack && out[-1] == '\n')
		out--;
	*out = '\0';
	return (size_t)(out - stack);
}

/* [ ... err ] -> [ ... err message stack line ]. Reads the thrown value's
 * description, which may run script code (a toString, a getter), so it
 * runs protected. */
static duk_ret_t
describe_error(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_dup(ctx, -1);
	(void)duk_safe_to_string(ctx, -1);
	if (duk_is_object(ctx, -2)) {
		(void)duk_get_prop_string(ctx, -2, "stack");
		(void)duk_get_prop_string(ctx, -3, "lineNumber");
	} else {
		duk_push_undefined(ctx);
		duk_push_undefined(ctx);
	}
	return 4;
}

/* run->why: the sentence of a script at its heap cap. */
static enum outcome
describe_memory_limit(struct run *run)
{
	(void)snprintf(run->why, sizeof(run->why),
		       "the script reached its heap cap of %llu bytes",
		       (unsigned long long)run->req->heap_limit_bytes);
	return OUTCOME_MEMORY_LIMIT;
}

static int
set_memory_limit(struct run *run)
{
	enum outcome kind = describe_memory_limit(run);

	return set_error(run->ret, kind, run->why);
}

/* The outcome and sentence of a stopped execution. */
static enum outcome
describe_stop(struct run *run)
{
	const struct js_request *req = run->req;

	switch (run->e->stop) {
	case STOP_WALL:
		(void)snprintf(run->why, sizeof(run->why),
			       "the script ran past its timeout of %llu ms",
			       (unsigned long long)req->timeout_ms);
		return OUTCOME_TIMEOUT;
	case STOP_CPU:
		(void)snprintf(run->why, sizeof(run->why),
			       "the script used more than its CPU time limit of %llu ms",
			       (unsigned long long)req->cpu_ms);
		return OUTCOME_TIMEOUT;
	case STOP_INSTRUCTIONS:
		(void)snprintf(run->why, sizeof(run->why),
			       "the script ran past its budget of %llu instructions",
			       (unsigned long long)req->instructions_max);
		return OUTCOME_TIMEOUT;
	case STOP_MEMORY:
		return describe_memory_limit(run);
	case STOP_RESTRICTED:
		(void)snprintf(run->why, sizeof(run->why),
			       "the script called %s, which its profile restricts",
			       restricted_name(run->e->stopped_fn));
		return OUTCOME_SECURITY_VIOLATION;
	case STOP_NONE:
	default:
		return OUTCOME_OK;
	}
}

/* Keeps the thrown value's stack, without the engine's frames. */
static int
set_stack(struct js_result *ret, const char *stack, size_t len)
{
	if (set_text(&ret->stack, &ret->stack_len, stack, len,
		     JS_STACK_MAX_BYTES) < 0)
		return -ENOMEM;
	ret->stack_len = strip_engine_frames(ret->stack, ret->stack_len);
	if (ret->stack_len == 0) {
		free(ret->stack);
		ret->stack = NULL;
	}
	return 0;
}

/* [ ... err msg stack line ]: fills ret from the description. A stopped
 * execution's own sentence replaces the thrown message. */
static int
fill_described(struct run *run, duk_context *t, enum outcome kind)
{
	struct js_result *ret = run->ret;
	duk_size_t len;

	ret->outcome = kind;
	const char *msg = duk_get_lstring(t, -3, &len);
	if (run->e->stop != STOP_NONE) {
		if (set_error(ret, describe_stop(run), run->why) < 0)
			return -ENOMEM;
	} else if (!msg) {
		if (set_error(ret, kind, "error") < 0)
			return -ENOMEM;
	} else if (set_text(&ret->message, &ret->message_len, msg, len,
			    JS_MESSAGE_MAX_BYTES) < 0) {
		return -ENOMEM;
	}
	/* A syntax error's trace shows only the compiler. */
	if (duk_is_string(t, -2) && kind != OUTCOME_SYNTAX_ERROR) {
		const char *stack = duk_get_lstring(t, -2, &len);
		if (set_stack(ret, stack, len) < 0)
			return -ENOMEM;
	}
	/* lineNumber is the script's to set: only a plausible one is kept. */
	if (duk_is_number(t, -1)) {
		double line = duk_get_number(t, -1);
		if (line >= 1 && line <= UINT32_MAX)
			ret->line = (uint64_t)line;
	}
	return 0;
}

static int
fill_error(struct run *run, duk_context *t, enum outcome kind)
{
	if (kind == OUTCOME_MEMORY_LIMIT)
		return set_memory_limit(run);

	/* [ ... err ] -> [ ... err msg stack line ], or an error of its own
	 * if describing the thrown value failed too. While a stop is on, no
	 * script code (a toString, a getter) runs during the description:
	 * the interrupt check stops it at its first instruction. */
	bool is_described = duk_safe_call(t, describe_error, NULL, 1, 4) ==
			    DUK_EXEC_SUCCESS;
	/* Describing runs script code (toString, getters), which may reach
	 * the cap too. */
	if (run->e->is_limit_hit)
		return set_memory_limit(run);
	if (is_described)
		return fill_described(run, t, kind);
	if (run->e->stop != STOP_NONE)
		return set_error(run->ret, describe_stop(run), run->why);
	return set_error(run->ret, kind, "the script threw a value that cannot be described");
}

/* [ ... ] -> [ ... runner ]: the prelude's pieces the script names
 * (js_prelude.h). Runs protected, within the script's limits. */
static duk_ret_t
install_prelude(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	js_prelude_install(ctx, js_prelude_needs(run->req->code,
						 run->req->code_len));
	return 1;
}

/* [ ... ] -> [ ... fn ]. Runs protected: pushing a large source may hit
 * the heap cap, and a syntax error throws. A script compiles as global
 * code; in function mode the code is one function expression. */
static duk_ret_t
compile_script(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	run->conv_err = js_value_push_utf8(ctx, run->req->code,
					   run->req->code_len);
	if (run->conv_err < 0)
		return DUK_RET_RANGE_ERROR;
	/* Function mode: the code in parentheses is a program whose value
	 * is the function, so code after the function expression is a
	 * syntax error, unless it closes the parenthesis itself: then it
	 * runs, as the same tenant's script under the same limits, which is
	 * no more than script mode allows. (The transform's output is that
	 * program already.)
	 * [ ... code ] -> [ ... source ] */
	if (run->req->is_function && !run->req->is_transformed) {
		duk_push_string(ctx, "(");
		duk_swap_top(ctx, -2);
		duk_push_string(ctx, "\n)");
		duk_concat(ctx, 3);
	}
	duk_push_string(ctx, "script");
	/* [ ... source filename ] -> [ ... fn ] */
	duk_compile(ctx, DUK_COMPILE_EVAL);
	return 1;
}

/* The kind of a failure: the cap and a stop take precedence over what
 * the script threw. */
static enum outcome
kind_of_failure(struct run *run, enum outcome otherwise)
{
	if (run->e->stop == STOP_RESTRICTED)
		return describe_stop(run);
	if (run->e->is_limit_hit)
		return OUTCOME_MEMORY_LIMIT;
	if (run->e->stop != STOP_NONE)
		return describe_stop(run);
	return otherwise;
}

/* [ ... value ] -> [ ... value ]. Encodes the value as the result. */
static int
finish_ok(struct run *run, duk_context *t)
{
	struct js_result *ret = run->ret;

	run->w = proto_writer_new(run->req->result_max_bytes);
	if (!run->w)
		return -ENOMEM;
	/* [ ... result ] -> [ ... result undefined ] or [ ... result err ] */
	if (duk_safe_call(t, encode_result, run, 0, 1) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_RUNTIME_ERROR));
	duk_pop(t);
	if (run->e->is_limit_hit)
		return set_memory_limit(run);
	if (run->conv_err == -E2BIG)
		return set_error(ret, OUTCOME_TOO_LARGE, "the result is larger than the result size limit");
	if (run->conv_err < 0 && run->conv_err != -EINVAL)
		return run->conv_err;
	if (run->conv_err == -EINVAL)
		return set_error(ret, OUTCOME_RUNTIME_ERROR, run->why);

	size_t len;
	const uint8_t *data = proto_writer_data(run->w, &len);
	ret->value = malloc(len);
	if (!ret->value)
		return -ENOMEM;
	memcpy(ret->value, data, len);
	ret->value_len = len;
	ret->outcome = OUTCOME_OK;
	return 0;
}

/* [ ... value ] -> [ ... runner value ] or [ ... identity value ]: sets up
 * the call that settles a script's result, with the prelude's Promise
 * queue runner (at JS_RUNNER_IDX, when the script named Promise) or
 * with a function that returns its argument. Returns the argument count
 * for duk_pcall(). */
#define JS_RUNNER_IDX 2

static duk_ret_t
identity(duk_context *ctx)
{
	(void)ctx;
	return 1;
}

static duk_idx_t
settle_result(duk_context *t)
{
	if (duk_is_function(t, JS_RUNNER_IDX))
		duk_dup(t, JS_RUNNER_IDX);
	else
		duk_push_c_function(t, identity, 1);
	duk_swap_top(t, -2);
	return 1;
}

/* [ ... fn ] -> [ ... ]: calls a function-mode script and reports what
 * it set through its context. */
static int
call_function(struct run *run, duk_context *t)
{
	/* [ ... fn ] -> [ ... fn params props context ] */
	if (duk_safe_call(t, push_function_args, run, 0, 3) != DUK_EXEC_SUCCESS)
		return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");
	if (run->conv_err == -EINVAL)
		return set_error(run->ret, OUTCOME_BAD_REQUEST, run->why);
	if (run->conv_err < 0)
		return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");

	/* [ ... fn params props context ] -> [ ... retval ] */
	if (duk_pcall(t, 3) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_RUNTIME_ERROR));
	/* Reactions queued by the function (an async function's, say) run
	 * now; they may call setOutput(). [ ... retval ] -> [ ... settled ] */
	if (duk_pcall(t, settle_result(t)) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_RUNTIME_ERROR));
	duk_pop(t);
	if (!run->has_output)
		return set_error(run->ret, OUTCOME_NO_RESULT, "the function returned without calling context.setOutput() or context.setError()");

	/* [ ... ] -> [ ... stash output ] */
	duk_push_thread_stash(t, t);
	(void)duk_get_prop_string(t, -1, "output");
	if (run->is_output_error) {
		duk_size_t len;
		const char *msg = duk_get_lstring(t, -1, &len);
		run->ret->outcome = OUTCOME_SCRIPT_ERROR;
		return set_text(&run->ret->message, &run->ret->message_len,
				msg ? msg : "", msg ? len : 0,
				JS_MESSAGE_MAX_BYTES);
	}
	return finish_ok(run, t);
}

/* Runs the request on thread t, whose stack holds [ Date RegExp ]. */
static int
execute(struct run *run, duk_context *t)
{
	/* [ date regexp ] -> [ date regexp undefined-or-err ] */
	if (duk_safe_call(t, set_globals, run, 0, 1) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_INTERNAL));
	duk_pop(t);
	if (run->conv_err == -EINVAL)
		return set_error(run->ret, OUTCOME_BAD_REQUEST, run->why);
	if (run->conv_err < 0)
		return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");

	/* [ date regexp ] -> [ date regexp runner ] or [ date regexp err ] */
	if (duk_safe_call(t, install_prelude, run, 0, 1) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_INTERNAL));

	/* [ ... runner ] -> [ ... runner fn ] or [ ... runner err ] */
	if (duk_safe_call(t, compile_script, run, 0, 1) != DUK_EXEC_SUCCESS) {
		if (run->conv_err < 0)
			return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");
		return fill_error(run, t, kind_of_failure(run, OUTCOME_SYNTAX_ERROR));
	}
	/* [ ... fn ] -> [ ... fn global ] -> [ ... result ] */
	duk_push_global_object(t);
	if (duk_pcall_method(t, 0) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_RUNTIME_ERROR));
	/* In function mode the program's value is the function. */
	if (run->req->is_function) {
		if (!duk_is_function(t, -1))
			return set_error(run->ret, OUTCOME_RUNTIME_ERROR, "function mode wants one function expression");
		return call_function(run, t);
	}

	/* [ ... result ] -> [ ... settled ] */
	if (duk_pcall(t, settle_result(t)) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run, OUTCOME_RUNTIME_ERROR));
	return finish_ok(run, t);
}

/* A script that called a restricted function and caught the gate's
 * error may still have run on (until the next interrupt check, at most
 * 256 Ki instructions) and finished, hit its cap or thrown: its answer
 * is the violation all the same, and whatever it produced, value and
 * console text, is dropped. A timeout reached by a script that then
 * finished anyway (its last instructions) is still a timeout. */
static int
apply_stop(struct run *run)
{
	struct js_result *ret = run->ret;
	bool is_restricted = run->e->stop == STOP_RESTRICTED;

	if (is_restricted) {
		ret->log_count = 0;
		ret->is_logs_truncated = false;
	}
	if (run->e->stop == STOP_NONE ||
	    (!is_restricted && ret->outcome != OUTCOME_OK) ||
	    (is_restricted && ret->outcome == OUTCOME_SECURITY_VIOLATION))
		return 0;
	char *stack = ret->stack;
	size_t stack_len = ret->stack_len;
	ret->stack = NULL;
	js_result_fini(ret);
	ret->line = 0;
	ret->stack = stack;
	ret->stack_len = stack_len;
	enum outcome kind = describe_stop(run);
	return set_error(ret, kind, run->why);
}

/* Moves the captured console entries into the result. */
static int
take_logs(struct run *run)
{
	struct js_result *ret = run->ret;
	size_t len;

	if (ret->log_count == 0)
		return 0;
	if (proto_writer_status(run->logs) < 0)
		return -ENOMEM;
	const uint8_t *data = proto_writer_data(run->logs, &len);
	ret->logs = malloc(len);
	if (!ret->logs)
		return -ENOMEM;
	memcpy(ret->logs, data, len);
	ret->logs_len = len;
	return 0;
}

/* Drops a used environment: everything the script made becomes garbage.
 * The built-ins form cycles, so reference counting alone does not free
 * them; a full collection does. */
static void
discard_env(struct js_engine *e)
{
	/* [ thread date regexp ... ] -> [ ] */
	duk_set_top(e->ctx, 0);
	duk_gc(e->ctx, 0);
	e->has_env = false;
	e->is_env_used = false;
}

/* SECURITY: globals deleted from every fresh environment, because they
 * reach engine internals or the host:
 *   Duktape  fin() runs script code during the garbage collection after
 *            the execution, outside its deadline and cap; info() shows
 *            heap addresses; act() walks the call stack; dec() makes raw
 *            internal strings.
 *   CBOR     decode() keeps a text string's bytes as they are, so a script
 *            can make the engine's hidden property keys (a leading 0x82
 *            byte) and reach internal slots such as _Varmap, whose register
 *            numbers the engine trusts: out-of-bounds reads and writes.
 *   performance  now() reads the host's clock to the microsecond, a tool
 *            for timing side channels against other tenants on the same
 *            cores; Date.now() keeps milliseconds.
 * Proved by tests/test_js.c (test_js_scripts_cannot_reach_engine_internals,
 * test_js_globals_are_only_the_listed_ones). */
static const char *const removed_globals[] = { "CBOR", "Duktape",
					       "performance" };

/* [ ] -> [ thread ], where the thread's own stack holds [ Date RegExp ],
 * the original constructors js_value_write() checks results against. */
static void
prepare_env(struct js_engine *e)
{
	(void)duk_push_thread_new_globalenv(e->ctx);
	duk_context *t = duk_get_context(e->ctx, -1);

	/* SECURITY: see removed_globals. */
	duk_push_global_object(t);
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(removed_globals); i++)
		(void)duk_del_prop_string(t, -1, removed_globals[i]);

	/* [ global ] -> [ global console ] -> [ global ] */
	duk_push_object(t);
	put_natives(t, "console");
	(void)duk_put_prop_string(t, -2, "console");
	duk_pop(t);

	(void)duk_get_global_string(t, "Date");
	(void)duk_get_global_string(t, "RegExp");
	e->has_env = true;
}

/* ---- The transform engine ----------------------------------------- */

/* [ ... ] -> [ ... es5 ]: calls the driver's transform function on the
 * request's source. */
static duk_ret_t
call_transform(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	/* [ ... ] -> [ ... transform ] */
	duk_push_heap_stash(ctx);
	(void)duk_get_prop_string(ctx, -1, "transform");
	duk_remove(ctx, -2);
	/* [ ... transform ] -> [ ... transform source is_function ] */
	run->conv_err = js_value_push_utf8(ctx, run->req->code,
					   run->req->code_len);
	if (run->conv_err < 0)
		return DUK_RET_RANGE_ERROR;
	duk_push_boolean(ctx, run->req->is_function);
	/* -> [ ... es5 ] */
	duk_call(ctx, 2);
	return 1;
}

/* Reads a property of the driver's syntax error report. The report is a
 * plain object the driver made: reading it runs no code. */
static bool
is_reported_syntax_error(duk_context *ctx)
{
	if (!duk_is_object(ctx, -1))
		return false;
	(void)duk_get_prop_string(ctx, -1, "isSyntaxError");
	bool is_report = duk_is_boolean(ctx, -1) && duk_get_boolean(ctx, -1);
	duk_pop(ctx);
	return is_report;
}

static uint64_t
get_position(duk_context *ctx, const char *key)
{
	(void)duk_get_prop_string(ctx, -1, key);
	double n = duk_is_number(ctx, -1) ? duk_get_number(ctx, -1) : 0;
	duk_pop(ctx);
	return n >= 1 && n <= UINT32_MAX ? (uint64_t)n : 0;
}

/* [ ... report ]: a syntax_error at the report's line and column. */
static int
fill_syntax_error(struct run *run, duk_context *ctx)
{
	struct js_result *ret = run->ret;
	duk_size_t len;

	ret->line = get_position(ctx, "line");
	ret->column = get_position(ctx, "column");
	(void)duk_get_prop_string(ctx, -1, "message");
	const char *msg = duk_get_lstring(ctx, -1, &len);
	char text[JS_MESSAGE_MAX_BYTES];
	/* The driver's messages are TypeScript's own, short and ASCII. */
	(void)snprintf(text, sizeof(text), "%.*s (line %llu, column %llu)",
		       msg ? (int)(len < 1024 ? len : 1024) : 0, msg ? msg : "",
		       (unsigned long long)ret->line,
		       (unsigned long long)ret->column);
	duk_pop(ctx);
	return set_error(ret, OUTCOME_SYNTAX_ERROR, text);
}

/* [ ... err ]: the compiler failed on the source, other than by refusing
 * it (a limit, or an error of its own, such as its call stack running out
 * on deeply nested code). That is `internal`, so that the worker is not
 * trusted again (the supervisor retires it and tells the client the
 * transform failed); its stack and line are the compiler's, not the
 * script's, and are dropped. */
static int
fill_transform_failure(struct run *run, duk_context *ctx)
{
	int r = fill_error(run, ctx, kind_of_failure(run, OUTCOME_INTERNAL));

	free(run->ret->stack);
	run->ret->stack = NULL;
	run->ret->stack_len = 0;
	run->ret->line = 0;
	return r;
}

/* Lowers the request's source: the ES5 text as the result, or why not.
 * The stack holds [ Date RegExp ] before and after. */
static int
transform(struct run *run, duk_context *ctx)
{
	int r;

	/* [ date regexp ] -> [ date regexp es5 ] or [ date regexp err ] */
	if (duk_safe_call(ctx, call_transform, run, 0, 1) == DUK_EXEC_SUCCESS)
		r = finish_ok(run, ctx);
	else if (run->conv_err < 0)
		r = set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");
	else if (run->e->stop == STOP_NONE && !run->e->is_limit_hit &&
		 is_reported_syntax_error(ctx))
		r = fill_syntax_error(run, ctx);
	else
		r = fill_transform_failure(run, ctx);
	duk_set_top(ctx, JS_VALUE_IDX_REGEXP + 1);
	return r;
}

/* [ ] -> [ ]: loads the prelude, TypeScript and the driver into the
 * heap's own global environment, and keeps the driver's transform
 * function in the heap stash. */
static duk_ret_t
load_transpiler(duk_context *ctx, void *udata)
{
	(void)udata;
	js_prelude_install(ctx, js_prelude_all());
	duk_pop(ctx);
	/* typescript.js is strict code: its `var ts` stays inside it, so
	 * the code is followed by an expression whose value is ts.
	 * [ ] -> [ ts ] */
	js_prelude_run_file(ctx, "typescript", "\n;ts\n");
	/* [ ts ] -> [ ts driver ] -> [ driver global ts ] -> [ transform ] */
	js_prelude_run_file(ctx, "driver", NULL);
	duk_push_global_object(ctx);
	duk_pull(ctx, -3);
	duk_call(ctx, 2);
	/* [ transform ] -> [ transform stash ] -> [ stash transform ] */
	duk_push_heap_stash(ctx);
	duk_swap_top(ctx, -2);
	(void)duk_put_prop_string(ctx, -2, "transform");
	duk_pop(ctx);
	return 0;
}

/* The transform engine has one environment, the heap's own, where the
 * compiler lives; it only needs its garbage collected. */
static void
idle_transform(struct js_engine *e)
{
	if (e->live_bytes > e->warm_bytes + JS_DIRTY_SLACK_BYTES)
		duk_gc(e->ctx, 0);
}

/* An execution whose heap grew well past the warm size leaves free pages
 * that malloc keeps for later. They go back to the kernel before the
 * worker says it is ready, off the request's path, so that an idle worker
 * holds little more than its warm heap, whatever its tenant ran. Smaller
 * growth is left for the next execution to reuse. */
static void
trim_after_growth(struct js_engine *e)
{
	if (e->peak_bytes <= e->warm_bytes + JS_TRIM_AFTER_BYTES)
		return;
	(void)malloc_trim(0);
	e->peak_bytes = e->live_bytes;
}

bool
js_engine_idle(struct js_engine *e)
{
	if (e->is_transform)
		idle_transform(e);
	else if (e->is_env_used)
		discard_env(e);
	if (!e->has_env && !e->is_transform) {
		prepare_env(e);
		trim_after_growth(e);
	}
	if (e->warm_bytes == 0)
		e->warm_bytes = e->live_bytes;
	/* The engine keeps some tables at their high-water mark (its string
	 * table, for one); the slack grows with the caps it has served. */
	size_t slack = e->max_limit_bytes / 2 > JS_DIRTY_SLACK_BYTES ?
			       e->max_limit_bytes / 2 :
			       JS_DIRTY_SLACK_BYTES;
	return e->live_bytes <= e->warm_bytes + slack;
}

/* Sets the bounds the interrupt check enforces, from now. */
static void
arm_bounds(struct js_engine *e, const struct js_request *req,
	   uint64_t start_us, uint64_t start_cpu_us)
{
	e->stop = STOP_NONE;
	e->start_us = start_us;
	e->slow_at_us = req->slow_ms ? start_us + req->slow_ms * 1000 : 0;
	e->deadline_us = req->timeout_ms ? start_us + req->timeout_ms * 1000 : 0;
	e->cpu_deadline_us = req->cpu_ms ? start_cpu_us + req->cpu_ms * 1000 :
					   0;
	/* Whole steps, rounded up, and one more: the first check may come
	 * at any point of a step (the countdown carries over from the last
	 * execution, or starts at zero on a new thread). So a script runs at
	 * least its budget and at most two steps more. */
	uint64_t steps = req->instructions_max / JS_INTERRUPT_STEP_INSTRUCTIONS +
			 (req->instructions_max % JS_INTERRUPT_STEP_INSTRUCTIONS > 0);
	e->steps_left = req->instructions_max ? steps + 1 : 0;
}

int
js_engine_run(struct js_engine *e, const struct js_request *req,
	      struct js_result *ret_result)
{
	struct js_result res = { 0 };
	struct js_result *ret = &res;
	struct run run = { .e = e, .req = req, .ret = ret };

	(void)js_engine_idle(e);

	/* Room for the entries' framing besides the text. */
	run.logs = proto_writer_new(req->log_max_bytes * 2 + 64);
	if (!run.logs)
		return -ENOMEM;
	uint64_t start_us = sys_now_us(), start_cpu_us = sys_cpu_us();
	duk_context *t = duk_get_context(e->ctx, 0);
	e->is_env_used = true;
	e->run = &run;
	arm_bounds(e, req, start_us, start_cpu_us);

	/* The cap applies from here: the environment's built-ins are the
	 * engine's cost, not the script's. */
	size_t base_bytes = e->live_bytes;
	e->peak_bytes = base_bytes;
	e->is_limit_hit = false;
	e->refusals_in_a_row = 0;
	e->limit_bytes = base_bytes + req->heap_limit_bytes;
	if (req->heap_limit_bytes > e->max_limit_bytes)
		e->max_limit_bytes = req->heap_limit_bytes;

	int r = e->is_transform ? transform(&run, e->ctx) : execute(&run, t);
	if (r == 0)
		r = apply_stop(&run);
	if (r == 0)
		r = take_logs(&run);

	e->limit_bytes = 0;
	e->run = NULL;
	e->stop = STOP_NONE;
	e->slow_at_us = 0;
	e->deadline_us = 0;
	e->cpu_deadline_us = 0;
	e->steps_left = 0;
	ret->heap_peak_bytes = e->peak_bytes - base_bytes;
	proto_writer_free(run.w);
	proto_writer_free(run.logs);
	ret->exec_us = sys_now_us() - start_us;
	ret->cpu_us = sys_cpu_us() - start_cpu_us;
	if (r < 0) {
		js_result_fini(ret);
		return r;
	}
	*ret_result = res;
	return 0;
}

void
js_result_fini(struct js_result *r)
{
	free(r->value);
	free(r->message);
	free(r->stack);
	free(r->logs);
	r->value = NULL;
	r->message = NULL;
	r->stack = NULL;
	r->logs = NULL;
}

/* The heap a warm-up run may use: the transform's first run builds
 * tables the compiler keeps. */
#define JS_WARM_UP_HEAP_BYTES (32u * 1024u * 1024u)

/* A heap with Beddel's allocator, or NULL. */
static struct js_engine *
engine_create(void)
{
	/* Date reads the time zone. With TZ unset, glibc checks
	 * /etc/localtime on every conversion, a file access the sandbox
	 * forbids; with TZ set it reads the zone once, here, and never
	 * again. Scripts see UTC. */
	if (setenv("TZ", "UTC", 1) < 0)
		return NULL;
	tzset();

	struct js_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->ctx = duk_create_heap(heap_alloc, heap_realloc, heap_free, e,
				 heap_fatal);
	if (!e->ctx) {
		free(e);
		return NULL;
	}
	return e;
}

/* Runs code once with generous limits and drops the answer, so that the
 * first real request does not pay for what the engine sets up lazily.
 * Returns 0, or -ENOMEM. */
static int
warm_up(struct js_engine *e, const char *code, size_t len)
{
	const struct js_request req = {
		.code = code,
		.code_len = len,
		.heap_limit_bytes = JS_WARM_UP_HEAP_BYTES,
		.result_max_bytes = 4096,
	};
	struct js_result res;

	if (js_engine_run(e, &req, &res) < 0)
		return -ENOMEM;
	js_result_fini(&res);
	(void)js_engine_idle(e);
	return 0;
}

struct js_engine *
js_engine_new(void)
{
	static const char warmup[] =
		"JSON.stringify({ a: [1, 'x'] }) + new Date(0).toString()";

	struct js_engine *e = engine_create();
	if (!e)
		return NULL;

	if (warm_up(e, warmup, sizeof(warmup) - 1) < 0) {
		js_engine_free(e);
		return NULL;
	}
	return e;
}

struct js_engine *
js_engine_new_transform(void)
{
	static const char warmup[] =
		"const f = async (a, ...b) => [...a, ...b]; class C {} `${f}`";

	struct js_engine *e = engine_create();
	if (!e)
		return NULL;
	e->is_transform = true;
	if (duk_safe_call(e->ctx, load_transpiler, NULL, 0, 1) !=
	    DUK_EXEC_SUCCESS) {
		js_engine_free(e);
		return NULL;
	}
	/* [ undefined ] -> [ Date RegExp ], which the result's encoder
	 * expects at the bottom of the stack (js_value.h). */
	duk_set_top(e->ctx, 0);
	(void)duk_get_global_string(e->ctx, "Date");
	(void)duk_get_global_string(e->ctx, "RegExp");
	/* The compiler sets much up on its first use; the heap it then
	 * keeps is the warm size that later transforms come back to. */
	if (warm_up(e, warmup, sizeof(warmup) - 1) < 0) {
		js_engine_free(e);
		return NULL;
	}
	duk_gc(e->ctx, 0);
	e->warm_bytes = e->live_bytes;
	return e;
}

void
js_engine_free(struct js_engine *e)
{
	if (!e)
		return;
	duk_destroy_heap(e->ctx);
	free(e);
}

uint64_t
js_engine_heap_bytes(const struct js_engine *e)
{
	return e->live_bytes;
}

void
js_engine_on_restricted(struct js_engine *e, js_restricted_fn fn)
{
	e->on_restricted = fn;
}

void
js_engine_on_slow(struct js_engine *e, js_slow_fn fn)
{
	e->on_slow = fn;
}
