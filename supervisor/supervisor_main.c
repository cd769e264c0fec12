/* SPDX-License-Identifier: MIT */
/*
 * beddel-supervisor: parses its options and runs the server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/util.h"
#include "config.h"
#include "supervisor/server.h"
#include "supervisor/spawn.h"

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
		"  --timeout-ms MS          wall-clock timeout per execution, default and\n"
		"                           maximum a request may ask for (default: %llu)\n"
		"  --heap-limit-bytes N     heap cap per execution, default and maximum\n"
		"                           (default: %llu)\n"
		"  --result-max-bytes N     largest encoded result, default and maximum\n"
		"                           (default: %llu)\n"
		"  --worker-max-execs N     replace a worker after N executions (default: %llu)\n"
		"  --worker-rss-max-bytes N replace a worker whose resident memory passes N\n"
		"                           after a request (default: %llu)\n"
		"  --idle-timeout-ms MS     retire a worker idle this long, down to the pool's\n"
		"                           target size (at least --workers)\n"
		"                           (default: %llu)\n"
		"  --quarantine-strikes N   refuse a script that took down N workers of its\n"
		"                           tenant (timeout, memory, crash) (default: %u)...\n"
		"  --quarantine-window-ms MS  ...within this window, for its rest (default:\n"
		"                           %llu)\n"
		"  --scale-interval-ms MS   how often the pool size is reconsidered (default:\n"
		"                           %llu)\n"
		"  --scale-grow-latency-us US  grow when p95 latency passes this (default:\n"
		"                           %llu), or utilisation x 1.2 passes 0.8\n"
		"  --scale-shrink-latency-us US  shrink when p95 latency is under this\n"
		"                           (default: %llu) and utilisation under 0.3\n"
		"  --scale-advise-only      log sizing decisions without acting on them\n"
		"  --frame-max-bytes N      largest frame a client may send (default: %zu)\n"
		"  --max-clients N          most client connections at once (default: %u)\n"
		"  --stall-timeout-ms MS    close a client silent this long inside a frame,\n"
		"                           or that reads none of its answers for this long\n"
		"                           (default: %u)\n"
		"  --worker PATH            worker binary (default: $BEDDEL_WORKER, else found\n"
		"                           beside this program or in %s)\n"
		"  --log-level LEVEL        error, warn, notice, info or debug (default: info)\n"
		"  --help                   show this help\n"
		"  --version                show the version\n"
		"\n"
		"SIGTERM or SIGINT stops accepting, finishes requests in flight, stops the\n"
		"workers, removes the socket and exits 0; a second signal stops at once.\n",
		server_default_socket(), (unsigned)d->socket_mode,
		d->pool.min_workers, d->pool.max_workers, d->pool.queue_max,
		(unsigned long long)d->pool.queue_max_wait_ms,
		(unsigned long long)d->pool.memory_budget_bytes,
		(unsigned long long)d->pool.timeout_ms,
		(unsigned long long)d->pool.heap_limit_bytes,
		(unsigned long long)d->pool.result_max_bytes,
		(unsigned long long)d->pool.worker_max_execs,
		(unsigned long long)d->pool.worker_rss_max_bytes,
		(unsigned long long)d->pool.idle_timeout_ms,
		d->pool.quarantine_strikes,
		(unsigned long long)d->pool.quarantine_window_ms,
		(unsigned long long)d->pool.scale_interval_ms,
		(unsigned long long)d->pool.scale.grow_latency_us,
		(unsigned long long)d->pool.scale.shrink_latency_us,
		d->clients.frame_max_bytes, d->clients.max_clients,
		d->clients.stall_ms, BEDDEL_LIBEXECDIR);
}

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
	OPT_BUDGET,
	OPT_RSS_MAX,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_CLIENTS,
	OPT_STALL_MS,
	OPT_WORKER,
	OPT_LOG_LEVEL,
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
	{ "memory-budget-bytes", required_argument, NULL, OPT_BUDGET },
	{ "worker-rss-max-bytes", required_argument, NULL, OPT_RSS_MAX },
	{ "idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "stall-timeout-ms", required_argument, NULL, OPT_STALL_MS },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int
parse_number(const char *name, const char *arg, uint64_t min, uint64_t max,
	     uint64_t *ret)
{
	int r = util_parse_u64(arg, min, max, ret);
	if (r < 0)
		fprintf(stderr, "beddel-supervisor: --%s wants a whole number from %llu to %llu, not '%s'\n",
			name, (unsigned long long)min, (unsigned long long)max,
			arg);
	return r;
}

/* Applies one option to cfg. Returns 0, 1 when the program should exit
 * successfully (help, version), or -EINVAL. */
