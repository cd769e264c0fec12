/* SPDX-License-Identifier: MIT */
/*
 * Client connections on the supervisor's Unix socket: frames in, requests
 * to the pool, responses out. Supervisor only, on its event loop.
 */
#ifndef BEDDEL_SUPERVISOR_CLIENT_H
#define BEDDEL_SUPERVISOR_CLIENT_H

#include <stddef.h>

#include <event2/util.h>

struct event_base;
struct monitor;
struct pool;
struct client_hub;
struct proto_frame;

#define CLIENT_MAX_DEFAULT 1024
/* Requests one connection may have queued or running at once; past it
 * the supervisor stops reading that connection until answers go out. */
#define CLIENT_IN_FLIGHT_MAX 256
/* Bytes of responses one connection may have unsent or on the way: its
 * output buffer plus, for each request in flight, the largest result it
 * could bring. Past it the supervisor reads no more requests from that
 * connection, so a client that does not read its answers holds at most
 * this much of the supervisor's memory. */
#define CLIENT_OUTPUT_BUDGET (32u * 1024u * 1024u)
/* Unread output a subscribed connection may hold before events to it are
 * dropped (and counted, and said in a "dropped" event). */
#define CLIENT_EVENT_BUDGET (1024u * 1024u)
/* Default time after which a connection that stopped part way through a
 * frame is closed. */
#define CLIENT_STALL_MS_DEFAULT 10000

struct client_limits {
	size_t frame_max_bytes;	  /* the largest frame a client may send */
	size_t result_max_bytes;  /* the largest result a request may bring */
	unsigned max_clients;	  /* connections at once */
	unsigned stall_ms;	  /* silence allowed inside a frame, or with
				   * answers unread */
};

/* All client connections of one supervisor. Returns NULL when out of
 * memory. */
struct client_hub *client_hub_new(struct event_base *base, struct pool *pool,
				  struct monitor *monitor,
				  const struct client_limits *limits);

/* Takes ownership of a newly accepted, non-blocking socket. */
void client_hub_accept(struct client_hub *hub, evutil_socket_t fd);

/* Closes every connection once its pending responses are written (or
 * after a grace period), then calls done(arg). */
void client_hub_close_all(struct client_hub *hub, void (*done)(void *arg),
			  void *arg);

/* Sends an event frame to every subscribed connection. */
void client_hub_broadcast(struct client_hub *hub, const struct proto_frame *f);

/* Closes everything at once, without telling the pool: call it after
 * pool_free(). Accepts NULL. */
void client_hub_free(struct client_hub *hub);

#endif
