/*
 * Simulated AMD KDS PKI: ARK (self-signed) -> ASK -> VCEK and the ARK's
 * CRL, shaped after AMD's certificates (the "Versioned Chip Endorsement
 * Key (VCEK) Certificate and KDS Interface Specification") so that the SNP
 * verifier's profile checks treat them like the real thing. Only the
 * Netscape comment on the ARK and ASK tells them apart (include/cocoon/sim.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include "cocoon/sim.h"
#include "common/util.h"
#include "sim/snp_sim.h"
#include "snp/snp.h"

#define KDS_ARC "1.3.6.1.4.1.3704.1."
#define SIM_SERIAL_LEN 16

void cocoon_sim_snp_pki_options_init(cocoon_sim_snp_pki_options *o)
{
	memset(o, 0, sizeof(*o));
	o->not_before = (time_t)1577836800;      /* 2020-01-01T00:00:00Z */
	o->not_after = (time_t)2524607999;       /* 2049-12-31T23:59:59Z */
	o->crl_next_update = o->not_after;
	o->product = "Milan";
	o->bl_spl = 4;
	o->tee_spl = 0;
	o->snp_spl = 22;
	o->ucode_spl = 213;
	o->fmc_spl = 1;
	o->rsa_bits = 2048;
}

/* AMD's productName for a product line: the line with the stepping KDS uses. */
static int product_name(char *out, size_t cap, cocoon_snp_product *line, const char *product)
{
	if (!product || cocoon_snp_product_parse(line, product) != 0)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim snp: product \"%.32s\" is not an SEV-SNP product line; use Milan, Genoa or "
		                        "Turin (optionally with a stepping, e.g. Genoa-B1)",
		                        product ? product : "(null)");
	if (strchr(product, '-'))
		snprintf(out, cap, "%s", product);
	else
		snprintf(out, cap, "%s-%s", cocoon_snp_product_name(*line),
		         *line == COCOON_SNP_PRODUCT_GENOA ? "B1" : "B0");
	return 0;
}

static int options_check(const cocoon_sim_snp_pki_options *o)
{
	if (o->not_before >= o->not_after)
		return cocoon_error_set(COCOON_EINVAL, "sim snp: not_before must be earlier than not_after");
	if (o->crl_next_update <= o->not_before)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim snp: crl_next_update must be later than not_before (the CRL's thisUpdate)");
	/* The verifier refuses CA keys below 2048 bits; above 8192 keygen takes minutes. */
	if (o->rsa_bits < 2048 || o->rsa_bits > 8192)
		return cocoon_error_set(COCOON_EINVAL, "sim snp: rsa_bits %u is outside 2048..8192 (AMD uses 4096)",
		                        o->rsa_bits);
	return 0;
}

/* "OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, CN=<cn>", in AMD's order. */
static int amd_name_make(X509_NAME **out, const char *cn)
{
	static const char *const fixed[][2] = {
		{ "OU", "Engineering" }, { "C", "US" }, { "L", "Santa Clara" }, { "ST", "CA" },
		{ "O", "Advanced Micro Devices" },
	};
	X509_NAME *name = X509_NAME_new();
	int err = 0;

	*out = NULL;
	if (!name) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim snp: out of memory for a subject name");
		goto done;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!X509_NAME_add_entry_by_txt(name, fixed[i][0], MBSTRING_ASC, (const unsigned char *)fixed[i][1], -1,
		                                -1, 0)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot add %s to a subject", fixed[i][0]);
			goto done;
		}
	}
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot add CN \"%s\"", cn);
		goto done;
	}
	*out = name;
	name = NULL;
done:
	X509_NAME_free(name);
	return err;
}

/* Random positive serial of exactly SIM_SERIAL_LEN content bytes. */
static int serial_set(X509 *x)
{
	uint8_t raw[SIM_SERIAL_LEN];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int err = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: RAND_bytes failed for a serial number");
		goto done;
	}
	raw[0] = (uint8_t)((raw[0] & 0x7f) | 0x40);
	if (!(bn = BN_bin2bn(raw, sizeof(raw), NULL)) || !(ai = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !X509_set_serialNumber(x, ai)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot set a serial number");
		goto done;
	}
done:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return err;
}

/* An extension from its OpenSSL config text; ctx may be NULL when the value needs no certificates. */
static int ext_conf_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int err = 0;

	if (!ext || !X509_add_ext(x, ext, -1))
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot add extension %s = %s",
		                               OBJ_nid2sn(nid), value);
	X509_EXTENSION_free(ext);
	return err;
}

