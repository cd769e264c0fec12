/* SPDX-License-Identifier: MIT */
/*
 * OS call wrappers shared by the supervisor, the worker and beddel-run.
 * The worker calls sys_write_all() and sys_read_exact() after its seccomp
 * filter is loaded, so those two must reach only read(2) and write(2);
 * poll(2) is skipped there because the worker passes timeout_ms = -1.
 */
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

uint64_t
sys_now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
sys_now_us(void)
{
	return sys_now_ns() / 1000u;
}

uint64_t
sys_cpu_us(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int
sys_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Waits until fd is readable or the deadline passes; a deadline already
 * past still sees data that is there now. */
static int
wait_readable(int fd, uint64_t deadline_ns)
{
	for (;;) {
		uint64_t now = sys_now_ns();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ms = now >= deadline_ns ?
				 0 :
				 (int)((deadline_ns - now + 999999u) / 1000000u);
		int r = poll(&pfd, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 0;
		if (r == 0 && ms == 0)
			return -ETIMEDOUT;
	}
}

int
sys_read_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	uint64_t deadline_ns = 0;
	char *p = buf;
	size_t got = 0;

	if (timeout_ms >= 0)
		deadline_ns = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (got < len) {
		if (timeout_ms >= 0) {
			int r = wait_readable(fd, deadline_ns);
			if (r < 0)
				return r;
		}
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return got == 0 ? 0 : -EPIPE;
		got += (size_t)n;
	}
	return (int)len;
}

int
sys_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}
