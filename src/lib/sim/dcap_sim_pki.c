/*
 * Simulated Intel SGX PKI: root CA, PCK Platform CA, PCK leaf (with the SGX
 * extension), TCB Signing certificate and both CRLs, shaped after Intel's
 * "SGX PCK Certificate and CRL Profile" so the verifier's profile checks
 * treat them like the real thing.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "sim/dcap_sim.h"

#define SIM_SGX_EXT_OID "1.2.840.113741.1.13.1"
#define SIM_SERIAL_LEN 16
/* X.520 ub-common-name (64) minus the longest role suffix " PCK Platform CA". */
#define SIM_CN_PREFIX_MAX (64 - 16)

void cocoon_sim_pki_options_init(cocoon_sim_pki_options *o)
{
	memset(o, 0, sizeof(*o));
	o->not_before = (time_t)1577836800;      /* 2020-01-01T00:00:00Z */
	o->not_after = (time_t)2524607999;       /* 2049-12-31T23:59:59Z */
	o->crl_next_update = o->not_after;
	memcpy(o->fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
	memset(o->cpu_svn, 2, sizeof(o->cpu_svn));
	o->pce_svn = 11;
	for (size_t i = 0; i < sizeof(o->ppid); i++)
		o->ppid[i] = (uint8_t)(i + 1);
	o->cn_prefix = "Intel SGX";
}

static int sim_options_check(const cocoon_sim_pki_options *o)
{
	size_t n;

	if (o->not_before >= o->not_after)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim pki: not_before must be earlier than not_after");
	if (o->crl_next_update <= o->not_before)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim pki: crl_next_update must be later than not_before (the CRLs' thisUpdate)");
	if (!o->cn_prefix)
		return cocoon_error_set(COCOON_EINVAL, "sim pki: cn_prefix is NULL; use \"Intel SGX\" or \"cocoon Simulated SGX\"");
	n = strlen(o->cn_prefix);
	/* Verifiers find each certificate's role by "SGX Root CA" etc. in its CN. */
	if (n < 3 || strcmp(o->cn_prefix + n - 3, "SGX") != 0)
		return cocoon_error_set(COCOON_EINVAL,
		                        "sim pki: cn_prefix \"%s\" must end with \"SGX\" so CNs read \"... SGX Root CA\"",
		                        o->cn_prefix);
	if (n > SIM_CN_PREFIX_MAX)
		return cocoon_error_set(COCOON_EINVAL, "sim pki: cn_prefix is %zu bytes; at most %d fit in a 64-byte CN",
		                        n, SIM_CN_PREFIX_MAX);
	return 0;
}

static int sim_keygen(EVP_PKEY **out)
{
	*out = EVP_EC_gen("P-256");
	if (!*out)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: P-256 key generation failed");
	return 0;
}

/* "CN=<prefix> <role>, O=Intel Corporation, L=Santa Clara, ST=CA, C=US" as Intel writes it. */
static int sim_name_make(X509_NAME **out, const char *prefix, const char *role)
{
	static const char *const fixed[][2] = {
		{"O", "Intel Corporation"}, {"L", "Santa Clara"}, {"ST", "CA"}, {"C", "US"},
	};
	char cn[80];
	X509_NAME *name = NULL;
	int err = 0;

	*out = NULL;
	if ((size_t)snprintf(cn, sizeof(cn), "%s %s", prefix, role) >= sizeof(cn)) {
		err = cocoon_error_set(COCOON_EINVAL, "sim pki: CN for %s is too long", role);
		goto done;
	}
	if (!(name = X509_NAME_new()) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot build subject CN \"%s\"", cn);
		goto done;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!X509_NAME_add_entry_by_txt(name, fixed[i][0], MBSTRING_UTF8,
		                                (const unsigned char *)fixed[i][1], -1, -1, 0)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot add %s to a subject", fixed[i][0]);
			goto done;
		}
	}
	*out = name;
	name = NULL;
done:
	X509_NAME_free(name);
	return err;
}

/* Random positive serial of exactly SIM_SERIAL_LEN content bytes. */
static int sim_serial_set(X509 *x)
{
	uint8_t raw[SIM_SERIAL_LEN];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int err = 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: RAND_bytes failed for a serial number");
		goto done;
	}
	/* Top bit clear keeps DER from adding a sign byte; 0x40 keeps the length at 16. */
	raw[0] = (uint8_t)((raw[0] & 0x7f) | 0x40);
	if (!(bn = BN_bin2bn(raw, sizeof(raw), NULL)) || !(ai = BN_to_ASN1_INTEGER(bn, NULL)) ||
	    !X509_set_serialNumber(x, ai)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot set a serial number");
		goto done;
	}
done:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return err;
}

static int sim_ext_add_conf(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
	int err = 0;

	if (!ext || !X509_add_ext(x, ext, -1))
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot add extension %s = %s",
		                               OBJ_nid2sn(nid), value);
	X509_EXTENSION_free(ext);
	return err;
}

/* RFC 5280 method 1 key identifier (SHA-1 of the public key bits), like Intel's. */
static int sim_key_id(ASN1_OCTET_STRING **out, X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	ASN1_OCTET_STRING *os = NULL;
	int err = 0;

	*out = NULL;
	if (!X509_pubkey_digest(x, EVP_sha1(), md, &md_len) || !(os = ASN1_OCTET_STRING_new()) ||
	    !ASN1_OCTET_STRING_set(os, md, (int)md_len)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot compute a subject key identifier");
		goto done;
	}
	*out = os;
	os = NULL;
done:
	ASN1_OCTET_STRING_free(os);
	return err;
}

static int sim_aki_make(AUTHORITY_KEYID **out, X509 *issuer)
{
	AUTHORITY_KEYID *akid = NULL;
	int err = 0;

	*out = NULL;
	if (!(akid = AUTHORITY_KEYID_new())) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory for an authority key identifier");
		goto done;
	}
	akid->keyid = X509_get_ext_d2i(issuer, NID_subject_key_identifier, NULL, NULL);
	if (!akid->keyid) {
		err = cocoon_error_set(COCOON_EINTERNAL, "sim pki: issuer certificate has no subject key identifier");
		goto done;
	}
	*out = akid;
	akid = NULL;
done:
	AUTHORITY_KEYID_free(akid);
	return err;
}

/* Wraps a SEQUENCE OF ANY into an ASN1_TYPE holding its DER (ANY of a SEQUENCE). */
static ASN1_TYPE *sim_seq_to_type(const STACK_OF(ASN1_TYPE) *seq)
{
	unsigned char *der = NULL;
	int len = i2d_ASN1_SEQUENCE_ANY(seq, &der);
	ASN1_STRING *s = NULL;
	ASN1_TYPE *t = NULL;

	if (len <= 0)
		goto done;
	if (!(s = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) || !ASN1_STRING_set(s, der, len) || !(t = ASN1_TYPE_new()))
		goto done;
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
	s = NULL;
done:
	ASN1_STRING_free(s);
	OPENSSL_free(der);
	return t;
}

static ASN1_TYPE *sim_type_octets(const uint8_t *data, size_t len)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();

	if (!t || !s || !ASN1_OCTET_STRING_set(s, data, (int)len)) {
		ASN1_OCTET_STRING_free(s);
		ASN1_TYPE_free(t);
		return NULL;
	}
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, s);
	return t;
}

static ASN1_TYPE *sim_type_int(int type, long v)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_STRING *s = ASN1_STRING_type_new(type);
	int ok = t && s;

	if (ok)
		ok = type == V_ASN1_ENUMERATED ? ASN1_ENUMERATED_set(s, v) : ASN1_INTEGER_set(s, v);
	if (!ok) {
		ASN1_STRING_free(s);
		ASN1_TYPE_free(t);
		return NULL;
	}
	ASN1_TYPE_set(t, type, s);
	return t;
}

/* SEQUENCE { OID "<SIM_SGX_EXT_OID>.<suffix>", value }; takes value (NULL allowed). */
static ASN1_TYPE *sim_sgx_entry_make(const char *suffix, ASN1_TYPE *value)
{
	char oid_txt[64];
	STACK_OF(ASN1_TYPE) *pair = sk_ASN1_TYPE_new_null();
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *oid_type = ASN1_TYPE_new();
	ASN1_TYPE *entry = NULL;

	snprintf(oid_txt, sizeof(oid_txt), "%s.%s", SIM_SGX_EXT_OID, suffix);
	if (!pair || !oid_type || !value || !(oid = OBJ_txt2obj(oid_txt, 1)))
		goto done;
	ASN1_TYPE_set(oid_type, V_ASN1_OBJECT, oid);
	oid = NULL;
	if (!sk_ASN1_TYPE_push(pair, oid_type))
		goto done;
	oid_type = NULL;
	if (!sk_ASN1_TYPE_push(pair, value))
		goto done;
	value = NULL;
	entry = sim_seq_to_type(pair);
done:
	ASN1_TYPE_free(value);
	ASN1_TYPE_free(oid_type);
	ASN1_OBJECT_free(oid);
	sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	return entry;
}

