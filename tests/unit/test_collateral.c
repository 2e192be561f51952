/* Collateral loading: vectors' JSON layout, PCS bodies, exact member spans, digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "testutil.h"
#include "common/util.h"
#include "dcap/collateral.h"

static const char *const KEYS[] = { "pck_crl_issuer_chain", "root_ca_crl", "pck_crl", "tcb_info_issuer_chain",
	                            "tcb_info", "tcb_info_signature", "qe_identity_issuer_chain", "qe_identity",
	                            "qe_identity_signature" };
#define N_KEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static const char SIG_HEX[] = "0102030405060708091011121314151617181920212223242526272829303132"
                              "3334353637383940414243444546474849505152535455565758596061626364";

static void assert_error(int err, int code, const char *substr)
{
	const char *msg = cocoon_error_last()->message;
	if (err != code || !strstr(msg, substr))
		fail_msg("expected %s containing \"%s\", got %s: \"%s\"", cocoon_error_name(code), substr,
		         cocoon_error_name(err), msg);
}

static json_t *load_vector_json(const char *rel)
{
	size_t len;
	uint8_t *buf = cocoon_test_vector(rel, &len);
	json_error_t e;
	json_t *root;

	assert_non_null(buf);
	root = json_loadb((const char *)buf, len, 0, &e);
	assert_non_null(root);
	free(buf);
	return root;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	assert_non_null(s);
	return s;
}

/* A small collateral.json with every key present and well-formed. */
static json_t *small_collateral(void)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "pck_crl_issuer_chain", "PEM-A", "root_ca_crl",
	                 "3000", "pck_crl", "3001ff", "tcb_info_issuer_chain", "PEM-B", "tcb_info", "{\"id\":\"SGX\"}",
	                 "tcb_info_signature", SIG_HEX, "qe_identity_issuer_chain", "PEM-C", "qe_identity",
	                 "{\"id\":\"QE\"}", "qe_identity_signature", SIG_HEX);
}

static int from_doc(cocoon_collateral **out, json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT);
	int err;
	assert_non_null(text);
	err = cocoon_collateral_from_json(out, text, strlen(text));
	free(text);
	return err;
}

static void json_fails(json_t *doc, int code, const char *substr)
{
	cocoon_collateral *c = NULL;
	int err = from_doc(&c, doc);
	json_decref(doc);
	assert_null(c);
	assert_error(err, code, substr);
}

/* A self-made, signed test CRL (not from the vectors) as DER and PEM. */
static void make_crl(uint8_t **der, size_t *der_len, char **pem)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509_CRL *crl = X509_CRL_new();
	X509_NAME *name = X509_NAME_new();
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, 1750000000);
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem;
	long n;
	int len;
	uint8_t *p;

	assert_true(key && crl && name && rev && serial && t && bio);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                                            (const unsigned char *)"cocoon test CRL issuer", -1, -1, 0), 1);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, name), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	assert_int_equal(ASN1_INTEGER_set(serial, 42), 1);
	assert_int_equal(X509_REVOKED_set_serialNumber(rev, serial), 1);
	assert_int_equal(X509_REVOKED_set_revocationDate(rev, t), 1);
	assert_int_equal(X509_CRL_add0_revoked(crl, rev), 1);
	assert_non_null(ASN1_TIME_set(t, 1760000000));
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);

	assert_true((len = i2d_X509_CRL(crl, NULL)) > 0);
	*der = malloc((size_t)len);
	assert_non_null(*der);
	p = *der;
	assert_int_equal(i2d_X509_CRL(crl, &p), len);
	*der_len = (size_t)len;
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	n = BIO_get_mem_data(bio, &mem);
	assert_true(n > 0);
	*pem = strndup(mem, (size_t)n);
	assert_non_null(*pem);

	BIO_free(bio);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(name);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
}

/* ---- the vectors' layout ---- */

