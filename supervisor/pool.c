/* SPDX-License-Identifier: MIT */
/*
 * The worker pool. Every worker is a child process that this file spawned
 * (spawn.c), talks to over two pipes with frames (proto.c) and reaps on
 * SIGCHLD. Workers are untrusted: a frame that is malformed, oversized, of
 * the wrong type or out of turn gets the worker killed, its request failed
 * with a typed error, and the pool refilled. Nothing a worker sends ends
 * the supervisor.
 *
 * A worker moves STARTING -> IDLE -> BUSY -> CLEARING -> IDLE ... and at
 * last STOPPING -> reaped; it says "ready" when it enters IDLE. A request
 * waits in the queue (bounded by queue_max) until a worker is idle; its
 * wall-clock deadline runs from dispatch, and at the deadline the worker
 * is killed and the client answered at once.
 */
#include "supervisor/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/ipc.h"
#include "config.h"
#include "common/log.h"
#include "common/policy.h"
#include "common/proto.h"
#include "common/restricted.h"
#include "common/sys.h"
#include "common/util.h"
#include "supervisor/evframe.h"
#include "supervisor/inspect.h"
#include "supervisor/monitor.h"
#include "supervisor/reaper.h"
#include "supervisor/spawn.h"
#include "supervisor/transform.h"

/* A worker must be warm within this time of its spawn. */
#define POOL_READY_TIMEOUT_MS 10000
/* A worker that has not answered this long after its request's deadline
 * is killed: the engine's own interrupt check failed to stop the script
 * (a long native call, such as a regular expression that backtracks). */
#define POOL_TIMEOUT_GRACE_MS 250
/* A retired worker must exit within this time of its pipe closing. */
#define POOL_STOP_GRACE_MS 2000
/* Workers started in one turn of the event loop. Each start is a clone()
 * on the loop, longer into new namespaces; a burst that wants
 * many workers starts them a few at a time, with the loop's other events
 * (clients, worker frames) served between the turns. */
#define POOL_SPAWNS_PER_TURN 2
/* Respawn back-off after consecutive start-up failures. */
#define POOL_BACKOFF_MIN_MS 50
#define POOL_BACKOFF_MAX_MS 5000
/* Room in a worker's result frame for the error text and the stats. */
#define POOL_FRAME_SLACK_BYTES (64u * 1024u)

enum worker_state {
	WORKER_STARTING, /* spawned, warming up */
	WORKER_IDLE,	 /* ready for a request */
	WORKER_BUSY,	 /* running one */
	WORKER_CLEARING, /* answered; building its next fresh environment */
	WORKER_STOPPING, /* retired or killed, not yet reaped */
	WORKER_STATE_COUNT,
};

static const char *const state_names[] = {
	[WORKER_STARTING] = "starting",
	[WORKER_IDLE] = "idle",
	[WORKER_BUSY] = "busy",
	[WORKER_CLEARING] = "clearing",
	[WORKER_STOPPING] = "stopping",
};

struct job {
	TAILQ_ENTRY(job) link;
	struct pool *pool;
	void *owner;
	pool_done_fn done;
	bool has_id;
	uint64_t id;
	uint64_t seq;
	uint64_t timeout_ms;
	struct proto_frame frame;
	uint64_t submit_us;
	uint64_t dispatch_us;
	char tenant[POOL_TENANT_MAX_BYTES + 1];
	uint64_t script_key; /* tenant and code, for quarantine */
	const struct profile *profile;
	/* Its code is the transform's ES5 output; or it is being
	 * transformed now (in the pool's transforming list). */
	struct profile profile_copy; /* profile points here */
	bool is_transformed;
	bool is_transforming;
	uint64_t transform_start_us;
	uint64_t transform_us; /* time the transform took for it */
};

struct worker {
	TAILQ_ENTRY(worker) link;
	struct pool *pool;
	unsigned slot;
	pid_t pid;
	enum worker_state state;
	struct bufferevent *req;
	struct bufferevent *rsp;
	struct event *timer;
	struct job *job;
	enum reaper_cause cause;
	uint64_t spawn_us;
	uint64_t ready_us; /* when it first said ready */
	uint64_t execs;
	unsigned generation; /* the pool's profiles when it started */
	bool is_ready;
	bool has_tenant; /* bound: serves tenant's requests only */
	bool is_claimed; /* clearing, and awaited by a queued request */
	uint64_t rss_bytes; /* resident memory, read after each request */
	int64_t violation_syscall; /* reported before a SIGSYS death; or -1 */
	const char *restricted_call; /* by the running script; or NULL */
	char tenant[POOL_TENANT_MAX_BYTES + 1];
};

/* Scripts that took workers down recently, per tenant. The table is
 * bounded: past it, the oldest entry makes way. */
#define POOL_STRIKES_MAX 256
/* A worker's resident memory before any has been measured. */
#define POOL_WORKER_RSS_GUESS_BYTES (4u * 1024u * 1024u)
/* Repeated start-up failures are logged once per this window. */
#define POOL_STORM_LOG_MS 10000

struct strike {
	uint64_t key;
	char tenant[POOL_TENANT_MAX_BYTES + 1];
	unsigned count;
	uint64_t first_us;
};

/* Figures gathered over one sizing interval. */
#define POOL_WINDOW_SAMPLES 4096

struct window {
	uint64_t start_us;
	uint64_t executions;
	uint64_t busy_us;	   /* worker time spent running requests */
	uint64_t spawn_us_sum;
	unsigned spawns;
	size_t n_samples;	   /* up to POOL_WINDOW_SAMPLES kept */
	uint64_t total_us[POOL_WINDOW_SAMPLES];
	uint64_t queue_us[POOL_WINDOW_SAMPLES];
};

/* Why a worker was asked to stop, counted per pool. */
enum retire_reason {
	RETIRE_MEMORY_LIMIT,
	RETIRE_VIOLATION,
	RETIRE_SINGLE_USE,
	RETIRE_INTERNAL,
	RETIRE_MAX_EXECS,
	RETIRE_RSS,
	RETIRE_IDLE,
	RETIRE_ROOM,
	RETIRE_QUEUE_WRITE,
	RETIRE_SHUTDOWN,
	RETIRE_SCALE,
	RETIRE_FAIRNESS,
	RETIRE_RELOAD,
	RETIRE_REASON_COUNT,
};

/* Short names, for status and metrics. */
static const char *const retire_keys[] = {
	[RETIRE_MEMORY_LIMIT] = "memory_limit",
	[RETIRE_VIOLATION] = "restricted_call",
	[RETIRE_SINGLE_USE] = "single_use",
	[RETIRE_INTERNAL] = "internal",
	[RETIRE_MAX_EXECS] = "max_execs",
	[RETIRE_RSS] = "rss",
	[RETIRE_IDLE] = "idle",
	[RETIRE_ROOM] = "room",
	[RETIRE_QUEUE_WRITE] = "queue_write",
	[RETIRE_SHUTDOWN] = "shutdown",
	[RETIRE_SCALE] = "scale",
	[RETIRE_FAIRNESS] = "fairness",
	[RETIRE_RELOAD] = "reload",
};

static const char *const retire_names[] = {
	[RETIRE_MEMORY_LIMIT] = "hit its heap cap",
	[RETIRE_VIOLATION] = "its script called a restricted function",
	[RETIRE_SINGLE_USE] = "its profile uses a worker once",
	[RETIRE_INTERNAL] = "failed internally",
	[RETIRE_MAX_EXECS] = "reached its execution limit",
	[RETIRE_RSS] = "resident memory over its ceiling",
	[RETIRE_IDLE] = "idle past the idle timeout",
	[RETIRE_ROOM] = "making room for another tenant",
	[RETIRE_QUEUE_WRITE] = "a request could not be queued to it",
	[RETIRE_SHUTDOWN] = "shutting down",
	[RETIRE_SCALE] = "the pool shrinks",
	[RETIRE_FAIRNESS] = "its tenant holds more than its share while another waits",
	[RETIRE_RELOAD] = "the profiles were reloaded",
};

struct pool {
	struct event_base *base;
	struct pool_config cfg;
	TAILQ_HEAD(worker_list, worker) workers;
	TAILQ_HEAD(job_list, job) queue;
	/* Requests whose script an engine worker refused as not ES5.1,
	 * while the transform lowers it (they then rejoin the queue). */
	struct job_list transforming;
	unsigned n_transforming;
	unsigned n_state[WORKER_STATE_COUNT];
	unsigned n_workers;
	unsigned n_queued;
	unsigned n_claimed; /* queued requests awaiting a clearing worker */
	uint64_t next_seq;
	unsigned next_slot;
	struct event *sigchld;
	struct event *backoff;
	struct event *spawn_more; /* starts the rest of a burst next turn */
	unsigned setup_failures;
	bool is_retry_due; /* the back-off after a failure has passed */
	bool is_draining;
	/* pool_start() ran: from then on the pool keeps its target. A pool
	 * never started (beddel-run's: its requests alone start workers)
	 * starts nobody on its own. */
	bool is_started;
	uint64_t retired[RETIRE_REASON_COUNT];
	uint64_t rss_bytes;	/* sum over live workers */
	bool is_over_budget;	/* said once per episode */
	struct event *queue_timer;
	/* Sizing: the size the pool keeps (min_workers..max_workers), and
	 * the figures of the window being gathered. */
	unsigned target;
	struct strike strikes[POOL_STRIKES_MAX];
	char yielded_tenant[POOL_TENANT_MAX_BYTES + 1]; /* last to yield */
	uint64_t storm_logged_us; /* last start-up failure logged */
	unsigned storm_unlogged;  /* failures since */
	struct event *scale_timer;
	struct autoscale_state scale_state;
	struct window window;
	void (*drained)(void *arg);
	void *drained_arg;
	struct spawn_options spawn; /* how workers start */
	unsigned generation; /* counts profile reloads */
	uint64_t spawned;
	uint64_t deaths[OUTCOME_COUNT]; /* unplanned, by the kind they gave */
	bool is_sandbox_logged;
	struct inspect_layers sandbox; /* as the first worker showed it */
};

static void dispatch(struct pool *p);
static void check_drained(struct pool *p);

/* Passes an event to whoever listens. */
static void
tell(struct pool *p, const char *event, const struct events_field *f,
     size_t n)
{
	if (p->cfg.on_event)
		p->cfg.on_event(event, f, n, p->cfg.event_arg);
}
static bool should_yield(struct worker *w);

void
pool_config_defaults(struct pool_config *cfg)
{
	*cfg = (struct pool_config){
		.min_workers = POOL_MIN_WORKERS_DEFAULT,
		.max_workers = POOL_MAX_WORKERS_DEFAULT,
		.queue_max = POOL_QUEUE_MAX_DEFAULT,
		.worker_max_execs = POOL_WORKER_MAX_EXECS_DEFAULT,
		.worker_rss_max_bytes = POOL_WORKER_RSS_MAX_BYTES_DEFAULT,
		.idle_timeout_ms = POOL_IDLE_TIMEOUT_MS_DEFAULT,
		.queue_max_wait_ms = POOL_QUEUE_MAX_WAIT_MS_DEFAULT,
		.quarantine_strikes = POOL_QUARANTINE_STRIKES_DEFAULT,
		.quarantine_window_ms = POOL_QUARANTINE_WINDOW_MS_DEFAULT,
		.memory_budget_bytes = pool_default_memory_budget(),
		.scale_interval_ms = AUTOSCALE_INTERVAL_MS_DEFAULT,
		.slow_ms = POOL_SLOW_MS_DEFAULT,
	};
	autoscale_config_defaults(&cfg->scale);
}

