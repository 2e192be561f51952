/*
 * az-tdx-vtpm: the HCL report carries a TDREPORT (MAC'd, verifiable only on
 * the platform) and the evidence a DCAP TD quote that IMDS made from it.
 * Trustee binds the two only through REPORTDATA; we also require every
 * field of the quote body to equal the TDREPORT's, and the TDREPORT's two
 * SHA-384 hashes to match the structures they cover.
 *
 * The TD quote is verified with the DCAP verifier when the caller gives
 * collateral. Without it, what verifies offline is checked (the quote and
 * QE report signatures, the attestation-key binding, the PCK chain's
 * signatures up to the pinned Intel root) and the result is a rejection
 * with COCOON_CHECK_COLLATERAL saying that the TCB status is unverified.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "dcap/quote.h"
#include "dcap/verifier.h"
#include "dcap/x509.h"
#include "vtpm/vtpm_int.h"

static int reject(cocoon_result *r, const cocoon_failure *f)
{
	r->accepted = 0;
	r->status = COCOON_TCB_UNKNOWN;
	r->failed_check = f->check;
	snprintf(r->reason, sizeof(r->reason), "%s", f->reason);
	return 0;
}

/* The TDREPORT's TEE_TCB_INFO and TDINFO laid out as a quote body of that type. */
static void body_from_tdreport(uint8_t body[COCOON_TD15_REPORT_SIZE], const uint8_t *t)
{
	memcpy(body, t + 264, 120);                         /* TEE_TCB_SVN .. SEAMATTRIBUTES */
	memcpy(body + 120, t + TDREPORT_OFF_TD_INFO, 400);  /* TDATTRIBUTES .. RTMR3 */
	memcpy(body + 520, t + TDREPORT_OFF_REPORT_DATA, 64);
	memcpy(body + 584, t + 384, 16);                    /* TEE_TCB_SVN2 */
	memcpy(body + 600, t + 912, 48);                    /* SERVTD_HASH */
}

static int field_differs(cocoon_failure *f, const char *name, const uint8_t *hcl, const uint8_t *quote, size_t n)
{
	char a[2 * 64 + 1], b[2 * 64 + 1];

	if (memcmp(hcl, quote, n) == 0)
		return 0;
	cocoon_hex_encode(a, hcl, n);
	cocoon_hex_encode(b, quote, n);
	return cocoon_fail(f, COCOON_CHECK_TD_REPORT_MISMATCH,
	                   "TD quote %s is %s, but the HCL report's TDREPORT has %s: the quote was not made from this "
	                   "TD report",
	                   name, b, a);
}

static int check_td_hashes(cocoon_failure *f, const uint8_t *t)
{
	uint8_t d[48];

	if (!EVP_Digest(t + TDREPORT_OFF_TEE_TCB_INFO, TDREPORT_TEE_TCB_INFO_LEN, d, NULL, EVP_sha384(), NULL))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "TDREPORT hash");
	if (memcmp(d, t + TDREPORT_OFF_TCB_INFO_HASH, 48) != 0)
		return cocoon_fail(f, COCOON_CHECK_TD_REPORT_MISMATCH,
		                   "HCL TDREPORT: TEE_TCB_INFO_HASH (offset 32) is not SHA-384 of TEE_TCB_INFO (offset "
		                   "256): the TD report is inconsistent");
	if (!EVP_Digest(t + TDREPORT_OFF_TD_INFO, TDREPORT_TD_INFO_LEN, d, NULL, EVP_sha384(), NULL))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "TDREPORT hash");
	if (memcmp(d, t + TDREPORT_OFF_TD_INFO_HASH, 48) != 0)
		return cocoon_fail(f, COCOON_CHECK_TD_REPORT_MISMATCH,
		                   "HCL TDREPORT: TEE_INFO_HASH (offset 80) is not SHA-384 of TDINFO (offset 512): the TD "
		                   "report is inconsistent");
	return 0;
}

