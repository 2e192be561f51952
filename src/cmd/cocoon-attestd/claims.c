/*
 * MAA's claim names and types per TEE, filled from verified evidence only.
 * Sources: claim-sets.md, attestation-token-examples.md and the TDX EAT
 * profile (shared/reference/relying-party.md §1.3).
 */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "dcap/collateral.h"
#include "dcap/quote.h"
#include "attestd.h"

static void set_hex(json_t *o, const char *name, const uint8_t *p, size_t n)
{
	char buf[257];
	if (n > 128)
		return;
	cocoon_hex_encode(buf, p, n);
	json_object_set_new(o, name, json_string(buf));
}

static void set_sha256_hex(json_t *o, const char *name, const void *p, size_t n)
{
	uint8_t d[32];
	const void *parts[1] = { p };
	size_t lens[1] = { n };
	if (cocoon_sha256(d, 1, parts, lens) == 0)
		set_hex(o, name, d, 32);
}

int attestd_claims_sgx(json_t *c, const cocoon_result *r, const uint8_t *rt, size_t rt_len, const uint8_t *quote,
                       size_t quote_len, const cocoon_collateral *coll)
{
	const cocoon_sgx_claims *s = &r->sgx;
	json_t *col = json_object();
	char *ehd = NULL;

	json_object_set_new(c, "x-ms-attestation-type", json_string("sgx"));
	json_object_set_new(c, "x-ms-sgx-is-debuggable", json_boolean(s->debug));
	json_object_set_new(c, "x-ms-sgx-product-id", json_integer(s->isv_prod_id));
	json_object_set_new(c, "x-ms-sgx-svn", json_integer(s->isv_svn));
	set_hex(c, "x-ms-sgx-mrsigner", s->mrsigner, 32);
	set_hex(c, "x-ms-sgx-mrenclave", s->mrenclave, 32);
	set_hex(c, "x-ms-sgx-report-data", s->report_data, 64);
	if (rt && cocoon_b64url_encode(&ehd, rt, rt_len) == 0)
		json_object_set_new(c, "x-ms-sgx-ehd", json_string(ehd));
	free(ehd);
	/* KSS fields appear when the enclave uses them. */
	if (!cocoon_is_zero(s->config_id, 64) || s->config_svn) {
		set_hex(c, "x-ms-sgx-config-id", s->config_id, 64);
		json_object_set_new(c, "x-ms-sgx-config-svn", json_integer(s->config_svn));
	}
	/* SHA-256 of each collateral part, so a relying party can tell which collateral judged the quote. */
	if (col && coll) {
		set_sha256_hex(col, "qeidcertshash", coll->qe_identity_issuer_chain, coll->qe_identity_issuer_chain_len);
		set_sha256_hex(col, "qeidcrlhash", coll->root_ca_crl, coll->root_ca_crl_len);
		set_sha256_hex(col, "qeidhash", coll->qe_identity, coll->qe_identity_len);
		set_sha256_hex(col, "quotehash", quote, quote_len);
		set_sha256_hex(col, "tcbinfocertshash", coll->tcb_info_issuer_chain, coll->tcb_info_issuer_chain_len);
		set_sha256_hex(col, "tcbinfocrlhash", coll->pck_crl, coll->pck_crl_len);
		set_sha256_hex(col, "tcbinfohash", coll->tcb_info, coll->tcb_info_len);
		json_object_set_new(c, "x-ms-sgx-collateral", col);
	} else {
		json_decref(col);
	}
	return 0;
}

