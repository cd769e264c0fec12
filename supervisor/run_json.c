/* SPDX-License-Identifier: MIT */
/*
 * JSON in and out of beddel-run. Parsing is jansson's; printing walks our
 * msgpack values directly, because numbers must print the way JavaScript
 * prints them (print_double), which jansson's fixed precision cannot do.
 */
#include "supervisor/run_json.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "common/proto.h"
#include "common/util.h"

static int
write_json(struct proto_writer *w, json_t *j, int depth, char *why,
	   size_t why_size)
{
	const char *key;
	json_t *v;
	size_t i;

	/* depth counts the arrays and objects around j, as in the engine. */
	if ((json_is_object(j) || json_is_array(j)) &&
	    depth >= PROTO_VALUE_DEPTH_MAX) {
		(void)snprintf(why, why_size,
			       "input nests deeper than %d arrays and objects",
			       PROTO_VALUE_DEPTH_MAX);
		return -EINVAL;
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		(void)proto_write_map(w, json_object_size(j));
		json_object_foreach(j, key, v)
		{
			(void)proto_write_str(w, key, strlen(key));
			if (write_json(w, v, depth + 1, why, why_size) < 0)
				return -EINVAL;
		}
		break;
	case JSON_ARRAY:
		(void)proto_write_array(w, json_array_size(j));
		json_array_foreach(j, i, v)
		{
			if (write_json(w, v, depth + 1, why, why_size) < 0)
				return -EINVAL;
		}
		break;
	case JSON_STRING:
		(void)proto_write_str(w, json_string_value(j),
				      json_string_length(j));
		break;
	case JSON_INTEGER:
		(void)proto_write_int(w, json_integer_value(j));
		break;
	case JSON_REAL:
		(void)proto_write_double(w, json_real_value(j));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		(void)proto_write_bool(w, json_is_true(j));
		break;
	case JSON_NULL:
		(void)proto_write_nil(w);
		break;
	}
	if (proto_writer_status(w) < 0) {
		(void)snprintf(why, why_size, "input is too large");
		return -EINVAL;
	}
	return 0;
}

int
run_json_to_msgpack(const char *text, struct proto_writer *w, char *why,
		    size_t why_size)
{
	json_error_t err;

	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			       &err);
	if (!j) {
		(void)snprintf(why, why_size, "--input is not JSON: %s (line %d, column %d)",
			       err.text, err.line, err.column);
		return -EINVAL;
	}
	int r = write_json(w, j, 0, why, why_size);
	json_decref(j);
	return r;
}

/* ---- Printing ------------------------------------------------------ */

static void
print_string(FILE *out, const char *s, size_t len)
{
	char esc[8];

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		size_t n = util_json_escape_byte((unsigned char)s[i], esc);
		(void)fwrite(esc, 1, n, out);
	}
	fputc('"', out);
}

/* Significant digits of d as an integer, correctly rounded to k digits,
 * and the decimal exponent of the first one. */
static unsigned __int128
rounded_digits(double d, int k, int *ret_exp)
{
	char buf[64];
	unsigned __int128 m = 0;

	(void)snprintf(buf, sizeof(buf), "%.*e", k - 1, d);
	for (const char *p = buf; *p != 'e'; p++) {
		if (*p >= '0' && *p <= '9')
			m = m * 10 + (unsigned)(*p - '0');
	}
	*ret_exp = atoi(strchr(buf, 'e') + 1);
	return m;
}

/* The fewest significant digits (and the exponent of the first) that
 * read back as d > 0, and among those the closest to d, a tie going to
 * the even one (ECMA-262 7.1.12.1, step 5 and the note that recommends
 * this choice). At each length the correctly
 * rounded digits and their two neighbours are tried: a neighbour may read
 * back where the rounded one does not. Closeness is measured against d
 * rounded to four more digits than the candidates have (glibc's printf
 * rounds exactly), so only a distance below 1/10000 of a unit is taken
 * for a tie. */