/* Appends an SGX extension entry to seq; takes value. */
static int sim_sgx_entry_push(STACK_OF(ASN1_TYPE) *seq, const char *suffix, ASN1_TYPE *value)
{
	ASN1_TYPE *entry = sim_sgx_entry_make(suffix, value);

	if (!entry || !sk_ASN1_TYPE_push(seq, entry)) {
		ASN1_TYPE_free(entry);
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot encode SGX extension entry %s.%s",
		                                SIM_SGX_EXT_OID, suffix);
	}
	return 0;
}

/* TCB: SEQUENCE OF { .2.1 .. .2.16 comp SVNs, .2.17 PCESVN, .2.18 CPUSVN }. */
static int sim_sgx_tcb_make(ASN1_TYPE **out, const cocoon_sim_pki_options *o)
{
	STACK_OF(ASN1_TYPE) *tcb = NULL;
	char suffix[16];
	int err = 0;

	*out = NULL;
	if (!(tcb = sk_ASN1_TYPE_new_null())) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory building the SGX TCB");
		goto done;
	}
	for (int i = 0; i < 16; i++) {
		snprintf(suffix, sizeof(suffix), "2.%d", i + 1);
		if ((err = sim_sgx_entry_push(tcb, suffix, sim_type_int(V_ASN1_INTEGER, o->cpu_svn[i]))) != 0)
			goto done;
	}
	if ((err = sim_sgx_entry_push(tcb, "2.17", sim_type_int(V_ASN1_INTEGER, o->pce_svn))) != 0 ||
	    (err = sim_sgx_entry_push(tcb, "2.18", sim_type_octets(o->cpu_svn, sizeof(o->cpu_svn)))) != 0)
		goto done;
	if (!(*out = sim_seq_to_type(tcb)))
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot encode the SGX TCB");
done:
	sk_ASN1_TYPE_pop_free(tcb, ASN1_TYPE_free);
	return err;
}

/* The PCK leaf's SGX extension (non-critical), encoded by OpenSSL. */
static int sim_sgx_ext_add(X509 *x, const cocoon_sim_pki_options *o)
{
	STACK_OF(ASN1_TYPE) *top = NULL;
	ASN1_TYPE *tcb = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *value = NULL;
	X509_EXTENSION *ext = NULL;
	unsigned char *der = NULL;
	int der_len, err = 0;

	if (!(top = sk_ASN1_TYPE_new_null())) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory building the SGX extension");
		goto done;
	}
	if ((err = sim_sgx_entry_push(top, "1", sim_type_octets(o->ppid, sizeof(o->ppid)))) != 0 ||
	    (err = sim_sgx_tcb_make(&tcb, o)) != 0)
		goto done;
	err = sim_sgx_entry_push(top, "2", tcb);
	tcb = NULL;
	if (err != 0 ||
	    (err = sim_sgx_entry_push(top, "3", sim_type_octets(o->pceid, sizeof(o->pceid)))) != 0 ||
	    (err = sim_sgx_entry_push(top, "4", sim_type_octets(o->fmspc, sizeof(o->fmspc)))) != 0 ||
	    (err = sim_sgx_entry_push(top, "5", sim_type_int(V_ASN1_ENUMERATED, 0))) != 0)
		goto done;
	if ((der_len = i2d_ASN1_SEQUENCE_ANY(top, &der)) <= 0 || !(value = ASN1_OCTET_STRING_new()) ||
	    !ASN1_OCTET_STRING_set(value, der, der_len) || !(oid = OBJ_txt2obj(SIM_SGX_EXT_OID, 1)) ||
	    !(ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value)) || !X509_add_ext(x, ext, -1)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot add the SGX extension");
		goto done;
	}
done:
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(value);
	OPENSSL_free(der);
	ASN1_TYPE_free(tcb);
	sk_ASN1_TYPE_pop_free(top, ASN1_TYPE_free);
	return err;
}

typedef struct {
	const char *role;          /* CN suffix */
	X509 *issuer;              /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	const char *basic_constraints;
	const char *key_usage;
	int sgx_ext;               /* PCK leaf only */
} sim_cert_spec;

