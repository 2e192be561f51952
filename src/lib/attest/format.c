/*
 * Evidence formats: sniffing what raw bytes are, and unwrapping the two
 * envelopes MAA clients send (Open Enclave's oe_report_header_t around an
 * SGX quote; SevSnpVm's JSON {"SnpReport", "VcekCertChain"}). Sniffing
 * picks the format the bytes most look like, so that the parser of that
 * format explains what is wrong with them; it never guesses "quote" for
 * bytes that are an SNP report with a bad version or length.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "cocoon/snp.h"
#include "cocoon/token.h"
#include "attest_int.h"

#define OE_HEADER_LEN 16
#define OE_HEADER_VERSION 1
#define OE_TYPE_SGX_REMOTE 2
#define DCAP_TEE_TDX 0x81

static const char *const format_names[] = { "auto", "sgx", "tdx", "snp", "oe", "maa-snp" };

const char *cocoon_attest_format_name(cocoon_attest_format f)
{
	return (unsigned)f < sizeof(format_names) / sizeof(format_names[0]) ? format_names[f] : "unknown";
}

int cocoon_attest_format_parse(cocoon_attest_format *out, const char *name)
{
	for (size_t i = 0; name && i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (cocoon_attest_format)i;
			return 0;
		}
	}
	return cocoon_error_set(COCOON_EINVAL, "evidence format '%.32s' is unknown; use auto, sgx, tdx, snp, oe or "
	                        "maa-snp", name ? name : "(null)");
}

void attest_evidence_free(attest_evidence *e)
{
	free(e->owned);
	free(e->vcek);
	free(e->chain);
	memset(e, 0, sizeof(*e));
}

static int is_dcap_header(const uint8_t *b, size_t len)
{
	uint16_t v, key;
	if (len < 4)
		return 0;
	v = cocoon_le16(b);
	key = cocoon_le16(b + 2);
	return v >= 3 && v <= 5 && (key == 2 || key == 3);
}

static int is_oe_header(const uint8_t *b, size_t len)
{
	return len >= 8 && cocoon_le32(b) == OE_HEADER_VERSION && cocoon_le32(b + 4) == OE_TYPE_SGX_REMOTE;
}

/* The format the bytes most look like; AUTO when they look like nothing. */
static cocoon_attest_format sniff(const uint8_t *b, size_t len)
{
	if (len >= 1 && b[0] == '{')
		return COCOON_ATTEST_FORMAT_MAA_SNP;
	if (is_dcap_header(b, len))
		return len >= 8 && cocoon_le32(b + 4) == DCAP_TEE_TDX ? COCOON_ATTEST_FORMAT_TDX : COCOON_ATTEST_FORMAT_SGX;
	/* OE's header and an SNP report both start with a small u32: OE needs its type and a size that fits. */
	if (is_oe_header(b, len) && len != COCOON_SNP_REPORT_SIZE)
		return COCOON_ATTEST_FORMAT_OE;
	/* An SNP report's VERSION is a u32, so its upper half is zero where a quote has the key type. */
	if (len >= 4 && cocoon_le32(b) < 0x100)
		return COCOON_ATTEST_FORMAT_SNP;
	if (len == COCOON_SNP_REPORT_SIZE)
		return COCOON_ATTEST_FORMAT_SNP;
	return COCOON_ATTEST_FORMAT_AUTO;
}

cocoon_attest_format cocoon_attest_format_detect(const uint8_t *buf, size_t len)
{
	return buf && len ? sniff(buf, len) : COCOON_ATTEST_FORMAT_AUTO;
}

/* oe_report_header_t {u32 version = 1, u32 type = 2 (SGX remote), u64 size} + the quote; a bare quote passes. */
static int oe_unwrap(attest_evidence *e, cocoon_failure *f, const uint8_t *b, size_t len)
{
	uint64_t size;

	if (is_dcap_header(b, len)) {
		e->bytes = b;
		e->len = len;
		return 0;
	}
	if (len < OE_HEADER_LEN || !is_oe_header(b, len))
		return cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report: not an Open Enclave remote report (expected "
		                   "header version 1, type 2 = SGX remote, at offset 0)");
	size = (uint64_t)cocoon_le32(b + 8) | ((uint64_t)cocoon_le32(b + 12) << 32);
	if (size != len - OE_HEADER_LEN)
		return cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report: the Open Enclave header declares %llu bytes "
		                   "at offset 8 but %zu follow", (unsigned long long)size, len - OE_HEADER_LEN);
	e->bytes = b + OE_HEADER_LEN;
	e->len = len - OE_HEADER_LEN;
	return 0;
}

