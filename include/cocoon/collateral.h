/*
 * cocoon: fetching collateral. A client for Intel PCS v4 (or a PCCS, or any
 * service with the PCS v4 paths) and AMD KDS over HTTPS (libcurl), a cache
 * (memory plus an optional directory) keyed by what identifies each entry,
 * and a collateral source over both for cocoon_attest_appraise. Nothing
 * fetched is trusted because of where it came from: responses become the
 * ordinary cocoon_collateral and go through the verifier's chain, CRL,
 * signature and date checks.
 */
#ifndef COCOON_COLLATERAL_H
#define COCOON_COLLATERAL_H

#include <time.h>
#include "common.h"
#include "dcap.h"
#include "attest.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_PCS_URL_DEFAULT "https://api.trustedservices.intel.com"
#define COCOON_ROOT_CRL_URL_DEFAULT "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
#define COCOON_KDS_URL_DEFAULT "https://kdsintf.amd.com"

typedef struct cocoon_collateral_client cocoon_collateral_client;
typedef struct cocoon_collateral_cache cocoon_collateral_cache;

typedef struct {
	unsigned int version;
	const char *pcs_url;      /* service root; /sgx|tdx/certification/v4/... is appended. NULL: Intel PCS */
	const char *root_crl_url; /* NULL: Intel's CDP for Intel PCS, else <pcs_url>/sgx/certification/v4/rootcacrl */
	const char *kds_url;      /* NULL: AMD KDS */
	const char *ca_file;      /* PEM CAs for HTTPS; NULL: the system store */
	const char *pck_ca;       /* PCK CRL of "platform" (default) or "processor" */
	const char *update;       /* "standard" (default) or "early" */
	int max_attempts;         /* per request, retries included; 0: 5 */
	long timeout_ms;          /* per attempt; 0: 30 s */
	long deadline_ms;         /* per request, all attempts and waits; 0: 120 s */
	long backoff_ms;          /* first wait after a 429/5xx/transport error; 0: 1 s; doubles, with jitter */
	long max_backoff_ms;      /* cap on one wait (Retry-After too); 0: 30 s */
	int per_host;             /* concurrent requests to one host; 0: 2 */
} cocoon_collateral_client_options;

#define COCOON_COLLATERAL_CLIENT_OPTIONS_VERSION 1
#define COCOON_COLLATERAL_CLIENT_OPTIONS_INIT { .version = COCOON_COLLATERAL_CLIENT_OPTIONS_VERSION }

COCOON_API int cocoon_collateral_client_new(cocoon_collateral_client **out,
                                            const cocoon_collateral_client_options *opts);
COCOON_API void cocoon_collateral_client_free(cocoon_collateral_client *c);

/*
 * Fetches TCB info (by FMSPC, 12 hex characters), QE identity, the PCK CRL
 * and the root CA CRL for tee (SGX or TDX) and parses them into *out
 * (unverified). *max_age is the smallest Cache-Control max-age seen, or -1.
 * Errors name the URL and the HTTP status: COCOON_EUNAVAILABLE for
 * transport errors, timeouts and 429/5xx after the retries, COCOON_ENOTFOUND
 * for 404, COCOON_EFORMAT for a response that is not what the URL serves.
 */
COCOON_API int cocoon_collateral_client_fetch_dcap(cocoon_collateral **out, long *max_age,
                                                   cocoon_collateral_client *c, cocoon_tee tee, const char *fmspc);

/* AMD KDS items, as served (VCEK DER; ASK+ARK PEM; CRL DER). product: "Milan", "Genoa", "Turin". */
typedef enum {
	COCOON_KDS_VCEK = 0,      /* needs chip_id and reported_tcb */
	COCOON_KDS_CERT_CHAIN,    /* ASK + ARK */
	COCOON_KDS_CRL
} cocoon_kds_item;

/* The KDS URL of an item (caller frees). Turin VCEKs use the first 8 bytes of CHIP_ID and fmcSPL. */
COCOON_API int cocoon_kds_url(char **out, const char *base, cocoon_kds_item item, const char *product,
                              const uint8_t chip_id[64], uint64_t reported_tcb);
COCOON_API int cocoon_collateral_client_fetch_kds(uint8_t **out, size_t *out_len, cocoon_collateral_client *c,
                                                  cocoon_kds_item item, const char *product,
                                                  const uint8_t chip_id[64], uint64_t reported_tcb);

/*
 * The parsed parts of one PCS response: the body and the issuer chain of
 * header `chain_header` (matched case-insensitively, URL-decoded, two PEM
 * certificates). headers is the raw header block ("Name: value" lines,
 * CRLF or LF). *chain is NULL when chain_header is NULL. Caller frees.
 */
COCOON_API int cocoon_pcs_issuer_chain(char **chain, size_t *chain_len, const char *headers, size_t headers_len,
                                       const char *chain_header);
/* Cache-Control max-age of a header block, or -1 (also for no-store / no-cache). */
COCOON_API long cocoon_http_max_age(const char *headers, size_t headers_len);

/* ---- the cache ---- */

/* dir: NULL for memory only, else a directory (created) whose entries outlive the process. */
COCOON_API int cocoon_collateral_cache_new(cocoon_collateral_cache **out, const char *dir);
COCOON_API void cocoon_collateral_cache_free(cocoon_collateral_cache *c);

/*
 * Stores DCAP collateral under tee + FMSPC + update type (from its TCB
 * info), expiring at the earliest of the TCB info's, the QE identity's and
 * both CRLs' nextUpdate and fetched_at + max_age (max_age < 0: none).
 * Takes ownership of coll (also on failure).
 */
COCOON_API int cocoon_collateral_cache_put_dcap(cocoon_collateral_cache *c, cocoon_collateral *coll,
                                                const char *update, time_t fetched_at, long max_age);
/*
 * The entry for tee + fmspc + update when it is fresh at now (owned by the
 * cache). COCOON_ENOTFOUND when absent; COCOON_EUNAVAILABLE when present but
 * expired (never served as fresh).
 */
COCOON_API int cocoon_collateral_cache_get_dcap(const cocoon_collateral **out, cocoon_collateral_cache *c,
                                                cocoon_tee tee, const char *fmspc, const char *update, time_t now);
/* SNP items keyed by their KDS URL (a VCEK per chip + TCB never changes; chains and CRLs expire). */
COCOON_API int cocoon_collateral_cache_put_blob(cocoon_collateral_cache *c, const char *key, const uint8_t *data,
                                                size_t len, time_t expires);
COCOON_API int cocoon_collateral_cache_get_blob(const uint8_t **out, size_t *len, cocoon_collateral_cache *c,
                                                const char *key, time_t now);
/* Every entry as a JSON array of {kind, key, expires, fresh} (caller frees). */
COCOON_API int cocoon_collateral_cache_list(char **json, cocoon_collateral_cache *c, time_t now);

/*
 * A collateral source that serves fresh cache entries and fetches (then
 * caches) the rest. Both client and cache are borrowed and must outlive it.
 * The cache may be NULL (every lookup fetches).
 */
COCOON_API int cocoon_collateral_source_new_fetch(cocoon_collateral_source **out, cocoon_collateral_client *client,
                                                  cocoon_collateral_cache *cache);

#ifdef __cplusplus
}
#endif
#endif
