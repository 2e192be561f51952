/*
 * The report signature: ECDSA P-384 with SHA-384 over bytes [0, 0x2A0).
 * R and S are 72-byte little-endian fields holding 48-byte scalars. This is
 * the hot path of a cached verification, so it does one digest, one DER
 * encoding on the stack and one EVP_PKEY_verify.
 */
#include <pthread.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include "snp/snp.h"

static EVP_MD *sha384;
static pthread_once_t sha384_once = PTHREAD_ONCE_INIT;

/* An explicit fetch once instead of the implicit per-call fetch behind EVP_sha384(). */
static void sha384_fetch(void) { sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL); }

int cocoon_snp_signature_verify(EVP_PKEY *key, const uint8_t *report, const cocoon_snp_report *r)
{
	uint8_t md[48], der[128], *p = der;
	unsigned int md_len = 0;
	ECDSA_SIG *sig = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int der_len, ret = -1;

	/* A P-384 scalar fills 48 bytes; the field's upper 24 bytes are zero. */
	if (!cocoon_is_zero(r->sig_r + SNP_P384_BYTES, SNP_SIG_COMPONENT - SNP_P384_BYTES) ||
	    !cocoon_is_zero(r->sig_s + SNP_P384_BYTES, SNP_SIG_COMPONENT - SNP_P384_BYTES))
		return 0;
	pthread_once(&sha384_once, sha384_fetch);
	if (!sha384)
		goto done;
	if (!(sig = ECDSA_SIG_new()) || !(br = BN_lebin2bn(r->sig_r, SNP_P384_BYTES, NULL)) ||
	    !(bs = BN_lebin2bn(r->sig_s, SNP_P384_BYTES, NULL)) || !ECDSA_SIG_set0(sig, br, bs))
		goto done;
	br = bs = NULL; /* owned by sig */
	der_len = i2d_ECDSA_SIG(sig, NULL);
	if (der_len <= 0 || (size_t)der_len > sizeof(der) || i2d_ECDSA_SIG(sig, &p) != der_len)
		goto done;
	if (!EVP_Digest(report, SNP_SIGNED_LEN, md, &md_len, sha384, NULL) || md_len != sizeof(md))
		goto done;
	if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) || EVP_PKEY_verify_init(ctx) != 1)
		goto done;
	ret = EVP_PKEY_verify(ctx, der, (size_t)der_len, md, md_len) == 1 ? 1 : 0;
done:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return ret;
}
