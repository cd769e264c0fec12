/* SPDX-License-Identifier: MIT */
/*
 * One request run alone, in one sandboxed worker, through the same pool
 * code the supervisor uses. beddel-run only.
 */
#ifndef BEDDEL_SUPERVISOR_LOCAL_H
#define BEDDEL_SUPERVISOR_LOCAL_H

struct pool_config;
struct proto_exec;
struct proto_frame;

/* Starts a private pool of one worker, runs req in it, stops the pool,
 * and returns the encoded response (the same frame a supervisor would
 * send). Returns 0, or -errno when the pool could not run at all. */
int local_run(const struct pool_config *cfg, const struct proto_exec *req,
	      struct proto_frame *ret_frame);

#endif
