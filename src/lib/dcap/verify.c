/*
 * DCAP quote verification: Intel's check list (verifiers.md table A.1) in
 * three stages, each cached by the exact bytes it depends on.
 *
 *   collateral  TCB info, QE identity, both CRLs, TCB Signing chain
 *               key: SHA-256 of the collateral bytes and the pinned root
 *   platform    PCK chain (with CRLs), PCK extensions, FMSPC/PCEID, QE report
 *               signature, attestation-key binding, QE identity and QE TCB
 *               key: SHA-256 of the collateral key and those quote bytes
 *   per quote   quote signature, TDX module identity, TCB level, appraisal
 *
 * A cache entry is used only at times inside the window where every
 * time-dependent check it made would pass again, so a hit is equivalent
 * to re-running the checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "common/util.h"
#include "cocoon/sim.h"
#include "common/cache.h"
#include "dcap/collateral.h"
#include "dcap/pckext.h"
#include "dcap/quote.h"
#include "dcap/tcbeval.h"
#include "dcap/tcbinfo.h"
#include "dcap/verifier.h"
#include "dcap/x509.h"

typedef struct {
	cocoon_ref ref;
	cocoon_tcb_info *tcb_info;
	cocoon_qe_identity *qe_identity;
	X509_CRL *root_crl;
	X509_CRL *pck_crl;
	X509 *pck_ca;            /* the PCK CRL's issuer, verified to the pinned root with the root CRL */
	time_t valid_from, valid_until;
	int expired;             /* verified past an expiry under allow_expired_collateral */
} dcap_collateral;

typedef struct {
	cocoon_ref ref;
	dcap_collateral *coll;   /* referenced */
	cocoon_pck_ext pck;
	EVP_PKEY *attest_key;
	cocoon_qe_tcb qe_tcb;
	const cocoon_isv_tcb_level *qe_level; /* inside coll->qe_identity */
	time_t valid_from, valid_until;
	int expired;
} dcap_platform;

static void collateral_destroy(cocoon_ref *r)
{
	dcap_collateral *c = (dcap_collateral *)r;
	cocoon_tcb_info_free(c->tcb_info);
	cocoon_qe_identity_free(c->qe_identity);
	X509_CRL_free(c->root_crl);
	X509_CRL_free(c->pck_crl);
	X509_free(c->pck_ca);
	free(c);
}

static void platform_destroy(cocoon_ref *r)
{
	dcap_platform *p = (dcap_platform *)r;
	if (p->coll)
		cocoon_ref_put(&p->coll->ref);
	EVP_PKEY_free(p->attest_key);
	free(p);
}

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static void window_narrow(time_t *from, time_t *until, time_t start, time_t end)
{
	if (start > *from)
		*from = start;
	if (end < *until)
		*until = end;
}

static void chain_window(time_t *from, time_t *until, STACK_OF(X509) *chain)
{
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *c = sk_X509_value(chain, i);
		window_narrow(from, until, asn1_to_time(X509_get0_notBefore(c)), asn1_to_time(X509_get0_notAfter(c)));
	}
}

static void crl_window(time_t *from, time_t *until, X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	window_narrow(from, until, asn1_to_time(X509_CRL_get0_lastUpdate(crl)),
	              next ? asn1_to_time(next) : *until);
}

static void fmt_time(char *buf, size_t len, time_t t) { cocoon_time_format(buf, len, t); }

/* issueDate <= at <= nextUpdate for a signed collateral document. */
static int check_document_dates(cocoon_failure *f, cocoon_check check, const char *what, time_t issue,
                                time_t next, time_t at, int allow_expired, int *expired)
{
	char a[32], b[32];
	if (at < issue) {
		fmt_time(a, sizeof(a), issue);
		fmt_time(b, sizeof(b), at);
		return cocoon_fail(f, check, "%s is issued in the future: issueDate %s is after the verification time %s",
		                   what, a, b);
	}
	if (at > next) {
		if (allow_expired) {
			*expired = 1;
			return 0;
		}
		fmt_time(a, sizeof(a), next);
		fmt_time(b, sizeof(b), at);
		return cocoon_fail(f, check,
		                   "%s has expired: nextUpdate %s is before the verification time %s; fetch current "
		                   "collateral or pass --allow-expired-collateral to report instead of reject",
		                   what, a, b);
	}
	return 0;
}

static int chain_root_is_simulated(STACK_OF(X509) *chain)
{
	char cn[256];
	X509 *root = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;
	if (!root || X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn, sizeof(cn)) < 0)
		return 0;
	/* The simulator's CN prefix is used only to explain a rejection, never to accept anything. */
	return strstr(cn, COCOON_SIM_CN_PREFIX) != NULL;
}

/* A chain that failed because it ends in a simulation root says so. */
static int explain_simulation(cocoon_failure *f, cocoon_verifier *v, STACK_OF(X509) *chain, const char *what)
{
	if (!v->trust_simulation && chain_root_is_simulated(chain))
		return cocoon_fail(f, COCOON_CHECK_SIMULATION_ROOT,
		                   "%s chains to a cocoon simulation root, which is not trusted: simulated evidence "
		                   "is accepted only with --trust-sim DIR (development only)",
		                   what);
	return COCOON_EREJECT;
}

/* A verified TCB Signing chain: its leaf (whose key signs documents) and window. */
typedef struct {
	cocoon_ref ref;
	X509 *leaf;
	time_t valid_from, valid_until;
} dcap_chain;

