/* SPDX-License-Identifier: MIT */
/*
 * msgpack encoding and decoding of Beddel's messages, with msgpack-c. The
 * supervisor decodes frames from clients and from workers it does not
 * trust; the worker decodes frames from the supervisor. Every decoder
 * here checks types and ranges and returns a sentence that can be sent
 * back to the peer; none of them logs.
 *
 * A struct proto_value is a msgpack_object in disguise: no caller outside
 * this file may depend on the msgpack layout, so that it can change here
 * alone.
 */
#include "common/proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "common/ipc.h"
#include "common/restricted.h"
#include "common/util.h"

#define EXT_UNDEFINED 0

static const msgpack_object *
obj(const struct proto_value *v)
{
	return (const msgpack_object *)v;
}

static const struct proto_value *
val(const msgpack_object *o)
{
	return (const struct proto_value *)o;
}

void
proto_frame_fini(struct proto_frame *f)
{
	free(f->data);
	f->data = NULL;
	f->len = 0;
}

/* ---- Values: read side -------------------------------------------- */

enum proto_kind
proto_value_kind(const struct proto_value *v)
{
	const msgpack_object *o = obj(v);

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return PROTO_NIL;
	case MSGPACK_OBJECT_BOOLEAN:
		return PROTO_BOOL;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return o->via.u64 > INT64_MAX ? PROTO_UINT : PROTO_INT;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return PROTO_INT;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return PROTO_FLOAT;
	case MSGPACK_OBJECT_STR:
		return PROTO_STR;
	case MSGPACK_OBJECT_ARRAY:
		return PROTO_ARRAY;
	case MSGPACK_OBJECT_MAP:
		return PROTO_MAP;
	case MSGPACK_OBJECT_EXT:
		if (o->via.ext.type == EXT_UNDEFINED && o->via.ext.size == 0)
			return PROTO_UNDEFINED;
		return PROTO_UNSUPPORTED;
	default:
		return PROTO_UNSUPPORTED;
	}
}

bool
proto_value_bool(const struct proto_value *v)
{
	return obj(v)->type == MSGPACK_OBJECT_BOOLEAN && obj(v)->via.boolean;
}

int64_t
proto_value_int(const struct proto_value *v)
{
	const msgpack_object *o = obj(v);

	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return o->via.i64;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    o->via.u64 <= INT64_MAX)
		return (int64_t)o->via.u64;
	return 0;
}

uint64_t
proto_value_uint(const struct proto_value *v)
{
	const msgpack_object *o = obj(v);

	return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? o->via.u64 : 0;
}

double
proto_value_double(const struct proto_value *v)
{
	const msgpack_object *o = obj(v);

	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return (double)o->via.u64;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (double)o->via.i64;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return o->via.f64;
	default:
		return 0;
	}
}

const char *
proto_value_str(const struct proto_value *v, size_t *ret_len)
{
	const msgpack_object *o = obj(v);

	if (o->type != MSGPACK_OBJECT_STR) {
		*ret_len = 0;
		return "";
	}
	*ret_len = o->via.str.size;
	return o->via.str.ptr;
}

size_t
proto_value_count(const struct proto_value *v)
{
	const msgpack_object *o = obj(v);

	if (o->type == MSGPACK_OBJECT_ARRAY)
		return o->via.array.size;
	if (o->type == MSGPACK_OBJECT_MAP)
		return o->via.map.size;
	return 0;
}

const struct proto_value *
proto_value_at(const struct proto_value *v, size_t i)
{
	return val(&obj(v)->via.array.ptr[i]);
}

const struct proto_value *
proto_value_key(const struct proto_value *v, size_t i)
{
	return val(&obj(v)->via.map.ptr[i].key);
}

const struct proto_value *
proto_value_val(const struct proto_value *v, size_t i)
{
	return val(&obj(v)->via.map.ptr[i].val);
}

/* ---- Values: write side ------------------------------------------- */

struct proto_writer {
	msgpack_sbuffer sbuf;
	msgpack_packer pk;
	size_t max_bytes;
	int err;
};

/* msgpack-c's packer calls this for every piece it emits. */
static int
write_limited(void *data, const char *buf, size_t len)
{
	struct proto_writer *w = data;

	if (w->err < 0)
		return -1;
	if (len > w->max_bytes - w->sbuf.size) {
		w->err = -E2BIG;
		return -1;
	}
	if (msgpack_sbuffer_write(&w->sbuf, buf, len) < 0) {
		w->err = -ENOMEM;
		return -1;
	}
	return 0;
}

static void
writer_init(struct proto_writer *w, size_t max_bytes)
{
	msgpack_sbuffer_init(&w->sbuf);
	msgpack_packer_init(&w->pk, w, write_limited);
	w->max_bytes = max_bytes;
	w->err = 0;
}

struct proto_writer *
proto_writer_new(size_t max_bytes)
{
	struct proto_writer *w = malloc(sizeof(*w));
	if (!w)
		return NULL;
	writer_init(w, max_bytes);
	return w;
}

void
proto_writer_free(struct proto_writer *w)
{
	if (!w)
		return;
	msgpack_sbuffer_destroy(&w->sbuf);
	free(w);
}

/* Every packing call funnels its msgpack-c result through here; the
 * callback above already recorded why it failed. */
static int
status_after(struct proto_writer *w, int packed)
{
	if (packed < 0 && w->err == 0)
		w->err = -ENOMEM;
	return w->err;
}

int
proto_write_nil(struct proto_writer *w)
{
	return status_after(w, msgpack_pack_nil(&w->pk));
}

int
proto_write_undefined(struct proto_writer *w)
{
	return status_after(w, msgpack_pack_ext(&w->pk, 0, EXT_UNDEFINED));
}