int
pool_config_load_profiles(struct pool_config *cfg, const char *path,
			  char *err, size_t err_size)
{
	int r = profile_set_load(path ? path : BEDDEL_PROFILES_PATH,
				 &cfg->profiles, err, err_size);
	if (r < 0)
		return r;
	profile_set_cap(&cfg->profiles, cfg->cap_timeout_ms,
			cfg->cap_heap_limit_bytes, cfg->cap_result_max_bytes);
	return 0;
}

uint64_t
pool_default_memory_budget(void)
{
	char line[128];
	unsigned long long kib = 0;

	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			break;
	}
	(void)fclose(f);
	return (uint64_t)kib * 1024u / 2u;
}

static void
set_state(struct worker *w, enum worker_state s)
{
	w->pool->n_state[w->state]--;
	w->state = s;
	w->pool->n_state[s]++;
}

static void
arm_timer(struct worker *w, uint64_t ms)
{
	struct timeval tv = util_timeval_from_ms(ms);

	(void)evtimer_add(w->timer, &tv);
}

/* ---- Jobs ---------------------------------------------------------- */

static void
job_free(struct job *job)
{
	if (!job)
		return;
	proto_frame_fini(&job->frame);
	free(job);
}

/* When job's busy time started to count for the current sizing window:
 * its dispatch, or the window's start if it was running before (the
 * window before counted that part when it closed). */
static uint64_t
busy_from(const struct pool *p, const struct job *job)
{
	return job->dispatch_us > p->window.start_us ? job->dispatch_us :
						       p->window.start_us;
}

static void
record_execution(struct pool *p, uint64_t total_us, uint64_t queue_us,
		 uint64_t busy_us)
{
	struct window *win = &p->window;

	win->executions++;
	win->busy_us += busy_us;
	/* Past the sample room, later executions replace earlier ones in
	 * turn: the percentiles then cover the window's last
	 * POOL_WINDOW_SAMPLES executions. */
	size_t i = win->n_samples < POOL_WINDOW_SAMPLES ?
			   win->n_samples++ :
			   (size_t)(win->executions % POOL_WINDOW_SAMPLES);
	win->total_us[i] = total_us;
	win->queue_us[i] = queue_us;
}

/* One line per execution, with its whole record: what the response's
 * stats say. Never the script, its input or its result; their sizes. */
static void
log_record(const struct pool *p, const struct proto_result *res,
	   const struct worker *w)
{
	const struct proto_stats *s = &res->stats;
	char tenant[4 * UTIL_LOG_QUOTE_MAX + 8];

	util_quote_for_log(s->tenant, s->tenant_len, tenant, sizeof(tenant));
	/* A transform pool's records are lowerings, not executions. */
	if (p->cfg.is_transform) {
		log_info("transform: done req=%llu tenant=%s outcome=%s queue_us=%llu exec_us=%llu cpu_us=%llu heap_peak_bytes=%llu result_bytes=%llu worker=%d pid=%llu",
			 (unsigned long long)s->execution_id, tenant,
			 outcome_name(res->outcome),
			 (unsigned long long)s->queue_us,
			 (unsigned long long)s->exec_us,
			 (unsigned long long)s->cpu_us,
			 (unsigned long long)s->heap_peak_bytes,
			 (unsigned long long)s->result_bytes,
			 w ? (int)w->slot : -1,
			 (unsigned long long)s->worker_pid);
		return;
	}
	log_info("exec: done req=%llu tenant=%s profile=%s outcome=%s queue_us=%llu spawn_us=%llu transform_us=%llu exec_us=%llu cpu_us=%llu total_us=%llu heap_peak_bytes=%llu rss_bytes=%llu result_bytes=%llu log_bytes=%llu worker=%d pid=%llu execs=%llu",
		 (unsigned long long)s->execution_id, tenant,
		 s->profile ? s->profile : "-", outcome_name(res->outcome),
		 (unsigned long long)s->queue_us,
		 (unsigned long long)s->spawn_us,
		 (unsigned long long)s->transform_us,
		 (unsigned long long)s->exec_us, (unsigned long long)s->cpu_us,
		 (unsigned long long)s->total_us,
		 (unsigned long long)s->heap_peak_bytes,
		 (unsigned long long)s->rss_bytes,
		 (unsigned long long)s->result_bytes,
		 (unsigned long long)s->log_bytes, w ? (int)w->slot : -1,
		 (unsigned long long)s->worker_pid,
		 (unsigned long long)s->worker_execs);
}

/* Copies a NUL-terminated name into size bytes, cut if longer (snprintf
 * of "%s" does the same, at several times the cost, on every
 * execution). */
static void
copy_name(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len > size - 1)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* Gives the monitor the record res's stats hold. */
static void
monitor_add_result(struct monitor *m, const struct job *job,
		   const struct proto_result *res, uint64_t now)
{
	const struct proto_stats *s = &res->stats;
	struct monitor_record r = {
		.id = job->seq,
		.end_us = now,
		.script_key = job->script_key,
		.outcome = res->outcome,
		.queue_us = s->queue_us,
		.spawn_us = s->spawn_us,
		.exec_us = s->exec_us,
		.cpu_us = s->cpu_us,
		.total_us = s->total_us,
		.heap_peak_bytes = s->heap_peak_bytes,
		.rss_bytes = s->rss_bytes,
		.result_bytes = s->result_bytes,
		.log_bytes = s->log_bytes,
		.worker_pid = s->worker_pid,
		.worker_execs = s->worker_execs,
	};

	copy_name(r.tenant, sizeof(r.tenant), job->tenant);
	copy_name(r.profile, sizeof(r.profile),
		  job->profile ? job->profile->name : "-");
	monitor_add(m, &r);
}

/* Hands res to the job's owner with the job's id and timings, and frees
 * the job. w is the worker that ran it, if any. */
static void
job_complete(struct job *job, struct worker *w, struct proto_result *res)
{
	uint64_t now = sys_now_us();

	struct proto_stats *s = &res->stats;

	res->has_id = job->has_id;
	res->id = job->id;
	s->execution_id = job->seq;
	s->tenant = job->tenant;
	s->tenant_len = strlen(job->tenant);
	s->profile = job->profile ? job->profile->name : NULL;
	s->profile_len = job->profile ? strlen(job->profile->name) : 0;
	s->transform_us = job->transform_us;
	/* Waiting; for a script run again once lowered, less the time it
	 * spent in the transform. */
	s->queue_us = (job->dispatch_us ? job->dispatch_us : now) - job->submit_us;
	if (job->is_transformed && s->queue_us >= job->transform_us)
		s->queue_us -= job->transform_us;
	s->total_us = now - job->submit_us;
	/* Waited for this worker to start: it started after the request
	 * came, and was ready only after. */
	if (w && w->spawn_us > job->submit_us)
		s->spawn_us = w->ready_us - w->spawn_us;
	s->rss_bytes = w ? w->rss_bytes : 0;
	s->result_bytes = proto_value_size(res->value);
	s->log_bytes = proto_value_size(res->logs);
	s->worker_pid = w ? (uint64_t)w->pid : 0;
	s->worker_execs = w ? w->execs : 0;
	if (w && job->dispatch_us)
		record_execution(w->pool, s->total_us, s->queue_us,
				 now - busy_from(w->pool, job));
	log_record(job->pool, res, w);
	if (job->pool->cfg.monitor)
		monitor_add_result(job->pool->cfg.monitor, job, res, now);
	if (job->done)
		job->done(job->owner, res);
	job_free(job);
}

static void
job_fail(struct job *job, struct worker *w, enum outcome kind, const char *why)
{
	struct proto_result res = proto_result_error(false, 0, kind, why);

	job_complete(job, w, &res);
}

/* Start-up failures come in storms when the worker binary or the host is
 * broken; one line per POOL_STORM_LOG_MS says so, with the count. */
static bool
is_storm_log_due(struct pool *p)
{
	uint64_t now = sys_now_us();

	if (p->storm_logged_us && now - p->storm_logged_us < POOL_STORM_LOG_MS * 1000u) {
		p->storm_unlogged++;
		return false;
	}
	if (p->storm_unlogged > 0)
		log_warn("pool: %u more workers failed to start in the last %d ms, not logged one by one",
			 p->storm_unlogged, POOL_STORM_LOG_MS);
	p->storm_logged_us = now;
	p->storm_unlogged = 0;
	return true;
}

/* ---- Quarantine ----------------------------------------------------- */

/* SECURITY: the key is a plain hash, which a client could make collide;
 * the tenant is compared in full as well, so a collision can only ever
 * quarantine a script of the colliding client's own tenant. */
static struct strike *
find_strike(struct pool *p, uint64_t key, const char *tenant)
{
	for (size_t i = 0; i < POOL_STRIKES_MAX; i++) {
		if (p->strikes[i].count > 0 && p->strikes[i].key == key &&
		    strcmp(p->strikes[i].tenant, tenant) == 0)
			return &p->strikes[i];
	}
	return NULL;
}

/* Counts one worker taken down by the job's script. */
static void
note_taint(struct pool *p, const struct job *job)
{
	uint64_t now = sys_now_us(), window_us = p->cfg.quarantine_window_ms * 1000u;
	struct strike *s = find_strike(p, job->script_key, job->tenant);

	if (s && now - s->first_us >= window_us)
		s->count = 0;
	if (!s || s->count == 0) {
		if (!s) {
			/* A free slot, else the oldest. */
			s = &p->strikes[0];
			for (size_t i = 0; i < POOL_STRIKES_MAX; i++) {
				if (p->strikes[i].count == 0) {
					s = &p->strikes[i];
					break;
				}
				if (p->strikes[i].first_us < s->first_us)
					s = &p->strikes[i];
			}
		}
		*s = (struct strike){ .key = job->script_key, .first_us = now };
		memcpy(s->tenant, job->tenant, sizeof(s->tenant));
	}
	if (++s->count == p->cfg.quarantine_strikes) {
		char tenant[4 * UTIL_LOG_QUOTE_MAX + 8];
		util_quote_for_log(job->tenant, strlen(job->tenant), tenant,
				   sizeof(tenant));
		log_notice("pool: quarantining a script that took down %u workers tenant=%s script=%016llx window_ms=%llu",
			   s->count, tenant, (unsigned long long)job->script_key,
			   (unsigned long long)p->cfg.quarantine_window_ms);
	}
}

static bool
is_quarantined(struct pool *p, uint64_t key, const char *tenant)
{
	struct strike *s = find_strike(p, key, tenant);

	return s && s->count >= p->cfg.quarantine_strikes &&
	       sys_now_us() - s->first_us < p->cfg.quarantine_window_ms * 1000u;
}

/* Whether an outcome means the script took its worker down. */
static bool
is_taint(enum outcome kind)
{
	return kind == OUTCOME_TIMEOUT || kind == OUTCOME_MEMORY_LIMIT ||
	       kind == OUTCOME_WORKER_CRASHED ||
	       kind == OUTCOME_SECURITY_VIOLATION;
}

/* ---- Worker lifecycle ---------------------------------------------- */

static void
kill_worker(struct worker *w, enum reaper_cause cause)
{
	if (w->state == WORKER_STOPPING && w->cause != REAPER_CAUSE_RETIRED)
		return;
	w->cause = cause;
	set_state(w, WORKER_STOPPING);
	(void)bufferevent_disable(w->rsp, EV_READ);
	(void)kill(w->pid, SIGKILL);
}

