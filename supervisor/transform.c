/* SPDX-License-Identifier: MIT */
/*
 * The transform: a pool of transform workers (beddel-worker --transform,
 * spawned by pool.c like engine workers) and a bounded cache of their
 * output, keyed by the SHA-256 of the transpiler's version, the tenant,
 * the mode and the source. Runs on the event loop of its caller.
 */
#include "supervisor/transform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/ipc.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "config.h"
#include "supervisor/pool.h"
#include "supervisor/profile.h"

#define TRANSFORM_KEY_BYTES 32
/* Chains of the cache's table; entries are bounded by bytes, not by
 * this. */
#define TRANSFORM_BUCKETS 4096
/* The part of the cache one tenant may hold: a quarter. */
#define TRANSFORM_CACHE_SHARES 4

/* The limits of one transform: the compiler parses and prints, and may
 * use far more than a script (TypeScript's own heap is about 16 MiB
 * besides; the address space follows from this cap, under
 * WORKER_LIMITS_TRANSFORM_AS_BYTES). A source that needs more gets the limit's error kind. */
static const struct profile transform_profile = {
	.name = "transform",
	/* A 100 KB source of plain declarations took more than 64 MiB. */
	.heap_limit_bytes = 160u * 1024u * 1024u,
	.timeout_ms = 10000,
	.cpu_ms = 10000,
	.instructions_max = UINT64_C(20000000000),
	.result_max_bytes = IPC_FRAME_MAX_CEILING / 4,
	.log_max_bytes = 0,
	.input_max_bytes = 0,
	.worker_rss_max_bytes = 512u * 1024u * 1024u,
	.restricted = 0,
	.is_single_use = false,
};

/* The transform of one script, cached. */
struct entry {
	TAILQ_ENTRY(entry) lru; /* most recently used first */
	struct entry *next;	/* in its bucket */
	struct entry *next_quick; /* in its quick bucket */
	uint64_t quick_key;
	uint8_t key[TRANSFORM_KEY_BYTES];
	char tenant[POOL_TENANT_MAX_BYTES + 1];
	size_t len;
	char code[]; /* len bytes and a NUL */
};

TAILQ_HEAD(entry_list, entry);

/* A submitted script, until its transform answers. */
struct pending {
	TAILQ_ENTRY(pending) link;
	struct transform *t;
	uint64_t quick_key;
	uint8_t key[TRANSFORM_KEY_BYTES];
	char tenant[POOL_TENANT_MAX_BYTES + 1];
	transform_done_fn done;
	void *owner;
};

struct transform {
	struct pool *pool;
	/* Fetched once: OpenSSL 3 looks a digest up in its provider tables
	 * on every implicit use, which cost 13 to 37 us a call in the
	 * supervisor, more than an ES5 script's whole round trip may. */
	EVP_MD *sha256;
	EVP_MD_CTX *md;
	uint64_t salt; /* mixes the quick keys into buckets */
	uint64_t cache_max_bytes;
	struct entry *buckets[TRANSFORM_BUCKETS];
	struct entry *quick_buckets[TRANSFORM_BUCKETS];
	struct entry_list lru;
	TAILQ_HEAD(pending_list, pending) pending;
	struct transform_figures figures;
};

/* The cache key: SHA-256 over the transpiler's version, the tenant, the
 * mode and the source, each length-prefixed so that no two inputs run
 * together. Returns 0 or -ENOMEM. */
static int
make_key(struct transform *t, const char *tenant, size_t tenant_len,
	 bool is_function, const char *code, size_t code_len,
	 uint8_t key[TRANSFORM_KEY_BYTES])
{
	const char *version = BEDDEL_TRANSPILER_VERSION;
	const struct {
		const void *data;
		uint64_t len;
	} parts[] = {
		{ version, strlen(version) },
		{ tenant, tenant_len },
		{ is_function ? "function" : "script", is_function ? 8 : 6 },
		{ code, code_len },
	};
	int ok = EVP_DigestInit_ex(t->md, t->sha256, NULL);

	for (size_t i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); i++) {
		ok = EVP_DigestUpdate(t->md, &parts[i].len,
				      sizeof(parts[i].len)) &&
		     EVP_DigestUpdate(t->md, parts[i].data, parts[i].len);
	}
	if (ok)
		ok = EVP_DigestFinal_ex(t->md, key, NULL);
	return ok ? 0 : -ENOMEM;
}

