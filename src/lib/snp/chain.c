/*
 * The VCEK/VLEK chain: ARK (self-signed) -> ASK/ASVK -> VCEK/VLEK, each
 * signed with RSASSA-PSS/SHA-384, verified by OpenSSL's X509_verify_cert at
 * the verification time; then the AMD KDS profile (DNs, key types, KDS
 * extensions) and the optional ARK-issued CRL, fail-closed. The result is
 * the cacheable cocoon_snp_vcek_verified.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "snp/snp.h"
#include "dcap/x509.h"

static time_t asn1_to_time(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static void fmt_asn1(char *buf, size_t len, const ASN1_TIME *t) { cocoon_time_format(buf, len, asn1_to_time(t)); }

static void narrow(time_t *from, time_t *until, time_t start, time_t end)
{
	if (start > *from)
		*from = start;
	if (end < *until)
		*until = end;
}

/* Every certificate of a PEM bundle; COCOON_EFORMAT if there is none. */
static int pem_certs_parse(STACK_OF(X509) **out, const uint8_t *data, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	BIO *bio = NULL;
	X509 *x;
	int err = COCOON_EFORMAT;

	*out = NULL;
	if (!data || len == 0 || len > INT_MAX)
		return COCOON_EFORMAT;
	if (!(sk = sk_X509_new_null()) || !(bio = BIO_new_mem_buf(data, (int)len))) {
		err = COCOON_ENOMEM;
		goto done;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			err = COCOON_ENOMEM;
			goto done;
		}
	}
	/* The loop ends on "no start line" after the last certificate; any
	 * other error is a malformed block. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE || sk_X509_num(sk) == 0)
		goto done;
	*out = sk;
	sk = NULL;
	err = 0;
done:
	ERR_clear_error();
	BIO_free(bio);
	sk_X509_pop_free(sk, X509_free);
	return err;
}

static void subject_cn(char *buf, size_t len, X509 *x)
{
	buf[0] = '\0';
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len) < 0)
		snprintf(buf, len, "(none)");
}

/*
 * AMD KDS names (go-sev-guest validateAmdLocation): exactly one each of
 * C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, OU=Engineering and
 * the role's CN, nothing else.
 */
static int check_amd_name(cocoon_failure *f, const X509_NAME *name, const char *role, const char *part,
                          const char *cn)
{
	static const struct {
		int nid;
		const char *value;
	} fixed[] = {
		{ NID_countryName, "US" },
		{ NID_localityName, "Santa Clara" },
		{ NID_stateOrProvinceName, "CA" },
		{ NID_organizationName, "Advanced Micro Devices" },
		{ NID_organizationalUnitName, "Engineering" },
	};
	char buf[128];

	if (X509_NAME_entry_count(name) != 6)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s %s has %d attributes, the AMD KDS profile has 6 (C, L, ST, O, OU, CN)", role,
		                       part, X509_NAME_entry_count(name));
	/* The five fixed attributes, then (one past them) the role's CN. */
	for (size_t i = 0; i <= sizeof(fixed) / sizeof(fixed[0]); i++) {
		int nid = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i].nid : NID_commonName;
		const char *want = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i].value : cn;
		int idx = X509_NAME_get_index_by_NID(name, nid, -1);
		const ASN1_STRING *v;

		if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE, "%s %s must have exactly one %s", role,
			                       part, OBJ_nid2sn(nid));
		v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
		if ((size_t)ASN1_STRING_length(v) != strlen(want) ||
		    memcmp(ASN1_STRING_get0_data(v), want, strlen(want)) != 0) {
			int n = ASN1_STRING_length(v) < (int)sizeof(buf) - 1 ? ASN1_STRING_length(v) : (int)sizeof(buf) - 1;
			const unsigned char *d = ASN1_STRING_get0_data(v);
			/* The value is attacker-chosen: show it printable only. */
			for (int j = 0; j < n; j++)
				buf[j] = d[j] >= 0x20 && d[j] < 0x7f ? (char)d[j] : '?';
			buf[n > 0 ? n : 0] = '\0';
			return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE, "%s %s %s is \"%s\", expected \"%s\"",
			                       role, part, OBJ_nid2sn(nid), buf, want);
		}
	}
	return 0;
}

