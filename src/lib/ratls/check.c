/*
 * Checking an RA-TLS certificate: find every evidence extension, check each
 * one's binding to the certificate's SubjectPublicKeyInfo, pick the form to
 * appraise (tagged first, then Gramine's legacy, then the Intel SGX SDK
 * one, as Gramine's ra_tls_verify_common.c does for the first two) and,
 * when collateral was given, verify that evidence. A verdict is always
 * reached for a peer's certificate, however malformed. The reason given
 * is the first of: certificate, extension presence, validity, bindings
 * (malformed extensions included), nonce, evidence; every binding is
 * computed and reported whichever reason wins.
 */
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "ratls/ratls_int.h"

enum { EXT_TAGGED, EXT_LEGACY, EXT_SGXSDK, EXT__N };

/* Everything one check gathers before the verdict. */
typedef struct {
	X509 *x;
	uint8_t *spki;
	size_t spki_len;
	const ASN1_OCTET_STRING *ext[EXT__N];
	cocoon_ratls_binding state[EXT__N];
	cocoon_failure fail[EXT__N];
	cocoon_ratls_tagged tagged;
	cocoon_ratls_evidence_id id[EXT__N];
} check_state;

static int reject(cocoon_ratls_result *r, cocoon_check c, const char *fmt, ...) COCOON_PRINTF(3, 4);
static int reject(cocoon_ratls_result *r, cocoon_check c, const char *fmt, ...)
{
	va_list ap;
	r->accepted = 0;
	r->failed_check = c;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	return 0;
}

/*
 * One DER certificate, or PEM when the input starts with a PEM line. Never
 * "PEM found anywhere": an SGX quote embeds its PCK chain as PEM, so a DER
 * RA-TLS certificate contains "-----BEGIN" too.
 */
static X509 *load_cert(const uint8_t *buf, size_t len)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = buf;
	size_t skip = 0;
	X509 *x = NULL;

	if (len > INT32_MAX)
		return NULL;
	while (skip < len && (buf[skip] == ' ' || buf[skip] == '\t' || buf[skip] == '\r' || buf[skip] == '\n'))
		skip++;
	if (len - skip >= sizeof(pem) - 1 && memcmp(buf + skip, pem, sizeof(pem) - 1) == 0) {
		BIO *b = BIO_new_mem_buf(buf, (int)len);
		x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		return x;
	}
	x = d2i_X509(NULL, &p, (long)len);
	if (x && p != buf + len) { /* trailing bytes: not one DER certificate */
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* The key's description and the DER SubjectPublicKeyInfo the bindings hash. */
static int read_key(cocoon_ratls_result *r, check_state *s)
{
	EVP_PKEY *k = X509_get0_pubkey(s->x);
	unsigned char *der = NULL;
	char group[64] = "";
	int n;

	if (!k)
		return reject(r, COCOON_CHECK_RATLS_CERTIFICATE, "the certificate's public key cannot be read");
	if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) == 1)
		snprintf(r->key_type, sizeof(r->key_type), "EC %s",
		         strcmp(group, "secp384r1") == 0 ? "P-384" : strcmp(group, "prime256v1") == 0 ? "P-256" : group);
	else
		snprintf(r->key_type, sizeof(r->key_type), "%s %d", EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "?",
		         EVP_PKEY_get_bits(k));
	r->self_signed = X509_verify(s->x, k) == 1;
	ERR_clear_error();
	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(s->x), &der)) <= 0)
		return reject(r, COCOON_CHECK_RATLS_CERTIFICATE, "the certificate's SubjectPublicKeyInfo cannot be encoded");
	s->spki = der;
	s->spki_len = (size_t)n;
	return cocoon_sha256(r->spki_sha256, 1, (const void *const[]){ der }, (const size_t[]){ s->spki_len });
}

