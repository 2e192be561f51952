/*
 * SEV-SNP ATTESTATION_REPORT parsing (1184 bytes, little-endian), versions
 * 2 to 5. Layout: workload-side.md section 2.3 and go-sev-guest abi.go.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "snp/snp.h"

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)cocoon_le32(p) | ((uint64_t)cocoon_le32(p + 4) << 32);
}

const char *cocoon_snp_product_name(cocoon_snp_product p)
{
	switch (p) {
	case COCOON_SNP_PRODUCT_MILAN: return "Milan";
	case COCOON_SNP_PRODUCT_GENOA: return "Genoa";
	case COCOON_SNP_PRODUCT_TURIN: return "Turin";
	default: return "unknown";
	}
}

int cocoon_snp_product_parse(cocoon_snp_product *out, const char *name)
{
	static const struct {
		const char *line;
		cocoon_snp_product p;
	} lines[] = {
		{ "Milan", COCOON_SNP_PRODUCT_MILAN },
		{ "Genoa", COCOON_SNP_PRODUCT_GENOA },
		{ "Turin", COCOON_SNP_PRODUCT_TURIN },
	};
	size_t n;

	*out = COCOON_SNP_PRODUCT_UNKNOWN;
	if (!name)
		return COCOON_EINVAL;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = strlen(lines[i].line);
		if (strncasecmp(name, lines[i].line, n) != 0)
			continue;
		/* A KDS productName may carry a stepping such as "-B0"; KDS has
		 * also issued Genoa names without one (go-sev-guest #103). */
		if (name[n] == '\0' || (name[n] == '-' && ((name[n + 1] >= 'A' && name[n + 1] <= 'Z') ||
		                                          (name[n + 1] >= 'a' && name[n + 1] <= 'z')) &&
		                        name[n + 2] >= '0' && name[n + 2] <= '9' && name[n + 3] == '\0')) {
			*out = lines[i].p;
			return 0;
		}
	}
	return COCOON_EINVAL;
}

cocoon_snp_product cocoon_snp_product_from_cpuid(uint8_t family, uint8_t model)
{
	/* Family/model from AMD's processor programming references, as
	 * go-sev-guest's SevProductFromCpuid1Eax maps them. */
	if (family == 0x19 && model == 0x01)
		return COCOON_SNP_PRODUCT_MILAN;
	if (family == 0x19 && model == 0x11)
		return COCOON_SNP_PRODUCT_GENOA;
	if (family == 0x1A && model == 0x02)
		return COCOON_SNP_PRODUCT_TURIN;
	return COCOON_SNP_PRODUCT_UNKNOWN;
}

int cocoon_snp_report_looks_like(const uint8_t *buf, size_t len)
{
	uint32_t v;
	if (!buf || len != COCOON_SNP_REPORT_SIZE)
		return 0;
	v = cocoon_le32(buf);
	return v >= 2 && v <= 5;
}

int cocoon_snp_report_decode(cocoon_snp_report *r, const uint8_t *b, size_t len)
{
	if (!r || !b)
		return cocoon_error_set(COCOON_EINVAL, "SNP report: NULL argument");
	memset(r, 0, sizeof(*r));
	if (len != COCOON_SNP_REPORT_SIZE)
		return cocoon_error_set(COCOON_EFORMAT,
		                        "SNP report: %zu bytes, want %d (an attestation report is exactly %d bytes); pass the "
		                        "report alone (split an extended report's certificate table off)",
		                        len, COCOON_SNP_REPORT_SIZE, COCOON_SNP_REPORT_SIZE);
	r->version = cocoon_le32(b + 0x000);
	r->guest_svn = cocoon_le32(b + 0x004);
	r->policy = le64(b + 0x008);
	memcpy(r->family_id, b + 0x010, 16);
	memcpy(r->image_id, b + 0x020, 16);
	r->vmpl = cocoon_le32(b + 0x030);
	r->sig_algo = cocoon_le32(b + 0x034);
	r->current_tcb = le64(b + 0x038);
	r->platform_info = le64(b + 0x040);
	r->signer_info = cocoon_le32(b + 0x048);
	r->author_key_en = (int)(r->signer_info & 1);
	r->mask_chip_key = (int)((r->signer_info >> 1) & 1);
	r->signing_key = (int)((r->signer_info >> 2) & 7);
	memcpy(r->report_data, b + 0x050, 64);
	memcpy(r->measurement, b + 0x090, 48);
	memcpy(r->host_data, b + 0x0C0, 32);
	memcpy(r->id_key_digest, b + 0x0E0, 48);
	memcpy(r->author_key_digest, b + 0x110, 48);
	memcpy(r->report_id, b + 0x140, 32);
	memcpy(r->report_id_ma, b + 0x160, 32);
	r->reported_tcb = le64(b + 0x180);
	if (r->version >= 3) {
		r->has_cpuid = 1;
		r->cpuid_fam_id = b[0x188];
		r->cpuid_mod_id = b[0x189];
		r->cpuid_step = b[0x18A];
	}
	memcpy(r->chip_id, b + 0x1A0, 64);
	r->committed_tcb = le64(b + 0x1E0);
	r->current_build = b[0x1E8];
	r->current_minor = b[0x1E9];
	r->current_major = b[0x1EA];
	r->committed_build = b[0x1EC];
	r->committed_minor = b[0x1ED];
	r->committed_major = b[0x1EE];
	r->launch_tcb = le64(b + 0x1F0);
	if (r->version >= 5) {
		r->has_mit_vectors = 1;
		r->launch_mit_vector = le64(b + 0x1F8);
		r->current_mit_vector = le64(b + 0x200);
	}
	memcpy(r->sig_r, b + SNP_SIG_OFFSET, SNP_SIG_COMPONENT);
	memcpy(r->sig_s, b + SNP_SIG_OFFSET + SNP_SIG_COMPONENT, SNP_SIG_COMPONENT);
	return 0;
}

