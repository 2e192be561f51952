/*
 * DCAP quote parser and inspect decoders: real SGX v3 / TDX v4 / TDX v5
 * vectors, mutations of them (every truncation, every declared length off
 * by one, wrong versions, types and TEEs) and small synthetic quotes.
 *
 * Each input is copied into a heap block of exactly its length so that
 * AddressSanitizer catches any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "testutil.h"
#include "cocoon/dcap.h"
#include "dcap/quote.h"

/* Offsets read from the vectors with xxd (see the layout in quote.h). */
typedef struct {
	const char *path;
	int version;
	size_t len;
	size_t sig_data_len_off;    /* == end of the signed header+body */
	uint32_t sig_data_len;
	size_t outer_type_off;      /* v4/v5 only */
	uint32_t outer_cert_len;
	size_t qe_auth_len_off;
	size_t cert_type_off;       /* innermost certification data header */
	uint32_t cert_len;
	size_t trailing;
} vector;

static const vector SGX = { "sgx/quote.bin", 3, 4600, 432, 4164, 0, 0, 1012, 1046, 3548, 0 };
static const vector TDX = { "tdx/quote.bin", 4, 5006, 632, 4300, 764, 4166, 1218, 1252, 3678, 70 };
static const vector TDX5 = { "tdx/quote-outdated.bin", 5, 5006, 702, 4300, 834, 4166, 1288, 1322, 3678, 0 };

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	if (n)
		memcpy(copy, p, n);
	return copy;
}

/* The vector in an exact-size heap block, checked against the table. */
static uint8_t *load(const vector *v)
{
	size_t len = 0;
	uint8_t *raw = cocoon_test_vector(v->path, &len), *copy;

	if (!raw)
		fail_msg("cannot read vector %s: %s", v->path, cocoon_error_last()->message);
	assert_int_equal(len, v->len);
	copy = dup_exact(raw, len);
	free(raw);
	return copy;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	cocoon_put_le32(p + off, v);
}

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	cocoon_put_le16(p + off, v);
}

/* Parses a copy of buf[0, len) and asserts the rejection and its reason. */
static void expect_reject(const uint8_t *buf, size_t len, cocoon_check check, const char *needle1,
                          const char *needle2)
{
	cocoon_quote q;
	cocoon_failure f = { COCOON_CHECK_NONE, "" };
	uint8_t *copy = dup_exact(buf, len);
	int err = cocoon_quote_parse(&q, &f, copy, len);

	if (err != COCOON_EREJECT || f.check != check)
		fail_msg("expected %s rejection, got err %d check %s: %s", cocoon_check_name(check), err,
		         cocoon_check_name(f.check), f.reason);
	if (needle1 && !strstr(f.reason, needle1))
		fail_msg("reason lacks '%s': %s", needle1, f.reason);
	if (needle2 && !strstr(f.reason, needle2))
		fail_msg("reason lacks '%s': %s", needle2, f.reason);
	free(copy);
}

static void parse_ok(cocoon_quote *q, const uint8_t *buf, size_t len)
{
	cocoon_failure f = { COCOON_CHECK_NONE, "" };
	int err = cocoon_quote_parse(q, &f, buf, len);

	if (err != 0)
		fail_msg("parse failed (%d, %s): %s", err, cocoon_check_name(f.check), f.reason);
}

static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
	char got[2 * 64 + 1];
	assert_true(n <= 64);
	cocoon_hex_encode(got, p, n);
	assert_string_equal(got, hex);
}

