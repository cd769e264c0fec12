/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of common/proto.c: every message round-trips, and hostile
 * frames (truncated, oversized claims, wrong types, unknown or repeated
 * fields, trailing bytes, deep nesting, random bytes) are refused with a
 * sentence and never crash the decoder.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "tests/helpers/harness.h"

/* Decodes a copy of n bytes (the decoder takes ownership of its buffer). */
static int
decode(const void *bytes, size_t n, struct proto_msg **ret, const char **why)
{
	uint8_t *buf = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, bytes, n);
	*ret = NULL;
	*why = NULL;
	return proto_msg_decode(buf, n, ret, why);
}

/* Decodes a frame produced by an encoder, as its peer would. */
static struct proto_msg *
decode_frame(struct proto_frame *f)
{
	struct proto_msg *m = harness_decode_frame(f);

	ck_assert_ptr_nonnull(m);
	return m;
}

/* A map {"a": [1, -2, "x"], "b": undefined} written with the writer. */
static struct proto_writer *
sample_value(void)
{
	struct proto_writer *w = proto_writer_new(1024);

	ck_assert_ptr_nonnull(w);
	proto_write_map(w, 2);
	proto_write_str(w, "a", 1);
	proto_write_array(w, 3);
	proto_write_int(w, 1);
	proto_write_int(w, -2);
	proto_write_str(w, "x", 1);
	proto_write_str(w, "b", 1);
	ck_assert_int_eq(proto_write_undefined(w), 0);
	return w;
}

