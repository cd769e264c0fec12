/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the supervisor's --config file (supervisor/options.c,
 * through libyaml). The bytes are handed over as a file (a memfd), as an
 * operator's would be: every key and value is checked against the
 * options and their ranges, and the file loads or is refused with a
 * message, never a crash or a leak.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/sys.h"
#include "supervisor/options.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct server_config cfg;
	struct yaml_file f = { .is_loaded = false };
	char path[64];
	int fd = memfd_create("config.yaml", MFD_CLOEXEC);

	/* Refusals print a line each: millions of them would only slow
	 * the run down. */
	if (!freopen("/dev/null", "w", stderr) || fd < 0) {
		if (fd >= 0)
			(void)close(fd);
		return 0;
	}
	if (sys_write_all(fd, data, size) == 0) {
		(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		server_config_defaults(&cfg);
		(void)options_apply_config_file(&cfg, &f, path);
		yaml_file_fini(&f);
	}
	(void)close(fd);
	return 0;
}

void
fuzz_seeds(fuzz_emit_fn emit, void *arg)
{
	static const char seed[] =
		"workers: 2\n"
		"max-workers: 8\n"
		"queue-max-wait-ms: 5000\n"
		"no-namespaces: false\n"
		"log-level: info\n"
		"transform-workers-max: 1\n"
		"alert-exec-warn-us: 50000\n";

	emit((const uint8_t *)seed, sizeof(seed) - 1, arg);
}
