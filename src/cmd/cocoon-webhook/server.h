/* The transport side of cocoon-webhook: HTTPS server, TLS reload, metrics and logging. */
#ifndef COCOON_WEBHOOK_SERVER_H
#define COCOON_WEBHOOK_SERVER_H

#include "webhook.h"

typedef struct {
	const char *listen;      /* ADDR:PORT, numeric; port 0 picks one (logged) */
	const char *tls_cert;    /* PEM chain */
	const char *tls_key;     /* PEM key */
	size_t max_body_bytes;   /* larger bodies get 413 */
	int reload_seconds;      /* how often the certificate files are checked for changes */
	int drain_seconds;       /* after SIGTERM: how long in-flight reviews may take */
	const webhook_config *policy;
} webhook_server_opts;

/* Serves until SIGTERM/SIGINT; returns a WEBHOOK_EXIT_* code. */
int webhook_server_run(const webhook_server_opts *o);

void webhook_log(const char *level, const char *msg, json_t *fields);
void webhook_logf(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
