/* Digest-keyed map with a FIFO size cap; a mutex guards only the index. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "common/cache.h"
#include "common/util.h"

typedef struct entry {
	uint8_t key[32];
	cocoon_ref *value;
	time_t valid_from, valid_until;
	struct entry *next;          /* bucket chain */
	struct entry *older, *newer; /* insertion order, for eviction */
} entry;

struct cocoon_cache {
	pthread_mutex_t lock;
	entry **buckets;
	size_t n_buckets, count, max_entries;
	entry *oldest, *newest;
	atomic_uint_fast64_t hits, misses;
};

int cocoon_cache_new(cocoon_cache **out, size_t max_entries)
{
	cocoon_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory creating a cache");
	c->max_entries = max_entries ? max_entries : 4096;
	c->n_buckets = 16;
	while (c->n_buckets < c->max_entries)
		c->n_buckets <<= 1;
	if (!(c->buckets = calloc(c->n_buckets, sizeof(entry *)))) {
		free(c);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory creating a cache");
	}
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static size_t bucket_of(const cocoon_cache *c, const uint8_t key[32])
{
	uint64_t h;
	memcpy(&h, key, sizeof(h)); /* keys are SHA-256 digests: already uniform */
	return (size_t)(h & (c->n_buckets - 1));
}

/* Unlinks e from both lists; the caller holds the lock and drops the reference. */
static void unlink_entry(cocoon_cache *c, entry *e)
{
	entry **pp = &c->buckets[bucket_of(c, e->key)];
	while (*pp && *pp != e)
		pp = &(*pp)->next;
	if (*pp)
		*pp = e->next;
	if (e->older)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->count--;
}

void cocoon_cache_clear(cocoon_cache *c)
{
	entry *e, *next;
	pthread_mutex_lock(&c->lock);
	for (e = c->oldest; e; e = next) {
		next = e->newer;
		cocoon_ref_put(e->value);
		free(e);
	}
	memset(c->buckets, 0, c->n_buckets * sizeof(entry *));
	c->oldest = c->newest = NULL;
	c->count = 0;
	pthread_mutex_unlock(&c->lock);
}

void cocoon_cache_free(cocoon_cache *c)
{
	if (!c)
		return;
	cocoon_cache_clear(c);
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

cocoon_ref *cocoon_cache_get(cocoon_cache *c, const uint8_t key[32], time_t at)
{
	cocoon_ref *value = NULL;
	pthread_mutex_lock(&c->lock);
	for (entry *e = c->buckets[bucket_of(c, key)]; e; e = e->next) {
		if (memcmp(e->key, key, 32) == 0) {
			if (at >= e->valid_from && at <= e->valid_until) {
				cocoon_ref_get(e->value);
				value = e->value;
			}
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(value ? &c->hits : &c->misses, 1);
	return value;
}

int cocoon_cache_put(cocoon_cache *c, const uint8_t key[32], cocoon_ref *value, time_t valid_from,
                     time_t valid_until)
{
	entry *e = calloc(1, sizeof(*e)), *old;
	size_t b;
	if (!e)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory adding a cache entry");
	memcpy(e->key, key, 32);
	cocoon_ref_get(value);
	e->value = value;
	e->valid_from = valid_from;
	e->valid_until = valid_until;

	pthread_mutex_lock(&c->lock);
	b = bucket_of(c, key);
	for (old = c->buckets[b]; old; old = old->next)
		if (memcmp(old->key, key, 32) == 0)
			break;
	if (!old && c->count >= c->max_entries)
		old = c->oldest;
	if (old) {
		unlink_entry(c, old);
		cocoon_ref_put(old->value);
		free(old);
	}
	e->next = c->buckets[b];
	c->buckets[b] = e;
	e->older = c->newest;
	if (c->newest)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

size_t cocoon_cache_count(cocoon_cache *c)
{
	size_t n;
	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void cocoon_cache_counters(cocoon_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = atomic_load(&c->hits);
	*misses = atomic_load(&c->misses);
}
