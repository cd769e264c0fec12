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
#include "supervisor/pool.h"
#include "supervisor/run.h"
#include "supervisor/run_json.h"

struct run_options {
	const char *code_arg;
	const char *file;
	const char *input_json;
	const char *props_json;
	const char *tenant;
	const char *profile;
	const char *profiles_path;
	bool is_function;
	const char *socket;
	uint64_t timeout_ms;
	uint64_t retry_ms;
	bool is_json;
	bool is_stats;
	bool is_check;
	bool is_namespaces_off;
	bool is_status;
	bool is_metrics;
	bool is_watch;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"Usage: beddel-run [OPTION]... FILE\n"
		"       beddel-run [OPTION]... -e CODE\n"
		"       beddel-run [OPTION]... -        (script on stdin)\n"
		"       beddel-run --check [--profiles PATH]\n"
		"       beddel-run --status [--tenant ID] [--json] | --metrics | --watch\n"
		"Run one JavaScript script in a Beddel sandbox and print its result as JSON.\n"
		"The result is the script's completion value, as with eval: '1 + 1' prints 2.\n"
		"What it writes with console.log() and the like goes to stderr.\n"
		"\n"
		"  -e, --eval CODE      run CODE\n"
		"      --input JSON     value the script sees as the global '%s'\n"
		"      --function       CODE is a function expression, called as\n"
		"                       (params, props, context): params is --input,\n"
		"                       and it reports through context.setOutput(value)\n"
		"                       or context.setError(message)\n"
		"      --props JSON     the function's second argument\n"
		"      --profile NAME   security profile (default: the profiles file's)\n"
		"      --profiles PATH  profiles file when run alone (default: %s)\n"
		"      --timeout MS     wall-clock timeout, at most the profile's\n"
		"      --tenant ID      tenant the script runs for (default: %s)\n"
		"      --socket PATH    send it to the supervisor listening at PATH\n"
		"      --retry-ms MS    with a socket, send it again while no answer has come\n"
		"                       (nobody listens, or the supervisor went away before\n"
		"                       answering) for up to MS; a script has no effect but\n"
		"                       its answer, so this is always safe (default: 0)\n"
		"                       (default: $BEDDEL_SOCKET; without either, run it alone\n"
		"                       in one sandboxed worker)\n"
		"      --check          start one worker as a supervisor would, print each\n"
		"                       protection of its sandbox and whether it is active\n"
		"                       on this host; exit 1 if a required one is missing\n"
		"      --no-namespaces  alone or with --check: no namespaces for the worker\n"
		"      --status         print the supervisor's pool and statistics (per\n"
		"                       window, profile, and --tenant ID); --json for all\n"
		"      --metrics        print its metrics in the Prometheus text format\n"
		"      --watch          print its events (alerts, sizing decisions, worker\n"
		"                       deaths, slow executions) as they come, until it stops\n"
		"      --json           print the whole response, stats included\n"
		"      --stats          also print the execution's figures on stderr\n"
		"      --help           show this help\n"
		"      --version        show the version\n"
		"\n"
		"Exit status:\n",
		"input", BEDDEL_PROFILES_PATH, POOL_TENANT_DEFAULT);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, "  %2d  %s\n", outcome_exit_code((enum outcome)o),
			outcome_name((enum outcome)o));
	fprintf(out, "  %2d  usage error\n  %2d  the supervisor could not be reached\n",
		OUTCOME_EXIT_USAGE, OUTCOME_EXIT_UNREACHABLE);
}

/* The supervisor's socket: --socket, else $BEDDEL_SOCKET; when is_needed,
 * one of them must be given. */