/* Structural facts shared by the three vectors. */
static void check_layout(const cocoon_quote *q, const uint8_t *buf, const vector *v)
{
	assert_int_equal(q->header.version, v->version);
	assert_int_equal(q->header.att_key_type, 2);
	assert_memory_equal(q->header.qe_vendor_id, cocoon_intel_qe_vendor_id, 16);
	assert_ptr_equal(q->raw.ptr, buf);
	assert_int_equal(q->raw.len, v->len);
	assert_ptr_equal(q->signed_data.ptr, buf);
	assert_int_equal(q->signed_data.len, v->sig_data_len_off);
	assert_int_equal(q->sig_data_len, v->sig_data_len);
	assert_int_equal(q->trailing, v->trailing);
	assert_memory_equal(q->signature, buf + v->sig_data_len_off + 4, 64);
	assert_memory_equal(q->attest_key, buf + v->sig_data_len_off + 4 + 64, 64);
	assert_ptr_equal(q->qe_report_raw.ptr, buf + v->qe_auth_len_off - 64 - 384);
	assert_int_equal(q->qe_report_raw.len, 384);
	assert_memory_equal(q->qe_report_sig, buf + v->qe_auth_len_off - 64, 64);
	assert_ptr_equal(q->qe_auth_data.ptr, buf + v->qe_auth_len_off + 2);
	assert_int_equal(q->qe_auth_data.len, 32);
	assert_int_equal(q->cert_type, 5);
	assert_ptr_equal(q->cert_data.ptr, buf + v->cert_type_off + 6);
	assert_int_equal(q->cert_data.len, v->cert_len);
	assert_true(q->cert_data.len > sizeof(PEM_BEGIN));
	assert_memory_equal(q->cert_data.ptr, PEM_BEGIN, sizeof(PEM_BEGIN) - 1);
	if (v->version == 3) {
		assert_int_equal(q->outer_cert_type, 5);
		assert_int_equal(q->outer_cert_len, v->cert_len);
	} else {
		assert_int_equal(q->outer_cert_type, 6);
		assert_int_equal(q->outer_cert_len, v->outer_cert_len);
	}
}

static void test_sgx_v3_vector(void **state)
{
	cocoon_quote q;
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&SGX);
	parse_ok(&q, buf, SGX.len);
	check_layout(&q, buf, &SGX);
	assert_int_equal(q.header.tee_type, COCOON_TEE_TYPE_SGX);
	assert_int_equal(q.header.qe_svn, 10);
	assert_int_equal(q.header.pce_svn, 15);
	assert_int_equal(q.body_type, COCOON_BODY_SGX);
	assert_int_equal(q.body_size, 384);
	assert_hex(q.sgx.cpu_svn, 16, "0b0b1a18ffff04000000000000000000");
	assert_hex(q.sgx.mr_enclave, 32, "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	assert_hex(q.sgx.mr_signer, 32, "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6");
	assert_hex(q.sgx.attributes, 16, "0500000000000000e700000000000000");
	assert_int_equal(q.sgx.isv_prod_id, 0);
	assert_memory_equal(q.sgx.report_data, "Hello, world!", 13);
	assert_hex(q.qe_report.mr_signer, 32, "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
	assert_int_equal(q.qe_report.isv_prod_id, 1);
	assert_int_equal(q.qe_report.isv_svn, 10);
	free(buf);
}

static void test_tdx_v4_vector(void **state)
{
	cocoon_quote q;
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	parse_ok(&q, buf, TDX.len);
	check_layout(&q, buf, &TDX);
	assert_int_equal(q.header.tee_type, COCOON_TEE_TYPE_TDX);
	assert_int_equal(q.body_type, COCOON_BODY_TD10);
	assert_int_equal(q.body_size, 584);
	assert_hex(q.td.tee_tcb_svn, 16, "06010300000000000000000000000000");
	assert_hex(q.td.mr_td, 48, "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407"
	                           "de03ae6dc5f87f27428b2538873118b7");
	assert_hex(q.td.td_attributes, 8, "0000001000000000");
	assert_hex(q.td.xfam, 8, "e702060000000000");
	assert_true(cocoon_is_zero(q.td.tee_tcb_svn2, 16));
	assert_int_equal(q.qe_report.isv_svn, 6);
	/* The 70 bytes after the signature data are zero padding. */
	assert_true(cocoon_is_zero(buf + TDX.len - 70, 70));
	free(buf);
}

static void test_tdx_v5_vector(void **state)
{
	cocoon_quote q;
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX5);
	parse_ok(&q, buf, TDX5.len);
	check_layout(&q, buf, &TDX5);
	assert_int_equal(q.header.tee_type, COCOON_TEE_TYPE_TDX);
	assert_int_equal(q.body_type, COCOON_BODY_TD15);
	assert_int_equal(q.body_size, 648);
	assert_hex(q.td.mr_td, 48, "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1"
	                           "ae451d382d5a9b1b4c0ed0e5ae9a3dbd");
	assert_hex(q.td.tee_tcb_svn, 16, "07010300000000000000000000000000");
	assert_hex(q.td.tee_tcb_svn2, 16, "0d010300000000000000000000000000");
	assert_true(cocoon_is_zero(q.td.mr_service_td, 48));
	free(buf);
}

