/* SPDX-License-Identifier: MIT */
/*
 * Events for subscribers (docs/PROTOCOL.md, "subscribe"): alerts, sizing
 * decisions, worker deaths and slow executions, each a name and a few
 * fields. The pool and the server make them; the client hub sends them
 * to every subscribed connection. Supervisor event loop only.
 */
#ifndef BEDDEL_SUPERVISOR_EVENTS_H
#define BEDDEL_SUPERVISOR_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct proto_frame;

/* One field: text, or (text NULL) a number. */
struct events_field {
	const char *key;
	const char *text;
	uint64_t number;
};

typedef void (*events_fn)(const char *event, const struct events_field *f,
			  size_t n, void *arg);

/* Encodes {type: "event", event, time_ms, fields: {...}}, with time_ms
 * the wall clock in milliseconds. Returns 0, -ENOMEM or -E2BIG. */
int events_encode(const char *event, const struct events_field *f, size_t n,
		  struct proto_frame *ret_frame);

#endif