int
proto_write_bool(struct proto_writer *w, bool b)
{
	return status_after(w, b ? msgpack_pack_true(&w->pk) :
				   msgpack_pack_false(&w->pk));
}

int
proto_write_int(struct proto_writer *w, int64_t i)
{
	return status_after(w, msgpack_pack_int64(&w->pk, i));
}

int
proto_write_uint(struct proto_writer *w, uint64_t u)
{
	return status_after(w, msgpack_pack_uint64(&w->pk, u));
}

int
proto_write_double(struct proto_writer *w, double d)
{
	return status_after(w, msgpack_pack_double(&w->pk, d));
}

int
proto_write_str(struct proto_writer *w, const char *s, size_t len)
{
	if (len > UINT32_MAX)
		return w->err = -E2BIG;
	if (msgpack_pack_str(&w->pk, len) < 0)
		return status_after(w, -1);
	return status_after(w, msgpack_pack_str_body(&w->pk, s, len));
}

int
proto_write_array(struct proto_writer *w, size_t count)
{
	if (count > UINT32_MAX)
		return w->err = -E2BIG;
	return status_after(w, msgpack_pack_array(&w->pk, count));
}

int
proto_write_map(struct proto_writer *w, size_t count)
{
	if (count > UINT32_MAX)
		return w->err = -E2BIG;
	return status_after(w, msgpack_pack_map(&w->pk, count));
}

int
proto_writer_status(const struct proto_writer *w)
{
	return w->err;
}

size_t
proto_writer_room(const struct proto_writer *w)
{
	return w->max_bytes - w->sbuf.size;
}

const uint8_t *
proto_writer_data(const struct proto_writer *w, size_t *ret_len)
{
	*ret_len = w->sbuf.size;
	return (const uint8_t *)w->sbuf.data;
}

/* ---- Messages: decoding ------------------------------------------- */

struct proto_msg {
	msgpack_unpacked unpacked;
	uint8_t *buf;
	enum proto_type type;
};

static const char *const type_names[] = {
	[PROTO_MSG_EXEC] = "exec",
	[PROTO_MSG_RESULT] = "result",
	[PROTO_MSG_READY] = "ready",
	[PROTO_MSG_SETUP_FAILED] = "setup_failed",
	[PROTO_MSG_VIOLATION] = "violation",
	[PROTO_MSG_STATUS] = "status",
	[PROTO_MSG_METRICS] = "metrics",
	[PROTO_MSG_SUBSCRIBE] = "subscribe",
	[PROTO_MSG_SUBSCRIBED] = "subscribed",
	[PROTO_MSG_EVENT] = "event",
	[PROTO_MSG_SLOW] = "slow",
};

static bool
str_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);

	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

static const msgpack_object *
root(const struct proto_msg *m)
{
	return &m->unpacked.data;
}

/* Reads a big-endian length of n bytes at p. */
static size_t
read_be(const uint8_t *p, size_t n)
{
	size_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* SECURITY: msgpack-c's C decoder reserves room for every element an
 * array or map header announces before it reads them, so a 5-byte frame
 * claiming 4 billion elements would make it allocate about 100 GB. This
 * pre-pass walks the headers only and refuses a frame whose announced
 * elements could not fit in the bytes that are left (each needs at least
 * one). The decoding itself stays msgpack-c's. */
static bool
counts_fit(const uint8_t *p, size_t len)
{
	/* Width of the length field, and fixed payload, by leading byte. */
	size_t pos = 0, pending = 1;

	while (pending > 0) {
		if (pos >= len)
			return false;
		uint8_t c = p[pos++];
		size_t left = len - pos, n = 0, skip = 0, count = 0;
		pending--;

		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			continue;
		if (c >= 0x80 && c <= 0x8f) {
			count = 2 * (size_t)(c & 0x0f);
		} else if (c >= 0x90 && c <= 0x9f) {
			count = c & 0x0f;
		} else if (c >= 0xa0 && c <= 0xbf) {
			skip = c & 0x1f;
		} else {
			switch (c) {
			case 0xc4: case 0xd9: n = 1; break; /* bin8, str8 */
			case 0xc5: case 0xda: n = 2; break;
			case 0xc6: case 0xdb: n = 4; break;
			case 0xc7: n = 1; skip = 1; break;  /* ext8 + type */
			case 0xc8: n = 2; skip = 1; break;
			case 0xc9: n = 4; skip = 1; break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break; /* fixext: type + data */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: n = 2; count = 1; break; /* array16 */
			case 0xdd: n = 4; count = 1; break;
			case 0xde: n = 2; count = 2; break; /* map16 */
			case 0xdf: n = 4; count = 2; break;
			default: return false; /* 0xc1, never used */
			}
		}
		if (n > left)
			return false;
		if (n > 0 && count > 0)
			count *= read_be(p + pos, n);
		else if (n > 0)
			skip += read_be(p + pos, n);
		pos += n;
		left -= n;
		if (skip > left || count > left || pending > left - count)
			return false;
		pos += skip;
		pending += count;
	}
	return true;
}

int
proto_msg_decode(uint8_t *buf, size_t len, struct proto_msg **ret_msg,
		 const char **ret_why)
{
	size_t off = 0;

	struct proto_msg *m = calloc(1, sizeof(*m));
	if (!m) {
		free(buf);
		*ret_why = "out of memory";
		return -ENOMEM;
	}
	m->buf = buf;
	msgpack_unpacked_init(&m->unpacked);

	if (!counts_fit(buf, len)) {
		*ret_why = "frame is not valid msgpack, or announces more elements than it holds";
		goto err;
	}
	int r = msgpack_unpack_next(&m->unpacked, (const char *)buf, len, &off);
	if (r != MSGPACK_UNPACK_SUCCESS) {
		*ret_why = r == MSGPACK_UNPACK_CONTINUE ?
				   "frame ends inside a msgpack value" :
				   "frame is not valid msgpack (or nests deeper than 32 levels)";
		goto err;
	}
	if (off != len) {
		*ret_why = "frame has bytes after its msgpack value";
		goto err;
	}
	const msgpack_object *o = root(m);
	if (o->type != MSGPACK_OBJECT_MAP) {
		*ret_why = "frame is not a msgpack map";
		goto err;
	}

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		if (!str_is(&kv->key, "type"))
			continue;
		for (size_t t = 0; t < UTIL_ARRAY_SIZE(type_names); t++) {
			if (str_is(&kv->val, type_names[t])) {
				m->type = (enum proto_type)t;
				*ret_msg = m;
				return 0;
			}
		}
		*ret_why = "unknown message type";
		goto err;
	}
	*ret_why = "message has no 'type'";

err:
	proto_msg_free(m);
	return -EBADMSG;
}

