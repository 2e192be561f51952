/* cocoon: verify and inspect TEE evidence. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
	"usage: cocoon <command> [options]\n"
	"\n"
	"commands:\n"
	"  verify   verify a DCAP quote (SGX v3, TDX v4/v5) or an SEV-SNP report\n"
	"  inspect  decode every field of a quote or report\n"
	"  sim      the simulated TEE: make a simulation PKI, quotes and reports\n"
	"  quote    get an SGX quote from an AESM socket (aesmd or cocoon-quoted)\n"
	"  kbs      key broker clients: get-resource (guest handshake), put-/delete-resource, set-/get-policy\n"
	"  evidence collect evidence inside a TEE (or from the simulator); --probe lists providers\n"
	"  wrap     add cocoon-run to an OCI image (wrap --image DIR:TAG --tag NEW --config FILE)\n"
	"  collateral  fetch, show and import DCAP collateral in a cache directory\n"
	"  token    verify an attestation token from cocoon-attestd (token verify --jwks ...)\n"
	"  ratls    make an RA-TLS key and certificate (ratls make); check one with verify --ratls\n"
	"  policy-digest  SNP HOST_DATA of a container security policy, as ACI binds it\n"
	"  version  print the version\n"
	"\n"
	"Run 'cocoon <command> --help' for the options of a command.\n"
	"Exit codes: 0 accepted, 1 rejected, 2 usage or input error.\n";

int cocoon_cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("cocoon: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return COCOON_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return COCOON_EXIT_USAGE;
	}
	if (strcmp(argv[1], "collateral") == 0)
		return cocoon_cmd_collateral(argc - 1, argv + 1);
	if (strcmp(argv[1], "verify") == 0)
		return cocoon_cmd_verify(argc - 1, argv + 1);
	if (strcmp(argv[1], "inspect") == 0)
		return cocoon_cmd_inspect(argc - 1, argv + 1);
	if (strcmp(argv[1], "sim") == 0)
		return cocoon_cmd_sim(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cocoon_cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "kbs") == 0)
		return cocoon_cmd_kbs(argc - 1, argv + 1);
	if (strcmp(argv[1], "evidence") == 0)
		return cocoon_cmd_evidence(argc - 1, argv + 1);
	if (strcmp(argv[1], "quote") == 0)
		return cocoon_cmd_quote(argc - 1, argv + 1);
	if (strcmp(argv[1], "ratls") == 0)
		return cocoon_cmd_ratls(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy-digest") == 0)
		return cocoon_cmd_policy_digest(argc - 1, argv + 1);
	if (strcmp(argv[1], "wrap") == 0)
		return cocoon_cmd_wrap(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("cocoon %s\n", COCOON_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	fputs(usage, stderr);
	return cocoon_cli_error("unknown command '%s'", argv[1]);
}
