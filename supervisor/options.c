/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's options: from the command line and from a --config
 * file (YAML, one `name: value` per option), with their ranges, into a
 * struct server_config. Supervisor process, before the server runs.
 * Messages go to stderr: there is no log yet.
 */
#include "supervisor/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/util.h"
#include "config.h"
#include "supervisor/server.h"
#include "supervisor/profile.h"
#include "supervisor/spawn.h"
#include "supervisor/yaml_file.h"

static void
usage(FILE *out, const struct server_config *d)
{
	fprintf(out,
		"Usage: beddel-supervisor [OPTION]...\n"
		"Run JavaScript in sandboxed Duktape workers behind a Unix socket.\n"
		"Runs in the foreground and logs one line per event to stderr.\n"
		"\n"
		"  --socket PATH            listen here (default: %s)\n"
		"  --socket-mode OCTAL      file mode of the socket (default: %04o)\n"
		"  --workers N              warm workers kept ready (default: %u)\n"
		"  --max-workers M          most workers at once (default: %u)\n"
		"  --queue-max N            requests that may wait for a worker (default: %u)\n"
		"  --queue-max-per-tenant N waiting requests one tenant may hold (default:\n"
		"                           no limit of its own; a full queue makes room\n"
		"                           for a tenant under its fair share)\n"
		"  --queue-max-wait-ms MS   longest wait for a worker before 'overloaded'\n"
		"                           (default: %llu)\n"
		"  --memory-budget-bytes N  resident memory of all workers together; no\n"
		"                           worker beyond the first starts past it (default:\n"
		"                           half the host's memory, here %llu; 0: none)\n"
		"  --config PATH            read these options from a YAML file first, one\n"
		"                           'name: value' per option (command-line options\n"
		"                           given too win)\n"
		"  --profiles PATH          security profiles file (default: %s)\n"
		"  --timeout-ms MS          lower every profile's wall-clock timeout (and CPU\n"
		"                           limit) to MS (default: as the profiles say)\n"
		"  --heap-limit-bytes N     lower every profile's heap cap to N\n"
		"  --result-max-bytes N     lower every profile's result limit to N\n"
		"  --worker-max-execs N     replace a worker after N executions (default: %llu)\n"
		"  --worker-rss-max-bytes N replace a worker whose resident memory passes N\n"
		"                           after a request (default: %llu)\n"
		"  --idle-timeout-ms MS     retire a worker idle this long, down to --workers\n"
		"                           (default: %llu)\n"
		"  --quarantine-strikes N   refuse a script that took down N workers of its\n"
		"                           tenant (timeout, memory, crash) (default: %u)...\n"
		"  --quarantine-window-ms MS  ...within this window, for its rest (default:\n"
		"                           %llu)\n"
		"  --scale-interval-ms MS   how often the pool size is reconsidered (default:\n"
		"                           %llu)\n"
		"  --scale-grow-latency-us US  grow when p95 latency passes this while\n"
		"                           requests wait (default: %llu), or utilisation\n"
		"                           x 1.2 passes 0.8\n"
		"  --scale-shrink-latency-us US  shrink when p95 latency is under this\n"
		"                           (default: %llu) and utilisation under 0.3\n"
		"  --scale-advise-only      log sizing decisions without acting on them\n"
		"  --frame-max-bytes N      largest frame a client may send (default: %zu)\n"
		"  --max-clients N          most client connections at once (default: %u)\n"
		"  --stall-timeout-ms MS    close a client whose frame has not arrived whole\n"
		"                           this long after its first byte, or that reads\n"
		"                           none of its answers for this long\n"
		"                           (default: %u)\n"
		"  --no-namespaces          start workers without network, mount, IPC, UTS\n"
		"                           and PID namespaces even where the host allows\n"
		"                           them (the other protections stay)\n"
		"  --history N              execution records kept for statistics (default: %zu)\n"
		"  --slow-ms MS             log an execution still running after MS with its\n"
		"                           stack at that moment, and tell subscribers\n"
		"                           (default: %llu; 0: never)\n"
		"  --drain-timeout-ms MS    on SIGTERM or SIGINT, how long requests in\n"
		"                           flight and queued may take before they are\n"
		"                           answered 'overloaded' (default: %llu; 0: no limit)\n"
		"  --transform-workers-max N  most transform workers, which lower ES2015+\n"
		"                           scripts to ES5.1 (default: %u; 0: no transform,\n"
		"                           such scripts get syntax_error)\n"
		"  --transform-cache-max-bytes N  transformed source kept per tenant and\n"
		"                           script, in all (default: %llu; 0: none)\n"
		"  --alert-exec-warn-us US, --alert-exec-crit-us US\n"
		"                           alert on an execution longer than this in the\n"
		"                           engine (default: %llu, %llu)\n"
		"  --alert-heap-warn-bytes N, --alert-heap-crit-bytes N\n"
		"                           ...on one whose peak heap passes N (default:\n"
		"                           %llu, %llu)\n"
		"  --alert-success-warn-permille N, --alert-success-crit-permille N\n"
		"                           ...when the last minute's service success rate\n"
		"                           falls below N/1000 (default: %.0f, %.0f)\n"
		"  --alert-utilisation-warn-permille N, --alert-utilisation-crit-permille N\n"
		"                           ...when pool utilisation passes N/1000 (default:\n"
		"                           %.0f, %.0f)\n"
		"  --alert-spawn-warn-us US, --alert-spawn-crit-us US\n"
		"                           ...when a worker takes longer to start (default:\n"
		"                           %llu, %llu)\n"
		"  --alert-repeat-ms MS     say the same alert at most once per MS, counting\n"
		"                           the others (default: %llu)\n"
		"  --no-monitor             record no executions: empty statistics, no\n"
		"                           per-execution alerts\n"
		"  --worker PATH            worker binary (default: $BEDDEL_WORKER, else found\n"
		"                           beside this program or in %s)\n"
		"  --log-level LEVEL        error, warn, notice, info or debug (default: info)\n"
		"  --log-format FORMAT      human (default), or json: one object per line\n"
		"                           with the keys time, program, pid, level, module,\n"
		"                           event, fields and message\n"
		"  --help                   show this help\n"
		"  --version                show the version\n"
		"\n"
		"SIGTERM or SIGINT stops accepting, finishes requests in flight (up to\n"
		"--drain-timeout-ms), stops the workers, removes the socket and exits 0; a\n"
		"second signal stops at once. SIGHUP reads --config, the command line and\n"
		"the profiles again; options of the socket, clients, worker binary,\n"
		"namespaces, transform, monitor and drain change only at a restart.\n",
		server_default_socket(), (unsigned)d->socket_mode,
		d->pool.min_workers, d->pool.max_workers, d->pool.queue_max,
		(unsigned long long)d->pool.queue_max_wait_ms,
		(unsigned long long)d->pool.memory_budget_bytes,
		BEDDEL_PROFILES_PATH,
		(unsigned long long)d->pool.worker_max_execs,
		(unsigned long long)d->pool.worker_rss_max_bytes,
		(unsigned long long)d->pool.idle_timeout_ms,
		d->pool.quarantine_strikes,
		(unsigned long long)d->pool.quarantine_window_ms,
		(unsigned long long)d->pool.scale_interval_ms,
		(unsigned long long)d->pool.scale.grow_latency_us,
		(unsigned long long)d->pool.scale.shrink_latency_us,
		d->clients.frame_max_bytes, d->clients.max_clients,
		d->clients.stall_ms, d->monitor.history_max,
		(unsigned long long)d->pool.slow_ms,
		(unsigned long long)d->drain_timeout_ms,
		d->transform.max_workers,
		(unsigned long long)d->transform.cache_max_bytes,
		(unsigned long long)d->monitor.thresholds.exec_warn_us,
		(unsigned long long)d->monitor.thresholds.exec_crit_us,
		(unsigned long long)d->monitor.thresholds.heap_warn_bytes,
		(unsigned long long)d->monitor.thresholds.heap_crit_bytes,
		d->monitor.thresholds.success_warn * 1000,
		d->monitor.thresholds.success_crit * 1000,
		d->monitor.thresholds.utilisation_warn * 1000,
		d->monitor.thresholds.utilisation_crit * 1000,
		(unsigned long long)d->monitor.thresholds.spawn_warn_us,
		(unsigned long long)d->monitor.thresholds.spawn_crit_us,
		(unsigned long long)d->monitor.alert_repeat_ms,
		BEDDEL_LIBEXECDIR);
}

