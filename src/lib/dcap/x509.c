/*
 * DCAP certificate chains and CRLs.
 *
 * OpenSSL's X509_verify_cert does the cryptography: signatures, validity,
 * basic constraints, and CRL checks on every certificate of the chain
 * (CRL_CHECK_ALL, so a missing CRL is fatal). Before handing the chain to
 * OpenSSL, cocoon checks what OpenSSL cannot know: the chain has Intel's
 * shape, ends in the pinned root byte-for-byte, every certificate and CRL
 * follows Intel's PCK certificate and CRL profile, and each CRL comes from
 * the issuer it claims to cover. Failures name the certificate or CRL.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "dcap/x509.h"

#define NAME_MAX_TEXT 256

/* ---- names and times ---------------------------------------------------- */

/*
 * Copies the name's single commonName as UTF-8. Returns -1 when the CN is
 * absent, repeated, too long or contains a NUL, so profile checks never
 * match a phrase against an ambiguous name.
 */
static int name_cn_exact(char *buf, size_t n, const X509_NAME *name)
{
	unsigned char *utf8 = NULL;
	int idx, len, rc = -1;

	buf[0] = '\0';
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -1;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (len < 0 || (size_t)len >= n || memchr(utf8, 0, (size_t)len))
		goto done;
	memcpy(buf, utf8, (size_t)len);
	buf[len] = '\0';
	rc = 0;
done:
	OPENSSL_free(utf8);
	ERR_clear_error();
	return rc;
}

/* A printable "CN=..." (or the whole one-line name) for messages. */
static const char *name_text(char *buf, size_t n, const X509_NAME *name)
{
	if (n < 32) {
		if (n)
			buf[0] = '\0';
		return buf;
	}
	if (!name) {
		snprintf(buf, n, "(no name)");
		return buf;
	}
	memcpy(buf, "CN=", 3);
	if (name_cn_exact(buf + 3, n - 3, name) != 0 &&
	    !X509_NAME_oneline(name, buf, (int)(n > INT_MAX ? INT_MAX : n)))
		snprintf(buf, n, "(unprintable name)");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

static const char *subject_text(char *buf, size_t n, const X509 *x)
{
	return name_text(buf, n, x ? X509_get_subject_name(x) : NULL);
}

static int asn1_time_get(time_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return -1;
	}
	*out = timegm(&tm);
	return 0;
}

static const char *time_text(char *buf, size_t n, const ASN1_TIME *t)
{
	time_t v;

	if (asn1_time_get(&v, t) != 0)
		snprintf(buf, n, "(invalid time)");
	else
		cocoon_time_format(buf, n, v);
	return buf;
}

static const char *serial_text(char *buf, size_t n, const X509 *x)
{
	BIGNUM *bn = x ? ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL) : NULL;
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	snprintf(buf, n, "%s", hex ? hex : "(unknown)");
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
	return buf;
}

/* ---- profile checks (before OpenSSL) ----------------------------------- */

typedef struct {
	const char *what;      /* "PCK leaf certificate" */
	const char *phrase;    /* CN must contain it */
	const char *phrase2;   /* ... or this one (may be NULL) */
	int is_ca;
} cert_role;

static const cert_role pck_roles[] = {
	{ "PCK leaf certificate", "SGX PCK Certificate", NULL, 0 },
	{ "PCK CA certificate", "SGX PCK Platform CA", "SGX PCK Processor CA", 1 },
	{ "root CA certificate", "SGX Root CA", NULL, 1 },
};

static const cert_role tcb_roles[] = {
	{ "TCB signing certificate", "SGX TCB Signing", NULL, 0 },
	{ "root CA certificate", "SGX Root CA", NULL, 1 },
};

static int is_p256(EVP_PKEY *key)
{
	char group[64];
	int nid;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return 0;
	if (!EVP_PKEY_get_group_name(key, group, sizeof(group), NULL)) {
		ERR_clear_error();
		return 0;
	}
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid == NID_X9_62_prime256v1;
}

