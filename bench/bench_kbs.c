/*
 * Per-operation cost of the key-broker protocol library on one core: the
 * pieces a full RCAR flow spends CPU on besides evidence verification
 * (runtime-data JCS + hash, attestation parse, EAR claims + ES256 sign, EAR
 * verify, resource JWE encrypt on the server; key generation and JWE decrypt
 * on the guest). Prints one JSON object of operations per second.
 *
 * usage: bench_kbs [--seconds S]   (S per operation, default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>
#include "cocoon/kbs.h"

typedef struct {
	EVP_PKEY *tee, *signer, *rsa;
	json_t *jwk;
	char *attest, *jwe, *token;
} fixture;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int op_hash(fixture *f)
{
	uint8_t rd[64];
	return cocoon_kbs_runtime_data_hash(rd, NULL, COCOON_KBS_HASH_SHA384, "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=",
	                                    f->jwk, "");
}

static int op_parse(fixture *f)
{
	cocoon_kbs_attestation *a;
	int err = cocoon_kbs_attestation_parse(&a, f->attest, strlen(f->attest));
	cocoon_kbs_attestation_free(a);
	return err;
}

static int op_ear(fixture *f)
{
	cocoon_kbs_ear_input in = COCOON_KBS_EAR_INPUT_INIT;
	json_t *claims;
	char *tok;
	int err;
	in.tee = COCOON_KBS_TEE_TDX;
	in.tee_pubkey = f->jwk;
	in.tv.hardware = 2;
	if ((err = cocoon_kbs_ear_claims_build(&claims, &in)) != 0)
		return err;
	err = cocoon_kbs_ear_sign(&tok, claims, f->signer);
	free(tok);
	json_decref(claims);
	return err;
}

static int op_ear_verify(fixture *f)
{
	return cocoon_kbs_ear_verify(NULL, f->token, f->signer, 0, 60);
}

static int op_enc(fixture *f)
{
	static const uint8_t secret[64] = { 1 };
	char *jwe;
	int err = cocoon_kbs_jwe_encrypt(&jwe, f->tee, secret, sizeof(secret));
	free(jwe);
	return err;
}

static int op_enc_rsa(fixture *f)
{
	static const uint8_t secret[64] = { 1 };
	char *jwe;
	int err = cocoon_kbs_jwe_encrypt(&jwe, f->rsa, secret, sizeof(secret));
	free(jwe);
	return err;
}

static int op_dec(fixture *f)
{
	uint8_t *pt;
	size_t n;
	int err = cocoon_kbs_jwe_decrypt(&pt, &n, f->jwe, strlen(f->jwe), f->tee);
	free(pt);
	return err;
}

static int op_keygen(fixture *f)
{
	EVP_PKEY *k;
	int err = cocoon_kbs_key_generate(&k, COCOON_KBS_KEY_EC_P256);
	(void)f;
	EVP_PKEY_free(k);
	return err;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(fixture *); } ops[] = {
		{ "runtime_data_hash", op_hash }, { "attestation_parse", op_parse }, { "ear_build_sign", op_ear },
		{ "ear_verify", op_ear_verify }, { "jwe_encrypt_p256", op_enc }, { "jwe_encrypt_rsa3072", op_enc_rsa },
		{ "jwe_decrypt_p256", op_dec }, { "keygen_p256", op_keygen },
	};
	double seconds = argc == 3 && strcmp(argv[1], "--seconds") == 0 ? atof(argv[2]) : 1.0;
	json_t *ev = json_pack("{s:s}", "quote", "AAAA");
	fixture f = { 0 };
	json_t *claims;
	cocoon_kbs_ear_input in = COCOON_KBS_EAR_INPUT_INIT;

	if (cocoon_kbs_key_generate(&f.tee, COCOON_KBS_KEY_EC_P256) || cocoon_kbs_key_generate(&f.signer, COCOON_KBS_KEY_EC_P256) ||
	    cocoon_kbs_key_generate(&f.rsa, COCOON_KBS_KEY_RSA) || cocoon_kbs_jwk_from_key(&f.jwk, f.tee) ||
	    cocoon_kbs_attestation_build(&f.attest, "MTIz", f.jwk, ev, "", NULL) ||
	    cocoon_kbs_jwe_encrypt(&f.jwe, f.tee, (const uint8_t *)"secret", 6)) {
		fprintf(stderr, "bench_kbs: setup: %s\n", cocoon_error_last()->message);
		return 1;
	}
	in.tee = COCOON_KBS_TEE_TDX;
	in.tee_pubkey = f.jwk;
	in.lifetime = 3600;
	if (cocoon_kbs_ear_claims_build(&claims, &in) || cocoon_kbs_ear_sign(&f.token, claims, f.signer))
		return 1;
	json_decref(claims);
	printf("{");
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		double t0 = now_s(), t;
		long n = 0;
		do {
			if (ops[i].fn(&f) != 0) {
				fprintf(stderr, "bench_kbs: %s: %s\n", ops[i].name, cocoon_error_last()->message);
				return 1;
			}
			n++;
		} while ((t = now_s() - t0) < seconds);
		printf("%s\"%s_per_s\":%.0f", i ? "," : "", ops[i].name, (double)n / t);
		fflush(stdout);
	}
	printf("}\n");
	EVP_PKEY_free(f.tee);
	EVP_PKEY_free(f.signer);
	EVP_PKEY_free(f.rsa);
	json_decref(f.jwk);
	json_decref(ev);
	free(f.attest);
	free(f.jwe);
	free(f.token);
	return 0;
}
