/* KBS RCAR messages, error bodies, resource paths and the attesters' evidence shapes (include/cocoon/kbs.h). */
#include "testutil.h"
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "cocoon/kbs.h"
#include "cocoon/snp.h"
#include "cocoon/token.h"

static void expect_msg(const char *part)
{
	if (!strstr(cocoon_error_last()->message, part))
		fail_msg("'%s' not in '%s'", part, cocoon_error_last()->message);
}

static int request(cocoon_kbs_request *r, const char *text)
{
	return cocoon_kbs_request_parse(r, text, strlen(text));
}

static void test_request(void **state)
{
	cocoon_kbs_request r;
	char *built;
	(void)state;
	/* guest-components' Request. */
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":{\"supported-hash-algorithms\":"
	                             "[\"sha256\",\"sha384\",\"sha512\",\"sm3\"]}}"), 0);
	assert_int_equal(r.tee, COCOON_KBS_TEE_TDX);
	assert_int_equal(r.n_hash_algorithms, 3);
	assert_int_equal(r.hash_algorithms[1], COCOON_KBS_HASH_SHA384);
	cocoon_kbs_request_clear(&r);
	/* kbs-types' test: extra-params is the empty string. */
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"az-snp-vtpm\",\"extra-params\":\"\"}"), 0);
	assert_int_equal(r.tee, COCOON_KBS_TEE_AZ_SNP_VTPM);
	assert_true(json_is_string(r.extra_params));
	cocoon_kbs_request_clear(&r);

	assert_int_equal(request(&r, "{\"version\":\"0.3.0\",\"tee\":\"tdx\",\"extra-params\":\"\"}"), COCOON_EREJECT);
	expect_msg("KBS Client Protocol Version Mismatch: expect 0.4.0 while the request is 0.3.0");
	assert_int_equal(request(&r, "{\"version\":\"0.4.0+x\",\"tee\":\"tdx\",\"extra-params\":\"\"}"), COCOON_EREJECT);
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"sev\",\"extra-params\":\"\"}"), COCOON_EFORMAT);
	expect_msg("tee \"sev\"");
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"tdx\"}"), COCOON_EFORMAT);
	expect_msg("\"extra-params\" is missing");
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":\"\",\"x\":1}"), COCOON_EFORMAT);
	expect_msg("unexpected member \"x\"");
	assert_int_equal(request(&r, "{\"version\":0.4,\"tee\":\"tdx\",\"extra-params\":\"\"}"), COCOON_EFORMAT);
	expect_msg("\"version\" must be a string");
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":{\"supported-hash-algorithms\":"
	                             "\"sha384\"}}"), COCOON_EFORMAT);
	assert_int_equal(request(&r, "{\"version\":\"0.4.0\",\"version\":\"0.4.0\",\"tee\":\"tdx\",\"extra-params\":\"\"}"),
	                 COCOON_EFORMAT);
	assert_int_equal(request(&r, "[]"), COCOON_EFORMAT);
	assert_null(r.extra_params);

	assert_int_equal(cocoon_kbs_request_build(&built, COCOON_KBS_TEE_SNP), 0);
	assert_string_equal(built, "{\"version\":\"0.4.0\",\"tee\":\"snp\",\"extra-params\":{\"supported-hash-algorithms\":"
	                           "[\"sha256\",\"sha384\",\"sha512\"]}}");
	assert_int_equal(request(&r, built), 0);
	cocoon_kbs_request_clear(&r);
	free(built);
}

