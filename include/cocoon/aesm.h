/*
 * cocoon: a client for Intel's AESM socket protocol, the out-of-process
 * quoting path the DCAP quote library takes when SGX_AESM_ADDR is set.
 * It talks to Intel's aesmd and to cocoon-quoted alike.
 *
 * Transport: a unix stream socket, one request per connection; each way a
 * 4-byte little-endian length, then a serialized aesm.message.Request or
 * aesm.message.Response (proto2, see src/lib/aesm/messages.proto).
 *
 * Every call returns 0 when the service answered with AESM_SUCCESS. When it
 * answered with another aesm_error_t, the call returns COCOON_EREJECT and
 * *status holds that code; transport or format problems return another
 * negative cocoon_error_code and leave *status at COCOON_AESM_NO_STATUS.
 */
#ifndef COCOON_AESM_H
#define COCOON_AESM_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_AESM_SOCKET_DEFAULT "/var/run/aesmd/aesm.socket"

/* Sizes of the binary structures the protocol carries (Intel's sgx_report.h, sgx_quote.h). */
#define COCOON_SGX_TARGET_INFO_SIZE 512     /* sgx_target_info_t */
#define COCOON_SGX_REPORT_BODY_SIZE 384     /* sgx_report_body_t */
#define COCOON_SGX_REPORT_SIZE_FULL 432     /* sgx_report_t: body, key_id[32], mac[16] */
#define COCOON_SGX_ATT_KEY_ID_SIZE 256      /* sgx_att_key_id_t (sgx_att_key_id_ext_t) */
#define COCOON_SGX_QL_ATT_KEY_ID_SIZE 158   /* sgx_ql_att_key_id_t, its leading part */
#define COCOON_SGX_QE_REPORT_INFO_SIZE 960  /* nonce[16], app target info, QE report */
#define COCOON_SGX_PUB_KEY_ID_SIZE 32       /* SHA-256 of the ECDSA attestation key */

/* aesm_error_t, Intel's psw/ae/inc/internal/aesm_error.h (27 is unused). */
typedef enum {
	COCOON_AESM_SUCCESS = 0,
	COCOON_AESM_UNEXPECTED_ERROR = 1,
	COCOON_AESM_NO_DEVICE_ERROR = 2,
	COCOON_AESM_PARAMETER_ERROR = 3,
	COCOON_AESM_EPIDBLOB_ERROR = 4,
	COCOON_AESM_EPID_REVOKED_ERROR = 5,
	COCOON_AESM_GET_LICENSETOKEN_ERROR = 6,
	COCOON_AESM_SESSION_INVALID = 7,
	COCOON_AESM_MAX_NUM_SESSION_REACHED = 8,
	COCOON_AESM_PSDA_UNAVAILABLE = 9,
	COCOON_AESM_EPH_SESSION_FAILED = 10,
	COCOON_AESM_LONG_TERM_PAIRING_FAILED = 11,
	COCOON_AESM_NETWORK_ERROR = 12,
	COCOON_AESM_NETWORK_BUSY_ERROR = 13,
	COCOON_AESM_PROXY_SETTING_ASSIST = 14,
	COCOON_AESM_FILE_ACCESS_ERROR = 15,
	COCOON_AESM_SGX_PROVISION_FAILED = 16,
	COCOON_AESM_SERVICE_STOPPED = 17,
	COCOON_AESM_BUSY = 18,
	COCOON_AESM_BACKEND_SERVER_BUSY = 19,
	COCOON_AESM_UPDATE_AVAILABLE = 20,
	COCOON_AESM_OUT_OF_MEMORY_ERROR = 21,
	COCOON_AESM_MSG_ERROR = 22,
	COCOON_AESM_THREAD_ERROR = 23,
	COCOON_AESM_SGX_DEVICE_NOT_AVAILABLE = 24,
	COCOON_AESM_ENABLE_SGX_DEVICE_FAILED = 25,
	COCOON_AESM_PLATFORM_INFO_BLOB_INVALID_SIG = 26,
	COCOON_AESM_KDF_MISMATCH = 28,
	COCOON_AESM_OUT_OF_EPC = 29,
	COCOON_AESM_SERVICE_UNAVAILABLE = 30,
	COCOON_AESM_UNRECOGNIZED_PLATFORM = 31,
	COCOON_AESM_ECDSA_ID_MISMATCH = 32,
	COCOON_AESM_PATHNAME_BUFFER_OVERFLOW_ERROR = 33,
	COCOON_AESM_ERROR_STORED_KEY = 34,
	COCOON_AESM_PUB_KEY_ID_MISMATCH = 35,
	COCOON_AESM_INVALID_PCE_SIG_SCHEME = 36,
	COCOON_AESM_ATT_KEY_BLOB_ERROR = 37,
	COCOON_AESM_UNSUPPORTED_ATT_KEY_ID = 38,
	COCOON_AESM_UNSUPPORTED_LOADING_POLICY = 39,
	COCOON_AESM_INTERFACE_UNAVAILABLE = 40,
	COCOON_AESM_PLATFORM_LIB_UNAVAILABLE = 41,
	COCOON_AESM_ATT_KEY_NOT_INITIALIZED = 42,
	COCOON_AESM_ATT_KEY_CERT_DATA_INVALID = 43,
	COCOON_AESM_NO_PLATFORM_CERT_DATA = 44,
	COCOON_AESM_ERROR_REPORT = 45,
	COCOON_AESM_ENCLAVE_LOST = 46,
	COCOON_AESM_INVALID_REPORT = 47,
	COCOON_AESM_ENCLAVE_LOAD_ERROR = 48,
	COCOON_AESM_UNABLE_TO_GENERATE_QE_REPORT = 49,
	COCOON_AESM_KEY_CERTIFICATION_ERROR = 50,
	COCOON_AESM_CONFIG_UNSUPPORTED = 51
} cocoon_aesm_error;

