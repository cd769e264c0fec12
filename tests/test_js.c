/* SPDX-License-Identifier: MIT */
/*
 * Tests of the worker's engine (worker/js.c, worker/js_value.c), run
 * in-process without the sandbox: completion values, the conversion of
 * every value type both ways, values that cannot convert, errors with
 * their kinds, the heap cap, and the fresh global environment of every
 * execution.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ipc.h"
#include "common/proto.h"
#include "common/restricted.h"
#include "common/util.h"
#include "tests/helpers/harness.h"
#include "worker/js.h"

#define TEST_HEAP_LIMIT (2u * 1024u * 1024u)

static struct js_engine *engine;

static void
setup(void)
{
	engine = js_engine_new();
	ck_assert_ptr_nonnull(engine);
}

static void
teardown(void)
{
	js_engine_free(engine);
}

/* One execution's outcome, with its value printed as JSON and its kind. */
struct outcome_view {
	enum outcome kind;
	char *json;	      /* value as JSON, when ok */
	enum proto_kind type; /* value's msgpack kind, when ok */
	char *message;
	char *stack;
	uint64_t line;
	uint64_t heap_peak_bytes;
};

static void
view_fini(struct outcome_view *v)
{
	free(v->json);
	free(v->message);
	free(v->stack);
}

/* Wraps the engine's raw value in a result frame to read it back. */
static void
read_value(const struct js_result *res, struct outcome_view *v)
{
	const struct proto_value *value;
	struct proto_msg *m = harness_raw_value(res->value, res->value_len,
						&value);

	ck_assert_ptr_nonnull(m);
	v->type = proto_value_kind(value);
	v->json = harness_value_json(value);
	proto_msg_free(m);
}

static struct outcome_view
run_full(const char *code, const char *input_json, uint64_t heap_limit,
	 size_t result_max)
{
	struct outcome_view v = { 0 };
	struct proto_frame f;
	struct proto_exec e;
	struct js_result res;
	const char *why;

	/* The input travels as it would from a client: through an exec. */
	ck_assert_int_eq(harness_exec_frame(1, code, input_json, 0, &f), 0);
	struct proto_msg *m = harness_decode_frame(&f);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(proto_msg_exec(m, &e, &why), 0);

	struct js_request req = {
		.code = e.code,
		.code_len = e.code_len,
		.input = e.input,
		.heap_limit_bytes = heap_limit,
		.result_max_bytes = result_max,
	};
	ck_assert_int_eq(js_engine_run(engine, &req, &res), 0);
	v.kind = res.outcome;
	v.line = res.line;
	v.heap_peak_bytes = res.heap_peak_bytes;
	v.message = res.message ? strdup(res.message) : NULL;
	v.stack = res.stack ? strdup(res.stack) : NULL;
	if (res.outcome == OUTCOME_OK)
		read_value(&res, &v);
	js_result_fini(&res);
	proto_msg_free(m);
	return v;
}

static struct outcome_view
run(const char *code, const char *input_json)
{
	return run_full(code, input_json, TEST_HEAP_LIMIT, IPC_FRAME_MAX_DEFAULT);
}

/* Asserts that code gives the JSON text `want`. */
static void
expect_json(const char *code, const char *input_json, const char *want)
{
	struct outcome_view v = run(code, input_json);

	ck_assert_msg(v.kind == OUTCOME_OK, "%s: %s: %s", code,
		      outcome_name(v.kind), v.message ? v.message : "");
	ck_assert_msg(strcmp(v.json, want) == 0, "%s gave %s, not %s", code,
		      v.json, want);
	view_fini(&v);
}

static void
expect_kind(const char *code, enum outcome kind, const char *in_message)
{
	struct outcome_view v = run(code, NULL);

	ck_assert_msg(v.kind == kind, "%s gave %s (%s), not %s", code,
		      outcome_name(v.kind), v.message ? v.message : "",
		      outcome_name(kind));
	if (in_message)
		ck_assert_msg(v.message && strstr(v.message, in_message),
			      "%s: message '%s' lacks '%s'", code, v.message,
			      in_message);
	view_fini(&v);
}

START_TEST(test_js_result_is_the_completion_value)
{
	expect_json("1 + 1", NULL, "2");
	expect_json("var x = 5; x * 2", NULL, "10");
	expect_json("if (true) { 'yes' } else { 'no' }", NULL, "\"yes\"");
	expect_json("for (var i = 0; i < 3; i++) i", NULL, "2");
}
END_TEST

/* Asserts that code gives a value of msgpack kind `type`. */
static void
expect_type(const char *code, enum proto_kind type)
{
	struct outcome_view v = run(code, NULL);

	ck_assert_msg(v.kind == OUTCOME_OK, "%s: %s", code, outcome_name(v.kind));
	ck_assert_msg(v.type == type, "%s gave msgpack kind %d, not %d", code,
		      v.type, type);
	view_fini(&v);
}

