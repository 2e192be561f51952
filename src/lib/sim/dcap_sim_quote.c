/*
 * Simulated DCAP quotes: v3 (SGX), v4 (TD10) and v5 (SGX, TD10, TD15) in
 * the exact byte layout documented in dcap/quote.h, signed like Intel's QE:
 * the QE report by the PCK key, the quote by the attestation key.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include "common/util.h"
#include "dcap/quote.h"
#include "sim/dcap_sim.h"

/* Intel's production QE and TD QE MRSIGNER values (public, from Intel's QE identities). */
const uint8_t cocoon_sim_qe_mrsigner_sgx[32] = {
	0x8c, 0x4f, 0x57, 0x75, 0xd7, 0x96, 0x50, 0x3e, 0x96, 0x13, 0x7f, 0x77, 0xc6, 0x8a, 0x82, 0x9a,
	0x00, 0x56, 0xac, 0x8d, 0xed, 0x70, 0x14, 0x0b, 0x08, 0x1b, 0x09, 0x44, 0x90, 0xc5, 0x7b, 0xff,
};
const uint8_t cocoon_sim_qe_mrsigner_td[32] = {
	0xdc, 0x9e, 0x2a, 0x7c, 0x6f, 0x94, 0x8f, 0x17, 0x47, 0x4e, 0x34, 0xa7, 0xfc, 0x43, 0xed, 0x03,
	0x0f, 0x7c, 0x15, 0x63, 0xf1, 0xba, 0xbd, 0xdf, 0x63, 0x40, 0xc8, 0x2e, 0x0e, 0x54, 0xa8, 0xc5,
};

