/* SPDX-License-Identifier: MIT */
/*
 * The framing shared by the worker pipes and the client socket: a 4-byte
 * big-endian payload length, then that many bytes of msgpack. Also the
 * fixed contract between supervisor and worker: which fds the worker
 * keeps and what its exit codes mean.
 */
#ifndef BEDDEL_COMMON_IPC_H
#define BEDDEL_COMMON_IPC_H

#include <stddef.h>
#include <stdint.h>

/* The worker reads requests on IPC_FD_REQ and writes replies on
 * IPC_FD_RSP; every other fd is closed before the sandbox is entered. */
#define IPC_FD_REQ 3
#define IPC_FD_RSP 4

#define IPC_HEADER_BYTES 4

/* Default and hard ceiling of a frame's payload, in bytes. */
#define IPC_FRAME_MAX_DEFAULT (1024u * 1024u)
#define IPC_FRAME_MAX_CEILING (64u * 1024u * 1024u)

/* Worker exit codes. Only supervisor/reaper.c turns them into outcomes. */
#define IPC_EXIT_DONE 0      /* request pipe closed: a planned stop */
#define IPC_EXIT_SETUP 70    /* a sandbox or engine setup step failed */
#define IPC_EXIT_OOM 71      /* the engine ran out of memory fatally */
#define IPC_EXIT_PROTOCOL 72 /* the supervisor sent a frame it cannot read */
#define IPC_EXIT_FATAL 73    /* the engine hit a fatal error */
#define IPC_EXIT_EXEC 74     /* between fork and exec: the exec failed */
#define IPC_EXIT_ORPHANED 75 /* the reply pipe broke: the supervisor is gone */
#define IPC_EXIT_DIRTY 76    /* the heap did not return to its warm size */

/* Writes the header for a payload of len bytes into out. */
void ipc_header_encode(size_t len, uint8_t out[IPC_HEADER_BYTES]);

/* The payload length a header announces, unchecked. */
size_t ipc_header_length(const uint8_t in[IPC_HEADER_BYTES]);

/* Reads a header. Returns 0 and sets ret_len; -EBADMSG for an empty
 * payload; -EMSGSIZE when the payload would exceed max_len. */
int ipc_header_decode(const uint8_t in[IPC_HEADER_BYTES], size_t max_len,
		      size_t *ret_len);

/* Writes the sentence a peer gets for a frame of len bytes over max_len
 * (the same words from the supervisor and from beddel-run alone). */
void ipc_describe_oversize(size_t len, size_t max_len, char *buf,
			   size_t size);

/* Reads one whole frame from a blocking fd into a new buffer (free()
 * it). Returns 1 with the payload, 0 on a clean end of stream before a
 * header, or -EMSGSIZE, -EBADMSG, -EPIPE (stream cut inside a frame),
 * -ETIMEDOUT, -ENOMEM, -errno. Safe in the sandboxed worker with
 * timeout_ms = -1. */
int ipc_read_frame(int fd, size_t max_len, int timeout_ms, uint8_t **ret_buf,
		   size_t *ret_len);

#endif
