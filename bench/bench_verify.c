/*
 * Verification throughput on one core, in three cache tiers, for the real
 * SGX and TDX vectors, next to OpenSSL's own P-256 verify rate measured in
 * the same run (so numbers compare across machines).
 *
 *   cold               nothing cached: every check runs
 *   warm collateral    collateral verified and cached; the platform is new
 *   seen platform      collateral and platform cached: the quote signature,
 *                      TCB matching and appraisal remain
 *
 * and for the SEV-SNP vector (VCEK chain cold, and cached), next to
 * OpenSSL's P-384 verify rate, and for Azure az-snp-vtpm evidence (the same
 * tiers), in P-384 and RSA-2048 verifies' worth.
 *
 * usage: bench_verify [--seconds S] [--vectors DIR]
 *        bench_verify --profile sgx|tdx|snp|p256|p384 cold|warm|seen [--iterations N]
 *
 * --profile runs N verifications of one tier and prints nothing else, for
 * `valgrind --tool=callgrind` or `perf record` (instruction counts stay
 * comparable on a loaded machine; wall time does not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include "cocoon/cocoon.h"
#include "cocoon/vtpm.h"
#include "common/util.h"
#include "dcap/verifier.h"

typedef enum { TIER_COLD, TIER_WARM_COLLATERAL, TIER_SEEN_PLATFORM } tier;
static const char *const tier_names[] = { "cold", "warm collateral", "seen platform" };

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n reference verifies when n > 0 (returns 0), else a rate measured over `seconds`. */
static double ec_verify_run(const char *curve, const EVP_MD *md, double seconds, long count)
{
	EVP_PKEY *key = EVP_EC_gen(curve);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char msg[64] = { 1 }, sig[128];
	size_t siglen = sizeof(sig);
	long n = 0;
	double start, elapsed;

	EVP_DigestSignInit(ctx, NULL, md, NULL, key);
	EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg));
	start = now_s();
	do {
		for (int i = 0; i < (count > 0 ? count : 100); i++) {
			EVP_MD_CTX_reset(ctx);
			EVP_DigestVerifyInit(ctx, NULL, md, NULL, key);
			if (EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
				abort();
		}
		n += 100;
		elapsed = now_s() - start;
	} while (count <= 0 && elapsed < seconds);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return count > 0 ? 0 : (double)n / elapsed;
}

static double ec_verify_rate(const char *curve, const EVP_MD *md, double seconds)
{
	return ec_verify_run(curve, md, seconds, 0);
}

static double run_tier(cocoon_verifier *v, tier t, const uint8_t *quote, size_t qlen, const cocoon_collateral *coll,
                       time_t at, double seconds, const char *expect_status)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	long n = 0;
	double start, elapsed;

	o.at = at;
	cocoon_verifier_cache_clear(v);
	/* Warm the tiers this run keeps, and check the verdict once. */
	if (cocoon_verifier_verify_dcap(&r, v, quote, qlen, coll, &o) != 0 || !r.accepted ||
	    strcmp(cocoon_tcb_status_name(r.status), expect_status) != 0) {
		fprintf(stderr, "bench: unexpected verdict: %s %s\n", cocoon_check_name(r.failed_check), r.reason);
		exit(1);
	}
	start = now_s();
	do {
		for (int i = 0; i < 50; i++) {
			if (t == TIER_COLD)
				cocoon_verifier_cache_clear(v);
			else if (t == TIER_WARM_COLLATERAL)
				cocoon_verifier_cache_clear_platform(v);
			if (cocoon_verifier_verify_dcap(&r, v, quote, qlen, coll, &o) != 0 || !r.accepted)
				abort();
		}
		n += 50;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	return (double)n / elapsed;
}

/* bench_snp with a fixed count (profile >= 0: 0 cold, anything else cached); returns the P-384 rate. */
static double bench_snp_run(cocoon_verifier *v, const char *dir, double seconds, int profile, long iterations);

static double bench_snp(cocoon_verifier *v, const char *dir, double seconds)
{
	return bench_snp_run(v, dir, seconds, -1, 0);
}

