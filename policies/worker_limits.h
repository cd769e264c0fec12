/* SPDX-License-Identifier: MIT */
/*
 * The resource limits a sandboxed JavaScript worker sets on itself.
 */
#ifndef BEDDEL_POLICIES_WORKER_LIMITS_H
#define BEDDEL_POLICIES_WORKER_LIMITS_H

#include <stddef.h>

#include "common/policy.h"

/* Address space ceiling of a worker. The per-execution heap cap is
 * enforced by the engine's allocator; this is the backstop if that
 * accounting is ever wrong. */
#define WORKER_LIMITS_AS_BYTES (256u * 1024u * 1024u)

extern const struct policy_limit worker_limits[];
extern const size_t worker_limits_count;

#endif
