/* SPDX-License-Identifier: MIT */
/*
 * Faults under load, against a live beddel-supervisor: many clients
 * pipeline requests whose scripts echo a token of their own while the
 * test kills, crashes and stops the supervisor's workers, and other
 * clients vanish mid-request, mid-response or stall inside a frame.
 * Every request must get exactly one answer, its own (the token
 * matches) or a typed error that the fault explains, and the supervisor
 * must end the run with the fds and children it began with. A second
 * group opens more connections than --max-clients allows, with generous
 * and tight fd limits: each gets its answer or an `overloaded` refusal.
 *
 * Only the supervisor each test starts, and its workers, are signalled.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "tests/helpers/harness.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS_NS 1000000ull

#define WORKERS 4
#define MAX_SEEN 64

/* The load: each client pipelines all its requests before reading; one
 * in LONG_EVERY is a busy loop, so that busy workers exist to hit. */
#define LOAD_CLIENTS 32
#define LOAD_PIPELINED 10
#define LONG_EVERY 3
#define LOAD_REQS (LOAD_CLIENTS * LOAD_PIPELINED)

/* Clients that close right after sending, each with VANISH_REQS long
 * requests in flight. */
#define VANISH_SENDERS 4
#define VANISH_REQS 2

/* Clients that ask for BIG_RESULTS results of 128 KiB and close once
 * they have read MID_RESPONSE_BYTES: more than a socket buffer holds is
 * still waiting in the supervisor then. */
#define VANISH_READERS 2
#define BIG_RESULTS 4
#define MID_RESPONSE_BYTES 65536

/* Load clients, readers, the stalled client and the stop target. */
#define MAX_CONNS (LOAD_CLIENTS + VANISH_READERS + 2)
#define MAX_REQS (LOAD_REQS + 1)

/* Ids of requests whose answers are not awaited. */
#define UNTRACKED_ID_BASE 100000

#define FAULT_PERIOD_MS 150
#define RUN_DEADLINE_MS 60000
#define SETTLE_DEADLINE_MS 20000

/* The stopped worker's request: its own timeout, the profile's maximum,
 * so that the worker is surely stopped before it would time out. */
#define STOP_TIMEOUT_MS 5000

static struct harness h;
static unsigned fds_before;

enum conn_role {
	ROLE_LOAD,   /* reads every answer it is owed */
	ROLE_READER, /* closes part way through its answers */
	ROLE_STALL,  /* sent half a frame; waits to be closed */
};

/* One connection, read without blocking. */
struct conn {
	int fd; /* -1 once closed */
	enum conn_role role;
	uint8_t *in; /* bytes read that are not yet a whole frame */
	size_t in_len;
	size_t in_cap;
	size_t read_total;
	unsigned owed;	  /* answers still to come */
	bool has_refusal; /* an `overloaded` refusal came, without an id */
	bool is_resolved; /* answered or refused: no longer polled */
};

/* One request whose answer the test awaits. Its id is its index + 1. */
struct req {
	unsigned conn;
	char token[32];
	unsigned answers;
	enum outcome kind;
	uint64_t worker_pid;
	bool is_wall_timeout; /* the supervisor's backstop answered it */
};

struct fault {
	pid_t pid;
	int sig;
	char state; /* the worker's run state when it was hit */
};

/* What one run under faults did. */
struct run {
	struct conn conns[MAX_CONNS];
	size_t n_conns;
	struct req reqs[MAX_REQS];
	size_t n_reqs;
	size_t n_unanswered;
	struct fault faults[MAX_SEEN];
	size_t n_faults;
	size_t n_busy_faults; /* of busy_plan, sent */
	size_t n_idle_faults; /* of idle_plan, sent */
	size_t stop_req;      /* index of the stopped worker's request */
	pid_t stopped;
	bool is_own_pid_ns; /* workers are init of their PID namespace */
	unsigned mid_response_closes;
	bool is_stall_closed;
	unsigned seed;
};

static struct run run;

/* Faults for workers running a script (state R) and for idle ones
 * (state S), each list sent in order; SIGSTOP is sent once, to a worker
 * known to be busy. */
static const int busy_plan[] = {SIGKILL, SIGSEGV, SIGBUS, SIGKILL,
				SIGSEGV, SIGBUS,  SIGKILL};
static const int idle_plan[] = {SIGKILL, SIGBUS, SIGSEGV, SIGKILL, SIGSEGV};

static void
start_or_fail(const char *const *args, unsigned long nofile)
{
	/* The harness writes with write(); a connection the supervisor
	 * closed must fail the test by its assertion, not by SIGPIPE. */
	(void)signal(SIGPIPE, SIG_IGN);
	fds_before = harness_count_fds();
	ck_assert_int_eq(harness_start_nofile(&h, WORKERS, args, nofile), 0);
}

/* Stops the supervisor and proves it left nothing: exit 0, none of its
 * workers alive, no fd of ours open. */
static void
stop_and_check(void)
{
	pid_t pids[MAX_SEEN];
	size_t n = harness_children(&h, pids, MAX_SEEN);

	int status = harness_stop(&h, 15000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0,
		      "supervisor ended with status %d", status);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(kill(pids[i], 0) < 0 && errno == ESRCH,
			      "worker %d outlived the supervisor",
			      (int)pids[i]);
	ck_assert_uint_eq(harness_count_fds(), fds_before);
}

static int
ms_until(uint64_t when_ns)
{
	uint64_t now = sys_now_ns();

	return when_ns > now ? (int)((when_ns - now) / MS_NS) + 1 : 0;
}

