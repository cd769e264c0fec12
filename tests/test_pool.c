/* SPDX-License-Identifier: MIT */
/*
 * The pool's life cycle through a live supervisor: a worker serves one
 * tenant only, for life; workers are replaced after their execution limit
 * or past their memory ceiling; idle workers are reaped down to the
 * minimum, and at the maximum an idle worker of another tenant makes room.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/proto.h"
#include "tests/helpers/harness.h"

static struct harness h;

static void
start(unsigned workers, const char *const *args)
{
	ck_assert_int_eq(harness_start(&h, workers, args), 0);
}

static void
teardown(void)
{
	int status = harness_stop(&h, 15000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "supervisor ended with status %d", status);
}

/* Runs code for tenant on a new connection and returns the pid of the
 * worker that ran it. */
static pid_t
run_for(const char *tenant, const char *code)
{
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 1, tenant, code, &m, &res), 0);
	ck_assert_msg(res.outcome == OUTCOME_OK, "%s: %s %.*s", tenant,
		      outcome_name(res.outcome), (int)res.message_len,
		      res.message);
	pid_t pid = (pid_t)res.stats.worker_pid;
	proto_msg_free(m);
	(void)close(fd);
	return pid;
}

#define RUNS 40
#define TENANTS 5

START_TEST(test_pool_never_gives_a_worker_two_tenants)
{
	static const char *const args[] = { "--max-workers", "3", NULL };
	static const char *const tenants[TENANTS] = { "alice", "bob", "carol",
						      "dave", "erin" };
	pid_t pids[RUNS];
	int owner[RUNS];

	/* Five tenants over at most three workers: workers must be
	 * retired to make room, never shared. */
	start(2, args);
	for (int i = 0; i < RUNS; i++) {
		owner[i] = (i * 7) % TENANTS;
		pids[i] = run_for(tenants[owner[i]], "this.mine = 1; 2 + 2");
	}
	for (int i = 0; i < RUNS; i++) {
		for (int j = 0; j < RUNS; j++)
			ck_assert_msg(pids[i] != pids[j] || owner[i] == owner[j],
				      "worker %d served %s and %s", (int)pids[i],
				      tenants[owner[i]], tenants[owner[j]]);
	}
	ck_assert_uint_ge(harness_count_log(&h, "making room for another tenant"), 1);
}
END_TEST

START_TEST(test_pool_keeps_a_tenant_on_its_worker)
{
	static const char *const args[] = { "--max-workers", "2", NULL };

	/* One warm worker, room for a second: each tenant gets one and
	 * keeps it. */
	start(1, args);
	pid_t first = run_for("alice", "1");
	pid_t other = run_for("bob", "1");
	ck_assert_int_ne(first, other);
	ck_assert_int_eq(run_for("alice", "1"), first);
	ck_assert_int_eq(run_for("bob", "1"), other);
}
END_TEST

START_TEST(test_pool_replaces_a_worker_after_its_execution_limit)
{
	static const char *const args[] = { "--worker-max-execs", "3",
					    "--max-workers", "1", NULL };

	start(1, args);
	pid_t first = run_for("alice", "1");
	ck_assert_int_eq(run_for("alice", "1"), first);
	ck_assert_int_eq(run_for("alice", "1"), first);
	ck_assert_int_ne(run_for("alice", "1"), first);
	ck_assert_uint_eq(harness_count_log(&h, "reached its execution limit"), 1);
}
END_TEST

START_TEST(test_pool_replaces_a_worker_past_its_memory_ceiling)
{
	/* A warm worker holds a few MiB; a 64 KiB ceiling is always passed. */
	static const char *const args[] = { "--worker-rss-max-bytes", "65536", NULL };

	start(2, args);
	pid_t first = run_for("alice", "1");
	ck_assert_int_ne(run_for("alice", "1"), first);
	ck_assert_uint_ge(harness_count_log(&h, "resident memory over its ceiling"), 1);
}
END_TEST

START_TEST(test_pool_reaps_idle_workers_down_to_the_minimum)
{
	static const char *const args[] = { "--idle-timeout-ms", "200", NULL };
	pid_t pids[8];

	start(1, args);
	(void)run_for("alice", "1");
	(void)run_for("bob", "1");
	/* Two tenants need two workers; the one over the minimum goes once
	 * idle, and the last one stays. */
	ck_assert_int_eq(harness_wait_log(&h, "idle past the idle timeout", 1, 5000), 0);
	ck_assert_int_eq(harness_wait_log(&h, "pool: worker exited", 1, 5000), 0);
	ck_assert_uint_eq(harness_children(&h, pids, 8), 1);
	ck_assert_int_ne(harness_wait_log(&h, "idle past the idle timeout", 1, 600), 0);
	ck_assert_uint_eq(harness_children(&h, pids, 8), 1);
}
END_TEST

Suite *pool_suite(void);

Suite *
pool_suite(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("lifecycle");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_pool_never_gives_a_worker_two_tenants);
	tcase_add_test(tc, test_pool_keeps_a_tenant_on_its_worker);
	tcase_add_test(tc, test_pool_replaces_a_worker_after_its_execution_limit);
	tcase_add_test(tc, test_pool_replaces_a_worker_past_its_memory_ceiling);
	tcase_add_test(tc, test_pool_reaps_idle_workers_down_to_the_minimum);
	suite_add_tcase(s, tc);
	return s;
}
