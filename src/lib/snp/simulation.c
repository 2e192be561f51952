/*
 * Simulated AMD roots (`cocoon sim init`, src/lib/sim/snp_sim_pki.c). The
 * KDS profile fixes every subject attribute and every VCEK extension, so
 * the simulator marks its ARK and ASK with a Netscape comment that starts
 * with COCOON_SIM_AMD_MARK. The mark only ever makes a verdict stricter:
 * it turns a chain failure into a clearer reason, and it refuses a marked
 * ARK that a caller passed as a trusted chain without trust_simulation.
 * Anyone can write the comment into their own certificates; that gains
 * them nothing, since trust still comes only from the chain the caller
 * passes (or AMD's embedded roots).
 */
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "cocoon/sim.h"
#include "dcap/x509.h"
#include "snp/snp.h"

int cocoon_snp_cert_is_simulated(X509 *x)
{
	ASN1_IA5STRING *comment;
	size_t n = strlen(COCOON_SIM_AMD_MARK);
	int marked;

	if (!x)
		return 0;
	comment = X509_get_ext_d2i(x, NID_netscape_comment, NULL, NULL);
	marked = comment && (size_t)ASN1_STRING_length(comment) >= n &&
	         memcmp(ASN1_STRING_get0_data(comment), COCOON_SIM_AMD_MARK, n) == 0;
	ASN1_IA5STRING_free(comment);
	ERR_clear_error();
	return marked;
}

/* ca is a marked certificate that issued and signed leaf. */
static int signed_by_simulation(X509 *leaf, X509 *ca)
{
	EVP_PKEY *key = ca ? X509_get0_pubkey(ca) : NULL;
	int ok = key && cocoon_snp_cert_is_simulated(ca) &&
	         X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca)) == 0 && X509_verify(leaf, key) == 1;
	ERR_clear_error();
	return ok;
}

static int table_ask_signed(X509 *leaf, const cocoon_snp_inputs *in)
{
	cocoon_snp_certtable t;
	const cocoon_snp_cert_entry *e;
	X509 *ask = NULL;
	int found = 0;

	if (!in->certs || !in->certs_len || cocoon_snp_certtable_parse(&t, in->certs, in->certs_len) != 0)
		return 0;
	if ((e = cocoon_snp_certtable_find(&t, COCOON_SNP_CERT_ASK)) != NULL &&
	    cocoon_cert_parse(&ask, e->data, e->length) == 0)
		found = signed_by_simulation(leaf, ask);
	X509_free(ask);
	return found;
}

static int chain_signed(X509 *leaf, const cocoon_snp_inputs *in)
{
	STACK_OF(X509) *sk = NULL;
	int found = 0;

	if (!in->chain || !in->chain_len || cocoon_pem_chain_parse(&sk, (const char *)in->chain, in->chain_len) != 0)
		return 0;
	for (int i = 0; i < sk_X509_num(sk) && !found; i++)
		found = signed_by_simulation(leaf, sk_X509_value(sk, i));
	sk_X509_pop_free(sk, X509_free);
	return found;
}

int cocoon_snp_explain_simulation(cocoon_failure *f, const uint8_t *cert, size_t cert_len,
                                  const cocoon_snp_inputs *in)
{
	cocoon_error saved = *cocoon_error_last();
	X509 *leaf = NULL;
	const char *where = NULL;

	if (!f || !in || cocoon_cert_parse(&leaf, cert, cert_len) != 0)
		goto done;
	if (table_ask_signed(leaf, in))
		where = "the certificate table's ASK";
	else if (chain_signed(leaf, in))
		where = "the ASK of the chain given";
done:
	X509_free(leaf);
	/* The probes above are diagnostics: they leave the caller's last error as it was. */
	cocoon_error_set(saved.code, "%s", saved.message);
	if (!where)
		return 0;
	cocoon_fail(f, COCOON_CHECK_SIMULATION_ROOT,
	            "the endorsement key certificate is signed by %s, which is marked \"%s\": the report chains to a "
	            "cocoon simulation root, which is not trusted; simulated evidence is accepted only with "
	            "--trust-sim DIR (development only)",
	            where, COCOON_SIM_AMD_MARK);
	return 1;
}

int cocoon_snp_fail_untrusted_simulation(cocoon_failure *f, const cocoon_snp_vcek_verified *vv)
{
	return cocoon_fail(f, COCOON_CHECK_SIMULATION_ROOT,
	                   "the %s chains to an ARK marked \"%s\": a cocoon simulation root, which is not trusted; "
	                   "simulated evidence is accepted only with --trust-sim DIR (development only)",
	                   vv->signer == COCOON_SNP_SIGNER_VLEK ? "VLEK" : "VCEK", COCOON_SIM_AMD_MARK);
}
