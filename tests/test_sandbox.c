/* SPDX-License-Identifier: MIT */
/*
 * The worker sandbox, proved on real processes. Each test enters the
 * real sandbox (worker/sandbox.c with the policies in policies/) in a
 * child process: forbidden calls must kill it with SIGSYS, allowed ones
 * must work, and its /proc entries must show every layer in place.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/sys.h"
#include "policies/worker_limits.h"
#include "tests/helpers/harness.h"
#include "worker/js.h"
#include "worker/sandbox.h"

/* Puts one pipe on the worker's fds (read end on 3, write end on 4, so
 * that the child can talk to itself), then enters the sandbox. */
static void
enter_sandbox(void)
{
	static const struct sandbox_options opts = { .is_new_root = false };
	int p[2];

	if (pipe(p) < 0)
		_exit(90);
	int a = fcntl(p[0], F_DUPFD, 10), b = fcntl(p[1], F_DUPFD, 10);
	if (a < 0 || b < 0 || dup2(a, IPC_FD_REQ) < 0 || dup2(b, IPC_FD_RSP) < 0)
		_exit(91);
	sandbox_close_fds_or_die();
	sandbox_enter_or_die(&opts);
}

/* ---- Forbidden calls: each must end the process with SIGSYS -------- */

START_TEST(test_sandbox_kills_open)
{
	enter_sandbox();
	(void)open("/etc/passwd", O_RDONLY);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_socket)
{
	enter_sandbox();
	(void)socket(AF_INET, SOCK_STREAM, 0);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_write_to_other_fd)
{
	enter_sandbox();
	(void)write(STDOUT_FILENO, "x", 1);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_read_from_other_fd)
{
	char c;

	enter_sandbox();
	(void)read(IPC_FD_RSP, &c, 1);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_executable_mapping)
{
	enter_sandbox();
	(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_file_mapping)
{
	enter_sandbox();
	(void)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, IPC_FD_REQ, 0);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_mprotect)
{
	enter_sandbox();
	void *p = malloc(8192);
	(void)mprotect((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096,
		       PROT_READ | PROT_EXEC);
	_exit(0);
}
END_TEST

/* Pages that the kernel may merge with another process's are a side
 * channel between tenants: only MADV_DONTNEED is allowed. */
START_TEST(test_sandbox_kills_madvise_mergeable)
{
	static char page[4096] __attribute__((aligned(4096)));

	enter_sandbox();
	(void)madvise(page, sizeof(page), MADV_MERGEABLE);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_fork)
{
	enter_sandbox();
	(void)fork();
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_execve)
{
	char *const argv[] = { (char *)"true", NULL };

	enter_sandbox();
	(void)execve("/bin/true", argv, argv + 1);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_kill)
{
	enter_sandbox();
	/* Signal 0 to init: harmless if it ever got through. */
	(void)syscall(SYS_kill, 1, 0);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_ptrace)
{
	enter_sandbox();
	(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_unlisted_getpid)
{
	enter_sandbox();
	(void)syscall(SYS_getpid);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_x32_abi_calls)
{
	enter_sandbox();
	/* The x32 ABI shares the x86-64 audit arch; its numbers carry bit
	 * 30. The filter must treat it as a foreign architecture. */
	(void)syscall(0x40000000 | SYS_getpid);
	_exit(0);
}
END_TEST

START_TEST(test_sandbox_kills_setrlimit)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

	enter_sandbox();
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	_exit(0);
}
END_TEST

/* ---- Allowed calls: the child must get through them and exit 0 ---- */

static pid_t
fork_sandboxed(void (*body)(void))
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		enter_sandbox();
		body();
		_exit(0);
	}
	return pid;
}

static int
wait_child(pid_t pid, int timeout_ms)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec tick = { .tv_nsec = 1000000 };
	int status;

	/* NOTE: waitpid has no timeout; poll it every millisecond. */
	while (sys_now_ns() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		(void)nanosleep(&tick, NULL);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &status, 0);
	return -1;
}