/* The VCEK (first certificate) of MAA's base64 PEM chain, as DER, and the rest of the PEM. */
static int maa_vcek(attest_evidence *e, cocoon_failure *f, const char *chain_b64)
{
	uint8_t *pem = NULL;
	size_t pem_len = 0;
	unsigned char *der = NULL;
	const char *next;
	BIO *b = NULL;
	X509 *vcek = NULL;
	int n, err = 0;

	if (cocoon_b64_decode(&pem, &pem_len, chain_b64, strlen(chain_b64)) != 0 || pem_len > INT32_MAX ||
	    !(b = BIO_new_mem_buf(pem, (int)pem_len)) || !(vcek = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		err = cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report.VcekCertChain: expected base64 of a PEM chain "
		                  "starting with the VCEK");
		goto done;
	}
	if ((n = i2d_X509(vcek, &der)) <= 0) {
		err = cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report.VcekCertChain: unusable VCEK");
		goto done;
	}
	if (!(e->vcek = malloc((size_t)n))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(e->vcek, der, (size_t)n);
	e->vcek_len = (size_t)n;
	/* The rest (ASK, ARK) is the chain; without it the built-in AMD roots apply. */
	next = strstr((const char *)pem + 1, "-----BEGIN CERTIFICATE");
	if (next && !(e->chain = strdup(next)))
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
done:
	ERR_clear_error();
	OPENSSL_free(der);
	BIO_free(b);
	X509_free(vcek);
	free(pem);
	return err;
}

/* MAA's SevSnpVm report: {"SnpReport": base64url, "VcekCertChain": base64 PEM}; a bare report passes. */
static int maa_snp_unwrap(attest_evidence *e, cocoon_failure *f, const uint8_t *b, size_t len)
{
	json_t *o = NULL;
	const char *rep, *chain;
	int err = 0;

	if (len == COCOON_SNP_REPORT_SIZE || len == 0 || b[0] != '{') {
		e->bytes = b;
		e->len = len;
		return 0;
	}
	if (!(o = json_loadb((const char *)b, len, JSON_REJECT_DUPLICATES, NULL)) || !json_is_object(o)) {
		err = cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report: the decoded report is neither a %d-byte "
		                  "SEV-SNP report nor MAA's JSON {SnpReport, VcekCertChain}", COCOON_SNP_REPORT_SIZE);
		goto done;
	}
	if (!(rep = json_string_value(json_object_get(o, "SnpReport")))) {
		err = cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report.SnpReport: expected a base64url string");
		goto done;
	}
	if (cocoon_b64_decode(&e->owned, &e->len, rep, strlen(rep)) != 0) {
		err = cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "report.SnpReport: %s", cocoon_error_last()->message);
		goto done;
	}
	e->bytes = e->owned;
	if ((chain = json_string_value(json_object_get(o, "VcekCertChain"))))
		err = maa_vcek(e, f, chain);
done:
	json_decref(o);
	return err;
}

int attest_evidence_unwrap(attest_evidence *e, cocoon_failure *f, const uint8_t *buf, size_t len,
                           cocoon_attest_format fmt)
{
	cocoon_attest_format s;
	int err;

	memset(e, 0, sizeof(*e));
	if (!buf && len)
		return cocoon_error_set(COCOON_EINVAL, "evidence: NULL buffer");
	if (len == 0)
		return cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "evidence: is empty");
	s = fmt == COCOON_ATTEST_FORMAT_AUTO ? sniff(buf, len) : fmt;
	e->detected = s;
	switch (s) {
	case COCOON_ATTEST_FORMAT_SGX:
	case COCOON_ATTEST_FORMAT_TDX:
	case COCOON_ATTEST_FORMAT_SNP:
		e->format = s;
		e->bytes = buf;
		e->len = len;
		return 0;
	case COCOON_ATTEST_FORMAT_OE:
		e->format = COCOON_ATTEST_FORMAT_SGX;
		return oe_unwrap(e, f, buf, len);
	case COCOON_ATTEST_FORMAT_MAA_SNP:
		e->format = COCOON_ATTEST_FORMAT_SNP;
		if ((err = maa_snp_unwrap(e, f, buf, len)) != 0)
			return err;
		if (e->bytes == buf)
			e->detected = COCOON_ATTEST_FORMAT_SNP;
		return 0;
	default:
		return cocoon_fail(f, COCOON_CHECK_EVIDENCE_FORMAT, "evidence: %zu bytes that are no known format: not a "
		                   "DCAP quote (u16 version 3..5, u16 key type 2 at offset 0), an SEV-SNP report "
		                   "(u32 version at offset 0, %d bytes), an Open Enclave report or MAA's JSON; pass "
		                   "--format to name it", len, COCOON_SNP_REPORT_SIZE);
	}
}
