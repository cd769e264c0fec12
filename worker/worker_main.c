/* SPDX-License-Identifier: MIT */
/*
 * beddel-worker: exec'd by the supervisor (or by beddel-run) with its two
 * pipes on fds 3 and 4. It takes no arguments and reads no configuration:
 * every limit arrives with each request.
 */
#include "worker/worker.h"

int
main(void)
{
	worker_run();
}
