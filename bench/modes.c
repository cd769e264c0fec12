/* SPDX-License-Identifier: MIT */
/*
 * The modes of bench_suite. Each times one execution from the moment the
 * script is handed over to the moment its value is in the caller's
 * hands, and checks that value outside the timed span.
 */
#include "bench/modes.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "worker/js_plain.h"

#define MODES_REPLY_TIMEOUT_MS 30000
/* A process per run prints one small value and its figures. */
#define MODES_OUTPUT_MAX (1024u * 1024u)
/* Longer than any profile's timeout: only a process that ignores its
 * own (node -e has none) reaches it. */
#define MODES_PROCESS_TIMEOUT_MS 60000u
#define MODES_TENANT "bench"
/* The supervisor's own default pool. */
#define MODES_SUPERVISOR_WORKERS 5
/* Requests between two reads of the supervisor's log, which would block
 * it once its pipe is full: a few hundred lines. */
#define MODES_LOG_DRAIN_RUNS 256u
/* Under `node -e`, process.argv[1] is the first argument after the
 * script's "--" (without it, a source starting with '-' would be read as
 * an option of node's); the completion value of the case's source is
 * printed as JSON, as the other modes give it. */
#define MODES_NODE_E_SCRIPT                                                  \
	"process.stdout.write(JSON.stringify((0, eval)(process.argv[1])))"

extern char **environ;

/* Says what failed, with its detail (may be NULL), and returns err. */
static int
fail(char *why, size_t why_size, int err, const char *what,
     const char *detail)
{
	(void)snprintf(why, why_size, "%s%s%.300s", what, detail ? ": " : "",
		       detail ? detail : "");
	return err;
}

/* Checks a value's JSON against the case; json may be NULL (none). */
static int
check_value(const struct cases_case *c, const char *json, char *why,
	    size_t why_size)
{
	if (json && cases_matches(c, json))
		return 0;
	(void)snprintf(why, why_size, "returned %.200s, expected %.200s",
		       json ? json : "(nothing)", c->expected);
	return -EBADMSG;
}

/* ---- baseline --------------------------------------------------------- */

static int
baseline_once(struct modes_env *env, const struct cases_case *c,
	      struct modes_sample *sample, char **ret_json, char *why,
	      size_t why_size)
{
	(void)js_plain_heap_peak(env->plain);
	uint64_t start_ns = sys_now_ns();
	int r = js_plain_eval_json(env->plain, c->code, c->code_len, ret_json);
	sample->ns = sys_now_ns() - start_ns;
	sample->heap_peak_bytes = js_plain_heap_peak(env->plain);
	if (r < 0)
		return fail(why, why_size, r, "the script failed or has no JSON value",
			    NULL);
	return 0;
}

/* ---- pipe ------------------------------------------------------------- */

/* The limits the supervisor would give a request of the case's profile
 * that asks for none of its own. */
static int
exec_for_case(const struct modes_env *env, const struct cases_case *c,
	      uint64_t id, struct proto_exec *ret)
{
	const struct profile_set *s = &env->profiles;
	const struct profile *p = c->profile ?
					  profile_set_find(s, c->profile,
							   strlen(c->profile)) :
					  &s->items[s->default_index];
	if (!p)
		return -ENOENT;

	*ret = (struct proto_exec){
		.has_id = true,
		.id = id,
		.code = c->code,
		.code_len = c->code_len,
		.tenant = MODES_TENANT,
		.tenant_len = strlen(MODES_TENANT),
		.profile = p->name,
		.profile_len = strlen(p->name),
		.restricted = p->restricted,
		.timeout_ms = p->timeout_ms,
		.cpu_ms = p->cpu_ms < p->timeout_ms ? p->cpu_ms : p->timeout_ms,
		.instructions_max = p->instructions_max,
		.heap_limit_bytes = p->heap_limit_bytes,
		.result_max_bytes = p->result_max_bytes,
		.log_max_bytes = p->log_max_bytes,
	};
	return 0;
}

/* Reads the worker's next frame of type want, skipping "still running"
 * reports. The message is the caller's to free. */
static int
read_worker(struct modes_env *env, enum proto_type want,
	    struct proto_msg **ret_msg)
{
	const char *why;
	uint8_t *buf;
	size_t len;

