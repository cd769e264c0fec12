/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's top level. It owns the event loop, the listening
 * socket (created with a private mode, a stale one from a dead supervisor
 * replaced, a live one never stolen), the pool, the client hub and the
 * stop sequence:
 *   signal -> stop accepting, remove the socket -> pool drains (queued and
 *   running requests finish) -> workers stopped -> responses flushed ->
 *   loop ends.
 * A second signal skips the wait.
 */
#include "supervisor/server.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/sys.h"
#include "common/util.h"
#include "supervisor/client.h"
#include "supervisor/events.h"
#include "supervisor/options.h"
#include "supervisor/yaml_file.h"

#define SERVER_BACKLOG 512
/* How often the window alerts (success rate, utilisation) are checked. */
#define SERVER_MONITOR_TICK_S 10
#define SERVER_ACCEPT_PAUSE_MS 100

struct server {
	const struct server_config *cfg;
	struct event_base *base;
	struct transform *transform; /* NULL: ES2015+ scripts not lowered */
	struct evconnlistener *listener;
	struct event *accept_pause;
	struct pool *pool;
	struct monitor *monitor;
	struct event *monitor_tick;
	struct client_hub *hub;
	struct event *sig_term;
	struct event *sig_hup; /* reloads the profiles */
	struct event *drain_timer; /* the stop's drain deadline */
	struct event *sig_int;
	bool is_stopping;
	bool has_socket;
	bool has_made_dir; /* the default socket's private directory */
	uint64_t accept_warned_us;
	unsigned accept_failures;
};

void
server_config_defaults(struct server_config *cfg)
{
	*cfg = (struct server_config){
		.socket_path = NULL,
		.socket_mode = SERVER_SOCKET_MODE_DEFAULT,
		.clients = {
			.frame_max_bytes = IPC_FRAME_MAX_DEFAULT,
			.result_max_bytes = IPC_FRAME_MAX_DEFAULT,
			.max_clients = CLIENT_MAX_DEFAULT,
			.stall_ms = CLIENT_STALL_MS_DEFAULT,
		},
	};
	pool_config_defaults(&cfg->pool);
	monitor_config_defaults(&cfg->monitor);
	cfg->drain_timeout_ms = SERVER_DRAIN_TIMEOUT_MS_DEFAULT;
	cfg->transform.max_workers = TRANSFORM_WORKERS_MAX_DEFAULT;
	cfg->transform.cache_max_bytes = TRANSFORM_CACHE_MAX_BYTES_DEFAULT;
}

const char *
server_default_socket(void)
{
	static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (xdg && *xdg)
		(void)snprintf(path, sizeof(path), "%s/beddel.sock", xdg);
	else
		(void)snprintf(path, sizeof(path),
			       "/tmp/beddel-%u/supervisor.sock",
			       (unsigned)geteuid());
	return path;
}

/* The directory part of path, in dir. Returns false when path has none. */
static bool
dir_of(const char *path, char *dir, size_t size)
{
	(void)snprintf(dir, size, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

/* The default path lives in a directory of ours; make it, and make sure
 * nobody else owns or can write it. Sets *ret_made when it was created
 * here, so that it is removed again at the stop. */
static int
prepare_default_dir(const char *path, bool *ret_made)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;

	if (!dir_of(path, dir, sizeof(dir)) || strncmp(dir, "/tmp/beddel-", 12) != 0)
		return 0;
	if (mkdir(dir, 0700) == 0)
		*ret_made = true;
	else if (errno != EEXIST)
		return log_error_errno(-errno, "supervisor: cannot create '%s'", dir);
	if (lstat(dir, &st) < 0)
		return log_error_errno(-errno, "supervisor: cannot check '%s'", dir);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 0077) != 0)
		return log_error_errno(-EPERM, "supervisor: '%s' is not a private directory of ours",
				       dir);
	return 0;
}

/* Removes a socket file that no supervisor listens on any more. Refuses
 * to touch anything else. */
