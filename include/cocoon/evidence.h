/*
 * cocoon: evidence collection inside a TEE.
 *
 * One call turns 64 bytes of report data into evidence: the TEE, the
 * evidence bytes (a DCAP quote, an SNP attestation report or a TDREPORT)
 * and auxiliary bytes (the SNP certificate table). Providers:
 *
 *   configfs-tsm  <configfs>/tsm/report (Linux 6.7+): SNP reports and TDX quotes
 *   sev-guest     /dev/sev-guest ioctls: SNP reports and the certificate table
 *   gramine       /dev/attestation inside a Gramine SGX enclave: DCAP quotes
 *   tdx-guest     /dev/tdx_guest ioctl: a TDREPORT (local only; never auto-selected)
 *   sim           the simulated TEE of `cocoon sim` (never auto-selected)
 *
 * Auto-detection probes configfs-tsm, sev-guest, gramine and tdx-guest in
 * that order and uses the first one that is available and produces remotely
 * verifiable evidence. It never falls back to sim. docs/evidence.md has the
 * details, the injected paths and the error messages.
 *
 * Every path and every system call is injectable so tests (and unusual
 * hosts) can point the providers elsewhere.
 */
#ifndef COCOON_EVIDENCE_H
#define COCOON_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_EVIDENCE_REPORT_DATA_SIZE 64

/* What the evidence bytes are. */
typedef enum {
	COCOON_EVIDENCE_FORMAT_NONE = 0,
	COCOON_EVIDENCE_DCAP_QUOTE = 1,   /* Intel DCAP quote v3/v4/v5 (SGX or TDX) */
	COCOON_EVIDENCE_SNP_REPORT = 2,   /* AMD ATTESTATION_REPORT; aux is the GHCB certificate table */
	COCOON_EVIDENCE_TDX_TDREPORT = 3  /* TDREPORT_STRUCT: CPU-MACed, verifiable on the same machine only */
} cocoon_evidence_format;

/* "dcap_quote", "snp_report", "tdx_tdreport" or "none". */
COCOON_API const char *cocoon_evidence_format_name(cocoon_evidence_format f);

/* Collected evidence. Release with cocoon_evidence_free. */
typedef struct {
	cocoon_tee tee;
	cocoon_evidence_format format;
	char provider[32];      /* the provider that produced it, e.g. "configfs-tsm" */
	uint8_t *evidence;
	size_t evidence_len;
	uint8_t *aux;           /* SNP certificate table, trimmed to its used size; NULL when none */
	size_t aux_len;
} cocoon_evidence;

/* Frees the buffers and clears the structure; e may be NULL. */
COCOON_API void cocoon_evidence_free(cocoon_evidence *e);

/*
 * The system interface every provider goes through. Each function returns
 * a non-negative result or a negative errno value (never -1 with errno).
 * ctx is passed back unchanged. An injected table must set every member;
 * NULL in the options means the real calls.
 */
typedef struct cocoon_evidence_sys {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, unsigned int mode);   /* fd */
	int (*close)(void *ctx, int fd);
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	int (*mkdir)(void *ctx, const char *path, unsigned int mode);
	int (*rmdir)(void *ctx, const char *path);
	void (*sleep_ms)(void *ctx, unsigned int ms);
} cocoon_evidence_sys;

/* The real system calls: open/read/write retry EINTR; ioctl never does (no firmware replay). */
COCOON_API const cocoon_evidence_sys *cocoon_evidence_sys_default(void);

/* SNP VMPL request: let the provider choose (configfs-tsm: privlevel_floor; sev-guest: 0). */
#define COCOON_EVIDENCE_VMPL_DEFAULT (-1)

