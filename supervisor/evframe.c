/* SPDX-License-Identifier: MIT */
/*
 * Frame extraction from an evbuffer. The header is checked against the
 * limit before the payload is waited for, so a peer that announces a huge
 * frame gets its answer at once instead of making us buffer it.
 */
#include "supervisor/evframe.h"

#include <errno.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "common/ipc.h"

int
evframe_pull(struct evbuffer *in, size_t max_len, uint8_t **ret_buf,
	     size_t *ret_len)
{
	uint8_t header[IPC_HEADER_BYTES];
	size_t len;

	if (evbuffer_get_length(in) < IPC_HEADER_BYTES)
		return 0;
	(void)evbuffer_copyout(in, header, sizeof(header));
	int r = ipc_header_decode(header, max_len, &len);
	if (r == -EMSGSIZE) {
		*ret_len = ipc_header_length(header);
		(void)evbuffer_drain(in, IPC_HEADER_BYTES);
		return r;
	}
	if (r < 0) {
		(void)evbuffer_drain(in, IPC_HEADER_BYTES);
		return r;
	}
	if (evbuffer_get_length(in) < IPC_HEADER_BYTES + len)
		return 0;

	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	(void)evbuffer_drain(in, IPC_HEADER_BYTES);
	(void)evbuffer_remove(in, buf, len);
	*ret_buf = buf;
	*ret_len = len;
	return 1;
}
