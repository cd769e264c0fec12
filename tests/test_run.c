/* SPDX-License-Identifier: MIT */
/*
 * beddel-run as a user runs it: alone (one sandboxed worker, no
 * supervisor) and through a supervisor, with every way of giving a
 * script, JSON output, and one exit code per error kind.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/outcome.h"
#include "common/sys.h"
#include "tests/helpers/harness.h"

struct cmd_out {
	char out[65536];
	char err[65536];
	int code;
};

static void
collect(int out_fd, int err_fd, struct cmd_out *r)
{
	size_t n_out = 0, n_err = 0;
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
			       { .fd = err_fd, .events = POLLIN } };
	uint64_t deadline = sys_now_ns() + 30000000000ull;

	while ((p[0].fd >= 0 || p[1].fd >= 0) && sys_now_ns() < deadline) {
		if (poll(p, 2, 1000) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			char *buf = i ? r->err : r->out;
			size_t *n = i ? &n_err : &n_out;
			ssize_t got = read(p[i].fd, buf + *n, sizeof(r->out) - 1 - *n);
			if (got <= 0) {
				(void)close(p[i].fd);
				p[i].fd = -1;
			} else {
				*n += (size_t)got;
			}
		}
	}
	r->out[n_out] = '\0';
	r->err[n_err] = '\0';
}

/* Runs beddel-run with args, stdin_text on its stdin, and BEDDEL_SOCKET
 * set to socket (or unset), as the user uid (or as we are, for -1). */
