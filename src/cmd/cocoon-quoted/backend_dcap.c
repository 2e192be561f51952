/*
 * The dcap backend: Intel's DCAP quote library (libsgx_dcap_ql.so.1), loaded
 * at run time so that nothing of Intel's SDK is needed to build. The three
 * calls and quote3_error_t come from the documented API
 * (QuoteGeneration/quote_wrapper/ql/inc/sgx_dcap_ql_wrapper.h,
 * sgx_ql_lib_common.h); sgx_target_info_t, sgx_report_t and the quote are
 * passed as bytes of their documented sizes.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "backend.h"
#include "nlog.h"

typedef uint32_t quote3_error_t; /* an enum of 0xE000 | code values in Intel's header */
#define SGX_QL_SUCCESS 0x0000u
#define SGX_QL_ATT_KEY_NOT_INITIALIZED 0xE00Fu
#define SGX_QL_NO_DEVICE 0xE03Fu

typedef quote3_error_t (*ql_target_info_fn)(uint8_t *p_qe_target_info);
typedef quote3_error_t (*ql_quote_size_fn)(uint32_t *p_quote_size);
typedef quote3_error_t (*ql_quote_fn)(const uint8_t *p_app_report, uint32_t quote_size, uint8_t *p_quote);

/* A real ECDSA-P256 quote with a PCK chain is a few KiB; anything past this is a broken library. */
#define DCAP_QUOTE_MAX (1u << 20)
#define QUOTE_ATT_KEY_OFFSET 500

typedef struct {
	void *lib;
	ql_target_info_fn target_info;
	ql_quote_size_fn quote_size;
	ql_quote_fn quote;
	/* Intel's library keeps global QE state; AESM serialises quoting too. */
	pthread_mutex_t lock;
	uint8_t pub_key_id[COCOON_SGX_PUB_KEY_ID_SIZE];
	int pub_key_known;
	char path[256];
} dcap_state;

/* quote3_error_t -> aesm_error_t, as AESM's ECDSA bundle maps them, plus the wrapper's own codes. */
static uint32_t aesm_from_ql(quote3_error_t q)
{
	static const struct {
		quote3_error_t ql;
		uint32_t aesm;
	} map[] = {
		{ 0x0000, COCOON_AESM_SUCCESS },
		{ 0xE001, COCOON_AESM_UNEXPECTED_ERROR },
		{ 0xE002, COCOON_AESM_PARAMETER_ERROR },
		{ 0xE003, COCOON_AESM_OUT_OF_MEMORY_ERROR },
		{ 0xE004, COCOON_AESM_ECDSA_ID_MISMATCH },
		{ 0xE005, COCOON_AESM_PATHNAME_BUFFER_OVERFLOW_ERROR },
		{ 0xE006, COCOON_AESM_FILE_ACCESS_ERROR },
		{ 0xE007, COCOON_AESM_ERROR_STORED_KEY },
		{ 0xE008, COCOON_AESM_PUB_KEY_ID_MISMATCH },
		{ 0xE009, COCOON_AESM_INVALID_PCE_SIG_SCHEME },
		{ 0xE00A, COCOON_AESM_ATT_KEY_BLOB_ERROR },
		{ 0xE00B, COCOON_AESM_UNSUPPORTED_ATT_KEY_ID },
		{ 0xE00C, COCOON_AESM_UNSUPPORTED_LOADING_POLICY },
		{ 0xE00D, COCOON_AESM_INTERFACE_UNAVAILABLE },
		{ 0xE00E, COCOON_AESM_PLATFORM_LIB_UNAVAILABLE },
		{ 0xE00F, COCOON_AESM_ATT_KEY_NOT_INITIALIZED },
		{ 0xE010, COCOON_AESM_ATT_KEY_CERT_DATA_INVALID },
		{ 0xE011, COCOON_AESM_NO_PLATFORM_CERT_DATA },
		{ 0xE012, COCOON_AESM_OUT_OF_EPC },
		{ 0xE013, COCOON_AESM_ERROR_REPORT },
		{ 0xE014, COCOON_AESM_ENCLAVE_LOST },
		{ 0xE015, COCOON_AESM_INVALID_REPORT },
		{ 0xE016, COCOON_AESM_ENCLAVE_LOAD_ERROR },
		{ 0xE017, COCOON_AESM_UNABLE_TO_GENERATE_QE_REPORT },
		{ 0xE018, COCOON_AESM_KEY_CERTIFICATION_ERROR },
		{ 0xE03E, COCOON_AESM_INTERFACE_UNAVAILABLE },     /* SGX_QL_UNSUPPORTED_MODE */
		{ 0xE03F, COCOON_AESM_NO_DEVICE_ERROR },           /* SGX_QL_NO_DEVICE */
		{ 0xE040, COCOON_AESM_SERVICE_UNAVAILABLE },       /* SGX_QL_SERVICE_UNAVAILABLE */
		{ 0xE041, COCOON_AESM_NETWORK_ERROR },             /* SGX_QL_NETWORK_FAILURE */
		{ 0xE042, COCOON_AESM_BACKEND_SERVER_BUSY },       /* SGX_QL_SERVICE_TIMEOUT: worth a retry */
		{ 0xE043, COCOON_AESM_BUSY },                      /* SGX_QL_ERROR_BUSY */
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].ql == q)
			return map[i].aesm;
	return COCOON_AESM_UNEXPECTED_ERROR;
}

