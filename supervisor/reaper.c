/* SPDX-License-Identifier: MIT */
/*
 * Mapping of worker deaths to error kinds:
 *   SIGSYS                      security_violation (seccomp killed it)
 *   deadline kill, SIGXCPU      timeout (SIGXCPU: for a CPU limit; none
 *                               is set on workers yet)
 *   exit IPC_EXIT_OOM           memory_limit
 *   a frame it should not send  worker_crashed
 *   anything else               worker_crashed
 */
#include "supervisor/reaper.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "common/ipc.h"

enum outcome
reaper_classify(int status, enum reaper_cause cause, const char *syscall,
		char *why, size_t why_size)
{
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

	if (cause == REAPER_CAUSE_DEADLINE) {
		(void)snprintf(why, why_size, "the script ran past its wall-clock timeout");
		return OUTCOME_TIMEOUT;
	}
	if (cause == REAPER_CAUSE_SHUTDOWN) {
		(void)snprintf(why, why_size, "the supervisor stopped before the script finished: its drain deadline passed");
		return OUTCOME_OVERLOADED;
	}
	if (cause == REAPER_CAUSE_PROTOCOL) {
		(void)snprintf(why, why_size, "the worker sent a malformed frame and was stopped");
		return OUTCOME_WORKER_CRASHED;
	}
	if (sig == SIGSYS && syscall) {
		(void)snprintf(why, why_size, "the worker made a forbidden system call (%s) and was killed by the sandbox",
			       syscall);
		return OUTCOME_SECURITY_VIOLATION;
	}
	if (sig == SIGSYS) {
		(void)snprintf(why, why_size, "the worker made a forbidden system call and was killed by the sandbox");
		return OUTCOME_SECURITY_VIOLATION;
	}
	if (sig == SIGXCPU) {
		(void)snprintf(why, why_size, "the worker ran out of CPU time");
		return OUTCOME_TIMEOUT;
	}
	if (code == IPC_EXIT_OOM) {
		(void)snprintf(why, why_size, "the engine ran out of memory");
		return OUTCOME_MEMORY_LIMIT;
	}
	if (code == IPC_EXIT_DIRTY) {
		(void)snprintf(why, why_size, "the worker's heap did not shrink back after a request, so it stopped");
		return OUTCOME_WORKER_CRASHED;
	}
	if (sig)
		(void)snprintf(why, why_size, "the worker died of signal %d (%s)",
			       sig, strsignal(sig));
	else
		(void)snprintf(why, why_size, "the worker exited with code %d",
			       code);
	return OUTCOME_WORKER_CRASHED;
}

void
reaper_describe(int status, const char *syscall, char *buf, size_t size)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS && syscall)
		(void)snprintf(buf, size, "sig=%d syscall=%s", WTERMSIG(status),
			       syscall);
	else if (WIFSIGNALED(status))
		(void)snprintf(buf, size, "sig=%d", WTERMSIG(status));
	else
		(void)snprintf(buf, size, "exit=%d", WEXITSTATUS(status));
}
