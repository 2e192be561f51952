/* Flags and JSON configuration of cocoon-sgx-plugin; see config.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <jansson.h>
#include "common/util.h"
#include "config.h"
#include "flags.h"
#include "nlog.h"

#define LIMIT_MAX 10000u

enum {
	OPT_PLUGIN_DIR = 256, OPT_DEV_ROOT, OPT_SYSFS_ROOT, OPT_CPUID_FILE, OPT_RESOURCES, OPT_ENCLAVE_LIMIT,
	OPT_PROVISION_LIMIT, OPT_QUOTE_HELPER, OPT_AESMD_DIR, OPT_WAIT, OPT_HEALTH, OPT_LOG_LEVEL, OPT_CONFIG,
	OPT_PROBE, OPT_HELP, OPT_VERSION, OPT_METRICS
};

static const struct option long_opts[] = {
	{ "plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR },
	{ "dev-root", required_argument, NULL, OPT_DEV_ROOT },
	{ "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
	{ "cpuid-file", required_argument, NULL, OPT_CPUID_FILE },
	{ "resources", required_argument, NULL, OPT_RESOURCES },
	{ "enclave-limit", required_argument, NULL, OPT_ENCLAVE_LIMIT },
	{ "provision-limit", required_argument, NULL, OPT_PROVISION_LIMIT },
	{ "quote-helper", no_argument, NULL, OPT_QUOTE_HELPER },
	{ "aesmd-dir", required_argument, NULL, OPT_AESMD_DIR },
	{ "wait-without-sgx", no_argument, NULL, OPT_WAIT },
	{ "health-interval-ms", required_argument, NULL, OPT_HEALTH },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "probe", no_argument, NULL, OPT_PROBE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void cocoon_plugin_config_usage(const char *argv0)
{
	printf("usage: %s [flags]\n"
	       "Kubernetes device plugin for Intel SGX (device plugin API v1beta1).\n\n"
	       "  --resources LIST          comma list of epc-mib, enclave, provision\n"
	       "                            (default epc-mib,enclave,provision)\n"
	       "  --enclave-limit N         sgx.intel.com/enclave devices (default 110)\n"
	       "  --provision-limit N       sgx.intel.com/provision devices (default 110)\n"
	       "  --quote-helper            add the /var/run/aesmd mount and SGX_AESM_ADDR=1\n"
	       "  --aesmd-dir DIR           host directory of aesm.socket (default /var/run/aesmd)\n"
	       "  --plugin-dir DIR          kubelet device-plugin directory (default %s)\n"
	       "  --dev-root DIR            where the SGX device nodes are seen (default /dev)\n"
	       "  --sysfs-root DIR          sysfs mount for the EPC cross-check (default /sys)\n"
	       "  --cpuid-file FILE         read CPUID from a `cpuid -1 -r` dump\n"
	       "  --wait-without-sgx        stay running (idle) on a node without SGX\n"
	       "  --health-interval-ms MS   device-node re-check period (default 5000)\n"
	       "  --metrics-listen HOST:PORT  serve /metrics, /healthz and /readyz over HTTP (default off)\n"
	       "  --log-level LEVEL         debug, info, warn or error (default info)\n"
	       "  --config FILE             JSON configuration; flags override it\n"
	       "  --probe                   print what SGX discovery finds as JSON and exit\n"
	       "  --help, --version\n"
	       "sgx.intel.com/epc (bytes) is kept on the node by the sibling cocoon-epc-reconciler.\n",
	       argv0, COCOON_PLUGIN_DEFAULT_DIR);
}

static int set_str(char **dst, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int parse_uint(unsigned *out, const char *what, const char *text, unsigned min, unsigned max)
{
	unsigned long v;
	int rc = cocoon_flag_uint(&v, what, text, min, max);

	if (rc == 0)
		*out = (unsigned)v;
	return rc;
}

static int set_resources(cocoon_plugin_config *cfg, const char *what, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return cocoon_error_set(COCOON_ENOMEM, "out of memory");
	cfg->res_epc_mib = cfg->res_enclave = cfg->res_provision = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "epc-mib") == 0)
			cfg->res_epc_mib = 1;
		else if (strcmp(tok, "enclave") == 0)
			cfg->res_enclave = 1;
		else if (strcmp(tok, "provision") == 0)
			cfg->res_provision = 1;
		else if (strcmp(tok, "epc-bytes") == 0) {
			rc = cocoon_error_set(COCOON_EINVAL,
			                      "%s: sgx.intel.com/epc (epc-bytes) is a node capacity, kept by the "
			                      "cocoon-epc-reconciler daemon, not a device-plugin resource",
			                      what);
			break;
		} else {
			rc = cocoon_error_set(COCOON_EINVAL, "%s: unknown resource '%s'; use epc-mib, enclave or provision",
			                      what, tok);
			break;
		}
	}
	free(copy);
	return rc;
}

static int set_log_level(cocoon_plugin_config *cfg, const char *what, const char *name)
{
	int l = cocoon_nlog_level_parse(name);

	if (l < 0)
		return cocoon_error_set(COCOON_EINVAL, "%s: unknown level '%s'; use debug, info, warn or error", what,
		                        name);
	cfg->log_level = l;
	return 0;
}

/* One setting by its flag id, from either source. */
static int apply(cocoon_plugin_config *cfg, int id, const char *what, const char *v)
{
	unsigned u;
	int rc;

	switch (id) {
	case OPT_PLUGIN_DIR: return set_str(&cfg->plugin_dir, v);
	case OPT_DEV_ROOT: return set_str(&cfg->dev_root, v);
	case OPT_SYSFS_ROOT: return set_str(&cfg->sysfs_root, v);
	case OPT_CPUID_FILE: return set_str(&cfg->cpuid_file, v);
	case OPT_RESOURCES: return set_resources(cfg, what, v);
	case OPT_ENCLAVE_LIMIT:
		if ((rc = parse_uint(&u, what, v, 1, LIMIT_MAX)) == 0)
			cfg->enclave_limit = u;
		return rc;
	case OPT_PROVISION_LIMIT:
		if ((rc = parse_uint(&u, what, v, 1, LIMIT_MAX)) == 0)
			cfg->provision_limit = u;
		return rc;
	case OPT_QUOTE_HELPER: cfg->quote_helper = 1; return 0;
	case OPT_AESMD_DIR: return set_str(&cfg->aesmd_dir, v);
	case OPT_WAIT: cfg->wait_without_sgx = 1; return 0;
	case OPT_HEALTH: return parse_uint(&cfg->health_interval_ms, what, v, 100, 600000);
	case OPT_LOG_LEVEL: return set_log_level(cfg, what, v);
	case OPT_METRICS: return set_str(&cfg->metrics_listen, v);
	case OPT_PROBE: cfg->probe = 1; return 0;
	default: return cocoon_error_set(COCOON_EINTERNAL, "unhandled option %d", id);
	}
}