	for (;;) {
		int r = ipc_read_frame(env->worker.rsp_fd,
				       IPC_FRAME_MAX_CEILING,
				       MODES_REPLY_TIMEOUT_MS, &buf, &len);
		if (r == 0)
			return -EPIPE;
		if (r < 0)
			return r;
		r = proto_msg_decode(buf, len, ret_msg, &why);
		if (r < 0)
			return r;
		enum proto_type type = proto_msg_type(*ret_msg);
		if (type == want)
			return 0;
		proto_msg_free(*ret_msg);
		if (type != PROTO_MSG_SLOW)
			return -EBADMSG;
	}
}

static int
result_json(const struct proto_msg *msg, char **ret_json,
	    struct proto_stats *ret_stats, char *why, size_t why_size)
{
	struct proto_result res;
	const char *bad;

	if (proto_msg_result(msg, &res, &bad) < 0)
		return fail(why, why_size, -EBADMSG, "unreadable result",
			    bad);
	if (res.outcome != OUTCOME_OK) {
		char message[256];
		(void)snprintf(message, sizeof(message), "%.*s",
			       (int)res.message_len,
			       res.message ? res.message : "");
		return fail(why, why_size, -EBADMSG, outcome_name(res.outcome),
			    message);
	}
	*ret_stats = res.stats;
	*ret_json = harness_value_json(res.value);
	return *ret_json ? 0 : -ENOMEM;
}

static void restart_worker(struct modes_env *env);

/* One execution over the worker's pipes. The clock stops at the result;
 * the worker's "ready" that follows, sent once its next environment is
 * built, is awaited outside it, as the supervisor awaits it before
 * sending the worker more work. */
static int
pipe_once(struct modes_env *env, const struct cases_case *c,
	  struct modes_sample *sample, char **ret_json, char *why,
	  size_t why_size)
{
	struct proto_exec exec;
	struct proto_frame f;
	struct proto_msg *msg;
	struct proto_stats stats;

	int r = exec_for_case(env, c, env->next_id++, &exec);
	if (r == 0)
		r = proto_encode_exec(&exec, &f);
	if (r < 0)
		return fail(why, why_size, r, "no request for the profile",
			    c->profile);

	uint64_t start_ns = sys_now_ns();
	r = sys_write_all(env->worker.req_fd, f.data, f.len);
	if (r == 0)
		r = read_worker(env, PROTO_MSG_RESULT, &msg);
	sample->ns = sys_now_ns() - start_ns;
	proto_frame_fini(&f);
	if (r < 0) {
		restart_worker(env);
		return fail(why, why_size, r, "the worker failed",
			    strerror(-r));
	}

	struct proto_result res;
	const char *bad;
	if (proto_msg_result(msg, &res, &bad) == 0 &&
	    (!res.has_id || res.id != exec.id))
		r = fail(why, why_size, -EBADMSG,
			 "a result without the request's id", NULL);
	if (r == 0)
		r = result_json(msg, ret_json, &stats, why, why_size);
	proto_msg_free(msg);
	if (r == 0) {
		sample->heap_peak_bytes = stats.heap_peak_bytes;
		sample->rss_bytes = modes_rss_bytes(env->worker.pid);
	}

	/* Whatever the outcome, the worker says ready before its next
	 * request, or it exits (a heap that did not come back): then a new
	 * one takes its place, so that the next case starts in step. */
	int ready = read_worker(env, PROTO_MSG_READY, &msg);
	if (ready == 0)
		proto_msg_free(msg);
	else
		restart_worker(env);
	if (r == 0 && ready < 0)
		return fail(why, why_size, ready,
			    "the worker did not come back", strerror(-ready));
	return r;
}

static int
start_worker(struct modes_env *env)
{
	const struct spawn_options so = {
		.ns_flags = spawn_namespaces(),
		.heap_max_bytes = profile_set_max_heap(&env->profiles),
	};
	struct proto_msg *msg;

	const char *path = spawn_find_worker();
	if (!path)
		return -ENOENT;
	int r = spawn_worker(path, &so, &env->worker);
	if (r < 0)
		return r;
	/* Blocking, for ipc_read_frame(); a dead worker still ends a read
	 * with the end of the stream. */
	int flags = fcntl(env->worker.rsp_fd, F_GETFL);
	(void)fcntl(env->worker.rsp_fd, F_SETFL, flags & ~O_NONBLOCK);
	flags = fcntl(env->worker.req_fd, F_GETFL);
	(void)fcntl(env->worker.req_fd, F_SETFL, flags & ~O_NONBLOCK);
	r = read_worker(env, PROTO_MSG_READY, &msg);
	if (r == 0)
		proto_msg_free(msg);
	return r;
}

