/* SPDX-License-Identifier: MIT */
/*
 * Beddel's changes to Duktape's stock configuration. The build copies
 * Debian's duk_config.h into the build directory with this file included
 * at its override marker (worker/duktape/meson.build), so every setting
 * here is seen by the engine and by Beddel's bindings alike.
 *
 * SECURITY: each setting either lets the worker stop a script (the
 * interrupt check) or takes away a path from scripts to engine internals.
 */

/* Every 256 Ki bytecode instructions the executor calls
 * js_engine_interrupt_due() (worker/js.c), which says whether the running
 * execution has passed its wall deadline or CPU budget, or called a
 * restricted function. Once it says yes it keeps saying yes until the
 * execution is over, so that no catch or finally clause can run on: the
 * engine throws a RangeError at every instruction until the error leaves
 * the script. */
#define DUK_USE_INTERRUPT_COUNTER
#undef DUK_USE_EXEC_TIMEOUT_CHECK
int js_engine_interrupt_due(void *udata);
#define DUK_USE_EXEC_TIMEOUT_CHECK(udata) js_engine_interrupt_due(udata)

/* Brings the next interrupt check forward to the next instruction of
 * the running thread (worker/duktape/duk_beddel.c). */
struct duk_hthread;
void beddel_duk_interrupt_soon(struct duk_hthread *ctx);

/* No bytecode loading: duk_load_function() builds functions from bytes
 * the engine trusts. Debugger support is off in the stock configuration
 * and stays off. The Duktape and CBOR built-ins cannot be configured away
 * here (the distributed source holds pre-generated built-in tables that
 * name them), so worker/js.c deletes those globals from every
 * environment. */
#undef DUK_USE_BYTECODE_DUMP_SUPPORT
#undef DUK_USE_DEBUGGER_SUPPORT

/* In a build for testing with AddressSanitizer, C stack frames are
 * several times larger: the engine's limits on C recursion come down
 * with them, so that deep recursion still ends in the engine's error
 * rather than a stack overflow. */
#if defined(__SANITIZE_ADDRESS__)
#undef DUK_USE_NATIVE_CALL_RECLIMIT
#define DUK_USE_NATIVE_CALL_RECLIMIT 250
#undef DUK_USE_COMPILER_RECLIMIT
#define DUK_USE_COMPILER_RECLIMIT 600
#endif

/* Integers are kept as 64-bit integers inside the engine where a double
 * is not needed: loops and array indexes run faster. */
#define DUK_USE_FASTINT