static int compare_report(cocoon_failure *f, const uint8_t *tdreport, const cocoon_quote *q)
{
	uint8_t body[COCOON_TD15_REPORT_SIZE];
	cocoon_td_report h;
	int err;

	if ((err = check_td_hashes(f, tdreport)) != 0)
		return err;
	body_from_tdreport(body, tdreport);
	cocoon_td_report_decode(&h, body, q->body_type);
	if ((err = field_differs(f, "TEE_TCB_SVN", h.tee_tcb_svn, q->td.tee_tcb_svn, 16)) ||
	    (err = field_differs(f, "MRSEAM", h.mr_seam, q->td.mr_seam, 48)) ||
	    (err = field_differs(f, "MRSIGNERSEAM", h.mr_signer_seam, q->td.mr_signer_seam, 48)) ||
	    (err = field_differs(f, "SEAMATTRIBUTES", h.seam_attributes, q->td.seam_attributes, 8)) ||
	    (err = field_differs(f, "TDATTRIBUTES", h.td_attributes, q->td.td_attributes, 8)) ||
	    (err = field_differs(f, "XFAM", h.xfam, q->td.xfam, 8)) ||
	    (err = field_differs(f, "MRTD", h.mr_td, q->td.mr_td, 48)) ||
	    (err = field_differs(f, "MRCONFIGID", h.mr_config_id, q->td.mr_config_id, 48)) ||
	    (err = field_differs(f, "MROWNER", h.mr_owner, q->td.mr_owner, 48)) ||
	    (err = field_differs(f, "MROWNERCONFIG", h.mr_owner_config, q->td.mr_owner_config, 48)))
		return err;
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "RTMR%d", i);
		if ((err = field_differs(f, name, h.rtmr[i], q->td.rtmr[i], 48)) != 0)
			return err;
	}
	if ((err = field_differs(f, "REPORTDATA", h.report_data, q->td.report_data, 64)) != 0)
		return err;
	if (q->body_type == COCOON_BODY_TD15 &&
	    ((err = field_differs(f, "TEE_TCB_SVN2", h.tee_tcb_svn2, q->td.tee_tcb_svn2, 16)) ||
	     (err = field_differs(f, "MRSERVICETD", h.mr_service_td, q->td.mr_service_td, 48))))
		return err;
	return 0;
}

/* PCK leaf -> CA -> root: signatures and issuer names, ending in the pinned root (no CRLs, no dates). */
static int check_pck_signatures(cocoon_failure *f, X509 *root, const cocoon_quote *q)
{
	STACK_OF(X509) *chain = NULL;
	int n, err = 0;

	if (cocoon_pem_chain_parse(&chain, (const char *)q->cert_data.ptr, q->cert_data.len) != 0)
		return cocoon_fail(f, COCOON_CHECK_PCK_CHAIN, "TD quote PCK chain: %s", cocoon_error_last()->message);
	n = sk_X509_num(chain);
	if (n < 2) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_CHAIN, "TD quote PCK chain has %d certificates, expected 3", n);
		goto done;
	}
	for (int i = 0; i + 1 < n; i++) {
		X509 *c = sk_X509_value(chain, i), *issuer = sk_X509_value(chain, i + 1);
		if (X509_check_issued(issuer, c) != X509_V_OK || X509_verify(c, X509_get0_pubkey(issuer)) != 1) {
			err = cocoon_fail(f, COCOON_CHECK_PCK_CHAIN,
			                  "TD quote PCK chain: certificate %d is not signed by certificate %d", i, i + 1);
			goto done;
		}
	}
	if (X509_cmp(sk_X509_value(chain, n - 1), root) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_PCK_CHAIN,
		                  "TD quote PCK chain does not end in the pinned Intel SGX Root CA");
		goto done;
	}
	if (cocoon_p256_verify_raw(X509_get0_pubkey(sk_X509_value(chain, 0)), q->qe_report_sig, q->qe_report_raw.ptr,
	                           q->qe_report_raw.len) != 1)
		err = cocoon_fail(f, COCOON_CHECK_QE_REPORT_SIGNATURE,
		                  "TD quote: the QE report signature does not verify with the PCK certificate's key");
done:
	sk_X509_pop_free(chain, X509_free);
	return err;
}

