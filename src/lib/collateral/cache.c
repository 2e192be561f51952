/*
 * The collateral cache: entries in memory, mirrored to an optional
 * directory (one JSON file per entry, loaded when the cache is opened) so
 * that the CLI's fetches outlive the process and an offline machine can be
 * given imported collateral. DCAP entries are keyed by TEE + FMSPC + update
 * type, SNP items by their KDS URL. Each entry carries the time it stops
 * being fresh (the earliest nextUpdate inside it, or Cache-Control), and an
 * expired entry is never returned as fresh: the caller refetches or fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>
#include "cocoon/collateral.h"
#include "common/util.h"
#include "dcap/collateral.h"
#include "collateral/internal.h"

typedef struct entry {
	struct entry *next;
	int is_dcap;
	char *key;
	time_t expires;
	cocoon_collateral *coll;
	uint8_t *blob;
	size_t blob_len;
} entry;

struct cocoon_collateral_cache {
	char *dir;
	entry *entries;
};

static void entry_free(entry *e)
{
	if (!e)
		return;
	free(e->key);
	cocoon_collateral_free(e->coll);
	free(e->blob);
	free(e);
}

void cocoon_collateral_cache_free(cocoon_collateral_cache *c)
{
	if (!c)
		return;
	while (c->entries) {
		entry *e = c->entries;
		c->entries = e->next;
		entry_free(e);
	}
	free(c->dir);
	free(c);
}

/* Replaces any entry with the same key; takes e. */
static void insert(cocoon_collateral_cache *c, entry *e)
{
	for (entry **p = &c->entries; *p; p = &(*p)->next) {
		if (strcmp((*p)->key, e->key) == 0) {
			entry *old = *p;
			e->next = old->next;
			*p = e;
			entry_free(old);
			return;
		}
	}
	e->next = c->entries;
	c->entries = e;
}

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	json_t *v;

	if (!h)
		return NULL;
	cocoon_hex_encode(h, p, n);
	v = json_stringn(h, 2 * n);
	free(h);
	return v;
}

/* The vectors' collateral.json layout, which cocoon_collateral_from_json reads back byte for byte. */
static json_t *coll_json(const cocoon_collateral *k)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	set(&bad, o, "pck_crl_issuer_chain", json_stringn(k->pck_crl_issuer_chain, k->pck_crl_issuer_chain_len));
	set(&bad, o, "root_ca_crl", hex_json(k->root_ca_crl, k->root_ca_crl_len));
	set(&bad, o, "pck_crl", hex_json(k->pck_crl, k->pck_crl_len));
	set(&bad, o, "tcb_info_issuer_chain", json_stringn(k->tcb_info_issuer_chain, k->tcb_info_issuer_chain_len));
	set(&bad, o, "tcb_info", json_stringn(k->tcb_info, k->tcb_info_len));
	set(&bad, o, "tcb_info_signature", hex_json(k->tcb_info_signature, 64));
	set(&bad, o, "qe_identity_issuer_chain",
	    json_stringn(k->qe_identity_issuer_chain, k->qe_identity_issuer_chain_len));
	set(&bad, o, "qe_identity", json_stringn(k->qe_identity, k->qe_identity_len));
	set(&bad, o, "qe_identity_signature", hex_json(k->qe_identity_signature, 64));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void earliest(time_t *t, time_t cand)
{
	if (cand > 0 && (*t == 0 || cand < *t))
		*t = cand;
}

static time_t crl_next(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509_CRL *crl = len <= 0x7fffffff ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	const ASN1_TIME *nu = crl ? X509_CRL_get0_nextUpdate(crl) : NULL;
	struct tm tm;
	time_t t = 0;

	if (nu && ASN1_TIME_to_tm(nu, &tm) == 1)
		t = timegm(&tm);
	X509_CRL_free(crl);
	return t;
}

/* The earliest nextUpdate inside the collateral; 0 when none can be read (then it is never fresh). */
static time_t coll_expiry(const cocoon_collateral *k)
{
	char tee[4], fmspc[13];
	time_t t = 0, tcb = 0, qe = 0;
	json_t *q = json_loadb(k->qe_identity, k->qe_identity_len, 0, NULL);
	const char *nu = q ? json_string_value(json_object_get(q, "nextUpdate")) : NULL;

	if (cocoon_collateral_describe(tee, fmspc, &tcb, k) != 0 || tcb == 0 || !nu || cocoon_time_parse(&qe, nu) != 0) {
		json_decref(q);
		return 0;
	}
	json_decref(q);
	earliest(&t, tcb);
	earliest(&t, qe);
	earliest(&t, crl_next(k->pck_crl, k->pck_crl_len));
	earliest(&t, crl_next(k->root_ca_crl, k->root_ca_crl_len));
	return t;
}

