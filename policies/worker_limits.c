/* SPDX-License-Identifier: MIT */
/*
 * Resource limits of a JavaScript worker, set as soft = hard by
 * sandbox_enter() before it drops privileges: an unprivileged process can
 * lower a hard limit but never raise it again, and setrlimit(2) and
 * prlimit(2) are not in the seccomp allowlist anyway.
 *
 * Proved by tests/test_sandbox.c, which reads /proc/PID/limits of a live
 * worker.
 */
#include "policies/worker_limits.h"

#include <sys/resource.h>

#include "common/ipc.h"
#include "common/util.h"

const struct policy_limit worker_limits[] = {
	{ RLIMIT_AS, "RLIMIT_AS", WORKER_LIMITS_AS_BYTES,
	  "backstop for the allocator's heap cap: a runaway worker fails allocations instead of taking host memory; lowered from the largest heap cap (worker_limits.h)" },
	{ RLIMIT_CORE, "RLIMIT_CORE", 0,
	  "a crashing worker must not write tenant data to disk in a core file" },
	{ RLIMIT_FSIZE, "RLIMIT_FSIZE", 0,
	  "no file may be written, even through an fd that slipped through" },
	{ RLIMIT_LOCKS, "RLIMIT_LOCKS", 0, "a worker holds no file locks" },
	{ RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0,
	  "locked pages would escape the host's memory reclaim" },
	{ RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 0,
	  "no POSIX message queues: no channel to other processes" },
	{ RLIMIT_NOFILE, "RLIMIT_NOFILE", IPC_FD_RSP + 1,
	  "only the request and reply pipes, the highest fd kept, may exist" },
	{ RLIMIT_NPROC, "RLIMIT_NPROC", 0,
	  "no child processes, even if a fork slipped past seccomp" },
};

const size_t worker_limits_count = UTIL_ARRAY_SIZE(worker_limits);
