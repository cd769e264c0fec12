/* SPDX-License-Identifier: MIT */
/*
 * beddel-run's work between parsing its arguments and exiting. It trusts
 * the supervisor to speak the protocol, but checks every answer as
 * proto.c does, and prints script-made text escaped for a terminal.
 */
#include "supervisor/run.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/outcome.h"
#include "common/proto.h"
#include "common/sys.h"
#include "supervisor/inspect.h"
#include "supervisor/local.h"
#include "supervisor/pool.h"
#include "supervisor/remote.h"
#include "supervisor/run_json.h"
#include "supervisor/spawn.h"

/* How long past the script's own timeout we wait for the supervisor. */
#define RUN_REPLY_SLACK_MS 10000
/* Between two attempts of --retry-ms. */
#define RUN_RETRY_PAUSE_MS 100

int
run_read_script(const char *path, char **ret_text, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t cap = 4096, len = 0;

	if (!f)
		return -errno;
	errno = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= IPC_FRAME_MAX_CEILING) {
				free(buf);
				buf = NULL;
				errno = EFBIG;
				break;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	int err = buf ? (ferror(f) ? (errno ? errno : EIO) : 0) :
			(errno ? errno : ENOMEM);
	if (f != stdin)
		(void)fclose(f);
	if (err) {
		free(buf);
		return -err;
	}
	buf[len] = '\0';
	*ret_text = buf;
	*ret_len = len;
	return 0;
}

/* Sends req once to the supervisor at socket. Returns 0 with its
 * answer's payload, or -errno: from connecting (ENOENT, ECONNREFUSED: no
 * supervisor listens) or from the call (ECONNRESET: it closed the
 * connection without an answer). */
static int
call_once(const char *socket, const struct proto_frame *req, uint64_t wait_ms,
	  uint8_t **ret_buf, size_t *ret_len)
{
	int fd = remote_connect(socket);
	if (fd < 0)
		return fd;
	int r = remote_call(fd, req, (int)(wait_ms + RUN_REPLY_SLACK_MS), ret_buf,
			    ret_len);
	(void)close(fd);
	return r;
}

/* Whether a request that got no answer may go again: nobody listened,
 * or the supervisor went away before answering (it stopped, or died
 * and is being restarted). */
static bool
is_retryable(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET ||
	       r == -EPIPE;
}

/* Sends req (and releases it) to the supervisor at socket and returns
 * its answer's payload. Without an answer it tries again every
 * RUN_RETRY_PAUSE_MS for up to retry_ms. A script has no effect but its
 * answer, so running it again after a lost answer is always safe. */
static int
call_supervisor(const char *socket, struct proto_frame *req, uint64_t wait_ms,
		uint64_t retry_ms, uint8_t **ret_buf, size_t *ret_len)
{
	uint64_t end_us = 0;
	int r;

	/* The time for retries runs from the first failure, not from the
	 * first send: a long script may have run a while before it. */
	for (;;) {
		r = call_once(socket, req, wait_ms, ret_buf, ret_len);
		if (r == 0 || !is_retryable(r) || retry_ms == 0)
			break;
		uint64_t now_us = sys_now_us();
		if (end_us == 0)
			end_us = now_us + retry_ms * 1000u;
		else if (now_us >= end_us)
			break;
		struct timespec pause = { 0, RUN_RETRY_PAUSE_MS * 1000000L };
		(void)nanosleep(&pause, NULL);
	}
	proto_frame_fini(req);
	if (r == 0)
		return 0;
	if (r == -ENOENT || r == -ECONNREFUSED)
		fprintf(stderr, "beddel-run: cannot reach the supervisor at '%s': %s\n",
			socket, strerror(-r));
	else
		fprintf(stderr, "beddel-run: no answer from the supervisor at '%s': %s\n",
			socket,
			r == -ECONNRESET ? "it closed the connection" : strerror(-r));
	return -EHOSTUNREACH;
}