START_TEST(test_proto_exec_round_trips)
{
	struct proto_writer *w = sample_value();
	struct proto_frame f;
	struct proto_exec in = {
		.has_id = true, .id = 77, .code = "1 + 1", .code_len = 5,
		.tenant = "acme", .tenant_len = 4, .timeout_ms = 250,
		.heap_limit_bytes = 4096, .result_max_bytes = 999,
	}, out;
	const char *why;

	in.input_raw = proto_writer_data(w, &in.input_raw_len);
	ck_assert_int_eq(proto_encode_exec(&in, &f), 0);
	proto_writer_free(w);
	struct proto_msg *m = decode_frame(&f);

	ck_assert_int_eq(proto_msg_type(m), PROTO_MSG_EXEC);
	ck_assert_int_eq(proto_msg_exec(m, &out, &why), 0);
	ck_assert(out.has_id);
	ck_assert_uint_eq(out.id, 77);
	ck_assert_uint_eq(out.code_len, 5);
	ck_assert_mem_eq(out.code, "1 + 1", 5);
	ck_assert_mem_eq(out.tenant, "acme", 4);
	ck_assert_uint_eq(out.timeout_ms, 250);
	ck_assert_uint_eq(out.heap_limit_bytes, 4096);
	ck_assert_uint_eq(out.result_max_bytes, 999);

	const struct proto_value *v = out.input;
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(proto_value_kind(v), PROTO_MAP);
	ck_assert_uint_eq(proto_value_count(v), 2);
	const struct proto_value *a = proto_value_val(v, 0);
	ck_assert_int_eq(proto_value_kind(a), PROTO_ARRAY);
	ck_assert_int_eq(proto_value_int(proto_value_at(a, 1)), -2);
	ck_assert_int_eq(proto_value_kind(proto_value_val(v, 1)), PROTO_UNDEFINED);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_proto_exec_without_optional_fields)
{
	struct proto_frame f;
	struct proto_exec in = { .code = "x", .code_len = 1 }, out;
	const char *why;

	ck_assert_int_eq(proto_encode_exec(&in, &f), 0);
	struct proto_msg *m = decode_frame(&f);
	ck_assert_int_eq(proto_msg_exec(m, &out, &why), 0);
	ck_assert(!out.has_id);
	ck_assert_ptr_null(out.input);
	ck_assert_ptr_null(out.tenant);
	ck_assert_uint_eq(out.timeout_ms, 0);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_proto_result_ok_round_trips)
{
	struct proto_writer *w = sample_value();
	struct proto_frame f;
	struct proto_result in = {
		.has_id = true, .id = 5, .outcome = OUTCOME_OK,
		.stats = { .queue_us = 1, .exec_us = 2, .cpu_us = 3,
			   .total_us = 4, .heap_peak_bytes = 5,
			   .worker_pid = 6, .worker_execs = 7 },
	}, out;
	const char *why;

	in.value_raw = proto_writer_data(w, &in.value_raw_len);
	ck_assert_int_eq(proto_encode_result(&in, &f), 0);
	proto_writer_free(w);
	struct proto_msg *m = decode_frame(&f);
	ck_assert_int_eq(proto_msg_result(m, &out, &why), 0);
	ck_assert_int_eq(out.outcome, OUTCOME_OK);
	ck_assert_uint_eq(out.id, 5);
	ck_assert_int_eq(proto_value_kind(out.value), PROTO_MAP);
	ck_assert_uint_eq(out.stats.queue_us, 1);
	ck_assert_uint_eq(out.stats.exec_us, 2);
	ck_assert_uint_eq(out.stats.cpu_us, 3);
	ck_assert_uint_eq(out.stats.total_us, 4);
	ck_assert_uint_eq(out.stats.heap_peak_bytes, 5);
	ck_assert_uint_eq(out.stats.worker_pid, 6);
	ck_assert_uint_eq(out.stats.worker_execs, 7);

	/* A decoded value re-encodes to the same message. */
	struct proto_result again = out;
	ck_assert_int_eq(proto_encode_result(&again, &f), 0);
	struct proto_msg *m2 = decode_frame(&f);
	ck_assert_int_eq(proto_msg_result(m2, &out, &why), 0);
	ck_assert_uint_eq(proto_value_count(out.value), 2);
	proto_msg_free(m2);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_proto_result_error_round_trips)
{
	struct proto_frame f;
	struct proto_result in = {
		.has_id = true, .id = 9, .outcome = OUTCOME_RUNTIME_ERROR,
		.message = "TypeError: x", .message_len = 12,
		.stack = "at f (script:1)", .stack_len = 15, .line = 3,
	}, out;
	const char *why;

	ck_assert_int_eq(proto_encode_result(&in, &f), 0);
	struct proto_msg *m = decode_frame(&f);
	ck_assert_int_eq(proto_msg_result(m, &out, &why), 0);
	ck_assert_int_eq(out.outcome, OUTCOME_RUNTIME_ERROR);
	ck_assert_mem_eq(out.message, "TypeError: x", 12);
	ck_assert_mem_eq(out.stack, "at f (script:1)", 15);
	ck_assert_uint_eq(out.line, 3);
	ck_assert_ptr_null(out.value);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_proto_every_error_kind_round_trips)
{
	for (int k = OUTCOME_OK + 1; k < OUTCOME_COUNT; k++) {
		struct proto_frame f;
		struct proto_result in = { .outcome = (enum outcome)k,
					   .message = "m", .message_len = 1 },
				    out;
		const char *why;

		ck_assert_int_eq(proto_encode_result(&in, &f), 0);
		struct proto_msg *m = decode_frame(&f);
		ck_assert_int_eq(proto_msg_result(m, &out, &why), 0);
		ck_assert_int_eq(out.outcome, k);
		ck_assert(!out.has_id);
		proto_msg_free(m);
	}
}
END_TEST

START_TEST(test_proto_worker_messages_round_trip)
{
	struct proto_frame f;
	struct proto_setup_failed s;
	uint64_t heap;
	const char *why;

	ck_assert_int_eq(proto_encode_ready(1234, &f), 0);
	struct proto_msg *m = decode_frame(&f);
	ck_assert_int_eq(proto_msg_type(m), PROTO_MSG_READY);
	ck_assert_int_eq(proto_msg_ready(m, &heap, &why), 0);
	ck_assert_uint_eq(heap, 1234);
	proto_msg_free(m);

	ck_assert_int_eq(proto_encode_setup_failed("seccomp", -EPERM, &f), 0);
	m = decode_frame(&f);
	ck_assert_int_eq(proto_msg_setup_failed(m, &s, &why), 0);
	ck_assert_mem_eq(s.stage, "seccomp", 7);
	ck_assert_int_eq(s.err, -EPERM);
	ck_assert_int_ne(proto_msg_exec(m, &(struct proto_exec){ 0 }, &why), 0);
	proto_msg_free(m);
}
END_TEST

