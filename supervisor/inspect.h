/* SPDX-License-Identifier: MIT */
/*
 * What a live worker's sandbox looks like from outside: read from its
 * /proc entries (status, limits, ns, mountinfo), never from what the
 * worker says. The supervisor logs it once its first worker is ready, and
 * beddel-run --check prints it. Supervisor and beddel-run; reads files,
 * not async-signal-safe.
 */
#ifndef BEDDEL_SUPERVISOR_INSPECT_H
#define BEDDEL_SUPERVISOR_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The namespaces a worker can be given, as bits. */
enum inspect_ns {
	INSPECT_NS_NET = 1u << 0,
	INSPECT_NS_MNT = 1u << 1,
	INSPECT_NS_IPC = 1u << 2,
	INSPECT_NS_UTS = 1u << 3,
	INSPECT_NS_PID = 1u << 4,
	INSPECT_NS_USER = 1u << 5,
};

#define INSPECT_NS_COUNT 6

struct inspect_layers {
	bool has_seccomp;	/* Seccomp: 2 (filter mode) */
	unsigned seccomp_filters;
	bool has_no_new_privs;
	bool has_no_capabilities; /* inheritable, permitted, effective,
				   * bounding and ambient sets all empty */
	unsigned long uid;	  /* real uid, as this process sees it */
	bool has_rlimits;	  /* no core, no file size, no processes, fds
				   * and address space bounded */
	uint64_t address_space_bytes;
	uint64_t max_fds;
	unsigned namespaces;	   /* INSPECT_NS_* the worker does not share
				    * with this process */
	unsigned namespaces_known; /* those this process could compare */
	bool has_empty_root;	   /* one read-only tmpfs, nothing else */
	bool is_root_known;
};

/* Reads the layers of process pid. Returns 0, or -errno when its status
 * cannot be read (it is gone). Parts this process may not read (another
 * user's ns links) are left unknown, not guessed. */
int inspect_worker(pid_t pid, struct inspect_layers *ret);

/* The protections a sandbox needs, all present: seccomp, no_new_privs, no
 * capabilities, an unprivileged uid, rlimits. Namespaces are extra
 * depth, reported but not required (a host may not allow them). */
bool inspect_is_complete(const struct inspect_layers *l);

/* One line for a log: "seccomp=on no_new_privs=on ...". */
void inspect_describe(const struct inspect_layers *l, char *buf, size_t size);

/* The name of namespace bit number i ("net", "mnt", ...). */
const char *inspect_ns_name(unsigned i);

#endif