/* Asks a worker that runs no request (idle, starting, or just answered)
 * to exit by closing its request pipe; it gets SIGKILL if it is still
 * there after the grace period. */
static void
retire_worker(struct worker *w, enum retire_reason reason)
{
	w->pool->retired[reason]++;
	log_info("pool: retiring worker: %s worker=%u pid=%d execs=%llu retired_for_this=%llu",
		 retire_names[reason], w->slot, (int)w->pid,
		 (unsigned long long)w->execs,
		 (unsigned long long)w->pool->retired[reason]);
	w->cause = REAPER_CAUSE_RETIRED;
	set_state(w, WORKER_STOPPING);
	if (w->req) {
		bufferevent_free(w->req);
		w->req = NULL;
	}
	arm_timer(w, POOL_STOP_GRACE_MS);
}

static void
protocol_violation(struct worker *w, const char *why)
{
	log_notice("pool: worker broke the protocol, killing it: %s worker=%u pid=%d",
		   why, w->slot, (int)w->pid);
	kill_worker(w, REAPER_CAUSE_PROTOCOL);
}

static void
worker_free(struct worker *w)
{
	struct pool *p = w->pool;

	TAILQ_REMOVE(&p->workers, w, link);
	p->n_state[w->state]--;
	p->n_workers--;
	p->rss_bytes -= w->rss_bytes;
	if (w->req)
		bufferevent_free(w->req);
	bufferevent_free(w->rsp);
	event_free(w->timer);
	job_free(w->job);
	free(w);
}

/* A worker's resident memory in bytes, from /proc/PID/statm; 0 when it
 * cannot be read. */
static uint64_t
read_rss_bytes(pid_t pid)
{
	char path[64], buf[128];
	unsigned long long size, resident;

	(void)snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Records w's resident memory in its own and the pool's totals. */
static void
update_rss(struct worker *w)
{
	uint64_t rss = read_rss_bytes(w->pid);

	w->pool->rss_bytes = w->pool->rss_bytes - w->rss_bytes + rss;
	w->rss_bytes = rss;
}

/* ---- Frames from a worker ------------------------------------------ */

/* Says once, from the first worker's /proc entries, which protections
 * the workers have on this host. */
static void
log_sandbox(struct worker *w)
{
	struct inspect_layers l;
	char layers[256];

	if (inspect_worker(w->pid, &l) < 0)
		return;
	w->pool->is_sandbox_logged = true;
	w->pool->sandbox = l;
	inspect_describe(&l, layers, sizeof(layers));
	if (inspect_is_complete(&l))
		log_info("pool: worker sandbox %s pid=%d", layers, (int)w->pid);
	else
		log_error("pool: worker sandbox is missing a protection %s pid=%d",
			  layers, (int)w->pid);
}

static int
on_ready(struct worker *w, const struct proto_msg *m)
{
	uint64_t heap_bytes;
	const char *why;

	if (proto_msg_ready(m, &heap_bytes, &why) < 0)
		return -EBADMSG;
	(void)evtimer_del(w->timer);
	if (w->state == WORKER_STARTING) {
		w->pool->setup_failures = 0;
		w->is_ready = true;
		update_rss(w);
		w->ready_us = sys_now_us();
		uint64_t startup_us = w->ready_us - w->spawn_us;
		if (w->pool->cfg.monitor)
			monitor_note_spawn(w->pool->cfg.monitor, startup_us,
					   (int)w->pid, w->ready_us);
		w->pool->window.spawn_us_sum += startup_us;
		w->pool->window.spawns++;
		log_info("pool: worker ready worker=%u pid=%d heap_bytes=%llu startup_us=%llu",
			 w->slot, (int)w->pid, (unsigned long long)heap_bytes,
			 (unsigned long long)startup_us);
		if (!w->pool->is_sandbox_logged)
			log_sandbox(w);
	}
	/* Started, or clearing, when the profiles were reloaded. */
	if (w->generation != w->pool->generation) {
		retire_worker(w, RETIRE_RELOAD);
		return 0;
	}
	/* To the front of the line: the worker that was ready last has its
	 * code and heap warmest in the caches. */
	set_state(w, WORKER_IDLE);
	TAILQ_REMOVE(&w->pool->workers, w, link);
	TAILQ_INSERT_HEAD(&w->pool->workers, w, link);
	arm_timer(w, w->pool->cfg.idle_timeout_ms);
	return 0;
}

static int
on_setup_failed(struct worker *w, const struct proto_msg *m)
{
	struct proto_setup_failed s;
	char stage[4 * UTIL_LOG_QUOTE_MAX + 8];
	const char *why;

	if (proto_msg_setup_failed(m, &s, &why) < 0)
		return -EBADMSG;
	util_quote_for_log(s.stage, s.stage_len, stage, sizeof(stage));
	log_error("pool: worker sandbox setup failed worker=%u pid=%d stage=%s err=%s",
		  w->slot, (int)w->pid, stage,
		  s.err < 0 && s.err > -4096 ? strerror((int)-s.err) : "?");
	return 0;
}

/* Outcomes a worker may report itself; the others are the supervisor's
 * to decide. */
static bool
is_worker_outcome(enum outcome o)
{
	switch (o) {
	case OUTCOME_OK:
	case OUTCOME_SYNTAX_ERROR:
	case OUTCOME_RUNTIME_ERROR:
	case OUTCOME_MEMORY_LIMIT:
	case OUTCOME_TIMEOUT:
	case OUTCOME_SECURITY_VIOLATION:
	case OUTCOME_BAD_REQUEST:
	case OUTCOME_TOO_LARGE:
	case OUTCOME_INTERNAL:
	case OUTCOME_SCRIPT_ERROR:
	case OUTCOME_NO_RESULT:
		return true;
	default:
		return false;
	}
}

static enum retire_reason
retire_reason_of(enum outcome kind)
{
	if (kind == OUTCOME_MEMORY_LIMIT)
		return RETIRE_MEMORY_LIMIT;
	if (kind == OUTCOME_SECURITY_VIOLATION)
		return RETIRE_VIOLATION;
	return RETIRE_INTERNAL;
}

/* Room for the description of a syntax error in lowered code. */
#define POOL_LOWERED_WHY_MAX 512

/* The engine refused a script's lowered form: the source used syntax
 * that the transform passes through unchanged and the engine lacks
 * (BigInt literals, regular expression flags beyond ES5). The engine's
 * line is the lowered code's, not the client's: it is dropped, and the
 * message says what happened. */
static void
describe_lowered_syntax_error(struct proto_result *res, char *buf,
			      size_t size)
{
	size_t len = res->message ? util_utf8_cut(res->message,
						  res->message_len, size / 2) :
				    0;
	/* The engine ends its message with " (line N)" of the lowered code. */
	const char *at = len ? memmem(res->message, len, " (line ", 7) : NULL;
	if (at && res->message[len - 1] == ')')
		len = (size_t)(at - res->message);
	(void)snprintf(buf, size,
		       "the script uses syntax the engine lacks even once lowered to ES5.1: %.*s",
		       (int)len, res->message ? res->message : "");
	res->message = buf;
	res->message_len = strlen(buf);
	res->line = 0;
	res->column = 0;
}

/* The request of job, decoded from its frame: the exec view points into
 * *ret_msg, which the caller frees. Returns 0 or -errno. */
static int
decode_job(const struct job *job, struct proto_msg **ret_msg,
	   struct proto_exec *ret_exec)
{
	size_t len = job->frame.len - IPC_HEADER_BYTES;
	uint8_t *copy = malloc(len);
	const char *why;
	struct proto_msg *m;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, job->frame.data + IPC_HEADER_BYTES, len);
	if (proto_msg_decode(copy, len, &m, &why) < 0)
		return -EBADMSG;
	if (proto_msg_exec(m, ret_exec, &why) < 0) {
		proto_msg_free(m);
		return -EBADMSG;
	}
	*ret_msg = m;
	return 0;
}

/* The transform answered for job: it rejoins the queue, at its head (it
 * has waited already), with the ES5 code; or it is answered with why the
 * transform failed. */
static void
on_transformed(void *owner, const struct proto_result *res)
{
	struct job *job = owner;
	struct pool *p = job->pool;
	struct proto_msg *m;
	struct proto_exec exec;
	struct proto_frame frame;

	TAILQ_REMOVE(&p->transforming, job, link);
	p->n_transforming--;
	job->is_transforming = false;
	job->transform_us = sys_now_us() - job->transform_start_us;
	if (res->outcome != OUTCOME_OK) {
		struct proto_result copy = *res;
		job_complete(job, NULL, &copy);
		check_drained(p);
		return;
	}
	if (decode_job(job, &m, &exec) < 0) {
		job_fail(job, NULL, OUTCOME_INTERNAL, "the supervisor could not read the request back");
		check_drained(p);
		return;
	}
	exec.code = proto_value_str(res->value, &exec.code_len);
	exec.is_transformed = true;
	int r = proto_encode_exec(&exec, &frame);
	proto_msg_free(m);
	if (r < 0) {
		job_fail(job, NULL, r == -E2BIG ? OUTCOME_TOO_LARGE : OUTCOME_INTERNAL,
			 "the transformed script does not fit in a frame");
		check_drained(p);
		return;
	}
	proto_frame_fini(&job->frame);
	job->frame = frame;
	job->is_transformed = true;
	TAILQ_INSERT_HEAD(&p->queue, job, link);
	p->n_queued++;
	dispatch(p);
}

/* Hands job to the transform, if the pool has one and its script was not
 * transformed already. Returns 0 when the job is taken care of (the
 * transform has it, or it was answered because the transform refused
 * it), or -errno when it is still the caller's. */
static int
start_transform(struct job *job)
{
	struct pool *p = job->pool;
	struct proto_msg *m;
	struct proto_exec exec;
	char why[256];

	if (!p->cfg.transform || job->is_transformed)
		return -ENOENT;
	int r = decode_job(job, &m, &exec);
	if (r < 0)
		return r;
	/* The job is the transform's before the call: the transform pool
	 * may answer within it (no transform worker could start), and then
	 * on_transformed() has completed and freed the job by the time the
	 * call returns. */
	job->is_transforming = true;
	job->transform_start_us = sys_now_us();
	TAILQ_INSERT_TAIL(&p->transforming, job, link);
	p->n_transforming++;
	r = transform_submit(p->cfg.transform, job->script_key, job->tenant,
			     strlen(job->tenant), exec.is_function, exec.code,
			     exec.code_len, on_transformed, job, why,
			     sizeof(why));
	proto_msg_free(m);
	if (r < 0) {
		TAILQ_REMOVE(&p->transforming, job, link);
		p->n_transforming--;
		job->is_transforming = false;
		/* Full, quarantined, out of memory: the client learns why. */
		char text[sizeof(why) + 64];
		(void)snprintf(text, sizeof(text),
			       "the script is not ES5.1 and cannot be transformed now: %s",
			       why);
		job_fail(job, NULL, pool_submit_error_kind(r), text);
	}
	return 0;
}

