/* SPDX-License-Identifier: MIT */
/*
 * The engine of bench_load (bench/load.h). One thread runs one poll loop
 * over non-blocking Unix sockets: the load's connections, one more for the
 * status queries, and the log pipe of a supervisor that the harness
 * started. Every wait in it has a deadline, so a supervisor that stops
 * answering ends a run with its requests counted lost instead of hanging
 * it. Runs in a client process; trusts the supervisor's frames no further
 * than proto_msg_decode() does.
 *
 * The pool is sampled from two sources, both kept in each sample: the
 * supervisor's `status` answer, asked every sample_ms on a connection of
 * its own (workers by state, the queue, its utilisation over the current
 * sizing window, and its sum of the workers' resident memory, which it
 * reads after each request, so that an idle worker's figure may be old);
 * and, when the supervisor's pid is known, VmRSS of each of its children
 * read from /proc at the moment of the sample, starting workers and
 * workers that never served included.
 */
#include "bench/load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "supervisor/remote.h"
#include "supervisor/run_json.h"
#include "tests/helpers/harness.h"

#define LOAD_NS_PER_MS 1000000u
/* A connection the supervisor ended is opened again after this long: soon
 * enough to keep the load up, late enough not to spin on a supervisor
 * that refuses every connection. */
#define LOAD_RECONNECT_MS 100u
/* ...and after this long when its listen backlog was full. */
#define LOAD_BACKLOG_RETRY_MS 5u
/* How long the status query after the last answer may take. */
#define LOAD_STATUS_WAIT_MS 2000u
/* Open loop: requests one connection may hold unanswered. Past it the
 * connection is skipped, and a request due when all of them are full is
 * counted unsent, so that a stalled supervisor cannot make this process
 * buffer without bound. */
#define LOAD_OPEN_IN_FLIGHT_MAX 4096u
/* Bytes read from one connection per turn of the loop, so that a busy
 * connection does not starve the others. */
#define LOAD_READ_CHUNK_BYTES 65536u
#define LOAD_READ_TURN_BYTES (4u * LOAD_READ_CHUNK_BYTES)
/* Largest expected value accepted. */
#define LOAD_EXPECTED_MAX_BYTES (1024u * 1024u)
/* Rows of the sample table printed; a longer run prints every k-th. */
#define LOAD_PRINT_SAMPLES_MAX 40u
#define LOAD_STOP_TIMEOUT_MS 10000
#define LOAD_SURVIVOR_WAIT_MS 2000
/* Workers of one supervisor looked for after it stopped. */
#define LOAD_CHILDREN_MAX 4096u