int
run_call_supervisor(const char *socket, const struct proto_exec *exec,
		    uint64_t retry_ms, uint8_t **ret_buf, size_t *ret_len)
{
	struct proto_frame req;

	int r = proto_encode_exec(exec, &req);
	if (r < 0)
		return r;
	return call_supervisor(socket, &req,
			       exec->timeout_ms ? exec->timeout_ms : 3600000,
			       retry_ms, ret_buf, ret_len);
}

int
run_alone(const struct proto_exec *exec, const char *profiles_path,
	  bool is_namespaces_off, uint8_t **ret_buf, size_t *ret_len)
{
	static struct pool_config cfg;
	struct proto_frame rsp;
	char err[256];

	pool_config_defaults(&cfg);
	if (pool_config_load_profiles(&cfg, profiles_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "beddel-run: %s\n", err);
		return -EINVAL;
	}
	cfg.is_namespaces_off = is_namespaces_off;
	cfg.worker_path = spawn_find_worker();
	if (!cfg.worker_path) {
		fprintf(stderr, "beddel-run: no beddel-worker binary found; set BEDDEL_WORKER\n");
		return -ENOENT;
	}
	int r = local_run(&cfg, exec, &rsp);
	if (r < 0) {
		fprintf(stderr, "beddel-run: could not run the worker: %s\n",
			strerror(-r));
		return r;
	}
	/* The payload, without the header, as a supervisor's reply reads. */
	*ret_len = rsp.len - IPC_HEADER_BYTES;
	*ret_buf = malloc(*ret_len);
	if (*ret_buf)
		memcpy(*ret_buf, rsp.data + IPC_HEADER_BYTES, *ret_len);
	proto_frame_fini(&rsp);
	return *ret_buf ? 0 : -ENOMEM;
}

/* Prints script-made text for a terminal: control bytes, which could
 * steer the terminal, are shown as \xNN; newline and tab too when the
 * text must stay on one line (where a newline could forge the next
 * line). */
static void
print_escaped(FILE *out, const char *s, size_t len, bool is_one_line)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool is_kept = !is_one_line && (c == '\n' || c == '\t');
		if ((c < 0x20 && !is_kept) || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
}

static void
print_chars(FILE *out, const char *s, size_t len)
{
	print_escaped(out, s, len, false);
}

/* The same, as one line. */
static void
print_text(FILE *out, const char *s, size_t len)
{
	print_chars(out, s, len);
	fputc('\n', out);
}

static void
print_stats(const struct proto_stats *s)
{
	fprintf(stderr, "stats: queue_us=%llu exec_us=%llu cpu_us=%llu total_us=%llu heap_peak_bytes=%llu worker_pid=%llu worker_execs=%llu\n",
		(unsigned long long)s->queue_us, (unsigned long long)s->exec_us,
		(unsigned long long)s->cpu_us, (unsigned long long)s->total_us,
		(unsigned long long)s->heap_peak_bytes,
		(unsigned long long)s->worker_pid,
		(unsigned long long)s->worker_execs);
}

/* The script's console, on stderr: "[level] text" per entry. */
static void
print_logs(const struct proto_result *res)
{
	size_t n = res->logs ? proto_value_count(res->logs) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct proto_value *pair = proto_value_at(res->logs, i);
		size_t level_len, text_len;
		const char *level = proto_value_str(proto_value_at(pair, 0),
						    &level_len);
		const char *text = proto_value_str(proto_value_at(pair, 1),
						   &text_len);
		fputc('[', stderr);
		print_chars(stderr, level, level_len);
		fputs("] ", stderr);
		print_text(stderr, text, text_len);
	}
	if (res->is_logs_truncated)
		fputs("[the console output was cut at its limit]\n", stderr);
}

