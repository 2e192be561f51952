/*
 * DCAP quote parser: SGX v3, TDX v4 and v5 (layout in quote.h).
 *
 * The quote is untrusted. Every field is read only after a bounds check
 * against the innermost region that must contain it (the whole quote, the
 * declared signature data, or the outer certification data), and every
 * declared length inside the signature data must be consumed exactly, as
 * Intel's QVL requires. Bytes after the declared signature data are padding
 * (TDX quotes carry zeros there): they are counted and never read.
 */
#include <stdio.h>
#include <string.h>
#include "dcap/quote.h"

const uint8_t cocoon_intel_qe_vendor_id[16] = {
	0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
	0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07
};

#define SIG_SIZE 64
#define KEY_SIZE 64
#define CERT_HEADER_SIZE 6 /* u16 type | u32 length */
#define V5_BODY_DESC_SIZE 6 /* u16 body_type | u32 body_size */

/*
 * A region [pos, end) of the quote. `what` names the length field that
 * bounds the region so that errors can point at it, since a wrong length
 * usually shows up only when the structure after it stops adding up.
 */
typedef struct {
	const uint8_t *buf;
	size_t pos;
	size_t end;
	const char *what;       /* e.g. "sig_data_len" */
	uint32_t what_value;
	size_t what_offset;
	cocoon_check check;     /* the check blamed for a shortfall inside the region */
} region;

static size_t region_left(const region *r)
{
	return r->end - r->pos;
}

void cocoon_sgx_report_decode(cocoon_sgx_report *out, const uint8_t *p)
{
	memcpy(out->cpu_svn, p + 0, 16);
	out->misc_select = cocoon_le32(p + 16);
	memcpy(out->reserved1, p + 20, 12);
	memcpy(out->isv_ext_prod_id, p + 32, 16);
	memcpy(out->attributes, p + 48, 16);
	memcpy(out->mr_enclave, p + 64, 32);
	memcpy(out->reserved2, p + 96, 32);
	memcpy(out->mr_signer, p + 128, 32);
	memcpy(out->reserved3, p + 160, 32);
	memcpy(out->config_id, p + 192, 64);
	out->isv_prod_id = cocoon_le16(p + 256);
	out->isv_svn = cocoon_le16(p + 258);
	out->config_svn = cocoon_le16(p + 260);
	memcpy(out->reserved4, p + 262, 42);
	memcpy(out->isv_family_id, p + 304, 16);
	memcpy(out->report_data, p + 320, 64);
}

void cocoon_td_report_decode(cocoon_td_report *out, const uint8_t *p, cocoon_body_type type)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->tee_tcb_svn, p + 0, 16);
	memcpy(out->mr_seam, p + 16, 48);
	memcpy(out->mr_signer_seam, p + 64, 48);
	memcpy(out->seam_attributes, p + 112, 8);
	memcpy(out->td_attributes, p + 120, 8);
	memcpy(out->xfam, p + 128, 8);
	memcpy(out->mr_td, p + 136, 48);
	memcpy(out->mr_config_id, p + 184, 48);
	memcpy(out->mr_owner, p + 232, 48);
	memcpy(out->mr_owner_config, p + 280, 48);
	for (size_t i = 0; i < 4; i++)
		memcpy(out->rtmr[i], p + 328 + 48 * i, 48);
	memcpy(out->report_data, p + 520, 64);
	if (type == COCOON_BODY_TD15) {
		memcpy(out->tee_tcb_svn2, p + 584, 16);
		memcpy(out->mr_service_td, p + 600, 48);
	}
}

