/* SPDX-License-Identifier: MIT */
/*
 * Driving bench/peers/peer.js: one JSON object per line each way, built
 * and read with jansson. The driver is trusted no more than it must be:
 * every answer has a deadline and a size limit, and a driver that dies or
 * says something unreadable only takes its own columns out of the report.
 */
#include "bench/peers.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/sys.h"

/* An answer carries at most a few thousand samples of 20 digits. */
#define PEERS_LINE_MAX (4u * 1024u * 1024u)
/* The slowest request, a batch of new isolates, takes a few seconds. */
#define PEERS_ANSWER_TIMEOUT_MS 300000
#define PEERS_HELLO_TIMEOUT_MS 30000
#define PEERS_STOP_TIMEOUT_MS 5000

static void
set_why(char *why, size_t why_size, const char *what, const char *detail)
{
	(void)snprintf(why, why_size, "%s%s%s", what, detail ? ": " : "",
		       detail ? detail : "");
}

/* The child: the pipes become stdin and stdout, then node. */
static void
exec_driver(int to[2], int from[2], const char *node, const char *script)
{
	if (dup2(to[0], STDIN_FILENO) < 0 || dup2(from[1], STDOUT_FILENO) < 0)
		_exit(127);
	/* --no-node-snapshot: isolated-vm needs it on Node.js 20; given
	 * here, the driver need not restart itself to add it, and its pid
	 * is the process that runs the peers. */
	execlp(node, node, "--expose-gc", "--no-node-snapshot", script,
	       (char *)NULL);
	fprintf(stderr, "bench: cannot run %s: %s\n", node, strerror(errno));
	_exit(127);
}

static int
spawn_driver(struct peers *p, const char *node, const char *script)
{
	int to[2], from[2];

	if (pipe2(to, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(from, O_CLOEXEC) < 0) {
		int r = -errno;
		(void)close(to[0]);
		(void)close(to[1]);
		return r;
	}
	p->pid = fork();
	if (p->pid == 0)
		exec_driver(to, from, node, script);
	int r = p->pid < 0 ? -errno : 0;
	(void)close(to[0]);
	(void)close(from[1]);
	p->to_fd = to[1];
	p->from_fd = from[0];
	if (p->pid < 0)
		p->pid = 0;
	return r;
}

/* Takes the first whole line out of p->line into a new string. */
static char *
take_line(struct peers *p)
{
	char *nl = p->line ? memchr(p->line, '\n', p->line_len) : NULL;
	if (!nl)
		return NULL;

	size_t len = (size_t)(nl - p->line);
	char *line = strndup(p->line, len);
	p->line_len -= len + 1;
	memmove(p->line, nl + 1, p->line_len);
	return line;
}

static int
read_more(struct peers *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->from_fd, .events = POLLIN };
	char buf[65536];

	int n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n == 0)
		return -ETIMEDOUT;
	ssize_t got = read(p->from_fd, buf, sizeof(buf));
	if (got < 0)
		return errno == EINTR ? 0 : -errno;
	if (got == 0)
		return -EPIPE;
	if (p->line_len + (size_t)got > PEERS_LINE_MAX)
		return -EFBIG;
	char *grown = realloc(p->line, p->line_len + (size_t)got);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + p->line_len, buf, (size_t)got);
	p->line = grown;
	p->line_len += (size_t)got;
	return 0;
}

static int
read_line(struct peers *p, int timeout_ms, char **ret_line)
{
	uint64_t deadline_us = sys_now_us() + (uint64_t)timeout_ms * 1000u;

	for (;;) {
		*ret_line = take_line(p);
		if (*ret_line)
			return 0;
		uint64_t now_us = sys_now_us();
		if (now_us >= deadline_us)
			return -ETIMEDOUT;
		int r = read_more(p, (int)((deadline_us - now_us) / 1000u) + 1);
		if (r < 0)
			return r;
	}
}

/* A driver that failed to answer may answer late, out of step with the
 * next request: it is stopped, and its modes are gone for the run. */
static void
abandon_driver(struct peers *p)
{
	(void)kill(p->pid, SIGKILL);
	(void)waitpid(p->pid, NULL, 0);
	p->pid = 0;
	p->node_version[0] = '\0';
}

/* Sends req (taking it) and reads the answer into *ret (an object whose
 * "ok" is true). */
static int
request(struct peers *p, json_t *req, int timeout_ms, json_t **ret,
	char *why, size_t why_size)
{
	char *line = NULL;
	int r;

	if (p->pid == 0) {
		json_decref(req);
		set_why(why, why_size, "the Node.js driver is not running",
			NULL);
		return -ESRCH;
	}
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return -ENOMEM;
	r = sys_write_all(p->to_fd, text, strlen(text));
	if (r >= 0)
		r = sys_write_all(p->to_fd, "\n", 1);
	free(text);
	if (r >= 0)
		r = read_line(p, timeout_ms, &line);
	if (r < 0) {
		set_why(why, why_size, "the Node.js driver did not answer",
			strerror(-r));
		abandon_driver(p);
		return r;
	}

	json_t *answer = json_loads(line, 0, NULL);
	free(line);
	if (!json_is_object(answer)) {
		json_decref(answer);
		set_why(why, why_size, "the Node.js driver's answer is not JSON",
			NULL);
		abandon_driver(p);
		return -EBADMSG;
	}
	if (!json_is_true(json_object_get(answer, "ok"))) {
		set_why(why, why_size, "the peer failed",
			json_string_value(json_object_get(answer, "error")));
		json_decref(answer);
		return -EINVAL;
	}
	*ret = answer;
	return 0;
}