int
run_report(uint8_t *buf, size_t len, bool is_json, bool is_stats)
{

	struct proto_msg *m = NULL;
	struct proto_result res;
	const char *why;

	if (proto_msg_decode(buf, len, &m, &why) < 0 ||
	    proto_msg_result(m, &res, &why) < 0) {
		fprintf(stderr, "internal: unreadable response: %s\n", why);
		proto_msg_free(m);
		return outcome_exit_code(OUTCOME_INTERNAL);
	}
	int r = 0;
	if (is_json)
		r = run_json_print(stdout, proto_msg_root(m));
	else if (res.outcome == OUTCOME_OK)
		r = run_json_print(stdout, res.value);
	if (!is_json)
		print_logs(&res);
	if (res.outcome != OUTCOME_OK) {
		fprintf(stderr, "%s: ", outcome_name(res.outcome));
		print_text(stderr, res.message, res.message_len);
		if (res.stack && !is_json)
			print_text(stderr, res.stack, res.stack_len);
	}
	if (is_stats)
		print_stats(&res.stats);
	int code = outcome_exit_code(res.outcome);
	proto_msg_free(m);
	if (r < 0 || fflush(stdout) != 0) {
		fprintf(stderr, "beddel-run: cannot write the result: %s\n",
			strerror(errno ? errno : EIO));
		return outcome_exit_code(OUTCOME_INTERNAL);
	}
	return code;
}


/* ---- --check -------------------------------------------------------- */

/* Starts one worker as a pool would, waits until it is ready (its
 * sandbox is then complete), and reads its layers from /proc. */
static int
inspect_one_worker(const struct pool_config *cfg, struct inspect_layers *ret)
{
	struct spawn_options opts = {
		.ns_flags = cfg->is_namespaces_off ? 0 : spawn_namespaces(),
		.heap_max_bytes = profile_set_max_heap(&cfg->profiles),
	};
	struct spawn_child c;
	uint8_t *buf = NULL;
	size_t len;
	int status;

	int r = spawn_worker(cfg->worker_path, &opts, &c);
	if (r < 0)
		return r;
	r = ipc_read_frame(c.rsp_fd, IPC_FRAME_MAX_DEFAULT, 10000, &buf, &len);
	free(buf);
	if (r == 1)
		r = inspect_worker(c.pid, ret);
	else if (r >= 0)
		r = -ECHILD;
	(void)kill(c.pid, SIGKILL);
	(void)close(c.req_fd);
	(void)close(c.rsp_fd);
	(void)waitpid(c.pid, &status, 0);
	return r;
}

static void
print_row(const char *what, bool is_on, const char *on, const char *off,
	  const char *detail)
{
	printf("%-22s %-12s %s\n", what, is_on ? on : off, detail);
}

/* A limit for a person: "unlimited", or the number with its unit. */
static void
format_limit(char *buf, size_t size, uint64_t value, unsigned shift,
	     const char *unit)
{
	if (value == UINT64_MAX)
		(void)snprintf(buf, size, "unlimited");
	else
		(void)snprintf(buf, size, "%llu%s",
			       (unsigned long long)(value >> shift), unit);
}

static void
print_layers(const struct inspect_layers *l)
{
	char detail[128], as[32], fds[32];

	printf("%-22s %-12s %s\n", "protection", "status", "detail");
	(void)snprintf(detail, sizeof(detail), "%u filter(s); other calls trap and kill",
		       l->seccomp_filters);
	print_row("seccomp", l->has_seccomp, "active", "MISSING",
		  l->has_seccomp ? detail : "no filter");
	print_row("no_new_privs", l->has_no_new_privs, "active", "MISSING", "");
	print_row("capabilities", l->has_no_capabilities, "dropped",
		  "MISSING",
		  l->has_no_capabilities ?
			  "all five sets empty, bounding set included" :
			  "some capability remains");
	(void)snprintf(detail, sizeof(detail), "uid %lu", l->uid);
	print_row("unprivileged uid", l->uid != 0, "active", "MISSING", detail);
	format_limit(as, sizeof(as), l->address_space_bytes, 20, " MiB");
	format_limit(fds, sizeof(fds), l->max_fds, 0, "");
	(void)snprintf(detail, sizeof(detail),
		       "address space %s, fds %s; no core, files or processes when active",
		       as, fds);
	print_row("rlimits", l->has_rlimits, "active", "MISSING", detail);
	for (unsigned i = 0; i < INSPECT_NS_COUNT; i++) {
		char what[32];
		bool is_known = l->namespaces_known & (1u << i);
		(void)snprintf(what, sizeof(what), "%s namespace",
			       inspect_ns_name(i));
		print_row(what, l->namespaces & (1u << i), "active",
			  is_known ? "not used" : "unknown",
			  i == 5 ? "only for a supervisor that is not root" :
				   "optional: where the host allows it");
	}
	print_row("empty root", l->has_empty_root, "active",
		  l->is_root_known ? "not used" : "unknown",
		  "one read-only tmpfs, no host files");
}

