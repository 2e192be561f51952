/*
 * cocoon kbs: clients of the key broker (docs/kbs.md, "Clients").
 *   get-resource     the guest side: the whole RCAR handshake with an evidence
 *                    provider, then the secret (debugging and tests; the
 *                    same library client as cocoon-run)
 *   put-resource, delete-resource, set-policy, get-policy
 *                    the admin API, authenticated with a short-lived JWT
 *                    signed by the admin private key
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <openssl/pem.h>
#include "cocoon/kbs.h"
#include "cocoon/token.h"
#include "common/util.h"
#include "cli.h"

/* Exit codes of get-resource: those of cocoon-run (docs/run.md), so scripts map causes alike. */
#define KBS_EXIT_UNREACHABLE 82
#define KBS_EXIT_ATTESTATION 83
#define KBS_EXIT_POLICY 84
#define KBS_EXIT_NOT_FOUND 85
#define KBS_EXIT_EVIDENCE 81
#define KBS_EXIT_CONFIG 80

static const char kbs_usage[] =
	"usage: cocoon kbs get-resource --url URL [--ca FILE] --tee sim|sgx|tdx|snp [--sim-dir DIR]\n"
	"                               [--provider P] [--init-data FILE] --path REPO/TYPE/TAG [--out FILE]\n"
	"       cocoon kbs put-resource    --url URL [--ca FILE] --admin-key PRIVATE.pem --path P --file F\n"
	"       cocoon kbs delete-resource --url URL [--ca FILE] --admin-key PRIVATE.pem --path P\n"
	"       cocoon kbs set-policy      --url URL [--ca FILE] --admin-key PRIVATE.pem --kind resource|attestation --file F\n"
	"       cocoon kbs get-policy      --url URL [--ca FILE] --admin-key PRIVATE.pem [--kind resource]\n"
	"  --timeout S   per network step (default 10)\n"
	"\n"
	"get-resource exits 0 (secret on stdout or in --out), 80 bad options, 81 no evidence, 82 broker\n"
	"unreachable, 83 attestation refused, 84 policy denied, 85 resource missing. --tee sim means the\n"
	"simulator producing SGX evidence; --sim-dir with sgx/tdx/snp simulates that TEE. Plain http:// is\n"
	"allowed only to loopback or with the simulator. Admin commands exit 0, 1 when the broker refuses,\n"
	"2 on bad options or an unreachable broker.\n";

typedef struct {
	const char *url, *ca, *tee, *sim_dir, *provider, *init_data, *path, *out, *admin_key, *file, *kind;
	unsigned int timeout_ms;
} kbs_args;

static const struct option kbs_options[] = {
	{ "url", required_argument, NULL, 'u' },       { "ca", required_argument, NULL, 'c' },
	{ "tee", required_argument, NULL, 't' },       { "sim-dir", required_argument, NULL, 's' },
	{ "provider", required_argument, NULL, 'P' },  { "init-data", required_argument, NULL, 'i' },
	{ "path", required_argument, NULL, 'p' },      { "out", required_argument, NULL, 'o' },
	{ "admin-key", required_argument, NULL, 'k' }, { "file", required_argument, NULL, 'f' },
	{ "kind", required_argument, NULL, 'K' },      { "help", no_argument, NULL, 'h' },
	{ "timeout", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 }
};

static int parse(kbs_args *a, int argc, char **argv)
{
	int ch;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", kbs_options, NULL)) != -1) {
		switch (ch) {
		case 'u': a->url = optarg; break;
		case 'c': a->ca = optarg; break;
		case 't': a->tee = optarg; break;
		case 's': a->sim_dir = optarg; break;
		case 'P': a->provider = optarg; break;
		case 'i': a->init_data = optarg; break;
		case 'p': a->path = optarg; break;
		case 'o': a->out = optarg; break;
		case 'k': a->admin_key = optarg; break;
		case 'f': a->file = optarg; break;
		case 'K': a->kind = optarg; break;
		case 'T':
			if (atoi(optarg) < 1 || atoi(optarg) > 600)
				return cocoon_cli_error("kbs: --timeout must be 1..600 seconds");
			a->timeout_ms = (unsigned int)atoi(optarg) * 1000u;
			break;
		case 'h': fputs(kbs_usage, stdout); exit(0);
		default: return cocoon_cli_error("kbs: unknown option (see --help)");
		}
	}
	if (optind != argc)
		return cocoon_cli_error("kbs: unexpected argument '%s'", argv[optind]);
	if (!a->url)
		return cocoon_cli_error("kbs: --url is required");
	return 0;
}

static int failure_exit(cocoon_kbs_failure f)
{
	switch (f) {
	case COCOON_KBS_FAIL_CONFIG: return KBS_EXIT_CONFIG;
	case COCOON_KBS_FAIL_EVIDENCE: return KBS_EXIT_EVIDENCE;
	case COCOON_KBS_FAIL_ATTESTATION: return KBS_EXIT_ATTESTATION;
	case COCOON_KBS_FAIL_POLICY: return KBS_EXIT_POLICY;
	case COCOON_KBS_FAIL_NOT_FOUND: return KBS_EXIT_NOT_FOUND;
	default: return KBS_EXIT_UNREACHABLE;
	}
}

