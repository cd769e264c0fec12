/* SPDX-License-Identifier: MIT */
/*
 * The worker process: engine set-up, sandbox entry and the request loop.
 * It trusts the supervisor's frames only as far as proto.c checks them; a
 * frame it cannot read ends the worker (IPC_EXIT_PROTOCOL), since the
 * supervisor would never send one.
 */
#include "worker/worker.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/sys.h"
#include "worker/js.h"
#include "worker/sandbox.h"

static void
send_frame_or_exit(struct proto_frame *f)
{
	int r = sys_write_all(IPC_FD_RSP, f->data, f->len);
	proto_frame_fini(f);
	/* The supervisor is gone or closed our pipe: nobody to serve. */
	if (r < 0)
		_exit(IPC_EXIT_ORPHANED);
}

/* Turns the engine's answer into a result frame, or an internal error
 * when that cannot be built. */
static void
send_result(uint64_t id, const struct js_result *res)
{
	struct proto_result out = {
		.has_id = true,
		.id = id,
		.outcome = res->outcome,
		.value_raw = res->value,
		.value_raw_len = res->value_len,
		.message = res->message,
		.message_len = res->message_len,
		.stack = res->stack,
		.stack_len = res->stack_len,
		.line = res->line,
		.column = res->column,
		.logs_raw = res->logs,
		.logs_raw_len = res->logs_len,
		.logs_count = res->log_count,
		.is_logs_truncated = res->is_logs_truncated,
		.stats = {
			.exec_us = res->exec_us,
			.cpu_us = res->cpu_us,
			.heap_peak_bytes = res->heap_peak_bytes,
		},
	};
	struct proto_frame f;

	if (proto_encode_result_or_internal(&out, &f) < 0)
		_exit(IPC_EXIT_OOM);
	send_frame_or_exit(&f);
}

/* The script just called a restricted function: the supervisor learns it
 * before anything else the script may do, such as running until it has
 * to be killed. */
static void
send_restricted_call(const char *name)
{
	struct proto_frame f;

	if (proto_encode_restricted_call(name, &f) < 0)
		_exit(IPC_EXIT_OOM);
	send_frame_or_exit(&f);
}

/* The running script passed its slow threshold: where it is now. */
static void
send_slow(const char *stack, uint64_t elapsed_us)
{
	struct proto_frame f;

	if (proto_encode_slow(stack, elapsed_us, &f) < 0)
		_exit(IPC_EXIT_OOM);
	send_frame_or_exit(&f);
}

/* Tells the supervisor this worker can take a request: after start-up,
 * and again after each request once its next environment is built. */
static void
send_ready(struct js_engine *engine)
{
	struct proto_frame ready;

	if (proto_encode_ready(js_engine_heap_bytes(engine), &ready) < 0)
		_exit(IPC_EXIT_OOM);
	send_frame_or_exit(&ready);
}

static void
serve_one(struct js_engine *engine, uint8_t *buf, size_t len)
{
	struct proto_msg *msg;
	struct proto_exec exec;
	struct js_result res;
	const char *why;

	if (proto_msg_decode(buf, len, &msg, &why) < 0)
		_exit(IPC_EXIT_PROTOCOL);
	if (proto_msg_exec(msg, &exec, &why) < 0 || !exec.has_id ||
	    exec.result_max_bytes == 0 || exec.heap_limit_bytes == 0)
		_exit(IPC_EXIT_PROTOCOL);

	const struct js_request req = {
		.code = exec.code,
		.code_len = exec.code_len,
		.is_function = exec.is_function,
		.is_transformed = exec.is_transformed,
		.input = exec.input,
		.props = exec.props,
		.has_id = exec.has_request_id,
		.id = exec.request_id,
		.tenant = exec.tenant,
		.tenant_len = exec.tenant_len,
		.profile = exec.profile,
		.profile_len = exec.profile_len,
		.restricted = exec.restricted,
		.timeout_ms = exec.timeout_ms,
		.cpu_ms = exec.cpu_ms,
		.instructions_max = exec.instructions_max,
		.slow_ms = exec.slow_ms,
		.heap_limit_bytes = exec.heap_limit_bytes,
		.result_max_bytes = exec.result_max_bytes,
		.log_max_bytes = exec.log_max_bytes,
	};
	if (js_engine_run(engine, &req, &res) < 0)
		_exit(IPC_EXIT_OOM);
	send_result(exec.id, &res);
	/* The supervisor, woken by the result, often waits on this core:
	 * yielding lets it answer the client before the next environment is
	 * built. A hint to the scheduler, no more (sched_yield(2): its
	 * effect under SCHED_OTHER is the scheduler's choice). */
	(void)sched_yield();
	js_result_fini(&res);
	proto_msg_free(msg);

	/* SECURITY: the request's environment and garbage are gone before
	 * the next request is read; a heap that did not shrink back holds
	 * something that outlived its execution, so the worker goes. */
	if (!js_engine_idle(engine))
		_exit(IPC_EXIT_DIRTY);
	send_ready(engine);
}

void
worker_run(const struct sandbox_options *opts)
{
	sandbox_close_fds_or_die();

	struct js_engine *engine = opts->is_transform ?
					   js_engine_new_transform() :
					   js_engine_new();
	if (!engine)
		sandbox_fail("engine", -ENOMEM);
	js_engine_on_restricted(engine, send_restricted_call);
	js_engine_on_slow(engine, send_slow);

	sandbox_enter_or_die(opts);

	send_ready(engine);

	for (;;) {
		uint8_t *buf;
		size_t len;
		int r = ipc_read_frame(IPC_FD_REQ, WORKER_REQUEST_MAX, -1, &buf,
				       &len);
		if (r == 0)
			_exit(IPC_EXIT_DONE);
		if (r < 0)
			_exit(IPC_EXIT_PROTOCOL);
		serve_one(engine, buf, len);
	}
}
