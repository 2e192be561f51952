/*
 * Collecting Azure vTPM evidence on the guest with tpm2-tss ESAPI (see
 * cocoon_vtpm_collect in include/cocoon/vtpm.h). Only persistent objects and
 * NV indices are used, so no transient object is left loaded: this also
 * works over a TCTI without a resource manager (swtpm in the tests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <openssl/http.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>
#include "cocoon/token.h"
#include "dcap/x509.h"
#include "vtpm/vtpm_int.h"

#define DEFAULT_TCTI "device:/dev/tpmrm0"
#define NV_CHUNK 512 /* below every TPM's NV_BUFFER_MAX (swtpm: 1024) */
#define IMDS_MAX_RESPONSE (64 * 1024)
#define IMDS_TIMEOUT_S 10

typedef struct {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *esys;
} tpm;

static int tpm_fail(const char *what, TSS2_RC rc)
{
	return cocoon_error_set(COCOON_EIO, "vTPM: %s failed: %s (0x%x)", what, Tss2_RC_Decode(rc), (unsigned)rc);
}

static int tpm_open(tpm *t, const char *tcti)
{
	TSS2_RC rc;

	memset(t, 0, sizeof(*t));
	if ((rc = Tss2_TctiLdr_Initialize(tcti ? tcti : DEFAULT_TCTI, &t->tcti)) != TSS2_RC_SUCCESS)
		return cocoon_error_set(COCOON_ENOTFOUND, "vTPM: cannot open TCTI \"%s\": %s (0x%x)",
		                        tcti ? tcti : DEFAULT_TCTI, Tss2_RC_Decode(rc), (unsigned)rc);
	if ((rc = Esys_Initialize(&t->esys, t->tcti, NULL)) != TSS2_RC_SUCCESS)
		return tpm_fail("Esys_Initialize", rc);
	return 0;
}

static void tpm_close(tpm *t)
{
	if (t->esys)
		Esys_Finalize(&t->esys);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
}

/* NV 0x01400002 sized exactly to the data (guest-components redefines it when the size differs). */
static int write_report_data(tpm *t, const uint8_t *data, size_t len)
{
	TPM2B_NV_PUBLIC pub = { .nvPublic = { .nvIndex = COCOON_VTPM_NV_REPORT_DATA, .nameAlg = TPM2_ALG_SHA256,
		                              .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD,
		                              .dataSize = (UINT16)len } };
	TPM2B_NV_PUBLIC *cur = NULL;
	TPM2B_AUTH auth = { 0 };
	TPM2B_MAX_NV_BUFFER buf = { .size = (UINT16)len };
	ESYS_TR nv = ESYS_TR_NONE;
	TSS2_RC rc;

	if (Esys_TR_FromTPMPublic(t->esys, COCOON_VTPM_NV_REPORT_DATA, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
	                          &nv) == TSS2_RC_SUCCESS) {
		if ((rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &cur, NULL)) !=
		    TSS2_RC_SUCCESS)
			return tpm_fail("NV_ReadPublic 0x01400002", rc);
		if (cur->nvPublic.dataSize != len) {
			if ((rc = Esys_NV_UndefineSpace(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			                                ESYS_TR_NONE)) != TSS2_RC_SUCCESS) {
				Esys_Free(cur);
				return tpm_fail("NV_UndefineSpace 0x01400002", rc);
			}
			nv = ESYS_TR_NONE;
		}
		Esys_Free(cur);
	}
	if (nv == ESYS_TR_NONE &&
	    (rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth,
	                              &pub, &nv)) != TSS2_RC_SUCCESS)
		return tpm_fail("NV_DefineSpace 0x01400002", rc);
	memcpy(buf.buffer, data, len);
	if ((rc = Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &buf, 0)) !=
	    TSS2_RC_SUCCESS)
		return tpm_fail("NV_Write 0x01400002", rc);
	return 0;
}