/* Intel's QE vendor ID; kept here so the simulator does not depend on the parser. */
static const uint8_t sim_intel_vendor_id[16] = {
	0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

#define SIM_SIG_LEN 64
#define SIM_KEY_LEN 64
/* Far above any real PCK chain; keeps every u32 length in range. */
#define SIM_CHAIN_MAX (1u << 20)

void cocoon_sim_quote_params_init(cocoon_sim_quote_params *q, int version, int body_type)
{
	int td;

	memset(q, 0, sizeof(*q));
	if (body_type <= 0 && (version == 3 || version == 4))
		body_type = version == 3 ? COCOON_BODY_SGX : COCOON_BODY_TD10;
	q->version = version;
	q->body_type = body_type;
	td = body_type == COCOON_BODY_TD10 || body_type == COCOON_BODY_TD15;

	q->attributes[0] = 0x05;          /* INIT | MODE64BIT, DEBUG clear */
	q->attributes[8] = 0x03;          /* XFRM: x87 | SSE */
	q->tee_tcb_svn[0] = 3;
	q->tee_tcb_svn[2] = 2;            /* byte 1 (TDX module major version) stays 0 */
	q->td_attributes[3] = 0x10;       /* SEPT_VE_DISABLE, bit 28 of the little-endian u64 */
	q->xfam[0] = 0xe7;
	q->xfam[1] = 0x02;
	q->xfam[2] = 0x06;

	memcpy(q->qe_mrsigner, td ? cocoon_sim_qe_mrsigner_td : cocoon_sim_qe_mrsigner_sgx, 32);
	q->qe_isv_prod_id = td ? 2 : 1;
	q->qe_isv_svn = 8;
	q->qe_misc_select = 0;
	q->qe_attributes[0] = 0x11;       /* INIT | PROVISIONKEY */
	memcpy(q->qe_vendor_id, sim_intel_vendor_id, sizeof(sim_intel_vendor_id));
	q->qe_svn = 8;
	q->pce_svn = 11;
	q->qe_auth_len = 32;
}

/* Returns the body size for a supported version/body pair, else 0. */
static size_t sim_body_size(int version, int body_type)
{
	size_t size = body_type == COCOON_BODY_SGX    ? COCOON_SGX_REPORT_SIZE
	              : body_type == COCOON_BODY_TD10 ? COCOON_TD10_REPORT_SIZE
	              : body_type == COCOON_BODY_TD15 ? COCOON_TD15_REPORT_SIZE
	                                              : 0;

	if (version == 3)
		return body_type == COCOON_BODY_SGX ? size : 0;
	if (version == 4)
		return body_type == COCOON_BODY_TD10 ? size : 0;
	return version == 5 ? size : 0;
}

/* A bounded writer over a buffer sized exactly in advance. */
typedef struct {
	uint8_t *buf;
	size_t len, pos;
	int overflow;
} sim_writer;

static uint8_t *sim_put(sim_writer *w, const void *data, size_t n)
{
	uint8_t *at;

	if (w->overflow || n > w->len - w->pos) {
		w->overflow = 1;
		return NULL;
	}
	at = w->buf + w->pos;
	if (data)
		memcpy(at, data, n);
	w->pos += n;
	return at;
}

static void sim_put_le16(sim_writer *w, uint16_t v)
{
	uint8_t b[2];
	cocoon_put_le16(b, v);
	sim_put(w, b, sizeof(b));
}

static void sim_put_le32(sim_writer *w, uint32_t v)
{
	uint8_t b[4];
	cocoon_put_le32(b, v);
	sim_put(w, b, sizeof(b));
}

/* Encodes the 384-byte SGX report (offsets per Intel's sgx_report_body_t). */
static void sim_sgx_report_write(sim_writer *w, const cocoon_sgx_report *r)
{
	sim_put(w, r->cpu_svn, 16);
	sim_put_le32(w, r->misc_select);
	sim_put(w, r->reserved1, 12);
	sim_put(w, r->isv_ext_prod_id, 16);
	sim_put(w, r->attributes, 16);
	sim_put(w, r->mr_enclave, 32);
	sim_put(w, r->reserved2, 32);
	sim_put(w, r->mr_signer, 32);
	sim_put(w, r->reserved3, 32);
	sim_put(w, r->config_id, 64);
	sim_put_le16(w, r->isv_prod_id);
	sim_put_le16(w, r->isv_svn);
	sim_put_le16(w, r->config_svn);
	sim_put(w, r->reserved4, 42);
	sim_put(w, r->isv_family_id, 16);
	sim_put(w, r->report_data, 64);
}

/* Encodes a TD10 (584) or TD15 (648) report body. */
static void sim_td_report_write(sim_writer *w, const cocoon_sim_quote_params *q)
{
	sim_put(w, q->tee_tcb_svn, 16);
	sim_put(w, q->mr_seam, 48);
	sim_put(w, q->mr_signer_seam, 48);
	sim_put(w, q->seam_attributes, 8);
	sim_put(w, q->td_attributes, 8);
	sim_put(w, q->xfam, 8);
	sim_put(w, q->mr_td, 48);
	sim_put(w, q->mr_config_id, 48);
	sim_put(w, q->mr_owner, 48);
	sim_put(w, q->mr_owner_config, 48);
	sim_put(w, q->rtmr, sizeof(q->rtmr));
	sim_put(w, q->report_data, 64);
	if (q->body_type == COCOON_BODY_TD15) {
		sim_put(w, q->tee_tcb_svn2, 16);
		sim_put(w, q->mr_service_td, 48);
	}
}

static void sim_header_write(sim_writer *w, const cocoon_sim_quote_params *q)
{
	static const uint8_t user_data[20];

	sim_put_le16(w, (uint16_t)q->version);
	sim_put_le16(w, COCOON_ATT_KEY_ECDSA_P256);
	/* v3 has 4 reserved zero bytes here, which equals the SGX TEE type. */
	sim_put_le32(w, q->body_type == COCOON_BODY_SGX ? COCOON_TEE_TYPE_SGX : COCOON_TEE_TYPE_TDX);
	sim_put_le16(w, q->version == 3 ? q->qe_svn : 0);
	sim_put_le16(w, q->version == 3 ? q->pce_svn : 0);
	sim_put(w, q->qe_vendor_id, 16);
	sim_put(w, user_data, sizeof(user_data));
}

static void sim_body_write(sim_writer *w, const cocoon_sim_pki *p, const cocoon_sim_quote_params *q)
{
	cocoon_sgx_report r;

	if (q->body_type != COCOON_BODY_SGX) {
		sim_td_report_write(w, q);
		return;
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.cpu_svn, p->opts.cpu_svn, 16);
	memcpy(r.attributes, q->attributes, 16);
	memcpy(r.mr_enclave, q->mr_enclave, 32);
	memcpy(r.config_id, q->config_id, 64);
	memcpy(r.mr_signer, q->mr_signer, 32);
	r.isv_prod_id = q->isv_prod_id;
	r.isv_svn = q->isv_svn;
	memcpy(r.report_data, q->report_data, 64);
	sim_sgx_report_write(w, &r);
}

/* The attestation key as Intel stores it: raw x || y. */
static int sim_att_key_raw(uint8_t out[SIM_KEY_LEN], EVP_PKEY *key)
{
	uint8_t pub[1 + SIM_KEY_LEN];
	size_t len = 0;

	if (!key || EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len) != 1 ||
	    len != sizeof(pub) || pub[0] != 0x04)
		return cocoon_error_set_openssl(COCOON_EINTERNAL,
		                                "sim quote: attestation key is not an uncompressed P-256 point");
	memcpy(out, pub + 1, SIM_KEY_LEN);
	return 0;
}