/* --profiles, kept until the other options are read. */
static const char *profiles_path;

enum {
	OPT_SOCKET = 1000,
	OPT_SOCKET_MODE,
	OPT_WORKERS,
	OPT_MAX_WORKERS,
	OPT_QUEUE_MAX,
	OPT_TIMEOUT_MS,
	OPT_HEAP_LIMIT,
	OPT_RESULT_MAX,
	OPT_FRAME_MAX,
	OPT_MAX_EXECS,
	OPT_QUEUE_WAIT,
	OPT_QUEUE_TENANT,
	OPT_STRIKES,
	OPT_STRIKE_WINDOW,
	OPT_SCALE_INTERVAL,
	OPT_SCALE_GROW,
	OPT_SCALE_SHRINK,
	OPT_SCALE_ADVISE,
	OPT_NO_NAMESPACES,
	OPT_NO_MONITOR,
	OPT_BUDGET,
	OPT_RSS_MAX,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_CLIENTS,
	OPT_STALL_MS,
	OPT_WORKER,
	OPT_CONFIG,
	OPT_PROFILES,
	OPT_HISTORY,
	OPT_SLOW,
	OPT_TRANSFORM_WORKERS,
	OPT_DRAIN_TIMEOUT,
	OPT_TRANSFORM_CACHE,
	OPT_ALERT_EXEC_WARN,
	OPT_ALERT_EXEC_CRIT,
	OPT_ALERT_HEAP_WARN,
	OPT_ALERT_HEAP_CRIT,
	OPT_ALERT_SUCCESS_WARN,
	OPT_ALERT_SUCCESS_CRIT,
	OPT_ALERT_UTIL_WARN,
	OPT_ALERT_UTIL_CRIT,
	OPT_ALERT_SPAWN_WARN,
	OPT_ALERT_SPAWN_CRIT,
	OPT_ALERT_REPEAT,
	OPT_LOG_LEVEL,
	OPT_LOG_FORMAT,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "socket-mode", required_argument, NULL, OPT_SOCKET_MODE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-workers", required_argument, NULL, OPT_MAX_WORKERS },
	{ "queue-max", required_argument, NULL, OPT_QUEUE_MAX },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
	{ "heap-limit-bytes", required_argument, NULL, OPT_HEAP_LIMIT },
	{ "result-max-bytes", required_argument, NULL, OPT_RESULT_MAX },
	{ "frame-max-bytes", required_argument, NULL, OPT_FRAME_MAX },
	{ "worker-max-execs", required_argument, NULL, OPT_MAX_EXECS },
	{ "queue-max-wait-ms", required_argument, NULL, OPT_QUEUE_WAIT },
	{ "queue-max-per-tenant", required_argument, NULL, OPT_QUEUE_TENANT },
	{ "quarantine-strikes", required_argument, NULL, OPT_STRIKES },
	{ "quarantine-window-ms", required_argument, NULL, OPT_STRIKE_WINDOW },
	{ "scale-interval-ms", required_argument, NULL, OPT_SCALE_INTERVAL },
	{ "scale-grow-latency-us", required_argument, NULL, OPT_SCALE_GROW },
	{ "scale-shrink-latency-us", required_argument, NULL, OPT_SCALE_SHRINK },
	{ "scale-advise-only", no_argument, NULL, OPT_SCALE_ADVISE },
	{ "no-namespaces", no_argument, NULL, OPT_NO_NAMESPACES },
	{ "no-monitor", no_argument, NULL, OPT_NO_MONITOR },
	{ "memory-budget-bytes", required_argument, NULL, OPT_BUDGET },
	{ "worker-rss-max-bytes", required_argument, NULL, OPT_RSS_MAX },
	{ "idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "stall-timeout-ms", required_argument, NULL, OPT_STALL_MS },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "profiles", required_argument, NULL, OPT_PROFILES },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "slow-ms", required_argument, NULL, OPT_SLOW },
	{ "transform-workers-max", required_argument, NULL,
	  OPT_TRANSFORM_WORKERS },
	{ "drain-timeout-ms", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "transform-cache-max-bytes", required_argument, NULL,
	  OPT_TRANSFORM_CACHE },
	{ "alert-exec-warn-us", required_argument, NULL, OPT_ALERT_EXEC_WARN },
	{ "alert-exec-crit-us", required_argument, NULL, OPT_ALERT_EXEC_CRIT },
	{ "alert-heap-warn-bytes", required_argument, NULL, OPT_ALERT_HEAP_WARN },
	{ "alert-heap-crit-bytes", required_argument, NULL, OPT_ALERT_HEAP_CRIT },
	{ "alert-success-warn-permille", required_argument, NULL,
	  OPT_ALERT_SUCCESS_WARN },
	{ "alert-success-crit-permille", required_argument, NULL,
	  OPT_ALERT_SUCCESS_CRIT },
	{ "alert-utilisation-warn-permille", required_argument, NULL,
	  OPT_ALERT_UTIL_WARN },
	{ "alert-utilisation-crit-permille", required_argument, NULL,
	  OPT_ALERT_UTIL_CRIT },
	{ "alert-spawn-warn-us", required_argument, NULL, OPT_ALERT_SPAWN_WARN },
	{ "alert-spawn-crit-us", required_argument, NULL, OPT_ALERT_SPAWN_CRIT },
	{ "alert-repeat-ms", required_argument, NULL, OPT_ALERT_REPEAT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* origin names where an option's value came from in error messages:
 * "--workers" on the command line, "FILE:LINE: 'workers'" from --config. */
static int
parse_number(const char *origin, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *ret)
{
	int r = util_parse_u64(arg, min, max, ret);
	if (r < 0)
		fprintf(stderr, "beddel-supervisor: %s wants a whole number from %llu to %llu, not '%s'\n",
			origin, (unsigned long long)min, (unsigned long long)max,
			arg);
	return r;
}

/* The numeric options: where each goes, how wide the field is, and the
 * range it accepts. */
enum field_width {
	FIELD_U64,
	FIELD_UNSIGNED,
	FIELD_SIZE,
	FIELD_PER_MILLE, /* a whole number of thousandths, into a double */
};

#define FIELD(member) offsetof(struct server_config, member)

static const struct number_option {
	int opt;
	const char *name;
	uint64_t min;
	uint64_t max;
	enum field_width width;
	size_t offset;
} number_options[] = {
	{ OPT_WORKERS, "workers", 0, POOL_MAX_WORKERS_CEILING, FIELD_UNSIGNED,
	  FIELD(pool.min_workers) },
	{ OPT_MAX_WORKERS, "max-workers", 1, POOL_MAX_WORKERS_CEILING,
	  FIELD_UNSIGNED, FIELD(pool.max_workers) },
	{ OPT_QUEUE_MAX, "queue-max", 0, 1000000, FIELD_UNSIGNED,
	  FIELD(pool.queue_max) },
	{ OPT_QUEUE_TENANT, "queue-max-per-tenant", 1, 1000000, FIELD_UNSIGNED,
	  FIELD(pool.queue_max_per_tenant) },
	{ OPT_QUEUE_WAIT, "queue-max-wait-ms", 1, 3600000, FIELD_U64,
	  FIELD(pool.queue_max_wait_ms) },
	{ OPT_TIMEOUT_MS, "timeout-ms", 1, 3600000, FIELD_U64,
	  FIELD(pool.cap_timeout_ms) },
	{ OPT_HEAP_LIMIT, "heap-limit-bytes", 65536,
	  PROFILE_HEAP_LIMIT_BYTES_CEILING, FIELD_U64,
	  FIELD(pool.cap_heap_limit_bytes) },
	{ OPT_RESULT_MAX, "result-max-bytes", 64, IPC_FRAME_MAX_CEILING / 4,
	  FIELD_U64, FIELD(pool.cap_result_max_bytes) },
	{ OPT_FRAME_MAX, "frame-max-bytes", 64, IPC_FRAME_MAX_CEILING / 2,
	  FIELD_SIZE, FIELD(clients.frame_max_bytes) },
	{ OPT_MAX_EXECS, "worker-max-execs", 1, UINT64_MAX, FIELD_U64,
	  FIELD(pool.worker_max_execs) },
	{ OPT_RSS_MAX, "worker-rss-max-bytes", 65536, UINT64_MAX, FIELD_U64,
	  FIELD(pool.worker_rss_max_bytes) },
	{ OPT_IDLE_TIMEOUT, "idle-timeout-ms", 10, 86400000, FIELD_U64,
	  FIELD(pool.idle_timeout_ms) },
	{ OPT_BUDGET, "memory-budget-bytes", 0, UINT64_MAX, FIELD_U64,
	  FIELD(pool.memory_budget_bytes) },
	{ OPT_STRIKES, "quarantine-strikes", 1, 1000000, FIELD_UNSIGNED,
	  FIELD(pool.quarantine_strikes) },
	{ OPT_STRIKE_WINDOW, "quarantine-window-ms", 1, 86400000, FIELD_U64,
	  FIELD(pool.quarantine_window_ms) },
	{ OPT_SCALE_INTERVAL, "scale-interval-ms", 10, 86400000, FIELD_U64,
	  FIELD(pool.scale_interval_ms) },
	{ OPT_SCALE_GROW, "scale-grow-latency-us", 1, UINT64_MAX, FIELD_U64,
	  FIELD(pool.scale.grow_latency_us) },
	{ OPT_SCALE_SHRINK, "scale-shrink-latency-us", 1, UINT64_MAX,
	  FIELD_U64, FIELD(pool.scale.shrink_latency_us) },
	{ OPT_MAX_CLIENTS, "max-clients", 1, 1000000, FIELD_UNSIGNED,
	  FIELD(clients.max_clients) },
	{ OPT_STALL_MS, "stall-timeout-ms", 10, 3600000, FIELD_UNSIGNED,
	  FIELD(clients.stall_ms) },
	{ OPT_HISTORY, "history", 1, MONITOR_HISTORY_CEILING, FIELD_SIZE,
	  FIELD(monitor.history_max) },
	{ OPT_SLOW, "slow-ms", 0, 3600000, FIELD_U64, FIELD(pool.slow_ms) },
	{ OPT_DRAIN_TIMEOUT, "drain-timeout-ms", 0, 86400000, FIELD_U64,
	  FIELD(drain_timeout_ms) },
	{ OPT_TRANSFORM_WORKERS, "transform-workers-max", 0, 64,
	  FIELD_UNSIGNED, FIELD(transform.max_workers) },
	{ OPT_TRANSFORM_CACHE, "transform-cache-max-bytes", 0, UINT64_MAX,
	  FIELD_U64, FIELD(transform.cache_max_bytes) },
	{ OPT_ALERT_EXEC_WARN, "alert-exec-warn-us", 1, UINT64_MAX, FIELD_U64,
	  FIELD(monitor.thresholds.exec_warn_us) },
	{ OPT_ALERT_EXEC_CRIT, "alert-exec-crit-us", 1, UINT64_MAX, FIELD_U64,
	  FIELD(monitor.thresholds.exec_crit_us) },
	{ OPT_ALERT_HEAP_WARN, "alert-heap-warn-bytes", 1, UINT64_MAX,
	  FIELD_U64, FIELD(monitor.thresholds.heap_warn_bytes) },
	{ OPT_ALERT_HEAP_CRIT, "alert-heap-crit-bytes", 1, UINT64_MAX,
	  FIELD_U64, FIELD(monitor.thresholds.heap_crit_bytes) },
	{ OPT_ALERT_SUCCESS_WARN, "alert-success-warn-permille", 0, 1000,
	  FIELD_PER_MILLE, FIELD(monitor.thresholds.success_warn) },
	{ OPT_ALERT_SUCCESS_CRIT, "alert-success-crit-permille", 0, 1000,
	  FIELD_PER_MILLE, FIELD(monitor.thresholds.success_crit) },
	{ OPT_ALERT_UTIL_WARN, "alert-utilisation-warn-permille", 0, 1000,
	  FIELD_PER_MILLE, FIELD(monitor.thresholds.utilisation_warn) },
	{ OPT_ALERT_UTIL_CRIT, "alert-utilisation-crit-permille", 0, 1000,
	  FIELD_PER_MILLE, FIELD(monitor.thresholds.utilisation_crit) },
	{ OPT_ALERT_SPAWN_WARN, "alert-spawn-warn-us", 1, UINT64_MAX,
	  FIELD_U64, FIELD(monitor.thresholds.spawn_warn_us) },
	{ OPT_ALERT_SPAWN_CRIT, "alert-spawn-crit-us", 1, UINT64_MAX,
	  FIELD_U64, FIELD(monitor.thresholds.spawn_crit_us) },
	{ OPT_ALERT_REPEAT, "alert-repeat-ms", 0, 86400000, FIELD_U64,
	  FIELD(monitor.alert_repeat_ms) },
};

/* Parses a numeric option into its field. Returns 0, -EINVAL (said), or
 * -ENOENT when opt is not a numeric option. */
static int
apply_number(struct server_config *cfg, int opt, const char *arg,
	     const char *origin)
{
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(number_options); i++) {
		const struct number_option *n = &number_options[i];
		uint64_t v;
		if (n->opt != opt)
			continue;
		if (parse_number(origin, arg, n->min, n->max, &v) < 0)
			return -EINVAL;
		void *field = (char *)cfg + n->offset;
		if (n->width == FIELD_U64)
			*(uint64_t *)field = v;
		else if (n->width == FIELD_UNSIGNED)
			*(unsigned *)field = (unsigned)v;
		else if (n->width == FIELD_PER_MILLE)
			*(double *)field = (double)v / 1000.0;
		else
			*(size_t *)field = (size_t)v;
		return 0;
	}
	return -ENOENT;
}

/* Applies one option to cfg. Returns 0, 1 when the program should exit
 * successfully after printing help, 2 after printing the version, or
 * -EINVAL. */
static int
apply_option(struct server_config *cfg, int opt, const char *arg,
	     const char *origin)
{
	enum log_level level;
	char *end;

	int r = apply_number(cfg, opt, arg, origin);
	if (r != -ENOENT)
		return r;
	switch (opt) {
	case OPT_SOCKET:
		cfg->socket_path = arg;
		return 0;
	case OPT_SOCKET_MODE: {
		unsigned long m = strtoul(arg, &end, 8);
		if (*arg == '\0' || *end != '\0' || m > 0777) {
			fprintf(stderr, "beddel-supervisor: %s wants an octal mode, not '%s'\n",
				origin, arg);
			return -EINVAL;
		}
		cfg->socket_mode = (mode_t)m;
		return 0;
	}
	case OPT_SCALE_ADVISE:
		cfg->pool.is_scale_advise_only = true;
		return 0;
	case OPT_NO_NAMESPACES:
		cfg->pool.is_namespaces_off = true;
		return 0;
	case OPT_NO_MONITOR:
		cfg->is_monitor_off = true;
		return 0;
	case OPT_WORKER:
		cfg->pool.worker_path = arg;
		return 0;
	case OPT_PROFILES:
		profiles_path = arg;
		return 0;
	case OPT_CONFIG:
		/* Read before the other options: see main(). */
		return 0;
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &level) < 0) {
			fprintf(stderr, "beddel-supervisor: %s: unknown log level '%s'\n",
				origin, arg);
			return -EINVAL;
		}
		log_init("beddel-supervisor", level);
		return 0;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "human") != 0 && strcmp(arg, "json") != 0) {
			fprintf(stderr, "beddel-supervisor: %s wants human or json, not '%s'\n",
				origin, arg);
			return -EINVAL;
		}
		log_set_json(strcmp(arg, "json") == 0);
		return 0;
	case OPT_HELP:
		return 1;
	case OPT_VERSION:
		printf("beddel-supervisor %s\n", BEDDEL_VERSION);
		return 2;
	default:
		return -EINVAL;
	}
}