static int
on_result(struct worker *w, const struct proto_msg *m)
{
	struct proto_result res;
	const char *why;

	if (proto_msg_result(m, &res, &why) < 0)
		return -EBADMSG;
	if (!res.has_id || res.id != w->job->seq ||
	    !is_worker_outcome(res.outcome))
		return -EBADMSG;

	(void)evtimer_del(w->timer);
	struct job *job = w->job;
	w->job = NULL;
	w->execs++;
	log_debug("pool: request done req=%llu worker=%u pid=%d outcome=%s exec_us=%llu",
		  (unsigned long long)job->seq, w->slot, (int)w->pid,
		  outcome_name(res.outcome),
		  (unsigned long long)res.stats.exec_us);
	/* A timeout the worker caught itself costs it nothing: the
	 * script's environment is dropped like any other, and the worker
	 * checks its heap came back (js_engine_idle) before it says ready. */
	bool is_retired = res.outcome == OUTCOME_MEMORY_LIMIT ||
			  res.outcome == OUTCOME_SECURITY_VIOLATION ||
			  res.outcome == OUTCOME_INTERNAL;
	/* A transform worker that did anything but lower a script or refuse
	 * its syntax met hostile input (a parser bomb, a huge source):
	 * replace it. */
	if (w->pool->cfg.is_transform && res.outcome != OUTCOME_OK &&
	    res.outcome != OUTCOME_SYNTAX_ERROR)
		is_retired = true;
	/* An internal failure of an engine worker is Beddel's, not the
	 * script's; a transform worker's comes from its source (a parser
	 * bomb), which quarantine must stop like any other. */
	if (is_retired && (res.outcome != OUTCOME_INTERNAL ||
			   w->pool->cfg.is_transform))
		note_taint(w->pool, job);
	/* A copy: the job may be gone once it is answered. */
	const struct profile job_profile = *job->profile;
	update_rss(w);
	/* A script the engine refused as not ES5.1 gets one more chance:
	 * the transform lowers it, and it rejoins the queue. This worker
	 * goes on as after any syntax error. */
	char lowered_why[POOL_LOWERED_WHY_MAX];
	if (res.outcome == OUTCOME_SYNTAX_ERROR && job->is_transformed)
		describe_lowered_syntax_error(&res, lowered_why,
					      sizeof(lowered_why));
	if (res.outcome != OUTCOME_SYNTAX_ERROR || start_transform(job) < 0)
		job_complete(job, w, &res);

	/* A worker that hit its cap may hold a fragmented heap; one whose
	 * script tried a restricted function ran a hostile script; one that
	 * failed internally is not trusted to be sound. None serves again. */
	if (is_retired) {
		retire_worker(w, retire_reason_of(res.outcome));
		return 0;
	}
	if (w->execs >= w->pool->cfg.worker_max_execs) {
		retire_worker(w, RETIRE_MAX_EXECS);
		return 0;
	}
	if (job_profile.is_single_use) {
		retire_worker(w, RETIRE_SINGLE_USE);
		return 0;
	}
	if (w->rss_bytes > w->pool->cfg.worker_rss_max_bytes ||
	    w->rss_bytes > job_profile.worker_rss_max_bytes) {
		retire_worker(w, RETIRE_RSS);
		return 0;
	}
	if (w->generation != w->pool->generation) {
		retire_worker(w, RETIRE_RELOAD);
		return 0;
	}
	if (should_yield(w)) {
		/* It must not win its place straight back as a newcomer. */
		memcpy(w->pool->yielded_tenant, w->tenant, sizeof(w->tenant));
		retire_worker(w, RETIRE_FAIRNESS);
		return 0;
	}
	/* The worker now drops the environment it ran in and builds the
	 * next one (js_engine_idle), then says ready again; it gets no
	 * request before that. */
	set_state(w, WORKER_CLEARING);
	arm_timer(w, POOL_READY_TIMEOUT_MS);
	return 0;
}

/* The forbidden call a worker says it made; it dies of SIGSYS next, and
 * its death is named after the call. */
static int
on_violation(struct worker *w, const struct proto_msg *m)
{
	struct proto_violation v;
	const char *why;
	unsigned bit;

	if (proto_msg_violation(m, &v, &why) < 0)
		return -EBADMSG;
	if (v.syscall >= 0) {
		w->violation_syscall = v.syscall;
		return 0;
	}
	/* Only a running script calls functions. */
	if (w->state != WORKER_BUSY ||
	    restricted_parse(v.function, v.function_len, &bit) < 0)
		return -EBADMSG;
	w->restricted_call = restricted_name((unsigned)__builtin_ctz(bit));
	return 0;
}

/* Writes the script line of each frame of stack ("at f (script:12)"
 * lines, innermost first) into buf as "12,7,3", or "-" when none. */
static void
stack_lines(const char *stack, size_t len, char *buf, size_t size)
{
	static const char mark[] = "(script:";
	size_t used = 0;

	buf[0] = '\0';
	for (const char *p = stack, *end = stack + len; p < end;) {
		const char *at = memmem(p, (size_t)(end - p), mark,
					sizeof(mark) - 1);
		if (!at)
			break;
		at += sizeof(mark) - 1;
		size_t digits = 0;
		while (at + digits < end && digits < 10 &&
		       at[digits] >= '0' && at[digits] <= '9')
			digits++;
		if (digits > 0 && used + digits + 2 < size) {
			used += (size_t)snprintf(buf + used, size - used, "%s%.*s",
						 used ? "," : "", (int)digits, at);
		}
		p = at + digits;
	}
	if (used == 0)
		(void)snprintf(buf, size, "-");
}

/* The running script passed the slow threshold: logged with where it
 * was, and told to subscribers. */
static int
on_slow(struct worker *w, const struct proto_msg *m)
{
	const struct job *job = w->job;
	char tenant[4 * UTIL_LOG_QUOTE_MAX + 8], where[4 * UTIL_LOG_QUOTE_MAX + 8];
	char stack_z[2048];
	const char *stack, *why;
	size_t stack_len;
	uint64_t elapsed_us;

	if (proto_msg_slow(m, &stack, &stack_len, &elapsed_us, &why) < 0)
		return -EBADMSG;
	util_quote_for_log(job->tenant, strlen(job->tenant), tenant,
			   sizeof(tenant));
	/* The log gets the frames' line numbers only: function names come
	 * from the script's source, which is never logged. Subscribers get
	 * the whole stack. */
	stack_lines(stack, stack_len, where, sizeof(where));
	log_notice("exec: slow, still running req=%llu tenant=%s profile=%s elapsed_us=%llu lines=%s worker=%u pid=%d",
		   (unsigned long long)job->seq, tenant,
		   job->profile ? job->profile->name : "-",
		   (unsigned long long)elapsed_us, where, w->slot, (int)w->pid);
	(void)snprintf(stack_z, sizeof(stack_z), "%.*s", (int)stack_len, stack);
	const struct events_field f[] = {
		{ "req", NULL, job->seq },
		{ "tenant", job->tenant, 0 },
		{ "profile", job->profile ? job->profile->name : "-", 0 },
		{ "elapsed_us", NULL, elapsed_us },
		{ "stack", stack_z, 0 },
	};
	tell(w->pool, "slow", f, UTIL_ARRAY_SIZE(f));
	return 0;
}

/* A worker whose script called a restricted function and that then had
 * to be killed (or died): its request is answered for the call. */
static enum outcome
kind_after_restricted_call(const struct worker *w, enum outcome kind,
			   char *why, size_t why_size)
{
	if (!w->restricted_call)
		return kind;
	(void)snprintf(why, why_size,
		       "the script called %s, which its profile restricts",
		       w->restricted_call);
	return OUTCOME_SECURITY_VIOLATION;
}

/* A worker retired right after a result still says ready once its next
 * environment is built; that frame means nothing now. */
static int
on_late_ready(struct worker *w, const struct proto_msg *m)
{
	uint64_t heap_bytes;
	const char *why;

	(void)w;
	return proto_msg_ready(m, &heap_bytes, &why) < 0 ? -EBADMSG : 0;
}

/* Which frame a worker may send in which state: anything else is a
 * protocol violation. Frames are read in STOPPING only from workers that
 * were retired, not killed. */
static const struct {
	enum proto_type type;
	enum worker_state state;
	int (*handle)(struct worker *w, const struct proto_msg *m);
} worker_frames[] = {
	{ PROTO_MSG_READY, WORKER_STARTING, on_ready },
	{ PROTO_MSG_READY, WORKER_CLEARING, on_ready },
	{ PROTO_MSG_READY, WORKER_STOPPING, on_late_ready },
	{ PROTO_MSG_SETUP_FAILED, WORKER_STARTING, on_setup_failed },
	{ PROTO_MSG_RESULT, WORKER_BUSY, on_result },
	{ PROTO_MSG_VIOLATION, WORKER_BUSY, on_violation },
	{ PROTO_MSG_SLOW, WORKER_BUSY, on_slow },
	{ PROTO_MSG_VIOLATION, WORKER_CLEARING, on_violation },
	{ PROTO_MSG_VIOLATION, WORKER_IDLE, on_violation },
};

static int
handle_frame(struct worker *w, uint8_t *buf, size_t len)
{
	struct proto_msg *m;
	const char *why;
	int r = -EBADMSG;

	if (proto_msg_decode(buf, len, &m, &why) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(worker_frames); i++) {
		if (worker_frames[i].type == proto_msg_type(m) &&
		    worker_frames[i].state == w->state) {
			r = worker_frames[i].handle(w, m);
			break;
		}
	}
	proto_msg_free(m);
	return r;
}

static size_t
worker_frame_max(const struct pool *p)
{
	return profile_set_max_frame(&p->cfg.profiles) + POOL_FRAME_SLACK_BYTES;
}

/* Handles every whole frame buffered from w. */
static void
read_frames(struct worker *w)
{
	struct evbuffer *in = bufferevent_get_input(w->rsp);

	while (w->state != WORKER_STOPPING ||
	       w->cause == REAPER_CAUSE_RETIRED) {
		uint8_t *buf;
		size_t len;
		int r = evframe_pull(in, worker_frame_max(w->pool), &buf, &len);
		if (r == 0)
			return;
		if (r < 0 || handle_frame(w, buf, len) < 0) {
			protocol_violation(w, r == -EMSGSIZE ?
						      "frame over the size limit" :
						      "unexpected or malformed frame");
			return;
		}
	}
}

static void
on_worker_read(struct bufferevent *bev, void *arg)
{
	struct worker *w = arg;

	(void)bev;
	read_frames(w);
	dispatch(w->pool);
}

static void
on_worker_event(struct bufferevent *bev, short events, void *arg)
{
	struct worker *w = arg;

	(void)bev;
	(void)events;
	/* The pipe ended or failed: the worker is dead or dying. Make sure of
	 * it; the wait status, read on SIGCHLD, says why. */
	(void)bufferevent_disable(w->rsp, EV_READ);
	(void)kill(w->pid, SIGKILL);
}

