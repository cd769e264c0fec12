/* SPDX-License-Identifier: MIT */
/*
 * Thin wrappers around the OS calls that every binary needs: clocks, whole
 * reads and writes, fd flags. Each returns 0 or a count on success and
 * -errno on failure, with errno captured at the failing call.
 */
#ifndef BEDDEL_COMMON_SYS_H
#define BEDDEL_COMMON_SYS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds and microseconds. Async-signal-safe. */
uint64_t sys_now_ns(void);
uint64_t sys_now_us(void);

/* CPU time this process has used, in microseconds. */
uint64_t sys_cpu_us(void);

/* Writes all len bytes, retrying on EINTR and short writes. Returns 0 or
 * -errno (-EPIPE when the reader is gone). Async-signal-safe. */
int sys_write_all(int fd, const void *buf, size_t len);

/* Reads exactly len bytes. Returns len, 0 when the stream ended before the
 * first byte, -EPIPE when it ended part way, or -errno. A timeout_ms of
 * -1 waits forever; otherwise -ETIMEDOUT once the time has passed. */
int sys_read_exact(int fd, void *buf, size_t len, int timeout_ms);

/* Sets O_NONBLOCK on fd. Returns 0 or -errno. */
int sys_set_nonblock(int fd);

#endif