void
proto_msg_free(struct proto_msg *m)
{
	if (!m)
		return;
	msgpack_unpacked_destroy(&m->unpacked);
	free(m->buf);
	free(m);
}

enum proto_type
proto_msg_type(const struct proto_msg *m)
{
	return m->type;
}

const struct proto_value *
proto_msg_root(const struct proto_msg *m)
{
	return val(root(m));
}

static bool
get_uint(const msgpack_object *o, uint64_t *ret)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return false;
	*ret = o->via.u64;
	return true;
}

static bool
get_str(const msgpack_object *o, const char **ret, size_t *ret_len)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return false;
	*ret = o->via.str.ptr;
	*ret_len = o->via.str.size;
	return true;
}

/* A map field of a message, checked against a table of keys: each known
 * key names a slot that receives the value, and a key seen twice, an
 * unknown key or a wrong type is an error. */
enum field_kind {
	FIELD_IGNORE, /* "type", already read */
	FIELD_UINT,
	FIELD_STR,
	FIELD_BOOL,
	FIELD_ANY,
	FIELD_MAP,
	FIELD_INT,
};

struct field {
	const char *key;
	enum field_kind kind;
	const char *why; /* the sentence when the type is wrong */
	void *slot;	 /* uint64_t, int64_t, bool, or const msgpack_object * */
	size_t *len_slot; /* strings: the length */
	bool *seen;
};

static int
read_fields(const msgpack_object *map, const struct field *fields,
	    size_t n_fields, const char **ret_why)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		const msgpack_object *v = &map->via.map.ptr[i].val;
		const struct field *f = NULL;

		for (size_t j = 0; j < n_fields && !f; j++) {
			if (str_is(k, fields[j].key))
				f = &fields[j];
		}
		if (!f) {
			*ret_why = "message has an unknown field";
			return -EBADMSG;
		}
		if (*f->seen) {
			*ret_why = "message repeats a field";
			return -EBADMSG;
		}
		*f->seen = true;

		bool ok = true;
		switch (f->kind) {
		case FIELD_IGNORE:
			break;
		case FIELD_UINT:
			ok = get_uint(v, f->slot);
			break;
		case FIELD_INT:
			ok = v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
			     (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
			      v->via.u64 <= INT64_MAX);
			if (ok)
				*(int64_t *)f->slot = v->via.i64;
			break;
		case FIELD_STR:
			ok = get_str(v, f->slot, f->len_slot);
			break;
		case FIELD_BOOL:
			ok = v->type == MSGPACK_OBJECT_BOOLEAN;
			if (ok)
				*(bool *)f->slot = v->via.boolean;
			break;
		case FIELD_MAP:
			ok = v->type == MSGPACK_OBJECT_MAP;
			if (ok)
				*(const msgpack_object **)f->slot = v;
			break;
		case FIELD_ANY:
			*(const msgpack_object **)f->slot = v;
			break;
		}
		if (!ok) {
			*ret_why = f->why;
			return -EBADMSG;
		}
	}
	return 0;
}

/* Checks that m is of type t, then reads its fields. */
static int
read_message(const struct proto_msg *m, enum proto_type t,
	     const struct field *fields, size_t n_fields, const char **ret_why)
{
	if (m->type != t) {
		*ret_why = "the message is not of the type expected here";
		return -EBADMSG;
	}
	return read_fields(root(m), fields, n_fields, ret_why);
}

static bool
read_mode(const char *mode, size_t len, bool *ret_is_function)
{
	if (len == 6 && memcmp(mode, "script", 6) == 0) {
		*ret_is_function = false;
		return true;
	}
	if (len == 8 && memcmp(mode, "function", 8) == 0) {
		*ret_is_function = true;
		return true;
	}
	return false;
}

/* An array of restrictable names, as a mask of RESTRICTED_* bits. */
static bool
read_restricted(const msgpack_object *o, unsigned *ret_mask)
{
	unsigned mask = 0;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *name = &o->via.array.ptr[i];
		unsigned bit;
		if (name->type != MSGPACK_OBJECT_STR ||
		    restricted_parse(name->via.str.ptr, name->via.str.size,
				     &bit) < 0)
			return false;
		mask |= bit;
	}
	*ret_mask = mask;
	return true;
}

