/* Intel SGX PCK certificate extension: real certificates and DER mutations. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "testutil.h"
#include "common/util.h"
#include "dcap/pckext.h"
#include "dcap/x509.h"

/* ---- a DER encoder for the extension, built on OpenSSL's templates ------ */

typedef struct {
	ASN1_OBJECT *oid;
	ASN1_TYPE *value;
} T_ENTRY;

DEFINE_STACK_OF(T_ENTRY)
typedef STACK_OF(T_ENTRY) T_ENTRIES;

ASN1_SEQUENCE(T_ENTRY) = {
	ASN1_SIMPLE(T_ENTRY, oid, ASN1_OBJECT),
	ASN1_SIMPLE(T_ENTRY, value, ASN1_ANY),
} static_ASN1_SEQUENCE_END(T_ENTRY)

ASN1_ITEM_TEMPLATE(T_ENTRIES) = ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, TEntries, T_ENTRY)
static_ASN1_ITEM_TEMPLATE_END(T_ENTRIES)

#define SGX "1.2.840.113741.1.13.1"

/* What to build; the zero value plus ext_opts_init() is a valid extension. */
typedef struct {
	size_t fmspc_len;
	int dup_ppid;
	int omit_top;            /* top-level arc to leave out (0: none) */
	int omit_tcb;            /* TCB arc to leave out (0: none) */
	int comp_arc;            /* TCB arc whose integer is replaced by comp_value */
	long comp_value;
	int fmspc_as_integer;
	int sgx_type_as_integer;
	long sgx_type;
	int with_optional;       /* PlatformInstanceID + Configuration */
	int with_unknown;        /* an unknown OID that must be ignored */
} ext_opts;

static void ext_opts_init(ext_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->fmspc_len = 6;
	o->sgx_type = 1;
}

static ASN1_TYPE *v_octets(const uint8_t *p, size_t n)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_OCTET_STRING *s = ASN1_OCTET_STRING_new();
	assert_non_null(t);
	assert_non_null(s);
	assert_int_equal(ASN1_OCTET_STRING_set(s, p, (int)n), 1);
	ASN1_TYPE_set(t, V_ASN1_OCTET_STRING, s);
	return t;
}

static ASN1_TYPE *v_integer(int type, long v)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	ASN1_INTEGER *i = type == V_ASN1_ENUMERATED ? ASN1_ENUMERATED_new() : ASN1_INTEGER_new();
	assert_non_null(t);
	assert_non_null(i);
	if (type == V_ASN1_ENUMERATED)
		assert_int_equal(ASN1_ENUMERATED_set_int64(i, v), 1);
	else
		assert_int_equal(ASN1_INTEGER_set_int64(i, v), 1);
	ASN1_TYPE_set(t, type, i);
	return t;
}

static ASN1_TYPE *v_bool(int b)
{
	ASN1_TYPE *t = ASN1_TYPE_new();
	assert_non_null(t);
	ASN1_TYPE_set(t, V_ASN1_BOOLEAN, b ? (void *)1 : NULL);
	return t;
}

static void push(T_ENTRIES *list, const char *oid, ASN1_TYPE *v)
{
	T_ENTRY *e = (T_ENTRY *)ASN1_item_new(ASN1_ITEM_rptr(T_ENTRY));
	assert_non_null(e);
	ASN1_OBJECT_free(e->oid);
	ASN1_TYPE_free(e->value);
	e->oid = OBJ_txt2obj(oid, 1);
	assert_non_null(e->oid);
	e->value = v;
	assert_true(sk_T_ENTRY_push(list, e) > 0);
}

/* Encodes a list and wraps it as an ANY SEQUENCE value. */
static ASN1_TYPE *v_sequence(T_ENTRIES *list)
{
	unsigned char *der = NULL;
	int n = ASN1_item_i2d((ASN1_VALUE *)list, &der, ASN1_ITEM_rptr(T_ENTRIES));
	ASN1_STRING *s = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	ASN1_TYPE *t = ASN1_TYPE_new();
	assert_true(n > 0);
	assert_non_null(s);
	assert_non_null(t);
	assert_int_equal(ASN1_STRING_set(s, der, n), 1);
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, s);
	OPENSSL_free(der);
	ASN1_item_free((ASN1_VALUE *)list, ASN1_ITEM_rptr(T_ENTRIES));
	return t;
}

