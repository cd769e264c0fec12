/* SPDX-License-Identifier: MIT */
/*
 * beddel-supervisor: reads its options (options.c) and runs the server.
 */
#include "common/log.h"
#include "supervisor/options.h"
#include "supervisor/server.h"
#include "supervisor/yaml_file.h"

int
main(int argc, char **argv)
{
	static struct server_config cfg;
	struct yaml_file config_file = { .is_loaded = false };
	int r;

	log_init("beddel-supervisor", LOG_LEVEL_INFO);
	server_config_defaults(&cfg);

	const char *config_path = options_find_config_path(argc, argv);
	if (config_path &&
	    options_apply_config_file(&cfg, &config_file, config_path) < 0) {
		yaml_file_fini(&config_file);
		return 2;
	}
	cfg.config_path = config_path;
	cfg.argc = argc;
	cfg.argv = argv;
	r = options_parse_command_line(&cfg, argc, argv);
	if (r == 0)
		r = options_finish(&cfg);
	if (r != 0) {
		yaml_file_fini(&config_file);
		return r > 0 ? 0 : 2;
	}
	if (!cfg.pool.worker_path) {
		yaml_file_fini(&config_file);
		log_error("supervisor: no beddel-worker binary found; set --worker or BEDDEL_WORKER");
		return 1;
	}
	r = server_run(&cfg);
	yaml_file_fini(&config_file);
	return r < 0 ? 1 : 0;
}
