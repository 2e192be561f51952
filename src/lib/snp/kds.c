/*
 * AMD KDS certificate extensions of a VCEK/VLEK, under 1.3.6.1.4.1.3704.1:
 * .1 structVersion, .2 productName (IA5String), .3.1 blSPL, .3.2 teeSPL,
 * .3.3 snpSPL, .3.4-.3.7 spl_4..7, .3.8 ucodeSPL, .3.9 fmcSPL (Turin),
 * .4 hwID (VCEK only; 64 bytes, 8 on Turin), .5 cspID (VLEK only). The
 * SPLs are DER INTEGERs. KDS stores the hwID bytes without an OCTET STRING
 * tag, so both the raw and the wrapped form are accepted (as go-sev-guest
 * kds.go does). Values are decoded with OpenSSL's d2i_* only.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "snp/snp.h"

#define KDS_ARC "1.3.6.1.4.1.3704.1."

enum {
	EXT_STRUCT_VERSION, EXT_PRODUCT_NAME, EXT_BL, EXT_TEE, EXT_SNP, EXT_SPL4, EXT_SPL5, EXT_SPL6, EXT_SPL7,
	EXT_UCODE, EXT_FMC, EXT_HWID, EXT_CSP_ID, EXT__COUNT
};

static const struct {
	const char *suffix;
	const char *name;
} kds_exts[EXT__COUNT] = {
	[EXT_STRUCT_VERSION] = { "1", "structVersion" }, [EXT_PRODUCT_NAME] = { "2", "productName" },
	[EXT_BL] = { "3.1", "blSPL" },                   [EXT_TEE] = { "3.2", "teeSPL" },
	[EXT_SNP] = { "3.3", "snpSPL" },                 [EXT_SPL4] = { "3.4", "spl_4" },
	[EXT_SPL5] = { "3.5", "spl_5" },                 [EXT_SPL6] = { "3.6", "spl_6" },
	[EXT_SPL7] = { "3.7", "spl_7" },                 [EXT_UCODE] = { "3.8", "ucodeSPL" },
	[EXT_FMC] = { "3.9", "fmcSPL" },                 [EXT_HWID] = { "4", "hwID" },
	[EXT_CSP_ID] = { "5", "cspID" },
};

static const char *role_name(int signer) { return signer == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "VCEK"; }

static int decode_u8(uint8_t *out, cocoon_failure *f, const ASN1_OCTET_STRING *v, int which, int signer)
{
	const unsigned char *p = ASN1_STRING_get0_data(v), *start = p;
	long len = ASN1_STRING_length(v);
	ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
	int64_t n = -1;
	int ok = ai && p == start + len && ASN1_INTEGER_get_int64(&n, ai) == 1 && n >= 0 && n <= 255;

	ASN1_INTEGER_free(ai);
	if (!ok)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s certificate: extension %s (" KDS_ARC "%s) must be a DER INTEGER 0..255",
		                       role_name(signer), kds_exts[which].name, kds_exts[which].suffix);
	*out = (uint8_t)n;
	return 0;
}

static int decode_ia5(char *out, size_t cap, cocoon_failure *f, const ASN1_OCTET_STRING *v, int which, int signer)
{
	const unsigned char *p = ASN1_STRING_get0_data(v), *start = p;
	long len = ASN1_STRING_length(v);
	ASN1_IA5STRING *s = d2i_ASN1_IA5STRING(NULL, &p, len);
	int ok = s && p == start + len && ASN1_STRING_length(s) > 0 && (size_t)ASN1_STRING_length(s) < cap;

	if (ok) {
		const unsigned char *d = ASN1_STRING_get0_data(s);
		int n = ASN1_STRING_length(s);
		for (int i = 0; i < n && ok; i++)
			ok = d[i] >= 0x20 && d[i] < 0x7f;
		if (ok) {
			memcpy(out, d, (size_t)n);
			out[n] = '\0';
		}
	}
	ASN1_IA5STRING_free(s);
	if (!ok)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s certificate: extension %s (" KDS_ARC "%s) must be a DER IA5String of 1..%zu "
		                       "printable characters",
		                       role_name(signer), kds_exts[which].name, kds_exts[which].suffix, cap - 1);
	return 0;
}

static int decode_hwid(cocoon_snp_kds_ext *out, cocoon_failure *f, const ASN1_OCTET_STRING *v, size_t want)
{
	const unsigned char *p = ASN1_STRING_get0_data(v), *start = p;
	long len = ASN1_STRING_length(v);
	ASN1_OCTET_STRING *o;
	int ok;

	if (len >= 0 && (size_t)len == want) {
		memcpy(out->hwid, p, want);
		out->hwid_len = want;
		return 0;
	}
	o = d2i_ASN1_OCTET_STRING(NULL, &p, len);
	ok = o && p == start + len && (size_t)ASN1_STRING_length(o) == want;
	if (ok) {
		memcpy(out->hwid, ASN1_STRING_get0_data(o), want);
		out->hwid_len = want;
	}
	ASN1_OCTET_STRING_free(o);
	if (!ok)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "VCEK certificate: extension hwID (" KDS_ARC "4) must hold %zu bytes for %s, "
		                       "found a %ld-byte value",
		                       want, cocoon_snp_product_name(out->product), len);
	return 0;
}

static int find_kds_ext(int *which, cocoon_failure *f, X509_EXTENSION *ext, int signer)
{
	char oid[80];
	ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
	int n = OBJ_obj2txt(oid, sizeof(oid), obj, 1);

	*which = -1;
	if (n <= 0 || (size_t)n >= sizeof(oid))
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE, "%s certificate: unreadable extension OID",
		                       role_name(signer));
	if (strncmp(oid, KDS_ARC, strlen(KDS_ARC)) == 0) {
		for (int i = 0; i < EXT__COUNT; i++)
			if (strcmp(oid + strlen(KDS_ARC), kds_exts[i].suffix) == 0)
				*which = i;
		if (*which < 0)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "%s certificate: unknown AMD KDS extension %s", role_name(signer), oid);
		return 0;
	}
	/* KDS certificates carry only the KDS extensions; an issuing CA may add
	 * an authority key identifier (go-sev-guest kdsOidMap). */
	if (OBJ_obj2nid(obj) == NID_authority_key_identifier)
		return 0;
	return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
	                       "%s certificate: unexpected extension %s; the AMD KDS profile allows only the "
	                       "1.3.6.1.4.1.3704.1.* extensions",
	                       role_name(signer), oid);
}

