/*
 * The simulated Azure vTPM (see vtpm_sim.h): what the paravisor and the
 * vTPM would produce, built with the same structures the verifier reads
 * (libtss2-mu marshals the TPMS_ATTEST), so the whole az-snp-vtpm path
 * runs without Azure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>
#include "cocoon/sim.h"
#include "cocoon/token.h"
#include "common/util.h"
#include "sim/vtpm_sim.h"
#include "vtpm/vtpm_int.h"

#define AK_REL "azure/ak-key.pem"
#define SIM_FIRMWARE_VERSION 0x2020031200120003ull /* as in every Azure quote */

static int save_ak(EVP_PKEY *ak, const char *dir, const char *path)
{
	char *sub = cocoon_sim_path(dir, "azure");
	FILE *f = NULL;
	int fd, err = 0;

	if (!sub)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if (mkdir(sub, 0700) != 0 && errno != EEXIST)
		err = cocoon_error_set(COCOON_EIO, "%s: cannot create: %s", sub, strerror(errno));
	free(sub);
	if (err)
		return err;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return cocoon_error_set(COCOON_EIO, "%s: cannot create: %s", path, strerror(errno));
	if (!(f = fdopen(fd, "wb"))) {
		close(fd);
		return cocoon_error_set(COCOON_EIO, "%s: %s", path, strerror(errno));
	}
	if (!PEM_write_PrivateKey(f, ak, NULL, NULL, 0, NULL, NULL))
		err = cocoon_error_set_openssl(COCOON_EIO, "%s: writing the simulated AK", path);
	if (fclose(f) != 0 && !err)
		err = cocoon_error_set(COCOON_EIO, "%s: %s", path, strerror(errno));
	return err;
}

int cocoon_sim_vtpm_ak(EVP_PKEY **out, const char *dir)
{
	char *path = cocoon_sim_path(dir, AK_REL);
	FILE *f;
	int err = 0;

	*out = NULL;
	if (!path)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	if ((f = fopen(path, "rb")) != NULL) {
		*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (!*out || !EVP_PKEY_is_a(*out, "RSA"))
			err = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: not an RSA private key", path);
	} else if (!(*out = EVP_RSA_gen(2048))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "generating the simulated AK");
	} else {
		err = save_ak(*out, dir, path);
	}
	if (err) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	free(path);
	return err;
}

static int jwk_param(char **out, EVP_PKEY *ak, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t buf[512];
	int n, err;

	*out = NULL;
	if (!EVP_PKEY_get_bn_param(ak, name, &bn) || (n = BN_num_bytes(bn)) <= 0 || (size_t)n > sizeof(buf)) {
		BN_free(bn);
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated AK: RSA parameter %s", name);
	}
	BN_bn2bin(bn, buf);
	BN_free(bn);
	err = cocoon_b64url_encode(out, buf, (size_t)n);
	return err;
}

static void set(int *bad, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = 1;
}