static void
copy_string(char *out, size_t size, json_t *v)
{
	const char *s = json_string_value(v);

	(void)snprintf(out, size, "%s", s ? s : "");
}

int
peers_start(struct peers *p, const char *node, const char *script)
{
	json_t *hello;

	*p = (struct peers){ .to_fd = -1, .from_fd = -1 };
	int r = spawn_driver(p, node, script);
	if (r < 0) {
		set_why(p->why, sizeof(p->why), "cannot start Node.js",
			strerror(-r));
		return r;
	}
	r = request(p, json_pack("{s:s}", "op", "hello"),
		    PEERS_HELLO_TIMEOUT_MS, &hello, p->why, sizeof(p->why));
	if (r < 0)
		return r;
	copy_string(p->node_version, sizeof(p->node_version),
		    json_object_get(hello, "node"));
	copy_string(p->ivm_version, sizeof(p->ivm_version),
		    json_object_get(hello, "isolated_vm"));
	if (!p->ivm_version[0])
		set_why(p->why, sizeof(p->why), "isolated-vm is not installed",
			json_string_value(json_object_get(hello,
							  "isolated_vm_error")));
	json_decref(hello);
	return 0;
}

bool
peers_has_mode(const struct peers *p, const char *mode)
{
	if (!p->node_version[0])
		return false;
	return strncmp(mode, "ivm-", 4) != 0 || p->ivm_version[0];
}

static int
copy_samples(json_t *array, size_t n, uint64_t *samples_ns)
{
	if (json_array_size(array) != n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(array, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return -EBADMSG;
		samples_ns[i] = (uint64_t)json_integer_value(v);
	}
	return 0;
}

int
peers_run(struct peers *p, const char *mode, const char *code, size_t n,
	  uint64_t *samples_ns, char **ret_json, char *why, size_t why_size)
{
	json_t *answer;

	json_t *req = json_pack("{s:s, s:s, s:s, s:I}", "op", "run", "mode",
				mode, "code", code, "iterations", (json_int_t)n);
	int r = request(p, req, PEERS_ANSWER_TIMEOUT_MS, &answer, why,
			why_size);
	if (r < 0)
		return r;

	const char *value = json_string_value(json_object_get(answer, "value"));
	r = copy_samples(json_object_get(answer, "samples_ns"), n, samples_ns);
	if (r == 0 && !value)
		r = -EBADMSG;
	if (r == 0) {
		*ret_json = strdup(value);
		r = *ret_json ? 0 : -ENOMEM;
	}
	if (r == -EBADMSG)
		set_why(why, why_size, "the peer's answer lacks its samples or value",
			NULL);
	json_decref(answer);
	return r;
}

/* Sends req (taking it) and reads the positive integers of the answer
 * under the n keys into out. */
static int
request_counts(struct peers *p, json_t *req, const char *const *keys,
	       size_t n, json_int_t *out, char *why, size_t why_size)
{
	json_t *answer;
	int r = request(p, req, PEERS_ANSWER_TIMEOUT_MS, &answer, why,
			why_size);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		out[i] = json_integer_value(json_object_get(answer, keys[i]));
		if (out[i] <= 0)
			r = -EBADMSG;
	}
	json_decref(answer);
	if (r < 0)
		set_why(why, why_size, "the peer's answer lacks a count",
			keys[0]);
	return r;
}

int
peers_throughput(struct peers *p, const char *mode, const char *code,
		 uint64_t duration_ms, double *ret_rate, char *why,
		 size_t why_size)
{
	static const char *const keys[] = { "executions", "elapsed_ns" };
	json_int_t v[2];

	json_t *req = json_pack("{s:s, s:s, s:s, s:I}", "op", "throughput",
				"mode", mode, "code", code, "duration_ms",
				(json_int_t)duration_ms);
	int r = request_counts(p, req, keys, 2, v, why, why_size);
	if (r < 0)
		return r;
	*ret_rate = (double)v[0] * 1e9 / (double)v[1];
	return 0;
}

int
peers_isolate_rss(struct peers *p, unsigned isolates, uint64_t *ret_bytes,
		  char *why, size_t why_size)
{
	static const char *const keys[] = { "per_isolate_bytes" };
	json_int_t bytes;

	json_t *req = json_pack("{s:s, s:I}", "op", "memory", "isolates",
				(json_int_t)isolates);
	int r = request_counts(p, req, keys, 1, &bytes, why, why_size);
	if (r < 0)
		return r;
	*ret_bytes = (uint64_t)bytes;
	return 0;
}

/* Waits up to PEERS_STOP_TIMEOUT_MS for the driver, then kills it. */
static void
reap_driver(pid_t pid)
{
	uint64_t deadline_us = sys_now_us() + PEERS_STOP_TIMEOUT_MS * 1000u;
	int status;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (sys_now_us() >= deadline_us) {
			(void)kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return;
		}
		(void)usleep(10000);
	}
}

void
peers_stop(struct peers *p)
{
	if (p->to_fd >= 0)
		(void)close(p->to_fd);
	if (p->pid > 0)
		reap_driver(p->pid);
	if (p->from_fd >= 0)
		(void)close(p->from_fd);
	free(p->line);
	*p = (struct peers){ .to_fd = -1, .from_fd = -1 };
}