/* X.509 v3, RSASSA-PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt. */
static int check_pss_sha384(cocoon_failure *f, X509 *x, const char *role)
{
	int mdnid = 0, pknid = 0, secbits = 0;
	uint32_t flags = 0;

	if (X509_get_version(x) != X509_VERSION_3)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE, "%s certificate is X.509 version %ld, expected 3",
		                       role, X509_get_version(x) + 1);
	if (!X509_get_signature_info(x, &mdnid, &pknid, &secbits, &flags) || pknid != EVP_PKEY_RSA_PSS ||
	    mdnid != NID_sha384 || !(flags & X509_SIG_INFO_TLS))
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                       "%s certificate signature algorithm is %s (digest %s), expected RSASSA-PSS with "
		                       "SHA-384, MGF1-SHA-384 and a 48-byte salt",
		                       role, OBJ_nid2sn(X509_get_signature_nid(x)), mdnid ? OBJ_nid2sn(mdnid) : "unknown");
	return 0;
}

static int check_rsa_ca_key(cocoon_failure *f, X509 *x, const char *role)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	/* AMD's roots are RSA-4096; callers may trust their own (test) root,
	 * so only weak keys are refused here. */
	if (!k || (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA && EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA_PSS) ||
	    EVP_PKEY_get_bits(k) < 2048)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s certificate key must be RSA of at least 2048 bits (AMD uses 4096)", role);
	return 0;
}

static int check_p384_key(cocoon_failure *f, X509 *x, const char *role)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char group[32] = "";
	size_t glen = 0;

	if (!k || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_group_name(k, group, sizeof(group), &glen) || strcmp(group, "secp384r1") != 0)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                       "%s certificate key must be ECDSA on P-384 (secp384r1), found %s%s%s", role,
		                       k ? OBJ_nid2sn(EVP_PKEY_get_base_id(k)) : "none", group[0] ? " " : "", group);
	return 0;
}

static int chain_fail(cocoon_failure *f, X509_STORE_CTX *ctx, const char *const roles[3], time_t at)
{
	int e = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
	X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
	const char *role = depth >= 0 && depth < 3 ? roles[depth] : "certificate";
	char a[32], b[32], t[32];

	cocoon_time_format(t, sizeof(t), at);
	if ((e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID) && cur) {
		fmt_asn1(a, sizeof(a), X509_get0_notBefore(cur));
		fmt_asn1(b, sizeof(b), X509_get0_notAfter(cur));
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                       "%s certificate: %s (valid from %s to %s, verification time %s)", role,
		                       X509_verify_cert_error_string(e), a, b, t);
	}
	return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
	                       "%s certificate does not chain to the trusted ARK: %s (depth %d); pass the ASK+ARK "
	                       "(or ASVK+ARK) of the report's product line",
	                       role, X509_verify_cert_error_string(e), depth);
}

/* Separates a caller bundle into the self-signed ARK and the intermediate. */
static int split_chain(X509 **ark, X509 **ask, cocoon_failure *f, STACK_OF(X509) *sk, const char *source)
{
	*ark = *ask = NULL;
	if (sk_X509_num(sk) != 2)
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                       "%s chain has %d certificates, expected 2 (ASK or ASVK, and the ARK)", source,
		                       sk_X509_num(sk));
	for (int i = 0; i < 2; i++) {
		X509 *x = sk_X509_value(sk, i);
		if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0)
			*ark = x;
		else
			*ask = x;
	}
	if (!*ark || !*ask) {
		*ark = *ask = NULL;
		return COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                       "%s chain must hold one self-signed ARK and one ASK/ASVK issued by it", source);
	}
	return 0;
}

static int verify_x509(cocoon_failure *f, X509 *leaf, X509 *ask, X509 *ark, time_t at, const char *const roles[3])
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) *built;
	int err = 0;

	if (!store || !ctx || !untrusted || !X509_STORE_add_cert(store, ark) || !sk_X509_push(untrusted, ask) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "SNP chain: cannot set up X.509 verification");
		goto done;
	}
	X509_STORE_CTX_set_time(ctx, 0, at);
	/* OpenSSL does not check a trust anchor's own signature by default. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CHECK_SS_SIGNATURE);
	if (X509_verify_cert(ctx) != 1) {
		err = chain_fail(f, ctx, roles, at);
		goto done;
	}
	built = X509_STORE_CTX_get0_chain(ctx);
	if (sk_X509_num(built) != 3 || X509_cmp(sk_X509_value(built, 1), ask) != 0 ||
	    X509_cmp(sk_X509_value(built, 2), ark) != 0)
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                      "%s chain verified through %d certificates instead of %s -> %s -> %s", roles[0],
		                      sk_X509_num(built), roles[0], roles[1], roles[2]);
done:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	return err;
}

/* The intermediate and root names for a product line, then the leaf's issuer. */
static int check_chain_profile(cocoon_failure *f, X509 *leaf, X509 *ask, X509 *ark, cocoon_snp_product p,
                               int signer, const char *const roles[3])
{
	char ark_cn[32], ask_cn[32];
	int err;

	snprintf(ark_cn, sizeof(ark_cn), "ARK-%s", cocoon_snp_product_name(p));
	snprintf(ask_cn, sizeof(ask_cn), signer == COCOON_SNP_SIGNER_VLEK ? "SEV-VLEK-%s" : "SEV-%s",
	         cocoon_snp_product_name(p));
	if ((err = check_amd_name(f, X509_get_subject_name(ark), roles[2], "subject", ark_cn)) != 0 ||
	    (err = check_amd_name(f, X509_get_subject_name(ask), roles[1], "subject", ask_cn)) != 0 ||
	    (err = check_amd_name(f, X509_get_issuer_name(ask), roles[1], "issuer", ark_cn)) != 0 ||
	    (err = check_amd_name(f, X509_get_issuer_name(leaf), roles[0], "issuer", ask_cn)) != 0)
		return err;
	for (int i = 0; i < 3; i++) {
		X509 *x = i == 0 ? leaf : i == 1 ? ask : ark;
		if ((err = check_pss_sha384(f, x, roles[i])) != 0)
			return err;
	}
	if ((err = check_rsa_ca_key(f, ask, roles[1])) != 0 || (err = check_rsa_ca_key(f, ark, roles[2])) != 0)
		return err;
	return 0;
}