static int write_out(const char *path, const uint8_t *data, size_t len)
{
	int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : 1;
	size_t off = 0;
	if (fd < 0)
		return cocoon_error_set(COCOON_EIO, "--out %s: cannot create it", path);
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (path)
		close(fd);
	return off == len ? 0 : cocoon_error_set(COCOON_EIO, "writing the secret failed");
}

/* get-resource's option errors exit 80, like cocoon-run's. */
#define usage_config(...) (cocoon_cli_error(__VA_ARGS__), KBS_EXIT_CONFIG)

static int cmd_get(const kbs_args *a)
{
	cocoon_kbs_client_options o = COCOON_KBS_CLIENT_OPTIONS_INIT;
	cocoon_kbs_client *k = NULL;
	uint8_t *init = NULL, *secret = NULL;
	size_t init_len = 0, len = 0;
	int rc = KBS_EXIT_CONFIG;

	if (!a->path || !a->tee)
		return usage_config("kbs get-resource: --path and --tee are required");
	if (strcmp(a->tee, "sim") == 0)
		o.tee = COCOON_TEE_SGX, o.provider = "sim";
	else if (strcmp(a->tee, "sgx") == 0)
		o.tee = COCOON_TEE_SGX;
	else if (strcmp(a->tee, "tdx") == 0)
		o.tee = COCOON_TEE_TDX;
	else if (strcmp(a->tee, "snp") == 0)
		o.tee = COCOON_TEE_SNP;
	else
		return usage_config("kbs get-resource: --tee must be sim, sgx, tdx or snp");
	if (a->sim_dir && !a->provider)
		o.provider = "sim";
	if (a->provider)
		o.provider = a->provider;
	if (o.provider && strcmp(o.provider, "sim") == 0 && !a->sim_dir)
		return usage_config("kbs get-resource: the simulator needs --sim-dir DIR (cocoon sim init DIR)");
	o.url = a->url;
	o.ca_file = a->ca;
	o.sim_dir = a->sim_dir;
	o.timeout_ms = a->timeout_ms;
	if (a->init_data && cocoon_file_read(&init, &init_len, a->init_data) != 0) {
		fprintf(stderr, "cocoon: kbs get-resource: %s\n", cocoon_error_last()->message);
		return KBS_EXIT_CONFIG;
	}
	o.init_data = (const char *)init;
	if (cocoon_kbs_client_new(&k, &o) != 0)
		goto done;
	if (cocoon_kbs_client_get_resource(&secret, &len, k, a->path) != 0) {
		rc = failure_exit(cocoon_kbs_client_failure(k));
		goto done;
	}
	rc = write_out(a->out, secret, len) == 0 ? 0 : KBS_EXIT_CONFIG;
done:
	if (rc != 0)
		fprintf(stderr, "cocoon: kbs get-resource: %s (exit %d): %s\n",
		        cocoon_kbs_failure_name(k ? cocoon_kbs_client_failure(k) : COCOON_KBS_FAIL_CONFIG), rc,
		        cocoon_error_last()->message);
	if (secret) {
		cocoon_zeroize(secret, len);
		free(secret);
	}
	cocoon_kbs_client_free(k);
	free(init);
	return rc;
}

/* A five-minute admin JWT signed with the PEM private key (Ed25519 or P-256). */
static int admin_header(char **out, const char *key_path)
{
	EVP_PKEY *key = NULL;
	json_t *claims = NULL;
	char *jwt = NULL;
	time_t now = time(NULL);
	FILE *f = fopen(key_path, "r");
	int err;

	*out = NULL;
	if (!f)
		return cocoon_error_set(COCOON_EIO, "--admin-key %s: cannot open it", key_path);
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!key)
		return cocoon_error_set_openssl(COCOON_EFORMAT, "--admin-key %s: not a PEM private key", key_path);
	claims = json_pack("{s:I,s:I,s:s}", "iat", (json_int_t)now, "exp", (json_int_t)now + 300, "sub", "cocoon kbs");
	if (!claims)
		err = cocoon_error_set(COCOON_ENOMEM, "admin claims: out of memory");
	else if ((err = cocoon_kbs_admin_sign(&jwt, claims, key)) == 0 && asprintf(out, "Authorization: Bearer %s", jwt) < 0)
		err = cocoon_error_set(COCOON_ENOMEM, "out of memory");
	free(jwt);
	json_decref(claims);
	EVP_PKEY_free(key);
	return err;
}

