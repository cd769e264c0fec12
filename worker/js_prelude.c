/* SPDX-License-Identifier: MIT */
/*
 * Installs the prelude's pieces (worker/prelude/) in a script's
 * environment. The pieces are Beddel's own ES5.1 code, built
 * into the worker (embedded.h), and run with the script's limits: they
 * are part of its execution. Runs in the worker, after the sandbox, and
 * in the transform engine before it.
 */
#include "worker/js_prelude.h"

#include <stdbool.h>
#include <string.h>

#include "worker/embedded.h"
#include "worker/js_value.h"

enum piece_id {
	PIECE_LIB,
	PIECE_COLLECTIONS,
	PIECE_OBJECT,
	PIECE_STRING,
	PIECE_ARRAY,
	PIECE_PROMISE,
	PIECE_ITERATORS,
	PIECE_COUNT,
};

#define BIT(p) (1u << (p))

/* In the order they are installed. Each file is a function expression,
 * called as (global, lib), whose result is kept: lib is the first
 * piece's result, the helpers the others share. The names are those
 * whose appearance in a script installs the piece, in three forms:
 * "Map", the word anywhere; ".find", the word after a dot, as a member
 * (but not of Object, whose members are named in full); "Array.from",
 * the word after that object and a dot. So that the words of prose in
 * comments and strings ("a list of names") install nothing, prototype
 * methods are matched as members only. */
static const struct piece {
	const char *file;
	unsigned needs;
	const char *const *names;
} pieces[PIECE_COUNT] = {
	[PIECE_LIB] = { "lib", 0,
		(const char *const[]){ NULL } },
	[PIECE_COLLECTIONS] = { "collections", BIT(PIECE_LIB),
		(const char *const[]){ "Map", "Set", "WeakMap", "WeakSet",
				       NULL } },
	[PIECE_OBJECT] = { "object", BIT(PIECE_LIB),
		(const char *const[]){ "Object.entries", "Object.values",
				       "Object.fromEntries", NULL } },
	[PIECE_STRING] = { "string", BIT(PIECE_LIB),
		(const char *const[]){ ".padStart", ".padEnd", ".trimStart",
				       ".trimEnd", NULL } },
	[PIECE_ARRAY] = { "array", BIT(PIECE_LIB),
		(const char *const[]){ "Array.from", "Array.of", ".find",
				       ".findIndex", ".includes", ".fill",
				       ".flat", ".flatMap", ".entries",
				       ".keys", ".values", NULL } },
	/* The transform's async helpers name Promise. */
	[PIECE_PROMISE] = { "promise", BIT(PIECE_LIB),
		(const char *const[]){ "Promise", NULL } },
	/* The iteration helpers of the transform's output, and scripts
	 * that iterate by hand. */
	[PIECE_ITERATORS] = { "iterators", BIT(PIECE_LIB),
		(const char *const[]){ "__read", "__values", "__spreadArray",
				       ".iterator", NULL } },
};

static bool
is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/* A word of the code, and what stands before it: owner is the word
 * before a dot ("Array" in "Array.from"), empty when none; is_member
 * says a dot came before. */
struct word {
	const char *s;
	size_t len;
	bool is_member;
	const char *owner;
	size_t owner_len;
};

static bool
is_named(const char *name, const struct word *w)
{
	const char *dot = strchr(name, '.');

	if (!dot)
		return strlen(name) == w->len && memcmp(name, w->s, w->len) == 0;
	size_t owner_len = (size_t)(dot - name);
	const char *member = dot + 1;
	if (strlen(member) != w->len || memcmp(member, w->s, w->len) != 0 ||
	    !w->is_member)
		return false;
	/* ".find": a member of anything but Object; "Array.from": of
	 * Array. */
	if (owner_len == 0)
		return w->owner_len != 6 || memcmp(w->owner, "Object", 6) != 0;
	return w->owner_len == owner_len &&
	       memcmp(w->owner, name, owner_len) == 0;
}