static int check_crl(cocoon_snp_vcek_verified *vv, cocoon_failure *f, const uint8_t *data, size_t len, X509 *leaf,
                     X509 *ask, X509 *ark, time_t at, const char *const roles[3])
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	X509 *revoked = NULL;
	const ASN1_TIME *last, *next;
	char a[32], b[32];
	int err = 0;

	if (cocoon_crl_parse(&crl, data, len) != 0) {
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CRL,
		                      "CRL (%zu bytes) is neither a DER nor a PEM X.509 CRL; pass the AMD KDS CRL of the "
		                      "product line",
		                      len);
		goto done;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ark)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(ark)) != 1) {
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CRL,
		                      "CRL is not issued and signed by the trusted ARK; pass the CRL of the same product "
		                      "line as the chain");
		goto done;
	}
	last = X509_CRL_get0_lastUpdate(crl);
	next = X509_CRL_get0_nextUpdate(crl);
	cocoon_time_format(b, sizeof(b), at);
	if (!last || ASN1_TIME_cmp_time_t(last, at) > 0) {
		fmt_asn1(a, sizeof(a), last);
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CRL,
		                      "CRL thisUpdate %s is after the verification time %s", a, b);
		goto done;
	}
	if (!next || ASN1_TIME_cmp_time_t(next, at) < 0) {
		if (next)
			fmt_asn1(a, sizeof(a), next);
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CRL,
		                      "CRL is stale: nextUpdate %s is before the verification time %s; fetch a current "
		                      "CRL from AMD KDS",
		                      next ? a : "(absent)", b);
		goto done;
	}
	/* The ARK issues the ASK/ASVK, so the CRL matches it by issuer and
	 * serial. AMD lists endorsement keys in the ARK's CRL too, so a
	 * VCEK/VLEK serial listed there is treated as revoked (fail-closed). */
	if (X509_CRL_get0_by_cert(crl, &rev, ask) == 1)
		revoked = ask;
	else if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(leaf)) == 1)
		revoked = leaf;
	if (revoked) {
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(revoked), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		fmt_asn1(a, sizeof(a), X509_REVOKED_get0_revocationDate(rev));
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_CERT_REVOKED,
		                      "%s certificate (serial 0x%s) is revoked by the CRL since %s",
		                      roles[revoked == ask ? 1 : 0], hex ? hex : "?", a);
		OPENSSL_free(hex);
		BN_free(bn);
		goto done;
	}
	narrow(&vv->valid_from, &vv->valid_until, asn1_to_time(last), asn1_to_time(next));
	vv->crl_checked = 1;
done:
	ERR_clear_error();
	X509_CRL_free(crl);
	return err;
}

static void vcek_destroy(cocoon_ref *r)
{
	cocoon_snp_vcek_verified *vv = (cocoon_snp_vcek_verified *)r;
	EVP_PKEY_free(vv->key);
	free(vv);
}

void cocoon_snp_vcek_put(cocoon_snp_vcek_verified *vv)
{
	if (vv)
		cocoon_ref_put(&vv->ref);
}

