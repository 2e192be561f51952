/* base64 and base64url through OpenSSL's block codec, with strict input checks. */
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "cocoon/token.h"

int cocoon_base64_encode(char **out, const uint8_t *in, size_t len)
{
	char *buf;
	size_t cap;

	*out = NULL;
	if (len > (size_t)COCOON_TOKEN_MAX_LEN * 4)
		return cocoon_error_set(COCOON_EINVAL, "base64: %zu bytes is too large to encode", len);
	cap = 4 * ((len + 2) / 3) + 1;
	if (!(buf = malloc(cap)))
		return cocoon_error_set(COCOON_ENOMEM, "base64: out of memory");
	/* EVP_EncodeBlock takes an int length; the bound above keeps it in range. */
	EVP_EncodeBlock((unsigned char *)buf, in, (int)len);
	*out = buf;
	return 0;
}

int cocoon_b64url_encode(char **out, const uint8_t *in, size_t len)
{
	char *s;
	size_t n;
	int err;

	if ((err = cocoon_base64_encode(&s, in, len)) != 0)
		return err;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
	*out = s;
	return 0;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+' || c == '-') return 62;
	if (c == '/' || c == '_') return 63;
	return -1;
}

int cocoon_b64_decode(uint8_t **out, size_t *out_len, const char *in, size_t len)
{
	char *std = NULL;
	uint8_t *buf = NULL;
	size_t data_len = len, padded, pad;
	int n, err = 0;

	*out = NULL;
	*out_len = 0;
	if (len > (size_t)COCOON_TOKEN_MAX_LEN * 64)
		return cocoon_error_set(COCOON_EFORMAT, "base64: %zu characters exceed the limit", len);
	/* Up to two '=' may end the text; nothing may follow them. */
	while (data_len > 0 && in[data_len - 1] == '=' && len - data_len < 2)
		data_len--;
	for (size_t i = 0; i < data_len; i++) {
		if (b64_value(in[i]) < 0)
			return cocoon_error_set(COCOON_EFORMAT, "base64: invalid character 0x%02x at offset %zu",
			                        (unsigned char)in[i], i);
	}
	if (data_len % 4 == 1)
		return cocoon_error_set(COCOON_EFORMAT, "base64: truncated input (%zu characters: a dangling final "
		                        "character)", data_len);
	if (len != data_len && (len % 4) != 0)
		return cocoon_error_set(COCOON_EFORMAT, "base64: padding at offset %zu does not complete a 4-character "
		                        "group", data_len);
	pad = (4 - data_len % 4) % 4;
	padded = data_len + pad;
	if (!(std = malloc(padded + 1)) || !(buf = malloc(padded / 4 * 3 + 1))) {
		err = cocoon_error_set(COCOON_ENOMEM, "base64: out of memory");
		goto done;
	}
	for (size_t i = 0; i < data_len; i++) {
		char c = in[i];
		std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	memset(std + data_len, '=', pad);
	std[padded] = '\0';
	if (padded == 0) {
		buf[0] = '\0';
		*out = buf;
		buf = NULL;
		goto done;
	}
	n = EVP_DecodeBlock(buf, (const unsigned char *)std, (int)padded);
	if (n < 0 || (size_t)n < pad) {
		err = cocoon_error_set(COCOON_EFORMAT, "base64: OpenSSL could not decode %zu characters", data_len);
		goto done;
	}
	/* EVP_DecodeBlock counts padding as zero bytes. */
	*out_len = (size_t)n - pad;
	buf[*out_len] = '\0';
	*out = buf;
	buf = NULL;
done:
	free(std);
	free(buf);
	return err;
}