/* Open fds of pid, from /proc/PID/fd. */
static unsigned
proc_fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	unsigned n = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	ck_assert_msg(d != NULL, "cannot read %s", path);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	(void)closedir(d);
	return n;
}

/* The run state letter of pid (R, S, T, Z...), or '?' once it is gone. */
static char
proc_state(pid_t pid)
{
	char path[64], buf[512];
	char state = '?';

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	/* The command name may hold anything; the state follows its ')'. */
	char *p = strrchr(buf, ')');
	if (p)
		(void)sscanf(p + 1, " %c", &state);
	return state;
}

/* Runs a clean request on a new connection and checks its answer. */
static void
expect_clean_answer(const char *token)
{
	struct proto_msg *m;
	struct proto_result res;
	char code[64];
	size_t len;
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	(void)snprintf(code, sizeof(code), "'%s'", token);
	ck_assert_int_eq(harness_exec(fd, 1, code, NULL, 0, &m, &res), 0);
	ck_assert_msg(res.outcome == OUTCOME_OK, "a clean request got %s: %.*s",
		      outcome_name(res.outcome), (int)res.message_len,
		      res.message);
	const char *value = proto_value_str(res.value, &len);
	ck_assert_int_eq(len, strlen(token));
	ck_assert_mem_eq(value, token, len);
	proto_msg_free(m);
	(void)close(fd);
}

/* ---- Connections read without blocking ------------------------------ */

/* Sends one exec frame whole on a blocking fd. Returns whether it went
 * out: a refused connection may be closed already, and its refusal is
 * still there to read. */
static bool
send_exec(int fd, uint64_t id, const char *code, uint64_t timeout_ms)
{
	struct proto_frame f;

	ck_assert_int_eq(harness_exec_frame(id, code, NULL, timeout_ms, &f), 0);
	ssize_t n = send(fd, f.data, f.len, MSG_NOSIGNAL);
	bool is_sent = n == (ssize_t)f.len;
	proto_frame_fini(&f);
	return is_sent;
}

static void
conn_init(struct conn *c, int fd, enum conn_role role, unsigned owed)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->role = role;
	c->owed = owed;
	ck_assert_int_eq(sys_set_nonblock(fd), 0);
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	free(c->in);
	c->in = NULL;
	c->in_len = c->in_cap = 0;
}

/* Reads what c has. Returns the bytes read, 0 at the end of the stream,
 * -EAGAIN when nothing is there, or -errno. */
static ssize_t
conn_fill(struct conn *c)
{
	if (c->in_cap - c->in_len < 65536) {
		c->in_cap = c->in_cap * 2 + 65536;
		c->in = realloc(c->in, c->in_cap);
		ck_assert_ptr_nonnull(c->in);
	}
	ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
	if (n < 0)
		return -errno;
	c->in_len += (size_t)n;
	c->read_total += (size_t)n;
	return n;
}

/* Takes the next whole frame off c and decodes it as a result. Returns
 * true with the message (free it), false when no whole frame is there. */
static bool
conn_next_result(struct conn *c, struct proto_msg **ret_msg,
		 struct proto_result *ret_res)
{
	const char *why = "";

	if (c->in_len < IPC_HEADER_BYTES)
		return false;
	size_t len = ipc_header_length(c->in);
	ck_assert_msg(len > 0 && len <= IPC_FRAME_MAX_CEILING,
		      "the supervisor sent a frame of %zu bytes", len);
	if (c->in_len < IPC_HEADER_BYTES + len)
		return false;
	uint8_t *buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, c->in + IPC_HEADER_BYTES, len);
	c->in_len -= IPC_HEADER_BYTES + len;
	memmove(c->in, c->in + IPC_HEADER_BYTES + len, c->in_len);
	int r = proto_msg_decode(buf, len, ret_msg, &why);
	ck_assert_msg(r == 0, "undecodable answer: %s", why);
	r = proto_msg_result(*ret_msg, ret_res, &why);
	ck_assert_msg(r == 0, "an answer that is no result: %s", why);
	return true;
}

/* Connects to the supervisor with a bounded wait: a blocking connect()
 * on a Unix socket waits for room in the listen backlog up to the send
 * timeout (unix(7)). */
static int
connect_bounded(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = 10};

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	memcpy(addr.sun_path, h.socket, strlen(h.socket) + 1);
	int r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	ck_assert_msg(r == 0, "connect: %s", strerror(errno));
	return fd;
}

/* ---- The load ------------------------------------------------------- */

static unsigned
add_conn(struct run *r, int fd, enum conn_role role, unsigned owed)
{
	ck_assert_uint_lt(r->n_conns, MAX_CONNS);
	conn_init(&r->conns[r->n_conns], fd, role, owed);
	return (unsigned)r->n_conns++;
}

/* Registers a request of conn whose answer must be token; returns its
 * id. */
static uint64_t
add_req(struct run *r, unsigned conn, const char *token)
{
	ck_assert_uint_lt(r->n_reqs, MAX_REQS);
	struct req *q = &r->reqs[r->n_reqs++];

	memset(q, 0, sizeof(*q));
	q->conn = conn;
	(void)snprintf(q->token, sizeof(q->token), "%s", token);
	r->n_unanswered++;
	return r->n_reqs;
}

/* A script that echoes token, after a busy loop of loop_ms (none at
 * 0). Every script differs, so that no quarantine of a script that
 * took down workers (docs/PROTOCOL.md, section 6) can refuse another. */