static int parse_header(cocoon_quote *q, cocoon_failure *f, const uint8_t *buf, size_t len)
{
	cocoon_quote_header *h = &q->header;
	int err = 0;

	if (len < COCOON_QUOTE_HEADER_SIZE) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: %zu bytes is shorter than the %d-byte header; "
		                  "the input is truncated or not a DCAP quote", len, COCOON_QUOTE_HEADER_SIZE);
		goto done;
	}
	h->version = cocoon_le16(buf + 0);
	h->att_key_type = cocoon_le16(buf + 2);
	h->tee_type = cocoon_le32(buf + 4);
	h->qe_svn = cocoon_le16(buf + 8);
	h->pce_svn = cocoon_le16(buf + 10);
	memcpy(h->qe_vendor_id, buf + 12, 16);
	memcpy(h->user_data, buf + 28, 20);

	if (h->version < 3 || h->version > 5) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_VERSION,
		                  "quote: header version %u at offset 0 is not supported; "
		                  "expected 3 (SGX) or 4/5 (TDX)", h->version);
		goto done;
	}
	if (h->att_key_type != COCOON_ATT_KEY_ECDSA_P256) {
		err = cocoon_fail(f, COCOON_CHECK_ATTESTATION_KEY_TYPE,
		                  "quote: header att_key_type %u at offset 2 is not 2 (ECDSA-256 with P-256), "
		                  "the only attestation key type DCAP verification supports", h->att_key_type);
		goto done;
	}
	if (h->tee_type != COCOON_TEE_TYPE_SGX && h->tee_type != COCOON_TEE_TYPE_TDX) {
		err = cocoon_fail(f, COCOON_CHECK_TEE_TYPE,
		                  "quote: header tee_type 0x%08x at offset 4 is neither 0x00000000 (SGX) "
		                  "nor 0x00000081 (TDX)", h->tee_type);
		goto done;
	}
	if (h->version == 3 && h->tee_type != COCOON_TEE_TYPE_SGX) {
		err = cocoon_fail(f, COCOON_CHECK_TEE_TYPE,
		                  "quote: header version 3 is for SGX, but tee_type at offset 4 is 0x%08x "
		                  "(TDX quotes are version 4 or 5)", h->tee_type);
		goto done;
	}
	if (h->version == 4 && h->tee_type != COCOON_TEE_TYPE_TDX) {
		err = cocoon_fail(f, COCOON_CHECK_TEE_TYPE,
		                  "quote: header version 4 is for TDX, but tee_type at offset 4 is 0x%08x, "
		                  "not 0x00000081 (SGX quotes are version 3 or 5)", h->tee_type);
		goto done;
	}
done:
	return err;
}

static uint32_t body_size_of(cocoon_body_type t)
{
	switch (t) {
	case COCOON_BODY_SGX: return COCOON_SGX_REPORT_SIZE;
	case COCOON_BODY_TD10: return COCOON_TD10_REPORT_SIZE;
	case COCOON_BODY_TD15: return COCOON_TD15_REPORT_SIZE;
	default: return 0;
	}
}

static const char *body_name(cocoon_body_type t)
{
	switch (t) {
	case COCOON_BODY_SGX: return "SGX enclave report";
	case COCOON_BODY_TD10: return "TD 1.0 report";
	case COCOON_BODY_TD15: return "TD 1.5 report";
	default: return "unknown";
	}
}