/* The option of a configuration file key: any long option but these. */
static const struct option *
find_config_option(const char *key)
{
	static const char *const not_in_files[] = { "config", "help",
						    "version" };

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(not_in_files); i++) {
		if (strcmp(key, not_in_files[i]) == 0)
			return NULL;
	}
	for (const struct option *o = options; o->name; o++) {
		if (strcmp(o->name, key) == 0)
			return o;
	}
	return NULL;
}

/* Applies one `key: value` of a configuration file. */
static int
apply_config_pair(struct server_config *cfg, struct yaml_file *f,
		  const char *key, yaml_node_t *value)
{
	const struct option *o = key ? find_config_option(key) : NULL;
	const char *text = yaml_file_text(value);
	char origin[YAML_FILE_ERR_MAX];

	(void)snprintf(origin, sizeof(origin), "%s:%u: '%s'", f->path,
		       yaml_file_line(value), key ? key : "?");
	if (!o) {
		fprintf(stderr, "beddel-supervisor: %s is not an option a configuration file may set\n",
			origin);
		return -EINVAL;
	}
	if (!text) {
		fprintf(stderr, "beddel-supervisor: %s must be a single value\n",
			origin);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		if (strcmp(text, "false") == 0)
			return 0;
		if (strcmp(text, "true") != 0) {
			fprintf(stderr, "beddel-supervisor: %s must be true or false\n",
				origin);
			return -EINVAL;
		}
	}
	return apply_option(cfg, o->val, text, origin);
}

