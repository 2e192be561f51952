/*
 * Loading DCAP collateral: the vectors' JSON layout and Intel PCS/PCCS
 * bodies. Nothing here is trusted yet; the verifier checks chains, CRLs
 * and signatures. What matters here is keeping the signed bytes exactly as
 * Intel sent them, because the signatures cover those bytes and not any
 * re-serialisation of them.
 */
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "dcap/collateral.h"

static const char PEM_BEGIN[] = "-----BEGIN";

static int is_json_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && is_json_ws(s[pos]))
		pos++;
	return pos;
}

/* A NUL-terminated copy (len excludes the NUL), so PEM and JSON text can also be used as C strings. */
static int copy_bytes(char **out, size_t *out_len, const void *src, size_t len, const char *field)
{
	char *p;

	*out = NULL;
	*out_len = 0;
	if (len == SIZE_MAX || !(p = malloc(len + 1)))
		return cocoon_error_set(COCOON_ENOMEM, "collateral: out of memory copying \"%s\" (%zu bytes)", field, len);
	if (len)
		memcpy(p, src, len);
	p[len] = '\0';
	*out = p;
	*out_len = len;
	return 0;
}

void cocoon_collateral_free(cocoon_collateral *c)
{
	if (!c)
		return;
	free(c->pck_crl_issuer_chain);
	free(c->root_ca_crl);
	free(c->pck_crl);
	free(c->tcb_info_issuer_chain);
	free(c->tcb_info);
	free(c->qe_identity_issuer_chain);
	free(c->qe_identity);
	free(c);
}

/*
 * Each field is preceded by its length as 8 little-endian bytes, so moving
 * bytes from the end of one field to the start of the next changes the
 * digest. The digest keys the verifier's cache of verified collateral.
 */
int cocoon_collateral_digest(struct cocoon_collateral *c)
{
	enum { N = 9 };
	const void *data[N] = { c->pck_crl_issuer_chain, c->root_ca_crl, c->pck_crl,
		                c->tcb_info_issuer_chain, c->tcb_info, c->tcb_info_signature,
		                c->qe_identity_issuer_chain, c->qe_identity, c->qe_identity_signature };
	const size_t lens[N] = { c->pck_crl_issuer_chain_len, c->root_ca_crl_len, c->pck_crl_len,
		                 c->tcb_info_issuer_chain_len, c->tcb_info_len, sizeof(c->tcb_info_signature),
		                 c->qe_identity_issuer_chain_len, c->qe_identity_len, sizeof(c->qe_identity_signature) };
	uint8_t prefix[N][8];
	const void *parts[2 * N];
	size_t part_lens[2 * N];

	for (size_t i = 0; i < N; i++) {
		uint64_t l = lens[i];
		for (int b = 0; b < 8; b++)
			prefix[i][b] = (uint8_t)(l >> (8 * b));
		parts[2 * i] = prefix[i];
		part_lens[2 * i] = 8;
		parts[2 * i + 1] = data[i] ? data[i] : (const void *)"";
		part_lens[2 * i + 1] = data[i] ? lens[i] : 0;
	}
	return cocoon_sha256(c->digest, 2 * N, parts, part_lens);
}

/* ---- the vectors' JSON layout ---- */

static int json_text_field(json_t **out, json_t *root, const char *key)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (!v)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" is missing (every collateral field is required)",
		                        key);
	if (!json_is_string(v))
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" is not a string", key);
	if (json_string_length(v) == 0)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" is empty", key);
	*out = v;
	return 0;
}

static int json_copy_text(char **out, size_t *out_len, json_t *root, const char *key)
{
	json_t *v;
	int err;

	if ((err = json_text_field(&v, root, key)) != 0)
		return err;
	return copy_bytes(out, out_len, json_string_value(v), json_string_length(v), key);
}

static int json_copy_hex(uint8_t **out, size_t *out_len, json_t *root, const char *key)
{
	json_t *v;
	int err;

	*out = NULL;
	*out_len = 0;
	if ((err = json_text_field(&v, root, key)) != 0)
		return err;
	if (cocoon_hex_decode_alloc(out, out_len, json_string_value(v), json_string_length(v)) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: \"%s\" is not hex (%zu characters; expected hex-encoded DER)",
		                        key, json_string_length(v));
	return 0;
}

