/* SPDX-License-Identifier: MIT */
/*
 * Client connections. Clients are untrusted: a frame that is oversized,
 * empty, not msgpack, not an exec or not a valid exec gets a typed error
 * reply and the connection goes on; a connection that stalls inside a
 * frame, or that fails, is closed and its requests forgotten by the pool.
 * Nothing a client sends ends the supervisor or holds up other clients:
 * each connection is bounded in requests in flight and in unsent output.
 */
#include "supervisor/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "supervisor/events.h"
#include "supervisor/evframe.h"
#include "supervisor/pool.h"
#include "supervisor/status.h"

#define CLIENT_CLOSE_GRACE_MS 5000
/* A response's error text and stats, beyond its value. */
#define CLIENT_RESPONSE_SLACK_BYTES (64u * 1024u)

struct client {
	TAILQ_ENTRY(client) link;
	struct client_hub *hub;
	unsigned id;
	struct bufferevent *bev;
	unsigned in_flight;
	size_t skip_bytes;
	bool is_read_closed;
	bool is_processing;
	bool is_broken; /* a response could not be queued: close it */
	bool is_subscribed; /* gets every event */
	uint64_t events_dropped; /* while its output was over budget */
	/* A frame that has begun must end within the stall timeout of its
	 * first byte, however slowly its bytes trickle in. */
	struct event *frame_timer;
	bool is_frame_timed;
};

struct client_hub {
	struct event_base *base;
	struct pool *pool;
	struct monitor *monitor;
	uint64_t started_us;
	struct client_limits limits;
	unsigned n_clients;
	unsigned next_id;
	TAILQ_HEAD(, client) clients;
	bool is_closing;
	void (*closed)(void *arg);
	void *closed_arg;
	struct event *grace;
};

static void close_client(struct client *c);

static void
maybe_all_closed(struct client_hub *hub)
{
	if (!hub->is_closing || hub->n_clients > 0 || !hub->closed)
		return;
	void (*closed)(void *) = hub->closed;
	hub->closed = NULL;
	(void)evtimer_del(hub->grace);
	closed(hub->closed_arg);
}

static bool
is_finished(const struct client *c)
{
	return (c->is_read_closed || c->hub->is_closing) && c->in_flight == 0 &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* Queues a whole frame (and releases it); a connection whose output
 * cannot take it is marked broken, since its stream would miss a frame. */
static void
queue_frame(struct client *c, struct proto_frame *f)
{
	if (bufferevent_write(c->bev, f->data, f->len) < 0) {
		log_error("client: out of memory queueing a response, closing client=%u",
			  c->id);
		c->is_broken = true;
	}
	proto_frame_fini(f);
}

static void
send_frame(struct client *c, const struct proto_result *res)
{
	struct proto_frame f;

	if (proto_encode_result_or_internal(res, &f) < 0) {
		log_error("client: out of memory, closing client=%u", c->id);
		c->is_broken = true;
		return;
	}
	queue_frame(c, &f);
}

static void
reply_error(struct client *c, bool has_id, uint64_t id, enum outcome kind,
	    const char *why)
{
	struct proto_result res = proto_result_error(has_id, id, kind, why);

	send_frame(c, &res);
}

static void process_input(struct client *c);

static void
on_done(void *owner, const struct proto_result *res)
{
	struct client *c = owner;

	c->in_flight--;
	send_frame(c, res);
	if (c->is_broken)
		close_client(c);
	else if (!c->is_read_closed && !c->hub->is_closing)
		process_input(c);
}

/* Marks c as a subscriber and encodes the acknowledgement, which names
 * the events it will get. */
static int
subscribe(struct client *c, const struct proto_query *q,
	  struct proto_frame *ret_frame)
{
	static const char *const names[] = { "alert", "scale", "worker_death",
					     "slow", "dropped" };
	struct proto_writer *w = proto_writer_new(256);
	size_t len;

	if (!w)
		return -ENOMEM;
	(void)proto_write_array(w, UTIL_ARRAY_SIZE(names));
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(names); i++)
		(void)proto_write_str(w, names[i], strlen(names[i]));
	const uint8_t *data = proto_writer_data(w, &len);
	int r = proto_writer_status(w);
	if (r == 0)
		r = proto_encode_report(PROTO_MSG_SUBSCRIBED, q->has_id, q->id,
					"events", data, len, ret_frame);
	proto_writer_free(w);
	if (r == 0) {
		c->is_subscribed = true;
		log_info("client: subscribed to events client=%u", c->id);
	}
	return r;
}

/* Answers a status, metrics or subscribe request at once: they read
 * figures the supervisor holds, and run no script. */
