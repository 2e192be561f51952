/*
 * libFuzzer target: the extended-report certificate table (host-controlled
 * auxblob), then the AMD KDS extension parser on every entry that decodes
 * as an X.509 certificate, as a VCEK and as a VLEK.
 */
#include <stdint.h>
#include <stdlib.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include "snp/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cocoon_snp_certtable t;
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_kds_ext ext;
	cocoon_failure f;
	const uint8_t *cert;
	size_t cert_len;

	if (cocoon_snp_certtable_parse(&t, data, size) != 0)
		return 0;
	for (size_t i = 0; i < t.n; i++) {
		const unsigned char *p = t.entries[i].data;
		X509 *x = d2i_X509(NULL, &p, (long)t.entries[i].length);
		if (x) {
			(void)cocoon_snp_kds_ext_parse(&ext, &f, x, COCOON_SNP_SIGNER_VCEK);
			(void)cocoon_snp_kds_ext_parse(&ext, &f, x, COCOON_SNP_SIGNER_VLEK);
			X509_free(x);
		}
		ERR_clear_error();
	}
	in.certs = data;
	in.certs_len = size;
	(void)cocoon_snp_select_cert(&cert, &cert_len, &f, &in, NULL, 0);
	return 0;
}
