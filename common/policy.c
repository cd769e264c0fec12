/* SPDX-License-Identifier: MIT */
/*
 * Seccomp filter builder, run by the worker as its last sandbox step. It
 * trusts the rule tables in policies/ (reviewed data, linted by
 * tests/test_policy.c) and nothing else.
 */
#include "common/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int
policy_load(const struct policy_rule *rules, size_t n_rules, bool log_only)
{
	uint32_t deny = log_only ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	int r;

	scmp_filter_ctx ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;

	/* SECURITY: a call made through another ABI (x32, or i386 through
	 * int 0x80) would be checked against numbers of the wrong table;
	 * the filter kills those processes rather than read them. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < n_rules; i++) {
		int nr = seccomp_syscall_resolve_name(rules[i].name);
		if (nr == __NR_SCMP_ERROR) {
			r = -ENOENT;
			goto out;
		}
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr,
					   rules[i].arg_count, rules[i].args);
		if (r < 0)
			goto out;
	}
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

void
policy_syscall_name(long nr, char *buf, size_t size)
{
	char *name = nr >= 0 && nr <= INT32_MAX ?
			     seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE,
							      (int)nr) :
			     NULL;

	if (name)
		(void)snprintf(buf, size, "%s", name);
	else
		(void)snprintf(buf, size, "#%ld", nr);
	free(name);
}
