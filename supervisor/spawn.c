/* SPDX-License-Identifier: MIT */
/*
 * Worker start-up by fork and exec. Exec, rather than a fork of the
 * supervisor, is what guarantees that no worker holds memory inherited
 * from the supervisor: the supervisor's heap holds other tenants' scripts,
 * inputs and results, and exec replaces the whole address space. See
 * docs/DESIGN.md.
 *
 * Between fork and exec the child runs only async-signal-safe calls:
 * fcntl, dup2, close_range, prctl, getppid, sigprocmask, signal, execve,
 * _exit.
 */
#include "supervisor/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/sys.h"
#include "config.h"

static bool
is_executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/* dir/rel if that is an executable file, else NULL. */
static const char *
try_path(const char *dir, const char *rel)
{
	static char found[PATH_MAX];

	int n = snprintf(found, sizeof(found), "%s/%s", dir, rel);
	if (n < 0 || (size_t)n >= sizeof(found))
		return NULL;
	return is_executable(found) ? found : NULL;
}

const char *
spawn_find_worker(void)
{
	char self[PATH_MAX];
	const char *found = NULL;

	const char *env = getenv("BEDDEL_WORKER");
	if (env && *env)
		return is_executable(env) ? env : NULL;

	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? memrchr(self, '/', (size_t)n) : NULL;
	if (slash) {
		*slash = '\0';
		found = try_path(self, "beddel-worker");
		if (!found)
			found = try_path(self, "../worker/beddel-worker");
	}
	return found ? found : try_path(BEDDEL_LIBEXECDIR, "beddel-worker");
}

/* In the child: pipes onto fds 3 and 4, everything else closed, exec. */
static void
exec_child(const char *path, int req_read, int rsp_write, pid_t parent)
{
	static char *const envp[] = { "TZ=UTC", NULL };
	char *const argv[] = { (char *)"beddel-worker", NULL };

	/* Move both ends above 4 first, so that neither dup2 below can
	 * clobber the other. */
	int req = fcntl(req_read, F_DUPFD, IPC_FD_RSP + 1);
	int rsp = fcntl(rsp_write, F_DUPFD, IPC_FD_RSP + 1);
	if (req < 0 || rsp < 0)
		_exit(IPC_EXIT_EXEC);
	if (dup2(req, IPC_FD_REQ) < 0 || dup2(rsp, IPC_FD_RSP) < 0)
		_exit(IPC_EXIT_EXEC);

	/* SECURITY: no supervisor fd (client sockets, other workers' pipes,
	 * the listening socket) survives into the worker. close_range(2)
	 * needs Linux 5.9; without it, no worker starts. */
	if (syscall(SYS_close_range, IPC_FD_RSP + 1, ~0u, 0) < 0)
		_exit(IPC_EXIT_EXEC);

	/* A worker busy in an endless loop never reads its pipe again; if
	 * the supervisor dies, the kernel kills the worker instead. The
	 * check after it covers a supervisor that died before the call. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(IPC_EXIT_EXEC);

	/* The supervisor ignores SIGPIPE; a worker must not, and its signal
	 * mask must start empty. */
	sigset_t none;
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);

	(void)execve(path, argv, envp);
	_exit(IPC_EXIT_EXEC);
}

int
spawn_worker(const char *path, struct spawn_child *ret_child)
{
	int req[2], rsp[2];
	int r;

	if (pipe2(req, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rsp, O_CLOEXEC) < 0) {
		r = -errno;
		goto err_close_req;
	}

	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		goto err_close_rsp;
	}
	if (pid == 0)
		exec_child(path, req[0], rsp[1], parent);

	(void)close(req[0]);
	(void)close(rsp[1]);
	(void)sys_set_nonblock(req[1]);
	(void)sys_set_nonblock(rsp[0]);
	ret_child->pid = pid;
	ret_child->req_fd = req[1];
	ret_child->rsp_fd = rsp[0];
	return 0;

err_close_rsp:
	(void)close(rsp[0]);
	(void)close(rsp[1]);
err_close_req:
	(void)close(req[0]);
	(void)close(req[1]);
	return r;
}
