/*
 * The TCG tagged-evidence value of RA-TLS certificates (OID 2.23.133.5.4.9),
 * read and written with libcbor:
 *
 *   60000([ bstr evidence, bstr claims ])
 *   claims = { "pubkey-hash": bstr(CBOR [ uint hash-alg-id, bstr hash ]), ? "nonce": bstr, * tstr: bstr }
 *
 * Every element the format allows is flat, so reading uses libcbor's
 * streaming decoder one item at a time: nothing nested is ever built, and
 * any nesting, indefinite length, trailing byte or unexpected type is
 * rejected with the element it was found in. Layout per Gramine
 * (tools/sgx/ra-tls/ra_tls_attest.c) and CCC-Attestation/interoperable-ra-tls.
 */
#include <stdlib.h>
#include <string.h>
#include <cbor.h>
#include <openssl/evp.h>
#include "ratls/ratls_int.h"

const uint8_t cocoon_ratls_oid_tagged[6] = { 0x67, 0x81, 0x05, 0x05, 0x04, 0x09 };
const uint8_t cocoon_ratls_oid_gramine_legacy[11] = { 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF8,
	                                              0x4D, 0x8A, 0x39, 0x06 };
const uint8_t cocoon_ratls_oid_intel_sgxsdk[9] = { 0x2A, 0x86, 0x48, 0x86, 0xF8, 0x4D, 0x01, 0x0D, 0x01 };

/* One decoded CBOR item head. */
typedef enum { ITEM_OTHER, ITEM_UINT, ITEM_BYTES, ITEM_TEXT, ITEM_ARRAY, ITEM_MAP, ITEM_TAG, ITEM_INDEF } item_kind;

typedef struct {
	item_kind kind;
	uint64_t value;             /* uint value, tag number, array/map count */
	const uint8_t *data;        /* bytes/text: points into the input */
	size_t len;
} item;

static void on_u8(void *c, uint8_t v) { ((item *)c)->kind = ITEM_UINT; ((item *)c)->value = v; }
static void on_u16(void *c, uint16_t v) { ((item *)c)->kind = ITEM_UINT; ((item *)c)->value = v; }
static void on_u32(void *c, uint32_t v) { ((item *)c)->kind = ITEM_UINT; ((item *)c)->value = v; }
static void on_u64(void *c, uint64_t v) { ((item *)c)->kind = ITEM_UINT; ((item *)c)->value = v; }
static void on_bytes(void *c, cbor_data d, size_t n)
{
	((item *)c)->kind = ITEM_BYTES;
	((item *)c)->data = d;
	((item *)c)->len = n;
}
static void on_text(void *c, cbor_data d, size_t n)
{
	((item *)c)->kind = ITEM_TEXT;
	((item *)c)->data = d;
	((item *)c)->len = n;
}
static void on_array(void *c, size_t n) { ((item *)c)->kind = ITEM_ARRAY; ((item *)c)->value = n; }
static void on_map(void *c, size_t n) { ((item *)c)->kind = ITEM_MAP; ((item *)c)->value = n; }
static void on_tag(void *c, uint64_t v) { ((item *)c)->kind = ITEM_TAG; ((item *)c)->value = v; }
static void on_indef(void *c) { ((item *)c)->kind = ITEM_INDEF; }

static struct cbor_callbacks item_callbacks(void)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	cb.uint8 = on_u8;
	cb.uint16 = on_u16;
	cb.uint32 = on_u32;
	cb.uint64 = on_u64;
	cb.byte_string = on_bytes;
	cb.string = on_text;
	cb.array_start = on_array;
	cb.map_start = on_map;
	cb.tag = on_tag;
	cb.byte_string_start = on_indef;
	cb.string_start = on_indef;
	cb.indef_array_start = on_indef;
	cb.indef_map_start = on_indef;
	return cb;
}

/* A cursor over a buffer; `where` names the structure being read, for reasons. */
typedef struct {
	const uint8_t *buf;
	size_t len, off;
	const char *where;
} reader;

static int next(item *it, cocoon_failure *f, reader *r, item_kind want, const char *what)
{
	static const char *const names[] = { "another type", "an unsigned integer", "a byte string", "a text string",
		                             "an array", "a map", "a tag", "an indefinite-length item" };
	struct cbor_callbacks cb = item_callbacks();
	struct cbor_decoder_result res;

	memset(it, 0, sizeof(*it));
	if (r->off >= r->len)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: ends before %s (offset %zu)", r->where, what,
		                   r->off);
	res = cbor_stream_decode(r->buf + r->off, r->len - r->off, &cb, it);
	if (res.status != CBOR_DECODER_FINISHED)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: %s at offset %zu is %s", r->where, what, r->off,
		                   res.status == CBOR_DECODER_NEDATA ? "truncated" : "not valid CBOR");
	if (it->kind != want)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: %s at offset %zu must be %s, found %s",
		                   r->where, what, r->off, names[want], names[it->kind]);
	r->off += res.read;
	return 0;
}

