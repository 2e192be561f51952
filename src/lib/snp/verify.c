/*
 * SEV-SNP report verification (verifiers.md table A.2) in two stages:
 *
 *   endorsement  VCEK/VLEK -> ASK/ASVK -> ARK chain, KDS profile, CRL
 *                cocoon_snp_vcek_verify(); cacheable under
 *                cocoon_snp_vcek_cache_key() for [valid_from, valid_until]
 *   per report   format, signer kind, product line, P-384 signature,
 *                REPORTED_TCB/CHIP_ID binding, appraisal
 *                cocoon_snp_verify_report_with()
 *
 * A cached verification runs only the second stage, whose cost is one
 * P-384 signature verification: measured on the 2-vCPU build machine
 * (OpenSSL 3.0.19, -O2), about 1 840 cached verifications/s against
 * `openssl speed ecdsap384` at 1 770 verify/s in the same minute, and about
 * 800/s uncached (three RSA verifications, parsing, the P-384 verification).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "snp/snp.h"
#include "dcap/verifier.h"

static void result_start(cocoon_result *res, time_t at)
{
	memset(res, 0, sizeof(*res));
	res->tee = COCOON_TEE_SNP;
	res->verified_at = at;
	res->failed_check = COCOON_CHECK_NONE;
}

static int result_reject(cocoon_result *res, const cocoon_failure *f)
{
	res->accepted = 0;
	res->status = COCOON_TCB_UNKNOWN;
	res->failed_check = f->check;
	snprintf(res->reason, sizeof(res->reason), "%s", f->reason);
	return 0;
}

static int check_args(const cocoon_snp_inputs *in, const cocoon_snp_policy *policy,
                      const cocoon_verify_options *opts)
{
	if (in && in->version != COCOON_SNP_INPUTS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "SNP inputs version %u, expected %u (use COCOON_SNP_INPUTS_INIT)",
		                        in->version, COCOON_SNP_INPUTS_VERSION);
	if (policy && policy->version != COCOON_SNP_POLICY_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "SNP policy version %u, expected %u (use COCOON_SNP_POLICY_INIT)",
		                        policy->version, COCOON_SNP_POLICY_VERSION);
	if (opts && opts->version != COCOON_VERIFY_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "verify options version %u, expected %u", opts->version,
		                        COCOON_VERIFY_OPTIONS_VERSION);
	return 0;
}

static const char *signer_name(int s)
{
	return s == COCOON_SNP_SIGNER_VCEK ? "VCEK" : s == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "none";
}

int cocoon_snp_select_cert(const uint8_t **cert, size_t *cert_len, cocoon_failure *f, const cocoon_snp_inputs *in,
                           const uint8_t *report, size_t len)
{
	cocoon_snp_certtable table;
	const cocoon_snp_cert_entry *e;
	int signer = COCOON_SNP_SIGNER_VCEK;

	*cert = NULL;
	*cert_len = 0;
	if (in && in->vcek && in->vcek_len) {
		*cert = in->vcek;
		*cert_len = in->vcek_len;
		return 0;
	}
	if (in && in->certs && in->certs_len) {
		if (cocoon_snp_certtable_parse(&table, in->certs, in->certs_len) != 0)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN, "%s", cocoon_error_last()->message);
		if (report && len >= 0x4C)
			signer = (int)((cocoon_le32(report + 0x48) >> 2) & 7);
		e = cocoon_snp_certtable_find(&table, signer == COCOON_SNP_SIGNER_VLEK ? COCOON_SNP_CERT_VLEK
		                                                                          : COCOON_SNP_CERT_VCEK);
		if (e) {
			*cert = e->data;
			*cert_len = e->length;
			return 0;
		}
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                       "the certificate table (%zu entries) has no %s entry for the report's signing key; "
		                       "pass the %s certificate",
		                       table.n, signer_name(signer), signer_name(signer));
	}
	return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
	                       "no VCEK/VLEK certificate: pass the certificate that signed the report (AMD KDS) or the "
	                       "extended report's certificate table");
}

/* The product line, from the CPUID (v3+) or the VCEK productName (v2), cross-checked with the caller's. */
static int resolve_product(cocoon_snp_product *out, cocoon_failure *f, const cocoon_snp_report *r,
                           const cocoon_snp_vcek_verified *vv, const char *product)
{
	cocoon_snp_product hint = COCOON_SNP_PRODUCT_UNKNOWN, p;
	const char *role = vv->signer == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "VCEK";

	if (product && cocoon_snp_product_parse(&hint, product) != 0)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
		                       "product \"%s\" is not a supported SEV-SNP product line; use Milan, Genoa or Turin",
		                       product);
	if (r->has_cpuid) {
		p = cocoon_snp_product_from_cpuid(r->cpuid_fam_id, r->cpuid_mod_id);
		if (p == COCOON_SNP_PRODUCT_UNKNOWN) {
			if (hint == COCOON_SNP_PRODUCT_UNKNOWN)
				return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
				                       "report CPUID family 0x%02x model 0x%02x stepping %u (offset 0x188) is not "
				                       "a known product line (Milan 19h/01h, Genoa 19h/11h, Turin 1Ah/02h); "
				                       "pass the product explicitly",
				                       r->cpuid_fam_id, r->cpuid_mod_id, r->cpuid_step);
			p = hint;
		} else if (hint != COCOON_SNP_PRODUCT_UNKNOWN && hint != p) {
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
			                       "product: expected %s (caller), actual %s (report CPUID family 0x%02x model "
			                       "0x%02x)",
			                       cocoon_snp_product_name(hint), cocoon_snp_product_name(p), r->cpuid_fam_id,
			                       r->cpuid_mod_id);
		}
		if (p != vv->product)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
			                       "product: the report is from a %s (CPUID family 0x%02x model 0x%02x) but the "
			                       "%s is for %s (productName \"%s\")",
			                       cocoon_snp_product_name(p), r->cpuid_fam_id, r->cpuid_mod_id, role,
			                       cocoon_snp_product_name(vv->product), vv->ext.product_name);
	} else {
		/* v2 reports carry no CPUID: the chain-verified productName decides. */
		p = vv->product;
		if (hint != COCOON_SNP_PRODUCT_UNKNOWN && hint != p)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
			                       "product: expected %s (caller), actual %s (%s productName \"%s\"; a v2 report "
			                       "carries no CPUID)",
			                       cocoon_snp_product_name(hint), cocoon_snp_product_name(p), role,
			                       vv->ext.product_name);
	}
	*out = p;
	return 0;
}