static void check_vector(const char *rel)
{
	json_t *doc = load_vector_json(rel);
	cocoon_collateral *c = NULL, *again = NULL;
	uint8_t sig[64], zero[32] = { 0 };
	char *text = json_dumps(doc, 0);
	const char *tcb = str(doc, "tcb_info");

	assert_int_equal(cocoon_collateral_from_json(&c, text, strlen(text)), 0);
	/* The signed JSON strings are kept byte for byte. */
	assert_int_equal(c->tcb_info_len, strlen(tcb));
	assert_memory_equal(c->tcb_info, tcb, c->tcb_info_len);
	assert_int_equal(c->tcb_info[c->tcb_info_len], '\0');
	assert_int_equal(c->qe_identity_len, strlen(str(doc, "qe_identity")));
	assert_memory_equal(c->qe_identity, str(doc, "qe_identity"), c->qe_identity_len);
	assert_int_equal(cocoon_hex_decode(sig, 64, str(doc, "tcb_info_signature"), 128), 0);
	assert_memory_equal(c->tcb_info_signature, sig, 64);
	assert_int_equal(cocoon_hex_decode(sig, 64, str(doc, "qe_identity_signature"), 128), 0);
	assert_memory_equal(c->qe_identity_signature, sig, 64);
	/* CRLs are DER: a SEQUENCE, half the hex length. */
	assert_int_equal(c->root_ca_crl_len, strlen(str(doc, "root_ca_crl")) / 2);
	assert_int_equal(c->root_ca_crl[0], 0x30);
	assert_int_equal(c->pck_crl_len, strlen(str(doc, "pck_crl")) / 2);
	assert_int_equal(c->pck_crl[0], 0x30);
	assert_string_equal(c->pck_crl_issuer_chain, str(doc, "pck_crl_issuer_chain"));
	assert_string_equal(c->tcb_info_issuer_chain, str(doc, "tcb_info_issuer_chain"));
	assert_string_equal(c->qe_identity_issuer_chain, str(doc, "qe_identity_issuer_chain"));
	assert_memory_not_equal(c->digest, zero, 32);

	/* Same bytes, same digest, whatever the JSON formatting. */
	free(text);
	text = json_dumps(doc, JSON_INDENT(3) | JSON_SORT_KEYS);
	assert_int_equal(cocoon_collateral_from_json(&again, text, strlen(text)), 0);
	assert_memory_equal(again->digest, c->digest, 32);
	cocoon_collateral_free(again);
	cocoon_collateral_free(c);
	free(text);
	json_decref(doc);
}

static void test_vectors_from_json(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	cocoon_collateral *sgx = NULL, *tdx = NULL;
	size_t len;
	uint8_t *buf;

	check_vector("sgx/collateral.json");
	check_vector("tdx/collateral.json");
	check_vector("tdx/collateral-outdated.json");

	buf = cocoon_test_vector("sgx/collateral.json", &len);
	assert_int_equal(cocoon_collateral_from_json(&sgx, (const char *)buf, len), 0);
	free(buf);
	buf = cocoon_test_vector("tdx/collateral.json", &len);
	assert_int_equal(cocoon_collateral_from_json(&tdx, (const char *)buf, len), 0);
	free(buf);
	assert_memory_not_equal(sgx->digest, tdx->digest, 32);
	/* What attestd stores reads back as the same collateral, to the byte (the digest covers every field). */
	for (int i = 0; i < 2; i++) {
		cocoon_collateral *back = NULL;
		char *text = NULL;
		assert_int_equal(cocoon_collateral_to_json(&text, i ? tdx : sgx), 0);
		assert_int_equal(cocoon_collateral_from_json(&back, text, strlen(text)), 0);
		assert_memory_equal(back->digest, (i ? tdx : sgx)->digest, 32);
		cocoon_collateral_free(back);
		free(text);
	}
	assert_non_null(strstr(sgx->tcb_info, "\"id\":\"SGX\""));
	assert_non_null(strstr(tdx->tcb_info, "\"id\":\"TDX\""));
	cocoon_collateral_free(sgx);
	cocoon_collateral_free(tdx);
}

