/*
 * HOST_DATA for a container security policy, as Azure's confidential
 * containers (ACI, Kata-CC on AKS) bind it: the host sets HOST_DATA to
 * SHA-256 of the policy text at launch; the sidecars hash
 * base64-decode(security-policy-base64) (confidential-sidecar-containers
 * GenerateMAAHostData). The base64 form is decoded with OpenSSL.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "cocoon/snp.h"
#include "common/util.h"

#define MAX_POLICY (16u * 1024 * 1024)

static int b64_decode(uint8_t **out, size_t *out_len, const uint8_t *in, size_t len)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	uint8_t *buf = malloc(len / 4 * 3 + 4);
	int n = 0, m = 0, err = 0;

	if (!ctx || !buf) {
		err = cocoon_error_set(COCOON_ENOMEM, "policy: out of memory decoding base64");
		goto done;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &n, in, (int)len) < 0 || EVP_DecodeFinal(ctx, buf + n, &m) != 1) {
		err = cocoon_error_set(COCOON_EFORMAT, "policy: not valid base64 (pass the decoded policy text without "
		                                      "--base64)");
		goto done;
	}
	*out = buf;
	*out_len = (size_t)n + (size_t)m;
	buf = NULL;
done:
	EVP_ENCODE_CTX_free(ctx);
	free(buf);
	return err;
}

int cocoon_snp_host_data_from_policy(uint8_t out[32], const uint8_t *policy, size_t len, int is_base64)
{
	uint8_t *text = NULL;
	size_t text_len = len;
	int err;

	if (!out || (!policy && len))
		return cocoon_error_set(COCOON_EINVAL, "policy digest: NULL argument");
	if (len > MAX_POLICY)
		return cocoon_error_set(COCOON_EINVAL, "policy digest: %zu bytes exceed the %u-byte limit", len, MAX_POLICY);
	if (is_base64 && (err = b64_decode(&text, &text_len, policy, len)) != 0)
		return err;
	err = cocoon_sha256(out, 1, (const void *const[]){ text ? text : policy }, (const size_t[]){ text_len });
	free(text);
	return err;
}