START_TEST(test_js_integers_stay_integers)
{
	expect_type("2", PROTO_INT);
	expect_type("-9007199254740992", PROTO_INT);
	expect_json("-9007199254740992", NULL, "-9007199254740992");
	expect_type("2.5", PROTO_FLOAT);
	expect_json("2.5", NULL, "2.5");
	expect_type("-0", PROTO_FLOAT);
	expect_type("9007199254740994", PROTO_FLOAT);
	expect_type("NaN", PROTO_FLOAT);
	expect_type("1 / 0", PROTO_FLOAT);
}
END_TEST

START_TEST(test_js_converts_every_plain_type)
{
	expect_json("null", NULL, "null");
	expect_json("true", NULL, "true");
	expect_json("'h\\u00e9llo\\n'", NULL, "\"h\xc3\xa9llo\\n\"");
	expect_json("[1, 'a', [false, null], {}]", NULL, "[1,\"a\",[false,null],{}]");
	expect_json("({ b: { c: [1.5] }, a: 'x' })", NULL, "{\"b\":{\"c\":[1.5]},\"a\":\"x\"}");
	expect_json("var o = {}; [o, o]", NULL, "[{},{}]");

	expect_type("undefined", PROTO_UNDEFINED);
	expect_type("", PROTO_UNDEFINED);
	expect_type("null", PROTO_NIL);
}
END_TEST

START_TEST(test_js_strings_leave_as_utf8)
{
	/* A surrogate pair becomes one 4-byte character... */
	expect_json("'\\ud83d\\ude00'", NULL, "\"\xf0\x9f\x98\x80\"");
	/* ...and a lone surrogate becomes U+FFFD. */
	expect_json("'a\\ud800b'", NULL, "\"a\xef\xbf\xbd" "b\"");
	/* Source text above U+FFFF follows JavaScript's UTF-16 rules. */
	expect_json("'\xf0\x9f\x98\x80'.length", NULL, "2");
	expect_json("({ '\\ud83d\\ude00': 1 })", NULL, "{\"\xf0\x9f\x98\x80\":1}");
}
END_TEST