static void
format_code(char *buf, size_t size, const char *token, unsigned loop_ms)
{
	if (loop_ms == 0)
		(void)snprintf(buf, size, "'%s'", token);
	else
		(void)snprintf(
			buf, size,
			"var t = Date.now(); while (Date.now() - t < %u) {} '%s'",
			loop_ms, token);
}

static void
send_load(struct run *r)
{
	char token[32], code[160];

	for (unsigned c = 0; c < LOAD_CLIENTS; c++) {
		int fd = harness_connect(&h);
		ck_assert_int_ge(fd, 0);
		/* Sent while the socket blocks, so that every frame goes out
		 * whole; it is read without blocking afterwards. */
		unsigned conn = (unsigned)r->n_conns;
		for (unsigned k = 0; k < LOAD_PIPELINED; k++) {
			bool is_long = k % LONG_EVERY == 0;
			(void)snprintf(token, sizeof(token), "tok-%u-%u", c, k);
			format_code(code, sizeof(code), token,
				    is_long ? 50 + rand_r(&r->seed) % 151 : 0);
			ck_assert(send_exec(fd, add_req(r, conn, token), code,
					    0));
		}
		ck_assert_uint_eq(add_conn(r, fd, ROLE_LOAD, LOAD_PIPELINED),
				  conn);
	}
}

/* Clients that go away with requests in flight, or half way through
 * their answers, and one that stalls inside a frame. */
static void
send_vanishing(struct run *r)
{
	char code[160];
	uint64_t id = UNTRACKED_ID_BASE;

	for (unsigned c = 0; c < VANISH_SENDERS; c++) {
		int fd = harness_connect(&h);
		ck_assert_int_ge(fd, 0);
		for (unsigned k = 0; k < VANISH_REQS; k++) {
			format_code(code, sizeof(code), "gone",
				    150 + c * 10 + k);
			ck_assert(send_exec(fd, id++, code, 0));
		}
		(void)close(fd);
	}
	for (unsigned c = 0; c < VANISH_READERS; c++) {
		int fd = harness_connect(&h);
		ck_assert_int_ge(fd, 0);
		for (unsigned k = 0; k < BIG_RESULTS; k++) {
			(void)snprintf(
				code, sizeof(code),
				"var s = 'x'; while (s.length < 131072) s += s; s + '%u'",
				c * BIG_RESULTS + k);
			ck_assert(send_exec(fd, id++, code, 0));
		}
		(void)add_conn(r, fd, ROLE_READER, BIG_RESULTS);
	}
	int fd = harness_connect(&h);
	ck_assert_int_ge(fd, 0);
	/* Six bytes of a nine-byte frame, then nothing. */
	ck_assert_int_eq(sys_write_all(fd, "\x00\x00\x00\x05\x81\xa4", 6), 0);
	(void)add_conn(r, fd, ROLE_STALL, 0);
}

/* Sends a script that never ends on a connection of its own and returns
 * the worker running it, the only busy one. */
