/* SPDX-License-Identifier: MIT */
/*
 * Hostile scripts against a live supervisor. Every tests/hostile/NAME.js
 * (the directory is $BEDDEL_HOSTILE) is sent through the socket with the
 * profile and timeout its header names, and must end with the kind the
 * header expects. After each one a clean probe proves that nothing the
 * script changed reached the next execution. At the end the supervisor
 * must still serve, its pool must be back at its size, and no worker and
 * no fd of ours may be left over once it stops.
 *
 * A script's header is its leading comment lines of the form
 * `// key: value`; lines indented further continue the previous value:
 *   expect          ok or an error kind of the protocol (required)
 *   why             what the script attacks (required)
 *   profile         the request's profile (default: the supervisor's)
 *   timeout_ms      the request's timeout (default: the profile's)
 *   value           the completion value as harness_value_json() prints it
 *   logs_truncated  true or false: whether the answer says its logs were cut
 *   line            the error's line, counting the header's lines
 *   isolation       true: the script changes built-ins, so the probe after
 *                   it must run in the same worker process
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/outcome.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "tests/helpers/harness.h"

/* Fewer scripts than this means the directory was not found whole: the
 * test must not pass on an empty or half-copied directory. */
#define HOSTILE_SCRIPTS_MIN 40
#define HOSTILE_SCRIPTS_MAX 512
/* Longest wait for one answer: the longest default timeout (5 s) plus the
 * supervisor's kill grace, with a wide margin. */
#define HOSTILE_REPLY_MS 20000
/* The probe runs in well under a millisecond; it is given this long so
 * that a looping getter that survived an execution shows as a timeout. */
#define HOSTILE_PROBE_TIMEOUT_MS 1000
#define HOSTILE_SETTLE_MS 10000
#define HOSTILE_CHILDREN_MAX 64

struct script {
	char name[128];
	char *code;
	bool has_expect;
	bool has_why;
	enum outcome expect;
	char profile[64];
	uint64_t timeout_ms; /* 0: the profile's */
	char *value;	     /* NULL: not checked */
	int logs_truncated;  /* -1: not checked, else 0 or 1 */
	long line;	     /* 0: not checked */
	bool is_isolation;
};

/* Runs in a fresh environment after every script. The first string lists
 * behaviours of built-ins that are not as the engine made them; the
 * second names the own properties of the global object and of the
 * built-ins scripts most like to change, and must equal what the probe
 * saw before any hostile script ran. It never reads a value of the global
 * object by name: `process` is a restricted accessor there. */
static const char probe_code[] =
	"(function () {\n"
	"  var bad = '';\n"
	"  function check(ok, what) {\n"
	"    if (!ok)\n"
	"      bad += what + ';';\n"
	"  }\n"
	"  function names(o) {\n"
	"    return Object.getOwnPropertyNames(o).sort().join(',');\n"
	"  }\n"
	"  var P = Object.prototype, A = Array.prototype;\n"
	"  var F = Function.prototype;\n"
	"  check(typeof P.polluted === 'undefined', 'polluted');\n"
	"  check(!('trap' in P), 'trap');\n"
	"  check(({}).toString() === '[object Object]', 'toString');\n"
	"  check([1].map(function (v) { return v + 1; })[0] === 2, 'map');\n"
	"  check([1, 2].join('-') === '1-2', 'join');\n"
	"  check([].push(1) === 1, 'push');\n"
	"  check(Object.getPrototypeOf(A) === P, 'Array.prototype chain');\n"
	"  check(JSON.stringify({a: [1]}) === '{\"a\":[1]}', 'stringify');\n"
	"  check(JSON.parse('[2]')[0] === 2, 'parse');\n"
	"  check('abc'.toUpperCase() === 'ABC', 'toUpperCase');\n"
	"  check('abc'.indexOf('c') === 2, 'indexOf');\n"
	"  check(!Object.isFrozen(P), 'Object.prototype frozen');\n"
	"  check(!Object.isFrozen(A), 'Array.prototype frozen');\n"
	"  check(!Object.isFrozen(F), 'Function.prototype frozen');\n"
	"  check(Math.max(1, 2) === 2, 'Math.max');\n"
	"  check([1, 2].slice(1)[0] === 2, 'slice');\n"
	"  check(Object.keys({k: 1})[0] === 'k', 'Object.keys');\n"
	"  function id(a) { return a; }\n"
	"  check(id.call(null, 'c') === 'c', 'call');\n"
	"  check(id.apply(null, ['a']) === 'a', 'apply');\n"
	"  check(id.bind(null, 'b')() === 'b', 'bind');\n"
	"  check(String(new Error('x')) === 'Error: x', 'Error');\n"
	"  check(new RangeError('r') instanceof Error, 'RangeError');\n"
	"  console.log('probe');\n"
	"  return [bad, [globalThis, P, A, String.prototype, F,\n"
	"    Error.prototype, Object, Array, String, Math, JSON,\n"
	"    console].map(names).join('|')];\n"
	"})();\n";

