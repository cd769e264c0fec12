/* SPDX-License-Identifier: MIT */
/*
 * The unsandboxed baseline of the benchmarks: a plain Duktape heap with
 * the library's default allocator and fatal handler, in which scripts run
 * one after another in one shared global environment. No heap cap, no
 * fresh built-ins, no conversion of the result. It exists only so that
 * bench/ can show what the isolation of worker/js.c and of the supervisor
 * costs; Beddel never runs a request through it, and nothing but bench/
 * may link it. Runs in-process, in the benchmark programs only.
 */
#ifndef BEDDEL_WORKER_JS_PLAIN_H
#define BEDDEL_WORKER_JS_PLAIN_H

#include <stddef.h>

struct js_plain;

/* Creates a heap with duk_create_heap_default(). Returns NULL when out of
 * memory. A fatal engine error later aborts the process (Duktape's
 * default fatal handler). */
struct js_plain *js_plain_new(void);

/* Destroys the heap. Accepts NULL. */
void js_plain_free(struct js_plain *p);

/* Evaluates len bytes of code (no NUL needed) in the heap's one global
 * environment and drops the completion value. Whatever the script leaves
 * in globals stays for the next call. Returns 0, or -EINVAL when the
 * script does not compile or throws. */
int js_plain_eval(struct js_plain *p, const char *code, size_t len);

/* Like js_plain_eval(), and returns the completion value as compact JSON
 * (JSON.stringify) in a new string that the caller free()s; *ret_json is
 * untouched on failure. Returns 0; -EINVAL when the script fails or the
 * value has no JSON form (undefined, a function, a cycle); -ENOMEM. */
int js_plain_eval_json(struct js_plain *p, const char *code, size_t len,
		       char **ret_json);

#endif
