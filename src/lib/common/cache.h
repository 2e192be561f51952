/*
 * A small thread-safe map from a 32-byte digest to an immutable, refcounted
 * value that is valid only inside a time window. Values embed a cocoon_ref
 * as their first member; they are never mutated after insertion, so
 * readers share them without further locking.
 */
#ifndef COCOON_CACHE_H
#define COCOON_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef struct cocoon_ref {
	atomic_int count;
	void (*destroy)(struct cocoon_ref *self);
} cocoon_ref;

static inline void cocoon_ref_init(cocoon_ref *r, void (*destroy)(cocoon_ref *))
{
	atomic_init(&r->count, 1);
	r->destroy = destroy;
}
static inline void cocoon_ref_get(cocoon_ref *r) { atomic_fetch_add(&r->count, 1); }
static inline void cocoon_ref_put(cocoon_ref *r)
{
	if (r && atomic_fetch_sub(&r->count, 1) == 1)
		r->destroy(r);
}

typedef struct cocoon_cache cocoon_cache;

int cocoon_cache_new(cocoon_cache **out, size_t max_entries);
void cocoon_cache_free(cocoon_cache *c);
void cocoon_cache_clear(cocoon_cache *c);

/* A new reference to the value under key when valid_from <= at <= valid_until, else NULL. */
cocoon_ref *cocoon_cache_get(cocoon_cache *c, const uint8_t key[32], time_t at);
/* Stores a new reference to value under key, replacing any older entry; evicts
 * an arbitrary entry of the same bucket chain or the oldest when full. */
int cocoon_cache_put(cocoon_cache *c, const uint8_t key[32], cocoon_ref *value, time_t valid_from,
                     time_t valid_until);
size_t cocoon_cache_count(cocoon_cache *c);
void cocoon_cache_counters(cocoon_cache *c, uint64_t *hits, uint64_t *misses);

#endif