static struct entry **
bucket_of(struct transform *t, const uint8_t key[TRANSFORM_KEY_BYTES])
{
	uint32_t h;

	/* The key is a digest: any four bytes of it are evenly spread. */
	memcpy(&h, key, sizeof(h));
	return &t->buckets[h % TRANSFORM_BUCKETS];
}

static struct entry *
find_entry(struct transform *t, const uint8_t key[TRANSFORM_KEY_BYTES])
{
	for (struct entry *e = *bucket_of(t, key); e; e = e->next) {
		if (memcmp(e->key, key, TRANSFORM_KEY_BYTES) == 0)
			return e;
	}
	return NULL;
}

static size_t
entry_cost(const struct entry *e)
{
	return sizeof(*e) + e->len + 1;
}

/* The quick key is a hash with a fixed seed, whose low bits a tenant
 * could choose; mixed with a secret of this process, it cannot crowd one
 * bucket on purpose. */
static struct entry **
quick_bucket_of(struct transform *t, uint64_t quick_key)
{
	uint64_t h = (quick_key ^ t->salt) * UINT64_C(0x9e3779b97f4a7c15);

	return &t->quick_buckets[(h >> 32) % TRANSFORM_BUCKETS];
}

static bool
has_quick_key(struct transform *t, uint64_t quick_key)
{
	for (struct entry *e = *quick_bucket_of(t, quick_key); e;
	     e = e->next_quick) {
		if (e->quick_key == quick_key)
			return true;
	}
	return false;
}

static void
remove_entry(struct transform *t, struct entry *e)
{
	struct entry **at = bucket_of(t, e->key);

	while (*at != e)
		at = &(*at)->next;
	*at = e->next;
	at = quick_bucket_of(t, e->quick_key);
	while (*at != e)
		at = &(*at)->next_quick;
	*at = e->next_quick;
	TAILQ_REMOVE(&t->lru, e, lru);
	t->figures.cache_entries--;
	t->figures.cache_bytes -= entry_cost(e);
	free(e);
}

/* The bytes tenant's entries hold. */
static size_t
tenant_bytes(struct transform *t, const char *tenant)
{
	size_t bytes = 0;
	struct entry *e;

	TAILQ_FOREACH(e, &t->lru, lru)
	{
		if (strcmp(e->tenant, tenant) == 0)
			bytes += entry_cost(e);
	}
	return bytes;
}

/* Drops tenant's least recently used entries until it holds at most
 * max_bytes: one walk from the old end. */
static void
trim_tenant(struct transform *t, const char *tenant, size_t max_bytes)
{
	size_t bytes = tenant_bytes(t, tenant);
	struct entry *e = TAILQ_LAST(&t->lru, entry_list);

	while (e && bytes > max_bytes) {
		struct entry *prev = TAILQ_PREV(e, entry_list, lru);
		if (strcmp(e->tenant, tenant) == 0) {
			bytes -= entry_cost(e);
			remove_entry(t, e);
			t->figures.cache_evictions++;
		}
		e = prev;
	}
}

/* Keeps code under key for tenant. A tenant holds at most a
 * TRANSFORM_CACHE_SHARES-th of the cache, making room among its own
 * entries first, so that one tenant's flood of scripts cannot empty the
 * cache of the others' (it can take at most that share from them).
 * Past the whole cache, the least recently used entries go. A transform
 * larger than a share is not kept. */
static void
cache_put(struct transform *t, uint64_t quick_key, const char *tenant,
	  const uint8_t key[TRANSFORM_KEY_BYTES], const char *code, size_t len)
{
	size_t share = t->cache_max_bytes / TRANSFORM_CACHE_SHARES;

	if (find_entry(t, key) || sizeof(struct entry) + len + 1 > share)
		return;
	struct entry *e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return;
	memcpy(e->key, key, TRANSFORM_KEY_BYTES);
	e->quick_key = quick_key;
	(void)snprintf(e->tenant, sizeof(e->tenant), "%s", tenant);
	e->len = len;
	memcpy(e->code, code, len);
	e->code[len] = '\0';
	trim_tenant(t, tenant, share - entry_cost(e));
	while (t->figures.cache_bytes + entry_cost(e) > t->cache_max_bytes) {
		remove_entry(t, TAILQ_LAST(&t->lru, entry_list));
		t->figures.cache_evictions++;
	}
	struct entry **at = bucket_of(t, key);
	e->next = *at;
	*at = e;
	at = quick_bucket_of(t, quick_key);
	e->next_quick = *at;
	*at = e;
	TAILQ_INSERT_HEAD(&t->lru, e, lru);
	t->figures.cache_entries++;
	t->figures.cache_bytes += entry_cost(e);
}

