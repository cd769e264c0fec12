/* SPDX-License-Identifier: MIT */
/*
 * The prelude: ES2015+ built-ins the engine lacks (Map, Set, WeakMap,
 * WeakSet, Promise, Array.from, Object.entries, String.prototype.padStart
 * and others; the files in worker/prelude/). A fresh environment gets only the pieces its script names, so
 * that a script that names none pays nothing. Worker only, on a thread
 * of its engine; the transform engine installs every piece once.
 */
#ifndef BEDDEL_WORKER_JS_PRELUDE_H
#define BEDDEL_WORKER_JS_PRELUDE_H

#include <stdbool.h>
#include <stddef.h>

#include <duktape.h>

/* Which pieces code reaches: a bit per piece, with the pieces they need.
 * A piece is reached when code names it (js_prelude.c says how), also in
 * a string or a comment: installing one too many costs only time, while
 * a name reached only by a computed key ([]['fi' + 'nd']) installs
 * nothing. Pure. */
unsigned js_prelude_needs(const char *code, size_t len);

/* Every piece. */
unsigned js_prelude_all(void);

/* [ ... ] -> [ ... value ]: runs the built-in file called name
 * (embedded.h), followed by trailer (NULL: none), as global code of ctx
 * and pushes its completion value. Throws on failure: call it
 * protected. */
void js_prelude_run_file(duk_context *ctx, const char *name,
			 const char *trailer);

/* [ ... ] -> [ ... runner ]: installs the pieces of mask in the global
 * environment of ctx, in their order, and pushes the Promise piece's
 * queue runner (a function of the script's result that runs the
 * queued reactions and returns the result, settled if it is a promise),
 * or undefined when that piece is not in mask. Throws on failure (out
 * of memory, the script's limits): call it protected. */
void js_prelude_install(duk_context *ctx, unsigned mask);

#endif