/* Reads the options of a --config file into cfg. f stays loaded: cfg
 * points into it. */
int
options_apply_config_file(struct server_config *cfg, struct yaml_file *f,
			  const char *path)
{
	char err[YAML_FILE_ERR_MAX];

	int r = yaml_file_load(f, path, err, sizeof(err));
	yaml_node_t *root = r == 0 ? yaml_file_root(f) : NULL;
	if (r == 0 && root)
		r = yaml_file_want_map(f, root, "(top level)", err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "beddel-supervisor: %s\n", err);
		return r;
	}
	for (size_t i = 0; root && i < yaml_file_count(root); i++) {
		yaml_node_t *value;
		const char *key = yaml_file_key(f, root, i, &value);
		r = apply_config_pair(cfg, f, key, value);
		if (r != 0)
			return r < 0 ? r : -EINVAL;
	}
	return 0;
}

/* The --config option's value, looked for before the others are read so
 * that the command line can override the file. */
const char *
options_find_config_path(int argc, char **argv)
{
	const char *path = NULL;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == OPT_CONFIG)
			path = optarg;
	}
	opterr = 1;
	optind = 0; /* glibc: start over, re-reading the environment */
	return path;
}

void
options_restart(void)
{
	profiles_path = NULL;
	optind = 0; /* glibc: start over */
}

