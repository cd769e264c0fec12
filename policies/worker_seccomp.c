/* SPDX-License-Identifier: MIT */
/*
 * Syscalls a JavaScript worker may make once sandbox_enter() has loaded
 * this filter. Before it, the worker has closed every fd but the two
 * pipes, set the limits in worker_limits.c, left root for nobody (when it
 * started as root), dropped every capability and set NO_NEW_PRIVS. Any
 * call not listed here, or made through a foreign architecture, kills the
 * process with SIGSYS, which the supervisor reports as
 * security_violation.
 *
 * Proved by tests/test_policy.c (the table's shape) and
 * tests/test_sandbox.c (allowed calls work, forbidden ones kill).
 *
 * Change rule: a second reviewer, and a commit message naming the code
 * path that needs the call, with the strace line that shows it.
 *
 * Groups, in this order: IPC, memory, clocks, scheduling, process end,
 * and in a build for testing with AddressSanitizer only, the sanitizer's
 * runtime. Sorted by name within each group.
 */
#include "policies/worker_seccomp.h"

#include <sys/mman.h>
#include <time.h>

#include "common/ipc.h"
#include "common/util.h"

const struct policy_rule worker_seccomp[] = {
	/* IPC: the worker's only channels; needed by worker/worker.c. */
	POLICY_ALLOW_IF(WORKER_SECCOMP_IPC, read, "request frames from the supervisor, on the request pipe only",
			POLICY_ARG(0, SCMP_CMP_EQ, IPC_FD_REQ, 0)),
	POLICY_ALLOW_IF(WORKER_SECCOMP_IPC, write, "result frames to the supervisor, on the reply pipe only",
			POLICY_ARG(0, SCMP_CMP_EQ, IPC_FD_RSP, 0)),

	/* Memory: the Duktape heap grows and shrinks through libc malloc. */
	POLICY_ALLOW(WORKER_SECCOMP_MEMORY, brk, "libc malloc grows and trims the main arena"),
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's allocator gives other advice too, in a build
	 * made for testing with it (-Db_sanitize=address) only. */
	POLICY_ALLOW(WORKER_SECCOMP_MEMORY, madvise, "AddressSanitizer's allocator returns freed memory; malloc_trim after a large execution"),
#else
	/* MADV_DONTNEED only drops the worker's own free pages; other advice
	 * (MADV_MERGEABLE would let the kernel share pages with other
	 * processes, a side channel between tenants) stays forbidden. */
	POLICY_ALLOW_IF(WORKER_SECCOMP_MEMORY, madvise, "malloc_trim hands back the pages an execution freed (worker/js.c), MADV_DONTNEED only",
			POLICY_ARG(2, SCMP_CMP_EQ, MADV_DONTNEED, 0)),
#endif
	POLICY_ALLOW_IF(WORKER_SECCOMP_MEMORY, mmap, "libc malloc maps large blocks: anonymous, never executable, no fd",
			POLICY_ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
			POLICY_ARG(3, SCMP_CMP_MASKED_EQ, MAP_ANONYMOUS,
				   MAP_ANONYMOUS),
			POLICY_ARG(4, SCMP_CMP_MASKED_EQ, 0xffffffffu,
				   0xffffffffu)),
	POLICY_ALLOW_IF(WORKER_SECCOMP_MEMORY, mremap, "libc realloc moves large blocks; no flag but MREMAP_MAYMOVE",
			POLICY_ARG(3, SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)MREMAP_MAYMOVE,
				   0)),
	POLICY_ALLOW(WORKER_SECCOMP_MEMORY, munmap, "libc free returns large blocks"),

	/* Clocks: execution time, CPU time and Date. The vDSO answers most
	 * calls without entering the kernel; these rules cover the rest. */
	POLICY_ALLOW_IF(WORKER_SECCOMP_CLOCKS, clock_gettime, "wall, monotonic and process CPU clocks only",
			POLICY_ARG(0, SCMP_CMP_LE, CLOCK_PROCESS_CPUTIME_ID, 0)),
	POLICY_ALLOW(WORKER_SECCOMP_CLOCKS, gettimeofday, "Duktape's Date.now() reads the wall clock"),

	/* Scheduling: the worker gives up its core after a result, so that
	 * the supervisor, often waiting on the same core, answers first. */
	POLICY_ALLOW(WORKER_SECCOMP_SCHEDULING, sched_yield, "worker/worker.c lets the supervisor answer before the next environment is built"),

	/* Process end. */
	POLICY_ALLOW(WORKER_SECCOMP_EXIT, exit_group, "_exit() after the request pipe closes or a fatal engine error"),

#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's runtime, in a build made for testing with it
	 * (-Db_sanitize=address): never in a release build, which the
	 * sanitizer option is not. */
	POLICY_ALLOW(WORKER_SECCOMP_SANITIZER, sigaltstack, "AddressSanitizer checks the signal stack when a longjmp unwinds"),
#endif
};

const size_t worker_seccomp_count = UTIL_ARRAY_SIZE(worker_seccomp);