/* Finds the three extensions by their OID content bytes; a duplicate is malformed. */
static int find_extensions(cocoon_ratls_result *r, check_state *s)
{
	static const struct { const uint8_t *oid; size_t len; const char *name; } want[EXT__N] = {
		{ cocoon_ratls_oid_tagged, sizeof(cocoon_ratls_oid_tagged), "2.23.133.5.4.9" },
		{ cocoon_ratls_oid_gramine_legacy, sizeof(cocoon_ratls_oid_gramine_legacy), "Gramine legacy" },
		{ cocoon_ratls_oid_intel_sgxsdk, sizeof(cocoon_ratls_oid_intel_sgxsdk), "1.2.840.113741.1.13.1" },
	};
	int n = X509_get_ext_count(s->x);

	for (int i = 0; i < n; i++) {
		X509_EXTENSION *e = X509_get_ext(s->x, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		size_t olen = (size_t)OBJ_length(o);
		for (int j = 0; j < EXT__N; j++) {
			if (olen != want[j].len || memcmp(OBJ_get0_data(o), want[j].oid, olen) != 0)
				continue;
			if (s->ext[j])
				return reject(r, COCOON_CHECK_RATLS_EXTENSION, "the %s extension appears twice",
				              want[j].name);
			s->ext[j] = X509_EXTENSION_get_data(e);
		}
	}
	if (!s->ext[EXT_TAGGED] && !s->ext[EXT_LEGACY] && !s->ext[EXT_SGXSDK])
		return reject(r, COCOON_CHECK_RATLS_EXTENSION,
		              "no RA-TLS evidence extension: expected 2.23.133.5.4.9 (TCG tagged evidence), Gramine's "
		              "legacy quote extension or 1.2.840.113741.1.13.1");
	return 0;
}

/* report data = hash || zeros: the 32-byte SHA-256 of what the form binds, then zero padding. */
static int report_data_binds(const uint8_t rd[64], const uint8_t sha256[32])
{
	return cocoon_memcmp_ct(rd, sha256, 32) == 0 && cocoon_is_zero(rd + 32, 32);
}

static int check_tagged(check_state *s)
{
	const ASN1_OCTET_STRING *e = s->ext[EXT_TAGGED];
	cocoon_failure *f = &s->fail[EXT_TAGGED];
	uint8_t claims_hash[32], key_hash[64];
	char want[129], got[129];
	size_t n;
	int err;

	err = cocoon_ratls_tagged_parse(&s->tagged, f, ASN1_STRING_get0_data(e), (size_t)ASN1_STRING_length(e));
	if (err == 0)
		err = cocoon_ratls_evidence_identify(&s->id[EXT_TAGGED], f, s->tagged.evidence, s->tagged.evidence_len);
	if (err == COCOON_EREJECT) {
		s->state[EXT_TAGGED] = COCOON_RATLS_BINDING_MALFORMED;
		return 0;
	}
	if (err != 0 ||
	    (err = cocoon_sha256(claims_hash, 1, (const void *const[]){ s->tagged.claims },
	                         (const size_t[]){ s->tagged.claims_len })) != 0 ||
	    (err = cocoon_ratls_hash(key_hash, &n, s->tagged.hash_alg, s->spki, s->spki_len)) != 0)
		return err;
	s->state[EXT_TAGGED] = COCOON_RATLS_BINDING_BROKEN;
	if (!report_data_binds(s->id[EXT_TAGGED].report_data, claims_hash)) {
		cocoon_hex_encode(got, s->id[EXT_TAGGED].report_data, 64);
		cocoon_hex_encode(want, claims_hash, 32);
		cocoon_fail(f, COCOON_CHECK_RATLS_BINDING,
		            "tagged evidence: report data %s is not SHA-256 of the claims (%s) followed by zeros: "
		            "the claims were altered or belong to other evidence", got, want);
		return 0;
	}
	if (n != s->tagged.hash_len || cocoon_memcmp_ct(key_hash, s->tagged.hash, n) != 0) {
		cocoon_hex_encode(got, s->tagged.hash, s->tagged.hash_len);
		cocoon_hex_encode(want, key_hash, n);
		cocoon_fail(f, COCOON_CHECK_RATLS_BINDING,
		            "tagged evidence: the pubkey-hash claim %s is not the hash (alg %d) of this certificate's "
		            "SubjectPublicKeyInfo (%s): the certificate's key is not the attested one",
		            got, s->tagged.hash_alg, want);
		return 0;
	}
	s->state[EXT_TAGGED] = COCOON_RATLS_BINDING_HOLDS;
	return 0;
}

/* A raw-evidence extension: report data must be SHA-256(SPKI) padded with zeros. */
static void check_raw(check_state *s, int which, const uint8_t spki_sha256[32])
{
	const ASN1_OCTET_STRING *e = s->ext[which];
	const uint8_t *ev = ASN1_STRING_get0_data(e);
	size_t len = (size_t)ASN1_STRING_length(e);
	cocoon_failure *f = &s->fail[which];
	char got[129], want[65];

	if (cocoon_ratls_evidence_identify(&s->id[which], f, ev, len) != 0) {
		s->state[which] = COCOON_RATLS_BINDING_MALFORMED;
		return;
	}
	if (report_data_binds(s->id[which].report_data, spki_sha256)) {
		s->state[which] = COCOON_RATLS_BINDING_HOLDS;
		return;
	}
	cocoon_hex_encode(got, s->id[which].report_data, 64);
	cocoon_hex_encode(want, spki_sha256, 32);
	if (which == EXT_LEGACY) {
		s->state[which] = COCOON_RATLS_BINDING_BROKEN;
		cocoon_fail(f, COCOON_CHECK_RATLS_BINDING,
		            "Gramine legacy extension: report data %s is not SHA-256 of this certificate's "
		            "SubjectPublicKeyInfo (%s) followed by zeros: the certificate's key is not the attested one",
		            got, want);
		return;
	}
	/* The Intel SGX SDK sample: the same quote as its tagged extension binds through the claims. */
	if (s->ext[EXT_TAGGED] && s->state[EXT_TAGGED] == COCOON_RATLS_BINDING_HOLDS &&
	    s->tagged.evidence_len == len && memcmp(s->tagged.evidence, ev, len) == 0) {
		s->state[which] = COCOON_RATLS_BINDING_HOLDS;
		return;
	}
	s->state[which] = COCOON_RATLS_BINDING_UNDOCUMENTED;
	cocoon_fail(f, COCOON_CHECK_RATLS_BINDING,
	            "1.2.840.113741.1.13.1 extension: report data %s is not SHA-256 of the SubjectPublicKeyInfo (%s), "
	            "and no published rule says what it binds; the key binding cannot be established", got, want);
}

/* The one step that appraises the embedded evidence (the place for cocoon_attest_appraise later). */
static int verify_embedded(cocoon_ratls_result *r, cocoon_verifier *v, const cocoon_ratls_verify_options *o)
{
	cocoon_verify_options vo = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;
	int err;

	if (o->verify)
		vo = *o->verify;
	vo.at = o->at;
	if (o->snp_policy)
		policy = *o->snp_policy;
	if (r->format == COCOON_EVIDENCE_SNP_REPORT) {
		if (!v || !o->snp)
			return 0;
		err = cocoon_verifier_verify_snp(&r->evidence_result, v, r->evidence, r->evidence_len, o->snp, &policy, &vo);
	} else {
		if (!v || !o->collateral)
			return 0;
		err = cocoon_verifier_verify_dcap(&r->evidence_result, v, r->evidence, r->evidence_len, o->collateral, &vo);
	}
	if (err == 0)
		r->evidence_verified = 1;
	return err;
}

/* Freshness: the caller's nonce must be the certificate's "nonce" claim (tagged form only). */
static void check_nonce(cocoon_ratls_result *r, const cocoon_ratls_verify_options *o)
{
	if (!o->nonce)
		return;
	if (!r->nonce)
		reject(r, COCOON_CHECK_RATLS_BINDING, "a nonce was expected, but the %s evidence carries no nonce claim",
		       cocoon_ratls_form_name(r->form));
	else if (r->nonce_len != o->nonce_len || cocoon_memcmp_ct(r->nonce, o->nonce, o->nonce_len) != 0)
		reject(r, COCOON_CHECK_RATLS_BINDING,
		       "the nonce claim (%zu bytes) is not the expected nonce (%zu bytes): the certificate was made for "
		       "another session or replayed", r->nonce_len, o->nonce_len);
	if (r->failed_check)
		r->binding_ok = 0;
}

/* Which form is appraised, and the first broken or malformed extension (fail closed on any). */
static int choose(cocoon_ratls_result *r, check_state *s)
{
	static const cocoon_ratls_form forms[EXT__N] = { COCOON_RATLS_FORM_TAGGED, COCOON_RATLS_FORM_GRAMINE_LEGACY,
		                                         COCOON_RATLS_FORM_INTEL_SGXSDK };
	int pick = -1;

	for (int i = 0; i < EXT__N; i++) {
		if (!s->ext[i])
			continue;
		if (s->state[i] == COCOON_RATLS_BINDING_MALFORMED || s->state[i] == COCOON_RATLS_BINDING_BROKEN)
			return reject(r, s->fail[i].check, "%s", s->fail[i].reason);
		if (pick < 0)
			pick = i;
	}
	if (pick < 0) /* find_extensions guarantees one */
		return reject(r, COCOON_CHECK_RATLS_EXTENSION, "no RA-TLS evidence extension");
	r->form = forms[pick];
	r->tee = s->id[pick].tee;
	r->format = s->id[pick].format;
	if (s->state[pick] != COCOON_RATLS_BINDING_HOLDS)
		return reject(r, s->fail[pick].check, "%s", s->fail[pick].reason);
	r->binding_ok = 1;
	return 0;
}

static int take_evidence(cocoon_ratls_result *r, check_state *s)
{
	const uint8_t *p;
	size_t n;

	if (r->form == COCOON_RATLS_FORM_TAGGED) {
		r->evidence = s->tagged.evidence;
		r->evidence_len = s->tagged.evidence_len;
		s->tagged.evidence = NULL;
		r->hash_alg = s->tagged.hash_alg;
		r->n_other_claims = s->tagged.n_other;
		r->nonce = s->tagged.nonce;
		r->nonce_len = s->tagged.nonce_len;
		s->tagged.nonce = NULL;
		return 0;
	}
	const ASN1_OCTET_STRING *e = s->ext[r->form == COCOON_RATLS_FORM_GRAMINE_LEGACY ? EXT_LEGACY : EXT_SGXSDK];
	p = ASN1_STRING_get0_data(e);
	n = (size_t)ASN1_STRING_length(e);
	if (!(r->evidence = malloc(n ? n : 1)))
		return cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory copying the evidence");
	memcpy(r->evidence, p, n);
	r->evidence_len = n;
	return 0;
}

static int check_validity(cocoon_ratls_result *r, X509 *x, time_t at)
{
	time_t t = at ? at : time(NULL);
	char when[32];

	cocoon_time_format(when, sizeof(when), t);
	if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0)
		return reject(r, COCOON_CHECK_RATLS_VALIDITY, "the certificate is not valid yet at %s (notBefore)", when);
	if (X509_cmp_time(X509_get0_notAfter(x), &t) < 0)
		return reject(r, COCOON_CHECK_RATLS_VALIDITY,
		              "the certificate expired before %s (notAfter); pass a verification time (--at) to check "
		              "an old certificate", when);
	return 0;
}