static void
answer_query(struct client *c, const struct proto_msg *m, bool has_id,
	     uint64_t id)
{
	struct proto_query q;
	struct proto_frame f;
	const char *why;
	int r;

	if (proto_msg_query(m, &q, &why) < 0) {
		reply_error(c, has_id, id, OUTCOME_BAD_REQUEST, why);
		return;
	}
	/* The same rule as for an exec: a name with a NUL byte would be
	 * looked up cut short, as another tenant's. */
	if (q.tenant && !pool_is_valid_tenant(q.tenant, q.tenant_len)) {
		reply_error(c, q.has_id, q.id, OUTCOME_BAD_REQUEST,
			    POOL_TENANT_RULE);
		return;
	}
	if (proto_msg_type(m) == PROTO_MSG_STATUS)
		r = status_encode(c->hub->pool, c->hub->monitor, &q,
				  sys_now_us(), c->hub->started_us, &f);
	else if (proto_msg_type(m) == PROTO_MSG_METRICS)
		r = status_encode_metrics(c->hub->pool, c->hub->monitor, &q, &f);
	else
		r = subscribe(c, &q, &f);
	if (r < 0) {
		reply_error(c, q.has_id, q.id, OUTCOME_INTERNAL,
			    "the supervisor could not build the answer");
		return;
	}
	queue_frame(c, &f);
}

static void
handle_request(struct client *c, uint8_t *buf, size_t len)
{
	struct proto_msg *m;
	struct proto_exec exec;
	const char *why;
	char reason[160];
	uint64_t id = 0;

	int r = proto_msg_decode(buf, len, &m, &why);
	if (r < 0) {
		log_info("client: bad frame: %s client=%u", why, c->id);
		reply_error(c, false, 0,
			    r == -ENOMEM ? OUTCOME_INTERNAL : OUTCOME_BAD_REQUEST,
			    why);
		return;
	}
	bool has_id = proto_msg_peek_id(m, &id);
	if (proto_msg_type(m) == PROTO_MSG_STATUS ||
	    proto_msg_type(m) == PROTO_MSG_METRICS ||
	    proto_msg_type(m) == PROTO_MSG_SUBSCRIBE) {
		answer_query(c, m, has_id, id);
		proto_msg_free(m);
		return;
	}
	if (proto_msg_type(m) != PROTO_MSG_EXEC) {
		why = "a client may send 'exec', 'status', 'metrics' and 'subscribe' messages";
		goto bad;
	}
	if (proto_msg_exec(m, &exec, &why) < 0)
		goto bad;

	r = pool_submit(c->hub->pool, &exec, on_done, c, reason,
			sizeof(reason));
	if (r == 0) {
		c->in_flight++;
	} else {
		log_info("client: request refused: %s client=%u", reason,
			 c->id);
		reply_error(c, has_id, id, pool_submit_error_kind(r), reason);
	}
	proto_msg_free(m);
	return;

bad:
	log_info("client: bad request: %s client=%u", why, c->id);
	reply_error(c, has_id, id, OUTCOME_BAD_REQUEST, why);
	proto_msg_free(m);
}

static bool
skip_oversized(struct client *c, struct evbuffer *in)
{
	size_t n = evbuffer_get_length(in);

	if (n > c->skip_bytes)
		n = c->skip_bytes;
	(void)evbuffer_drain(in, n);
	c->skip_bytes -= n;
	return c->skip_bytes == 0;
}

/* Whether one more request fits the connection's output budget, counting
 * each request in flight at its largest possible result. */
static bool
has_room(const struct client *c)
{
	size_t out = evbuffer_get_length(bufferevent_get_output(c->bev));
	size_t each = c->hub->limits.result_max_bytes + IPC_HEADER_BYTES +
		      CLIENT_RESPONSE_SLACK_BYTES;

	if (c->in_flight == 0)
		return out < CLIENT_OUTPUT_BUDGET;
	return c->in_flight < CLIENT_IN_FLIGHT_MAX &&
	       out + (c->in_flight + 1) * each <= CLIENT_OUTPUT_BUDGET;
}

static void
handle_frame_error(struct client *c, int r, size_t len)
{
	char why[128];

	if (r == -EMSGSIZE) {
		ipc_describe_oversize(len, c->hub->limits.frame_max_bytes, why,
				      sizeof(why));
		log_info("client: frame too large client=%u bytes=%zu", c->id,
			 len);
		reply_error(c, false, 0, OUTCOME_TOO_LARGE, why);
		c->skip_bytes = len;
	} else if (r == -EBADMSG) {
		reply_error(c, false, 0, OUTCOME_BAD_REQUEST, "empty frame");
	} else {
		/* The frame is still buffered; without memory to take it off,
		 * the connection cannot go on. */
		log_error("client: out of memory reading a frame, closing client=%u",
			  c->id);
		c->is_broken = true;
	}
}