int attestd_claims_tdx(json_t *c, const cocoon_result *r)
{
	const cocoon_tdx_claims *t = &r->tdx;
	uint64_t attr = 0;
	char name[16];

	for (int i = 7; i >= 0; i--)
		attr = (attr << 8) | t->td_attributes[i];
	json_object_set_new(c, "x-ms-attestation-type", json_string("tdxvm"));
	json_object_set_new(c, "eat_profile", json_string("https://aka.ms/maa-eat-profile-tdxvm"));
	json_object_set_new(c, "intuse", json_string("generic"));
	json_object_set_new(c, "dbgstat", json_string(t->debug ? "enabled" : "disabled-since-boot"));
	json_object_set_new(c, "attester_tcb_status", json_string(cocoon_tcb_status_name(r->status)));
	set_hex(c, "tdx_mrseam", t->mr_seam, 48);
	set_hex(c, "tdx_mrsignerseam", t->mr_signer_seam, 48);
	set_hex(c, "tdx_mrtd", t->mrtd, 48);
	set_hex(c, "tdx_mrconfigid", t->mr_config_id, 48);
	set_hex(c, "tdx_mrowner", t->mr_owner, 48);
	set_hex(c, "tdx_mrownerconfig", t->mr_owner_config, 48);
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "tdx_rtmr%d", i);
		set_hex(c, name, t->rtmr[i], 48);
	}
	set_hex(c, "tdx_report_data", t->report_data, 64);
	set_hex(c, "tdx_td_attributes", t->td_attributes, 8);
	json_object_set_new(c, "tdx_td_attributes_debug", json_boolean(attr & 1));
	json_object_set_new(c, "tdx_td_attributes_septve_disable", json_boolean((attr >> 28) & 1));
	json_object_set_new(c, "tdx_td_attributes_protection_keys", json_boolean((attr >> 30) & 1));
	json_object_set_new(c, "tdx_td_attributes_key_locker", json_boolean((attr >> 31) & 1));
	json_object_set_new(c, "tdx_td_attributes_perfmon", json_boolean((attr >> 63) & 1));
	set_hex(c, "tdx_tee_tcb_svn", t->tee_tcb_svn, 16);
	set_hex(c, "tdx_xfam", t->xfam, 8);
	/* SEAM module SVN: TEE_TCB_SVN bytes 0 (minor) and 1 (major). */
	json_object_set_new(c, "tdx_seamsvn", json_integer(t->tee_tcb_svn[0] | (t->tee_tcb_svn[1] << 8)));
	return 0;
}

int attestd_claims_snp(json_t *c, const cocoon_result *r)
{
	const cocoon_snp_claims *s = &r->snp;
	const cocoon_snp_tcb *tcb = &s->reported_tcb;

	json_object_set_new(c, "x-ms-attestation-type", json_string("sevsnpvm"));
	set_hex(c, "x-ms-sevsnpvm-authorkeydigest", s->author_key_digest, 48);
	json_object_set_new(c, "x-ms-sevsnpvm-bootloader-svn", json_integer(tcb->bl_spl));
	set_hex(c, "x-ms-sevsnpvm-familyId", s->family_id, 16);
	json_object_set_new(c, "x-ms-sevsnpvm-guestsvn", json_integer(s->guest_svn));
	set_hex(c, "x-ms-sevsnpvm-hostdata", s->host_data, 32);
	set_hex(c, "x-ms-sevsnpvm-idkeydigest", s->id_key_digest, 48);
	set_hex(c, "x-ms-sevsnpvm-imageId", s->image_id, 16);
	json_object_set_new(c, "x-ms-sevsnpvm-is-debuggable", json_boolean(s->debug));
	set_hex(c, "x-ms-sevsnpvm-launchmeasurement", s->measurement, 48);
	json_object_set_new(c, "x-ms-sevsnpvm-microcode-svn", json_integer(tcb->ucode_spl));
	json_object_set_new(c, "x-ms-sevsnpvm-migration-allowed", json_boolean((s->policy >> 18) & 1));
	set_hex(c, "x-ms-sevsnpvm-reportdata", s->report_data, 64);
	set_hex(c, "x-ms-sevsnpvm-reportid", s->report_id, 32);
	json_object_set_new(c, "x-ms-sevsnpvm-smt-allowed", json_boolean((s->policy >> 16) & 1));
	json_object_set_new(c, "x-ms-sevsnpvm-snpfw-svn", json_integer(tcb->snp_spl));
	json_object_set_new(c, "x-ms-sevsnpvm-tee-svn", json_integer(tcb->tee_spl));
	json_object_set_new(c, "x-ms-sevsnpvm-vmpl", json_integer(s->vmpl));
	return 0;
}