START_TEST(test_js_refuses_values_that_cannot_convert)
{
	static const struct {
		const char *code;
		const char *message;
	} cases[] = {
		{ "(function () {})", "function at $" },
		{ "({ f: function () {} })", "function at $.f" },
		{ "[1, [2, Math.max]]", "function at $[1][1]" },
		{ "var a = {}; a.self = a; a", "cycle at $.self" },
		{ "var a = [[]]; a[0].push(a); a", "cycle at $[0][0]" },
		{ "new Date(0)", "Date" },
		{ "/x/", "RegExp" },
		{ "new Error('e')", "Error" },
		{ "Symbol('s')", "Symbol" },
		{ "new Uint8Array(2)", "buffer" },
		{ "var d = []; for (var i = 0; i < 30; i++) d = [d]; d", "too deep" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		expect_kind(cases[i].code, OUTCOME_RUNTIME_ERROR, cases[i].message);
}
END_TEST

START_TEST(test_js_getter_errors_during_conversion_are_runtime_errors)
{
	expect_kind("({ get x() { throw new Error('no'); } })",
		    OUTCOME_RUNTIME_ERROR, "no");
	expect_json("({ get x() { return 7; } })", NULL, "{\"x\":7}");
}
END_TEST

START_TEST(test_js_input_round_trips)
{
	expect_json("input", "{\"a\":[1,2.5,\"x\",null,true,false],\"b\":{}}",
		    "{\"a\":[1,2.5,\"x\",null,true,false],\"b\":{}}");
	expect_json("input * 2", "21", "42");
	expect_json("typeof input", NULL, "\"undefined\"");
	expect_json("input.length", "\"\xf0\x9f\x98\x80\"", "2");
	expect_json("input.charCodeAt(0)", "\"\xf0\x9f\x98\x80\"", "55357");
}
END_TEST

START_TEST(test_js_input_key_proto_is_a_plain_property)
{
	expect_json("[Object.keys(input)[0], input.__proto__.polluted, "
		    "Object.getPrototypeOf(input) === Object.prototype, "
		    "({}).polluted === undefined]",
		    "{\"__proto__\":{\"polluted\":1}}",
		    "[\"__proto__\",1,true,true]");
}
END_TEST

START_TEST(test_js_each_execution_gets_a_fresh_global_environment)
{
	expect_json("this.leak = 1; var v = 2; function f() {}; "
		    "Object.prototype.polluted = 3; Array.prototype.map = null; "
		    "JSON.parse = null; Math.PI",
		    NULL, "3.141592653589793");
	expect_json("[typeof leak, typeof v, typeof f, typeof ({}).polluted, "
		    "typeof [].map, typeof JSON.parse]",
		    NULL,
		    "[\"undefined\",\"undefined\",\"undefined\",\"undefined\","
		    "\"function\",\"function\"]");
}
END_TEST

START_TEST(test_js_nothing_survives_an_execution)
{
	/* The warm heap returns to its size: nothing a script made is kept
	 * (the allowance covers the engine's own interned strings). */
	for (int i = 0; i < 5; i++) {
		struct outcome_view v = run("var a = []; for (var i = 0; i < 100; i++) a.push({ i: i }); this.x = a; 1", NULL);
		view_fini(&v);
	}
	uint64_t before = js_engine_heap_bytes(engine);
	for (int i = 0; i < 50; i++) {
		struct outcome_view v = run("var a = []; for (var i = 0; i < 100; i++) a.push({ i: i }); this.x = a; 1", NULL);
		ck_assert_int_eq(v.kind, OUTCOME_OK);
		view_fini(&v);
	}
	uint64_t after = js_engine_heap_bytes(engine);
	ck_assert_msg(after <= before + 4096, "heap grew from %llu to %llu",
		      (unsigned long long)before, (unsigned long long)after);
	ck_assert(js_engine_idle(engine));
}
END_TEST

START_TEST(test_js_syntax_errors_name_the_line)
{
	struct outcome_view v = run("1;\n2;\nvar = ;", NULL);

	ck_assert_int_eq(v.kind, OUTCOME_SYNTAX_ERROR);
	ck_assert_ptr_nonnull(strstr(v.message, "SyntaxError"));
	ck_assert_uint_eq(v.line, 3);
	ck_assert_ptr_null(v.stack);
	view_fini(&v);
}
END_TEST

START_TEST(test_js_uncaught_exceptions_are_runtime_errors)
{
	struct outcome_view v = run("function f() { throw new TypeError('boom'); }\nf()", NULL);

	ck_assert_int_eq(v.kind, OUTCOME_RUNTIME_ERROR);
	ck_assert_str_eq(v.message, "TypeError: boom");
	ck_assert_ptr_nonnull(v.stack);
	ck_assert_ptr_nonnull(strstr(v.stack, "at f (script:1)"));
	ck_assert_ptr_null(strstr(v.stack, "duk_"));
	view_fini(&v);

	expect_kind("throw 42", OUTCOME_RUNTIME_ERROR, "42");
	expect_kind("throw { toString: function () { throw 1; } }",
		    OUTCOME_RUNTIME_ERROR, NULL);
	expect_kind("function r() { return 1 + r(); } r()", OUTCOME_RUNTIME_ERROR,
		    "RangeError");
	expect_kind("undefinedName + 1", OUTCOME_RUNTIME_ERROR, "ReferenceError");
}
END_TEST

START_TEST(test_js_script_made_stacks_and_messages_are_safe)
{
	struct outcome_view v = run("throw { stack: 'abc' }", NULL);
	ck_assert_int_eq(v.kind, OUTCOME_RUNTIME_ERROR);
	ck_assert_str_eq(v.stack, "abc");
	view_fini(&v);

	v = run("throw { stack: 'x (duk_api.c:1) internal\\nat f (script:1) strict' }", NULL);
	ck_assert_str_eq(v.stack, "at f (script:1)");
	view_fini(&v);

	/* A key that is not valid UTF-8 inside the engine still gives a
	 * UTF-8 message. */
	v = run("var o = {}; o['\\ud800' + new Array(40).join('\\u00e9')] = Math.max; o", NULL);
	ck_assert_int_eq(v.kind, OUTCOME_RUNTIME_ERROR);
	ck_assert(util_utf8_is_valid(v.message, strlen(v.message)));
	view_fini(&v);

	v = run("throw new Error(new Array(10000).join('\\u00e9'))", NULL);
	ck_assert_uint_le(strlen(v.message), 4096);
	ck_assert(util_utf8_is_valid(v.message, strlen(v.message)));
	view_fini(&v);
}
END_TEST

START_TEST(test_js_heap_cap_gives_memory_limit)
{
	expect_kind("var a = []; while (true) a.push('xxxxxxxxxxxxxxxx' + a.length);",
		    OUTCOME_MEMORY_LIMIT, "heap cap");
	/* Catching the allocation failure does not hide it. */
	expect_kind("var a = []; try { while (true) a.push(new Array(100)); } catch (e) { a = null; } 1",
		    OUTCOME_MEMORY_LIMIT, "heap cap");
	expect_kind("new Array(3e6).join('x')", OUTCOME_MEMORY_LIMIT, NULL);
	/* The engine serves on after the cap was hit. */
	expect_json("1 + 1", NULL, "2");
}
END_TEST

START_TEST(test_js_heap_cap_counts_what_the_script_allocates)
{
	struct outcome_view v = run_full("var s = new Array(200).join('x'); s.length", NULL,
					 64 * 1024, IPC_FRAME_MAX_DEFAULT);
	ck_assert_int_eq(v.kind, OUTCOME_OK);
	ck_assert_uint_gt(v.heap_peak_bytes, 0);
	ck_assert_uint_le(v.heap_peak_bytes, 64 * 1024);
	view_fini(&v);

	v = run_full("var a = []; for (var i = 0; i < 10000; i++) a.push(i); 1",
		     NULL, 64 * 1024, IPC_FRAME_MAX_DEFAULT);
	ck_assert_int_eq(v.kind, OUTCOME_MEMORY_LIMIT);
	view_fini(&v);

	/* A script whose source alone is over the cap. */
	char *big = malloc(200001);
	memset(big, ' ', 200000);
	big[0] = '1';
	big[200000] = '\0';
	v = run_full(big, NULL, 64 * 1024, IPC_FRAME_MAX_DEFAULT);
	free(big);
	ck_assert_int_eq(v.kind, OUTCOME_MEMORY_LIMIT);
	view_fini(&v);
	expect_json("1 + 1", NULL, "2");
}
END_TEST

START_TEST(test_js_result_over_limit_is_too_large)
{
	struct outcome_view v = run_full("new Array(1000).join('x')", NULL,
					 TEST_HEAP_LIMIT, 100);
	ck_assert_int_eq(v.kind, OUTCOME_TOO_LARGE);
	view_fini(&v);
}
END_TEST

/* Runs "input" with a hand-made msgpack input value. */
static struct outcome_view
run_raw_input(const uint8_t *raw, size_t raw_len)
{
	struct outcome_view v = { 0 };
	struct proto_exec in = { .has_id = true, .code = "input",
				 .code_len = 5, .input_raw = raw,
				 .input_raw_len = raw_len };
	struct proto_frame f;
	struct proto_exec e;
	struct js_result res;
	const char *why;

	ck_assert_int_eq(proto_encode_exec(&in, &f), 0);
	struct proto_msg *m = harness_decode_frame(&f);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(proto_msg_exec(m, &e, &why), 0);
	struct js_request req = { .code = e.code, .code_len = e.code_len,
				  .input = e.input,
				  .heap_limit_bytes = TEST_HEAP_LIMIT,
				  .result_max_bytes = 4096 };
	ck_assert_int_eq(js_engine_run(engine, &req, &res), 0);
	v.kind = res.outcome;
	v.message = res.message ? strdup(res.message) : NULL;
	js_result_fini(&res);
	proto_msg_free(m);
	return v;
}

START_TEST(test_js_scripts_cannot_reach_engine_internals)
{
	expect_json("[typeof Duktape, typeof this.Duktape, 'Duktape' in this]",
		    NULL, "[\"undefined\",\"undefined\",false]");
	expect_json("[typeof CBOR, 'CBOR' in this]", NULL,
		    "[\"undefined\",false]");
	/* No path left that makes a string from raw bytes: each gives
	 * proper characters, never a hidden key. */
	expect_json("[new Buffer([0x82, 0x41]).toString(), "
		    "new TextDecoder().decode(new Uint8Array([0x82, 0x41])), "
		    "String.fromCharCode(0x82, 0x41)].map(function (s) { "
		    "return typeof s + s.length; })",
		    NULL, "[\"string2\",\"string2\",\"string2\"]");
}
END_TEST

START_TEST(test_js_nesting_limit_is_the_same_both_ways)
{
	char in[128] = "", out_ok[128], code[160];

	/* 24 arrays around a number pass in and out; 25 do not. */
	for (int i = 0; i < 24; i++)
		strcat(in, "[");
	strcat(in, "1");
	for (int i = 0; i < 24; i++)
		strcat(in, "]");
	strcpy(out_ok, in);
	expect_json("input", in, out_ok);
	expect_json("var a = 1; for (var i = 0; i < 24; i++) a = [a]; a", NULL,
		    out_ok);
	expect_kind("var a = 1; for (var i = 0; i < 25; i++) a = [a]; a",
		    OUTCOME_RUNTIME_ERROR, "too deep");
	(void)snprintf(code, sizeof(code), "[%s]", in);
	struct proto_frame f;
	ck_assert_int_ne(harness_exec_frame(1, "input", code, 0, &f), 0);
}
END_TEST

START_TEST(test_js_bad_input_is_a_bad_request)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} cases[] = {
		{ "bin value", "\xc4\x01\x00", 3 },
		{ "ext value", "\xd4\x05\x00", 3 },
		{ "invalid UTF-8", "\xa2\xc3\x28", 3 },
		{ "surrogate in UTF-8", "\xa3\xed\xa0\x80", 4 },
		{ "non-string map key", "\x81\x01\x02", 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct outcome_view v = run_raw_input(
			(const uint8_t *)cases[i].bytes, cases[i].len);
		ck_assert_msg(v.kind == OUTCOME_BAD_REQUEST, "%s gave %s",
			      cases[i].name, outcome_name(v.kind));
		ck_assert_ptr_nonnull(v.message);
		view_fini(&v);
	}
	/* The engine serves on. */
	expect_json("1 + 1", NULL, "2");
}
END_TEST

Suite *js_suite(void);

/* ---- Stops, profiles' restrictions, console, function mode ---------- */

/* Runs code with the limits and switches of tmpl; ret keeps the raw
 * result for the caller to read (js_result_fini() it). */
static enum outcome
run_request(const char *code, const struct js_request *tmpl,
	    struct js_result *ret)
{
	struct js_request req = *tmpl;

	req.code = code;
	req.code_len = strlen(code);
	if (req.heap_limit_bytes == 0)
		req.heap_limit_bytes = TEST_HEAP_LIMIT;
	if (req.result_max_bytes == 0)
		req.result_max_bytes = IPC_FRAME_MAX_DEFAULT;
	ck_assert_int_eq(js_engine_run(engine, &req, ret), 0);
	(void)js_engine_idle(engine);
	return ret->outcome;
}

static void
expect_request_kind(const char *code, const struct js_request *tmpl,
		    enum outcome kind, const char *in_message)
{
	struct js_result res;
	enum outcome got = run_request(code, tmpl, &res);

	ck_assert_msg(got == kind, "%s gave %s (%s), not %s", code,
		      outcome_name(got), res.message ? res.message : "",
		      outcome_name(kind));
	if (in_message)
		ck_assert_msg(res.message && strstr(res.message, in_message),
			      "%s: '%s' lacks '%s'", code, res.message,
			      in_message);
	js_result_fini(&res);
}

START_TEST(test_js_restricted_functions_are_unreachable_by_every_path)
{
	static const struct {
		const char *code;
		const char *name;
	} paths[] = {
		{ "eval('1')", "eval" },
		{ "(0, eval)('1')", "eval" },
		{ "this.eval('1')", "eval" },
		{ "globalThis.eval('1')", "eval" },
		{ "var e = eval; e('1')", "eval" },
		{ "[eval][0]('1')", "eval" },
		{ "Function('return 1')()", "Function" },
		{ "new Function('return 1')", "Function" },
		{ "(function () {}).constructor('return 1')()", "Function" },
		{ "Object.getPrototypeOf(function () {}).constructor('return 1')",
		  "Function" },
		{ "Math.max.constructor('return 1')", "Function" },
		{ "(function () {}).bind(null).constructor('return 1')",
		  "Function" },
		{ "[].map.constructor('return 1')", "Function" },
		{ "Reflect.construct(Function, ['return 1'])", "Function" },
		{ "Object.getOwnPropertyDescriptor(Function.prototype, "
		  "'constructor').value('return 1')",
		  "Function" },
		{ "Function.prototype.constructor.call(null, 'return 1')",
		  "Function" },
		{ "require('fs')", "require" },
		{ "process.env", "process" },
		{ "typeof process", "process" },
		/* Caught, and the script goes on: still the violation. */
		{ "try { eval('1') } catch (e) {} 42", "eval" },
		{ "for (;;) { try { eval('1') } catch (e) {} }", "eval" },
	};
	const struct js_request all = { .restricted = RESTRICTED_ALL };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		expect_request_kind(paths[i].code, &all,
				    OUTCOME_SECURITY_VIOLATION, paths[i].name);
	/* The gates keep the usual identities. */
	struct js_result res;
	ck_assert_int_eq(run_request("(function () {}) instanceof Function && "
				     "(function () {}).constructor === Function",
				     &all, &res),
			 OUTCOME_OK);
	js_result_fini(&res);
}
END_TEST

START_TEST(test_js_restrictions_are_per_execution)
{
	const struct js_request only_eval = { .restricted = RESTRICTED_EVAL };
	const struct js_request none = { .restricted = 0 };

	expect_request_kind("Function('return 1')()", &only_eval, OUTCOME_OK,
			    NULL);
	expect_request_kind("Function('return eval')()('1')", &only_eval,
			    OUTCOME_SECURITY_VIOLATION, "eval");
	/* The next execution, unrestricted, has the real ones back. */
	expect_request_kind("eval('1 + 1')", &none, OUTCOME_OK, NULL);
	expect_request_kind("typeof require", &none, OUTCOME_OK, NULL);
}
END_TEST

START_TEST(test_js_stops_at_the_deadline_and_keeps_serving)
{
	static const char *const loops[] = {
		"while (true) {}",
		"for (;;) { try { for (;;) {} } catch (e) {} }",
		"for (;;) { try { for (;;) {} } finally { for (;;) {} } }",
		"JSON.parse('[1,2]', function (k, v) { for (;;) {} })",
		"var o = { toString: function () { for (;;) {} } }; '' + o",
	};
	const struct js_request wall = { .timeout_ms = 50 };
	struct js_result res;

	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		ck_assert_int_eq(run_request(loops[i], &wall, &res),
				 OUTCOME_TIMEOUT);
		ck_assert_ptr_nonnull(strstr(res.message, "timeout of 50 ms"));
		/* Where it was stopped. */
		ck_assert_ptr_nonnull(res.stack);
		ck_assert_ptr_nonnull(strstr(res.stack, "(script:1)"));
		js_result_fini(&res);
	}
	expect_json("'still serving'", NULL, "\"still serving\"");
}
END_TEST

