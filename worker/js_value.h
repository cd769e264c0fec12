/* SPDX-License-Identifier: MIT */
/*
 * Conversion between JavaScript values on a Duktape value stack and
 * msgpack values (through common/proto.h). Only worker/js*.c include it.
 */
#ifndef BEDDEL_WORKER_JS_VALUE_H
#define BEDDEL_WORKER_JS_VALUE_H

#include <stddef.h>

#include <duktape.h>

struct proto_value;
struct proto_writer;

/* Room for the sentence that says why a conversion failed. */
#define JS_VALUE_WHY_MAX 256

/* Stack slots of the original constructors of a fresh environment, which
 * js_value_write() uses to recognise values it cannot convert. The caller
 * pushes them at these indices before any script runs. */
#define JS_VALUE_IDX_DATE 0
#define JS_VALUE_IDX_REGEXP 1

/* [ ... ] -> [ ... string ]. Pushes len bytes of well-formed UTF-8 as a
 * JavaScript string: characters above U+FFFF become surrogate pairs, as
 * the language requires. Returns 0 or -ENOMEM (stack unchanged). */
int js_value_push_utf8(duk_context *ctx, const char *s, size_t len);

/* [ ... ] -> [ ... value ]. Pushes the JavaScript form of v, every array
 * and object in it frozen. Returns 0, or
 * -EINVAL with why filled in (a bad string, an unsupported type, nesting
 * too deep); the stack is then unchanged. May throw on allocation failure:
 * call inside duk_safe_call(). */
int js_value_push(duk_context *ctx, const struct proto_value *v, char *why);

/* [ ... value ] -> [ ... value ]. Writes the value at idx to w. Returns 0;
 * -EINVAL with why filled in when it holds something that cannot convert
 * (a function, a cycle, a Date...); or the writer's -E2BIG / -ENOMEM. May
 * run script code (getters) and throw: call inside duk_safe_call(). */
int js_value_write(duk_context *ctx, duk_idx_t idx, struct proto_writer *w,
		   char *why);

#endif