static void
print_verdict(bool is_complete)
{
	printf("%s\n",
	       is_complete
		       ? "every required protection is active"
		       : "a required protection is MISSING: do not run untrusted code here");
}

int
run_check(const char *profiles_path, bool is_namespaces_off)
{
	static struct pool_config cfg;
	struct inspect_layers l;
	char err[256];

	pool_config_defaults(&cfg);
	if (pool_config_load_profiles(&cfg, profiles_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "beddel-run: %s\n", err);
		return OUTCOME_EXIT_USAGE;
	}
	cfg.is_namespaces_off = is_namespaces_off;
	cfg.worker_path = spawn_find_worker();
	if (!cfg.worker_path) {
		fprintf(stderr, "beddel-run: no beddel-worker binary found; set BEDDEL_WORKER\n");
		return 1;
	}
	int r = inspect_one_worker(&cfg, &l);
	if (r < 0) {
		fprintf(stderr, "beddel-run: could not start and inspect a worker: %s\n",
			strerror(-r));
		return 1;
	}
	print_layers(&l);
	bool is_complete = inspect_is_complete(&l);
	print_verdict(is_complete);
	return is_complete ? 0 : 1;
}

/* ---- --status and --metrics ------------------------------------------ */

static uint64_t
uint_at(const struct proto_value *map, const char *key)
{
	return proto_value_uint(proto_value_find(map, key));
}

static double
double_at(const struct proto_value *map, const char *key)
{
	return proto_value_double(proto_value_find(map, key));
}

/* "p50/p99/max" of a spread. */
static void
format_spread(char *buf, size_t size, const struct proto_value *stats,
	      const char *key)
{
	const struct proto_value *s = proto_value_find(stats, key);

	(void)snprintf(buf, size, "%llu/%llu/%llu",
		       (unsigned long long)uint_at(s, "p50"),
		       (unsigned long long)uint_at(s, "p99"),
		       (unsigned long long)uint_at(s, "max"));
}

/* One row per window of a { "1m": stats, ... } map. */
static void
print_windows(const char *label, const struct proto_value *windows)
{
	for (size_t i = 0; i < proto_value_count(windows); i++) {
		size_t len;
		const char *name = proto_value_str(proto_value_key(windows, i),
						   &len);
		const struct proto_value *st = proto_value_val(windows, i);
		char exec[48], total[48], queue[48];
		format_spread(exec, sizeof(exec), st, "exec_us");
		format_spread(total, sizeof(total), st, "total_us");
		format_spread(queue, sizeof(queue), st, "queue_us");
		printf("%-24.24s %-3.*s %8llu %7.2f%% %7.2f%% %20s %20s %18s %10llu\n",
		       label, (int)len, name,
		       (unsigned long long)uint_at(st, "count"),
		       uint_at(st, "count") ?
			       100.0 * (double)uint_at(st, "ok") /
				       (double)uint_at(st, "count") :
			       100.0,
		       100.0 * double_at(st, "success_rate"), exec, total,
		       queue,
		       (unsigned long long)uint_at(
			       proto_value_find(st, "heap_peak_bytes"), "p99"));
	}
}