static int tcb_le(uint64_t a, uint64_t b, cocoon_snp_product p)
{
	cocoon_snp_tcb x, y;
	cocoon_snp_tcb_decode(&x, a, p);
	cocoon_snp_tcb_decode(&y, b, p);
	return x.bl_spl <= y.bl_spl && x.tee_spl <= y.tee_spl && x.snp_spl <= y.snp_spl && x.ucode_spl <= y.ucode_spl &&
	       x.fmc_spl <= y.fmc_spl;
}

/* REPORTED_TCB and CHIP_ID against what AMD certified in the VCEK/VLEK. */
static int check_binding(cocoon_failure *f, const cocoon_snp_report *r, const cocoon_snp_vcek_verified *vv,
                         cocoon_snp_product p)
{
	const char *role = vv->signer == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "VCEK";
	char want[96], got[96], cur[96];

	if (r->reported_tcb != vv->ext.tcb) {
		cocoon_snp_tcb_format(want, sizeof(want), vv->ext.tcb, p);
		cocoon_snp_tcb_format(got, sizeof(got), r->reported_tcb, p);
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_TCB_BINDING,
		                       "REPORTED_TCB (offset 0x180): expected 0x%016llx (%s, the %s TCB extensions), "
		                       "actual 0x%016llx (%s); fetch the %s for this TCB",
		                       (unsigned long long)vv->ext.tcb, want, role, (unsigned long long)r->reported_tcb,
		                       got, role);
	}
	if (!tcb_le(r->reported_tcb, r->current_tcb, p)) {
		cocoon_snp_tcb_format(got, sizeof(got), r->reported_tcb, p);
		cocoon_snp_tcb_format(cur, sizeof(cur), r->current_tcb, p);
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_TCB_BINDING,
		                       "REPORTED_TCB (%s) exceeds CURRENT_TCB (%s) in some component; the platform "
		                       "cannot run below its reported TCB",
		                       got, cur);
	}
	if (vv->signer != COCOON_SNP_SIGNER_VCEK || r->mask_chip_key)
		return 0; /* a VLEK has no HWID; a masked CHIP_ID is zero (checked by the parser) */
	if (cocoon_memcmp_ct(r->chip_id, vv->ext.hwid, vv->ext.hwid_len) != 0) {
		char a[2 * 64 + 1], b[2 * 64 + 1];
		cocoon_hex_encode(a, vv->ext.hwid, vv->ext.hwid_len);
		cocoon_hex_encode(b, r->chip_id, vv->ext.hwid_len);
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CHIP_ID,
		                       "CHIP_ID (offset 0x1A0%s): expected %s (VCEK hwID), actual %s; the VCEK belongs to "
		                       "another chip",
		                       vv->ext.hwid_len == 8 ? ", first 8 bytes on Turin" : "", a, b);
	}
	return 0;
}

