/*
 * The simulated QE3: quotes app enclave reports with the simulation
 * directory's attestation key. The parts of a quote that do not depend on
 * the report (QE report and its PCK signature, auth data, PCK chain) are
 * built once when the QE opens; each quote then costs one MAC check and one
 * ECDSA-P256 signature, as on a real QE.
 */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "dcap/quote.h"
#include "sim/sim_dir.h"
#include "sim/sim_report.h"

/* v3 quote offsets for ECDSA-P256 signature data. */
#define Q_BODY 48
#define Q_SIGNED_LEN 432
#define Q_SIG_LEN 432
#define Q_SIG 436
#define Q_ATT_KEY 500
#define Q_QE_REPORT 564
#define Q_QE_REPORT_SIG 948
#define Q_FIXED_END 1052 /* through the certification data header */
#define BODY_MR_ENCLAVE 64
#define BODY_REPORT_DATA 320
#define QRI_NONCE 0
#define QRI_APP_TARGET 16
#define QRI_QE_REPORT 528

const uint8_t cocoon_sim_qe_mrenclave[32] = {
	0xe9, 0x6b, 0x33, 0xcf, 0xb1, 0x5a, 0xd8, 0x20, 0x69, 0xe9, 0x30, 0x02, 0x8f, 0xdd, 0x49, 0xa6,
	0x64, 0xdd, 0xff, 0xa9, 0x10, 0x3a, 0xc5, 0xde, 0x1c, 0xf5, 0x8a, 0xd3, 0xd6, 0xd8, 0xbd, 0x7b,
};

struct cocoon_sim_qe {
	EVP_PKEY *att_key;
	uint8_t *tmpl;          /* a quote with an empty body and signature */
	size_t tmpl_len;
	uint8_t qe_body[COCOON_SGX_REPORT_BODY_SIZE];
	uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE];
	uint8_t pub_key_id[COCOON_SGX_PUB_KEY_ID_SIZE];
	uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE];
};

void cocoon_sim_qe_free(cocoon_sim_qe *qe)
{
	if (!qe)
		return;
	EVP_PKEY_free(qe->att_key);
	free(qe->tmpl);
	cocoon_zeroize(qe->root, sizeof(qe->root));
	free(qe);
}

/* Builds the template from a simulator quote, giving the QE report our QE's MRENCLAVE. */
static int qe_template(cocoon_sim_qe *qe, const cocoon_sim_pki *p)
{
	cocoon_sim_quote_params qp;
	const void *parts[1];
	size_t lens[1];
	int err;

	cocoon_sim_quote_params_init(&qp, 3, 1);
	if ((err = cocoon_sim_quote(&qe->tmpl, &qe->tmpl_len, p, &qp)) != 0)
		return err;
	if (qe->tmpl_len < Q_FIXED_END || cocoon_le16(qe->tmpl) != 3 ||
	    cocoon_le32(qe->tmpl + Q_SIG_LEN) != qe->tmpl_len - Q_SIG)
		return cocoon_error_set(COCOON_EINTERNAL, "sim QE: the simulator wrote an unexpected v3 layout "
		                        "(%zu bytes)", qe->tmpl_len);
	memcpy(qe->tmpl + Q_QE_REPORT + BODY_MR_ENCLAVE, cocoon_sim_qe_mrenclave, 32);
	if ((err = cocoon_sim_sign_raw(qe->tmpl + Q_QE_REPORT_SIG, p->pck_key, qe->tmpl + Q_QE_REPORT,
	                               COCOON_SGX_REPORT_BODY_SIZE)) != 0)
		return err;
	memcpy(qe->qe_body, qe->tmpl + Q_QE_REPORT, COCOON_SGX_REPORT_BODY_SIZE);
	cocoon_sim_target_info_of(qe->target_info, qe->qe_body);
	parts[0] = qe->tmpl + Q_ATT_KEY;
	lens[0] = 64;
	if ((err = cocoon_sha256(qe->pub_key_id, 1, parts, lens)) != 0)
		return err;
	/* The per-quote parts stay empty until a report fills them. */
	memset(qe->tmpl + Q_BODY, 0, COCOON_SGX_REPORT_BODY_SIZE);
	memset(qe->tmpl + Q_SIG, 0, 64);
	return 0;
}