static void chain_destroy(cocoon_ref *r)
{
	dcap_chain *c = (dcap_chain *)r;
	X509_free(c->leaf);
	free(c);
}

/*
 * Verifies a TCB Signing issuer chain with the root CRL, once per exact
 * (chain, CRL, root) bytes: TCB info and QE identity normally share the
 * same chain, so the second document costs no chain work.
 */
static int signing_chain_get(dcap_chain **out, cocoon_failure *f, cocoon_verifier *v, const char *pem, size_t pem_len,
                             X509_CRL *root_crl, const uint8_t root_crl_digest[32], time_t at, int allow_expired,
                             cocoon_check chain_check, const char *what, int *expired, int no_cache)
{
	STACK_OF(X509) *chain = NULL;
	cocoon_chain_spec spec = { 0 };
	cocoon_chain_result cres = { 0 };
	dcap_chain *c = NULL;
	uint8_t key[32];
	const void *parts[3] = { pem, root_crl_digest, v->intel_root_digest };
	const size_t lens[3] = { pem_len, 32, 32 };
	int err;

	*out = NULL;
	if ((err = cocoon_sha256(key, 3, parts, lens)) != 0)
		return err;
	if (!no_cache && (*out = (dcap_chain *)cocoon_cache_get(v->chains, key, at)) != NULL)
		return 0;
	if (cocoon_pem_chain_parse_cached(&chain, pem, pem_len, no_cache ? NULL : v->certs) != 0) {
		err = cocoon_fail(f, chain_check, "%s issuer chain: %s", what, cocoon_error_last()->message);
		goto done;
	}
	spec.chain = chain;
	spec.trusted_root = v->intel_root;
	spec.root_crl = root_crl;
	spec.at = at;
	spec.role = COCOON_CHAIN_TCB_SIGNING;
	spec.chain_check = chain_check;
	spec.allow_expired_crl = allow_expired;
	if ((err = cocoon_x509_verify_chain(&cres, f, &spec)) != 0) {
		err = explain_simulation(f, v, chain, what);
		goto done;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory verifying a chain");
		goto done;
	}
	cocoon_ref_init(&c->ref, chain_destroy);
	c->leaf = sk_X509_value(chain, 0);
	X509_up_ref(c->leaf);
	c->valid_from = 0;
	c->valid_until = (time_t)INT64_MAX;
	chain_window(&c->valid_from, &c->valid_until, chain);
	crl_window(&c->valid_from, &c->valid_until, root_crl);
	if (cres.crl_expired)
		*expired = 1;
	else if (!no_cache)
		cocoon_cache_put(v->chains, key, &c->ref, c->valid_from, c->valid_until);
	*out = c;
done:
	sk_X509_pop_free(chain, X509_free);
	return err;
}

/* Verifies a signed JSON document's issuer chain and its signature over the exact bytes. */
static int verify_signed_document(cocoon_failure *f, cocoon_verifier *v, const char *chain_pem, size_t chain_len,
                                  X509_CRL *root_crl, const uint8_t root_crl_digest[32], const char *doc,
                                  size_t doc_len, const uint8_t sig[64], time_t at, int allow_expired,
                                  cocoon_check chain_check, cocoon_check sig_check, const char *what, time_t *from,
                                  time_t *until, int *expired, int no_cache)
{
	dcap_chain *chain = NULL;
	int err, ok;

	if ((err = signing_chain_get(&chain, f, v, chain_pem, chain_len, root_crl, root_crl_digest, at, allow_expired,
	                             chain_check, what, expired, no_cache)) != 0)
		return err;
	window_narrow(from, until, chain->valid_from, chain->valid_until);
	ok = cocoon_p256_verify_raw(X509_get0_pubkey(chain->leaf), sig, (const uint8_t *)doc, doc_len);
	if (ok != 1)
		err = cocoon_fail(f, sig_check,
		                  "%s signature does not verify with the TCB Signing key over the exact signed bytes "
		                  "(%zu bytes); the document or its signature was altered",
		                  what, doc_len);
	cocoon_ref_put(&chain->ref);
	return err;
}

/* The PCK CRL's issuer chain (PCK CA, root) with the root CRL: verified once per
 * collateral so that each new platform only needs its leaf checked. */
static int verify_pck_ca(dcap_collateral *dc, cocoon_failure *f, cocoon_verifier *v, const cocoon_collateral *c,
                         time_t at, int allow_expired, int no_cache)
{
	STACK_OF(X509) *chain = NULL;
	cocoon_chain_spec spec = { 0 };
	cocoon_chain_result cres = { 0 };
	int err;

	if (cocoon_pem_chain_parse_cached(&chain, c->pck_crl_issuer_chain, c->pck_crl_issuer_chain_len,
	                                  no_cache ? NULL : v->certs) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_CRL, "PCK CRL issuer chain: %s", cocoon_error_last()->message);
		goto done;
	}
	spec.chain = chain;
	spec.trusted_root = v->intel_root;
	spec.root_crl = dc->root_crl;
	spec.at = at;
	spec.role = COCOON_CHAIN_PCK_CA;
	spec.chain_check = COCOON_CHECK_PCK_CRL;
	spec.allow_expired_crl = allow_expired;
	if ((err = cocoon_x509_verify_chain(&cres, f, &spec)) != 0) {
		err = explain_simulation(f, v, chain, "the PCK CRL issuer chain");
		goto done;
	}
	if (cres.crl_expired)
		dc->expired = 1;
	chain_window(&dc->valid_from, &dc->valid_until, chain);
	dc->pck_ca = sk_X509_value(chain, 0);
	X509_up_ref(dc->pck_ca);
