/* SPDX-License-Identifier: MIT */
/*
 * ES2015+ scripts (supervisor/transform.c, worker/transpiler/driver.js,
 * worker/js_prelude.c). In-process: every syntax form, lowered by a
 * transform engine and run by an engine, gives the value its ES5 twin
 * gives; syntax errors carry the line and column of the source as sent;
 * hostile sources end in an error; the prelude is there only for scripts
 * that name it, and behaves as the standard says. Against a live
 * supervisor: scripts run through the transform workers, the cache
 * counts its hits per tenant, a parser bomb replaces the transform
 * worker, and transform workers are sandboxed and serve one tenant.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ipc.h"
#include "common/outcome.h"
#include "common/proto.h"
#include "common/sys.h"
#include "tests/helpers/harness.h"
#include "worker/js.h"

#define TEST_HEAP_LIMIT (8u * 1024u * 1024u)

static struct js_engine *lowerer;
static struct js_engine *engine;

static void
setup_engines(void)
{
	lowerer = js_engine_new_transform();
	ck_assert_ptr_nonnull(lowerer);
	engine = js_engine_new();
	ck_assert_ptr_nonnull(engine);
}

static void
teardown_engines(void)
{
	js_engine_free(lowerer);
	js_engine_free(engine);
}

/* An engine's raw msgpack value, read back as a client would: as JSON in
 * a new string, or, for a string value, its text. */
static char *
value_text(const struct js_result *res, bool is_string_wanted)
{
	const struct proto_value *value;
	struct proto_msg *m = harness_raw_value(res->value, res->value_len,
						&value);
	char *text;

	ck_assert_ptr_nonnull(m);
	if (is_string_wanted) {
		size_t len;
		const char *s = proto_value_str(value, &len);
		ck_assert_int_eq(proto_value_kind(value), PROTO_STR);
		text = strndup(s, len);
	} else {
		text = harness_value_json(value);
	}
	proto_msg_free(m);
	return text;
}

/* What an engine made of one request. */
struct answer {
	enum outcome kind;
	char *text; /* the value (JSON, or the ES5 source), when ok */
	char *message;
	uint64_t line;
	uint64_t column;
};

static void
answer_fini(struct answer *a)
{
	free(a->text);
	free(a->message);
}

static struct answer
ask_within(struct js_engine *e, const char *code, bool is_function,
	   bool is_transformed, uint64_t heap_limit_bytes)
{
	const struct js_request req = {
		.code = code,
		.code_len = strlen(code),
		.is_function = is_function,
		.is_transformed = is_transformed,
		.timeout_ms = 10000,
		.instructions_max = 100u * 1000u * 1000u,
		.heap_limit_bytes = heap_limit_bytes,
		.result_max_bytes = IPC_FRAME_MAX_DEFAULT,
		.log_max_bytes = 1024,
	};
	struct answer a = { 0 };
	struct js_result res;

	ck_assert_int_eq(js_engine_run(e, &req, &res), 0);
	a.kind = res.outcome;
	a.line = res.line;
	a.column = res.column;
	a.message = res.message ? strdup(res.message) : NULL;
	if (res.outcome == OUTCOME_OK)
		a.text = value_text(&res, e == lowerer);
	js_result_fini(&res);
	(void)js_engine_idle(e);
	return a;
}

static struct answer
ask(struct js_engine *e, const char *code, bool is_function,
    bool is_transformed)
{
	return ask_within(e, code, is_function, is_transformed,
			  e == lowerer ? 64u << 20 : TEST_HEAP_LIMIT);
}

/* Lowers modern and runs it; returns the value as JSON (free it). */
static char *
run_modern(const char *modern)
{
	struct answer low = ask(lowerer, modern, false, false);

	ck_assert_msg(low.kind == OUTCOME_OK, "%s: the transform said %s: %s",
		      modern, outcome_name(low.kind),
		      low.message ? low.message : "");
	struct answer ran = ask(engine, low.text, false, true);
	ck_assert_msg(ran.kind == OUTCOME_OK, "%s, lowered to %s: %s: %s",
		      modern, low.text, outcome_name(ran.kind),
		      ran.message ? ran.message : "");
	char *json = ran.text;
	ran.text = NULL;
	answer_fini(&low);
	answer_fini(&ran);
	return json;
}

/* A script and the JSON of the value it must give. */
struct expected {
	const char *code;
	const char *want;
};

