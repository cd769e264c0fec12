/* SPDX-License-Identifier: MIT */
/*
 * The msgpack messages of Beddel, as typed structs. This is the only module
 * that knows the msgpack layout (docs/PROTOCOL.md describes it for client
 * authors); everything else sees the structs below, a value reader
 * (struct proto_value) and a value writer (struct proto_writer).
 *
 * Decoders take untrusted bytes: they check every type and range, reject
 * unknown fields and trailing bytes, and never read past the length given.
 * Every function here may be called by any process (supervisor, worker
 * before or after its sandbox, beddel-run); none logs, none is
 * async-signal-safe (they allocate).
 */
#ifndef BEDDEL_COMMON_PROTO_H
#define BEDDEL_COMMON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/outcome.h"

/* Most arrays and maps a script value may nest, counting the outermost:
 * 24 arrays around a number are fine, 25 are not. The msgpack-c decoder
 * stops at 32 levels in all; a value sits two levels down in its message,
 * and the rest is margin. */
#define PROTO_VALUE_DEPTH_MAX 24

/* A whole frame ready to write: 4-byte header then payload. Release with
 * proto_frame_fini(). */
struct proto_frame {
	uint8_t *data;
	size_t len;
};

void proto_frame_fini(struct proto_frame *f);

/* ---- Values: read side -------------------------------------------- */

/* A decoded value. It points into the proto_msg it came from and lives
 * exactly as long as that message. */
struct proto_value;

enum proto_kind {
	PROTO_NIL,
	PROTO_UNDEFINED, /* ext type 0, empty: JavaScript undefined */
	PROTO_BOOL,
	PROTO_INT,   /* fits int64 */
	PROTO_UINT,  /* above INT64_MAX */
	PROTO_FLOAT, /* float32 or float64 */
	PROTO_STR,
	PROTO_ARRAY,
	PROTO_MAP,
	PROTO_UNSUPPORTED, /* bin, other ext types */
};

/* Readers of a decoded value. Each is total: asked of a value of another
 * kind it returns false, 0, "" (with *ret_len 0) or 0 elements. Indexes
 * must be below proto_value_count(); the returned values live as long
 * as the message. Any process; no side effects. */
enum proto_kind proto_value_kind(const struct proto_value *v);
bool proto_value_bool(const struct proto_value *v);
/* PROTO_INT as int64 (0 for other kinds). */
int64_t proto_value_int(const struct proto_value *v);
/* A non-negative integer as uint64 (0 for other kinds). */
uint64_t proto_value_uint(const struct proto_value *v);
/* Any number kind as a double. */
double proto_value_double(const struct proto_value *v);
/* A string's bytes (not NUL-terminated; may hold NUL). */
const char *proto_value_str(const struct proto_value *v, size_t *ret_len);
/* Number of elements of an array, or of pairs of a map; 0 otherwise. */
size_t proto_value_count(const struct proto_value *v);
const struct proto_value *proto_value_at(const struct proto_value *v,
					 size_t i);
const struct proto_value *proto_value_key(const struct proto_value *v,
					  size_t i);
const struct proto_value *proto_value_val(const struct proto_value *v,
					  size_t i);

/* The bytes v takes as msgpack (about: an encoder may pick a wider
 * form); 0 for NULL. */
uint64_t proto_value_size(const struct proto_value *v);

/* The value under the string key of a map, or NULL (also for values of
 * other kinds). */
const struct proto_value *proto_value_find(const struct proto_value *map,
					   const char *key);

/* ---- Values: write side ------------------------------------------- */

/* Builds one msgpack value incrementally, refusing to grow past
 * max_bytes. Every call returns 0, or the first error seen: -E2BIG past
 * the limit, -ENOMEM. Errors are sticky. */
struct proto_writer;

struct proto_writer *proto_writer_new(size_t max_bytes);
void proto_writer_free(struct proto_writer *w);
int proto_write_nil(struct proto_writer *w);
int proto_write_undefined(struct proto_writer *w);
int proto_write_bool(struct proto_writer *w, bool b);
int proto_write_int(struct proto_writer *w, int64_t i);
int proto_write_uint(struct proto_writer *w, uint64_t u);
int proto_write_double(struct proto_writer *w, double d);
int proto_write_str(struct proto_writer *w, const char *s, size_t len);
int proto_write_array(struct proto_writer *w, size_t count);
int proto_write_map(struct proto_writer *w, size_t count);
/* A map key: a string (status is sticky, as for every call here). */
void proto_write_key(struct proto_writer *w, const char *key);
int proto_writer_status(const struct proto_writer *w);
/* Bytes the writer may still take before its limit. */
size_t proto_writer_room(const struct proto_writer *w);
/* The bytes written so far; owned by w. */
const uint8_t *proto_writer_data(const struct proto_writer *w,
				 size_t *ret_len);