static void
on_worker_timer(evutil_socket_t fd, short events, void *arg)
{
	struct worker *w = arg;
	enum outcome kind;
	char why[160];

	(void)fd;
	(void)events;
	switch (w->state) {
	case WORKER_BUSY:
		kind = reaper_classify(0, REAPER_CAUSE_DEADLINE, NULL, why,
				       sizeof(why));
		kind = kind_after_restricted_call(w, kind, why, sizeof(why));
		log_notice("pool: request timed out, killing worker worker=%u pid=%d req=%llu timeout_ms=%llu",
			   w->slot, (int)w->pid,
			   (unsigned long long)w->job->seq,
			   (unsigned long long)w->job->timeout_ms);
		struct job *job = w->job;
		w->job = NULL;
		w->execs++;
		kill_worker(w, REAPER_CAUSE_DEADLINE);
		note_taint(w->pool, job);
		job_fail(job, w, kind, why);
		break;
	case WORKER_STARTING:
	case WORKER_CLEARING:
		log_warn("pool: worker not ready in time, killing it worker=%u pid=%d state=%s timeout_ms=%d",
			 w->slot, (int)w->pid, state_names[w->state],
			 POOL_READY_TIMEOUT_MS);
		kill_worker(w, REAPER_CAUSE_NONE);
		break;
	case WORKER_IDLE:
		/* An idle pool goes back to its minimum, and its target with
		 * it: the sizing policy holds on windows without data. */
		if (w->pool->n_workers - w->pool->n_state[WORKER_STOPPING] >
		    w->pool->cfg.min_workers) {
			retire_worker(w, RETIRE_IDLE);
			unsigned live = w->pool->n_workers -
					w->pool->n_state[WORKER_STOPPING];
			if (w->pool->target > live)
				w->pool->target = live > w->pool->cfg.min_workers ?
							  live :
							  w->pool->cfg.min_workers;
		} else {
			arm_timer(w, w->pool->cfg.idle_timeout_ms);
		}
		break;
	default:
		(void)kill(w->pid, SIGKILL);
		break;
	}
}

static int
spawn_one(struct pool *p)
{
	struct spawn_child c;

	int r = spawn_worker(p->cfg.worker_path, &p->spawn, &c);
	if (r < 0)
		return log_warn_errno(r, "pool: spawn failed, retrying after a pause");

	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		goto err_kill;
	w->pool = p;
	w->pid = c.pid;
	w->slot = p->next_slot++;
	w->state = WORKER_STARTING;
	w->spawn_us = sys_now_us();
	w->generation = p->generation;
	w->violation_syscall = -1;
	p->spawned++;
	w->req = bufferevent_socket_new(p->base, c.req_fd, BEV_OPT_CLOSE_ON_FREE);
	w->rsp = bufferevent_socket_new(p->base, c.rsp_fd, BEV_OPT_CLOSE_ON_FREE);
	w->timer = evtimer_new(p->base, on_worker_timer, w);
	if (!w->req || !w->rsp || !w->timer)
		goto err_free;
	bufferevent_setcb(w->rsp, on_worker_read, NULL, on_worker_event, w);
	bufferevent_setcb(w->req, NULL, NULL, on_worker_event, w);
	(void)bufferevent_enable(w->rsp, EV_READ);
	(void)bufferevent_enable(w->req, EV_WRITE);

	TAILQ_INSERT_TAIL(&p->workers, w, link);
	p->n_workers++;
	p->n_state[WORKER_STARTING]++;
	arm_timer(w, POOL_READY_TIMEOUT_MS);
	if (p->setup_failures > 0)
		log_debug("pool: worker spawned, retrying after failures worker=%u pid=%d failures=%u",
			  w->slot, (int)w->pid, p->setup_failures);
	else
		log_info("pool: worker spawned worker=%u pid=%d", w->slot, (int)w->pid);
	return 0;

err_free:
	if (w->req)
		bufferevent_free(w->req);
	else
		(void)close(c.req_fd);
	if (w->rsp)
		bufferevent_free(w->rsp);
	else
		(void)close(c.rsp_fd);
	if (w->timer)
		event_free(w->timer);
	free(w);
	goto err_reap;
err_kill:
	(void)close(c.req_fd);
	(void)close(c.rsp_fd);
err_reap:
	(void)kill(c.pid, SIGKILL);
	(void)waitpid(c.pid, NULL, 0);
	return log_warn_errno(-ENOMEM, "pool: spawn failed, retrying after a pause");
}

static void
on_spawn_more(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;

	(void)fd;
	(void)events;
	dispatch(p);
}

static void
on_backoff(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;

	(void)fd;
	(void)events;
	p->is_retry_due = true;
	dispatch(p);
}

/* At the maximum, with requests that no worker may take: retires the idle
 * worker of another tenant that has waited longest (the list keeps the
 * most recently ready first), so that a fresh one can start. */
static void
make_room(struct pool *p)
{
	struct worker *w, *oldest = NULL;

	/* One at a time: a worker already on its way out frees the room. */
	if (p->n_state[WORKER_STOPPING] > 0)
		return;
	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->state == WORKER_IDLE && w->has_tenant)
			oldest = w;
	}
	if (oldest)
		retire_worker(oldest, RETIRE_ROOM);
}

/* Waits 50 ms after the first start-up failure, then twice as long after
 * each further one, up to 5 s. */
static void
schedule_backoff(struct pool *p)
{
	unsigned shift = p->setup_failures > 0 ? p->setup_failures - 1 : 0;
	uint64_t ms = (uint64_t)POOL_BACKOFF_MIN_MS << (shift < 10 ? shift : 10);

	if (ms > POOL_BACKOFF_MAX_MS)
		ms = POOL_BACKOFF_MAX_MS;
	struct timeval tv = util_timeval_from_ms(ms);
	(void)evtimer_add(p->backoff, &tv);
}

static void fail_queue_if_no_worker(struct pool *p, const char *cause);

/* Whether one more worker would take the workers' resident memory past
 * the budget, counting it at the workers' average. */
static bool
is_over_budget(struct pool *p)
{
	unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
	unsigned measured = live - p->n_state[WORKER_STARTING];
	uint64_t budget = p->cfg.memory_budget_bytes;

	if (budget == 0 || live == 0)
		return false;
	/* Workers still starting have no figure yet: they count at the
	 * average of the others, as the new one does. */
	uint64_t each = measured ? p->rss_bytes / measured :
				   POOL_WORKER_RSS_GUESS_BYTES;
	uint64_t projected = p->rss_bytes +
			     (uint64_t)(p->n_state[WORKER_STARTING] + 1) * each;
	bool is_over = projected > budget;
	if (is_over && !p->is_over_budget)
		log_warn("pool: memory budget reached, starting no more workers rss_bytes=%llu budget_bytes=%llu workers=%u",
			 (unsigned long long)p->rss_bytes,
			 (unsigned long long)budget, live);
	p->is_over_budget = is_over;
	return is_over;
}

/* A fork or pipe failure: wait, and answer the queue if no worker is
 * left to take it. */
static void
spawn_failed(struct pool *p)
{
	p->setup_failures++;
	schedule_backoff(p);
	fail_queue_if_no_worker(p, "the supervisor could not start a process");
}

/* Starts workers until there are enough for the busy and queued requests
 * (at least the minimum, at most the maximum; while draining, only what
 * the queue still needs). After a start-up failure it makes one attempt
 * per back-off period, so that a broken worker binary never becomes a
 * fork loop. */
static void
refill(struct pool *p)
{
	if (evtimer_pending(p->backoff, NULL))
		return;

	/* Queued requests found no idle worker of their tenant: each needs a
	 * fresh worker, less those already starting. */
	unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
	unsigned coming = p->n_state[WORKER_STARTING] + p->n_claimed;
	unsigned unserved = p->n_queued > coming ? p->n_queued - coming : 0;
	unsigned want = live + unserved;
	if (want < p->target && p->is_started && !p->is_draining)
		want = p->target;
	if (want > p->cfg.max_workers) {
		want = p->cfg.max_workers;
		if (unserved > 0 && live >= want)
			make_room(p);
	}
	if (live >= want)
		return;
	if (live > 0 && is_over_budget(p)) {
		if (unserved > 0)
			make_room(p);
		return;
	}

	if (p->setup_failures > 0) {
		if (!p->is_retry_due) {
			schedule_backoff(p);
			return;
		}
		p->is_retry_due = false;
		if (spawn_one(p) < 0)
			spawn_failed(p);
		return;
	}
	for (unsigned n = 0; live < want; live++, n++) {
		if (live > 0 && is_over_budget(p))
			return;
		if (n == POOL_SPAWNS_PER_TURN) {
			const struct timeval now = { 0, 0 };
			(void)evtimer_add(p->spawn_more, &now);
			return;
		}
		if (spawn_one(p) < 0) {
			spawn_failed(p);
			return;
		}
	}
}

static void
check_drained(struct pool *p)
{
	struct worker *w, *next;

	if (!p->is_draining || p->n_queued > 0 || p->n_transforming > 0 ||
	    p->n_state[WORKER_BUSY] > 0)
		return;
	TAILQ_FOREACH_SAFE(w, &p->workers, link, next)
	{
		if (w->state == WORKER_IDLE || w->state == WORKER_STARTING)
			retire_worker(w, RETIRE_SHUTDOWN);
	}
	if (p->n_workers == 0 && p->drained) {
		void (*drained)(void *) = p->drained;
		p->drained = NULL;
		drained(p->drained_arg);
	}
}

static bool
is_bound_to(const struct worker *w, const char *tenant)
{
	return w->has_tenant && strcmp(w->tenant, tenant) == 0;
}

/* How a dispatch pass may place a request on a worker. */
enum placement {
	PLACE_BOUND,	 /* only on an idle worker of its tenant */
	PLACE_NEWCOMER,	 /* also on a fresh one, if its tenant has none */
	PLACE_ANY,	 /* also on a fresh one */
};

/* Whether tenant holds a live worker. */
static bool
has_worker(struct pool *p, const char *tenant)
{
	struct worker *w;

	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->state != WORKER_STOPPING && is_bound_to(w, tenant))
			return true;
	}
	return false;
}

/* The worker a request of tenant should run on: an idle one bound to the
 * tenant; else, as placement allows, a fresh idle one, which it binds;
 * else none. With none, a clearing worker of the tenant that no earlier
 * request of this pass has claimed is claimed: the request waits the
 * fraction of a millisecond for it, and no fresh worker is started on its
 * account. */
static struct worker *
find_idle_for(struct pool *p, const char *tenant, enum placement how)
{
	struct worker *w, *fresh = NULL, *clearing = NULL;

	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->state == WORKER_IDLE && is_bound_to(w, tenant))
			return w;
		if (w->state == WORKER_CLEARING && !w->is_claimed &&
		    is_bound_to(w, tenant) && !clearing)
			clearing = w;
		if (w->state == WORKER_IDLE && !w->has_tenant && !fresh)
			fresh = w;
	}
	if (fresh && (how == PLACE_ANY ||
		      (how == PLACE_NEWCOMER && !has_worker(p, tenant) &&
		       strcmp(p->yielded_tenant, tenant) != 0)))
		return fresh;
	if (clearing && how == PLACE_ANY) {
		clearing->is_claimed = true;
		p->n_claimed++;
	}
	return NULL;
}

/* Another tenant waits for a worker and the pool has no room to start
 * one: a worker whose tenant holds more than its share of the pool
 * yields its place instead of serving again, so that one tenant's flood
 * cannot starve the others. The share is the pool divided among the
 * tenants that hold workers and one that waits. */