int
proto_msg_exec(const struct proto_msg *m, struct proto_exec *ret_exec,
	       const char **ret_why)
{
	struct proto_exec e = { 0 };
	const msgpack_object *input = NULL, *props = NULL, *restricted = NULL;
	const char *mode = NULL;
	size_t mode_len = 0;
	bool seen[18] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "id", FIELD_UINT, "'id' must be an unsigned integer", &e.id,
		  NULL, &seen[1] },
		{ "code", FIELD_STR, "'code' must be a string", &e.code,
		  &e.code_len, &seen[2] },
		{ "input", FIELD_ANY, NULL, &input, NULL, &seen[3] },
		{ "tenant", FIELD_STR, "'tenant' must be a string", &e.tenant,
		  &e.tenant_len, &seen[4] },
		{ "timeout_ms", FIELD_UINT,
		  "'timeout_ms' must be an unsigned integer", &e.timeout_ms,
		  NULL, &seen[5] },
		{ "heap_limit_bytes", FIELD_UINT,
		  "'heap_limit_bytes' must be an unsigned integer",
		  &e.heap_limit_bytes, NULL, &seen[6] },
		{ "result_max_bytes", FIELD_UINT,
		  "'result_max_bytes' must be an unsigned integer",
		  &e.result_max_bytes, NULL, &seen[7] },
		{ "profile", FIELD_STR, "'profile' must be a string", &e.profile,
		  &e.profile_len, &seen[8] },
		{ "cpu_ms", FIELD_UINT, "'cpu_ms' must be an unsigned integer",
		  &e.cpu_ms, NULL, &seen[9] },
		{ "log_max_bytes", FIELD_UINT,
		  "'log_max_bytes' must be an unsigned integer",
		  &e.log_max_bytes, NULL, &seen[10] },
		{ "mode", FIELD_STR, "'mode' must be a string", &mode, &mode_len,
		  &seen[11] },
		{ "props", FIELD_ANY, NULL, &props, NULL, &seen[12] },
		{ "restricted", FIELD_ANY, NULL, &restricted, NULL, &seen[13] },
		{ "request_id", FIELD_UINT,
		  "'request_id' must be an unsigned integer", &e.request_id,
		  NULL, &seen[14] },
		{ "slow_ms", FIELD_UINT, "'slow_ms' must be an unsigned integer",
		  &e.slow_ms, NULL, &seen[15] },
		{ "instructions_max", FIELD_UINT,
		  "'instructions_max' must be an unsigned integer",
		  &e.instructions_max, NULL, &seen[16] },
		{ "transformed", FIELD_BOOL, "'transformed' must be a boolean",
		  &e.is_transformed, NULL, &seen[17] },
	};

	int r = read_message(m, PROTO_MSG_EXEC, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	e.has_id = seen[1];
	e.has_request_id = seen[14];
	if (!seen[2]) {
		*ret_why = "exec needs 'code'";
		return -EBADMSG;
	}
	if (mode && !read_mode(mode, mode_len, &e.is_function)) {
		*ret_why = "'mode' must be \"script\" or \"function\"";
		return -EBADMSG;
	}
	if (restricted && !read_restricted(restricted, &e.restricted)) {
		*ret_why = "'restricted' must be an array of names among eval, Function, require and process";
		return -EBADMSG;
	}
	e.input = input ? val(input) : NULL;
	e.props = props ? val(props) : NULL;
	*ret_exec = e;
	return 0;
}

static int
read_error(const msgpack_object *map, struct proto_result *r,
	   const char **ret_why)
{
	const char *kind = NULL;
	size_t kind_len = 0;
	bool seen[5] = { false };

	const struct field fields[] = {
		{ "kind", FIELD_STR, "'error.kind' must be a string", &kind,
		  &kind_len, &seen[0] },
		{ "message", FIELD_STR, "'error.message' must be a string",
		  &r->message, &r->message_len, &seen[1] },
		{ "stack", FIELD_STR, "'error.stack' must be a string",
		  &r->stack, &r->stack_len, &seen[2] },
		{ "line", FIELD_UINT, "'error.line' must be an unsigned integer",
		  &r->line, NULL, &seen[3] },
		{ "column", FIELD_UINT,
		  "'error.column' must be an unsigned integer", &r->column,
		  NULL, &seen[4] },
	};

	int e = read_fields(map, fields, UTIL_ARRAY_SIZE(fields), ret_why);
	if (e < 0)
		return e;
	if (!kind || outcome_parse(kind, kind_len, &r->outcome) < 0 ||
	    r->outcome == OUTCOME_OK) {
		*ret_why = "'error.kind' is not an error kind";
		return -EBADMSG;
	}
	return 0;
}

static int
read_stats(const msgpack_object *map, struct proto_stats *s,
	   const char **ret_why)
{
	bool seen[17] = { false };
	const char *why = "stats must be unsigned integers";
	const char *text = "'stats.tenant' and 'stats.profile' must be strings";

	const struct field fields[] = {
		{ "execution_id", FIELD_UINT, why, &s->execution_id, NULL,
		  &seen[7] },
		{ "tenant", FIELD_STR, text, &s->tenant, &s->tenant_len,
		  &seen[8] },
		{ "profile", FIELD_STR, text, &s->profile, &s->profile_len,
		  &seen[9] },
		{ "spawn_us", FIELD_UINT, why, &s->spawn_us, NULL, &seen[10] },
		{ "rss_bytes", FIELD_UINT, why, &s->rss_bytes, NULL, &seen[11] },
		{ "result_bytes", FIELD_UINT, why, &s->result_bytes, NULL,
		  &seen[12] },
		{ "log_bytes", FIELD_UINT, why, &s->log_bytes, NULL, &seen[13] },
		{ "queue_us", FIELD_UINT, why, &s->queue_us, NULL, &seen[0] },
		{ "exec_us", FIELD_UINT, why, &s->exec_us, NULL, &seen[1] },
		{ "cpu_us", FIELD_UINT, why, &s->cpu_us, NULL, &seen[2] },
		{ "total_us", FIELD_UINT, why, &s->total_us, NULL, &seen[3] },
		{ "heap_peak_bytes", FIELD_UINT, why, &s->heap_peak_bytes,
		  NULL, &seen[4] },
		{ "worker_pid", FIELD_UINT, why, &s->worker_pid, NULL,
		  &seen[5] },
		{ "worker_execs", FIELD_UINT, why, &s->worker_execs, NULL,
		  &seen[6] },
		{ "transform_us", FIELD_UINT, why, &s->transform_us, NULL,
		  &seen[14] },
	};

	return read_fields(map, fields, UTIL_ARRAY_SIZE(fields), ret_why);
}