/* What verifies without collateral; on success the caller still rejects for the TCB status. */
static int verify_offline(cocoon_failure *f, X509 *root, const cocoon_quote *q)
{
	uint8_t digest[32];
	const void *parts[2] = { q->attest_key, q->qe_auth_data.ptr };
	const size_t lens[2] = { 64, q->qe_auth_data.len };
	EVP_PKEY *ak;
	int ok, err;

	if (memcmp(q->header.qe_vendor_id, cocoon_intel_qe_vendor_id, 16) != 0)
		return cocoon_fail(f, COCOON_CHECK_QE_VENDOR_ID, "TD quote QE vendor ID is not Intel's");
	if (q->cert_type != COCOON_CERT_TYPE_PCK_CHAIN)
		return cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                   "TD quote certification data type %u carries no PCK chain (type 5)", q->cert_type);
	if ((err = check_pck_signatures(f, root, q)) != 0)
		return err;
	if ((err = cocoon_sha256(digest, 2, parts, lens)) != 0)
		return err;
	if (memcmp(digest, q->qe_report.report_data, 32) != 0)
		return cocoon_fail(f, COCOON_CHECK_QE_REPORT_DATA,
		                   "TD quote: QE report data is not SHA-256(attestation key || QE auth data)");
	if (!(ak = cocoon_p256_pubkey_from_raw(q->attest_key)))
		return cocoon_fail(f, COCOON_CHECK_QUOTE_SIGNATURE, "TD quote attestation key is not a P-256 point");
	ok = cocoon_p256_verify_raw(ak, q->signature, q->signed_data.ptr, q->signed_data.len);
	EVP_PKEY_free(ak);
	if (ok != 1)
		return cocoon_fail(f, COCOON_CHECK_QUOTE_SIGNATURE,
		                   "TD quote signature does not verify with its attestation key: the quote was altered");
	return 0;
}

int cocoon_vtpm_verify_tdx(cocoon_result *result, cocoon_verifier *v, const cocoon_hcl_report *h,
                           const cocoon_vtpm_evidence *ev, const cocoon_vtpm_inputs *in,
                           const cocoon_verify_options *opts, int *hw_verified)
{
	cocoon_failure f = { 0 };
	cocoon_quote q;
	X509 *root = NULL;
	int err;

	*hw_verified = 0;
	if (cocoon_quote_parse(&q, &f, ev->td_quote, ev->td_quote_len) != 0)
		return reject(result, &f);
	if (q.header.tee_type != COCOON_TEE_TYPE_TDX || q.body_type == COCOON_BODY_SGX) {
		cocoon_fail(&f, COCOON_CHECK_TEE_TYPE, "td_quote is not a TDX quote (TEE type 0x%08x)", q.header.tee_type);
		return reject(result, &f);
	}
	result->quote_version = q.header.version;
	cocoon_quote_claims_fill(result, &q);
	/* The quote's REPORTDATA equals the TDREPORT's, whose binding the caller checked. */
	if ((err = compare_report(&f, h->hw_report, &q)) != 0)
		return err == COCOON_EREJECT ? reject(result, &f) : err;
	if (in->tdx_collateral) {
		if (!v)
			return cocoon_error_set(COCOON_EINVAL, "az-tdx-vtpm with collateral needs a verifier");
		if ((err = cocoon_verifier_verify_dcap(result, v, ev->td_quote, ev->td_quote_len, in->tdx_collateral,
		                                       opts)) != 0)
			return err;
		*hw_verified = result->accepted;
		return 0;
	}
	if (v) {
		root = v->intel_root;
		X509_up_ref(root);
	} else if ((err = cocoon_cert_parse(&root, cocoon_intel_sgx_root_der, cocoon_intel_sgx_root_der_len)) != 0) {
		return err;
	}
	err = verify_offline(&f, root, &q);
	X509_free(root);
	if (err != 0)
		return err == COCOON_EREJECT ? reject(result, &f) : err;
	cocoon_fail(&f, COCOON_CHECK_COLLATERAL,
	            "TCB status unverified: no DCAP collateral was given for the TD quote. The vTPM quote, the HCL "
	            "binding, the TD report/quote field comparison, the quote and QE report signatures and the PCK "
	            "chain's signatures verified; the TCB level, the QE identity, revocation (CRLs) and certificate "
	            "dates did not. Pass TDX collateral (TCB info and QE identity for this platform's FMSPC, CRLs) "
	            "to decide");
	return reject(result, &f);
}