static int check_cert_profile(cocoon_failure *f, cocoon_check check, X509 *x, int depth, const cert_role *role)
{
	char cn[NAME_MAX_TEXT], who[NAME_MAX_TEXT + 64];
	BASIC_CONSTRAINTS *bc = NULL;
	int crit = -1, err = 0, ca;

	snprintf(who, sizeof(who), "%s (depth %d, %s)", role->what, depth,
	         subject_text(cn, sizeof(cn), x));
	if (X509_get_version(x) != X509_VERSION_3) {
		err = cocoon_fail(f, check, "%s is X.509 v%ld; Intel's profile requires v3", who,
		                  X509_get_version(x) + 1);
		goto done;
	}
	if (X509_get_signature_nid(x) != NID_ecdsa_with_SHA256) {
		err = cocoon_fail(f, check, "%s is signed with %s; Intel's profile requires ecdsa-with-SHA256", who,
		                  OBJ_nid2ln(X509_get_signature_nid(x)));
		goto done;
	}
	if (!is_p256(X509_get0_pubkey(x))) {
		err = cocoon_fail(f, check, "%s does not have an EC P-256 (prime256v1) public key", who);
		goto done;
	}
	if (name_cn_exact(cn, sizeof(cn), X509_get_subject_name(x)) != 0) {
		err = cocoon_fail(f, check, "%s must have exactly one printable subject CN", who);
		goto done;
	}
	if (!strstr(cn, role->phrase) && !(role->phrase2 && strstr(cn, role->phrase2))) {
		err = cocoon_fail(f, check, "%s subject CN \"%s\" does not contain \"%s\"%s%s%s", who, cn, role->phrase,
		                  role->phrase2 ? " or \"" : "", role->phrase2 ? role->phrase2 : "",
		                  role->phrase2 ? "\"" : "");
		goto done;
	}
	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (!bc && crit != -1) {
		err = cocoon_fail(f, check, "%s has a malformed or repeated basicConstraints extension", who);
		goto done;
	}
	ca = X509_check_ca(x);
	if (role->is_ca && (ca != 1 || !bc || !bc->ca)) {
		err = cocoon_fail(f, check, "%s must be a CA (basicConstraints CA:TRUE, keyUsage allowing keyCertSign)",
		                  who);
		goto done;
	}
	if (!role->is_ca && (ca != 0 || (bc && bc->ca))) {
		err = cocoon_fail(f, check, "%s must not be a CA (it has CA:TRUE or keyCertSign)", who);
		goto done;
	}
done:
	BASIC_CONSTRAINTS_free(bc);
	ERR_clear_error();
	return err;
}

static int der_equal(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int la, lb, eq;

	/* The parsed-certificate cache hands out the pinned root object itself. */
	if (a == b)
		return 1;
	la = i2d_X509(a, &da);
	lb = i2d_X509(b, &db);
	eq = la > 0 && la == lb && memcmp(da, db, (size_t)la) == 0;

	OPENSSL_free(da);
	OPENSSL_free(db);
	ERR_clear_error();
	return eq;
}

static int check_chain_shape(cocoon_failure *f, const cocoon_chain_spec *spec, const cert_role *roles, int n)
{
	STACK_OF(X509) *chain = spec->chain;
	char a[NAME_MAX_TEXT], b[NAME_MAX_TEXT];
	X509 *root = sk_X509_value(chain, n - 1);
	EVP_PKEY *root_key;

	for (int i = 0; i < n; i++)
		if (!sk_X509_value(chain, i))
			return cocoon_fail(f, spec->chain_check, "%s (depth %d) is missing", roles[i].what, i);
	if (!der_equal(root, spec->trusted_root))
		return cocoon_fail(f, spec->chain_check,
		                   "chain root is not the pinned root: the chain ends in %s, the pinned anchor is %s "
		                   "(a byte-identical copy of the trusted root is required)",
		                   subject_text(a, sizeof(a), root), subject_text(b, sizeof(b), spec->trusted_root));
	/* The anchor's self-signature was verified once when it was pinned
	 * (cocoon_verifier_new); the chain's root is byte-identical to it. */
	root_key = X509_get0_pubkey(root);
	if (spec->role != COCOON_CHAIN_PCK_LEAF && (X509_check_issued(root, root) != X509_V_OK || !root_key))
		return cocoon_fail(f, spec->chain_check, "root CA certificate %s is not self-issued",
		                   subject_text(a, sizeof(a), root));
	for (int i = 0; i + 1 < n; i++) {
		X509 *x = sk_X509_value(chain, i), *up = sk_X509_value(chain, i + 1);
		if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(up)) != 0)
			return cocoon_fail(f, spec->chain_check,
			                   "%s (depth %d) issuer %s does not match the subject %s of the %s (depth %d)",
			                   roles[i].what, i, name_text(a, sizeof(a), X509_get_issuer_name(x)),
			                   name_text(b, sizeof(b), X509_get_subject_name(up)), roles[i + 1].what, i + 1);
	}
	for (int i = 0; i < n; i++) {
		int err = check_cert_profile(f, spec->chain_check, sk_X509_value(chain, i), i, &roles[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Intel's CRL profile (QVL checkStandardExtensions) and the CRL's issuer rule. */
static int check_crl_profile(cocoon_failure *f, cocoon_check check, const char *what, X509_CRL *crl,
                             const X509_NAME *issuer, const char *issuer_role, int cn_needs_ca)
{
	char a[NAME_MAX_TEXT], b[NAME_MAX_TEXT], cn[NAME_MAX_TEXT];
	ASN1_INTEGER *number = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int crit = -1, err = 0;

	if (X509_CRL_get_version(crl) != X509_CRL_VERSION_2) {
		err = cocoon_fail(f, check, "%s is CRL v%ld; Intel's profile requires v2", what,
		                  X509_CRL_get_version(crl) + 1);
		goto done;
	}
	if (X509_CRL_get_signature_nid(crl) != NID_ecdsa_with_SHA256) {
		err = cocoon_fail(f, check, "%s is signed with %s; Intel's profile requires ecdsa-with-SHA256", what,
		                  OBJ_nid2ln(X509_CRL_get_signature_nid(crl)));
		goto done;
	}
	number = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (!number) {
		err = cocoon_fail(f, check, "%s has %s CRL Number extension (required by Intel's CRL profile)", what,
		                  crit == -1 ? "no" : "a malformed or repeated");
		goto done;
	}
	crit = -1;
	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
	if (!akid) {
		err = cocoon_fail(f, check, "%s has %s Authority Key Identifier extension (required by Intel's CRL profile)",
		                  what, crit == -1 ? "no" : "a malformed or repeated");
		goto done;
	}
	if (!akid->keyid) {
		err = cocoon_fail(f, check, "%s Authority Key Identifier has no key identifier", what);
		goto done;
	}
	if (!X509_CRL_get0_nextUpdate(crl)) {
		err = cocoon_fail(f, check, "%s has no nextUpdate; Intel's CRLs always carry one", what);
		goto done;
	}
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), issuer) != 0) {
		err = cocoon_fail(f, check, "%s issuer %s does not match the %s %s", what,
		                  name_text(a, sizeof(a), X509_CRL_get_issuer(crl)), issuer_role,
		                  name_text(b, sizeof(b), issuer));
		goto done;
	}
	if (cn_needs_ca && (name_cn_exact(cn, sizeof(cn), X509_CRL_get_issuer(crl)) != 0 || !strstr(cn, "CA"))) {
		err = cocoon_fail(f, check, "%s issuer %s is not a CA name (its CN must contain \"CA\")", what,
		                  name_text(a, sizeof(a), X509_CRL_get_issuer(crl)));
		goto done;
	}
done:
	ASN1_INTEGER_free(number);
	AUTHORITY_KEYID_free(akid);
	ERR_clear_error();
	return err;
}

