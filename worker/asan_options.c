/* SPDX-License-Identifier: MIT */
/*
 * Linked into the worker binaries (beddel-worker, the test probe) only.
 * In a build for testing with AddressSanitizer (-Db_sanitize=address),
 * the faults tests send (SIGSEGV, SIGBUS, SIGILL, SIGFPE) and the
 * engine's aborts end the worker as they would without the sanitizer,
 * instead of starting a report it could not write from its sandbox; and
 * no leak check runs at the exit of a worker, whose heap is dropped with
 * the process. Empty in every other build.
 */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_sigill=0:handle_sigfpe=0:handle_abort=0:detect_leaks=0";
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int asan_options_unused;
#endif