static int
clear_stale_socket(const char *path, const struct sockaddr_un *addr)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return log_error_errno(-EEXIST, "supervisor: '%s' exists and is not a socket",
				       path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	int err = errno;
	(void)close(fd);
	if (r == 0)
		return log_error_errno(-EADDRINUSE, "supervisor: another supervisor listens on '%s'",
				       path);
	if (err != ECONNREFUSED)
		return log_error_errno(-err, "supervisor: cannot probe '%s'", path);
	if (unlink(path) < 0)
		return log_error_errno(-errno, "supervisor: cannot remove stale '%s'", path);
	log_info("supervisor: removed stale socket path='%s'", path);
	return 0;
}

static int
listen_unix(const char *path, mode_t mode, bool *ret_made_dir)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return log_error_errno(-ENAMETOOLONG, "supervisor: socket path too long");
	memcpy(addr.sun_path, path, strlen(path) + 1);
	r = prepare_default_dir(path, ret_made_dir);
	if (r < 0)
		return r;
	r = clear_stale_socket(path, &addr);
	if (r < 0)
		return r;

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_error_errno(-errno, "supervisor: socket failed");
	/* The socket file is created with no access for anyone else, then
	 * opened up to the configured mode. */
	mode_t old = umask(0777);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	int err = errno;
	(void)umask(old);
	if (r < 0) {
		(void)close(fd);
		return log_error_errno(-err, "supervisor: cannot bind '%s'", path);
	}
	if (chmod(path, mode) < 0 || listen(fd, SERVER_BACKLOG) < 0) {
		err = errno;
		(void)unlink(path);
		(void)close(fd);
		return log_error_errno(-err, "supervisor: cannot listen on '%s'", path);
	}
	return fd;
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
	  int len, void *arg)
{
	struct server *s = arg;

	(void)l;
	(void)sa;
	(void)len;
	client_hub_accept(s->hub, fd);
}

static void
on_accept_resume(evutil_socket_t fd, short events, void *arg)
{
	struct server *s = arg;

	(void)fd;
	(void)events;
	if (s->listener)
		(void)evconnlistener_enable(s->listener);
}

static void
on_accept_error(struct evconnlistener *l, void *arg)
{
	struct server *s = arg;
	struct timeval tv = util_timeval_from_ms(SERVER_ACCEPT_PAUSE_MS);
	int err = EVUTIL_SOCKET_ERROR();

	/* Out of fds, most likely: pause rather than spin, and say so once
	 * a second at most. */
	uint64_t now = sys_now_us();
	s->accept_failures++;
	if (now - s->accept_warned_us >= 1000000) {
		log_warn("supervisor: accept failed, pausing %d ms each time: %s failures=%u",
			 SERVER_ACCEPT_PAUSE_MS, strerror(err),
			 s->accept_failures);
		s->accept_warned_us = now;
		s->accept_failures = 0;
	}
	(void)evconnlistener_disable(l);
	(void)evtimer_add(s->accept_pause, &tv);
}

static void
on_clients_closed(void *arg)
{
	struct server *s = arg;

	(void)event_base_loopexit(s->base, NULL);
}

static void
on_pool_drained(void *arg)
{
	struct server *s = arg;

	log_info("supervisor: workers stopped");
	client_hub_close_all(s->hub, on_clients_closed, s);
}

static void
stop_listening(struct server *s)
{
	if (s->listener) {
		evconnlistener_free(s->listener);
		s->listener = NULL;
	}
	if (s->has_socket) {
		(void)unlink(s->cfg->socket_path);
		s->has_socket = false;
	}
	if (s->has_made_dir) {
		char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
		if (dir_of(s->cfg->socket_path, dir, sizeof(dir)))
			(void)rmdir(dir);
		s->has_made_dir = false;
	}
}

