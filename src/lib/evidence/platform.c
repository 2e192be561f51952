/*
 * Parsers for what the platform hands back: configfs numbers, the SNP
 * MSG_REPORT_RSP header, the SNP certificate table, and the REPORT_DATA
 * position in each evidence format. All input here is untrusted (kernel,
 * firmware and host may be buggy or hostile), so every offset is checked
 * against the length before it is read. fuzz/fuzz_evidence_parse.c drives
 * these functions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "common/util.h"
#include "evidence/provider.h"
#include "evidence/uapi.h"

#define SNP_REPORT_LEN 1184u
#define SNP_REPORT_DATA_OFF 0x50u
#define CERT_ENTRY_LEN 24u
#define TDREPORT_LEN 1024u
#define TDREPORT_DATA_OFF 128u
#define QUOTE_HDR_LEN 48u
#define SGX_BODY_LEN 384u
#define SGX_BODY_RD_OFF 320u
#define TD10_BODY_LEN 584u
#define TD15_BODY_LEN 648u
#define TD_BODY_RD_OFF 0x208u
#define TEE_TYPE_SGX 0x00u
#define TEE_TYPE_TDX 0x81u

int ev_parse_u64(uint64_t *out, const char *text)
{
	uint64_t v = 0;
	size_t i = 0;

	*out = 0;
	if (!text || !(text[0] >= '0' && text[0] <= '9'))
		return -EINVAL;
	for (; text[i] >= '0' && text[i] <= '9'; i++) {
		unsigned d = (unsigned)(text[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (text[i] == '\n')
		i++;
	if (text[i] != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

void ev_trim(char *text)
{
	size_t n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r' || text[n - 1] == '\t'))
		text[--n] = '\0';
}

int ev_snp_certtable_used(size_t *used, const uint8_t *table, size_t len)
{
	size_t entries = 0, hdr_end, max_end;

	*used = 0;
	for (;;) {
		size_t off = entries * CERT_ENTRY_LEN;
		if (len < CERT_ENTRY_LEN || off > len - CERT_ENTRY_LEN)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table: no all-zero terminator entry within its %zu bytes "
			                        "(%zu entries read); the host supplied a malformed table",
			                        len, entries);
		if (cocoon_is_zero(table + off, CERT_ENTRY_LEN))
			break;
		entries++;
	}
	hdr_end = (entries + 1) * CERT_ENTRY_LEN;
	max_end = hdr_end;
	for (size_t i = 0; i < entries; i++) {
		const uint8_t *e = table + i * CERT_ENTRY_LEN;
		uint32_t offset = cocoon_le32(e + 16), length = cocoon_le32(e + 20);
		if (offset < hdr_end)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table entry %zu (byte %zu): certificate offset %u points "
			                        "into the table header, which ends at byte %zu",
			                        i, i * CERT_ENTRY_LEN + 16, offset, hdr_end);
		if (length > len || offset > len - length)
			return cocoon_error_set(COCOON_EFORMAT,
			                        "SNP certificate table entry %zu (byte %zu): certificate at offset %u "
			                        "with length %u runs past the end of the %zu-byte table",
			                        i, i * CERT_ENTRY_LEN + 16, offset, length, len);
		if ((size_t)offset + length > max_end)
			max_end = (size_t)offset + length;
	}
	/* A table without entries carries no certificates: report none. */
	*used = entries ? max_end : 0;
	return 0;
}

static const char *snp_status_hint(uint32_t status)
{
	switch (status) {
	case SNP_FW_STATUS_INVALID_PARAM:
		return "INVALID_PARAM: the requested VMPL may be below the VMPL the guest runs at";
	case SNP_FW_STATUS_INVALID_KEY:
		return "INVALID_KEY";
	default:
		return "see the SEV-SNP firmware ABI status codes";
	}
}

int ev_snp_report_resp(const uint8_t **report, size_t *report_len, const uint8_t *resp, size_t resp_len)
{
	uint32_t status, size;

	*report = NULL;
	*report_len = 0;
	if (resp_len < SNP_RESP_HDR_SIZE)
		return cocoon_error_set(COCOON_EFORMAT, "SNP report response: %zu bytes, shorter than its 32-byte header",
		                        resp_len);
	status = cocoon_le32(resp);
	size = cocoon_le32(resp + 4);
	if (status != 0)
		return cocoon_error_set(COCOON_EIO, "SNP firmware refused the report request: status 0x%x (%s)", status,
		                        snp_status_hint(status));
	if (size < SNP_REPORT_LEN || size > resp_len - SNP_RESP_HDR_SIZE)
		return cocoon_error_set(COCOON_EFORMAT,
		                        "SNP report response: bad length: report_size %u (byte 4) must lie between %u "
		                        "and %zu",
		                        size, SNP_REPORT_LEN, resp_len - SNP_RESP_HDR_SIZE);
	*report = resp + SNP_RESP_HDR_SIZE;
	*report_len = size;
	return 0;
}