static void test_challenge(void **state)
{
	char nonce[COCOON_KBS_NONCE_B64_LEN + 1], nonce2[COCOON_KBS_NONCE_B64_LEN + 1], *body;
	cocoon_kbs_challenge c;
	uint8_t *raw;
	size_t n;
	(void)state;
	assert_int_equal(cocoon_kbs_nonce_new(nonce), 0);
	assert_int_equal(cocoon_kbs_nonce_new(nonce2), 0);
	assert_int_equal(strlen(nonce), 44);
	assert_string_not_equal(nonce, nonce2);
	assert_int_equal(cocoon_b64_decode(&raw, &n, nonce, strlen(nonce)), 0);
	assert_int_equal(n, 32);
	free(raw);

	assert_int_equal(cocoon_kbs_challenge_build(&body, "42", 0), 0);
	assert_string_equal(body, "{\"nonce\":\"42\",\"extra-params\":\"\"}");
	assert_int_equal(cocoon_kbs_challenge_parse(&c, body, strlen(body)), 0);
	assert_string_equal(c.nonce, "42");
	assert_int_equal(c.hash, COCOON_KBS_HASH_SHA384);   /* the client default */
	free(body);
	assert_int_equal(cocoon_kbs_challenge_build(&body, nonce, COCOON_KBS_HASH_SHA512), 0);
	assert_int_equal(cocoon_kbs_challenge_parse(&c, body, strlen(body)), 0);
	assert_int_equal(c.hash, COCOON_KBS_HASH_SHA512);
	free(body);
	body = "{\"nonce\":\"42\",\"extra-params\":{\"selected-hash-algorithm\":\"sm3\"}}";
	assert_int_equal(cocoon_kbs_challenge_parse(&c, body, strlen(body)), COCOON_EUNSUPPORTED);
	body = "{\"nonce\":\"\",\"extra-params\":\"\"}";
	assert_int_equal(cocoon_kbs_challenge_parse(&c, body, strlen(body)), COCOON_EFORMAT);
}

/* kbs-types' Attestation test JSON (EC), 0.4.0 shape. */
#define EC_ATTESTATION \
	"{\"init-data\":{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha384\\\"\"}," \
	"\"runtime-data\":{\"nonce\":\"MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=\",\"tee-pubkey\":{\"kty\":\"EC\"," \
	"\"crv\":\"P-256\",\"alg\":\"ECDH-ES+A256KW\",\"x\":\"%s\",\"y\":\"%s\"}}," \
	"\"tee-evidence\":{\"primary_evidence\":{\"quote\":\"AAAA\"},\"additional_evidence\":\"\"}}"

static char *ec_attestation(EVP_PKEY **key)
{
	json_t *jwk;
	char *text;
	assert_int_equal(cocoon_kbs_key_generate(key, COCOON_KBS_KEY_EC_P256), 0);
	assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, *key), 0);
	assert_true(asprintf(&text, EC_ATTESTATION, json_string_value(json_object_get(jwk, "x")),
	                     json_string_value(json_object_get(jwk, "y"))) > 0);
	json_decref(jwk);
	return text;
}

static int attestation_with(const char *from, const char *to, const char *base)
{
	cocoon_kbs_attestation *a = NULL;
	char *text = strdup(base), *p = strstr(text, from), *edited;
	int err;
	assert_non_null(p);
	*p = '\0';
	assert_true(asprintf(&edited, "%s%s%s", text, to, p + strlen(from)) > 0);
	err = cocoon_kbs_attestation_parse(&a, edited, strlen(edited));
	assert_true(err ? a == NULL : a != NULL);
	cocoon_kbs_attestation_free(a);
	free(edited);
	free(text);
	return err;
}