/* Every prefix shorter than the signature data's end is rejected as a format error. */
static void truncations(const vector *v)
{
	uint8_t *buf = load(v);
	size_t sig_end = v->sig_data_len_off + 4 + v->sig_data_len;

	assert_int_equal(sig_end + v->trailing, v->len);
	for (size_t n = 0; n < sig_end; n++)
		expect_reject(buf, n, COCOON_CHECK_QUOTE_FORMAT, "quote: ", NULL);
	/* Cutting into the padding only shortens the padding. */
	for (size_t n = sig_end; n <= v->len; n++) {
		cocoon_quote q;
		uint8_t *copy = dup_exact(buf, n);
		parse_ok(&q, copy, n);
		assert_int_equal(q.trailing, n - sig_end);
		free(copy);
	}
	free(buf);
}

static void test_truncation_sgx(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	truncations(&SGX);
}

static void test_truncation_tdx(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	truncations(&TDX);
	truncations(&TDX5);
}

static void test_truncation_messages(void **state)
{
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	expect_reject(buf, 0, COCOON_CHECK_QUOTE_FORMAT, "0 bytes is shorter than the 48-byte header", NULL);
	expect_reject(buf, 47, COCOON_CHECK_QUOTE_FORMAT, "47 bytes", NULL);
	expect_reject(buf, 600, COCOON_CHECK_QUOTE_FORMAT, "TD 1.0 report body (584 bytes) at offset 48",
	              "only 552 bytes remain");
	expect_reject(buf, 634, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len (u32) at offset 632", "only 2 remain");
	expect_reject(buf, 4000, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len 4300 at offset 632",
	              "exceeds the 3364 bytes available");
	free(buf);
}

/* A declared length one too large or too small, with the expected verdict. */
static void length_off_by(const vector *v, size_t off, int width, int delta, cocoon_check check,
                          const char *needle1, const char *needle2)
{
	uint8_t *buf = load(v);

	if (width == 4)
		put32(buf, off, (uint32_t)((int64_t)cocoon_le32(buf + off) + delta));
	else
		put16(buf, off, (uint16_t)(cocoon_le16(buf + off) + delta));
	expect_reject(buf, v->len, check, needle1, needle2);
	free(buf);
}

static void test_lengths_sgx(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	length_off_by(&SGX, SGX.sig_data_len_off, 4, 1, COCOON_CHECK_QUOTE_FORMAT,
	              "sig_data_len 4165 at offset 432", "exceeds the 4164 bytes available");
	length_off_by(&SGX, SGX.qe_auth_len_off, 2, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "qe_auth_len 33 at offset 1012", "cert_len");
	length_off_by(&SGX, SGX.cert_type_off + 2, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "cert_len 3549 at offset 1048", "exceeds the 3548 bytes available");
	length_off_by(&SGX, SGX.cert_type_off + 2, 4, -1, COCOON_CHECK_CERTIFICATION_DATA,
	              "cert_len 3547 at offset 1048", "leaves 1 of the 3548 bytes");
	/* qe_auth_len that runs past the signature data. */
	length_off_by(&SGX, SGX.qe_auth_len_off, 2, 4000, COCOON_CHECK_QUOTE_FORMAT,
	              "qe_auth_len 4032 at offset 1012", "exceeds the 3586 bytes available");
}

static void test_lengths_tdx_v4(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	/* One more byte still fits in the quote (the padding) but leaves the signature data unconsumed. */
	length_off_by(&TDX, TDX.sig_data_len_off, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "sig_data_len 4301 at offset 632", "outer cert_len 4166 at offset 766 leaves 1 of");
	length_off_by(&TDX, TDX.sig_data_len_off, 4, 71, COCOON_CHECK_QUOTE_FORMAT,
	              "sig_data_len 4371 at offset 632", "exceeds the 4370 bytes available");
	length_off_by(&TDX, TDX.outer_type_off + 2, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "outer cert_len 4167 at offset 766", "exceeds the 4166 bytes available");
	length_off_by(&TDX, TDX.qe_auth_len_off, 2, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "qe_auth_len 33 at offset 1218", "inner cert_len");
	length_off_by(&TDX, TDX.cert_type_off + 2, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "inner cert_len 3679 at offset 1254", "outer cert_len 4166 at offset 766");
	length_off_by(&TDX, TDX.cert_type_off + 2, 4, -1, COCOON_CHECK_CERTIFICATION_DATA,
	              "inner cert_len 3677 at offset 1254", "leaves 1 of the 3678 bytes");
	length_off_by(&TDX, TDX.qe_auth_len_off, 2, 4000, COCOON_CHECK_CERTIFICATION_DATA,
	              "qe_auth_len 4032 at offset 1218", "outer cert_len 4166");
}

static void test_lengths_tdx_v5(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	length_off_by(&TDX5, TDX5.sig_data_len_off, 4, 1, COCOON_CHECK_QUOTE_FORMAT,
	              "sig_data_len 4301 at offset 702", "exceeds the 4300 bytes available");
	length_off_by(&TDX5, TDX5.outer_type_off + 2, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "outer cert_len 4167 at offset 836", NULL);
	length_off_by(&TDX5, TDX5.qe_auth_len_off, 2, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "qe_auth_len 33 at offset 1288", NULL);
	length_off_by(&TDX5, TDX5.cert_type_off + 2, 4, 1, COCOON_CHECK_CERTIFICATION_DATA,
	              "inner cert_len 3679 at offset 1324", NULL);
	/* The v5 body_size is fixed by the body type. */
	length_off_by(&TDX5, 50, 4, 1, COCOON_CHECK_QUOTE_FORMAT, "body_size 649 at offset 50",
	              "which is 648 bytes");
	length_off_by(&TDX5, 50, 4, -64, COCOON_CHECK_QUOTE_FORMAT, "body_size 584 at offset 50", NULL);
}

static void test_sig_data_too_short(void **state)
{
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&SGX);
	put32(buf, SGX.sig_data_len_off, 127);
	expect_reject(buf, SGX.len, COCOON_CHECK_QUOTE_FORMAT, "sig_data_len 127", "too short");
	/* Room for the signature and key but not the QE report. */
	put32(buf, SGX.sig_data_len_off, 500);
	expect_reject(buf, SGX.len, COCOON_CHECK_QUOTE_FORMAT, "QE report", "sig_data_len 500");
	free(buf);
	buf = load(&TDX);
	put32(buf, TDX.sig_data_len_off, 130);
	expect_reject(buf, TDX.len, COCOON_CHECK_CERTIFICATION_DATA, "certification data header",
	              "only 2 remain");
	free(buf);
}