static void test_from_json_small_and_extra_keys(void **state)
{
	(void)state;
	json_t *doc = small_collateral();
	cocoon_collateral *c = NULL;
	char *text, *at, *spliced;
	/* JSON text of the string value {"a": "\u00e9\n"}, escapes and all. */
	static const char escaped[] = "\"{\\\"a\\\": \\\"\\u00e9\\n\\\"}\"";

	json_object_set_new(doc, "pck_certificate_chain", json_string("ignored"));
	json_object_set_new(doc, "tcb_info", json_string("@@"));
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(at = strstr(text, "\"@@\""));
	spliced = malloc(strlen(text) + sizeof(escaped));
	assert_non_null(spliced);
	sprintf(spliced, "%.*s%s%s", (int)(at - text), text, escaped, at + 4);
	assert_int_equal(cocoon_collateral_from_json(&c, spliced, strlen(spliced)), 0);
	free(spliced);
	free(text);
	assert_int_equal(c->root_ca_crl_len, 2);
	assert_int_equal(c->pck_crl_len, 3);
	assert_int_equal(c->pck_crl[2], 0xff);
	/* The stored tcb_info is the unescaped string value: UTF-8 é and a real newline. */
	assert_int_equal(c->tcb_info_len, 12);
	assert_memory_equal(c->tcb_info, "{\"a\": \"\xc3\xa9\n\"}", 12);
	assert_int_equal(c->tcb_info_signature[0], 0x01);
	assert_int_equal(c->qe_identity_signature[63], 0x64);
	cocoon_collateral_free(c);
	json_decref(doc);
}

static void test_from_json_negative(void **state)
{
	(void)state;
	char want[160];
	json_t *doc;
	cocoon_collateral *c = NULL;

	for (size_t i = 0; i < N_KEYS; i++) {
		doc = small_collateral();
		json_object_del(doc, KEYS[i]);
		snprintf(want, sizeof(want), "collateral: \"%s\" is missing", KEYS[i]);
		json_fails(doc, COCOON_EFORMAT, want);

		doc = small_collateral();
		json_object_set_new(doc, KEYS[i], json_integer(7));
		snprintf(want, sizeof(want), "collateral: \"%s\" is not a string", KEYS[i]);
		json_fails(doc, COCOON_EFORMAT, want);

		doc = small_collateral();
		json_object_set_new(doc, KEYS[i], json_string(""));
		snprintf(want, sizeof(want), "collateral: \"%s\" is empty", KEYS[i]);
		json_fails(doc, COCOON_EFORMAT, want);
	}
	doc = small_collateral();
	json_object_set_new(doc, "pck_crl", json_string("30zz"));
	json_fails(doc, COCOON_EFORMAT, "collateral: \"pck_crl\" is not hex");
	doc = small_collateral();
	json_object_set_new(doc, "root_ca_crl", json_string("300"));
	json_fails(doc, COCOON_EFORMAT, "collateral: \"root_ca_crl\" is not hex (3 characters");
	doc = small_collateral();
	json_object_set_new(doc, "tcb_info_signature", json_string("0102"));
	json_fails(doc, COCOON_EFORMAT, "collateral: \"tcb_info_signature\": expected 128 hex characters (64-byte ECDSA r||s), got 4");
	doc = small_collateral();
	json_object_set_new(doc, "qe_identity_signature",
	                    json_string("x102030405060708091011121314151617181920212223242526272829303132"
	                                "3334353637383940414243444546474849505152535455565758596061626364"));
	json_fails(doc, COCOON_EFORMAT, "collateral: \"qe_identity_signature\" is not hex");

	assert_error(cocoon_collateral_from_json(&c, "[1,2]", 5), COCOON_EFORMAT, "collateral: expected a JSON object");
	assert_error(cocoon_collateral_from_json(&c, "{\"pck_crl\":", 11), COCOON_EFORMAT, "collateral: invalid JSON at byte");
	assert_error(cocoon_collateral_from_json(&c, "", 0), COCOON_EFORMAT, "collateral: empty input");
	assert_error(cocoon_collateral_from_json(&c, "{\"pck_crl\":\"30\",\"pck_crl\":\"31\"}", 31), COCOON_EFORMAT,
	             "duplicate object key");
	assert_null(c);
	assert_int_equal(cocoon_collateral_from_json(NULL, "{}", 2), COCOON_EINVAL);
	cocoon_collateral_free(NULL);
}