static pid_t
start_stop_target(struct run *r)
{
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	unsigned conn = (unsigned)r->n_conns;
	r->stop_req = r->n_reqs;
	uint64_t id = add_req(r, conn, "never");
	ck_assert(
		send_exec(fd, id, "while (true) {} 'never'", STOP_TIMEOUT_MS));
	ck_assert_uint_eq(add_conn(r, fd, ROLE_LOAD, 1), conn);
	pid_t pid = harness_busy_worker(&h, 4000);
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* ---- Faults --------------------------------------------------------- */

/* A worker of the supervisor in the wanted state (R: running, S:
 * waiting for a request), at random among them; 0 when none is. The
 * stopped worker is left alone: its request must end by the
 * supervisor's deadline. */
static pid_t
pick_worker(struct run *r, bool is_busy)
{
	pid_t pids[MAX_SEEN], match[MAX_SEEN];
	size_t n_match = 0;
	size_t n = harness_children(&h, pids, MAX_SEEN);

	for (size_t i = 0; i < n; i++)
		if (pids[i] != r->stopped &&
		    proc_state(pids[i]) == (is_busy ? 'R' : 'S'))
			match[n_match++] = pids[i];
	if (n_match == 0)
		return 0;
	return match[rand_r(&r->seed) % n_match];
}

/* Sends the next fault for a worker in that state, if any is left and
 * a worker is in that state. Returns whether it sent one. */
static bool
try_fault(struct run *r, bool is_busy)
{
	size_t *sent = is_busy ? &r->n_busy_faults : &r->n_idle_faults;
	size_t max = is_busy ? ARRAY_SIZE(busy_plan) : ARRAY_SIZE(idle_plan);

	if (*sent >= max)
		return false;
	pid_t pid = pick_worker(r, is_busy);
	int sig = is_busy ? busy_plan[*sent] : idle_plan[*sent];
	if (pid <= 0 || kill(pid, sig) < 0)
		return false;
	r->faults[r->n_faults++] =
		(struct fault){pid, sig, is_busy ? 'R' : 'S'};
	(*sent)++;
	return true;
}

/* Alternates faults for busy and idle workers. Idle workers are rare
 * while the load runs and common once it has drained (the stopped
 * worker's request is still owed then), so the other kind goes first
 * when none is in the state wanted. */
static void
inject_fault(struct run *r)
{
	bool is_busy = r->n_faults % 2 == 0;

	if (!try_fault(r, is_busy))
		(void)try_fault(r, !is_busy);
}

/* Whether a fault was sent to pid that kills it. In a PID namespace of
 * its own a worker is its namespace's init, and a signal from outside
 * it has no handler for is dropped; only SIGKILL and SIGSTOP are forced
 * through (pid_namespaces(7)). */
static bool
is_killed_by_fault(const struct run *r, uint64_t pid)
{
	for (size_t i = 0; i < r->n_faults; i++) {
		if ((uint64_t)r->faults[i].pid != pid)
			continue;
		if (r->faults[i].sig == SIGKILL || !r->is_own_pid_ns)
			return true;
	}
	return false;
}

/* ---- Answers -------------------------------------------------------- */

static void
check_ok_value(const struct req *q, const struct proto_result *res)
{
	size_t len;
	const char *value = proto_value_str(res->value, &len);

	ck_assert_msg(len == strlen(q->token) &&
			      memcmp(value, q->token, len) == 0,
		      "request %llu expected '%s', got '%.*s'",
		      (unsigned long long)res->id, q->token, (int)len, value);
}

/* Records the answer res that came on connection conn: it must name a
 * request of that connection that had no answer yet. */
static void
take_answer(struct run *r, unsigned conn, const struct proto_result *res)
{
	ck_assert_msg(res->has_id,
		      "connection %u got an answer without an id: %s %.*s",
		      conn, outcome_name(res->outcome), (int)res->message_len,
		      res->message);
	ck_assert_msg(res->id >= 1 && res->id <= r->n_reqs,
		      "connection %u got an answer for unknown id %llu", conn,
		      (unsigned long long)res->id);
	struct req *q = &r->reqs[res->id - 1];
	ck_assert_msg(q->conn == conn,
		      "the answer to %llu came on connection %u, not %u",
		      (unsigned long long)res->id, conn, q->conn);
	ck_assert_msg(q->answers == 0, "request %llu was answered twice",
		      (unsigned long long)res->id);
	q->answers++;
	q->kind = res->outcome;
	q->worker_pid = res->stats.worker_pid;
	q->is_wall_timeout = res->message_len > 0 &&
			     memmem(res->message, res->message_len,
				    "wall-clock", strlen("wall-clock")) != NULL;
	if (res->outcome == OUTCOME_OK)
		check_ok_value(q, res);
	r->n_unanswered--;
	r->conns[conn].owed--;
}

/* Reads what a load client has: answers, or an end of stream that must
 * not come while answers are owed. */
static void
service_load(struct run *r, unsigned i)
{
	struct conn *c = &r->conns[i];
	struct proto_msg *m;
	struct proto_result res;

	ssize_t n = conn_fill(c);
	if (n == -EAGAIN || n == -EINTR)
		return;
	ck_assert_msg(n > 0,
		      "connection %u was closed with %u answers owed (%zd)", i,
		      c->owed, n);
	while (conn_next_result(c, &m, &res)) {
		take_answer(r, i, &res);
		proto_msg_free(m);
	}
	if (c->owed == 0)
		conn_close(c);
}

/* A reader closes once it holds MID_RESPONSE_BYTES, while the rest of
 * its answers are still being written; or when it has them all. */
static void
service_reader(struct run *r, struct conn *c)
{
	struct proto_msg *m;
	struct proto_result res;

	ssize_t n = conn_fill(c);
	if (n == -EAGAIN || n == -EINTR)
		return;
	ck_assert_msg(n > 0, "a reader was closed with %u answers owed",
		      c->owed);
	while (c->owed > 0 && conn_next_result(c, &m, &res)) {
		c->owed--;
		proto_msg_free(m);
	}
	if (c->owed > 0 && c->read_total >= MID_RESPONSE_BYTES)
		r->mid_response_closes++;
	if (c->owed == 0 || c->read_total >= MID_RESPONSE_BYTES)
		conn_close(c);
}

/* The stalled client must see its connection closed, with nothing sent. */
static void
service_stall(struct run *r, struct conn *c)
{
	ssize_t n = conn_fill(c);

	if (n == -EAGAIN || n == -EINTR)
		return;
	ck_assert_msg(n == 0 || n == -ECONNRESET,
		      "the stalled client got %zd bytes or an error", n);
	r->is_stall_closed = true;
	conn_close(c);
}

static void
service_conn(struct run *r, unsigned i)
{
	struct conn *c = &r->conns[i];

	switch (c->role) {
	case ROLE_LOAD:
		service_load(r, i);
		break;
	case ROLE_READER:
		service_reader(r, c);
		break;
	case ROLE_STALL:
		service_stall(r, c);
		break;
	}
}

static bool
is_run_over(const struct run *r)
{
	for (size_t i = 0; i < r->n_conns; i++)
		if (r->conns[i].fd >= 0)
			return false;
	return true;
}

/* Polls every open connection and the supervisor's log until every
 * connection is done, injecting the next fault every FAULT_PERIOD_MS
 * while load requests are unanswered. */
static void
drive_run(struct run *r)
{
	uint64_t deadline = sys_now_ns() + RUN_DEADLINE_MS * MS_NS;
	uint64_t next_fault = sys_now_ns() + FAULT_PERIOD_MS * MS_NS;
	struct pollfd pfds[MAX_CONNS + 1];
	unsigned which[MAX_CONNS];

	while (!is_run_over(r)) {
		ck_assert_msg(sys_now_ns() < deadline,
			      "%zu requests unanswered after %d ms",
			      r->n_unanswered, RUN_DEADLINE_MS);
		if (sys_now_ns() >= next_fault) {
			if (r->n_unanswered > 0)
				inject_fault(r);
			next_fault += FAULT_PERIOD_MS * MS_NS;
		}
		nfds_t n = 0;
		for (unsigned i = 0; i < r->n_conns; i++) {
			if (r->conns[i].fd < 0)
				continue;
			which[n] = i;
			pfds[n++] = (struct pollfd){r->conns[i].fd, POLLIN, 0};
		}
		pfds[n] = (struct pollfd){h.log_fd, POLLIN, 0};
		uint64_t wake = next_fault < deadline ? next_fault : deadline;
		ck_assert_int_ge(poll(pfds, n + 1, ms_until(wake)), 0);
		for (nfds_t i = 0; i < n; i++)
			if (pfds[i].revents)
				service_conn(r, which[i]);
		harness_drain_log(&h);
	}
}

/* ---- Checks after the run ------------------------------------------- */

/* The stopped worker's request ended by the supervisor's deadline, and
 * the supervisor killed and reaped the worker. */
static void
check_stopped(struct run *r)
{
	const struct req *q = &r->reqs[r->stop_req];
	char needle[64];

	ck_assert_msg(
		q->kind == OUTCOME_TIMEOUT && q->is_wall_timeout,
		"the stopped worker's request got %s, not the supervisor's timeout",
		outcome_name(q->kind));
	ck_assert_uint_eq(q->worker_pid, (uint64_t)r->stopped);
	ck_assert_int_eq(harness_wait_log(&h,
					  "request timed out, killing worker",
					  1, 5000),
			 0);
	(void)snprintf(needle, sizeof(needle),
		       "pid=%d state=", (int)r->stopped);
	ck_assert_int_eq(harness_wait_log(&h, needle, 1, 5000), 0);
	ck_assert_msg(kill(r->stopped, 0) < 0 && errno == ESRCH,
		      "the stopped worker %d is still there", (int)r->stopped);
}

/* Every request got one answer; each error is one a fault explains: a
 * worker killed under it, or the stopped worker's deadline. */
static unsigned
check_answers(const struct run *r)
{
	unsigned crashed = 0;

	for (size_t i = 0; i < r->n_reqs; i++) {
		const struct req *q = &r->reqs[i];
		ck_assert_msg(q->answers == 1, "request %zu got %u answers",
			      i + 1, q->answers);
		if (q->kind == OUTCOME_OK || i == r->stop_req)
			continue;
		ck_assert_msg(q->kind == OUTCOME_WORKER_CRASHED,
			      "request %zu got %s", i + 1,
			      outcome_name(q->kind));
		ck_assert_msg(
			is_killed_by_fault(r, q->worker_pid),
			"request %zu crashed on worker %llu, which no fault killed",
			i + 1, (unsigned long long)q->worker_pid);
		crashed++;
	}
	return crashed;
}

/* Signals a worker drops do not show as deaths of that signal; signals
 * that reach it do. */
static void
check_deaths_by_signal(const struct run *r)
{
	unsigned sent = 0;

	for (size_t i = 0; i < r->n_faults; i++)
		sent += r->faults[i].sig != SIGKILL;
	unsigned died = harness_count_log(&h, " sig=11 ") +
			harness_count_log(&h, " sig=7 ");
	if (r->is_own_pid_ns)
		ck_assert_msg(died == 0,
			      "%u workers died of a signal their init drops",
			      died);
	else if (sent > 0)
		ck_assert_msg(died > 0,
			      "none of %u SIGSEGV and SIGBUS killed a worker",
			      sent);
}

static void
print_run(const struct run *r, unsigned crashed)
{
	unsigned ok = 0;

	for (size_t i = 0; i < r->n_reqs; i++)
		ok += r->reqs[i].kind == OUTCOME_OK;
	fprintf(stderr,
		"faults: own_pid_ns=%d requests=%zu ok=%u crashed=%u faults=%zu:",
		r->is_own_pid_ns, r->n_reqs, ok, crashed, r->n_faults);
	for (size_t i = 0; i < r->n_faults; i++)
		fprintf(stderr, " %s@%d(%c)", strsignal(r->faults[i].sig),
			(int)r->faults[i].pid, r->faults[i].state);
	fprintf(stderr, "\n");
}

/* Waits until the pool is back to --workers, none a zombie, and the
 * supervisor holds the fds it held before. */
static void
wait_pool_settled(unsigned fds)
{
	uint64_t deadline = sys_now_ns() + SETTLE_DEADLINE_MS * MS_NS;
	pid_t pids[MAX_SEEN];
	size_t n;
	unsigned now_fds, zombies;

	/* NOTE: a worker's exit, reaped by the supervisor, has no event the
	 * test can wait on. The supervisor logs each retirement and spawn,
	 * so the wait wakes on its log, and looks again every 50 ms. */
	for (;;) {
		n = harness_children(&h, pids, MAX_SEEN);
		zombies = 0;
		for (size_t i = 0; i < n; i++)
			zombies += proc_state(pids[i]) == 'Z';
		now_fds = proc_fd_count(h.pid);
		if ((n == WORKERS && zombies == 0 && now_fds == fds) ||
		    sys_now_ns() >= deadline)
			break;
		struct pollfd p = {.fd = h.log_fd, .events = POLLIN};
		(void)poll(&p, 1, 50);
		harness_drain_log(&h);
	}
	ck_assert_msg(
		n == WORKERS && zombies == 0 && now_fds == fds,
		"after the run: %zu children (%u zombies), %u fds; before: %d children, %u fds",
		n, zombies, now_fds, WORKERS, fds);
}

static unsigned
seed_from_env(void)
{
	const char *s = getenv("BEDDEL_FAULTS_SEED");

	if (s && *s)
		return (unsigned)strtoul(s, NULL, 10);
	return (unsigned)sys_now_ns() ^ (unsigned)getpid();
}

/* Everything the run must show once it is over. */
static void
check_run(struct run *r)
{
	unsigned crashed = check_answers(r);

	print_run(r, crashed);
	check_stopped(r);
	check_deaths_by_signal(r);
	ck_assert_msg(crashed > 0, "no fault hit a request");
	ck_assert_uint_eq(r->n_busy_faults, ARRAY_SIZE(busy_plan));
	ck_assert_uint_eq(r->n_idle_faults, ARRAY_SIZE(idle_plan));
	ck_assert_uint_eq(r->mid_response_closes, VANISH_READERS);
	ck_assert(r->is_stall_closed);
	ck_assert_uint_ge(harness_count_log(&h, "stalled inside a frame"), 1);
}

/* A small stall timeout, so that the stalled client is closed while the
 * load runs; a short idle timeout, so that the pool is back to --workers
 * soon after. */
#define LOAD_ARGS                                                              \
	"--max-workers", "8", "--stall-timeout-ms", "300",                     \
		"--idle-timeout-ms", "1000"

/* Loop 0: workers in namespaces of their own where the host allows it;
 * loop 1: without, so that SIGSEGV and SIGBUS reach them. */
static const char *const load_args[2][8] = {
	{LOAD_ARGS, NULL},
	{LOAD_ARGS, "--no-namespaces", NULL},
};

START_TEST(test_faults_every_request_gets_one_answer_of_its_own)
{
	pid_t pids[MAX_SEEN];

	start_or_fail(load_args[_i], 0);
	memset(&run, 0, sizeof(run));
	run.seed = seed_from_env();
	fprintf(stderr,
		"faults: BEDDEL_FAULTS_SEED=%u repeats this run's choices\n",
		run.seed);
	run.is_own_pid_ns = harness_workers_have_own_pid_namespace(&h);
	unsigned sup_fds = proc_fd_count(h.pid);
	ck_assert_uint_eq(harness_children(&h, pids, MAX_SEEN), WORKERS);

	run.stopped = start_stop_target(&run);
	send_load(&run);
	send_vanishing(&run);
	/* SIGSTOP goes through to a namespace's init from outside. */
	ck_assert_int_eq(kill(run.stopped, SIGSTOP), 0);
	drive_run(&run);

	check_run(&run);
	expect_clean_answer("clean");
	wait_pool_settled(sup_fds);
	expect_clean_answer("still clean");
}
END_TEST

/* ---- Crowds: more connections than --max-clients -------------------- */

#define CROWD_MAX 1000
#define CROWD_MAX_CLIENTS 200
#define CROWD_DEADLINE_MS 60000

struct crowd {
	struct conn *conns;
	unsigned n;
	unsigned open;
	unsigned answered;
	unsigned refused;
	/* Answered connections stay open until every connection is
	 * answered or refused, so that the supervisor holds as many
	 * clients as it will take; else each is closed at once. */
	bool is_holding;
};

/* The connection a crowd can open: the test's own fd limit, raised to
 * its hard limit, less room for everything else. */
static unsigned
crowd_size(unsigned want)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_uint_gt(rl.rlim_cur, 128);
	return rl.rlim_cur - 64 < want ? (unsigned)(rl.rlim_cur - 64) : want;
}

