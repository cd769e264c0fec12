/* SPDX-License-Identifier: MIT */
/*
 * A YAML file read by libyaml into a document, with lookups that name the
 * file, line and field in every error. Used for the security profiles and
 * the supervisor's configuration file; supervisor and beddel-run only,
 * at start-up (it reads files).
 */
#ifndef BEDDEL_SUPERVISOR_YAML_FILE_H
#define BEDDEL_SUPERVISOR_YAML_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

/* Room for an error sentence: path, line, field and what was wrong. */
#define YAML_FILE_ERR_MAX 512

struct yaml_file {
	const char *path; /* borrowed from the caller */
	yaml_document_t doc;
	bool is_loaded;
};

/* Reads and parses the file at path (one document). Returns 0, or -errno
 * / -EINVAL with err filled ("path:line:column: problem"). Release with
 * yaml_file_fini() either way. */
int yaml_file_load(struct yaml_file *f, const char *path, char *err,
		   size_t err_size);
void yaml_file_fini(struct yaml_file *f);

/* The root node, or NULL for an empty file. */
yaml_node_t *yaml_file_root(struct yaml_file *f);

/* The line (from 1) where node starts. */
unsigned yaml_file_line(const yaml_node_t *node);

/* Pair i of a mapping node: its key (a scalar's text, NUL-terminated, or
 * NULL when the key is not a scalar) and its value node. */
const char *yaml_file_key(struct yaml_file *f, yaml_node_t *map, size_t i,
			  yaml_node_t **ret_value);
size_t yaml_file_count(const yaml_node_t *node);
/* Element i of a sequence node. */
yaml_node_t *yaml_file_item(struct yaml_file *f, yaml_node_t *seq, size_t i);

/* A scalar's text (NUL-terminated), or NULL when node is not a scalar. */
const char *yaml_file_text(const yaml_node_t *node);

/* Checks that node is a mapping. Returns 0 or -EINVAL with err filled
 * ("path:line: 'field' must be a mapping"). */
int yaml_file_want_map(struct yaml_file *f, const yaml_node_t *node,
		       const char *field, char *err, size_t err_size);

/* A scalar holding a whole number from min to max. Returns 0 or -EINVAL
 * with err filled; ret untouched on failure. */
int yaml_file_uint(struct yaml_file *f, const yaml_node_t *node,
		   const char *field, uint64_t min, uint64_t max,
		   uint64_t *ret, char *err, size_t err_size);

/* Fills err with "path:line: 'field' " followed by the formatted text,
 * and returns -EINVAL. */
int yaml_file_error(struct yaml_file *f, const yaml_node_t *node,
		    const char *field, char *err, size_t err_size,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
