/* SPDX-License-Identifier: MIT */
/*
 * Integration tests: a real beddel-supervisor on a temporary socket,
 * driven over its socket. They prove the main job end to end: the
 * examples, every error kind, workers killed mid-request, sandboxed
 * workers seen through /proc, many clients pipelining at once, hostile
 * frames, and a clean stop that leaves nothing behind.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "supervisor/inspect.h"
#include "supervisor/remote.h"
#include "tests/helpers/harness.h"

#define MAX_WORKERS_SEEN 64

static struct harness h;
static unsigned fds_before;

static void
start_with(unsigned workers, const char *const *extra)
{
	fds_before = harness_count_fds();
	ck_assert_int_eq(harness_start(&h, workers, extra), 0);
}

static void
setup(void)
{
	start_with(2, NULL);
}

/* Stops the supervisor and proves it left nothing: exit 0, no socket, no
 * worker alive, no fd of ours open. */
static void
stop_and_check(void)
{
	pid_t workers[MAX_WORKERS_SEEN];
	size_t n = harness_children(&h, workers, MAX_WORKERS_SEEN);
	char socket[sizeof(h.socket)];

	memcpy(socket, h.socket, sizeof(socket));
	int status = harness_stop(&h, 15000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "supervisor ended with status %d", status);
	ck_assert_int_ne(access(socket, F_OK), 0);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(kill(workers[i], 0) < 0 && errno == ESRCH,
			      "worker %d outlived the supervisor", (int)workers[i]);
	ck_assert_uint_eq(harness_count_fds(), fds_before);
}

static void
teardown(void)
{
	stop_and_check();
}

/* Runs code on a new connection and returns the response. */
static struct proto_msg *
exec_once(const char *code, const char *input, uint64_t timeout_ms,
	  struct proto_result *res)
{
	struct proto_msg *m;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec(fd, 1, code, input, timeout_ms, &m, res), 0);
	(void)close(fd);
	return m;
}

static void
expect_ok_json(const char *code, const char *input, const char *want)
{
	struct proto_result res;
	struct proto_msg *m = exec_once(code, input, 0, &res);

	ck_assert_msg(res.outcome == OUTCOME_OK, "%s: %s %.*s", code,
		      outcome_name(res.outcome), (int)res.message_len,
		      res.message);
	char *json = harness_value_json(res.value);
	ck_assert_str_eq(json, want);
	free(json);
	proto_msg_free(m);
}

static void
expect_kind(const char *code, uint64_t timeout_ms, enum outcome kind)
{
	struct proto_result res;
	struct proto_msg *m = exec_once(code, NULL, timeout_ms, &res);

	ck_assert_msg(res.outcome == kind, "%s gave %s (%.*s), not %s", code,
		      outcome_name(res.outcome), (int)res.message_len,
		      res.message, outcome_name(kind));
	ck_assert_uint_gt(res.message_len, 0);
	proto_msg_free(m);
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t cap = 0;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ssize_t n = getdelim(&text, &cap, '\0', f);
	(void)fclose(f);
	ck_assert_int_ge(n, 0);
	return text;
}

START_TEST(test_supervisor_runs_the_examples)
{
	const char *dir = harness_examples_dir();
	struct dirent **names;
	char path[512];
	unsigned ran = 0;

	int n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_gt(n, 0);
	for (int i = 0; i < n; i++) {
		size_t len = strlen(names[i]->d_name);
		if (len > 3 && strcmp(names[i]->d_name + len - 3, ".js") == 0) {
			(void)snprintf(path, sizeof(path), "%s/%s", dir,
				       names[i]->d_name);
			char *code = read_file(path);
			(void)snprintf(path + strlen(path) - 3, 16, ".expected");
			char *want = read_file(path);
			want[strcspn(want, "\n")] = '\0';
			expect_ok_json(code, NULL, want);
			free(code);
			free(want);
			ran++;
		}
		free(names[i]);
	}
	free(names);
	ck_assert_uint_eq(ran, 6);
}
END_TEST

START_TEST(test_supervisor_reports_syntax_errors)
{
	struct proto_result res;
	struct proto_msg *m = exec_once("var ok = 1;\nvar = ;", NULL, 0, &res);

	ck_assert_int_eq(res.outcome, OUTCOME_SYNTAX_ERROR);
	ck_assert_uint_eq(res.line, 2);
	proto_msg_free(m);
	expect_ok_json("1 + 1", NULL, "2");
}
END_TEST

START_TEST(test_supervisor_reports_uncaught_exceptions)
{
	struct proto_result res;
	struct proto_msg *m = exec_once("throw new RangeError('out of range')", NULL,
					0, &res);

	ck_assert_int_eq(res.outcome, OUTCOME_RUNTIME_ERROR);
	ck_assert_int_eq(res.message_len, strlen("RangeError: out of range"));
	ck_assert_mem_eq(res.message, "RangeError: out of range", res.message_len);
	ck_assert_ptr_nonnull(res.stack);
	proto_msg_free(m);
}
END_TEST

/* A regular expression that backtracks for longer than any test: the
 * engine's matcher runs it without the interrupt check, so only the
 * supervisor's kill after the grace period stops it. */
#define BACKTRACKING_REGEX "/(a+)+$/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!')"

