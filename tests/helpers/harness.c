/* SPDX-License-Identifier: MIT */
/*
 * Supervisor harness for tests and benchmarks. It runs the real binary
 * with its stderr on a pipe that it drains, so that it can wait for log
 * events instead of sleeping.
 */
#include "tests/helpers/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/sys.h"
#include "supervisor/remote.h"
#include "supervisor/run_json.h"

static const char *
env_or(const char *name, const char *fallback)
{
	const char *p = getenv(name);
	return p && *p ? p : fallback;
}

const char *
harness_supervisor_path(void)
{
	return env_or("BEDDEL_SUPERVISOR", HARNESS_SUPERVISOR);
}

const char *
harness_run_path(void)
{
	return env_or("BEDDEL_RUN", HARNESS_RUN);
}

const char *
harness_examples_dir(void)
{
	return env_or("BEDDEL_EXAMPLES", HARNESS_EXAMPLES);
}

void
harness_drain_log(struct harness *h)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(h->log_fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		if (h->log_len + (size_t)n >= HARNESS_LOG_MAX)
			continue;
		memcpy(h->log + h->log_len, buf, (size_t)n);
		h->log_len += (size_t)n;
		h->log[h->log_len] = '\0';
	}
}

/* Counts lines from offset from that contain needle, up to stop matches
 * (0: no limit); *ret_end is set past the last line counted, so that a
 * later wait sees the lines after it. */
static unsigned
count_lines_from(const struct harness *h, size_t from, const char *needle,
		 unsigned stop, size_t *ret_end)
{
	unsigned count = 0;
	const char *p = h->log + from;
	const char *end = h->log + h->log_len;

	*ret_end = from;
	while (p < end && (stop == 0 || count < stop)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		if (memmem(p, (size_t)(nl - p), needle, strlen(needle))) {
			count++;
			*ret_end = (size_t)(nl + 1 - h->log);
		}
		p = nl + 1;
	}
	return count;
}

unsigned
harness_count_log(struct harness *h, const char *needle)
{
	size_t end;

	harness_drain_log(h);
	return count_lines_from(h, 0, needle, 0, &end);
}

int
harness_wait_log(struct harness *h, const char *needle, unsigned count,
		 int timeout_ms)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	size_t end;

	for (;;) {
		harness_drain_log(h);
		if (count_lines_from(h, h->log_seen, needle, count, &end) >= count) {
			h->log_seen = end;
			return 0;
		}
		uint64_t now = sys_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = { .fd = h->log_fd, .events = POLLIN };
		(void)poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
	}
}

static void
remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(void)unlinkat(dirfd(d), e->d_name, 0);
	}
	(void)closedir(d);
	(void)rmdir(dir);
}