/* Rejects a non-zero byte in the reserved range [lo, hi). */
static int check_mbz(cocoon_failure *f, const uint8_t *b, size_t lo, size_t hi, const char *what)
{
	for (size_t i = lo; i < hi; i++) {
		if (b[i] != 0)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
			                       "SNP report: %s [0x%03zx, 0x%03zx) must be zero, byte 0x%03zx is 0x%02x; "
			                       "the report is corrupt or not an SEV-SNP report",
			                       what, lo, hi, i, b[i]);
	}
	return 0;
}

static int validate(cocoon_failure *f, const cocoon_snp_report *r, const uint8_t *b)
{
	int err;

	if (r->version < 2 || r->version > 5)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: VERSION (offset 0x000) is %u, expected 2, 3, 4 or 5", r->version);
	if (!(r->policy & SNP_POLICY_RESERVED_1))
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: POLICY (offset 0x008) bit 17 is reserved and must be 1, policy is "
		                       "0x%016llx",
		                       (unsigned long long)r->policy);
	if (r->policy & SNP_POLICY_MBZ_MASK)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: POLICY (offset 0x008) bits 26..63 must be zero, policy is 0x%016llx",
		                       (unsigned long long)r->policy);
	if (r->sig_algo != 1)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: SIGNATURE_ALGO (offset 0x034) is %u, expected 1 (ECDSA P-384 with "
		                       "SHA-384); other algorithms are not defined",
		                       r->sig_algo);
	if (r->signer_info >> 5)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: signer info (offset 0x048) bits 5..31 must be zero, word is 0x%08x",
		                       r->signer_info);
	if (r->signing_key != COCOON_SNP_SIGNER_VCEK && r->signing_key != COCOON_SNP_SIGNER_VLEK &&
	    r->signing_key != COCOON_SNP_SIGNER_NONE)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: SIGNING_KEY (offset 0x048 bits 4:2) is %d, a reserved value; expected "
		                       "0 (VCEK), 1 (VLEK) or 7 (none)",
		                       r->signing_key);
	if ((err = check_mbz(f, b, 0x04C, 0x050, "reserved field")) != 0)
		return err;
	if ((err = check_mbz(f, b, r->has_cpuid ? 0x18B : 0x188, 0x1A0, "reserved field after REPORTED_TCB")) != 0)
		return err;
	if ((err = check_mbz(f, b, 0x1EB, 0x1EC, "reserved byte after CURRENT_MAJOR")) != 0)
		return err;
	if ((err = check_mbz(f, b, 0x1EF, 0x1F0, "reserved byte after COMMITTED_MAJOR")) != 0)
		return err;
	if ((err = check_mbz(f, b, r->has_mit_vectors ? 0x208 : 0x1F8, SNP_SIG_OFFSET, "reserved field")) != 0)
		return err;
	if ((err = check_mbz(f, b, SNP_SIG_OFFSET + 2 * SNP_SIG_COMPONENT, COCOON_SNP_REPORT_SIZE,
	                     "reserved part of SIGNATURE")) != 0)
		return err;
	if (r->mask_chip_key && !cocoon_is_zero(r->chip_id, sizeof(r->chip_id)))
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT,
		                       "SNP report: MASK_CHIP_KEY is set but CHIP_ID (offset 0x1A0) is not all zero");
	return 0;
}

int cocoon_snp_report_parse(cocoon_snp_report *out, cocoon_failure *f, const uint8_t *buf, size_t len)
{
	cocoon_failure local;
	int err;

	if (!f)
		f = &local;
	if ((err = cocoon_snp_report_decode(out, buf, len)) != 0) {
		if (err == COCOON_EFORMAT)
			COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_REPORT_FORMAT, "%s", cocoon_error_last()->message);
		return err;
	}
	if (validate(f, out, buf) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "%s", f->reason);
	return 0;
}

void cocoon_snp_tcb_decode(cocoon_snp_tcb *out, uint64_t raw, cocoon_snp_product p)
{
	memset(out, 0, sizeof(*out));
	out->raw = raw;
	out->ucode_spl = (uint8_t)(raw >> 56);
	if (p == COCOON_SNP_PRODUCT_TURIN) {
		out->has_fmc = 1;
		out->fmc_spl = (uint8_t)raw;
		out->bl_spl = (uint8_t)(raw >> 8);
		out->tee_spl = (uint8_t)(raw >> 16);
		out->snp_spl = (uint8_t)(raw >> 24);
	} else {
		out->bl_spl = (uint8_t)raw;
		out->tee_spl = (uint8_t)(raw >> 8);
		out->snp_spl = (uint8_t)(raw >> 48);
	}
}

void cocoon_snp_tcb_format(char *buf, size_t len, uint64_t raw, cocoon_snp_product p)
{
	cocoon_snp_tcb t;
	cocoon_snp_tcb_decode(&t, raw, p);
	if (t.has_fmc)
		snprintf(buf, len, "bl=%u tee=%u snp=%u microcode=%u fmc=%u", t.bl_spl, t.tee_spl, t.snp_spl,
		         t.ucode_spl, t.fmc_spl);
	else
		snprintf(buf, len, "bl=%u tee=%u snp=%u microcode=%u", t.bl_spl, t.tee_spl, t.snp_spl, t.ucode_spl);
}

const char *cocoon_snp_check_name(int check)
{
	return cocoon_check_name((cocoon_check)check);
}