static void
allowed_calls(void)
{
	struct timespec ts;
	struct timeval tv;
	char c = 'x';

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &ts) < 0 ||
	    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0 ||
	    gettimeofday(&tv, NULL) < 0)
		_exit(10);
	/* Large and small blocks, grown and freed: brk, mmap, mremap,
	 * munmap. */
	char *big = malloc(8 * 1024 * 1024);
	if (!big)
		_exit(11);
	memset(big, 1, 8 * 1024 * 1024);
	big = realloc(big, 16 * 1024 * 1024);
	if (!big)
		_exit(12);
	free(big);
	for (int i = 0; i < 1000; i++)
		free(malloc((size_t)i * 64));
	/* What an idle worker does after a large execution (worker/js.c):
	 * free pages go back with madvise(MADV_DONTNEED). */
	(void)malloc_trim(0);
	static char page[4096] __attribute__((aligned(4096)));
	if (madvise(page, sizeof(page), MADV_DONTNEED) < 0)
		_exit(14);
	if (sched_yield() < 0)
		_exit(15);
	if (write(IPC_FD_RSP, &c, 1) != 1 || read(IPC_FD_REQ, &c, 1) != 1)
		_exit(13);
	_exit(0);
}

START_TEST(test_sandbox_allows_what_the_worker_needs)
{
	pid_t pid = fork_sandboxed(allowed_calls);
	int status = wait_child(pid, 10000);

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d (signal %d)", status,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
END_TEST

static struct js_engine *child_engine;

static void
engine_runs_in_sandbox(void)
{
	static const char code[] =
		"var d = new Date(0); var s = d.toString() + Date.now() + Math.random();"
		"var a = []; for (var i = 0; i < 50000; i++) a.push({ i: i }); "
		"JSON.stringify(a).length + s.length";
	struct js_request req = { .code = code, .code_len = sizeof(code) - 1,
				  .heap_limit_bytes = 16 * 1024 * 1024,
				  .result_max_bytes = 1024 };
	struct js_result res;

	if (js_engine_run(child_engine, &req, &res) < 0)
		_exit(20);
	_exit(res.outcome == OUTCOME_OK ? 0 : 21);
}

START_TEST(test_sandbox_engine_runs_inside_it)
{
	/* Created before the sandbox, as the worker does. */
	child_engine = js_engine_new();
	ck_assert_ptr_nonnull(child_engine);
	pid_t pid = fork_sandboxed(engine_runs_in_sandbox);
	int status = wait_child(pid, 20000);
	js_engine_free(child_engine);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d (signal %d)", status,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
END_TEST

static void
block_forever(void)
{
	char c;

	/* Waits on the request pipe, as an idle worker does; nothing is
	 * ever written to it. */
	(void)read(IPC_FD_REQ, &c, 1);
	_exit(0);
}

/* The value of a /proc/PID/status line, for assertions. */
static char *
status_field(pid_t pid, const char *name, char *buf, size_t size)
{
	ck_assert_int_eq(harness_proc_status(pid, name, buf, size), 0);
	return buf;
}

/* Waits until the child has loaded its filter. */
static void
wait_seccomp(pid_t pid)
{
	uint64_t deadline = sys_now_ns() + 10000000000ull;
	struct timespec tick = { .tv_nsec = 1000000 };
	char buf[64];

	/* NOTE: no event marks the filter load; poll /proc. */
	while (strcmp(status_field(pid, "Seccomp", buf, sizeof(buf)), "2") != 0) {
		ck_assert_msg(sys_now_ns() < deadline, "no filter in time");
		(void)nanosleep(&tick, NULL);
	}
}

/* Reads one limit of pid from /proc/PID/limits, whose lines follow the
 * resource numbers after one header line; names take 26 columns. */
static void
limit_of(pid_t pid, int resource, unsigned long long *soft,
	 unsigned long long *hard)
{
	char path[64], line[256];
	int n = -1;

	(void)snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (n++ == resource)
			break;
	}
	(void)fclose(f);
	ck_assert_int_eq(n - 1, resource);
	ck_assert_uint_gt(strlen(line), 26);
	ck_assert_int_eq(sscanf(line + 26, "%llu %llu", soft, hard), 2);
}

START_TEST(test_sandbox_proc_shows_every_layer)
{
	char buf[128], path[64], link[64];
	pid_t pid = fork_sandboxed(block_forever);

	wait_seccomp(pid);
	ck_assert_str_eq(status_field(pid, "Seccomp", buf, sizeof(buf)), "2");
	ck_assert_str_eq(status_field(pid, "NoNewPrivs", buf, sizeof(buf)), "1");
	ck_assert_str_eq(status_field(pid, "CapEff", buf, sizeof(buf)), "0000000000000000");
	ck_assert_str_eq(status_field(pid, "CapPrm", buf, sizeof(buf)), "0000000000000000");
	ck_assert_str_eq(status_field(pid, "CapAmb", buf, sizeof(buf)), "0000000000000000");
	if (geteuid() == 0) {
		ck_assert_str_eq(status_field(pid, "CapBnd", buf, sizeof(buf)), "0000000000000000");
		ck_assert_str_eq(status_field(pid, "Uid", buf, sizeof(buf)),
				 "65534\t65534\t65534\t65534");
		ck_assert_str_eq(status_field(pid, "Groups", buf, sizeof(buf)), "");
	}

	/* Only the two pipes are open. */
	for (int fd = 0; fd < 64; fd++) {
		(void)snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (fd == IPC_FD_REQ || fd == IPC_FD_RSP)
			ck_assert_msg(n > 0 && strncmp(link, "pipe:", 5) == 0,
				      "fd %d is not a pipe", fd);
		else
			ck_assert_msg(n < 0, "fd %d is open", fd);
	}

	/* Every limit of the policy is in force, soft and hard. */
	for (size_t i = 0; i < worker_limits_count; i++) {
		unsigned long long soft, hard, want = worker_limits[i].value;
		limit_of(pid, worker_limits[i].resource, &soft, &hard);
#if defined(__SANITIZE_ADDRESS__)
		if (worker_limits[i].resource == RLIMIT_AS)
			want = WORKER_LIMITS_SANITIZER_AS_BYTES;
#endif
		ck_assert_msg(soft == want && hard == want,
			      "%s is %llu/%llu", worker_limits[i].name, soft, hard);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}
END_TEST

static void
allowed_calls_as_nobody(void)
{
	allowed_calls();
}

/* Runs the whole sandbox entry in a process that is not root and holds no
 * capability, as a supervisor started by an ordinary user would. */
START_TEST(test_sandbox_enters_without_privileges)
{
	if (geteuid() != 0) {
		/* Already unprivileged: the other tests cover it. */
		return;
	}
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0)
			_exit(80);
		enter_sandbox();
		allowed_calls_as_nobody();
		_exit(0);
	}
	int status = wait_child(pid, 10000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d (signal %d)", status,
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
END_TEST

Suite *sandbox_suite(void);

Suite *
sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("forbidden");

	tcase_set_timeout(tc, 20);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_open, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_socket, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_write_to_other_fd, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_read_from_other_fd, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_executable_mapping, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_madvise_mergeable,
				    SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_file_mapping, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_mprotect, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_fork, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_execve, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_kill, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_ptrace, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_unlisted_getpid, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_x32_abi_calls, SIGSYS);
	tcase_add_test_raise_signal(tc, test_sandbox_kills_setrlimit, SIGSYS);
	suite_add_tcase(s, tc);

	tc = tcase_create("allowed");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_sandbox_allows_what_the_worker_needs);
	tcase_add_test(tc, test_sandbox_engine_runs_inside_it);
	tcase_add_test(tc, test_sandbox_proc_shows_every_layer);
	tcase_add_test(tc, test_sandbox_enters_without_privileges);
	suite_add_tcase(s, tc);
	return s;
}
