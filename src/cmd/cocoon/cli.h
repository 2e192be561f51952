/* Shared pieces of the cocoon command-line tool. */
#ifndef COCOON_CLI_H
#define COCOON_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes (documented in docs/cli.md). */
#define COCOON_EXIT_ACCEPT 0
#define COCOON_EXIT_REJECT 1
#define COCOON_EXIT_USAGE 2
#define COCOON_EXIT_NO_EVIDENCE 3 /* cocoon evidence: no provider available, or it failed */
#define COCOON_EXIT_UNVERIFIED 4  /* verify --ratls: the key binding holds, the evidence lacks collateral */

int cocoon_cmd_verify(int argc, char **argv);
int cocoon_cmd_inspect(int argc, char **argv);
int cocoon_cmd_sim(int argc, char **argv);
int cocoon_cmd_sim_report(int argc, char **argv); /* "cocoon sim report" (cmd_sim_report.c) */
int cocoon_cmd_quote(int argc, char **argv);
int cocoon_cmd_token(int argc, char **argv);
int cocoon_cmd_evidence(int argc, char **argv);
int cocoon_cmd_wrap(int argc, char **argv);       /* cmd_wrap.c */
int cocoon_cmd_kbs(int argc, char **argv);        /* cmd_kbs.c */
/* "cocoon verify --format az-snp-vtpm|az-tdx-vtpm" (cmd_verify_vtpm.c). */
int cocoon_cmd_verify_vtpm(int argc, char **argv);
/* 1 when a verify command line asks for an Azure vTPM format. */
int cocoon_cli_wants_vtpm(int argc, char **argv);
/* "cocoon evidence --provider vtpm" (cmd_evidence_vtpm.c), and whether argv asks for it. */
int cocoon_cmd_evidence_vtpm(int argc, char **argv);
int cocoon_cli_wants_vtpm_evidence(int argc, char **argv);
/* "cocoon sim az-snp-vtpm" (cmd_sim_vtpm.c). */
int cocoon_cmd_sim_vtpm(int argc, char **argv);
/* cmd_ratls.c: "cocoon ratls", "cocoon policy-digest" and "cocoon verify --ratls" */
int cocoon_cmd_ratls(int argc, char **argv);
int cocoon_cmd_policy_digest(int argc, char **argv);
int cocoon_verify_wants_ratls(int argc, char **argv);
int cocoon_cmd_verify_ratls(int argc, char **argv);

/* "cocoon collateral" (cmd_collateral.c) and the opt-in fetching of "cocoon verify". */
#include "cocoon/collateral.h"
typedef struct {
	int enabled;                /* --fetch-collateral[=URL] */
	const char *url, *cache_dir;
	cocoon_collateral_client_options opts;
	cocoon_collateral_client *client;
	cocoon_collateral_cache *cache;
} cocoon_cli_fetch;
int cocoon_cmd_collateral(int argc, char **argv);
/* Takes --fetch-collateral[=URL], --cache-dir, --ca-file and the fetch bounds out of argv. */
int cocoon_cli_fetch_args(cocoon_cli_fetch *f, int *argc, char **argv, int for_verify);
/* Replaces *src with a fetching source (client + cache owned by f). */
int cocoon_cli_fetch_source(cocoon_collateral_source **src, cocoon_cli_fetch *f);
void cocoon_cli_fetch_free(cocoon_cli_fetch *f);

/* Hex of up to n bytes, zero-padded on the right, into out; else a usage error naming flag. */
int cocoon_cli_hex_arg(uint8_t *out, size_t n, const char *flag, const char *hex);
/* An integer 0..65535 (decimal, 0x hex or 0 octal); else a usage error naming flag. */
int cocoon_cli_u16_arg(uint16_t *out, const char *flag, const char *text);

/* Prints "cocoon: <message>" to stderr and returns COCOON_EXIT_USAGE. */
int cocoon_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