done:
	sk_X509_pop_free(chain, X509_free);
	return err;
}

static int collateral_verify(dcap_collateral **out, cocoon_failure *f, cocoon_verifier *v,
                             const cocoon_collateral *c, time_t at, int allow_expired, int no_cache)
{
	dcap_collateral *dc = calloc(1, sizeof(*dc));
	uint8_t root_crl_digest[32];
	const void *crl_part[1] = { c->root_ca_crl };
	const size_t crl_len[1] = { c->root_ca_crl_len };
	int err = 0;

	*out = NULL;
	if (!dc)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory verifying collateral");
	cocoon_ref_init(&dc->ref, collateral_destroy);
	dc->valid_from = 0;
	dc->valid_until = (time_t)INT64_MAX;

	if (cocoon_crl_parse(&dc->root_crl, c->root_ca_crl, c->root_ca_crl_len) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_ROOT_CA_CRL, "root CA CRL is unparsable (%zu bytes): %s",
		                  c->root_ca_crl_len, cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_crl_parse(&dc->pck_crl, c->pck_crl, c->pck_crl_len) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_CRL, "PCK CRL is unparsable (%zu bytes): %s", c->pck_crl_len,
		                  cocoon_error_last()->message);
		goto done;
	}
	crl_window(&dc->valid_from, &dc->valid_until, dc->root_crl);
	crl_window(&dc->valid_from, &dc->valid_until, dc->pck_crl);
	if ((err = cocoon_sha256(root_crl_digest, 1, crl_part, crl_len)) != 0)
		goto done;

	if ((err = verify_signed_document(f, v, c->tcb_info_issuer_chain, c->tcb_info_issuer_chain_len, dc->root_crl,
	                                  root_crl_digest, c->tcb_info, c->tcb_info_len, c->tcb_info_signature, at,
	                                  allow_expired, COCOON_CHECK_TCB_INFO_CHAIN, COCOON_CHECK_TCB_INFO_SIGNATURE,
	                                  "TCB info", &dc->valid_from, &dc->valid_until, &dc->expired, no_cache)) != 0)
		goto done;
	if (cocoon_tcb_info_parse(&dc->tcb_info, c->tcb_info, c->tcb_info_len) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_TCB_INFO_FORMAT, "%s", cocoon_error_last()->message);
		goto done;
	}
	if ((err = check_document_dates(f, COCOON_CHECK_TCB_INFO_VALIDITY, "TCB info", dc->tcb_info->issue_date,
	                                dc->tcb_info->next_update, at, allow_expired, &dc->expired)) != 0)
		goto done;
	window_narrow(&dc->valid_from, &dc->valid_until, dc->tcb_info->issue_date, dc->tcb_info->next_update);

	if ((err = verify_signed_document(f, v, c->qe_identity_issuer_chain, c->qe_identity_issuer_chain_len,
	                                  dc->root_crl, root_crl_digest, c->qe_identity, c->qe_identity_len,
	                                  c->qe_identity_signature, at, allow_expired, COCOON_CHECK_QE_IDENTITY_CHAIN,
	                                  COCOON_CHECK_QE_IDENTITY_SIGNATURE, "QE identity", &dc->valid_from,
	                                  &dc->valid_until, &dc->expired, no_cache)) != 0)
		goto done;
	if (cocoon_qe_identity_parse(&dc->qe_identity, c->qe_identity, c->qe_identity_len) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_QE_IDENTITY_FORMAT, "%s", cocoon_error_last()->message);
		goto done;
	}
	if ((err = check_document_dates(f, COCOON_CHECK_QE_IDENTITY_VALIDITY, "QE identity",
	                                dc->qe_identity->issue_date, dc->qe_identity->next_update, at, allow_expired,
	                                &dc->expired)) != 0)
		goto done;
	window_narrow(&dc->valid_from, &dc->valid_until, dc->qe_identity->issue_date, dc->qe_identity->next_update);
	if ((err = verify_pck_ca(dc, f, v, c, at, allow_expired, no_cache)) != 0)
		goto done;
	*out = dc;
	dc = NULL;
done:
	if (dc)
		cocoon_ref_put(&dc->ref);
	return err;
}

static int collateral_get(dcap_collateral **out, cocoon_failure *f, cocoon_verifier *v, const cocoon_collateral *c,
                          const uint8_t key[32], const cocoon_verify_options *o, time_t at, int *hit)
{
	int err;

	*hit = 0;
	if (!o->no_cache && (*out = (dcap_collateral *)cocoon_cache_get(v->collateral, key, at)) != NULL) {
		*hit = 1;
		return 0;
	}
	if ((err = collateral_verify(out, f, v, c, at, o->allow_expired_collateral, o->no_cache)) != 0)
		return err;
	/* Results that needed the expiry override are never cached. */
	if (!o->no_cache && !(*out)->expired)
		cocoon_cache_put(v->collateral, key, &(*out)->ref, (*out)->valid_from, (*out)->valid_until);
	return 0;
}