static void
exec_supervisor(const struct harness *h, int log_write, unsigned workers,
		const char *const *extra, unsigned long nofile)
{
	const char *argv[32];
	char nworkers[16];
	size_t n = 0;

	(void)snprintf(nworkers, sizeof(nworkers), "%u", workers);
	argv[n++] = harness_supervisor_path();
	argv[n++] = "--socket";
	argv[n++] = h->socket;
	argv[n++] = "--workers";
	argv[n++] = nworkers;
	/* No transform worker, so that tests count engine workers only; a
	 * test of the transform turns it on in its own arguments, which
	 * come later and win. */
	argv[n++] = "--transform-workers-max";
	argv[n++] = "0";
	for (size_t i = 0; extra && extra[i] && n < 30; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	(void)dup2(log_write, STDERR_FILENO);
	/* A test that fails part way exits without its teardown: the
	 * supervisor then gets SIGTERM and stops cleanly on its own. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* Both limits, as `ulimit -n` sets them: the supervisor raises its
	 * soft limit to the hard one at start. */
	struct rlimit rl = { .rlim_cur = nofile, .rlim_max = nofile };
	if (nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		_exit(127);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

int
harness_start(struct harness *h, unsigned workers,
	      const char *const *extra_args)
{
	return harness_start_nofile(h, workers, extra_args, 0);
}

int
harness_start_nofile(struct harness *h, unsigned workers,
		     const char *const *extra_args, unsigned long nofile)
{
	int pipefd[2];

	memset(h, 0, sizeof(*h));
	if (access(harness_supervisor_path(), X_OK) < 0)
		return -errno;
	(void)snprintf(h->dir, sizeof(h->dir), "/tmp/beddel-test-XXXXXX");
	if (!mkdtemp(h->dir))
		return -errno;
	(void)snprintf(h->socket, sizeof(h->socket), "%s/s.sock", h->dir);
	h->log = malloc(HARNESS_LOG_MAX + 1);
	if (!h->log || pipe2(pipefd, O_CLOEXEC) < 0) {
		free(h->log);
		remove_dir(h->dir);
		return -ENOMEM;
	}
	h->log[0] = '\0';
	/* A big pipe, drained at every call, so that logging never blocks
	 * the supervisor. */
	(void)fcntl(pipefd[0], F_SETPIPE_SZ, 1024 * 1024);

	h->pid = fork();
	if (h->pid == 0)
		exec_supervisor(h, pipefd[1], workers, extra_args, nofile);
	(void)close(pipefd[1]);
	h->log_fd = pipefd[0];
	(void)sys_set_nonblock(h->log_fd);
	if (h->pid < 0) {
		int r = -errno;
		(void)close(h->log_fd);
		free(h->log);
		remove_dir(h->dir);
		return r;
	}
	int r = workers ? harness_wait_log(h, "pool: worker ready", workers, 10000) :
			  harness_wait_log(h, "supervisor: started", 1, 10000);
	if (r < 0) {
		fprintf(stderr, "harness: supervisor did not start; its log:\n%s\n",
			h->log);
		(void)harness_stop(h, 1000);
	}
	return r;
}

static int
wait_exit(pid_t pid, int timeout_ms, int *ret_status)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec tick = { .tv_nsec = 1000000 };

	/* NOTE: waitpid has no timeout; a 1 ms poll is the only way to keep
	 * a deadline without taking over SIGCHLD from the test. */
	while (sys_now_ns() < deadline) {
		pid_t r = waitpid(pid, ret_status, WNOHANG);
		if (r == pid)
			return 0;
		if (r < 0)
			return -errno;
		(void)nanosleep(&tick, NULL);
	}
	return -ETIMEDOUT;
}

int
harness_stop(struct harness *h, int timeout_ms)
{
	int status = 0, r;

	(void)kill(h->pid, SIGTERM);
	r = wait_exit(h->pid, timeout_ms, &status);
	if (r < 0) {
		(void)kill(h->pid, SIGKILL);
		(void)waitpid(h->pid, &status, 0);
	}
	harness_drain_log(h);
	(void)close(h->log_fd);
	free(h->log);
	h->log = NULL;
	remove_dir(h->dir);
	return r < 0 ? r : status;
}

int
harness_connect(const struct harness *h)
{
	return remote_connect(h->socket);
}

int
harness_exec_frame(uint64_t id, const char *code, const char *input_json,
		   uint64_t timeout_ms, struct proto_frame *ret)
{
	struct proto_exec e = {
		.has_id = true,
		.id = id,
		.code = code,
		.code_len = strlen(code),
		.timeout_ms = timeout_ms,
	};
	struct proto_writer *w = NULL;
	char why[128];

	if (input_json) {
		w = proto_writer_new(IPC_FRAME_MAX_CEILING);
		if (!w || run_json_to_msgpack(input_json, w, why, sizeof(why)) < 0) {
			proto_writer_free(w);
			return -EINVAL;
		}
		e.input_raw = proto_writer_data(w, &e.input_raw_len);
	}
	int r = proto_encode_exec(&e, ret);
	proto_writer_free(w);
	return r;
}

int
harness_read_result(int fd, int timeout_ms, struct proto_msg **ret_msg,
		    struct proto_result *ret_res)
{
	uint8_t *buf;
	size_t len;
	const char *why;

	int r = ipc_read_frame(fd, IPC_FRAME_MAX_CEILING, timeout_ms, &buf, &len);
	if (r == 0)
		return -EPIPE;
	if (r < 0)
		return r;
	r = proto_msg_decode(buf, len, ret_msg, &why);
	if (r < 0)
		return r;
	r = proto_msg_result(*ret_msg, ret_res, &why);
	if (r < 0) {
		proto_msg_free(*ret_msg);
		*ret_msg = NULL;
	}
	return r;
}

int
harness_query(const struct harness *h, enum proto_type type, const char *tenant,
	      struct proto_msg **ret_msg)
{
	struct proto_query q = {.has_id = true,
				.id = 1,
				.tenant = tenant,
				.tenant_len = tenant ? strlen(tenant) : 0};
	struct proto_frame f;
	uint8_t *buf;
	size_t len;
	const char *why;

	int fd = harness_connect(h);
	if (fd < 0)
		return fd;
	int r = proto_encode_query(type, &q, &f);
	if (r == 0) {
		r = sys_write_all(fd, f.data, f.len);
		proto_frame_fini(&f);
	}
	if (r == 0)
		r = ipc_read_frame(fd, IPC_FRAME_MAX_CEILING, 10000, &buf,
				   &len);
	(void)close(fd);
	if (r == 0)
		return -EPIPE;
	if (r < 0)
		return r;
	return proto_msg_decode(buf, len, ret_msg, &why);
}

/* Sends f (and releases it), then reads the answer. */
static int
send_and_read(int fd, struct proto_frame *f, struct proto_msg **ret_msg,
	      struct proto_result *ret_res)
{
	int r = sys_write_all(fd, f->data, f->len);

	proto_frame_fini(f);
	if (r < 0)
		return r;
	return harness_read_result(fd, 30000, ret_msg, ret_res);
}

int
harness_exec(int fd, uint64_t id, const char *code, const char *input_json,
	     uint64_t timeout_ms, struct proto_msg **ret_msg,
	     struct proto_result *ret_res)
{
	struct proto_frame f;

	int r = harness_exec_frame(id, code, input_json, timeout_ms, &f);
	if (r < 0)
		return r;
	return send_and_read(fd, &f, ret_msg, ret_res);
}

char *
harness_value_json(const struct proto_value *v)
{
	char *text = NULL;
	size_t len = 0;

	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	(void)run_json_print(f, v);
	(void)fclose(f);
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	return text;
}

/* Parent, state and CPU ticks (user + system) of pid, from
 * /proc/PID/stat. Returns the parent, or -1. */
static pid_t
read_stat(pid_t pid, char *ret_state, unsigned long long *ret_ticks)
{
	char path[64], buf[1024];
	int ppid = -1;
	char state = '?';
	unsigned long long utime = 0, stime = 0;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses; the fields after
	 * it start at the last ')'. utime and stime are fields 14 and 15. */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &state, &ppid, &utime, &stime) != 4)
		return -1;
	if (ret_state)
		*ret_state = state;
	if (ret_ticks)
		*ret_ticks = utime + stime;
	return ppid;
}