static int read_hcl_report(tpm *t, uint8_t **out, size_t *out_len)
{
	TPM2B_NV_PUBLIC *pub = NULL;
	ESYS_TR nv = ESYS_TR_NONE;
	size_t size, off = 0;
	uint8_t *b;
	TSS2_RC rc;

	*out = NULL;
	if ((rc = Esys_TR_FromTPMPublic(t->esys, COCOON_VTPM_NV_HCL_REPORT, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
	                                &nv)) != TSS2_RC_SUCCESS)
		return cocoon_error_set(COCOON_ENOTFOUND,
		                        "vTPM: NV index 0x01400001 (the HCL report) is absent: this is not an Azure "
		                        "confidential VM (%s)",
		                        Tss2_RC_Decode(rc));
	if ((rc = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL)) !=
	    TSS2_RC_SUCCESS)
		return tpm_fail("NV_ReadPublic 0x01400001", rc);
	size = pub->nvPublic.dataSize;
	Esys_Free(pub);
	if (size < COCOON_HCL_MIN_SIZE || !(b = malloc(size)))
		return cocoon_error_set(size < COCOON_HCL_MIN_SIZE ? COCOON_EFORMAT : COCOON_ENOMEM,
		                        "vTPM: NV 0x01400001 holds %zu bytes, too few for an HCL report", size);
	while (off < size) {
		TPM2B_MAX_NV_BUFFER *chunk = NULL;
		UINT16 n = (UINT16)(size - off > NV_CHUNK ? NV_CHUNK : size - off);
		rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, n,
		                  (UINT16)off, &chunk);
		if (rc != TSS2_RC_SUCCESS || chunk->size != n) {
			Esys_Free(chunk);
			free(b);
			return rc != TSS2_RC_SUCCESS ? tpm_fail("NV_Read 0x01400001", rc)
			                             : cocoon_error_set(COCOON_EIO, "vTPM: NV_Read returned a short chunk");
		}
		memcpy(b + off, chunk->buffer, n);
		Esys_Free(chunk);
		off += n;
	}
	*out = b;
	*out_len = size;
	return 0;
}

static int quote(tpm *t, cocoon_vtpm_evidence *ev, const uint8_t *nonce, size_t len)
{
	TPM2B_DATA q = { .size = (UINT16)len };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION sel = { .count = 1 };
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	ESYS_TR ak = ESYS_TR_NONE;
	TSS2_RC rc;
	int err = 0;

	memcpy(q.buffer, nonce, len);
	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	memset(sel.pcrSelections[0].pcrSelect, 0xff, 3);
	if ((rc = Esys_TR_FromTPMPublic(t->esys, COCOON_VTPM_AK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak)) !=
	    TSS2_RC_SUCCESS)
		return cocoon_error_set(COCOON_ENOTFOUND, "vTPM: no attestation key at 0x81000003 (%s)",
		                        Tss2_RC_Decode(rc));
	if ((rc = Esys_Quote(t->esys, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &q, &scheme, &sel, &quoted,
	                     &sig)) != TSS2_RC_SUCCESS)
		return tpm_fail("Quote with the AK at 0x81000003", rc);
	if (sig->sigAlg != TPM2_ALG_RSASSA) {
		err = cocoon_error_set(COCOON_EUNSUPPORTED, "vTPM: the AK signed with algorithm 0x%04x, not RSASSA",
		                       (unsigned)sig->sigAlg);
	} else if (!(ev->quote_msg = malloc(quoted->size)) || !(ev->quote_sig = malloc(sig->signature.rsassa.sig.size))) {
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
	} else {
		memcpy(ev->quote_msg, quoted->attestationData, quoted->size);
		ev->quote_msg_len = quoted->size;
		memcpy(ev->quote_sig, sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size);
		ev->quote_sig_len = sig->signature.rsassa.sig.size;
	}
	Esys_Free(quoted);
	Esys_Free(sig);
	return err;
}

/* PCR_Read returns at most eight digests per call: one call per selection byte. */
static int read_pcrs(tpm *t, cocoon_vtpm_evidence *ev)
{
	for (int byte = 0; byte < 3; byte++) {
		TPML_PCR_SELECTION sel = { .count = 1 }, *sel_out = NULL;
		TPML_DIGEST *vals = NULL;
		UINT32 counter;
		TSS2_RC rc;
		int ok;

		sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
		sel.pcrSelections[0].sizeofSelect = 3;
		sel.pcrSelections[0].pcrSelect[byte] = 0xff;
		rc = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter, &sel_out, &vals);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("PCR_Read", rc);
		ok = vals->count == 8;
		for (UINT32 i = 0; ok && i < 8; i++) {
			ok = vals->digests[i].size == 32;
			if (ok)
				memcpy(ev->pcrs[byte * 8 + i], vals->digests[i].buffer, 32);
		}
		Esys_Free(sel_out);
		Esys_Free(vals);
		if (!ok)
			return cocoon_error_set(COCOON_EIO, "vTPM: PCR_Read did not return eight SHA-256 values for PCRs "
			                                    "%d..%d",
			                        byte * 8, byte * 8 + 7);
	}
	ev->n_pcrs = 24;
	return 0;
}