static struct harness h;
static unsigned fds_before;

/* ---- Headers ------------------------------------------------------ */

static bool
parse_bool(const char *text, bool *ret)
{
	if (strcmp(text, "true") == 0)
		*ret = true;
	else if (strcmp(text, "false") == 0)
		*ret = false;
	else
		return false;
	return true;
}

static bool
set_expect(struct script *s, const char *text)
{
	s->has_expect = outcome_parse(text, strlen(text), &s->expect) == 0;
	return s->has_expect;
}

static bool
set_why(struct script *s, const char *text)
{
	s->has_why = text[0] != '\0';
	return s->has_why;
}

static bool
set_profile(struct script *s, const char *text)
{
	size_t len = strlen(text);

	if (len == 0 || len >= sizeof(s->profile))
		return false;
	memcpy(s->profile, text, len + 1);
	return true;
}

static bool
set_timeout(struct script *s, const char *text)
{
	char *end;

	errno = 0;
	s->timeout_ms = strtoull(text, &end, 10);
	return errno == 0 && end != text && *end == '\0' && s->timeout_ms > 0;
}

static bool
set_value(struct script *s, const char *text)
{
	free(s->value);
	s->value = strdup(text);
	return s->value != NULL;
}

static bool
set_logs_truncated(struct script *s, const char *text)
{
	bool b;

	if (!parse_bool(text, &b))
		return false;
	s->logs_truncated = b;
	return true;
}

static bool
set_line(struct script *s, const char *text)
{
	char *end;

	s->line = strtol(text, &end, 10);
	return end != text && *end == '\0' && s->line > 0;
}

static bool
set_isolation(struct script *s, const char *text)
{
	return parse_bool(text, &s->is_isolation);
}

static const struct {
	const char *key;
	bool (*set)(struct script *s, const char *text);
} header_keys[] = {
	{ "expect", set_expect },
	{ "why", set_why },
	{ "profile", set_profile },
	{ "timeout_ms", set_timeout },
	{ "value", set_value },
	{ "logs_truncated", set_logs_truncated },
	{ "line", set_line },
	{ "isolation", set_isolation },
};

/* Applies one comment line, without its "//". A key follows the "//"
 * after one space; a line indented further, or not of the form
 * `key: value`, continues the previous value and is skipped. Returns
 * false, with why set, for an unknown key or a bad value. */
static bool
apply_header_line(struct script *s, char *line, char *why, size_t why_size)
{
	if (line[0] != ' ')
		return true;
	line++;
	size_t key_len = strspn(line, "abcdefghijklmnopqrstuvwxyz_");
	if (key_len == 0 || line[key_len] != ':')
		return true;
	line[key_len] = '\0';
	char *value = line + key_len + 1;
	value += strspn(value, " \t");
	size_t end = strlen(value);
	while (end > 0 && strchr(" \t\r", value[end - 1]))
		value[--end] = '\0';

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(header_keys); i++) {
		if (strcmp(header_keys[i].key, line) != 0)
			continue;
		if (header_keys[i].set(s, value))
			return true;
		(void)snprintf(why, why_size, "bad value '%.64s' for '%.32s'",
			       value, line);
		return false;
	}
	(void)snprintf(why, why_size, "unknown header key '%.32s'", line);
	return false;
}

/* Reads the header of s->code into s. Returns false with why set when it
 * is malformed or lacks expect or why. */
static bool
parse_header(struct script *s, char *why, size_t why_size)
{
	const char *p = s->code;
	char line[1024];

	while (strncmp(p, "//", 2) == 0) {
		size_t n = strcspn(p + 2, "\n");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p + 2, n);
		line[n] = '\0';
		if (!apply_header_line(s, line, why, why_size))
			return false;
		p += 2 + strcspn(p + 2, "\n");
		p += *p == '\n';
	}
	if (!s->has_expect || !s->has_why) {
		(void)snprintf(why, why_size,
			       "header needs 'expect' and 'why'");
		return false;
	}
	return true;
}

/* ---- The directory ------------------------------------------------ */