static int decode_signature(uint8_t sig[64], const char *hex, size_t hex_len, const char *what)
{
	if (hex_len != 128)
		return cocoon_error_set(COCOON_EFORMAT, "%s: expected 128 hex characters (64-byte ECDSA r||s), got %zu",
		                        what, hex_len);
	if (cocoon_hex_decode(sig, 64, hex, hex_len) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s is not hex (expected 128 hex characters, 64-byte ECDSA r||s)",
		                        what);
	return 0;
}

static int json_signature(uint8_t sig[64], json_t *root, const char *key)
{
	char what[96];
	json_t *v;
	int err;

	if ((err = json_text_field(&v, root, key)) != 0)
		return err;
	snprintf(what, sizeof(what), "collateral: \"%s\"", key);
	return decode_signature(sig, json_string_value(v), json_string_length(v), what);
}

int cocoon_collateral_from_json(cocoon_collateral **out, const char *json, size_t len)
{
	cocoon_collateral *c = NULL;
	json_t *root = NULL;
	json_error_t e;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "collateral: no output pointer");
	*out = NULL;
	if (!json && len)
		return cocoon_error_set(COCOON_EINVAL, "collateral: NULL input with length %zu", len);
	if (len == 0)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: empty input: expected a JSON object");
	if (len > COCOON_COLLATERAL_JSON_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: %zu bytes exceeds the %zu-byte limit", len,
		                        (size_t)COCOON_COLLATERAL_JSON_MAX);
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e))) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral: invalid JSON at byte %d (line %d, column %d): %s",
		                       e.position, e.line, e.column, e.text);
		goto done;
	}
	if (!json_is_object(root)) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral: expected a JSON object with pck_crl_issuer_chain, "
		                       "root_ca_crl, pck_crl, tcb_info_issuer_chain, tcb_info, tcb_info_signature, "
		                       "qe_identity_issuer_chain, qe_identity and qe_identity_signature");
		goto done;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "collateral: out of memory");
		goto done;
	}
	/* Unknown keys (e.g. dcap-qvl's optional pck_certificate_chain) are ignored. */
	if ((err = json_copy_text(&c->pck_crl_issuer_chain, &c->pck_crl_issuer_chain_len, root, "pck_crl_issuer_chain")) ||
	    (err = json_copy_hex(&c->root_ca_crl, &c->root_ca_crl_len, root, "root_ca_crl")) ||
	    (err = json_copy_hex(&c->pck_crl, &c->pck_crl_len, root, "pck_crl")) ||
	    (err = json_copy_text(&c->tcb_info_issuer_chain, &c->tcb_info_issuer_chain_len, root, "tcb_info_issuer_chain")) ||
	    (err = json_copy_text(&c->tcb_info, &c->tcb_info_len, root, "tcb_info")) ||
	    (err = json_signature(c->tcb_info_signature, root, "tcb_info_signature")) ||
	    (err = json_copy_text(&c->qe_identity_issuer_chain, &c->qe_identity_issuer_chain_len, root,
	                          "qe_identity_issuer_chain")) ||
	    (err = json_copy_text(&c->qe_identity, &c->qe_identity_len, root, "qe_identity")) ||
	    (err = json_signature(c->qe_identity_signature, root, "qe_identity_signature")) ||
	    (err = cocoon_collateral_digest(c)))
		goto done;
	*out = c;
	c = NULL;
done:
	cocoon_collateral_free(c);
	json_decref(root);
	return err;
}

/* ---- exact member bytes ---- */

/*
 * Parses the single JSON value starting at json[pos] (not whitespace) and
 * returns its length. With JSON_DISABLE_EOF_CHECK jansson stops after the
 * value and error.position is the number of bytes it consumed; a scalar's
 * one-byte lookahead is pushed back and not counted (test_collateral pins
 * this). The value is returned when out is not NULL.
 */
