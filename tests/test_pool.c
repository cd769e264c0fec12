/* SPDX-License-Identifier: MIT */
/*
 * The pool's life cycle through a live supervisor: a worker serves one
 * tenant only, for life; workers are replaced after their execution limit
 * or past their memory ceiling; idle workers are reaped down to the
 * minimum, and at the maximum an idle worker of another tenant makes room.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/proto.h"
#include "common/sys.h"
#include "supervisor/pool.h"
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

/* A pool nobody started (beddel-run's, whose requests alone start
 * workers) keeps no target: what makes it look again at its workers,
 * here new profiles, starts none. Once started, it keeps its minimum. */
START_TEST(test_pool_never_started_starts_no_worker)
{
	struct event_base *base = event_base_new();
	struct pool_config cfg;
	struct pool_figures f;
	char err[256];

	ck_assert_ptr_nonnull(base);
	pool_config_defaults(&cfg);
	cfg.worker_path = getenv("BEDDEL_WORKER");
	cfg.min_workers = 1;
	ck_assert_msg(pool_config_load_profiles(&cfg, NULL, err,
						sizeof(err)) == 0,
		      "%s", err);
	struct pool *p = pool_new(base, &cfg);
	ck_assert_ptr_nonnull(p);

	pool_set_profiles(p, &cfg.profiles);
	pool_get_figures(p, &f);
	ck_assert_uint_eq(f.workers, 0);

	ck_assert_int_eq(pool_start(p), 0);
	pool_get_figures(p, &f);
	ck_assert_uint_eq(f.workers, 1);
	pool_free(p);
	event_base_free(base);
}
END_TEST

/* What the process alone holds, in KiB. */
static unsigned long
private_dirty_kib(pid_t pid)
{
	uint64_t kib = harness_proc_kib(pid, "smaps_rollup", "Private_Dirty");

	ck_assert_uint_gt(kib, 0);
	return (unsigned long)kib;
}

/* A script that built megabytes leaves its worker holding no more than a
 * fresh one, give or take: the freed pages go back to the kernel before
 * the worker serves again (madvise(MADV_DONTNEED) under seccomp). */
START_TEST(test_pool_worker_hands_back_what_a_large_execution_freed)
{
	static const char *const args[] = { "--max-workers", "1", NULL };
	static const char big[] =
		"var a = []; for (var i = 0; i < 6000; i++)"
		" a.push({ i: i, s: 'x' + i }); a.length";

	start(1, args);
	pid_t worker = run_for("alice", "1");
	unsigned long before = private_dirty_kib(worker);

	ck_assert_int_eq(run_for("alice", big), worker);
	/* The worker is still the same process, and it still serves. */
	ck_assert_int_eq(run_for("alice", "1"), worker);
	unsigned long after = private_dirty_kib(worker);
	ck_assert_msg(after < before + 512,
		      "worker holds %lu KiB after a large execution, %lu before",
		      after, before);
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

START_TEST(test_pool_answers_requests_that_wait_too_long)
{
	static const char *const args[] = { "--max-workers", "1",
					    "--queue-max-wait-ms", "200", NULL };
	static const char slow[] =
		"var t = Date.now(); while (Date.now() - t < 1000) {} 'slow'";
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result res;

	start(1, args);
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	for (uint64_t id = 1; id <= 2; id++) {
		ck_assert_int_eq(harness_exec_frame(id, slow, NULL, 0, &f), 0);
		ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
		proto_frame_fini(&f);
	}
	/* The second gives up in the queue before the first is done. */
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 2);
	ck_assert_int_eq(res.outcome, OUTCOME_OVERLOADED);
	proto_msg_free(m);
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 1);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);
}
END_TEST