START_TEST(test_js_stops_at_the_cpu_budget)
{
	const struct js_request cpu = { .timeout_ms = 60000, .cpu_ms = 50 };

	expect_request_kind("while (true) {}", &cpu, OUTCOME_TIMEOUT,
			    "CPU time limit of 50 ms");
}
END_TEST

/* The budget stops a loop long before its wall and CPU limits would, and
 * a script that needs less than its budget finishes: a loop of 10 000
 * turns takes well under 4 steps of JS_INTERRUPT_STEP_INSTRUCTIONS. */
START_TEST(test_js_stops_at_the_instruction_budget)
{
	const struct js_request budget = {
		.timeout_ms = 600000,
		.cpu_ms = 600000,
		.instructions_max = 4 * JS_INTERRUPT_STEP_INSTRUCTIONS,
	};

	expect_request_kind("while (true) {}", &budget, OUTCOME_TIMEOUT,
			    "budget of 1048576 instructions");
	expect_request_kind("var n = 0; for (;;) { try { n++; } catch (e) {} }",
			    &budget, OUTCOME_TIMEOUT, "instructions");
	struct js_result res;
	ck_assert_int_eq(run_request("var n = 0; for (var i = 0; i < 10000; i++) n += i; n",
				     &budget, &res),
			 OUTCOME_OK);
	js_result_fini(&res);
}
END_TEST