static int at_end(cocoon_failure *f, const reader *r)
{
	if (r->off != r->len)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: %zu trailing bytes after offset %zu", r->where,
		                   r->len - r->off, r->off);
	return 0;
}

static int dup(uint8_t **out, size_t *out_len, const uint8_t *p, size_t n)
{
	if (!(*out = malloc(n ? n : 1)))
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory copying %zu bytes", n);
	memcpy(*out, p, n);
	*out_len = n;
	return 0;
}

/* pubkey-hash value: the serialized hash-entry [ uint alg, bstr hash ]. */
static int parse_hash_entry(cocoon_ratls_tagged *t, cocoon_failure *f, const uint8_t *p, size_t n)
{
	reader r = { p, n, 0, "RA-TLS pubkey-hash claim" };
	item it, hv;
	size_t want;
	int err;

	if ((err = next(&it, f, &r, ITEM_ARRAY, "the hash-entry")) != 0)
		return err;
	if (it.value != 2)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: hash-entry has %llu elements, expected 2",
		                   r.where, (unsigned long long)it.value);
	if ((err = next(&it, f, &r, ITEM_UINT, "hash-alg-id")) != 0 ||
	    (err = next(&hv, f, &r, ITEM_BYTES, "hash-value")) != 0 || (err = at_end(f, &r)) != 0)
		return err;
	switch (it.value) {
	case COCOON_RATLS_HASH_SHA256: want = 32; break;
	case COCOON_RATLS_HASH_SHA384: want = 48; break;
	case COCOON_RATLS_HASH_SHA512: want = 64; break;
	default:
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION,
		                   "%s: hash-alg-id %llu is not sha-256 (1), sha-384 (7) or sha-512 (8)", r.where,
		                   (unsigned long long)it.value);
	}
	if (hv.len != want)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: hash-value is %zu bytes, hash-alg-id %llu needs %zu",
		                   r.where, hv.len, (unsigned long long)it.value, want);
	t->hash_alg = (int)it.value;
	memcpy(t->hash, hv.data, want);
	t->hash_len = want;
	return 0;
}

static int key_is(const item *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->data, name, k->len) == 0;
}

/* The claims map: text keys, byte-string values (interop spec); unknown claims are counted and skipped. */
static int parse_claims(cocoon_ratls_tagged *t, cocoon_failure *f)
{
	reader r = { t->claims, t->claims_len, 0, "RA-TLS claims map" };
	item m, k, v;
	int err;

	if ((err = next(&m, f, &r, ITEM_MAP, "the claims")) != 0)
		return err;
	if (m.value == 0 || m.value > COCOON_RATLS_MAX_CLAIMS)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: %llu claims (expected 1..%d)", r.where,
		                   (unsigned long long)m.value, COCOON_RATLS_MAX_CLAIMS);
	for (uint64_t i = 0; i < m.value; i++) {
		if ((err = next(&k, f, &r, ITEM_TEXT, "a claim name")) != 0 ||
		    (err = next(&v, f, &r, ITEM_BYTES, "a claim value")) != 0)
			return err;
		if (key_is(&k, "pubkey-hash")) {
			if (t->hash_alg)
				return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: pubkey-hash appears twice", r.where);
			if ((err = parse_hash_entry(t, f, v.data, v.len)) != 0)
				return err;
		} else if (key_is(&k, "nonce")) {
			if (t->nonce)
				return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: nonce appears twice", r.where);
			if ((err = dup(&t->nonce, &t->nonce_len, v.data, v.len)) != 0)
				return err;
		} else {
			t->n_other++;
		}
	}
	if ((err = at_end(f, &r)) != 0)
		return err;
	if (!t->hash_alg)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: the required pubkey-hash claim is missing",
		                   r.where);
	return 0;
}

int cocoon_ratls_tagged_parse(cocoon_ratls_tagged *out, cocoon_failure *f, const uint8_t *buf, size_t len)
{
	reader r = { buf, len, 0, "RA-TLS tagged evidence (2.23.133.5.4.9)" };
	item it, ev, cl;
	int err;

	if (!out || (!buf && len))
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS: NULL argument");
	memset(out, 0, sizeof(*out));
	if (len > COCOON_RATLS_MAX_EXTENSION)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: %zu bytes exceed the %d-byte limit", r.where, len,
		                   COCOON_RATLS_MAX_EXTENSION);
	if ((err = next(&it, f, &r, ITEM_TAG, "the outer item")) != 0)
		return err;
	if (it.value != COCOON_RATLS_CBOR_TAG)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: CBOR tag %llu, expected %d (TEE quote)", r.where,
		                   (unsigned long long)it.value, COCOON_RATLS_CBOR_TAG);
	if ((err = next(&it, f, &r, ITEM_ARRAY, "the tagged array")) != 0)
		return err;
	if (it.value != 2)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: array of %llu elements, expected 2", r.where,
		                   (unsigned long long)it.value);
	if ((err = next(&ev, f, &r, ITEM_BYTES, "the evidence")) != 0 ||
	    (err = next(&cl, f, &r, ITEM_BYTES, "the claims")) != 0 || (err = at_end(f, &r)) != 0)
		return err;
	if (ev.len == 0 || cl.len == 0)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EXTENSION, "%s: the %s byte string is empty", r.where,
		                   ev.len == 0 ? "evidence" : "claims");
	if ((err = dup(&out->evidence, &out->evidence_len, ev.data, ev.len)) != 0 ||
	    (err = dup(&out->claims, &out->claims_len, cl.data, cl.len)) != 0 || (err = parse_claims(out, f)) != 0) {
		cocoon_ratls_tagged_free(out);
		return err;
	}
	return 0;
}