int
options_parse_command_line(struct server_config *cfg, int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char origin[64];
		const char *name = "";
		for (const struct option *o = options; o->name; o++) {
			if (o->val == opt)
				name = o->name;
		}
		(void)snprintf(origin, sizeof(origin), "--%s", name);
		int r = apply_option(cfg, opt, optarg, origin);
		if (r == 1) {
			usage(stdout, cfg);
			return 1;
		}
		if (r == 2)
			return 1;
		if (r < 0) {
			fprintf(stderr, "Try 'beddel-supervisor --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "beddel-supervisor: unexpected argument '%s'\nTry 'beddel-supervisor --help'.\n",
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Checks the options together and fills in what follows from them. */
int
options_finish(struct server_config *cfg)
{
	char err[YAML_FILE_ERR_MAX];

	if (cfg->pool.min_workers > cfg->pool.max_workers) {
		fprintf(stderr, "beddel-supervisor: --workers (%u) is above --max-workers (%u)\n",
			cfg->pool.min_workers, cfg->pool.max_workers);
		return -EINVAL;
	}
	cfg->profiles_path = profiles_path;
	if (pool_config_load_profiles(&cfg->pool, profiles_path, err,
				      sizeof(err)) < 0) {
		fprintf(stderr, "beddel-supervisor: %s\n", err);
		return -EINVAL;
	}
	cfg->clients.result_max_bytes =
		profile_set_max_frame(&cfg->pool.profiles);
	if (!cfg->socket_path)
		cfg->socket_path = server_default_socket();
	if (!cfg->pool.worker_path)
		cfg->pool.worker_path = spawn_find_worker();
	return 0;
}

