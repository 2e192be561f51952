/* cocoon token verify: check an attestation token against a trusted JWKS, stricter than MAA's clients. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cocoon/cocoon.h"
#include "cocoon/token.h"
#include "common/util.h"
#include "cli.h"

static const char token_usage[] =
	"usage: cocoon token verify --jwks URL|FILE [options] TOKEN|-\n"
	"\n"
	"Verifies a compact JWS attestation token (RS256 or ES256) with a key chosen by the\n"
	"token's kid from the trusted JWKS (an attestd /certs URL or a saved file). Unsigned\n"
	"tokens (alg none), unknown kids, header-supplied keys, expired and not-yet-valid\n"
	"tokens are rejected. Prints the claims as JSON on success.\n"
	"\n"
	"options:\n"
	"  --jwks URL|FILE     trusted signing keys (http://, https:// or a file)\n"
	"  --issuer URL        require this iss; also implies --jku URL/certs\n"
	"  --jku URL           require this jku header (default: the --jwks URL, or --issuer/certs)\n"
	"  --cacert FILE       CA certificates for an https --jwks URL (default: the system store)\n"
	"  --at TIME           judge exp/nbf at this time (RFC 3339 or Unix seconds; default now)\n"
	"  --leeway SECONDS    clock skew allowed on exp/nbf/iat (default 0)\n"
	"\n"
	"Exit codes: 0 valid, 1 rejected, 2 usage or input error.\n";

static int read_token(char **out, size_t *len, const char *arg)
{
	uint8_t *data = NULL;
	cocoon_buf b = { 0 };
	char chunk[4096];
	size_t n;

	if (strcmp(arg, "-") != 0) {
		if (!(*out = strdup(arg)))
			return cocoon_cli_error("out of memory");
		*len = strlen(arg);
		return 0;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if (b.len + n > COCOON_TOKEN_MAX_LEN || cocoon_buf_append(&b, chunk, n) != 0) {
			cocoon_buf_free(&b);
			return cocoon_cli_error("token on stdin: more than %d bytes", COCOON_TOKEN_MAX_LEN);
		}
	}
	if (cocoon_buf_append(&b, "", 1) != 0) {
		cocoon_buf_free(&b);
		return cocoon_cli_error("out of memory");
	}
	data = b.data;
	*len = b.len - 1;
	while (*len > 0 && (data[*len - 1] == '\n' || data[*len - 1] == '\r' || data[*len - 1] == ' '))
		data[--*len] = '\0';
	*out = (char *)data;
	return 0;
}

static int token_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "jwks", required_argument, NULL, 'j' },
		                              { "issuer", required_argument, NULL, 'i' },
		                              { "jku", required_argument, NULL, 'k' },
		                              { "cacert", required_argument, NULL, 'c' },
		                              { "at", required_argument, NULL, 'a' },
		                              { "leeway", required_argument, NULL, 'l' },
		                              { "help", no_argument, NULL, 'h' },
		                              { NULL, 0, NULL, 0 } };
	cocoon_token_verify_options o = COCOON_TOKEN_VERIFY_OPTIONS_INIT;
	const char *jwks_src = NULL, *cacert = NULL;
	char *jku = NULL, *token = NULL, *out = NULL;
	cocoon_jwks *jwks = NULL;
	json_t *claims = NULL;
	size_t len = 0;
	int c, rc = COCOON_EXIT_USAGE, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': jwks_src = optarg; break;
		case 'i': o.issuer = optarg; break;
		case 'k': o.jku = optarg; break;
		case 'c': cacert = optarg; break;
		case 'a':
			if (cocoon_time_parse(&o.now, optarg) != 0)
				return cocoon_cli_error("--at: %s", cocoon_error_last()->message);
			break;
		case 'l': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 86400)
				return cocoon_cli_error("--leeway: expected 0..86400 seconds, got '%s'", optarg);
			o.leeway = (unsigned int)v;
			break;
		}
		case 'h': fputs(token_usage, stdout); return 0;
		default: return COCOON_EXIT_USAGE;
		}
	}
	if (!jwks_src)
		return cocoon_cli_error("token verify: --jwks URL|FILE is required (see --help)");
	if (optind + 1 != argc)
		return cocoon_cli_error("token verify: exactly one TOKEN (or - for stdin) is required");
	/* The jku a token must name: explicit, else where we fetched the keys, else the issuer's /certs. */
	if (!o.jku) {
		if (strncmp(jwks_src, "http://", 7) == 0 || strncmp(jwks_src, "https://", 8) == 0)
			o.jku = jwks_src;
		else if (o.issuer && asprintf(&jku, "%s/certs", o.issuer) >= 0)
			o.jku = jku;
	}
	if ((rc = read_token(&token, &len, argv[optind])) != 0)
		goto done;
	if (cocoon_jwks_load(&jwks, jwks_src, cacert, 10) != 0) {
		rc = cocoon_cli_error("--jwks %s: %s", jwks_src, cocoon_error_last()->message);
		goto done;
	}
	err = cocoon_token_verify(&claims, NULL, token, len, jwks, &o);
	if (err == COCOON_EREJECT || err == COCOON_EFORMAT) {
		fprintf(stderr, "cocoon: token rejected: %s\n", cocoon_error_last()->message);
		rc = COCOON_EXIT_REJECT;
		goto done;
	}
	if (err) {
		rc = cocoon_cli_error("%s", cocoon_error_last()->message);
		goto done;
	}
	if (!(out = json_dumps(claims, JSON_INDENT(2) | JSON_PRESERVE_ORDER))) {
		rc = cocoon_cli_error("out of memory");
		goto done;
	}
	printf("%s\n", out);
	rc = COCOON_EXIT_ACCEPT;
done:
	free(out);
	free(jku);
	free(token);
	json_decref(claims);
	cocoon_jwks_free(jwks);
	return rc;
}

int cocoon_cmd_token(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(token_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? COCOON_EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "verify") == 0)
		return token_verify(argc - 1, argv + 1);
	return cocoon_cli_error("token: unknown subcommand '%s' (expected verify)", argv[1]);
}