static int
apply_option(struct server_config *cfg, int opt, const char *arg)
{
	uint64_t v;
	enum log_level level;
	int r = 0;

	switch (opt) {
	case OPT_SOCKET:
		cfg->socket_path = arg;
		break;
	case OPT_SOCKET_MODE: {
		char *end;
		unsigned long m = strtoul(arg, &end, 8);
		if (*arg == '\0' || *end != '\0' || m > 0777) {
			fprintf(stderr, "beddel-supervisor: --socket-mode wants an octal mode, not '%s'\n", arg);
			return -EINVAL;
		}
		cfg->socket_mode = (mode_t)m;
		break;
	}
	case OPT_WORKERS:
		r = parse_number("workers", arg, 0, POOL_MAX_WORKERS_CEILING, &v);
		cfg->pool.min_workers = (unsigned)v;
		break;
	case OPT_MAX_WORKERS:
		r = parse_number("max-workers", arg, 1, POOL_MAX_WORKERS_CEILING, &v);
		cfg->pool.max_workers = (unsigned)v;
		break;
	case OPT_QUEUE_MAX:
		r = parse_number("queue-max", arg, 0, 1000000, &v);
		cfg->pool.queue_max = (unsigned)v;
		break;
	case OPT_TIMEOUT_MS:
		r = parse_number("timeout-ms", arg, 1, 3600000, &cfg->pool.timeout_ms);
		break;
	case OPT_HEAP_LIMIT:
		r = parse_number("heap-limit-bytes", arg, 65536,
				 POOL_HEAP_LIMIT_BYTES_CEILING,
				 &cfg->pool.heap_limit_bytes);
		break;
	case OPT_RESULT_MAX:
		r = parse_number("result-max-bytes", arg, 64, IPC_FRAME_MAX_CEILING / 2,
				 &cfg->pool.result_max_bytes);
		break;
	case OPT_FRAME_MAX:
		/* Half the ceiling: the request the pool builds from a frame
		 * adds fields to it. */
		r = parse_number("frame-max-bytes", arg, 64, IPC_FRAME_MAX_CEILING / 2, &v);
		cfg->clients.frame_max_bytes = (size_t)v;
		break;
	case OPT_STRIKES:
		r = parse_number("quarantine-strikes", arg, 1, 1000000, &v);
		cfg->pool.quarantine_strikes = (unsigned)v;
		break;
	case OPT_STRIKE_WINDOW:
		r = parse_number("quarantine-window-ms", arg, 1, 86400000,
				 &cfg->pool.quarantine_window_ms);
		break;
	case OPT_QUEUE_TENANT:
		r = parse_number("queue-max-per-tenant", arg, 1, 1000000, &v);
		cfg->pool.queue_max_per_tenant = (unsigned)v;
		break;
	case OPT_SCALE_INTERVAL:
		r = parse_number("scale-interval-ms", arg, 10, 86400000,
				 &cfg->pool.scale_interval_ms);
		break;
	case OPT_SCALE_GROW:
		r = parse_number("scale-grow-latency-us", arg, 1, UINT64_MAX,
				 &cfg->pool.scale.grow_latency_us);
		break;
	case OPT_SCALE_SHRINK:
		r = parse_number("scale-shrink-latency-us", arg, 1, UINT64_MAX,
				 &cfg->pool.scale.shrink_latency_us);
		break;
	case OPT_SCALE_ADVISE:
		cfg->pool.is_scale_advise_only = true;
		break;
	case OPT_QUEUE_WAIT:
		r = parse_number("queue-max-wait-ms", arg, 1, 3600000,
				 &cfg->pool.queue_max_wait_ms);
		break;
	case OPT_BUDGET:
		r = parse_number("memory-budget-bytes", arg, 0, UINT64_MAX,
				 &cfg->pool.memory_budget_bytes);
		break;
	case OPT_MAX_EXECS:
		r = parse_number("worker-max-execs", arg, 1, UINT64_MAX,
				 &cfg->pool.worker_max_execs);
		break;
	case OPT_RSS_MAX:
		r = parse_number("worker-rss-max-bytes", arg, 65536, UINT64_MAX,
				 &cfg->pool.worker_rss_max_bytes);
		break;
	case OPT_IDLE_TIMEOUT:
		r = parse_number("idle-timeout-ms", arg, 10, 86400000,
				 &cfg->pool.idle_timeout_ms);
		break;
	case OPT_MAX_CLIENTS:
		r = parse_number("max-clients", arg, 1, 1000000, &v);
		cfg->clients.max_clients = (unsigned)v;
		break;
	case OPT_STALL_MS:
		r = parse_number("stall-timeout-ms", arg, 10, 3600000, &v);
		cfg->clients.stall_ms = (unsigned)v;
		break;
	case OPT_WORKER:
		cfg->pool.worker_path = arg;
		break;
	case OPT_LOG_LEVEL:
		if (log_level_parse(arg, &level) < 0) {
			fprintf(stderr, "beddel-supervisor: unknown log level '%s'\n", arg);
			return -EINVAL;
		}
		log_init("beddel-supervisor", level);
		break;
	case OPT_HELP:
		return 1;
	case OPT_VERSION:
		printf("beddel-supervisor %s\n", BEDDEL_VERSION);
		return 2;
	default:
		return -EINVAL;
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct server_config cfg;
	int opt;

	log_init("beddel-supervisor", LOG_LEVEL_INFO);
	server_config_defaults(&cfg);

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		int r = apply_option(&cfg, opt, optarg);
		if (r == 1) {
			usage(stdout, &cfg);
			return 0;
		}
		if (r == 2)
			return 0;
		if (r < 0) {
			fprintf(stderr, "Try 'beddel-supervisor --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "beddel-supervisor: unexpected argument '%s'\nTry 'beddel-supervisor --help'.\n",
			argv[optind]);
		return 2;
	}
	if (cfg.pool.min_workers > cfg.pool.max_workers) {
		fprintf(stderr, "beddel-supervisor: --workers (%u) is above --max-workers (%u)\n",
			cfg.pool.min_workers, cfg.pool.max_workers);
		return 2;
	}
	cfg.clients.result_max_bytes = cfg.pool.result_max_bytes;
	if (!cfg.socket_path)
		cfg.socket_path = server_default_socket();
	if (!cfg.pool.worker_path)
		cfg.pool.worker_path = spawn_find_worker();
	if (!cfg.pool.worker_path) {
		log_error("supervisor: no beddel-worker binary found; set --worker or BEDDEL_WORKER");
		return 1;
	}
	return server_run(&cfg) < 0 ? 1 : 0;
}