/* Opens n connections, each sending one request at once, before reading
 * any answer: the first the supervisor takes stay open meanwhile. */
static void
crowd_open(struct crowd *cr, unsigned n)
{
	char code[32];

	cr->conns = calloc(n, sizeof(*cr->conns));
	ck_assert_ptr_nonnull(cr->conns);
	cr->n = cr->open = n;
	for (unsigned i = 0; i < n; i++) {
		int fd = connect_bounded();
		(void)snprintf(code, sizeof(code), "'c-%u'", i);
		(void)send_exec(fd, i + 1, code, 0);
		conn_init(&cr->conns[i], fd, ROLE_LOAD, 1);
	}
}

/* An answer on connection i: its own, ok; or the refusal of the
 * connection, without an id, after which only the close may come. */
static void
crowd_take(struct crowd *cr, unsigned i, const struct proto_result *res)
{
	struct conn *c = &cr->conns[i];
	struct req q = {.conn = i};

	ck_assert_msg(!c->has_refusal,
		      "connection %u got a frame after its refusal", i);
	if (!res->has_id) {
		ck_assert_msg(res->outcome == OUTCOME_OVERLOADED,
			      "connection %u got %s without an id", i,
			      outcome_name(res->outcome));
		c->has_refusal = true;
		return;
	}
	ck_assert_uint_eq(res->id, i + 1);
	ck_assert_msg(res->outcome == OUTCOME_OK, "connection %u got %s: %.*s",
		      i, outcome_name(res->outcome), (int)res->message_len,
		      res->message);
	(void)snprintf(q.token, sizeof(q.token), "c-%u", i);
	check_ok_value(&q, res);
	c->owed = 0;
}