/* Gathers key, extensions and bindings; stops early only when nothing more can be learned. */
static int gather(cocoon_ratls_result *r, check_state *s)
{
	int err;

	if ((err = read_key(r, s)) != 0 || r->failed_check)
		return err;
	if ((err = find_extensions(r, s)) != 0 || r->failed_check)
		return err;
	if (s->ext[EXT_TAGGED] && (err = check_tagged(s)) != 0)
		return err;
	if (s->ext[EXT_LEGACY])
		check_raw(s, EXT_LEGACY, r->spki_sha256);
	if (s->ext[EXT_SGXSDK])
		check_raw(s, EXT_SGXSDK, r->spki_sha256);
	r->tagged = s->state[EXT_TAGGED];
	r->gramine_legacy = s->state[EXT_LEGACY];
	r->intel_sgxsdk = s->state[EXT_SGXSDK];
	return 0;
}

int cocoon_ratls_verify(cocoon_ratls_result *out, cocoon_verifier *v, const uint8_t *cert, size_t cert_len,
                        const cocoon_ratls_verify_options *opts)
{
	static const cocoon_ratls_verify_options defaults = COCOON_RATLS_VERIFY_OPTIONS_INIT;
	check_state s;
	int err = 0;

	if (!out || !cert)
		return cocoon_error_set(COCOON_EINVAL, "RA-TLS verify: NULL argument");
	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	if (!opts)
		opts = &defaults;
	if (opts->version != COCOON_RATLS_VERIFY_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_ratls_verify_options: version %u, expected %u",
		                        opts->version, COCOON_RATLS_VERIFY_OPTIONS_VERSION);
	if (!(s.x = load_cert(cert, cert_len))) {
		ERR_clear_error();
		reject(out, COCOON_CHECK_RATLS_CERTIFICATE, "not an X.509 certificate (PEM or one DER certificate)");
		goto done;
	}
	if ((err = gather(out, &s)) != 0 || out->failed_check)
		goto done;
	check_validity(out, s.x, opts->at);
	if (out->failed_check) {
		/* still report the binding, as the verdict's reason names only the validity */
		cocoon_ratls_result *scratch = calloc(1, sizeof(*scratch));
		if (!scratch) {
			err = cocoon_error_set(COCOON_ENOMEM, "RA-TLS: out of memory");
			goto done;
		}
		choose(scratch, &s);
		out->binding_ok = scratch->binding_ok;
		out->form = scratch->form;
		out->tee = scratch->tee;
		out->format = scratch->format;
		free(scratch);
		goto done;
	}
	if ((err = choose(out, &s)) != 0 || out->failed_check)
		goto done;
	if ((err = take_evidence(out, &s)) != 0)
		goto done;
	check_nonce(out, opts);
	if (out->failed_check || (err = verify_embedded(out, v, opts)) != 0)
		goto done;
	if (!out->evidence_verified) {
		reject(out, COCOON_CHECK_COLLATERAL,
		       "the key binding holds, but the %s evidence itself is unverified: no %s was given",
		       cocoon_tee_name(out->tee),
		       out->format == COCOON_EVIDENCE_SNP_REPORT ? "VCEK/chain (SNP inputs)" : "DCAP collateral");
		goto done;
	}
	out->accepted = out->evidence_result.accepted;
	if (!out->accepted)
		reject(out, out->evidence_result.failed_check, "embedded evidence: %s", out->evidence_result.reason);
done:
	X509_free(s.x);
	OPENSSL_free(s.spki);
	cocoon_ratls_tagged_free(&s.tagged);
	if (err)
		cocoon_ratls_result_free(out);
	return err;
}

void cocoon_ratls_result_free(cocoon_ratls_result *r)
{
	if (!r)
		return;
	free(r->evidence);
	free(r->nonce);
	r->evidence = NULL;
	r->nonce = NULL;
	r->evidence_len = r->nonce_len = 0;
}