/* Logs each profile as it will apply. */
static void
log_profiles(const struct profile_set *ps)
{
	for (size_t i = 0; i < ps->count; i++) {
		char line[256];
		profile_describe(&ps->items[i], line, sizeof(line));
		log_info("supervisor: profile %s", line);
	}
}

/* Two option strings, either of which may be NULL (a worker binary no
 * longer found, say). */
static bool
is_same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The options a reload cannot change: their names, in one line, for
 * the log. */
static void
list_restart_only(const struct server_config *now,
		  const struct server_config *next, char *buf, size_t size)
{
	const struct {
		const char *name;
		bool is_changed;
	} fields[] = {
		{ "socket", !is_same_text(now->socket_path, next->socket_path) },
		{ "socket-mode", now->socket_mode != next->socket_mode },
		{ "frame-max-bytes",
		  now->clients.frame_max_bytes != next->clients.frame_max_bytes },
		{ "max-clients",
		  now->clients.max_clients != next->clients.max_clients },
		{ "stall-timeout-ms", now->clients.stall_ms != next->clients.stall_ms },
		{ "worker", !is_same_text(now->pool.worker_path,
					  next->pool.worker_path) },
		{ "no-namespaces",
		  now->pool.is_namespaces_off != next->pool.is_namespaces_off },
		{ "transform-workers-max",
		  now->transform.max_workers != next->transform.max_workers },
		{ "transform-cache-max-bytes",
		  now->transform.cache_max_bytes != next->transform.cache_max_bytes },
		{ "history", now->monitor.history_max != next->monitor.history_max },
		{ "no-monitor", now->is_monitor_off != next->is_monitor_off },
		{ "drain-timeout-ms", now->drain_timeout_ms != next->drain_timeout_ms },
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(fields); i++) {
		if (fields[i].is_changed && used + 32 < size)
			used += (size_t)snprintf(buf + used, size - used, "%s%s",
						 used ? "," : "", fields[i].name);
	}
}

/* Reads the options again as at the start: the built-in defaults, the
 * --config file, the command line, the profiles file. Returns 0 with
 * *ret filled (its strings may point into *f: yaml_file_fini() it after
 * use, also on failure), or -EINVAL after the options module printed
 * why. */
static int
read_options_again(const struct server *s, struct server_config *ret,
		   struct yaml_file *f)
{
	server_config_defaults(ret);
	options_restart();
	if (s->cfg->config_path &&
	    options_apply_config_file(ret, f, s->cfg->config_path) < 0)
		return -EINVAL;
	if (options_parse_command_line(ret, s->cfg->argc, s->cfg->argv) != 0)
		return -EINVAL;
	/* Not looked for again: the search's answer lives in a buffer the
	 * running pool's path points into. */
	if (!ret->pool.worker_path)
		ret->pool.worker_path = s->cfg->pool.worker_path;
	return options_finish(ret) < 0 ? -EINVAL : 0;
}

/* SIGHUP: reads the --config file, the command line and the profiles
 * file again. A mistake in either file is refused (the options module
 * prints the file, line and key) and everything running stays. Otherwise
 * the pool takes what may change while it runs (pool_set_config()): new
 * requests get the new profiles and limits at once, requests already
 * admitted keep theirs, and workers are replaced as they become free.
 * Options that only a restart can change are named in the log and
 * keep their running values. */