static void
print_pool(const struct proto_value *pool)
{
	const struct proto_value *retired = proto_value_find(pool, "retired");

	printf("pool: %llu workers (%llu idle, %llu busy, %llu starting, %llu clearing, %llu stopping), target %llu, %llu to %llu\n",
	       (unsigned long long)uint_at(pool, "workers"),
	       (unsigned long long)uint_at(pool, "idle"),
	       (unsigned long long)uint_at(pool, "busy"),
	       (unsigned long long)uint_at(pool, "starting"),
	       (unsigned long long)uint_at(pool, "clearing"),
	       (unsigned long long)uint_at(pool, "stopping"),
	       (unsigned long long)uint_at(pool, "target"),
	       (unsigned long long)uint_at(pool, "min_workers"),
	       (unsigned long long)uint_at(pool, "max_workers"));
	printf("      %llu queued, utilisation %.1f%%, resident %.1f MiB, %llu spawned, %llu tainted\n",
	       (unsigned long long)uint_at(pool, "queued"),
	       100.0 * double_at(pool, "utilisation"),
	       (double)uint_at(pool, "rss_bytes") / 1048576.0,
	       (unsigned long long)uint_at(pool, "spawned"),
	       (unsigned long long)uint_at(pool, "tainted"));
	printf("      retired:");
	for (size_t i = 0; i < proto_value_count(retired); i++) {
		size_t len;
		const char *k = proto_value_str(proto_value_key(retired, i), &len);
		printf(" %.*s %llu", (int)len, k,
		       (unsigned long long)proto_value_uint(
			       proto_value_val(retired, i)));
	}
	printf("%s\n", proto_value_count(retired) ? "" : " none");
}

/* The namespace bits of the names in an array. */
static unsigned
ns_bits(const struct proto_value *names)
{
	unsigned bits = 0;

	for (size_t i = 0; i < proto_value_count(names); i++) {
		size_t len;
		const char *name =
			proto_value_str(proto_value_at(names, i), &len);
		for (unsigned b = 0; b < INSPECT_NS_COUNT; b++) {
			if (strlen(inspect_ns_name(b)) == len &&
			    memcmp(inspect_ns_name(b), name, len) == 0)
				bits |= 1u << b;
		}
	}
	return bits;
}

/* The layers as the status's sandbox map gives them (status.c). */
static void
layers_from_status(const struct proto_value *sb, struct inspect_layers *ret)
{
	unsigned all_ns = (1u << INSPECT_NS_COUNT) - 1u;
	unsigned unknown = ns_bits(proto_value_find(sb, "namespaces_unknown"));

	*ret = (struct inspect_layers){
		.has_seccomp =
			proto_value_bool(proto_value_find(sb, "seccomp")),
		.seccomp_filters = (unsigned)uint_at(sb, "seccomp_filters"),
		.has_no_new_privs =
			proto_value_bool(proto_value_find(sb, "no_new_privs")),
		.has_no_capabilities = proto_value_bool(
			proto_value_find(sb, "capabilities_dropped")),
		.uid = (unsigned long)uint_at(sb, "uid"),
		.has_rlimits =
			proto_value_bool(proto_value_find(sb, "rlimits")),
		.address_space_bytes = uint_at(sb, "address_space_bytes"),
		.max_fds = uint_at(sb, "max_fds"),
		.namespaces = ns_bits(proto_value_find(sb, "namespaces")),
		.namespaces_known = all_ns & ~unknown,
		.has_empty_root =
			proto_value_bool(proto_value_find(sb, "empty_root")),
		.is_root_known =
			!proto_value_bool(proto_value_find(sb, "root_unknown")),
	};
}

/* The transform of ES2015+ scripts and its cache, when it is on. */
static void
print_transform(const struct proto_value *t)
{
	if (!t) {
		printf("transform: off (ES2015+ scripts get syntax_error)\n");
		return;
	}
	printf("transform: %llu workers, %llu scripts (%llu not lowered); cache %llu hits, %llu misses, %llu evictions, %llu entries, %.1f KiB\n",
	       (unsigned long long)uint_at(t, "workers"),
	       (unsigned long long)uint_at(t, "transforms"),
	       (unsigned long long)uint_at(t, "failures"),
	       (unsigned long long)uint_at(t, "cache_hits"),
	       (unsigned long long)uint_at(t, "cache_misses"),
	       (unsigned long long)uint_at(t, "cache_evictions"),
	       (unsigned long long)uint_at(t, "cache_entries"),
	       (double)uint_at(t, "cache_bytes") / 1024.0);
}