/* ---- exact member spans ---- */

/* cocoon_json_member_span relies on this jansson behaviour: error.position is the bytes consumed. */
static void test_jansson_position_contract(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		int consumed;
	} cases[] = {
		{ "4 ,", 1 }, { "4true", 1 }, { "4}", 1 }, { "-1.5e3,", 6 }, { "\"ab\":", 4 }, { "\"a\\\"}\" ,", 6 },
		{ "{\"a\":[1,{}]} ,", 12 }, { "[1,2]x", 5 }, { "true,", 4 }, { "null}", 4 }, { "  \"x\"", 5 },
	};
	json_error_t e;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loadb(cases[i].text, strlen(cases[i].text), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &e);
		if (!v)
			fail_msg("jansson rejected %s: %s", cases[i].text, e.text);
		if (e.position != cases[i].consumed)
			fail_msg("jansson consumed %d bytes of %s, expected %d", e.position, cases[i].text, cases[i].consumed);
		json_decref(v);
	}
}

static void expect_span_n(const char *json, size_t json_len, const char *key, const char *want)
{
	const char *start = NULL;
	size_t len = 0;
	int err = cocoon_json_member_span(&start, &len, json, json_len, key);
	if (err)
		fail_msg("span of \"%s\" in %s: %s", key, json, cocoon_error_last()->message);
	assert_true(start >= json && start + len <= json + json_len);
	if (len != strlen(want) || memcmp(start, want, len) != 0)
		fail_msg("span of \"%s\" is \"%.*s\", expected \"%s\"", key, (int)len, start, want);
}

static void expect_span(const char *json, const char *key, const char *want)
{
	expect_span_n(json, strlen(json), key, want);
}

static void expect_span_error(const char *json, const char *key, int code, const char *substr)
{
	const char *start = (const char *)1;
	size_t len = 1;
	assert_error(cocoon_json_member_span(&start, &len, json, strlen(json), key), code, substr);
	assert_null(start);
	assert_int_equal(len, 0);
}

