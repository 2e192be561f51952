/*
 * Compact device IDs for the one-device-per-MiB EPC resource.
 *
 * The kubelet drops a ListAndWatch message above 4 MiB (grpc-go's default
 * receive limit, node-components.md 1.5). With decimal IDs 256 GiB of EPC
 * (262,144 devices) needs 4.87 MB. Each Device costs 13 bytes of framing and
 * health ("Healthy") plus its ID, so 256 GiB fits only with IDs of at most 3
 * bytes: base-64 digits, shortest first. Index i maps to:
 *   i < 64            one digit
 *   i < 64 + 4096     two digits   (of i - 64)
 *   otherwise         three digits (of i - 4160)
 * which is a bijection, so decoding is strict: one spelling per index.
 */
#ifndef COCOON_DEVID_H
#define COCOON_DEVID_H

#include <stddef.h>
#include <stdint.h>

#define COCOON_DEVID_MAX_LEN 3
/* Indexes that have a compact ID: 64 + 64^2 + 64^3. */
#define COCOON_DEVID_MAX_COUNT ((uint32_t)(64 + 4096 + 262144))

/* Health encodings and their per-device cost beyond ID and framing. */
enum {
	COCOON_DEVHEALTH_HEALTHY = 9,   /* field 2 "Healthy" */
	COCOON_DEVHEALTH_UNHEALTHY = 11, /* field 2 "Unhealthy" */
	COCOON_DEVHEALTH_OMITTED = 0    /* proto3 default "", which the kubelet counts as unhealthy */
};

/* Writes the ID of index (< COCOON_DEVID_MAX_COUNT) and a NUL; returns its length. */
size_t cocoon_devid_encode(char out[COCOON_DEVID_MAX_LEN + 1], uint32_t index);
/* Decodes the canonical spelling of an index; -1 for anything else. */
int cocoon_devid_decode(uint32_t *index, const char *id, size_t len);
/* Serialized size of a ListAndWatchResponse with n compact-ID devices. */
uint64_t cocoon_devid_list_size(uint32_t n, unsigned health_cost);
/* The largest n whose healthy list fits in limit bytes. */
uint32_t cocoon_devid_max_devices(uint64_t limit);

#endif