/* ---- Buffers -------------------------------------------------------- */

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static int
buf_append(struct buf *b, const void *data, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

/* Drops the first n bytes. */
static void
buf_consume(struct buf *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

static void
buf_fini(struct buf *b)
{
	free(b->data);
	*b = (struct buf){ 0 };
}

/* Latencies, in microseconds, kept whole so that percentiles are exact. */
struct series {
	uint64_t *values;
	size_t n;
	size_t cap;
};

static int
series_add(struct series *s, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *p = realloc(s->values, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->values = p;
		s->cap = cap;
	}
	s->values[s->n++] = v;
	return 0;
}

static struct load_latency
series_summarize(struct series *s)
{
	struct load_latency l = { .count = s->n };
	uint64_t sum = 0;

	static const double qs[] = { 0.5, 0.9, 0.99, 1.0 };
	uint64_t q[UTIL_ARRAY_SIZE(qs)];

	if (s->n == 0)
		return l;
	for (size_t i = 0; i < s->n; i++)
		sum += s->values[i];
	util_quantiles(s->values, s->n, qs, UTIL_ARRAY_SIZE(qs), q);
	l.median_us = q[0];
	l.p90_us = q[1];
	l.p99_us = q[2];
	l.max_us = q[3];
	l.mean_us = (double)sum / (double)s->n;
	return l;
}

/* ---- The run's state ------------------------------------------------ */

/* One request in flight. */
struct req {
	uint64_t id;
	uint64_t due_ns; /* its round trip counts from here */
	bool is_counted;
};

struct conn {
	int fd; /* -1: closed, to be opened again at retry_ns */
	uint64_t retry_ns;
	struct buf in;	/* read, not yet a whole frame */
	struct buf out; /* not yet written */
	struct req *reqs; /* in flight, oldest first */
	size_t n_reqs;
	size_t cap_reqs;
};

enum phase {
	PHASE_WARMUP,
	PHASE_MEASURE,
	PHASE_DRAIN, /* nothing new is sent; the answers due come in */
	PHASE_FINAL, /* the last status query */
	PHASE_DONE,
};

struct run {
	const struct load_config *c;
	struct load_report rep; /* copied out on success only */
	enum phase phase;
	struct conn *conns; /* c->connections of them */
	struct conn status;
	struct pollfd *pfds; /* the connections, status, the log */
	size_t code_len;
	size_t n_down; /* load connections to open again */
	size_t in_flight;
	uint64_t next_id;
	unsigned next_conn; /* open loop: round robin */
	uint64_t rng;
	double *zipf_cdf; /* NULL: uniform draws */
	char *expected;	  /* as harness_value_json() prints it */
	uint64_t start_ns, count_ns, end_ns, grace_ns, final_ns;
	uint64_t n_due; /* open loop: requests due so far */
	uint64_t next_due_ns;
	uint64_t next_sample_ns;
	uint64_t status_wait; /* id of the last status query unanswered */
	uint64_t status_sent_ns; /* ...and when it went out */
	uint64_t window_ok; /* ok answers that came in the counted part */
	int log_fd; /* the harness's log pipe, until its end; else -1 */
	uint64_t start_cpu_us;
	size_t cap_samples;
	struct series rtt, queue, exec, total;
	uint8_t scratch[LOAD_READ_CHUNK_BYTES];
};

static bool
is_sending(const struct run *u)
{
	return u->phase == PHASE_WARMUP || u->phase == PHASE_MEASURE;
}

static bool
is_open_loop(const struct run *u)
{
	return u->c->rate_per_s > 0;
}

/* Open loop: requests due before the end that are not sent yet. */
static bool
has_due(const struct run *u)
{
	return is_open_loop(u) && u->next_due_ns < u->end_ns;
}

/* splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one 64-bit word of state, so that a seed
 * alone gives the same tenant for the k-th request of every run. */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The cumulative shares of a Zipf law with s = 1 over n tenants: tenant
 * k gets 1 / (k + 1) of the weight, so t0 sends twice what t1 sends. */
static double *
zipf_new(unsigned n)
{
	double *cdf = calloc(n, sizeof(*cdf));
	double sum = 0;

	if (!cdf)
		return NULL;
	for (unsigned k = 0; k < n; k++) {
		sum += 1.0 / (double)(k + 1);
		cdf[k] = sum;
	}
	for (unsigned k = 0; k < n; k++)
		cdf[k] /= sum;
	return cdf;
}

static unsigned
draw_tenant(struct run *u)
{
	double x = (double)(rng_next(&u->rng) >> 11) * 0x1p-53;
	unsigned n = u->c->tenants, lo = 0, hi = n - 1;

	if (!u->zipf_cdf) {
		unsigned k = (unsigned)(x * n);
		return k < n ? k : n - 1;
	}
	/* The first tenant whose cumulative share passes x. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (u->zipf_cdf[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* ---- Connections ---------------------------------------------------- */

/* Closes a connection the supervisor ended or broke: its requests in
 * flight will get no answer. A load connection is opened again later. */
static void
conn_close(struct run *u, struct conn *k, uint64_t now)
{
	for (size_t i = 0; i < k->n_reqs; i++)
		u->rep.cut += k->reqs[i].is_counted;
	u->in_flight -= k->n_reqs;
	k->n_reqs = 0;
	(void)close(k->fd);
	k->fd = -1;
	k->in.len = 0;
	k->out.len = 0;
	if (k == &u->status) {
		u->status_wait = 0;
		return;
	}
	k->retry_ns = now + LOAD_RECONNECT_MS * LOAD_NS_PER_MS;
	u->n_down++;
	u->rep.closed++;
}

static void
conn_fini(struct conn *k)
{
	if (k->fd >= 0)
		(void)close(k->fd);
	k->fd = -1;
	buf_fini(&k->in);
	buf_fini(&k->out);
	free(k->reqs);
	k->reqs = NULL;
}

/* Takes the request id out of the connection's requests in flight.
 * Answers mostly come in the order sent, so the oldest is looked at
 * first. */
static bool
take_req(struct run *u, struct conn *k, uint64_t id, struct req *ret)
{
	for (size_t i = 0; i < k->n_reqs; i++) {
		if (k->reqs[i].id != id)
			continue;
		*ret = k->reqs[i];
		memmove(&k->reqs[i], &k->reqs[i + 1],
			(k->n_reqs - i - 1) * sizeof(*k->reqs));
		k->n_reqs--;
		u->in_flight--;
		return true;
	}
	return false;
}

/* ---- Answers -------------------------------------------------------- */

static int
count_ok(struct run *u, const struct proto_result *res, uint64_t rtt_us)
{
	char *json = harness_value_json(res->value);
	int r;

	if (!json)
		return -ENOMEM;
	if (strcmp(json, u->expected) == 0)
		u->rep.ok++;
	else
		u->rep.wrong++;
	free(json);

	r = series_add(&u->rtt, rtt_us);
	if (r == 0)
		r = series_add(&u->queue, res->stats.queue_us);
	if (r == 0)
		r = series_add(&u->exec, res->stats.exec_us);
	if (r == 0)
		r = series_add(&u->total, res->stats.total_us);
	return r;
}

static int
take_result(struct run *u, struct conn *k, const struct proto_msg *m,
	    uint64_t now)
{
	struct proto_result res;
	const char *why;
	struct req q;

	if (proto_msg_result(m, &res, &why) < 0) {
		u->rep.stray++;
		return 0;
	}
	/* A refused connection's one answer carries no id (PROTOCOL.md,
	 * section 7); the supervisor closes it next. */
	if (!res.has_id && res.outcome == OUTCOME_OVERLOADED) {
		u->rep.refused++;
		return 0;
	}
	if (!res.has_id || !take_req(u, k, res.id, &q)) {
		u->rep.stray++;
		return 0;
	}
	if (res.outcome == OUTCOME_OK && now >= u->count_ns && now < u->end_ns)
		u->window_ok++;
	if (!q.is_counted)
		return 0;

	if (res.outcome != OUTCOME_OK) {
		u->rep.errors++;
		if ((unsigned)res.outcome < OUTCOME_COUNT)
			u->rep.by_outcome[res.outcome]++;
		return 0;
	}
	return count_ok(u, &res, now > q.due_ns ? (now - q.due_ns) / 1000u : 0);
}

static uint64_t
pool_uint(const struct proto_value *pool, const char *key)
{
	const struct proto_value *v = proto_value_find(pool, key);

	return v ? proto_value_uint(v) : 0;
}

/* A status answer fills the sample whose number is its id. */
static void
take_status(struct run *u, const struct proto_msg *m, uint64_t now)
{
	const struct proto_value *id = proto_msg_get(m, "id");
	const struct proto_value *st = proto_msg_get(m, "status");
	const struct proto_value *pool = proto_value_find(st, "pool");
	uint64_t i = id ? proto_value_uint(id) : 0;

	if (!pool || i == 0 || i > u->rep.n_samples) {
		u->rep.stray++;
		return;
	}
	struct load_sample *s = &u->rep.samples[i - 1];
	const struct proto_value *util = proto_value_find(pool, "utilisation");
	s->has_status = true;
	s->workers = (unsigned)pool_uint(pool, "workers");
	s->busy = (unsigned)pool_uint(pool, "busy");
	s->queued = (unsigned)pool_uint(pool, "queued");
	s->utilisation = util ? proto_value_double(util) : 0;
	s->rss_bytes = pool_uint(pool, "rss_bytes");
	if (i != u->status_wait)
		return;
	s->status_us = (now - u->status_sent_ns) / 1000u;
	u->status_wait = 0;
}

/* Handles one frame's payload, which it owns. */
static int
take_frame(struct run *u, struct conn *k, uint8_t *payload, size_t len,
	   uint64_t now)
{
	struct proto_msg *m;
	const char *why;
	int r = 0;

	/* proto_msg_decode() owns payload from here on, whatever happens. */
	if (proto_msg_decode(payload, len, &m, &why) < 0) {
		u->rep.stray++;
		return 0;
	}
	enum proto_type type = proto_msg_type(m);
	if (k == &u->status && type == PROTO_MSG_STATUS)
		take_status(u, m, now);
	else if (k != &u->status && type == PROTO_MSG_RESULT)
		r = take_result(u, k, m, now);
	else
		u->rep.stray++;
	proto_msg_free(m);
	return r;
}

/* Handles every whole frame the connection has read. An impossible
 * header leaves no frame boundary to go on from: the connection ends. */
static int
conn_parse(struct run *u, struct conn *k, uint64_t now)
{
	size_t off = 0, len;
	int r = 0;

	while (r == 0 && k->in.len - off >= IPC_HEADER_BYTES) {
		const uint8_t *head = k->in.data + off;

		if (ipc_header_decode(head, IPC_FRAME_MAX_CEILING, &len) < 0) {
			u->rep.stray++;
			conn_close(u, k, now);
			return 0;
		}
		if (k->in.len - off - IPC_HEADER_BYTES < len)
			break;
		uint8_t *payload = malloc(len);
		if (!payload)
			return -ENOMEM;
		memcpy(payload, head + IPC_HEADER_BYTES, len);
		off += IPC_HEADER_BYTES + len;
		r = take_frame(u, k, payload, len, now);
	}
	buf_consume(&k->in, off);
	return r;
}

/* Reads what the connection has, up to a turn's share. The end of the
 * stream, or an error, ends the connection. */
static int
conn_read(struct run *u, struct conn *k)
{
	uint64_t now = sys_now_ns();
	size_t total = 0;
	int r = 0;

	while (r == 0 && k->fd >= 0 && total < LOAD_READ_TURN_BYTES) {
		ssize_t n = read(k->fd, u->scratch, sizeof(u->scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(u, k, now);
			break;
		}

		total += (size_t)n;
		r = buf_append(&k->in, u->scratch, (size_t)n);
		if (r == 0)
			r = conn_parse(u, k, now);
	}
	return r;
}

/* Writes what the connection holds; EAGAIN leaves the rest for POLLOUT.
 * A failed write ends the connection, after reading what the supervisor
 * sent before closing it (a refusal comes that way). */
static int
conn_flush(struct run *u, struct conn *k)
{
	int r = 0;

	while (k->fd >= 0 && k->out.len > 0) {
		/* MSG_NOSIGNAL: a closed peer gives EPIPE, not SIGPIPE. */
		ssize_t n = send(k->fd, k->out.data, k->out.len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			r = conn_read(u, k);
			if (k->fd >= 0)
				conn_close(u, k, sys_now_ns());
			break;
		}
		buf_consume(&k->out, (size_t)n);
	}
	return r;
}

/* ---- Requests ------------------------------------------------------- */

static int
reqs_reserve(struct conn *k)
{
	if (k->n_reqs < k->cap_reqs)
		return 0;

	size_t cap = k->cap_reqs ? k->cap_reqs * 2 : 8;
	struct req *p = realloc(k->reqs, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	k->reqs = p;
	k->cap_reqs = cap;
	return 0;
}

/* Queues one request on k, due at due_ns; the caller flushes. Counted
 * when due after the warm-up and before the end. */
static int
conn_send(struct run *u, struct conn *k, uint64_t due_ns)
{
	char tenant[16];
	int len = snprintf(tenant, sizeof(tenant), "t%u", draw_tenant(u));
	struct proto_exec e = {
		.has_id = true,
		.id = u->next_id,
		.code = u->c->code,
		.code_len = u->code_len,
		.tenant = tenant,
		.tenant_len = (size_t)len,
	};
	struct proto_frame f;
	int r;

	r = reqs_reserve(k);
	if (r == 0)
		r = proto_encode_exec(&e, &f);
	if (r < 0)
		return r;
	r = buf_append(&k->out, f.data, f.len);
	proto_frame_fini(&f);
	if (r < 0)
		return r;

	bool is_counted = due_ns >= u->count_ns && due_ns < u->end_ns;
	k->reqs[k->n_reqs++] = (struct req){ u->next_id++, due_ns, is_counted };
	u->in_flight++;
	u->rep.sent += is_counted;
	return 0;
}

/* The closed loop: keeps c->pipeline requests in flight on k. */
static int
top_up(struct run *u, struct conn *k)
{
	int r = 0;

	if (!is_sending(u) || is_open_loop(u) || k->fd < 0)
		return 0;
	uint64_t now = sys_now_ns();
	while (r == 0 && k->n_reqs < u->c->pipeline)
		r = conn_send(u, k, now);
	if (r == 0)
		r = conn_flush(u, k);
	return r;
}

/* The next open connection from the round-robin position that can take
 * one more request of the open loop, or NULL. */
static struct conn *
pick_conn(struct run *u)
{
	unsigned n = u->c->connections;

	for (unsigned i = 0; i < n; i++) {
		struct conn *k = &u->conns[(u->next_conn + i) % n];

		if (k->fd >= 0 && k->n_reqs < LOAD_OPEN_IN_FLIGHT_MAX) {
			u->next_conn = (u->next_conn + i + 1) % n;
			return k;
		}
	}
	return NULL;
}

/* The open loop: sends every request whose time has come, stamped with
 * the time it was due, however late this turn of the loop is, so that a
 * slow answer never delays the measure of the requests after it. */
static int
send_due(struct run *u, uint64_t now)
{
	int r = 0;

	/* Requests due before the end still go out once it has passed: a
	 * late turn of the loop must not drop them. */
	if (!is_open_loop(u) || u->phase > PHASE_DRAIN)
		return 0;
	while (r == 0 && u->next_due_ns <= now && u->next_due_ns < u->end_ns) {
		uint64_t due = u->next_due_ns;
		struct conn *k = pick_conn(u);

		if (k)
			r = conn_send(u, k, due);
		else
			u->rep.unsent += due >= u->count_ns;
		if (r == 0 && k)
			r = conn_flush(u, k);
		u->n_due++;
		double offset_ns = (double)u->n_due * 1e9 / u->c->rate_per_s;
		u->next_due_ns = u->start_ns + (uint64_t)offset_ns;
	}
	return r;
}

/* Opens the load connections that are due to be opened again. */
static int
reopen_due(struct run *u, uint64_t now)
{
	int r = 0;

	if (u->n_down == 0 || !is_sending(u))
		return 0;
	for (unsigned i = 0; r == 0 && i < u->c->connections; i++) {
		struct conn *k = &u->conns[i];

		if (k->fd >= 0 || k->retry_ns > now)
			continue;
		k->fd = remote_connect_nonblock(u->c->socket_path);
		if (k->fd < 0) {
			/* A full backlog is the supervisor's accept() lagging
			 * behind, not a failure. */
			bool is_full = k->fd == -EAGAIN;
			uint64_t ms = is_full ? LOAD_BACKLOG_RETRY_MS :
						LOAD_RECONNECT_MS;
			u->rep.connect_failures += !is_full;
			k->retry_ns = now + ms * LOAD_NS_PER_MS;
			k->fd = -1;
			continue;
		}
		u->n_down--;
		r = top_up(u, k);
	}
	return r;
}

/* ---- Samples -------------------------------------------------------- */

static uint64_t
read_vmrss_bytes(pid_t pid)
{
	char value[64];

	if (harness_proc_status(pid, "VmRSS", value, sizeof(value)) < 0)
		return 0;
	return strtoull(value, NULL, 10) * 1024u; /* "1234 kB" */
}

/* VmRSS of the children that one thread of pid started, from the
 * children file of that task (proc(5); Linux 3.5 with
 * CONFIG_PROC_CHILDREN). A child that exits meanwhile adds nothing. */
static uint64_t
read_task_children_rss(pid_t pid, const char *tid, char *buf, size_t size)
{
	char path[320]; /* a task id is a d_name, up to 255 bytes */
	size_t len = 0;
	uint64_t sum = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/task/%s/children",
		       (int)pid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	(void)close(fd);
	buf[len] = '\0';

	for (char *p = buf, *end; *p; p = end) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		sum += read_vmrss_bytes((pid_t)child);
	}
	return sum;
}

/* The resident memory of every child of pid: its workers. */
static uint64_t
read_children_rss(pid_t pid, char *buf, size_t size)
{
	char path[64];
	uint64_t sum = 0;
	struct dirent *e;

	(void)snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		sum += read_task_children_rss(pid, e->d_name, buf, size);
	}
	(void)closedir(d);
	return sum;
}

static int
samples_reserve(struct run *u)
{
	if (u->rep.n_samples < u->cap_samples)
		return 0;

	size_t cap = u->cap_samples ? u->cap_samples * 2 : 64;
	struct load_sample *p = realloc(u->rep.samples, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	u->rep.samples = p;
	u->cap_samples = cap;
	return 0;
}

/* Asks for the status on the status connection, opened again if the
 * supervisor ended it. The answer's id is the sample's number. */
static int
query_status(struct run *u, uint64_t id)
{
	struct proto_query q = { .has_id = true, .id = id };
	struct proto_frame f;
	int r;

	/* One query at a time: a supervisor that is slow to answer gets no
	 * pile of them, and the samples meanwhile have /proc figures only.
	 * The last query goes out behind an unanswered one all the same:
	 * the final worker count comes from it. */
	if (u->status_wait != 0 && u->phase != PHASE_FINAL)
		return 0;
	if (u->status.fd < 0)
		u->status.fd = remote_connect_nonblock(u->c->socket_path);
	if (u->status.fd < 0) {
		u->status.fd = -1;
		return 0;
	}
	r = proto_encode_query(PROTO_MSG_STATUS, &q, &f);
	if (r < 0)
		return r;
	r = buf_append(&u->status.out, f.data, f.len);
	proto_frame_fini(&f);
	if (r < 0)
		return r;
	u->status_wait = id;
	u->status_sent_ns = sys_now_ns();
	return conn_flush(u, &u->status);
}

/* A new sample: /proc now, the status when its answer comes. */
static int
take_sample(struct run *u, uint64_t now)
{
	int r;

	r = samples_reserve(u);
	if (r < 0)
		return r;

	struct load_sample *s = &u->rep.samples[u->rep.n_samples++];
	*s = (struct load_sample){
		.t_ms = (now - u->start_ns) / LOAD_NS_PER_MS,
		.phase = u->phase == PHASE_WARMUP  ? LOAD_PHASE_WARMUP :
			 u->phase == PHASE_MEASURE ? LOAD_PHASE_COUNTED :
						     LOAD_PHASE_AFTER,
	};
	if (u->c->supervisor_pid > 0)
		s->proc_rss_bytes = read_children_rss(u->c->supervisor_pid,
						      (char *)u->scratch,
						      sizeof(u->scratch));
	return query_status(u, u->rep.n_samples);
}

static int
sample_due(struct run *u, uint64_t now)
{
	uint64_t period_ns = u->c->sample_ms * LOAD_NS_PER_MS;

	if (u->phase > PHASE_DRAIN || now < u->next_sample_ns)
		return 0;
	/* Samples keep their period; a late turn of the loop does not make
	 * a burst of them. */
	u->next_sample_ns += period_ns;
	if (u->next_sample_ns <= now)
		u->next_sample_ns = now + period_ns;
	return take_sample(u, now);
}

/* ---- The loop ------------------------------------------------------- */

/* Moves to the next phase when its time has come. The last phase waits
 * for one more status answer, taken after every answer came in. */
static int
advance(struct run *u, uint64_t now)
{
	if (u->phase == PHASE_WARMUP && now >= u->count_ns)
		u->phase = PHASE_MEASURE;
	if (u->phase == PHASE_MEASURE && now >= u->end_ns)
		u->phase = PHASE_DRAIN;
	if (u->phase == PHASE_DRAIN &&
	    ((u->in_flight == 0 && !has_due(u)) || now >= u->grace_ns)) {
		u->phase = PHASE_FINAL;
		u->final_ns = now + LOAD_STATUS_WAIT_MS * LOAD_NS_PER_MS;
		return take_sample(u, now);
	}
	if (u->phase == PHASE_FINAL &&
	    (u->status_wait == 0 || now >= u->final_ns))
		u->phase = PHASE_DONE;
	return 0;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* When the loop must wake up even if no fd is ready. */
static uint64_t
next_wake(const struct run *u, uint64_t now)
{
	const uint64_t ends[] = { u->count_ns, u->end_ns, u->grace_ns,
				  u->final_ns, now };
	uint64_t wake = ends[u->phase];

	if (u->phase <= PHASE_DRAIN)
		wake = min_u64(wake, u->next_sample_ns);
	if (is_sending(u) && is_open_loop(u))
		wake = min_u64(wake, u->next_due_ns);
	if (is_sending(u) && u->n_down > 0)
		wake = min_u64(wake,
			       now + LOAD_BACKLOG_RETRY_MS * LOAD_NS_PER_MS);
	return wake;
}

static struct pollfd
pollfd_of(const struct conn *k)
{
	return (struct pollfd){
		.fd = k->fd,
		.events = (short)(POLLIN | (k->out.len ? POLLOUT : 0)),
	};
}

/* Waits for the connections and the log until the next wake-up; ppoll
 * for its nanosecond timeout, which an open loop's schedule needs. */
static int
wait_ready(struct run *u, uint64_t now)
{
	size_t n = u->c->connections;
	uint64_t wake = next_wake(u, now);
	uint64_t wait_ns = wake > now ? wake - now : 0;
	struct timespec ts = { .tv_sec = (time_t)(wait_ns / 1000000000u),
			       .tv_nsec = (long)(wait_ns % 1000000000u) };

	for (size_t i = 0; i < n; i++)
		u->pfds[i] = pollfd_of(&u->conns[i]);
	u->pfds[n] = pollfd_of(&u->status);
	/* The supervisor logs a line per execution, and blocks when its log
	 * pipe is full, with every request of the run waiting on it. */
	u->pfds[n + 1] = (struct pollfd){
		.fd = u->log_fd,
		.events = POLLIN,
	};
	int r = ppoll(u->pfds, n + 2, &ts, NULL);
	if (r < 0 && errno != EINTR)
		return -errno;
	return r < 0 ? 0 : r;
}

static int
serve_conn(struct run *u, struct conn *k, short revents)
{
	int r = 0;

	if ((revents & POLLOUT) && k->fd >= 0)
		r = conn_flush(u, k);
	if (r == 0 && (revents & (POLLIN | POLLHUP | POLLERR)) && k->fd >= 0)
		r = conn_read(u, k);
	if (r == 0 && k != &u->status)
		r = top_up(u, k);
	return r;
}

static int
serve_ready(struct run *u)
{
	size_t n = u->c->connections;
	int r = 0;

	short log_events = u->pfds[n + 1].revents;

	if (log_events)
		harness_drain_log(u->c->harness);
	/* A supervisor that died leaves its pipe's end readable forever:
	 * polled further, it would spin the loop. */
	if (log_events & (POLLHUP | POLLERR | POLLNVAL))
		u->log_fd = -1;
	for (size_t i = 0; r == 0 && i <= n; i++) {
		struct conn *k = i < n ? &u->conns[i] : &u->status;

		if (u->pfds[i].revents)
			r = serve_conn(u, k, u->pfds[i].revents);
	}
	return r;
}

static int
run_loop(struct run *u)
{
	int r = 0;

	while (r == 0) {
		uint64_t now = sys_now_ns();

		r = advance(u, now);
		if (r < 0 || u->phase == PHASE_DONE)
			break;
		r = reopen_due(u, now);
		if (r == 0)
			r = send_due(u, now);
		if (r == 0)
			r = sample_due(u, now);
		if (r == 0)
			r = wait_ready(u, now);
		if (r > 0)
			r = serve_ready(u);
	}
	return r;
}

/* ---- Setting up and summing up -------------------------------------- */

static int
check_config(const struct load_config *c)
{
	if (!c->socket_path || !c->code || !c->expected_json)
		return -EINVAL;
	if (c->connections < 1 || c->connections > LOAD_CONNECTIONS_MAX)
		return -EINVAL;
	if (c->tenants < 1 || c->tenants > LOAD_TENANTS_MAX)
		return -EINVAL;
	if (!(c->rate_per_s >= 0) || !isfinite(c->rate_per_s))
		return -EINVAL;
	if (c->rate_per_s == 0 &&
	    (c->pipeline < 1 || c->pipeline > LOAD_PIPELINE_MAX))
		return -EINVAL;
	if (c->duration_ms < 1 || c->sample_ms < 1)
		return -EINVAL;
	return 0;
}

/* The expected value as harness_value_json() prints a reply's: through
 * msgpack and the same printer, so that spacing and number forms match. */
static int
canonical_json(const char *json, char **ret)
{
	struct proto_writer *w = proto_writer_new(LOAD_EXPECTED_MAX_BYTES);
	const struct proto_value *v;
	char why[128];
	size_t len;

	if (!w)
		return -ENOMEM;
	int r = run_json_to_msgpack(json, w, why, sizeof(why));
	if (r < 0) {
		proto_writer_free(w);
		return r;
	}
	const uint8_t *raw = proto_writer_data(w, &len);
	struct proto_msg *m = harness_raw_value(raw, len, &v);
	char *text = m ? harness_value_json(v) : NULL;
	proto_msg_free(m);
	proto_writer_free(w);
	if (!text)
		return -ENOMEM;
	*ret = text;
	return 0;
}

static int
run_init(struct run *u, const struct load_config *c)
{
	size_t n = c->connections;
	int r;

	u->c = c;
	u->code_len = strlen(c->code);
	u->rng = c->seed;
	u->next_id = 1;
	u->status.fd = -1;
	u->log_fd = c->harness ? c->harness->log_fd : -1;
	u->conns = calloc(n, sizeof(*u->conns));
	u->pfds = calloc(n + 2, sizeof(*u->pfds));
	if (c->is_skewed)
		u->zipf_cdf = zipf_new(c->tenants);
	if (!u->conns || !u->pfds || (c->is_skewed && !u->zipf_cdf))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		u->conns[i].fd = -1;
	u->n_down = n;

	r = canonical_json(c->expected_json, &u->expected);
	if (r < 0)
		return r;

	/* A supervisor that is not there fails the run at once, rather than
	 * after the whole duration of failed connects. */
	u->status.fd = remote_connect_nonblock(c->socket_path);
	if (u->status.fd < 0 && u->status.fd != -EAGAIN)
		return u->status.fd;
	if (u->status.fd < 0)
		u->status.fd = -1;
	return 0;
}

/* The clock starts once everything is allocated and connected. */
static void
run_start(struct run *u)
{
	const struct load_config *c = u->c;

	u->start_ns = sys_now_ns();
	u->start_cpu_us = sys_cpu_us();
	u->count_ns = u->start_ns + c->warmup_ms * LOAD_NS_PER_MS;
	u->end_ns = u->count_ns + c->duration_ms * LOAD_NS_PER_MS;
	u->grace_ns = u->end_ns + (uint64_t)LOAD_GRACE_MS * LOAD_NS_PER_MS;
	u->next_due_ns = u->start_ns;
	u->next_sample_ns = u->start_ns;
	u->phase = PHASE_WARMUP;
}

/* The status queries' round trips: the cost of watching the pool. */
static void
sum_status(struct load_report *rep)
{
	size_t n = 0;

	for (size_t i = 0; i < rep->n_samples; i++) {
		uint64_t us = rep->samples[i].status_us;

		if (us == 0)
			continue;
		if (us > rep->status_max_us)
			rep->status_max_us = us;
		rep->status_mean_us += (double)us;
		n++;
	}
	if (n > 0)
		rep->status_mean_us /= (double)n;
}

static void
sum_pool(struct load_report *rep)
{
	size_t counted = 0;

	sum_status(rep);
	for (size_t i = 0; i < rep->n_samples; i++) {
		const struct load_sample *s = &rep->samples[i];

		if (s->proc_rss_bytes > rep->proc_rss_max_bytes)
			rep->proc_rss_max_bytes = s->proc_rss_bytes;
		if (!s->has_status) {
			rep->samples_missed++;
			continue;
		}
		if (s->workers > rep->workers_max)
			rep->workers_max = s->workers;
		if (s->rss_bytes > rep->rss_max_bytes)
			rep->rss_max_bytes = s->rss_bytes;
		if (i == rep->n_samples - 1)
			rep->workers_final = s->workers;
		if (s->phase != LOAD_PHASE_COUNTED)
			continue;
		rep->utilisation_mean += s->utilisation;
		rep->busy_mean += s->workers ? (double)s->busy / s->workers : 0;
		counted++;
	}
	if (counted > 0) {
		rep->utilisation_mean /= (double)counted;
		rep->busy_mean /= (double)counted;
	}
}

/* Requests still in flight once the grace period is over are lost. */
static void
run_finish(struct run *u)
{
	struct load_report *rep = &u->rep;

	for (unsigned i = 0; i < u->c->connections; i++) {
		for (size_t j = 0; j < u->conns[i].n_reqs; j++)
			rep->lost += u->conns[i].reqs[j].is_counted;
	}
	rep->round_trip = series_summarize(&u->rtt);
	rep->queue = series_summarize(&u->queue);
	rep->exec = series_summarize(&u->exec);
	rep->total = series_summarize(&u->total);
	rep->elapsed_s = (double)u->c->duration_ms / 1000.0;
	rep->client_cpu_s = (double)(sys_cpu_us() - u->start_cpu_us) / 1e6;
	rep->client_wall_s = (double)(sys_now_ns() - u->start_ns) / 1e9;
	/* Answers that arrived in the counted part, not answers to requests
	 * sent in it: when the supervisor falls behind an open loop, those
	 * keep coming long after, and would show a rate it never served. */
	rep->throughput_per_s = (double)u->window_ok / rep->elapsed_s;
	sum_pool(rep);
}

static void
run_fini(struct run *u)
{
	for (unsigned i = 0; u->conns && i < u->c->connections; i++)
		conn_fini(&u->conns[i]);
	conn_fini(&u->status);
	free(u->conns);
	free(u->pfds);
	free(u->zipf_cdf);
	free(u->expected);
	free(u->rtt.values);
	free(u->queue.values);
	free(u->exec.values);
	free(u->total.values);
}

int
load_run(const struct load_config *c, struct load_report *ret)
{
	int r;

	r = check_config(c);
	if (r < 0)
		return r;
	/* Heap, not stack: the read buffer is in it. */
	struct run *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;

	r = run_init(u, c);
	if (r == 0) {
		run_start(u);
		r = run_loop(u);
	}
	if (r == 0) {
		run_finish(u);
		*ret = u->rep;
	} else {
		load_report_fini(&u->rep);
	}
	run_fini(u);
	free(u);
	return r;
}

void
load_report_fini(struct load_report *r)
{
	free(r->samples);
	r->samples = NULL;
	r->n_samples = 0;
}

/* ---- JSON ----------------------------------------------------------- */

/* Adds key: value to obj, taking value's reference; a value that could
 * not be built (NULL) or added clears *is_ok. */
static void
put(json_t *obj, const char *key, json_t *value, bool *is_ok)
{
	if (json_object_set_new(obj, key, value) < 0)
		*is_ok = false;
}

static json_t *
latency_json(const struct load_latency *l)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f}", "count",
			 (json_int_t)l->count, "median_us",
			 (json_int_t)l->median_us, "p90_us",
			 (json_int_t)l->p90_us, "p99_us", (json_int_t)l->p99_us,
			 "max_us", (json_int_t)l->max_us, "mean_us",
			 l->mean_us);
}

static json_t *
outcomes_json(const struct load_report *r)
{
	json_t *o = json_object();
	bool is_ok = o != NULL;

	for (unsigned i = 0; is_ok && i < OUTCOME_COUNT; i++) {
		if (r->by_outcome[i])
			put(o, outcome_name(i),
			    json_integer((json_int_t)r->by_outcome[i]), &is_ok);
	}
	if (!is_ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *const phase_names[] = {
	[LOAD_PHASE_WARMUP] = "warmup",
	[LOAD_PHASE_COUNTED] = "counted",
	[LOAD_PHASE_AFTER] = "after",
};

static json_t *
sample_json(const struct load_sample *s)
{
	return json_pack("{s:I, s:s, s:b, s:I, s:I, s:I, s:f, s:I, s:I, s:I}",
			 "t_ms", (json_int_t)s->t_ms, "phase",
			 phase_names[s->phase],
			 "has_status", s->has_status, "workers",
			 (json_int_t)s->workers, "busy", (json_int_t)s->busy,
			 "queued", (json_int_t)s->queued, "utilisation",
			 s->utilisation, "rss_bytes", (json_int_t)s->rss_bytes,
			 "proc_rss_bytes", (json_int_t)s->proc_rss_bytes,
			 "status_us", (json_int_t)s->status_us);
}

static json_t *
samples_json(const struct load_report *r)
{
	json_t *a = json_array();
	bool is_ok = a != NULL;

	for (size_t i = 0; is_ok && i < r->n_samples; i++) {
		if (json_array_append_new(a, sample_json(&r->samples[i])) < 0)
			is_ok = false;
	}
	if (!is_ok) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *
pool_json(const struct load_report *r)
{
	return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o}",
			 "utilisation_mean", r->utilisation_mean, "busy_mean",
			 r->busy_mean, "workers_max",
			 (json_int_t)r->workers_max, "workers_final",
			 (json_int_t)r->workers_final, "rss_max_bytes",
			 (json_int_t)r->rss_max_bytes, "proc_rss_max_bytes",
			 (json_int_t)r->proc_rss_max_bytes, "samples_missed",
			 (json_int_t)r->samples_missed, "status_max_us",
			 (json_int_t)r->status_max_us, "status_mean_us",
			 r->status_mean_us, "samples",
			 samples_json(r));
}

static json_t *
counts_json(const struct load_report *r)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:I}",
			 "sent", (json_int_t)r->sent, "ok", (json_int_t)r->ok,
			 "wrong", (json_int_t)r->wrong, "errors",
			 (json_int_t)r->errors, "cut", (json_int_t)r->cut,
			 "lost", (json_int_t)r->lost, "unsent",
			 (json_int_t)r->unsent, "refused",
			 (json_int_t)r->refused, "closed",
			 (json_int_t)r->closed, "connect_failures",
			 (json_int_t)r->connect_failures, "stray",
			 (json_int_t)r->stray);
}

