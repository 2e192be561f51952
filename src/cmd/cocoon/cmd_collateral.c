/*
 * cocoon collateral fetch|show|import: manages a collateral cache directory
 * (docs/collateral.md), and the opt-in fetching of `cocoon verify
 * --fetch-collateral[=URL]`. Fetched collateral is verified (chains, CRLs,
 * signatures, dates) before `fetch` stores it; the library does the work.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cocoon/cocoon.h"
#include "cocoon/collateral.h"
#include "common/util.h"
#include "cli.h"

#define EXIT_FETCH 4 /* the service could not be reached or answered with an error */

static const char collateral_usage[] =
	"usage: cocoon collateral fetch --fmspc HEX --tee sgx|tdx [--url URL] [--cache-dir DIR] [options]\n"
	"       cocoon collateral show --cache-dir DIR\n"
	"       cocoon collateral import --cache-dir DIR FILE|DIR\n"
	"\n"
	"fetch: gets TCB info, QE identity, PCK CRL and root CA CRL from Intel PCS (default) or a\n"
	"PCCS / PCS-v4-compatible cache at URL, verifies them, prints the verdict as JSON and,\n"
	"when they verify, stores them in DIR.\n"
	"  --url URL               service root (default " COCOON_PCS_URL_DEFAULT ")\n"
	"  --root-crl-url URL      root CA CRL (default: Intel's CDP, or URL/sgx/certification/v4/rootcacrl)\n"
	"  --ca-file FILE          PEM CAs for HTTPS (default: the system store)\n"
	"  --pck-ca platform|processor  which PCK CRL (default platform)\n"
	"  --update standard|early TCB update type (default standard)\n"
	"  --at TIME               verification time (default now); --root FILE: trusted Intel root\n"
	"  --attempts N, --timeout-ms N, --backoff-ms N  retry and timeout bounds\n"
	"show: lists the entries of DIR with their expiry (JSON).\n"
	"import: stores collateral (the vectors' JSON layout, or a PCS directory) in DIR for offline use.\n"
	"Exit codes: 0 ok, 1 fetched collateral rejected, 2 usage or input error, 4 the service failed.\n";

/* Flags that `cocoon verify` shares with `collateral fetch`. */
static int fetch_flag(cocoon_cli_fetch *f, const char *name, const char *val)
{
	if (strcmp(name, "cache-dir") == 0)
		f->cache_dir = val;
	else if (strcmp(name, "ca-file") == 0)
		f->opts.ca_file = val;
	else if (strcmp(name, "root-crl-url") == 0)
		f->opts.root_crl_url = val;
	else if (strcmp(name, "pck-ca") == 0)
		f->opts.pck_ca = val;
	else if (strcmp(name, "update") == 0)
		f->opts.update = val;
	else if (strcmp(name, "attempts") == 0)
		f->opts.max_attempts = atoi(val);
	else if (strcmp(name, "timeout-ms") == 0)
		f->opts.timeout_ms = atol(val);
	else if (strcmp(name, "backoff-ms") == 0)
		f->opts.backoff_ms = atol(val);
	else
		return 0;
	return 1;
}

