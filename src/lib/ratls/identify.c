/*
 * What evidence an RA-TLS extension carries. Tag 60000 says "TEE quote"
 * and legacy extensions say nothing, so the bytes decide: an SEV-SNP
 * report is 1184 bytes with version 2..5; anything else must parse as a
 * DCAP quote (v3 SGX, v4/v5 SGX or TDX), bounds-checked by the DCAP parser.
 */
#include <string.h>
#include "dcap/quote.h"
#include "ratls/ratls_int.h"
#include "snp/snp.h"

int cocoon_ratls_evidence_identify(cocoon_ratls_evidence_id *out, cocoon_failure *f, const uint8_t *ev, size_t len)
{
	cocoon_failure qf = { 0 };
	cocoon_quote q;

	memset(out, 0, sizeof(*out));
	if (cocoon_snp_report_looks_like(ev, len)) {
		cocoon_snp_report r;
		if (cocoon_snp_report_decode(&r, ev, len) != 0)
			return cocoon_fail(f, COCOON_CHECK_RATLS_EVIDENCE_TYPE, "SNP report: %s", cocoon_error_last()->message);
		out->tee = COCOON_TEE_SNP;
		out->format = COCOON_EVIDENCE_SNP_REPORT;
		memcpy(out->report_data, r.report_data, 64);
		return 0;
	}
	if (!ev || len < COCOON_QUOTE_HEADER_SIZE)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EVIDENCE_TYPE,
		                   "the embedded evidence (%zu bytes) is neither an SEV-SNP report (1184 bytes) nor a DCAP "
		                   "quote (48-byte header and more)", len);
	if (cocoon_quote_parse(&q, &qf, ev, len) != 0)
		return cocoon_fail(f, COCOON_CHECK_RATLS_EVIDENCE_TYPE,
		                   "the embedded evidence is not an SEV-SNP report and not a valid DCAP quote: %s (%s)",
		                   qf.reason, cocoon_check_name(qf.check));
	out->format = COCOON_EVIDENCE_DCAP_QUOTE;
	if (q.body_type == COCOON_BODY_SGX) {
		out->tee = COCOON_TEE_SGX;
		memcpy(out->report_data, q.sgx.report_data, 64);
	} else {
		out->tee = COCOON_TEE_TDX;
		memcpy(out->report_data, q.td.report_data, 64);
	}
	return 0;
}