static int value_at(json_t **out, size_t *vlen, const char *json, size_t len, size_t pos)
{
	json_error_t e;
	json_t *v;

	*vlen = 0;
	if (out)
		*out = NULL;
	v = json_loadb(json + pos, len - pos, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
	if (!v)
		return cocoon_error_set(COCOON_EFORMAT, "JSON: invalid value at byte %zu: %s", pos, e.text);
	if (e.position <= 0 || (size_t)e.position > len - pos) {
		json_decref(v);
		return cocoon_error_set(COCOON_EINTERNAL, "JSON: jansson reported consuming %d bytes at byte %zu of %zu",
		                        e.position, pos, len);
	}
	*vlen = (size_t)e.position;
	if (out)
		*out = v;
	else
		json_decref(v);
	return 0;
}

int cocoon_json_member_span(const char **start, size_t *len, const char *json, size_t json_len, const char *key)
{
	size_t pos, found_at = 0, found_len = 0, key_len;
	json_t *doc = NULL, *k = NULL;
	json_error_t e;
	int found = 0, err = 0;

	if (!start || !len || !json || !key)
		return cocoon_error_set(COCOON_EINVAL, "JSON member span: NULL argument");
	*start = NULL;
	*len = 0;
	key_len = strlen(key);
	if (json_len > COCOON_COLLATERAL_JSON_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "JSON: %zu bytes exceeds the %zu-byte limit", json_len,
		                        (size_t)COCOON_COLLATERAL_JSON_MAX);
	/* Validate everything first, so the walk below only meets well-formed JSON with unique keys. */
	if (!(doc = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &e))) {
		err = cocoon_error_set(COCOON_EFORMAT, "JSON: invalid at byte %d (line %d, column %d): %s", e.position,
		                       e.line, e.column, e.text);
		goto done;
	}
	if (!json_is_object(doc)) {
		err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected an object with a \"%s\" member", key);
		goto done;
	}

	pos = skip_ws(json, json_len, 0);
	if (pos >= json_len || json[pos] != '{') {
		err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected '{' at byte %zu", pos);
		goto done;
	}
	pos = skip_ws(json, json_len, pos + 1);
	if (pos < json_len && json[pos] == '}')
		pos = skip_ws(json, json_len, pos + 1);
	else
		for (;;) {
			size_t klen, vstart, vlen;
			int match;

			if (pos >= json_len || json[pos] != '"') {
				err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected a member name at byte %zu", pos);
				goto done;
			}
			if ((err = value_at(&k, &klen, json, json_len, pos)) != 0)
				goto done;
			/* Compare decoded names: "tcb\u0049nfo" is the member "tcbInfo". */
			match = json_is_string(k) && json_string_length(k) == key_len &&
			        memcmp(json_string_value(k), key, key_len) == 0;
			json_decref(k);
			k = NULL;
			pos = skip_ws(json, json_len, pos + klen);
			if (pos >= json_len || json[pos] != ':') {
				err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected ':' at byte %zu", pos);
				goto done;
			}
			vstart = pos = skip_ws(json, json_len, pos + 1);
			if (pos >= json_len) {
				err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected a value at byte %zu", pos);
				goto done;
			}
			if ((err = value_at(NULL, &vlen, json, json_len, pos)) != 0)
				goto done;
			if (match) {
				/* Unreachable after JSON_REJECT_DUPLICATES, kept so a flag change cannot reopen it. */
				if (found) {
					err = cocoon_error_set(COCOON_EFORMAT, "JSON: member \"%s\" appears twice (again at byte %zu)",
					                       key, vstart);
					goto done;
				}
				found = 1;
				found_at = vstart;
				found_len = vlen;
			}
			pos = skip_ws(json, json_len, pos + vlen);
			if (pos < json_len && json[pos] == ',') {
				pos = skip_ws(json, json_len, pos + 1);
				continue;
			}
			if (pos < json_len && json[pos] == '}') {
				pos = skip_ws(json, json_len, pos + 1);
				break;
			}
			err = cocoon_error_set(COCOON_EFORMAT, "JSON: expected ',' or '}' at byte %zu", pos);
			goto done;
		}
	if (pos != json_len) {
		err = cocoon_error_set(COCOON_EFORMAT, "JSON: unexpected data after the object at byte %zu", pos);
		goto done;
	}
	if (!found) {
		err = cocoon_error_set(COCOON_ENOTFOUND, "JSON: the object has no member \"%s\"", key);
		goto done;
	}
	*start = json + found_at;
	*len = found_len;
done:
	json_decref(k);
	json_decref(doc);
	return err;
}

/* ---- Intel PCS/PCCS bodies ---- */

/*
 * {"<key>":{...},"signature":"<hex r||s>"}: keeps the exact bytes of the
 * <key> value, which is what Intel signed.
 */