static void test_member_span(void **state)
{
	(void)state;
	static const char trailing[] = "{\"tcbInfo\":1}GARBAGE";

	expect_span("{\"tcbInfo\":{\"k\":\"v\"},\"signature\":\"00\"}", "tcbInfo", "{\"k\":\"v\"}");
	expect_span("{\"tcbInfo\":{\"k\":\"v\"},\"signature\":\"00\"}", "signature", "\"00\"");
	/* "tcbInfo" inside a string value or a nested object is not the member. */
	expect_span("{\"a\":\"\\\"tcbInfo\\\":{\\\"x\\\":1}\",\"tcbInfo\":{\"k\":\"}\"}}", "tcbInfo", "{\"k\":\"}\"}");
	expect_span("{\"outer\":{\"tcbInfo\":1},\"tcbInfo\":[1,2]}", "tcbInfo", "[1,2]");
	expect_span("{\"tcbInfo\\\"\":1,\"tcbInfo\":2}", "tcbInfo", "2");
	/* Escaped member names are compared decoded. */
	expect_span("{\"tcb\\u0049nfo\":true}", "tcbInfo", "true");
	/* Whitespace anywhere JSON allows it; the span excludes it. */
	expect_span(" \r\n\t{ \"signature\" : \"00\" ,\n\t\"tcbInfo\"\r\n:\t{ \"a\" : [ 1 , 2 ] }\n}\n ", "tcbInfo",
	            "{ \"a\" : [ 1 , 2 ] }");
	expect_span("{\"x\":-1.5e3,\"tcbInfo\":null}", "x", "-1.5e3");
	expect_span("{\"x\":-1.5e3,\"tcbInfo\":null}", "tcbInfo", "null");
	expect_span("{\"x\":\"a\\\"b\"}", "x", "\"a\\\"b\"");
	/* Only json_len bytes are read. */
	expect_span_n(trailing, 13, "tcbInfo", "1");

	expect_span_error("{\"outer\":{\"tcbInfo\":1}}", "tcbInfo", COCOON_ENOTFOUND, "has no member \"tcbInfo\"");
	expect_span_error("{}", "tcbInfo", COCOON_ENOTFOUND, "has no member \"tcbInfo\"");
	expect_span_error(" { } ", "tcbInfo", COCOON_ENOTFOUND, "has no member");
	expect_span_error("{\"tcbInfo\":1,\"tcbInfo\":2}", "tcbInfo", COCOON_EFORMAT, "duplicate object key");
	expect_span_error("{\"tcbInfo\":1,\"tcb\\u0049nfo\":2}", "tcbInfo", COCOON_EFORMAT, "duplicate object key");
	expect_span_error("{\"a\":1,\"b\":{\"c\":1,\"c\":2},\"tcbInfo\":3}", "tcbInfo", COCOON_EFORMAT,
	                  "duplicate object key");
	expect_span_error(trailing, "tcbInfo", COCOON_EFORMAT, "JSON: invalid at byte");
	expect_span_error("[{\"tcbInfo\":1}]", "tcbInfo", COCOON_EFORMAT, "expected an object");
	expect_span_error("\"tcbInfo\"", "tcbInfo", COCOON_EFORMAT, "JSON: invalid");
	expect_span_error("", "tcbInfo", COCOON_EFORMAT, "JSON: invalid");
	expect_span_error("{\"tcbInfo\":}", "tcbInfo", COCOON_EFORMAT, "JSON: invalid");
	assert_int_equal(cocoon_json_member_span(NULL, NULL, "{}", 2, "x"), COCOON_EINVAL);
}

/* ---- PCS bodies ---- */

static char *pcs_body(const char *key, const char *value, const char *sig)
{
	size_t n = strlen(key) + strlen(value) + strlen(sig) + 64;
	char *b = malloc(n);
	assert_non_null(b);
	snprintf(b, n, "{\"%s\":%s,\"signature\":\"%s\"}", key, value, sig);
	return b;
}