int
load_report_json(const struct load_report *r, json_t **ret)
{
	json_t *o = counts_json(r);
	bool is_ok = o != NULL;

	if (o) {
		put(o, "errors_by_outcome", outcomes_json(r), &is_ok);
		put(o, "elapsed_s", json_real(r->elapsed_s), &is_ok);
		put(o, "throughput_per_s", json_real(r->throughput_per_s),
		    &is_ok);
		put(o, "client_cpu_s", json_real(r->client_cpu_s), &is_ok);
		put(o, "client_wall_s", json_real(r->client_wall_s), &is_ok);
		put(o, "round_trip", latency_json(&r->round_trip), &is_ok);
		put(o, "queue", latency_json(&r->queue), &is_ok);
		put(o, "exec", latency_json(&r->exec), &is_ok);
		put(o, "total", latency_json(&r->total), &is_ok);
		put(o, "pool", pool_json(r), &is_ok);
	}
	if (!is_ok) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

static json_t *
row_json(const struct load_row *w)
{
	return json_pack("{s:I, s:f, s:f, s:I, s:f, s:I, s:I, s:f, s:I, s:I,"
			 " s:I, s:I, s:I}",
			 "tenants", (json_int_t)w->tenants,
			 "round_trip_mean_us", w->round_trip_mean_us,
			 "exec_mean_us", w->exec_mean_us, "rss_max_bytes",
			 (json_int_t)w->rss_max_bytes, "utilisation_mean",
			 w->utilisation_mean, "median_us",
			 (json_int_t)w->median_us, "p99_us",
			 (json_int_t)w->p99_us, "throughput_per_s",
			 w->throughput_per_s, "workers_max",
			 (json_int_t)w->workers_max, "errors",
			 (json_int_t)w->errors, "wrong", (json_int_t)w->wrong,
			 "lost", (json_int_t)w->lost, "survivors",
			 (json_int_t)w->survivors);
}

int
load_table_json(const struct load_row *rows, size_t n, json_t **ret)
{
	json_t *a = json_array();
	bool is_ok = a != NULL;

	for (size_t i = 0; is_ok && i < n; i++) {
		if (json_array_append_new(a, row_json(&rows[i])) < 0)
			is_ok = false;
	}
	if (!is_ok) {
		json_decref(a);
		return -ENOMEM;
	}
	*ret = a;
	return 0;
}

/* ---- Text ----------------------------------------------------------- */

static double
mib_of(uint64_t bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

static void
print_counts(const struct load_report *r, FILE *out)
{
	fprintf(out, "requests: %llu sent, %llu ok, %llu wrong, %llu errors, %llu cut, %llu lost, %llu unsent\n",
		(unsigned long long)r->sent, (unsigned long long)r->ok,
		(unsigned long long)r->wrong, (unsigned long long)r->errors,
		(unsigned long long)r->cut, (unsigned long long)r->lost,
		(unsigned long long)r->unsent);
	if (r->errors) {
		fprintf(out, "errors by outcome:");
		for (unsigned i = 0; i < OUTCOME_COUNT; i++) {
			if (r->by_outcome[i])
				fprintf(out, " %s %llu", outcome_name(i),
					(unsigned long long)r->by_outcome[i]);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "connections: %llu refused, %llu ended by the supervisor, %llu failed connects; %llu stray answers\n",
		(unsigned long long)r->refused, (unsigned long long)r->closed,
		(unsigned long long)r->connect_failures,
		(unsigned long long)r->stray);
	fprintf(out, "counted: %.3f s, %.1f ok answers per second; this client used %.1f %% of a core over the whole run\n",
		r->elapsed_s, r->throughput_per_s,
		100.0 * r->client_cpu_s /
			(r->client_wall_s > 0 ? r->client_wall_s : 1));
}

static void
print_latency(const char *label, const struct load_latency *l, FILE *out)
{
	fprintf(out, "%-20s %9llu %9llu %9llu %9llu %9llu %10.1f\n", label,
		(unsigned long long)l->count, (unsigned long long)l->median_us,
		(unsigned long long)l->p90_us, (unsigned long long)l->p99_us,
		(unsigned long long)l->max_us, l->mean_us);
}

static void
print_latencies(const struct load_report *r, FILE *out)
{
	fprintf(out, "%-20s %9s %9s %9s %9s %9s %10s\n", "latency (us)",
		"count", "median", "p90", "p99", "max", "mean");
	print_latency("client round trip", &r->round_trip, out);
	print_latency("supervisor queue", &r->queue, out);
	print_latency("supervisor exec", &r->exec, out);
	print_latency("supervisor total", &r->total, out);
}

static void
print_sample(const struct load_sample *s, FILE *out)
{
	fprintf(out, "%8llu %-7s ", (unsigned long long)s->t_ms,
		phase_names[s->phase]);
	if (!s->has_status)
		fprintf(out, "%7s %6s %6s %6s %9s", "-", "-", "-", "-", "-");
	else
		fprintf(out, "%7u %6u %6u %6.3f %9.1f", s->workers, s->busy,
			s->queued, s->utilisation, mib_of(s->rss_bytes));
	fprintf(out, " %9.1f", mib_of(s->proc_rss_bytes));
	if (s->status_us)
		fprintf(out, " %9llu\n", (unsigned long long)s->status_us);
	else
		fprintf(out, " %9s\n", "-");
}

/* At most LOAD_PRINT_SAMPLES_MAX rows, evenly spread, and the last. */
static void
print_samples(const struct load_report *r, FILE *out)
{
	size_t n = r->n_samples;
	size_t step = (n + LOAD_PRINT_SAMPLES_MAX - 1) / LOAD_PRINT_SAMPLES_MAX;

	if (n == 0)
		return;
	fprintf(out, "%8s %-7s %7s %6s %6s %6s %9s %9s %9s\n", "t_ms",
		"phase", "workers", "busy", "queued", "util", "rss_MiB",
		"proc_MiB", "status_us");
	for (size_t i = 0; i < n; i += step)
		print_sample(&r->samples[i], out);
	if ((n - 1) % step != 0)
		print_sample(&r->samples[n - 1], out);
}

static void
print_pool(const struct load_report *r, FILE *out)
{
	bool has_final = r->n_samples > 0 &&
			 r->samples[r->n_samples - 1].has_status;
	char final[24] = "unknown";

	if (has_final)
		(void)snprintf(final, sizeof(final), "%u", r->workers_final);
	fprintf(out, "pool: workers max %u, final %s; utilisation mean %.3f (the supervisor's), busy/workers mean %.3f; worker RSS max %.1f MiB (status), %.1f MiB (/proc); %zu samples, %zu unanswered\n",
		r->workers_max, final, r->utilisation_mean, r->busy_mean,
		mib_of(r->rss_max_bytes), mib_of(r->proc_rss_max_bytes),
		r->n_samples, r->samples_missed);
	fprintf(out, "status queries: round trip mean %.0f us, max %llu us\n",
		r->status_mean_us, (unsigned long long)r->status_max_us);
}

void
load_report_print(const struct load_report *r, FILE *out)
{
	print_counts(r, out);
	print_latencies(r, out);
	print_pool(r, out);
	print_samples(r, out);
}

void
load_table_print(const struct load_row *rows, size_t n, FILE *out)
{
	fprintf(out, "%7s %10s %10s %9s %6s %8s %8s %9s %7s %6s %5s %5s %9s\n",
		"tenants", "rt_mean_us", "exec_mean", "rss_MiB", "util",
		"p50_us", "p99_us", "ok_per_s", "workers", "errors", "wrong",
		"lost", "survivors");
	for (size_t i = 0; i < n; i++) {
		const struct load_row *w = &rows[i];

		fprintf(out, "%7u %10.1f %10.1f %9.1f %6.3f %8llu %8llu %9.1f %7u %6llu %5llu %5llu %9u\n",
			w->tenants, w->round_trip_mean_us, w->exec_mean_us,
			mib_of(w->rss_max_bytes), w->utilisation_mean,
			(unsigned long long)w->median_us,
			(unsigned long long)w->p99_us, w->throughput_per_s,
			w->workers_max, (unsigned long long)w->errors,
			(unsigned long long)w->wrong,
			(unsigned long long)w->lost, w->survivors);
	}
}

pid_t
load_supervisor_pid(const char *socket_path)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);

	int fd = remote_connect_nonblock(socket_path);
	if (fd < 0)
		return 0;
	int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);
	(void)close(fd);
	return r < 0 ? 0 : cred.pid;
}

