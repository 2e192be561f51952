/*
 * The vTPM quote: a marshalled TPMS_ATTEST signed by the HCL's attestation
 * key. libtss2-mu does the unmarshalling; it accepts a wrong magic and
 * trailing bytes, so the magic, the type and full consumption are checked
 * here. Trustee does not compare the PCR selection with the PCR values it
 * names; we do, so a claim "pcrNN" is that PCR and no other.
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include <tss2/tss2_mu.h>
#include "vtpm/vtpm_int.h"

static int unmarshal(TPMS_ATTEST *a, cocoon_failure *f, const uint8_t *msg, size_t len)
{
	size_t off = 0;
	TSS2_RC rc;

	memset(a, 0, sizeof(*a));
	if (!msg || len == 0)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT, "TPM quote message is empty");
	rc = Tss2_MU_TPMS_ATTEST_Unmarshal(msg, len, &off, a);
	if (rc != TSS2_RC_SUCCESS)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT,
		                   "TPM quote message (%zu bytes) is not a TPMS_ATTEST: libtss2-mu error 0x%x at offset "
		                   "%zu",
		                   len, (unsigned)rc, off);
	if (a->magic != TPM2_GENERATED_VALUE)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT,
		                   "TPMS_ATTEST magic (offset 0) is 0x%08x, expected 0xff544347 (TPM_GENERATED_VALUE): "
		                   "the TPM did not produce this structure",
		                   (unsigned)a->magic);
	if (a->type != TPM2_ST_ATTEST_QUOTE)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT,
		                   "TPMS_ATTEST type (offset 4) is 0x%04x, expected 0x8018 (TPM_ST_ATTEST_QUOTE)",
		                   (unsigned)a->type);
	if (off != len)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT,
		                   "TPM quote message has %zu trailing bytes after the TPMS_ATTEST (%zu of %zu bytes "
		                   "used)",
		                   len - off, off, len);
	/* libtss2-mu bounds every TPM2B by its buffer; re-checked because the claims copy it. */
	if (a->extraData.size > sizeof(a->extraData.buffer) || a->extraData.size > 64)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_FORMAT, "TPMS_ATTEST extraData is %u bytes, over 64",
		                   (unsigned)a->extraData.size);
	return 0;
}

int cocoon_tpm_attest_check(cocoon_failure *f, const uint8_t *msg, size_t len)
{
	TPMS_ATTEST a;
	return unmarshal(&a, f, msg, len);
}

/* RSASSA-PKCS1-v1_5 with SHA-256, as the Azure AK (scheme RSASSA-SHA256) signs. */
static int check_signature(cocoon_failure *f, EVP_PKEY *ak, const cocoon_vtpm_evidence *ev)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return cocoon_error_set(COCOON_ENOMEM, "TPM quote signature: out of memory");
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, ak) == 1 &&
	     EVP_DigestVerify(ctx, ev->quote_sig, ev->quote_sig_len, ev->quote_msg, ev->quote_msg_len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cocoon_fail(f, COCOON_CHECK_VTPM_QUOTE_SIGNATURE,
		                   "TPM quote signature (%zu bytes) does not verify with the HCLAkPub key "
		                   "(RSASSA-PKCS1-v1_5, SHA-256) over the %zu-byte TPMS_ATTEST: the quote was altered or "
		                   "signed by another key",
		                   ev->quote_sig_len, ev->quote_msg_len);
	return 0;
}

static int check_nonce(cocoon_failure *f, const TPMS_ATTEST *a, const uint8_t *nonce, size_t nonce_len)
{
	char want[129], got[129];

	if (a->extraData.size == nonce_len && cocoon_memcmp_ct(a->extraData.buffer, nonce, nonce_len) == 0)
		return 0;
	cocoon_hex_encode(want, nonce, nonce_len);
	cocoon_hex_encode(got, a->extraData.buffer, a->extraData.size);
	return cocoon_fail(f, COCOON_CHECK_VTPM_NONCE,
	                   "TPM quote extraData is %s (%u bytes), expected the nonce %s (%zu bytes): the quote is "
	                   "not fresh for this request",
	                   got, (unsigned)a->extraData.size, want, nonce_len);
}

