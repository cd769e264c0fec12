/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of common/util.c: UTF-8 validation, the transcoders between
 * UTF-8 and the engine's CESU-8 strings, log quoting, order statistics and
 * number parsing.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/util.h"

START_TEST(test_util_utf8_accepts_well_formed_text)
{
	ck_assert(util_utf8_is_valid("", 0));
	ck_assert(util_utf8_is_valid("hello", 5));
	ck_assert(util_utf8_is_valid("\xc3\xa9", 2));		/* é */
	ck_assert(util_utf8_is_valid("\xe2\x82\xac", 3));	/* € */
	ck_assert(util_utf8_is_valid("\xf0\x9f\x98\x80", 4));	/* 😀 */
	ck_assert(util_utf8_is_valid("a\0b", 3));
}
END_TEST

START_TEST(test_util_utf8_rejects_malformed_text)
{
	ck_assert(!util_utf8_is_valid("\xc3", 1));		/* cut */
	ck_assert(!util_utf8_is_valid("\xc0\xaf", 2));		/* overlong */
	ck_assert(!util_utf8_is_valid("\xe0\x80\xaf", 3));	/* overlong */
	ck_assert(!util_utf8_is_valid("\xed\xa0\x80", 3));	/* surrogate */
	ck_assert(!util_utf8_is_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	ck_assert(!util_utf8_is_valid("\xff", 1));
	ck_assert(!util_utf8_is_valid("\x80", 1));
	ck_assert(!util_utf8_is_valid("ab\xe2\x82", 4));
}
END_TEST

START_TEST(test_util_cesu8_splits_astral_characters)
{
	char out[UTIL_CESU8_CAPACITY(8)];
	size_t n = util_utf8_to_cesu8("a\xf0\x9f\x98\x80", 5, out);

	/* U+1F600 is the pair D83D DE00. */
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(out, "a\xed\xa0\xbd\xed\xb8\x80", 7);
}
END_TEST

START_TEST(test_util_cesu8_keeps_bmp_text)
{
	char out[UTIL_CESU8_CAPACITY(6)];
	size_t n = util_utf8_to_cesu8("\xc3\xa9\xe2\x82\xac!", 6, out);

	ck_assert_uint_eq(n, 6);
	ck_assert_mem_eq(out, "\xc3\xa9\xe2\x82\xac!", 6);
}
END_TEST

START_TEST(test_util_engine_to_utf8_joins_pairs)
{
	char out[UTIL_UTF8_CAPACITY(7)];
	size_t n = util_engine_to_utf8("a\xed\xa0\xbd\xed\xb8\x80", 7, out);

	ck_assert_uint_eq(n, 5);
	ck_assert_mem_eq(out, "a\xf0\x9f\x98\x80", 5);
}
END_TEST

START_TEST(test_util_engine_to_utf8_replaces_lone_surrogates)
{
	char out[UTIL_UTF8_CAPACITY(8)];

	/* A high surrogate alone, then a low one alone. */
	size_t n = util_engine_to_utf8("\xed\xa0\xbdx\xed\xb8\x80", 7, out);
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(out, "\xef\xbf\xbdx\xef\xbf\xbd", 7);
	ck_assert(util_utf8_is_valid(out, n));
}
END_TEST

START_TEST(test_util_engine_to_utf8_replaces_invalid_bytes)
{
	char out[UTIL_UTF8_CAPACITY(3)];
	size_t n = util_engine_to_utf8("\xff" "a\x80", 3, out);

	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(out, "\xef\xbf\xbd" "a\xef\xbf\xbd", 7);
}
END_TEST

START_TEST(test_util_transcoders_stay_in_bounds_on_random_bytes)
{
	uint32_t seed = 12345;
	char in[256], utf8[UTIL_UTF8_CAPACITY(256)];
	/* Its input is the UTF-8 made from in, up to three times longer. */
	char cesu[UTIL_CESU8_CAPACITY(UTIL_UTF8_CAPACITY(256))];

	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round % 256);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (char)(seed >> 16);
		}
		size_t n = util_engine_to_utf8(in, len, utf8);
		ck_assert_uint_le(n, UTIL_UTF8_CAPACITY(len));
		ck_assert_msg(util_utf8_is_valid(utf8, n), "seed %u round %d",
			      12345u, round);
		size_t m = util_utf8_to_cesu8(utf8, n, cesu);
		ck_assert_uint_le(m, UTIL_CESU8_CAPACITY(n));
	}
}
END_TEST

START_TEST(test_util_utf8_cut_keeps_whole_characters)
{
	/* "aé€" is 1 + 2 + 3 bytes. */
	ck_assert_uint_eq(util_utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 10), 6);
	ck_assert_uint_eq(util_utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 5), 3);
	ck_assert_uint_eq(util_utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 4), 3);
	ck_assert_uint_eq(util_utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 2), 1);
	ck_assert_uint_eq(util_utf8_cut("a\xc3\xa9\xe2\x82\xac", 6, 0), 0);
}
END_TEST

