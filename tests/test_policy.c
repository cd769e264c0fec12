/* SPDX-License-Identifier: MIT */
/*
 * Lint of the policy tables in policies/: every rule names a syscall that
 * exists on this architecture, appears once and gives a real reason;
 * calls that can reach beyond the process are never allowed; the calls
 * that touch memory protection or fds carry argument conditions; the
 * limits are derived from the fds the worker keeps.
 */
#include <check.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <seccomp.h>

#include "common/ipc.h"
#include "policies/worker_limits.h"
#include "policies/worker_seccomp.h"

#define REASON_MIN_CHARS 10

/* Never allowed to a worker, whatever the reason. */
static const char *const forbidden[] = {
	"bpf", "chmod", "chown", "clone", "clone3", "connect", "creat",
	"execve", "execveat", "fork", "init_module", "ioctl", "kill",
	"link", "mount", "open", "openat", "openat2", "prctl", "process_vm_readv",
	"process_vm_writev", "ptrace", "rename", "seccomp", "setns", "setrlimit",
	"prlimit64", "socket", "socketpair", "symlink", "tgkill", "tkill",
	"umount2", "unlink", "unshare", "vfork", "mprotect", "pkey_mprotect",
};

/* Allowed only with an argument condition (madvise: but for the
 * sanitizer's runtime, in a build for testing with it). */
static const char *const needs_condition[] = {
	"clock_gettime", "mmap", "mremap", "read", "write",
#if !defined(__SANITIZE_ADDRESS__)
	"madvise",
#endif
};

static const struct policy_rule *
find_rule(const char *name)
{
	for (size_t i = 0; i < worker_seccomp_count; i++) {
		if (strcmp(worker_seccomp[i].name, name) == 0)
			return &worker_seccomp[i];
	}
	return NULL;
}

START_TEST(test_policy_rules_resolve_on_this_arch)
{
	for (size_t i = 0; i < worker_seccomp_count; i++) {
		int nr = seccomp_syscall_resolve_name(worker_seccomp[i].name);
		ck_assert_msg(nr != __NR_SCMP_ERROR, "unknown syscall %s",
			      worker_seccomp[i].name);
		ck_assert_msg(nr >= 0, "%s is not a real syscall here",
			      worker_seccomp[i].name);
	}
}
END_TEST

START_TEST(test_policy_rules_are_unique)
{
	for (size_t i = 0; i < worker_seccomp_count; i++) {
		for (size_t j = i + 1; j < worker_seccomp_count; j++)
			ck_assert_msg(strcmp(worker_seccomp[i].name,
					     worker_seccomp[j].name) != 0,
				      "%s listed twice", worker_seccomp[i].name);
	}
}
END_TEST

START_TEST(test_policy_rules_are_grouped_and_sorted)
{
	for (size_t i = 1; i < worker_seccomp_count; i++) {
		const struct policy_rule *a = &worker_seccomp[i - 1];
		const struct policy_rule *b = &worker_seccomp[i];
		ck_assert_msg(a->group <= b->group, "%s is out of its group",
			      b->name);
		if (a->group == b->group)
			ck_assert_msg(strcmp(a->name, b->name) < 0,
				      "%s should come before %s", b->name,
				      a->name);
	}
}
END_TEST

START_TEST(test_policy_rules_give_reasons)
{
	for (size_t i = 0; i < worker_seccomp_count; i++)
		ck_assert_msg(worker_seccomp[i].reason &&
				      strlen(worker_seccomp[i].reason) >= REASON_MIN_CHARS,
			      "%s has no real reason", worker_seccomp[i].name);
	for (size_t i = 0; i < worker_limits_count; i++)
		ck_assert_msg(worker_limits[i].reason &&
				      strlen(worker_limits[i].reason) >= REASON_MIN_CHARS,
			      "%s has no real reason", worker_limits[i].name);
}
END_TEST

