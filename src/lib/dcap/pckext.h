/*
 * Intel SGX PCK certificate extensions (OID 1.2.840.113741.1.13.1), decoded
 * with OpenSSL's ASN.1 templates. See Intel's "SGX PCK Certificate and
 * Certificate Revocation List Profile Specification".
 */
#ifndef COCOON_DCAP_PCKEXT_H
#define COCOON_DCAP_PCKEXT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

typedef struct {
	uint8_t ppid[16];
	uint8_t comp_svn[16];     /* sgxtcbcomp01svn .. sgxtcbcomp16svn */
	uint16_t pce_svn;
	uint8_t cpu_svn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	int sgx_type;             /* 0 Standard, 1 Scalable, 2 ScalableWithIntegrity */
	int has_platform_instance_id;
	uint8_t platform_instance_id[16];
	int has_configuration;
	int dynamic_platform;     /* -1 when absent */
	int cached_keys;          /* -1 when absent */
	int smt_enabled;          /* -1 when absent */
} cocoon_pck_ext;

/*
 * Decodes the DER of the extension's value (the OCTET STRING contents: a
 * SEQUENCE OF SEQUENCE { OID, value }). Requires PPID, TCB (16 components +
 * PCESVN + CPUSVN), PCE-ID, FMSPC and SGX Type, each with its exact size;
 * rejects duplicates, trailing bytes and wrong types. Returns 0 or
 * COCOON_EFORMAT with a message naming the field.
 */
int cocoon_pck_ext_parse(cocoon_pck_ext *out, const uint8_t *der, size_t len);

/* Finds the SGX extension in cert and parses it. */
int cocoon_pck_ext_from_cert(cocoon_pck_ext *out, X509 *cert);

#endif