/* One SHA-256 bank whose selected PCRs are exactly the values given, in order. */
static int check_selection(cocoon_failure *f, cocoon_vtpm_claims *c, const TPMS_ATTEST *a, size_t n_pcrs)
{
	const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
	const TPMS_PCR_SELECTION *s;
	size_t n = 0;

	if (sel->count != 1)
		return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_SELECTION,
		                   "TPM quote selects %u PCR banks, expected exactly one (SHA-256)", (unsigned)sel->count);
	s = &sel->pcrSelections[0];
	if (s->hash != TPM2_ALG_SHA256)
		return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_SELECTION,
		                   "TPM quote selects the PCR bank of algorithm 0x%04x, expected SHA-256 (0x000b)",
		                   (unsigned)s->hash);
	if (s->sizeofSelect > sizeof(s->pcrSelect))
		return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_SELECTION, "TPM quote PCR bitmap is %u bytes, over %zu",
		                   (unsigned)s->sizeofSelect, sizeof(s->pcrSelect));
	for (unsigned i = 0; i < s->sizeofSelect * 8u; i++) {
		if (!(s->pcrSelect[i / 8] & (1u << (i % 8))))
			continue;
		if (n >= n_pcrs || n >= COCOON_VTPM_MAX_PCRS)
			return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_SELECTION,
			                   "TPM quote selects more PCRs than the %zu values in the evidence (PCR %u has no "
			                   "value)",
			                   n_pcrs, i);
		c->pcr_index[n++] = i;
	}
	if (n != n_pcrs)
		return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_SELECTION,
		                   "TPM quote selects %zu PCRs but the evidence reports %zu values", n, n_pcrs);
	return 0;
}

static int check_digest(cocoon_failure *f, const TPMS_ATTEST *a, const cocoon_vtpm_evidence *ev)
{
	const TPM2B_DIGEST *d = &a->attested.quote.pcrDigest;
	uint8_t md[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
	char want[65], got[65];

	for (size_t i = 0; ok && i < ev->n_pcrs; i++)
		ok = EVP_DigestUpdate(ctx, ev->pcrs[i], 32) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "PCR digest");
	if (d->size == 32 && memcmp(d->buffer, md, 32) == 0)
		return 0;
	cocoon_hex_encode(want, md, 32);
	cocoon_hex_encode(got, d->buffer, d->size <= 32 ? d->size : 32);
	return cocoon_fail(f, COCOON_CHECK_VTPM_PCR_DIGEST,
	                   "TPM quote pcrDigest is %s (%u bytes), but SHA-256 of the %zu reported PCR values is %s: "
	                   "a PCR value was altered",
	                   got, (unsigned)d->size, ev->n_pcrs, want);
}

int cocoon_tpm_quote_verify(cocoon_failure *f, cocoon_vtpm_claims *c, EVP_PKEY *ak, const cocoon_vtpm_evidence *ev,
                            const uint8_t *nonce, size_t nonce_len)
{
	TPMS_ATTEST a;
	int err;

	if ((err = unmarshal(&a, f, ev->quote_msg, ev->quote_msg_len)) != 0 ||
	    (err = check_signature(f, ak, ev)) != 0)
		return err;
	memcpy(c->tpm_nonce, a.extraData.buffer, a.extraData.size);
	c->tpm_nonce_len = a.extraData.size;
	c->tpm_firmware_version = a.firmwareVersion;
	if ((err = check_nonce(f, &a, nonce, nonce_len)) != 0 ||
	    (err = check_selection(f, c, &a, ev->n_pcrs)) != 0 || (err = check_digest(f, &a, ev)) != 0)
		return err;
	c->n_pcrs = ev->n_pcrs;
	memcpy(c->pcrs, ev->pcrs, ev->n_pcrs * 32);
	return 0;
}