static void
run_cmd_as(const char *const *args, const char *stdin_text,
	   const char *socket, int uid, struct cmd_out *r)
{
	int in[2], out[2], err[2];
	const char *argv[16];
	size_t n = 0;

	argv[n++] = harness_run_path();
	for (size_t i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		(void)dup2(in[0], 0);
		(void)dup2(out[1], 1);
		(void)dup2(err[1], 2);
		if (socket)
			(void)setenv("BEDDEL_SOCKET", socket, 1);
		else
			(void)unsetenv("BEDDEL_SOCKET");
		if (uid >= 0 && (setgroups(0, NULL) < 0 ||
				 setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
				 setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	(void)close(in[0]);
	(void)close(out[1]);
	(void)close(err[1]);
	if (stdin_text)
		(void)sys_write_all(in[1], stdin_text, strlen(stdin_text));
	(void)close(in[1]);
	collect(out[0], err[0], r);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	r->code = WEXITSTATUS(status);
}

static void
run_cmd(const char *const *args, const char *stdin_text, const char *socket,
	struct cmd_out *r)
{
	run_cmd_as(args, stdin_text, socket, -1, r);
}

static struct harness h;
static const char *sock;

static void
setup_alone(void)
{
	sock = NULL;
}

static void
setup_supervisor(void)
{
	ck_assert_int_eq(harness_start(&h, 1, NULL), 0);
	sock = h.socket;
}

static void
teardown_supervisor(void)
{
	int status = harness_stop(&h, 10000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
expect(const char *const *args, const char *stdin_text, int code,
       const char *out, const char *err_prefix)
{
	static struct cmd_out r;

	run_cmd(args, stdin_text, sock, &r);
	ck_assert_msg(r.code == code, "%s: exit %d, not %d; stderr: %s",
		      args[0], r.code, code, r.err);
	if (out)
		ck_assert_str_eq(r.out, out);
	if (err_prefix)
		ck_assert_msg(strncmp(r.err, err_prefix, strlen(err_prefix)) == 0,
			      "stderr '%s' does not start with '%s'", r.err,
			      err_prefix);
}

START_TEST(test_run_prints_result_as_json)
{
	expect((const char *[]){ "-e", "1 + 1", NULL }, NULL, 0, "2\n", NULL);
	expect((const char *[]){ "-e", "({ a: [1, 'x', null], b: 0.5 })", NULL },
	       NULL, 0, "{\"a\":[1,\"x\",null],\"b\":0.5}\n", NULL);
	expect((const char *[]){ "-e", "0.1 + 0.2", NULL }, NULL, 0,
	       "0.30000000000000004\n", NULL);
	/* Numbers print as JavaScript's String() prints them. */
	expect((const char *[]){ "-e", "[1e21, 5e-324, 1.5e-7, 1e20, -2.5, 0.000001]",
				 NULL },
	       NULL, 0, "[1e+21,5e-324,1.5e-7,100000000000000000000,-2.5,0.000001]\n",
	       NULL);
}
END_TEST

START_TEST(test_run_reads_stdin_and_files)
{
	char path[] = "/tmp/beddel-run-test-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sys_write_all(fd, "var s = 0;\nfor (var i = 1; i <= 4; i++) s += i;\ns\n", 49), 0);
	(void)close(fd);
	expect((const char *[]){ path, NULL }, NULL, 0, "10\n", NULL);
	(void)unlink(path);
	expect((const char *[]){ "-", NULL }, "'from ' + 'stdin'", 0,
	       "\"from stdin\"\n", NULL);
}
END_TEST

START_TEST(test_run_passes_input)
{
	expect((const char *[]){ "--input", "{\"n\":[1,2,3]}", "-e",
				 "input.n.length", NULL },
	       NULL, 0, "3\n", NULL);
	expect((const char *[]){ "--input", "{not json", "-e", "1", NULL }, NULL,
	       OUTCOME_EXIT_USAGE, "", "beddel-run: --input is not JSON");
}
END_TEST

START_TEST(test_run_gives_each_kind_its_exit_code)
{
	expect((const char *[]){ "-e", "var = ;", NULL }, NULL,
	       outcome_exit_code(OUTCOME_SYNTAX_ERROR), "", "syntax_error: ");
	expect((const char *[]){ "-e", "throw new Error('no')", NULL }, NULL,
	       outcome_exit_code(OUTCOME_RUNTIME_ERROR), "",
	       "runtime_error: Error: no");
	expect((const char *[]){ "--timeout", "200", "-e", "while (true) {}", NULL },
	       NULL, outcome_exit_code(OUTCOME_TIMEOUT), "", "timeout: ");
	expect((const char *[]){ "-e", "var a = []; while (true) a.push([a]);", NULL },
	       NULL, outcome_exit_code(OUTCOME_MEMORY_LIMIT), "", "memory_limit: ");
	expect((const char *[]){ "--timeout", "999999", "-e", "1", NULL }, NULL,
	       outcome_exit_code(OUTCOME_BAD_REQUEST), "", "bad_request: ");
	expect((const char *[]){ "-e", "(function () {})", NULL }, NULL,
	       outcome_exit_code(OUTCOME_RUNTIME_ERROR), "",
	       "runtime_error: result holds a function");
}
END_TEST

START_TEST(test_run_json_shows_the_whole_response)
{
	static struct cmd_out r;

	run_cmd((const char *[]){ "--json", "-e", "'x'", NULL }, NULL, sock, &r);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "\"ok\":true"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"value\":\"x\""));
	ck_assert_ptr_nonnull(strstr(r.out, "\"stats\":{\"execution_id\":"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"rss_bytes\":"));
	ck_assert_ptr_nonnull(strstr(r.out, "\"worker_pid\":"));
}
END_TEST

START_TEST(test_run_usage_errors)
{
	static struct cmd_out r;

	expect((const char *[]){ NULL }, NULL, OUTCOME_EXIT_USAGE, "", NULL);
	expect((const char *[]){ "-e", "1", "file.js", NULL }, NULL,
	       OUTCOME_EXIT_USAGE, "", NULL);
	expect((const char *[]){ "/nonexistent/script.js", NULL }, NULL,
	       OUTCOME_EXIT_USAGE, "", "beddel-run: cannot read");
	run_cmd((const char *[]){ "--help", NULL }, NULL, sock, &r);
	ck_assert_int_eq(r.code, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "memory_limit"));
}
END_TEST

START_TEST(test_run_fails_when_it_cannot_print)
{
	const char *argv[] = { harness_run_path(), "-e", "1", NULL };
	int status;

	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/full", O_WRONLY);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), outcome_exit_code(OUTCOME_INTERNAL));
}
END_TEST

START_TEST(test_run_reports_unreachable_supervisor)
{
	expect((const char *[]){ "--socket", "/nonexistent/beddel.sock", "-e", "1",
				 NULL },
	       NULL, OUTCOME_EXIT_UNREACHABLE, "", "beddel-run: cannot reach");
}
END_TEST

Suite *run_suite(void);

/* ---- --check -------------------------------------------------------- */

static void
expect_row(const struct cmd_out *r, const char *what, const char *status)
{
	char row[64];

	(void)snprintf(row, sizeof(row), "\n%-22s %-12s", what, status);
	ck_assert_msg(strstr(r->out, row) != NULL, "no row '%s' in:\n%s", row,
		      r->out);
}

static void
expect_required_rows(const struct cmd_out *r)
{
	ck_assert_msg(r->code == 0, "exit %d: %s%s", r->code, r->out, r->err);
	expect_row(r, "seccomp", "active");
	expect_row(r, "no_new_privs", "active");
	expect_row(r, "capabilities", "dropped");
	expect_row(r, "unprivileged uid", "active");
	expect_row(r, "rlimits", "active");
	ck_assert_ptr_nonnull(strstr(r->out, "every required protection is active"));
}

START_TEST(test_run_check_reports_every_protection)
{
	static const char *const args[] = { "--check", NULL };
	struct cmd_out *r = calloc(1, sizeof(*r));

	run_cmd(args, NULL, NULL, r);
	expect_required_rows(r);
	/* As root the host allows every namespace. */
	if (geteuid() == 0) {
		static const char *const ns[] = { "net", "mnt", "ipc", "uts",
						  "pid" };
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			char what[32];
			(void)snprintf(what, sizeof(what), "%s namespace", ns[i]);
			expect_row(r, what, "active");
		}
		expect_row(r, "empty root", "active");
	}
	free(r);
}
END_TEST

START_TEST(test_run_check_without_namespaces_keeps_the_rest)
{
	static const char *const args[] = { "--check", "--no-namespaces", NULL };
	static const char *const script[] = { "--no-namespaces", "-e", "6 * 7",
					      NULL };
	struct cmd_out *r = calloc(1, sizeof(*r));

	run_cmd(args, NULL, NULL, r);
	expect_required_rows(r);
	expect_row(r, "net namespace", "not used");
	expect_row(r, "empty root", "not used");
	run_cmd(script, NULL, NULL, r);
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "42\n");
	free(r);
}
END_TEST