START_TEST(test_supervisor_stops_endless_loops_and_keeps_the_worker)
{
	static const char *const loops[] = {
		"while (true) {}",
		"for (;;) { try { for (;;) {} } catch (e) {} }",
		"var o = { get x() { for (;;) {} } }; o.x",
		"[3, 2, 1].sort(function (a, b) { for (;;) {} })",
	};
	struct proto_result res;
	struct proto_msg *m;

	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		m = exec_once(loops[i], NULL, 200, &res);
		ck_assert_msg(res.outcome == OUTCOME_TIMEOUT, "%s: %s", loops[i],
			      outcome_name(res.outcome));
		/* Stopped by the worker, where it was: the stack says so. */
		ck_assert_ptr_nonnull(res.stack);
		ck_assert_ptr_nonnull(memmem(res.stack, res.stack_len,
					     "(script:1)", 10));
		/* The worker lives on. */
		ck_assert_int_eq(kill((pid_t)res.stats.worker_pid, 0), 0);
		proto_msg_free(m);
	}
	ck_assert_uint_eq(harness_count_log(&h, "request timed out"), 0);
	ck_assert_uint_eq(harness_count_log(&h, "worker died"), 0);
	expect_ok_json("'still serving'", NULL, "\"still serving\"");
}
END_TEST

START_TEST(test_supervisor_kills_a_worker_that_misses_its_deadline)
{
	expect_kind(BACKTRACKING_REGEX, 200, OUTCOME_TIMEOUT);
	ck_assert_uint_eq(harness_count_log(&h, "request timed out"), 1);
	expect_ok_json("'still serving'", NULL, "\"still serving\"");
}
END_TEST

START_TEST(test_supervisor_stops_memory_bombs)
{
	expect_kind("var a = []; while (true) a.push(new Array(64));", 0,
		    OUTCOME_MEMORY_LIMIT);
	expect_kind("var s = 'x'; while (true) s = s + s;", 0,
		    OUTCOME_MEMORY_LIMIT);
	expect_ok_json("1 + 1", NULL, "2");
	/* Each worker that hit its cap is retired quietly, not killed. */
	ck_assert_int_eq(harness_wait_log(&h, "pool: worker exited", 2, 5000), 0);
	ck_assert_uint_eq(harness_count_log(&h, "broke the protocol"), 0);
}
END_TEST

/* Sends code as request id on fd, without waiting for the answer, and
 * returns the worker that runs it. */
