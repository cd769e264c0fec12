/* SPDX-License-Identifier: MIT */
/*
 * Pure helpers. The transcoders read untrusted bytes (client input on the
 * way in, script output on the way out) and must never read past len or
 * write past the capacity their header promises.
 */
#include "common/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one well-formed UTF-8 sequence at s[0..len). Returns its length
 * and sets *cp, or returns 0 if the bytes there are not a character. When
 * allow_surrogates is set, 3-byte encodings of U+D800..U+DFFF are
 * accepted (the engine's CESU-8 halves). */
static size_t
decode_utf8(const unsigned char *s, size_t len, bool allow_surrogates,
	    uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff)
		return 0;
	if (!allow_surrogates && v >= 0xd800 && v <= 0xdfff)
		return 0;
	*cp = v;
	return n;
}

static size_t
encode_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

bool
util_utf8_is_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t n = decode_utf8(p + i, len - i, false, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
util_utf8_to_cesu8(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	uint32_t cp;

	while (i < len) {
		size_t n = decode_utf8(p + i, len - i, false, &cp);
		if (n == 0) {
			/* Callers validate first; keep the byte rather than
			 * lose track of the input. */
			out[o++] = (char)p[i++];
			continue;
		}
		if (cp < 0x10000) {
			memcpy(out + o, p + i, n);
			o += n;
		} else {
			cp -= 0x10000;
			o += encode_utf8(0xd800 + (cp >> 10), out + o);
			o += encode_utf8(0xdc00 + (cp & 0x3ff), out + o);
		}
		i += n;
	}
	return o;
}

size_t
util_engine_to_utf8(const char *in, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;
	uint32_t cp, low;

	while (i < len) {
		size_t n = decode_utf8(p + i, len - i, true, &cp);
		if (n == 0) {
			o += encode_utf8(0xfffd, out + o);
			i++;
			continue;
		}
		i += n;
		if (cp < 0xd800 || cp > 0xdfff) {
			o += encode_utf8(cp, out + o);
			continue;
		}
		/* A high surrogate followed by a low one is one character;
		 * any other surrogate stands alone and is replaced. */
		size_t m = 0;
		if (cp <= 0xdbff && i < len)
			m = decode_utf8(p + i, len - i, true, &low);
		if (m == 3 && low >= 0xdc00 && low <= 0xdfff) {
			i += m;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			o += encode_utf8(cp, out + o);
		} else {
			o += encode_utf8(0xfffd, out + o);
		}
	}
	return o;
}

size_t
util_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* Back off over continuation bytes to the start of a character. */
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void
util_quote_for_log(const char *s, size_t len, char *out, size_t out_size)
{
	size_t o = 0;
	bool cut = len > UTIL_LOG_QUOTE_MAX;

	if (out_size == 0)
		return;
	if (cut)
		len = UTIL_LOG_QUOTE_MAX;

	/* Each step below needs at most 4 bytes, plus 5 for the end. */
	if (o + 9 < out_size)
		out[o++] = '\'';
	for (size_t i = 0; i < len && o + 9 < out_size; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
			(void)snprintf(out + o, out_size - o, "\\x%02x", c);
			o += 4;
		} else {
			out[o++] = (char)c;
		}
	}
	if (cut && o + 8 < out_size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	if (o + 1 < out_size)
		out[o++] = '\'';
	out[o] = '\0';
}

/* The nearest rank of q among n > 0 values, as an index. */
static size_t
rank_index(size_t n, double q)
{
	if (q <= 0)
		return 0;
	size_t rank = (size_t)ceil(q * (double)n);
	if (rank < 1)
		rank = 1;
	return (rank > n ? n : rank) - 1;
}

uint64_t
util_quantile_sorted(const uint64_t *sorted, size_t n, double q)
{
	if (n == 0)
		return 0;
	return sorted[rank_index(n, q)];
}

static void
swap_u64(uint64_t *a, uint64_t *b)
{
	uint64_t t = *a;

	*a = *b;
	*b = t;
}

static uint64_t
median_of_three(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b)
		swap_u64(&a, &b);
	if (b > c)
		b = c;
	return a > b ? a : b;
}