/* SIGNING_KEY 7 means nobody signed the report. */
static int check_signed(cocoon_failure *f, const cocoon_snp_report *r)
{
	if (r->signing_key == COCOON_SNP_SIGNER_NONE)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_SIGNATURE,
		                       "SIGNING_KEY (offset 0x048) is 7 (none): the report is unsigned and proves nothing");
	return 0;
}

/* Parses the report into r and starts the result's claims; rejects a malformed report. */
static int start_report(cocoon_result *result, cocoon_snp_report *r, const uint8_t *report, size_t len,
                        cocoon_failure *f)
{
	if (cocoon_snp_report_parse(r, f, report, len) != 0) {
		if (f->check == COCOON_CHECK_NONE)
			return cocoon_error_last()->code;
		return result_reject(result, f);
	}
	result->quote_version = (int)r->version;
	result->has_claims = 1;
	cocoon_snp_claims_fill(&result->snp, r, COCOON_SNP_PRODUCT_UNKNOWN);
	return 1;
}

/* Everything after parsing, against an already verified VCEK/VLEK: the hot path of a cached verification. */
static int verify_parsed(cocoon_result *result, const cocoon_snp_vcek_verified *vv, const uint8_t *report,
                         const cocoon_snp_report *r, const char *product, const cocoon_snp_policy *policy,
                         time_t at, int allow_debug)
{
	static const cocoon_snp_policy default_policy = COCOON_SNP_POLICY_INIT;
	cocoon_failure f = { 0 };
	cocoon_snp_product p = COCOON_SNP_PRODUCT_UNKNOWN;
	char a[32], b[32], c[32];
	int ok;

	if (!policy)
		policy = &default_policy;
	if (at < vv->valid_from || at > vv->valid_until) {
		cocoon_time_format(a, sizeof(a), vv->valid_from);
		cocoon_time_format(b, sizeof(b), vv->valid_until);
		cocoon_time_format(c, sizeof(c), at);
		COCOON_SNP_FAIL(&f, vv->crl_checked ? COCOON_CHECK_SNP_CRL : COCOON_CHECK_SNP_VCEK_CHAIN,
		                "verification time %s is outside the window %s .. %s where the %s chain%s verified", c,
		                a, b, vv->signer == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "VCEK",
		                vv->crl_checked ? " and CRL" : "");
		return result_reject(result, &f);
	}
	if (check_signed(&f, r) != 0)
		return result_reject(result, &f);
	if (r->signing_key != vv->signer) {
		COCOON_SNP_FAIL(&f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                "SIGNING_KEY (offset 0x048): expected %s (the certificate given), actual %s; pass the %s "
		                "certificate",
		                signer_name(vv->signer), signer_name(r->signing_key), signer_name(r->signing_key));
		return result_reject(result, &f);
	}
	if (resolve_product(&p, &f, r, vv, product) != 0)
		return result_reject(result, &f);
	cocoon_snp_claims_fill(&result->snp, r, p);

	ok = cocoon_snp_signature_verify(vv->key, report, r);
	if (ok < 0)
		return cocoon_error_set(COCOON_EINTERNAL, "SNP report signature: OpenSSL failed to run the verification");
	if (ok == 0) {
		COCOON_SNP_FAIL(&f, COCOON_CHECK_SNP_SIGNATURE,
		                "report signature (offset 0x2A0) does not verify with the %s key over bytes [0, 0x2A0): "
		                "the report was altered or signed by another key",
		                signer_name(vv->signer));
		return result_reject(result, &f);
	}
	if (check_binding(&f, r, vv, p) != 0)
		return result_reject(result, &f);
	if (cocoon_snp_appraise(&f, r, p, policy, allow_debug) != 0)
		return result_reject(result, &f);

	result->accepted = 1;
	result->status = COCOON_TCB_UP_TO_DATE;
	return 0;
}