static void
on_reload_signal(evutil_socket_t sig, short events, void *arg)
{
	struct server *s = arg;
	struct server_config next;
	struct yaml_file f = { .is_loaded = false };
	char restart_only[512];

	(void)sig;
	(void)events;
	if (s->is_stopping)
		return;
	if (read_options_again(s, &next, &f) < 0) {
		yaml_file_fini(&f);
		log_error("supervisor: reload refused, the running configuration stays");
		return;
	}
	/* The client side sized its answer buffers for the old results. */
	if (next.clients.result_max_bytes > s->cfg->clients.result_max_bytes) {
		yaml_file_fini(&f);
		log_error("supervisor: reload refused, the running configuration stays: a result limit grew past %zu bytes, which needs a restart",
			  s->cfg->clients.result_max_bytes);
		return;
	}
	list_restart_only(s->cfg, &next, restart_only, sizeof(restart_only));
	if (restart_only[0])
		log_warn("supervisor: reload: these options change only at a restart, keeping their running values options=%s",
			 restart_only);
	pool_set_config(s->pool, &next.pool);
	log_info("supervisor: configuration reloaded workers=%u max_workers=%u profiles=%zu default_profile='%s'",
		 next.pool.min_workers, next.pool.max_workers,
		 next.pool.profiles.count,
		 next.pool.profiles.items[next.pool.profiles.default_index].name);
	log_profiles(&next.pool.profiles);
	yaml_file_fini(&f);
}

/* The drain ran out of time: whatever is still waiting or running is
 * answered, so that no client is left without one. */
static void
on_drain_deadline(evutil_socket_t fd, short events, void *arg)
{
	struct server *s = arg;
	char why[128];

	(void)fd;
	(void)events;
	(void)snprintf(why, sizeof(why),
		       "the supervisor is stopping and its drain deadline of %llu ms passed",
		       (unsigned long long)s->cfg->drain_timeout_ms);
	log_warn("supervisor: drain deadline passed, answering what is left and stopping its workers drain_timeout_ms=%llu",
		 (unsigned long long)s->cfg->drain_timeout_ms);
	pool_drain_now(s->pool, why);
}

static void
on_stop_signal(evutil_socket_t sig, short events, void *arg)
{
	struct server *s = arg;

	(void)events;
	if (s->is_stopping) {
		log_warn("supervisor: second signal, stopping now sig=%d", (int)sig);
		(void)event_base_loopexit(s->base, NULL);
		return;
	}
	s->is_stopping = true;
	log_info("supervisor: stopping, finishing requests in flight sig=%d drain_timeout_ms=%llu",
		 (int)sig, (unsigned long long)s->cfg->drain_timeout_ms);
	stop_listening(s);
	if (s->cfg->drain_timeout_ms > 0) {
		struct timeval tv = util_timeval_from_ms(s->cfg->drain_timeout_ms);
		(void)evtimer_add(s->drain_timer, &tv);
	}
	pool_drain(s->pool, on_pool_drained, s);
}

/* Sends an event to the subscribers. */
static void
on_event(const char *event, const struct events_field *f, size_t n, void *arg)
{
	struct server *s = arg;
	struct proto_frame frame;

	if (!s->hub || events_encode(event, f, n, &frame) < 0)
		return;
	client_hub_broadcast(s->hub, &frame);
	proto_frame_fini(&frame);
}

/* One log line per alert: critical ones as errors, warnings as warnings;
 * and an event. */
static void
on_alert(const struct monitor_alert *a, void *arg)
{
	char value[32], target[32];

	(void)snprintf(value, sizeof(value), "%.3f", a->value);
	(void)snprintf(target, sizeof(target), "%.3f", a->target);
	const struct events_field f[] = {
		{ "level", a->level == MONITOR_CRITICAL ? "critical" : "warning", 0 },
		{ "metric", a->metric, 0 },
		{ "value", value, 0 },
		{ "unit", a->unit, 0 },
		{ "target", target, 0 },
		{ "scope", a->scope, 0 },
		{ "suppressed", NULL, a->suppressed },
	};
	on_event("alert", f, UTIL_ARRAY_SIZE(f), arg);
	if (a->level == MONITOR_CRITICAL)
		log_error("alert: %s past its target level=critical metric=%s value=%.3f unit=%s target=%.3f %s suppressed=%llu",
			  a->metric, a->metric, a->value, a->unit, a->target,
			  a->scope, (unsigned long long)a->suppressed);
	else
		log_warn("alert: %s past its target level=warning metric=%s value=%.3f unit=%s target=%.3f %s suppressed=%llu",
			 a->metric, a->metric, a->value, a->unit, a->target,
			 a->scope, (unsigned long long)a->suppressed);
}