static void
stop_worker(struct modes_env *env)
{
	if (env->worker.pid <= 0)
		return;
	/* The end of its request pipe is the worker's signal to exit; one
	 * out of step may be in the middle of anything, so it is killed. */
	(void)close(env->worker.req_fd);
	(void)close(env->worker.rsp_fd);
	(void)kill(env->worker.pid, SIGKILL);
	(void)waitpid(env->worker.pid, NULL, 0);
	env->worker.pid = 0;
}

/* A worker out of step or gone is replaced; a failure to start another
 * shows at the next request. */
static void
restart_worker(struct modes_env *env)
{
	stop_worker(env);
	if (start_worker(env) < 0)
		fprintf(stderr, "bench: cannot start a new worker\n");
}

/* ---- socket ----------------------------------------------------------- */

static int
socket_once(struct modes_env *env, const struct cases_case *c,
	    struct modes_sample *sample, char **ret_json, char *why,
	    size_t why_size)
{
	uint64_t id = env->next_id++;
	if (id % MODES_LOG_DRAIN_RUNS == 0)
		harness_drain_log(&env->supervisor);
	const struct proto_exec exec = {
		.has_id = true,
		.id = id,
		.code = c->code,
		.code_len = c->code_len,
		.tenant = MODES_TENANT,
		.tenant_len = strlen(MODES_TENANT),
		.profile = c->profile,
		.profile_len = c->profile ? strlen(c->profile) : 0,
	};
	struct proto_frame f;
	struct proto_msg *msg;
	struct proto_stats stats;

	int r = proto_encode_exec(&exec, &f);
	if (r < 0)
		return fail(why, why_size, r, "cannot encode the request",
			    NULL);

	uint8_t *buf = NULL;
	size_t len;
	uint64_t start_ns = sys_now_ns();
	r = sys_write_all(env->fd, f.data, f.len);
	if (r == 0)
		r = ipc_read_frame(env->fd, IPC_FRAME_MAX_CEILING,
				   MODES_REPLY_TIMEOUT_MS, &buf, &len);
	sample->ns = sys_now_ns() - start_ns;
	proto_frame_fini(&f);
	if (r == 0)
		r = -EPIPE;
	if (r < 0)
		return fail(why, why_size, r, "the supervisor failed",
			    strerror(-r));

	const char *bad;
	r = proto_msg_decode(buf, len, &msg, &bad);
	if (r < 0)
		return fail(why, why_size, r, "unreadable reply", bad);
	struct proto_result res;
	if (proto_msg_result(msg, &res, &bad) == 0 &&
	    (!res.has_id || res.id != id))
		r = fail(why, why_size, -EBADMSG,
			 "a reply without the request's id", NULL);
	if (r == 0)
		r = result_json(msg, ret_json, &stats, why, why_size);
	proto_msg_free(msg);
	if (r < 0)
		return r;
	sample->heap_peak_bytes = stats.heap_peak_bytes;
	sample->rss_bytes = stats.rss_bytes;
	return 0;
}

/* ---- a process per run: oneshot and node -e --------------------------- */

/* Reads fd to its end (at most MODES_OUTPUT_MAX bytes) into out, until
 * deadline_ns. Returns the length, or -ETIMEDOUT. */
static ssize_t
read_until(int fd, char *out, uint64_t deadline_ns)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t len = 0;

	while (len < MODES_OUTPUT_MAX) {
		uint64_t now_ns = sys_now_ns();
		if (now_ns >= deadline_ns)
			return -ETIMEDOUT;
		int wait_ms = (int)((deadline_ns - now_ns) / 1000000u) + 1;
		int n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		ssize_t got = read(fd, out + len, MODES_OUTPUT_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	return (ssize_t)len;
}

/* Runs argv, reads what it prints into a new string, and waits for it;
 * *ret_ns spans the spawn to the exit, *ret_code is its exit status (-1:
 * killed by a signal). A process that has not finished within
 * MODES_PROCESS_TIMEOUT_MS (a script that never ends, under node -e) is
 * killed: -ETIMEDOUT. */
static int
run_process(char *const argv[], char **ret_out, uint64_t *ret_ns,
	    int *ret_code)
{
	posix_spawn_file_actions_t fa;
	int fds[2];
	pid_t pid = 0;
	int status = 0;

	char *out = calloc(1, MODES_OUTPUT_MAX + 1);
	if (!out)
		return -ENOMEM;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(out);
		return -errno;
	}
	(void)posix_spawn_file_actions_init(&fa);
	(void)posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);

	uint64_t start_ns = sys_now_ns();
	int r = -posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	(void)close(fds[1]);
	ssize_t len = r == 0 ? read_until(fds[0], out,
					  start_ns + MODES_PROCESS_TIMEOUT_MS *
							     1000000u) :
			       0;
	(void)close(fds[0]);
	if (r == 0 && len < 0) {
		(void)kill(pid, SIGKILL);
		r = (int)len;
	}
	if (pid > 0 && waitpid(pid, &status, 0) < 0 && r == 0)
		r = -errno;
	*ret_ns = sys_now_ns() - start_ns;
	*ret_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_out = out;
	return 0;
}

