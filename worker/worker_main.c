/* SPDX-License-Identifier: MIT */
/*
 * beddel-worker: exec'd by the supervisor (or by beddel-run) with its two
 * pipes on fds 3 and 4. It reads no configuration: every limit arrives
 * with each request. Its arguments say only what the supervisor set up
 * for it: --new-root when it starts in a new mount namespace, whose root
 * it empties; --user-namespace when it starts as root of a new user
 * namespace, where it keeps its ids and drops its capabilities;
 * --transform for a transform worker, which lowers ES2015+ scripts to
 * ES5 rather than running them. Anything else makes it exit with
 * IPC_EXIT_SETUP.
 */
#include <unistd.h>

#include "common/ipc.h"
#include "worker/sandbox.h"
#include "worker/worker.h"

int
main(int argc, char **argv)
{
	struct sandbox_options opts;

	if (sandbox_parse_args(argc, argv, &opts) < 0)
		_exit(IPC_EXIT_SETUP);
	worker_run(&opts);
}
