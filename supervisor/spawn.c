/* SPDX-License-Identifier: MIT */
/*
 * Worker start-up by fork and exec. Exec, rather than a fork of the
 * supervisor, is what guarantees that no worker holds memory inherited
 * from the supervisor: the supervisor's heap holds other tenants' scripts,
 * inputs and results, and exec replaces the whole address space. See
 * docs/DESIGN.md.
 *
 * Between fork and exec the child runs only async-signal-safe calls:
 * open, write, close, fcntl, dup2, close_range, prctl, getppid,
 * sigprocmask, signal, execve, _exit.
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
#include <sys/wait.h>
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

/* The lines a new user namespace's maps get: the supervisor's own uid
 * and gid become root inside, the only ids an unprivileged process may
 * map (user_namespaces(7)). Formatted before the clone, since the child
 * may call only async-signal-safe functions. */
struct id_maps {
	char uid_map[32];
	char gid_map[32];
};

/* Writes text to the file at path. Async-signal-safe. */
static int
write_file(const char *path, const char *text)
{
	size_t len = strlen(text);

	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, len);
	(void)close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* In a child in a new user namespace: its id maps. setgroups must be
 * denied before an unprivileged process may write gid_map. */
static int
map_ids(const struct id_maps *maps)
{
	if (write_file("/proc/self/setgroups", "deny") < 0 ||
	    write_file("/proc/self/gid_map", maps->gid_map) < 0 ||
	    write_file("/proc/self/uid_map", maps->uid_map) < 0)
		return -1;
	return 0;
}

static void
format_id_maps(struct id_maps *maps)
{
	(void)snprintf(maps->uid_map, sizeof(maps->uid_map), "0 %u 1",
		       (unsigned)geteuid());
	(void)snprintf(maps->gid_map, sizeof(maps->gid_map), "0 %u 1",
		       (unsigned)getegid());
}

/* fork(), or clone(2) into the namespaces ns_flags names. The raw
 * syscall with no stack behaves as fork does, but the child must not use
 * libc's thread state (its cached thread id is the parent's): it only
 * calls what exec_child() lists before it execs. */
static pid_t
fork_into(int ns_flags)
{
	if (ns_flags == 0)
		return fork();
	return (pid_t)syscall(SYS_clone, (unsigned long)ns_flags | SIGCHLD,
			      NULL, NULL, NULL, NULL);
}

int
spawn_namespaces(void)
{
	static int answer = -1;
	struct id_maps maps;
	int status;

	if (answer >= 0)
		return answer;
	int flags = SPAWN_NAMESPACES | (geteuid() == 0 ? 0 : CLONE_NEWUSER);
	format_id_maps(&maps);
	pid_t pid = fork_into(flags);
	if (pid == 0)
		_exit((flags & CLONE_NEWUSER) && map_ids(&maps) < 0 ? 1 : 0);
	answer = pid > 0 && waitpid(pid, &status, 0) == pid &&
				 WIFEXITED(status) && WEXITSTATUS(status) == 0 ?
			 flags :
			 0;
	return answer;
}

/* In the child: ids mapped (in a new user namespace), pipes onto fds 3
 * and 4, everything else closed, exec. */
/* The worker's arguments (worker/worker_main.c), made before the fork.
 * The worker sets up its empty root itself, after exec has loaded its
 * libraries; in a user namespace it cannot change its ids. */
struct worker_args {
	char heap[48];
	char *argv[6];
};

static void
make_args(const struct spawn_options *opts, struct worker_args *a)
{
	int argc = 0;

	a->argv[argc++] = (char *)"beddel-worker";
	if (opts->ns_flags & CLONE_NEWNS)
		a->argv[argc++] = (char *)"--new-root";
	if (opts->ns_flags & CLONE_NEWUSER)
		a->argv[argc++] = (char *)"--user-namespace";
	if (opts->heap_max_bytes > 0) {
		(void)snprintf(a->heap, sizeof(a->heap),
			       "--heap-max-bytes=%llu",
			       (unsigned long long)opts->heap_max_bytes);
		a->argv[argc++] = a->heap;
	}
	if (opts->is_transform)
		a->argv[argc++] = (char *)"--transform";
	a->argv[argc] = NULL;
}

static void
exec_child(const char *path, int req_read, int rsp_write, pid_t parent,
	   int ns_flags, const struct id_maps *maps, char *const *argv)
{
	static char *const envp[] = { "TZ=UTC", NULL };

	if ((ns_flags & CLONE_NEWUSER) && map_ids(maps) < 0)
		_exit(IPC_EXIT_EXEC);

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
	 * check after it covers a supervisor that died before the call. In
	 * a new PID namespace the parent is outside and reads as 0; a
	 * supervisor gone by then has closed the pipes, and the worker's
	 * first write kills it (SIGPIPE). */
	pid_t expected = (ns_flags & CLONE_NEWPID) ? 0 : parent;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != expected)
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
spawn_worker(const char *path, const struct spawn_options *opts,
	     struct spawn_child *ret_child)
{
	int ns_flags = opts->ns_flags;
	struct worker_args args;
	struct id_maps maps;
	int req[2], rsp[2];
	int r;

	if (pipe2(req, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(rsp, O_CLOEXEC) < 0) {
		r = -errno;
		goto err_close_req;
	}

	format_id_maps(&maps);
	make_args(opts, &args);
	pid_t parent = getpid();
	pid_t pid = fork_into(ns_flags);
	if (pid < 0) {
		r = -errno;
		goto err_close_rsp;
	}
	if (pid == 0)
		exec_child(path, req[0], rsp[1], parent, ns_flags, &maps,
			   args.argv);

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