/* beddel-run --json prints the whole response: its value and its
 * figures, or its error's kind and message. */
static int
read_oneshot(const char *out, char **ret_json, struct modes_sample *sample,
	     char *why, size_t why_size)
{
	json_t *rsp = json_loads(out, 0, NULL);
	json_t *stats = json_object_get(rsp, "stats");
	json_t *value = json_object_get(rsp, "value");
	int r = -EBADMSG;

	if (json_is_true(json_object_get(rsp, "ok")) && value) {
		*ret_json = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
		r = *ret_json ? 0 : -ENOMEM;
	} else {
		json_t *error = json_object_get(rsp, "error");
		const char *kind = json_string_value(json_object_get(error,
								     "kind"));
		const char *message = json_string_value(
			json_object_get(error, "message"));
		if (kind)
			(void)fail(why, why_size, r, kind, message);
		else
			(void)fail(why, why_size, r, "beddel-run answered",
				   out);
	}
	sample->heap_peak_bytes = (uint64_t)json_integer_value(
		json_object_get(stats, "heap_peak_bytes"));
	sample->rss_bytes =
		(uint64_t)json_integer_value(json_object_get(stats, "rss_bytes"));
	json_decref(rsp);
	return r;
}

static int
oneshot_once(struct modes_env *env, const struct cases_case *c,
	     struct modes_sample *sample, char **ret_json, char *why,
	     size_t why_size)
{
	char *argv[] = { (char *)env->run_path, "--json", "-e", c->code, NULL,
			 NULL, NULL };
	char *out;

	if (c->profile) {
		argv[2] = "--profile";
		argv[3] = c->profile;
		argv[4] = "-e";
		argv[5] = c->code;
	}
	int code;
	int r = run_process(argv, &out, &sample->ns, &code);
	if (r < 0)
		return fail(why, why_size, r, "beddel-run failed",
			    strerror(-r));
	r = read_oneshot(out, ret_json, sample, why, why_size);
	free(out);
	return r;
}

static int
node_e_once(struct modes_env *env, const struct cases_case *c,
	    struct modes_sample *sample, char **ret_json, char *why,
	    size_t why_size)
{
	char *argv[] = { (char *)env->node_path, "-e", MODES_NODE_E_SCRIPT,
			 "--", c->code, NULL };

	int code;
	int r = run_process(argv, ret_json, &sample->ns, &code);
	if (r < 0)
		return fail(why, why_size, r, "node -e failed",
			    strerror(-r));
	if (code != 0) {
		free(*ret_json);
		*ret_json = NULL;
		return fail(why, why_size, -ECHILD, "node -e exited with an error",
			    NULL);
	}
	return 0;
}

/* ---- the Node.js peers ------------------------------------------------ */

static int
peer_batch(struct modes_env *env, const struct modes_mode *m,
	   const struct cases_case *c, size_t n,
	   struct modes_sample *samples, char *why, size_t why_size)
{
	uint64_t *ns = calloc(n, sizeof(*ns));
	char *json = NULL;

	if (!ns)
		return -ENOMEM;
	int r = peers_run(&env->peers, m->name, c->code, n, ns, &json, why,
			  why_size);
	uint64_t rss = r == 0 ? modes_rss_bytes(env->peers.pid) : 0;
	for (size_t i = 0; r == 0 && i < n; i++)
		samples[i] = (struct modes_sample){ .ns = ns[i],
						    .rss_bytes = rss };
	if (r == 0)
		r = check_value(c, json, why, why_size);
	free(json);
	free(ns);
	return r;
}

/* ---- the table -------------------------------------------------------- */