static void test_header_fields(void **state)
{
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	put16(buf, 0, 2);
	expect_reject(buf, TDX.len, COCOON_CHECK_QUOTE_VERSION, "version 2 at offset 0", "not supported");
	put16(buf, 0, 6);
	expect_reject(buf, TDX.len, COCOON_CHECK_QUOTE_VERSION, "version 6", NULL);
	put16(buf, 0, 4);
	put16(buf, 2, 3);
	expect_reject(buf, TDX.len, COCOON_CHECK_ATTESTATION_KEY_TYPE, "att_key_type 3 at offset 2", "ECDSA");
	put16(buf, 2, 2);
	put32(buf, 4, 0x82);
	expect_reject(buf, TDX.len, COCOON_CHECK_TEE_TYPE, "tee_type 0x00000082 at offset 4", NULL);
	put32(buf, 4, 0);
	expect_reject(buf, TDX.len, COCOON_CHECK_TEE_TYPE, "version 4 is for TDX", "0x00000000");
	free(buf);

	buf = load(&SGX);
	put32(buf, 4, 0x81);
	expect_reject(buf, SGX.len, COCOON_CHECK_TEE_TYPE, "version 3 is for SGX", "0x00000081");
	free(buf);
}

static void test_v5_body_type(void **state)
{
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX5);
	put16(buf, 48, 4);
	expect_reject(buf, TDX5.len, COCOON_CHECK_QUOTE_FORMAT, "body_type 4 at offset 48", NULL);
	put16(buf, 48, 0);
	expect_reject(buf, TDX5.len, COCOON_CHECK_QUOTE_FORMAT, "body_type 0", NULL);
	put16(buf, 48, 1);
	expect_reject(buf, TDX5.len, COCOON_CHECK_TEE_TYPE, "body_type 1 (SGX)", "0x00000081");
	/* A TD 1.0 body type with the TD 1.5 size. */
	put16(buf, 48, 2);
	expect_reject(buf, TDX5.len, COCOON_CHECK_QUOTE_FORMAT, "body_size 648", "which is 584 bytes");
	put16(buf, 48, 3);
	put32(buf, 4, 0);
	expect_reject(buf, TDX5.len, COCOON_CHECK_TEE_TYPE, "body_type 3 (TDX)", "0x00000000");
	free(buf);
}

