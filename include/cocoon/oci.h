/*
 * cocoon: OCI image layouts (image-spec v1): reading them strictly and
 * wrapping an image around cocoon-run (`cocoon wrap`).
 *
 * Wrapping adds one layer (tar+gzip, written with libarchive) holding
 * /cocoon/bin/cocoon-run and /cocoon/launch.json, points the entrypoint at
 * cocoon-run and records the original entrypoint and cmd: the launch
 * configuration's "command" (filled from them when it has none) and the
 * config labels dev.cocoon.run.entrypoint / dev.cocoon.run.cmd (their JSON).
 * Every other layer stays byte-identical; new config and manifest blobs are
 * written and index.json gets the new tag.
 *
 * Index, manifest and config are parsed strictly (media types, digest
 * format sha256:<64 hex>, sizes), and every blob read is checked against
 * its digest and size.
 */
#ifndef COCOON_OCI_H
#define COCOON_OCI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_OCI_DIGEST_SIZE 72        /* "sha256:" + 64 hex + NUL */
#define COCOON_OCI_MAX_JSON_BLOB (4 * 1024 * 1024)
#define COCOON_OCI_MAX_RUN_BINARY (128 * 1024 * 1024)

#define COCOON_OCI_RUN_PATH "/cocoon/bin/cocoon-run"
#define COCOON_OCI_LAUNCH_PATH "/cocoon/launch.json"
#define COCOON_OCI_LABEL_ENTRYPOINT "dev.cocoon.run.entrypoint"
#define COCOON_OCI_LABEL_CMD "dev.cocoon.run.cmd"

typedef struct {
	unsigned int version;
	const char *layout;              /* directory holding oci-layout, index.json, blobs/ */
	const char *from_tag;            /* org.opencontainers.image.ref.name of the image to wrap */
	const char *to_tag;              /* tag of the result; an existing entry with it is replaced */
	const char *launch_config;       /* launch configuration text (docs/run.md) */
	size_t launch_config_len;
	const char *run_binary;          /* the cocoon-run executable to embed */
	time_t mtime;                    /* timestamps in the layer and history (reproducible builds) */
} cocoon_oci_wrap_options;

#define COCOON_OCI_WRAP_OPTIONS_VERSION 1
#define COCOON_OCI_WRAP_OPTIONS_INIT { .version = COCOON_OCI_WRAP_OPTIONS_VERSION }

typedef struct {
	char manifest_digest[COCOON_OCI_DIGEST_SIZE];
	uint64_t manifest_size;
	char config_digest[COCOON_OCI_DIGEST_SIZE];
	char layer_digest[COCOON_OCI_DIGEST_SIZE];   /* of the gzip blob */
	char layer_diff_id[COCOON_OCI_DIGEST_SIZE];  /* of the uncompressed tar */
	uint64_t layer_size;
	int command_from_image;          /* 1 when "command" was filled from Entrypoint + Cmd */
} cocoon_oci_wrap_result;

/*
 * Wraps opts->from_tag into opts->to_tag. Errors name the file and the
 * field (COCOON_EFORMAT for a malformed or tampered layout,
 * COCOON_ENOTFOUND for a missing tag, COCOON_EUNSUPPORTED for an image
 * index or a Docker media type).
 */
COCOON_API int cocoon_oci_wrap(cocoon_oci_wrap_result *out, const cocoon_oci_wrap_options *opts);

/* 1 when text is "sha256:" followed by exactly 64 lowercase hex digits. */
COCOON_API int cocoon_oci_digest_valid(const char *text);

#ifdef __cplusplus
}
#endif
#endif
