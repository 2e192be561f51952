/* The collateral client's parsers (issuer-chain headers, Cache-Control, KDS URLs), its cache and the fetching source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "testutil.h"
#include "common/util.h"
#include "dcap/collateral.h"
#include "cocoon/collateral.h"

static void assert_error(int err, int code, const char *substr)
{
	const char *msg = cocoon_error_last()->message;
	if (err != code || !strstr(msg, substr))
		fail_msg("expected %s containing \"%s\", got %s: \"%s\"", cocoon_error_name(code), substr,
		         cocoon_error_name(err), msg);
}

static char *headers_with(const char *name, const char *value)
{
	char *h = NULL;
	assert_true(asprintf(&h, "HTTP/1.1 200 OK\r\nRequest-ID: x\r\n%s: %s\r\nContent-Length: 1\r\n\r\n", name,
	                     value) > 0);
	return h;
}

static void test_issuer_chain(void **state)
{
	size_t len, clen;
	char *enc, *h, *chain, *mod;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	enc = (char *)cocoon_test_vector("pcs/tcb-info-issuer-chain.urlenc", &len);
	enc = realloc(enc, len + 1);
	enc[len] = '\0';
	/* Header names are case-insensitive (QCNL lower-cases them). */
	h = headers_with("tcb-info-issuer-chain", enc);
	assert_int_equal(cocoon_pcs_issuer_chain(&chain, &clen, h, strlen(h), "TCB-Info-Issuer-Chain"), 0);
	assert_non_null(strstr(chain, "-----BEGIN CERTIFICATE-----\nMII"));
	assert_int_equal(clen, strlen(chain));
	free(chain);
	assert_error(cocoon_pcs_issuer_chain(&chain, &clen, h, strlen(h), "SGX-PCK-CRL-Issuer-Chain"), COCOON_EFORMAT,
	             "no SGX-PCK-CRL-Issuer-Chain header");
	free(h);
	/* One certificate only: cut at the second BEGIN. */
	mod = strdup(enc);
	*strstr(strstr(mod, "BEGIN") + 5, "-----BEGIN") = '\0';
	h = headers_with("TCB-Info-Issuer-Chain", mod);
	assert_error(cocoon_pcs_issuer_chain(&chain, &clen, h, strlen(h), "TCB-Info-Issuer-Chain"), COCOON_EFORMAT,
	             "found 1");
	free(h);
	free(mod);
	/* Anything after the second certificate. */
	assert_true(asprintf(&mod, "%sjunk", enc) > 0);
	h = headers_with("TCB-Info-Issuer-Chain", mod);
	assert_error(cocoon_pcs_issuer_chain(&chain, &clen, h, strlen(h), "TCB-Info-Issuer-Chain"), COCOON_EFORMAT,
	             "data after the second certificate");
	free(h);
	free(mod);
	/* A broken escape at the end. */
	assert_true(asprintf(&mod, "%s%%0", enc) > 0);
	h = headers_with("TCB-Info-Issuer-Chain", mod);
	assert_error(cocoon_pcs_issuer_chain(&chain, &clen, h, strlen(h), "TCB-Info-Issuer-Chain"), COCOON_EFORMAT,
	             "bad percent-escape");
	free(h);
	free(mod);
	free(enc);
}

static void test_max_age(void **state)
{
	static const char a[] = "HTTP/1.1 200 OK\r\ncache-control: public, max-age=86400\r\n\r\n";
	static const char b[] = "HTTP/1.1 200 OK\nCache-Control: no-store, max-age=5\n\n";
	static const char c[] = "HTTP/1.1 200 OK\r\nCache-Control: max-age=x\r\n\r\n";
	(void)state;
	assert_int_equal(cocoon_http_max_age(a, strlen(a)), 86400);
	assert_int_equal(cocoon_http_max_age(b, strlen(b)), -1);
	assert_int_equal(cocoon_http_max_age(c, strlen(c)), -1);
	assert_int_equal(cocoon_http_max_age("", 0), -1);
}