static void
crowd_service(struct crowd *cr, unsigned i)
{
	struct conn *c = &cr->conns[i];
	struct proto_msg *m;
	struct proto_result res;

	ssize_t n = conn_fill(c);
	if (n == -EAGAIN || n == -EINTR)
		return;
	while (conn_next_result(c, &m, &res)) {
		crowd_take(cr, i, &res);
		proto_msg_free(m);
	}
	/* A refused connection ends in an end of stream, or in a reset:
	 * the supervisor closed it with our request unread (unix(7)). */
	bool is_end = n == 0 || n == -ECONNRESET;
	ck_assert_msg(n > 0 || is_end, "connection %u: %s", i,
		      strerror((int)-n));
	ck_assert_msg(!is_end || c->has_refusal || c->owed == 0,
		      "connection %u was closed without an answer", i);
	if (c->owed == 0 || (is_end && c->has_refusal)) {
		cr->answered += c->owed == 0;
		cr->refused += c->owed != 0;
		cr->open--;
		c->is_resolved = true;
		if (!cr->is_holding || c->owed != 0)
			conn_close(c);
	}
}

/* Reads every connection until each has its answer or its refusal and
 * close. */
static void
crowd_drive(struct crowd *cr)
{
	uint64_t deadline = sys_now_ns() + CROWD_DEADLINE_MS * MS_NS;
	struct pollfd *pfds = calloc(cr->n + 1, sizeof(*pfds));
	unsigned *which = calloc(cr->n, sizeof(*which));

	ck_assert(pfds && which);
	while (cr->open > 0) {
		ck_assert_msg(sys_now_ns() < deadline,
			      "%u of %u connections hang", cr->open, cr->n);
		nfds_t n = 0;
		for (unsigned i = 0; i < cr->n; i++) {
			if (cr->conns[i].is_resolved)
				continue;
			which[n] = i;
			pfds[n++] = (struct pollfd){cr->conns[i].fd, POLLIN, 0};
		}
		pfds[n] = (struct pollfd){h.log_fd, POLLIN, 0};
		ck_assert_int_ge(poll(pfds, n + 1, ms_until(deadline)), 0);
		for (nfds_t i = 0; i < n; i++)
			if (pfds[i].revents)
				crowd_service(cr, which[i]);
		harness_drain_log(&h);
	}
	for (unsigned i = 0; i < cr->n; i++)
		conn_close(&cr->conns[i]);
	free(pfds);
	free(which);
	free(cr->conns);
}

