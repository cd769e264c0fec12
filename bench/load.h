/* SPDX-License-Identifier: MIT */
/*
 * The load generator of bench_load: many concurrent connections to a
 * supervisor from one thread, in a closed loop (a fixed number of requests
 * in flight) or an open loop (requests sent on a schedule whatever the
 * replies), each request for one of many tenants, every reply checked; the
 * pool sampled over time; the figures summed up in a report, as text or
 * JSON. Runs in a client process, never in the supervisor or a worker. It
 * trusts the supervisor no further than its frames: a refused or closed
 * connection, and a stray or unreadable reply, are counted, never fatal.
 */
#ifndef BEDDEL_BENCH_LOAD_H
#define BEDDEL_BENCH_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "common/outcome.h"

struct harness;

#define LOAD_CONNECTIONS_MAX 1000
#define LOAD_TENANTS_MAX 1000
/* The supervisor reads at most 256 requests of one connection ahead of
 * their answers (CLIENT_IN_FLIGHT_MAX); more would only wait in the
 * socket. */
#define LOAD_PIPELINE_MAX 256
/* How long answers may take after the last request went out before the
 * requests still unanswered count as lost: the supervisor's longest
 * queue wait (10 s) and the default profile's timeout (5 s), and room. */
#define LOAD_GRACE_MS 20000u

struct load_config {
	const char *socket_path;  /* a running supervisor */
	pid_t supervisor_pid;     /* for /proc reads of its workers; 0: none */
	unsigned connections;     /* 1 to LOAD_CONNECTIONS_MAX */
	unsigned pipeline;        /* closed loop: requests in flight each */
	double rate_per_s;        /* 0: closed loop; else the open loop's */
	unsigned tenants;         /* 1 to LOAD_TENANTS_MAX: "t0", "t1"... */
	bool is_skewed;           /* false: uniform; true: Zipf, s = 1 */
	uint64_t warmup_ms;       /* run, not counted */
	uint64_t duration_ms;     /* counted */
	uint64_t sample_ms;       /* how often the pool is sampled */
	const char *code;         /* the script of every request */
	const char *expected_json;/* JSON every ok reply's value must equal */
	uint64_t seed;            /* tenant draws are reproducible */
	/* A supervisor started with harness_start(), whose log pipe the run
	 * empties as it fills (it blocks the supervisor when full); NULL for
	 * one whose stderr is somebody else's business. */
	struct harness *harness;
};

/* Order statistics of one latency, in microseconds, over count values. */
struct load_latency {
	uint64_t count;
	uint64_t median_us;
	uint64_t p90_us;
	uint64_t p99_us;
	uint64_t max_us;
	double mean_us;
};

/* Where in a run a sample was taken. */
enum load_phase {
	LOAD_PHASE_WARMUP,
	LOAD_PHASE_COUNTED,
	LOAD_PHASE_AFTER, /* waiting for the last answers, and the end */
};

/* The pool at one moment. has_status is false when the supervisor did not
 * answer the status query before the run ended. */
struct load_sample {
	uint64_t t_ms; /* since the run began, warm-up included */
	enum load_phase phase;
	bool has_status;
	unsigned workers;
	unsigned busy;
	unsigned queued;
	double utilisation; /* the supervisor's, over its sizing window */
	uint64_t rss_bytes; /* the supervisor's sum over its workers */
	uint64_t proc_rss_bytes; /* VmRSS of its children; 0: not read */
	/* The status query's round trip: building the answer holds up the
	 * supervisor's loop, so sampling often costs the load. 0: unknown. */
	uint64_t status_us;
};

/* What one run measured. Every request sent after the warm-up ends in
 * exactly one of ok, wrong, errors, cut or lost. */