START_TEST(test_policy_never_allows_dangerous_calls)
{
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(*forbidden); i++)
		ck_assert_msg(find_rule(forbidden[i]) == NULL,
			      "%s must never be allowed", forbidden[i]);
}
END_TEST

START_TEST(test_policy_pins_arguments_of_risky_calls)
{
	for (size_t i = 0; i < sizeof(needs_condition) / sizeof(*needs_condition);
	     i++) {
		const struct policy_rule *r = find_rule(needs_condition[i]);
		if (r)
			ck_assert_msg(r->arg_count > 0, "%s has no condition",
				      needs_condition[i]);
	}
}
END_TEST

START_TEST(test_policy_never_allows_executable_mappings)
{
	const struct policy_rule *r = find_rule("mmap");
	bool refuses_exec = false;

	ck_assert_ptr_nonnull(r);
	for (unsigned i = 0; i < r->arg_count; i++) {
		const struct scmp_arg_cmp *a = &r->args[i];
		if (a->arg == 2 && a->op == SCMP_CMP_MASKED_EQ &&
		    (a->datum_a & PROT_EXEC) && (a->datum_b & PROT_EXEC) == 0)
			refuses_exec = true;
	}
	ck_assert(refuses_exec);
}
END_TEST

START_TEST(test_policy_io_only_on_the_worker_pipes)
{
	const struct policy_rule *rd = find_rule("read");
	const struct policy_rule *wr = find_rule("write");

	ck_assert_ptr_nonnull(rd);
	ck_assert_ptr_nonnull(wr);
	ck_assert_uint_eq(rd->args[0].arg, 0);
	ck_assert_int_eq(rd->args[0].op, SCMP_CMP_EQ);
	ck_assert_uint_eq(rd->args[0].datum_a, IPC_FD_REQ);
	ck_assert_uint_eq(wr->args[0].arg, 0);
	ck_assert_int_eq(wr->args[0].op, SCMP_CMP_EQ);
	ck_assert_uint_eq(wr->args[0].datum_a, IPC_FD_RSP);
}
END_TEST

static const struct policy_limit *
find_limit(int resource)
{
	for (size_t i = 0; i < worker_limits_count; i++) {
		if (worker_limits[i].resource == resource)
			return &worker_limits[i];
	}
	return NULL;
}

START_TEST(test_policy_limits_are_derived_and_complete)
{
	static const int zero[] = { RLIMIT_CORE, RLIMIT_FSIZE, RLIMIT_NPROC,
				    RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE };

	ck_assert_ptr_nonnull(find_limit(RLIMIT_NOFILE));
	ck_assert_uint_eq(find_limit(RLIMIT_NOFILE)->value, IPC_FD_RSP + 1);
	ck_assert_ptr_nonnull(find_limit(RLIMIT_AS));
	for (size_t i = 0; i < sizeof(zero) / sizeof(*zero); i++) {
		const struct policy_limit *l = find_limit(zero[i]);
		ck_assert_ptr_nonnull(l);
		ck_assert_msg(l->value == 0, "%s should be 0", l->name);
	}
}
END_TEST

Suite *policy_suite(void);

Suite *
policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("lint");

	tcase_add_test(tc, test_policy_rules_resolve_on_this_arch);
	tcase_add_test(tc, test_policy_rules_are_unique);
	tcase_add_test(tc, test_policy_rules_are_grouped_and_sorted);
	tcase_add_test(tc, test_policy_rules_give_reasons);
	tcase_add_test(tc, test_policy_never_allows_dangerous_calls);
	tcase_add_test(tc, test_policy_pins_arguments_of_risky_calls);
	tcase_add_test(tc, test_policy_never_allows_executable_mappings);
	tcase_add_test(tc, test_policy_io_only_on_the_worker_pipes);
	tcase_add_test(tc, test_policy_limits_are_derived_and_complete);
	suite_add_tcase(s, tc);
	return s;
}
