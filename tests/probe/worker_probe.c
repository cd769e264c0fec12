/* SPDX-License-Identifier: MIT */
/*
 * beddel-worker-probe: a test-only worker, built with the test suites and
 * never installed. It enters the real sandbox (worker/sandbox.c) exactly
 * as beddel-worker does, then treats each request's code as the name of a
 * forbidden call to attempt. The sandbox must kill it; if the call
 * returns instead, it answers runtime_error "survived: ...", which fails
 * the test that sent it. Codes "fault-*" make it crash instead, or break
 * its protocol; "echo:TEXT" answers TEXT. Its build as
 * beddel-worker-probe-flaky (PROBE_FAILS_SETUP) fails its start-up about
 * one time in two. Used by
 * tests/test_supervisor.c and tests/test_faults.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "worker/sandbox.h"

/* Each attempt makes one call, through syscall(2) so that no libc
 * wrapper makes another one first. */
static long
try_open(void)
{
	return syscall(SYS_open, "/etc/passwd", O_RDONLY);
}

static long
try_openat(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}

static long
try_socket(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}

static long
try_clone(void)
{
	return syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

static long
try_execve(void)
{
	static char *const argv[] = { "/bin/sh", NULL };

	return syscall(SYS_execve, "/bin/sh", argv, argv + 1);
}

static long
try_ptrace(void)
{
	return syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static long
try_ioctl(void)
{
	struct termios t;

	return syscall(SYS_ioctl, IPC_FD_RSP, TCGETS, &t);
}

static long
try_prctl(void)
{
	return syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static long
try_bpf(void)
{
	return syscall(SYS_bpf, 0, NULL, 0);
}

static long
try_mount(void)
{
	return syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
}

static long
try_setns(void)
{
	return syscall(SYS_setns, 0, 0);
}

static long
try_unshare(void)
{
	return syscall(SYS_unshare, CLONE_NEWUSER);
}

static long
try_mprotect(void)
{
	static char page[4096] __attribute__((aligned(4096)));

	return syscall(SYS_mprotect, page, sizeof(page), PROT_READ | PROT_EXEC);
}

static long
try_mmap(void)
{
	return syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static long
try_kill(void)
{
	return syscall(SYS_kill, 1, 0);
}

static long
try_write(void)
{
	return syscall(SYS_write, 2, "x", 1);
}

static long
try_read(void)
{
	char c;

	return syscall(SYS_read, 0, &c, 1);
}

static long
try_setuid(void)
{
	return syscall(SYS_setuid, 0);
}

static long
try_getpid(void)
{
	return syscall(SYS_getpid);
}

/* Faults, for crash reporting: each raises its signal in the kernel, as
 * a bug in the engine would. */
static long
try_segv(void)
{
	/* An address no mapping holds, through a volatile pointer so that
	 * the compiler keeps the store. */
	volatile uintptr_t address = 8;

	*(volatile int *)address = 1;
	return 0;
}

static long
try_ill(void)
{
	__builtin_trap();
}

/* Floods the reply pipe with what no frame can be: a header announcing
 * more than any frame may hold, then junk, as a worker gone wrong would. */
static long
try_flood(void)
{
	static const uint8_t junk[4096] = { 0xff, 0xff, 0xff, 0xff };

	for (int i = 0; i < 64; i++) {
		if (sys_write_all(IPC_FD_RSP, junk, sizeof(junk)) < 0)
			break;
	}
	return 0;
}

static const struct attempt {
	const char *name; /* the request's code, and the syscall's name */
	long (*fn)(void);
} attempts[] = {
	{ "bpf", try_bpf },	    { "clone", try_clone },
	{ "execve", try_execve },   { "getpid", try_getpid },
	{ "ioctl", try_ioctl },	    { "kill", try_kill },
	{ "mmap", try_mmap },	    { "mount", try_mount },
	{ "mprotect", try_mprotect }, { "open", try_open },
	{ "openat", try_openat },   { "prctl", try_prctl },
	{ "ptrace", try_ptrace },   { "read", try_read },
	{ "setns", try_setns },	    { "setuid", try_setuid },
	{ "socket", try_socket },   { "unshare", try_unshare },
	{ "write", try_write },
	{ "fault-flood", try_flood },
	{ "fault-ill", try_ill },
	{ "fault-segv", try_segv },
};

static void send_or_exit(struct proto_frame *f, int r);

#define ECHO_PREFIX "echo:"

/* Answers the text after ECHO_PREFIX as the value. */
static void
echo(uint64_t id, const char *code, size_t len)
{
	struct proto_writer *w = proto_writer_new(len + 16);
	struct proto_frame f;
	size_t value_len;

	if (!w || proto_write_str(w, code + strlen(ECHO_PREFIX),
				  len - strlen(ECHO_PREFIX)) < 0)
		_exit(IPC_EXIT_OOM);
	const uint8_t *value = proto_writer_data(w, &value_len);
	struct proto_result res = { .has_id = true, .id = id,
				    .outcome = OUTCOME_OK, .value_raw = value,
				    .value_raw_len = value_len };
	send_or_exit(&f, proto_encode_result(&res, &f));
	proto_writer_free(w);
	send_or_exit(&f, proto_encode_ready(0, &f));
}

static void
send_or_exit(struct proto_frame *f, int r)
{
	if (r < 0 || sys_write_all(IPC_FD_RSP, f->data, f->len) < 0)
		_exit(IPC_EXIT_ORPHANED);
	proto_frame_fini(f);
}

static void
answer(uint64_t id, const char *message)
{
	struct proto_result res = proto_result_error(true, id,
						     OUTCOME_RUNTIME_ERROR,
						     message);
	struct proto_frame f;

	send_or_exit(&f, proto_encode_result(&res, &f));
	send_or_exit(&f, proto_encode_ready(0, &f));
}

static void
attempt(uint64_t id, const char *code, size_t len)
{
	char message[128];

	if (len >= strlen(ECHO_PREFIX) &&
	    memcmp(code, ECHO_PREFIX, strlen(ECHO_PREFIX)) == 0) {
		echo(id, code, len);
		return;
	}
	for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
		if (strlen(attempts[i].name) != len ||
		    memcmp(attempts[i].name, code, len) != 0)
			continue;
		long r = attempts[i].fn();
		(void)snprintf(message, sizeof(message),
			       "survived: %s returned %ld", attempts[i].name, r);
		answer(id, message);
		return;
	}
	answer(id, "no such attempt");
}

int
main(int argc, char **argv)
{
	struct sandbox_options opts;
	struct proto_frame f;

#if defined(PROBE_FAILS_SETUP)
	/* Start-up fails now and then, as on a host short of memory or
	 * pids. */
	if (sys_now_ns() / 1000u % 2u == 0)
		_exit(IPC_EXIT_SETUP);
#endif
	if (sandbox_parse_args(argc, argv, &opts) < 0)
		_exit(IPC_EXIT_SETUP);
	sandbox_close_fds_or_die();
	sandbox_enter_or_die(&opts);
	send_or_exit(&f, proto_encode_ready(0, &f));
	for (;;) {
		struct proto_msg *m;
		struct proto_exec exec;
		const char *why;
		uint8_t *buf;
		size_t len;
		int r = ipc_read_frame(IPC_FD_REQ, IPC_FRAME_MAX_CEILING, -1,
				       &buf, &len);
		if (r <= 0)
			_exit(r == 0 ? IPC_EXIT_DONE : IPC_EXIT_PROTOCOL);
		if (proto_msg_decode(buf, len, &m, &why) < 0 ||
		    proto_msg_exec(m, &exec, &why) < 0)
			_exit(IPC_EXIT_PROTOCOL);
		attempt(exec.id, exec.code, exec.code_len);
		proto_msg_free(m);
	}
}