size_t
harness_children(const struct harness *h, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && read_stat(pid, NULL, NULL) == h->pid)
			out[n++] = pid;
	}
	(void)closedir(d);
	return n;
}

pid_t
harness_busy_worker(const struct harness *h, int timeout_ms)
{
	uint64_t deadline = sys_now_ns() + (uint64_t)timeout_ms * 1000000u;
	struct timespec window = { .tv_nsec = 100000000 };
	pid_t pids[64];
	unsigned long long before[64];

	/* NOTE: a process's run state has no event to wait on. A worker
	 * running a script is the one that keeps running and keeps using
	 * CPU over a 100 ms window; one that is warming up or going back to
	 * its read is running only for an instant. */
	while (sys_now_ns() < deadline) {
		size_t n = harness_children(h, pids, 64);
		for (size_t i = 0; i < n; i++)
			(void)read_stat(pids[i], NULL, &before[i]);
		(void)nanosleep(&window, NULL);
		for (size_t i = 0; i < n; i++) {
			char state;
			unsigned long long after;
			if (read_stat(pids[i], &state, &after) == h->pid &&
			    state == 'R' && after >= before[i] + 3)
				return pids[i];
		}
	}
	return -ETIMEDOUT;
}

unsigned
harness_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	(void)closedir(d);
	/* The directory stream itself held one. */
	return n - 1;
}

int
harness_proc_status(pid_t pid, const char *name, char *buf, size_t size)
{
	return harness_proc_field(pid, "status", name, buf, size);
}