static int
find_socket(struct run_options *o, bool is_needed)
{
	if (!o->socket) {
		const char *env = getenv("BEDDEL_SOCKET");
		o->socket = env && *env ? env : NULL;
	}
	if (is_needed && !o->socket) {
		fprintf(stderr, "beddel-run: --status, --metrics and --watch need --socket or $BEDDEL_SOCKET\n");
		return -EINVAL;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct run_options *o)
{
	static const struct option options[] = {
		{ "eval", required_argument, NULL, 'e' },
		{ "input", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tenant", required_argument, NULL, 'T' },
		{ "function", no_argument, NULL, 'f' },
		{ "props", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "profiles", required_argument, NULL, 'F' },
		{ "socket", required_argument, NULL, 's' },
		{ "retry-ms", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "check", no_argument, NULL, 'C' },
		{ "status", no_argument, NULL, 'Q' },
		{ "metrics", no_argument, NULL, 'M' },
		{ "watch", no_argument, NULL, 'W' },
		{ "no-namespaces", no_argument, NULL, 'N' },
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
		case 'r':
			if (util_parse_u64(optarg, 0, 3600000, &o->retry_ms) < 0) {
				fprintf(stderr, "beddel-run: --retry-ms wants milliseconds, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'T':
			if (!pool_is_valid_tenant(optarg, strlen(optarg))) {
				fprintf(stderr, "beddel-run: --tenant: %s\n",
					POOL_TENANT_RULE);
				return -EINVAL;
			}
			o->tenant = optarg;
			break;
		case 'f':
			o->is_function = true;
			break;
		case 'p':
			o->props_json = optarg;
			break;
		case 'P':
			o->profile = optarg;
			break;
		case 'F':
			o->profiles_path = optarg;
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
		case 'C':
			o->is_check = true;
			break;
		case 'Q':
			o->is_status = true;
			break;
		case 'M':
			o->is_metrics = true;
			break;
		case 'W':
			o->is_watch = true;
			break;
		case 'N':
			o->is_namespaces_off = true;
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
	if (o->is_check)
		return optind < argc || o->code_arg ? -EINVAL : 0;
	if (o->is_status || o->is_metrics || o->is_watch)
		return optind < argc || o->code_arg ? -EINVAL :
						      find_socket(o, true);
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc || (o->file != NULL) == (o->code_arg != NULL)) {
		fprintf(stderr, "beddel-run: give exactly one of FILE, - or -e CODE\n");
		return -EINVAL;
	}
	return find_socket(o, false);
}

/* Encodes a JSON option's value as msgpack. Returns 0 or -EINVAL after
 * saying why. */
static int
encode_json_arg(const char *json, struct proto_writer **ret_writer,
		const uint8_t **ret_data, size_t *ret_len)
{
	char why[256];
	struct proto_writer *w = proto_writer_new(IPC_FRAME_MAX_CEILING);

	*ret_writer = w;
	if (!w || run_json_to_msgpack(json, w, why, sizeof(why)) < 0) {
		fprintf(stderr, "beddel-run: %s\n", w ? why : "out of memory");
		return -EINVAL;
	}
	*ret_data = proto_writer_data(w, ret_len);
	return 0;
}

int
main(int argc, char **argv)
{
	struct run_options o = { 0 };
	struct proto_exec exec = { .has_id = true, .id = 1 };
	struct proto_writer *input = NULL, *props = NULL;
	char *script = NULL;
	uint8_t *rsp;
	size_t rsp_len;
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

	if (o.is_check)
		return run_check(o.profiles_path, o.is_namespaces_off);
	if (o.is_watch)
		return run_watch(o.socket, o.is_json);
	if (o.is_status || o.is_metrics)
		return run_query(o.socket, o.is_metrics, o.tenant, o.is_json);
	if (o.code_arg) {
		exec.code = o.code_arg;
		exec.code_len = strlen(o.code_arg);
	} else {
		r = run_read_script(o.file, &script, &exec.code_len);
		if (r < 0) {
			fprintf(stderr, "beddel-run: cannot read '%s': %s\n",
				o.file, strerror(-r));
			return OUTCOME_EXIT_USAGE;
		}
		exec.code = script;
	}
	if (o.input_json && encode_json_arg(o.input_json, &input,
					    &exec.input_raw,
					    &exec.input_raw_len) < 0)
		goto out;
	if (o.props_json && encode_json_arg(o.props_json, &props,
					    &exec.props_raw,
					    &exec.props_raw_len) < 0)
		goto out;
	exec.is_function = o.is_function;
	if (o.profile) {
		exec.profile = o.profile;
		exec.profile_len = strlen(o.profile);
	}
	if (o.tenant) {
		exec.tenant = o.tenant;
		exec.tenant_len = strlen(o.tenant);
	}
	exec.timeout_ms = o.timeout_ms;

	r = o.socket ? run_call_supervisor(o.socket, &exec, o.retry_ms, &rsp,
					   &rsp_len) :
		       run_alone(&exec, o.profiles_path, o.is_namespaces_off, &rsp,
				 &rsp_len);
	if (r < 0) {
		code = r == -EHOSTUNREACH ? OUTCOME_EXIT_UNREACHABLE :
					    outcome_exit_code(OUTCOME_INTERNAL);
		goto out;
	}
	/* report() takes ownership of the response. */
	code = run_report(rsp, rsp_len, o.is_json, o.is_stats);
out:
	proto_writer_free(input);
	proto_writer_free(props);
	free(script);
	return code;
}