static bool
should_yield(struct worker *w)
{
	struct pool *p = w->pool;
	struct worker *o, *e;
	struct job *job;
	unsigned mine = 0, holders = 0, live = 0;
	bool is_other_waiting = false;

	if (p->n_queued == 0)
		return false;
	TAILQ_FOREACH(job, &p->queue, link)
	{
		if (strcmp(job->tenant, w->tenant) != 0 &&
		    !has_worker(p, job->tenant)) {
			is_other_waiting = true;
			break;
		}
	}
	if (!is_other_waiting)
		return false;
	TAILQ_FOREACH(o, &p->workers, link)
	{
		if (o->state == WORKER_STOPPING || !o->has_tenant)
			continue;
		live++;
		mine += is_bound_to(o, w->tenant);
		/* Count each tenant once: at its first worker in the list. */
		bool is_first = true;
		for (e = TAILQ_FIRST(&p->workers); e != o; e = TAILQ_NEXT(e, link)) {
			if (e->state != WORKER_STOPPING && is_bound_to(e, o->tenant))
				is_first = false;
		}
		holders += is_first;
	}
	unsigned all = p->n_workers - p->n_state[WORKER_STOPPING];
	if (all < p->cfg.max_workers && !is_over_budget(p))
		return false;
	return mine > live / (holders + 1);
}

static void
start_job(struct worker *w, struct job *job)
{
	if (!w->has_tenant) {
		/* SECURITY: bound for life; see pool.h. */
		memcpy(w->tenant, job->tenant, sizeof(w->tenant));
		w->has_tenant = true;
	}
	w->job = job;
	w->restricted_call = NULL;
	set_state(w, WORKER_BUSY);
	job->dispatch_us = sys_now_us();
	if (bufferevent_write(w->req, job->frame.data, job->frame.len) < 0) {
		/* Out of memory here, not the worker's fault; it is stopped
		 * all the same, since its pipe may hold half a frame. */
		w->job = NULL;
		retire_worker(w, RETIRE_QUEUE_WRITE);
		job_fail(job, w, OUTCOME_INTERNAL, "the supervisor could not pass the request on");
		return;
	}
	/* The frame is kept while the script may still go to the transform
	 * (start_transform() reads the request back from it). */
	if (!job->pool->cfg.transform || job->is_transformed)
		proto_frame_fini(&job->frame);
	/* The worker stops the script at its deadline itself and answers
	 * `timeout`; this timer is the backstop for one that does not. */
	arm_timer(w, job->timeout_ms + POOL_TIMEOUT_GRACE_MS);
}

/* Answers `overloaded` to every request that has waited its longest,
 * and sets the timer for the next one to. The queue is in arrival order,
 * so its head has always waited longest. */
static void
expire_queue(struct pool *p)
{
	uint64_t now = sys_now_us(), max_us = p->cfg.queue_max_wait_ms * 1000u;
	struct job *job;
	char why[96];

	while ((job = TAILQ_FIRST(&p->queue)) &&
	       now - (job->submit_us + job->transform_us) >= max_us) {
		TAILQ_REMOVE(&p->queue, job, link);
		p->n_queued--;
		(void)snprintf(why, sizeof(why),
			       "no worker was free within %llu ms",
			       (unsigned long long)p->cfg.queue_max_wait_ms);
		job_fail(job, NULL, OUTCOME_OVERLOADED, why);
	}
	if (!job) {
		(void)evtimer_del(p->queue_timer);
		return;
	}
	struct timeval tv = util_timeval_from_ms(
		(job->submit_us + job->transform_us + max_us - now + 999) / 1000);
	(void)evtimer_add(p->queue_timer, &tv);
}

static void
on_queue_timer(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	dispatch(arg);
}

static void
dispatch(struct pool *p)
{
	struct job *job, *next;

	struct worker *w;

	TAILQ_FOREACH(w, &p->workers, link)
		w->is_claimed = false;
	p->n_claimed = 0;

	/* In order of arrival; a request whose tenant has no idle worker
	 * waits without holding up the requests behind it. Fresh workers go
	 * first to tenants that have none, then to the rest. */
	for (enum placement how = PLACE_BOUND; how <= PLACE_ANY; how++) {
		TAILQ_FOREACH_SAFE(job, &p->queue, link, next)
		{
			if (p->n_state[WORKER_IDLE] + p->n_state[WORKER_CLEARING] == 0)
				break;
			w = find_idle_for(p, job->tenant, how);
			if (!w)
				continue;
			TAILQ_REMOVE(&p->queue, job, link);
			p->n_queued--;
			start_job(w, job);
		}
	}
	expire_queue(p);
	refill(p);
	check_drained(p);
}

/* ---- Reaping -------------------------------------------------------- */

/* Reads what a dead worker left in its pipe, so that a result written
 * just before the end is not lost. */
static void
drain_pipe(struct worker *w)
{
	struct evbuffer *in = bufferevent_get_input(w->rsp);
	evutil_socket_t fd = bufferevent_getfd(w->rsp);
	size_t max = worker_frame_max(w->pool) + IPC_HEADER_BYTES;

	while (evbuffer_get_length(in) <= max &&
	       evbuffer_read(in, fd, 65536) > 0)
		;
	read_frames(w);
}

/* When workers fail to start and none is serving, queued requests would
 * wait for a worker that may never come: answer them now. */
static void
fail_queue_if_no_worker(struct pool *p, const char *cause)
{
	char why[224];
	struct job *job;

	/* A worker that serves, or will in a moment, will take them. */
	if (p->n_workers - p->n_state[WORKER_STOPPING] > 0)
		return;
	(void)snprintf(why, sizeof(why), "no worker could start: %s", cause);
	while ((job = TAILQ_FIRST(&p->queue))) {
		TAILQ_REMOVE(&p->queue, job, link);
		p->n_queued--;
		job_fail(job, NULL, OUTCOME_INTERNAL, why);
	}
}

static void
finalize(struct worker *w, int status)
{
	struct pool *p = w->pool;
	char how[64], why[160], syscall[32];
	const char *named = NULL;

	if (w->violation_syscall >= 0) {
		policy_syscall_name(w->violation_syscall, syscall,
				    sizeof(syscall));
		named = syscall;
	}
	enum outcome kind = reaper_classify(status, w->cause, named, why,
					    sizeof(why));
	if (w->cause == REAPER_CAUSE_DEADLINE || w->cause == REAPER_CAUSE_NONE)
		kind = kind_after_restricted_call(w, kind, why, sizeof(why));
	reaper_describe(status, named, how, sizeof(how));
	unsigned long long uptime_ms = (sys_now_us() - w->spawn_us) / 1000;
	bool is_clean_exit = w->cause == REAPER_CAUSE_RETIRED &&
			     WIFEXITED(status) &&
			     WEXITSTATUS(status) == IPC_EXIT_DONE;
	if (is_clean_exit) {
		log_info("pool: worker exited worker=%u pid=%d %s uptime_ms=%llu execs=%llu",
			 w->slot, (int)w->pid, how, uptime_ms,
			 (unsigned long long)w->execs);
	} else {
		p->deaths[kind]++;
		const struct events_field f[] = {
			{ "worker", NULL, w->slot },
			{ "pid", NULL, (uint64_t)w->pid },
			{ "kind", outcome_name(kind), 0 },
			{ "why", why, 0 },
			{ "status", how, 0 },
		};
		tell(p, "worker_death", f, UTIL_ARRAY_SIZE(f));
		if (w->is_ready || is_storm_log_due(p))
			log_notice("pool: worker died: %s worker=%u pid=%d state=%s %s uptime_ms=%llu execs=%llu",
				   why, w->slot, (int)w->pid,
				   state_names[w->state], how, uptime_ms,
				   (unsigned long long)w->execs);
		else
			log_debug("pool: worker died: %s worker=%u pid=%d state=%s %s",
				  why, w->slot, (int)w->pid,
				  state_names[w->state], how);
	}

	if (w->job) {
		struct job *job = w->job;
		w->job = NULL;
		w->execs++;
		if (is_taint(kind))
			note_taint(p, job);
		job_fail(job, w, kind, why);
	}
	bool is_setup_failure = !w->is_ready && w->cause != REAPER_CAUSE_RETIRED;
	worker_free(w);
	if (is_setup_failure) {
		p->setup_failures++;
		fail_queue_if_no_worker(p, why);
	}
}

static void
on_sigchld(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;
	struct worker *w, *next;
	int status;

	(void)fd;
	(void)events;
	TAILQ_FOREACH_SAFE(w, &p->workers, link, next)
	{
		pid_t r = waitpid(w->pid, &status, WNOHANG);
		if (r != w->pid)
			continue;
		if (w->cause == REAPER_CAUSE_NONE ||
		    w->cause == REAPER_CAUSE_RETIRED)
			drain_pipe(w);
		finalize(w, status);
	}
	dispatch(p);
}

/* ---- Sizing ---------------------------------------------------------- */

static void
arm_scale_timer(struct pool *p)
{
	struct timeval tv = util_timeval_from_ms(p->cfg.scale_interval_ms);

	/* 0: the pool is sized by demand alone (the transform pool). */
	if (p->cfg.scale_interval_ms == 0)
		return;
	(void)evtimer_add(p->scale_timer, &tv);
}

/* Busy worker time over worker time in the window so far, at most 1. */
static double
window_utilisation(const struct pool *p, uint64_t now)
{
	const struct window *win = &p->window;
	unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
	uint64_t worker_us = (now - win->start_us) * (live ? live : 1);
	double u = worker_us ? (double)win->busy_us / (double)worker_us : 0;

	return u > 1 ? 1 : u;
}

/* The figures of the window that just ended. */
static void
close_window(struct pool *p, struct autoscale_window *ret)
{
	struct window *win = &p->window;
	uint64_t now = sys_now_us();
	unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
	struct worker *w;

	/* Executions still running count in this window for the time they
	 * ran in it, not all in the window where they end: a few long ones
	 * would otherwise look like a burst. */
	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->state == WORKER_BUSY && w->job && w->job->dispatch_us)
			win->busy_us += now - busy_from(p, w->job);
	}
	util_sort_u64(win->total_us, win->n_samples);
	util_sort_u64(win->queue_us, win->n_samples);
	*ret = (struct autoscale_window){
		.executions = win->executions,
		.latency_p50_us = util_quantile_sorted(win->total_us, win->n_samples, 0.5),
		.latency_p95_us = util_quantile_sorted(win->total_us, win->n_samples, 0.95),
		.queue_wait_p95_us = util_quantile_sorted(win->queue_us, win->n_samples, 0.95),
		.utilisation = window_utilisation(p, now),
		.queue_depth = p->n_queued,
		.rss_bytes = p->rss_bytes,
		.rss_per_worker_bytes = live ? p->rss_bytes / live : 0,
		.spawn_us = win->spawns ? win->spawn_us_sum / win->spawns : 0,
		.cores = (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.size = live,
	};
	memset(win, 0, sizeof(*win));
	win->start_us = now;
}

/* Shrinking retires idle workers over the target, the longest idle first;
 * busy ones finish and are reaped by the idle timeout later. */
static void
shrink_to_target(struct pool *p)
{
	struct worker *w, *prev;

	TAILQ_FOREACH_REVERSE_SAFE(w, &p->workers, worker_list, link, prev)
	{
		unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
		if (live <= p->target)
			break;
		if (w->state == WORKER_IDLE)
			retire_worker(w, RETIRE_SCALE);
	}
}