int cocoon_sim_vtpm_runtime_claims(char **out, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p)
{
	json_t *root = json_object(), *key = json_object(), *keys = json_array(), *ops = json_array(),
	       *cfg = json_object();
	char *n = NULL, *e = NULL, user[129] = { 0 };
	uint8_t ud[64] = { 0 };
	int bad = !root || !key || !keys || !ops || !cfg, err = 0;

	*out = NULL;
	if (p->nonce_len > 64)
		bad = 1;
	if ((err = jwk_param(&n, ak, OSSL_PKEY_PARAM_RSA_N)) != 0 || (err = jwk_param(&e, ak, OSSL_PKEY_PARAM_RSA_E)) != 0)
		goto done;
	if (!bad) {
		memcpy(ud, p->nonce, p->nonce_len);
		cocoon_hex_encode(user, ud, sizeof(ud));
		bad |= json_array_append_new(ops, json_string("sign")) < 0;
	}
	set(&bad, key, "kid", json_string("HCLAkPub"));
	set(&bad, key, "key_ops", ops);
	ops = NULL;
	set(&bad, key, "kty", json_string("RSA"));
	set(&bad, key, "e", json_string(e));
	set(&bad, key, "n", json_string(n));
	if (!bad && json_array_append(keys, key) < 0)
		bad = 1;
	set(&bad, root, "keys", keys);
	keys = NULL;
	set(&bad, cfg, "console-enabled", json_false());
	set(&bad, cfg, "secure-boot", json_boolean(p->secure_boot));
	set(&bad, cfg, "tpm-enabled", json_true());
	set(&bad, cfg, "tpm-persisted", json_false());
	set(&bad, cfg, "vmUniqueId",
	    json_string(p->vm_unique_id ? p->vm_unique_id : "00000000-c0c0-4000-8000-00000000c0c0"));
	set(&bad, root, "vm-configuration", cfg);
	cfg = NULL;
	set(&bad, root, "user-data", json_string(user));
	if (bad)
		err = cocoon_error_set(COCOON_ENOMEM, "simulated runtime claims: out of memory or a nonce over 64 bytes");
	else if (!(*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		err = cocoon_error_set(COCOON_ENOMEM, "simulated runtime claims: out of memory");
done:
	json_decref(root);
	json_decref(key);
	json_decref(keys);
	json_decref(ops);
	json_decref(cfg);
	free(n);
	free(e);
	return err;
}

int cocoon_sim_hcl_report(uint8_t **out, size_t *out_len, const uint8_t *hw, size_t hw_len, uint32_t report_type,
                          uint32_t hash_type, const uint8_t *var, size_t var_len)
{
	size_t len = COCOON_HCL_VAR_DATA_OFFSET + var_len;
	uint8_t *b;

	*out = NULL;
	*out_len = 0;
	if (hw_len > COCOON_HCL_HW_REPORT_SIZE || len > COCOON_SIM_VTPM_MAX_HCL)
		return cocoon_error_set(COCOON_EINVAL,
		                        "simulated HCL report: %zu bytes of runtime claims make %zu bytes, over %d", var_len,
		                        len, COCOON_SIM_VTPM_MAX_HCL);
	if (!(b = calloc(1, len)))
		return cocoon_error_set(COCOON_ENOMEM, "simulated HCL report: out of memory");
	memcpy(b, "HCLA", 4);
	cocoon_put_le32(b + HCL_OFF_HEADER_VERSION, 2);
	cocoon_put_le32(b + HCL_OFF_REPORT_SIZE, (uint32_t)len);
	cocoon_put_le32(b + HCL_OFF_REQUEST_TYPE, 2);
	memcpy(b + HCL_OFF_HW_REPORT, hw, hw_len);
	cocoon_put_le32(b + HCL_OFF_DATA_SIZE, (uint32_t)(HCL_IGVM_FIXED + var_len));
	cocoon_put_le32(b + HCL_OFF_IGVM_VERSION, 1);
	cocoon_put_le32(b + HCL_OFF_REPORT_TYPE, report_type);
	cocoon_put_le32(b + HCL_OFF_HASH_TYPE, hash_type);
	cocoon_put_le32(b + HCL_OFF_VAR_DATA_SIZE, (uint32_t)var_len);
	memcpy(b + COCOON_HCL_VAR_DATA_OFFSET, var, var_len);
	*out = b;
	*out_len = len;
	return 0;
}

static int sign_rsassa(uint8_t **sig, size_t *sig_len, EVP_PKEY *ak, const uint8_t *msg, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int err = 0;

	*sig = NULL;
	*sig_len = (size_t)EVP_PKEY_get_size(ak);
	if (!ctx || !(*sig = malloc(*sig_len)) || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, ak) != 1 ||
	    EVP_DigestSign(ctx, *sig, sig_len, msg, len) != 1) {
		free(*sig);
		*sig = NULL;
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated AK: signing the quote");
	}
	EVP_MD_CTX_free(ctx);
	return err;
}

int cocoon_sim_vtpm_quote(cocoon_vtpm_evidence *ev, EVP_PKEY *ak, const uint8_t *nonce, size_t nonce_len,
                          const uint8_t pcrs[24][32])
{
	TPMS_ATTEST a;
	uint8_t buf[sizeof(TPMS_ATTEST)], *der = NULL;
	size_t off = 0;
	int der_len;
	EVP_MD_CTX *ctx;
	int ok;

	if (nonce_len > sizeof(a.extraData.buffer))
		return cocoon_error_set(COCOON_EINVAL, "simulated quote: nonce over 64 bytes");
	memset(&a, 0, sizeof(a));
	a.magic = TPM2_GENERATED_VALUE;
	a.type = TPM2_ST_ATTEST_QUOTE;
	/* qualifiedSigner: a SHA-256 name of the AK (the verifier does not read it). */
	if ((der_len = i2d_PUBKEY(ak, &der)) <= 0)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated AK");
	a.qualifiedSigner.size = 34;
	a.qualifiedSigner.name[1] = 0x0B;
	EVP_Digest(der, (size_t)der_len, a.qualifiedSigner.name + 2, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	a.extraData.size = (UINT16)nonce_len;
	memcpy(a.extraData.buffer, nonce, nonce_len);
	a.clockInfo.clock = (UINT64)time(NULL) * 1000;
	a.clockInfo.safe = 1;
	a.firmwareVersion = SIM_FIRMWARE_VERSION;
	a.attested.quote.pcrSelect.count = 1;
	a.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	a.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	memset(a.attested.quote.pcrSelect.pcrSelections[0].pcrSelect, 0xff, 3);
	a.attested.quote.pcrDigest.size = 32;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(ctx, pcrs, 24 * 32) == 1 &&
	     EVP_DigestFinal_ex(ctx, a.attested.quote.pcrDigest.buffer, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated quote: PCR digest");
	if (Tss2_MU_TPMS_ATTEST_Marshal(&a, buf, sizeof(buf), &off) != TSS2_RC_SUCCESS)
		return cocoon_error_set(COCOON_EINTERNAL, "simulated quote: marshalling TPMS_ATTEST failed");
	if (!(ev->quote_msg = malloc(off)))
		return cocoon_error_set(COCOON_ENOMEM, "simulated quote: out of memory");
	memcpy(ev->quote_msg, buf, off);
	ev->quote_msg_len = off;
	memcpy(ev->pcrs, pcrs, 24 * 32);
	ev->n_pcrs = 24;
	return sign_rsassa(&ev->quote_sig, &ev->quote_sig_len, ak, ev->quote_msg, off);
}

/* Deterministic, non-zero PCR values so that claims and policies have something to test. */
static void sim_pcrs(uint8_t pcrs[24][32])
{
	for (unsigned i = 0; i < 24; i++) {
		char tag[32];
		int n = snprintf(tag, sizeof(tag), "cocoon simulated PCR %u", i);
		EVP_Digest(tag, (size_t)n, pcrs[i], NULL, EVP_sha256(), NULL);
	}
}

int cocoon_sim_az_snp_hcl(uint8_t **out, size_t *out_len, const cocoon_sim_snp_pki *pki, EVP_PKEY *ak,
                          const cocoon_sim_vtpm_params *p)
{
	cocoon_sim_snp_report_params q;
	cocoon_hcl_report h = { 0 };
	uint8_t report[COCOON_SNP_REPORT_SIZE], digest[64];
	char *var = NULL;
	size_t n;
	int err;

	*out = NULL;
	h.hash_type = p->hash_type ? p->hash_type : COCOON_HCL_HASH_SHA256;
	if (h.hash_type > COCOON_HCL_HASH_SHA512 || !p->nonce || !p->nonce_len || p->nonce_len > 64)
		return cocoon_error_set(COCOON_EINVAL, "simulated az-snp-vtpm: hash type 1..3 and a 1..64-byte nonce");
	if ((err = cocoon_sim_vtpm_runtime_claims(&var, ak, p)) != 0)
		goto done;
	h.var_data = (const uint8_t *)var;
	h.var_data_len = strlen(var);
	if ((err = cocoon_hcl_var_data_digest(digest, &n, &h)) != 0 ||
	    (err = cocoon_sim_snp_report_params_init(&q, pki, 3)) != 0)
		goto done;
	/* REPORT_DATA binds the runtime claims; the HCL guest runs at VMPL 0. */
	memset(q.report_data, 0, sizeof(q.report_data));
	memcpy(q.report_data, digest, n);
	q.vmpl = 0;
	if (p->measurement)
		memcpy(q.measurement, p->measurement, 48);
	if ((err = cocoon_sim_snp_report(report, pki, &q)) == 0)
		err = cocoon_sim_hcl_report(out, out_len, report, sizeof(report), COCOON_HCL_REPORT_TYPE_SNP, h.hash_type,
		                            h.var_data, h.var_data_len);
done:
	free(var);
	return err;
}

int cocoon_sim_az_snp_evidence(char **out, const cocoon_sim_snp_pki *pki, EVP_PKEY *ak,
                               const cocoon_sim_vtpm_params *p)
{
	cocoon_vtpm_evidence ev = { .format = COCOON_VTPM_FORMAT_AZ_SNP, .version = 2 };
	uint8_t pcrs[24][32];
	uint8_t *der = NULL;
	int der_len, err;

	*out = NULL;
	if ((err = cocoon_sim_az_snp_hcl(&ev.hcl_report, &ev.hcl_report_len, pki, ak, p)) != 0)
		goto done;
	sim_pcrs(pcrs);
	if ((err = cocoon_sim_vtpm_quote(&ev, ak, p->nonce, p->nonce_len, (const uint8_t(*)[32])pcrs)) != 0)
		goto done;
	if ((der_len = i2d_X509(pki->vcek_cert, &der)) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated VCEK");
		goto done;
	}
	ev.vcek = der;
	ev.vcek_len = (size_t)der_len;
	err = cocoon_vtpm_evidence_to_json(out, &ev);
done:
	free(ev.hcl_report);
	free(ev.quote_msg);
	free(ev.quote_sig);
	OPENSSL_free(der);
	return err;
}

/* A TDREPORT with the quote body's fields and consistent TEE_TCB_INFO / TDINFO hashes (MAC: random). */
static int sim_tdreport(uint8_t t[COCOON_HCL_TD_REPORT_SIZE], const cocoon_sim_quote_params *q)
{
	memset(t, 0, COCOON_HCL_TD_REPORT_SIZE);
	t[0] = 0x81; /* REPORTTYPE: TDX */
	memcpy(t + 16, q->tee_tcb_svn, 16);     /* CPUSVN stand-in */
	memcpy(t + TDREPORT_OFF_REPORT_DATA, q->report_data, 64);
	if (RAND_bytes(t + 224, 32) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated TDREPORT MAC");
	memset(t + TDREPORT_OFF_TEE_TCB_INFO, 0xff, 8); /* VALID */
	memcpy(t + 264, q->tee_tcb_svn, 16);
	memcpy(t + 280, q->mr_seam, 48);
	memcpy(t + 328, q->mr_signer_seam, 48);
	memcpy(t + 376, q->seam_attributes, 8);
	memcpy(t + 384, q->tee_tcb_svn2, 16);
	memcpy(t + 512, q->td_attributes, 8);
	memcpy(t + 520, q->xfam, 8);
	memcpy(t + 528, q->mr_td, 48);
	memcpy(t + 576, q->mr_config_id, 48);
	memcpy(t + 624, q->mr_owner, 48);
	memcpy(t + 672, q->mr_owner_config, 48);
	memcpy(t + 720, q->rtmr, 4 * 48);
	memcpy(t + 912, q->mr_service_td, 48);
	if (!EVP_Digest(t + TDREPORT_OFF_TEE_TCB_INFO, TDREPORT_TEE_TCB_INFO_LEN, t + TDREPORT_OFF_TCB_INFO_HASH, NULL,
	                EVP_sha384(), NULL) ||
	    !EVP_Digest(t + TDREPORT_OFF_TD_INFO, TDREPORT_TD_INFO_LEN, t + TDREPORT_OFF_TD_INFO_HASH, NULL, EVP_sha384(),
	                NULL))
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "simulated TDREPORT hashes");
	return 0;
}

int cocoon_sim_az_tdx_hcl(uint8_t **hcl, size_t *hcl_len, uint8_t **td_quote, size_t *td_quote_len,
                          const cocoon_sim_pki *pki, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p)
{
	cocoon_sim_quote_params q;
	cocoon_hcl_report h = { 0 };
	uint8_t tdreport[COCOON_HCL_TD_REPORT_SIZE], digest[64];
	char *var = NULL;
	size_t n;
	int err;

	*hcl = *td_quote = NULL;
	h.hash_type = p->hash_type ? p->hash_type : COCOON_HCL_HASH_SHA256;
	if (h.hash_type > COCOON_HCL_HASH_SHA512 || !p->nonce || !p->nonce_len || p->nonce_len > 64)
		return cocoon_error_set(COCOON_EINVAL, "simulated az-tdx-vtpm: hash type 1..3 and a 1..64-byte nonce");
	if ((err = cocoon_sim_vtpm_runtime_claims(&var, ak, p)) != 0)
		goto done;
	h.var_data = (const uint8_t *)var;
	h.var_data_len = strlen(var);
	if ((err = cocoon_hcl_var_data_digest(digest, &n, &h)) != 0)
		goto done;
	/* The TD quote IMDS would make from the TDREPORT: same body, REPORTDATA binding the claims. */
	cocoon_sim_quote_params_init(&q, 4, 2);
	memcpy(q.report_data, digest, n);
	if (p->measurement)
		memcpy(q.mr_td, p->measurement, 48);
	if ((err = sim_tdreport(tdreport, &q)) != 0 ||
	    (err = cocoon_sim_hcl_report(hcl, hcl_len, tdreport, sizeof(tdreport), COCOON_HCL_REPORT_TYPE_TDX,
	                                 h.hash_type, h.var_data, h.var_data_len)) != 0 ||
	    (err = cocoon_sim_quote(td_quote, td_quote_len, pki, &q)) != 0) {
		free(*hcl);
		*hcl = NULL;
	}
done:
	free(var);
	return err;
}

int cocoon_sim_az_tdx_evidence(char **out, const cocoon_sim_pki *pki, EVP_PKEY *ak, const cocoon_sim_vtpm_params *p)
{
	cocoon_vtpm_evidence ev = { .format = COCOON_VTPM_FORMAT_AZ_TDX, .version = 2 };
	uint8_t pcrs[24][32];
	int err;

	*out = NULL;
	if ((err = cocoon_sim_az_tdx_hcl(&ev.hcl_report, &ev.hcl_report_len, &ev.td_quote, &ev.td_quote_len, pki, ak,
	                                 p)) != 0)
		goto done;
	sim_pcrs(pcrs);
	if ((err = cocoon_sim_vtpm_quote(&ev, ak, p->nonce, p->nonce_len, (const uint8_t(*)[32])pcrs)) == 0)
		err = cocoon_vtpm_evidence_to_json(out, &ev);
done:
	free(ev.hcl_report);
	free(ev.quote_msg);
	free(ev.quote_sig);
	free(ev.td_quote);
	return err;
}
