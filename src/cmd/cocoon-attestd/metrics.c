/* Prometheus text exposition of lock-free counters and the verifier's cache statistics. */
#include <stdio.h>
#include <stdlib.h>
#include "common/util.h"
#include "attestd.h"

attestd_metrics attestd_m;

static const double bounds[ATTESTD_LAT_BUCKETS] = { 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01,
	                                            0.025,  0.05,  0.1,   0.25,  0.5,   1.0,    2.5 };

void attestd_metrics_observe(double seconds)
{
	int i = 0;
	while (i < ATTESTD_LAT_BUCKETS && seconds > bounds[i])
		i++;
	atomic_fetch_add(&attestd_m.lat_bucket[i], 1);
	atomic_fetch_add(&attestd_m.lat_count, 1);
	atomic_fetch_add(&attestd_m.lat_sum_us, (unsigned long)(seconds * 1e6));
}

char *attestd_metrics_render(cocoon_verifier *v, cocoon_verifier *sim)
{
	static const char *const tees[M_TEE__N] = { "SgxEnclave", "OpenEnclave", "SevSnpVm", "TdxVm" };
	static const char *const verdicts[M_V__N] = { "permitted", "rejected", "denied", "error" };
	cocoon_cache_stats cs = { 0 };
	cocoon_buf b = { 0 };
	unsigned long cum = 0;

	if (v)
		cocoon_verifier_cache_stats(&cs, v);
	if (sim) {
		cocoon_cache_stats ss = { 0 };
		cocoon_verifier_cache_stats(&ss, sim);
		cs.collateral_hits += ss.collateral_hits;
		cs.collateral_misses += ss.collateral_misses;
		cs.platform_hits += ss.platform_hits;
		cs.platform_misses += ss.platform_misses;
		cs.entries += ss.entries;
	}
	cocoon_buf_printf(&b, "# HELP attestd_http_requests_total HTTP requests by status class.\n"
	                      "# TYPE attestd_http_requests_total counter\n");
	for (int i = 1; i <= 5; i++)
		cocoon_buf_printf(&b, "attestd_http_requests_total{code=\"%dxx\"} %lu\n", i,
		                  atomic_load(&attestd_m.requests[i]));
	cocoon_buf_printf(&b, "# HELP attestd_attestations_total Attestation outcomes by type and verdict.\n"
	                      "# TYPE attestd_attestations_total counter\n");
	for (int t = 0; t < M_TEE__N; t++)
		for (int s = 0; s < M_V__N; s++)
			cocoon_buf_printf(&b, "attestd_attestations_total{type=\"%s\",verdict=\"%s\"} %lu\n", tees[t],
			                  verdicts[s], atomic_load(&attestd_m.verdicts[t][s]));
	cocoon_buf_printf(&b, "# HELP attestd_request_duration_seconds Latency of every HTTP request.\n"
	                      "# TYPE attestd_request_duration_seconds histogram\n");
	for (int i = 0; i < ATTESTD_LAT_BUCKETS; i++) {
		cum += atomic_load(&attestd_m.lat_bucket[i]);
		cocoon_buf_printf(&b, "attestd_request_duration_seconds_bucket{le=\"%g\"} %lu\n", bounds[i], cum);
	}
	cum += atomic_load(&attestd_m.lat_bucket[ATTESTD_LAT_BUCKETS]);
	cocoon_buf_printf(&b, "attestd_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
	cocoon_buf_printf(&b, "attestd_request_duration_seconds_sum %.6f\n",
	                  (double)atomic_load(&attestd_m.lat_sum_us) / 1e6);
	cocoon_buf_printf(&b, "attestd_request_duration_seconds_count %lu\n", atomic_load(&attestd_m.lat_count));
	cocoon_buf_printf(&b, "# HELP attestd_tokens_issued_total Signed attestation tokens.\n"
	                      "# TYPE attestd_tokens_issued_total counter\n"
	                      "attestd_tokens_issued_total %lu\n", atomic_load(&attestd_m.tokens_issued));
	cocoon_buf_printf(&b, "# HELP cocoon_verifier_cache_hits_total Verifier cache hits by tier.\n"
	                      "# TYPE cocoon_verifier_cache_hits_total counter\n"
	                      "cocoon_verifier_cache_hits_total{tier=\"collateral\"} %llu\n"
	                      "cocoon_verifier_cache_hits_total{tier=\"platform\"} %llu\n"
	                      "# HELP cocoon_verifier_cache_misses_total Verifier cache misses by tier.\n"
	                      "# TYPE cocoon_verifier_cache_misses_total counter\n"
	                      "cocoon_verifier_cache_misses_total{tier=\"collateral\"} %llu\n"
	                      "cocoon_verifier_cache_misses_total{tier=\"platform\"} %llu\n"
	                      "# HELP cocoon_verifier_cache_entries Entries in the verifier cache.\n"
	                      "# TYPE cocoon_verifier_cache_entries gauge\n"
	                      "cocoon_verifier_cache_entries %zu\n",
	                  (unsigned long long)cs.collateral_hits, (unsigned long long)cs.platform_hits,
	                  (unsigned long long)cs.collateral_misses, (unsigned long long)cs.platform_misses, cs.entries);
	cocoon_buf_printf(&b, "# HELP attestd_collateral_lookups_total DCAP collateral lookups and worker-cache hits.\n"
	                      "# TYPE attestd_collateral_lookups_total counter\n"
	                      "attestd_collateral_lookups_total %lu\n"
	                      "attestd_collateral_cache_hits_total %lu\n",
	                  atomic_load(&attestd_m.collateral_lookups), atomic_load(&attestd_m.collateral_cache_hits));
	if (cocoon_buf_append(&b, "", 1) != 0) {
		cocoon_buf_free(&b);
		return NULL;
	}
	return (char *)b.data;
}
