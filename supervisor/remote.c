/* SPDX-License-Identifier: MIT */
/*
 * Blocking Unix-socket client. The supervisor is trusted to answer, but
 * not to answer in time: every read has a deadline.
 */
#include "supervisor/remote.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"

static int
connect_with(const char *path, int flags)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path) + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		(void)close(fd);
		return r;
	}
	return fd;
}

int
remote_connect(const char *path)
{
	return connect_with(path, 0);
}

int
remote_connect_nonblock(const char *path)
{
	return connect_with(path, SOCK_NONBLOCK);
}

int
remote_call(int fd, const struct proto_frame *req, int timeout_ms,
	    uint8_t **ret_buf, size_t *ret_len)
{
	int w = sys_write_all(fd, req->data, req->len);

	/* A supervisor that refuses the connection (too many clients, or
	 * stopping) answers and closes before reading: the write then fails,
	 * but its answer is waiting to be read. */
	int r = ipc_read_frame(fd, IPC_FRAME_MAX_CEILING, timeout_ms, ret_buf,
			       ret_len);
	if (r > 0)
		return 0;
	if (w < 0)
		return w;
	return r == 0 ? -ECONNRESET : r;
}