typedef struct {
	unsigned int version;
	const char *provider;          /* NULL or "auto": auto-detection; else a provider name */
	cocoon_tee tee;                /* UNKNOWN: any. Otherwise the evidence must be for this TEE;
	                                  the sim provider produces it */
	uint8_t report_data[COCOON_EVIDENCE_REPORT_DATA_SIZE];
	int snp_vmpl;                  /* 0..3 or COCOON_EVIDENCE_VMPL_DEFAULT */
	int no_aux;                    /* skip the SNP certificate table (sev-guest then uses SNP_GET_REPORT) */
	const char *configfs_root;     /* NULL: "/sys/kernel/config" (entries go in <root>/tsm/report) */
	const char *sev_guest_path;    /* NULL: "/dev/sev-guest" */
	const char *tdx_guest_path;    /* NULL: "/dev/tdx_guest" */
	const char *attestation_root;  /* NULL: "/dev/attestation" */
	const char *sim_dir;           /* the sim provider's directory (`cocoon sim init DIR`) */
	unsigned int busy_retry_ms;    /* delay between busy retries; 0: 2000 ms */
	const cocoon_evidence_sys *sys;/* NULL: cocoon_evidence_sys_default() */
	/* The init-data digest (cocoon_kbs_init_data_digest) the sim provider puts, fitted as
	   Trustee does, into SNP HOST_DATA, TDX MRCONFIGID or SGX CONFIGID. On hardware the host
	   sets those fields at launch, so the other providers ignore it. NULL: zero fields. */
	const uint8_t *sim_init_data_digest;
	size_t sim_init_data_digest_len;
} cocoon_evidence_options;

#define COCOON_EVIDENCE_OPTIONS_VERSION 1
#define COCOON_EVIDENCE_OPTIONS_INIT \
	{ .version = COCOON_EVIDENCE_OPTIONS_VERSION, .snp_vmpl = COCOON_EVIDENCE_VMPL_DEFAULT }

/*
 * Decodes up to 128 hex characters into report data, zero-padding to 64
 * bytes as the platforms expect. COCOON_EINVAL names the bad character or
 * the excess length.
 */
COCOON_API int cocoon_evidence_report_data_from_hex(uint8_t out[COCOON_EVIDENCE_REPORT_DATA_SIZE], const char *hex);

/*
 * Collects evidence for opts->report_data. With a named provider only that
 * provider runs. With auto-detection, the first available provider of the
 * documented order runs; a failure there is returned as is (no silent
 * fall-through). With nothing available the error is COCOON_ENOTFOUND and
 * names every provider probed and why it was not usable.
 * On error *out is cleared and holds no buffers.
 */
COCOON_API int cocoon_evidence_collect(cocoon_evidence *out, const cocoon_evidence_options *opts);

typedef enum {
	COCOON_PROBE_AVAILABLE = 0,  /* the interface is present and usable */
	COCOON_PROBE_ABSENT = 1,     /* the interface does not exist here */
	COCOON_PROBE_UNUSABLE = 2    /* present but not usable (permissions, configuration) */
} cocoon_probe_state;

/* "available", "absent", "unusable". */
COCOON_API const char *cocoon_probe_state_name(cocoon_probe_state s);

typedef struct {
	char name[32];
	cocoon_probe_state state;
	cocoon_tee tee;                 /* what it would produce; UNKNOWN when not known */
	cocoon_evidence_format format;
	int auto_detect;                /* considered by auto-detection */
	char detail[256];               /* what was probed and what was found */
} cocoon_probe_entry;

#define COCOON_EVIDENCE_MAX_PROVIDERS 8

typedef struct {
	size_t count;
	cocoon_probe_entry entries[COCOON_EVIDENCE_MAX_PROVIDERS];
	int selected;                   /* entry auto-detection would use (honouring opts->tee), or -1 */
} cocoon_probe_report;

/*
 * Probes every provider without producing evidence (no firmware request is
 * issued; configfs-tsm creates and removes a private entry to read its
 * provider). opts->report_data and opts->provider are ignored.
 */
COCOON_API int cocoon_evidence_probe(cocoon_probe_report *out, const cocoon_evidence_options *opts);

#ifdef __cplusplus
}
#endif
#endif
