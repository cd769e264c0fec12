/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: every message decoder, on bytes as a client or a worker
 * could send them (common/proto.c). A frame's payload is decoded, then
 * read through every view: the client's (exec, status, metrics,
 * subscribe) and the worker's (result, ready, violation, setup_failed,
 * slow), whatever its type says, since a view must refuse a message of
 * another type rather than misread it.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/proto.h"

static void
read_every_view(const struct proto_msg *m)
{
	struct proto_exec exec;
	struct proto_query query;
	struct proto_result result;
	struct proto_setup_failed setup;
	struct proto_violation violation;
	const char *why, *stack;
	size_t stack_len;
	uint64_t n;

	(void)proto_msg_exec(m, &exec, &why);
	(void)proto_msg_query(m, &query, &why);
	(void)proto_msg_result(m, &result, &why);
	(void)proto_msg_ready(m, &n, &why);
	(void)proto_msg_setup_failed(m, &setup, &why);
	(void)proto_msg_violation(m, &violation, &why);
	(void)proto_msg_slow(m, &stack, &stack_len, &n, &why);
	(void)proto_msg_peek_id(m, &n);
	/* A decoded exec is passed on to a worker: it must encode again. */
	if (proto_msg_exec(m, &exec, &why) == 0) {
		struct proto_frame f;
		if (proto_encode_exec(&exec, &f) == 0)
			proto_frame_fini(&f);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg *m;
	const char *why;
	uint8_t *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* The decoder takes the buffer, whatever happens. */
	if (proto_msg_decode(buf, size, &m, &why) == 0) {
		read_every_view(m);
		proto_msg_free(m);
	}
	return 0;
}

static void
emit_payload(struct proto_frame *f, fuzz_emit_fn emit, void *arg)
{
	emit(f->data + IPC_HEADER_BYTES, f->len - IPC_HEADER_BYTES, arg);
	proto_frame_fini(f);
}

void
fuzz_seeds(fuzz_emit_fn emit, void *arg)
{
	static const uint8_t input[] = { 0x82, 0xa1, 'n', 0x2a, 0xa1, 'l',
					 0x93, 0xc0, 0xc3, 0xcb, 0x3f, 0xf0,
					 0, 0, 0, 0, 0, 0 };
	const struct proto_exec exec = {
		.has_id = true, .id = 7, .code = "input.n * 2", .code_len = 11,
		.input_raw = input, .input_raw_len = sizeof(input),
		.tenant = "t1", .tenant_len = 2, .profile = "ultra-secure",
		.profile_len = 12, .timeout_ms = 100, .is_function = true,
	};
	const struct proto_query query = { .has_id = true, .id = 3,
					   .tenant = "t1", .tenant_len = 2 };
	struct proto_result res = proto_result_error(true, 7,
						     OUTCOME_SYNTAX_ERROR,
						     "bad");
	struct proto_frame f;
	uint8_t violation[PROTO_VIOLATION_FRAME_MAX];

	res.line = 2;
	res.column = 9;
	res.stats.exec_us = 5;
	if (proto_encode_exec(&exec, &f) == 0)
		emit_payload(&f, emit, arg);
	if (proto_encode_query(PROTO_MSG_STATUS, &query, &f) == 0)
		emit_payload(&f, emit, arg);
	if (proto_encode_result(&res, &f) == 0)
		emit_payload(&f, emit, arg);
	if (proto_encode_ready(1234, &f) == 0)
		emit_payload(&f, emit, arg);
	if (proto_encode_setup_failed("seccomp", -1, &f) == 0)
		emit_payload(&f, emit, arg);
	if (proto_encode_slow("at f (script:1)", 99, &f) == 0)
		emit_payload(&f, emit, arg);
	size_t n = proto_encode_violation(59, violation);
	emit(violation + IPC_HEADER_BYTES, n - IPC_HEADER_BYTES, arg);
}