static const uint8_t T_PPID[16] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	                            0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01 };
static const uint8_t T_CPUSVN[16] = { 7, 6, 5, 4, 3, 2, 1, 0, 9, 9, 9, 9, 0, 0, 0, 1 };
static const uint8_t T_FMSPC[6] = { 0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00 };
static const uint8_t T_PCEID[2] = { 0x00, 0x00 };
static const uint8_t T_PIID[16] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	                            0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf };

static size_t build_ext(uint8_t **out, const ext_opts *o)
{
	T_ENTRIES *top = sk_T_ENTRY_new_null(), *tcb = sk_T_ENTRY_new_null();
	char oid[64];
	unsigned char *der = NULL;
	int n;

	assert_non_null(top);
	assert_non_null(tcb);
	for (int arc = 1; arc <= 18; arc++) {
		if (arc == o->omit_tcb)
			continue;
		snprintf(oid, sizeof(oid), SGX ".2.%d", arc);
		if (arc <= 16)
			push(tcb, oid, v_integer(V_ASN1_INTEGER, arc == o->comp_arc ? o->comp_value : T_CPUSVN[arc - 1]));
		else if (arc == 17)
			push(tcb, oid, v_integer(V_ASN1_INTEGER, arc == o->comp_arc ? o->comp_value : 13));
		else
			push(tcb, oid, v_octets(T_CPUSVN, sizeof(T_CPUSVN)));
	}
	if (o->with_unknown)
		push(top, SGX ".99", v_integer(V_ASN1_INTEGER, 5));
	if (o->omit_top != 1)
		push(top, SGX ".1", v_octets(T_PPID, sizeof(T_PPID)));
	if (o->omit_top != 2)
		push(top, SGX ".2", v_sequence(tcb));
	else
		ASN1_item_free((ASN1_VALUE *)tcb, ASN1_ITEM_rptr(T_ENTRIES));
	if (o->omit_top != 3)
		push(top, SGX ".3", v_octets(T_PCEID, sizeof(T_PCEID)));
	if (o->omit_top != 4)
		push(top, SGX ".4",
		     o->fmspc_as_integer ? v_integer(V_ASN1_INTEGER, 6) : v_octets(T_FMSPC, o->fmspc_len));
	if (o->omit_top != 5)
		push(top, SGX ".5", v_integer(o->sgx_type_as_integer ? V_ASN1_INTEGER : V_ASN1_ENUMERATED, o->sgx_type));
	if (o->dup_ppid)
		push(top, SGX ".1", v_octets(T_PPID, sizeof(T_PPID)));
	if (o->with_optional) {
		T_ENTRIES *cfg = sk_T_ENTRY_new_null();
		assert_non_null(cfg);
		push(cfg, SGX ".7.1", v_bool(0));
		push(cfg, SGX ".7.3", v_bool(1));
		push(top, SGX ".6", v_octets(T_PIID, sizeof(T_PIID)));
		push(top, SGX ".7", v_sequence(cfg));
	}
	n = ASN1_item_i2d((ASN1_VALUE *)top, &der, ASN1_ITEM_rptr(T_ENTRIES));
	assert_true(n > 0);
	ASN1_item_free((ASN1_VALUE *)top, ASN1_ITEM_rptr(T_ENTRIES));
	*out = malloc((size_t)n + 1);
	assert_non_null(*out);
	memcpy(*out, der, (size_t)n);
	OPENSSL_free(der);
	return (size_t)n;
}

/* Builds with o and asserts COCOON_EFORMAT with `needle` in the message. */
static void expect_reject(const ext_opts *o, const char *needle)
{
	cocoon_pck_ext ext;
	uint8_t *der = NULL;
	size_t len = build_ext(&der, o);
	int rc = cocoon_pck_ext_parse(&ext, der, len);
	assert_int_equal(rc, COCOON_EFORMAT);
	assert_int_equal(cocoon_error_last()->code, COCOON_EFORMAT);
	if (!strstr(cocoon_error_last()->message, needle))
		fail_msg("expected \"%s\" in \"%s\"", needle, cocoon_error_last()->message);
	free(der);
}