static int dcap_key(char **out, const char *tee, const char *fmspc, const char *update)
{
	if (asprintf(out, "dcap-%s-%s-%s", tee, fmspc, update ? update : "standard") < 0) {
		*out = NULL;
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	return 0;
}

/* File name of a key: DCAP keys are safe as they are; blob keys (URLs) become their SHA-256. */
static int entry_path(char **out, const cocoon_collateral_cache *c, const entry *e)
{
	char name[80];

	if (e->is_dcap)
		snprintf(name, sizeof(name), "%.60s.json", e->key);
	else {
		uint8_t d[32];
		const void *parts[1] = { e->key };
		const size_t lens[1] = { strlen(e->key) };
		if (cocoon_sha256(d, 1, parts, lens) != 0)
			return COCOON_EINTERNAL;
		memcpy(name, "blob-", 5);
		cocoon_hex_encode(name + 5, d, 16);
		strcpy(name + 37, ".json");
	}
	if (asprintf(out, "%s/%s", c->dir, name) < 0) {
		*out = NULL;
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	return 0;
}

static int entry_save(cocoon_collateral_cache *c, const entry *e)
{
	json_t *o;
	char *path = NULL, *text = NULL;
	int bad, err;

	if (!c->dir)
		return 0;
	o = json_object();
	bad = !o;
	if (o) {
		set(&bad, o, "kind", json_string(e->is_dcap ? "dcap" : "blob"));
		set(&bad, o, "key", json_string(e->key));
		set(&bad, o, "expires", json_integer((json_int_t)e->expires));
		set(&bad, o, "data", e->is_dcap ? coll_json(e->coll) : hex_json(e->blob, e->blob_len));
	}
	if (bad || !(text = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		return cocoon_error_set(COCOON_ENOMEM, "collateral cache: out of memory");
	}
	json_decref(o);
	if ((err = entry_path(&path, c, e)) == 0 && (err = cocoon_file_write(path, (uint8_t *)text, strlen(text))) != 0)
		err = cocoon_error_set(err, "collateral cache %s: %s", c->dir, cocoon_error_last()->message);
	free(path);
	free(text);
	return err;
}

static int entry_load(entry **out, const char *path)
{
	uint8_t *text = NULL;
	size_t len;
	json_t *o = NULL, *data;
	entry *e = NULL;
	const char *kind, *key;
	int err;

	*out = NULL;
	if ((err = cocoon_file_read(&text, &len, path)) != 0)
		return err;
	o = json_loadb((char *)text, len, 0, NULL);
	kind = json_string_value(json_object_get(o, "kind"));
	key = json_string_value(json_object_get(o, "key"));
	data = json_object_get(o, "data");
	if (!kind || !key || !data || !json_is_integer(json_object_get(o, "expires"))) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral cache entry %s: not a cocoon cache entry", path);
		goto done;
	}
	if (!(e = calloc(1, sizeof(*e))) || !(e->key = strdup(key))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	e->expires = (time_t)json_integer_value(json_object_get(o, "expires"));
	e->is_dcap = strcmp(kind, "dcap") == 0;
	if (e->is_dcap) {
		char *t = json_dumps(data, JSON_COMPACT);
		err = t ? cocoon_collateral_from_json(&e->coll, t, strlen(t)) : COCOON_ENOMEM;
		free(t);
	} else if (!json_is_string(data) ||
	           cocoon_hex_decode_alloc(&e->blob, &e->blob_len, json_string_value(data), json_string_length(data)))
		err = cocoon_error_set(COCOON_EFORMAT, "collateral cache entry %s: data is not hex", path);
	if (err)
		goto done;
	*out = e;
	e = NULL;
done:
	entry_free(e);
	json_decref(o);
	free(text);
	return err;
}

int cocoon_collateral_cache_new(cocoon_collateral_cache **out, const char *dir)
{
	cocoon_collateral_cache *c = calloc(1, sizeof(*c));
	struct dirent *d;
	DIR *dh;

	*out = NULL;
	if (!c || (dir && !(c->dir = strdup(dir)))) {
		free(c);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	if (dir) {
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			cocoon_collateral_cache_free(c);
			return cocoon_error_set(COCOON_EIO, "collateral cache %s: cannot create: %s", dir, strerror(errno));
		}
		if (!(dh = opendir(dir))) {
			cocoon_collateral_cache_free(c);
			return cocoon_error_set(COCOON_EIO, "collateral cache %s: cannot open: %s", dir, strerror(errno));
		}
		/* Entries that do not load are skipped: a damaged file costs a refetch, not the cache. */
		while ((d = readdir(dh)) != NULL) {
			size_t n = strlen(d->d_name);
			char *path;
			entry *e;
			if (n < 6 || strcmp(d->d_name + n - 5, ".json") != 0 || asprintf(&path, "%s/%s", dir, d->d_name) < 0)
				continue;
			if (entry_load(&e, path) == 0)
				insert(c, e);
			free(path);
		}
		closedir(dh);
	}
	*out = c;
	return 0;
}

int cocoon_collateral_cache_put_dcap(cocoon_collateral_cache *c, cocoon_collateral *coll, const char *update,
                                     time_t fetched_at, long max_age)
{
	char tee[4], fmspc[13];
	time_t next;
	entry *e = NULL;
	int err;

	if (!c || !coll) {
		cocoon_collateral_free(coll);
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_cache_put_dcap: NULL argument");
	}
	if ((err = cocoon_collateral_describe(tee, fmspc, &next, coll)) != 0) {
		cocoon_collateral_free(coll);
		return err;
	}
	if (!(e = calloc(1, sizeof(*e))) || dcap_key(&e->key, tee, fmspc, update) != 0) {
		free(e);
		cocoon_collateral_free(coll);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	e->is_dcap = 1;
	e->coll = coll;
	e->expires = coll_expiry(coll);
	if (max_age >= 0)
		earliest(&e->expires, fetched_at + max_age);
	err = entry_save(c, e);
	insert(c, e);
	return err;
}

static entry *find(cocoon_collateral_cache *c, const char *key)
{
	for (entry *e = c->entries; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static int check_fresh(const entry *e, time_t now)
{
	char at[32];

	if (e->expires > now)
		return 0;
	cocoon_time_format(at, sizeof(at), e->expires);
	return cocoon_error_set(COCOON_EUNAVAILABLE, "cached collateral %s expired at %s: fetch it again", e->key, at);
}

int cocoon_collateral_cache_get_dcap(const cocoon_collateral **out, cocoon_collateral_cache *c, cocoon_tee tee,
                                     const char *fmspc, const char *update, time_t now)
{
	char *key = NULL;
	entry *e;
	int err;

	*out = NULL;
	if ((err = dcap_key(&key, tee == COCOON_TEE_TDX ? "tdx" : "sgx", fmspc ? fmspc : "", update)) != 0)
		return err;
	if (!(e = find(c, key)))
		err = cocoon_error_set(COCOON_ENOTFOUND, "no cached collateral %s", key);
	else if ((err = check_fresh(e, now)) == 0)
		*out = e->coll;
	free(key);
	return err;
}

int cocoon_collateral_cache_put_blob(cocoon_collateral_cache *c, const char *key, const uint8_t *data, size_t len,
                                     time_t expires)
{
	entry *e = calloc(1, sizeof(*e));
	int err;

	if (!e || !(e->key = strdup(key)) || !(e->blob = malloc(len ? len : 1))) {
		entry_free(e);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	memcpy(e->blob, data, len);
	e->blob_len = len;
	e->expires = expires;
	err = entry_save(c, e);
	insert(c, e);
	return err;
}

int cocoon_collateral_cache_get_blob(const uint8_t **out, size_t *len, cocoon_collateral_cache *c, const char *key,
                                     time_t now)
{
	entry *e = find(c, key);
	int err;

	*out = NULL;
	*len = 0;
	if (!e || e->is_dcap)
		return cocoon_error_set(COCOON_ENOTFOUND, "no cached item %s", key);
	if ((err = check_fresh(e, now)) != 0)
		return err;
	*out = e->blob;
	*len = e->blob_len;
	return 0;
}

int cocoon_collateral_cache_list(char **out, cocoon_collateral_cache *c, time_t now)
{
	json_t *a = json_array();
	int bad = !a;

	*out = NULL;
	for (entry *e = c->entries; e && !bad; e = e->next) {
		json_t *o = json_object();
		char at[32];
		cocoon_time_format(at, sizeof(at), e->expires);
		bad = !o;
		if (o) {
			set(&bad, o, "kind", json_string(e->is_dcap ? "dcap" : "kds"));
			set(&bad, o, "key", json_string(e->key));
			set(&bad, o, "expires", json_string(at));
			set(&bad, o, "fresh", json_boolean(e->expires > now));
			if (json_array_append_new(a, o) < 0)
				bad = 1;
		}
	}
	if (bad || !(*out = json_dumps(a, JSON_INDENT(2)))) {
		json_decref(a);
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	}
	json_decref(a);
	return 0;
}

const cocoon_collateral *coll_cache_peek_dcap(cocoon_collateral_cache *c, cocoon_tee tee, const char *fmspc,
                                              const char *update)
{
	char *key = NULL;
	entry *e;

	if (dcap_key(&key, tee == COCOON_TEE_TDX ? "tdx" : "sgx", fmspc ? fmspc : "", update) != 0)
		return NULL;
	e = find(c, key);
	free(key);
	return e && e->is_dcap ? e->coll : NULL;
}

const uint8_t *coll_cache_peek_blob(size_t *len, cocoon_collateral_cache *c, const char *key)
{
	entry *e = find(c, key);

	*len = e && !e->is_dcap ? e->blob_len : 0;
	return e && !e->is_dcap ? e->blob : NULL;
}
