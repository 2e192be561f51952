/*
 * The HCL report: Azure's paravisor wraps the hardware report with an IGVM
 * header and the runtime-claims JSON (NV index 0x01400001). Every size in it
 * is attacker-controlled until the binding check, so each is bounds-checked
 * against the buffer and against the others; Trustee checks neither the
 * magic nor the size fields and panics on a hash type other than SHA-256.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include "vtpm/vtpm_int.h"

static const char *hash_name(uint32_t t)
{
	return t == COCOON_HCL_HASH_SHA256 ? "SHA-256" : t == COCOON_HCL_HASH_SHA384 ? "SHA-384" : "SHA-512";
}

int cocoon_hcl_parse(cocoon_hcl_report *out, cocoon_failure *f, const uint8_t *buf, size_t len)
{
	uint32_t n;

	memset(out, 0, sizeof(*out));
	if (!buf || len < COCOON_HCL_MIN_SIZE)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL report is %zu bytes, shorter than its fixed part (%d bytes): pass the whole NV "
		                   "index 0x01400001",
		                   len, COCOON_HCL_MIN_SIZE);
	if (memcmp(buf + HCL_OFF_MAGIC, "HCLA", 4) != 0)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL report signature (offset 0x000) is %02x%02x%02x%02x, expected \"HCLA\" "
		                   "(48434c41): this is not an HCL attestation report",
		                   buf[0], buf[1], buf[2], buf[3]);
	out->header_version = cocoon_le32(buf + HCL_OFF_HEADER_VERSION);
	out->report_size = cocoon_le32(buf + HCL_OFF_REPORT_SIZE);
	out->request_type = cocoon_le32(buf + HCL_OFF_REQUEST_TYPE);
	out->status = cocoon_le32(buf + HCL_OFF_STATUS);
	out->hw_report = buf + HCL_OFF_HW_REPORT;
	out->data_size = cocoon_le32(buf + HCL_OFF_DATA_SIZE);
	out->igvm_version = cocoon_le32(buf + HCL_OFF_IGVM_VERSION);
	out->report_type = cocoon_le32(buf + HCL_OFF_REPORT_TYPE);
	out->hash_type = cocoon_le32(buf + HCL_OFF_HASH_TYPE);
	out->len = len;
	if (out->report_type != COCOON_HCL_REPORT_TYPE_SNP && out->report_type != COCOON_HCL_REPORT_TYPE_TDX)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_TYPE,
		                   "HCL report type (offset 0x4C8) is %u, expected 2 (SEV-SNP) or 4 (TDX)",
		                   out->report_type);
	if (out->hash_type < COCOON_HCL_HASH_SHA256 || out->hash_type > COCOON_HCL_HASH_SHA512)
		return cocoon_fail(f, COCOON_CHECK_HCL_HASH_TYPE,
		                   "HCL report-data hash type (offset 0x4CC) is %u, expected 1 (SHA-256), 2 (SHA-384) or "
		                   "3 (SHA-512)",
		                   out->hash_type);
	n = cocoon_le32(buf + HCL_OFF_VAR_DATA_SIZE);
	if (n > len - COCOON_HCL_VAR_DATA_OFFSET)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL variable data size (offset 0x4D0) is %u bytes, but only %zu bytes follow offset "
		                   "0x4D4: the report is truncated",
		                   n, len - COCOON_HCL_VAR_DATA_OFFSET);
	/* The two redundant sizes must agree with it, or two parsers could disagree on the claims. */
	if ((uint64_t)out->data_size != (uint64_t)HCL_IGVM_FIXED + n)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL IGVM data size (offset 0x4C0) is %u, expected %llu (20 + variable data size %u)",
		                   out->data_size, (unsigned long long)HCL_IGVM_FIXED + n, n);
	if ((uint64_t)out->report_size != (uint64_t)COCOON_HCL_MIN_SIZE + n)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL report size (offset 0x008) is %u, expected %llu (1236 + variable data size %u)",
		                   out->report_size, (unsigned long long)COCOON_HCL_MIN_SIZE + n, n);
	if (n == 0)
		return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_FORMAT,
		                   "HCL variable data is empty: the runtime claims (and the vTPM key) are missing");
	out->var_data = buf + COCOON_HCL_VAR_DATA_OFFSET;
	out->var_data_len = n;
	return 0;
}

int cocoon_hcl_report_parse(cocoon_hcl_report *out, const uint8_t *buf, size_t len)
{
	cocoon_failure f = { 0 };

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_hcl_report_parse: NULL argument");
	if (cocoon_hcl_parse(out, &f, buf, len) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s", f.reason);
	return 0;
}

int cocoon_hcl_var_data_digest(uint8_t out[64], size_t *n, const cocoon_hcl_report *h)
{
	const EVP_MD *md = h->hash_type == COCOON_HCL_HASH_SHA256   ? EVP_sha256()
	                   : h->hash_type == COCOON_HCL_HASH_SHA384 ? EVP_sha384()
	                                                            : EVP_sha512();
	unsigned int len = 0;

	if (!EVP_Digest(h->var_data, h->var_data_len, out, &len, md, NULL))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "HCL variable data digest");
	*n = len;
	return 0;
}

const uint8_t *cocoon_hcl_report_data(const cocoon_hcl_report *h)
{
	return h->hw_report + (h->report_type == COCOON_HCL_REPORT_TYPE_SNP ? SNP_OFF_REPORT_DATA
	                                                                     : TDREPORT_OFF_REPORT_DATA);
}

int cocoon_hcl_check_binding(cocoon_failure *f, const cocoon_hcl_report *h, const uint8_t report_data[64],
                             const char *where)
{
	uint8_t d[64];
	char want[129], got[129];
	size_t n;
	int err;

	if ((err = cocoon_hcl_var_data_digest(d, &n, h)) != 0)
		return err;
	if (memcmp(d, report_data, n) == 0)
		return 0;
	cocoon_hex_encode(want, d, n);
	cocoon_hex_encode(got, report_data, n);
	return cocoon_fail(f, COCOON_CHECK_HCL_REPORT_DATA,
	                   "%s REPORT_DATA[0:%zu] is %s, but %s of the HCL variable data (%zu bytes at 0x4D4) is %s: "
	                   "the runtime claims (and the vTPM key in them) are not the ones the hardware report binds",
	                   where, n, got, hash_name(h->hash_type), h->var_data_len, want);
}
