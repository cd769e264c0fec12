/* SPDX-License-Identifier: MIT */
/*
 * The steps of beddel-run: read the script, get an answer (from a
 * supervisor, or from one worker of its own), report it. beddel-run only.
 */
#ifndef BEDDEL_SUPERVISOR_RUN_H
#define BEDDEL_SUPERVISOR_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proto_exec;

/* Reads a whole script file, or stdin for "-", into a new NUL-terminated
 * buffer (free() it), at most IPC_FRAME_MAX_CEILING bytes. Returns 0, or
 * -errno (-EFBIG past the ceiling); outputs untouched on failure. */
int run_read_script(const char *path, char **ret_text, size_t *ret_len);

/* Sends exec to the supervisor at socket and returns its answer's payload
 * (free() it, or hand it to run_report()). When no answer comes (no
 * supervisor listens, or it goes away first), sends it again for up to
 * retry_ms (0: no retry). Returns 0, or -EHOSTUNREACH after printing why
 * it could not get one. SIGPIPE must be ignored. */
int run_call_supervisor(const char *socket, const struct proto_exec *exec,
			uint64_t retry_ms, uint8_t **ret_buf, size_t *ret_len);

/* Runs exec in a private pool of one sandboxed worker (without namespaces
 * if is_namespaces_off), with the profiles of the file at profiles_path
 * (NULL: the ones Beddel ships), and returns
 * the answer's payload, as a supervisor would send it. Returns 0 or
 * -errno after printing why. */
int run_alone(const struct proto_exec *exec, const char *profiles_path,
	      bool is_namespaces_off, uint8_t **ret_buf, size_t *ret_len);

/* Prints an answer (takes ownership of buf): the value as JSON on stdout,
 * or "KIND: message" on stderr, after the script's console entries on
 * stderr; with is_json the whole response; with is_stats the figures on
 * stderr. Returns the exit code for it. */
int run_report(uint8_t *buf, size_t len, bool is_json, bool is_stats);

/* beddel-run --status / --metrics: asks the supervisor at socket and
 * prints its answer: status as tables (or JSON with is_json), with one
 * tenant's statistics if tenant is not NULL; metrics as Prometheus text.
 * Returns the exit code. */
int run_query(const char *socket, bool is_metrics, const char *tenant,
	      bool is_json);

/* beddel-run --watch: subscribes to the supervisor's events at socket
 * and prints each as a line (or JSON with is_json) until the supervisor
 * stops. Returns the exit code. */
int run_watch(const char *socket, bool is_json);

/* beddel-run --check: starts one worker as a supervisor would (with the
 * profiles of profiles_path, NULL for the shipped ones; without
 * namespaces if is_namespaces_off), prints each
 * protection and whether it is active, as the worker's /proc entries
 * show it. Returns the exit code: 0 when every required protection is
 * active, 1 when one is missing or no worker could start. */
int run_check(const char *profiles_path, bool is_namespaces_off);

#endif