/* A user without privileges gets the same protections; the namespaces
 * come from a user namespace where the host allows one. */
START_TEST(test_run_check_as_an_unprivileged_user)
{
	static const char *const args[] = { "--check", NULL };
	static const char *const script[] = { "-e", "6 * 7", NULL };
	struct cmd_out *r = calloc(1, sizeof(*r));

	if (geteuid() != 0) {
		free(r);
		return;
	}
	run_cmd_as(args, NULL, NULL, 65534, r);
	expect_required_rows(r);
	if (strstr(r->out, "\nuser namespace         active"))
		expect_row(r, "empty root", "active");
	run_cmd_as(script, NULL, NULL, 65534, r);
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "42\n");
	free(r);
}
END_TEST

/* A worker that skips the sandbox fails the check, row by row. */
START_TEST(test_run_check_fails_when_a_protection_is_missing)
{
	static const char *const args[] = { "--check", "--no-namespaces", NULL };
	struct cmd_out *r = calloc(1, sizeof(*r));
	char worker[512];

	(void)snprintf(worker, sizeof(worker), "%s/worker_unsandboxed.sh",
		       getenv("BEDDEL_FIXTURES"));
	ck_assert_int_eq(setenv("BEDDEL_WORKER", worker, 1), 0);
	run_cmd(args, NULL, NULL, r);
	ck_assert_int_eq(r->code, 1);
	expect_row(r, "seccomp", "MISSING");
	expect_row(r, "no_new_privs", "MISSING");
	expect_row(r, "rlimits", "MISSING");
	ck_assert_ptr_nonnull(strstr(r->out, "a required protection is MISSING"));
	free(r);
}
END_TEST

