/* The SEV-SNP negative matrix shared by the real-vector and simulated-TEE tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "snp_matrix.h"
#include "common/util.h"

#define SIZE COCOON_SNP_REPORT_SIZE

cocoon_snp_inputs cocoon_snp_matrix_inputs(const cocoon_snp_matrix_case *c)
{
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	in.vcek = c->vcek;
	in.vcek_len = c->vcek_len;
	in.chain = c->chain;
	in.chain_len = c->chain_len;
	in.crl = c->crl;
	in.crl_len = c->crl_len;
	return in;
}

cocoon_result cocoon_snp_matrix_run(const cocoon_snp_matrix_case *c, const uint8_t *report, size_t len,
                                    const cocoon_snp_inputs *in, const cocoon_snp_policy *policy, time_t at)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_snp_inputs def = cocoon_snp_matrix_inputs(c);
	cocoon_result r;

	o.at = at ? at : c->at;
	o.allow_debug = c->allow_debug;
	assert_int_equal(cocoon_verifier_verify_snp(&r, c->verifier, report, len, in ? in : &def, policy, &o), 0);
	/* The flag follows the verifier, on accepts and rejects alike. */
	if (r.simulated != c->simulated)
		fail_msg("result.simulated is %d, expected %d (%s)", r.simulated, c->simulated, r.reason);
	return r;
}

void cocoon_snp_matrix_expect_reject(const cocoon_result *r, cocoon_check check, const char *part)
{
	if (r->accepted || r->failed_check != check || !strstr(r->reason, part))
		fail_msg("expected reject %s containing \"%s\", got %s %s: %s", cocoon_check_name(check), part,
		         r->accepted ? "accept" : "reject", cocoon_check_name(r->failed_check), r->reason);
}

static void expect_accept(const cocoon_result *r)
{
	if (!r->accepted)
		fail_msg("rejected: %s: %s", cocoon_check_name(r->failed_check), r->reason);
}

void cocoon_snp_matrix_accepts(const cocoon_snp_matrix_case *c)
{
	cocoon_result r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, 0);
	char *json = NULL;

	expect_accept(&r);
	assert_int_equal(r.tee, COCOON_TEE_SNP);
	assert_int_equal(r.status, COCOON_TCB_UP_TO_DATE);
	assert_int_equal(r.quote_version, (int)cocoon_le32(c->report));
	assert_memory_equal(r.snp.measurement, c->report + 0x090, 48);
	assert_memory_equal(r.snp.report_data, c->report + 0x050, 64);
	assert_memory_equal(r.snp.chip_id, c->report + 0x1A0, 64);
	assert_int_equal(cocoon_result_to_json(&json, &r), 0);
	assert_non_null(strstr(json, c->simulated ? "\"simulated\": true" : "\"simulated\": false"));
	free(json);
	/* A second run may take the cached VCEK chain: same verdict. */
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, 0);
	expect_accept(&r);
}

static void edit_expect(const cocoon_snp_matrix_case *c, size_t offset, uint8_t xor_mask, cocoon_check check,
                        const char *part)
{
	uint8_t rep[SIZE];
	cocoon_result r;

	memcpy(rep, c->report, SIZE);
	rep[offset] ^= xor_mask;
	r = cocoon_snp_matrix_run(c, rep, SIZE, NULL, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, check, part);
}

void cocoon_snp_matrix_byte_flips(const cocoon_snp_matrix_case *c)
{
	static const size_t signed_fields[] = {
		0x004, /* GUEST_SVN */     0x010, /* FAMILY_ID */  0x020, /* IMAGE_ID */    0x050, /* REPORT_DATA */
		0x090, /* MEASUREMENT */   0x0C0, /* HOST_DATA */  0x140, /* REPORT_ID */   0x180, /* REPORTED_TCB */
		0x1A0, /* CHIP_ID */       0x1E0, /* COMMITTED */  0x1E8, /* CURRENT_BUILD */ 0x1F0, /* LAUNCH_TCB */
		0x2A0, /* signature R */   0x2E8, /* signature S */
	};
	for (size_t i = 0; i < sizeof(signed_fields) / sizeof(signed_fields[0]); i++)
		edit_expect(c, signed_fields[i], 0x01, COCOON_CHECK_SNP_SIGNATURE, "does not verify with the VCEK key");
	/* A non-zero byte above the 48-byte scalar is not a P-384 signature. */
	edit_expect(c, 0x2A0 + 60, 0x01, COCOON_CHECK_SNP_SIGNATURE, "report signature");
}