bool
transform_cache_get(struct transform *t, uint64_t quick_key,
		    const char *tenant, size_t tenant_len, bool is_function,
		    const char *code, size_t code_len, const char **ret_code,
		    size_t *ret_len)
{
	uint8_t key[TRANSFORM_KEY_BYTES];

	/* Most scripts are ES5 and never cached: they stop at the quick
	 * key, without a digest. */
	if (!has_quick_key(t, quick_key) ||
	    make_key(t, tenant, tenant_len, is_function, code, code_len, key) < 0)
		return false;
	struct entry *e = find_entry(t, key);
	if (!e)
		return false;
	TAILQ_REMOVE(&t->lru, e, lru);
	TAILQ_INSERT_HEAD(&t->lru, e, lru);
	t->figures.cache_hits++;
	*ret_code = e->code;
	*ret_len = e->len;
	return true;
}

/* The transform pool's answer for one script. */
static void
on_transformed(void *owner, const struct proto_result *res)
{
	struct pending *pd = owner;
	struct transform *t = pd->t;

	TAILQ_REMOVE(&t->pending, pd, link);
	t->figures.transforms++;
	bool is_lowered = res->outcome == OUTCOME_OK &&
			  proto_value_kind(res->value) == PROTO_STR;
	if (is_lowered) {
		size_t len;
		const char *code = proto_value_str(res->value, &len);
		cache_put(t, pd->quick_key, pd->tenant, pd->key, code, len);
	} else {
		t->figures.failures++;
	}
	/* Code that is not a string is the transform worker's fault, and
	 * no program to run. */
	if (res->outcome == OUTCOME_OK && !is_lowered) {
		struct proto_result bad = proto_result_error(
			res->has_id, res->id, OUTCOME_INTERNAL,
			"the transform answered without code");
		pd->done(pd->owner, &bad);
		free(pd);
		return;
	}
	log_debug("transform: done outcome=%s exec_us=%llu",
		  outcome_name(res->outcome),
		  (unsigned long long)res->stats.exec_us);
	if (res->outcome == OUTCOME_OK || res->outcome == OUTCOME_SYNTAX_ERROR) {
		pd->done(pd->owner, res);
		free(pd);
		return;
	}
	/* The compiler failed otherwise: its own error (internal, from a
	 * transform worker) tells the client that the script is not ES5.1
	 * and could not be lowered; a limit keeps its kind, and so does the
	 * pool's own failure (no worker could start: no worker pid). The
	 * worker that failed was replaced either way. */
	char text[512];
	struct proto_result out = *res;
	if (res->outcome == OUTCOME_INTERNAL && res->stats.worker_pid != 0)
		out.outcome = OUTCOME_SYNTAX_ERROR;
	(void)snprintf(text, sizeof(text), "%s: %.*s",
		       out.outcome == OUTCOME_SYNTAX_ERROR ?
			       "the script is not ES5.1, and the transform failed on it" :
			       "transforming the script to ES5.1 failed",
		       res->message ? (int)util_utf8_cut(res->message,
							  res->message_len, 400) :
				      0,
		       res->message ? res->message : "");
	out.message = text;
	out.message_len = strlen(text);
	out.stack = NULL;
	out.stack_len = 0;
	pd->done(pd->owner, &out);
	free(pd);
}

