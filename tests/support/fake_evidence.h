/*
 * Fakes of the platform interfaces behind cocoon_evidence_sys, for tests:
 *
 *  - fake_tsm: configfs-tsm in a temporary directory, with the kernel's
 *    behaviour modelled in-process: mkdir populates the entry, text
 *    attributes apply at write(), inblob applies at close() (a dropped write
 *    is invisible except through generation), outblob is generated on read,
 *    and a "concurrent writer" can bump the generation;
 *  - fake_snp / fake_tdx: /dev/sev-guest and /dev/tdx_guest with scripted
 *    firmware replies (success, busy, bad length, firmware error and the
 *    ENOTTY lock-out that follows it), honouring the kernel's
 *    certificate-size contract;
 *  - fake_gramine: /dev/attestation in a temporary directory; writing
 *    user_report_data regenerates the quote.
 *
 * fake_sys routes each call: paths of a registered device go to its
 * script, paths under the fake roots follow the models, the rest passes
 * through to the real file system.
 */
#ifndef COCOON_FAKE_EVIDENCE_H
#define COCOON_FAKE_EVIDENCE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "cocoon/evidence.h"

/* mkdtemp under $TMPDIR or /tmp; NULL on failure. */
char *fake_tmpdir_create(void);
/* Removes dir recursively and frees the string. */
void fake_tmpdir_remove(char *dir);
/* Writes a small file (creating it); 0 on success. */
int fake_write_file(const char *dir, const char *name, const void *data, size_t len);
/* Number of entries in a directory other than . and ..; -1 when it cannot be opened. */
int fake_dir_count(const char *dir);

/* A structurally valid SNP certificate table of exactly size bytes (size >= 99). */
void fake_snp_certtable(uint8_t *buf, size_t size);

/* ---- /dev/sev-guest ---- */

typedef enum {
	FAKE_SNP_OK = 0,       /* answer (the size query applies when the host holds certificates) */
	FAKE_SNP_BUSY,         /* -EAGAIN, vmm_error BUSY */
	FAKE_SNP_BAD_LENGTH,   /* response header report_size 100 */
	FAKE_SNP_FW_ERROR,     /* -EIO with fw_error 0x27: the kernel wipes the VMPCK, later calls get -ENOTTY */
	FAKE_SNP_STATUS,       /* response status INVALID_PARAM (0x16) */
	FAKE_SNP_WRONG_DATA,   /* a report carrying other REPORT_DATA */
	FAKE_SNP_BAD_CERTS_LEN /* size query answered with a certs_len that is not page-aligned */
} fake_snp_reply;

typedef struct {
	fake_snp_reply script[16];  /* one reply per ioctl; FAKE_SNP_OK after the end */
	size_t script_len;
	size_t certs_size;          /* certificate table the host holds; 0: none */
	unsigned delay_ms;          /* time spent inside each ioctl (concurrency tests) */
	/* state and observations */
	pthread_mutex_t mu;
	size_t next;
	int locked;
	unsigned calls, ext_calls, plain_calls, size_queries;
	uint32_t last_vmpl;
	int in_flight, max_in_flight;
} fake_snp;

/* ---- /dev/tdx_guest ---- */

typedef struct {
	int rc;            /* 0 or the -errno the ioctl fails with */
	int wrong_data;
	unsigned calls;
} fake_tdx;

/* ---- configfs-tsm ---- */

#define FAKE_TSM_MAX_ENTRIES 8

typedef struct {
	char name[256];
	uint64_t write_gen, read_gen;
	uint8_t inblob[64];
	size_t inblob_len;
	unsigned privlevel;
	int generated;
} fake_tsm_entry;

typedef struct {
	char *root;                  /* configfs root (tsm/report inside) */
	const char *provider;        /* "sev_guest", "tdx_guest", "arm_cca_guest" */
	unsigned privlevel_floor;
	int no_provider;             /* mkdir fails with ENXIO */
	unsigned drop_inblob_writes; /* the first N inblob writes are not applied */
	unsigned concurrent_bumps;   /* after each of the first N outblob reads another writer bumps generation */
	int wrong_data;              /* outblob carries other REPORT_DATA */
	size_t certs_size;           /* SNP auxblob size; 0: empty auxblob */
	int corrupt_aux;             /* auxblob entry points past its end */
	int read_errno;              /* outblob reads fail with this errno */
	/* state and observations */
	fake_tsm_entry entries[FAKE_TSM_MAX_ENTRIES];
	unsigned mkdirs, rmdirs, inblob_writes, privlevel_writes, outblob_reads;
	char last_privlevel[16];
	size_t last_inblob_len;
} fake_tsm;

/* Creates root/tsm/report; provider "sev_guest" unless set later. 0 on success. */
int fake_tsm_init(fake_tsm *t);
void fake_tsm_cleanup(fake_tsm *t);

/* ---- Gramine /dev/attestation ---- */

typedef struct {
	char *root;
	int quote_errno;   /* reading quote fails with this errno */
	int wrong_data;
	unsigned report_data_writes;
} fake_gramine;

/* Creates the directory with attestation_type (as given), user_report_data and quote. */
int fake_gramine_init(fake_gramine *g, const char *attestation_type);
void fake_gramine_cleanup(fake_gramine *g);

/* ---- the system-call table ---- */

#define FAKE_MAX_FDS 128

typedef struct fake_sys {
	cocoon_evidence_sys sys;      /* ctx points back here */
	fake_snp *snp;
	const char *snp_path;
	fake_tdx *tdx;
	const char *tdx_path;
	fake_tsm *tsm;
	fake_gramine *gramine;
	unsigned sleeps, slept_ms;
	int open_fds;                 /* descriptors handed out and not yet closed */
	pthread_mutex_t mu;
	int next_dev_fd;
	struct fake_fd {
		int fd;                   /* -1: free slot */
		int kind;
		int pending_err;
		int entry;
		char path[512];
	} fds[FAKE_MAX_FDS];
} fake_sys;

/* A zeroed table wired to the fake calls; attach models by setting the pointers. */
fake_sys *fake_sys_new(void);
void fake_sys_free(fake_sys *f);
void fake_snp_init(fake_snp *s);

#endif