static void test_attestation(void **state)
{
	EVP_PKEY *key;
	char *text = ec_attestation(&key), *built;
	cocoon_kbs_attestation *a, *b;
	uint8_t rd1[64], rd2[64];
	(void)state;

	assert_int_equal(cocoon_kbs_attestation_parse(&a, text, strlen(text)), 0);
	assert_true(a->has_init_data);
	assert_string_equal(a->init_data.format, "toml");
	assert_string_equal(a->nonce, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=");
	assert_string_equal(a->additional_evidence, "");
	assert_int_equal(EVP_PKEY_eq(a->key, key), 1);
	assert_string_equal(json_string_value(json_object_get(a->primary_evidence, "quote")), "AAAA");

	/* Build (guest) -> parse (server): the same binding on both sides. */
	assert_int_equal(cocoon_kbs_attestation_build(&built, a->nonce, a->tee_pubkey, a->primary_evidence, NULL, NULL), 0);
	assert_int_equal(cocoon_kbs_attestation_parse(&b, built, strlen(built)), 0);
	assert_false(b->has_init_data);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd1, NULL, COCOON_KBS_HASH_SHA384, a->nonce, a->tee_pubkey,
	                                              a->additional_evidence), 0);
	assert_int_equal(cocoon_kbs_runtime_data_hash(rd2, NULL, COCOON_KBS_HASH_SHA384, b->nonce, b->tee_pubkey,
	                                              b->additional_evidence), 0);
	assert_memory_equal(rd1, rd2, 64);
	cocoon_kbs_attestation_free(b);
	cocoon_kbs_attestation_free(a);
	free(built);

	assert_int_equal(attestation_with("\"init-data\":{\"format\":\"toml\",\"body\":\"algorithm = \\\"sha384\\\"\"}",
	                                  "\"init-data\":null", text), 0);
	assert_int_equal(attestation_with("\"runtime-data\"", "\"runtime_data\"", text), COCOON_EFORMAT);
	expect_msg("unexpected member \"runtime_data\"");
	assert_int_equal(attestation_with("\"primary_evidence\"", "\"primary-evidence\"", text), COCOON_EFORMAT);
	assert_int_equal(attestation_with("\"additional_evidence\":\"\"", "\"additional_evidence\":{}", text), COCOON_EFORMAT);
	expect_msg("additional_evidence\" must be a string");
	assert_int_equal(attestation_with("\"kty\":\"EC\",", "\"kty\":\"EC\",\"use\":\"enc\",", text), COCOON_EFORMAT);
	expect_msg("tee-pubkey: unexpected member \"use\"");
	assert_int_equal(attestation_with("\"kty\":\"EC\",", "\"kty\":\"EC\",\"d\":\"AAAA\",", text), COCOON_EFORMAT);
	assert_int_equal(attestation_with("\"alg\":\"ECDH-ES+A256KW\",", "", text), COCOON_EFORMAT);
	expect_msg("\"alg\" is missing");
	assert_int_equal(attestation_with("\"crv\":\"P-256\"", "\"crv\":\"P-384\"", text), COCOON_EFORMAT);
	assert_int_equal(attestation_with("\"nonce\":\"MTIz", "\"nonce\":1,\"x\":\"", text), COCOON_EFORMAT);
	assert_int_equal(attestation_with("\"format\":\"toml\",", "", text), COCOON_EFORMAT);
	expect_msg("init-data: member \"format\" is missing");
	free(text);
	EVP_PKEY_free(key);

	/* The RSA JWK as guest-components sends it. */
	key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);   /* 2048 is quicker than the library's 3072 */
	assert_non_null(key);
	{
		json_t *jwk, *ev = json_pack("{s:s}", "quote", "AAAA");
		assert_int_equal(cocoon_kbs_jwk_from_key(&jwk, key), 0);
		assert_int_equal(cocoon_kbs_attestation_build(&built, "n", jwk, ev, "", NULL), 0);
		assert_int_equal(cocoon_kbs_attestation_parse(&a, built, strlen(built)), 0);
		assert_int_equal(EVP_PKEY_eq(a->key, key), 1);
		cocoon_kbs_attestation_free(a);
		free(built);
		json_decref(jwk);
		json_decref(ev);
	}
	EVP_PKEY_free(key);
}

static void test_token_reply_and_errors(void **state)
{
	char *body, *tok;
	(void)state;
	assert_int_equal(cocoon_kbs_token_reply_build(&body, "a.b.c"), 0);
	assert_string_equal(body, "{\"token\":\"a.b.c\"}");
	assert_int_equal(cocoon_kbs_token_reply_parse(&tok, body, strlen(body)), 0);
	assert_string_equal(tok, "a.b.c");
	free(tok);
	free(body);
	assert_int_equal(cocoon_kbs_token_reply_parse(&tok, "{\"token\":1}", 11), COCOON_EFORMAT);

	assert_int_equal(cocoon_kbs_error_body(&body, COCOON_KBS_ERR_POLICY_DENY, "rule 2 denied \"x\""), 0);
	assert_string_equal(body, "{\"type\":\"https://github.com/confidential-containers/kbs/errors/PolicyDeny\","
	                          "\"detail\":\"rule 2 denied \\\"x\\\"\"}");
	free(body);
	assert_int_equal(cocoon_kbs_error_body(&body, COCOON_KBS_ERR_INVALID_REQUEST_PATH, "bad\xff"), 0);
	assert_non_null(strstr(body, "InvalidRequestPath"));
	assert_non_null(strstr(body, "not valid UTF-8"));
	free(body);
	for (int t = 0; t < COCOON_KBS_ERR__COUNT; t++)
		assert_non_null(cocoon_kbs_error_type_name((cocoon_kbs_error_type)t));
	assert_string_equal(cocoon_kbs_error_type_name(COCOON_KBS_ERR_ATTESTATION), "AttestationError");
	assert_int_equal(cocoon_kbs_error_body(&body, COCOON_KBS_ERR__COUNT, "x"), COCOON_EINVAL);
}