static void
on_monitor_tick(evutil_socket_t fd, short events, void *arg)
{
	struct server *s = arg;
	struct pool_figures f;

	(void)fd;
	(void)events;
	pool_get_figures(s->pool, &f);
	monitor_tick(s->monitor, sys_now_us(), f.utilisation);
}

static int
server_setup(struct server *s, int listen_fd)
{
	struct pool_config pool_cfg = s->cfg->pool;

	s->base = event_base_new();
	if (!s->base)
		return -ENOMEM;
	s->monitor = monitor_new(&s->cfg->monitor, on_alert, s);
	s->monitor_tick = event_new(s->base, -1, EV_PERSIST, on_monitor_tick, s);
	if (!s->monitor || !s->monitor_tick ||
	    event_add(s->monitor_tick,
		      &(struct timeval){ .tv_sec = SERVER_MONITOR_TICK_S }) < 0)
		return -ENOMEM;
	pool_cfg.monitor = s->cfg->is_monitor_off ? NULL : s->monitor;
	pool_cfg.on_event = on_event;
	pool_cfg.event_arg = s;
	if (s->cfg->transform.max_workers > 0) {
		struct transform_config tc = s->cfg->transform;
		tc.worker_path = pool_cfg.worker_path;
		tc.is_namespaces_off = pool_cfg.is_namespaces_off;
		tc.quarantine_strikes = pool_cfg.quarantine_strikes;
		tc.quarantine_window_ms = pool_cfg.quarantine_window_ms;
		s->transform = transform_new(s->base, &tc);
		if (!s->transform)
			return -ENOMEM;
	}
	pool_cfg.transform = s->transform;
	s->pool = pool_new(s->base, &pool_cfg);
	s->hub = s->pool ? client_hub_new(s->base, s->pool, s->monitor,
					  &s->cfg->clients) :
			   NULL;
	s->accept_pause = evtimer_new(s->base, on_accept_resume, s);
	s->drain_timer = evtimer_new(s->base, on_drain_deadline, s);
	s->sig_hup = evsignal_new(s->base, SIGHUP, on_reload_signal, s);
	s->sig_term = evsignal_new(s->base, SIGTERM, on_stop_signal, s);
	s->sig_int = evsignal_new(s->base, SIGINT, on_stop_signal, s);
	if (!s->hub || !s->accept_pause || !s->drain_timer || !s->sig_term ||
	    !s->sig_int || !s->sig_hup)
		return -ENOMEM;
	if (event_add(s->sig_term, NULL) < 0 || event_add(s->sig_int, NULL) < 0 ||
	    event_add(s->sig_hup, NULL) < 0)
		return -ENOMEM;
	s->listener = evconnlistener_new(s->base, on_accept, s,
					 LEV_OPT_CLOSE_ON_FREE |
						 LEV_OPT_CLOSE_ON_EXEC,
					 0, listen_fd);
	if (!s->listener)
		return -ENOMEM;
	evconnlistener_set_error_cb(s->listener, on_accept_error);
	return 0;
}

static void
server_free_monitor(struct server *s)
{
	if (s->monitor_tick)
		event_free(s->monitor_tick);
	monitor_free(s->monitor);
	s->monitor_tick = NULL;
	s->monitor = NULL;
}