/* Runs each case (lowered first when is_modern) and checks its value. */
static void
expect_values(const struct expected *cases, size_t n, bool is_modern)
{
	for (size_t i = 0; i < n; i++) {
		char *json;
		if (is_modern) {
			json = run_modern(cases[i].code);
		} else {
			struct answer a = ask(engine, cases[i].code, false, false);
			ck_assert_msg(a.kind == OUTCOME_OK, "%s: %s: %s",
				      cases[i].code, outcome_name(a.kind),
				      a.message ? a.message : "");
			json = a.text;
			a.text = NULL;
			answer_fini(&a);
		}
		ck_assert_msg(strcmp(json, cases[i].want) == 0,
			      "%s gave %s, not %s", cases[i].code, json,
			      cases[i].want);
		free(json);
	}
}

/* Each form alone, then together; each with its ES5 twin. */
static const struct form {
	const char *modern;
	const char *es5;
} forms[] = {
	{ "[1, 2, 3].map(x => x * 2)",
	  "[1, 2, 3].map(function (x) { return x * 2; })" },
	{ "var o = { n: 2, f() { return [1].map(() => this.n); } }; o.f()",
	  "var o = { n: 2, f: function () { var self = this; return [1].map(function () { return self.n; }); } }; o.f()" },
	{ "let a = 1; { let a = 2; } const b = a + 1; b",
	  "var a = 1; (function () { var a = 2; })(); var b = a + 1; b" },
	{ "var fs = []; for (let i = 0; i < 3; i++) fs.push(() => i); fs.map(f => f())",
	  "var fs = []; for (var i = 0; i < 3; i++) (function (j) { fs.push(function () { return j; }); })(i); fs.map(function (f) { return f(); })" },
	{ "var n = 3; `n=${n}, twice ${n * 2}\\nend`",
	  "var n = 3; 'n=' + n + ', twice ' + (n * 2) + '\\nend'" },
	{ "class A { constructor(x) { this.x = x; } get double() { return this.x * 2; } static make() { return new A(4); } } A.make().double",
	  "function A(x) { this.x = x; } Object.defineProperty(A.prototype, 'double', { get: function () { return this.x * 2; } }); A.make = function () { return new A(4); }; A.make().double" },
	{ "class A { hi() { return 'A'; } } class B extends A { hi() { return super.hi() + 'B'; } } [new B().hi(), new B() instanceof A]",
	  "function A() {} A.prototype.hi = function () { return 'A'; }; function B() {} B.prototype = Object.create(A.prototype); B.prototype.hi = function () { return A.prototype.hi.call(this) + 'B'; }; [new B().hi(), new B() instanceof A]" },
	{ "var { a, b: [c, d = 5], ...rest } = { a: 1, b: [2], e: 6, f: 7 }; [a, c, d, rest]",
	  "var src = { a: 1, b: [2], e: 6, f: 7 }; var a = src.a, c = src.b[0], d = src.b[1] === undefined ? 5 : src.b[1]; [a, c, d, { e: 6, f: 7 }]" },
	{ "var [x, , y = 9, ...zs] = [1, 2, undefined, 4, 5]; [x, y, zs]",
	  "var arr = [1, 2, undefined, 4, 5]; [arr[0], arr[2] === undefined ? 9 : arr[2], arr.slice(3)]" },
	{ "function f(a, b = a + 1, ...more) { return [a, b, more.length]; } f(1)",
	  "function f(a, b) { if (b === undefined) b = a + 1; return [a, b, arguments.length > 2 ? arguments.length - 2 : 0]; } f(1)" },
	{ "var xs = [1, 2]; [...xs, 3, ...'ab']",
	  "[1, 2, 3, 'a', 'b']" },
	{ "Math.max(...[4, 9, 2])", "Math.max.apply(Math, [4, 9, 2])" },
	{ "var base = { a: 1, b: 2 }; ({ ...base, b: 3, c: 4 })",
	  "({ a: 1, b: 3, c: 4 })" },
	{ "var k = 'dyn'; ({ [k + 1]: true, k })",
	  "var k = 'dyn'; var o = {}; o[k + 1] = true; o.k = k; o" },
	{ "2 ** 10", "Math.pow(2, 10)" },
	{ "var s = 0; for (const v of [1, 2, 3]) s += v; for (const c of 'xy') s += c; s",
	  "var s = 0; [1, 2, 3].forEach(function (v) { s += v; }); s + 'x' + 'y'" },
	{ "var m = new Map([['a', 1], ['b', 2]]); var out = []; for (const [k, v] of m) out.push(k + v); out",
	  "['a1', 'b2']" },
	{ "[...new Set([3, 1, 3, 2, 1])]", "[3, 1, 2]" },
	/* Strings iterate by character, a surrogate pair as one. */
	{ "[[...'\\ud83d\\ude00a'].length, Array.from('\\ud83d\\ude00').length]",
	  "[2, 1]" },
	{ "function* g() { yield 1; yield* [2, 3]; } [...g()]", "[1, 2, 3]" },
	{ "async function f(x) { const y = await Promise.resolve(x); return y + 1; } f(41)",
	  "42" },
	/* Reactions run after the script's own code, before its result is
	 * read. */
	{ "var log = []; Promise.resolve().then(() => log.push('later')); log.push('now'); log",
	  "['now', 'later']" },
	/* Several forms in one script. */
	{ "class Stack { #items = []; push(...xs) { this.#items.push(...xs); return this; } get top() { return this.#items[this.#items.length - 1]; } }\n"
	  "const s = new Stack().push(1, 2, 3);\n"
	  "const { top } = s;\n"
	  "`top=${top}, sum=${[1, 2, 3].reduce((a, b) => a + b, 0)}`",
	  "'top=3, sum=6'" },
};

