/*
 * cocoon ratls make, cocoon verify --ratls and cocoon policy-digest: RA-TLS
 * certificates made from the current evidence provider and checked (key
 * binding, then the embedded evidence when collateral is given), and the
 * ACI HOST_DATA digest of a container security policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cocoon/cocoon.h"
#include "common/util.h"
#include "cli.h"
#include "render.h"

static const char make_usage[] =
	"usage: cocoon ratls make --key-out FILE --cert-out FILE [--provider NAME] [--sim-dir DIR]\n"
	"                         [--tee sgx|tdx|snp] [--legacy] [--p256] [--nonce HEX] [--cn NAME]\n"
	"\n"
	"Makes a key and a self-signed certificate carrying the provider's evidence in the TCG\n"
	"tagged-evidence extension (2.23.133.5.4.9; report data = SHA-256 of the claims, which\n"
	"hold SHA-256 of the certificate's SubjectPublicKeyInfo).\n"
	"\n"
	"  --key-out FILE          the private key, PKCS#8 PEM, written with mode 0600\n"
	"  --cert-out FILE         the certificate, PEM\n"
	"  --provider NAME         auto (default), configfs-tsm, sev-guest, gramine, tdx-guest, sim\n"
	"  --sim-dir DIR           the sim provider's directory (made by 'cocoon sim init')\n"
	"  --tee sgx|tdx|snp       the evidence must be for this TEE (sim: which one to simulate)\n"
	"  --legacy                also Gramine's legacy extension (raw evidence, report data =\n"
	"                          SHA-256 of the SubjectPublicKeyInfo); collects evidence twice\n"
	"  --p256                  an ECDSA P-256 key (default P-384, as Gramine)\n"
	"  --nonce HEX             a \"nonce\" claim\n"
	"  --cn NAME               subject and issuer common name (default \"cocoon RA-TLS\")\n"
	"\n"
	"Exit codes: 0 written, 2 usage or input error, 3 no evidence (no provider, or it failed).\n";

static const char verify_usage[] =
	"usage: cocoon verify --ratls CERT [--collateral FILE] [--trust-sim DIR] [--at TIME] [options]\n"
	"\n"
	"Checks an RA-TLS certificate (PEM or DER): every evidence extension's binding to the\n"
	"certificate's key (tagged first, then Gramine's legacy one, then 1.2.840.113741.1.13.1),\n"
	"then the embedded evidence when its collateral is given.\n"
	"\n"
	"  --collateral FILE       DCAP collateral JSON (the vectors' layout) for SGX/TDX evidence\n"
	"  --vcek FILE, --chain FILE, --crl FILE, --product NAME\n"
	"                          SNP evidence: the VCEK/VLEK, ASK+ARK and CRL (see cocoon verify)\n"
	"  --policy FILE           SNP appraisal policy JSON (docs/cli.md), e.g. a HOST_DATA value\n"
	"  --root FILE             trusted Intel SGX Root CA (default: built in)\n"
	"  --trust-sim DIR         trust the simulation root in DIR, and use its collateral or\n"
	"                          AMD chain unless given: development only\n"
	"  --at TIME               certificate validity and evidence time (RFC 3339 or Unix seconds)\n"
	"  --nonce HEX             the certificate's \"nonce\" claim must be this (freshness)\n"
	"  --allow-debug, --allow-expired-collateral\n"
	"  --json                  print one JSON object\n"
	"\n"
	"Without collateral the binding is still checked and reported, and the evidence is said\n"
	"to be unverified.\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error, 4 the key binding holds but the\n"
	"evidence is unverified for lack of collateral.\n";

static const char digest_usage[] =
	"usage: cocoon policy-digest [--base64] FILE\n"
	"\n"
	"Prints the SEV-SNP HOST_DATA that binds a container security policy the way Azure's\n"
	"confidential containers (ACI) do: SHA-256 of the policy text, as 64 hex digits.\n"
	"  --base64                FILE holds the base64 form (ccePolicy, security-policy-base64);\n"
	"                          it is decoded before hashing\n"
	"Exit codes: 0 printed, 2 usage or input error.\n";

static int tee_arg(cocoon_tee *out, const char *text)
{
	if (strcmp(text, "sgx") == 0)
		*out = COCOON_TEE_SGX;
	else if (strcmp(text, "tdx") == 0)
		*out = COCOON_TEE_TDX;
	else if (strcmp(text, "snp") == 0)
		*out = COCOON_TEE_SNP;
	else
		return cocoon_cli_error("--tee: expected sgx, tdx or snp, got '%.32s'", text);
	return 0;
}

/* The key file is created 0600 before a byte of the key is written. */
static int write_key(const char *path, const char *pem, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return cocoon_cli_error("--key-out %s: cannot create: %s", path, strerror(errno));
	if (fchmod(fd, 0600) != 0) {
		close(fd);
		return cocoon_cli_error("--key-out %s: cannot restrict to mode 0600: %s", path, strerror(errno));
	}
	while (off < len) {
		ssize_t n = write(fd, pem + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return cocoon_cli_error("--key-out %s: write error: %s", path, strerror(errno));
		}
		off += (size_t)n;
	}
	if (close(fd) != 0)
		return cocoon_cli_error("--key-out %s: close error: %s", path, strerror(errno));
	return 0;
}