static int pcs_signed_body(char **out, size_t *out_len, uint8_t sig[64], const char *body, size_t len,
                           const char *key, const char *field)
{
	const char *span;
	size_t span_len;
	json_t *root = NULL, *v;
	json_error_t e;
	char what[96];
	int err;

	*out = NULL;
	*out_len = 0;
	if (!body || len == 0)
		return cocoon_error_set(COCOON_EINVAL, "collateral: %s body is missing", field);
	if (len > COCOON_COLLATERAL_JSON_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: %s body of %zu bytes exceeds the %zu-byte limit", field,
		                        len, (size_t)COCOON_COLLATERAL_JSON_MAX);
	if (!(root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e))) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral: %s body is not valid JSON at byte %d (line %d, column %d): "
		                       "%s (expected the PCS response {\"%s\":{...},\"signature\":\"...\"})",
		                       field, e.position, e.line, e.column, e.text, key);
		goto done;
	}
	if (!json_is_object(root) || !json_is_object(json_object_get(root, key))) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral: %s body has no \"%s\" object (expected the PCS "
		                       "response {\"%s\":{...},\"signature\":\"...\"})", field, key, key);
		goto done;
	}
	if (!json_is_string(v = json_object_get(root, "signature"))) {
		err = cocoon_error_set(COCOON_EFORMAT, "collateral: %s body has no \"signature\" string", field);
		goto done;
	}
	snprintf(what, sizeof(what), "collateral: %s \"signature\"", field);
	if ((err = decode_signature(sig, json_string_value(v), json_string_length(v), what)) == 0 &&
	    (err = cocoon_json_member_span(&span, &span_len, body, len, key)) == 0)
		err = copy_bytes(out, out_len, span, span_len, field);
done:
	json_decref(root);
	return err;
}

/* PCS serves CRLs as DER (PCS v4 default) or PEM; the verifier wants DER. */
static int crl_to_der(uint8_t **out, size_t *out_len, const uint8_t *in, size_t len, const char *field)
{
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	uint8_t *der = NULL, *p;
	size_t pos = 0;
	int n, err = 0;

	*out = NULL;
	*out_len = 0;
	if (!in || len == 0)
		return cocoon_error_set(COCOON_EINVAL, "collateral: %s is missing", field);
	while (pos < len && is_json_ws((char)in[pos]))
		pos++;
	/* DER starts with a SEQUENCE tag (0x30), so PEM's dashes are unambiguous. */
	if (len - pos < sizeof(PEM_BEGIN) - 1 || memcmp(in + pos, PEM_BEGIN, sizeof(PEM_BEGIN) - 1) != 0) {
		char *copy;
		if ((err = copy_bytes(&copy, out_len, in, len, field)) == 0)
			*out = (uint8_t *)copy;
		return err;
	}
	if (len - pos > INT_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "collateral: %s PEM of %zu bytes is too large", field, len);
	/* From the dashes: OpenSSL does not find a BEGIN line that is indented. */
	if (!(bio = BIO_new_mem_buf(in + pos, (int)(len - pos)))) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "collateral: %s: cannot create a memory BIO: ", field);
		goto done;
	}
	if (!(crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL))) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "collateral: %s is PEM but not a \"-----BEGIN X509 CRL-----\" "
		                               "block OpenSSL can read: ", field);
		goto done;
	}
	if ((n = i2d_X509_CRL(crl, NULL)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "collateral: %s: cannot DER-encode the CRL: ", field);
		goto done;
	}
	if (!(der = malloc((size_t)n + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "collateral: %s: out of memory", field);
		goto done;
	}
	p = der;
	/* OpenSSL keeps the CRL's received encoding, so the signed bytes come back unchanged. */
	if (i2d_X509_CRL(crl, &p) != n) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "collateral: %s: DER encoding changed size: ", field);
		goto done;
	}
	*out = der;
	*out_len = (size_t)n;
	der = NULL;
done:
	free(der);
	X509_CRL_free(crl);
	BIO_free(bio);
	return err;
}

static int copy_chain(char **out, size_t *out_len, const char *pem, size_t len, const char *field)
{
	if (!pem || len == 0)
		return cocoon_error_set(COCOON_EINVAL, "collateral: %s (PEM issuer chain) is missing", field);
	return copy_bytes(out, out_len, pem, len, field);
}

