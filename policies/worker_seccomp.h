/* SPDX-License-Identifier: MIT */
/*
 * The syscall allowlist of a sandboxed JavaScript worker.
 */
#ifndef BEDDEL_POLICIES_WORKER_SECCOMP_H
#define BEDDEL_POLICIES_WORKER_SECCOMP_H

#include <stddef.h>

#include "common/policy.h"

/* The purpose groups of the allowlist, in table order. */
enum worker_seccomp_group {
	WORKER_SECCOMP_IPC,
	WORKER_SECCOMP_MEMORY,
	WORKER_SECCOMP_CLOCKS,
	WORKER_SECCOMP_SCHEDULING,
	WORKER_SECCOMP_EXIT,
	WORKER_SECCOMP_SANITIZER, /* only in a sanitizer build */
};

extern const struct policy_rule worker_seccomp[];
extern const size_t worker_seccomp_count;

#endif
