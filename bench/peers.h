/* SPDX-License-Identifier: MIT */
/*
 * The peers a user would otherwise pick, run beside Beddel in the same
 * benchmark: a Node.js process running bench/peers/peer.js, which
 * executes scripts with isolated-vm and Node's vm module and answers one
 * JSON line per request (the protocol is at the top of peer.js).
 */
#ifndef BEDDEL_BENCH_PEERS_H
#define BEDDEL_BENCH_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PEERS_WHY_MAX 512

struct peers {
	pid_t pid;
	int to_fd;   /* the driver's stdin */
	int from_fd; /* its stdout */
	char *line;  /* what was read past the last answer */
	size_t line_len;
	char node_version[32];
	char ivm_version[32]; /* empty: isolated-vm is not available */
	char why[PEERS_WHY_MAX]; /* why the driver or isolated-vm is not */
};

/* Starts `node --expose-gc --no-node-snapshot script` and asks what it
 * can run. Returns 0, or -errno with why filled (no Node.js, the driver
 * failed); either way peers_stop() must be called. isolated-vm missing
 * is not a failure: ivm_version stays empty and why says why. */
int peers_start(struct peers *p, const char *node, const char *script);

/* Whether mode (peer.js's name for it) can run here. */
bool peers_has_mode(const struct peers *p, const char *mode);

/* Runs code n times in mode: samples_ns gets each execution's time,
 * *ret_json the last one's value as JSON (free() it). Returns 0, or
 * -errno with why filled (the script failed, the driver died). */
int peers_run(struct peers *p, const char *mode, const char *code,
	      size_t n, uint64_t *samples_ns, char **ret_json, char *why,
	      size_t why_size);

/* Runs code back to back in mode for duration_ms; *ret_rate gets the
 * executions per second. */
int peers_throughput(struct peers *p, const char *mode, const char *code,
		     uint64_t duration_ms, double *ret_rate, char *why,
		     size_t why_size);

/* The resident memory one more live isolated-vm isolate (with one
 * context that ran a script) adds, averaged over isolates of them. */
int peers_isolate_rss(struct peers *p, unsigned isolates,
		      uint64_t *ret_bytes, char *why, size_t why_size);

/* Closes the driver's stdin, waits for it (killing it after a while) and
 * frees what p holds. Accepts a peers that never started. */
void peers_stop(struct peers *p);

#endif