int
transform_submit(struct transform *t, uint64_t quick_key, const char *tenant,
		 size_t tenant_len, bool is_function, const char *code,
		 size_t code_len, transform_done_fn done, void *owner,
		 char *why, size_t why_size)
{
	struct pending *pd = calloc(1, sizeof(*pd));
	int r;

	if (!pd) {
		(void)snprintf(why, why_size, "the supervisor is out of memory");
		return -ENOMEM;
	}
	r = make_key(t, tenant, tenant_len, is_function, code, code_len,
		     pd->key);
	if (r < 0) {
		free(pd);
		(void)snprintf(why, why_size, "the supervisor is out of memory");
		return r;
	}
	pd->t = t;
	pd->quick_key = quick_key;
	(void)snprintf(pd->tenant, sizeof(pd->tenant), "%.*s",
		       (int)tenant_len, tenant);
	pd->done = done;
	pd->owner = owner;

	const struct proto_exec req = {
		.code = code,
		.code_len = code_len,
		.is_function = is_function,
		.tenant = tenant,
		.tenant_len = tenant_len,
		.profile = transform_profile.name,
		.profile_len = strlen(transform_profile.name),
	};
	/* Listed before the call: the pool may answer within it (no
	 * transform worker could start), and on_transformed() then takes
	 * pd off the list and frees it. */
	TAILQ_INSERT_TAIL(&t->pending, pd, link);
	t->figures.cache_misses++;
	r = pool_submit(t->pool, &req, on_transformed, pd, why, why_size);
	if (r < 0) {
		TAILQ_REMOVE(&t->pending, pd, link);
		t->figures.cache_misses--;
		free(pd);
	}
	return r;
}

void
transform_cancel(struct transform *t, void *owner)
{
	struct pending *pd, *next;

	TAILQ_FOREACH_SAFE(pd, &t->pending, link, next)
	{
		if (pd->owner != owner)
			continue;
		pool_cancel_owner(t->pool, pd);
		TAILQ_REMOVE(&t->pending, pd, link);
		free(pd);
	}
}

struct transform *
transform_new(struct event_base *base, const struct transform_config *cfg)
{
	struct pool_config pc;

	struct transform *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	TAILQ_INIT(&t->lru);
	TAILQ_INIT(&t->pending);
	t->cache_max_bytes = cfg->cache_max_bytes;
	t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	t->md = EVP_MD_CTX_new();
	if (!t->sha256 || !t->md ||
	    RAND_bytes((unsigned char *)&t->salt, sizeof(t->salt)) != 1) {
		transform_free(t);
		return NULL;
	}

	pool_config_defaults(&pc);
	pc.worker_path = cfg->worker_path;
	pc.is_transform = true;
	pc.is_namespaces_off = cfg->is_namespaces_off;
	pc.min_workers = 1;
	pc.max_workers = cfg->max_workers > 0 ? cfg->max_workers : 1;
	/* The pool's own ceiling (64 MiB by default) is for engine workers;
	 * the compiler alone is a third of it. */
	pc.worker_rss_max_bytes = transform_profile.worker_rss_max_bytes;
	if (cfg->quarantine_strikes > 0)
		pc.quarantine_strikes = cfg->quarantine_strikes;
	if (cfg->quarantine_window_ms > 0)
		pc.quarantine_window_ms = cfg->quarantine_window_ms;
	pc.profiles.items[0] = transform_profile;
	pc.profiles.count = 1;
	pc.profiles.default_index = 0;
	/* The pool keeps between one and max_workers transform workers by
	 * demand alone: no sizing policy, no memory budget of its own (the
	 * worker count bounds it). */
	pc.scale_interval_ms = 0;
	pc.memory_budget_bytes = 0;
	pc.slow_ms = 0;
	t->pool = pool_new(base, &pc);
	if (!t->pool) {
		transform_free(t);
		return NULL;
	}
	return t;
}

int
transform_start(struct transform *t)
{
	return pool_start(t->pool);
}

void
transform_get_figures(const struct transform *t, struct transform_figures *ret)
{
	struct pool_figures pf;

	*ret = t->figures;
	pool_get_figures(t->pool, &pf);
	ret->workers = pf.workers;
}

void
transform_free(struct transform *t)
{
	struct pending *pd, *next_pd;

	if (!t)
		return;
	pool_free(t->pool);
	EVP_MD_CTX_free(t->md);
	EVP_MD_free(t->sha256);
	TAILQ_FOREACH_SAFE(pd, &t->pending, link, next_pd)
		free(pd);
	while (!TAILQ_EMPTY(&t->lru))
		remove_entry(t, TAILQ_FIRST(&t->lru));
	free(t);
}