/* QE report, its signature by the PCK key, auth data and the type-5 PCK chain. */
static int sim_qe_block_write(sim_writer *w, const cocoon_sim_pki *p, const cocoon_sim_quote_params *q,
                              const uint8_t att_key[SIM_KEY_LEN], const uint8_t *auth, const char *chain,
                              size_t chain_len)
{
	cocoon_sgx_report r;
	const void *parts[2] = {att_key, auth};
	size_t lens[2] = {SIM_KEY_LEN, q->qe_auth_len};
	uint8_t *raw, *sig;
	int err;

	memset(&r, 0, sizeof(r));
	memcpy(r.cpu_svn, p->opts.cpu_svn, 16);
	r.misc_select = q->qe_misc_select;
	memcpy(r.attributes, q->qe_attributes, 16);
	memcpy(r.mr_signer, q->qe_mrsigner, 32);
	r.isv_prod_id = q->qe_isv_prod_id;
	r.isv_svn = q->qe_isv_svn;
	/* Binds the attestation key to the QE: report_data = SHA-256(key || auth) || 32 zero bytes. */
	if ((err = cocoon_sha256(r.report_data, 2, parts, lens)) != 0)
		return err;
	raw = w->buf + w->pos;
	sim_sgx_report_write(w, &r);
	sig = sim_put(w, NULL, SIM_SIG_LEN);
	if (!sig)
		return cocoon_error_set(COCOON_EINTERNAL, "sim quote: QE report does not fit the buffer");
	if ((err = cocoon_sim_sign_raw(sig, p->pck_key, raw, COCOON_SGX_REPORT_SIZE)) != 0)
		return err;
	sim_put_le16(w, (uint16_t)q->qe_auth_len);
	sim_put(w, auth, q->qe_auth_len);
	sim_put_le16(w, COCOON_CERT_TYPE_PCK_CHAIN);
	sim_put_le32(w, (uint32_t)chain_len);
	sim_put(w, chain, chain_len);
	return 0;
}

