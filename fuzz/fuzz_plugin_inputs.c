/*
 * libFuzzer target fuzz_plugin_inputs: the files and replies the node
 * daemons (cocoon-sgx-plugin, cocoon-epc-reconciler, cocoon-node-labels)
 * parse. Byte 0 (mod 6) picks the parser; the rest is its input:
 *   0  --cpuid-file dump, then SGX discovery and the node feature file
 *   1  a sysfs sgx_total_bytes value
 *   2  a JSON kubeconfig
 *   3  an API-server reply to GET/PATCH node (byte 1 picks the HTTP status)
 *   4  the --config JSON file
 *   5  a resource.Quantity
 */
#include <stdlib.h>
#include <string.h>
#include "common/util.h"
#include "config.h"
#include "kube.h"
#include "labels.h"
#include "reconcile.h"
#include "sgx.h"
#include "x86cpuid.h"

/* No such tree: discovery reads CPUID only, as on a node without NUMA sysfs. */
#define NO_ROOT "/nonexistent/cocoon-fuzz"

static void fail_unless_reason(int rc)
{
	if (rc != 0 && (rc >= 0 || cocoon_error_last()->message[0] == '\0'))
		abort();
}

static void cpuid_file(const uint8_t *data, size_t size)
{
	cocoon_cpuid c;
	cocoon_node_features nf;
	cocoon_labels_env env = { &c, NO_ROOT, NO_ROOT, NO_ROOT };
	char *text = NULL;
	int rc;

	rc = cocoon_cpuid_parse(&c, (const char *)data, size);
	fail_unless_reason(rc);
	if (rc != 0)
		return;
	rc = cocoon_node_features_probe(&nf, &env);
	fail_unless_reason(rc);
	if (rc == 0) {
		uint64_t want = nf.sgx.sgx ? nf.sgx.cpuid_epc_bytes : 0;
		if (nf.sgx.n_sections > COCOON_SGX_MAX_SECTIONS || nf.sgx.epc_bytes != want)
			abort();
		if (cocoon_node_features_render(&text, &nf) == 0 && text == NULL)
			abort();
		free(text);
	}
	cocoon_cpuid_close(&c);
}

static void sysfs_value(const uint8_t *data, size_t size)
{
	uint64_t v = 0;

	fail_unless_reason(cocoon_sgx_parse_bytes(&v, "node0/x86/sgx_total_bytes", (const char *)data, size));
}

static void kubeconfig(const uint8_t *data, size_t size)
{
	cocoon_kube_config kc;
	int rc = cocoon_kube_config_parse(&kc, "/etc/cocoon/kubeconfig.json", (const char *)data, size);

	fail_unless_reason(rc);
	if (rc == 0) {
		if (kc.server == NULL || (kc.cert_pem || kc.cert_file) != (kc.key_pem || kc.key_file))
			abort();
		cocoon_kube_config_free(&kc);
	}
}

static void node_reply(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 401, 403, 404, 409, 422, 500, 503 };
	cocoon_kube_response resp;
	uint64_t value = 0;
	int present = 0;

	if (size < 1)
		return;
	/* Like the libcurl sink, the body is NUL-terminated and may hold NULs. */
	resp.status = statuses[data[0] % 8];
	resp.len = size - 1;
	resp.body = malloc(resp.len + 1);
	if (!resp.body)
		abort();
	memcpy(resp.body, data + 1, resp.len);
	resp.body[resp.len] = '\0';
	if (resp.status == 200)
		fail_unless_reason(cocoon_epcrec_capacity_of(&value, &present, &resp, "GET /api/v1/nodes/n"));
	else if (cocoon_epcrec_http_error(&resp, "GET /api/v1/nodes/n", "n") >= 0)
		abort();
	cocoon_kube_response_free(&resp);
}

static void config_file(const uint8_t *data, size_t size)
{
	cocoon_plugin_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	fail_unless_reason(
		cocoon_plugin_config_parse_json(&cfg, "/etc/cocoon/sgx-plugin.json", (const char *)data, size));
	cocoon_plugin_config_free(&cfg);
}

static void quantity(const uint8_t *data, size_t size)
{
	char *q = malloc(size + 1);
	uint64_t v = 0;

	if (!q)
		abort();
	memcpy(q, data, size);
	q[size] = '\0';
	fail_unless_reason(cocoon_kube_quantity_parse(&v, q));
	free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0: cpuid_file(data + 1, size - 1); break;
	case 1: sysfs_value(data + 1, size - 1); break;
	case 2: kubeconfig(data + 1, size - 1); break;
	case 3: node_reply(data + 1, size - 1); break;
	case 4: config_file(data + 1, size - 1); break;
	default: quantity(data + 1, size - 1); break;
	}
	return 0;
}