/* The first worker's sandbox, as --check prints a worker's; the verdict
 * is the supervisor's. */
static void
print_sandbox(const struct proto_value *sb)
{
	struct inspect_layers l;

	if (proto_value_kind(sb) != PROTO_MAP) {
		printf("sandbox: no worker read yet\n");
		return;
	}
	layers_from_status(sb, &l);
	printf("\nsandbox of the first worker:\n");
	print_layers(&l);
	print_verdict(proto_value_bool(proto_value_find(sb, "complete")));
}

static void
print_status(const struct proto_value *st)
{
	const struct proto_value *profiles = proto_value_find(st, "profiles");
	const struct proto_value *tenant = proto_value_find(st, "tenant");
	const struct proto_value *recs = proto_value_find(st, "recommendations");
	const struct proto_value *alerts = proto_value_find(st, "alerts");
	const struct proto_value *sandbox = proto_value_find(st, "sandbox");
	size_t len;

	const char *version = proto_value_str(proto_value_find(st, "version"),
					      &len);
	printf("beddel-supervisor %.*s, up %llu s, %zu tenants seen\n",
	       (int)len, version, (unsigned long long)uint_at(st, "uptime_s"),
	       proto_value_count(proto_value_find(st, "tenants")));
	print_pool(proto_value_find(st, "pool"));
	print_transform(proto_value_find(st, "transform"));
	print_sandbox(sandbox);
	printf("\n%-24s %-3s %8s %8s %8s %20s %20s %18s %10s\n", "executions",
	       "win", "count", "ok", "service", "exec us p50/p99/max",
	       "total us p50/p99/max", "queue us p50/p99/max", "heap p99");
	print_windows("all", proto_value_find(st, "executions"));
	for (size_t i = 0; i < proto_value_count(profiles); i++) {
		char label[64];
		const char *name = proto_value_str(proto_value_key(profiles, i),
						   &len);
		(void)snprintf(label, sizeof(label), "profile %.*s", (int)len,
			       name);
		print_windows(label, proto_value_val(profiles, i));
	}
	if (tenant) {
		char label[96];
		const char *name = proto_value_str(proto_value_find(tenant, "name"),
						   &len);
		(void)snprintf(label, sizeof(label), "tenant %.*s", (int)len, name);
		print_windows(label, proto_value_find(tenant, "windows"));
	}
	printf("\nalerts: %llu warning, %llu critical\n",
	       (unsigned long long)uint_at(alerts, "warning"),
	       (unsigned long long)uint_at(alerts, "critical"));
	for (size_t i = 0; i < proto_value_count(recs); i++) {
		const char *text = proto_value_str(proto_value_at(recs, i), &len);
		printf("recommendation: ");
		print_text(stdout, text, len);
	}
}

