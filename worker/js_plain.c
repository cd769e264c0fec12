/* SPDX-License-Identifier: MIT */
/*
 * The unsandboxed baseline for bench/: one default Duktape heap, created
 * once, in which every script is a plain protected eval in the same global
 * environment. Compare worker/js.c, which gives each execution a fresh
 * environment, a heap cap and a converted result; the difference between
 * the two is what the benchmarks put a figure on. It trusts its scripts
 * completely and must never serve a request.
 */
#include "worker/js_plain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <duktape.h>

struct js_plain {
	duk_context *ctx;
};

struct js_plain *
js_plain_new(void)
{
	struct js_plain *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;

	p->ctx = duk_create_heap_default();
	if (!p->ctx) {
		free(p);
		return NULL;
	}
	return p;
}

void
js_plain_free(struct js_plain *p)
{
	if (!p)
		return;
	duk_destroy_heap(p->ctx);
	free(p);
}

int
js_plain_eval(struct js_plain *p, const char *code, size_t len)
{
	/* [ ] -> [ result ] or [ err ]; a protected eval leaves exactly one
	 * value either way. */
	duk_int_t rc = duk_peval_lstring(p->ctx, code, len);
	duk_pop(p->ctx);
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
	duk_context *ctx = p->ctx;
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
	return r;
}
