/*
 * Simulated Intel DCAP platform: a PKI shaped like Intel's (root CA, PCK
 * Platform CA, PCK leaf with the SGX extensions, TCB Signing cert, CRLs), a
 * QE attestation key, and writers for quotes (v3, v4, v5 with every body
 * type) and collateral in Intel's exact formats. The verifier treats its
 * output exactly like real evidence; only the trust anchor differs.
 *
 * Used by tests (status paths no real vector shows) and by `cocoon sim`.
 */
#ifndef COCOON_SIM_DCAP_SIM_H
#define COCOON_SIM_DCAP_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct {
	time_t not_before;            /* certificates and CRL thisUpdate */
	time_t not_after;             /* certificates */
	time_t crl_next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	uint8_t cpu_svn[16];          /* also the 16 TCB component SVNs */
	uint16_t pce_svn;
	uint8_t ppid[16];
	/*
	 * Subject CNs are "<cn_prefix> Root CA", "<cn_prefix> PCK Platform CA",
	 * "<cn_prefix> PCK Certificate" and "<cn_prefix> TCB Signing". Verifiers
	 * recognise roles by the phrases "SGX Root CA" etc., so the prefix must
	 * end with "SGX": "Intel SGX" (default) or "cocoon Simulated SGX".
	 */
	const char *cn_prefix;
} cocoon_sim_pki_options;

/*
 * Sets defaults: validity 2020-01-01T00:00:00Z..2049-12-31T23:59:59Z (also
 * the CRLs' nextUpdate), fmspc 00906ED50000, pceid 0000, cpu_svn all 2,
 * pce_svn 11, ppid 01..10, cn_prefix "Intel SGX".
 */
void cocoon_sim_pki_options_init(cocoon_sim_pki_options *o);

typedef struct cocoon_sim_pki {
	EVP_PKEY *root_key;   X509 *root_cert;
	EVP_PKEY *pck_ca_key; X509 *pck_ca_cert;     /* "Intel SGX PCK Platform CA"-shaped */
	EVP_PKEY *pck_key;    X509 *pck_cert;        /* "Intel SGX PCK Certificate"-shaped, with SGX extensions */
	EVP_PKEY *tcb_key;    X509 *tcb_cert;        /* "Intel SGX TCB Signing"-shaped */
	EVP_PKEY *att_key;                           /* QE attestation key (P-256) */
	X509_CRL *root_crl;   X509_CRL *pck_crl;
	cocoon_sim_pki_options opts;                 /* opts.cn_prefix points at cn_prefix_copy */
	char *cn_prefix_copy;
} cocoon_sim_pki;

/* o may be NULL for defaults. Fails with COCOON_EINVAL naming a bad option. */
int cocoon_sim_pki_generate(cocoon_sim_pki **out, const cocoon_sim_pki_options *o);
void cocoon_sim_pki_free(cocoon_sim_pki *p);

/*
 * Re-issues a CRL (root CRL when issuer_is_root, else PCK CRL) revoking the
 * given serials (revocation date = this_update), with the next CRL number.
 */
int cocoon_sim_pki_reissue_crl(cocoon_sim_pki *p, int issuer_is_root, const ASN1_INTEGER *const *revoked,
                               size_t n_revoked, time_t this_update, time_t next_update);

typedef struct {
	int version;                  /* 3, 4 or 5 */
	int body_type;                /* 1 SGX, 2 TD10, 3 TD15 (v3 => 1, v4 => 2) */
	uint8_t report_data[64];
	/* SGX body */
	uint8_t mr_enclave[32], mr_signer[32];
	uint16_t isv_prod_id, isv_svn;
	uint8_t config_id[64];        /* SGX CONFIGID (init data binding); default zero */
	uint8_t attributes[16];       /* default: byte 0 = 0x05 INIT|MODE64 (no DEBUG), xfrm byte 8 = 0x03 */
	/* TD body */
	uint8_t tee_tcb_svn[16];      /* default 03 00 02 00..: byte 1 (TDX module version) = 0 */
	uint8_t tee_tcb_svn2[16];
	uint8_t mr_seam[48], mr_signer_seam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];     /* default: SEPT_VE_DISABLE (bit 28) set */
	uint8_t xfam[8];
	uint8_t mr_td[48], mr_config_id[48], mr_owner[48], mr_owner_config[48];
	uint8_t rtmr[4][48];
	uint8_t mr_service_td[48];
	/* QE report */
	uint8_t qe_mrsigner[32];      /* default cocoon_sim_qe_mrsigner_sgx / _td by body type */
	uint16_t qe_isv_prod_id;      /* 1 for SGX QE, 2 for TD QE */
	uint16_t qe_isv_svn;
	uint32_t qe_misc_select;
	uint8_t qe_attributes[16];
	uint8_t qe_vendor_id[16];     /* default Intel's */
	uint16_t qe_svn, pce_svn;     /* v3 header */
	size_t qe_auth_len;           /* default 32 */
	size_t trailing_padding;      /* zero bytes appended after the signature data */
} cocoon_sim_quote_params;

/*
 * Default QE MRSIGNER values: Intel's production QE (SGX) and TD QE signers,
 * so QE identity JSON written by tests can use Intel's real mrsigner.
 */
extern const uint8_t cocoon_sim_qe_mrsigner_sgx[32];  /* 8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF */
extern const uint8_t cocoon_sim_qe_mrsigner_td[32];   /* DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5 */

/*
 * Defaults for a well-formed quote of the given version/body type: QE
 * prod id 1 (SGX body) or 2 (TD body), QE ISV SVN 8, QE attributes byte 0
 * 0x11, misc select 0, Intel's QE vendor ID, v3 header qe_svn 8 / pce_svn
 * 11, 32 bytes of QE auth data (00 01 .. 1F), TD attributes SEPT_VE_DISABLE,
 * xfam E7 02 06 00.., everything else zero. An unsupported pair is kept as
 * given so cocoon_sim_quote reports it.
 */
void cocoon_sim_quote_params_init(cocoon_sim_quote_params *q, int version, int body_type);

/*
 * Writes a signed quote (caller frees *out): QE report signed by the PCK
 * key, quote signed by the attestation key, PCK chain (leaf, CA, root) as
 * certification data type 5 with a trailing NUL as Intel's QE writes it.
 * Versions: 3 with body 1, 4 with body 2, 5 with body 1, 2 or 3.
 */
int cocoon_sim_quote(uint8_t **out, size_t *out_len, const cocoon_sim_pki *p, const cocoon_sim_quote_params *q);

/* ECDSA-P256/SHA-256 raw r||s signature with any P-256 key over exact bytes. */
int cocoon_sim_sign_raw(uint8_t sig[64], EVP_PKEY *key, const void *data, size_t len);

/* ECDSA-P256 r||s signature with the TCB Signing key over exact bytes. */
int cocoon_sim_sign_tcb(uint8_t sig[64], const cocoon_sim_pki *p, const void *data, size_t len);

/*
 * Collateral JSON in the vectors' layout (see cocoon_collateral_from_json)
 * from the PKI's chains and CRLs plus the given exact tcbInfo and
 * enclaveIdentity JSON (signed here with the TCB key).
 */
int cocoon_sim_collateral_json(char **out, const cocoon_sim_pki *p, const char *tcb_info_json,
                               const char *qe_identity_json);  /* caller frees *out with free() */

/* PEM of certificates, concatenated in order (caller frees). */
int cocoon_sim_pem_certs(char **out, X509 *const *certs, size_t n);

#endif
