/* SPDX-License-Identifier: MIT */
/*
 * Starting a worker process: clone into new namespaces where the host
 * allows it, move the pipes to the worker's fixed fds, exec the worker
 * binary. Supervisor and beddel-run only.
 */
#ifndef BEDDEL_SUPERVISOR_SPAWN_H
#define BEDDEL_SUPERVISOR_SPAWN_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A started worker: its pid, the write end of its request pipe and the
 * read end of its reply pipe (both non-blocking and close-on-exec). */
struct spawn_child {
	pid_t pid;
	int req_fd;
	int rsp_fd;
};

/* Finds the worker binary: $BEDDEL_WORKER if set, else beddel-worker next
 * to the running executable, in ../worker/ beside it (the build tree),
 * or in the install's libexec directory. Returns a static string, or NULL
 * if none is executable. */
const char *spawn_find_worker(void);

/* The namespaces a worker may get, as clone(2) flags: network (no
 * interface but a down loopback), mount (an empty, read-only root), IPC,
 * UTS and PID (the worker is its namespace's only process). */
#define SPAWN_NAMESPACES                                                    \
	(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS |        \
	 CLONE_NEWPID)

/* Which namespaces this host lets the process give its workers: as root,
 * SPAWN_NAMESPACES; otherwise SPAWN_NAMESPACES | CLONE_NEWUSER where
 * unprivileged user namespaces are allowed; else 0. Tries once, with a
 * child that exits at once, and remembers the answer. Event loop only. */
int spawn_namespaces(void);

/* How a worker starts: the namespaces it gets (clone(2) flags; 0: none)
 * and the largest heap cap it will be given (0: not said), from which it
 * derives its address space limit. */
struct spawn_options {
	int ns_flags;
	uint64_t heap_max_bytes;
	bool is_transform; /* a transform worker (worker/js.h) */
};

/* Starts path as a worker as opts says, with an empty environment but
 * TZ=UTC. Returns 0 and fills ret_child, or
 * -errno (ret_child untouched). The child never returns: it execs or
 * _exits with IPC_EXIT_EXEC. Not async-signal-safe; call from the event
 * loop only. */
int spawn_worker(const char *path, const struct spawn_options *opts,
		 struct spawn_child *ret_child);

#endif