/* With the connections it took held open, the supervisor refuses every
 * one past max_clients and answers every other; then the pool and its
 * fds are as before. */
static void
crowd_expect(unsigned want, unsigned max_clients, unsigned sup_fds)
{
	struct crowd cr = {.is_holding = true};

	crowd_open(&cr, crowd_size(want));
	crowd_drive(&cr);
	fprintf(stderr,
		"faults: crowd of %u, max_clients=%u: answered=%u refused=%u\n",
		cr.n, max_clients, cr.answered, cr.refused);

	ck_assert_uint_eq(cr.answered, cr.n < max_clients ? cr.n : max_clients);
	ck_assert_uint_eq(cr.refused, cr.n - cr.answered);
	expect_clean_answer("after the crowd");
	wait_pool_settled(sup_fds);
}

START_TEST(test_faults_refuses_connections_past_max_clients)
{
	const char *const args[] = {"--max-workers",
				    "8",
				    "--max-clients",
				    "200",
				    "--idle-timeout-ms",
				    "1000",
				    NULL};

	start_or_fail(args, 0);
	unsigned sup_fds = proc_fd_count(h.pid);
	crowd_expect(CROWD_MAX, CROWD_MAX_CLIENTS, sup_fds);
	ck_assert_uint_eq(harness_count_log(&h, "accept failed"), 0);
}
END_TEST

/* The client room the supervisor logged when it fitted --max-clients to
 * its fd limit at start. */
static unsigned
logged_client_room(void)
{
	static const char needle[] = "the fd limit leaves room for ";

	harness_drain_log(&h);
	const char *p = strstr(h.log, needle);
	ck_assert_msg(p != NULL,
		      "the supervisor did not fit its clients to its fd limit");
	return (unsigned)strtoul(p + strlen(needle), NULL, 10);
}

/* Under `ulimit -n 128` the supervisor lowers --max-clients at start to
 * what its fds allow and refuses the rest: accept() never fails. */
START_TEST(test_faults_refuses_connections_under_a_tight_fd_limit)
{
	const char *const args[] = {"--max-workers", "8", "--idle-timeout-ms",
				    "1000", NULL};

	start_or_fail(args, 128);
	unsigned room = logged_client_room();
	ck_assert_uint_gt(room, 0);
	ck_assert_uint_lt(room, 128);
	unsigned sup_fds = proc_fd_count(h.pid);
	crowd_expect(300, room, sup_fds);
	ck_assert_uint_eq(harness_count_log(&h, "accept failed"), 0);
}
END_TEST

/* Sums the failures=N of the supervisor's "accept failed" lines. */
static unsigned
logged_accept_failures(unsigned *ret_lines)
{
	static const char needle[] = "accept failed";
	unsigned sum = 0, lines = 0;

	harness_drain_log(&h);
	for (const char *p = strstr(h.log, needle); p;
	     p = strstr(p + 1, needle)) {
		const char *f = strstr(p, "failures=");
		if (f)
			sum += (unsigned)strtoul(f + strlen("failures="), NULL,
						 10);
		lines++;
	}
	*ret_lines = lines;
	return sum;
}

/* A supervisor whose fds run out while it runs (its soft limit lowered
 * under it) pauses accepting instead of spinning on accept(); the
 * connections wait in the backlog and are all served as others close. */
