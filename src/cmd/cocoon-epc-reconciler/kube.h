/*
 * A minimal Kubernetes API client for the node daemons: credentials from the
 * pod's service account (token + CA at the standard paths) or from a JSON
 * kubeconfig for development, and single HTTP requests over libcurl with
 * OpenSSL. Tokens and private keys are re-read per request where they can
 * rotate, never logged, and zeroized after use.
 */
#ifndef COCOON_KUBE_H
#define COCOON_KUBE_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct {
	char *server;         /* https://host:port, no trailing slash */
	char *token_file;     /* bearer token re-read per request */
	char *token;          /* static bearer token (kubeconfig) */
	char *ca_file;
	uint8_t *ca_pem;
	size_t ca_len;
	char *cert_file, *key_file;
	uint8_t *cert_pem, *key_pem;
	size_t cert_len, key_len;
} cocoon_kube_config;

/* In-cluster: $KUBERNETES_SERVICE_HOST/PORT (or server when non-NULL),
 * sa_dir/token and sa_dir/ca.crt. */
int cocoon_kube_config_in_cluster(cocoon_kube_config *out, const char *sa_dir, const char *server);
/* A kubeconfig in JSON form (`kubectl config view --raw --minify --flatten -o json`):
 * current-context's cluster server, certificate-authority(-data), and user
 * token, tokenFile or client-certificate(-data)/client-key(-data). */
int cocoon_kube_config_from_file(cocoon_kube_config *out, const char *path);
/* The same from len bytes of JSON; path names the file in messages and is the
 * base of relative paths. */
int cocoon_kube_config_parse(cocoon_kube_config *out, const char *path, const char *text, size_t len);
void cocoon_kube_config_free(cocoon_kube_config *c);

typedef struct {
	long status;  /* HTTP status */
	char *body;   /* NUL-terminated */
	size_t len;
} cocoon_kube_response;

/* One request; 0 when an HTTP answer arrived (any status). *stop aborts it. */
int cocoon_kube_request(cocoon_kube_response *out, const cocoon_kube_config *c, const char *method,
                        const char *path, const char *content_type, const char *body, unsigned timeout_s,
                        const atomic_int *stop);
void cocoon_kube_response_free(cocoon_kube_response *r);

/* Parses a resource.Quantity that is a whole number of units: digits with an
 * optional k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi or Ei suffix. */
int cocoon_kube_quantity_parse(uint64_t *out, const char *q);

#endif
