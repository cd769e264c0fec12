/* SPDX-License-Identifier: MIT */
/*
 * The profiles file: a YAML mapping with `default: NAME` and `profiles:`,
 * a mapping from each profile's name to its fields. Every field must be
 * given, once; anything else is an error that names the file, the line
 * and the field, and stops the start.
 */
#include "supervisor/profile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/ipc.h"
#include "common/restricted.h"
#include "common/util.h"
#include "supervisor/yaml_file.h"

#define FIELD(member) offsetof(struct profile, member)

/* The numeric fields, with the range each accepts. */
static const struct limit_field {
	const char *key;
	uint64_t min;
	uint64_t max;
	size_t offset;
} limit_fields[] = {
	{ "heap_limit_bytes", 65536, PROFILE_HEAP_LIMIT_BYTES_CEILING,
	  FIELD(heap_limit_bytes) },
	{ "timeout_ms", 1, 3600000, FIELD(timeout_ms) },
	{ "cpu_ms", 1, 3600000, FIELD(cpu_ms) },
	{ "instructions_max", 1, UINT64_C(1000000000000),
	  FIELD(instructions_max) },
	/* Half the frame ceiling: a result frame also holds its logs and
	 * stats. */
	{ "result_max_bytes", 64, IPC_FRAME_MAX_CEILING / 4,
	  FIELD(result_max_bytes) },
	{ "log_max_bytes", 0, IPC_FRAME_MAX_CEILING / 4, FIELD(log_max_bytes) },
	{ "input_max_bytes", 0, IPC_FRAME_MAX_CEILING / 2,
	  FIELD(input_max_bytes) },
	{ "worker_rss_max_bytes", 1024 * 1024, UINT64_MAX,
	  FIELD(worker_rss_max_bytes) },
};

/* The other fields: "worker" and "restricted". */
#define PROFILE_FIELD_COUNT (UTIL_ARRAY_SIZE(limit_fields) + 2)

static bool
is_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROFILE_NAME_MAX_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int
read_restricted(struct yaml_file *f, yaml_node_t *node, unsigned *ret,
		char *err, size_t err_size)
{
	unsigned mask = 0;

	if (node->type != YAML_SEQUENCE_NODE)
		return yaml_file_error(f, node, "restricted", err, err_size,
				       "must be a list of function names");
	for (size_t i = 0; i < yaml_file_count(node); i++) {
		yaml_node_t *item = yaml_file_item(f, node, i);
		const char *name = yaml_file_text(item);
		unsigned bit;
		if (!name || restricted_parse(name, strlen(name), &bit) < 0)
			return yaml_file_error(f, item, "restricted", err,
					       err_size,
					       "names '%s'; the functions a profile may restrict are eval, Function, require and process",
					       name ? name : "?");
		mask |= bit;
	}
	*ret = mask;
	return 0;
}

static int
read_worker_use(struct yaml_file *f, yaml_node_t *node, bool *ret,
		char *err, size_t err_size)
{
	const char *text = yaml_file_text(node);

	if (text && strcmp(text, "shared") == 0)
		*ret = false;
	else if (text && strcmp(text, "once") == 0)
		*ret = true;
	else
		return yaml_file_error(f, node, "worker", err, err_size,
				       "must be 'shared' (one tenant's executions, one after another) or 'once'");
	return 0;
}

/* Reads one field of a profile; *ret_index says which it was. */
static int
read_field(struct yaml_file *f, const char *key, yaml_node_t *value,
	   struct profile *p, size_t *ret_index, char *err, size_t err_size)
{
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(limit_fields); i++) {
		const struct limit_field *l = &limit_fields[i];
		if (strcmp(key, l->key) != 0)
			continue;
		*ret_index = i;
		return yaml_file_uint(f, value, key, l->min, l->max,
				      (uint64_t *)((char *)p + l->offset), err,
				      err_size);
	}
	*ret_index = UTIL_ARRAY_SIZE(limit_fields);
	if (strcmp(key, "worker") == 0)
		return read_worker_use(f, value, &p->is_single_use, err,
				       err_size);
	*ret_index += 1;
	if (strcmp(key, "restricted") == 0)
		return read_restricted(f, value, &p->restricted, err, err_size);
	return yaml_file_error(f, value, key, err, err_size,
			       "is not a profile field");
}