static void test_from_pcs_crls(void **state)
{
	(void)state;
	static const char chain[] = "-----BEGIN CERTIFICATE-----\nTCB\n-----END CERTIFICATE-----\n";
	static const char pck_chain[] = "-----BEGIN CERTIFICATE-----\nPCK\n-----END CERTIFICATE-----\n";
	static const char tcb_value[] = "{\"id\":\"SGX\",\"x\":[1,{\"y\":\"}\"}]}";
	cocoon_pcs_collateral pcs = { 0 };
	cocoon_collateral *c = NULL, *c2 = NULL;
	uint8_t *der;
	size_t der_len;
	char *pem, *ws_pem, *tcb = pcs_body("tcbInfo", tcb_value, SIG_HEX),
	                    *qe = pcs_body("enclaveIdentity", "{\"id\":\"QE\"}", SIG_HEX);

	make_crl(&der, &der_len, &pem);
	pcs.tcb_info = tcb;
	pcs.tcb_info_len = strlen(tcb);
	pcs.tcb_info_issuer_chain = chain;
	pcs.tcb_info_issuer_chain_len = strlen(chain);
	pcs.qe_identity = qe;
	pcs.qe_identity_len = strlen(qe);
	pcs.pck_crl_issuer_chain = pck_chain;
	pcs.pck_crl_issuer_chain_len = strlen(pck_chain);
	pcs.pck_crl = (const uint8_t *)pem;
	pcs.pck_crl_len = strlen(pem);
	pcs.root_ca_crl = der;
	pcs.root_ca_crl_len = der_len;

	assert_int_equal(cocoon_collateral_from_pcs(&c, &pcs), 0);
	/* PEM became the same DER; DER was kept. */
	assert_int_equal(c->pck_crl_len, der_len);
	assert_memory_equal(c->pck_crl, der, der_len);
	assert_int_equal(c->root_ca_crl_len, der_len);
	assert_memory_equal(c->root_ca_crl, der, der_len);
	assert_int_equal(c->tcb_info_len, strlen(tcb_value));
	assert_memory_equal(c->tcb_info, tcb_value, c->tcb_info_len);
	assert_string_equal(c->qe_identity, "{\"id\":\"QE\"}");
	assert_int_equal(c->tcb_info_signature[0], 0x01);
	assert_int_equal(c->qe_identity_signature[63], 0x64);
	/* No QE identity chain given: PCS uses the TCB Signing chain for both. */
	assert_string_equal(c->qe_identity_issuer_chain, chain);
	assert_string_equal(c->pck_crl_issuer_chain, pck_chain);

	/* Swapping which CRL is PEM gives the same collateral, hence the same digest. */
	ws_pem = malloc(strlen(pem) + 3);
	assert_non_null(ws_pem);
	sprintf(ws_pem, "\n %s", pem);
	pcs.pck_crl = der;
	pcs.pck_crl_len = der_len;
	pcs.root_ca_crl = (const uint8_t *)ws_pem;
	pcs.root_ca_crl_len = strlen(ws_pem);
	assert_int_equal(cocoon_collateral_from_pcs(&c2, &pcs), 0);
	assert_memory_equal(c2->digest, c->digest, 32);
	cocoon_collateral_free(c2);
	c2 = NULL;

	/* A PEM block that is not a CRL. */
	pcs.root_ca_crl = (const uint8_t *)pck_chain;
	pcs.root_ca_crl_len = strlen(pck_chain);
	assert_error(cocoon_collateral_from_pcs(&c2, &pcs), COCOON_EFORMAT,
	             "collateral: root_ca_crl is PEM but not a \"-----BEGIN X509 CRL-----\" block");
	pcs.root_ca_crl = NULL;
	assert_error(cocoon_collateral_from_pcs(&c2, &pcs), COCOON_EINVAL, "collateral: root_ca_crl is missing");
	pcs.root_ca_crl = der;
	pcs.tcb_info_issuer_chain = NULL;
	pcs.qe_identity_issuer_chain = NULL;
	assert_error(cocoon_collateral_from_pcs(&c2, &pcs), COCOON_EINVAL, "tcb_info_issuer_chain (PEM issuer chain) is missing");
	assert_null(c2);
	assert_int_equal(cocoon_collateral_from_pcs(&c2, NULL), COCOON_EINVAL);

	cocoon_collateral_free(c);
	free(ws_pem);
	free(pem);
	free(der);
	free(tcb);
	free(qe);
}

static void pcs_body_fails(const char *tcb_body, int code, const char *substr)
{
	static const char chain[] = "PEM";
	static const uint8_t crl[] = { 0x30, 0x00 };
	char *qe = pcs_body("enclaveIdentity", "{}", SIG_HEX);
	cocoon_pcs_collateral pcs = { 0 };
	cocoon_collateral *c = NULL;

	pcs.tcb_info = tcb_body;
	pcs.tcb_info_len = strlen(tcb_body);
	pcs.tcb_info_issuer_chain = chain;
	pcs.tcb_info_issuer_chain_len = 3;
	pcs.qe_identity = qe;
	pcs.qe_identity_len = strlen(qe);
	pcs.pck_crl_issuer_chain = chain;
	pcs.pck_crl_issuer_chain_len = 3;
	pcs.pck_crl = crl;
	pcs.pck_crl_len = 2;
	pcs.root_ca_crl = crl;
	pcs.root_ca_crl_len = 2;
	assert_error(cocoon_collateral_from_pcs(&c, &pcs), code, substr);
	assert_null(c);
	free(qe);
}