/* A script that caught its cap's error is stopped at its next
 * instruction: at the cap every allocation runs the collector, and a
 * script left to run would take minutes to reach the next regular
 * check. Without the stop this test runs into its tcase timeout. */
START_TEST(test_js_stops_a_script_that_goes_on_at_its_cap)
{
	const struct js_request limits = { .timeout_ms = 600000,
					   .cpu_ms = 600000,
					   .heap_limit_bytes = 1u << 20 };
	static const char *const scripts[] = {
		"var k = []; try { for (;;) k.push([1, 2]); } catch (e) {}"
		" for (;;) { try { k.push([3]); } catch (e) {} }",
		"var k = []; try { for (;;) k.push({}); } catch (e) {} for (;;) {}",
		"var k = []; try { for (;;) k.push({}); } catch (e) {} 'done'",
	};

	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		expect_request_kind(scripts[i], &limits, OUTCOME_MEMORY_LIMIT,
				    "heap cap of 1048576 bytes");
	expect_json("'still serving'", NULL, "\"still serving\"");
}
END_TEST

/* Reads the engine's pre-encoded logs back as a client would. */
static char *
logs_json(const struct js_result *res)
{
	struct proto_result r = { .outcome = OUTCOME_OK,
				  .value_raw = (const uint8_t *)"\xc0",
				  .value_raw_len = 1,
				  .logs_raw = res->logs,
				  .logs_raw_len = res->logs_len,
				  .logs_count = res->log_count,
				  .is_logs_truncated = res->is_logs_truncated };
	struct proto_frame f;
	struct proto_result out;
	const char *why;

	ck_assert_int_eq(proto_encode_result(&r, &f), 0);
	struct proto_msg *m = harness_decode_frame(&f);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(proto_msg_result(m, &out, &why), 0);
	char *json = out.logs ? harness_value_json(out.logs) : strdup("none");
	proto_msg_free(m);
	return json;
}

