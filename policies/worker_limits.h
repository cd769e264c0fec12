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
 * accounting is ever wrong. It is derived from the largest heap cap the
 * worker may be given (its profiles'): the engine, libc and the stack
 * take about 16 MiB, and a heap's garbage and the result's encoding up
 * to a few times the cap. WORKER_LIMITS_AS_BYTES is the ceiling, and the
 * limit when the supervisor names no heap cap. */
#define WORKER_LIMITS_AS_BASE_BYTES (64u * 1024u * 1024u)
#define WORKER_LIMITS_AS_PER_HEAP_BYTE 4u
#define WORKER_LIMITS_AS_BYTES (320u * 1024u * 1024u)
/* The ceiling of a transform worker (beddel-worker --transform), whose
 * compiler parses whole sources into trees several times their size: its
 * heap cap (supervisor/transform.c) is larger than any profile's, and so
 * is the address space derived from it. */
#define WORKER_LIMITS_TRANSFORM_AS_BYTES (768u * 1024u * 1024u)
/* In a build for testing with AddressSanitizer, which reserves
 * terabytes of shadow memory before main(), the only address space
 * limit that works: far above it. Never in other builds. */
#define WORKER_LIMITS_SANITIZER_AS_BYTES ((uint64_t)1 << 46)

extern const struct policy_limit worker_limits[];
extern const size_t worker_limits_count;

#endif