static const struct {
	const char *key;
	int id;
	json_type type; /* JSON_STRING, JSON_INTEGER, JSON_TRUE (boolean) or JSON_ARRAY */
} config_keys[] = {
	{ "plugin_dir", OPT_PLUGIN_DIR, JSON_STRING },
	{ "dev_root", OPT_DEV_ROOT, JSON_STRING },
	{ "sysfs_root", OPT_SYSFS_ROOT, JSON_STRING },
	{ "cpuid_file", OPT_CPUID_FILE, JSON_STRING },
	{ "resources", OPT_RESOURCES, JSON_ARRAY },
	{ "enclave_limit", OPT_ENCLAVE_LIMIT, JSON_INTEGER },
	{ "provision_limit", OPT_PROVISION_LIMIT, JSON_INTEGER },
	{ "quote_helper", OPT_QUOTE_HELPER, JSON_TRUE },
	{ "aesmd_dir", OPT_AESMD_DIR, JSON_STRING },
	{ "wait_without_sgx", OPT_WAIT, JSON_TRUE },
	{ "health_interval_ms", OPT_HEALTH, JSON_INTEGER },
	{ "log_level", OPT_LOG_LEVEL, JSON_STRING },
	{ "metrics_listen", OPT_METRICS, JSON_STRING },
};

static int apply_json_value(cocoon_plugin_config *cfg, const char *path, const char *key, int id, json_type type,
                            json_t *v)
{
	char what[300], num[32];
	cocoon_buf list = { 0 };
	int rc;

	snprintf(what, sizeof(what), "%s: key \"%s\"", path, key);
	switch (type) {
	case JSON_STRING:
		if (!json_is_string(v))
			return cocoon_error_set(COCOON_EINVAL, "%s must be a string", what);
		return apply(cfg, id, what, json_string_value(v));
	case JSON_INTEGER:
		if (!json_is_integer(v))
			return cocoon_error_set(COCOON_EINVAL, "%s must be an integer", what);
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return apply(cfg, id, what, num);
	case JSON_TRUE:
		if (!json_is_boolean(v))
			return cocoon_error_set(COCOON_EINVAL, "%s must be true or false", what);
		if (id == OPT_QUOTE_HELPER)
			cfg->quote_helper = json_is_true(v);
		else
			cfg->wait_without_sgx = json_is_true(v);
		return 0;
	default: {
		size_t i;
		json_t *item;
		if (!json_is_array(v))
			return cocoon_error_set(COCOON_EINVAL, "%s must be an array of strings", what);
		json_array_foreach(v, i, item) {
			if (!json_is_string(item) || strchr(json_string_value(item), ',')) {
				cocoon_buf_free(&list);
				return cocoon_error_set(COCOON_EINVAL, "%s[%zu] must be a resource name string", what, i);
			}
			if (cocoon_buf_printf(&list, "%s%s", i ? "," : "", json_string_value(item)) != 0) {
				cocoon_buf_free(&list);
				return COCOON_ENOMEM;
			}
		}
		rc = apply(cfg, id, what, list.data ? (const char *)list.data : "");
		cocoon_buf_free(&list);
		return rc;
	}
	}
}

