/*
 * cocoon: common types, error model and memory helpers.
 *
 * Every fallible function returns an int: 0 (COCOON_OK) on success, a negative
 * cocoon_error_code otherwise. The message for the last error on the calling
 * thread is available from cocoon_error_last() until the next failing call.
 */
#ifndef COCOON_COMMON_H
#define COCOON_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Marks a declaration as part of the public ABI. libcocoon is built with
 * -fvisibility=hidden, so everything not marked stays out of users' link
 * namespace (libgit2's GIT_EXTERN).
 */
#if defined(__GNUC__) || defined(__clang__)
#define COCOON_API __attribute__((visibility("default")))
#else
#define COCOON_API
#endif

typedef enum {
	COCOON_OK = 0,
	COCOON_EINVAL = -1,      /* a caller passed an invalid argument */
	COCOON_ENOMEM = -2,      /* out of memory */
	COCOON_EIO = -3,         /* a file could not be read or written */
	COCOON_EFORMAT = -4,     /* input is malformed (JSON, PEM, DER, quote) */
	COCOON_EREJECT = -5,     /* evidence verification rejected the input */
	COCOON_EUNSUPPORTED = -6,/* a well-formed input uses a feature cocoon lacks */
	COCOON_ENOTFOUND = -7,   /* a required item is absent */
	COCOON_EINTERNAL = -8,   /* a library (OpenSSL, jansson) failed unexpectedly */
	COCOON_EUNAVAILABLE = -9 /* a service (the database server) cannot be reached now; retry later */
} cocoon_error_code;

typedef struct {
	int code;           /* a cocoon_error_code */
	char message[1024]; /* what was wrong, where, and what to do */
} cocoon_error;

/* The last error recorded on this thread; never NULL. */
COCOON_API const cocoon_error *cocoon_error_last(void);
/* Clears the thread's last error. */
COCOON_API void cocoon_error_clear(void);
/* Short stable name of an error code, e.g. "EFORMAT". */
COCOON_API const char *cocoon_error_name(int code);

/* A trusted execution environment. */
typedef enum {
	COCOON_TEE_UNKNOWN = 0,
	COCOON_TEE_SGX = 1,
	COCOON_TEE_TDX = 2,
	COCOON_TEE_SNP = 3
} cocoon_tee;

COCOON_API const char *cocoon_tee_name(cocoon_tee tee);

/* Overwrites memory in a way the compiler may not elide. */
COCOON_API void cocoon_zeroize(void *p, size_t n);
/* Constant-time comparison: 0 when equal. */
COCOON_API int cocoon_memcmp_ct(const void *a, const void *b, size_t n);

/* Parses RFC 3339 ("2025-07-19T10:01:17Z", offsets allowed) or Unix seconds. */
COCOON_API int cocoon_time_parse(time_t *out, const char *text);
/* Formats as RFC 3339 UTC into buf (at least 21 bytes). */
COCOON_API void cocoon_time_format(char *buf, size_t len, time_t t);

#ifdef __cplusplus
}
#endif
#endif
