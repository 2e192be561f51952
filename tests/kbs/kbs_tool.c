/*
 * Test driver for the KBS library, so shell tests can put it against
 * independent tools (the jose CLI):
 *   kbs_tool enc PUBLIC.jwk PLAINTEXT   prints the resource JWE cocoon's broker would send
 *   kbs_tool dec PRIVATE.jwk JWE        prints the plaintext (EC keys in jose's JWK form)
 * and to drive cocoon-attestd's broker from shell tests with curl:
 *   kbs_tool keygen ec|rsa PRIV.pem PUB.jwk      a tee key pair (PEM private, JWK public)
 *   kbs_tool rdhash NONCE PUB.jwk                 REPORT_DATA (hex) binding nonce and key (SHA-384)
 *   kbs_tool attest-body NONCE PUB.jwk sgx|tdx|snp EVIDENCE [INITDATA.toml]   the Attestation JSON
 *   kbs_tool dec-pem PRIV.pem JWE                 the resource a broker's JWE carries
 *   kbs_tool admin-jwt PRIV.pem [EXP-OFFSET]      an admin JWT (iat now, exp now+offset, default 300)
 * Exit 0 on success, 1 on a library error (message on stderr), 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "cocoon/kbs.h"
#include "common/util.h"

static json_t *load_json(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!v)
		fprintf(stderr, "kbs_tool: %s: %s\n", path, e.text);
	return v;
}

static EVP_PKEY *load_pem_private(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (!k)
		fprintf(stderr, "kbs_tool: %s: not a PEM private key\n", path);
	return k;
}

static int fail(int err)
{
	fprintf(stderr, "kbs_tool: %s: %s\n", cocoon_error_name(err), cocoon_error_last()->message);
	return 1;
}

static int keygen(const char *type, const char *priv, const char *pub)
{
	EVP_PKEY *k = NULL;
	json_t *jwk = NULL;
	FILE *f;
	int err = cocoon_kbs_key_generate(&k, strcmp(type, "rsa") == 0 ? COCOON_KBS_KEY_RSA : COCOON_KBS_KEY_EC_P256);
	if (!err)
		err = cocoon_kbs_jwk_from_key(&jwk, k);
	if (err)
		return fail(err);
	if (!(f = fopen(priv, "w")) || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0 ||
	    json_dump_file(jwk, pub, JSON_COMPACT) != 0) {
		fprintf(stderr, "kbs_tool: cannot write %s / %s\n", priv, pub);
		return 1;
	}
	EVP_PKEY_free(k);
	json_decref(jwk);
	return 0;
}

static int rdhash(const char *nonce, const char *pub)
{
	uint8_t rd[64];
	json_t *jwk = load_json(pub);
	int err;
	if (!jwk)
		return 1;
	if ((err = cocoon_kbs_runtime_data_hash(rd, NULL, COCOON_KBS_HASH_SHA384, nonce, jwk, "")) != 0)
		return fail(err);
	for (int i = 0; i < 64; i++)
		printf("%02x", rd[i]);
	printf("\n");
	json_decref(jwk);
	return 0;
}

static int attest_body(int argc, char **argv)
{
	cocoon_kbs_evidence ev = { 0 };
	cocoon_kbs_init_data id = { .format = "toml" };
	json_t *jwk = load_json(argv[3]), *primary = NULL;
	uint8_t *init = NULL;
	size_t init_len = 0;
	char *out = NULL;
	int err;

	if (!jwk || cocoon_kbs_tee_parse(&ev.tee, argv[4]) != 0 ||
	    cocoon_file_read(&ev.evidence, &ev.evidence_len, argv[5]) != 0 ||
	    (argc > 6 && cocoon_file_read(&init, &init_len, argv[6]) != 0))
		return fail(cocoon_error_last()->code);
	id.body = (const char *)init;
	if ((err = cocoon_kbs_evidence_encode(&primary, &ev)) != 0 ||
	    (err = cocoon_kbs_attestation_build(&out, argv[2], jwk, primary, NULL, init ? &id : NULL)) != 0)
		return fail(err);
	printf("%s\n", out);
	free(out);
	free(init);
	json_decref(primary);
	json_decref(jwk);
	cocoon_kbs_evidence_clear(&ev);
	return 0;
}

static int dec_pem(const char *priv, const char *path)
{
	EVP_PKEY *k = load_pem_private(priv);
	uint8_t *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	int err;
	if (!k || cocoon_file_read(&data, &len, path) != 0)
		return 1;
	if ((err = cocoon_kbs_jwe_decrypt(&out, &out_len, (const char *)data, len, k)) != 0)
		return fail(err);
	fwrite(out, 1, out_len, stdout);
	cocoon_zeroize(out, out_len);
	free(out);
	free(data);
	EVP_PKEY_free(k);
	return 0;
}

static int admin_jwt(const char *priv, long offset)
{
	EVP_PKEY *k = load_pem_private(priv);
	time_t now = time(NULL);
	json_t *c = json_pack("{s:I,s:I}", "iat", (json_int_t)now, "exp", (json_int_t)(now + offset));
	char *jwt = NULL;
	int err;
	if (!k || !c)
		return 1;
	if ((err = cocoon_kbs_admin_sign(&jwt, c, k)) != 0)
		return fail(err);
	printf("%s\n", jwt);
	free(jwt);
	json_decref(c);
	EVP_PKEY_free(k);
	return 0;
}

static int enc_dec(char **argv)
{
	EVP_PKEY *key = NULL;
	json_t *jwk;
	uint8_t *data = NULL, *out = NULL;
	size_t len = 0, out_len = 0;
	char *jwe = NULL;
	int err;

	if (!(jwk = load_json(argv[2])) || cocoon_file_read(&data, &len, argv[3]) != 0)
		return 1;
	if (strcmp(argv[1], "enc") == 0) {
		if ((err = cocoon_kbs_jwk_to_key(&key, jwk)) == 0 && (err = cocoon_kbs_jwe_encrypt(&jwe, key, data, len)) == 0)
			printf("%s\n", jwe);
	} else {
		if ((err = cocoon_kbs_jwk_to_private_key(&key, jwk)) == 0 &&
		    (err = cocoon_kbs_jwe_decrypt(&out, &out_len, (const char *)data, len, key)) == 0)
			fwrite(out, 1, out_len, stdout);
	}
	if (err)
		fprintf(stderr, "kbs_tool: %s: %s\n", cocoon_error_name(err), cocoon_error_last()->message);
	if (out)
		cocoon_zeroize(out, out_len);
	free(out);
	free(jwe);
	free(data);
	EVP_PKEY_free(key);
	json_decref(jwk);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	if (argc == 4 && (strcmp(cmd, "enc") == 0 || strcmp(cmd, "dec") == 0))
		return enc_dec(argv);
	if (argc == 5 && strcmp(cmd, "keygen") == 0)
		return keygen(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(cmd, "rdhash") == 0)
		return rdhash(argv[2], argv[3]);
	if ((argc == 6 || argc == 7) && strcmp(cmd, "attest-body") == 0)
		return attest_body(argc, argv);
	if (argc == 4 && strcmp(cmd, "dec-pem") == 0)
		return dec_pem(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && strcmp(cmd, "admin-jwt") == 0)
		return admin_jwt(argv[2], argc == 4 ? strtol(argv[3], NULL, 10) : 300);
	fprintf(stderr, "usage: kbs_tool enc PUBLIC.jwk PLAINTEXT | dec PRIVATE.jwk JWE | keygen ec|rsa PRIV.pem PUB.jwk |\n"
	        "       rdhash NONCE PUB.jwk | attest-body NONCE PUB.jwk TEE EVIDENCE [INITDATA] | dec-pem PRIV.pem JWE |\n"
	        "       admin-jwt PRIV.pem [EXP-OFFSET]\n");
	return 2;
}
