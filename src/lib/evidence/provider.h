/*
 * Internal interface of the evidence providers.
 *
 * A provider is a vtable {name, probe, collect}. The registry in evidence.c
 * lists them in auto-detection order; the sim provider (sim_provider.c) is
 * in the list but never auto-detected. Providers get a resolved context:
 * every path filled in, the system-call vtable chosen.
 *
 * The parsers at the bottom read untrusted platform output (kernel,
 * firmware, host) and are fuzzed by fuzz/fuzz_evidence_parse.c.
 */
#ifndef COCOON_EVIDENCE_PROVIDER_H
#define COCOON_EVIDENCE_PROVIDER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "cocoon/evidence.h"
#include "common/util.h"

#define EV_PATH_MAX 4096

typedef struct {
	const cocoon_evidence_sys *sys;
	cocoon_tee tee;                        /* required TEE or UNKNOWN */
	const uint8_t *report_data;            /* 64 bytes */
	int snp_vmpl;                          /* 0..3 or COCOON_EVIDENCE_VMPL_DEFAULT */
	int no_aux;
	unsigned int busy_retry_ms;
	char tsm_report_dir[EV_PATH_MAX];      /* <configfs>/tsm/report */
	const char *sev_guest_path;
	const char *tdx_guest_path;
	const char *attestation_root;
	const char *sim_dir;                   /* may be NULL */
	const uint8_t *sim_init_digest;        /* may be NULL */
	size_t sim_init_digest_len;
} cocoon_evidence_ctx;

typedef struct cocoon_evidence_provider {
	const char *name;
	int auto_detect;   /* considered by auto-detection */
	/* Fills state, tee, format and detail; never produces evidence. */
	void (*probe)(cocoon_probe_entry *out, const cocoon_evidence_ctx *ctx);
	/* Fills out (tee, format, evidence, aux) or returns an error with the message set. */
	int (*collect)(cocoon_evidence *out, const cocoon_evidence_ctx *ctx);
} cocoon_evidence_provider;

extern const cocoon_evidence_provider cocoon_evidence_provider_tsm;
extern const cocoon_evidence_provider cocoon_evidence_provider_sev_guest;
extern const cocoon_evidence_provider cocoon_evidence_provider_gramine;
extern const cocoon_evidence_provider cocoon_evidence_provider_tdx_guest;
extern const cocoon_evidence_provider cocoon_evidence_provider_sim;

/* collect/probe over an explicit provider list (tests use their own lists). */
int cocoon_evidence__collect_with(cocoon_evidence *out, const cocoon_evidence_options *opts,
                                  const cocoon_evidence_provider *const *list, size_t n);
int cocoon_evidence__probe_with(cocoon_probe_report *out, const cocoon_evidence_options *opts,
                                const cocoon_evidence_provider *const *list, size_t n);

/* ---- system-call helpers: 0 / a count, or a negative errno; no message set ---- */

/* Reads a whole file into a new buffer (NUL-terminated; len excludes it).
 * -EFBIG when it holds more than max bytes. */
int ev_read_blob(uint8_t **out, size_t *len, const cocoon_evidence_sys *sys, const char *path, size_t max);
/* Reads at most cap-1 bytes of a small text file into buf, NUL-terminated. */
int ev_read_text(char *buf, size_t cap, const cocoon_evidence_sys *sys, const char *path);
/* open(O_WRONLY), one write() of all len bytes, close(); a short write is -EMSGSIZE. */
int ev_write_once(const cocoon_evidence_sys *sys, const char *path, const void *data, size_t len);
/* "ENOENT" etc. for the errno values the providers meet; "E?" otherwise. */
const char *ev_errname(int err);
/* Joins dir and name into out; -ENAMETOOLONG when it does not fit. */
int ev_path(char *out, size_t cap, const char *dir, const char *name);
/* Takes ownership of nothing: copies len bytes into a new buffer (len may be 0 => NULL). */
int ev_dup(uint8_t **out, const uint8_t *data, size_t len);

/* Puts prefix in front of the thread's last error message; returns err. */
int ev_error_prefix(int err, const char *prefix);
/* Formats a probe detail; marks a truncated one with "...". */
void ev_detail(cocoon_probe_entry *e, const char *fmt, ...) COCOON_PRINTF(2, 3);

/* ---- parsers of untrusted platform output (fuzzed) ---- */

/* Strict unsigned decimal with an optional trailing newline, as configfs prints "%lu\n". */
int ev_parse_u64(uint64_t *out, const char *text);
/* Trims trailing newlines, NULs and spaces in place. */
void ev_trim(char *text);

/*
 * The used size of an SNP certificate table (GHCB cert_table): 24-byte
 * entries {guid[16], offset u32, length u32} ended by an all-zero entry;
 * every certificate must lie after the terminator and inside len. *used is
 * the largest offset+length (the header alone when the table is empty).
 * On failure returns COCOON_EFORMAT with the message naming the entry.
 */
int ev_snp_certtable_used(size_t *used, const uint8_t *table, size_t len);

/*
 * The MSG_REPORT_RSP returned by SNP_GET_(EXT_)REPORT: checks the firmware
 * status and that report_size lies in [1184, 4000-32]; points *report into
 * resp. Errors name the status or the bad length.
 */
int ev_snp_report_resp(const uint8_t **report, size_t *report_len, const uint8_t *resp, size_t resp_len);

/*
 * Locates REPORT_DATA inside evidence of the given format (SNP report at
 * 0x50; TDREPORT at 128; DCAP quote by version and TEE/body type).
 * COCOON_EFORMAT when the evidence is too short or of an unknown layout.
 * *tee receives the TEE the evidence claims to be for.
 */
int ev_locate_report_data(const uint8_t **rd, cocoon_tee *tee, cocoon_evidence_format format,
                          const uint8_t *ev, size_t len);

/*
 * Checks that evidence is well-shaped and bound to the requested report
 * data (a stale or foreign report is refused). who prefixes messages.
 */
int ev_check_binding(const char *who, cocoon_evidence_format format, cocoon_tee expect_tee,
                     const uint8_t *ev, size_t len, const uint8_t report_data[64]);

#endif