static void earliest(time_t *acc, const ASN1_TIME *t)
{
	time_t v;

	if (asn1_time_get(&v, t) == 0 && (*acc == 0 || v < *acc))
		*acc = v;
}

/* ---- OpenSSL verification ---------------------------------------------- */

typedef struct {
	int allow_expired_crl;
	int crl_expired;
	int error;             /* first X509_V_ERR_* that stopped verification */
	int depth;
	X509 *cert;            /* certificate being checked then (owned) */
	X509_CRL *crl;         /* CRL being checked then (owned), if any */
} verify_state;

static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	verify_state *st = X509_STORE_CTX_get_app_data(ctx);
	int err = X509_STORE_CTX_get_error(ctx);

	if (ok || !st)
		return ok;
	if (err == X509_V_ERR_CRL_HAS_EXPIRED && st->allow_expired_crl) {
		st->crl_expired = 1;
		return 1;
	}
	if (st->error == X509_V_OK) {
		X509 *x = X509_STORE_CTX_get_current_cert(ctx);
		X509_CRL *crl = X509_STORE_CTX_get0_current_crl(ctx);
		st->error = err;
		st->depth = X509_STORE_CTX_get_error_depth(ctx);
		if (x && X509_up_ref(x))
			st->cert = x;
		if (crl && X509_CRL_up_ref(crl))
			st->crl = crl;
	}
	return 0;
}