#define COCOON_AESM_ERROR_MAX 51
/* *status when no response arrived. */
#define COCOON_AESM_NO_STATUS UINT32_MAX

/* "AESM_INVALID_REPORT" for 47; "AESM_UNKNOWN_ERROR" outside the table. */
COCOON_API const char *cocoon_aesm_error_name(uint32_t code);

/*
 * The attestation key ID of Intel's ECDSA-P256 QE3 (what the DCAP library's
 * sgx_ql_get_keyid uses): id 0, version 0, the production QE3 MRSIGNER,
 * prod_id 1, algorithm_id 2; the extension (spid, att_key_type) is zero.
 */
COCOON_API void cocoon_aesm_default_att_key_id(uint8_t out[COCOON_SGX_ATT_KEY_ID_SIZE]);

typedef struct {
	unsigned int version;
	const char *socket_path;   /* NULL: COCOON_AESM_SOCKET_DEFAULT */
	unsigned int timeout_ms;   /* whole exchange; 0: 15000, Intel's client default */
	size_t max_response;       /* largest response accepted; 0: 1 MiB */
} cocoon_aesm_options;

#define COCOON_AESM_OPTIONS_VERSION 1
#define COCOON_AESM_OPTIONS_INIT { COCOON_AESM_OPTIONS_VERSION, NULL, 0, 0 }

/*
 * One raw exchange: sends `req` (a serialized Request, framing added here)
 * and returns the serialized Response (caller frees). For tests and tools.
 */
COCOON_API int cocoon_aesm_transact(uint8_t **resp, size_t *resp_len, const cocoon_aesm_options *o, const uint8_t *req,
                                    size_t req_len);

COCOON_API int cocoon_aesm_get_supported_att_key_id_num(uint32_t *num, uint32_t *status, const cocoon_aesm_options *o);
/* ids: num * 256 bytes (caller frees); buf_size must be num * 256 as AESM requires. */
COCOON_API int cocoon_aesm_get_supported_att_key_ids(uint8_t **ids, size_t *ids_len, uint32_t *status,
                                                     const cocoon_aesm_options *o, uint32_t buf_size);
/* list: NULL for "any", else an sgx_ql_att_key_id_list_t (8-byte header, 256-byte entries). */
COCOON_API int cocoon_aesm_select_att_key_id(uint8_t selected[COCOON_SGX_ATT_KEY_ID_SIZE], uint32_t *status,
                                             const cocoon_aesm_options *o, const uint8_t *list, size_t list_len);

typedef struct {
	uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE];
	int has_target_info;
	uint64_t pub_key_id_size;
	int has_pub_key_id_size;
	uint8_t pub_key_id[COCOON_SGX_PUB_KEY_ID_SIZE];
	int has_pub_key_id;
} cocoon_aesm_init_quote_result;

/*
 * InitQuoteEx. want_pub_key_id = 0 is the size query (b_pub_key_id false);
 * otherwise buf_size is sent and the key ID returned when the service knows it.
 */
COCOON_API int cocoon_aesm_init_quote_ex(cocoon_aesm_init_quote_result *out, uint32_t *status, const cocoon_aesm_options *o,
                                         const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE], int want_pub_key_id,
                                         uint64_t buf_size);
COCOON_API int cocoon_aesm_get_quote_size_ex(uint32_t *size, uint32_t *status, const cocoon_aesm_options *o,
                                             const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE]);
/*
 * GetQuoteEx. qe_report_info may be NULL; when given (960 bytes) it is sent
 * and replaced by the service's answer, which carries the QE report.
 * The quote is at most buf_size bytes (caller frees).
 */
COCOON_API int cocoon_aesm_get_quote_ex(uint8_t **quote, size_t *quote_len, uint32_t *status, const cocoon_aesm_options *o,
                                        const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL],
                                        const uint8_t att_key_id[COCOON_SGX_ATT_KEY_ID_SIZE], uint8_t *qe_report_info,
                                        uint32_t buf_size);

/* The QE's target info, as sgx_qe_get_target_info does out of process (two InitQuoteEx calls). */
COCOON_API int cocoon_aesm_qe_target_info(uint8_t target_info[COCOON_SGX_TARGET_INFO_SIZE], uint32_t *status,
                                          const cocoon_aesm_options *o);
/* A quote for an app report, as sgx_qe_get_quote_size + sgx_qe_get_quote do out of process. */
COCOON_API int cocoon_aesm_quote(uint8_t **quote, size_t *quote_len, uint32_t *status, const cocoon_aesm_options *o,
                                 const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL]);

#ifdef __cplusplus
}
#endif
#endif