static void test_paths(void **state)
{
	static const char *const bad[] = { "", "a", "a/b", "a/b/c/d", "../b/c", "a/../c", "a/b/.", ".a/b/c", "a//c",
	                                   "a/b/c/", "/a/b/c", "a/b/c%2F", "a/b c/d", "a/b/\xc3\xa9", "a/b/c?x=1" };
	cocoon_kbs_resource_path p;
	char long_seg[200];
	(void)state;
	assert_int_equal(cocoon_kbs_resource_path_parse(&p, "cocoon/test/forbidden", 21), 0);
	assert_string_equal(p.repo, "cocoon");
	assert_string_equal(p.type, "test");
	assert_string_equal(p.tag, "forbidden");
	assert_int_equal(cocoon_kbs_resource_path_parse(&p, "-_A9/b.c/v1.2-rc_3", 18), 0);
	assert_string_equal(p.tag, "v1.2-rc_3");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cocoon_kbs_resource_path_parse(&p, bad[i], strlen(bad[i])), COCOON_EFORMAT);
		assert_string_equal(p.repo, "");
	}
	assert_int_equal(cocoon_kbs_resource_path_parse(&p, "a\0b/c/d", 7), COCOON_EFORMAT);
	memset(long_seg, 'a', sizeof(long_seg));
	memcpy(long_seg, "a/b/", 4);
	assert_int_equal(cocoon_kbs_resource_path_parse(&p, long_seg, 4 + 128), 0);
	assert_int_equal(cocoon_kbs_resource_path_parse(&p, long_seg, 4 + 129), COCOON_EFORMAT);
	expect_msg("tag segment");
}

static void test_evidence_quotes(void **state)
{
	uint8_t quote[600];
	cocoon_kbs_evidence in = { 0 }, out;
	json_t *j;
	(void)state;
	RAND_bytes(quote, sizeof(quote));
	in.tee = COCOON_KBS_TEE_TDX;
	in.evidence = quote;
	in.evidence_len = sizeof(quote);
	assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), 0);
	assert_true(json_is_null(json_object_get(j, "cc_eventlog")));
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_TDX, j), 0);
	assert_int_equal(out.evidence_len, sizeof(quote));
	assert_memory_equal(out.evidence, quote, sizeof(quote));
	assert_null(out.eventlog);
	cocoon_kbs_evidence_clear(&out);
	/* An SGX guest does not send cc_eventlog. */
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SGX, j), COCOON_EFORMAT);
	expect_msg("unexpected member \"cc_eventlog\"");
	json_decref(j);

	in.tee = COCOON_KBS_TEE_SGX;
	assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), 0);
	assert_int_equal(json_object_size(j), 1);
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SGX, j), 0);
	assert_memory_equal(out.evidence, quote, sizeof(quote));
	cocoon_kbs_evidence_clear(&out);
	json_decref(j);

	j = json_pack("{s:s}", "quote", "not base64!");
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SGX, j), COCOON_EFORMAT);
	json_decref(j);
	j = json_pack("{s:s}", "quote", "");
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SGX, j), COCOON_EFORMAT);
	expect_msg("empty");
	json_decref(j);
	j = json_pack("{s:s,s:s}", "svn", "1", "report_data", "AAAA");
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SAMPLE, j), COCOON_EUNSUPPORTED);
	json_decref(j);
}