/* Hostile frames, each with the reason it must be refused. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} bad_frames[] = {
	{ "never-used byte 0xc1", "\xc1", 1 },
	{ "map cut short", "\x82\xa4type\xa4" "exec", 11 },
	{ "string cut short", "\x81\xa4type\xa8" "ex", 9 },
	{ "array, not a map", "\x91\x01", 2 },
	{ "map without type", "\x81\xa4" "code\xa1x", 8 },
	{ "unknown type", "\x81\xa4type\xa3zzz", 10 },
	{ "type is not a string", "\x81\xa4type\x01", 7 },
	{ "trailing bytes", "\x81\xa4type\xa5ready\x00", 13 },
	{ "array claims 4 billion items", "\xdd\xff\xff\xff\xff", 5 },
	{ "map claims 4 billion pairs", "\xdf\xff\xff\xff\xff", 5 },
	{ "string claims 4 GiB", "\xdb\xff\xff\xff\xff", 5 },
};

START_TEST(test_proto_refuses_bad_frames)
{
	struct proto_msg *m;
	const char *why;

	for (size_t i = 0; i < sizeof(bad_frames) / sizeof(*bad_frames); i++) {
		int r = decode(bad_frames[i].bytes, bad_frames[i].len, &m, &why);
		ck_assert_msg(r == -EBADMSG, "accepted: %s", bad_frames[i].name);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(m);
	}
}
END_TEST

/* exec messages that decode as msgpack but break the exec schema. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len;
} bad_execs[] = {
	{ "no code", "\x81\xa4type\xa4" "exec", 11 },
	{ "code is a number", "\x82\xa4type\xa4" "exec\xa4" "code\x05", 17 },
	{ "negative id", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xa2id\xff", 22 },
	{ "id is a string", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xa2id\xa1" "1", 23 },
	{ "timeout is a float", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xaatimeout_ms\xcb?\xf0\x00\x00\x00\x00\x00\x00", 38 },
	{ "unknown field", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xa3zzz\x01", 23 },
	{ "repeated field", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xa4" "code\xa1y", 25 },
	{ "key is not a string", "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\x01\x01", 20 },
};

START_TEST(test_proto_refuses_bad_exec_fields)
{
	struct proto_msg *m;
	struct proto_exec e;
	const char *why;

	for (size_t i = 0; i < sizeof(bad_execs) / sizeof(*bad_execs); i++) {
		ck_assert_msg(decode(bad_execs[i].bytes, bad_execs[i].len, &m,
				     &why) == 0,
			      "frame itself refused: %s", bad_execs[i].name);
		ck_assert_msg(proto_msg_exec(m, &e, &why) == -EBADMSG,
			      "accepted: %s", bad_execs[i].name);
		ck_assert_ptr_nonnull(why);
		proto_msg_free(m);
	}
}
END_TEST

START_TEST(test_proto_peeks_id_of_bad_exec)
{
	struct proto_msg *m;
	const char *why;
	uint64_t id = 0;

	ck_assert_int_eq(decode("\x82\xa4type\xa4" "exec\xa2id*", 15, &m, &why), 0);
	ck_assert(proto_msg_peek_id(m, &id));
	ck_assert_uint_eq(id, 42);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_proto_refuses_inconsistent_results)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "ok without value", "\x82\xa4type\xa6result\xa2ok\xc3", 17 },
		{ "error without kind", "\x83\xa4type\xa6result\xa2ok\xc2\xa5" "error\x80", 24 },
		{ "error kind 'ok'", "\x83\xa4type\xa6result\xa2ok\xc2\xa5" "error\x81\xa4kind\xa2ok", 32 },
		{ "unknown error kind", "\x83\xa4type\xa6result\xa2ok\xc2\xa5" "error\x81\xa4kind\xa3zzz", 33 },
		{ "value and error", "\x84\xa4type\xa6result\xa2ok\xc3\xa5value\x01\xa5" "error\x80", 31 },
		{ "stats not numbers", "\x84\xa4type\xa6result\xa2ok\xc3\xa5value\x01\xa5stats\x81\xa7" "exec_us\xa1x", 41 },
	};
	struct proto_msg *m;
	struct proto_result res;
	const char *why;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		ck_assert_msg(decode(bad[i].bytes, bad[i].len, &m, &why) == 0,
			      "frame itself refused: %s", bad[i].name);
		ck_assert_msg(proto_msg_result(m, &res, &why) == -EBADMSG,
			      "accepted: %s", bad[i].name);
		proto_msg_free(m);
	}
}
END_TEST

START_TEST(test_proto_refuses_nesting_past_decoder_limit)
{
	uint8_t buf[64];
	struct proto_msg *m;
	const char *why;
	size_t n = 0;

	/* {"type":"exec","input":[[[[...]]]]} 40 levels deep. */
	memcpy(buf, "\x82\xa4type\xa4" "exec\xa5input", 17);
	n = 17;
	for (int i = 0; i < 40; i++)
		buf[n++] = 0x91;
	buf[n++] = 0x01;
	ck_assert_int_eq(decode(buf, n, &m, &why), -EBADMSG);
}
END_TEST