static uint32_t ql_result(const char *call, quote3_error_t q)
{
	uint32_t a = aesm_from_ql(q);
	char hex[16];

	if (q != SGX_QL_SUCCESS) {
		snprintf(hex, sizeof(hex), "0x%04x", q);
		nlog_warn("DCAP quote library call failed", "{s:s,s:s,s:s}", "call", call, "quote3_error", hex,
		          "aesm_error", cocoon_aesm_error_name(a));
	}
	return a;
}

/* Calls op; when the attestation key is not (or no longer) initialised,
 * re-runs sgx_qe_get_target_info, which regenerates and certifies it, and
 * retries once, as Intel documents. Called with the lock held. */
static quote3_error_t with_key_retry(dcap_state *s, const char *call, quote3_error_t (*op)(dcap_state *, void *),
                                     void *arg)
{
	uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE];
	quote3_error_t q = op(s, arg);

	if (q != SGX_QL_ATT_KEY_NOT_INITIALIZED)
		return q;
	nlog_warn("attestation key not initialised; re-running sgx_qe_get_target_info", "{s:s}", "call", call);
	if ((q = s->target_info(ti)) != SGX_QL_SUCCESS)
		return q;
	return op(s, arg);
}

static quote3_error_t op_size(dcap_state *s, void *arg)
{
	return s->quote_size(arg);
}

typedef struct {
	const uint8_t *report;
	uint32_t size;
	uint8_t *quote;
} quote_args;

static quote3_error_t op_quote(dcap_state *s, void *arg)
{
	quote_args *a = arg;
	return s->quote(a->report, a->size, a->quote);
}

static uint32_t dcap_target_info(quoted_backend *b, uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE])
{
	dcap_state *s = b->state;
	quote3_error_t q;

	pthread_mutex_lock(&s->lock);
	q = s->target_info(ti);
	pthread_mutex_unlock(&s->lock);
	return ql_result("sgx_qe_get_target_info", q);
}

static uint32_t dcap_pub_key_id(quoted_backend *b, uint8_t id[COCOON_SGX_PUB_KEY_ID_SIZE], int *known)
{
	dcap_state *s = b->state;

	/* The wrapper API does not expose the key; a quote reveals it. */
	pthread_mutex_lock(&s->lock);
	*known = s->pub_key_known;
	memcpy(id, s->pub_key_id, COCOON_SGX_PUB_KEY_ID_SIZE);
	pthread_mutex_unlock(&s->lock);
	return COCOON_AESM_SUCCESS;
}

static uint32_t dcap_quote_size(quoted_backend *b, uint32_t *size)
{
	dcap_state *s = b->state;
	quote3_error_t q;

	*size = 0;
	pthread_mutex_lock(&s->lock);
	q = with_key_retry(s, "sgx_qe_get_quote_size", op_size, size);
	pthread_mutex_unlock(&s->lock);
	return ql_result("sgx_qe_get_quote_size", q);
}

static uint32_t dcap_quote(quoted_backend *b, uint8_t **quote, size_t *quote_len,
                           const uint8_t report[COCOON_SGX_REPORT_SIZE_FULL], uint8_t *qe_report_info,
                           uint32_t buf_size)
{
	dcap_state *s = b->state;
	quote_args a = { report, 0, NULL };
	const char *call = "sgx_qe_get_quote_size";
	uint32_t rc = COCOON_AESM_UNEXPECTED_ERROR;
	quote3_error_t q;

	*quote = NULL;
	*quote_len = 0;
	if (qe_report_info) {
		nlog_info("qe_report_info is not available with the dcap backend",
		          "{s:s}", "why", "sgx_qe_get_quote has no QE report parameter");
		return COCOON_AESM_INTERFACE_UNAVAILABLE;
	}
	pthread_mutex_lock(&s->lock);
	if ((q = with_key_retry(s, call, op_size, &a.size)) != SGX_QL_SUCCESS) {
		rc = ql_result(call, q);
		goto done;
	}
	if (a.size == 0 || a.size > DCAP_QUOTE_MAX) {
		nlog_error("DCAP quote library reported an implausible quote size", "{s:i}", "quote_size",
		           (int)a.size);
		goto done;
	}
	if (buf_size < a.size) {
		nlog_info("quote buffer too small", "{s:i,s:i}", "buf_size", (int)buf_size, "quote_size", (int)a.size);
		rc = COCOON_AESM_PARAMETER_ERROR;
		goto done;
	}
	if (!(a.quote = calloc(1, a.size))) {
		rc = COCOON_AESM_OUT_OF_MEMORY_ERROR;
		goto done;
	}
	call = "sgx_qe_get_quote";
	if ((q = with_key_retry(s, call, op_quote, &a)) != SGX_QL_SUCCESS) {
		rc = ql_result(call, q);
		goto done;
	}
	/* A v3 ECDSA quote carries the attestation key at a fixed offset: remember its ID for InitQuoteEx. */
	if (a.size >= QUOTE_ATT_KEY_OFFSET + 64 && cocoon_le16(a.quote) == 3) {
		const void *parts[1] = { a.quote + QUOTE_ATT_KEY_OFFSET };
		size_t lens[1] = { 64 };
		if (cocoon_sha256(s->pub_key_id, 1, parts, lens) == 0)
			s->pub_key_known = 1;
	}
	*quote = a.quote;
	*quote_len = a.size;
	a.quote = NULL;
	rc = COCOON_AESM_SUCCESS;
done:
	pthread_mutex_unlock(&s->lock);
	free(a.quote);
	return rc;
}