static int is_crl_error(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_CRL_PATH_VALIDATION_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int report_verify_error(cocoon_failure *f, const cocoon_chain_spec *spec, const verify_state *st)
{
	char who[NAME_MAX_TEXT], iss[NAME_MAX_TEXT], t1[32], t2[32], serial[128];
	X509 *x = st->cert ? st->cert : sk_X509_value(spec->chain, st->depth);
	X509 *root = sk_X509_value(spec->chain, sk_X509_num(spec->chain) - 1);
	const X509_NAME *issuer = x ? X509_get_issuer_name(x) : NULL;
	int by_root = spec->role != COCOON_CHAIN_PCK_LEAF && issuer &&
	              X509_NAME_cmp(issuer, X509_get_subject_name(root)) == 0;
	cocoon_check crl_check = by_root ? COCOON_CHECK_ROOT_CA_CRL : COCOON_CHECK_PCK_CRL;
	const char *crl_what = by_root ? "root CA CRL" : "PCK CRL";
	X509_CRL *crl = st->crl ? st->crl : (by_root ? spec->root_crl : spec->pck_crl);

	if (!x)
		return cocoon_fail(f, spec->chain_check, "certificate verification failed at depth %d: %s", st->depth,
		                   X509_verify_cert_error_string(st->error));
	subject_text(who, sizeof(who), x);
	name_text(iss, sizeof(iss), issuer);
	cocoon_time_format(t2, sizeof(t2), spec->at);
	switch (st->error) {
	case X509_V_ERR_CERT_REVOKED:
		return cocoon_fail(f, COCOON_CHECK_CERT_REVOKED,
		                   "certificate revoked: %s (depth %d) serial %s is listed in the %s issued by %s", who,
		                   st->depth, serial_text(serial, sizeof(serial), x), crl_what, iss);
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return cocoon_fail(f, crl_check,
		                   "unable to get CRL issued by %s for %s (depth %d): supply the %s (revocation is "
		                   "checked for every certificate)",
		                   iss, who, st->depth, crl_what);
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
		return cocoon_fail(f, crl_check, "CRL signature invalid: the %s claiming issuer %s does not verify with "
		                   "that issuer's key", crl_what, iss);
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return cocoon_fail(f, crl_check, "CRL has expired: the %s issued by %s has nextUpdate %s, before the "
		                   "verification time %s; fetch a fresh CRL", crl_what, iss,
		                   crl ? time_text(t1, sizeof(t1), X509_CRL_get0_nextUpdate(crl)) : "(unknown)", t2);
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return cocoon_fail(f, crl_check, "CRL is not yet valid: the %s issued by %s has thisUpdate %s, after the "
		                   "verification time %s", crl_what, iss,
		                   crl ? time_text(t1, sizeof(t1), X509_CRL_get0_lastUpdate(crl)) : "(unknown)", t2);
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return cocoon_fail(f, spec->chain_check, "certificate has expired: %s (depth %d) notAfter %s is before "
		                   "the verification time %s", who, st->depth,
		                   time_text(t1, sizeof(t1), X509_get0_notAfter(x)), t2);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return cocoon_fail(f, spec->chain_check, "certificate is not yet valid: %s (depth %d) notBefore %s is "
		                   "after the verification time %s", who, st->depth,
		                   time_text(t1, sizeof(t1), X509_get0_notBefore(x)), t2);
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		return cocoon_fail(f, spec->chain_check, "certificate signature invalid: %s (depth %d) does not verify "
		                   "with the key of its issuer %s", who, st->depth, iss);
	default:
		if (is_crl_error(st->error))
			return cocoon_fail(f, crl_check, "%s issued by %s, checking %s (depth %d): %s", crl_what, iss, who,
			                   st->depth, X509_verify_cert_error_string(st->error));
		return cocoon_fail(f, spec->chain_check, "certificate verification failed at %s (depth %d): %s", who,
		                   st->depth, X509_verify_cert_error_string(st->error));
	}
}

static int uses_pck_crl(cocoon_chain_role role)
{
	return role == COCOON_CHAIN_PCK || role == COCOON_CHAIN_PCK_LEAF;
}

static int openssl_verify(cocoon_chain_result *res, cocoon_failure *f, const cocoon_chain_spec *spec, int n)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *untrusted = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	verify_state st = { spec->allow_expired_crl, 0, X509_V_OK, 0, NULL, NULL };
	int err = 0, rc;

	if (!(store = X509_STORE_new()) || !X509_STORE_add_cert(store, spec->trusted_root) ||
	    !(untrusted = sk_X509_new_null()) || !(crls = sk_X509_CRL_new_null()) || !(ctx = X509_STORE_CTX_new())) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "X.509: cannot set up the verification context");
		goto done;
	}
	for (int i = 1; i < n; i++) {
		if (!sk_X509_push(untrusted, sk_X509_value(spec->chain, i))) {
			err = cocoon_error_set_openssl(COCOON_ENOMEM, "X.509: cannot set up the verification context");
			goto done;
		}
	}
	if ((spec->role != COCOON_CHAIN_PCK_LEAF && spec->root_crl && !sk_X509_CRL_push(crls, spec->root_crl)) ||
	    (uses_pck_crl(spec->role) && spec->pck_crl && !sk_X509_CRL_push(crls, spec->pck_crl))) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "X.509: cannot set up the verification context");
		goto done;
	}
	if (!X509_STORE_CTX_init(ctx, store, sk_X509_value(spec->chain, 0), untrusted)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "X.509: X509_STORE_CTX_init failed");
		goto done;
	}
	X509_STORE_CTX_set0_crls(ctx, crls);
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	/* CRL_CHECK_ALL: every certificate needs a CRL from its issuer, so a missing CRL fails closed. */
	if (spec->role == COCOON_CHAIN_PCK_LEAF)
		/* The anchor is the PCK CA verified separately (with its own CRL check): only the leaf's
		 * revocation remains, and the PCK CRL is required for it. */
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_PARTIAL_CHAIN |
		                                           X509_V_FLAG_X509_STRICT);
	else
		X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL |
		                                           X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_time(param, spec->at);
	X509_VERIFY_PARAM_set_depth(param, n);
	X509_STORE_CTX_set_app_data(ctx, &st);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);

	rc = X509_verify_cert(ctx);
	if (rc != 1) {
		if (st.error == X509_V_OK)
			st.error = X509_STORE_CTX_get_error(ctx);
		if (st.error == X509_V_OK) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "X.509: X509_verify_cert failed without a reason");
			goto done;
		}
		err = report_verify_error(f, spec, &st);
		goto done;
	}
	/* The store held only the pinned root: OpenSSL must have used exactly the given chain. */
	if (sk_X509_num(X509_STORE_CTX_get0_chain(ctx)) != n) {
		err = cocoon_fail(f, spec->chain_check, "OpenSSL built a chain of %d certificates, expected %d",
		                  sk_X509_num(X509_STORE_CTX_get0_chain(ctx)), n);
		goto done;
	}
	res->crl_expired = st.crl_expired;
