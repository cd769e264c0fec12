/* SPDX-License-Identifier: MIT */
/*
 * Frames out of a libevent buffer, for the supervisor's non-blocking
 * pipes and sockets.
 */
#ifndef BEDDEL_SUPERVISOR_EVFRAME_H
#define BEDDEL_SUPERVISOR_EVFRAME_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* Takes one whole frame off the front of in. Returns 1 with a malloc()ed
 * payload; 0 when no whole frame is buffered yet; -EMSGSIZE when the
 * header announces more than max_len (the header is consumed and
 * *ret_len holds the announced length, so that the caller may skip it);
 * -EBADMSG for an empty frame (consumed); -ENOMEM. */
int evframe_pull(struct evbuffer *in, size_t max_len, uint8_t **ret_buf,
		 size_t *ret_len);

#endif