static void test_synthetic_valid(void **state)
{
	(void)state;
	cocoon_pck_ext ext;
	uint8_t *der = NULL;
	ext_opts o;

	ext_opts_init(&o);
	size_t len = build_ext(&der, &o);
	assert_int_equal(cocoon_pck_ext_parse(&ext, der, len), 0);
	assert_memory_equal(ext.ppid, T_PPID, 16);
	assert_memory_equal(ext.comp_svn, T_CPUSVN, 16);
	assert_memory_equal(ext.cpu_svn, T_CPUSVN, 16);
	assert_int_equal(ext.pce_svn, 13);
	assert_memory_equal(ext.fmspc, T_FMSPC, 6);
	assert_memory_equal(ext.pceid, T_PCEID, 2);
	assert_int_equal(ext.sgx_type, 1);
	assert_int_equal(ext.has_platform_instance_id, 0);
	assert_int_equal(ext.has_configuration, 0);
	assert_int_equal(ext.dynamic_platform, -1);
	assert_int_equal(ext.cached_keys, -1);
	assert_int_equal(ext.smt_enabled, -1);
	free(der);
}

static void test_synthetic_optional_and_unknown(void **state)
{
	(void)state;
	cocoon_pck_ext ext;
	uint8_t *der = NULL;
	ext_opts o;

	ext_opts_init(&o);
	o.with_optional = 1;
	o.with_unknown = 1;
	o.sgx_type = 2;
	size_t len = build_ext(&der, &o);
	assert_int_equal(cocoon_pck_ext_parse(&ext, der, len), 0);
	assert_int_equal(ext.sgx_type, 2);
	assert_int_equal(ext.has_platform_instance_id, 1);
	assert_memory_equal(ext.platform_instance_id, T_PIID, 16);
	assert_int_equal(ext.has_configuration, 1);
	assert_int_equal(ext.dynamic_platform, 0);
	assert_int_equal(ext.cached_keys, -1); /* absent in the Configuration sequence */
	assert_int_equal(ext.smt_enabled, 1);
	free(der);
}

static void test_truncated(void **state)
{
	(void)state;
	cocoon_pck_ext ext;
	uint8_t *der = NULL;
	ext_opts o;

	ext_opts_init(&o);
	size_t len = build_ext(&der, &o);
	for (size_t cut = 1; cut < len; cut += 7) {
		assert_int_equal(cocoon_pck_ext_parse(&ext, der, len - cut), COCOON_EFORMAT);
		assert_non_null(strstr(cocoon_error_last()->message, "SGX extension is not a DER SEQUENCE OF"));
		assert_int_equal(ext.sgx_type, 0);
	}
	assert_int_equal(cocoon_pck_ext_parse(&ext, der, 0), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "empty"));
	free(der);
}

static void test_trailing_byte(void **state)
{
	(void)state;
	cocoon_pck_ext ext;
	uint8_t *der = NULL;
	ext_opts o;

	ext_opts_init(&o);
	size_t len = build_ext(&der, &o);
	der[len] = 0x00;
	assert_int_equal(cocoon_pck_ext_parse(&ext, der, len + 1), COCOON_EFORMAT);
	char want[96];
	snprintf(want, sizeof(want), "has 1 trailing bytes at offset %zu", len);
	assert_non_null(strstr(cocoon_error_last()->message, want));
	free(der);
}

