/*
 * A stand-in for Intel's libsgx_dcap_ql.so.1 with scripted results, so the
 * dcap backend of cocoon-quoted runs in tests without SGX. It exports the
 * three documented calls; COCOON_FAKE_QL_MODE (read at every call) picks:
 *
 *   success          everything works
 *   busy             sgx_qe_get_quote answers SGX_QL_ERROR_BUSY
 *   not-initialized  the first sgx_qe_get_quote answers
 *                    SGX_QL_ATT_KEY_NOT_INITIALIZED; it works again once
 *                    sgx_qe_get_target_info has been called after that
 *   out-of-epc       every call answers SGX_QL_OUT_OF_EPC
 *   no-device        every call answers SGX_QL_NO_DEVICE
 *
 * Quotes are 1200 bytes shaped like a v3 ECDSA quote: version 3, key type 2,
 * the app report's body at 48, sig_len at 432 and the attestation key
 * 0x11 x 64 at 500; everything else zero. The target info is 0xEE x 32
 * (MRENCLAVE) followed by zeros.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_QUOTE_SIZE 1200u
#define QL_SUCCESS 0x0000u
#define QL_INVALID_PARAMETER 0xE002u
#define QL_ATT_KEY_NOT_INITIALIZED 0xE00Fu
#define QL_OUT_OF_EPC 0xE012u
#define QL_NO_DEVICE 0xE03Fu
#define QL_ERROR_BUSY 0xE043u

static int key_expired_once, key_expired;

static const char *mode(void)
{
	const char *m = getenv("COCOON_FAKE_QL_MODE");
	return m ? m : "success";
}

/* Failures every call shares; 0 when the call may proceed. */
static uint32_t common_failure(void)
{
	if (strcmp(mode(), "out-of-epc") == 0)
		return QL_OUT_OF_EPC;
	if (strcmp(mode(), "no-device") == 0)
		return QL_NO_DEVICE;
	return QL_SUCCESS;
}

uint32_t sgx_qe_get_target_info(uint8_t *ti)
{
	uint32_t f = common_failure();

	if (f)
		return f;
	if (!ti)
		return QL_INVALID_PARAMETER;
	memset(ti, 0, 512);
	memset(ti, 0xee, 32);
	key_expired = 0;
	return QL_SUCCESS;
}

uint32_t sgx_qe_get_quote_size(uint32_t *size)
{
	uint32_t f = common_failure();

	if (f)
		return f;
	if (!size)
		return QL_INVALID_PARAMETER;
	*size = FAKE_QUOTE_SIZE;
	return QL_SUCCESS;
}

uint32_t sgx_qe_get_quote(const uint8_t *report, uint32_t quote_size, uint8_t *quote)
{
	uint32_t f = common_failure();

	if (f)
		return f;
	if (!report || !quote || quote_size < FAKE_QUOTE_SIZE)
		return QL_INVALID_PARAMETER;
	if (strcmp(mode(), "busy") == 0)
		return QL_ERROR_BUSY;
	if (strcmp(mode(), "not-initialized") == 0 && !key_expired_once) {
		key_expired_once = key_expired = 1;
	}
	if (key_expired)
		return QL_ATT_KEY_NOT_INITIALIZED;
	memset(quote, 0, quote_size);
	quote[0] = 3;  /* version */
	quote[2] = 2;  /* ECDSA-P256 */
	memcpy(quote + 48, report, 384);
	quote[432] = (uint8_t)((FAKE_QUOTE_SIZE - 436) & 0xff);
	quote[433] = (uint8_t)((FAKE_QUOTE_SIZE - 436) >> 8);
	memset(quote + 500, 0x11, 64);
	return QL_SUCCESS;
}