START_TEST(test_transform_each_form_gives_its_es5_value)
{
	const struct form *f = &forms[_i];
	char *modern = run_modern(f->modern);
	struct answer es5 = ask(engine, f->es5, false, false);

	ck_assert_msg(es5.kind == OUTCOME_OK, "%s: %s", f->es5,
		      es5.message ? es5.message : "");
	ck_assert_msg(strcmp(modern, es5.text) == 0, "%s gave %s, %s gave %s",
		      f->modern, modern, f->es5, es5.text);
	free(modern);
	answer_fini(&es5);
}
END_TEST

/* The original system's ES2015 benchmark cases, with their values. */
START_TEST(test_transform_runs_the_original_es2015_cases)
{
	static const struct expected cases[] = {
		{ "[1,2,3,4,5].map(x => x * 2).reduce((a, b) => a + b, 0)", "30" },
		{ "let sum = 0; for (let i = 0; i < 1000; i++) { sum += i; } sum",
		  "499500" },
		{ "const obj = { name: 'beddel', version: 2 }; const { name, ...rest } = obj; `${name}:${rest.version}`",
		  "\"beddel:2\"" },
		{ "const words = ['hello', 'world']; words.map(w => w.toUpperCase()).join(' ')",
		  "\"HELLO WORLD\"" },
		{ "const data = JSON.parse('{\"a\":1,\"b\":2}'); Object.entries(data).map(([k, v]) => `${k}=${v}`).join('&')",
		  "\"a=1&b=2\"" },
	};

	expect_values(cases, sizeof(cases) / sizeof(cases[0]), true);
}
END_TEST

/* The transform refuses code with syntax_error at line (and column,
 * unless 0) of the source as sent, its message holding in_message (NULL:
 * not checked). */
static void
expect_refused(const char *code, bool is_function, uint64_t line,
	       uint64_t column, const char *in_message)
{
	struct answer a = ask(lowerer, code, is_function, false);

	ck_assert_msg(a.kind == OUTCOME_SYNTAX_ERROR, "%s: %s", code,
		      outcome_name(a.kind));
	ck_assert_uint_eq(a.line, line);
	if (column > 0)
		ck_assert_uint_eq(a.column, column);
	if (in_message)
		ck_assert_ptr_nonnull(strstr(a.message, in_message));
	answer_fini(&a);
}

START_TEST(test_transform_reports_the_line_and_column_of_the_source)
{
	expect_refused("const a = 1;\nlet b = ;\n", false, 2, 9,
		       "(line 2, column 9)");
	/* Function mode puts the code in parentheses; the column is still
	 * the client's. */
	expect_refused("(p, q, c) => { c.setOutput(p +* 1) }", true, 1, 31, NULL);
	/* An error in the parenthesis that closes function mode's code is
	 * reported at the end of the code. */
	expect_refused("(a) => {", true, 1, 9, NULL);
	expect_refused("let m = 1;\nimport('x')", false, 2, 0, "import()");
	/* A module is not a script. */
	expect_refused("let x = 1;\nexport default x;", false, 2, 0,
		       "not a module");
}
END_TEST