static double bench_snp_run(cocoon_verifier *v, const char *dir, double seconds, int profile, long iterations)
{
	char path[4096];
	uint8_t *report = NULL, *vcek = NULL;
	size_t rlen, vlen;
	cocoon_snp_inputs in = COCOON_SNP_INPUTS_INIT;
	cocoon_snp_policy policy = COCOON_SNP_POLICY_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	double p384 = profile >= 0 ? 1 : ec_verify_rate("P-384", EVP_sha384(), seconds);

	if (profile < 0)
		printf("openssl P-384 verify: %.0f/s (%.1f us)\n", p384, 1e6 / p384);
	snprintf(path, sizeof(path), "%s/snp/report.bin", dir);
	if (cocoon_file_read(&report, &rlen, path) != 0) {
		printf("snp: skipped (%s)\n", cocoon_error_last()->message);
		return p384;
	}
	snprintf(path, sizeof(path), "%s/snp/vcek.der", dir);
	if (cocoon_file_read(&vcek, &vlen, path) != 0) {
		printf("snp: skipped (%s)\n", cocoon_error_last()->message);
		free(report);
		return p384;
	}
	in.vcek = vcek;
	in.vcek_len = vlen;
	policy.allow_debug = 1; /* the real vector is a debug guest */
	for (int cached = 0; cached <= 1; cached++) {
		long n = 0;
		if (profile >= 0 && (profile != 0) != cached)
			continue;
		double start, elapsed;
		cocoon_verifier_cache_clear(v);
		if (cocoon_verifier_verify_snp(&r, v, report, rlen, &in, &policy, &o) != 0 || !r.accepted) {
			fprintf(stderr, "bench: snp rejected: %s\n", r.reason);
			exit(1);
		}
		start = now_s();
		do {
			for (int i = 0; i < 20; i++) {
				if (!cached)
					cocoon_verifier_cache_clear(v);
				if (cocoon_verifier_verify_snp(&r, v, report, rlen, &in, &policy, &o) != 0 || !r.accepted)
					abort();
			}
			n += 20;
			elapsed = now_s() - start;
		} while (profile >= 0 ? n < iterations : elapsed < seconds);
		if (profile >= 0)
			continue;
		double rate = (double)n / elapsed;
		printf("snp %-16s %8.0f verifications/s  %7.1f us  (%.2f of the P-384 verify rate)\n",
		       cached ? "VCEK cached" : "cold", rate, 1e6 / rate, rate / p384);
	}
	free(report);
	free(vcek);
	return p384;
}

static double rsa_verify_rate(double seconds)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char msg[161] = { 1 }, sig[256];
	size_t siglen = sizeof(sig);
	long n = 0;
	double start, elapsed;

	EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key);
	EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg));
	start = now_s();
	do {
		for (int i = 0; i < 100; i++) {
			EVP_MD_CTX_reset(ctx);
			EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key);
			if (EVP_DigestVerify(ctx, sig, siglen, msg, sizeof(msg)) != 1)
				abort();
		}
		n += 100;
		elapsed = now_s() - start;
	} while (elapsed < seconds);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	return (double)n / elapsed;
}

/*
 * az-snp-vtpm v2 evidence (Trustee's vector): JSON parsing, the HCL and TPM
 * layers (one RSA-2048 verify), then the SNP report (one P-384 verify, plus
 * the VCEK chain when cold).
 */
static void bench_vtpm(cocoon_verifier *v, const char *dir, double seconds, double p384)
{
	static const char nonce_hex[] =
		"982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd0fd9f5f819ef";
	char path[4096];
	uint8_t *json = NULL, nonce[48];
	size_t jlen;
	cocoon_vtpm_inputs in = COCOON_VTPM_INPUTS_INIT;
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;
	double rsa = rsa_verify_rate(seconds);

	printf("openssl RSA-2048 verify: %.0f/s (%.1f us)\n", rsa, 1e6 / rsa);
	snprintf(path, sizeof(path), "%s/azure-vtpm/snp/evidence-v2.json", dir);
	if (cocoon_file_read(&json, &jlen, path) != 0) {
		printf("az-snp-vtpm: skipped (%s)\n", cocoon_error_last()->message);
		return;
	}
	cocoon_hex_decode(nonce, sizeof(nonce), nonce_hex, strlen(nonce_hex));
	in.nonce = nonce;
	in.nonce_len = sizeof(nonce);
	o.at = 1750000000;
	for (int cached = 0; cached <= 1; cached++) {
		long n = 0;
		double start, elapsed, rate;
		cocoon_verifier_cache_clear(v);
		if (cocoon_verifier_verify_vtpm_json(&r, NULL, v, COCOON_VTPM_FORMAT_AZ_SNP, (const char *)json, jlen, &in,
		                                     &o) != 0 || !r.accepted) {
			fprintf(stderr, "bench: az-snp-vtpm rejected: %s\n", r.reason);
			exit(1);
		}
		start = now_s();
		do {
			for (int i = 0; i < 20; i++) {
				if (!cached)
					cocoon_verifier_cache_clear(v);
				if (cocoon_verifier_verify_vtpm_json(&r, NULL, v, COCOON_VTPM_FORMAT_AZ_SNP,
				                                     (const char *)json, jlen, &in, &o) != 0 ||
				    !r.accepted)
					abort();
			}
			n += 20;
			elapsed = now_s() - start;
		} while (elapsed < seconds);
		rate = (double)n / elapsed;
		printf("az-snp-vtpm %-12s %8.0f verifications/s  %7.1f us  (%.2f P-384 or %.2f RSA-2048 verifies' worth)\n",
		       cached ? "VCEK cached" : "cold", rate, 1e6 / rate, p384 / rate, rsa / rate);
	}
	free(json);
}