/* Arms the frame deadline when a frame has begun and not ended while c
 * is being read (from its first byte; again after a frame ended), and
 * disarms it otherwise: a client whose reading the supervisor paused is
 * not the one stalling. */
static void
time_partial_frame(struct client *c, bool is_reading, bool has_pulled)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bool is_partial = evbuffer_get_length(in) > 0 || c->skip_bytes > 0;

	if (!is_reading || !is_partial) {
		(void)evtimer_del(c->frame_timer);
		c->is_frame_timed = false;
		return;
	}
	if (c->is_frame_timed && !has_pulled)
		return;
	struct timeval tv = util_timeval_from_ms(c->hub->limits.stall_ms);
	(void)evtimer_add(c->frame_timer, &tv);
	c->is_frame_timed = true;
}

/* Handles every whole frame buffered from c while it has room; stops
 * reading the socket when it has none. */
static void
process_input(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bool is_reading = true, has_pulled = false;

	if (c->is_processing)
		return;
	c->is_processing = true;
	for (;;) {
		if (c->skip_bytes > 0 && !skip_oversized(c, in))
			break;
		if (!has_room(c)) {
			(void)bufferevent_disable(c->bev, EV_READ);
			is_reading = false;
			break;
		}
		(void)bufferevent_enable(c->bev, EV_READ);

		uint8_t *buf;
		size_t len;
		int r = evframe_pull(in, c->hub->limits.frame_max_bytes, &buf, &len);
		if (r == 0)
			break;
		has_pulled = true;
		if (r < 0)
			handle_frame_error(c, r, len);
		else
			handle_request(c, buf, len);
		if (c->is_broken)
			break;
	}
	c->is_processing = false;
	if (!c->is_broken)
		time_partial_frame(c, is_reading, has_pulled);
}

static void
on_frame_timer(evutil_socket_t fd, short events, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)events;
	log_info("client: stalled inside a frame, closing client=%u",
		 c->id);
	close_client(c);
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	process_input(c);
	if (c->is_broken)
		close_client(c);
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	(void)bev;
	if (is_finished(c)) {
		close_client(c);
		return;
	}
	if (!c->is_read_closed && !c->hub->is_closing)
		process_input(c);
}

static void
on_event(struct bufferevent *bev, short events, void *arg)
{
	struct client *c = arg;

	if ((events & BEV_EVENT_TIMEOUT) && (events & BEV_EVENT_WRITING)) {
		log_info("client: reads none of its answers, closing client=%u unsent_bytes=%zu",
			 c->id, evbuffer_get_length(bufferevent_get_output(bev)));
		close_client(c);
		return;
	}
	if (events & BEV_EVENT_TIMEOUT) {
		/* Quiet between frames is fine; inside a frame the frame's
		 * own deadline (on_frame_timer) decides. */
		(void)bufferevent_enable(bev, EV_READ);
		return;
	}
	if (events & BEV_EVENT_ERROR) {
		log_info("client: connection failed client=%u in_flight=%u",
			 c->id, c->in_flight);
		close_client(c);
		return;
	}
	if (events & BEV_EVENT_EOF) {
		/* The peer will send no more; answer what it asked, then
		 * close. */
		c->is_read_closed = true;
		(void)bufferevent_disable(bev, EV_READ);
		/* A half frame will never be finished; the answers to the
		 * whole ones before it are still owed. */
		(void)evtimer_del(c->frame_timer);
		if (is_finished(c))
			close_client(c);
	}
}

static void
close_client(struct client *c)
{
	struct client_hub *hub = c->hub;

	log_debug("client: closed client=%u", c->id);
	/* Out of the list before the pool hears of it: cancelling may end a
	 * drain, whose callback closes every client still listed. */
	TAILQ_REMOVE(&hub->clients, c, link);
	hub->n_clients--;
	bufferevent_free(c->bev);
	event_free(c->frame_timer);
	if (hub->pool)
		pool_cancel_owner(hub->pool, c);
	free(c);
	maybe_all_closed(hub);
}

static void
refuse(evutil_socket_t fd, const char *why)
{
	struct proto_result res = proto_result_error(false, 0, OUTCOME_OVERLOADED,
						     why);
	struct proto_frame f;

	/* Best effort on a fresh socket whose buffer is empty. */
	if (proto_encode_result(&res, &f) == 0) {
		(void)write(fd, f.data, f.len);
		proto_frame_fini(&f);
	}
	(void)close(fd);
}