static pid_t
start_busy(int fd, uint64_t id, const char *code, uint64_t timeout_ms)
{
	struct proto_frame f;

	ck_assert_int_eq(harness_exec_frame(id, code, NULL, timeout_ms, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	pid_t busy = harness_busy_worker(&h, 5000);
	ck_assert_int_gt(busy, 0);
	return busy;
}

/* Sends an endless loop, kills its worker with sig while it runs, and
 * returns the kind the client got. */
static enum outcome
kill_busy_worker(int sig)
{
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	pid_t busy = start_busy(fd, 7, "while (true) {}", 5000);
	ck_assert_int_eq(kill(busy, sig), 0);
	ck_assert_int_eq(harness_read_result(fd, 4000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 7);
	ck_assert_uint_eq(res.stats.worker_pid, (uint64_t)busy);
	enum outcome kind = res.outcome;
	proto_msg_free(m);
	(void)close(fd);
	return kind;
}

START_TEST(test_supervisor_survives_worker_killed_mid_request)
{
	ck_assert_int_eq(kill_busy_worker(SIGKILL), OUTCOME_WORKER_CRASHED);
	expect_ok_json("1 + 1", NULL, "2");
	/* The pool is refilled to its minimum. */
	ck_assert_int_eq(harness_wait_log(&h, "pool: worker ready", 1, 5000), 0);
	ck_assert_uint_ge(harness_count_log(&h, "pool: worker ready"), 3);
}
END_TEST

START_TEST(test_supervisor_reports_sandbox_kill_as_security_violation)
{
	ck_assert_int_eq(kill_busy_worker(SIGSYS), OUTCOME_SECURITY_VIOLATION);
	expect_ok_json("1 + 1", NULL, "2");
}
END_TEST

/* A worker that crashes (a fault in the engine, here made by the probe
 * worker) is reported as worker_crashed with its signal, and replaced. */
START_TEST(test_supervisor_reports_other_deaths_as_crashes)
{
	static const struct {
		const char *code;
		int sig;
	} faults[] = {
		{ "fault-segv", SIGSEGV },
		{ "fault-ill", SIGILL },
	};
	const char *probe = getenv("BEDDEL_WORKER_PROBE");

	ck_assert_ptr_nonnull(probe);
	const char *const args[] = { "--worker", probe, NULL };
	ck_assert_int_eq(harness_stop(&h, 5000), 0);
	start_with(1, args);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct proto_result res;
		struct proto_msg *m = exec_once(faults[i].code, NULL, 0, &res);
		char logged[32];
		ck_assert_int_eq(res.outcome, OUTCOME_WORKER_CRASHED);
		proto_msg_free(m);
		(void)snprintf(logged, sizeof(logged), " sig=%d ", faults[i].sig);
		ck_assert_int_eq(harness_wait_log(&h, logged, 1, 5000), 0);
	}
}
END_TEST

/* In its own PID namespace a worker is its namespace's init: a signal
 * from outside that it has no handler for (all but SIGKILL, SIGSTOP and
 * the sandbox's SIGSYS) does not reach it (pid_namespaces(7)). */
START_TEST(test_supervisor_workers_ignore_stray_signals)
{
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	if (!harness_workers_have_own_pid_namespace(&h)) {
		(void)close(fd);
		return;
	}
	ck_assert_int_ge(fd, 0);
	pid_t busy = start_busy(fd, 7,
				"var t = Date.now(); while (Date.now() - t < 300) {} 'done'",
				5000);
	ck_assert_int_eq(kill(busy, SIGSEGV), 0);
	ck_assert_int_eq(kill(busy, SIGTERM), 0);
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	ck_assert_uint_eq(res.stats.worker_pid, (uint64_t)busy);
	proto_msg_free(m);
	(void)close(fd);
}
END_TEST

static void
read_status_line(pid_t pid, const char *name, char *buf, size_t size)
{
	ck_assert_int_eq(harness_proc_status(pid, name, buf, size), 0);
}

START_TEST(test_supervisor_workers_are_sandboxed)
{
	pid_t workers[MAX_WORKERS_SEEN];
	char buf[128], path[64], link[64];
	size_t n = harness_children(&h, workers, MAX_WORKERS_SEEN);

	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		read_status_line(workers[i], "Seccomp", buf, sizeof(buf));
		ck_assert_str_eq(buf, "2");
		read_status_line(workers[i], "NoNewPrivs", buf, sizeof(buf));
		ck_assert_str_eq(buf, "1");
		read_status_line(workers[i], "CapEff", buf, sizeof(buf));
		ck_assert_str_eq(buf, "0000000000000000");
		for (int fd = 0; fd < 64; fd++) {
			(void)snprintf(path, sizeof(path), "/proc/%d/fd/%d",
				       (int)workers[i], fd);
			ssize_t r = readlink(path, link, sizeof(link));
			ck_assert_msg((r > 0) == (fd == IPC_FD_REQ || fd == IPC_FD_RSP),
				      "worker %d: fd %d", (int)workers[i], fd);
		}
	}
}
END_TEST

#define CLIENTS 50
#define PIPELINED 8

START_TEST(test_supervisor_serves_concurrent_pipelined_clients)
{
	int fds[CLIENTS];
	bool seen[CLIENTS * PIPELINED] = { false };
	char input[32];

	/* Every client sends all its requests before reading anything. */
	for (int c = 0; c < CLIENTS; c++) {
		fds[c] = harness_connect(&h);
		ck_assert_int_ge(fds[c], 0);
		for (int k = 0; k < PIPELINED; k++) {
			struct proto_frame f;
			int id = c * PIPELINED + k;
			(void)snprintf(input, sizeof(input), "{\"n\":%d}", id);
			ck_assert_int_eq(harness_exec_frame((uint64_t)id,
							    "input.n * 2 + 1",
							    input, 0, &f),
					 0);
			ck_assert_int_eq(sys_write_all(fds[c], f.data, f.len), 0);
			proto_frame_fini(&f);
		}
	}
	for (int c = 0; c < CLIENTS; c++) {
		for (int k = 0; k < PIPELINED; k++) {
			struct proto_msg *m;
			struct proto_result res;
			ck_assert_int_eq(harness_read_result(fds[c], 20000, &m, &res), 0);
			ck_assert_int_eq(res.outcome, OUTCOME_OK);
			ck_assert(res.has_id);
			/* The answer belongs to this client and this id. */
			ck_assert_uint_ge(res.id, (uint64_t)c * PIPELINED);
			ck_assert_uint_lt(res.id, (uint64_t)(c + 1) * PIPELINED);
			ck_assert(!seen[res.id]);
			seen[res.id] = true;
			ck_assert_int_eq(proto_value_int(res.value),
					 (int64_t)res.id * 2 + 1);
			proto_msg_free(m);
		}
		(void)close(fds[c]);
	}
}
END_TEST

static void
send_raw_frame(int fd, const void *payload, size_t len)
{
	uint8_t header[IPC_HEADER_BYTES];

	ipc_header_encode(len, header);
	ck_assert_int_eq(sys_write_all(fd, header, sizeof(header)), 0);
	if (len)
		ck_assert_int_eq(sys_write_all(fd, payload, len), 0);
}

static void
expect_reply(int fd, enum outcome kind, bool has_id, uint64_t id)
{
	struct proto_msg *m;
	struct proto_result res;

	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_msg(res.outcome == kind, "got %s (%.*s), not %s",
		      outcome_name(res.outcome), (int)res.message_len,
		      res.message, outcome_name(kind));
	ck_assert_int_eq(res.has_id, has_id);
	if (has_id)
		ck_assert_uint_eq(res.id, id);
	proto_msg_free(m);
}

/* A valid request on fd still gets its answer. */
static void
expect_still_served(int fd)
{
	struct proto_msg *m;
	struct proto_result res;

	ck_assert_int_eq(harness_exec(fd, 99, "6 * 7", NULL, 0, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	ck_assert_uint_eq(res.id, 99);
	ck_assert_int_eq(proto_value_int(res.value), 42);
	proto_msg_free(m);
}

START_TEST(test_supervisor_answers_malformed_frames)
{
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	send_raw_frame(fd, "\xc1\xc1\xc1", 3);
	expect_reply(fd, OUTCOME_BAD_REQUEST, false, 0);
	send_raw_frame(fd, "\x91\x01", 2);
	expect_reply(fd, OUTCOME_BAD_REQUEST, false, 0);
	send_raw_frame(fd, NULL, 0);
	expect_reply(fd, OUTCOME_BAD_REQUEST, false, 0);
	/* {"type":"result","id":5} is not a client message. */
	send_raw_frame(fd, "\x82\xa4type\xa6result\xa2id\x05", 17);
	expect_reply(fd, OUTCOME_BAD_REQUEST, true, 5);
	/* {"type":"exec","id":6,"code":1}: the id still comes back. */
	send_raw_frame(fd, "\x83\xa4type\xa4" "exec\xa2id\x06\xa4" "code\x01", 21);
	expect_reply(fd, OUTCOME_BAD_REQUEST, true, 6);
	expect_still_served(fd);
	(void)close(fd);
}
END_TEST

START_TEST(test_supervisor_answers_bad_requests)
{
	struct proto_frame f;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	/* Above the supervisor's maximum timeout. */
	ck_assert_int_eq(harness_exec_frame(1, "1", NULL, 999999, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	expect_reply(fd, OUTCOME_BAD_REQUEST, true, 1);

	/* Code that is not UTF-8. */
	struct proto_exec e = { .has_id = true, .id = 2, .code = "'\xff'",
				.code_len = 3 };
	ck_assert_int_eq(proto_encode_exec(&e, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	expect_reply(fd, OUTCOME_BAD_REQUEST, true, 2);

	/* A tenant with a newline in it. */
	e = (struct proto_exec){ .has_id = true, .id = 3, .code = "1",
				 .code_len = 1, .tenant = "a\nb",
				 .tenant_len = 3 };
	ck_assert_int_eq(proto_encode_exec(&e, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	expect_reply(fd, OUTCOME_BAD_REQUEST, true, 3);
	expect_still_served(fd);
	(void)close(fd);
}
END_TEST

START_TEST(test_supervisor_answers_oversized_frames)
{
	size_t len = 2 * IPC_FRAME_MAX_DEFAULT;
	char *junk = malloc(len);
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	memset(junk, 0xc1, len);
	send_raw_frame(fd, junk, len);
	free(junk);
	expect_reply(fd, OUTCOME_TOO_LARGE, false, 0);
	/* The rest of that frame was skipped; framing holds. */
	expect_still_served(fd);
	(void)close(fd);
}
END_TEST

START_TEST(test_supervisor_survives_clients_that_vanish)
{
	struct proto_frame f;

	for (int i = 0; i < 5; i++) {
		int fd = harness_connect(&h);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(harness_exec_frame(1, BACKTRACKING_REGEX, NULL, 300, &f), 0);
		ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
		proto_frame_fini(&f);
		if (i % 2)
			(void)sys_write_all(fd, "\x00\x00\x01\x00\x81", 5);
		(void)close(fd);
	}
	expect_ok_json("'alive'", NULL, "\"alive\"");
	ck_assert_int_eq(harness_wait_log(&h, "request timed out", 2, 5000), 0);
	expect_ok_json("'alive'", NULL, "\"alive\"");
}
END_TEST

START_TEST(test_supervisor_keeps_executions_apart)
{
	expect_ok_json("this.secret = 's3cr3t'; Object.prototype.mark = 1; 0",
		       NULL, "0");
	for (int i = 0; i < 4; i++)
		expect_ok_json("[typeof secret, typeof ({}).mark]", NULL,
			       "[\"undefined\",\"undefined\"]");
}
END_TEST

static void
setup_one_worker(void)
{
	static const char *const args[] = { "--max-workers", "1",
					    "--queue-max", "1", NULL };
	start_with(1, args);
}

START_TEST(test_supervisor_queues_then_refuses_when_full)
{
	static const char busy[] =
		"var t = Date.now(); while (Date.now() - t < 300) {} 'slow'";
	struct proto_frame f;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	/* 1 runs, 2 waits in the queue of one, 3 finds it full. */
	for (uint64_t id = 1; id <= 3; id++) {
		ck_assert_int_eq(harness_exec_frame(id, busy, NULL, 0, &f), 0);
		ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
		proto_frame_fini(&f);
	}
	expect_reply(fd, OUTCOME_OVERLOADED, true, 3);
	struct proto_msg *m;
	struct proto_result res;
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 1);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_uint_eq(res.id, 2);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	ck_assert_uint_ge(res.stats.queue_us, 100000);
	proto_msg_free(m);
	(void)close(fd);
}
END_TEST

START_TEST(test_supervisor_finishes_in_flight_work_on_sigterm)
{
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	(void)start_busy(fd, 1,
			 "var t = Date.now(); while (Date.now() - t < 300) {} 'done'",
			 0);
	ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
	ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);
	/* teardown checks exit 0, the socket gone and no worker left. */
}
END_TEST

/* Past the drain deadline a stop answers what is still running and
 * queued with `overloaded` instead of waiting for it, and still exits
 * 0 with nothing left behind. */
START_TEST(test_supervisor_answers_everything_at_its_drain_deadline)
{
	static const char *const args[] = { "--max-workers", "1",
					    "--drain-timeout-ms", "300", NULL };
	/* Light in instructions: only its CPU budget (2 s) would end it,
	 * long after the drain deadline. */
	static const char spin[] =
		"var t = Date.now(); while (Date.now() - t < 4000) {}";
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result res;

	ck_assert_int_eq(harness_stop(&h, 10000), 0 << 8);
	start_with(1, args);
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	(void)start_busy(fd, 1, spin, 0);
	ck_assert_int_eq(harness_exec_frame(2, spin, NULL, 0, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(harness_read_result(fd, 5000, &m, &res), 0);
		ck_assert_int_eq(res.outcome, OUTCOME_OVERLOADED);
		ck_assert_ptr_nonnull(memmem(res.message, res.message_len,
					     "drain deadline", 14));
		proto_msg_free(m);
	}
	(void)close(fd);
	/* teardown checks exit 0, the socket gone and no worker left. */
}
END_TEST

static void
setup_tight_limits(void)
{
	static const char *const args[] = { "--max-clients", "3",
					    "--stall-timeout-ms", "200", NULL };
	start_with(2, args);
}

/* Waits for the supervisor to close fd, draining anything it sends. */
static void
expect_closed(int fd, int timeout_ms)
{
	char buf[256];
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ck_assert_msg(sys_now_ns() < deadline, "connection not closed");
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
	}
}

START_TEST(test_supervisor_closes_clients_stalled_inside_a_frame)
{
	int idle = harness_connect(&h);
	int stalled = harness_connect(&h);

	ck_assert_int_ge(idle, 0);
	ck_assert_int_ge(stalled, 0);
	/* Six bytes of a nine-byte frame, then nothing. */
	ck_assert_int_eq(sys_write_all(stalled, "\x00\x00\x00\x05\x81\xa4", 6), 0);
	expect_closed(stalled, 5000);
	(void)close(stalled);
	ck_assert_uint_eq(harness_count_log(&h, "stalled inside a frame"), 1);
	/* Quiet between frames is not a stall. */
	expect_still_served(idle);
	(void)close(idle);
}
END_TEST

/* A frame that trickles in a byte at a time, each well within the stall
 * timeout, is closed all the same once the timeout has passed since its
 * first byte: a few clients cannot hold connections open forever. */
START_TEST(test_supervisor_closes_clients_that_trickle_a_frame)
{
	static const char frame[] = "\x00\x00\x00\x40";
	int fd = harness_connect(&h);
	uint64_t deadline = sys_now_ns() + 5000000000ull;
	bool is_closed = false;

	ck_assert_int_ge(fd, 0);
	/* The header of a 64-byte frame, then one byte each 50 ms: the
	 * frame would take over 3 s; the stall timeout is 200 ms. */
	ck_assert_int_eq(sys_write_all(fd, frame, 4), 0);
	while (!is_closed && sys_now_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char c = 0x01;
		if (poll(&p, 1, 50) > 0) {
			char buf[256];
			is_closed = read(fd, buf, sizeof(buf)) <= 0;
		} else {
			is_closed = send(fd, &c, 1, MSG_NOSIGNAL) < 0;
		}
	}
	ck_assert_msg(is_closed, "a trickling client kept its connection");
	(void)close(fd);
	ck_assert_int_eq(harness_wait_log(&h, "stalled inside a frame", 1, 2000), 0);
}
END_TEST

/* A client that sends a request and a stray byte and then closes its
 * writing side still gets its answer, even when the script runs past
 * the stall timeout: the half frame will never end, and is no stall. */
START_TEST(test_supervisor_answers_a_client_that_closed_after_a_half_frame)
{
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_frame(4, "var t = Date.now(); while (Date.now() - t < 400) {} 'done'",
					    NULL, 0, &f),
			 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	ck_assert_int_eq(sys_write_all(fd, "\x00", 1), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	ck_assert_int_eq(harness_read_result(fd, 10000, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	ck_assert_uint_eq(res.id, 4);
	proto_msg_free(m);
	(void)close(fd);
}
END_TEST

START_TEST(test_supervisor_refuses_clients_past_the_maximum)
{
	int fds[3];

	for (int i = 0; i < 3; i++) {
		fds[i] = harness_connect(&h);
		ck_assert_int_ge(fds[i], 0);
		expect_still_served(fds[i]);
	}
	int extra = harness_connect(&h);
	ck_assert_int_ge(extra, 0);
	expect_reply(extra, OUTCOME_OVERLOADED, false, 0);
	expect_closed(extra, 5000);
	(void)close(extra);
	for (int i = 0; i < 3; i++) {
		expect_still_served(fds[i]);
		(void)close(fds[i]);
	}
}
END_TEST

/* Every warm worker of a live supervisor, read from /proc: every required
 * protection, and as root every namespace and an empty root. The start
 * log says the same. */
START_TEST(test_supervisor_workers_show_every_layer_in_proc)
{
	pid_t workers[MAX_WORKERS_SEEN];
	struct inspect_layers l;

	expect_ok_json("1", NULL, "1");
	harness_drain_log(&h);
	ck_assert_uint_eq(harness_count_log(&h, "pool: worker sandbox seccomp=on no_new_privs=on capabilities=none"), 1);
	size_t n = harness_children(&h, workers, MAX_WORKERS_SEEN);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(inspect_worker(workers[i], &l), 0);
		ck_assert(inspect_is_complete(&l));
		if (geteuid() != 0)
			continue;
		ck_assert_uint_eq(l.namespaces,
				  INSPECT_NS_NET | INSPECT_NS_MNT |
					  INSPECT_NS_IPC | INSPECT_NS_UTS |
					  INSPECT_NS_PID);
		ck_assert(l.has_empty_root);
		ck_assert_uint_eq(l.uid, 65534);
	}
}
END_TEST

/* ---- Configuration files ------------------------------------------- */

/* Writes text to a new file in the harness's private directory. */
static const char *
write_temp(const char *name, const char *text)
{
	static char path[256];

	(void)snprintf(path, sizeof(path), "/tmp/beddel-test-%d-%s",
		       (int)getpid(), name);
	FILE *f = fopen(path, "we");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* Runs the supervisor with args, expecting it to refuse to start;
 * returns its exit code with its stderr in err. */
static int
refused_start(const char *const *args, char *err, size_t size)
{
	const char *argv[8] = { harness_supervisor_path() };
	int p[2], status;
	size_t n = 1, len = 0;

	for (size_t i = 0; args[i] && n < 7; i++)
		argv[n++] = args[i];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)dup2(p[1], 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	(void)close(p[1]);
	for (ssize_t got; len + 1 < size &&
			  (got = read(p[0], err + len, size - 1 - len)) > 0;)
		len += (size_t)got;
	err[len] = '\0';
	(void)close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_supervisor_reads_a_configuration_file)
{
	const char *path = write_temp("good.yaml",
				      "# options, as on the command line\n"
				      "workers: 1\n"
				      "max-workers: 3\n"
				      "timeout-ms: 150\n"
				      "scale-advise-only: true\n");
	const char *const args[] = { "--config", path, NULL };

	start_with(1, args);
	ck_assert_uint_eq(harness_count_log(&h, "workers=1 max_workers=3"), 1);
	/* The file's timeout lowered every profile's. */
	expect_kind("while (true) {}", 0, OUTCOME_TIMEOUT);
	ck_assert_uint_eq(harness_count_log(&h, "timeout_ms=150 cpu_ms=150"), 3);
	(void)unlink(path);
}
END_TEST

START_TEST(test_supervisor_refuses_bad_configuration_files)
{
	char err[1024];
	const char *bad = write_temp("bad.yaml", "workers: 1\nmax-workers: many\n");
	const char *const args[] = { "--config", bad, NULL };

	ck_assert_int_eq(refused_start(args, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "bad.yaml:2: 'max-workers' wants a whole number"),
		      "%s", err);
	const char *unknown = write_temp("unknown.yaml", "wrokers: 1\n");
	const char *const args2[] = { "--config", unknown, NULL };
	ck_assert_int_eq(refused_start(args2, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "unknown.yaml:1: 'wrokers' is not an option"),
		      "%s", err);
	const char *profiles = write_temp("profiles.yaml",
					  "default: a\nprofiles:\n  a: 3\n");
	const char *const args3[] = { "--profiles", profiles, NULL };
	ck_assert_int_eq(refused_start(args3, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "profiles.yaml:3: 'a' must be a mapping"),
		      "%s", err);
	(void)unlink(bad);
	(void)unlink(unknown);
	(void)unlink(profiles);
}
END_TEST

/* Every forbidden call, made inside the real sandbox by the test-only
 * probe worker, kills the worker; the client gets security_violation with
 * the call's name, and the log names it too. */
START_TEST(test_supervisor_names_each_forbidden_call)
{
	static const char *const calls[] = {
		"bpf",	 "clone",  "execve", "getpid", "ioctl",	 "kill",
		"mmap",	 "mount",  "mprotect", "open", "openat", "prctl",
		"ptrace", "read",  "setns",  "setuid", "socket", "unshare",
		"write",
	};
	const char *probe = getenv("BEDDEL_WORKER_PROBE");

	ck_assert_ptr_nonnull(probe);
	const char *const args[] = { "--worker", probe, "--max-workers", "2",
				     NULL };
	start_with(1, args);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		struct proto_result res;
		struct proto_msg *m = exec_once(calls[i], NULL, 0, &res);
		char named[64], logged[64];
		(void)snprintf(named, sizeof(named), "(%s)", calls[i]);
		(void)snprintf(logged, sizeof(logged), "syscall=%s ", calls[i]);
		ck_assert_msg(res.outcome == OUTCOME_SECURITY_VIOLATION,
			      "%s: %s %.*s", calls[i], outcome_name(res.outcome),
			      (int)res.message_len, res.message);
		ck_assert_msg(memmem(res.message, res.message_len, named,
				     strlen(named)) != NULL,
			      "%s: %.*s", calls[i], (int)res.message_len,
			      res.message);
		proto_msg_free(m);
		ck_assert_int_eq(harness_wait_log(&h, logged, 1, 5000), 0);
	}
}
END_TEST

/* Starts a supervisor whose worker binary is a broken fixture, with no
 * warm workers, so that the first request makes it spawn one. */
static void
start_broken(const char *fixture)
{
	static char worker[512];
	const char *dir = getenv("BEDDEL_FIXTURES");

	ck_assert_ptr_nonnull(dir);
	(void)snprintf(worker, sizeof(worker), "%s/%s", dir, fixture);
	const char *const args[] = { "--worker", worker, "--max-workers", "2",
				     NULL };
	start_with(0, args);
}

/* A request to a pool whose workers never start is answered, quickly and
 * with `internal`, and the supervisor spaces out its retries. */
static void
expect_no_worker(void)
{
	uint64_t start = sys_now_ns();

	expect_kind("1 + 1", 0, OUTCOME_INTERNAL);
	ck_assert_uint_lt(sys_now_ns() - start, 5000000000ull);
	expect_kind("2 + 2", 0, OUTCOME_INTERNAL);
	/* Back-off: a fork loop would log hundreds of spawns by now. */
	ck_assert_uint_lt(harness_count_log(&h, "pool: worker spawned"), 20);
}

START_TEST(test_supervisor_survives_worker_sending_garbage)
{
	start_broken("worker_garbage.sh");
	expect_no_worker();
	ck_assert_uint_ge(harness_count_log(&h, "broke the protocol"), 1);
	stop_and_check();
}
END_TEST

START_TEST(test_supervisor_survives_worker_flooding_its_pipe)
{
	start_broken("worker_flood.sh");
	expect_no_worker();
	ck_assert_uint_ge(harness_count_log(&h, "frame over the size limit"), 1);
	stop_and_check();
}
END_TEST

START_TEST(test_supervisor_survives_workers_that_cannot_start)
{
	start_broken("worker_exit.sh");
	expect_no_worker();
	ck_assert_uint_ge(harness_count_log(&h, "exited with code 70"), 1);
	stop_and_check();
}
END_TEST

static void
setup_no_queue(void)
{
	static const char *const args[] = { "--max-workers", "1", "--queue-max",
					    "0", "--timeout-ms", "500", NULL };
	start_with(1, args);
}

START_TEST(test_supervisor_serves_without_a_queue)
{
	struct proto_msg *m;
	struct proto_result res;

	/* No request may wait, but one an idle worker takes does not... */
	expect_ok_json("1 + 1", NULL, "2");
	expect_ok_json("2 + 2", NULL, "4");
	/* ...nor one of another tenant, for which the only worker, idle,
	 * makes room. */
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 1, "other", "3 + 3", &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	ck_assert_int_eq(harness_exec_for(fd, 2, "default", "4 + 4", &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	proto_msg_free(m);
	(void)close(fd);
}
END_TEST

/* Stopping while every worker times out and requests still wait: the
 * pool must bring up workers for the queue, answer all, and exit. */
START_TEST(test_supervisor_drains_when_workers_die_during_the_stop)
{
	static const char *const args[] = { "--max-workers", "1", "--timeout-ms",
					    "300", NULL };
	struct proto_frame f;

	stop_and_check();
	start_with(1, args);
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	for (uint64_t id = 1; id <= 3; id++) {
		ck_assert_int_eq(harness_exec_frame(id, "for (;;) {}", NULL, 0, &f), 0);
		ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
		proto_frame_fini(&f);
	}
	ck_assert_int_gt(harness_busy_worker(&h, 5000), 0);
	ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
	for (uint64_t id = 1; id <= 3; id++)
		expect_reply(fd, OUTCOME_TIMEOUT, true, id);
	(void)close(fd);
}
END_TEST

static unsigned long
supervisor_rss_kib(void)
{
	char buf[64];

	ck_assert_int_eq(harness_proc_status(h.pid, "VmRSS", buf, sizeof(buf)), 0);
	return strtoul(buf, NULL, 10);
}

START_TEST(test_supervisor_bounds_answers_a_client_does_not_read)
{
	static const char big[] = "var s = 'x'; for (var i = 0; i < 19; i++) s += s; s";
	struct proto_frame f;
	unsigned long before = supervisor_rss_kib();
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sys_set_nonblock(fd), 0);
	/* 200 answers of 512 KiB = 100 MiB if the supervisor kept them
	 * all; it may keep only its per-connection budget. */
	for (uint64_t id = 1; id <= 200; id++) {
		ck_assert_int_eq(harness_exec_frame(id, big, NULL, 0, &f), 0);
		int r = sys_write_all(fd, f.data, f.len);
		proto_frame_fini(&f);
		if (r < 0)
			break;
	}
	/* It closes the connection once its answers sit unread. */
	ck_assert_int_eq(harness_wait_log(&h, "reads none of its answers", 1, 15000), 0);
	unsigned long after = supervisor_rss_kib();
	ck_assert_msg(after < before + 64 * 1024, "RSS grew from %lu to %lu KiB",
		      before, after);
	(void)close(fd);
	expect_ok_json("'others are served'", NULL, "\"others are served\"");
}
END_TEST

/* Whether pid is gone or a zombie: no longer running anything. */
static bool
is_gone(pid_t pid)
{
	char path[64], buf[512];

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	return p && (p[2] == 'Z' || p[2] == 'X');
}

START_TEST(test_supervisor_workers_die_with_the_supervisor)
{
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	pid_t busy = start_busy(fd, 1, "for (;;) {}", 5000);

	/* A busy worker never reads its pipe again; the kernel must end it
	 * when the supervisor dies, also after it changed its uid. */
	ck_assert_int_eq(kill(h.pid, SIGKILL), 0);
	uint64_t deadline = sys_now_ns() + 5000000000ull;
	while (!is_gone(busy)) {
		ck_assert_msg(sys_now_ns() < deadline, "worker %d outlived its supervisor",
			      (int)busy);
		struct pollfd none = { .fd = -1 };
		(void)poll(&none, 1, 10);
	}
	(void)close(fd);
	(void)harness_stop(&h, 1000);
}
END_TEST

/* Runs beddel-supervisor on path in the foreground until it exits or
 * timeout_ms passes, and returns its wait status (-1 on timeout, after
 * killing it). */
/* Starts a quiet supervisor with no workers on path. */
static pid_t
spawn_supervisor_on(const char *path)
{
	const char *argv[] = { harness_supervisor_path(), "--socket", path,
			       "--workers", "0", NULL };

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		(void)dup2(null, STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int
run_supervisor_on(const char *path, int timeout_ms)
{
	int status;
	pid_t pid = spawn_supervisor_on(path);
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	while (waitpid(pid, &status, WNOHANG) != pid) {
		if (sys_now_ns() >= deadline) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		struct pollfd none = { .fd = -1 };
		(void)poll(&none, 1, 10);
	}
	return status;
}

START_TEST(test_supervisor_never_takes_over_a_live_socket)
{
	/* A second supervisor on the first one's socket refuses to start,
	 * and the first one serves on. */
	int status = run_supervisor_on(h.socket, 5000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) != 0);
	expect_ok_json("1 + 1", NULL, "2");
	/* Only its owner may connect, by default. */
	struct stat st;
	ck_assert_int_eq(stat(h.socket, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(test_supervisor_replaces_a_stale_socket)
{
	char dir[] = "/tmp/beddel-stale-XXXXXX", path[64];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/s.sock", dir);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	/* A socket file nobody listens on, as a killed supervisor leaves. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	(void)close(fd);

	pid_t pid = spawn_supervisor_on(path);
	/* It listens there: a connection is accepted. */
	uint64_t deadline = sys_now_ns() + 5000000000ull;
	int c;
	while ((c = remote_connect(path)) < 0) {
		ck_assert_msg(sys_now_ns() < deadline, "no supervisor on the stale path");
		struct pollfd none = { .fd = -1 };
		(void)poll(&none, 1, 10);
	}
	(void)close(c);
	int status;
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_supervisor_stops_at_once_on_a_second_signal)
{
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	pid_t busy = start_busy(fd, 1, "for (;;) {}", 5000);
	/* The first signal waits for the endless loop's 5 s timeout; the
	 * second ends the wait, and the worker with it. */
	ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
	ck_assert_int_eq(harness_wait_log(&h, "supervisor: stopping", 1, 5000), 0);
	ck_assert_int_eq(kill(h.pid, SIGTERM), 0);
	ck_assert_int_eq(harness_wait_log(&h, "second signal", 1, 5000), 0);
	int status = harness_stop(&h, 3000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %d", status);
	ck_assert_msg(kill(busy, 0) < 0 && errno == ESRCH, "worker %d outlived the stop",
		      (int)busy);
	(void)close(fd);
}
END_TEST

Suite *supervisor_suite(void);

Suite *
supervisor_suite(void)
{
	Suite *s = suite_create("supervisor");
	TCase *tc = tcase_create("main_job");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_supervisor_runs_the_examples);
	tcase_add_test(tc, test_supervisor_reports_syntax_errors);
	tcase_add_test(tc, test_supervisor_reports_uncaught_exceptions);
	tcase_add_test(tc, test_supervisor_stops_endless_loops_and_keeps_the_worker);
	tcase_add_test(tc, test_supervisor_workers_show_every_layer_in_proc);
	tcase_add_test(tc, test_supervisor_kills_a_worker_that_misses_its_deadline);
	tcase_add_test(tc, test_supervisor_stops_memory_bombs);
	tcase_add_test(tc, test_supervisor_keeps_executions_apart);
	suite_add_tcase(s, tc);

	tc = tcase_create("faults");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_supervisor_survives_worker_killed_mid_request);
	tcase_add_test(tc, test_supervisor_reports_sandbox_kill_as_security_violation);
	tcase_add_test(tc, test_supervisor_reports_other_deaths_as_crashes);
	tcase_add_test(tc, test_supervisor_workers_ignore_stray_signals);
	tcase_add_test(tc, test_supervisor_workers_are_sandboxed);
	tcase_add_test(tc, test_supervisor_survives_clients_that_vanish);
	tcase_add_test(tc, test_supervisor_finishes_in_flight_work_on_sigterm);
	tcase_add_test(tc, test_supervisor_answers_everything_at_its_drain_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("clients");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_supervisor_serves_concurrent_pipelined_clients);
	tcase_add_test(tc, test_supervisor_answers_malformed_frames);
	tcase_add_test(tc, test_supervisor_answers_bad_requests);
	tcase_add_test(tc, test_supervisor_answers_oversized_frames);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket_and_signals");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_supervisor_never_takes_over_a_live_socket);
	tcase_add_test(tc, test_supervisor_replaces_a_stale_socket);
	suite_add_tcase(s, tc);

	tc = tcase_create("second_signal");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_supervisor_stops_at_once_on_a_second_signal);
	suite_add_tcase(s, tc);

	tc = tcase_create("supervisor_death");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_supervisor_workers_die_with_the_supervisor);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_tight_limits, teardown);
	tcase_add_test(tc, test_supervisor_closes_clients_stalled_inside_a_frame);
	tcase_add_test(tc, test_supervisor_closes_clients_that_trickle_a_frame);
	tcase_add_test(tc, test_supervisor_answers_a_client_that_closed_after_a_half_frame);
	tcase_add_test(tc, test_supervisor_bounds_answers_a_client_does_not_read);
	tcase_add_test(tc, test_supervisor_refuses_clients_past_the_maximum);
	suite_add_tcase(s, tc);

	tc = tcase_create("configuration");
	tcase_add_checked_fixture(tc, NULL, stop_and_check);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_supervisor_reads_a_configuration_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad_configuration");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_supervisor_refuses_bad_configuration_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("forbidden_calls");
	tcase_add_checked_fixture(tc, NULL, stop_and_check);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_supervisor_names_each_forbidden_call);
	suite_add_tcase(s, tc);

	tc = tcase_create("broken_workers");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_supervisor_survives_worker_sending_garbage);
	tcase_add_test(tc, test_supervisor_survives_worker_flooding_its_pipe);
	tcase_add_test(tc, test_supervisor_survives_workers_that_cannot_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_queue");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_no_queue, teardown);
	tcase_add_test(tc, test_supervisor_serves_without_a_queue);
	tcase_add_test(tc, test_supervisor_drains_when_workers_die_during_the_stop);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_one_worker, teardown);
	tcase_add_test(tc, test_supervisor_queues_then_refuses_when_full);
	suite_add_tcase(s, tc);
	return s;
}