/* A parser bomb is an error of the transform's own (internal: the
 * supervisor replaces the worker), a source too big for its heap is
 * memory_limit; the lowerer serves on after both. */
START_TEST(test_transform_ends_hostile_sources_in_an_error)
{
	size_t depth = 20000;
	char *bomb = malloc(2 * depth + 1);

	ck_assert_ptr_nonnull(bomb);
	memset(bomb, '[', depth);
	memset(bomb + depth, ']', depth);
	bomb[2 * depth] = '\0';
	struct answer a = ask(lowerer, bomb, false, false);
	ck_assert_msg(a.kind == OUTCOME_INTERNAL, "nesting: %s: %s",
		      outcome_name(a.kind), a.message ? a.message : "");
	answer_fini(&a);
	free(bomb);

	const struct js_request tight = {
		.code = "let x = [" "1, 2, 3, 4, 5, 6, 7, 8, 9, 10" "];",
		.code_len = strlen("let x = [" "1, 2, 3, 4, 5, 6, 7, 8, 9, 10" "];"),
		.timeout_ms = 10000,
		.heap_limit_bytes = 4096,
		.result_max_bytes = 4096,
	};
	struct js_result res;
	ck_assert_int_eq(js_engine_run(lowerer, &tight, &res), 0);
	ck_assert_int_eq(res.outcome, OUTCOME_MEMORY_LIMIT);
	js_result_fini(&res);
	(void)js_engine_idle(lowerer);

	char *json = run_modern("const after = () => 'still lowering'; after()");
	ck_assert_str_eq(json, "\"still lowering\"");
	free(json);
}
END_TEST

/* A script that names none of the prelude's pieces gets none; one that
 * names one gets that one. */
START_TEST(test_prelude_is_there_only_for_scripts_that_name_it)
{
	struct answer a = ask(engine, "[typeof this['M' + 'ap'], typeof this['Pro' + 'mise'], typeof []['fi' + 'nd']]",
			      false, false);

	ck_assert_int_eq(a.kind, OUTCOME_OK);
	ck_assert_str_eq(a.text, "[\"undefined\",\"undefined\",\"undefined\"]");
	answer_fini(&a);
	a = ask(engine, "[typeof Map, typeof this['Pro' + 'mise'], typeof []['fi' + 'nd']]",
		false, false);
	ck_assert_int_eq(a.kind, OUTCOME_OK);
	/* Map's piece, and the helpers every piece uses; not the others. */
	ck_assert_str_eq(a.text, "[\"function\",\"undefined\",\"undefined\"]");
	answer_fini(&a);
}
END_TEST

/* Words of prose name nothing: only members (after a dot) and globals
 * install a piece. */
START_TEST(test_prelude_ignores_the_words_of_prose)
{
	struct answer a = ask(engine, "// the values of a list, from one to find\n"
				      "'keys of entries'; typeof []['fi' + 'nd']",
			      false, false);

	ck_assert_int_eq(a.kind, OUTCOME_OK);
	ck_assert_str_eq(a.text, "\"undefined\"");
	answer_fini(&a);
	a = ask(engine, "var k = [5, 6].keys(); k.next(); k.next().value", false,
		false);
	ck_assert_int_eq(a.kind, OUTCOME_OK);
	ck_assert_str_eq(a.text, "1");
	answer_fini(&a);
}
END_TEST

/* Keyed collections find object keys without a search, and a chain of
 * promises holds only what is still to run: both within a small heap
 * and instruction budget. */
START_TEST(test_prelude_scales_with_its_work)
{
	struct answer a = ask(engine, "var s = new Set(); for (var i = 0; i < 20000; i++) s.add({}); s.has({}) ? -1 : s.size",
			      false, false);

	ck_assert_msg(a.kind == OUTCOME_OK, "%s: %s", outcome_name(a.kind),
		      a.message ? a.message : "");
	ck_assert_str_eq(a.text, "20000");
	answer_fini(&a);
	struct answer low = ask(lowerer, "(async () => { let s = 0; for (let i = 0; i < 2000; i++) s += await i; return s; })()",
				false, false);
	ck_assert_int_eq(low.kind, OUTCOME_OK);
	a = ask_within(engine, low.text, false, true, 2u << 20);
	ck_assert_msg(a.kind == OUTCOME_OK, "%s: %s", outcome_name(a.kind),
		      a.message ? a.message : "");
	ck_assert_str_eq(a.text, "1999000");
	answer_fini(&a);
	answer_fini(&low);
}
END_TEST