static int load_error(const char *path, const json_error_t *err)
{
	return cocoon_error_set(COCOON_EINVAL, "--config %s: line %d column %d: %s", path, err->line, err->column,
	                        err->text);
}

/* Takes the reference to root. */
static int apply_json(cocoon_plugin_config *cfg, const char *path, json_t *root)
{
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(root)) {
		json_decref(root);
		return cocoon_error_set(COCOON_EINVAL, "--config %s: the top level must be a JSON object", path);
	}
	json_object_foreach(root, key, v) {
		size_t i, n = sizeof(config_keys) / sizeof(config_keys[0]);
		for (i = 0; i < n; i++)
			if (strcmp(config_keys[i].key, key) == 0)
				break;
		if (i == n) {
			rc = cocoon_error_set(COCOON_EINVAL, "--config %s: unknown key \"%s\" (see docs/sgx-plugin.md)", path,
			                      key);
			break;
		}
		if ((rc = apply_json_value(cfg, path, key, config_keys[i].id, config_keys[i].type, v)) != 0)
			break;
	}
	json_decref(root);
	return rc;
}

static int load_json(cocoon_plugin_config *cfg, const char *path)
{
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);

	if (!root)
		return load_error(path, &err);
	return apply_json(cfg, path, root);
}

int cocoon_plugin_config_parse_json(cocoon_plugin_config *cfg, const char *path, const char *text, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);

	if (!root)
		return load_error(path, &err);
	return apply_json(cfg, path, root);
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int validate(cocoon_plugin_config *cfg)
{
	if (!is_dir(cfg->dev_root))
		return cocoon_error_set(COCOON_EINVAL, "--dev-root %s is not a directory", cfg->dev_root);
	if (!is_dir(cfg->sysfs_root))
		return cocoon_error_set(COCOON_EINVAL, "--sysfs-root %s is not a directory", cfg->sysfs_root);
	if (cfg->probe)
		return 0;
	if (!cfg->res_epc_mib && !cfg->res_enclave && !cfg->res_provision)
		return cocoon_error_set(COCOON_EINVAL, "--resources: enable at least one resource");
	if (!is_dir(cfg->plugin_dir))
		return cocoon_error_set(COCOON_EINVAL,
		                        "--plugin-dir %s is not a directory; pass the kubelet's device-plugin directory "
		                        "(<kubelet root-dir>/device-plugins)",
		                        cfg->plugin_dir);
	return 0;
}

int cocoon_plugin_config_load(cocoon_plugin_config *cfg, int argc, char **argv)
{
	int c, idx, rc = 0;

	memset(cfg, 0, sizeof(*cfg));
	cfg->res_epc_mib = cfg->res_enclave = cfg->res_provision = 1;
	cfg->enclave_limit = cfg->provision_limit = 110;
	cfg->health_interval_ms = 5000;
	cfg->register_timeout_ms = 10000;
	cfg->log_level = COCOON_NLOG_INFO;
	if ((rc = set_str(&cfg->plugin_dir, COCOON_PLUGIN_DEFAULT_DIR)) != 0 ||
	    (rc = set_str(&cfg->dev_root, "/dev")) != 0 || (rc = set_str(&cfg->sysfs_root, "/sys")) != 0 ||
	    (rc = set_str(&cfg->aesmd_dir, "/var/run/aesmd")) != 0)
		return rc;

	/* Pass 1: the config file, so that flags override it whatever their order. */
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		if (c == OPT_CONFIG && (rc = load_json(cfg, optarg)) != 0)
			return rc;
		if (c == OPT_HELP)
			cfg->help = 1;
		if (c == OPT_VERSION)
			cfg->version = 1;
	}
	if (cfg->help || cfg->version)
		return 0;
	/* Pass 2: the flags. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
		char what[64];
		if (c == '?' || c == ':')
			return cocoon_error_set(COCOON_EINVAL, "unknown flag or missing value: '%s' (see --help)",
			                        argv[optind - 1]);
		if (c == OPT_CONFIG || c == OPT_HELP || c == OPT_VERSION)
			continue;
		snprintf(what, sizeof(what), "--%s", long_opts[idx].name);
		if ((rc = apply(cfg, c, what, optarg ? optarg : "")) != 0)
			return rc;
	}
	if (optind < argc)
		return cocoon_error_set(COCOON_EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
	return validate(cfg);
}

void cocoon_plugin_config_free(cocoon_plugin_config *cfg)
{
	free(cfg->plugin_dir);
	free(cfg->dev_root);
	free(cfg->sysfs_root);
	free(cfg->cpuid_file);
	free(cfg->aesmd_dir);
	free(cfg->metrics_listen);
	memset(cfg, 0, sizeof(*cfg));
}
