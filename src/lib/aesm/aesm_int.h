/*
 * Internal side of the AESM protocol, shared by the client in libcocoon and
 * by cocoon-quoted: framing, deadline-bounded socket I/O and the generated
 * protobuf-c messages.
 */
#ifndef COCOON_AESM_INT_H
#define COCOON_AESM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>
#include "cocoon/aesm.h"
#include "messages.pb-c.h"

/*
 * Intel's transport writes the length with a raw memcpy of a uint32_t, i.e.
 * host order; every SGX host is x86, so the wire order is little-endian and
 * we fix it as such rather than inherit the host's.
 */
#define COCOON_AESM_FRAME_HEADER 4

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t cocoon_aesm_now_ms(void);

/*
 * Reads or writes exactly n bytes before deadline_ms (CLOCK_MONOTONIC), on a
 * blocking or non-blocking socket; retries EINTR and EAGAIN through poll().
 * what names the data in the error message ("response length").
 * Errors: COCOON_EIO (peer closed, timed out, socket error).
 */
int cocoon_aesm_read_full(int fd, void *buf, size_t n, int64_t deadline_ms, const char *what);
int cocoon_aesm_write_full(int fd, const void *buf, size_t n, int64_t deadline_ms, const char *what);

void cocoon_aesm_frame_put(uint8_t hdr[COCOON_AESM_FRAME_HEADER], uint32_t len);
/*
 * Decodes a length prefix and checks 0 < len <= max. Errors: COCOON_EFORMAT
 * naming the length and the limit.
 */
int cocoon_aesm_frame_len(uint32_t *len, const uint8_t hdr[COCOON_AESM_FRAME_HEADER], size_t max);

/* Serializes m behind its 4-byte length prefix (caller frees *out). */
int cocoon_aesm_pack_framed(uint8_t **out, size_t *out_len, const ProtobufCMessage *m);

#endif
