/* SPDX-License-Identifier: MIT */
/*
 * The shape of a sandbox policy, and the code that turns one into a
 * seccomp filter. The rules themselves are data in policies/; keeping
 * them there makes every change to what a worker may do a reviewable diff
 * of one table.
 */
#ifndef BEDDEL_COMMON_POLICY_H
#define BEDDEL_COMMON_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>

#include <seccomp.h>

#define POLICY_ARGS_MAX 3

/* One allowed syscall, with up to POLICY_ARGS_MAX argument conditions
 * that must all hold, and the reason it is needed. group numbers the
 * purpose group the rule belongs to (a table's own enum); tables list
 * groups in order and names sorted within each, which the lint checks. */
struct policy_rule {
	unsigned group;
	const char *name;
	unsigned arg_count;
	struct scmp_arg_cmp args[POLICY_ARGS_MAX];
	const char *reason;
};

/* An argument condition: argument index compared with cmp against a (and b
 * for SCMP_CMP_MASKED_EQ, where a is the mask). */
#define POLICY_ARG(index, cmp, a, b)                                             \
	{                                                                     \
		.arg = (index), .op = (cmp), .datum_a = (scmp_datum_t)(a),       \
		.datum_b = (scmp_datum_t)(b)                                  \
	}

#define POLICY_ALLOW(grp, sys, why)                                           \
	{                                                                     \
		.group = (grp), .name = #sys, .arg_count = 0, .reason = (why) \
	}

#define POLICY_ALLOW_IF(grp, sys, why, ...)                                   \
	{                                                                     \
		.group = (grp), .name = #sys,                                 \
		.arg_count = sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / \
			     sizeof(struct scmp_arg_cmp),                     \
		.args = { __VA_ARGS__ }, .reason = (why)                      \
	}

/* A resource limit the worker sets on itself, with the reason. */
struct policy_limit {
	int resource;
	const char *name;
	rlim_t value;
	const char *reason;
};

/* Builds and loads a filter that allows exactly the rules given. Any
 * other call does not run: the kernel sends the process a SIGSYS that it
 * cannot block or ignore (SECCOMP_RET_TRAP, seccomp(2)), so that its
 * handler can report the call's number before the process dies of that
 * signal; a process without a handler dies of it at once. A call through
 * a foreign architecture kills the process outright. When log_only is set
 * (seccomp_debug builds) forbidden calls are logged by the kernel and
 * allowed instead. Returns 0, -ENOENT when a rule names an unknown
 * syscall, or -errno from libseccomp. Worker only, as the last sandbox
 * step; after success only allowed calls remain. */
int policy_load(const struct policy_rule *rules, size_t n_rules,
		bool log_only);

/* Writes the name of syscall number nr on this architecture into buf
 * ("socket"), or "#nr" when libseccomp does not know it. Any process. */
void policy_syscall_name(long nr, char *buf, size_t size);

#endif
