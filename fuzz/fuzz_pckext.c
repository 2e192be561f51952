/*
 * libFuzzer target: the SGX PCK extension decoder and the certificate, CRL
 * and PEM chain parsers, all of which read attacker-supplied bytes (quote
 * certification data and collateral).
 */
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>
#include "dcap/pckext.h"
#include "dcap/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_pck_ext ext;
	X509_CRL *crl = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	uint8_t digest[32];

	(void)cocoon_pck_ext_parse(&ext, data, size);
	if (cocoon_crl_parse(&crl, data, size) == 0)
		X509_CRL_free(crl);
	if (cocoon_cert_parse(&cert, data, size) == 0) {
		(void)cocoon_pck_ext_from_cert(&ext, cert);
		(void)cocoon_cert_digest(digest, cert);
		X509_free(cert);
	}
	if (cocoon_pem_chain_parse(&chain, (const char *)data, size) == 0) {
		for (int i = 0; i < sk_X509_num(chain); i++)
			(void)cocoon_pck_ext_from_cert(&ext, sk_X509_value(chain, i));
		sk_X509_pop_free(chain, X509_free);
	}
	return 0;
}