/* ---- The multi-tenant table ----------------------------------------- */

/* pidfd_open(2) (Linux 5.3): a process that is not our child can still
 * be waited for, as an fd that poll finds readable once it has exited.
 * Returns the fd, -ESRCH when it is gone, or another -errno. */
static int
open_pidfd(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

/* Polls the pidfds until all have exited or the deadline; each one that
 * has is closed and set to -1. */
static void
wait_pidfds(struct pollfd *pfds, size_t n, int timeout_ms)
{
	uint64_t deadline = sys_now_ns() +
			    (uint64_t)timeout_ms * LOAD_NS_PER_MS;

	for (;;) {
		size_t left = 0;

		for (size_t i = 0; i < n; i++) {
			if (pfds[i].fd >= 0 && pfds[i].revents) {
				(void)close(pfds[i].fd);
				pfds[i].fd = -1;
			}
			left += pfds[i].fd >= 0;
		}
		uint64_t now = sys_now_ns();
		if (left == 0 || now >= deadline)
			return;
		int wait_ms = (int)((deadline - now) / LOAD_NS_PER_MS) + 1;
		if (poll(pfds, n, wait_ms) < 0 && errno != EINTR)
			return;
	}
}

unsigned
load_count_alive(const pid_t *pids, size_t n, int timeout_ms)
{
	struct pollfd *pfds = calloc(n ? n : 1, sizeof(*pfds));
	unsigned alive = 0;

	for (size_t i = 0; i < n; i++) {
		int fd = pfds ? open_pidfd(pids[i]) : -ENOMEM;

		/* Without pidfds, only a look at this moment. */
		if (fd < 0 && fd != -ESRCH && kill(pids[i], 0) == 0)
			alive++;
		if (pfds)
			pfds[i] = (struct pollfd){ .fd = fd < 0 ? -1 : fd,
						   .events = POLLIN };
	}
	if (!pfds)
		return alive;
	wait_pidfds(pfds, n, timeout_ms);
	for (size_t i = 0; i < n; i++) {
		if (pfds[i].fd >= 0) {
			alive++;
			(void)close(pfds[i].fd);
		}
	}
	free(pfds);
	return alive;
}

static void
fill_row(unsigned tenants, const struct load_report *r, struct load_row *w)
{
	*w = (struct load_row){
		.tenants = tenants,
		.round_trip_mean_us = r->round_trip.mean_us,
		.exec_mean_us = r->exec.mean_us,
		.rss_max_bytes = r->proc_rss_max_bytes ? r->proc_rss_max_bytes :
							 r->rss_max_bytes,
		.utilisation_mean = r->utilisation_mean,
		.median_us = r->round_trip.median_us,
		.p99_us = r->round_trip.p99_us,
		.throughput_per_s = r->throughput_per_s,
		.workers_max = r->workers_max,
		.errors = r->errors,
		.wrong = r->wrong,
		.lost = r->lost + r->cut + r->unsent,
	};
}

/* Stops the supervisor and counts its workers still alive after. */
static int
stop_supervisor(struct harness *h, unsigned *ret_survivors)
{
	pid_t *pids = calloc(LOAD_CHILDREN_MAX, sizeof(*pids));
	size_t n = pids ? harness_children(h, pids, LOAD_CHILDREN_MAX) : 0;

	int status = harness_stop(h, LOAD_STOP_TIMEOUT_MS);
	*ret_survivors = load_count_alive(pids, n, LOAD_SURVIVOR_WAIT_MS);
	free(pids);
	if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "load: the supervisor did not stop cleanly status=%d\n",
			status);
		return -ECHILD;
	}
	return 0;
}