static void test_cert_types(void **state)
{
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	put16(buf, TDX.outer_type_off, 5);
	expect_reject(buf, TDX.len, COCOON_CHECK_CERTIFICATION_DATA, "outer certification data type 5 at offset 764",
	              "must be 6");
	put16(buf, TDX.outer_type_off, 6);
	put16(buf, TDX.cert_type_off, 6);
	expect_reject(buf, TDX.len, COCOON_CHECK_CERTIFICATION_DATA, "type 6 at offset 1252", "only once");
	put16(buf, TDX.cert_type_off, 0);
	expect_reject(buf, TDX.len, COCOON_CHECK_CERTIFICATION_DATA, "type 0 at offset 1252", "not 1..5");
	/* Types 1..4 are well-formed certification data (verification needs 5). */
	put16(buf, TDX.cert_type_off, 4);
	{
		cocoon_quote q;
		parse_ok(&q, buf, TDX.len);
		assert_int_equal(q.cert_type, 4);
	}
	free(buf);

	buf = load(&SGX);
	put16(buf, SGX.cert_type_off, 6);
	expect_reject(buf, SGX.len, COCOON_CHECK_CERTIFICATION_DATA, "type 6 at offset 1046", NULL);
	put16(buf, SGX.cert_type_off, 7);
	expect_reject(buf, SGX.len, COCOON_CHECK_CERTIFICATION_DATA, "type 7 at offset 1046", "not 1..5");
	free(buf);
}

/* Padding after the signature data is neither read nor required to be zero. */
static void test_trailing_ignored(void **state)
{
	cocoon_quote q;
	uint8_t *buf;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	memset(buf + TDX.len - 70, 0xff, 70);
	parse_ok(&q, buf, TDX.len);
	assert_int_equal(q.trailing, 70);
	assert_int_equal(q.cert_data.len, TDX.cert_len);
	free(buf);
}

/* A minimal well-formed quote with zeroed fields and empty certification data. */
static uint8_t *synth(size_t *len, int version, uint32_t tee, uint16_t body_type, size_t body_size,
                      uint16_t cert_type)
{
	size_t qe = 384 + 64 + 2 + 6;
	size_t sig = 128 + (version == 3 ? qe : 6 + qe);
	size_t hdr = 48 + (version == 5 ? 6 : 0);
	size_t n = hdr + body_size + 4 + sig, p;
	uint8_t *b = calloc(1, n);

	assert_non_null(b);
	put16(b, 0, (uint16_t)version);
	put16(b, 2, 2);
	put32(b, 4, tee);
	memcpy(b + 12, cocoon_intel_qe_vendor_id, 16);
	if (version == 5) {
		put16(b, 48, body_type);
		put32(b, 50, (uint32_t)body_size);
	}
	p = hdr + body_size;
	put32(b, p, (uint32_t)sig);
	p += 4 + 128;
	if (version != 3) {
		put16(b, p, 6);
		put32(b, p + 2, (uint32_t)qe);
		p += 6;
	}
	p += 384 + 64 + 2; /* qe_auth_len 0 */
	put16(b, p, cert_type);
	assert_int_equal(p + 6, n);
	*len = n;
	return b;
}

static void test_synthetic_bodies(void **state)
{
	static const struct {
		int version;
		uint32_t tee;
		uint16_t body_type;
		size_t body_size;
		cocoon_body_type expect;
	} cases[] = {
		{ 3, COCOON_TEE_TYPE_SGX, 0, 384, COCOON_BODY_SGX },
		{ 4, COCOON_TEE_TYPE_TDX, 0, 584, COCOON_BODY_TD10 },
		{ 5, COCOON_TEE_TYPE_SGX, 1, 384, COCOON_BODY_SGX },
		{ 5, COCOON_TEE_TYPE_TDX, 2, 584, COCOON_BODY_TD10 },
		{ 5, COCOON_TEE_TYPE_TDX, 3, 648, COCOON_BODY_TD15 },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cocoon_quote q;
		size_t len;
		uint8_t *b = synth(&len, cases[i].version, cases[i].tee, cases[i].body_type, cases[i].body_size, 1);
		parse_ok(&q, b, len);
		assert_int_equal(q.body_type, cases[i].expect);
		assert_int_equal(q.body_size, cases[i].body_size);
		assert_int_equal(q.signed_data.len, len - 4 - q.sig_data_len);
		assert_int_equal(q.cert_type, 1);
		assert_int_equal(q.cert_data.len, 0);
		assert_int_equal(q.qe_auth_data.len, 0);
		assert_int_equal(q.trailing, 0);
		free(b);
	}
}

