/* SPDX-License-Identifier: MIT */
/*
 * beddel-run: runs one script, through a supervisor when a socket is given
 * (--socket or $BEDDEL_SOCKET), else alone in one sandboxed worker. Prints
 * the result as JSON, or "KIND: message" on stderr with an exit code per
 * kind.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/outcome.h"
#include "common/proto.h"
#include "common/util.h"
#include "config.h"
#include "supervisor/local.h"
#include "supervisor/pool.h"
#include "supervisor/remote.h"
#include "supervisor/run_json.h"
#include "supervisor/spawn.h"

/* How long past the script's own timeout we wait for the supervisor. */
#define RUN_REPLY_SLACK_MS 10000

struct run_options {
	const char *code_arg;
	const char *file;
	const char *input_json;
	const char *tenant;
	const char *socket;
	uint64_t timeout_ms;
	bool is_json;
	bool is_stats;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: beddel-run [OPTION]... FILE\n"
		"       beddel-run [OPTION]... -e CODE\n"
		"       beddel-run [OPTION]... -        (script on stdin)\n"
		"Run one JavaScript script in a Beddel sandbox and print its result as JSON.\n"
		"The result is the script's completion value, as with eval: '1 + 1' prints 2.\n"
		"\n"
		"  -e, --eval CODE      run CODE\n"
		"      --input JSON     value the script sees as the global '%s'\n"
		"      --timeout MS     wall-clock timeout; default and maximum are the\n"
		"                       supervisor's (%d when run alone)\n"
		"      --tenant ID      tenant the script runs for (default: %s)\n"
		"      --socket PATH    send it to the supervisor listening at PATH\n"
		"                       (default: $BEDDEL_SOCKET; without either, run it alone\n"
		"                       in one sandboxed worker)\n"
		"      --json           print the whole response, stats included\n"
		"      --stats          also print the execution's figures on stderr\n"
		"      --help           show this help\n"
		"      --version        show the version\n"
		"\n"
		"Exit status:\n",
		"input", POOL_TIMEOUT_MS_DEFAULT, POOL_TENANT_DEFAULT);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, "  %2d  %s\n", outcome_exit_code((enum outcome)o),
			outcome_name((enum outcome)o));
	fprintf(out, "  %2d  usage error\n  %2d  the supervisor could not be reached\n",
		OUTCOME_EXIT_USAGE, OUTCOME_EXIT_UNREACHABLE);
}

