/* SPDX-License-Identifier: MIT */
/*
 * Beddel's one addition to the engine, appended to Debian's duktape.c at
 * build time (worker/duktape/meson.build) so that it sees the engine's
 * internal structures. Declared in worker/duktape/duk_overrides.h.
 */

/* Makes the thread running bytecode call the interrupt check before its
 * next instruction, instead of up to 256 Ki instructions later. The heap
 * allocator calls it when the heap cap refuses an allocation: a script at
 * its cap runs an emergency garbage collection on every allocation, so
 * its instructions become so slow that the next regular check could be
 * minutes away, and only the check can stop it. Setting the countdown to
 * zero is what the engine does itself on entering a thread (see
 * DUK_HEAP_SWITCH_THREAD). */
DUK_EXTERNAL void
beddel_duk_interrupt_soon(duk_context *ctx)
{
	duk_hthread *thr = (duk_hthread *) ctx;
	duk_hthread *curr;

	if (thr == NULL || thr->heap == NULL)
		return;
	curr = thr->heap->curr_thread;
	if (curr == NULL)
		return;
	curr->interrupt_counter = 0;
	curr->interrupt_init = 0;
}