static void
on_scale_timer(evutil_socket_t fd, short events, void *arg)
{
	struct pool *p = arg;
	struct autoscale_window win;
	struct autoscale_decision d;

	(void)fd;
	(void)events;
	arm_scale_timer(p);
	if (p->is_draining)
		return;
	close_window(p, &win);
	autoscale_decide(&p->cfg.scale, &win, &p->scale_state, &d);
	if (d.action != AUTOSCALE_HOLD || win.executions > 0) {
		log_info("autoscale: %s from=%u target=%u advise_only=%d reason='%s'",
			 autoscale_action_name(d.action), win.size, d.target,
			 p->cfg.is_scale_advise_only, d.reason);
		const struct events_field f[] = {
			{ "action", autoscale_action_name(d.action), 0 },
			{ "from", NULL, win.size },
			{ "target", NULL, d.target },
			{ "advise_only", NULL, p->cfg.is_scale_advise_only },
			{ "reason", d.reason, 0 },
		};
		tell(p, "scale", f, UTIL_ARRAY_SIZE(f));
	}
	if (p->cfg.is_scale_advise_only || d.action == AUTOSCALE_HOLD)
		return;
	p->target = d.target;
	if (d.action == AUTOSCALE_SHRINK)
		shrink_to_target(p);
	dispatch(p);
}

/* ---- Public interface ---------------------------------------------- */

struct pool *
pool_new(struct event_base *base, const struct pool_config *cfg)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->base = base;
	p->cfg = *cfg;
	p->spawn.ns_flags = cfg->is_namespaces_off ? 0 : spawn_namespaces();
	p->spawn.is_transform = cfg->is_transform;
	p->spawn.heap_max_bytes = profile_set_max_heap(&cfg->profiles);
	TAILQ_INIT(&p->workers);
	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->transforming);
	p->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, p);
	p->backoff = evtimer_new(base, on_backoff, p);
	p->spawn_more = evtimer_new(base, on_spawn_more, p);
	p->queue_timer = evtimer_new(base, on_queue_timer, p);
	p->scale_timer = evtimer_new(base, on_scale_timer, p);
	if (!p->sigchld || !p->backoff || !p->spawn_more || !p->queue_timer || !p->scale_timer ||
	    event_add(p->sigchld, NULL) < 0) {
		pool_free(p);
		return NULL;
	}
	/* The policy works within the pool's own bounds and budget. */
	p->cfg.scale.min_workers = cfg->min_workers;
	p->cfg.scale.max_workers = cfg->max_workers;
	p->cfg.scale.memory_budget_bytes = cfg->memory_budget_bytes;
	p->target = cfg->min_workers;
	p->window.start_us = sys_now_us();
	arm_scale_timer(p);
	return p;
}

int
pool_start(struct pool *p)
{
	p->is_started = true;
	for (unsigned i = 0; i < p->cfg.min_workers; i++) {
		int r = spawn_one(p);
		if (r < 0) {
			p->setup_failures++;
			refill(p);
			return r;
		}
	}
	return 0;
}

bool
pool_is_valid_tenant(const char *s, size_t len)
{
	if (len == 0 || len > POOL_TENANT_MAX_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("._:@-", c);
		if (!ok || c == '\0')
			return false;
	}
	return true;
}

/* Applies a request's limit or the default; a request may lower a limit,
 * never raise it. */
static int
choose_limit(uint64_t asked, uint64_t max, const char *name, uint64_t *ret,
	     char *why, size_t why_size)
{
	if (asked > max) {
		(void)snprintf(why, why_size, "'%s' is above the maximum of %llu",
			       name, (unsigned long long)max);
		return -EINVAL;
	}
	*ret = asked ? asked : max;
	return 0;
}

/* The request's profile: the one it names, or the default. */
static const struct profile *
find_profile(const struct pool *p, const struct proto_exec *req, char *why,
	     size_t why_size)
{
	const struct profile_set *s = &p->cfg.profiles;

	if (!req->profile)
		return &s->items[s->default_index];
	const struct profile *found = profile_set_find(s, req->profile,
						       req->profile_len);
	if (!found) {
		char name[4 * UTIL_LOG_QUOTE_MAX + 8];
		util_quote_for_log(req->profile, req->profile_len, name,
				   sizeof(name));
		(void)snprintf(why, why_size, "there is no profile %s", name);
	}
	return found;
}

/* Lowers the request's limits to its profile's where it asks for more
 * or for nothing. */
static int
choose_limits(const struct profile *pr, const struct proto_exec *req,
	      struct proto_exec *out, char *why, size_t why_size)
{
	const struct {
		const char *name;
		uint64_t asked;
		uint64_t max;
		uint64_t *ret;
	} limits[] = {
		{ "timeout_ms", req->timeout_ms, pr->timeout_ms, &out->timeout_ms },
		{ "cpu_ms", req->cpu_ms, pr->cpu_ms, &out->cpu_ms },
		{ "instructions_max", req->instructions_max,
		  pr->instructions_max, &out->instructions_max },
		{ "heap_limit_bytes", req->heap_limit_bytes,
		  pr->heap_limit_bytes, &out->heap_limit_bytes },
		{ "result_max_bytes", req->result_max_bytes,
		  pr->result_max_bytes, &out->result_max_bytes },
		{ "log_max_bytes", req->log_max_bytes, pr->log_max_bytes,
		  &out->log_max_bytes },
	};

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(limits); i++) {
		if (choose_limit(limits[i].asked, limits[i].max, limits[i].name,
				 limits[i].ret, why, why_size) < 0)
			return -EINVAL;
	}
	/* A CPU budget above the wall-clock one would never be reached. */
	if (out->cpu_ms > out->timeout_ms)
		out->cpu_ms = out->timeout_ms;
	return 0;
}

static int
check_request(const struct pool *p, const struct proto_exec *req,
	      struct proto_exec *out, const struct profile **ret_profile,
	      char *why, size_t why_size)
{
	*out = *req;
	if (!util_utf8_is_valid(req->code, req->code_len)) {
		(void)snprintf(why, why_size, "'code' is not valid UTF-8");
		return -EINVAL;
	}
	if (req->tenant && !pool_is_valid_tenant(req->tenant, req->tenant_len)) {
		(void)snprintf(why, why_size, "%s", POOL_TENANT_RULE);
		return -EINVAL;
	}
	const struct profile *pr = find_profile(p, req, why, why_size);
	if (!pr || choose_limits(pr, req, out, why, why_size) < 0)
		return -EINVAL;
	uint64_t input_bytes = proto_value_size(req->input) +
			       proto_value_size(req->props);
	if (input_bytes > pr->input_max_bytes) {
		(void)snprintf(why, why_size,
			       "the input takes %llu bytes, above the profile's limit of %llu",
			       (unsigned long long)input_bytes,
			       (unsigned long long)pr->input_max_bytes);
		return -E2BIG;
	}
	/* SECURITY: a request may restrict more functions, never fewer. */
	out->restricted = req->restricted | pr->restricted;
	out->profile = pr->name;
	out->profile_len = strlen(pr->name);
	*ret_profile = pr;
	return 0;
}

/* Requests of the tenant named by len bytes at tenant that wait. */
static unsigned
count_queued(const struct pool *p, const char *tenant, size_t len)
{
	const struct job *job;
	unsigned n = 0;

	TAILQ_FOREACH(job, &p->queue, link)
		n += strlen(job->tenant) == len && memcmp(job->tenant, tenant, len) == 0;
	return n;
}

/* Workers that can take a request of tenant at once or in a moment: fresh
 * idle ones, the tenant's own idle or clearing ones; failing those, one
 * the pool can start or make room for. */
static unsigned
count_free_for(struct pool *p, const char *tenant)
{
	struct worker *w;
	unsigned n = 0;
	bool has_other_idle = false;

	TAILQ_FOREACH(w, &p->workers, link)
	{
		bool is_free = w->state == WORKER_IDLE ||
			       w->state == WORKER_CLEARING;
		n += is_free && (!w->has_tenant || is_bound_to(w, tenant));
		has_other_idle |= is_free && w->has_tenant &&
				  !is_bound_to(w, tenant);
	}
	if (n > 0)
		return n;
	/* None now, but one in a moment: a worker the pool can start, or
	 * an idle one of another tenant that can make room. */
	unsigned live = p->n_workers - p->n_state[WORKER_STOPPING];
	if ((live < p->cfg.max_workers && !is_over_budget(p)) || has_other_idle)
		return 1;
	return 0;
}

/* For a full queue: the newest waiting request of the tenant that holds
 * the most, if that is more than its fair share (the queue divided among
 * the tenants waiting, the newcomer included) and the newcomer, holding
 * `theirs`, is under it. NULL when the newcomer must be refused. */
static struct job *
pick_eviction(struct pool *p, const char *tenant, size_t tenant_len,
	      unsigned theirs)
{
	struct job *job, *victim = NULL;
	unsigned most = 0, tenants = 1;

	TAILQ_FOREACH(job, &p->queue, link)
	{
		struct job *first;
		unsigned n = 0;
		bool is_first = true;
		/* Count each tenant once, at its first request. */
		TAILQ_FOREACH(first, &p->queue, link)
		{
			if (first == job)
				break;
			if (strcmp(first->tenant, job->tenant) == 0)
				is_first = false;
		}
		if (!is_first)
			continue;
		if (strlen(job->tenant) != tenant_len ||
		    memcmp(job->tenant, tenant, tenant_len) != 0)
			tenants++;
		n = count_queued(p, job->tenant, strlen(job->tenant));
		if (n > most) {
			most = n;
			victim = job;
		}
	}
	unsigned share = p->cfg.queue_max / tenants;
	if (!victim || theirs >= share || most <= share ||
	    (strlen(victim->tenant) == tenant_len &&
	     memcmp(victim->tenant, tenant, tenant_len) == 0))
		return NULL;
	/* That tenant's newest request. */
	TAILQ_FOREACH_REVERSE(job, &p->queue, job_list, link)
	{
		if (strcmp(job->tenant, victim->tenant) == 0)
			return job;
	}
	return NULL;
}

/* The identity quarantine keeps for a script: its tenant and its code. */
static uint64_t
script_key_of(const char *tenant, size_t tenant_len, const struct proto_exec *req)
{
	uint64_t key = util_hash64(tenant, tenant_len, UTIL_HASH_SEED);

	key = util_hash64("", 1, key);
	return util_hash64(req->code, req->code_len, key);
}

/* Whether a request of tenant may join the queue. Returns 0, with
 * *ret_evicted set to a waiting request that must make room for it (or
 * NULL); -EPERM for a quarantined script; -EAGAIN when there is no
 * room. why says why on failure. */
static int
admit(struct pool *p, const char *tenant, size_t tenant_len, uint64_t key,
      struct job **ret_evicted, char *why, size_t why_size)
{
	char tenant_z[POOL_TENANT_MAX_BYTES + 1] = "";

	memcpy(tenant_z, tenant, tenant_len);
	if (is_quarantined(p, key, tenant_z)) {
		(void)snprintf(why, why_size,
			       "this script took down %u workers within %llu ms and is refused for now",
			       p->cfg.quarantine_strikes,
			       (unsigned long long)p->cfg.quarantine_window_ms);
		return -EPERM;
	}
	/* The queue holds requests that wait for a busy worker. One that an
	 * idle worker it may use takes at once, or one that a worker of its
	 * tenant just finishing its clean-up (CLEARING, well under a
	 * millisecond) will take, does not count against it. */
	unsigned free_soon = count_free_for(p, tenant_z);
	unsigned theirs = count_queued(p, tenant, tenant_len);
	if (p->cfg.queue_max_per_tenant > 0 &&
	    theirs >= p->cfg.queue_max_per_tenant + free_soon) {
		(void)snprintf(why, why_size,
			       "this tenant already has %u requests waiting, its limit",
			       theirs);
		return -EAGAIN;
	}
	/* A full queue takes a request of a tenant under its fair share in
	 * place of the newest one of the tenant that holds the most. */
	*ret_evicted = NULL;
	if (p->n_queued >= p->cfg.queue_max + free_soon) {
		*ret_evicted = pick_eviction(p, tenant, tenant_len, theirs);
		if (!*ret_evicted) {
			(void)snprintf(why, why_size,
				       "the request queue is full (%u waiting)",
				       p->n_queued);
			return -EAGAIN;
		}
	}
	return 0;
}

