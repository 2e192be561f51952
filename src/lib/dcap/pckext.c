/*
 * Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1).
 *
 * The extension value is SEQUENCE OF SEQUENCE { OID, ANY }; the TCB (.2) and
 * Configuration (.7) entries nest another list of the same shape. OpenSSL's
 * ASN.1 templates do all DER decoding; this file only interprets the decoded
 * values by OID and enforces Intel's types, sizes and ranges.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/asn1t.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include "common/util.h"
#include "dcap/pckext.h"

typedef struct {
	ASN1_OBJECT *oid;
	ASN1_TYPE *value;
} SGX_EXT_ENTRY;

DEFINE_STACK_OF(SGX_EXT_ENTRY)
typedef STACK_OF(SGX_EXT_ENTRY) SGX_EXT_ENTRIES;

ASN1_SEQUENCE(SGX_EXT_ENTRY) = {
	ASN1_SIMPLE(SGX_EXT_ENTRY, oid, ASN1_OBJECT),
	ASN1_SIMPLE(SGX_EXT_ENTRY, value, ASN1_ANY),
} static_ASN1_SEQUENCE_END(SGX_EXT_ENTRY)

ASN1_ITEM_TEMPLATE(SGX_EXT_ENTRIES) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SEQUENCE_OF, 0, SgxExtEntries, SGX_EXT_ENTRY)
static_ASN1_ITEM_TEMPLATE_END(SGX_EXT_ENTRIES)

#define SGX_EXT_OID "1.2.840.113741.1.13.1"

/*
 * Content octets of the OID 1.2.840.113741.1.13.1. Every arc below it that
 * Intel defines is < 128, so a child OID is this prefix plus one byte and a
 * grandchild plus two: matching encoded bytes avoids a text round trip per
 * entry on a path that runs for every quote.
 */
static const uint8_t sgx_oid_prefix[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

enum {
	ARC_PPID = 1,
	ARC_TCB = 2,
	ARC_PCEID = 3,
	ARC_FMSPC = 4,
	ARC_SGX_TYPE = 5,
	ARC_PLATFORM_INSTANCE_ID = 6,
	ARC_CONFIGURATION = 7,
	TCB_ARC_PCESVN = 17,
	TCB_ARC_CPUSVN = 18,
	CONFIG_ARC_DYNAMIC_PLATFORM = 1,
	CONFIG_ARC_CACHED_KEYS = 2,
	CONFIG_ARC_SMT_ENABLED = 3
};

/*
 * Returns the arc under `parent` (0: directly under the SGX OID) for oid,
 * or 0 when oid is not of that shape (callers ignore unknown OIDs).
 */
static int sgx_arc(const ASN1_OBJECT *oid, int parent)
{
	const unsigned char *d = OBJ_get0_data(oid);
	size_t n = OBJ_length(oid);
	size_t want = sizeof(sgx_oid_prefix) + (parent ? 2 : 1);

	if (!d || n != want || memcmp(d, sgx_oid_prefix, sizeof(sgx_oid_prefix)) != 0)
		return 0;
	if (parent && d[sizeof(sgx_oid_prefix)] != parent)
		return 0;
	return (d[n - 1] & 0x80) ? 0 : d[n - 1];
}

static const char *type_name(int type)
{
	switch (type) {
	case V_ASN1_BOOLEAN: return "BOOLEAN";
	case V_ASN1_INTEGER: return "INTEGER";
	case V_ASN1_OCTET_STRING: return "OCTET STRING";
	case V_ASN1_ENUMERATED: return "ENUMERATED";
	case V_ASN1_SEQUENCE: return "SEQUENCE";
	case V_ASN1_NULL: return "NULL";
	default: return "another type";
	}
}

static int want_type(const ASN1_TYPE *v, int type, const char *field)
{
	if (v->type == type)
		return 0;
	return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s must be %s, got %s (tag %d)", field,
	                        type_name(type), type_name(v->type), v->type);
}

