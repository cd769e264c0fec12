/* SPDX-License-Identifier: MIT */
/*
 * JavaScript <-> msgpack value conversion, inside the sandboxed worker.
 * The input side reads a value the supervisor forwarded from a client;
 * the output side reads whatever a hostile script left as its completion
 * value, including getters, proxies, cycles and huge strings. Both sides
 * stop at PROTO_VALUE_DEPTH_MAX levels and report the path of the value
 * that failed on the way out, e.g. "$.a[3]".
 */
#include "worker/js_value.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/proto.h"
#include "common/util.h"

/* Integers up to 2^53 are exact in a double; those go out as msgpack
 * integers, everything else as float64. */
#define JS_SAFE_INTEGER 9007199254740992.0

#define PATH_MAX_BYTES 128
#define PATH_KEY_MAX_BYTES 32

/* The walk over a result: where we are, for messages, and which objects
 * enclose the current one, for cycle detection. */
struct walk {
	duk_context *ctx;
	struct proto_writer *w;
	char *why;
	char path[PATH_MAX_BYTES];
	size_t path_len;
	void *parents[PROTO_VALUE_DEPTH_MAX + 1];
	int depth;
};

static int
fail(struct walk *k, const char *what)
{
	(void)snprintf(k->why, JS_VALUE_WHY_MAX, "%s at %s", what,
		       k->path_len ? k->path : "$");
	return -EINVAL;
}

/* Appends ".key" or "[i]" to the path, cutting long paths with "...";
 * returns the old length to restore. */
static size_t
path_push(struct walk *k, const char *key, size_t key_len, size_t index)
{
	size_t old = k->path_len;
	size_t room = sizeof(k->path) - old;
	int n;

	if (old == 0) {
		k->path[0] = '$';
		k->path[1] = '\0';
		old = k->path_len = 1;
		room = sizeof(k->path) - 1;
	}
	if (key) {
		/* Keys are script text: as UTF-8, cut whole, for the message. */
		char text[UTIL_UTF8_CAPACITY(PATH_KEY_MAX_BYTES) + 1];
		size_t len = key_len > PATH_KEY_MAX_BYTES ? PATH_KEY_MAX_BYTES : key_len;
		len = util_engine_to_utf8(key, len, text);
		len = util_utf8_cut(text, len, PATH_KEY_MAX_BYTES);
		n = snprintf(k->path + old, room, ".%.*s", (int)len, text);
	} else {
		n = snprintf(k->path + old, room, "[%zu]", index);
	}
	if (n < 0 || (size_t)n >= room) {
		(void)snprintf(k->path + sizeof(k->path) - 4, 4, "...");
		k->path_len = sizeof(k->path) - 1;
	} else {
		k->path_len = old + (size_t)n;
	}
	return old;
}

static void
path_pop(struct walk *k, size_t old)
{
	k->path_len = old;
	k->path[old] = '\0';
}

static int
write_string(struct walk *k, duk_idx_t idx)
{
	duk_size_t len;
	const char *s = duk_get_lstring(k->ctx, idx, &len);

	if (util_utf8_is_valid(s, len))
		return proto_write_str(k->w, s, len);

	/* Surrogate pairs or stray bytes: rewrite as UTF-8 first, unless it
	 * cannot fit anyway (the rewrite is at least two thirds as long). */
	if (len / 3 * 2 > proto_writer_room(k->w))
		return -E2BIG;
	char *buf = malloc(UTIL_UTF8_CAPACITY(len));
	if (!buf)
		return -ENOMEM;
	size_t n = util_engine_to_utf8(s, len, buf);
	int r = proto_write_str(k->w, buf, n);
	free(buf);
	return r;
}

static int
write_number(struct walk *k, double d)
{
	if (isfinite(d) && d == floor(d) && fabs(d) <= JS_SAFE_INTEGER &&
	    !(d == 0 && signbit(d)))
		return proto_write_int(k->w, (int64_t)d);
	return proto_write_double(k->w, d);
}

static int write_any(struct walk *k, duk_idx_t idx);

static int
write_array(struct walk *k, duk_idx_t idx)
{
	duk_size_t n = duk_get_length(k->ctx, idx);
	int r = proto_write_array(k->w, n);

	for (duk_size_t i = 0; i < n && r == 0; i++) {
		size_t old = path_push(k, NULL, 0, i);
		(void)duk_get_prop_index(k->ctx, idx, (duk_uarridx_t)i);
		r = write_any(k, duk_get_top_index(k->ctx));
		duk_pop(k->ctx);
		path_pop(k, old);
	}
	return r;
}