static int
read_profile(struct yaml_file *f, const char *name, yaml_node_t *node,
	     struct profile *p, char *err, size_t err_size)
{
	bool seen[PROFILE_FIELD_COUNT] = { false };

	if (!is_valid_name(name))
		return yaml_file_error(f, node, name, err, err_size,
				       "is not a profile name: 1 to %d of a-z, 0-9, - and _",
				       PROFILE_NAME_MAX_BYTES);
	int r = yaml_file_want_map(f, node, name, err, err_size);
	if (r < 0)
		return r;
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, strlen(name));
	for (size_t i = 0; i < yaml_file_count(node); i++) {
		yaml_node_t *value;
		const char *key = yaml_file_key(f, node, i, &value);
		size_t index;
		if (!key)
			return yaml_file_error(f, value, name, err, err_size,
					       "has a field name that is not text");
		r = read_field(f, key, value, p, &index, err, err_size);
		if (r < 0)
			return r;
		if (seen[index])
			return yaml_file_error(f, value, key, err, err_size,
					       "is given twice in profile '%s'",
					       name);
		seen[index] = true;
	}
	for (size_t i = 0; i < PROFILE_FIELD_COUNT; i++) {
		const char *missing = i < UTIL_ARRAY_SIZE(limit_fields) ?
					      limit_fields[i].key :
				      i == UTIL_ARRAY_SIZE(limit_fields) ?
					      "worker" :
					      "restricted";
		if (!seen[i])
			return yaml_file_error(f, node, name, err, err_size,
					       "lacks the field '%s'", missing);
	}
	return 0;
}

static int
read_profiles(struct yaml_file *f, yaml_node_t *node, struct profile_set *s,
	      char *err, size_t err_size)
{
	int r = yaml_file_want_map(f, node, "profiles", err, err_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < yaml_file_count(node); i++) {
		yaml_node_t *value;
		const char *name = yaml_file_key(f, node, i, &value);
		if (!name)
			return yaml_file_error(f, value, "profiles", err,
					       err_size,
					       "has a name that is not text");
		if (profile_set_find(s, name, strlen(name)))
			return yaml_file_error(f, value, name, err, err_size,
					       "is defined twice");
		if (s->count == PROFILE_MAX)
			return yaml_file_error(f, value, name, err, err_size,
					       "is one profile too many (at most %d)",
					       PROFILE_MAX);
		r = read_profile(f, name, value, &s->items[s->count], err,
				 err_size);
		if (r < 0)
			return r;
		s->count++;
	}
	return 0;
}

/* The top level: `profiles` first read, then `default` looked up. */
static int
read_top(struct yaml_file *f, yaml_node_t *root, struct profile_set *s,
	 char *err, size_t err_size)
{
	yaml_node_t *profiles = NULL, *def = NULL;

	int r = yaml_file_want_map(f, root, "(top level)", err, err_size);
	if (r < 0)
		return r;
	for (size_t i = 0; i < yaml_file_count(root); i++) {
		yaml_node_t *value;
		const char *key = yaml_file_key(f, root, i, &value);
		yaml_node_t **slot = !key ? NULL :
				     strcmp(key, "profiles") == 0 ? &profiles :
				     strcmp(key, "default") == 0 ? &def :
								  NULL;
		if (!slot)
			return yaml_file_error(f, value, key ? key : "?", err,
					       err_size,
					       "is not a field here: the file holds 'default' and 'profiles'");
		if (*slot)
			return yaml_file_error(f, value, key, err, err_size,
					       "is given twice");
		*slot = value;
	}
	if (!profiles || !def)
		return yaml_file_error(f, root, profiles ? "default" : "profiles",
				       err, err_size, "is missing");
	r = read_profiles(f, profiles, s, err, err_size);
	if (r < 0)
		return r;
	const char *name = yaml_file_text(def);
	const struct profile *p = name ? profile_set_find(s, name, strlen(name)) :
					 NULL;
	if (!p)
		return yaml_file_error(f, def, "default", err, err_size,
				       "must name one of the profiles");
	s->default_index = (size_t)(p - s->items);
	return 0;
}

