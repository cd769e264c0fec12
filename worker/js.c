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
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <duktape.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "worker/js_value.h"

/* Every block is preceded by its size, in a header that keeps the
 * payload aligned as malloc() would. */
union block_header {
	size_t size;
	max_align_t align;
};

struct js_engine {
	duk_context *ctx;
	bool has_env;	  /* a fresh environment waits on the stack */
	bool is_env_used; /* ...and a script has run in it */
	size_t warm_bytes; /* live bytes with a fresh environment, at start */
	size_t max_limit_bytes; /* largest heap cap served so far */
	size_t live_bytes;
	size_t peak_bytes;
	size_t limit_bytes; /* 0: no cap, between executions */
	bool is_limit_hit;
};

/* A block of size bytes fits when the heap stays at or under the cap. */
static bool
fits(struct js_engine *e, size_t grow)
{
	if (e->limit_bytes == 0)
		return true;
	if (grow > e->limit_bytes || e->live_bytes > e->limit_bytes - grow) {
		e->is_limit_hit = true;
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

struct run {
	struct js_engine *e;
	const struct js_request *req;
	struct js_result *ret;
	struct proto_writer *w;
	char why[JS_VALUE_WHY_MAX];
	int conv_err;
};

/* [ date regexp ] -> [ date regexp ]. Defines the input global. */
static duk_ret_t
set_input(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	if (!run->req->input) {
		duk_push_undefined(ctx);
	} else {
		run->conv_err = js_value_push(ctx, run->req->input, run->why);
		if (run->conv_err < 0)
			return 0;
	}
	(void)duk_put_global_string(ctx, JS_INPUT_GLOBAL);
	return 0;
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
		bool is_engine = memmem(line, n, "(duk_", 5) != NULL;
		if (!is_engine) {
			size_t keep = trim_frame_flags(line, n);
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

static int
set_memory_limit(struct run *run)
{
	(void)snprintf(run->why, sizeof(run->why),
		       "the script reached its heap cap of %llu bytes",
		       (unsigned long long)run->req->heap_limit_bytes);
	return set_error(run->ret, OUTCOME_MEMORY_LIMIT, run->why);
}

static int
fill_error(struct run *run, duk_context *t, enum outcome kind)
{
	struct js_result *ret = run->ret;
	duk_size_t len;

	if (kind == OUTCOME_MEMORY_LIMIT)
		return set_memory_limit(run);

	/* [ ... err ] -> [ ... err msg stack line ], or an error of its own
	 * if describing the thrown value failed too. */
	bool is_described = duk_safe_call(t, describe_error, NULL, 1, 4) ==
			    DUK_EXEC_SUCCESS;
	/* Describing runs script code (toString, getters), which may reach
	 * the cap too. */
	if (run->e->is_limit_hit)
		return set_memory_limit(run);
	if (!is_described)
		return set_error(ret, kind, "the script threw a value that cannot be described");

	ret->outcome = kind;
	const char *msg = duk_get_lstring(t, -3, &len);
	if (!msg)
		return set_error(ret, kind, "error");
	if (set_text(&ret->message, &ret->message_len, msg, len,
		     JS_MESSAGE_MAX_BYTES) < 0)
		return -ENOMEM;
	/* A syntax error's trace shows only the compiler. */
	if (duk_is_string(t, -2) && kind != OUTCOME_SYNTAX_ERROR) {
		const char *stack = duk_get_lstring(t, -2, &len);
		if (set_text(&ret->stack, &ret->stack_len, stack, len,
			     JS_STACK_MAX_BYTES) < 0)
			return -ENOMEM;
		ret->stack_len = strip_engine_frames(ret->stack, ret->stack_len);
		if (ret->stack_len == 0) {
			free(ret->stack);
			ret->stack = NULL;
		}
	}
	/* lineNumber is the script's to set: only a plausible one is kept. */
	if (duk_is_number(t, -1)) {
		double line = duk_get_number(t, -1);
		if (line >= 1 && line <= UINT32_MAX)
			ret->line = (uint64_t)line;
	}
	return 0;
}

/* [ ... ] -> [ ... fn ]. Runs protected: pushing a large source may hit
 * the heap cap, and a syntax error throws. */
static duk_ret_t
compile_script(duk_context *ctx, void *udata)
{
	struct run *run = udata;

	run->conv_err = js_value_push_utf8(ctx, run->req->code,
					   run->req->code_len);
	if (run->conv_err < 0)
		return DUK_RET_RANGE_ERROR;
	duk_push_string(ctx, "script");
	/* [ ... source filename ] -> [ ... fn ] */
	duk_compile(ctx, DUK_COMPILE_EVAL);
	return 1;
}

static enum outcome
kind_of_failure(struct js_engine *e, enum outcome otherwise)
{
	return e->is_limit_hit ? OUTCOME_MEMORY_LIMIT : otherwise;
}

static int
finish_ok(struct run *run, duk_context *t)
{
	struct js_result *ret = run->ret;

	run->w = proto_writer_new(run->req->result_max_bytes);
	if (!run->w)
		return -ENOMEM;
	/* [ ... result ] -> [ ... result undefined ] or [ ... result err ] */
	if (duk_safe_call(t, encode_result, run, 0, 1) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run->e, OUTCOME_RUNTIME_ERROR));
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

/* Runs the request on thread t, whose stack holds [ Date RegExp ]. */
static int
execute(struct run *run, duk_context *t)
{
	/* [ date regexp ] -> [ date regexp undefined-or-err ] */
	if (duk_safe_call(t, set_input, run, 0, 1) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run->e, OUTCOME_INTERNAL));
	duk_pop(t);
	if (run->conv_err == -EINVAL)
		return set_error(run->ret, OUTCOME_BAD_REQUEST, run->why);
	if (run->conv_err < 0)
		return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");

	/* [ date regexp ] -> [ date regexp fn ] or [ date regexp err ] */
	if (duk_safe_call(t, compile_script, run, 0, 1) != DUK_EXEC_SUCCESS) {
		if (run->conv_err < 0)
			return set_error(run->ret, OUTCOME_INTERNAL, "the worker ran out of memory");
		return fill_error(run, t, kind_of_failure(run->e, OUTCOME_SYNTAX_ERROR));
	}

	/* [ ... fn ] -> [ ... fn global ] -> [ ... result ] */
	duk_push_global_object(t);
	if (duk_pcall_method(t, 0) != DUK_EXEC_SUCCESS)
		return fill_error(run, t, kind_of_failure(run->e, OUTCOME_RUNTIME_ERROR));
	return finish_ok(run, t);
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
 * reach engine internals:
 *   Duktape  fin() runs script code during the garbage collection after
 *            the execution, outside its deadline and cap; info() shows
 *            heap addresses; act() walks the call stack; dec() makes raw
 *            internal strings.
 *   CBOR     decode() keeps a text string's bytes as they are, so a script
 *            can make the engine's hidden property keys (a leading 0x82
 *            byte) and reach internal slots such as _Varmap, whose register
 *            numbers the engine trusts: out-of-bounds reads and writes.
 * Proved by tests/test_js.c (test_js_scripts_cannot_reach_engine_internals). */
static const char *const removed_globals[] = { "CBOR", "Duktape" };

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
	duk_pop(t);

	(void)duk_get_global_string(t, "Date");
	(void)duk_get_global_string(t, "RegExp");
	e->has_env = true;
}

bool
js_engine_idle(struct js_engine *e)
{
	if (e->is_env_used)
		discard_env(e);
	if (!e->has_env)
		prepare_env(e);
	if (e->warm_bytes == 0)
		e->warm_bytes = e->live_bytes;
	/* The engine keeps some tables at their high-water mark (its string
	 * table, for one); the slack grows with the caps it has served. */
	size_t slack = e->max_limit_bytes / 2 > JS_DIRTY_SLACK_BYTES ?
			       e->max_limit_bytes / 2 :
			       JS_DIRTY_SLACK_BYTES;
	return e->live_bytes <= e->warm_bytes + slack;
}

int
js_engine_run(struct js_engine *e, const struct js_request *req,
	      struct js_result *ret_result)
{
	struct js_result res = { 0 };
	struct js_result *ret = &res;
	struct run run = { .e = e, .req = req, .ret = ret };

	(void)js_engine_idle(e);

	uint64_t start_us = sys_now_us(), start_cpu_us = sys_cpu_us();
	duk_context *t = duk_get_context(e->ctx, 0);
	e->is_env_used = true;

	/* The cap applies from here: the environment's built-ins are the
	 * engine's cost, not the script's. */
	size_t base_bytes = e->live_bytes;
	e->peak_bytes = base_bytes;
	e->is_limit_hit = false;
	e->limit_bytes = base_bytes + req->heap_limit_bytes;
	if (req->heap_limit_bytes > e->max_limit_bytes)
		e->max_limit_bytes = req->heap_limit_bytes;

	int r = execute(&run, t);

	e->limit_bytes = 0;
	ret->heap_peak_bytes = e->peak_bytes - base_bytes;
	proto_writer_free(run.w);
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
	r->value = NULL;
	r->message = NULL;
	r->stack = NULL;
}

struct js_engine *
js_engine_new(void)
{
	static const char warmup[] =
		"JSON.stringify({ a: [1, 'x'] }) + new Date(0).toString()";
	struct js_result res;

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

	/* One throwaway execution touches the code and data an execution
	 * needs, so that the first real request does not pay for it. */
	const struct js_request req = {
		.code = warmup,
		.code_len = sizeof(warmup) - 1,
		.heap_limit_bytes = 1024 * 1024,
		.result_max_bytes = 1024,
	};
	if (js_engine_run(e, &req, &res) < 0) {
		js_engine_free(e);
		return NULL;
	}
	js_result_fini(&res);
	(void)js_engine_idle(e);
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