static int
write_object(struct walk *k, duk_idx_t idx)
{
	duk_context *ctx = k->ctx;
	int r;

	/* Own enumerable string keys, collected first because a msgpack
	 * map states its size up front: [ ... keys ] */
	duk_idx_t keys = duk_push_array(ctx);
	duk_enum(ctx, idx, DUK_ENUM_OWN_PROPERTIES_ONLY);
	duk_uarridx_t n = 0;
	while (duk_next(ctx, -1, 0)) {
		/* [ ... keys enum key ] */
		(void)duk_put_prop_index(ctx, keys, n++);
	}
	duk_pop(ctx);

	r = proto_write_map(k->w, n);
	for (duk_uarridx_t i = 0; i < n && r == 0; i++) {
		(void)duk_get_prop_index(ctx, keys, i);
		/* [ ... keys key ] */
		duk_size_t key_len;
		const char *key = duk_get_lstring(ctx, -1, &key_len);
		size_t old = path_push(k, key, key_len, 0);
		r = write_string(k, -1);
		if (r == 0) {
			(void)duk_get_prop(ctx, idx);
			/* [ ... keys value ] */
			r = write_any(k, duk_get_top_index(ctx));
		}
		duk_pop(ctx);
		path_pop(k, old);
	}
	duk_pop(ctx);
	return r;
}

static int
write_container(struct walk *k, duk_idx_t idx)
{
	duk_context *ctx = k->ctx;
	void *ptr = duk_get_heapptr(ctx, idx);
	int r;

	if (duk_is_function(ctx, idx))
		return fail(k, "result holds a function");
	if (duk_is_buffer_data(ctx, idx))
		return fail(k, "result holds a buffer");
	if (duk_is_thread(ctx, idx))
		return fail(k, "result holds a thread");
	if (duk_is_error(ctx, idx))
		return fail(k, "result holds an Error object");
	if (duk_instanceof(ctx, idx, JS_VALUE_IDX_DATE))
		return fail(k, "result holds a Date");
	if (duk_instanceof(ctx, idx, JS_VALUE_IDX_REGEXP))
		return fail(k, "result holds a RegExp");
	for (int i = 0; i < k->depth; i++) {
		if (k->parents[i] == ptr)
			return fail(k, "result holds a cycle");
	}
	if (k->depth >= PROTO_VALUE_DEPTH_MAX)
		return fail(k, "result nests too deep");

	k->parents[k->depth++] = ptr;
	r = duk_is_array(ctx, idx) ? write_array(k, idx) : write_object(k, idx);
	k->depth--;
	return r;
}

static int
write_any(struct walk *k, duk_idx_t idx)
{
	duk_context *ctx = k->ctx;

	switch (duk_get_type(ctx, idx)) {
	case DUK_TYPE_UNDEFINED:
		return proto_write_undefined(k->w);
	case DUK_TYPE_NULL:
		return proto_write_nil(k->w);
	case DUK_TYPE_BOOLEAN:
		return proto_write_bool(k->w, duk_get_boolean(ctx, idx));
	case DUK_TYPE_NUMBER:
		return write_number(k, duk_get_number(ctx, idx));
	case DUK_TYPE_STRING:
		if (duk_is_symbol(ctx, idx))
			return fail(k, "result holds a Symbol");
		return write_string(k, idx);
	case DUK_TYPE_OBJECT:
		return write_container(k, idx);
	case DUK_TYPE_LIGHTFUNC:
		return fail(k, "result holds a function");
	case DUK_TYPE_BUFFER:
		return fail(k, "result holds a buffer");
	case DUK_TYPE_POINTER:
	default:
		return fail(k, "result holds a value of an unsupported type");
	}
}

int
js_value_write(duk_context *ctx, duk_idx_t idx, struct proto_writer *w,
	       char *why)
{
	struct walk k = { .ctx = ctx, .w = w, .why = why };

	why[0] = '\0';
	return write_any(&k, duk_normalize_index(ctx, idx));
}

/* ---- msgpack -> JavaScript ---------------------------------------- */

static int push_any(duk_context *ctx, const struct proto_value *v, int depth,
		    char *why);