/* One admin request; prints the reply body on success (get-policy). */
static int admin_call(const kbs_args *a, const char *method, const char *route, const uint8_t *body, size_t len,
                      const char *ctype, int print)
{
	cocoon_kbs_http_options o = COCOON_KBS_HTTP_OPTIONS_INIT;
	cocoon_kbs_http_response r;
	char *auth = NULL;
	const char *hdrs[2] = { NULL, NULL };
	int rc = COCOON_EXIT_USAGE;

	if (!a->admin_key)
		return cocoon_cli_error("kbs: --admin-key PRIVATE.pem is required");
	if (admin_header(&auth, a->admin_key) != 0)
		return cocoon_cli_error("kbs: %s", cocoon_error_last()->message);
	hdrs[0] = auth;
	o.ca_file = a->ca;
	o.timeout_ms = a->timeout_ms;
	if (cocoon_kbs_http_request(&r, &o, method, a->url, route, hdrs, body, len, ctype) != 0) {
		cocoon_cli_error("kbs: %s %s: %s", method, route, cocoon_error_last()->message);
		goto done;
	}
	if (r.status / 100 == 2) {
		if (print && r.body_len)
			fwrite(r.body, 1, r.body_len, stdout);
		rc = 0;
	} else {
		fprintf(stderr, "cocoon: kbs: %s %s: HTTP %d: %.*s\n", method, route, r.status, (int)r.body_len,
		        r.body ? (const char *)r.body : "");
		rc = COCOON_EXIT_REJECT;
	}
	cocoon_kbs_http_response_clear(&r);
done:
	free(auth);
	return rc;
}

static int cmd_resource(const kbs_args *a, int del)
{
	char route[512];
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (!a->path || (!del && !a->file))
		return cocoon_cli_error("kbs: --path%s is required", del ? "" : " and --file");
	if (cocoon_kbs_resource_path_parse(&(cocoon_kbs_resource_path){ 0 }, a->path, strlen(a->path)) != 0)
		return cocoon_cli_error("kbs: --path: %s", cocoon_error_last()->message);
	snprintf(route, sizeof(route), "/kbs/v0/resource/%s", a->path);
	if (!del && cocoon_file_read(&data, &len, a->file) != 0)
		return cocoon_cli_error("kbs: --file: %s", cocoon_error_last()->message);
	rc = admin_call(a, del ? "DELETE" : "POST", route, data, len, del ? NULL : "application/octet-stream", 0);
	if (data) {
		cocoon_zeroize(data, len);
		free(data);
	}
	return rc;
}

/* Trustee's body: {"policy": base64url(text)} (attestation: with "type" and "policy_id"). */
static int cmd_set_policy(const kbs_args *a)
{
	uint8_t *text = NULL;
	size_t len = 0;
	char *b64 = NULL, *body = NULL;
	json_t *doc = NULL;
	int attestation, rc = COCOON_EXIT_USAGE;

	if (!a->kind || !a->file || (strcmp(a->kind, "resource") != 0 && strcmp(a->kind, "attestation") != 0))
		return cocoon_cli_error("kbs set-policy: --kind resource|attestation and --file are required");
	attestation = strcmp(a->kind, "attestation") == 0;
	if (cocoon_file_read(&text, &len, a->file) != 0)
		return cocoon_cli_error("kbs: --file: %s", cocoon_error_last()->message);
	if (cocoon_b64url_encode(&b64, text, len) != 0 ||
	    !(doc = attestation ? json_pack("{s:s,s:s,s:s}", "type", "cocoon", "policy_id", "default", "policy", b64)
	                        : json_pack("{s:s}", "policy", b64)) ||
	    !(body = json_dumps(doc, JSON_COMPACT))) {
		cocoon_cli_error("kbs set-policy: out of memory");
		goto done;
	}
	rc = admin_call(a, "POST", attestation ? "/kbs/v0/attestation-policy" : "/kbs/v0/resource-policy",
	                (const uint8_t *)body, strlen(body), "application/json", 0);
done:
	free(text);
	free(b64);
	free(body);
	json_decref(doc);
	return rc;
}

int cocoon_cmd_kbs(int argc, char **argv)
{
	kbs_args a;
	const char *sub;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(kbs_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? COCOON_EXIT_USAGE : 0;
	}
	sub = argv[1];
	if (parse(&a, argc - 1, argv + 1) != 0)
		return strcmp(sub, "get-resource") == 0 ? KBS_EXIT_CONFIG : COCOON_EXIT_USAGE;
	if (strcmp(sub, "get-resource") == 0)
		return cmd_get(&a);
	if (strcmp(sub, "put-resource") == 0)
		return cmd_resource(&a, 0);
	if (strcmp(sub, "delete-resource") == 0)
		return cmd_resource(&a, 1);
	if (strcmp(sub, "set-policy") == 0)
		return cmd_set_policy(&a);
	if (strcmp(sub, "get-policy") == 0) {
		if (a.kind && strcmp(a.kind, "resource") != 0)
			return cocoon_cli_error("kbs get-policy: only --kind resource can be read back");
		return admin_call(&a, "GET", "/kbs/v0/resource-policy", NULL, 0, NULL, 1);
	}
	return cocoon_cli_error("kbs: unknown subcommand '%s' (see cocoon kbs --help)", sub);
}
