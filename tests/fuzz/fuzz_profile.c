/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the security profiles file (supervisor/profile.c, read
 * through libyaml by supervisor/yaml_file.c). The bytes are handed to the
 * loader as a file (a memfd), as an operator's file would be: it must
 * load or refuse with a message, never crash or leak.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/sys.h"
#include "supervisor/profile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile_set set;
	char path[64], err[512];
	int fd = memfd_create("profiles.yaml", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (sys_write_all(fd, data, size) == 0) {
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		(void)profile_set_load(path, &set, err, sizeof(err));
	}
	(void)close(fd);
	return 0;
}

void
fuzz_seeds(fuzz_emit_fn emit, void *arg)
{
	static const char seed[] =
		"default: a\n"
		"profiles:\n"
		"  a:\n"
		"    heap_limit_bytes: 2097152\n"
		"    timeout_ms: 5000\n"
		"    cpu_ms: 2000\n"
		"    instructions_max: 200000000\n"
		"    result_max_bytes: 262144\n"
		"    log_max_bytes: 16384\n"
		"    input_max_bytes: 262144\n"
		"    worker_rss_max_bytes: 33554432\n"
		"    worker: shared\n"
		"    restricted: [eval, Function]\n";

	emit((const uint8_t *)seed, sizeof(seed) - 1, arg);
}