static int check_tcb_info_matches(cocoon_failure *f, const cocoon_tcb_info *ti, int is_tdx)
{
	if (is_tdx && !(ti->is_tdx && ti->version >= 3))
		return cocoon_fail(f, COCOON_CHECK_TCB_INFO_MISMATCH,
		                   "TCB info is id \"%s\" version %u, but a TDX quote needs id \"TDX\" version 3; "
		                   "supply TDX collateral for this platform",
		                   ti->is_tdx ? "TDX" : "SGX", ti->version);
	if (!is_tdx && ti->is_tdx)
		return cocoon_fail(f, COCOON_CHECK_TCB_INFO_MISMATCH,
		                   "TCB info is id \"TDX\", but the quote is an SGX quote; supply SGX collateral");
	return 0;
}

static int check_qe_identity_matches(cocoon_failure *f, const cocoon_qe_identity *qe, int is_tdx)
{
	static const char *const names[] = { "?", "QE", "TD_QE", "QVE" };
	cocoon_qe_identity_id want = is_tdx ? COCOON_QEID_TD_QE : COCOON_QEID_QE;
	if (qe->id != want || qe->version < 2)
		return cocoon_fail(f, COCOON_CHECK_QE_IDENTITY_MISMATCH,
		                   "QE identity is id \"%s\" version %u, but a %s quote needs id \"%s\" version 2",
		                   names[qe->id <= 3 ? qe->id : 0], qe->version, is_tdx ? "TDX" : "SGX", names[want]);
	return 0;
}

/* QE report against the QE identity: Intel's EnclaveReportVerifier. */
static int check_qe_report_identity(cocoon_failure *f, const cocoon_qe_identity *qe, const cocoon_sgx_report *r)
{
	char a[65], b[65];
	if (memcmp(r->mr_signer, qe->mrsigner, 32) != 0) {
		cocoon_hex_encode(a, qe->mrsigner, 32);
		cocoon_hex_encode(b, r->mr_signer, 32);
		return cocoon_fail(f, COCOON_CHECK_QE_REPORT_IDENTITY, "QE report MRSIGNER: expected %s, got %s", a, b);
	}
	if (r->isv_prod_id != qe->isvprodid)
		return cocoon_fail(f, COCOON_CHECK_QE_REPORT_IDENTITY, "QE report ISVPRODID: expected %u, got %u",
		                   qe->isvprodid, r->isv_prod_id);
	if ((r->misc_select & qe->miscselect_mask) != qe->miscselect)
		return cocoon_fail(f, COCOON_CHECK_QE_REPORT_IDENTITY,
		                   "QE report MISCSELECT: 0x%08x under mask 0x%08x is 0x%08x, expected 0x%08x",
		                   r->misc_select, qe->miscselect_mask, r->misc_select & qe->miscselect_mask,
		                   qe->miscselect);
	for (int i = 0; i < 16; i++) {
		if ((r->attributes[i] & qe->attributes_mask[i]) != qe->attributes[i]) {
			cocoon_hex_encode(a, qe->attributes, 16);
			cocoon_hex_encode(b, r->attributes, 16);
			return cocoon_fail(f, COCOON_CHECK_QE_REPORT_IDENTITY,
			                   "QE report ATTRIBUTES %s do not match the QE identity's %s under its mask "
			                   "(first difference at byte %d)",
			                   b, a, i);
		}
	}
	/* Debug QEs are rejected even when a permissive mask would let them through. */
	if (r->attributes[0] & 0x02)
		return cocoon_fail(f, COCOON_CHECK_QE_REPORT_IDENTITY, "QE report has the DEBUG attribute set");
	return 0;
}