/* Passes over a range of n values after which it is sorted instead:
 * selection about halves the range each pass on ordinary inputs, so only
 * an order built against the pivot rule gets here, and then the whole
 * costs no more than a few sorts. */
static unsigned
select_passes_max(size_t n)
{
	unsigned bits = 0;

	for (; n > 0; n >>= 1)
		bits++;
	return 2 * bits + 4;
}

/* Puts the value of rank k (0-based) of v[lo, hi) at v[k], with none
 * greater before it and none smaller after it. Each pass splits the range
 * three ways (smaller, equal to, greater than a pivot), so runs of equal
 * values, common in timings, cost one pass. */
static void
select_rank(uint64_t *v, size_t lo, size_t hi, size_t k)
{
	unsigned passes_max = select_passes_max(hi - lo);

	for (unsigned pass = 0; hi - lo > 1; pass++) {
		if (pass == passes_max) {
			util_sort_u64(v + lo, hi - lo);
			return;
		}
		uint64_t pivot = median_of_three(v[lo], v[lo + (hi - lo) / 2],
						 v[hi - 1]);
		size_t lt = lo, i = lo, gt = hi;
		while (i < gt) {
			if (v[i] < pivot)
				swap_u64(&v[lt++], &v[i++]);
			else if (v[i] > pivot)
				swap_u64(&v[i], &v[--gt]);
			else
				i++;
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return;
	}
}

void
util_quantiles(uint64_t *values, size_t n, const double *qs, size_t count,
	       uint64_t *out)
{
	size_t lo = 0;

	for (size_t i = 0; i < count; i++) {
		if (n == 0) {
			out[i] = 0;
			continue;
		}
		/* Each rank is found among the values at or after the
		 * previous one, which selection left in place. */
		size_t k = rank_index(n, qs[i]);
		if (k < lo)
			lo = 0; /* qs out of order: search everything */
		select_rank(values, lo, n, k);
		out[i] = values[k];
		lo = k;
	}
}

uint64_t
util_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

struct timeval
util_timeval_from_ms(uint64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000),
			      .tv_usec = (suseconds_t)(ms % 1000 * 1000) };
	return tv;
}

static int
compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
util_sort_u64(uint64_t *values, size_t n)
{
	qsort(values, n, sizeof(*values), compare_u64);
}

static int
compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
util_sort_double(double *values, size_t n)
{
	qsort(values, n, sizeof(*values), compare_double);
}

int
util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret_value)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret_value = v;
	return 0;
}

size_t
util_json_escape_byte(unsigned char c, char buf[8])
{
	static const char hex[] = "0123456789abcdef";
	const char *esc = c == '"'  ? "\\\"" :
			  c == '\\' ? "\\\\" :
			  c == '\n' ? "\\n" :
			  c == '\r' ? "\\r" :
			  c == '\t' ? "\\t" :
				      NULL;

	if (esc) {
		memcpy(buf, esc, 3);
		return 2;
	}
	if (c < 0x20) {
		memcpy(buf, "\\u00", 4);
		buf[4] = hex[c >> 4];
		buf[5] = hex[c & 15];
		buf[6] = '\0';
		return 6;
	}
	buf[0] = (char)c;
	buf[1] = '\0';
	return 1;
}

void
util_join_bits(unsigned mask, unsigned count, const char *(*name)(unsigned),
	       char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < count; i++) {
		if (!(mask & (1u << i)))
			continue;
		int m = snprintf(buf + n, size - n, "%s%s", n ? "," : "",
				 name(i));
		if (m < 0 || (size_t)m >= size - n)
			return;
		n += (size_t)m;
	}
}