done:
	X509_free(st.cert);
	X509_CRL_free(st.crl);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	sk_X509_CRL_free(crls);
	ERR_clear_error();
	return err;
}

int cocoon_x509_verify_chain(cocoon_chain_result *res, cocoon_failure *f, const cocoon_chain_spec *spec)
{
	cocoon_chain_result local;
	const cert_role *roles;
	int n, want, err;
	X509 *root;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (!spec || !spec->chain || !spec->trusted_root)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_x509_verify_chain: chain and trusted_root are required");
	if (spec->role == COCOON_CHAIN_PCK) {
		roles = pck_roles;
		want = 3;
	} else if (spec->role == COCOON_CHAIN_TCB_SIGNING) {
		roles = tcb_roles;
		want = 2;
	} else if (spec->role == COCOON_CHAIN_PCK_CA) {
		roles = pck_roles + 1;
		want = 2;
	} else if (spec->role == COCOON_CHAIN_PCK_LEAF) {
		roles = pck_roles;
		want = 2;
	} else {
		return cocoon_error_set(COCOON_EINVAL, "cocoon_x509_verify_chain: unknown chain role %d", (int)spec->role);
	}
	n = sk_X509_num(spec->chain);
	if (n != want) {
		static const char *const names[] = { "", "PCK", "TCB signing", "PCK CRL issuer", "PCK leaf" };
		static const char *const shapes[] = { "", "PCK leaf, PCK CA, root CA", "TCB signing, root CA",
			                              "PCK CA, root CA", "PCK leaf, PCK CA" };
		return cocoon_fail(f, spec->chain_check, "%s chain must have %d certificates (%s), got %d",
		                   names[spec->role], want, shapes[spec->role], n < 0 ? 0 : n);
	}
	if ((err = check_chain_shape(f, spec, roles, n)))
		return err;
	root = sk_X509_value(spec->chain, n - 1);
	if (spec->role != COCOON_CHAIN_PCK_LEAF && spec->root_crl &&
	    (err = check_crl_profile(f, COCOON_CHECK_ROOT_CA_CRL, "root CA CRL", spec->root_crl,
	                             X509_get_subject_name(root), "root CA subject", 0)))
		return err;
	if (uses_pck_crl(spec->role) && spec->pck_crl &&
	    (err = check_crl_profile(f, COCOON_CHECK_PCK_CRL, "PCK CRL", spec->pck_crl,
	                             X509_get_issuer_name(sk_X509_value(spec->chain, 0)),
	                             "PCK certificate's issuer", 1)))
		return err;
	for (int i = 0; i < n; i++)
		earliest(&res->earliest_expiry, X509_get0_notAfter(sk_X509_value(spec->chain, i)));
	if (spec->role != COCOON_CHAIN_PCK_LEAF && spec->root_crl)
		earliest(&res->earliest_expiry, X509_CRL_get0_nextUpdate(spec->root_crl));
	if (uses_pck_crl(spec->role) && spec->pck_crl)
		earliest(&res->earliest_expiry, X509_CRL_get0_nextUpdate(spec->pck_crl));
	return openssl_verify(res, f, spec, n);
}

/* ---- parsing ------------------------------------------------------------ */

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Reads the next PEM block from a memory BIO over `total` bytes. Only
 * whitespace may precede it (PEM_read_bio itself would skip any junk).
 * Returns 1 with the decoded DER, 0 when only whitespace remains, or a
 * negative error naming `what` and the byte offset.
 */