static bool
is_log_list(const msgpack_object *o)
{
	if (o->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		const msgpack_object *pair = &o->via.array.ptr[i];
		if (pair->type != MSGPACK_OBJECT_ARRAY ||
		    pair->via.array.size != 2 ||
		    pair->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
		    pair->via.array.ptr[1].type != MSGPACK_OBJECT_STR)
			return false;
	}
	return true;
}

int
proto_msg_result(const struct proto_msg *m, struct proto_result *ret_result,
		 const char **ret_why)
{
	struct proto_result res = { 0 };
	const msgpack_object *value = NULL, *error = NULL, *stats = NULL;
	const msgpack_object *logs = NULL;
	bool ok = false;
	bool seen[8] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "id", FIELD_UINT, "'id' must be an unsigned integer", &res.id,
		  NULL, &seen[1] },
		{ "ok", FIELD_BOOL, "'ok' must be a boolean", &ok, NULL,
		  &seen[2] },
		{ "value", FIELD_ANY, NULL, &value, NULL, &seen[3] },
		{ "error", FIELD_MAP, "'error' must be a map", &error, NULL,
		  &seen[4] },
		{ "stats", FIELD_MAP, "'stats' must be a map", &stats, NULL,
		  &seen[5] },
		{ "logs", FIELD_ANY, NULL, &logs, NULL, &seen[6] },
		{ "logs_truncated", FIELD_BOOL, "'logs_truncated' must be a boolean",
		  &res.is_logs_truncated, NULL, &seen[7] },
	};

	int r = read_message(m, PROTO_MSG_RESULT, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	res.has_id = seen[1];
	if (!seen[2] || ok != (value != NULL) || ok == (error != NULL)) {
		*ret_why = "result needs 'ok' with either 'value' or 'error'";
		return -EBADMSG;
	}
	if (ok) {
		res.outcome = OUTCOME_OK;
		res.value = val(value);
	} else {
		r = read_error(error, &res, ret_why);
		if (r < 0)
			return r;
	}
	if (stats) {
		r = read_stats(stats, &res.stats, ret_why);
		if (r < 0)
			return r;
	}
	if (logs && !is_log_list(logs)) {
		*ret_why = "'logs' must be an array of [level, text] string pairs";
		return -EBADMSG;
	}
	res.logs = logs ? val(logs) : NULL;
	*ret_result = res;
	return 0;
}

int
proto_msg_ready(const struct proto_msg *m, uint64_t *ret_heap_bytes,
		const char **ret_why)
{
	uint64_t heap_bytes = 0;
	bool seen[2] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "heap_bytes", FIELD_UINT,
		  "'heap_bytes' must be an unsigned integer", &heap_bytes, NULL,
		  &seen[1] },
	};

	int r = read_message(m, PROTO_MSG_READY, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	*ret_heap_bytes = heap_bytes;
	return 0;
}

int
proto_msg_setup_failed(const struct proto_msg *m,
		       struct proto_setup_failed *ret_setup, const char **ret_why)
{
	struct proto_setup_failed s = { 0 };
	bool seen[3] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "stage", FIELD_STR, "'stage' must be a string", &s.stage,
		  &s.stage_len, &seen[1] },
		{ "errno", FIELD_INT, "'errno' must be an integer", &s.err, NULL,
		  &seen[2] },
	};

	int r = read_message(m, PROTO_MSG_SETUP_FAILED, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	if (!seen[1]) {
		*ret_why = "setup_failed needs 'stage'";
		return -EBADMSG;
	}
	*ret_setup = s;
	return 0;
}

int
proto_msg_violation(const struct proto_msg *m, struct proto_violation *ret,
		    const char **ret_why)
{
	struct proto_violation v = { .syscall = -1 };
	bool seen[3] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "syscall", FIELD_INT, "'syscall' must be an integer", &v.syscall,
		  NULL, &seen[1] },
		{ "function", FIELD_STR, "'function' must be a string",
		  &v.function, &v.function_len, &seen[2] },
	};

	int r = read_message(m, PROTO_MSG_VIOLATION, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	if (seen[1] == seen[2] || (seen[1] && (v.syscall < 0 || v.syscall > 4095))) {
		*ret_why = "violation needs a 'syscall' number from 0 to 4095 or a 'function' name";
		return -EBADMSG;
	}
	*ret = v;
	return 0;
}

bool
proto_msg_peek_id(const struct proto_msg *m, uint64_t *ret_id)
{
	const msgpack_object *o = root(m);

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		const msgpack_object_kv *kv = &o->via.map.ptr[i];
		if (str_is(&kv->key, "id"))
			return get_uint(&kv->val, ret_id);
	}
	return false;
}

/* Bytes of a msgpack header for a length n, given the widths a format
 * family offers: the smallest one that holds n. */
static size_t
header_size(uint64_t n, uint64_t fix_max, size_t fix, size_t w8, size_t w16)
{
	if (n <= fix_max)
		return fix;
	if (n <= UINT8_MAX && w8 > 0)
		return w8;
	if (n <= UINT16_MAX)
		return w16;
	return 5;
}