static int platform_verify(dcap_platform **out, cocoon_failure *f, cocoon_verifier *v, dcap_collateral *coll,
                           const cocoon_quote *q, time_t at, const cocoon_verify_options *o)
{
	dcap_platform *p = calloc(1, sizeof(*p));
	STACK_OF(X509) *chain = NULL, *leaf_chain = NULL;
	cocoon_chain_spec spec = { 0 };
	cocoon_chain_result cres = { 0 };
	uint8_t digest[32];
	int is_tdx = q->header.tee_type == COCOON_TEE_TYPE_TDX;
	int err = 0, ok;

	*out = NULL;
	if (!p)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory verifying the platform");
	cocoon_ref_init(&p->ref, platform_destroy);
	cocoon_ref_get(&coll->ref);
	p->coll = coll;
	p->valid_from = coll->valid_from;
	p->valid_until = coll->valid_until;
	p->expired = coll->expired;

	if (cocoon_pem_chain_parse_cached(&chain, (const char *)q->cert_data.ptr, q->cert_data.len,
	                                  o->no_cache ? NULL : v->certs) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_CHAIN, "PCK certificate chain in the quote: %s",
		                  cocoon_error_last()->message);
		goto done;
	}
	spec.chain = chain;
	spec.trusted_root = v->intel_root;
	spec.root_crl = coll->root_crl;
	spec.pck_crl = coll->pck_crl;
	spec.at = at;
	spec.role = COCOON_CHAIN_PCK;
	spec.chain_check = COCOON_CHECK_PCK_CHAIN;
	spec.allow_expired_crl = o->allow_expired_collateral;
	/* The usual case: the quote's PCK CA and root are the ones the collateral
	 * stage verified, so only the leaf is left (with the PCK CRL). */
	if (sk_X509_num(chain) == 3 && X509_cmp(sk_X509_value(chain, 1), coll->pck_ca) == 0 &&
	    X509_cmp(sk_X509_value(chain, 2), v->intel_root) == 0) {
		if (!(leaf_chain = sk_X509_new_null()) || !sk_X509_push(leaf_chain, sk_X509_value(chain, 0)) ||
		    !sk_X509_push(leaf_chain, coll->pck_ca)) {
			err = cocoon_error_set(COCOON_ENOMEM, "out of memory verifying the PCK chain");
			goto done;
		}
		spec.chain = leaf_chain;
		spec.trusted_root = coll->pck_ca;
		spec.role = COCOON_CHAIN_PCK_LEAF;
	}
	if ((err = cocoon_x509_verify_chain(&cres, f, &spec)) != 0) {
		err = explain_simulation(f, v, chain, "the PCK certificate chain");
		goto done;
	}
	if (cres.crl_expired)
		p->expired = 1;
	chain_window(&p->valid_from, &p->valid_until, chain);

	if (cocoon_pck_ext_from_cert(&p->pck, sk_X509_value(chain, 0)) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_EXTENSIONS, "PCK certificate: %s", cocoon_error_last()->message);
		goto done;
	}
	if ((err = check_tcb_info_matches(f, coll->tcb_info, is_tdx)) != 0)
		goto done;
	if (memcmp(p->pck.fmspc, coll->tcb_info->fmspc, 6) != 0) {
		char a[13], b[13];
		cocoon_hex_encode(a, p->pck.fmspc, 6);
		cocoon_hex_encode(b, coll->tcb_info->fmspc, 6);
		err = cocoon_fail(f, COCOON_CHECK_FMSPC,
		                  "FMSPC %s of the PCK certificate differs from TCB info's %s; fetch TCB info for FMSPC %s",
		                  a, b, a);
		goto done;
	}
	if (memcmp(p->pck.pceid, coll->tcb_info->pceid, 2) != 0) {
		char a[5], b[5];
		cocoon_hex_encode(a, p->pck.pceid, 2);
		cocoon_hex_encode(b, coll->tcb_info->pceid, 2);
		err = cocoon_fail(f, COCOON_CHECK_PCEID, "PCEID %s of the PCK certificate differs from TCB info's %s", a,
		                  b);
		goto done;
	}
	ok = cocoon_p256_verify_raw(X509_get0_pubkey(sk_X509_value(chain, 0)), q->qe_report_sig, q->qe_report_raw.ptr,
	                            q->qe_report_raw.len);
	if (ok != 1) {
		err = cocoon_fail(f, COCOON_CHECK_QE_REPORT_SIGNATURE,
		                  "QE report signature does not verify with the PCK certificate's key");
		goto done;
	}
	{
		const void *parts[2] = { q->attest_key, q->qe_auth_data.ptr };
		const size_t lens[2] = { 64, q->qe_auth_data.len };
		if ((err = cocoon_sha256(digest, 2, parts, lens)) != 0)
			goto done;
	}
	if (memcmp(digest, q->qe_report.report_data, 32) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_QE_REPORT_DATA,
		                  "QE report data does not hold SHA-256(attestation key || QE auth data): the attestation "
		                  "key is not the one the QE certified");
		goto done;
	}
	if ((err = check_qe_identity_matches(f, coll->qe_identity, is_tdx)) != 0 ||
	    (err = check_qe_report_identity(f, coll->qe_identity, &q->qe_report)) != 0)
		goto done;
	p->qe_tcb = cocoon_qe_tcb_evaluate(coll->qe_identity, q->qe_report.isv_svn, &p->qe_level);
	if (!(p->attest_key = cocoon_p256_pubkey_from_raw(q->attest_key))) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_SIGNATURE, "attestation key is not a valid P-256 point");
		goto done;
	}
	*out = p;
	p = NULL;
done:
	sk_X509_free(leaf_chain);
	sk_X509_pop_free(chain, X509_free);
	if (p)
		cocoon_ref_put(&p->ref);
	return err;
}

static int platform_get(dcap_platform **out, cocoon_failure *f, cocoon_verifier *v, dcap_collateral *coll,
                        const uint8_t coll_key[32], const cocoon_quote *q, time_t at, const cocoon_verify_options *o,
                        int *hit)
{
	uint8_t key[32];
	const uint8_t tee = q->header.tee_type == COCOON_TEE_TYPE_TDX;
	const void *parts[7] = { coll_key, &tee, q->cert_data.ptr, q->qe_report_raw.ptr, q->qe_report_sig,
		                 q->qe_auth_data.ptr, q->attest_key };
	const size_t lens[7] = { 32, 1, q->cert_data.len, q->qe_report_raw.len, 64, q->qe_auth_data.len, 64 };
	int err;

	*hit = 0;
	if ((err = cocoon_sha256(key, 7, parts, lens)) != 0)
		return err;
	if (!o->no_cache && (*out = (dcap_platform *)cocoon_cache_get(v->platform, key, at)) != NULL) {
		*hit = 1;
		return 0;
	}
	if ((err = platform_verify(out, f, v, coll, q, at, o)) != 0)
		return err;
	if (!o->no_cache && !(*out)->expired)
		cocoon_cache_put(v->platform, key, &(*out)->ref, (*out)->valid_from, (*out)->valid_until);
	return 0;
}