/* ---- --status, --metrics, --watch against a live supervisor ------------ */

static void
teardown_live(void)
{
	/* A test that stopped its supervisor itself leaves nothing to stop
	 * (harness_stop() drops the log). */
	if (!h.log)
		return;
	int status = harness_stop(&h, 10000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0,
		      "supervisor ended with status %d", status);
}

/* The known workload: 3 runs for t1, 2 for t2. */
static void
run_workload(void)
{
	enum outcome kind;

	ck_assert_int_eq(harness_start(&h, 1, NULL), 0);
	sock = h.socket;
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(harness_outcome_for(&h, i < 3 ? "t1" : "t2",
						     "1 + 1", 0, &kind),
				 0);
		ck_assert_int_eq(kind, OUTCOME_OK);
	}
}

/* The count column of the --status row "label win". */
static unsigned long long
status_count(const struct cmd_out *r, const char *label, const char *win)
{
	char head[64];
	unsigned long long count;

	(void)snprintf(head, sizeof(head), "\n%-24.24s %-3s ", label, win);
	const char *row = strstr(r->out, head);
	ck_assert_msg(row != NULL, "no row '%s' in:\n%s", head + 1, r->out);
	ck_assert_int_eq(sscanf(row + strlen(head), "%llu", &count), 1);
	return count;
}

START_TEST(test_run_status_shows_the_executions_of_a_known_workload)
{
	static const char *const args[] = {"--status", "--tenant", "t1", NULL};
	struct cmd_out *r = calloc(1, sizeof(*r));

	run_workload();
	run_cmd(args, NULL, sock, r);
	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, ", 2 tenants seen\n"));
	/* The harness starts supervisors without the transform. */
	ck_assert_ptr_nonnull(strstr(r->out, "\ntransform: off"));
	ck_assert_uint_eq(status_count(r, "tenant t1", "1m"), 3);
	ck_assert_uint_eq(status_count(r, "tenant t1", "1h"), 3);
	ck_assert_uint_eq(status_count(r, "all", "1m"), 5);
	ck_assert_uint_eq(status_count(r, "profile ultra-secure", "1m"), 5);
	ck_assert_ptr_nonnull(
		strstr(r->out, "\nalerts: 0 warning, 0 critical\n"));
	free(r);
}
END_TEST

static json_int_t
json_int_at(json_t *root, const char *path)
{
	json_t *v = root;
	char part[64];

	/* "a.b.c": one object level per name. */
	for (const char *p = path; v && *p;) {
		size_t n = strcspn(p, ".");
		(void)snprintf(part, sizeof(part), "%.*s", (int)n, p);
		v = json_object_get(v, part);
		p += n + (p[n] == '.');
	}
	ck_assert_msg(json_is_integer(v), "no integer at %s", path);
	return json_integer_value(v);
}

START_TEST(test_run_status_json_holds_the_figures_of_a_known_workload)
{
	static const char *const args[] = {"--status", "--json", "--tenant",
					   "t1", NULL};
	struct cmd_out *r = calloc(1, sizeof(*r));
	json_error_t err;

	run_workload();
	run_cmd(args, NULL, sock, r);
	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	json_t *j = json_loads(r->out, 0, &err);
	ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, r->out);
	ck_assert_int_eq(json_int_at(j, "status.tenant.windows.1m.count"), 3);
	ck_assert_int_eq(json_int_at(j, "status.tenant.windows.1m.ok"), 3);
	ck_assert_int_eq(json_int_at(j, "status.executions.1m.count"), 5);
	ck_assert_int_eq(json_int_at(j, "status.executions.1h.outcomes.ok"), 5);
	ck_assert_int_eq(
		json_int_at(j, "status.profiles.ultra-secure.5m.count"), 5);
	ck_assert_int_ge(json_int_at(j, "status.pool.spawned"), 1);
	json_t *status = json_object_get(j, "status");
	ck_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(status, "tenant"), "name")),
			 "t1");
	ck_assert_uint_eq(json_array_size(json_object_get(status, "tenants")),
			  2);
	json_decref(j);
	free(r);
}
END_TEST