int cocoon_cli_fetch_args(cocoon_cli_fetch *f, int *argc, char **argv, int for_verify)
{
	int out = 1;

	f->opts = (cocoon_collateral_client_options)COCOON_COLLATERAL_CLIENT_OPTIONS_INIT;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (strcmp(a, "--fetch-collateral") == 0) {
			f->enabled = 1;
			continue;
		}
		if (strncmp(a, "--fetch-collateral=", 19) == 0) {
			f->enabled = 1;
			f->url = a + 19;
			continue;
		}
		if (strncmp(a, "--", 2) == 0 && i + 1 < *argc && fetch_flag(f, a + 2, argv[i + 1])) {
			i++;
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
	argv[out] = NULL;
	if (for_verify && !f->enabled && (f->cache_dir || f->opts.ca_file))
		return cocoon_cli_error("--cache-dir and --ca-file need --fetch-collateral");
	return 0;
}

/* The given service answers for the evidence at hand: KDS paths for SNP, the PCS v4 paths for SGX and TDX. */
int cocoon_cli_fetch_source(cocoon_collateral_source **src, cocoon_cli_fetch *f)
{
	f->opts.kds_url = f->opts.pcs_url = f->url;
	if (cocoon_collateral_client_new(&f->client, &f->opts) != 0 ||
	    cocoon_collateral_cache_new(&f->cache, f->cache_dir) != 0)
		return cocoon_cli_error("--fetch-collateral: %s", cocoon_error_last()->message);
	cocoon_collateral_source_free(*src);
	*src = NULL;
	if (cocoon_collateral_source_new_fetch(src, f->client, f->cache) != 0)
		return cocoon_cli_error("--fetch-collateral: %s", cocoon_error_last()->message);
	return 0;
}

void cocoon_cli_fetch_free(cocoon_cli_fetch *f)
{
	cocoon_collateral_cache_free(f->cache);
	cocoon_collateral_client_free(f->client);
	f->cache = NULL;
	f->client = NULL;
}

typedef struct {
	cocoon_cli_fetch f;
	const char *fmspc, *tee, *at, *root;
} fetch_args;

static int verify_fetched(cocoon_result *res, const cocoon_collateral *coll, const fetch_args *a)
{
	cocoon_verifier_options ro = COCOON_VERIFIER_OPTIONS_INIT;
	cocoon_verify_options vo = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_verifier *v = NULL;
	uint8_t *root = NULL;
	size_t root_len = 0;
	int rc = 0;

	if (a->at && cocoon_time_parse(&vo.at, a->at) != 0)
		return cocoon_cli_error("--at: %s", cocoon_error_last()->message);
	if (a->root && cocoon_file_read(&root, &root_len, a->root) != 0)
		return cocoon_cli_error("--root: %s", cocoon_error_last()->message);
	ro.intel_root_der = root;
	ro.intel_root_der_len = root_len;
	if (cocoon_verifier_new(&v, &ro) != 0 || cocoon_verifier_verify_collateral(res, v, coll, &vo) != 0)
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
	cocoon_verifier_free(v);
	free(root);
	return rc;
}

static int cmd_fetch(int argc, char **argv)
{
	fetch_args a = { 0 };
	cocoon_tee tee;
	cocoon_collateral *coll = NULL;
	cocoon_result res;
	long max_age;
	int rc;

	if ((rc = cocoon_cli_fetch_args(&a.f, &argc, argv, 0)) != 0)
		return rc;
	a.f.enabled = 1;
	for (int i = 1; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--fmspc") == 0 ? &a.fmspc : strcmp(argv[i], "--tee") == 0 ? &a.tee
		                  : strcmp(argv[i], "--url") == 0 ? &a.f.opts.pcs_url : strcmp(argv[i], "--at") == 0 ? &a.at
		                  : strcmp(argv[i], "--root") == 0 ? &a.root : NULL;
		if (!slot || i + 1 >= argc)
			return cocoon_cli_error("collateral fetch: unexpected '%s'\n%s", argv[i], collateral_usage);
		*slot = argv[++i];
	}
	if (!a.fmspc || !a.tee || (strcmp(a.tee, "sgx") != 0 && strcmp(a.tee, "tdx") != 0))
		return cocoon_cli_error("collateral fetch needs --fmspc HEX and --tee sgx|tdx");
	tee = strcmp(a.tee, "tdx") == 0 ? COCOON_TEE_TDX : COCOON_TEE_SGX;
	if (cocoon_collateral_client_new(&a.f.client, &a.f.opts) != 0 ||
	    (a.f.cache_dir && cocoon_collateral_cache_new(&a.f.cache, a.f.cache_dir) != 0)) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (cocoon_collateral_client_fetch_dcap(&coll, &max_age, a.f.client, tee, a.fmspc) != 0) {
		fprintf(stderr, "cocoon: collateral fetch: %s\n", cocoon_error_last()->message);
		rc = EXIT_FETCH;
		goto done;
	}
	if ((rc = verify_fetched(&res, coll, &a)) != 0)
		goto done;
	printf("{\"verdict\":\"%s\",\"failed_check\":\"%s\",\"reason\":", res.accepted ? "accept" : "reject",
	       res.accepted ? "none" : cocoon_check_name(res.failed_check));
	{
		json_t *s = json_string(res.reason);
		char *t = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
		printf("%s}\n", t ? t : "\"\"");
		free(t);
		json_decref(s);
	}
	if (!res.accepted) {
		rc = COCOON_EXIT_REJECT;
		goto done;
	}
	if (a.f.cache) {
		/* The cache takes coll, also on failure. */
		if (cocoon_collateral_cache_put_dcap(a.f.cache, coll, a.f.opts.update, time(NULL), max_age) != 0)
			rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		coll = NULL;
	}
done:
	cocoon_collateral_free(coll);
	cocoon_cli_fetch_free(&a.f);
	return rc;
}

static int cmd_show_import(int argc, char **argv, int import)
{
	cocoon_cli_fetch f = { 0 };
	cocoon_collateral *coll = NULL;
	const char *path = NULL;
	char *json = NULL;
	int rc = 0;

	if ((rc = cocoon_cli_fetch_args(&f, &argc, argv, 0)) != 0)
		return rc;
	if (import && argc == 2)
		path = argv[1];
	if (!f.cache_dir || argc != (import ? 2 : 1))
		return cocoon_cli_error("usage: cocoon collateral %s", import ? "import --cache-dir DIR FILE|DIR"
		                                                               : "show --cache-dir DIR");
	if (cocoon_collateral_cache_new(&f.cache, f.cache_dir) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (import) {
		struct stat st;
		uint8_t *buf = NULL;
		size_t len;
		int err = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? cocoon_collateral_from_dir(&coll, path)
		          : cocoon_file_read(&buf, &len, path) ? -1 : cocoon_collateral_from_json(&coll, (char *)buf, len);
		free(buf);
		if (err || cocoon_collateral_cache_put_dcap(f.cache, coll, f.opts.update, time(NULL), -1) != 0) {
			coll = NULL;
			rc = cocoon_cli_error("import %s: %s", path, cocoon_error_last()->message);
			goto done;
		}
		coll = NULL;
	}
	if (cocoon_collateral_cache_list(&json, f.cache, time(NULL)) != 0) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	printf("%s\n", json);
done:
	free(json);
	cocoon_collateral_free(coll);
	cocoon_cli_fetch_free(&f);
	return rc;
}

int cocoon_cmd_collateral(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(collateral_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? COCOON_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "fetch") == 0)
		return cmd_fetch(argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return cmd_show_import(argc - 1, argv + 1, 0);
	if (strcmp(argv[1], "import") == 0)
		return cmd_show_import(argc - 1, argv + 1, 1);
	return cocoon_cli_error("collateral: unknown command '%s'\n%s", argv[1], collateral_usage);
}
