/* SPDX-License-Identifier: MIT */
/*
 * YAML documents through libyaml's loader. The loader resolves anchors
 * and aliases itself; a file is small (profiles, configuration), read once
 * at start-up, and trusted as far as its owner is: what it may set is
 * checked field by field by the callers.
 */
#include "supervisor/yaml_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

int
yaml_file_load(struct yaml_file *f, const char *path, char *err,
	       size_t err_size)
{
	yaml_parser_t parser;

	f->path = path;
	f->is_loaded = false;
	FILE *in = fopen(path, "re");
	if (!in) {
		int r = -errno;
		(void)snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	if (!yaml_parser_initialize(&parser)) {
		(void)fclose(in);
		(void)snprintf(err, err_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, in);
	int r = 0;
	if (!yaml_parser_load(&parser, &f->doc)) {
		(void)snprintf(err, err_size, "%s:%zu:%zu: %s", path,
			       parser.problem_mark.line + 1,
			       parser.problem_mark.column + 1,
			       parser.problem ? parser.problem : "not YAML");
		r = -EINVAL;
	} else {
		f->is_loaded = true;
	}
	yaml_parser_delete(&parser);
	(void)fclose(in);
	return r;
}

void
yaml_file_fini(struct yaml_file *f)
{
	if (f->is_loaded)
		yaml_document_delete(&f->doc);
	f->is_loaded = false;
}

yaml_node_t *
yaml_file_root(struct yaml_file *f)
{
	return yaml_document_get_root_node(&f->doc);
}

unsigned
yaml_file_line(const yaml_node_t *node)
{
	return (unsigned)node->start_mark.line + 1;
}

size_t
yaml_file_count(const yaml_node_t *node)
{
	if (node->type == YAML_MAPPING_NODE)
		return (size_t)(node->data.mapping.pairs.top -
				node->data.mapping.pairs.start);
	if (node->type == YAML_SEQUENCE_NODE)
		return (size_t)(node->data.sequence.items.top -
				node->data.sequence.items.start);
	return 0;
}

const char *
yaml_file_key(struct yaml_file *f, yaml_node_t *map, size_t i,
	      yaml_node_t **ret_value)
{
	const yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];

	*ret_value = yaml_document_get_node(&f->doc, pair->value);
	return yaml_file_text(yaml_document_get_node(&f->doc, pair->key));
}

yaml_node_t *
yaml_file_item(struct yaml_file *f, yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(&f->doc,
				      seq->data.sequence.items.start[i]);
}

const char *
yaml_file_text(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

int
yaml_file_error(struct yaml_file *f, const yaml_node_t *node,
		const char *field, char *err, size_t err_size,
		const char *fmt, ...)
{
	va_list ap;

	int n = snprintf(err, err_size, "%s:%u: '%s' ", f->path,
			 yaml_file_line(node), field);
	if (n < 0 || (size_t)n >= err_size)
		return -EINVAL;
	va_start(ap, fmt);
	(void)vsnprintf(err + n, err_size - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int
yaml_file_want_map(struct yaml_file *f, const yaml_node_t *node,
		   const char *field, char *err, size_t err_size)
{
	if (node->type != YAML_MAPPING_NODE)
		return yaml_file_error(f, node, field, err, err_size,
				       "must be a mapping of names to values");
	return 0;
}

int
yaml_file_uint(struct yaml_file *f, const yaml_node_t *node,
	       const char *field, uint64_t min, uint64_t max, uint64_t *ret,
	       char *err, size_t err_size)
{
	const char *text = yaml_file_text(node);
	uint64_t v;

	if (!text || util_parse_u64(text, min, max, &v) < 0)
		return yaml_file_error(f, node, field, err, err_size,
				       "wants a whole number from %llu to %llu",
				       (unsigned long long)min,
				       (unsigned long long)max);
	*ret = v;
	return 0;
}