/* v5 declares the body type and size; v3/v4 imply them. */
static int parse_body_descriptor(cocoon_quote *q, cocoon_failure *f, size_t *body_off,
                                 const uint8_t *buf, size_t len)
{
	uint16_t type;
	int err = 0;

	if (q->header.version == 3) {
		q->body_type = COCOON_BODY_SGX;
		q->body_size = COCOON_SGX_REPORT_SIZE;
		*body_off = COCOON_QUOTE_HEADER_SIZE;
		goto done;
	}
	if (q->header.version == 4) {
		q->body_type = COCOON_BODY_TD10;
		q->body_size = COCOON_TD10_REPORT_SIZE;
		*body_off = COCOON_QUOTE_HEADER_SIZE;
		goto done;
	}
	if (len - COCOON_QUOTE_HEADER_SIZE < V5_BODY_DESC_SIZE) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: v5 body_type (u16) and body_size (u32) at offset %d need %d bytes, "
		                  "but only %zu remain; the quote is truncated", COCOON_QUOTE_HEADER_SIZE,
		                  V5_BODY_DESC_SIZE, len - COCOON_QUOTE_HEADER_SIZE);
		goto done;
	}
	type = cocoon_le16(buf + COCOON_QUOTE_HEADER_SIZE);
	q->body_size = cocoon_le32(buf + COCOON_QUOTE_HEADER_SIZE + 2);
	if (type < COCOON_BODY_SGX || type > COCOON_BODY_TD15) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: v5 body_type %u at offset %d is not 1 (SGX), 2 (TD 1.0) or 3 (TD 1.5)",
		                  type, COCOON_QUOTE_HEADER_SIZE);
		goto done;
	}
	q->body_type = (cocoon_body_type)type;
	if (q->body_type == COCOON_BODY_SGX && q->header.tee_type != COCOON_TEE_TYPE_SGX) {
		err = cocoon_fail(f, COCOON_CHECK_TEE_TYPE,
		                  "quote: v5 body_type 1 (SGX) at offset %d does not match header tee_type 0x%08x; "
		                  "an SGX body needs tee_type 0x00000000", COCOON_QUOTE_HEADER_SIZE,
		                  q->header.tee_type);
		goto done;
	}
	if (q->body_type != COCOON_BODY_SGX && q->header.tee_type != COCOON_TEE_TYPE_TDX) {
		err = cocoon_fail(f, COCOON_CHECK_TEE_TYPE,
		                  "quote: v5 body_type %u (TDX) at offset %d does not match header tee_type 0x%08x; "
		                  "a TD body needs tee_type 0x00000081", type, COCOON_QUOTE_HEADER_SIZE,
		                  q->header.tee_type);
		goto done;
	}
	if (q->body_size != body_size_of(q->body_type)) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: v5 body_size %u at offset %d does not match body_type %u (%s), "
		                  "which is %u bytes", q->body_size, COCOON_QUOTE_HEADER_SIZE + 2, type,
		                  body_name(q->body_type), body_size_of(q->body_type));
		goto done;
	}
	*body_off = COCOON_QUOTE_HEADER_SIZE + V5_BODY_DESC_SIZE;
done:
	return err;
}

static int parse_body(cocoon_quote *q, cocoon_failure *f, size_t *body_end, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	int err;

	if ((err = parse_body_descriptor(q, f, &off, buf, len)) != 0)
		goto done;
	if (len - off < q->body_size) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: the %s body (%u bytes) at offset %zu is truncated: only %zu bytes remain",
		                  body_name(q->body_type), q->body_size, off, len - off);
		goto done;
	}
	if (q->body_type == COCOON_BODY_SGX)
		cocoon_sgx_report_decode(&q->sgx, buf + off);
	else
		cocoon_td_report_decode(&q->td, buf + off, q->body_type);
	*body_end = off + q->body_size;
	q->signed_data.ptr = buf;
	q->signed_data.len = *body_end;
done:
	return err;
}

/*
 * Reads a certification data header (u16 type, u32 length) and checks that
 * the declared data fills the rest of the region exactly. `name` is e.g.
 * "inner cert_len"; `after`, when set, names the length field that placed
 * the header, the usual culprit when the lengths do not add up.
 */