int cocoon_snp_verify_report_with(cocoon_result *result, const cocoon_snp_vcek_verified *vv, const uint8_t *report,
                                  size_t len, const char *product, const cocoon_snp_policy *policy,
                                  const cocoon_verify_options *opts)
{
	cocoon_snp_report r;
	cocoon_failure f = { 0 };
	time_t at;
	int err;

	if (!result || !vv || !report)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_snp_verify_report_with: NULL argument");
	if ((err = check_args(NULL, policy, opts)) != 0)
		return err;
	at = opts && opts->at ? opts->at : time(NULL);
	result_start(result, at);
	if ((err = start_report(result, &r, report, len, &f)) != 1)
		return err;
	return verify_parsed(result, vv, report, &r, product, policy, at, opts ? opts->allow_debug : 0);
}

static int verify_snp(cocoon_result *result, cocoon_verifier *v, const uint8_t *report, size_t len,
                      const cocoon_snp_inputs *in, const cocoon_snp_policy *policy, const cocoon_verify_options *opts,
                      int trust_simulation)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_snp_vcek_verified *vv = NULL;
	cocoon_snp_report r;
	uint8_t key[32];
	cocoon_failure f = { 0 };
	const uint8_t *cert;
	size_t cert_len;
	time_t at;
	int err;

	if (!result || !report)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_verify_snp: NULL argument");
	if ((err = check_args(in, policy, opts)) != 0)
		return err;
	if (opts)
		o = *opts;
	/* Both stages judge validity at the same instant. */
	at = o.at = o.at ? o.at : time(NULL);
	result_start(result, at);

	/* A malformed or unsigned report is rejected before any certificate work. */
	if ((err = start_report(result, &r, report, len, &f)) != 1)
		return err;
	if (check_signed(&f, &r) != 0)
		return result_reject(result, &f);
	if (cocoon_snp_select_cert(&cert, &cert_len, &f, in, report, len) != 0)
		return result_reject(result, &f);
	/* The verified VCEK chain is cached by its exact bytes, for the window in
	 * which its validity and CRL checks hold: a hit leaves the report's own
	 * checks (the P-384 signature, binding, appraisal). */
	if ((err = cocoon_snp_vcek_cache_key(key, cert, cert_len, in ? in->chain : NULL, in ? in->chain_len : 0,
	                                     in ? in->crl : NULL, in ? in->crl_len : 0)) != 0)
		return err;
	if (v && !o.no_cache && (vv = (cocoon_snp_vcek_verified *)cocoon_cache_get(v->snp, key, at)) != NULL) {
		result->cache_platform_hit = 1;
	} else {
		err = cocoon_snp_vcek_verify(&vv, &f, cert, cert_len, in ? in->chain : NULL, in ? in->chain_len : 0,
		                             in ? in->crl : NULL, in ? in->crl_len : 0, at);
		if (err == COCOON_EREJECT) {
			/* A chain that failed because a simulation signed it says so. */
			if (f.check == COCOON_CHECK_SNP_VCEK_CHAIN && !trust_simulation)
				cocoon_snp_explain_simulation(&f, cert, cert_len, in);
			return result_reject(result, &f);
		}
		if (err != 0)
			return err;
		if (v && !o.no_cache)
			cocoon_cache_put(v->snp, key, &vv->ref, vv->valid_from, vv->valid_until);
	}
	/* A simulation ARK passed as the trusted chain still needs trust_simulation. */
	if (vv->simulated && !trust_simulation) {
		cocoon_snp_fail_untrusted_simulation(&f, vv);
		cocoon_snp_vcek_put(vv);
		return result_reject(result, &f);
	}
	err = verify_parsed(result, vv, report, &r, in ? in->product : NULL, policy, at, o.allow_debug);
	cocoon_snp_vcek_put(vv);
	return err;
}

int cocoon_verifier_verify_snp(cocoon_result *result, cocoon_verifier *v, const uint8_t *report, size_t len,
                               const cocoon_snp_inputs *in, const cocoon_snp_policy *policy,
                               const cocoon_verify_options *opts)
{
	int trust = v ? v->trust_simulation : 0;
	int err = verify_snp(result, v, report, len, in, policy, opts, trust);

	/* As for DCAP: a verifier that trusts a simulation marks every result, so
	 * nothing downstream mistakes it for production evidence. */
	if (err == 0)
		result->simulated = trust;
	return err;
}