static void test_field_errors(void **state)
{
	(void)state;
	ext_opts o;

	ext_opts_init(&o);
	o.fmspc_len = 5;
	expect_reject(&o, "PCK extension: FMSPC must be 6 bytes, got 5");

	ext_opts_init(&o);
	o.dup_ppid = 1;
	expect_reject(&o, "PCK extension: PPID (OID 1.2.840.113741.1.13.1.1) appears more than once");

	ext_opts_init(&o);
	o.omit_tcb = 5;
	expect_reject(&o, "TCB is missing sgxtcbcomp05svn");

	ext_opts_init(&o);
	o.omit_tcb = 18;
	expect_reject(&o, "TCB is missing CPUSVN");

	ext_opts_init(&o);
	o.comp_arc = 1;
	o.comp_value = 256;
	expect_reject(&o, "TCB sgxtcbcomp01svn is out of range: got 256, expected 0..255");

	ext_opts_init(&o);
	o.comp_arc = 16;
	o.comp_value = -1;
	expect_reject(&o, "TCB sgxtcbcomp16svn is out of range: got -1");

	ext_opts_init(&o);
	o.comp_arc = 17;
	o.comp_value = 65536;
	expect_reject(&o, "TCB PCESVN is out of range: got 65536, expected 0..65535");

	ext_opts_init(&o);
	o.fmspc_as_integer = 1;
	expect_reject(&o, "PCK extension: FMSPC must be OCTET STRING, got INTEGER");

	ext_opts_init(&o);
	o.sgx_type_as_integer = 1;
	expect_reject(&o, "PCK extension: SGX Type must be ENUMERATED, got INTEGER");

	ext_opts_init(&o);
	o.sgx_type = 3;
	expect_reject(&o, "SGX Type is out of range: got 3, expected 0..2");

	/* A 3-byte ENUMERATED is read by value (dcap-qvl-js rejected it by length). */
	ext_opts_init(&o);
	o.sgx_type = 0x10000;
	expect_reject(&o, "SGX Type is out of range: got 65536");

	ext_opts_init(&o);
	o.omit_top = 4;
	expect_reject(&o, "required field FMSPC (OID 1.2.840.113741.1.13.1.4) is missing");

	ext_opts_init(&o);
	o.omit_top = 2;
	expect_reject(&o, "required field TCB");
}

static void test_nested_not_sequence(void **state)
{
	(void)state;
	/* TCB given as an OCTET STRING: SEQUENCE { OID .2, OCTET STRING {00} } inside the outer list. */
	static const uint8_t der[] = { 0x30, 0x11, 0x30, 0x0f, 0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf8,
		                       0x4d, 0x01, 0x0d, 0x01, 0x02, 0x04, 0x01, 0x00 };
	cocoon_pck_ext ext;
	assert_int_equal(cocoon_pck_ext_parse(&ext, der, sizeof(der)), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "TCB must be SEQUENCE, got OCTET STRING"));
	assert_int_equal(cocoon_pck_ext_parse(NULL, der, sizeof(der)), COCOON_EINVAL);
}

/* ---- real PCK certificates ---------------------------------------------- */

/* The first PEM certificate of the quote's certification data: the PCK leaf. */
static X509 *first_cert_in_quote(const char *rel)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	size_t len = 0;
	uint8_t *q = cocoon_test_vector(rel, &len);
	X509 *x = NULL;

	assert_non_null(q);
	const uint8_t *b = memmem(q, len, begin, sizeof(begin) - 1);
	assert_non_null(b);
	const uint8_t *e = memmem(b, len - (size_t)(b - q), end, sizeof(end) - 1);
	assert_non_null(e);
	size_t n = (size_t)(e - b) + sizeof(end) - 1;
	assert_int_equal(cocoon_cert_parse(&x, b, n), 0);
	free(q);
	return x;
}

static void hex_to(uint8_t *out, size_t n, const char *hex)
{
	assert_int_equal(cocoon_hex_decode(out, n, hex, strlen(hex)), 0);
}