/* The prelude's built-ins as the standard describes them. */
START_TEST(test_prelude_behaves_as_the_standard_says)
{
	static const struct expected cases[] = {
		/* SameValueZero keys, insertion order, size. */
		{ "var m = new Map(); m.set(NaN, 1).set(-0, 2).set('1', 3).set(1, 4); [m.get(NaN), m.get(0), m.get('1'), m.get(1), m.size]",
		  "[1,2,3,4,4]" },
		{ "var o = {}; var m = new Map([[o, 'x']]); m.set(Object.freeze({}), 'f'); [m.get(o), m.get({}), m.has(o)]",
		  "[\"x\",null,true]" },
		{ "var m = new Map([[1, 'a'], [2, 'b'], [3, 'c']]); m.delete(2); m.set(4, 'd'); var ks = []; m.forEach(function (v, k) { ks.push(k); }); ks",
		  "[1,3,4]" },
		{ "var s = new Set([1, 2, 3]); var seen = []; s.forEach(function (v) { seen.push(v); if (v === 1) s.delete(2); }); seen",
		  "[1,3]" },
		{ "var w = new WeakMap(); var k = {}; w.set(k, 1); var ok = true; try { w.set(1, 1); ok = false; } catch (e) {} [w.get(k), ok]",
		  "[1,true]" },
		{ "[Array.from('abc'), Array.from({ length: 2 }, function (v, i) { return i * 3; }), Array.of(7, 8)]",
		  "[[\"a\",\"b\",\"c\"],[0,3],[7,8]]" },
		{ "[[1, 2, 3].find(function (x) { return x > 1; }), [1, 2].findIndex(function (x) { return x > 5; }), [NaN].includes(NaN), [1, [2, [3, [4]]]].flat(2), [0, 0, 0].fill(7, 1)]",
		  "[2,-1,true,[1,2,3,[4]],[0,7,7]]" },
		{ "[Object.entries({ a: 1 }), Object.values({ a: 1, b: 2 }), Object.fromEntries([['x', 1]])]",
		  "[[[\"a\",1]],[1,2],{\"x\":1}]" },
		{ "['5'.padStart(3, '0'), 'ab'.padEnd(5, 'xy'), '  t  '.trimStart(), '  t  '.trimEnd()]",
		  "[\"005\",\"abxyx\",\"t  \",\"  t\"]" },
		/* Reactions run after the script's own code, in order; a
		 * promise result is settled. */
		{ "var log = []; Promise.resolve(1).then(function (v) { log.push('a' + v); }); new Promise(function (r) { log.push('sync'); r(2); }).then(function (v) { log.push('b' + v); }); log.push('end'); Promise.all([1, Promise.resolve(2)]).then(function (v) { log.push(v.join('+')); return log; })",
		  "[\"sync\",\"end\",\"a1\",\"b2\",\"1+2\"]" },
		{ "Promise.allSettled([Promise.reject('no'), 3]).then(function (r) { return r.map(function (x) { return x.status; }); })",
		  "[\"rejected\",\"fulfilled\"]" },
	};

	expect_values(cases, sizeof(cases) / sizeof(cases[0]), false);
	struct answer a = ask(engine, "Promise.reject(new Error('refused'))",
			      false, false);
	ck_assert_int_eq(a.kind, OUTCOME_RUNTIME_ERROR);
	ck_assert_ptr_nonnull(strstr(a.message, "refused"));
	answer_fini(&a);
	a = ask(engine, "new Promise(function () {})", false, false);
	ck_assert_int_eq(a.kind, OUTCOME_RUNTIME_ERROR);
	ck_assert_ptr_nonnull(strstr(a.message, "never settles"));
	answer_fini(&a);
}
END_TEST

/* ---- Against a live supervisor ------------------------------------ */

static struct harness h;
static const char *const with_transform[] = { "--transform-workers-max", "1",
					      NULL };