/* A report whose reserved bytes are zero survives encode -> decode byte for byte. */
static void snp_round_trip(const uint8_t *report, const uint8_t *aux, size_t aux_len)
{
	cocoon_kbs_evidence in = { 0 }, out;
	json_t *j;
	char *text;
	in.tee = COCOON_KBS_TEE_SNP;
	in.evidence = (uint8_t *)report;
	in.evidence_len = COCOON_SNP_REPORT_SIZE;
	in.aux = (uint8_t *)aux;
	in.aux_len = aux_len;
	assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), 0);
	/* Through text, as on the wire. */
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(text, 0, NULL);
	free(text);
	assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), 0);
	assert_int_equal(out.evidence_len, COCOON_SNP_REPORT_SIZE);
	assert_memory_equal(out.evidence, report, COCOON_SNP_REPORT_SIZE);
	if (aux) {
		cocoon_snp_certtable a, b;
		assert_int_equal(cocoon_snp_certtable_parse(&a, aux, aux_len), 0);
		assert_int_equal(cocoon_snp_certtable_parse(&b, out.aux, out.aux_len), 0);
		assert_int_equal(a.n, b.n);
		for (size_t i = 0; i < a.n; i++) {
			assert_memory_equal(a.entries[i].guid, b.entries[i].guid, 16);
			assert_int_equal(a.entries[i].length, b.entries[i].length);
			assert_memory_equal(a.entries[i].data, b.entries[i].data, a.entries[i].length);
		}
	} else {
		assert_null(out.aux);
		assert_true(json_is_null(json_object_get(j, "cert_chain")));
	}
	cocoon_kbs_evidence_clear(&out);
	json_decref(j);
}

/* Fills the non-reserved fields of a synthetic report. */
static void synthetic_report(uint8_t r[COCOON_SNP_REPORT_SIZE], uint32_t version, uint8_t fam, uint8_t model)
{
	static const struct { size_t off, n; } fields[] = {
		{ 0x04, 4 }, { 0x08, 3 }, { 0x10, 32 }, { 0x30, 8 }, { 0x38, 8 }, { 0x40, 2 }, { 0x48, 1 }, { 0x50, 0x130 },
		{ 0x180, 8 }, { 0x1A0, 64 }, { 0x1E0, 8 }, { 0x1E8, 3 }, { 0x1EC, 3 }, { 0x1F0, 8 }, { 0x2A0, 144 },
	};
	memset(r, 0, COCOON_SNP_REPORT_SIZE);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		RAND_bytes(r + fields[i].off, (int)fields[i].n);
	r[0] = (uint8_t)version;
	r[0x188] = fam, r[0x189] = model, r[0x18A] = 1;
	if (version >= 5) {
		RAND_bytes(r + 0x1F8, 7);
		RAND_bytes(r + 0x200, 7);
	}
	/* TCB bytes that the layout of that generation leaves reserved. */
	for (size_t off = 0x38; off < 0x200; off += 8) {
		if (off != 0x38 && off != 0x180 && off != 0x1E0 && off != 0x1F0)
			continue;
		if (fam == 0x1A)
			memset(r + off + 4, 0, 3);
		else
			memset(r + off + 2, 0, 4);
	}
}