enum { M_KEY = 256, M_CERT, M_PROVIDER, M_SIM, M_TEE, M_LEGACY, M_P256, M_NONCE, M_CN, M_HELP };

static int ratls_make(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-out", required_argument, NULL, M_KEY }, { "cert-out", required_argument, NULL, M_CERT },
		{ "provider", required_argument, NULL, M_PROVIDER }, { "sim-dir", required_argument, NULL, M_SIM },
		{ "sim", required_argument, NULL, M_SIM }, { "tee", required_argument, NULL, M_TEE },
		{ "legacy", no_argument, NULL, M_LEGACY }, { "p256", no_argument, NULL, M_P256 },
		{ "nonce", required_argument, NULL, M_NONCE }, { "cn", required_argument, NULL, M_CN },
		{ "help", no_argument, NULL, M_HELP }, { NULL, 0, NULL, 0 }
	};
	cocoon_evidence_options eo = COCOON_EVIDENCE_OPTIONS_INIT;
	cocoon_ratls_make_options mo = COCOON_RATLS_MAKE_OPTIONS_INIT;
	cocoon_ratls_credentials cred = { 0 };
	const char *key_out = NULL, *cert_out = NULL;
	uint8_t *nonce = NULL;
	size_t nonce_len = 0;
	int c, rc = COCOON_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case M_KEY: key_out = optarg; break;
		case M_CERT: cert_out = optarg; break;
		case M_PROVIDER: eo.provider = optarg; break;
		case M_SIM: eo.sim_dir = optarg; break;
		case M_TEE:
			if (tee_arg(&eo.tee, optarg) != 0)
				goto done;
			break;
		case M_LEGACY: mo.legacy = 1; break;
		case M_P256: mo.key_type = COCOON_RATLS_KEY_P256; break;
		case M_NONCE:
			free(nonce);
			if (cocoon_hex_decode_alloc(&nonce, &nonce_len, optarg, strlen(optarg)) != 0) {
				nonce = NULL;
				rc = cocoon_cli_error("--nonce: %s", cocoon_error_last()->message);
				goto done;
			}
			break;
		case M_CN: mo.common_name = optarg; break;
		case M_HELP: fputs(make_usage, stdout); rc = 0; goto done;
		default: fputs(make_usage, stderr); goto done;
		}
	}
	if (optind < argc || !key_out || !cert_out) {
		fputs(make_usage, stderr);
		rc = cocoon_cli_error("ratls make: %s", optind < argc ? "unexpected argument" : "--key-out and --cert-out are required");
		goto done;
	}
	mo.evidence = &eo;
	mo.nonce = nonce;
	mo.nonce_len = nonce_len;
	if (cocoon_ratls_make(&cred, &mo) != 0) {
		int code = cocoon_error_last()->code;
		cocoon_cli_error("ratls make: %s", cocoon_error_last()->message);
		rc = code == COCOON_EINVAL ? COCOON_EXIT_USAGE : COCOON_EXIT_NO_EVIDENCE;
		goto done;
	}
	if ((rc = write_key(key_out, cred.key_pem, cred.key_pem_len)) != 0)
		goto done;
	if (cocoon_file_write(cert_out, (const uint8_t *)cred.cert_pem, cred.cert_pem_len) != 0) {
		rc = cocoon_cli_error("--cert-out: %s", cocoon_error_last()->message);
		goto done;
	}
	fprintf(stderr, "cocoon: RA-TLS certificate with %s evidence from %s%s: %s (key %s)\n",
	        cocoon_tee_name(cred.tee), cred.provider, mo.legacy ? " (tagged and legacy extensions)" : "",
	        cert_out, key_out);
	rc = 0;
