/*
 * cocoon-webhook: the mutating admission webhook that makes opted-in pods
 * confidential. The policy (webhook_review) is a pure function from an
 * AdmissionReview body to an HTTP status and body, with no I/O, so it is
 * unit-tested and fuzzed directly; server.c and main.c hold the transport.
 */
#ifndef COCOON_WEBHOOK_H
#define COCOON_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Exit codes (documented in docs/kubernetes.md). */
enum {
	WEBHOOK_EXIT_OK = 0,      /* stopped by SIGTERM/SIGINT */
	WEBHOOK_EXIT_RUNTIME = 1, /* the event loop failed */
	WEBHOOK_EXIT_USAGE = 2,   /* bad flags or configuration */
	WEBHOOK_EXIT_LISTEN = 3,  /* cannot listen, or the TLS certificate/key is unusable at start */
};

#define WEBHOOK_LABEL_CONFIDENTIAL "cocoon.io/confidential"
#define WEBHOOK_ANN_EPC_MIB "cocoon.io/sgx-epc-mib"
#define WEBHOOK_ANN_QUOTE_HELPER "cocoon.io/sgx-quote-helper"
#define WEBHOOK_ANN_LAUNCH_CONFIG "cocoon.io/launch-config"
#define WEBHOOK_ANN_LAUNCH_CONFIGMAP "cocoon.io/launch-configmap"
#define WEBHOOK_CONFIGMAP_KEY "launch.json"
/* Names the webhook owns inside a pod: a pod that already uses them must match what the webhook would add. */
#define WEBHOOK_INIT_NAME "cocoon-install"
#define WEBHOOK_VOL_BIN "cocoon-bin"
#define WEBHOOK_VOL_CONFIG "cocoon-config"
#define WEBHOOK_VOL_AESMD "cocoon-aesmd"
#define WEBHOOK_MAX_EPC_MIB 1048576 /* 1 TiB: larger is a typo, not an enclave */

/* What the policy needs to know; every string is owned by the caller. */
typedef struct {
	const char *image;             /* the cocoon image the init container runs */
	const char *image_pull_policy; /* NULL: the cluster default */
	const char *install_command;   /* path of cocoon-run inside the image */
	const char *mount_dir;         /* where the binary and config appear in app containers */
	const char *secrets_dir;       /* where cocoon-run puts released secrets: no hostPath may cover it */
	const char *epc_resource;      /* extended resource SGX pods request */
	const char *aesmd_dir;         /* the quote helper's socket directory on the node */
	int64_t aesmd_gid;             /* group of the quote helper's socket (0660) */
	const char *default_configmap; /* launch config when the pod names none; NULL: such pods are denied */
} webhook_config;

#define WEBHOOK_CONFIG_INIT                                                                                         \
	{ .image = NULL, .image_pull_policy = NULL, .install_command = "/usr/local/bin/cocoon-run",                 \
	  .mount_dir = "/cocoon", .secrets_dir = "/run/cocoon/secrets",                                             \
	  .epc_resource = "kubernetes.azure.com/sgx_epc_mem_in_MiB", .aesmd_dir = "/var/run/aesmd",                 \
	  .aesmd_gid = 5791, .default_configmap = NULL }

/* How one review ended, for metrics and the access log. */
typedef enum {
	WEBHOOK_OUTCOME_BAD_REQUEST = 0, /* not an AdmissionReview v1: HTTP 4xx */
	WEBHOOK_OUTCOME_UNTOUCHED,       /* allowed, no patch (not opted in, not a pod, or already wrapped) */
	WEBHOOK_OUTCOME_MUTATED,         /* allowed with a JSONPatch */
	WEBHOOK_OUTCOME_DENIED,          /* allowed: false, with the reason */
	WEBHOOK_OUTCOME_ERROR,           /* the webhook itself failed (out of memory): HTTP 500 */
	WEBHOOK_OUTCOME_COUNT
} webhook_outcome;

typedef struct {
	int status;          /* HTTP status */
	const char *type;    /* Content-Type (static) */
	char *body;          /* malloc'd */
	webhook_outcome outcome;
	char reason[512];    /* the denial or 4xx reason, for the log (never the pod) */
} webhook_reply;

/* AdmissionReview v1 body → reply. Pure: no I/O, no globals. Always fills r->body (or r->status 500). */
void webhook_review(webhook_reply *r, const webhook_config *cfg, const char *body, size_t len);

/* The pod policy (mutate.c): checks pod and, when it opts in, edits it in place into its confidential form.
 * Returns 0 (edited or left alone), 1 (denied: reason filled), or -1 (out of memory). */
int webhook_mutate_pod(json_t *pod, const webhook_config *cfg, char *reason, size_t reason_len);

/* JSON Patch (RFC 6902) that turns a into b, as a new array; NULL on out of memory (patch.c). */
json_t *webhook_diff(const json_t *a, const json_t *b);
/* Appends key to pointer prefix with RFC 6901 escaping (~ → ~0, / → ~1); NULL on out of memory. */
char *webhook_pointer_join(const char *prefix, const char *key);

/* jansson's error text without its "near '<input>'" part, so that no pod content reaches a log. */
void webhook_json_error_text(char *out, size_t n, const char *text);

/* Checks a configuration before serving; fills why and returns -1 when it is unusable. */
int webhook_config_check(const webhook_config *cfg, char *why, size_t why_len);

#endif