static char *
read_whole_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	ssize_t n = getdelim(&text, &cap, '\0', f);
	(void)fclose(f);
	if (n < 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int
is_script(const struct dirent *e)
{
	size_t len = strlen(e->d_name);

	return len > 3 && strcmp(e->d_name + len - 3, ".js") == 0;
}

static const char *
hostile_dir(void)
{
	const char *dir = getenv("BEDDEL_HOSTILE");

	ck_assert_msg(dir && *dir, "BEDDEL_HOSTILE is not set");
	return dir;
}

/* Loads one script; a header problem is written to problems. Returns
 * whether the script can be run. */
static bool
load_script(const char *dir, const char *name, struct script *s, FILE *problems)
{
	char path[1024], why[256];

	memset(s, 0, sizeof(*s));
	s->logs_truncated = -1;
	(void)snprintf(s->name, sizeof(s->name), "%s", name);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	s->code = read_whole_file(path);
	if (!s->code) {
		fprintf(problems, "%s: cannot read %s\n", name, path);
		return false;
	}
	if (!parse_header(s, why, sizeof(why))) {
		fprintf(problems, "%s: %s\n", name, why);
		return false;
	}
	return true;
}

/* Loads every *.js of the directory, sorted by name. Returns how many
 * could be run; the others are counted in *ret_bad. */
static size_t
load_scripts(struct script *out, size_t max, unsigned *ret_bad, FILE *problems)
{
	const char *dir = hostile_dir();
	struct dirent **names;
	size_t n = 0;

	int count = scandir(dir, &names, is_script, alphasort);
	ck_assert_msg(count >= 0, "cannot list %s", dir);
	*ret_bad = 0;
	for (int i = 0; i < count; i++) {
		const char *name = names[i]->d_name;
		if (n < max && load_script(dir, name, &out[n], problems))
			n++;
		else
			(*ret_bad)++;
		free(names[i]);
	}
	free(names);
	return n;
}

static void
free_scripts(struct script *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].code);
		free(s[i].value);
	}
}

/* ---- Requests ----------------------------------------------------- */

/* Sends s as request id on fd and reads its answer (ret_msg owns it). */
static int
exec_script(int fd, uint64_t id, const struct script *s,
	    struct proto_msg **ret_msg, struct proto_result *ret_res)
{
	struct proto_exec e = {
		.has_id = true,
		.id = id,
		.code = s->code,
		.code_len = strlen(s->code),
		.timeout_ms = s->timeout_ms,
	};
	struct proto_frame f;

	if (s->profile[0]) {
		e.profile = s->profile;
		e.profile_len = strlen(s->profile);
	}
	int r = proto_encode_exec(&e, &f);
	if (r < 0)
		return r;
	r = sys_write_all(fd, f.data, f.len);
	proto_frame_fini(&f);
	if (r < 0)
		return r;
	return harness_read_result(fd, HOSTILE_REPLY_MS, ret_msg, ret_res);
}

/* Writes what went wrong with an answer to report. Returns whether it was
 * the one s expects. */
static bool
check_answer(const struct script *s, uint64_t id,
	     const struct proto_result *res, FILE *report)
{
	bool is_right = true;

	if (res->outcome != s->expect || !res->has_id || res->id != id) {
		fprintf(report, "%s: expected %s, got %s: %.*s\n", s->name,
			outcome_name(s->expect), outcome_name(res->outcome),
			(int)res->message_len,
			res->message ? res->message : "");
		return false;
	}
	if (s->value) {
		char *json = harness_value_json(res->value);
		if (!json || strcmp(json, s->value) != 0) {
			fprintf(report,
				"%s: expected the value %s, got %.200s\n",
				s->name, s->value, json ? json : "(none)");
			is_right = false;
		}
		free(json);
	}
	if (s->logs_truncated >= 0 &&
	    res->is_logs_truncated != (s->logs_truncated == 1)) {
		fprintf(report, "%s: expected logs_truncated %d, got %d\n",
			s->name, s->logs_truncated,
			(int)res->is_logs_truncated);
		is_right = false;
	}
	if (s->line > 0 && res->line != (uint64_t)s->line) {
		fprintf(report, "%s: expected line %ld, got %llu\n", s->name,
			s->line, (unsigned long long)res->line);
		is_right = false;
	}
	return is_right;
}

/* Runs the probe; on success *ret_json is its value as JSON (free() it)
 * and *ret_pid the worker that ran it. */