void cocoon_ratls_tagged_free(cocoon_ratls_tagged *t)
{
	if (!t)
		return;
	free(t->evidence);
	free(t->claims);
	free(t->nonce);
	memset(t, 0, sizeof(*t));
}

/* Serializes item (consumed) into a malloc'd buffer of exactly its length. */
static int serialize(uint8_t **out, size_t *out_len, cbor_item_t *root, const char *what)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n = root ? cbor_serialize_alloc(root, &buf, &cap) : 0;

	if (root)
		cbor_decref(&root);
	if (n == 0) {
		free(buf);
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: cannot serialize the %s (out of memory)", what);
	}
	*out = buf;
	*out_len = n;
	return 0;
}

/* Pushes v (consumed) onto array a; 0 on failure. */
static int push(cbor_item_t *a, cbor_item_t *v)
{
	int ok = v && cbor_array_push(a, v);
	if (v)
		cbor_decref(&v);
	return ok;
}

/* Adds key -> v (both consumed) to map m; 0 on failure. */
static int put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	int ok = k && v && cbor_map_add(m, (struct cbor_pair){ .key = k, .value = v });
	if (k)
		cbor_decref(&k);
	if (v)
		cbor_decref(&v);
	return ok;
}

int cocoon_ratls_claims_build(uint8_t **out, size_t *out_len, const uint8_t spki_sha256[32], const uint8_t *nonce,
                              size_t nonce_len)
{
	cbor_item_t *entry = cbor_new_definite_array(2), *claims = cbor_new_definite_map(nonce ? 2 : 1);
	uint8_t *entry_buf = NULL;
	size_t entry_len = 0;
	int err;

	if (!entry || !push(entry, cbor_build_uint8(COCOON_RATLS_HASH_SHA256)) ||
	    !push(entry, cbor_build_bytestring(spki_sha256, 32))) {
		if (entry)
			cbor_decref(&entry);
		if (claims)
			cbor_decref(&claims);
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory building the pubkey-hash claim");
	}
	if ((err = serialize(&entry_buf, &entry_len, entry, "pubkey-hash claim")) != 0) {
		if (claims)
			cbor_decref(&claims);
		return err;
	}
	if (!claims || !put(claims, cbor_build_string("pubkey-hash"), cbor_build_bytestring(entry_buf, entry_len)) ||
	    (nonce && !put(claims, cbor_build_string("nonce"), cbor_build_bytestring(nonce, nonce_len)))) {
		free(entry_buf);
		if (claims)
			cbor_decref(&claims);
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory building the claims");
	}
	free(entry_buf);
	return serialize(out, out_len, claims, "claims");
}

int cocoon_ratls_tagged_build(uint8_t **out, size_t *out_len, const uint8_t *evidence, size_t evidence_len,
                              const uint8_t *claims, size_t claims_len)
{
	cbor_item_t *arr = cbor_new_definite_array(2), *tag = cbor_new_tag(COCOON_RATLS_CBOR_TAG);

	if (!arr || !tag || !push(arr, cbor_build_bytestring(evidence, evidence_len)) ||
	    !push(arr, cbor_build_bytestring(claims, claims_len))) {
		if (arr)
			cbor_decref(&arr);
		if (tag)
			cbor_decref(&tag);
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory building the tagged evidence");
	}
	cbor_tag_set_item(tag, arr);
	cbor_decref(&arr); /* the tag holds its own reference */
	return serialize(out, out_len, tag, "tagged evidence");
}

int cocoon_ratls_hash(uint8_t out[64], size_t *out_len, int iana_alg, const uint8_t *data, size_t len)
{
	const EVP_MD *md = iana_alg == COCOON_RATLS_HASH_SHA256   ? EVP_sha256()
	                   : iana_alg == COCOON_RATLS_HASH_SHA384 ? EVP_sha384()
	                   : iana_alg == COCOON_RATLS_HASH_SHA512 ? EVP_sha512()
	                                                          : NULL;
	unsigned int n = 0;

	if (!md)
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS: hash-alg-id %d is not supported", iana_alg);
	if (EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "RA-TLS: digest failed");
	*out_len = n;
	return 0;
}