START_TEST(test_js_console_is_captured_and_bounded)
{
	const struct js_request small = { .log_max_bytes = 80 };
	struct js_result res;

	ck_assert_int_eq(run_request("console.log('a', 1, {b: [2]}, null); "
				     "console.warn('w'); console.error('e'); 7",
				     &small, &res),
			 OUTCOME_OK);
	char *json = logs_json(&res);
	ck_assert_str_eq(json, "[[\"log\",\"a 1 {\\\"b\\\":[2]} null\"],"
			       "[\"warn\",\"w\"],[\"error\",\"e\"]]");
	ck_assert(!res.is_logs_truncated);
	free(json);
	js_result_fini(&res);

	/* A flood is cut at the cap and flagged, and costs the answer no
	 * more than the cap. */
	ck_assert_int_eq(run_request("for (var i = 0; i < 1e5; i++) "
				     "console.log(''); 1",
				     &small, &res),
			 OUTCOME_OK);
	ck_assert(res.is_logs_truncated);
	ck_assert_uint_le(res.log_count, 80 / 16);
	js_result_fini(&res);
	ck_assert_int_eq(run_request("console.info('\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
				     "\u00e9\u00e9\u00e9\u00e9'); 1",
				     &small, &res),
			 OUTCOME_OK);
	ck_assert(res.is_logs_truncated);
	ck_assert_uint_eq(res.log_count, 1);
	/* Cut on a character boundary: the frame still decodes. */
	json = logs_json(&res);
	free(json);
	js_result_fini(&res);
}
END_TEST

