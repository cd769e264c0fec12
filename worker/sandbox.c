/* SPDX-License-Identifier: MIT */
/*
 * Sandbox entry of a worker. The worker is exec'd by the supervisor with
 * the request pipe on IPC_FD_REQ and the reply pipe on IPC_FD_RSP; this
 * file removes everything else it could reach. It trusts nothing but the
 * tables in policies/.
 *
 * Order, and why:
 *   1. close fds      first: nothing later may inherit or use them
 *                     (close_range(2), Linux 5.9).
 *   1b. empty root    in a new mount namespace, after the engine is warm
 *                     (its time zone is read by then) and while the
 *                     process still holds CAP_SYS_ADMIN there
 *                     (pivot_root(2), mount_namespaces(7)).
 *   2. rlimits        while we may still lower hard limits freely
 *                     (setrlimit(2)).
 *   3. bounding set   needs CAP_SETPCAP, so before the identity change
 *                     (PR_CAPBSET_DROP, prctl(2)).
 *   4. leave root     needs CAP_SETUID/CAP_SETGID; clears the effective
 *                     and permitted sets as a side effect (capabilities(7),
 *                     "Effect of user ID changes on capabilities").
 *   4b. death signal  the uid change cleared the parent-death signal the
 *                     supervisor set (prctl(2), PR_SET_PDEATHSIG): set it
 *                     again, and check the parent is still there.
 *   5. clear caps     for a non-root start, where step 4 does nothing.
 *   6. no_new_privs   required before an unprivileged seccomp load, and
 *                     it makes any later execve unable to gain privileges
 *                     (PR_SET_NO_NEW_PRIVS, prctl(2), Linux 3.5).
 *   7. not dumpable   no ptrace attach, no /proc/PID/mem from the same
 *                     uid (PR_SET_DUMPABLE, prctl(2); ptrace(2)).
 *   8. SIGSYS report  the handler that names a forbidden call to the
 *                     supervisor, installed while sigaction is allowed.
 *   9. seccomp        last: every step above needs calls it forbids
 *                     (seccomp(2); SECCOMP_RET_TRAP, Linux 3.5).
 */
#include "worker/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>
#include <sys/capability.h>

#include "common/ipc.h"
#include "common/policy.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "config.h"
#include "policies/worker_limits.h"
#include "policies/worker_seccomp.h"

/* SECURITY: a build with AddressSanitizer widens the sandbox for the
 * sanitizer's runtime (the address space limit here, a few system calls
 * in policies/worker_seccomp.c). Only a build meson configured for it
 * (-Db_sanitize, never with buildtype=release) may do that. */
#if defined(__SANITIZE_ADDRESS__) && !BEDDEL_SANITIZER_BUILD
#error "AddressSanitizer flags outside -Db_sanitize: the worker sandbox would be widened"
#endif

void
sandbox_fail(const char *stage, int err)
{
	struct proto_frame f;

	if (proto_encode_setup_failed(stage, err, &f) == 0)
		(void)sys_write_all(IPC_FD_RSP, f.data, f.len);
	_exit(IPC_EXIT_SETUP);
}

#define HEAP_ARG "--heap-max-bytes="

int
sandbox_parse_args(int argc, char **argv, struct sandbox_options *ret_opts)
{
	struct sandbox_options opts = { .is_new_root = false };

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--new-root") == 0)
			opts.is_new_root = true;
		else if (strcmp(argv[i], "--user-namespace") == 0)
			opts.is_user_namespace = true;
		else if (strcmp(argv[i], "--transform") == 0)
			opts.is_transform = true;
		else if (strncmp(argv[i], HEAP_ARG, strlen(HEAP_ARG)) != 0 ||
			 util_parse_u64(argv[i] + strlen(HEAP_ARG), 1,
					WORKER_LIMITS_TRANSFORM_AS_BYTES,
					&opts.heap_max_bytes) < 0)
			return -EINVAL;
	}
	*ret_opts = opts;
	return 0;
}