START_TEST(test_pool_starts_no_worker_past_the_memory_budget)
{
	/* One warm worker holds a few MiB: a 4 MiB budget leaves no room for
	 * a second. A second tenant gets a worker only by the first one,
	 * idle, making room; while the first is busy, it waits and is
	 * turned away. */
	static const char *const args[] = { "--max-workers", "4",
					    "--memory-budget-bytes", "4194304",
					    "--queue-max-wait-ms", "300", NULL };
	static const char slow[] =
		"var t = Date.now(); while (Date.now() - t < 1500) {} 'slow'";
	struct proto_msg *m;
	struct proto_result res;
	struct proto_frame f;
	pid_t pids[8];

	start(1, args);
	pid_t alice = run_for("alice", "1");
	pid_t bob = run_for("bob", "1");
	ck_assert_int_ne(alice, bob);
	ck_assert_uint_ge(harness_count_log(&h, "memory budget reached"), 1);
	ck_assert_uint_ge(harness_count_log(&h, "making room for another tenant"), 1);
	ck_assert_uint_eq(harness_children(&h, pids, 8), 1);

	/* bob's worker busy: alice cannot have one in time. */
	int busy = harness_connect(&h);
	ck_assert_int_ge(busy, 0);
	ck_assert_int_eq(harness_exec_frame(1, slow, NULL, 0, &f), 0);
	struct proto_exec e = { .has_id = true, .id = 1, .code = slow,
				.code_len = sizeof(slow) - 1, .tenant = "bob",
				.tenant_len = 3 };
	proto_frame_fini(&f);
	ck_assert_int_eq(proto_encode_exec(&e, &f), 0);
	ck_assert_int_eq(sys_write_all(busy, f.data, f.len), 0);
	proto_frame_fini(&f);
	ck_assert_int_gt(harness_busy_worker(&h, 5000), 0);
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 2, "alice", "1", &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OVERLOADED);
	proto_msg_free(m);
	(void)close(fd);
	ck_assert_int_eq(harness_read_result(busy, 5000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(busy);
}
END_TEST

/* Sends code for tenant on fd without waiting for the answer. */
static void
send_for(int fd, uint64_t id, const char *tenant, const char *code)
{
	struct proto_exec e = { .has_id = true, .id = id, .code = code,
				.code_len = strlen(code), .tenant = tenant,
				.tenant_len = strlen(tenant) };
	struct proto_frame f;

	ck_assert_int_eq(proto_encode_exec(&e, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
}

#define FLOOD 30

START_TEST(test_pool_a_flood_does_not_starve_another_tenant)
{
	static const char *const args[] = { "--max-workers", "2", NULL };
	static const char work[] =
		"var t = Date.now(); while (Date.now() - t < 30) {} 'a'";
	struct proto_msg *m;
	struct proto_result res;

	start(1, args);
	int flood = harness_connect(&h);
	ck_assert_int_ge(flood, 0);
	for (uint64_t id = 1; id <= FLOOD; id++)
		send_for(flood, id, "alice", work);
	ck_assert_int_gt(harness_busy_worker(&h, 5000), 0);
	/* The second worker starts for alice's queue and takes her next
	 * request as soon as it is ready: both are hers before bob comes. */
	ck_assert_int_eq(harness_wait_log(&h, "pool: worker ready", 1, 10000), 0);

	/* bob's one request is answered while alice's flood still runs:
	 * about 450 ms of it remain; bob waits for one of her requests. */
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 1, "bob", "'b'", &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);

	unsigned answered = 0;
	ck_assert_int_eq(sys_set_nonblock(flood), 0);
	while (harness_read_result(flood, 0, &m, &res) == 0) {
		answered++;
		proto_msg_free(m);
	}
	ck_assert_uint_lt(answered, FLOOD);
	ck_assert_uint_ge(harness_count_log(&h, "holds more than its share"), 1);
	(void)close(flood);
}
END_TEST

START_TEST(test_pool_a_tenant_holds_only_its_share_of_the_queue)
{
	static const char *const args[] = { "--max-workers", "1", "--queue-max",
					    "8", "--queue-max-per-tenant", "2",
					    NULL };
	static const char work[] =
		"var t = Date.now(); while (Date.now() - t < 200) {} 1";
	struct proto_msg *m;
	struct proto_result res;

	start(1, args);
	int flood = harness_connect(&h);
	ck_assert_int_ge(flood, 0);
	/* One runs, two wait, the fourth is turned away. */
	for (uint64_t id = 1; id <= 4; id++)
		send_for(flood, id, "alice", work);
	ck_assert_int_eq(harness_read_result(flood, 5000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 4);
	ck_assert_int_eq(res.outcome, OUTCOME_OVERLOADED);
	proto_msg_free(m);
	/* Room remains for another tenant. */
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	send_for(fd, 1, "bob", "'b'");
	ck_assert_int_eq(harness_read_result(fd, 10000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);
	(void)close(flood);
}
END_TEST

/* Runs code for tenant with a short timeout and returns the outcome. */
static enum outcome
outcome_for(const char *tenant, const char *code)
{
	enum outcome kind;

	ck_assert_int_eq(harness_outcome_for(&h, tenant, code, 150, &kind), 0);
	return kind;
}

START_TEST(test_pool_quarantines_a_script_that_keeps_killing_workers)
{
	static const char *const args[] = { "--quarantine-strikes", "3", NULL };
	static const char bomb[] = "var a = []; for (;;) a.push([1, 2, 3]);";

	start(2, args);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(outcome_for("alice", bomb), OUTCOME_MEMORY_LIMIT);
	/* Refused at once, with its own kind, and no worker spent on it. */
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 1, "alice", bomb, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_QUARANTINED);
	ck_assert_uint_eq(res.stats.worker_pid, 0);
	proto_msg_free(m);
	(void)close(fd);
	ck_assert_uint_eq(harness_count_log(&h, "quarantining a script"), 1);
	/* Only that script, and only for that tenant. */
	ck_assert_int_eq(outcome_for("alice", "1 + 1"), OUTCOME_OK);
	ck_assert_int_eq(outcome_for("bob", bomb), OUTCOME_MEMORY_LIMIT);
}
END_TEST

START_TEST(test_pool_logs_a_start_up_storm_once)
{
	static char worker[512];
	const char *dir = getenv("BEDDEL_FIXTURES");

	ck_assert_ptr_nonnull(dir);
	(void)snprintf(worker, sizeof(worker), "%s/worker_exit.sh", dir);
	const char *const args[] = { "--worker", worker, NULL };
	ck_assert_int_eq(harness_start(&h, 0, args), 0);
	/* A request makes it try, fail and back off, again and again. */
	ck_assert_int_eq(outcome_for("alice", "1"), OUTCOME_INTERNAL);
	ck_assert_int_eq(outcome_for("alice", "1"), OUTCOME_INTERNAL);
	ck_assert_int_eq(outcome_for("alice", "1"), OUTCOME_INTERNAL);
	ck_assert_uint_eq(harness_count_log(&h, "worker died"), 1);
}
END_TEST

#define LOAD_CLIENTS 3

/* Sends one request on fd: a 50 ms busy loop, against which the time
 * between an answer and the next request is small, so the worker that
 * runs it is busy nearly all the time. */
static void
send_load(int fd)
{
	static const char work[] =
		"var t = Date.now(); while (Date.now() - t < 50) {} 1";
	struct proto_frame f;

	ck_assert_int_eq(harness_exec_frame(1, work, NULL, 0, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
}

/* Fails the test with the supervisor's log on stderr: a whole log is too
 * long for a Check message. */
static void
fail_with_log(const char *what)
{
	(void)fputs(h.log, stderr);
	ck_abort_msg("%s", what);
}

/* Keeps every client's one request running, answering each with the next,
 * until the log shows needle after the last line matched, or timeout_ms
 * has passed. Returns 0 or -ETIMEDOUT. */
static int
keep_busy_until(const int *fds, const char *needle, int timeout_ms)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct pollfd pfd[LOAD_CLIENTS];

	while (harness_wait_log(&h, needle, 1, 0) < 0) {
		if (sys_now_ns() >= deadline)
			return -ETIMEDOUT;
		for (int c = 0; c < LOAD_CLIENTS; c++)
			pfd[c] = (struct pollfd){ .fd = fds[c],
						  .events = POLLIN };
		ck_assert_int_ge(poll(pfd, LOAD_CLIENTS, 100), 0);
		for (int c = 0; c < LOAD_CLIENTS; c++) {
			struct proto_msg *m;
			struct proto_result res;
			if (!pfd[c].revents)
				continue;
			int r = harness_read_result(fds[c], 5000, &m, &res);
			ck_assert_int_eq(r, 0);
			ck_assert_int_eq(res.outcome, OUTCOME_OK);
			proto_msg_free(m);
			send_load(fds[c]);
		}
	}
	return 0;
}

/* Three clients each keep one request running on three warm workers: the
 * workers are busy nearly all the time, yet no request waits, so demand
 * never starts a fourth worker. Only the sizing policy can, and it does:
 * a grow decision, then a worker started after it. Once the clients are
 * gone, a trickle of light requests gives calm windows with data, and
 * the policy shrinks the pool back to its minimum. */
START_TEST(test_pool_grows_in_a_burst_and_shrinks_back)
{
	/* An idle timeout past the test's end: only the policy retires. */
	static const char *const args[] = { "--max-workers", "12",
					    "--scale-interval-ms", "300",
					    "--idle-timeout-ms", "600000",
					    NULL };
	static const char at_minimum[] = "reason='calm, at the minimum";
	int fds[LOAD_CLIENTS];
	pid_t pids[16];

	start(LOAD_CLIENTS, args);
	for (int c = 0; c < LOAD_CLIENTS; c++) {
		fds[c] = harness_connect(&h);
		ck_assert_int_ge(fds[c], 0);
		send_load(fds[c]);
	}
	if (keep_busy_until(fds, "autoscale: grow from=", 30000) < 0)
		fail_with_log("the policy did not grow the pool");
	if (keep_busy_until(fds, "pool: worker spawned", 10000) < 0)
		fail_with_log("no worker started after the grow");
	/* More workers than requests at once: demand cannot explain it. */
	ck_assert_uint_gt(harness_children(&h, pids, 16), LOAD_CLIENTS);
	for (int c = 0; c < LOAD_CLIENTS; c++) {
		struct proto_msg *m;
		struct proto_result res;
		int r = harness_read_result(fds[c], 5000, &m, &res);
		ck_assert_int_eq(r, 0);
		proto_msg_free(m);
		(void)close(fds[c]);
	}

	/* The policy holds at its minimum only once it is there; the
	 * trickle also paces the windows, so each has data. */
	uint64_t deadline = sys_now_ns() + 30000000000ull;
	do {
		if (sys_now_ns() >= deadline)
			fail_with_log("the pool did not shrink back");
		(void)run_for("default", "1");
	} while (harness_wait_log(&h, at_minimum, 1, 50) < 0);
	ck_assert_uint_ge(harness_count_log(&h, "autoscale: shrink from="), 1);
	ck_assert_uint_ge(harness_count_log(&h, "the pool shrinks"), 1);
	/* Retired workers may still be on their way out. */
	while (harness_children(&h, pids, 16) > LOAD_CLIENTS) {
		if (sys_now_ns() >= deadline)
			fail_with_log("retired workers did not exit");
		(void)harness_wait_log(&h, "pool: worker exited", 1, 100);
	}
}
END_TEST

START_TEST(test_pool_does_not_grow_for_slow_scripts)
{
	static const char *const args[] = { "--max-workers", "6",
					    "--scale-interval-ms", "200", NULL };
	static const char slow[] =
		"var t = Date.now(); while (Date.now() - t < 80) {} 1";

	/* One client, one slow request at a time on two workers: latency
	 * over the threshold, but nothing waits and half the pool is idle,
	 * so more workers would not help. */
	start(2, args);
	for (int i = 0; i < 12; i++)
		(void)run_for("alice", slow);
	ck_assert_uint_ge(harness_count_log(&h, "autoscale: hold"), 1);
	ck_assert_uint_eq(harness_count_log(&h, "autoscale: grow"), 0);
	pid_t pids[8];
	ck_assert_uint_eq(harness_children(&h, pids, 8), 2);
}
END_TEST

START_TEST(test_pool_advise_only_logs_but_does_not_act)
{
	static const char *const args[] = { "--max-workers", "6",
					    "--scale-interval-ms", "200",
					    "--scale-grow-latency-us", "1",
					    "--scale-advise-only", NULL };

	start(1, args);
	for (int i = 0; i < 5; i++)
		(void)run_for("alice", "1");
	ck_assert_int_eq(harness_wait_log(&h, "autoscale: grow", 1, 5000), 0);
	ck_assert_uint_ge(harness_count_log(&h, "advise_only=1"), 1);
	ck_assert_msg(harness_count_log(&h, "pool: worker spawned") == 1,
		      "the pool acted on advice:\n%s", h.log);
}
END_TEST

START_TEST(test_pool_a_full_queue_makes_room_for_another_tenant)
{
	static const char *const args[] = { "--max-workers", "1", "--queue-max",
					    "4", NULL };
	/* Long enough that the first is still running when bob comes. */
	static const char work[] =
		"var t = Date.now(); while (Date.now() - t < 500) {} 'a'";
	struct proto_msg *m;
	struct proto_result res;
	bool is_dropped[6] = { false };

	start(1, args);
	int flood = harness_connect(&h);
	ck_assert_int_ge(flood, 0);
	/* One runs, four fill the queue. */
	for (uint64_t id = 1; id <= 5; id++)
		send_for(flood, id, "alice", work);
	ck_assert_int_gt(harness_busy_worker(&h, 5000), 0);
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	send_for(fd, 1, "bob", "'b'");
	ck_assert_int_eq(harness_read_result(fd, 10000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);
	/* alice lost her newest waiting request for it, and only that. */
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(harness_read_result(flood, 10000, &m, &res), 0);
		ck_assert_uint_le(res.id, 5);
		if (res.outcome == OUTCOME_OVERLOADED)
			is_dropped[res.id] = true;
		else
			ck_assert_int_eq(res.outcome, OUTCOME_OK);
		proto_msg_free(m);
	}
	ck_assert(is_dropped[5]);
	ck_assert(!is_dropped[1] && !is_dropped[2] && !is_dropped[3] && !is_dropped[4]);
	(void)close(flood);
}
END_TEST

Suite *pool_suite(void);

/* ---- Profiles ------------------------------------------------------- */

/* Sends code under profile (NULL: the default) with input_json, the
 * given timeout and instruction budget (0: the profile's); fills res
 * (free *ret_m). */
static void
exec_limited(const char *profile, const char *code, const char *input_json,
	     uint64_t timeout_ms, uint64_t instructions_max,
	     struct proto_msg **ret_m, struct proto_result *res)
{
	struct proto_frame f;
	struct proto_msg *parsed;
	struct proto_exec e;
	const char *why;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_frame(1, code, input_json, timeout_ms, &f), 0);
	parsed = harness_decode_frame(&f);
	ck_assert_int_eq(proto_msg_exec(parsed, &e, &why), 0);
	if (profile) {
		e.profile = profile;
		e.profile_len = strlen(profile);
	}
	e.instructions_max = instructions_max;
	ck_assert_int_eq(proto_encode_exec(&e, &f), 0);
	proto_msg_free(parsed);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	ck_assert_int_eq(harness_read_result(fd, 10000, ret_m, res), 0);
	(void)close(fd);
}

static void
exec_profile(const char *profile, const char *code, const char *input_json,
	     uint64_t timeout_ms, struct proto_msg **ret_m,
	     struct proto_result *res)
{
	exec_limited(profile, code, input_json, timeout_ms, 0, ret_m, res);
}

static void
start_with_test_profiles(void)
{
	static char path[512];
	const char *dir = getenv("BEDDEL_FIXTURES");

	ck_assert_ptr_nonnull(dir);
	(void)snprintf(path, sizeof(path), "%s/profiles/once.yaml", dir);
	const char *const args[] = { "--profiles", path, "--max-workers", "4",
				     NULL };
	start(2, args);
}

/* A profile that says "once" gets a fresh worker for every execution,
 * and the pool says why each one goes. */
START_TEST(test_pool_single_use_profile_never_reuses_a_worker)
{
	uint64_t pids[4];

	start_with_test_profiles();
	for (int i = 0; i < 4; i++) {
		struct proto_msg *m;
		struct proto_result res;
		exec_profile("single", "1 + 1", NULL, 0, &m, &res);
		ck_assert_int_eq(res.outcome, OUTCOME_OK);
		pids[i] = res.stats.worker_pid;
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(pids[i], pids[j]);
		proto_msg_free(m);
	}
	ck_assert_int_eq(harness_wait_log(&h, "its profile uses a worker once",
					  4, 5000),
			 0);
	/* The profile's restriction holds; the default profile has none. */
	struct proto_msg *m;
	struct proto_result res;
	exec_profile("single", "eval('1')", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_SECURITY_VIOLATION);
	proto_msg_free(m);
	exec_profile(NULL, "eval('1')", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
}
END_TEST

/* The lean profile replaces a worker past 1 MiB resident: every worker
 * is larger, so each one that served it goes, counted by its reason. */
START_TEST(test_pool_retires_a_worker_past_its_profiles_rss_ceiling)
{
	struct proto_msg *m;
	struct proto_result res;

	start_with_test_profiles();
	exec_profile("lean", "1", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	ck_assert_int_eq(harness_wait_log(&h, "resident memory over its ceiling", 1,
					  5000),
			 0);
	/* Under the default profile the same worker would stay. */
	exec_profile("shared", "1", NULL, 0, &m, &res);
	uint64_t pid = res.stats.worker_pid;
	proto_msg_free(m);
	exec_profile("shared", "2", NULL, 0, &m, &res);
	ck_assert_uint_eq(res.stats.worker_pid, pid);
	proto_msg_free(m);
}
END_TEST

/* A request may lower its profile's limits, never raise them; its input
 * is bounded by the profile; an unknown profile is a bad request. */
START_TEST(test_pool_requests_lower_limits_only)
{
	struct proto_msg *m;
	struct proto_result res;

	start_with_test_profiles();
	exec_profile("shared", "while (true) {}", NULL, 100, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_TIMEOUT);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len, "100 ms", 6));
	proto_msg_free(m);
	exec_profile("shared", "1", NULL, 5001, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_BAD_REQUEST);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len, "timeout_ms", 10));
	proto_msg_free(m);
	exec_profile("shared", "input.length",
		     "\"0123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789\"",
		     0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_TOO_LARGE);
	proto_msg_free(m);
	exec_profile("single", "input.length",
		     "\"0123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789\"",
		     0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	exec_limited("shared", "while (true) {}", NULL, 0, 1000000, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_TIMEOUT);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len,
				     "budget of 1000000 instructions", 30));
	proto_msg_free(m);
	exec_limited("shared", "1", NULL, 0, 2000000000, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_BAD_REQUEST);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len,
				     "instructions_max", 16));
	proto_msg_free(m);
	exec_profile("missing", "1", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_BAD_REQUEST);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len, "'missing'", 9));
	proto_msg_free(m);
}
END_TEST

