/*
 * Quoting backends behind the AESM protocol. Every operation returns an
 * aesm_error_t and logs the detail itself; the handler only relays codes.
 * Backends are called from any worker thread at once and serialise
 * internally where their library needs it.
 */
#ifndef QUOTED_BACKEND_H
#define QUOTED_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include "cocoon/aesm.h"

typedef struct quoted_backend quoted_backend;

struct quoted_backend {
	const char *name;
	/* The QE's target info (sgx_target_info_t). */
	uint32_t (*target_info)(quoted_backend *b, uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE]);
	/* SHA-256 of the attestation public key; *known = 0 while the backend cannot tell. */
	uint32_t (*pub_key_id)(quoted_backend *b, uint8_t id[COCOON_SGX_PUB_KEY_ID_SIZE], int *known);
	uint32_t (*quote_size)(quoted_backend *b, uint32_t *size);
	/*
	 * A quote of at most buf_size bytes for the app report (caller frees
	 * *quote). qe_report_info, when not NULL, is 960 bytes to fill in.
	 */
	uint32_t (*quote)(quoted_backend *b, uint8_t **quote, size_t *quote_len,
	                  const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t *qe_report_info, uint32_t buf_size);
	void (*free)(quoted_backend *b);
	void *state;
};

/* Open a backend; on failure err says which backend and why. */
int quoted_backend_sim_open(quoted_backend **out, const char *dir, char *err, size_t err_len);
int quoted_backend_dcap_open(quoted_backend **out, const char *lib_path, char *err, size_t err_len);

#endif