static int
run_probe(int fd, uint64_t id, char **ret_json, pid_t *ret_pid, FILE *report,
	  const char *after)
{
	struct proto_msg *m;
	struct proto_result res;

	int r = harness_exec(fd, id, probe_code, NULL, HOSTILE_PROBE_TIMEOUT_MS,
			     &m, &res);
	if (r < 0) {
		fprintf(report, "probe after %s: no answer (%s)\n", after,
			strerror(-r));
		return r;
	}
	if (res.outcome != OUTCOME_OK) {
		fprintf(report, "probe after %s: %s: %.*s\n", after,
			outcome_name(res.outcome), (int)res.message_len,
			res.message ? res.message : "");
		proto_msg_free(m);
		return -EPROTO;
	}
	*ret_json = harness_value_json(res.value);
	*ret_pid = (pid_t)res.stats.worker_pid;
	proto_msg_free(m);
	return *ret_json ? 0 : -ENOMEM;
}

/* Writes where two probe answers first differ. */
static void
report_probe_diff(FILE *report, const char *after, const char *want,
		  const char *got)
{
	size_t at = 0;

	while (want[at] && want[at] == got[at])
		at++;
	size_t from = at > 40 ? at - 40 : 0;
	fprintf(report,
		"probe after %s differs at byte %zu:\n  clean: ...%.120s\n"
		"  now:   ...%.120s\n",
		after, at, want + from, got + from);
}

/* Connects, or reconnects after a connection was lost. */
static int
connect_or_report(FILE *report, const char *why)
{
	int fd = harness_connect(&h);

	if (fd < 0)
		fprintf(report, "cannot connect (%s): %s\n", why,
			strerror(-fd));
	return fd;
}

/* Runs one script and the probe after it. Returns the problems seen. */
static unsigned
run_one(int *fd, uint64_t *id, const struct script *s, const char *clean,
	FILE *report)
{
	struct proto_msg *m;
	struct proto_result res;
	unsigned problems = 0;
	pid_t script_pid = 0, probe_pid = 0;
	char *json = NULL;

	uint64_t mine = ++*id;
	int r = exec_script(*fd, mine, s, &m, &res);
	if (r < 0) {
		fprintf(report, "%s: no answer: %s\n", s->name, strerror(-r));
		(void)close(*fd);
		*fd = connect_or_report(report, s->name);
		return 1;
	}
	problems += !check_answer(s, mine, &res, report);
	script_pid = (pid_t)res.stats.worker_pid;
	proto_msg_free(m);

	r = run_probe(*fd, ++*id, &json, &probe_pid, report, s->name);
	if (r < 0 && r != -EPROTO) {
		(void)close(*fd);
		*fd = connect_or_report(report, s->name);
	}
	if (r < 0)
		return problems + 1;
	if (strcmp(json, clean) != 0) {
		report_probe_diff(report, s->name, clean, json);
		problems++;
	}
	if (s->is_isolation && probe_pid != script_pid) {
		fprintf(report, "%s: ran on worker %d but the probe on %d\n",
			s->name, (int)script_pid, (int)probe_pid);
		problems++;
	}
	free(json);
	return problems;
}

/* ---- The pool afterwards ------------------------------------------ */

/* Whether every worker spawned has said it was ready, and exactly
 * `workers` of them are alive and children of the supervisor. */
static bool
is_pool_settled(unsigned workers)
{
	pid_t pids[HOSTILE_CHILDREN_MAX];
	unsigned spawned = harness_count_log(&h, "pool: worker spawned");
	unsigned ready = harness_count_log(&h, "pool: worker ready");
	unsigned gone = harness_count_log(&h, "pool: worker exited") +
			harness_count_log(&h, "pool: worker died");

	return spawned == ready && spawned == gone + workers &&
	       harness_children(&h, pids, HOSTILE_CHILDREN_MAX) == workers;
}

static void
expect_pool_settled(unsigned workers)
{
	uint64_t deadline = sys_now_ns() + HOSTILE_SETTLE_MS * 1000000ull;

	/* Each step of a worker's life is a log line: wait on the log. */
	while (!is_pool_settled(workers)) {
		ck_assert_msg(sys_now_ns() < deadline,
			      "the pool did not settle at %u workers; log:\n%s",
			      workers, h.log);
		(void)harness_wait_log(&h, "pool: worker", 1, 100);
	}
}

static void
expect_still_served(void)
{
	struct proto_msg *m;
	struct proto_result res;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec(fd, 1, "6 * 7", NULL, 0, &m, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_OK);
	ck_assert_int_eq(proto_value_int(res.value), 42);
	proto_msg_free(m);
	(void)close(fd);
}

/* Workers die only where a script asked for it: killed at their deadline.
 * Anything else (a crash, a forbidden call, a heap that would not shrink)
 * must not happen, also after an answer was already sent. */
