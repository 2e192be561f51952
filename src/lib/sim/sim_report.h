/*
 * The simulated SGX report path: EREPORT/EGETKEY-like report MACs and a
 * simulated QE3 that turns an app enclave's report into a DCAP quote v3.
 *
 * Report key. Real SGX derives the REPORT key in the CPU from a fused
 * secret and the *target* enclave's identity; the simulation derives it
 * from the simulation directory instead:
 *
 *   root = HKDF-SHA256(ikm  = the QE attestation key's private scalar
 *                             (DIR/intel/attestation-key.pem, 32 bytes),
 *                      salt = "cocoon-sim-report-root-v1", info = "", 32 bytes)
 *   key  = HKDF-SHA256(ikm  = root, salt = "cocoon-sim-report-key-v1",
 *                      info = key_id[32] | mr_enclave[32] | attributes[16] |
 *                             misc_select(le32) | config_svn(le16) | config_id[64],
 *                      16 bytes)
 *
 * where the identity fields are the target's (TARGETINFO for EREPORT, the
 * verifier's own for EGETKEY). Deriving from the key file, not a separate
 * seed, keeps read-only simulation directories usable and needs no lazy
 * writes; HKDF separates the uses. The MAC is AES-128-CMAC over the 384-byte
 * REPORTBODY, as SGX computes it. Neither root nor key is ever logged, and
 * both are zeroized after use.
 *
 * Anyone holding DIR can forge reports and quotes: simulation only.
 */
#ifndef COCOON_SIM_SIM_REPORT_H
#define COCOON_SIM_SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "cocoon/aesm.h"
#include "sim/dcap_sim.h"

#define COCOON_SIM_REPORT_ROOT_SIZE 32

/* sgx_report_t offsets. */
#define COCOON_SGX_REPORT_KEY_ID_OFFSET 384
#define COCOON_SGX_REPORT_MAC_OFFSET 416

/* The root secret of a simulation directory's report keys (zeroize when done). */
int cocoon_sim_report_root(uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE], const cocoon_sim_pki *p);

/* The platform's current KEYID (SGX: a per-boot value; here fixed per root). */
int cocoon_sim_report_key_id(uint8_t key_id[32], const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE]);

/*
 * EREPORT: report = body | key_id | AES-CMAC(key(target, key_id), body).
 * body is a 384-byte sgx_report_body_t; target a 512-byte sgx_target_info_t.
 */
int cocoon_sim_report_create(uint8_t report[COCOON_SGX_REPORT_SIZE_FULL],
                             const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE],
                             const uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE],
                             const uint8_t body[COCOON_SGX_REPORT_BODY_SIZE]);

/*
 * EGETKEY + MAC check by the enclave described by own_target_info: 0 when
 * the report was made for it and not modified since. Errors: COCOON_EREJECT
 * (MAC mismatch, compared in constant time), COCOON_EINTERNAL.
 */
int cocoon_sim_report_verify(const uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE],
                             const uint8_t own_target_info[COCOON_SGX_TARGET_INFO_SIZE],
                             const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL]);

/*
 * App enclave report bodies for `cocoon sim report` and tests: attributes
 * INIT|MODE64BIT (|DEBUG), XFRM x87|SSE, the platform's CPUSVN, the given
 * measurements and report data; everything else zero.
 */
typedef struct {
	uint8_t mr_enclave[32], mr_signer[32];
	uint16_t isv_prod_id, isv_svn;
	int debug;
	uint8_t report_data[64];
} cocoon_sim_app_identity;

void cocoon_sim_app_body(uint8_t body[COCOON_SGX_REPORT_BODY_SIZE], const cocoon_sim_pki *p,
                         const cocoon_sim_app_identity *id);

/* Writes the 512-byte target info of the enclave that produced body. */
void cocoon_sim_target_info_of(uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE],
                               const uint8_t body[COCOON_SGX_REPORT_BODY_SIZE]);

/*
 * The simulated QE3 of a simulation directory. Read-only once opened, so
 * one instance serves any number of threads.
 */
typedef struct cocoon_sim_qe cocoon_sim_qe;

/* The simulated QE's MRENCLAVE: SHA-256("cocoon simulated QE3"), fixed so target info is stable. */
extern const uint8_t cocoon_sim_qe_mrenclave[32];

int cocoon_sim_qe_open(cocoon_sim_qe **out, const char *dir);
void cocoon_sim_qe_free(cocoon_sim_qe *qe);
void cocoon_sim_qe_target_info(uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE], const cocoon_sim_qe *qe);
/* SHA-256 of the attestation public key (x || y), InitQuoteEx's pub_key_id. */
void cocoon_sim_qe_pub_key_id(uint8_t id[COCOON_SGX_PUB_KEY_ID_SIZE], const cocoon_sim_qe *qe);
/* Size of every quote this QE writes. */
size_t cocoon_sim_qe_quote_size(const cocoon_sim_qe *qe);
/* The report root, for `cocoon sim report` (the caller zeroizes its copy). */
void cocoon_sim_qe_report_root(uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE], const cocoon_sim_qe *qe);

/*
 * What QE3 does for sgx_ql_get_quote: checks the app report's MAC with this
 * QE's report key (COCOON_EREJECT when it does not verify: not targeted at
 * this QE, or modified), then writes a v3 quote whose body is the report's
 * body, signed by the attestation key. With qe_report_info (960 bytes:
 * nonce, app target info, QE report) the QE report is filled in: targeted
 * at the app enclave, report_data = SHA-256(nonce || quote) || 32 zero bytes.
 */
int cocoon_sim_qe_quote(uint8_t **quote, size_t *quote_len, const cocoon_sim_qe *qe,
                        const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t *qe_report_info);

#endif
