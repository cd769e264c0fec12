/* SPDX-License-Identifier: MIT */
/*
 * The syscall allowlist of a sandboxed JavaScript worker.
 */
#ifndef BEDDEL_POLICIES_WORKER_SECCOMP_H
#define BEDDEL_POLICIES_WORKER_SECCOMP_H

#include <stddef.h>

#include "common/policy.h"

extern const struct policy_rule worker_seccomp[];
extern const size_t worker_seccomp_count;

#endif
