/*
 * libFuzzer target: cocoon-webhook's AdmissionReview handler (webhook_review:
 * JSON parsing, the pod policy, the JSON Patch diff) on arbitrary bytes. Every
 * reply must be JSON, and no input may end in an internal error.
 * Built from src/cmd/cocoon-webhook/CMakeLists.txt (it needs the daemon's
 * sources); seeds in fuzz/corpus/webhook_review/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	webhook_config cfg = WEBHOOK_CONFIG_INIT;
	webhook_reply r;

	cfg.image = "registry.example.com/cocoon:fuzz";
	cfg.image_pull_policy = "IfNotPresent";
	/* Half the inputs see a default ConfigMap, so pods without a launch config reach the edit too. */
	if (size && (data[0] & 1))
		cfg.default_configmap = "cocoon-launch";
	webhook_review(&r, &cfg, (const char *)data, size);
	/* 500 means out of memory, which does not happen here: any other cause is a bug (an input
	 * the policy should have denied or rejected with a reason). */
	if (r.status == 500 || !r.body)
		abort();
	if (r.status == 200) {
		json_t *o = json_loads(r.body, 0, NULL);
		if (!o)
			abort(); /* the reply itself must be JSON */
		json_decref(o);
	}
	free(r.body);
	return 0;
}