static size_t
int_size(const msgpack_object *o)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		uint64_t u = o->via.u64;
		return u < 128 ? 1 : u <= UINT8_MAX ? 2 : u <= UINT16_MAX ? 3 :
		       u <= UINT32_MAX ? 5 : 9;
	}
	int64_t i = o->via.i64;
	return i >= -32 ? 1 : i >= INT8_MIN ? 2 : i >= INT16_MIN ? 3 :
	       i >= INT32_MIN ? 5 : 9;
}

/* What o takes once packed, as msgpack-c packs it. */
static uint64_t
packed_size(const msgpack_object *o)
{
	uint64_t n = 0;

	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return int_size(o);
	case MSGPACK_OBJECT_FLOAT32:
		return 5;
	case MSGPACK_OBJECT_FLOAT64:
		return 9;
	case MSGPACK_OBJECT_STR:
		return header_size(o->via.str.size, 31, 1, 2, 3) + o->via.str.size;
	case MSGPACK_OBJECT_BIN:
		return header_size(o->via.bin.size, 0, 2, 2, 3) + o->via.bin.size;
	case MSGPACK_OBJECT_EXT:
		return 1 + header_size(o->via.ext.size, 0, 2, 2, 3) +
		       o->via.ext.size;
	case MSGPACK_OBJECT_ARRAY:
		for (uint32_t i = 0; i < o->via.array.size; i++)
			n += packed_size(&o->via.array.ptr[i]);
		return header_size(o->via.array.size, 15, 1, 0, 3) + n;
	case MSGPACK_OBJECT_MAP:
		for (uint32_t i = 0; i < o->via.map.size; i++)
			n += packed_size(&o->via.map.ptr[i].key) +
			     packed_size(&o->via.map.ptr[i].val);
		return header_size(o->via.map.size, 15, 1, 0, 3) + n;
	case MSGPACK_OBJECT_NIL:
	case MSGPACK_OBJECT_BOOLEAN:
	default:
		return 1;
	}
}

uint64_t
proto_value_size(const struct proto_value *v)
{
	return v ? packed_size(obj(v)) : 0;
}

/* ---- Messages: encoding ------------------------------------------- */

/* A frame under construction: the header is reserved first and filled
 * in by frame_finish() once the payload length is known. */
static void
frame_begin(struct proto_writer *w)
{
	static const char zero[IPC_HEADER_BYTES];

	writer_init(w, IPC_FRAME_MAX_CEILING + IPC_HEADER_BYTES);
	(void)write_limited(w, zero, sizeof(zero));
}

static int
frame_finish(struct proto_writer *w, struct proto_frame *ret_frame)
{
	if (w->err < 0) {
		msgpack_sbuffer_destroy(&w->sbuf);
		return w->err;
	}
	size_t len = w->sbuf.size;
	uint8_t *data = (uint8_t *)msgpack_sbuffer_release(&w->sbuf);
	ipc_header_encode(len - IPC_HEADER_BYTES, data);
	ret_frame->data = data;
	ret_frame->len = len;
	return 0;
}

void
proto_write_key(struct proto_writer *w, const char *key)
{
	(void)proto_write_str(w, key, strlen(key));
}

static void
write_key_uint(struct proto_writer *w, const char *key, uint64_t u)
{
	proto_write_key(w, key);
	(void)proto_write_uint(w, u);
}

static void
write_key_str(struct proto_writer *w, const char *key, const char *s,
	      size_t len)
{
	proto_write_key(w, key);
	(void)proto_write_str(w, s, len);
}

static void
write_raw(struct proto_writer *w, const uint8_t *data, size_t len)
{
	(void)write_limited(w, (const char *)data, len);
}

static void
write_value(struct proto_writer *w, const struct proto_value *v,
	    const uint8_t *raw, size_t raw_len)
{
	if (v)
		(void)status_after(w, msgpack_pack_object(&w->pk, *obj(v)));
	else
		write_raw(w, raw, raw_len);
}

static void
write_type(struct proto_writer *w, enum proto_type t)
{
	write_key_str(w, "type", type_names[t], strlen(type_names[t]));
}

static void
write_restricted(struct proto_writer *w, unsigned mask)
{
	proto_write_key(w, "restricted");
	(void)proto_write_array(w, (size_t)__builtin_popcount(mask));
	for (unsigned i = 0; i < RESTRICTED_COUNT; i++) {
		const char *name = restricted_name(i);
		if (mask & (1u << i))
			(void)proto_write_str(w, name, strlen(name));
	}
}

int
proto_encode_exec(const struct proto_exec *e, struct proto_frame *ret_frame)
{
	struct proto_writer w;
	bool has_input = e->input || e->input_raw;
	bool has_props = e->props || e->props_raw;
	const struct {
		const char *key;
		uint64_t value;
	} limits[] = {
		{ "timeout_ms", e->timeout_ms },
		{ "cpu_ms", e->cpu_ms },
		{ "instructions_max", e->instructions_max },
		{ "heap_limit_bytes", e->heap_limit_bytes },
		{ "result_max_bytes", e->result_max_bytes },
		{ "log_max_bytes", e->log_max_bytes },
		{ "slow_ms", e->slow_ms },
	};
	size_t n_limits = 0;

	for (size_t i = 0; i < UTIL_ARRAY_SIZE(limits); i++)
		n_limits += limits[i].value > 0;
	frame_begin(&w);
	(void)proto_write_map(&w, 2 + e->has_id + e->has_request_id +
					  e->is_function + has_input +
					  has_props + (e->tenant != NULL) +
					  (e->profile != NULL) +
					  (e->restricted != 0) +
					  e->is_transformed + n_limits);
	write_type(&w, PROTO_MSG_EXEC);
	if (e->has_id)
		write_key_uint(&w, "id", e->id);
	if (e->has_request_id)
		write_key_uint(&w, "request_id", e->request_id);
	write_key_str(&w, "code", e->code, e->code_len);
	if (e->is_function)
		write_key_str(&w, "mode", "function", 8);
	if (e->is_transformed) {
		proto_write_key(&w, "transformed");
		(void)proto_write_bool(&w, true);
	}
	if (has_input) {
		proto_write_key(&w, "input");
		write_value(&w, e->input, e->input_raw, e->input_raw_len);
	}
	if (has_props) {
		proto_write_key(&w, "props");
		write_value(&w, e->props, e->props_raw, e->props_raw_len);
	}
	if (e->tenant)
		write_key_str(&w, "tenant", e->tenant, e->tenant_len);
	if (e->profile)
		write_key_str(&w, "profile", e->profile, e->profile_len);
	if (e->restricted != 0)
		write_restricted(&w, e->restricted);
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(limits); i++) {
		if (limits[i].value > 0)
			write_key_uint(&w, limits[i].key, limits[i].value);
	}
	return frame_finish(&w, ret_frame);
}

