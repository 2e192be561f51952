/*
 * cocoon-sgx-plugin: Kubernetes device plugin for Intel SGX.
 * Discovers SGX and its EPC, then serves the device plugin API (plugin.c).
 * sgx.intel.com/epc is kept by the sibling cocoon-epc-reconciler, so this process
 * holds no API credentials and links no HTTP client.
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "common/util.h"
#include "config.h"
#include "x86cpuid.h"
#include "devid.h"
#include "grpc.h"
#include "nlog.h"
#include "plugin.h"
#include "sgx.h"

#ifndef COCOON_VERSION
#define COCOON_VERSION "dev"
#endif

static json_t *sgx_json(const cocoon_sgx_info *s)
{
	json_t *o = json_object(), *secs = json_array();
	uint64_t mib = s->epc_bytes >> 20;
	uint32_t max = cocoon_devid_max_devices(COCOON_GRPC_MAX_MESSAGE);

	for (unsigned i = 0; i < s->n_sections; i++) {
		char base[32];
		snprintf(base, sizeof(base), "0x%llx", (unsigned long long)s->sections[i].base);
		json_array_append_new(secs, json_pack("{s:s,s:I}", "base", base, "size",
		                                      (json_int_t)s->sections[i].size));
	}
	json_object_set_new(o, "sgx", json_boolean(s->sgx));
	json_object_set_new(o, "flc", json_boolean(s->flc));
	json_object_set_new(o, "sgx1", json_boolean(s->sgx1));
	json_object_set_new(o, "sgx2", json_boolean(s->sgx2));
	json_object_set_new(o, "epc_sections", secs);
	json_object_set_new(o, "cpuid_epc_bytes", json_integer((json_int_t)s->cpuid_epc_bytes));
	json_object_set_new(o, "sysfs_epc_bytes",
	                    s->sysfs_present ? json_integer((json_int_t)s->sysfs_epc_bytes) : json_null());
	json_object_set_new(o, "sysfs_nodes", json_integer(s->sysfs_nodes));
	json_object_set_new(o, "epc_bytes", json_integer((json_int_t)s->epc_bytes));
	json_object_set_new(o, "epc_mib_devices", json_integer((json_int_t)(mib < max ? mib : max)));
	if (s->mismatch[0])
		json_object_set_new(o, "mismatch", json_string(s->mismatch));
	return o;
}

static int probe_print(const cocoon_sgx_info *s)
{
	json_t *o = sgx_json(s);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		printf("%s\n", text);
	free(text);
	json_decref(o);
	return text ? COCOON_PLUGIN_EXIT_OK : COCOON_PLUGIN_EXIT_RUNTIME;
}

int main(int argc, char **argv)
{
	cocoon_plugin_config cfg;
	cocoon_cpuid cpuid = { 0 };
	cocoon_sgx_info sgx;
	sigset_t set;
	int rc, code = COCOON_PLUGIN_EXIT_CONFIG;

	/* Large buffers (a 4 MiB device list) go back to the kernel when freed:
	 * a fixed threshold keeps glibc from raising it after the first one. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_ARENA_MAX, 2);
	signal(SIGPIPE, SIG_IGN);
	/* Blocked before any thread exists, so only signalfd/sigwait see them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	cocoon_nlog_init("cocoon-sgx-plugin", COCOON_NLOG_INFO);
	if ((rc = cocoon_plugin_config_load(&cfg, argc, argv)) != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	if (cfg.help) {
		cocoon_plugin_config_usage(argv[0]);
		code = COCOON_PLUGIN_EXIT_OK;
		goto done;
	}
	if (cfg.version) {
		printf("cocoon-sgx-plugin %s (device plugin API v1beta1)\n", COCOON_VERSION);
		code = COCOON_PLUGIN_EXIT_OK;
		goto done;
	}
	cocoon_nlog_init("cocoon-sgx-plugin", cfg.log_level);
	if ((rc = cocoon_cpuid_open(&cpuid, cfg.cpuid_file)) != 0) {
		nlog_error("bad configuration", "{s:s}", "error", cocoon_error_last()->message);
		goto done;
	}
	if ((rc = cocoon_sgx_probe(&sgx, &cpuid, cfg.sysfs_root)) != 0) {
		nlog_error("cannot read the EPC size from sysfs", "{s:s}", "error", cocoon_error_last()->message);
		code = COCOON_PLUGIN_EXIT_RUNTIME;
		goto done;
	}
	if (cfg.probe) {
		code = probe_print(&sgx);
		goto done;
	}
	if (sgx.mismatch[0])
		nlog_warn("EPC size cross-check", "{s:s}", "detail", sgx.mismatch);
	if (!cocoon_sgx_present(&sgx)) {
		nlog_info("no SGX on this node: advertising nothing", "{s:b,s:I,s:s}", "cpuid_sgx", sgx.sgx, "epc_bytes",
		          (json_int_t)sgx.epc_bytes, "next",
		          cfg.wait_without_sgx ? "idling until stopped (--wait-without-sgx)" : "exiting");
		code = cfg.wait_without_sgx ? cocoon_plugin_idle(&cfg) : COCOON_PLUGIN_EXIT_OK;
		goto done;
	}
	{
		json_t *o = sgx_json(&sgx);
		char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		nlog_info("SGX discovered", "{s:s}", "sgx", text ? text : "");
		free(text);
		json_decref(o);
	}
	code = cocoon_plugin_run(&cfg, &sgx);
done:
	cocoon_cpuid_close(&cpuid);
	cocoon_plugin_config_free(&cfg);
	return code;
}