int
pool_submit(struct pool *p, const struct proto_exec *req, pool_done_fn done,
	    void *owner, char *why, size_t why_size)
{
	struct proto_exec exec;
	struct job *evicted;
	int r;

	if (p->is_draining) {
		(void)snprintf(why, why_size, "the supervisor is shutting down");
		return -ESHUTDOWN;
	}
	const struct profile *profile;
	r = check_request(p, req, &exec, &profile, why, why_size);
	if (r < 0)
		return r;
	const char *tenant = req->tenant ? req->tenant : POOL_TENANT_DEFAULT;
	size_t tenant_len = req->tenant ? req->tenant_len :
					  sizeof(POOL_TENANT_DEFAULT) - 1;
	uint64_t key = script_key_of(tenant, tenant_len, req);
	r = admit(p, tenant, tenant_len, key, &evicted, why, why_size);
	if (r < 0)
		return r;

	struct job *job = calloc(1, sizeof(*job));
	if (!job) {
		(void)snprintf(why, why_size, "the supervisor is out of memory");
		return -ENOMEM;
	}
	job->pool = p;
	job->owner = owner;
	job->done = done;
	job->has_id = req->has_id;
	job->id = req->id;
	job->seq = ++p->next_seq;
	job->timeout_ms = exec.timeout_ms;
	job->submit_us = sys_now_us();
	memcpy(job->tenant, tenant, tenant_len);
	job->script_key = key;
	/* The job's own copy: a reload may change the pool's profiles while
	 * it waits or runs. */
	job->profile_copy = *profile;
	job->profile = &job->profile_copy;

	/* The worker sees the script, its input, its limits and its
	 * tenant (the worker serves that tenant only); the client's id
	 * stays here. */
	exec.has_id = true;
	exec.id = job->seq;
	/* SECURITY: the script sees its client's id, never the supervisor's
	 * running count, which would tell it how many requests other
	 * tenants make. */
	exec.has_request_id = req->has_id;
	exec.request_id = req->id;
	exec.slow_ms = p->cfg.slow_ms;
	exec.tenant = tenant;
	exec.tenant_len = tenant_len;
	/* A script lowered before, for this tenant, runs lowered at once.
	 * Only the transform marks code as lowered, never a client. */
	exec.is_transformed = false;
	if (p->cfg.transform &&
	    transform_cache_get(p->cfg.transform, key, tenant, tenant_len,
				exec.is_function, exec.code, exec.code_len,
				&exec.code, &exec.code_len)) {
		exec.is_transformed = true;
		job->is_transformed = true;
	}
	r = proto_encode_exec(&exec, &job->frame);
	if (r < 0) {
		free(job);
		(void)snprintf(why, why_size, "the request could not be encoded");
		return r;
	}

	/* Only now, when nothing can fail any more, does the evicted request
	 * leave the queue. */
	if (evicted) {
		TAILQ_REMOVE(&p->queue, evicted, link);
		p->n_queued--;
	}
	TAILQ_INSERT_TAIL(&p->queue, job, link);
	p->n_queued++;
	if (evicted)
		job_fail(evicted, NULL, OUTCOME_OVERLOADED,
			 "dropped from a full queue to make room for another tenant's request");
	dispatch(p);
	return 0;
}

enum outcome
pool_submit_error_kind(int r)
{
	switch (r) {
	case -EINVAL:
		return OUTCOME_BAD_REQUEST;
	case -E2BIG:
		return OUTCOME_TOO_LARGE;
	case -EAGAIN:
	case -ESHUTDOWN:
		return OUTCOME_OVERLOADED;
	case -EPERM:
		return OUTCOME_QUARANTINED;
	default:
		return OUTCOME_INTERNAL;
	}
}

void
pool_cancel_owner(struct pool *p, void *owner)
{
	struct job *job, *next;
	struct worker *w;

	TAILQ_FOREACH_SAFE(job, &p->queue, link, next)
	{
		if (job->owner != owner)
			continue;
		TAILQ_REMOVE(&p->queue, job, link);
		p->n_queued--;
		job_free(job);
	}
	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->job && w->job->owner == owner) {
			w->job->owner = NULL;
			w->job->done = NULL;
		}
	}
	TAILQ_FOREACH_SAFE(job, &p->transforming, link, next)
	{
		if (job->owner != owner)
			continue;
		transform_cancel(p->cfg.transform, job);
		TAILQ_REMOVE(&p->transforming, job, link);
		p->n_transforming--;
		job_free(job);
	}
	check_drained(p);
}

void
pool_drain(struct pool *p, void (*drained)(void *arg), void *arg)
{
	p->is_draining = true;
	p->drained = drained;
	p->drained_arg = arg;
	check_drained(p);
}

void
pool_set_profiles(struct pool *p, const struct profile_set *set)
{
	struct worker *w, *next;

	uint64_t heap_max = profile_set_max_heap(set);

	p->cfg.profiles = *set;
	/* Limits travel with each request; only a worker's address space,
	 * derived from the largest heap cap at its start, is fixed. It
	 * never shrinks (requests admitted before may still need it), and
	 * when it grows the workers started before are replaced: the idle
	 * ones now, the others when they finish (on_result(), on_ready()). */
	if (heap_max <= p->spawn.heap_max_bytes) {
		dispatch(p);
		return;
	}
	p->spawn.heap_max_bytes = heap_max;
	p->generation++;
	TAILQ_FOREACH_SAFE(w, &p->workers, link, next)
	{
		if (w->state == WORKER_IDLE)
			retire_worker(w, RETIRE_RELOAD);
	}
	dispatch(p);
}

void
pool_set_config(struct pool *p, const struct pool_config *next)
{
	struct pool_config *c = &p->cfg;

	c->min_workers = next->min_workers;
	c->max_workers = next->max_workers;
	c->queue_max = next->queue_max;
	c->queue_max_wait_ms = next->queue_max_wait_ms;
	c->queue_max_per_tenant = next->queue_max_per_tenant;
	c->worker_max_execs = next->worker_max_execs;
	c->worker_rss_max_bytes = next->worker_rss_max_bytes;
	c->idle_timeout_ms = next->idle_timeout_ms;
	c->quarantine_strikes = next->quarantine_strikes;
	c->quarantine_window_ms = next->quarantine_window_ms;
	c->memory_budget_bytes = next->memory_budget_bytes;
	c->scale = next->scale;
	c->scale_interval_ms = next->scale_interval_ms;
	c->is_scale_advise_only = next->is_scale_advise_only;
	c->slow_ms = next->slow_ms;
	/* As pool_new(): the policy works within the pool's bounds. */
	c->scale.min_workers = c->min_workers;
	c->scale.max_workers = c->max_workers;
	c->scale.memory_budget_bytes = c->memory_budget_bytes;
	if (p->target < c->min_workers)
		p->target = c->min_workers;
	if (p->target > c->max_workers)
		p->target = c->max_workers;
	pool_set_profiles(p, &next->profiles);
}

void
pool_drain_now(struct pool *p, const char *why)
{
	struct job *job;
	struct worker *w;

	/* One at a time from the head: answering a job may close its client,
	 * which cancels (frees) the client's other jobs in either list. */
	while ((job = TAILQ_FIRST(&p->queue))) {
		TAILQ_REMOVE(&p->queue, job, link);
		p->n_queued--;
		job_fail(job, NULL, OUTCOME_OVERLOADED, why);
	}
	while ((job = TAILQ_FIRST(&p->transforming))) {
		transform_cancel(p->cfg.transform, job);
		TAILQ_REMOVE(&p->transforming, job, link);
		p->n_transforming--;
		job_fail(job, NULL, OUTCOME_OVERLOADED, why);
	}
	TAILQ_FOREACH(w, &p->workers, link)
	{
		if (w->state == WORKER_BUSY)
			kill_worker(w, REAPER_CAUSE_SHUTDOWN);
	}
	check_drained(p);
}

void
pool_free(struct pool *p)
{
	struct worker *w, *wnext;
	struct job *job, *jnext;

	if (!p)
		return;
	TAILQ_FOREACH_SAFE(w, &p->workers, link, wnext)
	{
		(void)kill(w->pid, SIGKILL);
		(void)waitpid(w->pid, NULL, 0);
		worker_free(w);
	}
	TAILQ_FOREACH_SAFE(job, &p->queue, link, jnext)
	{
		TAILQ_REMOVE(&p->queue, job, link);
		job_free(job);
	}
	TAILQ_FOREACH_SAFE(job, &p->transforming, link, jnext)
	{
		transform_cancel(p->cfg.transform, job);
		TAILQ_REMOVE(&p->transforming, job, link);
		job_free(job);
	}
	if (p->sigchld)
		event_free(p->sigchld);
	if (p->backoff)
		event_free(p->backoff);
	if (p->spawn_more)
		event_free(p->spawn_more);
	if (p->queue_timer)
		event_free(p->queue_timer);
	if (p->scale_timer)
		event_free(p->scale_timer);
	free(p);
}

const char *
pool_state_name(unsigned i)
{
	return i < WORKER_STATE_COUNT ? state_names[i] : "";
}

const char *
pool_retire_reason(unsigned i)
{
	return i < RETIRE_REASON_COUNT ? retire_keys[i] : NULL;
}

void
pool_get_figures(const struct pool *p, struct pool_figures *ret)
{
	struct pool_figures f = {
		.workers = p->n_workers,
		.target = p->target,
		.min_workers = p->cfg.min_workers,
		.max_workers = p->cfg.max_workers,
		.queued = p->n_queued,
		.rss_bytes = p->rss_bytes,
		.memory_budget_bytes = p->cfg.memory_budget_bytes,
		.utilisation = window_utilisation(p, sys_now_us()),
		.spawned = p->spawned,
		.n_retire_reasons = RETIRE_REASON_COUNT,
		.has_sandbox = p->is_sandbox_logged,
		.sandbox = p->sandbox,
	};

	_Static_assert(WORKER_STATE_COUNT == UTIL_ARRAY_SIZE(f.by_state),
		       "pool_figures.by_state has one slot per state");
	_Static_assert(RETIRE_REASON_COUNT <= UTIL_ARRAY_SIZE(f.retired),
		       "pool_figures.retired has a slot per reason");
	for (unsigned i = 0; i < WORKER_STATE_COUNT; i++)
		f.by_state[i] = p->n_state[i];
	for (unsigned i = 0; i < RETIRE_REASON_COUNT; i++)
		f.retired[i] = p->retired[i];
	for (unsigned i = 0; i < OUTCOME_COUNT; i++) {
		f.deaths[i] = p->deaths[i];
		f.tainted += p->deaths[i];
	}
	f.tainted += p->retired[RETIRE_MEMORY_LIMIT] +
		     p->retired[RETIRE_VIOLATION] + p->retired[RETIRE_INTERNAL];
	f.has_transform = p->cfg.transform != NULL;
	if (f.has_transform)
		transform_get_figures(p->cfg.transform, &f.transform);
	*ret = f;
}
