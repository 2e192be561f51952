/*
 * libFuzzer target for the OCI image-layout JSON checks (src/lib/oci): the
 * same input is tried as index.json (tag lookup), as a manifest and as an
 * image config, as cocoon wrap reads them from an untrusted layout.
 */
#include <stdint.h>
#include <stdlib.h>
#include <jansson.h>
#include "oci/oci_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	oci_desc d;
	size_t n = 0;

	if (!j)
		return 0;
	oci_index_find(&d, j, "base");
	if (oci_manifest_check(&d, &n, j) == 0)
		oci_config_check(j, n);
	oci_config_check(j, size % 4);
	json_decref(j);
	return 0;
}