static int read_octets(uint8_t *out, size_t n, const ASN1_TYPE *v, const char *field)
{
	int err = want_type(v, V_ASN1_OCTET_STRING, field);
	if (err)
		return err;
	int got = ASN1_STRING_length(v->value.octet_string);
	if (got < 0 || (size_t)got != n)
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s must be %zu bytes, got %d", field, n, got);
	memcpy(out, ASN1_STRING_get0_data(v->value.octet_string), n);
	return 0;
}

static int read_uint(unsigned int *out, const ASN1_TYPE *v, int type, int64_t max, const char *field)
{
	int64_t val = 0;
	int ok, err = want_type(v, type, field);

	if (err)
		return err;
	if (type == V_ASN1_ENUMERATED)
		ok = ASN1_ENUMERATED_get_int64(&val, v->value.enumerated);
	else
		ok = ASN1_INTEGER_get_int64(&val, v->value.integer);
	ERR_clear_error();
	if (!ok)
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s does not fit in 64 bits (expected 0..%lld)",
		                        field, (long long)max);
	if (val < 0 || val > max)
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s is out of range: got %lld, expected 0..%lld",
		                        field, (long long)val, (long long)max);
	*out = (unsigned int)val;
	return 0;
}

static int read_bool(int *out, const ASN1_TYPE *v, const char *field)
{
	int err = want_type(v, V_ASN1_BOOLEAN, field);
	if (err)
		return err;
	*out = v->value.boolean ? 1 : 0;
	return 0;
}

/* Decodes a DER SEQUENCE OF entries that must span exactly len bytes. */
static int entries_decode(SGX_EXT_ENTRIES **out, const uint8_t *der, size_t len, const char *where)
{
	const unsigned char *p = der;
	SGX_EXT_ENTRIES *list;

	*out = NULL;
	if (len == 0 || len > LONG_MAX)
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s is empty or too large (%zu bytes)", where,
		                        len);
	list = (SGX_EXT_ENTRIES *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(SGX_EXT_ENTRIES));
	if (!list)
		return cocoon_error_set_openssl(COCOON_EFORMAT,
		                                "PCK extension: %s is not a DER SEQUENCE OF { OID, value }", where);
	if ((size_t)(p - der) != len) {
		size_t used = (size_t)(p - der);
		ASN1_item_free((ASN1_VALUE *)list, ASN1_ITEM_rptr(SGX_EXT_ENTRIES));
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s has %zu trailing bytes at offset %zu", where,
		                        len - used, used);
	}
	*out = list;
	return 0;
}

/* Decodes the SEQUENCE carried as an ANY value (its full DER encoding). */
static int nested_decode(SGX_EXT_ENTRIES **out, const ASN1_TYPE *v, const char *field)
{
	int err = want_type(v, V_ASN1_SEQUENCE, field);
	if (err)
		return err;
	const ASN1_STRING *s = v->value.sequence;
	int n = ASN1_STRING_length(s);
	if (n <= 0)
		return cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s is empty", field);
	return entries_decode(out, ASN1_STRING_get0_data(s), (size_t)n, field);
}