static int take_vcek(cocoon_vtpm_evidence *ev, const uint8_t *vcek, size_t len)
{
	X509 *x = NULL;
	uint8_t *der = NULL;
	int n;

	if (!vcek || !len)
		return cocoon_error_set(COCOON_EINVAL, "vTPM: az-snp-vtpm evidence needs the VCEK");
	if (cocoon_cert_parse(&x, vcek, len) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "vTPM: VCEK: %s", cocoon_error_last()->message);
	/* v1+ evidence carries DER. */
	n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0 || !(ev->vcek = malloc((size_t)n))) {
		OPENSSL_free(der);
		return cocoon_error_set(COCOON_ENOMEM, "vTPM: VCEK: out of memory");
	}
	memcpy(ev->vcek, der, (size_t)n);
	ev->vcek_len = (size_t)n;
	OPENSSL_free(der);
	return 0;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Reads a streamed answer (non-blocking socket) to EOF, within the timeout and the size bound. */
static int read_answer(cocoon_buf *body, BIO *resp, const char *url)
{
	char chunk[4096];
	int n;

	for (time_t deadline = time(NULL) + IMDS_TIMEOUT_S;;) {
		n = BIO_read(resp, chunk, sizeof(chunk));
		if (n > 0) {
			if (body->len + (size_t)n > IMDS_MAX_RESPONSE)
				return cocoon_error_set(COCOON_EFORMAT, "vTPM: the IMDS answer exceeds %d bytes",
				                        IMDS_MAX_RESPONSE);
			if (cocoon_buf_append(body, chunk, (size_t)n) != 0)
				return COCOON_ENOMEM;
			continue;
		}
		if (!BIO_should_retry(resp))
			return 0;
		if (time(NULL) > deadline)
			return cocoon_error_set(COCOON_EIO, "vTPM: IMDS at %.200s did not finish its answer in %d s", url,
			                        IMDS_TIMEOUT_S);
		sleep_ms(5);
	}
}

/*
 * One IMDS call: GET, or POST of a JSON body, with "Metadata: true"; plain
 * HTTP to the link-local address and never through a proxy. *out is the
 * answer's JSON object.
 */