static void
teardown_supervisor(void)
{
	int status = harness_stop(&h, 15000);
	ck_assert(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Runs code for tenant on a connection of its own; *ret_msg owns the
 * answer *ret_res views (free it with proto_msg_free()). */
static void
exec_for(const char *tenant, const char *code, struct proto_msg **ret_msg,
	 struct proto_result *ret_res)
{
	int fd = harness_connect(&h);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_exec_for(fd, 1, tenant, code, ret_msg,
					  ret_res),
			 0);
	(void)close(fd);
}

/* As exec_for(), keeping *ret_kind and the value as JSON in *ret_json
 * (free it; NULL unless ok). */
static void
run_for(const char *tenant, const char *code, enum outcome *ret_kind,
	char **ret_json)
{
	struct proto_msg *m;
	struct proto_result res;

	exec_for(tenant, code, &m, &res);
	*ret_kind = res.outcome;
	*ret_json = res.outcome == OUTCOME_OK ? harness_value_json(res.value) :
						NULL;
	proto_msg_free(m);
}

/* A figure of the status map's "transform" part. */
static uint64_t
transform_figure(const char *key)
{
	struct proto_msg *m;

	ck_assert_int_eq(harness_query(&h, PROTO_MSG_STATUS, NULL, &m), 0);
	const struct proto_value *status = proto_msg_get(m, "status");
	const struct proto_value *t = proto_value_find(status, "transform");
	ck_assert_ptr_nonnull(t);
	const struct proto_value *v = proto_value_find(t, key);
	ck_assert_ptr_nonnull(v);
	uint64_t n = proto_value_uint(v);
	proto_msg_free(m);
	return n;
}

START_TEST(test_transform_serves_es2015_scripts_and_caches_them_per_tenant)
{
	static const char code[] = "const f = (x) => x * 2; [1, 2, 3].map(f)";
	enum outcome kind;
	char *json;

	ck_assert_int_eq(harness_start(&h, 1, with_transform), 0);
	/* ES5 passes by the transform. */
	run_for("t1", "[1, 2].length", &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	free(json);
	ck_assert_uint_eq(transform_figure("cache_misses"), 0);

	run_for("t1", code, &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	ck_assert_str_eq(json, "[2,4,6]");
	free(json);
	ck_assert_uint_eq(transform_figure("cache_misses"), 1);
	ck_assert_uint_eq(transform_figure("cache_hits"), 0);

	run_for("t1", code, &kind, &json);
	ck_assert_str_eq(json, "[2,4,6]");
	free(json);
	ck_assert_uint_eq(transform_figure("cache_hits"), 1);
	ck_assert_uint_eq(transform_figure("cache_entries"), 1);

	/* Another tenant's identical script is not served from t1's
	 * entry. */
	run_for("t2", code, &kind, &json);
	ck_assert_str_eq(json, "[2,4,6]");
	free(json);
	ck_assert_uint_eq(transform_figure("cache_misses"), 2);
	ck_assert_uint_eq(transform_figure("cache_hits"), 1);

	/* A real syntax error is answered with the source's position. */
	struct proto_msg *m;
	struct proto_result res;
	exec_for("t1", "let ok = 1;\nlet = ;", &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_SYNTAX_ERROR);
	ck_assert_uint_eq(res.line, 2);
	ck_assert_uint_eq(res.column, 7);
	proto_msg_free(m);
	ck_assert_uint_eq(harness_count_log(&h, "transform: done"), 3);
}
END_TEST

/* The metrics text holds line (a whole line, its newline included). */
static void
expect_metric(const char *text, size_t len, const char *line)
{
	ck_assert_msg(memmem(text, len, line, strlen(line)) != NULL,
		      "no line %s in the metrics", line);
}

/* The transform's counters reach the Prometheus text as they reach the
 * status: an ES2015+ script lowered, then served from the cache, and
 * one the transform refuses. */
START_TEST(test_transform_counters_reach_the_metrics)
{
	static const char code[] = "const f = (x) => x * 2; f(4)";
	enum outcome kind;
	char *json;

	ck_assert_int_eq(harness_start(&h, 1, with_transform), 0);
	for (int i = 0; i < 2; i++) {
		run_for("t1", code, &kind, &json);
		ck_assert_str_eq(json, "8");
		free(json);
	}
	run_for("t1", "let ok = 1;\nlet = ;", &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_SYNTAX_ERROR);

	struct proto_msg *m;
	size_t len;

	ck_assert_int_eq(harness_query(&h, PROTO_MSG_METRICS, NULL, &m), 0);
	const char *text = proto_value_str(proto_msg_get(m, "text"), &len);
	ck_assert_ptr_nonnull(text);
	expect_metric(text, len, "\nbeddel_transforms_total{result=\"ok\"} 1\n");
	expect_metric(text, len, "\nbeddel_transforms_total{result=\"failed\"} 1\n");
	expect_metric(text, len, "\nbeddel_transform_cache_hits_total 1\n");
	expect_metric(text, len, "\nbeddel_transform_cache_misses_total 2\n");
	expect_metric(text, len, "\nbeddel_transform_cache_evictions_total 0\n");
	proto_msg_free(m);
}
END_TEST

/* One tenant holds at most a quarter of the cache: a tenant that sends
 * many scripts evicts its own entries, not the one another tenant
 * cached first, which is still served from the cache. */
START_TEST(test_transform_cache_keeps_a_share_per_tenant)
{
	static const char *const args[] = { "--transform-workers-max", "1",
					    "--transform-cache-max-bytes",
					    "4096", NULL };
	static const char kept[] = "const kept = (x) => x + 1; kept(1)";
	enum outcome kind;
	char *json, code[96];

	ck_assert_int_eq(harness_start(&h, 1, args), 0);
	run_for("b", kept, &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	free(json);
	/* More than the whole cache holds: without the shares, b's entry,
	 * the least recently used, would go first. */
	for (int i = 0; i < 24; i++) {
		(void)snprintf(code, sizeof(code),
			       "const v%d = [%d].map(x => x * 2); v%d[0]", i, i, i);
		run_for("a", code, &kind, &json);
		ck_assert_int_eq(kind, OUTCOME_OK);
		free(json);
	}
	ck_assert_uint_gt(transform_figure("cache_evictions"), 0);
	ck_assert_uint_le(transform_figure("cache_bytes"), 4096);
	uint64_t hits = transform_figure("cache_hits");
	run_for("b", kept, &kind, &json);
	ck_assert_str_eq(json, "2");
	free(json);
	ck_assert_uint_eq(transform_figure("cache_hits"), hits + 1);
}
END_TEST

/* The pid of the transform worker that lowered for tenant, from its log
 * line. */
static pid_t
transform_pid_of(const char *tenant)
{
	char needle[96];

	(void)snprintf(needle, sizeof(needle), "tenant='%s'", tenant);
	if (harness_wait_log(&h, needle, 1, 5000) < 0)
		return -1;
	const char *line = h.log;
	pid_t pid = -1;
	while ((line = strstr(line, "transform: done "))) {
		const char *end = strchr(line, '\n');
		const char *t = strstr(line, "tenant='");
		if (t && (!end || t < end) &&
		    strncmp(t + 8, tenant, strlen(tenant)) == 0 &&
		    t[8 + strlen(tenant)] == '\'') {
			const char *p = strstr(line, " pid=");
			if (p && (!end || p < end))
				pid = (pid_t)atoi(p + 5);
		}
		line += 16;
	}
	return pid;
}

START_TEST(test_transform_workers_are_sandboxed_and_serve_one_tenant)
{
	enum outcome kind;
	char *json;
	char buf[128];

	ck_assert_int_eq(harness_start(&h, 1, with_transform), 0);
	run_for("a", "let x = 1; x", &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	free(json);
	pid_t pa = transform_pid_of("a");
	ck_assert_int_gt(pa, 0);
	ck_assert_int_eq(harness_proc_status(pa, "Seccomp", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "2");
	ck_assert_int_eq(harness_proc_status(pa, "NoNewPrivs", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(harness_proc_status(pa, "CapEff", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0000000000000000");

	/* With one transform worker at most, tenant b's script needs a
	 * worker of its own: a's is retired to make room. */
	run_for("b", "let y = 2; y", &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	ck_assert_str_eq(json, "2");
	free(json);
	pid_t pb = transform_pid_of("b");
	ck_assert_int_gt(pb, 0);
	ck_assert_int_ne(pa, pb);
}
END_TEST

START_TEST(test_transform_replaces_a_worker_a_parser_bomb_broke)
{
	size_t depth = 20000;
	char *bomb = malloc(2 * depth + 1);
	enum outcome kind;
	char *json;

	ck_assert_int_eq(harness_start(&h, 1, with_transform), 0);
	ck_assert_ptr_nonnull(bomb);
	memset(bomb, '[', depth);
	memset(bomb + depth, ']', depth);
	bomb[2 * depth] = '\0';
	bomb[0] = '(';
	bomb[2 * depth - 1] = ')';
	/* "([[...]])" is not ES5 either way: it is an unbalanced mess that
	 * the engine refuses, and the compiler's parser recurses on it. */
	struct proto_msg *m;
	struct proto_result res;
	exec_for("t", bomb, &m, &res);
	free(bomb);
	ck_assert_int_eq(res.outcome, OUTCOME_SYNTAX_ERROR);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len,
				     "transform failed", 16));
	proto_msg_free(m);
	ck_assert_int_eq(harness_wait_log(&h, "retiring worker: failed internally",
					  1, 5000),
			 0);

	/* The transform serves on, with a new worker. */
	run_for("t", "const z = 3; z", &kind, &json);
	ck_assert_int_eq(kind, OUTCOME_OK);
	ck_assert_str_eq(json, "3");
	free(json);
	ck_assert_uint_eq(transform_figure("failures"), 1);
}
END_TEST

/* A source that keeps breaking transform workers is quarantined like a
 * script that keeps breaking engine workers (three strikes). */
START_TEST(test_transform_quarantines_a_source_that_breaks_its_workers)
{
	static const char *const args[] = { "--transform-workers-max", "1",
					    "--quarantine-strikes", "2", NULL };
	size_t depth = 20000;
	char *bomb = malloc(2 * depth + 1);
	enum outcome kind;
	char *json;

	ck_assert_ptr_nonnull(bomb);
	memset(bomb, '[', depth);
	memset(bomb + depth, ']', depth);
	bomb[2 * depth] = '\0';
	bomb[0] = '(';
	bomb[2 * depth - 1] = ')';
	ck_assert_int_eq(harness_start(&h, 1, args), 0);
	for (int i = 0; i < 2; i++) {
		run_for("t", bomb, &kind, &json);
		ck_assert_int_eq(kind, OUTCOME_SYNTAX_ERROR);
	}
	run_for("t", bomb, &kind, &json);
	free(bomb);
	ck_assert_int_eq(kind, OUTCOME_QUARANTINED);
	/* Syntax the engine lacks even once lowered (a BigInt literal) is
	 * named as such, without the lowered code's line. */
	struct proto_msg *m;
	struct proto_result res;
	exec_for("t", "let big = 10n;\nbig", &m, &res);
	ck_assert_int_eq(res.outcome, OUTCOME_SYNTAX_ERROR);
	ck_assert_ptr_nonnull(memmem(res.message, res.message_len,
				     "even once lowered", 17));
	ck_assert_uint_eq(res.line, 0);
	proto_msg_free(m);
}
END_TEST

Suite *transform_suite(void);

Suite *
transform_suite(void)
{
	Suite *s = suite_create("transform");
	TCase *tc = tcase_create("lowering");

	tcase_set_timeout(tc, 120);
	/* Once, in the parent: each test forks with its own copy. */
	tcase_add_unchecked_fixture(tc, setup_engines, teardown_engines);
	tcase_add_loop_test(tc, test_transform_each_form_gives_its_es5_value, 0,
			    (int)(sizeof(forms) / sizeof(forms[0])));
	tcase_add_test(tc, test_transform_runs_the_original_es2015_cases);
	tcase_add_test(tc, test_transform_reports_the_line_and_column_of_the_source);
	tcase_add_test(tc, test_transform_ends_hostile_sources_in_an_error);
	tcase_add_test(tc, test_prelude_is_there_only_for_scripts_that_name_it);
	tcase_add_test(tc, test_prelude_behaves_as_the_standard_says);
	tcase_add_test(tc, test_prelude_ignores_the_words_of_prose);
	tcase_add_test(tc, test_prelude_scales_with_its_work);
	suite_add_tcase(s, tc);

	tc = tcase_create("supervisor");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown_supervisor);
	tcase_add_test(tc, test_transform_serves_es2015_scripts_and_caches_them_per_tenant);
	tcase_add_test(tc, test_transform_workers_are_sandboxed_and_serve_one_tenant);
	tcase_add_test(tc, test_transform_cache_keeps_a_share_per_tenant);
	tcase_add_test(tc, test_transform_counters_reach_the_metrics);
	tcase_add_test(tc, test_transform_replaces_a_worker_a_parser_bomb_broke);
	tcase_add_test(tc, test_transform_quarantines_a_source_that_breaks_its_workers);
	suite_add_tcase(s, tc);
	return s;
}