START_TEST(test_js_function_mode_reports_through_its_context)
{
	struct proto_frame f;
	struct proto_exec e;
	const char *why;
	struct js_result res;

	ck_assert_int_eq(harness_exec_frame(1, "x", "{\"n\": 4}", 0, &f), 0);
	struct proto_msg *m = harness_decode_frame(&f);
	ck_assert_int_eq(proto_msg_exec(m, &e, &why), 0);
	struct js_request fn = { .is_function = true, .input = e.input,
				 .props = e.input, .tenant = "t1",
				 .tenant_len = 2, .has_id = true, .id = 9,
				 .log_max_bytes = 1024 };

	ck_assert_int_eq(run_request("function (params, props, context) {"
				     " context.log('hi');"
				     " context.setOutput([params.n * props.n,"
				     " context.tenant, context.id]) }",
				     &fn, &res),
			 OUTCOME_OK);
	ck_assert_uint_eq(res.log_count, 1);
	js_result_fini(&res);
	expect_request_kind("function (p, q, c) { return 5 }", &fn,
			    OUTCOME_NO_RESULT, "context.setOutput");
	/* One function expression and nothing else. */
	expect_request_kind("function (p, q, c) { c.setOutput(1) } @@ not js",
			    &fn, OUTCOME_SYNTAX_ERROR, NULL);
	expect_request_kind("function (p, q, c) { c.setOutput(1) }; 5", &fn,
			    OUTCOME_SYNTAX_ERROR, NULL);
	expect_request_kind("5", &fn, OUTCOME_RUNTIME_ERROR,
			    "one function expression");
	expect_request_kind("function (p, q, c) { c.setError('out of stock') }",
			    &fn, OUTCOME_SCRIPT_ERROR, "out of stock");
	expect_request_kind("function (p, q, c) { c.setOutput(1); c.setOutput(2) }",
			    &fn, OUTCOME_RUNTIME_ERROR, "already set");
	expect_request_kind("function (p, q, c) { 'use strict'; p.n = 5; c.setOutput(p.n) }",
			    &fn, OUTCOME_RUNTIME_ERROR, NULL);
	expect_request_kind("1 + ", &fn, OUTCOME_SYNTAX_ERROR, NULL);
	proto_msg_free(m);
}
END_TEST

START_TEST(test_js_input_is_frozen_and_the_execution_is_visible)
{
	expect_json("[Object.isFrozen(input), Object.isFrozen(input.a), "
		    "Object.isFrozen(execution), execution.id === null]",
		    "{\"a\": [1]}", "[true,true,true,true]");
	expect_kind("'use strict'; input.a.push(2)", OUTCOME_RUNTIME_ERROR,
		    NULL);
}
END_TEST

static char slow_stack[2048];
static uint64_t slow_elapsed_us;
static unsigned slow_reports;

static void
on_slow(const char *stack, uint64_t elapsed_us)
{
	(void)snprintf(slow_stack, sizeof(slow_stack), "%s", stack);
	slow_elapsed_us = elapsed_us;
	slow_reports++;
}

/* Past slow_ms the engine says once where the script is, and the script
 * goes on; no script code runs for the report, even where the script
 * set traps on the properties it reads. */