static int pem_next(unsigned char **der, long *der_len, BIO *bio, size_t total, const char *label,
                    const char *what)
{
	char *rest = NULL, *name = NULL, *header = NULL;
	long left = BIO_get_mem_data(bio, &rest);
	size_t ws = 0, off;
	int rc = 1;

	*der = NULL;
	*der_len = 0;
	if (left < 0 || (size_t)left > total)
		return cocoon_error_set(COCOON_EINTERNAL, "%s: memory BIO in an unexpected state", what);
	while (ws < (size_t)left && is_space((unsigned char)rest[ws]))
		ws++;
	if (ws == (size_t)left)
		return 0;
	off = total - (size_t)left + ws;
	if ((size_t)left - ws < 11 || memcmp(rest + ws, "-----BEGIN ", 11) != 0) {
		rc = cocoon_error_set(COCOON_EFORMAT, "%s: unexpected data at byte offset %zu (expected \"-----BEGIN %s-----\")",
		                      what, off, label);
		goto done;
	}
	if (!PEM_read_bio(bio, &name, &header, der, der_len)) {
		rc = cocoon_error_set_openssl(COCOON_EFORMAT, "%s: invalid PEM block at byte offset %zu", what, off);
		goto done;
	}
	if (strcmp(name, label) != 0 || (header && header[0])) {
		rc = cocoon_error_set(COCOON_EFORMAT, "%s: PEM block at byte offset %zu is \"%s\"%s, expected \"%s\"", what,
		                      off, name, header && header[0] ? " with headers" : "", label);
		OPENSSL_free(*der);
		*der = NULL;
		goto done;
	}
done:
	OPENSSL_free(name);
	OPENSSL_free(header);
	return rc;
}

static int cert_from_der(X509 **out, const unsigned char *der, long len, const char *what)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);

	if (!x)
		return cocoon_error_set_openssl(COCOON_EFORMAT, "%s: not a valid DER X.509 certificate", what);
	if (p != der + len) {
		X509_free(x);
		return cocoon_error_set(COCOON_EFORMAT, "%s: %ld trailing bytes after the DER certificate at offset %ld",
		                        what, len - (long)(p - der), (long)(p - der));
	}
	*out = x;
	return 0;
}

typedef struct {
	cocoon_ref ref;
	X509 *x;
} cert_entry;

static void cert_entry_destroy(cocoon_ref *r)
{
	cert_entry *e = (cert_entry *)r;
	X509_free(e->x);
	free(e);
}

int cocoon_cert_cache_put(cocoon_cache *certs, const uint8_t digest[32], X509 *x)
{
	cert_entry *e = calloc(1, sizeof(*e));
	int err;
	if (!e)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory caching a certificate");
	cocoon_ref_init(&e->ref, cert_entry_destroy);
	X509_up_ref(x);
	e->x = x;
	err = cocoon_cache_put(certs, digest, &e->ref, 0, (time_t)INT64_MAX);
	cocoon_ref_put(&e->ref);
	return err;
}

/* A certificate from DER, shared through `certs` when given: OpenSSL 3.0
 * spends ~100 us decoding each certificate's public key, and the CA and
 * root certificates repeat in every chain. Parsed X509 objects are only
 * read afterwards, so sharing them between threads is safe. */
static int cert_from_der_cached(X509 **out, const unsigned char *der, long len, const char *what, cocoon_cache *certs)
{
	uint8_t digest[32];
	const void *parts[1] = { der };
	const size_t lens[1] = { (size_t)len };
	cert_entry *e;
	int err;

	if (!certs)
		return cert_from_der(out, der, len, what);
	if ((err = cocoon_sha256(digest, 1, parts, lens)) != 0)
		return err;
	if ((e = (cert_entry *)cocoon_cache_get(certs, digest, 0)) != NULL) {
		X509_up_ref(e->x);
		*out = e->x;
		cocoon_ref_put(&e->ref);
		return 0;
	}
	if ((err = cert_from_der(out, der, len, what)) != 0)
		return err;
	return cocoon_cert_cache_put(certs, digest, *out);
}

int cocoon_pem_chain_parse(STACK_OF(X509) **out, const char *pem, size_t len)
{
	return cocoon_pem_chain_parse_cached(out, pem, len, NULL);
}

