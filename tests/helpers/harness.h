/* SPDX-License-Identifier: MIT */
/*
 * A real beddel-supervisor in a private temporary directory, for the
 * integration tests and the benchmarks: start it, talk to it over its
 * socket, watch its log, find its workers, stop it.
 */
#ifndef BEDDEL_TESTS_HELPERS_HARNESS_H
#define BEDDEL_TESTS_HELPERS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/proto.h"

#define HARNESS_LOG_MAX (4u * 1024u * 1024u)

struct harness {
	pid_t pid;
	int log_fd;
	char dir[64];
	char socket[128];
	char *log;	/* everything the supervisor logged so far */
	size_t log_len;
	size_t log_seen; /* how far harness_wait_log() has looked */
};

/* The binaries under test and the example scripts: $BEDDEL_SUPERVISOR,
 * $BEDDEL_RUN and $BEDDEL_EXAMPLES when set (tests/meson.build sets
 * them), else the ones of the build tree this harness was built in. */
const char *harness_supervisor_path(void);
const char *harness_run_path(void);
const char *harness_examples_dir(void);

/* Starts a supervisor with --workers `workers`, no transform workers
 * unless the extra arguments (NULL-terminated, may be NULL) ask for them,
 * and those arguments, and waits until that many workers are ready. Returns 0 or -errno; on failure nothing is left behind. */
int harness_start(struct harness *h, unsigned workers,
		  const char *const *extra_args);

/* As harness_start(), with the supervisor's RLIMIT_NOFILE, soft and hard,
 * set to nofile before it starts, as `ulimit -n` would; 0 leaves it the
 * test's own. */
int harness_start_nofile(struct harness *h, unsigned workers,
			 const char *const *extra_args, unsigned long nofile);

/* SIGTERM, then waits up to timeout_ms for the exit. Returns the wait
 * status, or -ETIMEDOUT (the supervisor is then killed). Removes the
 * temporary directory. */
int harness_stop(struct harness *h, int timeout_ms);

/* Reads whatever the supervisor has logged since the last call. */
void harness_drain_log(struct harness *h);

/* Waits until the log holds `count` lines containing needle after the
 * last line a previous wait matched. Returns 0 or -ETIMEDOUT. */
int harness_wait_log(struct harness *h, const char *needle, unsigned count,
		     int timeout_ms);

/* Counts lines of the whole log that contain needle. */
unsigned harness_count_log(struct harness *h, const char *needle);

/* Connects to the supervisor. Returns a blocking fd or -errno. */
int harness_connect(const struct harness *h);

/* Builds an exec frame. input_json may be NULL; timeout_ms may be 0. */
int harness_exec_frame(uint64_t id, const char *code, const char *input_json,
		       uint64_t timeout_ms, struct proto_frame *ret);

/* Runs code for tenant on fd and returns the response (ret_msg owns it).
 * Returns 0 or -errno. */
int harness_exec_for(int fd, uint64_t id, const char *tenant, const char *code,
		     struct proto_msg **ret_msg, struct proto_result *ret_res);

/* Runs code for tenant (NULL: the default) with timeout_ms (0: the
 * profile's) on a connection of its own, and gives the outcome. Returns
 * 0 or -errno. */
int harness_outcome_for(struct harness *h, const char *tenant,
			const char *code, uint64_t timeout_ms,
			enum outcome *ret_kind);

/* Sends an exec and reads the answer: ret_msg owns it, ret_res views it.
 * Returns 0 or -errno. */
int harness_exec(int fd, uint64_t id, const char *code, const char *input_json,
		 uint64_t timeout_ms, struct proto_msg **ret_msg,
		 struct proto_result *ret_res);

/* Reads one response frame within timeout_ms and decodes it. */
int harness_read_result(int fd, int timeout_ms, struct proto_msg **ret_msg,
			struct proto_result *ret_res);

/* Sends a status or metrics query (for tenant, or NULL) on a connection
 * of its own and reads the answer within 10 s: ret_msg owns it. Returns
 * 0 or -errno. */
int harness_query(const struct harness *h, enum proto_type type,
		  const char *tenant, struct proto_msg **ret_msg);

/* Prints a value as JSON into a new string (free() it). */
char *harness_value_json(const struct proto_value *v);

/* Children of the supervisor, up to max. Returns how many. */
size_t harness_children(const struct harness *h, pid_t *out, size_t max);

/* A child in state R (running a script), found within timeout_ms; or
 * -ETIMEDOUT. */
pid_t harness_busy_worker(const struct harness *h, int timeout_ms);

/* The value of the "Name:" line of /proc/PID/status, blanks trimmed, in
 * buf (empty when there is no such line). Returns 0 or -errno. */
int harness_proc_status(pid_t pid, const char *name, char *buf, size_t size);

/* The same for any /proc/PID file of "Name: value" lines (status,
 * smaps_rollup). */
int harness_proc_field(pid_t pid, const char *file, const char *name,
		       char *buf, size_t size);

/* A "Name: N kB" line of /proc/PID/file, in KiB; 0 when missing. */
uint64_t harness_proc_kib(pid_t pid, const char *file, const char *name);

/* Whether the supervisor's workers run in PID namespaces of their own
 * (their NSpid line lists two ids). Waits up to 5 s for a worker. */
bool harness_workers_have_own_pid_namespace(const struct harness *h);

/* Decodes a whole encoded frame (header and payload), as a peer would
 * read it, and releases the frame. Returns the message or NULL. */
struct proto_msg *harness_decode_frame(struct proto_frame *f);

/* Reads len bytes of msgpack, an engine's raw result value, back as a
 * client would (inside a result frame). Returns the message that owns
 * *ret_value (free it with proto_msg_free()), or NULL. */
struct proto_msg *harness_raw_value(const uint8_t *raw, size_t len,
				    const struct proto_value **ret_value);

/* Open fds of this process. */
unsigned harness_count_fds(void);

#endif
