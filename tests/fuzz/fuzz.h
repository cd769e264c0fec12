/* SPDX-License-Identifier: MIT */
/*
 * The contract between a fuzz target (fuzz_*.c) and what drives it:
 * libFuzzer in a clang build with -Dfuzz=true, or fuzz_replay.c in every
 * build, which runs the corpus and seeded mutations of it for a bounded
 * time as part of the test suite.
 */
#ifndef BEDDEL_TESTS_FUZZ_H
#define BEDDEL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Feeds one input to the target; must never crash, leak or hang. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls emit once per seed input the target knows (valid frames or files
 * built by Beddel's own encoders), for writing a fresh corpus. */
typedef void (*fuzz_emit_fn)(const uint8_t *data, size_t size, void *arg);
void fuzz_seeds(fuzz_emit_fn emit, void *arg);

#endif