START_TEST(test_run_metrics_count_the_executions_of_a_known_workload)
{
	static const char *const args[] = {"--metrics", NULL};
	struct cmd_out *r = calloc(1, sizeof(*r));

	run_workload();
	run_cmd(args, NULL, sock, r);
	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	ck_assert_ptr_nonnull(strstr(
		r->out,
		"\nbeddel_executions_total{tenant=\"t1\",profile=\"ultra-secure\",outcome=\"ok\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(
		r->out,
		"\nbeddel_executions_total{tenant=\"t2\",profile=\"ultra-secure\",outcome=\"ok\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(
		r->out,
		"\nbeddel_execution_seconds_count{tenant=\"t1\",profile=\"ultra-secure\"} 3\n"));
	/* The pool may have started a spare meanwhile. */
	const char *spawned = strstr(r->out, "\nbeddel_workers_spawned_total ");
	ck_assert_ptr_nonnull(spawned);
	ck_assert_int_ge(
		atoi(spawned + strlen("\nbeddel_workers_spawned_total ")), 1);
	free(r);
}
END_TEST

/* Reads fd into out (of size, *len bytes in it so far) until out holds
 * needle, or, for a NULL needle, until EOF; gives up at the deadline.
 * Returns whether it got there. */
static bool
read_until(int fd, char *out, size_t size, size_t *len, const char *needle,
	   int timeout_ms)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;

	while (!needle || !strstr(out, needle)) {
		uint64_t now = sys_now_ns();
		if (now >= deadline || *len + 1 >= size)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			continue;
		ssize_t got = read(fd, out + *len, size - 1 - *len);
		if (got <= 0)
			return !needle;
		*len += (size_t)got;
		out[*len] = '\0';
	}
	return true;
}

/* Starts `beddel-run --watch` on the supervisor with its stdout on a new
 * pipe (the read end in pipefd[0]), and reads its output into out until
 * it has subscribed. Returns its pid. */
static pid_t
start_watch(int pipefd[2], char *out, size_t size, size_t *len)
{
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid_t watch = fork();
	ck_assert_int_ge(watch, 0);
	if (watch == 0) {
		(void)dup2(pipefd[1], 1);
		execl(harness_run_path(), harness_run_path(), "--socket",
		      h.socket, "--watch", (char *)NULL);
		_exit(127);
	}
	(void)close(pipefd[1]);
	ck_assert_msg(read_until(pipefd[0], out, size, len,
				 "watching the supervisor at", 10000),
		      "--watch did not subscribe: '%s'", out);
	return watch;
}

/* --watch prints the death of a worker killed in the middle of a
 * request, and ends with 0 when the supervisor stops. */
START_TEST(test_run_watch_prints_a_killed_workers_death)
{
	static char out[65536];
	struct proto_frame f;
	size_t len = 0;
	int pipefd[2], status;
	char want[96];

	out[0] = '\0';
	ck_assert_int_eq(harness_start(&h, 1, NULL), 0);
	pid_t watch = start_watch(pipefd, out, sizeof(out), &len);

	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(
		harness_exec_frame(8, "while (true) {}", NULL, 5000, &f), 0);
	ck_assert_int_eq(sys_write_all(fd, f.data, f.len), 0);
	proto_frame_fini(&f);
	pid_t busy = harness_busy_worker(&h, 5000);
	ck_assert_int_gt(busy, 0);
	ck_assert_int_eq(kill(busy, SIGKILL), 0);
	(void)snprintf(want, sizeof(want), " pid=%d kind='worker_crashed'",
		       (int)busy);
	ck_assert_msg(
		read_until(pipefd[0], out, sizeof(out), &len, want, 10000),
		"no '%s' in --watch's output:\n%s", want, out);
	ck_assert_ptr_nonnull(strstr(out, "Z worker_death worker="));
	(void)close(fd);

	status = harness_stop(&h, 10000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(
		read_until(pipefd[0], out, sizeof(out), &len, NULL, 10000),
		"--watch did not end with the supervisor");
	(void)close(pipefd[0]);
	ck_assert_int_eq(waitpid(watch, &status, 0), watch);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "--watch ended with status %d", status);
}
END_TEST