/* Builds and signs one certificate; extensions in Intel's order (minus CRL DP). */
static int sim_cert_make(X509 **out, EVP_PKEY *key, const sim_cert_spec *s, const cocoon_sim_pki_options *o)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int err = 0;

	*out = NULL;
	if (!(x = X509_new())) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory for the %s certificate", s->role);
		goto done;
	}
	if ((err = sim_name_make(&name, o->cn_prefix, s->role)) != 0 || (err = sim_serial_set(x)) != 0)
		goto done;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), o->not_before) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), o->not_after) || !X509_set_pubkey(x, key)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot fill the %s certificate", s->role);
		goto done;
	}
	if ((err = sim_key_id(&ski, x)) != 0)
		goto done;
	if (s->issuer) {
		if ((err = sim_aki_make(&akid, s->issuer)) != 0)
			goto done;
	} else if (!(akid = AUTHORITY_KEYID_new()) || !(akid->keyid = ASN1_OCTET_STRING_dup(ski))) {
		/* Intel's root names itself as its authority; mirror it. */
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory for the root's key identifier");
		goto done;
	}
	if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_APPEND) ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_APPEND)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot add key identifiers to %s", s->role);
		goto done;
	}
	if ((err = sim_ext_add_conf(x, NID_key_usage, s->key_usage)) != 0 ||
	    (err = sim_ext_add_conf(x, NID_basic_constraints, s->basic_constraints)) != 0)
		goto done;
	if (s->sgx_ext && (err = sim_sgx_ext_add(x, o)) != 0)
		goto done;
	if (!X509_sign(x, s->issuer ? s->issuer_key : key, EVP_sha256())) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot sign the %s certificate", s->role);
		goto done;
	}
	*out = x;
	x = NULL;
done:
	AUTHORITY_KEYID_free(akid);
	ASN1_OCTET_STRING_free(ski);
	X509_NAME_free(name);
	X509_free(x);
	return err;
}

/* The CRL Number of an existing CRL, or 0 when there is none. */
static long sim_crl_number(const X509_CRL *crl)
{
	ASN1_INTEGER *num;
	long v = 0;

	if (!crl)
		return 0;
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	if (num)
		v = ASN1_INTEGER_get(num);
	ASN1_INTEGER_free(num);
	return v > 0 ? v : 0;
}

static int sim_crl_make(X509_CRL **out, X509 *issuer, EVP_PKEY *key, const ASN1_INTEGER *const *revoked,
                        size_t n_revoked, time_t this_update, time_t next_update, long number)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t_this = NULL, *t_next = NULL;
	ASN1_INTEGER *num = NULL, *serial = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int err = 0;

	*out = NULL;
	if (!(crl = X509_CRL_new()) || !(t_this = ASN1_TIME_set(NULL, this_update)) ||
	    !(t_next = ASN1_TIME_set(NULL, next_update)) || !(num = ASN1_INTEGER_new()) ||
	    !ASN1_INTEGER_set(num, number)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot allocate a CRL");
		goto done;
	}
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    !X509_CRL_set1_lastUpdate(crl, t_this) || !X509_CRL_set1_nextUpdate(crl, t_next)) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot fill a CRL");
		goto done;
	}
	for (size_t i = 0; i < n_revoked; i++) {
		if (!revoked[i]) {
			err = cocoon_error_set(COCOON_EINVAL, "sim pki: revoked serial %zu is NULL", i);
			goto done;
		}
		/* The setter copies but takes a non-const pointer; hand it our own copy. */
		ASN1_INTEGER_free(serial);
		if (!(serial = ASN1_INTEGER_dup(revoked[i])) || !(rev = X509_REVOKED_new()) ||
		    !X509_REVOKED_set_serialNumber(rev, serial) || !X509_REVOKED_set_revocationDate(rev, t_this) ||
		    !X509_CRL_add0_revoked(crl, rev)) {
			err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot add revoked entry %zu", i);
			goto done;
		}
		rev = NULL;
	}
	if ((err = sim_aki_make(&akid, issuer)) != 0)
		goto done;
	if (!X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_APPEND) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, X509V3_ADD_APPEND) ||
	    !X509_CRL_sort(crl) || !X509_CRL_sign(crl, key, EVP_sha256())) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "sim pki: cannot sign a CRL");
		goto done;
	}
	*out = crl;
	crl = NULL;
done:
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(serial);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(t_next);
	ASN1_TIME_free(t_this);
	X509_REVOKED_free(rev);
	X509_CRL_free(crl);
	return err;
}