static void
shortest_digits(double d, char *ret_digits, int *ret_n, int *ret_exp)
{
	char buf[64];

	for (int k = 1; k <= 17; k++) {
		int e, e_fine;
		unsigned __int128 m = rounded_digits(d, k, &e);
		unsigned __int128 fine = rounded_digits(d, k + 4, &e_fine);
		int x = e - (k - 1); /* the last digit's power of ten */

		/* d in units of 10^(x - 4); a carry in the k-digit rounding
		 * moved e one up. */
		if (e_fine < e)
			fine /= 10;
		unsigned __int128 best_err = 0, best = 0;
		bool is_found = false;
		for (int delta = -1; delta <= 1; delta++) {
			if (delta < 0 && m == 0)
				continue;
			unsigned __int128 c = delta < 0 ? m - 1 : m + (unsigned)delta;
			(void)snprintf(buf, sizeof(buf), "%llue%d",
				       (unsigned long long)c, x);
			if (strtod(buf, NULL) != d)
				continue;
			unsigned __int128 units = c * 10000u;
			unsigned __int128 err = units > fine ? units - fine : fine - units;
			if (!is_found || err < best_err ||
			    (err == best_err && c % 2 == 0)) {
				best_err = err;
				best = c;
				is_found = true;
			}
		}
		if (!is_found)
			continue;
		/* A carry (99 + 1) makes one digit more. */
		int n = snprintf(ret_digits, 24, "%llu", (unsigned long long)best);
		*ret_n = n;
		*ret_exp = x + n - 1;
		return;
	}
	/* 17 digits always read back, so the loop returns. */
	int e;
	unsigned __int128 m = rounded_digits(d, 17, &e);
	*ret_n = snprintf(ret_digits, 24, "%llu", (unsigned long long)m);
	*ret_exp = e;
}

/* Prints d as JavaScript's Number.prototype.toString() does (ECMA-262,
 * 7.1.12.1): the shortest digits that read back as d, in plain notation
 * for exponents from -7 to 20 and in exponent notation otherwise. */
static void
print_double(FILE *out, double d)
{
	char digits[24];
	int exp10 = 0, n = 0;

	if (!isfinite(d)) {
		fputs("null", out);
		return;
	}
	if (d == 0) {
		fputs("0", out);
		return;
	}
	if (d < 0) {
		fputc('-', out);
		d = -d;
	}
	shortest_digits(d, digits, &n, &exp10);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';

	int point = exp10 + 1; /* digits before the decimal point */
	if (point >= n && point <= 21) {
		fputs(digits, out);
		for (int i = n; i < point; i++)
			fputc('0', out);
	} else if (point > 0 && point <= 21) {
		fprintf(out, "%.*s.%s", point, digits, digits + point);
	} else if (point > -6 && point <= 0) {
		fputs("0.", out);
		for (int i = 0; i < -point; i++)
			fputc('0', out);
		fputs(digits, out);
	} else {
		fprintf(out, "%c", digits[0]);
		if (n > 1)
			fprintf(out, ".%s", digits + 1);
		fprintf(out, "e%c%d", exp10 < 0 ? '-' : '+', abs(exp10));
	}
}

static void
print_value(FILE *out, const struct proto_value *v)
{
	size_t len, n;
	const char *s;

	switch (proto_value_kind(v)) {
	case PROTO_BOOL:
		fputs(proto_value_bool(v) ? "true" : "false", out);
		break;
	case PROTO_INT:
		fprintf(out, "%lld", (long long)proto_value_int(v));
		break;
	case PROTO_UINT:
		fprintf(out, "%llu", (unsigned long long)proto_value_uint(v));
		break;
	case PROTO_FLOAT:
		print_double(out, proto_value_double(v));
		break;
	case PROTO_STR:
		s = proto_value_str(v, &len);
		print_string(out, s, len);
		break;
	case PROTO_ARRAY:
		n = proto_value_count(v);
		fputc('[', out);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			print_value(out, proto_value_at(v, i));
		}
		fputc(']', out);
		break;
	case PROTO_MAP:
		n = proto_value_count(v);
		fputc('{', out);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', out);
			const struct proto_value *k = proto_value_key(v, i);
			s = proto_value_str(k, &len);
			print_string(out, s, len);
			fputc(':', out);
			print_value(out, proto_value_val(v, i));
		}
		fputc('}', out);
		break;
	case PROTO_NIL:
	case PROTO_UNDEFINED:
	case PROTO_UNSUPPORTED:
	default:
		fputs("null", out);
		break;
	}
}

int
run_json_print(FILE *out, const struct proto_value *v)
{
	print_value(out, v);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}
