/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of common/ipc.c: frame headers and the blocking frame reader,
 * fed through real pipes.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/sys.h"

static int fds[2];

static void
setup(void)
{
	ck_assert_int_eq(pipe(fds), 0);
}

static void
teardown(void)
{
	(void)close(fds[0]);
	if (fds[1] >= 0)
		(void)close(fds[1]);
}

static void
send_bytes(const void *data, size_t len)
{
	ck_assert_int_eq(sys_write_all(fds[1], data, len), 0);
}

static void
close_writer(void)
{
	(void)close(fds[1]);
	fds[1] = -1;
}

START_TEST(test_ipc_header_round_trips)
{
	uint8_t h[IPC_HEADER_BYTES];
	size_t len = 0;

	ipc_header_encode(0x01020304, h);
	ck_assert_mem_eq(h, "\x01\x02\x03\x04", 4);
	ck_assert_int_eq(ipc_header_decode(h, 0x01020304, &len), 0);
	ck_assert_uint_eq(len, 0x01020304);
}
END_TEST

START_TEST(test_ipc_rejects_frame_over_limit)
{
	uint8_t h[IPC_HEADER_BYTES];
	size_t len = 99;

	ipc_header_encode(1001, h);
	ck_assert_int_eq(ipc_header_decode(h, 1000, &len), -EMSGSIZE);
	ck_assert_uint_eq(len, 99);
	ck_assert_uint_eq(ipc_header_length(h), 1001);
}
END_TEST

START_TEST(test_ipc_rejects_empty_frame)
{
	uint8_t h[IPC_HEADER_BYTES] = { 0 };
	size_t len;

	ck_assert_int_eq(ipc_header_decode(h, 1000, &len), -EBADMSG);
}
END_TEST

START_TEST(test_ipc_reads_whole_frame)
{
	uint8_t *buf;
	size_t len;

	send_bytes("\x00\x00\x00\x03" "abc", 7);
	ck_assert_int_eq(ipc_read_frame(fds[0], 100, 1000, &buf, &len), 1);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(buf, "abc", 3);
	free(buf);
}
END_TEST

START_TEST(test_ipc_reports_clean_end_of_stream)
{
	uint8_t *buf;
	size_t len;

	close_writer();
	ck_assert_int_eq(ipc_read_frame(fds[0], 100, 1000, &buf, &len), 0);
}
END_TEST

START_TEST(test_ipc_reports_stream_cut_inside_frame)
{
	uint8_t *buf;
	size_t len;

	send_bytes("\x00\x00\x00\x09" "abc", 7);
	close_writer();
	ck_assert_int_eq(ipc_read_frame(fds[0], 100, 1000, &buf, &len), -EPIPE);
}
END_TEST

START_TEST(test_ipc_reports_stream_cut_inside_header)
{
	uint8_t *buf;
	size_t len;

	send_bytes("\x00\x00", 2);
	close_writer();
	ck_assert_int_eq(ipc_read_frame(fds[0], 100, 1000, &buf, &len), -EPIPE);
}
END_TEST

START_TEST(test_ipc_reader_refuses_oversized_before_reading_payload)
{
	uint8_t *buf;
	size_t len;

	/* 4 GiB announced: refused at the header, nothing allocated. */
	send_bytes("\xff\xff\xff\xff", 4);
	ck_assert_int_eq(ipc_read_frame(fds[0], 1000, 1000, &buf, &len),
			 -EMSGSIZE);
}
END_TEST

START_TEST(test_ipc_reader_times_out_on_stalled_peer)
{
	uint8_t *buf;
	size_t len;

	send_bytes("\x00\x00\x00\x09" "ab", 6);
	ck_assert_int_eq(ipc_read_frame(fds[0], 100, 50, &buf, &len),
			 -ETIMEDOUT);
}
END_TEST

Suite *ipc_suite(void);

Suite *
ipc_suite(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("header");

	tcase_add_test(tc, test_ipc_header_round_trips);
	tcase_add_test(tc, test_ipc_rejects_frame_over_limit);
	tcase_add_test(tc, test_ipc_rejects_empty_frame);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ipc_reads_whole_frame);
	tcase_add_test(tc, test_ipc_reports_clean_end_of_stream);
	tcase_add_test(tc, test_ipc_reports_stream_cut_inside_frame);
	tcase_add_test(tc, test_ipc_reports_stream_cut_inside_header);
	tcase_add_test(tc, test_ipc_reader_refuses_oversized_before_reading_payload);
	tcase_add_test(tc, test_ipc_reader_times_out_on_stalled_peer);
	suite_add_tcase(s, tc);
	return s;
}