/* ---- Messages ----------------------------------------------------- */

enum proto_type {
	PROTO_MSG_EXEC,	 /* client -> supervisor, supervisor -> worker */
	PROTO_MSG_RESULT, /* worker -> supervisor, supervisor -> client */
	PROTO_MSG_READY,	 /* worker -> supervisor, once warm */
	PROTO_MSG_SETUP_FAILED, /* worker -> supervisor, then it exits */
	PROTO_MSG_VIOLATION, /* worker -> supervisor: a forbidden call, then
			      * it dies of SIGSYS */
	PROTO_MSG_STATUS,  /* client -> supervisor and back: statistics */
	PROTO_MSG_METRICS, /* client -> supervisor and back: Prometheus text */
	PROTO_MSG_SUBSCRIBE,  /* client -> supervisor: send me events */
	PROTO_MSG_SUBSCRIBED, /* supervisor -> client: events follow */
	PROTO_MSG_EVENT,      /* supervisor -> subscribed client */
	PROTO_MSG_SLOW,	      /* worker -> supervisor: still running, here */
};



/* A request to run a script. A zero limit means "not given". On the way
 * out, input_raw and props_raw (pre-encoded msgpack) are used when input
 * and props are NULL. */
struct proto_exec {
	bool has_id;
	uint64_t id;
	/* Supervisor to worker: the client's own id for the request, which
	 * the script may see (id is then the supervisor's number). */
	bool has_request_id;
	uint64_t request_id;
	const char *code;
	size_t code_len;
	bool is_function; /* "mode": "function" rather than "script" */
	const struct proto_value *input;
	const uint8_t *input_raw;
	size_t input_raw_len;
	const struct proto_value *props; /* function mode's second argument */
	const uint8_t *props_raw;
	size_t props_raw_len;
	const char *tenant;
	size_t tenant_len;
	const char *profile;
	size_t profile_len;
	unsigned restricted; /* RESTRICTED_* bits (common/restricted.h) */
	uint64_t timeout_ms;
	uint64_t cpu_ms;
	uint64_t instructions_max;
	uint64_t heap_limit_bytes;
	uint64_t result_max_bytes;
	uint64_t log_max_bytes;
	uint64_t slow_ms; /* supervisor -> worker: report the stack then */
	/* Supervisor -> worker: code is the transform's ES5 output (in
	 * function mode, a program whose value is the function). */
	bool is_transformed;
};

/* The record of one execution. Workers fill exec_us, cpu_us and
 * heap_peak_bytes; the supervisor fills the rest. tenant and profile
 * (tenant_len and profile_len bytes) are NULL when not known. */
struct proto_stats {
	uint64_t execution_id; /* the supervisor's number for it (req=) */
	const char *tenant;
	size_t tenant_len;
	const char *profile;
	size_t profile_len;
	uint64_t queue_us;
	uint64_t spawn_us; /* starting a worker it waited for; 0: none */
	uint64_t transform_us; /* lowering it to ES5.1 first; 0: none */
	uint64_t exec_us;
	uint64_t cpu_us;
	uint64_t total_us;
	uint64_t heap_peak_bytes;
	uint64_t rss_bytes; /* the worker's resident memory after it */
	uint64_t result_bytes;
	uint64_t log_bytes;
	uint64_t worker_pid;
	uint64_t worker_execs;
};

/* The answer to an exec. When outcome is OUTCOME_OK the value is set
 * (value when decoded; on the way out value, or value_raw if value is
 * NULL); otherwise message (and optionally stack and line) say what went
 * wrong. */
struct proto_result {
	bool has_id;
	uint64_t id;
	enum outcome outcome;
	const struct proto_value *value;
	const uint8_t *value_raw;
	size_t value_raw_len;
	const char *message;
	size_t message_len;
	const char *stack;
	size_t stack_len;
	uint64_t line;
	uint64_t column; /* a syntax error's, from the transform; 0: none */
	/* What the script wrote to its console: when decoded, logs (an
	 * array of [level, text] pairs, or NULL); on the way out logs, or
	 * logs_count pairs pre-encoded in logs_raw if logs is NULL. */
	const struct proto_value *logs;
	const uint8_t *logs_raw;
	size_t logs_raw_len;
	size_t logs_count;
	bool is_logs_truncated;
	struct proto_stats stats;
};

/* A result that reports an error of kind with message (kept by
 * reference), and no value or stats. */
struct proto_result proto_result_error(bool has_id, uint64_t id,
				       enum outcome kind, const char *message);

struct proto_setup_failed {
	const char *stage;
	size_t stage_len;
	int64_t err;
};

struct proto_msg;

/* Decodes one frame payload. Takes ownership of buf (a malloc()ed
 * block) whatever happens; the message points into it. Returns 0, or
 * -EBADMSG with *ret_why set to a static sentence for the peer. */
