/* SPDX-License-Identifier: MIT */
/*
 * beddel-run without a supervisor: a pool of exactly one worker on a
 * private event loop. The worker is spawned, sandboxed, dispatched to,
 * timed out and reaped by the same code as in the daemon, so that a
 * script behaves the same either way. A script that is not ES5.1 goes to
 * one transform worker, started only then.
 */
#include "supervisor/local.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "supervisor/pool.h"
#include "supervisor/transform.h"

struct local {
	struct event_base *base;
	struct pool *pool;
	struct transform *transform;
	struct proto_frame *response;
	int err;
};

static void
on_drained(void *arg)
{
	struct local *l = arg;

	(void)event_base_loopexit(l->base, NULL);
}

static void
on_done(void *owner, const struct proto_result *res)
{
	struct local *l = owner;

	l->err = proto_encode_result_or_internal(res, l->response);
	pool_drain(l->pool, on_drained, l);
}

/* A response for a request the pool refused, shaped like the pool's. */
static int
refusal(const struct proto_exec *req, enum outcome kind, const char *why,
	struct proto_frame *ret_frame)
{
	struct proto_result res = proto_result_error(req->has_id, req->id, kind,
						     why);

	return proto_encode_result(&res, ret_frame);
}

int
local_run(const struct pool_config *cfg, const struct proto_exec *req,
	  struct proto_frame *ret_frame)
{
	struct pool_config one = *cfg;
	struct local l = { .response = ret_frame };
	char why[160];
	int r;

	one.min_workers = 1;
	one.max_workers = 1;

	/* The limit a supervisor puts on a client's frame, with its default,
	 * so that a script behaves the same alone. */
	struct proto_frame f;
	r = proto_encode_exec(req, &f);
	if (r < 0)
		return r;
	size_t len = f.len - IPC_HEADER_BYTES;
	proto_frame_fini(&f);
	if (len > IPC_FRAME_MAX_DEFAULT) {
		ipc_describe_oversize(len, IPC_FRAME_MAX_DEFAULT, why,
				      sizeof(why));
		/* Without an id, as from a supervisor, which cannot read the
		 * id of a frame it does not take. */
		struct proto_result res = proto_result_error(false, 0,
							     OUTCOME_TOO_LARGE, why);
		return proto_encode_result(&res, ret_frame);
	}
	l.base = event_base_new();
	if (!l.base)
		return -ENOMEM;
	/* Not started: its worker is spawned by the first script that
	 * needs it, so that an ES5 script does not wait for the compiler
	 * to load. */
	const struct transform_config tc = {
		.worker_path = cfg->worker_path,
		.max_workers = 1,
		.cache_max_bytes = 0,
		.is_namespaces_off = cfg->is_namespaces_off,
	};
	l.transform = transform_new(l.base, &tc);
	one.transform = l.transform;
	l.pool = l.transform ? pool_new(l.base, &one) : NULL;
	if (!l.pool) {
		r = -ENOMEM;
		goto out;
	}

	r = pool_submit(l.pool, req, on_done, &l, why, sizeof(why));
	if (r == -EINVAL || r == -E2BIG || r == -EPERM) {
		r = refusal(req, pool_submit_error_kind(r), why, ret_frame);
		goto out;
	}
	if (r < 0)
		goto out;
	r = event_base_dispatch(l.base) < 0 ? -EIO : l.err;
out:
	pool_free(l.pool);
	transform_free(l.transform);
	event_base_free(l.base);
	return r;
}
