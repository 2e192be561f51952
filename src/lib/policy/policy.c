/* x-ms-policy-hash and the default policies per TEE. */
#include <string.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "cocoon/policy.h"

/* Rewrites standard base64 in place as base64url and drops '=' padding; returns the new length. */
static size_t to_base64url(unsigned char *s, size_t n)
{
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			continue;
		s[out++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	}
	return out;
}

/*
 * MAA hashes the base64url text of the policy, not the policy itself:
 * BASE64URL(SHA256(BASE64URL(policy))). The inner encoding is streamed in
 * chunks that are multiples of 3 bytes, so only the last chunk is padded and
 * the policy length is unbounded.
 */
int cocoon_policy_hash(char out[44], const char *text, size_t len)
{
	enum { CHUNK = 3 * 1024 };
	unsigned char enc[4 * CHUNK / 3 + 1], md[32], b64[48];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = NULL;
	size_t off = 0;
	int err = 0;

	if (!out || (!text && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_policy_hash: out and text are required");
	out[0] = '\0';
	if (!(ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "policy hash: SHA-256 init failed");
		goto done;
	}
	while (off < len) {
		size_t n = len - off < CHUNK ? len - off : CHUNK;
		int m = EVP_EncodeBlock(enc, (const unsigned char *)text + off, (int)n);
		if (m < 0 || EVP_DigestUpdate(ctx, enc, to_base64url(enc, (size_t)m)) != 1) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "policy hash: SHA-256 update failed");
			goto done;
		}
		off += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != sizeof(md)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "policy hash: SHA-256 final failed");
		goto done;
	}
	/* 32 bytes encode to 44 characters with one '=', i.e. 43 in base64url. */
	EVP_EncodeBlock(b64, md, (int)sizeof(md));
	memcpy(out, b64, to_base64url(b64, 44));
	out[43] = '\0';
done:
	EVP_MD_CTX_free(ctx);
	return err;
}

/* MAA's default SGX policy minus its configuration rule, which names Azure's own TCB baseline:
 * permit, and re-issue the legacy claim names. */
static const char sgx_default[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"\t=> permit();\n"
	"};\n"
	"issuancerules {\n"
	"\tc:[type==\"x-ms-sgx-is-debuggable\"] => issue(type=\"is-debuggable\", value=c.value);\n"
	"\tc:[type==\"x-ms-sgx-mrsigner\"] => issue(type=\"sgx-mrsigner\", value=c.value);\n"
	"\tc:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"sgx-mrenclave\", value=c.value);\n"
	"\tc:[type==\"x-ms-sgx-product-id\"] => issue(type=\"product-id\", value=c.value);\n"
	"\tc:[type==\"x-ms-sgx-svn\"] => issue(type=\"svn\", value=c.value);\n"
	"\tc:[type==\"x-ms-attestation-type\"] => issue(type=\"tee\", value=c.value);\n"
	"};\n";

#define ISSUE(name) "\tc:[type==\"" name "\"] => issue(claim=c);\n"

static const char snp_default[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"\t=> permit();\n"
	"};\n"
	"issuancerules {\n"
	ISSUE("x-ms-sevsnpvm-authorkeydigest")
	ISSUE("x-ms-sevsnpvm-bootloader-svn")
	ISSUE("x-ms-sevsnpvm-familyId")
	ISSUE("x-ms-sevsnpvm-guestsvn")
	ISSUE("x-ms-sevsnpvm-hostdata")
	ISSUE("x-ms-sevsnpvm-idkeydigest")
	ISSUE("x-ms-sevsnpvm-imageId")
	ISSUE("x-ms-sevsnpvm-is-debuggable")
	ISSUE("x-ms-sevsnpvm-launchmeasurement")
	ISSUE("x-ms-sevsnpvm-microcode-svn")
	ISSUE("x-ms-sevsnpvm-migration-allowed")
	ISSUE("x-ms-sevsnpvm-reportdata")
	ISSUE("x-ms-sevsnpvm-reportid")
	ISSUE("x-ms-sevsnpvm-smt-allowed")
	ISSUE("x-ms-sevsnpvm-snpfw-svn")
	ISSUE("x-ms-sevsnpvm-tee-svn")
	ISSUE("x-ms-sevsnpvm-vmpl")
	"};\n";

static const char tdx_default[] =
	"version=1.0;\n"
	"authorizationrules {\n"
	"\t=> permit();\n"
	"};\n"
	"issuancerules {\n"
	ISSUE("attester_tcb_status")
	ISSUE("dbgstat")
	ISSUE("tdx_mrseam")
	ISSUE("tdx_mrsignerseam")
	ISSUE("tdx_mrtd")
	ISSUE("tdx_mrconfigid")
	ISSUE("tdx_mrowner")
	ISSUE("tdx_mrownerconfig")
	ISSUE("tdx_rtmr0")
	ISSUE("tdx_rtmr1")
	ISSUE("tdx_rtmr2")
	ISSUE("tdx_rtmr3")
	ISSUE("tdx_report_data")
	ISSUE("tdx_seam_attributes")
	ISSUE("tdx_seamsvn")
	ISSUE("tdx_td_attributes")
	ISSUE("tdx_td_attributes_debug")
	ISSUE("tdx_td_attributes_key_locker")
	ISSUE("tdx_td_attributes_perfmon")
	ISSUE("tdx_td_attributes_protection_keys")
	ISSUE("tdx_td_attributes_septve_disable")
	ISSUE("tdx_tee_tcb_svn")
	ISSUE("tdx_xfam")
	"};\n";

const char *cocoon_policy_default(cocoon_tee tee)
{
	switch (tee) {
	case COCOON_TEE_SGX: return sgx_default;
	case COCOON_TEE_SNP: return snp_default;
	case COCOON_TEE_TDX: return tdx_default;
	default: return NULL;
	}
}