int
load_run_fresh(const struct load_config *base, unsigned workers,
	       const char *const *args, struct load_report *ret,
	       unsigned *ret_survivors)
{
	struct load_config c = *base;
	struct harness h;

	int r = harness_start(&h, workers, args);
	if (r < 0) {
		fprintf(stderr, "load: cannot start '%s': %s\n",
			harness_supervisor_path(), strerror(-r));
		return r;
	}
	c.socket_path = h.socket;
	c.supervisor_pid = h.pid;
	c.harness = &h;
	r = load_run(&c, ret);
	if (r < 0)
		fprintf(stderr, "load: the run with %u tenants failed: %s\n",
			c.tenants, strerror(-r));
	int stop_r = stop_supervisor(&h, ret_survivors);
	if (r == 0 && stop_r < 0)
		load_report_fini(ret);
	return r < 0 ? r : stop_r;
}

/* One row: a fresh supervisor, one run, the supervisor stopped. */
static int
table_row(const struct load_config *base, unsigned workers,
	  const char *const *args, unsigned tenants, FILE *out,
	  struct load_row *w)
{
	struct load_config c = *base;
	struct load_report rep;
	unsigned survivors;

	c.tenants = tenants;
	int r = load_run_fresh(&c, workers, args, &rep, &survivors);
	if (r < 0)
		return r;

	if (out) {
		fprintf(out, "\n%u tenants:\n", tenants);
		load_report_print(&rep, out);
		(void)fflush(out);
	}
	fill_row(tenants, &rep, w);
	w->survivors = survivors;
	load_report_fini(&rep);
	return 0;
}

int
load_table(const struct load_config *base, unsigned workers,
	   const char *const *args, const unsigned *counts, size_t n,
	   FILE *out, struct load_row **ret_rows)
{
	struct load_row *rows = calloc(n ? n : 1, sizeof(*rows));
	int r = 0;

	if (!rows)
		return -ENOMEM;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = table_row(base, workers, args, counts[i], out, &rows[i]);
	if (r < 0) {
		free(rows);
		return r;
	}
	*ret_rows = rows;
	return 0;
}