/* A script cannot forge a line of --watch's output: its function's name,
 * which the slow event's stack holds, has a newline and a fake event in
 * it, and comes out escaped on the slow event's own line. */
START_TEST(test_run_watch_keeps_each_event_on_one_line)
{
	static const char *const slow[] = { "--slow-ms", "20", NULL };
	static const char code[] =
		"var f = function () { var t = Date.now(); while (Date.now() - t < 80) {} };"
		" Object.defineProperty(f, 'name', { value: 'x\\nFORGED worker_death' });"
		" f(); 1";
	static char out[65536];
	size_t len = 0;
	int pipefd[2], status;

	out[0] = '\0';
	ck_assert_int_eq(harness_start(&h, 1, slow), 0);
	pid_t watch = start_watch(pipefd, out, sizeof(out), &len);
	enum outcome kind;
	ck_assert_int_eq(harness_outcome_for(&h, NULL, code, 0, &kind), 0);
	ck_assert_int_eq(kind, OUTCOME_OK);
	ck_assert_msg(read_until(pipefd[0], out, sizeof(out), &len,
				 "\\x0aFORGED", 10000),
		      "no escaped name in --watch's output:\n%s", out);
	ck_assert_ptr_null(strstr(out, "\nFORGED"));

	status = harness_stop(&h, 10000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	(void)read_until(pipefd[0], out, sizeof(out), &len, NULL, 10000);
	(void)close(pipefd[0]);
	ck_assert_int_eq(waitpid(watch, &status, 0), watch);
}
END_TEST

/* Starts another supervisor on socket, its log thrown away. */
static pid_t
start_supervisor_on(const char *socket)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		(void)dup2(null, 2);
		execl(harness_supervisor_path(), harness_supervisor_path(),
		      "--socket", socket, "--workers", "1",
		      "--transform-workers-max", "0", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* With --retry-ms a request whose supervisor dies before answering is
 * sent again, and answered by the supervisor restarted on the same
 * socket: nothing a client was not told about is lost. */
START_TEST(test_run_retries_through_a_supervisor_restart)
{
	static char out[4096];
	size_t len = 0;
	int pipefd[2], status;

	out[0] = '\0';
	ck_assert_int_eq(harness_start(&h, 1, NULL), 0);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid_t run = fork();
	ck_assert_int_ge(run, 0);
	if (run == 0) {
		(void)dup2(pipefd[1], 1);
		execl(harness_run_path(), harness_run_path(), "--socket",
		      h.socket, "--retry-ms", "20000", "-e",
		      "var t = Date.now(); while (Date.now() - t < 300) {} 'again'",
		      (char *)NULL);
		_exit(127);
	}
	(void)close(pipefd[1]);
	ck_assert_int_gt(harness_busy_worker(&h, 5000), 0);

	/* The supervisor dies mid-request, its workers with it; another
	 * takes over the socket it left behind. */
	ck_assert_int_eq(kill(h.pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(h.pid, &status, 0), h.pid);
	h.pid = start_supervisor_on(h.socket);

	ck_assert_msg(read_until(pipefd[0], out, sizeof(out), &len, NULL, 20000),
		      "no answer: '%s'", out);
	(void)close(pipefd[0]);
	ck_assert_int_eq(waitpid(run, &status, 0), run);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "beddel-run ended with status %d", status);
	ck_assert_str_eq(out, "\"again\"\n");
	/* The harness stops the new supervisor as it would the first. */
	status = harness_stop(&h, 10000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* Whether the status's sandbox map lists namespace name as active. */
static bool
status_lists_namespace(const struct proto_value *sandbox, const char *name)
{
	const struct proto_value *ns = proto_value_find(sandbox, "namespaces");

	for (size_t i = 0; i < proto_value_count(ns); i++) {
		size_t len;
		const char *s = proto_value_str(proto_value_at(ns, i), &len);
		if (len == strlen(name) && memcmp(s, name, len) == 0)
			return true;
	}
	return false;
}

/* Starts a supervisor with extra_args, and checks that its status, as
 * msgpack and as --status prints it, gives the five namespaces (and so
 * the empty root, which needs the mount namespace) as is_active says. */
static void
expect_status_namespaces(const char *const *extra_args, bool is_active)
{
	static const char *const ns[] = {"net", "mnt", "ipc", "uts", "pid"};
	static const char *const args[] = {"--status", NULL};
	const char *row = is_active ? "active" : "not used";
	struct cmd_out *r = calloc(1, sizeof(*r));
	struct proto_msg *m;

	ck_assert_int_eq(harness_start(&h, 1, extra_args), 0);
	sock = h.socket;
	ck_assert_int_eq(harness_query(&h, PROTO_MSG_STATUS, NULL, &m), 0);
	const struct proto_value *sandbox =
		proto_value_find(proto_msg_get(m, "status"), "sandbox");
	ck_assert_int_eq(proto_value_kind(sandbox), PROTO_MAP);
	ck_assert(proto_value_bool(proto_value_find(sandbox, "complete")));
	ck_assert_uint_eq(proto_value_count(proto_value_find(
				  sandbox, "namespaces_unknown")),
			  0);
	ck_assert(proto_value_bool(proto_value_find(sandbox, "empty_root")) ==
		  is_active);
	run_cmd(args, NULL, sock, r);
	ck_assert_msg(r->code == 0, "exit %d: %s", r->code, r->err);
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char what[32];
		ck_assert_msg(status_lists_namespace(sandbox, ns[i]) ==
				      is_active,
			      "status says the %s namespace is%s used", ns[i],
			      is_active ? " not" : "");
		(void)snprintf(what, sizeof(what), "%s namespace", ns[i]);
		expect_row(r, what, row);
	}
	expect_row(r, "empty root", row);
	expect_row(r, "seccomp", "active");
	expect_row(r, "rlimits", "active");
	ck_assert_ptr_nonnull(
		strstr(r->out, "\nevery required protection is active\n"));
	proto_msg_free(m);
	free(r);
}

START_TEST(test_run_status_lists_each_sandbox_layer_as_the_supervisor_runs_it)
{
	static const char *const off[] = {"--no-namespaces", NULL};

	expect_status_namespaces(off, false);
	int status = harness_stop(&h, 10000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* As root the host allows every namespace (as --check shows). */
	if (geteuid() == 0)
		expect_status_namespaces(NULL, true);
}
END_TEST

/* ---- Profiles, function mode, console -------------------------------- */

START_TEST(test_run_function_mode_profiles_and_console)
{
	static const char *const fn[] = {
		"--function", "--input", "{\"n\": 20}", "--props", "[2]", "-e",
		"function (params, props, context) { context.log('n is', params.n);"
		" context.setOutput(params.n * props[0] + 2) }",
		NULL,
	};
	static const char *const none[] = { "--function", "-e",
					    "function (p, q, c) {}", NULL };
	static const char *const failed[] = {
		"--function", "-e",
		"function (p, q, c) { c.setError('no stock') }", NULL,
	};
	static const char *const evil[] = { "-e", "eval('1')", NULL };
	static const char *const allowed[] = { "--profile", "tenant-isolated",
					       "-e", "Function('return 5')()",
					       NULL };
	static const char *const unknown[] = { "--profile", "nope", "-e", "1",
					       NULL };
	struct cmd_out *r = calloc(1, sizeof(*r));

	run_cmd(fn, NULL, sock, r);
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "42\n");
	ck_assert_str_eq(r->err, "[log] n is 20\n");
	run_cmd(none, NULL, sock, r);
	ck_assert_int_eq(r->code, outcome_exit_code(OUTCOME_NO_RESULT));
	run_cmd(failed, NULL, sock, r);
	ck_assert_int_eq(r->code, outcome_exit_code(OUTCOME_SCRIPT_ERROR));
	ck_assert_ptr_nonnull(strstr(r->err, "script_error: no stock"));
	run_cmd(evil, NULL, sock, r);
	ck_assert_int_eq(r->code, outcome_exit_code(OUTCOME_SECURITY_VIOLATION));
	ck_assert_ptr_nonnull(strstr(r->err, "called eval"));
	run_cmd(allowed, NULL, sock, r);
	ck_assert_int_eq(r->code, 0);
	ck_assert_str_eq(r->out, "5\n");
	run_cmd(unknown, NULL, sock, r);
	ck_assert_int_eq(r->code, outcome_exit_code(OUTCOME_BAD_REQUEST));
	/* A script sees its own client's request id (beddel-run sends 1),
	 * not how many requests came before it. */
	run_cmd((const char *[]){ "-e", "execution.id", NULL }, NULL, sock, r);
	ck_assert_str_eq(r->out, "1\n");
	free(r);
}
END_TEST

Suite *
run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("alone");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_alone, NULL);
	tcase_add_test(tc, test_run_prints_result_as_json);
	tcase_add_test(tc, test_run_reads_stdin_and_files);
	tcase_add_test(tc, test_run_passes_input);
	tcase_add_test(tc, test_run_gives_each_kind_its_exit_code);
	tcase_add_test(tc, test_run_json_shows_the_whole_response);
	tcase_add_test(tc, test_run_usage_errors);
	tcase_add_test(tc, test_run_reports_unreachable_supervisor);
	tcase_add_test(tc, test_run_fails_when_it_cannot_print);
	tcase_add_test(tc, test_run_function_mode_profiles_and_console);
	suite_add_tcase(s, tc);

	tc = tcase_create("through_supervisor");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup_supervisor, teardown_supervisor);
	tcase_add_test(tc, test_run_prints_result_as_json);
	tcase_add_test(tc, test_run_reads_stdin_and_files);
	tcase_add_test(tc, test_run_passes_input);
	tcase_add_test(tc, test_run_gives_each_kind_its_exit_code);
	tcase_add_test(tc, test_run_json_shows_the_whole_response);
	tcase_add_test(tc, test_run_function_mode_profiles_and_console);
	suite_add_tcase(s, tc);

	tc = tcase_create("live");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown_live);
	tcase_add_test(
		tc, test_run_status_shows_the_executions_of_a_known_workload);
	tcase_add_test(
		tc, test_run_status_json_holds_the_figures_of_a_known_workload);
	tcase_add_test(
		tc, test_run_metrics_count_the_executions_of_a_known_workload);
	tcase_add_test(tc, test_run_watch_prints_a_killed_workers_death);
	tcase_add_test(tc, test_run_watch_keeps_each_event_on_one_line);
	tcase_add_test(
		tc,
		test_run_status_lists_each_sandbox_layer_as_the_supervisor_runs_it);
	suite_add_tcase(s, tc);

	tc = tcase_create("restart");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_run_retries_through_a_supervisor_restart);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_run_check_reports_every_protection);
	tcase_add_test(tc, test_run_check_without_namespaces_keeps_the_rest);
	tcase_add_test(tc, test_run_check_as_an_unprivileged_user);
	tcase_add_test(tc, test_run_check_fails_when_a_protection_is_missing);
	suite_add_tcase(s, tc);
	return s;
}