static int read_cert_header(uint16_t *type, uint32_t *cert_len, region *r, cocoon_failure *f,
                            const char *name, const char *after, uint32_t after_value, size_t after_offset)
{
	size_t hdr = r->pos, left;
	char ctx[128] = "";
	int err = 0;

	if (after)
		snprintf(ctx, sizeof(ctx), "; the header follows %s %u at offset %zu", after, after_value,
		         after_offset);
	if (region_left(r) < CERT_HEADER_SIZE) {
		err = cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                  "quote: the certification data header holding %s (u16 type, u32 length) at offset "
		                  "%zu needs %d bytes, but only %zu remain before the end declared by %s %u at offset "
		                  "%zu%s", name, hdr, CERT_HEADER_SIZE, region_left(r), r->what, r->what_value,
		                  r->what_offset, ctx);
		goto done;
	}
	*type = cocoon_le16(r->buf + hdr);
	*cert_len = cocoon_le32(r->buf + hdr + 2);
	r->pos += CERT_HEADER_SIZE;
	left = region_left(r);
	if (*cert_len > left) {
		err = cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                  "quote: %s %u at offset %zu exceeds the %zu bytes available before the end declared "
		                  "by %s %u at offset %zu%s", name, *cert_len, hdr + 2, left, r->what, r->what_value,
		                  r->what_offset, ctx);
		goto done;
	}
	if (*cert_len < left) {
		err = cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                  "quote: %s %u at offset %zu leaves %zu of the %zu bytes declared by %s %u at offset "
		                  "%zu unconsumed%s; the declared lengths must add up exactly", name, *cert_len,
		                  hdr + 2, left - *cert_len, left, r->what, r->what_value, r->what_offset, ctx);
		goto done;
	}
done:
	return err;
}

/*
 * QE report | QE report signature | u16 qe_auth_len | auth | cert header |
 * cert data, filling exactly region r (v3: the rest of the signature data;
 * v4/v5: the type-6 certification data, where `scope` is "inner ").
 */
static int parse_qe_section(cocoon_quote *q, cocoon_failure *f, region *r, const char *scope)
{
	const size_t fixed = COCOON_SGX_REPORT_SIZE + SIG_SIZE + 2;
	char len_name[32];
	size_t auth_off;
	uint16_t auth_len, type = 0;
	uint32_t cert_len = 0;
	int err = 0;

	if (region_left(r) < fixed) {
		err = cocoon_fail(f, r->check,
		                  "quote: the QE report (384 bytes), its signature (64) and qe_auth_len (2) at offset "
		                  "%zu need %zu bytes, but only %zu remain before the end declared by %s %u at "
		                  "offset %zu", r->pos, fixed, region_left(r), r->what, r->what_value, r->what_offset);
		goto done;
	}
	q->qe_report_raw.ptr = r->buf + r->pos;
	q->qe_report_raw.len = COCOON_SGX_REPORT_SIZE;
	cocoon_sgx_report_decode(&q->qe_report, r->buf + r->pos);
	r->pos += COCOON_SGX_REPORT_SIZE;
	memcpy(q->qe_report_sig, r->buf + r->pos, SIG_SIZE);
	r->pos += SIG_SIZE;
	auth_off = r->pos;
	auth_len = cocoon_le16(r->buf + auth_off);
	r->pos += 2;
	if (auth_len > region_left(r)) {
		err = cocoon_fail(f, r->check,
		                  "quote: qe_auth_len %u at offset %zu exceeds the %zu bytes available before the end "
		                  "declared by %s %u at offset %zu", auth_len, auth_off, region_left(r), r->what,
		                  r->what_value, r->what_offset);
		goto done;
	}
	q->qe_auth_data.ptr = r->buf + r->pos;
	q->qe_auth_data.len = auth_len;
	r->pos += auth_len;

	snprintf(len_name, sizeof(len_name), "%scert_len", scope);
	if ((err = read_cert_header(&type, &cert_len, r, f, len_name, "qe_auth_len", auth_len, auth_off)) != 0)
		goto done;
	if (type < 1 || type > COCOON_CERT_TYPE_PCK_CHAIN) {
		err = cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                  "quote: %scertification data type %u at offset %zu is not 1..5 "
		                  "(PPID or PCK certificate data)%s", scope, type, r->pos - CERT_HEADER_SIZE,
		                  type == COCOON_CERT_TYPE_QE_REPORT ? "; type 6 may appear only once, as the "
		                  "outer certification data of a v4/v5 quote" : "");
		goto done;
	}
	q->cert_type = type;
	q->cert_data.ptr = r->buf + r->pos;
	q->cert_data.len = cert_len;
	r->pos += cert_len;