START_TEST(test_proto_value_kinds)
{
	static const struct {
		const char *bytes;
		size_t len;
		enum proto_kind kind;
	} cases[] = {
		{ "\xc0", 1, PROTO_NIL },
		{ "\xc3", 1, PROTO_BOOL },
		{ "\x7f", 1, PROTO_INT },
		{ "\xd3\x80\0\0\0\0\0\0\0", 9, PROTO_INT },
		{ "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, PROTO_UINT },
		{ "\xca\x3f\x80\0\0", 5, PROTO_FLOAT },
		{ "\xa1z", 2, PROTO_STR },
		{ "\xc7\x00\x00", 3, PROTO_UNDEFINED },
		{ "\xd4\x01\x00", 3, PROTO_UNSUPPORTED },
		{ "\xc4\x01\x00", 3, PROTO_UNSUPPORTED },
	};
	/* The 24-byte message head and the longest case, 9 bytes. */
	uint8_t buf[48];
	struct proto_msg *m;
	struct proto_exec e;
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		memcpy(buf, "\x83\xa4type\xa4" "exec\xa4" "code\xa1x\xa5input", 24);
		memcpy(buf + 24, cases[i].bytes, cases[i].len);
		ck_assert_int_eq(decode(buf, 24 + cases[i].len, &m, &why), 0);
		ck_assert_int_eq(proto_msg_exec(m, &e, &why), 0);
		ck_assert_msg(proto_value_kind(e.input) == cases[i].kind,
			      "case %zu", i);
		proto_msg_free(m);
	}
}
END_TEST

START_TEST(test_proto_writer_stops_at_its_limit)
{
	struct proto_writer *w = proto_writer_new(8);
	size_t len;

	ck_assert_int_eq(proto_write_int(w, 1), 0);
	ck_assert_int_eq(proto_write_str(w, "0123456789", 10), -E2BIG);
	ck_assert_int_eq(proto_write_nil(w), -E2BIG);
	ck_assert_int_eq(proto_writer_status(w), -E2BIG);
	(void)proto_writer_data(w, &len);
	ck_assert_uint_le(len, 8);
	proto_writer_free(w);
	proto_writer_free(NULL);
}
END_TEST

START_TEST(test_proto_survives_random_bytes)
{
	unsigned seed = (unsigned)time(NULL);
	uint8_t buf[128];

	printf("test_proto_survives_random_bytes: seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < 20000; round++) {
		size_t len = 1 + (size_t)rand() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		/* Often start like a real message, to get past the first
		 * checks. */
		if (round % 2 && len > 11)
			memcpy(buf, "\x83\xa4type\xa4" "exec", 11);
		struct proto_msg *m;
		struct proto_exec e;
		struct proto_result res;
		const char *why;
		if (decode(buf, len, &m, &why) != 0)
			continue;
		(void)proto_msg_exec(m, &e, &why);
		(void)proto_msg_result(m, &res, &why);
		proto_msg_free(m);
	}
}
END_TEST

Suite *proto_suite(void);

Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("round_trip");

	tcase_add_test(tc, test_proto_exec_round_trips);
	tcase_add_test(tc, test_proto_exec_without_optional_fields);
	tcase_add_test(tc, test_proto_result_ok_round_trips);
	tcase_add_test(tc, test_proto_result_error_round_trips);
	tcase_add_test(tc, test_proto_every_error_kind_round_trips);
	tcase_add_test(tc, test_proto_worker_messages_round_trip);
	tcase_add_test(tc, test_proto_value_kinds);
	tcase_add_test(tc, test_proto_writer_stops_at_its_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_proto_refuses_bad_frames);
	tcase_add_test(tc, test_proto_refuses_bad_exec_fields);
	tcase_add_test(tc, test_proto_peeks_id_of_bad_exec);
	tcase_add_test(tc, test_proto_refuses_inconsistent_results);
	tcase_add_test(tc, test_proto_refuses_nesting_past_decoder_limit);
	tcase_add_test(tc, test_proto_survives_random_bytes);
	suite_add_tcase(s, tc);
	return s;
}