const struct modes_mode modes_all[] = {
	{ "baseline", "in-process plain Duktape heap, fresh global environment per run, no sandbox",
	  false, false, baseline_once, NULL },
	{ "pipe", "a pre-warmed sandboxed beddel-worker, driven over its pipes",
	  false, false, pipe_once, NULL },
	{ "socket", "through a live beddel-supervisor, from one persistent client",
	  false, false, socket_once, NULL },
	{ "oneshot", "beddel-run without a supervisor: a process and a worker per run",
	  false, true, oneshot_once, NULL },
	{ "ivm-context", "Node.js + isolated-vm: a new context in a reused isolate per run",
	  true, false, NULL, peer_batch },
	{ "ivm-isolate", "Node.js + isolated-vm: a new isolate per run",
	  true, false, NULL, peer_batch },
	{ "vm-context", "Node.js vm.runInNewContext per run", true, false,
	  NULL, peer_batch },
	{ "node-e", "`node -e` per run: a Node.js process per run", true, true,
	  node_e_once, NULL },
};

const size_t modes_count = sizeof(modes_all) / sizeof(modes_all[0]);

const struct modes_mode *
modes_find(const char *name)
{
	for (size_t i = 0; i < modes_count; i++) {
		if (strcmp(modes_all[i].name, name) == 0)
			return &modes_all[i];
	}
	return NULL;
}

int
modes_run(struct modes_env *env, const struct modes_mode *m,
	  const struct cases_case *c, size_t n, struct modes_sample *samples,
	  char *why, size_t why_size)
{
	const char *missing = modes_unavailable(env, m);
	if (missing)
		return fail(why, why_size, -ENOTSUP, missing, NULL);
	if (m->batch)
		return m->batch(env, m, c, n, samples, why, why_size);

	for (size_t i = 0; i < n; i++) {
		char *json = NULL;
		samples[i] = (struct modes_sample){ 0 };
		int r = m->once(env, c, &samples[i], &json, why, why_size);
		if (r == 0)
			r = check_value(c, json, why, why_size);
		free(json);
		if (r < 0)
			return r;
	}
	return 0;
}

const char *
modes_unavailable(const struct modes_env *env, const struct modes_mode *m)
{
	if (!m->is_peer)
		return NULL;
	if (!env->node_path)
		return "Node.js peers were not asked for";
	if (strcmp(m->name, "node-e") == 0)
		return NULL;
	if (!peers_has_mode(&env->peers, m->name))
		return env->peers.why[0] ? env->peers.why :
					   "the Node.js driver is not running";
	return NULL;
}

/* ---- /proc ------------------------------------------------------------ */

uint64_t
modes_rss_bytes(int pid)
{
	return harness_proc_kib(pid, "status", "VmRSS") * 1024u;
}

uint64_t
modes_private_dirty_bytes(int pid)
{
	return harness_proc_kib(pid, "smaps_rollup", "Private_Dirty") * 1024u;
}

/* ---- start and stop --------------------------------------------------- */

int
modes_env_start(struct modes_env *env, const struct modes_options *o)
{
	char err[512];
	int r;

	*env = (struct modes_env){ .fd = -1, .next_id = 1,
				   .run_path = harness_run_path(),
				   .node_path = o->node_path,
				   .peers = { .to_fd = -1, .from_fd = -1 } };
	r = profile_set_load(o->profiles_path, &env->profiles, err,
			     sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench: %s\n", err);
		return r;
	}
	env->plain = js_plain_new(true);
	if (!env->plain)
		return -ENOMEM;
	r = start_worker(env);
	if (r < 0) {
		fprintf(stderr, "bench: cannot start a worker: %s\n",
			strerror(-r));
		return r;
	}
	r = harness_start(&env->supervisor, MODES_SUPERVISOR_WORKERS, NULL);
	if (r < 0) {
		fprintf(stderr, "bench: cannot start a supervisor: %s\n",
			strerror(-r));
		return r;
	}
	env->has_supervisor = true;
	env->fd = harness_connect(&env->supervisor);
	if (env->fd < 0)
		return env->fd;
	/* Without the driver, its modes say why they are missing. */
	if (o->node_path)
		(void)peers_start(&env->peers, o->node_path, o->peer_script);
	return 0;
}

void
modes_env_stop(struct modes_env *env)
{
	peers_stop(&env->peers);
	if (env->fd >= 0)
		(void)close(env->fd);
	if (env->has_supervisor)
		(void)harness_stop(&env->supervisor, 10000);
	stop_worker(env);
	js_plain_free(env->plain);
	*env = (struct modes_env){ .fd = -1,
				   .peers = { .to_fd = -1, .from_fd = -1 } };
}
