/*
 * Simulated EREPORT and EGETKEY: report keys derived from the simulation
 * directory, AES-128-CMAC over the report body. Layout and derivation are
 * documented in sim/sim_report.h.
 */
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include "common/util.h"
#include "sim/sim_report.h"

#define REPORT_KEY_SIZE 16
#define REPORT_MAC_SIZE 16
#define KEY_ID_SIZE 32

/* sgx_target_info_t and sgx_report_body_t offsets (Intel's sgx_report.h). */
#define TI_MR_ENCLAVE 0
#define TI_ATTRIBUTES 32
#define TI_CONFIG_SVN 50
#define TI_MISC_SELECT 52
#define TI_CONFIG_ID 64
#define BODY_CPU_SVN 0
#define BODY_MISC_SELECT 16
#define BODY_ATTRIBUTES 48
#define BODY_MR_ENCLAVE 64
#define BODY_MR_SIGNER 128
#define BODY_CONFIG_ID 192
#define BODY_ISV_PROD_ID 256
#define BODY_ISV_SVN 258
#define BODY_CONFIG_SVN 260
#define BODY_REPORT_DATA 320

static int hkdf(uint8_t *out, size_t out_len, const uint8_t *ikm, size_t ikm_len, const char *salt,
                const uint8_t *info, size_t info_len)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int err = 0;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, strlen(salt));
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (!(kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) || !(ctx = EVP_KDF_CTX_new(kdf)) ||
	    EVP_KDF_derive(ctx, out, out_len, params) != 1)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim report: HKDF-SHA256 failed");
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return err;
}

static int cmac(uint8_t mac[REPORT_MAC_SIZE], const uint8_t key[REPORT_KEY_SIZE], const uint8_t *data, size_t len)
{
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	size_t out_len = 0;
	int err = 0;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)"AES-128-CBC", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!(m = EVP_MAC_fetch(NULL, "CMAC", NULL)) || !(ctx = EVP_MAC_CTX_new(m)) ||
	    EVP_MAC_init(ctx, key, REPORT_KEY_SIZE, params) != 1 || EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, mac, &out_len, REPORT_MAC_SIZE) != 1 || out_len != REPORT_MAC_SIZE)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim report: AES-128-CMAC failed");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(m);
	return err;
}

int cocoon_sim_report_root(uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE], const cocoon_sim_pki *p)
{
	BIGNUM *priv = NULL;
	uint8_t scalar[32];
	int err = 0;

	memset(root, 0, COCOON_SIM_REPORT_ROOT_SIZE);
	if (!p || !p->att_key || EVP_PKEY_get_bn_param(p->att_key, OSSL_PKEY_PARAM_PRIV_KEY, &priv) != 1 ||
	    BN_bn2binpad(priv, scalar, sizeof(scalar)) != (int)sizeof(scalar)) {
		err = cocoon_error_set_openssl(COCOON_EINVAL, "sim report: the simulation directory's attestation key "
		                               "has no P-256 private scalar; re-create it with 'cocoon sim init'");
		goto done;
	}
	err = hkdf(root, COCOON_SIM_REPORT_ROOT_SIZE, scalar, sizeof(scalar), "cocoon-sim-report-root-v1", NULL, 0);
done:
	cocoon_zeroize(scalar, sizeof(scalar));
	BN_clear_free(priv);
	return err;
}

int cocoon_sim_report_key_id(uint8_t key_id[32], const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE])
{
	static const uint8_t info[] = "keyid";
	return hkdf(key_id, KEY_ID_SIZE, root, COCOON_SIM_REPORT_ROOT_SIZE, "cocoon-sim-report-keyid-v1", info,
	            sizeof(info) - 1);
}

/* EGETKEY(REPORT) for the enclave whose identity target_info carries. */
static int report_key(uint8_t key[REPORT_KEY_SIZE], const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE],
                      const uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE], const uint8_t key_id[KEY_ID_SIZE])
{
	uint8_t info[KEY_ID_SIZE + 32 + 16 + 4 + 2 + 64];
	size_t n = 0;
	int err;

	memcpy(info + n, key_id, KEY_ID_SIZE), n += KEY_ID_SIZE;
	memcpy(info + n, ti + TI_MR_ENCLAVE, 32), n += 32;
	memcpy(info + n, ti + TI_ATTRIBUTES, 16), n += 16;
	memcpy(info + n, ti + TI_MISC_SELECT, 4), n += 4;
	memcpy(info + n, ti + TI_CONFIG_SVN, 2), n += 2;
	memcpy(info + n, ti + TI_CONFIG_ID, 64), n += 64;
	err = hkdf(key, REPORT_KEY_SIZE, root, COCOON_SIM_REPORT_ROOT_SIZE, "cocoon-sim-report-key-v1", info, n);
	cocoon_zeroize(info, sizeof(info));
	return err;
}