int cocoon_snp_vcek_cache_key(uint8_t key[32], const uint8_t *cert, size_t cert_len, const uint8_t *chain,
                              size_t chain_len, const uint8_t *crl, size_t crl_len)
{
	static const char tag[] = "cocoon-snp-vcek-v1";
	/* Lengths are hashed so that no two input triples share a preimage. */
	uint64_t lens[3] = { cert_len, chain ? chain_len : 0, crl ? crl_len : 0 };
	const void *parts[5] = { tag, lens, cert, chain, crl };
	size_t sizes[5] = { sizeof(tag), sizeof(lens), cert_len, lens[1], lens[2] };
	return cocoon_sha256(key, 5, parts, sizes);
}

int cocoon_snp_vcek_verify(cocoon_snp_vcek_verified **out, cocoon_failure *f, const uint8_t *cert, size_t cert_len,
                           const uint8_t *chain, size_t chain_len, const uint8_t *crl, size_t crl_len, time_t at)
{
	static const char *const vcek_roles[3] = { "VCEK", "ASK", "ARK" };
	static const char *const vlek_roles[3] = { "VLEK", "ASVK", "ARK" };
	const char *const *roles;
	cocoon_snp_vcek_verified *vv = NULL;
	STACK_OF(X509) *sk = NULL;
	X509 *leaf = NULL, *ark, *ask;
	const char *pem, *source;
	char cn[64];
	int err = 0, signer;

	*out = NULL;
	if (cocoon_cert_parse(&leaf, cert, cert_len) != 0) {
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
		                      "VCEK/VLEK certificate (%zu bytes) is neither DER nor PEM X.509", cert_len);
		goto done;
	}
	subject_cn(cn, sizeof(cn), leaf);
	if (strcmp(cn, "SEV-VCEK") == 0) {
		signer = COCOON_SNP_SIGNER_VCEK;
	} else if (strcmp(cn, "SEV-VLEK") == 0) {
		signer = COCOON_SNP_SIGNER_VLEK;
	} else {
		err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_PROFILE,
		                      "endorsement key certificate subject CN is \"%s\", expected \"SEV-VCEK\" or "
		                      "\"SEV-VLEK\"",
		                      cn);
		goto done;
	}
	roles = signer == COCOON_SNP_SIGNER_VLEK ? vlek_roles : vcek_roles;
	if (!(vv = calloc(1, sizeof(*vv)))) {
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory verifying a VCEK");
		goto done;
	}
	cocoon_ref_init(&vv->ref, vcek_destroy);
	vv->signer = signer;
	vv->valid_from = 0;
	vv->valid_until = (time_t)INT64_MAX;
	if ((err = check_amd_name(f, X509_get_subject_name(leaf), roles[0], "subject", cn)) != 0 ||
	    (err = check_p384_key(f, leaf, roles[0])) != 0 ||
	    (err = cocoon_snp_kds_ext_parse(&vv->ext, f, leaf, signer)) != 0)
		goto done;
	vv->product = vv->ext.product;

	if (chain) {
		source = "caller-supplied";
		if (pem_certs_parse(&sk, chain, chain_len) != 0) {
			err = COCOON_SNP_FAIL(f, COCOON_CHECK_SNP_VCEK_CHAIN,
			                      "caller-supplied chain (%zu bytes) is not a PEM bundle of X.509 certificates",
			                      chain_len);
			goto done;
		}
	} else {
		source = "embedded";
		pem = cocoon_snp_embedded_chain(vv->product, signer);
		if (!pem || pem_certs_parse(&sk, (const uint8_t *)pem, strlen(pem)) != 0) {
			err = cocoon_error_set(COCOON_EINTERNAL, "embedded AMD %s chain for %s is unusable", roles[1],
			                       cocoon_snp_product_name(vv->product));
			goto done;
		}
	}
	if ((err = split_chain(&ark, &ask, f, sk, source)) != 0 ||
	    (err = verify_x509(f, leaf, ask, ark, at, roles)) != 0 ||
	    (err = check_chain_profile(f, leaf, ask, ark, vv->product, signer, roles)) != 0)
		goto done;
	for (int i = 0; i < 3; i++) {
		X509 *x = i == 0 ? leaf : i == 1 ? ask : ark;
		narrow(&vv->valid_from, &vv->valid_until, asn1_to_time(X509_get0_notBefore(x)),
		       asn1_to_time(X509_get0_notAfter(x)));
	}
	if (crl && (err = check_crl(vv, f, crl, crl_len, leaf, ask, ark, at, roles)) != 0)
		goto done;
	vv->simulated = cocoon_snp_cert_is_simulated(ark);
	if (!(vv->key = X509_get_pubkey(leaf))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "cannot extract the %s public key", roles[0]);
		goto done;
	}
	*out = vv;
	vv = NULL;
done:
	ERR_clear_error();
	cocoon_snp_vcek_put(vv);
	sk_X509_pop_free(sk, X509_free);
	X509_free(leaf);
	return err;
}