int cocoon_collateral_from_pcs(cocoon_collateral **out, const cocoon_pcs_collateral *pcs)
{
	cocoon_collateral *c = NULL;
	const char *qe_chain;
	size_t qe_chain_len;
	int err;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "collateral: no output pointer");
	*out = NULL;
	if (!pcs)
		return cocoon_error_set(COCOON_EINVAL, "collateral: no PCS collateral given");
	/* PCS serves the QE identity with the same TCB Signing chain as the TCB info. */
	qe_chain = pcs->qe_identity_issuer_chain ? pcs->qe_identity_issuer_chain : pcs->tcb_info_issuer_chain;
	qe_chain_len = pcs->qe_identity_issuer_chain ? pcs->qe_identity_issuer_chain_len : pcs->tcb_info_issuer_chain_len;
	if (!(c = calloc(1, sizeof(*c))))
		return cocoon_error_set(COCOON_ENOMEM, "collateral: out of memory");
	if ((err = pcs_signed_body(&c->tcb_info, &c->tcb_info_len, c->tcb_info_signature, pcs->tcb_info,
	                           pcs->tcb_info_len, "tcbInfo", "tcb_info")) ||
	    (err = pcs_signed_body(&c->qe_identity, &c->qe_identity_len, c->qe_identity_signature, pcs->qe_identity,
	                           pcs->qe_identity_len, "enclaveIdentity", "qe_identity")) ||
	    (err = copy_chain(&c->tcb_info_issuer_chain, &c->tcb_info_issuer_chain_len, pcs->tcb_info_issuer_chain,
	                      pcs->tcb_info_issuer_chain_len, "tcb_info_issuer_chain")) ||
	    (err = copy_chain(&c->qe_identity_issuer_chain, &c->qe_identity_issuer_chain_len, qe_chain, qe_chain_len,
	                      "qe_identity_issuer_chain")) ||
	    (err = copy_chain(&c->pck_crl_issuer_chain, &c->pck_crl_issuer_chain_len, pcs->pck_crl_issuer_chain,
	                      pcs->pck_crl_issuer_chain_len, "pck_crl_issuer_chain")) ||
	    (err = crl_to_der(&c->pck_crl, &c->pck_crl_len, pcs->pck_crl, pcs->pck_crl_len, "pck_crl")) ||
	    (err = crl_to_der(&c->root_ca_crl, &c->root_ca_crl_len, pcs->root_ca_crl, pcs->root_ca_crl_len,
	                      "root_ca_crl")) ||
	    (err = cocoon_collateral_digest(c)))
		goto done;
	*out = c;
	c = NULL;
done:
	cocoon_collateral_free(c);
	return err;
}

static json_t *hex_string(const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	json_t *s;
	if (!h)
		return NULL;
	cocoon_hex_encode(h, p, n);
	s = json_string(h);
	free(h);
	return s;
}

static void set_member(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

/* The inverse of cocoon_collateral_from_json: what attestd's store keeps. */
int cocoon_collateral_to_json(char **out, const cocoon_collateral *c)
{
	json_t *o = json_object();
	int bad = !o;

	*out = NULL;
	if (bad)
		return cocoon_error_set(COCOON_ENOMEM, "collateral: out of memory");
	set_member(&bad, o, "pck_crl_issuer_chain", json_stringn(c->pck_crl_issuer_chain, c->pck_crl_issuer_chain_len));
	set_member(&bad, o, "root_ca_crl", hex_string(c->root_ca_crl, c->root_ca_crl_len));
	set_member(&bad, o, "pck_crl", hex_string(c->pck_crl, c->pck_crl_len));
	set_member(&bad, o, "tcb_info_issuer_chain", json_stringn(c->tcb_info_issuer_chain, c->tcb_info_issuer_chain_len));
	set_member(&bad, o, "tcb_info", json_stringn(c->tcb_info, c->tcb_info_len));
	set_member(&bad, o, "tcb_info_signature", hex_string(c->tcb_info_signature, 64));
	set_member(&bad, o, "qe_identity_issuer_chain",
	    json_stringn(c->qe_identity_issuer_chain, c->qe_identity_issuer_chain_len));
	set_member(&bad, o, "qe_identity", json_stringn(c->qe_identity, c->qe_identity_len));
	set_member(&bad, o, "qe_identity_signature", hex_string(c->qe_identity_signature, 64));
	if (!bad)
		*out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!*out)
		return cocoon_error_set(COCOON_ENOMEM, "collateral: out of memory");
	return 0;
}
