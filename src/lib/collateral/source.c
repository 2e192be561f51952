/*
 * The fetching collateral source: plugs the client and the cache into the
 * callbacks of attest.h. A fresh cache entry is served as it is; a missing
 * or expired one is fetched and stored. What is fetched is handed to the
 * verifier like any other collateral, which judges it at the verification
 * time; the cache alone decides freshness, by the wall clock.
 */
#include <stdlib.h>
#include <string.h>
#include "cocoon/collateral.h"
#include "common/util.h"
#include "collateral/internal.h"
#include "attest/attest_int.h"

#define VCEK_CACHE_SECONDS (365L * 24 * 3600)  /* a VCEK for one chip at one TCB never changes */

typedef struct {
	cocoon_collateral_client *client;
	cocoon_collateral_cache *cache, *own;
} fetch_ctx;

static int fetch_dcap(const cocoon_collateral **out, void *ctx, cocoon_tee tee, const char *fmspc)
{
	fetch_ctx *f = ctx;
	const char *update = coll_client_update(f->client);
	cocoon_collateral *coll = NULL;
	char got_tee[4], got_fmspc[13];
	time_t now = time(NULL), next;
	long max_age;
	int err;

	*out = NULL;
	if (!fmspc)
		return cocoon_error_set(COCOON_ENOTFOUND, "the quote carries no PCK certificate, so the FMSPC to fetch "
		                        "collateral for is unknown: pass collateral");
	if (cocoon_collateral_cache_get_dcap(out, f->cache, tee, fmspc, update, now) == 0)
		return 0;
	if ((err = cocoon_collateral_client_fetch_dcap(&coll, &max_age, f->client, tee, fmspc)) != 0)
		return err;
	if ((err = cocoon_collateral_describe(got_tee, got_fmspc, &next, coll)) != 0 ||
	    strcmp(got_tee, tee == COCOON_TEE_TDX ? "tdx" : "sgx") != 0 || strcmp(got_fmspc, fmspc) != 0) {
		cocoon_collateral_free(coll);
		return err ? err : cocoon_error_set(COCOON_EFORMAT, "the service answered a request for %s FMSPC %s with "
		                                    "TCB info for %s FMSPC %s", tee == COCOON_TEE_TDX ? "tdx" : "sgx",
		                                    fmspc, got_tee, got_fmspc);
	}
	if ((err = cocoon_collateral_cache_put_dcap(f->cache, coll, update, now, max_age)) != 0 &&
	    !coll_cache_peek_dcap(f->cache, tee, fmspc, update))
		return err;
	/* A cache directory that cannot be written costs persistence, not this verification. */
	*out = coll_cache_peek_dcap(f->cache, tee, fmspc, update);
	return *out ? 0 : cocoon_error_set(COCOON_EINTERNAL, "fetched collateral vanished from the cache");
}

/* go-sev-guest's and snpguest's rule: a CHIP_ID whose bytes 8..63 are zero is a Turin's. */
static int looks_turin(const uint8_t chip_id[64])
{
	for (int i = 8; i < 64; i++)
		if (chip_id[i])
			return 0;
	return 1;
}

static int fetch_snp(const uint8_t **vcek, size_t *vcek_len, const uint8_t **chain, size_t *chain_len, void *ctx,
                     const uint8_t chip_id[64], uint64_t tcb)
{
	static const char *const products[] = { "Milan", "Genoa" };
	fetch_ctx *f = ctx;
	time_t now = time(NULL);
	int err = COCOON_ENOTFOUND;

	*chain = NULL;
	*chain_len = 0;
	/* The report does not always say its product; KDS answers 404 for the wrong one. */
	for (size_t i = 0; i < 2 && err == COCOON_ENOTFOUND; i++) {
		const char *product = looks_turin(chip_id) ? "Turin" : products[i];
		uint8_t *der = NULL;
		size_t len;
		char *url = NULL;

		if ((err = cocoon_kds_url(&url, NULL, COCOON_KDS_VCEK, product, chip_id, tcb)) != 0)
			return err;
		if (cocoon_collateral_cache_get_blob(vcek, vcek_len, f->cache, url, now) == 0) {
			free(url);
			return 0;
		}
		if ((err = cocoon_collateral_client_fetch_kds(&der, &len, f->client, COCOON_KDS_VCEK, product, chip_id,
		                                              tcb)) == 0) {
			cocoon_collateral_cache_put_blob(f->cache, url, der, len, now + VCEK_CACHE_SECONDS);
			*vcek = coll_cache_peek_blob(vcek_len, f->cache, url);
			err = *vcek ? 0 : cocoon_error_set(COCOON_ENOMEM, "out of memory caching a VCEK");
		}
		free(der);
		free(url);
		if (looks_turin(chip_id))
			break;
	}
	return err;
}

static void fetch_ctx_free(fetch_ctx *f)
{
	if (f) {
		cocoon_collateral_cache_free(f->own);
		free(f);
	}
}

int cocoon_collateral_source_new_fetch(cocoon_collateral_source **out, cocoon_collateral_client *client,
                                       cocoon_collateral_cache *cache)
{
	cocoon_collateral_callbacks cb = COCOON_COLLATERAL_CALLBACKS_INIT;
	fetch_ctx *f;
	int err;

	*out = NULL;
	if (!client)
		return cocoon_error_set(COCOON_EINVAL, "cocoon_collateral_source_new_fetch: no client");
	if (!(f = calloc(1, sizeof(*f))))
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	f->client = client;
	f->cache = cache;
	if (!cache && (err = cocoon_collateral_cache_new(&f->own, NULL)) != 0) {
		free(f);
		return err;
	}
	if (!cache)
		f->cache = f->own;
	cb.dcap = fetch_dcap;
	cb.snp = fetch_snp;
	cb.ctx = f;
	if ((err = cocoon_collateral_source_new_callbacks(out, &cb)) != 0) {
		fetch_ctx_free(f);
		return err;
	}
	attest_source_own_ctx(*out, (void (*)(void *))fetch_ctx_free);
	return 0;
}