static void test_synthetic_rejects(void **state)
{
	size_t len;
	uint8_t *b;
	(void)state;

	/* v5 SGX body with a TDX tee_type, and v3 carrying a TDX tee_type. */
	b = synth(&len, 5, COCOON_TEE_TYPE_TDX, 1, 384, 5);
	expect_reject(b, len, COCOON_CHECK_TEE_TYPE, "body_type 1 (SGX)", NULL);
	free(b);
	b = synth(&len, 3, COCOON_TEE_TYPE_TDX, 0, 384, 5);
	expect_reject(b, len, COCOON_CHECK_TEE_TYPE, "version 3 is for SGX", NULL);
	free(b);
	/* v3 with a nested type-6 header is not v3 certification data. */
	b = synth(&len, 3, COCOON_TEE_TYPE_SGX, 0, 384, 6);
	expect_reject(b, len, COCOON_CHECK_CERTIFICATION_DATA, "type 6", NULL);
	free(b);
}

static void test_null_arguments(void **state)
{
	cocoon_quote q;
	cocoon_failure f = { COCOON_CHECK_NONE, "" };
	char *out = NULL;
	(void)state;

	assert_int_equal(cocoon_quote_parse(NULL, &f, (const uint8_t *)"", 0), COCOON_EINVAL);
	assert_int_equal(cocoon_quote_parse(&q, &f, NULL, 10), COCOON_EINVAL);
	assert_int_equal(cocoon_quote_parse(&q, NULL, NULL, 0), COCOON_EREJECT);
	assert_int_equal(cocoon_quote_inspect_json(NULL, NULL, 0), COCOON_EINVAL);
	assert_int_equal(cocoon_quote_inspect_text(&out, NULL, 0), COCOON_EFORMAT);
	assert_null(out);
	assert_non_null(strstr(cocoon_error_last()->message, "0 bytes is shorter than the 48-byte header"));
}

static json_t *inspect(const vector *v, const uint8_t *buf)
{
	char *text = NULL;
	json_t *root;
	json_error_t jerr;

	if (cocoon_quote_inspect_json(&text, buf, v->len) != 0)
		fail_msg("inspect failed: %s", cocoon_error_last()->message);
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("inspect JSON does not parse: %s at line %d", jerr.text, jerr.line);
	/* Keys come out in a stable order. */
	assert_true(strstr(text, "\"header\"") < strstr(text, "\"body_type\""));
	assert_true(strstr(text, "\"body\"") < strstr(text, "\"signature_data\""));
	assert_true(strstr(text, "\"signature_data\"") < strstr(text, "\"trailing_bytes\""));
	free(text);
	return root;
}

static json_t *at(json_t *root, const char *path)
{
	char key[64];
	const char *full = path;
	json_t *node = root;

	while (node && *path) {
		size_t n = strcspn(path, ".");
		assert_true(n < sizeof(key));
		memcpy(key, path, n);
		key[n] = '\0';
		node = isdigit((unsigned char)key[0]) ? json_array_get(node, (size_t)atoi(key))
		                                      : json_object_get(node, key);
		path += n + (path[n] == '.');
	}
	if (!node)
		fail_msg("inspect JSON lacks %s", full);
	return node;
}

static void assert_json_int(json_t *root, const char *path, json_int_t v)
{
	json_t *node = at(root, path);
	assert_true(json_is_integer(node));
	assert_int_equal(json_integer_value(node), v);
}

static void assert_json_str(json_t *root, const char *path, const char *s)
{
	json_t *node = at(root, path);
	assert_true(json_is_string(node));
	assert_string_equal(json_string_value(node), s);
}

static void assert_json_bool(json_t *root, const char *path, int v)
{
	json_t *node = at(root, path);
	assert_true(json_is_boolean(node));
	assert_int_equal(json_is_true(node), v);
}

