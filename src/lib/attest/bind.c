/*
 * Binding checks: the runtime data and the init data a caller presents must
 * be what the TEE signed (REPORT_DATA; HOST_DATA, MRCONFIGID or CONFIGID),
 * either verbatim or as a digest, zero-padded to the field, or MAA's rule
 * (SHA-256 equals the field's first 32 bytes).
 */
#include <stdio.h>
#include <string.h>
#include <openssl/evp.h>
#include "attest_int.h"

static const char *const hash_names[] = { "the data", "SHA-256", "SHA-384", "SHA-512", "SHA-256" };

/* What the field must hold: expected[0..n) then, except for MAA, zeros up to field_len. */
static int expected_bytes(uint8_t *out, size_t *n, cocoon_bind_hash h, const uint8_t *data, size_t len)
{
	const char *md = h == COCOON_BIND_SHA384 ? "SHA384" : h == COCOON_BIND_SHA512 ? "SHA512" : "SHA256";
	unsigned int dl = 0;

	if (h == COCOON_BIND_NONE) {
		if (len > 64)
			return 1;
		memcpy(out, data, len);
		*n = len;
		return 0;
	}
	if ((unsigned)h > COCOON_BIND_MAA)
		return cocoon_error_set(COCOON_EINVAL, "binding: unknown hash rule %d", (int)h);
	if (EVP_Q_digest(NULL, md, NULL, data, len, out, NULL) != 1)
		return cocoon_error_set_openssl(COCOON_EINTERNAL, "binding: %s failed", md);
	dl = h == COCOON_BIND_SHA384 ? 48 : h == COCOON_BIND_SHA512 ? 64 : 32;
	*n = dl;
	return 0;
}

int attest_bind_check(cocoon_failure *f, const attest_bind *b)
{
	uint8_t want[64];
	char want_hex[129], got_hex[129];
	size_t n = 0, cmp_len;
	int err;

	if ((err = expected_bytes(want, &n, b->hash, b->data, b->len)) < 0)
		return err;
	if (err > 0 || n > b->field_len)
		return cocoon_fail(f, b->check, "%s: %s is %zu bytes but %s holds only %zu; bind a digest instead",
		                   b->label, hash_names[b->hash], err > 0 ? b->len : n, b->field_name, b->field_len);
	/* MAA compares the digest with the field's first 32 bytes only; the others require zero padding. */
	cmp_len = b->hash == COCOON_BIND_MAA ? n : b->field_len;
	memset(want + n, 0, sizeof(want) - n);
	if (cocoon_memcmp_ct(want, b->field, cmp_len) == 0)
		return 0;
	cocoon_hex_encode(want_hex, want, cmp_len);
	cocoon_hex_encode(got_hex, b->field, cmp_len);
	if (b->hash == COCOON_BIND_MAA)
		return cocoon_fail(f, b->check, "%s does not match the evidence: SHA-256(%s) is %s but %s[0:32] is %s; "
		                   "the enclave must put the hash of exactly these bytes there", b->label, b->label,
		                   want_hex, b->field_name, got_hex);
	return cocoon_fail(f, b->check, "%s does not match the evidence: %s of it, zero-padded to %zu bytes, is %s "
	                   "but %s is %s", b->label, hash_names[b->hash], b->field_len, want_hex, b->field_name,
	                   got_hex);
}