static void
expect_no_unplanned_deaths(void)
{
	unsigned died = harness_count_log(&h, "pool: worker died");
	unsigned killed = harness_count_log(
		&h, "worker died: the script ran past its wall-clock timeout");
	/* Killed at its deadline after it called a restricted function: the
	 * death is named for the call. */
	killed += harness_count_log(&h, "worker died: the script called ");

	ck_assert_msg(died == killed,
		      "%u workers died, %u of them at a deadline; first: %.300s",
		      died, killed, strstr(h.log, "pool: worker died"));
	ck_assert_uint_eq(harness_count_log(&h, "broke the protocol"), 0);
	ck_assert_uint_eq(harness_count_log(&h, "quarantining"), 0);
}

/* ---- Tests -------------------------------------------------------- */

/* One worker and no room for a second: the probe after a script then
 * always runs in the worker the script ran in, once that worker has
 * cleared up, which is what the isolation claim is about. */
#define HOSTILE_WORKERS 1

static void
setup(void)
{
	static const char *const args[] = { "--max-workers", "1", NULL };

	fds_before = harness_count_fds();
	ck_assert_int_eq(harness_start(&h, HOSTILE_WORKERS, args), 0);
}

static void
teardown(void)
{
	pid_t workers[HOSTILE_CHILDREN_MAX];
	size_t n = harness_children(&h, workers, HOSTILE_CHILDREN_MAX);

	int status = harness_stop(&h, 15000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0,
		      "supervisor ended with status %d", status);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(kill(workers[i], 0) < 0 && errno == ESRCH,
			      "worker %d outlived the supervisor",
			      (int)workers[i]);
	ck_assert_uint_eq(harness_count_fds(), fds_before);
}

START_TEST(test_hostile_directory_holds_enough_scripts)
{
	static struct script scripts[HOSTILE_SCRIPTS_MAX];
	char *text = NULL;
	size_t len = 0;
	unsigned bad;

	FILE *problems = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(problems);
	size_t n = load_scripts(scripts, HOSTILE_SCRIPTS_MAX, &bad, problems);
	(void)fclose(problems);
	free_scripts(scripts, n);
	ck_assert_msg(bad == 0, "%u scripts have a bad header:\n%s", bad, text);
	ck_assert_msg(n >= HOSTILE_SCRIPTS_MIN, "only %zu scripts in %s", n,
		      hostile_dir());
	free(text);
}
END_TEST

/* Runs every script; returns the number of problems, written to report. */
static unsigned
run_all(const struct script *scripts, size_t n, FILE *report)
{
	uint64_t id = 0;
	pid_t pid;
	char *clean = NULL;
	unsigned problems = 0;

	int fd = connect_or_report(report, "start");
	ck_assert_int_ge(fd, 0);
	/* What the probe sees before anything hostile ran. */
	int r = run_probe(fd, ++id, &clean, &pid, report, "nothing");
	ck_assert_int_eq(r, 0);
	ck_assert_msg(strncmp(clean, "[\"\",", 4) == 0,
		      "the probe fails in a fresh environment: %s", clean);
	for (size_t i = 0; i < n && fd >= 0; i++)
		problems += run_one(&fd, &id, &scripts[i], clean, report);
	if (fd >= 0)
		(void)close(fd);
	free(clean);
	return problems;
}

START_TEST(test_hostile_scripts_end_as_their_headers_say)
{
	static struct script scripts[HOSTILE_SCRIPTS_MAX];
	char *text = NULL;
	size_t len = 0;
	unsigned bad;

	FILE *report = open_memstream(&text, &len);
	ck_assert_ptr_nonnull(report);
	size_t n = load_scripts(scripts, HOSTILE_SCRIPTS_MAX, &bad, report);
	ck_assert_uint_ge(n, HOSTILE_SCRIPTS_MIN);
	unsigned problems = bad + run_all(scripts, n, report);
	(void)fclose(report);
	free_scripts(scripts, n);
	/* The whole list, also when an assertion below stops the test. */
	if (problems)
		fprintf(stderr, "hostile: %u problems in %zu scripts:\n%s",
			problems, n, text);

	expect_still_served();
	expect_pool_settled(HOSTILE_WORKERS);
	expect_no_unplanned_deaths();
	ck_assert_msg(problems == 0, "%u problems in %zu scripts:\n%s",
		      problems, n, text);
	free(text);
}
END_TEST

Suite *hostile_suite(void);

Suite *
hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("directory");

	tcase_add_test(tc, test_hostile_directory_holds_enough_scripts);
	suite_add_tcase(s, tc);

	tc = tcase_create("scripts");
	tcase_set_timeout(tc, 240);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hostile_scripts_end_as_their_headers_say);
	suite_add_tcase(s, tc);
	return s;
}