int cocoon_sim_quote(uint8_t **out, size_t *out_len, const cocoon_sim_pki *p, const cocoon_sim_quote_params *q)
{
	sim_writer w = {0};
	char *pem = NULL;
	uint8_t *auth = NULL, *sig;
	uint8_t att_key[SIM_KEY_LEN];
	X509 *chain_certs[3];
	size_t body_size, signed_len, chain_len, qe_block, sig_len, total;
	int err = 0;

	*out = NULL;
	*out_len = 0;
	if (!p || !q) {
		err = cocoon_error_set(COCOON_EINVAL, "sim quote: needs a PKI and parameters");
		goto done;
	}
	if (!(body_size = sim_body_size(q->version, q->body_type))) {
		err = cocoon_error_set(COCOON_EINVAL,
		                       "sim quote: version %d with body type %d is not a DCAP layout "
		                       "(use 3/1, 4/2 or 5/1..3)", q->version, q->body_type);
		goto done;
	}
	if (q->qe_auth_len > UINT16_MAX) {
		err = cocoon_error_set(COCOON_EINVAL, "sim quote: qe_auth_len %zu exceeds the u16 field (max 65535)",
		                       q->qe_auth_len);
		goto done;
	}
	chain_certs[0] = p->pck_cert;
	chain_certs[1] = p->pck_ca_cert;
	chain_certs[2] = p->root_cert;
	if ((err = cocoon_sim_pem_certs(&pem, chain_certs, 3)) != 0 || (err = sim_att_key_raw(att_key, p->att_key)) != 0)
		goto done;
	/* Intel's QE writes the chain with its terminating NUL, and counts it in the length. */
	chain_len = strlen(pem) + 1;
	if (chain_len > SIM_CHAIN_MAX) {
		err = cocoon_error_set(COCOON_EINTERNAL, "sim quote: PCK chain of %zu bytes is implausibly large", chain_len);
		goto done;
	}
	qe_block = COCOON_SGX_REPORT_SIZE + SIM_SIG_LEN + 2 + q->qe_auth_len + 2 + 4 + chain_len;
	sig_len = SIM_SIG_LEN + SIM_KEY_LEN + (q->version == 3 ? 0 : 2 + 4) + qe_block;
	signed_len = COCOON_QUOTE_HEADER_SIZE + (q->version == 5 ? 2 + 4 : 0) + body_size;
	total = signed_len + 4 + sig_len;
	if (q->trailing_padding > SIZE_MAX - total) {
		err = cocoon_error_set(COCOON_EINVAL, "sim quote: trailing_padding %zu overflows the quote size",
		                       q->trailing_padding);
		goto done;
	}
	if (!(auth = malloc(q->qe_auth_len + 1)) || !(w.buf = calloc(1, total + q->trailing_padding))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim quote: out of memory for a %zu-byte quote",
		                       total + q->trailing_padding);
		goto done;
	}
	w.len = total;
	for (size_t i = 0; i < q->qe_auth_len; i++)
		auth[i] = (uint8_t)i;

	sim_header_write(&w, q);
	if (q->version == 5) {
		sim_put_le16(&w, (uint16_t)q->body_type);
		sim_put_le32(&w, (uint32_t)body_size);
	}
	sim_body_write(&w, p, q);
	sim_put_le32(&w, (uint32_t)sig_len);
	sig = sim_put(&w, NULL, SIM_SIG_LEN);
	sim_put(&w, att_key, SIM_KEY_LEN);
	if (q->version != 3) {
		sim_put_le16(&w, COCOON_CERT_TYPE_QE_REPORT);
		sim_put_le32(&w, (uint32_t)qe_block);
	}
	if (w.overflow || (err = sim_qe_block_write(&w, p, q, att_key, auth, pem, chain_len)) != 0)
		goto done;
	if (w.overflow || w.pos != total) {
		err = cocoon_error_set(COCOON_EINTERNAL, "sim quote: wrote %zu of %zu bytes", w.pos, total);
		goto done;
	}
	/* The quote signature covers the header and body, v5's type/size prefix included. */
	if ((err = cocoon_sim_sign_raw(sig, p->att_key, w.buf, signed_len)) != 0)
		goto done;
	*out = w.buf;
	*out_len = total + q->trailing_padding;
	w.buf = NULL;
done:
	free(w.buf);
	free(auth);
	free(pem);
	return err;
}