done:
	return err;
}

static int parse_signature_data(cocoon_quote *q, cocoon_failure *f, size_t body_end,
                                const uint8_t *buf, size_t len)
{
	region r = { buf, 0, 0, "sig_data_len", 0, body_end, COCOON_CHECK_QUOTE_FORMAT };
	region outer;
	size_t sig_off, outer_hdr;
	int err = 0;

	if (len - body_end < 4) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: sig_data_len (u32) at offset %zu needs 4 bytes, but only %zu remain; "
		                  "the quote is truncated after its body", body_end, len - body_end);
		goto done;
	}
	q->sig_data_len = cocoon_le32(buf + body_end);
	sig_off = body_end + 4;
	if (q->sig_data_len > len - sig_off) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: sig_data_len %u at offset %zu exceeds the %zu bytes available after it; "
		                  "the quote is truncated or the length is corrupt", q->sig_data_len, body_end,
		                  len - sig_off);
		goto done;
	}
	r.pos = sig_off;
	r.end = sig_off + q->sig_data_len;
	r.what_value = q->sig_data_len;
	q->trailing = len - r.end;

	if (region_left(&r) < SIG_SIZE + KEY_SIZE) {
		err = cocoon_fail(f, COCOON_CHECK_QUOTE_FORMAT,
		                  "quote: sig_data_len %u at offset %zu is too short for the 64-byte quote signature "
		                  "and 64-byte attestation key at offset %zu", q->sig_data_len, body_end, sig_off);
		goto done;
	}
	memcpy(q->signature, buf + r.pos, SIG_SIZE);
	r.pos += SIG_SIZE;
	memcpy(q->attest_key, buf + r.pos, KEY_SIZE);
	r.pos += KEY_SIZE;

	if (q->header.version == 3) {
		if ((err = parse_qe_section(q, f, &r, "")) != 0)
			goto done;
		q->outer_cert_type = q->cert_type;
		q->outer_cert_len = (uint32_t)q->cert_data.len;
		goto done;
	}

	outer_hdr = r.pos;
	if ((err = read_cert_header(&q->outer_cert_type, &q->outer_cert_len, &r, f, "outer cert_len",
	                            NULL, 0, 0)) != 0)
		goto done;
	if (q->outer_cert_type != COCOON_CERT_TYPE_QE_REPORT) {
		err = cocoon_fail(f, COCOON_CHECK_CERTIFICATION_DATA,
		                  "quote: outer certification data type %u at offset %zu must be 6 (QE report "
		                  "certification data) in a v%u quote; the PCK data (types 1..5) is nested inside it",
		                  q->outer_cert_type, outer_hdr, q->header.version);
		goto done;
	}
	outer = (region){ buf, r.pos, r.end, "outer cert_len", q->outer_cert_len, outer_hdr + 2,
	                  COCOON_CHECK_CERTIFICATION_DATA };
	err = parse_qe_section(q, f, &outer, "inner ");
done:
	return err;
}

int cocoon_quote_parse(cocoon_quote *out, cocoon_failure *f, const uint8_t *buf, size_t len)
{
	size_t body_end = 0;
	int err = 0;

	if (!out || (!buf && len)) {
		err = cocoon_error_set(COCOON_EINVAL, "cocoon_quote_parse: out and buf must not be NULL");
		goto done;
	}
	memset(out, 0, sizeof(*out));
	out->raw.ptr = buf;
	out->raw.len = len;
	if ((err = parse_header(out, f, buf, len)) != 0)
		goto done;
	if ((err = parse_body(out, f, &body_end, buf, len)) != 0)
		goto done;
	err = parse_signature_data(out, f, body_end, buf, len);
done:
	return err;
}