static int parse_tcb(cocoon_pck_ext *out, const ASN1_TYPE *v)
{
	SGX_EXT_ENTRIES *list = NULL;
	uint32_t seen = 0;
	char field[32];
	int err = nested_decode(&list, v, "TCB");

	if (err)
		goto done;
	for (int i = 0; i < sk_SGX_EXT_ENTRY_num(list); i++) {
		const SGX_EXT_ENTRY *e = sk_SGX_EXT_ENTRY_value(list, i);
		int arc = sgx_arc(e->oid, ARC_TCB);
		unsigned int val;

		if (arc < 1 || arc > TCB_ARC_CPUSVN)
			continue;
		if (arc <= 16)
			snprintf(field, sizeof(field), "TCB sgxtcbcomp%02dsvn", arc);
		else
			snprintf(field, sizeof(field), "TCB %s", arc == TCB_ARC_PCESVN ? "PCESVN" : "CPUSVN");
		if (seen & (UINT32_C(1) << arc)) {
			err = cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s appears more than once", field);
			goto done;
		}
		seen |= UINT32_C(1) << arc;
		if (arc <= 16) {
			if ((err = read_uint(&val, e->value, V_ASN1_INTEGER, 255, field)))
				goto done;
			out->comp_svn[arc - 1] = (uint8_t)val;
		} else if (arc == TCB_ARC_PCESVN) {
			if ((err = read_uint(&val, e->value, V_ASN1_INTEGER, 65535, field)))
				goto done;
			out->pce_svn = (uint16_t)val;
		} else if ((err = read_octets(out->cpu_svn, sizeof(out->cpu_svn), e->value, field))) {
			goto done;
		}
	}
	for (int arc = 1; arc <= TCB_ARC_CPUSVN; arc++) {
		if (seen & (UINT32_C(1) << arc))
			continue;
		if (arc <= 16)
			snprintf(field, sizeof(field), "sgxtcbcomp%02dsvn", arc);
		else
			snprintf(field, sizeof(field), "%s", arc == TCB_ARC_PCESVN ? "PCESVN" : "CPUSVN");
		err = cocoon_error_set(COCOON_EFORMAT, "PCK extension: TCB is missing %s (OID %s.2.%d)", field,
		                       SGX_EXT_OID, arc);
		goto done;
	}
done:
	ASN1_item_free((ASN1_VALUE *)list, ASN1_ITEM_rptr(SGX_EXT_ENTRIES));
	return err;
}

static int parse_configuration(cocoon_pck_ext *out, const ASN1_TYPE *v)
{
	static const char *const names[] = { NULL, "Configuration dynamicPlatform", "Configuration cachedKeys",
		                              "Configuration SMTEnabled" };
	SGX_EXT_ENTRIES *list = NULL;
	unsigned int seen = 0;
	int err = nested_decode(&list, v, "Configuration");

	if (err)
		goto done;
	for (int i = 0; i < sk_SGX_EXT_ENTRY_num(list); i++) {
		const SGX_EXT_ENTRY *e = sk_SGX_EXT_ENTRY_value(list, i);
		int arc = sgx_arc(e->oid, ARC_CONFIGURATION);
		int *dst;

		if (arc < CONFIG_ARC_DYNAMIC_PLATFORM || arc > CONFIG_ARC_SMT_ENABLED)
			continue;
		if (seen & (1u << arc)) {
			err = cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s appears more than once", names[arc]);
			goto done;
		}
		seen |= 1u << arc;
		dst = arc == CONFIG_ARC_DYNAMIC_PLATFORM ? &out->dynamic_platform
		      : arc == CONFIG_ARC_CACHED_KEYS    ? &out->cached_keys
		                                         : &out->smt_enabled;
		if ((err = read_bool(dst, e->value, names[arc])))
			goto done;
	}
	out->has_configuration = 1;
done:
	ASN1_item_free((ASN1_VALUE *)list, ASN1_ITEM_rptr(SGX_EXT_ENTRIES));
	return err;
}

static const char *top_name(int arc)
{
	switch (arc) {
	case ARC_PPID: return "PPID";
	case ARC_TCB: return "TCB";
	case ARC_PCEID: return "PCE-ID";
	case ARC_FMSPC: return "FMSPC";
	case ARC_SGX_TYPE: return "SGX Type";
	case ARC_PLATFORM_INSTANCE_ID: return "PlatformInstanceID";
	case ARC_CONFIGURATION: return "Configuration";
	default: return "?";
	}
}