void cocoon_snp_matrix_format(const cocoon_snp_matrix_case *c)
{
	/* Format checks run before any signature work. */
	edit_expect(c, 0x000, 0x0e, COCOON_CHECK_SNP_REPORT_FORMAT, "VERSION (offset 0x000)");
	edit_expect(c, 0x00A, 0x02, COCOON_CHECK_SNP_REPORT_FORMAT, "bit 17 is reserved");
	edit_expect(c, 0x00F, 0x80, COCOON_CHECK_SNP_REPORT_FORMAT, "bits 26..63 must be zero");
	edit_expect(c, 0x034, 0x03, COCOON_CHECK_SNP_REPORT_FORMAT, "SIGNATURE_ALGO (offset 0x034)");
	edit_expect(c, 0x04C, 0x01, COCOON_CHECK_SNP_REPORT_FORMAT, "reserved field");
	edit_expect(c, 0x048, 0x1c, COCOON_CHECK_SNP_SIGNATURE, "unsigned");
	edit_expect(c, 0x048, 0x04, COCOON_CHECK_SNP_VCEK_PROFILE, "SIGNING_KEY (offset 0x048): expected VCEK");
	edit_expect(c, 0x48F, 0x01, COCOON_CHECK_SNP_REPORT_FORMAT, "reserved part of SIGNATURE");
}

void cocoon_snp_matrix_truncation(const cocoon_snp_matrix_case *c)
{
	uint8_t longer[SIZE + 24] = { 0 };
	cocoon_result r;

	r = cocoon_snp_matrix_run(c, c->report, SIZE - 1, NULL, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "1183 bytes");
	assert_false(r.has_claims);
	r = cocoon_snp_matrix_run(c, c->report, 672, NULL, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "672 bytes");
	memcpy(longer, c->report, SIZE);
	r = cocoon_snp_matrix_run(c, longer, sizeof(longer), NULL, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_REPORT_FORMAT, "exactly 1184 bytes");
}

/* The ARK alone, cut out of the case's (or any) two-certificate bundle. */
static char *last_cert_pem(const uint8_t *bundle, size_t len)
{
	const char *second = strstr(strstr((const char *)bundle, "-----END CERTIFICATE-----") + 1, "-----BEGIN");
	char *out;
	assert_non_null(second);
	assert_true((size_t)(second - (const char *)bundle) < len);
	out = strndup(second, len - (size_t)(second - (const char *)bundle));
	assert_non_null(out);
	return out;
}

void cocoon_snp_matrix_roots(const cocoon_snp_matrix_case *c)
{
	cocoon_snp_inputs in = cocoon_snp_matrix_inputs(c);
	cocoon_result r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, 0);
	const char *other;
	char reason[64];
	char *ark_only;

	expect_accept(&r);
	other = strcmp(r.snp.product, "Milan") == 0 ? "Genoa" : "Milan";
	/* Another root of the same product line. */
	in.chain = c->wrong_chain;
	in.chain_len = c->wrong_chain_len;
	in.crl = NULL;
	in.crl_len = 0;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "does not chain to the trusted ARK");
	/* Something that is not a chain, and a chain without the ASK. */
	in.chain = (const uint8_t *)"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	in.chain_len = strlen((const char *)in.chain);
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "not a PEM bundle");
	ark_only = last_cert_pem(c->wrong_chain, c->wrong_chain_len);
	in.chain = (const uint8_t *)ark_only;
	in.chain_len = strlen(ark_only);
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "chain has 1 certificates, expected 2");
	free(ark_only);
	/* A caller who expects another product line. */
	in = cocoon_snp_matrix_inputs(c);
	in.product = other;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	snprintf(reason, sizeof(reason), "expected %s (caller)", other);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_PRODUCT, reason);
}

void cocoon_snp_matrix_time(const cocoon_snp_matrix_case *c)
{
	cocoon_result r;

	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, c->vcek_not_after + 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "certificate has expired");
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, c->vcek_not_before - 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "not yet valid");
	if (c->crl) {
		assert_true(c->crl_next_update < c->vcek_not_after);
		r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, c->crl_next_update + 1);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CRL, "CRL is stale");
		/* The cached chain's window ends with the CRL too. */
		r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, c->crl_next_update);
		expect_accept(&r);
		r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, NULL, c->crl_next_update + 1);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CRL, "CRL is stale");
	}
}

/* The case's VCEK as DER, whatever form it came in. */
static uint8_t *vcek_der(const cocoon_snp_matrix_case *c, size_t *len)
{
	const unsigned char *p = c->vcek;
	X509 *x = d2i_X509(NULL, &p, (long)c->vcek_len);
	unsigned char *der = NULL;
	int n;

	if (!x) {
		BIO *bio = BIO_new_mem_buf(c->vcek, (int)c->vcek_len);
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

void cocoon_snp_matrix_cert_sources(const cocoon_snp_matrix_case *c)
{
	static const uint8_t vcek_guid[16] = { 0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
		                               0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd };
	cocoon_snp_inputs in = cocoon_snp_matrix_inputs(c);
	size_t der_len, table_len;
	uint8_t *der = vcek_der(c, &der_len), *table;
	cocoon_result r;

	/* The VCEK inside an extended report's certificate table. */
	table_len = 48 + der_len;
	table = calloc(1, table_len);
	assert_non_null(table);
	memcpy(table, vcek_guid, 16);
	cocoon_put_le32(table + 16, 48);
	cocoon_put_le32(table + 20, (uint32_t)der_len);
	memcpy(table + 48, der, der_len);
	in.vcek = NULL;
	in.vcek_len = 0;
	in.certs = table;
	in.certs_len = table_len;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	expect_accept(&r);
	table[0] ^= 0xff;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "no VCEK entry");
	table[0] ^= 0xff;
	in.certs_len = table_len - 1;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "ends past the");
	/* Garbage, a truncated DER VCEK, and nothing at all. */
	in = cocoon_snp_matrix_inputs(c);
	in.vcek = c->report;
	in.vcek_len = 100;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "neither DER nor PEM");
	in.vcek = der;
	in.vcek_len = der_len - 1;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "neither DER nor PEM");
	in.vcek = NULL;
	in.vcek_len = 0;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, &in, NULL, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VCEK_CHAIN, "no VCEK/VLEK certificate");
	free(table);
	OPENSSL_free(der);
}