static void check_pck_chain_json(json_t *root)
{
	json_t *certs = at(root, "signature_data.cert_data.certificates");
	const char *pem = json_string_value(at(root, "signature_data.cert_data.pem"));

	assert_json_int(root, "signature_data.cert_data.type", 5);
	assert_json_str(root, "signature_data.cert_data.type_name", "pck_certificate_chain");
	assert_non_null(pem);
	assert_memory_equal(pem, PEM_BEGIN, sizeof(PEM_BEGIN) - 1);
	assert_int_equal(json_array_size(certs), 3);
	assert_non_null(strstr(json_string_value(at(root, "signature_data.cert_data.certificates.0.subject")),
	                       "CN=Intel SGX PCK Certificate"));
	assert_json_str(root, "signature_data.cert_data.certificates.2.subject",
	                "CN=Intel SGX Root CA,O=Intel Corporation,L=Santa Clara,ST=CA,C=US");
	assert_json_str(root, "signature_data.cert_data.certificates.2.issuer",
	                "CN=Intel SGX Root CA,O=Intel Corporation,L=Santa Clara,ST=CA,C=US");
	assert_json_str(root, "signature_data.cert_data.certificates.2.notBefore", "2018-05-21T10:45:10Z");
	assert_json_str(root, "signature_data.cert_data.certificates.2.notAfter", "2049-12-31T23:59:59Z");
	assert_json_str(root, "signature_data.cert_data.certificates.2.serial",
	                "22650cd65a9d3489f383b49552bf501b392706ac");
	assert_null(json_object_get(at(root, "signature_data.cert_data"), "certificates_error"));
}

static void test_inspect_json_sgx(void **state)
{
	uint8_t *buf;
	json_t *root;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&SGX);
	root = inspect(&SGX, buf);
	assert_json_int(root, "header.version", 3);
	assert_json_int(root, "header.att_key_type", 2);
	assert_json_int(root, "header.tee_type", 0);
	assert_json_int(root, "header.qe_svn", 10);
	assert_json_int(root, "header.pce_svn", 15);
	assert_json_str(root, "header.qe_vendor_id", "939a7233f79c4ca9940a0db3957f0607");
	assert_json_str(root, "header.qe_vendor", "intel");
	assert_json_str(root, "body_type", "sgx");
	assert_json_int(root, "body_size", 384);
	assert_json_str(root, "body.mr_enclave", "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb");
	assert_json_int(root, "body.misc_select", 0);
	assert_json_bool(root, "body.attributes_decoded.debug", 0);
	assert_json_bool(root, "body.attributes_decoded.mode64", 1);
	assert_json_bool(root, "body.attributes_decoded.provisionkey", 0);
	assert_json_bool(root, "signature_data.qe_report.attributes_decoded.provisionkey", 1);
	assert_json_int(root, "signature_data.qe_report.isv_svn", 10);
	assert_json_int(root, "signature_data.sig_data_len", 4164);
	assert_json_str(root, "signature_data.qe_auth_data",
	                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	assert_null(json_object_get(at(root, "signature_data"), "outer_cert_type"));
	check_pck_chain_json(root);
	assert_json_int(root, "trailing_bytes", 0);
	json_decref(root);
	free(buf);
}

static void test_inspect_json_tdx(void **state)
{
	uint8_t *buf;
	json_t *root;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	root = inspect(&TDX, buf);
	assert_json_int(root, "header.version", 4);
	assert_json_int(root, "header.tee_type", 0x81);
	assert_null(json_object_get(at(root, "header"), "qe_svn"));
	assert_json_str(root, "body_type", "td10");
	assert_json_int(root, "body_size", 584);
	assert_json_str(root, "body.mr_td", "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407"
	                                    "de03ae6dc5f87f27428b2538873118b7");
	assert_json_str(root, "body.td_attributes", "0000001000000000");
	assert_json_bool(root, "body.td_attributes_decoded.debug", 0);
	assert_json_bool(root, "body.td_attributes_decoded.sept_ve_disable", 1);
	assert_json_bool(root, "body.td_attributes_decoded.pks", 0);
	assert_json_bool(root, "body.td_attributes_decoded.kl", 0);
	assert_null(json_object_get(at(root, "body"), "mr_service_td"));
	assert_json_int(root, "signature_data.outer_cert_type", 6);
	assert_json_int(root, "signature_data.outer_cert_len", 4166);
	assert_json_int(root, "signature_data.cert_len", 3678);
	check_pck_chain_json(root);
	assert_json_int(root, "trailing_bytes", 70);
	json_decref(root);

	/* Inspect decodes a quote from any vendor; verification checks the vendor. */
	buf[12] ^= 0xff;
	root = inspect(&TDX, buf);
	assert_json_str(root, "header.qe_vendor", "unknown");
	assert_json_str(root, "header.qe_vendor_id", "6c9a7233f79c4ca9940a0db3957f0607");
	json_decref(root);
	/* The TD debug bit is bit 0 of TDATTRIBUTES. */
	buf[48 + 120] |= 1;
	root = inspect(&TDX, buf);
	assert_json_bool(root, "body.td_attributes_decoded.debug", 1);
	json_decref(root);
	/* A corrupt PEM block is reported beside the certificates, not fatal. */
	buf[TDX.cert_type_off + 6 + 100] = '!';
	root = inspect(&TDX, buf);
	assert_int_equal(json_array_size(at(root, "signature_data.cert_data.certificates")), 0);
	assert_true(json_is_string(at(root, "signature_data.cert_data.certificates_error")));
	json_decref(root);
	free(buf);
}