/* Exactly n verifications of one tier, for profilers. */
static int profile_tier(cocoon_verifier *v, tier t, const uint8_t *quote, size_t qlen, const cocoon_collateral *coll,
                        time_t at, long n)
{
	cocoon_verify_options o = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_result r;

	o.at = at;
	cocoon_verifier_cache_clear(v);
	for (long i = 0; i <= n; i++) { /* the first one warms the tiers */
		if (i > 0 && t == TIER_COLD)
			cocoon_verifier_cache_clear(v);
		else if (i > 0 && t == TIER_WARM_COLLATERAL)
			cocoon_verifier_cache_clear_platform(v);
		if (cocoon_verifier_verify_dcap(&r, v, quote, qlen, coll, &o) != 0 || !r.accepted) {
			fprintf(stderr, "bench: rejected: %s\n", r.reason);
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("COCOON_VECTORS") ? getenv("COCOON_VECTORS") : COCOON_VECTORS_DEFAULT;
	double seconds = 3.0;
	static const struct {
		const char *name, *quote, *collateral, *status;
		time_t at;
	} cases[] = {
		{ "sgx", "sgx/quote.bin", "sgx/collateral.json", "ConfigurationAndSWHardeningNeeded", 1752919277 },
		{ "tdx", "tdx/quote.bin", "tdx/collateral.json", "UpToDate", 1752919234 },
	};
	cocoon_verifier *v = NULL;
	struct rusage ru;
	const char *profile_case = NULL;
	int profile = -1;
	long iterations = 200;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (strcmp(argv[i], "--vectors") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--profile") == 0 && i + 2 < argc) {
			profile_case = argv[++i];
			i++;
			profile = strcmp(argv[i], "cold") == 0   ? TIER_COLD
			          : strcmp(argv[i], "warm") == 0 ? TIER_WARM_COLLATERAL
			          : strcmp(argv[i], "seen") == 0 ? TIER_SEEN_PLATFORM
			                                         : -2;
		} else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
			iterations = atol(argv[++i]);
		else
			profile = -2;
		if (profile == -2) {
			fprintf(stderr, "usage: bench_verify [--seconds S] [--vectors DIR]\n"
			                "       bench_verify --profile sgx|tdx|snp|p256|p384 cold|warm|seen [--iterations N]\n");
			return 2;
		}
	}
	if (cocoon_verifier_new(&v, NULL) != 0) {
		fprintf(stderr, "bench: %s\n", cocoon_error_last()->message);
		return 1;
	}
	if (profile >= 0 && strcmp(profile_case, "snp") == 0) {
		bench_snp_run(v, dir, 0, profile, iterations);
		cocoon_verifier_free(v);
		return 0;
	}
	if (profile >= 0 && strcmp(profile_case, "p384") == 0) {
		ec_verify_run("P-384", EVP_sha384(), 0, iterations);
		cocoon_verifier_free(v);
		return 0;
	}
	if (profile >= 0 && strcmp(profile_case, "p256") == 0) {
		ec_verify_run("P-256", EVP_sha256(), 0, iterations);
		cocoon_verifier_free(v);
		return 0;
	}
	double p256 = profile >= 0 ? 0 : ec_verify_rate("P-256", EVP_sha256(), seconds);
	if (profile < 0)
		printf("openssl P-256 verify: %.0f/s (%.1f us)\n", p256, 1e6 / p256);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char path[4096];
		uint8_t *quote = NULL, *json = NULL;
		size_t qlen, jlen;
		cocoon_collateral *coll = NULL;

		snprintf(path, sizeof(path), "%s/%s", dir, cases[c].quote);
		if (cocoon_file_read(&quote, &qlen, path) != 0) {
			printf("%s: skipped (%s)\n", cases[c].name, cocoon_error_last()->message);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, cases[c].collateral);
		if (cocoon_file_read(&json, &jlen, path) != 0 ||
		    cocoon_collateral_from_json(&coll, (const char *)json, jlen) != 0) {
			fprintf(stderr, "bench: %s\n", cocoon_error_last()->message);
			return 1;
		}
		if (profile >= 0) {
			int rc = strcmp(profile_case, cases[c].name) != 0
			                 ? 0
			                 : profile_tier(v, (tier)profile, quote, qlen, coll, cases[c].at, iterations);
			cocoon_collateral_free(coll);
			free(quote);
			free(json);
			if (rc)
				return 1;
			continue;
		}
		for (int t = TIER_COLD; t <= TIER_SEEN_PLATFORM; t++) {
			double rate = run_tier(v, (tier)t, quote, qlen, coll, cases[c].at, seconds, cases[c].status);
			printf("%s %-16s %8.0f verifications/s  %7.1f us  (%.2f P-256 verifies' worth)\n", cases[c].name,
			       tier_names[t], rate, 1e6 / rate, p256 / rate);
		}
		cocoon_collateral_free(coll);
		free(quote);
		free(json);
	}
	if (profile >= 0) {
		cocoon_verifier_free(v);
		return 0;
	}
	bench_vtpm(v, dir, seconds, bench_snp(v, dir, seconds));
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS: %ld KiB\n", ru.ru_maxrss);
	cocoon_verifier_free(v);
	return 0;
}
