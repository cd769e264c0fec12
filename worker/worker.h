/* SPDX-License-Identifier: MIT */
/*
 * The worker's request loop: read an exec frame, run it, write the result
 * frame, until the request pipe closes. Worker only, after
 * sandbox_enter_or_die().
 */
#ifndef BEDDEL_WORKER_WORKER_H
#define BEDDEL_WORKER_WORKER_H

#include "common/ipc.h"
#include "worker/sandbox.h"

/* Largest exec frame the worker accepts. The supervisor never sends one
 * larger than the client frame limit; this is the worker's own check. */
#define WORKER_REQUEST_MAX IPC_FRAME_MAX_CEILING

/* Sets up the sandbox and the engine, announces readiness, and serves
 * requests. Never returns: exits 0 when the request pipe closes, or with
 * one of the IPC_EXIT_* codes. */
void worker_run(const struct sandbox_options *opts)
	__attribute__((noreturn));

#endif