START_TEST(test_faults_pauses_accepting_when_out_of_fds)
{
	const char *const args[] = {"--max-workers", "8", "--idle-timeout-ms",
				    "1000", NULL};
	struct rlimit before, tight;
	unsigned lines;

	start_or_fail(args, 0);
	unsigned sup_fds = proc_fd_count(h.pid);
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, NULL, &before), 0);
	/* Room for a few clients above what it holds: fds are allocated
	 * lowest first, so the limit is also the highest fd plus one. */
	tight = (struct rlimit){.rlim_cur = sup_fds + 8,
				.rlim_max = before.rlim_max};
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &tight, NULL), 0);
	uint64_t start_ns = sys_now_ns();
	struct crowd cr = {0};
	crowd_open(&cr, 100);
	crowd_drive(&cr);
	uint64_t elapsed_ms = (sys_now_ns() - start_ns) / MS_NS;
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &before, NULL), 0);

	ck_assert_uint_eq(cr.answered, 100);
	unsigned failures = logged_accept_failures(&lines);
	fprintf(stderr,
		"faults: out of fds: %u accept failures in %u lines over %llu ms\n",
		failures, lines, (unsigned long long)elapsed_ms);
	ck_assert_uint_gt(lines, 0);
	/* A pause of 100 ms after each failure: a spin would fail
	 * thousands of times a second. */
	ck_assert_uint_le(failures, 2 * elapsed_ms / 100 + 10);
	expect_clean_answer("after the pause");
	wait_pool_settled(sup_fds);
}
END_TEST

/* Workers that fail to start (one in two) and workers that flood their
 * pipe with junk or crash, under pipelined load: every request is
 * answered once: an echo with its own text, a fault with worker_crashed,
 * or either, when it waited while no worker could start, `internal`
 * saying so. */
#define MIXED_CONNS 8
#define MIXED_PER_CONN 12

static void
expect_mixed_answer(unsigned c, const struct proto_result *res,
		    bool seen[MIXED_CONNS][MIXED_PER_CONN])
{
	unsigned k = (unsigned)(res->id % 100u) - 1;
	char token[32];

	ck_assert_msg(res->has_id && res->id / 100u == c && k < MIXED_PER_CONN,
		      "answer with id %llu on connection %u",
		      (unsigned long long)res->id, c);
	ck_assert_msg(!seen[c][k], "request %llu answered twice",
		      (unsigned long long)res->id);
	seen[c][k] = true;
	/* Waiting when every worker in sight failed to start. */
	if (res->outcome == OUTCOME_INTERNAL) {
		ck_assert_ptr_nonnull(memmem(res->message, res->message_len,
					     "could start", 11));
		return;
	}
	if (k % 5 == 4) {
		ck_assert_msg(res->outcome == OUTCOME_WORKER_CRASHED,
			      "fault %llu: %s", (unsigned long long)res->id,
			      outcome_name(res->outcome));
		return;
	}
	ck_assert_msg(res->outcome == OUTCOME_OK, "echo %llu: %s",
		      (unsigned long long)res->id, outcome_name(res->outcome));
	size_t len;
	const char *s = proto_value_str(res->value, &len);
	(void)snprintf(token, sizeof(token), "tok-%u-%u", c, k);
	ck_assert_msg(len == strlen(token) && memcmp(s, token, len) == 0,
		      "request %llu got another's answer",
		      (unsigned long long)res->id);
}

START_TEST(test_faults_survive_start_up_failures_and_broken_workers)
{
	const char *probe = getenv("BEDDEL_WORKER_PROBE_FLAKY");
	bool seen[MIXED_CONNS][MIXED_PER_CONN] = { { false } };
	int fds[MIXED_CONNS];
	char code[64];

	ck_assert_ptr_nonnull(probe);
	const char *const args[] = { "--worker", probe, "--max-workers", "6",
				     NULL };
	fds_before = harness_count_fds();
	ck_assert_int_eq(harness_start(&h, 0, args), 0);
	for (unsigned c = 0; c < MIXED_CONNS; c++) {
		fds[c] = harness_connect(&h);
		ck_assert_int_ge(fds[c], 0);
		for (unsigned k = 0; k < MIXED_PER_CONN; k++) {
			struct proto_frame f;
			if (k % 5 == 4)
				(void)snprintf(code, sizeof(code), "%s",
					       k % 10 == 4 ? "fault-flood" : "fault-segv");
			else
				(void)snprintf(code, sizeof(code), "echo:tok-%u-%u",
					       c, k);
			ck_assert_int_eq(harness_exec_frame(c * 100u + k + 1, code,
							    NULL, 0, &f),
					 0);
			ck_assert_int_eq(sys_write_all(fds[c], f.data, f.len), 0);
			proto_frame_fini(&f);
		}
	}
	for (unsigned c = 0; c < MIXED_CONNS; c++) {
		for (unsigned k = 0; k < MIXED_PER_CONN; k++) {
			struct proto_msg *m;
			struct proto_result res;
			ck_assert_int_eq(harness_read_result(fds[c], 30000, &m, &res), 0);
			expect_mixed_answer(c, &res, seen);
			proto_msg_free(m);
		}
		(void)close(fds[c]);
	}
	printf("faults: %u start-up failures, %u workers killed for their frames\n",
	       harness_count_log(&h, "exited with code 70"),
	       harness_count_log(&h, "malformed frame"));
}
END_TEST

Suite *faults_suite(void);

Suite *
faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("under_load");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, NULL, stop_and_check);
	tcase_add_loop_test(
		tc, test_faults_every_request_gets_one_answer_of_its_own, 0, 2);
	tcase_add_test(tc, test_faults_survive_start_up_failures_and_broken_workers);
	suite_add_tcase(s, tc);

	tc = tcase_create("crowds");
	tcase_set_timeout(tc, 90);
	tcase_add_checked_fixture(tc, NULL, stop_and_check);
	tcase_add_test(tc, test_faults_refuses_connections_past_max_clients);
	tcase_add_test(tc,
		       test_faults_refuses_connections_under_a_tight_fd_limit);
	tcase_add_test(tc, test_faults_pauses_accepting_when_out_of_fds);
	suite_add_tcase(s, tc);
	return s;
}
