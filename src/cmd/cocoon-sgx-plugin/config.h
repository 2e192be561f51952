/*
 * cocoon-sgx-plugin configuration: defaults, then the JSON file given with
 * --config, then the command-line flags (docs/sgx-plugin.md lists them).
 * Anything unknown or out of range is an error that names the flag or key.
 */
#ifndef COCOON_PLUGIN_CONFIG_H
#define COCOON_PLUGIN_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define COCOON_PLUGIN_DEFAULT_DIR "/var/lib/kubelet/device-plugins"

typedef struct {
	char *plugin_dir;
	char *dev_root;
	char *sysfs_root;
	char *cpuid_file;       /* NULL: the CPUID instruction */
	int res_epc_mib, res_enclave, res_provision;
	uint32_t enclave_limit, provision_limit;
	int quote_helper;
	char *aesmd_dir;
	int wait_without_sgx;
	unsigned health_interval_ms;
	unsigned register_timeout_ms;
	int log_level;
	char *metrics_listen;  /* NULL: no metrics endpoint */
	int probe;              /* print the discovery as JSON and exit */
	int help, version;
} cocoon_plugin_config;

/* Exit codes (docs/sgx-plugin.md). */
enum {
	COCOON_PLUGIN_EXIT_OK = 0,      /* clean shutdown, or no SGX and not told to wait */
	COCOON_PLUGIN_EXIT_RUNTIME = 1, /* could not serve: socket in use, listen failed */
	COCOON_PLUGIN_EXIT_CONFIG = 2   /* bad flag, config file or injected input */
};

/* Fills cfg from defaults, --config and argv. */
int cocoon_plugin_config_load(cocoon_plugin_config *cfg, int argc, char **argv);
/* Applies len bytes of --config JSON (named path in messages) over cfg;
 * no directory checks. */
int cocoon_plugin_config_parse_json(cocoon_plugin_config *cfg, const char *path, const char *text, size_t len);
void cocoon_plugin_config_free(cocoon_plugin_config *cfg);
void cocoon_plugin_config_usage(const char *argv0);

#endif