static int
parse_args(int argc, char **argv, struct run_options *o)
{
	static const struct option options[] = {
		{ "eval", required_argument, NULL, 'e' },
		{ "input", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "stats", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "e:", options, NULL)) != -1) {
		switch (opt) {
		case 'e':
			if (o->code_arg) {
				fprintf(stderr, "beddel-run: give -e only once\n");
				return -EINVAL;
			}
			o->code_arg = optarg;
			break;
		case 'i':
			o->input_json = optarg;
			break;
		case 't':
			if (util_parse_u64(optarg, 1, UINT32_MAX, &o->timeout_ms) < 0) {
				fprintf(stderr, "beddel-run: --timeout wants milliseconds, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'T':
			o->tenant = optarg;
			break;
		case 's':
			if (!*optarg) {
				fprintf(stderr, "beddel-run: --socket needs a path\n");
				return -EINVAL;
			}
			o->socket = optarg;
			break;
		case 'j':
			o->is_json = true;
			break;
		case 'S':
			o->is_stats = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("beddel-run %s\n", BEDDEL_VERSION);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc || (o->file != NULL) == (o->code_arg != NULL)) {
		fprintf(stderr, "beddel-run: give exactly one of FILE, - or -e CODE\n");
		return -EINVAL;
	}
	if (!o->socket) {
		const char *env = getenv("BEDDEL_SOCKET");
		o->socket = env && *env ? env : NULL;
	}
	return 0;
}

/* Reads a whole script file (or stdin for "-") into a NUL-terminated
 * buffer. */
static int
read_script(const char *path, char **ret, size_t *ret_len)
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
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int
call_supervisor(const char *socket, const struct proto_exec *exec,
		uint8_t **ret_buf, size_t *ret_len)
{
	struct proto_frame req;

	int fd = remote_connect(socket);
	if (fd < 0) {
		fprintf(stderr, "beddel-run: cannot reach the supervisor at '%s': %s\n",
			socket, strerror(-fd));
		return -EHOSTUNREACH;
	}
	int r = proto_encode_exec(exec, &req);
	if (r == 0) {
		uint64_t wait = exec->timeout_ms ? exec->timeout_ms : 3600000;
		r = remote_call(fd, &req, (int)(wait + RUN_REPLY_SLACK_MS),
				ret_buf, ret_len);
		proto_frame_fini(&req);
	}
	(void)close(fd);
	if (r < 0) {
		fprintf(stderr, "beddel-run: no answer from the supervisor at '%s': %s\n",
			socket,
			r == -ECONNRESET ? "it closed the connection" : strerror(-r));
		return -EHOSTUNREACH;
	}
	return 0;
}

static int
run_alone(const struct proto_exec *exec, uint8_t **ret_buf, size_t *ret_len)
{
	struct pool_config cfg;
	struct proto_frame rsp;

	pool_config_defaults(&cfg);
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

/* Prints script-made text for a terminal: control bytes other than
 * newline and tab, which could steer the terminal, are shown as \xNN. */
static void
print_text(FILE *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
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

/* Prints a response and returns the exit code for it. */
static int
report(uint8_t *buf, size_t len, const struct run_options *o)
{
	bool is_json = o->is_json;

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
	if (res.outcome != OUTCOME_OK) {
		fprintf(stderr, "%s: ", outcome_name(res.outcome));
		print_text(stderr, res.message, res.message_len);
		if (res.stack && !is_json)
			print_text(stderr, res.stack, res.stack_len);
	}
	if (o->is_stats)
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

int
main(int argc, char **argv)
{
	struct run_options o = { 0 };
	struct proto_exec exec = { .has_id = true, .id = 1 };
	struct proto_writer *input = NULL;
	char *script = NULL;
	uint8_t *rsp;
	size_t rsp_len;
	char why[256];
	int r, code = OUTCOME_EXIT_USAGE;

	log_init("beddel-run", LOG_LEVEL_WARN);
	/* A supervisor that refuses us closes the socket; its answer is
	 * read after a failed write, so that write must not kill us. */
	(void)signal(SIGPIPE, SIG_IGN);
	/* getopt names the program after argv[0] in its messages. */
	argv[0] = (char *)"beddel-run";
	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "Try 'beddel-run --help'.\n");
		return OUTCOME_EXIT_USAGE;
	}

	if (o.code_arg) {
		exec.code = o.code_arg;
		exec.code_len = strlen(o.code_arg);
	} else {
		r = read_script(o.file, &script, &exec.code_len);
		if (r < 0) {
			fprintf(stderr, "beddel-run: cannot read '%s': %s\n",
				o.file, strerror(-r));
			return OUTCOME_EXIT_USAGE;
		}
		exec.code = script;
	}
	if (o.input_json) {
		input = proto_writer_new(IPC_FRAME_MAX_CEILING);
		if (!input || run_json_to_msgpack(o.input_json, input, why,
						  sizeof(why)) < 0) {
			fprintf(stderr, "beddel-run: %s\n",
				input ? why : "out of memory");
			goto out;
		}
		exec.input_raw = proto_writer_data(input, &exec.input_raw_len);
	}
	if (o.tenant) {
		exec.tenant = o.tenant;
		exec.tenant_len = strlen(o.tenant);
	}
	exec.timeout_ms = o.timeout_ms;

	r = o.socket ? call_supervisor(o.socket, &exec, &rsp, &rsp_len) :
		       run_alone(&exec, &rsp, &rsp_len);
	if (r < 0) {
		code = r == -EHOSTUNREACH ? OUTCOME_EXIT_UNREACHABLE :
					    outcome_exit_code(OUTCOME_INTERNAL);
		goto out;
	}
	/* report() takes ownership of the response. */
	code = report(rsp, rsp_len, &o);
out:
	proto_writer_free(input);
	free(script);
	return code;
}
