/* Internal helpers shared by every library area. */
#ifndef COCOON_UTIL_H
#define COCOON_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include "cocoon/common.h"
#include "cocoon/verify.h"

struct json_t;

#if defined(__GNUC__)
#define COCOON_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define COCOON_PRINTF(a, b)
#endif

/* Records the thread's last error and returns code, so callers can write
 * `return cocoon_error_set(COCOON_EFORMAT, "quote: ...")`. */
int cocoon_error_set(int code, const char *fmt, ...) COCOON_PRINTF(2, 3);
/* Appends OpenSSL's error queue (and clears it) to the message. */
int cocoon_error_set_openssl(int code, const char *fmt, ...) COCOON_PRINTF(2, 3);

/* A verification failure: which check and why. */
typedef struct {
	cocoon_check check;
	char reason[1024];
} cocoon_failure;

/* The result as the CLI's JSON object, built without a text round trip (caller owns *out, a json_t *). */
int cocoon_result_json_object(struct json_t **out, const cocoon_result *r);

/* Fills f and returns COCOON_EREJECT. */
int cocoon_fail(cocoon_failure *f, cocoon_check check, const char *fmt, ...) COCOON_PRINTF(3, 4);

/* Little-endian reads from a buffer the caller has already bounds-checked. */
static inline uint16_t cocoon_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t cocoon_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void cocoon_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void cocoon_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void cocoon_hex_encode(char *out, const uint8_t *in, size_t n);
/* Decodes exactly 2*n hex chars (either case) into out; -1 on bad input. */
int cocoon_hex_decode(uint8_t *out, size_t n, const char *hex, size_t hex_len);
/* Decodes a hex string of any even length into a new buffer. */
int cocoon_hex_decode_alloc(uint8_t **out, size_t *out_len, const char *hex, size_t hex_len);

/* Reads a whole file (NUL-terminated for convenience; len excludes it). */
int cocoon_file_read(uint8_t **out, size_t *len, const char *path);
int cocoon_file_write(const char *path, const uint8_t *data, size_t len);

/* Growable byte buffer. */
typedef struct {
	uint8_t *data;
	size_t len, cap;
} cocoon_buf;
int cocoon_buf_append(cocoon_buf *b, const void *data, size_t len);
int cocoon_buf_printf(cocoon_buf *b, const char *fmt, ...) COCOON_PRINTF(2, 3);
void cocoon_buf_free(cocoon_buf *b);

/* SHA-256 of the concatenation of n (ptr,len) parts. */
int cocoon_sha256(uint8_t out[32], size_t n, const void *const *parts, const size_t *lens);
/* SHA-256 fetched once per process (NULL if the provider lacks it). */
const struct evp_md_st *cocoon_sha256_md(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t cocoon_days_from_civil(int64_t y, unsigned m, unsigned d);

/* True when all n bytes are zero. */
int cocoon_is_zero(const uint8_t *p, size_t n);

#endif