int
run_query(const char *socket, bool is_metrics, const char *tenant,
	  bool is_json)
{
	struct proto_query q = { .has_id = true, .id = 1, .tenant = tenant,
				 .tenant_len = tenant ? strlen(tenant) : 0 };
	enum proto_type type = is_metrics ? PROTO_MSG_METRICS : PROTO_MSG_STATUS;
	struct proto_frame req;
	struct proto_msg *m = NULL;
	struct proto_result res;
	uint8_t *buf;
	size_t len;
	const char *why;

	if (proto_encode_query(type, &q, &req) < 0)
		return outcome_exit_code(OUTCOME_INTERNAL);
	if (call_supervisor(socket, &req, 10000, 0, &buf, &len) < 0)
		return OUTCOME_EXIT_UNREACHABLE;
	if (proto_msg_decode(buf, len, &m, &why) < 0) {
		fprintf(stderr, "internal: unreadable answer: %s\n", why);
		return outcome_exit_code(OUTCOME_INTERNAL);
	}
	int code = 0;
	if (proto_msg_type(m) == PROTO_MSG_RESULT &&
	    proto_msg_result(m, &res, &why) == 0) {
		fprintf(stderr, "%s: ", outcome_name(res.outcome));
		print_text(stderr, res.message, res.message_len);
		code = outcome_exit_code(res.outcome);
	} else if (is_json) {
		code = run_json_print(stdout, proto_msg_root(m)) < 0 ? 1 : 0;
	} else if (is_metrics) {
		const char *text = proto_value_str(proto_msg_get(m, "text"), &len);
		code = fwrite(text, 1, len, stdout) == len ? 0 : 1;
	} else {
		print_status(proto_msg_get(m, "status"));
	}
	proto_msg_free(m);
	if (fflush(stdout) != 0)
		code = outcome_exit_code(OUTCOME_INTERNAL);
	return code;
}

/* ---- --watch ---------------------------------------------------------- */

/* "event key=value ..." for a person; text values in single quotes. */
static void
print_event(const struct proto_msg *m)
{
	const struct proto_value *fields = proto_msg_get(m, "fields");
	size_t len;
	const char *event = proto_value_str(proto_msg_get(m, "event"), &len);

	uint64_t ms = proto_value_uint(proto_msg_get(m, "time_ms"));
	time_t secs = (time_t)(ms / 1000u);
	struct tm tm;
	char when[32] = "";
	if (gmtime_r(&secs, &tm))
		(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One event, one line: nothing in it may start another. */
	printf("%s.%03uZ ", when, (unsigned)(ms % 1000u));
	print_escaped(stdout, event, len, true);
	for (size_t i = 0; i < proto_value_count(fields); i++) {
		const char *key = proto_value_str(proto_value_key(fields, i),
						  &len);
		const struct proto_value *v = proto_value_val(fields, i);
		putchar(' ');
		print_escaped(stdout, key, len, true);
		putchar('=');
		if (proto_value_kind(v) == PROTO_STR) {
			const char *text = proto_value_str(v, &len);
			putchar('\'');
			print_escaped(stdout, text, len, true);
			putchar('\'');
		} else {
			printf("%llu", (unsigned long long)proto_value_uint(v));
		}
	}
	putchar('\n');
}

int
run_watch(const char *socket, bool is_json)
{
	struct proto_query q = { .has_id = true, .id = 1 };
	struct proto_frame req;
	const char *why;

	int fd = remote_connect(socket);
	if (fd < 0) {
		fprintf(stderr, "beddel-run: cannot reach the supervisor at '%s': %s\n",
			socket, strerror(-fd));
		return OUTCOME_EXIT_UNREACHABLE;
	}
	int r = proto_encode_query(PROTO_MSG_SUBSCRIBE, &q, &req);
	if (r == 0) {
		r = sys_write_all(fd, req.data, req.len);
		proto_frame_fini(&req);
	}
	/* Until the supervisor stops: it closes the connection. */
	while (r >= 0) {
		struct proto_msg *m;
		uint8_t *buf;
		size_t len;
		r = ipc_read_frame(fd, IPC_FRAME_MAX_CEILING, -1, &buf, &len);
		if (r <= 0)
			break;
		if (proto_msg_decode(buf, len, &m, &why) < 0)
			continue;
		if (is_json)
			(void)run_json_print(stdout, proto_msg_root(m));
		else if (proto_msg_type(m) == PROTO_MSG_EVENT)
			print_event(m);
		else if (proto_msg_type(m) == PROTO_MSG_SUBSCRIBED)
			printf("watching the supervisor at %s\n", socket);
		proto_msg_free(m);
		(void)fflush(stdout);
	}
	(void)close(fd);
	return r == 0 ? 0 : OUTCOME_EXIT_UNREACHABLE;
}