struct load_report {
	uint64_t sent;
	uint64_t ok;     /* outcome ok, and the expected value */
	uint64_t wrong;  /* outcome ok, another value */
	uint64_t errors; /* any other outcome; by_outcome names them */
	uint64_t by_outcome[OUTCOME_COUNT];
	uint64_t cut;  /* its connection ended before the answer */
	uint64_t lost; /* no answer within LOAD_GRACE_MS of the end */
	uint64_t unsent; /* open loop: due, and no connection could take it */
	uint64_t refused; /* connections answered `overloaded` at once */
	uint64_t closed;  /* connections the supervisor ended */
	uint64_t connect_failures; /* connect() failed, a full backlog aside */
	uint64_t stray;   /* answers to no request in flight, or unreadable */
	double elapsed_s; /* of the counted part */
	/* Answers of outcome ok that came in the counted part, per second. */
	double throughput_per_s;
	/* This process's CPU time and the wall time of the whole run, warm-up
	 * and waits included: a client near a whole core is the bottleneck. */
	double client_cpu_s;
	double client_wall_s;
	/* Over the ok and wrong answers: the client's round trip (from the
	 * scheduled send in an open loop), and the supervisor's stats. */
	struct load_latency round_trip;
	struct load_latency queue;
	struct load_latency exec;
	struct load_latency total;
	struct load_sample *samples;
	size_t n_samples;
	size_t samples_missed;
	double utilisation_mean; /* the supervisor's, counted samples */
	double busy_mean;        /* busy over workers, counted samples */
	unsigned workers_max;    /* over the whole run */
	unsigned workers_final;  /* after the last answer; 0: not known */
	uint64_t rss_max_bytes;  /* the supervisor's figure */
	uint64_t proc_rss_max_bytes; /* from /proc; 0: not read */
	uint64_t status_max_us;  /* status queries' round trips */
	double status_mean_us;
};

/* Drives the supervisor at c->socket_path as c says, for c->warmup_ms and
 * then c->duration_ms, waits up to LOAD_GRACE_MS for the answers still
 * due, and fills *ret (release it with load_report_fini()). Returns 0, or
 * -EINVAL for a configuration out of range, -ENOMEM, or -errno of a
 * socket or poll call; a connection the supervisor refuses or ends is
 * counted and opened again, not an error. Opens and closes its own
 * connections and leaves no fd open; its writes never raise SIGPIPE. */
int load_run(const struct load_config *c, struct load_report *ret);

/* Frees what a report holds. Accepts a report load_run() did not fill if
 * it was zeroed. */
void load_report_fini(struct load_report *r);

/* The report as a new JSON object (json_decref() it). Returns 0 or
 * -ENOMEM. */
int load_report_json(const struct load_report *r, json_t **ret);

/* Prints the report as readable text. */
void load_report_print(const struct load_report *r, FILE *out);

/* One row of load_table(): the figures of one run for a tenant count. */
struct load_row {
	unsigned tenants;
	double round_trip_mean_us;
	double exec_mean_us;
	uint64_t rss_max_bytes; /* from /proc when read, else the status */
	double utilisation_mean;
	uint64_t median_us; /* client round trip */
	uint64_t p99_us;
	double throughput_per_s;
	unsigned workers_max;
	uint64_t errors;
	uint64_t wrong;
	uint64_t lost; /* lost, cut and unsent together */
	unsigned survivors; /* its workers still alive after it stopped */
};

/* Starts a fresh supervisor with harness_start(h, workers, args) (args
 * NULL-terminated, may be NULL), runs load_run() against it with base's
 * settings (its socket_path, supervisor_pid and harness are replaced),
 * stops it and counts its workers still alive after into
 * *ret_survivors. Returns 0 with *ret filled (load_report_fini() it), or
 * -errno after a line on stderr: the start, the run or the stop failed
 * (a supervisor that did not exit cleanly is -ECHILD). */
int load_run_fresh(const struct load_config *base, unsigned workers,
		   const char *const *args, struct load_report *ret,
		   unsigned *ret_survivors);

/* For each of the n tenant counts, starts a fresh supervisor with
 * harness_start(h, workers, args) (args NULL-terminated, may be NULL),
 * runs load_run() against it with base's settings and that many tenants
 * (base's socket_path, supervisor_pid, tenants and harness are replaced),
 * prints that run's report on out (NULL: nowhere), stops the supervisor,
 * and fills one row. Returns 0 with *ret_rows (n rows; free() them), or
 * the first error, after a line on stderr that says which step failed. */
int load_table(const struct load_config *base, unsigned workers,
	       const char *const *args, const unsigned *counts, size_t n,
	       FILE *out, struct load_row **ret_rows);

/* The rows as a new JSON array (json_decref() it). Returns 0 or
 * -ENOMEM. */
int load_table_json(const struct load_row *rows, size_t n, json_t **ret);

/* Prints the rows as a table. */
void load_table_print(const struct load_row *rows, size_t n, FILE *out);

/* The pid of the process listening on socket_path, from SO_PEERCRED
 * (unix(7)): the supervisor, for /proc reads of its workers. Returns 0
 * when it cannot be known (no connection, another PID namespace). */
pid_t load_supervisor_pid(const char *socket_path);

/* Waits up to timeout_ms for the n processes to be gone. Returns how many
 * are still alive then. */
unsigned load_count_alive(const pid_t *pids, size_t n, int timeout_ms);

#endif