/* Writes text to path, whole. */
static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

#define RELOAD_PROFILE(name) RELOAD_PROFILE_HEAP(name, "2097152")
#define RELOAD_PROFILE_HEAP(name, heap)                                    \
	"  " name ":\n"                                                      \
	"    heap_limit_bytes: " heap "\n"                                   \
	"    timeout_ms: 5000\n"                                             \
	"    cpu_ms: 5000\n"                                                 \
	"    instructions_max: 1000000000\n"                                 \
	"    result_max_bytes: 65536\n"                                      \
	"    log_max_bytes: 1024\n"                                          \
	"    input_max_bytes: 64\n"                                          \
	"    worker_rss_max_bytes: 268435456\n"                              \
	"    worker: shared\n"                                               \
	"    restricted: []\n"

/* SIGHUP reads the profiles again: a good file applies to the next
 * request and replaces the workers started before; a bad one is
 * refused with its line, and the running profiles stay. */
START_TEST(test_pool_reloads_profiles_on_sighup)
{
	char path[600];
	struct proto_msg *m;
	struct proto_result res;

	(void)snprintf(path, sizeof(path), "/tmp/beddel-reload-%d.yaml",
		       (int)getpid());
	write_file(path, "default: a\nprofiles:\n" RELOAD_PROFILE("a"));
	const char *const args[] = { "--profiles", path, NULL };
	start(1, args);
	exec_profile("b", "1", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_BAD_REQUEST);
	proto_msg_free(m);

	/* b's heap cap is larger: the workers started before, whose
	 * address space derives from the largest cap, are replaced. */
	write_file(path, "default: a\nprofiles:\n" RELOAD_PROFILE("a")
				 RELOAD_PROFILE_HEAP("b", "4194304"));
	ck_assert_int_eq(kill(h.pid, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "configuration reloaded", 1, 5000), 0);
	/* The idle worker, started under the old profiles, went first. */
	ck_assert_uint_ge(harness_count_log(&h, "the profiles were reloaded"), 1);
	exec_profile("b", "6 * 7", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);

	write_file(path, "default: a\nprofiles:\n  a:\n    cpu_ms: lots\n");
	ck_assert_int_eq(kill(h.pid, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "reload refused", 1, 5000), 0);
	ck_assert_uint_eq(harness_count_log(&h, ".yaml:4:"), 1);
	exec_profile("b", "6 * 7", NULL, 0, &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)unlink(path);
}
END_TEST