static void
server_teardown(struct server *s)
{
	/* Stopped: a late SIGTERM must not turn the clean exit into a death
	 * by signal once libevent has put the default handlers back, so the
	 * stop signals stay blocked (and pending) until the exit. */
	sigset_t stops;
	(void)sigemptyset(&stops);
	(void)sigaddset(&stops, SIGTERM);
	(void)sigaddset(&stops, SIGINT);
	(void)sigaddset(&stops, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &stops, NULL);
	stop_listening(s);
	/* Pool first: it calls no owner back when freed, and after it the
	 * hub closes its clients without reaching into it. */
	pool_free(s->pool);
	transform_free(s->transform);
	client_hub_free(s->hub);
	server_free_monitor(s);
	if (s->accept_pause)
		event_free(s->accept_pause);
	if (s->drain_timer)
		event_free(s->drain_timer);
	if (s->sig_hup)
		event_free(s->sig_hup);
	if (s->sig_term)
		event_free(s->sig_term);
	if (s->sig_int)
		event_free(s->sig_int);
	if (s->base)
		event_base_free(s->base);
}

/* fds the supervisor needs besides its clients: the listening socket,
 * libevent's own, stdio, and spare room for accept and spawn. */
#define SERVER_FD_RESERVE 32

/* Raises the soft fd limit to the hard one, and lowers max_clients so that
 * clients can never take the fds that worker pipes need: a supervisor out
 * of fds could not replace a dead worker. */
static void
fit_fd_budget(struct server_config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Two pipes per worker, engine and transform workers alike. */
	rlim_t needed = 2 * ((rlim_t)cfg->pool.max_workers +
			     cfg->transform.max_workers) +
			SERVER_FD_RESERVE;
	rlim_t room = rl.rlim_cur > needed ? rl.rlim_cur - needed : 1;
	if (cfg->clients.max_clients > room) {
		log_warn("supervisor: the fd limit leaves room for %llu clients, not %u; lowering max_clients fd_limit=%llu max_workers=%u",
			 (unsigned long long)room, cfg->clients.max_clients,
			 (unsigned long long)rl.rlim_cur, cfg->pool.max_workers);
		cfg->clients.max_clients = (unsigned)room;
	}
}

int
server_run(const struct server_config *config)
{
	struct server_config fitted = *config;
	const struct server_config *cfg = &fitted;
	struct server s = { .cfg = cfg };
	int r;

	fit_fd_budget(&fitted);

	/* A client that hangs up must cost us an EPIPE, not our life. */
	(void)signal(SIGPIPE, SIG_IGN);

	/* A stop signal that comes once clients can connect, but before the
	 * loop watches for it, waits (blocked, pending) instead of killing
	 * the process: it is handled as soon as the loop runs. */
	sigset_t stops;
	(void)sigemptyset(&stops);
	(void)sigaddset(&stops, SIGTERM);
	(void)sigaddset(&stops, SIGINT);
	(void)sigaddset(&stops, SIGHUP);
	(void)sigprocmask(SIG_BLOCK, &stops, NULL);

	int fd = listen_unix(cfg->socket_path, cfg->socket_mode, &s.has_made_dir);
	if (fd < 0)
		return fd;
	s.has_socket = true;

	r = server_setup(&s, fd);
	if (r < 0) {
		if (!s.listener)
			(void)close(fd);
		log_error_errno(r, "supervisor: setup failed");
		goto out;
	}
	(void)sigprocmask(SIG_UNBLOCK, &stops, NULL);
	const struct profile_set *ps = &cfg->pool.profiles;
	log_info("supervisor: started socket='%s' workers=%u max_workers=%u queue_max=%u profiles=%zu default_profile='%s' frame_max_bytes=%zu worker='%s'",
		 cfg->socket_path, cfg->pool.min_workers, cfg->pool.max_workers,
		 cfg->pool.queue_max, ps->count,
		 ps->items[ps->default_index].name,
		 cfg->clients.frame_max_bytes, cfg->pool.worker_path);
	log_profiles(ps);
	if (pool_start(s.pool) < 0)
		log_warn("supervisor: not every worker could start, retrying");
	if (s.transform && transform_start(s.transform) < 0)
		log_warn("supervisor: the transform worker could not start, retrying");

	r = event_base_dispatch(s.base) < 0 ? -EIO : 0;
	log_info("supervisor: stopped");
out:
	server_teardown(&s);
	return r;
}
