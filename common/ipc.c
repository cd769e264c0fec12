/* SPDX-License-Identifier: MIT */
/*
 * Frame headers, and a blocking frame reader for the worker and the
 * beddel-run client. The length is checked against the caller's limit
 * before anything is allocated, so a peer cannot make us reserve memory
 * by claiming a large frame.
 */
#include "common/ipc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/sys.h"

void
ipc_header_encode(size_t len, uint8_t out[IPC_HEADER_BYTES])
{
	out[0] = (uint8_t)(len >> 24);
	out[1] = (uint8_t)(len >> 16);
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

size_t
ipc_header_length(const uint8_t in[IPC_HEADER_BYTES])
{
	return (size_t)in[0] << 24 | (size_t)in[1] << 16 | (size_t)in[2] << 8 |
	       (size_t)in[3];
}

int
ipc_header_decode(const uint8_t in[IPC_HEADER_BYTES], size_t max_len,
		  size_t *ret_len)
{
	size_t len = ipc_header_length(in);

	if (len == 0)
		return -EBADMSG;
	if (len > max_len)
		return -EMSGSIZE;
	*ret_len = len;
	return 0;
}

void
ipc_describe_oversize(size_t len, size_t max_len, char *buf, size_t size)
{
	(void)snprintf(buf, size,
		       "frame of %zu bytes is over the limit of %zu bytes", len,
		       max_len);
}

int
ipc_read_frame(int fd, size_t max_len, int timeout_ms, uint8_t **ret_buf,
	       size_t *ret_len)
{
	uint8_t header[IPC_HEADER_BYTES];
	size_t len;
	int r;

	r = sys_read_exact(fd, header, sizeof(header), timeout_ms);
	if (r <= 0)
		return r;
	r = ipc_header_decode(header, max_len, &len);
	if (r < 0)
		return r;

	uint8_t *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	r = sys_read_exact(fd, buf, len, timeout_ms);
	if (r <= 0) {
		free(buf);
		return r == 0 ? -EPIPE : r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 1;
}