void
sandbox_close_fds_or_die(void)
{
	/* SECURITY: after this, fds 3 and 4 are the only open files; the
	 * seccomp policy allows read on 3 and write on 4 and nothing else. */
	if (fcntl(IPC_FD_REQ, F_GETFD) < 0 || fcntl(IPC_FD_RSP, F_GETFD) < 0)
		_exit(IPC_EXIT_SETUP);
	if (syscall(SYS_close_range, 0, IPC_FD_REQ - 1, 0) < 0)
		sandbox_fail("close_fds", -errno);
	if (syscall(SYS_close_range, IPC_FD_RSP + 1, ~0u, 0) < 0)
		sandbox_fail("close_fds", -errno);
}

/* The address space limit: from the largest heap cap, under the
 * table's ceiling. */
static rlim_t
address_space_limit(const struct sandbox_options *opts, rlim_t ceiling)
{
	if (opts->is_transform)
		ceiling = WORKER_LIMITS_TRANSFORM_AS_BYTES;
#if defined(__SANITIZE_ADDRESS__)
	(void)opts;
	return WORKER_LIMITS_SANITIZER_AS_BYTES;
#endif
	if (opts->heap_max_bytes == 0)
		return ceiling;
	uint64_t derived = WORKER_LIMITS_AS_BASE_BYTES +
			   WORKER_LIMITS_AS_PER_HEAP_BYTE * opts->heap_max_bytes;
	return derived < ceiling ? derived : ceiling;
}

static void
set_limits_or_die(const struct sandbox_options *opts)
{
	for (size_t i = 0; i < worker_limits_count; i++) {
		rlim_t value = worker_limits[i].value;
		if (worker_limits[i].resource == RLIMIT_AS)
			value = address_space_limit(opts, value);
		struct rlimit rl = { value, value };
		if (setrlimit(worker_limits[i].resource, &rl) < 0)
			sandbox_fail(worker_limits[i].name, -errno);
	}
}

/* Whether this process holds cap in its effective set. */
static bool
has_effective_cap(cap_value_t cap)
{
	cap_flag_value_t value = CAP_CLEAR;

	cap_t caps = cap_get_proc();
	if (!caps)
		return false;
	int r = cap_get_flag(caps, cap, CAP_EFFECTIVE, &value);
	(void)cap_free(caps);
	return r == 0 && value == CAP_SET;
}

static void
drop_bounding_set_or_die(void)
{
	/* Dropping needs CAP_SETPCAP in the effective set; without it (a
	 * non-root start) the set cannot be changed, and also cannot be
	 * used: execve is forbidden and no_new_privs is set below.
	 * cap_get_bound() fails past the last capability the running kernel
	 * knows. */
	if (!has_effective_cap(CAP_SETPCAP))
		return;
	for (cap_value_t c = 0; cap_get_bound(c) >= 0; c++) {
		if (cap_drop_bound(c) < 0)
			sandbox_fail("capability_bounding_set", -errno);
	}
}

/* SECURITY: after this the worker's file system is one empty, read-only
 * tmpfs: no path leads to the host's files, devices or sockets, even if
 * the seccomp filter let an open through. The old root is detached, not
 * merely hidden. */
static void
empty_root_or_die(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sandbox_fail("new_root_private", -errno);
	/* Any directory every host has will do as the mount point. */
	if (mount("beddel", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,nr_inodes=1,mode=0555") < 0)
		sandbox_fail("new_root_mount", -errno);
	if (chdir("/tmp") < 0)
		sandbox_fail("new_root_chdir", -errno);
	/* pivot_root(".", ".") stacks the old root on the new one; the
	 * unmount then takes it away (pivot_root(2), NOTES). */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		sandbox_fail("new_root_pivot", -errno);
	if (umount2(".", MNT_DETACH) < 0)
		sandbox_fail("new_root_detach", -errno);
	if (chdir("/") < 0)
		sandbox_fail("new_root_chdir", -errno);
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) < 0)
		sandbox_fail("new_root_read_only", -errno);
}