static void test_from_pcs_bad_bodies(void **state)
{
	(void)state;
	char *b;

	b = pcs_body("tcbInfo", "{}", "0102");
	pcs_body_fails(b, COCOON_EFORMAT, "collateral: tcb_info \"signature\": expected 128 hex characters (64-byte ECDSA r||s), got 4");
	free(b);
	b = pcs_body("tcbInfo", "{}", SIG_HEX);
	b[strlen(b) - 3] = 'g';
	pcs_body_fails(b, COCOON_EFORMAT, "collateral: tcb_info \"signature\" is not hex");
	free(b);
	b = pcs_body("enclaveIdentity", "{}", SIG_HEX);
	pcs_body_fails(b, COCOON_EFORMAT, "collateral: tcb_info body has no \"tcbInfo\" object");
	free(b);
	b = pcs_body("tcbInfo", "[1]", SIG_HEX);
	pcs_body_fails(b, COCOON_EFORMAT, "collateral: tcb_info body has no \"tcbInfo\" object");
	free(b);
	pcs_body_fails("{\"tcbInfo\":{}}", COCOON_EFORMAT, "collateral: tcb_info body has no \"signature\" string");
	pcs_body_fails("{\"tcbInfo\":{\"a\":1},\"tcbInfo\":{\"a\":2},\"signature\":\"00\"}", COCOON_EFORMAT,
	               "duplicate object key");
	pcs_body_fails("{\"tcbInfo\":{}", COCOON_EFORMAT, "collateral: tcb_info body is not valid JSON at byte");
	pcs_body_fails("", COCOON_EINVAL, "collateral: tcb_info body is missing");
}

/* A PCS body rebuilt around the vector's tcb_info keeps exactly those bytes. */
static void test_vector_pcs_round_trip(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	json_t *doc = load_vector_json("sgx/collateral.json");
	const char *tcb = str(doc, "tcb_info"), *qe = str(doc, "qe_identity");
	cocoon_collateral *ref = NULL, *c = NULL;
	uint8_t *root_der, *pck_der;
	size_t root_len, pck_len;
	char *text = json_dumps(doc, 0), *pck_pem, *qe_body;
	const uint8_t *p;
	X509_CRL *crl;
	BIO *bio;
	long n;

	assert_int_equal(cocoon_collateral_from_json(&ref, text, strlen(text)), 0);
	free(text);
	/* The PCK CRL travels as PEM, the root CA CRL as DER. */
	assert_int_equal(cocoon_hex_decode_alloc(&root_der, &root_len, str(doc, "root_ca_crl"),
	                                         strlen(str(doc, "root_ca_crl"))), 0);
	assert_int_equal(cocoon_hex_decode_alloc(&pck_der, &pck_len, str(doc, "pck_crl"), strlen(str(doc, "pck_crl"))), 0);
	p = pck_der;
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)pck_len));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	n = BIO_get_mem_data(bio, &text);
	assert_non_null(pck_pem = strndup(text, (size_t)n));
	BIO_free(bio);
	X509_CRL_free(crl);
	qe_body = pcs_body("enclaveIdentity", qe, str(doc, "qe_identity_signature"));

	for (int i = 0; i < 2; i++) {
		size_t cap = strlen(tcb) + 256;
		char *body = malloc(cap);
		cocoon_pcs_collateral pcs = { 0 };
		const char *span;
		size_t span_len;

		assert_non_null(body);
		if (i == 0)
			snprintf(body, cap, "{\"tcbInfo\":%s,\"signature\":\"%s\"}", tcb, str(doc, "tcb_info_signature"));
		else
			snprintf(body, cap, " {\n  \"signature\" :\t\"%s\" ,\r\n  \"tcbInfo\" : %s\n}\n",
			         str(doc, "tcb_info_signature"), tcb);
		assert_int_equal(cocoon_json_member_span(&span, &span_len, body, strlen(body), "tcbInfo"), 0);
		assert_int_equal(span_len, strlen(tcb));
		assert_memory_equal(span, tcb, span_len);

		pcs.tcb_info = body;
		pcs.tcb_info_len = strlen(body);
		pcs.tcb_info_issuer_chain = str(doc, "tcb_info_issuer_chain");
		pcs.tcb_info_issuer_chain_len = strlen(pcs.tcb_info_issuer_chain);
		pcs.qe_identity = qe_body;
		pcs.qe_identity_len = strlen(qe_body);
		pcs.pck_crl_issuer_chain = str(doc, "pck_crl_issuer_chain");
		pcs.pck_crl_issuer_chain_len = strlen(pcs.pck_crl_issuer_chain);
		pcs.pck_crl = (const uint8_t *)pck_pem;
		pcs.pck_crl_len = strlen(pck_pem);
		pcs.root_ca_crl = root_der;
		pcs.root_ca_crl_len = root_len;
		assert_int_equal(cocoon_collateral_from_pcs(&c, &pcs), 0);
		assert_int_equal(c->tcb_info_len, ref->tcb_info_len);
		assert_memory_equal(c->tcb_info, ref->tcb_info, ref->tcb_info_len);
		assert_memory_equal(c->tcb_info_signature, ref->tcb_info_signature, 64);
		/* PEM to DER keeps Intel's exact CRL encoding. */
		assert_int_equal(c->pck_crl_len, pck_len);
		assert_memory_equal(c->pck_crl, pck_der, pck_len);
		/* The vector's QE identity chain is the TCB chain, so both loaders agree on every byte. */
		assert_string_equal(ref->qe_identity_issuer_chain, ref->tcb_info_issuer_chain);
		assert_memory_equal(c->digest, ref->digest, 32);
		cocoon_collateral_free(c);
		c = NULL;
		free(body);
	}
	cocoon_collateral_free(ref);
	free(qe_body);
	free(pck_pem);
	free(pck_der);
	free(root_der);
	json_decref(doc);
}