/* Issues the four certificates and both (empty) CRLs for keys already in p. */
static int sim_pki_issue(cocoon_sim_pki *p)
{
	const cocoon_sim_pki_options *o = &p->opts;
	const char *ca_ku = "critical,keyCertSign,cRLSign";
	const char *leaf_bc = "critical,CA:FALSE", *leaf_ku = "critical,digitalSignature,nonRepudiation";
	sim_cert_spec root = {"Root CA", NULL, NULL, "critical,CA:TRUE,pathlen:1", ca_ku, 0};
	sim_cert_spec pck_ca = {"PCK Platform CA", NULL, p->root_key, "critical,CA:TRUE,pathlen:0", ca_ku, 0};
	sim_cert_spec tcb = {"TCB Signing", NULL, p->root_key, leaf_bc, leaf_ku, 0};
	sim_cert_spec pck = {"PCK Certificate", NULL, p->pck_ca_key, leaf_bc, leaf_ku, 1};
	int err;

	if ((err = sim_cert_make(&p->root_cert, p->root_key, &root, o)) != 0)
		return err;
	pck_ca.issuer = tcb.issuer = p->root_cert;
	if ((err = sim_cert_make(&p->pck_ca_cert, p->pck_ca_key, &pck_ca, o)) != 0 ||
	    (err = sim_cert_make(&p->tcb_cert, p->tcb_key, &tcb, o)) != 0)
		return err;
	pck.issuer = p->pck_ca_cert;
	if ((err = sim_cert_make(&p->pck_cert, p->pck_key, &pck, o)) != 0)
		return err;
	if ((err = sim_crl_make(&p->root_crl, p->root_cert, p->root_key, NULL, 0, o->not_before,
	                        o->crl_next_update, 1)) != 0)
		return err;
	return sim_crl_make(&p->pck_crl, p->pck_ca_cert, p->pck_ca_key, NULL, 0, o->not_before,
	                    o->crl_next_update, 1);
}

int cocoon_sim_pki_generate(cocoon_sim_pki **out, const cocoon_sim_pki_options *o)
{
	cocoon_sim_pki *p = NULL;
	cocoon_sim_pki_options defaults;
	int err = 0;

	*out = NULL;
	if (!o) {
		cocoon_sim_pki_options_init(&defaults);
		o = &defaults;
	}
	if ((err = sim_options_check(o)) != 0)
		goto done;
	if (!(p = calloc(1, sizeof(*p))) || !(p->cn_prefix_copy = strdup(o->cn_prefix))) {
		err = cocoon_error_set(COCOON_ENOMEM, "sim pki: out of memory");
		goto done;
	}
	p->opts = *o;
	p->opts.cn_prefix = p->cn_prefix_copy;
	if ((err = sim_keygen(&p->root_key)) != 0 || (err = sim_keygen(&p->pck_ca_key)) != 0 ||
	    (err = sim_keygen(&p->pck_key)) != 0 || (err = sim_keygen(&p->tcb_key)) != 0 ||
	    (err = sim_keygen(&p->att_key)) != 0 || (err = sim_pki_issue(p)) != 0)
		goto done;
	*out = p;
	p = NULL;
done:
	cocoon_sim_pki_free(p);
	return err;
}

int cocoon_sim_pki_reissue_crl(cocoon_sim_pki *p, int issuer_is_root, const ASN1_INTEGER *const *revoked,
                               size_t n_revoked, time_t this_update, time_t next_update)
{
	X509_CRL **slot;
	X509_CRL *crl = NULL;
	int err = 0;

	if (!p || (n_revoked > 0 && !revoked))
		return cocoon_error_set(COCOON_EINVAL, "sim pki: reissue_crl needs a PKI and %zu revoked serials",
		                        n_revoked);
	if (next_update <= this_update)
		return cocoon_error_set(COCOON_EINVAL, "sim pki: CRL nextUpdate must be later than thisUpdate");
	slot = issuer_is_root ? &p->root_crl : &p->pck_crl;
	err = sim_crl_make(&crl, issuer_is_root ? p->root_cert : p->pck_ca_cert,
	                   issuer_is_root ? p->root_key : p->pck_ca_key, revoked, n_revoked, this_update,
	                   next_update, sim_crl_number(*slot) + 1);
	if (err != 0)
		return err;
	X509_CRL_free(*slot);
	*slot = crl;
	return 0;
}

void cocoon_sim_pki_free(cocoon_sim_pki *p)
{
	if (!p)
		return;
	/* EVP_PKEY_free clears the EC private scalars (BN_clear_free) as it frees them. */
	EVP_PKEY_free(p->root_key);
	EVP_PKEY_free(p->pck_ca_key);
	EVP_PKEY_free(p->pck_key);
	EVP_PKEY_free(p->tcb_key);
	EVP_PKEY_free(p->att_key);
	X509_free(p->root_cert);
	X509_free(p->pck_ca_cert);
	X509_free(p->pck_cert);
	X509_free(p->tcb_cert);
	X509_CRL_free(p->root_crl);
	X509_CRL_free(p->pck_crl);
	free(p->cn_prefix_copy);
	cocoon_zeroize(p, sizeof(*p));
	free(p);
}
