/* SPDX-License-Identifier: MIT */
/*
 * Tests of the profiles file (supervisor/profile.c): the three profiles
 * Beddel ships mean what the documentation says, and every kind of bad
 * file is refused with its file, line and field.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/restricted.h"
#include "config.h"
#include "supervisor/profile.h"

static const struct profile *
must_find(const struct profile_set *s, const char *name)
{
	const struct profile *p = profile_set_find(s, name, strlen(name));

	ck_assert_msg(p != NULL, "no profile %s", name);
	return p;
}

START_TEST(test_profile_ships_the_three_profiles)
{
	struct profile_set s;
	char err[512];

	ck_assert_int_eq(profile_set_load(BEDDEL_PROFILES_PATH, &s, err,
					  sizeof(err)),
			 0);
	ck_assert_uint_eq(s.count, 3);
	ck_assert_str_eq(s.items[s.default_index].name, "ultra-secure");

	const struct profile *u = must_find(&s, "ultra-secure");
	ck_assert_uint_eq(u->heap_limit_bytes, 2u << 20);
	ck_assert_uint_eq(u->timeout_ms, 5000);
	ck_assert_uint_eq(u->restricted, RESTRICTED_REQUIRE | RESTRICTED_EVAL |
						 RESTRICTED_FUNCTION |
						 RESTRICTED_PROCESS);
	const struct profile *h = must_find(&s, "high-security");
	ck_assert_uint_eq(h->heap_limit_bytes, 4u << 20);
	ck_assert_uint_eq(h->timeout_ms, 10000);
	ck_assert_uint_eq(h->restricted, RESTRICTED_EVAL | RESTRICTED_FUNCTION);
	const struct profile *t = must_find(&s, "tenant-isolated");
	ck_assert_uint_eq(t->heap_limit_bytes, 8u << 20);
	ck_assert_uint_eq(t->timeout_ms, 15000);
	ck_assert_uint_eq(t->restricted, RESTRICTED_EVAL);
	ck_assert_uint_eq(u->instructions_max, 200000000);
	ck_assert_uint_lt(u->instructions_max, h->instructions_max);
	ck_assert_uint_lt(h->instructions_max, t->instructions_max);
	for (size_t i = 0; i < s.count; i++) {
		ck_assert_uint_le(s.items[i].cpu_ms, s.items[i].timeout_ms);
		ck_assert(!s.items[i].is_single_use);
	}
	ck_assert_ptr_null(profile_set_find(&s, "ultra", 5));
}
END_TEST

/* Loads fixtures/profiles/name and expects it refused with a message
 * holding want. */
static void
expect_refused(const char *name, const char *want)
{
	char path[512], err[512];
	struct profile_set s;

	(void)snprintf(path, sizeof(path), "%s/profiles/%s",
		       getenv("BEDDEL_FIXTURES"), name);
	ck_assert_int_lt(profile_set_load(path, &s, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, want) != NULL, "%s: '%s' lacks '%s'", name,
		      err, want);
}

START_TEST(test_profile_refuses_bad_files_with_file_line_and_field)
{
	ck_assert_ptr_nonnull(getenv("BEDDEL_FIXTURES"));
	expect_refused("bad_field.yaml",
		       "bad_field.yaml:6: 'cpu_ms' wants a whole number");
	expect_refused("bad_yaml.yaml", "bad_yaml.yaml:4:");
	expect_refused("bad_restricted.yaml",
		       "bad_restricted.yaml:13: 'restricted' names 'setTimeout'");
	expect_refused("missing_field.yaml",
		       "missing_field.yaml:4: 'a' lacks the field 'cpu_ms'");
	expect_refused("bad_default.yaml",
		       "bad_default.yaml:1: 'default' must name one of the profiles");
	expect_refused("no_such_file.yaml", "no_such_file.yaml: No such file");
}
END_TEST

START_TEST(test_profile_caps_lower_every_profile)
{
	struct profile_set s;
	char err[512];

	ck_assert_int_eq(profile_set_load(BEDDEL_PROFILES_PATH, &s, err,
					  sizeof(err)),
			 0);
	profile_set_cap(&s, 300, 1u << 20, 0);
	for (size_t i = 0; i < s.count; i++) {
		ck_assert_uint_eq(s.items[i].timeout_ms, 300);
		ck_assert_uint_le(s.items[i].cpu_ms, 300);
		ck_assert_uint_eq(s.items[i].heap_limit_bytes, 1u << 20);
		ck_assert_uint_gt(s.items[i].result_max_bytes, 0);
	}
}
END_TEST

Suite *profile_suite(void);

Suite *
profile_suite(void)
{
	Suite *s = suite_create("profile");
	TCase *tc = tcase_create("files");

	tcase_add_test(tc, test_profile_ships_the_three_profiles);
	tcase_add_test(tc, test_profile_refuses_bad_files_with_file_line_and_field);
	tcase_add_test(tc, test_profile_caps_lower_every_profile);
	suite_add_tcase(s, tc);
	return s;
}