int cocoon_pck_ext_parse(cocoon_pck_ext *out, const uint8_t *der, size_t len)
{
	SGX_EXT_ENTRIES *list = NULL;
	unsigned int seen = 0, type = 0;
	int err;

	if (!out || (!der && len))
		return cocoon_error_set(COCOON_EINVAL, "cocoon_pck_ext_parse: NULL argument");
	memset(out, 0, sizeof(*out));
	out->dynamic_platform = out->cached_keys = out->smt_enabled = -1;
	if ((err = entries_decode(&list, der, len, "SGX extension")))
		goto done;
	for (int i = 0; i < sk_SGX_EXT_ENTRY_num(list); i++) {
		const SGX_EXT_ENTRY *e = sk_SGX_EXT_ENTRY_value(list, i);
		int arc = sgx_arc(e->oid, 0);

		if (arc < ARC_PPID || arc > ARC_CONFIGURATION)
			continue;
		if (seen & (1u << arc)) {
			err = cocoon_error_set(COCOON_EFORMAT, "PCK extension: %s (OID %s.%d) appears more than once",
			                       top_name(arc), SGX_EXT_OID, arc);
			goto done;
		}
		seen |= 1u << arc;
		switch (arc) {
		case ARC_PPID:
			err = read_octets(out->ppid, sizeof(out->ppid), e->value, "PPID");
			break;
		case ARC_TCB:
			err = parse_tcb(out, e->value);
			break;
		case ARC_PCEID:
			err = read_octets(out->pceid, sizeof(out->pceid), e->value, "PCE-ID");
			break;
		case ARC_FMSPC:
			err = read_octets(out->fmspc, sizeof(out->fmspc), e->value, "FMSPC");
			break;
		case ARC_SGX_TYPE:
			/* Read as an integer of any encoded length: a 3-byte ENUMERATED is valid DER. */
			err = read_uint(&type, e->value, V_ASN1_ENUMERATED, 2, "SGX Type");
			out->sgx_type = (int)type;
			break;
		case ARC_PLATFORM_INSTANCE_ID:
			err = read_octets(out->platform_instance_id, sizeof(out->platform_instance_id), e->value,
			                  "PlatformInstanceID");
			out->has_platform_instance_id = err == 0;
			break;
		default:
			err = parse_configuration(out, e->value);
			break;
		}
		if (err)
			goto done;
	}
	for (int arc = ARC_PPID; arc <= ARC_SGX_TYPE; arc++) {
		if (!(seen & (1u << arc))) {
			err = cocoon_error_set(COCOON_EFORMAT, "PCK extension: required field %s (OID %s.%d) is missing",
			                       top_name(arc), SGX_EXT_OID, arc);
			goto done;
		}
	}
done:
	ASN1_item_free((ASN1_VALUE *)list, ASN1_ITEM_rptr(SGX_EXT_ENTRIES));
	if (err) {
		memset(out, 0, sizeof(*out));
		out->dynamic_platform = out->cached_keys = out->smt_enabled = -1;
	}
	return err;
}

int cocoon_pck_ext_from_cert(cocoon_pck_ext *out, X509 *cert)
{
	ASN1_OBJECT *oid = NULL;
	int err = 0, idx;

	if (!out || !cert)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_pck_ext_from_cert: NULL argument");
	if (!(oid = OBJ_txt2obj(SGX_EXT_OID, 1))) {
		err = cocoon_error_set_openssl(COCOON_EINTERNAL, "PCK extension: cannot build OID %s", SGX_EXT_OID);
		goto done;
	}
	idx = X509_get_ext_by_OBJ(cert, oid, -1);
	if (idx < 0) {
		err = cocoon_error_set(COCOON_EFORMAT,
		                       "PCK certificate has no SGX extension (OID %s): not an Intel PCK certificate",
		                       SGX_EXT_OID);
		goto done;
	}
	if (X509_get_ext_by_OBJ(cert, oid, idx) >= 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "PCK certificate carries the SGX extension (OID %s) more than once",
		                       SGX_EXT_OID);
		goto done;
	}
	const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
	int n = data ? ASN1_STRING_length(data) : -1;
	if (n <= 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "PCK certificate: SGX extension (OID %s) is empty", SGX_EXT_OID);
		goto done;
	}
	err = cocoon_pck_ext_parse(out, ASN1_STRING_get0_data(data), (size_t)n);
done:
	ASN1_OBJECT_free(oid);
	ERR_clear_error();
	return err;
}
