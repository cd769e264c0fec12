/* SPDX-License-Identifier: MIT */
/*
 * A blocking client of a running supervisor, for beddel-run and tests.
 */
#ifndef BEDDEL_SUPERVISOR_REMOTE_H
#define BEDDEL_SUPERVISOR_REMOTE_H

#include <stddef.h>
#include <stdint.h>

struct proto_frame;

/* Connects to the supervisor's socket. Returns a blocking fd, or -errno. */
int remote_connect(const char *path);

/* The same, with a non-blocking socket: where the listen backlog is full
 * it fails at once with -EAGAIN (unix(7)), where a blocking connect would
 * wait with no deadline. */
int remote_connect_nonblock(const char *path);

/* Sends one request frame on fd and reads the response. Returns 0 with a
 * malloc()ed payload, -ETIMEDOUT when none came within timeout_ms,
 * -ECONNRESET when the supervisor closed the connection without an answer,
 * or -errno. The caller must ignore SIGPIPE. */
int remote_call(int fd, const struct proto_frame *req, int timeout_ms,
		uint8_t **ret_buf, size_t *ret_len);

#endif