int cocoon_sim_qe_open(cocoon_sim_qe **out, const char *dir)
{
	cocoon_sim_pki *p = NULL;
	cocoon_sim_qe *qe = NULL;
	int err;

	*out = NULL;
	if (!dir || !*dir)
		return cocoon_error_set(COCOON_EINVAL, "sim QE: a simulation directory is required");
	if (!(qe = calloc(1, sizeof(*qe)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim QE: out of memory");
		goto done;
	}
	if ((err = cocoon_sim_pki_load(&p, dir)) != 0 || (err = qe_template(qe, p)) != 0 ||
	    (err = cocoon_sim_report_root(qe->root, p)) != 0)
		goto done;
	if (EVP_PKEY_up_ref(p->att_key) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim QE: cannot reference the attestation key");
		goto done;
	}
	qe->att_key = p->att_key;
	*out = qe;
	qe = NULL;
done:
	cocoon_sim_pki_free(p);
	cocoon_sim_qe_free(qe);
	return err;
}

void cocoon_sim_qe_target_info(uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE], const cocoon_sim_qe *qe)
{
	memcpy(target_info, qe->target_info, COCOON_SGX_TARGET_INFO_SIZE);
}

void cocoon_sim_qe_pub_key_id(uint8_t id[COCOON_SGX_PUB_KEY_ID_SIZE], const cocoon_sim_qe *qe)
{
	memcpy(id, qe->pub_key_id, COCOON_SGX_PUB_KEY_ID_SIZE);
}

size_t cocoon_sim_qe_quote_size(const cocoon_sim_qe *qe)
{
	return qe->tmpl_len;
}

void cocoon_sim_qe_report_root(uint8_t root[COCOON_SIM_REPORT_ROOT_SIZE], const cocoon_sim_qe *qe)
{
	memcpy(root, qe->root, COCOON_SIM_REPORT_ROOT_SIZE);
}

/* The QE report for qe_report_info: proves the quote came from this QE to the app enclave. */
static int qe_report_for_app(const cocoon_sim_qe *qe, uint8_t qri[COCOON_SGX_QE_REPORT_INFO_SIZE],
                             const uint8_t *quote, size_t quote_len)
{
	uint8_t body[COCOON_SGX_REPORT_BODY_SIZE];
	const void *parts[2] = { qri + QRI_NONCE, quote };
	size_t lens[2] = { 16, quote_len };
	int err;

	memcpy(body, qe->qe_body, sizeof(body));
	memset(body + BODY_REPORT_DATA, 0, 64);
	if ((err = cocoon_sha256(body + BODY_REPORT_DATA, 2, parts, lens)) != 0)
		return err;
	return cocoon_sim_report_create(qri + QRI_QE_REPORT, qe->root, qri + QRI_APP_TARGET, body);
}

int cocoon_sim_qe_quote(uint8_t **quote, size_t *quote_len, const cocoon_sim_qe *qe,
                        const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t *qe_report_info)
{
	uint8_t *q = NULL;
	int err;

	*quote = NULL;
	*quote_len = 0;
	if (!qe || !report)
		return cocoon_error_set(COCOON_EINVAL, "sim QE: a QE and an app report are required");
	if ((err = cocoon_sim_report_verify(qe->root, qe->target_info, report)) != 0)
		return err;
	if (!(q = malloc(qe->tmpl_len)))
		return cocoon_error_set(COCOON_ENOMEM, "sim QE: out of memory for a %zu-byte quote", qe->tmpl_len);
	memcpy(q, qe->tmpl, qe->tmpl_len);
	memcpy(q + Q_BODY, report, COCOON_SGX_REPORT_BODY_SIZE);
	if ((err = cocoon_sim_sign_raw(q + Q_SIG, qe->att_key, q, Q_SIGNED_LEN)) != 0)
		goto done;
	if (qe_report_info && (err = qe_report_for_app(qe, qe_report_info, q, qe->tmpl_len)) != 0)
		goto done;
	*quote = q;
	*quote_len = qe->tmpl_len;
	q = NULL;
done:
	free(q);
	return err;
}