static void test_kds_url(void **state)
{
	uint8_t chip[64];
	char *u = NULL;
	/* TCB 0x1b00000000000304 etc.: Milan bytes 0 BL, 1 TEE, 6 SNP, 7 UCODE; Turin 0 FMC, 1 BL, 2 TEE, 3 SNP, 7 UCODE. */
	uint64_t tcb = 0xdb18000000000004ULL | (0x03ULL << 8) | (0x01ULL << 16) | (0x16ULL << 24);
	(void)state;
	for (int i = 0; i < 64; i++)
		chip[i] = (uint8_t)i;
	assert_int_equal(cocoon_kds_url(&u, NULL, COCOON_KDS_VCEK, "Milan", chip, tcb), 0);
	assert_non_null(strstr(u, "https://kdsintf.amd.com/vcek/v1/Milan/000102030405060708090a0b"));
	assert_non_null(strstr(u, "3d3e3f?blSPL=4&teeSPL=3&snpSPL=24&ucodeSPL=219"));
	free(u);
	assert_int_equal(cocoon_kds_url(&u, "https://kds.example", COCOON_KDS_VCEK, "Turin", chip, tcb), 0);
	assert_string_equal(u, "https://kds.example/vcek/v1/Turin/0001020304050607?fmcSPL=04&blSPL=03&teeSPL=01"
	                       "&snpSPL=22&ucodeSPL=219");
	free(u);
	assert_int_equal(cocoon_kds_url(&u, NULL, COCOON_KDS_CERT_CHAIN, "Genoa", NULL, 0), 0);
	assert_string_equal(u, "https://kdsintf.amd.com/vcek/v1/Genoa/cert_chain");
	free(u);
	assert_int_equal(cocoon_kds_url(&u, NULL, COCOON_KDS_CRL, "Milan", NULL, 0), 0);
	assert_string_equal(u, "https://kdsintf.amd.com/vcek/v1/Milan/crl");
	free(u);
	assert_error(cocoon_kds_url(&u, NULL, COCOON_KDS_CRL, "Bergamo", NULL, 0), COCOON_EINVAL, "Bergamo");
}

static cocoon_collateral *tdx_collateral(void)
{
	size_t len;
	uint8_t *buf = cocoon_test_vector("tdx/collateral.json", &len);
	cocoon_collateral *c = NULL;
	assert_non_null(buf);
	assert_int_equal(cocoon_collateral_from_json(&c, (char *)buf, len), 0);
	free(buf);
	return c;
}

static void test_cache(void **state)
{
	char dir[] = "/tmp/cocoon-cache-XXXXXX";
	cocoon_collateral_cache *c = NULL;
	const cocoon_collateral *got;
	cocoon_collateral *orig;
	uint8_t digest[32];
	const uint8_t *blob;
	size_t blen;
	char tee[4], fmspc[13], *list = NULL, cmd[64];
	time_t next, before = COCOON_TEST_AT_TDX;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	assert_non_null(mkdtemp(dir));
	orig = tdx_collateral();
	memcpy(digest, orig->digest, 32);
	assert_int_equal(cocoon_collateral_describe(tee, fmspc, &next, orig), 0);
	assert_int_equal(cocoon_collateral_cache_new(&c, dir), 0);
	assert_int_equal(cocoon_collateral_cache_put_dcap(c, orig, NULL, before, -1), 0);
	assert_int_equal(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "standard", before), 0);
	/* Past the earliest nextUpdate inside it, the entry is never served as fresh. */
	assert_error(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "standard", next + 1),
	             COCOON_EUNAVAILABLE, "expired");
	assert_error(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_SGX, fmspc, "standard", before),
	             COCOON_ENOTFOUND, "dcap-sgx");
	assert_error(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "early", before),
	             COCOON_ENOTFOUND, "early");
	assert_int_equal(cocoon_collateral_cache_put_blob(c, "https://kds/vcek", (const uint8_t *)"abc", 3, before + 10), 0);
	cocoon_collateral_cache_free(c);

	/* The directory brings back the same bytes (the digest covers every field). */
	assert_int_equal(cocoon_collateral_cache_new(&c, dir), 0);
	assert_int_equal(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "standard", before), 0);
	assert_memory_equal(got->digest, digest, 32);
	assert_int_equal(cocoon_collateral_cache_get_blob(&blob, &blen, c, "https://kds/vcek", before), 0);
	assert_int_equal(blen, 3);
	assert_error(cocoon_collateral_cache_get_blob(&blob, &blen, c, "https://kds/vcek", before + 10),
	             COCOON_EUNAVAILABLE, "expired");
	assert_int_equal(cocoon_collateral_cache_list(&list, c, before), 0);
	assert_non_null(strstr(list, "\"fresh\": true"));
	free(list);
	/* Cache-Control shorter than the documents' nextUpdate wins. */
	assert_int_equal(cocoon_collateral_cache_put_dcap(c, tdx_collateral(), NULL, before - 3600, 60), 0);
	assert_int_equal(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "standard", before - 3541), 0);
	assert_int_equal(cocoon_collateral_cache_get_dcap(&got, c, COCOON_TEE_TDX, fmspc, "standard", before - 3540),
	                 COCOON_EUNAVAILABLE);
	cocoon_collateral_cache_free(c);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* An expired cache entry is refetched, and when the service cannot be reached the appraisal fails naming it. */
