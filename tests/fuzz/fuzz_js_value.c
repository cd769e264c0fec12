/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: msgpack to JavaScript and back (worker/js_value.c), on
 * the input and props of an exec message as a client could send them.
 * The worker's engine runs `input` (and, in function mode, hands input
 * and props to a function that returns them through its context), so
 * each value is pushed into the engine, frozen, and written back as the
 * result, under a heap cap and a result limit.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "worker/js.h"

static struct js_engine *engine;

static void
run(const char *code, bool is_function, const struct proto_exec *exec)
{
	const struct js_request req = {
		.code = code,
		.code_len = strlen(code),
		.is_function = is_function,
		.input = exec->input,
		.props = exec->props,
		.timeout_ms = 1000,
		.instructions_max = 10u * 1000u * 1000u,
		.heap_limit_bytes = 1024u * 1024u,
		.result_max_bytes = 64u * 1024u,
		.log_max_bytes = 1024,
	};
	struct js_result res;

	if (js_engine_run(engine, &req, &res) == 0)
		js_result_fini(&res);
	(void)js_engine_idle(engine);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg *m;
	struct proto_exec exec;
	const char *why;
	uint8_t *buf = malloc(size ? size : 1);

	if (!engine)
		engine = js_engine_new();
	if (!buf || !engine) {
		free(buf);
		return 0;
	}
	memcpy(buf, data, size);
	if (proto_msg_decode(buf, size, &m, &why) < 0)
		return 0;
	if (proto_msg_exec(m, &exec, &why) == 0) {
		run("input", false, &exec);
		run("function (p, q, c) { c.setOutput([p, q]) }", true, &exec);
	}
	proto_msg_free(m);
	return 0;
}

void
fuzz_seeds(fuzz_emit_fn emit, void *arg)
{
	/* {"type": "exec", "code": "x", "input": [1, "é", {"k": null},
	 * 2.5, true, undefined], "props": {"a": [[]]}} */
	static const uint8_t seed[] = {
		0x84, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'e', 'x', 'e', 'c',
		0xa4, 'c', 'o', 'd', 'e', 0xa1, 'x',
		0xa5, 'i', 'n', 'p', 'u', 't', 0x96, 0x01, 0xa2, 0xc3, 0xa9,
		0x81, 0xa1, 'k', 0xc0, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0,
		0xc3, 0xd4, 0x00, 0x00,
		0xa5, 'p', 'r', 'o', 'p', 's', 0x81, 0xa1, 'a', 0x91, 0x90,
	};

	emit(seed, sizeof(seed), arg);
}