static void
write_stats(struct proto_writer *w, const struct proto_stats *s)
{
	const struct {
		const char *key;
		uint64_t value;
	} figures[] = {
		{ "queue_us", s->queue_us },
		{ "spawn_us", s->spawn_us },
		{ "transform_us", s->transform_us },
		{ "exec_us", s->exec_us },
		{ "cpu_us", s->cpu_us },
		{ "total_us", s->total_us },
		{ "heap_peak_bytes", s->heap_peak_bytes },
		{ "rss_bytes", s->rss_bytes },
		{ "result_bytes", s->result_bytes },
		{ "log_bytes", s->log_bytes },
		{ "worker_pid", s->worker_pid },
		{ "worker_execs", s->worker_execs },
	};

	proto_write_key(w, "stats");
	(void)proto_write_map(w, UTIL_ARRAY_SIZE(figures) +
					 (s->execution_id > 0) +
					 (s->tenant != NULL) +
					 (s->profile != NULL));
	if (s->execution_id > 0)
		write_key_uint(w, "execution_id", s->execution_id);
	if (s->tenant)
		write_key_str(w, "tenant", s->tenant, s->tenant_len);
	if (s->profile)
		write_key_str(w, "profile", s->profile, s->profile_len);
	for (size_t i = 0; i < UTIL_ARRAY_SIZE(figures); i++)
		write_key_uint(w, figures[i].key, figures[i].value);
}

static void
write_error(struct proto_writer *w, const struct proto_result *r)
{
	const char *kind = outcome_name(r->outcome);

	proto_write_key(w, "error");
	(void)proto_write_map(w, 2 + (r->stack != NULL) + (r->line > 0) +
				    (r->column > 0));
	write_key_str(w, "kind", kind, strlen(kind));
	write_key_str(w, "message", r->message ? r->message : "",
		      r->message ? r->message_len : 0);
	if (r->stack)
		write_key_str(w, "stack", r->stack, r->stack_len);
	if (r->line > 0)
		write_key_uint(w, "line", r->line);
	if (r->column > 0)
		write_key_uint(w, "column", r->column);
}

int
proto_encode_result(const struct proto_result *r, struct proto_frame *ret_frame)
{
	struct proto_writer w;
	bool ok = r->outcome == OUTCOME_OK;

	bool has_logs = r->logs || r->logs_raw;

	frame_begin(&w);
	(void)proto_write_map(&w, 4 + r->has_id + has_logs +
					  r->is_logs_truncated);
	write_type(&w, PROTO_MSG_RESULT);
	if (r->has_id)
		write_key_uint(&w, "id", r->id);
	proto_write_key(&w, "ok");
	(void)proto_write_bool(&w, ok);
	if (ok) {
		proto_write_key(&w, "value");
		write_value(&w, r->value, r->value_raw, r->value_raw_len);
	} else {
		write_error(&w, r);
	}
	if (has_logs) {
		proto_write_key(&w, "logs");
		if (!r->logs)
			(void)proto_write_array(&w, r->logs_count);
		write_value(&w, r->logs, r->logs_raw, r->logs_raw_len);
	}
	if (r->is_logs_truncated) {
		proto_write_key(&w, "logs_truncated");
		(void)proto_write_bool(&w, true);
	}
	write_stats(&w, &r->stats);
	return frame_finish(&w, ret_frame);
}

struct proto_result
proto_result_error(bool has_id, uint64_t id, enum outcome kind,
		   const char *message)
{
	return (struct proto_result){
		.has_id = has_id,
		.id = id,
		.outcome = kind,
		.message = message,
		.message_len = strlen(message),
	};
}

int
proto_encode_result_or_internal(const struct proto_result *r,
				struct proto_frame *ret_frame)
{
	if (proto_encode_result(r, ret_frame) == 0)
		return 0;
	struct proto_result fallback = proto_result_error(
		r->has_id, r->id, OUTCOME_INTERNAL,
		"the answer could not be encoded");
	fallback.stats = r->stats;
	return proto_encode_result(&fallback, ret_frame);
}

int
proto_encode_ready(uint64_t heap_bytes, struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 2);
	write_type(&w, PROTO_MSG_READY);
	write_key_uint(&w, "heap_bytes", heap_bytes);
	return frame_finish(&w, ret_frame);
}

int
proto_encode_restricted_call(const char *function, struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 2);
	write_type(&w, PROTO_MSG_VIOLATION);
	write_key_str(&w, "function", function, strlen(function));
	return frame_finish(&w, ret_frame);
}

int
proto_encode_setup_failed(const char *stage, int err, struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 3);
	write_type(&w, PROTO_MSG_SETUP_FAILED);
	write_key_str(&w, "stage", stage, strlen(stage));
	proto_write_key(&w, "errno");
	(void)proto_write_int(&w, err);
	return frame_finish(&w, ret_frame);
}