static void test_source_refetches_expired(void **state)
{
	cocoon_collateral_client_options o = COCOON_COLLATERAL_CLIENT_OPTIONS_INIT;
	cocoon_attest_input in = COCOON_ATTEST_INPUT_INIT;
	cocoon_attest_options ao = COCOON_ATTEST_OPTIONS_INIT;
	cocoon_collateral_client *cl = NULL;
	cocoon_collateral_cache *cache = NULL;
	cocoon_collateral_source *src = NULL;
	cocoon_attest_result *res = NULL;
	cocoon_verifier *v = NULL;
	uint8_t *quote;
	size_t qlen;
	(void)state;
	COCOON_REQUIRE_VECTORS();
	o.pcs_url = "https://127.0.0.1:1";
	o.max_attempts = 2;
	o.backoff_ms = 10;
	assert_int_equal(cocoon_collateral_client_new(&cl, &o), 0);
	assert_int_equal(cocoon_collateral_cache_new(&cache, NULL), 0);
	/* Cached at the quote's time, but the wall clock is past its nextUpdate. */
	assert_int_equal(cocoon_collateral_cache_put_dcap(cache, tdx_collateral(), NULL, COCOON_TEST_AT_TDX, -1), 0);
	assert_int_equal(cocoon_collateral_source_new_fetch(&src, cl, cache), 0);
	assert_int_equal(cocoon_verifier_new(&v, NULL), 0);
	quote = cocoon_test_vector("tdx/quote.bin", &qlen);
	in.evidence = quote;
	in.evidence_len = qlen;
	in.collateral = src;
	ao.verify.at = COCOON_TEST_AT_TDX;
	assert_error(cocoon_attest_appraise(&res, v, &in, &ao), COCOON_EUNAVAILABLE,
	             "GET https://127.0.0.1:1/tdx/certification/v4/tcb?fmspc=b0c06f000000");
	assert_non_null(strstr(cocoon_error_last()->message, "after 2 attempts"));
	free(quote);
	cocoon_verifier_free(v);
	cocoon_collateral_source_free(src);
	cocoon_collateral_cache_free(cache);
	cocoon_collateral_client_free(cl);
}

static void test_client_options(void **state)
{
	cocoon_collateral_client_options o = COCOON_COLLATERAL_CLIENT_OPTIONS_INIT;
	cocoon_collateral_client *cl = NULL;
	cocoon_collateral *c = NULL;
	long age;
	(void)state;
	o.pck_ca = "both";
	assert_error(cocoon_collateral_client_new(&cl, &o), COCOON_EINVAL, "'both'");
	o.pck_ca = NULL;
	o.version = 99;
	assert_error(cocoon_collateral_client_new(&cl, &o), COCOON_EINVAL, "version 99");
	assert_int_equal(cocoon_collateral_client_new(&cl, NULL), 0);
	assert_error(cocoon_collateral_client_fetch_dcap(&c, &age, cl, COCOON_TEE_TDX, "50806f00000g"), COCOON_EINVAL,
	             "FMSPC");
	cocoon_collateral_client_free(cl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issuer_chain),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_kds_url),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_source_refetches_expired),
		cmocka_unit_test(test_client_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