/* A non-critical extension whose value is the given DER bytes. */
static int ext_der_add(X509 *x, const char *oid_txt, const uint8_t *der, int len)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(oid_txt, 1);
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int err = 0;

	if (!oid || !value || !ASN1_OCTET_STRING_set(value, der, len) ||
	    !(ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value)) || !X509_add_ext(x, ext, -1))
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot add extension %s", oid_txt);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(value);
	ASN1_OBJECT_free(oid);
	return err;
}

/* KDS SPLs and structVersion: DER INTEGER. */
static int ext_int_add(X509 *x, const char *suffix, long v)
{
	char oid[64];
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	unsigned char *der = NULL;
	int len, err;

	snprintf(oid, sizeof(oid), KDS_ARC "%s", suffix);
	if (!ai || !ASN1_INTEGER_set(ai, v) || (len = i2d_ASN1_INTEGER(ai, &der)) <= 0)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot encode %s", oid);
	else
		err = ext_der_add(x, oid, der, len);
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	return err;
}

/* KDS productName: DER IA5String. */
static int ext_ia5_add(X509 *x, const char *suffix, const char *s)
{
	char oid[64];
	ASN1_IA5STRING *a = ASN1_IA5STRING_new();
	unsigned char *der = NULL;
	int len, err;

	snprintf(oid, sizeof(oid), KDS_ARC "%s", suffix);
	if (!a || !ASN1_STRING_set(a, s, -1) || (len = i2d_ASN1_IA5STRING(a, &der)) <= 0)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot encode %s", oid);
	else
		err = ext_der_add(x, oid, der, len);
	OPENSSL_free(der);
	ASN1_IA5STRING_free(a);
	return err;
}

/* AMD signs with RSASSA-PSS: SHA-384, MGF1-SHA-384, a 48-byte salt. */
static int pss_ctx_new(EVP_MD_CTX **out, EVP_PKEY *key)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;

	*out = NULL;
	if (!m || EVP_DigestSignInit(m, &pc, EVP_sha384(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pc, EVP_sha384()) <= 0) {
		EVP_MD_CTX_free(m);
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot set up RSASSA-PSS/SHA-384 signing");
	}
	*out = m;
	return 0;
}

/* Version 3, a random serial, the subject and issuer names, the validity and the key. */
static int cert_new(X509 **out, const char *cn, X509 *issuer, EVP_PKEY *key, const cocoon_sim_snp_pki_options *o)
{
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	int err = 0;

	*out = NULL;
	if (!x) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim snp: out of memory for the %s certificate", cn);
		goto done;
	}
	if ((err = amd_name_make(&name, cn)) != 0 || (err = serial_set(x)) != 0)
		goto done;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), o->not_before) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), o->not_after) || !X509_set_pubkey(x, key)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot fill the %s certificate", cn);
		goto done;
	}
	*out = x;
	x = NULL;
done:
	X509_NAME_free(name);
	X509_free(x);
	return err;
}

static int cert_sign(X509 *x, EVP_PKEY *issuer_key, const char *role)
{
	EVP_MD_CTX *m = NULL;
	int err;

	if ((err = pss_ctx_new(&m, issuer_key)) != 0)
		return err;
	if (X509_sign_ctx(x, m) <= 0)
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot sign the %s certificate", role);
	EVP_MD_CTX_free(m);
	return err;
}

/* ARK (issuer NULL) or ASK: AMD's CA extensions plus the simulation comment. */
static int ca_make(X509 **out, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key,
                   const cocoon_sim_snp_pki_options *o)
{
	char mark[128];
	X509V3_CTX ctx;
	X509 *x = NULL;
	int err;

	*out = NULL;
	if ((err = cert_new(&x, cn, issuer, key, o)) != 0)
		return err;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	snprintf(mark, sizeof(mark), COCOON_SIM_AMD_MARK " %s: simulation only, never trust in production",
	         issuer ? "ASK" : "ARK");
	if ((err = ext_conf_add(x, &ctx, NID_subject_key_identifier, "hash")) != 0 ||
	    (issuer && (err = ext_conf_add(x, &ctx, NID_authority_key_identifier, "keyid:always")) != 0) ||
	    (err = ext_conf_add(x, NULL, NID_basic_constraints,
	                        issuer ? "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE")) != 0 ||
	    (err = ext_conf_add(x, NULL, NID_key_usage,
	                        issuer ? "critical,keyCertSign" : "critical,keyCertSign,cRLSign")) != 0 ||
	    (err = ext_conf_add(x, NULL, NID_netscape_comment, mark)) != 0 ||
	    (err = cert_sign(x, issuer ? issuer_key : key, cn)) != 0) {
		X509_free(x);
		return err;
	}
	*out = x;
	return 0;
}