/* A fixed buffer as a msgpack-c output: nothing is allocated. */
struct fixed_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static int
write_fixed(void *data, const char *buf, size_t len)
{
	struct fixed_buf *b = data;

	if (len > b->cap - b->len)
		return -1;
	for (size_t i = 0; i < len; i++)
		b->data[b->len + i] = (uint8_t)buf[i];
	b->len += len;
	return 0;
}

size_t
proto_encode_violation(int64_t nr, uint8_t *buf)
{
	struct fixed_buf b = { .data = buf, .len = IPC_HEADER_BYTES,
			       .cap = PROTO_VIOLATION_FRAME_MAX };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &b, write_fixed);
	(void)msgpack_pack_map(&pk, 2);
	(void)msgpack_pack_str_with_body(&pk, "type", 4);
	(void)msgpack_pack_str_with_body(&pk, "violation", 9);
	(void)msgpack_pack_str_with_body(&pk, "syscall", 7);
	(void)msgpack_pack_int64(&pk, nr);
	ipc_header_encode(b.len - IPC_HEADER_BYTES, buf);
	return b.len;
}

int
proto_msg_query(const struct proto_msg *m, struct proto_query *ret,
		const char **ret_why)
{
	struct proto_query q = { .has_id = false };
	bool seen[3] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "id", FIELD_UINT, "'id' must be an unsigned integer", &q.id,
		  NULL, &seen[1] },
		{ "tenant", FIELD_STR, "'tenant' must be a string", &q.tenant,
		  &q.tenant_len, &seen[2] },
	};

	if (m->type != PROTO_MSG_STATUS && m->type != PROTO_MSG_METRICS &&
	    m->type != PROTO_MSG_SUBSCRIBE) {
		*ret_why = "not a status, metrics or subscribe request";
		return -EBADMSG;
	}
	int r = read_fields(root(m), fields, UTIL_ARRAY_SIZE(fields), ret_why);
	if (r < 0)
		return r;
	q.has_id = seen[1];
	*ret = q;
	return 0;
}

int
proto_encode_report(enum proto_type type, bool has_id, uint64_t id,
		    const char *key, const uint8_t *value, size_t len,
		    struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 2 + has_id);
	write_type(&w, type);
	if (has_id)
		write_key_uint(&w, "id", id);
	proto_write_key(&w, key);
	write_raw(&w, value, len);
	return frame_finish(&w, ret_frame);
}

const struct proto_value *
proto_msg_get(const struct proto_msg *m, const char *key)
{
	const msgpack_object *o = root(m);

	for (uint32_t i = 0; i < o->via.map.size; i++) {
		if (str_is(&o->via.map.ptr[i].key, key))
			return val(&o->via.map.ptr[i].val);
	}
	return NULL;
}

const struct proto_value *
proto_value_find(const struct proto_value *map, const char *key)
{
	size_t n = map && proto_value_kind(map) == PROTO_MAP ?
			   proto_value_count(map) :
			   0;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		const char *k = proto_value_str(proto_value_key(map, i), &len);
		if (len == strlen(key) && memcmp(k, key, len) == 0)
			return proto_value_val(map, i);
	}
	return NULL;
}

int
proto_encode_query(enum proto_type type, const struct proto_query *q,
		   struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 1 + q->has_id + (q->tenant != NULL));
	write_type(&w, type);
	if (q->has_id)
		write_key_uint(&w, "id", q->id);
	if (q->tenant)
		write_key_str(&w, "tenant", q->tenant, q->tenant_len);
	return frame_finish(&w, ret_frame);
}

int
proto_encode_event(const char *event, uint64_t time_ms, const uint8_t *fields,
		   size_t len, struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 4);
	write_type(&w, PROTO_MSG_EVENT);
	write_key_str(&w, "event", event, strlen(event));
	write_key_uint(&w, "time_ms", time_ms);
	proto_write_key(&w, "fields");
	write_raw(&w, fields, len);
	return frame_finish(&w, ret_frame);
}

int
proto_encode_slow(const char *stack, uint64_t elapsed_us,
		  struct proto_frame *ret_frame)
{
	struct proto_writer w;

	frame_begin(&w);
	(void)proto_write_map(&w, 3);
	write_type(&w, PROTO_MSG_SLOW);
	write_key_str(&w, "stack", stack, strlen(stack));
	write_key_uint(&w, "elapsed_us", elapsed_us);
	return frame_finish(&w, ret_frame);
}

int
proto_msg_slow(const struct proto_msg *m, const char **ret_stack,
	       size_t *ret_stack_len, uint64_t *ret_elapsed_us,
	       const char **ret_why)
{
	const char *stack = NULL;
	size_t stack_len = 0;
	uint64_t elapsed_us = 0;
	bool seen[3] = { false };

	const struct field fields[] = {
		{ "type", FIELD_IGNORE, NULL, NULL, NULL, &seen[0] },
		{ "stack", FIELD_STR, "'stack' must be a string", &stack,
		  &stack_len, &seen[1] },
		{ "elapsed_us", FIELD_UINT,
		  "'elapsed_us' must be an unsigned integer", &elapsed_us, NULL,
		  &seen[2] },
	};

	int r = read_message(m, PROTO_MSG_SLOW, fields, UTIL_ARRAY_SIZE(fields),
			 ret_why);
	if (r < 0)
		return r;
	if (!seen[1]) {
		*ret_why = "slow needs 'stack'";
		return -EBADMSG;
	}
	*ret_stack = stack;
	*ret_stack_len = stack_len;
	*ret_elapsed_us = elapsed_us;
	return 0;
}