done:
	free(nonce);
	cocoon_ratls_credentials_free(&cred);
	return rc;
}

int cocoon_cmd_ratls(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "make") == 0)
		return ratls_make(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
		fputs(make_usage, stdout);
		return 0;
	}
	fputs(make_usage, stderr);
	return cocoon_cli_error("ratls: expected the subcommand 'make'");
}

int cocoon_cmd_policy_digest(int argc, char **argv)
{
	const char *path = NULL;
	int base64 = 0, rc;
	uint8_t *data = NULL, d[32];
	size_t len;
	char hex[65];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--base64") == 0)
			base64 = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			fputs(digest_usage, stdout);
			return 0;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fputs(digest_usage, stderr);
			return cocoon_cli_error("policy-digest: unknown option '%s'", argv[i]);
		} else if (path) {
			return cocoon_cli_error("policy-digest: one FILE only ('%s' is extra)", argv[i]);
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fputs(digest_usage, stderr);
		return cocoon_cli_error("policy-digest: FILE is required");
	}
	if (cocoon_file_read(&data, &len, path) != 0)
		return cocoon_cli_error("policy-digest: %s", cocoon_error_last()->message);
	rc = cocoon_snp_host_data_from_policy(d, data, len, base64);
	free(data);
	if (rc != 0)
		return cocoon_cli_error("policy-digest %s: %s", path, cocoon_error_last()->message);
	cocoon_hex_encode(hex, d, 32);
	printf("%s\n", hex);
	return 0;
}

/* What `verify --ratls` was given. */
typedef struct {
	const char *cert, *collateral, *root, *sim, *policy, *product;
	const char *snp_path[3]; /* vcek, chain, crl */
	int json, allow_debug, allow_expired;
	time_t at;
	uint8_t *nonce;
	size_t nonce_len;
} ratls_args;

/* Loaded trust: freed by trust_free. */
typedef struct {
	uint8_t *root, *snp[3];
	size_t root_len, snp_len[3];
	cocoon_collateral *coll;
	cocoon_snp_inputs in;
	cocoon_snp_policy policy;
	int has_policy;
	cocoon_verifier *verifier;
} ratls_trust;

static void trust_free(ratls_trust *t)
{
	free(t->root);
	for (int i = 0; i < 3; i++)
		free(t->snp[i]);
	cocoon_collateral_free(t->coll);
	cocoon_verifier_free(t->verifier);
}

/* Reads a named file, or DIR/rel of the simulation directory when the flag was not given. */
static int read_arg(uint8_t **out, size_t *len, const char *path, const char *sim, const char *rel, const char *flag)
{
	char *p = NULL;
	int rc = 0;
	if (!path && sim && rel && !(path = p = cocoon_sim_path(sim, rel)))
		return cocoon_cli_error("out of memory");
	if (path && cocoon_file_read(out, len, path) != 0)
		rc = cocoon_cli_error("%s: %s", flag, cocoon_error_last()->message);
	free(p);
	return rc;
}