/* Intel's TDX module identity check (QVL 4.1.2.4.11). */
static int check_tdx_module(cocoon_failure *f, const cocoon_tcb_info *ti, const cocoon_quote *q)
{
	const uint8_t *mrsigner = ti->module_mrsigner, *attributes = ti->module_attributes;
	const char *source = "tdxModule";
	uint8_t version = q->td.tee_tcb_svn[1];
	char a[97], b[97];

	if (!ti->has_tdx_module)
		return cocoon_fail(f, COCOON_CHECK_TDX_MODULE, "TDX TCB info has no tdxModule");
	if (q->header.version > 3 && version > 0) {
		const cocoon_tdx_module_identity *mid = cocoon_tdx_module_find(ti, version);
		if (!mid)
			return cocoon_fail(f, COCOON_CHECK_TDX_MODULE,
			                   "TCB info has no TDX module identity TDX_%02X for the quote's module version %u",
			                   version, version);
		mrsigner = mid->mrsigner;
		attributes = mid->attributes;
		source = mid->id;
	}
	if (memcmp(q->td.mr_signer_seam, mrsigner, 48) != 0) {
		cocoon_hex_encode(a, mrsigner, 48);
		cocoon_hex_encode(b, q->td.mr_signer_seam, 48);
		return cocoon_fail(f, COCOON_CHECK_TDX_MODULE, "MRSIGNERSEAM: expected %s (%s), got %s", a, source, b);
	}
	/* Intel requires SEAMATTRIBUTES to be zero and equal to the identity's. */
	for (int i = 0; i < 8; i++) {
		if (q->td.seam_attributes[i] != 0 || q->td.seam_attributes[i] != attributes[i]) {
			cocoon_hex_encode(a, attributes, 8);
			cocoon_hex_encode(b, q->td.seam_attributes, 8);
			return cocoon_fail(f, COCOON_CHECK_TDX_MODULE,
			                   "SEAMATTRIBUTES %s must be zero and equal %s's %s", b, source, a);
		}
	}
	return 0;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* TD_ATTRIBUTES bits (TDX module ABI): TUD 0-7, SEC 8-31, OTHER 32-63. */
#define TD_DEBUG (1ull << 0)
#define TD_TUD_RESERVED 0xfeull
#define TD_SEPT_VE_DISABLE (1ull << 28)
#define TD_PKS (1ull << 30)
#define TD_KL (1ull << 31)
#define TD_PERFMON (1ull << 63)
#define TD_SEC_RESERVED (0xffffff00ull & ~(TD_SEPT_VE_DISABLE | TD_PKS | TD_KL))
#define TD_OTHER_RESERVED (0xffffffff00000000ull & ~TD_PERFMON)

/* The default-on appraisal step: separate from Intel's checks, with opt-outs. */
static int appraise(cocoon_failure *f, const cocoon_quote *q, const cocoon_verify_options *o)
{
	if (q->body_type == COCOON_BODY_SGX) {
		if ((q->sgx.attributes[0] & 0x02) && !o->allow_debug)
			return cocoon_fail(f, COCOON_CHECK_APPRAISAL_SGX_DEBUG,
			                   "enclave ATTRIBUTES.DEBUG is set: a debug enclave's memory is readable by the "
			                   "host; pass --allow-debug only for development");
		return 0;
	}
	uint64_t attr = le64(q->td.td_attributes);
	if ((attr & TD_DEBUG) && !o->allow_debug)
		return cocoon_fail(f, COCOON_CHECK_APPRAISAL_TD_DEBUG,
		                   "TD_ATTRIBUTES.TUD.DEBUG is set (td_attributes 0x%016llx): a debug TD is readable "
		                   "by the host; pass --allow-debug only for development",
		                   (unsigned long long)attr);
	if (!o->allow_td_reserved_bits) {
		uint64_t bad = attr & (TD_TUD_RESERVED | TD_SEC_RESERVED | TD_OTHER_RESERVED);
		if (bad)
			return cocoon_fail(f, COCOON_CHECK_APPRAISAL_TD_ATTRIBUTES,
			                   "TD_ATTRIBUTES has reserved bits set: 0x%016llx (td_attributes 0x%016llx)",
			                   (unsigned long long)bad, (unsigned long long)attr);
	}
	if (!(attr & TD_SEPT_VE_DISABLE) && !o->allow_missing_sept_ve_disable)
		return cocoon_fail(f, COCOON_CHECK_APPRAISAL_TD_SEPT_VE_DISABLE,
		                   "TD_ATTRIBUTES.SEPT_VE_DISABLE is not set (td_attributes 0x%016llx): the guest can "
		                   "be sent #VE on EPT violations",
		                   (unsigned long long)attr);
	if (q->body_type == COCOON_BODY_TD15 && !o->allow_service_td && !cocoon_is_zero(q->td.mr_service_td, 48))
		return cocoon_fail(f, COCOON_CHECK_APPRAISAL_TD_SERVICE_TD,
		                   "MR_SERVICETD is not zero: a service TD is bound to this TD; pass --allow-service-td "
		                   "if that is expected");
	return 0;
}

/* Exported to src/lib/vtpm, which fills the same claims from a TD quote it verified. */
void cocoon_quote_claims_fill(cocoon_result *r, const cocoon_quote *q)
{
	r->has_claims = 1;
	if (q->body_type == COCOON_BODY_SGX) {
		cocoon_sgx_claims *c = &r->sgx;
		memcpy(c->mrenclave, q->sgx.mr_enclave, 32);
		memcpy(c->mrsigner, q->sgx.mr_signer, 32);
		c->isv_prod_id = q->sgx.isv_prod_id;
		c->isv_svn = q->sgx.isv_svn;
		memcpy(c->attributes, q->sgx.attributes, 16);
		c->debug = (q->sgx.attributes[0] & 0x02) != 0;
		memcpy(c->report_data, q->sgx.report_data, 64);
		memcpy(c->config_id, q->sgx.config_id, 64);
		c->config_svn = q->sgx.config_svn;
	} else {
		cocoon_tdx_claims *c = &r->tdx;
		memcpy(c->mrtd, q->td.mr_td, 48);
		memcpy(c->rtmr, q->td.rtmr, sizeof(c->rtmr));
		memcpy(c->mr_config_id, q->td.mr_config_id, 48);
		memcpy(c->mr_owner, q->td.mr_owner, 48);
		memcpy(c->mr_owner_config, q->td.mr_owner_config, 48);
		memcpy(c->td_attributes, q->td.td_attributes, 8);
		memcpy(c->xfam, q->td.xfam, 8);
		memcpy(c->tee_tcb_svn, q->td.tee_tcb_svn, 16);
		memcpy(c->mr_seam, q->td.mr_seam, 48);
		memcpy(c->mr_signer_seam, q->td.mr_signer_seam, 48);
		memcpy(c->report_data, q->td.report_data, 64);
		c->debug = (q->td.td_attributes[0] & 0x01) != 0;
		if (q->body_type == COCOON_BODY_TD15) {
			c->has_td15 = 1;
			memcpy(c->tee_tcb_svn2, q->td.tee_tcb_svn2, 16);
			memcpy(c->mr_service_td, q->td.mr_service_td, 48);
		}
	}
}

static void add_advisories(cocoon_result *r, const cocoon_advisories *a)
{
	for (size_t i = 0; a && i < a->n; i++) {
		size_t j;
		for (j = 0; j < r->n_advisories; j++)
			if (strcmp(r->advisory_ids[j], a->ids[i]) == 0)
				break;
		if (j == r->n_advisories && r->n_advisories < COCOON_MAX_ADVISORIES)
			snprintf(r->advisory_ids[r->n_advisories++], sizeof(r->advisory_ids[0]), "%s", a->ids[i]);
	}
}

static cocoon_tcb_status qe_status_of(cocoon_qe_tcb t, const cocoon_isv_tcb_level *l)
{
	if (t == COCOON_QE_TCB_NOT_SUPPORTED)
		return COCOON_TCB_NOT_SUPPORTED;
	return l ? l->status : COCOON_TCB_UNKNOWN;
}

static int reject(cocoon_result *r, const cocoon_failure *f)
{
	r->accepted = 0;
	r->failed_check = f->check;
	snprintf(r->reason, sizeof(r->reason), "%s", f->reason);
	return 0;
}

int cocoon_verifier_verify_dcap(cocoon_result *r, cocoon_verifier *v, const uint8_t *quote, size_t quote_len,
                                const cocoon_collateral *collateral, const cocoon_verify_options *opts)
{
	cocoon_verify_options defaults = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_failure f = { 0 };
	cocoon_quote q;
	dcap_collateral *coll = NULL;
	dcap_platform *plat = NULL;
	cocoon_tcb_eval ev;
	uint8_t coll_key[32];
	time_t at;
	int err = 0, is_tdx;

	if (!r || !v || (!quote && quote_len) || !collateral)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_verify_dcap: NULL argument");
	if (!opts)
		opts = &defaults;
	memset(r, 0, sizeof(*r));
	at = opts->at ? opts->at : time(NULL);
	r->verified_at = at;
	r->simulated = v->trust_simulation;

	if (cocoon_quote_parse(&q, &f, quote, quote_len) != 0) {
		err = reject(r, &f);
		goto done;
	}
	is_tdx = q.header.tee_type == COCOON_TEE_TYPE_TDX;
	r->tee = is_tdx ? COCOON_TEE_TDX : COCOON_TEE_SGX;
	r->quote_version = q.header.version;
	cocoon_quote_claims_fill(r, &q);

	if (memcmp(q.header.qe_vendor_id, cocoon_intel_qe_vendor_id, 16) != 0) {
		char hex[33];
		cocoon_hex_encode(hex, q.header.qe_vendor_id, 16);
		cocoon_fail(&f, COCOON_CHECK_QE_VENDOR_ID,
		            "QE vendor ID %s is not Intel's 939a7233f79c4ca9940a0db3957f0607", hex);
		err = reject(r, &f);
		goto done;
	}
	if (q.cert_type != COCOON_CERT_TYPE_PCK_CHAIN) {
		cocoon_fail(&f, COCOON_CHECK_CERTIFICATION_DATA,
		            "certification data type %u carries no PCK certificate chain; cocoon verifies quotes whose "
		            "QE embeds the chain (type 5)",
		            q.cert_type);
		err = reject(r, &f);
		goto done;
	}
	{
		const void *parts[2] = { collateral->digest, v->intel_root_digest };
		const size_t lens[2] = { 32, 32 };
		if ((err = cocoon_sha256(coll_key, 2, parts, lens)) != 0)
			goto done;
	}
	if ((err = collateral_get(&coll, &f, v, collateral, coll_key, opts, at, &r->cache_collateral_hit)) != 0) {
		if (err == COCOON_EREJECT)
			err = reject(r, &f);
		goto done;
	}
	if ((err = platform_get(&plat, &f, v, coll, coll_key, &q, at, opts, &r->cache_platform_hit)) != 0) {
		if (err == COCOON_EREJECT)
			err = reject(r, &f);
		goto done;
	}
	r->collateral_expired = plat->expired;

	if (cocoon_p256_verify_raw(plat->attest_key, q.signature, q.signed_data.ptr, q.signed_data.len) != 1) {
		cocoon_fail(&f, COCOON_CHECK_QUOTE_SIGNATURE,
		            "quote signature does not verify with the attestation key over the header and body (%zu "
		            "bytes): the quote was altered",
		            q.signed_data.len);
		err = reject(r, &f);
		goto done;
	}
	if (is_tdx && check_tdx_module(&f, coll->tcb_info, &q) != 0) {
		err = reject(r, &f);
		goto done;
	}

	cocoon_tcb_evaluate(&ev, coll->tcb_info, plat->pck.comp_svn, plat->pck.pce_svn, is_tdx, q.header.version,
	                    is_tdx ? q.td.tee_tcb_svn : NULL,
	                    q.body_type == COCOON_BODY_TD15 ? q.td.tee_tcb_svn2 : NULL, plat->qe_tcb);
	r->status = ev.status;
	r->platform_status = ev.platform_status;
	r->module_status = is_tdx ? ev.module_status : COCOON_TCB_UNKNOWN;
	r->qe_status = qe_status_of(plat->qe_tcb, plat->qe_level);
	r->has_platform = 1;
	memcpy(r->platform.fmspc, plat->pck.fmspc, 6);
	memcpy(r->platform.pceid, plat->pck.pceid, 2);
	r->platform.pce_svn = plat->pck.pce_svn;
	memcpy(r->platform.cpu_svn, plat->pck.cpu_svn, 16);
	r->platform.has_ppid = 1;
	memcpy(r->platform.ppid, plat->pck.ppid, 16);
	r->platform.tcb_eval_data_number = coll->tcb_info->tcb_eval_data_number;
	r->platform.qe_svn = q.qe_report.isv_svn;
	{
		const cocoon_tcb_level *lvl = is_tdx ? ev.tdx_level : ev.sgx_level;
		if (lvl) {
			r->platform.tcb_date = lvl->tcb_date;
			add_advisories(r, &lvl->advisories);
		}
		if (ev.module_level)
			add_advisories(r, &ev.module_level->advisories);
		if (plat->qe_level)
			add_advisories(r, &plat->qe_level->advisories);
	}
	r->collateral_earliest_expiry = plat->valid_until;

	if (plat->qe_tcb == COCOON_QE_TCB_NOT_SUPPORTED) {
		cocoon_fail(&f, COCOON_CHECK_QE_TCB, "TCB not supported: QE ISVSVN %u is below every QE identity TCB level",
		            q.qe_report.isv_svn);
		err = reject(r, &f);
		goto done;
	}
	if (ev.module_mismatch) {
		cocoon_fail(&f, COCOON_CHECK_TDX_MODULE, "%s", ev.detail);
		err = reject(r, &f);
		goto done;
	}
	if (ev.status == COCOON_TCB_NOT_SUPPORTED) {
		cocoon_fail(&f, ev.module_level == NULL && ev.tdx_level && is_tdx ? COCOON_CHECK_TDX_MODULE
		                                                                  : COCOON_CHECK_TCB_LEVEL,
		            "TCB not supported: %s", ev.detail);
		err = reject(r, &f);
		goto done;
	}
	if (ev.status == COCOON_TCB_REVOKED) {
		cocoon_fail(&f, COCOON_CHECK_TCB_REVOKED,
		            "TCB is revoked (platform %s, QE %s%s%s): this platform must not be trusted",
		            cocoon_tcb_status_name(ev.platform_status), cocoon_tcb_status_name(r->qe_status),
		            is_tdx ? ", module " : "", is_tdx ? cocoon_tcb_status_name(ev.module_status) : "");
		err = reject(r, &f);
		goto done;
	}
	if (ev.status == COCOON_TCB_UNKNOWN) {
		cocoon_fail(&f, COCOON_CHECK_TCB_LEVEL, "TCB status could not be determined: %s", ev.detail);
		err = reject(r, &f);
		goto done;
	}
	if (appraise(&f, &q, opts) != 0) {
		err = reject(r, &f);
		goto done;
	}
	r->accepted = 1;
done:
	if (plat)
		cocoon_ref_put(&plat->ref);
	if (coll)
		cocoon_ref_put(&coll->ref);
	return err;
}

/*
 * Collateral alone, as fetched: the chains to the trusted root, both CRLs,
 * the TCB info and QE identity signatures and every date, at opts->at. The
 * collateral client's tests and `cocoon collateral fetch` use it so that
 * nothing fetched is kept unless it would pass inside a quote's verification.
 */
int cocoon_verifier_verify_collateral(cocoon_result *r, cocoon_verifier *v, const cocoon_collateral *collateral,
                                      const cocoon_verify_options *opts)
{
	cocoon_verify_options defaults = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_failure f = { 0 };
	dcap_collateral *coll = NULL;
	int err;

	if (!r || !v || !collateral)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_verify_collateral: NULL argument");
	if (!opts)
		opts = &defaults;
	memset(r, 0, sizeof(*r));
	r->verified_at = opts->at ? opts->at : time(NULL);
	err = collateral_verify(&coll, &f, v, collateral, r->verified_at, opts->allow_expired_collateral, 1);
	if (err == COCOON_EREJECT)
		return reject(r, &f);
	if (err)
		return err;
	r->accepted = 1;
	r->collateral_expired = coll->expired;
	r->tee = coll->tcb_info->is_tdx ? COCOON_TEE_TDX : COCOON_TEE_SGX;
	cocoon_ref_put(&coll->ref);
	return 0;
}
