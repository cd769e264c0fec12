/* SPDX-License-Identifier: MIT */
/*
 * The supervisor daemon: the listening Unix socket, the pool, the client
 * connections and the signals that stop it. Supervisor only.
 */
#ifndef BEDDEL_SUPERVISOR_SERVER_H
#define BEDDEL_SUPERVISOR_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "supervisor/client.h"
#include "supervisor/monitor.h"
#include "supervisor/pool.h"
#include "supervisor/transform.h"

#define SERVER_SOCKET_MODE_DEFAULT 0600

struct server_config {
	const char *socket_path;
	mode_t socket_mode;
	struct client_limits clients;
	struct pool_config pool;
	struct monitor_config monitor;
	/* How long a stop waits for requests in flight and queued before
	 * it answers them `overloaded` and kills busy workers (0: no
	 * limit). */
	uint64_t drain_timeout_ms;
	/* The profiles file (NULL: the one Beddel ships), the --config file
	 * (NULL: none) and the command line, all read again on SIGHUP. */
	const char *profiles_path;
	const char *config_path;
	int argc;
	char **argv;
	/* ES2015+ scripts: transform workers and cache (max_workers 0:
	 * none). worker_path and is_namespaces_off are the pool's. */
	struct transform_config transform;
	/* Executions are not recorded: statistics stay empty, and the
	 * per-execution alerts never fire (for measuring what recording
	 * costs, or the leanest service). */
	bool is_monitor_off;
};

#define SERVER_DRAIN_TIMEOUT_MS_DEFAULT 30000

/* Fills cfg with the built-in defaults. */
void server_config_defaults(struct server_config *cfg);

/* The default socket path: $XDG_RUNTIME_DIR/beddel.sock when that is set,
 * else /tmp/beddel-UID/supervisor.sock. Returns a static string. */
const char *server_default_socket(void);

/* Runs the supervisor until SIGTERM or SIGINT, then drains: stops
 * accepting, finishes what is in flight, stops the workers, removes the
 * socket. Returns 0 after a clean stop, or -errno when it could not start
 * (the reason is logged). */
int server_run(const struct server_config *cfg);

#endif