static void test_inspect_json_tdx_v5(void **state)
{
	uint8_t *buf;
	json_t *root;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX5);
	root = inspect(&TDX5, buf);
	assert_json_int(root, "header.version", 5);
	assert_json_str(root, "body_type", "td15");
	assert_json_int(root, "body_size", 648);
	assert_json_str(root, "body.tee_tcb_svn2", "0d010300000000000000000000000000");
	assert_json_str(root, "body.mr_service_td", "000000000000000000000000000000000000000000000000"
	                                            "000000000000000000000000000000000000000000000000");
	check_pck_chain_json(root);
	assert_json_int(root, "trailing_bytes", 0);
	json_decref(root);
	free(buf);
}

static void test_inspect_text(void **state)
{
	uint8_t *buf;
	char *text = NULL;
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	assert_int_equal(cocoon_quote_inspect_text(&text, buf, TDX.len), 0);
	assert_non_null(text);
	assert_memory_equal(text, "Intel DCAP quote v4 (tdx, td10 body)\n", 37);
	assert_non_null(strstr(text, "\nheader:\n  version:      4\n"));
	assert_non_null(strstr(text, "\n  mr_td:           91eb2b44d141d4ec"));
	assert_non_null(strstr(text, "    sept_ve_disable: true\n"));
	assert_non_null(strstr(text, "      -----BEGIN CERTIFICATE-----\n"));
	assert_non_null(strstr(text, "    certificates[2]:\n      subject:   CN=Intel SGX Root CA,"));
	assert_non_null(strstr(text, "\ntrailing_bytes: 70\n"));
	free(text);
	free(buf);
}

static void test_inspect_rejects(void **state)
{
	uint8_t *buf;
	char *out = (char *)"untouched";
	(void)state;

	COCOON_REQUIRE_VECTORS();
	buf = load(&TDX);
	put16(buf, 0, 6);
	assert_int_equal(cocoon_quote_inspect_json(&out, buf, TDX.len), COCOON_EFORMAT);
	assert_null(out);
	assert_int_equal(cocoon_error_last()->code, COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "quote does not parse (quote_version)"));
	assert_non_null(strstr(cocoon_error_last()->message, "version 6"));
	put16(buf, 0, 4);
	put32(buf, TDX.cert_type_off + 2, TDX.cert_len + 1);
	assert_int_equal(cocoon_quote_inspect_text(&out, buf, TDX.len), COCOON_EFORMAT);
	assert_null(out);
	assert_non_null(strstr(cocoon_error_last()->message, "(certification_data)"));
	assert_non_null(strstr(cocoon_error_last()->message, "inner cert_len 3679"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx_v3_vector),
		cmocka_unit_test(test_tdx_v4_vector),
		cmocka_unit_test(test_tdx_v5_vector),
		cmocka_unit_test(test_truncation_sgx),
		cmocka_unit_test(test_truncation_tdx),
		cmocka_unit_test(test_truncation_messages),
		cmocka_unit_test(test_lengths_sgx),
		cmocka_unit_test(test_lengths_tdx_v4),
		cmocka_unit_test(test_lengths_tdx_v5),
		cmocka_unit_test(test_sig_data_too_short),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_v5_body_type),
		cmocka_unit_test(test_cert_types),
		cmocka_unit_test(test_trailing_ignored),
		cmocka_unit_test(test_synthetic_bodies),
		cmocka_unit_test(test_synthetic_rejects),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_inspect_json_sgx),
		cmocka_unit_test(test_inspect_json_tdx),
		cmocka_unit_test(test_inspect_json_tdx_v5),
		cmocka_unit_test(test_inspect_text),
		cmocka_unit_test(test_inspect_rejects),
	};
	return cmocka_run_group_tests_name("quote", tests, NULL, NULL);
}
