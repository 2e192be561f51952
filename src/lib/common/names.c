/* Stable names for check identifiers: other tools match on these. */
#include "cocoon/verify.h"

static const char *const check_names[COCOON_CHECK__COUNT] = {
	[COCOON_CHECK_NONE] = "none",
	[COCOON_CHECK_QUOTE_FORMAT] = "quote_format",
	[COCOON_CHECK_QUOTE_VERSION] = "quote_version",
	[COCOON_CHECK_ATTESTATION_KEY_TYPE] = "attestation_key_type",
	[COCOON_CHECK_TEE_TYPE] = "tee_type",
	[COCOON_CHECK_QE_VENDOR_ID] = "qe_vendor_id",
	[COCOON_CHECK_CERTIFICATION_DATA] = "certification_data",
	[COCOON_CHECK_PCK_CHAIN] = "pck_chain",
	[COCOON_CHECK_PCK_PROFILE] = "pck_profile",
	[COCOON_CHECK_PCK_EXTENSIONS] = "pck_extensions",
	[COCOON_CHECK_ROOT_CA_CRL] = "root_ca_crl",
	[COCOON_CHECK_PCK_CRL] = "pck_crl",
	[COCOON_CHECK_CERT_REVOKED] = "certificate_revoked",
	[COCOON_CHECK_TCB_INFO_FORMAT] = "tcb_info_format",
	[COCOON_CHECK_TCB_INFO_CHAIN] = "tcb_info_chain",
	[COCOON_CHECK_TCB_INFO_SIGNATURE] = "tcb_info_signature",
	[COCOON_CHECK_TCB_INFO_VALIDITY] = "tcb_info_validity",
	[COCOON_CHECK_TCB_INFO_MISMATCH] = "tcb_info_mismatch",
	[COCOON_CHECK_FMSPC] = "fmspc",
	[COCOON_CHECK_PCEID] = "pceid",
	[COCOON_CHECK_QE_IDENTITY_FORMAT] = "qe_identity_format",
	[COCOON_CHECK_QE_IDENTITY_CHAIN] = "qe_identity_chain",
	[COCOON_CHECK_QE_IDENTITY_SIGNATURE] = "qe_identity_signature",
	[COCOON_CHECK_QE_IDENTITY_VALIDITY] = "qe_identity_validity",
	[COCOON_CHECK_QE_IDENTITY_MISMATCH] = "qe_identity_mismatch",
	[COCOON_CHECK_QE_REPORT_SIGNATURE] = "qe_report_signature",
	[COCOON_CHECK_QE_REPORT_DATA] = "qe_report_data",
	[COCOON_CHECK_QE_REPORT_IDENTITY] = "qe_report_identity",
	[COCOON_CHECK_QE_TCB] = "qe_tcb",
	[COCOON_CHECK_QUOTE_SIGNATURE] = "quote_signature",
	[COCOON_CHECK_TDX_MODULE] = "tdx_module",
	[COCOON_CHECK_TCB_LEVEL] = "tcb_level",
	[COCOON_CHECK_TCB_REVOKED] = "tcb_revoked",
	[COCOON_CHECK_COLLATERAL] = "collateral",
	[COCOON_CHECK_APPRAISAL_SGX_DEBUG] = "appraisal_sgx_debug",
	[COCOON_CHECK_APPRAISAL_TD_DEBUG] = "appraisal_td_debug",
	[COCOON_CHECK_APPRAISAL_TD_ATTRIBUTES] = "appraisal_td_attributes",
	[COCOON_CHECK_APPRAISAL_TD_SEPT_VE_DISABLE] = "appraisal_td_sept_ve_disable",
	[COCOON_CHECK_APPRAISAL_TD_SERVICE_TD] = "appraisal_td_service_td",
	[COCOON_CHECK_SIMULATION_ROOT] = "simulation_root",
};

const char *cocoon_check_name(cocoon_check c)
{
	if ((int)c < 0 || c >= COCOON_CHECK__COUNT || !check_names[c])
		return "unknown";
	return check_names[c];
}