int cocoon_pem_chain_parse_cached(STACK_OF(X509) **out, const char *pem, size_t len, cocoon_cache *cache)
{
	STACK_OF(X509) *certs = NULL;
	BIO *bio = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	char what[64];
	int err = 0;

	if (!out || (!pem && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_pem_chain_parse: NULL argument");
	*out = NULL;
	/* Intel's quote certification data and C strings end in NUL padding. */
	while (len > 0 && pem[len - 1] == '\0')
		len--;
	if (len == 0)
		return cocoon_error_set(COCOON_EFORMAT, "PEM chain is empty: expected one or more certificates");
	if (len > INT_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "PEM chain is too large (%zu bytes)", len);
	if (!(bio = BIO_new_mem_buf(pem, (int)len)) || !(certs = sk_X509_new_null())) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "PEM chain: out of memory");
		goto done;
	}
	for (int i = 0;; i++) {
		X509 *x = NULL;
		snprintf(what, sizeof(what), "PEM chain certificate %d", i);
		int rc = pem_next(&der, &der_len, bio, len, PEM_STRING_X509, what);
		if (rc < 0) {
			err = rc;
			goto done;
		}
		if (rc == 0)
			break;
		if ((err = cert_from_der_cached(&x, der, der_len, what, cache)))
			goto done;
		OPENSSL_free(der);
		der = NULL;
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			err = cocoon_error_set_openssl(COCOON_ENOMEM, "PEM chain: out of memory");
			goto done;
		}
	}
	if (sk_X509_num(certs) == 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "PEM chain contains no certificate");
		goto done;
	}
	*out = certs;
	certs = NULL;
done:
	OPENSSL_free(der);
	sk_X509_pop_free(certs, X509_free);
	BIO_free(bio);
	ERR_clear_error();
	return err;
}

/* A single PEM block of `label` with nothing but whitespace around it. */
static int pem_single(unsigned char **der, long *der_len, const uint8_t *data, size_t len, const char *label,
                      const char *what)
{
	BIO *bio = NULL;
	unsigned char *extra = NULL;
	long extra_len = 0;
	int rc, err = 0;

	while (len > 0 && data[len - 1] == '\0')
		len--;
	if (len > INT_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "%s is too large (%zu bytes)", what, len);
	if (!(bio = BIO_new_mem_buf(data, (int)len))) {
		err = cocoon_error_set_openssl(COCOON_ENOMEM, "%s: out of memory", what);
		goto done;
	}
	rc = pem_next(der, der_len, bio, len, label, what);
	if (rc <= 0) {
		err = rc < 0 ? rc
		             : cocoon_error_set(COCOON_EFORMAT, "%s is empty: expected DER or PEM \"%s\"", what, label);
		goto done;
	}
	rc = pem_next(&extra, &extra_len, bio, len, label, what);
	if (rc != 0) {
		OPENSSL_free(*der);
		*der = NULL;
		err = rc < 0 ? rc : cocoon_error_set(COCOON_EFORMAT, "%s: more than one PEM block", what);
		goto done;
	}
done:
	OPENSSL_free(extra);
	BIO_free(bio);
	ERR_clear_error();
	return err;
}

int cocoon_crl_parse(X509_CRL **out, const uint8_t *data, size_t len)
{
	unsigned char *der = NULL;
	long der_len = 0;
	int err = 0;

	if (!out || (!data && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_crl_parse: NULL argument");
	*out = NULL;
	if (len == 0)
		return cocoon_error_set(COCOON_EFORMAT, "CRL is empty: expected DER or PEM \"X509 CRL\"");
	if (len > LONG_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "CRL is too large (%zu bytes)", len);
	/* DER starts with a SEQUENCE tag; anything else can only be PEM. */
	if (data[0] == 0x30) {
		const unsigned char *p = data;
		X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
		if (!crl)
			return cocoon_error_set_openssl(COCOON_EFORMAT, "CRL is not a valid DER X.509 CRL (%zu bytes)", len);
		if ((size_t)(p - data) != len) {
			size_t used = (size_t)(p - data);
			X509_CRL_free(crl);
			return cocoon_error_set(COCOON_EFORMAT, "CRL has %zu trailing bytes after the DER CRL at offset %zu",
			                        len - used, used);
		}
		*out = crl;
		return 0;
	}
	if ((err = pem_single(&der, &der_len, data, len, PEM_STRING_X509_CRL, "CRL")))
		return err;
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, der_len);
	if (!crl) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT, "CRL: PEM block does not hold a valid DER X.509 CRL");
		goto done;
	}
	if (p != der + der_len) {
		X509_CRL_free(crl);
		err = cocoon_error_set(COCOON_EFORMAT, "CRL: PEM block has trailing bytes after the DER CRL");
		goto done;
	}
	*out = crl;
done:
	OPENSSL_free(der);
	ERR_clear_error();
	return err;
}

