/* SPDX-License-Identifier: MIT */
/*
 * The unsandboxed baseline for bench/: one Duktape heap, created once, in
 * which every script is a plain protected eval, in the heap's global
 * environment or in a fresh one. Compare worker/js.c, which also gives
 * each execution a heap cap, budgets and a converted result, in a
 * sandboxed process; the difference is what the benchmarks put a figure
 * on. It trusts its scripts completely and must never serve a request.
 */
#include "worker/js_plain.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <duktape.h>

struct js_plain {
	duk_context *ctx;
	bool is_fresh_env;
};

/* The heap's byte counts. They cannot live in struct js_plain: the
 * engine hands its heap's user data to the allocator and to worker/js.c's
 * interrupt check alike, and that check takes a NULL one to mean "a heap
 * without bounds". Hence one plain heap per process. */
static bool heap_exists;
static size_t heap_bytes;
static size_t heap_peak_bytes;
/* heap_bytes at the last js_plain_heap_peak() */
static size_t heap_mark_bytes;

static void
count_bytes(size_t freed, size_t taken)
{
	heap_bytes = heap_bytes - freed + taken;
	if (heap_bytes > heap_peak_bytes)
		heap_peak_bytes = heap_bytes;
}

/* No heap cap, but a ceiling: a case gone wrong (an endless push) must
 * fail with the engine's out-of-memory error, not take the host's
 * memory. Far above any heap cap of the profiles. */
#define JS_PLAIN_HEAP_CEILING_BYTES (256u * 1024u * 1024u)

static bool
is_room_for(size_t freed, size_t size)
{
	return heap_bytes - freed + size <= JS_PLAIN_HEAP_CEILING_BYTES;
}

static void *
plain_alloc(void *udata, duk_size_t size)
{
	(void)udata;
	if (!is_room_for(0, size))
		return NULL;
	void *ptr = malloc(size);
	if (ptr)
		count_bytes(0, malloc_usable_size(ptr));
	return ptr;
}

static void *
plain_realloc(void *udata, void *ptr, duk_size_t size)
{
	(void)udata;
	size_t old = malloc_usable_size(ptr);
	if (!is_room_for(old, size))
		return NULL;
	void *moved = realloc(ptr, size);
	if (moved || size == 0)
		count_bytes(old, malloc_usable_size(moved));
	return moved;
}

static void
plain_free(void *udata, void *ptr)
{
	(void)udata;
	count_bytes(malloc_usable_size(ptr), 0);
	free(ptr);
}

struct js_plain *
js_plain_new(bool is_fresh_env)
{
	if (heap_exists)
		return NULL;

	struct js_plain *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;

	p->is_fresh_env = is_fresh_env;
	p->ctx = duk_create_heap(plain_alloc, plain_realloc, plain_free, NULL,
				 NULL);
	if (!p->ctx) {
		free(p);
		return NULL;
	}
	heap_exists = true;
	return p;
}

void
js_plain_free(struct js_plain *p)
{
	if (!p)
		return;
	duk_destroy_heap(p->ctx);
	heap_exists = false;
	free(p);
}

size_t
js_plain_heap_peak(struct js_plain *p)
{
	(void)p;
	size_t grown = heap_peak_bytes - heap_mark_bytes;

	heap_peak_bytes = heap_bytes;
	heap_mark_bytes = heap_bytes;
	return grown;
}

/* The context scripts run in: the heap's own, or a new thread with a
 * fresh global environment pushed on top of it, which the caller pops
 * when done with the value. */
static duk_context *
script_context(struct js_plain *p)
{
	if (!p->is_fresh_env)
		return p->ctx;
	(void)duk_push_thread_new_globalenv(p->ctx);
	return duk_get_context(p->ctx, -1);
}

static void
drop_context(struct js_plain *p)
{
	if (p->is_fresh_env)
		duk_pop(p->ctx);
}

int
js_plain_eval(struct js_plain *p, const char *code, size_t len)
{
	duk_context *ctx = script_context(p);

	/* [ ] -> [ result ] or [ err ]; a protected eval leaves exactly one
	 * value either way. */
	duk_int_t rc = duk_peval_lstring(ctx, code, len);
	duk_pop(ctx);
	drop_context(p);
	return rc == DUK_EXEC_SUCCESS ? 0 : -EINVAL;
}

/* [ value ] -> [ json ]. JSON.stringify may throw (a cycle, a throwing
 * toJSON), so it runs protected. */
static duk_ret_t
encode_json(duk_context *ctx, void *udata)
{
	(void)udata;
	(void)duk_json_encode(ctx, -1);
	return 1;
}

int
js_plain_eval_json(struct js_plain *p, const char *code, size_t len,
		   char **ret_json)
{
	duk_context *ctx = script_context(p);
	duk_size_t json_len;
	int r = -EINVAL;

	/* [ ] -> [ result ] or [ err ] */
	if (duk_peval_lstring(ctx, code, len) != DUK_EXEC_SUCCESS)
		goto out_pop;

	/* [ result ] -> [ json ] or [ err ]; json is undefined when the
	 * value has no JSON form. */
	if (duk_safe_call(ctx, encode_json, NULL, 1, 1) != DUK_EXEC_SUCCESS)
		goto out_pop;
	if (!duk_is_string(ctx, -1))
		goto out_pop;

	const char *json = duk_get_lstring(ctx, -1, &json_len);
	char *copy = strndup(json, json_len);
	if (!copy) {
		r = -ENOMEM;
		goto out_pop;
	}
	*ret_json = copy;
	r = 0;

out_pop:
	/* [ result-or-json ] -> [ ] */
	duk_pop(ctx);
	drop_context(p);
	return r;
}