START_TEST(test_util_quote_escapes_and_cuts)
{
	char out[4 * UTIL_LOG_QUOTE_MAX + 8];
	char long_text[200];

	util_quote_for_log("a'b\n", 4, out, sizeof(out));
	ck_assert_str_eq(out, "'a\\x27b\\x0a'");

	memset(long_text, 'x', sizeof(long_text));
	util_quote_for_log(long_text, sizeof(long_text), out, sizeof(out));
	ck_assert_uint_eq(strlen(out), 1 + UTIL_LOG_QUOTE_MAX + 3 + 1);
	ck_assert(strstr(out, "...'") != NULL);

	memset(long_text, '\n', sizeof(long_text));
	util_quote_for_log(long_text, sizeof(long_text), out, sizeof(out));
	ck_assert_uint_lt(strlen(out), sizeof(out));
}
END_TEST

/* Fills v with one of the orders selection finds hard or easy: random,
 * few distinct values (timings repeat), sorted, reversed, all equal. */
static void
fill_values(uint64_t *v, size_t n, unsigned kind, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++) {
		*seed = *seed * 6364136223846793005u + 1442695040888963407u;
		uint64_t r = *seed >> 33;
		const uint64_t by_kind[] = { r, r % 4, i, n - i, 7 };
		v[i] = by_kind[kind];
	}
}

START_TEST(test_util_quantiles_by_selection_match_the_sorted_ones)
{
	static const double qs[] = { 0, 0.5, 0.9, 0.99, 1.0 };
	static const size_t sizes[] = { 0, 1, 2, 3, 10, 101, 1000, 10007 };
	static uint64_t v[10007], sorted[10007];
	uint64_t got[5], seed = 1;

	for (size_t s = 0; s < sizeof(sizes) / sizeof(*sizes); s++) {
		for (unsigned kind = 0; kind < 5; kind++) {
			size_t n = sizes[s];
			fill_values(v, n, kind, &seed);
			memcpy(sorted, v, n * sizeof(*v));
			util_sort_u64(sorted, n);
			util_quantiles(v, n, qs, 5, got);
			for (size_t q = 0; q < 5; q++) {
				uint64_t want = util_quantile_sorted(sorted, n,
								     qs[q]);
				ck_assert_msg(got[q] == want,
					      "n=%zu kind=%u q=%g: %llu",
					      n, kind, qs[q],
					      (unsigned long long)got[q]);
			}
		}
	}
}
END_TEST

START_TEST(test_util_quantile_uses_nearest_rank)
{
	uint64_t v[] = { 5, 1, 4, 2, 3, 10, 9, 8, 7, 6 };

	util_sort_u64(v, 10);
	ck_assert_uint_eq(v[0], 1);
	ck_assert_uint_eq(util_quantile_sorted(v, 10, 0.5), 5);
	ck_assert_uint_eq(util_quantile_sorted(v, 10, 0.99), 10);
	ck_assert_uint_eq(util_quantile_sorted(v, 10, 0), 1);
	ck_assert_uint_eq(util_quantile_sorted(v, 0, 0.5), 0);
}
END_TEST

START_TEST(test_util_parse_u64_checks_bounds_and_digits)
{
	uint64_t v = 7;

	ck_assert_int_eq(util_parse_u64("42", 0, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(util_parse_u64("101", 0, 100, &v), -ERANGE);
	ck_assert_int_eq(util_parse_u64("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_u64("4x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_u64("-1", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(util_parse_u64("99999999999999999999", 0, UINT64_MAX, &v),
			 -ERANGE);
	ck_assert_uint_eq(v, 42);
}
END_TEST

Suite *util_suite(void);

Suite *
util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("utf8");

	tcase_add_test(tc, test_util_utf8_accepts_well_formed_text);
	tcase_add_test(tc, test_util_utf8_rejects_malformed_text);
	tcase_add_test(tc, test_util_cesu8_splits_astral_characters);
	tcase_add_test(tc, test_util_cesu8_keeps_bmp_text);
	tcase_add_test(tc, test_util_engine_to_utf8_joins_pairs);
	tcase_add_test(tc, test_util_engine_to_utf8_replaces_lone_surrogates);
	tcase_add_test(tc, test_util_engine_to_utf8_replaces_invalid_bytes);
	tcase_add_test(tc, test_util_transcoders_stay_in_bounds_on_random_bytes);
	tcase_add_test(tc, test_util_utf8_cut_keeps_whole_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_util_quote_escapes_and_cuts);
	tcase_add_test(tc, test_util_quantile_uses_nearest_rank);
	tcase_add_test(tc,
		       test_util_quantiles_by_selection_match_the_sorted_ones);
	tcase_add_test(tc, test_util_parse_u64_checks_bounds_and_digits);
	suite_add_tcase(s, tc);
	return s;
}