static void test_real_sgx_leaf(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	cocoon_pck_ext ext;
	uint8_t ppid[16], cpusvn[16], fmspc[6];
	X509 *x = first_cert_in_quote("sgx/quote.bin");

	/* Expected values read with `openssl asn1parse -strparse` on the leaf. */
	assert_int_equal(cocoon_pck_ext_from_cert(&ext, x), 0);
	hex_to(ppid, 16, "D04EC06D4E6D92DC90D0AD3CF5EE2DDF");
	hex_to(cpusvn, 16, "0B0B0202FF0100000000000000000000");
	hex_to(fmspc, 6, "00A067110000");
	assert_memory_equal(ext.ppid, ppid, 16);
	assert_memory_equal(ext.cpu_svn, cpusvn, 16);
	assert_memory_equal(ext.comp_svn, cpusvn, 16);
	assert_int_equal(ext.pce_svn, 13);
	assert_memory_equal(ext.fmspc, fmspc, 6);
	assert_int_equal(ext.pceid[0], 0);
	assert_int_equal(ext.pceid[1], 0);
	assert_int_equal(ext.sgx_type, 0);
	assert_int_equal(ext.has_platform_instance_id, 0);
	assert_int_equal(ext.has_configuration, 0);
	assert_int_equal(ext.smt_enabled, -1);
	X509_free(x);
}

static void test_real_tdx_leaf(void **state)
{
	(void)state;
	COCOON_REQUIRE_VECTORS();
	cocoon_pck_ext ext;
	uint8_t ppid[16], cpusvn[16], fmspc[6], piid[16];
	X509 *x = first_cert_in_quote("tdx/quote.bin");

	assert_int_equal(cocoon_pck_ext_from_cert(&ext, x), 0);
	hex_to(ppid, 16, "811DCA2A26B952E85BB6448B097BA4FD");
	hex_to(cpusvn, 16, "03030202040100050000000000000000");
	hex_to(fmspc, 6, "B0C06F000000");
	hex_to(piid, 16, "07828474603E7019DC930775FFE8CDD2");
	assert_memory_equal(ext.ppid, ppid, 16);
	assert_memory_equal(ext.cpu_svn, cpusvn, 16);
	assert_memory_equal(ext.comp_svn, cpusvn, 16);
	assert_int_equal(ext.pce_svn, 11);
	assert_memory_equal(ext.fmspc, fmspc, 6);
	assert_int_equal(ext.sgx_type, 1);
	assert_int_equal(ext.has_platform_instance_id, 1);
	assert_memory_equal(ext.platform_instance_id, piid, 16);
	assert_int_equal(ext.has_configuration, 1);
	assert_int_equal(ext.dynamic_platform, 1);
	assert_int_equal(ext.cached_keys, 1);
	assert_int_equal(ext.smt_enabled, 1);
	X509_free(x);
}

/* A self-signed certificate carrying the SGX extension `copies` times. */
static X509 *cert_with_ext(int copies)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_OBJECT *oid = OBJ_txt2obj(SGX, 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();
	uint8_t *der = NULL;
	ext_opts o;

	assert_non_null(key);
	assert_non_null(x);
	assert_non_null(oid);
	assert_non_null(val);
	ext_opts_init(&o);
	size_t len = build_ext(&der, &o);
	assert_int_equal(ASN1_OCTET_STRING_set(val, der, (int)len), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	X509_NAME *nm = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	for (int i = 0; i < copies; i++) {
		X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, val);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	free(der);
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(oid);
	EVP_PKEY_free(key);
	return x;
}

static void test_from_cert_occurrences(void **state)
{
	(void)state;
	cocoon_pck_ext ext;
	X509 *none = cert_with_ext(0), *one = cert_with_ext(1), *two = cert_with_ext(2);

	assert_int_equal(cocoon_pck_ext_from_cert(&ext, one), 0);
	assert_memory_equal(ext.fmspc, T_FMSPC, 6);
	assert_int_equal(cocoon_pck_ext_from_cert(&ext, none), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "has no SGX extension (OID 1.2.840.113741.1.13.1)"));
	assert_int_equal(cocoon_pck_ext_from_cert(&ext, two), COCOON_EFORMAT);
	assert_non_null(strstr(cocoon_error_last()->message, "more than once"));
	assert_int_equal(cocoon_pck_ext_from_cert(&ext, NULL), COCOON_EINVAL);
	X509_free(none);
	X509_free(one);
	X509_free(two);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synthetic_valid),
		cmocka_unit_test(test_synthetic_optional_and_unknown),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing_byte),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_nested_not_sequence),
		cmocka_unit_test(test_real_sgx_leaf),
		cmocka_unit_test(test_real_tdx_leaf),
		cmocka_unit_test(test_from_cert_occurrences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