/* Loads what the evidence type needs. Returns 0; t->coll / t->in.vcek stay NULL when nothing applies. */
static int load_trust(ratls_trust *t, const ratls_args *a, const cocoon_ratls_result *probe)
{
	static const char *const snp_rel[3] = { "amd/vcek.pem", "amd/chain.pem", "amd/crl.der" };
	static const char *const snp_flag[3] = { "--vcek", "--chain", "--crl" };
	cocoon_verifier_options vo = COCOON_VERIFIER_OPTIONS_INIT;
	uint8_t *json = NULL;
	size_t len = 0;
	int rc;

	t->in = (cocoon_snp_inputs)COCOON_SNP_INPUTS_INIT;
	t->policy = (cocoon_snp_policy)COCOON_SNP_POLICY_INIT;
	if (probe->format == COCOON_EVIDENCE_SNP_REPORT) {
		for (int i = 0; i < 3; i++)
			if ((rc = read_arg(&t->snp[i], &t->snp_len[i], a->snp_path[i], a->sim, snp_rel[i], snp_flag[i])) != 0)
				return rc;
		t->in.vcek = t->snp[0];
		t->in.vcek_len = t->snp_len[0];
		t->in.chain = t->snp[1];
		t->in.chain_len = t->snp_len[1];
		t->in.crl = t->snp[2];
		t->in.crl_len = t->snp_len[2];
		t->in.product = a->product;
		if (a->policy) {
			if ((rc = read_arg(&json, &len, a->policy, NULL, NULL, "--policy")) != 0)
				return rc;
			rc = cocoon_snp_policy_from_json(&t->policy, (const char *)json, len);
			free(json);
			if (rc != 0)
				return cocoon_cli_error("--policy %s: %s", a->policy, cocoon_error_last()->message);
		}
	} else {
		if ((rc = read_arg(&t->root, &t->root_len, a->root, a->sim, "intel/root.pem", "--root")) != 0)
			return rc;
		if ((rc = read_arg(&json, &len, a->collateral, a->sim,
		                   probe->tee == COCOON_TEE_TDX ? "intel/collateral-tdx.json" : "intel/collateral-sgx.json",
		                   "--collateral")) != 0)
			return rc;
		if (json) {
			rc = cocoon_collateral_from_json(&t->coll, (const char *)json, len);
			free(json);
			if (rc != 0)
				return cocoon_cli_error("--collateral: %s", cocoon_error_last()->message);
		}
		vo.intel_root_der = t->root;
		vo.intel_root_der_len = t->root_len;
	}
	if (a->sim) {
		vo.trust_simulation = 1;
		fprintf(stderr, "cocoon: WARNING: trusting the simulation root in %s (development only)\n", a->sim);
	}
	if (cocoon_verifier_new(&t->verifier, &vo) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	return 0;
}

static int print_result(const cocoon_ratls_result *r, int json_out)
{
	char *json = NULL;
	if (cocoon_ratls_result_to_json(&json, r) != 0)
		return cocoon_cli_error("%s", cocoon_error_last()->message);
	if (json_out)
		printf("%s\n", json);
	else
		cocoon_render_text(stdout, json);
	free(json);
	return 0;
}

static int exit_code(const cocoon_ratls_result *r)
{
	if (r->accepted)
		return COCOON_EXIT_ACCEPT;
	if (r->binding_ok && !r->evidence_verified && r->failed_check == COCOON_CHECK_COLLATERAL)
		return COCOON_EXIT_UNVERIFIED;
	return COCOON_EXIT_REJECT;
}

/* Binding first (no trust needed); then, when the binding holds, the evidence with its trust. */
static int verify_ratls(const ratls_args *a)
{
	cocoon_ratls_verify_options o = COCOON_RATLS_VERIFY_OPTIONS_INIT;
	cocoon_verify_options vo = COCOON_VERIFY_OPTIONS_INIT;
	cocoon_ratls_result probe, r;
	ratls_trust t = { 0 };
	uint8_t *cert = NULL;
	size_t len;
	int rc;

	memset(&probe, 0, sizeof(probe));
	memset(&r, 0, sizeof(r));
	if (cocoon_file_read(&cert, &len, a->cert) != 0)
		return cocoon_cli_error("--ratls: %s", cocoon_error_last()->message);
	o.at = a->at;
	o.nonce = a->nonce;
	o.nonce_len = a->nonce_len;
	vo.allow_debug = a->allow_debug;
	vo.allow_expired_collateral = a->allow_expired;
	o.verify = &vo;
	if (cocoon_ratls_verify(&probe, NULL, cert, len, &o) != 0) {
		rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
		goto done;
	}
	if (!probe.binding_ok || probe.failed_check != COCOON_CHECK_COLLATERAL) {
		rc = print_result(&probe, a->json) ? COCOON_EXIT_USAGE : exit_code(&probe);
		goto done;
	}
	if ((rc = load_trust(&t, a, &probe)) != 0)
		goto done;
	o.collateral = t.coll;
	o.snp = t.in.vcek ? &t.in : NULL;
	o.snp_policy = &t.policy;
	if (a->allow_debug)
		t.policy.allow_debug = 1;
	if (cocoon_ratls_verify(&r, t.verifier, cert, len, &o) != 0) {
		rc = cocoon_cli_error("verification could not run: %s", cocoon_error_last()->message);
		goto done;
	}
	rc = print_result(&r, a->json) ? COCOON_EXIT_USAGE : exit_code(&r);
done:
	free(cert);
	cocoon_ratls_result_free(&probe);
	cocoon_ratls_result_free(&r);
	trust_free(&t);
	return rc;
}

enum { V_RATLS = 256, V_COLL, V_ROOT, V_SIM, V_AT, V_POLICY, V_VCEK, V_CHAIN, V_CRL, V_PRODUCT, V_DEBUG, V_EXPIRED,
       V_JSON, V_HELP, V_NONCE };

int cocoon_verify_wants_ratls(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--ratls") == 0 || strncmp(argv[i], "--ratls=", 8) == 0)
			return 1;
	return 0;
}

int cocoon_cmd_verify_ratls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ratls", required_argument, NULL, V_RATLS }, { "collateral", required_argument, NULL, V_COLL },
		{ "root", required_argument, NULL, V_ROOT }, { "trust-sim", required_argument, NULL, V_SIM },
		{ "at", required_argument, NULL, V_AT }, { "policy", required_argument, NULL, V_POLICY },
		{ "vcek", required_argument, NULL, V_VCEK }, { "chain", required_argument, NULL, V_CHAIN },
		{ "crl", required_argument, NULL, V_CRL }, { "product", required_argument, NULL, V_PRODUCT },
		{ "allow-debug", no_argument, NULL, V_DEBUG }, { "allow-expired-collateral", no_argument, NULL, V_EXPIRED },
		{ "json", no_argument, NULL, V_JSON }, { "help", no_argument, NULL, V_HELP },
		{ "nonce", required_argument, NULL, V_NONCE }, { NULL, 0, NULL, 0 }
	};
	ratls_args a = { 0 };
	int c, rc = COCOON_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case V_RATLS: a.cert = optarg; break;
		case V_COLL: a.collateral = optarg; break;
		case V_ROOT: a.root = optarg; break;
		case V_SIM: a.sim = optarg; break;
		case V_AT:
			if (cocoon_time_parse(&a.at, optarg) != 0) {
				rc = cocoon_cli_error("--at: %s", cocoon_error_last()->message);
				goto done;
			}
			break;
		case V_POLICY: a.policy = optarg; break;
		case V_VCEK: a.snp_path[0] = optarg; break;
		case V_CHAIN: a.snp_path[1] = optarg; break;
		case V_CRL: a.snp_path[2] = optarg; break;
		case V_PRODUCT: a.product = optarg; break;
		case V_DEBUG: a.allow_debug = 1; break;
		case V_EXPIRED: a.allow_expired = 1; break;
		case V_JSON: a.json = 1; break;
		case V_NONCE:
			free(a.nonce);
			if (cocoon_hex_decode_alloc(&a.nonce, &a.nonce_len, optarg, strlen(optarg)) != 0) {
				a.nonce = NULL;
				rc = cocoon_cli_error("--nonce: %s", cocoon_error_last()->message);
				goto done;
			}
			break;
		case V_HELP: fputs(verify_usage, stdout); rc = 0; goto done;
		default:
			fputs(verify_usage, stderr);
			rc = cocoon_cli_error("verify --ratls: that option does not apply to RA-TLS certificates");
			goto done;
		}
	}
	if (optind < argc)
		rc = cocoon_cli_error("verify --ratls: unexpected argument '%s' (see --ratls --help)", argv[optind]);
	else if (a.sim && a.root)
		rc = cocoon_cli_error("--trust-sim and --root are exclusive");
	else
		rc = verify_ratls(&a);
done:
	free(a.nonce);
	return rc;
}