uint64_t
harness_proc_kib(pid_t pid, const char *file, const char *name)
{
	char value[64];

	if (harness_proc_field(pid, file, name, value, sizeof(value)) < 0)
		return 0;
	return strtoull(value, NULL, 10);
}

int
harness_proc_field(pid_t pid, const char *file, const char *name, char *buf,
		   size_t size)
{
	char path[64], line[256];
	size_t n = strlen(name);

	(void)snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, name, n) != 0 || line[n] != ':')
			continue;
		char *start = line + n + 1;
		start += strspn(start, " \t");
		size_t end = strlen(start);
		while (end > 0 && strchr(" \t\n", start[end - 1]))
			end--;
		(void)snprintf(buf, size, "%.*s", (int)end, start);
	}
	(void)fclose(f);
	return 0;
}

struct proto_msg *
harness_raw_value(const uint8_t *raw, size_t len,
		  const struct proto_value **ret_value)
{
	struct proto_result r = { .outcome = OUTCOME_OK, .value_raw = raw,
				  .value_raw_len = len };
	struct proto_result out;
	struct proto_frame f;
	const char *why;

	if (proto_encode_result(&r, &f) < 0)
		return NULL;
	struct proto_msg *m = harness_decode_frame(&f);
	if (!m || proto_msg_result(m, &out, &why) < 0) {
		proto_msg_free(m);
		return NULL;
	}
	*ret_value = out.value;
	return m;
}

struct proto_msg *
harness_decode_frame(struct proto_frame *f)
{
	struct proto_msg *m = NULL;
	const char *why;
	size_t len;

	if (ipc_header_decode(f->data, IPC_FRAME_MAX_CEILING, &len) < 0 ||
	    len != f->len - IPC_HEADER_BYTES) {
		proto_frame_fini(f);
		return NULL;
	}
	uint8_t *buf = malloc(len);
	if (buf)
		memcpy(buf, f->data + IPC_HEADER_BYTES, len);
	proto_frame_fini(f);
	if (!buf || proto_msg_decode(buf, len, &m, &why) < 0)
		return NULL;
	return m;
}

int
harness_exec_for(int fd, uint64_t id, const char *tenant, const char *code,
		 struct proto_msg **ret_msg, struct proto_result *ret_res)
{
	struct proto_exec e = {
		.has_id = true,
		.id = id,
		.code = code,
		.code_len = strlen(code),
		.tenant = tenant,
		.tenant_len = strlen(tenant),
	};
	struct proto_frame f;

	int r = proto_encode_exec(&e, &f);
	if (r < 0)
		return r;
	return send_and_read(fd, &f, ret_msg, ret_res);
}

bool
harness_workers_have_own_pid_namespace(const struct harness *h)
{
	uint64_t deadline = sys_now_ns() + 5000000000u;
	struct timespec pause = { .tv_nsec = 10000000 };
	char nspid[64];
	pid_t pid;

	/* NOTE: polled, as a new child has no event to wait on. */
	while (harness_children(h, &pid, 1) == 0 && sys_now_ns() < deadline)
		(void)nanosleep(&pause, NULL);
	if (harness_children(h, &pid, 1) == 0 ||
	    harness_proc_status(pid, "NSpid", nspid, sizeof(nspid)) < 0)
		return false;
	return strpbrk(nspid, " \t") != NULL;
}

int
harness_outcome_for(struct harness *h, const char *tenant, const char *code,
		    uint64_t timeout_ms, enum outcome *ret_kind)
{
	struct proto_exec e = { .has_id = true, .id = 1, .code = code,
				.code_len = strlen(code), .tenant = tenant,
				.tenant_len = tenant ? strlen(tenant) : 0,
				.timeout_ms = timeout_ms };
	struct proto_frame f;
	struct proto_msg *m;
	struct proto_result res;

	int fd = harness_connect(h);
	if (fd < 0)
		return fd;
	int r = proto_encode_exec(&e, &f);
	if (r == 0) {
		r = sys_write_all(fd, f.data, f.len);
		proto_frame_fini(&f);
	}
	if (r == 0)
		r = harness_read_result(fd, 10000, &m, &res);
	(void)close(fd);
	if (r < 0)
		return r;
	*ret_kind = res.outcome;
	proto_msg_free(m);
	return 0;
}