int
profile_set_load(const char *path, struct profile_set *ret_set, char *err,
		 size_t err_size)
{
	struct yaml_file f;
	struct profile_set s = { .count = 0 };

	int r = yaml_file_load(&f, path, err, err_size);
	if (r == 0 && !yaml_file_root(&f)) {
		(void)snprintf(err, err_size, "%s: the file is empty", path);
		r = -EINVAL;
	}
	if (r == 0)
		r = read_top(&f, yaml_file_root(&f), &s, err, err_size);
	yaml_file_fini(&f);
	if (r < 0)
		return r;
	*ret_set = s;
	return 0;
}

const struct profile *
profile_set_find(const struct profile_set *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->count; i++) {
		if (strlen(s->items[i].name) == len &&
		    memcmp(s->items[i].name, name, len) == 0)
			return &s->items[i];
	}
	return NULL;
}

uint64_t
profile_set_max_heap(const struct profile_set *s)
{
	uint64_t max = 0;

	for (size_t i = 0; i < s->count; i++) {
		if (s->items[i].heap_limit_bytes > max)
			max = s->items[i].heap_limit_bytes;
	}
	return max;
}

uint64_t
profile_set_max_frame(const struct profile_set *s)
{
	uint64_t max = 0;

	for (size_t i = 0; i < s->count; i++) {
		uint64_t n = s->items[i].result_max_bytes +
			     s->items[i].log_max_bytes;
		if (n > max)
			max = n;
	}
	return max;
}

static void
lower(uint64_t *limit, uint64_t ceiling)
{
	if (ceiling > 0 && *limit > ceiling)
		*limit = ceiling;
}

void
profile_set_cap(struct profile_set *s, uint64_t timeout_ms,
		uint64_t heap_limit_bytes, uint64_t result_max_bytes)
{
	for (size_t i = 0; i < s->count; i++) {
		struct profile *p = &s->items[i];
		lower(&p->timeout_ms, timeout_ms);
		lower(&p->cpu_ms, timeout_ms);
		lower(&p->heap_limit_bytes, heap_limit_bytes);
		lower(&p->result_max_bytes, result_max_bytes);
	}
}

void
profile_describe(const struct profile *p, char *buf, size_t size)
{
	char restricted[64];

	util_join_bits(p->restricted, RESTRICTED_COUNT, restricted_name,
		       restricted, sizeof(restricted));
	(void)snprintf(buf, size,
		       "%s heap_limit_bytes=%llu timeout_ms=%llu cpu_ms=%llu instructions_max=%llu result_max_bytes=%llu log_max_bytes=%llu input_max_bytes=%llu worker_rss_max_bytes=%llu worker=%s restricted=%s",
		       p->name, (unsigned long long)p->heap_limit_bytes,
		       (unsigned long long)p->timeout_ms,
		       (unsigned long long)p->cpu_ms,
		       (unsigned long long)p->instructions_max,
		       (unsigned long long)p->result_max_bytes,
		       (unsigned long long)p->log_max_bytes,
		       (unsigned long long)p->input_max_bytes,
		       (unsigned long long)p->worker_rss_max_bytes,
		       p->is_single_use ? "once" : "shared",
		       restricted[0] ? restricted : "none");
}