static void test_evidence_snp(void **state)
{
	uint8_t r[COCOON_SNP_REPORT_SIZE], *real, *vcek = NULL, *table;
	size_t len = 0, vcek_len = 0;
	cocoon_kbs_evidence out;
	json_t *j;
	(void)state;
	synthetic_report(r, 3, 0x19, 0x11);                  /* Genoa */
	snp_round_trip(r, NULL, 0);
	synthetic_report(r, 5, 0x1A, 0x02);                  /* Turin: fmc in the TCB */
	snp_round_trip(r, NULL, 0);
	synthetic_report(r, 3, 0x17, 0x01);                  /* not an SEV-SNP processor */
	{
		cocoon_kbs_evidence in = { .tee = COCOON_KBS_TEE_SNP, .evidence = r, .evidence_len = sizeof(r) };
		assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), COCOON_EUNSUPPORTED);
	}

	/* Malformed shapes. */
	synthetic_report(r, 3, 0x19, 0x01);
	{
		cocoon_kbs_evidence in = { .tee = COCOON_KBS_TEE_SNP, .evidence = r, .evidence_len = sizeof(r) };
		json_t *rep;
		assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), 0);
		rep = json_object_get(j, "attestation_report");
		json_array_set_new(json_object_get(rep, "measurement"), 3, json_integer(256));
		assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), COCOON_EFORMAT);
		expect_msg("\"measurement\"[3] is not a byte");
		json_array_remove(json_object_get(rep, "measurement"), 3);
		assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), COCOON_EFORMAT);
		expect_msg("array of 48 bytes");
		json_decref(j);
		assert_int_equal(cocoon_kbs_evidence_encode(&j, &in), 0);
		json_object_set_new(j, "cert_chain", json_pack("[{s:s,s:[i]}]", "cert_type", "PEK", "data", 1));
		assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), COCOON_EFORMAT);
		expect_msg("cert_type");
		json_object_set_new(j, "cert_chain", json_pack("[{s:{s:s},s:[i]}]", "cert_type", "OTHER", "not-a-guid", "data", 1));
		assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), COCOON_EFORMAT);
		json_object_set_new(json_object_get(j, "attestation_report"), "extra", json_true());
		json_object_set_new(j, "cert_chain", json_null());
		assert_int_equal(cocoon_kbs_evidence_decode(&out, COCOON_KBS_TEE_SNP, j), COCOON_EFORMAT);
		expect_msg("unexpected member \"extra\"");
		json_decref(j);
	}

	/* A real Milan report with its VCEK as the certificate table. */
	real = cocoon_test_vector("snp/report.bin", &len);
	if (real)
		vcek = cocoon_test_vector("snp/vcek.der", &vcek_len);
	if (!real || !vcek) {
		free(real);
		free(vcek);
		skip();
	}
	assert_int_equal(len, COCOON_SNP_REPORT_SIZE);
	table = calloc(1, 48 + vcek_len);
	memcpy(table, "\x63\xda\x75\x8d\xe6\x64\x45\x64\xad\xc5\xf4\xb9\x3b\xe8\xac\xcd", 16);
	table[16] = 48;
	table[20] = (uint8_t)vcek_len, table[21] = (uint8_t)(vcek_len >> 8);
	memcpy(table + 48, vcek, vcek_len);
	snp_round_trip(real, table, 48 + vcek_len);
	free(table);
	free(real);
	free(vcek);
}

static void test_init_data(void **state)
{
	static const char *body = "version = \"0.1.0\"\n  algorithm = \"sha384\" # comment\n[data]\n\"aa.toml\" = '''\n"
	                          "algorithm = 'sha256'\n'''\n";
	cocoon_kbs_init_data id = { "toml", body };
	uint8_t d[64], want[48], field[32], big[64];
	size_t n;
	unsigned int wn;
	(void)state;
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), 0);
	assert_int_equal(n, 48);
	assert_int_equal(EVP_Digest(body, strlen(body), want, &wn, EVP_sha384(), NULL), 1);
	assert_memory_equal(d, want, 48);
	cocoon_kbs_init_data_regularize(field, sizeof(field), d, n);   /* SNP HOST_DATA: truncated */
	assert_memory_equal(field, want, 32);
	cocoon_kbs_init_data_regularize(big, sizeof(big), d, n);       /* SGX CONFIGID: padded */
	assert_memory_equal(big, want, 48);
	for (int i = 48; i < 64; i++)
		assert_int_equal(big[i], 0);
	id.body = "algorithm = \"sha512\"";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), 0);
	assert_int_equal(n, 64);
	id.body = "version = \"0.1.0\"\n[data]\nalgorithm = \"sha256\"\n";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), COCOON_EFORMAT);
	expect_msg("no top-level");
	id.body = "algorithm = \"sm3\"";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), COCOON_EUNSUPPORTED);
	id.body = "algorithm = \"sha384\"\nalgorithm = \"sha256\"";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), COCOON_EFORMAT);
	expect_msg("twice");
	id.body = "algorithm = 384";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), COCOON_EFORMAT);
	id.format = "json";
	assert_int_equal(cocoon_kbs_init_data_digest(d, &n, &id), COCOON_EUNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request), cmocka_unit_test(test_challenge), cmocka_unit_test(test_attestation),
		cmocka_unit_test(test_token_reply_and_errors), cmocka_unit_test(test_paths),
		cmocka_unit_test(test_evidence_quotes), cmocka_unit_test(test_evidence_snp), cmocka_unit_test(test_init_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
