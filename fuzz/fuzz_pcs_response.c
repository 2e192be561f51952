/*
 * The PCS response parser on arbitrary bytes: a header block, a blank line,
 * then a body. Runs the issuer-chain extraction (URL decoding, two PEM
 * certificates) for every chain header name, Cache-Control, and the PCS
 * body loader on the decoded chain, as the collateral client does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain",
		                             "SGX-PCK-CRL-Issuer-Chain", "SGX-Enclave-Identity-Issuer-Chain" };
	const char *text = (const char *)data, *sep = NULL;
	size_t hlen = size;

	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '\n' && (data[i + 1] == '\n' || (data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n'))) {
			sep = text + i;
			hlen = i + 1;
			break;
		}
	}
	(void)cocoon_http_max_age(text, hlen);
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		char *chain = NULL;
		size_t clen = 0;
		if (cocoon_pcs_issuer_chain(&chain, &clen, text, hlen, names[n]) == 0 && sep) {
			const char *body = text + hlen;
			size_t blen = size - hlen;
			cocoon_pcs_collateral pcs = { 0 };
			cocoon_collateral *c = NULL;
			if (strlen(chain) != clen)
				abort(); /* the decoded chain is NUL-terminated text of the length reported */
			pcs.tcb_info = body, pcs.tcb_info_len = blen;
			pcs.tcb_info_issuer_chain = chain, pcs.tcb_info_issuer_chain_len = clen;
			pcs.qe_identity = body, pcs.qe_identity_len = blen;
			pcs.pck_crl = (const uint8_t *)body, pcs.pck_crl_len = blen;
			pcs.pck_crl_issuer_chain = chain, pcs.pck_crl_issuer_chain_len = clen;
			pcs.root_ca_crl = (const uint8_t *)body, pcs.root_ca_crl_len = blen;
			if (cocoon_collateral_from_pcs(&c, &pcs) == 0)
				cocoon_collateral_free(c);
		}
		free(chain);
	}
	return 0;
}
