/* Small shared helpers: hex, files, buffers, time, hashing, memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include "common/util.h"

void cocoon_zeroize(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

int cocoon_memcmp_ct(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n);
}

const char *cocoon_tee_name(cocoon_tee tee)
{
	switch (tee) {
	case COCOON_TEE_SGX: return "sgx";
	case COCOON_TEE_TDX: return "tdx";
	case COCOON_TEE_SNP: return "snp";
	default: return "unknown";
	}
}

int cocoon_is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

void cocoon_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int cocoon_hex_decode(uint8_t *out, size_t n, const char *hex, size_t hex_len)
{
	if (hex_len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}

int cocoon_hex_decode_alloc(uint8_t **out, size_t *out_len, const char *hex, size_t hex_len)
{
	uint8_t *buf;
	*out = NULL;
	*out_len = 0;
	if (hex_len % 2 != 0)
		return cocoon_error_set(COCOON_EFORMAT, "hex string has odd length %zu", hex_len);
	buf = malloc(hex_len / 2 + 1);
	if (!buf)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory decoding %zu hex characters", hex_len);
	if (cocoon_hex_decode(buf, hex_len / 2, hex, hex_len) != 0) {
		free(buf);
		return cocoon_error_set(COCOON_EFORMAT, "hex string contains a non-hex character");
	}
	*out = buf;
	*out_len = hex_len / 2;
	return 0;
}

int cocoon_file_read(uint8_t **out, size_t *len, const char *path)
{
	FILE *f = NULL;
	uint8_t *buf = NULL;
	size_t cap = 0, used = 0;
	int err = 0;

	*out = NULL;
	*len = 0;
	if (!(f = fopen(path, "rb")))
		return cocoon_error_set(COCOON_EIO, "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		if (cap - used < 4096) {
			size_t ncap = cap ? cap * 2 : 16384;
			uint8_t *n = realloc(buf, ncap + 1);
			if (!n) {
				err = cocoon_error_set(COCOON_ENOMEM, "%s: out of memory reading file", path);
				goto done;
			}
			buf = n;
			cap = ncap;
		}
		size_t got = fread(buf + used, 1, cap - used, f);
		used += got;
		if (got == 0) {
			if (ferror(f)) {
				err = cocoon_error_set(COCOON_EIO, "%s: read error: %s", path, strerror(errno));
				goto done;
			}
			break;
		}
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
done:
	free(buf);
	fclose(f);
	return err;
}

int cocoon_file_write(const char *path, const uint8_t *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int err = 0;
	if (!f)
		return cocoon_error_set(COCOON_EIO, "%s: cannot create: %s", path, strerror(errno));
	if (fwrite(data, 1, len, f) != len)
		err = cocoon_error_set(COCOON_EIO, "%s: write error: %s", path, strerror(errno));
	if (fclose(f) != 0 && !err)
		err = cocoon_error_set(COCOON_EIO, "%s: close error: %s", path, strerror(errno));
	return err;
}

int cocoon_buf_append(cocoon_buf *b, const void *data, size_t len)
{
	if (b->cap - b->len < len + 1) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap - b->len < len + 1)
			ncap *= 2;
		uint8_t *n = realloc(b->data, ncap);
		if (!n)
			return cocoon_error_set(COCOON_ENOMEM, "out of memory growing a buffer to %zu bytes", ncap);
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int cocoon_buf_printf(cocoon_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return cocoon_error_set(COCOON_EINTERNAL, "formatting failed");
	if ((size_t)n < sizeof(small))
		return cocoon_buf_append(b, small, (size_t)n);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory formatting");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int err = cocoon_buf_append(b, big, (size_t)n);
	free(big);
	return err;
}

void cocoon_buf_free(cocoon_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL); }

/* OpenSSL 3 looks EVP_sha256() up in the provider store on every init
 * (a locked, property-matched fetch); one explicit fetch serves the process. */
const EVP_MD *cocoon_sha256_md(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md;
}

int cocoon_sha256(uint8_t out[32], size_t n, const void *const *parts, const size_t *lens)
{
	const EVP_MD *md = cocoon_sha256_md();
	EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new() : NULL;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL);
	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]);
	ok = ok && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : cocoon_error_set_openssl(COCOON_EINTERNAL, "SHA-256 failed");
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
int64_t cocoon_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int two_digits(const char *p, int *v)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return -1;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

int cocoon_time_parse(time_t *out, const char *text)
{
	const char *p = text;
	int year, mon, day, hh, mm, ss, c1, c2;
	long offset = 0;

	if (!text || !*text)
		return cocoon_error_set(COCOON_EINVAL, "empty time: expected RFC 3339 (2025-07-19T10:00:00Z) or Unix seconds");
	/* Unix seconds: only digits. */
	if (strspn(text, "0123456789") == strlen(text)) {
		errno = 0;
		char *end;
		unsigned long long v = strtoull(text, &end, 10);
		if (errno || *end || v > (unsigned long long)INT64_MAX)
			return cocoon_error_set(COCOON_EINVAL, "time '%s' is out of range", text);
		*out = (time_t)v;
		return 0;
	}
	if (strlen(text) < 20 || two_digits(p, &c1) || two_digits(p + 2, &c2) || p[4] != '-' ||
	    two_digits(p + 5, &mon) || p[7] != '-' || two_digits(p + 8, &day) ||
	    (p[10] != 'T' && p[10] != 't' && p[10] != ' ') || two_digits(p + 11, &hh) || p[13] != ':' ||
	    two_digits(p + 14, &mm) || p[16] != ':' || two_digits(p + 17, &ss))
		goto bad;
	year = c1 * 100 + c2;
	p += 19;
	if (*p == '.') { /* fractional seconds are accepted and dropped */
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (two_digits(p + 1, &oh) || p[3] != ':' || two_digits(p + 4, &om) || oh > 23 || om > 59)
			goto bad;
		offset = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		goto bad;
	}
	if (*p || mon < 1 || mon > 12 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		goto bad;
	*out = (time_t)(cocoon_days_from_civil(year, (unsigned)mon, (unsigned)day) * 86400 + hh * 3600 + mm * 60 + ss - offset);
	return 0;
bad:
	return cocoon_error_set(COCOON_EINVAL, "time '%s' is not RFC 3339 (2025-07-19T10:00:00Z) or Unix seconds", text);
}

void cocoon_time_format(char *buf, size_t len, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
