/* SPDX-License-Identifier: MIT */
/*
 * The main() of every test executable: runs the one suite named by
 * TEST_SUITE (set per executable in tests/meson.build) in Check's fork
 * mode, and exits 1 if any test failed.
 */
#include <stdlib.h>

#include <check.h>

Suite *TEST_SUITE(void);

int
main(void)
{
	SRunner *sr = srunner_create(TEST_SUITE());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