/* The pool's bounds as the status says them. */
static void
expect_bounds(unsigned min_workers, unsigned max_workers)
{
	struct proto_msg *m;

	ck_assert_int_eq(harness_query(&h, PROTO_MSG_STATUS, NULL, &m), 0);
	const struct proto_value *pool =
		proto_value_find(proto_msg_get(m, "status"), "pool");
	ck_assert_uint_eq(proto_value_uint(proto_value_find(pool, "min_workers")),
			  min_workers);
	ck_assert_uint_eq(proto_value_uint(proto_value_find(pool, "max_workers")),
			  max_workers);
	proto_msg_free(m);
}

/* SIGHUP reads the --config file again too: what may change while the
 * pool runs does, what needs a restart is named and kept, and a file
 * with a mistake changes nothing. */
START_TEST(test_pool_reloads_its_configuration_on_sighup)
{
	char path[64];

	(void)snprintf(path, sizeof(path), "/tmp/beddel-config-%d.yaml",
		       (int)getpid());
	write_file(path, "max-workers: 3\n");
	const char *const args[] = { "--config", path, NULL };
	start(1, args);
	expect_bounds(1, 3);

	/* The command line (the harness's --workers 1) still wins over the
	 * file, as at the start. */
	write_file(path, "workers: 2\nmax-workers: 5\nsocket-mode: 0660\n");
	ck_assert_int_eq(kill(h.pid, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "configuration reloaded", 1, 5000), 0);
	expect_bounds(1, 5);
	ck_assert_uint_eq(harness_count_log(&h, "options=socket-mode"), 1);

	write_file(path, "workers: lots\n");
	ck_assert_int_eq(kill(h.pid, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "reload refused", 1, 5000), 0);
	ck_assert_uint_eq(harness_count_log(&h, ".yaml:1: 'workers'"), 1);
	expect_bounds(1, 5);
	(void)unlink(path);
}
END_TEST

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
	tcase_add_test(tc, test_pool_answers_requests_that_wait_too_long);
	tcase_add_test(tc, test_pool_starts_no_worker_past_the_memory_budget);
	suite_add_tcase(s, tc);

	tc = tcase_create("profiles");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_pool_single_use_profile_never_reuses_a_worker);
	tcase_add_test(tc, test_pool_retires_a_worker_past_its_profiles_rss_ceiling);
	tcase_add_test(tc,
		       test_pool_worker_hands_back_what_a_large_execution_freed);
	tcase_add_test(tc, test_pool_requests_lower_limits_only);
	tcase_add_test(tc, test_pool_reloads_profiles_on_sighup);
	tcase_add_test(tc, test_pool_reloads_its_configuration_on_sighup);
	suite_add_tcase(s, tc);

	/* In this process: no supervisor to stop after it. */
	tc = tcase_create("in-process");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pool_never_started_starts_no_worker);
	suite_add_tcase(s, tc);

	tc = tcase_create("fairness");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_pool_a_flood_does_not_starve_another_tenant);
	tcase_add_test(tc, test_pool_a_tenant_holds_only_its_share_of_the_queue);
	tcase_add_test(tc, test_pool_a_full_queue_makes_room_for_another_tenant);
	suite_add_tcase(s, tc);

	tc = tcase_create("storms");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_pool_quarantines_a_script_that_keeps_killing_workers);
	tcase_add_test(tc, test_pool_logs_a_start_up_storm_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("autoscale");
	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_pool_grows_in_a_burst_and_shrinks_back);
	tcase_add_test(tc, test_pool_advise_only_logs_but_does_not_act);
	tcase_add_test(tc, test_pool_does_not_grow_for_slow_scripts);
	suite_add_tcase(s, tc);
	return s;
}