/* The VCEK: only the KDS extensions, in the order KDS writes them. */
static int vcek_make(cocoon_sim_snp_pki *p, const cocoon_sim_snp_pki_options *o, const char *pname, int turin)
{
	X509 *x = NULL;
	int err;

	if ((err = cert_new(&x, "SEV-VCEK", p->ask_cert, p->vcek_key, o)) != 0)
		return err;
	if ((err = ext_int_add(x, "1", 1)) != 0 || (err = ext_ia5_add(x, "2", pname)) != 0 ||
	    (err = ext_int_add(x, "3.1", o->bl_spl)) != 0 || (err = ext_int_add(x, "3.2", o->tee_spl)) != 0 ||
	    (!turin && (err = ext_int_add(x, "3.4", 0)) != 0) || (err = ext_int_add(x, "3.5", 0)) != 0 ||
	    (err = ext_int_add(x, "3.6", 0)) != 0 || (err = ext_int_add(x, "3.7", 0)) != 0 ||
	    (err = ext_int_add(x, "3.3", o->snp_spl)) != 0 || (err = ext_int_add(x, "3.8", o->ucode_spl)) != 0 ||
	    (turin && (err = ext_int_add(x, "3.9", o->fmc_spl)) != 0) ||
	    /* KDS stores the hwID bytes as the extension value itself, unwrapped. */
	    (err = ext_der_add(x, KDS_ARC "4", p->hwid, (int)p->hwid_len)) != 0 ||
	    (err = cert_sign(x, p->ask_key, "VCEK")) != 0) {
		X509_free(x);
		return err;
	}
	p->vcek_cert = x;
	return 0;
}

static int crl_make(X509_CRL **out, const cocoon_sim_snp_pki *p, const ASN1_INTEGER *const *revoked, size_t n,
                    time_t this_update, time_t next_update, long number)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t_this = ASN1_TIME_set(NULL, this_update), *t_next = ASN1_TIME_set(NULL, next_update);
	ASN1_INTEGER *num = ASN1_INTEGER_new(), *serial = NULL;
	X509_REVOKED *rev = NULL;
	EVP_MD_CTX *m = NULL;
	int err = 0;

	*out = NULL;
	if (!crl || !t_this || !t_next || !num || !ASN1_INTEGER_set(num, number) ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(p->ark_cert)) ||
	    !X509_CRL_set1_lastUpdate(crl, t_this) || !X509_CRL_set1_nextUpdate(crl, t_next) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_APPEND)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot fill the CRL");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		if (!revoked[i]) {
			err = cocoon_error_set(COCOON_EINVAL, "sim snp: revoked serial %zu is NULL", i);
			goto done;
		}
		ASN1_INTEGER_free(serial);
		if (!(serial = ASN1_INTEGER_dup(revoked[i])) || !(rev = X509_REVOKED_new()) ||
		    !X509_REVOKED_set_serialNumber(rev, serial) || !X509_REVOKED_set_revocationDate(rev, t_this) ||
		    !X509_CRL_add0_revoked(crl, rev)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot add revoked entry %zu", i);
			goto done;
		}
		rev = NULL;
	}
	if ((err = pss_ctx_new(&m, p->ark_key)) != 0)
		goto done;
	if (!X509_CRL_sort(crl) || X509_CRL_sign_ctx(crl, m) <= 0) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: cannot sign the CRL");
		goto done;
	}
	*out = crl;
	crl = NULL;
done:
	EVP_MD_CTX_free(m);
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(serial);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t_next);
	ASN1_TIME_free(t_this);
	X509_CRL_free(crl);
	return err;
}

int cocoon_sim_snp_pki_describe(cocoon_sim_snp_pki *p)
{
	cocoon_snp_kds_ext ext;
	cocoon_failure f = { 0 };

	if (!p || !p->vcek_cert)
		return cocoon_error_set(COCOON_EINVAL, "sim snp: no VCEK to describe");
	if (cocoon_snp_kds_ext_parse(&ext, &f, p->vcek_cert, COCOON_SNP_SIGNER_VCEK) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "sim snp: the VCEK's KDS extensions: %s", f.reason);
	snprintf(p->product, sizeof(p->product), "%s", cocoon_snp_product_name(ext.product));
	p->tcb = ext.tcb;
	memset(p->hwid, 0, sizeof(p->hwid));
	memcpy(p->hwid, ext.hwid, ext.hwid_len);
	p->hwid_len = ext.hwid_len;
	return 0;
}

