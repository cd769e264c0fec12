/* SPDX-License-Identifier: MIT */
/*
 * Drives a fuzz target without libFuzzer, in every build: runs each file
 * of a corpus, then seeded random mutations of them until a time limit,
 * and prints the seed so that a failure can be replayed. It is not
 * coverage-guided (a clang build with -Dfuzz=true links the targets with
 * libFuzzer for that); it keeps what the corpus covers from regressing
 * and shakes the decoders with malformed neighbours of valid inputs.
 *
 *   fuzz_X CORPUS_DIR [--seconds S] [--seed N]
 *   fuzz_X --write-seeds DIR   writes the target's seed inputs as files
 * Exits 0, or dies on the first input that breaks the target.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/sys.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_INPUT_MAX (64u * 1024u)
#define FUZZ_CORPUS_MAX 256

struct corpus {
	uint8_t *items[FUZZ_CORPUS_MAX];
	size_t sizes[FUZZ_CORPUS_MAX];
	size_t count;
};

static void
add_input(const uint8_t *data, size_t size, void *arg)
{
	struct corpus *c = arg;

	if (c->count == FUZZ_CORPUS_MAX || size > FUZZ_INPUT_MAX)
		return;
	c->items[c->count] = malloc(size ? size : 1);
	if (!c->items[c->count])
		return;
	memcpy(c->items[c->count], data, size);
	c->sizes[c->count++] = size;
}

static int
load_corpus(const char *dir, struct corpus *c)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	static uint8_t buf[FUZZ_INPUT_MAX];

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char path[4096];
		if (e->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf), f);
		(void)fclose(f);
		add_input(buf, n, c);
	}
	(void)closedir(d);
	return 0;
}

/* xorshift64*: a small generator whose sequence the seed fixes. */
static uint64_t
next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

/* One to four edits of in into out: flip a bit, set a byte, drop a run,
 * repeat a run, insert random bytes, cut the end. */
static size_t
mutate(const uint8_t *in, size_t size, uint8_t *out, uint64_t *rnd)
{
	size_t n = size;
	unsigned edits = 1 + (unsigned)(next_random(rnd) % 4);

	memcpy(out, in, size);
	for (unsigned k = 0; k < edits; k++) {
		size_t at = n ? next_random(rnd) % n : 0;
		size_t run = 1 + next_random(rnd) % 16;
		switch (next_random(rnd) % 6) {
		case 0:
			if (n)
				out[at] ^= (uint8_t)(1u << (next_random(rnd) % 8));
			break;
		case 1:
			if (n)
				out[at] = (uint8_t)next_random(rnd);
			break;
		case 2:
			if (at + run > n)
				run = n - at;
			memmove(out + at, out + at + run, n - at - run);
			n -= run;
			break;
		case 3:
			if (at + run > n)
				run = n - at;
			if (n + run <= FUZZ_INPUT_MAX) {
				memmove(out + at + run, out + at, n - at);
				n += run;
			}
			break;
		case 4:
			if (n + run <= FUZZ_INPUT_MAX) {
				memmove(out + at + run, out + at, n - at);
				for (size_t i = 0; i < run; i++)
					out[at + i] = (uint8_t)next_random(rnd);
				n += run;
			}
			break;
		default:
			n = at;
			break;
		}
	}
	return n;
}

static void
write_seed(const uint8_t *data, size_t size, void *arg)
{
	static unsigned next;
	char path[4096];

	(void)snprintf(path, sizeof(path), "%s/seed-%u", (const char *)arg,
		       next++);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size)
		fprintf(stderr, "fuzz: cannot write %s\n", path);
	if (f)
		(void)fclose(f);
}

int
main(int argc, char **argv)
{
	static struct corpus c;
	static uint8_t out[FUZZ_INPUT_MAX];
	uint64_t seconds = 10, seed = (uint64_t)time(NULL);

	if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
		fuzz_seeds(write_seed, argv[2]);
		return 0;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--seconds") == 0 &&
		    util_parse_u64(argv[i + 1], 0, 86400, &seconds) == 0)
			continue;
		if (strcmp(argv[i], "--seed") == 0 &&
		    util_parse_u64(argv[i + 1], 1, UINT64_MAX, &seed) == 0)
			continue;
		fprintf(stderr, "usage: %s CORPUS_DIR [--seconds S] [--seed N]\n",
			argv[0]);
		return 2;
	}
	if (argc < 2 || load_corpus(argv[1], &c) < 0) {
		fprintf(stderr, "fuzz: no corpus at %s\n", argc > 1 ? argv[1] : "?");
		return 2;
	}
	/* The target's own seeds too: the corpus may be older than them. */
	fuzz_seeds(add_input, &c);
	printf("fuzz: %zu inputs, seed %llu, %llu s\n", c.count,
	       (unsigned long long)seed, (unsigned long long)seconds);
	fflush(stdout);
	for (size_t i = 0; i < c.count; i++)
		(void)LLVMFuzzerTestOneInput(c.items[i], c.sizes[i]);

	uint64_t rnd = seed, runs = 0;
	uint64_t end_ns = sys_now_ns() + seconds * 1000000000u;
	while (c.count > 0 && sys_now_ns() < end_ns) {
		size_t pick = next_random(&rnd) % c.count;
		size_t n = mutate(c.items[pick], c.sizes[pick], out, &rnd);
		(void)LLVMFuzzerTestOneInput(out, n);
		runs++;
	}
	printf("fuzz: %llu mutated inputs, none broke the target\n",
	       (unsigned long long)runs);
	return 0;
}
