/*
 * cocoon: the launcher's logic (cocoon-run) as a library.
 *
 * cocoon-run loads a launch configuration (JSON, docs/run.md), collects
 * evidence, fetches resources from the broker, injects them (environment
 * variables, files in a memory-backed directory, {{ resource "r/t/t" }}
 * templates in argv and env) and then execs the original command. Every
 * step fails closed with its own exit code (cocoon_run_exit).
 *
 * `cocoon wrap` parses the same configuration to validate it before it
 * embeds it in an image.
 */
#ifndef COCOON_RUN_H
#define COCOON_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of cocoon-run, one per cause (docs/run.md). The app never runs when one is returned. */
typedef enum {
	COCOON_RUN_EXIT_CONFIG = 80,      /* the launch configuration or the command line is invalid */
	COCOON_RUN_EXIT_NO_TEE = 81,      /* no evidence provider, or the provider failed */
	COCOON_RUN_EXIT_BROKER = 82,      /* the broker is unreachable (after the retry deadline) */
	COCOON_RUN_EXIT_ATTESTATION = 83, /* the broker refused the evidence */
	COCOON_RUN_EXIT_POLICY = 84,      /* the broker's policy denied a resource */
	COCOON_RUN_EXIT_RESOURCE = 85,    /* a resource does not exist at the broker */
	COCOON_RUN_EXIT_INJECT = 86,      /* a resource cannot be delivered safely (disk-backed secrets dir, ...) */
	COCOON_RUN_EXIT_EXEC = 126,       /* the command exists but cannot be executed (as shells do) */
	COCOON_RUN_EXIT_NOT_FOUND = 127   /* the command was not found (as shells do) */
} cocoon_run_exit;

/* Short name of an exit code's cause, e.g. "configuration"; "unknown" otherwise. */
COCOON_API const char *cocoon_run_exit_name(int code);

#define COCOON_RUN_DEFAULT_CONFIG "/cocoon/launch.json"
#define COCOON_RUN_DEFAULT_SECRETS_DIR "/run/cocoon/secrets"
#define COCOON_RUN_MAX_CONFIG (1024 * 1024)   /* bytes of launch configuration */
#define COCOON_RUN_MAX_RESOURCES 64
#define COCOON_RUN_MAX_ARGS 256               /* command and env entries each */
#define COCOON_RUN_MAX_INIT_DATA (64 * 1024)
#define COCOON_RUN_MAX_DEADLINE 3600          /* seconds */

/* Where one resource goes. A resource with neither env nor file is used by templates only. */
typedef struct {
	char *path;          /* "repo/type/tag" */
	char *env;           /* NULL or the variable that receives it */
	char *file;          /* NULL or a file name inside secrets_dir */
	unsigned int mode;   /* permission bits of the file (no setuid/setgid/sticky) */
	uid_t uid;
	gid_t gid;
} cocoon_run_resource;

/* A parsed launch configuration. Strings are NUL-terminated copies. */
typedef struct {
	char *broker_url;            /* NULL when there is no broker (then no resources) */
	char *broker_ca;             /* CA bundle path; required for https */
	char *provider;              /* evidence provider, as cocoon_evidence_options.provider:
	                                "auto", "configfs-tsm" (config "tsm"), "sev-guest", "tdx-guest",
	                                "gramine", "sim" */
	cocoon_tee tee;              /* UNKNOWN unless the configuration names one */
	char *sim_dir;               /* required with "sim", refused otherwise */
	char *secrets_dir;           /* absolute; default COCOON_RUN_DEFAULT_SECRETS_DIR */
	cocoon_run_resource *resources;
	size_t n_resources;
	char **command;              /* NULL-terminated; NULL when the configuration has none */
	size_t command_len;
	char **env_names;            /* extra variables; values may hold templates */
	char **env_values;
	size_t n_env;
	char *init_data;             /* TOML text or NULL; bound into evidence by the broker step */
	size_t init_data_len;
	unsigned int retry_deadline_s; /* how long an unreachable broker is retried */
} cocoon_run_config;

/*
 * Parses a launch configuration strictly: unknown keys, wrong types,
 * out-of-range values and inconsistent combinations (sim without sim_dir,
 * http:// to a non-loopback broker without sim, resources without a
 * broker, a template naming an unconfigured resource) are COCOON_EFORMAT
 * errors whose message names the key. *out is NULL on error.
 */
COCOON_API int cocoon_run_config_parse(cocoon_run_config **out, const char *json, size_t len);
/* Reads path (at most COCOON_RUN_MAX_CONFIG bytes) and parses it; errors name the file. */
COCOON_API int cocoon_run_config_load(cocoon_run_config **out, const char *path);
COCOON_API void cocoon_run_config_free(cocoon_run_config *c);

/* A fetched resource value (secret: zeroize after use). */
typedef struct {
	const char *path;            /* "repo/type/tag" */
	const uint8_t *data;
	size_t len;
} cocoon_run_value;

/*
 * Expands every {{ resource "repo/type/tag" }} in text with the matching
 * value. Strict: a "{{" that does not start a well-formed template, a path
 * not in values, or a value containing a NUL byte is an error naming the
 * offset or the path. With values == NULL only the syntax is checked and
 * paths are looked up in known (n entries) instead; *out may then be NULL
 * (pass out == NULL). The result may hold secrets: zeroize it.
 */
COCOON_API int cocoon_run_template_expand(char **out, const char *text, const cocoon_run_value *values,
                                          size_t n, const char *const *known, size_t n_known);

/*
 * Opens the secrets directory and checks with fstatfs that it is memory
 * backed (tmpfs or ramfs). A disk-backed or missing directory is
 * COCOON_EREJECT with a message saying how to mount one. *dirfd is
 * O_DIRECTORY|O_CLOEXEC; close it.
 */
COCOON_API int cocoon_run_secrets_dir_open(int *dirfd, const char *path);

/*
 * Writes data into name inside dirfd (through a temporary file renamed
 * over it, so a restarted container replaces an old copy), then sets
 * owner and mode. name must be a plain file name.
 */
COCOON_API int cocoon_run_secret_write(int dirfd, const char *name, const uint8_t *data, size_t len,
                                       unsigned int mode, uid_t uid, gid_t gid);

/*
 * Builds the command's argv and envp: templates expanded, resource
 * variables and configured variables added to (and overriding) base_env.
 * argv is c->command, or cmdline (argc entries) when the configuration has
 * none; a configuration with a command refuses a command line (the command
 * is part of what is attested). Free both with cocoon_run_strv_free.
 */
COCOON_API int cocoon_run_build_exec(char ***argv, char ***envp, const cocoon_run_config *c,
                                     char *const *cmdline, size_t argc, char *const *base_env,
                                     const cocoon_run_value *values, size_t n_values);
/* Zeroizes and frees a NULL-terminated string vector; v may be NULL. */
COCOON_API void cocoon_run_strv_free(char **v);

#ifdef __cplusplus
}
#endif
#endif