int cocoon_cert_parse(X509 **out, const uint8_t *data, size_t len)
{
	unsigned char *der = NULL;
	long der_len = 0;
	int err;

	if (!out || (!data && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_cert_parse: NULL argument");
	*out = NULL;
	if (len == 0)
		return cocoon_error_set(COCOON_EFORMAT, "certificate is empty: expected DER or PEM \"CERTIFICATE\"");
	if (len > LONG_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "certificate is too large (%zu bytes)", len);
	if (data[0] == 0x30)
		return cert_from_der(out, data, (long)len, "certificate");
	if ((err = pem_single(&der, &der_len, data, len, PEM_STRING_X509, "certificate")))
		return err;
	err = cert_from_der(out, der, der_len, "certificate (PEM)");
	OPENSSL_free(der);
	return err;
}

int cocoon_cert_digest(uint8_t out[32], X509 *cert)
{
	unsigned int n = 0;

	if (!out || !cert)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_cert_digest: NULL argument");
	if (!X509_digest(cert, EVP_sha256(), out, &n) || n != 32)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "certificate SHA-256 digest failed");
	return 0;
}

/* ---- raw P-256 keys and signatures -------------------------------------- */

/* A P-256 key holding only the group: imports copy it instead of building
 * the curve from its name, which costs more than the point decoding. */
static EVP_PKEY *p256_template;
static pthread_once_t p256_template_once = PTHREAD_ONCE_INIT;

static void p256_template_make(void)
{
	char group[] = "prime256v1";
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
		OSSL_PARAM_construct_end(),
	};

	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &p256_template, EVP_PKEY_KEY_PARAMETERS, params) != 1)
		p256_template = NULL;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
}

EVP_PKEY *cocoon_p256_pubkey_from_raw(const uint8_t xy[64])
{
	uint8_t point[65];
	EVP_PKEY *key = NULL;

	if (!xy) {
		cocoon_error_set(COCOON_EINVAL, "cocoon_p256_pubkey_from_raw: NULL point");
		return NULL;
	}
	pthread_once(&p256_template_once, p256_template_make);
	if (!p256_template || !(key = EVP_PKEY_dup(p256_template))) {
		cocoon_error_set_openssl(COCOON_EINTERNAL, "P-256 public key: cannot set up an EC key import");
		goto done;
	}
	point[0] = 0x04; /* uncompressed SEC 1 point */
	memcpy(point + 1, xy, 64);
	/* Setting the encoded point decodes it with EC_POINT_oct2point, which
	 * rejects coordinates >= p and points off the curve (test_p256_raw
	 * covers both). */
	if (EVP_PKEY_set1_encoded_public_key(key, point, sizeof(point)) != 1) {
		cocoon_error_set_openssl(COCOON_EFORMAT, "P-256 public key: x||y (64 bytes) is not a point on the curve");
		EVP_PKEY_free(key);
		key = NULL;
	}
done:
	ERR_clear_error();
	return key;
}

int cocoon_p256_verify_raw(EVP_PKEY *key, const uint8_t sig[64], const uint8_t *msg, size_t len)
{
	unsigned char der[80], *p = der, digest[32];
	unsigned int digest_len = 0;
	const EVP_MD *sha256 = cocoon_sha256_md();
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int der_len, rc, ret;

	if (!key || !sig || (!msg && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_p256_verify_raw: NULL argument");
	if (!(es = ECDSA_SIG_new()) || !(r = BN_bin2bn(sig, 32, NULL)) || !(s = BN_bin2bn(sig + 32, 32, NULL)) ||
	    !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ret = cocoon_error_set_openssl(COCOON_ENOMEM, "ECDSA: cannot build the signature");
		goto done;
	}
	/* Two 32-byte INTEGERs fit in 72 DER bytes; check before writing into der. */
	der_len = i2d_ECDSA_SIG(es, NULL);
	if (der_len <= 0 || (size_t)der_len > sizeof(der) || i2d_ECDSA_SIG(es, &p) != der_len) {
		ret = cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: cannot encode the signature");
		goto done;
	}
	/* Digest with the once-fetched SHA-256, then verify the digest: the same
	 * ECDSA check as EVP_DigestVerify without its per-call digest fetch. */
	if (!sha256 || !EVP_Digest(msg, len, digest, &digest_len, sha256, NULL) || digest_len != sizeof(digest)) {
		ret = cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: SHA-256 failed");
		goto done;
	}
	if (!(ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) || EVP_PKEY_verify_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(ctx, sha256) != 1) {
		ret = cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: cannot initialise SHA-256 verification");
		goto done;
	}
	rc = EVP_PKEY_verify(ctx, der, (size_t)der_len, digest, sizeof(digest));
	if (rc < 0) {
		ret = cocoon_error_set_openssl(COCOON_EINTERNAL, "ECDSA: verification could not run");
		goto done;
	}
	ret = rc == 1;
done:
	ECDSA_SIG_free(es);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return ret;
}
