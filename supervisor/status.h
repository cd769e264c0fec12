/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's answers to `status` and `metrics` requests: the pool's
 * figures and the monitor's statistics, as a msgpack map or as Prometheus
 * text (docs/PROTOCOL.md, section "Status and metrics"). Supervisor event
 * loop only.
 */
#ifndef BEDDEL_SUPERVISOR_STATUS_H
#define BEDDEL_SUPERVISOR_STATUS_H

#include <stddef.h>
#include <stdint.h>

struct monitor;
struct pool;
struct proto_frame;
struct proto_query;

/* Encodes the answer to a status request q (with its id; with one
 * tenant's statistics when q names one). now_us and started_us are on
 * the monotonic clock. Returns 0, or -ENOMEM / -E2BIG. */
int status_encode(const struct pool *pool, const struct monitor *monitor,
		  const struct proto_query *q, uint64_t now_us,
		  uint64_t started_us, struct proto_frame *ret_frame);

/* Encodes the answer to a metrics request q: the text exposition format
 * as one string. Returns 0, or -ENOMEM / -E2BIG. */
int status_encode_metrics(const struct pool *pool,
			  const struct monitor *monitor,
			  const struct proto_query *q,
			  struct proto_frame *ret_frame);

#endif