void
client_hub_accept(struct client_hub *hub, evutil_socket_t fd)
{
	if (hub->is_closing) {
		refuse(fd, "the supervisor is shutting down");
		return;
	}
	if (hub->n_clients >= hub->limits.max_clients) {
		log_warn("client: too many connections, refusing one max_clients=%u",
			 hub->limits.max_clients);
		refuse(fd, "too many client connections");
		return;
	}

	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		(void)close(fd);
		return;
	}
	c->hub = hub;
	c->id = ++hub->next_id;
	c->bev = bufferevent_socket_new(hub->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->frame_timer = evtimer_new(hub->base, on_frame_timer, c);
	if (!c->bev || !c->frame_timer) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			(void)close(fd);
		if (c->frame_timer)
			event_free(c->frame_timer);
		free(c);
		return;
	}
	struct timeval stall = util_timeval_from_ms(hub->limits.stall_ms);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* The write callback runs each time output drains; the write
	 * timeout fires when output waits and the client reads nothing. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	(void)bufferevent_set_timeouts(c->bev, &stall, &stall);
	(void)bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&hub->clients, c, link);
	hub->n_clients++;
	log_debug("client: connected client=%u", c->id);
}

static void
on_grace(evutil_socket_t fd, short events, void *arg)
{
	struct client_hub *hub = arg;
	struct client *c, *next;

	(void)fd;
	(void)events;
	TAILQ_FOREACH_SAFE(c, &hub->clients, link, next)
	{
		log_info("client: closing with output unsent client=%u", c->id);
		close_client(c);
	}
}

void
client_hub_close_all(struct client_hub *hub, void (*done)(void *arg),
		     void *arg)
{
	struct client *c, *next;
	struct timeval tv = util_timeval_from_ms(CLIENT_CLOSE_GRACE_MS);

	hub->is_closing = true;
	hub->closed = done;
	hub->closed_arg = arg;
	(void)evtimer_add(hub->grace, &tv);
	TAILQ_FOREACH_SAFE(c, &hub->clients, link, next)
	{
		(void)bufferevent_disable(c->bev, EV_READ);
		/* Reading is over: a frame left half sent is not waited for,
		 * and does not cut short the answers still being written. */
		(void)evtimer_del(c->frame_timer);
		if (is_finished(c))
			close_client(c);
	}
	maybe_all_closed(hub);
}

struct client_hub *
client_hub_new(struct event_base *base, struct pool *pool,
	       struct monitor *monitor, const struct client_limits *limits)
{
	struct client_hub *hub = calloc(1, sizeof(*hub));
	if (!hub)
		return NULL;
	hub->base = base;
	hub->pool = pool;
	hub->monitor = monitor;
	hub->started_us = sys_now_us();
	hub->limits = *limits;
	TAILQ_INIT(&hub->clients);
	hub->grace = evtimer_new(base, on_grace, hub);
	if (!hub->grace) {
		free(hub);
		return NULL;
	}
	return hub;
}

/* Writes f to c, or counts it as dropped while c's unread output is over
 * CLIENT_EVENT_BUDGET; once under it again, c first gets a "dropped"
 * event with the count. */
static void
send_event(struct client *c, const struct proto_frame *f)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct proto_frame dropped;

	if (evbuffer_get_length(out) + f->len > CLIENT_EVENT_BUDGET) {
		c->events_dropped++;
		return;
	}
	if (c->events_dropped > 0) {
		const struct events_field field = { "count", NULL,
						    c->events_dropped };
		if (events_encode("dropped", &field, 1, &dropped) == 0) {
			(void)bufferevent_write(c->bev, dropped.data,
						dropped.len);
			proto_frame_fini(&dropped);
			c->events_dropped = 0;
		}
	}
	if (bufferevent_write(c->bev, f->data, f->len) < 0)
		c->events_dropped++;
}

void
client_hub_broadcast(struct client_hub *hub, const struct proto_frame *f)
{
	struct client *c;

	TAILQ_FOREACH(c, &hub->clients, link)
	{
		if (c->is_subscribed && !c->is_broken)
			send_event(c, f);
	}
}

void
client_hub_free(struct client_hub *hub)
{
	struct client *c, *next;

	if (!hub)
		return;
	/* The pool is freed first (server_teardown), so nothing may call
	 * back into it, nor it into us. */
	hub->closed = NULL;
	hub->pool = NULL;
	TAILQ_FOREACH_SAFE(c, &hub->clients, link, next)
		close_client(c);
	event_free(hub->grace);
	free(hub);
}
