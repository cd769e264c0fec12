/* SPDX-License-Identifier: MIT */
/*
 * The worker's sandbox: the steps that take a freshly exec'd worker to the
 * state in which it may read its first request. Worker only.
 */
#ifndef BEDDEL_WORKER_SANDBOX_H
#define BEDDEL_WORKER_SANDBOX_H

/* Unprivileged identity a worker takes when it starts as root. */
#define SANDBOX_NOBODY_UID 65534
#define SANDBOX_NOBODY_GID 65534

#include <stdbool.h>
#include <stdint.h>

/* What the supervisor set up before exec (the worker's arguments). */
struct sandbox_options {
	/* In a new mount namespace: replace its root with an empty,
	 * read-only one. */
	bool is_new_root;
	/* Root of a new user namespace in which only that id is mapped:
	 * keep it (it is the supervisor's own, unprivileged, outside) and
	 * drop every capability. */
	bool is_user_namespace;
	/* The largest heap cap requests will give (0: not said): the
	 * address space limit is derived from it. */
	uint64_t heap_max_bytes;
	/* A transform worker (--transform): its engine lowers ES2015+
	 * source to ES5 instead of running scripts (js.h). The sandbox is
	 * the same. */
	bool is_transform;
};

/* Reads the worker's arguments (see worker_main.c) into ret_opts. Returns
 * 0, or -EINVAL for anything unknown. */
int sandbox_parse_args(int argc, char **argv, struct sandbox_options *ret_opts);

/* Closes every fd but IPC_FD_REQ and IPC_FD_RSP. Call first, before the
 * engine is created, so that nothing the engine sets up can see an
 * inherited fd. Does not return on failure. */
void sandbox_close_fds_or_die(void);

/* Empties the root (opts->is_new_root), applies the limits in
 * policies/worker_limits.c, leaves root (when the process is root outside
 * a user namespace), drops every capability including the bounding set,
 * sets NO_NEW_PRIVS, and loads the seccomp filter of
 * policies/worker_seccomp.c, in that order. Call after the engine is
 * warm and before the first request is read. On any failure it sends a
 * setup_failed frame and exits with IPC_EXIT_SETUP: no script ever runs
 * with a step missing. */
void sandbox_enter_or_die(const struct sandbox_options *opts);

/* Sends setup_failed {stage, errno} on IPC_FD_RSP and exits with
 * IPC_EXIT_SETUP. Async-signal-safe apart from the frame encoding. */
void sandbox_fail(const char *stage, int err) __attribute__((noreturn));

#endif
