/* SPDX-License-Identifier: MIT */
/*
 * The unsandboxed baseline of the benchmarks: a plain Duktape heap with
 * the library's default fatal handler, in which scripts run one after
 * another, in one shared global environment or each in a fresh one. No
 * heap cap (only a ceiling of 256 MiB against runaway scripts), no time
 * limit, no sandbox, no conversion of the result. It exists only so that
 * bench/ can show what the isolation of worker/js.c and of the supervisor
 * costs; Beddel never runs a request through it, and nothing but bench/
 * may link it. Runs in-process, in the benchmark programs only.
 */
#ifndef BEDDEL_WORKER_JS_PLAIN_H
#define BEDDEL_WORKER_JS_PLAIN_H

#include <stdbool.h>
#include <stddef.h>

struct js_plain;

/* Creates a heap. With is_fresh_env, every eval runs in a new global
 * environment (new built-ins), as each execution of worker/js.c does;
 * the old one is garbage for the engine's next collection. Without it,
 * all evals share the heap's first one. The heap counts the bytes it
 * holds (js_plain_heap_peak), in counters of this module: one plain heap
 * per process. Returns NULL when out of memory, or when a plain heap
 * exists already. A fatal engine error later aborts the process
 * (Duktape's default fatal handler). */
struct js_plain *js_plain_new(bool is_fresh_env);

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

/* How far the heap grew above what it held at the last call, at its
 * peak since then (as worker/js.c reports an execution's heap peak);
 * each call starts a new count. Bytes as malloc sizes them. */
size_t js_plain_heap_peak(struct js_plain *p);

#endif