START_TEST(test_js_reports_where_a_slow_script_is)
{
	const struct js_request slow = { .slow_ms = 10, .timeout_ms = 10000 };
	struct js_result res;

	js_engine_on_slow(engine, on_slow);
	slow_reports = 0;
	ck_assert_int_eq(run_request("function spin(n) { for (var i = 0; i < n; i++) {} return n }\n"
				     "function outer() { var r = spin(5e6); return r }\n"
				     "outer()",
				     &slow, &res),
			 OUTCOME_OK);
	js_result_fini(&res);
	ck_assert_uint_eq(slow_reports, 1);
	ck_assert_uint_ge(slow_elapsed_us, 10000);
	ck_assert_str_eq(slow_stack, "at spin (script:1)\nat outer (script:2)\n"
				     "at eval (script:3)");

	slow_reports = 0;
	ck_assert_int_eq(run_request("var hits = 0;"
				     "Object.defineProperty(Function.prototype, 'name', "
				     "{ get: function () { hits++; return 'x' } });"
				     "Object.prototype.__defineGetter__('value', "
				     "function () { hits++ });"
				     "(function () { for (var i = 0; i < 5e6; i++) {} })();"
				     "hits",
				     &slow, &res),
			 OUTCOME_OK);
	ck_assert_uint_eq(slow_reports, 1);
	ck_assert_uint_eq(res.value_len, 1);
	ck_assert_uint_eq(res.value[0], 0); /* msgpack 0: no getter ran */
	js_result_fini(&res);
	js_engine_on_slow(engine, NULL);
}
END_TEST

/* Every global of a fresh environment is a standard built-in or one of
 * Beddel's, listed here: a new one must be reviewed and added. */
START_TEST(test_js_globals_are_only_the_listed_ones)
{
	expect_json("Object.getOwnPropertyNames(this).sort().join()", NULL,
		    "\"Array,ArrayBuffer,Boolean,Buffer,DataView,Date,Error,"
		    "EvalError,Float32Array,Float64Array,Function,Infinity,"
		    "Int16Array,Int32Array,Int8Array,JSON,Math,NaN,Number,"
		    "Object,Proxy,RangeError,ReferenceError,Reflect,RegExp,"
		    "String,Symbol,SyntaxError,TextDecoder,TextEncoder,"
		    "TypeError,URIError,Uint16Array,Uint32Array,Uint8Array,"
		    "Uint8ClampedArray,console,decodeURI,decodeURIComponent,"
		    "encodeURI,encodeURIComponent,escape,eval,execution,"
		    "globalThis,input,isFinite,isNaN,parseFloat,parseInt,"
		    "undefined,unescape\"");
	expect_json("Object.getOwnPropertyNames(console).sort().join()", NULL,
		    "\"error,info,log,warn\"");
}
END_TEST

Suite *
js_suite(void)
{
	Suite *s = suite_create("js");
	TCase *tc = tcase_create("values");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_js_result_is_the_completion_value);
	tcase_add_test(tc, test_js_integers_stay_integers);
	tcase_add_test(tc, test_js_converts_every_plain_type);
	tcase_add_test(tc, test_js_strings_leave_as_utf8);
	tcase_add_test(tc, test_js_refuses_values_that_cannot_convert);
	tcase_add_test(tc, test_js_getter_errors_during_conversion_are_runtime_errors);
	tcase_add_test(tc, test_js_input_round_trips);
	tcase_add_test(tc, test_js_input_key_proto_is_a_plain_property);
	tcase_add_test(tc, test_js_bad_input_is_a_bad_request);
	tcase_add_test(tc, test_js_nesting_limit_is_the_same_both_ways);
	tcase_add_test(tc, test_js_scripts_cannot_reach_engine_internals);
	tcase_add_test(tc, test_js_globals_are_only_the_listed_ones);
	tcase_add_test(tc, test_js_input_is_frozen_and_the_execution_is_visible);
	suite_add_tcase(s, tc);

	tc = tcase_create("profiles_and_stops");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_js_restricted_functions_are_unreachable_by_every_path);
	tcase_add_test(tc, test_js_restrictions_are_per_execution);
	tcase_add_test(tc, test_js_stops_at_the_deadline_and_keeps_serving);
	tcase_add_test(tc, test_js_stops_at_the_cpu_budget);
	tcase_add_test(tc, test_js_stops_at_the_instruction_budget);
	tcase_add_test(tc, test_js_stops_a_script_that_goes_on_at_its_cap);
	tcase_add_test(tc, test_js_console_is_captured_and_bounded);
	tcase_add_test(tc, test_js_function_mode_reports_through_its_context);
	tcase_add_test(tc, test_js_reports_where_a_slow_script_is);
	suite_add_tcase(s, tc);

	tc = tcase_create("isolation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_js_each_execution_gets_a_fresh_global_environment);
	tcase_add_test(tc, test_js_nothing_survives_an_execution);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_js_syntax_errors_name_the_line);
	tcase_add_test(tc, test_js_uncaught_exceptions_are_runtime_errors);
	tcase_add_test(tc, test_js_heap_cap_gives_memory_limit);
	tcase_add_test(tc, test_js_script_made_stacks_and_messages_are_safe);
	tcase_add_test(tc, test_js_heap_cap_counts_what_the_script_allocates);
	tcase_add_test(tc, test_js_result_over_limit_is_too_large);
	suite_add_tcase(s, tc);
	return s;
}