void cocoon_snp_matrix_expected_values(const cocoon_snp_matrix_case *c)
{
	cocoon_snp_policy pol = COCOON_SNP_POLICY_INIT;
	cocoon_result r;

	pol.has_measurement = pol.has_report_data = pol.has_host_data = 1;
	memcpy(pol.measurement, c->report + 0x090, 48);
	memcpy(pol.report_data, c->report + 0x050, 64);
	memcpy(pol.host_data, c->report + 0x0C0, 32);
	pol.vmpl = (int)cocoon_le32(c->report + 0x030);
	pol.min_guest_svn = cocoon_le32(c->report + 0x004);
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	expect_accept(&r);

	pol.measurement[47] ^= 1;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_MEASUREMENT, "MEASUREMENT (offset 0x090): expected ");
	pol.measurement[47] ^= 1;
	pol.report_data[0] ^= 1;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_REPORT_DATA, "REPORT_DATA (offset 0x050)");
	pol.report_data[0] ^= 1;
	pol.host_data[31] ^= 1;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_HOST_DATA, "HOST_DATA (offset 0x0c0)");
	pol.host_data[31] ^= 1;
	pol.vmpl = (pol.vmpl + 1) % 4;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_VMPL, "VMPL (offset 0x030)");
	pol.vmpl = -1;
	pol.min_guest_svn++;
	r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_GUEST_SVN, "GUEST_SVN (offset 0x004)");
	pol.min_guest_svn--;
	pol.min_tcb.microcode = (uint8_t)(c->report[0x180 + 7] + 1);
	if (pol.min_tcb.microcode != 0) {
		r = cocoon_snp_matrix_run(c, c->report, SIZE, NULL, &pol, 0);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_MIN_TCB, "microcode SPL: expected >= ");
	}
}

/* Copies the report, applies the edit, re-signs and verifies. */
static cocoon_result resigned(const cocoon_snp_matrix_case *c, size_t off, const void *bytes, size_t n)
{
	uint8_t rep[SIZE];
	memcpy(rep, c->report, SIZE);
	if (n)
		memcpy(rep + off, bytes, n);
	assert_int_equal(c->resign(rep, c->resign_ctx), 0);
	return cocoon_snp_matrix_run(c, rep, SIZE, NULL, NULL, 0);
}

void cocoon_snp_matrix_binding(const cocoon_snp_matrix_case *c)
{
	static const uint8_t zero_tcb[8];
	uint8_t b;
	cocoon_result r;

	if (!c->resign)
		return;
	r = resigned(c, 0, NULL, 0);
	expect_accept(&r);
	b = c->report[0x180] ^ 1;
	r = resigned(c, 0x180, &b, 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_TCB_BINDING, "REPORTED_TCB (offset 0x180): expected");
	b = c->report[0x1A0] ^ 1;
	r = resigned(c, 0x1A0, &b, 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_CHIP_ID, "CHIP_ID (offset 0x1A0");
	/* A platform running below the TCB it reports (CURRENT and COMMITTED zero). */
	{
		uint8_t rep[SIZE];
		memcpy(rep, c->report, SIZE);
		memcpy(rep + 0x038, zero_tcb, 8);
		memcpy(rep + 0x1E0, zero_tcb, 8);
		assert_int_equal(c->resign(rep, c->resign_ctx), 0);
		r = cocoon_snp_matrix_run(c, rep, SIZE, NULL, NULL, 0);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_TCB_BINDING, "exceeds CURRENT_TCB");
	}
	r = resigned(c, 0x1E0, zero_tcb, 8);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE, "COMMITTED_TCB (offset 0x1E0)");
	b = (uint8_t)(c->report[0x1EC] + 1);
	r = resigned(c, 0x1EC, &b, 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_PROVISIONAL_FIRMWARE, "COMMITTED firmware");
	if (!c->allow_debug) {
		b = c->report[0x00A] | 0x08;
		r = resigned(c, 0x00A, &b, 1);
		cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_POLICY_DEBUG, "DEBUG (bit 19");
	}
	b = c->report[0x00A] | 0x04;
	r = resigned(c, 0x00A, &b, 1);
	cocoon_snp_matrix_expect_reject(&r, COCOON_CHECK_SNP_POLICY_MIGRATION_AGENT, "MIGRATE_MA (bit 18");
}