static uint64_t compose_tcb(const cocoon_snp_kds_ext *e)
{
	if (e->product == COCOON_SNP_PRODUCT_TURIN)
		return (uint64_t)e->fmc | ((uint64_t)e->bl << 8) | ((uint64_t)e->tee << 16) | ((uint64_t)e->snp << 24) |
		       ((uint64_t)e->spl5 << 32) | ((uint64_t)e->spl6 << 40) | ((uint64_t)e->spl7 << 48) |
		       ((uint64_t)e->ucode << 56);
	return (uint64_t)e->bl | ((uint64_t)e->tee << 8) | ((uint64_t)e->spl4 << 16) | ((uint64_t)e->spl5 << 24) |
	       ((uint64_t)e->spl6 << 32) | ((uint64_t)e->spl7 << 40) | ((uint64_t)e->snp << 48) |
	       ((uint64_t)e->ucode << 56);
}

int cocoon_snp_kds_ext_parse(cocoon_snp_kds_ext *out, cocoon_failure *f, X509 *cert, int signer)
{
	const ASN1_OCTET_STRING *vals[EXT__COUNT] = { 0 };
	uint8_t *u8_dst[EXT__COUNT] = { 0 };
	int err, which, turin;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		X509_EXTENSION *ext = X509_get_ext(cert, i);
		if ((err = find_kds_ext(&which, f, ext, signer)) != 0)
			return err;
		if (which < 0)
			continue;
		if (vals[which])
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "%s certificate: duplicate extension %s (" KDS_ARC "%s)", role_name(signer),
			                       kds_exts[which].name, kds_exts[which].suffix);
		vals[which] = X509_EXTENSION_get_data(ext);
	}

	if (!vals[EXT_PRODUCT_NAME])
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s certificate: extension productName (" KDS_ARC "2) is missing",
		                       role_name(signer));
	if ((err = decode_ia5(out->product_name, sizeof(out->product_name), f, vals[EXT_PRODUCT_NAME],
	                      EXT_PRODUCT_NAME, signer)) != 0)
		return err;
	if (cocoon_snp_product_parse(&out->product, out->product_name) != 0)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_PRODUCT,
		                       "%s certificate: productName \"%s\" is not a supported SEV-SNP product line "
		                       "(Milan, Genoa, Turin, optionally with a stepping such as \"-B0\")",
		                       role_name(signer), out->product_name);
	turin = out->product == COCOON_SNP_PRODUCT_TURIN;

	u8_dst[EXT_STRUCT_VERSION] = &out->struct_version;
	u8_dst[EXT_BL] = &out->bl;
	u8_dst[EXT_TEE] = &out->tee;
	u8_dst[EXT_SNP] = &out->snp;
	u8_dst[EXT_SPL4] = &out->spl4;
	u8_dst[EXT_SPL5] = &out->spl5;
	u8_dst[EXT_SPL6] = &out->spl6;
	u8_dst[EXT_SPL7] = &out->spl7;
	u8_dst[EXT_UCODE] = &out->ucode;
	u8_dst[EXT_FMC] = &out->fmc;
	for (int i = 0; i < EXT__COUNT; i++) {
		/* spl_4 does not exist on Turin, fmcSPL only exists there. */
		int optional = (i == EXT_SPL4 && turin) || (i == EXT_FMC && !turin);
		if (!u8_dst[i])
			continue;
		if (!vals[i]) {
			if (optional)
				continue;
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "%s certificate: extension %s (" KDS_ARC "%s) is missing",
			                       role_name(signer), kds_exts[i].name, kds_exts[i].suffix);
		}
		if ((err = decode_u8(u8_dst[i], f, vals[i], i, signer)) != 0)
			return err;
	}
	out->has_fmc = turin;
	if (!turin)
		out->fmc = 0;

	if (signer == COCOON_SNP_SIGNER_VCEK) {
		if (vals[EXT_CSP_ID])
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "VCEK certificate: has a cspID extension (" KDS_ARC "5), which only a VLEK "
			                       "carries");
		if (!vals[EXT_HWID])
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "VCEK certificate: extension hwID (" KDS_ARC "4) is missing");
		if ((err = decode_hwid(out, f, vals[EXT_HWID], turin ? 8 : 64)) != 0)
			return err;
	} else {
		if (vals[EXT_HWID])
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "VLEK certificate: has a hwID extension (" KDS_ARC "4), which only a VCEK "
			                       "carries");
		if (!vals[EXT_CSP_ID])
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
			                       "VLEK certificate: extension cspID (" KDS_ARC "5) is missing");
		if ((err = decode_ia5(out->csp_id, sizeof(out->csp_id), f, vals[EXT_CSP_ID], EXT_CSP_ID, signer)) != 0)
			return err;
		out->has_csp_id = 1;
	}
	out->tcb = compose_tcb(out);
	return 0;
}

int cocoon_snp_vcek_identify(cocoon_snp_vcek_id *out, const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	cocoon_snp_kds_ext ext;
	cocoon_failure f;
	X509 *cert = NULL;
	int err = 0;

	memset(out, 0, sizeof(*out));
	memset(&f, 0, sizeof(f));
	if (!der || len == 0 || len > LONG_MAX || !(cert = d2i_X509(NULL, &p, (long)len)) || p != der + len) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "VCEK: not one DER certificate");
		goto done;
	}
	if (cocoon_snp_kds_ext_parse(&ext, &f, cert, COCOON_SNP_SIGNER_VCEK) != 0 || ext.hwid_len == 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "VCEK: not a VCEK with AMD KDS extensions: %s",
		                       ext.hwid_len == 0 && !f.reason[0] ? "no HWID extension" : f.reason);
		goto done;
	}
	memcpy(out->chip_id, ext.hwid, ext.hwid_len);
	out->chip_id_len = ext.hwid_len;
	out->tcb = ext.tcb;
	out->product = cocoon_snp_product_name(ext.product);
done:
	X509_free(cert);
	return err;
}