/* ---- digest ---- */

static void test_digest_construction(void **state)
{
	(void)state;
	json_t *doc = small_collateral();
	cocoon_collateral *c = NULL, *shifted = NULL;
	uint8_t want[32], sig[64];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	assert_int_equal(from_doc(&c, doc), 0);
	assert_int_equal(cocoon_hex_decode(sig, 64, SIG_HEX, 128), 0);
	{
		const struct {
			const void *p;
			size_t len;
		} fields[] = {
			{ "PEM-A", 5 }, { "\x30\x00", 2 }, { "\x30\x01\xff", 3 }, { "PEM-B", 5 }, { "{\"id\":\"SGX\"}", 12 },
			{ sig, 64 }, { "PEM-C", 5 }, { "{\"id\":\"QE\"}", 11 }, { sig, 64 },
		};
		assert_int_equal(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL), 1);
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			uint8_t le[8] = { 0 };
			le[0] = (uint8_t)fields[i].len;
			assert_int_equal(EVP_DigestUpdate(ctx, le, 8), 1);
			assert_int_equal(EVP_DigestUpdate(ctx, fields[i].p, fields[i].len), 1);
		}
		assert_int_equal(EVP_DigestFinal_ex(ctx, want, &n), 1);
	}
	assert_int_equal(n, 32);
	assert_memory_equal(c->digest, want, 32);

	/* Moving a byte across a field boundary must change the digest. */
	json_object_set_new(doc, "pck_crl_issuer_chain", json_string("PEM-A0")); /* '0' is the 0x30 byte */
	json_object_set_new(doc, "root_ca_crl", json_string("00"));
	assert_int_equal(from_doc(&shifted, doc), 0);
	assert_memory_not_equal(shifted->digest, c->digest, 32);
	cocoon_collateral_free(shifted);
	cocoon_collateral_free(c);
	EVP_MD_CTX_free(ctx);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_from_json),
		cmocka_unit_test(test_from_json_small_and_extra_keys),
		cmocka_unit_test(test_from_json_negative),
		cmocka_unit_test(test_jansson_position_contract),
		cmocka_unit_test(test_member_span),
		cmocka_unit_test(test_from_pcs_crls),
		cmocka_unit_test(test_from_pcs_bad_bodies),
		cmocka_unit_test(test_vector_pcs_round_trip),
		cmocka_unit_test(test_digest_construction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