int cocoon_sim_report_create(uint8_t report[COCOON_SGX_REPORT_SIZE_FULL],
                             const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE],
                             const uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE],
                             const uint8_t body[COCOON_SGX_REPORT_BODY_SIZE])
{
	uint8_t key[REPORT_KEY_SIZE], key_id[KEY_ID_SIZE];
	int err;

	memmove(report, body, COCOON_SGX_REPORT_BODY_SIZE);
	if ((err = cocoon_sim_report_key_id(key_id, root)) != 0 ||
	    (err = report_key(key, root, target_info, key_id)) != 0)
		goto done;
	memcpy(report + COCOON_SGX_REPORT_KEY_ID_OFFSET, key_id, KEY_ID_SIZE);
	err = cmac(report + COCOON_SGX_REPORT_MAC_OFFSET, key, report, COCOON_SGX_REPORT_BODY_SIZE);
done:
	cocoon_zeroize(key, sizeof(key));
	return err;
}

int cocoon_sim_report_verify(const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE],
                             const uint8_t own_target_info[COCOON_SGX_TARGET_INFO_SIZE],
                             const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL])
{
	uint8_t key[REPORT_KEY_SIZE], mac[REPORT_MAC_SIZE];
	int err;

	/* As EGETKEY: the key ID comes from the report, the identity from the verifier itself. */
	if ((err = report_key(key, root, own_target_info, report + COCOON_SGX_REPORT_KEY_ID_OFFSET)) != 0 ||
	    (err = cmac(mac, key, report, COCOON_SGX_REPORT_BODY_SIZE)) != 0)
		goto done;
	if (cocoon_memcmp_ct(mac, report + COCOON_SGX_REPORT_MAC_OFFSET, REPORT_MAC_SIZE) != 0)
		err = cocoon_error_set(COCOON_EREJECT, "sim report: the report MAC (bytes 416..431) does not verify with "
		                       "this enclave's report key: the report targets another enclave or platform, or "
		                       "was modified; make it with the target info this service returns");
done:
	cocoon_zeroize(key, sizeof(key));
	cocoon_zeroize(mac, sizeof(mac));
	return err;
}

void cocoon_sim_app_body(uint8_t body[COCOON_SGX_REPORT_BODY_SIZE], const cocoon_sim_pki *p,
                         const cocoon_sim_app_identity *id)
{
	memset(body, 0, COCOON_SGX_REPORT_BODY_SIZE);
	memcpy(body + BODY_CPU_SVN, p->opts.cpu_svn, 16);
	body[BODY_ATTRIBUTES] = (uint8_t)(0x05 | (id->debug ? 0x02 : 0)); /* INIT | MODE64BIT (| DEBUG) */
	body[BODY_ATTRIBUTES + 8] = 0x03;                                  /* XFRM: x87 | SSE */
	memcpy(body + BODY_MR_ENCLAVE, id->mr_enclave, 32);
	memcpy(body + BODY_MR_SIGNER, id->mr_signer, 32);
	cocoon_put_le16(body + BODY_ISV_PROD_ID, id->isv_prod_id);
	cocoon_put_le16(body + BODY_ISV_SVN, id->isv_svn);
	memcpy(body + BODY_REPORT_DATA, id->report_data, 64);
}

void cocoon_sim_target_info_of(uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE], const uint8_t body[COCOON_SGX_REPORT_BODY_SIZE])
{
	memset(ti, 0, COCOON_SGX_TARGET_INFO_SIZE);
	memcpy(ti + TI_MR_ENCLAVE, body + BODY_MR_ENCLAVE, 32);
	memcpy(ti + TI_ATTRIBUTES, body + BODY_ATTRIBUTES, 16);
	memcpy(ti + TI_CONFIG_SVN, body + BODY_CONFIG_SVN, 2);
	memcpy(ti + TI_MISC_SELECT, body + BODY_MISC_SELECT, 4);
	memcpy(ti + TI_CONFIG_ID, body + BODY_CONFIG_ID, 64);
}