static void dcap_free(quoted_backend *b)
{
	dcap_state *s;

	if (!b)
		return;
	s = b->state;
	if (s) {
		if (s->lib)
			dlclose(s->lib);
		pthread_mutex_destroy(&s->lock);
		free(s);
	}
	free(b);
}

int quoted_backend_dcap_open(quoted_backend **out, const char *lib_path, char *err, size_t err_len)
{
	quoted_backend *b = NULL;
	dcap_state *s = NULL;
	uint8_t ti[COCOON_SGX_TARGET_INFO_SIZE];
	const char *missing = NULL;
	quote3_error_t q;
	int rc = -1;

	*out = NULL;
	/* The library routes everything to an AESM socket when SGX_AESM_ADDR exists
	 * (checked in its constructor): we would end up quoting through ourselves. */
	if (getenv("SGX_AESM_ADDR")) {
		nlog_warn("SGX_AESM_ADDR is set; unsetting it so the DCAP library quotes in process", NULL);
		unsetenv("SGX_AESM_ADDR");
	}
	if (!(b = calloc(1, sizeof(*b))) || !(s = calloc(1, sizeof(*s)))) {
		snprintf(err, err_len, "backend dcap: out of memory");
		goto done;
	}
	pthread_mutex_init(&s->lock, NULL);
	b->state = s;
	snprintf(s->path, sizeof(s->path), "%s", lib_path);
	if (!(s->lib = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, err_len, "backend dcap: cannot load the Intel DCAP quote library %s: %s; install "
		         "libsgx-dcap-ql (and its QE/PCE enclaves) in the image, point --dcap-lib at it, or use "
		         "--backend sim", lib_path, dlerror());
		goto done;
	}
	if (!(s->target_info = (ql_target_info_fn)dlsym(s->lib, "sgx_qe_get_target_info")))
		missing = "sgx_qe_get_target_info";
	else if (!(s->quote_size = (ql_quote_size_fn)dlsym(s->lib, "sgx_qe_get_quote_size")))
		missing = "sgx_qe_get_quote_size";
	else if (!(s->quote = (ql_quote_fn)dlsym(s->lib, "sgx_qe_get_quote")))
		missing = "sgx_qe_get_quote";
	if (missing) {
		snprintf(err, err_len, "backend dcap: %s does not export %s; is it Intel's libsgx_dcap_ql.so.1?", lib_path,
		         missing);
		goto done;
	}
	b->name = "dcap";
	b->target_info = dcap_target_info;
	b->pub_key_id = dcap_pub_key_id;
	b->quote_size = dcap_quote_size;
	b->quote = dcap_quote;
	b->free = dcap_free;
	/* Loads the QE and certifies its key now, so a node without SGX fails at start, not at first use. */
	q = s->target_info(ti);
	if (q == SGX_QL_NO_DEVICE) {
		snprintf(err, err_len, "backend dcap: %s found no SGX device (SGX_QL_NO_DEVICE 0x%04x): give the pod "
		         "/dev/sgx_enclave and /dev/sgx_provision (request sgx.intel.com/enclave and provision)",
		         lib_path, q);
		goto done;
	}
	if (q != SGX_QL_SUCCESS)
		nlog_warn("the QE is not ready yet; requests will retry", "{s:s,s:i,s:s}", "library", lib_path,
		          "quote3_error_code", (int)q, "aesm_error", cocoon_aesm_error_name(aesm_from_ql(q)));
	*out = b;
	b = NULL;
	rc = 0;
done:
	dcap_free(b);
	return rc;
}
