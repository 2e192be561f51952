/* Verifier lifecycle: the pinned root and the two cache tiers. */
#include <stdlib.h>
#include <string.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "dcap/verifier.h"
#include "dcap/x509.h"
#include "common/util.h"
#include "cocoon/sim.h"

static int root_is_simulation(X509 *root)
{
	char cn[256];
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName, cn, sizeof(cn)) < 0)
		return 0;
	return strstr(cn, COCOON_SIM_CN_PREFIX) != NULL;
}

int cocoon_verifier_new(cocoon_verifier **out, const cocoon_verifier_options *opts)
{
	cocoon_verifier_options defaults = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_verifier *v = NULL;
	const uint8_t *der;
	size_t der_len;
	int err = 0;

	if (!out)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_new: out is NULL");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != COCOON_VERIFIER_OPTIONS_VERSION)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_verifier_new: options version %u, expected %u",
		                        opts->version, COCOON_VERIFIER_OPTIONS_VERSION);
	if (!(v = calloc(1, sizeof(*v))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory creating a verifier");

	der = opts->intel_root_der ? opts->intel_root_der : cocoon_intel_sgx_root_der;
	der_len = opts->intel_root_der ? opts->intel_root_der_len : cocoon_intel_sgx_root_der_len;
	if ((err = cocoon_cert_parse(&v->intel_root, der, der_len)) != 0) {
		err = cocoon_error_set(COCOON_EFORMAT, "trusted root: %s", cocoon_error_last()->message);
		goto done;
	}
	/* The anchor's self-signature is checked once here, not per verification. */
	if (X509_check_issued(v->intel_root, v->intel_root) != X509_V_OK ||
	    X509_verify(v->intel_root, X509_get0_pubkey(v->intel_root)) != 1) {
		err = cocoon_error_set_openssl(COCOON_EFORMAT,
		                               "trusted root: not a valid self-signed certificate; pass the Intel SGX Root CA (DER or PEM)");
		goto done;
	}
	if ((err = cocoon_cert_digest(v->intel_root_digest, v->intel_root)) != 0)
		goto done;
	/* A simulation root is trusted only through the explicit option, so that
	 * every result it produces says "simulated". */
	if (root_is_simulation(v->intel_root) && !opts->trust_simulation) {
		err = cocoon_error_set(COCOON_EINVAL,
		                       "trusted root: this is a cocoon simulation root; trusting it takes the explicit "
		                       "simulation option (cocoon verify --trust-sim DIR)");
		goto done;
	}
	v->trust_simulation = opts->trust_simulation;
	if ((err = cocoon_cache_new(&v->collateral, opts->cache_max_entries)) != 0 ||
	    (err = cocoon_cache_new(&v->platform, opts->cache_max_entries)) != 0 ||
	    (err = cocoon_cache_new(&v->chains, opts->cache_max_entries)) != 0 ||
	    (err = cocoon_cache_new(&v->certs, opts->cache_max_entries)) != 0 ||
	    (err = cocoon_cache_new(&v->snp, opts->cache_max_entries)) != 0 ||
	    (err = cocoon_cert_cache_put(v->certs, v->intel_root_digest, v->intel_root)) != 0)
		goto done;
	*out = v;
	v = NULL;
done:
	cocoon_verifier_free(v);
	return err;
}

void cocoon_verifier_free(cocoon_verifier *v)
{
	if (!v)
		return;
	/* Platform entries hold references to collateral entries: free them first. */
	cocoon_cache_free(v->platform);
	cocoon_cache_free(v->collateral);
	cocoon_cache_free(v->chains);
	cocoon_cache_free(v->certs);
	cocoon_cache_free(v->snp);
	X509_free(v->intel_root);
	free(v);
}

void cocoon_verifier_cache_clear(cocoon_verifier *v)
{
	cocoon_cache_clear(v->platform);
	cocoon_cache_clear(v->collateral);
	cocoon_cache_clear(v->chains);
	cocoon_cache_clear(v->certs);
	cocoon_cache_clear(v->snp);
	/* The pinned root is the anchor, not a cached result: keep it parsed. */
	cocoon_cert_cache_put(v->certs, v->intel_root_digest, v->intel_root);
}

void cocoon_verifier_cache_stats(cocoon_cache_stats *out, cocoon_verifier *v)
{
	memset(out, 0, sizeof(*out));
	cocoon_cache_counters(v->collateral, &out->collateral_hits, &out->collateral_misses);
	cocoon_cache_counters(v->platform, &out->platform_hits, &out->platform_misses);
	out->entries = cocoon_cache_count(v->collateral) + cocoon_cache_count(v->platform);
}

void cocoon_verifier_cache_clear_platform(cocoon_verifier *v)
{
	cocoon_cache_clear(v->platform);
}