int proto_msg_decode(uint8_t *buf, size_t len, struct proto_msg **ret_msg,
		     const char **ret_why);
/* Frees a message and the buffer it was decoded from. Accepts NULL. */
void proto_msg_free(struct proto_msg *m);

/* The message's type, checked by proto_msg_decode(). */
enum proto_type proto_msg_type(const struct proto_msg *m);

/* The whole message as a value (a map), for generic printing. */
const struct proto_value *proto_msg_root(const struct proto_msg *m);

/* Views of a decoded message of the matching type. Each returns 0, or
 * -EBADMSG with *ret_why set when a field is missing, unknown or of the
 * wrong type. The views point into m. */
int proto_msg_exec(const struct proto_msg *m, struct proto_exec *ret_exec,
		   const char **ret_why);
int proto_msg_result(const struct proto_msg *m, struct proto_result *ret_result,
		     const char **ret_why);
int proto_msg_ready(const struct proto_msg *m, uint64_t *ret_heap_bytes,
		    const char **ret_why);
int proto_msg_setup_failed(const struct proto_msg *m,
			   struct proto_setup_failed *ret_setup,
			   const char **ret_why);

/* What a violation message reports: a forbidden syscall (its number, 0
 * to 4095; else -1), or the name of a restricted function the script
 * called (else NULL). Exactly one of them. */
struct proto_violation {
	int64_t syscall;
	const char *function;
	size_t function_len;
};

int proto_msg_violation(const struct proto_msg *m,
			struct proto_violation *ret_violation,
			const char **ret_why);

/* A best-effort request id of a message that failed to decode as an
 * exec, so that the error reply can carry it. */
bool proto_msg_peek_id(const struct proto_msg *m, uint64_t *ret_id);

/* Encoders. Each returns 0 with a new frame, or -ENOMEM / -E2BIG (above
 * IPC_FRAME_MAX_CEILING). */
int proto_encode_exec(const struct proto_exec *e, struct proto_frame *ret_frame);
int proto_encode_result(const struct proto_result *r,
			struct proto_frame *ret_frame);
int proto_encode_ready(uint64_t heap_bytes, struct proto_frame *ret_frame);

/* Like proto_encode_result(), but when r cannot be encoded (out of
 * memory, or too large) encodes an `internal` error with r's id instead,
 * so that the peer still gets its answer. Fails only when even that
 * fails. */
int proto_encode_result_or_internal(const struct proto_result *r,
				    struct proto_frame *ret_frame);
int proto_encode_setup_failed(const char *stage, int err,
			      struct proto_frame *ret_frame);

/* Room for a whole violation frame. */
#define PROTO_VIOLATION_FRAME_MAX 64

/* Writes a violation frame for syscall number nr into buf (at least
 * PROTO_VIOLATION_FRAME_MAX bytes) and returns its length. Allocates
 * nothing: async-signal-safe, for the worker's SIGSYS handler. */
size_t proto_encode_violation(int64_t nr, uint8_t *buf);

/* A violation frame that names a restricted function. Returns 0 or
 * -ENOMEM. */
int proto_encode_restricted_call(const char *function,
				 struct proto_frame *ret_frame);

/* A status or metrics request: an optional id, and for status an
 * optional tenant whose statistics to add. */
struct proto_query {
	bool has_id;
	uint64_t id;
	const char *tenant;
	size_t tenant_len;
};

/* Decodes a status or metrics request. Returns 0 or -EBADMSG. */
int proto_msg_query(const struct proto_msg *m, struct proto_query *ret,
		    const char **ret_why);

/* The answer to a query: {type, id, key: value}, value given as len bytes
 * of encoded msgpack. Returns 0, -ENOMEM or -E2BIG. */
/* {type: "event", event, time_ms, fields}, the fields a pre-encoded map
 * of len bytes. Returns 0, -ENOMEM or -E2BIG. */
int proto_encode_event(const char *event, uint64_t time_ms,
		       const uint8_t *fields, size_t len,
		       struct proto_frame *ret_frame);

/* A worker's report that its script passed slow_ms: its stack, and how
 * long it had run. */
int proto_encode_slow(const char *stack, uint64_t elapsed_us,
		      struct proto_frame *ret_frame);
int proto_msg_slow(const struct proto_msg *m, const char **ret_stack,
		   size_t *ret_stack_len, uint64_t *ret_elapsed_us,
		   const char **ret_why);

/* A status or metrics request. Returns 0 or -ENOMEM. */
int proto_encode_query(enum proto_type type, const struct proto_query *q,
		       struct proto_frame *ret_frame);

int proto_encode_report(enum proto_type type, bool has_id, uint64_t id,
			const char *key, const uint8_t *value, size_t len,
			struct proto_frame *ret_frame);

/* The value under key of a decoded message, or NULL. */
const struct proto_value *proto_msg_get(const struct proto_msg *m,
					const char *key);

#endif