static int quote_report_data(const uint8_t **rd, cocoon_tee *tee, const uint8_t *q, size_t len)
{
	uint16_t version;
	uint32_t tee_type;
	size_t body_off = QUOTE_HDR_LEN, body_len, rd_off;

	if (len < QUOTE_HDR_LEN)
		return cocoon_error_set(COCOON_EFORMAT, "quote: %zu bytes, shorter than its 48-byte header", len);
	version = cocoon_le16(q);
	tee_type = cocoon_le32(q + 4);
	if (tee_type != TEE_TYPE_SGX && tee_type != TEE_TYPE_TDX)
		return cocoon_error_set(COCOON_EFORMAT, "quote: unknown TEE type 0x%x at byte 4", tee_type);
	if (version == 5) {
		uint16_t body_type;
		uint32_t body_size;
		if (len < QUOTE_HDR_LEN + 6)
			return cocoon_error_set(COCOON_EFORMAT, "quote v5: %zu bytes, too short for the body descriptor", len);
		body_type = cocoon_le16(q + QUOTE_HDR_LEN);
		body_size = cocoon_le32(q + QUOTE_HDR_LEN + 2);
		body_off = QUOTE_HDR_LEN + 6;
		body_len = body_type == 1 ? SGX_BODY_LEN : body_type == 2 ? TD10_BODY_LEN : body_type == 3 ? TD15_BODY_LEN : 0;
		if (body_len == 0 || body_size != body_len || (body_type == 1) != (tee_type == TEE_TYPE_SGX))
			return cocoon_error_set(COCOON_EFORMAT,
			                        "quote v5: body type %u with size %u (byte 48) does not match TEE type 0x%x",
			                        body_type, body_size, tee_type);
	} else if (version == 3 || version == 4) {
		if (version == 3 && tee_type != TEE_TYPE_SGX)
			return cocoon_error_set(COCOON_EFORMAT, "quote v3: TEE type 0x%x, expected SGX (0)", tee_type);
		body_len = tee_type == TEE_TYPE_SGX ? SGX_BODY_LEN : TD10_BODY_LEN;
	} else {
		return cocoon_error_set(COCOON_EFORMAT, "quote: unsupported version %u at byte 0", version);
	}
	if (len - body_off < body_len)
		return cocoon_error_set(COCOON_EFORMAT, "quote v%u: %zu bytes, too short for its %zu-byte body", version,
		                        len, body_len);
	rd_off = body_off + (tee_type == TEE_TYPE_SGX ? SGX_BODY_RD_OFF : TD_BODY_RD_OFF);
	*rd = q + rd_off;
	*tee = tee_type == TEE_TYPE_SGX ? COCOON_TEE_SGX : COCOON_TEE_TDX;
	return 0;
}

int ev_locate_report_data(const uint8_t **rd, cocoon_tee *tee, cocoon_evidence_format format,
                          const uint8_t *ev, size_t len)
{
	*rd = NULL;
	*tee = COCOON_TEE_UNKNOWN;
	switch (format) {
	case COCOON_EVIDENCE_SNP_REPORT:
		if (len < SNP_REPORT_LEN)
			return cocoon_error_set(COCOON_EFORMAT, "SNP report: bad length: %zu bytes, expected at least %u",
			                        len, SNP_REPORT_LEN);
		*rd = ev + SNP_REPORT_DATA_OFF;
		*tee = COCOON_TEE_SNP;
		return 0;
	case COCOON_EVIDENCE_TDX_TDREPORT:
		if (len != TDREPORT_LEN)
			return cocoon_error_set(COCOON_EFORMAT, "TDREPORT: bad length: %zu bytes, expected %u", len,
			                        TDREPORT_LEN);
		if (ev[0] != TEE_TYPE_TDX)
			return cocoon_error_set(COCOON_EFORMAT, "TDREPORT: report type 0x%02x at byte 0, expected 0x81 (TDX)",
			                        ev[0]);
		*rd = ev + TDREPORT_DATA_OFF;
		*tee = COCOON_TEE_TDX;
		return 0;
	case COCOON_EVIDENCE_DCAP_QUOTE:
		return quote_report_data(rd, tee, ev, len);
	default:
		return cocoon_error_set(COCOON_EINVAL, "evidence format %d is unknown", (int)format);
	}
}

int ev_check_binding(const char *who, cocoon_evidence_format format, cocoon_tee expect_tee,
                     const uint8_t *ev, size_t len, const uint8_t report_data[64])
{
	const uint8_t *rd;
	cocoon_tee tee;
	int err;

	if ((err = ev_locate_report_data(&rd, &tee, format, ev, len)) != 0) {
		char prefix[128];
		snprintf(prefix, sizeof(prefix), "%s returned unusable evidence: ", who);
		return ev_error_prefix(err, prefix);
	}
	if (expect_tee != COCOON_TEE_UNKNOWN && tee != expect_tee)
		return cocoon_error_set(COCOON_EFORMAT, "%s returned %s evidence where %s was expected", who,
		                        cocoon_tee_name(tee), cocoon_tee_name(expect_tee));
	if (cocoon_memcmp_ct(rd, report_data, 64) != 0)
		return cocoon_error_set(COCOON_EIO,
		                        "%s returned evidence whose REPORT_DATA differs from the requested report data "
		                        "(a stale report or another requester's); it was discarded",
		                        who);
	return 0;
}
