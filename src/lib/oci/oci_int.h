/* Internal interface of the OCI image-layout code (src/lib/oci): descriptors, blobs, the layer writer. */
#ifndef COCOON_OCI_INT_H
#define COCOON_OCI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>
#include "cocoon/oci.h"

#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define OCI_MT_LAYER_PREFIX "application/vnd.oci.image.layer."
#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_REF_NAME "org.opencontainers.image.ref.name"
#define OCI_MAX_SIZE ((uint64_t)1 << 53)   /* exact in a JSON number */

typedef struct {
	const char *media_type;
	char digest[COCOON_OCI_DIGEST_SIZE];
	uint64_t size;
} oci_desc;

/* Checks a descriptor object (mediaType, digest, size; annotations strings only); where names it. */
int oci_desc_parse(oci_desc *out, const json_t *d, const char *where);

/* Reads layout/blobs/sha256/<hex> of d; its size and SHA-256 must match d. */
int oci_blob_read(uint8_t **out, size_t *len, const char *layout, const oci_desc *d, size_t max);
/* Writes data as a blob (temporary file renamed into place); digest receives "sha256:<hex>". */
int oci_blob_write(char digest[COCOON_OCI_DIGEST_SIZE], const char *layout, const uint8_t *data, size_t len);
/* "sha256:<hex>" of data. */
int oci_digest(char digest[COCOON_OCI_DIGEST_SIZE], const uint8_t *data, size_t len);
/* Writes path atomically (temporary file in the same directory, then rename). */
int oci_file_replace(const char *path, const uint8_t *data, size_t len);

/* The one manifest tagged tag in index.json; every descriptor is checked on the way (fuzzed). */
int oci_index_find(oci_desc *out, const json_t *index, const char *tag);
/* Manifest: schemaVersion 2, an OCI config descriptor, descriptors of OCI layer types (fuzzed). */
int oci_manifest_check(oci_desc *config, size_t *n_layers, const json_t *m);
/* Image config: rootfs.diff_ids (one per layer), Entrypoint/Cmd string arrays, Labels (fuzzed). */
int oci_config_check(const json_t *c, size_t n_layers);

typedef struct {
	const char *path;      /* inside the layer, no leading slash */
	const uint8_t *data;   /* NULL: a directory */
	size_t len;
	unsigned int mode;
} oci_layer_entry;

/* A tar of entries (diff_id is its digest) and its gzip (the blob). Free both buffers. */
int oci_layer_build(uint8_t **tar, size_t *tar_len, uint8_t **gz, size_t *gz_len, const oci_layer_entry *e,
                    size_t n, time_t mtime);

#endif