int cocoon_sim_snp_pki_generate(cocoon_sim_snp_pki **out, const cocoon_sim_snp_pki_options *o)
{
	cocoon_sim_snp_pki_options defaults;
	cocoon_sim_snp_pki *p = NULL;
	cocoon_snp_product line;
	char pname[32], ark_cn[32], ask_cn[32];
	int err = 0;

	*out = NULL;
	if (!o) {
		cocoon_sim_snp_pki_options_init(&defaults);
		o = &defaults;
	}
	if ((err = options_check(o)) != 0 || (err = product_name(pname, sizeof(pname), &line, o->product)) != 0)
		goto done;
	if (!(p = calloc(1, sizeof(*p)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim snp: out of memory");
		goto done;
	}
	p->hwid_len = line == COCOON_SNP_PRODUCT_TURIN ? 8 : 64;
	memcpy(p->hwid, o->hwid, p->hwid_len);
	if (cocoon_is_zero(p->hwid, p->hwid_len) && RAND_bytes(p->hwid, (int)p->hwid_len) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: RAND_bytes failed for the hwID");
		goto done;
	}
	snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", cocoon_snp_product_name(line));
	snprintf(ask_cn, sizeof(ask_cn), "SEV-%s", cocoon_snp_product_name(line));
	if (!(p->ark_key = EVP_RSA_gen(o->rsa_bits)) || !(p->ask_key = EVP_RSA_gen(o->rsa_bits)) ||
	    !(p->vcek_key = EVP_EC_gen("P-384"))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim snp: key generation failed");
		goto done;
	}
	if ((err = ca_make(&p->ark_cert, ark_cn, NULL, NULL, p->ark_key, o)) != 0 ||
	    (err = ca_make(&p->ask_cert, ask_cn, p->ark_cert, p->ark_key, p->ask_key, o)) != 0 ||
	    (err = vcek_make(p, o, pname, line == COCOON_SNP_PRODUCT_TURIN)) != 0 ||
	    (err = crl_make(&p->crl, p, NULL, 0, o->not_before, o->crl_next_update, 1)) != 0 ||
	    (err = cocoon_sim_snp_pki_describe(p)) != 0)
		goto done;
	*out = p;
	p = NULL;
done:
	cocoon_sim_snp_pki_free(p);
	return err;
}

int cocoon_sim_snp_reissue_crl(cocoon_sim_snp_pki *p, const ASN1_INTEGER *const *revoked, size_t n_revoked,
                               time_t this_update, time_t next_update)
{
	X509_CRL *crl = NULL;
	ASN1_INTEGER *num;
	long number = 0;
	int err;

	if (!p || !p->ark_cert || !p->ark_key || (n_revoked > 0 && !revoked))
		return cocoon_error_set(COCOON_EINVAL, "sim snp: reissue_crl needs a PKI and %zu revoked serials",
		                        n_revoked);
	if (next_update <= this_update)
		return cocoon_error_set(COCOON_EINVAL, "sim snp: CRL nextUpdate must be later than thisUpdate");
	if (p->crl && (num = X509_CRL_get_ext_d2i(p->crl, NID_crl_number, NULL, NULL)) != NULL) {
		number = ASN1_INTEGER_get(num);
		ASN1_INTEGER_free(num);
	}
	if ((err = crl_make(&crl, p, revoked, n_revoked, this_update, next_update, number > 0 ? number + 1 : 1)) != 0)
		return err;
	X509_CRL_free(p->crl);
	p->crl = crl;
	return 0;
}

void cocoon_sim_snp_pki_free(cocoon_sim_snp_pki *p)
{
	if (!p)
		return;
	/* EVP_PKEY_free clears the RSA and EC private values as it frees them. */
	EVP_PKEY_free(p->ark_key);
	EVP_PKEY_free(p->ask_key);
	EVP_PKEY_free(p->vcek_key);
	X509_free(p->ark_cert);
	X509_free(p->ask_cert);
	X509_free(p->vcek_cert);
	X509_CRL_free(p->crl);
	cocoon_zeroize(p, sizeof(*p));
	free(p);
}
