/* SPDX-License-Identifier: MIT */
/*
 * The supervisor's options, from its command line and its --config file.
 * Supervisor process only, before the server starts; not reentrant (the
 * profiles path is kept until options_finish()). Errors are printed on
 * stderr with the option, or the file, line and key.
 */
#ifndef BEDDEL_SUPERVISOR_OPTIONS_H
#define BEDDEL_SUPERVISOR_OPTIONS_H

#include "supervisor/server.h"
#include "supervisor/yaml_file.h"

/* The value of --config on the command line, or NULL. Looked for before
 * the other options, so that the command line can override the file. */
const char *options_find_config_path(int argc, char **argv);

/* Reads the options of the YAML file at path into cfg. f stays loaded
 * (cfg points into it); free it with yaml_file_fini(), also on failure.
 * Returns 0, or -errno / -EINVAL after printing why. */
int options_apply_config_file(struct server_config *cfg, struct yaml_file *f,
			      const char *path);

/* Forgets what an earlier reading left (the profiles path, getopt's
 * place), before the options are read again (a reload). */
void options_restart(void);

/* Reads the command line into cfg. Returns 0, 1 when it printed the help
 * or the version (the caller exits 0), or -EINVAL after printing why. */
int options_parse_command_line(struct server_config *cfg, int argc,
			       char **argv);

/* Checks cfg as a whole and completes it: loads the profiles, picks the
 * default socket and worker binary. Returns 0, or -EINVAL after printing
 * why. */
int options_finish(struct server_config *cfg);

#endif