static void
leave_root_or_die(const struct sandbox_options *opts)
{
	/* In a user namespace root is the one id mapped: it stands for the
	 * supervisor's own unprivileged uid outside, and nobody is not
	 * mapped; the capabilities go below. */
	if (geteuid() != 0 || opts->is_user_namespace)
		return;
	/* SECURITY: groups first, then gid, then uid: once the uid is not
	 * root, the process may no longer change its groups. */
	if (setgroups(0, NULL) < 0)
		sandbox_fail("setgroups", -errno);
	if (setresgid(SANDBOX_NOBODY_GID, SANDBOX_NOBODY_GID,
		      SANDBOX_NOBODY_GID) < 0)
		sandbox_fail("setresgid", -errno);
	if (setresuid(SANDBOX_NOBODY_UID, SANDBOX_NOBODY_UID,
		      SANDBOX_NOBODY_UID) < 0)
		sandbox_fail("setresuid", -errno);
}

static void
clear_caps_or_die(void)
{
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		sandbox_fail("capability_ambient", -errno);

	cap_t caps = cap_init();
	if (!caps)
		sandbox_fail("capability_clear", -ENOMEM);
	int r = cap_set_proc(caps);
	int err = errno;
	(void)cap_free(caps);
	if (r < 0)
		sandbox_fail("capability_clear", -err);
}

/* The si_code of a SIGSYS sent by seccomp (asm-generic/siginfo.h); glibc
 * names it only in newer headers. */
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif

/* SIGSYS from the filter: the forbidden call did not run. Tells the
 * supervisor which call it was, then dies of the same signal: SA_RESETHAND
 * put the default action back, and raise() itself makes forbidden calls,
 * whose SIGSYS the kernel delivers even though this handler blocks it
 * (force_sig_seccomp). Async-signal-safe: it allocates nothing.
 *
 * SECURITY: this code runs in a process that may be compromised; the
 * supervisor treats the frame as a claim, used only to name the death. */
static void
on_forbidden_call(int sig, siginfo_t *info, void *context)
{
	uint8_t frame[PROTO_VIOLATION_FRAME_MAX];

	(void)context;
	if (info->si_code == SYS_SECCOMP) {
		size_t len = proto_encode_violation(info->si_syscall, frame);
		(void)sys_write_all(IPC_FD_RSP, frame, len);
	}
	(void)raise(sig);
	_exit(IPC_EXIT_FATAL);
}

static void
report_forbidden_calls_or_die(void)
{
	struct sigaction sa = { .sa_sigaction = on_forbidden_call,
				.sa_flags = SA_SIGINFO | SA_RESETHAND };

	if (sigaction(SIGSYS, &sa, NULL) < 0)
		sandbox_fail("sigsys_handler", -errno);
}

void
sandbox_enter_or_die(const struct sandbox_options *opts)
{
	int r;

	pid_t parent = getppid();

	if (opts->is_new_root)
		empty_root_or_die();
	set_limits_or_die(opts);
	drop_bounding_set_or_die();
	leave_root_or_die(opts);
	/* The kernel clears the parent-death signal the supervisor set when
	 * the uid changes (prctl(2), PR_SET_PDEATHSIG): set it again, then
	 * make sure the supervisor did not die in between. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		sandbox_fail("parent_death_signal", -errno);
	if (getppid() != parent)
		sandbox_fail("parent_death_signal", -ESRCH);
	clear_caps_or_die();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		sandbox_fail("no_new_privs", -errno);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		sandbox_fail("dumpable", -errno);
	report_forbidden_calls_or_die();

	r = policy_load(worker_seccomp, worker_seccomp_count,
			BEDDEL_SECCOMP_DEBUG);
	if (r < 0)
		sandbox_fail("seccomp", r);
}