int
js_value_push_utf8(duk_context *ctx, const char *s, size_t len)
{
	/* Only text with 4-byte sequences needs rewriting. */
	bool has_astral = false;
	for (size_t i = 0; i < len && !has_astral; i++)
		has_astral = (unsigned char)s[i] >= 0xf0;
	if (!has_astral) {
		(void)duk_push_lstring(ctx, s, len);
		return 0;
	}
	char *buf = malloc(UTIL_CESU8_CAPACITY(len));
	if (!buf)
		return -ENOMEM;
	size_t n = util_utf8_to_cesu8(s, len, buf);
	(void)duk_push_lstring(ctx, buf, n);
	free(buf);
	return 0;
}

static int
push_string(duk_context *ctx, const struct proto_value *v, char *why)
{
	size_t len;
	const char *s = proto_value_str(v, &len);

	if (!util_utf8_is_valid(s, len)) {
		(void)snprintf(why, JS_VALUE_WHY_MAX,
			       "input holds a string that is not valid UTF-8");
		return -EINVAL;
	}
	return js_value_push_utf8(ctx, s, len);
}

static int
push_array(duk_context *ctx, const struct proto_value *v, int depth,
	   char *why)
{
	duk_idx_t arr = duk_push_array(ctx);
	size_t n = proto_value_count(v);

	for (size_t i = 0; i < n; i++) {
		int r = push_any(ctx, proto_value_at(v, i), depth + 1, why);
		if (r < 0) {
			duk_pop(ctx);
			return r;
		}
		(void)duk_put_prop_index(ctx, arr, (duk_uarridx_t)i);
	}
	/* Scripts get a read-only copy of their request. */
	duk_freeze(ctx, arr);
	return 0;
}

static int
push_map(duk_context *ctx, const struct proto_value *v, int depth, char *why)
{
	duk_idx_t o = duk_push_object(ctx);
	size_t n = proto_value_count(v);

	for (size_t i = 0; i < n; i++) {
		const struct proto_value *key = proto_value_key(v, i);
		if (proto_value_kind(key) != PROTO_STR) {
			(void)snprintf(why, JS_VALUE_WHY_MAX,
				       "input holds a map key that is not a string");
			duk_pop(ctx);
			return -EINVAL;
		}
		int r = push_string(ctx, key, why);
		if (r == 0) {
			r = push_any(ctx, proto_value_val(v, i), depth + 1, why);
			if (r < 0)
				duk_pop(ctx);
		}
		if (r < 0) {
			duk_pop(ctx);
			return r;
		}
		/* [ ... o key value ] -> [ ... o ]. Defined, not assigned:
		 * a key "__proto__" must not reach the prototype setter. */
		duk_def_prop(ctx, o,
			     DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
				     DUK_DEFPROP_SET_ENUMERABLE |
				     DUK_DEFPROP_SET_CONFIGURABLE);
	}
	duk_freeze(ctx, o);
	return 0;
}

static int
push_any(duk_context *ctx, const struct proto_value *v, int depth, char *why)
{
	/* depth counts the arrays and maps around v, as on the way out. */
	enum proto_kind kind = proto_value_kind(v);
	if ((kind == PROTO_ARRAY || kind == PROTO_MAP) &&
	    depth >= PROTO_VALUE_DEPTH_MAX) {
		(void)snprintf(why, JS_VALUE_WHY_MAX,
			       "input nests deeper than %d arrays and maps",
			       PROTO_VALUE_DEPTH_MAX);
		return -EINVAL;
	}
	switch (kind) {
	case PROTO_NIL:
		duk_push_null(ctx);
		return 0;
	case PROTO_UNDEFINED:
		duk_push_undefined(ctx);
		return 0;
	case PROTO_BOOL:
		duk_push_boolean(ctx, proto_value_bool(v));
		return 0;
	case PROTO_INT:
	case PROTO_UINT:
	case PROTO_FLOAT:
		duk_push_number(ctx, proto_value_double(v));
		return 0;
	case PROTO_STR:
		return push_string(ctx, v, why);
	case PROTO_ARRAY:
		return push_array(ctx, v, depth, why);
	case PROTO_MAP:
		return push_map(ctx, v, depth, why);
	case PROTO_UNSUPPORTED:
	default:
		(void)snprintf(why, JS_VALUE_WHY_MAX,
			       "input holds a msgpack bin or ext value, which scripts cannot see");
		return -EINVAL;
	}
}

int
js_value_push(duk_context *ctx, const struct proto_value *v, char *why)
{
	why[0] = '\0';
	return push_any(ctx, v, 0, why);
}