/* The pieces that the word w reaches. */
static unsigned
pieces_named(const struct word *w)
{
	unsigned mask = 0;

	for (unsigned p = 0; p < PIECE_COUNT; p++) {
		for (const char *const *n = pieces[p].names; *n; n++) {
			if (is_named(*n, w))
				mask |= BIT(p);
		}
	}
	return mask;
}

/* What stands before the word at code[start]: a dot (blanks skipped),
 * and the word before that dot. */
static void
read_before(const char *code, size_t start, struct word *w)
{
	size_t i = start;

	w->is_member = false;
	w->owner_len = 0;
	while (i > 0 && strchr(" \t\r\n", code[i - 1]))
		i--;
	if (i == 0 || code[i - 1] != '.')
		return;
	w->is_member = true;
	i--;
	while (i > 0 && strchr(" \t\r\n", code[i - 1]))
		i--;
	size_t end = i;
	while (i > 0 && is_word_char(code[i - 1]))
		i--;
	w->owner = code + i;
	w->owner_len = end - i;
}

/* The mask with every piece a piece of it needs. */
static unsigned
with_needs(unsigned mask)
{
	for (unsigned p = 0; p < PIECE_COUNT; p++) {
		if (mask & BIT(p))
			mask |= pieces[p].needs;
	}
	return mask;
}

/* Longest name in the table; longer words are skipped at once. */
#define PRELUDE_NAME_MAX_BYTES 24

unsigned
js_prelude_needs(const char *code, size_t len)
{
	unsigned mask = 0;
	size_t i = 0;

	while (i < len) {
		if (!is_word_char(code[i])) {
			i++;
			continue;
		}
		size_t start = i;
		while (i < len && is_word_char(code[i]))
			i++;
		if (i - start > PRELUDE_NAME_MAX_BYTES)
			continue;
		struct word w = { .s = code + start, .len = i - start };
		read_before(code, start, &w);
		mask |= pieces_named(&w);
	}
	return with_needs(mask);
}

unsigned
js_prelude_all(void)
{
	return BIT(PIECE_COUNT) - 1;
}

void
js_prelude_run_file(duk_context *ctx, const char *name, const char *trailer)
{
	size_t len;
	const char *src = embedded_get(name, &len);

	if (!src)
		(void)duk_error(ctx, DUK_ERR_ERROR, "built-in file %s is missing",
				name);
	/* The files are UTF-8; the engine wants its own encoding of
	 * characters beyond U+FFFF. */
	if (js_value_push_utf8(ctx, src, len) < 0)
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "out of memory");
	if (trailer) {
		duk_push_string(ctx, trailer);
		duk_concat(ctx, 2);
	}
	(void)duk_push_sprintf(ctx, "prelude:%s", name);
	/* [ ... source filename ] -> [ ... fn ] -> [ ... fn global ] */
	duk_compile(ctx, DUK_COMPILE_EVAL);
	duk_push_global_object(ctx);
	/* [ ... fn global ] -> [ ... value ] */
	duk_call_method(ctx, 0);
}

void
js_prelude_install(duk_context *ctx, unsigned mask)
{
	duk_idx_t lib = -1;

	/* [ ... ] -> [ ... runner ] (undefined until the Promise piece) */
	duk_push_undefined(ctx);
	duk_idx_t runner = duk_get_top_index(ctx);
	for (unsigned p = 0; p < PIECE_COUNT; p++) {
		if (!(mask & BIT(p)))
			continue;
		/* [ ... runner ] -> [ ... runner value ] */
		js_prelude_run_file(ctx, pieces[p].file, NULL);
		/* [ ... runner fn ] -> [ ... runner fn global lib ] ->
		 * [ ... runner result ] */
		duk_push_global_object(ctx);
		if (lib >= 0)
			duk_dup(ctx, lib);
		else
			duk_push_undefined(ctx);
		duk_call(ctx, 2);
		if (p == PIECE_LIB) {
			lib = duk_get_top_index(ctx);
			continue;
		}
		if (p == PIECE_PROMISE)
			duk_replace(ctx, runner);
		else
			duk_pop(ctx);
	}
	/* [ ... runner lib ] -> [ ... runner ] */
	duk_set_top(ctx, runner + 1);
}
