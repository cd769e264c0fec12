/* SPDX-License-Identifier: MIT */
/*
 * Pure helpers: no syscalls, no globals. Text transcoding between the
 * protocol's UTF-8 and the engine's internal form, log quoting, and
 * order statistics.
 */
#ifndef BEDDEL_COMMON_UTIL_H
#define BEDDEL_COMMON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#define UTIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* glibc's <sys/queue.h> lacks the BSD macro that allows removing the
 * current element while iterating. */
#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)                            \
	for ((var) = TAILQ_FIRST(head);                                       \
	     (var) && ((tvar) = TAILQ_NEXT(var, field), 1); (var) = (tvar))
#endif
#ifndef TAILQ_FOREACH_REVERSE_SAFE
#define TAILQ_FOREACH_REVERSE_SAFE(var, head, headname, field, tvar)          \
	for ((var) = TAILQ_LAST(head, headname);                              \
	     (var) && ((tvar) = TAILQ_PREV(var, headname, field), 1);         \
	     (var) = (tvar))
#endif

/* Longest user-derived string a log line shows, before quoting. */
#define UTIL_LOG_QUOTE_MAX 64

/* True when s[0..len) is well-formed UTF-8: shortest forms only, no
 * surrogate code points, nothing above U+10FFFF. */
bool util_utf8_is_valid(const char *s, size_t len);

/* Bytes util_utf8_to_cesu8() may write for len bytes of input. */
#define UTIL_CESU8_CAPACITY(len) ((len) / 2 * 3 + 4)

/* Rewrites valid UTF-8 so that every code point above U+FFFF becomes a
 * surrogate pair of two 3-byte sequences (CESU-8), the form in which the
 * engine stores JavaScript strings. out must hold UTIL_CESU8_CAPACITY(len)
 * bytes. Returns the bytes written. */
size_t util_utf8_to_cesu8(const char *in, size_t len, char *out);

/* Bytes util_engine_to_utf8() may write for len bytes of input. */
#define UTIL_UTF8_CAPACITY(len) ((len) * 3)

/* Turns an engine string (any bytes: CESU-8 pairs, lone surrogates,
 * invalid sequences) into well-formed UTF-8: pairs are joined into one
 * 4-byte sequence and anything that is not a character becomes U+FFFD.
 * out must hold UTIL_UTF8_CAPACITY(len) bytes. Returns the bytes written. */
size_t util_engine_to_utf8(const char *in, size_t len, char *out);

/* The longest prefix of UTF-8 text s[0..len) of at most max bytes that
 * does not end inside a character. */
size_t util_utf8_cut(const char *s, size_t len, size_t max);

/* Writes s as a single-quoted log field: at most UTIL_LOG_QUOTE_MAX input
 * bytes, control bytes, quotes and backslashes escaped as \xNN, "..."
 * after a cut. out_size of 4 * UTIL_LOG_QUOTE_MAX + 8 always suffices;
 * the result is always NUL-terminated. */
void util_quote_for_log(const char *s, size_t len, char *out, size_t out_size);

/* The q-quantile (0 <= q <= 1) of n sorted values, nearest-rank. Returns
 * 0 for n == 0. */
uint64_t util_quantile_sorted(const uint64_t *sorted, size_t n, double q);

/* The same quantiles of n unsorted values, for each of the count qs
 * (ascending), into out, found by selection rather than by a sort: in
 * time proportional to n on ordinary inputs, and never much worse than a
 * sort, for figures computed while clients wait. Reorders values. */
void util_quantiles(uint64_t *values, size_t n, const double *qs,
		    size_t count, uint64_t *out);

/* Writes the names of the bits set in mask (bit i named name(i), for i
 * below count), joined by commas, into buf; "" when none is set. */
void util_join_bits(unsigned mask, unsigned count, const char *(*name)(unsigned),
		    char *buf, size_t size);

/* The JSON form of byte c inside a string: c itself, or its escape
 * (\" \\ \n \r \t, \u00XX for other control bytes). Writes at most
 * 6 bytes and a NUL into buf; returns the length. Bytes of UTF-8
 * sequences pass as they are. */
size_t util_json_escape_byte(unsigned char c, char buf[8]);

/* Parses a whole decimal number in [min, max]. Returns 0, -EINVAL for
 * anything but digits, or -ERANGE outside the bounds (ret_value untouched). */
int util_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret_value);

/* A 64-bit FNV-1a hash of len bytes, continuing from seed (start with
 * UTIL_HASH_SEED). For bucketing only: it is not a cryptographic hash, and
 * nothing may rely on collisions being hard to find. */
#define UTIL_HASH_SEED 0xcbf29ce484222325ull
uint64_t util_hash64(const void *data, size_t len, uint64_t seed);

/* ms milliseconds as a struct timeval, for timers. */
struct timeval util_timeval_from_ms(uint64_t ms);

/* Sorts n values ascending. */
void util_sort_u64(uint64_t *values, size_t n);

/* Sorts n doubles ascending (no NaN among them). */
void util_sort_double(double *values, size_t n);

#endif