static int imds_call(json_t **out, const char *url, const char *post_json, const char *what)
{
	STACK_OF(CONF_VALUE) *hdr = NULL;
	char *host = NULL, *port = NULL, *path = NULL;
	BIO *req = NULL, *resp = NULL;
	cocoon_buf body = { 0 };
	int ssl = 0, err = 0;

	*out = NULL;
	if (!X509V3_add_value("Metadata", "true", &hdr))
		return cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
	if (!OSSL_HTTP_parse_url(url, &ssl, NULL, &host, &port, NULL, &path, NULL, NULL)) {
		err = cocoon_error_set_openssl(COCOON_EINVAL, "vTPM: IMDS URL '%.200s' is not an http:// URL", url);
		goto done;
	}
	if (post_json && !(req = BIO_new_mem_buf(post_json, (int)strlen(post_json)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
		goto done;
	}
	resp = OSSL_HTTP_transfer(NULL, host, port, path, ssl, "" /* never a proxy */, NULL, NULL, NULL, NULL, NULL, 0,
	                          hdr, post_json ? "application/json" : NULL, req, NULL, 0, IMDS_MAX_RESPONSE,
	                          IMDS_TIMEOUT_S, 0);
	if (!resp) {
		err = cocoon_error_set_openssl(COCOON_EIO, "vTPM: %s %.200s (IMDS, for %s) failed", post_json ? "POST" : "GET",
		                               url, what);
		goto done;
	}
	if ((err = read_answer(&body, resp, url)) != 0)
		goto done;
	/* Not inside json_is_object(): the macro evaluates its argument twice. */
	*out = json_loadb((const char *)body.data, body.len, 0, NULL);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		err = cocoon_error_set(COCOON_EFORMAT, "vTPM: the IMDS answer from %.200s is not a JSON object", url);
	}
done:
	cocoon_buf_free(&body);
	BIO_free_all(resp);
	BIO_free(req);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	sk_CONF_VALUE_pop_free(hdr, X509V3_conf_free);
	return err;
}

/* The VCEK from THIM: {"vcekCert": PEM, "certificateChain": PEM}; the verifier pins the roots itself. */
static int fetch_thim_vcek(uint8_t **out, size_t *out_len, const char *url)
{
	json_t *root = NULL;
	const char *pem;
	int err;

	*out = NULL;
	if ((err = imds_call(&root, url, NULL, "the VCEK; or pass it from a file")) != 0)
		return err;
	if (!(pem = json_string_value(json_object_get(root, "vcekCert"))))
		err = cocoon_error_set(COCOON_EFORMAT, "vTPM: the IMDS THIM answer from %.200s has no \"vcekCert\"", url);
	else if (!(*out = (uint8_t *)strdup(pem)))
		err = cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
	else
		*out_len = strlen(pem);
	json_decref(root);
	return err;
}

/* The TD quote IMDS makes from the TDREPORT: POST {"report": base64} -> {"quote": base64 or base64url}. */
static int fetch_td_quote(cocoon_vtpm_evidence *ev, const uint8_t *tdreport, const char *url)
{
	char *b64 = NULL, *req = NULL;
	const char *q;
	json_t *root = NULL;
	int err;

	if ((err = cocoon_base64_encode(&b64, tdreport, COCOON_HCL_TD_REPORT_SIZE)) != 0)
		return err;
	if (asprintf(&req, "{\"report\":\"%s\"}", b64) < 0) {
		free(b64);
		return cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
	}
	free(b64);
	if ((err = imds_call(&root, url, req, "the TD quote")) == 0) {
		if (!(q = json_string_value(json_object_get(root, "quote"))))
			err = cocoon_error_set(COCOON_EFORMAT, "vTPM: the IMDS answer from %.200s has no \"quote\"", url);
		else if (cocoon_b64_decode(&ev->td_quote, &ev->td_quote_len, q, strlen(q)) != 0 || !ev->td_quote_len)
			err = cocoon_error_set(COCOON_EFORMAT, "vTPM: the IMDS TD quote is not base64: %s",
			                       cocoon_error_last()->message);
	}
	json_decref(root);
	free(req);
	return err;
}

int cocoon_vtpm_collect(cocoon_vtpm_evidence **out, const cocoon_vtpm_collect_options *o)
{
	cocoon_vtpm_evidence *ev = NULL;
	cocoon_hcl_report h;
	cocoon_failure f = { 0 };
	tpm t = { 0 };
	int err;

	if (!out || !o || !o->report_data || o->report_data_len == 0 || o->report_data_len > 64)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_vtpm_collect: options with 1..64 bytes of report data");
	if (o->version != COCOON_VTPM_COLLECT_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "vTPM collect options version %u, expected %u", o->version,
		                        COCOON_VTPM_COLLECT_OPTIONS_VERSION);
	*out = NULL;
	if (!(ev = calloc(1, sizeof(*ev))))
		return cocoon_error_set(COCOON_ENOMEM, "vTPM: out of memory");
	ev->version = 2;
	if ((err = tpm_open(&t, o->tcti)) != 0 || (err = write_report_data(&t, o->report_data, o->report_data_len)) != 0)
		goto done;
	/* The paravisor regenerates the HCL report after the write; reading early returns a stale one. */
	if (o->refresh_delay_ms)
		sleep_ms(o->refresh_delay_ms);
	if ((err = read_hcl_report(&t, &ev->hcl_report, &ev->hcl_report_len)) != 0 ||
	    (err = quote(&t, ev, o->report_data, o->report_data_len)) != 0 || (err = read_pcrs(&t, ev)) != 0)
		goto done;
	if (cocoon_hcl_parse(&h, &f, ev->hcl_report, ev->hcl_report_len) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "vTPM: NV 0x01400001: %s", f.reason);
		goto done;
	}
	if (h.report_type == COCOON_HCL_REPORT_TYPE_TDX) {
		ev->format = COCOON_VTPM_FORMAT_AZ_TDX;
		err = fetch_td_quote(ev, h.hw_report, o->imds_tdquote_url ? o->imds_tdquote_url : COCOON_VTPM_IMDS_TDQUOTE_URL);
		if (err == 0) {
			*out = ev;
			ev = NULL;
		}
		goto done;
	}
	ev->format = COCOON_VTPM_FORMAT_AZ_SNP;
	if (!o->vcek) {
		uint8_t *pem = NULL;
		size_t pem_len = 0;
		if ((err = fetch_thim_vcek(&pem, &pem_len, o->imds_thim_url ? o->imds_thim_url : COCOON_VTPM_IMDS_THIM_URL)) !=
		    0)
			goto done;
		err = take_vcek(ev, pem, pem_len);
		free(pem);
	} else {
		err = take_vcek(ev, o->vcek, o->vcek_len);
	}
	if (err != 0)
		goto done;
	*out = ev;
	ev = NULL;
done:
	tpm_close(&t);
	cocoon_vtpm_evidence_free(ev);
	return err;
}
